"""Helpers shared by the whole test tree (the ULP metric and the mpmath references live in
``tests/accuracy/ulp.py`` and ``tests/accuracy/reference.py``)."""
