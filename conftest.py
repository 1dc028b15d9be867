"""Collection settings shared by the whole test run."""

from __future__ import annotations

import importlib.util

# The numba kernels module imports numba at the top; without the `fast` extra its doctests
# cannot be collected (the library itself falls back to the reference path and never imports it).
# Likewise the framework integrations import their framework at the top (the library imports
# them only when handed that framework's arrays): without torch or jax, their doctests are not
# collected, and tests/test_torch.py and tests/test_jax.py skip.
_NEEDS = {
    "numba": "src/crossentropy/_kernels/_numba.py",
    "torch": "src/crossentropy/_torch.py",
    "jax": "src/crossentropy/_jax.py",
}
collect_ignore = [path for module, path in _NEEDS.items() if not importlib.util.find_spec(module)]
