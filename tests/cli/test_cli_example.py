"""The bundled example: small, shipped in the package, and evaluated like any file."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import crossentropy as ce


def test_bundled_data_is_small_and_in_the_package() -> None:
    folder = Path(str(resources.files("crossentropy.data")))
    assert (folder / "example.npz").is_file()
    total = sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    assert total < 200 * 1024


def test_example_summary(cli: Any) -> None:
    run = cli("eval", "--example")
    assert run.code == 0
    assert run.err == ""
    assert "sparse_categorical_crossentropy (integer class ids), from logits" in run.out
    for word in ("mean loss", "perplexity", "top-5 accuracy", "ECE (15 bins)", "airplane", "truck"):
        assert word in run.out


def test_example_numbers_equal_the_library(cli: Any) -> None:
    path = str(resources.files("crossentropy.data").joinpath("example.npz"))
    with np.load(path) as z:
        x, k, names = z["logits"], z["labels"], z["class_names"].tolist()
    res = cli("eval", "--example", "--json").json()
    want = ce.sparse_categorical_crossentropy(
        k, x.astype(np.float64), from_logits=True, reduction="mean"
    )
    assert math.isclose(res["loss"], float(want), rel_tol=1e-12)
    assert res["accuracy"] == float(np.mean(np.argmax(x, axis=1) == k))
    assert [c["name"] for c in res["per_class"]] == names
    assert res["signature"] == {
        "version": ce.__version__,
        "loss": "sparse_categorical_crossentropy",
        "kind": "sparse",
        "options": {
            "from_logits": True,
            "label_smoothing": 0.0,
            "ignore_index": None,
            "class_weight": None,
            "sample_weight": False,
        },
        "dtype": "float32",
        "n": 2000,
    }


def test_example_and_a_file_are_exclusive(cli: Any, tmp_path: Any) -> None:
    run = cli("eval", "--example", tmp_path / "x.npy")
    assert run.code == 2
    assert "--example evaluates the bundled data; do not also pass a file." in run.err
