"""The stored suite is the one the code builds, on this machine and under NumPy's other dispatch.

The accuracy tests run on the inputs stored in ``data/*.npz``; nothing they compare is rebuilt.
These tests rebuild the suite and compare it with the stored inputs bit for bit (a -0.0 is not a
+0.0), in this process and in subprocesses where ``NPY_DISABLE_CPU_FEATURES`` turns off NumPy's
AVX2 (``X86_V3``: baseline dispatch), AVX-512 (``X86_V4``) or Sapphire Rapids (``AVX512_SPR``)
code paths, where the CPU has them. So a platform dependence in ``suite.py`` (a sort that keeps
whichever of +0.0 and -0.0 its SIMD code puts first, a libm call) fails on the machine of the
person who introduced it, not on the next machine. A failure says which of two things happened:
the suite's code changed since the references were made (regenerate them), or this machine
builds the suite differently (fix ``suite.py``; regenerating would only move the failure).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from . import suite
from .cases import CODE_CHANGED, DATA_DIR, PLATFORM, build_difference, save
from .suite import DTYPES

TESTS = Path(__file__).resolve().parents[1]

# In a subprocess: the dispatch targets NumPy enabled, and for each dtype the digests of the
# rebuilt cases and build_difference's verdict.
_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
try:
    from numpy._core import _multiarray_umath as mu
except ImportError:
    from numpy.core import _multiarray_umath as mu
from accuracy import cases, suite
out = {
    "features": {k: bool(v) for k, v in mu.__cpu_features__.items()},
    "dispatch": list(getattr(mu, "__cpu_dispatch__", [])),
    "dtypes": {
        dt: {"digests": [c.digest() for c in suite.build(dt)],
             "difference": cases.build_difference(dt)}
        for dt in suite.DTYPES
    },
}
print(json.dumps(out))
"""


def _child(disable: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("NPY_DISABLE_CPU_FEATURES", None)
    if disable is not None:
        env["NPY_DISABLE_CPU_FEATURES"] = disable
    run = subprocess.run(
        [sys.executable, "-c", _CHILD, str(TESTS)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, (
        f"the suite build under NPY_DISABLE_CPU_FEATURES={disable!r} failed:\n{run.stderr}"
    )
    result: dict[str, Any] = json.loads(run.stdout.splitlines()[-1])
    return result


@functools.cache
def _machine() -> dict[str, Any]:
    """What this CPU and NumPy offer with nothing disabled (whatever this process was given)."""
    return _child(None)


def _stored_digests(dtype: str) -> list[str]:
    with np.load(DATA_DIR / f"{dtype}.npz", allow_pickle=False) as z:
        meta = json.loads(str(z["manifest"]))
    return [m["digest"] for m in meta["cases"]]


@pytest.mark.parametrize("dtype", DTYPES)
def test_this_process_builds_the_stored_suite(dtype: str) -> None:
    problem = build_difference(dtype)
    assert problem is None, problem


@pytest.mark.parametrize("feature", ["X86_V3", "X86_V4", "AVX512_SPR"])
def test_other_numpy_dispatch_builds_the_stored_suite(feature: str) -> None:
    """Rebuilt with NumPy's ``feature`` code paths off: the same digests, the same inputs."""
    machine = _machine()
    if feature not in machine["dispatch"]:
        pytest.skip(f"this NumPy build has no {feature} dispatch target to turn off")
    if not machine["features"].get(feature):
        pytest.skip(f"this CPU has no {feature}: NumPy never runs those code paths here")
    child = _child(feature)
    assert child["features"][feature] is False, (
        f"NPY_DISABLE_CPU_FEATURES={feature} did not turn {feature} off in the subprocess"
    )
    for dt in DTYPES:
        got = child["dtypes"][dt]
        assert got["difference"] is None, (
            f"with NPY_DISABLE_CPU_FEATURES={feature}: {got['difference']}"
        )
        stored = _stored_digests(dt)
        diff = [i for i, (a, b) in enumerate(zip(stored, got["digests"], strict=False)) if a != b]
        assert len(stored) == len(got["digests"]), (
            f"with NPY_DISABLE_CPU_FEATURES={feature}, {dt}: {len(got['digests'])} cases built, "
            f"{len(stored)} stored"
        )
        assert not diff, (
            f"with NPY_DISABLE_CPU_FEATURES={feature}, {dt}: {len(diff)} case digests differ "
            f"from the stored ones, first at case {diff[0]}"
        )


def _stored_copy(tmp_path: Path, dtype: str, edit: Any, source: str | None = None) -> Path:
    """``data/<dtype>.npz`` written again after ``edit(cases)``, optionally with another hash."""
    from .cases import _read, _stored_cases

    path = DATA_DIR / f"{dtype}.npz"
    meta, data = _read(path)
    cases = _stored_cases(path, meta, data)
    edit(cases)
    refs = []
    for i, case in enumerate(cases):
        keys = ("v", "g") if case.grad else ("v",)
        refs.append(
            {f"{k}_{p}": data[f"{k}{i}_{p}"] for k in keys for p in ("hi", "lo", "e")}
            | ({"g_k": data[f"g{i}_k"]} if case.grad else {})
        )
    out = tmp_path / f"{dtype}.npz"
    save(out, cases, refs)
    if source is not None:
        meta2, data2 = _read(out)
        meta2["provenance"]["suite_source"] = source
        data2["manifest"] = np.array(json.dumps(meta2))
        np.savez_compressed(out, **data2)
    return out


def _flip_zero(cases: list[Any]) -> None:
    """Turn the stored +0.0 logit of float16/sigmoid_xent/hard into -0.0 (what AVX-512 did)."""
    case = next(c for c in cases if c.name.endswith("/sigmoid_xent/hard"))
    x = case.args[1].copy()
    i = int(np.flatnonzero((x == 0) & ~np.signbit(x))[0])
    x[i] = -x[i]
    case.args = (case.args[0], x)


def test_a_platform_dependence_is_named_as_such(tmp_path: Path) -> None:
    path = _stored_copy(tmp_path, "float16", _flip_zero)
    problem = build_difference("float16", path)
    assert problem is not None
    assert PLATFORM in problem
    assert CODE_CHANGED not in problem
    # The case, the index and both values, the zero's sign visible.
    assert "float16/sigmoid_xent/hard args[1][" in problem
    assert "stored -0.0 (0x8000), built 0.0 (0x0000)" in problem


def test_a_code_change_is_named_as_such(tmp_path: Path) -> None:
    path = _stored_copy(tmp_path, "float16", _flip_zero, source="a different suite.py")
    problem = build_difference("float16", path)
    assert problem is not None
    assert CODE_CHANGED in problem
    assert PLATFORM not in problem


def test_the_same_suite_from_other_code_is_current(tmp_path: Path) -> None:
    """An edit to suite.py that builds the same inputs (a comment) leaves the data current."""
    path = _stored_copy(tmp_path, "float16", lambda cases: None, source="an edited suite.py")
    assert build_difference("float16", path) is None


def test_signed_zeros_are_covered_explicitly() -> None:
    """One -0.0 and one +0.0 logit, whatever the sort; and rows with both."""
    for dt in DTYPES:
        xs = suite.logit_values(np.dtype(dt), suite.Stream(1))
        zeros = xs[xs == 0]
        assert np.signbit(zeros).tolist() == [True, False], dt
        ps = suite.prob_values(np.dtype(dt), suite.Stream(1))
        assert np.signbit(ps[ps == 0]).tolist() == [False], dt
    rows = next(c for c in suite.build("float64") if c.name == "float64/C2/sparse/argmax")
    x = rows.args[1]
    assert any(np.signbit(r).tolist() == [True, False] and not r.any() for r in x)
