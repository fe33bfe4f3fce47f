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

Each peer is run once untimed (warm-up), then timed over --min-time seconds (at least one evaluation).
One line per peer, in the style of relustab_workloads:
  NAME W3 float64: RATE evals/s (hvps=.. lambda=.. rel_err=.. residual=.. rel_residual=.. settings="..")
Usage: curvature_peers.py PROBLEM [--min-time SECONDS] [--peers a,b,...]   (PROBLEM: W3 file or W4 folder)
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


# W4 has 786,001 parameters: its dense Hessian (4.9 TB) is out of reach, so torch-dense-eigh is W3 only.
PEERS = {
    "curvlinops-eigsh": ("curvlinops", peer_curvlinops),
    "pyhessian-default": ("pyhessian", peer_pyhessian_default),
    "pyhessian-tol1e-9": ("pyhessian", peer_pyhessian_tight),
    "eigenthings-lanczos-default": ("hessian_eigenthings", peer_eigenthings_default),
    "eigenthings-lanczos-converged": ("hessian_eigenthings", peer_eigenthings_tuned),
    "torch-dense-eigh": ("torch", peer_torch_dense),
}
W4_PEERS = [name for name in PEERS if name != "torch-dense-eigh"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problem", help="W3: the file of relustab_workloads --workload W3 --save FILE; "
                                        "W4: the folder of relustab_w4 --save DIR")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of evaluations per peer (1.0)")
    parser.add_argument("--peers", default=None,
                        help="comma-separated subset of " + ", ".join(PEERS) + " (default: all; W4: all but "
                             "torch-dense-eigh)")
    args = parser.parse_args()
    problem, model, X, y = load_problem(args.problem)
    workload = problem.get("workload", "W3")
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
    for name in [p for p in names if p]:
        if name not in PEERS:
            sys.exit(f"curvature_peers: unknown peer '{name}' (known: {', '.join(PEERS)})")
        module, make = PEERS[name]
        try:
            importlib.import_module(module)
        except Exception as error:  # noqa: BLE001 - any import failure means the peer is missing
            print(f"{name} {workload}: not available ({module}: {type(error).__name__}: {error})")
            continue
        try:
            run, settings = make(model, X, y, hvp)
            run()  # warm-up
            Counter.hvps = 0
            count, start = 0, time.perf_counter()
            while True:
                value, vector = run()
                count += 1
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_time:
                    break
            hvps = f"{Counter.hvps / count:.0f}" if Counter.hvps else "dense"
        except Exception as error:  # noqa: BLE001 - reported, the other peers still run
            print(f"{name} {workload}: failed ({type(error).__name__}: {error})", flush=True)
            continue
        vector = vector / vector.norm()
        residual = (hvp(vector) - value * vector).norm().item()
        rate = count / elapsed
        rate_text = f"{rate:,.0f}" if rate >= 100 else f"{rate:.2f}" if rate >= 1 else f"{rate:.4f}"
        print(f"{name} {workload} float64: {rate_text} evals/s (hvps={hvps} lambda={value:.12g} "
              f"rel_err={abs(value - reference) / abs(reference):.2e} residual={residual:.2e} "
              f"rel_residual={residual / abs(value):.2e} evals={count} settings=\"{settings}\")", flush=True)
    return 0  # a peer that failed says so on its line; the others are still measured


if __name__ == "__main__":
    sys.exit(main())
