# SPDX-License-Identifier: MIT
"""The figure and verdict of qiao2024-width on hand-made databases: medians over seeds in units of
sigma^2, each criterion of the claim judged on them (holding, and failing when the numbers say
so)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figures.plot import plot_directory
from helpers import net_dict, write_results_db
from test_plot import assert_index_lists_every_figure

N = 30
NOISE = 0.3
VARIANCE = NOISE * NOISE
WIDTHS = (20, 29, 30, 100, 300, 1000)
SEEDS = (0, 1, 2)


def width_runs(error_over_variance, train_over_variance) -> list[dict]:
    """One run per (width, seed) with mse_full = error(k, seed) sigma^2 and loss = train(k) sigma^2
    / 2; a small net with knots inside [-1, 1] so that the fits can be drawn."""
    runs = []
    for width in WIDTHS:
        for seed in SEEDS:
            runs.append(
                {
                    "config": {
                        "data.n": N,
                        "data.inputs": "grid",
                        "data.lo": -1.0,
                        "data.hi": 1.0,
                        "data.target": "tent",
                        "data.noise": NOISE,
                        "data.seed": 1,
                        "model.width": width,
                        "model.init": "data_knots",
                        "optim.fit_output": "min_norm",
                        "optim.max_steps": 0,
                        "run.seed": seed,
                    },
                    "metrics": {
                        "loss": train_over_variance(width) * VARIANCE / 2.0,
                        "mse_full": error_over_variance(width, seed) * VARIANCE,
                        "mse_interior": 0.9 * error_over_variance(width, seed) * VARIANCE,
                        "output_rank": min(width + 1, N),
                        "sharpness": 10.0 * error_over_variance(width, seed),
                    },
                    "net": net_dict([(1.0, 0.2, 3.0 * seed), (-1.0, 0.1, -2.0)], 0.1),
                }
            )
    return runs


def interpolating(width: int) -> float:
    return 1e-26 if width + 1 >= N else 0.2


def paper_like(width: int, seed: int) -> float:
    """A peak at the threshold, about sigma^2 for large widths; seeds scale it by 1, 2, 4."""
    base = {20: 0.8, 29: 300.0, 30: 40.0, 100: 0.7, 300: 0.66, 1000: 0.65}[width]
    return base * 2.0**seed


def read_verdict(directory) -> dict:
    return json.loads((directory / "figures" / "verdict.json").read_text())


def test_the_claim_holds_on_paper_like_numbers(tmp_path, relustab_bin):
    directory = write_results_db(
        tmp_path / "width", "qiao2024-width", width_runs(paper_like, interpolating)
    )
    plot_directory(directory, relustab_bin)
    assert assert_index_lists_every_figure(directory) == ["qiao2024_width"]
    verdict = read_verdict(directory)
    assert [c["held"] for c in verdict["checks"]] == [True, True, True]
    assert verdict["outcome"] == "reproduced"
    numbers = dict(verdict["numbers"])
    # The median over the seeds 1, 2, 4 times the base value is 2 times it.
    assert numbers["median MSE / σ² at k = 29"] == pytest.approx(600.0, rel=1e-12)
    assert numbers["median MSE / σ² at k = 1000"] == pytest.approx(1.3, rel=1e-12)
    assert numbers["largest training MSE / σ² at k + 1 >= n"] == pytest.approx(1e-26, rel=1e-9)
    figure = json.loads((directory / "figures" / "qiao2024_width.json").read_text())
    errors = figure["series"]["vs_width"]["error_full_over_noise_var"]
    assert errors["x"] == list(WIDTHS)
    np.testing.assert_allclose(errors["median"], [2 * paper_like(w, 0) for w in WIDTHS], rtol=1e-12)


def test_each_criterion_fails_when_its_numbers_say_so(tmp_path, relustab_bin):
    # No peak: the same error at every width.
    flat = write_results_db(
        tmp_path / "flat", "qiao2024-width", width_runs(lambda w, s: 0.7, interpolating)
    )
    plot_directory(flat, relustab_bin)
    assert [c["held"] for c in read_verdict(flat)["checks"]] == [True, False, True]
    # Errors growing with the width beyond 10 n: not tempered.
    growing = write_results_db(
        tmp_path / "growing",
        "qiao2024-width",
        width_runs(lambda w, s: paper_like(w, 0) * (w / 300.0 if w >= 300 else 1.0), interpolating),
    )
    plot_directory(growing, relustab_bin)
    assert [c["held"] for c in read_verdict(growing)["checks"]] == [True, True, False]
    # One width above the threshold that does not interpolate.
    stuck = write_results_db(
        tmp_path / "stuck",
        "qiao2024-width",
        width_runs(paper_like, lambda w: 0.01 if w == 30 else interpolating(w)),
    )
    plot_directory(stuck, relustab_bin)
    verdict = read_verdict(stuck)
    assert [c["held"] for c in verdict["checks"]] == [False, True, True]
    assert verdict["outcome"] == "partly reproduced"
