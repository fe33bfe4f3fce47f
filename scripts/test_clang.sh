#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds everything with Clang (release, warnings as errors, no -march=native) and runs the C++ test
# suites against that build, except the reproduction acceptance tests (ReproduceTarget.*, the slowest).
# CI's Clang build is scripts/test_sanitize.sh (every test, with the sanitizers); this one is for
# checking a release Clang build by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_clang.sh
cmake --preset clang >/dev/null
cmake --build --preset clang
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
export RELUSTAB_BIN="$PWD/build/clang/relustab"
ctest --preset clang -j "$(nproc)" -E '^ReproduceTarget\.' "$@"
