# SPDX-License-Identifier: MIT
"""The figures of boursier2025-threshold on hand-made databases: variants, medians and ranges over
seeds, the references and the threshold in the emitted JSON; the per-run quantities read from the
log rows (plateau, early alignment) and the verdict built on them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from figures import boursier2025_threshold as module
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
    assert assert_index_lists_every_figure(directory) == [
        "boursier2025_threshold",
        "boursier2025_threshold_dynamics",
    ]
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


# ----------------------------------------------------------------------------------------------
# Per-run quantities from the log rows


def test_plateau_change_compares_the_end_with_the_last_row_at_half_the_steps():
    steps = np.array([0, 1, 2, 4, 8, 16, 33, 64, 100])
    mse = np.array([1.0, 0.9, 0.8, 0.6, 0.5, 0.45, 0.42, 0.41, 0.40])
    path = module.Trajectory(steps, mse, np.full(steps.size, np.nan))
    # The last row at or before 100 / 2 = 50 is step 33 (0.42): |0.40 - 0.42| / 0.42.
    assert module.plateau_change(path) == pytest.approx(0.02 / 0.42, rel=TIGHT)
    assert math.isnan(module.plateau_change(module.no_trajectory()))


def test_early_alignment_is_read_at_the_last_row_above_the_midpoint_of_the_loss():
    steps = np.array([0, 1, 2, 4, 8, 16, 32])
    mse = np.array([1.0, 1.0, 0.99, 0.9, 0.3, 0.25, 0.24])  # midpoint (1 + 0.24) / 2 = 0.62
    aligned = np.array([0.1, 0.2, 0.5, 0.95, 1.0, 0.7, 0.4])
    path = module.Trajectory(steps, mse, aligned)
    assert module.early_alignment(path) == 0.95  # step 4, the last with MSE > 0.62
    unlogged = module.Trajectory(steps, mse, np.full(steps.size, np.nan))
    assert math.isnan(module.early_alignment(unlogged))


# ----------------------------------------------------------------------------------------------
# The verdict

LOG_STEPS = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)


def verdict_run(n: int, seed: int, final_mse: float, *, settles: bool, outcome: int = 1,
                optimizer: str = "gd", aligned: float = 1.0) -> dict:
    """A run whose training MSE falls from 1 to final_mse, either settling by step 256 (a plateau)
    or still falling by a factor 2 over the last half; aligned fraction `aligned` while the loss
    is high, 0.5 after."""
    logs = []
    for step in LOG_STEPS:
        if step < 8:
            mse = 1.0
        elif settles:
            mse = final_mse * (1.0 + (1.0 if step < 256 else 0.0))
        else:
            mse = final_mse * 1000.0 / max(step, 500)
        logs.append((step, "loss", mse / 2))
        logs.append((step, "aligned_fraction_weighted", aligned if step < 8 else 0.5))
    return {
        "config": {
            "data.n": n,
            "data.seed": seed,
            "model.activation": "relu",
            "optim.optimizer": optimizer,
            "optim.eta": 0.05,
        },
        "metrics": {
            "train_mse": final_mse,
            "val_mse": 0.3 if n > 8 else 0.9,
            "noise_var": NOISE,
            "ols_train_mse": 0.24,
            "ols_val_mse": 0.28,
            "outcome": outcome,
            "grad_norm": 1e-3,
        },
        "logs": logs,
    }


def verdict_of(tmp_path, runs) -> dict:
    directory = write_results_db(tmp_path, "boursier2025-threshold", runs)
    plot_directory(directory)
    return json.loads((directory / "figures" / "verdict.json").read_text())


def test_verdict_reproduced_when_every_criterion_holds(tmp_path):
    runs = [verdict_run(8, seed, 1e-11, settles=True, outcome=0) for seed in (1, 2, 3)]
    # Above: training MSE 0.22 >= 0.75 x 0.24, test MSE 0.3 <= 1.2 x 0.28, settled.
    runs += [verdict_run(512, seed, 0.22, settles=True) for seed in (1, 2, 3)]
    record = verdict_of(tmp_path / "ok", runs)
    assert record["outcome"] == "reproduced", record["checks"]
    assert [c["held"] for c in record["checks"]] == [True, True, True, True]
    numbers = dict(record["numbers"])
    assert numbers["ReLU, GD: training MSE / σ² at n = 512"] == pytest.approx(0.22 / NOISE)
    assert numbers["ReLU, GD: runs converged at the smallest and largest n"] == "6 / 6"
    assert numbers["ReLU, GD: early aligned fraction at n = 512"] == 1.0


def test_verdict_names_each_failed_criterion(tmp_path):
    # n = 8 does not interpolate (0.01 > 0.01 x 0.25), n = 512 still falls (factor 2 over the
    # last half), and the neurons were not aligned early; a second variant holds every criterion.
    runs = [verdict_run(8, seed, 0.01, settles=True, outcome=0, aligned=0.2) for seed in (1, 2, 3)]
    runs += [verdict_run(512, seed, 0.22, settles=False, aligned=0.2) for seed in (1, 2, 3)]
    runs += [
        verdict_run(8, seed, 1e-11, settles=True, outcome=0, optimizer="adam") for seed in (1, 2)
    ]
    runs += [verdict_run(512, seed, 0.22, settles=True, optimizer="adam") for seed in (1, 2)]
    record = verdict_of(tmp_path / "bad", runs)
    assert record["outcome"] == "partly reproduced"
    held = {c["criterion"].split(":")[0] + ":" + c["criterion"].split(":")[1][:12]: c["held"]
            for c in record["checks"]}
    assert list(held.values()) == [False, True, False, False, True], record["checks"]
    # The convergence check counts the settled runs: the three at n = 8 (stopped by a rule).
    assert record["checks"][2]["evidence"].startswith("3 of 6 runs")
    # The reason says, per variant, what failed: 3 of 3 runs at n = 8 stopped without
    # interpolating, 3 of 6 runs still move, and the early alignment.
    assert "3 of 3 runs stopped at a stationary point" in record["reason"]
    assert "3 of 6 runs at the extreme n still move" in record["reason"]
    assert "not aligned at the end of the early phase (0.2)" in record["reason"]
    assert "ReLU, Adam: every criterion holds" in record["reason"]
