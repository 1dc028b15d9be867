"""Sparse softmax cross-entropy on the CPU: crossentropy's fused kernels beside the usual routes.

Run from the repository root (any Python with numpy; torch, jax+optax, scipy and scikit-learn
are each used when importable, and skipped otherwise)::

    PYTHONPATH=src python benchmarks/speed.py                      # the full table (~8 min)
    PYTHONPATH=src python benchmarks/speed.py --quick              # small shapes only
    PYTHONPATH=src python benchmarks/speed.py --threads 1 --json out.json

For each shape it times, in one process and one run, the forward value ("mean" over the batch)
and the value with its gradient with respect to the logits, for:

- ``crossentropy``: the fused kernels (``validate=True`` and ``False``; the gradient in a new
  array, in a caller's buffer ``out=``, and in place over the logits), and the reference path;
- PyTorch: ``F.cross_entropy`` and ``.backward()`` (``torch.set_num_threads`` = ``--threads``);
- JAX: ``jit`` of ``optax.softmax_cross_entropy_with_integer_labels(...).mean()`` and of
  ``value_and_grad`` of it (XLA's CPU thread pool limited to ``--threads``);
- SciPy: ``scipy.special.log_softmax`` (forward), and ``softmax - onehot`` (gradient);
- scikit-learn: ``log_loss`` of ``scipy.special.softmax`` probabilities (forward only);
- naive NumPy: max-shift, ``exp``, ``sum``, ``log`` (and ``e / s - onehot``).

Each time is the median of ``--repeat`` calls after one warm-up call. Peak memory is the peak
resident set size above the resident size before the call (``/proc/self/clear_refs``), so it
counts every library's allocations alike. The bandwidth floor is measured in the same run: the
time to read the logits once (forward) and to read them and write a gradient of the same size
(``np.copyto`` split across the same threads; into a reused buffer, and into a fresh one, whose
page faults a new gradient array also pays). "floor" in the table is floor time / time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

SHAPES = [
    ((8192, 1000), "float32"),
    ((4096, 32000), "float32"),
    ((1024, 128256), "float32"),
    ((2048, 32000), "float64"),
]
QUICK_SHAPES = [((8192, 1000), "float32"), ((512, 32000), "float32"), ((512, 8000), "float64")]


# --------------------------------------------------------------------------------------------
# Measurement


def _clear_peak() -> int:
    """Reset the peak RSS (Linux) and return the current RSS in bytes (0 if unsupported)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status("VmRSS")
    except OSError:
        return 0


def _status(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def measure(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median seconds of ``repeat`` calls after a warm-up, and the peak extra memory of one."""
    gc.collect()
    base = _clear_peak()
    out = fn()  # warm-up (compilation, caches), also the memory measurement
    peak = (_status("VmHWM") - base) if base else float("nan")
    del out
    gc.collect()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        del out
    return {"median_s": statistics.median(times), "peak_bytes": float(peak)}


def bandwidth_floor(x: np.ndarray, threads: int, repeat: int) -> dict[str, float]:
    """Seconds to read ``x`` once, to copy it into a reused buffer, and into a fresh one."""
    pool = ThreadPoolExecutor(threads)
    n = x.shape[0]
    parts = [slice(t * n // threads, (t + 1) * n // threads) for t in range(threads)]
    dst = np.empty_like(x)
    dst.fill(0)

    def read() -> None:
        list(pool.map(lambda s: np.add.reduce(x[s], axis=None), parts))

    def copy_warm() -> None:
        list(pool.map(lambda s: np.copyto(dst[s], x[s]), parts))

    def copy_fresh() -> np.ndarray:
        y = np.empty_like(x)
        list(pool.map(lambda s: np.copyto(y[s], x[s]), parts))
        return y

    res = {
        "read_s": measure(read, repeat)["median_s"],
        "copy_s": measure(copy_warm, repeat)["median_s"],
        "copy_fresh_s": measure(copy_fresh, repeat)["median_s"],
    }
    pool.shutdown()
    return res


# --------------------------------------------------------------------------------------------
# The contenders: each returns {name: (forward fn or None, value-and-grad fn or None)}


def crossentropy_fns(x: np.ndarray, k: np.ndarray) -> dict[str, tuple[Any, Any]]:
    import crossentropy as ce

    loss = ce.sparse_softmax_cross_entropy_with_logits
    vg = ce.value_and_grad(loss)
    buf = np.empty_like(x)
    scratch = x.copy()  # overwritten by the in-place gradient, call after call

    def reference(f: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            os.environ["CROSSENTROPY_FAST"] = "0"
            try:
                return f()
            finally:
                os.environ["CROSSENTROPY_FAST"] = "1"

        return run

    def in_place() -> Any:
        # From the second call on, the logits are the previous call's gradient: the same work.
        return vg(k, scratch, reduction="mean", out=scratch)

    return {
        "crossentropy": (
            lambda: loss(k, x, reduction="mean"),
            lambda: vg(k, x, reduction="mean"),
        ),
        "crossentropy validate=False": (
            lambda: loss(k, x, reduction="mean", validate=False),
            lambda: vg(k, x, reduction="mean", validate=False),
        ),
        "crossentropy out=buffer": (None, lambda: vg(k, x, reduction="mean", out=buf)),
        "crossentropy in place": (None, in_place),
        "crossentropy reference path": (
            reference(lambda: loss(k, x, reduction="mean")),
            reference(lambda: vg(k, x, reduction="mean")),
        ),
    }


def torch_fns(x: np.ndarray, k: np.ndarray, threads: int) -> dict[str, tuple[Any, Any]]:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    xt = torch.from_numpy(x)
    kt = torch.from_numpy(k)

    def fwd() -> Any:
        with torch.no_grad():
            return F.cross_entropy(xt, kt)

    def fwd_bwd() -> Any:
        xg = xt.detach().requires_grad_(True)
        value = F.cross_entropy(xg, kt)
        value.backward()
        return value.item(), xg.grad

    return {f"PyTorch {torch.__version__.split('+')[0]}": (fwd, fwd_bwd)}


def jax_fns(x: np.ndarray, k: np.ndarray) -> dict[str, tuple[Any, Any]]:
    import jax
    import optax

    xj = jax.device_put(x)
    kj = jax.device_put(k.astype(np.int32))

    def loss(logits: Any, labels: Any) -> Any:
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    f = jax.jit(loss)
    vg = jax.jit(jax.value_and_grad(loss))
    return {
        f"JAX {jax.__version__} (optax)": (
            lambda: f(xj, kj).block_until_ready(),
            lambda: jax.block_until_ready(vg(xj, kj)),
        )
    }


def scipy_fns(x: np.ndarray, k: np.ndarray) -> dict[str, tuple[Any, Any]]:
    import scipy
    from scipy.special import log_softmax

    rows = np.arange(x.shape[0])

    def fwd() -> Any:
        return -log_softmax(x, axis=1)[rows, k].mean()

    def fwd_bwd() -> Any:
        ls = log_softmax(x, axis=1)
        value = -ls[rows, k].mean()
        g = np.exp(ls)
        g[rows, k] -= 1.0
        g /= x.shape[0]
        return value, g

    return {f"SciPy {scipy.__version__} log_softmax": (fwd, fwd_bwd)}


def sklearn_fns(x: np.ndarray, k: np.ndarray) -> dict[str, tuple[Any, Any]]:
    import sklearn
    from scipy.special import softmax
    from sklearn.metrics import log_loss

    labels = np.arange(x.shape[1])
    return {
        f"scikit-learn {sklearn.__version__} log_loss": (
            lambda: log_loss(k, softmax(x, axis=1), labels=labels),
            None,
        )
    }


def numpy_fns(x: np.ndarray, k: np.ndarray) -> dict[str, tuple[Any, Any]]:
    rows = np.arange(x.shape[0])

    def fwd() -> Any:
        m = x.max(axis=1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=1)
        return (np.log(s) + m[:, 0] - x[rows, k]).mean()

    def fwd_bwd() -> Any:
        m = x.max(axis=1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=1, keepdims=True)
        value = (np.log(s[:, 0]) + m[:, 0] - x[rows, k]).mean()
        g = e / s
        g[rows, k] -= 1.0
        g /= x.shape[0]
        return value, g

    return {"naive NumPy": (fwd, fwd_bwd)}


# --------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cores": len(os.sched_getaffinity(0)),
    }
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        info["memory_gib"] = round(_meminfo("MemTotal") / 2**30, 1)
        info["load_before"] = os.getloadavg()
    except OSError:
        pass
    try:
        import numba

        info["numba"] = numba.__version__
    except ImportError:
        info["numba"] = None
    return info


def _meminfo(key: str) -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def run(shapes: list[tuple[tuple[int, int], str]], threads: int, repeat: int) -> dict[str, Any]:
    import crossentropy as ce

    ce._kernels.set_num_threads(threads)
    results: dict[str, Any] = {"machine": machine(), "threads": threads, "cases": []}
    t0 = time.perf_counter()
    import crossentropy  # noqa: F401  (already imported: the import time is measured apart)

    for (n, c), dtype in shapes:
        rng = np.random.default_rng(0)
        x = (rng.standard_normal((n, c)) * 2).astype(dtype)
        k = rng.integers(0, c, n)
        case: dict[str, Any] = {"shape": [n, c], "dtype": dtype, "rows": []}
        case["floor"] = bandwidth_floor(x, threads, repeat)
        fns: dict[str, tuple[Any, Any]] = {}
        fns.update(crossentropy_fns(x, k))
        makers: list[tuple[str, Callable[..., dict[str, tuple[Any, Any]]]]] = [
            ("torch", lambda x, k: torch_fns(x, k, threads)),
            ("jax", jax_fns),
            ("scipy", scipy_fns),
            ("sklearn", sklearn_fns),
            ("numpy", numpy_fns),
        ]
        for name, maker in makers:
            try:
                fns.update(maker(x, k))
            except ImportError:
                print(f"  ({name} not installed: skipped)", file=sys.stderr)
        for name, (fwd, vg) in fns.items():
            row: dict[str, Any] = {"name": name}
            for label, fn in (("forward", fwd), ("value_and_grad", vg)):
                if fn is None:
                    continue
                slow = n * c > 50_000_000 and ("reference" in name or "scikit" in name)
                row[label] = measure(fn, 1 if slow else repeat)
            case["rows"].append(row)
            print(f"  {n}x{c} {dtype} {name}: " + ", ".join(
                f"{lab} {row[lab]['median_s'] * 1e3:.1f} ms"
                for lab in ("forward", "value_and_grad") if lab in row
            ), file=sys.stderr)  # fmt: skip
        results["cases"].append(case)
        del x, fns
        gc.collect()
    results["seconds"] = time.perf_counter() - t0
    results["machine"]["load_after"] = os.getloadavg()
    return results


def import_time() -> float:
    """Seconds for ``import crossentropy`` in a fresh interpreter (median of 5)."""
    import subprocess

    code = (
        "import time; t = time.perf_counter(); import crossentropy; print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(float(out.stdout))
    return statistics.median(times)


def table(results: dict[str, Any]) -> str:
    """The results as Markdown: one table per shape, times in ms, ratios to crossentropy."""
    lines = []
    for case in results["cases"]:
        n, c = case["shape"]
        fl = case["floor"]
        nbytes = n * c * np.dtype(case["dtype"]).itemsize
        lines.append(f"\n#### ({n}, {c}) {case['dtype']} ({nbytes / 2**20:.0f} MiB of logits)\n")
        lines.append(
            f"Bandwidth floor, same run: read {fl['read_s'] * 1e3:.1f} ms, read + write "
            f"{fl['copy_s'] * 1e3:.1f} ms (into a new array: {fl['copy_fresh_s'] * 1e3:.1f} ms).\n"
        )
        lines.append(
            "| implementation | forward ms | × vs ours | floor | value+grad ms | × vs ours "
            "| floor | peak extra MiB |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        ours = {r["name"]: r for r in case["rows"]}["crossentropy"]
        for r in case["rows"]:
            cells = [r["name"]]
            for label, floor in (
                ("forward", fl["read_s"]),
                ("value_and_grad", fl["copy_fresh_s"]),
            ):
                if label not in r:
                    cells += ["", "", ""]
                    continue
                t = r[label]["median_s"]
                if r["name"] in ("crossentropy out=buffer", "crossentropy in place"):
                    floor = fl["copy_s"]
                cells += [
                    f"{t * 1e3:.1f}",
                    f"{t / ours[label]['median_s']:.1f}",
                    f"{floor / t:.0%}",
                ]
            mem = max(r[lab]["peak_bytes"] for lab in ("forward", "value_and_grad") if lab in r)
            cells.append(f"{mem / 2**20:.0f}" if mem == mem else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    args = parser.parse_args()
    os.environ.setdefault(
        "XLA_FLAGS",
        f"--xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'} "
        f"intra_op_parallelism_threads={args.threads}",
    )
    try:
        import jax

        jax.config.update("jax_enable_x64", True)  # the float64 case stays float64
    except ImportError:
        pass
    imp = import_time()
    results = run(QUICK_SHAPES if args.quick else SHAPES, args.threads, args.repeat)
    results["import_crossentropy_s"] = imp
    m = results["machine"]
    print(
        f"Machine: {m.get('cpu')}, {m['cores']} cores, {m.get('memory_gib')} GiB; "
        f"{m['platform']}; Python {m['python']}, NumPy {m['numpy']}, numba {m['numba']}; "
        f"{results['threads']} threads; load average before/after "
        f"{m.get('load_before', ('?',))[0]:.2f}/{m.get('load_after', ('?',))[0]:.2f}. "
        f"`import crossentropy`: {imp * 1e3:.0f} ms."
    )
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
