"""JAX arrays on the CPU: every loss under ``jax.jit``, ``jax.grad`` and ``jax.vmap``.

Imported by :mod:`crossentropy._frameworks` only when a loss is given a JAX array as its
predictions. On the CPU backend, for float16, float32 and float64 predictions, the loss and its
analytic gradient are computed together by the NumPy path (the fused kernels where they apply):

- eagerly (no argument traced), directly on the host copies, so every check raises its own
  message at the call;
- under a transformation, through ``jax.pure_callback`` (``vmap_method="sequential"`` under
  ``jax.vmap``) inside a ``jax.custom_vjp`` whose backward multiplies the saved analytic gradient
  by the cotangent: no NaN at +-inf logits, where autodiff of the formula gives one. Shape, dtype
  and option errors still raise at trace time (they depend on shapes only); the data-dependent
  checks (NaN, label ranges, rows of probabilities) run inside the callback, when the computation
  runs, and reach the caller as JAX's runtime error carrying the check's message.

Other backends (GPU, TPU) and bfloat16 keep the array-API core in ``jax.numpy`` (eager only:
its validation needs concrete values). Labels and weights are constants: their cotangents are 0.
"""

from __future__ import annotations

import inspect
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._reduction import LossResult

__all__ = ["call"]

_FLOATS = (np.float16, np.float32, np.float64)


def _value_shape(bound: inspect.BoundArguments, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of the value: () for "mean"/"sum", else the predictions' shape without the
    class axis (the losses with an ``axis``) or itself (the element-wise sigmoid losses)."""
    if bound.arguments.get("reduction", "none") in ("mean", "sum"):
        return ()
    if "axis" not in bound.signature.parameters or not shape:
        return shape
    ax = int(bound.arguments.get("axis", -1)) % len(shape)
    return shape[:ax] + shape[ax + 1 :]


def call(impl: Any, bound: inspect.BoundArguments, t_name: str, p_name: str) -> LossResult:
    """``impl`` on JAX predictions (see the module docstring)."""
    params = list(bound.signature.parameters)
    wrt = params[2]
    args = dict(bound.arguments)
    need_grad = bool(args.pop("need_grad", False))
    args.pop("out", None)
    preds = args[wrt]
    if jax.default_backend() != "cpu" or np.dtype(preds.dtype) not in _FLOATS:
        return impl(**bound.arguments)  # type: ignore[no-any-return]
    names = [wrt] + [k for k, v in args.items() if isinstance(v, jax.Array) and k != wrt]
    dtype = np.dtype(preds.dtype)

    def host(*arrays: Any, grad: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
        a = dict(args)
        a.update(zip(names, (np.asarray(x) for x in arrays), strict=True))
        r = impl(**a, need_grad=grad)
        return np.asarray(r.value, dtype=dtype), np.asarray(r.grad, dtype=dtype) if grad else None

    arrays = [args[k] for k in names]
    if not any(isinstance(x, jax.core.Tracer) for x in arrays):  # eager: no gradient unless asked
        value, g = host(*arrays, grad=need_grad)
        return LossResult(jnp.asarray(value), None if g is None else jnp.asarray(g))

    def both(*xs: Any) -> Any:
        def host_for(*ys: Any) -> Any:
            # under vmap the callback sees one example: its value shape drops the batch axis
            return host(*ys)

        out = (
            jax.ShapeDtypeStruct(_value_shape(bound, tuple(xs[0].shape)), dtype),
            jax.ShapeDtypeStruct(xs[0].shape, dtype),
        )
        return jax.pure_callback(host_for, out, *xs, vmap_method="sequential")

    if need_grad:
        value, grad = both(*arrays)
        return LossResult(value, grad)
    axis = int(bound.arguments.get("axis", -1)) if "axis" in params else -1

    @jax.custom_vjp
    def loss(*xs: Any) -> Any:
        return both(*xs)[0]

    def fwd(*xs: Any) -> Any:
        value, grad = both(*xs)
        return value, (grad, xs[1:])

    def bwd(res: Any, ct: Any) -> Any:
        grad, rest = res
        if 0 < ct.ndim < grad.ndim:
            ct = jnp.expand_dims(ct, axis % grad.ndim)
        zeros = [
            np.zeros(r.shape, dtype=jax.dtypes.float0)
            if not jnp.issubdtype(r.dtype, jnp.inexact)
            else jnp.zeros_like(r)
            for r in rest
        ]
        return (grad * ct, *zeros)

    loss.defvjp(fwd, bwd)
    return LossResult(loss(*arrays), None)
