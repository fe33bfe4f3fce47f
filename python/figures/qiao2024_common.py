# SPDX-License-Identifier: MIT
"""What the qiao2024 step-size targets share: the two arms (the step size from the start, and reached
by a geometric warm-up) and the settings of their common data and model."""

from __future__ import annotations

import math
import statistics
from typing import Any, Callable, Sequence

from figures.results import Run
from figures.verdict import Setting, setting

COLD, WARM = "from the start", "after a warm-up"
ARM_STYLE = {COLD: ("-", "o"), WARM: ("--", "s")}  # line style and marker per arm


def arm(run: Run) -> str:
    return WARM if int(run.config.get("optim.warmup_steps", 0)) > 0 else COLD


def median(runs: Sequence[Run], value: str | Callable[[Run], float]) -> float:
    """Median over the finished runs of a metric (or a function of a run), NaN values left out."""
    get = value if callable(value) else (lambda r: r.metric(value))
    values = [v for v in (get(r) for r in runs if r.done) if math.isfinite(v)]
    return statistics.median(values) if values else float("nan")


def step_size_settings(runs: Sequence[Run], eta_source: str = "ours") -> list[Setting]:
    return [
        setting(runs, "step sizes η", "optim.eta", eta_source,
                "not published" if eta_source == "ours" else ""),
        setting(runs, "warm-up steps", "optim.warmup_steps", "ours",
                "0 = from the start; else a geometric ramp from 0.01"),
    ]


def data_settings(runs: Sequence[Run], width_source: str = "ours") -> list[Setting]:
    """n, noise, target, width and initialisation: ours except where the paper gives a value."""
    return [
        setting(runs, "samples n", "data.n", "ours", "not published"),
        setting(runs, "noise σ", "data.noise", "ours", "not published"),
        setting(runs, "target", "data.target", "ours", "max(0, 1 - 2|x|)"),
        setting(runs, "width k", "model.width", width_source,
                "not published" if width_source == "ours" else ""),
        setting(runs, "initialisation", "model.init", "ours", "PyTorch's default"),
        setting(runs, "GD steps", "optim.max_steps", "ours", "not published"),
        setting(runs, "initialisations", "run.seed", "ours"),
    ]
