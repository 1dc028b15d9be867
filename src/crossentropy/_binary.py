"""Binary cross-entropy: independent (multi-label) classes, from probabilities or logits."""

from __future__ import annotations

import functools
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from . import _kernels
from ._fp import SCALE, SCALE_EXP, SCALE_INV, TINY, mul0
from ._frameworks import dispatch
from ._namespace import array_namespace, astype, compute_dtype, to_output
from ._primitives import sigmoid_parts
from ._reduction import (
    LossResult,
    Tiny,
    kernel_scale,
    mean_total,
    mean_weights,
    reduce_loss,
    reduced,
    sample_weights,
)
from ._registry import register
from ._summation import accurate_sum
from ._validation import (
    check_axis,
    check_float_array,
    check_in_range,
    check_label_array,
    check_label_smoothing,
    check_no_nan,
    check_reduction,
    check_same_shape,
    check_weight,
    value_checks_first,
)

__all__ = [
    "binary_crossentropy",
    "sigmoid_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
]

PROB_REMEDY = "If these are logits, pass from_logits=True."


class Elementwise(NamedTuple):
    """Validated element-wise inputs in the compute dtype."""

    xp: Any
    y: Any  # labels, compute dtype
    x: Any  # predictions (probabilities or logits), compute dtype
    dtype: Any  # the predictions' dtype: the output dtype
    pos_weight: Any | None  # compute dtype, broadcastable along the last axis


def prepare_elementwise(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool,
    validate: bool,
    pos_weight: Any = None,
    extra: tuple[Any, ...] = (),
    names: tuple[str, str] = ("y_true", "y_pred"),
    label_range: tuple[float, float] | None = (0.0, 1.0),
) -> Elementwise:
    """Checks shared by the element-wise losses (binary, focal, squared error)."""
    t_name, p_name = names
    xp = array_namespace(y_true, y_pred, pos_weight, *extra)
    arr = check_float_array(fn, p_name, y_pred, xp)
    lab = check_label_array(fn, t_name, y_true, xp)
    check_same_shape(fn, t_name, lab, p_name, arr)
    if validate:
        check_no_nan(fn, t_name, lab, xp)
        check_no_nan(fn, p_name, arr, xp)
        if label_range is not None:
            check_in_range(fn, t_name, lab, xp, *label_range)
        if not from_logits:
            check_in_range(fn, p_name, arr, xp, 0.0, 1.0, remedy=PROB_REMEDY)
    cdt = compute_dtype(xp, arr.dtype)
    pw = None
    if pos_weight is not None:
        c = arr.shape[-1] if arr.ndim else 1
        pw = check_weight(fn, "pos_weight", pos_weight, xp, ((), (c,)))
        pw = astype(xp, pw, cdt)
    return Elementwise(xp, astype(xp, lab, cdt), astype(xp, arr, cdt), arr.dtype, pw)


def sigmoid_xent_core(
    xp: Any, y: Any, x: Any, pw: Any | None, need_grad: bool, ny: Any = None
) -> tuple[Any, Any]:
    r"""Element-wise :math:`w\,y\,\operatorname{softplus}(-x) + (1-y)\operatorname{softplus}(x)`.

    Derivative: :math:`(1 - y)\,\sigma(x) - w\,y\,\sigma(-x)`. One exp per element. ``ny`` is
    ``1 - y`` when the caller has it without cancellation (see :func:`smooth_binary_pair`).
    """
    sp_pos, sp_neg, sig_pos, sig_neg = sigmoid_parts(xp, x)
    wy = y if pw is None else y * pw
    ny = 1.0 - y if ny is None else ny
    pos_term = mul0(xp, wy, sp_neg)
    g_pos = wy * sig_neg if need_grad else None
    if pw is not None:
        pos_term, g_pos = _weighted_tail(xp, x, wy, pos_term, g_pos)
    loss = pos_term + mul0(xp, ny, sp_pos)
    grad = ny * sig_pos - g_pos if need_grad else None
    return loss, grad


def _weighted_tail(xp: Any, x: Any, wy: Any, term: Any, g_term: Any) -> tuple[Any, Any]:
    """``w y softplus(-x)`` and ``w y sigma(-x)`` for ``x > 700``, where both are ``w y e^-x``.

    There ``e^-x`` is (nearly) subnormal, rounded to an absolute 2**-1075, and a weight
    ``w y > 1`` multiplies that error: ``pos_weight=100`` at ``x = 745`` was 43 ulp off. The
    product is formed on ``e^(600 - x)`` and scaled back once.
    """
    far = xp.logical_and(x > 700.0, wy > 1.0)
    if not bool(xp.any(far)):
        return term, g_term
    tail = (wy * xp.exp(xp.where(far, SCALE_EXP - x, 0.0))) * SCALE_INV
    term = xp.where(far, tail, term)
    return term, (None if g_term is None else xp.where(far, tail, g_term))


def sigmoid_tiny(xp: Any, y: Any, x: Any, pw: Any | None, ny: Any = None) -> Any:
    r"""Element-wise losses and gradient entries below the normal range (float64), times e^600.

    For :math:`|x| > 700` the term on :math:`e^{-|x|}` (:math:`w y\,e^{-x}` for :math:`x > 0`,
    :math:`(1 - y)\,e^{x}` for :math:`x < 0`) is (nearly) subnormal; where the other term has no
    weight (a hard label) it is the whole loss, and the gradient. Returns
    ``(mask, scaled loss, scaled gradient)``, or None where no element is such.
    """
    wy = y if pw is None else y * pw
    ny = 1.0 - y if ny is None else ny
    pos = x > 700.0
    mask = xp.logical_or(xp.logical_and(pos, ny == 0), xp.logical_and(x < -700.0, wy == 0))
    if not bool(xp.any(mask)):
        return None
    es = xp.exp(SCALE_EXP - xp.abs(x))  # e^600 e^-|x|; at most e^600
    loss_s = xp.where(pos, wy * es, ny * es)
    return mask, loss_s, xp.where(pos, -loss_s, loss_s)


def _weight_gain(xp: Any, pw: Any | None) -> float:
    return 1.0 if pw is None or not pw.ndim or not pw.shape[0] else max(1.0, float(xp.max(pw)))


def binary_prob_core(
    xp: Any, y: Any, p: Any, pw: Any | None, need_grad: bool, ny: Any = None
) -> tuple[Any, Any]:
    r"""Element-wise :math:`-w\,y \log p - (1 - y)\operatorname{log1p}(-p)`.

    Derivative: :math:`-w\,y / p + (1 - y) / (1 - p)`, each term 0 where its weight is 0.
    """
    wy = y if pw is None else y * pw
    ny = 1.0 - y if ny is None else ny
    p = p + 0.0  # -0.0 is probability 0: +0.0, so that 1 / p is +inf
    loss = mul0(xp, wy, -xp.log(p)) + mul0(xp, ny, -xp.log1p(-p))
    grad = None
    if need_grad:
        grad = xp.where(ny == 0, 0.0, ny / (1.0 - p)) - xp.where(wy == 0, 0.0, wy / p)
    return loss, grad


def mean_over_axis(
    fn: str, xp: Any, loss: Any, grad: Any | None, axis: Any, *, exact: bool
) -> tuple[Any, Any, int]:
    """Average element-wise losses over ``axis``; the gradient is divided by its length.

    Returns the per-sample loss, the element-wise gradient moved to the last axis, and the axis.
    """
    ax = check_axis(fn, axis, loss.ndim)
    n = loss.shape[ax]
    if n == 0:
        raise ValueError(f"{fn}: the predictions must have at least one element along axis {ax}.")
    per_sample = accurate_sum(xp, loss, ax, exact=exact) / n
    if grad is not None:
        grad = grad / n
        if ax != grad.ndim - 1:
            grad = xp.moveaxis(grad, ax, -1)
    return per_sample, grad, ax


def smooth_binary_pair(y: Any, label_smoothing: float) -> tuple[Any, Any]:
    """Smoothed labels :math:`y (1 - s) + s/2` and their complement :math:`(1 - y)(1 - s) + s/2`.

    The complement is a sum of non-negative terms: ``1 - y'`` would cancel (for ``y = 1``,
    ``s = 0.1``: ``1 - 0.95`` keeps the rounding error of 0.95, ~12 ulp of 0.05).
    """
    if label_smoothing == 0:
        return y, 1.0 - y
    keep, half = 1.0 - label_smoothing, 0.5 * label_smoothing
    return y * keep + half, (1.0 - y) * keep + half


@dispatch
def _binary(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    pos_weight: Any = None,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
    out: np.ndarray | None = None,
) -> LossResult:
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    if not from_logits and _kernels.applies(y_pred):  # NumPy float probabilities
        opts = _Options(pos_weight, sample_weight, reduction, validate, need_grad, out)
        fast = _binary_fast(fn, y_true, y_pred, ls, axis, opts)
        if fast is not None:
            return fast
    ew = prepare_elementwise(
        fn,
        y_true,
        y_pred,
        from_logits=from_logits,
        validate=validate,
        pos_weight=pos_weight,
        extra=(sample_weight,),
    )
    xp = ew.xp
    y, ny = smooth_binary_pair(ew.y, ls)
    exact = ew.x.dtype == ew.dtype
    with np.errstate(all="ignore"):
        core = sigmoid_xent_core if from_logits else binary_prob_core
        loss_e, grad = core(xp, y, ew.x, ew.pos_weight, need_grad, ny)
        loss, grad, ax = mean_over_axis(fn, xp, loss_e, grad, axis, exact=exact)
        tiny = None
        if from_logits and exact:  # float64: tiny terms go to the reduction scaled
            tiny = _mean_tiny(xp, ew, y, ny, loss_e, loss, ax)
        return reduce_loss(
            fn,
            xp,
            loss,
            grad,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=ew.dtype,
            grad_axis=ax,
            tiny=tiny,
        )


def _mean_tiny(xp: Any, ew: Elementwise, y: Any, ny: Any, loss_e: Any, loss: Any, ax: int) -> Tiny:
    """:class:`Tiny` for the mean over ``ax`` of element-wise sigmoid cross-entropies."""
    n = loss_e.shape[ax]
    parts = functools.cache(lambda: sigmoid_tiny(xp, y, ew.x, ew.pos_weight, ny))

    def loss_parts() -> Any:
        mask = loss < TINY  # the per-sample means that are (nearly) subnormal
        got = parts() if bool(xp.any(mask)) else None
        if got is None:
            return None
        scaled = xp.where(got[0], got[1], loss_e * SCALE)  # loss_e * SCALE: below 2**-1000 n
        return mask, accurate_sum(xp, scaled, ax, exact=True) / n

    def grad_parts() -> Any:
        got = parts()
        if got is None:
            return None
        mask, gs = got[0], got[2] / n
        if ax != gs.ndim - 1:
            mask, gs = xp.moveaxis(mask, ax, -1), xp.moveaxis(gs, ax, -1)
        return mask, gs

    return Tiny(_weight_gain(xp, ew.pos_weight), loss_parts, grad_parts)


@dispatch
def _sigmoid(
    fn: str,
    labels: Any,
    logits: Any,
    pos_weight: Any = None,
    *,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
    out: np.ndarray | None = None,
) -> LossResult:
    reduction = check_reduction(fn, reduction)
    if _kernels.applies(logits):  # NumPy float logits
        opts = _Options(pos_weight, sample_weight, reduction, validate, need_grad, out)
        fast = _sigmoid_fast(fn, labels, logits, opts)
        if fast is not None:
            return fast
    ew = prepare_elementwise(
        fn,
        labels,
        logits,
        from_logits=True,
        validate=validate,
        pos_weight=pos_weight,
        extra=(sample_weight,),
        names=("labels", "logits"),
    )
    xp = ew.xp
    tiny = None
    with np.errstate(all="ignore"):
        loss, grad = sigmoid_xent_core(xp, ew.y, ew.x, ew.pos_weight, need_grad)
        if ew.x.dtype == ew.dtype:  # float64: tiny terms go to the reduction scaled
            parts = functools.cache(lambda: sigmoid_tiny(xp, ew.y, ew.x, ew.pos_weight))

            def loss_parts() -> Any:
                got = parts()
                return None if got is None else (got[0], got[1])

            def grad_parts() -> Any:
                got = parts()
                return None if got is None else (got[0], got[2])

            tiny = Tiny(_weight_gain(xp, ew.pos_weight), loss_parts, grad_parts)
        return reduce_loss(
            fn,
            xp,
            loss,
            grad,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=ew.dtype,
            tiny=tiny,
        )


# --------------------------------------------------------------------------------------------
# The fused kernels (NumPy float32/float64 predictions, class axis last): validate, run the
# kernel, raise for the rows it reports, reduce. The gradient is formed in the kernel.


class _Options(NamedTuple):
    """The options a fast path passes on (``reduction`` already checked)."""

    pos_weight: Any
    sample_weight: Any
    reduction: str
    validate: bool
    need_grad: bool
    out: np.ndarray | None


def _kernel_inputs(
    fn: str, y_true: Any, y_pred: np.ndarray, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(x rows, y rows)`` for an element-wise kernel, after the shape checks of
    :func:`prepare_elementwise`; None for labels of a dtype the kernels do not take."""
    t_name, p_name = names
    lab = np.asarray(check_label_array(fn, t_name, y_true, np))
    check_same_shape(fn, t_name, lab, p_name, y_pred)
    lab_k = _kernels.kernel_labels(lab, y_pred.dtype)
    if lab_k is None:
        return None
    return _kernels.rows(y_pred, y_pred.ndim - 1), _kernels.rows(lab_k, y_pred.ndim - 1)


def _kernel_pos_weight(fn: str, pos_weight: Any, c: int) -> np.ndarray:
    """``pos_weight`` checked as :func:`prepare_elementwise` does, float64 of shape ``(C,)``."""
    if pos_weight is None:
        return np.ones(c)
    pw = np.asarray(check_weight(fn, "pos_weight", pos_weight, np, ((), (c,))), np.float64)
    return np.ascontiguousarray(np.broadcast_to(pw, (c,)))


def _reported(fn: str, kernel: str) -> AssertionError:
    return AssertionError(f"{fn}: the {kernel} kernel reported a row that the checks accept")


def _binary_fast(
    fn: str, y_true: Any, y_pred: np.ndarray, ls: float, axis: Any, o: _Options
) -> LossResult | None:
    """:func:`_binary` from probabilities on the kernels; None where they do not apply (labels
    of another dtype, ``axis`` not the last, no element along it)."""
    got = _kernel_inputs(fn, y_true, y_pred, ("y_true", "y_pred"))
    if got is None:
        return None
    x, y = got

    def values() -> None:
        prepare_elementwise(
            fn, y_true, y_pred, from_logits=False, validate=True, pos_weight=o.pos_weight
        )

    with value_checks_first(values if o.validate else None):
        pw = _kernel_pos_weight(fn, o.pos_weight, y_pred.shape[-1])
        if check_axis(fn, axis, y_pred.ndim) != y_pred.ndim - 1 or x.shape[1] == 0:
            return None
        loss_shape = y_pred.shape[:-1]
        w = sample_weights(fn, np, o.sample_weight, loss_shape, np.float64)
    if o.validate and o.out is not None and np.may_share_memory(o.out, y_pred):
        values()  # in place: an error must show the user's value, not a gradient written over it
    keep, add = (1.0, 0.0) if ls == 0 else (1.0 - ls, 0.5 * ls)
    sc = kernel_scale(w, loss_shape, o.reduction, True) if o.need_grad else np.ones(x.shape[0])
    target, copy_to = (
        _kernels.grad_target(y_pred, y_pred.ndim - 1, x, o.out) if o.need_grad else (None, None)
    )
    loss, status = _kernels.binary_probs(x, y, pw, keep, add, sc, target, check=o.validate)
    if status.any():  # only with validate: NaN, or a label or probability outside [0, 1]
        values()
        raise _reported(fn, "binary_probs")
    result = reduce_loss(
        fn,
        np,
        loss.reshape(loss_shape),
        None,
        weights=w,
        reduction=o.reduction,
        out_dtype=y_pred.dtype,
    )
    g = None if target is None else _kernels.grad_result(target, y_pred, y_pred.ndim - 1, copy_to)
    return LossResult(result.value, g)


def _sigmoid_fast(fn: str, labels: Any, logits: np.ndarray, o: _Options) -> LossResult | None:
    """:func:`_sigmoid` on the kernel; None for labels of a dtype the kernels do not take.

    The kernel sums each row's weighted values (compensated) for "sum" and "mean": the
    per-element values are not stored; the rows' sums are added here in double-double.
    """
    names = ("labels", "logits")
    got = _kernel_inputs(fn, labels, logits, names)
    if got is None:
        return None
    x, y = got

    def values() -> None:
        prepare_elementwise(
            fn,
            labels,
            logits,
            from_logits=True,
            validate=True,
            pos_weight=o.pos_weight,
            names=names,
        )

    with value_checks_first(values if o.validate else None):
        pw = _kernel_pos_weight(fn, o.pos_weight, logits.shape[-1])
        w = None
        if o.sample_weight is not None:
            w = check_weight(fn, "sample_weight", o.sample_weight, np, (logits.shape, ()))
            w = np.asarray(w, np.float64)
    if o.validate and o.out is not None and np.may_share_memory(o.out, logits):
        values()  # in place: an error must show the user's value (see _binary_fast)
    total = None
    gdiv = 1.0
    if o.reduction == "mean":
        w = mean_weights(np, w)  # as reduce_loss does: no overflow, equal weights exactly 1
        total = mean_total(
            np, None if w is None else np.broadcast_to(w, logits.shape), logits.shape, exact=True
        )
        gdiv = total if total > 0 else np.inf
    target, copy_to = (
        _kernels.grad_target(logits, logits.ndim - 1, x, o.out) if o.need_grad else (None, None)
    )
    per_element = o.reduction == "none"
    val, rowsum, status = _kernels.sigmoid_xent(
        x, y, pw, w, gdiv, target, per_element=per_element, check=o.validate
    )
    if status.any():  # only with validate: a NaN logit or a label outside [0, 1]
        values()
        raise _reported(fn, "sigmoid_xent")
    if per_element:
        value = to_output(np, val.reshape(logits.shape), logits.dtype)
    else:
        with np.errstate(all="ignore"):
            s = reduced(np, accurate_sum(np, rowsum.reshape(-1), exact=True), total, np.float64)
        value = to_output(np, np.asarray(s), logits.dtype)
    g = None if target is None else _kernels.grad_result(target, logits, logits.ndim - 1, copy_to)
    return LossResult(value, g)


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    pos_weight: Any = None,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Binary cross-entropy of independent labels, averaged over ``axis`` (Keras semantics).

    .. math::

        \ell = \frac{1}{n} \sum_{i=1}^{n} \big[-w\,y'_i \log p_i - (1 - y'_i)
               \operatorname{log1p}(-p_i)\big], \qquad y' = (1 - s)\,y + s/2

    over the ``n`` elements along ``axis``, with :math:`w` = ``pos_weight``. With
    ``from_logits=True`` the terms are :math:`w\,y' \operatorname{softplus}(-x)
    + (1 - y')\operatorname{softplus}(x)`, both non-negative. No epsilon, no clipping: ``p = 0``
    for a positive label is ``+inf``, ``p = 1`` with label 1 is exactly 0, and ``0 log 0 = 0``.

    Gradient with respect to ``y_pred``: :math:`\frac{1}{n}[-w y'/p + (1 - y')/(1 - p)]`, or
    :math:`\frac{1}{n}[(1 - y')\sigma(x) - w\,y'\sigma(-x)]` for logits.

    Each label is independent, so this suits multi-label problems (an image may be "person" and
    "man" at once); use :func:`categorical_crossentropy` when exactly one class is true.

    Parameters
    ----------
    y_true : array_like
        Labels in [0, 1] (soft labels allowed), the shape of ``y_pred``.
    y_pred : array_like
        Probabilities in [0, 1] or, with ``from_logits=True``, logits.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits.
    label_smoothing : float in [0, 1], default 0
        Pull the labels toward 0.5: :math:`y' = (1 - s) y + s / 2`.
    pos_weight : float or array_like of shape (C,), optional
        Weight of the positive term, per class along the last axis (trades recall for precision).
    axis : int, default -1
        The axis averaged over (the label axis). A 1-d input gives a 0-d result per call.
    sample_weight : array_like, optional
        Per-sample weights, of the output's shape (or a scalar).
    reduction : {"none", "mean", "sum"}, default "none"
        "mean" is :math:`\sum_i w_i \ell_i / \sum_i w_i` (0.0 for zero total weight).
    validate : bool, default True
        Check values (NaN, ranges); shapes and dtypes are always checked.

    Returns
    -------
    ndarray or numpy scalar
        ``y_pred``'s shape without ``axis``; a 0-d NumPy scalar of ``y_pred``'s dtype when reduced.

    Raises
    ------
    ValueError
        Shapes differ (no silent broadcasting), probabilities outside [0, 1] (the message suggests
        ``from_logits=True``), labels outside [0, 1], NaN, negative weights, bad options.
    TypeError
        Integer predictions.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.binary_crossentropy([[0.0, 1, 0, 1]], [[0.5, 0.8, 0.3, 0.5]])
    array([0.49152821])
    >>> float(ce.binary_crossentropy([[1, 0, 1, 1, 0, 1, 0, 0]],
    ...                              [[0.8, 0.2, 0.95, 0.92, 0.01, 0.93, 0.1, 0.02]],
    ...                              reduction="mean"))
    0.09864328220233795
    """
    return _binary(
        "binary_crossentropy",
        y_true,
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        pos_weight=pos_weight,
        axis=axis,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


def sigmoid_cross_entropy_with_logits(
    labels: Any,
    logits: Any,
    *,
    pos_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Element-wise sigmoid cross-entropy from logits (TensorFlow's name).

    .. math::

        \ell = w\,z \operatorname{softplus}(-x) + (1 - z)\operatorname{softplus}(x),
        \qquad \operatorname{softplus}(x) = \max(x, 0) + \operatorname{log1p}(e^{-|x|})

    for labels :math:`z` and logits :math:`x`: TensorFlow's
    ``max(x, 0) - x z + log(1 + exp(-|x|))`` rearranged into non-negative terms, so a
    confidently correct logit keeps its relative accuracy. ``+inf`` with label 1 gives 0, the
    wrong sign gives ``+inf``. Gradient: :math:`(1 - z)\sigma(x) - w\,z\,\sigma(-x)`.

    Parameters
    ----------
    labels : array_like
        Labels in [0, 1], the shape of ``logits``.
    logits : array_like
        Real logits.
    pos_weight : float or array_like of shape (C,), optional
        Weight :math:`w` of the positive term, per class along the last axis.
    sample_weight, reduction, validate
        As in :func:`binary_crossentropy`; the per-sample output is element-wise.

    Returns
    -------
    ndarray or numpy scalar
        ``logits``' shape, or a 0-d scalar when reduced.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.sigmoid_cross_entropy_with_logits([1.0, 0.0, 1.0], [40.0, -3.0, -2.0])
    array([4.24835426e-18, 4.85873516e-02, 2.12692801e+00])
    """
    return _sigmoid(
        "sigmoid_cross_entropy_with_logits",
        labels,
        logits,
        pos_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


def weighted_cross_entropy_with_logits(
    labels: Any,
    logits: Any,
    pos_weight: Any,
    *,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Sigmoid cross-entropy with the positive term weighted (TensorFlow's name).

    .. math::

        \ell = w\,z \operatorname{softplus}(-x) + (1 - z)\operatorname{softplus}(x)

    :func:`sigmoid_cross_entropy_with_logits` with ``pos_weight`` required: ``w > 1`` raises
    recall, ``w < 1`` raises precision. Gradient: :math:`(1 - z)\sigma(x) - w\,z\,\sigma(-x)`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.weighted_cross_entropy_with_logits([1.0, 0.0], [0.0, 0.0], 2.0)
    array([1.38629436, 0.69314718])
    """
    return _sigmoid(
        "weighted_cross_entropy_with_logits",
        labels,
        logits,
        pos_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


register(binary_crossentropy, partial(_binary, "binary_crossentropy"), "y_pred")
register(
    sigmoid_cross_entropy_with_logits,
    partial(_sigmoid, "sigmoid_cross_entropy_with_logits"),
    "logits",
)
register(
    weighted_cross_entropy_with_logits,
    partial(_sigmoid, "weighted_cross_entropy_with_logits"),
    "logits",
)
