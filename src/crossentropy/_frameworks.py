"""Which array library each argument of a loss comes from, and the hand-off to its integration.

Every loss implementation (the ``_impl`` that a public loss and ``value_and_grad`` call) is
wrapped by :func:`dispatch`. For NumPy and Python inputs it costs one pass over the arguments'
types and calls the implementation. Otherwise it

- refuses arguments from two array libraries (``TypeError`` naming both arguments and both
  libraries: torch labels with NumPy logits, a NumPy ``class_weight`` with JAX logits);
- hands PyTorch predictions to :mod:`crossentropy._torch` (a ``torch.autograd.Function`` whose
  backward uses the analytic gradient of the same fused pass).

A framework's integration module is imported only when that framework's arrays are passed, so a
user who has not imported PyTorch never imports it here. Python scalars, lists and tuples and
NumPy scalars belong to no library and mix with any.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["dispatch", "library"]

#: Top-level module name -> the library it belongs to, for the libraries that are not NumPy.
_LIBRARIES = {
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "dask": "dask",
    "cupy": "cupy",
    "array_api_strict": "array_api_strict",
}
_NEUTRAL = (type(None), bool, int, float, complex, str, list, tuple, np.generic)


def library(x: object) -> str | None:
    """The array library ``x`` comes from: None for Python values and NumPy scalars (they mix
    with any library), ``"numpy"`` for NumPy arrays and other array-likes (pandas, ``__array__``
    objects), else the library's name (``"torch"``, ``"jax"``, ``"dask"``, ...)."""
    if isinstance(x, _NEUTRAL):
        return None
    if type(x) is np.ndarray:
        return "numpy"
    return _LIBRARIES.get(type(x).__module__.partition(".")[0], "numpy")


def _has_foreign(values: Any) -> bool:
    for v in values:
        if type(v) is np.ndarray or isinstance(v, _NEUTRAL):
            continue
        if library(v) != "numpy":
            return True
    return False


def dispatch(impl: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a loss implementation ``impl(fn, y_true, y_pred, ...)`` (see the module docstring)."""
    signature = inspect.signature(impl)
    params = list(signature.parameters)

    @functools.wraps(impl)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not (_has_foreign(args) or _has_foreign(kwargs.values())):
            return impl(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        fn = bound.arguments[params[0]]
        shown = dict(zip(params[1:3], bound.arguments.get("names", params[1:3]), strict=True))
        seen: dict[str, tuple[str, Any]] = {}
        for name, value in bound.arguments.items():
            lib = library(value) if name not in ("fn", "names", "out") else None
            if lib is not None:
                seen.setdefault(lib, (shown.get(name, name), value))
        if len(seen) > 1:
            (lib_a, (a, va)), (lib_b, (b, vb)) = list(seen.items())[:2]
            raise TypeError(
                f"{fn}: {a} and {b} must come from the same array library; got {a} from "
                f"{lib_a} ({type(va).__name__}) and {b} from {lib_b} ({type(vb).__name__}) "
                f"(convert one to the other's library first)."
            )
        if library(bound.arguments[params[2]]) == "torch":
            from . import _torch

            return _torch.call(impl, bound, shown[params[1]], shown[params[2]])
        if library(bound.arguments[params[2]]) == "jax":
            from . import _jax

            return _jax.call(impl, bound, shown[params[1]], shown[params[2]])
        return impl(*args, **kwargs)

    return wrapped
