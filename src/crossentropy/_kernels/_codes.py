"""The named codes the kernels and their callers share (plain ints inside the numba code)."""

from __future__ import annotations

from enum import IntEnum

__all__ = ["RowStatus", "SampleWeights", "SoftmaxMode"]


class RowStatus(IntEnum):
    """What a kernel reports for each row (``status[i]``)."""

    #: Computed: the row's values (and gradient) are written.
    OK = 0
    #: Not computed: a NaN, a +inf maximum or a row of all -inf logits (or, in the element-wise
    #: kernels, a value outside its range). The caller validates and recomputes it with its core.
    REFERENCE = 1
    #: Not computed: a row of soft labels that fails (or is within 10% of failing) the checks.
    LABELS = 2
    #: Not computed: a float64 row whose loss or gradient is (nearly) subnormal and weighted;
    #: the caller recomputes it with its core and hands the tiny terms to the reduction scaled.
    TINY = 3


class SoftmaxMode(IntEnum):
    """Which row function :func:`crossentropy._kernels.softmax_rows` computes."""

    LOGSUMEXP = 0
    LOG_SOFTMAX = 1
    SOFTMAX = 2


class SampleWeights(IntEnum):
    """How the element-wise sigmoid kernel reads its sample weights."""

    NONE = 0  # no weights
    SCALAR = 1  # one weight for every element
    PER_ELEMENT = 2  # one weight per element, the logits' shape
