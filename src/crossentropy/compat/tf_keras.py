"""Keras 2 conventions: ``tf.keras.losses`` up to TensorFlow 2.15, and today's ``tf_keras``.

Same names, signatures, argument order and defaults as ``tf_keras.losses``; NumPy arrays in and
out. What Keras 2 does that the exact functions of :mod:`crossentropy` do not:

- ``binary_crossentropy`` clips ``p`` to ``[1e-7, 1 - 1e-7]`` *and then adds 1e-7 inside each
  log*: ``-(y log(p + 1e-7) + (1 - y) log(1 - p + 1e-7))``. For ``p = 0.5`` this gives
  0.69314694 instead of log 2 = 0.6931472 (SEEDS.md section 2); Keras 3 dropped the addition;
- categorical probabilities are divided by their sum and clipped, as in Keras 3; the sparse form
  takes ``log(clip(p))`` through a softmax, which renormalises;
- float32 inputs are computed in float32, label smoothing in the predictions' dtype.

Python lists become float32, as ``tf.convert_to_tensor`` makes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import keras as _k3
from ._common import (
    FloatArray,
    as_float,
    as_labels,
    check_same_shape,
    clip,
    errstate,
    fmt_shape,
    log,
    move_last,
    out,
    tf_softmax_xent,
)

__all__ = [
    "binary_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
]

EPSILON = 1e-7  # tf_keras.backend.epsilon()
_PFX = "tf_keras."


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``tf_keras.losses.binary_crossentropy``: clip, then ``+1e-7`` inside both logs.

    Differs from :func:`crossentropy.binary_crossentropy`: ``p`` is clipped to
    ``[1e-7, 1 - 1e-7]`` and ``1e-7`` is added inside each log, which biases every value
    (log 2 becomes 0.69314694); float32 is computed in float32.

    .. math::

        \ell = -\operatorname{mean}_{axis}\big(y \log(\hat p + 10^{-7})
        + (1 - y) \log(1 - \hat p + 10^{-7})\big),
        \quad \hat p = \operatorname{clip}(p, 10^{-7}, 1 - 10^{-7})

    Examples
    --------
    >>> from crossentropy.compat import tf_keras
    >>> tf_keras.binary_crossentropy([[[0.0]]], [[[0.5]]])
    array([[0.69314694]], dtype=float32)
    >>> tf_keras.binary_crossentropy([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])
    array([[0.49152803]], dtype=float32)
    """
    fn = _PFX + "binary_crossentropy"
    p = as_float(fn, "y_pred", y_pred)
    y = as_labels(fn, "y_true", y_true, p.dtype)
    ls = _k3._ls(fn, label_smoothing)
    if ls:
        # tf_keras makes label_smoothing a tensor of the predictions' dtype first.
        s = p.dtype.type(ls)
        y = y * (p.dtype.type(1) - s) + p.dtype.type(0.5) * s
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _k3._axis(fn, axis, p.ndim)
    if from_logits:
        elem = _k3._bce_logits(y, p)
    else:
        with errstate():
            q = clip(p, EPSILON)
            # tf_keras adds the Python float 1e-7 (rounded to the dtype) inside each log.
            elem = -(y * log(q + EPSILON) + (1 - y) * log(1 - q + EPSILON))
    return out(np.mean(elem, axis=ax))


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Any:
    r"""``tf_keras.losses.categorical_crossentropy``: renormalise, clip, ``-sum(y log p)``.

    Differs from :func:`crossentropy.categorical_crossentropy`: divides ``p`` by its sum along
    ``axis`` and clips it to ``[1e-7, 1 - 1e-7]``; logits go through TensorFlow's
    ``logsumexp(x) - x``. Label smoothing divides by the size of ``axis`` (Keras 3: last axis).

    .. math::

        \ell = -\sum_c y_c \log \operatorname{clip}\Big(\frac{p_c}{\sum_k p_k},
        10^{-7}, 1 - 10^{-7}\Big)

    Examples
    --------
    >>> from crossentropy.compat import tf_keras
    >>> tf_keras.categorical_crossentropy([[0, 1, 0], [0, 0, 1]],
    ...                                   [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    array([0.05129331, 2.3025851 ], dtype=float32)
    """
    fn = _PFX + "categorical_crossentropy"
    p = as_float(fn, "y_pred", y_pred)
    y = as_labels(fn, "y_true", y_true, p.dtype)
    ls = _k3._ls(fn, label_smoothing)
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension; got a 0-d array.")
    check_same_shape(fn, "y_true", y, "y_pred", p)
    ax = _k3._axis(fn, axis, p.ndim)
    if ls:
        t = p.dtype.type
        s = t(ls)
        y = y * (t(1) - s) + s / t(y.shape[ax])
    yl, pl = move_last(y, ax), move_last(p, ax)
    return out(tf_softmax_xent(yl, pl) if from_logits else _k3._cce_probs(yl, pl))


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
) -> Any:
    r"""``tf_keras.losses.sparse_categorical_crossentropy`` (note: ``axis`` before
    ``ignore_class``, the reverse of Keras 3).

    Differs from :func:`crossentropy.sparse_categorical_crossentropy`: takes
    ``log(clip(p, 1e-7, 1 - 1e-7))`` through a log-softmax, so probabilities are renormalised;
    an ignored entry (``ignore_class``) gives 0; ``axis`` may be any axis.

    .. math::

        \ell = \log \sum_c \hat p_c - \log \hat p_k,
        \quad \hat p = \operatorname{clip}(p, 10^{-7}, 1 - 10^{-7})

    Examples
    --------
    >>> from crossentropy.compat import tf_keras
    >>> tf_keras.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    array([0.05129344, 2.3025851 ], dtype=float32)
    """
    fn = _PFX + "sparse_categorical_crossentropy"
    p = as_float(fn, "y_pred", y_pred)
    if p.ndim < 1:
        raise ValueError(f"{fn}: y_pred must have at least 1 dimension; got a 0-d array.")
    k = np.asarray(y_true)
    if k.dtype.kind not in "iufb":
        raise TypeError(
            f"{fn}: y_true must have an integer dtype (class indices); got dtype {k.dtype}."
        )
    ax = _k3._axis(fn, axis, p.ndim)
    pl: FloatArray = move_last(p, ax)
    # tf_keras flattens y_true when its rank is not rank(y_pred) - 1 (a trailing axis of 1).
    if k.ndim != pl.ndim - 1:
        if k.size != int(np.prod(pl.shape[:-1])):
            raise ValueError(
                f"{fn}: y_true must have the shape of y_pred without axis {axis}, "
                f"{fmt_shape(pl.shape[:-1])} (or with a trailing axis of size 1); got "
                f"y_true.shape={fmt_shape(k.shape)}, y_pred.shape={fmt_shape(p.shape)}."
            )
        k = k.reshape(pl.shape[:-1])
    res, _ = _k3._sparse_core(fn, k, pl, from_logits, ignore_class)
    return out(res)
