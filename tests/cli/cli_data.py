"""Data helpers for the command-line tests (a unique module name: tests/ has other
helpers)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from crossentropy.cli._output import decode_nonfinite


def logits(n: int, c: int, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, scale, size=(n, c))


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Probabilities for test files (computed independently of the library)."""
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def class_ids(n: int, c: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, c, size=n)


def write_csv(path: Any, header: list[str] | None, rows: np.ndarray, fmt: str = "%r") -> None:
    lines = []
    if header is not None:
        lines.append(",".join(header))
    for row in np.atleast_2d(rows):
        lines.append(",".join(repr(float(v)) if fmt == "%r" else fmt % v for v in row))
    path.write_text("\n".join(lines) + "\n")


def _no_constant(name: str) -> Any:
    raise AssertionError(f"the output is not strict JSON: it contains {name}")


def strict_json(text: str) -> Any:
    """``json.loads`` refusing ``Infinity``, ``-Infinity`` and ``NaN`` (as Node's JSON.parse)."""
    return json.loads(text, parse_constant=_no_constant)


def parse_result(text: str) -> Any:
    """The CLI's --json output: strict JSON, with the non-finite numbers put back."""
    return decode_nonfinite(strict_json(text))
