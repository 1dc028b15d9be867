"""PyTorch tensors: every loss differentiable, computed in one fused pass (the NumPy path on CPU).

References: the NumPy results of the same functions on the same data (the CPU path is the NumPy
path on zero-copy views, so they must be bit-identical), ``torch.autograd.gradcheck`` (finite
differences) for the backward, and ``torch.nn.functional.cross_entropy``.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest

import crossentropy as ce
from tests._support.paths import on_path

torch = pytest.importorskip("torch")
F = torch.nn.functional

N, C = 6, 5
RNG = np.random.default_rng(15)
X = RNG.normal(size=(N, C)) * 3
K = RNG.integers(0, C, size=N)
SOFT = RNG.random((N, C))
SOFT /= SOFT.sum(-1, keepdims=True)
BIN = (RNG.random((N, C)) > 0.5).astype(float)
PROBS = 1 / (1 + np.exp(-X))

#: (loss, labels, predictions, keyword arguments): every top-level loss.
CASES: list[tuple[str, np.ndarray, np.ndarray, dict[str, Any]]] = [
    ("sparse_softmax_cross_entropy_with_logits", K, X, {}),
    ("sparse_categorical_crossentropy", K, X, {"from_logits": True, "label_smoothing": 0.1}),
    ("sparse_categorical_crossentropy", K, SOFT, {}),
    ("softmax_cross_entropy_with_logits", SOFT, X, {}),
    ("categorical_crossentropy", SOFT, X, {"from_logits": True}),
    ("categorical_crossentropy", SOFT, SOFT[::-1].copy(), {}),
    ("categorical_focal_crossentropy", SOFT, X, {"from_logits": True}),
    ("sigmoid_cross_entropy_with_logits", BIN, X, {}),
    ("weighted_cross_entropy_with_logits", BIN, X, {"pos_weight": 2.0}),
    ("binary_crossentropy", BIN, X, {"from_logits": True}),
    ("binary_crossentropy", BIN, PROBS, {}),
    ("binary_focal_crossentropy", BIN, X, {"from_logits": True, "alpha": 0.25}),
    ("mean_squared_error", SOFT, X, {}),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CASES)]


def _t(a: np.ndarray, dtype: Any = None) -> Any:
    t = torch.from_numpy(np.array(a))
    return t.to(dtype) if dtype is not None and t.is_floating_point() else t


@pytest.mark.parametrize(("name", "labels", "preds", "kwargs"), CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_value_and_backward_equal_the_numpy_path(
    name: str,
    labels: np.ndarray,
    preds: np.ndarray,
    kwargs: dict[str, Any],
    reduction: str,
    dtype: str,
) -> None:
    fn = getattr(ce, name)
    p = preds.astype(dtype)
    lab = labels if labels.dtype.kind == "i" else labels.astype(dtype)
    expected, expected_grad = ce.value_and_grad(fn)(lab, p, reduction=reduction, **kwargs)
    x = torch.from_numpy(p.copy()).requires_grad_()
    value = fn(torch.from_numpy(lab.copy()), x, reduction=reduction, **kwargs)
    assert isinstance(value, torch.Tensor)
    assert value.requires_grad
    assert value.dtype == x.dtype
    assert value.shape == np.shape(expected)
    np.testing.assert_array_equal(value.detach().numpy(), expected)
    # a non-trivial grad_output: each per-sample value weighted (broadcast over the class axis)
    w = torch.from_numpy(np.linspace(0.5, 2.0, value.numel()).reshape(value.shape).astype(dtype))
    (value * w).sum().backward()
    wn = w.numpy()
    if value.ndim and value.ndim < x.ndim:
        wn = wn[..., None]
    assert x.grad is not None
    np.testing.assert_array_equal(x.grad.numpy(), (expected_grad * wn).astype(dtype))


@pytest.mark.parametrize(("name", "labels", "preds", "kwargs"), CASES, ids=IDS)
def test_backward_matches_finite_differences(
    name: str, labels: np.ndarray, preds: np.ndarray, kwargs: dict[str, Any]
) -> None:
    fn = getattr(ce, name)
    lab = torch.from_numpy(labels.copy())
    x = torch.from_numpy(preds.copy()).requires_grad_()
    validate = {"validate": False}  # finite differences step off the probability simplex
    assert torch.autograd.gradcheck(lambda z: fn(lab, z, **kwargs, **validate), (x,))
    assert torch.autograd.gradcheck(
        lambda z: fn(lab, z, reduction="mean", **kwargs, **validate), (x,)
    )


@pytest.mark.skipif(not ce.fast_path_available(), reason="numba is not installed")
@pytest.mark.parametrize("shape", [(64, 1000), (3, 4, 300)])
def test_cpu_tensors_run_the_fused_kernel_on_a_view(shape: tuple[int, ...]) -> None:
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(1)).requires_grad_()
    k = torch.randint(0, shape[-1], shape[:-1], generator=torch.Generator().manual_seed(2))
    with on_path("fast", min_size=0) as ran:
        loss = ce.sparse_softmax_cross_entropy_with_logits(k, x, reduction="mean")
        loss.backward()
    assert ran, "the fused kernel did not run"
    ref = x.detach().clone().requires_grad_()
    F.cross_entropy(ref.reshape(-1, shape[-1]), k.reshape(-1)).backward()
    assert ref.grad is not None
    assert x.grad is not None
    torch.testing.assert_close(loss, F.cross_entropy(ref.reshape(-1, shape[-1]), k.reshape(-1)))
    torch.testing.assert_close(x.grad, ref.grad)


def test_all_ignored_batch_gives_an_attached_zero_with_zero_gradient() -> None:
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    loss = ce.sparse_softmax_cross_entropy_with_logits(
        torch.full((4,), -100), x, ignore_index=-100, reduction="mean"
    )
    assert loss.requires_grad
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert x.grad is not None
    assert torch.equal(x.grad, torch.zeros_like(x))


def test_labels_and_weights_as_tensors() -> None:
    x = torch.from_numpy(X.copy()).requires_grad_()
    cw, sw = np.array([1.0, 2, 0.5, 1, 3]), np.linspace(0.1, 1, N)
    kw = {"class_weight": cw, "sample_weight": sw, "reduction": "mean"}
    fn = ce.sparse_softmax_cross_entropy_with_logits
    expected, expected_grad = ce.value_and_grad(fn)(K, X, **kw)
    loss = fn(
        torch.from_numpy(K),
        x,
        class_weight=torch.from_numpy(cw),
        sample_weight=torch.from_numpy(sw),
        reduction="mean",
    )
    loss.backward()
    assert x.grad is not None
    np.testing.assert_array_equal(loss.detach().numpy(), expected)
    np.testing.assert_array_equal(x.grad.numpy(), expected_grad)


def test_value_and_grad_returns_tensors() -> None:
    vg = ce.value_and_grad(ce.softmax_cross_entropy_with_logits)(_t(SOFT), _t(X), reduction="sum")
    assert isinstance(vg.value, torch.Tensor)
    assert isinstance(vg.grad, torch.Tensor)
    np.testing.assert_array_equal(
        vg.grad.numpy(), ce.grad(ce.softmax_cross_entropy_with_logits)(SOFT, X, reduction="sum")
    )


def test_double_backward_raises() -> None:
    x = torch.from_numpy(X.copy()).requires_grad_()
    loss = ce.sparse_softmax_cross_entropy_with_logits(torch.from_numpy(K), x, reduction="sum")
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    assert g.requires_grad
    np.testing.assert_array_equal(
        g.detach().numpy(),
        ce.grad(ce.sparse_softmax_cross_entropy_with_logits)(K, X, reduction="sum"),
    )
    with pytest.raises(RuntimeError, match=r"double backward .* is not supported"):
        g.sum().backward()


def test_retained_graph_backward_twice_accumulates_the_same_gradient() -> None:
    x = torch.from_numpy(X.copy()).requires_grad_()
    loss = ce.sparse_softmax_cross_entropy_with_logits(torch.from_numpy(K), x, reduction="mean")
    loss.backward(retain_graph=True)
    assert x.grad is not None
    first = x.grad.clone()
    loss.backward()
    torch.testing.assert_close(x.grad, 2 * first, rtol=0, atol=0)


def test_labels_that_require_grad_are_refused() -> None:
    x = torch.from_numpy(X.copy()).requires_grad_()
    soft = torch.from_numpy(SOFT.copy()).requires_grad_()
    with pytest.raises(
        ValueError,
        match=r"softmax_cross_entropy_with_logits: labels must not require grad \(the gradient "
        r"is taken with respect to logits only\); got a tensor with requires_grad=True "
        r"\(pass labels.detach\(\)\)\.",
    ):
        ce.softmax_cross_entropy_with_logits(soft, x)


def test_mixed_libraries_are_refused() -> None:
    with pytest.raises(
        TypeError,
        match=r"sparse_softmax_cross_entropy_with_logits: labels and logits must come from the "
        r"same array library; got labels from torch \(Tensor\) and logits from numpy "
        r"\(ndarray\)",
    ):
        ce.sparse_softmax_cross_entropy_with_logits(torch.from_numpy(K), X)
    with pytest.raises(
        TypeError,
        match=r"binary_crossentropy: y_true and sample_weight must come from the same array "
        r"library; got y_true from numpy \(ndarray\) and sample_weight from torch \(Tensor\)",
    ):
        ce.binary_crossentropy(BIN, PROBS, sample_weight=torch.ones(N))


def test_no_warning_on_tensors_that_require_grad() -> None:
    x = torch.from_numpy(X.copy()).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ce.sparse_softmax_cross_entropy_with_logits(torch.from_numpy(K), x).sum().backward()
        for name in ("logsumexp", "softmax", "log_softmax", "sigmoid", "softplus", "log_sigmoid"):
            getattr(ce, name)(x).sum().backward()


def test_bfloat16_goes_through_torch_ops() -> None:
    x = torch.from_numpy(X.copy()).to(torch.bfloat16).requires_grad_()
    loss = ce.sparse_softmax_cross_entropy_with_logits(torch.from_numpy(K), x, reduction="mean")
    assert loss.dtype == torch.bfloat16
    loss.backward()
    assert x.grad is not None
    assert x.grad.dtype == torch.bfloat16
    ref = x.detach().double().requires_grad_()
    F.cross_entropy(ref, torch.from_numpy(K)).backward()
    assert ref.grad is not None
    torch.testing.assert_close(x.grad.double(), ref.grad, rtol=2e-2, atol=2e-3)


def test_torch_compile_runs_the_loss_eagerly() -> None:
    k = torch.from_numpy(K)

    def step(z: Any) -> Any:
        return ce.sparse_softmax_cross_entropy_with_logits(k, z * 2.0, reduction="mean")

    compiled = torch.compile(step, backend="eager")
    x = torch.from_numpy(X.copy()).requires_grad_()
    compiled(x).backward()
    ref = torch.from_numpy(X.copy()).requires_grad_()
    step(ref).backward()
    assert x.grad is not None
    assert ref.grad is not None
    torch.testing.assert_close(x.grad, ref.grad, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_tensors_use_torch_ops_on_the_device() -> None:
    x = torch.from_numpy(X.copy()).cuda().requires_grad_()
    k = torch.from_numpy(K).cuda()
    loss = ce.sparse_softmax_cross_entropy_with_logits(k, x, reduction="mean")
    assert loss.device == x.device
    loss.backward()
    expected, expected_grad = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(
        K, X, reduction="mean"
    )
    assert x.grad is not None
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-14)
    np.testing.assert_allclose(x.grad.cpu().numpy(), expected_grad, rtol=1e-13, atol=1e-300)


def test_numpy_users_never_import_torch() -> None:
    code = (
        "import sys, crossentropy as ce;"
        "ce.sparse_softmax_cross_entropy_with_logits([0], [[1.0, 2]]);"
        "ce.value_and_grad(ce.binary_crossentropy)([1.0], [0.5]);"
        "assert 'torch' not in sys.modules and 'crossentropy._torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(("name", "labels", "preds", "kwargs"), CASES, ids=IDS)
def test_without_a_graph_the_value_alone_is_computed(
    name: str, labels: np.ndarray, preds: np.ndarray, kwargs: dict[str, Any]
) -> None:
    fn = getattr(ce, name)
    lab = torch.from_numpy(labels.copy())
    expected = fn(labels, preds, **kwargs)
    with torch.no_grad():
        got = fn(lab, torch.from_numpy(preds.copy()).requires_grad_(), **kwargs)
    assert not got.requires_grad
    np.testing.assert_array_equal(got.numpy(), expected)
    got = fn(lab, torch.from_numpy(preds.copy()), **kwargs)  # no requires_grad
    assert got.grad_fn is None
    np.testing.assert_array_equal(got.numpy(), expected)
