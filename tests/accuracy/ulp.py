"""Distance in units in the last place (ULP) between a computed result and an exact reference.

The exact reference is stored as ``v = (hi + lo) * 2**e`` with ``0.5 <= |v| / 2**e < 1`` (``hi``
the nearest double, so ``|hi|`` may be 1; ``lo`` the rest, kept to 24 bits; ``e`` an integer):
about 77 significant bits at any magnitude, far beyond float64's exponent range
(``exp(-1e30)`` keeps its value). Special values are stored in ``hi`` with
``lo = e = 0``: an exact 0, +-inf and NaN.

This is the test tree's one ULP metric. References from mpmath go through
``reference.encode_all``; a computed result taken as the reference (the fast path against the
reference path) goes through :func:`exact_floats`.

Definitions (``docs/accuracy.md`` restates them for users), for an output format with precision
``p`` bits and minimum normal exponent ``emin`` (float16: 11, -14; float32: 24, -126;
float64: 53, -1022):

* ``ulp(v) = 2**max(floor(log2|v|) - p + 1, emin - p + 1)``: the spacing of the format's numbers at
  ``|v|``, the smallest subnormal spacing for subnormal and zero-rounding values. It is taken at the
  *exact* value, so the bound does not depend on which neighbour the result picked.
* ``err = |computed - v| / ulp(v)``, computed without cancellation from the scaled representation.
* Exact 0 reference: ``err = 0`` if the result is 0 (either sign), else ``inf``: a loss that is
  exactly 0 must come out exactly 0, not 1e-300.
* +-inf reference (a true pole), or a finite value so large that it rounds to +-inf in the format:
  ``err = 0`` for the same infinity, else ``inf``.
* NaN reference (no limit exists): ``err = 0`` for NaN, else ``inf``; a NaN where the reference is
  a number is ``inf`` (and counted separately by the benchmark).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["FORMATS", "Format", "exact_floats", "fmt", "max_ulp_error", "rounded", "ulp_error"]


class Format(NamedTuple):
    """A binary floating-point format: precision ``p`` (bits, with the hidden one) and exponents."""

    p: int
    emin: int
    emax: int


FORMATS = {
    "float16": Format(11, -14, 15),
    "bfloat16": Format(8, -126, 127),
    "float32": Format(24, -126, 127),
    "float64": Format(53, -1022, 1023),
}


def fmt(dtype: Any) -> Format:
    """The :class:`Format` of a NumPy dtype (or its name)."""
    name = getattr(dtype, "name", None) or np.dtype(dtype).name
    return FORMATS[name]


def _overflows(hi: np.ndarray, lo: np.ndarray, e: np.ndarray, f: Format) -> np.ndarray:
    """|v| >= (2 - 2**-p) * 2**emax: the value rounds to infinity (ties go up: max is odd)."""
    thr = 1.0 - 2.0 ** -(f.p + 1)  # (2 - 2**-p) * 2**emax == thr * 2**(emax + 1)
    m = np.abs(hi)
    lo_s = np.sign(hi) * lo
    at = (e == f.emax + 1) & ((m > thr) | ((m == thr) & (lo_s >= 0)))
    return (e > f.emax + 1) | at


def ulp_error(computed: Any, hi: Any, lo: Any, e: Any, dtype: Any) -> np.ndarray:
    """Error of ``computed`` in ULP of ``dtype`` against the reference ``(hi + lo) * 2**e``.

    All arguments broadcast; the result is float64 (``inf`` for a wrong special value).
    """
    f = fmt(dtype)
    c = np.asarray(computed).astype(np.float64)
    hi, lo = np.asarray(hi, np.float64), np.asarray(lo, np.float64)
    e = np.asarray(e, np.int64)
    c, hi, lo, e = np.broadcast_arrays(c, hi, lo, e)
    err = np.full(c.shape, np.inf)
    ref_nan = np.isnan(hi)
    ref_inf = np.isinf(hi)
    ref_zero = hi == 0
    finite = ~(ref_nan | ref_inf | ref_zero)
    over = finite & _overflows(hi, lo, e, f)
    normal = finite & ~over
    # Special references: the result must be exactly the same special value.
    err[ref_nan & np.isnan(c)] = 0.0
    err[ref_inf & (c == hi)] = 0.0
    err[ref_zero & (c == 0)] = 0.0
    err[over & (c == np.copysign(np.inf, hi))] = 0.0
    # Finite references: scale by the ulp so every step is exact up to a rounding far below 1.
    ok = normal & np.isfinite(c)
    u = np.maximum(e - f.p, f.emin - f.p + 1)  # log2 ulp(v), v in [2**(e-1), 2**e)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        cs = np.ldexp(c[ok], -u[ok])  # exact unless absurdly far from v (then inf: a failure)
        hs = np.ldexp(hi[ok], (e - u)[ok])
        ls = np.ldexp(lo[ok], (e - u)[ok])
        err[ok] = np.abs((cs - hs) - ls)
    err[ok & np.isnan(err)] = np.inf
    return err


def rounded(hi: Any, lo: Any, e: Any, dtype: Any) -> np.ndarray:
    """The reference rounded to ``dtype`` (through float64: a double rounding only at exact ties).

    For display and for the frameworks' comparisons; the ULP metric never needs it.
    """
    hi, lo = np.asarray(hi, np.float64), np.asarray(lo, np.float64)
    e = np.clip(np.asarray(e, np.int64), -2000, 2000)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        v = np.ldexp(hi + lo, e)
    return v.astype(dtype)


def exact_floats(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Binary floats of any format, taken as exact references: ``(hi, lo, e)`` for ulp_error.

    For comparing two computed results (the fast path against the reference path, a float32
    result against the float64 one rounded): the second is the reference, exactly as given.
    """
    v = np.asarray(values).astype(np.float64)  # exact: every format here fits in float64
    m, e = np.frexp(v)  # v = m * 2**e with 0.5 <= |m| < 1; 0, +-inf and NaN come back as is
    special = ~np.isfinite(v) | (v == 0)
    return np.where(special, v, m), np.zeros_like(v), np.where(special, 0, e).astype(np.int64)


def max_ulp_error(computed: Any, reference: tuple[Any, Any, Any], dtype: Any) -> float:
    """The largest :func:`ulp_error` of ``computed`` against ``reference = (hi, lo, e)``.

    ``reference`` comes from ``reference.encode_all`` (mpmath values) or :func:`exact_floats`;
    an empty input gives 0.
    """
    err = ulp_error(computed, *reference, dtype)
    return float(err.max()) if err.size else 0.0
