"""The formats of issue 17: JSON Lines, JSON, Arrow IPC/Feather, gzip-compressed CSV and stdin,
written by pandas, pyarrow and the json module; the numbers equal the library's."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, parse_result

import crossentropy as ce


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, float]:
    x = logits(257, 5, seed=31)
    k = class_ids(257, 5, seed=32)
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    return x, k, want


def write_jsonl(path: Any, x: np.ndarray, k: np.ndarray, key: str = "logits") -> None:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        for row, label in zip(x.tolist(), k.tolist(), strict=True):
            f.write(json.dumps({"label": label, key: row}) + "\n")


def test_jsonl_and_json(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, want = data
    write_jsonl(tmp_path / "p.jsonl", x, k)
    write_jsonl(tmp_path / "p.jsonl.gz", x, k)
    (tmp_path / "records.json").write_text(
        json.dumps([{"label": a, "logits": r} for a, r in zip(k.tolist(), x.tolist(), strict=True)])
    )
    (tmp_path / "columns.json").write_text(json.dumps({"label": k.tolist(), "logits": x.tolist()}))
    for name in ("p.jsonl", "p.jsonl.gz", "records.json", "columns.json"):
        for chunk in ("0", "10"):
            res = cli(
                "eval", tmp_path / name, "--from-logits", "--json", "--chunk-rows", chunk
            ).json()
            assert res["n"] == len(k), name
            # json.dumps writes the shortest repr of each float64: the same numbers
            assert res["loss"] == pytest.approx(want, rel=1e-12), name
            assert res["inputs"]["labels"] == f"'label' in {tmp_path / name}"


def test_jsonl_probs_and_errors(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, _ = data
    p = ce.softmax(x)
    write_jsonl(tmp_path / "p.jsonl", p, k, key="probs")
    want = float(ce.sparse_categorical_crossentropy(k, p, reduction="mean"))
    assert cli("eval", tmp_path / "p.jsonl", "--json").json()["loss"] == pytest.approx(
        want, rel=1e-12
    )
    lines = (tmp_path / "p.jsonl").read_text().splitlines()
    # fmt: off
    cases = {
        "ragged": (5, '{"label": 1, "probs": [0.5, 0.5]}',
                   "row 5 (line 6), key 'probs': a list of 2"),
        "null": (3, '{"label": 1, "probs": [0.2, null, 0.3, 0.3, 0.2]}',
                 "key 'probs'[1]: expected a number, got null"),
        "broken": (7, '{"label": 1, "probs": [0.2,', "line 8: not valid JSON"),
        "nan": (2, '{"label": 1, "probs": [NaN, 0, 0, 0, 1]}', "line 3: not valid JSON"),
        "missing": (4, '{"probs": [0.2, 0.2, 0.2, 0.2, 0.2]}', "row 4 (line 5): no key 'label'"),
    }
    # fmt: on
    for name, (i, line, message) in cases.items():
        bad = list(lines)
        bad[i] = line
        (tmp_path / f"{name}.jsonl").write_text("\n".join(bad) + "\n")
        run = cli("eval", tmp_path / f"{name}.jsonl")
        assert run.code == 2, name
        assert len(run.err.splitlines()) == 1, name
        assert message in run.err, (name, run.err)


def test_feather_and_arrow_ipc_from_pandas_and_pyarrow(tmp_path: Any, cli: Any, data: Any) -> None:
    pd = pytest.importorskip("pandas")
    pa = pytest.importorskip("pyarrow")
    x, k, want = data
    df = pd.DataFrame(x, columns=[f"logit_{j}" for j in range(5)])
    df["label"] = k
    df.to_feather(tmp_path / "p.feather")
    table = pa.table({"logits": pa.array(x.tolist()), "label": k})
    with pa.ipc.new_file(tmp_path / "list.arrow", table.schema) as w:
        for b in table.to_batches(max_chunksize=50):
            w.write_batch(b)
    with pa.ipc.new_stream(tmp_path / "stream.arrow", table.schema) as w:
        w.write_table(table)
    for name in ("p.feather", "list.arrow", "stream.arrow"):
        res = cli("eval", tmp_path / name, "--from-logits", "--json", "--chunk-rows", "33").json()
        assert res["n"] == len(k), name
        assert res["loss"] == pytest.approx(want, rel=1e-12), name


def test_csv_gz_from_pandas(tmp_path: Any, cli: Any, data: Any) -> None:
    pd = pytest.importorskip("pandas")
    x, k, want = data
    df = pd.DataFrame(x, columns=[f"logit_{j}" for j in range(5)])
    df["label"] = k
    df.to_csv(tmp_path / "p.csv.gz", index=False)  # pandas compresses by the extension
    df.to_csv(tmp_path / "p.tsv.gz", index=False, sep="\t")
    for name in ("p.csv.gz", "p.tsv.gz"):
        res = cli("eval", tmp_path / name, "--from-logits", "--json", "--chunk-rows", "20").json()
        assert res["loss"] == pytest.approx(want, rel=1e-12), name
    data_gz = (tmp_path / "p.csv.gz").read_bytes()
    (tmp_path / "cut.csv.gz").write_bytes(data_gz[: len(data_gz) // 2])
    run = cli("eval", tmp_path / "cut.csv.gz", "--from-logits")
    assert run.code == 2
    assert run.err.startswith(f"crossentropy: error: {tmp_path / 'cut.csv.gz'}: ")
    assert "gzip" in run.err
    assert len(run.err.splitlines()) == 1


@pytest.mark.parametrize("fmt", ["npy", "csv", "jsonl", "csv.gz", "parquet"])
def test_stdin(tmp_path: Any, data: Any, fmt: str) -> None:
    x, k, want = data
    path = tmp_path / f"p.{fmt}"
    extra: list[str] = []
    if fmt == "npy":
        np.save(path, x)
        np.save(tmp_path / "k.npy", k)
        extra = ["--labels", str(tmp_path / "k.npy")]
    elif fmt == "jsonl":
        write_jsonl(path, x, k)
    elif fmt == "parquet":
        pd = pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
        df = pd.DataFrame(x, columns=[f"l{j}" for j in range(5)])
        df["label"] = k
        df.to_parquet(path, index=False)
    else:
        pd = pytest.importorskip("pandas")
        df = pd.DataFrame(x, columns=[f"l{j}" for j in range(5)])
        df["label"] = k
        df.to_csv(path, index=False)
    with open(path, "rb") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "crossentropy", "eval", "-", "--from-logits", "--json", *extra],
            stdin=f, capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    res = parse_result(proc.stdout)
    assert res["loss"] == pytest.approx(want, rel=1e-12)
    assert res["inputs"]["predictions"].startswith("- (stdin, read as ")
    leftovers = [
        p for p in os.listdir(os.environ.get("TMPDIR", "/tmp")) if "crossentropy-stdin-" in p
    ]
    assert not [p for p in leftovers if str(proc.pid) in p]
