"""Regenerate ``data/framework_grads.json``: PyTorch and JAX gradients of the shared cases.

Run with an environment that has torch, jax and optax (the project's throwaway framework env):

    PYTHONPATH=src /work/fwenv/bin/python tests/gradients/make_framework_goldens.py

The file stores each case's inputs and options as well as the frameworks' float64 gradients,
so ``test_grad_frameworks.py`` checks crossentropy against them without any framework installed.
JSON floats are written with ``repr`` and read back bit for bit.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "framework_grads.json"


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, dict):
        return {k: _jsonable(w) for k, w in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(w) for w in v]
    return v


def main() -> int:
    sys.path.insert(0, str(HERE))
    import jax
    import optax
    import torch
    from gradframeworks import FRAMEWORK_CASES, case_inputs, jax_grad, torch_grad

    cases = []
    for case in FRAMEWORK_CASES:
        labels, x, kw = case_inputs(case)
        entry: dict[str, Any] = {
            "name": case.name,
            "loss": case.loss,
            "labels": _jsonable(labels),
            "labels_dtype": str(np.asarray(labels).dtype),
            "predictions": _jsonable(x),
            "kwargs": _jsonable(kw),
        }
        if case.torch is not None:
            entry["torch"] = _jsonable(torch_grad(case, labels, x, kw))
        if case.jax is not None:
            entry["jax"] = _jsonable(jax_grad(case, labels, x, kw))
        cases.append(entry)
    doc = {
        "generator": "tests/gradients/make_framework_goldens.py",
        "versions": {
            "torch": torch.__version__,
            "jax": jax.__version__,
            "optax": optax.__version__,
            "numpy": np.__version__,
        },
        "cases": cases,
    }
    OUT.parent.mkdir(exist_ok=True)
    # one line per case keeps the file small and its diffs readable
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, indent=1)[:-2]
    body = ",\n  ".join(json.dumps(c) for c in cases)
    OUT.write_text(f'{head},\n "cases": [\n  {body}\n ]\n}}\n')
    print(f"wrote {len(cases)} cases to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
