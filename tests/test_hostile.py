"""Regression tests for the hostile inputs of issue 13 (library core), one named after each."""

from __future__ import annotations

import mmap
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossentropy as ce
from tests._support.paths import PATHS, on_path

RNG = np.random.default_rng(13)
N, C = 64, 40  # 2560 elements: above the kernels' MIN_SIZE


def _readonly(a: Any) -> np.ndarray:
    a = np.array(a)
    a.flags.writeable = False
    return a


def _vg(fn: Callable[..., Any]) -> Callable[..., Any]:
    return ce.value_and_grad(fn)


def _calls(dt: Any) -> dict[str, Callable[[Callable[[Any], np.ndarray]], Any]]:
    """Every fused function, on inputs made by ``make`` (read-only, a memmap, ...)."""
    x = RNG.normal(size=(N, C)).astype(dt)
    p = RNG.uniform(0.01, 0.99, size=(N, C)).astype(dt)
    q = (p / p.sum(-1, keepdims=True)).astype(dt)
    k = RNG.integers(0, C, N)
    yb = (RNG.uniform(size=(N, C)) > 0.5).astype(dt)
    oh = np.eye(C, dtype=dt)[k]
    return {
        "sparse": lambda m: ce.sparse_softmax_cross_entropy_with_logits(m(k), m(x)),
        "sparse_vg": lambda m: _vg(ce.sparse_softmax_cross_entropy_with_logits)(m(k), m(x)),
        "sparse_ls_vg": lambda m: _vg(ce.sparse_categorical_crossentropy)(
            m(k), m(x), from_logits=True, label_smoothing=0.1
        ),
        "dense_vg": lambda m: _vg(ce.softmax_cross_entropy_with_logits)(m(oh), m(x)),
        "softmax": lambda m: ce.softmax(m(x)),
        "log_softmax": lambda m: ce.log_softmax(m(x)),
        "logsumexp": lambda m: ce.logsumexp(m(x), axis=-1),
        "sigmoid_vg": lambda m: _vg(ce.sigmoid_cross_entropy_with_logits)(m(yb), m(x)),
        "sigmoid_w": lambda m: ce.sigmoid_cross_entropy_with_logits(
            m(yb), m(x), sample_weight=m(p), reduction="sum"
        ),
        "bce_vg": lambda m: _vg(ce.binary_crossentropy)(m(yb), m(p)),
        "cce_vg": lambda m: _vg(ce.categorical_crossentropy)(m(oh), m(q * 20), from_logits=True),
    }


def _same(a: Any, b: Any, rtol: float = 0.0) -> None:
    if isinstance(a, tuple):
        for u, v in zip(a, b, strict=True):
            np.testing.assert_allclose(u, v, rtol=rtol, atol=0)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0)


# --------------------------------------------------------------------------------------------
# Read-only, memory-mapped, strided inputs


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_readonly_arrays_fused_functions(dt: Any) -> None:
    for name, call in _calls(dt).items():
        with on_path("fast") as ran:
            want = call(np.array)
        assert ran, name  # the kernels ran (the inputs are above MIN_SIZE)
        with on_path("fast") as ran:
            got = call(_readonly)
        assert ran, name
        _same(got, want)
        with on_path("fast"):
            _same(call(np.array), want)  # and a later call still works


def test_readonly_memmap_and_frombuffer_inputs(tmp_path: Path) -> None:
    x = RNG.normal(size=(N, C))
    k = RNG.integers(0, C, N)
    f = tmp_path / "x.bin"
    x.tofile(f)
    mm = np.memmap(f, dtype=np.float64, mode="r", shape=x.shape)
    buf = np.frombuffer(x.tobytes(), dtype=np.float64).reshape(x.shape)
    assert not buf.flags.writeable
    with on_path("fast"):
        want = _vg(ce.sparse_softmax_cross_entropy_with_logits)(k, x)
        for arr in (mm, buf):
            got = _vg(ce.sparse_softmax_cross_entropy_with_logits)(k, arr)
            # a memmap may take the reference path: both within their bounds (4 ulp)
            _same(got, want, 1e-15)
            _same(ce.log_softmax(arr), ce.log_softmax(x), 1e-15)
    with open(f, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
        ro = np.frombuffer(m, dtype=np.float64).reshape(x.shape)
        with on_path("fast"):
            _same(ce.softmax(ro), ce.softmax(x))
        del ro


@pytest.mark.parametrize("path", PATHS)
def test_strided_and_negative_stride_inputs(path: str) -> None:
    x = RNG.normal(size=(2 * N, 2 * C))
    k = RNG.integers(0, C, N)
    views = {
        "strided": x[::2, ::2],
        "negative": x[::-2, ::-2],
        "fortran": np.asfortranarray(x[:N, :C]),
        "readonly_negative": _readonly(x)[::-2, ::-2],
    }
    for name, v in views.items():
        c = np.ascontiguousarray(v)
        with on_path(path):
            _same(_vg(ce.sparse_softmax_cross_entropy_with_logits)(k, v),
                  _vg(ce.sparse_softmax_cross_entropy_with_logits)(k, c))  # fmt: skip
            _same(ce.log_softmax(v), ce.log_softmax(c))
            _same(ce.logsumexp(v, axis=0), ce.logsumexp(c, axis=0))
        assert name


# --------------------------------------------------------------------------------------------
# set_num_threads while kernels run


def test_set_num_threads_while_kernels_run() -> None:
    x = RNG.normal(size=(512, 256))  # above the size where the pool is used
    k = RNG.integers(0, 256, 512)
    with on_path("fast"):
        want = ce.sparse_softmax_cross_entropy_with_logits(k, x)
    errors: list[BaseException] = []
    stop = threading.Event()

    def work() -> None:
        try:
            for _ in range(40):
                np.testing.assert_array_equal(
                    ce.sparse_softmax_cross_entropy_with_logits(k, x), want
                )
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def toggle() -> None:
        n = 1
        while not stop.is_set():
            ce.set_num_threads(n % 4 + 1)
            n += 1

    before = ce.get_num_threads()
    workers = [threading.Thread(target=work) for _ in range(4)]
    t = threading.Thread(target=toggle)
    with on_path("fast") as ran:  # set once here: on_path itself is not thread-safe
        t.start()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        stop.set()
        t.join()
    ce.set_num_threads(before)
    assert ran.count("sparse_softmax") == 4 * 40
    assert not errors, errors[0]


# --------------------------------------------------------------------------------------------
# p = -0.0 is probability 0


def _neg_zero_cases(dt: Any) -> list[tuple[Callable[..., Any], np.ndarray, np.ndarray]]:
    n = 2048
    rows = np.ones((n, 1))
    return [
        (ce.binary_crossentropy, rows * [1.0, 0.0], rows * np.array([0.0, 0.0], dt)),
        (ce.binary_focal_crossentropy, rows * [1.0, 0.0], rows * np.array([0.0, 0.0], dt)),
        (ce.categorical_crossentropy, rows * [0.0, 1.0], rows * np.array([1.0, 0.0], dt)),
        (ce.categorical_focal_crossentropy, rows * [0.0, 1.0], rows * np.array([1.0, 0.0], dt)),
        (ce.sparse_categorical_crossentropy, np.ones(n, int), rows * np.array([1.0, 0.0], dt)),
    ]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_negative_zero_probability_bce(path: str, dt: Any) -> None:
    """-0.0 gives what +0.0 gives (value and gradient): +inf loss, -inf gradient."""
    for fn, y, p in _neg_zero_cases(dt):
        neg = p.copy()
        neg[neg == 0.0] = -0.0
        assert np.signbit(neg).any()
        with on_path(path), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for red in ("none", "sum"):
                v0, g0 = _vg(fn)(y, p, reduction=red)
                v1, g1 = _vg(fn)(y, neg, reduction=red)
                np.testing.assert_array_equal(v1, v0, err_msg=fn.__name__)
                np.testing.assert_array_equal(g1, g0, err_msg=fn.__name__)
                assert not np.isnan(g1).any(), fn.__name__
                assert np.isneginf(g1).any(), fn.__name__  # the sign of +0.0's gradient


# --------------------------------------------------------------------------------------------
# "mean" with extreme (valid) sample weights


def _weighted_losses() -> list[tuple[str, Callable[..., Any], Any, np.ndarray]]:
    n, c = 8, 5
    x = RNG.normal(size=(n, c)) * 3
    k = RNG.integers(0, c, n)
    p = RNG.uniform(0.05, 0.95, size=(n, c))
    q = p / p.sum(-1, keepdims=True)
    yb = (RNG.uniform(size=(n, c)) > 0.5).astype(float)
    return [
        ("sparse", ce.sparse_softmax_cross_entropy_with_logits, k, x),
        ("dense", ce.softmax_cross_entropy_with_logits, np.eye(c)[k], x),
        ("cce", ce.categorical_crossentropy, np.eye(c)[k], q),
        ("bce", ce.binary_crossentropy, yb, p),
        ("focal", ce.categorical_focal_crossentropy, np.eye(c)[k], q),
        ("sigmoid", ce.sigmoid_cross_entropy_with_logits, yb, x),
    ]


def _ulps(got: float, want: Any) -> float:
    import mpmath

    return float(abs(mpmath.mpf(got) - want) / mpmath.mpf(np.spacing(abs(got))))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("scale", [1e308, 1e300, 1e-300, 1e-320, 5e-324])
def test_mean_extreme_sample_weights(path: str, scale: float) -> None:
    import mpmath

    want0 = ce.sparse_softmax_cross_entropy_with_logits([0, 1], np.eye(2), reduction="mean")
    with on_path(path, min_size=0):
        got0 = ce.sparse_softmax_cross_entropy_with_logits(
            [0, 1], np.eye(2), sample_weight=scale, reduction="mean"
        )
    assert got0 == want0  # the example: 0.0 at 1e308 before
    for name, fn, y, x in _weighted_losses():
        per = fn(y, x)  # unweighted per-sample (or per-element) losses, "none"
        shape = per.shape
        with on_path(path, min_size=0):
            plain = _vg(fn)(y, x, reduction="mean")
            equal = _vg(fn)(y, x, sample_weight=np.full(shape, scale), reduction="mean")
        # equal weights: the plain mean, value and gradient, bit for bit
        assert equal.value == plain.value, name
        np.testing.assert_array_equal(equal.grad, plain.grad, err_msg=name)
        # unequal weights: the exact weighted mean of the per-sample losses, within 4 ulp
        ratios = RNG.choice([1.0, 0.5, 0.125, 0.0, 0.75], size=shape)
        ratios.flat[0] = 1.0
        w = ratios * scale
        with on_path(path, min_size=0):
            got = fn(y, x, sample_weight=w, reduction="mean")
        with mpmath.workprec(300):
            num = mpmath.fsum(mpmath.mpf(float(a)) * mpmath.mpf(float(b))
                              for a, b in zip(w.flat, per.flat, strict=True))  # fmt: skip
            den = mpmath.fsum(mpmath.mpf(float(a)) for a in w.flat)
            exact = num / den
            assert np.isfinite(got), name
            assert _ulps(float(got), exact) <= 4, (name, float(got), exact)
