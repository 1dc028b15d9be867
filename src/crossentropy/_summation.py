"""Sums that keep the last bits: pairwise summation in double-double (TwoSum at every node).

Used for the reductions whose result is returned at the compute precision (float64 inputs): the
mean over a label axis and the "mean"/"sum" reductions. The error is that of a double-double sum,
about ``n * 2**-106`` relative for non-negative terms, so the final rounding dominates and the
result is the correctly rounded sum of the terms in practice. Inputs narrower than the compute
dtype are summed with NumPy's pairwise ``sum`` in float64, already far below their own ulp.
"""

from __future__ import annotations

from typing import Any

from ._fp import two_sum_low

__all__ = ["accurate_sum", "dd_sum"]


def accurate_sum(xp: Any, x: Any, axis: int | None = None, *, exact: bool = True) -> Any:
    """Sum of ``x`` along ``axis`` (all axes for None), in double-double when ``exact``.

    Infinite and NaN terms propagate as in a plain sum.
    """
    if not exact:
        return xp.sum(x, axis=axis)
    hi, lo = dd_sum(xp, x, axis)
    return hi if lo is None else hi + lo


def dd_sum(xp: Any, x: Any, axis: int | None = None) -> tuple[Any, Any]:
    """Pairwise double-double sum of ``x`` along ``axis``: ``(hi, lo)``, ``lo`` None for one term.

    ``hi + lo`` is the sum to about ``n * 2**-106`` relative for non-negative terms; ``hi`` alone
    is the plain pairwise sum.
    """
    if axis is None:
        x = xp.reshape(x, (-1,))
        axis = 0
    if axis % x.ndim != x.ndim - 1:
        x = xp.moveaxis(x, axis, -1)
    hi = x
    lo = None
    while hi.shape[-1] > 1:
        if hi.shape[-1] % 2:
            pad = xp.zeros(hi.shape[:-1] + (1,), dtype=hi.dtype)
            hi = (
                xp.concat([hi, pad], axis=-1)
                if hasattr(xp, "concat")
                else xp.concatenate([hi, pad], axis=-1)
            )
            if lo is not None:
                lo = (
                    xp.concat([lo, pad], axis=-1)
                    if hasattr(xp, "concat")
                    else (xp.concatenate([lo, pad], axis=-1))
                )
        a, b = hi[..., 0::2], hi[..., 1::2]
        s = a + b
        err = two_sum_low(a, b, s)  # a + b == s + err exactly
        err = xp.where(xp.isfinite(err), err, 0.0)
        lo = err if lo is None else lo[..., 0::2] + lo[..., 1::2] + err
        hi = s
    if hi.shape[-1] == 0:
        return xp.sum(hi, axis=-1), None
    return hi[..., 0], (None if lo is None else lo[..., 0])
