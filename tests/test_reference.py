"""Every loss and primitive against the committed mpmath reference (tests/reference/).

The reference is exact on the inputs rounded to each dtype; the library must be within a few ulp
(float64 <= 4, float32 <= 2), exactly 0 where the loss is 0, and +inf exactly at true poles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import crossentropy as ce

DATA = json.loads((Path(__file__).parent / "reference" / "reference.json").read_text())
BOUND = {"float64": 4, "float32": 2}


def ulp_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Number of representable floats between ``a`` and ``b`` (0 when both are the same inf)."""
    a = np.asarray(a)
    b = np.asarray(b, dtype=a.dtype)
    itype = {4: np.int32, 8: np.int64}[a.dtype.itemsize]

    def ordered(x: np.ndarray) -> np.ndarray:
        i = x.view(itype).astype(np.int64)
        return np.where(i < 0, np.iinfo(itype).min - i, i)

    d = np.abs(ordered(a) - ordered(b)).astype(np.float64)
    d = np.where((a == b), 0.0, d)
    return np.where(np.isnan(a) | np.isnan(b), np.inf, d)


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
    expected = np.array([float(v) for v in case["expected"][dtype]]).astype(dtype)
    assert not np.isnan(got).any(), got
    # Exact zeros and infinities, then a bounded ulp distance for everything else.
    np.testing.assert_array_equal(got == 0, expected == 0)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    dist = ulp_distance(got, expected)
    worst = int(np.argmax(dist))
    bound = BOUND[dtype]
    assert dist.max() <= bound, (
        f"{dist.max():.0f} ulp at {worst}: got {got[worst]!r}, exact {expected[worst]!r}"
    )


def test_reference_is_up_to_date() -> None:
    """The committed data is what the committed generator writes."""
    import importlib.util

    path = Path(__file__).parent / "reference" / "generate_reference.py"
    spec = importlib.util.spec_from_file_location("generate_reference", path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert json.loads(json.dumps(mod.build())) == DATA["cases"]


def test_ulp_distance_metric() -> None:
    one = np.float64(1.0)
    assert ulp_distance(np.array([one]), np.array([np.nextafter(one, 2)]))[0] == 1
    assert ulp_distance(np.array([-0.0]), np.array([0.0]))[0] == 0
    assert ulp_distance(np.array([np.inf]), np.array([np.inf]))[0] == 0
    tiny = np.float32(np.finfo(np.float32).smallest_subnormal)
    assert ulp_distance(np.array([tiny]), np.array([-tiny]))[0] == 2
