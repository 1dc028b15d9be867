# mypy: ignore-errors
# (numba kernels: untyped by nature; their callers in __init__.py are typed)
"""The numba kernels: fused, multi-threaded, vectorisable (imported on first use only).

Every kernel works on C-contiguous 2-d arrays, one row per sample and the class axis last, splits
the rows across threads with ``prange`` and touches each logit once from memory: a row is read
once for its maximum, then (from cache) once for its exponentials, and the gradient is written in
the same pass.

Accuracy
--------
Numba >= 0.62 has no SVML, so ``math.exp`` in a loop is a scalar call; the exponentials here are
written out (range reduction by ``n ln 2`` with the round-to-nearest "magic number", a polynomial
and the scale ``2**n`` made from its bits), which LLVM vectorises. ``scripts/fit_exp_poly.py``
shows how both polynomials' coefficients were obtained, and checks the committed ones:

- float32 inputs compute in float64 and use :func:`exp_f32` (degree-6 polynomial, minimax for
  the relative error on ``|r| <= ln(2)/2`` by Lawson's iteration: 3.1e-9, 0.05 float32 ulp), so
  that the one rounding to float32 at the end dominates;
- float64 inputs use :func:`exp_f64` (the degree-13 Taylor polynomial, evaluated by Estrin's
  scheme, < 1 ulp), and
  carry the rounding error of ``x - m`` (TwoSum) into the exponential and into ``m - x``, as the
  reference path does; sums over a row are compensated (TwoSum per lane).

Floating-point reductions do not vectorise without reassociation (which would also break the
rounding tricks above), so sums are pairwise over L1-sized blocks, every level an element-wise
(vectorised) add of one half onto the other, with TwoSum at every node for float64; the row
maximum is taken over ``LANES`` independent accumulators.
``fastmath`` is limited to ``contract`` (fused multiply-add), which keeps inf and NaN semantics.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._fp import INV_LN2, LN2, LN2_HI, LN2_LO, SCALE_EXP, SCALE_INV, TINY, two_sum_low
from ._codes import RowStatus, SampleWeights, SoftmaxMode

# The named codes as plain ints (numba freezes module globals as compile-time constants).
_OK = int(RowStatus.OK)
_REFERENCE = int(RowStatus.REFERENCE)
_LABELS = int(RowStatus.LABELS)
_TINY_ROW = int(RowStatus.TINY)
_LOGSUMEXP = int(SoftmaxMode.LOGSUMEXP)
_LOG_SOFTMAX = int(SoftmaxMode.LOG_SOFTMAX)
_SOFTMAX = int(SoftmaxMode.SOFTMAX)
_SW_SCALAR = int(SampleWeights.SCALAR)
_SW_PER_ELEMENT = int(SampleWeights.PER_ELEMENT)

LANES = 32  # independent accumulators of the row maximum (a multiple of the vector width)
BLOCK = 1024  # elements per block: the block's float64 scratch stays in L1

_FM = {"contract"}
_OPTS = {"cache": True, "fastmath": _FM, "error_model": "numpy", "boundscheck": False}


@intrinsic
def wide(typingctx):
    """Let LLVM use 512-bit vectors in the calling function where the CPU has them.

    LLVM defaults to 256-bit vectors on AVX-512 CPUs; the per-function attribute
    ``prefer-vector-width`` (what clang's ``-mprefer-vector-width=512`` sets) lifts that for our
    kernels only, without touching numba's process-wide settings. A no-op elsewhere.
    """
    sig = types.none()

    def codegen(context, builder, signature, args):
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with one rounding (``llvm.fma``, vectorisable)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64"
        )
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _i64_as_f64(typingctx, x):
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@intrinsic
def _f64_as_i64(typingctx, x):
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


_SHIFT = 6755399441055744.0  # 1.5 * 2**52: x + _SHIFT - _SHIFT rounds x to an integer
_SHIFT_BITS = 0x4338000000000000  # the bits of _SHIFT


@njit(**_OPTS)
def exp_f32(d):
    """exp(d) to 3.1e-9 relative (0.05 float32 ulp), for d <= 0, -inf or NaN.

    Degree-6 polynomial, near-minimax for the relative error on ``|r| <= ln(2)/2`` (fitted by
    Lawson's iteration against mpmath), written ``1 + (r + r**2 q(r))``.
    """
    t = d * INV_LN2 + _SHIFT
    nf = t - _SHIFT
    r = d - nf * LN2
    r2 = r * r
    q = (0.49999993449714497 + r * 0.16666520654884695) + r2 * (
        (0.041668387480086194 + r * 0.0083687132223096) + r2 * 0.001381462225178093
    )
    p = 1.0 + fma(r2, q, r)
    n = _f64_as_i64(t) - _SHIFT_BITS
    y = p * _i64_as_f64((n + 1023) << 52)
    return 0.0 if d < -708.0 else y


@njit(**_OPTS)
def exp_f64(d):
    """exp(d) to < 1 ulp for d <= 0 (subnormal results included), -inf or NaN."""
    t = d * INV_LN2 + _SHIFT
    nf = t - _SHIFT
    r = d - nf * LN2_HI
    r = r - nf * LN2_LO
    r2 = r * r
    r4 = r2 * r2
    # exp(r) = 1 + (r + r**2 Q(r)), Q the Taylor tail to r**11 (error < 2e-18 for |r| <= ln2/2),
    # by Estrin's scheme; adding 1 last keeps the result within 1 ulp.
    q0 = 0.5 + r * 0.16666666666666666
    q1 = 0.041666666666666664 + r * 0.008333333333333333
    q2 = 0.001388888888888889 + r * 0.0001984126984126984
    q3 = 2.48015873015873e-05 + r * 2.7557319223985893e-06
    q4 = 2.755731922398589e-07 + r * 2.505210838544172e-08
    q5 = 2.08767569878681e-09 + r * 1.6059043836821613e-10
    q = ((q0 + r2 * q1) + r4 * (q2 + r2 * q3)) + (r4 * r4) * (q4 + r2 * q5)
    p = 1.0 + fma(r2, q, r)
    n = _f64_as_i64(t) - _SHIFT_BITS
    n1 = n >> 1  # two factors: 2**n alone is not a normal number below 2**-1022
    s1 = _i64_as_f64((n1 + 1023) << 52)
    s2 = _i64_as_f64((n - n1 + 1023) << 52)
    y = (p * s1) * s2
    return 0.0 if d < -745.2 else y


# --------------------------------------------------------------------------------------------
# Row building blocks. Float64 inputs ("exact") carry double-double corrections; float32 inputs
# compute in float64 without them (their one rounding at the end dominates).


#: The rounding error of ``s = fl(a + b)`` (Knuth's TwoSum): ``.._fp.two_sum_low``, compiled.
_two_sum_low = njit(**_OPTS)(two_sum_low)


@njit(forceinline=True, **_OPTS)
def exp_diff(xj, m):
    """``(d, low, e)`` for a float64 entry: ``x_j - m = d + low`` exactly (TwoSum) and
    ``e = exp(d + low)`` to within one rounding (0 below -745.2, where ``exp`` is 0)."""
    d = xj - m
    low = _two_sum_low(xj, -m, d)
    e = exp_f64(d)
    return d, low, (0.0 if d < -745.2 else e + e * low)


@njit(**_OPTS)
def row_max(xr, mx, bad):
    """``(max, any NaN)`` of a row over ``LANES`` accumulators (a NaN never wins a ``>``)."""
    wide()
    c = xr.size
    for lane in range(LANES):
        mx[lane] = -np.inf
        bad[lane] = 0
    nb = c // LANES
    for b in range(nb):
        base = b * LANES
        for lane in range(LANES):
            v = xr[base + lane]
            mx[lane] = v if v > mx[lane] else mx[lane]
            bad[lane] |= v != v
    m = mx[0]
    nan = False
    for lane in range(LANES):
        m = mx[lane] if mx[lane] > m else m
        nan |= bad[lane] != 0
    for j in range(nb * LANES, c):
        v = xr[j]
        m = v if v > m else m
        nan |= v != v
    return np.float64(m), nan


@njit(**_OPTS)
def exp_block(xr, m, buf, exact):
    """``buf[j] = exp(x_j - m)``, but 0 where ``x_j == m``; returns how many such entries.

    Float64 blocks carry the rounding error of ``x_j - m`` into the exponential (TwoSum).
    The entries at the maximum are exactly 1 each: counting them apart splits the maximum out
    of the normaliser ``1 + S`` exactly, so a tiny ``S`` keeps its relative accuracy.
    """
    wide()
    ties = 0
    if exact:
        for j in range(xr.size):
            d, _, e = exp_diff(xr[j], m)
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else e
    else:
        for j in range(xr.size):
            d = np.float64(xr[j]) - m
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else exp_f32(d)
    return ties


@njit(**_OPTS)
def exp_block_store(xr, m, buf, ob, exact):
    """:func:`exp_block`, also storing every exponential (1 at the maximum) in ``ob``."""
    wide()
    ties = 0
    if exact:
        for j in range(xr.size):
            d, _, e = exp_diff(xr[j], m)
            ob[j] = e
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else e
    else:
        for j in range(xr.size):
            d = np.float64(xr[j]) - m
            e = exp_f32(d)
            ob[j] = e
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else e
    return ties


@njit(**_OPTS)
def exp_block_inplace(xr, m, buf, exact):
    """:func:`exp_block_store` with ``ob`` the block itself (one array: LLVM can vectorise it,
    where two views of the same memory would send it to its scalar fallback)."""
    wide()
    ties = 0
    if exact:
        for j in range(xr.size):
            d, _, e = exp_diff(xr[j], m)
            xr[j] = e
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else e
    else:
        for j in range(xr.size):
            d = np.float64(xr[j]) - m
            e = exp_f32(d)
            xr[j] = e
            ties += 1 if d == 0.0 else 0
            buf[j] = 0.0 if d == 0.0 else e
    return ties


@njit(**_OPTS)
def softmax_sum(xr, m, buf, lob, exact, write, orow, inplace=False):
    """``S = sum_{j != argmax} exp(x_j - m)`` as ``(s_hi, s_lo)``, one exp per entry.

    Block by block: the exponentials go to ``buf`` (and, with ``write``, to ``orow``, which is
    ``xr`` itself when ``inplace``: each block is read before it is written), those at
    the maximum counted instead (:func:`exp_block`); the block is summed pairwise (vectorised,
    TwoSum at every node when ``exact``), the blocks by TwoSum.
    """
    c = xr.size
    s_hi = 0.0
    s_lo = 0.0
    ties = 0
    for j0 in range(0, c, BLOCK):
        j1 = min(c, j0 + BLOCK)
        xb = xr[j0:j1]
        bb = buf[: j1 - j0]
        if write and inplace:  # orow is xr (written through orow: xr may be read-only)
            ties += exp_block_inplace(orow[j0:j1], m, bb, exact)
        elif write:
            ties += exp_block_store(xb, m, bb, orow[j0:j1], exact)
        else:
            ties += exp_block(xb, m, bb, exact)
        b_hi, b_lo = pairwise(buf, lob, j1 - j0, exact)
        t = s_hi + b_hi
        s_lo += _two_sum_low(s_hi, b_hi, t) + b_lo
        s_hi = t
    t = s_hi + (ties - 1)
    s_lo += _two_sum_low(s_hi, np.float64(ties - 1), t)
    hi = t + s_lo
    return hi, s_lo - (hi - t)


@njit(**_OPTS)
def pairwise(buf, lob, n, exact):
    """Pairwise sum of ``buf[:n]`` (destroys ``buf``), as ``(hi, lo)`` when ``exact``.

    Every level adds the upper half onto the lower half: element-wise, so it vectorises.
    """
    wide()
    for j in range(n, BLOCK):
        buf[j] = 0.0
    w = BLOCK // 2
    if exact:
        for j in range(w):
            a = buf[j]
            b = buf[j + w]
            s = a + b
            lob[j] = _two_sum_low(a, b, s)
            buf[j] = s
        w //= 2
        while w >= 1:
            for j in range(w):
                a = buf[j]
                b = buf[j + w]
                s = a + b
                lob[j] = (lob[j] + lob[j + w]) + _two_sum_low(a, b, s)
                buf[j] = s
            w //= 2
        return buf[0], lob[0]
    while w >= 1:
        for j in range(w):
            buf[j] = buf[j] + buf[j + w]
        w //= 2
    return buf[0], 0.0


@njit(**_OPTS)
def copy_block(src, dst):
    wide()
    for j in range(src.size):
        dst[j] = src[j]


@njit(**_OPTS)
def log1p_dd(s_hi, s_lo):
    """``log1p(s_hi + s_lo)`` to first order in ``s_lo``."""
    return math.log1p(s_hi) + s_lo / (1.0 + s_hi)


@njit(**_OPTS)
def inv_dd(sc, s_hi, s_lo):
    """``sc / (1 + S)`` as a double-double ``(q_hi, q_lo)``."""
    den = 1.0 + s_hi
    den_lo = _two_sum_low(1.0, s_hi, den) + s_lo
    q = sc / den
    rem = fma(-q, den, sc) - q * den_lo
    return q, rem / den


@njit(**_OPTS)
def scale_row(orow, q_hi, q_lo, exact):
    """``orow *= q`` (``q = q_hi + q_lo`` when exact)."""
    wide()
    if exact:
        for j in range(orow.size):
            e = np.float64(orow[j])
            orow[j] = fma(e, q_hi, e * q_lo)
    else:
        for j in range(orow.size):
            orow[j] = np.float64(orow[j]) * q_hi


@njit(**_OPTS)
def shift_at(xk, m, exact):
    """``(m - x_k, exp(x_k - m))`` for one entry, as the blocks compute them."""
    xk = np.float64(xk)
    if xk == -np.inf:
        return np.inf, 0.0
    if exact:
        d, low, e = exp_diff(xk, m)
        return -d - low, e
    d = xk - m
    return -d, exp_f32(d)


@njit(**_OPTS)
def fill_zero(orow):
    wide()
    for j in range(orow.size):
        orow[j] = 0.0


_GAIN = 2.0  # weights above this would multiply such a value's rounding error too much


@njit(**_OPTS)
def tiny_window(xr, m):
    """Whether a row has an entry with ``-1500 < x_j - m < -690``: an exponential that is
    (nearly) subnormal, rounded to an absolute 2**-1075, yet one that a weight can lift. Float64
    rows that have one and a weight above ``_GAIN``, or a (nearly) subnormal loss, are handed
    back to the caller (status TINY), whose core applies the weight before that rounding."""
    wide()
    hit = 0
    for j in range(xr.size):
        d = np.float64(xr[j]) - m
        hit += 1 if (d < -690.0 and d > -1500.0) else 0
    return hit != 0


# --------------------------------------------------------------------------------------------
# Kernels: each handles rows ``i0 <= i < i1`` and releases the GIL, so that a thread pool can
# split the rows. Common arguments: ``x`` (n, c) float32/float64, C-contiguous; ``exact`` True
# for float64; ``write`` whether to write into ``out`` ((n, c), x's dtype; may be ``x`` itself:
# every row is read before it is written); ``status`` (n,) int8, set to 1 for rows left to the
# reference path (a NaN, a +inf maximum, all -inf), whose outputs are not written, and to 3 for
# float64 rows with (nearly) subnormal terms that a weight multiplies (see :func:`tiny_window`).


@njit(nogil=True, **_OPTS)
def sparse_softmax(x, k, scale, exact, write, inplace, out, loss, status, i0, i1):
    """Sparse softmax cross-entropy ``loss[i] = -log softmax(x_i)[k_i]`` and its gradient.

    With ``write``: ``out[i] = scale[i] * (softmax(x_i) - onehot(k_i))``, the true-class entry
    computed as ``-scale * sum_{j != k} p_j``; ``inplace``: ``out`` is ``x`` (ignored, ``x`` is
    written). Rows with ``scale == 0`` get loss 0 and a zero
    gradient (they are still checked for NaN).
    """
    wide()
    mx = np.empty(LANES, x.dtype)
    bad = np.empty(LANES, np.uint8)
    buf = np.empty(BLOCK)
    lob = np.empty(BLOCK)
    for i in range(i0, i1):
        xr = x[i]
        m, nan = row_max(xr, mx, bad)
        if nan or m == np.inf or m == -np.inf:
            status[i] = _REFERENCE
            continue
        status[i] = _OK
        sc = scale[i]
        ki = k[i]
        xk = np.float64(xr[ki])
        if sc == 0.0:
            loss[i] = 0.0
            if write:
                fill_zero(out[i])
            continue
        if exact and (sc > _GAIN or (inplace and xk == m)) and tiny_window(xr, m):
            status[i] = _TINY_ROW  # before the exponentials may overwrite the logits
            continue
        orow = out[i] if write else out[0]  # out[i] is xr when inplace
        s_hi, s_lo = softmax_sum(xr, m, buf, lob, exact, write, orow, inplace)
        if exact and s_hi < TINY and xk == m:
            status[i] = _TINY_ROW  # a (nearly) subnormal loss, which the caller weights
            continue
        nll_k, e_k = shift_at(xk, m, exact)
        loss[i] = nll_k + log1p_dd(s_hi, s_lo)
        if write:
            q_hi, q_lo = inv_dd(sc, s_hi, s_lo)
            scale_row(orow, q_hi, q_lo, exact)
            if xk == m:  # -sc * S / (1 + S), no cancellation
                orow[ki] = -(s_hi * q_hi + (s_lo * q_hi + s_hi * q_lo))
            else:  # sc * (p_k - 1) with p_k <= 1/2
                orow[ki] = (e_k * q_hi + e_k * q_lo) - sc


@njit(nogil=True, **_OPTS)
def softmax_rows(x, mode, exact, out, lse, status, i0, i1):
    """Row-wise ``logsumexp`` (into ``lse``), ``log_softmax`` or ``softmax`` (a ``SoftmaxMode``)."""
    wide()
    mx = np.empty(LANES, x.dtype)
    bad = np.empty(LANES, np.uint8)
    buf = np.empty(BLOCK)
    lob = np.empty(BLOCK)
    for i in range(i0, i1):
        xr = x[i]
        m, nan = row_max(xr, mx, bad)
        if nan or m == np.inf or m == -np.inf:
            status[i] = _REFERENCE
            continue
        status[i] = _OK
        orow = out[i] if mode != _LOGSUMEXP else out[0]
        # logsumexp = m + log1p(S) cancels when m < 0 and the result is near 0: there the
        # float32 exponential's 3e-9 would show, so it uses the float64 one for every dtype.
        s_hi, s_lo = softmax_sum(
            xr, m, buf, lob, exact or mode == _LOGSUMEXP, mode == _SOFTMAX, orow
        )
        l1p = log1p_dd(s_hi, s_lo)
        if mode == _LOGSUMEXP and m < 0.0 and l1p >= -0.5 * m and l1p <= -2.0 * m:
            status[i] = _REFERENCE  # m + log1p(S) cancels: the core's double-double
            continue
        if exact and mode != _SOFTMAX and s_hi < TINY:
            # a (nearly) subnormal S is a sum of exponentials each rounded to an absolute
            # 2**-1075 (6.8 ulp seen in log_softmax at the maximum): the core scales by e^600
            status[i] = _REFERENCE
            continue
        lse[i] = m + l1p
        if mode == _SOFTMAX:
            q_hi, q_lo = inv_dd(1.0, s_hi, s_lo)
            scale_row(orow, q_hi, q_lo, exact)
        elif mode == _LOG_SOFTMAX:
            log_softmax_row(xr, m, l1p, exact, orow)


@njit(**_OPTS)
def log_softmax_row(xr, m, l1p, exact, orow):
    """``orow[j] = -((m - x_j) + log1p(S))``."""
    wide()
    for j in range(xr.size):
        xj = np.float64(xr[j])
        d = xj - m
        if exact:
            low = _two_sum_low(xj, -m, d)
            d = d + (0.0 if xj == -np.inf else low)
        orow[j] = d - l1p


# --------------------------------------------------------------------------------------------
# Soft (dense) labels


@njit(**_OPTS)
def label_stats(yr, buf, lob):
    """``(row sum, any NaN or entry outside [0, 1])`` of a row of labels."""
    total = 0.0
    bad = 0
    for j0 in range(0, yr.size, BLOCK):
        j1 = min(yr.size, j0 + BLOCK)
        bad += label_block(yr[j0:j1], buf)
        total += pairwise(buf, lob, j1 - j0, False)[0]
    return total, bad != 0


@njit(**_OPTS)
def label_block(yb, buf):
    wide()
    bad = 0
    for j in range(yb.size):
        v = np.float64(yb[j])
        buf[j] = v
        bad += 0 if 0.0 <= v <= 1.0 else 1
    return bad


@njit(**_OPTS)
def dense_terms(xb, yb, cwb, keep, add, m, exact, a_off, a_at, t):
    """Per entry of a block: ``a_j = (y_j keep + add) w_j`` off / at the maximum, and
    ``a_j (m - x_j)`` (0 where ``a_j = 0``, even at ``x_j = -inf``)."""
    wide()
    for j in range(xb.size):
        xj = np.float64(xb[j])
        a = (np.float64(yb[j]) * keep + add) * cwb[j]
        at_max = xj == m
        d = xj - m
        if exact:
            low = _two_sum_low(xj, -m, d)
            shift = -d - (0.0 if xj == -np.inf else low)
        else:
            shift = -d
        # m - x_j overflows for a finite x_j (logits near 1e308), a_j (m - x_j) may not: the
        # exact halves, 2 a_j (m/2 - x_j/2) (the low part is far below an ulp there)
        far = d == -np.inf and xj != -np.inf
        shift = 0.5 * m - 0.5 * xj if far else shift
        a2 = 2.0 * a if far else a
        t[j] = 0.0 if a == 0.0 else a2 * shift
        a_off[j] = 0.0 if at_max else a
        a_at[j] = a if at_max else 0.0


@njit(**_OPTS)
def _dd_add(hi, lo, b_hi, b_lo):
    """``(hi + lo) + (b_hi + b_lo)`` as a double-double (an infinite ``hi`` carries no ``lo``)."""
    t = hi + b_hi
    lo = lo + b_lo + _two_sum_low(hi, b_hi, t)
    return t, (lo if np.isfinite(t) else 0.0)


@njit(**_OPTS)
def dense_grad_row(erow, yr, cw, keep, add, cq_hi, cq_lo, sc, orow):
    """``orow[j] = sc (A p_j - a_j)`` with ``cq = sc A / (1 + S)`` and ``erow`` the exps."""
    wide()
    for j in range(orow.size):
        a = (np.float64(yr[j]) * keep + add) * cw[j]
        e = erow[j]
        orow[j] = fma(e, cq_hi, e * cq_lo) - sc * a


@njit(nogil=True, **_OPTS)
def dense_softmax(
    x, y, k, sparse, cw, keep, add, scale, exact, validate, tol, write, out, loss, status, i0, i1
):
    """Softmax cross-entropy with soft targets ``a = (y keep + add) w`` (smoothing, weights).

    ``loss[i] = sum_j a_j (m - x_j) + A log1p(S)``, non-negative terms; gradient
    ``scale[i] (A softmax(x_i) - a)``, the argmax entry computed without cancellation when
    ``S < 1``. ``status`` (a ``RowStatus``) REFERENCE: a logits row left to the caller's core;
    LABELS: a labels row that fails (or is within 10% of failing) the checks of ``validate``,
    left to the caller, which raises.
    With ``sparse``, the labels are the one-hot rows of the class indices ``k`` (``y`` unused):
    integer labels with label smoothing.
    """
    wide()
    c = x.shape[1]
    mx = np.empty(LANES, x.dtype)
    bad = np.empty(LANES, np.uint8)
    buf = np.empty(BLOCK)
    lob = np.empty(BLOCK)
    a_off = np.empty(BLOCK)
    a_at = np.empty(BLOCK)
    tb = np.empty(BLOCK)
    erow = np.empty(c if write else 1)
    hot = np.zeros(c if sparse else 1, y.dtype)
    prev = 0
    for i in range(i0, i1):
        xr = x[i]
        if sparse:  # the one-hot row of k[i], made in place of the previous one
            hot[prev] = 0.0
            prev = k[i]
            hot[prev] = 1.0
            yr = hot
        else:
            yr = y[i]
        status[i] = _OK
        if validate:
            ys, ybad = label_stats(yr, buf, lob)
            if ybad or not abs(ys - 1.0) <= 0.9 * tol:
                status[i] = _LABELS
                continue
        m, nan = row_max(xr, mx, bad)
        if nan or m == np.inf or m == -np.inf:
            status[i] = _REFERENCE
            continue
        sc = scale[i]
        if sc == 0.0:
            loss[i] = 0.0
            if write:
                fill_zero(out[i])
            continue
        s_hi, s_lo = softmax_sum(xr, m, buf, lob, exact, write, erow)
        r_hi = r_lo = at_hi = at_lo = t_hi = t_lo = 0.0
        for j0 in range(0, c, BLOCK):
            j1 = min(c, j0 + BLOCK)
            nb = j1 - j0
            dense_terms(xr[j0:j1], yr[j0:j1], cw[j0:j1], keep, add, m, exact, a_off, a_at, tb)
            b_hi, b_lo = pairwise(a_off, lob, nb, exact)
            r_hi, r_lo = _dd_add(r_hi, r_lo, b_hi, b_lo)
            b_hi, b_lo = pairwise(a_at, lob, nb, exact)
            at_hi, at_lo = _dd_add(at_hi, at_lo, b_hi, b_lo)
            b_hi, b_lo = pairwise(tb, lob, nb, exact)
            t_hi, t_lo = _dd_add(t_hi, t_lo, b_hi, b_lo)
        a_rest = r_hi + r_lo
        total = a_rest + (at_hi + at_lo)
        if exact and (s_hi < TINY or sc * total > _GAIN) and tiny_window(xr, m):
            status[i] = _TINY_ROW
            continue
        loss[i] = (t_hi + t_lo) + total * log1p_dd(s_hi, s_lo)
        if write:
            jstar = -1
            if s_hi < 1.0:  # a unique maximum: its entry is written without cancellation
                for j in range(c):
                    if np.float64(xr[j]) == m:
                        jstar = j
                        break
            cq_hi, cq_lo = inv_dd(sc * total, s_hi, s_lo)
            dense_grad_row(erow, yr, cw, keep, add, cq_hi, cq_lo, sc, out[i])
            if jstar >= 0:
                q_hi, q_lo = inv_dd(total, s_hi, s_lo)
                out[i, jstar] = sc * (a_rest - (s_hi * q_hi + s_hi * q_lo))


# --------------------------------------------------------------------------------------------
# Element-wise (binary) losses


@njit(forceinline=True, **_OPTS)
def log1p_core(u, exact):
    """``log1p(u)`` for ``u`` in [1/sqrt(2) - 1, sqrt(2) - 1]: ``2 atanh(u / (2 + u))``."""
    s = u / (2.0 + u)
    s2 = s * s
    if exact:  # series to s**21: relative error < 2e-18
        p = 0.09523809523809523 + s2 * 0.08695652173913043
        p = 0.10526315789473684 + s2 * p
        p = 0.11764705882352941 + s2 * p
        p = 0.13333333333333333 + s2 * p
        p = 0.15384615384615385 + s2 * p
        p = 0.18181818181818182 + s2 * p
        p = 0.2222222222222222 + s2 * p
        p = 0.2857142857142857 + s2 * p
        p = 0.4 + s2 * p
        p = 0.6666666666666666 + s2 * p
    else:  # series to s**11: relative error < 2e-10
        p = 0.2857142857142857 + s2 * 0.2222222222222222
        p = 0.4 + s2 * p
        p = 0.6666666666666666 + s2 * p
    return 2.0 * s + (s * s2) * p


@njit(forceinline=True, **_OPTS)
def log1p_unit(t, exact):
    """``log1p(t)`` for ``t`` in [0, 1]: above sqrt(2) - 1, ``ln 2 + log1p((t - 1) / 2)``."""
    big = t > 0.41421356237309503
    u = (t - 1.0) * 0.5 if big else t
    r = log1p_core(u, exact)
    return r + LN2_LO + LN2_HI if big else r


@njit(forceinline=True, **_OPTS)
def _log_reduce(p):
    """``p = 2**e (1 + u)`` with ``1 + u`` in [1/sqrt(2), sqrt(2)) (``u`` exact): ``(e, u)``."""
    tiny = p < 2.2250738585072014e-308
    q = p * 18014398509481984.0 if tiny else p  # 2**54: subnormals become normal
    bits = _f64_as_i64(q)
    e = (bits >> 52) - 1023
    f = _i64_as_f64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    up = f > 1.4142135623730951
    f = f * 0.5 if up else f
    ef = np.float64(e + 1 if up else e) - (54.0 if tiny else 0.0)
    return ef, f - 1.0


@njit(forceinline=True, **_OPTS)
def _log_fix(p, r):
    """The special values of ``log(p)``: -inf at 0, +inf at +inf, NaN below 0 or NaN."""
    if p == 0.0:
        return -np.inf
    return r if 0.0 < p < np.inf else (p if p == np.inf else np.nan)


@njit(forceinline=True, **_OPTS)
def log_unit(p, exact):
    """``log(p)`` for ``p >= 0`` (``-inf`` at 0): ``e ln 2 + log1p(u)``, branch-free."""
    ef, u = _log_reduce(p)
    r = ef * LN2_HI + (ef * LN2_LO + log1p_core(u, exact))
    return _log_fix(p, r)


@njit(forceinline=True, **_OPTS)
def log1m(p, exact):
    """``log1p(-p)`` for ``p`` in [0, 1], on an exactly computed argument, branch-free.

    ``p <= 1 - 1/sqrt(2)``: ``log1p(-p)``; ``p <= 1/2``: ``log1p(1 - 2p) - ln 2`` (``1 - 2p`` is
    exact); above: ``log(1 - p)`` (``1 - p`` is exact), reduced as in :func:`log_unit`. One
    polynomial whichever the case.
    """
    q = 1.0 - p
    ef, u = _log_reduce(q)
    small = p <= 0.2928932188134524
    mid = p <= 0.5
    arg = -p if small else (1.0 - 2.0 * p if mid else u)
    ef = 0.0 if small else (-1.0 if mid else ef)
    r = ef * LN2_HI + (ef * LN2_LO + log1p_core(arg, exact))
    return _log_fix(q, r) if p <= 1.0 else np.nan


@njit(nogil=True, **_OPTS)
def sigmoid_xent(
    x,
    z,
    pw,
    sw,
    sw_mode,
    gdiv,
    exact,
    validate,
    write,
    inplace,
    out,
    val,
    per_element,
    rowsum,
    status,
    i0,
    i1,
):
    """Element-wise ``w z softplus(-x) + (1 - z) softplus(x)`` and its gradient, one exp each.

    ``softplus(±x) = max(±x, 0) + log1p(t)``, ``t = exp(-|x|)``; gradient
    ``((1 - z) sigmoid(x) - w z sigmoid(-x)) * weight / gdiv``. ``sw_mode`` (a
    ``SampleWeights``) NONE: no sample weights, SCALAR: ``sw[0, 0]`` for all, PER_ELEMENT:
    ``sw`` per element. ``per_element``: write the weighted per-element values into ``val``;
    otherwise sum them per row into ``rowsum`` (2 columns: hi, lo). ``status`` REFERENCE (with
    ``validate``): a NaN logit or a label outside [0, 1]; row not written.
    """
    wide()
    c = x.shape[1]
    row = np.empty(c)
    grow = np.empty(c)  # the gradient row in place, or a sink when there is no gradient
    wconst = np.full(c, sw[0, 0] if sw_mode == _SW_SCALAR else 1.0)
    buf = np.empty(BLOCK)
    lob = np.empty(BLOCK)
    for i in range(i0, i1):
        xr = x[i]
        zr = z[i]
        status[i] = _OK
        wr = sw[i] if sw_mode == _SW_PER_ELEMENT else wconst
        if inplace:  # through a scratch row: reading and writing x in one loop is scalar code
            bad = sigmoid_row(xr, zr, pw, wr, gdiv, exact, write, grow, row)
            if validate and bad:
                status[i] = _REFERENCE
                continue
            copy_block(grow, out[i])  # out is x: written through out, x may be read-only
        else:
            orow = out[i] if write else out[0]  # not written without write
            bad = sigmoid_row(xr, zr, pw, wr, gdiv, exact, write, orow, row)
            if validate and bad:
                status[i] = _REFERENCE  # this row of out is not meaningful: the caller raises
                continue
        if per_element:
            copy_block(row, val[i])
        else:
            rowsum[i, 0], rowsum[i, 1] = row_sum(row, buf, lob)


@njit(**_OPTS)
def row_sum(row, buf, lob):
    """Compensated sum of a float64 row, pairwise per block: ``(hi, lo)``."""
    hi = 0.0
    lo = 0.0
    for j0 in range(0, row.size, BLOCK):
        j1 = min(row.size, j0 + BLOCK)
        copy_block(row[j0:j1], buf)
        b_hi, b_lo = pairwise(buf, lob, j1 - j0, True)
        hi, lo = _dd_add(hi, lo, b_hi, b_lo)
    return hi, lo


@njit(forceinline=True, **_OPTS)
def _sigmoid_elem(xj, zj, pwj, wj, gdiv, exact):
    """One element's weighted loss and scaled gradient (see :func:`sigmoid_xent`).

    Float64 ``|x| > 700``: ``softplus(-|x|) = sigmoid(-|x|) = e^-|x|`` is (nearly) subnormal,
    rounded to an absolute 2**-1075 that a weight ``w z > 1`` (or ``1 - z``) would multiply; the
    term is formed on ``e^(600 - |x|)`` (exact shift there) and scaled back once, as the
    reference path does. Where it is the whole loss (the other term's weight is 0: a hard
    label), the sample weight is applied before that scaling too. The same exponential gives
    ``t``, so it costs no second exp.
    """
    ax = -abs(xj)
    far = exact and ax < -700.0
    e = exp_f64(ax + SCALE_EXP if far else ax) if exact else exp_f32(ax)
    t = e * SCALE_INV if far else e
    l1p = log1p_unit(t, exact)
    sp_pos = (xj if xj > 0.0 else 0.0) + l1p
    sp_neg = (-xj if xj < 0.0 else 0.0) + l1p
    wz = zj * pwj
    nz = 1.0 - zj
    pos = xj >= 0.0
    ct = wz if pos else nz  # the weight of the term on e^-|x|
    co = nz if pos else wz  # and of the other one
    tail = (ct * e) * SCALE_INV  # c e^-|x| when far
    lpos = tail if far and pos else (0.0 if wz == 0.0 else wz * sp_neg)
    lneg = tail if far and not pos else (0.0 if nz == 0.0 else nz * sp_pos)
    lj = lpos + lneg
    big = 1.0 / (1.0 + t)
    small = t * big
    gpos = tail if far and pos else wz * (small if pos else big)
    gneg = tail if far and not pos else nz * (big if pos else small)
    g = gneg - gpos
    gs = wj / gdiv
    solo = far and co == 0.0  # the value and gradient are the tail: weighted before scaling
    lw = (wj * (ct * e)) * SCALE_INV if solo else (0.0 if wj == 0.0 else wj * lj)
    gt = (gs * (ct * e)) * SCALE_INV
    gw = (-gt if pos else gt) if solo else (0.0 if gs == 0.0 else g * gs)
    return lw, gw


@njit(**_OPTS)
def sigmoid_row(xr, zr, pw, wr, gdiv, exact, write, orow, row):
    """:func:`_sigmoid_elem` over a row (``wr`` the weights); returns the number of NaN logits
    and labels outside [0, 1]. Every loop-invariant choice is made outside the loops (LLVM does
    not unswitch them by itself), so that each loop vectorises."""
    if exact and write:
        return _sigmoid_loop(xr, zr, pw, wr, gdiv, True, True, orow, row)
    if exact:
        return _sigmoid_loop(xr, zr, pw, wr, gdiv, True, False, orow, row)
    if write:
        return _sigmoid_loop(xr, zr, pw, wr, gdiv, False, True, orow, row)
    return _sigmoid_loop(xr, zr, pw, wr, gdiv, False, False, orow, row)


@njit(forceinline=True, **_OPTS)
def _sigmoid_loop(xr, zr, pw, wr, gdiv, exact, write, orow, row):
    wide()
    bad = 0
    for j in range(xr.size):
        xj = np.float64(xr[j])
        zj = np.float64(zr[j])
        bad += 0 if (0.0 <= zj <= 1.0 and xj == xj) else 1  # the validation, in the same pass
        lw, g = _sigmoid_elem(xj, zj, pw[j], wr[j], gdiv, exact)
        row[j] = lw
        if write:
            orow[j] = g
    return bad


@njit(nogil=True, **_OPTS)
def binary_probs(
    p, y, pw, keep, add, scale, exact, validate, write, inplace, out, loss, status, i0, i1
):
    """Row means of ``-w y' log p - (1 - y') log1p(-p)``, ``y' = y keep + add`` (smoothing).

    Gradient (of each row's mean): ``scale[i] (-w y' / p + (1 - y') / (1 - p)) / C``, each term
    0 where its weight is 0. ``status`` REFERENCE (with ``validate``): a NaN, or a label or
    probability outside [0, 1]; row not written.
    """
    wide()
    c = p.shape[1]
    row = np.empty(c)
    grow = np.empty(c if inplace else 1)
    buf = np.empty(BLOCK)
    lob = np.empty(BLOCK)
    for i in range(i0, i1):
        pr = p[i]
        yr = y[i]
        status[i] = _OK
        if inplace:  # through a scratch row, as in sigmoid_xent
            bad = binary_row(pr, yr, pw, keep, add, scale[i], exact, write, grow, row)
            if validate and bad:
                status[i] = _REFERENCE
                continue
            copy_block(grow, out[i])  # out is p (see sigmoid_xent)
        else:
            orow = out[i] if write else out[0]
            bad = binary_row(pr, yr, pw, keep, add, scale[i], exact, write, orow, row)
            if validate and bad:
                status[i] = _REFERENCE  # this row of out is not meaningful: the caller raises
                continue
        s_hi, s_lo = row_sum(row, buf, lob)
        loss[i] = (s_hi + s_lo) / c


@njit(forceinline=True, **_OPTS)
def _binary_elem(pj, yj, ny, pwj, c, sc, exact):
    """One element's loss and scaled gradient (see :func:`binary_probs`); ``ny`` is ``1 - yj``
    formed without cancellation by the caller."""
    wy = yj * pwj
    lp = log_unit(pj, exact)
    l1m = log1m(pj, exact)
    lj = (0.0 if wy == 0.0 else -(wy * lp)) + (0.0 if ny == 0.0 else -(ny * l1m))
    g = (0.0 if ny == 0.0 else ny / (1.0 - pj)) - (0.0 if wy == 0.0 else wy / pj)
    return lj, (0.0 if sc == 0.0 else (g / c) * sc)


@njit(**_OPTS)
def binary_row(pr, yr, pw, keep, add, sc, exact, write, orow, row):
    """:func:`_binary_elem` over a row, the invariant choices outside the loops; returns the
    number of labels or probabilities outside [0, 1] (NaN included)."""
    if exact and write:
        return _binary_loop(pr, yr, pw, keep, add, sc, True, True, orow, row)
    if exact:
        return _binary_loop(pr, yr, pw, keep, add, sc, True, False, orow, row)
    if write:
        return _binary_loop(pr, yr, pw, keep, add, sc, False, True, orow, row)
    return _binary_loop(pr, yr, pw, keep, add, sc, False, False, orow, row)


@njit(forceinline=True, **_OPTS)
def _binary_loop(pr, yr, pw, keep, add, sc, exact, write, orow, row):
    wide()
    c = np.float64(pr.size)
    bad = 0
    for j in range(pr.size):
        pj = np.float64(pr[j]) + 0.0  # -0.0 is probability 0: +0.0, so 1 / p is +inf
        y0 = np.float64(yr[j])
        bad += 0 if (0.0 <= y0 <= 1.0 and 0.0 <= pj <= 1.0) else 1  # validation, same pass
        # y' = y keep + add and 1 - y' = (1 - y) keep + add: a sum of non-negative terms, where
        # 1 - y' would keep the rounding error of y' (~12 ulp of 0.05 for y = 1, s = 0.1).
        lj, g = _binary_elem(pj, y0 * keep + add, (1.0 - y0) * keep + add, pw[j], c, sc, exact)
        row[j] = lj
        if write:
            orow[j] = g
    return bad


# --------------------------------------------------------------------------------------------
# Float32 logits in one pass over memory (sparse softmax cross-entropy)
#
# The two-pass kernels above read a row from memory for its maximum, then compute its
# exponentials from cache: the memory-bound pass and the arithmetic-bound pass do not overlap.
# For float32 logits (computed in float64, so an extra rounding of 1e-16 is invisible) the
# maximum is instead carried along block by block ("online softmax"): each 1024-element block
# (in L1) gets its maximum and then its exponentials against the running maximum, and the sum
# so far is rescaled by exp(old - new) when the maximum grows. Float64 logits keep the two-pass
# kernels, whose double-double corrections a rescaling would spoil.


@intrinsic
def _f32_as_i32(typingctx, x):
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@intrinsic
def _i32_as_f32(typingctx, x):
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


_I32_MIN = np.int32(-(2**31))
_I32_ABS = np.int32(0x7FFFFFFF)
_I32_INF = np.int32(0x7F800000)
_I32_31 = np.int32(31)


@njit(**_OPTS)
def max_f32(xb):
    """``(max, any NaN)`` of a float32 array, by integer maxima (which vectorise).

    A float's bits, read as an int32 ``b``, order like the floats once the negative ones are
    flipped: ``key = b ^ ((b >> 31) & 0x7FFFFFFF)``; the key is its own inverse. A NaN is an
    absolute-value bit pattern above that of infinity.
    """
    wide()
    km = _I32_MIN
    ka = np.int32(0)
    for j in range(xb.size):
        bits = _f32_as_i32(xb[j])
        key = bits ^ ((bits >> _I32_31) & _I32_ABS)
        a = bits & _I32_ABS
        km = key if key > km else km
        ka = a if a > ka else ka
    m = _i32_as_f32(km ^ ((km >> _I32_31) & _I32_ABS))
    return np.float64(m), ka > _I32_INF


@njit(forceinline=True, fastmath={"reassoc", "contract"}, error_model="numpy")
def _sum_add(a, b):
    """``a + b`` that LLVM may reassociate: lets a running float64 sum of float32-sized terms
    vectorise (lane-wise partial sums; relative error < 1e-12 at 1e6 terms, invisible in the
    float32 result). Only this addition carries the flag, not the exponential around it."""
    return a + b


@njit(**_OPTS)
def exp_sum_f32(xb, m):
    """``(sum_{x_j != m} exp(x_j - m), #{x_j == m})`` over a float32 block, one exp each."""
    wide()
    s = 0.0
    ties = 0
    for j in range(xb.size):
        d = np.float64(xb[j]) - m
        e = exp_f32(d)
        ties += 1 if d == 0.0 else 0
        s = _sum_add(s, 0.0 if d == 0.0 else e)
    return s, ties


@njit(**_OPTS)
def exp_sum_store_f32(xb, m, ob):
    """:func:`exp_sum_f32`, also storing every ``exp(x_j - m)`` (1 at the maximum) in ``ob``."""
    wide()
    s = 0.0
    ties = 0
    for j in range(xb.size):
        d = np.float64(xb[j]) - m
        e = exp_f32(d)
        ob[j] = e
        ties += 1 if d == 0.0 else 0
        s = _sum_add(s, 0.0 if d == 0.0 else e)
    return s, ties


@njit(**_OPTS)
def exp_sum_inplace_f32(xb, m):
    """:func:`exp_sum_store_f32` with ``ob`` the block itself (one array, see
    :func:`exp_block_inplace`)."""
    wide()
    s = 0.0
    ties = 0
    for j in range(xb.size):
        d = np.float64(xb[j]) - m
        e = exp_f32(d)
        xb[j] = e
        ties += 1 if d == 0.0 else 0
        s = _sum_add(s, 0.0 if d == 0.0 else e)
    return s, ties


@njit(nogil=True, **_OPTS)
def sparse_softmax_f32(x, k, scale, exact, write, inplace, out, loss, status, i0, i1):
    """:func:`sparse_softmax` for float32 logits, reading each row from memory once.

    Same arguments and results (``exact`` is False). The gradient row first receives
    ``exp(x_j - m_b)``, ``m_b`` the running maximum when block ``b`` was computed, and is scaled
    at the end by ``scale / (1 + S) * exp(m_b - m)`` per block. In place, and for rows of zero
    weight, the row is checked first (a pass for its maximum), so that a row left to the
    reference path is not overwritten.
    """
    c = x.shape[1]
    nb = (c + BLOCK - 1) // BLOCK
    mb = np.empty(nb)
    for i in range(i0, i1):
        xr = x[i]
        sc = scale[i]
        ki = k[i]
        xk = np.float64(xr[ki])  # before an in-place row is overwritten
        if inplace or sc == 0.0:
            m, nan = max_f32(xr)
            if nan or m == np.inf or m == -np.inf:
                status[i] = _REFERENCE
                continue
            if sc == 0.0:  # loss 0 and a zero gradient
                status[i] = _OK
                loss[i] = 0.0
                if write:
                    fill_zero(out[i])
                continue
        orow = out[i] if write else out[0]  # out[i] is xr when inplace (x may be read-only)
        m = -np.inf
        s = 0.0  # sum of exp(x_j - m) over the entries below m so far
        ties = 0  # entries equal to m so far
        nan = False
        for b in range(nb):
            j0 = b * BLOCK
            j1 = min(c, j0 + BLOCK)
            xb = xr[j0:j1]
            bm, bnan = max_f32(xb)
            nan |= bnan
            if bm > m:
                s = 0.0 if m == -np.inf else (s + ties) * math.exp(m - bm)
                ties = 0
                m = bm
            mb[b] = m
            if m == -np.inf:  # nothing but -inf so far: these entries are 0 whatever comes
                if write:
                    fill_zero(orow[j0:j1])
                continue
            if write and inplace:
                bs, bt = exp_sum_inplace_f32(orow[j0:j1], m)
            elif write:
                bs, bt = exp_sum_store_f32(xb, m, orow[j0:j1])
            else:
                bs, bt = exp_sum_f32(xb, m)
            s += bs
            ties += bt
        if nan or m == np.inf or m == -np.inf:
            status[i] = _REFERENCE
            continue
        status[i] = _OK
        s += ties - 1
        nll_k, e_k = shift_at(xk, m, False)
        loss[i] = nll_k + math.log1p(s)
        if write:
            q = sc / (1.0 + s)
            for b in range(nb):
                j0 = b * BLOCK
                f = q if mb[b] == m else q * math.exp(mb[b] - m)
                scale_row(orow[j0 : min(c, j0 + BLOCK)], f, 0.0, False)
            if xk == m:  # -sc * S / (1 + S), no cancellation
                orow[ki] = -(s * q)
            else:  # sc * (p_k - 1) with p_k <= 1/2
                orow[ki] = e_k * q - sc


# --------------------------------------------------------------------------------------------
# float16 and bfloat16 <-> float64, on the bits (``mbits`` mantissa bits, exponent ``bias``:
# float16 10, 15; bfloat16 7, 127). NumPy's own float16 casts set the floating-point underflow
# flag for every subnormal result, which costs ~30 ns an element (softmax entries of 32000
# classes are subnormal float16 numbers); these loops vectorise, and round float64 straight to
# bfloat16 (one rounding, where a cast through float32 rounds twice).

_TWO52 = 4503599627370496.0  # 2**52: t + 2**52 - 2**52 rounds 0 <= t < 2**51 to an integer
_ABS = 0x7FFFFFFFFFFFFFFF
_F64_INF_BITS = 0x7FF0000000000000


@njit(forceinline=True, **_OPTS)
def _half_to_f64(h, mbits, bias):
    """The float64 value of the half bits ``h`` (exact).

    The exponent and mantissa bits moved to the top of a float64's read as ``v 2**(bias -
    1023)`` (a subnormal float64 for a subnormal half), so one exact multiplication by
    ``2**(1023 - bias)`` gives the value; infinities and NaNs are selected apart.
    """
    a = np.int64(h) & 0x7FFF
    inf = ((1 << (15 - mbits)) - 1) << mbits
    mag = _i64_as_f64(a << (52 - mbits)) * _i64_as_f64((2046 - bias) << 52)
    mag = mag if a < inf else (np.inf if a == inf else np.nan)
    return -mag if np.int64(h) & 0x8000 else mag


@njit(forceinline=True, **_OPTS)
def _f64_to_half(v, mbits, bias):
    """The half bits of ``v`` rounded to nearest, ties to even (overflow to inf, NaN quiet)."""
    u = _f64_as_i64(v)
    sign = (u >> 48) & 0x8000
    a = u & _ABS
    sh = 52 - mbits
    inf = ((1 << (15 - mbits)) - 1) << mbits
    normal = ((a + ((1 << (sh - 1)) - 1) + ((a >> sh) & 1)) >> sh) - ((1023 - bias) << mbits)
    normal = min(normal, inf)
    # below the smallest normal half: m 2**(1 - bias - mbits), m = round(|v| 2**(bias-1+mbits))
    t = min(_i64_as_f64(a) * _i64_as_f64((bias - 1 + mbits + 1023) << 52), 4096.0)
    sub = np.int64((t + _TWO52) - _TWO52)
    h = sub if a < ((1023 - bias + 1) << 52) else normal
    if a > _F64_INF_BITS:
        h = inf | (1 << (mbits - 1))
    return sign | h


@njit(nogil=True, **_OPTS)
def load_half(src, dst, mbits, bias):
    """``dst[i, j] = value of the half bits src[i, j]`` (``src`` uint16, ``dst`` float64)."""
    wide()
    for i in range(src.shape[0]):
        s = src[i]
        d = dst[i]
        for j in range(s.size):
            d[j] = _half_to_f64(s[j], mbits, bias)


@njit(nogil=True, **_OPTS)
def store_half(src, dst, mbits, bias):
    """``dst[i, j] = half bits of src[i, j]`` rounded once (``src`` float64, ``dst`` uint16)."""
    wide()
    for i in range(src.shape[0]):
        s = src[i]
        d = dst[i]
        for j in range(s.size):
            d[j] = np.uint16(_f64_to_half(s[j], mbits, bias))
