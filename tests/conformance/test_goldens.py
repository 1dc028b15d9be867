"""``crossentropy.compat`` against the real frameworks' outputs recorded in ``goldens/``.

Every case of every golden file is replayed without the frameworks. The result must have the
framework's dtype and shape, NaN and infinities in the same places, and finite values within

- float64: ``rtol = 1e-9``;
- float32: ``rtol = 2e-6`` (the frameworks' own summation order and their ``exp``/``log``
  kernels, which are within about one unit in the last place; the largest difference measured
  is 4.9e-7);

where the dtype is the least precise of the result's and the float inputs': a float64 result
made from float32 inputs (``sklearn.log_loss`` takes the logarithm in float32) carries float32
rounding, and NumPy's float32 ``log`` differs by an ulp between its SIMD dispatch (AVX-512,
AVX2, baseline), so the recorded value and ours are only float32-close on another machine. Plus
an absolute ``atol = 2 eps`` of that dtype (4.4e-16 or 2.4e-7): the frameworks' softmax
losses compute ``log(sum(exp(x - m))) - (x_k - m)``, a difference of two O(1) numbers that
carries about one ``eps`` of absolute error whatever the result's size (seen on
``keras.sparse_categorical_crossentropy`` at a loss of 2.6e-13). Values below the smallest
normal number compare absolutely as well: TensorFlow flushes subnormals to zero.

A case where the framework raised must raise ``ValueError``, ``TypeError`` or
``ZeroDivisionError``; the warnings a framework emitted must be emitted too.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

from .goldens import MODULES, load

RTOL = {np.dtype(np.float32): 2e-6, np.dtype(np.float64): 1e-9}


def _groups() -> list[Any]:
    """One test per (module, function): a few thousand cases run in a second or two."""
    params = []
    for module in MODULES:
        calls = dict.fromkeys(case["call"] for case in load(module).cases)
        params += [pytest.param(module, call, id=f"{module}.{call}") for call in calls]
    return params


def working_dtype(golden: Any, case: dict[str, Any], expected: np.ndarray) -> np.dtype:
    """float32 if the result or any float input of ``case`` is float32 or narrower; else float64."""
    encs = [*case["args"], *case["kwargs"].values(), *case.get("init", {}).values()]
    dtypes = [expected.dtype]
    for enc in encs:
        if isinstance(enc, dict) and "array" in enc:
            spec = golden.meta["arrays"][enc["array"]]
            if "dtype" in spec and np.dtype(spec["dtype"]).kind == "f":
                dtypes.append(np.dtype(spec["dtype"]))
    return np.dtype(np.float32 if min(d.itemsize for d in dtypes) <= 4 else np.float64)


def assert_matches(
    got: Any,
    expected: np.ndarray,
    *,
    python_float: bool = False,
    precision: np.dtype | None = None,
) -> None:
    if python_float:
        assert isinstance(got, float), f"expected a Python float, got {type(got).__name__}"
        got = np.asarray(got, dtype=np.float64)
    got = np.asarray(got)
    assert got.dtype == expected.dtype, f"dtype {got.dtype}, framework {expected.dtype}"
    assert got.shape == expected.shape, f"shape {got.shape}, framework {expected.shape}"
    nan_g, nan_e = np.isnan(got), np.isnan(expected)
    np.testing.assert_array_equal(nan_g, nan_e, err_msg="NaN in different places")
    inf_e = np.isinf(expected)
    np.testing.assert_array_equal(got[inf_e], expected[inf_e], err_msg="infinities differ")
    assert not np.isinf(got[~inf_e]).any(), "an infinity where the framework is finite"
    fin = np.isfinite(expected)
    prec = expected.dtype if precision is None else precision
    finfo = np.finfo(prec)
    atol = max(2 * float(finfo.eps), 8 * float(finfo.tiny))
    np.testing.assert_allclose(
        got[fin].astype(np.float64),
        expected[fin].astype(np.float64),
        rtol=RTOL[prec],
        atol=atol,
    )


def check_case(module: str, index: int) -> None:
    golden = load(module)
    case = golden.cases[index]
    expected = golden.expected(case)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if expected is None:
            with pytest.raises((ValueError, TypeError, ZeroDivisionError)):
                golden.call(case)
            return
        got = golden.call(case)
    emitted = sorted(
        {w.category.__name__ for w in caught if not issubclass(w.category, DeprecationWarning)}
    )
    assert emitted == case["warnings"], f"warnings {emitted}, framework {case['warnings']}"
    assert_matches(
        got,
        expected,
        python_float=case.get("result_kind") == "float",
        precision=working_dtype(golden, case, expected),
    )


@pytest.mark.parametrize(("module", "call"), _groups())
def test_golden(module: str, call: str) -> None:
    failures = []
    cases = [i for i, c in enumerate(load(module).cases) if c["call"] == call]
    assert cases
    for i in cases:
        try:
            check_case(module, i)
        except (AssertionError, pytest.fail.Exception) as err:
            failures.append(f"{load(module).cases[i]['id']}: {str(err).strip()[:600]}")
        except Exception as err:  # an unexpected error is a failure of that case
            failures.append(f"{load(module).cases[i]['id']}: raised {err!r}")
    assert not failures, f"{len(failures)} of {len(cases)} cases differ:\n" + "\n".join(
        failures[:10]
    )


def test_goldens_record_versions_and_machine() -> None:
    """Each golden file says which framework versions and which machine produced it."""
    needed = {
        "keras": ("keras", "tensorflow-cpu"),
        "tf_keras": ("tf-keras", "tensorflow-cpu"),
        "tf": ("tensorflow-cpu",),
        "torch": ("torch",),
        "optax": ("optax", "jax", "jaxlib"),
        "sklearn": ("scikit-learn",),
    }
    for module in MODULES:
        meta = load(module).meta
        assert meta["module"] == module
        for dist in needed[module]:
            assert meta["versions"].get(dist), f"{module}: no version of {dist}"
        assert meta["machine"]["cpu"]
        assert meta["machine"]["platform"]
        assert len(meta["cases"]) >= 50


def test_goldens_cover_the_grid() -> None:
    """The grid reaches every compat function, both dtypes, and the awkward inputs."""
    import importlib

    for module in MODULES:
        golden = load(module)
        mod = importlib.import_module(f"crossentropy.compat.{module}")
        public = {n for n in mod.__all__ if n != "Loss"}
        assert public <= {c["call"] for c in golden.cases}, module
        dtypes = set()
        for c in golden.cases:
            if "out" in c:
                dtypes.add(golden.expected(c).dtype)
        assert {np.dtype(np.float32), np.dtype(np.float64)} <= dtypes or module == "sklearn"
        assert any("error" in c for c in golden.cases) or module in ("keras", "tf_keras", "optax")
    # probabilities of exactly 0 and 1, and infinite and huge logits, reach the frameworks
    keras = load("keras")
    values = np.concatenate(
        [
            keras.decode(c["args"][1]).astype(np.float64).ravel()
            for c in keras.cases
            if c["call"] == "binary_crossentropy"
        ]
    )
    assert (values == 0).any()
    assert (values == 1).any()
    tf = load("tf")
    logits = np.concatenate(
        [
            tf.decode(c["kwargs"]["logits"]).astype(np.float64).ravel()
            for c in tf.cases
            if "logits" in c["kwargs"]
        ]
    )
    assert np.isinf(logits).any()
    assert (np.abs(logits) >= 1e4).any()
