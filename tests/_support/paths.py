"""Which path computed a result: the fused kernels (the fast path) or the reference code.

One place that knows how to force a path and how to see which kernels ran, so a test that
compares the two paths, or checks an invariant on both, can assert that the fast path really
ran: a fast path that always fell back to the reference code would pass every comparison.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator
from typing import Any

import pytest

from crossentropy import _kernels

__all__ = ["HAS_NUMBA", "PATHS", "on_path"]

HAS_NUMBA = importlib.util.find_spec("numba") is not None

#: ``@pytest.mark.parametrize("path", PATHS)``: the fast path is skipped, visibly, without numba.
PATHS = [
    pytest.param("reference", id="reference"),
    pytest.param(
        "fast",
        id="fast",
        marks=pytest.mark.skipif(not HAS_NUMBA, reason="the fast path needs numba"),
    ),
]


@contextlib.contextmanager
def on_path(path: str, *, min_size: int | None = None) -> Iterator[list[str]]:
    """Run the body on ``path`` (``"fast"`` or ``"reference"``); yield the kernels it ran.

    Sets ``_kernels.ENABLED`` (the fast-path switch, read from ``CROSSENTROPY_FAST`` once at
    import), optionally lowers the fast path's size threshold
    (``_kernels.MIN_SIZE``; ``min_size=0`` sends even tiny inputs to the kernels) and wraps
    ``_kernels.run_rows`` so the name of every kernel it runs is appended to the yielded list.
    Everything is restored on exit, so this nests (a reference computation inside a fast-path
    test) and works per Hypothesis example, where a function-scoped fixture would not.
    """
    if path not in ("fast", "reference"):
        raise ValueError(f"on_path: path must be 'fast' or 'reference'; got {path!r}")
    calls: list[str] = []
    run_rows = _kernels.run_rows
    size = _kernels.MIN_SIZE
    enabled = _kernels.ENABLED

    def spy(kernel: Any, *args: Any) -> Any:
        calls.append(getattr(kernel, "__name__", str(kernel)))
        return run_rows(kernel, *args)

    _kernels.ENABLED = path == "fast"
    _kernels.run_rows = spy  # type: ignore[assignment]
    if min_size is not None:
        _kernels.MIN_SIZE = min_size
    try:
        yield calls
    finally:
        _kernels.run_rows = run_rows  # type: ignore[assignment]
        _kernels.MIN_SIZE = size
        _kernels.ENABLED = enabled
