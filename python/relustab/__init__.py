# SPDX-License-Identifier: MIT
"""relustab: minima stability of shallow ReLU networks, from Python.

The same library as the ``relustab`` command line, through its run API, so both give the same
numbers. Nets: `Net`, `load_net`, `from_torch`; data: `load_data`; analyses: `analyze` (the report of
``relustab analyze``), `loss`, `gradient`, `sharpness`, `hvp`, `curves`, `weight`,
`population_weight`, `knots`, `weighted_tv`, `flattest`, `kinks`; training: `train`, `parameters`;
sweeps: `sweep` (an experiment file, ``relustab sweep``) and `load_results` (a results directory as
pandas DataFrames).

Loss convention: relustab and the papers use L = 1/(2n) sum r^2 (``loss="half_mse"``, the default);
PyTorch's ``nn.MSELoss`` is 1/n sum r^2 (``loss="mse"``), with twice the gradient and Hessian. A net
trained with MSELoss at lr 0.1 is checked with ``analyze(net, X, y, eta=0.1, loss="mse")``.
"""

from __future__ import annotations

from .analysis import (Curves, Eigenpair, HessianOperator, Report, analyze, curves, flattest,
                       gradient, hvp, kinks, knots, loss, population_weight, sharpness, weight,
                       weighted_tv)
from .net import Net, from_torch, load_data, load_net
from .sweeps import sweep
from .training import TrainResult, parameters, train

__version__ = "0.1.0"

__all__ = [
    "Curves", "Eigenpair", "HessianOperator", "Net", "Report", "TrainResult", "analyze", "curves",
    "flattest", "from_torch", "gradient", "hvp", "kinks", "knots", "load_data", "load_net", "loss",
    "parameters", "population_weight", "sharpness", "sweep", "train", "weight", "weighted_tv",
]

try:  # results directories as pandas DataFrames, where that module is present
    from .results import load_results  # noqa: F401

    __all__.append("load_results")
except ImportError:  # pragma: no cover
    pass
