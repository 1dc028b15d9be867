"""The fused kernels (``crossentropy._kernels``) against the reference path and against mpmath.

Each test computes the same thing twice, with the fast path on and off
(``tests/_support/paths.on_path``), and compares: the fast path must keep the reference path's
accuracy bounds (float64 within 4 ulp of the exact value, float32 within 2), its edge semantics
(infinities, ignored samples, zero weights) and its errors, message for message. A few rows are
also checked against mpmath.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import mpmath
import numpy as np
import pytest

import crossentropy as ce
from crossentropy import _kernels
from tests._support.paths import on_path
from tests.accuracy import reference as R
from tests.accuracy.ulp import exact_floats, max_ulp_error

pytest.importorskip("numba")

FLOATS = [np.float32, np.float64]
MAX_ULP = {np.float32: 2, np.float64: 4}  # from the exact value (the accuracy bounds)
# Fast path against reference path: each is within MAX_ULP of the exact value, on either side.
REF_ULP = {np.float32: 2, np.float64: 8}
# The sparse kernel each dtype takes (float32: one pass over memory).
SPARSE_KERNEL = {np.float32: "sparse_softmax_f32", np.float64: "sparse_softmax"}


@pytest.fixture(autouse=True)
def kernel_calls() -> Iterator[list[str]]:
    """The fast path on for every test, at every size, and the names of the kernels it ran.

    Without this record, a fast path that always fell back would pass every comparison with the
    reference path: each such test asserts that its kernel ran.
    """
    with on_path("fast", min_size=0) as calls:  # small test inputs take the fast path too
        yield calls


def reference(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``fn(*args, **kwargs)`` on the reference path (and no kernel ran)."""
    with on_path("reference") as calls:
        out = fn(*args, **kwargs)
    assert calls == [], calls
    return out


def ulp_vs_exact(computed, exact, dtype) -> float:  # type: ignore[no-untyped-def]
    """Largest error of ``computed`` in ULP of ``dtype`` against exact mpmath values."""
    return max_ulp_error(computed, R.encode_all(exact), dtype)


def ulp_diff(a, b, dtype) -> float:  # type: ignore[no-untyped-def]
    """Largest error of ``a`` in ULP of ``dtype`` against ``b`` taken as exact (the shared
    metric: equal infinities and NaN against NaN are 0, anything against an exact 0 is inf)."""
    return max_ulp_error(a, exact_floats(b), dtype)


def logits(rng, shape, dtype, scale=3.0):  # type: ignore[no-untyped-def]
    return (rng.standard_normal(shape) * scale).astype(dtype)


# --------------------------------------------------------------------------------------------
# Exact references (tests/accuracy/reference.py: 200 bits, more where a subtraction cancels)


def mp_sparse(x_row, k):  # type: ignore[no-untyped-def]
    """The exact loss and gradient of one row with label ``k``."""
    xs = R.as_mp(x_row)
    onehot = [mpmath.mpf(1) if j == k else mpmath.mpf(0) for j in range(len(xs))]
    (loss, grad), _ = R.evaluate(R.categorical_logits, onehot, xs, range(len(xs)))
    return loss, grad


@pytest.mark.parametrize("dtype", FLOATS)
def test_sparse_matches_mpmath(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    x = logits(rng, (6, 300), dtype)
    x[1] *= 10  # wide range: exponentials down to ~1e-40
    x[2, 7] = 35.0  # confident: p ~ 1 at the argmax, loss ~ 1e-13
    k = rng.integers(0, 300, 6)
    k[2] = 7
    value, g = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(k, x)
    for i in range(6):
        loss_ex, grad_ex = mp_sparse(x[i], int(k[i]))
        assert ulp_vs_exact(value[i], loss_ex, dtype) <= MAX_ULP[dtype]
        assert ulp_vs_exact(g[i], grad_ex, dtype) <= MAX_ULP[dtype]
    assert SPARSE_KERNEL[dtype] in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_primitives_match_mpmath(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(1)
    x = logits(rng, (4, 200), dtype, scale=8.0)
    lse, lsm, sm = ce.logsumexp(x), ce.log_softmax(x), ce.softmax(x)
    for i in range(4):
        (nll, p, _, lse_ex), _ = R.evaluate(R.softmax_parts, R.as_mp(x[i]))
        assert ulp_vs_exact(lse[i], lse_ex, dtype) <= MAX_ULP[dtype]
        assert ulp_vs_exact(lsm[i], [-v for v in nll], dtype) <= MAX_ULP[dtype]
        assert ulp_vs_exact(sm[i], p, dtype) <= MAX_ULP[dtype]
    assert "softmax_rows" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_sigmoid_and_binary_match_mpmath(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(2)
    x = np.concatenate([logits(rng, 60, dtype, 10.0), np.array([0, 40, -40, 1e-8, 700], dtype)])
    z = (rng.uniform(size=x.size) < 0.5).astype(dtype)
    value, g = ce.value_and_grad(ce.sigmoid_cross_entropy_with_logits)(z, x)
    p = rng.uniform(size=x.size).astype(dtype)
    p[:4] = [1e-30, 0.3, 0.6, 1 - 1e-7]
    bv, bg = ce.value_and_grad(ce.binary_crossentropy)(z[None], p[None])
    one, n = mpmath.mpf(1), mpmath.mpf(x.size)
    terms = []
    for j in range(x.size):
        xm, zm, pm = R.X(x[j]), R.X(z[j]), R.X(p[j])
        (sp, g_exact), _ = R.evaluate(R.sigmoid_xent, zm, xm, one)
        assert ulp_vs_exact(value[j], sp, dtype) <= MAX_ULP[dtype]
        assert ulp_vs_exact(g[j], g_exact, dtype) <= MAX_ULP[dtype]
        # the mean's gradient: (-z / p + (1 - z) / (1 - p)) / n
        (term, gb), _ = R.evaluate(lambda zm=zm, pm=pm: R.binary_probs(zm, pm, one))
        terms.append(term)
        assert ulp_vs_exact(bg[0, j], R.evaluate(lambda gb=gb: gb / n)[0], dtype) <= 2
    mean, _ = R.evaluate(lambda: mpmath.fsum(terms) / n)
    assert ulp_vs_exact(bv[0], mean, dtype) <= MAX_ULP[dtype]
    assert "binary_probs" in kernel_calls


# --------------------------------------------------------------------------------------------
# Fast path == reference path


SPARSE_CASES = [
    {},
    {"reduction": "mean"},
    {"reduction": "sum", "sample_weight": "w"},
    {"reduction": "mean", "ignore_index": -1},
    {"class_weight": "cw", "reduction": "mean", "sample_weight": "w"},
    {"axis": 0},
]


def _resolve(kwargs, rng, n, c):  # type: ignore[no-untyped-def]
    out = dict(kwargs)
    if out.get("sample_weight") == "w":
        w = rng.uniform(0, 2, n)
        w[1] = 0.0
        out["sample_weight"] = w
    if out.get("class_weight") == "cw":
        cw = rng.uniform(0, 2, c)
        cw[3] = 0.0
        out["class_weight"] = cw
    return out


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", SPARSE_CASES)
def test_sparse_equals_reference(kernel_calls, dtype, case) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    n, c = 40, 2500  # several blocks, a ragged tail
    x = logits(rng, (n, c), dtype)
    x[0, :5] = -np.inf  # masked classes
    x[5, 11] = x[5].max()  # a tie at the maximum
    k = rng.integers(0, c, n)
    k[6] = 3
    kw = _resolve(case, rng, n, c)
    if kw.get("ignore_index") is not None:
        k[[2, 9]] = -1
    if kw.get("axis") == 0:
        x = np.ascontiguousarray(x.T)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    v1, g1 = vg(k, x, **kw)
    v2, g2 = reference(vg, k, x, **kw)
    assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
    assert ulp_diff(g1, g2, dtype) <= REF_ULP[dtype]
    assert g1.dtype == g2.dtype
    assert g1.shape == g2.shape
    f1 = ce.sparse_softmax_cross_entropy_with_logits(k, x, **kw)
    assert ulp_diff(f1, v1, dtype) == 0
    if kw.get("ignore_index") is not None:
        assert not np.any(g1[[2, 9]])
    if "sample_weight" in kw:
        assert not np.any(g1[1])
    assert SPARSE_KERNEL[dtype] in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "case",
    [
        {},
        {"reduction": "mean", "label_smoothing": 0.1, "class_weight": "cw"},
        {"reduction": "sum", "sample_weight": "w", "axis": 0},
    ],
)
def test_dense_equals_reference(kernel_calls, dtype, case) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    n, c = 30, 1100
    x = logits(rng, (n, c), dtype)
    x[0, :3] = -np.inf
    y = np.zeros((n, c), dtype)
    y[np.arange(n), rng.integers(0, c, n)] = 1  # one-hot ...
    y[n // 2 :] = rng.dirichlet(np.full(c, 0.5), n - n // 2)  # ... and soft
    y[0, :3] = 0.0
    kw = _resolve(case, rng, n, c)
    if kw.get("axis") == 0:
        x, y = np.ascontiguousarray(x.T), np.ascontiguousarray(y.T)
    vg = ce.value_and_grad(ce.softmax_cross_entropy_with_logits)
    v1, g1 = vg(y, x, **kw)
    v2, g2 = reference(vg, y, x, **kw)
    assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
    # A p - a cancels where the target is close to the prediction: compare on the terms' scale.
    tol = REF_ULP[dtype] * np.finfo(dtype).eps * (np.abs(g2) + np.abs(y).max())
    assert np.all(np.abs(g1.astype(np.float64) - g2) <= tol)
    assert "dense_softmax" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "case",
    [
        {},
        {"reduction": "mean", "pos_weight": "pw"},
        {"reduction": "sum", "sample_weight": "full"},
        {"reduction": "none", "sample_weight": 0.5},
    ],
)
def test_sigmoid_equals_reference(kernel_calls, dtype, case) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(5)
    x = logits(rng, (20, 700), dtype, 6.0)
    x[0, :4] = [np.inf, -np.inf, 0.0, 800.0]
    z = (rng.uniform(size=x.shape) < 0.3).astype(dtype)
    kw = dict(case)
    if kw.get("pos_weight") == "pw":
        kw["pos_weight"] = rng.uniform(0, 3, 700)
    if kw.get("sample_weight") == "full":
        kw["sample_weight"] = rng.uniform(0, 1, x.shape)
    vg = ce.value_and_grad(ce.sigmoid_cross_entropy_with_logits)
    v1, g1 = vg(z, x, **kw)
    v2, g2 = reference(vg, z, x, **kw)
    assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
    assert ulp_diff(g1, g2, dtype) <= REF_ULP[dtype]
    assert "sigmoid_xent" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_binary_probs_equals_reference(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(6)
    p = rng.uniform(size=(25, 400)).astype(dtype)
    p[0, :6] = [0.0, 1.0, 0.5, 0.29, 1e-30, 0.7071]
    y = (rng.uniform(size=p.shape) < 0.5).astype(dtype)
    y[0, :2] = [0.0, 1.0]  # p = 0 with label 0 and p = 1 with label 1: loss terms exactly 0
    for kw in ({}, {"reduction": "mean", "label_smoothing": 0.2, "pos_weight": 1.5}):
        vg = ce.value_and_grad(ce.binary_crossentropy)
        v1, g1 = vg(y, p, **kw)
        v2, g2 = reference(vg, y, p, **kw)
        assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
        assert ulp_diff(g1, g2, dtype) <= REF_ULP[dtype]
    assert "binary_probs" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_primitives_equal_reference(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    x = logits(rng, (3, 50, 300), dtype, 20.0)
    x[0, 0, :] = -np.inf  # all -inf: NaN / -inf by the reference's rules
    x[0, 1, 3] = np.inf  # +inf: the mass shared by the +inf entries
    x[0, 2, 5] = np.nan
    for fn, kw in [(ce.logsumexp, {}), (ce.logsumexp, {"axis": 1, "keepdims": True}),
                   (ce.log_softmax, {}), (ce.softmax, {"axis": 0})]:  # fmt: skip
        with np.errstate(all="ignore"):
            got = fn(x, **kw)
            want = reference(fn, x, **kw)
        assert got.shape == want.shape
        assert got.dtype == want.dtype
        assert ulp_diff(got, want, dtype) <= REF_ULP[dtype]
    assert "softmax_rows" in kernel_calls


def test_float32_one_pass_across_blocks(kernel_calls) -> None:  # type: ignore[no-untyped-def]
    """The float32 kernel carries the row maximum from block to block (1024 entries each) and
    rescales the sum when it grows: rows whose maximum moves, ties split across blocks, leading
    blocks of -inf, and rows the reference path must take (+inf, NaN in a later block)."""
    rng = np.random.default_rng(11)
    c = 3000  # three blocks, a ragged tail
    x = logits(rng, (12, c), np.float32)
    x[0] = np.linspace(-20, 20, c)  # the maximum grows in every block
    x[1, 5] = 40.0  # maximum in block 0, tied in block 2 ...
    x[1, 2500] = 40.0
    x[2, :1024] = -np.inf  # a block of masked classes first
    x[3, :2048] = -np.inf  # two of them; the maximum in the last block
    x[4, 10] = 1e3  # the maximum jumps: the earlier sum is scaled by exp(-9000) = 0
    x[4, 2900] = 1e4
    x[5, 1500] = 30.0  # ties in blocks 1 and 2, block 0 below
    x[5, 2999] = 30.0
    x[6, 2100] = np.inf  # +inf in a later block: the reference path
    x[7, 1100] = np.nan  # NaN in a later block (validate=False): the reference path
    x[8] = -np.inf  # a single finite logit, in the last block
    x[8, 2600] = 1.0
    x[9, 2222] = 35.0  # confident, maximum late: loss ~1e-12
    x[10] *= 30  # wide range: exponentials far below the float32 range
    k = np.array([2999, 5, 1500, 2500, 2900, 1500, 0, 0, 2600, 2222, 17, 4])
    w = np.ones(12)
    w[11] = 0.0  # zero weight: loss 0 and a zero gradient
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    with np.errstate(all="ignore"):
        v, g = vg(k, x, validate=False, sample_weight=w, reduction="sum")
        per = ce.sparse_softmax_cross_entropy_with_logits(k, x, validate=False)
        out = np.full_like(x, 7.0)
        v2, g2 = vg(k, x, validate=False, sample_weight=w, reduction="sum", out=out)
        xi = x.copy()  # in place: rows left to the reference path must not be overwritten first
        v3, g3 = vg(k, xi, validate=False, sample_weight=w, reduction="sum", out=xi)
        vr, gr = reference(vg, k, x, validate=False, sample_weight=w, reduction="sum")
        per_r = reference(ce.sparse_softmax_cross_entropy_with_logits, k, x, validate=False)
    assert kernel_calls.count("sparse_softmax_f32") == 4
    for vo, go, buf in ((v2, g2, out), (v3, g3, xi)):
        assert go is buf
        assert np.array_equal(go, g, equal_nan=True)
        assert np.array_equal(vo, v, equal_nan=True)
    for i in (0, 1, 2, 3, 4, 5, 8, 9, 10):
        loss_ex, grad_ex = mp_sparse(x[i], int(k[i]))
        assert ulp_vs_exact(per[i], loss_ex, np.float32) <= MAX_ULP[np.float32], i
        assert ulp_vs_exact(g[i], grad_ex, np.float32) <= MAX_ULP[np.float32], i
    assert ulp_diff(per, per_r, np.float32) <= REF_ULP[np.float32]
    assert ulp_diff(g, gr, np.float32) <= REF_ULP[np.float32]
    assert np.isnan(per[7])
    assert np.all(np.isnan(g[7]))
    assert not np.any(g[11])
    assert ulp_diff(v, vr, np.float32) <= REF_ULP[np.float32]


# --------------------------------------------------------------------------------------------
# Edge rows, errors and validation


@pytest.mark.parametrize("dtype", FLOATS)
def test_edge_rows_fall_back_to_reference(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(8)
    x = logits(rng, (6, 100), dtype)
    x[1, 4] = np.inf  # +inf maximum
    x[2, 9] = np.nan  # NaN (validate=False)
    x[3] = -np.inf
    x[3, 0] = 0.0
    k = np.array([0, 4, 1, 0, 2, 3])
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    with np.errstate(all="ignore"):
        v1, g1 = vg(k, x, validate=False)
        v2, g2 = reference(vg, k, x, validate=False)
    assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
    assert ulp_diff(g1, g2, dtype) <= REF_ULP[dtype]
    assert np.isnan(v1[2])
    assert v1[3] == 0.0
    assert SPARSE_KERNEL[dtype] in kernel_calls


def _messages(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """The error (type, message) of the fast and of the reference path."""
    errors = []
    for path in ("fast", "reference"):
        with on_path(path), pytest.raises((TypeError, ValueError)) as info:
            fn(*args, **kwargs)
        errors.append((info.type, str(info.value)))
    return errors


def test_errors_are_the_reference_errors() -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(9)
    x = logits(rng, (8, 50), np.float32)
    k = rng.integers(0, 50, 8)
    nan = x.copy()
    nan[5, 7] = np.nan
    dead = x.copy()
    dead[6] = -np.inf
    y = np.eye(50, dtype=np.float32)[k]
    bad_y = y.copy()
    bad_y[2] *= 0.9
    sparse = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    cases = [
        (sparse, (k, nan), {}),
        (sparse, (k, dead), {}),
        (sparse, (k, nan), {"sample_weight": -np.ones(8)}),  # NaN is reported first
        (sparse, (k + 50, x), {}),
        (ce.softmax_cross_entropy_with_logits, (bad_y, x), {}),
        (ce.softmax_cross_entropy_with_logits, (y, nan), {}),
        (ce.sigmoid_cross_entropy_with_logits, (y * 2, x), {}),
        (ce.binary_crossentropy, (y, x), {}),  # logits passed as probabilities
        (ce.logsumexp, (x,), {"axis": 2}),
    ]
    for fn, args, kw in cases:
        fast, ref = _messages(fn, *args, **kw)
        assert fast == ref
    assert "must not contain NaN; got NaN at index (5, 7)" in _messages(sparse, k, nan)[0][1]


def test_inputs_are_not_modified_without_out() -> None:
    rng = np.random.default_rng(10)
    x = logits(rng, (64, 1100), np.float32)
    k = rng.integers(0, 1100, 64)
    before = x.copy()
    ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(k, x)
    ce.softmax(x)
    assert np.array_equal(x, before)


# --------------------------------------------------------------------------------------------
# out=, in place, threads, fallback


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_and_in_place(dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    x = logits(rng, (64, 1500), dtype)
    k = rng.integers(0, 1500, 64)
    k[3] = -100
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    v, g = vg(k, x, reduction="mean", ignore_index=-100)
    buf = np.full_like(x, np.nan)
    v_out, g_out = vg(k, x, reduction="mean", ignore_index=-100, out=buf)
    assert g_out is buf
    assert np.array_equal(buf, g)
    assert v_out == v
    x2 = x.copy()
    v_in, g_in = vg(k, x2, reduction="mean", ignore_index=-100, out=x2)
    assert g_in is x2
    assert np.array_equal(x2, g)
    assert v_in == v
    assert not np.any(x2[3])  # ignored sample: exactly zero gradient, in place too
    # a non-contiguous buffer, the class axis elsewhere, a loss without a kernel: copied in
    xt = np.ascontiguousarray(x.T)
    buf_t = np.empty_like(xt)
    _, g_t = vg(k, xt, axis=0, reduction="mean", ignore_index=-100, out=buf_t)
    assert g_t is buf_t
    assert np.array_equal(buf_t, g.T)
    focal = ce.value_and_grad(ce.binary_focal_crossentropy)
    yb = (rng.uniform(size=x.shape) < 0.5).astype(dtype)
    pb = rng.uniform(0.01, 0.99, x.shape).astype(dtype)
    fbuf = np.empty_like(pb)
    assert focal(yb, pb, out=fbuf).grad is fbuf
    assert np.array_equal(fbuf, focal(yb, pb).grad)


def test_out_errors() -> None:
    x = np.zeros((4, 5), np.float32)
    k = np.zeros(4, np.int64)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    name = "sparse_softmax_cross_entropy_with_logits"
    with pytest.raises(TypeError, match=f"^{name}: out must be a NumPy array .*; got list"):
        vg(k, x, out=[[0.0] * 5] * 4)
    with pytest.raises(
        ValueError,
        match=rf"^{name}: out must have the shape \(4, 5\) and dtype float32 of logits; "
        r"got out.shape=\(4, 5\), dtype float64\.",
    ):
        vg(k, x, out=np.zeros((4, 5)))
    big = np.zeros((5, 5), np.float32)
    with pytest.raises(ValueError, match=f"^{name}: out must be logits itself or not overlap"):
        vg(k, big[:4], out=big[1:])
    ro = np.zeros_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match=f"^{name}: out must be writeable; got a read-only"):
        vg(k, x, out=ro)


def test_threads_give_identical_results() -> None:
    rng = np.random.default_rng(12)
    x = logits(rng, (256, 1024), np.float32)
    k = rng.integers(0, 1024, 256)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    try:
        _kernels.set_num_threads(1)
        assert _kernels.get_num_threads() == 1
        v1, g1 = vg(k, x, reduction="sum")
        _kernels.set_num_threads(3)
        v3, g3 = vg(k, x, reduction="sum")
    finally:
        _kernels.set_num_threads(None)
    assert v1 == v3
    assert np.array_equal(g1, g3)
    with pytest.raises(ValueError, match=r"^set_num_threads: n must be >= 1; got 0\.$"):
        _kernels.set_num_threads(0)
    with pytest.raises(TypeError, match=r"^set_num_threads: n must be an int or None; got str\.$"):
        _kernels.set_num_threads("2")  # type: ignore[arg-type]


def test_without_numba_the_reference_path_runs(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(_kernels._state, "tried", True)
    monkeypatch.setitem(_kernels._state, "module", None)  # as if numba were not installed
    assert not _kernels.fast_path_available()
    x = np.array([[12.0, 3, 2], [3, 10, 1]], np.float32)
    v, g = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)([0, 1], x)
    assert v.dtype == np.float32
    assert g.shape == (2, 3)
    assert ulp_diff(v, [1.6879548708943529e-04, 1.0347562247153873e-03], np.float32) <= 1


def test_small_inputs_take_the_reference_path() -> None:
    assert _kernels.MIN_SIZE == 0  # forced by the autouse fixture; the real threshold below
    with on_path("fast", min_size=2048) as calls:
        ce.softmax(np.zeros((4, 8)))
        assert calls == []
        ce.softmax(np.zeros((4, 512)))
        assert calls == ["softmax_rows"]


def test_import_stays_light() -> None:
    code = (
        "import sys, crossentropy; "
        "print('numba' in sys.modules, 'crossentropy._kernels._numba' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("dtype", FLOATS)
def test_in_place_for_every_gradient_kernel(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(13)
    x = logits(rng, (48, 700), dtype)
    y_soft = rng.dirichlet(np.ones(700), 48).astype(dtype)
    z = (rng.uniform(size=x.shape) < 0.3).astype(dtype)
    p = rng.uniform(0.01, 0.99, x.shape).astype(dtype)
    for loss, labels, preds in [
        (ce.softmax_cross_entropy_with_logits, y_soft, x),
        (ce.sigmoid_cross_entropy_with_logits, z, x),
        (ce.binary_crossentropy, z, p),
    ]:
        vg = ce.value_and_grad(loss)
        v, g = vg(labels, preds, reduction="mean")
        work = preds.copy()
        v2, g2 = vg(labels, work, reduction="mean", out=work)
        assert g2 is work
        assert v2 == v
        assert np.array_equal(work, g)
    assert "sigmoid_xent" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_without_validation_propagates_as_reference(dtype) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(14)
    x = logits(rng, (16, 300), dtype)
    x[3, 7] = np.nan
    z = (rng.uniform(size=x.shape) < 0.3).astype(dtype)
    p = rng.uniform(size=x.shape).astype(dtype)
    p[5, 2] = np.nan
    y_soft = rng.dirichlet(np.ones(300), 16).astype(dtype)
    cases = [
        (ce.sigmoid_cross_entropy_with_logits, z, x),
        (ce.binary_crossentropy, z, p),
        (ce.softmax_cross_entropy_with_logits, y_soft, x),
    ]
    for loss, labels, preds in cases:
        vg = ce.value_and_grad(loss)
        with np.errstate(all="ignore"):
            v1, g1 = vg(labels, preds, validate=False)
            v2, g2 = reference(vg, labels, preds, validate=False)
        assert np.array_equal(np.isnan(v1), np.isnan(v2))
        assert np.array_equal(np.isnan(g1), np.isnan(g2))
        assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]


def test_soft_labels_near_the_tolerance_take_the_reference_check() -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(15)
    x = logits(rng, (8, 400), np.float32)
    y = rng.dirichlet(np.ones(400), 8).astype(np.float32)
    tol = np.sqrt(np.finfo(np.float32).eps)
    y[2] *= 1 + 0.95 * tol  # within the tolerance, but within 10 % of it: checked by reference
    vg = ce.value_and_grad(ce.softmax_cross_entropy_with_logits)
    v1, g1 = vg(y, x)
    v2, g2 = reference(vg, y, x)
    assert ulp_diff(v1, v2, np.float32) <= REF_ULP[np.float32]
    assert np.allclose(g1, g2, rtol=1e-6, atol=1e-9)
    y[2] *= 1 + 0.2 * tol  # now outside: both paths raise the same error
    fast, ref = _messages(vg, y, x)
    assert fast == ref
    assert "must sum to 1 along axis 1" in fast[1]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "case",
    [
        {"label_smoothing": 0.1},
        {"label_smoothing": 0.2, "reduction": "mean", "ignore_index": -1, "class_weight": "cw"},
        {"label_smoothing": 1.0, "reduction": "sum", "sample_weight": "w", "axis": 0},
    ],
)
def test_sparse_label_smoothing_equals_reference(kernel_calls, dtype, case) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(16)
    n, c = 30, 1500
    x = logits(rng, (n, c), dtype)
    x[0, :4] = -np.inf  # masked classes: an infinite loss once smoothing puts mass on them
    x[1, 9] = np.inf  # a row left to the reference
    k = rng.integers(0, c, n)
    kw = _resolve(case, rng, n, c)
    if kw.get("ignore_index") is not None:
        k[[2, 5]] = -1
    if kw.get("axis") == 0:
        x = np.ascontiguousarray(x.T)
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    with np.errstate(all="ignore"):
        v1, g1 = vg(k, x, **kw)
        v2, g2 = reference(vg, k, x, **kw)
    assert ulp_diff(v1, v2, dtype) <= REF_ULP[dtype]
    # A p - a cancels where the smoothed target is close to the prediction: the terms' scale.
    tol = REF_ULP[dtype] * np.finfo(dtype).eps * (np.abs(g2) + 1.0 / n)
    assert np.all((np.abs(g1.astype(np.float64) - g2) <= tol) | (g1 == g2))
    if kw.get("ignore_index") is not None:
        assert not np.any(g1[[2, 5]])
    assert "dense_softmax" in kernel_calls


@pytest.mark.parametrize("dtype", FLOATS)
def test_logsumexp_near_zero(kernel_calls, dtype) -> None:  # type: ignore[no-untyped-def]
    """logsumexp = m + log1p(S) cancels for m < 0 and a result near 0.

    float32 (computed in float64) stays within its bound; float64 cannot (the reference path
    neither: its error there is as large or larger), so there the fast path must be no worse.
    """
    rng = np.random.default_rng(17)
    x = rng.standard_normal((6, 500)) * 3
    target = np.array([1e-4, -3e-3, 2e-6, 0.5, -1e-9, 7.0])
    x = (x - ce.logsumexp(x)[:, None] + target[:, None]).astype(dtype)
    got = ce.logsumexp(x)
    ref = reference(ce.logsumexp, x)
    for i in range(6):
        exact, _ = R.evaluate(R.logsumexp, R.as_mp(x[i]))
        if dtype == np.float32:
            assert ulp_vs_exact(got[i], exact, dtype) <= MAX_ULP[dtype]
        else:
            assert ulp_vs_exact(got[i], exact, dtype) <= max(
                MAX_ULP[dtype], ulp_vs_exact(ref[i], exact, dtype)
            )
    assert "softmax_rows" in kernel_calls
