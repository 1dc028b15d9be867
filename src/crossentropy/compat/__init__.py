"""Framework conventions: the numbers Keras, TensorFlow, PyTorch, optax and scikit-learn give.

Each submodule keeps its framework's function names, signatures, argument order and defaults,
takes and returns NumPy arrays, and reproduces the framework's output, fudges included (clipping,
an epsilon inside the log, silent renormalisation, float32 arithmetic, the framework's
reductions). None imports a framework. Import the one you need explicitly::

    from crossentropy.compat import keras, tf_keras, tf, torch, optax, sklearn

``import crossentropy`` does not import this package. Each function's docstring says how it
differs from the exact function of :mod:`crossentropy`; ``docs/frameworks.md`` puts the
conventions side by side. The golden files in ``tests/conformance`` record the framework
versions these modules were checked against.
"""

from __future__ import annotations

__all__ = ["keras", "optax", "sklearn", "tf", "tf_keras", "torch"]
