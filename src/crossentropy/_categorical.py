"""Categorical cross-entropy: one true class per sample (or a distribution over classes).

Cores work on the class axis moved last, in the compute dtype, on validated input. Each returns
the per-sample loss and, when asked, the derivative of each sample's loss with respect to its
predictions, computed from the same max, exponentials and normaliser as the loss.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from . import _kernels
from ._fp import SCALE_INV, TINY, mul0, two_prod
from ._frameworks import dispatch
from ._kernels import RowStatus, Targets
from ._namespace import array_namespace, astype, compute_dtype, device, is_numpy, move_last
from ._primitives import Shifted, normaliser_dd, scaled_exps, shift_exp
from ._reduction import LossResult, Tiny, kernel_scale, reduce_loss, sample_weights
from ._registry import register
from ._softcap import with_z_softcap
from ._summation import accurate_sum, dd_sum
from ._validation import (
    check_axis,
    check_float_array,
    check_ignore_index,
    check_in_range,
    check_label_array,
    check_label_smoothing,
    check_logit_rows,
    check_no_nan,
    check_reduction,
    check_same_shape,
    check_simplex_rows,
    check_sparse_labels,
    check_weight,
    simplex_tolerance,
    value_checks_first,
)

__all__ = [
    "categorical_crossentropy",
    "softmax_cross_entropy_with_logits",
    "sparse_categorical_crossentropy",
    "sparse_softmax_cross_entropy_with_logits",
]

_PROB_REMEDY = "If these are logits, pass from_logits=True."


# --------------------------------------------------------------------------------------------
# Cores (valid input, class axis last, compute dtype)


def softmax_grad(xp: Any, sh: Shifted, a: Any) -> Any:
    r"""Gradient of :math:`\sum_c a_c (-\log \operatorname{softmax}(x)_c)`: :math:`A p_j - a_j`.

    With :math:`A = \sum_c a_c`. The argmax entry, where :math:`p` is near 1, is computed without
    cancellation: :math:`\sum_{c \ne j^*} a_c - A\,S/(1+S)` when :math:`S < 1` (so a confident,
    correct prediction gets :math:`-S/(1+S)`, e.g. -4.12e-9 for logits [20, 0, 0], not 0), and
    :math:`A/(1+S) - a_{j^*}` otherwise.
    """
    a_rest = xp.sum(xp.where(sh.is_arg, 0.0, a), axis=-1, keepdims=True)
    a_arg = xp.sum(xp.where(sh.is_arg, a, 0.0), axis=-1, keepdims=True)
    total = a_rest + a_arg
    denom = 1.0 + sh.s
    g = total * sh.e / denom - a
    g_arg = xp.where(sh.s < 1.0, a_rest - total * sh.s / denom, total / denom - a_arg)
    return xp.where(sh.is_arg, g_arg, g)


def softmax_grad_dd(xp: Any, x: Any, sh: Shifted, a: Any, parts: Any = None) -> Any:
    r""":func:`softmax_grad` from double-double pieces, for float64 soft targets.

    With soft targets :math:`A p_j - a_j` cancels near the optimum, multiplying the error of
    :math:`A p_j` by the condition number :math:`\kappa`; here that error is ~0.3 ulp instead
    of ~3.5: :math:`e_j` and :math:`S` come from :func:`normaliser_dd` (or ``parts``, its
    result), :math:`A` is a double-double sum, :math:`p_j = e_j / (1 + S)` carries its remainder
    and :math:`A p_j` is an exact product, so only the final rounding remains. The maximum's
    entry is :math:`a_{\text{rest}}\,p - a_{j^*}(1 - p)` with :math:`1 - p = S / (1 + S)`.
    """
    s_hi, s_lo, e_hi, e_lo = normaliser_dd(xp, x, sh) if parts is None else parts
    z = 1.0 + s_hi
    z_lo = xp.where(s_hi <= 1.0, s_hi - (z - 1.0), 1.0 - (z - s_hi)) + s_lo
    a_hi, a_lo = dd_sum(xp, a, -1)
    a_hi = a_hi[..., None]
    a_lo = 0.0 * a_hi if a_lo is None else a_lo[..., None]
    p = e_hi / z
    pz, pz_lo = two_prod(p, z)
    p_lo = ((e_hi - pz) - pz_lo + e_lo - p * z_lo) / z
    big, big_lo = two_prod(a_hi, p)
    g = (big - a) + (big_lo + a_hi * p_lo + a_lo * p)
    # The maximum (one entry per row): a_rest p - a_max q, p = 1 / (1 + S), q = S / (1 + S).
    a_max = xp.sum(xp.where(sh.is_arg, a, 0.0), axis=-1, keepdims=True)
    a_rest = (a_hi - a_max) + a_lo
    pm = 1.0 / z
    pmz, pmz_lo = two_prod(pm, z)
    pm_lo = pm * (((1.0 - pmz) - pmz_lo) - pm * z_lo)
    q = s_hi / z
    qz, qz_lo = two_prod(q, z)
    q_lo = ((s_hi - qz) - qz_lo + s_lo - q * z_lo) / z
    r1, r1_lo = two_prod(a_rest, pm)
    r2, r2_lo = two_prod(a_max, q)
    g_max = (r1 - r2) + ((r1_lo - r2_lo) + a_rest * pm_lo - a_max * q_lo)
    g = xp.where(sh.is_arg, g_max, g)
    return xp.where(xp.isfinite(g), g, softmax_grad(xp, sh, a))


def softmax_tiny(xp: Any, x: Any, a: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    r"""Losses and gradient entries of float64 rows that are (nearly) subnormal, times e^600.

    ``x``: logits, class axis last; ``a``: the dense targets (class weights included). The loss
    :math:`\sum_c a_c (m - x_c) + A \operatorname{log1p}(S)` is tiny where its first sum is 0 and
    :math:`S < 2^{-1000}`: there it is :math:`A S`, and :math:`e^{600} S` comes from the scaled
    exponentials :math:`e^{600 + x_j - m}`. A gradient entry :math:`A p_j - a_j` is tiny where
    :math:`a_j = 0` and :math:`x_j - m < -700` (:math:`A e^{x_j - m} / (1 + S)`), and at the
    maximum where :math:`S` is tiny and only the maximum has target mass (:math:`-A S`).
    Returns ``((loss mask, scaled loss), (gradient mask, scaled gradient))``.
    """
    diff, is_arg, es, ss = scaled_exps(xp, x)
    s = ss * SCALE_INV
    total = xp.sum(a, axis=-1, keepdims=True)
    a_rest = xp.sum(xp.where(is_arg, 0.0, a), axis=-1, keepdims=True)
    tiny_s = s < TINY
    nll_part = xp.sum(mul0(xp, a, -diff), axis=-1, keepdims=True)  # 0 or far above TINY
    loss_mask = xp.logical_and(tiny_s, nll_part == 0)[..., 0]
    loss_s = (total * ss)[..., 0]  # A log1p(S) = A S to within S**2 / 2
    denom = 1.0 + s
    grad_s = xp.where(is_arg, -(total * ss) / denom, total * es / denom)
    grad_mask = xp.where(
        is_arg,
        xp.logical_and(tiny_s, a_rest == 0),
        xp.logical_and(a == 0, diff < -700.0),
    )
    return (loss_mask, loss_s), (grad_mask, grad_s)


def softmax_tiny_parts(xp: Any, x: Any, loss: Any, targets: Any, gain: float) -> Tiny:
    """:class:`Tiny` for a softmax loss on float64 logits ``x`` (class axis last).

    ``targets()`` gives the dense targets; nothing is computed unless :func:`reduce_loss` asks,
    and then once for the loss and the gradient together.
    """
    parts = functools.cache(lambda: softmax_tiny(xp, x, targets()))

    def loss_parts() -> Any:
        if not bool(xp.any(loss < TINY)):  # a tiny loss is below TINY, rounded
            return None
        return parts()[0]

    def grad_parts() -> Any:
        m = xp.max(x, axis=-1, keepdims=True)
        if not bool(xp.any(xp.logical_and(x < m - 690.0, x > m - 1500.0))):
            return None  # no exponential in the range that a finite weight can lift
        return parts()[1]

    return Tiny(gain, loss_parts, grad_parts)


def _cw_gain(xp: Any, cw: Any | None) -> float:
    """The largest class weight, at least 1: the most a target mass can multiply a term."""
    if cw is None or not cw.shape[0]:
        return 1.0
    return max(1.0, float(xp.max(cw)))


def _is_soft(xp: Any, a: Any) -> bool:
    """Whether some row of targets has more than one nonzero entry (soft or smoothed labels)."""
    if is_numpy(xp):
        return bool(np.any(np.count_nonzero(a, axis=-1) > 1))
    return bool(xp.any(xp.sum(astype(xp, a != 0, a.dtype), axis=-1) > 1))


def _dense_logits(xp: Any, x: Any, a: Any, exact: bool, need_grad: bool) -> tuple[Any, Any]:
    r""":math:`\ell = \sum_c a_c[(m - x_c) + \operatorname{log1p}(S)]`, non-negative terms."""
    sh = shift_exp(xp, x, exact_shift=exact)
    nll = sh.neg_log_softmax()
    terms = mul0(xp, a, nll)
    far = xp.logical_and(xp.isinf(nll), xp.isfinite(x))
    if bool(xp.any(far)):  # m - x_j overflows, a_j (m - x_j) may not: exact halves, as in
        m = xp.max(x, axis=-1, keepdims=True)  # _sparse_loss
        terms = xp.where(xp.logical_and(far, a != 0), (2.0 * a) * (0.5 * m - 0.5 * x), terms)
    loss = accurate_sum(xp, terms, -1, exact=exact)
    if not need_grad:
        return loss, None
    if exact and _is_soft(xp, a):
        return loss, softmax_grad_dd(xp, x, sh, a)
    return loss, softmax_grad(xp, sh, a)


def _dense_probs(xp: Any, p: Any, a: Any, exact: bool, need_grad: bool) -> tuple[Any, Any]:
    r""":math:`\ell = -\sum_c a_c \log p_c`; :math:`\partial \ell / \partial p_c = -a_c / p_c`."""
    loss = accurate_sum(xp, mul0(xp, a, -xp.log(p)), -1, exact=exact)
    # p + 0.0: -0.0 is probability 0, whose 1 / p is +inf
    grad = xp.where(a == 0, 0.0, -a / (p + 0.0)) if need_grad else None
    return loss, grad


def _one_hot(xp: Any, k: Any, c: int, like: Any) -> Any:
    ar = xp.arange(c) if is_numpy(xp) else xp.arange(c, device=device(like))
    return ar == k[..., None]


def _gather(xp: Any, v: Any, k: Any, hot: Any | None) -> Any:
    """``v[..., k]`` for each row (exact: one term survives)."""
    if is_numpy(xp):
        return np.take_along_axis(v, k[..., None], axis=-1)[..., 0]
    return xp.sum(xp.where(hot, v, 0.0), axis=-1)


def _sparse_targets(
    xp: Any, hot: Any, k: Any, ls: float, cw: Any | None, c: int, dtype: Any
) -> Any:
    """Dense targets ``a_c = (1 - ls) w_k [c = k] + (ls / C) w_c`` (for the gradient)."""
    a = astype(xp, hot, dtype) * (1.0 - ls)
    if cw is not None:
        a = a * _gather_weights(xp, cw, k)[..., None]
    if ls > 0:
        a = a + (ls / c) * (1.0 if cw is None else cw)
    return a


def _gather_weights(xp: Any, cw: Any, k: Any) -> Any:
    if is_numpy(xp):
        return cw[k]
    return xp.reshape(xp.take(cw, xp.reshape(k, (-1,)), axis=0), k.shape)


def _sparse_loss(
    xp: Any,
    nll: Any,
    k: Any,
    hot: Any,
    ls: float,
    cw: Any | None,
    c: int,
    exact: bool,
    x: Any = None,
) -> Any:
    r""":math:`(1 - s) w_k \ell_k + (s / C) \sum_c w_c \ell_c` with :math:`\ell_c` = ``nll``.

    ``x``: the logits, for a smoothed loss whose terms overflow (a logit near 1e308): ``m - x_j``
    may overflow where ``(s / C)(m - x_j)`` does not.
    """
    loss = _gather(xp, nll, k, hot)
    if cw is not None:
        loss = mul0(xp, _gather_weights(xp, cw, k), loss)
    if ls > 0:
        terms = nll if cw is None else mul0(xp, cw, nll)
        rest = accurate_sum(xp, terms, -1, exact=exact) * (ls / c)
        over = xp.isinf(rest)
        if bool(xp.any(over)):  # the sum overflowed (a huge finite logit): scale the terms first
            f = ls / c
            scaled = nll * f
            if x is not None:
                # m - x_j = inf for a finite x_j: (2 f)(m/2 - x_j/2), exact halves; log1p(S) <=
                # log(C) is below an ulp there
                m = xp.max(x, axis=-1, keepdims=True)
                far = xp.logical_and(xp.isinf(nll), xp.isfinite(x))
                scaled = xp.where(far, (2.0 * f) * (0.5 * m - 0.5 * x), scaled)
            scaled = scaled if cw is None else mul0(xp, cw, scaled)
            rest = xp.where(over, accurate_sum(xp, scaled, -1, exact=exact), rest)
        loss = rest if ls == 1 else (1.0 - ls) * loss + rest
    return loss


def _sparse_core(
    xp: Any,
    xl: Any,
    k: Any,
    ls: float,
    cw: Any | None,
    exact: bool,
    from_logits: bool,
    need_grad: bool,
) -> tuple[Any, Any, Tiny | None]:
    """Sparse cross-entropy of ``xl`` (compute dtype, class axis last) and labels ``k`` in
    ``[0, C)``: ``(loss, grad, tiny)``, the gradient of each sample's loss (None unless
    ``need_grad``) and, for float64 logits (``exact``), their tiny terms for the reduction."""
    c = xl.shape[-1]
    cdt = xl.dtype
    hot = None if is_numpy(xp) and not need_grad else _one_hot(xp, k, c, xl)
    tiny = None
    if from_logits:
        sh = shift_exp(xp, xl, exact_shift=exact)
        loss = _sparse_loss(xp, sh.neg_log_softmax(), k, hot, ls, cw, c, exact, xl)
        if exact:  # float64: tiny terms go to the reduction scaled

            def targets() -> Any:
                h = _one_hot(xp, k, c, xl) if hot is None else hot
                return _sparse_targets(xp, h, k, ls, cw, c, cdt)

            tiny = softmax_tiny_parts(xp, xl, loss, targets, _cw_gain(xp, cw))
    else:
        loss = _sparse_loss(xp, -xp.log(xl), k, hot, ls, cw, c, exact)
    grad = None
    if need_grad:
        a = _sparse_targets(xp, hot, k, ls, cw, c, cdt)
        if not from_logits:
            grad = xp.where(a == 0, 0.0, -a / (xl + 0.0))  # -0.0: probability 0
        elif ls > 0 and exact:
            grad = softmax_grad_dd(xp, xl, sh, a)
        else:
            grad = softmax_grad(xp, sh, a)
    return loss, grad, tiny


# --------------------------------------------------------------------------------------------
# Shared preparation


def _prepare_preds(fn: str, name: str, preds: Any, xp: Any, axis: Any) -> tuple[Any, int]:
    arr = check_float_array(fn, name, preds, xp)
    ax = check_axis(fn, axis, arr.ndim)
    return arr, ax


def _check_preds_values(
    fn: str, name: str, arr: Any, xl: Any, xp: Any, ax: int, from_logits: bool, validate: bool
) -> None:
    """Value checks on predictions (``xl``: compute dtype, class axis last)."""
    if xl.shape[-1] == 0:
        raise ValueError(f"{fn}: {name} must have at least one class along axis {ax}; got 0.")
    if not validate:
        return
    check_no_nan(fn, name, arr, xp)
    if from_logits:
        check_logit_rows(fn, name, xl, xp, ax)
    else:
        check_in_range(fn, name, arr, xp, 0.0, 1.0, remedy=_PROB_REMEDY)
        check_simplex_rows(fn, name, xl, xp, arr.dtype, ax)


def _class_weight(fn: str, class_weight: Any, xp: Any, c: int, dtype: Any) -> Any | None:
    if class_weight is None:
        return None
    return astype(xp, check_weight(fn, "class_weight", class_weight, xp, ((c,),)), dtype)


# --------------------------------------------------------------------------------------------
# Implementations (validation + core + reduction); the public functions call these.


@dispatch
def _categorical(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
    names: tuple[str, str] = ("y_true", "y_pred"),
    out: np.ndarray | None = None,
    z_loss: float = 0.0,
    softcap: float | None = None,
) -> LossResult:
    t_name, p_name = names
    if z_loss != 0.0 or softcap is not None:  # around this loss, on the capped logits
        core = partial(
            _categorical, fn, y_true, from_logits=True, label_smoothing=label_smoothing,
            axis=axis, class_weight=class_weight, validate=validate, names=names,
        )  # fmt: skip
        return with_z_softcap(
            fn, lambda x, **kw: core(x, **kw), y_pred, name=p_name, z_loss=z_loss,
            softcap=softcap, axis=axis, sample_weight=sample_weight,
            reduction=check_reduction(fn, reduction), need_grad=need_grad,
        )  # fmt: skip
    fast = from_logits and _kernels.applies(y_pred)  # NumPy float logits
    xp = np if fast else array_namespace(y_true, y_pred, class_weight, sample_weight)
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    arr, ax = _prepare_preds(fn, p_name, y_pred, xp, axis)
    lab = check_label_array(fn, t_name, y_true, xp)
    check_same_shape(fn, t_name, lab, p_name, arr)
    if fast and arr.shape[ax]:
        lab_k = _kernels.kernel_labels(np.asarray(lab), arr.dtype)
        if lab_k is not None:
            opts = _Options(ls, class_weight, sample_weight, reduction, validate, need_grad, out)
            return _dense_fast(fn, names, arr, ax, np.asarray(lab), lab_k, opts)
    cdt = compute_dtype(xp, arr.dtype)
    xl = move_last(xp, astype(xp, arr, cdt), ax)
    _check_preds_values(fn, p_name, arr, xl, xp, ax, from_logits, validate)
    a = move_last(xp, astype(xp, lab, cdt), ax)
    c = xl.shape[-1]
    if validate:
        check_no_nan(fn, t_name, lab, xp)
        check_in_range(fn, t_name, lab, xp, 0.0, 1.0)
        label_dtype = lab.dtype if "float" in str(lab.dtype) else np.float64
        check_simplex_rows(fn, t_name, a, xp, label_dtype, ax)
    cw = _class_weight(fn, class_weight, xp, c, cdt)
    if ls > 0:
        a = a * (1.0 - ls) + ls / c
    if cw is not None:
        a = a * cw
    tiny = None
    with np.errstate(all="ignore"):
        if from_logits:
            loss, grad = _dense_logits(xp, xl, a, arr.dtype == cdt, need_grad)
            if arr.dtype == cdt:  # float64: tiny terms go to the reduction scaled
                tiny = softmax_tiny_parts(xp, xl, loss, lambda: a, _cw_gain(xp, cw))
        else:
            loss, grad = _dense_probs(xp, xl, a, arr.dtype == cdt, need_grad)
        return reduce_loss(
            fn,
            xp,
            loss,
            grad,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            grad_axis=ax,
            tiny=tiny,
        )


@dispatch
def _sparse(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    axis: int = -1,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
    names: tuple[str, str] = ("y_true", "y_pred"),
    out: np.ndarray | None = None,
    z_loss: float = 0.0,
    softcap: float | None = None,
) -> LossResult:
    t_name, p_name = names
    if z_loss != 0.0 or softcap is not None:  # around this loss, on the capped logits
        ignore = check_ignore_index(fn, ignore_index)
        core = partial(
            _sparse, fn, y_true, from_logits=True, axis=axis, ignore_index=ignore,
            label_smoothing=label_smoothing, class_weight=class_weight, validate=validate,
            names=names,
        )  # fmt: skip
        return with_z_softcap(
            fn, lambda x, **kw: core(x, **kw), y_pred, name=p_name, z_loss=z_loss,
            softcap=softcap, axis=axis, sample_weight=sample_weight,
            reduction=check_reduction(fn, reduction), need_grad=need_grad,
            ignored=None if ignore is None else (lambda xp: xp.asarray(y_true) == ignore),
        )  # fmt: skip
    fast = from_logits and _kernels.applies(y_pred)  # NumPy float logits
    xp = np if fast else array_namespace(y_true, y_pred, class_weight, sample_weight)
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    ignore = check_ignore_index(fn, ignore_index)
    arr, ax = _prepare_preds(fn, p_name, y_pred, xp, axis)
    if fast and arr.shape[ax]:
        opts = _Options(ls, class_weight, sample_weight, reduction, validate, need_grad, out)
        return _sparse_fast(fn, names, arr, ax, y_true, ignore, opts)
    cdt = compute_dtype(xp, arr.dtype)
    xl = move_last(xp, astype(xp, arr, cdt), ax)
    c = xl.shape[-1]
    k = check_sparse_labels(
        fn,
        t_name,
        y_true,
        xp,
        expected_shape=tuple(xl.shape[:-1]),
        num_classes=c,
        ignore_index=ignore,
    )
    _check_preds_values(fn, p_name, arr, xl, xp, ax, from_logits, validate)
    cw = _class_weight(fn, class_weight, xp, c, cdt)
    valid = None
    if ignore is not None:
        valid = k != ignore
        k = xp.where(valid, k, 0)
    with np.errstate(all="ignore"):
        loss, grad, tiny = _sparse_core(xp, xl, k, ls, cw, arr.dtype == cdt, from_logits, need_grad)
        return reduce_loss(
            fn,
            xp,
            loss,
            grad,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            valid=valid,
            grad_axis=ax,
            tiny=tiny,
        )


# --------------------------------------------------------------------------------------------
# The fused kernels (NumPy float32/float64 logits): validate, run the kernel, recompute the
# rows it reports with the cores above, reduce. The gradient is formed in the kernel.


class _Options(NamedTuple):
    """The options a fast path passes on (``ls``, ``reduction`` already checked)."""

    ls: float
    class_weight: Any
    sample_weight: Any
    reduction: str
    validate: bool
    need_grad: bool
    out: np.ndarray | None


def _check_logits(fn: str, name: str, arr: np.ndarray, ax: int) -> None:
    """The value checks of :func:`_check_preds_values` on logits (NaN, a row of all -inf)."""
    check_no_nan(fn, name, arr, np)
    check_logit_rows(fn, name, move_last(np, arr, ax), np, ax)


def _check_soft_labels(fn: str, name: str, lab: np.ndarray, ax: int) -> None:
    """The value checks of :func:`_categorical` on soft labels (NaN, range, rows summing to 1)."""
    check_no_nan(fn, name, lab, np)
    check_in_range(fn, name, lab, np, 0.0, 1.0)
    label_dtype = lab.dtype if lab.dtype.kind == "f" else np.float64
    a = np.moveaxis(lab.astype(np.float64), ax, -1)
    check_simplex_rows(fn, name, a, np, label_dtype, ax)


def _sparse_fast(
    fn: str,
    names: tuple[str, str],
    arr: np.ndarray,
    ax: int,
    y_true: Any,
    ignore: int | None,
    o: _Options,
) -> LossResult:
    """:func:`_sparse` from logits on the kernels; ``arr`` has at least one class."""
    t_name, p_name = names
    c = arr.shape[ax]
    loss_shape = arr.shape[:ax] + arr.shape[ax + 1 :]
    k = check_sparse_labels(
        fn, t_name, y_true, np, expected_shape=loss_shape, num_classes=c, ignore_index=ignore
    )
    values = (lambda: _check_logits(fn, p_name, arr, ax)) if o.validate else None
    with value_checks_first(values):
        cw = _class_weight(fn, o.class_weight, np, c, np.float64)
        k = np.asarray(k, dtype=np.int64)
        valid = None
        if ignore is not None:
            valid = k != ignore
            k = np.where(valid, k, 0)
        w = sample_weights(fn, np, o.sample_weight, loss_shape, np.float64, valid)
    x = _kernels.rows(arr, ax)
    kf = np.ascontiguousarray(k.reshape(-1))
    sc = kernel_scale(w, loss_shape, o.reduction, o.need_grad)
    target, copy_to = _kernels.grad_target(arr, ax, x, o.out) if o.need_grad else (None, None)
    run = _Run(fn, arr, ax, x, target, copy_to, w, values)
    if o.ls > 0:  # the soft-label kernel, on one-hot rows it makes itself
        # targets ((1 - s) [c = k] + s / C) w_c: the core's (1 - s) w_k [c = k] + (s / C) w_c
        cwv = np.ones(c) if cw is None else cw
        soft = Targets(None, kf, cwv, 1.0 - o.ls, o.ls / c)
        loss, status = _kernels.dense_softmax(x, soft, sc, target, label_tol=None)

        def smoothed(rows: np.ndarray) -> np.ndarray:
            hot = (np.arange(c) == kf[rows][:, None]).astype(np.float64)
            a: np.ndarray = (hot * soft.keep + soft.add) * cwv
            return a

        return _fast_result(run, loss, status, sc, smoothed, None, cw, o.reduction)
    cwk = None if cw is None else cw[kf]
    if cwk is not None:
        sc = sc * cwk
    nll, status = _kernels.sparse_softmax(x, kf, sc, target)

    def one_hot(rows: np.ndarray) -> np.ndarray:
        return np.asarray(np.arange(c) == kf[rows][:, None], dtype=np.float64)

    return _fast_result(run, nll, status, sc, one_hot, cwk, cw, o.reduction)


def _dense_fast(
    fn: str,
    names: tuple[str, str],
    arr: np.ndarray,
    ax: int,
    lab: np.ndarray,
    lab_k: np.ndarray,
    o: _Options,
) -> LossResult:
    """:func:`_categorical` from logits on the kernels; ``arr`` has at least one class."""
    t_name, p_name = names
    c = arr.shape[ax]
    loss_shape = arr.shape[:ax] + arr.shape[ax + 1 :]

    def values() -> None:
        _check_logits(fn, p_name, arr, ax)
        _check_soft_labels(fn, t_name, lab, ax)

    with value_checks_first(values if o.validate else None):
        cw = _class_weight(fn, o.class_weight, np, c, np.float64)
        w = sample_weights(fn, np, o.sample_weight, loss_shape, np.float64)
    cwv = np.ones(c) if cw is None else cw
    x = _kernels.rows(arr, ax)
    y = _kernels.rows(lab_k, ax)
    soft = Targets(y, None, cwv, 1.0 - o.ls, o.ls / c)
    label_dtype = lab.dtype if lab.dtype.kind == "f" else np.dtype(np.float64)
    tol = simplex_tolerance(label_dtype) if o.validate else None
    sc = kernel_scale(w, loss_shape, o.reduction, o.need_grad)
    target, copy_to = _kernels.grad_target(arr, ax, x, o.out) if o.need_grad else (None, None)
    loss, status = _kernels.dense_softmax(x, soft, sc, target, label_tol=tol)

    def dense(rows: np.ndarray) -> np.ndarray:
        a: np.ndarray = (y[rows].astype(np.float64) * soft.keep + soft.add) * cwv
        return a

    run = _Run(fn, arr, ax, x, target, copy_to, w, values if o.validate else None)
    return _fast_result(run, loss, status, sc, dense, None, cwv, o.reduction)


class _Run(NamedTuple):
    """One kernel call of a softmax fast path: its input, gradient buffer and checks."""

    fn: str
    arr: np.ndarray  # the logits as given
    ax: int
    x: np.ndarray  # their (rows, C) view or copy
    grad: np.ndarray | None  # where the kernel wrote the gradient
    copy_to: np.ndarray | None  # the caller's out, where grad is not it
    w: np.ndarray | None  # checked sample weights (ignored samples 0)
    check: Callable[[], None] | None  # the value checks, for rows the kernel reported


def _fast_result(
    run: _Run,
    loss: np.ndarray,
    status: np.ndarray,
    sc: np.ndarray,
    targets: Callable[[np.ndarray], np.ndarray],
    cwk: np.ndarray | None,
    cw: np.ndarray | None,
    reduction: str,
) -> LossResult:
    """Finish a softmax kernel's call: the reported rows checked (where the checks are on) and
    recomputed by the core, on their dense ``targets(rows)``; the losses (weighted by ``cwk``,
    the class weight of each row's label) reduced; the gradient in the logits' layout."""
    loss_shape = run.arr.shape[: run.ax] + run.arr.shape[run.ax + 1 :]
    with np.errstate(all="ignore"):
        bad = np.flatnonzero(status)
        tiny = None
        if bad.size:
            if run.check is not None and np.any(status[bad] != RowStatus.TINY):
                run.check()  # raises for the NaN, all -inf or bad label rows
            a = targets(bad)
            _rows_by_core(run.x, bad, a, sc, run.arr.dtype == np.float64, loss, run.grad)
            t3 = status[bad] == RowStatus.TINY
            tiny = _tiny_rows(run.x, bad[t3], a[t3], sc, run.grad, cwk, cw, loss_shape)
        weighted = loss if cwk is None else np.where(cwk == 0, 0.0, cwk * loss)
        result = reduce_loss(
            run.fn,
            np,
            weighted.reshape(loss_shape),
            None,
            weights=run.w,
            reduction=reduction,
            out_dtype=run.arr.dtype,
            tiny=tiny,
        )
    g = None if run.grad is None else _kernels.grad_result(run.grad, run.arr, run.ax, run.copy_to)
    return LossResult(result.value, g)


def _rows_by_core(
    x: np.ndarray,
    rows: np.ndarray,
    a: np.ndarray,
    sc: np.ndarray,
    exact: bool,
    loss: np.ndarray,
    grad: np.ndarray | None,
) -> None:
    """The rows a kernel reported, by the core: their losses into ``loss`` and, weighted by
    ``sc``, their gradients into ``grad``; ``a`` their dense targets (class weights included)."""
    lr, gr = _dense_logits(np, x[rows].astype(np.float64), a, exact, grad is not None)
    s = sc[rows]
    loss[rows] = np.where(s == 0, 0.0, lr)
    if grad is not None:
        grad[rows] = np.where(s[:, None] == 0, 0.0, gr * s[:, None])


def _tiny_rows(
    x: np.ndarray,
    rows: np.ndarray,
    a: np.ndarray,
    sc: np.ndarray,
    grad: np.ndarray | None,
    cwk: np.ndarray | None,
    cw: np.ndarray | None,
    shape: tuple[int, ...],
) -> Tiny | None:
    """Float64 rows a kernel reported with status TINY: (nearly) subnormal terms, weighted.

    Their loss and gradient have been computed by the core (:func:`_rows_by_core`); here the
    gradient entries below the normal range are redone on ``e^600``-scaled exponentials, the
    weight ``sc`` applied, and scaled back once, and the tiny losses are handed to the reduction
    scaled (see ``Tiny`` in :mod:`._reduction`). ``a``: the rows' dense targets (one-hot rows
    when ``cwk``, the class weight of each row's label, weights the losses). Returns that
    ``Tiny``, its loss pieces in the loss's ``shape``, or None.
    """
    if not rows.size:
        return None
    xr = x[rows].astype(np.float64)
    with np.errstate(all="ignore"):
        (lm, ls), (gm, gs) = softmax_tiny(np, xr, a)
        if grad is not None:
            s = sc[rows][:, None]
            gs = np.where(s == 0, 0.0, gs * s) * SCALE_INV
            grad[rows] = np.where(gm, gs, grad[rows])
        n = x.shape[0]
        mask = np.zeros(n, bool)
        scaled = np.zeros(n)
        mask[rows] = lm
        scaled[rows] = ls if cwk is None else np.where(cwk[rows] == 0, 0.0, cwk[rows] * ls)
    return Tiny(_cw_gain(np, cw), lambda: (mask.reshape(shape), scaled.reshape(shape)))


# --------------------------------------------------------------------------------------------
# Public functions


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Categorical cross-entropy between target distributions and predicted probabilities.

    .. math::

        \ell = -\sum_c w_c\, y'_c \log p_c, \qquad y' = (1 - s)\,y + s / C

    with :math:`p = \operatorname{softmax}(x)` when ``from_logits=True``, computed as
    :math:`\sum_c w_c y'_c [(m - x_c) + \operatorname{log1p}(\sum_{j \ne j^*} e^{x_j - m})]`, a sum
    of non-negative terms (logits ``[30, 0, 0]`` with label 0 give 1.8715e-13, where the
    frameworks give 0). Classes with :math:`y'_c = 0` contribute nothing, even at
    :math:`p_c = 0` or :math:`x_c = -\infty`.

    Gradient with respect to ``y_pred``: :math:`A\,p - w \odot y'` for logits
    (:math:`A = \sum_c w_c y'_c`; the argmax entry is computed without cancellation), and
    :math:`-w_c y'_c / p_c` for probabilities; see :func:`crossentropy.value_and_grad`.

    Parameters
    ----------
    y_true : array_like
        Target distributions (one-hot or soft), the shape of ``y_pred``; each row along ``axis``
        in [0, 1] and summing to 1.
    y_pred : array_like
        Probabilities (each row summing to 1) or, with ``from_logits=True``, logits.
    from_logits : bool, default False
        Whether ``y_pred`` holds logits.
    label_smoothing : float in [0, 1], default 0
        Mix the targets with the uniform distribution: :math:`y' = (1 - s) y + s / C`.
    axis : int, default -1
        The class axis.
    class_weight : array_like of shape (C,), optional
        Per-class weights :math:`w_c \ge 0`; a one-hot sample's loss is multiplied by its
        class's weight.
    sample_weight : array_like, optional
        Per-sample weights, of the output's shape (or a scalar).
    reduction : {"none", "mean", "sum"}, default "none"
        "mean" is :math:`\sum_i w_i \ell_i / \sum_i w_i` (0.0 for zero total weight).
    validate : bool, default True
        Check values (NaN, ranges, rows summing to 1); shapes and dtypes are always checked.

    Returns
    -------
    ndarray or numpy scalar
        ``y_pred``'s shape without ``axis`` ("none"), or a 0-d NumPy scalar of ``y_pred``'s
        dtype ("mean", "sum").

    Raises
    ------
    ValueError
        Shapes differ; probabilities outside [0, 1] or rows not summing to 1 (no silent
        renormalisation); NaN; a row of all ``-inf`` logits; bad options.
    TypeError
        Integer predictions, non-numeric labels.

    See Also
    --------
    sparse_categorical_crossentropy : integer class labels.
    binary_crossentropy : independent (multi-label) classes.

    Examples
    --------
    >>> import numpy as np
    >>> import crossentropy as ce
    >>> ce.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    array([0.05129329, 2.30258509])
    >>> float(ce.categorical_crossentropy([1.0, 0, 0], [30.0, 0, 0], from_logits=True))
    1.8715245937678598e-13
    """
    return _categorical(
        "categorical_crossentropy",
        y_true,
        y_pred,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        axis=axis,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


def softmax_cross_entropy_with_logits(
    labels: Any,
    logits: Any,
    *,
    axis: int = -1,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    z_loss: float = 0.0,
    softcap: float | None = None,
) -> Any:
    r"""Softmax cross-entropy between target distributions and logits (TensorFlow's name).

    .. math::

        \ell = \sum_c w_c\, y'_c \big[(m - x_c) + \operatorname{log1p}\big(\textstyle
        \sum_{j \ne j^*} e^{x_j - m}\big)\big], \qquad m = \max_j x_j

    Equal to ``categorical_crossentropy(labels, logits, from_logits=True, ...)``. Gradient with
    respect to ``logits``: :math:`A\,\operatorname{softmax}(x) - w \odot y'`.

    Parameters
    ----------
    labels : array_like
        One-hot or soft target distributions, the shape of ``logits``.
    logits : array_like
        Unnormalised log-probabilities; ``+inf`` and ``-inf`` are allowed (a ``-inf`` logit of a
        class with no target mass contributes nothing), an all ``-inf`` row is not.
    axis, label_smoothing, class_weight, sample_weight, reduction, validate
        As in :func:`categorical_crossentropy`.
    z_loss : float >= 0, default 0
        Add :math:`z\,\mathrm{lse}(x)^2` to each sample's loss (PaLM's z-loss, e.g. 1e-4;
        weighted by the sample weight, not the class weight; 0 for ignored samples); gradient
        :math:`2 z\,\mathrm{lse}(x) \operatorname{softmax}(x)`.
    softcap : float > 0, optional
        Replace the logits by :math:`c \tanh(x / c)` first (Gemma 2's soft-capping, e.g. 30);
        the gradient is chained through it, times :math:`1 - \tanh^2(x / c)`. With either
        option the capped logits are formed in the compute dtype (float64 for NumPy), the loss
        runs on them (kernel or core, as without) per sample, and the z-loss is added before
        the reduction.

    Returns
    -------
    ndarray or numpy scalar
        ``logits``' shape without ``axis``, or a 0-d scalar when reduced.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.softmax_cross_entropy_with_logits([[1.0, 0, 0], [0, 1, 0]], [[12.0, 3, 2], [3, 10, 1]])
    array([0.0001688 , 0.00103476])
    """
    return _categorical(
        "softmax_cross_entropy_with_logits",
        labels,
        logits,
        from_logits=True,
        label_smoothing=label_smoothing,
        axis=axis,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
        names=("labels", "logits"),
        z_loss=z_loss,
        softcap=softcap,
    ).value


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    from_logits: bool = False,
    axis: int = -1,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Categorical cross-entropy with integer class labels.

    .. math::

        \ell = (1 - s)\, w_k (-\log p_k) + \frac{s}{C} \sum_c w_c (-\log p_c)

    for label :math:`k`, smoothing :math:`s` and class weights :math:`w` (1 by default); with
    logits, :math:`-\log p_c = (m - x_c) + \operatorname{log1p}(\sum_{j \ne j^*} e^{x_j - m})`.
    Equal to :func:`categorical_crossentropy` of the one-hot labels.

    Gradient with respect to ``y_pred``: :math:`A\,p - a` with
    :math:`a_c = (1 - s) w_k [c = k] + s w_c / C` for logits, :math:`-a_c / p_c` for
    probabilities; 0 for ignored samples.

    Parameters
    ----------
    y_true : array_like of int
        Class indices in ``[0, C)``, the shape of ``y_pred`` without ``axis``.
    y_pred : array_like
        Probabilities or, with ``from_logits=True``, logits; ``C`` classes along ``axis``.
    ignore_index : int, optional
        Samples with this label get loss 0 and gradient 0 and are left out of the "mean".
    from_logits, axis, label_smoothing, class_weight, sample_weight, reduction, validate
        As in :func:`categorical_crossentropy`.

    Raises
    ------
    ValueError
        Labels outside ``[0, C)`` (naming the first and its index); labels whose shape is not the
        predictions' without ``axis``; the checks of :func:`categorical_crossentropy`.
    TypeError
        Float labels (use :func:`categorical_crossentropy` for one-hot or soft labels).

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    array([0.05129329, 2.30258509])
    >>> float(ce.sparse_categorical_crossentropy([1, -1], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
    ...                                          ignore_index=-1, reduction="mean"))
    0.05129329438755058
    """
    return _sparse(
        "sparse_categorical_crossentropy",
        y_true,
        y_pred,
        from_logits=from_logits,
        axis=axis,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


def sparse_softmax_cross_entropy_with_logits(
    labels: Any,
    logits: Any,
    *,
    axis: int = -1,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    z_loss: float = 0.0,
    softcap: float | None = None,
) -> Any:
    r"""Softmax cross-entropy with integer class labels (TensorFlow's name).

    .. math::

        \ell = (m - x_k) + \operatorname{log1p}\Big(\sum_{j \ne j^*} e^{x_j - m}\Big)

    for label :math:`k` (with smoothing and class weights as in
    :func:`sparse_categorical_crossentropy`). Gradient with respect to ``logits``:
    :math:`\operatorname{softmax}(x) - \operatorname{onehot}(k)`, the true-class entry computed as
    :math:`-\sum_{j \ne k} p_j`.

    Parameters
    ----------
    labels : array_like of int
        Class indices in ``[0, C)``, the shape of ``logits`` without ``axis``.
    logits : array_like
        Unnormalised log-probabilities.
    axis, ignore_index, label_smoothing, class_weight, sample_weight, reduction, validate
        As in :func:`sparse_categorical_crossentropy`.
    z_loss : float >= 0, default 0
        Add :math:`z\,\mathrm{lse}(x)^2` to each sample's loss (PaLM's z-loss, e.g. 1e-4;
        weighted by the sample weight, not the class weight; 0 for ignored samples); gradient
        :math:`2 z\,\mathrm{lse}(x) \operatorname{softmax}(x)`.
    softcap : float > 0, optional
        Replace the logits by :math:`c \tanh(x / c)` first (Gemma 2's soft-capping, e.g. 30);
        the gradient is chained through it, times :math:`1 - \tanh^2(x / c)`. With either
        option the capped logits are formed in the compute dtype (float64 for NumPy), the loss
        runs on them (kernel or core, as without) per sample, and the z-loss is added before
        the reduction.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.sparse_softmax_cross_entropy_with_logits([0, 1], [[12.0, 3, 2], [3, 10, 1]])
    array([0.0001688 , 0.00103476])
    """
    return _sparse(
        "sparse_softmax_cross_entropy_with_logits",
        labels,
        logits,
        from_logits=True,
        axis=axis,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
        names=("labels", "logits"),
        z_loss=z_loss,
        softcap=softcap,
    ).value


register(categorical_crossentropy, partial(_categorical, "categorical_crossentropy"), "y_pred")
register(
    softmax_cross_entropy_with_logits,
    partial(
        _categorical,
        "softmax_cross_entropy_with_logits",
        from_logits=True,
        names=("labels", "logits"),
    ),
    "logits",
)
register(
    sparse_categorical_crossentropy, partial(_sparse, "sparse_categorical_crossentropy"), "y_pred"
)
register(
    sparse_softmax_cross_entropy_with_logits,
    partial(
        _sparse,
        "sparse_softmax_cross_entropy_with_logits",
        from_logits=True,
        names=("labels", "logits"),
    ),
    "logits",
)
