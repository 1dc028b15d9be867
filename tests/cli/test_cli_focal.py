"""--loss focal (with --gamma, --alpha) and --pos-weight (issue 17): the numbers equal the
library's focal and weighted losses in memory."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits

import crossentropy as ce


@pytest.fixture
def multilabel(tmp_path: Any) -> tuple[Any, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(23)
    x = logits(150, 4, seed=24)
    y = (rng.uniform(size=(150, 4)) < 0.25).astype(np.int8)
    np.savez(tmp_path / "m.npz", logits=x, labels=y)
    return tmp_path / "m.npz", x, y


def test_multilabel_pos_weight(cli: Any, multilabel: Any) -> None:
    path, x, y = multilabel
    for pw, arg in (([3.0, 3.0, 3.0, 3.0], "3"), ([1.0, 2.0, 4.0, 0.5], "1,2,4,0.5")):
        res = cli("eval", path, "--from-logits", "--pos-weight", arg, "--json").json()
        want = ce.binary_crossentropy(
            y, x, from_logits=True, pos_weight=np.array(pw), reduction="mean"
        )
        assert res["loss"] == pytest.approx(float(want), rel=1e-12)
        for j in range(4):  # the per-label table: each label with its own weight
            el = ce.binary_crossentropy(
                y[:, j : j + 1],
                x[:, j : j + 1],
                from_logits=True,
                pos_weight=np.array(pw[j : j + 1]),
                reduction="mean",
            )
            assert res["per_class"][j]["loss"] == pytest.approx(float(el), rel=1e-9), j
        assert res["signature"]["options"]["pos_weight"] == [float(v) for v in arg.split(",")]
        assert "|pw:yes|" in res["signature_line"]
    run = cli("eval", path, "--from-logits", "--pos-weight", "1,2")
    assert run.code == 2
    assert "--pos-weight: 2 values, but 1 or 4 are expected" in run.err


def test_focal_binary_multilabel_and_categorical(cli: Any, multilabel: Any, tmp_path: Any) -> None:
    path, x, y = multilabel
    res = cli(
        "eval", path, "--from-logits", "--loss", "focal", "--gamma", "1.5", "--alpha", "0.25",
        "--json",
    ).json()  # fmt: skip
    want = ce.binary_focal_crossentropy(
        y, x, gamma=1.5, alpha=0.25, from_logits=True, reduction="mean"
    )
    assert res["loss"] == pytest.approx(float(want), rel=1e-12)
    assert res["signature"]["loss"] == "binary_focal_crossentropy"
    assert res["signature"]["kind"] == "multilabel"

    k = class_ids(150, 4, seed=25)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", k)
    onehot = np.eye(4)[k]
    for alpha in (None, "0.5", "0.1,0.2,0.3,0.4"):
        extra = [] if alpha is None else ["--alpha", alpha]
        res = cli(
            "eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--from-logits",
            "--loss", "focal", "--json", *extra,
        ).json()  # fmt: skip
        a = None if alpha is None else np.array([float(v) for v in alpha.split(",")])
        if a is not None and a.size == 1:
            a = float(a[0])
        want = ce.categorical_focal_crossentropy(
            onehot, x, gamma=2.0, alpha=a, from_logits=True, reduction="mean"
        )
        assert res["loss"] == pytest.approx(float(want), rel=1e-12), alpha
        assert res["signature"]["loss"] == "categorical_focal_crossentropy"


def test_focal_refusals(cli: Any, multilabel: Any, tmp_path: Any) -> None:
    path, x, _ = multilabel
    cases = [
        (["--gamma", "2"], "--gamma and --alpha apply to --loss focal."),
        (["--loss", "focal", "--pos-weight", "2"], "binary_focal_crossentropy has no pos_weight"),
        (["--loss", "focal", "--alpha", "0.1,0.2"], "--alpha: 2 values, but 1 are expected"),
        (["--loss", "focal", "--gamma", "-1"], "--gamma must be a finite number >= 0"),
    ]
    for extra, message in cases:
        run = cli("eval", path, "--from-logits", *extra)
        assert run.code == 2, extra
        assert message in run.err, (extra, run.err)
        assert len(run.err.splitlines()) == 1
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", class_ids(150, 4))
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--from-logits",
              "--loss", "focal", "--class-weight", "1,1,1,1")  # fmt: skip
    assert run.code == 2
    assert "--loss focal takes no --class-weight" in run.err
    run = cli("eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--from-logits",
              "--pos-weight", "2")  # fmt: skip
    assert run.code == 2
    assert "--pos-weight applies to the binary and multilabel losses" in run.err
