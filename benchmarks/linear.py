"""Linear + cross-entropy (a language-model head): time and peak memory, forward + backward.

Run from the repository root (numpy, numba; torch 2.13 for its two contenders, matplotlib for
the plot)::

    PYTHONPATH=src python benchmarks/linear.py                   # the three shapes + the sweep
    PYTHONPATH=src python benchmarks/linear.py --quick           # small shapes only
    PYTHONPATH=src python benchmarks/linear.py --shapes 4096x1024x32000 --no-sweep

Contenders, each the value ("mean" over N tokens, float32) and the gradients with respect to the
hidden states (N, D) and the weight (V, D):

- ``matmuls``: the three matmuls alone (``h @ W.T``, ``G @ W``, ``G.T @ h`` on the full
  ``N x V`` arrays, no softmax): the floor the issue measures against;
- ``crossentropy``: ``ce.value_and_grad(ce.linear_cross_entropy)`` (token chunks, default
  chunk size);
- ``materialised``: the logits in full, ``ce.value_and_grad`` of
  ``sparse_softmax_cross_entropy_with_logits`` on them, then the two gradient matmuls;
- ``torch-reference`` / ``torch-chunked``: ``F.linear_cross_entropy(...).backward()`` with
  ``options=None`` and ``options=torch.nn.LinearCrossEntropyOptions()``.

``crossentropy-2%`` is the same with ``chunk_size = N // 50`` (a chunk of 2% of the logits).

Each contender runs in its own subprocess (one warm-up call at min(N, 256) tokens, then one timed
call: on this shared 2-core machine, one run), which reports the wall time and its peak extra
memory: the peak resident set size (``VmHWM``, reset through ``/proc/self/clear_refs`` after
the warm-up) above the resident size just before the call, less the bytes of the gradients
it returns (``N D + V D`` floats), so "extra" is what a
caller pays beyond inputs and gradients. The sweep (``--sweep``) repeats that at N=1024,
D=256 for vocabularies from 4k to 128k and plots peak extra memory against V
(``docs/linear_memory.png``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = (
    "matmuls",
    "crossentropy",
    "crossentropy-2%",
    "materialised",
    "torch-reference",
    "torch-chunked",
)


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM, the peak resident size


def _peak() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _inputs(n: int, d: int, v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    h = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal((v, d), dtype=np.float32) * np.float32(1 / np.sqrt(d))
    k = rng.integers(0, v, n)
    return h, w, k


def _runner(name: str) -> Any:
    if name == "matmuls":

        def run(h: np.ndarray, w: np.ndarray, k: np.ndarray) -> Any:
            g = h @ w.T
            return g @ w, g.T @ h

        return run
    if name.startswith("crossentropy") or name == "materialised":
        import crossentropy as ce

        if name == "crossentropy":
            vg = ce.value_and_grad(ce.linear_cross_entropy)
            return lambda h, w, k: vg(h, w, k)[1]
        if name == "crossentropy-2%":  # a chunk of 2% of the logits: 0.02 N tokens
            vg = ce.value_and_grad(ce.linear_cross_entropy)
            return lambda h, w, k: vg(h, w, k, chunk_size=max(1, h.shape[0] // 50))[1]
        vs = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)

        def mat(h: np.ndarray, w: np.ndarray, k: np.ndarray) -> Any:
            logits = h @ w.T
            _, g = vs(k, logits, reduction="mean", out=logits)  # in place: the kindest case
            return g @ w, g.T @ h

        return mat
    import torch
    import torch.nn.functional as F

    opts = torch.nn.LinearCrossEntropyOptions() if name == "torch-chunked" else None

    def tr(h: Any, w: Any, k: Any) -> Any:
        h.grad = None
        w.grad = None
        F.linear_cross_entropy(h, w, k, options=opts).backward()
        return h.grad, w.grad

    return tr


def worker(name: str, n: int, d: int, v: int, threads: int) -> dict[str, Any]:
    """One contender, one shape: warm up on a small shape, then one timed call."""
    run = _runner(name)
    if name.startswith("torch"):
        import torch

        torch.set_num_threads(threads)

        def conv(arrs: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
            h, w, k = (torch.from_numpy(a) for a in arrs)
            return h.requires_grad_(), w.requires_grad_(), k
    else:

        def conv(arrs: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
            return arrs

    args = conv(_inputs(n, d, v))
    run(*conv(_inputs(min(n, 256), d, v)))  # warm-up: compiled kernels, BLAS buffers, caches
    before = _rss()
    _reset_peak()
    t0 = time.perf_counter()
    grads = run(*args)
    dt = time.perf_counter() - t0
    peak = _peak()
    grad_bytes = 4 * (n * d + v * d)
    del grads
    return {
        "contender": name,
        "n": n,
        "d": d,
        "v": v,
        "seconds": dt,
        "extra_bytes": max(0, peak - before - grad_bytes),
        "logits_bytes": 4 * n * v,
    }


def spawn(name: str, n: int, d: int, v: int, threads: int) -> dict[str, Any] | None:
    # Large blocks always mmapped, so that freed memory leaves the resident set at once and the
    # warm-up's buffers do not hide the timed call's (glibc would otherwise keep them).
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT / "src"),
        OMP_NUM_THREADS=str(threads),
        MALLOC_MMAP_THRESHOLD_="131072",
    )
    cmd = [sys.executable, __file__, "--worker", name, f"{n}x{d}x{v}", "--threads", str(threads)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if res.returncode:
        print(f"  {name}: failed ({res.stderr.strip().splitlines()[-1:]})", file=sys.stderr)
        return None
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


def _have_torch() -> bool:
    try:
        import torch

        return hasattr(torch.nn, "LinearCrossEntropyOptions")
    except ImportError:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", nargs=2, metavar=("CONTENDER", "NxDxV"))
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--shapes", nargs="*", default=None)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-sweep", dest="sweep", action="store_false")
    ap.add_argument("--contenders", nargs="*", default=None, help="a subset of CONTENDERS")
    ap.add_argument(
        "--skip", nargs="*", default=[], metavar="SHAPE:CONTENDER", help="pairs not to run"
    )
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/linear-2core.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs/linear_memory.png")
    args = ap.parse_args(argv)
    if args.worker:
        n, d, v = (int(s) for s in args.worker[1].split("x"))
        print(json.dumps(worker(args.worker[0], n, d, v, args.threads)))
        return 0
    shapes = args.shapes or (
        ["1024x512x8000"]
        if args.quick
        else ["1024x512x8000", "4096x1024x32000", "2048x2048x128256"]
    )
    contenders = [c for c in CONTENDERS if _have_torch() or not c.startswith("torch")]
    if args.contenders is not None:
        contenders = [c for c in contenders if c in args.contenders]
    results: list[dict[str, Any]] = []
    for shape in shapes:
        n, d, v = (int(s) for s in shape.split("x"))
        print(f"N={n} D={d} V={v}", flush=True)
        for name in contenders:
            if f"{shape}:{name}" in args.skip:
                continue
            r = spawn(name, n, d, v, args.threads)
            if r is None:
                continue
            results.append(r)
            print(
                f"  {name:16s} {r['seconds']:8.2f} s  extra {r['extra_bytes'] / 2**20:9.1f} MiB"
                f"  ({100 * r['extra_bytes'] / r['logits_bytes']:.2f}% of the logits)",
                flush=True,
            )
    sweep: list[dict[str, Any]] = []
    if args.sweep and not args.quick:
        for v in (4096, 16384, 32768, 65536, 131072):
            print(f"sweep N=1024 D=256 V={v}", flush=True)
            for name in contenders:
                r = spawn(name, 1024, 256, v, args.threads)
                if r is not None:
                    sweep.append(r)
    meta = {
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "threads": args.threads,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"meta": meta, "results": results, "sweep": sweep}, indent=1))
    if sweep:
        plot(sweep, args.plot)
    return 0


def plot(sweep: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name in CONTENDERS:
        pts = sorted((r["v"], r["extra_bytes"] / 2**20) for r in sweep if r["contender"] == name)
        if pts:
            ax.plot(*zip(*pts, strict=True), marker="o", label=name)
    vs = sorted({r["v"] for r in sweep})
    ax.plot(vs, [1024 * v * 4 / 2**20 for v in vs], "k:", label="N x V float32 logits")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("vocabulary size V (N=1024 tokens, D=256, float32)")
    ax.set_ylabel("peak memory above inputs and gradients (MiB)")
    ax.set_title("linear + cross-entropy, forward + backward")
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
