"""Edge cases of the gradients: tails, infinite logits, probabilities of exactly 0 and 1,
ignored and zero-weight samples. References: the loss formulas of ``tests/accuracy/reference.py``
differentiated numerically by ``mpmath.diff`` (``numeric_grad``, 60+ digits), so the library's
analytic gradients are checked against the losses' derivatives, not against another gradient
formula; errors in ULP by the shared metric (``tests/accuracy/ulp.py``).
"""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import pytest
from mpmath import mpf

import crossentropy as ce
from tests.accuracy import reference as R
from tests.accuracy.ulp import max_ulp_error

inf = np.inf
BF16 = ml_dtypes.bfloat16
mp_grad = R.numeric_grad
X = R.X


def _onehot(k: int, c: int) -> list[float]:
    return [1.0 if j == k else 0.0 for j in range(c)]


def _max_ulp(got: Any, ref: list[Any], dtype: Any) -> float:
    return max_ulp_error(np.ravel(got), R.encode_all(list(ref)), dtype)


# The losses of tests/accuracy/reference.py with float arguments, on mpmath logits/probabilities
# (what numeric_grad differentiates).


def softmax_xent(a: list[float], x: list[mpf]) -> mpf:
    return R.categorical_logits([X(v) for v in a], x, [])[0]


def sigmoid_logits(z: float, x: mpf, w: float = 1.0) -> mpf:
    return R.sigmoid_xent(X(z), x, X(w))[0]


def binary_prob(y: float, p: mpf, w: float = 1.0) -> mpf:
    return R.binary_probs(X(y), p, X(w))[0]


def binary_focal_prob(y: float, p: mpf, gamma: float) -> mpf:
    return R.binary_focal_probs(X(y), p, X(gamma), None)[0]


def binary_focal_logits(y: float, x: mpf, gamma: float) -> mpf:
    return R.binary_focal_logits(X(y), x, X(gamma), None)[0]


def categorical_focal_prob(a: list[float], p: list[mpf], gamma: float) -> mpf:
    return R.categorical_focal_probs([X(v) for v in a], p, X(gamma), [])[0]


def categorical_focal_logits(a: list[float], x: list[mpf], gamma: float) -> mpf:
    return R.categorical_focal_logits([X(v) for v in a], x, X(gamma), [])[0]


# ---------------------------------------------------------------------------------------------
# The example: the true-class entry does not cancel


SPARSE_AND_DENSE = [
    ("sparse", ce.sparse_softmax_cross_entropy_with_logits, {}),
    ("sparse_cce", ce.sparse_categorical_crossentropy, {"from_logits": True}),
    ("dense", ce.softmax_cross_entropy_with_logits, {}),
    ("dense_cce", ce.categorical_crossentropy, {"from_logits": True}),
]


@pytest.mark.parametrize(
    ("kind", "loss", "kw"), SPARSE_AND_DENSE, ids=[s[0] for s in SPARSE_AND_DENSE]
)
def test_confident_true_class_does_not_cancel_float32(kind: str, loss: Any, kw: dict) -> None:
    x = np.array([[20.0, 0.0, 0.0]], np.float32)
    labels: Any = np.array([0]) if kind.startswith("sparse") else np.array([[1.0, 0.0, 0.0]])
    g = ce.grad(loss)(labels, x, reduction="mean", **kw)
    assert g.dtype == np.float32
    # -sum_{j != k} p_j = -2 e^-20 / (1 + 2 e^-20) = -4.1223072e-9: not 0 and not -1.19e-7 (the
    # float32 spacing below 1, which is what p - 1 in float32 gives)
    ref = mp_grad(lambda v: softmax_xent([1, 0, 0], v), [20.0, 0.0, 0.0])
    assert _max_ulp(g, ref, np.float32) <= 0.5
    assert g[0, 0] == np.float32(-4.1223072e-09)
    assert g[0, 0] != 0.0
    assert g[0, 0] != np.float32(-1.1920929e-07)


# ---------------------------------------------------------------------------------------------
# Tails against mpmath, in ulps of the output dtype

SOFTMAX_ROWS = [
    ([20.0, 0.0, 0.0], 0),
    ([30.0, 0.0, 0.0], 0),
    ([30.0, 0.0, 0.0], 1),
    ([40.0, -3.0, 1.5], 0),
    ([700.0, 0.0, -700.0], 0),
    ([700.0, 0.0, -700.0], 2),
    ([-40.0, 0.0, 40.0], 2),
    ([1.0, 2.0, 3.0], 2),
    ([0.0, 0.0, 0.0], 0),  # S = 2: the other branch of the argmax entry
    ([0.0, -1e-9, 0.0], 1),  # S just below 2, ties
    ([5.0, 5.0, 5.000001], 2),
    ([3.0, 2.9999], 0),  # S just below 1
    ([3.0, 3.0], 1),  # S exactly 1, the label off the (first) argmax
]

# computed in float64 and rounded once: within half an ulp of the exact gradient, plus the
# float64 error (far below an ulp of these dtypes); float64 itself within 1 ulp
ULP_BOUND = {np.float16: 0.5001, BF16: 0.5001, np.float32: 0.5001, np.float64: 1.0}
DTYPES = [np.float16, BF16, np.float32, np.float64]
DTYPE_IDS = ["float16", "bfloat16", "float32", "float64"]


def _representable(dtype: Any, values: list[float]) -> bool:
    with np.errstate(over="ignore"):
        return all(float(np.asarray(v).astype(dtype)) == v for v in values)


def _with_dtypes(points: list[Any], ids: list[str]) -> list[Any]:
    """(point, dtype) pairs for the dtypes that hold the point's logits exactly."""
    return [
        pytest.param(*point, dtype, id=f"{pid}-{did}")
        for point, pid in zip(points, ids, strict=True)
        for dtype, did in zip(DTYPES, DTYPE_IDS, strict=True)
        if _representable(dtype, point[0] if isinstance(point[0], list) else [point[0]])
    ]


@pytest.mark.parametrize(
    ("row", "k", "dtype"), _with_dtypes(SOFTMAX_ROWS, [f"{r}-{k}" for r, k in SOFTMAX_ROWS])
)
def test_softmax_gradient_tails_match_mpmath(row: list[float], k: int, dtype: Any) -> None:
    x = np.array([row], dtype)
    ref = mp_grad(lambda v: softmax_xent(_onehot(k, len(row)), v), row)
    for loss, labels, kw in (
        (ce.sparse_softmax_cross_entropy_with_logits, [k], {}),
        (ce.categorical_crossentropy, [_onehot(k, len(row))], {"from_logits": True}),
    ):
        g = ce.grad(loss)(labels, x, **kw)
        assert g.dtype == x.dtype
        assert _max_ulp(g, ref, dtype) <= ULP_BOUND[dtype], (loss.__name__, g)


SIGMOID_POINTS = [
    (40.0, 1.0),
    (40.0, 0.0),
    (-40.0, 1.0),
    (-40.0, 0.0),
    (36.75, 1.0),
    (700.0, 1.0),
    (-700.0, 0.0),
    (1e-10, 1.0),
    (0.3125, 0.25),
    (-30.0, 0.5),
    (-15.0, 1.0),
]


@pytest.mark.parametrize("pos_weight", [None, 3.0])
@pytest.mark.parametrize(
    ("x0", "z", "dtype"), _with_dtypes(SIGMOID_POINTS, [f"{x}-{z}" for x, z in SIGMOID_POINTS])
)
def test_sigmoid_gradient_tails_match_mpmath(
    x0: float, z: float, dtype: Any, pos_weight: float | None
) -> None:
    x = np.array([x0], dtype)
    w = 1.0 if pos_weight is None else pos_weight
    ref = mp_grad(lambda v: sigmoid_logits(z, v[0], w), [x0])
    g = ce.grad(ce.sigmoid_cross_entropy_with_logits)(
        np.array([z], dtype), x, pos_weight=pos_weight
    )
    assert g.dtype == x.dtype
    bound = ULP_BOUND[dtype]
    if dtype is np.float64 and 0.0 < z < 1.0:
        # a soft label makes the gradient a difference of two terms, (1-z)s(x) - wz s(-x):
        # its float64 error grows with the condition number of that difference (6.5 at 0.3125)
        bound = 8.0
    assert _max_ulp(g, ref, dtype) <= bound
    # binary_crossentropy from logits, one element per row: the same derivative
    g2 = ce.grad(ce.binary_crossentropy)(
        np.array([[z]], dtype), x[:, None], from_logits=True, pos_weight=pos_weight
    )
    assert _max_ulp(g2, ref, dtype) <= bound


BINARY_PROB_POINTS = [
    (1e-300, 1.0),
    (1e-300, 0.0),
    (1e-300, 0.5),
    (1.0 - 2.0**-53, 1.0),
    (1.0 - 2.0**-53, 0.0),
    (0.5, 0.3),
    (2.0**-30, 1.0),
    (0.75, 1.0),
]


@pytest.mark.parametrize(
    ("p", "y"), BINARY_PROB_POINTS, ids=[f"{p}-{y}" for p, y in BINARY_PROB_POINTS]
)
def test_binary_probability_gradient_near_0_and_1(p: float, y: float) -> None:
    ref = mp_grad(lambda v: binary_prob(y, v[0]), [p], scale=[min(p, 1.0 - p)])
    g = ce.grad(ce.binary_crossentropy)([[y]], [[p]])
    assert _max_ulp(g, ref, np.float64) <= 1.0


# ---------------------------------------------------------------------------------------------
# Focal losses: accurate where the focal factor is O(1); the saturated tail is a known gap


@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize(
    ("x0", "z"), [(0.3, 0.0), (0.3, 1.0), (-2.5, 1.0), (40.0, 0.0), (-40.0, 1.0), (3.0, 0.25)]
)
def test_binary_focal_logits_gradient_matches_mpmath(x0: float, z: float, gamma: float) -> None:
    ref = mp_grad(lambda v: binary_focal_logits(z, v[0], gamma), [x0])
    g = ce.grad(ce.binary_focal_crossentropy)([[z]], [[x0]], from_logits=True, gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0
    g32 = ce.grad(ce.binary_focal_crossentropy)(
        np.array([[z]], np.float32), np.array([[x0]], np.float32), from_logits=True, gamma=gamma
    )
    assert _max_ulp(g32, ref, np.float32) <= ULP_BOUND[np.float32]


@pytest.mark.parametrize("gamma", [0.5, 2.0])
@pytest.mark.parametrize(
    ("row", "k"),
    [([1.0, 2.0, 3.0], 2), ([0.0, 0.0, 0.0], 0), ([-20.0, 0.0, 0.0], 0), ([3.0, -1.0, 0.5], 1)],
)
def test_categorical_focal_logits_gradient_matches_mpmath(
    row: list[float], k: int, gamma: float
) -> None:
    a = _onehot(k, len(row))
    ref = mp_grad(lambda v: categorical_focal_logits(a, v, gamma), row)
    g = ce.grad(ce.categorical_focal_crossentropy)([a], [row], from_logits=True, gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0
    g32 = ce.grad(ce.categorical_focal_crossentropy)(
        np.array([a], np.float32), np.array([row], np.float32), from_logits=True, gamma=gamma
    )
    assert _max_ulp(g32, ref, np.float32) <= ULP_BOUND[np.float32]


@pytest.mark.parametrize("gamma", [2.0, 3.7])
def test_categorical_focal_confident_tail_float64(gamma: float) -> None:
    row, a = [31.3, 2.2, -5.1], [1.0, 0.0, 0.0]
    ref = mp_grad(lambda v: categorical_focal_logits(a, v, gamma), row)
    g = ce.grad(ce.categorical_focal_crossentropy)([a], [row], from_logits=True, gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0


@pytest.mark.parametrize("gamma", [2.0, 3.7])
def test_binary_focal_confident_tail_float64(gamma: float) -> None:
    ref = mp_grad(lambda v: binary_focal_logits(1.0, v[0], gamma), [23.7])
    g = ce.grad(ce.binary_focal_crossentropy)([[1.0]], [[23.7]], from_logits=True, gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0


@pytest.mark.parametrize("gamma", [2.0, 3.7])
def test_binary_focal_probability_confident_tail_float64(gamma: float) -> None:
    p = 3.3e-9
    ref = mp_grad(lambda v: binary_focal_prob(0.0, v[0], gamma), [p], scale=[p])
    g = ce.grad(ce.binary_focal_crossentropy)([[0.0]], [[p]], gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize(("p", "y"), [(1e-6, 1.0), (1e-3, 0.0), (1.0 - 2.0**-40, 1.0), (0.4, 0.7)])
def test_binary_focal_probability_gradient_matches_mpmath(p: float, y: float, gamma: float) -> None:
    ref = mp_grad(lambda v: binary_focal_prob(y, v[0], gamma), [p], scale=[min(p, 1.0 - p)])
    g = ce.grad(ce.binary_focal_crossentropy)([[y]], [[p]], gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_categorical_focal_probability_gradient_matches_mpmath(gamma: float) -> None:
    # off the simplex on purpose: the gradient is the unconstrained partial derivative
    p = [0.7, 1e-5, 0.3 - 1e-5]
    a = [0.6, 0.1, 0.3]
    ref = mp_grad(lambda v: categorical_focal_prob(a, v, gamma), p, scale=p)
    g = ce.grad(ce.categorical_focal_crossentropy)([a], [p], gamma=gamma)
    assert _max_ulp(g, ref, np.float64) <= 4.0


# ---------------------------------------------------------------------------------------------
# Infinite logits: the gradient is the limit, finite; reference = mpmath at a huge finite logit

BIG = 1e4  # e^-1e4 is far below any float64: the gradient there equals the limit


def _limit_ref(f: Any, row: list[float]) -> list[Any]:
    finite = [BIG if v == inf else -BIG if v == -inf else v for v in row]
    return mp_grad(f, finite, dps=60)


INF_SOFTMAX = [
    ([inf, 0.0, 0.0], [1.0, 0.0, 0.0]),
    ([inf, 0.0, 0.0], [0.0, 1.0, 0.0]),
    ([-inf, 0.0, 0.0], [0.0, 1.0, 0.0]),
    ([-inf, 0.0, 0.0], [1.0, 0.0, 0.0]),
    ([inf, -inf, 1.0], [0.2, 0.0, 0.8]),
    ([-inf, 2.0, -inf], [0.0, 1.0, 0.0]),
]


@pytest.mark.parametrize(("row", "a"), INF_SOFTMAX, ids=[f"{r}-{a}" for r, a in INF_SOFTMAX])
def test_softmax_infinite_logits_give_the_limit(row: list[float], a: list[float]) -> None:
    ref = _limit_ref(lambda v: softmax_xent(a, v), row)
    g = ce.grad(ce.softmax_cross_entropy_with_logits)([a], [row])
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(g[0], [float(r) for r in ref])
    if a.count(1.0) == 1:
        g2 = ce.grad(ce.sparse_softmax_cross_entropy_with_logits)([a.index(1.0)], [row])
        np.testing.assert_array_equal(g2, g)


def test_softmax_ties_at_plus_inf_share_the_mass() -> None:
    # the documented convention (softmax([inf, inf, 0]) = [0.5, 0.5, 0]): the limit along x0 = x1
    g = ce.grad(ce.sparse_softmax_cross_entropy_with_logits)([1], [[inf, inf, 0.0]])
    np.testing.assert_array_equal(g, [[0.5, -0.5, 0.0]])


@pytest.mark.parametrize("pos_weight", [None, 0.5])
@pytest.mark.parametrize("z", [0.0, 1.0, 0.25])
@pytest.mark.parametrize("x0", [inf, -inf])
def test_sigmoid_infinite_logits_give_the_limit(x0: float, z: float, pos_weight: Any) -> None:
    w = 1.0 if pos_weight is None else pos_weight
    ref = float(_limit_ref(lambda v: sigmoid_logits(z, v[0], w), [x0])[0])
    for loss in (ce.sigmoid_cross_entropy_with_logits, ce.weighted_cross_entropy_with_logits):
        if loss is ce.weighted_cross_entropy_with_logits:
            g = ce.grad(loss)([z], [x0], w)
        else:
            g = ce.grad(loss)([z], [x0], pos_weight=pos_weight)
        assert g.tolist() == [ref]
    g = ce.grad(ce.binary_crossentropy)([[z]], [[x0]], from_logits=True, pos_weight=pos_weight)
    assert g.tolist() == [[ref]]


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("z", [0.0, 1.0, 0.5])
@pytest.mark.parametrize("x0", [inf, -inf])
def test_binary_focal_infinite_logits_give_the_limit(x0: float, z: float, gamma: float) -> None:
    ref = float(_limit_ref(lambda v: binary_focal_logits(z, v[0], gamma), [x0])[0])
    g = ce.grad(ce.binary_focal_crossentropy)([[z]], [[x0]], from_logits=True, gamma=gamma)
    assert g.tolist() == [[ref]]


CFOCAL_INF = [
    pytest.param([inf, 0.0, 0.0], 0, 0.0),
    pytest.param([inf, 0.0, 0.0], 0, 2.0),
    pytest.param([inf, 0.0, 0.0], 1, 0.0),
    pytest.param([-inf, 0.0, 0.0], 1, 0.5),
    pytest.param([-inf, 0.0, 0.0], 0, 0.0),
    pytest.param([inf, 0.0, 0.0], 1, 2.0),
    pytest.param([-inf, 0.0, 0.0], 0, 0.5),
]


@pytest.mark.parametrize(("row", "k", "gamma"), CFOCAL_INF)
def test_categorical_focal_infinite_logits_give_the_limit(
    row: list[float], k: int, gamma: float
) -> None:
    a = _onehot(k, len(row))
    ref = _limit_ref(lambda v: categorical_focal_logits(a, v, gamma), row)
    g = ce.grad(ce.categorical_focal_crossentropy)([a], [row], from_logits=True, gamma=gamma)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g[0], [float(r) for r in ref], rtol=1e-15, atol=0)


# ---------------------------------------------------------------------------------------------
# Probabilities of exactly 0 and 1: one-sided derivatives where finite, +-inf where not


def _one_sided(f: Any, p: list[float], i: int) -> float:
    """d f / d p_i at a boundary, from inside [0, 1] (60 digits, a step of 1e-40)."""
    direction = 1 if p[i] == 0.0 else -1
    scale = [1e20 if j == i else 1.0 for j in range(len(p))]  # 1e20 * 10**-60 = 1e-40
    return float(mp_grad(f, p, scale=scale, direction=direction, dps=60)[i])


@pytest.mark.parametrize("gamma", [None, 0.0, 0.5, 2.0])
def test_binary_probabilities_at_0_and_1(gamma: float | None) -> None:
    y = [1.0, 0.0, 1.0, 0.0, 0.5, 0.5]
    p = [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]
    if gamma is None:
        g = ce.grad(ce.binary_crossentropy)([y], [p])
        terms = [lambda v, yi=yi: binary_prob(yi, v[0]) for yi in y]
    else:
        g = ce.grad(ce.binary_focal_crossentropy)([y], [p], gamma=gamma)
        terms = [lambda v, yi=yi: binary_focal_prob(yi, v[0], gamma) for yi in y]
    n = len(y)
    for i, (yi, pi) in enumerate(zip(y, p, strict=True)):
        # a positive label at p = 0, or a negative one at p = 1: the loss is +inf and the slope
        # is unbounded (-inf toward p = 0, +inf toward p = 1)
        if (pi == 0.0 and yi > 0) or (pi == 1.0 and yi < 1):
            assert g[0, i] == (-inf if pi == 0.0 else inf), (i, g)
        else:
            # one-sided mpmath.diff of p**(1 + gamma) is accurate only to ~h**gamma: abs
            # tolerance for the limits that are 0
            expected = _one_sided(terms[i], [pi], 0) / n
            assert g[0, i] == pytest.approx(expected, rel=1e-14, abs=1e-15), (i, g)


@pytest.mark.parametrize("gamma", [None, 0.0, 0.5, 2.0])
def test_categorical_probabilities_at_0_and_1(gamma: float | None) -> None:
    y = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]
    p = [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]
    if gamma is None:
        g = ce.grad(ce.categorical_crossentropy)(y, p)
    else:
        g = ce.grad(ce.categorical_focal_crossentropy)(y, p, gamma=gamma)
    # a class with no target mass: exactly 0 whatever p is
    assert g[0, 1] == 0
    assert g[0, 2] == 0
    assert g[1, 0] == 0
    assert g[1, 2] == 0
    assert g[2, 2] == 0
    # target mass at p = 0: the partial derivative -a (1 - p)^g / p ... is -inf
    assert g[1, 1] == -inf
    assert g[2, 1] == -inf
    # the true class at p = 1: -1/p = -1 for cross-entropy; for focal, (1 - p)^gamma -> 0
    # kills it when gamma > 0 (one-sided derivative from below)
    for row, mass in ((0, 1.0), (2, 0.5)):
        if gamma is None:
            f = lambda v, m=mass: binary_prob(1.0, v[0], m)  # noqa: E731  -m log p
        else:
            f = lambda v, m=mass: m * binary_focal_prob(1.0, v[0], gamma)  # noqa: E731
        assert g[row, 0] == pytest.approx(_one_sided(f, [1.0], 0), rel=1e-14, abs=1e-15)


def test_sparse_probabilities_at_0_and_1() -> None:
    g = ce.grad(ce.sparse_categorical_crossentropy)([0, 1], [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(g, [[-1.0, 0.0, 0.0], [0.0, -inf, 0.0]])


# ---------------------------------------------------------------------------------------------
# Ignored and zero-weight samples: exactly zero gradient, even where the loss is inf or NaN

SPARSE = [ce.sparse_softmax_cross_entropy_with_logits, ce.sparse_categorical_crossentropy]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss", SPARSE, ids=lambda f: f.__name__)
def test_all_ignored_batch(loss: Any, reduction: str) -> None:
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]], np.float32)
    kw = {"from_logits": True} if loss is ce.sparse_categorical_crossentropy else {}
    v, g = ce.value_and_grad(loss)([-1, -1], x, ignore_index=-1, reduction=reduction, **kw)
    assert g.dtype == np.float32
    assert g.shape == x.shape
    assert not np.any(g)
    assert not np.any(np.signbit(g) & (g != 0))
    if reduction == "none":
        np.testing.assert_array_equal(v, [0.0, 0.0])
    else:
        assert isinstance(v, np.float32)
        assert v == 0.0


@pytest.mark.parametrize("loss", SPARSE, ids=lambda f: f.__name__)
def test_ignored_rows_have_exactly_zero_gradient_even_with_bad_predictions(loss: Any) -> None:
    # ignored rows hold NaN and inf (validate=False lets them through): nothing leaks
    x = np.array([[0.2, 0.3, 0.5], [np.nan, inf, -inf], [0.0, 0.0, 1.0]])
    kw = {"from_logits": True} if loss is ce.sparse_categorical_crossentropy else {}
    for reduction in ("none", "mean", "sum"):
        v, g = ce.value_and_grad(loss)(
            [2, 7, 7], x, ignore_index=7, reduction=reduction, validate=False, **kw
        )
        assert np.all(g[1:] == 0.0), g
        assert np.all(np.isfinite(g[0]))
        assert np.any(g[0] != 0)
        assert np.all(np.isfinite(v))


CASES_WITH_INFINITE_LOSS = [
    (ce.binary_crossentropy, [[1.0, 0.0], [1.0, 1.0]], [[0.0, 0.5], [0.5, 0.5]], {}),
    (ce.binary_focal_crossentropy, [[1.0, 0.0], [1.0, 1.0]], [[0.0, 0.5], [0.5, 0.5]], {}),
    (ce.categorical_crossentropy, [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.5, 0.5]], {}),
    (ce.categorical_focal_crossentropy, [[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.5, 0.5]], {}),
    (ce.sparse_categorical_crossentropy, [0, 0], [[0.0, 1.0], [0.5, 0.5]], {}),
    (ce.sparse_softmax_cross_entropy_with_logits, [0, 0], [[-inf, 1.0], [0.5, 0.5]], {}),
    (ce.softmax_cross_entropy_with_logits, [[1.0, 0.0], [1.0, 0.0]], [[-inf, 1.0], [0.5, 0.5]], {}),
    (
        ce.categorical_crossentropy,
        [[1.0, 0.0], [1.0, 0.0]],
        [[-inf, 1.0], [0.5, 0.5]],
        {"from_logits": True},
    ),
    (
        ce.binary_crossentropy,
        [[1.0, 0.0], [1.0, 1.0]],
        [[-inf, 0.5], [0.5, 0.5]],
        {"from_logits": True},
    ),
    (
        ce.binary_focal_crossentropy,
        [[1.0, 0.0], [1.0, 1.0]],
        [[-inf, 0.5], [0.5, 0.5]],
        {"from_logits": True},
    ),
    (ce.mean_squared_error, [[1.0, 0.0], [1.0, 1.0]], [[inf, 0.5], [0.5, 0.5]], {}),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize(
    ("loss", "y", "x", "kw"),
    CASES_WITH_INFINITE_LOSS,
    ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES_WITH_INFINITE_LOSS)],
)
def test_zero_weight_sample_with_infinite_loss_has_zero_gradient(
    loss: Any, y: Any, x: Any, kw: dict, reduction: str
) -> None:
    v_inf = loss(y, x, **kw)
    assert np.isinf(v_inf[0])  # the first sample's loss is infinite...
    v, g = ce.value_and_grad(loss)(y, x, sample_weight=[0.0, 2.0], reduction=reduction, **kw)
    assert np.all(np.isfinite(v))  # ...but weighted 0 it contributes nothing
    assert np.all(g[0] == 0.0), g
    assert np.all(np.isfinite(g[1]))
    assert np.any(g[1] != 0)


@pytest.mark.parametrize("loss", SPARSE, ids=lambda f: f.__name__)
def test_zero_class_weight_on_true_class_gives_zero_row(loss: Any) -> None:
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    kw = {"from_logits": True} if loss is ce.sparse_categorical_crossentropy else {}
    g = ce.grad(loss)([1, 0], x, class_weight=[1.0, 0.0, 2.0], **kw)
    np.testing.assert_array_equal(g[0], [0.0, 0.0, 0.0])
    assert np.all(g[1] != 0)


@pytest.mark.parametrize(
    "loss",
    [
        ce.binary_crossentropy,
        ce.categorical_crossentropy,
        ce.sparse_softmax_cross_entropy_with_logits,
        ce.mean_squared_error,
        ce.sigmoid_cross_entropy_with_logits,
        ce.binary_focal_crossentropy,
        ce.categorical_focal_crossentropy,
    ],
    ids=lambda f: f.__name__,
)
def test_all_zero_sample_weights_mean_is_zero_with_zero_gradient(loss: Any) -> None:
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]])
    y: Any = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    if loss is ce.sparse_softmax_cross_entropy_with_logits:
        y = np.array([2, 0])
    w = np.zeros((2, 3)) if loss is ce.sigmoid_cross_entropy_with_logits else np.zeros(2)
    v, g = ce.value_and_grad(loss)(y, x, sample_weight=w, reduction="mean")
    assert isinstance(v, np.float64)
    assert v == 0.0
    np.testing.assert_array_equal(g, np.zeros_like(x))
