"""Bundled example data for ``crossentropy eval --example`` (no code).

``example.npz`` (made by ``tests/cli/make_example_data.py``) holds the outputs of a simulated
10-class image classifier on 2000 samples: ``logits`` (float32, 2000 x 10), ``labels`` (int64
class ids) and ``class_names`` (the CIFAR-10 names).
"""
