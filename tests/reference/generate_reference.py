"""Generate ``reference.json``: loss values computed with mpmath at 80 digits, from the formulas.

Run from the repository root::

    python tests/reference/generate_reference.py

The formulas are written independently of the library and without cancellation, e.g.
``-log softmax(x)_k = log1p(sum_{j != k} exp(x_j - x_k))``, so the reference is exact to far more
digits than float64 holds. For each case the inputs are rounded to float64 and to float32 first,
and the reference is computed from the rounded inputs, then rounded once to the dtype.
The edge conventions match the library's documented limits (e.g. several +inf logits share the
probability mass evenly).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import mpmath as mp
import numpy as np

DPS = 80  # digits; set only inside build(), never globally (other tests share mpmath)
INF = float("inf")


def mpf(v: float) -> Any:
    return mp.mpf(v) if math.isfinite(v) else (mp.inf if v > 0 else -mp.inf)


# ------------------------------------------------------------------------------------ formulas


def nll_softmax(row: list[float], k: int) -> Any:
    """-log softmax(row)_k, without cancellation."""
    n_inf = sum(1 for v in row if v == INF)
    if n_inf:
        return mp.log(n_inf) if row[k] == INF else mp.inf
    if row[k] == -INF:
        return mp.inf
    xk = mpf(row[k])
    return mp.log1p(mp.fsum(mp.exp(mpf(v) - xk) for j, v in enumerate(row) if j != k and v > -INF))


def softmax(row: list[float]) -> list[Any]:
    return [mp.exp(-nll_softmax(row, k)) for k in range(len(row))]


def logsumexp(row: list[float]) -> Any:
    if any(v == INF for v in row):
        return mp.inf
    finite = [mpf(v) for v in row if v > -INF]
    if not finite:
        return -mp.inf
    i = finite.index(max(finite))
    m = finite[i]
    return m + mp.log1p(mp.fsum(mp.exp(v - m) for j, v in enumerate(finite) if j != i))


def softplus(x: float) -> Any:
    if x == INF:
        return mp.inf
    if x == -INF:
        return mp.mpf(0)
    v = mpf(x)
    return v + mp.log1p(mp.exp(-v)) if v > 0 else mp.log1p(mp.exp(v))


def sigmoid(x: float) -> Any:
    if x == INF:
        return mp.mpf(1)
    if x == -INF:
        return mp.mpf(0)
    return 1 / (1 + mp.exp(-mpf(x)))


def xlog(coef: Any, nl: Any) -> Any:
    """coef * nl with 0 * inf = 0."""
    return mp.mpf(0) if coef == 0 else coef * nl


def neg_log(p: float) -> Any:
    return mp.inf if p == 0 else -mp.log(mpf(p))


def neg_log1m(p: float) -> Any:
    return mp.inf if p == 1 else -mp.log1p(-mpf(p))


def categorical(targets: list[float], row: list[float], logits: bool) -> Any:
    terms = []
    for c, a in enumerate(targets):
        if a == 0:
            continue
        nl = nll_softmax(row, c) if logits else neg_log(row[c])
        terms.append(mpf(a) * nl)
    return mp.fsum(terms)


def binary_elem(y: float, v: float, logits: bool, pw: float = 1.0) -> Any:
    pos = softplus(-v) if logits else neg_log(v)
    neg = softplus(v) if logits else neg_log1m(v)
    return xlog(mpf(pw) * mpf(y), pos) + xlog(1 - mpf(y), neg)


def focal_elem(y: float, v: float, logits: bool, gamma: float, alpha: float | None) -> Any:
    p = sigmoid(v) if logits else mpf(v)
    q = sigmoid(-v) if logits else 1 - mpf(v)
    pos = softplus(-v) if logits else neg_log(v)
    neg = softplus(v) if logits else neg_log1m(v)
    a_pos = mpf(y) if alpha is None else mpf(alpha) * mpf(y)
    a_neg = 1 - mpf(y) if alpha is None else (1 - mpf(alpha)) * (1 - mpf(y))
    g = mpf(gamma)
    fq = mp.mpf(1) if gamma == 0 else q**g
    fp = mp.mpf(1) if gamma == 0 else p**g
    return xlog(a_pos, xlog(fq, pos)) + xlog(a_neg, xlog(fp, neg))


def focal_cat(targets: list[float], row: list[float], logits: bool, gamma: float) -> Any:
    probs = softmax(row) if logits else [mpf(v) for v in row]
    terms = []
    for c, a in enumerate(targets):
        if a == 0:
            continue
        nl = nll_softmax(row, c) if logits else neg_log(row[c])
        q = 1 - probs[c]
        if logits and all(v > -INF for v in row) and not any(v == INF for v in row):
            xc = mpf(row[c])
            others = mp.fsum(mp.exp(mpf(v) - xc) for j, v in enumerate(row) if j != c)
            q = others / (1 + others)
        f = mp.mpf(1) if gamma == 0 else q ** mpf(gamma)
        terms.append(mpf(a) * xlog(f, nl))
    return mp.fsum(terms)


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


def case(fn: str, args: list[Any], kwargs: dict[str, Any], compute: Any) -> dict[str, Any]:
    """Evaluate ``compute`` on the inputs rounded to each dtype; args[1] is the predictions."""
    out: dict[str, Any] = {"fn": fn, "args": args, "kwargs": kwargs, "expected": {}}
    for name, dt in (("float64", np.float64), ("float32", np.float32)):
        preds = rounded(args[1], dt)
        out["expected"][name] = [as_str(v) for v in compute(preds)]
    return out


def build() -> list[dict[str, Any]]:
    with mp.workdps(DPS):
        return _build()


def _build() -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []
    # Sparse and one-hot softmax cross-entropy, row by row.
    for row, k in ROWS:
        onehot = [1.0 if j == k else 0.0 for j in range(len(row))]
        cases.append(
            case("sparse_softmax_cross_entropy_with_logits", [[k], [row]], {},
                 lambda x, k=k: [nll_softmax(x[0], k)])
        )  # fmt: skip
        cases.append(
            case("softmax_cross_entropy_with_logits", [[onehot], [row]], {},
                 lambda x, t=onehot: [categorical(t, x[0], True)])
        )  # fmt: skip
    # Soft and smoothed labels.
    for row, _ in ROWS[:12]:
        c = len(row)
        soft = [1.0 / c] * c
        cases.append(
            case("softmax_cross_entropy_with_logits", [[soft], [row]], {},
                 lambda x, t=soft: [categorical(t, x[0], True)])
        )  # fmt: skip
        smooth = [0.9 + 0.1 / c] + [0.1 / c] * (c - 1)
        cases.append(
            case("sparse_softmax_cross_entropy_with_logits", [[0], [row]],
                 {"label_smoothing": 0.1},
                 lambda x, t=smooth: [categorical(t, x[0], True)])
        )  # fmt: skip
    # Sigmoid cross-entropy, element-wise, hostile logits, hard and soft labels, pos_weight.
    for y in (0.0, 1.0, 0.3):
        labels = [y] * len(HOSTILE_LOGITS)
        cases.append(
            case("sigmoid_cross_entropy_with_logits", [labels, HOSTILE_LOGITS], {},
                 lambda x, y=y: [binary_elem(y, v, True) for v in x])
        )  # fmt: skip
        cases.append(
            case("weighted_cross_entropy_with_logits", [labels, HOSTILE_LOGITS],
                 {"pos_weight": 2.5},
                 lambda x, y=y: [binary_elem(y, v, True, 2.5) for v in x])
        )  # fmt: skip
    # Binary cross-entropy from probabilities, element by element (axis of length 1).
    for y in (0.0, 1.0, 0.25):
        cases.append(
            case("binary_crossentropy", [[[y]] * len(HOSTILE_PROBS), [[p] for p in HOSTILE_PROBS]],
                 {}, lambda x, y=y: [binary_elem(y, r[0], False) for r in x])
        )  # fmt: skip
    # Categorical from probabilities.
    prob_rows = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1], [1e-300, 1.0 - 1e-12, 1e-12], [0.0, 1.0, 0.0]]
    for prow in prob_rows:
        for k in range(3):
            onehot = [1.0 if j == k else 0.0 for j in range(3)]
            cases.append(
                case("categorical_crossentropy", [[onehot], [prow]], {},
                     lambda x, t=onehot: [categorical(t, x[0], False)])
            )  # fmt: skip
    # Focal losses.
    for gamma in (0.5, 2.0):
        for alpha in (None, 0.25):
            for y in (0.0, 1.0):
                kw: dict[str, Any] = {"gamma": gamma, "from_logits": True}
                if alpha is not None:
                    kw["alpha"] = alpha
                finite = [v for v in HOSTILE_LOGITS if abs(v) < 1e5]
                cases.append(
                    case("binary_focal_crossentropy", [[[y]] * len(finite), [[v] for v in finite]],
                         kw, lambda x, y=y, g=gamma, a=alpha:
                         [focal_elem(y, r[0], True, g, a) for r in x])
                )  # fmt: skip
        for row, k in ROWS[:12]:
            onehot = [1.0 if j == k else 0.0 for j in range(len(row))]
            cases.append(
                case("categorical_focal_crossentropy", [[onehot], [row]],
                     {"gamma": gamma, "from_logits": True},
                     lambda x, t=onehot, g=gamma: [focal_cat(t, x[0], True, g)])
            )  # fmt: skip
    # Primitives.
    for row, _ in ROWS:
        cases.append(case("logsumexp", [None, [row]], {}, lambda x: [logsumexp(x[0])]))
        cases.append(
            case("log_softmax", [None, [row]], {},
                 lambda x: [-nll_softmax(x[0], k) for k in range(len(x[0]))])
        )  # fmt: skip
        cases.append(case("softmax", [None, [row]], {}, lambda x: softmax(x[0])))
    cases.append(case("softplus", [None, HOSTILE_LOGITS], {}, lambda x: [softplus(v) for v in x]))
    cases.append(case("sigmoid", [None, HOSTILE_LOGITS], {}, lambda x: [sigmoid(v) for v in x]))
    cases.append(
        case("log_sigmoid", [None, HOSTILE_LOGITS], {}, lambda x: [-softplus(-v) for v in x])
    )
    return cases


def main() -> None:
    cases = build()
    meta = {"generator": "tests/reference/generate_reference.py", "mpmath": mp.__version__,
            "dps": DPS}  # fmt: skip
    path = Path(__file__).with_name("reference.json")
    path.write_text(json.dumps({"meta": meta, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
