"""Settings and fixtures for the whole test tree.

Hypothesis profiles are registered here, once, before any test module is imported (a test
module never changes global settings). Pick one with ``HYPOTHESIS_PROFILE`` (or Hypothesis's
own ``--hypothesis-profile``); the default, ``ci``, is bounded, has no deadline (a first
call may compile the kernels) and is derandomised (the same examples on every run and
machine, so CI's outcome never depends on the draw; ``thorough`` explores at random). Tests
that need more or fewer examples say so with ``@settings``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import mpmath
import pytest
from hypothesis import settings

from crossentropy import _kernels

settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True)
settings.register_profile("quick", max_examples=10, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _no_leaked_state() -> Iterator[None]:
    """A test leaves mpmath's working precision and the fast path's switches as it found them
    (mpmath.workprec / workdps and tests._support.paths.on_path restore them)."""
    before = (mpmath.mp.prec, _kernels.ENABLED, _kernels.MIN_SIZE)
    run_rows = _kernels.run_rows
    yield
    after = (mpmath.mp.prec, _kernels.ENABLED, _kernels.MIN_SIZE)
    assert after == before, (
        f"the test changed (mpmath.mp.prec, _kernels.ENABLED, _kernels.MIN_SIZE) from {before} "
        f"to {after}; use a local context"
    )
    assert _kernels.run_rows is run_rows, "the test left _kernels.run_rows replaced"
