"""The value_and_grad / grad wrappers: return types, dtypes, shapes, errors, consistency between
losses, options and reductions, and that nothing the user passes is modified."""

from __future__ import annotations

import inspect
import re
from functools import partial
from typing import Any

import ml_dtypes
import numpy as np
import pytest

import crossentropy as ce
from tests.accuracy.ulp import exact_floats, max_ulp_error

BF16 = ml_dtypes.bfloat16
LOSS_NAMES = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "mean_squared_error",
    "sigmoid_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits",
    "sparse_categorical_crossentropy",
    "sparse_softmax_cross_entropy_with_logits",
    "weighted_cross_entropy_with_logits",
]
LOSSES = [getattr(ce, n) for n in LOSS_NAMES]
#: Every registered loss: the (labels, predictions) ones above, and linear_cross_entropy (its
#: own tests are in tests/test_linear.py: three arguments, a tuple of gradients).
REGISTERED = sorted([*LOSS_NAMES, "linear_cross_entropy"])


def _inputs(loss: Any, dtype: Any = np.float64, shape: tuple[int, int] = (3, 4)) -> tuple:
    """Valid (labels, predictions, extra positional args) for ``loss``."""
    rng = np.random.default_rng(7)
    n, c = shape
    logits = rng.normal(0, 2, shape)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    k = rng.integers(0, c, n)
    onehot = np.eye(c)[k]
    binary = rng.integers(0, 2, shape).astype(np.float64)
    name = loss.__name__
    if name.startswith("sparse"):
        x = logits if "softmax" in name else probs
        return k, x.astype(dtype), ()
    if name.startswith(("categorical", "softmax")):
        x = logits if "softmax" in name else probs
        return onehot.astype(dtype), x.astype(dtype), ()
    if name.startswith(("sigmoid", "weighted")):
        extra = (2.0,) if name.startswith("weighted") else ()
        return binary.astype(dtype), logits.astype(dtype), extra
    if name == "mean_squared_error":
        return logits[::-1].copy().astype(dtype), logits.astype(dtype), ()
    return binary.astype(dtype), probs.astype(dtype), ()  # binary, binary focal


# ---------------------------------------------------------------------------------------------
# The wrappers


def test_value_and_grad_is_a_named_tuple() -> None:
    assert ce.ValueAndGrad._fields == ("value", "grad")
    res = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)(
        [0, 1], [[2.0, 0.0], [0.0, 1.0]], reduction="mean"
    )
    assert isinstance(res, ce.ValueAndGrad)
    assert isinstance(res, tuple)
    value, grad = res
    assert value is res.value
    assert grad is res.grad
    assert res == ce.ValueAndGrad(res.value, res.grad)


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_wrappers_keep_the_loss_signature_name_and_doc(loss: Any) -> None:
    for wrapper in (ce.value_and_grad, ce.grad):
        w = wrapper(loss)
        assert w.__name__ == loss.__name__
        assert inspect.signature(w) == inspect.signature(loss)
        assert loss.__doc__ in w.__doc__
        assert f"crossentropy.{loss.__name__}" in w.__doc__


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_value_is_the_loss_output_and_grad_is_value_and_grad_grad(
    loss: Any, reduction: str
) -> None:
    y, x, extra = _inputs(loss)
    expected = loss(y, x, *extra, reduction=reduction)
    value, g = ce.value_and_grad(loss)(y, x, *extra, reduction=reduction)
    assert type(value) is type(expected)
    np.testing.assert_array_equal(value, expected)
    if reduction != "none":
        assert isinstance(value, np.float64)  # a 0-d NumPy scalar of the predictions' dtype
    g2 = ce.grad(loss)(y, x, *extra, reduction=reduction)
    assert isinstance(g2, np.ndarray)
    np.testing.assert_array_equal(g2, g)
    assert g.shape == x.shape


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_positional_and_keyword_arguments_bind_like_the_loss(loss: Any) -> None:
    y, x, extra = _inputs(loss)
    names = list(inspect.signature(loss).parameters)
    kw = {names[0]: y, names[1]: x}
    if extra:
        kw[names[2]] = extra[0]
    np.testing.assert_array_equal(
        ce.grad(loss)(**kw, reduction="sum"), ce.grad(loss)(y, x, *extra, reduction="sum")
    )


def test_python_lists_are_accepted() -> None:
    g = ce.grad(ce.binary_crossentropy)([[1, 0]], [[0.25, 0.5]])
    assert isinstance(g, np.ndarray)
    assert g.dtype == np.float64
    np.testing.assert_allclose(g, [[-2.0, 1.0]])


NOT_LOSSES = [
    pytest.param(np.sum, "sum", id="numpy-function"),
    pytest.param(lambda y, p: 0.0, "<lambda>", id="lambda"),
    pytest.param(
        partial(ce.binary_crossentropy, from_logits=True), "functools.partial", id="partial"
    ),
    pytest.param(ce.value_and_grad(ce.binary_crossentropy), "binary_crossentropy", id="wrapped"),
    pytest.param(ce.softmax, "softmax", id="primitive"),
    pytest.param(None, "None", id="None"),
    pytest.param(3, "3", id="int"),
    pytest.param([ce.binary_crossentropy], "[", id="unhashable"),
]


@pytest.mark.parametrize(("fn", "seen"), NOT_LOSSES)
def test_value_and_grad_rejects_other_functions(fn: Any, seen: str) -> None:
    names = ", ".join(REGISTERED)
    pattern = re.escape(
        f"value_and_grad: loss_fn must be one of crossentropy's losses ({names}); got "
    ) + re.escape(seen)
    with pytest.raises(TypeError, match=pattern):
        ce.value_and_grad(fn)


def test_grad_rejects_other_functions() -> None:
    with pytest.raises(
        TypeError, match=r"loss_fn must be one of crossentropy's losses .*got sum\."
    ):
        ce.grad(np.sum)


def test_grad_error_names_grad() -> None:
    with pytest.raises(TypeError, match=r"^grad: loss_fn must be one of"):
        ce.grad(np.sum)


def test_bad_call_arguments_name_the_loss() -> None:
    vg = ce.value_and_grad(ce.sparse_softmax_cross_entropy_with_logits)
    with pytest.raises(
        TypeError,
        match=r"^sparse_softmax_cross_entropy_with_logits: got an unexpected keyword argument "
        r"'bogus'",
    ):
        vg([0], [[1.0, 2.0]], bogus=1)
    with pytest.raises(
        TypeError,
        match=r"^sparse_softmax_cross_entropy_with_logits: missing a required argument: 'logits'",
    ):
        vg([0])
    # need_grad is internal: not part of the public signature
    with pytest.raises(TypeError, match="need_grad"):
        vg([0], [[1.0, 2.0]], need_grad=False)
    # options are keyword-only, as in the loss
    with pytest.raises(TypeError, match="too many positional arguments"):
        vg([0], [[1.0, 2.0]], -1)


def test_validation_errors_are_the_loss_errors() -> None:
    vg = ce.value_and_grad(ce.binary_crossentropy)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "binary_crossentropy: y_pred must be in [0, 1]; got 2.5 at index (0, 1). "
            "If these are logits, pass from_logits=True."
        ),
    ):
        vg([[1.0, 0.0]], [[0.5, 2.5]])
    with pytest.raises(ValueError, match=r"^sparse_softmax_cross_entropy_with_logits: labels must"):
        ce.grad(ce.sparse_softmax_cross_entropy_with_logits)([5], [[1.0, 2.0]])


# ---------------------------------------------------------------------------------------------
# dtypes and shapes

FLOAT_DTYPES = [np.float16, BF16, np.float32, np.float64]
FLOAT_IDS = ["float16", "bfloat16", "float32", "float64"]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_gradient_dtype_is_the_predictions_dtype_rounded_once(
    loss: Any, dtype: Any, reduction: str
) -> None:
    y, x, extra = _inputs(loss, dtype)
    value, g = ce.value_and_grad(loss)(y, x, *extra, reduction=reduction)
    assert g.dtype == np.dtype(dtype)
    assert g.shape == x.shape
    assert np.asarray(value).dtype == np.dtype(dtype)
    # computed in float64 from the same (exactly representable) inputs, then rounded once:
    # within 1 ulp of the float64 gradient rounded (0 in almost every element)
    y64 = y if y.dtype.kind == "i" else y.astype(np.float64)
    g64 = ce.grad(loss)(y64, x.astype(np.float64), *extra, reduction=reduction, validate=False)
    assert max_ulp_error(g, exact_floats(g64.astype(dtype)), dtype) <= 1.0
    assert np.mean(g == g64.astype(dtype)) >= 0.9


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_longdouble_gradient(loss: Any) -> None:
    y, x, extra = _inputs(loss)
    y_ld = y if y.dtype.kind == "i" else y.astype(np.longdouble)
    x_ld = x.astype(np.longdouble)
    g = ce.grad(loss)(y_ld, x_ld, *extra, reduction="mean", validate=False)
    assert g.dtype == np.longdouble
    np.testing.assert_allclose(
        g.astype(np.float64), ce.grad(loss)(y, x, *extra, reduction="mean"), rtol=1e-14, atol=1e-16
    )


AXIS_LOSSES = [f for f in LOSSES if "axis" in inspect.signature(f).parameters]


@pytest.mark.parametrize("axis", [0, 1, -2])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss", AXIS_LOSSES, ids=[f.__name__ for f in AXIS_LOSSES])
def test_axis_gradient_is_the_moved_axis_gradient(loss: Any, reduction: str, axis: int) -> None:
    """grad(axis=k)(moveaxis(x, -1, k)) == moveaxis(grad(axis=-1)(x), -1, k), exactly."""
    rng = np.random.default_rng(3)
    y, x, _ = _inputs(loss, shape=(6, 4))
    # a 3-d batch: (2, 3, C), class axis last
    x3 = x.reshape(2, 3, 4)
    y3 = y.reshape(2, 3) if y.dtype.kind == "i" else y.reshape(2, 3, 4)
    w = rng.uniform(0.5, 2.0, (2, 3))
    base = ce.value_and_grad(loss)(y3, x3, reduction=reduction, sample_weight=w)
    xm = np.moveaxis(x3, -1, axis)
    ym = y3 if y3.dtype.kind == "i" else np.moveaxis(y3, -1, axis)
    if y3.dtype.kind == "i":
        # sparse labels keep the other axes in order
        pass
    moved = ce.value_and_grad(loss)(ym, xm, axis=axis, reduction=reduction, sample_weight=w)
    assert moved.grad.shape == xm.shape
    np.testing.assert_array_equal(moved.grad, np.moveaxis(base.grad, -1, axis))
    np.testing.assert_array_equal(moved.value, base.value)


# ---------------------------------------------------------------------------------------------
# Relations between losses and between reductions


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_reductions_relate(loss: Any) -> None:
    y, x, extra = _inputs(loss)
    g_none = ce.grad(loss)(y, x, *extra, reduction="none")
    g_sum = ce.grad(loss)(y, x, *extra, reduction="sum")
    g_mean = ce.grad(loss)(y, x, *extra, reduction="mean")
    n = np.asarray(loss(y, x, *extra)).size
    np.testing.assert_array_equal(g_none, g_sum)  # "none" differentiates the sum
    np.testing.assert_allclose(g_mean, g_sum / n, rtol=1e-15, atol=0)
    # sample weights: "sum" scales each sample's gradient, "mean" divides by the total weight
    w = np.linspace(0.0, 2.0, n).reshape(np.shape(loss(y, x, *extra)))
    gw_sum = ce.grad(loss)(y, x, *extra, reduction="sum", sample_weight=w)
    gw_mean = ce.grad(loss)(y, x, *extra, reduction="mean", sample_weight=w)
    w_b = w[..., None] if g_sum.ndim > w.ndim else w
    np.testing.assert_allclose(gw_sum, g_sum * w_b, rtol=1e-15, atol=0)
    np.testing.assert_allclose(gw_mean, gw_sum / w.sum(), rtol=1e-15, atol=0)
    # a scalar sample weight is a uniform one
    np.testing.assert_allclose(
        ce.grad(loss)(y, x, *extra, reduction="sum", sample_weight=2.5), 2.5 * g_sum, rtol=1e-15
    )


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_equals_one_hot(from_logits: bool) -> None:
    y, x, _ = _inputs(
        ce.sparse_categorical_crossentropy
        if not from_logits
        else ce.sparse_softmax_cross_entropy_with_logits
    )
    onehot = np.eye(x.shape[-1])[y]
    cw = np.array([0.5, 2.0, 1.0, 3.0])
    for kw in (
        {},
        {"label_smoothing": 0.2},
        {"class_weight": cw},
        {"label_smoothing": 0.1, "class_weight": cw},
    ):
        gs = ce.grad(ce.sparse_categorical_crossentropy)(y, x, from_logits=from_logits, **kw)
        gd = ce.grad(ce.categorical_crossentropy)(onehot, x, from_logits=from_logits, **kw)
        np.testing.assert_allclose(gs, gd, rtol=1e-15, atol=1e-17)


def test_tensorflow_names_equal_the_keras_names() -> None:
    y, x, _ = _inputs(ce.softmax_cross_entropy_with_logits)
    np.testing.assert_array_equal(
        ce.grad(ce.softmax_cross_entropy_with_logits)(y, x, label_smoothing=0.1),
        ce.grad(ce.categorical_crossentropy)(y, x, from_logits=True, label_smoothing=0.1),
    )
    k, x, _ = _inputs(ce.sparse_softmax_cross_entropy_with_logits)
    np.testing.assert_array_equal(
        ce.grad(ce.sparse_softmax_cross_entropy_with_logits)(k, x, ignore_index=2),
        ce.grad(ce.sparse_categorical_crossentropy)(k, x, from_logits=True, ignore_index=2),
    )
    z, x, _ = _inputs(ce.sigmoid_cross_entropy_with_logits)
    pw = np.array([0.5, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(
        ce.grad(ce.weighted_cross_entropy_with_logits)(z, x, pw),
        ce.grad(ce.sigmoid_cross_entropy_with_logits)(z, x, pos_weight=pw),
    )
    # binary_crossentropy averages the same element-wise terms over the last axis
    np.testing.assert_allclose(
        ce.grad(ce.binary_crossentropy)(z, x, from_logits=True, pos_weight=pw),
        ce.grad(ce.sigmoid_cross_entropy_with_logits)(z, x, pos_weight=pw) / x.shape[-1],
        rtol=1e-15,
    )


@pytest.mark.parametrize("from_logits", [False, True])
def test_focal_with_gamma_0_is_cross_entropy(from_logits: bool) -> None:
    y, p, _ = _inputs(ce.binary_crossentropy)
    x = np.log(p) if from_logits else p
    np.testing.assert_allclose(
        ce.grad(ce.binary_focal_crossentropy)(y, x, gamma=0.0, from_logits=from_logits),
        ce.grad(ce.binary_crossentropy)(y, x, from_logits=from_logits),
        rtol=1e-15,
        atol=1e-17,
    )
    y, p, _ = _inputs(ce.categorical_crossentropy)
    x = np.log(p) if from_logits else p
    np.testing.assert_allclose(
        ce.grad(ce.categorical_focal_crossentropy)(y, x, gamma=0.0, from_logits=from_logits),
        ce.grad(ce.categorical_crossentropy)(y, x, from_logits=from_logits),
        rtol=1e-15,
        atol=1e-17,
    )


# ---------------------------------------------------------------------------------------------
# Nothing the user passes in is modified, and the gradient is a fresh array


def _all_options(loss: Any, c: int, n: int) -> dict[str, Any]:
    params = inspect.signature(loss).parameters
    rng = np.random.default_rng(11)
    opts: dict[str, Any] = {"sample_weight": rng.uniform(0.5, 2.0, n)}
    if "class_weight" in params:
        opts["class_weight"] = rng.uniform(0.5, 2.0, c)
    if "pos_weight" in params and params["pos_weight"].kind is inspect.Parameter.KEYWORD_ONLY:
        opts["pos_weight"] = rng.uniform(0.5, 2.0, c)
    if "alpha" in params and loss is ce.categorical_focal_crossentropy:
        opts["alpha"] = rng.uniform(0.1, 0.9, c)
    if "label_smoothing" in params:
        opts["label_smoothing"] = 0.1
    if "ignore_index" in params:
        opts["ignore_index"] = 1
    return opts


@pytest.mark.parametrize("reduction", ["none", "mean"])
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_inputs_are_not_modified_and_grad_is_fresh(loss: Any, reduction: str) -> None:
    y, x, extra = _inputs(loss)
    extra = tuple(np.array([0.5, 1.0, 2.0, 3.0]) for _ in extra)
    opts = _all_options(loss, x.shape[-1], x.shape[0])
    if loss in (ce.sigmoid_cross_entropy_with_logits, ce.weighted_cross_entropy_with_logits):
        opts["sample_weight"] = np.ones_like(x)
    args = (y, x, *extra)
    before = [a.copy() for a in args], {k: np.copy(v) for k, v in opts.items()}
    for arr in [*args, *opts.values()]:
        if isinstance(arr, np.ndarray):
            arr.flags.writeable = False  # a write would raise
    value, g = ce.value_and_grad(loss)(*args, reduction=reduction, **opts)
    for a, b in zip(args, before[0], strict=True):
        np.testing.assert_array_equal(a, b)
    for k, v in opts.items():
        np.testing.assert_array_equal(v, before[1][k])
    assert g.flags.writeable
    for arr in [*args, *opts.values()]:
        if isinstance(arr, np.ndarray):
            assert not np.shares_memory(g, arr)
            assert not np.shares_memory(np.asarray(value), arr)


# ---------------------------------------------------------------------------------------------
# Another array namespace: array-api-strict (float64), against the NumPy gradient


def _strict_params() -> list[Any]:
    out = []
    for loss in LOSSES:
        for opt in ("plain", "class_weight"):
            if opt == "class_weight" and "class_weight" not in inspect.signature(loss).parameters:
                continue
            out.append(pytest.param(loss, opt, id=f"{loss.__name__}-{opt}"))
    return out


@pytest.mark.parametrize(("loss", "opt"), _strict_params())
def test_array_api_strict_gradient_matches_numpy(loss: Any, opt: str) -> None:
    xs = pytest.importorskip("array_api_strict")
    y, x, extra = _inputs(loss)
    kw: dict[str, Any] = {"reduction": "mean", "sample_weight": np.linspace(0.5, 1.5, 3)}
    if loss in (ce.sigmoid_cross_entropy_with_logits, ce.weighted_cross_entropy_with_logits):
        kw["sample_weight"] = np.ones_like(x)
    if opt == "class_weight":
        kw["class_weight"] = np.array([0.5, 1.0, 2.0, 0.0])
    expected = ce.value_and_grad(loss)(y, x, *extra, **kw)
    kw_s = {k: (xs.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    res = ce.value_and_grad(loss)(xs.asarray(y), xs.asarray(x), *extra, **kw_s)
    assert isinstance(res.grad, type(xs.asarray(x)))
    assert res.grad.dtype == xs.float64
    assert tuple(res.grad.shape) == x.shape
    np.testing.assert_allclose(np.asarray(res.grad), expected.grad, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(float(res.value), float(expected.value), rtol=1e-14)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_empty_batch(loss: Any, reduction: str) -> None:
    y, x, extra = _inputs(loss, np.float32)
    y0, x0 = y[:0], x[:0]
    value, g = ce.value_and_grad(loss)(y0, x0, *extra, reduction=reduction)
    assert g.shape == x0.shape
    assert g.dtype == np.float32
    if reduction != "none":
        assert isinstance(value, np.float32)
        assert value == 0.0


def test_array_api_strict_float32_computes_the_confident_entry_without_cancellation() -> None:
    xs = pytest.importorskip("array_api_strict")
    x = xs.asarray(np.array([[20.0, 0.0, 0.0]], np.float32))
    y = xs.asarray(np.array([[1.0, 0.0, 0.0]], np.float32))
    _, g = ce.value_and_grad(ce.softmax_cross_entropy_with_logits)(y, x, reduction="mean")
    assert g.dtype == xs.float32
    # computed in float32 itself here (not float64): still -sum_{j != k} p_j, not p_k - 1
    np.testing.assert_allclose(
        np.asarray(g), [[-4.1223072e-09, 2.0611536e-09, 2.0611536e-09]], rtol=2e-7
    )


@pytest.mark.parametrize("loss", LOSSES, ids=LOSS_NAMES)
def test_docstring_gives_the_gradient(loss: Any) -> None:
    doc = loss.__doc__ or ""
    assert re.search(r"\bGradient\b", doc), loss.__name__
    assert ":math:" in doc.split("Gradient", 1)[1][:400]
