"""Which implementation computes each public loss, and with respect to which argument.

Each public loss is a thin function that returns ``impl(...).value``; the implementation takes
the same arguments plus ``need_grad`` and returns a :class:`~crossentropy._reduction.LossResult`.
:mod:`crossentropy._grad` uses this table to build ``value_and_grad``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["lookup", "register"]

#: ``wrt``: the predictions argument's name, or a tuple of names for a loss with several
#: gradients (returned as a tuple, the trailing ones only where that argument is given).
_IMPLS: dict[Callable[..., Any], tuple[Callable[..., Any], str | tuple[str, ...]]] = {}


def register(
    public: Callable[..., Any], impl: Callable[..., Any], wrt: str | tuple[str, ...]
) -> None:
    """Record that ``public(...)`` equals ``impl(..., need_grad=False).value``."""
    _IMPLS[public] = (impl, wrt)


def lookup(caller: str, fn: Any) -> tuple[Callable[..., Any], str | tuple[str, ...]]:
    """The implementation of public loss ``fn`` and the name of its predictions argument."""
    try:
        return _IMPLS[fn]
    except (KeyError, TypeError):
        names = ", ".join(sorted(f.__name__ for f in _IMPLS))
        raise TypeError(
            f"{caller}: loss_fn must be one of crossentropy's losses ({names}); "
            f"got {getattr(fn, '__name__', repr(fn))}."
        ) from None
