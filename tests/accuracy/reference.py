"""Exact references for every loss and gradient, in mpmath, written without cancellation.

Each function takes the *given* floating-point inputs (converted to mpmath exactly) and returns
the exact value of the library's documented formula on them, to far more than float64 precision:

* ``-log softmax(x)_c = (m - x_c) + log1p(sum_{j != j*} e^{x_j - m})`` (``m = x_{j*}``, the first
  maximum), differences formed exactly; ``1 - softmax(x)_c = T_c / (1 + S)`` with ``T_c`` a sum of
  exponentials, never ``1 - p``;
* ``log(1 - p)`` as ``log1p(-p)``; softplus as ``max(x, 0) + log1p(e^{-|x|})``;
* gradients ``A p_j - a_j`` as ``(sum_{c != j} a_c) p_j - a_j sum_{i != j} p_i``: for a hard label
  the true-class entry is ``-sum_{j != k} p_j``, a sum of positive terms.

The remaining subtractions (soft labels: ``A p_j`` against ``a_j``; ``(1-y) sigma(x)`` against
``y sigma(-x)``) can cancel for real. They go through :func:`sub`, which flags a loss of more than
``prec - 80`` bits; :func:`evaluate` then recomputes at 2x and 4x the precision, so every stored
reference has at least 80 correct bits (exactly 0 only when it is 0 at 4x precision too).

This is the test tree's one mpmath reference: ``tests/reference``, the kernel, gradient and
conformance tests use it too (:func:`encode_all` for the ULP metric of ``ulp.py``,
:func:`numeric_grad` to differentiate its loss formulas independently of its gradient formulas).

Conventions at the edges are the library's documented ones, restated here independently: ``0 *
inf = 0`` for a term with zero weight; a row with ``k`` entries at ``+inf`` puts mass ``1/k`` on
each (no limit exists: this is a convention, listed in docs/accuracy.md); ``-inf`` logits have
probability 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
from mpmath import mp, mpf

__all__ = [
    "BASE_PREC",
    "binary_focal_logits",
    "binary_focal_probs",
    "binary_probs",
    "categorical_focal_logits",
    "categorical_focal_probs",
    "categorical_logits",
    "categorical_probs",
    "encode",
    "encode_all",
    "evaluate",
    "log_sigmoid",
    "logsumexp",
    "mse",
    "numeric_grad",
    "sigmoid",
    "sigmoid_xent",
    "softmax_parts",
    "softplus",
]

BASE_PREC = 200  # bits (~60 decimal digits); cancelling subtractions retry at 400 and 800
_KEEP_BITS = 80
_E_CLAMP = 4000  # stored exponents are clamped: 2**-4000 is 0 and 2**4000 is inf in every format

INF = mpf("inf")
_flag = [False]
_kappa: list[float] = []  # condition number of each sub() of the current evaluation


def X(v: Any) -> mpf:
    """A float (any NumPy float dtype or Python float) as an exact mpmath number."""
    f = float(v)
    if math.isnan(f):
        return mpf("nan")
    return mpf(f)  # exact: the working precision is >= 53 bits


def sub(a: mpf, b: mpf) -> mpf:
    """``a - b``, flagging a cancellation that leaves fewer than 80 correct bits."""
    r = a - b
    if mpmath.isinf(a) or mpmath.isinf(b) or mpmath.isnan(r):
        _kappa.append(1.0)
        return r
    big = max(abs(a), abs(b))
    _kappa.append(1.0 if big == 0 else (math.inf if r == 0 else float((abs(a) + abs(b)) / abs(r))))
    if big != 0 and (r == 0 or abs(r) < big * mpf(2) ** (_KEEP_BITS - mp.prec)):
        _flag[0] = True
    return r


def evaluate(fn: Callable[..., Any], *args: Any) -> tuple[Any, list[float]]:
    """Run ``fn(*args)`` at 200 bits, or at 400/800 when :func:`sub` saw a cancellation.

    Returns the result and the condition number ``(|a| + |b|) / |a - b|`` of each :func:`sub`
    call, in order (one per gradient entry of the functions below that subtract).
    """
    out = None
    for prec in (BASE_PREC, 2 * BASE_PREC, 4 * BASE_PREC):
        with mp.workprec(prec):
            _flag[0] = False
            _kappa.clear()
            out = fn(*args)
            if not _flag[0]:
                break
    return out, list(_kappa)


def mul0(a: mpf, b: mpf) -> mpf:
    """``a * b`` with ``0 * inf = 0`` (a term of zero weight contributes nothing)."""
    return mpf(0) if a == 0 or b == 0 else a * b


def div(a: mpf, b: mpf) -> mpf:
    """``a / b`` with ``a / 0 = sign(a) inf`` and ``0 / 0`` excluded by the callers."""
    if b == 0:
        return INF if a > 0 else -INF
    return a / b


def encode(v: Any) -> tuple[float, float, int]:
    """``v`` as ``(hi, lo, e)`` with ``v = (hi + lo) * 2**e``, ``0.5 <= |v| / 2**e < 1``."""
    with mp.workprec(8 * BASE_PREC):  # never round v itself
        v = v if isinstance(v, mpf) else mpf(v)
        if mpmath.isnan(v):
            return (math.nan, 0.0, 0)
        if mpmath.isinf(v):
            return (float(v), 0.0, 0)
        if v == 0:
            return (0.0, 0.0, 0)
        m, e = mpmath.frexp(v)
        e = int(e)
        if e > _E_CLAMP:
            return (math.copysign(math.inf, float(m)), 0.0, 0)
        hi = float(m)
        lo = float(m - hi)
    # |hi| may round up to 1: e stays that of the exact value, so its ulp is the right one.
    return (hi, lo, max(e, -_E_CLAMP))


def encode_all(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`encode` of each value (mpmath numbers, floats or decimal strings, parsed exactly).

    Returns the arrays ``(hi, lo, e)`` that ``ulp.ulp_error`` takes.
    """
    seq = values if isinstance(values, (list, tuple)) else [values]
    enc = [encode(v if isinstance(v, (mpf, str)) else X(v)) for v in seq]
    hi = np.array([t[0] for t in enc], dtype=np.float64)
    lo = np.array([t[1] for t in enc], dtype=np.float64)
    return hi, lo, np.array([t[2] for t in enc], dtype=np.int64)


def numeric_grad(
    f: Callable[[list[mpf]], mpf],
    x: Sequence[float],
    *,
    scale: Sequence[float] | None = None,
    direction: int = 0,
    dps: int | None = None,
) -> list[mpf]:
    """``d f / d x_i`` for each ``i`` by ``mpmath.diff`` (one-sided when ``direction`` is +-1).

    For checking analytic gradients against the loss formulas of this module, independently of
    their gradient formulas. The step is ``scale_i * 10**-dps``: ``scale_i`` is how far ``x_i``
    is from a singularity (``p`` or ``1 - p`` for probabilities, 1 for logits). ``dps`` defaults
    to 60 digits plus enough that an O(|x|) loss still resolves derivatives as small as
    ``e**-2|x|``. The result keeps that precision; the working precision is restored on return.
    """
    finite = [abs(float(v)) for v in x if math.isfinite(float(v))]
    if dps is None:
        dps = 60 + int(0.9 * max(finite, default=0.0))
    flag, kappa = _flag[0], list(_kappa)
    try:
        with mp.workdps(dps):
            base = [X(v) for v in x]
            scales = [mpf(1)] * len(base) if scale is None else [X(s) for s in scale]
            out = []
            for i in range(len(base)):

                def fi(t: mpf, i: int = i) -> mpf:
                    xx = list(base)
                    xx[i] = base[i] + t
                    return f(xx)

                h = scales[i] * mpf(10) ** (-dps)
                out.append(mpmath.diff(fi, 0, h=h, direction=direction))
            return out
    finally:  # the loss functions' sub() bookkeeping belongs to evaluate(), not to this
        _flag[0] = flag
        _kappa[:] = kappa


# --------------------------------------------------------------------------------------------
# Element-wise


def softplus(x: mpf) -> mpf:
    """``log(1 + e^x)``."""
    if x == INF:
        return INF
    if x == -INF:
        return mpf(0)
    if x > 0:
        return x + mpmath.log1p(mpmath.exp(-x))
    return mpmath.log1p(mpmath.exp(x))


def sigmoid(x: mpf) -> mpf:
    """``1 / (1 + e^{-x})``."""
    if x == INF:
        return mpf(1)
    if x == -INF:
        return mpf(0)
    if x >= 0:
        return 1 / (1 + mpmath.exp(-x))
    t = mpmath.exp(x)
    return t / (1 + t)


def log_sigmoid(x: mpf) -> mpf:
    return -softplus(-x)


def sigmoid_xent(y: mpf, x: mpf, w: mpf) -> tuple[mpf, mpf]:
    """``w y softplus(-x) + (1 - y) softplus(x)`` and ``(1 - y) sigma(x) - w y sigma(-x)``."""
    wy, ny = w * y, _one_minus(y)
    loss = mul0(wy, softplus(-x)) + mul0(ny, softplus(x))
    grad = sub(ny * sigmoid(x), wy * sigmoid(-x))
    return loss, grad


def binary_probs(y: mpf, p: mpf, w: mpf) -> tuple[mpf, mpf]:
    """``-w y log p - (1 - y) log1p(-p)`` and ``(1 - y) / (1 - p) - w y / p``."""
    wy, ny = w * y, _one_minus(y)
    loss = mul0(wy, -mpmath.log(p)) + mul0(ny, -mpmath.log1p(-p))
    g_neg = mpf(0) if ny == 0 else div(ny, _one_minus(p))
    g_pos = mpf(0) if wy == 0 else div(wy, p)
    return loss, sub(g_neg, g_pos)


def _ratio(nll: mpf, q: mpf) -> mpf:
    """``-log(p) / (1 - p)`` given both, with its limit 1 at ``p = 1``."""
    return mpf(1) if q == 0 else nll / q


def _pow(b: mpf, g: mpf) -> mpf:
    return mpf(1) if g == 0 else (mpf(0) if b == 0 else b**g)


def binary_focal_logits(y: mpf, x: mpf, gamma: mpf, alpha: mpf | None) -> tuple[mpf, mpf]:
    """Focal loss from a logit: ``a_pos (1-p)^g sp(-x) + a_neg p^g sp(x)``, ``p = sigma(x)``."""
    a_pos = y if alpha is None else alpha * y
    a_neg = _one_minus(y) if alpha is None else _one_minus(alpha) * _one_minus(y)
    sp_p, sp_n = softplus(x), softplus(-x)  # -log(1 - p), -log p
    s_p, s_n = sigmoid(x), sigmoid(-x)  # p, 1 - p
    f_pos, f_neg = _pow(s_n, gamma), _pow(s_p, gamma)
    loss = mul0(a_pos, mul0(f_pos, sp_n)) + mul0(a_neg, mul0(f_neg, sp_p))
    # d/dx[f_pos sp(-x)] = -f_pos [g p sp(-x) + (1 - p)], and the mirror image.
    d_pos = mul0(f_pos, gamma * mul0(s_p, sp_n) + s_n)
    d_neg = mul0(f_neg, gamma * mul0(s_n, sp_p) + s_p)
    return loss, sub(mul0(a_neg, d_neg), mul0(a_pos, d_pos))


def _one_minus(p: mpf) -> mpf:
    """``1 - p`` exactly (``p = 1e-100`` must not round to 1 at any working precision)."""
    return mpmath.fsub(1, p, exact=True)


def _focal_prob_term(p: mpf, q: mpf, gamma: mpf) -> tuple[mpf, mpf]:
    """``(1 - p)^g (-log p)`` and its derivative ``-(1-p)^g [1/p + g (-log p)/(1 - p)]``.

    ``q`` is ``1 - p``, given exactly by the caller.
    """
    nll = -mpmath.log(p)
    f = _pow(q, gamma)
    term = mul0(f, nll)
    inner = div(mpf(1), p) + (0 if gamma == 0 else gamma * _ratio(nll, q))
    return term, -mul0(f, inner)


def binary_focal_probs(y: mpf, p: mpf, gamma: mpf, alpha: mpf | None) -> tuple[mpf, mpf]:
    """``a_pos (1-p)^g (-log p) + a_neg p^g (-log(1-p))`` and its derivative in ``p``."""
    a_pos = y if alpha is None else alpha * y
    a_neg = _one_minus(y) if alpha is None else _one_minus(alpha) * _one_minus(y)
    q = _one_minus(p)
    t_pos, d_pos = _focal_prob_term(p, q, gamma)
    t_neg, d_neg = _focal_prob_term(q, p, gamma)  # derivative w.r.t. (1 - p): negate
    loss = mul0(a_pos, t_pos) + mul0(a_neg, t_neg)
    return loss, sub(mul0(a_pos, d_pos), mul0(a_neg, d_neg))


def mse(y: mpf, x: mpf) -> tuple[mpf, mpf]:
    d = x - y
    return d * d, 2 * d


# --------------------------------------------------------------------------------------------
# Rows (softmax over the last axis)


def softmax_parts(x: Sequence[mpf]) -> tuple[list[mpf], list[mpf], list[mpf], mpf]:
    """``(nll, p, q, lse)``: ``-log softmax``, softmax, ``1 - softmax`` and logsumexp."""
    c = len(x)
    n_inf = sum(1 for v in x if v == INF)
    if n_inf:
        k = mpf(n_inf)
        nll = [mpmath.log(k) if v == INF else INF for v in x]
        p = [1 / k if v == INF else mpf(0) for v in x]
        q = [(k - 1) / k if v == INF else mpf(1) for v in x]
        return nll, p, q, INF
    m = max(x)
    js = next(j for j in range(c) if x[j] == m)
    if m == -INF:
        nan = mpf("nan")
        return [nan] * c, [nan] * c, [nan] * c, -INF
    d = [mpmath.fsub(m, v, exact=True) if v != -INF else INF for v in x]  # m - x_j >= 0, exact
    e = [mpf(0) if j == js else mpmath.exp(-d[j]) for j in range(c)]
    s = mpmath.fsum(e)
    z = 1 + s
    l1 = mpmath.log1p(s)
    nll = [d[j] + l1 for j in range(c)]
    p = [(1 if j == js else e[j]) / z for j in range(c)]
    # 1 - p_j = T_j / (1 + S): T_j = S at the maximum, else 1 + S - e_j >= 1 (no cancellation).
    q = [(s if j == js else z - e[j]) / z for j in range(c)]
    return nll, p, q, m + l1


def _grad_rows(
    b: Sequence[mpf], p: Sequence[mpf], q: Sequence[mpf], idx: Sequence[int]
) -> list[mpf]:
    """``B p_j - b_j`` as ``(sum_{c != j} b_c) p_j - b_j (1 - p_j)`` for ``j`` in ``idx``."""
    total = mpmath.fsum(b)
    out = []
    for j in idx:
        rest = total - b[j]  # exact enough: b_j's own share is removed from an exact sum
        out.append(sub(mul0(rest, p[j]), mul0(b[j], q[j])))
    return out


def categorical_logits(
    a: Sequence[mpf], x: Sequence[mpf], idx: Sequence[int]
) -> tuple[mpf, list[mpf]]:
    """``sum_c a_c (-log softmax(x)_c)`` and its gradient at the classes ``idx``."""
    nll, p, q, _ = softmax_parts(x)
    loss = mpmath.fsum(mul0(ac, n) for ac, n in zip(a, nll, strict=True))
    return loss, _grad_rows(a, p, q, idx)


def categorical_focal_logits(
    a: Sequence[mpf], x: Sequence[mpf], gamma: mpf, idx: Sequence[int]
) -> tuple[mpf, list[mpf]]:
    """``sum_c a_c (1 - p_c)^g (-log p_c)``; gradient ``B p - b``, ``b_c = a_c h_c``.

    ``h_c = (1 - p_c)^g [1 + g p_c (-log p_c) / (1 - p_c)]``: d(f_c n_c)/dx_j = (p_j - [j = c]) h_c.
    """
    nll, p, q, _ = softmax_parts(x)
    f = [_pow(qc, gamma) for qc in q]
    loss = mpmath.fsum(mul0(ac, mul0(fc, n)) for ac, fc, n in zip(a, f, nll, strict=True))
    b = []
    for ac, fc, pc, qc, n in zip(a, f, p, q, nll, strict=True):
        h = fc if gamma == 0 else mul0(fc, 1 + gamma * mul0(pc, _ratio(n, qc)))
        b.append(mul0(ac, h))
    return loss, _grad_rows(b, p, q, idx)


def categorical_probs(
    a: Sequence[mpf], p: Sequence[mpf], idx: Sequence[int]
) -> tuple[mpf, list[mpf]]:
    """``-sum_c a_c log p_c`` and ``-a_c / p_c``."""
    loss = mpmath.fsum(mul0(ac, -mpmath.log(pc)) for ac, pc in zip(a, p, strict=True))
    return loss, [mpf(0) if a[j] == 0 else -div(a[j], p[j]) for j in idx]


def categorical_focal_probs(
    a: Sequence[mpf], p: Sequence[mpf], gamma: mpf, idx: Sequence[int]
) -> tuple[mpf, list[mpf]]:
    terms = [_focal_prob_term(pc, _one_minus(pc), gamma) for pc in p]
    loss = mpmath.fsum(mul0(ac, t[0]) for ac, t in zip(a, terms, strict=True))
    return loss, [mul0(a[j], terms[j][1]) for j in idx]


def logsumexp(x: Sequence[mpf]) -> mpf:
    return softmax_parts(x)[3]


def as_mp(values: Any) -> list[mpf]:
    """A 1-d array as a list of exact mpmath numbers."""
    return [X(v) for v in np.asarray(values).ravel().tolist()]
