# SPDX-License-Identifier: MIT
"""Nacson et al. 2023: depth separation under minima stability (SPEC.md 4.4, 4.5).

Runs: GD over a grid of step sizes in d = 2 for several cases, told apart by data.target,
model.depth and model.init: one-hidden-layer nets on the pyramid relu(1 - ||x||_1) (which stable
shallow nets cannot approximate well), one-hidden-layer nets on the smooth bump exp(-||x||^2)
(which they can), and two-hidden-layer nets started at the exact representation of the pyramid
(model.init = "pyramid"), which stay there while that minimum is stable. (a) The test error against
the clean target on fresh points (metric val_mse_clean) vs eta per case; (b) the sharpness at the
end of training vs eta with the stability limit 2/eta.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.nacson2023_tightness import stability_limit
from figures.output import (
    COLOR_TWO_OVER_ETA,
    Context,
    FigureRecord,
    legend_below,
    plot_series,
    positive,
    table,
)
from figures.results import MissingLog, Run, aggregate, group_by

ETA_KEY = "optim.eta"
ERROR_METRIC = "val_mse_clean"
# GD at the edge of stability hovers around 2/eta rather than below it: a run counts as stable when
# its final sharpness is at most 2/eta (1 + EDGE_OF_STABILITY_SLACK).
EDGE_OF_STABILITY_SLACK = 0.05
# Errors below this are drawn at it (a deep net that stays at its exact representation has an error
# of rounding size); the JSON keeps the true values.
ERROR_FLOOR = 1e-12
# Colours of the three cases of the experiment; further cases get the next of OTHER_COLORS.
CASE_COLORS = {
    ("pyramid", 1): "tab:blue",
    ("bump", 1): "tab:green",
    ("pyramid", 2): "tab:purple",  # not red: 2/eta is drawn in red
}
OTHER_COLORS = ("tab:brown", "tab:olive", "tab:cyan", "tab:pink", "tab:gray")
CASE_MARKERS = {1: "o", 2: "s"}


def case_of(run: Run) -> tuple[str, int, str]:
    """(target, depth, init) of a run: what tells the experiment's curves apart."""
    return (
        str(run.config.get("data.target", "")),
        int(run.config.get("model.depth", 1)),
        str(run.config.get("model.init", "")),
    )


def case_label(case: tuple[str, int, str], inits: set[str]) -> str:
    """'shallow, pyramid' / 'two hidden layers (pyramid init), pyramid'; the init is named for depth
    2 always and for depth 1 only when depth-1 cases differ in it."""
    target, depth, init = case
    if depth == 1:
        net = "shallow" + (f" ({init} init)" if len(inits) > 1 else "")
    else:
        net = f"two hidden layers ({init} init)"
    return f"{net}, {target} target"


def stable(run: Run) -> bool:
    """Sharpness at the end of training <= 2/eta (1 + EDGE_OF_STABILITY_SLACK)."""
    return run.has("sharpness") and run.metric("sharpness") <= stability_limit(run) * (
        1 + EDGE_OF_STABILITY_SLACK
    )


def deep_vs_shallow(
    deep: dict[Any, list[Run]], shallow: dict[Any, list[Run]]
) -> list[dict[str, Any]]:
    """Per step size with both: the median error of the deep runs and the smallest error of the
    shallow runs that ended stable (sharpness <= 2/eta), and their ratio."""
    rows = []
    for eta, deep_runs in deep.items():
        deep_errors = [r.metric(ERROR_METRIC) for r in deep_runs if r.has(ERROR_METRIC)]
        stable_shallow = [
            r.metric(ERROR_METRIC)
            for r in shallow.get(eta, [])
            if r.has(ERROR_METRIC) and stable(r)
        ]
        if not deep_errors or not stable_shallow:
            continue
        deep_error = float(np.median(deep_errors))
        best = float(min(stable_shallow))
        rows.append(
            {
                "eta": float(eta),
                "deep_error": deep_error,
                "best_stable_shallow_error": best,
                "ratio": deep_error / best if best > 0 else float("nan"),
            }
        )
    return rows


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    done = [r for r in ctx.results.runs if r.done]
    for run in ctx.results.runs:
        if not run.done:
            missing.add(run, f"a finished run ({run.status})")
    # Shallow before deep, the pyramid before the other targets (the order of CASE_COLORS).
    cases = dict(
        sorted(
            group_by(done, case_of).items(),
            key=lambda item: (item[0][1], item[0][0] != "pyramid", item[0][0], item[0][2]),
        )
    )
    shallow_inits = {init for (_, depth, init) in cases if depth == 1}
    all_etas = np.array(sorted({float(r.config[ETA_KEY]) for r in ctx.results.runs}), dtype=float)

    fig, (ax_err, ax_sharp) = ctx.figure(2, aspect=0.75)
    if all_etas.size:
        fine = np.geomspace(all_etas.min(), all_etas.max(), 200)
        ax_sharp.plot(fine, 2.0 / fine, color=COLOR_TWO_OVER_ETA, label="2/η (stability limit)")
    series: dict[str, Any] = {"cases": []}
    extra_colors = iter(OTHER_COLORS)
    by_case_eta: dict[tuple[str, int, str], dict[Any, list[Run]]] = {}
    floored = False
    for case, runs in cases.items():
        target, depth, init = case
        color = CASE_COLORS.get((target, depth)) or next(extra_colors, "black")
        marker = CASE_MARKERS.get(depth, "D")
        label = case_label(case, shallow_inits)
        groups = group_by(runs, ETA_KEY)
        by_case_eta[case] = groups
        error = aggregate(groups, ERROR_METRIC, missing)
        sharp = aggregate(groups, "sharpness", missing)
        series["cases"].append(
            {
                "target": target,
                "depth": depth,
                "init": init,
                "label": label,
                "widths": sorted({int(r.config.get("model.width", 0)) for r in runs}),
                ERROR_METRIC: error.to_json(),
                "sharpness": sharp.to_json(),
                "stable": [[bool(stable(r)) for r in groups[eta]] for eta in groups],
            }
        )
        if np.isfinite(error.median).any():
            floored = floored or bool(np.nanmin(error.median) < ERROR_FLOOR)
            # New arrays: the JSON above holds the unclipped ones.
            error.median, error.lo, error.hi = (
                np.maximum(error.median, ERROR_FLOOR),
                np.maximum(error.lo, ERROR_FLOOR),
                np.maximum(error.hi, ERROR_FLOOR),
            )
            plot_series(ax_err, error, label, color, marker=marker)
        sharp.median, sharp.lo, sharp.hi = (
            positive(sharp.median),
            positive(sharp.lo),
            positive(sharp.hi),
        )
        if np.isfinite(sharp.median).any():
            plot_series(ax_sharp, sharp, label, color, marker=marker, linestyle="--")
    if floored:
        ax_err.axhline(
            ERROR_FLOOR,
            color="0.6",
            linewidth=0.8,
            linestyle=":",
            label=f"errors below {ERROR_FLOOR:g} are drawn at {ERROR_FLOOR:g}",
        )
    for ax in (ax_err, ax_sharp):
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax_err.set(
        xlabel="step size η",
        ylabel="test MSE vs clean target",
        title="(a) test error vs η",
    )
    ax_sharp.set(xlabel="step size η", ylabel="curvature", title="(b) sharpness vs η")
    if ax_err.get_legend_handles_labels()[0]:
        legend_below(ax_err, ncol=1)
    legend_below(ax_sharp, ncol=1)

    summary: dict[str, Any] = {"runs done": len(done), "cases": len(cases)}
    deep = next((g for (t, d, i), g in by_case_eta.items() if t == "pyramid" and d == 2), None)
    shallow = next((g for (t, d, i), g in by_case_eta.items() if t == "pyramid" and d == 1), None)
    comparison = deep_vs_shallow(deep, shallow) if deep and shallow else []
    series["deep_vs_best_stable_shallow"] = comparison
    for row in comparison:
        summary[f"deep / best stable shallow test MSE, pyramid, η = {row['eta']:.3g}"] = row[
            "ratio"
        ]
    for case, groups in by_case_eta.items():
        runs = [r for g in groups.values() for r in g]
        name = case_label(case, shallow_inits)
        summary[f"{name}: stable runs"] = f"{sum(stable(r) for r in runs)} of {len(runs)}"
        errors = [r.metric(ERROR_METRIC) for r in runs if r.has(ERROR_METRIC)]
        if errors:
            summary[f"{name}: smallest test MSE"] = min(errors)
    caption = (
        "GD in d = 2 with several step sizes η. Cases: one-hidden-layer nets on the pyramid "
        "relu(1 − ||x||₁), one-hidden-layer nets on the smooth bump exp(−||x||²), and "
        "two-hidden-layer nets started at the exact representation of the pyramid. (a) Mean squared "
        "error against the clean target on fresh test points; (b) the sharpness at the end of "
        "training with the stability limit 2/η. A stable shallow net cannot fit the pyramid well "
        "(its weighted norm is bounded by 1/η − 1/2, the pyramid's is not), while the deep net "
        "represents it exactly and stays while that minimum is stable; the smooth bump is fitted "
        "by stable shallow nets. A run counts as stable when its final sharpness is at most "
        f"2/η (1 + {EDGE_OF_STABILITY_SLACK:g}): GD at the edge of stability hovers around 2/η. "
        "Median and interquartile band over seeds where there are several."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="nacson2023_depth",
            title="Nacson et al. 2023: depth separation under minima stability",
            caption=caption,
            summary=summary,
            table=table(
                sorted(done, key=lambda r: (case_of(r), float(r.config[ETA_KEY]), r.id)),
                [
                    ("run", lambda r: r.id),
                    ("target", "data.target"),
                    ("depth", lambda r: int(r.config.get("model.depth", 1))),
                    ("init", "model.init"),
                    ("width", "model.width"),
                    ("eta", ETA_KEY),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("steps", "steps"),
                    ("loss", "loss"),
                    ("test MSE (clean)", ERROR_METRIC),
                    ("2/eta", stability_limit),
                    ("sharpness", "sharpness"),
                    ("stable", stable),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
