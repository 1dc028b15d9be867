"""Plumbing shared by the framework conventions: inputs, dtypes, shapes and the few kernels that
several frameworks compute the same way.

Every compat function works on NumPy arrays in the framework's precision: a float32 input is
computed with float32 operations (as the framework's CPU kernels do), a float64 input with
float64 ones. Python lists and numbers become the framework's default float (float32 for
TensorFlow, Keras, PyTorch and JAX; float64 for scikit-learn), as they would there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_axis, check_float_array, check_same_shape, fmt_index, fmt_shape

__all__ = [
    "FloatArray",
    "as_float",
    "as_labels",
    "check_axis",
    "check_class_ids",
    "check_same_shape",
    "check_scalar",
    "clip",
    "errstate",
    "exp",
    "fmt_shape",
    "log",
    "log1p",
    "out",
    "power",
    "resolve_dtype",
    "sigmoid",
    "tf_softmax_xent",
]

FloatArray = np.ndarray[Any, np.dtype[np.floating[Any]]]

_SUPPORTED = (np.dtype(np.float32), np.dtype(np.float64))


def _via_float64(f: Callable[..., Any]) -> Callable[..., FloatArray]:
    """``f`` on float32 input computed in float64 and rounded once to float32.

    The frameworks' float32 ``exp``/``log``/``log1p`` kernels (Eigen, SLEEF, XLA) are accurate
    to about one unit in the last place; the correctly rounded value is the best predictor of
    their output (it agrees with PyTorch's CPU ``log`` on 99.96% of inputs, NumPy's own float32
    ``log`` on 86%). Arithmetic and sums stay in float32, as in the frameworks.
    """

    def g(x: Any, *args: Any) -> FloatArray:
        arr = np.asarray(x)
        if arr.dtype == np.float32:
            return np.asarray(f(arr.astype(np.float64), *args)).astype(np.float32)
        return np.asarray(f(arr, *args))

    g.__name__ = f.__name__
    g.__doc__ = f"``np.{f.__name__}``, float32 computed in float64 and rounded once."
    return g


log = _via_float64(np.log)
log1p = _via_float64(np.log1p)
exp = _via_float64(np.exp)
power = _via_float64(np.power)


def errstate() -> Any:
    """The frameworks compute ``log(0) = -inf`` and ``0 * inf = nan`` silently; so do we."""
    return np.errstate(all="ignore")


def _check_supported(fn: str, name: str, dtype: np.dtype[Any]) -> None:
    if dtype not in _SUPPORTED:
        raise TypeError(
            f"{fn}: {name} must be float32 or float64 (the precisions this convention is "
            f"reproduced in); got dtype {dtype}. Cast it first, e.g. {name}.astype(np.float32)."
        )


def as_float(fn: str, name: str, x: Any, *, default: Any = np.float32) -> FloatArray:
    """Predictions or logits: a NumPy float32/float64 array keeps its dtype; a Python number or
    list becomes ``default``, the framework's default float. Never modifies ``x``."""
    if x is None:
        raise TypeError(f"{fn}: {name} must be an array of floats; got None.")
    if isinstance(x, (np.ndarray, np.generic)):
        arr = check_float_array(fn, name, x, np)
        _check_supported(fn, name, arr.dtype)
        return np.asarray(arr)
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: {name} must be an array of floats; got {err}.") from None
    if arr.dtype.kind in "biuf":
        return arr.astype(default)
    raise TypeError(f"{fn}: {name} must be an array of real floats; got dtype {arr.dtype}.")


def as_labels(fn: str, name: str, y: Any, dtype: np.dtype[Any]) -> FloatArray:
    """Dense labels (floats, integers or booleans), cast to the predictions' ``dtype``."""
    if y is None:
        raise TypeError(f"{fn}: {name} must be an array of numbers; got None.")
    try:
        arr = np.asarray(y)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: {name} must be an array of numbers; got {err}.") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: {name} must have a real floating, integer or boolean dtype; "
            f"got dtype {arr.dtype}."
        )
    return arr.astype(dtype)


def resolve_dtype(fn: str, dtype: Any, default: Any = np.float32) -> np.dtype[Any]:
    """A ``dtype=`` argument: None (the framework's default), or float32/float64 by any name."""
    if dtype is None:
        res: np.dtype[Any] = np.dtype(default)
        return res
    dt: np.dtype[Any] | None
    try:
        dt = np.dtype(getattr(dtype, "name", dtype))
    except TypeError:
        dt = None
    if dt is None or dt not in _SUPPORTED:
        raise ValueError(f"{fn}: dtype must be None, 'float32' or 'float64'; got {dtype!r}.")
    return dt


def check_scalar(
    fn: str, name: str, value: Any, *, lo: float | None = None, hi: float | None = None
) -> float:
    """A real Python/NumPy number, optionally within ``[lo, hi]``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a real number; got {type(value).__name__}.")
    v = float(value)
    if (lo is not None and not v >= lo) or (hi is not None and not v <= hi):
        interval = (
            f"in [{lo:g}, {hi:g}]"
            if lo is not None and hi is not None
            else (f">= {lo:g}" if lo is not None else f"<= {hi:g}")
        )
        raise ValueError(f"{fn}: {name} must be {interval}; got {value!r}.")
    return v


def check_class_ids(
    fn: str,
    name: str,
    k: np.ndarray[Any, Any],
    num_classes: int,
    *,
    skip: Any = None,
    remedy: str = "",
) -> None:
    """Class ids in ``[0, num_classes)`` (``skip``: a value that is allowed as well)."""
    bad = (k < 0) | (k >= num_classes)
    if skip is not None:
        bad &= k != skip
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        where = f" at index {fmt_index(idx)}" if idx else ""
        v = k[idx] if idx else k[()]
        shown = int(v) if float(v).is_integer() else float(v)
        raise ValueError(
            f"{fn}: {name} must be in [0, {num_classes}); got {shown}{where}."
            + (f" {remedy}" if remedy else "")
        )


def out(x: Any) -> Any:
    """A 0-d result becomes a NumPy scalar of its dtype (the core's convention)."""
    arr = np.asarray(x)
    return arr[()] if arr.ndim == 0 else arr


def clip(p: FloatArray, eps: float) -> FloatArray:
    """``tf.clip_by_value(p, eps, 1 - eps)`` in ``p``'s dtype (``1 - eps`` rounded once)."""
    t = p.dtype.type
    return np.asarray(np.minimum(np.maximum(p, t(eps)), t(1.0 - eps)))


def sigmoid(x: FloatArray) -> FloatArray:
    """``1 / (1 + exp(-x))`` in ``x``'s dtype, without overflow for large ``|x|``."""
    with errstate():
        e = exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def tf_softmax_xent(labels: FloatArray, logits: FloatArray) -> FloatArray:
    """TensorFlow's ``SoftmaxCrossEntropyWithLogits`` kernel on the last axis.

    ``shifted = x - max(x)``, ``loss = sum(labels * (log(sum(exp(shifted))) - shifted))``: the
    normaliser and the shifted logit are subtracted, which cancels for a confident row (the
    exact functions add two non-negative terms instead).
    """
    with errstate():
        shifted = logits - np.max(logits, axis=-1, keepdims=True)
        log_s = log(np.sum(exp(shifted), axis=-1, keepdims=True))
        return np.asarray(np.sum(labels * (log_s - shifted), axis=-1))


def tf_sparse_softmax_xent(labels: np.ndarray[Any, Any], logits: FloatArray) -> FloatArray:
    """TensorFlow's ``SparseSoftmaxCrossEntropyWithLogits`` kernel: ``log(sum(exp(shifted)))
    - shifted[label]`` on the last axis (labels already checked)."""
    with errstate():
        shifted = logits - np.max(logits, axis=-1, keepdims=True)
        log_s = log(np.sum(exp(shifted), axis=-1))
        picked = np.take_along_axis(shifted, labels[..., None].astype(np.intp), axis=-1)[..., 0]
        return np.asarray(log_s - picked)


def move_last(x: np.ndarray[Any, Any], axis: int) -> np.ndarray[Any, Any]:
    return x if axis == x.ndim - 1 else np.moveaxis(x, axis, -1)


def normalise_axis(fn: str, axis: Any, ndim: int) -> int:
    """An int axis of an ``ndim``-d array (the core's message on a bad one)."""
    return check_axis(fn, axis, ndim)


def reduction_error(fn: str, reduction: Any, allowed: tuple[Any, ...]) -> ValueError:
    names = ", ".join(repr(a) for a in allowed)
    return ValueError(f"{fn}: reduction must be one of {names}; got {reduction!r}.")


Kernel = Callable[..., FloatArray]
