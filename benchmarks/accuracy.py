"""Accuracy table: crossentropy and the frameworks against exact references, on the hostile suite.

Run from the repository root (the frameworks are optional; each one missing is skipped)::

    PYTHONPATH=src python benchmarks/accuracy.py [--out FILE] [--no-mean] [--only LIB]

For every loss (and primitive) of the suite in ``tests/accuracy`` and every dtype it reports, per
library, the largest error in ULP of the output dtype, the 99th percentile and the number of NaN
results where the exact value is a number, separately for the value and the gradient (the
gradient of the sum of the per-sample losses with respect to the predictions). The exact values
are the committed mpmath references (``tests/accuracy/data``); the ULP metric is
``tests/accuracy/ulp.py`` (an exact 0 must be 0, a pole +-inf: anything else is ``inf`` ULP).

The frameworks are called the way their documentation suggests for the same loss (PyTorch
``torch.nn.functional``, TensorFlow ``tf.nn`` and, for probabilities, its own Keras ``tf_keras``,
Keras 3, optax/JAX with float64 enabled, SciPy ``scipy.special``); a "-" means the library has no
equivalent of that case (an option it lacks, or a different formula, e.g. Keras's focal loss for
soft labels). Gradients come from each framework's autodiff; SciPy has none, so its column uses
the textbook ``softmax - onehot`` and ``sigma(x) - y`` written with ``scipy.special``.

crossentropy appears twice: its reference path (``CROSSENTROPY_FAST=0``) and, where numba is
installed, its fused kernels forced for every input size (cases no kernel covers are "-").
Finally it measures the issue's reduction figure: the mean of 1e8 float32 sigmoid
cross-entropies against the correctly rounded float32 result (skip with ``--no-mean``).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

from accuracy.cases import Loaded, call_library, load  # noqa: E402
from accuracy.suite import DTYPES  # noqa: E402
from accuracy.ulp import ulp_error  # noqa: E402

import crossentropy as ce  # noqa: E402


class NotApplicable(Exception):
    """The library has no equivalent of this case."""


Result = tuple[np.ndarray, "np.ndarray | None"]

# --------------------------------------------------------------------------------------------
# Case descriptions shared by the adapters


def _opts(lc: Loaded) -> dict[str, Any]:
    kw = dict(lc.case.kwargs)
    if kw.get("reduction", "none") != "none" or "sample_weight" in kw or "ignore_index" in kw:
        raise NotApplicable
    return kw


def _pw(lc: Loaded) -> Any:
    c = lc.case
    if c.fn == "weighted_cross_entropy_with_logits":
        return c.args[2]
    return c.kwargs.get("pos_weight")


def _soft(lc: Loaded) -> bool:
    y = lc.case.args[0]
    return bool(np.any((y != 0) & (y != 1)))


def _flat(v: Any, g: Any, lc: Loaded, per_row_mean: bool) -> Result:
    """Flatten a framework's value (averaging the last axis like the suite's binary losses)."""
    v = np.asarray(v, dtype=np.float64)
    if per_row_mean and v.ndim == 2:
        v = v.mean(axis=-1)  # n == 1 (exact) or rows of 4 (float64 mean: below the dtype ulp)
    g = None if g is None else np.asarray(g).ravel()
    if g is not None and lc.case.grad_idx is not None:
        g = g[lc.case.grad_idx]
    return v.ravel(), g


# --------------------------------------------------------------------------------------------
# PyTorch


def torch_adapter() -> Callable[[Loaded], Result]:
    import torch
    import torch.nn.functional as F

    dts = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64}

    def run(lc: Loaded) -> Result:
        c, kw = lc.case, _opts(lc)
        dt = dts[c.dtype]
        xa = c.args[-1] if c.fn in PRIMS else c.args[1]
        x = torch.tensor(xa, dtype=dt, requires_grad=True)
        y = None if c.fn in PRIMS else c.args[0]
        row_mean = False
        fn = c.fn
        if fn in PRIMS:
            f = {
                "log_softmax": lambda: torch.log_softmax(x, -1),
                "softmax": lambda: torch.softmax(x, -1),
                "logsumexp": lambda: torch.logsumexp(x, -1),
                "sigmoid": lambda: torch.sigmoid(x),
                "softplus": lambda: F.softplus(x),
                "log_sigmoid": lambda: F.logsigmoid(x),
            }[fn]
            return _flat(f().detach(), None, lc, False)
        if fn == "sparse_softmax_cross_entropy_with_logits" or (
            fn == "sparse_categorical_crossentropy" and kw.get("from_logits")
        ):
            cw = kw.get("class_weight")
            out = F.cross_entropy(
                x,
                torch.tensor(y),
                reduction="none",
                weight=None if cw is None else torch.tensor(cw, dtype=dt),
                label_smoothing=kw.get("label_smoothing", 0.0),
            )
        elif fn == "softmax_cross_entropy_with_logits" or (
            fn == "categorical_crossentropy" and kw.get("from_logits")
        ):
            cw = kw.get("class_weight")
            out = F.cross_entropy(
                x,
                torch.tensor(y, dtype=dt),
                reduction="none",
                weight=None if cw is None else torch.tensor(cw, dtype=dt),
                label_smoothing=kw.get("label_smoothing", 0.0),
            )
        elif fn == "sparse_categorical_crossentropy":  # probabilities: nll_loss(log p)
            if kw.get("label_smoothing"):
                raise NotApplicable
            out = F.nll_loss(torch.log(x), torch.tensor(y), reduction="none")
        elif fn in ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits") or (
            fn == "binary_crossentropy" and kw.get("from_logits")
        ):
            if kw.get("label_smoothing"):
                raise NotApplicable
            pw = _pw(lc)
            out = F.binary_cross_entropy_with_logits(
                x,
                torch.tensor(y, dtype=dt),
                reduction="none",
                pos_weight=None if pw is None else torch.tensor(pw, dtype=dt),
            )
            row_mean = fn == "binary_crossentropy"
        elif fn == "binary_crossentropy":
            if kw.get("label_smoothing") or _pw(lc) is not None:
                raise NotApplicable
            out = F.binary_cross_entropy(x, torch.tensor(y, dtype=dt), reduction="none")
            row_mean = True
        else:
            raise NotApplicable
        if row_mean:
            out = out.mean(-1)
        (g,) = torch.autograd.grad(out.sum(), x)
        return _flat(out.detach(), g, lc, False)

    return run


# --------------------------------------------------------------------------------------------
# TensorFlow (tf.nn; tf_keras for the probability losses) and Keras 3


def tf_adapter(keras3: bool) -> Callable[[Loaded], Result]:
    import tensorflow as tf

    if keras3:
        import keras as K

        losses, ops = K.losses, K.ops
    else:
        import tf_keras as K  # TensorFlow's own Keras 2

        losses, ops = K.losses, None

    def run(lc: Loaded) -> Result:
        c, kw = lc.case, _opts(lc)
        dt = tf.as_dtype(c.dtype)
        xa = c.args[-1] if c.fn in PRIMS else c.args[1]
        x = tf.Variable(tf.constant(xa, dtype=dt))
        y = None if c.fn in PRIMS else c.args[0]
        fn = c.fn
        with tf.GradientTape() as tape:
            if fn in PRIMS:
                if keras3:
                    f = {
                        "log_softmax": ops.log_softmax,
                        "softmax": ops.softmax,
                        "logsumexp": lambda v: ops.logsumexp(v, axis=-1),
                        "sigmoid": ops.sigmoid,
                        "softplus": ops.softplus,
                        "log_sigmoid": ops.log_sigmoid,
                    }[fn]
                else:
                    f = {
                        "log_softmax": tf.nn.log_softmax,
                        "softmax": tf.nn.softmax,
                        "logsumexp": lambda v: tf.reduce_logsumexp(v, axis=-1),
                        "sigmoid": tf.sigmoid,
                        "softplus": tf.nn.softplus,
                        "log_sigmoid": tf.math.log_sigmoid,
                    }[fn]
                return _flat(f(x).numpy(), None, lc, False)
            out = _tf_loss(tf, losses, keras3, lc, kw, x, y, dt)
            total = tf.reduce_sum(out)
        g = tape.gradient(total, x)
        return _flat(out.numpy(), None if g is None else g.numpy(), lc, False)

    return run


def _tf_loss(
    tf: Any, losses: Any, keras3: bool, lc: Loaded, kw: dict[str, Any], x: Any, y: Any, dt: Any
) -> Any:
    fn = lc.case.fn
    ls = kw.get("label_smoothing", 0.0)
    if "class_weight" in kw:
        raise NotApplicable
    logits = fn.endswith("_with_logits") or kw.get("from_logits", False)
    if fn in ("sparse_softmax_cross_entropy_with_logits", "sparse_categorical_crossentropy"):
        if ls:
            raise NotApplicable
        if not keras3 and logits:
            return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
        return losses.sparse_categorical_crossentropy(y, x, from_logits=logits)
    yt = tf.constant(y, dtype=dt)
    if fn in ("softmax_cross_entropy_with_logits", "categorical_crossentropy"):
        if not keras3 and logits and not ls:
            return tf.nn.softmax_cross_entropy_with_logits(labels=yt, logits=x)
        return losses.categorical_crossentropy(yt, x, from_logits=logits, label_smoothing=ls)
    if fn in ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits"):
        pw = _pw(lc)
        if not keras3:
            if pw is None:
                return tf.nn.sigmoid_cross_entropy_with_logits(labels=yt, logits=x)
            return tf.nn.weighted_cross_entropy_with_logits(yt, x, tf.constant(pw, dtype=dt))
        if pw is not None:
            raise NotApplicable
        return losses.binary_crossentropy(yt[:, None], x[:, None], from_logits=True)
    if fn == "binary_crossentropy":
        if _pw(lc) is not None:
            raise NotApplicable
        return losses.binary_crossentropy(yt, x, from_logits=logits, label_smoothing=ls)
    if fn == "binary_focal_crossentropy":
        if _soft(lc):
            raise NotApplicable  # Keras uses (1 - p_t)^gamma: another formula for soft labels
        a = kw.get("alpha")
        return losses.binary_focal_crossentropy(
            yt,
            x,
            apply_class_balancing=a is not None,
            alpha=0.25 if a is None else a,
            gamma=kw.get("gamma", 2.0),
            from_logits=logits,
        )
    if fn == "categorical_focal_crossentropy":
        a = kw.get("alpha")
        return losses.categorical_focal_crossentropy(
            yt, x, alpha=1.0 if a is None else a, gamma=kw.get("gamma", 2.0), from_logits=logits
        )
    raise NotApplicable


# --------------------------------------------------------------------------------------------
# optax / JAX


def optax_adapter() -> Callable[[Loaded], Result]:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    def run(lc: Loaded) -> Result:
        c, kw = lc.case, _opts(lc)
        fn = c.fn
        xa = c.args[-1] if fn in PRIMS else c.args[1]
        x = jnp.asarray(xa, dtype=c.dtype)
        if fn in PRIMS:
            f = {
                "log_softmax": jax.nn.log_softmax,
                "softmax": jax.nn.softmax,
                "logsumexp": lambda v: jax.nn.logsumexp(v, axis=-1),
                "sigmoid": jax.nn.sigmoid,
                "softplus": jax.nn.softplus,
                "log_sigmoid": jax.nn.log_sigmoid,
            }[fn]
            return _flat(np.asarray(f(x)), None, lc, False)
        y = c.args[0]
        logits = fn.endswith("_with_logits") or kw.get("from_logits", False)
        if not logits or "class_weight" in kw:
            raise NotApplicable
        ls = kw.get("label_smoothing", 0.0)
        if fn in ("sparse_softmax_cross_entropy_with_logits", "sparse_categorical_crossentropy"):
            if ls:
                raise NotApplicable

            def f(v: Any) -> Any:
                return optax.softmax_cross_entropy_with_integer_labels(v, jnp.asarray(y))
        elif fn in ("softmax_cross_entropy_with_logits", "categorical_crossentropy"):
            yt = jnp.asarray(y, dtype=c.dtype)
            if ls:
                yt = optax.smooth_labels(yt, ls)

            def f(v: Any) -> Any:
                return optax.softmax_cross_entropy(v, yt)
        elif fn in ("sigmoid_cross_entropy_with_logits", "binary_crossentropy"):
            if ls or _pw(lc) is not None:
                raise NotApplicable
            yt = jnp.asarray(y, dtype=c.dtype)

            def f(v: Any) -> Any:
                out = optax.sigmoid_binary_cross_entropy(v, yt)
                return out.mean(-1) if fn == "binary_crossentropy" else out
        elif fn == "binary_focal_crossentropy":
            yt = jnp.asarray(y, dtype=c.dtype)

            def f(v: Any) -> Any:
                return optax.sigmoid_focal_loss(
                    v, yt, alpha=kw.get("alpha"), gamma=kw.get("gamma", 2.0)
                ).mean(-1)
        else:
            raise NotApplicable
        out = f(x)
        g = jax.grad(lambda v: f(v).sum())(x)
        return _flat(np.asarray(out), np.asarray(g), lc, False)

    return run


# --------------------------------------------------------------------------------------------
# SciPy (no autodiff: the textbook gradients)


def scipy_adapter() -> Callable[[Loaded], Result]:
    from scipy import special as sp

    def run(lc: Loaded) -> Result:
        c, kw = lc.case, _opts(lc)
        fn = c.fn
        xa = c.args[-1] if fn in PRIMS else c.args[1]
        x = np.asarray(xa)
        with np.errstate(all="ignore"):
            if fn in PRIMS:
                f = {
                    "log_softmax": lambda v: sp.log_softmax(v, axis=-1),
                    "softmax": lambda v: sp.softmax(v, axis=-1),
                    "logsumexp": lambda v: sp.logsumexp(v, axis=-1),
                    "sigmoid": sp.expit,
                    "softplus": sp.softplus,
                    "log_sigmoid": sp.log_expit,
                }[fn]
                return _flat(f(x), None, lc, False)
            if "class_weight" in kw or kw.get("label_smoothing"):
                raise NotApplicable
            y = c.args[0]
            logits = fn.endswith("_with_logits") or kw.get("from_logits", False)
            if fn in (
                "sparse_softmax_cross_entropy_with_logits",
                "sparse_categorical_crossentropy",
            ):
                onehot = np.zeros(x.shape, x.dtype)
                onehot[np.arange(len(y)), y] = 1
                fn, y = "softmax_cross_entropy_with_logits", onehot
            if fn in ("softmax_cross_entropy_with_logits", "categorical_crossentropy"):
                if logits:
                    v = -np.sum(y * sp.log_softmax(x, axis=-1), axis=-1)
                    g = y.sum(-1, keepdims=True) * sp.softmax(x, axis=-1) - y
                else:
                    v = -np.sum(sp.xlogy(y, x), axis=-1)
                    g = np.where(y == 0, 0, -y / x)
                return _flat(v, g, lc, False)
            if fn in (
                "sigmoid_cross_entropy_with_logits",
                "weighted_cross_entropy_with_logits",
                "binary_crossentropy",
            ):
                pw = _pw(lc)
                w = 1.0 if pw is None else pw
                if logits:
                    v = -(w * y * sp.log_expit(x) + (1 - y) * sp.log_expit(-x))
                    g = (1 - y) * sp.expit(x) - w * y * sp.expit(-x)
                else:
                    v = -(w * sp.xlogy(y, x) + sp.xlog1py(1 - y, -x))
                    g = -w * y / x + (1 - y) / (1 - x)
                if fn == "binary_crossentropy":
                    v, g = v.mean(-1), g / x.shape[-1]
                return _flat(v, g, lc, False)
        raise NotApplicable

    return run


def library_adapter(fast: bool) -> Callable[[Loaded], Result]:
    """crossentropy's reference path, or its fused kernels forced for every size.

    On the fast path a case no kernel computed is "-" (the reference code ran instead).
    """
    from crossentropy import _kernels

    if fast and not _kernels.fast_path_available():
        raise ImportError("the fast path is not available (numba)")

    def run(lc: Loaded) -> Result:
        if not fast:
            with _fast_env("0"):
                return call_library(lc.case, ce)
        calls: list[Any] = []
        run_rows, min_size = _kernels.run_rows, _kernels.MIN_SIZE

        def spy(kernel: Any, *args: Any) -> Any:
            calls.append(kernel)
            return run_rows(kernel, *args)

        _kernels.run_rows, _kernels.MIN_SIZE = spy, 0  # type: ignore[assignment]
        try:
            with _fast_env("1"):
                out = call_library(lc.case, ce)
        finally:
            _kernels.run_rows, _kernels.MIN_SIZE = run_rows, min_size  # type: ignore[assignment]
        if not calls:
            raise NotApplicable
        return out

    return run


class _fast_env:
    """Switch the fused kernels on ("1") or off ("0") for the duration of a block."""

    def __init__(self, value: str) -> None:
        self.value = value == "1"
        self.old = True

    def __enter__(self) -> None:
        from crossentropy import _kernels

        self.old = _kernels.ENABLED
        _kernels.ENABLED = self.value

    def __exit__(self, *exc: object) -> None:
        from crossentropy import _kernels

        _kernels.ENABLED = self.old


PRIMS = ("log_softmax", "softmax", "logsumexp", "sigmoid", "softplus", "log_sigmoid")


# --------------------------------------------------------------------------------------------
# Tables


def _label(lc: Loaded) -> str:
    parts = lc.case.name.split("/")[1:]
    parts = [p for p in parts if not (p[:1] in "CP" and p[1:].isdigit())]
    fn = lc.case.fn
    return fn if not parts or parts == [fn] else f"{fn} [{'/'.join(parts)}]"


class Stats:
    """Errors of one library on one loss: all entries, and the well-conditioned ones."""

    def __init__(self) -> None:
        self.errs: list[np.ndarray] = []
        self.cond: list[np.ndarray] = []  # entries with condition number 1 (see _kappa)
        self.nans = 0
        self.nans_cond = 0

    def add(self, err: np.ndarray, computed: np.ndarray, ref_hi: np.ndarray, kappa: Any) -> None:
        keep = np.ones(err.shape, bool) if kappa is None else np.asarray(kappa) <= 1.0
        nan = np.isnan(computed) & ~np.isnan(ref_hi)
        self.errs.append(err)
        self.cond.append(err[keep])
        self.nans += int(np.sum(nan))
        self.nans_cond += int(np.sum(nan & keep))

    def cell(self) -> str:
        if not self.errs:
            return "-"
        e = np.concatenate(self.errs)
        p99 = float(np.percentile(e, 99, method="inverted_cdf"))  # an element: inf stays inf
        return f"{_fmt(float(np.max(e)))} / {_fmt(p99)} / {self.nans}"


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "inf"
    if v < 10:
        return f"{v:.2g}" if v > 0 else "0"
    if v < 1e4:
        return f"{v:.0f}"
    return f"{v:.1e}"


def measure(
    libs: dict[str, Callable[[Loaded], Result]], dtypes: tuple[str, ...]
) -> dict[tuple[str, str, str], dict[str, Stats]]:
    table: dict[tuple[str, str, str], dict[str, Stats]] = defaultdict(lambda: defaultdict(Stats))
    for dt in dtypes:
        for lc in load(dt):
            label = _label(lc)
            for name, run in libs.items():
                try:
                    v, g = run(lc)
                except NotApplicable:
                    continue
                except Exception as err:  # a framework rejecting a dtype or an input
                    print(
                        f"  {name} failed on {lc.case.name}: {type(err).__name__}: {err}"[:200],
                        file=sys.stderr,
                    )
                    continue
                if v.size != lc.value[0].size:
                    continue
                table[(dt, label, "value")][name].add(
                    ulp_error(v, *lc.value, dt), v, lc.value[0], _lse_kappa(lc)
                )
                if g is not None and lc.grad is not None:
                    table[(dt, label, "grad")][name].add(
                        ulp_error(g, *lc.grad, dt), g, lc.grad[0], lc.kappa
                    )
    return table


def render(
    table: dict[tuple[str, str, str], dict[str, Stats]], names: list[str], dtypes: tuple[str, ...]
) -> str:
    out = []
    for dt in dtypes:
        out.append(f"\n#### {dt}: max ULP / p99 ULP / NaN count\n")
        out.append("| loss | | " + " | ".join(names) + " |")
        out.append("|---|---|" + "---|" * len(names))
        for (d, label, what), row in sorted(table.items()):
            if d != dt:
                continue
            out.append(
                f"| {label} | {what} | "
                + " | ".join(row[n].cell() if n in row else "-" for n in names)
                + " |"
            )
    return "\n".join(out)


def _lse_kappa(lc: Loaded) -> Any:
    """logsumexp = m + log1p(S) cancels for m < 0: condition number (|m| + log1p S) / |lse|."""
    if lc.case.fn != "logsumexp":
        return None
    x = lc.case.args[0].astype(np.float64)
    with np.errstate(all="ignore"):
        m = x.max(axis=-1)
        lse = np.logaddexp.reduce(x, axis=-1)
        kappa = (np.abs(m) + (lse - m)) / np.abs(lse)
    return np.where(np.isfinite(kappa), kappa, 1.0)


def summary(
    table: dict[tuple[str, str, str], dict[str, Stats]],
    names: list[str],
    dtypes: tuple[str, ...],
    conditioned: bool,
) -> str:
    """Per dtype: the worst finite error over every case, then the count of results that are
    infinite or 0 where the exact value is not (or the reverse), then the NaN count.
    ``conditioned``: only the entries whose condition number is 1 (no cancelling difference)."""
    out = ["| dtype | | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for dt in dtypes:
        for what in ("value", "grad"):
            cells = []
            for n in names:
                rows = [r[n] for (d, _, w), r in table.items() if d == dt and w == what and n in r]
                errs = [e for st in rows for e in (st.cond if conditioned else st.errs)]
                if not errs:
                    cells.append("-")
                    continue
                e = np.concatenate(errs)
                fin = e[np.isfinite(e)]
                nans = sum(st.nans_cond if conditioned else st.nans for st in rows)
                wrong = max(int(np.sum(~np.isfinite(e))) - nans, 0)
                worst = _fmt(float(fin.max())) if fin.size else "-"
                cells.append(f"{worst} / {wrong} / {nans}")
            out.append(f"| {dt} | {what} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def bounds_table(dtypes: tuple[str, ...]) -> str:
    """crossentropy alone, per loss and dtype, against the bounds the tests enforce."""
    rows: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for dt in dtypes:
        for lc in load(dt):
            c = lc.case
            with _fast_env("0"):
                v, g = call_library(c, ce)
            key = (dt, c.fn + (" (soft labels)" if c.soft else ""))
            r = rows[key]
            ev = ulp_error(v, *lc.value, dt)
            k_v = _lse_kappa(lc)
            r[0] = max(r[0], float(ev.max()) if k_v is None else float(ev[k_v <= 1].max()))
            if k_v is not None:
                r[3] = max(r[3], float((ev / np.maximum(k_v, 1.0)).max()))
            if g is not None and lc.grad is not None and lc.kappa is not None:
                eg = ulp_error(g, *lc.grad, dt)
                k = np.maximum(lc.kappa.astype(np.float64), 1.0)
                if (k <= 1).any():
                    r[1] = max(r[1], float(eg[k <= 1].max()))
                if (k > 1).any():
                    r[2] = max(r[2], float(eg[k > 1].max()))
                    r[3] = max(r[3], float((eg[k > 1] / k[k > 1]).max()))
    out = [
        "| dtype | loss | value | gradient, kappa = 1 | gradient, kappa > 1 | max err / kappa |",
        "|---|---|---|---|---|---|",
    ]
    for (dt, fn), r in sorted(rows.items()):
        out.append(f"| {dt} | {fn} | " + " | ".join(_fmt(v) if v else "-" for v in r) + " |")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# The 1e8 float32 mean


def mean_1e8(n: int) -> str:
    from accuracy import reference as R
    from accuracy.suite import Stream
    from mpmath import mp, mpf

    rng = Stream(12345)
    t0 = time.perf_counter()
    x = np.empty(n, np.float32)
    y = np.empty(n, np.float32)
    chunk = 10_000_000
    for i in range(0, n, chunk):
        m = min(chunk, n - i)
        x[i : i + m] = rng.normal(8.0, m) * rng.log_uniform(-6, 2, m)
        y[i : i + m] = rng.integers(0, 2, m)
    got = ce.sigmoid_cross_entropy_with_logits(y, x, reduction="mean")
    t_lib = time.perf_counter() - t0
    # Reference: float64 per-sample losses (each within 2 ulp of float64), summed exactly.
    parts: list[float] = []
    for i in range(0, n, chunk):
        per = ce.sigmoid_cross_entropy_with_logits(
            y[i : i + chunk].astype(np.float64), x[i : i + chunk].astype(np.float64)
        )
        parts.append(math.fsum(per.tolist()))
        parts.append(math.fsum(per.tolist() + [-parts[-1]]))
    with mp.workprec(300):
        ref = R.encode(mp.fsum(mpf(p) for p in parts) / n)
    lines = [
        f"n = {n:.0e} float32 sigmoid cross-entropies, reduction='mean' "
        f"(exact mean {float(np.ldexp(ref[0], ref[2])):.9g}):",
        "",
        "| implementation | result | error (ULP of float32) |",
        "|---|---|---|",
    ]
    lines.append(
        f"| crossentropy | {float(got)!r} | {_fmt(float(ulp_error(got, *ref, 'float32')))} |"
    )
    per32 = ce.sigmoid_cross_entropy_with_logits(y, x)
    naive = np.float32(0)
    for i in range(0, n, chunk):  # a float32 running sum, the textbook loop
        naive = np.cumsum(np.concatenate([[naive], per32[i : i + chunk]]), dtype=np.float32)[-1]
    lines.append(
        f"| float32 running sum / n | {float(naive / np.float32(n))!r} | "
        f"{_fmt(float(ulp_error(naive / np.float32(n), *ref, 'float32')))} |"
    )
    lines.append(
        f"| numpy float32 mean (pairwise) | {float(per32.mean())!r} | "
        f"{_fmt(float(ulp_error(per32.mean(), *ref, 'float32')))} |"
    )
    try:
        import torch
        import torch.nn.functional as F

        tv = F.binary_cross_entropy_with_logits(torch.from_numpy(x), torch.from_numpy(y))
        lines.append(
            f"| torch BCE-with-logits mean | {float(tv)!r} | "
            f"{_fmt(float(ulp_error(tv.numpy(), *ref, 'float32')))} |"
        )
    except ImportError:
        pass
    try:
        import tensorflow as tf

        tv = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=x))
        lines.append(
            f"| tf.nn sigmoid CE + reduce_mean | {float(tv)!r} | "
            f"{_fmt(float(ulp_error(tv.numpy(), *ref, 'float32')))} |"
        )
    except ImportError:
        pass
    lines.append("")
    lines.append(f"(crossentropy's call took {t_lib:.1f} s including the input generation.)")
    return "\n".join(lines)


def versions() -> str:
    lines = [
        f"- machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, "
        f"crossentropy {ce.__version__}",
    ]
    for mod in ("torch", "tensorflow", "tf_keras", "keras", "jax", "optax", "scipy", "mpmath"):
        try:
            m = __import__(mod)
            lines.append(f"- {mod} {m.__version__}")
        except ImportError:
            lines.append(f"- {mod}: not installed")
    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if "model name" in ln), "")
        if model:
            lines[0] += f" ({model})"
    except OSError:
        pass
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="also write the markdown here")
    ap.add_argument("--dtype", action="append", choices=DTYPES)
    ap.add_argument("--no-mean", action="store_true", help="skip the 1e8 float32 mean")
    ap.add_argument("--mean-n", type=float, default=1e8)
    ap.add_argument("--mean-only", action="store_true", help="only the 1e8 float32 mean")
    ap.add_argument("--only", action="append", help="libraries to run (default: all found)")
    args = ap.parse_args(argv)
    dtypes = tuple(args.dtype or DTYPES)
    factories: dict[str, Callable[[], Callable[[Loaded], Result]]] = {
        "crossentropy": lambda: library_adapter(fast=False),
        "crossentropy fast path": lambda: library_adapter(fast=True),
        "PyTorch": torch_adapter,
        "TensorFlow": lambda: tf_adapter(keras3=False),
        "Keras 3": lambda: tf_adapter(keras3=True),
        "optax": optax_adapter,
        "SciPy": scipy_adapter,
    }
    libs = {}
    for name, make in factories.items():
        if args.only and name not in args.only:
            continue
        try:
            libs[name] = make()
        except ImportError as err:
            print(f"{name}: not installed ({err})", file=sys.stderr)
    names = list(libs)
    t0 = time.perf_counter()
    if args.mean_only:
        text = mean_1e8(int(args.mean_n))
        print(text)
        if args.out:
            args.out.write_text(text + "\n")
        return
    table = measure(libs, dtypes)
    parts = [
        "### Versions\n",
        versions(),
        "\n### crossentropy (reference path) against its bounds "
        "(max ULP; kappa: see docs/accuracy.md)\n",
        bounds_table(dtypes),
        "\n### Summary: worst finite error (ULP) / wrong 0, inf or finite / NaN\n",
        "Well-conditioned entries (every value but logsumexp near 0; gradient entries that are "
        "not a cancelling difference, kappa = 1):\n",
        summary(table, names, dtypes, True),
        "\nEvery entry (including soft-label gradients near the optimum, kappa > 1):\n",
        summary(table, names, dtypes, False),
        "\n### Per loss\n",
        render(table, names, dtypes),
    ]
    if not args.no_mean:
        parts += ["\n### Mean of 1e8 float32 losses\n", mean_1e8(int(args.mean_n))]
    parts.append(f"\n(measured in {time.perf_counter() - t0:.0f} s)")
    text = "\n".join(parts)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
