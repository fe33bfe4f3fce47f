#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and runs the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RELUSTAB_PYTHON="$PWD/.venv/bin/python"
ctest --test-dir build/release --output-on-failure -j "$(nproc)" "$@"
