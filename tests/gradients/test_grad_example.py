"""examples/two_moons.py: it trains (the cost falls, the accuracy is high) and its backprop,
seeded by value_and_grad, is the true gradient of the cost (finite differences)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import crossentropy as ce

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two_moons.py"


@pytest.fixture(scope="module")
def two_moons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("two_moons_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_training_lowers_the_cost_and_classifies(two_moons: ModuleType) -> None:
    result = two_moons.train(300, verbose=False)
    costs = np.array(result["costs"])
    assert costs[0] > 0.5  # about log 2 at the start
    assert costs[-1] < 0.5 * costs[0]
    # it falls overall: each tenth of the run ends lower than the previous one
    assert np.all(np.diff(costs[:: len(costs) // 10]) < 0)
    assert result["train_accuracy"] >= 0.9
    assert result["test_accuracy"] >= 0.85


def test_main_prints_the_falling_cost_and_accuracy(
    two_moons: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert two_moons.main(["--steps", "40"]) == 0
    out = capsys.readouterr().out.splitlines()
    costs = [float(line.split()[-1]) for line in out if line.startswith("step")]
    assert len(costs) >= 5
    assert costs[-1] < costs[0]
    assert out[-1].startswith("train accuracy")
    assert "test accuracy" in out[-1]


def test_backprop_from_value_and_grad_is_the_cost_gradient(two_moons: ModuleType) -> None:
    rng = np.random.default_rng(5)
    X, Y = two_moons.make_moons(40, noise=0.2, rng=rng)
    params = two_moons.init_params(2, 5, rng)

    def cost(p: dict[str, np.ndarray]) -> float:
        _, Z2 = two_moons.forward(p, X)
        return float(ce.binary_crossentropy(Y, Z2, from_logits=True, reduction="mean"))

    # the update with learning rate 1 is exactly minus the gradient
    after = {k: v.copy() for k, v in params.items()}
    c0 = two_moons.step(after, X, Y, 1.0)
    assert c0 == cost(params)
    h = 1e-4
    for name, value in params.items():
        analytic = value - after[name]
        for idx in np.ndindex(value.shape):
            vals = []
            for t in (-2, -1, 1, 2):
                p = {k: v.copy() for k, v in params.items()}
                p[name][idx] += t * h
                vals.append(cost(p))
            fd = (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)
            assert analytic[idx] == pytest.approx(fd, rel=1e-7, abs=1e-10), (name, idx)


def test_dz2_is_the_course_formula(two_moons: ModuleType) -> None:
    """The seed's course computes dZ2 = A2 - Y for the summed cost; divided by m for the mean."""
    rng = np.random.default_rng(1)
    X, Y = two_moons.make_moons(8, noise=0.2, rng=rng)
    _, Z2 = two_moons.forward(two_moons.init_params(2, 4, rng), X)
    cost, dZ2 = two_moons.loss_and_grad(Y, Z2, from_logits=True, reduction="mean")
    assert isinstance(cost, np.float64)  # a 0-d scalar: no np.squeeze needed
    A2 = 1.0 / (1.0 + np.exp(-Z2))
    np.testing.assert_allclose(dZ2, (A2 - Y) / Y.shape[1], rtol=1e-14)
