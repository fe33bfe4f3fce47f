# SPDX-License-Identifier: MIT
"""The package's array handling: float32 and Fortran order give the float64 C-order results; wrong
shapes raise ValueError naming the argument and the expected shape; the library's InputError
arrives as ValueError with its message. Also the small analyses against independent oracles:
brute-force loss, the dense Hessian from hvp, the empirical weight by its definition."""

from __future__ import annotations

import numpy as np
import pytest

import relustab


@pytest.fixture
def net_and_data():
    rng = np.random.default_rng(0)
    W1 = rng.standard_normal((5, 2))
    b1 = rng.standard_normal(5)
    w2 = rng.standard_normal(5)
    X = rng.uniform(-1, 1, size=(12, 2))
    y = rng.standard_normal(12)
    return relustab.Net(W1, b1, w2, 0.3), X, y


def brute_force_half_mse(net, X, y):
    total = 0.0
    for x, target in zip(X, y):
        f = sum(net.w2[i] * max(0.0, float(net.W1[i] @ x + net.b1[i])) for i in range(net.width))
        total += (f + net.b2 - target) ** 2
    return total / (2 * len(y))


def test_loss_is_the_brute_force_sum(net_and_data):
    net, X, y = net_and_data
    expected = brute_force_half_mse(net, X, y)
    assert relustab.loss(net, X, y) == pytest.approx(expected, rel=1e-13)
    assert relustab.loss(net, X, y, loss="mse") == pytest.approx(2 * expected, rel=1e-13)


def test_sharpness_is_the_top_eigenvalue_of_the_hvp_matrix(net_and_data):
    net, X, y = net_and_data
    for loss in ("half_mse", "mse"):
        H = relustab.hvp(net, X, y, loss=loss).dense()
        top = np.linalg.eigvalsh((H + H.T) / 2).max()
        s = relustab.sharpness(net, X, y, loss=loss)
        assert s.value == pytest.approx(top, rel=1e-10)
        assert float(s) == s.value
    H_half = relustab.hvp(net, X, y).dense()
    assert np.array_equal(relustab.hvp(net, X, y, loss="mse").dense(), 2 * H_half)


def test_float32_and_fortran_order_are_converted(net_and_data):
    net, X, y = net_and_data
    expected = relustab.analyze(net, X, y, eta=0.5).to_dict()
    assert relustab.analyze(net, np.asfortranarray(X), y, eta=0.5).to_dict() == expected
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    got = relustab.analyze(net, X32, y32, eta=0.5).to_dict()
    assert got == relustab.analyze(net, X32.astype(np.float64), y32.astype(np.float64), eta=0.5).to_dict()
    W1f = np.asfortranarray(net.W1.astype(np.float32))
    net32 = relustab.Net(W1f, net.b1.astype(np.float32), net.w2.reshape(1, -1), np.array([net.b2]))
    assert np.array_equal(net32.W1, net.W1.astype(np.float32).astype(np.float64))
    assert net32.w2.shape == (5,) and isinstance(net32.b2, float)


def test_wrong_shapes_name_the_argument(net_and_data):
    net, X, y = net_and_data
    with pytest.raises(ValueError, match=r"X: expected an array of shape \(n, 2\), got shape \(12, 3\)"):
        relustab.analyze(net, np.zeros((12, 3)), y)
    with pytest.raises(ValueError, match=r"y: expected an array of shape \(12,\), got shape \(11,\)"):
        relustab.analyze(net, X, y[:-1])
    with pytest.raises(ValueError, match=r"b1: expected an array of shape \(5,\), got shape \(4,\)"):
        relustab.Net(net.W1, net.b1[:4], net.w2, 0.0)
    with pytest.raises(ValueError, match=r"b2: expected a scalar"):
        relustab.Net(net.W1, net.b1, net.w2, [1.0, 2.0])
    with pytest.raises(ValueError, match="dtype complex"):
        relustab.analyze(net, X.astype(complex), y)
    with pytest.raises(ValueError, match="loss: expected 'half_mse'"):
        relustab.sharpness(net, X, y, loss="MSE")
    with pytest.raises(ValueError, match=r"v: expected an array of shape \(21,\)"):
        relustab.hvp(net, X, y)(np.zeros(3))


def test_library_errors_are_value_errors(net_and_data, tmp_path):
    net, X, y = net_and_data
    with pytest.raises(ValueError, match="finite"):
        relustab.analyze(net, X, np.full(12, np.nan))
    with pytest.raises(ValueError, match="flattest"):
        gelu = relustab.Net(net.W1, net.b1, net.w2, net.b2, activation="gelu")
        relustab.analyze(gelu, X, y, flattest=True)
    with pytest.raises(ValueError):
        relustab.load_net(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="unknown parameter"):
        relustab.train(X, y, widht=3)


def test_weight_and_curves(net_and_data):
    """The weight function g: 0 outside the data range, positive inside, the g that curves() draws;
    the population weights: symmetric laws give even functions, uniform vanishes outside its support
    [-sqrt 3, sqrt 3]. The knots of curves() are -b1/w1 with the jumps w2 |w1| (d = 1)."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, 30)
    net = relustab.Net(rng.standard_normal((6, 1)), rng.standard_normal(6), rng.standard_normal(6), 0.0)
    c = relustab.curves(net, x, np.zeros(30), points=101)
    np.testing.assert_array_equal(relustab.weight(x, c.x), c.g)
    inside = (c.x > x.min()) & (c.x < x.max())
    assert (c.g[~inside & ((c.x < x.min()) | (c.x > x.max()))] == 0).all() and (c.g[inside] > 0).all()
    order = np.argsort(-net.b1 / net.W1[:, 0])
    np.testing.assert_allclose(c.knots, (-net.b1 / net.W1[:, 0])[order], rtol=1e-15)
    np.testing.assert_allclose(c.slope_jumps, (net.w2 * np.abs(net.W1[:, 0]))[order], rtol=1e-15)
    np.testing.assert_allclose(c.f, net.predict(c.x), rtol=0, atol=0)
    t = np.linspace(-3, 3, 13)
    for law in ("uniform", "gaussian", "laplace"):
        g = relustab.population_weight(law, t)
        np.testing.assert_allclose(g, g[::-1], rtol=1e-12, atol=1e-15)
    assert (relustab.population_weight("uniform", np.array([-1.8, 1.8])) == 0).all()
    with pytest.raises(ValueError, match="law"):
        relustab.population_weight("cauchy", t)


def test_repr_and_round_trip(net_and_data, tmp_path):
    net, X, y = net_and_data
    report = relustab.analyze(net, X, y, eta=0.5)
    assert "sharpness" in repr(report) and "<table>" in report._repr_html_()
    assert report.sharpness == report["sharpness"] == report.to_dict()["sharpness"]
    for name in ("n.json", "n.npz"):
        net.save(tmp_path / name)
        assert relustab.load_net(tmp_path / name) == net


def test_kinks_in_both_conventions(net_and_data):
    """Without a knot on a data point there is one mode, the ordinary Hessian: lambda_upper is the
    sharpness (the dense eigenvalue of hvp's matrix); mse doubles it and keeps the verdicts of
    half_mse at 2 eta."""
    net, X, y = net_and_data
    half = relustab.kinks(net, X, y, eta=0.2)
    mse = relustab.kinks(net, X, y, eta=0.1, loss="mse")
    assert half["kink_points"] == [] and half["modes"] == 1
    H = relustab.hvp(net, X, y).dense()
    assert half["lambda_upper"] == pytest.approx(np.linalg.eigvalsh((H + H.T) / 2).max(), rel=1e-10)
    assert mse["lambda_upper"] == 2 * half["lambda_upper"]
    assert mse["eta"] == 0.1
    for key in ("lemma3_stable", "lemma2_unstable", "thm2_delta"):
        assert mse[key] == half[key] or (np.isnan(mse[key]) and np.isnan(half[key])), key
