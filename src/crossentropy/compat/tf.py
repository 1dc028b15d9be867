"""TensorFlow conventions (``tf.nn``): the four cross-entropies on logits, as its CPU kernels
compute them.

Same names, signatures and defaults as ``tf.nn`` (``labels=`` and ``logits=`` by keyword, as
TensorFlow's documentation writes them; ``name`` is accepted and ignored); NumPy arrays in and
out. What TensorFlow does that the exact functions of :mod:`crossentropy` do not:

- the softmax losses compute ``log(sum(exp(x - max))) - (x_k - max)``: for a confident, correct
  row the two terms nearly cancel and the result keeps only the absolute accuracy of the
  normaliser (SEEDS.md section 3: ``1.6879548708943529e-04`` where the correctly rounded value is
  ``1.6879548708934855e-04``, 3200 units in the last place away, a relative error of 5e-13);
- float32 inputs are computed in float32 (the exact functions compute in float64 and round once);
- labels are cast to the logits' dtype; no check that labels are probabilities, so a row that
  does not sum to 1 gives whatever the formula gives.

Python lists become float32, as ``tf.convert_to_tensor`` makes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import (
    as_float,
    as_labels,
    check_class_ids,
    check_same_shape,
    errstate,
    exp,
    fmt_shape,
    log1p,
    move_last,
    normalise_axis,
    out,
    tf_softmax_xent,
    tf_sparse_softmax_xent,
)

__all__ = [
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_softmax_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
]

_PFX = "tf.nn."


def sigmoid_cross_entropy_with_logits(
    labels: Any = None, logits: Any = None, name: str | None = None
) -> Any:
    r"""``tf.nn.sigmoid_cross_entropy_with_logits``: element-wise, same shape as ``logits``.

    Differs from :func:`crossentropy.sigmoid_cross_entropy_with_logits`: computes float32 in
    float32 as ``max(x, 0) - x z + log1p(exp(-|x|))``, whose first two terms cancel for a
    large logit and a soft label near 1.

    .. math::

        \ell = \max(x, 0) - x z + \log(1 + e^{-|x|})

    Examples
    --------
    >>> from crossentropy.compat import tf
    >>> tf.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0, 1.0], logits=[2.0, -1.0, -3.0])
    array([0.12692802, 0.3132617 , 3.0485873 ], dtype=float32)
    """
    fn = _PFX + "sigmoid_cross_entropy_with_logits"
    x = as_float(fn, "logits", logits)
    z = as_labels(fn, "labels", labels, x.dtype)
    check_same_shape(fn, "labels", z, "logits", x)
    with errstate():
        cond = x >= 0
        relu = np.where(cond, x, 0).astype(x.dtype, copy=False)
        neg_abs = np.where(cond, -x, x)
        return out((relu - x * z) + log1p(exp(neg_abs)))


def weighted_cross_entropy_with_logits(
    labels: Any, logits: Any, pos_weight: Any, name: str | None = None
) -> Any:
    r"""``tf.nn.weighted_cross_entropy_with_logits``: the positive term scaled by ``pos_weight``.

    Differs from :func:`crossentropy.weighted_cross_entropy_with_logits`: computes float32 in
    float32 as ``(1 - z) x + (1 + (q - 1) z)(log1p(exp(-|x|)) + max(-x, 0))``, which cancels
    for a large negative logit with ``z = 0``; ``pos_weight`` may be any broadcastable array.

    .. math::

        \ell = (1 - z)\,x + \big(1 + (q - 1) z\big)\big(\log(1 + e^{-|x|}) + \max(-x, 0)\big)

    Examples
    --------
    >>> from crossentropy.compat import tf
    >>> tf.weighted_cross_entropy_with_logits(labels=[1.0, 0.0], logits=[2.0, -1.0],
    ...                                       pos_weight=3.0)
    array([0.38078403, 0.31326175], dtype=float32)
    """
    fn = _PFX + "weighted_cross_entropy_with_logits"
    x = as_float(fn, "logits", logits)
    z = as_labels(fn, "labels", labels, x.dtype)
    check_same_shape(fn, "labels", z, "logits", x)
    if isinstance(pos_weight, (int, float, np.integer, np.floating)) and not isinstance(
        pos_weight, bool
    ):
        q_minus_1: Any = float(pos_weight) - 1  # a Python number: TF subtracts in double
    else:
        q = as_labels(fn, "pos_weight", pos_weight, x.dtype)
        q_minus_1 = q - 1
    with errstate():
        try:
            log_weight = 1 + q_minus_1 * z
        except ValueError:
            raise ValueError(
                f"{fn}: pos_weight must broadcast against logits.shape={fmt_shape(x.shape)}; "
                f"got pos_weight.shape={fmt_shape(np.shape(pos_weight))}."
            ) from None
        relu_neg = np.maximum(-x, 0)
        return out((1 - z) * x + log_weight * (log1p(exp(-np.abs(x))) + relu_neg))


def softmax_cross_entropy_with_logits(
    labels: Any, logits: Any, axis: int = -1, name: str | None = None
) -> Any:
    r"""``tf.nn.softmax_cross_entropy_with_logits``: a distribution of labels along ``axis``.

    Differs from :func:`crossentropy.softmax_cross_entropy_with_logits`: computes
    ``log(sum(exp(x - m))) - (x_k - m)``, which cancels for a confident, correct row, and does
    not check that the labels sum to 1.

    .. math::

        \ell = \sum_c z_c\Big(\log \sum_k e^{x_k - m} - (x_c - m)\Big),\quad m = \max_k x_k

    Examples
    --------
    >>> import numpy as np
    >>> from crossentropy.compat import tf
    >>> labels = np.eye(3)[[0, 1, 2, 0, 1]]
    >>> logits = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]])
    >>> tf.softmax_cross_entropy_with_logits(labels=labels, logits=logits)[0]
    np.float64(0.00016879548708943529)
    """
    fn = _PFX + "softmax_cross_entropy_with_logits"
    x = as_float(fn, "logits", logits)
    z = as_labels(fn, "labels", labels, x.dtype)
    check_same_shape(fn, "labels", z, "logits", x)
    if x.ndim == 0:
        raise ValueError(f"{fn}: logits must have at least 1 dimension; got a 0-d array.")
    ax = normalise_axis(fn, axis, x.ndim)
    if x.shape[ax] == 0:
        raise ValueError(f"{fn}: logits must have at least one class along axis {axis}; got 0.")
    return out(tf_softmax_xent(move_last(z, ax), move_last(x, ax)))


def sparse_softmax_cross_entropy_with_logits(
    labels: Any, logits: Any, name: str | None = None
) -> Any:
    r"""``tf.nn.sparse_softmax_cross_entropy_with_logits``: class ids, classes on the last axis.

    Differs from :func:`crossentropy.sparse_softmax_cross_entropy_with_logits`: computes
    ``log(sum(exp(x - m))) - (x_k - m)`` (cancels for a confident, correct row); no
    ``ignore_index``, weights or reduction.

    .. math::

        \ell = \log \sum_c e^{x_c - m} - (x_k - m),\quad m = \max_c x_c

    ``labels`` (int32 or int64) have the shape of ``logits`` without the last axis; a label
    outside ``[0, num_classes)`` is an error, as on TensorFlow's CPU.

    Examples
    --------
    >>> from crossentropy.compat import tf
    >>> tf.sparse_softmax_cross_entropy_with_logits(labels=[0, 1], logits=[[2.0, 1.0], [0.0, 3.0]])
    array([0.31326166, 0.04858733], dtype=float32)
    """
    fn = _PFX + "sparse_softmax_cross_entropy_with_logits"
    x = as_float(fn, "logits", logits)
    if x.ndim == 0:
        raise ValueError(f"{fn}: logits must have at least 1 dimension; got a 0-d array.")
    if labels is None:
        raise TypeError(f"{fn}: labels must be an array of integers; got None.")
    k = np.asarray(labels)
    if k.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: labels must have an integer dtype (int32 or int64 class indices); "
            f"got dtype {k.dtype}. Use softmax_cross_entropy_with_logits for one-hot labels."
        )
    if k.shape != x.shape[:-1]:
        raise ValueError(
            f"{fn}: labels must have the shape of logits without its last axis, "
            f"{fmt_shape(x.shape[:-1])}; got labels.shape={fmt_shape(k.shape)}, "
            f"logits.shape={fmt_shape(x.shape)}."
        )
    if x.shape[-1] == 0:
        raise ValueError(f"{fn}: logits must have at least one class on the last axis; got 0.")
    check_class_ids(fn, "labels", k, x.shape[-1])
    return out(tf_sparse_softmax_xent(k, x))
