"""``--report report.html|.png``: reliability diagram, loss histogram and per-class loss bars.

Drawn with matplotlib's object API (no pyplot, no global backend change) and written atomically:
the file appears complete or not at all.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._errors import CLIError, missing_extra

__all__ = ["check_report_path", "render_comparison", "render_report", "write_atomic"]

REPORT_KINDS = {".html": "html", ".htm": "html", ".png": "png"}
#: Classes drawn in the per-class panel (those with the highest loss).
MAX_BARS = 30


def check_report_path(path: str) -> str:
    """Validate ``--report`` before any work: its type, its folder, and matplotlib."""
    ext = os.path.splitext(path)[1].lower()
    kind = REPORT_KINDS.get(ext)
    if kind is None:
        raise CLIError(f"--report {path}: the report must be a .html or .png file.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"--report {path}: the folder {parent} does not exist.")
    if os.path.isdir(path):
        raise CLIError(f"--report {path}: is a directory.")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise missing_extra("matplotlib", "--report") from None
    # The report is written at the end, beside its destination: try that now, before the work.
    try:
        fd, probe = tempfile.mkstemp(prefix=".crossentropy-report-", suffix=".tmp", dir=parent)
    except OSError as err:
        raise CLIError(
            f"--report {path}: cannot write in the folder {parent} ({err.strerror or err})."
        ) from None
    os.close(fd)
    os.unlink(probe)
    return kind


def _figure(result: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    _reliability(ax1, result)
    _histogram(ax2, result)
    _per_class(ax3, result)
    sig = result["signature"]
    fig.suptitle(
        f"{sig['loss']} ({sig['kind']}): mean loss {result['loss']:.6g} over n = {result['n']}"
    )
    return fig


#: The reliability panel's colours (every one of them is in its legend).
OBSERVED_COLOUR = "#4C72B0"
GAP_COLOUR = "#C44E52"


def _reliability(ax: Any, result: dict[str, Any]) -> None:
    kind = result["signature"]["kind"]
    bins = result["calibration"]
    width = bins[0]["hi"] - bins[0]["lo"]
    centers = [(b["lo"] + b["hi"]) / 2 for b in bins if b["weight"] > 0]
    acc = [b["accuracy"] for b in bins if b["weight"] > 0]
    conf = [b["confidence"] for b in bins if b["weight"] > 0]
    ax.bar(centers, acc, width=width * 0.95, color=OBSERVED_COLOUR, label="observed")
    # The gap is drawn opaque and unfilled (hatched outline): a translucent fill over the
    # observed bar (an under-confident bin) would blend into a colour the legend does not show.
    lo = [min(c, a) for c, a in zip(conf, acc, strict=True)]
    ax.bar(
        centers,
        [abs(c - a) for c, a in zip(conf, acc, strict=True)],
        bottom=lo,
        width=width * 0.95,
        fill=False,
        edgecolor=GAP_COLOUR,
        hatch="///",
        linewidth=1.0,
        label="gap to mean confidence",
    )
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    if kind in ("binary", "multilabel"):
        ax.set_xlabel("predicted probability of the positive label")
        ax.set_ylabel("observed frequency of positives")
    else:
        ax.set_xlabel("confidence (top-1 probability)")
        ax.set_ylabel("accuracy")
    ece = result["ece"]
    ax.set_title("reliability" + ("" if ece is None else f" (ECE {ece:.4f}, 15 bins)"))
    ax.legend(loc="upper left", fontsize="small")


def _histogram(ax: Any, result: dict[str, Any]) -> None:
    h = result["loss_histogram"]
    edges = [10.0**e for e in h["log10_edges"]]
    counts = h["counts"]
    ax.stairs(counts, edges, fill=True, color="#55A868")
    ax.set_xscale("log")
    ax.set_xlabel("per-sample loss")
    ax.set_ylabel("samples")
    extra = [f"{h[k]} {k}" for k in ("zero", "below", "above", "inf") if h[k]]
    ax.set_title("loss histogram" + (f" ({', '.join(extra)})" if extra else ""))


def _per_class(ax: Any, result: dict[str, Any]) -> None:
    classes = [c for c in result["per_class"] if c["loss"] is not None]
    shown = sorted(classes, key=lambda c: -c["loss"])[:MAX_BARS]
    shown.reverse()
    labels = [str(c.get("name", c["class"])) for c in shown]
    ax.barh(range(len(shown)), [c["loss"] for c in shown], color="#C44E52")
    ax.set_yticks(range(len(shown)), labels, fontsize="small")
    ax.set_xlabel("mean loss")
    what = "label" if result["signature"]["kind"] == "multilabel" else "class"
    more = f" (top {MAX_BARS} of {len(classes)})" if len(classes) > MAX_BARS else ""
    ax.set_title(f"loss per {what}{more}")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def _page(title: str, rows: list[tuple[str, Any]], alt: str, png: bytes) -> bytes:
    """A self-contained HTML page: a table of ``rows`` (None shown as '-') and the PNG."""
    body = "\n".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape('-' if v is None else str(v))}</td></tr>"
        for k, v in rows
    )
    img = base64.b64encode(png).decode("ascii")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset='utf-8'>"
        f"<title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:2em}"
        "img{max-width:100%}</style></head><body>\n"
        f"<h1>{title}</h1>\n"
        f"<table>\n{body}\n</table>\n"
        f"<img alt='{alt}' "
        f"src='data:image/png;base64,{img}'>\n"
        "</body></html>\n"
    ).encode()


def render_report(result: dict[str, Any], kind: str) -> bytes:
    """The report's bytes (PNG, or a self-contained HTML page embedding the PNG)."""
    png = _png(_figure(result))
    if kind == "png":
        return png
    return _page(
        "crossentropy report",
        _html_rows(result),
        "reliability diagram, loss histogram, per-class loss",
        png,
    )


def _html_rows(result: dict[str, Any]) -> list[tuple[str, Any]]:
    sig, inp = result["signature"], result["inputs"]
    rows = [
        ("loss function", sig["loss"] + f" ({sig['kind']})"),
        ("predictions", inp["predictions"]),
        ("labels", inp["labels"]),
        ("mean loss", result["loss"]),
        ("sum", result["sum"]),
        ("n", result["n"]),
        ("perplexity", result["perplexity"]),
        ("accuracy", result["accuracy"]),
        ("top-k accuracy", None if result["top_k"] is None else result["top_k"]["accuracy"]),
        ("ECE (15 bins)", result["ece"]),
        ("crossentropy version", sig["version"]),
    ]
    return rows


A_COLOUR, B_COLOUR = "#4C72B0", "#DD8452"


def _comparison_figure(result: dict[str, Any]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    diff = result["difference"]
    boot = diff["bootstrap"]
    if boot is not None and boot["histogram"] is not None:
        h = boot["histogram"]
        ax1.stairs(h["counts"], h["edges"], fill=True, color="#8172B3", label="replicates")
        ax1.axvline(diff["loss"], color="k", lw=1.5, label=f"observed {diff['loss']:+.4g}")
        if boot["loss_ci"] is not None:
            for v in boot["loss_ci"]:
                ax1.axvline(v, color="k", ls="--", lw=1)
            ax1.plot([], [], "k--", lw=1, label=f"{boot['level'] * 100:g}% interval")
        ax1.axvline(0.0, color="#C44E52", lw=1, label="no difference")
        ax1.legend(loc="upper left", fontsize="small")
        ax1.set_title(f"bootstrap of mean loss A - B (p = {boot['loss_p_value']:.3g})")
    else:
        ax1.set_title("no bootstrap (--bootstrap 0, or an infinite loss)")
    ax1.set_xlabel("mean loss difference, A - B")
    for res, colour, name in ((result["a"], A_COLOUR, "A"), (result["b"], B_COLOUR, "B")):
        bins = [b for b in res["calibration"] if b["weight"] > 0]
        ax2.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            "o-",
            color=colour,
            label=f"{name} (ECE {res['ece']:.4f})" if res["ece"] is not None else name,
        )
    ax2.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    ax2.set_xlim(0, 1)
    ax2.set_ylim(0, 1)
    ax2.set_xlabel("mean confidence of the bin")
    ax2.set_ylabel("observed accuracy / frequency")
    ax2.set_title("reliability")
    ax2.legend(loc="upper left", fontsize="small")
    classes = [c for c in result["per_class"] if c["loss_difference"] is not None]
    classes = [c for c in classes if np.isfinite(c["loss_difference"])]
    shown = sorted(classes, key=lambda c: -abs(c["loss_difference"]))[:MAX_BARS]
    shown.reverse()
    values = [c["loss_difference"] for c in shown]
    colours = [A_COLOUR if v < 0 else B_COLOUR for v in values]
    ax3.barh(range(len(shown)), values, color=colours)
    ax3.set_yticks(
        range(len(shown)), [str(c.get("name", c["class"])) for c in shown], fontsize="small"
    )
    ax3.axvline(0.0, color="k", lw=0.8)
    from matplotlib.patches import Patch

    ax3.legend(
        handles=[
            Patch(color=A_COLOUR, label="A lower loss"),
            Patch(color=B_COLOUR, label="B lower loss"),
        ],
        loc="lower right",
        fontsize="small",
    )
    ax3.set_xlabel("mean loss A - B")
    ax3.set_title("per-class loss difference")
    sig = result["signature"]
    fig.suptitle(f"compare: {sig['loss']} ({sig['kind']}), n = {result['n']}")
    return fig


def render_comparison(result: dict[str, Any], kind: str) -> bytes:
    """The comparison report's bytes (PNG, or an HTML page embedding it)."""
    png = _png(_comparison_figure(result))
    if kind == "png":
        return png
    diff, boot = result["difference"], result["difference"]["bootstrap"]
    mc = diff["mcnemar"]
    rows = [
        ("loss function", result["signature"]["loss"]),
        ("A", result["inputs"]["a"]),
        ("B", result["inputs"]["b"]),
        ("labels", result["inputs"]["labels"]),
        ("n", result["n"]),
        ("mean loss A", result["a"]["loss"]),
        ("mean loss B", result["b"]["loss"]),
        ("mean loss A - B", diff["loss"]),
        ("interval", None if boot is None else boot["loss_ci"]),
        ("p (paired bootstrap)", None if boot is None else boot["loss_p_value"]),
        ("accuracy A", result["a"]["accuracy"]),
        ("accuracy B", result["b"]["accuracy"]),
        ("accuracy A - B", diff["accuracy"]),
        (
            f"McNemar ({mc['method']})",
            f"A only {mc['a_only']}, B only {mc['b_only']}, p = {mc['p_value']}",
        ),
        ("signature", result["signature_line"]),
    ]
    return _page(
        "crossentropy compare",
        rows,
        "bootstrap distribution, reliability of A and B, per-class differences",
        png,
    )


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    SIGTERM, SIGHUP and SIGINT are held back from the temporary file's creation to the rename,
    and delivered after it: a signal never leaves a partial or temporary file, only the whole
    report or none.
    """
    parent = os.path.dirname(os.path.abspath(path))
    with _signals_held():
        try:
            fd, tmp = tempfile.mkstemp(prefix=".crossentropy-report-", suffix=".tmp", dir=parent)
        except OSError as err:
            raise _write_error(path, err) from None
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o644)  # mkstemp's 0600 would make the report private
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException as err:
            if os.path.exists(tmp):
                os.unlink(tmp)
            if isinstance(err, OSError):
                raise _write_error(path, err) from None
            raise


def _write_error(path: str, err: OSError) -> CLIError:
    return CLIError(f"--report {path}: cannot write the report ({err.strerror or err}).")


_HELD = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Defer SIGTERM, SIGHUP and SIGINT: a handler notes them, and once the block is done the
    previous handlers are restored and the signals raised again (a SIGTERM then ends the
    process as it would have). Python runs signal handlers in the main thread only, between
    bytecodes, whichever thread the kernel delivered the signal to (a thread mask would not
    do: another thread, a kernel's worker, would take the signal); elsewhere a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def note(signum: int, frame: Any) -> None:
        caught.append(signum)

    old = {sig: signal.signal(sig, note) for sig in _HELD}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)
