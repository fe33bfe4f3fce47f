# SPDX-License-Identifier: MIT
"""Qiao et al. 2024, page-16 figure: interpolating fits of n = 30 noisy points with growing width.

Runs: a sweep over model.width (with seeds: run.seed, possibly data.seed), each net interpolating
its labels (our route: knots spread over the gaps between the inputs, the minimum-norm output
layer). Top rows: one fit per shown width, the whole interpolant over the data range (no clipping:
a symlog y axis where it leaves the data's scale), f0 and the noisy labels. Bottom row: the error
against f0 in units of the noise variance sigma^2 versus width, and the training MSE / sigma^2
(median and interquartile band over seeds). The claim: catastrophic overfitting near k = n,
tempered for k >> n.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Sequence

import numpy as np

from figures.output import (
    COLOR_TARGET,
    Context,
    FigureRecord,
    data_range,
    legend_below,
    log_axis_ticks,
    plot_noisy_labels,
    plot_series,
    table,
)
from figures.results import MissingLog, Run, aggregate, group_by, net_function, pick_spread
from figures.verdict import Verdict, check, failed_criteria, setting

WIDTH_KEY = "model.width"
FIT_PANELS = 6
COLUMNS = 3
PLOT_MARGIN = 0.03
COLOR_FIT = "tab:blue"
COLOR_FULL = "tab:red"
COLOR_INTERIOR = "tab:blue"
COLOR_TRAIN = "black"
FIT_POINTS = 2001
# A fit reaching beyond twice max(2, 1.2 max |y|) gets a y axis linear on [-2, 2], logarithmic beyond.
SYMLOG_LINEAR = 2.0

# The claim as numbers (the C++ acceptance test states the same criteria on the stored metrics).
INTERPOLATION_TOL = 1e-10  # training MSE / sigma^2 below this: the net interpolates
CATASTROPHIC_ERROR = 10.0  # median error / sigma^2 at k = n - 1 or n at least this ...
CATASTROPHIC_FACTOR = 10.0  # ... and this many times the median at the largest width
LARGE_WIDTH_FACTOR = 10  # "k >> n": k >= 10 n
TEMPERED_RANGE = (0.1, 3.0)  # order sigma^2: median error / sigma^2 within this range ...
TEMPERED_GROWTH = 1.25  # ... and at the largest k at most this times that at the smallest k >= 10 n


def make_figures(ctx: Context) -> Verdict:
    missing = MissingLog()
    done = [r for r in ctx.results.runs if r.done]
    groups = {int(w): runs for w, runs in group_by(done, WIDTH_KEY).items()}
    widths = sorted(groups)
    n = _single_value(done, "data.n")
    noise = _single_value(done, "data.noise")
    variance = noise * noise if noise else float("nan")

    def error_ratio(metric: str):
        def ratio(run: Run) -> float:
            return run.metric(metric) / variance if run.has(metric) else float("nan")

        ratio.__name__ = metric
        return ratio

    def train_ratio(run: Run) -> float:
        return 2.0 * run.metric("loss") / variance if run.has("loss") else float("nan")

    train_ratio.__name__ = "loss"
    errors = aggregate(groups, error_ratio("mse_full"), missing)
    errors_interior = aggregate(groups, error_ratio("mse_interior"), missing)
    train = aggregate(groups, train_ratio, missing)

    shown = _widths_to_show(widths, n)
    fig, axes = ctx.figure(COLUMNS, rows=3, aspect=0.78, squeeze=False)
    grid = axes[2, 0].get_gridspec()
    for ax in axes[2]:
        ax.remove()
    ax_error = fig.add_subplot(grid[2, 0:2])
    ax_train = fig.add_subplot(grid[2, 2])
    fit_axes = list(axes[:2].ravel())
    series: dict[str, Any] = {"fits": []}
    for ax, width in zip(fit_axes, shown):
        run = _median_run(groups[width], error_ratio("mse_full"))
        record = _draw_fit(ctx, ax, run, width, n, variance, missing)
        if record is not None:
            series["fits"].append(record)
    for ax in fit_axes[len(shown):]:
        ax.set_visible(False)
    if shown:
        handles, labels = fit_axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside upper center", ncol=len(labels), frameon=False)

    _draw_error_panel(ax_error, errors, errors_interior, widths, n)
    _draw_train_panel(ax_train, train, widths, n)
    series["vs_width"] = {
        "error_full_over_noise_var": errors.to_json(),
        "error_interior_over_noise_var": errors_interior.to_json(),
        "train_mse_over_noise_var": train.to_json(),
    }
    verdict = _verdict(done, groups, n, variance, errors)
    summary: dict[str, Any] = {"widths": len(groups), "runs done": len(done)}
    if math.isfinite(n):
        summary["n"] = n
    if math.isfinite(variance):
        summary["noise variance sigma^2"] = variance
    summary.update({label: value for label, value in verdict.numbers})
    caption = (
        "Interpolation of n noisy samples versus width k. Top: for each shown width, the run "
        "with the median error over seeds: the net (blue, the whole function on the data range, "
        "knots included; y axis linear up to ±2 and logarithmic beyond where the net leaves that "
        "range), f0 (dashed) and the noisy labels (grey). Bottom left: error against f0 on the "
        "data range (mse_full, red) and its strict interior (mse_interior, blue) in units of the "
        "noise variance sigma^2; bottom right: training MSE / sigma^2 (runs below the grey line "
        "interpolate). Median and interquartile band over seeds; the dotted line marks the "
        "interpolation threshold k + 1 = n."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="qiao2024_width",
            title="Qiao et al. 2024: interpolation vs width",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (int(r.config[WIDTH_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("width", WIDTH_KEY),
                    ("data seed", "data.seed"),
                    ("seed", "run.seed"),
                    ("train MSE / σ²", train_ratio),
                    ("rank", "output_rank"),
                    ("MSE / σ² (full)", error_ratio("mse_full")),
                    ("MSE / σ² (interior)", error_ratio("mse_interior")),
                    ("|(w2, b2)|", "output_norm"),
                    ("sharpness", "sharpness"),
                    ("knots", "knots"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
    return verdict


# ----------------------------------------------------------------------------------------------
# Panels


def _single_value(runs: Sequence[Run], key: str) -> float:
    values = {float(r.config[key]) for r in runs if key in r.config}
    return values.pop() if len(values) == 1 else float("nan")


def _widths_to_show(widths: Sequence[int], n: float) -> list[int]:
    """Up to FIT_PANELS widths: the smallest below the interpolation threshold (k + 1 < n), the
    widths at it (k = n - 1, n), and the others spread in log scale up to the largest."""
    if not widths:
        return []
    if not math.isfinite(n):
        return [int(w) for w in pick_spread(widths, FIT_PANELS)]
    below = [w for w in widths if w + 1 < n]
    at = [w for w in widths if n - 1 <= w <= n]
    chosen = ([below[0]] if below else []) + at
    rest = [w for w in widths if w not in chosen and w > n]
    room = FIT_PANELS - len(chosen)
    if room > 0 and rest:
        chosen += [int(w) for w in pick_spread(rest, room)]
    if len(chosen) < FIT_PANELS:
        others = [w for w in widths if w not in chosen]
        chosen += others[: FIT_PANELS - len(chosen)]
    return sorted(chosen)[:FIT_PANELS]


def _median_run(runs: Sequence[Run], error) -> Run:
    """The run with the median error (the lower middle one for an even count); runs without the
    metric come last."""
    finished = [r for r in runs if r.done]
    ranked = sorted(finished, key=lambda r: (not math.isfinite(error(r)), error(r), r.id))
    measured = [r for r in ranked if math.isfinite(error(r))]
    pool = measured or ranked
    return pool[(len(pool) - 1) // 2]


def _draw_fit(
    ctx: Context, ax: Any, run: Run, width: int, n: float, variance: float, missing: MissingLog
) -> dict[str, Any] | None:
    data = ctx.data(run)
    lo, hi = data_range(data, PLOT_MARGIN)
    net = ctx.results.net(run)
    plot_noisy_labels(ax, data, "noisy labels")
    target = ctx.tool.clean_target(run.config, lo, hi, points=801)
    if target is not None:
        ax.plot(target[0], target[1], color=COLOR_TARGET, linewidth=1.2, linestyle="--", label="f0",
                zorder=4)
    title = f"k = {width}"
    if math.isfinite(n):
        if width + 1 < n:
            title += " (k + 1 < n: least squares)"
        elif width + 1 == n:
            title += " (k + 1 = n)"
        elif width == n:
            title += " (k = n)"
    record = None
    if net is None:
        missing.add(run, "net")
    else:
        # The net is piecewise linear: a grid plus its knots draws it exactly, spikes included.
        x = np.linspace(lo, hi, FIT_POINTS)
        w1 = np.array([row[0] for row in net["W1"]], dtype=float)
        b1 = np.array(net["b1"], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            knots = -b1 / w1
        knots = knots[np.isfinite(knots) & (knots > lo) & (knots < hi)]
        x = np.union1d(x, knots)
        f = net_function(net, x)
        ax.plot(x, f, color=COLOR_FIT, linewidth=0.9, label="net", zorder=5)
        peak = float(np.max(np.abs(f)))
        scale = max(2.0, float(np.max(np.abs(data.y))) * 1.2)
        if peak > 2.0 * scale:
            _symlog_axis(ax, peak)
        record = {"run_id": run.id, "width": width, "x": x, "f": f, "max_abs_f": peak}
        if run.has("mse_full") and math.isfinite(variance):
            title += f"\nMSE / σ² = {run.metric('mse_full') / variance:.3g}"
    ax.axvline(float(np.min(data.x)), color="0.7", linewidth=0.6, linestyle=":")
    ax.axvline(float(np.max(data.x)), color="0.7", linewidth=0.6, linestyle=":")
    ax.set_xlim(lo, hi)
    ax.set_title(title)
    ax.set(xlabel="x", ylabel="f(x)")
    if target is not None and record is not None:
        record["target"] = {"x": target[0], "f0": target[1]}
    return record


def _symlog_axis(ax: Any, peak: float) -> None:
    """y linear on [-LINEAR, LINEAR] and logarithmic beyond, ticks at 0 and at up to three decades
    per side (labels near 0 would collide)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ax.set_yscale("symlog", linthresh=SYMLOG_LINEAR, linscale=1.0)
    top = max(1, math.floor(math.log10(peak)))
    step = max(1, math.ceil(top / 3))
    decades = [10.0**j for j in range(top, 0, -step)]
    ticks = sorted([-d for d in decades] + [0.0] + decades)
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    def power(value: float, _position: Any = None) -> str:
        if value == 0:
            return "0"
        return ("-" if value < 0 else "") + f"$10^{{{round(math.log10(abs(value)))}}}$"

    ax.yaxis.set_major_formatter(FuncFormatter(power))
    ax.yaxis.set_minor_locator(NullLocator())


def _mark_threshold(ax: Any, n: float) -> None:
    if math.isfinite(n):
        ax.axvline(n - 1, color="0.5", linestyle=":", linewidth=1.0, label="k + 1 = n")


def _draw_error_panel(ax: Any, errors, errors_interior, widths: Sequence[int], n: float) -> None:
    if np.isfinite(errors.median).any():
        plot_series(ax, errors, "MSE vs f0 / σ² (data range)", COLOR_FULL, marker="s")
    if np.isfinite(errors_interior.median).any():
        plot_series(ax, errors_interior, "MSE vs f0 / σ² (interior)", COLOR_INTERIOR, marker="^")
    ax.axhline(1.0, color="0.3", linewidth=0.8, linestyle="--", label="σ² (noise variance)")
    _mark_threshold(ax, n)
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis_ticks(ax, _tick_widths(widths))
    ax.set(xlabel="width k", ylabel="error / σ²", title="error against f0 vs width")
    ax.legend(loc="upper right", fontsize=7)


def _draw_train_panel(ax: Any, train, widths: Sequence[int], n: float) -> None:
    if np.isfinite(train.median).any():
        floor = 1e-32  # an exact zero would not show on the log axis
        shown = dataclasses.replace(
            train,
            median=np.maximum(train.median, floor),
            lo=np.maximum(train.lo, floor),
            hi=np.maximum(train.hi, floor),
        )
        plot_series(ax, shown, "training MSE / σ²", COLOR_TRAIN, marker="o")
    ax.axhline(INTERPOLATION_TOL, color="0.6", linewidth=0.8, label="interpolation tolerance")
    _mark_threshold(ax, n)
    ax.set_xscale("log")
    ax.set_yscale("log")
    log_axis_ticks(ax, _tick_widths(widths, 4))
    ax.set(xlabel="width k", ylabel="training MSE / σ²", title="training error")
    legend_below(ax)


def _tick_widths(widths: Sequence[int], count: int = 8) -> list[float]:
    """Up to `count` widths spread in log scale, none closer than a tenth of a decade to the one
    before (29 and 30 would print on top of each other)."""
    ticks: list[float] = []
    for w in pick_spread(widths, count) if widths else []:
        if not ticks or math.log10(w) - math.log10(ticks[-1]) >= 0.1:
            ticks.append(w)
    return ticks


# ----------------------------------------------------------------------------------------------
# Verdict


def _verdict(done: Sequence[Run], groups: dict[int, list[Run]], n: float, variance: float,
             errors) -> Verdict:
    median_error = {int(w): float(m) for w, m in zip(errors.x, errors.median)}
    widths = sorted(groups)
    checks = []
    numbers: list[tuple[str, Any]] = []

    # 1. Every width that can interpolate (k + 1 >= n) does, in every run.
    def train_mse_ratio(run: Run) -> float:
        return 2.0 * run.metric("loss") / variance if run.has("loss") else float("nan")

    above = [r for w in widths if math.isfinite(n) and w + 1 >= n for r in groups[w]]
    worst = max((train_mse_ratio(r) for r in above), default=float("nan"))
    interpolates = bool(above) and all(train_mse_ratio(r) < INTERPOLATION_TOL for r in above)
    checks.append(
        check(
            "every net with k + 1 >= n interpolates its labels (training MSE below "
            f"{INTERPOLATION_TOL:g} σ² in every run)",
            interpolates,
            f"{len(above)} runs at widths {_list(w for w in widths if w + 1 >= n)}; largest "
            f"training MSE / σ² {worst:.3g}" if above else "no run with k + 1 >= n",
        )
    )
    numbers.append(("largest training MSE / σ² at k + 1 >= n", worst))
    below = [w for w in widths if math.isfinite(n) and w + 1 < n]
    if below:
        least = min(train_mse_ratio(r) for w in below for r in groups[w])
        numbers.append(("smallest training MSE / σ² at k + 1 < n (cannot interpolate)", least))
        numbers.append(
            (f"median MSE / σ² at k = {below[0]} (least squares)", median_error.get(below[0]))
        )

    # 2. Catastrophic near k = n.
    near = [w for w in widths if math.isfinite(n) and n - 1 <= w <= n]
    largest = widths[-1] if widths else None
    peak_width = max(near, key=lambda w: median_error.get(w, -math.inf)) if near else None
    peak = median_error.get(peak_width, float("nan")) if peak_width is not None else float("nan")
    at_largest = median_error.get(largest, float("nan")) if largest is not None else float("nan")
    catastrophic = (
        math.isfinite(peak)
        and math.isfinite(at_largest)
        and largest is not None
        and largest >= LARGE_WIDTH_FACTOR * n
        and peak >= CATASTROPHIC_ERROR
        and peak >= CATASTROPHIC_FACTOR * at_largest
    )
    checks.append(
        check(
            f"catastrophic near k = n: the median error over seeds at k = n - 1 or n is at "
            f"least {CATASTROPHIC_ERROR:g} σ² and {CATASTROPHIC_FACTOR:g} times that at the "
            "largest width",
            catastrophic,
            (
                f"median MSE / σ² {_fmt(peak)} at k = {peak_width} "
                f"({_list(f'{_fmt(median_error.get(w))} at k = {w}' for w in near)}); "
                f"{_fmt(at_largest)} at k = {largest}; ratio {_fmt(peak / at_largest)}"
            )
            if near
            else "no width at k = n - 1 or n",
        )
    )
    for w in near:
        numbers.append((f"median MSE / σ² at k = {w}", median_error.get(w)))

    # 3. Tempered for k >> n.
    large = [w for w in widths if math.isfinite(n) and w >= LARGE_WIDTH_FACTOR * n]
    large_medians = [median_error.get(w, float("nan")) for w in large]
    in_range = bool(large) and all(
        TEMPERED_RANGE[0] <= m <= TEMPERED_RANGE[1] for m in large_medians
    )
    not_growing = len(large) >= 2 and large_medians[-1] <= TEMPERED_GROWTH * large_medians[0]
    checks.append(
        check(
            f"tempered for k >> n: at every k >= {LARGE_WIDTH_FACTOR} n the median error is of "
            f"the order of σ² ({TEMPERED_RANGE[0]:g} to {TEMPERED_RANGE[1]:g} σ²) and it does "
            f"not grow with k (at the largest k at most {TEMPERED_GROWTH:g} times that at the "
            "smallest)",
            in_range and not_growing,
            _list(f"{_fmt(m)} at k = {w}" for w, m in zip(large, large_medians))
            if large
            else f"no width k >= {LARGE_WIDTH_FACTOR} n",
        )
    )
    for w, m in zip(large, large_medians):
        numbers.append((f"median MSE / σ² at k = {w}", m))
    sharp = _median_metric(groups, peak_width, "sharpness")
    flat = _median_metric(groups, largest, "sharpness")
    if math.isfinite(sharp) and math.isfinite(flat):
        numbers.append((f"median sharpness at k = {peak_width}", sharp))
        numbers.append((f"median sharpness at k = {largest}", flat))
    numbers.append(("runs", len(done)))

    held = [c.held for c in checks]
    if all(held):
        reason = (
            "Reproduced with our route to interpolation. At the threshold k + 1 = n the "
            "interpolating output layer is unique: each gap between inputs holds one knot, and "
            "fitting the next label through a knot close to an input takes a steep slope that the "
            "following pieces must undo, so the interpolant swings far from f0 between the points. "
            "With k >> n the minimum-norm output layer spreads the fit over many neurons and stays "
            "near f0 (a spline-like interpolant), with an error of the order of the noise variance "
            "that does not grow with k. Below the threshold no net interpolates (k + 1 unknowns "
            "for n labels): the catastrophic regime is that of the narrowest interpolating nets. "
            "The paper does not say how its interpolants were found; ours are where GD on the "
            "output layer converges with the first layer at its initialisation."
        )
    else:
        failing = "; ".join(failed_criteria(checks))
        reason = (
            f"Not all criteria hold ({failing}). The runs use our route to interpolation (knots "
            "spread over the data, the minimum-norm output layer); where a criterion fails for "
            "runs made another way (e.g. plain GD), the route rather than the paper is the first "
            "suspect, since GD at a finite step size need not interpolate at all."
        )
    return Verdict(
        target="qiao2024-width",
        title="Interpolation versus width",
        paper="Qiao et al. 2024, page-16 figure",
        claim=(
            "Interpolating two-layer ReLU nets of n = 30 noisy points overfit catastrophically for "
            "small widths near k = n (an error against the ground truth many times the noise "
            "variance) and in a tempered way for k >> n (an error of the order of the noise "
            "variance)."
        ),
        checks=checks,
        settings=[
            setting(done, "n (samples)", "data.n", "paper"),
            setting(done, "inputs", "data.inputs", "ours", note="n evenly spaced points"),
            setting(done, "ground truth f0", "data.target", "ours"),
            setting(done, "label noise σ", "data.noise", "ours"),
            setting(done, "width k", WIDTH_KEY, "ours",
                    note="both sides of the interpolation threshold k + 1 = n, up to 100 n"),
            setting(done, "initialisation", "model.init", "ours",
                    note="data_knots: |w1| = 1, knots spread over the gaps between the inputs, so "
                         "that every gap holds one once k >= n - 1"),
            setting(done, "output layer", "optim.fit_output", "ours",
                    note="min_norm: the minimum-norm interpolating (w2, b2) for the fixed first "
                         "layer, where GD on the output layer converges from zero"),
            setting(done, "GD steps after the fit", "optim.max_steps", "ours",
                    note="none needed: the fit interpolates to rounding"),
            setting(done, "initialisations", "run.seed", "ours"),
            setting(done, "data sets", "data.seed", "ours"),
        ],
        numbers=numbers,
        reason=reason,
    )


def _median_metric(groups, width, metric: str) -> float:
    if width is None or width not in groups:
        return float("nan")
    values = [r.metric(metric) for r in groups[width] if r.done and r.has(metric)]
    return float(np.median(values)) if values else float("nan")


def _fmt(value: Any) -> str:
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"


def _list(items) -> str:
    return ", ".join(str(i) for i in items)
