"""The accumulators: exact sums, merges in any order, and the worst-sample heap."""

from __future__ import annotations

import math
import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from crossentropy.cli._accumulate import Accumulator, CompensatedVector, ExactSum, chunk_sum

floats = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@settings(max_examples=200, deadline=None)
@given(st.lists(floats, max_size=60), st.integers(0, 2**32))
def test_exact_sum_equals_fsum_in_any_split_and_order(xs: list[float], seed: int) -> None:
    rng = random.Random(seed)
    parts: list[ExactSum] = []
    for x in xs:
        if not parts or rng.random() < 0.3:
            parts.append(ExactSum())
        parts[-1].add(x)
    rng.shuffle(parts)
    total = ExactSum()
    for p in parts:
        total.merge(p)
    assert total.value() == math.fsum(xs)


def test_exact_sum_infinities() -> None:
    s = ExactSum()
    for x in (1.0, math.inf, 2.0):
        s.add(x)
    assert s.value() == math.inf


def test_chunk_sum_is_accurate() -> None:
    x = (
        np.random.default_rng(0).exponential(size=100_001)
        * 10.0 ** np.arange(-5, 6).repeat(9091)[:100_001]
    )
    assert abs(chunk_sum(x) - math.fsum(x)) <= math.ulp(math.fsum(x))


def test_compensated_vector_with_inf() -> None:
    v = CompensatedVector(3)
    for _ in range(1000):
        v.add([0.1, 1e16, 1.0])
    v.add([math.inf, -1.0, 0.0])
    got = v.value()
    assert got[0] == math.inf
    assert got[1] == math.fsum([1e16] * 1000 + [-1.0])
    assert got[2] == 1000.0


def test_worst_heap_independent_of_chunking() -> None:
    rng = np.random.default_rng(1)
    losses = np.round(rng.exponential(size=500), 1)  # many ties
    valid = rng.uniform(size=500) > 0.1
    order = sorted(np.flatnonzero(valid), key=lambda i: (-losses[i], i))[:7]
    for chunk in (1, 3, 50, 500):
        acc = Accumulator(2, worst_k=7)
        for a in range(0, 500, chunk):
            part = Accumulator(2, worst_k=7)
            part.add_worst(losses[a : a + chunk], valid[a : a + chunk], 0, a, lambda i: {})
            acc.merge(part)
        assert [-t[2] for t in acc.worst_sorted()] == [int(i) for i in order]
