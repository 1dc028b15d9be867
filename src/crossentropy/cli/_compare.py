"""``crossentropy compare A B --labels L``: two models' predictions on the same labels.

The two prediction files are streamed side by side, chunk by chunk, through the very code of
``eval`` (:func:`~crossentropy.cli._evaluate.iter_chunks`), so each model gets every number of
an evaluation, and the chunk pairs add:

- McNemar's counts: rows (labels, for multilabel) that A gets right and B wrong, and the reverse;
- the rows where the per-sample (weighted) losses of A and B differ most.

The mean loss difference is ``(sum_i w_i l_i^A - sum_i w_i l_i^B) / sum_i w_i``, computed exactly
from the two exact sums. Its paired bootstrap reuses the per-group sums of the two evaluations
(the rows of A and B fall into the same groups: the group is a hash of the shard and row), so the
interval costs no pass over the rows beyond the two evaluations. See _bootstrap.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import zip_longest
from typing import Any

import numpy as np

from ._accumulate import Accumulator, ExactSum
from ._bootstrap import GROUPS, p_value, percentile_interval, replicate_ratios
from ._errors import CLIError, printable
from ._evaluate import Options, Unit, iter_chunks, new_accumulator

__all__ = ["PairAccumulator", "build_comparison", "compare_units", "mcnemar", "print_comparison"]

#: Below this many discordant pairs McNemar's test is the exact binomial test.
MCNEMAR_EXACT_BELOW = 25


class PairAccumulator:
    """McNemar's counts and the rows of largest loss difference, mergeable."""

    def __init__(self, worst_k: int) -> None:
        self.a_only = 0  # A right, B wrong
        self.b_only = 0  # B right, A wrong
        self.both = 0
        self.neither = 0
        self.heap = Accumulator(1, worst_k=worst_k)

    def add(self, a: Any, b: Any, unit: Unit, row0: int) -> None:
        valid = a["valid"]
        if "match" in a:  # multilabel: every (row, label) pair
            ra, rb = a["match"][valid], b["match"][valid]
        else:
            ra, rb = a["correct"][valid], b["correct"][valid]
        ra, rb = np.asarray(ra, dtype=bool), np.asarray(rb, dtype=bool)
        self.a_only += int(np.count_nonzero(ra & ~rb))
        self.b_only += int(np.count_nonzero(~ra & rb))
        self.both += int(np.count_nonzero(ra & rb))
        self.neither += int(np.count_nonzero(~ra & ~rb))
        la, lb = a["loss"], b["loss"]
        with np.errstate(invalid="ignore"):
            d = la - lb
        gap = np.where(np.isnan(d), np.inf, np.abs(d))  # inf - inf: undefined, listed first

        def describe(i: int) -> dict[str, Any]:
            item: dict[str, Any] = {
                "file": unit.name,
                "row": row0 + i,
                "loss_a": float(la[i]),
                "loss_b": float(lb[i]),
                "difference": float(d[i]),
            }
            if "label" in a:
                lab = a["label"][i]
                item["label"] = float(lab) if a["label"].dtype.kind == "f" else int(lab)
                if a["predicted"].dtype.kind == "f":  # binary: p(positive)
                    item["p_positive_a"] = float(a["predicted"][i])
                    item["p_positive_b"] = float(b["predicted"][i])
                else:
                    item["predicted_a"] = int(a["predicted"][i])
                    item["predicted_b"] = int(b["predicted"][i])
            return item

        self.heap.add_worst(gap, valid, unit.index, row0, describe)

    def merge(self, other: PairAccumulator) -> None:
        self.a_only += other.a_only
        self.b_only += other.b_only
        self.both += other.both
        self.neither += other.neither
        self.heap.merge(other.heap)


def compare_units(
    ua: Unit, ub: Unit, opts: Options, progress: Callable[[int], None] | None = None
) -> tuple[Accumulator, Accumulator, PairAccumulator]:
    """Evaluate shard ``ua`` of A and ``ub`` of B side by side (also the task of a Dask
    worker: picklable in and out)."""
    acc_a, acc_b = new_accumulator(opts), new_accumulator(opts)
    pair = PairAccumulator(opts.worst_k)
    chunks = zip_longest(iter_chunks(ua, opts, acc_a), iter_chunks(ub, opts, acc_b))
    rows = 0
    for ca, cb in chunks:
        if ca is None or cb is None or ca.n_rows != cb.n_rows:
            short, long = (
                (ua, ub) if ca is None or (cb is not None and ca.n_rows < cb.n_rows) else (ub, ua)
            )
            have = rows + (0 if ca is None or cb is None else min(ca.n_rows, cb.n_rows))
            raise CLIError(
                f"{short.name}: {have} rows, but {long.name} has more; A and B need one row per "
                "sample, in the same order."
            )
        pair.add(ca.per_row, cb.per_row, ua, ca.row0)
        rows += ca.n_rows
        if progress is not None:
            progress(ca.n_rows)
    return acc_a, acc_b, pair


def mcnemar(a_only: int, b_only: int) -> dict[str, Any]:
    """McNemar's test of equal accuracy from the discordant counts.

    Exact binomial (two-sided, ``min(1, 2 P(X <= min(b, c)))`` with ``X ~ Bin(b + c, 1/2)``)
    below :data:`MCNEMAR_EXACT_BELOW` discordant pairs; else the chi-squared statistic with
    continuity correction, ``(|b - c| - 1)^2 / (b + c)``, on one degree of freedom.

    >>> mcnemar(1, 9)["p_value"]
    0.021484375
    """
    n = a_only + b_only
    if n < MCNEMAR_EXACT_BELOW:
        k = min(a_only, b_only)
        tail = sum(math.comb(n, i) for i in range(k + 1))
        p = min(1.0, 2.0 * tail / 2.0**n) if n else 1.0
        return {"method": "exact binomial", "statistic": None, "p_value": p}
    stat = (abs(a_only - b_only) - 1.0) ** 2 / n
    return {
        "method": "chi-squared with continuity correction",
        "statistic": stat,
        "p_value": math.erfc(math.sqrt(stat / 2.0)),
    }


def _difference(a: ExactSum, b: ExactSum) -> float:
    """``a - b`` correctly rounded (exact expansions), inf or NaN where either is not finite."""
    d = ExactSum()
    d.merge(a)
    for p in b.partials:
        d.add(-p)
    d.special -= b.special
    return d.value()


def build_comparison(
    res_a: dict[str, Any],
    res_b: dict[str, Any],
    acc_a: Accumulator,
    acc_b: Accumulator,
    pair: PairAccumulator,
    opts: Options,
) -> dict[str, Any]:
    """The comparison as plain Python values (JSON-ready): A minus B throughout."""
    wsum = acc_a.weight.value()
    d_sum = _difference(acc_a.loss, acc_b.loss)
    d_loss = d_sum / wsum if wsum > 0 else 0.0
    d_acc = None
    if res_a["accuracy"] is not None and res_b["accuracy"] is not None:
        d_acc = _difference(acc_a.correct, acc_b.correct) / wsum
    boot: dict[str, Any] | None = None
    if opts.bootstrap > 0:
        ga, gb = acc_a.group_loss, acc_b.group_loss
        ca, cb = acc_a.group_correct, acc_b.group_correct
        assert ga is not None
        assert gb is not None
        assert ca is not None
        assert cb is not None
        assert acc_a.group_weight is not None
        with np.errstate(invalid="ignore"):
            num_loss = ga.value() - gb.value()
            num_acc = ca.value() - cb.value()
        loss_reps, acc_reps = replicate_ratios(
            opts.seed, opts.bootstrap, [num_loss, num_acc], acc_a.group_weight.value()
        )
        hist = None
        if np.all(np.isfinite(loss_reps)):
            counts, edges = np.histogram(loss_reps, bins=30)
            hist = {"edges": edges.tolist(), "counts": counts.tolist()}
        boot = {
            "method": "paired bootstrap",
            "replicates": opts.bootstrap,
            "groups": GROUPS,
            "seed": opts.seed,
            "level": opts.confidence,
            "loss_ci": percentile_interval(loss_reps, opts.confidence),
            "loss_p_value": p_value(loss_reps, d_loss),
            "accuracy_ci": None
            if d_acc is None
            else percentile_interval(acc_reps, opts.confidence),
            "histogram": hist,
        }
    unit = "labels" if opts.loss == "multilabel" else "rows"
    test = mcnemar(pair.a_only, pair.b_only)
    per_class = []
    for ea, eb in zip(res_a["per_class"], res_b["per_class"], strict=True):
        entry: dict[str, Any] = {"class": ea["class"]}
        if "name" in ea:
            entry["name"] = ea["name"]
        entry["count"] = ea["count"]
        for key in ("loss", "accuracy"):
            va, vb = ea[key], eb[key]
            entry[f"{key}_a"], entry[f"{key}_b"] = va, vb
            with np.errstate(invalid="ignore"):
                entry[f"{key}_difference"] = None if va is None or vb is None else va - vb
        per_class.append(entry)
    disagree = []
    for gap, _, _, info in pair.heap.worst_sorted():
        item = dict(info)
        item["gap"] = gap
        disagree.append(item)
    sig = dict(res_a["signature"])
    line = "compare|" + res_a["signature_line"]
    return {
        "command": "compare",
        "difference": {
            "loss": d_loss,
            "sum": d_sum,
            "accuracy": d_acc,
            "ece": None
            if res_a["ece"] is None or res_b["ece"] is None
            else res_a["ece"] - res_b["ece"],
            "bootstrap": boot,
            "mcnemar": {
                "unit": unit,
                "a_only": pair.a_only,
                "b_only": pair.b_only,
                "both": pair.both,
                "neither": pair.neither,
                **test,
            },
        },
        "a": res_a,
        "b": res_b,
        "per_class": per_class,
        "disagree": disagree,
        "n": res_a["n"],
        "rows": res_a["rows"],
        "signature": sig,
        "signature_line": line,
        "inputs": {
            "a": res_a["inputs"]["predictions"],
            "b": res_b["inputs"]["predictions"],
            "labels": res_a["inputs"]["labels"],
            "sample_weight": res_a["inputs"]["sample_weight"],
            "files": res_a["inputs"]["files"],
            "classes": opts.n_classes,
            "detected": res_a["inputs"]["detected"],
        },
    }


def _num(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "-"
    if math.isinf(x) or math.isnan(x):
        return str(x)
    return f"{x:.{digits}g}"


def _signed(x: float | None, digits: int = 4) -> str:
    if x is None:
        return "-"
    if not math.isfinite(x):
        return str(x)
    return f"{x:+.{digits}f}" if abs(x) >= 1e-4 or x == 0 else f"{x:+.{digits}g}"


def _p(x: float | None) -> str:
    return "-" if x is None else (f"{x:.4f}" if x >= 1e-4 else f"{x:.2g}")


def print_comparison(result: dict[str, Any], console: Any) -> None:
    """The readable summary of a comparison (a rich console)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    a, b, diff = result["a"], result["b"], result["difference"]
    sig, inp = result["signature"], result["inputs"]
    head = Text("compare: " + sig["loss"], style="bold")
    how = "--loss" if inp["detected"] == "chosen with --loss" else inp["detected"]
    head.append(f" ({how})" + (", from logits" if sig["options"]["from_logits"] else ""))
    console.print(head, soft_wrap=True)
    console.print(f"A: {printable(inp['a'])}", soft_wrap=True)
    console.print(f"B: {printable(inp['b'])}", soft_wrap=True)
    console.print(f"labels: {printable(inp['labels'])}", soft_wrap=True)
    console.print(f"{result['rows']} rows, {inp['classes']} columns; differences are A - B")
    boot = diff["bootstrap"]
    t = Table(box=box.SIMPLE, pad_edge=False)
    for col, just in (("", "left"), ("A", "right"), ("B", "right"), ("A - B", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    level = "" if boot is None else f"{boot['level'] * 100:g}% CI"
    if boot is not None:
        t.add_column(level)
    t.add_column("p", justify="right")

    def ci(key: str) -> list[str]:
        if boot is None:
            return []
        v = boot[key]
        return ["-" if v is None else f"[{_signed(v[0])}, {_signed(v[1])}]"]

    t.add_row(
        "mean loss",
        _num(a["loss"], 8),
        _num(b["loss"], 8),
        _signed(diff["loss"], 6),
        *ci("loss_ci"),
        _p(None if boot is None else boot["loss_p_value"]),
    )
    if a["perplexity"] is not None:
        t.add_row(
            "perplexity",
            _num(a["perplexity"]),
            _num(b["perplexity"]),
            "",
            *([""] if boot else []),
            "",
        )
    mc = diff["mcnemar"]
    t.add_row(
        "accuracy",
        _num(a["accuracy"], 4),
        _num(b["accuracy"], 4),
        _signed(diff["accuracy"]),
        *ci("accuracy_ci"),
        _p(mc["p_value"]),
    )
    t.add_row(
        "ECE",
        _num(a["ece"], 4),
        _num(b["ece"], 4),
        _signed(diff["ece"]),
        *([""] if boot else []),
        "",
    )
    console.print(t)
    if boot is not None:
        console.print(
            f"mean loss: paired bootstrap, {boot['replicates']} replicates, seed {boot['seed']}",
            soft_wrap=True,
        )
    console.print(
        f"accuracy: McNemar ({mc['method']}): A right and B wrong on {mc['a_only']} "
        f"{mc['unit']}, B right and A wrong on {mc['b_only']}",
        soft_wrap=True,
    )
    classes = result["per_class"]
    if len(classes) > 1:
        shown = sorted(
            classes,
            key=lambda e: (
                -abs(e["loss_difference"])
                if e["loss_difference"] is not None and math.isfinite(e["loss_difference"])
                else 0.0
            ),
        )[:20]
        title = "per class" + (
            f" (the 20 largest loss differences of {len(classes)}; --json has all)"
            if len(classes) > 20
            else ""
        )
        ct = Table(title=title, box=box.SIMPLE, title_justify="left")
        for col in ("class", "n", "loss A", "loss B", "A - B", "acc A", "acc B", "A - B"):
            ct.add_column(col, justify="left" if col == "class" else "right")
        for e in shown:
            name = e.get("name")
            label = f"{e['class']} {printable(name)}" if name is not None else str(e["class"])
            ct.add_row(
                label,
                str(e["count"]),
                _num(e["loss_a"], 4),
                _num(e["loss_b"], 4),
                _signed(e["loss_difference"]),
                _num(e["accuracy_a"], 4),
                _num(e["accuracy_b"], 4),
                _signed(e["accuracy_difference"]),
            )
        console.print(ct)
    if result["disagree"]:
        wt = Table(
            title=f"{len(result['disagree'])} rows where A and B differ most",
            box=box.SIMPLE,
            title_justify="left",
        )
        multi = inp["files"] > 1
        cols = (["file"] if multi else []) + ["row", "loss A", "loss B", "A - B"]
        extra = [k for k in ("label", "predicted_a", "predicted_b") if k in result["disagree"][0]]
        for col in cols + extra:
            wt.add_column(
                col.replace("predicted_a", "predicted A").replace("predicted_b", "predicted B"),
                justify="right",
            )
        for w in result["disagree"]:
            cells = [printable(w["file"])] if multi else []
            cells += [str(w["row"]), _num(w["loss_a"], 4), _num(w["loss_b"], 4)]
            cells.append(_signed(w["difference"]))
            cells += [str(w[k]) for k in extra]
            wt.add_row(*cells)
        console.print(wt)
    console.print(f"signature: {printable(result['signature_line'])}", soft_wrap=True)
