"""Forward + backward on PyTorch CPU tensors: crossentropy against ``F.cross_entropy``.

Run from the repository root (needs torch and numba)::

    PYTHONPATH=src python benchmarks/torch_autograd.py [--repeat N] [--shapes 4096x1000,4096x32000]

For each shape it times ``loss = f(labels, logits, reduction="mean"); loss.backward()`` on float32
CPU tensors that require grad, for ``torch.nn.functional.cross_entropy(logits, labels)`` and for
``crossentropy.sparse_softmax_cross_entropy_with_logits(labels, logits)`` (one fused numba pass on
a zero-copy view; backward returns the saved gradient). Both run in this one process, alternating,
and the best of ``--repeat`` runs is reported with the ratio and the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

import crossentropy as ce


def _best(step: Callable[[], None], repeat: int) -> float:
    step()  # warm-up (numba compiles, torch allocates)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return min(times)


def _torch_step(logits: torch.Tensor, labels: torch.Tensor) -> None:
    logits.grad = None
    F.cross_entropy(logits, labels).backward()


def _ce_step(logits: torch.Tensor, labels: torch.Tensor) -> None:
    logits.grad = None
    ce.sparse_softmax_cross_entropy_with_logits(labels, logits, reduction="mean").backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--shapes", default="4096x1000,4096x32000")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), crossentropy "
        f"{ce.__version__} ({ce.get_num_threads()} threads), fast path "
        f"{ce.fast_path_available()}"
    )
    for spec in args.shapes.split(","):
        n, c = (int(s) for s in spec.split("x"))
        g = torch.Generator().manual_seed(0)
        logits = torch.randn(n, c, generator=g, dtype=torch.float32).requires_grad_()
        labels = torch.randint(0, c, (n,), generator=g)

        t_torch = _best(lambda x=logits, k=labels: _torch_step(x, k), args.repeat)
        t_ce = _best(lambda x=logits, k=labels: _ce_step(x, k), args.repeat)
        print(
            f"({n}, {c}) float32: F.cross_entropy {t_torch * 1e3:8.1f} ms, crossentropy "
            f"{t_ce * 1e3:8.1f} ms, ratio {t_torch / t_ce:5.2f}x"
        )


if __name__ == "__main__":
    main()
