"""Which array library an input belongs to, and the few helpers that differ between them.

NumPy inputs (and Python scalars and lists, and objects of no array library: pandas Series and
DataFrames, which become NumPy arrays through ``__array__``) are handled by NumPy itself and
never go through ``array_api_compat``; any other array (PyTorch, JAX, CuPy, Dask,
array-api-strict) is handled by the namespace that ``array_api_compat.array_namespace`` returns
for it. ``array_api_compat`` is imported on the first non-NumPy input only, so
``import crossentropy`` stays light.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "array_namespace",
    "astype",
    "compute_dtype",
    "device",
    "is_numpy",
    "move_back",
    "move_last",
    "to_output",
]


def _is_numpy_like(x: object) -> bool:
    return x is None or isinstance(x, (np.ndarray, np.generic, int, float, bool, list, tuple))


def array_namespace(*arrays: object) -> Any:
    """Return the array namespace of ``arrays``: ``numpy`` itself for NumPy and Python inputs."""
    foreign = [a for a in arrays if not _is_numpy_like(a)]
    if not foreign:
        return np
    import array_api_compat

    # Objects that are no array library's arrays (a pandas Series or DataFrame, a str, ...) are
    # NumPy's: np.asarray converts the first ones (their __array__), and the checks refuse the
    # others by name, with the function and the argument.
    foreign = [a for a in foreign if array_api_compat.is_array_api_obj(a)]
    if not foreign:
        return np
    return array_api_compat.array_namespace(*foreign)


def is_numpy(xp: Any) -> bool:
    """True when ``xp`` is NumPy itself (not a compat wrapper of it)."""
    return xp is np


def astype(xp: Any, x: Any, dtype: Any) -> Any:
    """Cast ``x`` to ``dtype`` without a copy when it already has it."""
    if is_numpy(xp):
        return np.asarray(x).astype(dtype, copy=False)
    if x.dtype == dtype:
        return x
    return xp.astype(x, dtype)


def _is_half(dtype: Any) -> bool:
    name = getattr(dtype, "name", str(dtype))
    return name in ("float16", "bfloat16") or str(dtype).endswith(("float16", "bfloat16"))


def compute_dtype(xp: Any, dtype: Any) -> Any:
    """The dtype the reference path computes in for inputs of ``dtype``.

    NumPy: float16, bfloat16, float32 and float64 inputs compute in float64 and the result is
    rounded once to the input dtype, which makes float32 and narrower results correctly rounded in
    almost every case; ``longdouble`` computes in itself. Other array libraries compute float16 and
    bfloat16 in float32 and other dtypes in themselves (float64 is not available everywhere, e.g.
    JAX without x64 or Apple's MPS).
    """
    if is_numpy(xp):
        if (
            np.dtype(dtype) == np.longdouble
            and np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
        ):
            return np.dtype(np.longdouble)
        return np.dtype(np.float64)
    if _is_half(dtype):
        return xp.float32
    return dtype


def device(x: Any) -> Any:
    """The device of a non-NumPy array (for ``arange`` and friends)."""
    import array_api_compat

    return array_api_compat.device(x)


def move_last(xp: Any, x: Any, axis: int) -> Any:
    """``x`` with ``axis`` moved last (``x`` itself when it is last already)."""
    return x if axis == x.ndim - 1 else xp.moveaxis(x, axis, -1)


def move_back(xp: Any, x: Any, axis: int) -> Any:
    """The inverse of :func:`move_last`: the last axis of ``x`` moved to ``axis``."""
    return x if axis == x.ndim - 1 else xp.moveaxis(x, -1, axis)


def to_output(xp: Any, x: Any, dtype: Any) -> Any:
    """Cast a computed result to the output ``dtype``; a 0-d NumPy result becomes a NumPy scalar."""
    out = astype(xp, x, dtype)
    if is_numpy(xp) and out.ndim == 0:
        return out[()]
    return out
