"""The ULP metric itself, on values whose distance is known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from mpmath import mp, mpf

from . import reference as R
from .ulp import exact_floats, fmt, max_ulp_error, ulp_error


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


def test_exact_floats_are_their_own_reference() -> None:
    """Floats as references (one computed result against another): the same metric."""
    vals = np.array([1.0, -1.5, 3e-310, 0.0, -0.0, np.inf, -np.inf, np.nan, 1e300])
    hi, lo, e = exact_floats(vals)
    assert (lo == 0).all()
    assert ulp_error(vals, hi, lo, e, "float64").tolist() == [0.0] * vals.size
    for v in vals[np.isfinite(vals) & (vals != 0)]:
        mine, theirs = exact_floats([v]), R.encode_all([float(v)])
        assert all(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))
    up = np.nextafter(vals, np.inf)
    assert ulp_error(up[:3], hi[:3], lo[:3], e[:3], "float64").tolist() == [1.0, 1.0, 1.0]
    # an exact 0 admits only a zero, an infinity only itself, NaN only NaN
    assert ulp_error(5e-324, *exact_floats(0.0), "float64") == np.inf
    assert ulp_error(np.inf, *exact_floats(-np.inf), "float64") == np.inf
    assert ulp_error(np.nan, *exact_floats(1.0), "float64") == np.inf
    # narrower formats: the reference's own ULP (float16 1 + 2**-10 is 1 ULP above 1)
    f16 = np.float16(1.0)
    assert ulp_error(np.nextafter(f16, np.float16(2)), *exact_floats(f16), "float16") == 1.0


def test_encode_all_and_max() -> None:
    with mp.workprec(400):
        third = mpf(1) / 3
    ref = R.encode_all([third, "0.1", 2.0, mpf("inf"), np.float32(0.5)])
    assert ref[0][3] == np.inf
    assert ref[2].dtype == np.int64
    # "0.1" is parsed exactly, not through the nearest double, which is 0.4 ULP from it
    assert ulp_error(0.1, ref[0][1], ref[1][1], ref[2][1], "float64") == pytest.approx(0.4)
    got = np.array([float(third), 0.1, 2.0, np.inf, 0.5])
    # the largest of 1/3 (1/3 ULP), 0.1 (0.4), then three exact ones
    assert max_ulp_error(got, ref, "float64") == pytest.approx(0.4)
    assert max_ulp_error(np.array([]), exact_floats(np.array([])), "float64") == 0.0
