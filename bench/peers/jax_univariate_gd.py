# Peer baseline, copied unchanged (below this header) from jax_univariate_gd.py, the script that produced
# the published peer figures. bench/compare.sh runs it beside relustab; keep it identical to the source.
"""Peer baseline: the strongest idiomatic peer for sweeps - JAX with
jit(vmap(lax.scan)) training B univariate two-layer ReLU nets at once
(one per step size).  Workload W1: n=30, k=100, 0.5*MSE, full-batch GD.
Prints network-steps per second."""
import argparse, time, os
p = argparse.ArgumentParser()
p.add_argument("--B", type=int, default=64)
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--dtype", default="float32")
p.add_argument("--platform", default="")
a = p.parse_args()
if a.platform: os.environ["JAX_PLATFORMS"] = a.platform
import jax, jax.numpy as jnp
if a.dtype == "float64": jax.config.update("jax_enable_x64", True)
dt = jnp.float64 if a.dtype == "float64" else jnp.float32
n, k, B = 30, 100, a.B
key = jax.random.PRNGKey(0)
x = jnp.linspace(-1, 1, n, dtype=dt)
y = jnp.sin(3 * x) + 0.3 * jax.random.normal(key, (n,), dt)
k1, k2, k3 = jax.random.split(key, 3)
params = dict(w=jax.random.uniform(k1, (B, k), dt, -1, 1), b=jax.random.uniform(k2, (B, k), dt, -1, 1),
              v=jax.random.uniform(k3, (B, k), dt, -1, 1) / jnp.sqrt(k), c=jnp.zeros((B,), dt))
etas = jnp.logspace(-3, 0, B, dtype=dt)

def loss(p):
    h = jax.nn.relu(x[:, None] * p["w"][None, :] + p["b"][None, :])
    f = h @ p["v"] + p["c"]
    return 0.5 * jnp.mean((f - y) ** 2)

def train(p, eta):
    def body(p, _):
        g = jax.grad(loss)(p)
        return jax.tree_util.tree_map(lambda q, gq: q - eta * gq, p, g), None
    p, _ = jax.lax.scan(body, p, None, length=a.steps)
    return p

run = jax.jit(jax.vmap(train))
out = run(params, etas); jax.block_until_ready(out)  # compile + warm
t = time.perf_counter(); out = run(params, etas); jax.block_until_ready(out); el = time.perf_counter() - t
print(f"jax-vmap-scan B={B} {a.dtype} {jax.devices()[0].platform}: {a.steps*B/el:,.0f} net-steps/s")
