"""The per-class table made on demand (cli._output.PerClass) equals the eager list it replaced."""

from __future__ import annotations

import json

import numpy as np

from crossentropy.cli._output import PerClass, to_json


def _eager(names, count, loss, weight, correct):  # type: ignore[no-untyped-def]
    out = []
    for c in range(len(count)):
        e = {"class": c}
        if names is not None:
            e["name"] = names[c]
        e["count"] = int(count[c])
        e["loss"] = None if weight[c] == 0 else float(loss[c]) / float(weight[c])
        e["accuracy"] = None if weight[c] == 0 else float(correct[c]) / float(weight[c])
        out.append(e)
    return out


def test_per_class_entries_and_highest_loss_match_the_eager_list() -> None:
    rng = np.random.default_rng(0)
    n = 57
    count = rng.integers(0, 5, n)
    weight = count.astype(np.float64)  # classes without samples: no loss (None)
    loss = np.round(rng.uniform(0, 3, n), 1) * weight  # ties in the mean loss
    correct = np.minimum(count, rng.integers(0, 5, n)).astype(np.float64)
    for names in (None, [f"c{i}" for i in range(n)]):
        lazy = PerClass(names, count, loss, weight, correct)
        eager = _eager(names, count, loss, weight, correct)
        assert len(lazy) == n
        assert list(lazy) == eager
        assert lazy[-1] == eager[-1]
        assert lazy[3:9] == eager[3:9]
        want = sorted(eager, key=lambda e: -(e["loss"] if e["loss"] is not None else -1.0))
        assert lazy.highest_loss(20) == want[:20]
        assert lazy.highest_loss(n + 5) == want
        assert (
            json.loads(to_json({"per_class": lazy}))["per_class"]
            == json.loads(to_json({"per_class": eager}))["per_class"]
        )
