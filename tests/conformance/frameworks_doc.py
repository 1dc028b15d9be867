"""The tables of ``docs/frameworks.md``, computed: the exact functions, each framework's own output
(read from the golden files) and ``crossentropy.compat``'s, for the same inputs.

``python tests/conformance/frameworks_doc.py`` rewrites the tables in place (between the
``<!-- table: NAME -->`` and ``<!-- end table -->`` markers); ``test_frameworks_doc.py`` checks
that the page is up to date.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

try:
    from .generate_goldens import doc_cases
    from .goldens import load
except ImportError:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from generate_goldens import doc_cases  # type: ignore[no-redef]
    from goldens import load  # type: ignore[no-redef]

DOC = Path(__file__).resolve().parents[2] / "docs" / "frameworks.md"
MARK = re.compile(r"(<!-- table: (\w+) -->\n)(.*?)(<!-- end table -->)", re.S)


def fmt(value: Any) -> str:
    """Shortest round-trip digits and the dtype: ``0.4915282 (float32)``."""
    if type(value) is float:
        return f"{value!r} (Python float)"
    arr = np.asarray(value)
    if arr.size != 1:
        return ", ".join(fmt(v) for v in arr.ravel())
    v = arr.reshape(())[()]
    digits = repr(float(v)) if arr.dtype == np.float64 else str(v)  # str: shortest for float32
    return f"{digits} ({arr.dtype})"


def _framework(key: str) -> tuple[str, str, Any, Any]:
    """(module, call, framework output, compat output) of a documented case."""
    for k, module, case in doc_cases():
        if k != key:
            continue
        golden = load(module)
        rec = next(c for c in golden.cases if c["id"].endswith(f"-doc:{key}"))
        expected = golden.expected(rec)
        if rec.get("result_kind") == "float":
            expected = float(expected)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = golden.call(rec)
        return module, case.call, expected, got
    raise KeyError(key)


Row = tuple[str, str, "str | Callable[[], Any]"]


def _exact(fn: Callable[[], Any]) -> str:
    try:
        return fmt(fn())
    except ValueError as err:
        return f"ValueError: *{str(err).split(';')[0].split(': ', 1)[1]}*"


def _mp_nll(x: np.ndarray) -> np.ndarray:
    """``logsumexp(x) - x[0]`` of each row with 50 digits, rounded once to ``x``'s dtype."""
    import mpmath

    with mpmath.workdps(50):
        vals = [
            mpmath.log(sum(mpmath.exp(mpmath.mpf(float(v))) for v in row))
            - mpmath.mpf(float(row[0]))
            for row in x
        ]
        return np.array([float(v) for v in vals], dtype=x.dtype)


def table(rows: list[Row]) -> str:
    lines = [
        "| Convention | Call | Framework's output | `crossentropy.compat` |",
        "|---|---|---|---|",
    ]
    for label, code, src in rows:
        if callable(src):
            lines.append(f"| {label} | `{code}` | | {_exact(src)} |")
        else:
            _, _, fw, got = _framework(src)
            lines.append(f"| {label} | `{code}` | {fmt(fw)} | {fmt(got)} |")
    return "\n".join(lines) + "\n"


def tables() -> dict[str, str]:
    import crossentropy as ce

    f32 = np.float32
    y2, p2 = np.array([[0.0, 1, 0, 1]], f32), np.array([[0.5, 0.8, 0.3, 0.5]], f32)
    y1, p0 = np.array([[1.0]], f32), np.array([[0.0]], f32)
    pr, yr = np.array([[0.2, 0.3, 0.1]]), np.array([[0.0, 1.0, 0.0]])
    yd, pd = np.array([[1.0]]), np.array([[1 - 1e-10]])
    xw = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [0.2, 0.1, 3.0], [1.0, 1.0, 1.0]])
    kw_, w3 = np.array([0, 1, 2, 2]), np.array([1.0, 2.0, 3.0])
    xc = np.linspace(-2.0, 3.0, 24).reshape(2, 3, 4)
    kc1, kc2 = np.array([[0, 2, 1, 1], [2, 0, 0, 1]]), np.array([[3, 0, 1], [2, 2, 0]])
    sce = ce.sparse_softmax_cross_entropy_with_logits
    out = {
        "bce": table(
            [
                ("exact", "ce.binary_crossentropy(y, p)", lambda: ce.binary_crossentropy(y2, p2)),
                ("Keras 3", "keras.binary_crossentropy(y, p)", "bce.keras"),
                (
                    "Keras 2 (tf.keras, tf_keras)",
                    "tf_keras.binary_crossentropy(y, p)",
                    "bce.tf_keras",
                ),
                ("PyTorch", "torch.binary_cross_entropy(p, y)", "bce.torch"),
                ("scikit-learn", "sklearn.log_loss(y[0], p[0])", "bce.sklearn"),
            ]
        ),
        "p0": table(
            [
                (
                    "exact",
                    "ce.binary_crossentropy([[1.]], [[0.]])",
                    lambda: ce.binary_crossentropy(y1, p0),
                ),
                ("Keras 3", "keras.binary_crossentropy(...)", "p0.keras"),
                ("Keras 2", "tf_keras.binary_crossentropy(...)", "p0.tf_keras"),
                ("PyTorch", "torch.binary_cross_entropy(...)", "p0.torch"),
                (
                    "scikit-learn, float32",
                    "sklearn.log_loss([1, 0], [0., 0.], normalize=False)",
                    "p0.sklearn32",
                ),
                ("scikit-learn, float64", "(the same, float64)", "p0.sklearn64"),
            ]
        ),
    }
    for key, x, label in (
        ("seed3", np.array([[12.0, 3, 2]]), "logits [[12, 3, 2]], float64 (SEEDS.md §3, row 0)"),
        ("conf64", np.array([[30.0, 0, 0]]), "logits [[30, 0, 0]], float64"),
        ("conf32", np.array([[30.0, 0, 0]], f32), "logits [[30, 0, 0]], float32"),
    ):
        out[key] = table(
            [
                (
                    "correctly rounded",
                    "mpmath, 50 digits, rounded once to the dtype",
                    lambda x=x: _mp_nll(x),
                ),
                (
                    "exact",
                    f"ce.sparse_softmax_cross_entropy_with_logits([0], x)  # {label}",
                    lambda x=x: sce(np.array([0]), x),
                ),
                (
                    "TensorFlow",
                    "tf.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=x)",
                    f"{key}.tf",
                ),
                (
                    "Keras 3",
                    "keras.sparse_categorical_crossentropy([0], x, from_logits=True)",
                    f"{key}.keras",
                ),
                ("PyTorch", "torch.cross_entropy(x, [0], reduction='none')", f"{key}.torch"),
                (
                    "optax",
                    "optax.softmax_cross_entropy_with_integer_labels(x, [0])",
                    f"{key}.optax",
                ),
            ]
        )
    out["renorm"] = table(
        [
            (
                "exact",
                "ce.categorical_crossentropy(y, p)",
                lambda: ce.categorical_crossentropy(yr, pr),
            ),
            ("Keras 3", "keras.categorical_crossentropy(y, p)", "renorm.keras"),
            (
                "Keras 3, sparse",
                "keras.sparse_categorical_crossentropy([1], p)",
                "renorm.keras_sparse",
            ),
            ("Keras 2", "tf_keras.categorical_crossentropy(y, p)", "renorm.tf_keras"),
            ("scikit-learn", "sklearn.log_loss([1], p, labels=[0, 1, 2])", "renorm.sklearn"),
        ]
    )
    out["down"] = table(
        [
            ("exact", "ce.binary_crossentropy(y, p)", lambda: ce.binary_crossentropy(yd, pd)),
            ("Keras 3 function", "keras.binary_crossentropy(y, p)", "down.keras_fn"),
            ("Keras 3 class", "keras.BinaryCrossentropy()(y, p)", "down.keras_cls"),
            (
                "Keras 3 class, dtype",
                "keras.BinaryCrossentropy(dtype='float64')(y, p)",
                "down.keras_cls64",
            ),
            ("PyTorch", "torch.binary_cross_entropy(p, y)", "down.torch"),
        ]
    )
    out["dim"] = table(
        [
            (
                "exact, classes on axis 1",
                "ce.sparse_softmax_cross_entropy_with_logits(t1, x, axis=1, reduction='mean')",
                lambda: sce(kc1, xc, axis=1, reduction="mean"),
            ),
            ("PyTorch (classes = dim 1)", "torch.cross_entropy(x, t1)", "dim.torch"),
            (
                "exact, classes last",
                "ce.sparse_softmax_cross_entropy_with_logits(t2, x, reduction='mean')",
                lambda: sce(kc2, xc, reduction="mean"),
            ),
            (
                "Keras 3 (classes last)",
                "keras.SparseCategoricalCrossentropy(from_logits=True, dtype='float64')(t2, x)",
                "dim.keras",
            ),
        ]
    )
    out["wmean"] = table(
        [
            (
                "exact",
                "ce.sparse_softmax_cross_entropy_with_logits(t, x, class_weight=w, "
                "reduction='mean')",
                lambda: sce(kw_, xw, class_weight=w3, reduction="mean"),
            ),
            (
                "exact, normalised by the weights",
                "(same, reduction='sum') / w[t].sum()",
                lambda: sce(kw_, xw, class_weight=w3, reduction="sum") / w3[kw_].sum(),
            ),
            ("PyTorch, class indices", "torch.cross_entropy(x, t, weight=w)", "wmean.torch"),
            (
                "PyTorch, one-hot probabilities",
                "torch.cross_entropy(x, eye(3)[t], weight=w)",
                "wmean.torch_probs",
            ),
        ]
    )
    out["ignored"] = table(
        [
            (
                "exact",
                "ce.sparse_softmax_cross_entropy_with_logits([-100, -100], x, "
                "ignore_index=-100, reduction='mean')",
                lambda: sce(np.array([-100, -100]), xw[:2], ignore_index=-100, reduction="mean"),
            ),
            ("PyTorch", "torch.cross_entropy(x, [-100, -100])", "ignored.torch"),
            (
                "Keras 3",
                "keras.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, "
                "dtype='float64')([-1, -1], x)",
                "ignored.keras",
            ),
        ]
    )
    out["versions"] = versions_table()
    return out


def versions_table() -> str:
    """Which framework versions, on which machine, produced the golden files."""
    lines = ["| Golden file | Cases | Framework versions | Machine |", "|---|---|---|---|"]
    for module in ("keras", "tf_keras", "tf", "torch", "optax", "sklearn"):
        meta = load(module).meta
        keep = {
            "keras": ("keras", "tensorflow-cpu"),
            "tf_keras": ("tf-keras", "tensorflow-cpu"),
            "tf": ("tensorflow-cpu",),
            "torch": ("torch",),
            "optax": ("optax", "jax", "jaxlib"),
            "sklearn": ("scikit-learn", "numpy"),
        }[module]
        vers = ", ".join(f"{d} {meta['versions'][d]}" for d in keep if d in meta["versions"])
        m = meta["machine"]
        lines.append(
            f"| `goldens/{module}.npz` | {len(meta['cases'])} | {vers} | {m['cpu']}, "
            f"{m['machine']}, Python {m['python']} |"
        )
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """``text`` with every marked table replaced by its computed version."""
    tabs = tables()

    def sub(m: re.Match[str]) -> str:
        return m.group(1) + tabs[m.group(2)] + m.group(4)

    return MARK.sub(sub, text)


def main() -> int:
    text = DOC.read_text()
    new = render(text)
    DOC.write_text(new)
    print(f"{DOC}: {'updated' if new != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
