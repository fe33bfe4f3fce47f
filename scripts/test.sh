#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
RELUSTAB_WITH_TORCH=1 bash scripts/setup.sh   # torch: the package's tests against autograd
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
export RELUSTAB_BIN="$PWD/build/release/relustab"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" "$@"
# Python tests (pytest exits 5 when it collects nothing), spread over the cores by pytest-xdist.
if [ -d python/tests ]; then
  status=0
  .venv/bin/python -m pytest -q -n "$(nproc)" python/tests || status=$?
  [ "$status" -eq 0 ] || [ "$status" -eq 5 ] || exit "$status"
fi
