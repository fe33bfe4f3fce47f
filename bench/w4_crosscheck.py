# SPDX-License-Identifier: MIT
"""Checks relustab's W4 sharpness with an independent Hessian-vector product: PyTorch autograd on the
loss of bench/peers/torch_w4_sharpness.py, 0.5 * mean((f - y)^2), at the net and eigenvector written by
`relustab_w4 --save DIR`. Prints the Rayleigh quotient v^T H v and the residual ||H v - lambda v|| under
torch's HVP; exits 1 unless they agree with relustab's value and tolerance.

Usage: python3 bench/w4_crosscheck.py DIR
"""
import json
import sys

import numpy as np
import torch


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: w4_crosscheck.py DIR (written by relustab_w4 --save DIR)")
    folder = sys.argv[1]
    meta = json.load(open(f"{folder}/meta.json"))
    n, d, k = meta["n"], meta["d"], meta["width"]

    def load(name, shape):
        return torch.from_numpy(np.fromfile(f"{folder}/{name}.f64", dtype="<f8").reshape(shape))

    X, y = load("X", (n, d)), load("y", (n,))
    W1, w2 = load("W1", (k, d)), load("w2", (k,))
    v = load("v", (k * d + 2 * k + 1,))
    # relustab's parameter layout (W1 row-major, b1, w2, b2) is the peer's; b1 = 0 and b2 = 0.
    theta = torch.cat([W1.flatten(), torch.zeros(k, dtype=torch.float64), w2,
                       torch.zeros(1, dtype=torch.float64)]).requires_grad_()

    def loss(t):
        W = t[:k * d].view(k, d); b = t[k * d:k * d + k]; c2 = t[k * d + k:k * d + 2 * k]; c = t[-1]
        f = torch.relu(X @ W.T + b) @ c2 + c
        return 0.5 * ((f - y) ** 2).mean()

    g = torch.autograd.grad(loss(theta), theta, create_graph=True)[0]
    hv = torch.autograd.grad(g, theta, grad_outputs=v)[0]
    rayleigh = (v @ hv).item()
    value = meta["sharpness"]
    residual = (hv - value * v).norm().item()
    limit = meta["tol"] * max(1.0, abs(value))
    print(f"torch HVP check: v^T H v = {rayleigh:.12g} (relustab {value:.12g}, relative difference "
          f"{abs(rayleigh - value) / max(1.0, abs(value)):.2e}); ||H v - lambda v|| = {residual:.3g} "
          f"(relustab {meta['residual']:.3g}, limit {limit:.3g})")
    # The two HVPs differ only by rounding (~1e-13 relative), far below the tolerance.
    ok = residual <= limit and abs(rayleigh - value) <= limit
    print("torch HVP check:", "agrees" if ok else "DISAGREES")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
