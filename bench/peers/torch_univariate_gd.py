# Peer baseline, copied unchanged (below this header) from torch_univariate_gd.py, the script that produced
# the published peer figures. bench/compare.sh runs it beside relustab; keep it identical to the source.
"""Peer baseline: full-batch GD on a univariate two-layer ReLU net, the way a
researcher writes it in PyTorch.  Workload W1: n=30 noisy samples of a smooth
function on [-1,1], k=100 neurons, 0.5*MSE loss, constant step size.
Modes:
  eager   - one network, nn.Sequential + autograd (typical paper code)
  batched - B networks (one per step size) vectorised by hand with autograd
Prints network-steps per second."""
import argparse, time, math
import torch

p = argparse.ArgumentParser()
p.add_argument("--mode", default="eager", choices=["eager", "batched"])
p.add_argument("--n", type=int, default=30)
p.add_argument("--k", type=int, default=100)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--B", type=int, default=64)
p.add_argument("--dtype", default="float64")
p.add_argument("--device", default="cpu")
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)
dt = getattr(torch, a.dtype); dev = torch.device(a.device)
g = torch.Generator().manual_seed(0)
x = torch.linspace(-1, 1, a.n, dtype=dt).unsqueeze(1)
y = torch.sin(3 * x) + 0.3 * torch.randn(a.n, 1, generator=g, dtype=dt)
x, y = x.to(dev), y.to(dev)

def sync():
    if dev.type == "cuda": torch.cuda.synchronize()

if a.mode == "eager":
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(1, a.k), torch.nn.ReLU(), torch.nn.Linear(a.k, 1)).to(dev, dt)
    eta = 0.05
    def step():
        net.zero_grad(set_to_none=True)
        loss = 0.5 * ((net(x) - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            for q in net.parameters(): q -= eta * q.grad
        return loss
    for _ in range(50): step()
    sync(); t = time.perf_counter()
    for _ in range(a.steps): loss = step()
    sync(); el = time.perf_counter() - t
    print(f"torch-eager {a.dtype} {a.device}: {a.steps/el:,.0f} net-steps/s (loss {loss.item():.4g})")
else:
    B = a.B
    torch.manual_seed(0)
    W1 = (torch.rand(B, a.k, dtype=dt) * 2 - 1).to(dev).requires_grad_()
    b1 = (torch.rand(B, a.k, dtype=dt) * 2 - 1).to(dev).requires_grad_()
    W2 = ((torch.rand(B, a.k, dtype=dt) * 2 - 1) / math.sqrt(a.k)).to(dev).requires_grad_()
    b2 = torch.zeros(B, 1, dtype=dt, device=dev).requires_grad_()
    etas = torch.logspace(-3, 0, B, dtype=dt, device=dev).unsqueeze(1)
    xs = x.squeeze(1)  # (n,)
    def step():
        h = torch.relu(W1.unsqueeze(1) * xs.view(1, -1, 1) + b1.unsqueeze(1))  # B,n,k
        f = (h * W2.unsqueeze(1)).sum(-1) + b2                                 # B,n
        loss = 0.5 * ((f - y.view(1, -1)) ** 2).mean(1).sum()
        gs = torch.autograd.grad(loss, (W1, b1, W2, b2))
        with torch.no_grad():
            for q, gq in zip((W1, b1, W2, b2), gs): q -= etas * gq
        return loss
    for _ in range(20): step()
    sync(); t = time.perf_counter()
    for _ in range(a.steps): loss = step()
    sync(); el = time.perf_counter() - t
    print(f"torch-batched B={B} {a.dtype} {a.device}: {a.steps*B/el:,.0f} net-steps/s")
