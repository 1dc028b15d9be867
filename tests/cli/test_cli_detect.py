"""Which loss is detected from the shapes and first rows, and forcing it with --loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, softmax_rows


def kind(cli: Any, tmp_path: Any, p: np.ndarray, y: np.ndarray, *extra: Any) -> Any:
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "y.npy", y)
    run = cli("eval", tmp_path / "p.npy", "--labels", tmp_path / "y.npy", "--json", *extra)
    res = run.json()
    return res["signature"]["kind"], res["inputs"]["detected"]


@pytest.mark.parametrize(
    ("make", "extra", "want"),
    [
        (
            lambda: (np.full(6, 0.3), np.array([0, 1, 0, 1, 1, 0])),
            (),
            ("binary", "one prediction per row"),
        ),
        (
            lambda: (logits(6, 3), class_ids(6, 3)),
            ("--from-logits",),
            ("sparse", "integer class ids"),
        ),
        (
            lambda: (logits(6, 3), np.eye(3)[class_ids(6, 3)]),
            ("--from-logits",),
            ("categorical", "one-hot labels"),
        ),
        (
            lambda: (softmax_rows(logits(6, 3)), softmax_rows(logits(6, 3, seed=5))),
            (),
            ("categorical", "soft labels summing to 1"),
        ),
        (
            lambda: (logits(6, 3), np.array([[1, 1, 0], [0, 0, 0]] * 3)),
            ("--from-logits",),
            ("multilabel", "label rows that do not sum to 1 (several true labels)"),
        ),
        (
            lambda: (np.full((6, 3), 0.7), np.eye(3)[class_ids(6, 3)]),
            (),
            ("multilabel", "each label row sums to 1, but the predicted probabilities do not"),
        ),
    ],
)
def test_detection(
    tmp_path: Any, cli: Any, make: Any, extra: tuple[str, ...], want: tuple[str, str]
) -> None:
    p, y = make()
    assert kind(cli, tmp_path, p, y, *extra) == want


def test_forced_loss(tmp_path: Any, cli: Any) -> None:
    y = np.eye(3)[class_ids(6, 3)]
    got = kind(cli, tmp_path, logits(6, 3), y, "--from-logits", "--loss", "multilabel")
    assert got == ("multilabel", "chosen with --loss")
    run = cli(
        "eval",
        tmp_path / "p.npy",
        "--labels",
        tmp_path / "y.npy",
        "--from-logits",
        "--loss",
        "sparse",
    )
    assert run.code == 2
    assert (
        "sparse labels are one class id per row; got 3 columns (for one-hot or soft labels use "
        "--loss categorical)." in run.err
    )


def test_label_width_must_match(tmp_path: Any, cli: Any) -> None:
    np.save(tmp_path / "p.npy", logits(6, 3))
    np.save(tmp_path / "y.npy", np.eye(4)[class_ids(6, 4)])
    run = cli("eval", tmp_path / "p.npy", "--labels", tmp_path / "y.npy", "--from-logits")
    assert run.code == 2
    assert "4 label columns, but the predictions have 3" in run.err


def test_shards_must_agree_on_the_number_of_classes(tmp_path: Any, cli: Any) -> None:
    np.save(tmp_path / "p0.npy", logits(6, 3))
    np.save(tmp_path / "p1.npy", logits(6, 4))
    np.save(tmp_path / "y0.npy", class_ids(6, 3))
    np.save(tmp_path / "y1.npy", class_ids(6, 3))
    run = cli("eval", f"{tmp_path}/p*.npy", "--labels", f"{tmp_path}/y*.npy", "--from-logits")
    assert run.code == 2
    assert "p1.npy: 4 prediction columns, but the first file has 3." in run.err


def test_shard_counts_must_match(tmp_path: Any, cli: Any) -> None:
    for i in range(2):
        np.save(tmp_path / f"p{i}.npy", logits(6, 3))
    np.save(tmp_path / "y0.npy", class_ids(6, 3))
    run = cli("eval", f"{tmp_path}/p*.npy", "--labels", f"{tmp_path}/y*.npy", "--from-logits")
    assert run.code == 2
    assert "1 file(s), but the predictions are 2 file(s)" in run.err
