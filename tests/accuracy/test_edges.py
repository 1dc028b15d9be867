"""The issue's edge rules, spelled out: exactly 0 where the loss is 0, +inf at true poles, NaN only
for NaN input or where no limit exists. (The hostile suite checks them too, through the metric.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import crossentropy as ce
from tests._support.paths import PATHS, on_path

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


# Float64 terms below 2.2e-308 before weighting: a logit margin beyond ~708 makes a per-sample
# loss, or a gradient entry, (nearly) subnormal. Every weight must be applied before that value is
# rounded to the subnormal grid (the normal float64 bound of 4 ulp, against mpmath): pos_weight,
# class_weight, sample_weight, on the reference path and on the fused kernels.

WEIGHTS = [0.5, 7.0, 100.0, 1e4]
MARGINS = [700.5, 720.0, 745.0, 1000.0]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> Iterator[str]:
    """The reference path, or the fused kernels forced for every size."""
    with on_path(request.param, min_size=0):
        yield request.param


def _reduce(per: list, grads: list, sw: list, reduction: str) -> tuple[list, list]:
    """Exact reduction of per-sample values (mpf) and their gradients (lists of mpf rows)."""
    from mpmath import mpf

    if reduction == "none":
        return [w * v for w, v in zip(sw, per, strict=True)], [
            [w * g for g in row] for w, row in zip(sw, grads, strict=True)
        ]
    tot = sum(mpf(w) * v for w, v in zip(sw, per, strict=True))
    div = mpf(sum(sw)) if reduction == "mean" else mpf(1)
    return [tot / div], [[w * g / div for g in row] for w, row in zip(sw, grads, strict=True)]


def _check(value: Any, grad: Any, ref_v: list, ref_g: list, what: str) -> None:
    from . import reference as R
    from .ulp import ulp_error

    v = np.asarray(value, np.float64).reshape(-1)
    g = np.asarray(grad, np.float64).reshape(-1)
    flat = [x for row in ref_g for x in row]
    ev = [float(ulp_error(v[i], *R.encode(r), "float64")) for i, r in enumerate(ref_v)]
    eg = [float(ulp_error(g[i], *R.encode(r), "float64")) for i, r in enumerate(flat)]
    assert max(ev + eg) <= 4, (what, ev, eg, v.tolist(), g.tolist())


def _softmax_ref(rows: list, labels: list, cw: list) -> tuple[list, list]:
    from mpmath import mp, mpf

    per, grads = [], []
    for x, k in zip(rows, labels, strict=True):
        xs = [mpf(v) for v in x]
        j_max = xs.index(max(xs))
        m = xs[j_max]
        rest = mp.fsum(mp.exp(v - m) for j, v in enumerate(xs) if j != j_max)
        p = [mp.exp(v - m) / (1 + rest) for v in xs]
        a = mpf(cw[k])
        per.append(a * ((m - xs[k]) + mp.log1p(rest)))
        # A p_j - a_j, the true class's entry as -a sum_{j != k} p_j: no cancellation
        grads.append(
            [-a * mp.fsum(p[:j] + p[j + 1 :]) if j == k else a * p[j] for j in range(len(x))]
        )
    return per, grads


@pytest.mark.parametrize("weighting", ["class_weight", "sample_weight"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("fn", ["sparse", "dense", "categorical", "sparse_categorical"])
def test_weighted_subnormal_softmax(fn: str, reduction: str, weighting: str, path: str) -> None:
    """Softmax cross-entropies whose losses, or gradient entries, are (nearly) subnormal.

    Batch "tiny": every loss is tiny (margins beyond 700), so the reductions are too; batch
    "entries": a normal loss whose row holds a tiny gradient entry (``e^-x / (1 + S)``).
    """
    from mpmath import mp

    funcs = {
        "sparse": ce.sparse_softmax_cross_entropy_with_logits,
        "dense": ce.softmax_cross_entropy_with_logits,
        "categorical": ce.categorical_crossentropy,
        "sparse_categorical": ce.sparse_categorical_crossentropy,
    }
    f = funcs[fn]
    kw: dict[str, Any] = {"reduction": reduction}
    if fn in ("categorical", "sparse_categorical"):
        kw["from_logits"] = True
    for x in MARGINS:
        for w in WEIGHTS:
            batches = {
                "tiny": ([[x, 0.0, 0.0], [0.5, x + 1.0, -1.0]], [0, 1]),
                "entries": ([[0.0, 0.5, -x], [x, 0.0, 1.0]], [1, 0]),
            }
            for name, (rows, labels) in batches.items():
                cw = [w, w, 1.0] if weighting == "class_weight" else [1.0, 1.0, 1.0]
                sw = [w, w] if weighting == "sample_weight" else [1.0, 1.0]
                with mp.workprec(300):
                    per, grads = _softmax_ref(rows, labels, cw)
                    ref_v, ref_g = _reduce(per, grads, sw, reduction)
                xa = np.array(rows)
                y: Any = np.array(labels)
                if fn in ("dense", "categorical"):
                    y = np.eye(3)[labels]
                wkw = {weighting: np.array(cw if weighting == "class_weight" else sw)}
                v, g = _vg(f, y, xa, **kw, **wkw)
                if name == "entries" and reduction != "none":
                    ref_v = []  # the normal loss hides the tiny one: gradients only
                _check(v, g, ref_v, ref_g, (fn, name, x, w, path))


def _sigmoid_ref(ys: list, xs: list, pw: float) -> tuple[list, list]:
    from mpmath import mpf

    from . import reference as R

    per, grads = [], []
    for y, x in zip(ys, xs, strict=True):
        y, x = mpf(y), mpf(x)
        per.append(pw * y * R.softplus(-x) + (1 - y) * R.softplus(x))
        grads.append([(1 - y) * R.sigmoid(x) - pw * y * R.sigmoid(-x)])
    return per, grads


@pytest.mark.parametrize("weighting", ["pos_weight", "sample_weight", "both"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("fn", ["sigmoid", "weighted", "binary"])
def test_weighted_subnormal_sigmoid(fn: str, reduction: str, weighting: str, path: str) -> None:
    """Sigmoid cross-entropies on logits beyond +-700 with hard labels: e^-|x| terms only.

    ``binary`` is binary_crossentropy(from_logits=True): the mean over the last axis of such
    terms, then weighted.
    """
    from mpmath import mp, mpf

    if fn == "sigmoid" and weighting != "sample_weight":
        pytest.skip("pos_weight: weighted_cross_entropy_with_logits")
    if fn == "weighted" and weighting == "sample_weight":
        pytest.skip("sample weights alone: sigmoid_cross_entropy_with_logits")
    for x in MARGINS:
        for w in WEIGHTS:
            pw = w if weighting in ("pos_weight", "both") else 1.0
            swv = w if weighting in ("sample_weight", "both") else None
            ys = np.array([[1.0, 0.0], [0.0, 1.0]])
            xs = np.array([[x, -x - 0.5], [-x - 1.0, x + 2.0]])
            with mp.workprec(300):
                per, grads = _sigmoid_ref(ys.ravel().tolist(), xs.ravel().tolist(), pw)
                if fn == "binary":  # the mean of each row's two terms
                    per = [(per[0] + per[1]) / 2, (per[2] + per[3]) / 2]
                    grads = [[grads[0][0] / 2, grads[1][0] / 2], [grads[2][0] / 2, grads[3][0] / 2]]
                n = len(per)
                sw = [mpf(1)] * n if swv is None else [mpf(swv)] * n
                ref_v, ref_g = _reduce(per, grads, sw, reduction)
            kw: dict[str, Any] = {"reduction": reduction}
            if swv is not None:
                kw["sample_weight"] = np.full((2, 2) if fn != "binary" else (2,), swv)
            if fn == "sigmoid":
                v, g = _vg(ce.sigmoid_cross_entropy_with_logits, ys, xs, **kw)
            elif fn == "weighted":
                v, g = _vg(ce.weighted_cross_entropy_with_logits, ys, xs, pw, **kw)
            else:
                if pw != 1.0:
                    kw["pos_weight"] = pw
                v, g = _vg(ce.binary_crossentropy, ys, xs, from_logits=True, **kw)
            _check(v, g, ref_v, ref_g, (fn, x, w, path))


@pytest.mark.parametrize("w", [7.0, 100.0, 1e4])
@pytest.mark.parametrize("x", [700.5, 720.0, 745.0])
def test_weighted_subnormal_terms(w: float, x: float) -> None:
    """The issue's reproducers: float64 terms below 2.2e-308 before weighting (margins beyond
    708). Every weight is applied before the term is rounded to the subnormal grid.
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
    v = ce.sparse_softmax_cross_entropy_with_logits([0], [[x, 0.0]], class_weight=[w, 1.0])
    assert ulp_error(v[0], *ref_cw, "float64") <= 4
    v = ce.sigmoid_cross_entropy_with_logits([1.0], [x], sample_weight=[w])
    assert ulp_error(v[0], *ref_v, "float64") <= 4
