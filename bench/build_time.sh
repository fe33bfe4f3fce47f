#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Times a clean build plus the whole test suite of one commit: bash bench/build_time.sh COMMIT [OUT_DIR]
# It clones COMMIT of this repository into OUT_DIR (default: a temporary directory), configures the
# Release build that scripts/setup.sh makes (Ninja, -march=native), builds it with no compiler cache,
# and runs ctest and pytest, printing wall time and CPU time (user + system, children included) of each
# step. Run two commits back to back on a quiet machine to compare them: CPU time is the fairer number
# where other work shares the machine. Needs what scripts/setup.sh installs (and the project's .venv).
set -euo pipefail
commit=${1:?usage: bench/build_time.sh COMMIT [OUT_DIR]}
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$(mktemp -d)}
jobs=$(nproc)
rm -rf "$out"
git clone --quiet "$repo" "$out"
git -C "$out" checkout --quiet "$commit"
cd "$out"
ln -s "$repo/.venv" .venv
export CCACHE_DISABLE=1
export RELUSTAB_PYTHON="$PWD/.venv/bin/python" RELUSTAB_BIN="$PWD/build/release/relustab"
export RELUSTAB_SOURCE_DIR="$PWD"

step() {  # step NAME COMMAND...: runs it, appends "NAME wall cpu" to timings.txt
  local name=$1; shift
  local t0 t1 status=0
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$out/.cpu" "$@" >"$out/$name.log" 2>&1 || status=$?
  t1=$(date +%s.%N)
  read -r user sys <"$out/.cpu"
  python3 -c "import sys; w,u,s=map(float,sys.argv[2:]); print(f'{sys.argv[1]:10s} wall {w:8.1f} s   cpu {u+s:8.1f} s')" \
    "$name" "$(echo "$t1 - $t0" | bc)" "$user" "$sys" | tee -a "$out/timings.txt"
  return $status
}
step configure cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELUSTAB_NATIVE=ON
step build cmake --build build/release -j "$jobs"
step ctest ctest --test-dir build/release -j "$jobs"
# pytest as the commit's scripts/test.sh runs it: over the cores where it installs pytest-xdist.
pytest_args=(-q)
if grep -q '^pytest-xdist' scripts/requirements.txt 2>/dev/null; then pytest_args+=(-n "$jobs"); fi
if [ -d python/tests ]; then step pytest .venv/bin/python -m pytest "${pytest_args[@]}" python/tests; fi
echo "commit $(git rev-parse --short HEAD): $(tail -1 ctest.log)"
awk '{w += $3; c += $6} END {printf "total      wall %8.1f s   cpu %8.1f s\n", w, c}' "$out/timings.txt"
