"""String labels (issue 17): a CSV or JSON Lines label "dog" is mapped through --class-names or
the prediction columns' names; a name that is not a class is a one-line error (exit 2)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

import crossentropy as ce

NAMES = np.array(["cat", "dog", "bird"])


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(17)
    p = rng.dirichlet(np.ones(3), 120)
    y = rng.integers(0, 3, 120)
    return p, y, float(ce.sparse_categorical_crossentropy(y, p, reduction="mean"))


def test_csv_labels_named_by_the_prediction_columns(tmp_path: Any, cli: Any, data: Any) -> None:
    pd = pytest.importorskip("pandas")
    p, y, want = data
    df = pd.DataFrame(p, columns=list(NAMES))
    df["label"] = NAMES[y]
    df.to_csv(tmp_path / "named.csv", index=False)
    for chunk in ("0", "7"):
        res = cli("eval", tmp_path / "named.csv", "--json", "--chunk-rows", chunk).json()
        assert res["loss"] == pytest.approx(want, rel=1e-12)
        assert res["signature"]["kind"] == "sparse"
    # the same with the column order of the predictions, not of --class-names' file
    df2 = pd.DataFrame(p, columns=["p0", "p1", "p2"])
    df2["label"] = NAMES[y]
    df2.to_csv(tmp_path / "plain.csv", index=False)
    res = cli("eval", tmp_path / "plain.csv", "--class-names", "cat,dog,bird", "--json").json()
    assert res["loss"] == pytest.approx(want, rel=1e-12)
    assert [e["name"] for e in res["per_class"]] == list(NAMES)


def test_unknown_names_are_one_line_errors(tmp_path: Any, cli: Any, data: Any) -> None:
    pd = pytest.importorskip("pandas")
    p, y, _ = data
    df = pd.DataFrame(p, columns=["p0", "p1", "p2"])
    df["label"] = NAMES[y]
    df.loc[5, "label"] = "fox"
    df.to_csv(tmp_path / "plain.csv", index=False)
    run = cli("eval", tmp_path / "plain.csv")
    assert run.code == 2
    first = NAMES[y[0]]
    assert run.err == (
        f"crossentropy: error: {tmp_path / 'plain.csv'}: row 0 (line 2), column 'label': label "
        f"'{first}' is not a class name; the classes (the prediction columns) are: p0, p1, p2 "
        "(pass --class-names to name them).\n"
    )
    run = cli("eval", tmp_path / "plain.csv", "--class-names", "cat,dog,bird")
    assert run.code == 2
    assert run.err == (
        f"crossentropy: error: {tmp_path / 'plain.csv'}: row 5 (line 7), column 'label': label "
        "'fox' is not a class name; the classes (--class-names) are: cat, dog, bird.\n"
    )
    assert run.out == ""


def test_jsonl_string_labels(tmp_path: Any, cli: Any, data: Any) -> None:
    p, y, want = data
    with open(tmp_path / "p.jsonl", "w") as f:
        for row, label in zip(p.tolist(), NAMES[y].tolist(), strict=True):
            f.write(json.dumps({"label": label, "probs": row}) + "\n")
    res = cli("eval", tmp_path / "p.jsonl", "--class-names", "cat,dog,bird", "--json").json()
    assert res["loss"] == pytest.approx(want, rel=1e-12)
    run = cli("eval", tmp_path / "p.jsonl")
    assert run.code == 2
    assert "pass --class-names to map names to class ids" in run.err
