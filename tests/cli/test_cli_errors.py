"""Bad input: one line on stderr naming the file, row and column; exit code 2; no traceback."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, softmax_rows, write_csv


def one_line_error(run: Any, pattern: str) -> str:
    assert run.code == 2, (run.code, run.err)
    assert run.out == ""
    assert "Traceback" not in run.err
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith("crossentropy: error: ")
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


@pytest.fixture
def npy_pair(tmp_path: Any) -> Any:
    def make(x: np.ndarray, y: np.ndarray) -> tuple[str, str]:
        np.save(tmp_path / "x.npy", x)
        np.save(tmp_path / "y.npy", y)
        return str(tmp_path / "x.npy"), str(tmp_path / "y.npy")

    return make


def test_missing_file(tmp_path: Any, cli: Any) -> None:
    run = cli("eval", tmp_path / "nope.npy", "--labels", tmp_path / "y.npy")
    one_line_error(run, re.escape(f"{tmp_path / 'nope.npy'}: no such file (predictions)."))


def test_missing_labels_file(npy_pair: Any, cli: Any) -> None:
    x, _ = npy_pair(logits(5, 3), class_ids(5, 3))
    run = cli("eval", x, "--labels", "missing.npy")
    one_line_error(run, r"missing\.npy: no such file \(--labels\)\.")


def test_unsupported_extension(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.xlsx").write_text("x")
    run = cli("eval", tmp_path / "p.xlsx", "--labels", "y")
    one_line_error(run, r"p\.xlsx: unsupported file type '\.xlsx'; expected one of")


def test_mismatched_rows_npy(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(10, 3), class_ids(9, 3))
    run = cli("eval", x, "--labels", y, "--from-logits")
    one_line_error(
        run,
        r"y\.npy: 9 rows, but .*x\.npy has 10; predictions, labels and weights need one row per "
        r"sample\.",
    )


def test_mismatched_rows_csv_streamed(tmp_path: Any, cli: Any) -> None:
    write_csv(tmp_path / "p.csv", ["a", "b"], softmax_rows(logits(20, 2)))
    write_csv(tmp_path / "y.csv", ["label"], class_ids(23, 2)[:, None].astype(float))
    run = cli("eval", tmp_path / "p.csv", "--labels", tmp_path / "y.csv", "--chunk-rows", 8)
    one_line_error(run, r"p\.csv: 20 rows, but .*y\.csv has more \(at least 23\)")


def test_non_numeric_csv_cell_names_row_line_and_column(tmp_path: Any, cli: Any) -> None:
    p = softmax_rows(logits(30, 3))
    write_csv(
        tmp_path / "p.csv", ["p0", "p1", "p2", "label"], np.hstack([p, class_ids(30, 3)[:, None]])
    )
    lines = (tmp_path / "p.csv").read_text().splitlines()
    cells = lines[18].split(",")
    cells[1] = "abc"
    lines[18] = ",".join(cells)  # data row 17, line 19
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    run = cli("eval", tmp_path / "p.csv", "--chunk-rows", 10)
    one_line_error(run, r"p\.csv: row 17 \(line 19\), column 'p1': expected a number, got 'abc'\.")


def test_empty_csv_cell(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("p0,p1,label\n0.5,0.5,1\n0.2,,0\n")
    run = cli("eval", tmp_path / "p.csv")
    one_line_error(
        run, r"p\.csv: row 1 \(line 3\), column 'p1': expected a number, got an empty cell\."
    )


def test_label_out_of_range_with_hint(npy_pair: Any, cli: Any) -> None:
    k = class_ids(50, 4)
    k[31] = -100
    x, y = npy_pair(logits(50, 4), k)
    run = cli("eval", x, "--labels", y, "--from-logits")
    one_line_error(
        run,
        r"y\.npy: row 31: class id -100 is outside \[0, 4\) \(4 prediction columns\); pass "
        r"--ignore-index -100 to skip such rows\.",
    )
    k[31] = 4
    x, y = npy_pair(logits(50, 4), k)
    one_line_error(
        cli("eval", x, "--labels", y, "--from-logits"), r"row 31: class id 4 is outside \[0, 4\)"
    )


def test_nan_in_predictions_names_row_and_column(npy_pair: Any, cli: Any) -> None:
    x = logits(40, 5)
    x[27, 3] = np.nan
    xp, y = npy_pair(x, class_ids(40, 5))
    run = cli("eval", xp, "--labels", y, "--from-logits", "--chunk-rows", 10)
    one_line_error(run, r"x\.npy: row 27, column 3: the prediction is NaN\.")


def test_nan_label_in_csv(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("p,label\n0.5,1\n0.2,nan\n")
    run = cli("eval", tmp_path / "p.csv")
    one_line_error(run, r"p\.csv: row 1 \(line 3\), column 'label': the label is NaN\.")


def test_probability_outside_unit_interval_suggests_from_logits(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(20, 3), class_ids(20, 3))
    run = cli("eval", x, "--labels", y)
    one_line_error(
        run,
        r"x\.npy: row 0, column \d: probability -?[\d.]+ is outside \[0, 1\]; if the "
        r"predictions are logits, pass --from-logits\.",
    )


def test_probability_rows_must_sum_to_one(npy_pair: Any, cli: Any) -> None:
    p = softmax_rows(logits(20, 3))
    p[12] *= 0.9
    x, y = npy_pair(p, class_ids(20, 3))
    run = cli("eval", x, "--labels", y)
    one_line_error(
        run,
        r"x\.npy: row 12: the probabilities sum to 0\.9\d*, not 1 \(tolerance 1\.5e-08\); "
        r"pass --from-logits",
    )


def test_categorical_labels_must_sum_to_one(npy_pair: Any, cli: Any) -> None:
    y = np.eye(3)[class_ids(20, 3)]
    y[5] = [1, 1, 0]
    x, yp = npy_pair(logits(20, 3), y)
    run = cli("eval", x, "--labels", yp, "--from-logits", "--loss", "categorical")
    one_line_error(run, r"y\.npy: row 5: the labels sum to 2\.0, not 1 .*pass --loss multilabel\.")


def test_negative_sample_weight(tmp_path: Any, cli: Any) -> None:
    w = np.ones(8)
    w[6] = -1
    np.savez(tmp_path / "d.npz", logits=logits(8, 2), labels=class_ids(8, 2), w=w)
    run = cli("eval", tmp_path / "d.npz", "--from-logits", "--sample-weight", "w")
    one_line_error(
        run, r"d\.npz: row 6, key 'w': sample weight -1\.0 is not a finite number >= 0\."
    )


def test_integer_predictions(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(class_ids(8, 3), logits(8, 3))
    run = cli("eval", x, "--labels", y)
    one_line_error(
        run,
        r"predictions must be floating-point .* got dtype int64\. Were predictions and labels "
        r"swapped\?",
    )


def test_non_integer_class_ids(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(8, 3), np.linspace(0, 1, 8))
    run = cli("eval", x, "--labels", y, "--from-logits")
    one_line_error(run, r"y\.npy: one label per row that is not an integer class id")


def test_ignore_index_needs_sparse_labels(tmp_path: Any, cli: Any) -> None:
    np.savez(tmp_path / "d.npz", y_pred=np.full(4, 0.5), y_true=np.array([0, 1, 1, 0]))
    run = cli("eval", tmp_path / "d.npz", "--ignore-index", -1)
    one_line_error(
        run,
        r"--ignore-index applies to integer class ids \(the sparse loss\); the loss here is binary",
    )


def test_class_weight_length(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(8, 3), class_ids(8, 3))
    run = cli("eval", x, "--labels", y, "--from-logits", "--class-weight", "1,2")
    one_line_error(run, r"--class-weight: 2 weights, but the predictions have 3 classes\.")


def test_unknown_column(tmp_path: Any, cli: Any) -> None:
    (tmp_path / "p.csv").write_text("a,b,target\n0.5,0.5,1\n")
    run = cli("eval", tmp_path / "p.csv", "--labels", "label")
    one_line_error(
        run,
        r"--labels label: no such file, and .*p\.csv has no such column \(it has: a, b, target\)\.",
    )


def test_no_labels_for_npy(npy_pair: Any, cli: Any) -> None:
    x, _ = npy_pair(logits(8, 3), class_ids(8, 3))
    one_line_error(cli("eval", x), r"x\.npy: no labels; pass --labels FILE")


def test_parquet_null_and_text_column(tmp_path: Any, cli: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    p = pa.array([0.1, 0.9, None, 0.4])
    pq.write_table(pa.table({"p": p, "label": [0, 1, 1, 0]}), tmp_path / "a.parquet")
    run = cli("eval", tmp_path / "a.parquet")
    one_line_error(run, r"a\.parquet: row 2, column 'p': missing value \(null\)\.")
    pq.write_table(
        pa.table({"id": ["a", "b"], "p": [0.1, 0.2], "label": [0, 1]}), tmp_path / "b.parquet"
    )
    run = cli("eval", tmp_path / "b.parquet")
    one_line_error(
        run,
        r"b\.parquet: column 'id' must hold numbers; got type string\. Choose the columns "
        r"explicitly, e\.g\. b\.parquet:p0,p1\.",
    )


def test_debug_shows_the_traceback(npy_pair: Any, cli: Any) -> None:
    x = logits(4, 3)
    x[1, 1] = np.nan
    xp, y = npy_pair(x, class_ids(4, 3))
    run = cli("eval", xp, "--labels", y, "--from-logits", "--debug")
    assert run.code == 2
    assert "Traceback" in run.err
    assert "CLIError" in run.err
    assert run.err.strip().splitlines()[-1].endswith("row 1, column 1: the prediction is NaN.")


def test_no_partial_report_on_failure(tmp_path: Any, cli: Any, npy_pair: Any) -> None:
    pytest.importorskip("matplotlib")
    x = logits(30, 3)
    x[29, 0] = np.nan
    xp, y = npy_pair(x, class_ids(30, 3))
    report = tmp_path / "report.html"
    before = set(os.listdir(tmp_path))
    run = cli("eval", xp, "--labels", y, "--from-logits", "--report", report, "--chunk-rows", 7)
    one_line_error(run, r"row 29, column 0: the prediction is NaN")
    assert set(os.listdir(tmp_path)) == before  # no report, no temporary file
    report.write_text("old report")
    run = cli("eval", xp, "--labels", y, "--from-logits", "--report", report)
    assert run.code == 2
    assert report.read_text() == "old report"


def test_report_path_checked_before_work(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(4, 3), class_ids(4, 3))
    one_line_error(
        cli("eval", x, "--labels", y, "--report", "r.pdf"),
        r"--report r\.pdf: the report must be a \.html or \.png file\.",
    )
    one_line_error(
        cli("eval", x, "--labels", y, "--report", "/no/such/dir/r.png"),
        r"the folder /no/such/dir does not exist\.",
    )


@pytest.mark.parametrize(
    ("module", "extra", "argv"),
    [
        ("pyarrow", "parquet", ["eval", "{d}/a.parquet"]),
        (
            "matplotlib",
            "report",
            ["eval", "{d}/x.npy", "--labels", "{d}/y.npy", "--report", "{d}/r.png"],
        ),
        (
            "distributed",
            "dask",
            ["eval", "{d}/x.npy", "--labels", "{d}/y.npy", "--dask", "tcp://127.0.0.1:1"],
        ),
    ],
)
def test_missing_extra_names_the_install_command(
    tmp_path: Any,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    extra: str,
    argv: list[str],
) -> None:
    np.save(tmp_path / "x.npy", softmax_rows(logits(4, 3)))
    np.save(tmp_path / "y.npy", class_ids(4, 3))
    (tmp_path / "a.parquet").write_bytes(b"PAR1")
    for name in list(sys.modules):
        if name == module or name.startswith(module + "."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    run = cli(*[a.format(d=tmp_path) for a in argv])
    one_line_error(
        run,
        re.escape(f'needs {module}, which is not installed: pip install "crossentropy[{extra}]"'),
    )


def test_usage_error_exit_code(cli: Any) -> None:
    run = cli("eval", "--no-such-flag")
    assert run.code == 2
    assert "unrecognized arguments: --no-such-flag" in run.err
    run = cli()
    assert run.code == 2
    assert "eval" in run.err


def test_bad_option_values(npy_pair: Any, cli: Any) -> None:
    x, y = npy_pair(logits(4, 3), class_ids(4, 3))
    one_line_error(
        cli("eval", x, "--labels", y, "--label-smoothing", "1.5"),
        r"--label-smoothing must be in \[0, 1\]; got 1\.5\.",
    )
    one_line_error(
        cli("eval", x, "--labels", y, "--top-k", "0"), r"--top-k must be at least 1; got 0\."
    )
    one_line_error(
        cli("eval", x, "--labels", y, "--from-logits", "--loss", "binary"),
        r"--loss binary needs one prediction per row; got 3 columns",
    )


def test_internal_error_exit_code_1(
    npy_pair: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crossentropy.cli._evaluate as ev

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(ev._Chunk, "process", boom)
    x, y = npy_pair(logits(4, 3), class_ids(4, 3))
    run = cli("eval", x, "--labels", y, "--from-logits")
    assert run.code == 1
    assert (
        run.err.strip()
        == "crossentropy: internal error: RuntimeError: boom (rerun with --debug for the "
        "traceback, and please report it)"
    )


def test_truncated_npy(tmp_path: Any, cli: Any) -> None:
    np.save(tmp_path / "x.npy", logits(100, 3))
    np.save(tmp_path / "y.npy", class_ids(100, 3))
    data = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(data[:-80])
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "y.npy", "--from-logits")
    one_line_error(run, r"x\.npy: the file is truncated")
