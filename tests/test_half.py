"""float16 and bfloat16 inputs on the fused kernels.

The kernels convert row blocks of a half-precision input on the bits (``_numba.load_half``,
``_numba.store_half``); these are checked exhaustively against NumPy's float16 casts and
ml_dtypes' bfloat16 casts. Every entry point is then compared with the reference path (which
computes in float64 and rounds once): both are within 0.5 ulp (plus the kernels' 3e-9 relative)
of the exact result, so they differ by at most 1 ulp of the input dtype. The memory tests run
in a subprocess under tracemalloc: no input-sized temporary on the fast path.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import numpy as np
import pytest

import crossentropy as ce

from ._support.paths import HAS_NUMBA, on_path

pytestmark = pytest.mark.skipif(not HAS_NUMBA, reason="the half kernels need numba")

ml_dtypes = pytest.importorskip("ml_dtypes")

#: dtype, mantissa bits, exponent bias
FORMATS = {
    "float16": (np.dtype(np.float16), 10, 15),
    "bfloat16": (np.dtype(ml_dtypes.bfloat16), 7, 127),
}
DTYPES = list(FORMATS)


def _numba() -> Any:
    from crossentropy._kernels import _numba

    return _numba


def _cast(v: np.ndarray, dt: np.dtype[Any]) -> np.ndarray:
    with np.errstate(all="ignore"):
        return v.astype(dt)


@pytest.mark.parametrize("name", DTYPES)
def test_load_half_is_exact_for_every_bit_pattern(name: str) -> None:
    dt, mbits, bias = FORMATS[name]
    bits = np.arange(1 << 16, dtype=np.uint16).reshape(4, -1)
    got = np.empty(bits.shape)
    _numba().load_half(bits, got, mbits, bias)
    want = _cast(bits.view(dt), np.dtype(np.float64))
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.array_equal(np.signbit(got[~nan]), np.signbit(want[~nan]))  # -0.0 stays -0.0


@pytest.mark.parametrize("name", DTYPES)
def test_store_half_rounds_once_to_nearest_even(name: str) -> None:
    dt, mbits, bias = FORMATS[name]
    every = _cast(np.arange(1 << 16, dtype=np.uint16).view(dt), np.dtype(np.float64))
    finite = np.unique(every[np.isfinite(every)])  # sorted, -0.0 and 0.0 merged
    mids = (finite[:-1] + finite[1:]) / 2  # ties: to even
    rng = np.random.default_rng(14)
    lo = -20 if name == "float16" else -140
    rand = rng.standard_normal(20000) * np.exp2(rng.uniform(lo, 20, 20000))
    big = [np.inf, -np.inf, np.nan, -np.nan, 1e300, -1e300, 5e-324, -5e-324, 0.0, -0.0]
    v = np.concatenate(
        [finite, mids, np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf), rand, big]
    ).reshape(1, -1)
    got = np.empty(v.shape, np.uint16)
    _numba().store_half(v, got, mbits, bias)
    want = _cast(v, dt).view(np.uint16)  # NumPy and ml_dtypes round float64 once
    nan = np.isnan(v)
    assert np.array_equal(got[~nan], want[~nan])
    assert np.all(np.isnan(got[nan].view(dt).astype(np.float64)))


def _ulp(ref: np.ndarray, dt: np.dtype[Any]) -> np.ndarray:
    """One ulp of ``dt`` at each of ``ref``'s values (the subnormal spacing near 0)."""
    _, mbits, bias = FORMATS[dt.name]
    a = np.abs(np.asarray(ref, np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
    return np.exp2(np.maximum(e, 1 - bias) - mbits)


def _both(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any, list[str]]:
    with on_path("fast", min_size=0) as calls:
        fast = fn(*args, **kwargs)
    with on_path("reference"):
        ref = fn(*args, **kwargs)
    return fast, ref, calls


def _close(fast: Any, ref: Any, dt: np.dtype[Any]) -> None:
    f = np.asarray(fast)
    r = np.asarray(ref)
    assert f.dtype == r.dtype == dt
    f64, r64 = f.astype(np.float64), r.astype(np.float64)
    assert np.array_equal(np.isnan(f64), np.isnan(r64))
    ok = ~np.isnan(r64) & (f64 != r64)  # equal infinities included
    assert np.all(np.abs(f64[ok] - r64[ok]) <= _ulp(r64[ok], dt))


def _logits(dt: np.dtype[Any], shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _cast(rng.standard_normal(shape) * 4, dt)


CASES = ["sparse", "sparse_smooth", "dense", "sigmoid", "weighted", "bce_probs"]


def _call(case: str, x: np.ndarray, **kw: Any) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    n, c = x.shape
    rng = np.random.default_rng(1)
    if case in ("sparse", "sparse_smooth"):
        k = rng.integers(0, c, n)
        ls = 0.1 if case == "sparse_smooth" else 0.0
        opts = {"from_logits": True, "label_smoothing": ls, **kw}
        return ce.sparse_categorical_crossentropy, (k, x), opts
    if case == "dense":
        y = rng.random((n, c))
        y = _cast(y / y.sum(axis=1, keepdims=True), x.dtype)
        opts = {"from_logits": True, "validate": False, **kw}
        return ce.categorical_crossentropy, (y, x), opts
    z = _cast(rng.random((n, c)), x.dtype)
    if case == "sigmoid":
        return ce.sigmoid_cross_entropy_with_logits, (z, x), kw
    if case == "weighted":
        return ce.weighted_cross_entropy_with_logits, (z, x, 2.5), kw
    p = _cast(rng.uniform(0.01, 0.99, (n, c)), x.dtype)
    return ce.binary_crossentropy, (z, p), kw


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_value_matches_reference(name: str, case: str) -> None:
    dt = FORMATS[name][0]
    fn, args, kw = _call(case, _logits(dt, (37, 300)))
    fast, ref, calls = _both(fn, *args, **kw)
    assert calls
    assert all(c.endswith("_half") for c in calls)
    _close(fast, ref, dt)


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("where", ["new", "out", "in_place"])
def test_gradient_matches_reference(name: str, case: str, where: str) -> None:
    dt = FORMATS[name][0]
    x0 = _logits(dt, (37, 300))
    results = []
    for path in ("fast", "reference"):
        x = x0.copy()
        fn, args, kw = _call(case, x, reduction="mean")
        out = {"new": None, "out": np.empty_like(x), "in_place": x}[where]
        with on_path(path, min_size=0) as calls:
            v, g = ce.value_and_grad(fn)(*args, **kw, **({} if out is None else {"out": out}))
        if path == "fast":
            assert calls
            assert all(c.endswith("_half") for c in calls)
        assert g.dtype == dt
        if out is not None:
            assert g is out
        results.append((v, g))
    (vf, gf), (vr, gr) = results
    _close(vf, vr, dt)
    _close(gf, gr, dt)


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("fn", [ce.logsumexp, ce.log_softmax, ce.softmax])
def test_primitives_match_reference(name: str, fn: Any) -> None:
    dt = FORMATS[name][0]
    x = _logits(dt, (41, 513))
    fast, ref, calls = _both(fn, x, axis=-1)
    assert calls
    assert all(c.endswith("_half") for c in calls)
    _close(fast, ref, dt)


@pytest.mark.parametrize("name", DTYPES)
@pytest.mark.parametrize("in_place", [False, True])
def test_rows_left_to_the_reference_path_are_recomputed(name: str, in_place: bool) -> None:
    """Rows the kernel reports (NaN, +inf, all -inf) are computed by the reference code, from
    the logits as they were: in place too (the block stores them back unchanged first)."""
    dt = FORMATS[name][0]
    x0 = _logits(dt, (9, 300))
    x0[2, 5] = np.nan
    x0[4, :] = -np.inf
    x0[6, 7] = np.inf
    k = np.zeros(9, np.int64)
    vg = ce.value_and_grad(ce.sparse_categorical_crossentropy)
    results = []
    for path in ("fast", "reference"):
        x = x0.copy()
        with on_path(path, min_size=0):
            results.append(vg(k, x, from_logits=True, validate=False, out=x if in_place else None))
    (vf, gf), (vr, gr) = results
    _close(vf, vr, dt)
    _close(gf, gr, dt)


_MEMORY = """
import sys, tracemalloc
import numpy as np
import crossentropy as ce
from crossentropy import _kernels
dt = np.float16
if sys.argv[1] == "bfloat16":
    import ml_dtypes
    dt = ml_dtypes.bfloat16
x = (np.random.default_rng(0).standard_normal((512, 8192)) * 3).astype(dt)
k = np.zeros(512, np.int64)
vg = ce.value_and_grad(ce.sparse_categorical_crossentropy)
calls = []
run_rows = _kernels.run_rows
_kernels.run_rows = lambda kernel, *a: (calls.append(kernel.__name__), run_rows(kernel, *a))[1]
ce.sparse_categorical_crossentropy(k, x, from_logits=True)  # compile, allocate the pool
vg(k, x, from_logits=True, out=x)
tracemalloc.start()
ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean")
fwd = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
vg(k, x, from_logits=True, reduction="mean", out=x)
inplace = tracemalloc.get_traced_memory()[1]
tracemalloc.reset_peak()
vg(k, x, from_logits=True, reduction="mean")
new = tracemalloc.get_traced_memory()[1]
print(x.nbytes, fwd, inplace, new, "ml_dtypes" in sys.modules, sorted(set(calls)))
"""


@pytest.mark.parametrize("name", DTYPES)
def test_no_input_sized_copy(name: str) -> None:
    """Forward and in place: a few row blocks per thread (the 8 MB input is not copied); a new
    gradient: that gradient (input-sized, in the input's dtype) and the blocks."""
    code = textwrap.dedent(_MEMORY)
    env = {**os.environ, "CROSSENTROPY_NUM_THREADS": "2", "CROSSENTROPY_FAST": "1"}
    env_out = subprocess.run(
        [sys.executable, "-c", code, name], capture_output=True, text=True, check=True, env=env
    ).stdout.split(maxsplit=4)
    nbytes, fwd, inplace, new = (int(v) for v in env_out[:4])
    blocks = 2 * 3 * 8 * 32768  # 2 threads x 3 float64 blocks of _HALF_BLOCK elements
    assert fwd < nbytes // 4 + blocks
    assert inplace < nbytes // 4 + blocks
    assert new < nbytes + nbytes // 4 + blocks
    assert env_out[4].startswith(str(name == "bfloat16"))  # ml_dtypes: only where the user has it
    assert "sparse_softmax_f32_half" in env_out[4]


def test_float16_alone_does_not_import_ml_dtypes() -> None:
    code = _MEMORY.replace("import ml_dtypes", "raise SystemExit")
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), "float16"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "CROSSENTROPY_FAST": "1"},
    ).stdout.split(maxsplit=4)
    assert out[4].startswith("False")


@pytest.mark.parametrize("name", DTYPES)
def test_memmapped_logits_take_the_kernels(name: str, tmp_path: Any) -> None:
    """``np.load(..., mmap_mode="r")`` gives a ``np.memmap``: read in place, the gradient into a
    writable memmap (the route for files larger than memory)."""
    dt = FORMATS[name][0]
    x = _logits(dt, (64, 300))
    np.save(tmp_path / "x.npy", x.view(np.uint16))
    mm = np.load(tmp_path / "x.npy", mmap_mode="r").view(dt)
    assert type(mm) is np.memmap
    g_mm = np.lib.format.open_memmap(tmp_path / "g.npy", "w+", np.uint16, x.shape).view(dt)
    k = np.arange(64) % 300
    vg = ce.value_and_grad(ce.sparse_categorical_crossentropy)
    with on_path("fast", min_size=0) as calls:
        v_mm, g = vg(k, mm, from_logits=True, reduction="sum", out=g_mm)
        v, g_new = vg(k, x, from_logits=True, reduction="sum")
    assert calls == ["sparse_softmax_f32_half"] * 2
    assert g is g_mm
    assert v_mm == v
    assert np.array_equal(np.asarray(g_mm).view(np.uint16), g_new.view(np.uint16))


@pytest.mark.parametrize("mode", ["r", "c"])
def test_memmapped_float32(mode: str, tmp_path: Any) -> None:
    """A float32 memmap, read-only ("r") or copy-on-write ("c"), takes the kernels and gives the
    array's result."""
    x = _logits(np.dtype(np.float32), (64, 300))
    np.save(tmp_path / "x.npy", x)
    mm = np.load(tmp_path / "x.npy", mmap_mode=mode)
    k = np.arange(64) % 300
    with on_path("fast", min_size=0) as calls:
        v_mm = ce.sparse_categorical_crossentropy(k, mm, from_logits=True)
        v = ce.sparse_categorical_crossentropy(k, x, from_logits=True)
    assert calls == ["sparse_softmax_f32"] * 2
    assert np.array_equal(v_mm, v)
