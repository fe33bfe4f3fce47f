# Peer baseline, copied unchanged (below this header) from torch_w4_sharpness.py, the script that produced
# the published peer figures. bench/w4_sharpness.sh runs it beside relustab_w4; keep it identical to the source.
"""Peer baseline for W4: sharpness of a two-layer ReLU net with d=784, width 1000
(~786k parameters) on n=1000 inputs in [0,1]^784 with labels +-1, quadratic loss.
(a) power iteration on autograd HVPs (PyHessian style), (b) scipy eigsh (ARPACK
Lanczos, which='LA') on the same HVP. float64, all threads. Prints seconds per
evaluation, HVP count and the value."""
import time, torch, numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh
torch.manual_seed(0)
dt = torch.float64
n, d, K = 1000, 784, 1000
X = torch.rand(n, d, dtype=dt)
y = torch.where(torch.rand(n) < 0.5, -1.0, 1.0).to(dt)
W1 = torch.randn(K, d, dtype=dt) / d ** 0.5; b1 = torch.zeros(K, dtype=dt)
w2 = torch.randn(K, dtype=dt) / K ** 0.5; b2 = torch.zeros(1, dtype=dt)
theta = torch.cat([W1.flatten(), b1, w2, b2]).requires_grad_()
P = theta.numel()
def loss(t):
    W = t[:K * d].view(K, d); b = t[K * d:K * d + K]; v = t[K * d + K:K * d + 2 * K]; c = t[-1]
    f = torch.relu(X @ W.T + b) @ v + c
    return 0.5 * ((f - y) ** 2).mean()
g = torch.autograd.grad(loss(theta), theta, create_graph=True)[0]
count = [0]
def hvp(v):
    count[0] += 1
    return torch.autograd.grad(g, theta, grad_outputs=v, retain_graph=True)[0]
v = torch.randn(P, dtype=dt); v /= v.norm()
t0 = time.perf_counter(); lam = 0.0
for it in range(100):
    w = hvp(v); new = (w @ v).item(); v = w / w.norm()
    if abs(new - lam) < 1e-3 * abs(new): lam = new; break
    lam = new
el = time.perf_counter() - t0
print(f"torch power iteration: {el:.2f} s, {count[0]} HVPs, lambda~{lam:.8g} (threads={torch.get_num_threads()}, P={P})")
count[0] = 0
op = LinearOperator((P, P), matvec=lambda u: hvp(torch.from_numpy(np.ascontiguousarray(u, dtype=np.float64))).numpy(), dtype=np.float64)
t0 = time.perf_counter(); val = eigsh(op, k=1, which='LA', tol=1e-9, return_eigenvectors=False)
el = time.perf_counter() - t0
print(f"scipy eigsh(LA, tol=1e-9) on torch HVP: {el:.2f} s, {count[0]} HVPs, lambda={val[0]:.10g}")
