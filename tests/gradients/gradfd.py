"""Finite-difference gradient checks shared by the gradient tests.

A fourth-order central difference in float64,

    f'(x) ~ [f(x - 2h) - 8 f(x - h) + 8 f(x + h) - f(x + 2h)] / (12 h),

has truncation error h**4 f^(5)(x) / 30 and rounding error about eps |f| / h: with h ~ 1e-3 both
are ~1e-12 for the smooth, O(1) losses checked here, far below the tolerance, while any wrong
term in an analytic gradient shows up at O(1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["assert_grad_matches", "fd_grad", "scalar_of", "steps_for"]


def scalar_of(value: Any) -> float:
    """The differentiated quantity: a reduced value, or the sum of per-sample values."""
    arr = np.asarray(value, dtype=np.float64)
    return math.fsum(arr.ravel().tolist())


def steps_for(x: np.ndarray, *, probabilities: bool) -> np.ndarray:
    """Per-element steps: relative for logits, inside (0, 1) for probabilities."""
    if probabilities:
        # h / p <= 1/64 keeps the truncation error (h / p)**4 below 1e-7 near 0 and 1
        room = np.minimum(x, 1.0 - x)
        return np.minimum(1e-4, room / 64.0)
    return 1e-3 * np.maximum(1.0, np.abs(x))


def fd_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Fourth-order central differences of scalar ``f`` at ``x``, one element at a time."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    for idx in np.ndindex(x.shape):
        step = float(h[idx])
        vals = []
        for t in (-2, -1, 1, 2):
            xx = x.copy()
            xx[idx] = x[idx] + t * step
            vals.append(f(xx))
        out[idx] = (vals[0] - 8.0 * vals[1] + 8.0 * vals[2] - vals[3]) / (12.0 * step)
    return out


def assert_grad_matches(
    g: np.ndarray, fd: np.ndarray, *, rtol: float = 1e-7, atol_scale: float = 1e-9
) -> None:
    """``|g - fd| <= rtol |fd| + atol_scale * max(1, max |fd|)`` element-wise."""
    g = np.asarray(g, dtype=np.float64)
    assert g.shape == fd.shape
    atol = atol_scale * max(1.0, float(np.max(np.abs(fd), initial=0.0)))
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol)
