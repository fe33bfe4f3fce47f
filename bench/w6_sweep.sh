#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark workload W6: wall time of a 1,000-run sweep on 1 and 2 threads and on 2 MPI ranks, and
# the parallel efficiency T1 / (P * TP). A loaded machine hides that figure (the job does not get P
# cores), so every mode also reports its CPU time and, where the processor's counters are readable
# (perf stat), its cycles: the work efficiency CPU_1 / CPU_P (cycles_1 / cycles_P) says how much
# extra work the parallel mode did, whatever share of the machine it got (on P free cores the
# wall-clock efficiency is at most that).
#
# Usage: bench/w6_sweep.sh [--relustab PATH] [--baseline PATH] [--experiment FILE] [--repeat N]
#                          [--ranks P] [--workdir DIR] [--json FILE] [--set key=value ...]
#   --relustab    the binary (default: build/release/relustab, else `relustab` on PATH)
#   --baseline    another relustab binary (e.g. an older commit's) timed on 1 thread beside it, as
#                 the mode "baseline-1": runs/s before and after; its results must be the same
#   --experiment  the sweep (default: experiments/bench/w6.toml: 10 step sizes x 100 seeds of W1,
#                 10^4 GD steps each, nothing stored but the final scalars)
#   --repeat N    time every mode N times, interleaved, and report the median (default 1)
#   --ranks P     threads / ranks of the parallel modes (default 2)
#   --workdir     where the results directories go, a fresh one per timing (default: a temporary
#                 directory, removed at the end)
#   --json FILE   also write the figures as JSON
#   --set k=v     passed to every sweep (e.g. --set optim.max_steps=1000 for a quick check)
# Environment: MPIRUN (default mpirun), MPIRUN_FLAGS (extra launcher flags; as root OpenMPI also
# gets --allow-run-as-root).
#
# Every sweep must finish all its runs, and every mode must export exactly the CSV of the 1-thread
# sweep (a run's results depend only on its configuration); otherwise the script exits nonzero.
# The machine is shared: compare the modes of one invocation with each other, and look at the load
# printed before and after.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
relustab=""
baseline=""
experiment="$root/experiments/bench/w6.toml"
repeat=1
ranks=2
workdir=""
json=""
overrides=()
while (($#)); do
  case "$1" in
    --relustab) relustab=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --experiment) experiment=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --ranks) ranks=$2; shift 2 ;;
    --workdir) workdir=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --set) overrides+=(--set "$2"); shift 2 ;;
    -h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "w6_sweep: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

fail() {
  echo "w6_sweep: $*" >&2
  exit 1
}

if [ -z "$relustab" ]; then
  if [ -x "$root/build/release/relustab" ]; then
    relustab="$root/build/release/relustab"
  else
    relustab=$(command -v relustab) || fail "no relustab binary: build it or pass --relustab"
  fi
fi
[ -x "$relustab" ] || fail "$relustab is not executable"
[ -z "$baseline" ] || [ -x "$baseline" ] || fail "--baseline: $baseline is not executable"
[ -f "$experiment" ] || fail "no experiment file $experiment"
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || fail "--repeat: expected a positive integer, got '$repeat'"
[[ "$ranks" =~ ^[1-9][0-9]*$ ]] || fail "--ranks: expected a positive integer, got '$ranks'"

mpirun=${MPIRUN:-mpirun}
openmpi=0
read -r -a mpirun_flags <<<"${MPIRUN_FLAGS:-}"
if ! command -v "$mpirun" >/dev/null; then
  echo "w6_sweep: no $mpirun: the MPI mode is skipped" >&2
  mpirun=""
elif [[ $("$mpirun" --version 2>&1) == *"Open MPI"* ]]; then
  [ "$(id -u)" -ne 0 ] || mpirun_flags+=(--allow-run-as-root)
  openmpi=1
fi

if [ -z "$workdir" ]; then
  workdir=$(mktemp -d)
  trap 'rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"

now() { date +%s.%N; }

# time_sweep NAME JOBS [LAUNCHER...]: runs `LAUNCHER $binary sweep` (default: the relustab under test)
# with JOBS threads (per rank)
# into the fresh directory $workdir/NAME, checks that it finished every run, and prints its wall
# seconds and its CPU seconds (user + system, the ranks included; "nan" without GNU time).
time_sweep() {
  local name=$1 jobs=$2
  shift 2
  local dir="$workdir/$name"
  rm -rf "$dir"
  local timer=()
  [ "$perf_usable" -eq 0 ] || timer=(perf stat -x, -e cycles -o "$workdir/$name.perf" --)
  [ ! -x /usr/bin/time ] || timer+=(/usr/bin/time -f '%U %S' -o "$workdir/$name.cpu")
  local start end
  start=$(now)
  "${timer[@]}" "$@" "${binary:-$relustab}" sweep "$experiment" --out "$dir" --jobs "$jobs" --quiet \
    "${overrides[@]}" >"$workdir/$name.log" 2>&1 ||
    fail "$name: the sweep failed: $(cat "$workdir/$name.log")"
  end=$(now)
  local status
  status=$("$relustab" status "$dir" --json)
  [[ "$status" == *'"pending":0,"running":0'* ]] || fail "$name: runs left unfinished: $status"
  local cpu=nan cycles=nan
  [ ! -f "$workdir/$name.cpu" ] || cpu=$(awk 'END { print $1 + $2 }' "$workdir/$name.cpu")
  # perf stat -x, writes "count,unit,event,...": the count, or "<not counted>" where it failed.
  [ ! -f "$workdir/$name.perf" ] ||
    cycles=$(awk -F, '$3 == "cycles" && $1 ~ /^[0-9]+$/ { print $1 }' "$workdir/$name.perf")
  echo "$(echo "$end - $start" | bc -l) $cpu ${cycles:-nan}"
}

median() {
  printf '%s\n' "$@" | sort -g |
    awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# OpenMPI binds each rank to a core by default (P <= 2), while threads float; on a busy shared
# machine a pinned process can get more CPU than a floating one, so the unbound MPI mode is the
# like-for-like comparison with threads-P.
modes=(threads-1 "threads-$ranks")
[ -z "$baseline" ] || modes=(baseline-1 "${modes[@]}")
[ -z "$mpirun" ] || modes+=("mpi-$ranks")
[ "$openmpi" -eq 0 ] || modes+=("mpi-$ranks-unbound")
declare -A times cpus cycles
# Cycles only where perf can count them (a virtual machine often exposes no counters).
perf_usable=0
if command -v perf >/dev/null &&
   perf stat -x, -e cycles -o /dev/stdout -- true 2>/dev/null | grep -Eq '^[0-9]+,.*cycles'; then
  perf_usable=1
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2 | sed 's/^ *//' || true)
echo "W6 sweep benchmark: $(basename "$experiment"), ${overrides[*]:-no overrides}"
echo "machine: ${cpu:-unknown CPU}, $(nproc) cores; $("$relustab" --version)"
[ -z "$baseline" ] || echo "baseline: $baseline: $("$baseline" --version)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$mpirun" ] || echo "launcher: $mpirun -np $ranks ${mpirun_flags[*]}"
if [ "$perf_usable" -eq 1 ]; then echo "cycles: perf stat"; else echo "cycles: not readable here (no perf, or no PMU counters): CPU time only"; fi

for ((round = 1; round <= repeat; ++round)); do
  for mode in "${modes[@]}"; do
    case "$mode" in
      baseline-1) measured=$(binary=$baseline time_sweep "$mode-$round" 1) ;;
      threads-1) measured=$(time_sweep "$mode-$round" 1) ;;
      threads-*) measured=$(time_sweep "$mode-$round" "$ranks") ;;
      mpi-*-unbound) measured=$(time_sweep "$mode-$round" 1 "$mpirun" -np "$ranks" \
                                  "${mpirun_flags[@]}" --bind-to none) ;;
      mpi-*) measured=$(time_sweep "$mode-$round" 1 "$mpirun" -np "$ranks" "${mpirun_flags[@]}") ;;
    esac
    read -r t cpu_s cycle_count <<<"$measured"
    times[$mode]="${times[$mode]:-} $t"
    cpus[$mode]="${cpus[$mode]:-} $cpu_s"
    cycles[$mode]="${cycles[$mode]:-} $cycle_count"
    printf '  round %d  %-18s %8.2f s wall %8.2f s CPU\n' "$round" "$mode" "$t" "$cpu_s"
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Same results in every mode (the export has no timing columns).
"$relustab" export "$workdir/threads-1-1" --csv >"$workdir/reference.csv"
for mode in "${modes[@]}"; do
  "$relustab" export "$workdir/$mode-1" --csv >"$workdir/$mode.csv"
  cmp -s "$workdir/reference.csv" "$workdir/$mode.csv" ||
    fail "$mode: the exported results differ from the 1-thread sweep's"
done
runs=$(($(wc -l <"$workdir/reference.csv") - 1))
steps=$(sqlite3 "$workdir/threads-1-1/results.sqlite" \
          "SELECT SUM(value) FROM metrics WHERE metric = 'steps'" 2>/dev/null || echo "")

t1=$(median ${times[threads-1]})
cpu1=$(median ${cpus[threads-1]})
cycles1=$(median ${cycles[threads-1]})
printf '\n%-18s %3s %10s %10s %14s %11s %9s %10s %9s %12s %11s\n' mode P "wall (s)" "runs/s" "net-steps/s" \
  efficiency "CPU (s)" "busy cores" "work eff" "cycles (G)" "cycle eff"
json_rows=()
for mode in "${modes[@]}"; do
  p=1
  [ "$mode" = threads-1 ] || [ "$mode" = baseline-1 ] || p=$ranks
  tp=$(median ${times[$mode]})
  efficiency=$(echo "$t1 / ($p * $tp)" | bc -l)
  rate=$(echo "$runs / $tp" | bc -l)
  step_rate=""
  [ -z "$steps" ] || step_rate=$(echo "$steps / $tp" | bc -l)
  cpu_s=$(median ${cpus[$mode]})
  busy=nan work=nan
  [ "$cpu_s" = nan ] || busy=$(echo "$cpu_s / $tp" | bc -l)
  [ "$cpu_s" = nan ] || [ "$cpu1" = nan ] || work=$(echo "$cpu1 / $cpu_s" | bc -l)
  cycle_count=$(median ${cycles[$mode]})
  giga=nan cycle_eff=nan
  if [ "$cycle_count" != nan ] && [ "$cycles1" != nan ]; then
    giga=$(echo "$cycle_count / 1000000000" | bc -l)
    cycle_eff=$(echo "$cycles1 / $cycle_count" | bc -l)
  fi
  printf '%-18s %3d %10.2f %10.1f %14.0f %11.3f %9.1f %10.2f %9.3f %12.2f %11.3f\n' "$mode" "$p" "$tp" \
    "$rate" "${step_rate:-0}" "$efficiency" "$cpu_s" "$busy" "$work" "$giga" "$cycle_eff"
  all=$(printf '%.3f,' ${times[$mode]})
  cpu_json=null
  [ "$cpu_s" = nan ] || cpu_json=$(printf '%.3f' "$cpu_s")
  work_json=null cycles_json=null
  [ "$work" = nan ] || work_json=$(printf '%.4f' "$work")
  [ "$cycle_count" = nan ] || cycles_json=$(printf '%.0f' "$cycle_count")
  json_rows+=("$(printf '{"mode":"%s","P":%d,"wall_s":%.3f,"efficiency":%.4f,"cpu_s":%s,"work_efficiency":%s,"cycles":%s,' \
    "$mode" "$p" "$tp" "$efficiency" "$cpu_json" "$work_json" "$cycles_json")\"all_wall_s\":[${all%,}]}")
done
if [ -n "$baseline" ]; then
  tb=$(median ${times[baseline-1]})
  cpub=$(median ${cpus[baseline-1]})
  printf 'speed-up over the baseline on 1 thread: %.2fx wall, %.2fx CPU (the same results)\n' \
    "$(echo "$tb / $t1" | bc -l)" "$(echo "$cpub / $cpu1" | bc -l)"
fi
echo "($runs runs, ${steps:-?} GD steps in all; medians of $repeat; efficiency = T1 / (P * TP);"
echo " busy cores = CPU / wall: below P, the job did not get P cores, e.g. on a busy machine;"
echo " work eff = CPU_1 / CPU_P and cycle eff = cycles_1 / cycles_P: the parallel overhead in work,"
echo " which the load does not hide; on P free cores the wall efficiency is at most the work efficiency)"
if [ -n "$json" ]; then
  (
    IFS=,
    printf '{"benchmark":"W6","experiment":"%s","runs":%d,"steps":%s,"cores":%d,"repeat":%d,' \
      "$(basename "$experiment")" "$runs" "${steps:-null}" "$(nproc)" "$repeat"
    printf '"results":[%s]}\n' "${json_rows[*]}"
  ) >"$json"
fi
