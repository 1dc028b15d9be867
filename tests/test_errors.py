"""The text of every error: function, argument, expectation and what was seen."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import crossentropy as ce

P = np.array([[0.2, 0.8], [0.6, 0.4]])
X = np.array([[2.0, -1.0], [0.5, 0.5]])
ONEHOT = np.array([[0.0, 1.0], [1.0, 0.0]])
K = np.array([1, 0])

CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "shape mismatch (N,) vs (N, 1) is not broadcast",
        lambda: ce.binary_crossentropy(np.zeros(4), np.full((4, 1), 0.5)),
        ValueError,
        "binary_crossentropy: y_true and y_pred must have the same shape; "
        "got y_true.shape=(4,), y_pred.shape=(4, 1). Reshape y_true to (4, 1) "
        "(e.g. y_true[..., None]) or squeeze the last axis of y_pred; broadcasting them would "
        "silently give a (4, 4) result.",
    ),
    (
        "shape mismatch (N, 1) vs (N,)",
        lambda: ce.sigmoid_cross_entropy_with_logits(np.zeros((4, 1)), np.zeros(4)),
        ValueError,
        "sigmoid_cross_entropy_with_logits: labels and logits must have the same shape; got "
        "labels.shape=(4, 1), logits.shape=(4,). Reshape logits to (4, 1) or squeeze the last "
        "axis of labels.",
    ),
    (
        "categorical shapes",
        lambda: ce.categorical_crossentropy(np.zeros((2, 3)), P),
        ValueError,
        "categorical_crossentropy: y_true and y_pred must have the same shape; "
        "got y_true.shape=(2, 3), y_pred.shape=(2, 2).",
    ),
    (
        "sparse labels shape",
        lambda: ce.sparse_softmax_cross_entropy_with_logits(np.array([[1], [0]]), X),
        ValueError,
        "sparse_softmax_cross_entropy_with_logits: labels must have the predictions' shape "
        "without the class axis, (2,); got labels.shape=(2, 1). Squeeze the last axis of labels.",
    ),
    (
        "sparse labels look one-hot",
        lambda: ce.sparse_categorical_crossentropy(ONEHOT.astype(int), P),
        ValueError,
        "sparse_categorical_crossentropy: y_true must have the predictions' shape without the "
        "class axis, (2,); got y_true.shape=(2, 2). y_true looks one-hot: use the categorical "
        "loss, or take argmax over the last axis.",
    ),
    (
        "label out of range, negative, with remedy",
        lambda: ce.sparse_softmax_cross_entropy_with_logits(
            np.array([0, 1, 2, 1]), np.zeros((4, 2))
        ),
        ValueError,
        "sparse_softmax_cross_entropy_with_logits: labels must be in [0, 2); got 2 at index 2.",
    ),
    (
        "label -1 suggests ignore_index",
        lambda: ce.sparse_softmax_cross_entropy_with_logits(
            np.array([0, 1, -1, 3]), np.zeros((4, 10))
        ),
        ValueError,
        "sparse_softmax_cross_entropy_with_logits: labels must be in [0, 10); got -1 at index 2 "
        "(pass ignore_index=-1 to skip those samples).",
    ),
    (
        "label out of range other than ignore_index",
        lambda: ce.sparse_categorical_crossentropy(np.array([-100, 5]), P, ignore_index=-100),
        ValueError,
        "sparse_categorical_crossentropy: y_true must be in [0, 2); got 5 at index 1.",
    ),
    (
        "float labels for a sparse loss",
        lambda: ce.sparse_categorical_crossentropy(np.array([1.0, 0.0]), P),
        TypeError,
        "sparse_categorical_crossentropy: y_true must have an integer dtype; got dtype float64. "
        "Pass class indices (e.g. y_true.astype(np.int64)), or use the categorical loss for "
        "one-hot or soft labels.",
    ),
    (
        "integer predictions",
        lambda: ce.categorical_crossentropy(ONEHOT, np.array([[0, 1], [1, 0]])),
        TypeError,
        "categorical_crossentropy: y_pred must have a real floating dtype; got dtype int64. "
        "Cast it first, e.g. y_pred.astype(np.float32).",
    ),
    (
        "string predictions",
        lambda: ce.binary_crossentropy([1.0], ["a"]),
        TypeError,
        "binary_crossentropy: y_pred must have a real floating dtype; got dtype <U1.",
    ),
    (
        "complex labels",
        lambda: ce.binary_crossentropy(np.array([1j]), np.array([0.5])),
        TypeError,
        "binary_crossentropy: y_true must have a real floating, integer or boolean dtype; "
        "got dtype complex128.",
    ),
    (
        "probabilities outside [0, 1] suggest from_logits",
        lambda: ce.binary_crossentropy(ONEHOT, X),
        ValueError,
        "binary_crossentropy: y_pred must be in [0, 1]; got 2.0 at index (0, 0). "
        "If these are logits, pass from_logits=True.",
    ),
    (
        "categorical probabilities outside [0, 1]",
        lambda: ce.categorical_crossentropy(ONEHOT, np.array([[1.5, -0.5], [0.5, 0.5]])),
        ValueError,
        "categorical_crossentropy: y_pred must be in [0, 1]; got 1.5 at index (0, 0). "
        "If these are logits, pass from_logits=True.",
    ),
    (
        "rows that do not sum to one",
        lambda: ce.categorical_crossentropy(ONEHOT, np.array([[0.2, 0.8], [0.5, 0.4]])),
        ValueError,
        "categorical_crossentropy: y_pred must sum to 1 along axis 1 (tolerance 1.5e-08 for "
        "float64); got 0.9 for the row at index 1. If these are logits, pass from_logits=True; "
        "otherwise normalise the rows (y_pred / y_pred.sum(axis=1, keepdims=True)). "
        "No silent renormalisation is done.",
    ),
    (
        "float32 tolerance",
        lambda: ce.sparse_categorical_crossentropy(K, np.float32([[0.2, 0.8], [0.5, 0.499]])),
        ValueError,
        "sparse_categorical_crossentropy: y_pred must sum to 1 along axis 1 (tolerance 0.00035 "
        "for float32); got 0.9990000128746033 for the row at index 1.",
    ),
    (
        "labels that are not a distribution",
        lambda: ce.categorical_crossentropy(np.array([[1.0, 1.0], [1.0, 0.0]]), P),
        ValueError,
        "categorical_crossentropy: y_true must sum to 1 along axis 1",
    ),
    (
        "binary labels outside [0, 1]",
        lambda: ce.binary_crossentropy(np.array([[2.0, 0.0]]), np.array([[0.5, 0.5]])),
        ValueError,
        "binary_crossentropy: y_true must be in [0, 1]; got 2.0 at index (0, 0).",
    ),
    (
        "NaN in predictions",
        lambda: ce.softmax_cross_entropy_with_logits(ONEHOT, np.array([[0.0, 1.0], [np.nan, 0]])),
        ValueError,
        "softmax_cross_entropy_with_logits: logits must not contain NaN; got NaN at index (1, 0).",
    ),
    (
        "NaN in labels",
        lambda: ce.binary_crossentropy(np.array([np.nan, 1.0]), np.array([0.5, 0.5])),
        ValueError,
        "binary_crossentropy: y_true must not contain NaN; got NaN at index 0.",
    ),
    (
        "a row of all -inf logits",
        lambda: ce.sparse_softmax_cross_entropy_with_logits(
            K, np.array([[0.0, 1.0], [-np.inf, -np.inf]])
        ),
        ValueError,
        "sparse_softmax_cross_entropy_with_logits: logits must have a finite or +inf entry in "
        "every row along axis 1; got a row of all -inf at index 1 (its softmax is undefined).",
    ),
    (
        "label_smoothing outside [0, 1]",
        lambda: ce.categorical_crossentropy(ONEHOT, P, label_smoothing=1.5),
        ValueError,
        "categorical_crossentropy: label_smoothing must be in [0, 1]; got 1.5.",
    ),
    (
        "label_smoothing NaN",
        lambda: ce.binary_crossentropy(ONEHOT, P, label_smoothing=float("nan")),
        ValueError,
        "binary_crossentropy: label_smoothing must be in [0, 1]; got nan.",
    ),
    (
        "label_smoothing of the wrong kind",
        lambda: ce.binary_crossentropy(ONEHOT, P, label_smoothing="0.1"),
        TypeError,
        "binary_crossentropy: label_smoothing must be a real number; got str.",
    ),
    (
        "negative sample weight",
        lambda: ce.binary_crossentropy(ONEHOT, P, sample_weight=[1.0, -2.0]),
        ValueError,
        "binary_crossentropy: sample_weight must be >= 0; got -2.0 at index 1.",
    ),
    (
        "sample weight of the wrong shape",
        lambda: ce.binary_crossentropy(ONEHOT, P, sample_weight=[1.0, 2.0, 3.0]),
        ValueError,
        "binary_crossentropy: sample_weight must have shape (2,) or (); "
        "got sample_weight.shape=(3,).",
    ),
    (
        "infinite sample weight",
        lambda: ce.binary_crossentropy(ONEHOT, P, sample_weight=[1.0, np.inf]),
        ValueError,
        "binary_crossentropy: sample_weight must be finite; got inf at index 1.",
    ),
    (
        "negative class weight",
        lambda: ce.sparse_categorical_crossentropy(K, P, class_weight=[1.0, -1.0]),
        ValueError,
        "sparse_categorical_crossentropy: class_weight must be >= 0; got -1.0 at index 1.",
    ),
    (
        "class weight of the wrong length",
        lambda: ce.categorical_crossentropy(ONEHOT, P, class_weight=[1.0, 1.0, 1.0]),
        ValueError,
        "categorical_crossentropy: class_weight must have shape (2,); got class_weight.shape=(3,).",
    ),
    (
        "negative pos_weight",
        lambda: ce.weighted_cross_entropy_with_logits(ONEHOT, X, -1.0),
        ValueError,
        "weighted_cross_entropy_with_logits: pos_weight must be >= 0; got -1.0.",
    ),
    (
        "pos_weight of the wrong length",
        lambda: ce.binary_crossentropy(ONEHOT, P, pos_weight=[1.0, 2.0, 3.0]),
        ValueError,
        "binary_crossentropy: pos_weight must have shape () or (2,); got pos_weight.shape=(3,).",
    ),
    (
        "unknown reduction",
        lambda: ce.categorical_crossentropy(ONEHOT, P, reduction="avg"),
        ValueError,
        "categorical_crossentropy: reduction must be one of 'none', 'mean', 'sum'; got 'avg'.",
    ),
    (
        "axis out of range",
        lambda: ce.categorical_crossentropy(ONEHOT, P, axis=2),
        ValueError,
        "categorical_crossentropy: axis must be in [-2, 2) for 2-d predictions; got 2.",
    ),
    (
        "axis of the wrong kind",
        lambda: ce.softmax(P, axis=1.0),
        TypeError,
        "softmax: axis must be an int; got float 1.0.",
    ),
    (
        "ignore_index of the wrong kind",
        lambda: ce.sparse_categorical_crossentropy(K, P, ignore_index=1.5),
        TypeError,
        "sparse_categorical_crossentropy: ignore_index must be an int or None; got float 1.5.",
    ),
    (
        "negative gamma",
        lambda: ce.binary_focal_crossentropy(ONEHOT, P, gamma=-1.0),
        ValueError,
        "binary_focal_crossentropy: gamma must be a finite number >= 0; got -1.0.",
    ),
    (
        "alpha above 1",
        lambda: ce.binary_focal_crossentropy(ONEHOT, P, alpha=1.5),
        ValueError,
        "binary_focal_crossentropy: alpha must be in [0, 1]; got 1.5.",
    ),
    (
        "no classes",
        lambda: ce.categorical_crossentropy(np.zeros((2, 0)), np.zeros((2, 0))),
        ValueError,
        "categorical_crossentropy: y_pred must have at least one class along axis 1; got 0.",
    ),
    (
        "0-d predictions with an axis",
        lambda: ce.binary_crossentropy(1.0, 0.5),
        ValueError,
        "binary_crossentropy: the predictions must have at least 1 dimension for axis=-1; "
        "got a 0-d array.",
    ),
    (
        "value_and_grad of a foreign function",
        lambda: ce.value_and_grad(np.sum),
        TypeError,
        "value_and_grad: loss_fn must be one of crossentropy's losses (",
    ),
]


@pytest.mark.parametrize(("what", "call", "exc", "message"), CASES, ids=[c[0] for c in CASES])
def test_error_message(what: str, call: Callable[[], Any], exc: type, message: str) -> None:
    with pytest.raises(exc, match="^" + re.escape(message)):
        call()


def test_validate_false_skips_value_checks_but_not_shapes() -> None:
    # Values are the caller's responsibility...
    out = ce.binary_crossentropy(ONEHOT, X, from_logits=False, validate=False)
    assert out.shape == (2,)
    # ...shapes, dtypes and label ranges of sparse losses are always checked (cheap, and an
    # out-of-range label would otherwise index out of bounds).
    with pytest.raises(ValueError, match="same shape"):
        ce.binary_crossentropy(np.zeros(4), np.full((4, 1), 0.5), validate=False)
    with pytest.raises(ValueError, match=r"must be in \[0, 2\)"):
        ce.sparse_categorical_crossentropy(np.array([0, 7]), P, validate=False)
