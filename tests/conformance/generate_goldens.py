"""Run the real frameworks over a grid of inputs and write the golden files of
``crossentropy.compat``.

Run it with an interpreter that has the frameworks (never the library's own environment)::

    python tests/conformance/generate_goldens.py            # writes tests/conformance/goldens/

It needs tensorflow-cpu, keras (3), tf-keras, torch, jax, optax and scikit-learn, and does not
need ``crossentropy``. Each framework gets one ``goldens/<module>.npz``: the input arrays, the
framework's outputs (or the error it raised), and a JSON ``meta`` entry recording the framework
versions, the machine and every case's call. ``test_goldens.py`` replays the cases through
``crossentropy.compat`` without the frameworks installed.

Importing this module imports only the standard library and NumPy (pytest collects it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
F32, F64 = np.float32, np.float64
DTYPES = (F32, F64)
SEED = 20240521


# --------------------------------------------------------------------------------------------
# Case records


class Case:
    """One call: ``module.call(*args, **kwargs)`` (``init``: constructor arguments of a class)."""

    def __init__(
        self,
        call: str,
        args: list[tuple[str, Any]],
        kwargs: dict[str, Any] | None = None,
        init: dict[str, Any] | None = None,
        tag: str = "",
    ) -> None:
        self.call = call
        self.args = args
        self.kwargs = kwargs or {}
        self.init = init
        self.tag = tag


def _encode(value: Any, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(value, np.ndarray):
        arrays[key] = value
        return {"array": key}
    if isinstance(value, tuple):
        return {"tuple": list(value)}
    if isinstance(value, (np.floating, np.integer)):
        return {"value": value.item()}
    return {"value": value}


class Recorder:
    """Runs cases through a framework and keeps inputs, outputs and errors for one module."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.arrays: dict[str, np.ndarray] = {}
        self.cases: list[dict[str, Any]] = []
        self.signatures: dict[str, list[list[str]]] = {}

    def signature(self, name: str, obj: Any) -> None:
        """Record ``obj``'s parameters (name, kind, default) for the signature test."""
        import inspect

        target = obj.__init__ if inspect.isclass(obj) else obj
        params = []
        for p in inspect.signature(target).parameters.values():
            if p.name == "self":
                continue
            default = "<required>" if p.default is p.empty else repr(p.default)
            params.append([p.name, p.kind.name, default])
        self.signatures[name] = params

    def run(self, case: Case, fw: Callable[..., Any]) -> None:
        i = len(self.cases)
        rec: dict[str, Any] = {
            "id": f"{self.module}.{case.call}[{i}]{('-' + case.tag) if case.tag else ''}",
            "call": case.call,
            "args": [_encode(v, f"{i}.arg{j}", self.arrays) for j, (_, v) in enumerate(case.args)],
            "kwargs": {k: _encode(v, f"{i}.kw.{k}", self.arrays) for k, v in case.kwargs.items()},
        }
        if case.init is not None:
            rec["init"] = {
                k: _encode(v, f"{i}.init.{k}", self.arrays) for k, v in case.init.items()
            }
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                res = fw(case)
            except Exception as err:  # the framework's own error: the compat must raise too
                rec["error"] = {"type": type(err).__name__, "message": str(err)[:300]}
                res = None
        rec["warnings"] = sorted(
            {w.category.__name__ for w in caught if not issubclass(w.category, DeprecationWarning)}
        )
        if res is not None:
            if isinstance(res, float):
                rec["result_kind"] = "float"
                res = np.asarray(res, dtype=np.float64)
            self.arrays[f"{i}.out"] = np.asarray(res)
            rec["out"] = f"{i}.out"
        self.cases.append(rec)

    def save(self, path: Path, versions: dict[str, str], notes: dict[str, Any]) -> None:
        meta = {
            "module": self.module,
            "versions": versions,
            "machine": machine(),
            "generator": "tests/conformance/generate_goldens.py",
            "seed": SEED,
            "notes": notes,
            "signatures": self.signatures,
            "cases": self.cases,
        }
        # One byte buffer for every array (dtype, shape and offset in the index): a few hundred
        # bytes per case instead of a zip entry per array.
        index, chunks, offset = {}, [], 0
        for key, arr in self.arrays.items():
            arr = np.asarray(arr).copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
            if arr.dtype.kind == "U":
                index[key] = {"strings": arr.tolist()}
                continue
            raw = arr.tobytes()
            index[key] = {"dtype": arr.dtype.str, "shape": list(arr.shape), "offset": offset}
            chunks.append(raw)
            offset += len(raw)
        meta["arrays"] = index
        np.savez_compressed(
            path,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            data=np.frombuffer(b"".join(chunks), dtype=np.uint8),
        )
        print(f"{path.name}: {len(self.cases)} cases, {path.stat().st_size / 1e3:.0f} kB")


def machine() -> dict[str, str]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu,
        "cpu_count": str(os.cpu_count()),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }


# --------------------------------------------------------------------------------------------
# Inputs (all from one seeded generator, stored in the goldens)

rng = np.random.default_rng(SEED)


def probs(shape: tuple[int, ...], dtype: Any, *, extreme: bool = False) -> np.ndarray:
    """Independent probabilities; ``extreme`` plants 0, 1, 1e-9, 1 - 1e-9 and 0.5."""
    p = rng.uniform(0.02, 0.98, shape)
    if extreme:
        flat = p.reshape(-1)
        specials = [0.0, 1.0, 1e-9, 1 - 1e-9, 0.5, 1e-30, 0.99999]
        idx = rng.choice(flat.size, size=min(flat.size, len(specials)), replace=False)
        flat[idx] = specials[: idx.size]
    return p.astype(dtype)


def bin_labels(shape: tuple[int, ...], dtype: Any, *, soft: bool = False) -> np.ndarray:
    y = rng.uniform(0, 1, shape) if soft else rng.integers(0, 2, shape).astype(float)
    return y.astype(dtype)


def logits(
    shape: tuple[int, ...], dtype: Any, *, extreme: bool = False, inf: bool = False
) -> np.ndarray:
    x = rng.normal(0, 3, shape)
    if extreme:
        flat = x.reshape(-1)
        specials = [30.0, -30.0, 100.0, -100.0, 1e4, -1e4, 17.0, -17.0]
        if inf:
            specials = [np.inf, -np.inf, *specials]
        idx = rng.choice(flat.size, size=min(flat.size, len(specials)), replace=False)
        flat[idx] = specials[: idx.size]
    return x.astype(dtype)


def simplex(
    shape: tuple[int, ...],
    axis: int,
    dtype: Any,
    *,
    extreme: bool = False,
    scale: float | None = None,
) -> np.ndarray:
    """Rows of probabilities along ``axis``; ``extreme`` puts exact zeros and a one-hot row;
    ``scale`` multiplies every row (rows that do not sum to 1)."""
    shp = list(shape)
    c = shp.pop(axis)
    p = rng.dirichlet(np.ones(c), size=tuple(shp) or None).reshape((*shp, c))
    if extreme:
        flat = p.reshape(-1, c)
        flat[0] = 0.0
        flat[0, 0] = 1.0
        if flat.shape[0] > 1:
            flat[1, -1] = 0.0
            flat[1] /= flat[1].sum()
        if flat.shape[0] > 2:
            flat[2] = 1e-12
            flat[2, 1] = 1.0 - 1e-12 * (c - 1)
    if scale is not None:
        p = p * scale
    return np.moveaxis(p, -1, axis).astype(dtype)


def class_ids(shape: tuple[int, ...], c: int) -> np.ndarray:
    return rng.integers(0, c, shape).astype(np.int64)


def one_hot(k: np.ndarray, c: int, axis: int, dtype: Any) -> np.ndarray:
    return np.moveaxis(np.eye(c)[k], -1, axis).astype(dtype)


def soft_labels(shape: tuple[int, ...], axis: int, dtype: Any) -> np.ndarray:
    return simplex(shape, axis, dtype)


SEED3_LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]])
SEED3_CLASSES = np.array([0, 1, 2, 0, 1])


# --------------------------------------------------------------------------------------------
# Keras 3 and tf.keras


def keras_cases() -> Iterator[Case]:
    for dt in DTYPES:
        n = dt.__name__
        # binary_crossentropy
        for shape, axes in (((6,), (-1,)), ((4, 3), (-1, 0)), ((2, 3, 4), (-1, 1))):
            for from_logits in (False, True):
                for extreme in (False, True):
                    pred = (
                        logits(shape, dt, extreme=extreme)
                        if from_logits
                        else probs(shape, dt, extreme=extreme)
                    )
                    for soft in (False, True):
                        y = bin_labels(shape, dt, soft=soft)
                        for ls in (0.0, 0.1):
                            for ax in axes:
                                yield Case(
                                    "binary_crossentropy",
                                    [("y_true", y), ("y_pred", pred)],
                                    {"from_logits": from_logits, "label_smoothing": ls, "axis": ax},
                                    tag=n,
                                )
        # categorical_crossentropy
        for shape, axes in (((5, 4), (-1, 0)), ((2, 3, 4), (-1, 1))):
            for ax in axes:
                c = shape[ax]
                k = class_ids(tuple(s for i, s in enumerate(shape) if i != ax % len(shape)), c)
                for from_logits in (False, True):
                    for variant in ("plain", "extreme", "unnormalised"):
                        if from_logits:
                            pred = logits(shape, dt, extreme=variant != "plain")
                        else:
                            pred = simplex(
                                shape,
                                ax,
                                dt,
                                extreme=variant == "extreme",
                                scale=0.7 if variant == "unnormalised" else None,
                            )
                        for lab in ("onehot", "soft"):
                            y = (
                                one_hot(k, c, ax, dt)
                                if lab == "onehot"
                                else soft_labels(shape, ax, dt)
                            )
                            for ls in (0.0, 0.2):
                                yield Case(
                                    "categorical_crossentropy",
                                    [("y_true", y), ("y_pred", pred)],
                                    {"from_logits": from_logits, "label_smoothing": ls, "axis": ax},
                                    tag=f"{n}-{variant}-{lab}",
                                )
        # sparse_categorical_crossentropy
        for shape in ((5, 4), (2, 3, 4)):
            c = shape[-1]
            k = class_ids(shape[:-1], c)
            for from_logits in (False, True):
                for extreme in (False, True):
                    pred = (
                        logits(shape, dt, extreme=extreme)
                        if from_logits
                        else simplex(shape, -1, dt, extreme=extreme)
                    )
                    for ignore in (None, 2, -1):
                        kk = k.copy()
                        if ignore is not None:
                            kk.reshape(-1)[::3] = ignore
                        yield Case(
                            "sparse_categorical_crossentropy",
                            [("y_true", kk), ("y_pred", pred)],
                            {"from_logits": from_logits, "ignore_class": ignore},
                            tag=n,
                        )
                    yield Case(
                        "sparse_categorical_crossentropy",
                        [("y_true", k[..., None]), ("y_pred", pred)],
                        {"from_logits": from_logits},
                        tag=f"{n}-trailing1",
                    )
        # binary_focal_crossentropy
        for shape in ((4, 3), (2, 3, 4)):
            y = bin_labels(shape, dt)
            for from_logits in (False, True):
                pred = (
                    logits(shape, dt, extreme=True)
                    if from_logits
                    else probs(shape, dt, extreme=True)
                )
                for balance in (False, True):
                    for alpha in (0.25, 0.6):
                        for gamma in (0.0, 0.5, 2.0):
                            for ls in (0.0, 0.1):
                                yield Case(
                                    "binary_focal_crossentropy",
                                    [("y_true", y), ("y_pred", pred)],
                                    {
                                        "apply_class_balancing": balance,
                                        "alpha": alpha,
                                        "gamma": gamma,
                                        "from_logits": from_logits,
                                        "label_smoothing": ls,
                                        "axis": -1,
                                    },
                                    tag=n,
                                )
            yield Case(
                "binary_focal_crossentropy",
                [("y_true", y), ("y_pred", probs(shape, dt))],
                {"axis": 0},
                tag=n,
            )
        # categorical_focal_crossentropy
        for shape, ax in (((5, 4), -1), ((5, 4), 0), ((2, 3, 4), -1)):
            c = shape[ax]
            k = class_ids(tuple(s for i, s in enumerate(shape) if i != ax % len(shape)), c)
            y = one_hot(k, c, ax, dt)
            for from_logits in (False, True):
                pred = (
                    logits(shape, dt, extreme=True)
                    if from_logits
                    else simplex(shape, ax, dt, extreme=True)
                )
                alphas: tuple[Any, ...] = (0.25,)
                if ax == -1:
                    alphas = (0.25, np.linspace(0.1, 0.4, c).astype(dt))
                for alpha in alphas:
                    for gamma in (0.5, 2.0):
                        for ls in (0.0, 0.1):
                            yield Case(
                                "categorical_focal_crossentropy",
                                [("y_true", y), ("y_pred", pred)],
                                {
                                    "alpha": alpha,
                                    "gamma": gamma,
                                    "from_logits": from_logits,
                                    "label_smoothing": ls,
                                    "axis": ax,
                                },
                                tag=n,
                            )
    # Seed 2 (SEEDS.md section 2), as the article's Python lists become float32.
    for y, p in (([[[0.0]]], [[[0.5]]]), ([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])):
        yield Case(
            "binary_crossentropy",
            [("y_true", np.array(y, F32)), ("y_pred", np.array(p, F32))],
            tag="seed2",
        )
    # Classes: every reduction, with and without sample weights, float32 (default) and float64.
    reductions = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
    for in_dt in DTYPES:
        for dtype in (None, "float64"):
            for red in reductions:
                for sw_kind in ("none", "vector", "column"):
                    yield from _keras_class_cases(in_dt, dtype, red, sw_kind)


def _sw(kind: str, n: int, dt: Any) -> Any:
    if kind == "none":
        return None
    w = rng.uniform(0, 2, n)
    w[0] = 0.0
    return (w if kind == "vector" else w[:, None]).astype(dt)


def _keras_class_cases(dt: Any, dtype: Any, red: Any, sw_kind: str) -> Iterator[Case]:
    tag = f"{dt.__name__}-dtype{dtype}-{red}-sw{sw_kind}"
    base = {"reduction": red}
    if dtype is not None:
        base["dtype"] = dtype
    sw = _sw(sw_kind, 4, dt)
    kw = {} if sw is None else {"sample_weight": sw}
    y, p, x = bin_labels((4, 3), dt), probs((4, 3), dt, extreme=True), logits((4, 3), dt)
    yield Case("BinaryCrossentropy", [("y_true", y), ("y_pred", p)], kw, init=dict(base), tag=tag)
    yield Case(
        "BinaryCrossentropy",
        [("y_true", y), ("y_pred", x)],
        kw,
        init={**base, "from_logits": True, "label_smoothing": 0.1},
        tag=tag,
    )
    yield Case(
        "BinaryFocalCrossentropy",
        [("y_true", y), ("y_pred", p)],
        kw,
        init={**base, "apply_class_balancing": True, "gamma": 1.5},
        tag=tag,
    )
    k = class_ids((4,), 5)
    yc, pc, xc = one_hot(k, 5, -1, dt), simplex((4, 5), -1, dt, scale=1.2), logits((4, 5), dt)
    yield Case(
        "CategoricalCrossentropy", [("y_true", yc), ("y_pred", pc)], kw, init=dict(base), tag=tag
    )
    yield Case(
        "CategoricalCrossentropy",
        [("y_true", yc), ("y_pred", xc)],
        kw,
        init={**base, "from_logits": True, "label_smoothing": 0.2},
        tag=tag,
    )
    yield Case(
        "CategoricalFocalCrossentropy",
        [("y_true", yc), ("y_pred", pc)],
        kw,
        init={**base, "gamma": 1.0},
        tag=tag,
    )
    kk = k.copy()
    kk[1] = 4
    yield Case(
        "SparseCategoricalCrossentropy",
        [("y_true", k), ("y_pred", pc)],
        kw,
        init=dict(base),
        tag=tag,
    )
    yield Case(
        "SparseCategoricalCrossentropy",
        [("y_true", kk), ("y_pred", xc)],
        kw,
        init={**base, "from_logits": True, "ignore_class": 4},
        tag=tag,
    )
    every = np.full(4, 4, dtype=np.int64)
    yield Case(
        "SparseCategoricalCrossentropy",
        [("y_true", every), ("y_pred", xc)],
        kw,
        init={**base, "from_logits": True, "ignore_class": 4},
        tag=tag + "-allignored",
    )
    # A (N, T) loss: sample weights per sample broadcast over T only as Keras allows.
    y3, p3 = bin_labels((4, 2, 3), dt), probs((4, 2, 3), dt)
    sw3 = None if sw is None else (sw if sw.ndim == 2 else sw[:, None])
    kw3 = {} if sw3 is None else {"sample_weight": sw3}
    yield Case(
        "BinaryCrossentropy",
        [("y_true", y3), ("y_pred", p3)],
        kw3,
        init=dict(base),
        tag=tag + "-3d",
    )


def run_keras(rec: Recorder) -> None:
    import keras

    def fw(case: Case) -> Any:
        args = [v for _, v in case.args]
        if case.init is not None:
            loss = getattr(keras.losses, case.call)(**case.init)
            return np.asarray(loss(*args, **case.kwargs))
        return np.asarray(getattr(keras.losses, case.call)(*args, **case.kwargs))

    for case in _with_doc("keras", keras_cases()):
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(keras.losses, call))
    rec.signature("Loss.__call__", keras.losses.Loss.__call__)


def tf_keras_cases() -> Iterator[Case]:
    for y, p in (([[[0.0]]], [[[0.5]]]), ([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])):
        yield Case(
            "binary_crossentropy",
            [("y_true", np.array(y, F32)), ("y_pred", np.array(p, F32))],
            tag="seed2",
        )
    for dt in DTYPES:
        n = dt.__name__
        for shape, axes in (((6,), (-1,)), ((4, 3), (-1, 0)), ((2, 3, 4), (-1, 1))):
            for from_logits in (False, True):
                pred = (
                    logits(shape, dt, extreme=True)
                    if from_logits
                    else probs(shape, dt, extreme=True)
                )
                for soft in (False, True):
                    y = bin_labels(shape, dt, soft=soft)
                    for ls in (0.0, 0.1):
                        for ax in axes:
                            yield Case(
                                "binary_crossentropy",
                                [("y_true", y), ("y_pred", pred)],
                                {"from_logits": from_logits, "label_smoothing": ls, "axis": ax},
                                tag=n,
                            )
        for shape, axes in (((5, 4), (-1, 0)), ((2, 3, 4), (-1, 1))):
            for ax in axes:
                c = shape[ax]
                k = class_ids(tuple(s for i, s in enumerate(shape) if i != ax % len(shape)), c)
                for from_logits in (False, True):
                    for variant in ("extreme", "unnormalised"):
                        pred = (
                            logits(shape, dt, extreme=True)
                            if from_logits
                            else simplex(
                                shape,
                                ax,
                                dt,
                                extreme=variant == "extreme",
                                scale=0.7 if variant == "unnormalised" else None,
                            )
                        )
                        y = one_hot(k, c, ax, dt)
                        for ls in (0.0, 0.2):
                            yield Case(
                                "categorical_crossentropy",
                                [("y_true", y), ("y_pred", pred)],
                                {"from_logits": from_logits, "label_smoothing": ls, "axis": ax},
                                tag=f"{n}-{variant}",
                            )
                    kk = k.copy()
                    kk.reshape(-1)[::3] = 1
                    pred = (
                        logits(shape, dt, extreme=True)
                        if from_logits
                        else simplex(shape, ax, dt, extreme=True)
                    )
                    for ignore in (None, 1):
                        yield Case(
                            "sparse_categorical_crossentropy",
                            [("y_true", kk), ("y_pred", pred)],
                            {"from_logits": from_logits, "axis": ax, "ignore_class": ignore},
                            tag=n,
                        )
        k = class_ids((5,), 4)
        yield Case(
            "sparse_categorical_crossentropy",
            [("y_true", k[:, None]), ("y_pred", simplex((5, 4), -1, dt))],
            tag=n + "-col",
        )


def run_tf_keras(rec: Recorder) -> None:
    import tf_keras

    def fw(case: Case) -> Any:
        return np.asarray(
            getattr(tf_keras.losses, case.call)(*[v for _, v in case.args], **case.kwargs)
        )

    for case in _with_doc("tf_keras", tf_keras_cases()):
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(tf_keras.losses, call))


# --------------------------------------------------------------------------------------------
# TensorFlow


def tf_cases() -> Iterator[Case]:
    yield Case(
        "softmax_cross_entropy_with_logits",
        [("labels", np.eye(3)[SEED3_CLASSES]), ("logits", SEED3_LOGITS.astype(F64))],
        tag="seed3",
    )
    yield Case(
        "sparse_softmax_cross_entropy_with_logits",
        [("labels", SEED3_CLASSES), ("logits", SEED3_LOGITS.astype(F64))],
        tag="seed3",
    )
    yield Case(
        "softmax_cross_entropy_with_logits",
        [("labels", np.eye(3, dtype=F32)[SEED3_CLASSES]), ("logits", SEED3_LOGITS.astype(F32))],
        tag="seed3-float32",
    )
    for dt in DTYPES:
        n = dt.__name__
        for shape in ((7,), (4, 3), (2, 3, 4)):
            for extreme, inf in ((False, False), (True, False), (True, True)):
                x = logits(shape, dt, extreme=extreme, inf=inf)
                for soft in (False, True):
                    z = bin_labels(shape, dt, soft=soft)
                    yield Case(
                        "sigmoid_cross_entropy_with_logits", [], {"labels": z, "logits": x}, tag=n
                    )
                    for q in (
                        3.0,
                        0.25,
                        np.array([0.5, 2.0, 4.0, 1.0][: shape[-1]], dt) if shape[-1] <= 4 else 2.0,
                    ):
                        yield Case(
                            "weighted_cross_entropy_with_logits",
                            [],
                            {"labels": z, "logits": x, "pos_weight": q},
                            tag=n,
                        )
        for shape, axes in (((5, 4), (-1, 0)), ((2, 3, 4), (-1, 0, 1)), ((6,), (-1,))):
            for ax in axes:
                c = shape[ax]
                k = class_ids(tuple(s for i, s in enumerate(shape) if i != ax % len(shape)), c)
                for variant in ("plain", "extreme", "big"):
                    x = logits(shape, dt, extreme=variant == "extreme")
                    if variant == "big":
                        x = (x * 10).astype(dt)
                    for lab in ("onehot", "soft"):
                        z = one_hot(k, c, ax, dt) if lab == "onehot" else soft_labels(shape, ax, dt)
                        yield Case(
                            "softmax_cross_entropy_with_logits",
                            [],
                            {"labels": z, "logits": x, "axis": ax},
                            tag=f"{n}-{variant}-{lab}",
                        )
        for shape in ((5,), (5, 4), (2, 3, 4)):
            k = class_ids(shape[:-1], shape[-1])
            for variant in ("plain", "extreme", "big"):
                x = logits(shape, dt, extreme=variant == "extreme")
                if variant == "big":
                    x = (x * 10).astype(dt)
                for kdt in (np.int32, np.int64):
                    yield Case(
                        "sparse_softmax_cross_entropy_with_logits",
                        [],
                        {"labels": k.astype(kdt), "logits": x},
                        tag=f"{n}-{variant}",
                    )
        bad = np.array([0, 3, 1])
        yield Case(
            "sparse_softmax_cross_entropy_with_logits",
            [],
            {"labels": bad, "logits": logits((3, 3), dt)},
            tag=n + "-outofrange",
        )


def run_tf(rec: Recorder) -> None:
    import tensorflow as tf

    def fw(case: Case) -> Any:
        return np.asarray(getattr(tf.nn, case.call)(*[v for _, v in case.args], **case.kwargs))

    for case in _with_doc("tf", tf_cases()):
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(tf.nn, call))


# --------------------------------------------------------------------------------------------
# PyTorch


def torch_cases() -> Iterator[Case]:
    for dt in DTYPES:
        n = dt.__name__
        shapes = ((5,), (6, 5), (3, 5, 4), (2, 5, 3, 2), (2, 5, 2, 2, 2))
        for shape in shapes:
            c = shape[0] if len(shape) == 1 else shape[1]
            tshape = () if len(shape) == 1 else (shape[0], *shape[2:])
            k = class_ids(tshape, c)
            for extreme in (False, True):
                x = logits(shape, dt, extreme=extreme)
                w = np.linspace(0.5, 2.0, c).astype(dt)
                for weight in (None, w):
                    for red in ("none", "mean", "sum"):
                        for ls in (0.0, 0.1):
                            kw: dict[str, Any] = {"reduction": red, "label_smoothing": ls}
                            if weight is not None:
                                kw["weight"] = weight
                            yield Case("cross_entropy", [("input", x), ("target", k)], kw, tag=n)
                            kk = k.copy()
                            if kk.ndim:
                                kk.reshape(-1)[::2] = -100
                                yield Case(
                                    "cross_entropy",
                                    [("input", x), ("target", kk)],
                                    kw,
                                    tag=n + "-ignored",
                                )
                                kw2 = {**kw, "ignore_index": 1}
                                yield Case(
                                    "cross_entropy",
                                    [("input", x), ("target", k)],
                                    kw2,
                                    tag=n + "-ignore1",
                                )
                            prob = simplex(shape, 0 if len(shape) == 1 else 1, dt)
                            yield Case(
                                "cross_entropy",
                                [("input", x), ("target", prob)],
                                kw,
                                tag=n + "-probs",
                            )
                            if ls == 0:
                                cd = 0 if len(shape) == 1 else 1
                                x64 = x.astype(F64)
                                m = x64.max(axis=cd, keepdims=True)
                                logp = (x64 - m) - np.log(
                                    np.exp(x64 - m).sum(axis=cd, keepdims=True)
                                )
                                kwn = {k_: v for k_, v in kw.items() if k_ != "label_smoothing"}
                                yield Case(
                                    "nll_loss",
                                    [("input", logp.astype(dt)), ("target", k)],
                                    kwn,
                                    tag=n,
                                )
                                if k.ndim:
                                    yield Case(
                                        "nll_loss",
                                        [("input", logp.astype(dt)), ("target", kk)],
                                        kwn,
                                        tag=n + "-ignored",
                                    )
            if len(shape) > 1:
                every = np.full(tshape, -100, dtype=np.int64)
                for red in ("none", "mean", "sum"):
                    for ls in (0.0, 0.1):
                        yield Case(
                            "cross_entropy",
                            [("input", logits(shape, dt)), ("target", every)],
                            {"reduction": red, "label_smoothing": ls},
                            tag=n + "-allignored",
                        )
        yield Case(
            "cross_entropy",
            [("input", logits((4, 3), dt)), ("target", class_ids((4,), 3))],
            {"size_average": False},
            tag=n + "-legacy",
        )
        yield Case(
            "cross_entropy",
            [("input", logits((4, 3), dt)), ("target", class_ids((4,), 3))],
            {"reduce": False},
            tag=n + "-legacy",
        )
        yield Case(
            "cross_entropy",
            [("input", logits((3, 3), dt)), ("target", np.array([0, 3, 1]))],
            tag=n + "-outofrange",
        )
        for shape in ((6,), (4, 3), (2, 3, 4)):
            for soft in (False, True):
                y = bin_labels(shape, dt, soft=soft)
                p = probs(shape, dt, extreme=True)
                x = logits(shape, dt, extreme=True, inf=True)
                w = rng.uniform(0.5, 2, shape[-1:]).astype(dt)
                for red in ("none", "mean", "sum"):
                    for weight in (None, w):
                        kw = {"reduction": red}
                        if weight is not None:
                            kw["weight"] = weight
                        yield Case("binary_cross_entropy", [("input", p), ("target", y)], kw, tag=n)
                        for pw in (None, np.array([3.0], dt), (w * 2).astype(dt)):
                            kw2 = dict(kw)
                            if pw is not None:
                                kw2["pos_weight"] = pw
                            yield Case(
                                "binary_cross_entropy_with_logits",
                                [("input", x), ("target", y)],
                                kw2,
                                tag=n,
                            )
        yield Case(
            "binary_cross_entropy",
            [("input", np.array([0.5, 1.5], dt)), ("target", np.array([1.0, 0.0], dt))],
            tag=n + "-outofrange",
        )


def linear_torch_cases() -> Iterator[Case]:
    """``F.linear_cross_entropy`` (PyTorch 2.13): own generator, recorded after every other
    torch case (the documentation's included), so that those cases, which draw from the
    module's ``rng`` and are named by their position, stay bit-identical."""
    lrng = np.random.default_rng([SEED, 16])
    for dt in DTYPES:
        n = dt.__name__
        for rows, d, c in ((7, 4, 5), (1, 3, 6), (0, 3, 4)):
            h = lrng.standard_normal((rows, d)).astype(dt)
            w = (lrng.standard_normal((c, d)) * 2).astype(dt)
            b = lrng.standard_normal(c).astype(dt)
            cw = lrng.uniform(0.5, 2.0, c).astype(dt)
            k = lrng.integers(0, c, rows)
            kk = k.copy()
            kk[::2] = -100
            prob = lrng.dirichlet(np.ones(c), rows).astype(dt)
            for red in ("none", "mean", "sum"):
                for ls in (0.0, 0.1):
                    for weight in (None, cw):
                        kw: dict[str, Any] = {"reduction": red, "label_smoothing": ls}
                        if weight is not None:
                            kw["weight"] = weight
                        args = [("input", h), ("linear_weight", w)]
                        yield Case("linear_cross_entropy", [*args, ("target", k)], kw, tag=n)
                        yield Case(
                            "linear_cross_entropy",
                            [*args, ("target", k)],
                            {**kw, "linear_bias": b},
                            tag=n + "-bias",
                        )
                        yield Case(
                            "linear_cross_entropy",
                            [*args, ("target", kk)],
                            kw,
                            tag=n + "-ignored",
                        )
                        yield Case(
                            "linear_cross_entropy",
                            [*args, ("target", np.full(rows, -100))],
                            kw,
                            tag=n + "-allignored",
                        )
                        yield Case(
                            "linear_cross_entropy",
                            [*args, ("target", k)],
                            {**kw, "ignore_index": 1},
                            tag=n + "-ignore1",
                        )
                        if weight is None:
                            yield Case(
                                "linear_cross_entropy",
                                [*args, ("target", prob)],
                                kw,
                                tag=n + "-probs",
                            )
        h = lrng.standard_normal(4).astype(dt)
        w = lrng.standard_normal((3, 4)).astype(dt)
        yield Case(
            "linear_cross_entropy",
            [("input", h), ("linear_weight", w), ("target", np.array(2))],
            tag=n + "-unbatched",
        )
        yield Case(
            "linear_cross_entropy",
            [("input", h.reshape(1, 1, 4)), ("linear_weight", w), ("target", np.array([[2]]))],
            tag=n + "-3d",
        )
        yield Case(
            "linear_cross_entropy",
            [("input", h[None]), ("linear_weight", w), ("target", np.array([3]))],
            tag=n + "-outofrange",
        )


def run_torch(rec: Recorder) -> None:
    import torch
    import torch.nn.functional as F

    def conv(v: Any) -> Any:
        return torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v

    def fw(case: Case) -> Any:
        out = getattr(F, case.call)(
            *[conv(v) for _, v in case.args], **{k: conv(v) for k, v in case.kwargs.items()}
        )
        return out.numpy()

    for case in _with_doc("torch", torch_cases()):
        rec.run(case, fw)
    for case in linear_torch_cases():
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(F, call))


# --------------------------------------------------------------------------------------------
# optax (JAX with 64-bit enabled, so that float64 stays float64)


def optax_cases() -> Iterator[Case]:
    for dt in DTYPES:
        n = dt.__name__
        for shape in ((7,), (4, 3), (2, 3, 4)):
            for extreme, inf in ((False, False), (True, False), (True, True)):
                x = logits(shape, dt, extreme=extreme, inf=inf)
                for soft in (False, True):
                    y = bin_labels(shape, dt, soft=soft)
                    yield Case(
                        "sigmoid_binary_cross_entropy", [("logits", x), ("labels", y)], tag=n
                    )
                    for alpha in (None, 0.25):
                        for gamma in (0.0, 0.5, 2.0):
                            yield Case(
                                "sigmoid_focal_loss",
                                [("logits", x), ("labels", y)],
                                {"alpha": alpha, "gamma": gamma},
                                tag=n,
                            )
        yield Case(
            "sigmoid_binary_cross_entropy",
            [("logits", logits((4, 3), dt)), ("labels", bin_labels((3,), dt))],
            tag=n + "-broadcast",
        )
        for shape, axes in (((5, 4), (-1, 0)), ((2, 3, 4), (-1, 1, (1, 2))), ((6,), (-1,))):
            for ax in axes:
                a0 = ax[0] if isinstance(ax, tuple) else ax
                cshape = tuple(s for i, s in enumerate(shape) if i != a0 % len(shape))
                c = shape[a0]
                k = class_ids(cshape, c)
                for variant in ("plain", "extreme", "inf", "big"):
                    x = logits(
                        shape, dt, extreme=variant in ("extreme", "inf"), inf=variant == "inf"
                    )
                    if variant == "big":
                        x = (x * 10).astype(dt)
                    for lab in ("onehot", "soft"):
                        y = one_hot(k, c, a0, dt) if lab == "onehot" else soft_labels(shape, a0, dt)
                        tag = f"{n}-{variant}-{lab}"
                        yield Case(
                            "softmax_cross_entropy",
                            [("logits", x), ("labels", y)],
                            {"axis": ax},
                            tag=tag,
                        )
                        yield Case(
                            "poly_loss_cross_entropy",
                            [("logits", x), ("labels", y)],
                            {"axis": ax, "epsilon": 2.0 if lab == "soft" else 1.0},
                            tag=tag,
                        )
                        if ax == -1:
                            yield Case(
                                "safe_softmax_cross_entropy",
                                [("logits", x), ("labels", y)],
                                tag=tag,
                            )
                    if not isinstance(ax, tuple):
                        yield Case(
                            "softmax_cross_entropy_with_integer_labels",
                            [("logits", x), ("labels", k)],
                            {"axis": ax},
                            tag=f"{n}-{variant}",
                        )
                    else:
                        kt = class_ids(shape[:1], shape[1] * shape[2])
                        yield Case(
                            "softmax_cross_entropy_with_integer_labels",
                            [("logits", x), ("labels", kt)],
                            {"axis": ax},
                            tag=f"{n}-{variant}-tupleaxis",
                        )
        # where masks, negative and out-of-range labels, -inf logits with zero labels
        x = logits((4, 5), dt)
        where = np.ones((4, 5), bool)
        where[0, 1] = where[2, 3] = where[3, 0] = False
        k = np.array([0, 4, 1, 2])
        y = one_hot(k, 5, -1, dt)
        yield Case(
            "softmax_cross_entropy",
            [("logits", x), ("labels", y)],
            {"where": where},
            tag=n + "-where",
        )
        yield Case(
            "poly_loss_cross_entropy",
            [("logits", x), ("labels", y)],
            {"where": where},
            tag=n + "-where",
        )
        yield Case(
            "softmax_cross_entropy_with_integer_labels",
            [("logits", x), ("labels", k)],
            {"where": where},
            tag=n + "-where",
        )
        yield Case(
            "softmax_cross_entropy_with_integer_labels",
            [("logits", x), ("labels", np.array([-1, 5, -5, -6]))],
            tag=n + "-badlabels",
        )
        xi = x.copy()
        xi[:, 0] = -np.inf
        yi = one_hot(np.array([1, 2, 3, 4]), 5, -1, dt)
        yield Case(
            "safe_softmax_cross_entropy", [("logits", xi), ("labels", yi)], tag=n + "-neginf"
        )
        yield Case("softmax_cross_entropy", [("logits", xi), ("labels", yi)], tag=n + "-neginf")


def run_optax(rec: Recorder) -> None:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    def conv(v: Any) -> Any:
        return jnp.asarray(v) if isinstance(v, np.ndarray) else v

    def fw(case: Case) -> Any:
        out = getattr(optax.losses, case.call)(
            *[conv(v) for _, v in case.args], **{k: conv(v) for k, v in case.kwargs.items()}
        )
        return np.asarray(out)

    for case in _with_doc("optax", optax_cases()):
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(optax.losses, call))


# --------------------------------------------------------------------------------------------
# scikit-learn


def sklearn_cases() -> Iterator[Case]:
    for dt in DTYPES:
        n = dt.__name__
        for extreme in (False, True):
            y = rng.integers(0, 2, 8)
            y[:2] = [0, 1]
            p1 = probs((8,), dt, extreme=extreme)
            for normalize in (True, False):
                for sw in (None, rng.uniform(0, 2, 8)):
                    kw: dict[str, Any] = {"normalize": normalize}
                    if sw is not None:
                        kw["sample_weight"] = sw.astype(dt)
                    yield Case("log_loss", [("y_true", y), ("y_proba", p1)], kw, tag=n + "-1d")
                    yield Case(
                        "log_loss", [("y_true", y), ("y_proba", p1[:, None])], kw, tag=n + "-col"
                    )
            k = rng.integers(0, 4, 9)
            k[:4] = [0, 1, 2, 3]
            p = simplex((9, 4), -1, dt, extreme=extreme)
            for normalize in (True, False):
                for sw in (None, rng.uniform(0, 2, 9)):
                    kw = {"normalize": normalize}
                    if sw is not None:
                        kw["sample_weight"] = sw
                    yield Case("log_loss", [("y_true", k), ("y_proba", p)], kw, tag=n + "-multi")
            names = np.array(["cat", "dog", "emu", "yak"])[k]
            yield Case("log_loss", [("y_true", names), ("y_proba", p)], tag=n + "-strings")
            yield Case(
                "log_loss",
                [("y_true", k[k != 2]), ("y_proba", p[k != 2])],
                {"labels": np.array([0, 1, 2, 3])},
                tag=n + "-labels",
            )
            yield Case(
                "log_loss",
                [("y_true", np.eye(4, dtype=np.int64)[k]), ("y_proba", p)],
                tag=n + "-indicator",
            )
            yield Case(
                "log_loss",
                [("y_true", k), ("y_proba", (p * 0.9).astype(dt))],
                tag=n + "-unnormalised",
            )
        yield Case(
            "log_loss",
            [("y_true", np.array([0, 1])), ("y_proba", np.array([0.5, 1.5], dt))],
            tag=n + "-outofrange",
        )
        yield Case(
            "log_loss",
            [("y_true", np.array([1, 1])), ("y_proba", np.array([0.5, 0.7], dt))],
            tag=n + "-oneclass",
        )


def run_sklearn(rec: Recorder) -> None:
    from sklearn import metrics

    def fw(case: Case) -> Any:
        return metrics.log_loss(*[v for _, v in case.args], **case.kwargs)

    for case in _with_doc("sklearn", sklearn_cases()):
        rec.run(case, fw)
    for call in sorted({c["call"] for c in rec.cases}):
        rec.signature(call, getattr(metrics, call))


# --------------------------------------------------------------------------------------------
# The inputs of docs/frameworks.md ("Why do the frameworks disagree?"): recorded like every
# other case, so the page can show the frameworks' own outputs next to the compat modules'.


def doc_cases() -> list[tuple[str, str, Case]]:
    """``(key, module, case)`` for each framework row of the docs page (fixed inputs)."""
    y2, p2 = np.array([[0.0, 1, 0, 1]], F32), np.array([[0.5, 0.8, 0.3, 0.5]], F32)
    y1, p0 = np.array([[1.0]], F32), np.array([[0.0]], F32)
    x3 = SEED3_LOGITS[:1].astype(F64)
    x30 = np.array([[30.0, 0.0, 0.0]])
    pr, yr = np.array([[0.2, 0.3, 0.1]]), np.array([[0.0, 1.0, 0.0]])
    yd, pd = np.array([[1.0]]), np.array([[1 - 1e-10]])
    xw = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [0.2, 0.1, 3.0], [1.0, 1.0, 1.0]])
    kw_ = np.array([0, 1, 2, 2])
    w3 = np.array([1.0, 2.0, 3.0])
    xc = np.linspace(-2.0, 3.0, 24).reshape(2, 3, 4)
    kc1, kc2 = np.array([[0, 2, 1, 1], [2, 0, 0, 1]]), np.array([[3, 0, 1], [2, 2, 0]])
    rows: list[tuple[str, str, Case]] = [
        ("bce.keras", "keras", Case("binary_crossentropy", [("y_true", y2), ("y_pred", p2)])),
        ("bce.tf_keras", "tf_keras", Case("binary_crossentropy", [("y_true", y2), ("y_pred", p2)])),
        ("bce.torch", "torch", Case("binary_cross_entropy", [("input", p2), ("target", y2)])),
        (
            "bce.sklearn",
            "sklearn",
            Case("log_loss", [("y_true", y2[0].astype(np.int64)), ("y_proba", p2[0])]),
        ),
        ("p0.keras", "keras", Case("binary_crossentropy", [("y_true", y1), ("y_pred", p0)])),
        ("p0.tf_keras", "tf_keras", Case("binary_crossentropy", [("y_true", y1), ("y_pred", p0)])),
        ("p0.torch", "torch", Case("binary_cross_entropy", [("input", p0), ("target", y1)])),
        (
            "p0.sklearn32",
            "sklearn",
            Case(
                "log_loss",
                [("y_true", np.array([1, 0])), ("y_proba", np.array([0.0, 0.0], F32))],
                {"normalize": False},
            ),
        ),
        (
            "p0.sklearn64",
            "sklearn",
            Case(
                "log_loss",
                [("y_true", np.array([1, 0])), ("y_proba", np.array([0.0, 0.0]))],
                {"normalize": False},
            ),
        ),
    ]
    for key, x in (("seed3", x3), ("conf64", x30), ("conf32", x30.astype(F32))):
        k = np.array([0])
        rows += [
            (
                f"{key}.tf",
                "tf",
                Case("sparse_softmax_cross_entropy_with_logits", [], {"labels": k, "logits": x}),
            ),
            (
                f"{key}.keras",
                "keras",
                Case(
                    "sparse_categorical_crossentropy",
                    [("y_true", k), ("y_pred", x)],
                    {"from_logits": True},
                ),
            ),
            (
                f"{key}.torch",
                "torch",
                Case("cross_entropy", [("input", x), ("target", k)], {"reduction": "none"}),
            ),
            (
                f"{key}.optax",
                "optax",
                Case("softmax_cross_entropy_with_integer_labels", [("logits", x), ("labels", k)]),
            ),
        ]
    rows += [
        (
            "renorm.keras",
            "keras",
            Case("categorical_crossentropy", [("y_true", yr), ("y_pred", pr)]),
        ),
        (
            "renorm.keras_sparse",
            "keras",
            Case("sparse_categorical_crossentropy", [("y_true", np.array([1])), ("y_pred", pr)]),
        ),
        (
            "renorm.tf_keras",
            "tf_keras",
            Case("categorical_crossentropy", [("y_true", yr), ("y_pred", pr)]),
        ),
        (
            "renorm.sklearn",
            "sklearn",
            Case(
                "log_loss",
                [("y_true", np.array([1])), ("y_proba", pr)],
                {"labels": np.array([0, 1, 2])},
            ),
        ),
        ("down.keras_fn", "keras", Case("binary_crossentropy", [("y_true", yd), ("y_pred", pd)])),
        (
            "down.keras_cls",
            "keras",
            Case("BinaryCrossentropy", [("y_true", yd), ("y_pred", pd)], init={}),
        ),
        (
            "down.keras_cls64",
            "keras",
            Case("BinaryCrossentropy", [("y_true", yd), ("y_pred", pd)], init={"dtype": "float64"}),
        ),
        ("down.torch", "torch", Case("binary_cross_entropy", [("input", pd), ("target", yd)])),
        ("dim.torch", "torch", Case("cross_entropy", [("input", xc), ("target", kc1)])),
        (
            "dim.keras",
            "keras",
            Case(
                "SparseCategoricalCrossentropy",
                [("y_true", kc2), ("y_pred", xc)],
                init={"from_logits": True, "dtype": "float64"},
            ),
        ),
        (
            "wmean.torch",
            "torch",
            Case("cross_entropy", [("input", xw), ("target", kw_)], {"weight": w3}),
        ),
        (
            "wmean.torch_probs",
            "torch",
            Case("cross_entropy", [("input", xw), ("target", np.eye(3)[kw_])], {"weight": w3}),
        ),
        (
            "ignored.torch",
            "torch",
            Case("cross_entropy", [("input", xw[:2]), ("target", np.array([-100, -100]))]),
        ),
        (
            "ignored.keras",
            "keras",
            Case(
                "SparseCategoricalCrossentropy",
                [("y_true", np.array([-1, -1])), ("y_pred", xw[:2])],
                init={"from_logits": True, "ignore_class": -1, "dtype": "float64"},
            ),
        ),
    ]
    for key, _, case in rows:
        case.tag = f"doc:{key}"
    return rows


def _with_doc(module: str, cases: Iterator[Case]) -> Iterator[Case]:
    yield from cases
    yield from (case for _, m, case in doc_cases() if m == module)


# --------------------------------------------------------------------------------------------

MODULES: dict[str, Callable[[Recorder], None]] = {
    "keras": run_keras,
    "tf_keras": run_tf_keras,
    "tf": run_tf,
    "torch": run_torch,
    "optax": run_optax,
    "sklearn": run_sklearn,
}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    res = {}
    for dist in (
        "tensorflow-cpu",
        "tensorflow",
        "keras",
        "tf-keras",
        "torch",
        "jax",
        "jaxlib",
        "optax",
        "scikit-learn",
        "numpy",
    ):
        with contextlib.suppress(PackageNotFoundError):
            res[dist] = version(dist)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "goldens")
    ap.add_argument("modules", nargs="*", default=list(MODULES))
    args = ap.parse_args(argv)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args.out.mkdir(parents=True, exist_ok=True)
    vers = versions()
    notes = {
        "keras_backend": os.environ["KERAS_BACKEND"],
        "jax_enable_x64": True,
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on)"),
    }
    for name in args.modules:
        global rng
        rng = np.random.default_rng([SEED, list(MODULES).index(name)])
        rec = Recorder(name)
        MODULES[name](rec)
        rec.save(args.out / f"{name}.npz", vers, notes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
