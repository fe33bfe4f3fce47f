#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command: builds relustab's workloads (Release) and the naive loop, runs every peer (bench/README.md)
# beside relustab on this machine (W1, W2, W3, batched W1, W4's sharpness, the W3 and W4 trace and
# density), and prints a markdown table of rates, ratios and the curvature peers' accuracy, also written
# to bench/results/latest.md. The peers run on .venv-bench/bin/python, made from PyPI by
# scripts/bench_setup.sh; missing ones are reported as "not available". compare.py itself needs only the
# standard library, so any python3 runs it.
# Options: bench/compare.sh --help (e.g. --repeat 5, --backends cpu, --no-w4).
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
[ -x "$python" ] || python=python3
exec "$python" bench/compare.py "$@"
