#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kill -9 of one rank of `mpiexec -n 2 relustab sweep`, then the same command again: every run is
# finished exactly once and the results equal an uninterrupted single-process sweep's.
#
# Usage: rank_killed_resumes.sh RELUSTAB PYTHON MPIEXEC NUMPROC_FLAG RANKS
# Documented behaviour: the launcher aborts the job when a rank dies; rank 0 has written the
# results it received in batches; runs handed out but not written stay pending or running, and the
# next sweep resets and redoes them.
set -euo pipefail

relustab=$1
python=$2
mpiexec=$3
numproc_flag=$4
ranks=$5

work=$(mktemp -d)
mpi_pid=""
cleanup() {
  # On an early exit: the ranks this script started, then their launcher.
  if [ -n "$mpi_pid" ]; then
    for pid in $(pgrep -P "$mpi_pid" || true); do kill -9 "$pid" 2>/dev/null || true; done
    kill -9 "$mpi_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "rank_killed_resumes: $*" >&2
  exit 1
}

# 400 runs of about 10 ms, 2 s on 2 ranks. The kill lands after the first write (64 results or
# 0.5 s); the launcher takes about a second to stop rank 0, which meanwhile goes on alone.
cat >"$work/exp.toml" <<'EOF'
name = "mpi-rank-killed"
[data]
n = 20
seed = 5
[model]
width = 40
[optim]
eta = 0.05
max_steps = 3000
loss_tol = 0.0
[measure]
final_analysis = false
save_net = false
[run]
backend = "cpu"  # the reference: the sorted-knot back end finishes all 400 runs before the kill
[sweep]
"optim.eta" = [0.02, 0.05]
seeds = { count = 200 }
EOF
total=400

# The counts of a results directory as "done failed running pending" (status --json).
counts() {
  "$relustab" status "$1" --json | "$python" -c \
    'import json, sys; s = json.load(sys.stdin); print(*(s[k] for k in
      ("done", "failed", "running", "pending")))'
}

"$mpiexec" "$numproc_flag" "$ranks" "$relustab" sweep "$work/exp.toml" --out "$work/mpi" \
  --jobs 1 --quiet >"$work/first.log" 2>&1 &
mpi_pid=$!

# Wait until rank 0 has written some results (it writes every 0.5 s), then kill the rank that is
# not rank 0 (OpenMPI names it in its environment); failing that, any rank.
victim=""
for _ in $(seq 1 600); do
  if [ -f "$work/mpi/results.sqlite" ] && read -r done _ < <(counts "$work/mpi" 2>/dev/null) &&
     [ "$done" -ge 1 ]; then
    for pid in $(pgrep -P "$mpi_pid" || true); do
      [ -n "$victim" ] || victim=$pid
      if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx 'OMPI_COMM_WORLD_RANK=1'; then
        victim=$pid
      fi
    done
    break
  fi
  kill -0 "$mpi_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$victim" ] ||
  fail "found no rank to kill (did the sweep end early?): $(cat "$work/first.log")"
kill -9 "$victim"
if wait "$mpi_pid"; then
  fail "the launcher reported success after a rank was killed"
fi
mpi_pid=""

read -r done failed running pending < <(counts "$work/mpi")
echo "after the kill: $done done, $failed failed, $running running, $pending pending"
[ "$done" -ge 1 ] || fail "no results were written before the kill"
[ $((done + failed)) -lt "$total" ] || fail "the sweep finished before the kill: inconclusive"

"$mpiexec" "$numproc_flag" "$ranks" "$relustab" sweep "$work/exp.toml" --out "$work/mpi" \
  --jobs 1 --quiet >"$work/second.log" 2>&1 ||
  fail "the resumed sweep failed: $(cat "$work/second.log")"
read -r done failed running pending < <(counts "$work/mpi")
[ "$done" -eq "$total" ] && [ "$running" -eq 0 ] && [ "$pending" -eq 0 ] ||
  fail "after the resume: $done done, $failed failed, $running running, $pending pending"

"$relustab" sweep "$work/exp.toml" --out "$work/local" --jobs 2 --quiet >/dev/null
"$relustab" export "$work/mpi" --csv >"$work/mpi.csv"
"$relustab" export "$work/local" --csv >"$work/local.csv"
cmp -s "$work/mpi.csv" "$work/local.csv" ||
  fail "the resumed sweep's export differs from an uninterrupted sweep's"

# Exactly once: every run completed once, whatever number of times it was started.
"$python" - "$work/mpi/results.sqlite" <<'EOF'
import sqlite3
import sys

db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
completions = db.execute("SELECT completions, COUNT(*) FROM runs GROUP BY completions").fetchall()
restarted = db.execute("SELECT COUNT(*) FROM runs WHERE attempts > 1").fetchone()[0]
if completions != [(1, 400)]:
    sys.exit(f"rank_killed_resumes: completions per run: {completions}")
print(f"resumed after kill -9 of a rank: 400 runs completed once each ({restarted} started twice)")
EOF
