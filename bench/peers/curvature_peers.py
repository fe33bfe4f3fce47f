# SPDX-License-Identifier: MIT
"""Curvature peers on W3 and W4: the sharpness (largest algebraic Hessian eigenvalue) of the very net and
data relustab times, computed the ways researchers compute it with PyTorch libraries, each timed and each
checked for accuracy against relustab's value and an independent Hessian.

The problem comes from relustab itself:
- W3: `relustab_workloads --workload W3 --save FILE` (bench/workloads.cpp), a JSON file: x, y (n = 30),
  the width-100 net (W1, b1, w2, b2), relustab's eigenvalue, residual and eigenvector;
- W4: `relustab_w4 --save DIR` (bench/w4.cpp), a folder of raw float64 files X (1000 x 784), y, W1
  (1000 x 784), w2 (b1 = 0, b2 = 0) and meta.json with relustab's eigenvalue and residual.
relustab's parameter order (W1 row-major, b1, w2, b2) is the order of torch's
Linear(d, k) -> ReLU -> Linear(k, 1) parameters.

Loss convention: relustab's default loss is half-MSE, L = 1/(2n) sum r^2. torch.nn.MSELoss is
1/n sum r^2 = 2L, so its Hessian is twice relustab's. Every peer below is made to work on the Hessian
of L: PyHessian and hessian-eigenthings take the criterion 0.5 * mean(r^2) directly; curvlinops needs
an nn.MSELoss (it reads its `reduction`), so its operator is scaled by 0.5 before eigsh. The eigenvalues
printed are therefore all eigenvalues of the same matrix.

Accuracy: every peer's value is compared with relustab's (rel_err = |value - relustab| / relustab),
and, where the peer returns an eigenvector, its residual ||H v - value v|| (v normalised) is computed
independently of the peer (not timed): W3 with the exact dense Hessian of L by torch autograd, W4 with
torch's plain double-backward Hessian-vector product of L. relustab's W3 asserts a relative residual
<= 1e-9, and relustab_w4 runs Lanczos at tol 1e-9 (residual <= 1e-9 max(1, |lambda|)); the peers with a
tolerance are run at tol=1e-9.

Trace and density (issue 14), at equal accuracy: every implementation gets the same number of Rademacher
probes (--trace-probes; --density-probes x --density-steps Lanczos steps), so their estimates have the same
statistical error; each line prints the estimate, its error against the exact value and that error in
units of Hutchinson's standard error for those probes (z), computed from the exact Hessian (W3: the dense
Hessian by torch autograd; W4: closed forms, below):
- pyhessian-trace: hessian(...).trace(maxIter=N, tol=-inf) (tol -inf: exactly N probes; its default
  stops when the running mean changes by less than 1e-3 relative), the mean of the N values it returns,
  and their standard error;
- curvlinops-trace: curvlinops.hutchinson_trace(0.5 * HessianLinearOperator(...), num_matvecs=N) (it
  returns the mean only: no standard error);
- pyhessian-density: hessian(...).density(iter=M, n_v=N) (Lanczos with full re-orthogonalisation);
  PyHessian 0.1 calls torch.eig, removed from PyTorch 2, so the script lends it one built on
  torch.linalg.eigh for the call (T is symmetric tridiagonal: the same eigenpairs);
- curvlinops-density: curvlinops.lanczos_approximate_spectrum(0.5 * HessianLinearOperator(...), ncv=M,
  num_repeats=N) with its defaults otherwise (Papyan 2020: Gaussian start vectors, no
  re-orthogonalisation, the spectral boundaries first estimated by eigsh at tol 1e-2, inside the timing;
  its HVP count includes them). It returns the density on a grid, already broadened: its moments are
  taken by the trapezoid rule, the broadening's variance taken off the second.
The density's moments estimate mass 1, mean trace / P and second moment ||H||_F^2 / P. Exact values at
W4 (786,001 parameters, no dense Hessian): with relu'' = 0 the Hessian is J^T J / n plus the residual
terms, which only couple (W1_j, b1_j) with w2_j, so trace H = trace(J J^T) / n and ||H||_F^2 =
||J J^T||_F^2 / n^2 + 4 sum_j h_j . g_j + 2 sum_j |g_j|^2 (J J^T, n x n, and the k x (d + 1) blocks h, g in
closed form), and the diagonal of H gives Hutchinson's variance 2 sum_{i != j} H_ij^2; at W3 these closed
forms are checked against the dense Hessian (the "exact" line).

Each peer is run once untimed (warm-up; trace and density with 2 probes of 2 steps, enough to warm
the code), then timed over --min-time seconds (at least one evaluation).
One line per peer, in the style of relustab_workloads:
  NAME W3 float64: RATE evals/s (hvps=.. lambda=.. rel_err=.. residual=.. rel_residual=.. settings="..")
  NAME W3 float64: RATE evals/s (hvps=.. trace=.. stderr=.. exact=.. rel_err=.. z=.. settings="..")
  NAME W3 float64: RATE evals/s (hvps=.. mass=.. mean=.. second_moment=.. mean_rel_err=.. mean_z=..
                                 second_rel_err=.. settings="..")
Usage: curvature_peers.py PROBLEM [--min-time SECONDS] [--peers a,b,...] [--trace-probes N]
                          [--density-probes N] [--density-steps M]   (PROBLEM: W3 file or W4 folder)
A peer whose library is missing prints "NAME W3: not available (...)", one that raises "NAME W3: failed
(...)"; the exit status is 0 unless the problem itself cannot be read.
"""
import argparse
import importlib
import json
import math
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
# PyHessian draws its start vectors with torch.randn(size) in the default dtype; float64 everywhere.
torch.set_default_dtype(torch.float64)
DT = torch.float64


def make_model(d, k, w1, b1, w2, b2):
    model = torch.nn.Sequential(torch.nn.Linear(d, k), torch.nn.ReLU(), torch.nn.Linear(k, 1)).to(DT)
    with torch.no_grad():
        model[0].weight.copy_(w1.reshape(k, d))
        model[0].bias.copy_(b1)
        model[2].weight.copy_(w2.reshape(1, k))
        model[2].bias.fill_(b2)
    return model


def load_problem(path):
    """(problem dict with workload, n, k, sharpness, backend; model; X; y) of a W3 file or a W4 folder."""
    if os.path.isdir(path):
        p = json.load(open(os.path.join(path, "meta.json")))
        n, d, k = p["n"], p["d"], p["width"]

        def raw(name, shape):
            return torch.from_numpy(np.fromfile(os.path.join(path, name + ".f64"), dtype="<f8").reshape(shape))

        X, y = raw("X", (n, d)), raw("y", (n, 1))
        model = make_model(d, k, raw("W1", (k, d)), torch.zeros(k, dtype=DT), raw("w2", (k,)), 0.0)
        p.update(workload="W4", k=k, backend="cpu")
        return p, model, X, y
    p = json.load(open(path))
    if p.get("loss") != "half_mse":
        sys.exit(f"curvature_peers: {path}: expected loss half_mse, got {p.get('loss')}")
    n, k = p["n"], p["k"]
    X = torch.tensor(p["x"], dtype=DT).reshape(n, 1)
    y = torch.tensor(p["y"], dtype=DT).reshape(n, 1)
    model = make_model(1, k, torch.tensor(p["w1"], dtype=DT), torch.tensor(p["b1"], dtype=DT),
                       torch.tensor(p["w2"], dtype=DT), p["b2"])
    return p, model, X, y


def half_mse(out, target):
    """relustab's loss 1/(2n) sum r^2."""
    return 0.5 * ((out - target) ** 2).mean()


def flat_params(model):
    return torch.cat([q.detach().reshape(-1) for q in model.parameters()])


def exact_hessian(model, X, y, functorch=False):
    """Dense Hessian of the half-MSE loss in relustab's parameter order (301 x 301): by
    torch.autograd.functional.hessian (one backward pass per row), or torch.func.hessian
    (forward-over-reverse, vectorised), the faster way of current PyTorch."""
    shapes = [q.shape for q in model.parameters()]
    names = [name for name, _ in model.named_parameters()]

    def loss(theta):
        chunks, at = {}, 0
        for name, shape in zip(names, shapes):
            size = math.prod(shape)
            chunks[name] = theta[at:at + size].reshape(shape)
            at += size
        return half_mse(torch.func.functional_call(model, chunks, (X,)), y)

    if functorch:
        return torch.func.hessian(loss)(flat_params(model))
    return torch.autograd.functional.hessian(loss, flat_params(model))


def reference_hvp(model, X, y, workload):
    """The Hessian-vector product the residuals are computed with, independent of every peer's code:
    the dense Hessian (W3) or torch's double-backward HVP of L (W4), on a flat vector."""
    if workload == "W3":
        H = exact_hessian(model, X, y)
        return lambda v: H @ v
    params = list(model.parameters())
    grads = torch.autograd.grad(half_mse(model(X), y), params, create_graph=True)
    sizes = [q.numel() for q in params]

    def hvp(v):
        chunks = [c.reshape(q.shape) for c, q in zip(torch.split(v, sizes), params)]
        out = torch.autograd.grad(grads, params, grad_outputs=chunks, retain_graph=True)
        return torch.cat([o.reshape(-1) for o in out]).detach()

    return hvp


class Counter:
    hvps = 0


def peer_curvlinops(model, X, y, hvp):
    from curvlinops import HessianLinearOperator
    from scipy.sparse.linalg import LinearOperator, eigsh

    params = [q for q in model.parameters()]

    def run():
        # nn.MSELoss is 2L: the operator is halved so that eigsh sees relustab's Hessian.
        H = 0.5 * HessianLinearOperator(model, torch.nn.MSELoss(), params, [(X, y)], check_deterministic=False)
        S = H.to_scipy()

        def matvec(u):
            Counter.hvps += 1
            return S @ u

        op = LinearOperator(S.shape, matvec=matvec, dtype=S.dtype)
        vals, vecs = eigsh(op, k=1, which="LA", tol=1e-9)
        return float(vals[0]), torch.from_numpy(vecs[:, 0].copy())

    return run, "HessianLinearOperator(MSELoss) * 0.5, scipy eigsh(k=1, which='LA', tol=1e-9)"


def pyhessian_runner(model, X, y, **eig_options):
    importlib.import_module("pyhessian.hessian")
    ph = sys.modules["pyhessian.hessian"]  # the package's attribute `hessian` is the class, not the module

    if not getattr(ph, "_counted", False):
        inner = ph.hessian_vector_product

        def counted(gradsH, params, v):
            Counter.hvps += 1
            return inner(gradsH, params, v)

        ph.hessian_vector_product = counted
        ph._counted = True

    def run():
        model.zero_grad(set_to_none=True)  # its constructor accumulates .grad with create_graph
        h = ph.hessian(model, half_mse, data=(X, y), cuda=False)
        vals, vecs = h.eigenvalues(**eig_options)
        return float(vals[0]), torch.cat([t.detach().reshape(-1) for t in vecs[0]])

    return run


def peer_pyhessian_default(model, X, y, hvp):
    return pyhessian_runner(model, X, y), "hessian(...).eigenvalues(): power iteration, maxIter=100, tol=1e-3 (defaults)"


def peer_pyhessian_tight(model, X, y, hvp):
    return (pyhessian_runner(model, X, y, maxIter=20000, tol=1e-9),
            "eigenvalues(maxIter=20000, tol=1e-9): power iteration (tol is on the change of the eigenvalue)")


def eigenthings_runner(model, X, y, max_iter):
    import hessian_eigenthings as he

    def run():
        op = he.HessianOperator(model, [(X, y)], he.supervised_loss(half_mse))
        inner = op.matvec

        def matvec(v):
            Counter.hvps += 1
            return inner(v)

        op.matvec = matvec
        result = he.lanczos(op, k=1, which="LA", tol=1e-9, max_iter=max_iter, seed=0)
        return float(result.eigenvalues[0]), result.eigenvectors[0].detach().clone()

    return run


def peer_eigenthings_default(model, X, y, hvp):
    return (eigenthings_runner(model, X, y, None),
            "lanczos(k=1, which='LA', tol=1e-9), default max_iter = min(2k, n-1) = 2")


def peer_eigenthings_tuned(model, X, y, hvp):
    # Its Lanczos runs a fixed number of steps: the smallest max_iter of 4, 6, 8, ... whose result
    # meets the relative residual 1e-9 (under the reference HVP) is chosen first (not timed).
    import hessian_eigenthings as he

    chosen = None
    size = sum(q.numel() for q in model.parameters())
    for m in (4, 6, 8, 10, 12, 16, 20, 24, 32, 48, 64, 96, 128, 192, 300):
        if m >= size:
            break
        op = he.HessianOperator(model, [(X, y)], he.supervised_loss(half_mse))
        result = he.lanczos(op, k=1, which="LA", tol=1e-9, max_iter=m, seed=0)
        v = result.eigenvectors[0] / result.eigenvectors[0].norm()
        lam = float(result.eigenvalues[0])
        if (hvp(v) - lam * v).norm().item() <= 1e-9 * abs(lam):
            chosen = m
            break
    chosen = chosen or min(300, size - 1)
    return (eigenthings_runner(model, X, y, chosen),
            f"lanczos(k=1, which='LA', tol=1e-9, max_iter={chosen}): smallest max_iter of 4, 6, 8, 10, 12, 16, ... "
            f"meeting relative residual 1e-9")


def peer_torch_dense(model, X, y, hvp):
    def run():
        H = exact_hessian(model, X, y, functorch=True)
        vals, vecs = torch.linalg.eigh(H)
        return float(vals[-1]), vecs[:, -1].clone()

    return run, "torch.func.hessian + torch.linalg.eigh (dense, as relustab for <= 400 parameters)"


# ----------------------------------------------------------------------------------------------
# Trace and spectral density (issue 14)


class Exact:
    """The exact values the trace and density estimates are judged by (set in main)."""

    params = 0
    trace = math.nan
    frobenius2 = math.nan       # ||H||_F^2
    off_diagonal2 = math.nan    # sum_{i != j} H_ij^2: Hutchinson's variance per probe is twice it
    off_diagonal2_sq = math.nan  # the same of H^2 (W3 only): the density's second moment's variance


def closed_form_moments(model, X, y):
    """(trace H, ||H||_F^2, sum_i H_ii^2) of the half-MSE Hessian of Linear(d, k) -> ReLU -> Linear(k, 1),
    relu'' = 0 (see the module's docstring), without forming H: O(n^2 (d + k)) operations."""
    with torch.no_grad():
        W1, b1 = model[0].weight, model[0].bias
        w2, b2 = model[2].weight.reshape(-1), model[2].bias
        n = X.shape[0]
        z = X @ W1.T + b1
        s = (z > 0).to(DT)
        a = z * s
        r = a @ w2 + b2 - y.reshape(-1)
        Xa = torch.cat([X, torch.ones(n, 1, dtype=DT)], dim=1)  # inputs with the bias' 1
        A = s * w2                                              # d f / d b1_j at each sample
        gram = (A @ A.T) * (Xa @ Xa.T) + a @ a.T + 1.0          # J J^T
        trace = gram.diagonal().sum() / n
        g = (r[:, None] * s).T @ Xa / n                         # residual block of (W1_j, b1_j) with w2_j
        h = w2[:, None] * (a.T @ Xa) / n                        # Gauss-Newton block of the same entries
        frobenius2 = (gram * gram).sum() / n**2 + 4.0 * (h * g).sum() + 2.0 * (g * g).sum()
        # The diagonal is J^T J's (the residual blocks have none): (W1, b1) entries w2_j^2 sum_i s_ij
        # xa_ic^2 / n, w2 entries sum_i a_ij^2 / n, b2 1.
        diagonal2 = (((w2**2)[:, None] * (s.T @ Xa**2) / n) ** 2).sum() + (((a * a).sum(0) / n) ** 2).sum() + 1.0
    return float(trace), float(frobenius2), float(diagonal2)


def hessian_operator_curvlinops(model, X, y):
    """0.5 * curvlinops' HessianLinearOperator of nn.MSELoss (relustab's half-MSE Hessian), with its
    products counted (columns of each matrix product)."""
    from curvlinops import HessianLinearOperator

    H = HessianLinearOperator(model, torch.nn.MSELoss(), list(model.parameters()), [(X, y)],
                              check_deterministic=False)
    inner = H._matmat

    def counted(M):
        Counter.hvps += int(M[0].shape[-1])
        return inner(M)

    H._matmat = counted
    return 0.5 * H


def pyhessian_object(model, X, y):
    importlib.import_module("pyhessian.hessian")
    ph = sys.modules["pyhessian.hessian"]
    pyhessian_runner(model, X, y)  # installs the HVP counter once
    model.zero_grad(set_to_none=True)
    return ph, ph.hessian(model, half_mse, data=(X, y), cuda=False)


def peer_pyhessian_trace(model, X, y, config):
    probes = config["trace_probes"]

    def run(warm=False):
        _, h = pyhessian_object(model, X, y)
        values = h.trace(maxIter=2 if warm else probes, tol=-math.inf)
        return {"trace": float(np.mean(values)), "stderr": float(np.std(values, ddof=1) / math.sqrt(len(values))),
                "probes": len(values)}

    return run, f"hessian(...).trace(maxIter={probes}, tol=-inf): {probes} Rademacher probes"


def peer_curvlinops_trace(model, X, y, config):
    from curvlinops import hutchinson_trace

    probes = config["trace_probes"]

    def run(warm=False):
        H = hessian_operator_curvlinops(model, X, y)
        count = 2 if warm else probes
        return {"trace": float(hutchinson_trace(H, num_matvecs=count)), "stderr": math.nan, "probes": count}

    return run, f"hutchinson_trace(0.5 * HessianLinearOperator(MSELoss), num_matvecs={probes}) (Rademacher)"


def symmetric_eig(T, eigenvectors=True):
    """torch.eig's old interface (eigenvalues as (n, 2) real/imaginary columns) for a symmetric T."""
    values, vectors = torch.linalg.eigh(T)
    return torch.stack([values, torch.zeros_like(values)], dim=1), vectors


def peer_pyhessian_density(model, X, y, config):
    probes, steps = config["density_probes"], config["density_steps"]

    def run(warm=False):
        _, h = pyhessian_object(model, X, y)
        saved = torch.eig
        torch.eig = symmetric_eig  # PyHessian 0.1 calls torch.eig, removed from PyTorch 2
        try:
            nodes, weights = h.density(iter=2 if warm else steps, n_v=2 if warm else probes)
        finally:
            torch.eig = saved
        nodes = np.concatenate([np.asarray(v, dtype=float) for v in nodes])
        weights = np.concatenate([np.asarray(w, dtype=float) for w in weights]) / (2 if warm else probes)
        return measure_moments(nodes, weights)

    return run, (f"hessian(...).density(iter={steps}, n_v={probes}) (torch.eig lent as torch.linalg.eigh); "
                 f"moments of its nodes and weights / n_v")


def peer_curvlinops_density(model, X, y, config):
    from curvlinops import lanczos_approximate_spectrum

    probes, steps = config["density_probes"], config["density_steps"]
    kappa = 3.0  # its default width parameter

    def run(warm=False):
        H = hessian_operator_curvlinops(model, X, y)
        if warm:  # the code paths only: no eigsh for the boundaries
            grid, density = lanczos_approximate_spectrum(H, ncv=2, num_repeats=2, boundaries=(-1.0, 1.0))
            return {}
        grid, density = lanczos_approximate_spectrum(H, ncv=steps, num_repeats=probes, kappa=kappa)
        grid, density = grid.numpy(), density.numpy()
        # Its Gaussians have standard deviation 2 / (ncv - 1) / sqrt(8 log kappa) on the spectral range
        # with its 5% margins scaled to [-1, 1], which is the grid: its half-width is the scale.
        half_width = (grid[-1] - grid[0]) / 2
        sigma = half_width * 2 / (steps - 1) / math.sqrt(8 * math.log(kappa))
        mass = np.trapezoid(density, grid)
        mean = np.trapezoid(grid * density, grid)
        second = np.trapezoid(grid * grid * density, grid) - sigma**2 * mass
        return {"mass": float(mass), "mean": float(mean), "second_moment": float(second)}

    return run, (f"lanczos_approximate_spectrum(0.5 * HessianLinearOperator, ncv={steps}, num_repeats={probes}), "
                 f"boundaries by its eigsh (tol 1e-2); moments of its grid density (trapezoid, sigma^2 removed)")


def measure_moments(nodes, weights):
    return {"mass": float(weights.sum()), "mean": float(weights @ nodes),
            "second_moment": float(weights @ (nodes * nodes))}


def estimate_fields(kind, estimate, config):
    """The accuracy fields of a trace or density line."""
    P = Exact.params
    if kind == "trace":
        se = math.sqrt(2 * Exact.off_diagonal2 / estimate["probes"])
        error = estimate["trace"] - Exact.trace
        return (f"probes={estimate['probes']} trace={estimate['trace']:.12g} stderr={estimate['stderr']:.3g} "
                f"exact={Exact.trace:.12g} rel_err={abs(error) / abs(Exact.trace):.2e} expected_se={se:.3g} "
                f"z={error / se:.2f}")
    mean_se = math.sqrt(2 * Exact.off_diagonal2 / config["density_probes"]) / P
    mean_error = estimate["mean"] - Exact.trace / P
    second_error = estimate["second_moment"] - Exact.frobenius2 / P
    text = (f"mass={estimate['mass']:.12g} mean={estimate['mean']:.12g} "
            f"second_moment={estimate['second_moment']:.12g} exact_mean={Exact.trace / P:.12g} "
            f"exact_second={Exact.frobenius2 / P:.12g} mean_rel_err={abs(mean_error) / abs(Exact.trace / P):.2e} "
            f"mean_z={mean_error / mean_se:.2f} second_rel_err={abs(second_error) / (Exact.frobenius2 / P):.2e}")
    if math.isfinite(Exact.off_diagonal2_sq):
        text += f" second_z={second_error / (math.sqrt(2 * Exact.off_diagonal2_sq / config['density_probes']) / P):.2f}"
    return text


# W4 has 786,001 parameters: its dense Hessian (4.9 TB) is out of reach, so torch-dense-eigh is W3 only.
PEERS = {
    "curvlinops-eigsh": ("curvlinops", peer_curvlinops),
    "pyhessian-default": ("pyhessian", peer_pyhessian_default),
    "pyhessian-tol1e-9": ("pyhessian", peer_pyhessian_tight),
    "eigenthings-lanczos-default": ("hessian_eigenthings", peer_eigenthings_default),
    "eigenthings-lanczos-converged": ("hessian_eigenthings", peer_eigenthings_tuned),
    "torch-dense-eigh": ("torch", peer_torch_dense),
    "pyhessian-trace": ("pyhessian", peer_pyhessian_trace),
    "curvlinops-trace": ("curvlinops", peer_curvlinops_trace),
    "pyhessian-density": ("pyhessian", peer_pyhessian_density),
    "curvlinops-density": ("curvlinops", peer_curvlinops_density),
}
KIND = {"pyhessian-trace": "trace", "curvlinops-trace": "trace", "pyhessian-density": "density",
        "curvlinops-density": "density"}
W4_PEERS = [name for name in PEERS if name != "torch-dense-eigh"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", help="W3: the file of relustab_workloads --workload W3 --save FILE; "
                                        "W4: the folder of relustab_w4 --save DIR")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of evaluations per peer (1.0)")
    parser.add_argument("--peers", default=None,
                        help="comma-separated subset of " + ", ".join(PEERS) + " (default: all; W4: all but "
                             "torch-dense-eigh)")
    parser.add_argument("--trace-probes", type=int, default=None,
                        help="Rademacher probes of the trace peers (default 100 at W3, 20 at W4)")
    parser.add_argument("--density-probes", type=int, default=None,
                        help="probes of the density peers (default 10 at W3, 2 at W4)")
    parser.add_argument("--density-steps", type=int, default=None,
                        help="Lanczos steps per probe of the density peers (default 80 at W3, 30 at W4)")
    args = parser.parse_args()
    problem, model, X, y = load_problem(args.problem)
    workload = problem.get("workload", "W3")
    w3 = workload == "W3"
    config = {"trace_probes": args.trace_probes or (100 if w3 else 20),
              "density_probes": args.density_probes or (10 if w3 else 2),
              "density_steps": args.density_steps or (80 if w3 else 30)}
    reference = problem["sharpness"]
    hvp = reference_hvp(model, X, y, workload)
    theta = flat_params(model)
    if workload == "W3":
        v_rel = torch.tensor(problem["vector"], dtype=DT)
    else:
        v_rel = torch.from_numpy(np.fromfile(os.path.join(args.problem, "v.f64"), dtype="<f8"))
    # The reference HVP here and relustab's eigenpair must agree, or the comparison is void.
    check = (hvp(v_rel) - reference * v_rel).norm().item() / abs(reference)
    print(f"problem: {workload} n={problem['n']} k={problem['k']} params={theta.numel()} relustab "
          f"({problem['backend']}) lambda={reference:.12g}; relative residual of relustab's vector under torch's "
          f"{'dense Hessian' if workload == 'W3' else 'autograd HVP'}: {check:.2e}", flush=True)
    names = args.peers.split(",") if args.peers else (list(PEERS) if workload == "W3" else W4_PEERS)
    if any(KIND.get(name) for name in names):
        # The exact values the trace and density estimates are judged by.
        Exact.params = theta.numel()
        trace, frobenius2, diagonal2 = closed_form_moments(model, X, y)
        Exact.trace, Exact.frobenius2, Exact.off_diagonal2 = trace, frobenius2, frobenius2 - diagonal2
        how = "closed form"
        if w3:
            H = exact_hessian(model, X, y)
            dense = (float(H.trace()), float((H * H).sum()), float((H.diagonal() ** 2).sum()))
            agree = max(abs(c - e) / abs(e) for c, e in zip((trace, frobenius2, diagonal2), dense))
            Exact.trace, Exact.frobenius2, Exact.off_diagonal2 = dense[0], dense[1], dense[1] - dense[2]
            H2 = H @ H
            Exact.off_diagonal2_sq = float((H2 * H2).sum() - (H2.diagonal() ** 2).sum())
            how = f"dense Hessian by torch autograd; the closed forms agree to {agree:.1e}"
        # Hutchinson's standard errors for the probes given: of the trace, and of the density's mean and
        # second moment (each probe's quadrature gives v^T H v and v^T H^2 v, v = z / sqrt(P)).
        density_probes = config["density_probes"]
        second_se = (math.sqrt(2 * Exact.off_diagonal2_sq / density_probes) / Exact.params
                     if math.isfinite(Exact.off_diagonal2_sq) else math.nan)
        print(f"exact {workload}: params={Exact.params} trace={Exact.trace:.12g} frobenius2={Exact.frobenius2:.12g} "
              f"trace_se={math.sqrt(2 * Exact.off_diagonal2 / config['trace_probes']):.6g} "
              f"mean_se={math.sqrt(2 * Exact.off_diagonal2 / density_probes) / Exact.params:.6g} "
              f"second_se={second_se:.6g} trace_probes={config['trace_probes']} "
              f"density={density_probes}x{config['density_steps']} ({how})", flush=True)
    for name in [p for p in names if p]:
        if name not in PEERS:
            sys.exit(f"curvature_peers: unknown peer '{name}' (known: {', '.join(PEERS)})")
        module, make = PEERS[name]
        kind = KIND.get(name)
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any import failure means the peer is missing
            print(f"{name} {workload}: not available ({module}: {type(error).__name__}: {error})")
            continue
        try:
            if kind:
                run, settings = make(model, X, y, config)
                run(warm=True)  # warm-up: the code paths, with a couple of products only
            else:
                run, settings = make(model, X, y, hvp)
                run()  # warm-up
            Counter.hvps = 0
            count, start = 0, time.perf_counter()
            while True:
                result = run()
                count += 1
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_time:
                    break
            hvps = f"{Counter.hvps / count:.0f}" if Counter.hvps else "dense"
        except Exception as error:  # noqa: BLE001 - reported, the other peers still run
            print(f"{name} {workload}: failed ({type(error).__name__}: {error})", flush=True)
            continue
        rate = count / elapsed
        rate_text = f"{rate:,.0f}" if rate >= 100 else f"{rate:.2f}" if rate >= 1 else f"{rate:.4f}"
        if kind:
            print(f"{name} {workload} float64: {rate_text} evals/s (hvps={hvps} {estimate_fields(kind, result, config)} "
                  f"evals={count} settings=\"{settings}\")", flush=True)
            continue
        value, vector = result
        vector = vector / vector.norm()
        residual = (hvp(vector) - value * vector).norm().item()
        print(f"{name} {workload} float64: {rate_text} evals/s (hvps={hvps} lambda={value:.12g} "
              f"rel_err={abs(value - reference) / abs(reference):.2e} residual={residual:.2e} "
              f"rel_residual={residual / abs(value):.2e} evals={count} settings=\"{settings}\")", flush=True)
    return 0  # a peer that failed says so on its line; the others are still measured


if __name__ == "__main__":
    sys.exit(main())
