"""Sparse softmax cross-entropy on the CPU: crossentropy's fused kernels beside the usual routes.

Run from the repository root (any Python with numpy; torch, jax+optax, scipy and scikit-learn
are each used when importable, and skipped otherwise)::

    PYTHONPATH=src python benchmarks/speed.py                      # the full table (~6 min)
    PYTHONPATH=src python benchmarks/speed.py --quick              # small shapes only
    PYTHONPATH=src python benchmarks/speed.py --threads 1 --json out.json

For each shape it times, in one process and one run, the forward value ("mean" over the batch)
and the value with its gradient with respect to the logits, for:

- ``crossentropy``: the fused kernels (``validate=True`` and ``False``; the gradient in a new
  array, in a caller's buffer ``out=``, and in place over the logits), and the reference path
  (``CROSSENTROPY_FAST=0``; up to 50 million logits: above, one call takes tens of seconds);
- PyTorch: ``F.cross_entropy`` and ``.backward()`` (``torch.set_num_threads`` = ``--threads``);
- JAX: ``jit`` of ``optax.softmax_cross_entropy_with_integer_labels(...).mean()`` and of
  ``value_and_grad`` of it (XLA's CPU thread pool limited to ``--threads``);
- SciPy: ``scipy.special.log_softmax`` (forward), and ``softmax - onehot`` (gradient);
- scikit-learn: ``log_loss`` of ``scipy.special.softmax`` probabilities (forward only);
- naive NumPy: max-shift, ``exp``, ``sum``, ``log`` (and ``e / s - onehot``).

Each time is the median of ``--repeat`` calls after a warm-up call; the calls are interleaved
(one call of every contender per round, in a new random order each round), so that all see the
same machine: on a shared machine the load drifts, and the cost of fresh memory (page faults)
depends on what ran just before. Peak memory ("peak
extra") is measured on one more call: the larger of the peak resident set size above the
resident size before the call (``/proc/self/clear_refs``; it sees every library's allocations,
but not memory an allocator reuses) and of ``tracemalloc``'s peak (NumPy's allocations, reused
or not); the result the call returns (the gradient) is counted.

The bandwidth floor is measured in the same run: the time to read the logits once (forward),
and to read them and write a gradient of the same size (``np.copyto`` split across the same
threads; into a reused buffer, and into a fresh one, whose page faults a new gradient array also
pays). "floor" in the table is floor time / time: the fraction of the floor reached.
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
import tracemalloc
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
BCE_SHAPES = [((8192, 4096), "float32")]  # sigmoid cross-entropy (multi-label), pos_weight
QUICK_BCE_SHAPES = [((1024, 4096), "float32")]


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


def measure_memory(fn: Callable[[], Any], warm_up: bool = True) -> tuple[float, float]:
    """Peak extra bytes of one call of ``fn`` (after a warm-up call), and that call's seconds."""
    gc.collect()
    if warm_up:
        fn()  # compilation, caches, pools
        gc.collect()
    tracemalloc.start()
    base = _clear_peak()
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    rss_peak = (_status("VmHWM") - base) if base else 0
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del out
    gc.collect()
    return float(max(rss_peak, traced_peak)), seconds


def time_once(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    out = fn()
    t = time.perf_counter() - t0
    del out
    return t


def measure(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Median seconds of ``repeat`` calls after a warm-up, and the peak extra memory of one."""
    peak, _ = measure_memory(fn)
    times = [time_once(fn) for _ in range(repeat)]
    return {"median_s": statistics.median(times), "peak_bytes": peak}


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
            ce._kernels.ENABLED = False
            try:
                return f()
            finally:
                ce._kernels.ENABLED = True

        return run

    def in_place() -> Any:
        # From the second call on, the logits are the previous call's gradient: the same work.
        return vg(k, scratch, reduction="mean", out=scratch)

    fns: dict[str, tuple[Any, Any]] = {
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
    }
    if x.size <= 50_000_000:  # above, a call takes tens of seconds: left out to bound the run
        fns["crossentropy reference path"] = (
            reference(lambda: loss(k, x, reduction="mean")),
            reference(lambda: vg(k, x, reduction="mean")),
        )
    return fns


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
# Sigmoid (binary) cross-entropy from logits, with pos_weight: labels z of the logits' shape


def bce_fns(x: np.ndarray, z: np.ndarray, threads: int) -> dict[str, tuple[Any, Any]]:
    import crossentropy as ce

    pw = np.linspace(0.5, 2.0, x.shape[1])
    loss = ce.sigmoid_cross_entropy_with_logits
    vg = ce.value_and_grad(loss)
    buf = np.empty_like(x)
    fns: dict[str, tuple[Any, Any]] = {
        "crossentropy": (
            lambda: loss(z, x, pos_weight=pw, reduction="mean"),
            lambda: vg(z, x, pos_weight=pw, reduction="mean"),
        ),
        "crossentropy validate=False": (
            lambda: loss(z, x, pos_weight=pw, reduction="mean", validate=False),
            lambda: vg(z, x, pos_weight=pw, reduction="mean", validate=False),
        ),
        "crossentropy out=buffer": (
            None,
            lambda: vg(z, x, pos_weight=pw, reduction="mean", out=buf),
        ),
    }
    try:
        import torch
        import torch.nn.functional as F

        torch.set_num_threads(threads)
        xt, zt, pwt = torch.from_numpy(x), torch.from_numpy(z), torch.from_numpy(pw.astype(x.dtype))

        def t_fwd() -> Any:
            with torch.no_grad():
                return F.binary_cross_entropy_with_logits(xt, zt, pos_weight=pwt)

        def t_vg() -> Any:
            xg = xt.detach().requires_grad_(True)
            value = F.binary_cross_entropy_with_logits(xg, zt, pos_weight=pwt)
            value.backward()
            return value.item(), xg.grad

        fns[f"PyTorch {torch.__version__.split('+')[0]}"] = (t_fwd, t_vg)
    except ImportError:
        pass
    try:
        import jax
        import optax

        xj, zj = jax.device_put(x), jax.device_put(z)

        def j_loss(logits: Any, labels: Any) -> Any:  # optax has no pos_weight
            return optax.sigmoid_binary_cross_entropy(logits, labels).mean()

        jf, jvg = jax.jit(j_loss), jax.jit(jax.value_and_grad(j_loss))
        fns[f"JAX {jax.__version__} (optax, no pos_weight)"] = (
            lambda: jf(xj, zj).block_until_ready(),
            lambda: jax.block_until_ready(jvg(xj, zj)),
        )
    except ImportError:
        pass

    def np_fwd() -> Any:  # TensorFlow's formula, pos_weight as in tf.nn.weighted_cross_entropy
        log_weight = 1.0 + (pw - 1.0) * z
        sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0.0)
        return ((1.0 - z) * x + log_weight * sp).mean()

    def np_vg() -> Any:
        value = np_fwd()
        s = 1.0 / (1.0 + np.exp(-x))
        g = ((1.0 - z) * s - pw * z * (1.0 - s)) / x.size
        return value, g

    fns["naive NumPy"] = (np_fwd, np_vg)
    return fns


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


def run(
    shapes: list[tuple[tuple[int, int], str]],
    bce_shapes: list[tuple[tuple[int, int], str]],
    threads: int,
    repeat: int,
) -> dict[str, Any]:
    import crossentropy as ce

    ce._kernels.set_num_threads(threads)
    results: dict[str, Any] = {"machine": machine(), "threads": threads, "cases": []}
    t0 = time.perf_counter()
    import crossentropy  # noqa: F401  (already imported: the import time is measured apart)

    for (n, c), dtype, kind in [(sh, dt, "sparse") for sh, dt in shapes] + [
        (sh, dt, "sigmoid") for sh, dt in bce_shapes
    ]:
        rng = np.random.default_rng(0)
        x = (rng.standard_normal((n, c)) * 2).astype(dtype)
        case: dict[str, Any] = {"loss": kind, "shape": [n, c], "dtype": dtype, "rows": []}
        case["floor"] = bandwidth_floor(x, threads, repeat)
        fns: dict[str, tuple[Any, Any]] = {}
        if kind == "sigmoid":
            z = (rng.uniform(size=(n, c)) < 0.1).astype(dtype)
            fns.update(bce_fns(x, z, threads))
        else:
            k = rng.integers(0, c, n)
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
        # Every contender is timed once per round, round after round, so that all of them see
        # the same machine (a shared machine's load drifts); the median is over the rounds.
        entries = []
        for name, (fwd, vg) in fns.items():
            row: dict[str, Any] = {"name": name}
            case["rows"].append(row)
            # The slowest contenders at the largest shapes (a minute and more) are called once:
            # the memory measurement's call, without warm-up (there is nothing to compile).
            slow = n * c > 50_000_000 and "scikit" in name
            for label, fn in (("forward", fwd), ("value_and_grad", vg)):
                if fn is not None:
                    peak, seconds = measure_memory(fn, warm_up=not slow)
                    row[label] = {"peak_bytes": peak, "times": [seconds] if slow else []}
                    if not slow:
                        entries.append((row, label, fn))
        order = np.random.default_rng(1)
        for _ in range(repeat):  # a new order every round: no contender always follows another
            for i in order.permutation(len(entries)):
                row, label, fn = entries[i]
                row[label]["times"].append(time_once(fn))
        for row in case["rows"]:
            for label in ("forward", "value_and_grad"):
                if label in row:
                    row[label]["median_s"] = statistics.median(row[label]["times"])
        for row in case["rows"]:
            print(f"  {n}x{c} {dtype} {row['name']}: " + ", ".join(
                f"{lab} {row[lab]['median_s'] * 1e3:.1f} ms"
                for lab in ("forward", "value_and_grad") if lab in row
            ), file=sys.stderr)  # fmt: skip
        results["cases"].append(case)
        del x, fns
        gc.collect()
    results["seconds"] = time.perf_counter() - t0
    results["machine"]["load_after"] = os.getloadavg()
    return results


def import_time() -> dict[str, float]:
    """Seconds for ``import numpy`` and for ``import crossentropy`` after it (median of 5)."""
    import subprocess

    code = (
        "import time; t0 = time.perf_counter(); import numpy; t1 = time.perf_counter(); "
        "import crossentropy; t2 = time.perf_counter(); import sys; "
        "print(t1 - t0, t2 - t1, 'numba' in sys.modules)"
    )
    rows = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        a, b, numba_loaded = out.stdout.split()
        rows.append((float(a), float(b), numba_loaded == "True"))
    return {
        "numpy_s": statistics.median(r[0] for r in rows),
        "crossentropy_s": statistics.median(r[1] for r in rows),
        "numba_imported": any(r[2] for r in rows),
    }


def targets(results: dict[str, Any]) -> str:
    """The issue's targets against this run's medians.

    "at the floor" is the ratio a kernel running at the bandwidth floor of the same run would
    reach (reading the logits once; reading them and writing the gradient): a speed-up target
    beyond it cannot be met on this machine by any implementation.
    """

    def get(case: dict[str, Any], prefix: str, label: str) -> float:
        for r in case["rows"]:
            if r["name"] == prefix or (prefix != "crossentropy" and r["name"].startswith(prefix)):
                return float(r[label]["median_s"]) if label in r else float("nan")
        return float("nan")

    lines = [
        "| target | case | measured | met | at the floor |",
        "|---|---|---:|---|---:|",
    ]

    def add(
        target: str,
        case: dict[str, Any],
        value: float,
        goal: float,
        fmt: str,
        ceiling: float | None = None,
    ) -> None:
        """One row; ``ceiling``: the ratio reached by running at the bandwidth floor itself."""
        n, c = case["shape"]
        ok = "yes" if value >= goal else "**no**"
        best = ""
        if ceiling is not None:
            best = fmt.format(ceiling) + ("" if ceiling >= goal else " (unreachable)")
        lines.append(
            f"| {target} | ({n}, {c}) {case['dtype']} | {fmt.format(value)} | {ok} | {best} |"
        )

    for case in results["cases"]:
        fl = case["floor"]
        if case["loss"] == "sigmoid":
            torch_vg = get(case, "PyTorch", "value_and_grad")
            ratio = torch_vg / get(case, "crossentropy", "value_and_grad")
            add("sigmoid CE value+grad ≥ 5× PyTorch", case, ratio, 5, "{:.1f}×",
                torch_vg / fl["copy_fresh_s"])  # fmt: skip
            continue
        if case["dtype"] != "float32" or case["shape"][0] * case["shape"][1] < 100_000_000:
            continue
        torch_vg = get(case, "PyTorch", "value_and_grad")
        torch_fwd = get(case, "PyTorch", "forward")
        numpy_vg = get(case, "naive NumPy", "value_and_grad")
        numpy_fwd = get(case, "naive NumPy", "forward")
        ours_vg = get(case, "crossentropy", "value_and_grad")
        ours_out = get(case, "crossentropy out=buffer", "value_and_grad")
        ours_in = get(case, "crossentropy in place", "value_and_grad")
        ours_fwd = get(case, "crossentropy", "forward")
        fresh, copy, read = fl["copy_fresh_s"], fl["copy_s"], fl["read_s"]
        add("value+grad ≥ 10× PyTorch (new gradient array)", case, torch_vg / ours_vg, 10,
            "{:.1f}×", torch_vg / fresh)  # fmt: skip
        add("value+grad ≥ 10× PyTorch (out= buffer)", case, torch_vg / ours_out, 10, "{:.1f}×",
            torch_vg / copy)  # fmt: skip
        add("value+grad ≥ 10× PyTorch (in place)", case, torch_vg / ours_in, 10, "{:.1f}×",
            torch_vg / copy)  # fmt: skip
        add("forward ≥ 5× PyTorch", case, torch_fwd / ours_fwd, 5, "{:.1f}×", torch_fwd / read)
        add("forward ≥ 70% of the read floor", case, read / ours_fwd, 0.7, "{:.0%}")
        add("value+grad ≥ 70% of the copy floor (out=)", case, copy / ours_out, 0.7, "{:.0%}")
        add("value+grad ≥ 70% of the fresh-copy floor", case, fresh / ours_vg, 0.7, "{:.0%}")
        add("value+grad ≥ 5× naive NumPy", case, numpy_vg / ours_vg, 5, "{:.1f}×",
            numpy_vg / fresh)  # fmt: skip
        add("forward ≥ 5× naive NumPy", case, numpy_fwd / ours_fwd, 5, "{:.1f}×",
            numpy_fwd / read)  # fmt: skip
    return "\n".join(lines)


def table(results: dict[str, Any]) -> str:
    """The results as Markdown: one table per shape, times in ms, ratios to crossentropy."""
    lines = []
    for case in results["cases"]:
        n, c = case["shape"]
        fl = case["floor"]
        nbytes = n * c * np.dtype(case["dtype"]).itemsize
        what = (
            "sigmoid cross-entropy, pos_weight" if case["loss"] == "sigmoid" else "sparse softmax"
        )
        lines.append(
            f"\n#### {what}: ({n}, {c}) {case['dtype']} ({nbytes / 2**20:.0f} MiB of logits)\n"
        )
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


def report(results: dict[str, Any]) -> None:
    """Print the machine, the import times, the tables and the targets as Markdown."""
    m = results["machine"]
    imp = results["import"]
    print(
        f"Machine: {m.get('cpu')}, {m['cores']} cores, {m.get('memory_gib')} GiB; "
        f"{m['platform']}; Python {m['python']}, NumPy {m['numpy']}, numba {m['numba']}; "
        f"{results['threads']} threads; load average before/after "
        f"{m.get('load_before', ('?',))[0]:.2f}/{m.get('load_after', ('?',))[0]:.2f}; "
        f"run time {results['seconds']:.0f} s.\n\n"
        f"`import numpy`: {imp['numpy_s'] * 1e3:.0f} ms; `import crossentropy` after it: "
        f"{imp['crossentropy_s'] * 1e3:.0f} ms (numba imported: {imp['numba_imported']})."
    )
    print(table(results))
    print("\n#### Targets\n")
    print(targets(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    parser.add_argument("--json", help="also write the results as JSON to this file")
    parser.add_argument("--from-json", help="print the tables of a saved run, measure nothing")
    args = parser.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            report(json.load(f))
        return
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
    results = run(
        QUICK_SHAPES if args.quick else SHAPES,
        QUICK_BCE_SHAPES if args.quick else BCE_SHAPES,
        args.threads,
        args.repeat,
    )
    results["import"] = imp
    report(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
