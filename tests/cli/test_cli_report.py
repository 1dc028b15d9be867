"""``--report``: an HTML page or a PNG with the reliability diagram, loss histogram and per-class
loss bars, written only when the evaluation succeeds."""

from __future__ import annotations

import base64
import os
import re
from typing import Any

import numpy as np
import pytest
from cli_data import logits

pytest.importorskip("matplotlib")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_html_report_embeds_the_figure_and_numbers(tmp_path: Any, cli: Any) -> None:
    out = tmp_path / "report.html"
    run = cli("eval", "--example", "--report", out, "--json")
    assert run.code == 0
    page = out.read_text(encoding="utf-8")
    res = run.json()
    assert page.startswith("<!DOCTYPE html>")
    assert f"<td>{res['loss']}</td>" in page
    assert "sparse_categorical_crossentropy" in page
    m = re.search(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", page)
    assert m is not None
    assert base64.b64decode(m.group(1)).startswith(PNG_MAGIC)
    assert oct(os.stat(out).st_mode & 0o777) == oct(0o644)
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_png_report_binary_and_multilabel(tmp_path: Any, cli: Any) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "b.npz", y_pred=rng.uniform(size=200), y_true=rng.integers(0, 2, 200))
    np.savez(
        tmp_path / "m.npz",
        logits=logits(100, 40),
        labels=(rng.uniform(size=(100, 40)) < 0.2).astype(np.int8),
    )
    run = cli("eval", tmp_path / "b.npz", "--report", tmp_path / "b.png")
    assert run.code == 0
    assert "report written to" in run.out
    assert (tmp_path / "b.png").read_bytes().startswith(PNG_MAGIC)
    run = cli("eval", tmp_path / "m.npz", "--from-logits", "--report", tmp_path / "m.png")
    assert run.code == 0
    assert (tmp_path / "m.png").read_bytes().startswith(PNG_MAGIC)


def test_reliability_panel_uses_only_the_legend_colours(tmp_path: Any, cli: Any) -> None:
    """Every colour drawn in the reliability panel is a legend entry's: the gap is an opaque
    hatched outline, never a translucent fill blending with the observed bars (issue 17)."""
    from matplotlib.colors import to_rgba

    from crossentropy.cli._report import _figure

    res = cli("eval", "--example", "--json").json()
    bins = [b for b in res["calibration"] if b["weight"] > 0]
    # the example has both over- and under-confident bins, so both drawings are exercised
    assert any(b["confidence"] > b["accuracy"] for b in bins)
    assert any(b["confidence"] < b["accuracy"] for b in bins)
    ax = _figure(res).axes[0]
    handles, labels = ax.get_legend_handles_labels()
    assert "gap to mean confidence" in labels
    legend_colours = set()
    for h in handles:
        patches = getattr(h, "patches", [h])
        for p in patches:
            if hasattr(p, "get_fill") and p.get_fill():
                legend_colours.add(to_rgba(p.get_facecolor()))
            if hasattr(p, "get_edgecolor") and p.get_hatch():
                legend_colours.add(to_rgba(p.get_edgecolor()))
    drawn = 0
    for p in ax.patches:
        assert p.get_alpha() in (None, 1.0)
        if p.get_fill():
            assert to_rgba(p.get_facecolor()) in legend_colours
            assert to_rgba(p.get_facecolor())[3] == 1.0
        else:
            assert p.get_hatch()
            assert to_rgba(p.get_edgecolor()) in legend_colours
        drawn += 1
    assert drawn == 2 * len(bins)
