# SPDX-License-Identifier: MIT
"""relustab against real PyTorch autograd (float64): nn.Sequential nets with one hidden layer (ReLU
and GeLU, d = 1 and d = 4) and two hidden layers (ReLU), loss="mse" (torch.nn.MSELoss).

Oracles: MSELoss's value; autograd's gradient of it over the module's parameters, flattened in
their order (relustab's theta layout); the full Hessian from torch.autograd.functional.hessian and
its largest eigenvalue from torch.linalg.eigvalsh; Hessian-vector products against that matrix.
The inputs are random, so no pre-activation sits exactly on a kink (where autograd's relu'(0) = 0
matches relustab's convention anyway).
"""

from __future__ import annotations

import numpy as np
import pytest

import relustab

torch = pytest.importorskip("torch")

RTOL = 1e-10

NETS = [
    ("relu d=1", 1, [9], "relu"),
    ("gelu d=1", 1, [7], "gelu"),
    ("relu d=4", 4, [6], "relu"),
    ("gelu d=4", 4, [5], "gelu"),
    ("relu two hidden d=1", 1, [6, 4], "relu"),
    ("relu two hidden d=3", 3, [5, 3], "relu"),
]


def make_module(d, widths, activation, seed):
    torch.manual_seed(seed)
    act = torch.nn.GELU if activation == "gelu" else torch.nn.ReLU
    layers, fan_in = [], d
    for k in widths:
        layers += [torch.nn.Linear(fan_in, k), act()]
        fan_in = k
    layers.append(torch.nn.Linear(fan_in, 1))
    return torch.nn.Sequential(*layers).double()


def make_data(d, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.5, 1.5, size=(n, d))
    y = np.sin(2 * X.sum(axis=1)) + 0.1 * rng.standard_normal(n)
    return X, y


def torch_loss_of_theta(module, X, y):
    names = [name for name, _ in module.named_parameters()]
    shapes = [p.shape for p in module.parameters()]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def loss(theta):
        params, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            params[name] = theta[start:start + size].reshape(shape)
            start += size
        out = torch.func.functional_call(module, params, (Xt,)).reshape(-1)
        return torch.nn.MSELoss()(out, yt)

    theta = torch.cat([p.detach().reshape(-1) for p in module.parameters()])
    return loss, theta


@pytest.mark.parametrize("name,d,widths,activation", NETS, ids=[n[0] for n in NETS])
def test_mse_loss_gradient_sharpness_equal_autograd(name, d, widths, activation):
    module = make_module(d, widths, activation, seed=len(name))
    X, y = make_data(d, 20, seed=d + len(widths))
    net = relustab.from_torch(module)
    assert net.depth == len(widths) and net.activation == activation
    loss_fn, theta = torch_loss_of_theta(module, X, y)
    assert np.array_equal(net.theta, theta.numpy())  # from_torch keeps torch's parameter order

    expected_loss = float(loss_fn(theta))
    assert relustab.loss(net, X, y, loss="mse") == pytest.approx(expected_loss, rel=RTOL)
    assert relustab.loss(net, X, y) == pytest.approx(expected_loss / 2, rel=RTOL)

    theta_g = theta.clone().requires_grad_(True)
    (expected_grad,) = torch.autograd.grad(loss_fn(theta_g), theta_g)
    grad = relustab.gradient(net, X, y, loss="mse")
    scale = np.abs(expected_grad.numpy()).max()
    np.testing.assert_allclose(grad, expected_grad.numpy(), rtol=RTOL, atol=RTOL * scale)

    H = torch.autograd.functional.hessian(loss_fn, theta).numpy()
    top = float(torch.linalg.eigvalsh(torch.from_numpy(H)).max())
    s = relustab.sharpness(net, X, y, loss="mse")
    assert s.value == pytest.approx(top, rel=RTOL)
    assert s.residual <= 1e-8 * max(1.0, abs(s.value))
    assert relustab.sharpness(net, X, y).value == pytest.approx(top / 2, rel=RTOL)

    # The report of analyze (either depth): the same sharpness, and the verdict on each side of 2/eta.
    for eta, stable in ((1.9 / top, True), (2.1 / top, False)):
        report = relustab.analyze(net, X, y, eta=eta, loss="mse")
        assert report.sharpness == pytest.approx(top, rel=RTOL)
        assert report.loss == pytest.approx(expected_loss, rel=RTOL)
        assert report.stable is stable
        assert report.edge_ratio == pytest.approx(top * eta / 2, rel=RTOL)
        assert report.width == widths[0] and report.n == 20
        # Function-space quantities are theory of one hidden layer (and of ReLU for the bounds).
        assert (report.to_dict()["weighted_norm"] is None) == (len(widths) == 2 or activation == "gelu")

    hvp = relustab.hvp(net, X, y, loss="mse")
    v = np.random.default_rng(1).standard_normal(net.n_params)
    np.testing.assert_allclose(hvp(v), H @ v, rtol=0, atol=RTOL * np.abs(H).max() * np.abs(v).sum())


def test_gd_step_on_mse_is_half_mse_step_at_twice_eta():
    """One torch SGD step with MSELoss at lr eta equals relustab's mse gradient step, and equals the
    half_mse step at 2 eta."""
    module = make_module(1, [8], "relu", seed=3)
    X, y = make_data(1, 16, seed=4)
    net = relustab.from_torch(module)
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    opt.zero_grad()
    torch.nn.MSELoss()(module(torch.from_numpy(X)).reshape(-1), torch.from_numpy(y)).backward()
    opt.step()
    after = torch.cat([p.detach().reshape(-1) for p in module.parameters()]).numpy()
    mse_step = net.theta - 0.1 * relustab.gradient(net, X, y, loss="mse")
    half_step = net.theta - 0.2 * relustab.gradient(net, X, y)
    np.testing.assert_allclose(mse_step, after, rtol=1e-12, atol=1e-14)
    assert np.array_equal(mse_step, half_step)


@pytest.mark.parametrize("name,d,widths,activation", NETS, ids=[n[0] for n in NETS])
def test_from_torch_round_trip(name, d, widths, activation):
    module = make_module(d, widths, activation, seed=11)
    net = relustab.from_torch(module)
    back = net.to_torch()
    for p, q in zip(module.parameters(), back.parameters()):
        assert torch.equal(p, q)
    assert relustab.from_torch(back) == net
    # A state dict of float32 tensors, w2 of shape (1, k) and b2 of shape (1,).
    state = {k: v.float() for k, v in module.state_dict().items()}
    from_state = relustab.from_torch(state, activation=activation)
    assert np.array_equal(from_state.theta, np.concatenate(
        [v.double().reshape(-1).numpy() for v in state.values()]))
    X, _ = make_data(d, 7, seed=2)
    np.testing.assert_allclose(net.predict(X), module(torch.from_numpy(X)).detach().numpy().reshape(-1),
                               rtol=1e-12, atol=1e-13)


def test_from_torch_refuses_other_modules():
    with pytest.raises(ValueError, match="nn.Sequential"):
        relustab.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                                                torch.nn.Linear(3, 1)))
    with pytest.raises(ValueError, match="tanh"):
        relustab.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3),
                                                torch.nn.GELU(approximate="tanh"),
                                                torch.nn.Linear(3, 1)))
