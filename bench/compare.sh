#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command: builds relustab's workloads (Release) and the naive loop, runs every peer (bench/README.md)
# beside relustab on this machine (W1, W2, W3, batched W1, W4's sharpness, the W3 and W4 trace and
# density), and prints a markdown table of rates, ratios and the curvature peers' accuracy, also written
# to bench/results/latest.md. The peers run on .venv-bench/bin/python, made from PyPI by
# scripts/bench_setup.sh; missing ones are reported as "not available". compare.py itself needs only the
# standard library, so any python3 runs it.
# With --w4-full and --w6 the same run also runs bench/w4_full.sh (W4 at full size, 12,000 Fashion-MNIST
# images) and bench/w6_sweep.sh (W6: a 1,000-run sweep on threads and MPI ranks; --w6-baseline BIN
# times an older relustab too) and folds their ratios, their tables and their JSON into the one table:
# every ratio of issue 14 from one invocation, with versions, BLAS and load.
# Options: bench/compare.sh --help (e.g. --repeat 5, --backends cpu, --no-w4, --w4-full, --w6,
# --w6-baseline BIN, --w6-repeat N, --w6-set key=value).
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
[ -x "$python" ] || python=python3
exec "$python" bench/compare.py "$@"
