#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs an existing build (default build/release, which scripts/test.sh has just built, so no
# library is compiled again) into a temporary prefix, then configures, builds and runs the standalone
# project tests/consumer against it (find_package(relustab CONFIG REQUIRED)) with the build's compiler.
#   bash scripts/test_consumer.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
[ -f "$build/CMakeCache.txt" ] || { echo "test_consumer: $build is not a configured build" >&2; exit 2; }
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --build "$build" >/dev/null  # up to date after the tests: nothing is compiled
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S tests/consumer -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$compiler" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build"
"$work/build/relustab_consumer"
