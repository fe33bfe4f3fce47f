# SPDX-License-Identifier: MIT
"""Mulayoff et al. 2021, Fig. 2: the weight function g for uniform, Gaussian and Laplace data.

Runs: a sweep with optim.max_steps = 0 over data.inputs x data.n (x data.seed). For each law, the
empirical g of n = 20 samples standardised to zero mean and unit std (red, `relustab weight --data`)
against the population g of the unit-variance law (blue, `relustab weight --dist`). With several n,
a last panel shows sup_x |g_emp - g_pop| vs n (median and interquartile band over data seeds).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import Context, FigureRecord, log_axis_ticks
from figures.results import (
    Dataset,
    MissingLog,
    Run,
    fit_power_law,
    group_by,
    standardize,
    write_csv,
)

LAWS = ("uniform", "gaussian", "laplace")
LAW_TITLES = {"uniform": "Uniform", "gaussian": "Gaussian", "laplace": "Laplace"}
FIGURE_N = 20  # the caption's sample size
GRID_HALF_WIDTH = 3.5  # plotting range [-3.5, 3.5] in standard deviations
GRID_POINTS = 1401
# g jumps at each data point (strict inequalities); evaluating this far on either side of a point
# draws the jump as a vertical step (relative to the unit std of standardised data).
JUMP_OFFSET = 1e-9
COLOR_EMPIRICAL = "tab:red"
COLOR_POPULATION = "tab:blue"
# Paper 1 / SPEC.md 1.4 check values of the population g at 0 (unit-variance laws).
POPULATION_G_AT_ZERO = {"uniform": 0.28641, "gaussian": 0.25518, "laplace": 0.21651}


def evaluation_grid(x_data: np.ndarray) -> np.ndarray:
    """An even grid plus the points just left and right of every sample (where g jumps)."""
    grid = np.linspace(-GRID_HALF_WIDTH, GRID_HALF_WIDTH, GRID_POINTS)
    near = np.concatenate([x_data - JUMP_OFFSET, x_data + JUMP_OFFSET])
    return np.unique(np.concatenate([grid, near]))


def data_seed_order(run: Run) -> tuple[Any, ...]:
    return (run.config.get("data.seed", 0), run.config.get("run.seed", 0), run.id)


def empirical_g(ctx: Context, run: Run, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised inputs of the run's data and their empirical g at `at`."""
    data = ctx.data(run)
    x = standardize(data.x)
    path = ctx.tool.scratch_path("standardised", ".csv")
    write_csv(path, Dataset(x, data.y))
    return x, ctx.tool.weight_of_data(path, at)


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    runs = [r for r in ctx.results.runs if r.done]
    for r in ctx.results.runs:
        if not r.done:
            missing.add(r, "data (run not done)")
    by_law = group_by(runs, "data.inputs")
    laws = [law for law in LAWS if law in by_law]
    ns = sorted({int(r.config.get("data.n", 0)) for r in runs})
    convergence = len(ns) > 1
    panels = len(laws) + (1 if convergence else 0)
    fig, axes = ctx.figure(max(panels, 1), aspect=0.9, squeeze=False)
    axes = axes[0]
    series: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    rows = []
    for ax, law in zip(axes, laws):
        law_runs = by_law[law]
        n_fig = min(
            {int(r.config.get("data.n", 0)) for r in law_runs}, key=lambda n: abs(n - FIGURE_N)
        )
        run = sorted(
            [r for r in law_runs if int(r.config["data.n"]) == n_fig], key=data_seed_order
        )[0]
        probe = ctx.data(run)
        at = evaluation_grid(standardize(probe.x))
        x, g_emp = empirical_g(ctx, run, at)
        g_pop = ctx.tool.weight_of_law(law, at)
        ax.plot(at, g_pop, color=COLOR_POPULATION, label="population")
        ax.plot(at, g_emp, color=COLOR_EMPIRICAL, linewidth=1.1, label=f"empirical, n = {n_fig}")
        ax.plot(x, np.zeros_like(x), "|", color=COLOR_EMPIRICAL, markersize=6, alpha=0.7)
        ax.set(
            title=f"({'abc'[laws.index(law)]}) {LAW_TITLES[law]}",
            xlabel="x (standardised)",
            ylabel="g(x)",
            xlim=(-GRID_HALF_WIDTH, GRID_HALF_WIDTH),
        )
        ax.set_ylim(0, 1.3 * float(max(np.max(g_pop), np.max(g_emp))))
        ax.legend(loc="upper right")
        g0 = float(ctx.tool.weight_of_law(law, [0.0])[0])
        summary[f"population g(0), {law}"] = g0
        summary[f"population g(0) check value, {law}"] = POPULATION_G_AT_ZERO[law]
        summary[f"sup |g_emp - g_pop|, {law}, n = {n_fig}"] = float(np.max(np.abs(g_emp - g_pop)))
        series[law] = {
            "n": n_fig,
            "run_id": run.id,
            "x_data_standardised": x,
            "at": at,
            "g_empirical": g_emp,
            "g_population": g_pop,
        }
    if convergence:
        ax = axes[len(laws)]
        colors = {"uniform": "tab:green", "gaussian": "tab:blue", "laplace": "tab:purple"}
        sup_errors: dict[str, Any] = {}
        for law in laws:
            per_n = group_by(by_law[law], "data.n")
            med, lo, hi, n_vals = [], [], [], []
            for n, group in per_n.items():
                errors = []
                for run in group:
                    probe = ctx.data(run)
                    at = evaluation_grid(standardize(probe.x))
                    _, g_emp = empirical_g(ctx, run, at)
                    errors.append(float(np.max(np.abs(g_emp - ctx.tool.weight_of_law(law, at)))))
                q25, q50, q75 = np.percentile(errors, [25, 50, 75])
                n_vals.append(int(n))
                med.append(q50)
                lo.append(q25)
                hi.append(q75)
                rows.append([law, int(n), len(errors), q50, q25, q75])
            fit = fit_power_law(n_vals, med)
            ax.loglog(
                n_vals,
                med,
                "o-",
                markersize=3.5,
                color=colors[law],
                label=f"{LAW_TITLES[law]} (slope {fit['slope']:.2f})",
            )
            if max(len(g) for g in per_n.values()) > 1:
                ax.fill_between(n_vals, lo, hi, color=colors[law], alpha=0.18, linewidth=0)
            sup_errors[law] = {"n": n_vals, "median": med, "q25": lo, "q75": hi, "fit": fit}
            summary[f"fitted slope of sup error vs n, {law}"] = fit["slope"]
        n_ref = np.array([min(ns), max(ns)], dtype=float)
        anchor = np.nanmedian([s["median"][0] for s in sup_errors.values()])
        ax.loglog(
            n_ref,
            anchor * (n_ref / n_ref[0]) ** -0.5,
            color="0.4",
            linestyle=":",
            label="reference slope −1/2",
        )
        log_axis_ticks(ax, ns)
        ax.set(
            title=f"({'abcd'[len(laws)]}) sup |g_emp − g_pop|",
            xlabel="n",
            ylabel="sup over x of |g_emp − g_pop|",
        )
        ax.legend(loc="lower left")
        series["sup_error"] = sup_errors
    caption = (
        "The weight function g of paper 1 (eqs (21)-(23)). Red: empirical g of n i.i.d. samples "
        "standardised to zero mean and unit standard deviation (ticks: the samples); blue: "
        "population g of the unit-variance law (closed forms)."
        + (
            " Last panel: sup over x of |g_emp − g_pop| vs n, median and interquartile band over "
            "data seeds; the dotted line is a reference slope −1/2, not a theorem."
            if convergence
            else ""
        )
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="mulayoff2021_fig2",
            title="Mulayoff et al. 2021, Fig. 2: weight function g",
            caption=caption,
            summary=summary,
            table=(
                {"columns": ["law", "n", "samples", "median sup error", "q25", "q75"], "rows": rows}
                if rows
                else None
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
