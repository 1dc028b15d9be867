"""Sample weights, ignored samples and the reduction ("none" | "mean" | "sum"), for every loss.

A loss core returns the per-sample loss ``l`` (in the compute dtype) and, when asked, the
derivative ``g`` of each ``l_i`` with respect to the predictions (class axis last). This module
turns them into the user's value and the gradient of that value:

- "none": ``w_i * l_i`` per sample (``l_i`` without weights); its gradient is that of the sum;
- "sum":  ``sum_i w_i * l_i``;
- "mean": ``sum_i w_i * l_i / sum_i w_i``, the plain mean without weights, 0.0 when the total
  weight is 0 (an empty batch, every sample ignored or weighted 0). The weights are first
  divided by their maximum (:func:`mean_weights`): no overflow or underflow at any valid scale,
  and equal weights give the plain mean exactly.

An ignored sample has weight 0. A sample of weight 0 contributes exactly 0 to the value and to the
gradient, even where its loss is infinite. Sums are pairwise (NumPy's ``sum``) in the compute
dtype, which is float64 for every NumPy input up to float64, then rounded once.

Float64 values below the normal range (2**-1022, about 2.2e-308) are rounded to an absolute
2**-1075, not a relative one: a weight ``w > 1`` applied to such a per-sample loss or gradient
entry after that rounding multiplies its error (``w = 100`` at a logit margin of 745 was 43 ulp
off). A loss core may therefore hand over :class:`Tiny`: those values scaled by ``e^600``,
where they keep their relative accuracy; the weights are applied to them there and the result
is scaled back once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._fp import SCALE, SCALE_INV, TINY
from ._namespace import astype, to_output
from ._summation import accurate_sum
from ._validation import check_weight

__all__ = [
    "LossResult",
    "Tiny",
    "kernel_scale",
    "mean_total",
    "mean_weights",
    "reduce_loss",
    "sample_weights",
    "weight_scale",
]

#: ``(mask, scaled)``: where ``mask``, ``scaled`` is the value times ``e^600`` (else unused).
Scaled = tuple[Any, Any]


class LossResult(NamedTuple):
    """What a loss implementation returns: the user's value and, when asked, its gradient."""

    value: Any
    grad: Any


class Tiny(NamedTuple):
    """Float64 per-sample losses and gradient entries near or below 2**-1022, scaled by ``e^600``.

    ``loss`` and ``grad`` are called only where a weight could amplify their rounding (see
    :func:`reduce_loss`) and return :data:`Scaled` pieces of the loss's and the gradient's shapes,
    or None when there is nothing to fix. ``gain`` bounds the factor the core itself applied to
    them (class weights, ``pos_weight``; 1 without).
    """

    gain: float
    loss: Callable[[], Scaled | None] | None = None
    grad: Callable[[], Scaled | None] | None = None


def _max(xp: Any, w: Any) -> float:
    return float(xp.max(w)) if _size(w) else 0.0


def mean_weights(xp: Any, w: Any | None) -> Any | None:
    """The weights of a "mean", divided by their maximum (unchanged when it is 0).

    A "mean" does not depend on the weights' scale; dividing by the maximum makes it so in
    floating point too: ``sum_i w_i l_i`` and ``sum_i w_i`` neither overflow (weights near
    1e308) nor lose their relative accuracy below the normal range (weights near 1e-320), and
    equal weights become exactly 1, so that their mean is the plain mean bit for bit.
    """
    if w is None:
        return None
    wmax = _max(xp, w)
    return w / wmax if wmax > 0 else w


def sample_weights(
    fn: str, xp: Any, sample_weight: Any, shape: tuple[int, ...], dtype: Any, valid: Any = None
) -> Any | None:
    """Checked per-sample weights of ``shape`` in ``dtype``, 0 for ignored samples (``valid``
    False); None when there are neither weights nor ignored samples."""
    if sample_weight is not None:
        w = check_weight(fn, "sample_weight", sample_weight, xp, (tuple(shape), ()))
        w = astype(xp, w, dtype)
        if w.ndim == 0 and len(shape):
            w = xp.broadcast_to(w, shape)
    else:
        w = xp.ones(shape, dtype=dtype) if valid is not None else None
    if valid is not None:
        w = xp.where(valid, w, 0.0)
    return w


def weight_scale(
    xp: Any, w: Any | None, shape: tuple[int, ...], reduction: str, *, exact: bool, dtype: Any
) -> tuple[Any | None, Any]:
    """``(scale, total)``: the factor of each per-sample loss in the reduced value (so of its
    gradient too), and the total weight of a "mean" (None otherwise).

    "none" and "sum": ``w`` (None: 1); "mean": ``w / total`` or ``1 / n``, 0 where the total
    weight is 0.
    """
    if reduction != "mean":
        return w, None
    w = mean_weights(xp, w)
    total = mean_total(xp, w, shape, exact=exact)
    if not bool(total > 0):
        return xp.zeros(shape, dtype=dtype), total
    if w is None:
        return xp.full(shape, 1.0 / total, dtype=dtype), total
    return w / total, total


def mean_total(xp: Any, w: Any | None, shape: tuple[int, ...], *, exact: bool) -> Any:
    """The denominator of a "mean": the sum of the weights ``w``, or the count of ``shape``."""
    return accurate_sum(xp, w, exact=exact) if w is not None else float(_count(shape))


def reduced(xp: Any, s: Any, total: Any | None, dtype: Any) -> Any:
    """The value of a "sum" (``total`` None: ``s``) or a "mean" (``s / total``, 0 where the
    total weight is 0), from the weighted sum ``s`` and :func:`mean_total`'s ``total``."""
    if total is None:
        return s
    return s / total if bool(total > 0) else xp.zeros((), dtype=dtype)


def kernel_scale(
    w: np.ndarray | None, shape: tuple[int, ...], reduction: str, need_grad: bool
) -> np.ndarray:
    """The per-row factor a fused kernel applies (``scale``), flat and float64.

    With a gradient, :func:`weight_scale` (its "mean" total summed in double-double for every
    dtype); without, the weights (1 without), which only mark the rows of weight 0.
    """
    sc = weight_scale(np, w, shape, reduction, exact=True, dtype=np.float64)[0] if need_grad else w
    sc = np.ones(shape) if sc is None else sc
    return np.ascontiguousarray(np.reshape(sc, -1), dtype=np.float64)


def reduce_loss(
    fn: str,
    xp: Any,
    loss: Any,
    grad: Any | None,
    *,
    sample_weight: Any = None,
    reduction: str,
    out_dtype: Any,
    valid: Any | None = None,
    grad_axis: int | None = None,
    tiny: Tiny | None = None,
    weights: Any | None = None,
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
    tiny : Tiny or None
        Scaled copies of the float64 losses and gradient entries below the normal range.
    weights : array or None
        Instead of ``sample_weight`` and ``valid``: the result of :func:`sample_weights`, for a
        caller that has checked them already.
    """
    if weights is not None:
        w = weights
    else:
        w = sample_weights(fn, xp, sample_weight, tuple(loss.shape), loss.dtype, valid)
    if reduction == "mean":
        w = mean_weights(xp, w)  # then "mean" of wmax < 1 below is never taken: total >= 1
    exact = loss.dtype == out_dtype
    if tiny is not None and not (exact and str(loss.dtype).endswith("float64")):
        tiny = None  # narrower outputs: computed in float64, far below their own subnormals
    with np.errstate(all="ignore"):
        contrib = loss if w is None else xp.where(w == 0, 0.0, w * loss)
        scale, total = weight_scale(
            xp, w, tuple(loss.shape), reduction, exact=exact, dtype=loss.dtype
        )
        if reduction == "none":
            value = contrib
        else:
            value = reduced(xp, accurate_sum(xp, contrib, exact=exact), total, loss.dtype)
        if tiny is not None and tiny.loss is not None:
            wmax = 1.0 if w is None else _max(xp, w)
            # Rounding errors of tiny losses, in units of 2**-1074, are multiplied by gain * w
            # ("none", "sum"), by gain on average ("mean"); the products w l rounded there, by
            # 1 / total ("mean"). Only those cases take the scaled route.
            if tiny.gain * wmax > 1.0 or (reduction == "mean" and (tiny.gain > 1.0 or wmax < 1.0)):
                fixed = _tiny_value(xp, tiny.loss, loss, w, contrib, reduction, exact, total)
                value = value if fixed is None else fixed
        g = None
        if grad is not None:
            g = grad
            if scale is not None:
                sc = scale[..., None] if grad_axis is not None else scale
                g = xp.where(sc == 0, 0.0, g * sc)
            if tiny is not None and tiny.grad is not None:
                smax = 1.0 if scale is None else _max(xp, scale)
                got = tiny.grad() if tiny.gain * smax > 1.0 else None
                if got is not None:  # weighted on the scaled entries, scaled back once
                    mask, gs = got
                    if scale is not None:
                        sc = scale[..., None] if grad_axis is not None else scale
                        gs = xp.where(sc == 0, 0.0, gs * sc)
                    g = xp.where(mask, gs * SCALE_INV, g)
            if grad_axis is not None and grad_axis != g.ndim - 1:
                g = xp.moveaxis(g, -1, grad_axis)
            g = astype(xp, g, out_dtype)
        out = to_output(xp, value, out_dtype)  # may overflow to inf in a narrow dtype: intended
    return LossResult(out, g)


def _tiny_value(
    xp: Any,
    parts: Callable[[], Scaled | None],
    loss: Any,
    w: Any | None,
    contrib: Any,
    reduction: str,
    exact: bool,
    total: Any,
) -> Any | None:
    """The value of :func:`reduce_loss` with its tiny terms weighted and summed scaled by e^600.

    Terms are tiny where the core handed a scaled loss over, or where the weighted product
    ``w l`` falls below :data:`TINY` (a weight < 1); the others are reduced as before, and the
    two parts are added at the end.
    """
    got = parts()
    if got is None:
        return None
    mask, scaled = got
    small = xp.logical_or(
        mask, xp.logical_and(contrib != 0, xp.logical_and(xp.abs(contrib) < TINY, loss < 2.0**100))
    )
    ls = xp.where(mask, scaled, loss * SCALE)
    cs = xp.where(small, ls if w is None else xp.where(w == 0, 0.0, w * ls), 0.0)
    if reduction == "none":
        return xp.where(small, cs * SCALE_INV, contrib)
    cn = xp.where(small, 0.0, contrib)
    big = accurate_sum(xp, cn, exact=exact)
    part = accurate_sum(xp, cs, exact=exact)
    if reduction == "sum":
        return big + part * SCALE_INV
    if not bool(total > 0):
        return xp.zeros((), dtype=loss.dtype)
    return big / total + (part / total) * SCALE_INV


def _count(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= int(s)
    return n


def _size(x: Any) -> int:
    return _count(tuple(x.shape))
