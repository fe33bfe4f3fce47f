# SPDX-License-Identifier: MIT
"""`train`: one run of the run API (what ``relustab train`` and a sweep's run do), from Python."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from . import _arrays
from ._core_loader import core
from .net import Net

# Short names that are not the part of a key after its dot, or that two keys share.
_ALIASES = {"lr": "optim.eta", "steps": "optim.max_steps", "seed": "run.seed",
            "data_seed": "data.seed", "backend": "run.backend"}


def parameters() -> List[Dict[str, Any]]:
    """The run parameters: key, default and help (``relustab params``). `train` takes each by its
    dotted key in ``params`` or by the part after the dot as a keyword (``eta=0.1``, ``width=20``),
    plus the aliases lr (optim.eta), steps (optim.max_steps), seed (run.seed) and data_seed
    (data.seed)."""
    return [{"key": k, "default": v, "help": h} for k, v, h in core.parameters()]


def _keyword_table() -> Dict[str, str]:
    table: Dict[str, str] = {}
    shared = set()
    for key, _, _ in core.parameters():
        short = key.split(".", 1)[1]
        if short in table:
            shared.add(short)
        table[short] = key
    for short in shared:
        del table[short]
    table.update(_ALIASES)
    return table


@dataclass
class TrainResult:
    """A finished run: the final ``net``, the ``outcome`` (converged, max_steps or diverged),
    ``metrics`` (the names of a sweep's database: steps, loss, sharpness, weighted_tv, stability,
    ...; undefined values None), the ``log`` rows (dicts: step, eta, loss, grad_norm, mse_clean,
    sharpness, ...) and the run's ``key`` and canonical ``config`` JSON."""

    net: Net
    outcome: str
    metrics: Dict[str, Any]
    log: List[Dict[str, float]] = field(repr=False)
    key: str = ""
    config: str = field(default="", repr=False)
    backend: str = ""
    wall_seconds: float = 0.0

    def log_frame(self):
        """The log as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.log)


def _progress_bar(total: int, enabled: Optional[bool]):
    if enabled is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="step", leave=False)


def train(X: Any = None, y: Any = None, *, y_clean: Any = None, initial_net: Optional[Net] = None,
          params: Optional[Dict[str, Any]] = None, progress: Optional[bool] = None,
          callback: Optional[Callable[[Dict[str, float]], Any]] = None,
          callback_every: Optional[int] = None, threads: int = 1, **keywords: Any) -> TrainResult:
    """Trains one net with the run API (``relustab train``; a sweep's run): GD, SGD or Adam on
    (X, y), or on generated data (``data.*`` parameters) when X is None.

    Parameters are those of a run file (`relustab.parameters()`), by keyword (``width=20, eta=0.1,
    steps=5000, loss="mse", init="kaiming", activation="gelu", batch=8, log_every=100,
    log_sharpness=True, seed=1``) or dotted key in ``params`` (``{"optim.eta": 0.1}``). ``loss``:
    ``"half_mse"`` (1/(2n) sum r^2, default) or ``"mse"`` (torch.nn.MSELoss: the steps, losses and
    sharpnesses of mse; GD on mse at eta is GD on half_mse at 2 eta). The final analysis (sharpness,
    weighted TV, verdict at the final step size) is in ``result.metrics``.

    ``initial_net`` starts from a given net (one hidden layer) instead of an initialisation.
    ``progress``: a tqdm bar (default: when tqdm is installed). ``callback(row)`` is called with the
    log row every ``callback_every`` steps (default log_every); raising in it stops the run with that
    exception, and Ctrl-C stops it with KeyboardInterrupt. Without log_every, a progress bar or
    callback logs every max(1, max_steps // 100) steps (callback_every if given). The result does
    not depend on ``threads``.
    """
    table = _keyword_table()
    config: Dict[str, Any] = {}
    for name, value in keywords.items():
        if name not in table:
            raise ValueError(f"train: unknown parameter {name!r}; see relustab.parameters()")
        config[table[name]] = value
    for key, value in (params or {}).items():
        config[key] = value
    for key, value in list(config.items()):
        if isinstance(value, np.generic):
            config[key] = value.item()
    if isinstance(config.get("optim.max_steps"), int):
        steps = config["optim.max_steps"]
    else:
        steps = next(v for k, v, _ in core.parameters() if k == "optim.max_steps")
    bar = _progress_bar(steps, progress)
    wants_rows = bar is not None or callback is not None
    if wants_rows and not config.get("measure.log_every"):
        config["measure.log_every"] = int(callback_every or max(1, steps // 100))
    every = int(callback_every or config.get("measure.log_every") or 1)

    Xm = yv = clean = None
    if X is not None or y is not None:
        if X is None or y is None:
            raise ValueError("train: give both X and y, or neither (generated data)")
        dim = initial_net.input_dim if initial_net is not None else None
        Xm = _arrays.matrix("X", X, cols=dim)
        yv = _arrays.vector("y", y, length=Xm.shape[0])
        if y_clean is not None:
            clean = _arrays.vector("y_clean", y_clean, length=Xm.shape[0])
    if initial_net is not None and not isinstance(initial_net, Net):
        raise ValueError("initial_net: expected a relustab.Net")

    def on_row(row: Dict[str, float]) -> None:
        if bar is not None:
            bar.update(max(0, int(row["step"]) - bar.n))
        if callback is not None and int(row["step"]) % every == 0:
            callback(row)

    try:
        metrics, log, net, extra = core.train(
            config, Xm, yv, clean, None if initial_net is None else initial_net._spec(),
            int(threads), on_row if wants_rows else None)
    finally:
        if bar is not None:
            bar.close()
    values = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics}
    return TrainResult(Net._from_spec(net), extra["outcome"], values, log, extra["key"],
                       extra["config"], extra["backend"], extra["wall_seconds"])
