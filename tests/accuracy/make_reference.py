"""Regenerate the committed references: ``python tests/accuracy/make_reference.py``.

Builds the hostile suite (:mod:`suite`) for float16, float32 and float64, computes the exact
value and gradient of every case with mpmath (:mod:`reference`, at least 200 bits, more where a
subtraction cancels) and writes ``data/<dtype>.npz``: the inputs (each distinct array once), the
options, the references, the hash of ``suite.py`` and the NumPy and CPU dispatch that made them.
The tests run on these stored inputs; ``test_portable.py`` checks that the suite still builds
them bit for bit, here and under NumPy's other SIMD dispatch. Regenerate after changing
``suite.py`` or ``reference.py``, never to make a portability failure go away. Takes a few
minutes on two cores; needs numpy and mpmath only (not the library, not the frameworks).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from accuracy import cases, suite


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dtype", action="append", choices=suite.DTYPES)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    for dt in args.dtype or suite.DTYPES:
        t0 = time.perf_counter()
        cs = suite.build(dt)
        order = sorted(range(len(cs)), key=lambda i: -cs[i].args[-1].size)  # big ones first
        with multiprocessing.Pool(args.jobs) as pool:
            res = pool.map(cases.encoded, [cs[i] for i in order], chunksize=1)
        refs = [None] * len(cs)
        for i, r in zip(order, res, strict=True):
            refs[i] = r
        path = cases.DATA_DIR / f"{dt}.npz"
        cases.save(path, cs, refs)  # type: ignore[arg-type]
        print(
            f"{dt}: {len(cs)} cases, {path.stat().st_size / 1e6:.2f} MB, "
            f"{time.perf_counter() - t0:.0f} s"
        )


if __name__ == "__main__":
    main()
