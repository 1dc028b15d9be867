"""linear_cross_entropy: equal to the materialised computation, chunk-size invariant, z-loss and
soft-capping checked against mpmath and finite differences, errors named."""

from __future__ import annotations

import math
from typing import Any

import mpmath
import numpy as np
import pytest

import crossentropy as ce
from tests._support.paths import PATHS, on_path
from tests.gradients.gradfd import fd_grad

vg = ce.value_and_grad(ce.linear_cross_entropy)


def _data(n: int, d: int, v: int, seed: int, dtype: Any = np.float64) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    h = rng.standard_normal((n, d)).astype(dtype)
    w = (rng.standard_normal((v, d)) / math.sqrt(d) * 3).astype(dtype)
    b = rng.standard_normal(v).astype(dtype)
    k = rng.integers(0, v, n)
    return h, w, b, k


def _materialised(h, w, b, k, **kw: Any) -> tuple[Any, Any, Any, Any]:
    """The loss of the materialised logits and the chain rule by hand (no z-loss/softcap)."""
    kw = {"reduction": "mean", **kw}
    logits = h @ w.T + (0 if b is None else b)
    value, g = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(k, logits, **kw)
    return value, g @ w, g.T @ h, g.sum(axis=0)


def _rel(a: Any, b: Any) -> float:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"reduction": "sum"},
        {"reduction": "none"},
        {"label_smoothing": 0.1},
        {"class_weight": "cw"},
        {"sample_weight": "sw", "ignore_index": -1},
    ],
    ids=["mean", "sum", "none", "ls", "cw", "sw-ignore"],
)
def test_equals_materialised_float64(path: str, kw: dict[str, Any]) -> None:
    h, w, b, k = _data(37, 8, 50, 1)
    rng = np.random.default_rng(2)
    kw = dict(kw)
    if kw.get("class_weight") == "cw":
        kw["class_weight"] = rng.uniform(0, 2, 50)
    if kw.get("sample_weight") == "sw":
        kw["sample_weight"] = rng.uniform(0, 2, 37)
        k[::5] = -1
    ref = _materialised(h, w, b, k, **kw)
    with on_path(path, min_size=0) as calls:
        value, (gh, gw, gb) = vg(h, w, k, bias=b, chunk_size=10, **kw)
    if path == "fast" and "label_smoothing" not in kw:
        assert "sparse_softmax" in calls
    assert value.dtype == np.float64
    assert _rel(value, ref[0]) <= 1e-12
    for got, want in zip((gh, gw, gb), ref[1:], strict=True):
        assert got.dtype == np.float64
        assert _rel(got, want) <= 1e-12


@pytest.mark.parametrize("path", PATHS)
def test_equals_materialised_float32(path: str) -> None:
    h, w, b, k = _data(64, 16, 300, 3, np.float32)
    ref = _materialised(h.astype(np.float64), w.astype(np.float64), b.astype(np.float64), k)
    with on_path(path, min_size=0):
        value, (gh, gw, gb) = vg(h, w, k, bias=b, chunk_size=17)
    assert value.dtype == np.float32
    assert gh.dtype == gw.dtype == gb.dtype == np.float32
    # float32 matmuls: each logit off by ~D eps |h||w|; the sums over tokens by ~N eps.
    assert _rel(value, ref[0]) <= 1e-5
    for got, want in zip((gh, gw, gb), ref[1:], strict=True):
        assert _rel(got, want) <= 1e-4


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_inputs_compute_in_float32(dtype: str) -> None:
    if dtype == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        dt: Any = ml_dtypes.bfloat16
    else:
        dt = np.float16
    h, w, _, k = _data(20, 8, 40, 4)
    h, w = h.astype(dt), w.astype(dt)
    value, (gh, gw) = vg(h, w, k)
    ref = _materialised(h.astype(np.float32), w.astype(np.float32), None, k)
    assert gh.dtype == h.dtype
    assert gw.dtype == w.dtype
    assert _rel(value, ref[0]) <= 1e-2
    assert _rel(gh.astype(np.float64), ref[1]) <= 2e-2


@pytest.mark.parametrize("path", PATHS)
def test_chunk_size_invariance(path: str) -> None:
    h, w, b, k = _data(23, 5, 30, 5)
    with on_path(path, min_size=0):
        results = [
            vg(h, w, k, bias=b, chunk_size=c, z_loss=0.01, softcap=3.0) for c in (1, 4, 23, 100)
        ]
    v0, g0 = results[0]
    for v, g in results[1:]:
        assert _rel(v, v0) <= 1e-13
        for a, b_ in zip(g, g0, strict=True):
            assert _rel(a, b_) <= 1e-13


def test_leading_dims_and_none() -> None:
    h, w, _, k = _data(12, 4, 9, 6)
    h3 = h.reshape(3, 4, 4)
    k3 = k.reshape(3, 4)
    per = ce.linear_cross_entropy(h3, w, k3, reduction="none")
    assert per.shape == (3, 4)
    ref = ce.sparse_softmax_cross_entropy_with_logits(k, h @ w.T)
    np.testing.assert_allclose(per.reshape(-1), ref, rtol=1e-13)
    _, (gh, _) = vg(h3, w, k3)
    assert gh.shape == h3.shape


@pytest.mark.parametrize("path", PATHS)
def test_ignored_and_all_ignored(path: str) -> None:
    h, w, b, k = _data(10, 4, 7, 7)
    k[:] = -100
    with on_path(path, min_size=0):
        value, (gh, gw, gb) = vg(h, w, k, bias=b, ignore_index=-100, z_loss=0.1)
    assert float(value) == 0.0
    assert not gh.any()
    assert not gw.any()
    assert not gb.any()
    k[3] = 2
    with on_path(path, min_size=0):
        value, (gh, _, _) = vg(h, w, k, bias=b, ignore_index=-100)
    one = ce.sparse_softmax_cross_entropy_with_logits([2], (h[3] @ w.T + b)[None])
    assert _rel(value, one[0]) <= 1e-13
    assert not np.delete(gh, 3, axis=0).any()


# --------------------------------------------------------------------------------------------
# z-loss and soft-capping: mpmath values, finite-difference gradients


def _mp_loss(h, w, b, k, ls: float, z: float, cap: float | None) -> float:
    """The mean loss, materialised in 40-digit arithmetic."""
    with mpmath.workdps(40):
        return _mp_loss_at(h, w, b, k, ls, z, cap)


def _mp_loss_at(h, w, b, k, ls: float, z: float, cap: float | None) -> float:
    n, v = h.shape[0], w.shape[0]
    total = mpmath.mpf(0)
    for i in range(n):
        u = [
            mpmath.fsum(mpmath.mpf(float(h[i, j])) * float(w[c, j]) for j in range(h.shape[1]))
            + float(b[c])
            for c in range(v)
        ]
        x = [cap * mpmath.tanh(ui / cap) for ui in u] if cap else u
        lse = mpmath.log(mpmath.fsum(mpmath.exp(xc) for xc in x))
        nll = [lse - xc for xc in x]
        ce_ = (1 - ls) * nll[int(k[i])] + ls / v * mpmath.fsum(nll)
        total += ce_ + z * lse**2
    return float(total / n)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("ls", "z", "cap"), [(0.0, 1e-2, None), (0.0, 0.0, 2.5), (0.2, 0.3, 1.5), (0.0, 0.5, 4.0)]
)
def test_z_loss_softcap_value_mpmath(path: str, ls: float, z: float, cap: float | None) -> None:
    h, w, b, k = _data(6, 3, 5, 8)
    h = h * 2
    with on_path(path, min_size=0):
        got = ce.linear_cross_entropy(h, w, k, bias=b, label_smoothing=ls, z_loss=z, softcap=cap)
    want = _mp_loss(h, w, b, k, ls, z, cap)
    assert abs(float(got) - want) <= 1e-14 * abs(want)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("ls", "z", "cap"), [(0.0, 0.05, None), (0.0, 0.0, 2.0), (0.1, 0.2, 1.5)])
def test_z_loss_softcap_grad_finite_differences(
    path: str, ls: float, z: float, cap: float | None
) -> None:
    h, w, b, k = _data(5, 3, 6, 9)
    kw = {"label_smoothing": ls, "z_loss": z, "softcap": cap, "reduction": "sum"}
    with on_path(path, min_size=0):
        _, grads = vg(h, w, k, bias=b, **kw)
    args = [h, w, b]
    for i, g in enumerate(grads):

        def f(a: np.ndarray, i: int = i) -> float:
            xs = list(args)
            xs[i] = a
            return float(ce.linear_cross_entropy(xs[0], xs[1], k, bias=xs[2], **kw))

        fd = fd_grad(f, args[i], np.full(args[i].shape, 1e-3))
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("path", PATHS)
def test_z_loss_with_class_weight_takes_core(path: str) -> None:
    h, w, b, k = _data(8, 3, 6, 10)
    cw = np.linspace(0.0, 2.0, 6)
    kw = {"z_loss": 0.1, "class_weight": cw, "reduction": "sum"}
    with on_path(path, min_size=0):
        value, (gh, _, _) = vg(h, w, k, bias=b, **kw)
    logits = h @ w.T + b
    lse = np.log(np.sum(np.exp(logits), axis=1))
    base = ce.sparse_softmax_cross_entropy_with_logits(k, logits, class_weight=cw, reduction="sum")
    assert _rel(value, base + 0.1 * np.sum(lse**2)) <= 1e-13

    def f(a: np.ndarray) -> float:
        return float(ce.linear_cross_entropy(a, w, k, bias=b, **kw))

    np.testing.assert_allclose(gh, fd_grad(f, h, np.full(h.shape, 1e-3)), rtol=1e-7, atol=1e-9)


# --------------------------------------------------------------------------------------------
# PyTorch


def test_against_torch_autograd() -> None:
    torch = pytest.importorskip("torch")
    h, w, b, k = _data(9, 4, 11, 11)
    kw = {"label_smoothing": 0.1, "z_loss": 0.01, "softcap": 3.0}
    value, grads = vg(h, w, k, bias=b, **kw)
    th, tw, tb = (torch.tensor(a, requires_grad=True) for a in (h, w, b))
    x = 3.0 * torch.tanh(torch.nn.functional.linear(th, tw, tb) / 3.0)
    lse = torch.logsumexp(x, dim=-1)
    loss = torch.nn.functional.cross_entropy(x, torch.tensor(k), label_smoothing=0.1)
    loss = loss + 0.01 * (lse**2).mean()
    loss.backward()
    assert _rel(value, loss.item()) <= 1e-13
    for g, t in zip(grads, (th, tw, tb), strict=True):
        assert _rel(g, t.grad.numpy()) <= 1e-12


# --------------------------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("args", "kw", "exc", "match"),
    [
        (((4, 3), (5, 2), (4,)), {}, ValueError, r"weight must have shape \(V, 3\)"),
        (((4, 3), (5, 3), (3,)), {}, ValueError, r"labels must have the predictions' shape"),
        (((4, 3), (5, 3), (4,)), {"bias": np.zeros(4)}, ValueError, r"bias must have shape"),
        (((4, 3), (5, 3), (4,)), {"z_loss": -1.0}, ValueError, r"z_loss must be a finite"),
        (((4, 3), (5, 3), (4,)), {"softcap": 0.0}, ValueError, r"softcap must be a finite"),
        (((4, 3), (5, 3), (4,)), {"chunk_size": 0}, ValueError, r"chunk_size must be an int"),
        (((4, 3), (5, 3), (4,)), {"reduction": "avg"}, ValueError, r"reduction"),
    ],
)
def test_errors(args: Any, kw: dict[str, Any], exc: type, match: str) -> None:
    hs, ws, ks = args
    h = np.zeros(hs)
    w = np.zeros(ws)
    k = np.zeros(ks, np.int64)
    with pytest.raises(exc, match="^linear_cross_entropy: " + ".*" + match):
        ce.linear_cross_entropy(h, w, k, **kw)


def test_error_values() -> None:
    h = np.zeros((2, 3))
    w = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 4\); got 4 at index 1\."):
        ce.linear_cross_entropy(h, w, [0, 4])
    h[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"hidden must be finite; got nan at index \(1, 2\)\."):
        ce.linear_cross_entropy(h, w, [0, 1])
    with pytest.raises(TypeError, match=r"weight must have a real floating dtype; got dtype int"):
        ce.linear_cross_entropy(np.zeros((2, 3)), np.zeros((4, 3), int), [0, 1])
    with pytest.raises(TypeError, match=r"labels must have an integer dtype"):
        ce.linear_cross_entropy(np.zeros((2, 3)), w, [0.0, 1.0])
    with pytest.raises(TypeError, match=r"out is not supported for a loss with several"):
        vg(np.zeros((2, 3)), w, [0, 1], out=np.zeros((2, 3)))


@pytest.mark.filterwarnings("ignore:linear_cross_entropy:UserWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kw",
    [{}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1}, {"weight": "cw"}],
    ids=["mean", "sum", "none", "ls", "weight"],
)
def test_compat_against_live_torch(dtype: Any, kw: dict[str, Any]) -> None:
    """compat.torch.linear_cross_entropy reproduces F.linear_cross_entropy (reference and
    chunked paths); crossentropy.linear_cross_entropy, reduced the torch way, agrees too."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    from crossentropy.compat import torch as ct

    h, w, b, k = _data(40, 8, 30, 12, dtype)
    k[::4] = -100
    kw = dict(kw)
    cw = np.linspace(0.5, 2.0, 30).astype(dtype)
    if kw.get("weight") == "cw":
        kw["weight"] = cw
    tkw = {key: torch.tensor(v) if isinstance(v, np.ndarray) else v for key, v in kw.items()}
    args = (torch.tensor(h), torch.tensor(w), torch.tensor(k))
    want = F.linear_cross_entropy(*args, linear_bias=torch.tensor(b), **tkw).numpy()
    chunked = F.linear_cross_entropy(
        *args, linear_bias=torch.tensor(b), options=torch.nn.LinearCrossEntropyOptions(), **tkw
    ).numpy()
    got = ct.linear_cross_entropy(h, w, k, linear_bias=b, **kw)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    np.testing.assert_allclose(chunked, want, rtol=tol, atol=tol)
    # the exact function, per token, with PyTorch's weighted-mean denominator
    per = ce.linear_cross_entropy(
        h,
        w,
        k,
        bias=b,
        ignore_index=-100,
        label_smoothing=kw.get("label_smoothing", 0.0),
        class_weight=kw.get("weight"),
        reduction="none",
    )
    red = kw.get("reduction", "mean")
    if red == "none":
        mine = per
    elif red == "sum":
        mine = per.sum()
    else:
        wk = np.ones(40) if "weight" not in kw else cw[np.where(k >= 0, k, 0)]
        mine = per.sum() / np.sum(np.where(k >= 0, wk, 0.0))
    np.testing.assert_allclose(mine, want, rtol=10 * tol, atol=10 * tol)


# --------------------------------------------------------------------------------------------
# z-loss and soft-capping on the logits losses


def _mp_logits_loss(labels, x, ls: float, z: float, cap: float | None, sparse: bool) -> float:
    """Sum over samples, 40 digits."""
    with mpmath.workdps(40):
        total = mpmath.mpf(0)
        for i in range(x.shape[0]):
            xs = [mpmath.mpf(float(v)) for v in x[i]]
            if cap:
                xs = [cap * mpmath.tanh(v / cap) for v in xs]
            lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in xs))
            c = len(xs)
            y = [float(c_ == labels[i]) for c_ in range(c)] if sparse else list(labels[i])
            y = [(1 - ls) * yc + ls / c for yc in y]
            total += mpmath.fsum(yc * (lse - v) for yc, v in zip(y, xs, strict=True))
            total += z * lse**2
        return float(total)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize(
    ("ls", "z", "cap"), [(0.0, 1e-2, None), (0.0, 0.0, 2.5), (0.1, 0.3, 1.5), (0.0, 0.5, 4.0)]
)
def test_logits_losses_z_softcap(
    path: str, sparse: bool, ls: float, z: float, cap: float | None
) -> None:
    rng = np.random.default_rng(13)
    x = rng.standard_normal((6, 5)) * 3
    k = rng.integers(0, 5, 6)
    labels: Any = k if sparse else np.eye(5)[k] * 0.7 + 0.06
    loss = (
        ce.sparse_softmax_cross_entropy_with_logits
        if sparse
        else ce.softmax_cross_entropy_with_logits
    )
    kw = {"label_smoothing": ls, "z_loss": z, "softcap": cap, "reduction": "sum"}
    with on_path(path, min_size=0) as calls:
        value, g = ce.value_and_grad(loss)(labels, x, **kw)
        f32 = loss(labels, x.astype(np.float32), **kw)
    if path == "fast":
        assert calls  # the kernels computed the capped logits' loss
    want = _mp_logits_loss(labels, x, ls, z, cap, sparse)
    assert abs(float(value) - want) <= 1e-14 * abs(want)
    assert f32.dtype == np.float32
    assert abs(float(f32) - _mp_logits_loss(labels, x.astype(np.float32), ls, z, cap, sparse)) <= (
        1e-6 * abs(want)
    )

    def f(a: np.ndarray) -> float:
        return float(loss(labels, a, **kw))

    np.testing.assert_allclose(g, fd_grad(f, x, np.full(x.shape, 1e-3)), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("path", PATHS)
def test_sparse_z_loss_ignored_axis_and_weights(path: str) -> None:
    rng = np.random.default_rng(14)
    x = rng.standard_normal((4, 3, 5))  # classes on axis 1
    k = rng.integers(0, 3, (4, 5))
    k[0, :2] = -1
    sw = rng.uniform(0.5, 2, (4, 5))
    kw = {"ignore_index": -1, "sample_weight": sw, "z_loss": 0.2, "softcap": 2.0, "axis": 1}
    with on_path(path, min_size=0):
        value, g = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(
            k, x, reduction="mean", **kw
        )
    xl = np.moveaxis(x, 1, -1)
    xc = 2.0 * np.tanh(xl / 2.0)
    lse = np.log(np.sum(np.exp(xc), axis=-1))
    nll = lse - np.take_along_axis(xc, np.where(k >= 0, k, 0)[..., None], axis=-1)[..., 0]
    valid = k >= 0
    per = np.where(valid, nll + 0.2 * lse**2, 0.0)
    want = np.sum(sw * per) / np.sum(np.where(valid, sw, 0.0))
    assert _rel(value, want) <= 1e-13
    assert not g[0, :, :2].any()

    def f(a: np.ndarray) -> float:
        return float(ce.sparse_softmax_cross_entropy_with_logits(k, a, reduction="mean", **kw))

    np.testing.assert_allclose(g, fd_grad(f, x, np.full(x.shape, 1e-3)), rtol=1e-7, atol=1e-9)


def test_logits_losses_z_softcap_errors() -> None:
    fn = ce.sparse_softmax_cross_entropy_with_logits
    with pytest.raises(ValueError, match=r"^sparse_softmax_cross_entropy_with_logits: z_loss must"):
        fn([0], [[1.0, 2.0]], z_loss=float("nan"))
    with pytest.raises(ValueError, match=r"^softmax_cross_entropy_with_logits: softcap must be"):
        ce.softmax_cross_entropy_with_logits([[1.0, 0.0]], [[1.0, 2.0]], softcap=-1.0)
    with pytest.raises(TypeError, match=r"softcap must be a real number; got str"):
        fn([0], [[1.0, 2.0]], softcap="30")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\); got 2 at index 0"):
        fn([2], [[1.0, 2.0]], z_loss=0.1)
