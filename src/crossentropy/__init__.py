"""crossentropy: cross-entropy losses and their gradients, exact, stable and framework-faithful.

Labels come first and predictions second (the Keras/TensorFlow order); every option is
keyword-only; losses are per-sample unless ``reduction="mean"`` or ``"sum"``, which return a 0-d
NumPy scalar of the predictions' dtype.
"""

from __future__ import annotations

from ._binary import (
    binary_crossentropy,
    sigmoid_cross_entropy_with_logits,
    weighted_cross_entropy_with_logits,
)
from ._categorical import (
    categorical_crossentropy,
    softmax_cross_entropy_with_logits,
    sparse_categorical_crossentropy,
    sparse_softmax_cross_entropy_with_logits,
)
from ._focal import binary_focal_crossentropy, categorical_focal_crossentropy
from ._grad import ValueAndGrad, grad, value_and_grad
from ._kernels import fast_path_available, get_num_threads, set_num_threads
from ._linear import linear_cross_entropy
from ._primitives import log_sigmoid, log_softmax, logsumexp, sigmoid, softmax, softplus
from ._regression import mean_squared_error

__version__ = "0.1.0"

__all__ = [
    "ValueAndGrad",
    "__version__",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "fast_path_available",
    "get_num_threads",
    "grad",
    "linear_cross_entropy",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "mean_squared_error",
    "set_num_threads",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softplus",
    "sparse_categorical_crossentropy",
    "sparse_softmax_cross_entropy_with_logits",
    "value_and_grad",
    "weighted_cross_entropy_with_logits",
]
