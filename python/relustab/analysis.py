# SPDX-License-Identifier: MIT
"""Analyses of a net on its data: the report of `relustab analyze`, the loss and its derivatives,
curves, weight functions, the flattest implementation and kinks."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from . import _arrays
from ._core_loader import core
from .net import Net

_LOSS_DOC = """The loss convention (``loss``): ``"half_mse"`` is L = 1/(2n) sum r^2, the papers' and relustab's;
    ``"mse"`` is 1/n sum r^2, PyTorch's ``nn.MSELoss``, whose gradient and Hessian are twice as large.
    GD on mse at step eta is GD on half_mse at step 2 eta: with ``loss="mse"`` the loss, gradient,
    sharpness and Hessian products are those of mse and a step size ``eta`` is the one you trained
    with; the verdict (sharpness vs 2/eta) is the same in both conventions, and the theorems' bounds
    (1/eta - 1/2, ...) use the equivalent half-MSE step 2 eta."""


def _check_net(net: Any) -> Net:
    if not isinstance(net, Net):
        raise ValueError(f"net: expected a relustab.Net (see relustab.from_torch), got {type(net).__name__}")
    return net


class Report:
    """What ``relustab analyze --json`` prints, as an ordered mapping of metric names to values.

    ``to_dict()`` is exactly the CLI's JSON object (undefined values are None); items are also
    attributes (``report.sharpness``, ``report.stability``) and keys (``report["weighted_tv"]``).
    ``sharpness_vector`` is the top eigenvector of the Hessian; ``flattest`` / ``flattest_all`` hold
    the flattest implementation (with its rescaled ``net``) when it was asked for, and
    ``spectral_density`` the stochastic Lanczos quadrature of the Hessian (``density_probes``)."""

    def __init__(self, metrics: List[Tuple[str, Any]], extra: Dict[str, Any]) -> None:
        self._metrics = {name: value for name, value in metrics}
        self.backend: str = extra["backend"]
        self.sharpness_vector: np.ndarray = extra["sharpness_vector"]
        self.flattest: Optional[Dict[str, Any]] = extra.get("flattest")
        if self.flattest is not None:
            self.flattest["net"] = Net._from_spec(self.flattest["net"])
        self.flattest_all: Optional[Dict[str, Any]] = extra.get("flattest_all")
        self.spectral_density: Optional[Dict[str, Any]] = extra.get("spectral_density")

    def to_dict(self) -> Dict[str, Any]:
        """The metrics with JSON's conventions: NaN (undefined here) becomes None."""
        return {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in self._metrics.items()}

    def keys(self):
        return self._metrics.keys()

    def __getitem__(self, name: str) -> Any:
        return self._metrics[name]

    def __contains__(self, name: object) -> bool:
        return name in self._metrics

    def __getattr__(self, name: str) -> Any:
        metrics = self.__dict__.get("_metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"the report has no {name!r} (keys: {', '.join(metrics)})")

    def _rows(self) -> List[Tuple[str, str]]:
        def fmt(v: Any) -> str:
            if isinstance(v, bool) or isinstance(v, str) or isinstance(v, int):
                return str(v)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "n/a"
            return f"{v:.6g}"
        return [(k, fmt(v)) for k, v in self._metrics.items()]

    def summary(self) -> str:
        m = self._metrics
        line = (f"sharpness {m['sharpness']:.6g} ({m['loss_function']}), "
                f"loss {m['loss']:.6g}")
        if not math.isnan(m.get("weighted_tv", math.nan)):
            line += f", weighted TV {m['weighted_tv']:.6g}"
        if "eta" in m:
            line += (f"; eta {m['eta']:g}: sharpness x eta/2 = {m['edge_ratio']:.4g} -> "
                     f"{m['stability']}")
            if not math.isnan(m.get("thm1_rhs", math.nan)):
                line += f", Theorem 1 bound 1/eta' - 1/2 = {m['thm1_rhs']:.6g}"
        return line

    def __repr__(self) -> str:
        width = max(len(k) for k in self._metrics)
        lines = [f"relustab.Report: {self.summary()}"]
        lines += [f"  {k:<{width}}  {v}" for k, v in self._rows()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td style='text-align:left'>{html.escape(k)}</td>"
                       f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
                       for k, v in self._rows())
        return (f"<p><b>relustab report</b>: {html.escape(self.summary())}</p>"
                f"<table>{rows}</table>")


def analyze(net: Net, X: Any, y: Any, eta: Optional[float] = None, loss: str = "half_mse",
            flattest: bool = False, *, y_clean: Any = None, edge_tolerance: float = 0.01,
            backend: str = "auto", threads: int = 1, top_k: int = 0, lambda_min: bool = False,
            trace_samples: int = 0, density_probes: int = 0, density_steps: int = 0,
            spectrum_seed: int = 0x5eed) -> Report:
    """Analyses a net on its data: ``relustab analyze``.

    Arguments:
      net: a `relustab.Net`: one hidden layer (ReLU or GeLU), or two hidden layers (ReLU), for which
        the report has the loss, the sharpness with its residual and the verdict, and leaves the
        function-space quantities and the theorems' bounds (theory of one hidden layer) undefined.
      X: inputs, shape (n, d) (or (n,) when d = 1); y: targets, shape (n,).
      eta: the step size; adds 2/eta, the stability verdict (sharpness x eta / 2 against 1, with
        ``edge_tolerance``) and the bounds of Theorems 1 and 2.
      loss: ``"half_mse"`` (default) or ``"mse"``, see below.
      flattest: also the flattest implementation over per-neuron rescalings and (d = 1) over all
        implementations of the same function (ReLU nets).
      y_clean: clean targets (n,), for ``mse_clean``.
      backend: ``"auto"`` or a back-end name (``cpu``, ``univariate``, ``cpu-gelu``).
      threads: threads of the computation (the results do not depend on it).
      top_k, lambda_min, trace_samples, density_probes, density_steps, spectrum_seed: the Hessian's
        spectrum beyond the sharpness, off by default (``relustab analyze --top-k K --lambda-min
        --trace-samples S --density-probes N --density-steps M --spectrum-seed SEED``): the K largest
        eigenvalues (``hessian_eigenvalue_1`` .. ``_K``, each with ``_residual``, ``_converged``),
        ``lambda_min``, the Hutchinson trace (``hessian_trace``, ``hessian_trace_stderr``,
        ``hessian_trace_samples``), and the spectral density by stochastic Lanczos quadrature in
        ``report.spectral_density`` (``nodes``, ``weights``: arrays; ``probe_steps``, ``probes``,
        ``steps``).

    Returns a `Report`; ``report.to_dict()`` equals ``relustab analyze --json`` on the same net and
    data bit for bit (one code path: the library's run API).

    {loss}
    """
    net = _check_net(net)
    Xm, yv, clean = _arrays.data(net.input_dim, X, y, y_clean)
    metrics, extra = core.analyze(net._spec(), Xm, yv, clean, None if eta is None else float(eta),
                                  _arrays.loss_name(loss), bool(flattest), float(edge_tolerance),
                                  backend, int(threads), int(top_k), bool(lambda_min),
                                  int(trace_samples), int(density_probes), int(density_steps),
                                  int(spectrum_seed))
    return Report(metrics, extra)


@dataclass
class Eigenpair:
    """An eigenvalue with its quality: ``residual`` = ||A v - value v|| for the unit vector ``vector``."""

    value: float
    residual: float
    converged: bool
    vector: np.ndarray = field(repr=False)
    iterations: int = 0

    def __float__(self) -> float:
        return self.value


def loss(net: Net, X: Any, y: Any, loss: str = "half_mse", *, backend: str = "auto",
         threads: int = 1) -> float:
    """The training loss of ``net`` on (X, y) in the convention ``loss``.

    {loss}
    """
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    return core.loss(net._spec(), Xm, yv, _arrays.loss_name(loss), False, backend, int(threads))[0]


def gradient(net: Net, X: Any, y: Any, loss: str = "half_mse", *, backend: str = "auto",
             threads: int = 1) -> np.ndarray:
    """The gradient of the loss with respect to ``net.theta`` (its layout: torch's parameter order).

    {loss}
    """
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    return core.loss(net._spec(), Xm, yv, _arrays.loss_name(loss), True, backend, int(threads))[1]


def sharpness(net: Net, X: Any, y: Any, loss: str = "half_mse", *, kind: str = "hessian",
              backend: str = "auto", threads: int = 1) -> Eigenpair:
    """The sharpness: the largest algebraic eigenvalue of the loss's exact Hessian (``kind="hessian"``)
    or of the Gauss-Newton matrix (``kind="gauss_newton"``), with its residual ||H v - lambda v||.
    Nets with one or two hidden layers. The value is the one `analyze` reports.

    {loss}
    """
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    r = core.sharpness(net._spec(), Xm, yv, kind, _arrays.loss_name(loss), backend, int(threads))
    return Eigenpair(r["value"], r["residual"], r["converged"], r["vector"], r["iterations"])


class HessianOperator:
    """v -> H v, the exact Hessian (or Gauss-Newton) products of the loss at a net (no finite
    differences). Call it with a vector of length ``size`` (``net.theta``'s layout)."""

    def __init__(self, op: Any) -> None:
        self._op = op

    @property
    def size(self) -> int:
        return self._op.size

    @property
    def shape(self) -> Tuple[int, int]:
        return (self._op.size, self._op.size)

    def __call__(self, v: Any) -> np.ndarray:
        return self._op.apply(_arrays.vector("v", v, length=self._op.size, what="n_params"))

    matvec = __call__

    def dense(self) -> np.ndarray:
        """The matrix, column by column (small nets)."""
        eye = np.eye(self.size)
        return np.column_stack([self(eye[:, i]) for i in range(self.size)])


def hvp(net: Net, X: Any, y: Any, loss: str = "half_mse", *, kind: str = "hessian",
        backend: str = "auto", threads: int = 1) -> HessianOperator:
    """The Hessian-vector product of the loss at ``net`` as a callable ``v -> H v`` (numpy arrays).

    {loss}
    """
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    return HessianOperator(core.Curvature(net._spec(), Xm, yv, kind, _arrays.loss_name(loss),
                                          backend, int(threads)))


@dataclass
class Curves:
    """A univariate ReLU net and its data's weight function on a grid: ``x``, ``f(x)``, the smoothed
    ``|f''|`` (Gaussian of standard deviation ``bandwidth``), ``g(x)``, and the knots with their
    slope jumps."""

    x: np.ndarray
    f: np.ndarray
    abs_f2_smoothed: np.ndarray
    g: np.ndarray
    knots: np.ndarray
    slope_jumps: np.ndarray
    bandwidth: float


def curves(net: Net, X: Any, y: Any, *, from_: Optional[float] = None, to: Optional[float] = None,
           points: int = 801, bandwidth: Optional[float] = None) -> Curves:
    """``relustab curves``: f, smoothed |f''|, the weight function g and the knots on a grid of
    ``points`` points from ``from_`` to ``to`` (default: the data range widened by a quarter on
    each side); ``bandwidth`` default 2% of the data range. Univariate ReLU nets."""
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    c = core.curves(net._spec(), Xm, yv, from_, to, int(points), bandwidth)
    return Curves(c["x"], c["f"], c["abs_f2_smoothed"], c["g"], c["knots"], c["slope_jumps"],
                  c["bandwidth"])


def weight(X: Any, points: Any) -> np.ndarray:
    """The empirical weight function g of the inputs X (d = 1; Mulayoff et al. 2021, eqs. 21-23) at
    ``points``: g = min(g-, g+) on [min X, max X], 0 outside."""
    inputs = _arrays.matrix("X", X, cols=1).reshape(-1)
    return core.empirical_weight(inputs, _arrays.vector("points", points))


def population_weight(law: str, points: Any) -> np.ndarray:
    """The population weight function of a zero-mean unit-variance law (``"uniform"``,
    ``"gaussian"`` or ``"laplace"``) at ``points``, in closed form."""
    return core.population_weight(law, _arrays.vector("points", points))


def knots(net: Net) -> Tuple[np.ndarray, np.ndarray]:
    """The knots of a univariate net, sorted, and the jump of f' at each (coinciding knots merged)."""
    return core.knots(_check_net(net)._spec())


def weighted_tv(net: Net, X: Any) -> float:
    """int |f''| g over the data range, g the empirical weight of the inputs X (d = 1)."""
    net = _check_net(net)
    return core.weighted_tv(net._spec(), _arrays.matrix("X", X, cols=1).reshape(-1))


def flattest(net: Net, X: Any, y: Any, all_implementations: bool = True) -> Dict[str, Any]:
    """The flattest implementation of the net's function over per-neuron rescalings (Gauss-Newton
    sharpness, half_mse; a certified lower bound) and, with ``all_implementations`` and d = 1, over
    all implementations (``result["all"]``). ``result["net"]`` is the rescaled `Net`."""
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    d = core.flattest(net._spec(), Xm, yv, bool(all_implementations) and net.input_dim == 1)
    d["net"] = Net._from_spec(d["net"])
    return d


def kinks(net: Net, X: Any, y: Any, eta: Optional[float] = None, loss: str = "half_mse"
          ) -> Dict[str, Any]:
    """The switching-system analysis at knots on data points (Mulayoff et al. 2021, Lemmas 2, 3, 5
    and Theorem 2): the kink points (neuron, sample), the modes' extreme eigenvalues lambda_upper /
    lambda_lower, and with ``eta`` the verdicts of Lemma 3 (stable) and Lemma 2 (unstable).

    {loss}
    """
    net = _check_net(net)
    Xm, yv, _ = _arrays.data(net.input_dim, X, y)
    return core.kinks(net._spec(), Xm, yv, None if eta is None else float(eta),
                      _arrays.loss_name(loss))


for _f in (analyze, loss, gradient, sharpness, hvp, kinks):
    _f.__doc__ = _f.__doc__.replace("{loss}", _LOSS_DOC)
