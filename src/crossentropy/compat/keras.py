"""Keras 3 conventions (``keras.losses``), with the numbers of its TensorFlow backend.

Same names, signatures, argument order and defaults as ``keras.losses``; NumPy arrays in and out.
What Keras does that the exact functions of :mod:`crossentropy` do not:

- probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (``keras.config.epsilon()``) before the log,
  so a probability loss is at most ``-log(1e-7) = 16.118``, and ``p = 0`` for a true class costs
  16.118 instead of ``inf``;
- categorical probabilities are divided by their sum along ``axis`` first (silent
  renormalisation), and the sparse form takes ``log(clip(p))`` through a softmax, which
  renormalises as well;
- float32 inputs are computed in float32, and the loss *classes* cast every input to their
  ``dtype`` (``keras.config.floatx()``, float32) first: a float64 array gives a float32 loss;
- ``from_logits=True`` uses TensorFlow's kernels, which compute ``logsumexp(x) - x`` and so cancel
  for a confident, correct prediction;
- with the TensorFlow backend, ``binary_focal_crossentropy(from_logits=True)`` computes its
  cross-entropy from the logits (no clip) because ``keras.ops.sigmoid`` remembers its input; the
  JAX and PyTorch backends clip the sigmoid output instead.

Python lists become float32, as ``keras.ops.convert_to_tensor`` makes them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._common import (
    FloatArray,
    as_float,
    as_labels,
    check_class_ids,
    check_same_shape,
    check_scalar,
    clip,
    errstate,
    exp,
    fmt_shape,
    log,
    log1p,
    move_last,
    normalise_axis,
    out,
    power,
    reduction_error,
    resolve_dtype,
    sigmoid,
    tf_softmax_xent,
    tf_sparse_softmax_xent,
)

__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "Loss",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
]

EPSILON = 1e-7  # keras.config.epsilon()
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_PFX = "keras."


# --------------------------------------------------------------------------------------------
# Element-wise kernels of the TensorFlow backend (keras/src/backend/tensorflow/nn.py)


def _bce_probs(y: FloatArray, p: FloatArray) -> FloatArray:
    """``-(y log(clip(p)) + (1 - y) log(1 - clip(p)))``."""
    with errstate():
        q = clip(p, EPSILON)
        return -(y * log(q) + (1 - y) * log(1 - q))


def _bce_logits(z: FloatArray, x: FloatArray) -> FloatArray:
    """``tf.nn.sigmoid_cross_entropy_with_logits``: ``relu(x) - x z + log1p(exp(-|x|))``."""
    with errstate():
        cond = x >= 0
        relu = np.where(cond, x, 0).astype(x.dtype, copy=False)
        neg_abs = np.where(cond, -x, x)
        return (relu - x * z) + log1p(exp(neg_abs))


def _cce_probs(y: FloatArray, p: FloatArray) -> FloatArray:
    """Class axis last: renormalise, clip, ``-sum(y log p)``."""
    with errstate():
        q = clip(p / np.sum(p, axis=-1, keepdims=True), EPSILON)
        return np.asarray(-np.sum(y * log(q), axis=-1))


def _tf_softmax(x: FloatArray) -> FloatArray:
    """``tf.nn.softmax`` on the last axis: ``exp(x - max) * (1 / sum)``."""
    with errstate():
        e = exp(x - np.max(x, axis=-1, keepdims=True))
        return np.asarray(e * (1 / np.sum(e, axis=-1, keepdims=True)))


# --------------------------------------------------------------------------------------------
# Shared checks


def _pair(fn: str, y_true: Any, y_pred: Any) -> tuple[FloatArray, FloatArray]:
    p = as_float(fn, "y_pred", y_pred)
    y = as_labels(fn, "y_true", y_true, p.dtype)
    return y, p


def _ls(fn: str, label_smoothing: Any) -> float:
    return check_scalar(fn, "label_smoothing", label_smoothing, lo=0.0, hi=1.0)


def _axis(fn: str, axis: Any, ndim: int) -> int:
    if isinstance(axis, bool):
        raise TypeError(f"{fn}: axis must be an int; got bool {axis!r}.")
    return normalise_axis(fn, axis, ndim)


def _smooth_binary(y: FloatArray, ls: float) -> FloatArray:
    return y * (1.0 - ls) + 0.5 * ls if ls else y


def _warn_one_class(fn: str, p: FloatArray) -> None:
    if p.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn.split('.')[-1]}, expected y_pred.shape to be (batch_size, num_classes) "
            f"with num_classes > 1. Received: y_pred.shape={fmt_shape(p.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y: FloatArray, ls: float) -> FloatArray:
    """Keras 3 divides by the size of the *last* axis, whatever ``axis`` is."""
    if not ls:
        return y
    c = y.dtype.type(y.shape[-1])
    return np.asarray(y * (1.0 - ls) + ls / c)


# --------------------------------------------------------------------------------------------
# Functions


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``keras.losses.binary_crossentropy``: the mean over ``axis`` of the element-wise loss.

    Differs from :func:`crossentropy.binary_crossentropy`: clips ``p`` to
    ``[1e-7, 1 - 1e-7]`` and computes float32 input in float32.

    .. math::

        \ell = -\operatorname{mean}_{axis}\big(y \log \hat p + (1 - y) \log(1 - \hat p)\big),
        \quad \hat p = \operatorname{clip}(p, 10^{-7}, 1 - 10^{-7})

    Logits use ``max(x, 0) - x y + log1p(exp(-|x|))``. ``label_smoothing`` moves labels to
    ``y (1 - s) + s / 2``. ``y_true`` and ``y_pred`` must have the same shape; the result has
    that shape without ``axis``.

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> keras.binary_crossentropy([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])
    array([[0.4915282]], dtype=float32)
    """
    fn = _PFX + "binary_crossentropy"
    y, p = _pair(fn, y_true, y_pred)
    ls = _ls(fn, label_smoothing)
    y = _smooth_binary(y, ls)
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _axis(fn, axis, p.ndim)
    elem = _bce_logits(y, p) if from_logits else _bce_probs(y, p)
    return out(np.mean(elem, axis=ax))


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``keras.losses.categorical_crossentropy``: one-hot or soft labels along ``axis``.

    Differs from :func:`crossentropy.categorical_crossentropy`: divides ``p`` by its sum along
    ``axis`` and clips it to ``[1e-7, 1 - 1e-7]`` (no error for rows that are not
    probabilities); logits go through TensorFlow's ``logsumexp(x) - x``, which cancels.

    .. math::

        \ell = -\sum_c y_c \log \operatorname{clip}\Big(\frac{p_c}{\sum_k p_k},
        10^{-7}, 1 - 10^{-7}\Big)

    ``label_smoothing`` gives ``y (1 - s) + s / C`` with ``C`` the size of the *last* axis.

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> keras.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    array([0.05129331, 2.3025851 ], dtype=float32)
    """
    fn = _PFX + "categorical_crossentropy"
    y, p = _pair(fn, y_true, y_pred)
    ls = _ls(fn, label_smoothing)
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension; got a 0-d array.")
    _warn_one_class(fn, p)
    y = _smooth_categorical(y, ls)
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _axis(fn, axis, p.ndim)
    yl, pl = move_last(y, ax), move_last(p, ax)
    return out(tf_softmax_xent(yl, pl) if from_logits else _cce_probs(yl, pl))


def _sparse_checks(
    fn: str, y_true: Any, y_pred: Any, axis: Any, *, float_labels_ok: bool
) -> tuple[np.ndarray[Any, Any], FloatArray]:
    p = as_float(fn, "y_pred", y_pred)
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension; got a 0-d array.")
    k = np.asarray(y_true)
    if k.dtype.kind not in "iu" and not (float_labels_ok and k.dtype.kind in "fb"):
        raise TypeError(
            f"{fn}: y_true must have an integer dtype (class indices); got dtype {k.dtype}."
        )
    ax = _axis(fn, axis, p.ndim)
    if ax != p.ndim - 1:
        raise ValueError(
            f"{fn}: axis must be the last axis (-1 or {p.ndim - 1}) with the TensorFlow "
            f"backend; got {axis}. Move the class axis last (np.moveaxis(y_pred, {axis}, -1))."
        )
    return k, p


def _sparse_core(
    fn: str, k: np.ndarray[Any, Any], p: FloatArray, from_logits: bool, ignore_class: Any
) -> tuple[FloatArray, np.ndarray[Any, Any] | None]:
    """Returns the per-sample loss and the keras mask (None without ``ignore_class``)."""
    if k.ndim == p.ndim and k.shape[-1] == 1:
        k = k[..., 0]
    if k.shape != p.shape[:-1]:
        raise ValueError(
            f"{fn}: y_true must have the shape of y_pred without its last axis, "
            f"{fmt_shape(p.shape[:-1])}; got y_true.shape={fmt_shape(k.shape)}, "
            f"y_pred.shape={fmt_shape(p.shape)}."
        )
    valid = None
    if ignore_class is not None:
        if isinstance(ignore_class, bool) or not isinstance(ignore_class, (int, np.integer)):
            raise TypeError(
                f"{fn}: ignore_class must be an int or None; got "
                f"{type(ignore_class).__name__} {ignore_class!r}."
            )
        valid = k != p.dtype.type(ignore_class)
        k = np.where(valid, k, 0)
        p = np.where(valid[..., None], p, 0).astype(p.dtype, copy=False)
    k = np.trunc(k).astype(np.int64) if k.dtype.kind in "fb" else k.astype(np.int64)
    check_class_ids(
        fn,
        "y_true",
        k,
        p.shape[-1],
        remedy=("Pass ignore_class=... to skip a class id." if ignore_class is None else ""),
    )
    with errstate():
        logits = p if from_logits else log(clip(p, EPSILON))
    res = tf_sparse_softmax_xent(k, logits)
    if valid is not None:
        res = np.where(valid, res, 0).astype(res.dtype, copy=False)
    return res, valid


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    ignore_class: int | None = None,
    axis: int = -1,
) -> Any:
    r"""``keras.losses.sparse_categorical_crossentropy``: integer class ids, class axis last.

    Differs from :func:`crossentropy.sparse_categorical_crossentropy`: takes
    ``log(clip(p, 1e-7, 1 - 1e-7))`` and then a log-softmax of that, so probabilities are
    renormalised; an ignored entry (``ignore_class``) gives 0.

    .. math::

        \ell = \log \sum_c \hat p_c - \log \hat p_k,
        \quad \hat p = \operatorname{clip}(p, 10^{-7}, 1 - 10^{-7})

    ``y_true`` has the shape of ``y_pred`` without the last axis (a trailing axis of size 1 is
    squeezed). Float class ids are truncated to integers, as ``tf.cast`` does.

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> keras.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    array([0.05129344, 2.3025851 ], dtype=float32)
    """
    fn = _PFX + "sparse_categorical_crossentropy"
    k, p = _sparse_checks(fn, y_true, y_pred, axis, float_labels_ok=True)
    return out(_sparse_core(fn, k, p, from_logits, ignore_class)[0])


def _focal_args(fn: str, gamma: Any, alpha: Any, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    g = check_scalar(fn, "gamma", gamma)
    if alpha is None:
        raise TypeError(f"{fn}: alpha must be a number or an array of numbers; got None.")
    a = np.asarray(alpha)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: alpha must be a number or an array of numbers; got {alpha!r}.")
    # A Python number stays one: Keras computes ``1 - alpha`` in double, then casts.
    return g, (a.astype(dtype) if a.ndim else float(a))


def binary_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``keras.losses.binary_focal_crossentropy``: ``(1 - p_t)^gamma`` times the binary loss.

    Differs from :func:`crossentropy.binary_focal_crossentropy`: the cross-entropy of
    probabilities is clipped at ``1e-7`` (the focal factor ``(1 - p_t)^gamma`` uses the
    unclipped ``p``), and ``alpha`` applies only with ``apply_class_balancing=True``.

    .. math::

        p_t = y p + (1 - y)(1 - p), \qquad
        \ell = \operatorname{mean}_{axis}\big(w\,(1 - p_t)^\gamma\,\mathrm{bce}(y, p)\big),
        \quad w = y\alpha + (1 - y)(1 - \alpha)\ \text{or}\ 1

    With ``from_logits=True`` the TensorFlow backend computes ``bce`` from the logits (no clip).

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> keras.binary_focal_crossentropy([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], gamma=2.0)
    array([0.32986468, 0.20579839], dtype=float32)
    """
    fn = _PFX + "binary_focal_crossentropy"
    y, p = _pair(fn, y_true, y_pred)
    ls = _ls(fn, label_smoothing)
    g, a = _focal_args(fn, gamma, alpha, p.dtype)
    y = _smooth_binary(y, ls)
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _axis(fn, axis, p.ndim)
    with errstate():
        if from_logits:
            bce = _bce_logits(y, p)
            p = sigmoid(p)
        else:
            bce = _bce_probs(y, p)
        p_t = y * p + (1 - y) * (1 - p)
        focal = power(1.0 - p_t, g) * bce
        if apply_class_balancing:
            focal = (y * a + (1 - y) * (1 - a)) * focal
        return out(np.mean(focal, axis=ax).astype(p.dtype, copy=False))


def categorical_focal_crossentropy(
    y_true: Any,
    y_pred: Any,
    alpha: Any = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``keras.losses.categorical_focal_crossentropy``.

    Differs from :func:`crossentropy.categorical_focal_crossentropy`: renormalises and clips
    ``p`` to ``[1e-7, 1 - 1e-7]`` (also after a softmax of logits), and ``alpha`` (0.25 by
    default) always multiplies the loss.

    .. math::

        \hat p = \operatorname{clip}\Big(\frac{p}{\sum_k p_k}, 10^{-7}, 1 - 10^{-7}\Big),\qquad
        \ell = -\sum_c \alpha_c (1 - \hat p_c)^\gamma\, y_c \log \hat p_c

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> keras.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]],
    ...                                      [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    array([3.2058331e-05, 4.6627346e-01], dtype=float32)
    """
    fn = _PFX + "categorical_focal_crossentropy"
    y, p = _pair(fn, y_true, y_pred)
    ls = _ls(fn, label_smoothing)
    g, a = _focal_args(fn, gamma, alpha, p.dtype)
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension; got a 0-d array.")
    _warn_one_class(fn, p)
    y = _smooth_categorical(y, ls)
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _axis(fn, axis, p.ndim)
    with errstate():
        if from_logits:
            p = np.moveaxis(_tf_softmax(move_last(p, ax)), -1, ax)
        q = clip(p / np.sum(p, axis=ax, keepdims=True), EPSILON)
        cce = -y * log(q)
        try:
            weighting = power(1.0 - q, g) * a
        except ValueError:
            raise ValueError(
                f"{fn}: alpha must broadcast against y_pred.shape={fmt_shape(p.shape)}; got "
                f"alpha.shape={fmt_shape(np.shape(a))}."
            ) from None
        return out(np.sum(weighting * cce, axis=ax).astype(p.dtype, copy=False))


# --------------------------------------------------------------------------------------------
# Classes and their reduction (keras/src/losses/loss.py)


def _squeeze_or_expand(
    x1: np.ndarray[Any, Any], x2: np.ndarray[Any, Any], expand_rank_1: bool = True
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Keras's ``squeeze_or_expand_to_same_rank``: fix a rank difference of one trailing 1."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _to_dtype(fn: str, name: str, x: Any, dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """``ops.convert_to_tensor(x, dtype=self.dtype)``: any real input, cast to the loss dtype."""
    if x is None:
        raise TypeError(f"{fn}: {name} must be an array of numbers; got None.")
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{fn}: {name} must have a real floating, integer or boolean dtype; "
            f"got dtype {arr.dtype}."
        )
    return arr.astype(dtype)


def _broadcast_mul(
    fn: str, values: np.ndarray[Any, Any], weight: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    try:
        return np.asarray(values * weight)
    except ValueError:
        raise ValueError(
            f"{fn}: sample_weight must broadcast against the per-sample loss of shape "
            f"{fmt_shape(values.shape)}; got sample_weight.shape={fmt_shape(weight.shape)}."
        ) from None


def _reduce_weighted(
    fn: str,
    values: np.ndarray[Any, Any],
    sample_weight: Any,
    mask: np.ndarray[Any, Any] | None,
    reduction: str | None,
    dtype: np.dtype[Any],
) -> Any:
    """``reduce_weighted_values``: merge the mask into the weights, weight, then reduce."""
    t = dtype.type
    values = values.astype(dtype, copy=False)
    sw = None if sample_weight is None else _to_dtype(fn, "sample_weight", sample_weight, dtype)
    with errstate():
        if mask is not None:
            if reduction in ("mean", "sum_over_batch_size"):
                total = t(mask.size)
                valid = np.sum(mask.astype(dtype))
                mask_weight = total / valid if valid != 0 else t(0)
                float_mask = np.where(mask, mask_weight, t(0)).astype(dtype)
            else:
                float_mask = mask.astype(dtype)
            if sw is not None:
                float_mask, sw = _squeeze_or_expand(float_mask, sw)
                sw = _broadcast_mul(fn, sw, float_mask)
            else:
                sw = float_mask
        if sw is not None:
            values, sw = _squeeze_or_expand(values, sw)
            values = _broadcast_mul(fn, values, sw)
        if reduction in (None, "none") or values.shape in ((), (0,)):
            return out(values)
        loss = np.sum(values, dtype=dtype)
        if reduction == "sum":
            return out(loss)
        if reduction == "mean_with_sample_weight" and sw is not None:
            divisor = np.sum(sw, dtype=dtype)
        else:
            divisor = t(values.size)
        return out(loss / divisor if divisor != 0 else t(0))


class Loss:
    """Base of the loss classes: ``reduction``, ``name`` and ``dtype`` as in ``keras.Loss``.

    ``__call__(y_true, y_pred, sample_weight=None)`` casts both inputs (and the weights) to
    ``dtype`` (float32 unless given: Keras's ``floatx``), computes the per-sample loss, applies
    ``sample_weight`` (broadcast after fixing a rank difference of one trailing axis of size 1)
    and reduces it: ``"sum_over_batch_size"``/``"mean"`` divide the weighted sum by the number
    of loss entries, ``"mean_with_sample_weight"`` by the sum of the weights, ``"sum"`` sums,
    ``"none"``/``None`` return the weighted per-sample losses. A zero divisor gives 0.
    """

    _fn = "keras.Loss"

    def __init__(
        self,
        name: str | None = None,
        reduction: str | None = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        if reduction not in REDUCTIONS:
            raise reduction_error(self._fn, reduction, REDUCTIONS)
        self.name = name
        self.reduction = reduction
        self.dtype = resolve_dtype(self._fn, dtype)

    def call(
        self, y_true: np.ndarray[Any, Any], y_pred: np.ndarray[Any, Any]
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """Per-sample loss and an optional mask, on inputs already cast to ``dtype``."""
        raise NotImplementedError

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        fn = self._fn
        p = _to_dtype(fn, "y_pred", y_pred, self.dtype)
        y = _to_dtype(fn, "y_true", y_true, self.dtype)
        y, p = _squeeze_or_expand(y, p)
        values, mask = self.call(y, p)
        return _reduce_weighted(fn, values, sample_weight, mask, self.reduction, self.dtype)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


class BinaryCrossentropy(Loss):
    """``keras.losses.BinaryCrossentropy``: :func:`binary_crossentropy`, then the reduction.

    Differs from :func:`crossentropy.binary_crossentropy`: clips at 1e-7 and casts every input
    to float32 unless ``dtype`` says otherwise.

    Examples
    --------
    >>> from crossentropy.compat import keras
    >>> bce = keras.BinaryCrossentropy(from_logits=True)
    >>> bce([[0, 1], [0, 0]], [[-18.6, 0.51], [2.94, -12.8]], sample_weight=[0.8, 0.2])
    np.float32(0.2436386)
    """

    _fn = "keras.BinaryCrossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.label_smoothing = _ls(self._fn, label_smoothing)
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        v = binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing, self.axis)
        return np.asarray(v), None


class CategoricalCrossentropy(Loss):
    """``keras.losses.CategoricalCrossentropy``: :func:`categorical_crossentropy`, reduced.

    Differs from :func:`crossentropy.categorical_crossentropy`: renormalises and clips ``p`` and
    casts every input to float32 unless ``dtype`` says otherwise.
    """

    _fn = "keras.CategoricalCrossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.label_smoothing = _ls(self._fn, label_smoothing)
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        v = categorical_crossentropy(
            y_true, y_pred, self.from_logits, self.label_smoothing, self.axis
        )
        return np.asarray(v), None


class SparseCategoricalCrossentropy(Loss):
    """``keras.losses.SparseCategoricalCrossentropy``: integer ids, ``ignore_class``, reduced.

    Differs from :func:`crossentropy.sparse_categorical_crossentropy`: clips and renormalises
    ``p``; class ids are cast to float32 and back; ignored entries are masked out of
    ``"sum_over_batch_size"`` (the mean is over the entries kept, 0 when none is).
    """

    _fn = "keras.SparseCategoricalCrossentropy"

    def __init__(
        self,
        from_logits: bool = False,
        ignore_class: int | None = None,
        reduction: str | None = "sum_over_batch_size",
        axis: int = -1,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        k, p = _sparse_checks(self._fn, y_true, y_pred, self.axis, float_labels_ok=True)
        return _sparse_core(self._fn, k, p, self.from_logits, self.ignore_class)


class BinaryFocalCrossentropy(Loss):
    """``keras.losses.BinaryFocalCrossentropy``: :func:`binary_focal_crossentropy`, reduced.

    Differs from :func:`crossentropy.binary_focal_crossentropy`: clips at 1e-7, ``alpha`` only
    with ``apply_class_balancing``, inputs cast to float32 unless ``dtype`` says otherwise.
    """

    _fn = "keras.BinaryFocalCrossentropy"

    def __init__(
        self,
        apply_class_balancing: bool = False,
        alpha: float = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "binary_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = _ls(self._fn, label_smoothing)
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        v = binary_focal_crossentropy(
            y_true,
            y_pred,
            self.apply_class_balancing,
            self.alpha,
            self.gamma,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )
        return np.asarray(v), None


class CategoricalFocalCrossentropy(Loss):
    """``keras.losses.CategoricalFocalCrossentropy``: :func:`categorical_focal_crossentropy`.

    Differs from :func:`crossentropy.categorical_focal_crossentropy`: renormalises and clips,
    ``alpha`` 0.25 by default, inputs cast to float32 unless ``dtype`` says otherwise.
    """

    _fn = "keras.CategoricalFocalCrossentropy"

    def __init__(
        self,
        alpha: Any = 0.25,
        gamma: float = 2.0,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: str | None = "sum_over_batch_size",
        name: str = "categorical_focal_crossentropy",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = alpha
        self.gamma = gamma
        self.from_logits = from_logits
        self.label_smoothing = _ls(self._fn, label_smoothing)
        self.axis = axis

    def call(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        v = categorical_focal_crossentropy(
            y_true,
            y_pred,
            self.alpha,
            self.gamma,
            self.from_logits,
            self.label_smoothing,
            self.axis,
        )
        return np.asarray(v), None
