"""Framework conventions: the numbers Keras, TensorFlow, PyTorch, optax and scikit-learn give.

Each submodule keeps its framework's function names, signatures, argument order and defaults,
takes and returns NumPy arrays, and reproduces the framework's output, fudges included (clipping,
an epsilon inside the log, silent renormalisation, float32 arithmetic, the framework's
reductions). None imports a framework. Import the one you need under a name that does not
shadow the framework itself, or reach it through the package (each submodule is imported on
first use)::

    from crossentropy.compat import torch as ce_torch
    from crossentropy import compat
    compat.sklearn.log_loss([1, 0], [0.9, 0.2])

``import crossentropy`` does not import this package. Each function's docstring says how it
differs from the exact function of :mod:`crossentropy`; ``docs/frameworks.md`` puts the
conventions side by side. The golden files in ``tests/conformance`` record the framework
versions these modules were checked against.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["keras", "optax", "sklearn", "tf", "tf_keras", "torch"]


def __getattr__(name: str) -> ModuleType:
    """``compat.torch`` and the others: the submodule, imported on first access."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
