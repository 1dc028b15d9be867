"""Every worked example of ../shared/SEEDS.md, to the digits shown there."""

from __future__ import annotations

import numpy as np
import pytest

import crossentropy as ce

# ---------------------------------------------------------------------------------- seed 1

Y = [[1, 0, 1, 1, 0, 1, 0, 0]]
A2 = [[0.8, 0.2, 0.95, 0.92, 0.01, 0.93, 0.1, 0.02]]


def test_seed1_cost_is_a_0d_scalar_not_a_1x1_matrix() -> None:
    cost = ce.binary_crossentropy(Y, A2, reduction="mean")
    assert isinstance(cost, np.float64)
    assert np.shape(cost) == ()
    assert repr(float(cost)) == "0.09864328220233795"


def test_seed1_logprobs_both_ways() -> None:
    y, a2 = np.array(Y), np.array(A2)
    m = y.shape[1]
    cost = ce.binary_crossentropy(Y, A2, reduction="mean")
    # The log-likelihood is -m * cost (m = 8 is a power of two, so this is exact).
    assert repr(float(-m * cost)) == "-0.7891462576187036"
    # The article's two spellings: np.dot keeps a (1, 1) matrix, np.sum gives a scalar.
    dot = np.dot(y, np.log(a2).T) + np.dot(1 - y, np.log(1 - a2).T)
    assert dot.shape == (1, 1)
    np.testing.assert_allclose(dot[0, 0], -0.78914626, rtol=1e-8)
    total = np.sum(y * np.log(a2) + (1 - y) * np.log(1 - a2))
    assert repr(float(total)) == "-0.7891462576187036"
    assert float(-total / m) == float(cost)
    # The per-sample form keeps one value per row.
    per_row = ce.binary_crossentropy(Y, A2)
    assert per_row.shape == (1,)
    assert per_row[0] == cost


def test_seed1_squeeze_gives_0d_array_item_gives_float() -> None:
    dot = np.dot(np.array(Y), np.log(np.array(A2)).T)
    squeezed = np.squeeze(dot)
    assert isinstance(squeezed, np.ndarray)
    assert squeezed.ndim == 0
    assert isinstance(squeezed.item(), float)
    # The library's reduced value is already a scalar; .item() gives a Python float.
    assert isinstance(ce.binary_crossentropy(Y, A2, reduction="sum").item(), float)


# ---------------------------------------------------------------------------------- seed 2


@pytest.mark.parametrize(
    ("y_true", "y_pred", "printed"),
    [
        ([[[0.0]]], [[[0.5]]], "0.6931472"),
        ([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]], "0.4915282"),
    ],
)
def test_seed2_keras_binary_crossentropy_exact(y_true: list, y_pred: list, printed: str) -> None:
    out = ce.binary_crossentropy(np.float32(y_true), np.float32(y_pred))
    assert out.shape == (1, 1)  # the input's shape without the last axis
    assert out.dtype == np.float32
    assert str(out[0, 0]) == printed  # float32's shortest repr, as Keras 3 prints it


def test_seed2_multilabel_labels_are_independent() -> None:
    # "person" 0.9, "man" 0.6, "woman" 0.3 at once: each label is its own binary problem.
    per_label = ce.binary_crossentropy([[1.0, 1.0, 0.0]], [[0.9, 0.6, 0.3]])
    by_hand = -np.mean([np.log(0.9), np.log(0.6), np.log(0.7)])
    np.testing.assert_allclose(per_label, [by_hand], rtol=1e-15)


# ---------------------------------------------------------------------------------- seed 3

SEED3_LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]])
SEED3_CLASSES = np.array([0, 1, 2, 0, 1])
# As printed by TensorFlow in float64. TensorFlow computes logsumexp(x) - x_k, which cancels in
# the last digits; the library's values are within a few ulp of exact (checked against mpmath in
# tests/reference), and agree with these to 12 significant digits.
SEED3_TF = [
    1.6879548708943529e-04,
    1.0347562247153873e-03,
    6.588390375742911e-02,
    2.5834920679665725,
    5.498523537714723e-02,
]


def test_seed3_softmax_and_sparse_agree_and_match_tensorflow() -> None:
    onehot = np.eye(3)[SEED3_CLASSES]
    dense = ce.softmax_cross_entropy_with_logits(labels=onehot, logits=SEED3_LOGITS)
    sparse = ce.sparse_softmax_cross_entropy_with_logits(labels=SEED3_CLASSES, logits=SEED3_LOGITS)
    assert dense.shape == (5,)
    assert dense.dtype == np.float64
    np.testing.assert_array_equal(dense, sparse)
    np.testing.assert_allclose(dense, SEED3_TF, rtol=1e-11)


def test_seed3_sigmoid_formula_of_tensorflow() -> None:
    x = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, 8.0])
    z = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3])
    tf_formula = np.maximum(x, 0) - x * z + np.log(1 + np.exp(-np.abs(x)))
    out = ce.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    assert out.shape == x.shape
    np.testing.assert_allclose(out, tf_formula, rtol=1e-14)
    # weighted: the positive term scaled by pos_weight.
    pw = 3.0
    weighted = ce.weighted_cross_entropy_with_logits(labels=z, logits=x, pos_weight=pw)
    by_hand = pw * z * np.log1p(np.exp(-x)) + (1 - z) * np.log1p(np.exp(x))
    np.testing.assert_allclose(weighted, by_hand, rtol=1e-14)


def test_seed3_sparse_labels_int32_and_int64() -> None:
    for dt in (np.int32, np.int64):
        out = ce.sparse_softmax_cross_entropy_with_logits(SEED3_CLASSES.astype(dt), SEED3_LOGITS)
        np.testing.assert_allclose(out, SEED3_TF, rtol=1e-11)


# ---------------------------------------------------------------------------------- seed 4


def test_seed4_softmax_does_not_overflow() -> None:
    x = np.array([1010.0, 1000.0, 990.0])
    with np.errstate(all="ignore"):
        naive = np.exp(x) / np.sum(np.exp(x))
    assert np.isnan(naive).all()
    shifted = np.exp(x - x.max()) / np.sum(np.exp(x - x.max()))
    np.testing.assert_allclose(ce.softmax(x), shifted, rtol=1e-15)


def test_seed4_no_delta_inside_the_log() -> None:
    # The tutorial's -sum(t * log(y + 1e-7)) biases every value; the library has no epsilon.
    t = np.array([0.0, 1.0, 0.0])
    y = np.array([0.0, 1.0, 0.0])
    assert -np.sum(t * np.log(y + 1e-7)) == pytest.approx(-np.log1p(1e-7))
    assert ce.categorical_crossentropy(t, y) == 0.0
    y2 = np.array([0.1, 0.6, 0.3])
    assert ce.categorical_crossentropy(t, y2) == -np.log(0.6)


def test_seed4_sigmoid_has_the_right_sign() -> None:
    # The article's 1 / (1 + exp(x)) is sigmoid(-x).
    assert ce.sigmoid(2.0) > 0.5
    assert ce.sigmoid(2.0) == pytest.approx(1 / (1 + np.exp(-2.0)), rel=1e-15)


def test_seed4_mean_squared_error_and_the_half_sum() -> None:
    y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    half_sum = 0.5 * np.sum((y - t) ** 2)
    assert half_sum == pytest.approx(0.0975, rel=1e-12)
    assert 0.5 * y.size * ce.mean_squared_error(t, y) == pytest.approx(half_sum, rel=1e-15)


def test_seed4_binary_and_categorical_formulas() -> None:
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.99, size=(6, 5))
    y = (rng.uniform(size=(6, 5)) < 0.5).astype(float)
    by_hand = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)
    np.testing.assert_allclose(ce.binary_crossentropy(y, p), by_hand, rtol=1e-13)
    logits = rng.normal(size=(6, 5))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    onehot = np.eye(5)[rng.integers(0, 5, size=6)]
    by_hand = -np.sum(onehot * np.log(probs), axis=-1)
    np.testing.assert_allclose(ce.categorical_crossentropy(onehot, probs), by_hand, rtol=1e-13)
    np.testing.assert_allclose(
        ce.categorical_crossentropy(onehot, logits, from_logits=True), by_hand, rtol=1e-13
    )
