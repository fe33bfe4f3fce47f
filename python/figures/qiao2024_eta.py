# SPDX-License-Identifier: MIT
"""Qiao et al. 2024, main-text figure: a large (0.4) vs a small (0.01) step size, one row each.

Runs: a sweep over optim.eta (rows, largest first). (a) the trained function with f0, the noisy
labels and the fitted values at the training inputs; (b) training loss and MSE against f0 (at the
training inputs, log metric mse_clean) vs iteration, log-log; (c) the learned basis functions: each
neuron's contribution x -> w2 relu(w1 x + b1).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import (
    Context,
    FigureRecord,
    data_range,
    plot_noisy_labels,
    plot_target,
    positive,
    table,
)
from figures.results import MissingLog, first_seed, group_by, neuron_functions

ETA_KEY = "optim.eta"
MAX_ROWS = 3
PLOT_MARGIN = 0.03
COLOR_FIT = "tab:blue"


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, ETA_KEY)
    etas = sorted((eta for eta, runs in groups.items() if any(r.done for r in runs)), reverse=True)
    if len(etas) > MAX_ROWS:
        etas = [etas[0], etas[len(etas) // 2], etas[-1]]
    rows = max(len(etas), 1)
    fig, axes = ctx.figure(3, rows=rows, aspect=0.8, squeeze=False)
    series: dict[str, Any] = {"rows": []}
    summary: dict[str, Any] = {}
    chosen = []
    for row, eta in enumerate(etas):
        ax_fit, ax_curve, ax_basis = axes[row]
        run = first_seed([r for r in groups[eta] if r.done])
        chosen.append(run)
        data = ctx.data(run)
        lo, hi = data_range(data, PLOT_MARGIN)
        record: dict[str, Any] = {"run_id": run.id, "eta": eta}
        plot_noisy_labels(ax_fit, data)
        target = plot_target(ax_fit, ctx, run, lo, hi)
        curves = ctx.curves(run, missing, lo, hi)
        if curves is not None:
            ax_fit.plot(curves["x"], curves["f"], color=COLOR_FIT, label="trained f")
            b2 = float(curves.get("b2", 0.0))
            fitted = neuron_functions(curves["neurons"], data.x).sum(axis=0) + b2
            ax_fit.plot(
                data.x, fitted, "x", color=COLOR_FIT, markersize=4, mew=1.0, label="fitted values"
            )
            basis = neuron_functions(curves["neurons"], curves["x"])
            colors = plt.get_cmap("tab10")
            for i, contribution in enumerate(basis):
                ax_basis.plot(
                    curves["x"], contribution, color=colors(i % 10), linewidth=0.8, alpha=0.8
                )
            record.update(
                {
                    "x": curves["x"],
                    "f": curves["f"],
                    "fitted_values": fitted,
                    "neurons": curves["neurons"],
                    "knots": curves["knots"],
                }
            )
            active = int(np.sum(np.abs(basis).max(axis=1) > 0)) if basis.size else 0
            summary[f"neurons with a non-zero contribution on the plot range (η = {eta:.3g})"] = (
                active
            )
        if target is not None:
            record["target"] = target
        log = ctx.results.log(run)
        for metric, label, color in (
            ("loss", "training loss", "black"),
            ("mse_clean", "MSE vs f0 (training inputs)", "tab:red"),
        ):
            if metric not in log:
                missing.add(run, f"{metric} log")
                continue
            steps, values = log.steps(metric), log.values(metric)
            keep = steps > 0  # log-scaled iteration axis
            ax_curve.loglog(steps[keep], positive(values[keep]), color=color, label=label)
            record[f"log_{metric}"] = {"step": steps, "value": values}
        for metric in ("loss", "mse_clean", "mse_interior", "sharpness", "two_over_eta", "knots"):
            summary[f"{metric} (η = {eta:.3g})"] = run.metric(metric)
        title_eta = f"η = {eta:.3g}"
        ax_fit.set(xlabel="x", ylabel="f(x)", title=f"(a) trained function, {title_eta}")
        ax_fit.legend(loc="best")
        ax_curve.set(
            xlabel="iteration", ylabel="loss / MSE", title=f"(b) learning curves, {title_eta}"
        )
        if ax_curve.get_legend_handles_labels()[0]:
            ax_curve.legend(loc="best")
        ax_basis.set(
            xlabel="x",
            ylabel="w2 relu(w1 x + b1)",
            title=f"(c) learned basis functions, {title_eta}",
        )
        ax_basis.axhline(0, color="0.5", linewidth=0.6)
        series["rows"].append(record)
    caption = (
        "GD with a large and a small step size (one row each) on the same noisy data from one "
        "initialisation. (a) The trained function (blue), the ground truth f0 (dashed), the "
        "noisy labels (grey) and the fitted values at the training inputs (crosses). (b) "
        "Training loss and mean squared error against f0 at the training inputs vs iteration. "
        "(c) Each neuron's contribution w2 relu(w1 x + b1): the large step size uses few, "
        "well-separated basis functions, the small one many that fit the noise."
    )
    done = [r for r in ctx.results.runs if r.done]
    ctx.writer.save(
        fig,
        FigureRecord(
            name="qiao2024_eta",
            title="Qiao et al. 2024: large vs small step size",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (-float(r.config[ETA_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("eta", ETA_KEY),
                    ("seed", "run.seed"),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("MSE (train x)", "mse_clean"),
                    ("MSE interior", "mse_interior"),
                    ("MSE full", "mse_full"),
                    ("sharpness", "sharpness"),
                    ("2/eta", "two_over_eta"),
                    ("knots", "knots"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
