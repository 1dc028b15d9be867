"""The result of an evaluation: the JSON document and the readable summary."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, overload

import numpy as np

import crossentropy as ce

from ._accumulate import ECE_BINS, HIST_EDGES, Accumulator
from ._bootstrap import GROUPS, percentile_interval, replicate_ratios
from ._errors import printable
from ._evaluate import Options
from ._plan import Plan

__all__ = ["build_result", "decode_nonfinite", "print_summary", "to_json"]

#: At most this many classes are listed in the readable summary (all of them in --json).
SUMMARY_CLASSES = 20


def _ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den


class PerClass(Sequence[dict[str, Any]]):
    """The per-class table, one entry (a dict) per class, made when it is read.

    With 200,000 classes the entries as dicts take about 40 MiB; the summary shows only
    :data:`SUMMARY_CLASSES` of them (:meth:`highest_loss`), so they are not all held at once.
    """

    def __init__(
        self, names: list[str] | None, count: Any, loss: Any, weight: Any, correct: Any
    ) -> None:
        self._names, self._count = names, count
        self._loss, self._weight, self._correct = loss, weight, correct

    def __len__(self) -> int:
        return len(self._count)

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        c = range(len(self))[i]
        entry: dict[str, Any] = {"class": c}
        if self._names is not None:
            entry["name"] = self._names[c]
        entry["count"] = int(self._count[c])
        entry["loss"] = _ratio(float(self._loss[c]), float(self._weight[c]))
        entry["accuracy"] = _ratio(float(self._correct[c]), float(self._weight[c]))
        return entry

    def highest_loss(self, n: int) -> list[dict[str, Any]]:
        """The ``n`` entries of highest loss (classes without one last), ties in class order."""
        keys = [-(e if e is not None else -1.0) for e in map(self._mean_loss, range(len(self)))]
        order = sorted(range(len(self)), key=keys.__getitem__)[:n]
        return [self[c] for c in order]

    def _mean_loss(self, c: int) -> float | None:
        return _ratio(float(self._loss[c]), float(self._weight[c]))


def build_result(acc: Accumulator, opts: Options, plan: Plan, why: str) -> dict[str, Any]:
    """Everything the evaluation found, as plain Python values (JSON-ready)."""
    total = acc.loss.value()
    wsum = acc.weight.value()
    mean = total / wsum if wsum > 0 else 0.0  # the library's "mean" of zero total weight
    categorical = opts.loss in ("categorical", "sparse")
    perplexity = None
    if categorical:
        perplexity = math.exp(mean) if mean < 709.78 else math.inf
    accuracy = _ratio(acc.correct.value(), wsum)
    top_k = None
    if opts.has_top_k:
        top_k = {"k": opts.top_k, "accuracy": _ratio(acc.topk_correct.value(), wsum)}

    bw, bc, bo = acc.bin_weight.value(), acc.bin_conf.value(), acc.bin_outcome.value()
    bw_total = math.fsum(bw.tolist())
    ece = None if bw_total == 0 else math.fsum(np.abs(bo - bc).tolist()) / bw_total
    bins = []
    for b in range(ECE_BINS):
        bins.append(
            {
                "lo": b / ECE_BINS,
                "hi": (b + 1) / ECE_BINS,
                "count": int(acc.bin_count[b]),
                "weight": float(bw[b]),
                "confidence": _ratio(float(bc[b]), float(bw[b])),
                "accuracy": _ratio(float(bo[b]), float(bw[b])),
            }
        )

    names = _class_names(plan, opts)
    per_class = PerClass(
        names,
        acc.class_count[: opts.classes_out],
        acc.class_loss.value(),
        acc.class_weight.value(),
        acc.class_correct.value(),
    )

    worst = []
    for loss, _, _, info in acc.worst_sorted():
        item = dict(info)
        item["loss"] = loss
        if names is not None:
            for key in ("label", "predicted"):
                if isinstance(item.get(key), int) and opts.loss != "binary":
                    item[f"{key}_name"] = names[item[key]]
        worst.append(item)

    options: dict[str, Any] = {
        "from_logits": opts.from_logits,
        "label_smoothing": opts.label_smoothing,
    }
    if opts.loss == "sparse":
        options["ignore_index"] = opts.ignore_index
    if categorical:
        options["class_weight"] = None if opts.class_weight is None else list(opts.class_weight)
    if opts.loss in ("binary", "multilabel") and not opts.focal:
        options["pos_weight"] = None if opts.pos_weight is None else list(opts.pos_weight)
    if opts.focal:
        options["gamma"] = opts.gamma
        options["alpha"] = None if opts.alpha is None else list(opts.alpha)
    options["sample_weight"] = plan.weight is not None
    dtypes = sorted(acc.dtypes)
    signature = {
        "version": ce.__version__,
        "loss": opts.function,
        "kind": opts.loss,
        "options": options,
        "dtype": dtypes[0] if len(dtypes) == 1 else dtypes,
        "n": acc.n,
    }
    ci = intervals(acc, opts, mean, accuracy)
    return {
        "loss": mean,
        "sum": total,
        "n": acc.n,
        "rows": acc.n_rows,
        "weight_sum": wsum,
        "perplexity": perplexity,
        "accuracy": accuracy,
        "top_k": top_k,
        "ece": ece,
        "calibration": bins,
        "per_class": per_class,
        "worst": worst,
        "loss_histogram": {
            "log10_edges": HIST_EDGES.tolist(),
            "counts": acc.hist[2:-2].tolist(),
            "zero": int(acc.hist[0]),
            "below": int(acc.hist[1]),
            "above": int(acc.hist[-2]),
            "inf": int(acc.hist[-1]),
        },
        "ci": ci,
        "signature": signature,
        "signature_line": signature_line(signature, opts),
        "inputs": {
            "predictions": plan.preds,
            "labels": plan.labels,
            "sample_weight": plan.weight,
            "files": len(plan.units),
            "classes": opts.n_classes,
            "detected": why,
        },
    }


def intervals(
    acc: Accumulator, opts: Options, mean: float, accuracy: float | None
) -> dict[str, Any] | None:
    """The bootstrap confidence intervals of the mean loss, perplexity and accuracy (see
    _bootstrap); None with --bootstrap 0. An interval is None where a replicate is not finite
    (an infinite loss)."""
    if opts.bootstrap <= 0 or acc.group_loss is None:
        return None
    assert acc.group_weight is not None
    assert acc.group_correct is not None
    loss_reps, acc_reps = replicate_ratios(
        opts.seed,
        opts.bootstrap,
        [acc.group_loss.value(), acc.group_correct.value()],
        acc.group_weight.value(),
    )
    loss_ci = percentile_interval(loss_reps, opts.confidence)
    perplexity_ci = None
    if opts.loss in ("categorical", "sparse") and loss_ci is not None:
        perplexity_ci = [math.exp(min(v, 709.78)) for v in loss_ci]
    return {
        "method": "bootstrap",
        "replicates": opts.bootstrap,
        "groups": GROUPS,
        "seed": opts.seed,
        "level": opts.confidence,
        "loss": loss_ci,
        "perplexity": perplexity_ci,
        "accuracy": None if accuracy is None else percentile_interval(acc_reps, opts.confidence),
    }


def signature_line(sig: dict[str, Any], opts: Options) -> str:
    """One line naming everything that fixes the numbers (like sacrebleu's signature).

    >>> from crossentropy.cli._evaluate import Options
    >>> o = Options(loss="sparse", n_classes=10, from_logits=True)
    >>> s = {"version": "1.0", "loss": "sparse_categorical_crossentropy", "kind": "sparse",
    ...      "options": {"from_logits": True, "label_smoothing": 0.0, "ignore_index": None,
    ...      "class_weight": None, "sample_weight": False}, "dtype": "float32", "n": 2000}
    >>> signature_line(s, o)
    'crossentropy:1.0|loss:sparse_categorical_crossentropy|logits:yes|smooth:0|ignore:none|cw:no|sw:no|dtype:float32|n:2000|boot:1000|seed:0|ci:0.95'
    """
    o = sig["options"]
    parts = [
        f"crossentropy:{sig['version']}",
        f"loss:{sig['loss']}" + (":multilabel" if sig["kind"] == "multilabel" else ""),
        f"logits:{'yes' if o['from_logits'] else 'no'}",
        f"smooth:{o['label_smoothing']:g}",
    ]
    if "ignore_index" in o:
        parts.append(f"ignore:{'none' if o['ignore_index'] is None else o['ignore_index']}")
    if "class_weight" in o:
        parts.append(f"cw:{'no' if o['class_weight'] is None else 'yes'}")
    if "pos_weight" in o:
        parts.append(f"pw:{'no' if o['pos_weight'] is None else 'yes'}")
    if "gamma" in o:
        alpha = "none" if o["alpha"] is None else ",".join(f"{a:g}" for a in o["alpha"])
        parts.append(f"gamma:{o['gamma']:g}|alpha:{alpha}")
    parts.append(f"sw:{'yes' if o['sample_weight'] else 'no'}")
    dtype = sig["dtype"] if isinstance(sig["dtype"], str) else "+".join(sig["dtype"])
    parts += [f"dtype:{dtype}", f"n:{sig['n']}"]
    if opts.bootstrap > 0:
        parts += [f"boot:{opts.bootstrap}", f"seed:{opts.seed}", f"ci:{opts.confidence:g}"]
    return "|".join(parts)


def _class_names(plan: Plan, opts: Options) -> list[str] | None:
    names = plan.class_names
    if names is None:
        return ["negative", "positive"] if opts.loss == "binary" else None
    return names


def to_json(result: dict[str, Any]) -> str:
    """Strict JSON text (RFC 8259, which has no ``Infinity`` or ``NaN``).

    A non-finite number is written ``null``, and the top-level object ``nonfinite`` maps its
    JSON Pointer (RFC 6901, e.g. ``/loss``, ``/worst/0/loss``) to ``"inf"``, ``"-inf"`` or
    ``"nan"``; ``nonfinite`` is ``{}`` when every number is finite.

    >>> to_json({"loss": float("inf"), "n": 3}).replace("\\n", " ")
    '{ "loss": null, "n": 3, "nonfinite": { "/loss": "inf" } }'
    """
    flags: dict[str, str] = {}
    clean = _finite_only(result, "", flags)
    clean["nonfinite"] = flags
    return json.dumps(clean, indent=2, allow_nan=False)


def _finite_only(x: Any, pointer: str, flags: dict[str, str]) -> Any:
    """``x`` with its non-finite floats replaced by None, each recorded in ``flags``."""
    if isinstance(x, dict):
        return {k: _finite_only(v, f"{pointer}/{_escape(str(k))}", flags) for k, v in x.items()}
    if isinstance(x, (list, tuple, PerClass)):
        return [_finite_only(v, f"{pointer}/{i}", flags) for i, v in enumerate(x)]
    if isinstance(x, float) and not math.isfinite(x):
        flags[pointer] = "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
        return None
    return x


def _escape(key: str) -> str:
    """A JSON Pointer reference token (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``)."""
    return key.replace("~", "~0").replace("/", "~1")


def decode_nonfinite(doc: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`to_json`'s ``null`` for non-finite numbers in a parsed document (in place).

    >>> decode_nonfinite(json.loads(to_json({"loss": float("inf")})))["loss"]
    inf
    """
    for pointer, value in doc.get("nonfinite", {}).items():
        *path, last = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        node: Any = doc
        for t in path:
            node = node[int(t)] if isinstance(node, list) else node[t]
        key: Any = int(last) if isinstance(node, list) else last
        node[key] = float(value)
    return doc


def _num(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}"


def print_summary(result: dict[str, Any], console: Any) -> None:
    """The readable summary (a rich console)."""
    from rich import box
    from rich.table import Table

    sig, inp = result["signature"], result["inputs"]
    opts = sig["options"]
    flags = []
    if opts["from_logits"]:
        flags.append("from logits")
    if opts.get("label_smoothing"):
        flags.append(f"label smoothing {opts['label_smoothing']:g}")
    if opts.get("ignore_index") is not None:
        flags.append(f"ignore index {opts['ignore_index']}")
    if opts.get("class_weight") is not None:
        flags.append("class weights")
    if opts.get("sample_weight"):
        flags.append("sample weights")
    from rich.text import Text

    how = "--loss" if inp["detected"] == "chosen with --loss" else inp["detected"]
    head = Text(sig["loss"], style="bold")
    head.append(f" ({how})" + "".join(f", {f}" for f in flags))
    # soft_wrap: a pipe gets rich's 80 columns, and the head line is longer with many options;
    # it stays one line (a terminal folds it itself)
    console.print(head, soft_wrap=True)
    dtype = sig["dtype"] if isinstance(sig["dtype"], str) else ", ".join(sig["dtype"])
    files = f" ({inp['files']} files)" if inp["files"] > 1 else ""
    console.print(f"predictions: {printable(inp['predictions'])}{files}", soft_wrap=True)
    console.print(
        f"labels: {printable(inp['labels'])}"
        + (f"; weights: {printable(inp['sample_weight'])}" if inp["sample_weight"] else ""),
        soft_wrap=True,
    )
    console.print(f"{result['rows']} rows, {inp['classes']} columns, {dtype}")

    ci = result.get("ci")
    t = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    t.add_column("metric")
    t.add_column("value", justify="right")
    if ci is not None:
        t.add_column("interval", justify="left")
    t.add_row("mean loss", _num(result["loss"], 8), *_interval(ci, "loss", 6))
    t.add_row("sum", _num(result["sum"], 8))
    t.add_row("n", str(result["n"]))
    if result["weight_sum"] != result["n"]:
        t.add_row("weight sum", _num(result["weight_sum"]))
    if result["perplexity"] is not None:
        t.add_row("perplexity", _num(result["perplexity"]), *_interval(ci, "perplexity", 6))
    label = "accuracy" if sig["kind"] != "multilabel" else "accuracy (per label)"
    t.add_row(label, _fixed(result["accuracy"]), *_interval(ci, "accuracy", 0))
    if result["top_k"] is not None:
        t.add_row(f"top-{result['top_k']['k']} accuracy", _fixed(result["top_k"]["accuracy"]))
    t.add_row(f"ECE ({ECE_BINS} bins)", _fixed(result["ece"]))
    console.print(t)

    classes = result["per_class"]
    shown = classes
    title = "per class" if sig["kind"] != "multilabel" else "per label"
    if len(classes) > SUMMARY_CLASSES:
        shown = classes.highest_loss(SUMMARY_CLASSES)
        title += f" (the {SUMMARY_CLASSES} with the highest loss of {len(classes)}; --json has all)"
    ct = Table(title=title, box=box.SIMPLE, title_justify="left")
    ct.add_column("class")
    ct.add_column("positives" if sig["kind"] == "multilabel" else "n", justify="right")
    ct.add_column("loss", justify="right")
    ct.add_column("accuracy", justify="right")
    for e in shown:
        name = e.get("name")
        label = f"{e['class']} {printable(name)}" if name is not None else str(e["class"])
        ct.add_row(label, str(e["count"]), _num(e["loss"], 4), _fixed(e["accuracy"]))
    console.print(ct)

    if result["worst"]:
        wt = Table(
            title=f"worst {len(result['worst'])} samples", box=box.SIMPLE, title_justify="left"
        )
        multi = inp["files"] > 1
        if multi:
            wt.add_column("file")
        wt.add_column("row", justify="right")
        wt.add_column("loss", justify="right")
        kind = sig["kind"]
        if kind in ("categorical", "sparse"):
            wt.add_column("label")
            wt.add_column("predicted")
            wt.add_column("confidence", justify="right")
            wt.add_column("p(label)", justify="right")
        elif kind == "binary":
            wt.add_column("label", justify="right")
            wt.add_column("p(positive)", justify="right")
        else:
            wt.add_column("labels")
            wt.add_column("predicted")
        for w in result["worst"]:
            cells = [printable(w["file"])] if multi else []
            cells += [str(w["row"]), _num(w["loss"], 4)]
            if kind in ("categorical", "sparse"):
                lab = str(w["label"]) + (
                    f" {printable(w['label_name'])}" if "label_name" in w else ""
                )
                prd = str(w["predicted"]) + (
                    f" {printable(w['predicted_name'])}" if "predicted_name" in w else ""
                )
                cells += [lab, prd, _fixed(w["confidence"]), _num(w["p_label"], 4)]
            elif kind == "binary":
                cells += [_num(w["label"], 4), _num(w["p_positive"], 4)]
            else:
                cells += [_ids(w["labels"]), _ids(w["predicted"])]
            wt.add_row(*cells)
        console.print(wt)
    if "signature_line" in result:
        console.print(f"signature: {printable(result['signature_line'])}", soft_wrap=True)


def _interval(ci: dict[str, Any] | None, key: str, digits: int) -> list[str]:
    """The cell of a confidence interval (none without --bootstrap; "-" where undefined)."""
    if ci is None:
        return []
    v = ci[key]
    if v is None:
        return ["-"]
    shown = [_fixed(x) if digits == 0 else _num(x, digits) for x in v]
    return [f"{ci['level'] * 100:g}% CI [{shown[0]}, {shown[1]}]"]


def _fixed(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _ids(ids: list[int]) -> str:
    text = ",".join(str(i) for i in ids[:8])
    return text + (",..." if len(ids) > 8 else "") if ids else "-"
