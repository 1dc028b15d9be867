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
