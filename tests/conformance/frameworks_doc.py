"""The tables of ``docs/frameworks.md``, computed: the exact functions, each framework's own output
(read from the golden files) and ``crossentropy.compat``'s, for the same inputs.

Each row's *Call* is Python source, printed as it is and evaluated as it is: in the namespace that
the page's ``python`` and ``pycon`` blocks above the table leave (they define ``x``, ``y``,
``p``, ... and import ``ce``, ``ce_torch``, ...). A framework row's call is also checked against
the golden case it shows: same function, same arguments, same dtypes and values as the inputs
the real framework was given, so the printed call reproduces the printed output.

``python tests/conformance/frameworks_doc.py`` rewrites the tables in place (between the
``<!-- table: NAME -->`` and ``<!-- end table -->`` markers); ``test_frameworks_doc.py`` checks
that the page is up to date.
"""

from __future__ import annotations

import doctest
import re
import sys
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

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
CODE = re.compile(r"^```(python|pycon)\n(.*?)^```$", re.S | re.M)


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


class Row(NamedTuple):
    """One table row: ``code`` is printed and evaluated; ``golden`` names a framework's case."""

    label: str
    code: str
    golden: str | None = None
    reference: Callable[[dict[str, Any]], Any] | None = None  # then ``code`` is prose


def namespace(text: str) -> dict[str, Any]:
    """What the ``python`` and ``pycon`` blocks of ``text`` define, run in order."""
    ns: dict[str, Any] = {"__name__": "__docs__"}
    for kind, source in CODE.findall(text):
        chunks = (
            [source]
            if kind == "python"
            else [ex.source for ex in doctest.DocTestParser().get_examples(source)]
        )
        for chunk in chunks:
            exec(compile(chunk, str(DOC), "exec"), ns)
    return ns


class _Captured(Exception):  # a signal, not an error
    def __init__(self, module: str, name: str, init: dict[str, Any] | None, args: Any, kw: Any):
        super().__init__(module, name)
        self.module, self.name, self.init, self.args, self.kwargs = module, name, init, args, kw


class _Function:
    def __init__(self, module: str, name: str, init: dict[str, Any] | None = None) -> None:
        self.module, self.name, self.init = module, name, init

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.name[:1].isupper() and self.init is None:  # a loss class: the constructor
            if args:
                raise TypeError(f"{self.name}: pass the constructor's options by keyword")
            return _Function(self.module, self.name, kwargs)
        raise _Captured(self.module, self.name, self.init, args, kwargs)


class _Module:
    def __init__(self, module: str) -> None:
        self.module = module

    def __getattr__(self, name: str) -> _Function:
        return _Function(self.module, name)


def captured_call(code: str, ns: dict[str, Any]) -> _Captured:
    """The compat call that ``code`` makes, with its arguments as evaluated (nothing is run)."""
    spy = dict(ns)
    for key, value in ns.items():
        if isinstance(value, types.ModuleType) and value.__name__.startswith(
            "crossentropy.compat."
        ):
            spy[key] = _Module(value.__name__.rsplit(".", 1)[1])
    try:
        eval(code, spy)
    except _Captured as call:
        return call
    raise ValueError(f"`{code}` calls no crossentropy.compat function")


def _same(shown: Any, recorded: Any) -> str | None:
    """Why the argument ``shown`` is not the ``recorded`` one (``None``: it is)."""
    if isinstance(recorded, np.ndarray) or isinstance(shown, (list, np.ndarray)):
        a, b = np.asarray(shown), np.asarray(recorded)
        if (a.dtype, a.shape) != (b.dtype, b.shape):
            return f"{a.dtype}{list(a.shape)} where the framework got {b.dtype}{list(b.shape)}"
        same = np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        return None if same else f"{a.tolist()} where the framework got {b.tolist()}"
    if type(shown) is not type(recorded) or shown != recorded:
        return f"{shown!r} where the framework got {recorded!r}"
    return None


def check_call(code: str, ns: dict[str, Any], key: str) -> None:
    """Raise ``ValueError`` unless ``code`` makes the call the golden case ``key`` recorded."""
    module, rec, golden = _golden(key)
    call = captured_call(code, ns)
    problems = []
    if (call.module, call.name) != (module, rec["call"]):
        problems.append(f"calls {call.module}.{call.name}, the golden {module}.{rec['call']}")
    else:
        args = [golden.decode(a) for a in rec["args"]]
        if len(call.args) != len(args):
            problems.append(f"{len(call.args)} positional arguments, the golden {len(args)}")
        for i, (shown, recorded) in enumerate(zip(call.args, args, strict=False)):
            if why := _same(shown, recorded):
                problems.append(f"argument {i}: {why}")
        for what, shown_kw, enc in (
            ("keyword", call.kwargs, rec["kwargs"]),
            ("constructor keyword", call.init or {}, rec.get("init") or {}),
        ):
            if set(shown_kw) != set(enc):
                problems.append(f"{what}s {sorted(shown_kw)}, the golden {sorted(enc)}")
                continue
            for name, value in shown_kw.items():
                if why := _same(value, golden.decode(enc[name])):
                    problems.append(f"{what} {name}: {why}")
        if (call.init is None) != ("init" not in rec):
            problems.append("a loss class and a loss function mixed up")
    if problems:
        raise ValueError(
            f"docs/frameworks.md: `{code}` is not the call of golden case {key}: "
            + "; ".join(problems)
        )


def _golden(key: str) -> tuple[str, dict[str, Any], Any]:
    """(module, record, golden file) of a documented case."""
    for k, module, _ in doc_cases():
        if k == key:
            golden = load(module)
            rec = next(c for c in golden.cases if c["id"].endswith(f"-doc:{key}"))
            return module, rec, golden
    raise KeyError(key)


def _evaluate(code: str, ns: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's "do not sum to one", shown in the prose
        return eval(code, dict(ns))


def _exact(code: str, ns: dict[str, Any]) -> str:
    try:
        return fmt(_evaluate(code, ns))
    except ValueError as err:
        return f"ValueError: *{str(err).split(';')[0].split(': ', 1)[1]}*"


def _mp_nll(ns: dict[str, Any]) -> np.ndarray:
    """``logsumexp(x) - x[0]`` of each row of the page's ``x`` with 50 digits, rounded once to
    ``x``'s dtype."""
    import mpmath

    x = ns["x"]
    with mpmath.workdps(50):
        vals = [
            mpmath.log(sum(mpmath.exp(mpmath.mpf(float(v))) for v in row))
            - mpmath.mpf(float(row[0]))
            for row in x
        ]
        return np.array([float(v) for v in vals], dtype=x.dtype)


def table(rows: list[Row], ns: dict[str, Any]) -> str:
    lines = [
        "| Convention | Call | Framework's output | `crossentropy.compat` |",
        "|---|---|---|---|",
    ]
    for row in rows:
        if row.reference is not None:
            lines.append(f"| {row.label} | {row.code} | | {fmt(row.reference(ns))} |")
        elif row.golden is None:
            lines.append(f"| {row.label} | `{row.code}` | | {_exact(row.code, ns)} |")
        else:
            check_call(row.code, ns, row.golden)
            _, rec, golden = _golden(row.golden)
            expected = golden.expected(rec)
            if rec.get("result_kind") == "float":
                expected = float(expected)
            got = _evaluate(row.code, ns)
            lines.append(f"| {row.label} | `{row.code}` | {fmt(expected)} | {fmt(got)} |")
    return "\n".join(lines) + "\n"


SCE = "ce.sparse_softmax_cross_entropy_with_logits"

ROWS: dict[str, list[Row]] = {
    "bce": [
        Row("exact", "ce.binary_crossentropy(y, p)"),
        Row("Keras 3", "ce_keras.binary_crossentropy(y, p)", "bce.keras"),
        Row(
            "Keras 2 (tf.keras, tf_keras)", "ce_tf_keras.binary_crossentropy(y, p)", "bce.tf_keras"
        ),
        Row("PyTorch", "ce_torch.binary_cross_entropy(p, y)", "bce.torch"),
        Row("scikit-learn", "ce_sklearn.log_loss([0, 1, 0, 1], p[0])", "bce.sklearn"),
    ],
    "p0": [
        Row("exact", "ce.binary_crossentropy(y, p)"),
        Row("Keras 3", "ce_keras.binary_crossentropy(y, p)", "p0.keras"),
        Row("Keras 2", "ce_tf_keras.binary_crossentropy(y, p)", "p0.tf_keras"),
        Row("PyTorch", "ce_torch.binary_cross_entropy(p, y)", "p0.torch"),
        Row(
            "scikit-learn, float32",
            "ce_sklearn.log_loss([1, 0], np.float32([0, 0]), normalize=False)",
            "p0.sklearn32",
        ),
        Row(
            "scikit-learn, float64",
            "ce_sklearn.log_loss([1, 0], [0.0, 0.0], normalize=False)",
            "p0.sklearn64",
        ),
    ],
    "renorm": [
        Row("exact", "ce.categorical_crossentropy(y, p)"),
        Row("Keras 3", "ce_keras.categorical_crossentropy(y, p)", "renorm.keras"),
        Row(
            "Keras 3, sparse",
            "ce_keras.sparse_categorical_crossentropy([1], p)",
            "renorm.keras_sparse",
        ),
        Row("Keras 2", "ce_tf_keras.categorical_crossentropy(y, p)", "renorm.tf_keras"),
        Row("scikit-learn", "ce_sklearn.log_loss([1], p, labels=[0, 1, 2])", "renorm.sklearn"),
    ],
    "down": [
        Row("exact", "ce.binary_crossentropy(y, p)"),
        Row("Keras 3 function", "ce_keras.binary_crossentropy(y, p)", "down.keras_fn"),
        Row("Keras 3 class", "ce_keras.BinaryCrossentropy()(y, p)", "down.keras_cls"),
        Row(
            "Keras 3 class, dtype",
            "ce_keras.BinaryCrossentropy(dtype='float64')(y, p)",
            "down.keras_cls64",
        ),
        Row("PyTorch", "ce_torch.binary_cross_entropy(p, y)", "down.torch"),
    ],
    "dim": [
        Row("exact, classes on axis 1", f"{SCE}(t1, x, axis=1, reduction='mean')"),
        Row("PyTorch (classes = dim 1)", "ce_torch.cross_entropy(x, t1)", "dim.torch"),
        Row("exact, classes last", f"{SCE}(t2, x, reduction='mean')"),
        Row(
            "Keras 3 (classes last)",
            "ce_keras.SparseCategoricalCrossentropy(from_logits=True, dtype='float64')(t2, x)",
            "dim.keras",
        ),
    ],
    "wmean": [
        Row("exact", f"{SCE}(t, x, class_weight=w, reduction='mean')"),
        Row(
            "exact, normalised by the weights",
            f"{SCE}(t, x, class_weight=w, reduction='sum') / w[t].sum()",
        ),
        Row("PyTorch, class indices", "ce_torch.cross_entropy(x, t, weight=w)", "wmean.torch"),
        Row(
            "PyTorch, one-hot probabilities",
            "ce_torch.cross_entropy(x, np.eye(3)[t], weight=w)",
            "wmean.torch_probs",
        ),
    ],
    "ignored": [
        Row("exact", f"{SCE}([-100, -100], x, ignore_index=-100, reduction='mean')"),
        Row("PyTorch", "ce_torch.cross_entropy(x, [-100, -100])", "ignored.torch"),
        Row(
            "Keras 3",
            "ce_keras.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, "
            "dtype='float64')([-1, -1], x)",
            "ignored.keras",
        ),
    ],
}
for _key in ("seed3", "conf64", "conf32"):
    ROWS[_key] = [
        Row("correctly rounded", "mpmath, 50 digits, rounded once to the dtype", None, _mp_nll),
        Row("exact", f"{SCE}([0], x)"),
        Row(
            "TensorFlow",
            "ce_tf.sparse_softmax_cross_entropy_with_logits(labels=[0], logits=x)",
            f"{_key}.tf",
        ),
        Row(
            "Keras 3",
            "ce_keras.sparse_categorical_crossentropy([0], x, from_logits=True)",
            f"{_key}.keras",
        ),
        Row("PyTorch", "ce_torch.cross_entropy(x, [0], reduction='none')", f"{_key}.torch"),
        Row(
            "optax",
            "ce_optax.softmax_cross_entropy_with_integer_labels(x, [0])",
            f"{_key}.optax",
        ),
    ]


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
    """``text`` with every marked table replaced by its computed version: each table from the
    namespace of the blocks above it."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(2)
        if name == "versions":
            body = versions_table()
        else:
            body = table(ROWS[name], namespace(text[: m.start()]))
        return m.group(1) + body + m.group(4)

    return MARK.sub(sub, text)


def main() -> int:
    text = DOC.read_text()
    new = render(text)
    DOC.write_text(new)
    print(f"{DOC}: {'updated' if new != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
