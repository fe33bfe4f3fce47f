#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds everything with Clang 14, warnings as errors, AddressSanitizer and UndefinedBehaviorSanitizer
# (-O1 with assertions: ours and Eigen's bounds checks) and runs the C++ test suite against that build:
# a sanitizer report aborts the test that trips it. This is CI's Clang build. Every test runs except the
# four heaviest reproduction targets (Mulayoff Fig. 3, Nacson tightness and depth, Boursier threshold:
# 5 to 10 minutes each under the sanitizers, against 20 to 60 s in release), which scripts/test.sh runs;
# their code (training, Lanczos, the flattest solvers, deep nets, sweeps) runs sanitized in the unit
# tests and the other seven targets. RELUSTAB_SANITIZE_ALL=1 runs those four too.
#   bash scripts/test_sanitize.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure_clang.sh
cmake --preset sanitize >/dev/null
cmake --build --preset sanitize
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
export RELUSTAB_BIN="$PWD/build/sanitize/relustab"
heavy='^ReproduceTarget\.(MulayoffFig3|NacsonTightness|NacsonDepth|BoursierThreshold)'
exclude=()
[ "${RELUSTAB_SANITIZE_ALL:-0}" = 1 ] || exclude=(-E "$heavy")
ctest --preset sanitize -j "$(nproc)" "${exclude[@]}" "$@"
