# SPDX-License-Identifier: MIT
"""Checks and conversions of the arrays the package accepts (float64 or float32, any memory order)."""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np


def as_float_array(name: str, value: Any) -> np.ndarray:
    """`value` as a float64 array (a copy only when needed); ValueError for non-real data."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.floating)
                                       or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name}: expected real numbers (float64 or float32), got dtype {array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float64)


def matrix(name: str, value: Any, cols: Optional[int] = None, rows: Optional[int] = None) -> np.ndarray:
    """An (rows, cols) float64 C-contiguous matrix; a vector is read as one column when cols is 1."""
    array = as_float_array(name, value)
    if array.ndim == 1 and cols in (None, 1):
        array = array.reshape(-1, 1)
    expected = f"({'n' if rows is None else rows}, {'d' if cols is None else cols})"
    if array.ndim != 2 or (cols is not None and array.shape[1] != cols) or (
            rows is not None and array.shape[0] != rows):
        raise ValueError(f"{name}: expected an array of shape {expected}, got shape {array.shape}")
    return array


def vector(name: str, value: Any, length: Optional[int] = None, what: str = "n") -> np.ndarray:
    """A float64 vector of `length`; (length, 1) and (1, length) are accepted and flattened."""
    array = as_float_array(name, value)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    expected = f"({what if length is None else length},)"
    if array.ndim != 1 or (length is not None and array.shape[0] != length):
        raise ValueError(f"{name}: expected an array of shape {expected}, got shape {array.shape}")
    return np.ascontiguousarray(array)


def scalar(name: str, value: Any) -> float:
    array = as_float_array(name, value)
    if array.size != 1:
        raise ValueError(f"{name}: expected a scalar (shape () or (1,)), got shape {array.shape}")
    return float(array.reshape(-1)[0])


def data(net_input_dim: int, X: Any, y: Any, y_clean: Any = None
         ) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """X (n, d) and y (n,) (and y_clean (n,)) for a net of input dimension d."""
    Xm = matrix("X", X, cols=net_input_dim)
    yv = vector("y", y, length=Xm.shape[0])
    clean = None if y_clean is None else vector("y_clean", y_clean, length=Xm.shape[0])
    return Xm, yv, clean


LOSSES = ("half_mse", "mse")


def loss_name(loss: str) -> str:
    if loss not in LOSSES:
        raise ValueError(f"loss: expected 'half_mse' (1/(2n) sum r^2, the papers') or 'mse' "
                         f"(1/n sum r^2, torch.nn.MSELoss), got {loss!r}")
    return loss
