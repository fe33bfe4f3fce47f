# SPDX-License-Identifier: MIT
"""Mulayoff et al. 2021, Fig. 3: GD with various step sizes from one initialisation.

Runs: a sweep over optim.eta (and possibly seeds). (a) data and the converged interpolants for a
small, a medium and a large step size; (b) g and the smoothed |f''| of each; (c) vs eta: the
stability limit 2/eta, the sharpness of the converged minimum, the sharpness of its flattest
implementation over per-neuron rescalings (metric flattest_sharpness, dashed) and over all
implementations of the same function (metric flattest_all_sharpness, solid) and Lemma 4's lower
bound 1 + 2 int |f''| g (metric lemma4_bound).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    COLOR_FLATTEST,
    COLOR_LEMMA4,
    COLOR_SHARPNESS,
    COLOR_THREE,
    COLOR_TWO_OVER_ETA,
    EDGE_TOLERANCE,
    Context,
    FigureRecord,
    add_g_axis,
    legend_below,
    plot_series,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, first_seed, group_by

ETA_KEY = "optim.eta"


def pick_three(groups: dict[Any, list[Run]]) -> list[Run]:
    """Representative runs (first seed) of the smallest, a middle (in log eta) and the largest step
    size among the finished runs."""
    reps = [
        run
        for run in (first_seed([r for r in runs if r.done]) for runs in groups.values())
        if run is not None
    ]
    if len(reps) <= 3:
        return reps
    etas = np.log([float(r.config[ETA_KEY]) for r in reps])
    middle = int(np.argmin(np.abs(etas - 0.5 * (etas[0] + etas[-1]))))
    return [reps[0], reps[middle], reps[-1]]


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, ETA_KEY)
    chosen = pick_three(groups)
    fig, (ax_f, ax_f2, ax_eta) = ctx.figure(3, aspect=0.95)
    series: dict[str, Any] = {"interpolants": []}
    data = None
    g_curve = None
    names = (
        ("small", "medium", "large")[: len(chosen)]
        if len(chosen) == 3
        else [f"#{i + 1}" for i in range(len(chosen))]
    )
    for run, name, color in zip(chosen, names, COLOR_THREE):
        curves = ctx.curves(run, missing)
        if curves is None:
            continue
        data = data or ctx.data(run)
        eta = float(run.config[ETA_KEY])
        # A run stopped by max_steps is still drawn (its final function), but says so.
        note = "" if run.outcome() == "converged" else f" ({run.outcome()})"
        ax_f.plot(curves["x"], curves["f"], color=color, label=f"{name} η = {eta:.3g}{note}")
        ax_f2.plot(
            curves["x"], curves["abs_f2_smoothed"], color=color, label=f"|f''|, η = {eta:.3g}"
        )
        g_curve = (curves["x"], curves["g"])
        series["interpolants"].append(
            {
                "run_id": run.id,
                "eta": eta,
                "x": curves["x"],
                "f": curves["f"],
                "abs_f2_smoothed": curves["abs_f2_smoothed"],
                "knots": curves["knots"],
            }
        )
    if data is not None:
        ax_f.plot(
            data.x, data.y, "x", color="tab:red", markersize=6, mew=1.3, label="data", zorder=5
        )
        for ax in (ax_f, ax_f2):
            for edge in (data.x.min(), data.x.max()):
                ax.axvline(edge, color="0.6", linewidth=0.8, linestyle=":")
    if g_curve is not None:
        add_g_axis(ax_f2, *g_curve, headroom=1.1, legend_loc="below")
        series["g"] = {"x": g_curve[0], "g": g_curve[1]}
    else:
        ax_f2.set_ylim(bottom=0)
    legend_below(ax_f)
    ax_f.set(xlabel="x", ylabel="f(x)", title="(a) interpolants at the end of training")
    ax_f2.set(xlabel="x", ylabel="smoothed |f''(x)|", title="(b) |f''| and g")

    # (c) curvature vs step size.
    etas = np.array([float(e) for e in groups], dtype=float)
    if etas.size:
        fine = np.geomspace(etas.min(), etas.max(), 200)
        ax_eta.loglog(fine, 2.0 / fine, color=COLOR_TWO_OVER_ETA, label="2/η (stability limit)")
    curves_vs_eta = {}
    for metric, label, color, style, marker in (
        ("sharpness", "sharpness λmax", COLOR_SHARPNESS, "--", "o"),
        ("flattest_sharpness", "flattest over rescalings", COLOR_FLATTEST, "--", "s"),
        ("flattest_all_sharpness", "flattest over all implementations", COLOR_FLATTEST, "-", "D"),
        ("lemma4_bound", "1 + 2∫|f''|g (Lemma 4)", COLOR_LEMMA4, "-", "^"),
    ):
        s = aggregate(groups, metric, missing)
        curves_vs_eta[metric] = s.to_json()
        if np.isfinite(s.median).any():
            s.median, s.lo, s.hi = positive(s.median), positive(s.lo), positive(s.hi)
            plot_series(ax_eta, s, label, color, marker=marker, linestyle=style)
    ax_eta.set_xscale("log")
    ax_eta.set_yscale("log")
    ax_eta.set(xlabel="step size η", ylabel="curvature", title="(c) sharpness vs step size")
    legend_below(ax_eta)
    series["vs_eta"] = curves_vs_eta

    done = [r for r in ctx.results.runs if r.done]
    summary: dict[str, Any] = {"runs done": len(done), "step sizes": len(groups)}
    with_sharp = [r for r in done if r.has("sharpness") and r.has("final_eta")]
    if with_sharp:
        summary[f"runs with sharpness <= 2/eta (1 + {EDGE_TOLERANCE:g})"] = sum(
            r.metric("sharpness") <= 2.0 / r.metric("final_eta") * (1 + EDGE_TOLERANCE)
            for r in with_sharp
        )
        summary["max sharpness x eta / 2"] = max(
            r.metric("sharpness") * r.metric("final_eta") / 2 for r in with_sharp
        )
    with_flat = [r for r in done if r.has("flattest_sharpness") and r.has("lemma4_bound")]
    if with_flat:
        summary["runs with Lemma 4 bound <= flattest sharpness"] = sum(
            r.metric("lemma4_bound") <= r.metric("flattest_sharpness") * (1 + EDGE_TOLERANCE)
            for r in with_flat
        )
        summary["runs with flattest sharpness <= sharpness"] = sum(
            r.metric("flattest_sharpness") <= r.metric("sharpness") * (1 + EDGE_TOLERANCE)
            for r in with_flat
            if r.has("sharpness")
        )
    with_all = [r for r in with_flat if r.has("flattest_all_sharpness")]
    if with_all:
        summary["runs with Lemma 4 bound <= certified bound <= flattest (all) <= flattest"] = sum(
            r.metric("lemma4_bound") <= r.metric("flattest_all_lower_bound") * (1 + EDGE_TOLERANCE)
            and r.metric("flattest_all_lower_bound")
            <= r.metric("flattest_all_sharpness") * (1 + EDGE_TOLERANCE)
            and r.metric("flattest_all_sharpness")
            <= r.metric("flattest_sharpness") * (1 + EDGE_TOLERANCE)
            for r in with_all
        )
        summary["max flattest (all) / Lemma 4 bound"] = max(
            r.metric("flattest_all_sharpness") / r.metric("lemma4_bound") for r in with_all
        )
    caption = (
        "GD with several step sizes from one initialisation. (a) The data (red crosses) and "
        "the converged interpolants for a small (black), medium (blue) and large (green) step "
        "size; dotted lines mark the data range. (b) The Gaussian-smoothed |f''| of each and "
        "the weight function g (dashed, right axis). (c) Against η: the stability limit 2/η, the "
        "sharpness of the converged minimum, the sharpness of the flattest implementation of "
        "the same function over per-neuron rescalings (dashed) and over all implementations "
        "(solid; sides of the neurons chosen, extra neurons allowed) and Lemma 4's lower bound "
        "1 + 2∫|f''|g "
        "(median and interquartile band over seeds where there are several)."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="mulayoff2021_fig3",
            title="Mulayoff et al. 2021, Fig. 3: step size and flatness",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (float(r.config[ETA_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("eta", ETA_KEY),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("2/eta", "two_over_eta"),
                    ("sharpness", "sharpness"),
                    ("flattest (rescalings)", "flattest_sharpness"),
                    ("flattest (all)", "flattest_all_sharpness"),
                    ("flattest (all) >=", "flattest_all_lower_bound"),
                    ("extra neurons", "flattest_all_extra_neurons"),
                    ("Lemma 4 bound", "lemma4_bound"),
                    ("weighted TV", "weighted_tv"),
                    ("knots", "knots"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
