# SPDX-License-Identifier: MIT
"""Qiao et al. 2024, Fig. 1: large step sizes give sparse, flat and well-generalising fits.

Runs: a sweep over optim.eta (and possibly seeds) on noisy data. Left: fitted functions for several
eta with f0 and the noisy labels. Centre: sharpness at the end of training vs eta with 2/eta and the
lower bounds 1 + 2 int |f''| g (Lemma 4) and that minus the non-interpolating correction
2 (R + 1) sqrt(2 L) (SPEC.md 1.7). Right: MSE against f0 on the strict interior and the full range
(U-shape: the step size acts as a regulariser).
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    COLOR_LEMMA4,
    COLOR_SHARPNESS,
    COLOR_TWO_OVER_ETA,
    EDGE_TOLERANCE,
    Context,
    FigureRecord,
    data_range,
    eta_colors,
    legend_below,
    plot_noisy_labels,
    plot_series,
    plot_target,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, first_seed, group_by, pick_spread

ETA_KEY = "optim.eta"
FITS_SHOWN = 4
PLOT_MARGIN = 0.03  # of the data range, on each side of the fitted-function panel
# The centre panel's log axis starts at this fraction of the smallest sharpness / Lemma 4 value.
CURVATURE_AXIS_FLOOR = 0.2


def corrected_lower_bound(run: Run) -> float:
    """Lemma 4's bound minus the non-interpolating correction: 1 + 2 int|f''|g - 2 (R+1) sqrt(2L).

    Neural-Shattering Thm 3.2 (SPEC.md 1.7): int|f''|g <= lambda_max/2 - 1/2 + (R+1) sqrt(2L). The
    store has noninterpolating_bound = 1/eta - 1/2 + (R+1) sqrt(2L) and thm1_rhs = 1/eta - 1/2 at
    the same eta, so their difference is (R+1) sqrt(2L)."""
    correction = run.metric("noninterpolating_bound") - run.metric("thm1_rhs")
    return run.metric("lemma4_bound") - 2.0 * correction


def with_value(chosen: list[float], value: float | None) -> list[float]:
    """`chosen` (sorted) with `value` in place of its nearest interior entry (in log scale), unless
    it is already there; the smallest and largest entries stay."""
    if value is None or value in chosen or len(chosen) < 3:
        return chosen
    interior = range(1, len(chosen) - 1)
    nearest = min(interior, key=lambda i: abs(math.log(chosen[i]) - math.log(value)))
    return sorted(chosen[:nearest] + [value] + chosen[nearest + 1 :])


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, ETA_KEY)
    fig, (ax_fit, ax_sharp, ax_mse) = ctx.figure(3, aspect=0.95)
    series: dict[str, Any] = {"fits": []}

    # Left: fitted functions, for step sizes spread over the range and the one with the smallest
    # median interior MSE (the bottom of the U).
    done_etas = [eta for eta, runs in groups.items() if any(r.done for r in runs)]
    interior = aggregate(groups, "mse_interior")
    best_eta = (
        float(interior.x[np.nanargmin(interior.median)])
        if np.isfinite(interior.median).any()
        else None
    )
    shown = with_value(pick_spread(done_etas, FITS_SHOWN), best_eta)
    data = None
    for eta, color in zip(shown, eta_colors(len(shown))):
        run = first_seed([r for r in groups[eta] if r.done])
        if data is None:
            data = ctx.data(run)
            lo, hi = data_range(data, PLOT_MARGIN)
            plot_noisy_labels(ax_fit, data)
            target = plot_target(ax_fit, ctx, run, lo, hi)
            if target is not None:
                series["target"] = target
        curves = ctx.curves(run, missing, lo, hi)
        if curves is None:
            continue
        knots = int(run.metric("knots")) if run.has("knots") else None
        ax_fit.plot(
            curves["x"],
            curves["f"],
            color=color,
            linewidth=1.4,
            label=f"η = {eta:.3g}"
            + (f", {knots} knots" if knots is not None else "")
            + (", lowest MSE" if eta == best_eta else ""),
        )
        series["fits"].append(
            {
                "run_id": run.id,
                "eta": eta,
                "x": curves["x"],
                "f": curves["f"],
                "knots": curves["knots"],
            }
        )
    ax_fit.set(xlabel="x", ylabel="f(x)", title="fitted functions")
    legend_below(ax_fit)

    # Centre: sharpness and bounds vs eta.
    etas = np.array(list(groups), dtype=float)
    if etas.size:
        fine = np.geomspace(etas.min(), etas.max(), 200)
        ax_sharp.plot(fine, 2.0 / fine, color=COLOR_TWO_OVER_ETA, label="2/η")
    vs_eta = {}
    lowest = []
    for key, value, label, color, style, marker in (
        ("sharpness", "sharpness", "sharpness λmax", COLOR_SHARPNESS, "--", "o"),
        ("lemma4_bound", "lemma4_bound", "1 + 2∫|f''|g", COLOR_LEMMA4, "-", "^"),
        (
            "corrected_lower_bound",
            corrected_lower_bound,
            "1 + 2∫|f''|g − 2(R+1)√(2L)",
            "tab:pink",
            ":",
            "v",
        ),
    ):
        s = aggregate(groups, value, missing)
        vs_eta[key] = s.to_json()
        s.median, s.lo, s.hi = positive(s.median), positive(s.lo), positive(s.hi)
        if np.isfinite(s.median).any():
            plot_series(ax_sharp, s, label, color, marker=marker, linestyle=style)
            if key != "corrected_lower_bound":
                lowest.append(np.nanmin(s.median))
    ax_sharp.set_xscale("log")
    ax_sharp.set_yscale("log")
    if lowest:
        # The corrected bound can be tiny or negative where the loss is large (small eta): it is
        # vacuous there, and drawing it all the way down would squash the other curves.
        ax_sharp.set_ylim(bottom=CURVATURE_AXIS_FLOOR * min(lowest))
    ax_sharp.set(xlabel="step size η", ylabel="curvature", title="sharpness vs η")
    legend_below(ax_sharp)

    # Right: MSE against f0 vs eta.
    for metric, label, color, marker in (
        ("mse_interior", "MSE vs f0, strict interior", "tab:blue", "o"),
        ("mse_full", "MSE vs f0, full range", "tab:gray", "s"),
    ):
        s = aggregate(groups, metric, missing)
        vs_eta[metric] = s.to_json()
        if np.isfinite(s.median).any():
            plot_series(ax_mse, s, label, color, marker=marker)
    ax_mse.set_xscale("log")
    ax_mse.set_yscale("log")
    ax_mse.set(xlabel="step size η", ylabel="test MSE", title="generalisation vs η")
    if ax_mse.get_legend_handles_labels()[0]:
        legend_below(ax_mse, ncol=1)
    series["vs_eta"] = vs_eta

    summary: dict[str, Any] = {}
    interior = vs_eta["mse_interior"]
    med = np.asarray(interior["median"], dtype=float)
    if np.isfinite(med).any():
        best = int(np.nanargmin(med))
        summary["eta with the smallest interior MSE"] = float(interior["x"][best])
        summary["smallest median interior MSE"] = float(med[best])
        summary["interior MSE at the smallest eta"] = float(med[0])
        summary["interior MSE at the largest eta"] = float(med[-1])
        summary["U-shape (minimum strictly inside the eta range)"] = bool(0 < best < med.size - 1)
    done = [r for r in ctx.results.runs if r.done]
    checkable = [r for r in done if r.has("sharpness") and r.has("final_eta")]
    if checkable:
        stable = sum(
            r.metric("sharpness") <= 2 / r.metric("final_eta") * (1 + EDGE_TOLERANCE)
            for r in checkable
        )
        summary[f"runs with sharpness <= 2/eta (1 + {EDGE_TOLERANCE:g})"] = (
            f"{stable} of {len(checkable)}"
        )
    caption = (
        "GD with constant step size η on noisy samples of f0. Left: fitted functions for "
        "several η (larger η: fewer knots), with f0 (dashed) and the noisy labels. Centre: the "
        "sharpness at the end of training with the stability limit 2/η, Lemma 4's quantity "
        "1 + 2∫|f''|g and the lower bound on λmax for non-interpolating points, "
        "1 + 2∫|f''|g − 2(R+1)√(2L) (SPEC.md 1.7; vacuous, hence cut off by the axis, where the "
        "loss is large). Right: mean squared error against f0 on a dense grid of the strict "
        "interior and of the full data range. "
        "Median and interquartile band over seeds where there are several."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="qiao2024_fig1",
            title="Qiao et al. 2024, Fig. 1: step size, flatness, generalisation",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (float(r.config[ETA_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("eta", ETA_KEY),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("loss", "loss"),
                    ("2/eta", "two_over_eta"),
                    ("sharpness", "sharpness"),
                    ("Lemma 4 bound", "lemma4_bound"),
                    ("corrected bound", corrected_lower_bound),
                    ("knots", "knots"),
                    ("MSE interior", "mse_interior"),
                    ("MSE full", "mse_full"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
