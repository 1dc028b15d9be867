"""The layering: the floating-point helpers of ``_fp``, the error order of the fast paths, and
the import graph (``scripts/check_imports.py``)."""

from __future__ import annotations

import struct
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest

import crossentropy as ce
from crossentropy import _fp, _kernels

ROOT = Path(__file__).resolve().parent.parent


def test_two_sum_low_is_the_exact_error() -> None:
    rng = np.random.default_rng(1)
    a = rng.standard_normal(2000) * 10.0 ** rng.integers(-20, 20, 2000)
    b = rng.standard_normal(2000) * 10.0 ** rng.integers(-20, 20, 2000)
    s = a + b
    low = _fp.two_sum_low(a, b, s)
    for ai, bi, si, li in zip(a, b, s, low, strict=True):
        assert Fraction(ai) + Fraction(bi) == Fraction(si) + Fraction(li)


def test_two_prod_is_exact() -> None:
    rng = np.random.default_rng(2)
    a = rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)
    b = rng.standard_normal(2000) * 10.0 ** rng.integers(-30, 30, 2000)
    p, e = _fp.two_prod(a, b)
    for ai, bi, pi, ei in zip(a, b, p, e, strict=True):
        assert Fraction(ai) * Fraction(bi) == Fraction(pi) + Fraction(ei)


def test_ln2_split() -> None:
    """``k * LN2_HI`` is exact for |k| < 2**21: LN2_HI has 32 significant bits."""
    bits = struct.unpack("<Q", struct.pack("<d", _fp.LN2_HI))[0]
    significand = bits & ((1 << 52) - 1)
    trailing = (significand & -significand).bit_length() - 1
    assert 53 - trailing == 32
    for k in (1, 3, 1587, 2**20 + 12345, 2**21 - 1):
        for sk in (k, -k):
            assert Fraction(sk) * Fraction(_fp.LN2_HI) == Fraction(sk * _fp.LN2_HI)
    with mpmath.workprec(200):
        assert float(mpmath.log(2) - mpmath.mpf(_fp.LN2_HI)) == _fp.LN2_LO
        assert float(mpmath.log(2)) == _fp.LN2
        assert float(1 / mpmath.log(2)) == _fp.INV_LN2


def test_scale_constants_are_correctly_rounded() -> None:
    with mpmath.workprec(200):
        assert float(mpmath.exp(_fp.SCALE_EXP)) == _fp.SCALE
        assert float(mpmath.exp(-_fp.SCALE_EXP)) == _fp.SCALE_INV


def test_mul0() -> None:
    a = np.array([0.0, 2.0, 0.0])
    b = np.array([np.inf, 3.0, np.nan])
    with np.errstate(invalid="ignore"):
        assert _fp.mul0(np, a, b).tolist() == [0.0, 6.0, 0.0]


def test_import_graph() -> None:
    """No import cycle, the kernels a leaf, no function-level imports but the lazy back-ends."""
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_imports.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


# --------------------------------------------------------------------------------------------
# The fast paths read values in their kernels, after the weights: their errors still come in
# the reference path's order (``_validation.value_checks_first``).


def _errors(monkeypatch: pytest.MonkeyPatch, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    out = []
    from crossentropy import _kernels

    for fast in (True, False):
        monkeypatch.setattr(_kernels, "ENABLED", fast)
        with pytest.raises((TypeError, ValueError)) as info:
            fn(*args, **kwargs)
        out.append((info.type, str(info.value)))
    return out


def test_value_errors_come_before_weight_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    monkeypatch.setattr(_kernels, "MIN_SIZE", 0)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 20))
    nan = x.copy()
    nan[4, 2] = np.nan
    k = rng.integers(0, 20, 6)
    y = np.eye(20)[k]
    p = rng.uniform(0.1, 0.9, (6, 20))
    cases = [
        (ce.sparse_softmax_cross_entropy_with_logits, (k, nan), {"class_weight": -np.ones(20)}),
        (ce.sparse_softmax_cross_entropy_with_logits, (k, nan), {"class_weight": np.ones(3)}),
        (ce.softmax_cross_entropy_with_logits, (y, nan), {"sample_weight": np.ones(5)}),
        (ce.softmax_cross_entropy_with_logits, (y * 0.5, x), {"class_weight": np.ones(3)}),
        (ce.binary_crossentropy, (y, p * 2), {"pos_weight": -1.0}),
        (ce.binary_crossentropy, (y, p * 2), {"axis": 5}),
        (ce.binary_crossentropy, (y, p), {"pos_weight": np.ones(3)}),
        (ce.sigmoid_cross_entropy_with_logits, (y, nan), {"sample_weight": -np.ones(x.shape)}),
        (ce.weighted_cross_entropy_with_logits, (y * 2, x, np.ones(3)), {}),
    ]
    for fn, args, kw in cases:
        fast, ref = _errors(monkeypatch, fn, *args, **kw)
        assert fast == ref, fn.__name__
    fn, args, kw = cases[0]
    assert "must not contain NaN" in _errors(monkeypatch, fn, *args, **kw)[0][1]


@pytest.mark.parametrize(
    ("env", "enabled"), [("0", False), ("off", False), ("1", True), (None, True)]
)
def test_fast_path_switch_is_read_once_at_import(env: str | None, enabled: bool) -> None:
    """``CROSSENTROPY_FAST`` is read into ``_kernels.ENABLED`` when the package is imported;
    changing the environment afterwards changes nothing (no lookup on every call)."""
    import os
    import subprocess
    import sys

    code = (
        "import os\n"
        "from crossentropy import _kernels\n"
        "before = _kernels.ENABLED\n"
        "os.environ['CROSSENTROPY_FAST'] = '1' if not before else '0'\n"
        "assert _kernels.ENABLED is before\n"
        "print(before)\n"
    )
    environ = {k: v for k, v in os.environ.items() if k != "CROSSENTROPY_FAST"}
    if env is not None:
        environ["CROSSENTROPY_FAST"] = env
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=environ
    )
    assert out.stdout.strip() == str(enabled)
