"""Throughput and peak memory of ``crossentropy eval`` on a generated .npy of 2 GB or more.

Generates float32 logits (rows x classes) and int64 class ids in a temporary folder, written in
chunks (the generator never holds the file in memory), then measures in subprocesses:

- ``read``: reading the predictions file alone, sequentially in 16 MiB blocks (``readinto``);
- ``eval``: ``python -m crossentropy eval preds.npy --labels labels.npy --from-logits --json``;
- ``import``: the interpreter with numpy, rich and crossentropy.cli imported (the memory floor);
- with ``--compare``, also ``compare``: ``python -m crossentropy compare preds.npy preds-b.npy
  --labels labels.npy --from-logits --json`` against a second file of the same size (model B:
  other logits on the same labels), and its time as a multiple of one ``eval``.

and prints rows/s for each, their ratio, and the peak resident memory (``ru_maxrss`` of each
child, from ``os.wait4``). The files are deleted at the end. Not part of the test suite.

Usage::

    python benchmarks/cli_throughput.py [--gb 2.05] [--classes 100] [--keep DIR] [--compare]

The file is in the page cache when read (it was just written), for both ``read`` and ``eval``:
the comparison is of the evaluation's compute against memory-speed reading.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

READ_SCRIPT = """
import sys
buf = bytearray(16 * 2**20)
view = memoryview(buf)
with open(sys.argv[1], "rb", buffering=0) as f:
    while f.readinto(view):
        pass
"""

IMPORT_SCRIPT = "import numpy, rich, crossentropy.cli._evaluate, crossentropy.cli._output"

# The library's loss alone over the same chunks as the CLI (no checks, no statistics): what the
# CLI adds on top of the loss computation itself.
LIBRARY_SCRIPT = """
import math
import sys
import numpy as np
import crossentropy as ce
from crossentropy.cli._evaluate import auto_chunk_rows
x = np.load(sys.argv[1], mmap_mode="r")
k = np.load(sys.argv[2], mmap_mode="r")
step = auto_chunk_rows(x.shape[1])
sums = []
for a in range(0, x.shape[0], step):
    xc = np.array(x[a:a + step], dtype=np.float64)
    sums.append(float(ce.sparse_categorical_crossentropy(
        np.array(k[a:a + step]), xc, from_logits=True, reduction="sum")))
print(math.fsum(sums) / x.shape[0])
"""


def run_child(argv: list[str]) -> tuple[float, float, bytes]:
    """(wall seconds, peak RSS in MiB, stdout) of a child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{argv} failed ({proc.returncode}): {err.decode()[-2000:]}")
    rss_kib = usage.ru_maxrss  # Linux: KiB
    return wall, rss_kib / 1024, out


def generate(folder: str, rows: int, classes: int, seed: int = 0) -> None:
    """Write the files (run in a child process, so that this process stays small: a child
    spawned later inherits its parent's peak RSS in ``ru_maxrss``). Seed 0 writes preds.npy and
    labels.npy; another seed writes preds-b.npy for the labels already written."""
    preds = os.path.join(folder, "preds.npy" if seed == 0 else "preds-b.npy")
    labels = os.path.join(folder, "labels.npy")
    rng = np.random.default_rng(seed)
    m = np.lib.format.open_memmap(preds, mode="w+", dtype=np.float32, shape=(rows, classes))
    if seed == 0:
        k = np.lib.format.open_memmap(labels, mode="w+", dtype=np.int64, shape=(rows,))
    else:
        k = np.load(labels, mmap_mode="r+")
    step = max(1, (64 * 2**20) // (4 * classes))
    for a in range(0, rows, step):
        b = min(rows, a + step)
        if seed == 0:
            k[a:b] = rng.integers(0, classes, b - a)
        x = rng.standard_normal((b - a, classes), dtype=np.float32)
        x[np.arange(b - a), k[a:b]] += 2.0 if seed == 0 else 1.9
        m[a:b] = x
    m.flush()
    k.flush()


def describe_machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"NumPy {np.__version__}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gb", type=float, default=2.05, help="size of the predictions file (GB)")
    ap.add_argument("--classes", type=int, default=100)
    ap.add_argument("--keep", metavar="DIR", help="generate in DIR and keep the files")
    ap.add_argument("--compare", action="store_true", help="also time compare against eval")
    ap.add_argument("--generate", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.generate:
        generate(
            args.generate[0], int(args.generate[1]), int(args.generate[2]), int(args.generate[3])
        )
        return
    classes = args.classes
    rows = int(args.gb * 1e9) // (4 * classes)
    folder = args.keep or tempfile.mkdtemp(prefix="crossentropy-bench-")
    os.makedirs(folder, exist_ok=True)
    try:
        t0 = time.perf_counter()
        run_child([sys.executable, __file__, "--generate", folder, str(rows), str(classes), "0"])
        if args.compare:
            run_child(
                [sys.executable, __file__, "--generate", folder, str(rows), str(classes), "1"]
            )
        preds = os.path.join(folder, "preds.npy")
        labels = os.path.join(folder, "labels.npy")
        size = os.path.getsize(preds)
        print(f"machine: {describe_machine()}")
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"data: {rows:,} rows x {classes} float32 logits = {size / 1e9:.2f} GB "
            f"(+ {os.path.getsize(labels) / 1e6:.0f} MB int64 labels), generated in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        env_py = sys.executable
        imp_wall, imp_rss, _ = run_child([env_py, "-c", IMPORT_SCRIPT])
        read_wall, read_rss, _ = run_child([env_py, "-c", READ_SCRIPT, preds])
        eval_argv = [
            env_py, "-m", "crossentropy", "eval", preds, "--labels", labels,
            "--from-logits", "--json", "--no-progress",
        ]  # fmt: skip
        eval_wall, eval_rss, out = run_child(eval_argv)
        lib_wall, lib_rss, lib_out = run_child([env_py, "-c", LIBRARY_SCRIPT, preds, labels])
        res = json.loads(out)
        assert res["n"] == rows, res["n"]
        print(f"{'':8} {'seconds':>9} {'rows/s':>14} {'MB/s':>9} {'peak RSS MiB':>13}")
        for name, wall, rss in [
            ("read", read_wall, read_rss),
            ("eval", eval_wall, eval_rss),
            ("loss", lib_wall, lib_rss),
        ]:
            print(f"{name:8} {wall:9.2f} {rows / wall:14,.0f} {size / wall / 1e6:9.0f} {rss:13.0f}")
        print(f"{'import':8} {imp_wall:9.2f} {'':>14} {'':>9} {imp_rss:13.0f}")
        print(
            f"eval/read time ratio: {eval_wall / read_wall:.1f}x; eval peak RSS "
            f"{eval_rss:.0f} MiB for a {size / 2**20:.0f} MiB file "
            f"(interpreter + imports: {imp_rss:.0f} MiB)"
        )
        print(
            f"eval/loss time ratio: {eval_wall / lib_wall:.2f}x (loss: the library's "
            "sparse_categorical_crossentropy alone over the same chunks)"
        )
        if args.compare:
            cmp_argv = [
                env_py, "-m", "crossentropy", "compare", preds,
                os.path.join(folder, "preds-b.npy"), "--labels", labels, "--from-logits",
                "--json", "--no-progress",
            ]  # fmt: skip
            cmp_wall, cmp_rss, cmp_out = run_child(cmp_argv)
            cmp = json.loads(cmp_out)
            boot = cmp["difference"]["bootstrap"]
            print(
                f"compare {cmp_wall:9.2f} s, peak RSS {cmp_rss:.0f} MiB: "
                f"{cmp_wall / eval_wall:.2f}x one eval; mean loss A - B "
                f"{cmp['difference']['loss']!r}, {boot['level']:g} CI {boot['loss_ci']}, "
                f"p {boot['loss_p_value']:.3g}"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(
            f"mean loss {res['loss']!r} (library alone: {float(lib_out)!r}), "
            f"accuracy {res['accuracy']:.4f}"
        )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
