# SPDX-License-Identifier: MIT
"""The spectral density figure (python/figures/spectral_density.py) against a dense eigendecomposition
made here: the Hessian by central finite differences of the loss gradient (written out in numpy in this
file, independently of the figure's closed-form Hessian and of relustab), numpy.linalg.eigvalsh; ReLU
nets with d = 1 and d = 3, and a GeLU net.

Checked: the exact eigenvalues the figure draws; the first moments of the density it draws (mass 1,
mean trace / P, second moment ||H||_F^2 / P, the broadened curve's second moment larger by the
broadening's variance); for relustab's stochastic Lanczos quadrature (through the binary) the moments
within 5 standard errors of Hutchinson's estimator with the same number of Rademacher probes, since
each probe's Gauss quadrature reproduces v^T H v and v^T H^2 v exactly."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from figures import spectral_density as module
from figures.results import Results
from test_plot import assert_valid_figure_files

SCRIPT = Path(module.__file__)
FD_STEP = 1e-5
# Central differences of a gradient that is a cubic polynomial of the parameters between kinks: error
# O(h^2) times the third derivatives plus rounding 1e-16 / h, both far below this (relative to ||H||).
FD_TOLERANCE = 1e-7
STANDARD_ERRORS = 5.0  # a correct estimate falls outside 5 standard errors with probability < 1e-6
PROBES = 400  # Hutchinson's error shrinks as 1/sqrt(PROBES): enough for bands narrow against the values
STEPS = 10


def make_problem(directory: Path, d: int, n: int, width: int, seed: int,
                 activation: str = "relu") -> tuple[Path, Path, dict]:
    """A random one-hidden-layer net (relustab-net JSON) and data y = sum(sin 2x) + noise (CSV)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, d))
    y = np.sin(2.0 * X).sum(axis=1) + 0.3 * rng.standard_normal(n)
    net = {
        "format": "relustab-net", "version": 1, "input_dim": d, "width": width, "activation": activation,
        "W1": rng.uniform(-1.0, 1.0, size=(width, d)).tolist(),
        "b1": rng.uniform(-1.0, 1.0, size=width).tolist(),
        "w2": (rng.uniform(-1.0, 1.0, size=width) / math.sqrt(width)).tolist(),
        "b2": 0.1,
    }
    net_path = directory / f"net-d{d}.json"
    net_path.write_text(json.dumps(net))
    data_path = directory / f"data-d{d}.csv"
    header = "x" if d == 1 else ",".join(f"x{c + 1}" for c in range(d))
    rows = [",".join(repr(float(v)) for v in [*X[i], y[i]]) for i in range(n)]
    data_path.write_text(header + ",y\n" + "\n".join(rows) + "\n")
    arrays = {k: np.asarray(net[k], dtype=float) for k in ("W1", "b1", "w2")}
    return net_path, data_path, {"X": X, "y": y, **arrays, "b2": net["b2"], "activation": activation}


def gradient(theta: np.ndarray, X: np.ndarray, y: np.ndarray, width: int, activation: str) -> np.ndarray:
    """The gradient of L = 1/(2n) sum (f(x_i) - y_i)^2 for theta = (W1 row-major, b1, w2, b2);
    ReLU with relu'(0) = 0, or GeLU z Phi(z)."""
    n, d = X.shape
    W1 = theta[: width * d].reshape(width, d)
    b1 = theta[width * d: width * d + width]
    w2 = theta[width * d + width: width * d + 2 * width]
    b2 = theta[-1]
    z = X @ W1.T + b1
    if activation == "relu":
        slope = (z > 0).astype(float)
        act = z * slope
    else:
        cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
        act, slope = z * cdf, cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    r = act @ w2 + b2 - y
    back = (r[:, None] * slope) * w2                 # dL/dz times n
    return np.concatenate([(back.T @ X).reshape(-1), back.sum(axis=0), act.T @ r, [r.sum()]]) / n


def finite_difference_hessian(problem: dict) -> np.ndarray:
    theta = np.concatenate([problem["W1"].reshape(-1), problem["b1"], problem["w2"], [problem["b2"]]])
    width = problem["b1"].size
    X, y, activation = problem["X"], problem["y"], problem["activation"]
    # No pre-activation may be within reach of a kink (a step moves it by at most FD_STEP (|x|_1 + 1)),
    # where the difference quotient would straddle it.
    reach = FD_STEP * (np.max(np.abs(X).sum(axis=1)) + 1.0)
    assert activation != "relu" or np.min(np.abs(X @ problem["W1"].T + problem["b1"])) > 10 * reach
    H = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = FD_STEP
        H[:, i] = (gradient(theta + step, X, y, width, activation)
                   - gradient(theta - step, X, y, width, activation)) / (2 * FD_STEP)
    return 0.5 * (H + H.T)


def hutchinson_standard_error(A: np.ndarray, probes: int) -> float:
    """Standard error of the mean of z^T A z / P over `probes` Rademacher vectors z: each has variance
    2 sum_{i != j} A_ij^2 / P^2."""
    off = A - np.diag(np.diag(A))
    return math.sqrt(2.0 * np.sum(off * off) / probes) / A.shape[0]


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True)


def read_record(out: Path) -> dict:
    return assert_valid_figure_files(out / "figures", module.FIGURE_NAME)


@pytest.mark.parametrize("d, n, width, seed, activation",
                         [(1, 30, 15, 3, "relu"), (3, 25, 6, 4, "relu"), (2, 20, 6, 5, "gelu")])
def test_density_moments_against_dense_eigenvalues(tmp_path, relustab_bin, d, n, width, seed, activation):
    net_path, data_path, problem = make_problem(tmp_path, d, n, width, seed, activation)
    out = tmp_path / "figure"
    done = run_script("--net", str(net_path), "--data", str(data_path), "--probes", str(PROBES),
                      "--steps", str(STEPS), "--relustab", relustab_bin, "--out", str(out))
    assert done.returncode == 0, done.stderr
    record = read_record(out)
    summary, series = record["summary"], record["series"]

    H = finite_difference_hessian(problem)
    P = H.shape[0]
    exact = np.linalg.eigvalsh(H)
    scale = np.max(np.abs(exact))
    # The exact eigenvalues drawn are those of the dense Hessian.
    drawn = np.asarray(series["eigenvalues"])
    assert drawn.size == P == summary["parameters P"]
    assert np.max(np.abs(np.sort(drawn) - exact)) <= FD_TOLERANCE * scale
    trace_over_p = np.trace(H) / P
    frobenius_over_p = np.sum(H * H) / P
    assert summary["exact trace / P"] == pytest.approx(trace_over_p, abs=FD_TOLERANCE * scale)
    assert summary["exact ||H||_F^2 / P"] == pytest.approx(frobenius_over_p, rel=FD_TOLERANCE * 10)

    # relustab's SLQ measure: a probability measure whose moments estimate trace / P and ||H||_F^2 / P
    # with Hutchinson's error for the same probes.
    nodes, weights = np.asarray(series["nodes"]), np.asarray(series["weights"])
    assert summary["probes"] == PROBES and summary["steps"] == STEPS and nodes.size <= PROBES * STEPS
    assert np.all(weights >= 0)
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    first_error = hutchinson_standard_error(H, PROBES)
    second_error = hutchinson_standard_error(H @ H, PROBES)
    # The test has teeth: the bands are narrow against the values they check.
    assert STANDARD_ERRORS * first_error < 0.5 * abs(trace_over_p)
    assert STANDARD_ERRORS * second_error < 0.5 * frobenius_over_p
    mean, second = weights @ nodes, weights @ nodes**2
    assert abs(mean - trace_over_p) <= STANDARD_ERRORS * first_error
    assert abs(second - frobenius_over_p) <= STANDARD_ERRORS * second_error
    assert summary["SLQ mean"] == pytest.approx(mean, rel=1e-12)
    assert summary["SLQ second_moment"] == pytest.approx(second, rel=1e-12)

    # With P steps each probe's Krylov space is all of (or an invariant part of) the parameter space: its
    # Ritz values are exact eigenvalues, whatever the probe. A deterministic check of the nodes that the
    # moments' statistical bands could not make (a 10% error of every node hides in 5 standard errors).
    full = tmp_path / "full"
    done = run_script("--net", str(net_path), "--data", str(data_path), "--probes", "3", "--steps", str(P),
                      "--relustab", relustab_bin, "--out", str(full))
    assert done.returncode == 0, done.stderr
    full_series = read_record(full)["series"]
    full_nodes, full_weights = np.asarray(full_series["nodes"]), np.asarray(full_series["weights"])
    distance = np.min(np.abs(full_nodes[:, None] - exact[None, :]), axis=1)
    assert np.max(distance) <= 10 * FD_TOLERANCE * scale
    assert full_weights.sum() == pytest.approx(1.0, abs=1e-12)

    # The drawn curve (Gaussian broadening) keeps mass and mean and adds sigma^2 to the second moment.
    grid, curve = np.asarray(series["grid"]), np.asarray(series["density_slq"])
    sigma = summary["bandwidth (sigma)"]
    trapezoid = lambda values: float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(grid)))  # noqa: E731
    assert trapezoid(curve) == pytest.approx(1.0, abs=1e-6)
    assert trapezoid(grid * curve) == pytest.approx(mean, abs=1e-6 * scale)
    assert trapezoid(grid**2 * curve) == pytest.approx(second + sigma**2, abs=1e-6 * scale**2)
    # The same broadening of the exact eigenvalues: mass 1, mean trace / P, ||H||_F^2 / P + sigma^2.
    exact_curve = np.asarray(series["density_exact"])
    assert trapezoid(exact_curve) == pytest.approx(1.0, abs=1e-6)
    assert trapezoid(grid * exact_curve) == pytest.approx(trace_over_p, abs=1e-6 * scale)
    assert trapezoid(grid**2 * exact_curve) == pytest.approx(frobenius_over_p + sigma**2, abs=1e-6 * scale**2)


def test_given_analysis_with_the_exact_measure_has_the_exact_moments(tmp_path):
    """An analysis whose 'density' is the exact eigenvalue distribution (nodes = eigenvalues, weights 1/P),
    as `relustab analyze --json` would write it: the figure's moments are the exact ones and its distance
    to the exact distribution is 0 (no binary needed)."""
    net_path, data_path, problem = make_problem(tmp_path, 2, 20, 5, 7)
    H = finite_difference_hessian(problem)
    exact = np.linalg.eigvalsh(H)
    P = exact.size
    analysis = tmp_path / "analysis.json"
    analysis.write_text(json.dumps({"loss_function": "half_mse", "spectral_density": {
        "nodes": exact.tolist(), "weights": [1.0 / P] * P, "probe_steps": [P], "probes": 1, "steps": P}}))
    out = tmp_path / "figure"
    done = run_script("--analysis", str(analysis), "--net", str(net_path), "--data", str(data_path),
                      "--linear-y", "--out", str(out))
    assert done.returncode == 0, done.stderr
    summary = read_record(out)["summary"]
    scale = np.max(np.abs(exact))
    assert summary["SLQ mass"] == pytest.approx(1.0, abs=1e-12)
    assert summary["SLQ mean"] == pytest.approx(np.trace(H) / P, abs=FD_TOLERANCE * scale)
    assert summary["SLQ second_moment"] == pytest.approx(np.sum(H * H) / P, rel=1e-6)
    assert summary["Wasserstein-1 distance SLQ to exact"] <= FD_TOLERANCE * scale
    # Without the net, only the density is drawn.
    done = run_script("--analysis", str(analysis), "--out", str(tmp_path / "alone"))
    assert done.returncode == 0, done.stderr
    assert "parameters P" not in read_record(tmp_path / "alone")["summary"]


def test_bad_input_exits_2_naming_what_was_expected(tmp_path):
    analysis = tmp_path / "analysis.json"
    analysis.write_text(json.dumps({"sharpness": 1.0}))
    done = run_script("--analysis", str(analysis), "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "no spectral_density" in done.stderr
    done = run_script("--net", str(tmp_path / "missing.json"), "--data", str(tmp_path / "d.csv"),
                      "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "missing.json" in done.stderr
    done = run_script("--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "expected --analysis FILE" in done.stderr


def test_a_results_run_is_drawn_from_its_stored_net_and_regenerated_data(tmp_path, relustab_bin):
    """--results DIR --run ID: the run's net (from the database) on its data (regenerated by `relustab
    data` from the run's keys); the exact eigenvalues drawn are those of that net on that data."""
    toml = tmp_path / "tiny.toml"
    toml.write_text('name = "tiny"\n[data]\nn = 12\ntarget = "sin3"\nnoise = 0.2\nseed = 5\n'
                    '[model]\nwidth = 7\n'
                    '[optim]\neta = 0.05\nmax_steps = 100\n[measure]\nsave_net = true\n'
                    '[sweep]\n"optim.eta" = [0.05, 0.1]\n')
    subprocess.run([relustab_bin, "sweep", str(toml), "--out", str(tmp_path / "runs"), "--jobs", "1",
                    "--quiet"], check=True, capture_output=True, text=True)
    out = tmp_path / "figure"
    done = run_script("--results", str(tmp_path / "runs"), "--run", "2", "--probes", "4", "--steps", "22",
                      "--relustab", relustab_bin, "--out", str(out))
    assert done.returncode == 0, done.stderr
    record = read_record(out)
    # The same net and data by hand: the net from the database, the data from `relustab data`.
    with Results(tmp_path / "runs") as results:
        run = next(r for r in results.runs if r.id == 2)
        stored = results.net(run)
    data = tmp_path / "data.csv"
    subprocess.run([relustab_bin, "data", "--n", "12", "--target", "sin3", "--noise", "0.2", "--seed", "5",
                    "--out", str(data)], check=True, capture_output=True, text=True)
    X, y = module.read_data(data)
    net = {"W1": np.asarray(stored["W1"], dtype=float), "b1": np.asarray(stored["b1"], dtype=float),
           "w2": np.asarray(stored["w2"], dtype=float), "b2": float(stored["b2"])}
    problem = {"X": X, "y": y, **net, "activation": "relu"}
    exact = np.linalg.eigvalsh(finite_difference_hessian(problem))
    assert record["summary"]["parameters P"] == exact.size == 22
    drawn = np.sort(record["series"]["eigenvalues"])
    assert np.max(np.abs(drawn - exact)) <= FD_TOLERANCE * np.max(np.abs(exact))
    assert "run 2 of runs" in record["caption"]
    done = run_script("--results", str(tmp_path / "runs"), "--run", "9", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "no run 9" in done.stderr
