"""Sample weights, ignored samples and the reduction ("none" | "mean" | "sum"), for every loss.

A loss core returns the per-sample loss ``l`` (in the compute dtype) and, when asked, the
derivative ``g`` of each ``l_i`` with respect to the predictions (class axis last). This module
turns them into the user's value and the gradient of that value:

- "none": ``w_i * l_i`` per sample (``l_i`` without weights); its gradient is that of the sum;
- "sum":  ``sum_i w_i * l_i``;
- "mean": ``sum_i w_i * l_i / sum_i w_i``, the plain mean without weights, 0.0 when the total
  weight is 0 (an empty batch, every sample ignored or weighted 0).

An ignored sample has weight 0. A sample of weight 0 contributes exactly 0 to the value and to the
gradient, even where its loss is infinite. Sums are pairwise (NumPy's ``sum``) in the compute
dtype, which is float64 for every NumPy input up to float64, then rounded once.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._namespace import astype, to_output
from ._summation import accurate_sum
from ._validation import check_weight

__all__ = ["LossResult", "reduce_loss"]


class LossResult(NamedTuple):
    """What a loss implementation returns: the user's value and, when asked, its gradient."""

    value: Any
    grad: Any


def reduce_loss(
    fn: str,
    xp: Any,
    loss: Any,
    grad: Any | None,
    *,
    sample_weight: Any,
    reduction: str,
    out_dtype: Any,
    valid: Any | None = None,
    grad_axis: int | None = None,
) -> LossResult:
    """Weight, mask and reduce per-sample ``loss``; scale ``grad`` to match.

    Parameters
    ----------
    loss : array
        Per-sample losses in the compute dtype, shape ``S``.
    grad : array or None
        Derivative of each per-sample loss with respect to the predictions, class axis last:
        shape ``S + (C,)`` when ``grad_axis`` is given (moved back to ``grad_axis``), else ``S``.
    valid : bool array or None
        False for ignored samples.
    """
    weighted = sample_weight is not None or valid is not None
    if sample_weight is not None:
        w = check_weight(fn, "sample_weight", sample_weight, xp, (tuple(loss.shape), ()))
        w = astype(xp, w, loss.dtype)
        if w.ndim == 0 and loss.ndim:
            w = xp.broadcast_to(w, loss.shape)
    else:
        w = xp.ones(loss.shape, dtype=loss.dtype) if weighted else None
    if valid is not None:
        w = xp.where(valid, w, 0.0)
    exact = loss.dtype == out_dtype
    with np.errstate(all="ignore"):
        contrib = loss if w is None else xp.where(w == 0, 0.0, w * loss)
        if reduction == "none":
            value, scale = contrib, w
        elif reduction == "sum":
            value, scale = accurate_sum(xp, contrib, exact=exact), w
        else:
            total = accurate_sum(xp, w, exact=exact) if w is not None else float(_size(loss))
            total_pos = bool(total > 0)
            value = (
                accurate_sum(xp, contrib, exact=exact) / total
                if total_pos
                else xp.zeros((), dtype=loss.dtype)
            )
            if not total_pos:
                scale = xp.zeros(loss.shape, dtype=loss.dtype)
            elif w is None:
                scale = xp.full(loss.shape, 1.0 / total, dtype=loss.dtype)
            else:
                scale = w / total
        g = None
        if grad is not None:
            g = grad
            if scale is not None:
                sc = scale[..., None] if grad_axis is not None else scale
                g = xp.where(sc == 0, 0.0, g * sc)
            if grad_axis is not None and grad_axis != g.ndim - 1:
                g = xp.moveaxis(g, -1, grad_axis)
            g = astype(xp, g, out_dtype)
        out = to_output(xp, value, out_dtype)  # may overflow to inf in a narrow dtype: intended
    return LossResult(out, g)


def _size(x: Any) -> int:
    n = 1
    for s in x.shape:
        n *= int(s)
    return n
