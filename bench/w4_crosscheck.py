# SPDX-License-Identifier: MIT
"""Checks relustab's W4 sharpness with an independent Hessian-vector product: PyTorch autograd on the
loss of bench/peers/torch_w4_sharpness.py, 0.5 * mean((f - y)^2), at the net and eigenvector written by
`relustab_w4 --save DIR`. Prints the Rayleigh quotient v^T H v and the residual ||H v - lambda v|| under
torch's HVP; exits 1 unless they agree with relustab's value and tolerance.

Usage: python3 bench/w4_crosscheck.py DIR
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from saved_w4 import SavedW4  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: w4_crosscheck.py DIR (written by relustab_w4 --save DIR)")
    folder = sys.argv[1]
    saved = SavedW4(folder)
    meta = saved.meta
    v = saved.eigenvector()
    theta = saved.theta.clone().requires_grad_()
    loss = saved.loss

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
