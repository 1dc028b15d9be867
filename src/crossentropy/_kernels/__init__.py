"""Fused CPU kernels for NumPy float16/bfloat16/float32/float64 arrays (numba; ``fast`` extra).

A leaf.

This package imports nothing from the losses (only NumPy, numba and :mod:`.._fp`). Its entry
points (:func:`sparse_softmax`, :func:`dense_softmax`, :func:`softmax_rows`,
:func:`sigmoid_xent`, :func:`binary_probs`) take already-valid, C-contiguous, class-last float
arrays of shape ``(rows, C)`` and an explicit gradient buffer (or None), and return the per-row
values and a per-row :class:`RowStatus`; they raise nothing about user input. The loss modules
validate, call :func:`applies` to choose between a kernel and their NumPy/array-API core,
recompute the rows the kernel reported with that core, and reduce with
:func:`crossentropy._reduction.reduce_loss`.

Importing this package imports neither numba nor the kernels: :mod:`._numba` is loaded, and its
kernels compiled (or read from numba's on-disk cache), on the first call that uses them.

Values and gradients agree with the cores to their accuracy bounds (float64 within 4 ulp of the
exact result, float32 within 2, float16 and bfloat16 within 1): the kernels compute float32 inputs
in float64 and round once, and float64 inputs with double-double corrections (see
:mod:`._numba`); float16 and bfloat16 inputs are converted a row block at a time (see
:func:`_run_half`).

The environment variable ``CROSSENTROPY_FAST=0`` turns the kernels off. It is read once, when
this package is imported, into :data:`ENABLED`, the one switch :func:`_backend` looks at.

For tests and benchmarks: ``ENABLED`` (set it to switch paths within one process),
``MIN_SIZE = 0`` (sends inputs of every size to the kernels) and :func:`run_rows`, the one
function through which every kernel runs (spy on it to see which); ``tests/_support/paths.py``
sets and restores all three.

Threads: rows are split across a pool of ``get_num_threads()`` threads (default: all cores, or
the ``CROSSENTROPY_NUM_THREADS`` environment variable); the kernels release the GIL.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ._codes import RowStatus, SampleWeights, SoftmaxMode

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = [
    "ENABLED",
    "MIN_SIZE",
    "RowStatus",
    "SampleWeights",
    "SoftmaxMode",
    "Targets",
    "applies",
    "binary_probs",
    "dense_softmax",
    "fast_path_available",
    "get_num_threads",
    "grad_result",
    "grad_target",
    "is_half",
    "kernel_labels",
    "rows",
    "run_rows",
    "set_num_threads",
    "sigmoid_xent",
    "softmax_rows",
    "sparse_softmax",
]

# Below this many elements a call runs on the calling thread (the pool costs ~50 us).
_MIN_PARALLEL = 1 << 16
#: Smaller inputs take the reference path: the kernels would not be faster there, and a first
#: call would compile them (seconds, once per machine thanks to the cache) for nothing.
MIN_SIZE = 2048

_lock = threading.Lock()
_state: dict[str, Any] = {"module": None, "tried": False, "threads": None, "pool": None}


def _enabled_by_env() -> bool:
    value = os.environ.get("CROSSENTROPY_FAST", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


#: Whether the fused kernels may run: ``CROSSENTROPY_FAST`` as it was when this package was
#: imported (read once; unset means on).
ENABLED = _enabled_by_env()


def _backend() -> ModuleType | None:
    """The compiled kernels, or None when numba is not installed or :data:`ENABLED` is False."""
    if not ENABLED:
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

    Set the environment variable ``CROSSENTROPY_FAST=0`` before importing crossentropy to use
    the reference path only.
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
        # The old pool is not shut down: calls on other threads may be submitting to it. It is
        # dropped, and its idle workers exit once the last call holding it lets it go.
        _state["pool"] = None


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
    pool = _pool(threads)  # held for the whole call, whatever set_num_threads does meanwhile
    futures = [pool.submit(kernel, *args, i0, i1) for i0, i1 in bounds]
    for f in futures:
        f.result()


# --------------------------------------------------------------------------------------------
# Which inputs the kernels take, and their layout


def is_half(dtype: np.dtype[Any]) -> bool:
    """Whether ``dtype`` is float16 or bfloat16 (ml_dtypes'; recognised by name, so that
    ml_dtypes is never imported here)."""
    return dtype == np.float16 or (dtype.itemsize == 2 and dtype.name == "bfloat16")


def applies(x: Any) -> bool:
    """Whether ``x`` goes to the kernels: a NumPy float16/bfloat16/float32/float64 array (or a
    ``np.memmap``: ``np.load(..., mmap_mode=...)``) of at least ``MIN_SIZE`` elements (and 1
    dimension), read-only or not, with the kernels available."""
    return (
        type(x) in (np.ndarray, np.memmap)
        and (x.dtype in (np.float32, np.float64) or is_half(x.dtype))
        and x.ndim >= 1
        and x.size >= MIN_SIZE
        and _backend() is not None
    )


def rows(arr: np.ndarray, ax: int) -> np.ndarray:
    """``arr`` with the class axis last, C-contiguous, as ``(rows, C)`` (a view when possible)."""
    x = arr if ax == arr.ndim - 1 else np.moveaxis(arr, ax, -1)
    x = np.ascontiguousarray(x)
    return x.reshape(-1, x.shape[-1])


def kernel_labels(lab: np.ndarray, dtype: np.dtype[Any]) -> np.ndarray | None:
    """Labels in a dtype the kernels take: the logits' dtype (no copy) or float64; None for
    dtypes they do not take (longdouble and friends: the caller's core computes those)."""
    if lab.dtype == dtype or lab.dtype == np.float64:
        return lab
    if lab.dtype.kind in "biu" or lab.dtype in (np.float16, np.float32):
        return lab.astype(np.float64)
    return None


def grad_target(
    arr: np.ndarray, ax: int, x: np.ndarray, out: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Where a kernel writes the gradient ``(rows, C)``, and the caller's buffer to copy it to.

    The kernel writes straight into the caller's ``out`` (already checked by ``value_and_grad``;
    the logits themselves included) when it is C-contiguous with the class axis last; otherwise
    into a new array, copied to ``out`` by :func:`grad_result`.
    """
    if out is None:
        return np.empty_like(x), None
    if ax == arr.ndim - 1 and out.flags.c_contiguous:
        return out.reshape(x.shape), None
    return np.empty_like(x), out


def grad_result(g2: np.ndarray, arr: np.ndarray, ax: int, copy_to: np.ndarray | None) -> np.ndarray:
    """The gradient ``(rows, C)`` back in ``arr``'s shape and axis order (into ``copy_to``)."""
    moved = arr.shape[:ax] + arr.shape[ax + 1 :] + (arr.shape[ax],)
    g = g2.reshape(moved)
    if ax != arr.ndim - 1:
        g = np.moveaxis(g, -1, ax)
    if copy_to is not None:
        np.copyto(copy_to, g)
        return copy_to
    return g


def _in_place(grad: np.ndarray | None, x: np.ndarray) -> bool:
    """Whether the gradient goes over the logits themselves (the kernels then read each row
    before writing it). A partial overlap is not supported: such ``out`` is rejected earlier."""
    return grad is not None and bool(grad.ctypes.data == x.ctypes.data and grad.shape == x.shape)


def _status(n: int) -> np.ndarray:
    return np.zeros(n, np.int8)


def _module() -> ModuleType:
    mod = _backend()
    assert mod is not None, "the caller checks applies() first"
    return mod


# --------------------------------------------------------------------------------------------
# float16 and bfloat16: the same kernels, on row blocks converted to float64 one at a time
#
# Each thread converts a block of about ``_HALF_BLOCK`` elements of its rows to float64 (exact),
# runs the float32 kernels' arithmetic on it (``exact`` False: float64 with the float32
# exponential, 3e-9 relative, far below a half's rounding), writing its outputs into a float64
# block, and rounds those once to the input's dtype. The input is never copied whole: the extra
# memory is a few blocks per thread (``_HALF_BLOCK`` elements of float64 each, or one row).

_HALF_BLOCK = 1 << 15


def _half_format(dtype: np.dtype[Any]) -> tuple[int, int]:
    """(mantissa bits, exponent bias) of float16 or bfloat16."""
    return (10, 15) if dtype == np.float16 else (7, 127)


def _load_half(src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[...] = src`` (float16 or bfloat16 into float64, exactly)."""
    _module().load_half(src.view(np.uint16), dst, *_half_format(src.dtype))


def _store_half(src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[...] = src`` rounded once to nearest (even): float64 into float16 or bfloat16."""
    _module().store_half(src, dst.view(np.uint16), *_half_format(dst.dtype))


def _run_half(
    kernel: Callable[..., Any],
    x: np.ndarray,
    args: list[Any],
    *,
    per_row: tuple[int, ...],
    inputs: tuple[int, ...],
    outputs: tuple[int, ...],
) -> None:
    """:func:`run_rows` for a kernel whose ``args`` hold half-precision ``(rows, C)`` arrays.

    ``per_row``: indices of the arrays with one entry (or row) per row of ``x``, sliced by block;
    ``inputs``: the half arrays read (converted into float64 blocks, exactly); ``outputs``: the
    half arrays written (from float64 blocks, rounded once). A block's inputs are converted
    before the kernel runs and its outputs stored after, so an output may be the logits
    themselves (in place; the rows the kernel reports in its status, the last argument, are
    then stored back unchanged); the kernel itself never writes in place here. Other arguments
    are passed as they are.
    """
    n, c = x.shape
    step = max(1, _HALF_BLOCK // max(c, 1))

    def blocked(i0: int, i1: int) -> None:
        rows = min(step, i1 - i0)
        scratch = {i: np.empty((rows, c)) for i in inputs}
        scratch.update({i: np.empty((rows, c)) for i in outputs})
        # an output over the logits (in place): the rows the kernel reports (status, the last
        # argument, not OK; their output is not meaningful) are stored back unchanged
        alias = [i for i in outputs if args[i].ctypes.data == args[inputs[0]].ctypes.data]
        call = list(args)
        for a in range(i0, i1, step):
            b = min(a + step, i1)
            r = b - a
            for i in per_row:
                call[i] = args[i][a:b]
            for i in inputs:
                _load_half(args[i][a:b], scratch[i][:r])
            for i in outputs:
                call[i] = scratch[i][:r]
            for i in inputs:
                call[i] = scratch[i][:r]
            kernel(*call, 0, r)
            if alias:
                bad = np.flatnonzero(call[-1])
                for i in alias:
                    scratch[i][bad] = scratch[inputs[0]][bad]
            for i in outputs:
                _store_half(scratch[i][:r], args[i][a:b])

    blocked.__name__ = f"{getattr(kernel, '__name__', 'kernel')}_half"
    run_rows(blocked, n, x.size)


def _sink(x: np.ndarray) -> np.ndarray:
    """The unused output row a kernel is compiled to write but does not: ``x[:1]``, or a new
    array where ``x`` is read-only (numba refuses to compile a write there) or half precision
    (the kernels then run on float64 row blocks)."""
    if is_half(x.dtype):
        return np.empty((1, x.shape[1]))
    return x[:1] if x.flags.writeable else np.empty((1, 1), x.dtype)


# --------------------------------------------------------------------------------------------
# Entry points: valid (rows, C) arrays in, values and a RowStatus per row out


def softmax_rows(x: np.ndarray, mode: SoftmaxMode) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise logsumexp, log_softmax or softmax of ``x`` ``(rows, C)``, ``C >= 1``.

    Returns ``(out, lse, status)``: ``out`` the log_softmax or softmax rows (``x``'s dtype;
    unused for LOGSUMEXP), ``lse`` the float64 logsumexp per row; rows with status REFERENCE
    are not written.
    """
    n = x.shape[0]
    out = np.empty_like(x) if mode != SoftmaxMode.LOGSUMEXP else _sink(x)
    lse = np.empty(n)
    status = _status(n)
    exact = x.dtype == np.float64
    with np.errstate(all="ignore"):
        if is_half(x.dtype):
            lse_only = mode == SoftmaxMode.LOGSUMEXP
            args = [x, int(mode), False, _sink(x) if lse_only else out, lse, status]
            outputs = () if lse_only else (3,)
            _run_half(_module().softmax_rows, x, args, per_row=(4, 5), inputs=(0,), outputs=outputs)
        else:
            run_rows(_module().softmax_rows, n, x.size, x, int(mode), exact, out, lse, status)
    return out, lse, status


def sparse_softmax(
    x: np.ndarray, k: np.ndarray, scale: np.ndarray, grad: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Sparse softmax cross-entropy of ``x`` ``(rows, C)`` and labels ``k`` in ``[0, C)``.

    ``nll[i] = -log softmax(x_i)[k_i]`` (0 where ``scale[i] == 0``) and, into ``grad`` (which
    may be ``x`` itself), ``scale[i] (softmax(x_i) - onehot(k_i))``. Returns ``(nll, status)``.
    float32 logits take a one-pass kernel (see ``_numba.sparse_softmax_f32``).
    """
    mod = _module()
    n = x.shape[0]
    nll = np.empty(n)
    status = _status(n)
    exact = x.dtype == np.float64
    kernel = mod.sparse_softmax if exact else mod.sparse_softmax_f32
    target = _sink(x) if grad is None else grad
    inplace = _in_place(grad, x)
    with np.errstate(all="ignore"):
        if is_half(x.dtype):
            args = [x, k, scale, False, grad is not None, False, target, nll, status]
            _run_half(mod.sparse_softmax_f32, x, args, per_row=(1, 2, 7, 8), inputs=(0,),
                      outputs=() if grad is None else (6,))  # fmt: skip
        else:
            run_rows(kernel, n, x.size, x, k, scale, exact, grad is not None, inplace, target,
                     nll, status)  # fmt: skip
    return nll, status


class Targets(NamedTuple):
    """Soft targets ``a = (y keep + add) cw`` of :func:`dense_softmax`.

    ``y`` the label rows ``(rows, C)``, or ``k`` the class indices whose one-hot rows the kernel
    makes itself (integer labels with label smoothing; then ``y`` is None).
    """

    y: np.ndarray | None
    k: np.ndarray | None
    cw: np.ndarray  # (C,) float64 class weights
    keep: float
    add: float


def dense_softmax(
    x: np.ndarray,
    targets: Targets,
    scale: np.ndarray,
    grad: np.ndarray | None,
    *,
    label_tol: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Softmax cross-entropy of ``x`` ``(rows, C)`` with soft targets; returns ``(loss, status)``.

    ``label_tol``: check each label row (in [0, 1], summing to 1 within it), reporting the rows
    that fail with status LABELS; None: the labels are valid by construction.
    """
    n = x.shape[0]
    loss = np.empty(n)
    status = _status(n)
    sparse = targets.y is None
    half = is_half(x.dtype)
    y = np.zeros((1, 1), np.float64 if half else x.dtype) if targets.y is None else targets.y
    k = np.zeros(1, np.int64) if targets.k is None else targets.k
    validate = label_tol is not None
    target = _sink(x) if grad is None else grad
    args = [x, y, k, sparse, targets.cw, targets.keep, targets.add, scale, x.dtype == np.float64,
            validate, 1.0 if label_tol is None else label_tol, grad is not None, target, loss,
            status]  # fmt: skip
    with np.errstate(all="ignore"):
        if half:
            y_half = not sparse and is_half(y.dtype)
            per_row = (7, 13, 14) + ((2,) if sparse else () if y_half else (1,))
            _run_half(_module().dense_softmax, x, args, per_row=per_row,
                      inputs=(0, 1) if y_half else (0,),
                      outputs=() if grad is None else (12,))  # fmt: skip
        else:
            run_rows(_module().dense_softmax, n, x.size, *args)
    return loss, status


def sigmoid_xent(
    x: np.ndarray,
    y: np.ndarray,
    pos_weight: np.ndarray,
    sample_weight: np.ndarray | None,
    gdiv: float,
    grad: np.ndarray | None,
    *,
    per_element: bool,
    check: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element-wise sigmoid cross-entropy of logits ``x`` and labels ``y`` ``(rows, C)``.

    ``sample_weight``: None, 0-d or ``x``'s shape; the gradient (into ``grad``) is divided by
    ``gdiv``. Returns ``(values, rowsum, status)``: the weighted values per element when
    ``per_element`` (else unused), or their compensated sums per row ``(rows, 2)``: hi, lo.
    ``check``: report a NaN logit or a label outside [0, 1] with status REFERENCE.
    """
    n = x.shape[0]
    if sample_weight is None:
        mode, sw = SampleWeights.NONE, np.ones((1, 1))
    elif sample_weight.ndim == 0:
        mode, sw = SampleWeights.SCALAR, sample_weight.reshape(1, 1)
    else:
        mode, sw = SampleWeights.PER_ELEMENT, np.ascontiguousarray(sample_weight.reshape(x.shape))
    values = np.empty_like(x) if per_element else _sink(x)
    rowsum = np.zeros((n, 2))
    status = _status(n)
    target = _sink(x) if grad is None else grad
    inplace = _in_place(grad, x)
    args = [x, y, pos_weight, sw, int(mode), gdiv, x.dtype == np.float64, check,
            grad is not None, inplace, target, values, per_element, rowsum, status]  # fmt: skip
    with np.errstate(all="ignore"):
        if is_half(x.dtype):
            args[9] = False  # in place through the blocks
            y_half = is_half(y.dtype)
            per_row = (13, 14) + ((3,) if mode == SampleWeights.PER_ELEMENT else ())
            outputs = (() if grad is None else (10,)) + ((11,) if per_element else ())
            _run_half(_module().sigmoid_xent, x, args, per_row=per_row + (() if y_half else (1,)),
                      inputs=(0, 1) if y_half else (0,), outputs=outputs,
                      )  # fmt: skip
        else:
            run_rows(_module().sigmoid_xent, n, x.size, *args)
    return values, rowsum, status


def binary_probs(
    p: np.ndarray,
    y: np.ndarray,
    pos_weight: np.ndarray,
    keep: float,
    add: float,
    scale: np.ndarray,
    grad: np.ndarray | None,
    *,
    check: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Row means of the binary cross-entropy of probabilities ``p`` ``(rows, C)``.

    Labels ``y keep + add`` (smoothing); gradient ``scale[i]`` times that of the row's mean.
    Returns ``(loss, status)``; ``check``: report a NaN, or a label or probability outside
    [0, 1], with status REFERENCE.
    """
    n = p.shape[0]
    loss = np.empty(n)
    status = _status(n)
    target = _sink(p) if grad is None else grad
    inplace = _in_place(grad, p)
    args = [p, y, pos_weight, keep, add, scale, p.dtype == np.float64, check, grad is not None,
            inplace, target, loss, status]  # fmt: skip
    with np.errstate(all="ignore"):
        if is_half(p.dtype):
            args[9] = False  # in place through the blocks
            y_half = is_half(y.dtype)
            _run_half(_module().binary_probs, p, args,
                      per_row=(5, 11, 12) + (() if y_half else (1,)),
                      inputs=(0, 1) if y_half else (0,),
                      outputs=() if grad is None else (10,))  # fmt: skip
        else:
            run_rows(_module().binary_probs, n, p.size, *args)
    return loss, status
