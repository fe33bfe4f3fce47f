# SPDX-License-Identifier: MIT
"""Qiao et al. 2024: the MSE rate on the strict interior, O~(n^(-4/5)).

Runs: a sweep over data.n (and seeds) at a fixed step size. mse_interior against f0 vs n on log-log
axes: every run (dots), the median per n, the least-squares fit of log MSE on log n over all runs,
and a reference line of slope -4/5 through the fit's centre. The full-range MSE is drawn for
comparison (the rate is a statement about the interior only).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import Context, FigureRecord, log_axis_ticks, plot_series, table
from figures.output import EDGE_TOLERANCE
from figures.results import MissingLog, Run, aggregate, fit_power_law, group_by
from figures.verdict import Verdict, check, failed_criteria, setting

N_KEY = "data.n"
PAPER_SLOPE = -0.8  # n^(-4/5), paper 2's upper bound on the strict interior (up to log factors)


def make_figures(ctx: Context) -> Verdict:
    missing = MissingLog()
    groups = group_by(ctx.results.runs, N_KEY)
    fig, ax = ctx.figure(1, columns="single", aspect=0.8)
    summary: dict[str, Any] = {"paper slope": PAPER_SLOPE}
    series: dict[str, Any] = {}
    for metric, label, color, marker in (
        ("mse_interior", "strict interior", "tab:blue", "o"),
        ("mse_full", "full range", "tab:gray", "s"),
    ):
        s = aggregate(groups, metric, missing if metric == "mse_interior" else None)
        n_all = (
            np.concatenate([np.full(v.size, x) for x, v in zip(s.x, s.values)]) if s.values else []
        )
        y_all = np.concatenate(s.values) if s.values else []
        fit = fit_power_law(n_all, y_all)
        series[metric] = {
            **s.to_json(),
            "runs_n": n_all,
            "runs_mse": y_all,
            "fit": fit,
            "fit_of_medians": fit_power_law(s.x, s.median),
        }
        if not np.isfinite(s.median).any():
            continue
        ax.plot(n_all, y_all, marker, color=color, alpha=0.35, markersize=3, markeredgewidth=0)
        plot_series(ax, s, f"MSE vs f0, {label} (median)", color, marker=marker)
        if np.isfinite(fit["slope"]):
            n_line = np.geomspace(s.x.min(), s.x.max(), 50)
            ax.plot(
                n_line,
                np.exp(fit["intercept"]) * n_line ** fit["slope"],
                color=color,
                linestyle="--",
                linewidth=1.1,
                label=f"least-squares fit, slope {fit['slope']:.2f}",
            )
        summary[f"fitted slope, {label}"] = fit["slope"]
        summary[f"fitted slope std. error, {label}"] = fit["slope_stderr"]
        summary[f"fitted slope of the medians, {label}"] = series[metric]["fit_of_medians"]["slope"]
        summary[f"runs in the fit, {label}"] = fit["points"]
        if metric == "mse_interior" and np.isfinite(fit["slope"]):
            # The reference line goes through the fit at the geometric centre of the n range.
            n_line = np.geomspace(s.x.min(), s.x.max(), 50)
            centre = float(np.exp(np.mean(np.log([s.x.min(), s.x.max()]))))
            level = np.exp(fit["intercept"]) * centre ** fit["slope"]
            ax.plot(
                n_line,
                level * (n_line / centre) ** PAPER_SLOPE,
                color="tab:red",
                linestyle=":",
                linewidth=1.5,
                label="slope −4/5 (paper 2)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    if groups:
        log_axis_ticks(ax, [int(n) for n in groups])
    ax.set(
        xlabel="number of samples n",
        ylabel="MSE against f0",
        title="MSE rate: strict interior vs full range",
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="best")
    caption = (
        "GD at a fixed step size on n noisy samples, several seeds per n. Mean squared error "
        "of the trained function against f0 on a dense grid of the strict interior (blue) and "
        "of the full data range (grey): every run (dots), the median per n with its "
        "interquartile band, and the least-squares fit of log MSE on log n over all runs "
        "(dashed). Dotted red: slope −4/5, the interior rate of paper 2 (up to log factors), "
        "drawn through the fit's centre."
    )
    done = [r for r in ctx.results.runs if r.done]
    ctx.writer.save(
        fig,
        FigureRecord(
            name="qiao2024_rate",
            title="Qiao et al. 2024: MSE rate in n",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (int(r.config[N_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("n", N_KEY),
                    ("data seed", "data.seed"),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("loss", "loss"),
                    ("MSE interior", "mse_interior"),
                    ("MSE full", "mse_full"),
                    ("sharpness x eta/2", "edge_ratio"),
                    ("dead", "dead_neurons"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
    return verdict(done, series)


def verdict(done: list[Run], series: dict[str, Any]) -> Verdict:
    checks = []
    fit = series.get("mse_interior", {}).get("fit", {})
    slope, stderr = fit.get("slope", float("nan")), fit.get("slope_stderr", float("nan"))
    if np.isfinite(slope):
        checks.append(check(
            "the interior MSE falls at least as fast as n^(-4/5): the least-squares slope of "
            "log MSE on log n is at most -4/5 (within two standard errors)",
            slope - 2 * (stderr if np.isfinite(stderr) else 0.0) <= PAPER_SLOPE,
            f"slope {slope:.3f} ± {stderr:.3f} over {fit.get('points')} runs",
        ))
    analysed = [r for r in done if r.has("edge_ratio")]
    if analysed:
        stable = [r for r in analysed if r.metric("edge_ratio") <= 1 + EDGE_TOLERANCE]
        checks.append(check(
            "the solutions are stable for the step size: sharpness × η/2 <= 1 (within 1%)",
            len(stable) == len(analysed),
            f"{len(stable)} of {len(analysed)} runs; largest "
            f"{max(r.metric('edge_ratio') for r in analysed):.3g}",
        ))
    failed = failed_criteria(checks)
    reason = "Every criterion holds." if not failed else "Not met: " + "; ".join(failed) + "."
    if not failed and np.isfinite(slope) and slope < PAPER_SLOPE - 2 * stderr:
        reason += (
            " The measured rate is faster than n^(-4/5): the theorem is an upper bound for the "
            "whole class of targets with bounded weighted curvature, and our target, a spline "
            "with three knots, is easier than its worst case."
        )
    return Verdict(
        target="qiao2024-rate",
        title="the interior MSE rate",
        paper="Qiao et al. 2024, Theorem 4.3 and its rate",
        claim=("For stable solutions of GD with a fixed step size, the error against the ground "
               "truth on the strict interior of the data range is O~(n^(-4/5))."),
        checks=checks,
        settings=[
            setting(done, "samples n", N_KEY, "ours", "not published"),
            setting(done, "data sets per n", "data.seed", "ours"),
            setting(done, "step size η", "optim.eta", "ours",
                    "the large step size of qiao2024-eta, after a warm-up from 0.01"),
            setting(done, "noise σ", "data.noise", "ours", "not published"),
            setting(done, "target", "data.target", "ours", "max(0, 1 - 2|x|)"),
            setting(done, "width k", "model.width", "ours", "not published"),
            setting(done, "GD steps", "optim.max_steps", "ours", "not published"),
            setting(done, "strict interior margin", "measure.interior_margin", "ours",
                    "the middle 80% of the data range"),
        ],
        numbers=[("fitted slope (interior)", slope), ("its standard error", stderr),
                 ("fitted slope (full range)",
                  series.get("mse_full", {}).get("fit", {}).get("slope", float("nan")))],
        reason=reason,
    )
