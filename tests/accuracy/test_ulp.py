"""The ULP metric itself, on values whose distance is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from mpmath import mp, mpf

from . import reference as R
from .ulp import fmt, ulp_error


def _ref(v: object) -> tuple[float, float, int]:
    with mp.workprec(400):
        return R.encode(mpf(v) if not isinstance(v, mpf) else v)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("x", [1.0, 1.5, 3.0e-5, 7.0, 1000.0, 0.1])
def test_neighbours_are_one_ulp_apart(dtype: str, x: float) -> None:
    d = np.dtype(dtype)
    v = np.asarray(x, d)
    up = np.nextafter(v, np.asarray(np.inf, d))
    hi, lo, e = _ref(float(v))
    assert ulp_error(v, hi, lo, e, dtype) == 0.0
    assert ulp_error(up, hi, lo, e, dtype) == pytest.approx(1.0)
    two_up = np.nextafter(up, np.asarray(np.inf, d))
    assert ulp_error(two_up, hi, lo, e, dtype) == pytest.approx(2.0)


def test_ulp_is_taken_at_the_exact_value() -> None:
    """Just below a power of two the spacing is the lower binade's (1 - 2**-54: 0.5 ulp from 1)."""
    with mp.workprec(400):
        v = 1 - mpf(2) ** -54
        hi, lo, e = R.encode(v)
    assert ulp_error(1.0, hi, lo, e, "float64") == pytest.approx(0.5)
    assert ulp_error(np.nextafter(1.0, 0.0), hi, lo, e, "float64") == pytest.approx(0.5)


def test_half_ulp_of_a_transcendental() -> None:
    with mp.workprec(400):
        v = mp.exp(1)
        hi, lo, e = R.encode(v)
        exact_err = abs(mpf(float(v)) - v) / mpf(2) ** -51  # e in [2, 4): ulp 2**-51
    err = ulp_error(float(np.e), hi, lo, e, "float64")
    assert err <= 0.5
    assert err == pytest.approx(float(exact_err), rel=1e-6)


def test_subnormal_results_use_the_smallest_spacing() -> None:
    tiny = 5e-324
    hi, lo, e = _ref(3 * tiny)
    assert ulp_error(3 * tiny, hi, lo, e, "float64") == 0.0
    assert ulp_error(5 * tiny, hi, lo, e, "float64") == 2.0
    assert ulp_error(0.0, hi, lo, e, "float64") == 3.0
    # A value far below the smallest subnormal: 0 is within 1 ulp (it is the correct rounding).
    with mp.workprec(400):
        hi, lo, e = R.encode(mp.exp(-(mpf(10) ** 30)))
    assert ulp_error(0.0, hi, lo, e, "float64") < 1e-300
    assert ulp_error(np.float32(0), hi, lo, e, "float32") < 1e-300
    f16 = np.float16(6e-8)  # the float16 smallest subnormal
    hi, lo, e = _ref(float(f16))
    assert ulp_error(np.float16(0), hi, lo, e, "float16") == 1.0


def test_special_references() -> None:
    assert ulp_error(0.0, 0.0, 0.0, 0, "float64") == 0.0
    assert ulp_error(-0.0, 0.0, 0.0, 0, "float64") == 0.0
    assert ulp_error(1e-300, 0.0, 0.0, 0, "float64") == np.inf  # an exact 0 must be 0
    assert ulp_error(np.inf, np.inf, 0.0, 0, "float64") == 0.0
    assert ulp_error(1e308, np.inf, 0.0, 0, "float64") == np.inf
    assert ulp_error(-np.inf, np.inf, 0.0, 0, "float64") == np.inf
    assert ulp_error(np.nan, np.nan, 0.0, 0, "float64") == 0.0
    assert ulp_error(1.0, np.nan, 0.0, 0, "float64") == np.inf
    hi, lo, e = _ref(1.0)
    assert ulp_error(np.nan, hi, lo, e, "float64") == np.inf
    assert ulp_error(np.inf, hi, lo, e, "float64") == np.inf


def test_overflowing_references_must_be_infinite() -> None:
    hi, lo, e = _ref(1e300)  # finite, but beyond float32 and float16
    assert ulp_error(np.float32(np.inf), hi, lo, e, "float32") == 0.0
    assert ulp_error(np.finfo(np.float32).max, hi, lo, e, "float32") == np.inf
    assert ulp_error(np.float16(np.inf), hi, lo, e, "float16") == 0.0
    # float16: 65504 is max; 65519.99 rounds to it, 65520 (the midpoint) rounds to inf.
    hi, lo, e = _ref(65519.99)
    assert ulp_error(np.float16(65504), hi, lo, e, "float16") < 1
    hi, lo, e = _ref(65520)
    assert ulp_error(np.float16(np.inf), hi, lo, e, "float16") == 0.0


def test_formats() -> None:
    for name in ("float16", "float32", "float64"):
        f = fmt(name)
        fi = np.finfo(name)
        assert 2.0 ** (1 - f.p) == fi.eps
        assert 2.0**f.emin == fi.tiny
        assert 2.0 ** (f.emin - f.p + 1) == fi.smallest_subnormal
