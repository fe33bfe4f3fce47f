# SPDX-License-Identifier: MIT
"""`Net`: a network with one hidden layer (ReLU or GeLU) or two hidden layers (ReLU), its files and
its PyTorch form."""

from __future__ import annotations

import os
from typing import Any, Optional, Tuple, Union

import numpy as np

from . import _arrays
from ._core_loader import core


class Net:
    """A network f on R^d, parameters in float64.

    One hidden layer (``depth == 1``): ``f(x) = w2 . sigma(W1 x + b1) + b2`` with W1 of shape (k, d),
    b1 (k,), w2 (k,) and b2 a scalar; ``sigma`` is ``"relu"`` or ``"gelu"`` (exact erf form,
    ``torch.nn.GELU()``). Two hidden layers (``Net.deep``): ``f(x) = w3 . relu(W2 relu(W1 x + b1) +
    b2) + b3``.

    The parameter vector ``theta`` is the flattening of the layers in this order (W1 row-major, b1,
    w2, b2; or W1, b1, W2, b2, w3, b3), which is also the order of ``torch.nn.Sequential``'s
    ``parameters()``: gradients and Hessian-vector products use it.

    Arrays may be float64 or float32, in C or Fortran order; w2 may have shape (1, k) and b2 shape
    (1,) (torch's ``nn.Linear(k, 1)``). Properties return copies.
    """

    def __init__(self, W1: Any, b1: Any, w2: Any, b2: Any, activation: str = "relu") -> None:
        W1m = _arrays.matrix("W1", W1)
        k, d = W1m.shape
        b1v = _arrays.vector("b1", b1, length=k)
        w2v = _arrays.vector("w2", w2, length=k)
        b2s = _arrays.scalar("b2", b2)
        if activation not in ("relu", "gelu"):
            raise ValueError(f"activation: expected 'relu' or 'gelu', got {activation!r}")
        self._set(1, d, k, 0, activation, np.concatenate([W1m.reshape(-1), b1v, w2v, [b2s]]))

    @classmethod
    def deep(cls, W1: Any, b1: Any, W2: Any, b2: Any, w3: Any, b3: Any) -> "Net":
        """A two-hidden-layer ReLU net: W1 (k1, d), b1 (k1,), W2 (k2, k1), b2 (k2,), w3 (k2,) or
        (1, k2), b3 scalar or (1,)."""
        W1m = _arrays.matrix("W1", W1)
        k1, d = W1m.shape
        b1v = _arrays.vector("b1", b1, length=k1)
        W2m = _arrays.matrix("W2", W2, cols=k1)
        k2 = W2m.shape[0]
        b2v = _arrays.vector("b2", b2, length=k2)
        w3v = _arrays.vector("w3", w3, length=k2)
        b3s = _arrays.scalar("b3", b3)
        net = cls.__new__(cls)
        net._set(2, d, k1, k2, "relu",
                 np.concatenate([W1m.reshape(-1), b1v, W2m.reshape(-1), b2v, w3v, [b3s]]))
        return net

    @classmethod
    def from_theta(cls, theta: Any, input_dim: int, width: int, activation: str = "relu",
                   width2: int = 0) -> "Net":
        """A net from its parameter vector (see the class docstring); width2 > 0: two hidden layers."""
        net = cls.__new__(cls)
        d, k1, k2 = int(input_dim), int(width), int(width2)
        n = k1 * d + 2 * k1 + 1 if k2 == 0 else k1 * d + k1 + k2 * k1 + 2 * k2 + 1
        net._set(1 if k2 == 0 else 2, d, k1, k2, activation, _arrays.vector("theta", theta, length=n))
        return net

    @classmethod
    def _from_spec(cls, spec: Tuple) -> "Net":
        depth, d, k1, k2, activation, theta = spec
        net = cls.__new__(cls)
        net._set(depth, d, k1, k2, activation, np.asarray(theta, dtype=np.float64))
        return net

    def _set(self, depth: int, d: int, k1: int, k2: int, activation: str, theta: np.ndarray) -> None:
        self._depth, self._d, self._k1, self._k2 = int(depth), int(d), int(k1), int(k2)
        self._activation = activation
        self._theta = np.ascontiguousarray(theta, dtype=np.float64)
        self._theta.setflags(write=False)

    def _spec(self) -> Tuple:
        return (self._depth, self._d, self._k1, self._k2, self._activation, self._theta)

    # Shape and parameters.
    @property
    def depth(self) -> int:
        """Hidden layers: 1 or 2."""
        return self._depth

    @property
    def input_dim(self) -> int:
        return self._d

    @property
    def width(self) -> int:
        """Neurons of the (first) hidden layer."""
        return self._k1

    @property
    def width2(self) -> int:
        """Neurons of the second hidden layer (0 for one hidden layer)."""
        return self._k2

    @property
    def activation(self) -> str:
        return self._activation

    @property
    def theta(self) -> np.ndarray:
        """All parameters as one vector (a copy), in the layout of the class docstring."""
        return self._theta.copy()

    @property
    def n_params(self) -> int:
        return int(self._theta.size)

    def _block(self, start: int, shape: Tuple[int, ...]) -> np.ndarray:
        size = int(np.prod(shape))
        return self._theta[start:start + size].reshape(shape).copy()

    def _offsets(self):
        d, k1, k2 = self._d, self._k1, self._k2
        if self._depth == 1:
            return {"W1": (0, (k1, d)), "b1": (k1 * d, (k1,)), "w2": (k1 * d + k1, (k1,)),
                    "b2": (k1 * d + 2 * k1, ())}
        o_W2 = k1 * d + k1
        o_b2 = o_W2 + k2 * k1
        return {"W1": (0, (k1, d)), "b1": (k1 * d, (k1,)), "W2": (o_W2, (k2, k1)),
                "b2": (o_b2, (k2,)), "w3": (o_b2 + k2, (k2,)), "b3": (o_b2 + 2 * k2, ())}

    def _get(self, name: str):
        offsets = self._offsets()
        if name not in offsets:
            raise AttributeError(f"a net with {self._depth} hidden layer(s) has no {name}")
        start, shape = offsets[name]
        if shape == ():
            return float(self._theta[start])
        return self._block(start, shape)

    W1 = property(lambda self: self._get("W1"), doc="First-layer weights (k, d).")
    b1 = property(lambda self: self._get("b1"), doc="First-layer biases (k,).")
    w2 = property(lambda self: self._get("w2"), doc="Output weights (k,) (one hidden layer).")
    b2 = property(lambda self: self._get("b2"),
                  doc="Output bias (one hidden layer, a float) or second-layer biases (two).")
    W2 = property(lambda self: self._get("W2"), doc="Second-layer weights (k2, k) (two hidden layers).")
    w3 = property(lambda self: self._get("w3"), doc="Output weights (k2,) (two hidden layers).")
    b3 = property(lambda self: self._get("b3"), doc="Output bias (two hidden layers).")

    # Evaluation and files.
    def predict(self, X: Any) -> np.ndarray:
        """f at every row of X (n, d); a vector is read as n inputs when d = 1."""
        return core.predict(self._spec(), _arrays.matrix("X", X, cols=self._d))

    __call__ = predict

    def to_json(self) -> str:
        """The relustab-net JSON text (one hidden layer)."""
        return core.net_to_json(self._spec())

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the net as relustab-net JSON, or .npz when the name ends in .npz (one hidden layer)."""
        core.write_net(self._spec(), os.fspath(path))

    def to_torch(self, dtype: Any = None):
        """The net as ``torch.nn.Sequential`` (Linear, ReLU/GELU, Linear[, ReLU, Linear]), float64
        unless ``dtype`` says otherwise."""
        import torch

        dtype = torch.float64 if dtype is None else dtype
        act = torch.nn.GELU if self._activation == "gelu" else torch.nn.ReLU
        if self._depth == 1:
            layers = [torch.nn.Linear(self._d, self._k1), act(), torch.nn.Linear(self._k1, 1)]
            values = [self.W1, self.b1, self.w2.reshape(1, -1), np.array([self.b2])]
        else:
            layers = [torch.nn.Linear(self._d, self._k1), torch.nn.ReLU(),
                      torch.nn.Linear(self._k1, self._k2), torch.nn.ReLU(),
                      torch.nn.Linear(self._k2, 1)]
            values = [self.W1, self.b1, self.W2, self.b2, self.w3.reshape(1, -1), np.array([self.b3])]
        model = torch.nn.Sequential(*layers).to(dtype)
        with torch.no_grad():
            for param, value in zip(model.parameters(), values):
                param.copy_(torch.as_tensor(value, dtype=dtype))
        return model

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Net) and self._spec()[:5] == other._spec()[:5] and bool(
            np.array_equal(self._theta, other._theta))

    def __repr__(self) -> str:
        if self._depth == 1:
            return (f"Net({self._activation}, input_dim={self._d}, width={self._k1}, "
                    f"{self.n_params} parameters)")
        return (f"Net(relu, two hidden layers, input_dim={self._d}, widths=({self._k1}, "
                f"{self._k2}), {self.n_params} parameters)")


def load_net(path: Union[str, os.PathLike]) -> Net:
    """Reads a net file: relustab-net JSON or .npz (W1, b1, w2, b2 and optionally activation)."""
    return Net._from_spec(core.read_net(os.fspath(path)))


def load_data(path: Union[str, os.PathLike], with_clean: bool = False):
    """Reads a data CSV (columns x or x1..xd, then y, optionally y_clean).

    Returns ``(X, y)`` with X of shape (n, d); with ``with_clean=True`` ``(X, y, y_clean)``, where
    y_clean is None when the file has no clean column."""
    X, y, y_clean = core.read_data(os.fspath(path))
    return (X, y, y_clean) if with_clean else (X, y)


def _tensor(value: Any) -> np.ndarray:
    return value.detach().cpu().double().numpy() if hasattr(value, "detach") \
        else np.asarray(value, dtype=np.float64)


def from_torch(module_or_state_dict: Any, activation: Optional[str] = None) -> Net:
    """A `Net` from a PyTorch net: ``nn.Sequential(Linear(d, k), ReLU() or GELU(), Linear(k, 1))``,
    or with two hidden layers ``nn.Sequential(Linear, ReLU, Linear, ReLU, Linear(k2, 1))``, or their
    ``state_dict()``. For a module the activation is read from it (GELU must be the exact form,
    ``approximate='none'``); for a state dict it is ``activation`` (default relu). The parameters are
    converted to float64."""
    activation_found = None
    if hasattr(module_or_state_dict, "state_dict") and hasattr(module_or_state_dict, "modules"):
        import torch

        module = module_or_state_dict
        children = list(module.children()) if isinstance(module, torch.nn.Sequential) else []
        linears = [c for c in children if isinstance(c, torch.nn.Linear)]
        acts = [c for c in children if not isinstance(c, torch.nn.Linear)]
        kinds = {type(a) for a in acts}
        if not children or len(linears) not in (2, 3) or len(acts) != len(linears) - 1 \
                or not isinstance(children[0], torch.nn.Linear) \
                or not isinstance(children[-1], torch.nn.Linear) \
                or not kinds <= {torch.nn.ReLU, torch.nn.GELU} or len(kinds) > 1:
            raise ValueError("from_torch: expected nn.Sequential(Linear, ReLU or GELU, Linear) or "
                             "nn.Sequential(Linear, ReLU, Linear, ReLU, Linear), got " + repr(module))
        if torch.nn.GELU in kinds:
            if any(getattr(a, "approximate", "none") != "none" for a in acts):
                raise ValueError("from_torch: relustab's GeLU is the exact erf form; "
                                 "nn.GELU(approximate='tanh') is another function")
            activation_found = "gelu"
        else:
            activation_found = "relu"
        tensors = []
        for layer in linears:
            if layer.bias is None:
                raise ValueError("from_torch: every Linear layer needs a bias")
            tensors += [layer.weight, layer.bias]
    else:
        state = dict(module_or_state_dict)
        tensors = list(state.values())
    arrays = [_tensor(t) for t in tensors]
    act = activation_found or activation or "relu"
    if activation_found and activation and activation != activation_found:
        raise ValueError(f"from_torch: the module's activation is {activation_found}, "
                         f"but activation={activation!r} was given")
    if len(arrays) == 4:
        W1, b1, w2, b2 = arrays
        if w2.ndim == 2 and w2.shape[0] != 1:
            raise ValueError(f"from_torch: the output layer must have one output, got weight shape "
                             f"{w2.shape}")
        return Net(W1, b1, w2, b2, activation=act)
    if len(arrays) == 6:
        if act != "relu":
            raise ValueError("from_torch: two hidden layers are ReLU only")
        return Net.deep(*arrays)
    raise ValueError(f"from_torch: expected the weights and biases of 2 or 3 Linear layers "
                     f"(4 or 6 tensors), got {len(arrays)}")
