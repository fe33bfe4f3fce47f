# SPDX-License-Identifier: MIT
"""relustab.analyze equals `relustab analyze --json` bit for bit: one code path (the run API).

The nets are made by the CLI (`relustab train`, ReLU and GeLU, d = 1 and d = 3) and the .npz
fixture of tests/io/data; the data by `relustab data` (with a clean column). The oracle is the
binary's JSON: every key, in order, and every value compared exactly (floats by ==, undefined as
null), for half_mse and mse, with and without eta, with --flattest.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import relustab

REPO = Path(__file__).resolve().parents[2]


def cli(binary: str, *args: str) -> str:
    return subprocess.run([binary, *map(str, args)], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    binary = os.environ.get("RELUSTAB_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("RELUSTAB_BIN is not set to an executable relustab binary")
    root = tmp_path_factory.mktemp("cli")
    made = []
    for name, dim, activation, width, steps in [("relu1", 1, "relu", 12, 3000),
                                                ("gelu1", 1, "gelu", 8, 2000),
                                                ("relu3", 3, "relu", 10, 1500),
                                                ("gelu3", 3, "gelu", 6, 1000)]:
        data = root / f"{name}.csv"
        cli(binary, "data", "--n", 24, "--dim", dim, "--noise", 0.1, "--seed", 7, "--out", data,
            *(["--target", "linear"] if dim > 1 else []))
        out = root / name
        cli(binary, "train", "--data", data, "--out", out, "--width", width, "--lr", 0.05, "--steps",
            steps, "--seed", 3, "--activation", activation, "--quiet")
        made.append((out / "net.json", data))
    # The .npz fixture (d = 2, extreme values) on data of its dimension.
    data2 = root / "d2.csv"
    cli(binary, "data", "--n", 15, "--dim", 2, "--target", "linear", "--seed", 2, "--out", data2)
    made.append((REPO / "tests/io/data/net_savez_streamed.npz", data2))
    return binary, made


@pytest.mark.parametrize("options", [[], ["--eta", "0.1"], ["--eta", "0.1", "--loss", "mse"],
                                     ["--loss", "mse"], ["--eta", "0.37", "--edge-tol", "0.2"]])
def test_analyze_matches_cli_json(cases, options):
    binary, made = cases
    for net_path, data_path in made:
        expected = json.loads(cli(binary, "analyze", "--net", net_path, "--data", data_path,
                                  "--json", *options))
        net = relustab.load_net(net_path)
        X, y, y_clean = relustab.load_data(data_path, with_clean=True)
        kwargs = dict(zip(options[::2], options[1::2]))
        report = relustab.analyze(net, X, y, eta=float(kwargs["--eta"]) if "--eta" in kwargs else None,
                                  loss=kwargs.get("--loss", "half_mse"), y_clean=y_clean,
                                  edge_tolerance=float(kwargs.get("--edge-tol", 0.01)))
        got = report.to_dict()
        assert list(got) == list(expected), net_path
        for key in expected:
            assert got[key] == expected[key] and type(got[key]) is type(expected[key]), (net_path, key)


def test_spectrum_matches_cli_json(cases):
    """The Hessian's spectrum (top-k, lambda_min, Hutchinson trace, SLQ density) of every net, as the
    CLI prints it: the scalar keys in order and exactly, the density's arrays exactly."""
    binary, made = cases
    for net_path, data_path in made:
        expected = json.loads(cli(binary, "analyze", "--net", net_path, "--data", data_path, "--json",
                                  "--top-k", 3, "--lambda-min", "--trace-samples", 30,
                                  "--density-probes", 2, "--density-steps", 5,
                                  "--spectrum-seed", 11, "--loss", "mse"))
        X, y, y_clean = relustab.load_data(data_path, with_clean=True)
        report = relustab.analyze(relustab.load_net(net_path), X, y, loss="mse", y_clean=y_clean,
                                  top_k=3, lambda_min=True, trace_samples=30, density_probes=2,
                                  density_steps=5, spectrum_seed=11)
        density = expected.pop("spectral_density")
        assert report.to_dict() == expected, net_path
        assert "hessian_eigenvalue_3_residual" in expected and "hessian_trace_stderr" in expected
        for key in ("nodes", "weights"):
            assert report.spectral_density[key].tolist() == density[key], (net_path, key)
        for key in ("probe_steps", "probes", "steps"):
            assert report.spectral_density[key] == density[key], (net_path, key)
    plain = relustab.analyze(relustab.load_net(made[0][0]), *relustab.load_data(made[0][1]))
    assert plain.spectral_density is None and "hessian_eigenvalue_1" not in plain


def test_flattest_matches_cli_json(cases):
    binary, made = cases
    net_path, data_path = made[0]
    expected = json.loads(cli(binary, "analyze", "--net", net_path, "--data", data_path, "--json",
                              "--flattest", "--eta", "0.2", "--loss", "mse"))
    X, y, y_clean = relustab.load_data(data_path, with_clean=True)
    report = relustab.analyze(relustab.load_net(net_path), X, y, eta=0.2, loss="mse", flattest=True,
                              y_clean=y_clean)
    assert report.to_dict() == expected
    assert report.flattest["net"].n_params == relustab.load_net(net_path).n_params


def test_mse_verdict_is_half_mse_at_twice_the_step(cases):
    """The issue's case: MSELoss at lr eta is judged as half_mse at 2 eta (Theorem 1's 1/(2 eta) - 1/2),
    and the loss, sharpness and its residual are exactly twice the half-MSE ones."""
    binary, made = cases
    for net_path, data_path in made:
        mse = json.loads(cli(binary, "analyze", "--net", net_path, "--data", data_path, "--json",
                             "--eta", "0.1", "--loss", "mse"))
        half = json.loads(cli(binary, "analyze", "--net", net_path, "--data", data_path, "--json",
                              "--eta", "0.2"))
        assert mse["loss_function"] == "mse" and half["loss_function"] == "half_mse"
        for key in ("stable", "edge_ratio", "stability", "stability_class", "thm1_rhs",
                    "noninterpolating_bound", "thm2_delta", "weighted_tv", "knots"):
            assert mse[key] == half[key], key
        for key in ("loss", "sharpness", "sharpness_residual", "gn_sharpness", "lemma4_bound"):
            if half[key] is not None:
                assert mse[key] == 2 * half[key], key
        if half["thm1_rhs"] is not None:
            assert mse["thm1_rhs"] == 1 / 0.2 - 0.5


def test_train_matches_cli_train(cases, tmp_path):
    """relustab.train and `relustab train` run the same run(): the same final net, bit for bit."""
    binary, made = cases
    _, data_path = made[0]
    out = tmp_path / "t"
    cli(binary, "train", "--data", data_path, "--out", out, "--width", 7, "--lr", 0.05, "--steps", 300,
        "--seed", 5, "--loss", "mse", "--quiet")
    X, y, y_clean = relustab.load_data(data_path, with_clean=True)
    result = relustab.train(X, y, y_clean=y_clean, width=7, lr=0.05, steps=300, seed=5, loss="mse",
                            progress=False)
    assert np.array_equal(result.net.theta, relustab.load_net(out / "net.json").theta)
    summary = json.loads((out / "summary.json").read_text())
    assert result.metrics["loss"] == summary["final_loss"]
    assert result.outcome == summary["outcome"]
