"""Issue 13, the command line: each bad input a hostile campaign found, as a regression test
named after it. A bad input is one line on stderr and exit code 2, never a wrong answer with
exit code 0 and never an internal error (exit code 1)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import warnings
import zipfile
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, softmax_rows, write_csv

import crossentropy as ce


def one_line_error(run: Any, pattern: str) -> str:
    assert run.code == 2, (run.code, run.err)
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("crossentropy: error: ")
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def npy_bytes(header: str, data: bytes = b"", version: tuple[int, int] = (1, 0)) -> bytes:
    """A hand-made .npy: magic, version, header length, the header text padded to 64 bytes."""
    size_fmt = "<H" if version == (1, 0) else "<I"
    prefix = 10 if version == (1, 0) else 12
    text = header + " " * ((-(prefix + len(header) + 1)) % 64) + "\n"
    magic = b"\x93NUMPY" + bytes(version)
    return magic + struct.pack(size_fmt, len(text)) + text.encode("latin1") + data


def sparse_mean(x: np.ndarray, k: np.ndarray, **kw: Any) -> float:
    return float(ce.sparse_categorical_crossentropy(k, x, reduction="mean", **kw))


# --------------------------------------------------------------------------------------------
# CSV


def test_csv_duplicate_column_names(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("label,p,p,p\n0,0.2,0.3,0.5\n1,0.1,0.8,0.1\n")
    run = cli("eval", tmp_path / "p.csv")
    one_line_error(
        run,
        r"p\.csv: 3 columns are named 'p' \(columns 1, 2, 3, counting from 0\); give every "
        r"column a unique name\.",
    )


def test_csv_duplicate_column_names_also_unselected(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("id,p0,p1,id,label\n7,0.2,0.8,7,1\n")
    one_line_error(cli("eval", f"{tmp_path / 'p.csv'}:p0,p1"), r"2 columns are named 'id'")


def test_csv_row_with_an_extra_field(tmp_path: Any, cli: Any) -> None:
    """A decimal comma in one cell: the row has one field more; nothing is shifted."""
    (tmp_path / "p.csv").write_text("p0,p1,label\n0.5,0.5,1\n0,5,0.5,0\n0.3,0.7,1\n")
    run = cli("eval", tmp_path / "p.csv")
    one_line_error(
        run,
        r"p\.csv: row 1 \(line 3\): 4 fields, but the header has 3 \(a decimal comma\? numbers "
        r"need a '\.' as the decimal separator, or quotes\)\.",
    )


def test_csv_row_with_a_missing_field(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("p0,p1,label,extra\n0.5,0.5,1,9\n0.2,0.8,0\n")
    run = cli("eval", f"{tmp_path / 'p.csv'}:p0,p1")
    one_line_error(run, r"row 1 \(line 3\): 3 fields, but the header has 4\.$")


def test_csv_extra_field_in_a_header_less_file(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("0.5,0.5,1\n0.2,0.8,0\n0.1,0.9,1,\n")
    run = cli("eval", f"{tmp_path / 'p.csv'}:0,1", "--labels", "2")
    one_line_error(run, r"row 2 \(line 3\): 4 fields, but the first line has 3")


def test_csv_quoted_delimiter_is_one_field(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text('name,p,label\n"a,b",0.25,1\n"c",0.5,0\n')
    res = cli("eval", f"{tmp_path / 'p.csv'}:p", "--json").json()
    want = float(ce.binary_crossentropy([[1.0], [0.0]], [[0.25], [0.5]], reduction="mean"))
    assert res["loss"] == pytest.approx(want, rel=1e-12)


def test_csv_utf8_bom_on_a_header_less_file(tmp_path: Any, cli: Any) -> None:
    p = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    y = np.array([0, 1, 0, 1, 1, 0])
    text = "".join(f"{float(a)!r},{b}\n" for a, b in zip(p, y, strict=True))
    (tmp_path / "p.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    res = cli("eval", f"{tmp_path / 'p.csv'}:0", "--labels", "1", "--json").json()
    assert res["n"] == 6
    want = float(ce.binary_crossentropy(y[:, None], p[:, None], reduction="mean"))
    assert res["loss"] == pytest.approx(want, rel=1e-12)


def test_csv_utf8_bom_before_a_header(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_bytes(b"\xef\xbb\xbflabel,p\n1,0.75\n0,0.5\n")
    res = cli("eval", tmp_path / "p.csv", "--json").json()  # 'label' found, BOM not in it
    want = float(ce.binary_crossentropy([[1.0], [0.0]], [[0.75], [0.5]], reduction="mean"))
    assert res["loss"] == pytest.approx(want, rel=1e-12)


def _pandas_csv(path: Any, p: np.ndarray, k: np.ndarray, header: bool = True) -> None:
    """What ``DataFrame.to_csv()`` writes (without needing pandas): the index first, under an
    empty name."""
    lines = [",p0,p1,p2,label"] if header else []
    lines += [f"{i},{','.join(repr(float(v)) for v in row)},{k[i]}" for i, row in enumerate(p)]
    path.write_text("\n".join(lines) + "\n")


def test_csv_pandas_index_column(tmp_path: Any, cli: Any) -> None:
    p, k = softmax_rows(logits(20, 3)), class_ids(20, 3)
    _pandas_csv(tmp_path / "p.csv", p, k)
    for extra in ([], ["--from-logits"]):  # the old hint led to a wrong answer
        run = cli("eval", tmp_path / "p.csv", *extra)
        one_line_error(
            run,
            r"p\.csv: the first column has no name, like the index that pandas' "
            r"DataFrame\.to_csv\(\) writes; it is not taken as predictions\. Save the file with "
            r"to_csv\(index=False\), or name the prediction columns: .*p\.csv:p0,p1,p2$",
        )
    res = cli("eval", f"{tmp_path / 'p.csv'}:p0,p1,p2", "--json").json()  # the remedy works
    assert res["loss"] == pytest.approx(sparse_mean(p, k), rel=1e-12)


def test_csv_pandas_index_column_read_back_by_pandas(tmp_path: Any, cli: Any) -> None:
    """``pd.read_csv(f).to_csv()`` names the old index ``Unnamed: 0``."""
    (tmp_path / "p.csv").write_text(",Unnamed: 0,p0,p1,label\n0,0,0.5,0.5,1\n1,1,0.2,0.8,0\n")
    one_line_error(cli("eval", tmp_path / "p.csv"), r"the first column has no name")


def test_csv_pandas_index_column_without_header(tmp_path: Any, cli: Any) -> None:
    p, k = softmax_rows(logits(20, 3)), class_ids(20, 3)
    _pandas_csv(tmp_path / "p.csv", p, k, header=False)
    run = cli("eval", tmp_path / "p.csv", "--labels", "4")
    one_line_error(
        run,
        r"the first column holds the row numbers 0, 1, 2, \.\.\., like the index .*p\.csv:1,2,3$",
    )
    res = cli("eval", f"{tmp_path / 'p.csv'}:1,2,3", "--labels", "4", "--json").json()
    assert res["loss"] == pytest.approx(sparse_mean(p, k), rel=1e-12)


def test_csv_cell_longer_than_the_csv_field_limit(tmp_path: Any, cli: Any) -> None:
    long = "x" * 200_000
    (tmp_path / "a.csv").write_text(f"p,label\n0.5,1\n{long},0\n")
    one_line_error(
        cli("eval", tmp_path / "a.csv"), r"row 1 \(line 3\), column 'p': expected a number"
    )
    (tmp_path / "b.csv").write_text(f'p,label\n0.5,1\n"{long}",0\n')
    one_line_error(cli("eval", tmp_path / "b.csv"), r"b\.csv: line 3: not a valid CSV line")
    (tmp_path / "c.csv").write_text(f'"{long}",label\n0.5,1\n')
    one_line_error(cli("eval", tmp_path / "c.csv"), r"c\.csv: line 1: not a valid CSV line")
    # a long cell that is a number is read as that number
    (tmp_path / "d.csv").write_text("p,label\n0.25" + "0" * 200_000 + ",1\n0.5,0\n")
    res = cli("eval", tmp_path / "d.csv", "--json").json()
    want = float(ce.binary_crossentropy([[1.0], [0.0]], [[0.25], [0.5]], reduction="mean"))
    assert res["loss"] == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------------------------
# .npy headers


@pytest.mark.parametrize(
    ("header", "pattern"),
    [
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (-3, 2), }",
            r"not a readable \.npy array \(its header announces shape \(-3, 2\), with a negative "
            r"dimension\)",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296), }",
            r"not a readable \.npy array \(its header announces shape \(4294967296, 4294967296\) "
            r"of float64, more data than a file can hold\)",
        ),
        (
            "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
            r"the array must be 1-d \(one value per row\) or 2-d \(rows x columns\); got shape "
            r"\(\)",
        ),
        ("{'descr': '<f8', 'fortran_order': False, }", r"not a readable \.npy array \(Header"),
        ("{'descr': 'zz', 'fortran_order': False, 'shape': (2,), }", r"not a readable \.npy"),
        ("[1, 2", r"not a readable \.npy array"),
    ],
    ids=["negative_dimension", "shape_overflows_int64", "zero_d", "no_shape", "bad_descr", "junk"],
)
def test_npy_hand_made_header(tmp_path: Any, cli: Any, header: str, pattern: str) -> None:
    (tmp_path / "x.npy").write_bytes(npy_bytes(header, b"\0" * 64))
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    one_line_error(cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy"), pattern)


def test_npy_hand_made_header_as_labels(tmp_path: Any, cli: Any) -> None:
    header = "{'descr': '<i8', 'fortran_order': False, 'shape': (), }"
    (tmp_path / "y.npy").write_bytes(npy_bytes(header, b"\0" * 8))
    np.save(tmp_path / "x.npy", np.full((1, 2), 0.5))
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    one_line_error(run, r"y\.npy: the array must be 1-d")


def test_npy_unknown_format_version(tmp_path: Any, cli: Any) -> None:
    data = bytearray(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"))
    data[6] = 9
    (tmp_path / "x.npy").write_bytes(bytes(data) + b"\0" * 8)
    np.save(tmp_path / "y.npy", np.array([1]))
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    one_line_error(run, r"not a readable \.npy array")


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npy_format_versions_read_like_np_load(tmp_path: Any, cli: Any, version: Any) -> None:
    """Format 3.0 (read with the public API: NumPy 2.4 has no private reader to borrow)."""
    x, k = logits(30, 4), class_ids(30, 4)
    with open(tmp_path / "x.npy", "wb") as f:
        np.lib.format.write_array(f, x.astype(np.float32), version=version)
    np.save(tmp_path / "y.npy", k)
    loaded = np.load(tmp_path / "x.npy")
    res = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--from-logits")
    assert res.code == 0, res.err
    res = cli(
        "eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--from-logits", "--json"
    ).json()
    want = sparse_mean(loaded.astype(np.float64), k, from_logits=True)
    assert res["loss"] == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------------------------
# .npz members


def _member_offsets(path: Any, name: str) -> tuple[int, int]:
    """(local header offset, central directory entry offset) of a member."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        local = zf.getinfo(name).header_offset
    raw = name.encode()
    central = data.index(b"PK\x01\x02")
    while data[central + 46 : central + 46 + len(raw)] != raw:
        central = data.index(b"PK\x01\x02", central + 4)
    return local, central


def _data_start(path: Any, name: str) -> int:
    """Where a member's (possibly compressed) bytes start: after its local header, name and
    extra field."""
    local, _ = _member_offsets(path, name)
    head = path.read_bytes()[local : local + 30]
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return local + 30 + name_len + extra_len


def _patch(path: Any, at: int, value: bytes) -> None:
    data = bytearray(path.read_bytes())
    data[at : at + len(value)] = value
    path.write_bytes(bytes(data))


def test_npz_stored_member_header_claims_more_rows(tmp_path: Any, cli: Any) -> None:
    """The header says 110 rows, the member holds 10: the next member is not read as rows."""
    x, k = logits(10, 3), class_ids(10, 3)
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (110, 3), }"
    with zipfile.ZipFile(tmp_path / "d.npz", "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("logits.npy", npy_bytes(header, x.tobytes()))
        zf.writestr("filler.bin", b"\1" * 8000)
        with zf.open("labels.npy", "w") as f:
            np.lib.format.write_array(f, np.concatenate([k, np.zeros(100, dtype=k.dtype)]))
    with (
        pytest.raises(ValueError, match="expected 2640 bytes got 240"),
        np.load(tmp_path / "d.npz") as z,
    ):
        z["logits"]
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(
        run,
        r"d\.npz: key 'logits' is damaged: the member holds 240 bytes of array data, but its "
        r"header announces 2640 \(np\.load refuses it too\)\.",
    )


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_npz_bad_crc(tmp_path: Any, cli: Any, compressed: bool) -> None:
    x, k = logits(50, 3), class_ids(50, 3)
    save = np.savez_compressed if compressed else np.savez
    save(tmp_path / "d.npz", logits=x, labels=k)
    _, central = _member_offsets(tmp_path / "d.npz", "logits.npy")
    crc = struct.unpack("<I", (tmp_path / "d.npz").read_bytes()[central + 16 : central + 20])[0]
    _patch(tmp_path / "d.npz", central + 16, struct.pack("<I", crc ^ 1))
    with pytest.raises(zipfile.BadZipFile), np.load(tmp_path / "d.npz") as z:
        z["logits"]
    for chunk in ("7", "50"):  # the check also when the last rows come in a chunk of their own
        run = cli("eval", tmp_path / "d.npz", "--from-logits", "--chunk-rows", chunk)
        one_line_error(run, r"d\.npz: key 'logits' (is damaged: its CRC-32|cannot be read)")


def test_npz_stored_member_with_a_flipped_data_byte(tmp_path: Any, cli: Any) -> None:
    x, k = logits(50, 3), class_ids(50, 3)
    np.savez(tmp_path / "d.npz", logits=x, labels=k)
    at = (
        _data_start(tmp_path / "d.npz", "logits.npy") + 128 + 8 * 77
    )  # a byte of entry 77, past the header
    data = (tmp_path / "d.npz").read_bytes()
    _patch(tmp_path / "d.npz", at, bytes([data[at] ^ 0x10]))
    with pytest.raises(zipfile.BadZipFile), np.load(tmp_path / "d.npz") as z:
        z["logits"]
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(
        run, r"key 'logits' (is damaged: its CRC-32 does not match|cannot be read, .*CRC)"
    )
    # a member larger than zipfile's read-ahead: the rows' own CRC-32 check finds it
    x, k = logits(5000, 3), class_ids(5000, 3)
    np.savez(tmp_path / "e.npz", logits=x, labels=k)
    at = _data_start(tmp_path / "e.npz", "logits.npy") + 128 + 8 * 7777
    data = (tmp_path / "e.npz").read_bytes()
    _patch(tmp_path / "e.npz", at, bytes([data[at] ^ 0x10]))
    for chunk in ("1000", "4999", "5000"):
        run = cli("eval", tmp_path / "e.npz", "--from-logits", "--chunk-rows", chunk)
        one_line_error(run, r"e\.npz: key 'logits' is damaged: its CRC-32 does not match")


def test_npz_deflate_corrupted(tmp_path: Any, cli: Any) -> None:
    x, k = logits(400, 5), class_ids(400, 5)
    np.savez_compressed(tmp_path / "d.npz", logits=x, labels=k)
    start = _data_start(tmp_path / "d.npz", "logits.npy")
    data = bytearray((tmp_path / "d.npz").read_bytes())
    for i in range(start + 200, start + 260):
        data[i] ^= 0x5A
    (tmp_path / "d.npz").write_bytes(bytes(data))
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(run, r"d\.npz: key 'logits' (cannot be read, the \.npz is damaged|is damaged)")


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_npz_encrypted_flag(tmp_path: Any, cli: Any, compressed: bool) -> None:
    save = np.savez_compressed if compressed else np.savez
    save(tmp_path / "d.npz", logits=logits(5, 3), labels=class_ids(5, 3))
    local, central = _member_offsets(tmp_path / "d.npz", "logits.npy")
    _patch(tmp_path / "d.npz", local + 6, b"\x01\x00")
    _patch(tmp_path / "d.npz", central + 8, b"\x01\x00")
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(
        run, r"d\.npz: key 'logits' cannot be read, the \.npz is damaged \(.*encrypted.*\)\."
    )


@pytest.mark.parametrize("compressed", [False, True], ids=["stored", "deflated"])
def test_npz_unknown_compression(tmp_path: Any, cli: Any, compressed: bool) -> None:
    save = np.savez_compressed if compressed else np.savez
    save(tmp_path / "d.npz", logits=logits(5, 3), labels=class_ids(5, 3))
    local, central = _member_offsets(tmp_path / "d.npz", "logits.npy")
    _patch(tmp_path / "d.npz", local + 8, b"\x63\x00")  # method 99 (AES)
    _patch(tmp_path / "d.npz", central + 10, b"\x63\x00")
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(run, r"d\.npz: key 'logits' cannot be read, the \.npz is damaged \(")


def test_npz_not_a_zip(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "d.npz").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    one_line_error(cli("eval", tmp_path / "d.npz"), r"d\.npz: not a readable \.npz file")


def test_npz_class_names_damaged(tmp_path: Any, cli: Any) -> None:
    np.savez_compressed(
        tmp_path / "d.npz",
        logits=logits(5, 3),
        labels=class_ids(5, 3),
        class_names=np.array(["a" * 50, "b" * 50, "c" * 50]),
    )
    start = _data_start(tmp_path / "d.npz", "class_names.npy")
    data = bytearray((tmp_path / "d.npz").read_bytes())
    for i in range(start + 2, start + 20):
        data[i] ^= 0xFF
    (tmp_path / "d.npz").write_bytes(bytes(data))
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(run, r"d\.npz: key 'class_names' must be a readable array of strings")


# --------------------------------------------------------------------------------------------
# Parquet


def test_parquet_duplicate_column_names(tmp_path: Any, cli: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.Table.from_arrays(
        [pa.array([0.2, 0.6]), pa.array([0.8, 0.4]), pa.array([1, 0])], names=["p", "p", "label"]
    )
    pq.write_table(table, tmp_path / "p.parquet")
    for argv in ([], ["--labels", "label"]):
        run = cli("eval", tmp_path / "p.parquet", *argv)
        one_line_error(run, r"p\.parquet: 2 columns are named 'p' \(columns 0, 1, counting")


# --------------------------------------------------------------------------------------------
# stdout closed or a pipe closed early


def _cmd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "crossentropy", "eval", *argv]


def test_stdout_closed(tmp_path: Any) -> None:
    proc = subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", *_cmd("--example", "--json")],
        capture_output=False,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "crossentropy: error: stdout is closed, so the results cannot be written; redirect it "
        "to a file or to /dev/null.\n"
    )


@pytest.mark.parametrize("fmt", ["--json", "--no-progress"], ids=["json", "summary"])
def test_stdout_pipe_closed_early(fmt: str) -> None:
    """``| head`` that has gone: exit 141 (128 + SIGPIPE) quietly, nothing on stderr."""
    r, w = os.pipe()
    os.close(r)  # the reader has gone before the first write
    try:
        proc = subprocess.run(
            _cmd("--example", fmt), stdout=w, stderr=subprocess.PIPE, text=True, timeout=120
        )
    finally:
        os.close(w)
    assert proc.stderr == ""
    assert proc.returncode == 141


def test_stdout_pipe_closed_after_the_first_line() -> None:
    proc = subprocess.run(
        ["sh", "-c", '"$@" | head -n 1', "sh", *_cmd("--example", "--no-progress")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("sparse_categorical_crossentropy")
    assert proc.stderr == ""


# --------------------------------------------------------------------------------------------
# terminal escape sequences


def test_escape_sequences_in_class_names_are_escaped(cli: Any) -> None:
    names = ["a\x1b[2Jb", *[f"c{i}" for i in range(1, 9)], "\u202eevil"]
    run = cli("eval", "--example", "--class-names", ",".join(names), "--worst", "20")
    assert run.code == 0, run.err
    assert "\x1b" not in run.out
    assert "\u202e" not in run.out
    assert "a\\x1b[2Jb" in run.out
    assert "\\u202eevil" in run.out
    res = cli("eval", "--example", "--class-names", ",".join(names), "--json").json()
    assert res["per_class"][0]["name"] == names[0]  # JSON keeps the names, escaped as JSON


def test_escape_sequences_in_npz_member_names_are_escaped(
    tmp_path: Any, cli: Any, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # short names: the summary does not wrap them
    key = "lo\x1b]0;owned\x07gits"
    x, k = logits(12, 3), class_ids(12, 3)
    np.savez("d.npz", **{key: x, "labels": k})
    run = cli("eval", "d.npz:nokey")
    line = one_line_error(run, r"no array 'nokey'; the keys are: ")
    assert "\x1b" not in run.err
    assert "lo\\x1b]0;owned\\x07gits" in line
    run = cli("eval", f"d.npz:{key}", "--from-logits")
    assert run.code == 0, run.err
    assert "\x1b" not in run.out
    assert "\x07" not in run.out
    assert "lo\\x1b]0;owned\\x07gits" in run.out


def test_escape_sequences_in_file_names_in_errors(tmp_path: Any, cli: Any) -> None:
    run = cli("eval", tmp_path / "a\x1bMb.npy", "--labels", "y.npy")
    one_line_error(run, r"a\\x1bMb\.npy: no such file")
    assert "\x1b" not in run.err


# --------------------------------------------------------------------------------------------
# --dask addresses


@pytest.mark.parametrize(
    ("address", "pattern"),
    [
        ("not a url", r"--dask not a url: not a scheduler address; expected tcp://HOST:PORT"),
        ("http://127.0.0.1:8787", r"that is a web address \(the dashboard's\)"),
        ("tcp://127.0.0.1", r"not a scheduler address; expected tcp://HOST:PORT"),
        ("gopher://x:1", r"unknown scheme 'gopher'"),
    ],
)
def test_dask_bad_address(address: str, pattern: str) -> None:
    """One line at once: a subprocess, so that a Client left behind would show its __del__
    traceback and its 60 s wait at exit (the timeout only catches that hang)."""
    proc = subprocess.run(
        _cmd("--example", "--dask", address), capture_output=True, text=True, timeout=50
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]


def test_dask_silent_port_is_bounded_by_dask_timeout(cli: Any) -> None:
    """A port (loopback) that accepts and never speaks: the handshake wait is bounded."""
    pytest.importorskip("distributed")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    try:
        run = cli("eval", "--example", "--dask", f"tcp://127.0.0.1:{port}", "--dask-timeout", "1")
    finally:
        done.set()
        server.close()
        for c in accepted:
            c.close()
    one_line_error(
        run,
        rf"--dask tcp://127\.0\.0\.1:{port}: cannot connect to a Dask scheduler \(no answer "
        r"within 1 s; see --dask-timeout\)\.",
    )
    assert accepted, "the client never connected"


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_dask_timeout_must_be_positive(cli: Any, value: str) -> None:
    run = cli("eval", "--example", "--dask-timeout", value)
    one_line_error(run, r"--dask-timeout must be a positive number")


# --------------------------------------------------------------------------------------------
# --report


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_report_unwritable_folder_is_found_before_the_evaluation(
    cli: Any, monkeypatch: Any
) -> None:
    pytest.importorskip("matplotlib")
    import crossentropy.cli._evaluate as ev

    def never(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - must not be reached
        raise AssertionError("evaluated before checking --report")

    monkeypatch.setattr(ev, "evaluate_unit", never)
    import crossentropy.cli as cli_pkg  # noqa: F401 - _eval imports evaluate_unit at call time

    run = cli("eval", "--example", "--report", "/proc/report.html")
    line = one_line_error(run, r"--report /proc/report\.html: cannot write in the folder /proc ")
    assert ".tmp" not in line


def test_report_write_failure_names_the_path_and_keeps_the_summary(
    tmp_path: Any, cli: Any, monkeypatch: Any
) -> None:
    pytest.importorskip("matplotlib")
    import crossentropy.cli._report as rep

    def refuse(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied", src)

    monkeypatch.setattr(rep.os, "replace", refuse)
    target = tmp_path / "r.html"
    run = cli("eval", "--example", "--report", target)
    assert run.code == 2
    assert run.out.startswith("sparse_categorical_crossentropy")  # the summary is printed
    assert "report written" not in run.out
    assert run.err == (
        f"crossentropy: error: --report {target}: cannot write the report (Permission denied).\n"
    )
    assert os.listdir(tmp_path) == []  # no temporary file left
    res = cli("eval", "--example", "--report", target, "--json")
    assert res.code == 2
    assert json.loads(res.out)["n"] == 2000


def test_report_sigterm_leaves_no_partial_or_temp_file(tmp_path: Any, monkeypatch: Any) -> None:
    """SIGTERM arriving while the report is being written is held until the rename: the
    report is then whole, and no temporary file is left."""
    from crossentropy.cli import _report as rep

    target = tmp_path / "r.png"
    seen: list[tuple[bool, list[str]]] = []
    real_replace = os.replace

    def handler(signum: int, frame: Any) -> None:
        seen.append((target.exists(), sorted(os.listdir(tmp_path))))

    def replace_after_sigterm(src: str, dst: str) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # bytecodes, where an unblocked handler would run
            pass
        real_replace(src, dst)

    old = signal.signal(signal.SIGTERM, handler)
    try:
        monkeypatch.setattr(rep.os, "replace", replace_after_sigterm)
        rep.write_atomic(str(target), b"\x89PNG whole report")
        for _ in range(1000):
            pass
    finally:
        signal.signal(signal.SIGTERM, old)
    assert seen == [(True, ["r.png"])]
    assert target.read_bytes() == b"\x89PNG whole report"


# --------------------------------------------------------------------------------------------
# labels


def test_float_class_id_1e20(tmp_path: Any, cli: Any) -> None:
    np.save(tmp_path / "x.npy", np.full((4, 3), 1 / 3))
    np.save(tmp_path / "y.npy", np.array([0, 1e20, 1, 0]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    assert [str(w.message) for w in caught] == []
    line = one_line_error(
        run, r"y\.npy: row 1: class id 1e\+20 is outside \[0, 3\) \(3 prediction columns\)\.$"
    )
    assert "--ignore-index" not in line


@pytest.mark.parametrize(
    ("value", "dtype", "shown", "hint"),
    [
        (-1e20, np.float64, r"-1e\+20", False),
        (-100.0, np.float64, "-100", True),
        (2**64 - 1, np.uint64, "18446744073709551615", False),
        (-(2**63), np.int64, "-9223372036854775808", True),
    ],
)
def test_extreme_class_ids_are_named_as_stored(
    tmp_path: Any, cli: Any, value: Any, dtype: Any, shown: str, hint: bool
) -> None:
    np.save(tmp_path / "x.npy", np.full((3, 3), 1 / 3))
    np.save(tmp_path / "y.npy", np.array([0, value, 1], dtype=dtype))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy")
    assert caught == []
    line = one_line_error(run, rf"row 1: class id {shown} is outside \[0, 3\)")
    assert ("--ignore-index" in line) == hint


def test_ignore_index_out_of_int64_range(cli: Any) -> None:
    run = cli("eval", "--example", "--ignore-index", str(2**70))
    one_line_error(run, r"--ignore-index must fit in 64 bits")


def test_non_integer_label_message_has_no_numpy_repr(tmp_path: Any, cli: Any) -> None:
    np.save(tmp_path / "x.npy", np.full((2, 3), 1 / 3))
    np.save(tmp_path / "y.npy", np.array([0.5, 1.0]))
    line = one_line_error(cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy"), "")
    assert "np.float64" not in line
    assert "(0.5)" in line


# --------------------------------------------------------------------------------------------
# memory bounds of the detection


def test_detection_reads_a_bounded_number_of_bytes(tmp_path: Any) -> None:
    """Wide rows: the detection reads about a chunk (4 MiB as float64), not 4096 rows."""
    from crossentropy.cli._evaluate import CHUNK_BYTES, Unit, auto_chunk_rows, peek
    from crossentropy.cli._sources import FileSpec

    rows, width = 40, 200_000
    m = np.lib.format.open_memmap(
        tmp_path / "x.npy", mode="w+", dtype=np.float32, shape=(rows, width)
    )
    del m
    np.save(tmp_path / "y.npy", np.zeros(rows, dtype=np.int64))
    np.savez_compressed(
        tmp_path / "d.npz",
        logits=np.zeros((rows, width), dtype=np.float32),
        labels=np.zeros(rows, dtype=np.int64),
    )
    assert (tmp_path / "d.npz").stat().st_size < rows * width * 4 // 100  # inflates 100x
    units = [
        Unit(
            0,
            "x.npy",
            (
                FileSpec(str(tmp_path / "x.npy"), "npy", (("preds", None),)),
                FileSpec(str(tmp_path / "y.npy"), "npy", (("labels", None),)),
            ),
        ),
        Unit(
            0,
            "d.npz",
            (
                FileSpec(
                    str(tmp_path / "d.npz"), "npz", (("preds", "logits"), ("labels", "labels"))
                ),
            ),
        ),
    ]
    bound = CHUNK_BYTES // (8 * (width + 1))
    for unit in units:
        head = peek(unit, 4096)
        assert 1 <= len(head["preds"]) == len(head["labels"]) <= bound
    assert auto_chunk_rows(width) == 2  # chunks follow the same bound (at least one row)
    assert auto_chunk_rows(10**7) == 1
    head = peek(units[0], 4096, max_bytes=10**9)
    assert len(head["preds"]) == rows


def test_detection_with_chunk_rows(tmp_path: Any, cli: Any, monkeypatch: Any) -> None:
    import crossentropy.cli._plan as plan_mod

    seen: list[int] = []
    real = plan_mod.peek

    def spy(unit: Any, rows: int, *args: Any) -> Any:
        seen.append(rows)
        return real(unit, rows, *args)

    monkeypatch.setattr(plan_mod, "peek", spy)
    assert cli("eval", "--example", "--chunk-rows", "100", "--json").code == 0
    assert seen == [100]


def test_wide_rows_refused_above_the_row_bound(tmp_path: Any, cli: Any) -> None:
    from crossentropy.cli._sources import MAX_ROW_VALUES

    header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': (1, {MAX_ROW_VALUES + 1}), }}"
    (tmp_path / "x.npy").write_bytes(npy_bytes(header, b"\0" * (4 * (MAX_ROW_VALUES + 1))))
    np.save(tmp_path / "y.npy", np.array([0]))
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--from-logits")
    one_line_error(run, rf"has {MAX_ROW_VALUES + 1} columns; rows of more than {MAX_ROW_VALUES}")


def test_npz_class_names_too_large(tmp_path: Any, cli: Any, monkeypatch: Any) -> None:
    import crossentropy.cli._plan as plan_mod

    monkeypatch.setattr(plan_mod, "MAX_CLASS_NAMES_BYTES", 1000)
    np.savez_compressed(
        tmp_path / "d.npz",
        logits=logits(3, 3),
        labels=class_ids(3, 3),
        class_names=np.array(["x" * 400] * 3),
    )
    run = cli("eval", tmp_path / "d.npz", "--from-logits")
    one_line_error(run, r"key 'class_names' holds \d+ bytes; class names of more than 1000")


def test_csv_helpers_write_what_the_reader_reads(tmp_path: Any, cli: Any) -> None:
    """A plain CSV still round-trips (the field-count check passes on every row)."""
    p, k = softmax_rows(logits(300, 4)), class_ids(300, 4)
    write_csv(tmp_path / "p.csv", ["a", "b", "c", "d", "label"], np.hstack([p, k[:, None]]))
    res = cli("eval", tmp_path / "p.csv", "--chunk-rows", 64, "--json").json()
    assert res["loss"] == pytest.approx(sparse_mean(p, k), rel=1e-12)


@pytest.mark.parametrize("flag", ["--class-names", "--class-weight"])
def test_damaged_npy_list_file(tmp_path: Any, cli: Any, flag: str) -> None:
    (tmp_path / "names.npy").write_bytes(npy_bytes("{'descr': '<f8', 'fortran_order': Fa"))
    run = cli("eval", "--example", flag, tmp_path / "names.npy")
    one_line_error(run, rf"{flag} .*names\.npy: cannot read it \(")
