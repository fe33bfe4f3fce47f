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
from figures.verdict import Verdict, check, failed_criteria, setting

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
# Check values of the population g at 0 (unit-variance laws), by numerical integration of paper 1's
# eqs (21)-(23), quoted to 5 digits.
POPULATION_G_AT_ZERO = {"uniform": 0.28641, "gaussian": 0.25518, "laplace": 0.21651}
QUOTED_TOLERANCE = 1e-5

# The claim as numbers (the C++ acceptance test states the same criteria on the stored runs).
# "Close" at n = 20: the median over data sets of sup |g_emp - g_pop| at most this fraction of the
# population peak g(0) (ours: the figure's red and blue curves within a quarter of the peak height).
CLOSE_FRACTION = 0.25
# "The error shrinks with n": at the largest n at most 1/SHRINK_FACTOR of that at n = 20 (ours; an
# n^(-1/2) law gives a factor 22 from n = 20 to 10^4), and decreasing from each n to the next.
SHRINK_FACTOR = 5.0


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


def sup_error(ctx: Context, run: Run, law: str) -> float:
    """sup over x of |g_emp - g_pop| for the run's standardised data (on the evaluation grid)."""
    probe = ctx.data(run)
    at = evaluation_grid(standardize(probe.x))
    _, g_emp = empirical_g(ctx, run, at)
    return float(np.max(np.abs(g_emp - ctx.tool.weight_of_law(law, at))))


def make_figures(ctx: Context) -> Verdict:
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
    fig, axes = ctx.figure(max(panels, 1), aspect=1.05, squeeze=False)
    axes = axes[0]
    series: dict[str, Any] = {}
    summary: dict[str, Any] = {}
    rows = []
    g_zero: dict[str, float] = {}
    g_peak: dict[str, float] = {}
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
        ax.plot(at, g_pop, color=COLOR_POPULATION, label="population g")
        ax.plot(at, g_emp, color=COLOR_EMPIRICAL, linewidth=1.1,
                label=f"empirical g, n = {n_fig} (samples: ticks)")
        ax.plot(x, np.zeros_like(x), "|", color=COLOR_EMPIRICAL, markersize=6, alpha=0.7)
        ax.set(
            title=f"({'abc'[laws.index(law)]}) {LAW_TITLES[law]}",
            xlabel="x (standardised)",
            ylabel="g(x)",
            xlim=(-GRID_HALF_WIDTH, GRID_HALF_WIDTH),
        )
        ax.set_ylim(0, 1.15 * float(max(np.max(g_pop), np.max(g_emp))))
        g0 = float(ctx.tool.weight_of_law(law, [0.0])[0])
        g_zero[law] = g0
        g_peak[law] = float(np.max(g_pop))
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
    sup_errors: dict[str, Any] = {}
    if convergence:
        ax = axes[len(laws)]
        colors = {"uniform": "tab:green", "gaussian": "tab:blue", "laplace": "tab:purple"}
        for law in laws:
            per_n = group_by(by_law[law], "data.n")
            med, lo, hi, n_vals = [], [], [], []
            for n, group in per_n.items():
                errors = [sup_error(ctx, run, law) for run in group]
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
                label=f"(d) {LAW_TITLES[law]}, slope {fit['slope']:.2f}",
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
            label="(d) slope −1/2 (reference)",
        )
        log_axis_ticks(ax, ns)
        ax.set(
            title=f"({'abcd'[len(laws)]}) sup |g_emp − g_pop|",
            xlabel="n",
            ylabel="sup error",
        )
        series["sup_error"] = sup_errors
    # One legend above all panels: the curves of (a)-(c), then the laws of the error panel.
    handles, labels = axes[0].get_legend_handles_labels() if laws else ([], [])
    if convergence:
        more_handles, more_labels = axes[len(laws)].get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        fig.legend(handles, labels, loc="outside upper center", ncol=3, frameon=False)
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
    return make_verdict(runs, laws, g_zero, g_peak, sup_errors)


def _fmt(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3g}"


def make_verdict(
    runs: list[Run],
    laws: list[str],
    g_zero: dict[str, float],
    g_peak: dict[str, float],
    sup_errors: dict[str, Any],
) -> Verdict:
    checks = []
    numbers: list[tuple[str, Any]] = []
    # 1. The population g (blue) is right: its value at 0 against the quoted check values.
    deviations = {law: abs(g_zero[law] - POPULATION_G_AT_ZERO[law]) for law in laws}
    checks.append(
        check(
            "the population g of the three unit-variance laws matches the check values g(0) = "
            "0.28641 (uniform), 0.25518 (Gaussian), 0.21651 (Laplace)",
            bool(laws) and len(laws) == len(LAWS)
            and all(d <= QUOTED_TOLERANCE for d in deviations.values()),
            ", ".join(f"{law} {g_zero[law]:.5f}" for law in laws) or "no law drawn",
        )
    )
    # 2. Close at n = 20.
    at_figure = {}
    for law in laws:
        entry = sup_errors.get(law)
        if entry and FIGURE_N in entry["n"]:
            at_figure[law] = entry["median"][entry["n"].index(FIGURE_N)]
    close = bool(at_figure) and len(at_figure) == len(laws) and all(
        at_figure[law] <= CLOSE_FRACTION * g_peak[law] for law in at_figure
    )
    checks.append(
        check(
            f"the empirical g of n = {FIGURE_N} standardised samples is close to the population g: "
            f"the median over data sets of sup |g_emp − g_pop| at most {CLOSE_FRACTION:g} of the "
            "population peak",
            close,
            ", ".join(
                f"{law} {_fmt(at_figure[law])} ({_fmt(at_figure[law] / g_peak[law])} of the peak)"
                for law in at_figure
            ) or f"no runs with n = {FIGURE_N}",
        )
    )
    # 3. The error shrinks with n.
    shrinks = []
    parts = []
    for law in laws:
        entry = sup_errors.get(law)
        if not entry or len(entry["n"]) < 2:
            continue
        med = entry["median"]
        decreasing = all(b < a for a, b in zip(med, med[1:]))
        factor = med[0] / med[-1] if med[-1] > 0 else float("inf")
        shrinks.append(decreasing and factor >= SHRINK_FACTOR)
        parts.append(
            f"{law}: {_fmt(med[0])} at n = {entry['n'][0]} to {_fmt(med[-1])} at n = "
            f"{entry['n'][-1]} (factor {_fmt(factor)}, slope {_fmt(entry['fit']['slope'])})"
        )
        numbers.append((f"fitted slope of the error vs n, {law}", entry["fit"]["slope"]))
    checks.append(
        check(
            "the error shrinks with n: the median sup error decreases from each n to the next and "
            f"falls by at least a factor {SHRINK_FACTOR:g} from the smallest to the largest n",
            bool(shrinks) and all(shrinks),
            "; ".join(parts) or "a single n: nothing to compare",
        )
    )
    for law in at_figure:
        numbers.append((f"median sup error at n = {FIGURE_N}, {law}", at_figure[law]))
    for law in laws:
        numbers.append((f"population g(0), {law}", g_zero[law]))
    if all(c.held for c in checks):
        reason = (
            "Reproduced. The closed forms of the population g give the check values, and the "
            f"empirical g of n = {FIGURE_N} standardised samples follows them within "
            f"{_fmt(max(at_figure[law] / g_peak[law] for law in at_figure))} of the peak at worst "
            "(the heavier the tails, the larger the error: Laplace is the worst). The error "
            "shrinks "
            "roughly like n^(-1/2), as for the empirical distribution functions g is built from."
        )
    else:
        failing = "; ".join(failed_criteria(checks))
        reason = (
            f"Not every criterion holds ({failing}). Nothing is trained here, so a failure points "
            "at the closed forms or the empirical g (our code), or at the criteria's thresholds "
            "(ours) for unlucky data sets, not at the paper."
        )
    return Verdict(
        target="mulayoff2021-fig2",
        title="The weight function g",
        paper="Mulayoff, Michaeli, Soudry 2021, Fig. 2",
        claim=(
            f"The empirical g of n = {FIGURE_N} i.i.d. samples, standardised to zero mean and unit "
            "standard deviation, is close to the population g for uniform, Gaussian and Laplace "
            "data (our addition: the error shrinks as n grows)."
        ),
        checks=checks,
        settings=[
            setting(runs, "laws", "data.inputs", "paper"),
            setting(runs, "n (samples)", "data.n", "ours",
                    note=f"the paper's n = {FIGURE_N}, and larger n for the convergence panel"),
            setting(runs, "data seeds (each law and n)", "data.seed", "ours",
                    note="the paper draws one sample; the medians are over these"),
        ],
        numbers=numbers,
        reason=reason,
    )
