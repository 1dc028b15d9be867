"""Gradient cases shared by the live framework tests and the golden-file script.

Each case names a crossentropy loss with its options and the same loss written with a real
framework: PyTorch (``torch.nn.functional`` or the formula in torch ops, differentiated by
autograd) and JAX (optax's losses or the formula in ``jax.numpy``, differentiated by
``jax.grad``), all in float64. Frameworks are imported only inside the functions that use them,
so importing this module needs NumPy alone.

Conventions that differ are aligned in the case rather than papered over in the comparison:
PyTorch puts the class axis at 1, divides a class-weighted "mean" by the total weight of the
targets (so those cases use "sum"), and optax returns per-example values (reduced here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FRAMEWORK_CASES", "FrameworkCase", "case_inputs", "jax_grad", "torch_grad"]

Inputs = tuple[Any, np.ndarray, dict[str, Any]]


@dataclass(frozen=True)
class FrameworkCase:
    name: str
    loss: str  # crossentropy function name
    make: Callable[[np.random.Generator], Inputs]  # -> labels, predictions, crossentropy kwargs
    torch: Callable[[Any, Any, dict[str, Any]], Any] | None = None  # (labels, preds, kw) -> scalar
    jax: Callable[[Any, Any, dict[str, Any]], Any] | None = None


def _logits(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 3.0) -> np.ndarray:
    x = rng.normal(0.0, scale, shape)
    x.flat[0] = 30.0  # one confident row: the frameworks agree there too, to their accuracy
    return x


def _probs(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    raw = rng.uniform(0.2, 1.0, shape)
    return raw / raw.sum(axis=-1, keepdims=True)


def _soft(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    raw = rng.uniform(0.0, 1.0, shape)
    return raw / raw.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# Inputs


def _sparse(n: int = 6, c: int = 4, **kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        k = rng.integers(0, c, n)
        if "ignore_index" in kw:
            k[1::3] = kw["ignore_index"]
        kwargs = dict(kw)
        if kwargs.get("class_weight") == "random":
            kwargs["class_weight"] = rng.uniform(0.25, 2.0, c)
        return k, _logits(rng, (n, c)), kwargs

    return make


def _sparse_probs(rng: np.random.Generator) -> Inputs:
    return rng.integers(0, 4, 6), _probs(rng, (6, 4)), {"reduction": "mean"}


def _sparse_axis1(rng: np.random.Generator) -> Inputs:
    # (N, C, d): the class axis is 1, PyTorch's layout
    return rng.integers(0, 4, (3, 5)), _logits(rng, (3, 4, 5)), {"axis": 1, "reduction": "mean"}


def _soft_logits(**kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        return _soft(rng, (5, 4)), _logits(rng, (5, 4)), dict(kw)

    return make


def _onehot_logits(**kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        return np.eye(4)[rng.integers(0, 4, 5)], _logits(rng, (5, 4)), dict(kw)

    return make


def _cat_probs(rng: np.random.Generator) -> Inputs:
    return _soft(rng, (5, 4)), _probs(rng, (5, 4)), {"reduction": "mean"}


def _binary_logits(hard: bool, **kw: Any) -> Callable[[np.random.Generator], Inputs]:
    def make(rng: np.random.Generator) -> Inputs:
        shape = (4, 3)
        z = rng.integers(0, 2, shape).astype(np.float64) if hard else rng.uniform(0, 1, shape)
        kwargs = dict(kw)
        if kwargs.get("pos_weight") == "random":
            kwargs["pos_weight"] = rng.uniform(0.25, 3.0, shape[-1])
        if kwargs.get("sample_weight") == "random":
            kwargs["sample_weight"] = rng.uniform(0.0, 2.0, shape)
        return z, _logits(rng, shape), kwargs

    return make


def _binary_probs(rng: np.random.Generator) -> Inputs:
    return rng.uniform(0, 1, (4, 3)), rng.uniform(0.02, 0.98, (4, 3)), {"reduction": "mean"}


def _regression(rng: np.random.Generator) -> Inputs:
    return rng.normal(0, 2, (4, 3)), rng.normal(0, 2, (4, 3)), {"reduction": "mean"}


# ---------------------------------------------------------------------------------------------
# PyTorch (class axis 1; reductions as named)


def _t(x: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(x), dtype=torch.float64)


def _torch_ce(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F

    target = torch.as_tensor(labels) if np.asarray(labels).dtype.kind == "i" else _t(labels)
    weight = _t(kw["class_weight"]) if "class_weight" in kw else None
    return F.cross_entropy(
        x,
        target,
        weight=weight,
        ignore_index=kw.get("ignore_index", -100),
        label_smoothing=kw.get("label_smoothing", 0.0),
        reduction=kw.get("reduction", "mean"),
    ).to(torch.float64)


def _torch_nll_probs(labels: Any, p: Any, kw: dict[str, Any]) -> Any:
    import torch
    import torch.nn.functional as F

    return F.nll_loss(torch.log(p), torch.as_tensor(labels))


def _torch_cat_probs(labels: Any, p: Any, kw: dict[str, Any]) -> Any:
    import torch

    return (-(_t(labels) * torch.log(p)).sum(-1)).mean()


def _torch_bce_logits(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import torch.nn.functional as F

    pw = kw.get("pos_weight")
    return F.binary_cross_entropy_with_logits(
        x,
        _t(labels),
        weight=_t(kw["sample_weight"]) if "sample_weight" in kw else None,
        pos_weight=None if pw is None else _t(pw),
        reduction=kw.get("reduction", "mean"),
    )


def _torch_bce_probs(labels: Any, p: Any, kw: dict[str, Any]) -> Any:
    import torch.nn.functional as F

    return F.binary_cross_entropy(p, _t(labels))


def _torch_mse(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import torch.nn.functional as F

    return F.mse_loss(x, _t(labels))


def _torch_binary_focal(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    # torchvision.ops.sigmoid_focal_loss, written out (torchvision is not installed here):
    # ce * (1 - p_t)**gamma * alpha_t, hard labels.
    import torch
    import torch.nn.functional as F

    z = _t(labels)
    p = torch.sigmoid(x)
    ce_loss = F.binary_cross_entropy_with_logits(x, z, reduction="none")
    p_t = p * z + (1 - p) * (1 - z)
    loss = ce_loss * (1 - p_t) ** kw["gamma"]
    if kw.get("alpha") is not None:
        loss = (kw["alpha"] * z + (1 - kw["alpha"]) * (1 - z)) * loss
    return loss.mean()


def _torch_cat_focal(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    # Lin et al.'s focal loss for one-hot targets: -alpha_k (1 - p_k)^gamma log p_k.
    import torch

    logp = torch.log_softmax(x, dim=-1)
    y = _t(labels)
    alpha = _t(kw["alpha"]) if kw.get("alpha") is not None else 1.0
    terms = -alpha * y * (1 - logp.exp()) ** kw["gamma"] * logp
    return terms.sum(-1).mean()


# ---------------------------------------------------------------------------------------------
# JAX / optax (class axis last; optax returns per-example values)


def _jax_int_ce(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import optax

    return optax.losses.softmax_cross_entropy_with_integer_labels(x, np.asarray(labels)).mean()


def _jax_soft_ce(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import optax

    y = np.asarray(labels)
    if kw.get("label_smoothing"):
        y = optax.smooth_labels(y, kw["label_smoothing"])
    return optax.losses.softmax_cross_entropy(x, y).sum()


def _jax_sigmoid(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import optax

    return optax.losses.sigmoid_binary_cross_entropy(x, np.asarray(labels)).mean()


def _jax_binary_focal(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import optax

    loss = optax.losses.sigmoid_focal_loss(
        x, np.asarray(labels), alpha=kw.get("alpha"), gamma=kw["gamma"]
    )
    return loss.mean()


def _jax_mse(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import optax

    return optax.losses.squared_error(x, np.asarray(labels)).mean()


def _jax_cat_focal(labels: Any, x: Any, kw: dict[str, Any]) -> Any:
    import jax
    import jax.numpy as jnp

    logp = jax.nn.log_softmax(x, axis=-1)
    alpha = jnp.asarray(kw["alpha"]) if kw.get("alpha") is not None else 1.0
    terms = -alpha * jnp.asarray(labels) * (1 - jnp.exp(logp)) ** kw["gamma"] * logp
    return terms.sum(-1).mean()


FRAMEWORK_CASES: tuple[FrameworkCase, ...] = (
    FrameworkCase(
        "sparse_mean",
        "sparse_softmax_cross_entropy_with_logits",
        _sparse(reduction="mean"),
        torch=_torch_ce,
        jax=_jax_int_ce,
    ),
    FrameworkCase(
        "sparse_ignore_mean",
        "sparse_softmax_cross_entropy_with_logits",
        _sparse(reduction="mean", ignore_index=-100),
        torch=_torch_ce,
    ),
    FrameworkCase(
        "sparse_smoothing_mean",
        "sparse_categorical_crossentropy",
        _sparse(reduction="mean", label_smoothing=0.1, from_logits=True),
        torch=_torch_ce,
    ),
    FrameworkCase(
        "sparse_class_weight_sum",
        "sparse_softmax_cross_entropy_with_logits",
        _sparse(reduction="sum", class_weight="random"),
        torch=_torch_ce,
    ),
    FrameworkCase(
        "sparse_all_options_sum",
        "sparse_softmax_cross_entropy_with_logits",
        _sparse(n=7, reduction="sum", class_weight="random", label_smoothing=0.2, ignore_index=3),
        torch=_torch_ce,
    ),
    FrameworkCase(
        "sparse_axis1_mean",
        "sparse_softmax_cross_entropy_with_logits",
        _sparse_axis1,
        torch=_torch_ce,
    ),
    FrameworkCase(
        "sparse_probs_mean",
        "sparse_categorical_crossentropy",
        _sparse_probs,
        torch=_torch_nll_probs,
    ),
    FrameworkCase(
        "soft_logits_mean",
        "softmax_cross_entropy_with_logits",
        _soft_logits(reduction="mean"),
        torch=_torch_ce,
    ),
    FrameworkCase(
        "soft_logits_sum",
        "categorical_crossentropy",
        _soft_logits(reduction="sum", from_logits=True),
        torch=_torch_ce,
        jax=_jax_soft_ce,
    ),
    FrameworkCase(
        "onehot_smoothing_sum",
        "softmax_cross_entropy_with_logits",
        _onehot_logits(reduction="sum", label_smoothing=0.1),
        torch=_torch_ce,
        jax=_jax_soft_ce,
    ),
    FrameworkCase(
        "categorical_probs_mean",
        "categorical_crossentropy",
        _cat_probs,
        torch=_torch_cat_probs,
    ),
    FrameworkCase(
        "sigmoid_soft_mean",
        "sigmoid_cross_entropy_with_logits",
        _binary_logits(hard=False, reduction="mean"),
        torch=_torch_bce_logits,
        jax=_jax_sigmoid,
    ),
    FrameworkCase(
        "sigmoid_pos_weight_mean",
        "sigmoid_cross_entropy_with_logits",
        _binary_logits(hard=False, reduction="mean", pos_weight="random"),
        torch=_torch_bce_logits,
    ),
    FrameworkCase(
        "weighted_pos_weight_sample_weight_sum",
        "weighted_cross_entropy_with_logits",
        _binary_logits(hard=True, reduction="sum", pos_weight=2.5, sample_weight="random"),
        torch=_torch_bce_logits,
    ),
    FrameworkCase(
        "binary_logits_pos_weight_mean",
        "binary_crossentropy",
        _binary_logits(hard=False, reduction="mean", pos_weight="random", from_logits=True),
        torch=_torch_bce_logits,
    ),
    FrameworkCase(
        "binary_probs_mean",
        "binary_crossentropy",
        _binary_probs,
        torch=_torch_bce_probs,
    ),
    FrameworkCase(
        "mse_mean",
        "mean_squared_error",
        _regression,
        torch=_torch_mse,
        jax=_jax_mse,
    ),
    FrameworkCase(
        "binary_focal_g2_alpha_mean",
        "binary_focal_crossentropy",
        _binary_logits(hard=True, reduction="mean", gamma=2.0, alpha=0.25, from_logits=True),
        torch=_torch_binary_focal,
        jax=_jax_binary_focal,
    ),
    FrameworkCase(
        "binary_focal_g05_mean",
        "binary_focal_crossentropy",
        _binary_logits(hard=True, reduction="mean", gamma=0.5, from_logits=True),
        torch=_torch_binary_focal,
        jax=_jax_binary_focal,
    ),
    FrameworkCase(
        "categorical_focal_g2_mean",
        "categorical_focal_crossentropy",
        _onehot_logits(reduction="mean", gamma=2.0, from_logits=True),
        torch=_torch_cat_focal,
        jax=_jax_cat_focal,
    ),
    FrameworkCase(
        "categorical_focal_g15_alpha_mean",
        "categorical_focal_crossentropy",
        _onehot_logits(reduction="mean", gamma=1.5, alpha=[0.25, 0.5, 0.75, 1.0], from_logits=True),
        torch=_torch_cat_focal,
        jax=_jax_cat_focal,
    ),
)


def case_inputs(case: FrameworkCase) -> Inputs:
    """The case's inputs, from a seed derived from its name (stable across runs)."""
    import zlib

    return case.make(np.random.default_rng(zlib.crc32(case.name.encode())))


def torch_grad(case: FrameworkCase, labels: Any, x: np.ndarray, kw: dict[str, Any]) -> np.ndarray:
    """d(case's torch loss)/d(predictions) by autograd, float64, in crossentropy's layout."""
    import torch

    assert case.torch is not None
    xt = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    loss = case.torch(labels, xt, kw)
    (g,) = torch.autograd.grad(loss, xt)
    return g.detach().numpy().copy()


def jax_grad(case: FrameworkCase, labels: Any, x: np.ndarray, kw: dict[str, Any]) -> np.ndarray:
    """d(case's JAX loss)/d(predictions) by jax.grad, float64 (x64 enabled locally)."""
    import jax
    import jax.numpy as jnp

    assert case.jax is not None
    fn = case.jax
    with jax.enable_x64(True):
        g = jax.grad(lambda xx: fn(labels, xx, kw))(jnp.asarray(x, dtype=jnp.float64))
        return np.asarray(g, dtype=np.float64)
