"""A seeded fuzz of the command line over damaged files (issue 13).

Each case damages a valid .npy, .npz (stored and compressed), .csv, .parquet, .jsonl, .json,
.csv.gz or Feather (Arrow IPC) file (issue 17 added the last four): a
truncation, a few flipped bits, or an edit of its header bytes. The command line must then
either refuse it (exit code 2, one line on stderr, nothing on stdout), or, where the damaged
file is still a valid file, give the library's result on what an independent reader (``np.load``,
the ``csv`` module, ``pyarrow``) finds in it. Never exit code 1, never a traceback, never
another number.

The cases come from fixed seeds (a bounded number per format, so the test stays fast); a failure
names the seed and the damage, which reproduce it.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, parse_result

import crossentropy as ce

CASES = 40  # per format and kind of damage
ROWS, CLASSES = 24, 3


# --------------------------------------------------------------------------------------------
# damage


def truncate(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    cut = int(rng.integers(0, len(data)))
    return data[:cut], f"truncated to {cut} bytes"


def flip_bits(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
    out = bytearray(data)
    where = []
    for _ in range(int(rng.integers(1, 4))):
        i, b = int(rng.integers(0, len(out))), int(rng.integers(0, 8))
        out[i] ^= 1 << b
        where.append(f"{i}:{b}")
    return bytes(out), "bits flipped at " + ", ".join(where)


def edit_header(
    limit: int, at_end: bool = False
) -> Callable[[bytes, np.random.Generator], tuple[bytes, str]]:
    """Replace one of the first (or with ``at_end`` the last) ``limit`` bytes by a byte a
    header could hold."""

    def edit(data: bytes, rng: np.random.Generator) -> tuple[bytes, str]:
        out = bytearray(data)
        i = int(rng.integers(0, min(limit, len(out))))
        if at_end:
            i = len(out) - 1 - i
        out[i] = int(rng.choice(list(b"0123456789(),-'<>fi:\n \"x")))
        return bytes(out), f"byte {i} set to {bytes([out[i]])!r}"

    return edit


# --------------------------------------------------------------------------------------------
# the library's result on what an independent reader finds


def library_result(kind: str, preds: np.ndarray, labels: np.ndarray) -> tuple[float, int]:
    """(mean loss, n) of the loss the command line chose, on the arrays read independently."""
    p = np.asarray(preds, dtype=np.float64)
    if kind == "sparse":
        y = np.asarray(labels)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        assert np.all(y == np.floor(y)), "sparse labels that are not integers"
        loss = ce.sparse_categorical_crossentropy(
            y.astype(np.int64), p, from_logits=True, reduction="mean"
        )
    elif kind == "binary":
        y = np.asarray(labels, dtype=np.float64).reshape(-1, 1)
        loss = ce.binary_crossentropy(y, p.reshape(-1, 1), from_logits=True, reduction="mean")
    elif kind == "categorical":
        y = np.asarray(labels, dtype=np.float64)
        loss = ce.categorical_crossentropy(y, p, from_logits=True, reduction="mean")
    else:
        y = np.asarray(labels, dtype=np.float64)
        loss = ce.binary_crossentropy(y, p, from_logits=True, reduction="mean")
    return float(loss), len(p)


def read_csv(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The predictions and labels of a damaged CSV as the csv module reads it, or None where it
    is not a table with a 'label' column and numbers in every cell."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r and any(c.strip() for c in r)]
    if len(rows) < 2:
        return None
    header = [c.strip() for c in rows[0]]
    if "label" not in header or len(set(header)) != len(header) or "" in header:
        return None
    try:
        body = np.array([[float(c) for c in r] for r in rows[1:]], dtype=np.float64)
    except ValueError:
        return None
    if any(len(r) != len(header) for r in rows[1:]):
        return None
    j = header.index("label")
    return np.delete(body, j, axis=1), body[:, j]


# --------------------------------------------------------------------------------------------
# the formats


def make_npy(d: Any) -> tuple[Any, list[str]]:
    np.save(d / "x.npy", logits(ROWS, CLASSES, seed=3))
    np.save(d / "y.npy", class_ids(ROWS, CLASSES, seed=4))
    return d / "x.npy", ["--labels", str(d / "y.npy")]


def read_npy(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        return np.load(path, allow_pickle=False), np.load(path.parent / "y.npy")
    except Exception:
        return None


def make_npz(compressed: bool) -> Callable[[Any], tuple[Any, list[str]]]:
    def make(d: Any) -> tuple[Any, list[str]]:
        save = np.savez_compressed if compressed else np.savez
        save(d / "d.npz", logits=logits(ROWS, CLASSES, seed=5), labels=class_ids(ROWS, CLASSES))
        return d / "d.npz", []

    return make


def read_npz(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["logits"], z["labels"]
    except Exception:
        return None


def make_csv(d: Any) -> tuple[Any, list[str]]:
    x, k = logits(ROWS, CLASSES, seed=6), class_ids(ROWS, CLASSES, seed=7)
    lines = ["p0,p1,p2,label"] + [
        ",".join(repr(float(v)) for v in row) + f",{c}" for row, c in zip(x, k, strict=True)
    ]
    (d / "p.csv").write_text("\n".join(lines) + "\n")
    return d / "p.csv", []


def make_parquet(d: Any) -> tuple[Any, list[str]]:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x, k = logits(ROWS, CLASSES, seed=8), class_ids(ROWS, CLASSES, seed=9)
    cols = {f"p{j}": x[:, j] for j in range(CLASSES)}
    cols["label"] = k
    pq.write_table(pa.table(cols), d / "p.parquet", row_group_size=10)
    return d / "p.parquet", []


def read_parquet(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    import pyarrow.parquet as pq

    try:
        t = pq.read_table(path)
        names = t.column_names
        if len(set(names)) != len(names) or "label" not in names:
            return None
        preds = [n for n in names if n != "label" and not n.startswith("__index_level_")]
        x = np.stack([t.column(n).to_numpy() for n in preds], axis=1)
        return x, t.column("label").to_numpy()
    except Exception:
        return None


def make_jsonl(d: Any) -> tuple[Any, list[str]]:
    x, k = logits(ROWS, CLASSES, seed=10), class_ids(ROWS, CLASSES, seed=11)
    lines = [
        json.dumps({"label": int(c), "logits": row.tolist()}) for row, c in zip(x, k, strict=True)
    ]
    (d / "p.jsonl").write_text("\n".join(lines) + "\n")
    return d / "p.jsonl", []


def _records(rows: list[Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """Arrays of JSON records with a 'label' number and a 'logits' list of numbers."""
    if not rows or not all(isinstance(r, dict) and {"label", "logits"} <= set(r) for r in rows):
        return None
    x, y = [r["logits"] for r in rows], [r["label"] for r in rows]
    ok = all(isinstance(v, list) and len(v) == len(x[0]) for v in x) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for row in x for v in row
    )
    if not ok or not all(isinstance(v, (int, float)) for v in y):
        return None
    return np.array(x, dtype=np.float64), np.array(y)


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(name)

    return json.loads(text, parse_constant=refuse)


def read_jsonl(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        text = path.read_bytes().decode("utf-8-sig")
        rows = [_strict(line) for line in text.splitlines() if line.strip()]
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    return _records(rows)


def make_json(d: Any) -> tuple[Any, list[str]]:
    x, k = logits(ROWS, CLASSES, seed=12), class_ids(ROWS, CLASSES, seed=13)
    rows = [{"label": int(c), "logits": row.tolist()} for row, c in zip(x, k, strict=True)]
    (d / "p.json").write_text(json.dumps(rows))
    return d / "p.json", []


def read_json(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        doc = _strict(path.read_bytes().decode("utf-8-sig"))
    except ValueError:
        return None
    return _records(doc) if isinstance(doc, list) else None


def make_csv_gz(d: Any) -> tuple[Any, list[str]]:
    make_csv(d)
    (d / "p.csv.gz").write_bytes(gzip.compress((d / "p.csv").read_bytes(), mtime=0))
    return d / "p.csv.gz", []


def read_csv_gz(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error):
        return None
    plain = path.parent / "independent.csv"
    plain.write_bytes(raw)
    return read_csv(plain)


def make_feather(d: Any) -> tuple[Any, list[str]]:
    pa = pytest.importorskip("pyarrow")
    feather = pytest.importorskip("pyarrow.feather")
    x, k = logits(ROWS, CLASSES, seed=14), class_ids(ROWS, CLASSES, seed=15)
    cols = {f"p{j}": x[:, j] for j in range(CLASSES)}
    cols["label"] = k
    feather.write_feather(pa.table(cols), d / "p.feather", compression="uncompressed")
    return d / "p.feather", []


def read_feather(path: Any) -> tuple[np.ndarray, np.ndarray] | None:
    import pyarrow.feather as feather

    try:
        t = feather.read_table(path)
        names = t.column_names
        if len(set(names)) != len(names) or "label" not in names:
            return None
        x = np.stack([t.column(n).to_numpy() for n in names if n != "label"], axis=1)
        return x, t.column("label").to_numpy()
    except Exception:
        return None


FORMATS: dict[str, tuple[Callable[[Any], tuple[Any, list[str]]], Callable[[Any], Any], int]] = {
    # name: (make the file, read it independently, size of its header in bytes)
    "npy": (make_npy, read_npy, 128),
    "npz-stored": (make_npz(False), read_npz, 300),
    "npz-compressed": (make_npz(True), read_npz, 300),
    "csv": (make_csv, read_csv, 15),
    "parquet": (make_parquet, read_parquet, 64),
    "jsonl": (make_jsonl, read_jsonl, 40),
    "json": (make_json, read_json, 40),
    "csv.gz": (make_csv_gz, read_csv_gz, 10),
    "feather": (make_feather, read_feather, 64),
}


@pytest.mark.parametrize("damage", ["truncate", "flip", "header"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_damaged_files_give_exit_2_or_the_library_result(
    tmp_path: Any, cli: Any, fmt: str, damage: str
) -> None:
    make, read, header = FORMATS[fmt]
    path, extra = make(tmp_path)
    intact = path.read_bytes()
    # Parquet's metadata (its "header") is the footer
    edit = edit_header(header, at_end=fmt == "parquet")
    mutate = {"truncate": truncate, "flip": flip_bits, "header": edit}[damage]
    outcomes = {0: 0, 2: 0}
    for seed in range(CASES):
        rng = np.random.default_rng([13, seed, len(fmt), len(damage)])
        data, how = mutate(intact, rng)
        path.write_bytes(data)
        where = f"{fmt}, seed {seed}: {how}"
        run = cli("eval", path, *extra, "--from-logits", "--json")
        assert run.code in (0, 2), f"{where}: exit {run.code}: {run.err}"
        assert "Traceback" not in run.err, where
        outcomes[run.code] += 1
        if run.code == 2:
            lines = run.err.splitlines()
            assert len(lines) == 1, f"{where}: {run.err}"
            assert lines[0].startswith("crossentropy: error: "), where
            assert run.out == "", where
            continue
        res = parse_result(run.out)
        found = read(path)
        assert found is not None, f"{where}: exit 0, but an independent reader refuses the file"
        try:
            want, n = library_result(res["signature"]["kind"], *found)
        except (ValueError, TypeError, AssertionError) as err:
            raise AssertionError(
                f"{where}: exit 0, but the library refuses the data: {err}"
            ) from err
        assert res["n"] == n, where
        if math.isinf(want) or math.isinf(res["loss"]):
            assert res["loss"] == want, where
        else:
            assert res["loss"] == pytest.approx(want, rel=1e-12, abs=1e-300), where
    if damage == "truncate":
        assert outcomes[2] > 0  # the damage is real: some cases are refused
    path.write_bytes(intact)
    assert cli("eval", path, *extra, "--from-logits", "--json").code == 0


def test_damaged_zip_structures(tmp_path: Any, cli: Any) -> None:
    """Edits of the zip structures of an .npz: local headers and the central directory."""
    np.savez(tmp_path / "d.npz", logits=logits(ROWS, CLASSES), labels=class_ids(ROWS, CLASSES))
    intact = (tmp_path / "d.npz").read_bytes()
    with zipfile.ZipFile(tmp_path / "d.npz") as zf:
        offsets = [i.header_offset for i in zf.infolist()]
    central = intact.rindex(b"PK\x01\x02")
    spots = [o + d for o in offsets for d in range(4, 30)] + [central + d for d in range(4, 46)]
    rng = np.random.default_rng(1313)
    for at in spots:
        data = bytearray(intact)
        data[at] = int(rng.integers(0, 256))
        (tmp_path / "d.npz").write_bytes(bytes(data))
        run = cli("eval", tmp_path / "d.npz", "--from-logits", "--json")
        where = f"byte {at} set to {data[at]}"
        assert run.code in (0, 2), f"{where}: exit {run.code}: {run.err}"
        if run.code == 2:
            assert len(run.err.splitlines()) == 1, f"{where}: {run.err}"
            continue
        found = read_npz(tmp_path / "d.npz")
        assert found is not None, f"{where}: exit 0, but np.load refuses the file"
        res = parse_result(run.out)
        want, n = library_result(res["signature"]["kind"], *found)
        assert res["n"] == n, where
        assert res["loss"] == pytest.approx(want, rel=1e-12), where


def test_parquet_footer_bit_flips(tmp_path: Any, cli: Any) -> None:
    """Bit 1 of every footer byte: it turns a column chunk's physical type DOUBLE into FLOAT
    (5 and 4, zigzag varints 10 and 8), which pyarrow's streamed reader does not check and
    would read as other numbers."""
    path, _ = make_parquet(tmp_path)
    intact = path.read_bytes()
    footer = int.from_bytes(intact[-8:-4], "little")
    for at in range(len(intact) - 8 - footer, len(intact) - 8):
        data = bytearray(intact)
        data[at] ^= 0b10
        path.write_bytes(bytes(data))
        run = cli("eval", path, "--from-logits", "--json")
        where = f"footer byte {at}, bit 1"
        assert run.code in (0, 2), f"{where}: exit {run.code}: {run.err}"
        if run.code == 2:
            assert len(run.err.splitlines()) == 1, f"{where}: {run.err}"
            continue
        found = read_parquet(path)
        assert found is not None, f"{where}: exit 0, but pyarrow's read_table refuses the file"
        res = parse_result(run.out)
        want, n = library_result(res["signature"]["kind"], *found)
        assert res["n"] == n, where
        assert res["loss"] == pytest.approx(want, rel=1e-12), where
