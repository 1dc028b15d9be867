"""``crossentropy compare A B``, and the confidence intervals of ``eval``: the numbers equal the
library's in-memory results, the bootstrap equals an independent pure-Python implementation of
its documented definition, and McNemar's test equals SciPy's."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, strict_json

import crossentropy as ce

# -- an independent implementation of the documented bootstrap (pure Python integers) ---------

M64 = (1 << 64) - 1
GROUP_BITS = 13
G = 1 << GROUP_BITS
ROWS, WEIGHTS = 0x243F6A8885A308D3, 0x13198A2E03707344


def splitmix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def key(seed: int, stream: int, index: int) -> int:
    return splitmix(splitmix((seed ^ stream) & M64) ^ index)


def groups_of(seed: int, shard: int, n: int) -> list[int]:
    k = key(seed, ROWS, shard)
    return [splitmix(r ^ k) >> (64 - GROUP_BITS) for r in range(n)]


CDF = [math.fsum(math.exp(-1.0) / math.factorial(j) for j in range(k + 1)) for k in range(20)]


def poisson(h: int) -> int:
    u = (h >> 11) * 2.0**-53
    return sum(1 for c in CDF if c <= u)


def reference_replicates(
    seed: int, reps: int, groups: list[int], num: np.ndarray, den: np.ndarray
) -> np.ndarray:
    """sum_g m[b, g] N_g / sum_g m[b, g] D_g, with the per-group sums of the rows."""
    gn = np.zeros(G)
    gd = np.zeros(G)
    np.add.at(gn, groups, num)
    np.add.at(gd, groups, den)
    used = np.flatnonzero(gd != 0)  # the other groups add nothing whatever their weight
    k = key(seed, WEIGHTS, 0)
    out = []
    for b in range(reps):
        m = np.array([poisson(splitmix((b * G + g) ^ k)) for g in used.tolist()], dtype=float)
        out.append(math.fsum(m * gn[used]) / math.fsum(m * gd[used]))
    return np.array(out)


def percentile(reps: np.ndarray, level: float) -> list[float]:
    a = (1 - level) / 2
    return [float(np.quantile(reps, a)), float(np.quantile(reps, 1 - a))]


# -- data -------------------------------------------------------------------------------------


def two_models(n: int, c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    a = logits(n, c, seed=seed + 1, scale=1.0)
    a[np.arange(n), y] += 1.5
    b = a + rng.normal(scale=0.7, size=(n, c))
    return a, b, y


@pytest.fixture
def files(tmp_path: Any) -> Any:
    a, b, y = two_models(400, 5)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "y.npy", y)
    return tmp_path, a, b, y


def test_compare_numbers_equal_the_library(files: Any, cli: Any) -> None:
    d, a, b, y = files
    res = cli(
        "compare", d / "a.npy", d / "b.npy", "--labels", d / "y.npy", "--from-logits",
        "--bootstrap", "40", "--seed", "7", "--json",
    ).json()  # fmt: skip
    la = ce.sparse_categorical_crossentropy(y, a, from_logits=True, reduction="none")
    lb = ce.sparse_categorical_crossentropy(y, b, from_logits=True, reduction="none")
    mean_a = float(ce.sparse_categorical_crossentropy(y, a, from_logits=True, reduction="mean"))
    mean_b = float(ce.sparse_categorical_crossentropy(y, b, from_logits=True, reduction="mean"))
    diff = res["difference"]
    assert res["a"]["loss"] == pytest.approx(mean_a, rel=1e-12)
    assert res["b"]["loss"] == pytest.approx(mean_b, rel=1e-12)
    assert diff["loss"] == pytest.approx(math.fsum(la - lb) / len(y), rel=1e-12)
    ra, rb = a.argmax(1) == y, b.argmax(1) == y
    assert diff["accuracy"] == pytest.approx(ra.mean() - rb.mean(), abs=1e-15)
    mc = diff["mcnemar"]
    assert (mc["a_only"], mc["b_only"]) == (int((ra & ~rb).sum()), int((~ra & rb).sum()))
    assert (mc["both"], mc["neither"]) == (int((ra & rb).sum()), int((~ra & ~rb).sum()))
    assert mc["unit"] == "rows"
    # per class: the library's per-sample losses averaged over the rows of each class
    for e in res["per_class"]:
        rows = y == e["class"]
        assert e["loss_difference"] == pytest.approx(float((la - lb)[rows].mean()), rel=1e-9)
    # the rows where A and B differ most
    order = np.lexsort((np.arange(len(y)), -np.abs(la - lb)))[:5]
    assert [w["row"] for w in res["disagree"]] == order.tolist()
    assert res["disagree"][0]["difference"] == pytest.approx(float((la - lb)[order[0]]))
    # the bootstrap, against the independent implementation of its definition
    boot = diff["bootstrap"]
    reps = reference_replicates(7, 40, groups_of(7, 0, len(y)), la - lb, np.ones(len(y)))
    assert boot["loss_ci"] == pytest.approx(percentile(reps, 0.95), rel=1e-10)
    far = int(np.count_nonzero(np.abs(reps - diff["loss"]) >= abs(diff["loss"])))
    assert boot["loss_p_value"] == pytest.approx((1 + far) / 41, abs=1e-12)
    reps_acc = reference_replicates(
        7, 40, groups_of(7, 0, len(y)), ra.astype(float) - rb, np.ones(len(y))
    )
    assert boot["accuracy_ci"] == pytest.approx(percentile(reps_acc, 0.95), rel=1e-10, abs=1e-15)


def test_compare_is_reproducible_and_independent_of_chunking(files: Any, cli: Any) -> None:
    d, *_ = files
    base = ["compare", d / "a.npy", d / "b.npy", "--labels", d / "y.npy", "--from-logits"]
    r1 = cli(*base, "--json", "--bootstrap", "200")
    r2 = cli(*base, "--json", "--bootstrap", "200")
    assert r1.out == r2.out  # same seed: the same bytes
    one = r1.json()["difference"]["bootstrap"]
    small = cli(*base, "--json", "--bootstrap", "200", "--chunk-rows", "7").json()
    chunked = small["difference"]["bootstrap"]
    assert chunked["loss_ci"] == pytest.approx(one["loss_ci"], rel=1e-12)
    assert chunked["loss_p_value"] == one["loss_p_value"]
    other = cli(*base, "--json", "--bootstrap", "200", "--seed", "1").json()
    assert other["difference"]["bootstrap"]["loss_ci"] != one["loss_ci"]


def test_bootstrap_interval_matches_the_normal_approximation(tmp_path: Any, cli: Any) -> None:
    """A statistical sanity check: on 4000 rows the bootstrap's interval is within 15% of the
    width of the paired normal interval, 2 * 1.96 * sd(d) / sqrt(n), and centred near D."""
    a, b, y = two_models(4000, 6, seed=3)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    np.save(tmp_path / "y.npy", y)
    res = cli(
        "compare", tmp_path / "a.npy", tmp_path / "b.npy", "--labels", tmp_path / "y.npy",
        "--from-logits", "--json",
    ).json()  # fmt: skip
    la = ce.sparse_categorical_crossentropy(y, a, from_logits=True, reduction="none")
    lb = ce.sparse_categorical_crossentropy(y, b, from_logits=True, reduction="none")
    dd = la - lb
    se = float(np.std(dd, ddof=1) / math.sqrt(len(dd)))
    lo, hi = res["difference"]["bootstrap"]["loss_ci"]
    assert hi - lo == pytest.approx(2 * 1.959964 * se, rel=0.15)
    assert (lo + hi) / 2 == pytest.approx(float(dd.mean()), abs=0.3 * se)


def test_mcnemar_equals_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    from crossentropy.cli._compare import mcnemar

    for b, c in [(0, 0), (1, 9), (3, 4), (12, 12), (0, 24), (30, 12), (500, 430)]:
        got = mcnemar(b, c)
        if b + c < 25:
            want = stats.binomtest(min(b, c), b + c, 0.5).pvalue if b + c else 1.0
            assert got["method"] == "exact binomial"
        else:
            chi2 = (abs(b - c) - 1) ** 2 / (b + c)
            want = stats.chi2.sf(chi2, 1)
            assert got["statistic"] == pytest.approx(chi2, rel=1e-15)
        assert got["p_value"] == pytest.approx(want, rel=1e-12), (b, c)


def test_compare_pandas_csv_and_pyarrow_parquet(tmp_path: Any, cli: Any) -> None:
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    a, b, y = two_models(300, 3, seed=5)
    pa_ = ce.softmax(a)
    pb_ = ce.softmax(b)
    cols = ["cat", "dog", "bird"]
    for name, p in (("a", pa_), ("b", pb_)):
        df = pd.DataFrame(p, columns=cols)
        df["label"] = y
        df.to_csv(tmp_path / f"{name}.csv", index=False)
        df.to_parquet(tmp_path / f"{name}.parquet", index=False)
    want = float(
        math.fsum(
            ce.sparse_categorical_crossentropy(y, pa_, reduction="none")
            - ce.sparse_categorical_crossentropy(y, pb_, reduction="none")
        )
        / len(y)
    )
    for ext in ("parquet", "csv"):
        res = cli(
            "compare", tmp_path / f"a.{ext}", tmp_path / f"b.{ext}", "--labels", "label", "--json",
            "--bootstrap", "50",
        ).json()  # fmt: skip
        # CSV holds the shortest repr of each float64, so the numbers are the same
        assert res["difference"]["loss"] == pytest.approx(want, rel=1e-12), ext


def test_binary_and_multilabel_compare(tmp_path: Any, cli: Any) -> None:
    rng = np.random.default_rng(9)
    n, c = 200, 4
    y = (rng.uniform(size=(n, c)) < 0.3).astype(np.int8)
    a = rng.normal(size=(n, c)) + 2.0 * (y - 0.5)
    b = rng.normal(size=(n, c))
    np.savez(tmp_path / "a.npz", logits=a, labels=y)
    np.savez(tmp_path / "b.npz", logits=b, labels=y)
    res = cli("compare", tmp_path / "a.npz", tmp_path / "b.npz", "--from-logits", "--json").json()
    assert res["signature"]["kind"] == "multilabel"
    mc = res["difference"]["mcnemar"]
    ra, rb = (a > 0) == (y > 0.5), (b > 0) == (y > 0.5)
    assert mc["unit"] == "labels"
    assert (mc["a_only"], mc["b_only"]) == (int((ra & ~rb).sum()), int((~ra & rb).sum()))
    la = ce.binary_crossentropy(y, a, from_logits=True, reduction="none")
    lb = ce.binary_crossentropy(y, b, from_logits=True, reduction="none")
    assert res["difference"]["loss"] == pytest.approx(float((la - lb).mean()), rel=1e-12)

    yb = y[:, 0]
    np.savez(tmp_path / "ba.npz", y_pred=ce.sigmoid(a[:, 0]), y_true=yb)
    np.savez(tmp_path / "bb.npz", y_pred=ce.sigmoid(b[:, 0]), y_true=yb)
    res = cli("compare", tmp_path / "ba.npz", tmp_path / "bb.npz", "--json").json()
    assert res["signature"]["kind"] == "binary"
    assert "p_positive_a" in res["disagree"][0]
    la = ce.binary_crossentropy(yb[:, None], ce.sigmoid(a[:, :1]), reduction="none")
    lb = ce.binary_crossentropy(yb[:, None], ce.sigmoid(b[:, :1]), reduction="none")
    assert res["difference"]["loss"] == pytest.approx(float((la - lb).mean()), rel=1e-12)


def test_compare_refuses_mismatched_files(files: Any, cli: Any) -> None:
    d, _, b, _ = files
    np.save(d / "short.npy", b[:-1])
    np.save(d / "wide.npy", np.hstack([b, b[:, :1]]))
    run = cli("compare", d / "a.npy", d / "short.npy", "--labels", d / "y.npy", "--from-logits")
    assert run.code == 2
    assert len(run.err.splitlines()) == 1
    assert "rows" in run.err
    run = cli("compare", d / "a.npy", d / "wide.npy", "--labels", d / "y.npy", "--from-logits")
    assert run.code == 2
    assert "6 prediction columns, but A" in run.err
    assert run.out == ""


def test_compare_summary_and_reports(files: Any, cli: Any) -> None:
    pytest.importorskip("matplotlib")
    d, *_ = files
    base = ["compare", d / "a.npy", d / "b.npy", "--labels", d / "y.npy", "--from-logits"]
    run = cli(*base, "--report", d / "cmp.html", "--bootstrap", "100")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == "compare: sparse_categorical_crossentropy (integer class ids), from logits"
    assert any(line.lstrip().startswith("mean loss") and "[" in line for line in lines)
    assert any("McNemar" in line for line in lines)
    assert [ln for ln in lines if ln.startswith("signature: ")] == [
        f"signature: {run_json_signature(cli, base)}"
    ]
    page = (d / "cmp.html").read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "McNemar" in page
    run = cli(*base, "--report", d / "cmp.png", "--json", "--bootstrap", "0")
    assert run.code == 0, run.err
    assert (d / "cmp.png").read_bytes().startswith(b"\x89PNG")
    res = run.json()
    assert res["difference"]["bootstrap"] is None
    assert res["a"]["ci"] is None


def run_json_signature(cli: Any, base: list[Any]) -> str:
    line: str = cli(*base, "--bootstrap", "100", "--json").json()["signature_line"]
    assert line.startswith("compare|crossentropy:")
    return line


def test_compare_with_an_infinite_loss_is_strict_json(tmp_path: Any, cli: Any) -> None:
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.3, 0.7]])
    q = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "q.npy", q)
    np.save(tmp_path / "k.npy", np.array([1, 0, 1]))
    run = cli("compare", tmp_path / "p.npy", tmp_path / "q.npy", "--labels", tmp_path / "k.npy",
              "--json")  # fmt: skip
    raw = strict_json(run.out)
    assert raw["difference"]["loss"] is None
    assert raw["nonfinite"]["/difference/loss"] == "inf"
    assert raw["difference"]["bootstrap"]["loss_ci"] is None
    assert raw["disagree"][0]["row"] == 0


# -- eval's intervals and signature -----------------------------------------------------------


def test_eval_intervals_equal_the_reference(tmp_path: Any, cli: Any) -> None:
    n, c = 300, 4
    x = logits(n, c, seed=2)
    k = class_ids(n, c, seed=3)
    w = np.random.default_rng(4).uniform(0.5, 2.0, n)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "k.npy", k)
    np.save(tmp_path / "w.npy", w)
    res = cli(
        "eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--sample-weight",
        tmp_path / "w.npy", "--from-logits", "--json", "--bootstrap", "30", "--seed", "11",
        "--confidence", "0.9",
    ).json()  # fmt: skip
    per = ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="none")
    groups = groups_of(11, 0, n)
    reps = reference_replicates(11, 30, groups, per * w, w)
    ci = res["ci"]
    assert ci["loss"] == pytest.approx(percentile(reps, 0.9), rel=1e-10)
    assert ci["perplexity"] == pytest.approx([math.exp(v) for v in ci["loss"]], rel=1e-15)
    correct = (x.argmax(1) == k).astype(float)
    reps = reference_replicates(11, 30, groups, correct * w, w)
    assert ci["accuracy"] == pytest.approx(percentile(reps, 0.9), rel=1e-10)
    assert (ci["replicates"], ci["seed"], ci["level"]) == (30, 11, 0.9)
    assert ci["loss"][0] < res["loss"] < ci["loss"][1]
    assert res["signature_line"] == (
        f"crossentropy:{ce.__version__}|loss:sparse_categorical_crossentropy|logits:yes|"
        "smooth:0|ignore:none|cw:no|sw:yes|dtype:float64|n:300|boot:30|seed:11|ci:0.9"
    )
    text = cli(
        "eval", tmp_path / "x.npy", "--labels", tmp_path / "k.npy", "--from-logits",
    ).out  # fmt: skip
    assert "95% CI [" in text
    assert text.splitlines()[-1] == (
        f"signature: crossentropy:{ce.__version__}|loss:sparse_categorical_crossentropy|"
        "logits:yes|smooth:0|ignore:none|cw:no|sw:no|dtype:float64|n:300|boot:1000|seed:0|ci:0.95"
    )
