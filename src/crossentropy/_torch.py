"""PyTorch tensors: every loss is differentiable with ``loss.backward()``, in one fused pass.

Imported by :mod:`crossentropy._frameworks` only when a loss is given a PyTorch tensor as its
predictions. The loss and its analytic gradient are computed together, once, in the forward of a
``torch.autograd.Function``; backward multiplies the saved gradient by ``grad_output``
(broadcast over the class axis for ``reduction="none"``). So ``backward`` costs one multiply (none
when ``grad_output`` is 1, as for ``loss.backward()`` on a scalar loss).

- CPU tensors of float16, float32 or float64: the NumPy path on zero-copy views
  (``tensor.detach().numpy()``; the fused numba kernels where they apply), the results wrapped
  back with ``torch.from_numpy``, so values and gradients are bit-identical to NumPy's.
- Any other device or dtype (CUDA, MPS, bfloat16): the array-API core in torch ops, on the
  detached tensors.
- Labels, class and sample weights may be tensors (or NumPy-free Python values); they are
  constants: a tensor among them that requires grad is refused. Gradients are with respect to
  the predictions only; double backward is not supported (``create_graph=True`` gives the first
  gradient; differentiating that raises a RuntimeError that says so).
- ``torch.compile``: the call is excluded from the graph (``torch.compiler.disable``), so a
  compiled model runs it eagerly, through the same Function, with a graph break.
- A batch whose samples are all ignored gives a 0 that is still attached to the graph, with a
  zero gradient.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch

from ._reduction import LossResult

__all__ = ["call"]

_NUMPY_DTYPES = {
    torch.float16,
    torch.float32,
    torch.float64,
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
}


def _to_torch(a: Any) -> torch.Tensor:
    """A NumPy result as a CPU tensor, sharing memory where NumPy's layout allows it."""
    arr = np.asarray(a)
    if not arr.flags.writeable or any(s < 0 for s in arr.strides):
        arr = arr.copy()
    return torch.from_numpy(arr)


def _tensors(bound: inspect.BoundArguments) -> dict[str, torch.Tensor]:
    return {k: v for k, v in bound.arguments.items() if isinstance(v, torch.Tensor)}


def _check_constants(
    fn: str, tensors: dict[str, torch.Tensor], wrt: str, shown: dict[str, str]
) -> None:
    """Labels and weights must not require grad; every tensor must be on the predictions' device."""
    device = tensors[wrt].device
    for name, t in tensors.items():
        label = shown.get(name, name)
        if name != wrt and t.requires_grad and torch.is_grad_enabled():
            raise ValueError(
                f"{fn}: {label} must not require grad (the gradient is taken with respect to "
                f"{shown[wrt]} only); got a tensor with requires_grad=True (pass "
                f"{label}.detach())."
            )
        if t.device != device:
            raise ValueError(
                f"{fn}: {label} must be on {shown[wrt]}'s device {device}; got device {t.device}."
            )


def _compute(
    impl: Any, bound: inspect.BoundArguments, wrt: str, need_grad: bool = True
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The value and (when ``need_grad``) the gradient with respect to ``wrt``, as tensors on the
    input's device."""
    tensors = _tensors(bound)
    args = dict(bound.arguments)
    args["need_grad"] = need_grad
    args.pop("out", None)
    if all(t.device.type == "cpu" and t.dtype in _NUMPY_DTYPES for t in tensors.values()):
        for name, t in tensors.items():
            args[name] = t.detach().numpy()
        result = impl(**args)
        grad = _to_torch(result.grad) if need_grad else None
        return _to_torch(result.value), grad
    for name, t in tensors.items():
        args[name] = t.detach()
    result = impl(**args)
    return result.value, result.grad


class _FirstOrder(torch.autograd.Function):
    """The gradient handed back under ``create_graph=True``: differentiating it again raises."""

    @staticmethod
    def forward(ctx: Any, grad: torch.Tensor, preds: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = grad.clone()
        return out

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> Any:
        raise RuntimeError(
            "crossentropy: the gradient of a crossentropy loss is not differentiable (its "
            "backward uses the saved analytic gradient); double backward (a gradient of a "
            "gradient, e.g. a gradient penalty or Hessian-vector product) is not supported."
        )


class _Loss(torch.autograd.Function):
    """``forward(preds, run, axis)``: ``run() -> (value, grad)``; backward scales ``grad``."""

    @staticmethod
    def forward(ctx: Any, preds: torch.Tensor, run: Any, axis: int) -> torch.Tensor:
        value: torch.Tensor
        value, grad = run()
        ctx.save_for_backward(grad, preds)
        ctx.axis = axis
        return value

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        grad, preds = ctx.saved_tensors
        with torch.no_grad():
            if g.ndim == 0 and bool(g == 1):
                out = grad
            elif g.ndim == 0:
                out = grad * g
            else:
                if g.ndim < grad.ndim:  # "none" of a loss that sums over the class axis
                    g = torch.unsqueeze(g, ctx.axis % grad.ndim)
                out = grad * g
        if torch.is_grad_enabled():  # create_graph=True: a second backward must raise
            out = _FirstOrder.apply(out, preds)
        return out, None, None


@torch.compiler.disable
def call(impl: Any, bound: inspect.BoundArguments, t_name: str, p_name: str) -> LossResult:
    """``impl`` on PyTorch predictions: a differentiable value (or value and gradient)."""
    params = list(bound.signature.parameters)
    wrt = params[2]
    shown = {params[1]: t_name, wrt: p_name}
    fn = bound.arguments[params[0]]
    tensors = _tensors(bound)
    _check_constants(fn, tensors, wrt, shown)
    if bound.arguments.get("need_grad", False):
        return LossResult(*_compute(impl, bound, wrt))
    if not (tensors[wrt].requires_grad and torch.is_grad_enabled()):  # no graph: no gradient
        return LossResult(_compute(impl, bound, wrt, need_grad=False)[0], None)
    axis = int(bound.arguments.get("axis", -1))
    run = functools.partial(_compute, impl, bound, wrt)
    value = _Loss.apply(tensors[wrt], run, axis)
    return LossResult(value, None)
