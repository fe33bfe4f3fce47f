#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds everything with Clang 14, warnings as errors, AddressSanitizer and UndefinedBehaviorSanitizer
# (-O1 with assertions: ours and Eigen's bounds checks) and runs the whole C++ test suite against that
# build: a sanitizer report aborts the test that trips it. This is CI's Clang build.
#   bash scripts/test_sanitize.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_clang.sh
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
export RELUSTAB_BIN="$PWD/build/sanitize/relustab"
ctest --preset sanitize -j "$(nproc)" "$@"
