"""Analytic gradients of every loss: ``value_and_grad`` and ``grad``.

The gradient is computed in the same pass as the loss (shared max, exponentials and normaliser),
never by a second call or by finite differences. It is the derivative of the *reduced* value with
respect to the predictions argument (``y_pred`` or ``logits``); with ``reduction="none"`` it is the
derivative of the sum of the per-sample values. It has the predictions' shape and dtype.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._registry import lookup

__all__ = ["ValueAndGrad", "grad", "value_and_grad"]


class ValueAndGrad(NamedTuple):
    """``(value, grad)``: the loss's value and its gradient with respect to the predictions."""

    value: Any
    grad: Any


def value_and_grad(loss_fn: Callable[..., Any]) -> Callable[..., ValueAndGrad]:
    r"""Turn one of crossentropy's losses into a function that also returns its gradient.

    Parameters
    ----------
    loss_fn : callable
        A top-level loss of this package, e.g. :func:`crossentropy.sparse_categorical_crossentropy`.

    Returns
    -------
    callable
        A function with ``loss_fn``'s signature, plus a keyword ``out``, returning
        ``ValueAndGrad(value, grad)``:
        ``value`` is exactly what ``loss_fn`` returns and ``grad`` is
        :math:`\partial\,\mathrm{value} / \partial\,\mathrm{predictions}` (of the sum of the values
        for ``reduction="none"``), with the predictions' shape and dtype. Ignored and zero-weight
        samples have gradient exactly 0. For :func:`crossentropy.linear_cross_entropy`,
        ``grad`` is the tuple ``(grad_hidden, grad_weight)``, plus ``grad_bias`` when a bias is
        given (``out`` is not supported there).

        ``out=buf`` writes the gradient into ``buf`` (a writeable NumPy array of the
        predictions' shape and dtype) and returns it as ``grad``: no gradient-sized allocation.
        ``buf`` may be the predictions array itself, which is then overwritten with its gradient
        (as Liger-Kernel does): zero extra memory. The fused kernels write into ``buf`` directly
        when it is C-contiguous with the class axis last; otherwise the gradient is computed and
        copied in. If an error is raised, ``buf``'s contents are unspecified.

    Raises
    ------
    TypeError
        ``loss_fn`` is not one of this package's losses.

    Examples
    --------
    >>> import crossentropy as ce
    >>> vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    >>> value, g = vg([0], [[20.0, 0.0, 0.0]], reduction="mean")
    >>> float(value)
    4.1223072363804075e-09
    >>> g.tolist()
    [[-4.122307227883699e-09, 2.0611536139418496e-09, 2.0611536139418496e-09]]
    >>> import numpy as np
    >>> logits = np.array([[20.0, 0.0, 0.0]])
    >>> _, g = vg([0], logits, reduction="mean", out=logits)  # in place: logits now hold the grad
    >>> g is logits, logits.tolist() == g.tolist()
    (True, True)
    """
    return _value_and_grad(loss_fn, "value_and_grad")


def _value_and_grad(loss_fn: Callable[..., Any], caller: str) -> Callable[..., ValueAndGrad]:
    """``value_and_grad`` with errors attributed to ``caller``."""
    impl, wrt = lookup(caller, loss_fn)
    signature = inspect.signature(loss_fn)

    @functools.wraps(loss_fn)
    def wrapped(*args: Any, out: Any = None, **kwargs: Any) -> ValueAndGrad:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{loss_fn.__name__}: {err}") from None
        bound.apply_defaults()
        if out is None:
            result = impl(*bound.args, **bound.kwargs, need_grad=True)
            return ValueAndGrad(result.value, result.grad)
        if isinstance(wrt, tuple):
            raise TypeError(
                f"{loss_fn.__name__}: out is not supported for a loss with several gradients "
                f"({', '.join(wrt)}); got out of type {type(out).__name__}."
            )
        _check_out(loss_fn.__name__, out, bound.arguments[wrt], wrt)
        buf = out if type(out) is np.ndarray else out.view(np.ndarray)  # a memmap, say
        result = impl(*bound.args, **bound.kwargs, need_grad=True, out=buf)  # kernels write in it
        if result.grad is not buf:
            np.copyto(out, result.grad)
        return ValueAndGrad(result.value, out)

    wrapped.__doc__ = (
        f"Value and gradient of :func:`crossentropy.{loss_fn.__name__}`; "
        "see :func:`crossentropy.value_and_grad`.\n\n" + (loss_fn.__doc__ or "")
    )
    return wrapped


def _check_out(fn: str, out: Any, preds: Any, name: str) -> None:
    """``out`` must be a writeable NumPy array (a subclass such as ``np.memmap`` too, not a
    masked array) of the gradient's shape and dtype."""
    if not isinstance(out, np.ndarray) or isinstance(out, np.ma.MaskedArray):
        raise TypeError(
            f"{fn}: out must be a NumPy array (of the shape and dtype of {name}); "
            f"got {type(out).__name__}."
        )
    plain = isinstance(preds, np.ndarray) and not isinstance(preds, np.ma.MaskedArray)
    if plain or isinstance(preds, (list, tuple, float, int)):
        arr = np.asarray(preds)
        if arr.dtype.kind != "f" and "bfloat16" not in arr.dtype.name:
            return  # the loss itself rejects non-float predictions (or grads are float64)
        if out.shape != arr.shape or out.dtype != arr.dtype:
            raise ValueError(
                f"{fn}: out must have the shape {tuple(arr.shape)} and dtype {arr.dtype} of "
                f"{name}; got out.shape={tuple(out.shape)}, dtype {out.dtype}."
            )
        same = out.ctypes.data == arr.ctypes.data and out.strides == arr.strides
        if not same and np.may_share_memory(out, arr):
            raise ValueError(
                f"{fn}: out must be {name} itself or not overlap it; got a partly overlapping view."
            )
    else:
        raise TypeError(
            f"{fn}: out is supported for NumPy predictions only; got {name} of type "
            f"{type(preds).__name__}."
        )
    if not out.flags.writeable:
        raise ValueError(f"{fn}: out must be writeable; got a read-only array.")


def grad(loss_fn: Callable[..., Any]) -> Callable[..., Any]:
    """Like :func:`value_and_grad`, returning the gradient alone.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.grad(ce.sigmoid_cross_entropy_with_logits)([1.0, 0.0], [0.0, 0.0]).tolist()
    [-0.5, 0.5]
    """
    vg = _value_and_grad(loss_fn, "grad")

    @functools.wraps(loss_fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs).grad

    wrapped.__doc__ = (
        f"Gradient of :func:`crossentropy.{loss_fn.__name__}` with respect to its predictions; "
        "see :func:`crossentropy.grad`.\n\n" + (loss_fn.__doc__ or "")
    )
    return wrapped
