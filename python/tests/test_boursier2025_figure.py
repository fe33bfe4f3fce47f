# SPDX-License-Identifier: MIT
"""The figure of boursier2025-threshold on a hand-made database: variants, medians and ranges over
seeds, the references and the threshold in the emitted JSON."""

from __future__ import annotations

import json

import numpy as np

from figures.plot import plot_directory
from helpers import write_results_db
from test_plot import assert_index_lists_every_figure

TIGHT = 1e-12
NOISE = 0.25  # sigma = 0.5
DIM = 3
N_VALUES = (4, 16, 64, 256)
SEEDS = (1, 2, 3)


def ols(n: int) -> float:
    return NOISE * (1 + DIM / (n - DIM - 1)) if n > DIM + 1 else float("nan")


def train_mse(variant: int, n: int, seed: int) -> float:
    """Interpolation (tiny) at n = 4, then a fraction of sigma^2 that grows with n; the seeds
    spread it by a factor (1 + seed / 10)."""
    base = {4: 1e-9, 16: 0.1, 64: 0.2, 256: 0.24}[n]
    return base * (1 + seed / 10) * (1 + variant / 100)


def threshold_runs() -> list[dict]:
    runs = []
    for variant, (activation, optimizer) in enumerate(
        (("relu", "gd"), ("gelu", "gd"), ("relu", "adam"))
    ):
        for n in N_VALUES:
            for seed in SEEDS:
                runs.append(
                    {
                        "config": {
                            "data.n": n,
                            "data.seed": seed,
                            "run.seed": 0,
                            "model.activation": activation,
                            "optim.optimizer": optimizer,
                        },
                        "metrics": {
                            "train_mse": train_mse(variant, n, seed),
                            "val_mse": 1.0 / n + seed / 100,
                            "noise_var": NOISE,
                            "ols_test_mse": ols(n),
                            "aligned_fraction": min(1.0, n / 100 + seed / 100),
                            "aligned_fraction_signed": 0.5,
                            "extremal_max_cos": 0.99,
                            "outcome": 1,
                        },
                    }
                )
    runs.append(
        {
            "config": {
                "data.n": 1024,
                "data.seed": 1,
                "run.seed": 0,
                "model.activation": "relu",
                "optim.optimizer": "adam",
            },
            "status": "failed",
            "reason": "diverged at step 12",
        }
    )
    return runs


def test_threshold_figure_aggregates_seeds_per_variant(tmp_path):
    directory = write_results_db(tmp_path / "thr", "boursier2025-threshold", threshold_runs())
    plot_directory(directory)
    assert assert_index_lists_every_figure(directory) == ["boursier2025_threshold"]
    record = json.loads((directory / "figures" / "boursier2025_threshold.json").read_text())
    series = record["series"]
    assert sorted(series["variants"]) == ["GeLU, GD", "ReLU, Adam", "ReLU, GD"]
    assert series["n"] == [4, 16, 64, 256, 1024]
    assert series["noise_var"] == NOISE
    # The least-squares reference per n: NaN (null) where n <= d + 1 and at the n with no run done.
    assert series["ols_test_mse"][0] is None and series["ols_test_mse"][-1] is None
    np.testing.assert_allclose(
        series["ols_test_mse"][1:4], [ols(n) for n in (16, 64, 256)], rtol=TIGHT
    )
    gelu = series["variants"]["GeLU, GD"]
    assert gelu["config"] == {"model.activation": "gelu", "optim.optimizer": "gd"}
    train = gelu["train_mse"]
    assert train["x"] == list(N_VALUES)
    # Median over the seeds is the middle seed (2); the range is seeds 1 and 3.
    np.testing.assert_allclose(train["median"], [train_mse(1, n, 2) for n in N_VALUES], rtol=TIGHT)
    np.testing.assert_allclose(train["min"], [train_mse(1, n, 1) for n in N_VALUES], rtol=TIGHT)
    np.testing.assert_allclose(train["max"], [train_mse(1, n, 3) for n in N_VALUES], rtol=TIGHT)
    np.testing.assert_allclose(
        gelu["val_mse"]["median"], [1 / n + 0.02 for n in N_VALUES], rtol=TIGHT
    )
    np.testing.assert_allclose(
        gelu["aligned_fraction"]["median"],
        [min(1.0, n / 100 + 0.02) for n in N_VALUES],
        rtol=TIGHT,
    )
    # The Adam variant's failed run at n = 1024 leaves that n empty (and is listed).
    adam = series["variants"]["ReLU, Adam"]["train_mse"]
    assert adam["x"] == [4, 16, 64, 256, 1024] and adam["count"] == [3, 3, 3, 3, 0]
    assert adam["median"][-1] is None
    assert (len(N_VALUES) * len(SEEDS) * 3 + 1, "failed") in {
        (m["run_id"], m["status"]) for m in record["missing"]
    }
    summary = record["summary"]
    # Threshold: the first n whose median training MSE reaches sigma^2 / 2 = 0.125: n = 64
    # (0.2 * 1.2 = 0.24 there, 0.1 * 1.2 = 0.12 at n = 16).
    assert summary["ReLU, GD: first n with train MSE >= 0.5 σ²"] == 64
    assert abs(summary["ReLU, GD: train MSE / σ² at n = 4"] - 1.2e-9 / NOISE) < TIGHT
    assert abs(summary["ReLU, GD: train MSE / σ² at n = 256"] - 0.24 * 1.2 / NOISE) < TIGHT
    assert abs(summary["ReLU, GD: test MSE at n = 256"] - (1 / 256 + 0.02)) < TIGHT
    assert summary["noise variance σ²"] == NOISE
    assert summary["runs done"] == len(N_VALUES) * len(SEEDS) * 3


def test_threshold_variants_name_their_step_size_and_come_in_a_fixed_order(tmp_path):
    runs = []
    for optimizer, eta in (("adam", 0.001), ("gd", 0.05)):
        for activation in ("gelu", "relu"):
            for n in (8, 64):
                runs.append(
                    {
                        "config": {
                            "data.n": n,
                            "data.seed": 1,
                            "optim.optimizer": optimizer,
                            "optim.eta": eta,
                            "model.activation": activation,
                        },
                        "metrics": {
                            "train_mse": 0.1 * n,
                            "val_mse": 0.3,
                            "noise_var": NOISE,
                            "aligned_fraction": 0.0,
                        },
                    }
                )
    directory = write_results_db(tmp_path / "thr2", "boursier2025-threshold", runs)
    plot_directory(directory)
    record = json.loads((directory / "figures" / "boursier2025_threshold.json").read_text())
    assert list(record["series"]["variants"]) == [
        "ReLU, GD, η = 0.05",
        "ReLU, Adam, η = 0.001",
        "GeLU, GD, η = 0.05",
        "GeLU, Adam, η = 0.001",
    ]
    # An aligned fraction of 0 is a value, not a missing one.
    aligned = record["series"]["variants"]["ReLU, GD, η = 0.05"]["aligned_fraction"]
    assert aligned["median"] == [0.0, 0.0] and aligned["count"] == [1, 1]
