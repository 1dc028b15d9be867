"""``--dask``: shards evaluated on a LocalCluster of worker processes give the local numbers,
also when a worker is killed in the middle of the run (Dask reruns its tasks elsewhere)."""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import signal
import threading
import time
from typing import Any

import numpy as np
import pytest
from cli_data import class_ids, logits, parse_result

import crossentropy as ce
from crossentropy.cli import main

distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

pytestmark = pytest.mark.timeout(180)


def _cluster() -> Any:
    return distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",  # loopback only
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,
    )


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _json(argv: list[str]) -> Any:
    code, out, err = _run(argv)
    assert code == 0, err
    return parse_result(out)


@pytest.fixture(scope="module")
def cluster() -> Any:
    with _cluster() as c:
        yield c


@pytest.fixture(scope="module")
def parquet_shards(tmp_path_factory: Any) -> tuple[str, np.ndarray, np.ndarray]:
    d = tmp_path_factory.mktemp("pq")
    xs, ks = [], []
    for i, n in enumerate([3000, 1, 2500, 4000]):
        x = logits(n, 6, seed=100 + i)
        k = class_ids(n, 6, seed=200 + i)
        cols = {f"logit_{j}": x[:, j] for j in range(6)}
        cols["label"] = k
        pq.write_table(pa.table(cols), d / f"part-{i:03d}.parquet", row_group_size=700)
        xs.append(x)
        ks.append(k)
    return str(d / "part-*.parquet"), np.concatenate(xs), np.concatenate(ks)


def test_parquet_shards_on_cluster_equal_local_and_library(
    cluster: Any, parquet_shards: Any
) -> None:
    pattern, x, k = parquet_shards
    argv = ["eval", f"{pattern}:logit_*", "--labels", "label", "--from-logits", "--json"]
    local = _json([*argv, "--chunk-rows", "512"])
    remote = _json([*argv, "--chunk-rows", "512", "--dask", cluster.scheduler_address])
    assert remote == local  # the same function per shard, merged in shard order: bit for bit
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    assert math.isclose(remote["loss"], want, rel_tol=1e-12)
    assert remote["n"] == len(k)
    assert remote["inputs"]["files"] == 4


def test_user_error_on_a_worker_is_one_line(cluster: Any, tmp_path: Any) -> None:
    x = logits(50, 3)
    x[41, 2] = np.nan
    for i, part in enumerate([x[:20], x[20:]]):
        np.save(tmp_path / f"x{i}.npy", part)
        np.save(tmp_path / f"k{i}.npy", class_ids(len(part), 3))
    code, out, err = _run(
        [
            "eval", f"{tmp_path}/x*.npy", "--labels", f"{tmp_path}/k*.npy", "--from-logits",
            "--dask", cluster.scheduler_address,
        ]
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert (
        err.strip()
        == f"crossentropy: error: {tmp_path}/x1.npy: row 21, column 2: the prediction is NaN."
    )


def test_unreachable_scheduler() -> None:
    from crossentropy.cli._dask import evaluate_on_dask
    from crossentropy.cli._errors import CLIError
    from crossentropy.cli._evaluate import Options

    with pytest.raises(
        CLIError, match=r"--dask tcp://127\.0\.0\.1:9: cannot connect to a Dask scheduler"
    ):
        evaluate_on_dask("tcp://127.0.0.1:9", [], Options("sparse", 3), timeout=1.0)


def _eval_tasks(dask_scheduler: Any) -> tuple[dict[str, list[str]], int, int]:
    """Runs on the scheduler: which eval tasks each worker is processing; done and total."""
    processing: dict[str, list[str]] = {}
    done = total = 0
    for key, ts in dask_scheduler.tasks.items():
        if not str(key).startswith("crossentropy-eval-"):
            continue
        total += 1
        if ts.state == "memory":
            done += 1
        elif ts.state == "processing" and ts.processing_on is not None:
            processing.setdefault(ts.processing_on.address, []).append(str(key))
    return processing, done, total


def _story(dask_scheduler: Any, key: str) -> list[tuple[str, str]]:
    """Runs on the scheduler: (new state, stimulus) of each transition of task ``key``."""
    return [(str(t[2]), str(t[4])) for t in dask_scheduler.story(key)]


def test_worker_killed_mid_run_result_unchanged(tmp_path: Any) -> None:
    n_shards, rows, c = 10, 40_000, 16
    xs, ks = [], []
    for i in range(n_shards):
        x = logits(rows, c, seed=300 + i).astype(np.float32)
        k = class_ids(rows, c, seed=400 + i)
        np.save(tmp_path / f"logits-{i:02d}.npy", x)
        np.save(tmp_path / f"labels-{i:02d}.npy", k)
        xs.append(x)
        ks.append(k)
    argv = [
        "eval", f"{tmp_path}/logits-*.npy", "--labels", f"{tmp_path}/labels-*.npy",
        "--from-logits", "--json", "--chunk-rows", "4096",
    ]  # fmt: skip
    local = _json(argv)

    with _cluster() as cluster, distributed.Client(cluster, set_as_default=False) as observer:
        pids_before = observer.run(os.getpid)
        outcome: dict[str, Any] = {}

        def run_cli() -> None:
            outcome["run"] = _run([*argv, "--dask", cluster.scheduler_address])

        thread = threading.Thread(target=run_cli, daemon=True)
        thread.start()
        killed: tuple[str, list[str], int, int] | None = None
        deadline = time.monotonic() + 60
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            processing, done, total = observer.run_on_scheduler(_eval_tasks)
            if processing and total == n_shards and done < total - 1:
                addr, keys = next(iter(processing.items()))
                os.kill(pids_before[addr], signal.SIGKILL)  # a crash, not a clean shutdown
                killed = (addr, keys, done, total)
            else:
                time.sleep(0.005)
        thread.join(timeout=120)
        assert not thread.is_alive(), "the CLI did not finish after the worker was killed"
        assert killed is not None, "the run finished before a worker could be killed"
        addr, keys, done, total = killed
        assert keys  # the killed worker was running an evaluation task ...
        assert done < total  # ... before the run was over
        code, out, err = outcome["run"]
        assert code == 0, err
        remote = parse_result(out)
        pids_after = observer.run(os.getpid)
        story = observer.run_on_scheduler(_story, key=keys[0])
    # the scheduler ran the killed worker's task again, after cleaning up the dead worker
    assert [f for f, _ in story].count("processing") >= 2, story
    assert any(f == "released" and s.startswith("handle-worker-cleanup") for f, s in story), story
    assert pids_before[addr] not in pids_after.values()  # the worker really died
    assert remote == local
    x = np.concatenate(xs).astype(np.float64)
    k = np.concatenate(ks)
    want = float(ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"))
    assert math.isclose(remote["loss"], want, rel_tol=1e-12)


def test_compare_on_cluster_equals_local(cluster: Any, parquet_shards: Any, tmp_path: Any) -> None:
    pattern, x, k = parquet_shards
    rng = np.random.default_rng(5)
    xb = x + rng.normal(scale=0.5, size=x.shape)
    start = 0
    for i, n in enumerate([3000, 1, 2500, 4000]):
        cols = {f"logit_{j}": xb[start : start + n, j] for j in range(6)}
        pq.write_table(pa.table(cols), tmp_path / f"b-{i:03d}.parquet", row_group_size=700)
        start += n
    argv = [
        "compare", f"{pattern}:logit_*", f"{tmp_path}/b-*.parquet", "--labels", "label",
        "--from-logits", "--json", "--chunk-rows", "512", "--bootstrap", "200",
    ]  # fmt: skip
    # B's files have no label column: --labels names a column of A's files, so B needs one too
    code, _, err = _run(argv)
    assert code == 2
    assert "--labels label" in err
    labels = tmp_path / "labels"
    labels.mkdir()
    start = 0
    for i, n in enumerate([3000, 1, 2500, 4000]):
        np.save(labels / f"k-{i:03d}.npy", k[start : start + n])
        start += n
    argv[4] = f"{labels}/k-*.npy"
    local = _json(argv)
    remote = _json([*argv, "--dask", cluster.scheduler_address])
    assert remote == local  # bit for bit, the bootstrap included
    la = ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="none")
    lb = ce.sparse_categorical_crossentropy(k, xb, from_logits=True, reduction="none")
    assert math.isclose(remote["difference"]["loss"], float(np.mean(la - lb)), rel_tol=1e-12)


def test_worker_in_another_folder_reads_relative_shards(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker started in another working directory: the client sends absolute paths; a file
    that the worker cannot read is an error saying "on the worker"."""
    import subprocess
    import sys

    from crossentropy.cli._dask import evaluate_on_dask
    from crossentropy.cli._errors import CLIError
    from crossentropy.cli._evaluate import Options, Unit
    from crossentropy.cli._sources import FileSpec

    data = tmp_path / "data"
    (data / "shards").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for i in range(3):
        np.save(data / "shards" / f"x-{i}.npy", logits(100 + i, 4, seed=i))
        np.save(data / "shards" / f"k-{i}.npy", class_ids(100 + i, 4, seed=10 + i))
    monkeypatch.chdir(data)
    argv = ["eval", "shards/x-*.npy", "--labels", "shards/k-*.npy", "--from-logits", "--json"]
    local = _json(argv)
    with distributed.LocalCluster(
        n_workers=0, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
        silence_logs=logging.CRITICAL,
    ) as cluster:  # fmt: skip
        worker = subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", cluster.scheduler_address,
             "--nworkers", "1", "--nthreads", "1", "--no-dashboard"],
            cwd=elsewhere, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            with distributed.Client(cluster, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=60)
                assert client.run(os.getcwd) != {}
                assert set(client.run(os.getcwd).values()) == {str(elsewhere)}
            remote = _json([*argv, "--dask", cluster.scheduler_address])
            assert remote == local
            gone = Unit(0, "gone.npy", (FileSpec("gone.npy", "npy", (("preds", None),)),))
            with pytest.raises(
                CLIError, match=r"^on the worker tcp://127\.0\.0\.1:\d+: .*gone\.npy: no such file"
            ):
                evaluate_on_dask(
                    cluster.scheduler_address, [gone], Options("sparse", 4), timeout=10
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
