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


# --------------------------------------------------------------------------------------------
# out=


@pytest.mark.parametrize("path", PATHS)
def test_in_place_out_error_shows_the_users_value(path: str) -> None:
    p = np.full((N, C), 0.5)
    p[N - 3, 7] = 1.5  # rows before it would be overwritten by gradients of about -2
    with on_path(path), pytest.raises(ValueError, match=r"got 1\.5 at index \(61, 7\)"):
        _vg(ce.binary_crossentropy)(np.ones((N, C)), p, out=p)


def test_out_check_bfloat16_predictions() -> None:
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = np.array([1.0, 2.0, 3.0], ml_dtypes.bfloat16)
    vg = _vg(ce.softmax_cross_entropy_with_logits)
    for bad in (np.zeros((4, 3), np.float32), np.zeros(3, np.float32), np.zeros(4, x.dtype)):
        with pytest.raises(ValueError, match=r"^softmax_cross_entropy_with_logits: out must have"):
            vg([0.0, 0.0, 1.0], x, out=bad)
    buf = np.zeros(3, x.dtype)
    got = vg([0.0, 0.0, 1.0], x, out=buf)
    assert got.grad is buf
    np.testing.assert_array_equal(buf, vg([0.0, 0.0, 1.0], x).grad)


@pytest.mark.parametrize("path", PATHS)
def test_out_memmap_accepted_masked_refused(path: str, tmp_path: Path) -> None:
    x = RNG.normal(size=(N, C))
    k = RNG.integers(0, C, N)
    vg = _vg(ce.sparse_softmax_cross_entropy_with_logits)
    mm = np.memmap(tmp_path / "g.bin", dtype=np.float64, mode="w+", shape=x.shape)
    with on_path(path):
        want = vg(k, x)
        got = vg(k, x, out=mm)
    assert got.grad is mm
    np.testing.assert_array_equal(mm, want.grad)
    with pytest.raises(TypeError, match=r"out must be a NumPy array .*; got MaskedArray"):
        vg(k, x, out=np.ma.masked_array(np.zeros_like(x)))


# --------------------------------------------------------------------------------------------
# Errors that name the function and the argument


def test_pandas_inputs_taken_as_numpy() -> None:
    pd = pytest.importorskip("pandas")
    x = RNG.normal(size=(6, 3))
    k = RNG.integers(0, 3, 6)
    df = pd.DataFrame(x)
    np.testing.assert_array_equal(
        ce.sparse_softmax_cross_entropy_with_logits(pd.Series(k), df),
        ce.sparse_softmax_cross_entropy_with_logits(k, x),
    )
    np.testing.assert_array_equal(ce.softmax(df), ce.softmax(x))
    p = RNG.uniform(0.1, 0.9, 6)
    np.testing.assert_array_equal(
        ce.binary_crossentropy(pd.Series(p > 0.5), pd.Series(p)),
        ce.binary_crossentropy(p > 0.5, p),
    )


@pytest.mark.parametrize(
    ("call", "exc", "message"),
    [
        (
            lambda: ce.softmax("abc"),
            TypeError,
            r"^softmax: x must have a real floating dtype; got dtype <U3\.$",
        ),
        (
            lambda: ce.binary_crossentropy("a", [0.5]),
            TypeError,
            r"^binary_crossentropy: y_true must have",
        ),
        (
            lambda: ce.softmax(object()),
            TypeError,
            r"^softmax: x must have a real floating dtype; got dtype object",
        ),
        (
            lambda: ce.sparse_softmax_cross_entropy_with_logits(
                [0], [[1.0, 2.0]], class_weight="a"
            ),
            TypeError,
            r"^sparse_softmax_cross_entropy_with_logits: class_weight must be real numbers; "
            r"got dtype <U1\.$",
        ),
        (
            lambda: ce.sparse_softmax_cross_entropy_with_logits(
                [0], [[1.0, 2.0]], reduction=np.array(["mean", "sum"])
            ),
            ValueError,
            r"^sparse_softmax_cross_entropy_with_logits: reduction must be one of 'none', "
            r"'mean', 'sum'; got array",
        ),
        (
            lambda: ce.softmax([[1.0, 2.0], [1.0]]),
            TypeError,
            r"^softmax: x must be an array of real floats; got .*inhomogeneous part\.$",
        ),
        (
            lambda: ce.sparse_softmax_cross_entropy_with_logits(np.zeros(3, int), np.zeros((3, 0))),
            ValueError,
            r"^sparse_softmax_cross_entropy_with_logits: the predictions must have at least 1 "
            r"class for labels to index; got 0 classes",
        ),
        (
            lambda: ce.binary_crossentropy(
                np.ones(3), np.ma.masked_array([0.5, 0.5, 0.5], [0, 1, 0])
            ),
            TypeError,
            r"^binary_crossentropy: y_pred must be an array of real floats; "
            r"got a numpy\.ma\.MaskedArray, "
            r"whose mask would be ignored \(pass its data, .* and the mask as sample_weight",
        ),
        (
            lambda: ce.sparse_softmax_cross_entropy_with_logits(
                [0], [[1.0, 2.0]], sample_weight=np.ma.masked_array([1.0], [1])
            ),
            TypeError,
            r"^sparse_softmax_cross_entropy_with_logits: sample_weight must be an array of real "
            r"numbers; "
            r"got a numpy\.ma\.MaskedArray",
        ),
    ],
)
def test_errors_name_function_and_argument(
    call: Callable[[], Any], exc: type, message: str
) -> None:
    with pytest.raises(exc, match=message) as info:
        call()
    text = str(info.value)
    assert "'s " not in text
    assert not text.endswith("..")


# --------------------------------------------------------------------------------------------
# Label smoothing with a huge finite logit


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("cw", [None, [1.0, 2.0, 3.0]])
def test_label_smoothing_huge_finite_logit(path: str, cw: Any) -> None:
    import mpmath

    x = np.array([[1.7e308, 0.0, -1.0], [0.5, 1.0e308, -1.0e308]])
    k = np.array([0, 1])
    ls = 0.1
    w = [1.0, 1.0, 1.0] if cw is None else cw
    with on_path(path, min_size=0):
        got = ce.sparse_categorical_crossentropy(
            k, x, from_logits=True, label_smoothing=ls, class_weight=cw
        )
        if cw is None:  # the dense loss (no class_weight there): the same values
            dense = ce.categorical_crossentropy(
                np.eye(3)[k], x, from_logits=True, label_smoothing=ls
            )
            np.testing.assert_allclose(dense, got, rtol=1e-15)
    with mpmath.workprec(2000):
        for i in range(2):
            row = [mpmath.mpf(float(v)) for v in x[i]]
            m = max(row)
            lse = m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in row))
            nll = [lse - v for v in row]
            a = [(1 - mpmath.mpf(ls)) * (j == k[i]) + mpmath.mpf(ls) / 3 for j in range(3)]
            exact = mpmath.fsum(a[j] * w[j] * nll[j] for j in range(3))
            assert np.isfinite(got[i])
            assert _ulps(float(got[i]), exact) <= 4, (i, float(got[i]), exact)
