"""Invariants of the gradients over wide random inputs (Hypothesis): finite for every finite
logit, inside the bounds the formulas imply, rows of softmax gradients summing to 0."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import crossentropy as ce

FINITE = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
MODERATE = st.floats(-50.0, 50.0, allow_nan=False)


def _logit_rows(elements: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 5)),
        elements=elements,
    )


@settings(max_examples=100, deadline=None)
@given(x=_logit_rows(FINITE), data=st.data())
def test_sparse_softmax_gradient_bounds(x: np.ndarray, data: st.DataObject) -> None:
    n, c = x.shape
    k = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    g = ce.grad(ce.sparse_softmax_cross_entropy_with_logits)(k, x)
    assert np.all(np.isfinite(g))
    true = g[np.arange(n), k]
    assert np.all((true >= -1.0) & (true <= 0.0))
    others = np.delete(g, k + c * np.arange(n)).reshape(n, c - 1) if c > 1 else np.zeros((n, 0))
    assert np.all((others >= 0.0) & (others <= 1.0))
    # d/dx of a normalised softmax row sums to zero: the true-class entry is minus the rest
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=4 * np.finfo(np.float64).eps)


@settings(max_examples=100, deadline=None)
@given(x=_logit_rows(MODERATE), data=st.data())
def test_soft_label_softmax_gradient_sums_to_zero(x: np.ndarray, data: st.DataObject) -> None:
    raw = data.draw(hnp.arrays(np.float64, x.shape, elements=st.floats(0.0, 1.0)))
    raw[:, 0] += 1e-3  # no all-zero row
    y = raw / raw.sum(axis=-1, keepdims=True)
    ls = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    g = ce.grad(ce.softmax_cross_entropy_with_logits)(y, x, label_smoothing=ls, validate=False)
    assert np.all(np.isfinite(g))
    assert np.all((g >= -1.0) & (g <= 1.0))
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=8 * np.finfo(np.float64).eps)


@settings(max_examples=100, deadline=None)
@given(
    x=hnp.arrays(np.float64, st.integers(1, 8), elements=FINITE),
    z=st.floats(0.0, 1.0),
    w=st.floats(0.0, 10.0),
)
def test_sigmoid_gradient_bounds(x: np.ndarray, z: float, w: float) -> None:
    labels = np.full(x.shape, z)
    g = ce.grad(ce.sigmoid_cross_entropy_with_logits)(labels, x, pos_weight=w)
    # (1 - z) s(x) - w z s(-x) lies between -w z and 1 - z
    assert np.all(np.isfinite(g))
    assert np.all((g >= -w * z) & (g <= 1.0 - z))


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@settings(max_examples=40, deadline=None)
@given(x=_logit_rows(FINITE), data=st.data())
def test_categorical_focal_gradient_finite_and_zero_sum(
    gamma: float, x: np.ndarray, data: st.DataObject
) -> None:
    n, c = x.shape
    k = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    g = ce.grad(ce.categorical_focal_crossentropy)(np.eye(c)[k], x, gamma=gamma, from_logits=True)
    assert np.all(np.isfinite(g))
    # sum_j (B p_j - b_j) = 0 up to rounding of terms of size max|g|
    scale = max(1.0, float(np.abs(g).max()))
    np.testing.assert_allclose(g.sum(axis=-1), 0.0, atol=8 * np.finfo(np.float64).eps * scale)
