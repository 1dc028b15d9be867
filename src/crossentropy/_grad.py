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
        A function with ``loss_fn``'s signature returning ``ValueAndGrad(value, grad)``:
        ``value`` is exactly what ``loss_fn`` returns and ``grad`` is
        :math:`\partial\,\mathrm{value} / \partial\,\mathrm{predictions}` (of the sum of the values
        for ``reduction="none"``), with the predictions' shape and dtype. Ignored and zero-weight
        samples have gradient exactly 0.

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
    """
    return _value_and_grad(loss_fn, "value_and_grad")


def _value_and_grad(loss_fn: Callable[..., Any], caller: str) -> Callable[..., ValueAndGrad]:
    """``value_and_grad`` with errors attributed to ``caller``."""
    impl, _ = lookup(caller, loss_fn)
    signature = inspect.signature(loss_fn)

    @functools.wraps(loss_fn)
    def wrapped(*args: Any, **kwargs: Any) -> ValueAndGrad:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{loss_fn.__name__}: {err}") from None
        bound.apply_defaults()
        result = impl(*bound.args, **bound.kwargs, need_grad=True)
        return ValueAndGrad(result.value, result.grad)

    wrapped.__doc__ = (
        f"Value and gradient of :func:`crossentropy.{loss_fn.__name__}`; "
        "see :func:`crossentropy.value_and_grad`.\n\n" + (loss_fn.__doc__ or "")
    )
    return wrapped


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
