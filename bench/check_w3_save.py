# SPDX-License-Identifier: MIT
"""Checks the file of `relustab_workloads --workload W3 --save FILE` (the problem the curvature peers of
bench/peers/curvature_peers.py work on) against an independent oracle: the closed-form Hessian of the
half-MSE loss L = 1/(2n) sum r_j^2 of the univariate ReLU net f(x) = sum_i w2_i relu(w1_i x + b1_i) + b2,

    H = 1/n sum_j (J_j J_j^T + r_j d2f_j),

with J_j the gradient of f(x_j) and d2f_j its only nonzero second derivatives, d2f/dw1_i dw2_i = s_i x_j
and d2f/db1_i dw2_i = s_i (s_i = 1 where unit i is active), built with numpy in relustab's parameter order
(w1, b1, w2, b2). Exits 0 when the saved sharpness is numpy's largest eigenvalue of H (relative 1e-10)
and the saved eigenvector's relative residual under H is <= 1e-9 (relustab's W3 check); 1 otherwise;
77 (skipped) without numpy.

Usage: check_w3_save.py FILE
"""
import json
import sys

try:
    import numpy as np
except ImportError:
    print("check_w3_save: numpy is not installed: skipped")
    sys.exit(77)


def hessian(x, y, w1, b1, w2, b2):
    n, k = x.size, w1.size
    z = np.outer(x, w1) + b1                       # n x k pre-activations
    s = (z > 0).astype(float)                      # activity pattern
    a = z * s
    r = a @ w2 + b2 - y                            # residuals
    J = np.hstack([w2 * s * x[:, None], w2 * s, a, np.ones((n, 1))])  # n x (3k + 1)
    H = J.T @ J / n
    # r_j times the second derivatives of f(x_j): the w1-w2 and b1-w2 blocks are diagonal.
    cross_w1 = (r[:, None] * s * x[:, None]).sum(axis=0) / n
    cross_b1 = (r[:, None] * s).sum(axis=0) / n
    idx = np.arange(k)
    H[idx, 2 * k + idx] += cross_w1
    H[2 * k + idx, idx] += cross_w1
    H[k + idx, 2 * k + idx] += cross_b1
    H[2 * k + idx, k + idx] += cross_b1
    return H


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_w3_save.py FILE (written by relustab_workloads --workload W3 --save FILE)")
    p = json.load(open(sys.argv[1]))
    n, k = p["n"], p["k"]
    arrays = {name: np.asarray(p[name], dtype=float) for name in ("x", "y", "w1", "b1", "w2", "vector")}
    sizes = {"x": n, "y": n, "w1": k, "b1": k, "w2": k, "vector": 3 * k + 1}
    bad = [f"{name} has {arrays[name].size} values, expected {size}" for name, size in sizes.items()
           if arrays[name].size != size]
    if p.get("loss") != "half_mse" or p.get("params") != 3 * k + 1 or bad:
        print(f"check_w3_save: malformed file: loss {p.get('loss')}, params {p.get('params')}; {'; '.join(bad)}")
        return 1
    H = hessian(arrays["x"], arrays["y"], arrays["w1"], arrays["b1"], arrays["w2"], float(p["b2"]))
    top = np.linalg.eigvalsh(H)[-1]
    v = arrays["vector"] / np.linalg.norm(arrays["vector"])
    value = p["sharpness"]
    relative_residual = np.linalg.norm(H @ v - value * v) / abs(value)
    value_error = abs(value - top) / abs(top)
    print(f"check_w3_save: relustab {value:.15g}, closed-form Hessian {top:.15g} (relative difference "
          f"{value_error:.2e}); relative residual of relustab's vector {relative_residual:.2e}")
    ok = value_error <= 1e-10 and relative_residual <= 1e-9
    print("check_w3_save:", "agrees" if ok else "DISAGREES")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
