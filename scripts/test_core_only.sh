#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks that relustab::core needs only Eigen and Threads: configures relustab with the core alone while
# every other dependency is unavailable to find_package, and checks that no source or public header of
# the core includes another third-party library. With --build it also builds and installs that core
# (minutes; the system headers of the other packages stay visible to the compiler, so the include scan
# is what keeps them out of the core's sources).
#   bash scripts/test_core_only.sh [--build]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

core_dirs=()
for layer in core model data backend curvature analysis train; do
  core_dirs+=("src/$layer" "include/relustab/$layer")
done
if grep -rn -E '#include <(nlohmann|CLI|toml|sqlite|zlib|gtest|gmock|mpi|benchmark|Spectra)' "${core_dirs[@]}"; then
  echo "test_core_only: the core includes a library other than Eigen (above)" >&2
  exit 1
fi

disabled=()
for package in nlohmann_json ZLIB tomlplusplus SQLite3 CLI11 GTest MPI benchmark spectra; do
  disabled+=("-DCMAKE_DISABLE_FIND_PACKAGE_$package=ON")
done
# A REQUIRED find_package of a disabled package is a configure error, so success proves the core asks
# for none of them (MPI and Spectra are optional and stay unused).
cmake -S . -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DRELUSTAB_BUILD_IO=OFF -DRELUSTAB_BUILD_EXPERIMENT=OFF -DRELUSTAB_BUILD_CONFIG=OFF \
  -DRELUSTAB_BUILD_STORE=OFF -DRELUSTAB_BUILD_CLI=OFF -DRELUSTAB_BUILD_TESTS=OFF -DRELUSTAB_INSTALL=ON \
  "${disabled[@]}" >"$work/configure.log" 2>&1 || { cat "$work/configure.log" >&2; exit 1; }
echo "test_core_only: relustab::core configures alone (the other packages disabled)"
[ "${1:-}" = --build ] || exit 0
cmake --build "$work/build"
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
[[ -n $(find "$work/prefix" -name relustabConfig.cmake) ]]
echo "test_core_only: relustab::core builds and installs alone"
