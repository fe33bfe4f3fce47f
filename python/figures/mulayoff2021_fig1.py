# SPDX-License-Identifier: MIT
"""Mulayoff et al. 2021, Fig. 1: a step-size switch near a minimum moves GD to a smoother solution.

Runs: one sweep over optim.switch_factor = [1, 3]. Run A (factor 1) keeps eta; run B multiplies it
by the factor once the loss falls below optim.switch_below (the metric switch_step marks when).
(a) training loss vs iteration; (b) both interpolants with the training points; (c) smoothed |f''|
of both and the weight function g (right axis).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import COLOR_A, COLOR_B, Context, FigureRecord, add_g_axis, positive, table
from figures.results import MissingLog, Run, first_seed

SWITCH_KEY = "optim.switch_factor"
# Panel (a) uses a logarithmic iteration axis when the runs last this many times the switch step.
LOG_ITERATION_RATIO = 20.0


def partner(runs: list[Run], run: Run, key: str, value: Any) -> Run | None:
    """The run whose configuration equals `run`'s except `key` = value."""
    for other in runs:
        if other.config.get(key) == value and all(
            other.config.get(k) == v for k, v in run.config.items() if k != key
        ):
            return other
    return None


def pick_pair(runs: list[Run]) -> tuple[Run | None, Run | None]:
    """Run A (the smallest switch factor) and run B (same configuration, the largest factor)."""
    factors = sorted({float(r.config.get(SWITCH_KEY, 1.0)) for r in runs})
    if not factors:
        return None, None
    a_candidates = [r for r in runs if float(r.config.get(SWITCH_KEY, 1.0)) == factors[0]]
    run_a = first_seed([r for r in a_candidates if r.done] or a_candidates)
    if run_a is None or len(factors) < 2:
        return run_a, None
    return run_a, partner(runs, run_a, SWITCH_KEY, factors[-1])


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    run_a, run_b = pick_pair(ctx.results.runs)
    pair = [
        (r, name, color)
        for r, name, color in ((run_a, "A", COLOR_A), (run_b, "B", COLOR_B))
        if r is not None
    ]
    fig, (ax_loss, ax_f, ax_f2) = ctx.figure(3, aspect=0.95)
    series: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    data = None
    g_curve = None
    for run, name, color in pair:
        factor = float(run.config.get(SWITCH_KEY, 1.0))
        eta = float(run.config.get("optim.eta"))
        label = (
            f"run {name}: η = {eta:.3g}"
            if factor == 1.0
            else f"run {name}: η → {factor:g}η = {factor * eta:.3g}"
        )
        log = ctx.results.log(run)
        if "loss" in log:
            steps, loss = log.steps("loss"), log.values("loss")
            keep = steps > 0  # (a log iteration axis cannot show step 0)
            # Run B is dashed on top: the two curves coincide until the switch.
            ax_loss.semilogy(
                steps[keep],
                positive(loss[keep]),
                color=color,
                label=label,
                linestyle="--" if name == "B" else "-",
                linewidth=1.2 if name == "B" else 1.8,
            )
            series[f"loss_{name}"] = {"step": steps, "loss": loss}
        else:
            missing.add(run, "loss log")
        switch_step = run.metric("switch_step")
        if name == "B" and np.isfinite(switch_step) and switch_step >= 0:
            ax_loss.axvline(switch_step, color=color, linestyle=":", linewidth=1.0)
            ax_loss.annotate(
                f"switch η → {factor:g}η",
                xy=(switch_step, 0.97),
                xycoords=("data", "axes fraction"),
                ha="left",
                va="top",
                fontsize=7.5,
                color=color,
                xytext=(3, 0),
                textcoords="offset points",
            )
        curves = ctx.curves(run, missing)
        if curves is None:
            continue
        data = data or ctx.data(run)
        ax_f.plot(curves["x"], curves["f"], color=color, label=f"run {name}")
        ax_f2.plot(curves["x"], curves["abs_f2_smoothed"], color=color, label=f"|f''| run {name}")
        g_curve = (curves["x"], curves["g"])
        series[f"curves_{name}"] = {
            "x": curves["x"],
            "f": curves["f"],
            "abs_f2_smoothed": curves["abs_f2_smoothed"],
            "knots": curves["knots"],
        }
        for metric in (
            "weighted_tv",
            "sharpness",
            "final_eta",
            "two_over_eta",
            "thm1_rhs",
            "lemma4_bound",
            "loss",
            "steps",
            "switch_step",
        ):
            summary[f"{metric} ({name})"] = run.metric(metric)
        if not run.has("weighted_tv"):
            missing.add(run, "weighted_tv")

    if data is not None:
        ax_f.plot(data.x, data.y, "x", color="0.15", markersize=6, mew=1.3, label="training points")
    if g_curve is not None:
        add_g_axis(ax_f2, *g_curve)
        series["g"] = {"x": g_curve[0], "g": g_curve[1]}
    else:
        ax_f2.set_ylim(bottom=0)
    ax_loss.set(xlabel="iteration", ylabel="training loss", title="(a) training loss")
    switch_steps = [r.metric("switch_step") for r, name, _ in pair if name == "B"]
    last_step = max(
        (float(np.max(v["step"])) for k, v in series.items() if k.startswith("loss_")), default=0.0
    )
    if switch_steps and switch_steps[0] > 0 and last_step > LOG_ITERATION_RATIO * switch_steps[0]:
        # The switch happens early in a long run: a log iteration axis shows both phases.
        ax_loss.set_xscale("log")
    ax_f.set(xlabel="x", ylabel="f(x)", title="(b) interpolants")
    ax_f2.set(xlabel="x", ylabel="smoothed |f''(x)|", title="(c) |f''| and g")
    # The loss falls from the upper left: its lower left corner is free (and the switch label
    # sits at the top).
    for ax, where in ((ax_loss, "lower left"), (ax_f, "best")):
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc=where)

    if (
        run_a is not None
        and run_b is not None
        and run_a.has("weighted_tv")
        and run_b.has("weighted_tv")
    ):
        summary["weighted_tv B < A (larger step, smoother where g is high)"] = bool(
            run_b.metric("weighted_tv") < run_a.metric("weighted_tv")
        )
    for run, name, _ in pair:
        if run.has("sharpness") and run.has("final_eta"):
            summary[f"sharpness <= 2/eta ({name})"] = bool(
                run.metric("sharpness") <= 2.0 / run.metric("final_eta")
            )
    runs = [r for r, _, _ in pair]
    caption = (
        "GD from one initialisation: run A keeps the step size η, run B multiplies it by the "
        "switch factor once the loss falls below optim.switch_below (dotted line). "
        "(a) training loss; (b) the interpolants and the training points (crosses); "
        "(c) Gaussian-smoothed |f''| of both solutions and the weight function g (dashed, "
        "right axis). Paper 1's claim: the larger step ends at a solution with smaller "
        "∫|f''|g (weighted_tv), i.e. smoother where g is high."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="mulayoff2021_fig1",
            title="Mulayoff et al. 2021, Fig. 1: step-size switch",
            caption=caption,
            summary=summary,
            table=table(
                runs,
                [
                    ("run", lambda r: r.id),
                    ("switch factor", SWITCH_KEY),
                    ("eta", "optim.eta"),
                    ("final eta", "final_eta"),
                    ("switch step", "switch_step"),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("sharpness", "sharpness"),
                    ("2/eta", "two_over_eta"),
                    ("weighted TV", "weighted_tv"),
                    ("1/eta - 1/2", "thm1_rhs"),
                    ("Lemma 4 bound", "lemma4_bound"),
                    ("knots", "knots"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
