"""Fused CPU fast paths for NumPy float32/float64 inputs (numba; the ``fast`` extra).

The public functions call :func:`sparse_softmax_xent` and its siblings first; each returns
``None`` whenever it does not apply (numba missing, another array library, another dtype, an
option it does not cover, or any input error), and the reference path then runs as if the fast
path did not exist, raising the same errors in the same order. Importing this module imports
neither numba nor the kernels: :mod:`._numba` is loaded, and its kernels compiled (or read from
numba's on-disk cache), on the first call that uses them.

Semantics are those of the reference path. Values and gradients agree with it to the accuracy
bounds of the reference (float64 within 4 ulp of the exact result, float32 within 2): the kernels
compute float32 inputs in float64 and round once, and float64 inputs with double-double
corrections (see :mod:`._numba`). Rows the kernels do not handle (a NaN, a +inf maximum, a row of
all -inf) are reported back and computed by the reference code, after the same validation.

Threads: rows are split across a pool of ``get_num_threads()`` threads (default: all cores, or
the ``CROSSENTROPY_NUM_THREADS`` environment variable); the kernels release the GIL.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = [
    "fast_path_available",
    "get_num_threads",
    "grad_out",
    "set_num_threads",
]

# Below this many elements a call runs on the calling thread (the pool costs ~50 us).
_MIN_PARALLEL = 1 << 16
#: Smaller inputs take the reference path: the kernels would not be faster there, and a first
#: call would compile them (seconds, once per machine thanks to the cache) for nothing.
MIN_SIZE = 2048

_lock = threading.Lock()
_state: dict[str, Any] = {"module": None, "tried": False, "threads": None, "pool": None}

#: The caller's gradient buffer for the current ``value_and_grad(..., out=...)`` call.
grad_out: contextvars.ContextVar[np.ndarray | None] = contextvars.ContextVar(
    "crossentropy_grad_out", default=None
)


#: True while the fast path hands work back to the public functions' reference code.
_reference_only: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "crossentropy_reference_only", default=False
)


def _backend() -> ModuleType | None:
    """The compiled kernels, or None when numba is not installed or the fast path is off."""
    if _reference_only.get():
        return None
    if os.environ.get("CROSSENTROPY_FAST", "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if not _state["tried"]:
        with _lock:
            if not _state["tried"]:
                try:
                    from . import _numba
                except ImportError:
                    _numba = None  # type: ignore[assignment]
                _state["module"] = _numba
                _state["tried"] = True
    module: ModuleType | None = _state["module"]
    return module


def fast_path_available() -> bool:
    """True when the fused kernels can run (numba importable and not disabled).

    Set the environment variable ``CROSSENTROPY_FAST=0`` to use the reference path only.
    """
    return _backend() is not None


def _default_threads() -> int:
    env = os.environ.get("CROSSENTROPY_NUM_THREADS", "").strip()
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(
                f"CROSSENTROPY_NUM_THREADS must be a positive integer; got {env!r}."
            ) from None
        if n >= 1:
            return n
        raise ValueError(f"CROSSENTROPY_NUM_THREADS must be a positive integer; got {env!r}.")
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def get_num_threads() -> int:
    """The number of threads the fused kernels split rows across."""
    n = _state["threads"]
    if n is None:
        n = _default_threads()
        _state["threads"] = n
    return int(n)


def set_num_threads(n: int | None) -> None:
    """Set the number of threads of the fused kernels (``None``: back to the default).

    The default is every core this process may run on, or ``CROSSENTROPY_NUM_THREADS``.

    Raises
    ------
    TypeError
        ``n`` is not an int or None.
    ValueError
        ``n < 1``.
    """
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer))):
        raise TypeError(f"set_num_threads: n must be an int or None; got {type(n).__name__}.")
    if n is not None and n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1; got {n}.")
    with _lock:
        _state["threads"] = None if n is None else int(n)
        pool = _state["pool"]
        _state["pool"] = None
    if pool is not None:
        pool.shutdown(wait=False)


def _pool(n: int) -> ThreadPoolExecutor:
    from concurrent.futures import ThreadPoolExecutor  # not at import time: ~10 ms

    pool: ThreadPoolExecutor | None = _state["pool"]
    if pool is None or pool._max_workers != n:
        with _lock:
            pool = _state["pool"]
            if pool is None or pool._max_workers != n:
                pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="crossentropy")
                _state["pool"] = pool
    return pool


def run_rows(kernel: Callable[..., Any], n: int, work: int, *args: Any) -> None:
    """Run ``kernel(*args, i0, i1)`` over rows ``[0, n)``, split across the thread pool."""
    threads = min(get_num_threads(), n)
    if threads <= 1 or work < _MIN_PARALLEL:
        kernel(*args, 0, n)
        return
    bounds = [(t * n // threads, (t + 1) * n // threads) for t in range(threads)]
    futures = [_pool(threads).submit(kernel, *args, i0, i1) for i0, i1 in bounds]
    for f in futures:
        f.result()


# --------------------------------------------------------------------------------------------
# Shared input handling


def _is_float_ndarray(x: Any) -> bool:
    """A NumPy float32/float64 array of at least ``MIN_SIZE`` elements (and 1 dimension)."""
    return (
        type(x) is np.ndarray
        and x.dtype in (np.float32, np.float64)
        and x.ndim >= 1
        and x.size >= MIN_SIZE
    )


def _rows(arr: np.ndarray, ax: int) -> np.ndarray:
    """``arr`` with the class axis last, C-contiguous, as ``(rows, C)`` (a view when possible)."""
    x = arr if ax == arr.ndim - 1 else np.moveaxis(arr, ax, -1)
    x = np.ascontiguousarray(x)
    return x.reshape(-1, x.shape[-1])


def _grad_target(arr: np.ndarray, ax: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Where the kernel writes the gradient ``(rows, C)``, and the caller's buffer to copy to.

    The kernel writes straight into the caller's ``out`` (already checked by ``value_and_grad``;
    the logits themselves included) when it is C-contiguous with the class axis last; otherwise
    into a new array, copied to ``out`` at the end.
    """
    out = grad_out.get()
    if out is None:
        return np.empty_like(x), None
    if ax == arr.ndim - 1 and out.flags.c_contiguous:
        return out.reshape(x.shape), None
    return np.empty_like(x), out


def _in_place(target: np.ndarray, x: np.ndarray) -> bool:
    """Whether the gradient goes over the logits themselves (the kernels then read each row
    before writing it). A partial overlap is not supported: such ``out`` is rejected earlier."""
    return bool(target.ctypes.data == x.ctypes.data and target.shape == x.shape)


def _grad_result(
    g2: np.ndarray, arr: np.ndarray, ax: int, copy_to: np.ndarray | None
) -> np.ndarray:
    moved = arr.shape[:ax] + arr.shape[ax + 1 :] + (arr.shape[ax],)
    g = g2.reshape(moved)
    if ax != arr.ndim - 1:
        g = np.moveaxis(g, -1, ax)
    if copy_to is not None:
        np.copyto(copy_to, g)
        return copy_to
    return g


def _grad_scale(loss_shape: tuple[int, ...], w: np.ndarray | None, reduction: str) -> np.ndarray:
    """Per-sample factor of the gradient of the reduced value, as :func:`reduce_loss` scales."""
    from .._summation import accurate_sum

    if reduction != "mean":
        return np.ones(loss_shape) if w is None else w
    total = float(accurate_sum(np, w)) if w is not None else float(np.prod(loss_shape))
    if not total > 0:
        return np.zeros(loss_shape)
    if w is None:
        return np.full(loss_shape, 1.0 / total)
    return w / total


def _sample_weights(
    fn: str, sample_weight: Any, shape: tuple[int, ...], valid: np.ndarray | None
) -> np.ndarray | None:
    """Validated float64 per-sample weights of ``shape`` (ignored samples 0), or None."""
    from .._validation import check_weight

    w = None
    if sample_weight is not None:
        w = check_weight(fn, "sample_weight", sample_weight, np, (shape, ()))
        w = np.broadcast_to(np.asarray(w, dtype=np.float64), shape)
    if valid is not None:
        w = np.where(valid, 1.0 if w is None else w, 0.0)
    return w


# --------------------------------------------------------------------------------------------
# Softmax cross-entropy with integer labels


def sparse_softmax_xent(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    axis: Any = -1,
    ignore_index: Any = None,
    label_smoothing: Any = 0.0,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: Any = "none",
    validate: bool = True,
    need_grad: bool = False,
    names: tuple[str, str] = ("y_true", "y_pred"),
) -> Any:
    """Fast path of the sparse softmax cross-entropy from logits, or None where it does not apply.

    Covers NumPy float32/float64 logits: any axis, ignore_index, class and sample weights, every
    reduction; label smoothing through the soft-label kernel. Returns a ``LossResult``.
    """
    if not _is_float_ndarray(y_pred):
        return None
    mod = _backend()
    if mod is None:
        return None
    from .._categorical import _check_ignore_index
    from .._reduction import LossResult, reduce_loss
    from .._validation import (
        check_axis,
        check_label_smoothing,
        check_reduction,
        check_sparse_labels,
        check_weight,
    )

    t_name, p_name = names
    arr: np.ndarray = y_pred
    try:
        reduction = check_reduction(fn, reduction)
        ls = check_label_smoothing(fn, label_smoothing)
        ignore = _check_ignore_index(fn, ignore_index)
        ax = check_axis(fn, axis, arr.ndim)
        c = arr.shape[ax]
        if c == 0:
            return None
        loss_shape = arr.shape[:ax] + arr.shape[ax + 1 :]
        k = check_sparse_labels(
            fn,
            t_name,
            y_true,
            np,
            expected_shape=loss_shape,
            num_classes=c,
            ignore_index=ignore,
        )
        cw = None
        if class_weight is not None:
            cw = np.asarray(check_weight(fn, "class_weight", class_weight, np, ((c,),)), np.float64)
        valid = None
        k = np.asarray(k, dtype=np.int64)
        if ignore is not None:
            valid = k != ignore
            k = np.where(valid, k, 0)
        w = _sample_weights(fn, sample_weight, loss_shape, valid)
    except (TypeError, ValueError):
        return None  # the reference path raises the same error, in its order
    x = _rows(arr, ax)
    n = x.shape[0]
    kf = np.ascontiguousarray(k.reshape(-1))
    if ls > 0:
        return _sparse_smoothed(fn, p_name, mod, arr, ax, x, kf, ls, cw, w, valid, loss_shape,
                                sample_weight, reduction, validate, need_grad)  # fmt: skip
    cwk = None if cw is None else cw[kf]
    exact = arr.dtype == np.float64
    if need_grad:
        sc = _grad_scale(loss_shape, w, reduction).reshape(-1)
        if cwk is not None:
            sc = sc * cwk
        target, copy_to = _grad_target(arr, ax, x)
    else:
        sc = np.ones(n) if w is None else w.reshape(-1)
        if cwk is not None:
            sc = sc * cwk
        target, copy_to = x[:1], None
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    nll = np.empty(n)
    status = np.zeros(n, np.int8)
    with np.errstate(all="ignore"):
        inplace = need_grad and _in_place(target, x)
        # float32: one pass over memory (see _numba.sparse_softmax_f32)
        kernel = mod.sparse_softmax if exact else mod.sparse_softmax_f32
        run_rows(kernel, n, x.size, x, kf, sc, exact, need_grad, inplace, target, nll, status)
        bad = np.flatnonzero(status)
        tiny = None
        if bad.size:
            check = validate and bool(np.any(status[bad] == 1))
            _sparse_rows_reference(
                fn, p_name, arr, ax, x, kf, sc, bad, check, need_grad, nll, target
            )
            rows = bad[status[bad] == 3]
            tiny = _tiny_rows(x, rows, kf, None, sc, need_grad, target, cwk, cw, loss_shape)
        loss = nll if cwk is None else np.where(cwk == 0, 0.0, cwk * nll)
        result = reduce_loss(
            fn,
            np,
            loss.reshape(loss_shape),
            None,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            valid=valid,
            tiny=tiny,
        )
    g = _grad_result(target, arr, ax, copy_to) if need_grad else None
    return LossResult(result.value, g)


def _sparse_smoothed(
    fn: str,
    p_name: str,
    mod: ModuleType,
    arr: np.ndarray,
    ax: int,
    x: np.ndarray,
    k: np.ndarray,
    ls: float,
    cw: np.ndarray | None,
    w: np.ndarray | None,
    valid: np.ndarray | None,
    loss_shape: tuple[int, ...],
    sample_weight: Any,
    reduction: str,
    validate: bool,
    need_grad: bool,
) -> Any:
    """Integer labels with label smoothing: the soft-label kernel on one-hot rows made in place.

    The targets ``((1 - s) [c = k] + s / C) w_c`` are the reference path's
    ``(1 - s) w_k [c = k] + (s / C) w_c``; no array of the logits' size is made for them.
    """
    from .._reduction import LossResult, reduce_loss

    n, c = x.shape
    exact = arr.dtype == np.float64
    cwv = np.ones(c) if cw is None else cw
    keep, add = 1.0 - ls, ls / c
    if need_grad:
        sc = _grad_scale(loss_shape, w, reduction).reshape(-1)
        target, copy_to = _grad_target(arr, ax, x)
    else:
        sc = np.ones(n) if w is None else w.reshape(-1)
        target, copy_to = x[:1], None
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    loss = np.empty(n)
    status = np.zeros(n, np.int8)
    y_dummy = np.zeros((1, 1), arr.dtype)
    with np.errstate(all="ignore"):
        run_rows(
            mod.dense_softmax,
            n,
            x.size,
            x,
            y_dummy,
            k,
            True,
            cwv,
            keep,
            add,
            sc,
            exact,
            False,  # the labels are valid by construction
            1.0,
            need_grad,
            target,
            loss,
            status,
        )
        bad = np.flatnonzero(status)
        tiny = None
        if bad.size:
            if validate and np.any(status[bad] == 1):
                _check_logits(fn, p_name, arr, ax, x)
            from .._categorical import _dense_logits

            hot = (np.arange(c) == k[bad][:, None]).astype(np.float64)
            a = (hot * keep + add) * cwv
            lr, gr = _dense_logits(np, x[bad].astype(np.float64), a, exact, need_grad)
            s = sc[bad]
            loss[bad] = np.where(s == 0, 0.0, lr)
            if need_grad:
                target[bad] = np.where(s[:, None] == 0, 0.0, gr * s[:, None])
            t3 = status[bad] == 3
            tiny = _tiny_rows(x, bad[t3], None, a[t3], sc, need_grad, target, None, cw, loss_shape)
        result = reduce_loss(
            fn,
            np,
            loss.reshape(loss_shape),
            None,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            valid=valid,
            tiny=tiny,
        )
    g = _grad_result(target, arr, ax, copy_to) if need_grad else None
    return LossResult(result.value, g)


def _tiny_rows(
    x: np.ndarray,
    rows: np.ndarray,
    k: np.ndarray | None,
    a: np.ndarray | None,
    sc: np.ndarray,
    need_grad: bool,
    target: np.ndarray,
    cwk: np.ndarray | None,
    cw: np.ndarray | None,
    shape: tuple[int, ...],
) -> Any:
    """Float64 rows the kernels handed back with status 3: (nearly) subnormal terms, weighted.

    Their loss and gradient have been computed by the reference code (as for status 1); here the
    gradient entries below the normal range are redone on ``e^600``-scaled exponentials, the
    weight ``sc`` applied, and scaled back once, and the tiny losses are handed to the reduction
    scaled (see ``Tiny`` in :mod:`.._reduction`). ``a``: the rows' dense targets, or the one-hot
    rows of ``k`` (then ``cwk`` weights the losses). Returns that ``Tiny``, its loss pieces in
    the loss's ``shape``, or None.
    """
    from .._categorical import _cw_gain, softmax_tiny
    from .._reduction import SCALE_INV, Tiny

    if not rows.size:
        return None
    xr = x[rows].astype(np.float64)
    if a is None:
        assert k is not None
        a = (np.arange(x.shape[1]) == k[rows][:, None]).astype(np.float64)
    with np.errstate(all="ignore"):
        (lm, ls), (gm, gs) = softmax_tiny(np, xr, a)
        if need_grad:
            s = sc[rows][:, None]
            gs = np.where(s == 0, 0.0, gs * s) * SCALE_INV
            target[rows] = np.where(gm, gs, target[rows])
        n = x.shape[0]
        mask = np.zeros(n, bool)
        scaled = np.zeros(n)
        mask[rows] = lm
        scaled[rows] = ls if cwk is None else np.where(cwk[rows] == 0, 0.0, cwk[rows] * ls)
    return Tiny(_cw_gain(np, cw), lambda: (mask.reshape(shape), scaled.reshape(shape)))


def _check_logits(fn: str, name: str, arr: np.ndarray, ax: int, x: np.ndarray) -> None:
    """The reference path's checks on logits, for the rows the kernel handed back."""
    from .._validation import check_logit_rows, check_no_nan

    check_no_nan(fn, name, arr, np)
    moved = arr.shape[:ax] + arr.shape[ax + 1 :] + (arr.shape[ax],)
    check_logit_rows(fn, name, x.reshape(moved), np, ax)


def _sparse_rows_reference(
    fn: str,
    name: str,
    arr: np.ndarray,
    ax: int,
    x: np.ndarray,
    k: np.ndarray,
    sc: np.ndarray,
    rows: np.ndarray,
    validate: bool,
    need_grad: bool,
    nll: np.ndarray,
    out: np.ndarray,
) -> None:
    """Rows with a NaN, a +inf maximum or all -inf: validate, then compute them by reference."""
    from .._categorical import softmax_grad
    from .._primitives import shift_exp

    if validate:
        _check_logits(fn, name, arr, ax, x)
    xr = x[rows].astype(np.float64)
    sh = shift_exp(np, xr, exact_shift=arr.dtype == np.float64)
    kr = k[rows]
    nll[rows] = np.take_along_axis(sh.neg_log_softmax(), kr[:, None], axis=-1)[:, 0]
    s = sc[rows]
    nll[rows[s == 0]] = 0.0
    if need_grad:
        hot = np.arange(x.shape[1]) == kr[:, None]
        g = softmax_grad(np, sh, hot.astype(np.float64))
        out[rows] = np.where(s[:, None] == 0, 0.0, g * s[:, None])


# --------------------------------------------------------------------------------------------
# logsumexp, log_softmax, softmax


def softmax_family(fn: str, x: Any, axis: Any, mode: int, keepdims: bool = False) -> Any:
    """Fast ``logsumexp`` (mode 0), ``log_softmax`` (1) or ``softmax`` (2), or None."""
    if not _is_float_ndarray(x):
        return None
    mod = _backend()
    if mod is None:
        return None
    from .._validation import check_axis

    try:
        ax = check_axis(fn, axis, x.ndim)
    except (TypeError, ValueError):
        return None
    if x.shape[ax] == 0:
        return None
    rows = _rows(x, ax)
    n = rows.shape[0]
    out = np.empty_like(rows) if mode else rows[:1]
    lse = np.empty(n)
    status = np.zeros(n, np.int8)
    with np.errstate(all="ignore"):
        run_rows(
            mod.softmax_rows, n, rows.size, rows, mode, x.dtype == np.float64, out, lse, status
        )
        bad = np.flatnonzero(status)
        if bad.size:
            from .._primitives import log_softmax, logsumexp, softmax

            token = _reference_only.set(True)
            try:
                ref = (logsumexp, log_softmax, softmax)[mode](rows[bad])
            finally:
                _reference_only.reset(token)
            if mode:
                out[bad] = ref
            else:
                lse[bad] = ref
    if mode == 0:
        shape = x.shape[:ax] + x.shape[ax + 1 :]
        res = lse.astype(x.dtype).reshape(shape)
        if keepdims:
            res = np.expand_dims(res, ax)
        return res[()] if res.ndim == 0 else res
    moved = x.shape[:ax] + x.shape[ax + 1 :] + (x.shape[ax],)
    res = out.reshape(moved)
    return res if ax == x.ndim - 1 else np.moveaxis(res, -1, ax)


# --------------------------------------------------------------------------------------------
# Softmax cross-entropy with soft (dense) labels


def _labels_for(lab: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray | None:
    """Labels in a dtype the kernels take: the logits' dtype (no copy) or float64."""
    if lab.dtype == dtype or lab.dtype == np.float64:
        return lab
    if lab.dtype.kind in "biu" or lab.dtype in (np.float16, np.float32):
        return lab.astype(np.float64)
    return None  # longdouble and friends: the reference path


def dense_softmax_xent(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    label_smoothing: Any = 0.0,
    axis: Any = -1,
    class_weight: Any = None,
    sample_weight: Any = None,
    reduction: Any = "none",
    validate: bool = True,
    need_grad: bool = False,
    names: tuple[str, str] = ("y_true", "y_pred"),
) -> Any:
    """Fast path of the softmax cross-entropy with one-hot or soft labels (from logits)."""
    if not _is_float_ndarray(y_pred):
        return None
    mod = _backend()
    if mod is None:
        return None
    from .._reduction import LossResult, reduce_loss
    from .._validation import (
        check_axis,
        check_label_array,
        check_label_smoothing,
        check_reduction,
        check_same_shape,
        check_weight,
        simplex_tolerance,
    )

    t_name, p_name = names
    arr: np.ndarray = y_pred
    try:
        reduction = check_reduction(fn, reduction)
        ls = check_label_smoothing(fn, label_smoothing)
        ax = check_axis(fn, axis, arr.ndim)
        lab = np.asarray(check_label_array(fn, t_name, y_true, np))
        check_same_shape(fn, t_name, lab, p_name, arr)
        c = arr.shape[ax]
        if c == 0:
            return None
        cw = np.ones(c)
        if class_weight is not None:
            cw = np.asarray(check_weight(fn, "class_weight", class_weight, np, ((c,),)), np.float64)
        loss_shape = arr.shape[:ax] + arr.shape[ax + 1 :]
        w = _sample_weights(fn, sample_weight, loss_shape, None)
    except (TypeError, ValueError):
        return None
    lab_k = _labels_for(lab, arr.dtype)
    if lab_k is None:
        return None
    x = _rows(arr, ax)
    y = _rows(lab_k, ax)
    n = x.shape[0]
    exact = arr.dtype == np.float64
    label_dtype = lab.dtype if lab.dtype.kind == "f" else np.dtype(np.float64)
    tol = simplex_tolerance(label_dtype)
    keep, add = 1.0 - ls, ls / c
    if need_grad:
        sc = _grad_scale(loss_shape, w, reduction).reshape(-1)
        target, copy_to = _grad_target(arr, ax, x)
    else:
        sc = np.ones(n) if w is None else w.reshape(-1)
        target, copy_to = x[:1], None
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    loss = np.empty(n)
    status = np.zeros(n, np.int8)
    with np.errstate(all="ignore"):
        run_rows(
            mod.dense_softmax,
            n,
            x.size,
            x,
            y,
            np.zeros(1, np.int64),
            False,
            cw,
            keep,
            add,
            sc,
            exact,
            validate,
            tol,
            need_grad,
            target,
            loss,
            status,
        )
        bad = np.flatnonzero(status)
        tiny = None
        if bad.size:
            if validate and np.any(status[bad] != 3):
                _check_logits(fn, p_name, arr, ax, x)
                _check_soft_labels(fn, t_name, lab, ax)
            from .._categorical import _dense_logits

            a = (y[bad].astype(np.float64) * keep + add) * cw
            lr, gr = _dense_logits(np, x[bad].astype(np.float64), a, exact, need_grad)
            s = sc[bad]
            loss[bad] = np.where(s == 0, 0.0, lr)
            if need_grad:
                target[bad] = np.where(s[:, None] == 0, 0.0, gr * s[:, None])
            t3 = status[bad] == 3
            tiny = _tiny_rows(x, bad[t3], None, a[t3], sc, need_grad, target, None, cw, loss_shape)
        result = reduce_loss(
            fn,
            np,
            loss.reshape(loss_shape),
            None,
            sample_weight=sample_weight,
            reduction=reduction,
            out_dtype=arr.dtype,
            tiny=tiny,
        )
    g = _grad_result(target, arr, ax, copy_to) if need_grad else None
    return LossResult(result.value, g)


def _check_soft_labels(fn: str, name: str, lab: np.ndarray, ax: int) -> None:
    """The reference path's checks on soft labels (NaN, range, rows summing to 1)."""
    from .._validation import check_in_range, check_no_nan, check_simplex_rows

    check_no_nan(fn, name, lab, np)
    check_in_range(fn, name, lab, np, 0.0, 1.0)
    label_dtype = lab.dtype if lab.dtype.kind == "f" else np.float64
    a = np.moveaxis(lab.astype(np.float64), ax, -1)
    check_simplex_rows(fn, name, a, np, label_dtype, ax)


# --------------------------------------------------------------------------------------------
# Element-wise: sigmoid cross-entropy from logits, binary cross-entropy from probabilities


def _elementwise_inputs(
    fn: str, y_true: Any, y_pred: Any, pos_weight: Any, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(arr, x rows, y rows)`` and ``pos_weight`` checked; raises on bad input."""
    from .._validation import check_label_array, check_same_shape

    t_name, p_name = names
    arr: np.ndarray = y_pred
    lab = np.asarray(check_label_array(fn, t_name, y_true, np))
    check_same_shape(fn, t_name, lab, p_name, arr)
    lab_k = _labels_for(lab, arr.dtype)
    if lab_k is None:
        return None
    x = _rows(arr, arr.ndim - 1)
    y = _rows(lab_k, arr.ndim - 1)
    return arr, x, y


def _pos_weight(fn: str, pos_weight: Any, c: int) -> np.ndarray:
    from .._validation import check_weight

    if pos_weight is None:
        return np.ones(c)
    pw = np.asarray(check_weight(fn, "pos_weight", pos_weight, np, ((), (c,))), np.float64)
    return np.ascontiguousarray(np.broadcast_to(pw, (c,)))


def sigmoid_xent(
    fn: str,
    labels: Any,
    logits: Any,
    pos_weight: Any = None,
    *,
    sample_weight: Any = None,
    reduction: Any = "none",
    validate: bool = True,
    need_grad: bool = False,
) -> Any:
    """Fast path of the element-wise sigmoid cross-entropy from logits (``pos_weight``)."""
    if not _is_float_ndarray(logits):
        return None
    mod = _backend()
    if mod is None:
        return None
    from .._namespace import to_output
    from .._reduction import LossResult
    from .._summation import accurate_sum
    from .._validation import check_reduction, check_weight

    names = ("labels", "logits")
    try:
        reduction = check_reduction(fn, reduction)
        got = _elementwise_inputs(fn, labels, logits, pos_weight, names)
        if got is None:
            return None
        arr, x, y = got
        pw = _pos_weight(fn, pos_weight, arr.shape[-1])
        w = None
        if sample_weight is not None:
            w = np.asarray(
                check_weight(fn, "sample_weight", sample_weight, np, (arr.shape, ())), np.float64
            )
    except (TypeError, ValueError):
        return None
    n = x.shape[0]
    exact = arr.dtype == np.float64
    if w is None:
        sw_mode, sw = 0, np.ones((1, 1))
    elif w.ndim == 0:
        sw_mode, sw = 1, w.reshape(1, 1)
    else:
        sw_mode, sw = 2, np.ascontiguousarray(w.reshape(x.shape))
    gdiv = 1.0
    total = 0.0
    if reduction == "mean":
        total = (
            float(x.size) if w is None else float(accurate_sum(np, np.broadcast_to(w, arr.shape)))
        )
        gdiv = total if total > 0 else np.inf
    if need_grad:
        target, copy_to = _grad_target(arr, arr.ndim - 1, x)
    else:
        target, copy_to = x[:1], None
    val = np.empty_like(x) if reduction == "none" else x[:1]
    rowsum = np.zeros((n, 2))
    status = np.zeros(n, np.int8)
    with np.errstate(all="ignore"):
        run_rows(
            mod.sigmoid_xent,
            n,
            x.size,
            x,
            y,
            pw,
            sw,
            sw_mode,
            gdiv,
            exact,
            validate,
            need_grad,
            need_grad and _in_place(target, x),
            target,
            val,
            1 if reduction == "none" else 0,
            rowsum,
            status,
        )
    if status.any():  # only with validate: a NaN logit or a label outside [0, 1]
        from .._binary import prepare_elementwise

        prepare_elementwise(
            fn, labels, logits, from_logits=True, validate=True, pos_weight=pos_weight, names=names
        )
        return None  # not reached: the checks above raise
    if reduction == "none":
        value = to_output(np, val.reshape(arr.shape), arr.dtype)
    else:
        with np.errstate(all="ignore"):
            s = accurate_sum(np, rowsum.reshape(-1), exact=True)
            if reduction == "mean":
                s = s / total if total > 0 else np.zeros(())
        value = to_output(np, np.asarray(s), arr.dtype)
    g = _grad_result(target, arr, arr.ndim - 1, copy_to) if need_grad else None
    return LossResult(value, g)


def binary_probs_xent(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    label_smoothing: Any = 0.0,
    pos_weight: Any = None,
    axis: Any = -1,
    sample_weight: Any = None,
    reduction: Any = "none",
    validate: bool = True,
    need_grad: bool = False,
) -> Any:
    """Fast path of the binary cross-entropy from probabilities, averaged over the last axis."""
    if not _is_float_ndarray(y_pred):
        return None
    mod = _backend()
    if mod is None:
        return None
    from .._reduction import LossResult, reduce_loss
    from .._validation import check_axis, check_label_smoothing, check_reduction

    names = ("y_true", "y_pred")
    try:
        reduction = check_reduction(fn, reduction)
        ls = check_label_smoothing(fn, label_smoothing)
        got = _elementwise_inputs(fn, y_true, y_pred, pos_weight, names)
        if got is None:
            return None
        arr, x, y = got
        if check_axis(fn, axis, arr.ndim) != arr.ndim - 1:
            return None
        pw = _pos_weight(fn, pos_weight, arr.shape[-1])
        loss_shape = arr.shape[:-1]
        w = _sample_weights(fn, sample_weight, loss_shape, None)
    except (TypeError, ValueError):
        return None
    if x.shape[1] == 0:
        return None
    n = x.shape[0]
    exact = arr.dtype == np.float64
    keep, add = (1.0, 0.0) if ls == 0 else (1.0 - ls, 0.5 * ls)
    if need_grad:
        sc = _grad_scale(loss_shape, w, reduction).reshape(-1)
        target, copy_to = _grad_target(arr, arr.ndim - 1, x)
    else:
        sc = np.ones(n)
        target, copy_to = x[:1], None
    sc = np.ascontiguousarray(sc, dtype=np.float64)
    loss = np.empty(n)
    status = np.zeros(n, np.int8)
    with np.errstate(all="ignore"):
        run_rows(
            mod.binary_probs,
            n,
            x.size,
            x,
            y,
            pw,
            keep,
            add,
            sc,
            exact,
            validate,
            need_grad,
            need_grad and _in_place(target, x),
            target,
            loss,
            status,
        )
    if status.any():  # only with validate: NaN, or a label or probability outside [0, 1]
        from .._binary import prepare_elementwise

        prepare_elementwise(
            fn, y_true, y_pred, from_logits=False, validate=True, pos_weight=pos_weight
        )
        return None  # not reached
    result = reduce_loss(
        fn,
        np,
        loss.reshape(loss_shape),
        None,
        sample_weight=sample_weight,
        reduction=reduction,
        out_dtype=arr.dtype,
    )
    g = _grad_result(target, arr, arr.ndim - 1, copy_to) if need_grad else None
    return LossResult(result.value, g)
