#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer harnesses of fuzz/ (Clang, AddressSanitizer + UndefinedBehaviorSanitizer, the
# libraries only) and runs each for SECONDS on a copy of its committed seed corpus.
#
#   scripts/fuzz.sh [SECONDS] [HARNESS...]     (default 60 seconds, every harness; see fuzz/README.md)
#
# Limits per input: -timeout=10 s, -rss_limit_mb=2048 and -malloc_limit_mb=2048, -max_len per harness
# (below). Prints each harness's executions and coverage and exits 1 on any crash, sanitizer report,
# leak, timeout or out-of-memory; the input that caused it is kept in build/fuzz/findings/<harness>/.
# Environment: RELUSTAB_FUZZ_BUILD_DIR (default build/fuzz), RELUSTAB_FUZZ_JOBS (build jobs, default 2),
# CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache), CXX (default clang++).
set -euo pipefail

seconds=${1:-60}
if [[ $# -gt 0 ]]; then shift; fi
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -lt 1 ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [HARNESS...]" >&2
  exit 2
fi

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$root/scripts/ensure_clang.sh"
build=${RELUSTAB_FUZZ_BUILD_DIR:-$root/build/fuzz}
jobs=${RELUSTAB_FUZZ_JOBS:-2}

# Largest input per harness, in bytes: room for a few rows, arrays or members beyond the seeds, small
# enough that a run reaches many executions.
declare -A max_len=(
  [csv]=4096 [net_json]=4096 [net_npz]=8192 [zip]=8192 [npy]=2048 [idx]=4096 [digits_csv]=8192 [toml]=4096
)
all=(csv net_json net_npz zip npy idx digits_csv toml)
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then harnesses=("${all[@]}"); fi
for h in "${harnesses[@]}"; do
  if [[ -z ${max_len[$h]:-} ]]; then
    echo "fuzz.sh: unknown harness '$h' (expected one of: ${all[*]})" >&2
    exit 2
  fi
done

# Debug with -O1: assertions (ours and Eigen's bounds checks) stay on; -O1 keeps the sanitizers fast.
# Portable code (no -march=native) so that findings reproduce on other machines.
cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_CXX_COMPILER="${CXX:-clang++}" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link" \
  -DRELUSTAB_SANITIZE=address,undefined \
  -DRELUSTAB_NATIVE=OFF \
  -DRELUSTAB_WITH_MPI=OFF \
  -DRELUSTAB_BUILD_TESTS=OFF \
  -DRELUSTAB_BUILD_FUZZ=ON >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$build" -j "$jobs" "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for h in "${harnesses[@]}"; do
  work=$build/runs/$h
  findings=$build/findings/$h
  rm -rf "$work"
  mkdir -p "$work/corpus" "$findings"
  # The run adds inputs to a copy: the committed corpus stays as it is.
  cp -R "$root/fuzz/corpus/$h/." "$work/corpus/"
  log=$work/fuzz.log
  echo "== fuzz_$h: ${seconds}s, -max_len=${max_len[$h]}"
  rc=0
  "$build/fuzz/fuzz_$h" "$work/corpus" \
    -dict="$root/fuzz/dict/$h.dict" \
    -max_total_time="$seconds" -max_len="${max_len[$h]}" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048 \
    -seed=1 -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1 || rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "   $last"
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' <<<"$last" || true)
  line="fuzz_$h: ${execs:-?} executions, ${coverage:-no coverage line}"
  if [[ $rc -ne 0 ]]; then
    failed+=("$h")
    echo "   FAILED (exit $rc); log: $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|relustab fuzz check failed|.*uncaught exception|.*Test unit written to)' "$log" | head -n 8 | sed 's/^/   /'
    line="$line  FAILED"
  fi
  summary+=("$line")
done

echo
echo "Summary (${seconds}s each; cov = edges covered, ft = features):"
printf '  %s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "Findings in: ${failed[*]} (inputs under $build/findings/; reproduce with $build/fuzz/fuzz_<harness> <input>)"
  exit 1
fi
