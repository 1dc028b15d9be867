"""Every input check and its message, in one place.

Messages follow one template::

    {function}: {argument} must {expectation}; got {what was seen}. {remedy}

TypeError for a wrong kind or dtype, ValueError for a wrong shape or value. Each check returns the
(possibly converted) input so that callers can write ``x = check(...)``; none modifies its input.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ._namespace import is_numpy

__all__ = [
    "REDUCTIONS",
    "as_numpy",
    "check_axis",
    "check_float_array",
    "check_gamma",
    "check_ignore_index",
    "check_in_range",
    "check_label_array",
    "check_label_smoothing",
    "check_logit_rows",
    "check_no_nan",
    "check_reduction",
    "check_same_shape",
    "check_simplex_rows",
    "check_sparse_labels",
    "check_weight",
    "fmt_index",
    "fmt_shape",
    "value_checks_first",
]

REDUCTIONS = ("none", "mean", "sum")


def fmt_shape(shape: tuple[int, ...] | Any) -> str:
    """``(4,)`` for a 1-d shape, ``(4, 1)`` for a 2-d one, ``()`` for a scalar."""
    return str(tuple(int(s) for s in shape))


def _count(shape: Any) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def fmt_index(index: tuple[int, ...]) -> str:
    """``3`` for a 1-d index, ``(3, 1)`` otherwise."""
    if len(index) == 1:
        return str(index[0])
    return str(tuple(index))


def _first_true(xp: Any, mask: Any) -> tuple[int, ...]:
    """Index of the first True element of ``mask`` (C order)."""
    if is_numpy(xp):
        return tuple(int(i) for i in np.argwhere(np.asarray(mask))[0])
    idx = xp.nonzero(xp.reshape(mask, (-1,)) if mask.ndim == 0 else mask)
    return tuple(int(i[0]) for i in idx)


def _any(xp: Any, mask: Any) -> bool:
    return bool(xp.any(mask))


def _item(x: Any, index: tuple[int, ...]) -> Any:
    """The element at ``index`` as a Python int or float, following the array's kind."""
    v = x[index] if index else x
    if _dtype_kind(x.dtype) in ("i", "b"):
        return int(v)
    return float(v)


def _dtype_kind(dtype: Any) -> str:
    """'f' real floating (bfloat16 included), 'i' integer, 'b' bool, 'c' complex, '?' other."""
    name = str(getattr(dtype, "name", dtype))
    if "bfloat16" in name or "float" in name:
        return "c" if "complex" in name else "f"
    if "complex" in name:
        return "c"
    if "bool" in name:
        return "b"
    if "int" in name:
        return "i"
    return "?"


def _as_array(xp: Any, x: Any) -> Any:
    if is_numpy(xp):
        if isinstance(x, np.ma.MaskedArray):
            raise _Masked
        return np.asarray(x)  # pandas Series and DataFrame too (their __array__)
    if hasattr(x, "__array_namespace__") or type(x).__module__.startswith("torch"):
        return x  # already an array (torch.asarray on a tensor warns about requires_grad)
    return xp.asarray(x)


class _Masked(TypeError):
    """A masked array, refused: NumPy would silently drop its mask."""


def _reason(err: Exception) -> str:
    """Why an input could not become an array, for "...; got {reason}." (no doubled period)."""
    if isinstance(err, _Masked):
        return (
            "a numpy.ma.MaskedArray, whose mask would be ignored (pass its data, np.ma.getdata(x), "
            "and the mask as sample_weight: 0 for the masked samples)"
        )
    return str(err).rstrip(". ")


def as_numpy(fn: str, name: str, x: Any) -> np.ndarray:
    """``np.asarray(x)``, with the errors of :func:`check_float_array` for inputs it refuses."""
    try:
        return np.asarray(_as_array(np, x))
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn}: {name} must be an array of real floats; got {_reason(err)}."
        ) from None


def check_float_array(fn: str, name: str, x: Any, xp: Any) -> Any:
    """Predictions: a real floating array (float16, bfloat16, float32, float64, longdouble)."""
    try:
        arr = _as_array(xp, x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn}: {name} must be an array of real floats; got {_reason(err)}."
        ) from None
    kind = _dtype_kind(arr.dtype)
    if kind != "f":
        remedy = ""
        if kind in ("i", "b"):
            remedy = f" Cast it first, e.g. {name}.astype(np.float32)."
        raise TypeError(
            f"{fn}: {name} must have a real floating dtype; got dtype {arr.dtype}.{remedy}"
        )
    return arr


def check_label_array(fn: str, name: str, x: Any, xp: Any) -> Any:
    """Dense labels: real floats, integers or booleans (cast to float later)."""
    try:
        arr = _as_array(xp, x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: {name} must be an array of numbers; got {_reason(err)}.") from None
    if _dtype_kind(arr.dtype) not in ("f", "i", "b"):
        raise TypeError(
            f"{fn}: {name} must have a real floating, integer or boolean dtype; "
            f"got dtype {arr.dtype}."
        )
    return arr


def check_same_shape(fn: str, a_name: str, a: Any, b_name: str, b: Any) -> None:
    """Labels and predictions must have exactly the same shape: no silent broadcasting."""
    if tuple(a.shape) == tuple(b.shape):
        return
    hint = ""
    sa, sb = tuple(a.shape), tuple(b.shape)
    if sa + (1,) == sb:
        hint = (
            f" Reshape {a_name} to {fmt_shape(sb)} (e.g. {a_name}[..., None]) or squeeze the last "
            f"axis of {b_name}; broadcasting them would silently give a {fmt_shape(sa + sa[-1:])} "
            "result."
            if sa
            else f" Reshape {a_name} to {fmt_shape(sb)}."
        )
    elif sb + (1,) == sa:
        hint = f" Reshape {b_name} to {fmt_shape(sa)} or squeeze the last axis of {a_name}."
    raise ValueError(
        f"{fn}: {a_name} and {b_name} must have the same shape; "
        f"got {a_name}.shape={fmt_shape(sa)}, {b_name}.shape={fmt_shape(sb)}.{hint}"
    )


def check_no_nan(fn: str, name: str, x: Any, xp: Any) -> None:
    """No NaN anywhere in ``x`` (floating arrays only)."""
    if _dtype_kind(x.dtype) != "f":
        return
    mask = xp.isnan(x)
    if _any(xp, mask):
        idx = _first_true(xp, mask)
        where = f" at index {fmt_index(idx)}" if idx else ""
        raise ValueError(f"{fn}: {name} must not contain NaN; got NaN{where}.")


def check_in_range(
    fn: str,
    name: str,
    x: Any,
    xp: Any,
    lo: float,
    hi: float | None,
    *,
    remedy: str = "",
) -> None:
    """All of ``x`` in ``[lo, hi]`` (``hi=None``: no upper bound). NaN is reported separately."""
    bad = x < lo
    if hi is not None:
        bad = xp.logical_or(bad, x > hi)
    if _any(xp, bad):
        idx = _first_true(xp, bad)
        interval = f"in [{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
        where = f" at index {fmt_index(idx)}" if idx else ""
        raise ValueError(
            f"{fn}: {name} must be {interval}; got {_item(x, idx)!r}{where}."
            + (f" {remedy}" if remedy else "")
        )


def check_axis(fn: str, axis: Any, ndim: int, *, name: str = "axis") -> int:
    """Normalise an integer axis; ``ndim`` is the predictions' rank."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{fn}: {name} must be an int; got {type(axis).__name__} {axis!r}.")
    if ndim == 0:
        raise ValueError(
            f"{fn}: the predictions must have at least 1 dimension for {name}={axis}; "
            "got a 0-d array."
        )
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"{fn}: {name} must be in [{-ndim}, {ndim}) for {ndim}-d predictions; got {axis}."
        )
    return operator.index(axis) % ndim


def check_reduction(fn: str, reduction: Any) -> str:
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:  # no array == str
        raise ValueError(
            f"{fn}: reduction must be one of 'none', 'mean', 'sum'; got {reduction!r}."
        )
    return str(reduction)


def _check_scalar(fn: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fn}: {name} must be a real number; got {type(value).__name__}.")
    return float(value)


def check_label_smoothing(fn: str, value: Any) -> float:
    v = _check_scalar(fn, "label_smoothing", value)
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1]; got {v!r}.")
    return v


def check_gamma(fn: str, value: Any) -> float:
    v = _check_scalar(fn, "gamma", value)
    if not (v >= 0.0 and np.isfinite(v)):
        raise ValueError(f"{fn}: gamma must be a finite number >= 0; got {v!r}.")
    return v


def check_weight(
    fn: str,
    name: str,
    w: Any,
    xp: Any,
    shapes: tuple[tuple[int, ...], ...],
    *,
    upper: float | None = None,
) -> Any:
    """A weight array: one of the allowed ``shapes``, real, no NaN, >= 0, finite.

    ``shapes`` lists the accepted shapes in the order they are named in the message.
    """
    try:
        arr = _as_array(xp, w)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn}: {name} must be an array of real numbers; got {_reason(err)}."
        ) from None
    if _dtype_kind(arr.dtype) not in ("f", "i", "b"):
        raise TypeError(f"{fn}: {name} must be real numbers; got dtype {arr.dtype}.")
    if tuple(arr.shape) not in shapes:
        expected = " or ".join(fmt_shape(s) for s in shapes)
        raise ValueError(
            f"{fn}: {name} must have shape {expected}; got {name}.shape={fmt_shape(arr.shape)}."
        )
    if _dtype_kind(arr.dtype) == "f":
        check_no_nan(fn, name, arr, xp)
        inf = xp.isinf(arr)
        if _any(xp, inf):
            idx = _first_true(xp, inf)
            where = f" at index {fmt_index(idx)}" if idx else ""
            raise ValueError(f"{fn}: {name} must be finite; got {_item(arr, idx)!r}{where}.")
    check_in_range(fn, name, arr, xp, 0.0, upper)
    return arr


def check_sparse_labels(
    fn: str,
    name: str,
    labels: Any,
    xp: Any,
    *,
    expected_shape: tuple[int, ...],
    num_classes: int,
    ignore_index: int | None,
    check_values: bool = True,
) -> Any:
    """Integer class ids of ``expected_shape`` in ``[0, num_classes)`` or equal to ignore_index."""
    try:
        arr = _as_array(xp, labels)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{fn}: {name} must be an array of integers; got {_reason(err)}.") from None
    if _dtype_kind(arr.dtype) != "i":
        remedy = (
            f" Pass class indices (e.g. {name}.astype(np.int64)), or use the categorical loss "
            "for one-hot or soft labels."
        )
        raise TypeError(f"{fn}: {name} must have an integer dtype; got dtype {arr.dtype}.{remedy}")
    if tuple(arr.shape) != tuple(expected_shape):
        hint = ""
        if tuple(arr.shape) == tuple(expected_shape) + (num_classes,):
            hint = (
                f" {name} looks one-hot: use the categorical loss, or take argmax over the last "
                "axis."
            )
        elif tuple(arr.shape) == tuple(expected_shape) + (1,):
            hint = f" Squeeze the last axis of {name}."
        raise ValueError(
            f"{fn}: {name} must have the predictions' shape without the class axis, "
            f"{fmt_shape(expected_shape)}; got {name}.shape={fmt_shape(arr.shape)}.{hint}"
        )
    if check_values and num_classes == 0 and _count(arr.shape):
        raise ValueError(
            f"{fn}: the predictions must have at least 1 class for {name} to index; got 0 "
            f"classes (a class axis of length 0) and {name}.shape={fmt_shape(arr.shape)}."
        )
    if check_values:
        bad = xp.logical_or(arr < 0, arr >= num_classes)
        if ignore_index is not None:
            bad = xp.logical_and(bad, arr != ignore_index)
        if _any(xp, bad):
            idx = _first_true(xp, bad)
            where = f" at index {fmt_index(idx)}" if idx else ""
            remedy = ""
            if ignore_index is None and _item(arr, idx) < 0:
                remedy = f" (pass ignore_index={_item(arr, idx)} to skip those samples)"
            raise ValueError(
                f"{fn}: {name} must be in [0, {num_classes}); got {_item(arr, idx)}{where}{remedy}."
            )
    return arr


def simplex_tolerance(dtype: Any) -> float:
    """How far a row of probabilities may sum from 1: the square root of the dtype's epsilon
    (1.5e-8 for float64, 3.5e-4 for float32, 0.031 for float16, 0.088 for bfloat16)."""
    name = str(getattr(dtype, "name", dtype))
    if "bfloat16" in name:
        return float(np.sqrt(2.0**-7))
    try:
        eps = float(np.finfo(np.dtype(dtype)).eps)
    except TypeError:  # a non-NumPy dtype object
        eps = float(np.finfo(np.dtype(name.rsplit(".", 1)[-1])).eps)
    return float(np.sqrt(eps))


def check_simplex_rows(fn: str, name: str, p: Any, xp: Any, dtype: Any, axis: int) -> None:
    """Rows of probabilities (class axis last in ``p``, computed in high precision) sum to 1."""
    if p.shape[-1] == 0:
        return
    s = xp.sum(p, axis=-1)
    tol = simplex_tolerance(dtype)
    bad = xp.abs(s - 1.0) > tol
    if _any(xp, bad):
        idx = _first_true(xp, bad)
        row = f" for the row at index {fmt_index(idx)}" if idx else ""
        raise ValueError(
            f"{fn}: {name} must sum to 1 along axis {axis} (tolerance {tol:.2g} for "
            f"{getattr(dtype, 'name', dtype)}); got {float(s[idx] if idx else s)!r}{row}. "
            "If these are logits, pass from_logits=True; otherwise normalise the rows "
            f"({name} / {name}.sum(axis={axis}, keepdims=True)). "
            "No silent renormalisation is done."
        )


def check_logit_rows(fn: str, name: str, x: Any, xp: Any, axis: int) -> None:
    """No row of logits (class axis last) is entirely -inf: its softmax is undefined."""
    if x.shape[-1] == 0:
        raise ValueError(f"{fn}: {name} must have at least one class along axis {axis}; got 0.")
    dead = xp.all(x == -float("inf"), axis=-1)
    if _any(xp, dead):
        idx = _first_true(xp, dead)
        row = f" at index {fmt_index(idx)}" if idx else ""
        raise ValueError(
            f"{fn}: {name} must have a finite or +inf entry in every row along axis {axis}; "
            f"got a row of all -inf{row} (its softmax is undefined)."
        )


def check_ignore_index(fn: str, ignore_index: Any) -> int | None:
    """``ignore_index``: an int (a label value to skip) or None."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(
            f"{fn}: ignore_index must be an int or None; got {type(ignore_index).__name__} "
            f"{ignore_index!r}."
        )
    return int(ignore_index)


@contextlib.contextmanager
def value_checks_first(check: Callable[[], None] | None) -> Iterator[None]:
    """Raise the errors of a block after those of ``check``, the value checks a fast path runs
    late (it reads the values in its kernel) but the documented order puts first.

    If the block raises a TypeError or ValueError, ``check()`` runs (it raises its own error
    where the values are bad), then the block's error is raised again. Nothing is swallowed.
    """
    try:
        yield
    except (TypeError, ValueError):
        if check is not None:
            check()
        raise
