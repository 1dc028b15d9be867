"""Focal cross-entropy (Lin et al., 2017): down-weights well-classified examples.

The focal factor :math:`(1 - p)^\\gamma` is computed in log space,
:math:`\\exp(\\gamma \\log(1 - p))` with :math:`\\log(1 - p)` from softplus or log1p, so the
loss and its gradient stay finite and free of NaN at saturation, also for :math:`\\gamma < 1`
where :math:`(1 - p)^{\\gamma - 1}` is infinite.
"""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import numpy as np

from ._binary import mean_over_axis, prepare_elementwise, smooth_binary_pair
from ._categorical import _check_preds_values, softmax_grad, softmax_grad_dd
from ._fp import mul0, two_prod, two_sum_low
from ._frameworks import dispatch
from ._namespace import array_namespace, astype, compute_dtype, move_last
from ._primitives import exp_dd, normaliser_dd, shift_exp, sigmoid_parts
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


_ATANH_TERMS = 19  # u <= 1/3: u**38 / 39 < 2**-60


def _log1p_dd(xp: Any, t: Any, t_lo: Any) -> tuple[Any, Any]:
    r"""``log1p(t + t_lo) = hi + lo`` for ``0 <= t <= 1``, to ~0.05 ulp (``log1p``: 0.52).

    :math:`\operatorname{log1p}(t) = 2\operatorname{atanh}(u) = 2u + 2u\,c(u^2)`,
    :math:`u = t / (2 + t) \le 1/3`, with ``u`` carried as a quotient and its remainder and the
    small series ``c = u^2/3 + u^4/5 + ...`` in plain double (its error is scaled by ``c < 0.04``).
    """
    d = 2.0 + t
    d_lo = ((2.0 - d) + t) + t_lo
    u = t / d
    ud, ud_lo = two_prod(u, d)
    u_lo = (((t - ud) - ud_lo) + t_lo - u * d_lo) / d
    u2 = u * u
    c = xp.zeros_like(u)
    for k in range(_ATANH_TERMS, 0, -1):
        c = u2 * (1.0 / (2 * k + 1) + c)
    return 2.0 * u, 2.0 * (u * c + u_lo * (1.0 + c))


class _SigmoidDD(NamedTuple):
    """Sigmoid pieces of a logit to ~0.5 ulp each (:func:`_sigmoid_dd`)."""

    sp_pos: Any  # softplus(x) = -log(1 - p)
    sp_neg: Any  # softplus(-x) = -log p
    sig_pos: Any  # sigma(x) = p
    sig_neg: Any  # sigma(-x) = 1 - p
    f_pos: Any  # (1 - p)^gamma
    f_neg: Any  # p^gamma


def _sigmoid_dd(xp: Any, gamma: float, x: Any) -> _SigmoidDD:
    r"""The sigmoid pieces a focal term needs, each rounded once from a double-double value.

    With ``t = exp(-|x|)`` from :func:`exp_dd` and ``h = 1 + t`` carried exactly:
    :math:`\sigma(|x|) = 1/h`, :math:`\sigma(-|x|) = t/h` (quotients with their remainders),
    :math:`\operatorname{softplus}(-|x|) = \operatorname{log1p}(t)`,
    :math:`\sigma(|x|)^\gamma = h^{-\gamma}` and :math:`\sigma(-|x|)^\gamma =
    e^{-\gamma|x|} h^{-\gamma}` (the exponent's product carried; never ``exp(gamma log(...))``,
    which multiplies the rounding of the product by ``|gamma log(...)|``). A focal term is a
    product of several of these, so each must be good to a fraction of an ulp: with the plain
    ``sigmoid_parts`` the gradient reached 3.9 ulp.
    """
    ax = xp.abs(x)
    t, t_lo = exp_dd(xp, -ax)
    h = 1.0 + t
    h_lo = (t - (h - 1.0)) + t_lo
    r = 1.0 / h
    rh, rh_lo = two_prod(r, h)
    r_lo = r * (((1.0 - rh) - rh_lo) - r * h_lo)
    big = r + r_lo  # 1 / (h + h_lo)
    st, st_lo = two_prod(t, r)
    small = st + (st_lo + t * r_lo + t_lo * r)  # t / (h + h_lo)
    l1, l1_lo = _log1p_dd(xp, t, t_lo)
    if gamma == 0:
        f_big = f_small = xp.ones_like(x)
    else:
        f_big = _pow_dd(xp, gamma, r, r_lo)
        f_small = _pow_dd(xp, gamma, st, st_lo + t * r_lo + t_lo * r)
        # Where t/h is (nearly) subnormal its relative accuracy is gone, but its power with
        # gamma < 1 need not be: there e^(-gamma |x|) h^-gamma, the product carried.
        far = ax > 690.0
        if bool(xp.any(far)):
            ok = ax < 2.0**500
            a_s = xp.where(ok, ax, 0.0)
            p, d = two_prod(a_s, gamma)
            e, e_lo = exp_dd(xp, -p)
            e = xp.where(ok, e + (e_lo - e * d), xp.exp(-(gamma * ax)))
            f_small = xp.where(far, e * f_big, f_small)
    pos = x >= 0
    sp_big = ax + l1
    sp_big = xp.where(xp.isinf(x), ax, sp_big + (two_sum_low(ax, l1, sp_big) + l1_lo))
    l1 = l1 + l1_lo
    return _SigmoidDD(
        xp.where(pos, sp_big, l1),
        xp.where(pos, l1, sp_big),
        xp.where(pos, big, small),
        xp.where(pos, small, big),
        xp.where(pos, f_small, f_big),
        xp.where(pos, f_big, f_small),
    )


def _sigmoid_plain(xp: Any, gamma: float, x: Any) -> _SigmoidDD:
    """The pieces of :func:`_sigmoid_dd` from :func:`sigmoid_parts` (a few ulp each)."""
    sp_pos, sp_neg, sig_pos, sig_neg = sigmoid_parts(xp, x)
    f_pos, f_neg = _pow_dd(xp, gamma, sig_neg), _pow_dd(xp, gamma, sig_pos)
    if gamma != 0:
        # Beyond |x| = 690, sigma(-|x|) loses its relative accuracy (and underflows past 745)
        # while its power with a small gamma may not: e^(-gamma |x|) there.
        ax = xp.abs(x)
        far = ax > 690.0
        if bool(xp.any(far)):
            tail = xp.exp(-(gamma * ax))
            f_pos = xp.where(far & (x > 0), tail, f_pos)
            f_neg = xp.where(far & (x < 0), tail, f_neg)
    return _SigmoidDD(sp_pos, sp_neg, sig_pos, sig_neg, f_pos, f_neg)


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
    inner = 1.0 / (p + 0.0)  # -0.0 is probability 0: +inf, as for +0.0 (not -inf + inf)
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
    exact: bool = True,
) -> tuple[Any, Any]:
    r"""Element-wise :math:`a\,y (1-p)^\gamma (-\log p) + b\,(1-y)\,p^\gamma (-\log(1-p))`.

    ``ny`` is ``1 - y`` when the caller has it without cancellation (smoothed labels).
    ``exact``: the result keeps the compute precision (float64 inputs), so the sigmoid pieces
    are taken from double-double values; otherwise the plain ones are ample.
    """
    ny = 1.0 - y if ny is None else ny
    a_pos = y if alpha is None else alpha * y
    a_neg = ny if alpha is None else (1.0 - alpha) * ny
    if from_logits:
        # -log p = softplus(-x), -log(1 - p) = softplus(x); (1 - p)^g = sigma(-x)^g.
        sig = _sigmoid_dd if exact else _sigmoid_plain
        sp_pos, sp_neg, sig_pos, sig_neg, f_pos, f_neg = sig(xp, gamma, x)
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


@dispatch
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
    out: np.ndarray | None = None,  # the caller copies the gradient into it
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
        exact = ew.x.dtype == ew.dtype
        loss, grad = _binary_focal_core(ew.xp, y, ew.x, g, a_val, from_logits, need_grad, ny, exact)
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


def _focal_softmax_core(
    xp: Any, xl: Any, a: Any, g: float, exact: bool, need_grad: bool
) -> tuple[Any, Any]:
    """Categorical focal loss of logits ``xl`` (compute dtype, class axis last) and targets
    ``a`` (smoothed, alpha-weighted): the per-sample loss and, when asked, its gradient."""
    sh = shift_exp(xp, xl, exact_shift=exact)
    nll = sh.neg_log_softmax()
    # 1 - p_c = T_c / (1 + S), T_c = sum_{j != c} exp(x_j - m) (the argmax term is 1).
    # The focal factor (1 - p_c)^g multiplies the relative error of T_c by g, and at the
    # maximum T = S, where the term is ~S^(g+1): float64 carries S as hi + lo, and
    # 1 + S and the quotient with their rounding errors, then takes pow (never
    # exp(g log q), which multiplies the error by |g log q|).
    if exact:
        s_hi, s_lo, e_hi, e_lo = normaliser_dd(xp, xl, sh)
        z = 1.0 + s_hi
        z_lo = xp.where(s_hi <= 1.0, s_hi - (z - 1.0), 1.0 - (z - s_hi)) + s_lo
        t = xp.where(sh.is_arg, s_hi, 1.0 + (s_hi - sh.e))
        t_lo = xp.where(sh.is_arg, s_lo, 0.0)
        q = t / z
        qz, qz_lo = two_prod(q, z)
        q_lo = xp.where(z > 0, ((t - qz) - qz_lo + t_lo - q * z_lo) / z, 0.0)
        q_lo = xp.where(xp.isfinite(q_lo), q_lo, 0.0)
        f = _pow_dd(xp, g, q, q_lo)
        small_s = s_hi <= 1.0
        l1, l1_lo = _log1p_dd(xp, xp.where(small_s, s_hi, 0.0), xp.where(small_s, s_lo, 0.0))
        l1 = xp.where(small_s, l1 + l1_lo, xp.log1p(s_hi) + s_lo / z)
        nll = xp.where(sh.is_arg, l1, nll)
    else:  # float16/float32 inputs: float64 is ~2**29 times finer than needed
        e_hi, e_lo = sh.e, 0.0
        t = xp.where(sh.is_arg, sh.s, 1.0 + (sh.s - sh.e))
        t_lo = 0.0
        f = _pow_dd(xp, g, t / (1.0 + sh.s))
    loss = accurate_sum(xp, mul0(xp, a, mul0(xp, f, nll)), -1, exact=exact)
    grad = None
    if need_grad:
        # d(f_c nll_c)/dx_j = (p_j - [j = c]) h_c, h_c = f_c (1 + g p_c nll_c / (1 - p_c)):
        # the gradient of sum_c a_c h_c (-log p_c) at fixed h, reusing softmax_grad.
        h = f
        if g != 0:
            # p_c nll_c / (1 - p_c) = e_c nll_c / T_c: the normaliser cancels (e = 1 at
            # the maximum); its limit at p_c = 1 (T_c = 0) is 1.
            e_c = xp.where(sh.is_arg, 1.0, e_hi + e_lo)
            t_safe = xp.where(t == 0, 1.0, t)
            pr = mul0(xp, e_c, nll) / t_safe * (1.0 - t_lo / t_safe)
            h = f * (1.0 + g * xp.where(t == 0, 1.0, pr))
        b = mul0(xp, a, h)
        if exact:
            # The entries are ~S^(g+1) at a confident maximum and cancel for soft labels:
            # the double-double gradient, from the pieces already computed.
            grad = softmax_grad_dd(xp, xl, sh, b, parts=(s_hi, s_lo, e_hi, e_lo))
        else:
            grad = softmax_grad(xp, sh, b)
    return loss, grad


@dispatch
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
    out: np.ndarray | None = None,  # the caller copies the gradient into it
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
    xl = move_last(xp, astype(xp, arr, cdt), ax)
    _check_preds_values(fn, "y_pred", arr, xl, xp, ax, from_logits, validate)
    c = xl.shape[-1]
    y = move_last(xp, astype(xp, lab, cdt), ax)
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
            loss, grad = _focal_softmax_core(xp, xl, a, g, arr.dtype == cdt, need_grad)
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
