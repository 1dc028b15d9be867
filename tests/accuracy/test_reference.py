"""The references themselves: independent checks of the mpmath formulas and of the stored data.

* The cancellation-free formulas of :mod:`reference` agree with the naive textbook formulas
  evaluated with thousands of bits (where cancellation no longer matters).
* Every gradient formula agrees with mpmath's numerical derivative of the loss formula.
* The stored references are what :mod:`reference` computes today (a sample of cases per dtype).
"""

from __future__ import annotations

import numpy as np
import pytest
from mpmath import mp, mpf

from . import reference as R
from .cases import reference_for
from .conftest import stored

HUGE = 4000  # bits for the naive formulas


def _bits(values: list[float]) -> int:
    """Enough bits for the naive formulas: e^-(spread) must survive next to 1."""
    return HUGE + 2 * int(max(values) - min(values))


def _naive_nll(x: list[float], k: int) -> mpf:
    with mp.workprec(_bits(x)):
        xs = [mpf(v) for v in x]
        return mp.log(mp.fsum(mp.exp(v) for v in xs)) - xs[k]


ROWS = [
    [30.0, 0.0, 0.0],
    [1e4, -1e4],
    [1e6, 1e6 + 1, 1e6 - 1],
    [36.7, 0.0],
    [0.0, 1e-30, -1e-8],
    [709.0, 710.0, -745.0],
    [745.0] + [0.0] * 9,
]


@pytest.mark.parametrize("row", ROWS, ids=str)
def test_softmax_reference_matches_brute_force(row: list[float]) -> None:
    for k in range(len(row)):
        with mp.workprec(R.BASE_PREC):
            nll, p, q, _lse = R.softmax_parts([R.X(v) for v in row])
        naive = _naive_nll(row, k)
        with mp.workprec(_bits(row)):
            assert abs(nll[k] - naive) <= abs(naive) * mpf(2) ** -150
            assert abs(p[k] - mp.exp(-naive)) <= mp.exp(-naive) * mpf(2) ** -150
            assert abs(q[k] - (1 - mp.exp(-naive))) <= abs(1 - mp.exp(-naive)) * mpf(2) ** -150


@pytest.mark.parametrize("x", [0.0, 1e-8, -17.0, 36.7, -745.0, 1e4])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
def test_sigmoid_reference_matches_brute_force(x: float, y: float) -> None:
    with mp.workprec(R.BASE_PREC):
        loss, grad = R.sigmoid_xent(R.X(y), R.X(x), mpf(2.5))
    with mp.workprec(_bits([x, 0.0])):
        xx, yy = mpf(x), mpf(y)
        p = 1 / (1 + mp.exp(-xx))
        naive = -(mpf(2.5) * yy * mp.log(p) + (1 - yy) * mp.log(1 - p))
        naive_g = (1 - yy) * p - mpf(2.5) * yy * (1 - p)
        assert abs(loss - naive) <= abs(naive) * mpf(2) ** -150
        assert abs(grad - naive_g) <= abs(naive_g) * mpf(2) ** -150


def _diff(f: object, x: mpf) -> mpf:
    with mp.workprec(400):
        return mp.diff(f, x)


@pytest.mark.parametrize("x", [-3.0, -0.4, 0.0, 0.7, 5.0])
@pytest.mark.parametrize("y", [0.0, 1.0, 0.3])
@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_gradients_are_derivatives_elementwise(x: float, y: float, gamma: float) -> None:
    g = mpf(gamma)
    with mp.workprec(400):
        cases = [
            (
                lambda t: R.sigmoid_xent(mpf(y), t, mpf(3))[0],
                R.sigmoid_xent(mpf(y), mpf(x), mpf(3))[1],
            ),
            (
                lambda t: R.binary_focal_logits(mpf(y), t, g, mpf(0.25))[0],
                R.binary_focal_logits(mpf(y), mpf(x), g, mpf(0.25))[1],
            ),
        ]
        p = 1 / (1 + mp.exp(-mpf(x)))
        cases += [
            (lambda t: R.binary_probs(mpf(y), t, mpf(3))[0], R.binary_probs(mpf(y), p, mpf(3))[1]),
            (
                lambda t: R.binary_focal_probs(mpf(y), t, g, None)[0],
                R.binary_focal_probs(mpf(y), p, g, None)[1],
            ),
        ]
        for i, (f, want) in enumerate(cases):
            at = mpf(x) if i < 2 else p
            num = _diff(f, at)
            assert abs(num - want) <= mpf(2) ** -100 * (1 + abs(want)), (i, num, want)


@pytest.mark.parametrize("row", [[2.0, -1.0, 0.5], [30.0, 0.0, 0.0], [0.1, 0.2, 0.3, -4.0]])
@pytest.mark.parametrize("gamma", [None, 0.5, 2.0])
def test_gradients_are_derivatives_rows(row: list[float], gamma: float | None) -> None:
    c = len(row)
    with mp.workprec(400):
        a = [mpf(1) / 7 * (j + 1) for j in range(c)]  # soft, unnormalised targets (A != 1)
        xs = [mpf(v) for v in row]

        def loss(j: int, t: mpf) -> mpf:
            xt = list(xs)
            xt[j] = t
            if gamma is None:
                return R.categorical_logits(a, xt, [])[0]
            return R.categorical_focal_logits(a, xt, mpf(gamma), [])[0]

        if gamma is None:
            _, grad = R.categorical_logits(a, xs, list(range(c)))
        else:
            _, grad = R.categorical_focal_logits(a, xs, mpf(gamma), list(range(c)))
        for j in range(c):
            num = mp.diff(lambda t, j=j: loss(j, t), xs[j])
            assert abs(num - grad[j]) <= mpf(2) ** -100 * (1 + abs(grad[j]))
        p = [mpf(v) for v in (0.2, 0.3, 0.5)][:c] if c == 3 else None
        if p is not None:
            if gamma is None:
                _, gp = R.categorical_probs(a, p, [0, 1, 2])
            else:
                _, gp = R.categorical_focal_probs(a, p, mpf(gamma), [0, 1, 2])
            for j in range(3):

                def lp(t: mpf, j: int = j) -> mpf:
                    pt = list(p)
                    pt[j] = t
                    if gamma is None:
                        return R.categorical_probs(a, pt, [])[0]
                    return R.categorical_focal_probs(a, pt, mpf(gamma), [])[0]

                assert abs(mp.diff(lp, p[j]) - gp[j]) <= mpf(2) ** -100 * (1 + abs(gp[j]))


def test_cancelling_subtractions_are_retried() -> None:
    """sigma(x) - y with y the double nearest sigma(x): exact to >= 80 bits, not 200 - 106."""
    x = 0.25
    y = float(1 / (1 + np.exp(-x)))
    (_loss, grad), kappa = R.evaluate(R.sigmoid_xent, R.X(y), R.X(x), mpf(1))
    with mp.workprec(HUGE):
        s = 1 / (1 + mp.exp(-mpf(x)))
        exact = s - mpf(y)
        assert abs(grad - exact) <= abs(exact) * mpf(2) ** -80
    assert kappa[-1] > 2.0**50


def _sample(dtype: str) -> list[object]:
    small = [lc for lc in stored(dtype) if lc.case.args[-1].size <= 1200]
    return small[:: max(1, len(small) // 6)]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_stored_references_are_current(dtype: str) -> None:
    for lc in _sample(dtype):
        ref = reference_for(lc.case)  # type: ignore[attr-defined]
        for got, want in ((lc.value, ref.value), (lc.grad, ref.grad)):  # type: ignore[attr-defined]
            if got is None:
                continue
            enc = np.array([R.encode(v) for v in want], dtype=object)
            hi = enc[:, 0].astype(np.float64)
            e = enc[:, 2].astype(np.int64)
            lo = enc[:, 1].astype(np.float64)
            same = (hi == got[0]) | (np.isnan(hi) & np.isnan(got[0]))
            assert same.all(), lc.case.name  # type: ignore[attr-defined]
            assert (e == got[2]).all(), lc.case.name  # type: ignore[attr-defined]
            assert np.allclose(lo, got[1], rtol=2.0**-20, atol=2.0**-90), lc.case.name  # type: ignore[attr-defined]


@pytest.mark.parametrize("row", [[700.0, 0.0, -700.0], [40.0, -3.0, 1.5], [3.0, 2.9999]], ids=str)
def test_numeric_grad_agrees_with_the_analytic_gradients_in_the_tails(row: list[float]) -> None:
    """numeric_grad (the gradient tests' reference) against the formulas of this module, where
    the entries span hundreds of orders of magnitude; the working precision is left as found."""
    prec = mp.prec
    for k in range(len(row)):
        a = [mpf(1) if j == k else mpf(0) for j in range(len(row))]
        num = R.numeric_grad(lambda v, a=a: R.categorical_logits(a, v, [])[0], row)
        (_, grad), _ = R.evaluate(R.categorical_logits, a, R.as_mp(row), range(len(row)))
        for n_j, g_j in zip(num, grad, strict=True):
            with mp.workprec(R.BASE_PREC):
                assert abs(n_j - g_j) <= abs(g_j) * mpf(2) ** -100, (k, n_j, g_j)
    for x in (40.0, -40.0, 700.0, -700.0):
        for y in (0.0, 1.0, 0.3):
            num = R.numeric_grad(lambda v, y=y: R.sigmoid_xent(mpf(y), v[0], mpf(3))[0], [x])[0]
            (_, g), _ = R.evaluate(R.sigmoid_xent, mpf(y), mpf(x), mpf(3))
            with mp.workprec(R.BASE_PREC):
                assert abs(num - g) <= abs(g) * mpf(2) ** -100, (x, y, num, g)
    assert mp.prec == prec
