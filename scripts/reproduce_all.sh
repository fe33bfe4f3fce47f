#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs reproduction targets (all by default) in their quick or full setting, records each verdict in
# docs/results/ and regenerates docs/reproduce.md from them.
#   bash scripts/reproduce_all.sh --quick                      # every target, quick setting
#   bash scripts/reproduce_all.sh --full qiao2024-eta          # one target, full setting
# Options: --quick | --full (default --quick), --jobs N, --out-root DIR (default runs/reproduce).
set -euo pipefail
cd "$(dirname "$0")/.."
setting=--quick
jobs=()
out_root=runs/reproduce
targets=()
while (($#)); do
  case "$1" in
    --quick | --full) setting=$1 ;;
    --jobs) jobs=(--jobs "$2"); shift ;;
    --out-root) out_root=$2; shift ;;
    -*) echo "reproduce_all: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if ((${#targets[@]} == 0)); then
  mapfile -t targets < <(.venv/bin/python -c \
    'import sys; sys.path.insert(0, "python"); from figures.plot import TARGETS; print("\n".join(TARGETS))')
fi
dirs=()
for target in "${targets[@]}"; do
  if [ "$setting" = --quick ]; then dir="$out_root/$target-quick"; quick=(--quick); else dir="$out_root/$target"; quick=(); fi
  ./build/release/relustab reproduce "$target" "${quick[@]}" "${jobs[@]}" --out "$dir"
  dirs+=("$dir")
done
.venv/bin/python python/figures/docs.py record "${dirs[@]}"
