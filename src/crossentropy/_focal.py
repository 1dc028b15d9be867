"""Focal cross-entropy (Lin et al., 2017): down-weights well-classified examples.

The focal factor :math:`(1 - p)^\\gamma` is computed in log space,
:math:`\\exp(\\gamma \\log(1 - p))` with :math:`\\log(1 - p)` from softplus or log1p, so the
loss and its gradient stay finite and free of NaN at saturation, also for :math:`\\gamma < 1`
where :math:`(1 - p)^{\\gamma - 1}` is infinite.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ._binary import mean_over_axis, mul0, prepare_elementwise, smooth_binary_pair
from ._categorical import _check_preds_values, _move_last, softmax_grad
from ._namespace import array_namespace, astype, compute_dtype
from ._primitives import normaliser_dd, shift_exp, sigmoid_parts
from ._reduction import LossResult, reduce_loss
from ._registry import register
from ._summation import accurate_sum
from ._validation import (
    check_axis,
    check_float_array,
    check_gamma,
    check_in_range,
    check_label_array,
    check_label_smoothing,
    check_no_nan,
    check_reduction,
    check_same_shape,
    check_simplex_rows,
    check_weight,
)

__all__ = ["binary_focal_crossentropy", "categorical_focal_crossentropy"]


def _pow_dd(xp: Any, gamma: float, hi: Any, lo: Any = None) -> Any:
    """``(hi + lo) ** gamma`` for ``hi >= 0``, ``|lo| <= ulp(hi) / 2``, with ``0 ** 0 = 1``.

    ``pow(hi, gamma) * (1 + gamma lo / hi)``: the base's rounding error (``lo``) is carried, so the
    factor keeps the accuracy of ``pow`` itself. ``exp(gamma * log(b))`` would not: the rounding of
    the product is amplified by ``|gamma log b|`` (about 1400 ulp for b = 1e-300, gamma = 2).
    """
    if gamma == 0:
        return xp.ones_like(hi)
    f = hi**gamma
    if lo is None:
        return f
    corr = xp.where(hi > 0, lo / xp.where(hi > 0, hi, 1.0), 0.0)
    return f + f * (gamma * corr)


def _one_minus(xp: Any, p: Any) -> tuple[Any, Any]:
    """``1 - p = hi + lo`` exactly for ``p`` in [0, 1] (Fast2Sum: ``|1| >= |p|``)."""
    hi = 1.0 - p
    return hi, (1.0 - hi) - p


def _two_prod(xp: Any, a: Any, b: Any) -> tuple[Any, Any]:
    """``a * b = p + e`` exactly (Dekker's product; finite inputs below 2**996)."""
    split = 134217729.0  # 2**27 + 1
    p = a * b
    a_c = split * a
    a_hi = a_c - (a_c - a)
    a_lo = a - a_hi
    b_c = split * b
    b_hi = b_c - (b_c - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def _exp_neg_prod(xp: Any, gamma: float, a: Any) -> Any:
    """``exp(-gamma * a)`` for ``a >= 0``, the rounding of the product carried (Dekker's product).

    ``gamma * a`` rounded is off by up to half an ulp of a number as large as ~745, which ``exp``
    would turn into ~700 ulp; the error term ``d`` of ``gamma * a = p + d`` is applied as
    ``exp(-p) (1 - d)``. Arguments beyond 2**500 (where the product splits would overflow) give
    the plain ``exp(-gamma a)``.
    """
    ok = a < 2.0**500
    p, d = _two_prod(xp, xp.where(ok, a, 0.0), gamma)
    e = xp.exp(-p)
    return xp.where(ok, e - e * d, xp.exp(-(gamma * a)))


def _sigmoid_pow(xp: Any, gamma: float, x: Any) -> tuple[Any, Any]:
    r"""``(sigma(-x) ** gamma, sigma(x) ** gamma)``, i.e. ``(1 - p)^gamma`` and ``p^gamma``.

    With ``t = exp(-|x|)``: :math:`\sigma(|x|)^\gamma = (1 + t)^{-\gamma}`, ``1 + t`` carried as an
    exact sum, and :math:`\sigma(-|x|)^\gamma = e^{-\gamma |x|} (1 + t)^{-\gamma}` with the
    exponent's product carried: no ``exp(gamma * log(...))`` amplification.
    """
    if gamma == 0:
        one = xp.ones_like(x)
        return one, one
    ax = xp.abs(x)
    t = xp.exp(-ax)
    h = 1.0 + t
    big = _pow_dd(xp, -gamma, h, t - (h - 1.0))
    small = _exp_neg_prod(xp, gamma, ax) * big
    pos = x >= 0
    return xp.where(pos, small, big), xp.where(pos, big, small)


def _ratio_at_one(xp: Any, nll: Any, one_minus_p: Any) -> Any:
    """``-log(p) / (1 - p)``, which tends to 1 as p -> 1 (used for gamma < 1 at saturation)."""
    return xp.where(one_minus_p == 0, 1.0, nll / one_minus_p)


def _focal_term_prob(
    xp: Any, p: Any, one_minus_p: Any, nll: Any, factor: Any, gamma: float, need_grad: bool
) -> tuple[Any, Any]:
    r"""``factor * nll`` (``factor = (1 - p)^gamma``) and its derivative with respect to ``p``.

    .. math::

        \frac{d}{dp}\big[(1 - p)^\gamma (-\log p)\big]
        = -(1 - p)^\gamma \Big[\gamma \frac{-\log p}{1 - p} + \frac{1}{p}\Big]
    """
    term = mul0(xp, factor, nll)
    if not need_grad:
        return term, None
    inner = 1.0 / p
    if gamma != 0:
        inner = inner + gamma * _ratio_at_one(xp, nll, one_minus_p)
    return term, -mul0(xp, factor, inner)


def _binary_focal_core(
    xp: Any,
    y: Any,
    x: Any,
    gamma: float,
    alpha: float | None,
    from_logits: bool,
    need_grad: bool,
    ny: Any = None,
) -> tuple[Any, Any]:
    r"""Element-wise :math:`a\,y (1-p)^\gamma (-\log p) + b\,(1-y)\,p^\gamma (-\log(1-p))`.

    ``ny`` is ``1 - y`` when the caller has it without cancellation (smoothed labels).
    """
    ny = 1.0 - y if ny is None else ny
    a_pos = y if alpha is None else alpha * y
    a_neg = ny if alpha is None else (1.0 - alpha) * ny
    if from_logits:
        sp_pos, sp_neg, sig_pos, sig_neg = sigmoid_parts(xp, x)
        # -log p = softplus(-x), -log(1 - p) = softplus(x); (1 - p)^g = sigma(-x)^g.
        f_pos, f_neg = _sigmoid_pow(xp, gamma, x)
        loss = mul0(xp, a_pos, mul0(xp, f_pos, sp_neg)) + mul0(xp, a_neg, mul0(xp, f_neg, sp_pos))
        grad = None
        if need_grad:
            # d/dx [f_pos sp(-x)] = -f_pos [g sigma(x) sp(-x) + sigma(-x)], and the mirror image.
            d_pos = -f_pos * (gamma * mul0(xp, sig_pos, sp_neg) + sig_neg)
            d_neg = f_neg * (gamma * mul0(xp, sig_neg, sp_pos) + sig_pos)
            grad = mul0(xp, a_pos, d_pos) + mul0(xp, a_neg, d_neg)
        return loss, grad
    one_minus_p, omp_lo = _one_minus(xp, x)
    f_pos = _pow_dd(xp, gamma, one_minus_p, omp_lo)
    f_neg = _pow_dd(xp, gamma, x)
    t_pos, g_pos = _focal_term_prob(xp, x, one_minus_p, -xp.log(x), f_pos, gamma, need_grad)
    t_neg, g_neg = _focal_term_prob(xp, one_minus_p, x, -xp.log1p(-x), f_neg, gamma, need_grad)
    loss = mul0(xp, a_pos, t_pos) + mul0(xp, a_neg, t_neg)
    grad = mul0(xp, a_pos, g_pos) - mul0(xp, a_neg, g_neg) if need_grad else None
    return loss, grad


def _check_alpha(fn: str, alpha: Any, xp: Any, shapes: tuple[tuple[int, ...], ...]) -> Any:
    if alpha is None:
        return None
    if isinstance(alpha, bool):
        raise TypeError(f"{fn}: alpha must be a real number, an array or None; got bool.")
    return check_weight(fn, "alpha", alpha, xp, shapes, upper=1.0)


def _binary_focal(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
) -> LossResult:
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    g = check_gamma(fn, gamma)
    ew = prepare_elementwise(
        fn, y_true, y_pred, from_logits=from_logits, validate=validate, extra=(sample_weight,)
    )
    a = _check_alpha(fn, alpha, ew.xp, ((),))
    a_val = None if a is None else float(a)
    with np.errstate(all="ignore"):
        y, ny = smooth_binary_pair(ew.y, ls)
        loss, grad = _binary_focal_core(ew.xp, y, ew.x, g, a_val, from_logits, need_grad, ny)
        loss, grad, ax = mean_over_axis(fn, ew.xp, loss, grad, axis, exact=ew.x.dtype == ew.dtype)
    return reduce_loss(
        fn,
        ew.xp,
        loss,
        grad,
        sample_weight=sample_weight,
        reduction=reduction,
        out_dtype=ew.dtype,
        grad_axis=ax,
    )


def _categorical_focal(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    alpha: Any = None,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
) -> LossResult:
    xp = array_namespace(y_true, y_pred, alpha, sample_weight)
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    g = check_gamma(fn, gamma)
    arr = check_float_array(fn, "y_pred", y_pred, xp)
    ax = check_axis(fn, axis, arr.ndim)
    lab = check_label_array(fn, "y_true", y_true, xp)
    check_same_shape(fn, "y_true", lab, "y_pred", arr)
    cdt = compute_dtype(xp, arr.dtype)
    xl = _move_last(xp, astype(xp, arr, cdt), ax)
    _check_preds_values(fn, "y_pred", arr, xl, xp, ax, from_logits, validate)
    c = xl.shape[-1]
    y = _move_last(xp, astype(xp, lab, cdt), ax)
    if validate:
        check_no_nan(fn, "y_true", lab, xp)
        check_in_range(fn, "y_true", lab, xp, 0.0, 1.0)
        label_dtype = lab.dtype if "float" in str(lab.dtype) else np.float64
        check_simplex_rows(fn, "y_true", y, xp, label_dtype, ax)
    al = _check_alpha(fn, alpha, xp, ((), (c,)))
    if ls > 0:
        y = y * (1.0 - ls) + ls / c
    a = y if al is None else y * astype(xp, al, cdt)
    with np.errstate(all="ignore"):
        if from_logits:
            exact = arr.dtype == cdt
            sh = shift_exp(xp, xl, exact_shift=exact)
            nll = sh.neg_log_softmax()
            # 1 - p_c = T_c / (1 + S), T_c = sum_{j != c} exp(x_j - m) (the argmax term is 1).
            # The focal factor (1 - p_c)^g multiplies the relative error of T_c by g, and at the
            # maximum T = S, where the term is ~S^(g+1): float64 carries S as hi + lo, and
            # 1 + S and the quotient with their rounding errors, then takes pow (never
            # exp(g log q), which multiplies the error by |g log q|).
            if exact:
                s_hi, s_lo, e_hi, e_lo = normaliser_dd(xp, xl, sh)
            else:
                s_hi, s_lo, e_hi, e_lo = sh.s, 0.0 * sh.s, sh.e, 0.0 * sh.e
            z = 1.0 + s_hi
            z_lo = xp.where(s_hi <= 1.0, s_hi - (z - 1.0), 1.0 - (z - s_hi)) + s_lo
            t = xp.where(sh.is_arg, s_hi, 1.0 + (s_hi - sh.e))
            t_lo = xp.where(sh.is_arg, s_lo, 0.0)
            q = t / z
            qz, qz_lo = _two_prod(xp, q, z)
            q_lo = xp.where(z > 0, ((t - qz) - qz_lo + t_lo - q * z_lo) / z, 0.0)
            q_lo = xp.where(xp.isfinite(q_lo), q_lo, 0.0)
            f = _pow_dd(xp, g, q, q_lo)
            nll = xp.where(sh.is_arg, xp.log1p(s_hi) + s_lo / z, nll)
            loss = accurate_sum(xp, mul0(xp, a, mul0(xp, f, nll)), -1, exact=exact)
            grad = None
            if need_grad:
                # d(f_c nll_c)/dx_j = (p_j - [j = c]) h_c, h_c = f_c (1 + g p_c nll_c / (1 - p_c)):
                # the gradient of sum_c a_c h_c (-log p_c) at fixed h, reusing softmax_grad.
                h = f
                if g != 0:
                    p = sh.softmax(xp)
                    ratio = xp.where(t == 0, 1.0, nll * (1.0 + sh.s) / t)
                    h = f * (1.0 + g * mul0(xp, p, ratio))
                b = mul0(xp, a, h)
                grad = softmax_grad(xp, sh, b)
                if exact:
                    # softmax_grad's B p - b again, from the double-double e, S and q: the
                    # entries are ~S^(g+1) too. Elsewhere B p_j - b_j; at the maximum
                    # b_rest p - b (1 - p), without cancellation.
                    b_tot = xp.sum(b, axis=-1, keepdims=True)
                    b_rest = xp.sum(xp.where(sh.is_arg, 0.0, b), axis=-1, keepdims=True)
                    p_hi = e_hi / z
                    pz, pz_lo = _two_prod(xp, p_hi, z)
                    p_lo = ((e_hi - pz) - pz_lo + e_lo - p_hi * z_lo) / z
                    p_lo = xp.where(xp.isfinite(p_lo), p_lo, 0.0)
                    g_other = (b_tot * p_hi - b) + b_tot * p_lo
                    g_arg = (b_rest / z) * (1.0 - z_lo / z) - (mul0(xp, b, q) + mul0(xp, b, q_lo))
                    grad = xp.where(sh.is_arg, g_arg, g_other)
        else:
            omp, omp_lo = _one_minus(xp, xl)
            f = _pow_dd(xp, g, omp, omp_lo)
            terms, grad = _focal_term_prob(xp, xl, omp, -xp.log(xl), f, g, need_grad)
            loss = accurate_sum(xp, mul0(xp, a, terms), -1, exact=arr.dtype == cdt)
            grad = mul0(xp, a, grad) if need_grad else None
    return reduce_loss(
        fn,
        xp,
        loss,
        grad,
        sample_weight=sample_weight,
        reduction=reduction,
        out_dtype=arr.dtype,
        grad_axis=ax,
    )


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Binary focal cross-entropy, averaged over ``axis``.

    .. math::

        \ell = \frac{1}{n}\sum_i \big[\alpha\, y_i (1 - p_i)^\gamma (-\log p_i)
               + (1 - \alpha)(1 - y_i)\, p_i^\gamma (-\log(1 - p_i))\big]

    with :math:`y` smoothed toward 0.5 and :math:`\alpha` terms omitted (both weights 1) for
    ``alpha=None``, so ``gamma=0, alpha=None`` equals :func:`binary_crossentropy`. This is the
    two-class case of :func:`categorical_focal_crossentropy`; for soft labels it differs from
    Keras's :math:`(1 - p_t)^\gamma` form (see ``crossentropy.compat``). The focal factor is
    :math:`\exp(-\gamma\,\operatorname{softplus}(x))` for logits and
    :math:`\exp(\gamma \operatorname{log1p}(-p))` for probabilities.

    Gradient with respect to logits, for the positive term:
    :math:`-(1-p)^\gamma[\gamma\,p\,(-\log p) + (1 - p)]`, finite everywhere for every
    :math:`\gamma \ge 0`.

    Parameters
    ----------
    y_true : array_like
        Labels in [0, 1], the shape of ``y_pred``.
    y_pred : array_like
        Probabilities, or logits with ``from_logits=True``.
    gamma : float >= 0, default 2
        Focusing parameter.
    alpha : float in [0, 1] or None, default None
        Weight of the positive class (``1 - alpha`` for the negative); None for no balancing.
    from_logits, label_smoothing, axis, sample_weight, reduction, validate
        As in :func:`binary_crossentropy`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.binary_focal_crossentropy([[0.0, 1, 0, 1]], [[0.5, 0.8, 0.3, 0.5]], gamma=2.0)
    array([0.09690002])
    """
    return _binary_focal(
        "binary_focal_crossentropy",
        y_true,
        y_pred,
        gamma=gamma,
        alpha=alpha,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        axis=axis,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    *,
    gamma: float = 2.0,
    alpha: Any = None,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Categorical focal cross-entropy.

    .. math::

        \ell = \sum_c \alpha_c\, y'_c\, (1 - p_c)^\gamma (-\log p_c)

    with :math:`y'` smoothed toward :math:`1/C`; ``gamma=0, alpha=None`` equals
    :func:`categorical_crossentropy`. For logits, :math:`1 - p_c = \sum_{j \ne c} e^{x_j - m} /
    \sum_j e^{x_j - m}` is formed without cancellation and the factor computed in log space.

    Gradient with respect to logits: :math:`B\,p_j - b_j` with :math:`b_c = \alpha_c y'_c
    (1 - p_c)^\gamma [1 + \gamma\, p_c (-\log p_c)/(1 - p_c)]` and :math:`B = \sum_c b_c`.

    Parameters
    ----------
    gamma : float >= 0, default 2
        Focusing parameter.
    alpha : float or array_like of shape (C,), optional
        Class balancing weights in [0, 1]; None for none.
    y_true, y_pred, from_logits, label_smoothing, axis, sample_weight, reduction, validate
        As in :func:`categorical_crossentropy`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.categorical_focal_crossentropy([[0, 1, 0]], [[0.1, 0.8, 0.1]], gamma=2.0)
    array([0.00892574])
    """
    return _categorical_focal(
        "categorical_focal_crossentropy",
        y_true,
        y_pred,
        gamma=gamma,
        alpha=alpha,
        from_logits=from_logits,
        label_smoothing=label_smoothing,
        axis=axis,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


register(binary_focal_crossentropy, partial(_binary_focal, "binary_focal_crossentropy"), "y_pred")
register(
    categorical_focal_crossentropy,
    partial(_categorical_focal, "categorical_focal_crossentropy"),
    "y_pred",
)
