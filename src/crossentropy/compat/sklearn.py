"""scikit-learn conventions (``sklearn.metrics.log_loss``, version 1.9).

Same name, signature, argument order and defaults as ``sklearn.metrics.log_loss``; NumPy
arrays in, a Python float out (as scikit-learn returns). What scikit-learn does that the exact
functions of :mod:`crossentropy` do not:

- probabilities are clipped to ``[eps, 1 - eps]`` with ``eps`` the machine epsilon of their
  dtype (2.2e-16 for float64, so a wrong certain prediction costs 36.04; 1.19e-7 for float32,
  15.94), and rows that do not sum to 1 only warn (they are not renormalised since 1.5);
- ``y_true`` holds class *labels* of any kind (strings, integers), mapped to columns of
  ``y_proba`` in sorted order (``labels`` fixes the set); a 1-d ``y_proba`` is the probability
  of the larger class;
- the result is the mean (``normalize=True``) or the sum over samples, weighted by
  ``sample_weight``, computed in the dtype of ``y_proba`` (float32 stays float32 unless the
  weights are float64), and returned as a Python float.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ._common import fmt_shape

__all__ = ["log_loss"]

_FN = "sklearn.log_loss"


def _proba(y_proba: Any) -> np.ndarray[Any, Any]:
    """``check_array(y_proba, ensure_2d=False, dtype=[float64, float32])``."""
    try:
        p = np.asarray(y_proba)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{_FN}: y_proba must be an array of probabilities; got {err}.") from None
    if p.dtype.kind not in "biuf":
        raise TypeError(f"{_FN}: y_proba must be an array of real numbers; got dtype {p.dtype}.")
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    if p.ndim not in (1, 2):
        raise ValueError(
            f"{_FN}: y_proba must be 1-d (probability of the positive class) or 2-d "
            f"(n_samples, n_classes); got y_proba.shape={fmt_shape(p.shape)}."
        )
    if p.shape[0] == 0:
        raise ValueError(f"{_FN}: y_proba must have at least one sample; got 0.")
    if not np.all(np.isfinite(p)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(p))[0])
        raise ValueError(
            f"{_FN}: y_proba must be finite; got {float(p[idx])!r} at index "
            f"{idx[0] if len(idx) == 1 else idx}."
        )
    if p.max() > 1:
        raise ValueError(f"{_FN}: y_proba must be <= 1; got {float(p.max())!r} (its maximum).")
    if p.min() < 0:
        raise ValueError(f"{_FN}: y_proba must be >= 0; got {float(p.min())!r} (its minimum).")
    return p


def _one_hot(y: np.ndarray[Any, Any], labels: Any) -> np.ndarray[Any, Any]:
    """``LabelBinarizer`` on ``labels`` (or ``y``), as (n_samples, n_classes) 0/1 columns."""
    if y.ndim == 2 and y.shape[1] > 1:  # a label indicator matrix (multilabel-indicator)
        if not np.isin(y, (0, 1)).all():
            raise ValueError(
                f"{_FN}: a 2-d y_true must be a 0/1 indicator matrix; got values "
                f"{np.unique(y)[:5].tolist()}."
            )
        if labels is not None and len(np.unique(np.asarray(labels))) != y.shape[1]:
            raise ValueError(
                f"{_FN}: labels must list one class per column of y_true ({y.shape[1]}); got "
                f"{np.asarray(labels).tolist()}."
            )
        return y.astype(np.int64)
    y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1:
        raise ValueError(f"{_FN}: y_true must be 1-d; got y_true.shape={fmt_shape(y.shape)}.")
    if y.dtype.kind == "f" and np.any(y != np.floor(y)):
        raise ValueError(
            f"{_FN}: y_true must hold class labels; got non-integer floats such as "
            f"{float(y[y != np.floor(y)][0])!r} (continuous targets are not labels)."
        )
    if labels is not None:
        lab = np.asarray(labels)
        classes = np.unique(lab)
        if lab.shape != classes.shape or not np.all(classes == lab):
            warnings.warn(
                f"Labels passed were {labels}. But this function assumes labels are "
                f"ordered lexicographically. Pass the ordered labels={classes.tolist()} and "
                "ensure that the columns of y_prob correspond to this ordering.",
                UserWarning,
                stacklevel=3,
            )
        missing = set(np.unique(y).tolist()) - set(classes.tolist())
        if missing:
            raise ValueError(
                f"{_FN}: y_true must only hold values from labels {classes.tolist()}; got "
                f"{sorted(missing)!r}."
            )
        if classes.size < 2:
            raise ValueError(
                f"{_FN}: labels must hold at least two classes; got {classes.tolist()}."
            )
    else:
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"{_FN}: y_true must hold at least two classes; got only "
                f"{classes.tolist()!r}. Pass every expected class through labels=."
            )
    return np.asarray(y[:, None] == classes[None, :]).astype(np.int64)


def log_loss(
    y_true: Any,
    y_proba: Any = None,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
    y_pred: Any = "deprecated",
) -> float:
    r"""``sklearn.metrics.log_loss``: mean (or sum) of ``-log p[true class]`` over samples.

    Differs from :func:`crossentropy.categorical_crossentropy`: clips ``p`` to
    ``[eps, 1 - eps]`` with ``eps = np.finfo(dtype).eps`` and maps labels to sorted columns.

    .. math::

        L = \frac{\sum_i w_i \big(-\sum_c t_{ic} \log \operatorname{clip}(p_{ic},
        \epsilon, 1 - \epsilon)\big)}{\sum_i w_i}

    Parameters
    ----------
    y_true : array-like of labels, or a 0/1 indicator matrix (n_samples, n_classes)
    y_proba : array-like (n_samples, n_classes) or (n_samples,)
        A 1-d array is the probability of the larger class.
    normalize : bool
        Mean over samples (True) or sum (False).
    sample_weight : array-like (n_samples,) or None
    labels : array-like or None
        All the classes, when ``y_true`` does not show every one.
    y_pred : deprecated alias of ``y_proba`` (scikit-learn 1.9).

    Examples
    --------
    >>> from crossentropy.compat import sklearn
    >>> round(sklearn.log_loss(["spam", "ham", "ham", "spam"],
    ...                        [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]), 5)
    0.21616
    """
    if not (isinstance(y_pred, str) and y_pred == "deprecated"):
        if y_proba is not None:
            raise ValueError(
                f"{_FN}: pass y_proba or its deprecated alias y_pred, not both; got both."
            )
        warnings.warn(
            "`y_pred` was renamed to `y_proba` in version 1.9 and will be removed in 1.11. "
            "Use `y_proba` instead.",
            FutureWarning,
            stacklevel=2,
        )
        y_proba = y_pred
    if y_proba is None:
        raise TypeError(f"{_FN}: y_proba must be an array of probabilities; got None.")
    p = _proba(y_proba)
    y = np.asarray(y_true)
    n = p.shape[0]
    if y.ndim == 0 or y.shape[0] != n:
        raise ValueError(
            f"{_FN}: y_true and y_proba must have the same number of samples; got "
            f"y_true.shape={fmt_shape(y.shape)}, y_proba.shape={fmt_shape(p.shape)}."
        )
    w = None
    if sample_weight is not None:
        w = np.asarray(sample_weight)
        if w.dtype.kind not in "biuf":
            raise TypeError(f"{_FN}: sample_weight must be real numbers; got dtype {w.dtype}.")
        if w.shape != (n,):
            raise ValueError(
                f"{_FN}: sample_weight must have shape ({n},); got "
                f"sample_weight.shape={fmt_shape(w.shape)}."
            )
    t = _one_hot(y, labels)
    if t.shape[1] == 1:
        t = np.concatenate([1 - t, t], axis=1)
    if p.ndim == 1:
        p = p[:, None]
    if p.shape[1] == 1:
        p = np.concatenate([1 - p, p], axis=1)
    eps = np.finfo(p.dtype).eps
    sums = np.sum(p, axis=1)
    if not np.all(np.isclose(sums, 1, rtol=np.sqrt(eps))):
        warnings.warn(
            "The y_prob values do not sum to one. Make sure to pass probabilities.",
            UserWarning,
            stacklevel=2,
        )
    if t.shape[1] != p.shape[1]:
        what = "labels" if labels is not None else "y_true"
        raise ValueError(
            f"{_FN}: y_proba must have one column per class of {what} ({t.shape[1]}); got "
            f"y_proba.shape={fmt_shape(p.shape)}."
            + ("" if labels is not None else " Pass every class through labels=.")
        )
    p = np.clip(p, eps, 1 - eps)
    tf = t.astype(p.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(tf == 0.0, p.dtype.type(0), tf * np.log(p))
    loss = -np.sum(terms, axis=1)
    if w is None:
        return float(np.mean(loss) if normalize else np.sum(loss))
    # scikit-learn's ``_average`` on NumPy: ``np.average`` for the mean, ``np.dot`` for the sum.
    if not normalize:
        return float(np.dot(loss, w))
    try:
        return float(np.average(loss, weights=w))
    except ZeroDivisionError:
        raise ZeroDivisionError(
            f"{_FN}: sample_weight must not sum to zero with normalize=True; got a sum of 0."
        ) from None
