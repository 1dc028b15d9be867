"""Floating-point building blocks shared by the NumPy cores and the numba kernels.

The one place where these are defined:

- the rounding error of a sum (Knuth's TwoSum) and the exact product (Dekker's TwoProd), written
  as plain arithmetic so that the same function works on scalars and on arrays of any array
  library, and compiles unchanged under ``numba.njit`` (the kernels wrap these very functions);
- ``ln 2`` split for the Cody-Waite range reduction of ``exp``;
- the ``e^600`` scaling of float64 values that would be (nearly) subnormal;
- :func:`mul0`, ``a * b`` with ``0 * inf = 0``.

The double-double sums built on TwoSum are in :mod:`._summation`. This module imports nothing
from the package: the kernels and every core sit above it.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "INV_LN2",
    "LN2",
    "LN2_HI",
    "LN2_LO",
    "SCALE",
    "SCALE_EXP",
    "SCALE_INV",
    "SPLIT",
    "TINY",
    "mul0",
    "two_prod",
    "two_sum_low",
]

# --------------------------------------------------------------------------------------------
# ln 2 for the range reduction d = k ln 2 + r

#: 1 / ln 2, correctly rounded.
INV_LN2 = 1.4426950408889634
#: ln 2, correctly rounded (for float32 results, where one product's rounding is negligible).
LN2 = 0.6931471805599453
#: ln 2 rounded to 32 significant bits (the low 21 bits of its significand are zero, bits
#: 0x3FE62E42FEE00000), so ``k * LN2_HI`` is exact for every integer ``|k| < 2**21`` (at most
#: 21 + 32 = 53 significant bits). The exponentials here reduce ``d >= -1100``, ``|k| <= 1587``.
LN2_HI = 6.93147180369123816490e-01
#: ``ln 2 - LN2_HI`` rounded: ``LN2_HI + LN2_LO`` is ln 2 to about 2**-85.
LN2_LO = 1.90821492927058770002e-10

# --------------------------------------------------------------------------------------------
# The e^600 scaling of (nearly) subnormal float64 values

#: Float64 values that would be (nearly) subnormal are formed scaled by ``e^SCALE_EXP`` and
#: scaled back once by ``SCALE_INV``: ``x_j - m + 600`` is exact where ``x_j - m < -690``.
SCALE_EXP = 600.0
SCALE = 3.7730203009299397e260  # exp(600), correctly rounded
SCALE_INV = 2.6503965530043108e-261  # exp(-600), correctly rounded
#: Below this a float64 loss or gradient entry is handed to the reduction scaled.
TINY = 2.0**-1000

#: Dekker's splitting constant 2**27 + 1: ``SPLIT * a`` cuts a float64 into two 26-bit halves.
SPLIT = 134217729.0


def two_sum_low(a: Any, b: Any, s: Any) -> Any:
    """Rounding error of ``s = fl(a + b)``: ``a + b = s + low`` exactly (Knuth's TwoSum).

    No precondition on the magnitudes of ``a`` and ``b``; the result is NaN where ``s`` is
    infinite (callers mask it).
    """
    bb = s - a
    return (a - (s - bb)) + (b - bb)


def two_prod(a: Any, b: Any) -> tuple[Any, Any]:
    """``a * b = p + e`` exactly (Dekker's product without FMA; finite inputs below 2**996)."""
    p = a * b
    a_c = SPLIT * a
    a_hi = a_c - (a_c - a)
    a_lo = a - a_hi
    b_c = SPLIT * b
    b_hi = b_c - (b_c - b)
    b_lo = b - b_hi
    return p, ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo


def mul0(xp: Any, a: Any, b: Any) -> Any:
    """``a * b`` with ``0 * inf = 0``: a term with no weight (or target mass) contributes 0."""
    return xp.where(a == 0, 0.0, a * b)
