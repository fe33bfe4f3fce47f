#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what relustab needs on a fresh Debian 12 machine (Debian packages with apt-get, Python packages
# with pip into the project-local .venv) and builds it into build/release. Safe to run again: it only
# installs what is missing and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential cmake ninja-build pkg-config
  libeigen3-dev libspectra-dev libcli11-dev nlohmann-json3-dev zlib1g-dev
  libtomlplusplus-dev libsqlite3-dev sqlite3 libopenmpi-dev openmpi-bin
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-venv python3-pip python3-dev   # python3-dev: headers of the package's compiled module
  dataset-fashion-mnist python3-sklearn   # image data: Fashion-MNIST (IDX) and the 8x8 digits CSV
)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python for figures and for tests that compare with numpy: a project-local virtual environment built
# from Debian's interpreter, so nothing depends on whatever python3 happens to be first on PATH.
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv .venv
fi
# Re-run pip when the requirements changed since the last install (a stamp file records them).
if ! cmp -s scripts/requirements.txt .venv/requirements.installed; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt .venv/requirements.installed
fi
# PyTorch, for the package's tests against autograd: large (PyPI's Linux wheel is the CUDA build), so
# only when asked for (scripts/test.sh asks: RELUSTAB_WITH_TORCH=1).
if [ "${RELUSTAB_WITH_TORCH:-0}" = 1 ] && ! cmp -s scripts/requirements-torch.txt .venv/requirements-torch.installed; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-torch.txt
  cp scripts/requirements-torch.txt .venv/requirements-torch.installed
fi

# A local build for this machine: -march=native (RELUSTAB_NATIVE, off by default in CMakeLists.txt) makes
# Eigen's kernels use the CPU's vector instructions. The CLI and the tests in build/release that compare
# its output with library code compiled into the test are one build with the same flags.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELUSTAB_NATIVE=ON >/dev/null
cmake --build build/release

# The Python package `relustab` into .venv (import relustab). Its build directory build/python is
# kept, so a rerun recompiles only what changed. RELUSTAB_NATIVE=ON as for build/release: the module
# and the CLI are then compiled alike and give the same numbers bit for bit.
launcher=()
command -v ccache >/dev/null && launcher=(--config-settings=cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
RELUSTAB_NATIVE=ON .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-build-isolation \
  --no-deps "${launcher[@]}" .
