"""Exact accumulation of per-chunk results, mergeable across chunks, files and Dask workers.

The mean loss is ``sum_i w_i l_i / sum_i w_i`` over every row of every file. Each chunk's sum is
computed by the library's double-double pairwise sum (about ``2**-106`` relative error, rounded
once to float64) and the chunk sums are added with Shewchuk's exact expansion (the algorithm of
:func:`math.fsum`), so the total is the correctly rounded sum of the chunk sums whatever the
number of chunks and the order of merging: streaming a file gives the in-memory result within a
few units in the last place, far inside the promised 1e-12 relative.

Per-class sums and the calibration bins are float64 ``bincount`` sums within a chunk and
Neumaier-compensated sums across chunks. Non-finite terms (an infinite loss where a predicted
probability of the true class is 0) are kept apart and added back at the end, so one infinite
sample makes the total infinite, never NaN.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._summation import accurate_sum

__all__ = [
    "ECE_BINS",
    "HIST_EDGES",
    "Accumulator",
    "CompensatedVector",
    "ExactSum",
    "chunk_sum",
]

#: Equal-width bins of the expected calibration error: [0, 1/15), ..., [14/15, 1].
ECE_BINS = 15

#: log10 edges of the loss histogram (losses of 0, below 1e-12, above 1e4 and inf are counted
#: apart); fixed in advance so histograms of separate chunks and workers add up.
HIST_EDGES = np.linspace(-12.0, 4.0, 65)


class ExactSum:
    """An exact running sum of floats (Shewchuk's non-overlapping partials), mergeable.

    >>> s = ExactSum()
    >>> for x in [1e100, 1.0, -1e100, 1e-100]:
    ...     s.add(x)
    >>> s.value()
    1.0
    """

    __slots__ = ("partials", "special")

    def __init__(self) -> None:
        self.partials: list[float] = []
        self.special = 0.0  # the sum of the non-finite terms (inf, or NaN)

    def add(self, x: float) -> None:
        x = float(x)
        if not math.isfinite(x):
            self.special += x
            return
        partials = self.partials
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]

    def merge(self, other: ExactSum) -> None:
        for p in other.partials:
            self.add(p)
        self.special += other.special

    def value(self) -> float:
        total = math.fsum(self.partials)
        return total + self.special if self.special != 0.0 else total

    def __getstate__(self) -> tuple[list[float], float]:
        return (self.partials, self.special)

    def __setstate__(self, state: tuple[list[float], float]) -> None:
        self.partials, self.special = state


class CompensatedVector:
    """Element-wise Neumaier-compensated sums of float64 vectors, mergeable."""

    def __init__(self, n: int) -> None:
        self.s = np.zeros(n)
        self.c = np.zeros(n)
        self.special = np.zeros(n)  # non-finite terms, kept apart

    def add(self, v: Any) -> None:
        v = np.asarray(v, dtype=np.float64)
        finite = np.isfinite(v)
        if not finite.all():
            self.special = self.special + np.where(finite, 0.0, v)
            v = np.where(finite, v, 0.0)
        t = self.s + v
        self.c += np.where(np.abs(self.s) >= np.abs(v), (self.s - t) + v, (v - t) + self.s)
        self.s = t

    def merge(self, other: CompensatedVector) -> None:
        self.add(other.s)
        self.add(other.c)
        self.special = self.special + other.special

    def value(self) -> Any:
        return (self.s + self.c) + self.special


def chunk_sum(x: Any) -> float:
    """The sum of a chunk's float64 values, in double-double (the library's reduction sum)."""
    if x.size == 0:
        return 0.0
    with np.errstate(invalid="ignore"):  # inf terms: TwoSum's inf - inf, masked by the sum
        return float(accurate_sum(np, np.ascontiguousarray(x, dtype=np.float64).reshape(-1)))


@dataclass
class Accumulator:
    """Everything the summary needs, summed over the chunks seen so far.

    ``n_classes`` is the length of the per-class arrays (2 for a binary loss: negative and
    positive labels). ``worst`` is a min-heap of ``(loss, -unit, -row, details)`` holding the
    ``worst_k`` largest per-sample losses, ties going to the earlier row.
    """

    n_classes: int
    worst_k: int = 5
    version: str = ""
    n_rows: int = 0
    n: int = 0
    loss: ExactSum = field(default_factory=ExactSum)
    weight: ExactSum = field(default_factory=ExactSum)
    correct: ExactSum = field(default_factory=ExactSum)
    topk_correct: ExactSum = field(default_factory=ExactSum)
    class_loss: CompensatedVector = field(init=False)
    class_weight: CompensatedVector = field(init=False)
    class_correct: CompensatedVector = field(init=False)
    class_count: Any = field(init=False)
    bin_weight: CompensatedVector = field(default_factory=lambda: CompensatedVector(ECE_BINS))
    bin_conf: CompensatedVector = field(default_factory=lambda: CompensatedVector(ECE_BINS))
    bin_outcome: CompensatedVector = field(default_factory=lambda: CompensatedVector(ECE_BINS))
    bin_count: Any = field(default_factory=lambda: np.zeros(ECE_BINS, dtype=np.int64))
    hist: Any = field(default_factory=lambda: np.zeros(len(HIST_EDGES) + 3, dtype=np.int64))
    worst: list[tuple[float, int, int, dict[str, Any]]] = field(default_factory=list)
    dtypes: set[str] = field(default_factory=set)
    #: Per-group sums of the bootstrap (see _bootstrap): weighted loss, weight, weighted
    #: correctness; None when no interval is wanted.
    groups: int = 0
    group_loss: CompensatedVector | None = field(init=False)
    group_weight: CompensatedVector | None = field(init=False)
    group_correct: CompensatedVector | None = field(init=False)

    def __post_init__(self) -> None:
        c = self.n_classes
        self.class_loss = CompensatedVector(c)
        self.class_weight = CompensatedVector(c)
        self.class_correct = CompensatedVector(c)
        self.class_count = np.zeros(c, dtype=np.int64)
        g = self.groups
        self.group_loss = CompensatedVector(g) if g else None
        self.group_weight = CompensatedVector(g) if g else None
        self.group_correct = CompensatedVector(g) if g else None

    # -- adding one chunk ---------------------------------------------------------------------

    def add_totals(
        self,
        contrib: Any,
        weight: Any,
        n_rows: int,
        n_valid: int,
        correct: Any,
        topk_correct: Any | None,
        groups: Any | None = None,
    ) -> None:
        """Per-sample weighted losses, effective weights (0 for ignored rows), and the
        weighted correctness of each sample (0/1, or a fraction for multi-label); ``groups``:
        each row's bootstrap group (when the accumulator keeps group sums)."""
        self.n_rows += n_rows
        self.n += n_valid
        self.loss.add(chunk_sum(contrib))
        self.weight.add(chunk_sum(weight))
        wc = np.where(weight == 0, 0.0, weight * correct)
        self.correct.add(chunk_sum(wc))
        if self.groups and groups is not None:
            assert self.group_loss is not None
            assert self.group_weight is not None
            assert self.group_correct is not None
            g = self.groups
            self.group_loss.add(np.bincount(groups, weights=contrib, minlength=g))
            self.group_weight.add(np.bincount(groups, weights=weight, minlength=g))
            self.group_correct.add(np.bincount(groups, weights=wc, minlength=g))
        if topk_correct is not None:
            self.topk_correct.add(chunk_sum(np.where(weight == 0, 0.0, weight * topk_correct)))

    def add_classes(self, loss: Any, weight: Any, correct: Any, count: Any) -> None:
        """Per-class sums of weighted loss, weight, weighted correctness and row counts."""
        self.class_loss.add(loss)
        self.class_weight.add(weight)
        self.class_correct.add(correct)
        self.class_count += np.asarray(count, dtype=np.int64)

    def add_bins(self, confidence: Any, outcome: Any, weight: Any) -> None:
        """Calibration: confidence in [0, 1], outcome (1 correct / positive, 0 not), weight."""
        conf = np.asarray(confidence, dtype=np.float64).reshape(-1)
        b = np.minimum((conf * ECE_BINS).astype(np.int64), ECE_BINS - 1)
        w = np.asarray(weight, dtype=np.float64).reshape(-1)
        out = np.asarray(outcome, dtype=np.float64).reshape(-1)
        keep = w > 0
        if not keep.all():
            b, w, conf, out = b[keep], w[keep], conf[keep], out[keep]
        self.bin_count += np.bincount(b, minlength=ECE_BINS)
        self.bin_weight.add(np.bincount(b, weights=w, minlength=ECE_BINS))
        self.bin_conf.add(np.bincount(b, weights=w * conf, minlength=ECE_BINS))
        self.bin_outcome.add(np.bincount(b, weights=w * out, minlength=ECE_BINS))

    def add_hist(self, losses: Any) -> None:
        """Histogram of per-sample losses on a log10 scale: [zero, below, bins..., above, inf]."""
        x = np.asarray(losses, dtype=np.float64)
        zero = int(np.count_nonzero(x == 0))
        inf = int(np.count_nonzero(np.isinf(x)))
        pos = x[(x > 0) & np.isfinite(x)]
        with np.errstate(divide="ignore"):
            lg = np.log10(pos)
        below = int(np.count_nonzero(lg < HIST_EDGES[0]))
        above = int(np.count_nonzero(lg > HIST_EDGES[-1]))
        counts, _ = np.histogram(lg, bins=HIST_EDGES)
        self.hist[0] += zero
        self.hist[1] += below
        self.hist[2:-2] += counts
        self.hist[-2] += above
        self.hist[-1] += inf

    def add_worst(self, losses: Any, valid: Any, unit: int, row0: int, describe: Any) -> None:
        """Keep the ``worst_k`` largest losses; ``describe(i)`` gives row ``i``'s details."""
        k = self.worst_k
        if k <= 0:
            return
        x = np.where(valid, np.asarray(losses, dtype=np.float64), -np.inf)
        if x.size == 0:
            return
        if len(self.worst) == k:
            thresh = self.worst[0][0]
            cand = np.flatnonzero(x >= thresh)
        else:
            cand = np.flatnonzero(x > -np.inf)
        if cand.size > k:
            top = np.argpartition(-x[cand], k - 1)[:k]
            kth = x[cand][top].min()
            cand = cand[x[cand] >= kth]  # all ties of the k-th value, in row order
            cand = cand[np.lexsort((cand, -x[cand]))][: max(k, 0)]
        for i in cand.tolist():
            item = (float(x[i]), -unit, -(row0 + i), describe(i))
            self._push(item)

    def _push(self, item: tuple[float, int, int, dict[str, Any]]) -> None:
        key = item[:3]
        if len(self.worst) < self.worst_k:
            heapq.heappush(self.worst, item)
        elif key > self.worst[0][:3]:
            heapq.heapreplace(self.worst, item)

    # -- merging ------------------------------------------------------------------------------

    def merge(self, other: Accumulator) -> None:
        """Add ``other`` (the result of later rows, or of another worker) into this one."""
        self.n_rows += other.n_rows
        self.n += other.n
        self.loss.merge(other.loss)
        self.weight.merge(other.weight)
        self.correct.merge(other.correct)
        self.topk_correct.merge(other.topk_correct)
        self.class_loss.merge(other.class_loss)
        self.class_weight.merge(other.class_weight)
        self.class_correct.merge(other.class_correct)
        self.class_count += other.class_count
        self.bin_weight.merge(other.bin_weight)
        self.bin_conf.merge(other.bin_conf)
        self.bin_outcome.merge(other.bin_outcome)
        self.bin_count += other.bin_count
        self.hist += other.hist
        for mine, theirs in (
            (self.group_loss, other.group_loss),
            (self.group_weight, other.group_weight),
            (self.group_correct, other.group_correct),
        ):
            if mine is not None and theirs is not None:
                mine.merge(theirs)
        for item in other.worst:
            self._push(item)
        self.dtypes |= other.dtypes

    def worst_sorted(self) -> list[tuple[float, int, int, dict[str, Any]]]:
        """The kept samples, worst first (ties: earlier file, then earlier row)."""
        return sorted(self.worst, key=lambda t: (-t[0], -t[1], -t[2]))
