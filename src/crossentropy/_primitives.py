"""logsumexp, softmax, log_softmax, sigmoid, log_sigmoid and softplus, without cancellation.

Everything here works on the last axis of an array already in the compute dtype (the public
functions move the class axis there). The heart is :func:`shift_exp`: with ``m`` the row maximum
and ``e_j = exp(x_j - m)`` for every entry but the (first) argmax, whose ``e`` is set to 0,

    logsumexp(x) = m + log1p(S),        S = sum_j e_j,
    -log softmax(x)_c = (m - x_c) + log1p(S),

which is a sum of two non-negative terms: no cancellation, and log1p keeps the relative accuracy
of a tiny S (logits [30, 0, 0] give -log softmax[0] = 1.87e-13, where ``x - logsumexp(x)`` gives 0).
logsumexp itself cancels for ``m < 0`` and a result near 0 (log-probabilities): those rows are
recomputed in double-double (:func:`_lse_cancelling`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np

from . import _kernels
from ._fp import INV_LN2, LN2_HI, LN2_LO, SCALE_EXP, SCALE_INV, two_prod, two_sum_low
from ._kernels import RowStatus, SoftmaxMode
from ._namespace import (
    array_namespace,
    astype,
    compute_dtype,
    device,
    is_numpy,
    move_back,
    move_last,
    to_output,
)
from ._summation import dd_sum
from ._validation import as_numpy, check_axis, check_float_array

__all__ = [
    "Shifted",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "scaled_exps",
    "shift_exp",
    "sigmoid",
    "sigmoid_parts",
    "softmax",
    "softplus",
]


class Shifted(NamedTuple):
    """The pieces of a max-shifted softmax along the last axis (see :func:`shift_exp`).

    All keep the class axis; ``m``, ``s`` and ``log1p_s`` have length 1 there.
    """

    m: Any  # row maximum
    nll_shift: Any  # m - x_c >= 0 (exact up to one rounding; +inf for a -inf logit)
    is_arg: Any  # True at the first argmax of each row
    e: Any  # exp(x_c - m), 0 at the argmax entry
    s: Any  # sum of e: the softmax normaliser is 1 + s
    log1p_s: Any  # log1p(s)

    def neg_log_softmax(self) -> Any:
        """-log softmax(x)_c = (m - x_c) + log1p(S), a sum of non-negative terms."""
        return self.nll_shift + self.log1p_s

    def softmax(self, xp: Any) -> Any:
        """softmax(x)_c = e_c / (1 + S), and 1 / (1 + S) at the argmax."""
        return xp.where(self.is_arg, 1.0, self.e) / (1.0 + self.s)


def shift_exp(xp: Any, x: Any, *, exact_shift: bool) -> Shifted:
    """Max-shift ``x`` along its last axis and exponentiate, one exp per element.

    ``exact_shift=True`` (float64 inputs) carries the rounding error of ``x - m`` (TwoSum) into the
    exponential and into ``m - x``: for ``x - m = -700`` the rounding of the difference alone would
    cost ~700 ulp in ``exp``. Inputs narrower than the compute dtype subtract exactly already.

    Conventions at the edges: entries equal to the row maximum have ``x - m = 0`` even when the
    maximum is +inf, so a row with +inf entries puts its whole mass, evenly, on them; a -inf entry
    has ``e = 0`` and ``m - x = +inf``. A row that is entirely -inf gives NaN (callers reject it).
    """
    m = xp.max(x, axis=-1, keepdims=True)
    at_max = x == m
    diff = xp.where(at_max, 0.0, x - m)
    if exact_shift:
        low = two_sum_low(x, -m, diff)
        low = xp.where(xp.logical_or(at_max, xp.logical_not(xp.isfinite(low))), 0.0, low)
        e = xp.exp(diff)
        e = e + e * low  # exp(diff + low) to within one rounding
        nll_shift = -diff - low
    else:
        e = xp.exp(diff)
        nll_shift = -diff
    c = x.shape[-1]
    arg = xp.argmax(x, axis=-1, keepdims=True)
    is_arg = xp.arange(c) == arg if is_numpy(xp) else xp.arange(c, device=device(x)) == arg
    e = xp.where(is_arg, 0.0, e)
    s = xp.sum(e, axis=-1, keepdims=True)
    if exact_shift:
        e, s = _subnormal_rows(xp, diff, low, is_arg, e, s)
    return Shifted(m, nll_shift, is_arg, e, s, xp.log1p(s))


def _subnormal_rows(xp: Any, diff: Any, low: Any, is_arg: Any, e: Any, s: Any) -> tuple[Any, Any]:
    """Recompute the rows whose normaliser ``S`` is (nearly) subnormal, scaled by ``e^600``.

    There each ``exp(x_j - m)`` is rounded to an absolute 2**-1075 and the sum of ``C`` of them
    is off by up to ``C / 2`` units of the result (logits [745, 0 x 9]: 3.9 ulp; C = 50 000:
    25 000 ulp). Scaled, the terms keep their relative accuracy and the sum is rounded to the
    subnormal grid once. ``x_j - m + 600`` is exact there (``x_j - m < -690``).
    """
    tiny = s < 2.0**-1000
    if not bool(xp.any(tiny)):
        return e, s
    es = xp.exp(diff + SCALE_EXP)
    es = xp.where(is_arg, 0.0, es + es * low)
    ss = xp.sum(es, axis=-1, keepdims=True)
    return (
        xp.where(tiny, es * SCALE_INV, e),
        xp.where(tiny, ss * SCALE_INV, s),
    )


def scaled_exps(xp: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """The exponentials of :func:`shift_exp` (float64, exact shift) scaled by ``e^600``.

    Returns ``(diff, is_arg, es, ss)``: ``x - m`` (0 at the maximum), the first argmax,
    ``e^600 exp(x_j - m)`` (0 at the argmax) and its row sum. ``diff + 600`` is at most 600, so
    nothing overflows, and the exponentials down to ``x_j - m = -1300`` keep their relative
    accuracy: for the terms that a weight multiplies after the scaling back (see ``Tiny`` in
    :mod:`._reduction`).
    """
    m = xp.max(x, axis=-1, keepdims=True)
    at_max = x == m
    diff = xp.where(at_max, 0.0, x - m)
    low = two_sum_low(x, -m, diff)
    low = xp.where(xp.logical_or(at_max, xp.logical_not(xp.isfinite(low))), 0.0, low)
    c = x.shape[-1]
    arg = xp.argmax(x, axis=-1, keepdims=True)
    is_arg = xp.arange(c) == arg if is_numpy(xp) else xp.arange(c, device=device(x)) == arg
    es = xp.exp(diff + SCALE_EXP)
    es = xp.where(is_arg, 0.0, es + es * low)
    return diff, is_arg, es, xp.sum(es, axis=-1, keepdims=True)


def exp_dd(xp: Any, d: Any) -> tuple[Any, Any]:
    """``exp(d) = hi + lo`` to about 0.25 ulp of ``hi`` (``exp`` alone: up to ~0.7), ``d <= 0``.

    ``d = k ln 2 + r`` exactly (Cody-Waite), ``y = exp(r)`` rounded, and its rounding error
    recovered from ``log1p(y - 1)``, which is accurate to a fraction of an ulp of the small
    ``r``: ``exp(r) = y exp(r - log y)``. Two transcendental calls instead of one; used where
    a result is a high power of an exponential (focal losses).
    """
    fin = xp.isfinite(d)
    ds = xp.where(
        fin, xp.maximum(d, -1100.0), 0.0
    )  # exp(-1100) is 0: |k| <= 1587, k * LN2_HI exact
    k = xp.round(ds * INV_LN2)
    r_hi = ds - k * LN2_HI  # exact
    r = r_hi - k * LN2_LO
    r_lo = two_sum_low(r_hi, -(k * LN2_LO), r)  # r + r_lo = d - k ln 2 to ~2**-100
    y = xp.exp(r)
    delta = (r - xp.log1p(y - 1.0)) + r_lo  # y - 1 and the difference are exact
    hi = np.ldexp(y, k.astype(np.int64)) if is_numpy(xp) else y * xp.pow(xp.full_like(y, 2.0), k)
    return xp.where(fin, hi, 0.0), xp.where(fin, hi * delta, 0.0)


def normaliser_dd(xp: Any, x: Any, sh: Shifted) -> tuple[Any, Any, Any, Any]:
    """The normaliser and exponentials of :func:`shift_exp` as unevaluated sums ``hi + lo``.

    Returns ``(s_hi, s_lo, e_hi, e_lo)``, ``S = sum_{j != j*} exp(x_j - m)`` with ``sh.s``'s
    shape and ``e_j = exp(x_j - m)`` (0 at the maximum). For float64 inputs where the relative
    error of ``S`` is multiplied (a focal term at the maximum is ~``S^(gamma + 1)``): each
    exponential comes from :func:`exp_dd` with the rounding of ``x_j - m`` carried, and the sum
    is double-double, so the error is ~0.25 ulp instead of ~1.2.
    """
    at_max = x == sh.m
    diff = xp.where(at_max, 0.0, x - sh.m)
    low = two_sum_low(x, -sh.m, diff)
    low = xp.where(xp.logical_or(at_max, xp.logical_not(xp.isfinite(low))), 0.0, low)
    e_hi, e_lo = exp_dd(xp, diff)
    e_hi = xp.where(sh.is_arg, 0.0, e_hi)
    e_lo = xp.where(sh.is_arg, 0.0, e_lo + e_hi * low)
    hi, lo = dd_sum(xp, e_hi, -1)
    lo_e = xp.sum(e_lo, axis=-1)
    lo = lo_e if lo is None else lo + lo_e
    s = hi + lo
    lo = xp.where(xp.isfinite(s), lo - (s - hi), 0.0)
    return s[..., None], lo[..., None], e_hi, e_lo


def sigmoid_parts(xp: Any, x: Any) -> tuple[Any, Any, Any, Any]:
    """``(softplus(x), softplus(-x), sigmoid(x), sigmoid(-x))`` from one exp, ``t = exp(-|x|)``.

    softplus(±x) = max(±x, 0) + log1p(t); sigmoid(|x|) = 1 / (1 + t); sigmoid(-|x|) = t / (1 + t).
    Each is a sum of non-negative terms or a ratio, so accurate for every x, ±inf included;
    softplus(-x) is never formed as softplus(x) - x, which cancels.
    """
    t = xp.exp(-xp.abs(x))
    log1p_t = xp.log1p(t)
    big = 1.0 / (1.0 + t)
    small = t * big
    pos = x >= 0
    sp_pos = xp.maximum(x, 0.0) + log1p_t
    sp_neg = xp.maximum(-x, 0.0) + log1p_t
    return sp_pos, sp_neg, xp.where(pos, big, small), xp.where(pos, small, big)


# --------------------------------------------------------------------------------------------
# Public primitives


def _prepare(fn: str, x: Any) -> tuple[Any, Any, Any, Any]:
    xp = array_namespace(x)
    arr = x if not is_numpy(xp) else as_numpy(fn, "x", x)
    if str(arr.dtype) == "bool" or "int" in str(arr.dtype):
        arr = astype(xp, arr, xp.float64)
    arr = check_float_array(fn, "x", arr, xp)
    cdt = compute_dtype(xp, arr.dtype)
    return xp, arr, arr.dtype, astype(xp, arr, cdt)


def _is_exact_shift(xp: Any, in_dtype: Any, cdt: Any) -> bool:
    return bool(in_dtype == cdt)


def _logsumexp_core(xp: Any, xl: Any, exact: bool) -> Any:
    """logsumexp of each row of ``xl`` (compute dtype, class axis last, ``C >= 1``), keepdims.

    Where ``m + log1p(S)`` cancels (``m < 0``, ``log1p(S)`` within a factor 2 of ``-m``: a row
    of log-probabilities, whose logsumexp is ~0) the rows are recomputed in double-double
    (:func:`_lse_cancelling`); elsewhere that costs nothing.
    """
    with np.errstate(all="ignore"):
        sh = shift_exp(xp, xl, exact_shift=exact)
        lse = sh.m + sh.log1p_s
        cancel = _cancels(xp, sh.m, sh.log1p_s)
        if bool(xp.any(cancel)):
            lse = xp.where(cancel, _lse_cancelling(xp, xl, sh), lse)
        return xp.where(sh.m == -np.inf, -np.inf, lse)


def _cancels(xp: Any, m: Any, l1p: Any) -> Any:
    """Where ``m + l1p`` cancels: ``m < 0`` and ``l1p`` in ``[-m/2, -2m]`` (the sum is exact)."""
    return xp.logical_and(m < 0.0, xp.logical_and(l1p >= -0.5 * m, l1p <= -2.0 * m))


# 1/n! as double-doubles (exact rationals rounded twice), n = 0 .. 26: the Taylor series of exp
# on |r| <= ln(2)/2 to below 2**-110.
_INV_FACT = [
    (float(f), float(f - Fraction(float(f))))
    for f in (Fraction(1, math.factorial(n)) for n in range(27))
]
#: ``ln 2 - LN2_HI - LN2_LO`` rounded: ln 2 to about 2**-138 in three parts.
_LN2_LO2 = 1.1612227229362532e-26


def _dd_add(xp: Any, ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    s = ah + bh
    e = two_sum_low(ah, bh, s) + (al + bl)
    hi = s + e
    return hi, e - (hi - s)


def _dd_mul(xp: Any, ah: Any, al: Any, bh: Any, bl: Any) -> tuple[Any, Any]:
    p, e = two_prod(ah, bh)
    e = e + (ah * bl + al * bh)
    hi = p + e
    return hi, e - (hi - p)


def _expm1_reduced(xp: Any, dh: Any, dl: Any) -> tuple[Any, Any, Any]:
    """``(k, qh, ql)`` with ``exp(dh + dl) = 2**k (1 + q)``, ``q`` a double-double to about
    2**-104 relative, ``|dh| <= 745``: Cody-Waite with ln 2 in three parts, then the Taylor
    series of ``expm1`` in double-double arithmetic (no constant term: a tiny ``q`` keeps its
    relative accuracy)."""
    k = xp.round(dh * INV_LN2)
    r_hi = dh - k * LN2_HI  # exact
    p, e = two_prod(-k, LN2_LO)
    rh, rl = _dd_add(xp, r_hi, dl - k * _LN2_LO2, p, e)
    ph = xp.full_like(rh, _INV_FACT[-1][0])
    pl = xp.full_like(rh, _INV_FACT[-1][1])
    for ch, cl in reversed(_INV_FACT[1:-1]):
        ph, pl = _dd_mul(xp, ph, pl, rh, rl)
        ph, pl = _dd_add(xp, ph, pl, ch, cl)
    qh, ql = _dd_mul(xp, ph, pl, rh, rl)
    return k, qh, ql


def _ldexp(xp: Any, v: Any, k: Any) -> Any:
    if is_numpy(xp):
        return np.ldexp(v, k.astype(np.int64))
    return v * xp.pow(xp.full_like(v, 2.0), k)  # pragma: no cover - non-NumPy arrays


def _exp_dd2(xp: Any, dh: Any, dl: Any) -> tuple[Any, Any]:
    """``exp(dh + dl)`` as a double-double to about 2**-104 relative, ``|dh| <= 745``."""
    k, qh, ql = _expm1_reduced(xp, dh, dl)
    h, lo = _dd_add(xp, 1.0 + 0.0 * qh, 0.0 * qh, qh, ql)
    return _ldexp(xp, h, k), _ldexp(xp, lo, k)


def _expm1_dd2(xp: Any, d: Any) -> tuple[Any, Any]:
    """``expm1(d)`` as a double-double to about 2**-104 relative, ``|d| <= 700``."""
    k, qh, ql = _expm1_reduced(xp, d, 0.0 * d)
    h, lo = _dd_add(xp, 1.0 + 0.0 * qh, 0.0 * qh, qh, ql)
    h, lo = _dd_add(xp, _ldexp(xp, h, k), _ldexp(xp, lo, k), -1.0 + 0.0 * qh, 0.0 * qh)
    return xp.where(k == 0, qh, h), xp.where(k == 0, ql, lo)


def _lse_cancelling(xp: Any, xl: Any, sh: Shifted) -> Any:
    """``m + log1p(S)`` with ``S`` and ``log1p(S)`` double-double, rounded once.

    Each ``exp(x_j - m)`` from :func:`_exp_dd2` on the exact difference (TwoSum), summed in
    double-double; ``L0 = log1p(S_hi)`` is corrected by one Newton step on ``expm1``:
    ``log1p(S) = L0 + log1p(u)``, ``u = (S - expm1(L0)) / (1 + expm1(L0))``. Where the caller
    uses it, ``m + L0`` is exact (Sterbenz), so the result is rounded once.
    """
    m = sh.m
    fin = xp.isfinite(xl)
    diff = xp.where(fin, xl - m, 0.0)
    low = xp.where(fin, two_sum_low(xl, -m, diff), 0.0)
    eh, el = _exp_dd2(xp, xp.maximum(diff, -745.0), low)
    dead = xp.logical_or(sh.is_arg, xp.logical_or(diff < -745.0, xp.logical_not(fin)))
    eh = xp.where(dead, 0.0, eh)
    el = xp.where(dead, 0.0, el)
    s_hi, s_lo = dd_sum(xp, eh, -1)
    s_lo = xp.sum(el, axis=-1) if s_lo is None else s_lo + xp.sum(el, axis=-1)
    s_hi, s_lo = _dd_add(xp, s_hi, s_lo, 0.0 * s_hi, 0.0 * s_hi)
    s_hi, s_lo = s_hi[..., None], s_lo[..., None]
    l0 = xp.log1p(s_hi)
    eh0, el0 = _expm1_dd2(xp, l0)
    th, _ = _dd_add(xp, s_hi, s_lo, -eh0, -el0)
    u = th / (1.0 + eh0)
    return (m + l0) + (u - 0.5 * u * u)


def _log_softmax_core(xp: Any, xl: Any, exact: bool) -> Any:
    """log_softmax of each row of ``xl`` (compute dtype, class axis last, ``C >= 1``)."""
    with np.errstate(all="ignore"):
        sh = shift_exp(xp, xl, exact_shift=exact)
        return xp.where(sh.m == -np.inf, np.nan, -sh.neg_log_softmax())


def _softmax_core(xp: Any, xl: Any, exact: bool) -> Any:
    """softmax of each row of ``xl`` (compute dtype, class axis last, ``C >= 1``)."""
    with np.errstate(all="ignore"):
        sh = shift_exp(xp, xl, exact_shift=exact)
        return xp.where(sh.m == -np.inf, np.nan, sh.softmax(xp))


_CORES = {
    SoftmaxMode.LOGSUMEXP: _logsumexp_core,
    SoftmaxMode.LOG_SOFTMAX: _log_softmax_core,
    SoftmaxMode.SOFTMAX: _softmax_core,
}


def _fast_rows(fn: str, x: Any, axis: Any, mode: SoftmaxMode, keepdims: bool = False) -> Any:
    """The kernel's logsumexp, log_softmax or softmax of ``x``; None where the core computes it
    (not a NumPy float32/float64 array of the kernels' size, or no class)."""
    if not _kernels.applies(x):
        return None
    ax = check_axis(fn, axis, x.ndim)
    if x.shape[ax] == 0:
        return None
    x2 = _kernels.rows(x, ax)
    out, lse, status = _kernels.softmax_rows(x2, mode)
    bad = np.flatnonzero(status == RowStatus.REFERENCE)
    if bad.size:  # NaN, +inf or all -inf rows: the core, as for any other input
        ref = to_output(np, _CORES[mode](np, x2[bad].astype(np.float64), x.dtype == np.float64),
                        x.dtype)  # fmt: skip
        if mode == SoftmaxMode.LOGSUMEXP:
            lse[bad] = ref[:, 0]
        else:
            out[bad] = ref
    if mode == SoftmaxMode.LOGSUMEXP:
        res = lse.astype(x.dtype).reshape(x.shape[:ax] + x.shape[ax + 1 :])
        if keepdims:
            res = np.expand_dims(res, ax)
        return res[()] if res.ndim == 0 else res
    moved = x.shape[:ax] + x.shape[ax + 1 :] + (x.shape[ax],)
    res = out.reshape(moved)
    return res if ax == x.ndim - 1 else np.moveaxis(res, -1, ax)


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Any:
    r"""Log of the sum of exponentials along ``axis``, without overflow or cancellation.

    .. math::

        \operatorname{logsumexp}(x) = m
            + \operatorname{log1p}\Big(\sum_{j \ne j^*} e^{x_j - m}\Big),
        \qquad m = x_{j^*} = \max_j x_j

    The maximum term is split out, so the correction is computed by ``log1p`` with full relative
    accuracy; float64 inputs carry the rounding error of each ``x_j - m`` into the exponential.
    Where ``m < 0`` and the result is near 0 (a row of log-probabilities), ``m + log1p(S)``
    would cancel: there it is computed in double-double and rounded once, leaving an error of
    about ``2**-104 |m|`` (see docs/accuracy.md).

    Parameters
    ----------
    x : array_like
        Real input; integers are promoted to float64.
    axis : int, default -1
        The axis to reduce (unlike :func:`scipy.special.logsumexp`, never the whole array).
    keepdims : bool, default False
        Keep the reduced axis with length 1.

    Returns
    -------
    ndarray
        ``x``'s dtype, ``x``'s shape without ``axis``. An all ``-inf`` row gives ``-inf``; a row
        holding ``+inf`` gives ``+inf``; an empty axis gives ``-inf``.

    Examples
    --------
    >>> import crossentropy as ce
    >>> float(ce.logsumexp([1000.0, 1000.0]))
    1000.6931471805599
    """
    fast = _fast_rows("logsumexp", x, axis, SoftmaxMode.LOGSUMEXP, keepdims)
    if fast is not None:
        return fast
    xp, arr, dtype, xc = _prepare("logsumexp", x)
    ax = check_axis("logsumexp", axis, arr.ndim)
    xl = move_last(xp, xc, ax)
    if xl.shape[-1] == 0:
        out = xp.full(xl.shape[:-1] + (1,), -np.inf, dtype=xl.dtype)
    else:
        out = _logsumexp_core(xp, xl, _is_exact_shift(xp, dtype, xl.dtype))
    out = move_back(xp, out, ax) if keepdims else out[..., 0]
    return to_output(xp, out, dtype)


def log_softmax(x: Any, axis: int = -1) -> Any:
    r"""Log of the softmax along ``axis``, accurate for confidently correct entries.

    .. math::

        \log \operatorname{softmax}(x)_c = -\Big[(m - x_c)
            + \operatorname{log1p}\Big(\sum_{j \ne j^*} e^{x_j - m}\Big)\Big]

    a negated sum of non-negative terms: logits ``[30, 0, 0]`` give ``-1.8715e-13`` for the first
    entry where ``x - logsumexp(x)`` gives ``0``.

    Returns
    -------
    ndarray
        ``x``'s dtype and shape. A row of all ``-inf`` gives NaN; ``-inf`` entries give ``-inf``;
        ``+inf`` entries share the mass evenly (``log(1/k)`` for ``k`` of them), others ``-inf``.

    Examples
    --------
    >>> import crossentropy as ce
    >>> float(ce.log_softmax([30.0, 0.0, 0.0])[0])
    -1.8715245937678598e-13
    """
    fast = _fast_rows("log_softmax", x, axis, SoftmaxMode.LOG_SOFTMAX)
    if fast is not None:
        return fast
    xp, arr, dtype, xc = _prepare("log_softmax", x)
    ax = check_axis("log_softmax", axis, arr.ndim)
    xl = move_last(xp, xc, ax)
    if xl.shape[-1] == 0:
        return to_output(xp, xc, dtype)
    out = _log_softmax_core(xp, xl, _is_exact_shift(xp, dtype, xl.dtype))
    return to_output(xp, move_back(xp, out, ax), dtype)


def softmax(x: Any, axis: int = -1) -> Any:
    r"""Softmax along ``axis``: :math:`e^{x_c - m} / \sum_j e^{x_j - m}`, max-shifted.

    Returns
    -------
    ndarray
        ``x``'s dtype and shape. Rows of all ``-inf`` give NaN; ``+inf`` entries share the mass
        evenly.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.softmax([1000.0, 1000.0]).tolist()
    [0.5, 0.5]
    """
    fast = _fast_rows("softmax", x, axis, SoftmaxMode.SOFTMAX)
    if fast is not None:
        return fast
    xp, arr, dtype, xc = _prepare("softmax", x)
    ax = check_axis("softmax", axis, arr.ndim)
    xl = move_last(xp, xc, ax)
    if xl.shape[-1] == 0:
        return to_output(xp, xc, dtype)
    out = _softmax_core(xp, xl, _is_exact_shift(xp, dtype, xl.dtype))
    return to_output(xp, move_back(xp, out, ax), dtype)


def sigmoid(x: Any) -> Any:
    r"""The logistic function :math:`\sigma(x) = 1 / (1 + e^{-x})`, element-wise.

    Computed as :math:`1/(1+t)` for :math:`x \ge 0` and :math:`t/(1+t)` for :math:`x < 0`, with
    :math:`t = e^{-|x|}`: no overflow, full relative accuracy in both tails.

    Examples
    --------
    >>> import crossentropy as ce
    >>> float(ce.sigmoid(-800.0)) == 0.0, float(ce.sigmoid(-40.0))
    (True, 4.248354255291589e-18)
    """
    xp, _, dtype, xc = _prepare("sigmoid", x)
    with np.errstate(all="ignore"):
        return to_output(xp, sigmoid_parts(xp, xc)[2], dtype)


def softplus(x: Any) -> Any:
    r"""Softplus :math:`\log(1 + e^{x}) = \max(x, 0) + \operatorname{log1p}(e^{-|x|})`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> float(ce.softplus(-40.0)), float(ce.softplus(1000.0))
    (4.248354255291589e-18, 1000.0)
    """
    xp, _, dtype, xc = _prepare("softplus", x)
    with np.errstate(all="ignore"):
        return to_output(xp, sigmoid_parts(xp, xc)[0], dtype)


def log_sigmoid(x: Any) -> Any:
    r"""Log of the logistic function, :math:`\log \sigma(x) = -\operatorname{softplus}(-x)`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> float(ce.log_sigmoid(40.0)), float(ce.log_sigmoid(-1000.0))
    (-4.248354255291589e-18, -1000.0)
    """
    xp, _, dtype, xc = _prepare("log_sigmoid", x)
    with np.errstate(all="ignore"):
        return to_output(xp, -sigmoid_parts(xp, xc)[1], dtype)
