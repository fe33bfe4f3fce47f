# SPDX-License-Identifier: MIT
"""Runs relustab beside its peers (workloads W1, W2, W3, batched W1, W4's sharpness, the W3 and W4 trace and
spectral density, bench/README.md) in one invocation on one machine, and prints a markdown table of rates
and ratios (also written to bench/results/latest.md).

Run it through bench/compare.sh (see --help). Steps:
  1. builds relustab_workloads and relustab_w4 (Release, RELUSTAB_BUILD_BENCH=ON) and the naive fused
     loop (g++ -O3 -march=native, the peer's own flags);
  2. writes the W3 and W4 problems (relustab_workloads --workload W3 --save, relustab_w4 --save) for
     the curvature peers (bench/peers/curvature_peers.py), which compute the sharpness of the very same
     nets and data, with their accuracy;
  3. runs every measurement --repeat times, interleaved round by round (the machines are shared and
     noisy: interleaving spreads slow moments over all implementations), and keeps the median;
  4. with --w4-full and --w6, runs bench/w4_full.sh (W4 at full size, 12,000 Fashion-MNIST images) and
     bench/w6_sweep.sh (W6, optionally beside an older binary: --w6-baseline) once each, reads the JSON
     they write, and adds their ratios with issue 14's targets and their own tables to this one;
  5. prints the table with the machine it ran on, each peer's version, BLAS and thread count
     (bench/peers/peer_info.py), the load before and after and each process's CPU time.
Every peer runs on one interpreter, .venv-bench/bin/python, made from PyPI only by
scripts/bench_setup.sh (current torch with its MKL, jax, numpy/scipy with their OpenBLAS, curvlinops,
PyHessian, hessian-eigenthings). Peers that are missing are reported as "not available", never a crash.
Standard library only: it runs on any python3.
"""
import argparse
import datetime
import os
import json
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "bench" / "peers"
RATE = re.compile(r":\s*([0-9][0-9,]*(?:\.[0-9]+)?) (net-steps/s|evals/s)")
# One thread for every peer, as the peers' figures were measured (XLA's CPU client otherwise uses all cores).
ONE_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
}


class Measurement:
    """One row of the table: a command run once per round; `pattern` picks its line of output."""

    def __init__(self, key, workload, implementation, precision, threads, command, pattern,
                 unavailable=None, seconds=None, extra=None):
        self.key = key
        self.workload = workload
        self.implementation = implementation
        self.precision = precision
        self.threads = threads
        self.command = command
        self.pattern = re.compile(pattern)
        self.unavailable = unavailable  # reason, or None
        self.rates = []
        self.unit = "net-steps/s" if workload in ("W1", "W2") else "evals/s"
        # A pattern whose group is seconds per evaluation (relustab_w4 prints times), else RATE.
        self.seconds = re.compile(seconds) if seconds else None
        # A second line of the same output the row's accuracy needs (the exact trace line), kept as is.
        self.extra = re.compile(extra) if extra else None
        self.extra_line = ""
        self.failure = None
        self.detail = ""
        self.cpu = 0.0   # CPU seconds (user + system) of its processes, all rounds
        self.wall = 0.0  # their wall seconds


CURVATURE_PEERS = [
    # (key in curvature_peers.py, implementation column, library)
    ("curvlinops-eigsh", "curvlinops HessianLinearOperator + scipy eigsh(k=1, LA, tol 1e-9)", "curvlinops"),
    ("pyhessian-default", "PyHessian power iteration, defaults (maxIter 100, tol 1e-3)", "pyhessian"),
    ("pyhessian-tol1e-9", "PyHessian power iteration, tol 1e-9", "pyhessian"),
    ("eigenthings-lanczos-default", "hessian-eigenthings lanczos(k=1, LA), default max_iter", "hessian_eigenthings"),
    ("eigenthings-lanczos-converged", "hessian-eigenthings lanczos(k=1, LA), max_iter to 1e-9",
     "hessian_eigenthings"),
    ("torch-dense-eigh", "PyTorch torch.func.hessian + eigh (same net)", "torch"),
]

# Issue 14's W4 targets: >= 3x torch + eigsh at tol 1e-9 on one thread, and torch's power iteration's
# speed (PyHessian's defaults) at an accuracy 10^6 times better (relustab's residual is ~1e-9 relative).
W4_TARGETS = {"curvlinops-eigsh": ">= 3x (issue 14)", "pyhessian-default": ">= 1x (issue 14)"}


# Issue 14's trace and density rows, at equal accuracy: relustab and every peer get the same number of
# Rademacher probes (trace) and of probes x Lanczos steps (density), so their estimates have the same
# statistical error (bench/peers/curvature_peers.py prints each one's error against the exact value).
TRACE_PROBES = {"W3": 100, "W4": 20}
DENSITY_PROBES_STEPS = {"W3": (10, 80), "W4": (2, 30)}
SPECTRUM_PEERS = [
    # (key in curvature_peers.py, estimate, implementation column, library)
    ("pyhessian-trace", "trace", "PyHessian hessian(...).trace(maxIter=N, tol=-inf)", "pyhessian"),
    ("curvlinops-trace", "trace", "curvlinops hutchinson_trace(HessianLinearOperator, num_matvecs=N)", "curvlinops"),
    ("pyhessian-density", "density", "PyHessian hessian(...).density(iter=M, n_v=N)", "pyhessian"),
    ("curvlinops-density", "density", "curvlinops lanczos_approximate_spectrum(ncv=M, num_repeats=N)",
     "curvlinops"),
]


def spectrum_args(workload):
    """The probes of curvature_peers.py's trace and density peers at W3 or W4."""
    probes, steps = DENSITY_PROBES_STEPS[workload]
    return ["--trace-probes", str(TRACE_PROBES[workload]), "--density-probes", str(probes),
            "--density-steps", str(steps)]


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_command(command, timeout, env=None, times=None):
    """(returncode, stdout, stderr); never raises for a failing or missing program. `times`, a list,
    receives (CPU seconds, wall seconds) of the process (CPU of waited-for children, so exact for it)."""
    try:
        cpu0, wall0 = children_cpu(), datetime.datetime.now().timestamp()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
        if times is not None:
            times[:] = [children_cpu() - cpu0, datetime.datetime.now().timestamp() - wall0]
        return done.returncode, done.stdout, done.stderr
    except FileNotFoundError as error:
        return 127, "", str(error)
    except subprocess.TimeoutExpired:
        return 124, "", f"timed out after {timeout} s"


def last_line(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def python_has(python, module):
    if not python or not (shutil.which(python) or Path(python).exists()):
        return f"{python} not found"
    code, _, err = run_command([python, "-c", f"import {module}"], 300)
    return None if code == 0 else f"{module} not installed for {python} ({last_line(err)})"


def peer_info(python):
    """What bench/peers/peer_info.py says about the peers' interpreter (versions, BLAS, threads), or {}."""
    if not python or not (shutil.which(python) or Path(python).exists()):
        return {}
    code, out, _ = run_command([python, str(PEERS / "peer_info.py")], 300, ONE_THREAD_ENV)
    try:
        return json.loads(out.strip().splitlines()[-1]) if code == 0 else {}
    except (ValueError, IndexError):
        return {}


def w4_problem(args, w4):
    """Writes the W4 problem and relustab's eigenvector (relustab_w4 --save) for the curvature peers;
    returns (path, None) or (None, why)."""
    if not w4.exists():
        return None, f"{w4.name} not built"
    path = Path(args.build_dir_path) / "w4_problem"
    path.mkdir(parents=True, exist_ok=True)
    code, _, err = run_command([str(w4), "--threads", "1", "--repeat", "1", "--tol", "1e-9", "--save", str(path)],
                               900)
    if code != 0:
        return None, f"relustab_w4 --save failed (exit {code}: {last_line(err)})"
    return path, None


def w3_problem(args, workloads, compiled):
    """Writes the W3 problem with relustab's eigenpair (relustab_workloads --save) for the curvature
    peers; returns (path, None) or (None, why)."""
    backend = next((b for b in args.backends if b in compiled), None)
    if backend is None:
        return None, "no back end of --backends in this build"
    path = Path(args.build_dir_path) / "w3_problem.json"
    code, _, err = run_command([str(workloads), "--workload", "W3", "--backend", backend, "--repeat", "1",
                                "--steps", "1", "--save", str(path)], 300)
    if code != 0:
        return None, f"relustab_workloads --save failed (exit {code}: {last_line(err)})"
    return path, None


def build(args):
    """Configures and builds relustab_workloads, relustab_w4 (unless --no-w4 without --w4-full), the
    command line (with --w6, unless --w6-relustab) and the naive loop; returns (workloads, naive, naive_why)."""
    build_dir = Path(args.build_dir)
    if not build_dir.is_absolute():
        build_dir = ROOT / build_dir
    args.build_dir_path = build_dir
    workloads = build_dir / "bench" / "relustab_workloads"
    naive = build_dir / "naive_fused_gd"
    if not args.no_build:
        configure = ["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                     "-DRELUSTAB_NATIVE=ON", "-DRELUSTAB_BUILD_BENCH=ON", "-DRELUSTAB_BUILD_TESTS=OFF",
                     *args.cmake_arg]
        if not (build_dir / "CMakeCache.txt").exists() and shutil.which("ninja"):
            configure += ["-G", "Ninja"]
        targets = ["relustab_workloads"] + ([] if args.no_w4 and not args.w4_full else ["relustab_w4"])
        if args.w6 and not args.w6_relustab:
            targets.append("relustab")  # the command line W6 times, from the same build
        for command in (configure, ["cmake", "--build", str(build_dir), "--target", *targets,
                                    "-j", str(args.jobs)]):
            print("compare:", " ".join(command), file=sys.stderr, flush=True)
            # The build's own output goes to stderr only when it fails: stdout carries the table.
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if done.returncode != 0:
                print("\n".join(done.stdout.splitlines()[-80:]), file=sys.stderr)
                sys.exit("compare: building relustab failed (its last lines are above)")
    if not workloads.exists():
        sys.exit(f"compare: {workloads} is missing (build it, or drop --no-build)")
    naive_why = None
    source = PEERS / "naive_fused_gd.cpp"
    if not args.no_build or not naive.exists():
        compiler = shutil.which(args.cxx)
        if compiler is None:
            naive_why = f"{args.cxx} not found"
        else:
            # Exactly the peer's own flags: -O3 -march=native (no -ffast-math).
            code, _, err = run_command([compiler, "-O3", "-march=native", "-o", str(naive), str(source)], 600)
            if code != 0:
                naive_why = f"compiling {source.name} failed: {last_line(err)}"
    return workloads, naive, naive_why


def measurements(args, workloads, naive, naive_why):
    quick = args.quick
    torch_py, jax_py = args.torch_python, args.jax_python
    torch_why = python_has(torch_py, "torch")
    jax_why = python_has(jax_py, "jax")
    code, out, err = run_command([str(workloads), "--list-backends"], 60)
    compiled = out.split() if code == 0 else []
    problem, problem_why = w3_problem(args, workloads, compiled)
    rows = []

    def relustab_rows(workload, extra=(), implementation=""):
        for backend in args.backends:
            why = None if backend in compiled else f"back end '{backend}' not in this build ({', '.join(compiled)})"
            rows.append(Measurement(
                f"relustab-{backend}-{workload}", workload, f"relustab {backend}{implementation}", "float64", 1,
                [str(workloads), "--workload", workload, "--backend", backend, "--repeat", "1",
                 "--min-time", str(args.min_time), *extra],
                rf"^relustab-{re.escape(backend)} {workload} ", why))

    def spectrum_peer_rows(workload, command, why_problem):
        """The trace and density peers on relustab's own W3 or W4 problem (one process with the
        sharpness peers), each row also keeping the line of exact values."""
        for key, estimate, implementation, module in SPECTRUM_PEERS:
            why = why_problem or python_has(torch_py, module)
            rows.append(Measurement(f"spec-{key}-{workload}", f"{workload}-{estimate}", implementation, "float64",
                                    1, command, rf"^{re.escape(key)} {workload} ", why,
                                    extra=rf"^exact {workload}:"))

    # W1
    rows.append(Measurement("naive-W1", "W1", "naive fused loop (C++, -O3 -march=native)", "float64", 1,
                            [str(naive), "30", "100", "20000" if quick else "200000"],
                            r"^fused-loop float64 n=30 k=100:", naive_why))
    rows.append(Measurement("naive-W1-f32", "W1", "naive fused loop (C++, -O3 -march=native)", "float32", 1,
                            [str(naive), "30", "100", "20000" if quick else "200000"],
                            r"^fused-loop float32 n=30 k=100:", naive_why))
    rows.append(Measurement("torch-eager-W1", "W1", "PyTorch eager", "float64", 1,
                            [torch_py, str(PEERS / "torch_univariate_gd.py"), "--mode", "eager", "--threads", "1",
                             "--steps", "500" if quick else "3000"], r"^torch-eager ", torch_why))
    rows.append(Measurement("torch-batched-W1", "W1", "PyTorch batched by hand, B=64", "float64", 1,
                            [torch_py, str(PEERS / "torch_univariate_gd.py"), "--mode", "batched", "--B", "64",
                             "--threads", "1", "--steps", "50" if quick else "300"], r"^torch-batched ", torch_why))
    for dtype in ("float64", "float32"):
        rows.append(Measurement(f"jax-W1-{dtype}", "W1", "JAX jit(vmap(scan)) CPU, B=64", dtype, 1,
                                [jax_py, str(PEERS / "jax_univariate_gd.py"), "--B", "64", "--dtype", dtype,
                                 "--platform", "cpu", "--steps", "200" if quick else "2000"],
                                r"^jax-vmap-scan ", jax_why))
    relustab_rows("W1")
    for threads in (1, 2):
        rows.append(Measurement(f"relustab-batched-{threads}", "W1", "relustab batched (train_batch), B=64",
                                "float64", threads,
                                [str(workloads), "--workload", "W1-batched", "--nets", "64", "--threads",
                                 str(threads), "--repeat", "1", "--min-time", str(args.min_time)],
                                r"^relustab-batched ", None))
    for workload, dtype in (("W1-lanes", "float64"), ("W1-lanes-f32", "float32")):
        rows.append(Measurement(f"relustab-{workload}", "W1", "relustab SIMD lanes (GdLanes), B=64", dtype, 1,
                                [str(workloads), "--workload", workload, "--nets", "64", "--repeat", "1",
                                 "--min-time", str(args.min_time)],
                                rf"^relustab-lanes B=64 W1 {dtype}: ", None))
    # W2
    rows.append(Measurement("naive-W2", "W2", "naive fused loop (C++, -O3 -march=native)", "float64", 1,
                            [str(naive), "1024", "1024", "100" if quick else "1000"],
                            r"^fused-loop float64 n=1024 k=1024:", naive_why))
    rows.append(Measurement("torch-eager-W2", "W2", "PyTorch eager", "float64", 1,
                            [torch_py, str(PEERS / "torch_univariate_gd.py"), "--mode", "eager", "--threads", "1",
                             "--n", "1024", "--k", "1024", "--steps", "10" if quick else "100"],
                            r"^torch-eager ", torch_why))
    relustab_rows("W2")
    # W3
    rows.append(Measurement("torch-hessian-W3", "W3", "PyTorch autograd full Hessian + eigvalsh (torch_sharpness.py, its own net)", "float64", 1,
                            [torch_py, str(PEERS / "torch_sharpness.py")], r"^torch full-hessian", torch_why))
    rows.append(Measurement("torch-power-W3", "W3", "PyTorch power iteration, 100 HVPs (torch_sharpness.py, its own net)", "float64", 1,
                            [torch_py, str(PEERS / "torch_sharpness.py")], r"^torch power-iteration", torch_why))
    # W3 on relustab's own net and data, each peer with its accuracy (bench/peers/curvature_peers.py).
    curvature = [torch_py, str(PEERS / "curvature_peers.py"), str(problem), "--min-time", str(args.min_time),
                 *spectrum_args("W3")]
    for key, implementation, module in CURVATURE_PEERS:
        why = problem_why or python_has(torch_py, module)
        rows.append(Measurement(f"curv-{key}-W3", "W3", implementation, "float64", 1, curvature,
                                rf"^{re.escape(key)} W3", why))
    relustab_rows("W3")
    # W3 trace and density (issue 14): the same Hessian, the same probes for everyone.
    spectrum_peer_rows("W3", curvature, problem_why)
    probes, steps = DENSITY_PROBES_STEPS["W3"]
    relustab_rows("W3-trace", ["--probes", str(TRACE_PROBES["W3"])], f" (hutchinson_trace, {TRACE_PROBES['W3']} probes)")
    relustab_rows("W3-density", ["--probes", str(probes), "--density-steps", str(steps)],
                  f" (spectral_density, {probes} probes x {steps} steps)")
    # W4: the same peers on relustab_w4's net and data (786,001 parameters), one evaluation each.
    if not args.no_w4:
        w4 = Path(args.build_dir_path) / "bench" / "relustab_w4"
        w4_dir, w4_why = w4_problem(args, w4)
        curvature = [torch_py, str(PEERS / "curvature_peers.py"), str(w4_dir), "--min-time", "0",
                     *spectrum_args("W4")]
        for key, implementation, module in CURVATURE_PEERS:
            if key == "torch-dense-eigh":
                continue  # a dense 786,001^2 Hessian is out of reach
            why = w4_why or python_has(torch_py, module)
            rows.append(Measurement(f"curv-{key}-W4", "W4", implementation, "float64", 1, curvature,
                                    rf"^{re.escape(key)} W4", why))
        probes, steps = DENSITY_PROBES_STEPS["W4"]
        relustab_w4 = [str(w4), "--threads", "1", "--repeat", "1", "--tol", "1e-9", "--trace-samples",
                       str(TRACE_PROBES["W4"]), "--density-probes", str(probes), "--density-steps", str(steps)]
        relustab_why = w4_why if w4_dir is None else None
        rows.append(Measurement("relustab-cpu-W4", "W4", "relustab cpu (Lanczos, tol 1e-9)", "float64", 1,
                                relustab_w4, r"^relustab threads=1:", relustab_why,
                                seconds=r"sharpness ([0-9.]+) s \("))
        # W4 trace and density (issue 14), one evaluation each: the same probes for everyone.
        spectrum_peer_rows("W4", curvature, w4_why)
        rows.append(Measurement("relustab-cpu-W4-trace", "W4-trace",
                                f"relustab cpu (hutchinson_trace, {TRACE_PROBES['W4']} probes)", "float64", 1,
                                relustab_w4, r"^relustab threads=1 trace:", relustab_why,
                                seconds=r"trace: ([0-9.]+) s \("))
        rows.append(Measurement("relustab-cpu-W4-density", "W4-density",
                                f"relustab cpu (spectral_density, {probes} probes x {steps} steps)", "float64", 1,
                                relustab_w4, r"^relustab threads=1 density:", relustab_why,
                                seconds=r"density: ([0-9.]+) s \("))
    return rows


def is_relustab(command):
    return Path(command[0]).name.startswith("relustab_")


def run_rounds(rows, repeat):
    """Runs every available row `repeat` times, round by round; one command serves all rows that share it."""
    for round_index in range(repeat):
        cache = {}
        for row in rows:
            if row.unavailable or row.failure:
                continue
            key = tuple(row.command)
            if key not in cache:
                print(f"compare: round {round_index + 1}/{repeat}: {' '.join(row.command)}", file=sys.stderr,
                      flush=True)
                env = ONE_THREAD_ENV if not is_relustab(row.command) else None
                times = [0.0, 0.0]
                cache[key] = (*run_command(row.command, 1800, env, times), times)
            code, out, err, times = cache[key]
            row.cpu += times[0]
            row.wall += times[1]
            line = next((l for l in out.splitlines() if row.pattern.search(l)), None)
            match = (row.seconds or RATE).search(line) if line else None
            if code == 3 and "relustab_workloads" in row.command[0]:
                row.unavailable = last_line(err).replace("relustab_workloads: not available: ", "")
            elif line and ": not available (" in line:
                row.unavailable = line.split(": not available (", 1)[1].rstrip(")")
            elif line and ": failed (" in line:
                row.failure = line.split(": failed (", 1)[1].rstrip(")")
            elif code != 0 or match is None:
                row.failure = f"exit {code}: {last_line(err) or last_line(out) or 'no rate in the output'}"
            else:
                number = float(match.group(1).replace(",", ""))
                row.rates.append(1.0 / number if row.seconds else number)
                row.detail = line.strip()
                if row.extra:
                    row.extra_line = next((l.strip() for l in out.splitlines() if row.extra.search(l)), "")


class Script:
    """A whole benchmark script run once beside the table (bench/w4_full.sh, bench/w6_sweep.sh): its
    command, its output, its figures (the JSON it writes) or why there are none."""

    def __init__(self, name, command, shown):
        self.name = name
        self.command = command
        self.shown = shown  # the command as the table prints it (no temporary paths)
        self.stdout = ""
        self.stderr = ""
        self.data = {}
        self.markdown = ""
        self.why = None  # reason, or None
        self.cpu = 0.0
        self.wall = 0.0

    def run(self, timeout):
        print(f"compare: {self.name}: {' '.join(self.command)}", file=sys.stderr, flush=True)
        times = [0.0, 0.0]
        code, self.stdout, self.stderr = run_command(self.command, timeout, None, times)
        self.cpu, self.wall = times
        if code != 0:
            self.why = f"{self.shown[0]} exit {code}: {last_line(self.stderr) or last_line(self.stdout)}"
        return code == 0


def shown_path(path):
    """`path` relative to the repository when it lies inside it: no machine-specific path in a table."""
    path = Path(path)
    for candidate in (path, path.resolve()):
        if candidate.is_absolute() and ROOT in candidate.parents:
            return str(candidate.relative_to(ROOT))
    return str(path)


def run_w4_full(args, work):
    """bench/w4_full.sh on the binaries of this build (never a build of its own: build() made relustab_w4),
    its markdown and its two JSON files."""
    out = work / "w4-full.md"
    options = ["--build-dir", str(args.build_dir_path), "--no-build", "--python", args.torch_python,
               "--n", str(args.w4_full_n)]
    script = Script("W4 full size", ["bash", str(ROOT / "bench" / "w4_full.sh"), *options, "--out", str(out)],
                    ["bench/w4_full.sh", *(shown_path(o) if o.startswith("/") else o for o in options)])
    if script.run(7200):
        try:
            script.markdown = out.read_text()
            script.data = {side: json.loads((work / f"w4-full-{side}.json").read_text())
                           for side in ("relustab", "torch")}
        except (OSError, ValueError) as error:
            script.why = f"bench/w4_full.sh wrote no readable results ({error})"
    return script


def w6_binary(args):
    """The command line W6 times: --w6-relustab, else this build's, else w6_sweep.sh's own default."""
    if args.w6_relustab:
        return args.w6_relustab
    built = Path(args.build_dir_path) / "relustab"
    return str(built) if built.exists() else None


def run_w6(args, work):
    """bench/w6_sweep.sh --json, with the options given as --w6-*."""
    options = ["--repeat", str(args.w6_repeat)]
    binary = w6_binary(args)
    if binary:
        options += ["--relustab", binary]
    if args.w6_baseline:
        options += ["--baseline", args.w6_baseline]
    for setting in args.w6_set:
        options += ["--set", setting]
    out = work / "w6.json"
    script = Script("W6", ["bash", str(ROOT / "bench" / "w6_sweep.sh"), *options, "--json", str(out)],
                    ["bench/w6_sweep.sh", *(shown_path(o) if o.startswith("/") else o for o in options)])
    if script.run(3600 * 6):
        try:
            script.data = json.loads(out.read_text())
        except (OSError, ValueError) as error:
            script.why = f"bench/w6_sweep.sh wrote no readable JSON ({error})"
    return script


W4_FULL_MEMORY = re.compile(r"PyTorch\s+([0-9.]+)\s+MiB")


def w4_full_ratios(script, n):
    """Issue 14's W4 rows at full size (Fashion-MNIST), one run each side: relustab's rate / PyTorch's,
    the residuals and the peak memory."""
    size = "W4 full size" if n >= 12000 else "W4 on a Fashion-MNIST subset (a check, not the issue's size)"
    name = f"{size} (n = {n:,} Fashion-MNIST images, 1 thread)"
    sharpness_targets = [(f"{name}: sharpness vs PyTorch + eigsh, relustab / peer", ">= 3x (issue 14)"),
                         (f"{name}: sharpness vs PyTorch power iteration, relustab / peer",
                          ">= 1x at 10^6 times smaller residual (issue 14)")]
    if script.why:
        return [(row, "not available (see W4 at full size below)", target) for row, target in sharpness_targets]
    run = script.data["relustab"]["runs"][0]
    peer = script.data["torch"]
    ours = run["sharpness_s"]
    out = []
    for (row, target), key in zip(sharpness_targets, ("eigsh", "power")):
        theirs = peer["sharpness"][key]["seconds"]
        out.append((row, f"{theirs / ours:.2f}x ({ours:.2f} s vs {theirs:.2f} s)", target))
    power = peer["sharpness"]["power"]["residual"]
    converged = "" if run["converged"] else ", relustab NOT converged"
    out.append((f"{name}: residual of power iteration / relustab's",
                f"{power / run['residual']:.2g}x ({run['residual']:.2g} vs {power:.2g}{converged})",
                ">= 10^6 with the row above (issue 14)"))
    for label, key in (("GD step (loss, gradient, update)", "gd_step_s"), ("one Hessian-vector product", "hvp_s")):
        out.append((f"{name}: {label}, relustab / PyTorch", f"{peer[key] / run[key]:.2f}x ({run[key]:.3f} s vs "
                    f"{peer[key]:.3f} s)", ""))
    memory = W4_FULL_MEMORY.search(script.markdown)
    ours_mib = script.data["relustab"].get("peak_rss_mib")
    if memory and ours_mib:
        theirs_mib = float(memory.group(1))
        out.append((f"{name}: peak resident memory, PyTorch / relustab",
                    f"{theirs_mib / ours_mib:.2f}x ({ours_mib:.0f} MiB vs {theirs_mib:.0f} MiB)", ""))
    return out


W6_PARALLEL_MODES = ("threads-2", "mpi-2", "mpi-2-unbound")


def w6_ratios(script, baseline, settings=()):
    """Issue 14's W6 rows: the work efficiency CPU_1 / CPU_P of every parallel mode (what the machine's
    load does not hide), and with --w6-baseline the 1-thread speed-up over the older binary."""
    # A sweep changed by --w6-set (e.g. shorter runs for a check) says so in every row.
    changed = "".join(", " + setting for setting in settings)
    if script.why:
        name = f"W6 sweep{' (' + changed[2:] + ')' if changed else ''}"
        out = [(f"{name} work efficiency CPU_1 / CPU_P, {mode}", "not available (see W6 below)",
                ">= 0.9 (issue 14)") for mode in W6_PARALLEL_MODES]
        if baseline:
            out.append((f"{name} runs/s vs baseline (1 thread)", "not available (see W6 below)",
                        "report before/after (issue 14)"))
        return out
    data = script.data
    modes = {result["mode"]: result for result in data["results"]}
    name = f"W6 sweep ({data['runs']:,} runs{changed})"
    out = []
    for mode in W6_PARALLEL_MODES:
        result = modes.get(mode)
        if result is None:
            text = "not available (not run: no mpirun, or not OpenMPI)" if mode.startswith("mpi") else "not run"
        elif result["work_efficiency"] is None:
            text = f"not available (no CPU time; wall efficiency {result['efficiency']:.3f})"
        else:
            busy = f", busy cores {result['cpu_s'] / result['wall_s']:.2f}" if result["wall_s"] else ""
            text = f"{result['work_efficiency']:.3f} (wall efficiency {result['efficiency']:.3f}{busy})"
        out.append((f"{name} work efficiency CPU_1 / CPU_P, {mode}", text, ">= 0.9 (issue 14)"))
    before, after = modes.get("baseline-1"), modes.get("threads-1")
    if before and after:
        runs = data["runs"]
        cpu = (f"; CPU {before['cpu_s'] / after['cpu_s']:.2f}x" if before["cpu_s"] and after["cpu_s"] else "")
        out.append((f"{name} runs/s vs baseline (1 thread)",
                    f"{before['wall_s'] / after['wall_s']:.2f}x ({runs / before['wall_s']:.1f} -> "
                    f"{runs / after['wall_s']:.1f} runs/s{cpu})", "report before/after (issue 14)"))
    elif baseline:
        out.append((f"{name} runs/s vs baseline (1 thread)", "not available (no baseline-1 mode in the output)",
                    "report before/after (issue 14)"))
    return out


def script_sections(w4_full, w6):
    """The two scripts' own tables under their own headings, with the raw JSON they wrote."""
    out = []
    if w4_full:
        lines = w4_full.markdown.strip().splitlines()
        title = lines[0].lstrip("# ") if lines and lines[0].startswith("# ") else "W4 at full size"
        out += ["", f"## {title}", "", f"`{' '.join(w4_full.shown)}` (inside this run; CPU / wall "
                f"{w4_full.cpu:.1f} s / {w4_full.wall:.1f} s)."]
        if w4_full.why:
            out += ["", f"Not available: {w4_full.why}", "", "```", *w4_full.stderr.strip().splitlines()[-20:], "```"]
        else:
            out += lines[1:]
            out += ["", "Raw figures (relustab_w4 --json, then bench/peers/torch_w4_saved.py):", "", "```",
                    json.dumps(w4_full.data["relustab"]), json.dumps(w4_full.data["torch"]), "```"]
    if w6:
        out += ["", "## W6: a sweep on 1 and 2 threads and 2 MPI ranks (bench/w6_sweep.sh)", "",
                f"`{' '.join(w6.shown)}` (inside this run)" + (", its output verbatim:" if w6.stdout.strip() else ".")]
        if w6.stdout.strip():
            out += ["", "```", *w6.stdout.rstrip().splitlines(), "```"]
        if w6.why:
            out += ["", f"Not available: {w6.why}", "", "```", *w6.stderr.strip().splitlines()[-20:], "```"]
        else:
            out += ["", "Raw figures (--json):", "", "```", json.dumps(w6.data), "```"]
    return out


def median(row):
    return statistics.median(row.rates) if row.rates and not row.unavailable and not row.failure else None


def format_rate(value):
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def ratios(rows, backends):
    by_key = {row.key: row for row in rows}

    def value(key):
        row = by_key.get(key)
        return median(row) if row else None

    out = []

    def add(name, numerator, denominator, target=""):
        top, bottom = value(numerator), value(denominator)
        text = f"{top / bottom:,.2f}x" if top is not None and bottom else "not available"
        out.append((name, text, target))

    for index, backend in enumerate(backends):
        primary = index == 0  # the targets are for the first (fast) back end
        add(f"W1 relustab {backend} / naive float64", f"relustab-{backend}-W1", "naive-W1", ">= 2x (issue 5)" if primary else "")
        add(f"W1 relustab {backend} / PyTorch eager", f"relustab-{backend}-W1", "torch-eager-W1")
        add(f"W1 relustab {backend} (1 net) / JAX B=64 float64", f"relustab-{backend}-W1", "jax-W1-float64")
        add(f"W2 relustab {backend} / naive float64", f"relustab-{backend}-W2", "naive-W2", ">= 50x (issue 5)" if primary else "")
        add(f"W2 relustab {backend} / PyTorch eager", f"relustab-{backend}-W2", "torch-eager-W2")
        add(f"W3 relustab {backend} / PyTorch full Hessian + eigvalsh", f"relustab-{backend}-W3", "torch-hessian-W3",
            ">= 1000x (issue 5)" if primary else "")
        add(f"W3 relustab {backend} / PyTorch power iteration", f"relustab-{backend}-W3", "torch-power-W3")
    for index, backend in enumerate(backends):
        for key, implementation, _ in CURVATURE_PEERS:
            add(f"W3 relustab {backend} / {implementation}", f"relustab-{backend}-W3", f"curv-{key}-W3")
    for key, implementation, _ in CURVATURE_PEERS:
        if f"curv-{key}-W4" in by_key:
            add(f"W4 relustab cpu / {implementation}", "relustab-cpu-W4", f"curv-{key}-W4",
                W4_TARGETS.get(key, ""))
    # Issue 14's trace and density rows (same probes on both sides: equal accuracy).
    for workload, relustab_backends in (("W3", backends), ("W4", ["cpu"])):
        for estimate in ("trace", "density"):
            probes = (f"{TRACE_PROBES[workload]} probes" if estimate == "trace" else
                      "{} probes x {} steps".format(*DENSITY_PROBES_STEPS[workload]))
            for index, backend in enumerate(relustab_backends):
                for key, kind, implementation, _ in SPECTRUM_PEERS:
                    if kind != estimate or f"spec-{key}-{workload}" not in by_key:
                        continue
                    peer = implementation.split(" ", 1)[0]
                    add(f"{workload} {estimate} ({probes}) relustab {backend} / {peer}",
                        f"relustab-{backend}-{workload}-{estimate}", f"spec-{key}-{workload}",
                        "(issue 14)" if index == 0 else "")
    add("W1 relustab batched, 1 thread / naive float64", "relustab-batched-1", "naive-W1", ">= 6x (issue 14)")
    add("W1 relustab batched, 1 thread / PyTorch batched B=64", "relustab-batched-1", "torch-batched-W1")
    add("W1 relustab batched, 1 thread / JAX B=64 float64", "relustab-batched-1", "jax-W1-float64",
        ">= 3x (issue 14)")
    add("W1 relustab batched, 1 thread / JAX B=64 float32", "relustab-batched-1", "jax-W1-float32")
    add("W1 relustab batched, 2 threads / 1 thread", "relustab-batched-2", "relustab-batched-1", ">= 1.8x (issue 5)")
    add("W1 relustab lanes B=64 float64 / naive float64", "relustab-W1-lanes", "naive-W1", ">= 6x (issue 14)")
    add("W1 relustab lanes B=64 float64 / JAX B=64 float64", "relustab-W1-lanes", "jax-W1-float64", ">= 3x (issue 14)")
    add("W1 relustab lanes B=64 float32 / JAX B=64 float32", "relustab-W1-lanes-f32", "jax-W1-float32",
        ">= 2x (issue 14)")
    add("W1 relustab lanes B=64 float32 / naive float32", "relustab-W1-lanes-f32", "naive-W1-f32")
    add("W1 relustab lanes B=64 float64 / relustab batched (train_batch), 1 thread", "relustab-W1-lanes",
        "relustab-batched-1")
    return out


def machine_info(args):
    model = "unknown"
    code, out, _ = run_command(["lscpu"], 60)
    for line in out.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": model,
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
    }
    code, out, _ = run_command([shutil.which(args.cxx) or args.cxx, "--version"], 60)
    info["compiler"] = out.splitlines()[0] if code == 0 and out else "not available"
    code, out, _ = run_command(["git", "rev-parse", "--short", "HEAD"], 60)
    if code == 0:
        _, status, _ = run_command(["git", "status", "--porcelain", "--untracked-files=no"], 60)
        info["relustab commit"] = out.strip() + (" (with uncommitted changes)" if status.strip() else "")
    info["peers"] = peer_info(args.torch_python)
    info["jax_peers"] = info["peers"] if args.jax_python == args.torch_python else peer_info(args.jax_python)
    peers = info["peers"]
    info["torch"] = peers.get("torch") or "not available"
    info["jax"] = info["jax_peers"].get("jax") or "not available"
    return info


def load_average():
    """/proc/loadavg's 1, 5, 15 minute averages and running/total tasks, or getloadavg()."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:4])
    except OSError:
        try:
            return " ".join(f"{x:.2f}" for x in os.getloadavg())
        except OSError:
            return "unknown"


def peer_lines(info, args):
    """The header's account of the peers: interpreter, versions, each one's BLAS and threads."""
    peers, jax_peers = info["peers"], info["jax_peers"]
    if not peers:
        return [f"- Peers' interpreter {args.torch_python}: not available (run scripts/bench_setup.sh)."]
    shown = Path(args.torch_python)
    if shown.is_absolute() and ROOT in shown.parents:
        shown = shown.relative_to(ROOT)  # no machine-specific path in a committed table
    lines = [f"- Peers' interpreter: `{shown}` (Python {peers.get('python')}; .venv-bench is made "
             f"from PyPI only by scripts/bench_setup.sh), environment "
             + ", ".join(f"{k}={v}" for k, v in ONE_THREAD_ENV.items() if k != "XLA_FLAGS")
             + f"; OPENBLAS_CORETYPE {peers.get('env', {}).get('OPENBLAS_CORETYPE') or 'unset'}."]
    tb = peers.get("torch_blas")
    if peers.get("torch") and tb:
        lines.append(f"- torch {peers['torch']} (PyPI wheel{', CUDA ' + tb['cuda_build'] + ' build, run on the CPU' if tb.get('cuda_build') else ''}): "
                     f"BLAS_INFO={tb.get('BLAS_INFO')}, LAPACK_INFO={tb.get('LAPACK_INFO')} "
                     f"(MKL {tb.get('mkl') or 'not found'}; torch.backends.mkl {tb.get('mkl_available')}, "
                     f"mkldnn {tb.get('mkldnn_available')}), CPU capability {tb.get('cpu_capability')}, "
                     f"intra-op threads {tb.get('intra_op_threads')} (every torch peer calls torch.set_num_threads(1)).")
    for pool in peers.get("blas", []):
        if pool.get("user_api") != "blas":
            continue
        owner = "numpy" if "numpy" in (pool.get("filepath") or "") else "scipy" if "scipy" in (
            pool.get("filepath") or "") else Path(pool.get("filepath") or "?").name
        lines.append(f"- {owner} {peers.get(owner, '')}: BLAS {pool.get('internal_api')} {pool.get('version')} "
                     f"({pool.get('prefix')}, {pool.get('threading_layer')}, kernel {pool.get('architecture')}), "
                     f"{pool.get('num_threads')} thread(s) (threadpoolctl {peers.get('threadpoolctl')}).")
    if jax_peers.get("jax"):
        lines.append(f"- jax {jax_peers['jax']}, jaxlib {jax_peers.get('jaxlib')} (CPU, devices "
                     f"{', '.join(jax_peers.get('jax_devices') or [])}; XLA compiles its own CPU kernels, no BLAS library; one "
                     f"thread: "
                     f"XLA_FLAGS={ONE_THREAD_ENV['XLA_FLAGS']}).")
    lines.append("- curvature libraries: " + ", ".join(
        f"{name} {peers.get(name) or 'not available'}"
        for name in ("curvlinops-for-pytorch", "pyhessian", "hessian-eigenthings")) + " (they compute with torch).")
    return lines


ACCURACY = re.compile(r"(hvps|lambda|rel_err|residual|rel_residual)=(\S+)")


RELUSTAB_ACCURACY = re.compile(r"(?:lambda_max|lambda)=([-0-9.e+]+), residual ([-0-9.e+]+)")
RELUSTAB_HVPS = re.compile(r"([0-9]+) HVPs")


def accuracy_lines(rows, backends):
    """W3 and W4 at equal accuracy: relustab's rows and every curvature peer's, with the value, its
    error against relustab's and the residual of the peer's own vector."""
    out = []
    for workload in ("W3", "W4"):
        ref_key = f"relustab-{backends[0]}-W3" if workload == "W3" else "relustab-cpu-W4"
        reference = next((r for r in rows if r.key == ref_key and median(r)), None)
        peers = [r for r in rows if r.workload == workload and r.key.startswith("curv-") and median(r)]
        if not peers:
            continue
        ref_rate = median(reference) if reference else None
        how = ("the exact dense Hessian (torch autograd)" if workload == "W3" else
               "torch's double-backward Hessian-vector product")
        out += ["", f"{workload} accuracy (last round): every peer on relustab's own {workload} net and data, loss "
                "1/(2n) sum r^2 (curvlinops' nn.MSELoss operator scaled by 0.5); rel. error = |lambda - relustab's| / "
                f"relustab's; residual = ||H v - lambda v|| of the peer's own normalised vector, with {how}. "
                f"The peers with a tolerance run at 1e-9 (relustab: relative residual <= 1e-9). The ratio is "
                f"{ref_key.replace('-' + workload, '').replace('-', ' ')}'s rate / the peer's rate.", "",
                "| implementation | evals/s | s / eval | HVPs per eval | lambda | rel. error | residual | "
                "rel. residual | relustab / peer |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in ([reference] if reference else []) + peers:
            if row is reference:
                found = RELUSTAB_ACCURACY.search(row.detail)
                hvps = RELUSTAB_HVPS.search(row.detail)
                value, residual = (float(found.group(1)), float(found.group(2))) if found else (None, None)
                fields = {"hvps": hvps.group(1) if hvps else "-",
                          "lambda": f"{value:.12g}" if value else "-", "rel_err": "0 (reference)",
                          "residual": f"{residual:.2e}" if residual is not None else "-",
                          "rel_residual": f"{residual / abs(value):.2e}" if value else "-"}
            else:
                fields = dict(ACCURACY.findall(row.detail))
            ratio = f"{ref_rate / median(row):,.1f}x" if ref_rate else "-"
            out.append(f"| {row.implementation} | {format_rate(median(row))} | {1 / median(row):.3g} | "
                       f"{fields.get('hvps', '-')} | {fields.get('lambda', '-')} | {fields.get('rel_err', '-')} | "
                       f"{fields.get('residual', '-')} | {fields.get('rel_residual', '-')} | {ratio} |")
    return out


EXACT_FIELDS = re.compile(r"(?<![\w])(params|trace|frobenius2|trace_se|mean_se|second_se)=([^\s)]+)")
ESTIMATE_FIELDS = re.compile(r"(?<![\w])(hvps|probes|steps|trace|stderr|mass|mean|second_moment)=([^\s)]+)")


def spectrum_accuracy_lines(rows, backends):
    """Issue 14's trace and density rows at equal accuracy: each estimate against the exact value, its
    error in units of Hutchinson's standard error for the probes every implementation got (z), and
    relustab's rate over each peer's."""
    out = []

    def number(fields, key):
        try:
            return float(fields[key])
        except (KeyError, ValueError):
            return float("nan")

    def cell(value, digits=".6g"):
        return "-" if value != value else format(value, digits)  # NaN: not given

    for workload in ("W3", "W4"):
        ref_key = f"relustab-{backends[0]}" if workload == "W3" else "relustab-cpu"
        for estimate in ("trace", "density"):
            name = f"{workload}-{estimate}"
            members = [r for r in rows if r.workload == name and median(r)]
            exact_line = next((r.extra_line for r in rows if r.workload == name and r.extra_line), "")
            if not members or not exact_line:
                continue
            exact = {k: float(v) for k, v in EXACT_FIELDS.findall(exact_line)}
            P = exact.get("params", float("nan"))
            reference = next((r for r in members if r.key == f"{ref_key}-{name}"), None)
            ref_rate = median(reference) if reference else None
            how = exact_line.rsplit("(", 1)[-1].rstrip(")")
            if estimate == "trace":
                out += ["", f"{name} at equal accuracy (last round): {TRACE_PROBES[workload]} Rademacher probes each; "
                        f"exact trace {exact.get('trace', float('nan')):.10g} ({how}); Hutchinson's standard error "
                        f"for {TRACE_PROBES[workload]} probes sqrt(2 sum_(i != j) H_ij^2 / N) = "
                        f"{exact.get('trace_se', float('nan')):.4g}; z = (estimate - exact) / that error. "
                        "Standard error: the implementation's own (its probes' spread), where it gives one.", "",
                        "| implementation | evals/s | s / eval | HVPs per eval | trace | its std. error | rel. error | z "
                        "| relustab / peer |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
            else:
                probes, steps = DENSITY_PROBES_STEPS[workload]
                out += ["", f"{name} at equal accuracy (last round): {probes} probes x {steps} Lanczos steps each; the "
                        f"density's mass (1), mean (exact trace / P = {exact.get('trace', 0) / P:.6g}) and second "
                        f"moment (exact ||H||_F^2 / P = {exact.get('frobenius2', 0) / P:.6g}), P = {P:.0f} ({how}); "
                        f"z = error / Hutchinson's standard error of that moment for {probes} probes (the "
                        "quadrature of each probe reproduces v^T H v and v^T H^2 v).", "",
                        "| implementation | evals/s | s / eval | HVPs per eval | mass | mean | rel. error | z | "
                        "second moment | rel. error | z | relustab / peer |",
                        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            ours = [r for r in members if r.key.startswith("relustab")]
            order = ([reference] if reference else []) + [r for r in ours if r is not reference] + [
                r for r in members if not r.key.startswith("relustab")]
            for row in order:
                fields = dict(ESTIMATE_FIELDS.findall(row.detail))
                ratio = ("reference" if row is reference else "-" if row.key.startswith("relustab") else
                         f"{ref_rate / median(row):,.1f}x" if ref_rate else "-")
                head = (f"| {row.implementation} | {format_rate(median(row))} | {1 / median(row):.3g} | "
                        f"{fields.get('hvps', '-')} | ")
                if estimate == "trace":
                    value = number(fields, "trace")
                    error = value - exact.get("trace", float("nan"))
                    out.append(head + f"{cell(value, '.10g')} | {cell(number(fields, 'stderr'), '.4g')} | "
                               f"{abs(error) / abs(exact['trace']):.2e} | {error / exact['trace_se']:.2f} | {ratio} |")
                else:
                    mass, mean, second = (number(fields, k) for k in ("mass", "mean", "second_moment"))
                    mean_error = mean - exact["trace"] / P
                    second_error = second - exact["frobenius2"] / P
                    second_z = second_error / exact.get("second_se", float("nan"))
                    out.append(head + f"{mass:.6g} | {mean:.6g} | {abs(mean_error) / abs(exact['trace'] / P):.2e} | "
                               f"{mean_error / exact['mean_se']:.2f} | {second:.6g} | "
                               f"{abs(second_error) / (exact['frobenius2'] / P):.2e} | {cell(second_z, '.2f')} | "
                               f"{ratio} |")
    return out


def render(rows, ratio_rows, info, repeat, load_before, load_after, args, sections=()):
    lines = ["# relustab beside its peers (fair peers: every peer from PyPI, in .venv-bench)", ""]
    lines.append(f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores ({info['os']}); "
                 f"{info['compiler']}; torch {info['torch']}; jax {info['jax']}; "
                 f"relustab {info.get('relustab commit', 'unknown')}.")
    scripts = [name for name, wanted in (("W4 at full size", args.w4_full), ("W6", args.w6)) if wanted]
    lines.append(f"Every figure is the median of {repeat} run(s), interleaved round by round"
                 + (f" ({' and '.join(scripts)}: see their sections below, run after the rounds)" if scripts else "")
                 + "; one thread unless the "
                 f"threads column says otherwise (XLA and torch limited to one thread). /proc/loadavg before "
                 f"the first measurement {load_before}, after the last {load_after}: the machine is shared, so "
                 f"read ratios, not absolute rates. "
                 f"The CPU / wall column is the CPU time (user + system) of the measured process over its wall "
                 f"time, all rounds (a process shared by several rows, such as a peer script that prints two "
                 f"rates, is counted in each; peers' processes include their imports): below 1 the process "
                 f"waited for a core.")
    lines += [""] + peer_lines(info, args)
    busy = max(float(x) for x in load_before.split()[:3] + load_after.split()[:3]
               if x.replace(".", "", 1).isdigit()) if load_before != "unknown" and load_after != "unknown" else 0.0
    cores = int(info["cores"]) if info["cores"].isdigit() else 0
    if cores and busy > cores:
        lines.append("")
        lines.append(f"**Warning:** the load average ({busy:.1f}) exceeded the {cores} cores during this run: every "
                     f"rate got a fraction of a core, and the 2-thread / 1-thread ratio cannot show scaling.")
    lines += ["", "| workload | implementation | precision | threads | rate (median) | unit | min - max | "
                  "CPU / wall |", "|---|---|---|---:|---:|---|---|---|"]
    for row in rows:
        if row.unavailable:
            rate, spread = f"not available ({row.unavailable})", ""
        elif row.failure:
            rate, spread = f"failed ({row.failure})", ""
        else:
            rate = format_rate(median(row))
            spread = f"{format_rate(min(row.rates))} - {format_rate(max(row.rates))}"
        busy_text = f"{row.cpu / row.wall:.2f} ({row.cpu:.1f} s / {row.wall:.1f} s)" if row.wall > 0 else ""
        lines.append(f"| {row.workload} | {row.implementation} | {row.precision} | {row.threads} | {rate} | "
                     f"{row.unit} | {spread} | {busy_text} |")
    lines += ["", "| ratio | value | target |", "|---|---:|---|"]
    for name, text, target in ratio_rows:
        lines.append(f"| {name} | {text} | {target} |")
    lines += accuracy_lines(rows, args.backends)
    lines += spectrum_accuracy_lines(rows, args.backends)
    w3 = [row.detail for row in rows if row.workload.startswith(("W3", "W4")) and row.key.startswith("relustab")
          and row.detail]
    if w3:
        lines += ["", "relustab's W3 and W4 lines of the last round (its rate or time, and the value and residual of "
                  "its last evaluation):", ""]
        lines += [f"    {detail}" for detail in w3]
    lines += ["", "Workloads (bench/README.md): W1 n = 30 samples of sin(3x) + 0.3 N(0,1) on [-1, 1], width 100, "
              "0.5 MSE, full-batch GD at eta 0.05 (batched: 64 nets, etas logspace(-3, 0)); W2 the same with "
              "n = k = 1024; W3 sharpness of the W1 net at its random initialisation (relustab asserts relative "
              "residual <= 1e-9); W4 sharpness of relustab_w4's net (d = 784, width 1000, n = 1000 random inputs "
              "in [0,1)^784, labels +-1, 786,001 parameters; Lanczos at tol 1e-9); W3-trace, W4-trace: Hutchinson's "
              "trace of the same Hessians, W3-density, W4-density: their spectral density by stochastic Lanczos "
              "quadrature, every implementation with the same probes (and steps). Command: `" + " ".join(["bench/compare.sh", *sys.argv[1:]]) + "`."]
    lines += list(sections) + [""]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(prog="bench/compare.sh", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported (3)")
    parser.add_argument("--backends", default="univariate,cpu",
                        help="relustab back ends to time, comma-separated; the first gets the targets "
                             "(default univariate,cpu; a name not compiled in is reported as not available)")
    parser.add_argument("--build-dir", default="build/bench-release", help="CMake build directory")
    parser.add_argument("--no-build", action="store_true", help="use the binaries already built")
    parser.add_argument("--jobs", type=int, default=2, help="build parallelism (2)")
    parser.add_argument("--cmake-arg", action="append", default=[], help="extra CMake configure argument")
    parser.add_argument("--cxx", default="g++", help="compiler of the naive loop (g++)")
    bench_python = str(ROOT / ".venv-bench" / "bin" / "python")
    parser.add_argument("--torch-python", default=bench_python,
                        help="interpreter of the torch and curvature peers (default .venv-bench/bin/python, "
                             "from scripts/bench_setup.sh)")
    parser.add_argument("--jax-python", default=bench_python,
                        help="interpreter of the JAX peer (default .venv-bench/bin/python)")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds per relustab timing (1.0)")
    parser.add_argument("--quick", action="store_true", help="short runs, for checking the script itself")
    parser.add_argument("--no-w4", action="store_true",
                        help="skip W4 (relustab_w4 and the curvature peers on its 786,001-parameter net: "
                             "about 30 to 70 s a round on 2 busy cores, and about 40 s more for its trace and "
                             "density rows)")
    parser.add_argument("--w4-full", action="store_true",
                        help="also run bench/w4_full.sh (W4 at full size: 12,000 Fashion-MNIST images, relustab "
                             "beside PyTorch + eigsh and power iteration, peak memory; about 2 to 3 minutes) on "
                             "this build's relustab_w4 and the torch interpreter, after the rounds, and fold its "
                             "ratios and its table into this one")
    parser.add_argument("--w4-full-n", type=int, default=12000,
                        help="images of --w4-full (12000, the two classes in full; fewer only to check the script)")
    parser.add_argument("--w6", action="store_true",
                        help="also run bench/w6_sweep.sh --json (W6: a 1,000-run sweep on 1 and 2 threads and 2 MPI "
                             "ranks; about 1 to 4 minutes a round) after the rounds, and fold its work efficiencies "
                             "and its output into this table")
    parser.add_argument("--w6-relustab", metavar="BIN",
                        help="the relustab command line W6 times (default: the build directory's, built with "
                             "--w6 unless --no-build, else w6_sweep.sh's own default build/release/relustab)")
    parser.add_argument("--w6-baseline", metavar="BIN",
                        help="an older relustab binary W6 also times on 1 thread (w6_sweep.sh --baseline): the "
                             "row 'runs/s vs baseline'")
    parser.add_argument("--w6-repeat", type=int, metavar="N",
                        help="W6 rounds, interleaved; the median is reported (default: --repeat)")
    parser.add_argument("--w6-set", action="append", default=[], metavar="KEY=VALUE",
                        help="passed to every W6 sweep as --set (e.g. optim.max_steps=1000 for a quick check)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.md"),
                        help="also write the table here (bench/results/latest.md)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat: expected an integer >= 1")
    args.backends = [name for name in args.backends.split(",") if name]
    if args.w4_full_n < 1:
        parser.error("--w4-full-n: expected an integer >= 1")
    if args.w6_repeat is None:
        args.w6_repeat = args.repeat
    if args.w6_repeat < 1:
        parser.error("--w6-repeat: expected an integer >= 1")
    for setting in args.w6_set:
        if "=" not in setting or setting.startswith("="):
            parser.error(f"--w6-set: expected KEY=VALUE, got '{setting}'")
    for option, binary in (("--w6-relustab", args.w6_relustab), ("--w6-baseline", args.w6_baseline)):
        if binary and not (Path(binary).is_file() and os.access(binary, os.X_OK)):
            parser.error(f"{option}: expected an executable relustab binary, got '{binary}'")
    w6_options = [o for o, given in (("--w6-relustab", args.w6_relustab), ("--w6-baseline", args.w6_baseline),
                                     ("--w6-set", args.w6_set)) if given]
    if w6_options and not args.w6:
        parser.error(f"{', '.join(w6_options)}: expected with --w6")
    if args.quick:
        args.min_time = min(args.min_time, 0.2)

    workloads, naive, naive_why = build(args)
    rows = measurements(args, workloads, naive, naive_why)
    load_before = load_average()
    run_rounds(rows, args.repeat)
    ratio_rows = ratios(rows, args.backends)
    w4_full = w6 = None
    with tempfile.TemporaryDirectory(prefix="relustab-compare-") as work:
        if args.w4_full:
            w4_full = run_w4_full(args, Path(work))
            ratio_rows += w4_full_ratios(w4_full, args.w4_full_n)
        if args.w6:
            w6 = run_w6(args, Path(work))
            ratio_rows += w6_ratios(w6, args.w6_baseline, args.w6_set)
    load_after = load_average()
    table = render(rows, ratio_rows, machine_info(args), args.repeat, load_before, load_after, args,
                   script_sections(w4_full, w6))
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Earlier tables kept in the file under "## History" stay there, below the new one.
    history = ""
    if out.exists():
        old = out.read_text()
        at = old.find("\n## History")
        history = old[at:] if at >= 0 else ""
    out.write_text(table + "\n" + history)
    print(f"compare: table written to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
