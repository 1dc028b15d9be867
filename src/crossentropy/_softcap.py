r"""z-loss (PaLM) and logit soft-capping (Gemma 2) around a softmax loss.

Soft-capping replaces the logits by :math:`x' = c \tanh(x / c)` before the loss; its gradient is
the loss's times :math:`1 - (x'/c)^2`. The z-loss adds :math:`z\,\mathrm{lse}(x')^2` to each
sample's loss, with gradient :math:`2 z\,\mathrm{lse}(x')\,\operatorname{softmax}(x')`. Both act
outside the loss itself: :func:`with_z_softcap` caps the logits (in the compute dtype), runs the
loss's own implementation on them (the fused kernel or the core, whichever it picks) per sample
and unweighted, adds the z-loss, chains the gradient through the cap, and reduces once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._namespace import array_namespace, astype, compute_dtype, move_last
from ._reduction import LossResult, reduce_loss
from ._validation import check_axis, check_float_array

__all__ = ["check_softcap", "check_z_loss", "with_z_softcap"]


def _scalar(fn: str, name: str, value: Any, *, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a real number; got {type(value).__name__}.")
    v = float(value)
    ok = (v > 0.0) if positive else (v >= 0.0)
    if not (ok and np.isfinite(v)):
        expected = "a finite number > 0" if positive else "a finite number >= 0"
        raise ValueError(f"{fn}: {name} must be {expected}; got {v!r}.")
    return v


def check_z_loss(fn: str, z_loss: Any) -> float:
    """``z_loss``: a finite coefficient >= 0."""
    return _scalar(fn, "z_loss", z_loss, positive=False)


def check_softcap(fn: str, softcap: Any) -> float | None:
    """``softcap``: None or a finite cap > 0."""
    if softcap is None:
        return None
    return _scalar(fn, "softcap", softcap, positive=True)


def with_z_softcap(
    fn: str,
    core: Callable[..., LossResult],
    logits: Any,
    *,
    name: str,
    z_loss: Any,
    softcap: Any,
    axis: int,
    sample_weight: Any,
    reduction: str,
    need_grad: bool,
    ignored: Callable[[Any], Any] | None = None,
) -> LossResult:
    """The loss ``core(x, reduction="none", need_grad=...)`` of the capped logits ``x``, plus the
    z-loss, weighted and reduced; ``ignored(xp)`` the mask of ignored samples (no z-loss, left
    out of the "mean")."""
    z = check_z_loss(fn, z_loss)
    cap = check_softcap(fn, softcap)
    xp = array_namespace(logits, sample_weight)
    arr = check_float_array(fn, name, logits, xp)
    ax = check_axis(fn, axis, arr.ndim)
    cdt = compute_dtype(xp, arr.dtype)
    x = astype(xp, arr, cdt)
    with np.errstate(all="ignore"):
        t = None
        if cap is not None:
            t = xp.tanh(x / cap)
            x = cap * t
        res = core(x, reduction="none", need_grad=need_grad)
        loss, g = res.value, res.grad
        skip = None if ignored is None else ignored(xp)
        if z > 0:
            xl = move_last(xp, x, ax)
            m = xp.max(xl, axis=-1, keepdims=True)
            m = xp.where(xp.isfinite(m), m, 0.0)
            e = xp.exp(xl - m)
            s = xp.sum(e, axis=-1, keepdims=True)
            lse = m + xp.log(s)  # s >= 1: no cancellation inside the log
            zl = z * lse[..., 0] * lse[..., 0]
            if skip is not None:
                zl = xp.where(skip, 0.0, zl)
            loss = loss + zl
            if g is not None:
                zg = (2.0 * z) * lse * (e / s)
                if skip is not None:
                    zg = xp.where(skip[..., None], 0.0, zg)
                g = move_last(xp, g, ax) + zg
        elif g is not None:
            g = move_last(xp, g, ax)
        if g is not None and t is not None:
            g = g * (1.0 - move_last(xp, t, ax) ** 2)
        return reduce_loss(
            fn,
            xp,
            loss,
            g,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            valid=None if skip is None else xp.logical_not(skip),
            grad_axis=ax if g is not None else None,
        )
