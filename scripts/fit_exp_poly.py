#!/usr/bin/env python3
"""How the polynomials of the kernels' exponentials (``_kernels/_numba.py``) were obtained.

Both reduce ``d = n ln 2 + r``, ``|r| <= ln(2)/2``, and evaluate ``exp(r) = 1 + (r + r**2 q(r))``:

- ``exp_f64`` (float64 inputs): ``q`` is the Taylor tail ``sum_{k=2}^{13} r**(k-2) / k!``, its
  coefficients ``1/k!`` rounded to float64 (checked below, digit for digit); the truncation
  error, ``(ln2/2)**12 / 14! < 2e-18`` relative, is far below the final rounding.
- ``exp_f32`` (float32 inputs, computed in float64 and rounded once to float32): ``q`` has degree
  4 (``p`` degree 6), fitted for the least maximum *relative* error of ``p(r)`` against
  ``e^r`` by Lawson's iteration (iteratively reweighted least squares on a Chebyshev grid, each
  weight multiplied by its point's error), the constant and linear terms held at 1. The error
  is then evaluated with mpmath on a fine grid.

Run: ``python scripts/fit_exp_poly.py``. It prints the fitted coefficients beside the committed
ones and the maximum relative error of each (the committed ones: < 3.1e-9, i.e. 0.05 float32
ulp), and exits 1 if the committed coefficients are not within 1% of the best error this fit
reaches, or if a Taylor coefficient differs from ``1/k!`` rounded.
"""

from __future__ import annotations

import math
import sys

import mpmath
import numpy as np

mpmath.mp.prec = 113

#: The committed exp_f32 coefficients of q(r) = c2 + c3 r + c4 r**2 + c5 r**3 + c6 r**4.
COMMITTED_F32 = [
    0.49999993449714497,
    0.16666520654884695,
    0.041668387480086194,
    0.0083687132223096,
    0.001381462225178093,
]
#: The committed exp_f64 coefficients, 1/2! ... 1/13!.
COMMITTED_F64 = [
    0.5,
    0.16666666666666666,
    0.041666666666666664,
    0.008333333333333333,
    0.001388888888888889,
    0.0001984126984126984,
    2.48015873015873e-05,
    2.7557319223985893e-06,
    2.755731922398589e-07,
    2.505210838544172e-08,
    2.08767569878681e-09,
    1.6059043836821613e-10,
]
HALF_LN2 = math.log(2.0) / 2


def rel_error(coef: list[float], points: int = 4001) -> float:
    """max |(1 + r + r**2 q(r)) / e^r - 1| over ``points`` points of [-ln2/2, ln2/2], in mpmath
    (the polynomial evaluated exactly: this is the error of the coefficients, not of rounding)."""
    worst = mpmath.mpf(0)
    for i in range(points):
        r = mpmath.mpf(-HALF_LN2) + mpmath.mpf(2 * HALF_LN2) * i / (points - 1)
        q = mpmath.mpf(0)
        for c in reversed(coef):
            q = q * r + mpmath.mpf(c)
        p = 1 + r + r * r * q
        worst = max(worst, abs(p / mpmath.exp(r) - 1))
    return float(worst)


def lawson(degree_q: int = 4, points: int = 2000, iterations: int = 400) -> list[float]:
    """Lawson's iteration for the minimax relative error of ``1 + r + r**2 q(r)``."""
    k = np.arange(points)
    r = HALF_LN2 * np.cos(np.pi * (k + 0.5) / points)  # Chebyshev points: dense at the ends
    e = np.array([float(mpmath.exp(v)) for v in r])
    # relative error (1 + r + r^2 q - e^r) / e^r = (r^2 / e^r) (q - f), f = (e^r - 1 - r) / r^2
    f = np.array([float((mpmath.exp(v) - 1 - v) / (v * v)) for v in r])
    scale = r * r / e
    basis = np.vander(r, degree_q + 1, increasing=True)
    w = np.full(points, 1.0 / points)
    coef = np.zeros(degree_q + 1)
    for _ in range(iterations):
        sw = np.sqrt(w) * scale
        coef = np.linalg.lstsq(basis * sw[:, None], f * sw, rcond=None)[0]
        err = np.abs(scale * (basis @ coef - f))
        w = w * err
        w = w / w.sum()
    return [float(c) for c in coef]


def main() -> int:
    ok = True
    taylor = [float(1 / mpmath.factorial(k)) for k in range(2, 14)]
    same = taylor == COMMITTED_F64
    ok &= same
    print(f"exp_f64: q = Taylor 1/k!, k = 2..13: committed equal to 1/k! rounded: {same}")
    print(f"  max relative error of the coefficients: {rel_error(COMMITTED_F64):.3g}")
    fitted = lawson()
    err_fit = rel_error(fitted)
    err_committed = rel_error(COMMITTED_F32)
    print("exp_f32: q of degree 4 (p of degree 6), Lawson's iteration")
    print("  k   fitted                  committed")
    for i, (a, b) in enumerate(zip(fitted, COMMITTED_F32, strict=True)):
        print(f"  {i + 2}   {a!r:<22}  {b!r}")
    print(f"  max relative error: fitted {err_fit:.4g}, committed {err_committed:.4g}")
    ok &= err_committed <= 1.01 * err_fit and err_committed < 3.1e-9
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
