#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# One command: builds relustab's workloads (Release) and the naive loop, runs every peer (bench/README.md)
# beside relustab on this machine (W1, W2, W3, batched W1), and prints a markdown table of rates and
# ratios, also written to bench/results/latest.md. Peers come from scripts/bench_setup.sh; missing ones
# are reported as "not available". Options: bench/compare.sh --help (e.g. --repeat 5, --backends cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3
[ -x "$python" ] || python=python3
exec "$python" bench/compare.py "$@"
