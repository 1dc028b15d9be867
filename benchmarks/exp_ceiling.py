"""Why the sparse softmax kernel is arithmetic-bound here: per-core throughput of its pieces.

Run from the repository root (needs numba)::

    PYTHONPATH=src python benchmarks/exp_ceiling.py

Single-threaded, each loop over a 1024-element float32 block that stays in L1, repeated; the
median of 9 runs, in G elements/s. It compares the exponential the float32 kernels use
(computed in float64 with a degree-6 polynomial, 3.1e-9 relative: float32 results within 2 ulp)
with exponentials computed in float32 arithmetic, twice as many per vector: a bare one (the
kind of exponential a "fast math" kernel uses, ~1e-7 relative plus the rounding of ``x - max``,
several float32 ulp) and one that keeps the rounding error of ``x - max`` (TwoSum), as an
accurate float32 kernel must. The sums are in float64 in every variant (a float32 sum of 128k
terms would cost more ulps than the exponential). Also: the row maximum (integer keys), and
reading memory (the row maximum over a 512 MiB array, one thread), for the bandwidth side.

The figures are what docs/performance.md quotes for "why the targets are not met".
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from crossentropy._kernels import _numba as K

_OPTS = {"fastmath": {"contract"}, "error_model": "numpy", "boundscheck": False}
F = np.float32
_LOG2E, _SHIFT = F(1.4426950408889634), F(12582912.0)  # 1.5 * 2**23
_SHIFT_BITS = np.int32(0x4B400000)
_LN2_HI, _LN2_LO = F(0.693145751953125), F(1.428606765330187e-06)
_C6, _C5, _C4, _C3, _C2 = F(1 / 720), F(1 / 120), F(1 / 24), F(1 / 6), F(0.5)
_ONE, _ZERO, _LIMIT = F(1.0), F(0.0), F(-103.5)
_I127, _I23, _I1 = np.int32(127), np.int32(23), np.int32(1)


@intrinsic
def _fma32(typingctx, a, b, c):  # type: ignore[no-untyped-def]
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        f = ir.FloatType()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(f, [f, f, f]), "llvm.fma.f32"
        )
        return builder.call(fn, args)

    return sig, codegen


@njit(forceinline=True, **_OPTS)
def _exp32(d):  # type: ignore[no-untyped-def]
    """exp in float32 arithmetic: Cody-Waite reduction, degree-6 Taylor, two-factor scale."""
    t = _fma32(d, _LOG2E, _SHIFT)
    nf = t - _SHIFT
    r = _fma32(-nf, _LN2_HI, d)
    r = _fma32(-nf, _LN2_LO, r)
    q = _fma32(_fma32(_fma32(_fma32(_C6, r, _C5), r, _C4), r, _C3), r, _C2)
    p = _ONE + _fma32(r * r, q, r)
    n = K._f32_as_i32(t) - _SHIFT_BITS
    n1 = n >> _I1
    s1 = K._i32_as_f32((n1 + _I127) << _I23)
    s2 = K._i32_as_f32((n - n1 + _I127) << _I23)
    return _ZERO if d < _LIMIT else (p * s1) * s2


@njit(**_OPTS)
def _float32_bare(xb, m):  # type: ignore[no-untyped-def]
    K.wide()
    s = 0.0
    ties = 0
    for j in range(xb.size):
        d = xb[j] - m
        e = _exp32(d)
        ties += 1 if d == _ZERO else 0
        s = K._sum_add(s, 0.0 if d == _ZERO else np.float64(e))
    return s, ties


@njit(**_OPTS)
def _float32_twosum(xb, m):  # type: ignore[no-untyped-def]
    K.wide()
    s = 0.0
    ties = 0
    for j in range(xb.size):
        xj = xb[j]
        d = xj - m
        bb = d - xj
        low = (xj - (d - bb)) + (-m - bb)  # x - m = d + low exactly
        e = _exp32(d)
        e = _fma32(e, low, e)
        ties += 1 if d == _ZERO else 0
        s = K._sum_add(s, 0.0 if d == _ZERO else np.float64(e))
    return s, ties


@njit
def _repeat_max(xb, reps):  # type: ignore[no-untyped-def]
    s = 0.0
    for _ in range(reps):
        s += K.max_f32(xb)[0]
    return s


@njit
def _repeat(exp_sum, xb, m, reps):  # type: ignore[no-untyped-def]
    s = 0.0
    for _ in range(reps):
        s += exp_sum(xb, m)[0]
    return s


def _rate(fn: Callable[[], object], elements: int) -> float:
    fn()  # compile / warm up
    times = []
    for _ in range(9):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return elements / statistics.median(times) / 1e9


def main() -> None:
    rng = np.random.default_rng(0)
    xb = (rng.standard_normal(1024) * 3).astype(np.float32)
    m = float(xb.max())
    reps = 20_000
    n = xb.size * reps
    rows = [
        ("row maximum, integer keys (max_f32)", _rate(lambda: _repeat_max(xb, reps), n)),
        (
            "exp + sum, float64 arithmetic (the kernels' exp_sum_f32)",
            _rate(lambda: _repeat(K.exp_sum_f32, xb, m, reps), n),
        ),
        (
            "exp + sum, float32 arithmetic, bare (fast-math kind)",
            _rate(lambda: _repeat(_float32_bare, xb, np.float32(m), reps), n),
        ),
        (
            "exp + sum, float32 arithmetic, x - max error kept (TwoSum)",
            _rate(lambda: _repeat(_float32_twosum, xb, np.float32(m), reps), n),
        ),
    ]
    big = rng.standard_normal(2**27, dtype=np.float32)  # 512 MiB
    rows.append(
        ("reading memory: max_f32 over 512 MiB float32", _rate(lambda: K.max_f32(big), big.size))
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"single-threaded, G elements/s ({cores} cores on this machine)\n")
    print("| loop | G/s per core |")
    print("|---|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate:.2f} |")


if __name__ == "__main__":
    main()
