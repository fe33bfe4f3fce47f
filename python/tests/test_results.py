# SPDX-License-Identifier: MIT
"""figures.results: the database reader, aggregation, the power-law fit, data files."""

from __future__ import annotations

import math

import numpy as np
import pytest

from figures.results import (
    Dataset,
    Results,
    ResultsError,
    aggregate,
    fit_power_law,
    group_by,
    json_ready,
    net_function,
    neuron_functions,
    pick_spread,
    read_csv,
    select,
    standardize,
    varying_keys,
    write_csv,
)
from helpers import net_dict, write_results_db

# Values below are exact binary fractions or short sums of them, so float64 reproduces them up to a
# few ulps; 1e-12 leaves room for the logs and exps of the fit.
TIGHT = 1e-12


def sample_runs():
    net = net_dict([(1.0, -0.5, 2.0), (-2.0, 1.0, 0.5)], b2=0.25)
    return [
        {
            "config": {"optim.eta": 0.1, "run.seed": 0, "data.n": 10},
            "metrics": {"loss": 1e-6, "sharpness": 19.5, "stable": 1},
            "logs": [(200, "loss", 0.5), (0, "loss", 2.0), (100, "loss", 1.0), (100, "eta", 0.1)],
            "net": net,
        },
        {
            "config": {"optim.eta": 0.1, "run.seed": 1, "data.n": 10},
            "metrics": {"loss": 3e-6, "sharpness": float("nan")},
        },
        {
            "config": {"optim.eta": 0.4, "run.seed": 0, "data.n": 10},
            "status": "failed",
            "reason": "diverged at step 12 (loss 3.1e+13)",
            "metrics": {"loss": 3.1e13},
        },
    ]


def test_reads_runs_metrics_logs_and_nets(tmp_path):
    directory = write_results_db(tmp_path / "exp", "my-sweep", sample_runs())
    with Results(directory) as results:
        assert results.name == "my-sweep"
        assert results.experiment == {"name": "my-sweep"}
        assert [r.id for r in results.runs] == [1, 2, 3]
        first, second, third = results.runs
        assert first.config == {"optim.eta": 0.1, "run.seed": 0, "data.n": 10}
        assert first.done and not third.done
        assert third.reason.startswith("diverged")
        assert first.metric("sharpness") == 19.5
        # A NULL metric (the store's NaN) and an absent one both read as NaN.
        assert math.isnan(second.metric("sharpness")) and not second.has("sharpness")
        assert math.isnan(second.metric("knots"))
        log = results.log(first)
        np.testing.assert_array_equal(log.steps("loss"), [0, 100, 200])
        np.testing.assert_array_equal(log.values("loss"), [2.0, 1.0, 0.5])
        assert "eta" in log and "mse_clean" not in log
        assert results.net(first)["b2"] == 0.25
        assert results.net(second) is None
        assert [r.id for r in results.done_runs()] == [1, 2]


def test_refuses_missing_directory_and_newer_schema(tmp_path):
    with pytest.raises(ResultsError, match="no such experiment directory"):
        Results(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no results database"):
        Results(tmp_path / "empty")
    directory = write_results_db(tmp_path / "future", "x", sample_runs(), schema_version=2)
    with pytest.raises(ResultsError, match="schema_version"):
        Results(directory)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "results.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ResultsError, match="not a relustab results database"):
        Results(tmp_path / "junk")


def test_grouping_and_axes(tmp_path):
    directory = write_results_db(tmp_path / "exp", "x", sample_runs())
    with Results(directory) as results:
        assert varying_keys(results.runs) == ["optim.eta", "run.seed"]
        groups = group_by(results.runs, "optim.eta")
        assert list(groups) == [0.1, 0.4]
        assert [r.id for r in groups[0.1]] == [1, 2]
        assert [r.id for r in select(results.runs, optim__eta=0.4)] == [3]


def test_aggregate_median_quartiles_and_skips(tmp_path):
    runs = [
        {"config": {"x": 1, "run.seed": s}, "metrics": {"m": v}}
        for s, v in enumerate([4.0, 1.0, 3.0, 2.0])
    ]
    runs.append({"config": {"x": 2, "run.seed": 0}, "metrics": {"m": 8.0}})
    runs.append({"config": {"x": 2, "run.seed": 1}, "metrics": {}})
    runs.append({"config": {"x": 3, "run.seed": 0}, "status": "failed", "metrics": {"m": 5.0}})
    directory = write_results_db(tmp_path / "agg", "x", runs)
    with Results(directory) as results:
        from figures.results import MissingLog

        missing = MissingLog()
        s = aggregate(group_by(results.runs, "x"), "m", missing)
    # Linear-interpolation quartiles of {1, 2, 3, 4}: 1.75, 2.5, 3.25 (by hand).
    np.testing.assert_array_equal(s.x, [1.0, 2.0, 3.0])
    assert s.median[0] == 2.5 and s.lo[0] == 1.75 and s.hi[0] == 3.25
    assert s.median[1] == 8.0 and s.count[1] == 1
    # A failed run's metric is not used even though it is stored.
    assert math.isnan(s.median[2]) and s.count[2] == 0
    assert {(m["run_id"], m["status"]) for m in missing.to_json()} == {(6, "done"), (7, "failed")}


def test_power_law_fit_recovers_known_slope():
    n = np.array([10, 20, 40, 80, 160, 320], dtype=float)
    exact = 3.0 * n**-0.8
    fit = fit_power_law(n, exact)
    assert abs(fit["slope"] + 0.8) < TIGHT
    assert abs(fit["intercept"] - math.log(3.0)) < TIGHT
    assert fit["points"] == 6 and fit["slope_stderr"] < 1e-10
    # Multiplicative log-normal noise: the estimate stays within a few standard errors of -0.8.
    rng = np.random.default_rng(7)
    n_many = np.repeat(n, 20)
    noisy = 3.0 * n_many**-0.8 * np.exp(0.1 * rng.standard_normal(n_many.size))
    fit = fit_power_law(n_many, noisy)
    assert abs(fit["slope"] + 0.8) < 4 * fit["slope_stderr"]
    # Non-positive and non-finite pairs are dropped, fewer than two points give NaN.
    fit = fit_power_law([1, 2, 4, 8, 16], [1.0, 0.5, float("nan"), -1.0, 1.0 / 16])
    assert fit["points"] == 3 and abs(fit["slope"] + 1.0) < TIGHT
    assert math.isnan(fit_power_law([1.0], [1.0])["slope"])


def test_pick_spread():
    values = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
    assert pick_spread(values, 3) == [0.01, 0.1, 1.0]
    assert pick_spread(values, 10) == values
    assert pick_spread([3, 1, 2, 2], 5) == [1.0, 2.0, 3.0]
    picked = pick_spread(values, 5)
    assert len(picked) == 5 and picked[0] == 0.01 and picked[-1] == 1.0
    assert pick_spread([1, 2, 3, 4, 5], 3, log=False) == [1.0, 3.0, 5.0]


def test_net_function_and_neurons_by_hand():
    net = net_dict([(1.0, -0.5, 2.0), (-2.0, 1.0, 0.5)], b2=0.25)
    x = np.array([-1.0, 0.0, 0.5, 1.0])
    # Neuron 1: 2 relu(x - 0.5) = [0, 0, 0, 1]; neuron 2: 0.5 relu(1 - 2x) = [1.5, 0.5, 0, 0].
    np.testing.assert_allclose(net_function(net, x), [1.75, 0.75, 0.25, 1.25], rtol=0, atol=TIGHT)
    parts = neuron_functions([[1.0, -0.5, 2.0], [-2.0, 1.0, 0.5]], x)
    np.testing.assert_allclose(parts, [[0, 0, 0, 1], [1.5, 0.5, 0, 0]], rtol=0, atol=TIGHT)


def test_csv_round_trip_and_standardise(tmp_path):
    data = Dataset(
        np.array([0.1, -1 / 3, 2.5]), np.array([1.0, 2.0, 1e-17]), np.array([0.5, 0.25, math.pi])
    )
    write_csv(tmp_path / "d.csv", data)
    back = read_csv(tmp_path / "d.csv")
    np.testing.assert_array_equal(back.x, data.x)
    np.testing.assert_array_equal(back.y, data.y)
    np.testing.assert_array_equal(back.y_clean, data.y_clean)
    (tmp_path / "bad.csv").write_text("x1,x2,y\n1,2,3\n")
    with pytest.raises(ResultsError, match="univariate"):
        read_csv(tmp_path / "bad.csv")
    z = standardize(np.array([1.0, 2.0, 3.0, 10.0]))
    assert abs(z.mean()) < TIGHT and abs(z.std() - 1.0) < TIGHT


def test_json_ready_maps_nan_to_null():
    out = json_ready(
        {
            "a": np.array([1.0, np.nan]),
            "b": np.float64(np.inf),
            "c": np.int64(3),
            "d": (np.bool_(True),),
        }
    )
    assert out == {"a": [1.0, None], "b": None, "c": 3, "d": [True]}


def test_weight_calls_split_long_point_lists(relustab_bin):
    # 10^4 points would overflow one command-line argument (128 KiB); the chunks must line up.
    from figures.results import WEIGHT_POINTS_PER_CALL, Relustab

    at = np.linspace(-3.0, 3.0, 2 * WEIGHT_POINTS_PER_CALL + 123)
    with Relustab(relustab_bin) as tool:
        whole = tool.weight_of_law("gaussian", at)
        pieces = np.concatenate(
            [tool.weight_of_law("gaussian", at[i : i + 1000]) for i in range(0, at.size, 1000)]
        )
    assert whole.shape == at.shape
    np.testing.assert_array_equal(whole, pieces)
    # g is even for a symmetric law (Mulayoff et al. 2021, eqs. 21-23: g_+(x) = g_-(-x)) and peaks at 0.
    np.testing.assert_allclose(whole, whole[::-1], rtol=0, atol=1e-12)
    assert abs(whole.max() - 0.25518) < 5e-6


def test_with_value_puts_the_best_step_size_among_the_shown_ones():
    from figures.qiao2024_fig1 import with_value

    chosen = [0.01, 0.1, 1.0, 10.0]
    # 0.5 is nearer to 1.0 than to 0.1 in log scale (log 2 < log 5), so it takes 1.0's place.
    assert with_value(chosen, 0.5) == [0.01, 0.1, 0.5, 10.0]
    assert with_value(chosen, 0.2) == [0.01, 0.2, 1.0, 10.0]
    assert with_value(chosen, 0.1) == chosen
    assert with_value(chosen, None) == chosen
    assert with_value([0.01, 1.0], 0.1) == [0.01, 1.0]  # the extremes always stay
