"""The issue's edge rules, spelled out: exactly 0 where the loss is 0, +inf at true poles, NaN only
for NaN input or where no limit exists. (The hostile suite checks them too, through the metric.)
"""

from __future__ import annotations

import numpy as np
import pytest

import crossentropy as ce

DTYPES = ["float16", "float32", "float64"]
inf = np.inf


def _vg(fn: object, *args: object, **kw: object) -> tuple[np.ndarray, np.ndarray]:
    v, g = ce.value_and_grad(fn)(*args, **kw)  # type: ignore[arg-type]
    return np.asarray(v), np.asarray(g)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exactly_zero_where_the_loss_is_zero(dtype: str) -> None:
    d = np.dtype(dtype)
    a = lambda *v: np.array(v, d)  # noqa: E731
    zero_cases = [
        (ce.binary_crossentropy, a(1.0, 0.0)[:, None], a(1.0, 0.0)[:, None], {}),
        (ce.sigmoid_cross_entropy_with_logits, a(1.0, 0.0), a(inf, -inf), {}),
        (ce.weighted_cross_entropy_with_logits, a(1.0, 0.0), a(inf, -inf), {"pos_weight": 3.0}),
        (ce.binary_focal_crossentropy, a(1.0, 0.0)[:, None], a(1.0, 0.0)[:, None], {}),
        (
            ce.binary_focal_crossentropy,
            a(1.0, 0.0)[:, None],
            a(inf, -inf)[:, None],
            {"from_logits": True, "gamma": 0.5},
        ),
        (
            ce.sparse_categorical_crossentropy,
            np.array([0, 2]),
            a(1, 0, 0, 0, 0, 1).reshape(2, 3),
            {},
        ),
        (
            ce.categorical_crossentropy,
            a(1, 0, 0, 0, 0, 1).reshape(2, 3),
            a(1, 0, 0, 0, 0, 1).reshape(2, 3),
            {},
        ),
        (
            ce.sparse_softmax_cross_entropy_with_logits,
            np.array([0, 1]),
            a(inf, 0, 3, -inf, 5, -inf).reshape(2, 3),
            {},
        ),
        (
            ce.softmax_cross_entropy_with_logits,
            a(1, 0, 0, 0, 1, 0).reshape(2, 3),
            a(inf, 0, 3, -inf, 5, -inf).reshape(2, 3),
            {},
        ),
        (
            ce.categorical_focal_crossentropy,
            a(1, 0, 0, 0, 1, 0).reshape(2, 3),
            a(inf, 0, 3, -inf, 5, -inf).reshape(2, 3),
            {"from_logits": True},
        ),
    ]
    for fn, y, x, kw in zero_cases:
        v, g = _vg(fn, y, x, **kw)
        assert np.all(v == 0), (fn.__name__, v)
        assert v.dtype == d
        assert not np.any(np.isnan(g)), (fn.__name__, g)


def test_zero_when_the_exact_loss_underflows() -> None:
    """A positive loss below the smallest subnormal rounds to 0; one above it does not."""
    assert ce.sigmoid_cross_entropy_with_logits([1.0], [800.0])[0] == 0.0
    assert ce.sigmoid_cross_entropy_with_logits([1.0], [700.0])[0] == np.exp(-700.0)
    assert ce.sparse_softmax_cross_entropy_with_logits([0], [[1e30, 0.0]])[0] == 0.0
    assert ce.sparse_softmax_cross_entropy_with_logits([0], [[36.7, 0.0]])[0] > 0.0


@pytest.mark.parametrize("dtype", DTYPES)
def test_poles_are_infinite(dtype: str) -> None:
    d = np.dtype(dtype)
    a = lambda *v: np.array(v, d)  # noqa: E731
    v, g = _vg(ce.binary_crossentropy, a(1.0, 0.0, 0.3)[:, None], a(0.0, 1.0, 0.0)[:, None])
    assert np.all(v == inf)
    assert g[0, 0] == -inf
    assert g[1, 0] == inf
    assert g[2, 0] == -inf
    v, g = _vg(ce.sigmoid_cross_entropy_with_logits, a(1.0, 0.0), a(-inf, inf))
    assert np.all(v == inf)
    assert g.tolist() == [-1.0, 1.0]  # the limits of sigma(x) - y
    v, g = _vg(ce.sparse_softmax_cross_entropy_with_logits, np.array([1]), a(0, -inf, 3)[None])
    assert v[0] == inf
    assert np.isfinite(g).all()
    assert g[0, 1] == -1.0
    v, g = _vg(ce.sparse_categorical_crossentropy, np.array([1]), a(1, 0, 0)[None])
    assert v[0] == inf
    assert g[0, 1] == -inf
    v = ce.binary_focal_crossentropy(a(1.0)[:, None], a(0.0)[:, None], gamma=0.5)
    assert v[0] == inf


def test_nan_only_from_nan_input_or_no_limit() -> None:
    x = np.array([[1.0, np.nan, 0.0], [1.0, 2.0, 3.0]])
    v = ce.sparse_softmax_cross_entropy_with_logits([0, 0], x, validate=False)
    assert np.isnan(v[0])
    assert np.isfinite(v[1])
    v = ce.sigmoid_cross_entropy_with_logits([1.0, 1.0], [np.nan, 2.0], validate=False)
    assert np.isnan(v[0])
    assert np.isfinite(v[1])
    # No limit: a softmax over an all -inf row; the logsumexp of it is -inf (a limit exists).
    assert np.isnan(ce.log_softmax([-inf, -inf])).all()
    assert ce.logsumexp([-inf, -inf]) == -inf
    # Several +inf logits: no limit either; the documented convention splits the mass evenly.
    assert ce.softmax([inf, inf, 0.0]).tolist() == [0.5, 0.5, 0.0]
    assert ce.sparse_softmax_cross_entropy_with_logits([0], [[inf, inf, 0.0]])[0] == np.log(2.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_confidently_correct_keeps_its_digits(dtype: str) -> None:
    """The frameworks' failure mode: 1 - p rounds to 0 and the loss to exactly 0."""
    d = np.dtype(dtype)
    big = {"float16": 9.0, "float32": 20.0, "float64": 40.0}[dtype]  # 1 - p < eps / 2
    x = np.array([[big, 0.0, 0.0]], d)
    v, g = _vg(ce.sparse_softmax_cross_entropy_with_logits, np.array([0]), x)
    assert 0 < v[0] < np.finfo(d).eps
    assert g[0, 0] < 0
    assert g[0, 0] == -(g[0, 1] + g[0, 2])
    v, g = _vg(ce.sigmoid_cross_entropy_with_logits, np.array([1.0], d), np.array([x[0, 0]], d))
    assert 0 < v[0] < np.finfo(d).eps
    assert g[0] < 0


@pytest.mark.parametrize("w", [7.0, 100.0, 1e4])
@pytest.mark.parametrize("x", [700.5, 720.0, 745.0])
def test_weighted_subnormal_terms(w: float, x: float) -> None:
    """float64 terms below 2.2e-308 before weighting (logit margins beyond 708).

    pos_weight is applied to e^-x before it is rounded to the subnormal grid: within the bound.
    class_weight and sample_weight multiply a per-sample loss that was already rounded there:
    the documented regime (docs/accuracy.md), absolute error up to w/2 units of 2**-1074.
    """
    from mpmath import mp, mpf

    from . import reference as R
    from .ulp import ulp_error

    with mp.workprec(300):
        tail = R.softplus(-mpf(x))
        sig = R.sigmoid(-mpf(x))
        ref_v, ref_g = R.encode(mpf(w) * tail), R.encode(-mpf(w) * sig)
        ref_cw = R.encode(mpf(w) * mp.log1p(mp.exp(-mpf(x))))
    v, g = _vg(ce.weighted_cross_entropy_with_logits, [1.0], [x], w)
    assert ulp_error(v[0], *ref_v, "float64") <= 2
    assert ulp_error(g[0], *ref_g, "float64") <= 2
    documented = w / 2 + 1
    v = ce.sparse_softmax_cross_entropy_with_logits([0], [[x, 0.0]], class_weight=[w, 1.0])
    assert ulp_error(v[0], *ref_cw, "float64") <= documented
    v = ce.sigmoid_cross_entropy_with_logits([1.0], [x], sample_weight=[w])
    assert ulp_error(v[0], *ref_v, "float64") <= documented
