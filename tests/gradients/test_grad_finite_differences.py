"""value_and_grad against fourth-order central finite differences, every loss x every option.

Each case draws random float64 inputs, computes ``value_and_grad(loss)(...)`` and compares the
gradient with finite differences of the same loss (``validate=False`` so that probabilities may be
perturbed off the simplex: for probability inputs the gradient is the unconstrained partial
derivative). With ``reduction="none"`` the differentiated quantity is the sum of the values. The
value returned next to the gradient must be bit-for-bit what the loss itself returns.
"""

from __future__ import annotations

import inspect
import itertools
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from gradfd import assert_grad_matches, fd_grad, scalar_of, steps_for

import crossentropy as ce

REDUCTIONS = ("none", "mean", "sum")


@dataclass
class Case:
    name: str
    loss: Any
    shape: tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)
    probabilities: bool = False  # predictions are probabilities (else logits/reals)
    labels: str = "binary"  # binary | soft01 | onehot | soft_simplex | sparse | real
    sample_weight: bool = False
    positional: tuple[Any, ...] = ()  # extra positional args after (labels, preds)

    def axis(self) -> int:
        return int(self.kwargs.get("axis", -1)) % len(self.shape)

    def out_shape(self) -> tuple[int, ...]:
        elementwise = self.loss in (
            ce.sigmoid_cross_entropy_with_logits,
            ce.weighted_cross_entropy_with_logits,
        )
        if elementwise:
            return self.shape
        ax = self.axis()
        return self.shape[:ax] + self.shape[ax + 1 :]


def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


def make_inputs(case: Case) -> tuple[Any, np.ndarray, dict[str, Any]]:
    rng = _rng(case.name)
    ax = case.axis()
    c = case.shape[ax]
    if case.probabilities:
        if case.labels in ("onehot", "soft_simplex", "sparse"):
            # a distribution along the class axis, every entry in [0.02, 0.98]
            raw = rng.uniform(0.2, 1.0, case.shape)
            x = raw / raw.sum(axis=ax, keepdims=True)
        else:
            x = rng.uniform(0.02, 0.98, case.shape)
    else:
        x = rng.normal(0.0, 3.0, case.shape)
    if case.labels == "binary":
        y: Any = rng.integers(0, 2, case.shape).astype(np.float64)
    elif case.labels == "soft01":
        y = rng.uniform(0.0, 1.0, case.shape)
    elif case.labels == "real":
        y = rng.normal(0.0, 2.0, case.shape)
    elif case.labels in ("onehot", "soft_simplex"):
        if case.labels == "onehot":
            k = rng.integers(0, c, case.out_shape())
            y = np.moveaxis(np.eye(c)[k], -1, ax)
        else:
            raw = rng.uniform(0.0, 1.0, case.shape)
            y = raw / raw.sum(axis=ax, keepdims=True)
    else:  # sparse
        y = rng.integers(0, c, case.out_shape())
        ignore = case.kwargs.get("ignore_index")
        if ignore is not None:
            y.ravel()[::3] = ignore  # a third of the samples ignored
    extra = {}
    if case.sample_weight:
        w = rng.uniform(0.5, 2.0, case.out_shape())
        if w.size > 1:
            w.ravel()[1] = 0.0  # one zero-weight sample
        extra["sample_weight"] = w
    return y, x, extra


def _cases() -> list[Case]:
    out: list[Case] = []

    def add(name: str, loss: Any, shape: tuple[int, ...], **kw: Any) -> None:
        for red, sw in itertools.product(REDUCTIONS, (False, True)):
            c = Case(f"{name}-{red}-{'sw' if sw else 'nosw'}", loss, shape, sample_weight=sw, **kw)
            c.kwargs = {**c.kwargs, "reduction": red}
            out.append(c)

    bce = ce.binary_crossentropy
    for logits in (False, True):
        tag = f"bce-logits{int(logits)}"
        base = {"from_logits": logits}
        p = not logits
        add(f"{tag}-plain", bce, (3, 4), kwargs=dict(base), probabilities=p)
        add(f"{tag}-soft", bce, (3, 4), kwargs=dict(base), probabilities=p, labels="soft01")
        add(f"{tag}-ls", bce, (3, 4), kwargs={**base, "label_smoothing": 0.1}, probabilities=p)
        add(f"{tag}-pw", bce, (3, 4), kwargs={**base, "pos_weight": 2.5}, probabilities=p)
        add(
            f"{tag}-pwvec-soft",
            bce,
            (3, 4),
            kwargs={**base, "pos_weight": np.array([0.5, 1.0, 3.0, 0.0])},
            probabilities=p,
            labels="soft01",
        )
        add(f"{tag}-axis0", bce, (2, 3, 4), kwargs={**base, "axis": 0}, probabilities=p)
        add(
            f"{tag}-axis1-all",
            bce,
            (2, 3, 4),
            kwargs={
                **base,
                "axis": 1,
                "label_smoothing": 0.2,
                "pos_weight": np.array([1.5, 0.25, 1.0, 2.0]),
            },
            probabilities=p,
            labels="soft01",
        )
        add(f"{tag}-1d", bce, (5,), kwargs=dict(base), probabilities=p)

    sig = ce.sigmoid_cross_entropy_with_logits
    add("sig-plain", sig, (3, 4))
    add("sig-soft", sig, (3, 4), labels="soft01")
    add("sig-pw", sig, (3, 4), kwargs={"pos_weight": 0.3}, labels="soft01")
    add("sig-pwvec", sig, (2, 3, 4), kwargs={"pos_weight": np.array([1.0, 2.0, 0.5, 4.0])})

    wce = ce.weighted_cross_entropy_with_logits
    add("wce-scalar", wce, (3, 4), positional=(2.0,), labels="soft01")
    add("wce-vec", wce, (3, 4), positional=(np.array([0.1, 1.0, 5.0, 0.0]),))

    cce = ce.categorical_crossentropy
    for logits in (False, True):
        tag = f"cce-logits{int(logits)}"
        base = {"from_logits": logits}
        p = not logits
        add(f"{tag}-onehot", cce, (3, 4), kwargs=dict(base), probabilities=p, labels="onehot")
        add(f"{tag}-soft", cce, (3, 4), kwargs=dict(base), probabilities=p, labels="soft_simplex")
        add(
            f"{tag}-ls",
            cce,
            (3, 4),
            kwargs={**base, "label_smoothing": 0.15},
            probabilities=p,
            labels="onehot",
        )
        add(
            f"{tag}-cw",
            cce,
            (3, 4),
            kwargs={**base, "class_weight": np.array([0.5, 2.0, 0.0, 1.0])},
            probabilities=p,
            labels="soft_simplex",
        )
        add(
            f"{tag}-axis0",
            cce,
            (4, 3),
            kwargs={**base, "axis": 0},
            probabilities=p,
            labels="onehot",
        )
        add(
            f"{tag}-axis1-all",
            cce,
            (2, 4, 3),
            kwargs={
                **base,
                "axis": 1,
                "label_smoothing": 0.3,
                "class_weight": np.array([1.0, 0.5, 3.0, 2.0]),
            },
            probabilities=p,
            labels="soft_simplex",
        )

    sce = ce.softmax_cross_entropy_with_logits
    add("sce-onehot", sce, (3, 4), labels="onehot")
    add("sce-soft-ls", sce, (3, 4), kwargs={"label_smoothing": 0.1}, labels="soft_simplex")
    add(
        "sce-axis0-cw",
        sce,
        (4, 2, 3),
        kwargs={"axis": 0, "class_weight": np.array([2.0, 1.0, 0.25, 1.0])},
        labels="onehot",
    )

    for loss, logits, tag in (
        (ce.sparse_categorical_crossentropy, False, "scce-probs"),
        (ce.sparse_categorical_crossentropy, True, "scce-logits"),
        (ce.sparse_softmax_cross_entropy_with_logits, True, "ssce"),
    ):
        base = {"from_logits": True} if logits and tag.startswith("scce") else {}
        p = not logits
        add(f"{tag}-plain", loss, (3, 4), kwargs=dict(base), probabilities=p, labels="sparse")
        add(
            f"{tag}-ignore",
            loss,
            (5, 4),
            kwargs={**base, "ignore_index": -100},
            probabilities=p,
            labels="sparse",
        )
        add(
            f"{tag}-ls",
            loss,
            (3, 4),
            kwargs={**base, "label_smoothing": 0.2},
            probabilities=p,
            labels="sparse",
        )
        add(
            f"{tag}-cw",
            loss,
            (3, 4),
            kwargs={**base, "class_weight": np.array([0.5, 2.0, 0.0, 1.0])},
            probabilities=p,
            labels="sparse",
        )
        add(
            f"{tag}-axis0",
            loss,
            (4, 3),
            kwargs={**base, "axis": 0},
            probabilities=p,
            labels="sparse",
        )
        add(
            f"{tag}-axis1-all",
            loss,
            (2, 4, 3),
            kwargs={
                **base,
                "axis": 1,
                "ignore_index": 1,
                "label_smoothing": 0.1,
                "class_weight": np.array([1.0, 0.5, 3.0, 2.0]),
            },
            probabilities=p,
            labels="sparse",
        )

    bfl = ce.binary_focal_crossentropy
    for logits in (False, True):
        tag = f"bfocal-logits{int(logits)}"
        base = {"from_logits": logits}
        p = not logits
        for gamma in (0.0, 0.5, 2.0, 3.7):
            add(f"{tag}-g{gamma}", bfl, (3, 4), kwargs={**base, "gamma": gamma}, probabilities=p)
        add(
            f"{tag}-alpha-soft",
            bfl,
            (3, 4),
            kwargs={**base, "gamma": 1.5, "alpha": 0.25},
            probabilities=p,
            labels="soft01",
        )
        add(
            f"{tag}-axis0-all",
            bfl,
            (3, 2, 4),
            kwargs={**base, "gamma": 2.0, "alpha": 0.7, "label_smoothing": 0.1, "axis": 0},
            probabilities=p,
            labels="soft01",
        )

    cfl = ce.categorical_focal_crossentropy
    for logits in (False, True):
        tag = f"cfocal-logits{int(logits)}"
        base = {"from_logits": logits}
        p = not logits
        for gamma in (0.0, 0.5, 2.0, 3.7):
            add(
                f"{tag}-g{gamma}",
                cfl,
                (3, 4),
                kwargs={**base, "gamma": gamma},
                probabilities=p,
                labels="onehot",
            )
        add(
            f"{tag}-alpha-soft",
            cfl,
            (3, 4),
            kwargs={**base, "gamma": 1.5, "alpha": 0.25},
            probabilities=p,
            labels="soft_simplex",
        )
        add(
            f"{tag}-axis1-all",
            cfl,
            (2, 4, 3),
            kwargs={
                **base,
                "gamma": 2.0,
                "alpha": np.array([0.25, 0.5, 1.0, 0.0]),
                "label_smoothing": 0.1,
                "axis": 1,
            },
            probabilities=p,
            labels="soft_simplex",
        )

    mse = ce.mean_squared_error
    add("mse-plain", mse, (3, 4), labels="real")
    add("mse-axis0", mse, (2, 3, 4), kwargs={"axis": 0}, labels="real")
    add("mse-1d", mse, (6,), labels="real")
    return out


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_gradient_matches_finite_differences(case: Case) -> None:
    y, x, extra = make_inputs(case)
    kwargs = {**case.kwargs, **extra}
    vg = ce.value_and_grad(case.loss)
    res = vg(y, x, *case.positional, **kwargs)

    # the value is exactly the loss's own output
    expected_value = case.loss(y, x, *case.positional, **kwargs)
    np.testing.assert_array_equal(res.value, expected_value)
    assert np.asarray(res.value).dtype == np.asarray(expected_value).dtype

    assert res.grad.shape == x.shape
    assert res.grad.dtype == np.float64

    def f(xx: np.ndarray) -> float:
        return scalar_of(case.loss(y, xx, *case.positional, validate=False, **kwargs))

    fd = fd_grad(f, x, steps_for(x, probabilities=case.probabilities))
    assert_grad_matches(res.grad, fd)


def test_case_table_covers_every_loss() -> None:
    losses = {c.loss for c in CASES}
    public = {getattr(ce, n) for n in ce.__all__}
    registered = {
        f for f in public if callable(f) and f not in (ce.value_and_grad, ce.grad, ce.ValueAndGrad)
    }
    # every public loss (everything value_and_grad accepts) appears in the table
    accepted = set()
    for f in registered:
        try:
            ce.value_and_grad(f)
        except TypeError:
            continue
        accepted.add(f)
    # linear_cross_entropy's finite-difference checks are in tests/test_linear.py
    assert accepted == losses | {ce.linear_cross_entropy}
    assert len(losses) == 10


# ---------------------------------------------------------------------------------------------
# Edge rows: ties, the two branches of the argmax entry (S < 1 and S >= 1, and S near 1),
# large logits, probabilities near 0 and 1

EDGE_LOGITS = np.array(
    [
        [25.0, 25.0, -3.0],  # a tie at the maximum, the label on the second
        [3.0, 2.9999, 0.0],  # S just below 1... plus a third class
        [2.0, 2.0 - np.log(1.0001), -40.0],  # S just below 1
        [0.0, 0.0, 0.0],  # S = 2
        [-25.0, 10.0, 10.0],
        [30.0, -5.0, 1.0],  # confident and correct
        [30.0, -5.0, 1.0],  # confident and wrong
    ]
)
EDGE_LABELS = np.array([1, 0, 2, 1, 2, 0, 2])
EDGE_PROBS = np.array(
    [
        [0.998, 0.001, 0.001],
        [0.001, 0.998, 0.001],
        [1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0],
        [0.5, 0.49, 0.01],
        [0.05, 0.05, 0.9],
        [0.7, 0.2, 0.1],
        [0.01, 0.01, 0.98],
    ]
)
EDGE_CASES = [
    pytest.param(loss, probs, kw, id=f"{loss.__name__}-{'p' if probs else 'x'}-{i}")
    for i, (loss, probs, kw) in enumerate(
        [
            (ce.sparse_softmax_cross_entropy_with_logits, False, {}),
            (ce.sparse_softmax_cross_entropy_with_logits, False, {"label_smoothing": 1.0}),
            (
                ce.sparse_softmax_cross_entropy_with_logits,
                False,
                {"label_smoothing": 0.3, "class_weight": np.array([1.0, 2.0, 0.5])},
            ),
            (ce.sparse_categorical_crossentropy, True, {"label_smoothing": 0.2}),
            (ce.sparse_categorical_crossentropy, True, {"label_smoothing": 1.0}),
            (ce.categorical_crossentropy, True, {"class_weight": np.array([1.0, 2.0, 0.5])}),
            (ce.softmax_cross_entropy_with_logits, False, {"label_smoothing": 0.1}),
            *[
                (ce.categorical_focal_crossentropy, probs, {"gamma": g, "label_smoothing": ls})
                for probs in (False, True)
                for g in (0.5, 2.0)
                for ls in (0.0, 1.0)
            ],
            *[
                (ce.binary_focal_crossentropy, probs, {"gamma": g, "alpha": 0.3})
                for probs in (False, True)
                for g in (0.0, 0.5, 2.0)
            ],
            (ce.binary_crossentropy, True, {"pos_weight": np.array([1.0, 2.0, 3.0])}),
            (ce.binary_crossentropy, False, {"label_smoothing": 0.1}),
            (ce.sigmoid_cross_entropy_with_logits, False, {"pos_weight": 0.5}),
        ]
    )
]


@pytest.mark.parametrize(("loss", "probs", "kw"), EDGE_CASES)
def test_gradient_at_edge_rows(loss: Any, probs: bool, kw: dict[str, Any]) -> None:
    name = loss.__name__
    x = EDGE_PROBS if probs else EDGE_LOGITS
    if name.startswith("sparse"):
        y: Any = EDGE_LABELS
    else:
        y = np.eye(3)[EDGE_LABELS]
    if "from_logits" in inspect.signature(loss).parameters:
        kw = {**kw, "from_logits": not probs}
    for reduction in ("none", "mean"):
        g = ce.grad(loss)(y, x, reduction=reduction, **kw)

        def f(xx: np.ndarray, reduction: str = reduction) -> float:
            return scalar_of(loss(y, xx, reduction=reduction, validate=False, **kw))

        assert_grad_matches(g, fd_grad(f, x, steps_for(x, probabilities=probs)))
