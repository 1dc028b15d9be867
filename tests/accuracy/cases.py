"""Cases with their references: computing (mpmath), storing, loading, and running the library.

:func:`reference_for` restates each public function's documented semantics (label smoothing,
weights, the mean over the label axis, ignored samples, the reductions) on top of the exact
building blocks of :mod:`reference`. The stored form is one compressed ``.npz`` per dtype holding
a JSON manifest and the arrays; see ``make_reference.py``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from mpmath import mp, mpf

from . import reference as R
from .suite import Case, build

__all__ = [
    "DATA_DIR",
    "Loaded",
    "call_library",
    "load",
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


def save(path: Path, cases: Sequence[Case], refs: Sequence[dict[str, np.ndarray]]) -> None:
    """Write the encoded references of ``cases``; the inputs are rebuilt by :mod:`suite`."""
    arrays: dict[str, np.ndarray] = {}
    manifest = []
    for i, (case, ref) in enumerate(zip(cases, refs, strict=True)):
        manifest.append({"name": case.name, "digest": case.digest()})
        for k, v in ref.items():
            kind, part = k.split("_")
            arrays[f"{kind}{i}_{part}"] = v
    arrays["manifest"] = np.array(json.dumps(manifest))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)


def load(dtype: str, path: Path | None = None) -> list[Loaded]:
    """The suite of ``dtype`` (rebuilt) with the stored references; fails on stale data."""
    path = DATA_DIR / f"{dtype}.npz" if path is None else path
    cases = build(dtype)
    with np.load(path, allow_pickle=False) as z:
        manifest = json.loads(str(z["manifest"]))
        data = {k: z[k] for k in z.files}
    stale = [
        c.name
        for c, m in zip(cases, manifest, strict=False)
        if m["name"] != c.name or m["digest"] != c.digest()
    ]
    if stale or len(manifest) != len(cases):
        raise RuntimeError(
            f"{path}: the stored references do not match the suite ({len(stale)} cases differ, "
            f"e.g. {stale[:3]}); regenerate them with `python tests/accuracy/make_reference.py`."
        )
    out = []
    for i, case in enumerate(cases):

        def ref(p: str) -> tuple[np.ndarray, ...]:
            return (
                data[f"{p}_hi"],
                np.ldexp(data[f"{p}_lo"].astype(np.float64), -53),
                data[f"{p}_e"].astype(np.int64),
            )

        grad = ref(f"g{i}") if case.grad else None
        out.append(Loaded(case, ref(f"v{i}"), grad, data.get(f"g{i}_k")))
    return out
