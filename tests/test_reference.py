"""Every loss and primitive against the committed mpmath reference (tests/reference/).

The reference is exact on the inputs rounded to each dtype; the library must be within a few ULP
of it (float64 <= 4, float32 <= 2, the shared metric of ``tests/accuracy/ulp.py``: the ULP is
taken at the exact value), exactly 0 where the loss is 0, and +inf exactly at true poles.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossentropy as ce
from tests.accuracy import reference as R
from tests.accuracy.ulp import rounded, ulp_error

DATA = json.loads((Path(__file__).parent / "reference" / "reference.json").read_text())
BOUND = {"float64": 4, "float32": 2}


def _call(case: dict[str, Any], dtype: str) -> np.ndarray:
    fn = getattr(ce, case["fn"])
    labels, preds = case["args"]
    x = np.asarray(preds, dtype=np.float64).astype(dtype)
    if labels is None:
        return np.asarray(fn(x, **case["kwargs"]))
    y = np.asarray(labels)
    if y.dtype.kind == "f":
        y = y.astype(dtype)
    return np.asarray(fn(y, x, **case["kwargs"]))


def _ids() -> list[str]:
    return [f"{i}-{c['fn']}" for i, c in enumerate(DATA["cases"])]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", DATA["cases"], ids=_ids())
def test_matches_mpmath(case: dict[str, Any], dtype: str) -> None:
    got = _call(case, dtype).reshape(-1)
    assert got.dtype == np.dtype(dtype)
    ref = R.encode_all(case["expected"][dtype])  # the 40-digit strings, parsed exactly
    expected = rounded(*ref, dtype)
    assert not np.isnan(got).any(), got
    # Exact zeros (also where the exact value underflows in the dtype) and infinities, then a
    # bounded error for everything else.
    np.testing.assert_array_equal(got == 0, expected == 0)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    err = ulp_error(got, *ref, dtype)
    worst = int(np.argmax(err))
    assert err.max() <= BOUND[dtype], (
        f"{err.max():.3g} ulp at {worst}: got {got[worst]!r}, exact "
        f"{case['expected'][dtype][worst]}"
    )


def test_reference_is_up_to_date() -> None:
    """The committed data is what the committed generator writes."""
    gen = importlib.import_module("tests.reference.generate_reference")
    assert json.loads(json.dumps(gen.build())) == DATA["cases"]
