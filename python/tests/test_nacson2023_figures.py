# SPDX-License-Identifier: MIT
"""The figures of nacson2023-tightness and nacson2023-depth on hand-made databases: the emitted JSON
holds exactly the metrics given, filtered and aggregated as the captions say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from figures.nacson2023_depth import stable
from figures.plot import plot_directory
from figures.results import Run
from helpers import write_results_db
from test_plot import assert_index_lists_every_figure

TIGHT = 1e-12
CONVERGED, MAX_STEPS = 0, 1


def read_record(directory, name: str) -> dict:
    return json.loads((directory / "figures" / f"{name}.json").read_text())


# ---------------------------------------------------------------------------------------------
# nacson2023-tightness


def tightness_run(eta: float, outcome: int, batch: int = 0, **metrics: float) -> dict:
    values = {
        "outcome": outcome,
        "two_over_eta": 2.0 / eta,
        "final_eta": eta,
        "sharpness": 1.9 / eta,
        "lemma4_bound": 0.5 / eta,
        "weighted_norm": 0.25 / eta - 0.5,
        "val_error": 0.01 + eta,
        "loss": 1e-8,
    }
    values.update(metrics)
    config = {"optim.eta": eta, "optim.batch": batch, "run.seed": 0, "data.n": 200}
    return {"config": config, "metrics": values}


@pytest.fixture
def tightness_dir(tmp_path):
    runs = [
        tightness_run(0.01, CONVERGED),
        tightness_run(0.02, CONVERGED),
        # Converged, but the bound is violated: lemma4_bound above the sharpness.
        tightness_run(0.05, CONVERGED, lemma4_bound=50.0),
        tightness_run(0.1, CONVERGED),
        tightness_run(0.2, MAX_STEPS, val_error=0.3),  # drawn hollow, not in the curves
        {
            "config": {"optim.eta": 0.5, "optim.batch": 0, "run.seed": 0, "data.n": 200},
            "status": "failed",
            "reason": "diverged at step 40",
        },
    ]
    return write_results_db(tmp_path / "tight", "nacson2023-tightness", runs)


def test_tightness_draws_only_converged_runs_with_their_metrics(tightness_dir):
    plot_directory(tightness_dir)
    assert assert_index_lists_every_figure(tightness_dir) == ["nacson2023_tightness"]
    record = read_record(tightness_dir, "nacson2023_tightness")
    gd = record["series"]["by_batch"]["0"]
    etas = [0.01, 0.02, 0.05, 0.1]
    assert gd["sharpness"]["x"] == etas
    np.testing.assert_allclose(gd["sharpness"]["median"], [1.9 / e for e in etas], rtol=TIGHT)
    np.testing.assert_allclose(
        gd["lemma4_bound"]["median"], [5.0 / 0.1, 0.5 / 0.02, 50.0, 5.0], rtol=TIGHT
    )
    np.testing.assert_allclose(gd["val_error"]["median"], [0.01 + e for e in etas], rtol=TIGHT)
    assert record["series"]["converged_runs"] == [1, 2, 3, 4]
    assert record["series"]["step_sizes_without_convergence"] == [0.2, 0.5]
    hollow = record["series"]["val_error_not_converged"]
    assert hollow == {"run_id": [5], "eta": [0.2], "val_error": [0.3]}
    summary = record["summary"]
    assert summary["runs done"] == 5 and summary["runs converged"] == 4
    assert summary["step sizes"] == 6
    assert summary["converged runs with 1 + 2 wn <= sharpness <= 2/eta (1 + 0.01)"] == "3 of 4"
    assert abs(summary["max sharpness / (2/eta)"] - 0.95) < TIGHT
    assert abs(summary["(1 + 2 wn) / sharpness, max"] - 50.0 / 38.0) < TIGHT
    assert abs(summary["(1 + 2 wn) / sharpness, min"] - 0.5 / 1.9) < TIGHT
    assert abs(summary["validation error at the largest converged eta"] - 0.11) < TIGHT
    # The non-converged and the failed run are listed with their outcome / reason.
    skipped = {(m["run_id"], m["missing"]) for m in record["missing"]}
    assert skipped == {(5, "convergence (outcome max_steps)"), (6, "convergence (outcome failed)")}
    # The per-run table flags the violated bound.
    table = record["table"]
    column = table["columns"].index("bound holds")
    assert [row[column] for row in table["rows"]] == [True, True, False, True, None]


def test_tightness_separates_gd_and_sgd(tmp_path):
    runs = [tightness_run(eta, CONVERGED, batch=b) for b in (0, 32) for eta in (0.01, 0.1)]
    runs[2]["metrics"]["sharpness"] = 7.0  # SGD, eta = 0.01
    directory = write_results_db(tmp_path / "sgd", "nacson2023-tightness", runs)
    plot_directory(directory)
    by_batch = read_record(directory, "nacson2023_tightness")["series"]["by_batch"]
    assert sorted(by_batch) == ["0", "32"]
    assert by_batch["32"]["label"] == "SGD, B = 32" and by_batch["0"]["label"] == "GD"
    np.testing.assert_allclose(by_batch["32"]["sharpness"]["median"], [7.0, 19.0], rtol=TIGHT)
    np.testing.assert_allclose(by_batch["0"]["sharpness"]["median"], [190.0, 19.0], rtol=TIGHT)


# ---------------------------------------------------------------------------------------------
# nacson2023-depth


def depth_run(
    target: str, depth: int, init: str, eta: float, seed: int, error: float, sharpness: float
) -> dict:
    return {
        "config": {
            "data.target": target,
            "model.depth": depth,
            "model.init": init,
            "model.width": 100 if depth == 1 else 4,
            "optim.eta": eta,
            "run.seed": seed,
        },
        "metrics": {
            "outcome": MAX_STEPS,
            "val_mse_clean": error,
            "sharpness": sharpness,
            "two_over_eta": 2.0 / eta,
            "final_eta": eta,
            "loss": error / 2,
        },
    }


@pytest.fixture
def depth_dir(tmp_path):
    runs = []
    for eta in (0.1, 0.5):
        for seed in (0, 1):
            # Shallow on the pyramid: seed 1 is the better fit but ends unstable at eta = 0.5.
            unstable = eta == 0.5 and seed == 1
            runs.append(
                depth_run(
                    "pyramid",
                    1,
                    "kaiming",
                    eta,
                    seed,
                    0.01 * (2 - seed) * (1 + eta),
                    3.0 / eta if unstable else 1.5 / eta,
                )
            )
            runs.append(depth_run("bump", 1, "kaiming", eta, seed, 1e-4 * (1 + seed), 1.0))
        runs.append(depth_run("pyramid", 2, "pyramid", eta, 0, 1e-30, 1.82))
    runs.append(
        {
            "config": {
                "data.target": "pyramid",
                "model.depth": 2,
                "model.init": "pyramid",
                "model.width": 4,
                "optim.eta": 2.0,
                "run.seed": 0,
            },
            "status": "failed",
            "reason": "diverged at step 80",
        }
    )
    return write_results_db(tmp_path / "depth", "nacson2023-depth", runs)


def test_depth_compares_the_deep_net_with_the_best_stable_shallow_net(depth_dir):
    plot_directory(depth_dir)
    assert assert_index_lists_every_figure(depth_dir) == ["nacson2023_depth"]
    record = read_record(depth_dir, "nacson2023_depth")
    cases = {(c["target"], c["depth"]): c for c in record["series"]["cases"]}
    assert set(cases) == {("pyramid", 1), ("bump", 1), ("pyramid", 2)}
    assert cases[("pyramid", 2)]["label"] == "two hidden layers (pyramid init), pyramid target"
    assert cases[("pyramid", 1)]["label"] == "shallow, pyramid target"
    shallow = cases[("pyramid", 1)]["val_mse_clean"]
    assert shallow["x"] == [0.1, 0.5]
    # Median over the two seeds: (0.02 + 0.01) / 2 (1 + eta).
    np.testing.assert_allclose(shallow["median"], [0.015 * 1.1, 0.015 * 1.5], rtol=TIGHT)
    assert cases[("pyramid", 1)]["stable"] == [[True, True], [True, False]]
    # The JSON keeps the true (rounding-size) error of the deep net; only the drawing clips it.
    assert cases[("pyramid", 2)]["val_mse_clean"]["median"] == [1e-30, 1e-30]
    rows = record["series"]["deep_vs_best_stable_shallow"]
    assert [row["eta"] for row in rows] == [0.1, 0.5]
    # eta = 0.1: both shallow runs are stable, the better has 0.01 * 1.1; eta = 0.5: the better one
    # (seed 1) is unstable, so the best stable one is seed 0 with 0.02 * 1.5.
    np.testing.assert_allclose(
        [row["best_stable_shallow_error"] for row in rows], [0.011, 0.03], rtol=TIGHT
    )
    np.testing.assert_allclose(
        [row["ratio"] for row in rows], [1e-30 / 0.011, 1e-30 / 0.03], rtol=TIGHT
    )
    summary = record["summary"]
    assert summary["deep / best stable shallow test MSE, pyramid, η = 0.5"] == pytest.approx(
        1e-30 / 0.03, rel=TIGHT
    )
    assert summary["shallow, pyramid target: stable runs"] == "3 of 4"
    assert summary["runs done"] == 10 and summary["cases"] == 3
    assert [(m["run_id"], m["status"]) for m in record["missing"]] == [(11, "failed")]


def test_depth_counts_runs_at_the_edge_of_stability_as_stable():
    # GD at the edge of stability ends with a sharpness hovering around 2/eta: up to 5% above counts.
    def run(sharpness: float) -> Run:
        return Run(
            1, "k", "done", "", {"optim.eta": 0.5}, {"sharpness": sharpness, "two_over_eta": 4.0}
        )

    assert stable(run(4.0 * 1.04)) and stable(run(1.0))
    assert not stable(run(4.0 * 1.06))
    assert not stable(Run(2, "k", "done", "", {"optim.eta": 0.5}, {"two_over_eta": 4.0}))
