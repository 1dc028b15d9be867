"""optax conventions (``optax.losses``), as JAX computes them on the CPU.

Same names, signatures, argument order (``logits`` first, then ``labels``) and defaults as
``optax``; NumPy arrays in and out. What optax does that the exact functions of
:mod:`crossentropy` do not:

- ``labels`` broadcast against ``logits`` (JAX's rules); no check that labels are probabilities;
- the softmax losses compute ``log_softmax = (x - max) - log(sum(exp(x - max)))`` and
  ``logsumexp(x) - x_k``, which cancel for a confident row; a ``+inf`` logit gives ``nan``;
- an integer label outside ``[-C, C)`` gives ``nan`` (JAX's out-of-bounds gather); a negative
  label ``-j`` counts from the end, as NumPy indexing does;
- ``sigmoid_binary_cross_entropy`` computes ``-y log_sigmoid(x) - (1 - y) log_sigmoid(-x)``:
  ``nan`` for an infinite logit, even with a matching label;
- float32 inputs are computed in float32, float64 in float64 (JAX with ``jax_enable_x64``; with
  JAX's default configuration a float64 array is computed in float32: pass float32 to get its
  numbers).

Python lists become float32, JAX's default. Under ``jax.jit`` (or ``jax.vmap``), with JAX
arrays, each function runs on the host through ``jax.pure_callback`` and returns a JAX array of
the shape and dtype it returns eagerly; it is not differentiable by ``jax.grad`` (use the exact
functions of :mod:`crossentropy` for gradients).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from ._common import (
    FloatArray,
    as_float,
    as_labels,
    errstate,
    exp,
    fmt_shape,
    log,
    log1p,
    out,
)

__all__ = [
    "poly_loss_cross_entropy",
    "safe_softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    "sigmoid_focal_loss",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_integer_labels",
]

_PFX = "optax."
Axis = int | tuple[int, ...] | None


# --------------------------------------------------------------------------------------------
# jax.nn building blocks


def _softplus(x: FloatArray) -> FloatArray:
    """``jnp.logaddexp(x, 0)``: ``max(x, 0) + log1p(exp(-|x|))`` (``x + 0`` where that is nan)."""
    with errstate():
        delta = x - 0
        val = np.maximum(x, 0) + log1p(exp(-np.abs(delta)))
        return np.where(np.isnan(delta), x, val).astype(x.dtype, copy=False)


def _log_sigmoid(x: FloatArray) -> FloatArray:
    return -_softplus(-x)


def _axes(fn: str, axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    res = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{fn}: axis must be an int, a tuple of ints or None; got {axis!r}.")
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{fn}: axis must be in [{-ndim}, {ndim}) for {ndim}-d logits; got {axis!r}."
            )
        res.append(int(a) % ndim)
    return tuple(res)


def _where(fn: str, where: Any, x: FloatArray, axis: Any) -> np.ndarray[Any, Any] | None:
    if where is None:
        return None
    w = np.asarray(where)
    if w.dtype.kind != "b":
        raise TypeError(f"{fn}: where must be a boolean array; got dtype {w.dtype}.")
    if w.ndim != x.ndim:
        w = np.expand_dims(w, axis)
    try:
        return np.broadcast_to(w, x.shape)
    except ValueError:
        raise ValueError(
            f"{fn}: where must broadcast against logits.shape={fmt_shape(x.shape)}; got "
            f"where.shape={fmt_shape(np.shape(where))}."
        ) from None


def _log_softmax(x: FloatArray, axes: tuple[int, ...], where: Any) -> FloatArray:
    """``jax.nn.log_softmax``: ``shifted - log(sum(exp(shifted)))``, -inf where masked out."""
    with errstate():
        if where is None:
            m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
            shifted = x - m
            return np.asarray(shifted - log(np.sum(exp(shifted), axis=axes, keepdims=True)))
        m = np.max(x, axis=axes, keepdims=True, where=where, initial=-np.inf)
        shifted = np.where(where, x, -np.inf) - m
        lse = log(np.sum(exp(shifted), axis=axes, keepdims=True, where=where))
        return np.where(where, shifted - lse, -np.inf).astype(x.dtype, copy=False)


def _softmax(x: FloatArray, axes: tuple[int, ...], where: Any) -> FloatArray:
    """``jax.nn.softmax``: ``exp(x - max) / sum``, 0 where masked out."""
    with errstate():
        m = np.max(
            x, axis=axes, keepdims=True, where=True if where is None else where, initial=-np.inf
        )
        e = exp((x if where is None else np.where(where, x, -np.inf)) - m)
        s = np.sum(e, axis=axes, keepdims=True, where=True if where is None else where)
        r = e / s
        return r if where is None else np.where(where, r, 0).astype(x.dtype, copy=False)


def _logsumexp(x: FloatArray, axes: tuple[int, ...], where: Any) -> FloatArray:
    """``jax.nn.logsumexp``: the maximum is replaced by 0 where it is not finite."""
    with errstate():
        w = True if where is None else where
        xx = x if where is None else np.where(where, x, 0).astype(x.dtype, copy=False)
        amax = np.max(xx, axis=axes, keepdims=True, where=w, initial=-np.inf)
        amax = np.where(np.isfinite(amax), amax, 0).astype(x.dtype, copy=False)
        s = np.sum(exp(xx - amax), axis=axes, keepdims=True, where=w)
        return np.asarray(np.squeeze(log(np.abs(s)) + amax, axis=axes))


def _broadcast(fn: str, x: FloatArray, y: FloatArray) -> None:
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(
            f"{fn}: labels must broadcast against logits; got labels.shape="
            f"{fmt_shape(y.shape)}, logits.shape={fmt_shape(x.shape)}."
        ) from None


def _float_labels(fn: str, labels: Any, x: FloatArray, *, floating: bool = False) -> FloatArray:
    y = np.asarray(labels) if labels is not None else None
    if floating and y is not None and y.dtype.kind != "f":
        raise TypeError(f"{fn}: labels must have a floating dtype; got dtype {y.dtype}.")
    arr = as_labels(fn, "labels", labels, x.dtype)
    _broadcast(fn, x, arr)
    return arr


# --------------------------------------------------------------------------------------------
# Losses


def sigmoid_binary_cross_entropy(logits: Any, labels: Any) -> Any:
    r"""``optax.losses.sigmoid_binary_cross_entropy``: element-wise, labels broadcast.

    Differs from :func:`crossentropy.sigmoid_cross_entropy_with_logits`: ``labels`` broadcast,
    float32 is computed in float32, and an infinite logit gives ``nan`` (``0 * inf``).

    .. math::

        \ell = -y \log\sigma(x) - (1 - y)\log\sigma(-x)

    Examples
    --------
    >>> from crossentropy.compat import optax
    >>> optax.sigmoid_binary_cross_entropy([2.0, -1.0, float("inf")], [1.0, 0.0, 1.0])
    array([0.12692802, 0.3132617 ,        nan], dtype=float32)
    """
    fn = _PFX + "sigmoid_binary_cross_entropy"
    x = as_float(fn, "logits", logits)
    y = _float_labels(fn, labels, x)
    with errstate():
        return out(-y * _log_sigmoid(x) - (1.0 - y) * _log_sigmoid(-x))


def sigmoid_focal_loss(logits: Any, labels: Any, *, alpha: Any = None, gamma: Any = 2.0) -> Any:
    r"""``optax.losses.sigmoid_focal_loss``: the focal factor computed in log space.

    Differs from :func:`crossentropy.binary_focal_crossentropy`: ``labels`` broadcast; the
    factor is ``exp(gamma * logsumexp([log p, log q], b=[1 - y, y]))``; float32 in float32.

    .. math::

        \ell = w\,(1 - p_t)^\gamma\,\mathrm{bce}(x, y),\quad
        w = \alpha y + (1 - \alpha)(1 - y)\ \text{or}\ 1

    Examples
    --------
    >>> from crossentropy.compat import optax
    >>> optax.sigmoid_focal_loss([2.0, -1.0], [1.0, 0.0], alpha=0.25)
    array([0.00045089, 0.01699354], dtype=float32)
    """
    fn = _PFX + "sigmoid_focal_loss"
    x = as_float(fn, "logits", logits)
    y = _float_labels(fn, labels, x)
    with errstate():
        ce = -y * _log_sigmoid(x) - (1.0 - y) * _log_sigmoid(-x)
        log_p = _log_sigmoid(x)
        log_q = _log_sigmoid(-x)
        shape = np.broadcast_shapes(x.shape, y.shape)
        a = np.stack([np.broadcast_to(log_p, shape), np.broadcast_to(log_q, shape)], axis=-1)
        b = np.stack([np.broadcast_to(1 - y, shape), np.broadcast_to(y, shape)], axis=-1)
        # jax.scipy.special.logsumexp(a, axis=-1, b=b): entries with b = 0 drop out first.
        a = np.where(b != 0, a, -np.inf)
        amax = np.max(a, axis=-1, keepdims=True)
        amax = np.where(np.isfinite(amax), amax, 0).astype(x.dtype, copy=False)
        sumexp = np.sum(exp(a - amax) * b, axis=-1)
        lse = log(np.abs(sumexp)) + amax[..., 0]
        lse = np.where(np.sign(sumexp) < 0, np.nan, lse).astype(x.dtype, copy=False)
        loss = ce * exp(gamma * lse)
        if alpha is None:
            return out(loss)
        return out((alpha * y + (1.0 - alpha) * (1.0 - y)) * loss)


def softmax_cross_entropy(logits: Any, labels: Any, axis: Axis = -1, where: Any = None) -> Any:
    r"""``optax.losses.softmax_cross_entropy``: ``-sum(labels * log_softmax(logits))``.

    Differs from :func:`crossentropy.softmax_cross_entropy_with_logits`: ``log_softmax`` is
    ``(x - max) - log(sum(exp(x - max)))`` (cancels for a confident row), labels broadcast and
    are not checked; ``axis`` may be a tuple or None; ``where`` masks classes out.

    .. math::

        \ell = -\sum_c y_c\big((x_c - m) - \log \textstyle\sum_k e^{x_k - m}\big)

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import optax
    >>> optax.softmax_cross_entropy(np.array([[12.0, 3, 2]]), np.array([[1.0, 0, 0]]))
    array([0.00016880])
    """
    fn = _PFX + "softmax_cross_entropy"
    x = as_float(fn, "logits", logits)
    y = _float_labels(fn, labels, x)
    axes = _axes(fn, axis, x.ndim)
    w = _where(fn, where, x, axis)
    logp = _log_softmax(x, axes, w)
    with errstate():
        return out(-np.sum(y * logp, axis=axes, where=True if w is None else w))


def softmax_cross_entropy_with_integer_labels(
    logits: Any, labels: Any, axis: int | tuple[int, ...] = -1, where: Any = None
) -> Any:
    r"""``optax.losses.softmax_cross_entropy_with_integer_labels``: ``logsumexp(x) - x_k``.

    Differs from :func:`crossentropy.sparse_softmax_cross_entropy_with_logits`: computes
    ``logsumexp(x) - x_k`` (cancels for a confident row); a label outside ``[-C, C)`` gives
    ``nan`` and a negative one counts from the end, where the exact function raises.

    .. math::

        \ell = \log \sum_c e^{x_c} - x_k

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import optax
    >>> optax.softmax_cross_entropy_with_integer_labels(np.array([[2.0, 1.0], [0.0, 3.0]]),
    ...                                                 np.array([0, 5]))
    array([0.31326169,        nan])
    """
    fn = _PFX + "softmax_cross_entropy_with_integer_labels"
    x = as_float(fn, "logits", logits)
    k = np.asarray(labels)
    if k.dtype.kind not in "iu":
        raise TypeError(f"{fn}: labels must have an integer dtype; got dtype {k.dtype}.")
    w = _where(fn, where, x, axis)
    if isinstance(axis, tuple):
        logit_axes = _axes(fn, axis, x.ndim)
        batch = tuple(i for i in range(x.ndim) if i not in logit_axes)
        x = x.transpose(batch + logit_axes).reshape([x.shape[i] for i in batch] + [-1])
        if w is not None:
            w = w.transpose(batch + logit_axes).reshape(x.shape)
        ax = len(batch)
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        ax = _axes(fn, axis, x.ndim)[0]
    else:
        raise TypeError(f"{fn}: axis must be an int or a tuple of ints; got {axis!r}.")
    xl = np.moveaxis(x, ax, -1)
    wl = None if w is None else np.moveaxis(w, ax, -1)
    if k.shape != xl.shape[:-1]:
        raise ValueError(
            f"{fn}: labels must have the shape of logits without the class axis, "
            f"{fmt_shape(xl.shape[:-1])}; got labels.shape={fmt_shape(k.shape)}."
        )
    c = xl.shape[-1]
    with errstate():
        inb = (k >= -c) & (k < c)
        kk = np.where(inb, np.where(k < 0, k + c, k), 0).astype(np.intp)
        label_logits = np.take_along_axis(xl, kk[..., None], axis=-1)[..., 0]
        label_logits = np.where(inb, label_logits, np.nan).astype(x.dtype, copy=False)
        res = _logsumexp(xl, (xl.ndim - 1,), wl) - label_logits
        if wl is not None:
            res = np.where(np.any(wl, axis=-1), res, 0).astype(x.dtype, copy=False)
        return out(res)


def safe_softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    r"""``optax.losses.safe_softmax_cross_entropy``: ``0 * log 0 = 0`` on the last axis.

    Differs from :func:`crossentropy.softmax_cross_entropy_with_logits`: a class with label 0
    contributes 0 even where its logit is -inf; ``log_softmax`` cancels for a confident row.

    .. math::

        \ell = -\sum_{c:\,y_c \ne 0} y_c \log \operatorname{softmax}(x)_c

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import optax
    >>> optax.safe_softmax_cross_entropy(np.array([[0.0, -np.inf]]), np.array([[1.0, 0.0]]))
    array([-0.])
    """
    fn = _PFX + "safe_softmax_cross_entropy"
    x = as_float(fn, "logits", logits)
    y = _float_labels(fn, labels, x)
    if x.ndim == 0:
        raise ValueError(f"{fn}: logits must have at least 1 dimension; got a 0-d array.")
    logp = _log_softmax(x, (x.ndim - 1,), None)
    with errstate():
        terms = np.where(y != 0.0, y * logp, 0).astype(x.dtype, copy=False)
        return out(-np.sum(terms, axis=-1))


def poly_loss_cross_entropy(
    logits: Any, labels: Any, *, epsilon: Any = 2.0, axis: Axis = -1, where: Any = None
) -> Any:
    r"""``optax.losses.poly_loss_cross_entropy``: cross-entropy plus ``epsilon * (1 - p_t)``.

    Differs from :func:`crossentropy.softmax_cross_entropy_with_logits`: adds the PolyLoss term
    (Leng et al., 2022); the softmax and log-softmax are optax's (see
    :func:`softmax_cross_entropy`).

    .. math::

        \ell = \mathrm{CE}(x, y) + \epsilon \sum_c y_c\,(1 - \operatorname{softmax}(x)_c)

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import optax
    >>> optax.poly_loss_cross_entropy(np.array([[2.0, 1.0]]), np.array([[1.0, 0.0]]))
    array([0.85114453])
    """
    fn = _PFX + "poly_loss_cross_entropy"
    x = as_float(fn, "logits", logits)
    y = _float_labels(fn, labels, x, floating=True)
    axes = _axes(fn, axis, x.ndim)
    w = _where(fn, where, x, axis)
    p = _softmax(x, axes, w)
    mask = True if w is None else w
    with errstate():
        one_minus_pt = np.sum(y * (1 - p), axis=axes, where=mask)
        ce = -np.sum(y * _log_softmax(x, axes, w), axis=axes, where=mask)
        return out(ce + epsilon * one_minus_pt)


# --------------------------------------------------------------------------------------------
# Under jax.jit / jax.vmap: the same NumPy function on the host, through jax.pure_callback.


def _traceable(f: Callable[..., Any]) -> Callable[..., Any]:
    """``f`` itself, except that traced JAX arguments are computed through ``jax.pure_callback``
    (the output's shape and dtype are found by running ``f`` once on zeros of the same shapes)."""

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        values = [*args, *kwargs.values()]
        if not any(type(v).__module__.partition(".")[0] in ("jax", "jaxlib") for v in values):
            return f(*args, **kwargs)
        import jax

        if not any(isinstance(v, jax.core.Tracer) for v in values):
            return f(*args, **kwargs)
        where = [i for i, v in enumerate(values) if isinstance(v, jax.Array)]
        keys = list(kwargs)

        def host(*arrays: Any) -> Any:
            vals = list(values)
            for i, a in zip(where, arrays, strict=True):
                vals[i] = np.asarray(a)
            return np.asarray(
                f(*vals[: len(args)], **dict(zip(keys, vals[len(args) :], strict=True)))
            )

        probe = host(*(np.zeros(values[i].shape, values[i].dtype) for i in where))
        shape = jax.ShapeDtypeStruct(probe.shape, probe.dtype)
        traced = [values[i] for i in where]
        return jax.pure_callback(host, shape, *traced, vmap_method="sequential")

    return wrapped


poly_loss_cross_entropy = _traceable(poly_loss_cross_entropy)
safe_softmax_cross_entropy = _traceable(safe_softmax_cross_entropy)
sigmoid_binary_cross_entropy = _traceable(sigmoid_binary_cross_entropy)
sigmoid_focal_loss = _traceable(sigmoid_focal_loss)
softmax_cross_entropy = _traceable(softmax_cross_entropy)
softmax_cross_entropy_with_integer_labels = _traceable(softmax_cross_entropy_with_integer_labels)
