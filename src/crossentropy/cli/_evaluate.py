"""Evaluate one shard (one set of files) chunk by chunk into an :class:`Accumulator`.

Per chunk: read the rows, check them (errors name the file, row and column), call the library's
public loss function with ``reduction="none"`` on float64 copies, and add the chunk's sums to the
accumulator. :func:`evaluate_unit` is also the task a Dask worker runs, so it takes and returns
only picklable values.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import crossentropy as ce

from .._validation import simplex_tolerance
from ._accumulate import Accumulator
from ._bootstrap import GROUPS, group_of_rows
from ._errors import CLIError
from ._sources import FileSpec, Reader, open_reader

__all__ = [
    "KINDS",
    "LOSS_FUNCTIONS",
    "Options",
    "Unit",
    "auto_chunk_rows",
    "evaluate_unit",
    "iter_chunks",
    "new_accumulator",
]

#: The CLI's loss kinds and the library function computing each.
LOSS_FUNCTIONS = {
    "binary": "binary_crossentropy",
    "multilabel": "binary_crossentropy",
    "categorical": "categorical_crossentropy",
    "sparse": "sparse_categorical_crossentropy",
}
KINDS = tuple(LOSS_FUNCTIONS)

#: Bytes of float64 predictions per chunk when --chunk-rows is not given. The library's
#: intermediates take about ten times this, so a chunk stays far below the memory bound.
CHUNK_BYTES = 4 * 2**20


def auto_chunk_rows(n_classes: int) -> int:
    """Rows per chunk: about 4 MiB of float64 predictions, between 1 and 262144 rows.

    >>> auto_chunk_rows(10), auto_chunk_rows(1_000_000)
    (52428, 1)
    """
    return int(min(max(CHUNK_BYTES // (8 * max(n_classes, 1)), 1), 2**18))


@dataclass(frozen=True)
class Options:
    """What to compute, fixed before the first chunk (picklable, sent to Dask workers)."""

    loss: str
    n_classes: int  # columns of the predictions (1 for binary)
    from_logits: bool = False
    label_smoothing: float = 0.0
    ignore_index: int | None = None
    class_weight: tuple[float, ...] | None = None
    top_k: int = 5
    worst_k: int = 5
    chunk_rows: int = 0  # 0: auto
    pos_weight: tuple[float, ...] | None = None  # binary and multilabel: one, or one per label
    focal: bool = False  # --loss focal: the focal variant of the detected loss
    gamma: float = 2.0
    alpha: tuple[float, ...] | None = None  # one value; categorical focal: or one per class
    bootstrap: int = 1000  # replicates of the confidence intervals (0: none)
    seed: int = 0  # of the bootstrap
    confidence: float = 0.95

    @property
    def function(self) -> str:
        """The library function computing the loss."""
        if self.focal:
            if self.loss in ("binary", "multilabel"):
                return "binary_focal_crossentropy"
            return "categorical_focal_crossentropy"
        return LOSS_FUNCTIONS[self.loss]

    def binary_options(self, labels: int) -> dict[str, Any]:
        """The keyword arguments of the binary losses, for ``labels`` label columns."""
        kw: dict[str, Any] = {
            "from_logits": self.from_logits,
            "label_smoothing": self.label_smoothing,
        }
        if self.focal:
            kw["gamma"] = self.gamma
            kw["alpha"] = None if self.alpha is None else self.alpha[0]
        elif self.pos_weight is not None:
            pw = np.asarray(self.pos_weight, dtype=np.float64)
            kw["pos_weight"] = pw if pw.size == labels else np.full(labels, pw[0])
        return kw

    @property
    def rows_per_chunk(self) -> int:
        return self.chunk_rows or auto_chunk_rows(self.n_classes)

    @property
    def classes_out(self) -> int:
        """Length of the per-class arrays: 2 (negative, positive) for a binary loss."""
        return 2 if self.loss == "binary" else self.n_classes

    @property
    def has_top_k(self) -> bool:
        return self.loss in ("categorical", "sparse") and 0 < self.top_k < self.n_classes


@dataclass(frozen=True)
class Unit:
    """One shard: the files holding its predictions, labels and weights (same rows)."""

    index: int
    name: str  # the predictions file, as shown to the user
    files: tuple[FileSpec, ...]


# --------------------------------------------------------------------------------------------


def new_accumulator(opts: Options) -> Accumulator:
    """An empty accumulator for ``opts`` (with the bootstrap's group sums if it has any)."""
    return Accumulator(
        opts.classes_out,
        worst_k=opts.worst_k,
        version=ce.__version__,
        groups=GROUPS if opts.bootstrap > 0 else 0,
    )


def evaluate_unit(
    unit: Unit, opts: Options, progress: Callable[[int], None] | None = None
) -> Accumulator:
    """Stream every row of ``unit`` through the loss; ``progress(rows)`` after each chunk."""
    acc = new_accumulator(opts)
    for chunk in iter_chunks(unit, opts, acc):
        if progress is not None:
            progress(chunk.n_rows)
    return acc


def iter_chunks(unit: Unit, opts: Options, acc: Accumulator) -> Iterator[_Chunk]:
    """Process the chunks of ``unit`` into ``acc`` one by one, yielding each after its sums are
    added (its ``per_row`` holds the chunk's per-row values, for ``compare``)."""
    with contextlib.ExitStack() as stack:
        readers = []
        for spec in unit.files:
            reader = open_reader(spec)
            stack.callback(reader.close)
            readers.append(reader)
        _check_row_counts(readers)
        by_role = {role: r for r in readers for role in r.roles}
        acc.dtypes.add(str(by_role["preds"].dtype("preds")))
        row0 = 0
        n = opts.rows_per_chunk
        while True:
            parts = [r.read(n) for r in readers]
            sizes = [len(next(iter(p.values()))) for p in parts]
            if len(set(sizes)) > 1:
                _raise_ragged(readers, sizes, row0)
            r = sizes[0]
            if r == 0:
                break
            data = {role: arr for p in parts for role, arr in p.items()}
            chunk = _Chunk(unit, opts, by_role, data, row0)
            chunk.process(acc)
            yield chunk
            row0 += r


def _check_row_counts(readers: list[Reader]) -> None:
    known = [(r.path, r.n_rows) for r in readers if r.n_rows is not None]
    if len({n for _, n in known}) > 1:
        (pa, na), (pb, nb) = known[0], next(k for k in known if k[1] != known[0][1])
        raise CLIError(
            f"{pb}: {nb} rows, but {pa} has {na}; predictions, labels and weights need one row "
            "per sample."
        )


def _raise_ragged(readers: list[Reader], sizes: list[int], row0: int) -> None:
    short = int(np.argmin(sizes))
    long = int(np.argmax(sizes))
    raise CLIError(
        f"{readers[short].path}: {row0 + sizes[short]} rows, but {readers[long].path} has more "
        f"(at least {row0 + sizes[long]}); predictions, labels and weights need one row per sample."
    )


def _first(mask: Any) -> tuple[int, int | None]:
    """(row, column) of the first True entry (column None for a 1-d mask)."""
    flat = int(np.argmax(mask.reshape(-1)))
    if mask.ndim == 1:
        return flat, None
    i, j = np.unravel_index(flat, mask.shape)
    return int(i), int(j)


def _top_probability(x: Any) -> Any:
    """The largest softmax probability of each row of logits, :math:`1 / \\sum_j e^{x_j - m}`.

    Only for the calibration bins (the worst samples' probabilities come from
    :func:`crossentropy.softmax`): one max-shifted exponential per entry, half the cost of the
    library's exactly rounded softmax, and well within a bin width of it. A row holding ``+inf``
    shares the mass among its ``+inf`` entries.
    """
    m = x.max(axis=1)
    with np.errstate(invalid="ignore", over="ignore"):
        total = np.exp(x - m[:, None]).sum(axis=1)
        top = 1.0 / total
    inf_rows = np.isposinf(m)
    if inf_rows.any():
        top[inf_rows] = 1.0 / np.count_nonzero(np.isposinf(x[inf_rows]), axis=1)
    return top


def _fmt(x: Any) -> str:
    return repr(float(x)) if isinstance(x, (float, np.floating)) else str(x)


class _Chunk:
    """One chunk of rows: checks, the library call, and the sums it adds."""

    def __init__(
        self,
        unit: Unit,
        opts: Options,
        readers: dict[str, Reader],
        data: dict[str, Any],
        row0: int,
    ) -> None:
        self.unit, self.opts, self.readers, self.data, self.row0 = unit, opts, readers, data, row0
        self.n_rows = len(next(iter(data.values())))
        #: After process(): the per-row values (weighted loss, weight, correctness, label and
        #: predicted class; for multilabel the per-label matches).
        self.per_row: dict[str, Any] = {}

    def groups(self) -> Any:
        """The bootstrap group of each row (None when no interval is wanted)."""
        if self.opts.bootstrap <= 0:
            return None
        return group_of_rows(self.opts.seed, self.unit.index, self.row0, self.n_rows)

    # -- errors ---------------------------------------------------------------------------------

    def fail(self, role: str, i: int | None, j: int | None, message: str) -> CLIError:
        reader = self.readers[role]
        row = None if i is None else self.row0 + i
        return CLIError(f"{reader.where(role, row, j)}: {message}")

    # -- inputs ---------------------------------------------------------------------------------

    def preds(self) -> Any:
        opts = self.opts
        raw = self.data["preds"]
        reader = self.readers["preds"]
        if raw.dtype.kind not in "f":
            raise CLIError(
                f"{reader.where('preds', None, None)}: predictions must be floating-point "
                f"probabilities or logits; got dtype {raw.dtype}. Were predictions and labels "
                "swapped?"
            )
        p = raw.astype(np.float64)
        if p.ndim == 2 and opts.loss == "binary":
            if p.shape[1] != 1:
                raise CLIError(
                    f"{reader.where('preds', None, None)}: a binary loss needs one prediction per "
                    f"row; got {p.shape[1]} columns."
                )
            p = p[:, 0]
        width = 1 if p.ndim == 1 else p.shape[1]
        if width != opts.n_classes:
            raise CLIError(
                f"{reader.where('preds', None, None)}: {width} prediction columns, but the first "
                f"file has {opts.n_classes}."
            )
        if opts.loss in ("categorical", "sparse", "multilabel") and p.ndim != 2:
            raise CLIError(
                f"{reader.where('preds', None, None)}: a {opts.loss} loss needs one column per "
                "class."
            )
        nan = np.isnan(p)
        if nan.any():
            i, j = _first(nan)
            raise self.fail("preds", i, j, "the prediction is NaN.")
        if not opts.from_logits:
            bad = (p < 0.0) | (p > 1.0)
            if bad.any():
                i, j = _first(bad)
                v = p[i] if j is None else p[i, j]
                raise self.fail(
                    "preds",
                    i,
                    j,
                    f"probability {_fmt(v)} is outside [0, 1]; if the predictions are logits, "
                    "pass --from-logits.",
                )
            if opts.loss in ("categorical", "sparse"):
                tol = simplex_tolerance(reader.tolerance_dtype("preds"))
                s = p.sum(axis=1)
                off = np.abs(s - 1.0) > tol
                if off.any():
                    i, _ = _first(off)
                    raise self.fail(
                        "preds",
                        i,
                        None,
                        f"the probabilities sum to {_fmt(s[i])}, not 1 (tolerance {tol:.2g}); "
                        "pass --from-logits if they are logits, or normalise the rows (no silent "
                        "renormalisation is done).",
                    )
        elif opts.loss in ("categorical", "sparse"):
            dead = np.all(p == -np.inf, axis=1)
            if dead.any():
                i, _ = _first(dead)
                raise self.fail(
                    "preds", i, None, "every logit is -inf, so the softmax is undefined."
                )
        return p

    def _labels_array(self) -> Any:
        lab = self.data["labels"]
        if lab.dtype.kind == "b":
            lab = lab.astype(np.int64)
        if lab.dtype.kind not in "fiu":
            raise self.fail("labels", None, None, f"labels must be numbers; got dtype {lab.dtype}.")
        if lab.dtype.kind == "f":
            nan = np.isnan(lab)
            if nan.any():
                i, j = _first(nan)
                raise self.fail("labels", i, j, "the label is NaN.")
        return lab

    def sparse_labels(self) -> Any:
        opts = self.opts
        lab = self._labels_array()
        if lab.ndim == 2:
            if lab.shape[1] != 1:
                raise self.fail(
                    "labels",
                    None,
                    None,
                    f"sparse labels are one class id per row; got {lab.shape[1]} columns (for "
                    "one-hot or soft labels use --loss categorical).",
                )
            lab = lab[:, 0]
        c = opts.n_classes
        if lab.dtype.kind == "f":
            bad = ~np.isfinite(lab) | (lab != np.floor(lab))
            if bad.any():
                i, _ = _first(bad)
                raise self.fail(
                    "labels", i, None, f"class ids must be integers; got {_fmt(lab[i])}."
                )
        # The range is checked on the stored values, before any cast: a float id of 1e20 or a
        # uint64 id above 2**63 is named as it is (a cast to int64 would wrap it).
        bad = (lab < 0) | (lab >= c)
        if opts.ignore_index is not None:
            bad &= lab != opts.ignore_index
        if bad.any():
            i, _ = _first(bad)
            v = lab[i]
            shown = _fmt(v) if lab.dtype.kind != "f" or abs(v) >= 2**53 else str(int(v))
            hint = (
                f"; pass --ignore-index {int(v)} to skip such rows"
                if v < 0 and v >= -(2**63) and opts.ignore_index is None
                else ""
            )
            raise self.fail(
                "labels",
                i,
                None,
                f"class id {shown} is outside [0, {c}) ({c} prediction columns){hint}.",
            )
        k = lab.astype(np.int64)
        return k

    def dense_labels(self, categorical: bool) -> Any:
        opts = self.opts
        lab = self._labels_array()
        if opts.loss == "binary":
            if lab.ndim == 2:
                if lab.shape[1] != 1:
                    raise self.fail(
                        "labels",
                        None,
                        None,
                        f"a binary loss needs one label per row; got {lab.shape[1]} columns.",
                    )
                lab = lab[:, 0]
        elif lab.ndim != 2 or lab.shape[1] != opts.n_classes:
            got = "one column" if lab.ndim == 1 else f"{lab.shape[1]} columns"
            raise self.fail(
                "labels",
                None,
                None,
                f"a {opts.loss} loss needs one label column per prediction column "
                f"({opts.n_classes}); got {got}.",
            )
        y = lab.astype(np.float64)
        bad = (y < 0.0) | (y > 1.0)
        if bad.any():
            i, j = _first(bad)
            v = y[i] if j is None else y[i, j]
            raise self.fail("labels", i, j, f"label {_fmt(v)} is outside [0, 1].")
        if categorical:
            reader = self.readers["labels"]
            tol_dtype = reader.tolerance_dtype("labels")
            if tol_dtype.kind != "f":
                tol_dtype = np.dtype(np.float64)
            tol = simplex_tolerance(tol_dtype)
            s = y.sum(axis=1)
            off = np.abs(s - 1.0) > tol
            if off.any():
                i, _ = _first(off)
                raise self.fail(
                    "labels",
                    i,
                    None,
                    f"the labels sum to {_fmt(s[i])}, not 1 (tolerance {tol:.2g}), as categorical "
                    "cross-entropy needs; if a row can have several true labels, pass "
                    "--loss multilabel.",
                )
        return y

    def weights(self, r: int) -> Any:
        if "weight" not in self.data:
            return None
        w = self.data["weight"]
        if w.ndim == 2:
            if w.shape[1] != 1:
                raise self.fail(
                    "weight",
                    None,
                    None,
                    f"sample weights are one per row; got {w.shape[1]} columns.",
                )
            w = w[:, 0]
        if w.dtype.kind not in "fiub":
            raise self.fail("weight", None, None, f"weights must be numbers; got dtype {w.dtype}.")
        w = w.astype(np.float64)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i, _ = _first(bad)
            raise self.fail(
                "weight", i, None, f"sample weight {_fmt(w[i])} is not a finite number >= 0."
            )
        return w

    # -- the library call -----------------------------------------------------------------------

    def call(self, fn: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(ce, fn)(*args, reduction="none", validate=False, **kwargs)
        except (ValueError, TypeError) as err:
            raise self._library_error(str(err)) from err

    def _library_error(self, message: str) -> CLIError:
        """Map a library error's ``at index ...`` to this chunk's file row (a safety net: the
        checks above should have caught the input first)."""
        m = re.search(r"index \(?(\d+)(?:, (\d+))?\)?", message)
        where = self.readers["preds"].where("preds", None, None)
        if m:
            i = int(m.group(1))
            j = int(m.group(2)) if m.group(2) else None
            where = self.readers["preds"].where("preds", self.row0 + i, j)
        return CLIError(f"{where}: {message}")

    # -- one chunk ------------------------------------------------------------------------------

    def process(self, acc: Accumulator) -> None:
        kind = self.opts.loss
        if kind == "sparse":
            self._categorical(acc, sparse=True)
        elif kind == "categorical":
            self._categorical(acc, sparse=False)
        elif kind == "binary":
            self._binary(acc)
        else:
            self._multilabel(acc)

    def _categorical(self, acc: Accumulator, sparse: bool) -> None:
        opts = self.opts
        p = self.preds()
        r, c = p.shape
        w = self.weights(r)
        cw = None if opts.class_weight is None else np.asarray(opts.class_weight)
        common = dict(
            from_logits=opts.from_logits,
            label_smoothing=opts.label_smoothing,
            class_weight=cw,
            sample_weight=w,
        )
        if opts.focal:  # no class_weight or ignore_index (refused with --loss focal)
            del common["class_weight"]
            common["gamma"] = opts.gamma
            a = opts.alpha
            common["alpha"] = None if a is None else a[0] if len(a) == 1 else np.asarray(a)
        if sparse and opts.focal:
            k = self.sparse_labels()
            onehot = np.zeros((r, c))
            onehot[np.arange(r), k] = 1.0
            contrib = self.call("categorical_focal_crossentropy", onehot, p, **common)
            valid = np.ones(r, dtype=bool)
            cls = k
            label_desc: Any = k
        elif sparse:
            k = self.sparse_labels()
            contrib = self.call(
                "sparse_categorical_crossentropy", k, p, ignore_index=opts.ignore_index, **common
            )
            valid = np.ones(r, dtype=bool) if opts.ignore_index is None else k != opts.ignore_index
            cls = np.where(valid, k, 0)
            label_desc = k
        else:
            y = self.dense_labels(categorical=True)
            contrib = self.call(opts.function, y, p, **common)
            valid = np.ones(r, dtype=bool)
            cls = np.argmax(y, axis=1)
            label_desc = cls
        weight = np.ones(r) if w is None else w
        weight = np.where(valid, weight, 0.0)
        pred = np.argmax(p, axis=1)
        rows = np.arange(r)
        conf = _top_probability(p) if opts.from_logits else p[rows, pred]
        correct = (pred == cls) & valid
        topk = None
        if opts.has_top_k:
            true_score = p[rows, cls]
            rank = np.count_nonzero(p > true_score[:, None], axis=1)
            topk = (rank < opts.top_k) & valid
        n_valid = int(np.count_nonzero(valid))
        acc.add_totals(contrib, weight, r, n_valid, correct, topk, self.groups())
        self.per_row = {
            "loss": contrib,
            "weight": weight,
            "correct": correct,
            "label": label_desc,
            "predicted": pred,
            "valid": valid,
        }
        cv, wv = cls[valid], weight[valid]
        acc.add_classes(
            np.bincount(cv, weights=contrib[valid], minlength=c),
            np.bincount(cv, weights=wv, minlength=c),
            np.bincount(cv, weights=np.where(correct[valid], wv, 0.0), minlength=c),
            np.bincount(cv, minlength=c),
        )
        acc.add_bins(conf, correct, weight)
        acc.add_hist(contrib[valid])

        def describe(i: int) -> dict[str, Any]:
            probs = ce.softmax(p[i]) if opts.from_logits else p[i]
            return {
                "file": self.unit.name,
                "row": self.row0 + i,
                "label": int(label_desc[i]),
                "predicted": int(pred[i]),
                "confidence": float(probs[pred[i]]),
                "p_label": float(probs[cls[i]]),
            }

        acc.add_worst(contrib, valid, self.unit.index, self.row0, describe)

    def _binary(self, acc: Accumulator) -> None:
        opts = self.opts
        p = self.preds()
        r = p.shape[0]
        y = self.dense_labels(categorical=False)
        w = self.weights(r)
        contrib = self.call(
            opts.function, y[:, None], p[:, None], sample_weight=w, **opts.binary_options(1)
        )
        weight = np.ones(r) if w is None else w
        prob = ce.sigmoid(p) if opts.from_logits else p
        pos_pred = prob > 0.5
        pos_label = y > 0.5
        correct = pos_pred == pos_label
        acc.add_totals(contrib, weight, r, r, correct, None, self.groups())
        self.per_row = {
            "loss": contrib,
            "weight": weight,
            "correct": correct,
            "label": y,
            "predicted": prob,
            "valid": weight > 0,
        }
        cls = pos_label.astype(np.int64)
        acc.add_classes(
            np.bincount(cls, weights=contrib, minlength=2),
            np.bincount(cls, weights=weight, minlength=2),
            np.bincount(cls, weights=np.where(correct, weight, 0.0), minlength=2),
            np.bincount(cls, minlength=2),
        )
        acc.add_bins(prob, y, weight)
        acc.add_hist(contrib)

        def describe(i: int) -> dict[str, Any]:
            return {
                "file": self.unit.name,
                "row": self.row0 + i,
                "label": float(y[i]),
                "p_positive": float(prob[i]),
            }

        acc.add_worst(contrib, np.ones(r, dtype=bool), self.unit.index, self.row0, describe)

    def _multilabel(self, acc: Accumulator) -> None:
        opts = self.opts
        p = self.preds()
        r, c = p.shape
        y = self.dense_labels(categorical=False)
        w = self.weights(r)
        common = opts.binary_options(c)
        contrib = self.call(opts.function, y, p, sample_weight=w, **common)
        # The loss of each (row, label) pair: the same function over a label axis of length 1.
        pw = common.pop("pos_weight", None)
        sw = None if w is None else np.broadcast_to(w[:, None], (r, c))
        if pw is None or np.all(pw == pw[0]):
            if pw is not None:
                common["pos_weight"] = pw[:1]
            per_label = self.call(
                opts.function, y[..., None], p[..., None], sample_weight=sw, **common
            )
        else:  # one weight per label: the library takes one per call on a label axis of 1
            per_label = np.empty((r, c))
            for j in range(c):
                per_label[:, j] = self.call(
                    opts.function,
                    y[:, j : j + 1],
                    p[:, j : j + 1],
                    sample_weight=None if sw is None else sw[:, j],
                    pos_weight=pw[j : j + 1],
                    **common,
                )
        weight = np.ones(r) if w is None else w
        prob = ce.sigmoid(p) if opts.from_logits else p
        pos_pred = prob > 0.5
        pos_label = y > 0.5
        match = pos_pred == pos_label
        correct = match.mean(axis=1)
        acc.add_totals(contrib, weight, r, r, correct, None, self.groups())
        self.per_row = {
            "loss": contrib,
            "weight": weight,
            "correct": correct,
            "match": match,
            "valid": weight > 0,
        }
        acc.add_classes(
            per_label.sum(axis=0),
            np.full(c, float(weight.sum())),
            (np.where(match, 1.0, 0.0) * weight[:, None]).sum(axis=0),
            np.count_nonzero(pos_label, axis=0),
        )
        acc.add_bins(prob, y, np.broadcast_to(weight[:, None], (r, c)))
        acc.add_hist(contrib)

        def describe(i: int) -> dict[str, Any]:
            return {
                "file": self.unit.name,
                "row": self.row0 + i,
                "labels": np.flatnonzero(pos_label[i])[:20].tolist(),
                "predicted": np.flatnonzero(pos_pred[i])[:20].tolist(),
            }

        acc.add_worst(contrib, np.ones(r, dtype=bool), self.unit.index, self.row0, describe)


def peek(unit: Unit, rows: int, max_bytes: int = CHUNK_BYTES) -> dict[str, Any]:
    """The first rows of each role of ``unit`` (for detecting the loss): ``rows`` of them, or
    fewer where the rows are wide, so that they hold at most about ``max_bytes`` as float64
    (at least one row)."""
    out: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        readers = []
        for spec in unit.files:
            reader = open_reader(spec)
            stack.callback(reader.close)
            readers.append(reader)
        row_bytes = 8 * sum(r.row_width(role) for r in readers for role in r.roles)
        n = max(1, min(rows, max_bytes // max(row_bytes, 1)))
        for reader in readers:
            data = reader.read(n)
            for role in reader.roles:
                out[role] = data[role]
                out[f"{role}:where"] = reader.where(role, None, None)
    return out
