"""Every input layout gives the same numbers: .npy orders and dtypes, .npz stored or compressed,
.csv/.tsv with or without a header, Parquet scalar or list columns, label encodings."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, softmax_rows, write_csv

import crossentropy as ce


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, float]:
    x = logits(97, 5, seed=21)
    k = class_ids(97, 5, seed=22)
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    return x, k, want


def loss_of(cli: Any, *argv: Any) -> float:
    return float(cli("eval", *argv, "--from-logits", "--json", "--chunk-rows", 10).json()["loss"])


def test_npy_fortran_order_and_big_endian(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, want = data
    np.save(tmp_path / "f.npy", np.asfortranarray(x))
    np.save(tmp_path / "b.npy", x.astype(">f8"))
    np.save(tmp_path / "k.npy", k.astype(">i4"))
    assert loss_of(cli, tmp_path / "f.npy", "--labels", tmp_path / "k.npy") == want
    assert loss_of(cli, tmp_path / "b.npy", "--labels", tmp_path / "k.npy") == want


def test_float16_predictions(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, _ = data
    h = x.astype(np.float16)
    np.save(tmp_path / "h.npy", h)
    np.save(tmp_path / "k.npy", k)
    want = ce.sparse_categorical_crossentropy(
        k, h.astype(np.float64), from_logits=True, reduction="mean"
    )
    got = cli("eval", tmp_path / "h.npy", "--labels", tmp_path / "k.npy", "--from-logits", "--json")
    assert math.isclose(got.json()["loss"], float(want), rel_tol=1e-12)
    assert got.json()["signature"]["dtype"] == "float16"


@pytest.mark.parametrize("save", [np.savez, np.savez_compressed])
def test_npz_stored_and_compressed(tmp_path: Any, cli: Any, data: Any, save: Any) -> None:
    x, k, want = data
    save(tmp_path / "d.npz", logits=x, labels=k, other=np.zeros(3))
    assert loss_of(cli, tmp_path / "d.npz") == want  # default keys: logits, labels
    save(tmp_path / "e.npz", a=x, b=k)
    assert loss_of(cli, f"{tmp_path / 'e.npz'}:a", "--labels", "b") == want


def test_npz_fortran_compressed_is_refused(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, _ = data
    np.savez_compressed(tmp_path / "d.npz", logits=np.asfortranarray(x), labels=k)
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    assert run.code == 2
    assert "Fortran-ordered array in a compressed .npz" in run.err


def test_csv_with_and_without_header_and_tsv(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, want = data
    rows = np.hstack([x, k[:, None]])
    write_csv(tmp_path / "h.csv", ["a", "b", "c", "d", "e", "label"], rows)
    write_csv(tmp_path / "n.csv", None, rows)
    got = loss_of(cli, tmp_path / "h.csv")
    assert math.isclose(got, want, rel_tol=1e-12)  # repr() round-trips the floats exactly
    assert loss_of(cli, f"{tmp_path / 'n.csv'}:0,1,2,3,4", "--labels", "5") == got
    text = (tmp_path / "h.csv").read_text().replace(",", "\t")
    (tmp_path / "t.tsv").write_text(text)
    assert loss_of(cli, tmp_path / "t.tsv") == got


def test_csv_blank_lines_keep_line_numbers(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("p,label\n\n0.5,1\n0.25,0\n\n0.75,x\n\n")
    run = cli("eval", tmp_path / "p.csv")
    assert run.code == 2
    assert "p.csv: row 2 (line 6), column 'label': expected a number, got 'x'." in run.err


def test_csv_separate_label_file_and_quoted_header(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, want = data
    write_csv(tmp_path / "x.csv", ['"x0"', "x1", "x2", "x3", "x4"], x)
    write_csv(tmp_path / "k.csv", ["class"], k[:, None].astype(float))
    assert math.isclose(loss_of(cli, tmp_path / "x.csv", "--labels", tmp_path / "k.csv"), want)


def test_parquet_list_column_is_a_matrix(tmp_path: Any, cli: Any, data: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x, k, want = data
    lists = pa.array(list(x), type=pa.list_(pa.float64()))
    fixed = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 5)
    pq.write_table(pa.table({"logits": lists, "label": k}), tmp_path / "l.parquet")
    pq.write_table(pa.table({"logits": fixed, "label": k}), tmp_path / "f.parquet")
    assert loss_of(cli, f"{tmp_path / 'l.parquet'}:logits") == want
    assert loss_of(cli, f"{tmp_path / 'f.parquet'}:logits", "--labels", "label") == want


def test_parquet_ragged_lists(tmp_path: Any, cli: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    col = pa.array([[0.5, 0.5], [0.2, 0.8], [1.0]], type=pa.list_(pa.float64()))
    pq.write_table(pa.table({"p": col, "label": [0, 1, 0]}), tmp_path / "r.parquet")
    run = cli("eval", tmp_path / "r.parquet")
    assert run.code == 2
    assert "r.parquet: row 2, column 'p': list of length 1, but row 0 has 2." in run.err


def test_label_encodings_agree(tmp_path: Any, cli: Any) -> None:
    """Class ids (int, float, (n, 1)), one-hot (int, bool) give the same loss."""
    x = logits(64, 4, seed=23)
    k = class_ids(64, 4, seed=24)
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    np.save(tmp_path / "x.npy", x)
    for name, lab in {
        "int": k,
        "uint8": k.astype(np.uint8),
        "float": k.astype(np.float64),
        "column": k[:, None],
        "onehot": np.eye(4, dtype=np.int64)[k],
        "bool": np.eye(4, dtype=bool)[k],
    }.items():
        np.save(tmp_path / f"{name}.npy", lab)
        got = loss_of(cli, tmp_path / "x.npy", "--labels", tmp_path / f"{name}.npy")
        assert math.isclose(got, want, rel_tol=1e-15), name


def test_binary_predictions_as_column_or_vector(tmp_path: Any, cli: Any) -> None:
    rng = np.random.default_rng(25)
    p = rng.uniform(0, 1, 50)
    y = (rng.uniform(size=50) < 0.5).astype(np.int64)
    want = float(ce.binary_crossentropy(y[:, None].astype(float), p[:, None], reduction="mean"))
    for i, (pp, yy) in enumerate([(p, y), (p[:, None], y), (p, y[:, None].astype(bool))]):
        np.save(tmp_path / f"p{i}.npy", pp)
        np.save(tmp_path / f"y{i}.npy", yy)
        res = cli("eval", tmp_path / f"p{i}.npy", "--labels", tmp_path / f"y{i}.npy", "--json")
        assert res.json()["signature"]["kind"] == "binary"
        assert math.isclose(res.json()["loss"], want, rel_tol=1e-15)


def test_column_patterns(tmp_path: Any, cli: Any) -> None:
    p = softmax_rows(logits(20, 3, seed=26))
    k = class_ids(20, 3, seed=27)
    header = ["id", "prob_a", "prob_b", "prob_c", "y"]
    write_csv(tmp_path / "d.csv", header, np.hstack([np.arange(20)[:, None], p, k[:, None]]))
    res = cli("eval", f"{tmp_path / 'd.csv'}:prob_*", "--labels", "y", "--json").json()
    assert math.isclose(
        res["loss"],
        float(ce.sparse_categorical_crossentropy(k, p, reduction="mean")),
        rel_tol=1e-12,
    )
    # without a selector the id column would be taken as a prediction column
    run = cli("eval", tmp_path / "d.csv", "--labels", "y")
    assert run.code == 2
    assert "probability" in run.err


def test_empty_shard_among_shards_and_all_empty(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, want = data
    np.save(tmp_path / "x0.npy", x[:50])
    np.save(tmp_path / "x1.npy", x[:0])
    np.save(tmp_path / "x2.npy", x[50:])
    for i, part in enumerate([k[:50], k[:0], k[50:]]):
        np.save(tmp_path / f"k{i}.npy", part)
    got = loss_of(cli, f"{tmp_path}/x*.npy", "--labels", f"{tmp_path}/k*.npy")
    assert math.isclose(got, want, rel_tol=1e-15)
    run = cli("eval", tmp_path / "x1.npy", "--labels", tmp_path / "k1.npy", "--from-logits")
    assert run.code == 2
    assert run.err == f"crossentropy: error: {tmp_path / 'x1.npy'}: no rows to evaluate.\n"


def test_names_with_brackets_are_shown_verbatim(tmp_path: Any, cli: Any) -> None:
    np.savez(
        tmp_path / "d.npz",
        logits=logits(4, 2),
        labels=np.array([0, 1, 1, 0]),
        class_names=np.array(["[red]cat", "[/]dog"]),
    )
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    assert run.code == 0
    assert "[red]cat" in run.out
    assert "[/]dog" in run.out


def test_npz_keys_with_different_row_counts(tmp_path: Any, cli: Any) -> None:
    np.savez(tmp_path / "d.npz", logits=logits(5, 2), labels=np.array([0, 1, 1]))
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    assert run.code == 2
    assert "d.npz: the arrays have different numbers of rows ('logits': 5, 'labels': 3)." in run.err


def test_separate_npz_files_use_default_keys(tmp_path: Any, cli: Any, data: Any) -> None:
    x, k, _ = data
    w = np.linspace(0.5, 1.5, len(k))
    np.savez(tmp_path / "p.npz", logits=x)
    np.savez(tmp_path / "y.npz", labels=k)
    np.savez(tmp_path / "w.npz", sample_weight=w)
    res = cli(
        "eval", tmp_path / "p.npz", "--labels", tmp_path / "y.npz", "--sample-weight",
        tmp_path / "w.npz", "--from-logits", "--json",
    ).json()  # fmt: skip
    want = ce.sparse_categorical_crossentropy(
        k, x, from_logits=True, sample_weight=w, reduction="mean"
    )
    assert math.isclose(res["loss"], float(want), rel_tol=1e-12)
