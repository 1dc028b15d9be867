"""``crossentropy.compat`` beyond the goldens: the worked examples of SEEDS.md, signatures,
imports, docstrings, error messages and warnings."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest

import crossentropy as ce
from crossentropy.compat import keras, optax, sklearn, tf, tf_keras, torch
from tests.accuracy import reference as R
from tests.accuracy.ulp import exact_floats, max_ulp_error, rounded

from .goldens import MODULES, load

MODS = {
    "keras": keras,
    "tf_keras": tf_keras,
    "tf": tf,
    "torch": torch,
    "optax": optax,
    "sklearn": sklearn,
}

SEED3_LOGITS = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]])
SEED3_LABELS = np.array([0, 1, 2, 0, 1])
SEED3_TF = [
    1.6879548708943529e-04,
    1.0347562247153873e-03,
    6.588390375742911e-02,
    2.5834920679665725,
    5.498523537714723e-02,
]


# --------------------------------------------------------------------------------------------
# SEEDS.md


def test_seed2_tf_keras_prints_the_articles_digits() -> None:
    """SEEDS.md section 2: tf.keras printed [[0.69314694]] and [[0.49152803]]."""
    a = tf_keras.binary_crossentropy([[[0.0]]], [[[0.5]]])
    b = tf_keras.binary_crossentropy([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])
    assert a.dtype == np.float32
    assert a.shape == (1, 1)
    assert str(a) == "[[0.69314694]]"
    assert str(b) == "[[0.49152803]]"


def test_seed2_keras3_and_exact_give_the_formula() -> None:
    """Keras 3 only clips: 0.6931472 and 0.4915282, as the formula by hand and the core."""
    a = keras.binary_crossentropy([[[0.0]]], [[[0.5]]])
    b = keras.binary_crossentropy([[[0.0, 1, 0.0, 1]]], [[[0.5, 0.8, 0.3, 0.5]]])
    assert str(a) == "[[0.6931472]]"
    assert str(b) == "[[0.4915282]]"
    y = np.array([[[0.0, 1, 0.0, 1]]], np.float32)
    p = np.array([[[0.5, 0.8, 0.3, 0.5]]], np.float32)
    assert ce.binary_crossentropy(y, p)[0, 0] == b[0, 0]


@pytest.mark.parametrize("form", ["softmax", "sparse"])
def test_seed3_tensorflow_digits_bit_for_bit(form: str) -> None:
    """SEEDS.md section 3: compat.tf gives TensorFlow's float64 digits exactly."""
    if form == "softmax":
        got = tf.softmax_cross_entropy_with_logits(
            labels=np.eye(3)[SEED3_LABELS], logits=SEED3_LOGITS
        )
    else:
        got = tf.sparse_softmax_cross_entropy_with_logits(labels=SEED3_LABELS, logits=SEED3_LOGITS)
    assert got.dtype == np.float64
    assert got.tolist() == SEED3_TF


def test_seed3_tensorflow_differs_from_the_correctly_rounded_value() -> None:
    """TensorFlow's first value is 3200 ulps above log(e^12 + e^3 + e^2) - 12 rounded correctly
    (1.6879548708934855e-04); the core's is within one ulp of it (docs/frameworks.md, §2)."""
    (nll, _, _, _), _ = R.evaluate(R.softmax_parts, R.as_mp([12.0, 3.0, 2.0]))
    exact_ref = R.encode_all([nll[0]])
    ref = rounded(*exact_ref, "float64")[0]
    assert ref == 1.6879548708934855e-04
    core = ce.sparse_softmax_cross_entropy_with_logits(SEED3_LABELS, SEED3_LOGITS)[0]
    fw = tf.sparse_softmax_cross_entropy_with_logits(labels=SEED3_LABELS, logits=SEED3_LOGITS)[0]
    assert max_ulp_error(core, exact_ref, "float64") <= 1
    assert max_ulp_error(fw, exact_floats(ref), "float64") == 3200


# --------------------------------------------------------------------------------------------
# Imports, signatures, docstrings


def _run(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_import_crossentropy_does_not_import_compat() -> None:
    out = _run(
        "import sys, crossentropy; "
        "print(sorted(m for m in sys.modules if m.startswith('crossentropy.compat')))"
    )
    assert out.strip() == "[]"


def test_compat_imports_no_framework() -> None:
    out = _run(
        "import sys\n"
        "from crossentropy.compat import keras, tf_keras, tf, torch, optax, sklearn\n"
        "fw = ('tensorflow', 'keras', 'tf_keras', 'torch', 'jax', 'optax', 'sklearn')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in fw))"
    )
    assert out.strip() == "[]"


def _compat_signature(obj: object) -> list[list[str]]:
    target = obj.__init__ if inspect.isclass(obj) else obj  # type: ignore[misc]
    return [
        [p.name, p.kind.name, "<required>" if p.default is p.empty else repr(p.default)]
        for p in inspect.signature(target).parameters.values()
        if p.name != "self"
    ]


@pytest.mark.parametrize("module", MODULES)
def test_signatures_match_the_frameworks(module: str) -> None:
    """Names, order, kinds and defaults as recorded from the frameworks by the generator."""
    recorded = load(module).meta["signatures"]
    mod = MODS[module]
    for name in mod.__all__:
        if name == "Loss":
            continue
        assert _compat_signature(getattr(mod, name)) == recorded[name], name
    if module == "keras":
        assert _compat_signature(keras.Loss.__call__) == recorded["Loss.__call__"]


@pytest.mark.parametrize("module", MODULES)
def test_every_docstring_says_how_it_differs(module: str) -> None:
    mod = MODS[module]
    for name in mod.__all__:
        doc = inspect.getdoc(getattr(mod, name)) or ""
        if name == "Loss":
            assert "reduction" in doc
            continue
        lines = [ln for ln in doc.splitlines() if ln.startswith("Differs from")]
        assert lines, f"{module}.{name}: no 'Differs from' line"
        assert "crossentropy." in lines[0] or "exact functions" in lines[0], name


def test_compat_package_lists_its_modules() -> None:
    pkg = importlib.import_module("crossentropy.compat")
    assert set(pkg.__all__) == set(MODULES)


# --------------------------------------------------------------------------------------------
# Error messages (each names the function, the argument, the expectation and what was seen)

F32 = np.float32
P43 = np.full((4, 3), 1 / 3, F32)
X43 = np.zeros((4, 3), F32)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (
            lambda: keras.binary_crossentropy(np.zeros(4, F32), np.zeros((4, 1), F32)),
            ValueError,
            r"keras\.binary_crossentropy: y_true and y_pred must have the same shape; got "
            r"y_true\.shape=\(4,\), y_pred\.shape=\(4, 1\)",
        ),
        (
            lambda: keras.binary_crossentropy(P43, np.zeros((4, 3), np.int64)),
            TypeError,
            r"keras\.binary_crossentropy: y_pred must have a real floating dtype; got dtype int64",
        ),
        (
            lambda: keras.binary_crossentropy(P43, P43.astype(np.float16)),
            TypeError,
            r"keras\.binary_crossentropy: y_pred must be float32 or float64 .*; got dtype "
            r"float16\. Cast it first",
        ),
        (
            lambda: keras.binary_crossentropy(P43, P43, label_smoothing=1.5),
            ValueError,
            r"keras\.binary_crossentropy: label_smoothing must be in \[0, 1\]; got 1\.5",
        ),
        (
            lambda: keras.binary_crossentropy(P43, P43, axis=2),
            ValueError,
            r"keras\.binary_crossentropy: axis must be in \[-2, 2\) for 2-d predictions; got 2",
        ),
        (
            lambda: keras.categorical_crossentropy(P43, "abc"),
            TypeError,
            r"keras\.categorical_crossentropy: y_pred must be an array of real floats",
        ),
        (
            lambda: keras.sparse_categorical_crossentropy(np.array([0, 3, 1, 1]), P43),
            ValueError,
            r"keras\.sparse_categorical_crossentropy: y_true must be in \[0, 3\); got 3 at index 1",
        ),
        (
            lambda: keras.sparse_categorical_crossentropy(np.zeros((4, 2), int), P43),
            ValueError,
            r"y_true must have the shape of y_pred without its last axis, \(4,\); got "
            r"y_true\.shape=\(4, 2\)",
        ),
        (
            lambda: keras.sparse_categorical_crossentropy(np.zeros(3, int), P43, axis=0),
            ValueError,
            r"axis must be the last axis \(-1 or 1\) with the TensorFlow backend",
        ),
        (
            lambda: keras.sparse_categorical_crossentropy(np.zeros(4, int), P43, ignore_class=1.5),
            TypeError,
            r"ignore_class must be an int or None; got float 1\.5",
        ),
        (
            lambda: keras.binary_focal_crossentropy(P43, P43, gamma="2"),
            TypeError,
            r"keras\.binary_focal_crossentropy: gamma must be a real number; got str",
        ),
        (
            lambda: keras.BinaryCrossentropy(reduction="avg"),
            ValueError,
            r"keras\.BinaryCrossentropy: reduction must be one of 'sum_over_batch_size', 'sum', "
            r"'mean', 'mean_with_sample_weight', 'none', None; got 'avg'",
        ),
        (
            lambda: keras.BinaryCrossentropy(dtype="float16"),
            ValueError,
            r"keras\.BinaryCrossentropy: dtype must be None, 'float32' or 'float64'; got "
            r"'float16'",
        ),
        (
            lambda: keras.BinaryCrossentropy()(P43, P43, sample_weight=np.ones(3)),
            ValueError,
            r"keras\.BinaryCrossentropy: sample_weight must broadcast against the per-sample loss "
            r"of shape \(4,\); got sample_weight\.shape=\(3,\)",
        ),
        (
            lambda: keras.CategoricalFocalCrossentropy(alpha=np.ones(2))(P43, P43),
            ValueError,
            r"alpha must broadcast against y_pred\.shape=\(4, 3\); got alpha\.shape=\(2,\)",
        ),
        (
            lambda: tf_keras.sparse_categorical_crossentropy(np.zeros(5, int), P43),
            ValueError,
            r"tf_keras\.sparse_categorical_crossentropy: y_true must have the shape of y_pred "
            r"without its last axis, \(4,\); got y_true\.shape=\(5,\), y_pred\.shape=\(4, 3\)",
        ),
        (
            lambda: tf.sigmoid_cross_entropy_with_logits(logits=X43),
            TypeError,
            r"tf\.nn\.sigmoid_cross_entropy_with_logits: labels must be an array of numbers; got "
            r"None",
        ),
        (
            lambda: tf.sparse_softmax_cross_entropy_with_logits(labels=np.zeros(4), logits=X43),
            TypeError,
            r"labels must have an integer dtype \(int32 or int64 class indices\); got "
            r"dtype float64\. Use softmax_cross_entropy_with_logits for one-hot labels",
        ),
        (
            lambda: tf.sparse_softmax_cross_entropy_with_logits(
                labels=np.zeros(3, int), logits=X43
            ),
            ValueError,
            r"labels must have the shape of logits without its last axis, \(4,\); "
            r"got labels\.shape=\(3,\), logits\.shape=\(4, 3\)",
        ),
        (
            lambda: tf.sparse_softmax_cross_entropy_with_logits(
                labels=np.array([0, 0, -1, 0]), logits=X43
            ),
            ValueError,
            r"labels must be in \[0, 3\); got -1 at index 2",
        ),
        (
            lambda: tf.weighted_cross_entropy_with_logits(P43, X43, np.ones(2)),
            ValueError,
            r"pos_weight must broadcast against logits\.shape=\(4, 3\); got pos_weight\.shape="
            r"\(2,\)",
        ),
        (
            lambda: tf.softmax_cross_entropy_with_logits(P43, X43, axis=3),
            ValueError,
            r"tf\.nn\.softmax_cross_entropy_with_logits: axis must be in \[-2, 2\)",
        ),
        (
            lambda: torch.cross_entropy(X43, np.zeros(3, int)),
            ValueError,
            r"torch\.nn\.functional\.cross_entropy: target must have the input's shape without the "
            r"class dimension, \(4,\); got target\.shape=\(3,\)",
        ),
        (
            lambda: torch.cross_entropy(X43, np.array([0, 3, 1, 1])),
            ValueError,
            r"torch\.nn\.functional\.cross_entropy: target must be in \[0, 3\); got 3 at index 1",
        ),
        (
            lambda: torch.cross_entropy(X43, np.zeros(4, F32)),
            TypeError,
            r"target must have an integer dtype \(class indices, torch\.long\); got dtype float32",
        ),
        (
            lambda: torch.cross_entropy(X43, np.zeros((4, 3), int)),
            TypeError,
            r"target must have a floating dtype for class probabilities \(it has the input's shape "
            r"\(4, 3\)\); got dtype int64",
        ),
        (
            lambda: torch.cross_entropy(X43, P43, ignore_index=0),
            ValueError,
            r"ignore_index must be negative with class-probability targets",
        ),
        (
            lambda: torch.cross_entropy(X43, np.zeros(4, int), weight=np.ones(2)),
            ValueError,
            r"weight must have one entry per class, shape \(3,\); got weight\.shape=\(2,\)",
        ),
        (
            lambda: torch.cross_entropy(X43, np.zeros(4, int), reduction="avg"),
            ValueError,
            r"reduction must be one of 'none', 'mean', 'sum'; got 'avg'",
        ),
        (
            lambda: torch.cross_entropy(np.float32(1.0), np.zeros((), int)),
            ValueError,
            r"input must have shape \(C,\), \(N, C\) or \(N, C, d1, \.\.\., dk\); got a 0-d array",
        ),
        (
            lambda: torch.binary_cross_entropy(np.array([0.5, 1.5], F32), np.ones(2, F32)),
            ValueError,
            r"torch\.nn\.functional\.binary_cross_entropy: input must be in \[0, 1\]; "
            r"got 1\.5 at index 1\. If these are logits, use binary_cross_entropy_with_logits",
        ),
        (
            lambda: torch.binary_cross_entropy(np.array([0.5, np.nan], F32), np.ones(2, F32)),
            ValueError,
            r"input must not contain NaN; got NaN at index 1",
        ),
        (
            lambda: torch.binary_cross_entropy_with_logits(X43, np.ones(3, F32)),
            ValueError,
            r"target must have the input's shape; got target\.shape=\(3,\), input\.shape=\(4, 3\)",
        ),
        (
            lambda: torch.binary_cross_entropy_with_logits(X43, P43, weight=np.ones((2, 3))),
            ValueError,
            r"weight must broadcast to the input's shape \(4, 3\); got "
            r"weight\.shape=\(2, 3\)",
        ),
        (
            lambda: optax.softmax_cross_entropy_with_integer_labels(X43, np.zeros(4)),
            TypeError,
            r"optax\.softmax_cross_entropy_with_integer_labels: labels must have an integer dtype",
        ),
        (
            lambda: optax.sigmoid_binary_cross_entropy(X43, np.ones(2)),
            ValueError,
            r"optax\.sigmoid_binary_cross_entropy: labels must broadcast against logits; got "
            r"labels\.shape=\(2,\), logits\.shape=\(4, 3\)",
        ),
        (
            lambda: optax.poly_loss_cross_entropy(X43, np.zeros((4, 3), int)),
            TypeError,
            r"poly_loss_cross_entropy: labels must have a floating dtype; got dtype int64",
        ),
        (
            lambda: optax.softmax_cross_entropy(X43, P43, axis=(0, 5)),
            ValueError,
            r"axis must be in \[-2, 2\) for 2-d logits; got \(0, 5\)",
        ),
        (
            lambda: optax.softmax_cross_entropy(X43, P43, where=np.ones((4, 3))),
            TypeError,
            r"where must be a boolean array; got dtype float64",
        ),
        (
            lambda: sklearn.log_loss([0, 1], [0.5, 1.5]),
            ValueError,
            r"sklearn\.log_loss: y_proba must be <= 1; got 1\.5",
        ),
        (
            lambda: sklearn.log_loss([1, 1], [0.5, 0.7]),
            ValueError,
            r"y_true must hold at least two classes; got only \[1\]\. Pass every expected class "
            r"through labels=",
        ),
        (
            lambda: sklearn.log_loss([0, 5], [0.5, 0.7], labels=[0, 1]),
            ValueError,
            r"y_true must only hold values from labels \[0, 1\]; got \[5\]",
        ),
        (
            lambda: sklearn.log_loss([0, 1, 2], [[0.5, 0.5]] * 3),
            ValueError,
            r"y_proba must have one column per class of y_true \(3\); got y_proba\.shape=\(3, 2\)",
        ),
        (
            lambda: sklearn.log_loss([0, 1], [0.5, 0.7], sample_weight=[1.0]),
            ValueError,
            r"sample_weight must have shape \(2,\); got sample_weight\.shape=\(1,\)",
        ),
        (
            lambda: sklearn.log_loss([0, 1], [0.5, 0.7], sample_weight=[0.0, 0.0]),
            ZeroDivisionError,
            r"sample_weight must not sum to zero with normalize=True",
        ),
        (
            lambda: sklearn.log_loss([0.5, 1.0], [0.5, 0.7]),
            ValueError,
            r"y_true must hold class labels; got non-integer floats such as 0\.5",
        ),
        (
            lambda: sklearn.log_loss([0, 1], [0.5, np.nan]),
            ValueError,
            r"y_proba must be finite; got nan at index 1",
        ),
        (
            lambda: sklearn.log_loss([0, 1], [0.5, 0.7], y_pred=[0.5, 0.7]),
            ValueError,
            r"pass y_proba or its deprecated alias y_pred, not both",
        ),
        (
            lambda: sklearn.log_loss([0, 1, 1], [0.5, 0.7]),
            ValueError,
            r"y_true and y_proba must have the same number of samples; got y_true\.shape=\(3,\), "
            r"y_proba\.shape=\(2,\)",
        ),
    ],
)
def test_error_messages(call: object, exc: type[Exception], match: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(exc, match=match):
            call()  # type: ignore[operator]


# --------------------------------------------------------------------------------------------
# Warnings and inputs


def test_warnings_like_the_frameworks() -> None:
    with pytest.warns(UserWarning, match="do not sum to one"):
        sklearn.log_loss([0, 1], [[0.5, 0.4], [0.5, 0.5]])
    with pytest.warns(FutureWarning, match="renamed to `y_proba`"):
        assert sklearn.log_loss([0, 1], y_pred=[0.2, 0.7]) == sklearn.log_loss([0, 1], [0.2, 0.7])
    with pytest.warns(UserWarning, match="reduction='sum' instead"):
        torch.cross_entropy(X43, np.zeros(4, int), size_average=False)
    with pytest.warns(SyntaxWarning, match="Consider using 'binary_crossentropy'"):
        keras.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))


def test_inputs_are_not_modified() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3)).astype(F32)
    p = rng.dirichlet(np.ones(3), 4).astype(F32)
    k = np.array([0, 2, 2, 1])
    y = np.eye(3, dtype=F32)[k]
    w = np.array([1.0, 2.0, 0.5], F32)
    arrays = [x, p, k, y, w]
    before = [a.copy() for a in arrays]
    keras.sparse_categorical_crossentropy(k, p, ignore_class=2)
    keras.SparseCategoricalCrossentropy(ignore_class=2)(k, p, sample_weight=w[k])
    keras.categorical_focal_crossentropy(y, x, from_logits=True, alpha=w)
    tf_keras.sparse_categorical_crossentropy(k, p, ignore_class=1)
    tf.weighted_cross_entropy_with_logits(y, x, w)
    torch.cross_entropy(x, k, weight=w, label_smoothing=0.1, ignore_index=2)
    torch.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=w)
    optax.softmax_cross_entropy_with_integer_labels(x, k, where=np.ones((4, 3), bool))
    sklearn.log_loss(k, p, sample_weight=w[k])
    for a, b in zip(arrays, before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_lists_become_the_frameworks_default_float() -> None:
    assert keras.binary_crossentropy([[1.0]], [[0.3]]).dtype == np.float32
    assert tf.sigmoid_cross_entropy_with_logits(labels=[1.0], logits=[0.3]).dtype == np.float32
    assert torch.binary_cross_entropy_with_logits([0.3], [1.0]).dtype == np.float32
    assert optax.sigmoid_binary_cross_entropy([0.3], [1.0]).dtype == np.float32
    assert keras.binary_crossentropy(np.array([[1.0]]), np.array([[0.3]])).dtype == np.float64


def test_keras_classes_cast_to_their_dtype() -> None:
    """A float64 input gives a float32 loss unless the class is built with dtype='float64'."""
    y, p = np.array([[1.0]]), np.array([[1 - 1e-10]])
    assert keras.BinaryCrossentropy()(y, p).dtype == np.float32
    # -log(float32(1 - 1e-7)) = -log(1 - 2**-23), within one float32 ulp of 2**-23
    assert abs(float(keras.BinaryCrossentropy()(y, p)) - 2.0**-23) <= 2.0**-46
    v64 = keras.BinaryCrossentropy(dtype="float64")(y, p)
    assert v64.dtype == np.float64
    assert v64 == keras.binary_crossentropy(y, p)[0]


def test_torch_all_ignored_mean_is_nan_and_sum_is_zero() -> None:
    k = np.array([-100, -100])
    assert np.isnan(torch.cross_entropy(X43[:2], k))
    assert torch.cross_entropy(X43[:2], k, reduction="sum") == 0
    assert np.isnan(torch.cross_entropy(X43[:2], k, label_smoothing=0.2))
    assert (
        ce.sparse_softmax_cross_entropy_with_logits(k, X43[:2], ignore_index=-100, reduction="mean")
        == 0
    )


# --------------------------------------------------------------------------------------------
# Regressions from the hostile-input campaign (issue 13): where PyTorch raises, compat raises.


@pytest.mark.parametrize("wdt", [np.float16, np.float64, np.int64])
@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
def test_torch_class_weight_of_another_dtype_raises(fn: str, wdt: type) -> None:
    """PyTorch: ``expected scalar type Float but found Double`` (Half, Long) for the weight."""
    x = X43 if fn == "cross_entropy" else np.log(np.full((4, 3), 1 / 3, F32))
    k = np.array([0, 1, 2, 1])
    with pytest.raises(TypeError, match=r"weight must have the input's dtype float32, as PyTorch"):
        getattr(torch, fn)(x, k, weight=np.ones(3, wdt))
    # the input's dtype, or a list (no dtype of its own), is accepted
    a = getattr(torch, fn)(x, k, weight=np.ones(3, F32))
    assert getattr(torch, fn)(x, k, weight=[1.0, 1.0, 1.0]) == a


@pytest.mark.parametrize("tdt", [np.float16, np.float64])
def test_torch_binary_cross_entropy_target_of_another_dtype_raises(tdt: type) -> None:
    """PyTorch: ``Found dtype Double but expected Float`` for the target."""
    p = np.array([0.2, 0.7], F32)
    with pytest.raises(TypeError, match=r"target must have the input's dtype float32"):
        torch.binary_cross_entropy(p, np.array([0.0, 1.0], tdt))
    assert torch.binary_cross_entropy(p, [0.0, 1.0]) == torch.binary_cross_entropy(
        p, np.array([0.0, 1.0], F32)
    )


def test_sklearn_label_order_warning_says_y_prob() -> None:
    """scikit-learn 1.9.1's text, word for word (its own test matches on ``y_prob``)."""
    expected = (
        "Labels passed were [2, 1, 0]. But this function assumes labels are ordered "
        "lexicographically. Pass the ordered labels=[0, 1, 2] and ensure that the columns of "
        "y_prob correspond to this ordering."
    )
    p = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1]]
    with pytest.warns(UserWarning, match="Labels passed were") as rec:
        sklearn.log_loss([0, 2], p, labels=[2, 1, 0])
    assert [str(w.message) for w in rec] == [expected]
    sk = pytest.importorskip("sklearn.metrics")
    with pytest.warns(UserWarning, match="Labels passed were") as rec_sk:
        sk.log_loss([0, 2], p, labels=[2, 1, 0])
    assert [str(w.message) for w in rec_sk] == [expected]


def test_compat_submodules_reachable_through_the_package() -> None:
    """``from crossentropy import compat; compat.torch`` works without naming each submodule."""
    code = (
        "import sys\n"
        "from crossentropy import compat\n"
        "assert 'crossentropy.compat.sklearn' not in sys.modules\n"
        "v = compat.sklearn.log_loss([1, 0], [0.9, 0.2])\n"
        "assert 'crossentropy.compat.sklearn' in sys.modules\n"
        "assert set(dir(compat)) >= set(compat.__all__)\n"
        "try:\n"
        "    compat.nothing\n"
        "except AttributeError as e:\n"
        "    assert 'nothing' in str(e)\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print(repr(float(v)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == sklearn.log_loss([1, 0], [0.9, 0.2])
