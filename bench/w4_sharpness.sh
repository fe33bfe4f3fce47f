#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# W4 of bench/README.md in one invocation: relustab (bench/w4.cpp: GD step, one Hessian-vector product,
# sharpness by Lanczos at tol 1e-9 with its residual and HVP count, on each thread count) beside the
# PyTorch peer bench/peers/torch_w4_sharpness.py (power iteration on autograd HVPs, and scipy eigsh on
# the same HVP) on the same thread counts, interleaved round by round; prints the medians and the
# ratios peer time / relustab sharpness time. Both use random inputs of the W4 shape (n = 1000,
# d = 784, width 1000, X ~ U[0,1), labels +-1, float64); their random draws differ, so relustab's
# eigenpair is also checked with torch's autograd HVP on relustab's own net (bench/w4_crosscheck.py).
#
# Usage: bench/w4_sharpness.sh [--build-dir DIR] [--no-build] [--repeat N] [--threads 1,2]
#                              [--tol 1e-9] [--no-peer] [--python PY] [--json FILE]
#   --build-dir  CMake build directory (default build/bench-release; configured with
#                RELUSTAB_BUILD_BENCH=ON, Release)
#   --no-build   use the relustab_w4 already built there
#   --repeat N   rounds (default 3); each round runs relustab once and the peer once per thread count
#   --threads    thread counts for relustab and the peer (OMP/MKL/OPENBLAS_NUM_THREADS) (default 1,2)
#   --no-peer    relustab only (and no cross-check)
#   --python     interpreter with torch and scipy for the peer (default .venv-bench/bin/python, made
#                from PyPI by scripts/bench_setup.sh; bench/compare.sh runs the curvature libraries at W4)
#   --json FILE  also write every figure as JSON
# Exit status: nonzero when relustab's results differ between thread counts, its sharpness does not
# converge, or torch's HVP disagrees with its eigenpair.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir="$root/build/bench-release"
no_build=0
repeat=3
threads=1,2
tol=1e-9
no_peer=0
python="$root/.venv-bench/bin/python"
json=""
while (($#)); do
  case "$1" in
    --build-dir) build_dir=$2; shift 2 ;;
    --no-build) no_build=1; shift ;;
    --repeat) repeat=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --tol) tol=$2; shift 2 ;;
    --no-peer) no_peer=1; shift ;;
    --python) python=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    -h|--help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "w4_sharpness: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$repeat" =~ ^[1-9][0-9]*$ ]] || { echo "w4_sharpness: --repeat: expected a positive integer, got '$repeat'" >&2; exit 2; }
[[ "$threads" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "w4_sharpness: --threads: expected a list such as 1,2, got '$threads'" >&2; exit 2; }

if ((!no_build)); then
  mkdir -p "$build_dir"
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DRELUSTAB_NATIVE=ON -DRELUSTAB_BUILD_BENCH=ON \
    -DRELUSTAB_BUILD_TESTS=OFF >"$build_dir/w4-configure.log" 2>&1 ||
    { cat "$build_dir/w4-configure.log" >&2; exit 1; }
  cmake --build "$build_dir" --target relustab_w4 -j2 >"$build_dir/w4-build.log" 2>&1 ||
    { cat "$build_dir/w4-build.log" >&2; exit 1; }
fi
w4="$build_dir/bench/relustab_w4"
[ -x "$w4" ] || { echo "w4_sharpness: $w4 is missing (build it, or drop --no-build)" >&2; exit 1; }

peer_why=""
if ((no_peer)); then
  peer_why="--no-peer"
elif ! "$python" -c "import torch, scipy" 2>/dev/null; then
  peer_why="torch or scipy not installed for $python (run scripts/bench_setup.sh)"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
echo "w4_sharpness: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((round = 1; round <= repeat; round++)); do
  mkdir -p "$work/save"
  "$w4" --threads "$threads" --repeat 1 --tol "$tol" --save "$work/save" --json "$work/relustab.$round.json" \
    >"$work/relustab.$round.txt" || status=1
  sed 's/^/  /' "$work/relustab.$round.txt"
  if [ -z "$peer_why" ]; then
    if ((round == 1)); then
      "$python" "$root/bench/w4_crosscheck.py" "$work/save" | sed 's/^/  /' || status=1
    fi
    for t in ${threads//,/ }; do
      OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t \
        "$python" "$root/bench/peers/torch_w4_sharpness.py" >"$work/peer.$round.$t.txt" 2>&1 ||
        { cat "$work/peer.$round.$t.txt" >&2; status=1; }
      sed "s/^/  [OMP_NUM_THREADS=$t] /" "$work/peer.$round.$t.txt"
    done
  fi
done
if [ -z "$peer_why" ]; then
  # Which BLAS torch's float64 products run on: the BLAS_INFO it was built with (PyPI's wheel: MKL,
  # linked into libtorch_cpu) and any BLAS library it loaded (Debian's torch: the system libblas.so.3,
  # the reference BLAS unless an optimised one such as OpenBLAS is installed).
  torch_blas=$("$python" - <<'EOF' 2>/dev/null || true
import re, torch
a = torch.ones(64, 64, dtype=torch.float64); a @ a
libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and line.split()[-1].startswith("/")})
info = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
print(f"BLAS_INFO={info.group(1) if info else 'unknown'}; loaded BLAS libraries: {', '.join(libs) or 'none'}")
EOF
)
  echo "w4_sharpness: torch $("$python" -c 'import torch; print(torch.__version__)'), its BLAS: ${torch_blas:-unknown}"
fi

"$python" - "$work" "$repeat" "$threads" "$json" "${peer_why}" <<'EOF' || status=1
import json, re, statistics, sys
work, repeat, threads, out, peer_why = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4], sys.argv[5]
runs = [json.load(open(f"{work}/relustab.{r}.json")) for r in range(1, repeat + 1)]
meta = runs[0]
power = re.compile(r"torch power iteration: ([0-9.]+) s, ([0-9]+) HVPs")
eigsh = re.compile(r"scipy eigsh.*: ([0-9.]+) s, ([0-9]+) HVPs, lambda=([-0-9.e+]+)")
med = statistics.median
rows, figures = [], []
for t in threads:
    mine = [next(x for x in run["runs"] if x["threads"] == int(t)) for run in runs]
    fig = {"threads": int(t)}
    for key in ("gd_step_s", "hvp_s", "sharpness_s"):
        fig[key] = med(x[key] for x in mine)
    fig.update(hvps=mine[0]["hvps"], sharpness=mine[0]["sharpness"], residual=mine[0]["residual"],
               converged=all(x["converged"] for x in mine))
    if not peer_why:
        texts = [open(f"{work}/peer.{r}.{t}.txt").read() for r in range(1, repeat + 1)]
        p = [power.search(s) for s in texts]
        e = [eigsh.search(s) for s in texts]
        if all(p) and all(e):
            fig["torch_power_s"] = med(float(m.group(1)) for m in p)
            fig["torch_power_hvps"] = int(p[0].group(2))
            fig["torch_eigsh_s"] = med(float(m.group(1)) for m in e)
            fig["torch_eigsh_hvps"] = int(e[0].group(2))
            fig["torch_hvp_s"] = fig["torch_eigsh_s"] / fig["torch_eigsh_hvps"]
            fig["vs_power"] = fig["torch_power_s"] / fig["sharpness_s"]
            fig["vs_eigsh"] = fig["torch_eigsh_s"] / fig["sharpness_s"]
            fig["hvp_vs_torch"] = fig["torch_hvp_s"] / fig["hvp_s"]
    figures.append(fig)
print(f"\nW4: n={meta['n']} d={meta['d']} width={meta['width']} P={meta['params']:,} float64, "
      f"tol {meta['tol']:g}, median of {repeat} round(s); peer: {peer_why or 'torch_w4_sharpness.py'}")
print("| threads | relustab GD step | relustab HVP | relustab sharpness (HVPs, residual) "
      "| torch power it. (HVPs) | torch + eigsh (HVPs) | vs power | vs eigsh | HVP vs torch |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for f in figures:
    cells = [str(f["threads"]), f"{f['gd_step_s']:.3f} s", f"{f['hvp_s']:.3f} s",
             f"{f['sharpness_s']:.3f} s ({f['hvps']}, {f['residual']:.2g})"]
    if "vs_eigsh" in f:
        cells += [f"{f['torch_power_s']:.2f} s ({f['torch_power_hvps']})",
                  f"{f['torch_eigsh_s']:.2f} s ({f['torch_eigsh_hvps']})",
                  f"{f['vs_power']:.1f}x", f"{f['vs_eigsh']:.1f}x", f"{f['hvp_vs_torch']:.1f}x"]
    else:
        cells += ["n/a"] * 5
    print("| " + " | ".join(cells) + " |")
identical = all(run["bit_identical"] for run in runs)
print(f"relustab sharpness {figures[0]['sharpness']:.12g}, bit-identical across thread counts: "
      f"{'yes' if identical else 'NO'}")
if out:
    json.dump({"n": meta["n"], "d": meta["d"], "width": meta["width"], "params": meta["params"],
               "tol": meta["tol"], "rounds": repeat, "bit_identical": identical, "threads": figures},
              open(out, "w"), indent=1)
sys.exit(0 if identical and all(f["converged"] for f in figures) else 1)
EOF
exit $status
