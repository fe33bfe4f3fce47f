# SPDX-License-Identifier: MIT
"""Qiao et al. 2024, appendix figure: statistics of the learned knots vs 1/eta.

Runs: a sweep over optim.eta (and seeds) with measure.knot_stats. (1) quantiles of the active knot
locations (knot_q10 .. knot_q90); (2) sparsity: the number of active neurons (active_neurons, and
the distinct knots inside the data range); (3) distance of the active knots to the nearest training
input (knot_distance_q50, _q90, _max). Larger eta: fewer active neurons, knots away from the inputs.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    Context,
    FigureRecord,
    log_axis_ticks,
    note_missing,
    plot_series,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, first_seed, group_by

ETA_KEY = "optim.eta"
QUANTILES = ("knot_q10", "knot_q25", "knot_q50", "knot_q75", "knot_q90")
DISTANCES = (
    ("knot_distance_q50", "median", "tab:blue", "o"),
    ("knot_distance_q90", "90th percentile", "tab:orange", "s"),
    ("knot_distance_max", "maximum", "tab:red", "^"),
)


def inverse_eta(run: Run) -> float:
    return 1.0 / float(run.config[ETA_KEY])


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, inverse_eta)
    fig, (ax_q, ax_sparse, ax_dist) = ctx.figure(3, aspect=0.95)
    series: dict[str, Any] = {}

    quantiles = {name: aggregate(groups, name, missing) for name in QUANTILES}
    series["knot_quantiles"] = {name: s.to_json() for name, s in quantiles.items()}
    x = quantiles["knot_q50"].x
    if np.isfinite(quantiles["knot_q50"].median).any():
        ax_q.fill_between(
            x,
            quantiles["knot_q10"].median,
            quantiles["knot_q90"].median,
            color="tab:blue",
            alpha=0.15,
            linewidth=0,
            label="10%-90%",
        )
        ax_q.fill_between(
            x,
            quantiles["knot_q25"].median,
            quantiles["knot_q75"].median,
            color="tab:blue",
            alpha=0.3,
            linewidth=0,
            label="25%-75%",
        )
        ax_q.plot(
            x, quantiles["knot_q50"].median, "o-", color="tab:blue", markersize=3.5, label="median"
        )
    else:
        note_missing(ax_q, "knot quantiles (measure.knot_stats)")
    done = [r for r in ctx.results.runs if r.done]
    spacing = None
    if done:
        data = ctx.data(first_seed(done))
        for edge in (data.x.min(), data.x.max()):
            ax_q.axhline(edge, color="0.5", linestyle=":", linewidth=0.9)
        spacing = float(np.ptp(data.x)) / max(data.x.size - 1, 1)
        series["data_range"] = [float(data.x.min()), float(data.x.max())]
    ax_q.set_xscale("log")
    log_axis_ticks(ax_q, list(groups))
    ax_q.set(xlabel="1/η", ylabel="knot location", title="(1) quantiles of the active knots")
    if ax_q.get_legend_handles_labels()[0]:
        ax_q.legend(loc="best")

    sparsity = {}
    for metric, label, color, marker in (
        ("active_neurons", "active neurons", "tab:green", "o"),
        ("knots", "distinct knots in the data range", "0.4", "s"),
    ):
        s = aggregate(groups, metric, missing)
        sparsity[metric] = s.to_json()
        if np.isfinite(s.median).any():
            plot_series(ax_sparse, s, label, color, marker=marker)
    ax_sparse.set_xscale("log")
    log_axis_ticks(ax_sparse, list(groups))
    ax_sparse.set(xlabel="1/η", ylabel="count", title="(2) sparsity of the coefficients")
    if ax_sparse.get_legend_handles_labels()[0]:
        ax_sparse.legend(loc="best")
    series["sparsity"] = sparsity

    distances = {}
    for metric, label, color, marker in DISTANCES:
        s = aggregate(groups, metric, missing)
        distances[metric] = s.to_json()
        s.median, s.lo, s.hi = positive(s.median), positive(s.lo), positive(s.hi)
        if np.isfinite(s.median).any():
            plot_series(ax_dist, s, label, color, marker=marker)
    if not any(np.isfinite(np.asarray(d["median"], dtype=float)).any() for d in distances.values()):
        note_missing(ax_dist, "knot distances (measure.knot_stats)")
    if spacing:
        ax_dist.axhline(
            spacing / 2,
            color="0.4",
            linestyle=":",
            linewidth=1.0,
            label="half the mean input spacing",
        )
    ax_dist.set_xscale("log")
    log_axis_ticks(ax_dist, list(groups))
    if np.isfinite(
        positive(np.concatenate([np.asarray(d["median"], dtype=float) for d in distances.values()]))
    ).any():
        ax_dist.set_yscale("log")
    ax_dist.set(
        xlabel="1/η",
        ylabel="distance to the nearest input",
        title="(3) knot distance to the inputs",
    )
    if ax_dist.get_legend_handles_labels()[0]:
        ax_dist.legend(loc="best")
    series["distances"] = distances

    summary: dict[str, Any] = {"step sizes": len(groups), "runs done": len(done)}
    if spacing:
        summary["mean input spacing"] = spacing
    active = aggregate(groups, "active_neurons")
    if np.isfinite(active.median).any():
        summary["median active neurons at the largest eta"] = float(active.median[0])
        summary["median active neurons at the smallest eta"] = float(active.median[-1])
    caption = (
        "Statistics of the learned knots t = −b1/w1 of the active neurons (SPEC.md 3.4: slope "
        "jump above a fraction of the largest and knot inside the data range) against 1/η. "
        "(1) Quantiles of their locations (dotted: the data range); (2) the number of active "
        "neurons and of distinct knots in the data range; (3) the distance of the active knots "
        "to the nearest training input. Median (and interquartile band) over seeds."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="qiao2024_knots",
            title="Qiao et al. 2024: knot statistics vs 1/η",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (inverse_eta(r), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("eta", ETA_KEY),
                    ("seed", "run.seed"),
                    ("active", "active_neurons"),
                    ("knots", "knots"),
                    ("q10", "knot_q10"),
                    ("q50", "knot_q50"),
                    ("q90", "knot_q90"),
                    ("dist q50", "knot_distance_q50"),
                    ("dist q90", "knot_distance_q90"),
                    ("dist max", "knot_distance_max"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
