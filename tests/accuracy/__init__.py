"""Accuracy against exact (mpmath) references on a hostile input suite; see docs/accuracy.md."""
