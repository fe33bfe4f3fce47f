# SPDX-License-Identifier: MIT
"""The figures and verdicts of nacson2023-tightness and nacson2023-depth on hand-made databases: the
emitted JSON holds exactly the metrics given, filtered and aggregated as the captions say, and each
criterion of the claim holds, or fails, where the numbers say so."""

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


def read_verdict(directory) -> dict:
    return json.loads((directory / "figures" / "verdict.json").read_text())


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
    # Panel (b): the values times eta/2 (the sharpness 1.9/eta gives 0.95 at every eta).
    np.testing.assert_allclose(gd["sharpness_times_eta_over_2"]["median"], [0.95] * 4, rtol=TIGHT)
    np.testing.assert_allclose(
        gd["lemma4_bound_times_eta_over_2"]["median"], [0.25, 0.25, 50.0 * 0.05 / 2, 0.25],
        rtol=TIGHT,
    )
    # Panel (c): the weighted norm against 1/eta - 1/2.
    np.testing.assert_allclose(gd["norm_limit"], [1 / e - 0.5 for e in etas], rtol=TIGHT)
    np.testing.assert_allclose(gd["weighted_norm_by_run"], [0.25 / e - 0.5 for e in etas],
                               rtol=TIGHT)
    np.testing.assert_allclose(gd["val_error"]["median"], [0.01 + e for e in etas], rtol=TIGHT)
    assert gd["step_sizes_without_convergence"] == [0.2, 0.5]
    assert record["series"]["converged_runs"] == [1, 2, 3, 4]
    hollow = record["series"]["val_error_not_converged"]
    assert hollow == {"run_id": [5], "batch": [0], "eta": [0.2], "val_error": [0.3]}
    summary = record["summary"]
    assert summary["runs done"] == 5 and summary["runs converged"] == 4
    assert summary["step sizes"] == 6
    assert summary["GD: runs with 1 + 2 wn <= sharpness <= 2/eta (1 + 0.01)"] == "3 of 4"
    assert summary["GD: sharpness x eta/2, max"] == pytest.approx(0.95, rel=TIGHT)
    assert summary["GD: (1 + 2 wn) / sharpness at the smallest eta"] == pytest.approx(0.5 / 1.9)
    assert summary["GD: validation error, max"] == pytest.approx(0.11, rel=TIGHT)
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


# The verdict. GD: at the edge (sharpness 2/eta x 1.0004), weighted norm falling with eta so that
# (1 + 2 wn) / sharpness rises from 0.2 to 0.96; SGD (B = 32): 3% below the edge with 0.95 times
# the norms; at eta = 1.6 GD runs out of steps and SGD diverges.
VERDICT_ETAS = (0.1, 0.2, 0.4, 0.8)
GD_NORMS = (1.5, 1.2, 0.9, 0.7)


def verdict_runs(gd_edge=(1.0004,) * 4, sgd_norm_factor=(0.95,) * 4) -> list[dict]:
    runs = []
    for batch in (0, 32):
        for i, eta in enumerate(VERDICT_ETAS):
            edge = gd_edge[i] if batch == 0 else 0.97
            wn = GD_NORMS[i] * (1.0 if batch == 0 else sgd_norm_factor[i])
            runs.append(tightness_run(eta, CONVERGED, batch, sharpness=edge * 2 / eta,
                                      edge_ratio=edge, weighted_norm=wn, lemma4_bound=1 + 2 * wn,
                                      val_error=0.02))
    runs.append(tightness_run(1.6, MAX_STEPS, 0))
    runs.append({"config": {"optim.eta": 1.6, "optim.batch": 32, "run.seed": 0, "data.n": 200},
                 "status": "failed", "reason": "diverged at step 900 (loss 1e+13)"})
    return runs


def test_tightness_verdict_reproduced_when_every_criterion_holds(tmp_path):
    directory = write_results_db(tmp_path / "ok", "nacson2023-tightness", verdict_runs())
    plot_directory(directory)
    verdict = read_verdict(directory)
    # GD: bound chain, norm bound, at the edge, lower bound close, norm falls; SGD: chain, norm.
    assert [c["held"] for c in verdict["checks"]] == [True] * 7
    assert verdict["outcome"] == "reproduced"
    assert "1.6" in verdict["reason"] and "SGD (B = 32)" in verdict["reason"]
    numbers = dict(verdict["numbers"])
    assert numbers["GD: converged step sizes"] == "4 of 5"
    assert numbers["SGD, B = 32: λmax η/2, max"] == pytest.approx(0.97, rel=TIGHT)
    # The lower-bound check's evidence: (1 + 2 x 0.7) / (2.5 x 1.0004) at the largest eta.
    assert f"{2.4 / (2.5 * 1.0004):.3g}" in verdict["checks"][3]["evidence"]
    settings = {s["label"]: s for s in verdict["settings"]}
    assert settings["batch size (0: full-batch GD)"]["value"] == "0, 32"
    assert settings["validation images"]["source"] == "ours"


def test_tightness_verdict_fails_where_the_numbers_say(tmp_path):
    # GD 2% above 2/eta at eta = 0.4: the chain and the edge criterion fail, nothing else.
    above = write_results_db(tmp_path / "above", "nacson2023-tightness",
                             verdict_runs(gd_edge=(1.0004, 1.0004, 1.02, 1.0004)))
    plot_directory(above)
    verdict = read_verdict(above)
    assert [c["held"] for c in verdict["checks"]] == [False, True, False, True, True, True, True]
    assert verdict["outcome"] == "partly reproduced"
    assert "0.4" in verdict["reason"]
    # GD below the edge by 2% at eta = 0.1: only the edge criterion fails.
    below = write_results_db(tmp_path / "below", "nacson2023-tightness",
                             verdict_runs(gd_edge=(0.98, 1.0004, 1.0004, 1.0004)))
    plot_directory(below)
    assert [c["held"] for c in read_verdict(below)["checks"]] == [True] * 2 + [False] + [True] * 4
    # SGD with a weighted norm 1.2 times 1/eta - 1/2 at eta = 0.8 (0.9 > 0.75): its chain (1 + 2 wn
    # = 2.8 > 2.425) and its norm bound fail.
    norm = write_results_db(tmp_path / "norm", "nacson2023-tightness",
                            verdict_runs(sgd_norm_factor=(0.95, 0.95, 0.95, 0.9 / 0.7)))
    plot_directory(norm)
    assert [c["held"] for c in read_verdict(norm)["checks"]] == [True] * 5 + [False, False]


def test_tightness_verdict_needs_three_converged_step_sizes(tmp_path):
    runs = [r for r in verdict_runs() if r["config"]["optim.batch"] == 0][:2]
    directory = write_results_db(tmp_path / "few", "nacson2023-tightness", runs)
    plot_directory(directory)
    verdict = read_verdict(directory)
    assert [c["held"] for c in verdict["checks"]] == [False] * 5
    assert verdict["outcome"] == "not reproduced"
    assert "only 2 step sizes converged" in verdict["reason"]


# ---------------------------------------------------------------------------------------------
# nacson2023-depth


def depth_run(
    target: str, depth: int, init: str, eta: float, seed: int, error: float, sharpness: float,
    width: int | None = None, weighted_norm: float | None = None,
) -> dict:
    metrics = {
        "outcome": MAX_STEPS,
        "val_mse_clean": error,
        "sharpness": sharpness,
        "two_over_eta": 2.0 / eta,
        "final_eta": eta,
        "loss": error / 2,
        "noise_var": 1e-6,
    }
    if weighted_norm is not None:
        metrics["weighted_norm"] = weighted_norm
    return {
        "config": {
            "data.target": target,
            "model.depth": depth,
            "model.init": init,
            "model.width": width if width is not None else (100 if depth == 1 else 4),
            "optim.eta": eta,
            "run.seed": seed,
        },
        "metrics": metrics,
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
                    weighted_norm=0.3,
                )
            )
            runs.append(depth_run("bump", 1, "kaiming", eta, seed, 1e-4 * (1 + seed), 1.0,
                                  weighted_norm=0.1))
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
    assert cases[("pyramid", 2)]["label"] == "two hidden layers (pyramid init), pyramid"
    assert cases[("pyramid", 1)]["label"] == "shallow k = 100, pyramid"
    shallow = cases[("pyramid", 1)]["val_mse_clean"]
    assert shallow["x"] == [0.1, 0.5]
    # Median over the two seeds: (0.02 + 0.01) / 2 (1 + eta).
    np.testing.assert_allclose(shallow["median"], [0.015 * 1.1, 0.015 * 1.5], rtol=TIGHT)
    assert cases[("pyramid", 1)]["stable"] == [[True, True], [True, False]]
    # Panel (b): sharpness x eta / 2, median over seeds (0.75 and 0.75 / 1.5 at eta = 0.5).
    np.testing.assert_allclose(
        cases[("pyramid", 1)]["sharpness_times_eta_over_2"]["median"], [0.75, 1.125], rtol=TIGHT
    )
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
    assert summary["shallow k = 100, pyramid: stable runs"] == "3 of 4"
    assert summary["runs done"] == 10 and summary["cases"] == 3
    assert [(m["run_id"], m["status"]) for m in record["missing"]] == [(11, "failed")]


def test_depth_counts_runs_at_the_edge_of_stability_as_stable():
    # GD at the edge of stability ends with a sharpness hovering around 2/eta: up to 5% above
    # counts.
    def run(sharpness: float) -> Run:
        return Run(
            1, "k", "done", "", {"optim.eta": 0.5}, {"sharpness": sharpness, "two_over_eta": 4.0}
        )

    assert stable(run(4.0 * 1.04)) and stable(run(1.0))
    assert not stable(run(4.0 * 1.06))
    assert not stable(Run(2, "k", "done", "", {"optim.eta": 0.5}, {"two_over_eta": 4.0}))


# The verdict. The exact deep pyramid has sharpness 2 (stable for eta <= 1 within 1%): at eta = 0.5
# and 1.0 it stays (error 1e-8), at 1.5 it leaves (error 1e-2, flatter). Shallow widths 50 and 200
# on the pyramid at the edge (sharpness 2/eta), errors 1e-4, 1e-3, 3e-2 (x width_factor for the
# wide one), weighted norm 0.9 (1/eta - 1/2) up to 0.6; the bump at width 50 with weighted norm 0.2
# and error 2e-5 where 1/eta - 1/2 >= 0.2 (eta <= 1.4).
DEPTH_ETAS = (0.5, 1.0, 1.5)
PYRAMID_ERRORS = (1e-4, 1e-3, 3e-2)


def depth_verdict_runs(width_factor: float = 1.0, deep_left_at_one: bool = False) -> list[dict]:
    runs = []
    for i, eta in enumerate(DEPTH_ETAS):
        limit = 1 / eta - 0.5
        for width, factor in ((50, 1.0), (200, width_factor)):
            runs.append(depth_run("pyramid", 1, "torch", eta, 0, PYRAMID_ERRORS[i] * factor,
                                  2 / eta, width=width, weighted_norm=min(0.6, 0.9 * limit)))
        bump_error = 2e-5 if limit >= 0.2 else 5e-3
        runs.append(depth_run("bump", 1, "torch", eta, 0, bump_error, 2 / eta, width=50,
                              weighted_norm=min(0.2, 0.9 * limit)))
        left = eta > 1.0 or (deep_left_at_one and eta == 1.0)
        runs.append(depth_run("pyramid", 2, "pyramid", eta, 0, 1e-2 if left else 1e-8,
                              min(2.0, 1.9 / eta) if left else 2.0))
    return runs


def test_depth_verdict_reproduced_when_every_criterion_holds(tmp_path):
    directory = write_results_db(tmp_path / "ok", "nacson2023-depth", depth_verdict_runs())
    plot_directory(directory)
    verdict = read_verdict(directory)
    # Deep exact and stable; separation; width does not help; the bound bites; the bump is fitted.
    assert [c["held"] for c in verdict["checks"]] == [True] * 5
    assert verdict["outcome"] == "reproduced"
    numbers = dict(verdict["numbers"])
    assert numbers["λmax of the exact two-hidden-layer pyramid"] == 2.0
    # Separation at eta = 0.5 and 1: the best stable shallow error over the deep one.
    assert numbers["η = 0.5: best stable shallow / deep test MSE"] == pytest.approx(1e-4 / 1e-8)
    assert numbers["η = 1: best stable shallow / deep test MSE"] == pytest.approx(1e-3 / 1e-8)
    # The bump is judged at eta = 0.5 and 1 only (1/1.5 - 1/2 = 0.17 < its norm 0.2).
    assert "η = 1.5: bump" not in verdict["checks"][4]["evidence"]
    assert "k = 50, η = 1: bump 2e-05 vs pyramid 0.001" in verdict["checks"][4]["evidence"]


def test_depth_verdict_fails_where_the_numbers_say(tmp_path):
    # The wide net fits the pyramid 3 times better: the width criterion fails (and only it).
    wide = write_results_db(tmp_path / "wide", "nacson2023-depth",
                            depth_verdict_runs(width_factor=1 / 3))
    plot_directory(wide)
    verdict = read_verdict(wide)
    assert [c["held"] for c in verdict["checks"]] == [True, True, False, True, True]
    assert verdict["outcome"] == "partly reproduced"
    assert "wider shallow net" in verdict["reason"]
    # GD leaves the exact deep pyramid at eta = 1, where it is stable: the first criterion fails.
    left = write_results_db(tmp_path / "left", "nacson2023-depth",
                            depth_verdict_runs(deep_left_at_one=True))
    plot_directory(left)
    assert [c["held"] for c in read_verdict(left)["checks"]][0] is False
