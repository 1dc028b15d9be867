"""High-precision references for the gradient tests, written from the losses' definitions.

Each function is the textbook formula evaluated in mpmath at 60 significant digits; none shares
code or rearrangements with the library. Derivatives are taken numerically by ``mpmath.diff``
(at that precision its error is far below a float64 ulp), so they check the library's analytic
formulas rather than restate them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath as mp
import numpy as np

__all__ = [
    "DPS",
    "binary_focal_logits",
    "binary_focal_prob",
    "binary_prob",
    "categorical_focal_logits",
    "categorical_focal_prob",
    "mp_grad",
    "sigmoid_logits",
    "softmax_xent",
    "ulp_error",
]

DPS = 60


def _mpf(v: Any) -> mp.mpf:
    return mp.mpf(float(v)) if np.isfinite(v) else mp.mpf(str(float(v)))


def _nll_softmax(x: Sequence[mp.mpf], c: int) -> mp.mpf:
    """-log softmax(x)_c = log1p(sum_{j != c} exp(x_j - x_c)) (log1p keeps a tiny sum)."""
    return mp.log1p(mp.fsum(mp.exp(v - x[c]) for j, v in enumerate(x) if j != c))


def _one_minus_softmax(x: Sequence[mp.mpf], c: int) -> mp.mpf:
    """1 - softmax(x)_c = sum_{j != c} e^{x_j} / sum_j e^{x_j}, without cancellation."""
    rest = mp.fsum(mp.exp(v - x[c]) for j, v in enumerate(x) if j != c)
    return rest / (1 + rest)


def softmax_xent(a: Sequence[Any], x: Sequence[mp.mpf]) -> mp.mpf:
    """sum_c a_c (-log softmax(x)_c)."""
    return mp.fsum(_mpf(ac) * _nll_softmax(x, c) for c, ac in enumerate(a) if ac != 0)


def sigmoid_logits(z: Any, x: mp.mpf, w: Any = 1.0) -> mp.mpf:
    """w z log(1 + e^-x) + (1 - z) log(1 + e^x) (log1p keeps a tiny e^-x)."""
    z = _mpf(z)
    out = mp.mpf(0)
    if z != 0:
        out += _mpf(w) * z * mp.log1p(mp.exp(-x))
    if z != 1:
        out += (1 - z) * mp.log1p(mp.exp(x))
    return out


def binary_prob(y: Any, p: mp.mpf, w: Any = 1.0) -> mp.mpf:
    """-w y log p - (1 - y) log(1 - p) (log1p keeps a tiny p)."""
    y = _mpf(y)
    out = mp.mpf(0)
    if y != 0:
        out -= _mpf(w) * y * mp.log(p)
    if y != 1:
        out -= (1 - y) * mp.log1p(-p)
    return out


def binary_focal_prob(y: Any, p: mp.mpf, gamma: Any) -> mp.mpf:
    """y (1 - p)^g (-log p) + (1 - y) p^g (-log(1 - p))."""
    y, g = _mpf(y), _mpf(gamma)
    out = mp.mpf(0)
    if y != 0:
        out += y * (1 - p) ** g * -mp.log(p)
    if y != 1:
        out += (1 - y) * p**g * -mp.log1p(-p)
    return out


def binary_focal_logits(y: Any, x: mp.mpf, gamma: Any) -> mp.mpf:
    """binary_focal_prob at p = sigmoid(x), with 1 - p = sigmoid(-x) and logs as softplus."""
    y, g = _mpf(y), _mpf(gamma)
    p, q = 1 / (1 + mp.exp(-x)), 1 / (1 + mp.exp(x))
    out = mp.mpf(0)
    if y != 0:
        out += y * q**g * mp.log1p(mp.exp(-x))
    if y != 1:
        out += (1 - y) * p**g * mp.log1p(mp.exp(x))
    return out


def categorical_focal_prob(a: Sequence[Any], p: Sequence[mp.mpf], gamma: Any) -> mp.mpf:
    """sum_c a_c (1 - p_c)^g (-log p_c)."""
    g = _mpf(gamma)
    return mp.fsum(
        _mpf(ac) * (1 - pc) ** g * -mp.log(pc) for ac, pc in zip(a, p, strict=True) if ac != 0
    )


def categorical_focal_logits(a: Sequence[Any], x: Sequence[mp.mpf], gamma: Any) -> mp.mpf:
    """sum_c a_c (1 - p_c)^g (-log p_c) at p = softmax(x)."""
    g = _mpf(gamma)
    return mp.fsum(
        _mpf(ac) * _one_minus_softmax(x, c) ** g * _nll_softmax(x, c)
        for c, ac in enumerate(a)
        if ac != 0
    )


def mp_grad(
    f: Callable[[list[mp.mpf]], mp.mpf],
    x: Sequence[float],
    *,
    scale: Sequence[float] | None = None,
    direction: int = 0,
    dps: int | None = None,
) -> list[mp.mpf]:
    """d f / d x_i for each i by ``mpmath.diff`` (one-sided when ``direction`` is +-1).

    The step is ``scale_i * 10**-dps``: ``scale_i`` is how far ``x_i`` is from a singularity
    (``p`` or ``1 - p`` for probabilities, 1 for logits). ``dps`` defaults to DPS plus enough
    digits that an O(|x|) loss still resolves derivatives as small as ``e**-2|x|``.
    """
    finite = [abs(float(v)) for v in x if np.isfinite(v)]
    if dps is None:
        dps = DPS + int(0.9 * max(finite, default=0.0))
    with mp.workdps(dps):
        base = [_mpf(v) for v in x]
        scales = [mp.mpf(1)] * len(base) if scale is None else [_mpf(s) for s in scale]
        out = []
        for i in range(len(base)):

            def fi(t: mp.mpf, i: int = i) -> mp.mpf:
                xx = list(base)
                xx[i] = base[i] + t
                return f(xx)

            h = scales[i] * mp.mpf(10) ** (-dps)
            out.append(mp.diff(fi, 0, h=h, direction=direction))
        return out


def ulp_error(got: Any, exact: Any, dtype: Any) -> float:
    """|got - exact| in units of the last place of ``exact`` rounded to ``dtype``."""
    got_f = float(got)
    exact_mp = mp.mpf(exact)
    rounded = np.asarray(float(exact_mp)).astype(dtype)
    ulp = float(np.spacing(np.abs(rounded).astype(dtype)))
    if ulp == 0.0 or not np.isfinite(ulp):
        ulp = float(np.finfo(dtype).smallest_subnormal)
    with mp.workdps(DPS):
        return float(abs(mp.mpf(got_f) - exact_mp) / ulp)
