# SPDX-License-Identifier: MIT
"""The PyTorch peer of W4 on relustab's own inputs: the net, data and loss that `relustab_w4 --save DIR`
wrote (e.g. with --fashion-mnist --n 12000, paper 3's full size), so both sides compute the same
numbers. Times, as a PyTorch user would write them (autograd, float64):
  - one GD step: loss, gradient and the update;
  - one Hessian-vector product by double backward (the gradient graph built once beforehand);
  - the sharpness by scipy's eigsh (ARPACK Lanczos, k=1, which='LA') on that product at --tol,
    and by power iteration (PyHessian's method: 100 iterations at most, stop when the Rayleigh
    quotient changes by less than 1e-3 relative, PyHessian's default);
and for each sharpness its value, the HVPs it took and its residual ||H v - lambda v|| (one more HVP),
against relustab's value from DIR/meta.json. Prints one JSON object.

Usage: python bench/peers/torch_w4_saved.py DIR [--tol 1e-9] [--threads 1]
Needs torch, numpy and scipy (scripts/bench_setup.sh's environment).
"""
import argparse
import json
import time

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh

from saved_w4 import SavedW4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    saved = SavedW4(args.folder)
    meta, n, d, k = saved.meta, saved.n, saved.d, saved.k
    theta0, loss = saved.theta, saved.loss
    P = theta0.numel()

    start = time.perf_counter()
    theta = theta0.clone().requires_grad_()
    value = loss(theta)
    (grad,) = torch.autograd.grad(value, theta)
    with torch.no_grad():
        stepped = theta - 0.1 * grad
    gd_step_s = time.perf_counter() - start

    theta = theta0.clone().requires_grad_()
    g = torch.autograd.grad(loss(theta), theta, create_graph=True)[0]
    count = [0]

    def hvp(v):
        count[0] += 1
        return torch.autograd.grad(g, theta, grad_outputs=v, retain_graph=True)[0]

    probe = torch.randn(P, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    start = time.perf_counter()
    hvp(probe)
    hvp_s = time.perf_counter() - start

    def residual(lam, v):
        v = v / v.norm()
        return (hvp(v) - lam * v).norm().item()

    results = {}
    count[0] = 0
    operator = LinearOperator((P, P), matvec=lambda v: hvp(torch.from_numpy(np.ascontiguousarray(v))).numpy(),
                              dtype=np.float64)
    start = time.perf_counter()
    values, vectors = eigsh(operator, k=1, which="LA", tol=args.tol)
    seconds = time.perf_counter() - start
    hvps = count[0]
    lam = float(values[0])
    results["eigsh"] = {"seconds": seconds, "hvps": hvps, "value": lam,
                        "residual": residual(lam, torch.from_numpy(vectors[:, 0].copy())),
                        "tol": args.tol}

    count[0] = 0
    v = torch.randn(P, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    v /= v.norm()
    lam = 0.0
    start = time.perf_counter()
    for _ in range(100):
        hv = hvp(v)
        new = (v @ hv).item()
        v = hv / hv.norm()
        if lam != 0.0 and abs(new - lam) / abs(lam) < 1e-3:
            lam = new
            break
        lam = new
    seconds = time.perf_counter() - start
    results["power"] = {"seconds": seconds, "hvps": count[0], "value": lam, "residual": residual(lam, v),
                        "tol": 1e-3}
    for method in results.values():
        method["relative_error_vs_relustab"] = abs(method["value"] - meta["sharpness"]) / meta["sharpness"]
    print(json.dumps({"peer": "torch", "torch": torch.__version__, "threads": args.threads,
                      "n": n, "d": d, "width": k, "params": P, "gd_step_s": gd_step_s, "hvp_s": hvp_s,
                      "relustab_sharpness": meta["sharpness"], "sharpness": results,
                      "blas": torch.__config__.show().split("\n")[3].strip(), "stepped_finite":
                      bool(torch.isfinite(stepped).all())}))


if __name__ == "__main__":
    main()
