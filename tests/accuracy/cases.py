"""Cases with their references: computing (mpmath), storing, loading, and running the library.

:func:`reference_for` restates each public function's documented semantics (label smoothing,
weights, the mean over the label axis, ignored samples, the reductions) on top of the exact
building blocks of :mod:`reference`. The stored form is one compressed ``.npz`` per dtype holding
a JSON manifest (each case's function and options, the hash of ``suite.py`` and what made the
file), the input arrays (each distinct array once) and the encoded references; see
``make_reference.py``. The tests run on the stored inputs: nothing they compare is rebuilt.
:func:`build_difference` checks that this machine still builds the same suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mpmath import mp, mpf

from . import reference as R
from .suite import Case, build, source_digest

__all__ = [
    "CODE_CHANGED",
    "DATA_DIR",
    "PLATFORM",
    "Loaded",
    "build_difference",
    "call_library",
    "load",
    "provenance",
    "reference_for",
    "save",
]

DATA_DIR = Path(__file__).parent / "data"
_PREC = 4 * R.BASE_PREC + 64  # outside evaluate(): keep every bit of the retried results

ELEMENTWISE_PRIMS = {"sigmoid": R.sigmoid, "softplus": R.softplus, "log_sigmoid": R.log_sigmoid}
ROW_PRIMS = ("log_softmax", "softmax", "logsumexp")
SPARSE = ("sparse_softmax_cross_entropy_with_logits", "sparse_categorical_crossentropy")
DENSE = ("softmax_cross_entropy_with_logits", "categorical_crossentropy")


# --------------------------------------------------------------------------------------------
# References


class Ref:
    """Reference values (flat, C order of the output) and gradient entries, as mpmath numbers."""

    def __init__(self) -> None:
        self.value: list[Any] = []
        self.grad: list[Any] = []
        self.kappa: list[float] = []


def _kw_array(case: Case, name: str) -> np.ndarray | None:
    v = case.kwargs.get(name)
    return None if v is None else np.asarray(v)


def _reduce(
    case: Case, per_sample: list[Any], grads: list[list[Any]], weights: list[Any], ref: Ref
) -> None:
    """Apply sample weights and the reduction; ``grads[i]`` is sample i's gradient entries."""
    red = case.kwargs.get("reduction", "none")
    with mp.workprec(_PREC):
        if red == "none":
            ref.value = [R.mul0(w, v) for w, v in zip(weights, per_sample, strict=True)]
            scale = weights
        else:
            tot = mp.fsum(R.mul0(w, v) for w, v in zip(weights, per_sample, strict=True))
            if red == "sum":
                ref.value = [tot]
                scale = weights
            else:
                wsum = mp.fsum(weights)
                ref.value = [tot / wsum if wsum > 0 else mpf(0)]
                scale = [w / wsum if wsum > 0 else mpf(0) for w in weights]
        ref.grad = [R.mul0(s, g) for s, gi in zip(scale, grads, strict=True) for g in gi]


def _weights(case: Case, n: int, valid: Sequence[bool] | None = None) -> list[Any]:
    sw = _kw_array(case, "sample_weight")
    w = [mpf(1)] * n if sw is None else R.as_mp(np.broadcast_to(sw, (n,)))
    if valid is not None:
        w = [wi if ok else mpf(0) for wi, ok in zip(w, valid, strict=True)]
    return w


def _elementwise_ref(case: Case) -> Ref:
    """Sigmoid/binary/focal/MSE losses: element terms, then the mean over the last axis."""
    fn, kw = case.fn, case.kwargs
    y_arr, x_arr = case.args[0], case.args[1]
    pw_arr = case.args[2] if len(case.args) > 2 else _kw_array(case, "pos_weight")
    shape = x_arr.shape
    pw = np.broadcast_to(pw_arr if pw_arr is not None else np.float64(1.0), shape)
    ys, xs, ws = R.as_mp(y_arr), R.as_mp(x_arr), R.as_mp(pw)
    ls = R.X(kw.get("label_smoothing", 0.0))
    from_logits = fn.endswith("_with_logits") or kw.get("from_logits", False)
    gamma = R.X(kw.get("gamma", 2.0))
    alpha = None if kw.get("alpha") is None else R.X(kw["alpha"])

    def term(y: Any, x: Any, w: Any) -> tuple[Any, Any]:
        if ls != 0:
            y = y * (1 - ls) + ls / 2
        if fn in ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits"):
            return R.sigmoid_xent(y, x, w)
        if fn == "binary_crossentropy":
            return R.sigmoid_xent(y, x, w) if from_logits else R.binary_probs(y, x, w)
        if fn == "binary_focal_crossentropy":
            f = R.binary_focal_logits if from_logits else R.binary_focal_probs
            return f(y, x, gamma, alpha)
        if fn == "mean_squared_error":
            return R.mse(y, x)
        raise KeyError(fn)

    ref = Ref()
    vals, grads = [], []
    for y, x, w in zip(ys, xs, ws, strict=True):
        (v, g), kap = R.evaluate(term, y, x, w)
        vals.append(v)
        grads.append(g)
        ref.kappa.append(kap[-1] if kap else 1.0)
    elementwise = fn in ("sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits")
    if elementwise:
        per, g_rows = vals, [[g] for g in grads]
    else:
        n = shape[-1]
        per, g_rows = [], []
        with mp.workprec(_PREC):
            for i in range(len(vals) // n):
                per.append(mp.fsum(vals[i * n : (i + 1) * n]) / n)
                g_rows.append([g / n for g in grads[i * n : (i + 1) * n]])
    _reduce(case, per, g_rows, _weights(case, len(per)), ref)
    return ref


def _rows_ref(case: Case) -> Ref:
    fn, kw = case.fn, case.kwargs
    lab, x_arr = case.args[0], case.args[1]
    n, c = x_arr.shape
    ls = R.X(kw.get("label_smoothing", 0.0))
    from_logits = fn in (
        "sparse_softmax_cross_entropy_with_logits",
        "softmax_cross_entropy_with_logits",
    ) or kw.get("from_logits", False)
    cw = _kw_array(case, "class_weight")
    al = _kw_array(case, "alpha")
    wvec = R.as_mp(np.broadcast_to(cw if cw is not None else (al if al is not None else 1.0), (c,)))
    gamma = R.X(kw.get("gamma", 2.0))
    focal = fn == "categorical_focal_crossentropy"
    ignore = kw.get("ignore_index")
    idx_all = None if case.grad_idx is None else np.asarray(case.grad_idx)
    valid = []
    ref = Ref()
    vals, grads = [], []
    for i in range(n):
        xs = R.as_mp(x_arr[i])
        cols = (
            list(range(c)) if idx_all is None else [int(j) % c for j in idx_all[idx_all // c == i]]
        )
        if fn in SPARSE:
            k = int(lab[i])
            valid.append(k != ignore)
            if k == ignore:
                vals.append(mpf(0))
                grads.append([mpf(0)] * len(cols))
                ref.kappa += [1.0] * len(cols)
                continue
            ys: list[Any] | None = None
        else:
            valid.append(True)
            ys = R.as_mp(lab[i])

        def row(
            xs: list[Any] = xs,
            ys: list[Any] | None = ys,
            k: int = int(lab[i]) if fn in SPARSE else -1,
            cols: list[int] = cols,
        ) -> tuple[Any, list[Any]]:
            if ys is None:
                a = [(1 - ls) * wvec[j] * (1 if j == k else 0) + ls / c * wvec[j] for j in range(c)]
            else:
                a = [(ys[j] * (1 - ls) + ls / c) * wvec[j] for j in range(c)]
            if focal:
                f = R.categorical_focal_logits if from_logits else R.categorical_focal_probs
                return f(a, xs, gamma, cols)
            f2 = R.categorical_logits if from_logits else R.categorical_probs
            return f2(a, xs, cols)

        (v, g), kap = R.evaluate(row)
        vals.append(v)
        grads.append(g)
        ref.kappa += kap if len(kap) == len(g) else [1.0] * len(g)
    _reduce(case, vals, grads, _weights(case, n, valid), ref)
    return ref


def _prim_ref(case: Case) -> Ref:
    ref = Ref()
    x = case.args[0]
    if case.fn in ELEMENTWISE_PRIMS:
        f = ELEMENTWISE_PRIMS[case.fn]
        ref.value = [R.evaluate(f, v)[0] for v in R.as_mp(x)]
        return ref
    for i in range(x.shape[0]):
        xs = R.as_mp(x[i])
        (nll, p, _, lse), _ = R.evaluate(R.softmax_parts, xs)
        if case.fn == "logsumexp":
            ref.value.append(lse)
        elif case.fn == "log_softmax":
            ref.value += [-v for v in nll]
        else:
            ref.value += p
    return ref


def reference_for(case: Case) -> Ref:
    """The exact value(s) and gradient entries of ``case``."""
    if case.fn in ELEMENTWISE_PRIMS or case.fn in ROW_PRIMS:
        return _prim_ref(case)
    if case.fn in SPARSE or case.fn in DENSE or case.fn == "categorical_focal_crossentropy":
        return _rows_ref(case)
    return _elementwise_ref(case)


# --------------------------------------------------------------------------------------------
# Running the library


def call_library(case: Case, ce: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """``(value, grad)`` of the library on ``case``, both flat (grad restricted to grad_idx)."""
    fn = getattr(ce, case.fn)
    if not case.grad:
        return np.asarray(fn(*case.args, **case.kwargs)).ravel(), None
    value = np.asarray(fn(*case.args, **case.kwargs)).ravel()
    vg = ce.value_and_grad(fn)(*case.args, **case.kwargs)
    v2 = np.asarray(vg.value).ravel()
    same = (v2 == value) | (np.isnan(v2) & np.isnan(value))
    if not np.all(same):
        raise AssertionError(f"{case.name}: value_and_grad's value differs from the loss's")
    g = np.asarray(vg.grad).ravel()
    if case.grad_idx is not None:
        g = g[case.grad_idx]
    return value, g


# --------------------------------------------------------------------------------------------
# Storage


def _encode_all(vals: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    enc = [R.encode(v) for v in vals]
    hi = np.array([t[0] for t in enc], np.float64)
    lo = np.array([t[1] for t in enc], np.float64)
    e = np.array([t[2] for t in enc], np.int16)
    # lo is below half an ulp of hi (|hi| in [0.5, 1)): keep it scaled by 2**53 as float32,
    # 24 more bits than float64: the reference keeps ~77 bits, far more than the metric needs.
    lo32 = np.ldexp(lo, 53).astype(np.float32)
    return hi, lo32, e


class Loaded:
    """A case of the suite with its stored reference arrays."""

    def __init__(
        self,
        case: Case,
        value: tuple[np.ndarray, ...],
        grad: tuple[np.ndarray, ...] | None,
        kappa: np.ndarray | None,
    ) -> None:
        self.case = case
        self.value = value  # (hi, lo, e), lo unscaled float64
        self.grad = grad
        self.kappa = kappa  # per gradient entry (see reference.sub)


def encoded(case: Case) -> dict[str, np.ndarray]:
    """The reference of ``case`` as arrays (computed and encoded in one process: an mpmath number
    sent through pickle comes back rounded to 53 bits)."""
    ref = reference_for(case)
    out = dict(zip(("v_hi", "v_lo", "v_e"), _encode_all(ref.value), strict=True))
    if case.grad:
        out.update(zip(("g_hi", "g_lo", "g_e"), _encode_all(ref.grad), strict=True))
        out["g_k"] = np.array(ref.kappa, np.float32)
    return out


def _cpu_features() -> list[str]:
    """NumPy's dispatch targets that are enabled in this process (for the stored provenance)."""
    try:
        from numpy._core import _multiarray_umath as mu
    except ImportError:  # NumPy < 2
        from numpy.core import _multiarray_umath as mu  # type: ignore[no-redef]
    feats = getattr(mu, "__cpu_features__", {})
    return [f for f in getattr(mu, "__cpu_dispatch__", []) if feats.get(f)]


def provenance() -> dict[str, Any]:
    """What made the stored data: the suite's source hash, NumPy, the CPU's dispatch targets."""
    return {
        "suite_source": source_digest(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "dispatch": _cpu_features(),
        "NPY_DISABLE_CPU_FEATURES": os.environ.get("NPY_DISABLE_CPU_FEATURES", ""),
    }


class _Inputs:
    """The input arrays of a dtype's cases, each distinct array stored once."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._keys: dict[bytes, str] = {}

    def key(self, a: np.ndarray) -> str:
        a = np.asarray(a)
        if not a.flags.c_contiguous:  # (np.ascontiguousarray would make a 0-d array 1-d)
            a = a.copy()
        h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode() + a.tobytes()).digest()
        if h not in self._keys:
            self._keys[h] = f"in{len(self._keys)}"
            self.arrays[self._keys[h]] = a
        return self._keys[h]


def _describe_case(case: Case, inputs: _Inputs) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for k, v in case.kwargs.items():
        if isinstance(v, np.ndarray):
            kwargs[k] = {"input": inputs.key(v)}
        elif v is None or isinstance(v, bool | int | float | str):
            kwargs[k] = v
        else:
            raise TypeError(f"save: option {k}={v!r} of {case.name} is not storable in JSON")
    return {
        "name": case.name,
        "fn": case.fn,
        "dtype": case.dtype,
        "soft": case.soft,
        "classes": case.classes,
        "grad": case.grad,
        "args": [inputs.key(a) for a in case.args],
        "kwargs": kwargs,
        "grad_idx": None if case.grad_idx is None else inputs.key(case.grad_idx),
        "digest": case.digest(),
    }


def save(path: Path, cases: Sequence[Case], refs: Sequence[dict[str, np.ndarray]]) -> None:
    """Write ``cases`` (their inputs, each distinct array once) and their encoded references."""
    inputs = _Inputs()
    manifest = [_describe_case(case, inputs) for case in cases]
    arrays: dict[str, np.ndarray] = dict(inputs.arrays)
    for i, ref in enumerate(refs):
        for k, v in ref.items():
            kind, part = k.split("_")
            arrays[f"{kind}{i}_{part}"] = v
    meta = {"provenance": provenance(), "cases": manifest}
    arrays["manifest"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["manifest"]))
        data = {k: z[k] for k in z.files if k != "manifest"}
    if not isinstance(meta, dict) or "cases" not in meta:
        raise RuntimeError(
            f"{path}: no stored inputs (an old format); regenerate with "
            "`python tests/accuracy/make_reference.py`."
        )
    return meta, data


def _stored_cases(path: Path, meta: dict[str, Any], data: dict[str, np.ndarray]) -> list[Case]:
    out = []
    for m in meta["cases"]:
        kwargs = {k: data[v["input"]] if isinstance(v, dict) else v for k, v in m["kwargs"].items()}
        case = Case(
            m["name"],
            m["fn"],
            m["dtype"],
            tuple(data[k] for k in m["args"]),
            kwargs,
            soft=m["soft"],
            classes=m["classes"],
            grad=m["grad"],
            grad_idx=None if m["grad_idx"] is None else data[m["grad_idx"]],
        )
        if case.digest() != m["digest"]:
            raise RuntimeError(
                f"{path}: the stored inputs of {case.name} do not hash to their stored digest "
                f"({case.digest()} != {m['digest']}): the file is damaged; regenerate with "
                "`python tests/accuracy/make_reference.py`."
            )
        out.append(case)
    return out


def load(dtype: str, path: Path | None = None) -> list[Loaded]:
    """The stored cases of ``dtype``, their inputs and references (nothing is rebuilt)."""
    path = DATA_DIR / f"{dtype}.npz" if path is None else path
    meta, data = _read(path)
    out = []
    for i, case in enumerate(_stored_cases(path, meta, data)):

        def ref(p: str) -> tuple[np.ndarray, ...]:
            return (
                data[f"{p}_hi"],
                np.ldexp(data[f"{p}_lo"].astype(np.float64), -53),
                data[f"{p}_e"].astype(np.int64),
            )

        grad = ref(f"g{i}") if case.grad else None
        out.append(Loaded(case, ref(f"v{i}"), grad, data.get(f"g{i}_k")))
    return out


# --------------------------------------------------------------------------------------------
# Is the stored suite the one this code builds on this machine?

CODE_CHANGED = (
    "the suite's code changed since the references were made "
    "(regenerate with `python tests/accuracy/make_reference.py`)"
)
PLATFORM = (
    "this machine builds the suite differently from the machine that made the references: "
    "a platform dependence in tests/accuracy/suite.py (do not regenerate; fix the suite)"
)


def _show(a: np.ndarray, i: int) -> str:
    """Element ``i`` of ``a``, with its sign visible (``-0.0``) and, for floats, its bits."""
    v = a.reshape(-1)[i]
    if a.dtype.kind == "f":
        bits = v.view(f"u{a.dtype.itemsize}")
        return f"{float(v)!r} (0x{int(bits):0{2 * a.dtype.itemsize}x})"
    return repr(v.item())


def _array_difference(what: str, stored: np.ndarray, built: np.ndarray) -> str | None:
    if stored.dtype != built.dtype or stored.shape != built.shape:
        return (
            f"{what}: stored {stored.dtype}{list(stored.shape)}, "
            f"built {built.dtype}{list(built.shape)}"
        )
    s = np.ascontiguousarray(stored).reshape(-1).view(f"u{stored.dtype.itemsize}")
    b = np.ascontiguousarray(built).reshape(-1).view(f"u{built.dtype.itemsize}")
    diff = np.flatnonzero(s != b)
    if diff.size == 0:
        return None
    i = int(diff[0])
    index = np.unravel_index(i, stored.shape) if stored.ndim > 1 else (i,)
    idx = ", ".join(str(int(j)) for j in index)
    return (
        f"{what}[{idx}]: stored {_show(stored, i)}, built {_show(built, i)} "
        f"({diff.size} of {stored.size} entries differ)"
    )


def _case_difference(stored: Case, built: Case) -> str | None:
    if stored.name != built.name:
        return f"case {stored.name!r} is {built.name!r} in the built suite"
    for f in ("fn", "dtype", "soft", "classes", "grad"):
        if getattr(stored, f) != getattr(built, f):
            return f"{stored.name}: {f} is {getattr(stored, f)!r}, built {getattr(built, f)!r}"
    if len(stored.args) != len(built.args):
        return f"{stored.name}: {len(stored.args)} arguments, built {len(built.args)}"
    for j, (a, b) in enumerate(zip(stored.args, built.args, strict=True)):
        d = _array_difference(f"{stored.name} args[{j}]", np.asarray(a), np.asarray(b))
        if d:
            return d
    if sorted(stored.kwargs) != sorted(built.kwargs):
        return f"{stored.name}: options {sorted(stored.kwargs)}, built {sorted(built.kwargs)}"
    for k in sorted(stored.kwargs):
        a, b = stored.kwargs[k], built.kwargs[k]
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            d = _array_difference(f"{stored.name} {k}", np.asarray(a), np.asarray(b))
        else:
            d = None if (type(a), a) == (type(b), b) else f"{stored.name}: {k}={a!r}, built {b!r}"
        if d:
            return d
    if (stored.grad_idx is None) != (built.grad_idx is None):
        return f"{stored.name}: grad_idx {stored.grad_idx is not None}, built {built.grad_idx}"
    if stored.grad_idx is not None and built.grad_idx is not None:
        return _array_difference(f"{stored.name} grad_idx", stored.grad_idx, built.grad_idx)
    return None


def build_difference(dtype: str, path: Path | None = None) -> str | None:
    """None if :func:`suite.build` gives the stored inputs of ``dtype`` bit for bit; else why not.

    The message says which of two things happened, from the stored hash of ``suite.py``: its
    code changed since the references were made (regenerate), or it did not and this machine
    builds the suite differently (a platform dependence: fix the suite, do not regenerate).
    """
    path = DATA_DIR / f"{dtype}.npz" if path is None else path
    meta, data = _read(path)
    stored = _stored_cases(path, meta, data)
    built = build(dtype)
    diffs = [d for s, b in zip(stored, built, strict=False) if (d := _case_difference(s, b))]
    if len(stored) != len(built):
        diffs.append(f"{len(stored)} cases stored, {len(built)} built")
    if not diffs:
        return None
    made = meta["provenance"]
    here = provenance()
    why = CODE_CHANGED if made["suite_source"] != here["suite_source"] else PLATFORM
    shown = "\n  ".join(diffs[:5]) + ("\n  ..." if len(diffs) > 5 else "")
    return (
        f"{path}: {why}.\n"
        f"{len(diffs)} of {len(stored)} cases differ:\n  {shown}\n"
        f"made with {made}\nthis process: {here}"
    )
