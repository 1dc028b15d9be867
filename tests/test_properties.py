"""Invariants checked with hypothesis: shift invariance, non-negativity, sparse == one-hot,
axis == moveaxis, float32 close to float64, and agreement of equivalent spellings.

Every property runs on both paths: the reference code and the fused kernels. The drawn inputs
hold at least ``_kernels.MIN_SIZE`` elements (below it the library never calls a kernel), and
each test asserts which kernels computed its results, so an invariant of the fast path cannot
pass on the reference code instead. Example counts come from the Hypothesis profile chosen in
``tests/conftest.py``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import crossentropy as ce
from crossentropy import _kernels
from tests._support.paths import PATHS, on_path
from tests.accuracy.ulp import exact_floats, max_ulp_error

# The fast path's threshold; shapes go up to EXTRA elements beyond it (a short run).
MIN_SIZE = _kernels.MIN_SIZE
EXTRA = 512

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)
extreme = st.one_of(
    finite,
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1e-30, -1e-30, 709.0, -745.0, 1e4, -1e4]),
)


def _bulk(
    draw: st.DrawFn, shape: tuple[int, ...], bound: float, picks: st.SearchStrategy
) -> np.ndarray:
    """Logits of ``shape``: seeded normal values of a drawn scale, clipped to ``bound``, with up
    to 12 entries drawn by Hypothesis from ``picks`` (those it can shrink) and maybe a tie row."""
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 5.0, bound]))
    x = np.clip(np.random.default_rng(seed).standard_normal(shape) * scale, -bound, bound)
    for i, v in draw(st.lists(st.tuples(st.integers(0, x.size - 1), picks), max_size=12)):
        x.flat[i] = v
    if draw(st.booleans()):  # a row of equal logits: every class ties at the maximum
        x.reshape(-1, shape[-1])[0] = x.flat[0]
    return x


@st.composite
def logits_and_labels(
    draw: st.DrawFn, elements: st.SearchStrategy = finite, bound: float = 50.0
) -> tuple:
    """``(x, k)``: ``n x c`` float64 logits with ``n * c >= MIN_SIZE``, labels in ``[0, c)``."""
    n = draw(st.integers(1, 8))
    c_min = -(-MIN_SIZE // n)
    c = draw(st.integers(c_min, c_min + EXTRA // n))
    x = _bulk(draw, (n, c), bound, elements)
    k = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, k


def _ran(path: str, calls: list[str], *kernels: str) -> None:
    """The fast path ran each of ``kernels``; the reference path ran none."""
    if path == "fast":
        missing = [k for k in kernels if k not in calls]
        assert not missing, f"kernels {missing} did not run; ran {calls}"
    else:
        assert calls == [], calls


@pytest.mark.parametrize("path", PATHS)
@given(logits_and_labels(extreme, bound=1e4))
def test_losses_are_non_negative(path: str, data: tuple) -> None:
    x, k = data
    onehot = np.eye(x.shape[1])[k]
    y = (x > 0).astype(float)
    with on_path(path) as calls:
        assert (ce.sparse_softmax_cross_entropy_with_logits(k, x) >= 0).all()
        assert (ce.softmax_cross_entropy_with_logits(onehot, x, label_smoothing=0.3) >= 0).all()
        assert (ce.sigmoid_cross_entropy_with_logits(y, x) >= 0).all()
        assert (ce.binary_crossentropy(y, x, from_logits=True, label_smoothing=0.1) >= 0).all()
        assert (ce.categorical_focal_crossentropy(onehot, x, from_logits=True) >= 0).all()
        assert (ce.binary_focal_crossentropy(y, x, from_logits=True, gamma=0.5) >= 0).all()
    _ran(path, calls, "sparse_softmax", "dense_softmax", "sigmoid_xent")


@pytest.mark.parametrize("path", PATHS)
@given(logits_and_labels(), st.floats(-100, 100))
def test_shift_invariance(path: str, data: tuple, shift: float) -> None:
    x, k = data
    with on_path(path) as calls:
        base = ce.sparse_softmax_cross_entropy_with_logits(k, x)
        shifted = ce.sparse_softmax_cross_entropy_with_logits(k, x + shift)
        p, p_shifted = ce.softmax(x), ce.softmax(x + shift)
    _ran(path, calls, "sparse_softmax", "softmax_rows")
    # x + shift rounds each logit by up to half an ulp of |x| + |shift| (<= 150): the loss moves
    # by at most about that much.
    np.testing.assert_allclose(shifted, base, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(p_shifted, p, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("path", PATHS)
@given(logits_and_labels(extreme, bound=1e4), st.sampled_from([0.0, 0.1, 1.0]), st.booleans())
def test_sparse_equals_one_hot(path: str, data: tuple, smoothing: float, weighted: bool) -> None:
    x, k = data
    c = x.shape[1]
    cw = np.linspace(0.5, 2.0, c) if weighted else None
    onehot = np.eye(c)[k]
    with on_path(path) as calls:
        sparse = ce.sparse_softmax_cross_entropy_with_logits(
            k, x, label_smoothing=smoothing, class_weight=cw
        )
        dense = ce.softmax_cross_entropy_with_logits(
            onehot, x, label_smoothing=smoothing, class_weight=cw
        )
        p = ce.softmax(x)
        p_ok = np.isclose(p.sum(-1), 1.0, rtol=0, atol=1e-8).all()
        if p_ok:
            sp = ce.sparse_categorical_crossentropy(
                k, p, label_smoothing=smoothing, class_weight=cw
            )
            de = ce.categorical_crossentropy(onehot, p, label_smoothing=smoothing, class_weight=cw)
            np.testing.assert_allclose(sp, de, rtol=4e-16, atol=0)
    _ran(path, calls, "sparse_softmax" if smoothing == 0 else "dense_softmax", "softmax_rows")
    np.testing.assert_allclose(sparse, dense, rtol=4e-16, atol=0)


@st.composite
def logits_3d(draw: st.DrawFn) -> np.ndarray:
    """Float64 logits of three dimensions, at least ``MIN_SIZE`` elements."""
    a, b = draw(st.integers(4, 16)), draw(st.integers(4, 16))
    c_min = -(-MIN_SIZE // (a * b))
    shape = (a, b, draw(st.integers(c_min, c_min + EXTRA // (a * b))))
    return _bulk(draw, tuple(draw(st.permutations(shape))), 50.0, finite)


@pytest.mark.parametrize("path", PATHS)
@given(logits_3d(), st.integers(0, 2))
def test_axis_equals_moveaxis(path: str, x: np.ndarray, axis: int) -> None:
    moved = np.moveaxis(x, axis, -1)
    k = np.argmax(moved, axis=-1)
    onehot = np.moveaxis(np.eye(moved.shape[-1])[k], -1, axis)
    y = (onehot > 0).astype(float)
    with on_path(path) as calls:
        for fn, labels in [
            (ce.softmax_cross_entropy_with_logits, onehot),
            (ce.sparse_softmax_cross_entropy_with_logits, k),
        ]:
            np.testing.assert_array_equal(
                fn(labels, x, axis=axis),
                fn(np.moveaxis(labels, axis, -1) if labels.ndim == 3 else k, moved),
            )
        np.testing.assert_array_equal(
            ce.binary_crossentropy(y, x, from_logits=True, axis=axis),
            ce.binary_crossentropy(np.moveaxis(y, axis, -1), moved, from_logits=True),
        )
        np.testing.assert_array_equal(
            ce.log_softmax(x, axis=axis), np.moveaxis(ce.log_softmax(moved), -1, axis)
        )
        np.testing.assert_array_equal(ce.logsumexp(x, axis=axis), ce.logsumexp(moved))
    _ran(path, calls, "dense_softmax", "sparse_softmax", "softmax_rows")


@pytest.mark.parametrize("path", PATHS)
@given(logits_and_labels(st.floats(-80, 80, width=32), bound=80.0))
def test_float32_is_float64_rounded_once(path: str, data: tuple) -> None:
    x, k = data
    x32 = x.astype(np.float32)
    y = (x32 > 0).astype(np.float32)
    with on_path(path) as calls:
        out32 = ce.sparse_softmax_cross_entropy_with_logits(k, x32)
        out64 = ce.sparse_softmax_cross_entropy_with_logits(k, x32.astype(np.float64))
        b32 = ce.sigmoid_cross_entropy_with_logits(y, x32)
        b64 = ce.sigmoid_cross_entropy_with_logits(y.astype(np.float64), x32.astype(np.float64))
    _ran(path, calls, "sparse_softmax_f32", "sparse_softmax", "sigmoid_xent")
    assert out32.dtype == np.float32
    if path == "reference":
        # float32 is computed through float64 and rounded once: equal to rounding the float64
        # result.
        np.testing.assert_array_equal(out32, out64.astype(np.float32))
        np.testing.assert_array_equal(b32, b64.astype(np.float32))
    else:
        # The kernels' float32 exponentials (``_kernels/_numba.py``: < 0.1 float32 ULP) move a
        # result across a rounding boundary now and then (about 1 % of the sigmoid losses): the
        # float64 result (2**-29 ULP from exact here) rounded, plus at most 0.1 ULP.
        assert max_ulp_error(out32, exact_floats(out64), np.float32) <= 0.6
        assert max_ulp_error(b32, exact_floats(b64), np.float32) <= 0.6


@pytest.mark.parametrize("path", PATHS)
@given(logits_and_labels())
def test_equivalent_spellings(path: str, data: tuple) -> None:
    x, k = data
    onehot = np.eye(x.shape[1])[k]
    y = (x > 0).astype(float)
    with on_path(path) as calls:
        np.testing.assert_array_equal(
            ce.categorical_crossentropy(onehot, x, from_logits=True),
            ce.softmax_cross_entropy_with_logits(onehot, x),
        )
        np.testing.assert_array_equal(
            ce.sparse_categorical_crossentropy(k, x, from_logits=True),
            ce.sparse_softmax_cross_entropy_with_logits(k, x),
        )
        np.testing.assert_allclose(
            -ce.log_softmax(x)[np.arange(len(k)), k],
            ce.sparse_softmax_cross_entropy_with_logits(k, x),
            rtol=4e-16,
        )
        # gamma = 0 with no alpha is the plain loss.
        np.testing.assert_allclose(
            ce.categorical_focal_crossentropy(onehot, x, gamma=0.0, from_logits=True),
            ce.softmax_cross_entropy_with_logits(onehot, x),
            rtol=1e-15,
        )
        np.testing.assert_allclose(
            ce.binary_focal_crossentropy(y, x, gamma=0.0, from_logits=True),
            ce.binary_crossentropy(y, x, from_logits=True),
            rtol=1e-15,
        )
        # Logits and probabilities agree (away from saturation).
        p = ce.softmax(x)
        if (p > 1e-300).all():
            np.testing.assert_allclose(
                ce.categorical_crossentropy(onehot, p, validate=False),
                ce.softmax_cross_entropy_with_logits(onehot, x),
                rtol=1e-9,
                atol=1e-15,
            )
    _ran(path, calls, "dense_softmax", "sparse_softmax", "softmax_rows")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@given(logits_and_labels(), st.data())
def test_reductions_match_weighted_sums(
    path: str, reduction: str, data: tuple, draw: st.DataObject
) -> None:
    x, k = data
    w = draw.draw(hnp.arrays(np.float64, k.shape, elements=st.floats(0, 10)))
    with on_path(path) as calls:
        per = ce.sparse_softmax_cross_entropy_with_logits(k, x)
        got = ce.sparse_softmax_cross_entropy_with_logits(
            k, x, sample_weight=w, reduction=reduction
        )
    _ran(path, calls, "sparse_softmax")
    assert isinstance(got, np.float64)
    # The exact weighted sum and mean of the per-sample losses (fractions: a float64 product of
    # a subnormal weight and a loss is rounded to 2**-1074 absolute, which the library's mean
    # avoids by dividing the weights by their maximum first).
    total = sum((Fraction(wi) * Fraction(li) for wi, li in zip(w, per, strict=True)), Fraction(0))
    wsum = sum((Fraction(wi) for wi in w), Fraction(0))
    expected = float(total if reduction == "sum" else (total / wsum if wsum > 0 else 0))
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-300)
