# Peer baseline, copied unchanged (below this header) from torch_sharpness.py, the script that produced
# the published peer figures. bench/compare.sh runs it beside relustab; keep it identical to the source.
"""Peer baseline: top Hessian eigenvalue (sharpness) of the W1 network
(univariate two-layer ReLU, n=30, k=100, 301 parameters), the two ways
researchers do it in PyTorch: (a) full Hessian with autograd + eigvalsh,
(b) power iteration on Hessian-vector products (PyHessian style, 100 iters).
Prints evaluations per second and the value (for cross-checking)."""
import time, math, torch
torch.set_num_threads(1)
dt = torch.float64
n, k = 30, 100
g = torch.Generator().manual_seed(0)
x = torch.linspace(-1, 1, n, dtype=dt)
y = torch.sin(3 * x) + 0.3 * torch.randn(n, generator=g, dtype=dt)
theta = torch.cat([torch.rand(k, generator=g, dtype=dt) * 2 - 1, torch.rand(k, generator=g, dtype=dt) * 2 - 1,
                   (torch.rand(k, generator=g, dtype=dt) * 2 - 1) / math.sqrt(k), torch.zeros(1, dtype=dt)])
def loss(t):
    w, b, v, c = t[:k], t[k:2*k], t[2*k:3*k], t[3*k]
    f = torch.relu(x[:, None] * w + b) @ v + c
    return 0.5 * ((f - y) ** 2).mean()
# (a) full Hessian
t0 = time.perf_counter(); R = 20
for _ in range(R):
    H = torch.autograd.functional.hessian(loss, theta); lam = torch.linalg.eigvalsh(H)[-1]
el = (time.perf_counter() - t0) / R
print(f"torch full-hessian+eigvalsh: {1/el:.2f} evals/s  lambda_max={lam.item():.10g}")
# (b) power iteration with HVPs
def hvp(v):
    t = theta.detach().requires_grad_()
    gr = torch.autograd.grad(loss(t), t, create_graph=True)[0]
    return torch.autograd.grad(gr @ v, t)[0]
t0 = time.perf_counter(); R = 5
for _ in range(R):
    v = torch.randn(theta.numel(), generator=g, dtype=dt); v /= v.norm()
    for _ in range(100):
        w_ = hvp(v); lam_p = (w_ @ v).item(); v = w_ / w_.norm()
el = (time.perf_counter() - t0) / R
print(f"torch power-iteration(100 HVPs): {1/el:.2f} evals/s  lambda_max~{lam_p:.10g}")
