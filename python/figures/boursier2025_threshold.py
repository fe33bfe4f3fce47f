# SPDX-License-Identifier: MIT
"""Boursier & Flammarion 2025: the optimization threshold (SPEC.md 5).

Runs: a sweep over data.n (log grid) and seeds, a linear teacher with Gaussian label noise, small
balanced initialisation, and variants told apart by the other swept keys (model.activation,
optim.optimizer, ...). (a) The final training MSE and (b) the test MSE on fresh noisy samples against n
(median over seeds and their range), with the noise variance sigma^2 and the least-squares test
MSE sigma^2 (1 + d / (n - d - 1)) as references: below the threshold the net interpolates (training
MSE near 0, large test MSE); above it the training MSE sits near the noise level and the test MSE
near the least-squares one. (c) The fraction of neurons aligned with the teacher direction,
|cos(w_i, beta)| >= 0.9 (metric aligned_fraction), against n.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from figures.output import Context, FigureRecord, legend_below, log_axis_ticks, positive, table
from figures.results import MissingLog, Run, Series, aggregate, group_by, varying_keys

N_KEY = "data.n"
SEED_KEYS = ("run.seed", "data.seed")
# Keys always named in a variant's label, with readable names for their values.
LABELLED_KEYS = {
    "model.activation": {"relu": "ReLU", "gelu": "GeLU"},
    "optim.optimizer": {"gd": "GD", "adam": "Adam"},
}
VARIANT_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:cyan")
COLOR_NOISE = "0.35"
COLOR_OLS = "black"
# "Interpolates no more": the first n whose median training MSE reaches this fraction of sigma^2.
THRESHOLD_FRACTION = 0.5


def variant_keys(runs: list[Run]) -> list[str]:
    """The keys that tell variants apart: the labelled ones, and any other swept key except n and
    the seeds."""
    swept = [k for k in varying_keys(runs) if k != N_KEY and k not in SEED_KEYS]
    return list(LABELLED_KEYS) + [k for k in swept if k not in LABELLED_KEYS]


def variant_label(config: dict[str, Any], keys: list[str]) -> str:
    """'ReLU, GD' (+ ', η = 0.05' when the step size varies, ', key = value' for other swept
    keys)."""
    parts = []
    for key in keys:
        value = config.get(key)
        if key in LABELLED_KEYS:
            default = next(iter(LABELLED_KEYS[key]))
            value = default if value is None else value
            parts.append(LABELLED_KEYS[key].get(str(value), str(value)))
        elif key == "optim.eta":
            parts.append(f"η = {value:g}" if isinstance(value, (int, float)) else f"η = {value}")
        else:
            parts.append(f"{key} = {value}")
    return ", ".join(parts)


def with_range(series: Series) -> Series:
    """The series with lo/hi replaced by the minimum and maximum over the runs at each n."""
    lo = np.array([v.min() if v.size else np.nan for v in series.values], dtype=float)
    hi = np.array([v.max() if v.size else np.nan for v in series.values], dtype=float)
    return Series(series.x, series.median, lo, hi, series.count, series.values)


def series_json(series: Series) -> dict[str, Any]:
    ranged = with_range(series)
    return {**series.to_json(), "min": ranged.lo, "max": ranged.hi}


def draw(
    ax: Any,
    series: Series,
    label: str,
    color: str,
    marker: str,
    linestyle: str,
    log: bool = True,
) -> None:
    """Median line with markers and the min-max band over seeds (with `log`, for a log y axis,
    non-positive values are dropped)."""
    ranged = with_range(series)
    median, lo, hi = ranged.median, ranged.lo, ranged.hi
    if log:
        median, lo, hi = positive(median), positive(lo), positive(hi)
    ok = np.isfinite(median)
    if not ok.any():
        return
    ax.plot(
        ranged.x[ok],
        median[ok],
        marker=marker,
        markersize=3.5,
        linestyle=linestyle,
        color=color,
        label=label,
    )
    band = ok & np.isfinite(lo) & np.isfinite(hi)
    if band.any() and ranged.count[ok].max() >= 2:
        ax.fill_between(ranged.x[band], lo[band], hi[band], color=color, alpha=0.15, linewidth=0)


def reference(groups: dict[Any, list[Run]], metric: str) -> np.ndarray:
    """A reference metric per n (the same for every run at that n): the first finite value."""
    out = []
    for runs in groups.values():
        values = [r.metric(metric) for r in runs if r.done and r.has(metric)]
        out.append(values[0] if values else np.nan)
    return np.array(out, dtype=float)


def threshold_n(series: Series, noise_var: float) -> float | None:
    """The first n whose median training MSE is at least THRESHOLD_FRACTION of sigma^2."""
    for x, median in zip(series.x, series.median):
        if np.isfinite(median) and median >= THRESHOLD_FRACTION * noise_var:
            return float(x)
    return None


def variant_order(config: dict[str, Any], keys: list[str]) -> tuple:
    """Sort key of a variant: ReLU before GeLU, GD before Adam (LABELLED_KEYS' order), then the
    values of the other keys."""
    order = []
    for key in keys:
        value = config.get(key)
        known = list(LABELLED_KEYS.get(key, {}))
        rank = known.index(value) if value in known else len(known) if key in LABELLED_KEYS else 0
        order.append((rank, _sort_text(value)))
    return tuple(order)


def _sort_text(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def make_figures(ctx: Context) -> None:
    missing = MissingLog()
    done = [r for r in ctx.results.runs if r.done]
    keys = variant_keys(ctx.results.runs)
    by_label = group_by(ctx.results.runs, lambda r: variant_label(r.config, keys))
    variants = dict(
        sorted(by_label.items(), key=lambda item: variant_order(item[1][0].config, keys))
    )
    all_groups = group_by(ctx.results.runs, N_KEY)
    n_values = [int(n) for n in all_groups]

    fig, (ax_train, ax_test, ax_align) = ctx.figure(3)
    noise = reference(all_groups, "noise_var")
    noise_var = float(np.nanmedian(noise)) if np.isfinite(noise).any() else float("nan")
    ols = reference(all_groups, "ols_test_mse")
    if np.isfinite(noise_var):
        for ax in (ax_train, ax_test):
            ax.axhline(
                noise_var, color=COLOR_NOISE, linestyle=":", linewidth=1.2, label="σ² (noise)"
            )
    ols_ok = np.isfinite(ols)
    if ols_ok.any():
        ax_test.plot(
            np.array(n_values, dtype=float)[ols_ok],
            ols[ols_ok],
            color=COLOR_OLS,
            linestyle="-.",
            linewidth=1.2,
            label="least squares σ²(1 + d/(n − d − 1))",
        )
    series: dict[str, Any] = {
        "n": n_values,
        "noise_var": noise_var,
        "ols_test_mse": ols,
        "variants": {},
    }
    summary: dict[str, Any] = {"runs done": len(done), "variants": len(variants)}
    if np.isfinite(noise_var):
        summary["noise variance σ²"] = noise_var
    for (label, runs), color in zip(variants.items(), VARIANT_COLORS * 4):
        groups = group_by(runs, N_KEY)
        train = aggregate(groups, "train_mse", missing)
        val = aggregate(groups, "val_mse", missing)
        aligned = aggregate(groups, "aligned_fraction", missing)
        draw(ax_train, train, label, color, "o", "-")
        draw(ax_test, val, label, color, "s", "--")
        draw(ax_align, aligned, label, color, "o", "-", log=False)
        series["variants"][label] = {
            "config": {k: runs[0].config.get(k) for k in keys},
            "train_mse": series_json(train),
            "val_mse": series_json(val),
            "aligned_fraction": series_json(aligned),
            "aligned_fraction_signed": series_json(aggregate(groups, "aligned_fraction_signed")),
            "aligned_fraction_weighted": series_json(
                aggregate(groups, "aligned_fraction_weighted")
            ),
            "extremal_max_cos": series_json(aggregate(groups, "extremal_max_cos")),
        }
        if np.isfinite(train.median).any() and np.isfinite(noise_var):
            first, last = train.median[0], train.median[-1]
            summary[f"{label}: train MSE / σ² at n = {int(train.x[0])}"] = first / noise_var
            summary[f"{label}: train MSE / σ² at n = {int(train.x[-1])}"] = last / noise_var
            found = threshold_n(train, noise_var)
            summary[f"{label}: first n with train MSE >= {THRESHOLD_FRACTION:g} σ²"] = found
        if np.isfinite(val.median).any():
            summary[f"{label}: test MSE at n = {int(val.x[0])}"] = val.median[0]
            summary[f"{label}: test MSE at n = {int(val.x[-1])}"] = val.median[-1]
        if np.isfinite(aligned.median).any():
            summary[f"{label}: aligned fraction at n = {int(aligned.x[-1])}"] = aligned.median[-1]
    for ax in (ax_train, ax_test, ax_align):
        ax.set_xscale("log")
        if n_values:
            log_axis_ticks(ax, n_values)
    ax_train.set_yscale("log")
    ax_test.set_yscale("log")
    ax_train.set(xlabel="training samples n", ylabel="training MSE", title="(a) training MSE vs n")
    ax_test.set(xlabel="training samples n", ylabel="test MSE", title="(b) test MSE vs n")
    ax_align.set(
        xlabel="training samples n",
        ylabel="fraction of neurons",
        title="(c) neurons aligned with the teacher",
    )
    ax_align.set_ylim(-0.03, 1.03)
    for ax in (ax_train, ax_test, ax_align):
        if ax.get_legend_handles_labels()[0]:
            legend_below(ax, ncol=1)
    caption = (
        "Two-layer nets from a small balanced initialisation trained on n noisy samples of a "
        "linear teacher, for growing n, per variant (activation, optimiser and its step size). "
        "(a) Final training MSE and (b) test MSE on fresh noisy samples, median over the seeds "
        "(data sets) with their range as a band; references: the noise variance σ² (dotted) and "
        "the test MSE of least squares σ²(1 + d/(n − d − 1)) (dash-dotted, defined for "
        "n > d + 1). Below the optimization threshold the nets interpolate (training MSE near 0, "
        "large test MSE); above it they stop at a point that does not interpolate, near the "
        "least-squares fit. (c) Fraction of neurons whose input weights have |cos| ≥ 0.9 with "
        "the teacher β, at the end of training."
    )
    ctx.writer.save(
        fig,
        FigureRecord(
            name="boursier2025_threshold",
            title="Boursier & Flammarion 2025: the optimization threshold",
            caption=caption,
            summary=summary,
            table=table(
                sorted(
                    done,
                    key=lambda r: (variant_label(r.config, keys), int(r.config[N_KEY]), r.id),
                ),
                [
                    ("run", lambda r: r.id),
                    ("variant", lambda r: variant_label(r.config, keys)),
                    ("n", N_KEY),
                    ("data seed", "data.seed"),
                    ("seed", "run.seed"),
                    ("outcome", Run.outcome),
                    ("steps", "steps"),
                    ("train MSE", "train_mse"),
                    ("test MSE", "val_mse"),
                    ("OLS test MSE", "ols_test_mse"),
                    ("aligned", "aligned_fraction"),
                    ("aligned (signed)", "aligned_fraction_signed"),
                    ("aligned (weighted by |w2|)", "aligned_fraction_weighted"),
                    ("extremal cos", "extremal_max_cos"),
                ],
            ),
            series=series,
            missing=missing.to_json(),
        ),
    )
