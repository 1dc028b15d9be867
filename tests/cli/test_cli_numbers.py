"""The numbers of ``crossentropy eval --json`` equal the library's on the same data in memory.

Losses are compared with the library's ``reduction="mean"``/``"sum"`` on the whole arrays (the
CLI streams them in chunks); accuracy, top-k, calibration and per-class numbers with independent
NumPy code written here from their definitions (docs/cli.md).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, softmax_rows, strict_json, write_csv
from hypothesis import given, settings
from hypothesis import strategies as st

import crossentropy as ce

RTOL = 1e-12


def close(a: float, b: float, rtol: float = RTOL) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0) or a == b


# --------------------------------------------------------------------------------------------
# independent references (definitions in docs/cli.md)


def ref_categorical_stats(
    scores: np.ndarray, true: np.ndarray, w: np.ndarray, from_logits: bool, k: int
) -> dict[str, Any]:
    """accuracy, top-k, ECE (15 bins on the top-1 probability) and per-class sums."""
    probs = softmax_rows(scores) if from_logits else scores
    pred = np.argmax(scores, axis=1)
    correct = pred == true
    conf = probs[np.arange(len(true)), pred]
    rank = np.array([np.sum(s > s[t]) for s, t in zip(scores, true, strict=True)])
    wsum = math.fsum(w)
    b = np.minimum(np.floor(conf * 15).astype(int), 14)
    gaps = [
        abs(math.fsum(w[b == i] * correct[b == i]) - math.fsum(w[b == i] * conf[b == i]))
        for i in range(15)
    ]
    return {
        "accuracy": math.fsum(w * correct) / wsum,
        "top_k": math.fsum(w * (rank < k)) / wsum,
        "ece": math.fsum(gaps) / math.fsum(w),
    }


def ref_per_class(
    per_sample: np.ndarray, cls: np.ndarray, w: np.ndarray, correct: np.ndarray, c: int
) -> list[dict[str, Any]]:
    out = []
    for j in range(c):
        m = cls == j
        ws = math.fsum(w[m])
        out.append(
            {
                "count": int(m.sum()),
                "loss": None if ws == 0 else math.fsum(per_sample[m]) / ws,
                "accuracy": None if ws == 0 else math.fsum(w[m] * correct[m]) / ws,
            }
        )
    return out


def check_per_class(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for g, e in zip(got, want, strict=True):
        assert g["count"] == e["count"]
        for key in ("loss", "accuracy"):
            if e[key] is None:
                assert g[key] is None
            else:
                assert close(g[key], e[key], 1e-10), (key, g, e)


# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 7, 0])
def test_sparse_logits_npy_equals_library(tmp_path: Any, cli: Any, chunk: int) -> None:
    n, c = 503, 12
    x = logits(n, c, seed=3)
    k = class_ids(n, c, seed=4)
    np.save(tmp_path / "p.npy", x)
    np.save(tmp_path / "y.npy", k)
    res = cli(
        "eval",
        tmp_path / "p.npy",
        "--labels",
        tmp_path / "y.npy",
        "--from-logits",
        "--json",
        "--chunk-rows",
        chunk,
        "--worst",
        7,
    ).json()
    mean = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    total = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="sum"))
    per = ce.sparse_categorical_crossentropy(k, x, from_logits=True)
    assert close(res["loss"], mean)
    assert close(res["sum"], total)
    assert res["n"] == n
    assert res["rows"] == n
    assert res["perplexity"] == pytest.approx(math.exp(mean), rel=1e-13)
    ref = ref_categorical_stats(x, k, np.ones(n), True, 5)
    assert res["accuracy"] == pytest.approx(ref["accuracy"], abs=1e-15)
    assert res["top_k"] == {"k": 5, "accuracy": pytest.approx(ref["top_k"], abs=1e-15)}
    assert res["ece"] == pytest.approx(ref["ece"], rel=1e-10)
    correct = np.argmax(x, axis=1) == k
    check_per_class(res["per_class"], ref_per_class(per, k, np.ones(n), correct, c))
    order = np.lexsort((np.arange(n), -per))[:7]
    assert [w["row"] for w in res["worst"]] == order.tolist()
    assert [w["loss"] for w in res["worst"]] == per[order].tolist()
    sig = res["signature"]
    assert sig["version"] == ce.__version__
    assert sig["loss"] == "sparse_categorical_crossentropy"
    assert sig["dtype"] == "float64"
    assert sig["n"] == n
    assert sig["options"]["from_logits"] is True


@pytest.mark.parametrize(
    ("smoothing", "use_weight", "ignore", "class_weight"),
    [
        (0.0, True, None, None),
        (0.1, False, -100, None),
        (0.0, True, -1, (1.0, 2.0, 0.5, 0.0, 3.0)),
        (0.2, True, 4, (1.0, 2.0, 0.5, 1.5, 3.0)),
    ],
)
def test_sparse_options_equal_library(
    tmp_path: Any,
    cli: Any,
    smoothing: float,
    use_weight: bool,
    ignore: int | None,
    class_weight: tuple[float, ...] | None,
) -> None:
    n, c = 400, 5
    x = logits(n, c, seed=5)
    k = class_ids(n, c, seed=6)
    if ignore is not None:
        k[::7] = ignore
    w = np.random.default_rng(7).uniform(0, 2, n)
    w[::11] = 0.0
    np.savez(tmp_path / "d.npz", logits=x, labels=k, w=w)
    argv = ["eval", tmp_path / "d.npz", "--from-logits", "--json", "--chunk-rows", 37]
    argv += ["--label-smoothing", smoothing]
    kw: dict[str, Any] = {"from_logits": True, "label_smoothing": smoothing}
    if use_weight:
        argv += ["--sample-weight", "w"]
        kw["sample_weight"] = w
    if ignore is not None:
        argv += ["--ignore-index", ignore]
        kw["ignore_index"] = ignore
    if class_weight is not None:
        argv += ["--class-weight", ",".join(map(str, class_weight))]
        kw["class_weight"] = np.array(class_weight)
    res = cli(*argv).json()
    assert close(
        res["loss"], float(ce.sparse_categorical_crossentropy(k, x, reduction="mean", **kw))
    )
    assert close(res["sum"], float(ce.sparse_categorical_crossentropy(k, x, reduction="sum", **kw)))
    valid = np.ones(n, bool) if ignore is None else k != ignore
    assert res["n"] == int(valid.sum())  # ignored rows are not counted
    weff = np.where(valid, w if use_weight else 1.0, 0.0)
    assert close(res["weight_sum"], math.fsum(weff))
    kk = np.where(valid, k, 0)
    ref = ref_categorical_stats(x, kk, weff, True, 5 if c > 5 else 0)
    assert res["accuracy"] == pytest.approx(ref["accuracy"], rel=1e-12)
    assert res["ece"] == pytest.approx(ref["ece"], rel=1e-9)
    per = ce.sparse_categorical_crossentropy(k, x, **kw)
    correct = (np.argmax(x, axis=1) == kk) & valid
    want = ref_per_class(per[valid], kk[valid], weff[valid], correct[valid], c)
    check_per_class(res["per_class"], want)
    assert res["signature"]["options"]["ignore_index"] == ignore
    assert res["signature"]["options"]["sample_weight"] is use_weight


def test_categorical_csv_one_column_per_class(tmp_path: Any, cli: Any) -> None:
    n, c = 150, 4
    p = softmax_rows(logits(n, c, seed=8))
    k = class_ids(n, c, seed=9)
    y = np.eye(c)[k]
    header = [f"p{j}" for j in range(c)] + [f"y{j}" for j in range(c)]
    write_csv(tmp_path / "d.csv", header, np.hstack([p, y]))
    res = cli(
        "eval", f"{tmp_path / 'd.csv'}:p*", "--labels", "y*", "--json", "--chunk-rows", 16
    ).json()
    assert res["signature"]["loss"] == "categorical_crossentropy"
    assert close(res["loss"], float(ce.categorical_crossentropy(y, p, reduction="mean")))
    ref = ref_categorical_stats(p, k, np.ones(n), False, 5)
    assert res["accuracy"] == pytest.approx(ref["accuracy"], abs=1e-15)
    assert res["top_k"] is None  # 4 classes: top-5 is trivially 1
    assert res["ece"] == pytest.approx(ref["ece"], rel=1e-10)


def test_categorical_soft_labels_and_class_weight(tmp_path: Any, cli: Any) -> None:
    n, c = 90, 3
    x = logits(n, c, seed=10)
    y = softmax_rows(logits(n, c, seed=11, scale=1.0))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    res = cli(
        "eval",
        tmp_path / "x.npy",
        "--labels",
        tmp_path / "y.npy",
        "--from-logits",
        "--class-weight",
        "0.5,1,2",
        "--label-smoothing",
        "0.05",
        "--json",
    ).json()
    assert res["signature"]["kind"] == "categorical"
    kw = dict(from_logits=True, class_weight=np.array([0.5, 1, 2]), label_smoothing=0.05)
    assert close(res["loss"], float(ce.categorical_crossentropy(y, x, reduction="mean", **kw)))
    assert res["inputs"]["detected"] == "soft labels summing to 1"


def test_binary_parquet(tmp_path: Any, cli: Any) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(12)
    n = 333
    p = rng.uniform(0, 1, n)
    p[:3] = [0.0, 1.0, 0.5]
    y = (rng.uniform(size=n) < p).astype(np.int64)
    y[:2] = [0, 1]
    w = rng.uniform(0.5, 1.5, n)
    pq.write_table(
        pa.table({"score": p, "target": y, "w": w}), tmp_path / "b.parquet", row_group_size=50
    )
    res = cli(
        "eval",
        f"{tmp_path / 'b.parquet'}:score",
        "--labels",
        "target",
        "--sample-weight",
        "w",
        "--json",
        "--chunk-rows",
        64,
    ).json()
    assert res["signature"]["loss"] == "binary_crossentropy"
    assert res["signature"]["kind"] == "binary"
    yf = y[:, None].astype(float)
    kw = dict(sample_weight=w)
    assert close(res["loss"], float(ce.binary_crossentropy(yf, p[:, None], reduction="mean", **kw)))
    assert close(res["sum"], float(ce.binary_crossentropy(yf, p[:, None], reduction="sum", **kw)))
    assert res["perplexity"] is None
    assert res["top_k"] is None
    correct = (p > 0.5) == (y > 0.5)
    assert res["accuracy"] == pytest.approx(math.fsum(w * correct) / math.fsum(w), rel=1e-13)
    # ECE on p of the positive class: observed frequency of positives vs mean p per bin
    b = np.minimum(np.floor(p * 15).astype(int), 14)
    gaps = [
        abs(math.fsum(w[b == i] * y[b == i]) - math.fsum(w[b == i] * p[b == i])) for i in range(15)
    ]
    assert res["ece"] == pytest.approx(math.fsum(gaps) / math.fsum(w), rel=1e-10)
    assert [e["count"] for e in res["per_class"]] == [int((y == 0).sum()), int((y == 1).sum())]
    assert [e["name"] for e in res["per_class"]] == ["negative", "positive"]


def test_binary_logits_npz_compressed(tmp_path: Any, cli: Any) -> None:
    rng = np.random.default_rng(13)
    x = rng.normal(0, 4, 257).astype(np.float32)
    y = rng.uniform(0, 1, 257)  # soft labels
    np.savez_compressed(tmp_path / "b.npz", logits=x, labels=y)
    res = cli("eval", tmp_path / "b.npz", "--from-logits", "--json", "--chunk-rows", 10).json()
    x64 = x.astype(np.float64)[:, None]
    want = float(ce.binary_crossentropy(y[:, None], x64, from_logits=True, reduction="mean"))
    assert close(res["loss"], want)
    assert res["signature"]["dtype"] == "float32"


def test_multilabel_logits(tmp_path: Any, cli: Any) -> None:
    rng = np.random.default_rng(14)
    n, c = 211, 6
    x = rng.normal(0, 2, (n, c))
    y = (rng.uniform(size=(n, c)) < 0.3).astype(np.int8)
    w = rng.uniform(0, 1, n)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "w.npy", w)
    res = cli(
        "eval",
        tmp_path / "x.npy",
        "--labels",
        tmp_path / "y.npy",
        "--sample-weight",
        tmp_path / "w.npy",
        "--from-logits",
        "--json",
        "--chunk-rows",
        20,
    ).json()
    assert res["signature"]["kind"] == "multilabel"
    kw = dict(from_logits=True, sample_weight=w)
    assert close(res["loss"], float(ce.binary_crossentropy(y, x, reduction="mean", **kw)))
    # per label: the mean over samples of the element-wise loss, weighted
    elem = ce.binary_crossentropy(y[..., None], x[..., None], from_logits=True)
    for j, e in enumerate(res["per_class"]):
        assert e["loss"] == pytest.approx(math.fsum(w * elem[:, j]) / math.fsum(w), rel=1e-12)
        assert e["count"] == int(y[:, j].sum())
    match = (ce.sigmoid(x) > 0.5) == (y > 0.5)
    assert res["accuracy"] == pytest.approx(
        math.fsum(w * match.mean(axis=1)) / math.fsum(w), rel=1e-12
    )


def test_float32_file_equals_library_in_float64(tmp_path: Any, cli: Any) -> None:
    n, c = 300, 7
    x = logits(n, c, seed=15).astype(np.float32)
    k = class_ids(n, c, seed=16).astype(np.int32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", k)
    res = cli(
        "eval",
        tmp_path / "x.npy",
        "--labels",
        tmp_path / "k.npy",
        "--from-logits",
        "--json",
        "--chunk-rows",
        33,
    ).json()
    x64 = x.astype(np.float64)
    assert close(
        res["loss"],
        float(ce.sparse_categorical_crossentropy(k, x64, from_logits=True, reduction="mean")),
    )
    # the library on the float32 array rounds the same value once to float32
    f32 = ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean")
    assert np.float32(res["loss"]) == f32
    assert res["signature"]["dtype"] == "float32"


def test_probabilities_float32_rows_use_float32_tolerance(tmp_path: Any, cli: Any) -> None:
    # float32 softmax rows sum to 1 only to float32 precision; that is accepted
    x = logits(64, 50, seed=17)
    p = softmax_rows(x).astype(np.float32)
    assert np.abs(p.astype(np.float64).sum(axis=1) - 1).max() > 1.5e-8
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "k.npy", class_ids(64, 50))
    res = cli("eval", tmp_path / "p.npy", "--labels", tmp_path / "k.npy", "--json").json()
    want = ce.sparse_categorical_crossentropy(
        class_ids(64, 50), p.astype(np.float64), reduction="mean", validate=False
    )
    assert close(res["loss"], float(want))


def test_all_rows_ignored_gives_library_mean_zero(tmp_path: Any, cli: Any) -> None:
    x = logits(10, 3)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", np.full(10, -1))
    res = cli(
        "eval",
        tmp_path / "x.npy",
        "--labels",
        tmp_path / "k.npy",
        "--from-logits",
        "--ignore-index",
        -1,
        "--json",
    ).json()
    assert (
        res["loss"]
        == 0.0
        == float(
            ce.sparse_categorical_crossentropy(
                np.full(10, -1), x, from_logits=True, ignore_index=-1, reduction="mean"
            )
        )
    )
    assert res["n"] == 0
    assert res["rows"] == 10
    assert res["accuracy"] is None
    assert res["worst"] == []


def test_infinite_loss_is_reported_not_nan(tmp_path: Any, cli: Any) -> None:
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "k.npy", np.array([1, 0, 1]))
    r = cli("eval", tmp_path / "p.npy", "--labels", tmp_path / "k.npy", "--json")
    res = r.json()
    assert res["loss"] == math.inf
    assert res["sum"] == math.inf
    assert res["perplexity"] == math.inf
    assert res["worst"][0]["row"] == 0
    assert res["worst"][0]["loss"] == math.inf
    assert res["loss_histogram"]["inf"] == 1
    raw = strict_json(r.out)  # strict JSON: null, and the pointer in "nonfinite"
    assert raw["loss"] is None
    assert raw["worst"][0]["loss"] is None
    assert raw["nonfinite"] == {
        "/loss": "inf",
        "/sum": "inf",
        "/perplexity": "inf",
        "/per_class/1/loss": "inf",
        "/worst/0/loss": "inf",
    }
    assert "Infinity" not in r.out
    assert "NaN" not in r.out


def test_chunking_and_shards_do_not_change_the_numbers(tmp_path: Any, cli: Any) -> None:
    n, c = 1000, 9
    x = logits(n, c, seed=18)
    k = class_ids(n, c, seed=19)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", k)
    (tmp_path / "s").mkdir()
    for i, (a, b) in enumerate([(0, 123), (123, 500), (500, 1000)]):
        np.save(tmp_path / "s" / f"x{i}.npy", x[a:b])
        np.save(tmp_path / "s" / f"k{i}.npy", k[a:b])
    base = ["--from-logits", "--json"]
    runs = [
        cli(
            "eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", *base, "--chunk-rows", m
        ).json()
        for m in (1, 13, 1000)
    ]
    runs.append(
        cli("eval", f"{tmp_path}/s/x*.npy", "--labels", f"{tmp_path}/s/k*.npy", *base).json()
    )
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    for r in runs:
        assert close(r["loss"], want, 1e-15)
        assert r["accuracy"] == runs[0]["accuracy"]
        assert r["ece"] == pytest.approx(runs[0]["ece"], rel=1e-13)
        for a, b in zip(r["per_class"], runs[0]["per_class"], strict=True):
            assert a["loss"] == pytest.approx(b["loss"], rel=1e-13)
    assert runs[-1]["inputs"]["files"] == 3
    assert {w["file"] for w in runs[-1]["worst"]} <= {
        str(tmp_path / "s" / f"x{i}.npy") for i in range(3)
    }


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 120),
    c=st.integers(2, 6),
    chunk=st.integers(1, 50),
    seed=st.integers(0, 2**16),
    from_logits=st.booleans(),
)
def test_streamed_mean_equals_in_memory_mean(
    tmp_path_factory: Any, n: int, c: int, chunk: int, seed: int, from_logits: bool
) -> None:
    from crossentropy.cli._evaluate import Options, Unit, evaluate_unit
    from crossentropy.cli._sources import FileSpec

    d = tmp_path_factory.mktemp("h")
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 10, (n, c)) * rng.uniform(0, 3)
    p = x if from_logits else softmax_rows(x)
    k = rng.integers(0, c, n)
    w = rng.exponential(1.0, n)
    np.savez(d / "d.npz", p=p, k=k, w=w)
    unit = Unit(
        0,
        "d.npz",
        (FileSpec(str(d / "d.npz"), "npz", (("preds", "p"), ("labels", "k"), ("weight", "w"))),),
    )
    opts = Options("sparse", c, from_logits=from_logits, chunk_rows=chunk)
    acc = evaluate_unit(unit, opts)
    got = acc.loss.value() / acc.weight.value()
    want = float(
        ce.sparse_categorical_crossentropy(
            k, p, from_logits=from_logits, sample_weight=w, reduction="mean"
        )
    )
    assert close(got, want)


def test_summary_first_line_does_not_wrap_when_piped(tmp_path: Any, cli: Any) -> None:
    """Piped output gets rich's 80 columns; the head line (longer here) stays one line."""
    n, c = 50, 4
    np.save(tmp_path / "x.npy", logits(n, c))
    np.save(tmp_path / "k.npy", class_ids(n, c))
    np.save(tmp_path / "w.npy", np.ones(n))
    run = cli(
        "eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--from-logits",
        "--label-smoothing", "0.1", "--class-weight", "1,2,3,4",
        "--sample-weight", tmp_path / "w.npy",
    )  # fmt: skip
    assert run.code == 0, run.err
    first = run.out.splitlines()[0]
    assert first == (
        "sparse_categorical_crossentropy (integer class ids), from logits, "
        "label smoothing 0.1, class weights, sample weights"
    )
    assert len(first) > 80
    assert run.out.splitlines()[1].startswith("predictions: ")
