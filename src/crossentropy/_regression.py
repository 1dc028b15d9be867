"""Mean squared error, the seeds' companion to cross-entropy."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from ._binary import mean_over_axis, prepare_elementwise
from ._frameworks import dispatch
from ._reduction import LossResult, reduce_loss
from ._registry import register
from ._validation import check_reduction

__all__ = ["mean_squared_error"]


@dispatch
def _mse(
    fn: str,
    y_true: Any,
    y_pred: Any,
    *,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
    need_grad: bool = False,
    out: np.ndarray | None = None,  # the caller copies the gradient into it
) -> LossResult:
    reduction = check_reduction(fn, reduction)
    ew = prepare_elementwise(
        fn,
        y_true,
        y_pred,
        from_logits=True,
        validate=validate,
        extra=(sample_weight,),
        label_range=None,
    )
    with np.errstate(all="ignore"):
        diff = ew.x - ew.y
        loss, grad, ax = mean_over_axis(
            fn,
            ew.xp,
            diff * diff,
            2.0 * diff if need_grad else None,
            axis,
            exact=ew.x.dtype == ew.dtype,
        )
    return reduce_loss(
        fn,
        ew.xp,
        loss,
        grad,
        sample_weight=sample_weight,
        reduction=reduction,
        out_dtype=ew.dtype,
        grad_axis=ax,
    )


def mean_squared_error(
    y_true: Any,
    y_pred: Any,
    *,
    axis: int = -1,
    sample_weight: Any = None,
    reduction: str = "none",
    validate: bool = True,
) -> Any:
    r"""Mean squared error over ``axis``: :math:`\ell = \frac{1}{n}\sum_i (p_i - y_i)^2`.

    Gradient with respect to ``y_pred``: :math:`2 (p - y) / n`. The tutorials' variant
    :math:`\tfrac12 \sum_i (y_i - t_i)^2` is ``0.5 * n * mean_squared_error(t, y)``.

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape (any real values).
    axis, sample_weight, reduction, validate
        As in :func:`binary_crossentropy`.

    Examples
    --------
    >>> import crossentropy as ce
    >>> ce.mean_squared_error([[0.0, 1.0]], [[0.5, 0.5]])
    array([0.25])
    """
    return _mse(
        "mean_squared_error",
        y_true,
        y_pred,
        axis=axis,
        sample_weight=sample_weight,
        reduction=reduction,
        validate=validate,
    ).value


register(mean_squared_error, partial(_mse, "mean_squared_error"), "y_pred")
