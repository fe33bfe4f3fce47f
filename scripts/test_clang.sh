#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds everything with Clang (warnings as errors, no -march=native) and runs the C++ test suites
# against that build. The reproduction acceptance tests (ReproduceTarget.*) run the quick targets; they
# run once, in scripts/test.sh, with the GCC build.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null; then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q && $sudo_cmd apt-get install -y -q clang
fi
cmake --preset clang >/dev/null
cmake --build --preset clang
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
export RELUSTAB_BIN="$PWD/build/clang/relustab"
ctest --preset clang -j "$(nproc)" -E '^ReproduceTarget\.' "$@"
