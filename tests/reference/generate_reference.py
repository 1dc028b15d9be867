"""Generate ``reference.json``: exact loss values from the formulas, with mpmath.

Run from the repository root::

    python tests/reference/generate_reference.py

The formulas are the shared references of ``tests/accuracy/reference.py`` (written without
cancellation, evaluated at 200 bits and more where a subtraction cancels), so this file holds only
the cases. For each case the inputs (labels and predictions) are rounded to float64 and to float32
first, as the test hands them to the library, and the reference is computed exactly from the
rounded inputs; label smoothing is applied exactly, ``y (1 - eps) + eps / C``. Values are stored
as 40-digit decimal strings, far more than float64 holds. The edge conventions are the
library's documented limits (e.g. several +inf logits share the probability mass evenly).

Nothing here depends on the machine: the inputs are literals rounded by IEEE conversions (no
libm, no sort, no unique) and mpmath computes in integers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mpmath as mp
import numpy as np

if __name__ == "__main__":  # run as a script: make the test tree importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.accuracy import reference as R

INF = float("inf")
mpf = R.X


# ------------------------------------------------------------------------------------ cases

HOSTILE_LOGITS = [
    0.0, 1e-30, -1e-30, 1e-8, -1e-8, 16.7, -16.7, 17.0, -17.0, 36.7, -36.7, 88.7, -88.7,
    89.0, -89.0, 709.0, -709.0, 710.0, -710.0, 745.0, -745.0, 1e4, -1e4, 1e30, -1e30, INF, -INF,
]  # fmt: skip
HOSTILE_PROBS = [0.0, 5e-324, 1e-45, 1e-12, 0.3, 0.5, 1 - 1e-12, float(np.nextafter(1.0, 0.0)), 1.0]
ROWS = [
    ([30.0, 0.0, 0.0], 0),
    ([30.0, 0.0, 0.0], 1),
    ([30.0] + [0.0] * 9, 0),
    ([20.0, 0.0, 0.0], 0),
    ([1e4, -1e4], 0),
    ([1e4, -1e4], 1),
    ([1e6, 1e6 + 1, 1e6 - 1], 1),
    ([1e6, 1e6 + 1, 1e6 - 1], 0),
    ([709.0, -709.0, 0.0], 0),
    ([-745.0, 0.0], 1),
    ([0.0, 0.0, 0.0, 0.0, 0.0], 2),
    ([12.0, 3.0, 2.0], 0),
    ([3.0, 10.0, 1.0], 1),
    ([1.0, 2.0, 5.0], 2),
    ([4.0, 6.5, 1.2], 0),
    ([3.0, 6.0, 1.0], 1),
    ([INF, 0.0, 0.0], 0),
    ([INF, 0.0, 0.0], 1),
    ([INF, INF, 0.0], 0),
    ([-INF, 0.0, 1.0], 1),
    ([-INF, 0.0, 1.0], 0),
    ([1e-30, -1e-30, 0.0], 2),
    ([88.7, -88.7, 0.0], 0),
]


def rounded(values: Any, dtype: Any) -> Any:
    return np.asarray(values, dtype=np.float64).astype(dtype).astype(np.float64).tolist()


def as_str(v: Any) -> str:
    if v == mp.inf:
        return "inf"
    if v == -mp.inf:
        return "-inf"
    return mp.nstr(v, 40)


Compute = Callable[[Any, Any], list[Any]]


def case(fn: str, args: list[Any], kwargs: dict[str, Any], compute: Compute) -> dict[str, Any]:
    """Evaluate ``compute(labels, preds)`` on the inputs rounded to each dtype, as exact mpmath
    numbers (nested like the inputs; labels None for the primitives, integer labels as given)."""
    out: dict[str, Any] = {"fn": fn, "args": args, "kwargs": kwargs, "expected": {}}
    labels, preds = args
    for name, dt in (("float64", np.float64), ("float32", np.float32)):
        x = _exact(rounded(preds, dt))
        y = labels
        if labels is not None and np.asarray(labels).dtype.kind == "f":
            y = _exact(rounded(labels, dt))
        values, _ = R.evaluate(compute, y, x)
        out["expected"][name] = [as_str(v) for v in values]
    return out


def _exact(v: Any) -> Any:
    return [_exact(e) for e in v] if isinstance(v, list) else mpf(v)


def nll(x: list[Any], k: int) -> Any:
    """-log softmax(x)_k."""
    return R.softmax_parts(x)[0][k]


def smoothed(k: int, c: int, eps: float) -> list[Any]:
    """The one-hot target of class ``k`` smoothed exactly: ``(1 - eps) [j = k] + eps / C``."""
    e = mpf(eps)
    return [(1 - e if j == k else 0) + e / c for j in range(c)]


def build() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    # Sparse and one-hot softmax cross-entropy, row by row.
    for row, k in ROWS:
        onehot = [1.0 if j == k else 0.0 for j in range(len(row))]
        cases.append(
            case("sparse_softmax_cross_entropy_with_logits", [[k], [row]], {},
                 lambda y, x: [nll(x[0], y[0])])
        )  # fmt: skip
        cases.append(
            case("softmax_cross_entropy_with_logits", [[onehot], [row]], {},
                 lambda y, x: [R.categorical_logits(y[0], x[0], [])[0]])
        )  # fmt: skip
    # Soft and smoothed labels.
    for row, _ in ROWS[:12]:
        c = len(row)
        cases.append(
            case("softmax_cross_entropy_with_logits", [[[1.0 / c] * c], [row]], {},
                 lambda y, x: [R.categorical_logits(y[0], x[0], [])[0]])
        )  # fmt: skip
        cases.append(
            case("sparse_softmax_cross_entropy_with_logits", [[0], [row]],
                 {"label_smoothing": 0.1},
                 lambda y, x, c=c: [R.categorical_logits(smoothed(y[0], c, 0.1), x[0], [])[0]])
        )  # fmt: skip
    # Sigmoid cross-entropy, element-wise, hostile logits, hard and soft labels, pos_weight.
    one, pw = mpf(1.0), mpf(2.5)
    for lab in (0.0, 1.0, 0.3):
        labels = [lab] * len(HOSTILE_LOGITS)
        cases.append(
            case("sigmoid_cross_entropy_with_logits", [labels, HOSTILE_LOGITS], {},
                 lambda y, x: [R.sigmoid_xent(a, v, one)[0] for a, v in zip(y, x, strict=True)])
        )  # fmt: skip
        cases.append(
            case("weighted_cross_entropy_with_logits", [labels, HOSTILE_LOGITS],
                 {"pos_weight": 2.5},
                 lambda y, x: [R.sigmoid_xent(a, v, pw)[0] for a, v in zip(y, x, strict=True)])
        )  # fmt: skip
    # Binary cross-entropy from probabilities, element by element (axis of length 1).
    for lab in (0.0, 1.0, 0.25):
        cases.append(
            case("binary_crossentropy",
                 [[[lab]] * len(HOSTILE_PROBS), [[p] for p in HOSTILE_PROBS]], {},
                 lambda y, x: [R.binary_probs(a[0], r[0], one)[0]
                               for a, r in zip(y, x, strict=True)])
        )  # fmt: skip
    # Categorical from probabilities.
    prob_rows = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1], [1e-300, 1.0 - 1e-12, 1e-12], [0.0, 1.0, 0.0]]
    for prow in prob_rows:
        for k in range(3):
            onehot = [1.0 if j == k else 0.0 for j in range(3)]
            cases.append(
                case("categorical_crossentropy", [[onehot], [prow]], {},
                     lambda y, x: [R.categorical_probs(y[0], x[0], [])[0]])
            )  # fmt: skip
    # Focal losses.
    for gamma in (0.5, 2.0):
        g = mpf(gamma)
        for alpha in (None, 0.25):
            al = None if alpha is None else mpf(alpha)
            for lab in (0.0, 1.0):
                kw: dict[str, Any] = {"gamma": gamma, "from_logits": True}
                if alpha is not None:
                    kw["alpha"] = alpha
                finite = [v for v in HOSTILE_LOGITS if abs(v) < 1e5]
                cases.append(
                    case("binary_focal_crossentropy",
                         [[[lab]] * len(finite), [[v] for v in finite]], kw,
                         lambda y, x, g=g, al=al: [R.binary_focal_logits(a[0], r[0], g, al)[0]
                                                   for a, r in zip(y, x, strict=True)])
                )  # fmt: skip
        for row, k in ROWS[:12]:
            onehot = [1.0 if j == k else 0.0 for j in range(len(row))]
            cases.append(
                case("categorical_focal_crossentropy", [[onehot], [row]],
                     {"gamma": gamma, "from_logits": True},
                     lambda y, x, g=g: [R.categorical_focal_logits(y[0], x[0], g, [])[0]])
            )  # fmt: skip
    # Primitives.
    for row, _ in ROWS:
        cases.append(case("logsumexp", [None, [row]], {}, lambda _, x: [R.logsumexp(x[0])]))
        cases.append(
            case("log_softmax", [None, [row]], {},
                 lambda _, x: [-v for v in R.softmax_parts(x[0])[0]])
        )  # fmt: skip
        cases.append(case("softmax", [None, [row]], {}, lambda _, x: R.softmax_parts(x[0])[1]))
    for fn, f in (("softplus", R.softplus), ("sigmoid", R.sigmoid), ("log_sigmoid", R.log_sigmoid)):
        cases.append(
            case(fn, [None, HOSTILE_LOGITS], {}, lambda _, x, f=f: [f(v) for v in x])
        )  # fmt: skip
    return cases


def main() -> None:
    cases = build()
    meta = {"generator": "tests/reference/generate_reference.py", "mpmath": mp.__version__,
            "reference": "tests/accuracy/reference.py", "bits": R.BASE_PREC}  # fmt: skip
    path = Path(__file__).with_name("reference.json")
    path.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
