"""The core runs on any Array API namespace: array-api-strict stands in for PyTorch, JAX, CuPy."""

from __future__ import annotations

import numpy as np
import pytest

import crossentropy as ce

xp = pytest.importorskip("array_api_strict")

X = np.array([[12.0, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [30, 0, 0]])
K = np.array([0, 1, 2, 0, 0])
ONEHOT = np.eye(3)[K]


def _np(a: object) -> np.ndarray:
    return np.asarray(xp.asarray(a)._array) if hasattr(a, "_array") else np.asarray(a)


@pytest.mark.parametrize(
    ("name", "labels", "kwargs"),
    [
        ("softmax_cross_entropy_with_logits", ONEHOT, {}),
        ("softmax_cross_entropy_with_logits", ONEHOT, {"label_smoothing": 0.2}),
        ("sparse_softmax_cross_entropy_with_logits", K, {}),
        ("sparse_softmax_cross_entropy_with_logits", K, {"class_weight": np.array([1.0, 2, 3])}),
        (
            "sparse_softmax_cross_entropy_with_logits",
            np.array([0, -1, 2, 0, 0]),
            {"ignore_index": -1, "reduction": "mean"},
        ),
        ("categorical_focal_crossentropy", ONEHOT, {"from_logits": True}),
        ("binary_crossentropy", (X > 2).astype(float), {"from_logits": True}),
        ("sigmoid_cross_entropy_with_logits", (X > 2).astype(float), {"pos_weight": 2.0}),
        ("binary_focal_crossentropy", (X > 2).astype(float), {"from_logits": True, "alpha": 0.25}),
        ("mean_squared_error", (X > 2).astype(float), {"reduction": "sum"}),
    ],
)
def test_strict_namespace_matches_numpy(name: str, labels: np.ndarray, kwargs: dict) -> None:
    fn = getattr(ce, name)
    kw_strict = {k: xp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    expected = fn(labels, X, **kwargs)
    got = fn(xp.asarray(labels), xp.asarray(X), **kw_strict)
    assert type(got).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(_np(got), expected, rtol=1e-14)
    vg = ce.value_and_grad(fn)(xp.asarray(labels), xp.asarray(X), **kw_strict)
    expected_grad = ce.grad(fn)(labels, X, **kwargs)
    np.testing.assert_allclose(_np(vg.grad), expected_grad, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
def test_strict_primitives(name: str) -> None:
    fn = getattr(ce, name)
    got = fn(xp.asarray(X))
    np.testing.assert_allclose(_np(got), fn(X), rtol=1e-15)


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid"])
def test_strict_elementwise(name: str) -> None:
    fn = getattr(ce, name)
    v = np.array([-800.0, -40.0, 0.0, 1e-30, 40.0, 800.0])
    np.testing.assert_allclose(_np(fn(xp.asarray(v))), fn(v), rtol=1e-15)


def test_strict_float32_computes_in_float32_and_keeps_the_dtype() -> None:
    got = ce.sparse_softmax_cross_entropy_with_logits(
        xp.asarray(K), xp.asarray(X.astype(np.float32))
    )
    assert got.dtype == xp.float32
    np.testing.assert_allclose(
        _np(got), ce.sparse_softmax_cross_entropy_with_logits(K, X), rtol=1e-6
    )


def test_strict_errors_name_the_index() -> None:
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"logits must not contain NaN; got NaN at index \(3, 1\)"):
        ce.sparse_softmax_cross_entropy_with_logits(xp.asarray(K), xp.asarray(bad))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\); got 5 at index 1"):
        ce.sparse_softmax_cross_entropy_with_logits(
            xp.asarray(np.array([0, 5, 0, 0, 0])), xp.asarray(X)
        )


def test_numpy_never_imports_array_api_compat() -> None:
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, crossentropy as ce;"
        "ce.sparse_softmax_cross_entropy_with_logits([0], np.zeros((1, 3)));"
        "ce.value_and_grad(ce.binary_crossentropy)([[1.0]], [[0.5]]);"
        "print('array_api_compat' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
