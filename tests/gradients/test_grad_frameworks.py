"""value_and_grad against PyTorch autograd and jax.grad (optax), float64.

Two ways: ``test_matches_golden_*`` reads ``data/framework_grads.json`` (written by
``make_framework_goldens.py`` from the real frameworks), so it runs everywhere; the ``live``
tests recompute the frameworks' gradients and run only where torch / jax+optax are installed
(skipped cleanly otherwise). Focal losses are compared only with hard labels, where the
frameworks' ``(1 - p_t)**gamma`` form and crossentropy's coincide.

The tolerance covers the frameworks' own rounding: they form ``p - y`` directly, which for a
confident row (logit 30) is accurate to ~1e-16 absolute rather than relative.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gradframeworks import FRAMEWORK_CASES, FrameworkCase, case_inputs, jax_grad, torch_grad

import crossentropy as ce

GOLDEN = Path(__file__).resolve().parent / "data" / "framework_grads.json"
RTOL, ATOL = 1e-12, 1e-15

with GOLDEN.open() as fh:
    GOLDEN_DOC = json.load(fh)
GOLDEN_CASES = {c["name"]: c for c in GOLDEN_DOC["cases"]}


def _ce_grad(loss: str, labels: Any, x: np.ndarray, kw: dict[str, Any]) -> np.ndarray:
    res = ce.value_and_grad(getattr(ce, loss))(labels, x, **kw)
    assert res.grad.shape == x.shape
    return np.asarray(res.grad)


def _from_json(entry: dict[str, Any]) -> tuple[Any, np.ndarray, dict[str, Any]]:
    labels = np.asarray(entry["labels"], dtype=entry["labels_dtype"])
    x = np.asarray(entry["predictions"], dtype=np.float64)
    kw = {k: (np.asarray(v) if isinstance(v, list) else v) for k, v in entry["kwargs"].items()}
    return labels, x, kw


def _golden_params(framework: str) -> list[Any]:
    return [pytest.param(name, id=name) for name, c in GOLDEN_CASES.items() if framework in c]


def test_golden_file_matches_case_table() -> None:
    """The committed goldens were generated from the current case table (rerun the script).

    Inputs are compared by shape only: the golden tests use the stored inputs, and NumPy does
    not promise that its random streams stay the same across versions.
    """
    assert list(GOLDEN_CASES) == [c.name for c in FRAMEWORK_CASES]
    for case in FRAMEWORK_CASES:
        entry = GOLDEN_CASES[case.name]
        assert entry["loss"] == case.loss
        assert ("torch" in entry) == (case.torch is not None)
        assert ("jax" in entry) == (case.jax is not None)
        labels, x, kw = case_inputs(case)
        assert np.shape(entry["labels"]) == np.shape(labels)
        assert np.shape(entry["predictions"]) == x.shape
        assert sorted(entry["kwargs"]) == sorted(kw)


def test_golden_cases_cover_every_loss() -> None:
    public_losses = {
        "binary_crossentropy",
        "sigmoid_cross_entropy_with_logits",
        "weighted_cross_entropy_with_logits",
        "categorical_crossentropy",
        "softmax_cross_entropy_with_logits",
        "sparse_categorical_crossentropy",
        "sparse_softmax_cross_entropy_with_logits",
        "binary_focal_crossentropy",
        "categorical_focal_crossentropy",
        "mean_squared_error",
    }
    assert {c["loss"] for c in GOLDEN_CASES.values() if "torch" in c} == public_losses


@pytest.mark.parametrize("name", _golden_params("torch"))
def test_matches_golden_torch(name: str) -> None:
    entry = GOLDEN_CASES[name]
    labels, x, kw = _from_json(entry)
    np.testing.assert_allclose(
        _ce_grad(entry["loss"], labels, x, kw), np.asarray(entry["torch"]), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("name", _golden_params("jax"))
def test_matches_golden_jax(name: str) -> None:
    entry = GOLDEN_CASES[name]
    labels, x, kw = _from_json(entry)
    np.testing.assert_allclose(
        _ce_grad(entry["loss"], labels, x, kw), np.asarray(entry["jax"]), rtol=RTOL, atol=ATOL
    )


TORCH_CASES = [pytest.param(c, id=c.name) for c in FRAMEWORK_CASES if c.torch is not None]
JAX_CASES = [pytest.param(c, id=c.name) for c in FRAMEWORK_CASES if c.jax is not None]


@pytest.mark.parametrize("case", TORCH_CASES)
def test_matches_torch_autograd_live(case: FrameworkCase) -> None:
    pytest.importorskip("torch")
    labels, x, kw = case_inputs(case)
    np.testing.assert_allclose(
        _ce_grad(case.loss, labels, x, kw), torch_grad(case, labels, x, kw), rtol=RTOL, atol=ATOL
    )


@pytest.mark.parametrize("case", JAX_CASES)
def test_matches_jax_grad_live(case: FrameworkCase) -> None:
    pytest.importorskip("jax")
    pytest.importorskip("optax")
    labels, x, kw = case_inputs(case)
    np.testing.assert_allclose(
        _ce_grad(case.loss, labels, x, kw), jax_grad(case, labels, x, kw), rtol=RTOL, atol=ATOL
    )
