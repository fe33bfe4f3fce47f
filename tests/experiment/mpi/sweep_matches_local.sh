#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `mpiexec -n 2 relustab sweep` stores the same results as a single-process `relustab sweep`.
#
# Usage: sweep_matches_local.sh RELUSTAB PYTHON MPIEXEC NUMPROC_FLAG RANKS
# The oracle is the single-process sweep of the same file: a run's results depend only on its
# configuration, so the two CSV exports must be equal once the columns that record when, how long
# and where a run executed are dropped.
set -euo pipefail

relustab=$1
python=$2
mpiexec=$3
numproc_flag=$4
ranks=$5

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 4 step sizes x 5 seeds = 20 tiny runs (a few milliseconds each). eta = 40 is far beyond
# 2 / sharpness, so those 5 runs diverge: failed runs and their reasons must match too.
cat >"$work/exp.toml" <<'EOF'
name = "mpi-matches-local"
[data]
n = 16
target = "sin3"
noise = 0.2
seed = 3
[model]
width = 12
[optim]
eta = 0.05
max_steps = 2000
loss_tol = 0.0
[measure]
log_every = 500
final_analysis = true
save_net = true
[sweep]
"optim.eta" = [0.02, 0.05, 0.1, 40.0]
seeds = { count = 5 }
EOF

fail() {
  echo "sweep_matches_local: $*" >&2
  exit 1
}

"$mpiexec" "$numproc_flag" "$ranks" "$relustab" sweep "$work/exp.toml" --out "$work/mpi" \
  --jobs 1 --quiet >"$work/mpi.out" || fail "the MPI sweep failed: $(cat "$work/mpi.out")"
"$relustab" sweep "$work/exp.toml" --out "$work/local" --jobs 1 --quiet >"$work/local.out" ||
  fail "the local sweep failed"
# Only rank 0 reports: one summary line, not one per rank.
[ "$(grep -c "^sweep '" "$work/mpi.out")" -eq 1 ] ||
  fail "expected one summary line from the MPI sweep, got: $(cat "$work/mpi.out")"

"$relustab" export "$work/mpi" --csv >"$work/mpi.csv"
"$relustab" export "$work/local" --csv >"$work/local.csv"

# Running the finished MPI sweep again adds nothing and changes nothing.
"$mpiexec" "$numproc_flag" "$ranks" "$relustab" sweep "$work/exp.toml" --out "$work/mpi" \
  --jobs 1 --quiet >/dev/null || fail "re-running the finished MPI sweep failed"
"$relustab" export "$work/mpi" --csv >"$work/mpi-again.csv"

"$python" - "$work/mpi.csv" "$work/local.csv" "$work/mpi-again.csv" "$work/mpi/results.sqlite" \
  "$work/local/results.sqlite" <<'EOF'
import csv
import sqlite3
import sys

# Columns that record when, how long, how often or where a run executed, not what it computed.
EXECUTION_COLUMNS = {"wall_seconds", "started_at", "finished_at", "backend", "attempts",
                     "completions"}
EXPECTED_RUNS = 20
EXPECTED_FAILED = 5  # the eta = 40 runs


def table(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    keep = [i for i, name in enumerate(header) if name not in EXECUTION_COLUMNS]
    return [header[i] for i in keep], [[row[i] for i in keep] for row in body]


def check(condition, message):
    if not condition:
        sys.exit("sweep_matches_local: " + message)


mpi_header, mpi_rows = table(sys.argv[1])
local_header, local_rows = table(sys.argv[2])
again_header, again_rows = table(sys.argv[3])
check(mpi_header == local_header, f"columns differ:\n{mpi_header}\n{local_header}")
check("status" in mpi_header, f"no status column in {mpi_header}")
status = mpi_header.index("status")
check(len(local_rows) == EXPECTED_RUNS, f"{len(local_rows)} runs in the local export")
check(len(mpi_rows) == EXPECTED_RUNS, f"{len(mpi_rows)} runs in the MPI export")
statuses = [row[status] for row in mpi_rows]
check(statuses.count("failed") == EXPECTED_FAILED and statuses.count("done") == EXPECTED_RUNS -
      EXPECTED_FAILED, f"statuses of the MPI sweep: {statuses}")
for mpi_row, local_row in zip(mpi_rows, local_rows):  # both in id order
    check(mpi_row == local_row, "a run differs:\n" +
          "\n".join(f"  {name}: {a} vs {b}" for name, a, b in zip(mpi_header, mpi_row, local_row)
                    if a != b))
check((again_header, again_rows) == (mpi_header, mpi_rows),
      "re-running the finished MPI sweep changed its results")

# What the CSV leaves out, read from the databases: per-step logs and final networks (exact, as
# stored), and the number of times each run was started (once: nothing was run twice).
def stored(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    logs = db.execute("SELECT r.key, l.step, l.metric, l.value FROM logs l JOIN runs r "
                      "ON r.id = l.run_id ORDER BY r.key, l.step, l.metric").fetchall()
    nets = db.execute("SELECT r.key, n.net FROM nets n JOIN runs r ON r.id = n.run_id "
                      "ORDER BY r.key").fetchall()
    attempts = db.execute("SELECT attempts, COUNT(*) FROM runs GROUP BY attempts").fetchall()
    db.close()
    return logs, nets, attempts


mpi_logs, mpi_nets, mpi_attempts = stored(sys.argv[4])
local_logs, local_nets, _ = stored(sys.argv[5])
check(len(local_logs) > 0 and len(local_nets) > 0, "the local sweep stored no logs or nets")
check(mpi_logs == local_logs, "the per-step logs differ")
check(mpi_nets == local_nets, "the final networks differ")
check(mpi_attempts == [(1, EXPECTED_RUNS)], f"attempts per run of the MPI sweep: {mpi_attempts}")
print(f"MPI sweep ({len(mpi_rows)} runs, {len(mpi_header)} columns, {len(mpi_logs)} log rows, "
      f"{len(mpi_nets)} nets) matches the local sweep")
EOF
