# SPDX-License-Identifier: MIT
"""The inputs `relustab_w4 --save DIR` writes, as PyTorch tensors: the data, the net's parameter vector
in relustab's layout (W1 row-major, b1, w2, b2; b1 = 0 and b2 = 0) and relustab's loss, half-MSE
0.5 * mean((f - y)^2), so that autograd's eigenvalues are relustab's. Used by bench/w4_crosscheck.py
and bench/peers/torch_w4_saved.py."""
import json

import numpy as np
import torch


class SavedW4:
    def __init__(self, folder):
        self.meta = json.load(open(f"{folder}/meta.json"))
        n, d, k = self.meta["n"], self.meta["d"], self.meta["width"]
        self.n, self.d, self.k = n, d, k

        def load(name, shape):
            return torch.from_numpy(np.fromfile(f"{folder}/{name}.f64", dtype="<f8").reshape(shape))

        self.X, self.y = load("X", (n, d)), load("y", (n,))
        W1, w2 = load("W1", (k, d)), load("w2", (k,))
        self.theta = torch.cat([W1.flatten(), torch.zeros(k, dtype=torch.float64), w2,
                                torch.zeros(1, dtype=torch.float64)])
        self.eigenvector = lambda: load("v", (self.theta.numel(),))

    def loss(self, t):
        k, d = self.k, self.d
        W = t[:k * d].view(k, d); b = t[k * d:k * d + k]; c2 = t[k * d + k:k * d + 2 * k]; c = t[-1]
        f = torch.relu(self.X @ W.T + b) @ c2 + c
        return 0.5 * ((f - self.y) ** 2).mean()
