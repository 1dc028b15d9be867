"""Make ``src/crossentropy/data/example.npz``, the data of ``crossentropy eval --example``.

A simulated 10-class image classifier (CIFAR-10 class names) on 2000 samples, 200 per class: the
logits are a noisy score for each class, with the usual confusions (cat/dog, automobile/truck,
deer/horse, airplane/bird/ship) and a temperature that makes the model somewhat overconfident,
so that calibration error is visible. Deterministic (seeded); run it from the repository root::

    python tests/cli/make_example_data.py
"""

from __future__ import annotations

import os

import numpy as np

NAMES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]
# Pairs of classes the simulated model mixes up, and how strongly.
CONFUSIONS = {(3, 5): 1.6, (1, 9): 1.3, (4, 7): 1.0, (0, 2): 0.9, (0, 8): 0.9, (2, 6): 0.6}
# How separable each class is (cats are hard, automobiles easy).
MARGIN = np.array([2.6, 3.2, 2.2, 1.7, 2.4, 2.1, 2.9, 2.8, 3.0, 3.0])

OUT = os.path.join(
    os.path.dirname(__file__), "..", "..", "src", "crossentropy", "data", "example.npz"
)


def make(n_per_class: int = 200, seed: int = 20240617) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = len(NAMES)
    labels = np.repeat(np.arange(c), n_per_class)
    rng.shuffle(labels)
    n = labels.size
    similar = np.zeros((c, c))
    for (a, b), s in CONFUSIONS.items():
        similar[a, b] = similar[b, a] = s
    scores = rng.normal(0.0, 1.0, size=(n, c))
    scores[np.arange(n), labels] += MARGIN[labels]
    scores += similar[labels] * rng.uniform(0.3, 1.2, size=(n, 1))
    logits = (1.7 * scores).astype(np.float32)  # temperature > 1: overconfident
    return {"logits": logits, "labels": labels.astype(np.int64), "class_names": np.array(NAMES)}


if __name__ == "__main__":
    data = make()
    np.savez(OUT, **data)  # uncompressed: the CLI memory-maps it
    acc = float(np.mean(np.argmax(data["logits"], axis=1) == data["labels"]))
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes), accuracy {acc:.4f}")
