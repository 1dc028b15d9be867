"""Shared fixtures: the stored hostile suite with its exact references."""

from __future__ import annotations

import functools

from .cases import Loaded, load
from .suite import DTYPES


@functools.cache
def stored(dtype: str) -> tuple[Loaded, ...]:
    """The cases of one dtype, with references (read once per session)."""
    return tuple(load(dtype))


def all_stored() -> list[Loaded]:
    return [c for dt in DTYPES for c in stored(dt)]
