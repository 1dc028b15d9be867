"""JAX arrays: every loss under jax.jit, jax.grad and jax.vmap, with x64 off and on.

References: the NumPy results of the same functions on the same data (on the CPU backend the JAX
path is the NumPy path on host copies, so they must be equal), and ``jax.grad`` of the value
against ``crossentropy.grad`` on NumPy.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

import crossentropy as ce
from tests.test_torch import CASES, IDS, K, X

jax = pytest.importorskip("jax")
jnp = jax.numpy
pytestmark = pytest.mark.skipif(jax.default_backend() != "cpu", reason="the CPU backend only")


def _x64(on: bool) -> Any:
    return jax.enable_x64(on) if hasattr(jax, "enable_x64") else jax.experimental.enable_x64(on)


@pytest.mark.parametrize(("name", "labels", "preds", "kwargs"), CASES, ids=IDS)
@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("x64", [False, True])
def test_jit_grad_vmap_equal_the_numpy_path(
    name: str,
    labels: np.ndarray,
    preds: np.ndarray,
    kwargs: dict[str, Any],
    reduction: str,
    x64: bool,
) -> None:
    fn = getattr(ce, name)
    dtype = np.float64 if x64 else np.float32
    p = preds.astype(dtype)
    lab = labels.astype(np.int32) if labels.dtype.kind == "i" else labels.astype(dtype)
    expected, expected_grad = ce.value_and_grad(fn)(lab, p, reduction=reduction, **kwargs)
    with _x64(x64):
        jl, jp = jnp.asarray(lab), jnp.asarray(p)

        def f(z: Any) -> Any:
            return fn(jl, z, reduction=reduction, **kwargs)

        got = jax.jit(f)(jp)
        assert got.dtype == dtype
        np.testing.assert_array_equal(np.asarray(got), expected)
        np.testing.assert_array_equal(np.asarray(f(jp)), expected)
        total = jax.jit(jax.grad(lambda z: jnp.sum(f(z))))(jp)
        np.testing.assert_array_equal(np.asarray(total), expected_grad)
        np.testing.assert_array_equal(
            np.asarray(jax.grad(lambda z: jnp.sum(f(z)))(jp)), expected_grad
        )
        batched = jax.jit(jax.vmap(f))(jnp.stack([jp, jp[::-1]]))
        np.testing.assert_array_equal(np.asarray(batched[0]), expected)
        np.testing.assert_array_equal(
            np.asarray(batched[1]), fn(lab, p[::-1].copy(), reduction=reduction, **kwargs)
        )
        vg = jax.jit(lambda z: ce.value_and_grad(fn)(jl, z, reduction=reduction, **kwargs))(jp)
        np.testing.assert_array_equal(np.asarray(vg.grad), expected_grad)


def test_grad_at_infinite_logits_has_no_nan() -> None:
    x = X.astype(np.float32)
    x[0, K[0]] = np.inf
    x[1, (K[1] + 1) % 5] = -np.inf
    g = jax.jit(
        jax.grad(
            lambda z: ce.sparse_softmax_cross_entropy_with_logits(
                jnp.asarray(K), z, reduction="sum"
            )
        )
    )(jnp.asarray(x))
    assert not np.isnan(np.asarray(g)).any()
    np.testing.assert_array_equal(
        np.asarray(g), ce.grad(ce.sparse_softmax_cross_entropy_with_logits)(K, x, reduction="sum")
    )


def test_value_checks_under_jit_raise_our_message_when_run() -> None:
    bad = X.copy()
    bad[2, 3] = np.nan
    f = jax.jit(lambda z: ce.sparse_softmax_cross_entropy_with_logits(jnp.asarray(K), z))
    with pytest.raises(
        Exception,
        match=r"sparse_softmax_cross_entropy_with_logits: logits must not contain NaN; got NaN "
        r"at index \(2, 3\)",
    ):
        jax.block_until_ready(f(jnp.asarray(bad.astype(np.float32))))


def test_eager_errors_are_raised_directly() -> None:
    with pytest.raises(ValueError, match=r"labels must be in \[0, 5\); got 7 at index 0"):
        ce.sparse_softmax_cross_entropy_with_logits(
            jnp.asarray([7, 0, 0, 0, 0, 0]), jnp.asarray(X.astype(np.float32))
        )


def test_compat_optax_under_jit() -> None:
    from crossentropy.compat import optax as co

    x, k = jnp.asarray(X.astype(np.float32)), jnp.asarray(K.astype(np.int32))
    eager = co.softmax_cross_entropy_with_integer_labels(x, k)
    jitted = jax.jit(co.softmax_cross_entropy_with_integer_labels)(x, k)
    np.testing.assert_array_equal(np.asarray(jitted), np.asarray(eager))
    y = (x > 0).astype(jnp.float32)
    np.testing.assert_array_equal(
        np.asarray(jax.jit(co.sigmoid_binary_cross_entropy)(x, y)),
        np.asarray(co.sigmoid_binary_cross_entropy(x, y)),
    )


def test_numpy_users_never_import_jax() -> None:
    code = (
        "import sys, crossentropy as ce;"
        "ce.sparse_softmax_cross_entropy_with_logits([0], [[1.0, 2]]);"
        "assert 'jax' not in sys.modules and 'crossentropy._jax' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
