"""A two-layer network trained in plain NumPy with ``crossentropy.value_and_grad``.

The classic course exercise (a tanh hidden layer, a sigmoid output, data of shape
``(features, m)``) done right:

- the network outputs logits ``Z2`` and the loss takes them directly
  (``from_logits=True``): no ``sigmoid`` followed by ``log``, no ``log(0)``, no epsilon;
- ``value_and_grad`` returns the cost *and* ``dZ2 = dcost/dZ2`` in one pass, so backprop starts
  from an exact gradient instead of a hand-derived ``A2 - Y``;
- the cost comes back as a 0-d NumPy scalar: no ``np.squeeze`` and no ``(1, 1)`` matrix from
  ``np.dot(Y, log(A2).T)``.

The data are two interleaving half-moons generated here (no download). Run::

    python examples/two_moons.py            # 2000 steps, a few seconds
    python examples/two_moons.py --steps 500
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import crossentropy as ce

loss_and_grad = ce.value_and_grad(ce.binary_crossentropy)


def make_moons(m: int, *, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: ``X`` of shape (2, m), labels ``Y`` of shape (1, m)."""
    half = m // 2
    t_top = rng.uniform(0.0, np.pi, half)
    t_bottom = rng.uniform(0.0, np.pi, m - half)
    top = np.stack([np.cos(t_top), np.sin(t_top)])
    bottom = np.stack([1.0 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)])
    X = np.concatenate([top, bottom], axis=1) + rng.normal(0.0, noise, (2, m))
    Y = np.concatenate([np.zeros(half), np.ones(m - half)])[None, :]
    return X, Y


def init_params(n_x: int, n_h: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "W1": rng.normal(0.0, 1.0, (n_h, n_x)) / np.sqrt(n_x),
        "b1": np.zeros((n_h, 1)),
        "W2": rng.normal(0.0, 1.0, (1, n_h)) / np.sqrt(n_h),
        "b2": np.zeros((1, 1)),
    }


def forward(params: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hidden activations ``A1`` (n_h, m) and output logits ``Z2`` (1, m)."""
    A1 = np.tanh(params["W1"] @ X + params["b1"])
    Z2 = params["W2"] @ A1 + params["b2"]
    return A1, Z2


def step(
    params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray, learning_rate: float
) -> float:
    """One full-batch gradient-descent step; returns the cost before the update."""
    A1, Z2 = forward(params, X)
    # cost = mean over the m examples of the binary cross-entropy of sigmoid(Z2) against Y.
    # With Y and Z2 of shape (1, m), the loss averages over the last axis (the m examples) and
    # reduction="mean" then takes the mean of that single row: a 0-d float64 scalar.
    # dZ2 is d cost / d Z2 = (sigmoid(Z2) - Y) / m, computed in the same pass, shape (1, m).
    cost, dZ2 = loss_and_grad(Y, Z2, from_logits=True, reduction="mean")
    # backpropagation through the two layers
    dW2 = dZ2 @ A1.T
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (params["W2"].T @ dZ2) * (1.0 - A1**2)  # tanh' = 1 - tanh^2
    dW1 = dZ1 @ X.T
    db1 = dZ1.sum(axis=1, keepdims=True)
    for name, g in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
        params[name] -= learning_rate * g
    return float(cost)


def accuracy(params: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray) -> float:
    _, Z2 = forward(params, X)
    return float(np.mean((Z2 > 0) == (Y == 1)))


def train(
    steps: int = 2000,
    *,
    m: int = 400,
    hidden: int = 16,
    learning_rate: float = 1.0,
    seed: int = 0,
    report_every: int | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train on freshly generated two moons; return the cost history and the accuracies."""
    rng = np.random.default_rng(seed)
    X, Y = make_moons(m, noise=0.2, rng=rng)
    X_test, Y_test = make_moons(m, noise=0.2, rng=rng)
    params = init_params(X.shape[0], hidden, rng)
    every = report_every or max(1, steps // 10)
    costs = []
    for i in range(steps):
        costs.append(step(params, X, Y, learning_rate))
        if verbose and (i % every == 0 or i == steps - 1):
            print(f"step {i:5d}  cost {costs[-1]:.6f}")
    result = {
        "costs": costs,
        "train_accuracy": accuracy(params, X, Y),
        "test_accuracy": accuracy(params, X_test, Y_test),
        "params": params,
    }
    if verbose:
        print(
            f"train accuracy {result['train_accuracy']:.3f}, "
            f"test accuracy {result['test_accuracy']:.3f}"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    train(args.steps, hidden=args.hidden, learning_rate=args.learning_rate, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
