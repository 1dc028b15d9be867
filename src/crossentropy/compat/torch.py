"""PyTorch conventions (``torch.nn.functional``), as its CPU kernels compute them.

Same names, signatures, argument order and defaults as ``torch.nn.functional`` (the deprecated
``size_average`` and ``reduce`` included, mapped to ``reduction`` as PyTorch maps them); NumPy
arrays in, NumPy arrays or NumPy scalars out. What PyTorch does that the exact functions of
:mod:`crossentropy` do not:

- the class dimension is 1 (``(N, C)``, ``(N, C, d1, ..., dk)``), or 0 for an unbatched ``(C,)``
  input; the exact functions put classes on the last axis;
- ``reduction="mean"`` with ``weight`` divides by the sum of the weights of the targets
  (``sum_i w[t_i] l_i / sum_i w[t_i]``) for class-index targets, but by the number of samples for
  probability targets; with every target ignored (``ignore_index``) the mean is ``0 / 0 = nan``,
  where the exact functions return 0;
- ``label_smoothing`` with ``weight`` weighs the smoothing term by every class's weight and, for
  the mean, divides it by the weights of the targets;
- ``binary_cross_entropy`` clamps each log at -100 (so ``p = 0`` for a positive costs 100, not
  ``inf``) and rejects inputs outside ``[0, 1]``;
- float32 inputs are computed in float32; the softmax losses compute
  ``log_softmax = (x - max) - log(sum(exp(x - max)))``, which cancels for a confident row.

Python lists become float32 (``torch.get_default_dtype()``). A class ``weight`` and the target of
``binary_cross_entropy`` given as arrays must have the input's dtype: PyTorch raises for another
dtype, and so does this module.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._validation import check_in_range, check_no_nan
from ._common import (
    FloatArray,
    as_float,
    as_labels,
    check_class_ids,
    check_scalar,
    errstate,
    exp,
    fmt_shape,
    log,
    log1p,
    out,
    reduction_error,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "linear_cross_entropy",
    "nll_loss",
]

_PFX = "torch.nn.functional."
_REDUCTIONS = ("none", "mean", "sum")


def _reduction(fn: str, size_average: Any, reduce: Any, reduction: Any) -> str:
    """``torch.nn._reduction``: the legacy pair wins when either is given."""
    if size_average is not None or reduce is not None:
        sa = True if size_average is None else bool(size_average)
        rd = True if reduce is None else bool(reduce)
        red = "mean" if sa and rd else ("sum" if rd else "none")
        warnings.warn(
            "size_average and reduce args will be deprecated, please use "
            f"reduction='{red}' instead.",
            UserWarning,
            stacklevel=3,
        )
        return red
    if reduction not in _REDUCTIONS:
        raise reduction_error(fn, reduction, _REDUCTIONS)
    return str(reduction)


def _reduce(loss: FloatArray, reduction: str) -> Any:
    """``apply_loss_reduction``: ``mean()`` (nan for an empty tensor), ``sum()`` or nothing."""
    with errstate():
        if reduction == "mean":
            return out(np.sum(loss) / loss.dtype.type(loss.size))
        if reduction == "sum":
            return out(np.sum(loss))
        return out(loss)


def _broadcast_weight(fn: str, name: str, w: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """An in-place multiplier of a tensor of ``shape``: must broadcast *to* ``shape``."""
    arr = as_labels(fn, name, w, dtype)
    try:
        ok = np.broadcast_shapes(arr.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{fn}: {name} must broadcast to the input's shape {fmt_shape(shape)}; "
            f"got {name}.shape={fmt_shape(arr.shape)}."
        )
    return arr


def _log_softmax_last(x: FloatArray) -> FloatArray:
    """``at::log_softmax`` (CPU): ``(x - max) - log(sum(exp(x - max)))`` along the last axis."""
    with errstate():
        shifted = x - np.max(x, axis=-1, keepdims=True)
        return np.asarray(shifted - log(np.sum(exp(shifted), axis=-1, keepdims=True)))


def _class_last(fn: str, x: FloatArray) -> tuple[FloatArray, int]:
    """Move the class dimension (1, or 0 for a 1-d input) last."""
    if x.ndim == 0:
        raise ValueError(
            f"{fn}: input must have shape (C,), (N, C) or (N, C, d1, ..., dk); got a 0-d array."
        )
    cdim = 0 if x.ndim == 1 else 1
    return (x if cdim == x.ndim - 1 else np.moveaxis(x, cdim, -1)), cdim


def _same_dtype(fn: str, name: str, value: Any, dtype: np.dtype[Any]) -> FloatArray:
    """A tensor argument that PyTorch requires in the input's dtype.

    PyTorch raises ``expected scalar type Float but found Double`` for a class ``weight`` (and
    ``Found dtype Double but expected Float`` for a ``binary_cross_entropy`` target) of another
    dtype; so does this. A Python list or scalar has no dtype of its own and takes the input's.
    """
    got = value.dtype if isinstance(value, (np.ndarray, np.generic)) else None
    if got is not None and got != dtype:
        raise TypeError(
            f"{fn}: {name} must have the input's dtype {dtype}, as PyTorch requires; got dtype "
            f"{got}. Convert it first, e.g. {name}.astype(np.{dtype})."
        )
    return as_labels(fn, name, value, dtype)


def _class_weight(fn: str, weight: Any, c: int, dtype: Any) -> FloatArray | None:
    if weight is None:
        return None
    w = as_labels(fn, "weight", weight, dtype)
    if w.shape != (c,):
        raise ValueError(
            f"{fn}: weight must have one entry per class, shape ({c},); "
            f"got weight.shape={fmt_shape(w.shape)}."
        )
    return _same_dtype(fn, "weight", weight, dtype)  # shape first, as PyTorch checks


def _index_target(fn: str, target: Any, xl: FloatArray) -> np.ndarray[Any, Any]:
    """Class-index targets of shape ``input.shape`` without the class dimension."""
    k = np.asarray(target)
    if k.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: target must have an integer dtype (class indices, torch.long); got dtype "
            f"{k.dtype}. For class probabilities pass a float target of the input's shape."
        )
    expected = xl.shape[:-1]
    if k.shape != expected:
        raise ValueError(
            f"{fn}: target must have the input's shape without the class dimension, "
            f"{fmt_shape(expected)}; got target.shape={fmt_shape(k.shape)}."
        )
    return k.astype(np.int64)


def _nll_last(
    fn: str,
    logp: FloatArray,
    k: np.ndarray[Any, Any],
    w: FloatArray | None,
    reduction: str,
    ignore_index: int,
) -> Any:
    """``nll_loss_nd`` on log-probabilities with the class axis last."""
    c = logp.shape[-1]
    valid = k != ignore_index
    check_class_ids(fn, "target", k, c, skip=ignore_index)
    kk = np.where(valid, k, 0)
    picked = np.take_along_axis(logp, kk[..., None], axis=-1)[..., 0]
    t = logp.dtype.type
    with errstate():
        wk = w[kk] if w is not None else np.ones_like(picked)
        terms = np.where(valid, -picked * wk, t(0)).astype(logp.dtype, copy=False)
        if reduction == "none":
            return out(terms)
        total = np.sum(terms)
        if reduction == "sum":
            return out(total)
        if terms.size == 0:
            return out(t(np.nan))
        denom = np.sum(np.where(valid, wk, t(0)).astype(logp.dtype, copy=False))
        return out(total / denom)  # 0 / 0 = nan when every target is ignored


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""``torch.nn.functional.nll_loss``: ``-input[n, target[n]]``, classes in dimension 1.

    Differs from the exact functions: takes log-probabilities, class dimension 1, and the
    weighted mean divides by the target weights (``nan`` when every target is ignored).

    .. math::

        \ell_n = -w_{t_n}\, x_{n, t_n},\qquad
        \text{mean} = \frac{\sum_n \ell_n}{\sum_{n: t_n \ne \text{ignore}} w_{t_n}}

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import torch
    >>> logp = log(np.array([[0.5, 0.5], [0.9, 0.1]], dtype=np.float32))
    >>> torch.nll_loss(logp, np.array([0, -100]))
    np.float32(0.6931472)
    """
    fn = _PFX + "nll_loss"
    x = as_float(fn, "input", input)
    red = _reduction(fn, size_average, reduce, reduction)
    xl, _ = _class_last(fn, x)
    w = _class_weight(fn, weight, xl.shape[-1], x.dtype)
    k = _index_target(fn, target, xl)
    return _nll_last(fn, xl, k, w, red, _ignore(fn, ignore_index))


def _ignore(fn: str, ignore_index: Any) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(
            f"{fn}: ignore_index must be an int; got {type(ignore_index).__name__} "
            f"{ignore_index!r}."
        )
    return int(ignore_index)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Any:
    r"""``torch.nn.functional.cross_entropy``: logits with classes in dimension 1.

    Differs from :func:`crossentropy.sparse_softmax_cross_entropy_with_logits`: class
    dimension 1; the weighted mean divides by the target weights (probability targets: by the
    number of samples); all targets ignored gives ``nan``; float32 is computed in float32.

    ``target`` holds class indices (integers, shape of ``input`` without dimension 1, entries
    equal to ``ignore_index`` skipped) or class probabilities (floats, the shape of ``input``).

    .. math::

        \ell_n = -\sum_c w_c\, q_{n,c} \log \operatorname{softmax}(x_n)_c,\quad
        q = (1 - s)\,\mathrm{onehot}(t) + s / C

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import torch
    >>> x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype=np.float32)
    >>> torch.cross_entropy(x, np.array([0, 1]))
    np.float32(0.3185397)
    >>> torch.cross_entropy(x, np.array([-100, -100]))
    np.float32(nan)
    """
    fn = _PFX + "cross_entropy"
    x = as_float(fn, "input", input)
    red = _reduction(fn, size_average, reduce, reduction)
    ls = check_scalar(fn, "label_smoothing", label_smoothing, lo=0.0, hi=1.0)
    ignore = _ignore(fn, ignore_index)
    xl, cdim = _class_last(fn, x)
    c = xl.shape[-1]
    w = _class_weight(fn, weight, c, x.dtype)
    logp = _log_softmax_last(xl)
    t = x.dtype.type
    tgt = np.asarray(target)
    if tgt.shape == x.shape:  # PyTorch's rule: same shape means class probabilities
        if tgt.dtype.kind != "f":
            raise TypeError(
                f"{fn}: target must have a floating dtype for class probabilities (it has the "
                f"input's shape {fmt_shape(x.shape)}); got dtype {tgt.dtype}."
            )
        if ignore >= 0:
            raise ValueError(
                f"{fn}: ignore_index must be negative with class-probability targets (it is "
                f"not supported for them); got {ignore}."
            )
        q = tgt.astype(x.dtype)
        q = q if cdim == q.ndim - 1 else np.moveaxis(q, cdim, -1)
        with errstate():
            if ls > 0:
                q = q * (1 - ls) + ls / c
            prod = logp * q if w is None else logp * q * w
            if red == "none":
                return out(-np.sum(prod, axis=-1))
            total = -np.sum(prod)
            if red == "sum":
                return out(total)
            n = x.size // c if c else 0
            return out(total / t(n) if n else t(np.nan))
    k = _index_target(fn, tgt, xl)
    nll = _nll_last(fn, logp, k, w, red, ignore)
    if ls == 0:
        return nll
    valid = k != ignore
    with errstate():
        smooth = -np.sum(logp if w is None else logp * w, axis=-1)
        smooth = np.where(valid, smooth, t(0)).astype(x.dtype, copy=False)
        if red == "mean":
            if w is not None:
                denom = np.sum(w[k[valid]], dtype=x.dtype)
            else:
                denom = t(np.count_nonzero(valid))
            ret = np.sum(smooth) / denom
        elif red == "sum":
            ret = np.sum(smooth)
        else:
            ret = smooth
        return out((1 - ls) * np.asarray(nll) + ret * (ls / c))


def binary_cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> Any:
    r"""``torch.nn.functional.binary_cross_entropy``: probabilities, each log clamped at -100.

    Differs from :func:`crossentropy.binary_crossentropy`: ``max(log p, -100)`` and
    ``max(log1p(-p), -100)`` (a loss is at most 100 per element), ``weight`` multiplies each
    element, the mean is over all elements; float32 is computed in float32.

    .. math::

        \ell = w\,\big[(y - 1)\max(\log(1 - p), -100) - y \max(\log p, -100)\big]

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import torch
    >>> torch.binary_cross_entropy(np.array([0.0, 0.5], dtype=np.float32),
    ...                            np.array([1.0, 1.0], dtype=np.float32), reduction="none")
    array([100.       ,   0.6931472], dtype=float32)
    """
    fn = _PFX + "binary_cross_entropy"
    p = as_float(fn, "input", input)
    y = as_labels(fn, "target", target, p.dtype)
    red = _reduction(fn, size_average, reduce, reduction)
    if y.shape != p.shape:
        raise ValueError(
            f"{fn}: target must have the input's shape; got target.shape={fmt_shape(y.shape)}, "
            f"input.shape={fmt_shape(p.shape)}."
        )
    y = _same_dtype(fn, "target", target, p.dtype)
    check_no_nan(fn, "input", p, np)
    check_in_range(
        fn,
        "input",
        p,
        np,
        0.0,
        1.0,
        remedy="If these are logits, use binary_cross_entropy_with_logits.",
    )
    with errstate():
        t = p.dtype.type
        lo = t(-100)
        loss = (y - 1) * np.maximum(log1p(-p), lo) - y * np.maximum(log(p), lo)
        if weight is not None:
            loss = loss * _broadcast_weight(fn, "weight", weight, p.shape, p.dtype)
    return _reduce(loss, red)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Any:
    r"""``torch.nn.functional.binary_cross_entropy_with_logits``.

    Differs from :func:`crossentropy.sigmoid_cross_entropy_with_logits`: computes
    ``(1 - y) x - log_sigmoid(x)`` in float32 for float32, whose terms cancel for a soft label
    and a large logit; ``weight`` and ``pos_weight`` broadcast to the input's shape.

    .. math::

        \ell = w\,\big[(1 - y)\,x - (1 + (q - 1) y)\log\sigma(x)\big],\quad
        \log\sigma(x) = \min(x, 0) - \log(1 + e^{-|x|})

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import torch
    >>> torch.binary_cross_entropy_with_logits(np.array([2.0, -1.0], dtype=np.float32),
    ...                                        np.array([1.0, 0.0], dtype=np.float32))
    np.float32(0.22009489)
    """
    fn = _PFX + "binary_cross_entropy_with_logits"
    x = as_float(fn, "input", input)
    y = as_labels(fn, "target", target, x.dtype)
    red = _reduction(fn, size_average, reduce, reduction)
    if y.shape != x.shape:
        raise ValueError(
            f"{fn}: target must have the input's shape; got target.shape={fmt_shape(y.shape)}, "
            f"input.shape={fmt_shape(x.shape)}."
        )
    with errstate():
        log_sig = np.minimum(x, 0) - log1p(exp(-np.abs(x)))
        if pos_weight is not None:
            q = _broadcast_weight(fn, "pos_weight", pos_weight, x.shape, x.dtype)
            log_sig = log_sig * ((q - 1) * y + 1)
        loss = (1 - y) * x - log_sig
        if weight is not None:
            loss = loss * _broadcast_weight(fn, "weight", weight, x.shape, x.dtype)
    return _reduce(loss, red)


#: Rows of logits per chunk in :func:`linear_cross_entropy`: about this many logits at a time.
_LINEAR_CHUNK = 1 << 21


def linear_cross_entropy(
    input: Any,
    linear_weight: Any,
    target: Any,
    *,
    linear_bias: Any = None,
    weight: Any = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: Any = None,
) -> Any:
    r"""``torch.nn.functional.linear_cross_entropy`` (PyTorch 2.13): ``cross_entropy`` of
    ``input @ linear_weight.T + linear_bias``, the logits formed a chunk of rows at a time.

    Differs from :func:`crossentropy.linear_cross_entropy` as :func:`cross_entropy` differs
    from the exact losses: float32 computed in float32, the weighted mean divided by the target
    weights, all targets ignored giving ``nan``, no z-loss or soft-capping. PyTorch's
    conventions: ``input`` is ``(D,)`` or ``(N, D)`` (more dimensions raise),
    ``linear_weight`` ``(C, D)``, ``target`` class indices ``(N,)`` or class probabilities
    ``(N, C)``; ``ignore_index=None`` means -100 for class indices; ``"mean"`` with a class
    ``weight`` divides by :math:`\sum_i w_{t_i}` over the targets not ignored (all ignored:
    ``nan``), with probability targets by ``N``; ``label_smoothing`` as in
    :func:`cross_entropy`. float32 is computed in float32 (the matmul is NumPy's BLAS, so
    results match PyTorch's to the float32 rounding of the logits). ``options``
    (``LinearCrossEntropyOptions``) only chooses PyTorch's algorithm and is accepted and
    ignored: the value does not depend on it. For the exact, memory-bounded loss with
    gradients, see :func:`crossentropy.linear_cross_entropy`.

    .. math::

        \ell_n = -\sum_c w_c\, q_{n,c} \log \operatorname{softmax}(W h_n + b)_c

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import torch
    >>> h = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> w = np.array([[2.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> torch.linear_cross_entropy(h, w, np.array([0, 1]))  # PyTorch: 0.15638882402809268
    np.float64(0.15638882402809268)
    """
    fn = _PFX + "linear_cross_entropy"
    del options  # PyTorch's choice of algorithm; the numbers do not depend on it
    x = as_float(fn, "input", input)
    if x.ndim not in (1, 2):
        raise ValueError(
            f"{fn}: input must have 1 or 2 dimensions, (D,) or (N, D), as PyTorch requires; "
            f"got input.shape={fmt_shape(x.shape)}."
        )
    wt = _same_dtype(fn, "linear_weight", linear_weight, x.dtype)
    if wt.ndim != 2 or wt.shape[1] != x.shape[-1]:
        raise ValueError(
            f"{fn}: linear_weight must have shape (C, {x.shape[-1]}) for input of shape "
            f"{fmt_shape(x.shape)}; got linear_weight.shape={fmt_shape(wt.shape)}."
        )
    c = wt.shape[0]
    bias = None
    if linear_bias is not None:
        bias = _same_dtype(fn, "linear_bias", linear_bias, x.dtype)
        if bias.shape != (c,):
            raise ValueError(
                f"{fn}: linear_bias must have shape ({c},); "
                f"got linear_bias.shape={fmt_shape(bias.shape)}."
            )
    red = _reduction(fn, None, None, reduction)
    ignore = -100 if ignore_index is None else _ignore(fn, ignore_index)
    w = _class_weight(fn, weight, c, x.dtype)
    tgt = np.asarray(target)
    rows = x.reshape(-1, x.shape[-1])
    probs = tgt.shape == x.shape[:-1] + (c,) and tgt.dtype.kind == "f"
    tg = tgt.reshape(rows.shape[0], c) if probs else tgt.reshape(-1)
    if not probs:
        _index_target(fn, tgt, np.empty(x.shape[:-1] + (0,), x.dtype))  # dtype and shape
    n = rows.shape[0]
    step = max(1, _LINEAR_CHUNK // max(c, 1))
    terms = np.empty(n, x.dtype)
    with errstate():
        for i0 in range(0, n, step):
            logits = rows[i0 : i0 + step] @ wt.T
            if bias is not None:
                logits = logits + bias
            terms[i0 : i0 + step] = cross_entropy(
                logits,
                tg[i0 : i0 + step],
                w,
                ignore_index=ignore,
                reduction="none",
                label_smoothing=label_smoothing,
            )
        if red == "none":
            return out(terms.reshape(x.shape[:-1]))
        total = np.sum(terms)
        if red == "sum":
            return out(total)
        t = x.dtype.type
        if probs or n == 0:
            return out(total / t(n) if n else t(np.nan))
        k = tg.astype(np.int64)
        valid = k != ignore
        wk = np.ones(n, x.dtype) if w is None else w[np.where(valid, k, 0)]
        denom = np.sum(np.where(valid, wk, t(0)).astype(x.dtype, copy=False))
        return out(total / denom)  # 0 / 0 = nan when every target is ignored
