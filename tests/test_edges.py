"""Edges: infinities, exact 0 and 1, empty and ignored batches, dtypes, no mutation, shapes."""

from __future__ import annotations

import numpy as np
import pytest

import crossentropy as ce

INF = np.inf


def test_infinite_logits_give_their_limits() -> None:
    z = np.array([1.0, 0.0, 1.0, 0.0, 0.5])
    x = np.array([INF, -INF, -INF, INF, INF])
    out = ce.sigmoid_cross_entropy_with_logits(z, x)
    np.testing.assert_array_equal(out, [0.0, 0.0, INF, INF, INF])
    g = ce.grad(ce.sigmoid_cross_entropy_with_logits)(z, x)
    np.testing.assert_array_equal(g, [0.0, 0.0, -1.0, 1.0, 0.5])


def test_infinite_softmax_logits() -> None:
    x = np.array([[INF, 0.0, -INF], [INF, 0.0, -INF], [0.0, 1.0, -INF], [INF, INF, 0.0]])
    k = np.array([0, 1, 1, 0])
    out = ce.sparse_softmax_cross_entropy_with_logits(k, x)
    # +inf on the true class: 0; elsewhere: +inf; -inf on a class with no target mass: nothing;
    # two +inf logits share the mass evenly.
    np.testing.assert_array_equal(
        out[:3], [0.0, INF, ce.sparse_softmax_cross_entropy_with_logits([1], [[0.0, 1.0]])[0]]
    )
    assert out[3] == np.log(2.0)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(k, x)
    assert np.isfinite(vg.grad).all()
    np.testing.assert_array_equal(vg.grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(vg.grad[1], [1.0, -1.0, 0.0])


def test_probabilities_of_exactly_zero_and_one() -> None:
    assert ce.binary_crossentropy([[1.0]], [[1.0]])[0] == 0.0
    assert ce.binary_crossentropy([[0.0]], [[0.0]])[0] == 0.0
    assert ce.binary_crossentropy([[1.0]], [[0.0]])[0] == INF
    assert ce.categorical_crossentropy([[0.0, 1.0]], [[0.0, 1.0]])[0] == 0.0
    assert ce.categorical_crossentropy([[1.0, 0.0]], [[0.0, 1.0]])[0] == INF
    g = ce.grad(ce.binary_crossentropy)([[1.0, 0.0]], [[1.0, 0.0]])
    np.testing.assert_array_equal(g, [[-0.5, 0.5]])


def test_confident_correct_logits_keep_relative_accuracy() -> None:
    for dt in (np.float32, np.float64):
        out = ce.categorical_crossentropy(
            [1.0, 0, 0], np.array([30.0, 0, 0], dtype=dt), from_logits=True
        )
        assert out.dtype == dt
        np.testing.assert_allclose(out, 1.8715245937678598e-13, rtol=np.finfo(dt).eps)


def test_reduced_value_is_a_0d_scalar_of_the_predictions_dtype() -> None:
    for dt in (np.float16, np.float32, np.float64):
        for shape in [(4,), (2, 3), (2, 3, 5)]:
            p = np.full(shape, 0.5, dtype=dt)
            for reduction in ("mean", "sum"):
                v = ce.binary_crossentropy(np.ones(shape), p, reduction=reduction)
                assert isinstance(v, np.generic)
                assert v.dtype == dt
                assert v.shape == ()
    # A 1-d input averaged over its only axis gives a 0-d per-sample value, also a scalar.
    v = ce.binary_crossentropy([1.0, 0.0], [0.5, 0.5])
    assert isinstance(v, np.float64)


def test_half_precision_computes_in_higher_precision() -> None:
    x16 = np.array([[8.0, 0.0, 0.0]], dtype=np.float16)
    out = ce.sparse_softmax_cross_entropy_with_logits([0], x16)
    assert out.dtype == np.float16
    exact = np.log1p(2 * np.exp(-8.0))
    assert out[0] == np.float16(exact)
    ml_dtypes = pytest.importorskip("ml_dtypes")
    xb = x16.astype(ml_dtypes.bfloat16)
    outb = ce.sparse_softmax_cross_entropy_with_logits([0], xb)
    assert outb.dtype == ml_dtypes.bfloat16
    assert outb[0] == np.float64(exact).astype(ml_dtypes.bfloat16)
    g = ce.grad(ce.sparse_softmax_cross_entropy_with_logits)([0], xb)
    assert g.dtype == ml_dtypes.bfloat16


def test_empty_batch_and_all_ignored() -> None:
    x = np.zeros((0, 3))
    assert ce.sparse_softmax_cross_entropy_with_logits(np.zeros(0, int), x).shape == (0,)
    assert ce.sparse_softmax_cross_entropy_with_logits(np.zeros(0, int), x, reduction="mean") == 0
    labels = np.array([-1, -1])
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    mean = ce.sparse_softmax_cross_entropy_with_logits(labels, x, ignore_index=-1, reduction="mean")
    assert mean == 0.0
    assert isinstance(mean, np.float64)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(
        labels, x, ignore_index=-1, reduction="mean"
    )
    np.testing.assert_array_equal(vg.grad, np.zeros_like(x))
    per = ce.sparse_softmax_cross_entropy_with_logits(labels, x, ignore_index=-1)
    np.testing.assert_array_equal(per, [0.0, 0.0])


def test_ignored_samples_leave_the_mean_denominator() -> None:
    x = np.array([[2.0, 0.0], [0.0, 2.0], [5.0, -5.0]])
    labels = np.array([0, 1, -100])
    mean = ce.sparse_softmax_cross_entropy_with_logits(
        labels, x, ignore_index=-100, reduction="mean"
    )
    kept = ce.sparse_softmax_cross_entropy_with_logits(labels[:2], x[:2], reduction="mean")
    assert mean == kept


def test_zero_weight_sample_with_infinite_loss_contributes_nothing() -> None:
    v = ce.binary_crossentropy(
        [[1.0], [1.0]], [[0.0], [0.5]], sample_weight=[0.0, 1.0], reduction="sum"
    )
    assert v == np.log(2.0)
    g = ce.grad(ce.binary_crossentropy)([[1.0], [1.0]], [[0.0], [0.5]], sample_weight=[0.0, 1.0])
    np.testing.assert_array_equal(g, [[0.0], [-2.0]])


def test_class_weight_multiplies_by_the_true_class_weight() -> None:
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    k = np.array([2, 0])
    w = np.array([0.5, 1.0, 4.0])
    plain = ce.sparse_softmax_cross_entropy_with_logits(k, x)
    np.testing.assert_array_equal(
        ce.sparse_softmax_cross_entropy_with_logits(k, x, class_weight=w), plain * w[k]
    )
    soft = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    expected = -(w * soft * ce.log_softmax(x)).sum(-1)
    np.testing.assert_allclose(
        ce.softmax_cross_entropy_with_logits(soft, x, class_weight=w), expected, rtol=1e-15
    )


def test_label_smoothing_conventions() -> None:
    x = np.array([[2.0, 0.5, -1.0, 0.0]])
    ls = 0.2
    smoothed = np.eye(4)[[1]] * (1 - ls) + ls / 4
    np.testing.assert_allclose(
        ce.sparse_softmax_cross_entropy_with_logits([1], x, label_smoothing=ls),
        ce.softmax_cross_entropy_with_logits(smoothed, x),
        rtol=1e-15,
    )
    y = np.array([[1.0, 0.0, 1.0, 0.0]])
    np.testing.assert_allclose(
        ce.binary_crossentropy(y, x, from_logits=True, label_smoothing=ls),
        ce.binary_crossentropy(y * (1 - ls) + ls / 2, x, from_logits=True),
        rtol=1e-15,
    )


def test_inputs_are_not_modified() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    x[0, 0] = INF
    k = np.array([0, 1, -1, 4])
    onehot = np.eye(5)[[0, 1, 2, 4]]
    w = np.ones(4)
    cw = np.linspace(1, 2, 5)
    copies = [a.copy() for a in (x, k, onehot, w, cw)]
    ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(
        k, x, ignore_index=-1, sample_weight=w, class_weight=cw, reduction="mean"
    )
    ce.value_and_grad(ce.categorical_focal_crossentropy)(onehot, x, from_logits=True)
    ce.value_and_grad(ce.binary_crossentropy)(onehot, x, from_logits=True, label_smoothing=0.1)
    ce.softmax(x)
    ce.log_softmax(x)
    for a, b in zip((x, k, onehot, w, cw), copies, strict=False):
        np.testing.assert_array_equal(a, b)


def test_per_sample_shapes_with_axis() -> None:
    x = np.zeros((2, 5, 3))
    assert ce.softmax_cross_entropy_with_logits(
        np.eye(5)[[0, 1, 2]].T[None].repeat(2, 0), x, axis=1
    ).shape == (2, 3)
    assert ce.sparse_softmax_cross_entropy_with_logits(np.zeros((2, 3), int), x, axis=1).shape == (
        2,
        3,
    )
    assert ce.binary_crossentropy(np.zeros((2, 5, 3)), x, from_logits=True, axis=0).shape == (5, 3)
    assert ce.sigmoid_cross_entropy_with_logits(np.zeros((2, 5, 3)), x).shape == (2, 5, 3)


def test_logsumexp_and_softmax_edges() -> None:
    assert ce.logsumexp([-INF, -INF]) == -INF
    assert ce.logsumexp([INF, 0.0]) == INF
    assert ce.logsumexp(np.zeros((2, 0))).tolist() == [-INF, -INF]
    assert np.isnan(ce.softmax([-INF, -INF])).all()
    np.testing.assert_array_equal(ce.softmax([INF, INF, 0.0]), [0.5, 0.5, 0.0])
    assert ce.logsumexp([-745.0, 0.0]) == 5e-324
    assert ce.logsumexp([[1.0, 2.0]], keepdims=True).shape == (1, 1)
    assert ce.softmax(np.array([1, 2])).dtype == np.float64  # integers are promoted
