"""Invariants checked with hypothesis: shift invariance, non-negativity, sparse == one-hot,
axis == moveaxis, float32 close to float64, and agreement of equivalent spellings."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import crossentropy as ce

settings.register_profile("ci", max_examples=60, deadline=None)
settings.load_profile("ci")

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=64)
extreme = st.one_of(
    finite,
    st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1e-30, -1e-30, 709.0, -745.0, 1e4, -1e4]),
)


@st.composite
def logits_and_labels(draw: st.DrawFn, elements: st.SearchStrategy = finite) -> tuple:
    n = draw(st.integers(1, 6))
    c = draw(st.integers(1, 7))
    x = draw(hnp.arrays(np.float64, (n, c), elements=elements))
    k = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))
    return x, k


@given(logits_and_labels(extreme))
def test_losses_are_non_negative(data: tuple) -> None:
    x, k = data
    assert (ce.sparse_softmax_cross_entropy_with_logits(k, x) >= 0).all()
    onehot = np.eye(x.shape[1])[k]
    assert (ce.softmax_cross_entropy_with_logits(onehot, x, label_smoothing=0.3) >= 0).all()
    y = (x > 0).astype(float)
    assert (ce.sigmoid_cross_entropy_with_logits(y, x) >= 0).all()
    assert (ce.binary_crossentropy(y, x, from_logits=True, label_smoothing=0.1) >= 0).all()
    assert (ce.categorical_focal_crossentropy(onehot, x, from_logits=True) >= 0).all()
    assert (ce.binary_focal_crossentropy(y, x, from_logits=True, gamma=0.5) >= 0).all()


@given(logits_and_labels(), st.floats(-100, 100))
def test_shift_invariance(data: tuple, shift: float) -> None:
    x, k = data
    base = ce.sparse_softmax_cross_entropy_with_logits(k, x)
    shifted = ce.sparse_softmax_cross_entropy_with_logits(k, x + shift)
    # x + shift rounds each logit by up to half an ulp of |x| + |shift| (<= 150): the loss moves
    # by at most about that much.
    np.testing.assert_allclose(shifted, base, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ce.softmax(x + shift), ce.softmax(x), rtol=1e-12, atol=1e-15)


@given(logits_and_labels(extreme), st.sampled_from([0.0, 0.1, 1.0]), st.booleans())
def test_sparse_equals_one_hot(data: tuple, smoothing: float, weighted: bool) -> None:
    x, k = data
    c = x.shape[1]
    cw = np.linspace(0.5, 2.0, c) if weighted else None
    onehot = np.eye(c)[k]
    sparse = ce.sparse_softmax_cross_entropy_with_logits(
        k, x, label_smoothing=smoothing, class_weight=cw
    )
    dense = ce.softmax_cross_entropy_with_logits(
        onehot, x, label_smoothing=smoothing, class_weight=cw
    )
    np.testing.assert_allclose(sparse, dense, rtol=4e-16, atol=0)
    p = ce.softmax(x)
    p_ok = np.isclose(p.sum(-1), 1.0, rtol=0, atol=1e-8).all()
    if p_ok:
        sp = ce.sparse_categorical_crossentropy(k, p, label_smoothing=smoothing, class_weight=cw)
        de = ce.categorical_crossentropy(onehot, p, label_smoothing=smoothing, class_weight=cw)
        np.testing.assert_allclose(sp, de, rtol=4e-16, atol=0)


@given(
    hnp.arrays(np.float64, (3, 4, 5), elements=finite),
    st.integers(0, 2),
)
def test_axis_equals_moveaxis(x: np.ndarray, axis: int) -> None:
    moved = np.moveaxis(x, axis, -1)
    k = np.argmax(moved, axis=-1)
    onehot = np.moveaxis(np.eye(moved.shape[-1])[k], -1, axis)
    for fn, labels in [
        (ce.softmax_cross_entropy_with_logits, onehot),
        (ce.sparse_softmax_cross_entropy_with_logits, k),
    ]:
        np.testing.assert_array_equal(
            fn(labels, x, axis=axis),
            fn(np.moveaxis(labels, axis, -1) if labels.ndim == 3 else k, moved),
        )
    y = (onehot > 0).astype(float)
    np.testing.assert_array_equal(
        ce.binary_crossentropy(y, x, from_logits=True, axis=axis),
        ce.binary_crossentropy(np.moveaxis(y, axis, -1), moved, from_logits=True),
    )
    np.testing.assert_array_equal(
        ce.log_softmax(x, axis=axis), np.moveaxis(ce.log_softmax(moved), -1, axis)
    )
    np.testing.assert_array_equal(ce.logsumexp(x, axis=axis), ce.logsumexp(moved))


@given(logits_and_labels(st.floats(-80, 80, width=32)))
def test_float32_is_float64_rounded_once(data: tuple) -> None:
    x, k = data
    x32 = x.astype(np.float32)
    out32 = ce.sparse_softmax_cross_entropy_with_logits(k, x32)
    out64 = ce.sparse_softmax_cross_entropy_with_logits(k, x32.astype(np.float64))
    assert out32.dtype == np.float32
    # float32 is computed through float64 and rounded once: equal to rounding the float64 result.
    np.testing.assert_array_equal(out32, out64.astype(np.float32))
    y = (x32 > 0).astype(np.float32)
    b32 = ce.sigmoid_cross_entropy_with_logits(y, x32)
    b64 = ce.sigmoid_cross_entropy_with_logits(y.astype(np.float64), x32.astype(np.float64))
    np.testing.assert_array_equal(b32, b64.astype(np.float32))


@given(logits_and_labels())
def test_equivalent_spellings(data: tuple) -> None:
    x, k = data
    onehot = np.eye(x.shape[1])[k]
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
    y = (x > 0).astype(float)
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


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@given(logits_and_labels(), st.data())
def test_reductions_match_weighted_sums(reduction: str, data: tuple, draw: st.DataObject) -> None:
    x, k = data
    w = draw.draw(hnp.arrays(np.float64, k.shape, elements=st.floats(0, 10)))
    per = ce.sparse_softmax_cross_entropy_with_logits(k, x)
    got = ce.sparse_softmax_cross_entropy_with_logits(k, x, sample_weight=w, reduction=reduction)
    assert isinstance(got, np.float64)
    total = np.sum(w * per)
    expected = total if reduction == "sum" else (total / w.sum() if w.sum() > 0 else 0.0)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-300)
