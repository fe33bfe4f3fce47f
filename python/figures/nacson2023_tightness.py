# SPDX-License-Identifier: MIT
"""Nacson et al. 2023: tightness of the multivariate stability bound on binary image data.

Runs: a sweep over optim.eta (and possibly optim.batch and seeds) from one initialisation, on a
two-class image task with labels +-1 and the quadratic loss. Only runs that converged (metric
outcome = 0) are drawn: the bound is about minima GD can stay at. (a) Against eta: the stability
limit 2/eta, the sharpness at convergence and 1 + 2 x the multivariate weighted norm (metric
lemma4_bound, SPEC.md 4.2); the theory puts 1 + 2 x weighted norm <= sharpness <= 2/eta.
(b) The validation error (sign of f against the label) against eta.
"""

from __future__ import annotations

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
    legend_below,
    plot_series,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, group_by

ETA_KEY = "optim.eta"
BATCH_KEY = "optim.batch"
COLOR_VAL = "tab:blue"
# One marker and line style per batch setting when the sweep has several (GD, SGD B = ...).
STYLES = (("o", "--"), ("s", ":"), ("D", "-."), ("v", (0, (5, 2))))


def converged(run: Run) -> bool:
    return run.done and run.outcome() == "converged"


def batch_label(batch: Any) -> str:
    """'GD' for full batch (0), else 'SGD, B = ...'."""
    return "GD" if not batch else f"SGD, B = {int(batch)}"


def stability_limit(run: Run) -> float:
    """2 / (the step size at the end of training): metric two_over_eta, else 2/final_eta, else
    2/optim.eta."""
    if run.has("two_over_eta"):
        return run.metric("two_over_eta")
    if run.has("final_eta"):
        return 2.0 / run.metric("final_eta")
    return 2.0 / float(run.config[ETA_KEY])


def bound_holds(run: Run) -> bool:
    """1 + 2 x weighted norm <= sharpness <= 2/eta, both within EDGE_TOLERANCE (relative)."""
    sharpness = run.metric("sharpness")
    return run.metric("lemma4_bound") <= sharpness * (
        1 + EDGE_TOLERANCE
    ) and sharpness <= stability_limit(run) * (1 + EDGE_TOLERANCE)


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    done = [r for r in ctx.results.runs if r.done]
    kept = [r for r in ctx.results.runs if converged(r)]
    for run in ctx.results.runs:
        if not converged(run):
            missing.add(run, f"convergence (outcome {run.outcome()})")
    by_batch = group_by(kept, lambda r: int(r.config.get(BATCH_KEY, 0)))
    all_etas = np.array(sorted({float(r.config[ETA_KEY]) for r in ctx.results.runs}), dtype=float)

    fig, (ax_curv, ax_val) = ctx.figure(2, aspect=0.75, sharex=True)
    if all_etas.size:
        fine = np.geomspace(all_etas.min(), all_etas.max(), 200)
        ax_curv.plot(fine, 2.0 / fine, color=COLOR_TWO_OVER_ETA, label="2/η (stability limit)")
    series: dict[str, Any] = {"converged_runs": [r.id for r in kept], "by_batch": {}}
    several = len(by_batch) > 1
    for (batch, runs), (marker, style) in zip(by_batch.items(), STYLES):
        groups = group_by(runs, ETA_KEY)
        suffix = f" ({batch_label(batch)})" if several else ""
        entry: dict[str, Any] = {"batch": batch, "label": batch_label(batch)}
        for metric, label, color, line, mark in (
            ("sharpness", "sharpness λmax", COLOR_SHARPNESS, style, marker),
            ("lemma4_bound", "1 + 2 Σ|a_k| g_k (weighted norm)", COLOR_LEMMA4, "-", "^"),
        ):
            s = aggregate(groups, metric, missing)
            entry[metric] = s.to_json()
            s.median, s.lo, s.hi = positive(s.median), positive(s.lo), positive(s.hi)
            if np.isfinite(s.median).any():
                plot_series(ax_curv, s, label + suffix, color, marker=mark, linestyle=line)
        s = aggregate(groups, "val_error", missing)
        entry["val_error"] = s.to_json()
        if np.isfinite(s.median).any():
            plot_series(
                ax_val, s, "validation error" + suffix, COLOR_VAL, marker=marker, linestyle=style
            )
        series["by_batch"][str(batch)] = entry
    # Runs that finished without converging: their validation error is shown hollow, for context.
    others = [r for r in done if not converged(r) and r.has("val_error")]
    if others:
        ax_val.plot(
            [float(r.config[ETA_KEY]) for r in others],
            [r.metric("val_error") for r in others],
            "o",
            markerfacecolor="none",
            color="0.5",
            label="not converged",
        )
    series["val_error_not_converged"] = {
        "run_id": [r.id for r in others],
        "eta": [float(r.config[ETA_KEY]) for r in others],
        "val_error": [r.metric("val_error") for r in others],
    }
    # Step sizes with no converged run at all (diverged or out of steps): a cross on 2/eta.
    unconverged = sorted(
        {float(r.config[ETA_KEY]) for r in ctx.results.runs}
        - {float(r.config[ETA_KEY]) for r in kept}
    )
    if unconverged:
        ax_curv.plot(
            unconverged,
            [2.0 / eta for eta in unconverged],
            "x",
            color="0.3",
            markersize=7,
            mew=1.5,
            label="no run converged at this η",
        )
    series["step_sizes_without_convergence"] = unconverged
    for ax in (ax_curv, ax_val):
        ax.set_xscale("log")
    ax_curv.set_yscale("log")
    ax_curv.set(xlabel="step size η", ylabel="curvature", title="(a) sharpness and bounds vs η")
    ax_val.set(xlabel="step size η", ylabel="validation error", title="(b) validation error vs η")
    ax_val.set_ylim(bottom=0)
    legend_below(ax_curv, ncol=1)
    if ax_val.get_legend_handles_labels()[0]:
        legend_below(ax_val, ncol=2)

    summary: dict[str, Any] = {
        "runs done": len(done),
        "runs converged": len(kept),
        "step sizes": int(all_etas.size),
    }
    checkable = [r for r in kept if r.has("sharpness") and r.has("lemma4_bound")]
    if checkable:
        summary[f"converged runs with 1 + 2 wn <= sharpness <= 2/eta (1 + {EDGE_TOLERANCE:g})"] = (
            f"{sum(bound_holds(r) for r in checkable)} of {len(checkable)}"
        )
        summary["max sharpness / (2/eta)"] = max(
            r.metric("sharpness") / stability_limit(r) for r in checkable
        )
        summary["min sharpness / (2/eta)"] = min(
            r.metric("sharpness") / stability_limit(r) for r in checkable
        )
        ratios = [r.metric("lemma4_bound") / r.metric("sharpness") for r in checkable]
        summary["(1 + 2 wn) / sharpness, min"] = min(ratios)
        summary["(1 + 2 wn) / sharpness, max"] = max(ratios)
    with_val = [r for r in kept if r.has("val_error")]
    if with_val:
        ordered = sorted(with_val, key=lambda r: float(r.config[ETA_KEY]))
        summary["validation error at the smallest converged eta"] = ordered[0].metric("val_error")
        summary["validation error at the largest converged eta"] = ordered[-1].metric("val_error")
        summary["largest converged eta"] = float(ordered[-1].config[ETA_KEY])
    n_values = sorted({int(r.config.get("data.n", 0)) for r in done})
    if len(n_values) == 1:
        summary["training images n"] = n_values[0]
    caption = (
        "GD (full batch) on a two-class image task, labels ±1, quadratic loss, with several step "
        "sizes η from one initialisation; only runs that converged (loss below the tolerance for "
        "the patience window) are drawn; a cross on 2/η marks a step size where none did. (a) The "
        "stability limit 2/η, the sharpness λmax of the "
        "Hessian at convergence and the lower bound 1 + 2 Σ_k |a_k| g(u_k, t_k) with the "
        "multivariate weight function g (SPEC.md 1.8, 4.2): a linearly stable minimum has "
        "1 + 2 Σ|a_k| g_k <= λmax <= 2/η. (b) The fraction of validation images whose sign of f "
        "differs from their label (hollow grey: runs that did not converge). Median and "
        "interquartile band over seeds where there are several."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="nacson2023_tightness",
            title="Nacson et al. 2023: tightness of the stability bound on image data",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (float(r.config[ETA_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("eta", ETA_KEY),
                    ("batch", lambda r: r.config.get(BATCH_KEY, 0)),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("2/eta", stability_limit),
                    ("sharpness", "sharpness"),
                    ("1 + 2 wn", "lemma4_bound"),
                    ("weighted norm", "weighted_norm"),
                    ("val error", "val_error"),
                    (
                        "bound holds",
                        lambda r: (
                            bound_holds(r)
                            if converged(r) and r.has("sharpness") and r.has("lemma4_bound")
                            else None
                        ),
                    ),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
