# SPDX-License-Identifier: MIT
"""Qiao et al. 2024, appendix figure: interpolating fits of n = 30 noisy points with growing width.

Runs: a sweep over model.width (and possibly seeds), trained to interpolation. One panel per width
(up to MAX_FITS, spread over the widths) with the fit, f0 and the noisy labels; a last panel with
the training loss and the test MSE against f0 vs width. Small widths overfit catastrophically,
larger ones in a tempered way.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    Context,
    FigureRecord,
    data_range,
    log_axis_ticks,
    plot_noisy_labels,
    plot_series,
    plot_target,
    table,
)
from figures.results import MissingLog, Run, aggregate, first_seed, group_by, pick_spread

WIDTH_KEY = "model.width"
MAX_FITS = 6
COLUMNS = 4
PLOT_MARGIN = 0.03
COLOR_FIT = "tab:blue"


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, WIDTH_KEY)
    widths = [w for w, runs in groups.items() if any(r.done for r in runs)]
    shown = [int(w) for w in pick_spread(widths, MAX_FITS)]
    panels = len(shown) + 1
    rows = math.ceil(panels / COLUMNS)
    cols = math.ceil(panels / rows)
    fig, axes = ctx.figure(cols, rows=rows, aspect=0.85, squeeze=False)
    flat = list(axes.ravel())
    series: dict[str, Any] = {"fits": []}
    y_limits = None
    for ax, width in zip(flat, shown):
        run = first_seed([r for r in groups[width] if r.done])
        data = ctx.data(run)
        lo, hi = data_range(data, PLOT_MARGIN)
        curves = ctx.curves(run, missing, lo, hi)
        plot_noisy_labels(ax, data, "noisy labels")
        target = plot_target(ax, ctx, run, lo, hi, "f0")
        if curves is not None:
            ax.plot(curves["x"], curves["f"], color=COLOR_FIT, linewidth=1.2, label="fit")
            series["fits"].append(
                {"run_id": run.id, "width": width, "x": curves["x"], "f": curves["f"]}
            )
        if y_limits is None:
            spread = float(np.ptp(data.y)) or 1.0
            # Catastrophic overfits can shoot far out; keep the data in view and clip the rest.
            y_limits = (float(data.y.min()) - 0.6 * spread, float(data.y.max()) + 0.6 * spread)
            if target is not None:
                series["target"] = target
        ax.set_ylim(*y_limits)
        loss = run.metric("loss")
        ax.set_title(
            f"k = {width}" + (f", train loss {loss:.1e}" if math.isfinite(loss) else "")
        )
        ax.set(xlabel="x", ylabel="f(x)")
    if shown:
        flat[0].legend(loc="best")
    ax_sum = flat[len(shown)]
    vs_width = {}
    for metric, label, color, marker in (
        ("loss", "training loss", "black", "o"),
        ("mse_full", "test MSE vs f0 (full range)", "tab:red", "s"),
        ("mse_interior", "test MSE vs f0 (interior)", "tab:blue", "^"),
    ):
        s = aggregate(groups, metric, missing)
        vs_width[metric] = s.to_json()
        if np.isfinite(s.median).any():
            plot_series(ax_sum, s, label, color, marker=marker)
    ax_sum.set_xscale("log")
    ax_sum.set_yscale("log")
    log_axis_ticks(ax_sum, [int(w) for w in groups])
    ax_sum.set(xlabel="width k", ylabel="loss / MSE", title="vs width")
    if ax_sum.get_legend_handles_labels()[0]:
        ax_sum.legend(loc="best")
    for ax in flat[panels:]:
        ax.set_visible(False)
    series["vs_width"] = vs_width
    done = [r for r in ctx.results.runs if r.done]
    summary: dict[str, Any] = {"widths": len(groups), "runs done": len(done)}
    if done:
        n_values = sorted({int(r.config.get("data.n", 0)) for r in done})
        summary["n"] = n_values[0] if len(n_values) == 1 else str(n_values)
        summary["largest training loss"] = max(r.metric("loss") for r in done)
    caption = (
        "Fits of n noisy samples by GD trained to (near) interpolation, for growing width k: "
        "fit (blue), f0 (dashed), noisy labels (grey); the y range is clipped to the data. "
        "Last panel: training loss and MSE against f0 vs width (median and interquartile band "
        "over seeds where there are several)."
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
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("MSE full", "mse_full"),
                    ("MSE interior", "mse_interior"),
                    ("knots", "knots"),
                    ("sharpness", "sharpness"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
