"""Read the golden files written by ``generate_goldens.py`` and replay their cases through
``crossentropy.compat`` (no framework needed)."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

GOLDENS = Path(__file__).resolve().parent / "goldens"
MODULES = ("keras", "tf_keras", "tf", "torch", "optax", "sklearn")


class Golden:
    """The cases of one golden file, with their arrays decoded."""

    def __init__(self, path: Path) -> None:
        with np.load(path) as z:
            self.meta: dict[str, Any] = json.loads(z["meta"].tobytes().decode())
            self._data = z["data"].tobytes()
        self.cases: list[dict[str, Any]] = self.meta["cases"]

    def array(self, key: str) -> np.ndarray:
        spec = self.meta["arrays"][key]
        if "strings" in spec:
            return np.array(spec["strings"])
        dt = np.dtype(spec["dtype"])
        n = int(np.prod(spec["shape"], dtype=np.int64)) * dt.itemsize
        buf = self._data[spec["offset"] : spec["offset"] + n]
        return np.frombuffer(buf, dtype=dt).reshape(spec["shape"]).copy()

    def decode(self, enc: dict[str, Any]) -> Any:
        if "array" in enc:
            return self.array(enc["array"])
        if "tuple" in enc:
            return tuple(enc["tuple"])
        return enc["value"]

    def call(self, case: dict[str, Any]) -> Any:
        """Run ``case`` through the compat module; returns the result (or raises)."""
        mod = importlib.import_module(f"crossentropy.compat.{self.meta['module']}")
        target = getattr(mod, case["call"])
        args = [self.decode(a) for a in case["args"]]
        kwargs = {k: self.decode(v) for k, v in case["kwargs"].items()}
        if "init" in case:
            target = target(**{k: self.decode(v) for k, v in case["init"].items()})
        return target(*args, **kwargs)

    def expected(self, case: dict[str, Any]) -> np.ndarray | None:
        return self.array(case["out"]) if "out" in case else None


@cache
def load(module: str) -> Golden:
    return Golden(GOLDENS / f"{module}.npz")
