# SPDX-License-Identifier: MIT
"""Generic figures for an experiment that is not a reproduction target.

One figure per numeric sweep axis (seeds excluded): final loss, sharpness with 2/eta and Lemma 4's
bound, the weighted TV with 1/eta - 1/2, and the MSE against f0 where measured; median and
interquartile band over the other axes. Without a numeric axis the runs are drawn against their id.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    COLOR_LEMMA4,
    COLOR_SHARPNESS,
    COLOR_TWO_OVER_ETA,
    Context,
    FigureRecord,
    plot_series,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, group_by, varying_keys

SEED_KEYS = ("run.seed", "data.seed")
PANELS = (
    ("final loss", (("loss", "loss", "black"),)),
    (
        "curvature",
        (
            ("two_over_eta", "2/η", COLOR_TWO_OVER_ETA),
            ("sharpness", "sharpness", COLOR_SHARPNESS),
            ("lemma4_bound", "1 + 2∫|f''|g", COLOR_LEMMA4),
        ),
    ),
    (
        "function space",
        (("weighted_tv", "∫|f''|g", "tab:blue"), ("thm1_rhs", "1/η − 1/2", "tab:red")),
    ),
    (
        "MSE vs f0",
        (
            ("mse_clean", "training inputs", "tab:green"),
            ("mse_interior", "interior", "tab:blue"),
            ("mse_full", "full range", "tab:gray"),
        ),
    ),
)


def numeric_axes(runs: list[Run]) -> list[str]:
    axes = []
    for key in varying_keys(runs):
        values = [r.config.get(key) for r in runs]
        if key not in SEED_KEYS and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            axes.append(key)
    return axes


def make_figures(ctx: Context) -> None:
    runs = ctx.results.runs
    axes_keys = numeric_axes(runs) or [None]
    for key in axes_keys:
        missing = MissingLog()
        groups = group_by(runs, key) if key else group_by(runs, lambda r: r.id)
        panels = [
            (title, [m for m in metrics if any(r.has(m[0]) for r in runs)])
            for title, metrics in PANELS
        ]
        panels = [(t, m) for t, m in panels if m]
        if not panels:
            continue
        fig, axes = ctx.figure(
            len(panels), columns="single" if len(panels) == 1 else "double", aspect=0.9, squeeze=False
        )
        series: dict[str, Any] = {}
        values = np.array([float(x) for x in groups], dtype=float)
        log_x = bool(values.size > 1 and (values > 0).all() and values.max() / values.min() >= 20)
        for ax, (title, metrics) in zip(axes[0], panels):
            for metric, label, color in metrics:
                s = aggregate(groups, metric, missing)
                series[metric] = s.to_json()
                s.median, s.lo, s.hi = positive(s.median), positive(s.lo), positive(s.hi)
                plot_series(ax, s, label, color)
            if log_x:
                ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set(xlabel=key or "run id", title=title)
            ax.legend(loc="best")
        name = "overview_" + (key.replace(".", "_") if key else "runs")
        done = [r for r in runs if r.done]
        ctx.writer.save(
            fig,
            FigureRecord(
                name=name,
                title=f"{ctx.results.name or 'experiment'}: metrics vs {key or 'run'}",
                caption=(
                    "Final metrics of every finished run against the sweep axis (median and "
                    "interquartile band over the other axes); non-positive values are not drawn "
                    "on the logarithmic axes."
                ),
                summary={"runs done": len(done), "runs": len(runs)},
                table=table(
                    done,
                    [("run", lambda r: r.id)]
                    + [(k, k) for k in varying_keys(runs)]
                    + [(m, m) for _, ms in panels for m, _, _ in ms],
                ),
                series=series,
                missing=missing.to_json(),
            ),
        )
