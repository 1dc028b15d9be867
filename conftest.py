"""Collection settings shared by the whole test run."""

from __future__ import annotations

import importlib.util

# The numba kernels module imports numba at the top; without the `fast` extra its doctests
# cannot be collected (the library itself falls back to the reference path and never imports it).
collect_ignore = (
    [] if importlib.util.find_spec("numba") else ["src/crossentropy/_kernels/_numba.py"]
)
