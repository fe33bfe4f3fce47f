# SPDX-License-Identifier: MIT
"""The Hessian's spectral density of a net on its data: stochastic Lanczos quadrature (SLQ) against the
exact eigenvalues.

    python python/figures/spectral_density.py --net net.json --data data.csv --out DIR
    python python/figures/spectral_density.py --net net.json --data data.csv --probes 20 --steps 60 --out DIR
    python python/figures/spectral_density.py --analysis analyze.json --net net.json --data data.csv --out DIR
    python python/figures/spectral_density.py --results RUNS --run 3 --out DIR

The density comes from `relustab analyze --json --density-probes N --density-steps M` (the
`spectral_density` object: Ritz values `nodes` with `weights` summing to 1): given with --analysis, or
computed by calling the binary ($RELUSTAB_BIN, else `relustab` on PATH; --relustab) on --net and
--data, or on a finished run of a results directory (--results DIR --run ID: its stored net and its
training data, regenerated as `relustab plot` does, in the run's loss convention).

Panel (a) draws the density the standard way (Ghorbani, Krishnan and Xiao 2019; PyHessian): the nodes
broadened by Gaussians of standard deviation --bandwidth (a fraction of the spectral range), weighted,
on a log y axis (--linear-y for a linear one). Panel (b) draws the cumulative distribution of the
nodes, which needs no broadening. Where the net is small enough (--dense-limit parameters) and --net
and --data are known, the exact eigenvalues are drawn on both panels: the dense Hessian of the loss,
built here in closed form with numpy (one hidden layer, ReLU with relu'(0) = 0 or GeLU, the loss
convention of the analysis), independently of relustab's Hessian-vector products, and
numpy.linalg.eigvalsh; broadened by the same Gaussians (dashed), as ticks under the axis, and as their
distribution (1/P per eigenvalue). The JSON beside the figure has the nodes, weights, eigenvalues and the
first moments of both measures (mass, mean = trace / P, second moment = ||H||_F^2 / P).

Writes DIR/figures/spectral_density.png, .pdf, .json and DIR/index.html. Exit codes: 0 success, 2 bad
input (a missing or malformed file, an analysis without a density, a run without a net), 1 internal
error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from figures.output import (  # noqa: E402
    DEFAULT_STYLE,
    STYLES,
    FigureRecord,
    FigureWriter,
    figure_size,
    setup_style,
    write_index,
)
from figures.results import Relustab, Results, ResultsError  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402  (after figures.output chose the backend)
from matplotlib.ticker import FixedLocator, NullLocator  # noqa: E402

FIGURE_NAME = "spectral_density"
# relustab's DensityOptions defaults, the steps capped at the parameter count.
DEFAULT_PROBES = 10
DEFAULT_STEPS = 30
DEFAULT_SEED = 0x5EED
# Gaussian broadening: standard deviation as a fraction of the spectral range (PyHessian's sigma^2 =
# 1e-5 x range draws each node as a spike; 1% keeps a small net's density readable).
DEFAULT_BANDWIDTH = 0.01
GRID_POINTS = 4001
# The grid reaches this many bandwidths beyond the extreme nodes, so the drawn curve holds all its mass.
GRID_MARGIN_BANDWIDTHS = 6.0
# Panel (b)'s x axis is linear within this fraction of the spectral range around 0, logarithmic outside.
CDF_LINEAR_FRACTION = 1e-3
# A log y axis shows this many decades below the density's peak.
LOG_DECADES = 7
# Dense Hessians up to this many parameters (a P x P matrix and its eigenvalues: a second or two).
DEFAULT_DENSE_LIMIT = 2000
LOSS_SCALE = {"half_mse": 1.0, "mse": 2.0}  # mse = 1/n sum r^2 has twice half-MSE's Hessian
COLOR_SLQ = "tab:blue"
COLOR_EXACT = "black"


class InputProblem(ValueError):
    """Bad input: a file that is missing or malformed, or options that do not fit (exit 2)."""


# ----------------------------------------------------------------------------------------------
# Nets and data as relustab writes them


def read_net(path: str | Path) -> dict[str, Any]:
    """A one-hidden-layer net from relustab-net JSON or .npz (W1, b1, w2, b2, optional activation):
    {"W1": k x d, "b1": k, "w2": k, "b2": float, "activation": "relu" | "gelu"}."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path) as archive:
                raw = {key: archive[key] for key in archive.files}
            activation = str(raw["activation"]) if "activation" in raw else "relu"
        else:
            raw = json.loads(path.read_text())
            if not isinstance(raw, dict) or raw.get("format") != "relustab-net":
                raise InputProblem(
                    f"{path}: expected a relustab-net JSON file (\"format\": \"relustab-net\")")
            activation = raw.get("activation", "relu")
        net = {
            "W1": np.atleast_2d(np.asarray(raw["W1"], dtype=float)),
            "b1": np.asarray(raw["b1"], dtype=float).reshape(-1),
            "w2": np.asarray(raw["w2"], dtype=float).reshape(-1),
            "b2": float(np.asarray(raw["b2"], dtype=float).reshape(-1)[0]),
            "activation": activation,
        }
    except OSError as error:
        raise InputProblem(f"{path}: cannot read the net ({error.strerror or error})") from error
    except (KeyError, ValueError, TypeError, IndexError) as error:
        if isinstance(error, InputProblem):
            raise
        raise InputProblem(
            f"{path}: expected a one-hidden-layer net with W1, b1, w2, b2 ({error})") from error
    k = net["W1"].shape[0]
    if net["b1"].size != k or net["w2"].size != k:
        raise InputProblem(
            f"{path}: W1 has {k} rows but b1 has {net['b1'].size} and w2 {net['w2'].size} values")
    if activation not in ("relu", "gelu"):
        raise InputProblem(f"{path}: activation: expected relu or gelu, got {activation!r}")
    return net


def read_data(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a relustab data CSV: header x,y or x1,..,xd,y (optionally y_clean; a leading '#',
    as numpy.savetxt writes it, is allowed)."""
    path = Path(path)
    try:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except OSError as error:
        raise InputProblem(f"{path}: cannot read the data ({error.strerror or error})") from error
    if not lines:
        raise InputProblem(f"{path}: empty data file")
    header = [h.strip() for h in lines[0].lstrip("#").split(",")]
    inputs = [i for i, h in enumerate(header) if h == "x" or (h.startswith("x") and h[1:].isdigit())]
    if "y" not in header or not inputs:
        raise InputProblem(f"{path}: expected a header x,y or x1,..,xd,y, got {lines[0]!r}")
    try:
        body = np.array([[float(v) for v in line.split(",")] for line in lines[1:]], dtype=float)
    except ValueError as error:
        raise InputProblem(f"{path}: expected numbers below the header ({error})") from error
    if body.ndim != 2 or body.shape[1] != len(header) or body.shape[0] == 0:
        raise InputProblem(f"{path}: expected rows of {len(header)} numbers below the header")
    return body[:, inputs], body[:, header.index("y")]


# ----------------------------------------------------------------------------------------------
# The exact Hessian, independently of relustab


def _activation(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """sigma(z), sigma'(z), sigma''(z). ReLU: relu'(0) = 0 and relu'' = 0 (relustab's convention);
    GeLU: z Phi(z), the exact erf form."""
    if name == "relu":
        active = (z > 0).astype(float)
        return z * active, active, np.zeros_like(z)
    cdf = 0.5 * np.vectorize(math.erfc)(-z / math.sqrt(2.0))
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return z * cdf, cdf + z * pdf, pdf * (2.0 - z * z)


def dense_hessian(net: dict[str, Any], X: np.ndarray, y: np.ndarray, loss: str = "half_mse") -> np.ndarray:
    """The Hessian of the loss (half_mse: 1/(2n) sum r^2; mse: 1/n sum r^2) in relustab's parameter
    order (W1 row-major, b1, w2, b2): H = c/n sum_i (J_i J_i^T + r_i d2f_i), f(x) = w2 . sigma(W1 x + b1)
    + b2, J_i the gradient of f(x_i), c = 1 (half_mse) or 2 (mse)."""
    W1, b1, w2, b2 = net["W1"], net["b1"], net["w2"], net["b2"]
    k, d = W1.shape
    n = X.shape[0]
    if X.shape[1] != d:
        raise InputProblem(f"the data have {X.shape[1]} inputs but the net expects {d}")
    if loss not in LOSS_SCALE:
        raise InputProblem(f"loss: expected one of {', '.join(LOSS_SCALE)}, got {loss!r}")
    z = X @ W1.T + b1                                 # n x k pre-activations
    act, slope, curve = _activation(net["activation"], z)
    r = act @ w2 + b2 - y                             # residuals
    J = np.hstack([
        ((w2 * slope)[:, :, None] * X[:, None, :]).reshape(n, k * d),  # d f / d W1[j, c]
        w2 * slope,                                                     # d f / d b1[j]
        act,                                                            # d f / d w2[j]
        np.ones((n, 1)),                                                # d f / d b2
    ])
    H = J.T @ J
    # r_i times the second derivatives of f(x_i), in the augmented inputs (x, 1) of neuron j:
    # d2f / d(W1_j, b1_j) d w2_j = sigma'(z_ij) (x_i, 1) and d2f / d(W1_j, b1_j)^2 = w2_j sigma''(z_ij)
    # (x_i, 1)(x_i, 1)^T (zero for ReLU).
    Xa = np.hstack([X, np.ones((n, 1))])
    # Row j: the indices of W1[j, :] and b1[j] (k x (d + 1)).
    rows = np.hstack([np.arange(k * d).reshape(k, d), (k * d + np.arange(k))[:, None]])
    w2_index = k * d + k + np.arange(k)
    cross = (r[:, None] * slope).T @ Xa                                  # k x (d + 1)
    for j in range(k):
        H[rows[j], w2_index[j]] += cross[j]
        H[w2_index[j], rows[j]] += cross[j]
    if net["activation"] != "relu":
        weights = r[:, None] * curve * w2                                # n x k
        for j in range(k):
            H[np.ix_(rows[j], rows[j])] += (Xa * weights[:, j:j + 1]).T @ Xa
    return LOSS_SCALE[loss] / n * H


# ----------------------------------------------------------------------------------------------
# Densities and moments


def broadened(nodes: np.ndarray, weights: np.ndarray, grid: np.ndarray, sigma: float) -> np.ndarray:
    """sum_i weights_i N(grid; nodes_i, sigma^2): a density in lambda (integrates to sum weights)."""
    out = np.zeros_like(grid)
    scale = 1.0 / (sigma * math.sqrt(2.0 * math.pi))
    for chunk in range(0, nodes.size, 256):  # bounded memory for many nodes
        t = (grid[:, None] - nodes[None, chunk:chunk + 256]) / sigma
        out += (np.exp(-0.5 * t * t) * weights[None, chunk:chunk + 256]).sum(axis=1) * scale
    return out


def measure_moments(nodes: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Mass, mean and second moment of the discrete measure sum_i weights_i delta(nodes_i)."""
    return {
        "mass": float(weights.sum()),
        "mean": float(weights @ nodes),
        "second_moment": float(weights @ (nodes * nodes)),
    }


def curve_moments(grid: np.ndarray, density: np.ndarray) -> dict[str, float]:
    """Mass, mean and second moment of a drawn density by the trapezoid rule (a Gaussian broadening
    adds sigma^2 to the second moment)."""
    def integral(values: np.ndarray) -> float:
        return float(np.sum(0.5 * (values[1:] + values[:-1]) * np.diff(grid)))

    return {
        "mass": integral(density),
        "mean": integral(grid * density),
        "second_moment": integral(grid * grid * density),
    }


def cumulative(nodes: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(nodes, kind="stable")
    return nodes[order], np.cumsum(weights[order])


def wasserstein_distance(nodes: np.ndarray, weights: np.ndarray, eigenvalues: np.ndarray) -> float:
    """The Wasserstein-1 distance of the SLQ measure to the eigenvalue distribution, the integral of
    |F_SLQ - F_exact| (in units of lambda; unlike the largest CDF gap it does not count a cluster of
    eigenvalues 1e-12 apart as a large error)."""
    points = np.unique(np.concatenate([nodes, eigenvalues]))
    x, F = cumulative(nodes, weights)
    slq = np.concatenate([[0.0], F])[np.searchsorted(x, points, side="right")]
    exact = np.searchsorted(np.sort(eigenvalues), points, side="right") / eigenvalues.size
    return float(np.sum(np.abs(slq - exact)[:-1] * np.diff(points)))


# ----------------------------------------------------------------------------------------------
# Getting the analysis


def density_of(analysis: dict[str, Any], source: str) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    block = analysis.get("spectral_density")
    if not isinstance(block, dict):
        raise InputProblem(f"{source}: no spectral_density (run `relustab analyze --json --density-probes N "
                           "--density-steps M`)")
    nodes = np.asarray(block.get("nodes", []), dtype=float)
    weights = np.asarray(block.get("weights", []), dtype=float)
    if nodes.size == 0 or nodes.shape != weights.shape or not np.all(np.isfinite(nodes)):
        raise InputProblem(f"{source}: spectral_density: expected arrays nodes and weights of equal length")
    return nodes, weights, block


def analyze_args(net_path: str | Path, data_path: str | Path, loss: str, probes: int, steps: int, seed: int,
                 trace_samples: int) -> list[str]:
    args = ["analyze", "--net", str(net_path), "--data", str(data_path), "--json", "--loss", loss,
            "--density-probes", str(probes), "--density-steps", str(steps), "--spectrum-seed", str(seed)]
    if trace_samples > 0:
        args += ["--trace-samples", str(trace_samples)]
    return args


def parameter_count(net: dict[str, Any]) -> int:
    k, d = net["W1"].shape
    return k * d + 2 * k + 1


# ----------------------------------------------------------------------------------------------
# The figure


def symlog_ticks(linear: float, lo: float, hi: float) -> list[float]:
    """0 and the powers of ten outside the linear band [-linear, linear] of a symlog axis on [lo, hi]:
    no labels crowd the band."""
    ticks = [0.0]
    for sign, end in ((1.0, hi), (-1.0, -lo)):
        if end > linear:
            first = math.ceil(math.log10(linear * 1.0001))
            ticks += [sign * 10.0 ** e for e in range(first, math.floor(math.log10(end)) + 1)]
    return sorted(ticks)


def draw(
    writer: FigureWriter,
    nodes: np.ndarray,
    weights: np.ndarray,
    eigenvalues: np.ndarray | None,
    settings: dict[str, Any],
    bandwidth: float = DEFAULT_BANDWIDTH,
    log_y: bool = True,
    source: str = "",
) -> FigureRecord:
    """Panels (a) the broadened density, (b) the cumulative distribution; returns the record saved."""
    extremes = np.concatenate([nodes] + ([eigenvalues] if eigenvalues is not None else []))
    lo, hi = float(extremes.min()), float(extremes.max())
    spread = hi - lo if hi > lo else max(abs(hi), 1.0)
    sigma = bandwidth * spread
    margin = GRID_MARGIN_BANDWIDTHS * sigma
    grid = np.linspace(lo - margin, hi + margin, GRID_POINTS)
    slq_curve = broadened(nodes, weights, grid, sigma)
    probes, steps = settings.get("probes"), settings.get("steps")
    slq_label = f"SLQ, {probes} probes x {steps} steps" if probes else "SLQ"

    fig, (ax, ax_cdf) = plt.subplots(1, 2, figsize=figure_size(writer.style, "double", 2, aspect=0.78),
                                     constrained_layout=True)
    ax.plot(grid, slq_curve, color=COLOR_SLQ, label=slq_label, zorder=3)
    series: dict[str, Any] = {"grid": grid, "density_slq": slq_curve, "nodes": nodes, "weights": weights}
    summary: dict[str, Any] = {**settings, "bandwidth (sigma)": sigma, "nodes": int(nodes.size)}
    slq_moments = measure_moments(nodes, weights)
    summary.update({f"SLQ {k}": v for k, v in slq_moments.items()})
    drawn = curve_moments(grid, slq_curve)
    summary.update({f"SLQ drawn curve {k}": v for k, v in drawn.items()})
    x_slq, F_slq = cumulative(nodes, weights)
    ax_cdf.step(np.concatenate([[grid[0]], x_slq, [grid[-1]]]), np.concatenate([[0.0], F_slq, [F_slq[-1]]]),
                where="post", color=COLOR_SLQ, label=slq_label, zorder=3)
    if eigenvalues is not None:
        P = eigenvalues.size
        exact_curve = broadened(eigenvalues, np.full(P, 1.0 / P), grid, sigma)
        ax.plot(grid, exact_curve, color=COLOR_EXACT, linestyle="--", linewidth=0.9,
                label=f"exact eigenvalues (P = {P}), same broadening", zorder=4)
        ax.vlines(eigenvalues, 0.0, 0.035, transform=ax.get_xaxis_transform(), color=COLOR_EXACT,
                  linewidth=0.5, alpha=0.6, label="exact eigenvalues")
        x_exact = np.sort(eigenvalues)
        ax_cdf.step(np.concatenate([[grid[0]], x_exact, [grid[-1]]]),
                    np.concatenate([[0.0], np.arange(1, P + 1) / P, [1.0]]), where="post",
                    color=COLOR_EXACT, linestyle="--", linewidth=0.9, label="exact eigenvalues", zorder=4)
        series.update(eigenvalues=eigenvalues, density_exact=exact_curve)
        exact = measure_moments(eigenvalues, np.full(P, 1.0 / P))
        summary.update({
            "parameters P": P,
            "exact trace / P": exact["mean"],
            "exact ||H||_F^2 / P": exact["second_moment"],
            "exact lambda_max": float(x_exact[-1]),
            "exact lambda_min": float(x_exact[0]),
            "Wasserstein-1 distance SLQ to exact": wasserstein_distance(nodes, weights, eigenvalues),
        })
    if log_y:
        ax.set_yscale("log")
        peak = float(slq_curve.max())
        ax.set_ylim(peak * 10.0 ** -LOG_DECADES, peak * 3.0)
    else:
        ax.set_ylim(0.0, 1.1 * float(slq_curve.max()))
    ax.set(xlabel="eigenvalue λ of the Hessian", ylabel="density", title="(a) spectral density",
           xlim=(grid[0], grid[-1]))
    ax.legend(loc="upper right")
    # Most eigenvalues of a net's Hessian sit near 0 and a few far out: a symmetric log axis shows both.
    linear = CDF_LINEAR_FRACTION * spread
    ax_cdf.set_xscale("symlog", linthresh=linear)
    ax_cdf.xaxis.set_major_locator(FixedLocator(symlog_ticks(linear, grid[0], grid[-1])))
    ax_cdf.xaxis.set_minor_locator(NullLocator())
    ax_cdf.set(xlabel="eigenvalue λ of the Hessian (symmetric log)", ylabel="fraction of eigenvalues ≤ λ",
               title="(b) cumulative distribution", xlim=(grid[0], grid[-1]), ylim=(-0.02, 1.02))
    ax_cdf.legend(loc="lower right")
    caption = (
        "Spectral density of the loss Hessian by stochastic Lanczos quadrature (relustab analyze "
        "--density-probes --density-steps): the Ritz values of each probe weighted by the squared first "
        f"components of their Ritz vectors, broadened by Gaussians of standard deviation {sigma:.3g} "
        f"({bandwidth:g} of the spectral range), and their cumulative distribution. "
        + ("Dashed: the exact eigenvalues of the dense Hessian (closed form in numpy, eigvalsh), with the "
           "same broadening, as ticks and as their distribution. " if eigenvalues is not None else
           "The exact eigenvalues are not drawn (no net and data given, or the net is above --dense-limit). ")
        + (f"Source: {source}." if source else "")
    )
    return writer.save(fig, FigureRecord(
        name=FIGURE_NAME,
        title="Hessian spectral density (stochastic Lanczos quadrature)",
        caption=caption,
        summary=summary,
        series=series,
    ))


def make_figure(args: argparse.Namespace) -> Path:
    setup_style(args.style)
    with Relustab(args.relustab) as tool:
        net_path, data_path, loss = args.net, args.data, args.loss
        source = ""
        if args.results:
            if args.run is None:
                raise InputProblem("--results: expected --run ID too")
            with Results(args.results) as results:
                run = next((r for r in results.runs if r.id == args.run), None)
                if run is None:
                    raise InputProblem(f"{args.results}: no run {args.run}")
                stored = results.net(run) if run.done else None
                if stored is None:
                    raise InputProblem(
                        f"{args.results}: run {args.run} has no stored net (status {run.status})")
                net_path = tool.scratch_path("net", ".json")
                net_path.write_text(json.dumps(stored))
                data_path = tool.data_file(run.config)
                loss = run.config.get("optim.loss", loss)
                source = f"run {run.id} of {Path(args.results).name}"
        if args.analysis:
            try:
                analysis = json.loads(Path(args.analysis).read_text())
            except (OSError, ValueError) as error:
                raise InputProblem(
                    f"{args.analysis}: cannot read a relustab analyze --json object ({error})") from error
            source = source or Path(args.analysis).name
        else:
            if net_path is None or data_path is None:
                raise InputProblem(
                    "expected --analysis FILE, --net NET --data DATA, or --results DIR --run ID")
            net = read_net(net_path)
            steps = min(args.steps, parameter_count(net))
            analysis = tool.call_json(analyze_args(net_path, data_path, loss, args.probes, steps, args.seed,
                                                   args.trace_samples))
            source = source or f"{Path(net_path).name} on {Path(data_path).name}"
        nodes, weights, block = density_of(analysis, str(args.analysis or "relustab analyze"))
        loss = analysis.get("loss_function", loss)
        settings: dict[str, Any] = {"probes": block.get("probes"), "steps": block.get("steps"), "loss": loss}
        for key in ("sharpness", "hessian_trace", "hessian_trace_stderr", "hessian_trace_samples"):
            if analysis.get(key) is not None:
                settings[key] = analysis[key]
        eigenvalues = None
        if net_path is not None and data_path is not None and not args.no_exact:
            net = read_net(net_path)
            if parameter_count(net) <= args.dense_limit:
                X, y = read_data(data_path)
                eigenvalues = np.linalg.eigvalsh(dense_hessian(net, X, y, loss))
        writer = FigureWriter(args.out, "spectral density", args.style)
        record = draw(writer, nodes, weights, eigenvalues, settings, args.bandwidth, not args.linear_y,
                      source)
        return write_index(args.out, "Hessian spectral density", [record])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="See the module's docstring for the details.")
    parser.add_argument("--analysis", help="JSON of `relustab analyze --json --density-probes N ...`")
    parser.add_argument("--net", help="net file (relustab-net JSON or .npz): analysed, and its exact "
                                      "eigenvalues drawn when it has at most --dense-limit parameters")
    parser.add_argument("--data", help="data CSV of the net (x,y or x1,..,xd,y)")
    parser.add_argument("--results", help="a results directory (relustab sweep / reproduce); with --run")
    parser.add_argument("--run", type=int, help="run id in --results (a finished run with a stored net)")
    parser.add_argument("--out", required=True,
                        help="writes OUT/figures/spectral_density.* and OUT/index.html")
    parser.add_argument("--loss", choices=sorted(LOSS_SCALE), default="half_mse",
                        help="loss convention (default half_mse; an analysis or run names its own)")
    parser.add_argument("--probes", type=int, default=DEFAULT_PROBES, help="SLQ probes (default 10)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS,
                        help="Lanczos steps per probe (default 30, at most the parameter count)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="--spectrum-seed of the analysis")
    parser.add_argument("--trace-samples", type=int, default=0,
                        help="also the Hutchinson trace with this many probes (in the summary)")
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH,
                        help="Gaussian broadening, a fraction of the spectral range (default 0.01)")
    parser.add_argument("--linear-y", action="store_true", help="a linear density axis (default: log)")
    parser.add_argument("--dense-limit", type=int, default=DEFAULT_DENSE_LIMIT,
                        help="exact eigenvalues only for nets of at most this many parameters (2000)")
    parser.add_argument("--no-exact", action="store_true", help="never draw the exact eigenvalues")
    parser.add_argument("--relustab", help="relustab binary (default: $RELUSTAB_BIN, then PATH)")
    parser.add_argument("--style", choices=sorted(STYLES), default=DEFAULT_STYLE,
                        help="paper: print size for a two-column paper, fonts >= 7 pt; notebook: larger")
    args = parser.parse_args(argv)
    for name in ("probes", "steps", "dense_limit"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')}: expected an integer >= 1")
    if not (args.bandwidth > 0 and math.isfinite(args.bandwidth)):
        parser.error("--bandwidth: expected a number > 0")
    try:
        index = make_figure(args)
    except (InputProblem, ResultsError) as error:
        print(f"spectral_density: {error}", file=sys.stderr)
        return 2
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
