r"""Linear + sparse softmax cross-entropy without the ``N x V`` logits (language-model heads).

``logits = hidden @ weight.T + bias`` is formed one chunk of tokens at a time, in a buffer of
``chunk_size x V`` reused across chunks; on each chunk the fused sparse-softmax kernel writes the
gradient of the loss with respect to the logits over the logits themselves, and the two gradient
matmuls (``G @ weight`` for the hidden states, ``G.T @ hidden`` accumulated into the weight's
gradient) run before the next chunk. So one sweep gives the value and every gradient, with three
BLAS matmuls per chunk and never more than a chunk of logits.

Options that the sparse kernel does not fuse (label smoothing, a z-loss together with class
weights) or inputs it does not take (no numba, ``CROSSENTROPY_FAST=0``) run the NumPy core on the
chunk (:func:`_chunk_core`), in float64. Soft-capping is applied to the chunk before either
(``c tanh(u / c)``, in place) and its derivative ``1 - (x / c)^2`` kept in a second chunk buffer.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from . import _kernels
from ._categorical import softmax_grad
from ._primitives import shift_exp
from ._reduction import LossResult, kernel_scale, reduce_loss, sample_weights
from ._registry import register
from ._softcap import check_softcap, check_z_loss
from ._summation import accurate_sum
from ._validation import (
    check_float_array,
    check_ignore_index,
    check_label_smoothing,
    check_reduction,
    check_sparse_labels,
    check_weight,
    fmt_index,
    fmt_shape,
)

__all__ = ["linear_cross_entropy"]

_FN = "linear_cross_entropy"
#: Default chunk: this many tokens. OpenBLAS's sgemm reaches its full speed from about 512 rows
#: (64 rows: 4x slower, measured at D=512, V=8000 on a 2-core Xeon); a chunk of 512 x V logits
#: is 12.5% of the logits at N=4096, and less for more tokens.
_CHUNK_ROWS = 512


# --------------------------------------------------------------------------------------------
# Validation


def _numpy_float(fn: str, name: str, x: Any) -> np.ndarray:
    if not isinstance(x, (np.ndarray, list, tuple, float, int, np.generic)):
        raise TypeError(
            f"{fn}: {name} must be a NumPy array (or array_like); got {type(x).__name__}. "
            "Torch tensors: use crossentropy.compat.torch.linear_cross_entropy."
        )
    arr: np.ndarray = check_float_array(fn, name, x, np)
    return arr


def _check_finite(fn: str, name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), arr.shape))
        where = f" at index {fmt_index(idx)}" if idx else ""
        raise ValueError(f"{fn}: {name} must be finite; got {float(arr[idx])!r}{where}.")


def _compute_dtype(*dtypes: np.dtype[Any]) -> np.dtype[Any]:
    """float64 if any input is float64 or wider, else float32 (float16/bfloat16 included)."""
    if any(np.dtype(d).itemsize >= 8 for d in dtypes):
        return np.dtype(np.float64)
    return np.dtype(np.float32)


# --------------------------------------------------------------------------------------------
# The chunk cores


def _chunk_core(
    x: np.ndarray,
    k: np.ndarray,
    ls: float,
    cw: np.ndarray | None,
    z: float,
    need_grad: bool,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Per-token loss and its gradient with respect to the logits ``x`` (float64, ``(t, V)``).

    :math:`\ell = (1 - s) w_k (\mathrm{lse} - x_k) + \frac{s}{V} \sum_c w_c (\mathrm{lse} - x_c)
    + z\,\mathrm{lse}^2`, each :math:`\mathrm{lse} - x_c = (m - x_c) + \operatorname{log1p}(S)`
    a sum of non-negative terms; gradient :math:`A p - a + 2 z\,\mathrm{lse}\,p`.
    """
    v = x.shape[-1]
    exact = True
    sh = shift_exp(np, x, exact_shift=exact)
    nls = sh.neg_log_softmax()
    nll_k = np.take_along_axis(nls, k[:, None], axis=-1)[:, 0]
    cwk = None if cw is None else cw[k]
    loss = nll_k if cwk is None else np.where(cwk == 0, 0.0, cwk * nll_k)
    if ls > 0:
        rest = accurate_sum(np, nls if cw is None else np.where(cw == 0, 0.0, cw * nls), -1)
        loss = rest * (ls / v) if ls == 1 else (1.0 - ls) * loss + (ls / v) * rest
    lse = None
    if z > 0:
        lse = (sh.m + sh.log1p_s)[:, 0]
        loss = loss + z * lse * lse
    if not need_grad:
        return loss, None
    hot = np.arange(v) == k[:, None]
    a = hot * (1.0 - ls)
    if cwk is not None:
        a = a * cwk[:, None]
    if ls > 0:
        a = a + (ls / v) * (1.0 if cw is None else cw)
    g = softmax_grad(np, sh, a)
    if lse is not None:
        g = g + (2.0 * z * lse)[:, None] * sh.softmax(np)
    return loss, g


def _kernel_chunk(
    buf: np.ndarray,
    k: np.ndarray,
    sc: np.ndarray,
    cwk: np.ndarray | None,
    z: float,
    need_grad: bool,
) -> np.ndarray:
    """The sparse kernel on the chunk ``buf`` ``(t, V)``: per-token losses (float64) and, with
    ``need_grad``, ``sc * d loss / d logits`` written over ``buf``.

    Class weights ``cwk`` (of each token's label) multiply the kernel's scale; a z-loss (only
    without class weights) is added after: with the kernel's ``G = sc (p - onehot)`` and
    ``lse = nll + x_k``, the gradient ``sc (p - onehot + 2 z lse p)`` is
    ``G (1 + 2 z lse) + 2 z sc lse onehot``. Rows the kernel reports (float64 rows with
    subnormal terms) are redone by :func:`_chunk_core` from their logits, which the kernel has
    not overwritten.
    """
    t = buf.shape[0]
    rows = np.arange(t)
    scale = sc if cwk is None else sc * cwk
    xk = buf[rows, k].astype(np.float64) if z > 0 else None
    nll, status = _kernels.sparse_softmax(buf, k, scale, buf if need_grad else None)
    bad = np.flatnonzero(status)
    if bad.size:
        lr, gr = _chunk_core(buf[bad].astype(np.float64), k[bad], 0.0, None, z, need_grad)
        s = scale[bad]
        nll[bad] = np.where(s == 0, 0.0, lr)
        if gr is not None:
            buf[bad] = np.where(s[:, None] == 0, 0.0, gr * s[:, None])
    loss = nll if cwk is None else np.where(cwk == 0, 0.0, cwk * nll)
    if z > 0:
        assert xk is not None
        ok = np.ones(t, bool)
        ok[bad] = False  # the core's rows include their z-loss already
        lse = nll + xk
        zl = np.where(ok, z * lse * lse, 0.0)
        loss = loss + zl
        if need_grad:
            f = np.where(ok, 1.0 + 2.0 * z * lse, 1.0)
            buf *= f[:, None].astype(buf.dtype)
            buf[rows, k] += np.where(ok, 2.0 * z * sc * lse, 0.0).astype(buf.dtype)
    return loss


# --------------------------------------------------------------------------------------------
# The implementation


def _linear(
    fn: str,
    hidden: Any,
    weight: Any,
    labels: Any,
    *,
    bias: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "mean",
    chunk_size: int | None = None,
    validate: bool = True,
    need_grad: bool = False,
    out: Any = None,
) -> LossResult:
    if out is not None:
        raise TypeError(f"{fn}: out is not supported (the gradient is a tuple); got {out!r}.")
    reduction = check_reduction(fn, reduction)
    ls = check_label_smoothing(fn, label_smoothing)
    z = check_z_loss(fn, z_loss)
    cap = check_softcap(fn, softcap)
    ignore = check_ignore_index(fn, ignore_index)
    h = _numpy_float(fn, "hidden", hidden)
    w_ = _numpy_float(fn, "weight", weight)
    if h.ndim < 1:
        raise ValueError(f"{fn}: hidden must have at least 1 dimension (..., D); got a scalar.")
    if w_.ndim != 2 or w_.shape[1] != h.shape[-1]:
        raise ValueError(
            f"{fn}: weight must have shape (V, {h.shape[-1]}) for hidden of shape "
            f"{fmt_shape(h.shape)}; got weight.shape={fmt_shape(w_.shape)}."
        )
    v, d = w_.shape
    if v == 0:
        raise ValueError(f"{fn}: weight must have at least one class (row); got 0.")
    b_ = None
    if bias is not None:
        b_ = _numpy_float(fn, "bias", bias)
        if b_.shape != (v,):
            raise ValueError(
                f"{fn}: bias must have shape ({v},); got bias.shape={fmt_shape(b_.shape)}."
            )
    if chunk_size is not None and (
        isinstance(chunk_size, bool)
        or not isinstance(chunk_size, (int, np.integer))
        or chunk_size < 1
    ):
        raise ValueError(f"{fn}: chunk_size must be an int >= 1 or None; got {chunk_size!r}.")
    shape = tuple(h.shape[:-1])
    k = check_sparse_labels(
        fn, "labels", labels, np, expected_shape=shape, num_classes=v, ignore_index=ignore
    )
    if validate:
        _check_finite(fn, "hidden", h)
        _check_finite(fn, "weight", w_)
        if b_ is not None:
            _check_finite(fn, "bias", b_)
    cw = None
    if class_weight is not None:
        cw = np.asarray(check_weight(fn, "class_weight", class_weight, np, ((v,),)), np.float64)
    kf = np.asarray(k, np.int64).reshape(-1)
    valid = None
    if ignore is not None:
        valid = kf != ignore
        kf = np.where(valid, kf, 0)
    vmask = None if valid is None else valid.reshape(shape)
    w = sample_weights(fn, np, sample_weight, shape, np.float64, vmask)
    dtypes = [h.dtype, w_.dtype] + ([] if b_ is None else [b_.dtype])
    cdt = _compute_dtype(*dtypes)
    out_dtype = np.result_type(*dtypes)
    n = kf.size
    sc = kernel_scale(w, shape, reduction, need_grad)
    h2 = h.reshape(n, d)
    wc = w_ if w_.dtype == cdt else w_.astype(cdt)
    bc = None if b_ is None else (b_ if b_.dtype == cdt else b_.astype(cdt))
    rows = max(1, chunk_size if chunk_size is not None else _CHUNK_ROWS)
    rows = min(rows, max(n, 1))
    buf = np.empty((rows, v), cdt)
    dbuf = np.empty((rows, v), cdt) if (cap is not None and need_grad) else None
    use_kernel = ls == 0 and (z == 0 or cw is None) and _kernels.applies(buf)
    loss = np.empty(n)
    gh = np.empty((n, d), cdt) if need_grad else None
    gw = np.zeros((v, d), cdt) if need_grad else None
    gb = np.zeros(v) if (need_grad and bc is not None) else None
    # The weight-gradient update G.T @ hidden goes over vocabulary blocks of at most a quarter
    # of a chunk (and at least 512 rows, where sgemm is still fast).
    vb = max(1, min(v, max(512, (rows * v) // (4 * max(d, 1)))))
    tmp = np.empty((vb, d), cdt) if need_grad else None
    with np.errstate(all="ignore"):
        for i0 in range(0, n, rows):
            i1 = min(n, i0 + rows)
            t = i1 - i0
            x = buf[:t]
            hc = h2[i0:i1]
            hc = hc if hc.dtype == cdt else hc.astype(cdt)
            np.matmul(hc, wc.T, out=x)
            if bc is not None:
                x += bc
            if cap is not None:
                x *= cdt.type(1.0) / cdt.type(cap)
                np.tanh(x, out=x)
                if dbuf is not None:
                    dx = dbuf[:t]
                    np.multiply(x, x, out=dx)
                    np.subtract(cdt.type(1.0), dx, out=dx)
                x *= cdt.type(cap)
            kc = kf[i0:i1]
            scc = sc[i0:i1]
            if use_kernel:
                cwk = None if cw is None else cw[kc]
                loss[i0:i1] = _kernel_chunk(x, kc, scc, cwk, z, need_grad)
            else:
                lc, gc = _chunk_core(x.astype(np.float64), kc, ls, cw, z, need_grad)
                loss[i0:i1] = lc
                if gc is not None:
                    x[...] = np.where(scc[:, None] == 0, 0.0, gc * scc[:, None])
            if not need_grad:
                continue
            assert gh is not None
            assert gw is not None
            assert tmp is not None
            if dbuf is not None:
                x *= dbuf[:t]
            np.matmul(x, wc, out=gh[i0:i1])
            for v0 in range(0, v, vb):
                v1 = min(v, v0 + vb)
                np.matmul(x[:, v0:v1].T, hc, out=tmp[: v1 - v0])
                gw[v0:v1] += tmp[: v1 - v0]
            if gb is not None:
                gb += np.sum(x, axis=0, dtype=np.float64)
        result = reduce_loss(
            fn, np, loss.reshape(shape), None, weights=w, reduction=reduction, out_dtype=out_dtype
        )
    if not need_grad:
        return LossResult(result.value, None)
    assert gh is not None
    assert gw is not None
    grads: tuple[Any, ...] = (
        gh.reshape(h.shape).astype(h.dtype, copy=False),
        gw.astype(w_.dtype, copy=False),
    )
    if gb is not None and b_ is not None:
        grads = grads + (gb.astype(b_.dtype),)
    return LossResult(result.value, grads)


# --------------------------------------------------------------------------------------------
# The public function


def linear_cross_entropy(
    hidden: Any,
    weight: Any,
    labels: Any,
    *,
    bias: Any = None,
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    z_loss: float = 0.0,
    softcap: float | None = None,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: str = "mean",
    chunk_size: int | None = None,
    validate: bool = True,
) -> Any:
    r"""Sparse softmax cross-entropy of ``hidden @ weight.T + bias``, without the logits array.

    For token :math:`i` with hidden state :math:`h_i` and label :math:`k`,

    .. math::

        u_i = W h_i + b, \qquad x_i = c \tanh(u_i / c) \ (\text{with } \texttt{softcap}=c,
        \text{ else } x_i = u_i),

        \ell_i = (1 - s)\, w_k (\mathrm{lse}_i - x_{ik}) + \frac{s}{V} \sum_c w_c
        (\mathrm{lse}_i - x_{ic}) + z\, \mathrm{lse}_i^2, \qquad
        \mathrm{lse}_i = \log \sum_c e^{x_{ic}}

    (label smoothing :math:`s`, class weights :math:`w`, z-loss coefficient :math:`z` as in
    PaLM; soft-capping as in Gemma 2). The z-loss term is weighted by the sample weight only,
    not by the class weight. The reduction is that of
    :func:`sparse_softmax_cross_entropy_with_logits` (default ``"mean"``: the sample-weighted
    mean over the tokens not ignored).

    Gradients (``ce.value_and_grad(ce.linear_cross_entropy)`` returns
    ``(value, (grad_hidden, grad_weight))``, and ``grad_bias`` third when ``bias`` is given):
    with :math:`g_i = \partial \ell_i / \partial x_i = A p_i - a_i + 2 z\,\mathrm{lse}_i\,p_i`
    (:math:`p_i = \operatorname{softmax}(x_i)`, :math:`a_i` the smoothed, weighted targets,
    :math:`A = \sum_c a_{ic}`) and :math:`G_i = g_i \odot (1 - (x_i / c)^2)` with soft-capping
    (:math:`G_i = g_i` without), each scaled by the token's factor in the reduction:
    :math:`\partial/\partial h_i = G_i W`, :math:`\partial/\partial W = \sum_i G_i^T h_i`,
    :math:`\partial/\partial b = \sum_i G_i`.

    Memory: the logits are formed ``chunk_size`` tokens at a time (default 512) in one buffer
    of ``chunk_size x V`` reused across chunks (two with soft-capping and a gradient, plus a
    block of the weight's gradient of at most a quarter of that, or 512 rows), and the
    gradients come from the same sweep: three matmuls per chunk. A smaller ``chunk_size`` saves
    memory at the cost of slower matmuls (BLAS is slow on thin matrices).

    Accuracy: the matmuls are BLAS's (float32 inputs in float32, float16/bfloat16 in float32,
    float64 in float64); given the logits they produce, the loss is that of
    :func:`sparse_softmax_cross_entropy_with_logits` within its bounds. The weight's gradient is
    accumulated in the compute dtype (float32 or float64).

    Parameters
    ----------
    hidden : array_like, shape (..., D)
        Hidden states (float16, bfloat16, float32 or float64).
    weight : array_like, shape (V, D)
        The output projection (one row per class).
    labels : array_like of int, shape (...)
        Class ids in ``[0, V)`` (or ``ignore_index``).
    bias : array_like, shape (V,), optional
        Added to the logits.
    ignore_index : int, optional
        Tokens with this label get loss 0 and gradient 0 and are left out of the "mean".
    label_smoothing : float in [0, 1], default 0
    z_loss : float >= 0, default 0
        Coefficient of :math:`\mathrm{lse}^2` (PaLM uses 1e-4).
    softcap : float > 0, optional
        Cap the logits to :math:`(-c, c)` with :math:`c \tanh(u / c)` (Gemma 2 uses 30).
    class_weight : array_like of shape (V,), optional
    sample_weight : array_like, optional
        Per-token weights, of the labels' shape (or a scalar).
    reduction : {"none", "mean", "sum"}, default "mean"
    chunk_size : int, optional
        Tokens per chunk; the result does not depend on it beyond the matmuls' rounding.
    validate : bool, default True
        Check that hidden, weight and bias are finite.

    Returns
    -------
    ndarray or numpy scalar
        The labels' shape ("none"), or a 0-d scalar of the inputs' result dtype.

    Raises
    ------
    ValueError
        Shapes that do not match (naming both), labels outside ``[0, V)``, non-finite inputs,
        bad options.
    TypeError
        Non-float hidden, weight or bias; non-integer labels; non-NumPy inputs (use
        :func:`crossentropy.compat.torch.linear_cross_entropy` for torch tensors).

    Examples
    --------
    >>> import numpy as np
    >>> import crossentropy as ce
    >>> h = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> w = np.array([[2.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    >>> float(ce.linear_cross_entropy(h, w, [0, 1]))
    0.1563888240280926
    >>> value, (gh, gw) = ce.value_and_grad(ce.linear_cross_entropy)(h, w, [0, 1])
    >>> gh.shape, gw.shape
    ((2, 2), (3, 2))
    """
    return _linear(
        _FN,
        hidden,
        weight,
        labels,
        bias=bias,
        ignore_index=ignore_index,
        label_smoothing=label_smoothing,
        z_loss=z_loss,
        softcap=softcap,
        class_weight=class_weight,
        sample_weight=sample_weight,
        reduction=reduction,
        chunk_size=chunk_size,
        validate=validate,
    ).value


register(linear_cross_entropy, partial(_linear, _FN), ("hidden", "weight", "bias"))
