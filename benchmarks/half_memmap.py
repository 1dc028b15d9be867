"""float16 / bfloat16 logits from a memory-mapped .npy file: time and peak memory, per path.

Run from the repository root (needs numba; ml_dtypes for bfloat16)::

    PYTHONPATH=src python benchmarks/half_memmap.py                    # 5000 x 32000 (issue 14)
    PYTHONPATH=src python benchmarks/half_memmap.py --rows 1000 --no-reference

Writes ``(rows, classes)`` logits once per dtype (float32, float16, bfloat16) into a temporary
directory, then for each dtype and path (the fused kernels, and the reference path with
``CROSSENTROPY_FAST=0``) starts a fresh process that opens the file with ``np.load(...,
mmap_mode=--mmap-mode)`` and times, one after the other and each the best of ``--repeat`` calls (the
file is in the page cache after the first):

- ``forward``: ``sparse_categorical_crossentropy(..., from_logits=True, reduction="mean")``;
- ``value_and_grad``: the same with its gradient in a new array (in the logits' dtype);
- ``vg out=memmap``: the gradient into a writable memory-mapped file (``open_memmap``),
  the route for files larger than memory (``np.asarray`` of the memmap: ``out`` must be a plain
  ndarray; the view shares the file).

Peak memory is the process's anonymous resident memory (``RssAnon`` of ``/proc/self/status``,
sampled every millisecond by a thread): the pages of the mapped file are the page cache's, which
the kernel reclaims, so they are not what limits the size of a file. "elements/s" is
rows * classes / time. The float32 rows are the yardstick: the issue asks half-precision inputs
for at least float32's elements per second.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

CHILD = r"""
import sys, time, threading, json
import numpy as np
import crossentropy as ce

path, out_path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])

def anon():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0

peak = [0]
stop = [False]
def sample():
    while not stop[0]:
        peak[0] = max(peak[0], anon())
        time.sleep(0.001)

x = np.load(path, mmap_mode=sys.argv[4])
if x.dtype.kind == "V":  # bfloat16 saved as raw 2-byte void
    import ml_dtypes
    x = x.view(ml_dtypes.bfloat16)
n, c = x.shape
k = np.random.default_rng(1).integers(0, c, n)
vg = ce.value_and_grad(ce.sparse_categorical_crossentropy)
bf16 = x.dtype.name == "bfloat16"
gdt = np.uint16 if bf16 else x.dtype
g_out = np.lib.format.open_memmap(out_path, mode="w+", dtype=gdt, shape=x.shape)
g_out = g_out.view(x.dtype) if bf16 else g_out
calls = {
    "forward": lambda: ce.sparse_categorical_crossentropy(k, x, from_logits=True, reduction="mean"),
    "value_and_grad": lambda: vg(k, x, from_logits=True, reduction="mean"),
    "vg out=memmap": lambda: vg(k, x, from_logits=True, reduction="mean", out=np.asarray(g_out)),
}
# warm-up on a few rows: compiles (or loads) the kernels outside the measurement
ce.sparse_categorical_crossentropy(k[:64], x[:64], from_logits=True)
vg(k[:64], x[:64], from_logits=True)
vg(k[:64], x[:64], from_logits=True, out=np.asarray(g_out[:64]))
res = {}
for name, f in calls.items():
    base = anon()
    peak[0] = base
    stop[0] = False
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = f()
        best = min(best, time.perf_counter() - t0)
        del r
    stop[0] = True
    t.join()
    res[name] = {"seconds": best, "peak_anon_extra": peak[0] - base}
print(json.dumps(res))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--classes", type=int, default=32000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-reference", action="store_true", help="skip the reference path")
    ap.add_argument(
        "--mmap-mode",
        default="c",
        help="np.load's mmap_mode (default 'c', copy-on-write: nothing is copied unless written; "
        "'r' makes read-only arrays, which the float32 kernels take once they accept read-only "
        "input)",
    )
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    dtypes = ["float32", "float16"]
    try:
        import ml_dtypes

        dtypes.append("bfloat16")
    except ImportError:
        ml_dtypes = None
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        base = (rng.standard_normal((a.rows, a.classes), dtype=np.float32) * 3).astype(np.float32)
        for dt in dtypes:
            p = os.path.join(tmp, f"{dt}.npy")
            arr = base.astype(ml_dtypes.bfloat16 if dt == "bfloat16" else dt)
            np.save(p, arr)
            del arr
        del base
        paths = ["fast"] + ([] if a.no_reference else ["reference"])
        for dt in dtypes:
            for path in paths:
                env = {**os.environ, "CROSSENTROPY_FAST": "1" if path == "fast" else "0"}
                out = os.path.join(tmp, "grad.npy")
                repeat = a.repeat if path == "fast" else 1
                cmd = [sys.executable, "-c", textwrap.dedent(CHILD)]
                cmd += [os.path.join(tmp, f"{dt}.npy"), out, str(repeat), a.mmap_mode]
                r = subprocess.run(cmd, env=env, capture_output=True, text=True)
                if r.returncode != 0:
                    print(f"{dt} {path}: failed\n{r.stderr[-2000:]}", file=sys.stderr)
                    continue
                for name, v in json.loads(r.stdout).items():
                    row = {"dtype": dt, "path": path, "call": name, **v}
                    row["elements_per_s"] = a.rows * a.classes / v["seconds"]
                    results.append(row)
                    print(
                        f"{dt:8s} {path:9s} {name:15s} {v['seconds'] * 1e3:9.1f} ms "
                        f"{row['elements_per_s'] / 1e9:6.2f} G/s "
                        f"peak anon +{v['peak_anon_extra'] / 2**20:8.1f} MiB",
                        flush=True,
                    )
    f32 = {
        r["call"]: r["elements_per_s"]
        for r in results
        if r["dtype"] == "float32" and r["path"] == "fast"
    }
    for r in results:
        if r["path"] == "fast" and r["dtype"] != "float32" and r["call"] in f32:
            print(f"{r['dtype']} {r['call']}: {r['elements_per_s'] / f32[r['call']]:.2f}x float32")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": a.rows, "classes": a.classes, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
