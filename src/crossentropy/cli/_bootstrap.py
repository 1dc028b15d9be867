"""Seeded, streaming bootstrap confidence intervals: the random-group Poisson bootstrap.

Every row is put into one of :data:`GROUPS` groups by a counter-based hash of ``(seed, shard,
row)`` (SplitMix64), so its group does not depend on the chunking, on the order in which shards
are merged or on the machine. The evaluation keeps, per group, the sums of the weighted loss,
the weight and the weighted correctness (:class:`~crossentropy.cli._accumulate.Accumulator`),
which cost one hash and a few ``bincount`` per chunk and merge across chunks, files and Dask
workers like every other sum.

At the end, replicate ``b`` gives group ``g`` the weight ``m[g, b] ~ Poisson(1)``, drawn by
inversion from another hash of ``(seed, g, b)``, and the statistic is recomputed from the
weighted group sums (a ratio of totals, e.g. ``sum_g m L_g / sum_g m W_g``). With random groups
the group totals are independent and identically distributed, so resampling them is a
bootstrap of the rows (the random-group method); a group holds one row for small files, which
is then the ordinary Poisson bootstrap. The interval is the percentile interval of the
replicates (``numpy.quantile``, linear interpolation), and a paired comparison's p-value is
``(1 + #{b : |D_b - D| >= |D|}) / (B + 1)``, the fraction of centred replicates at least as far
from 0 as the observed difference ``D``.

The replicates are a deterministic function of the group sums and the seed; the group sums are
float64 sums (compensated across chunks), so another chunking changes an interval only by
rounding (relative 1e-12 or so).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "GROUPS",
    "group_of_rows",
    "p_value",
    "percentile_interval",
    "poisson_weights",
    "replicate_ratios",
]

#: Groups of the random-group bootstrap (a power of two: the group is the hash's top bits).
GROUP_BITS = 13
GROUPS = 1 << GROUP_BITS

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = 0x9E3779B97F4A7C15
#: Domain separation of the two hash streams (rows to groups; group weights).
_ROWS, _WEIGHTS = 0x243F6A8885A308D3, 0x13198A2E03707344


def _splitmix64(x: Any) -> Any:
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic)."""
    x = x + np.uint64(_GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _key(seed: int, stream: int, index: int) -> np.uint64:
    """A 64-bit key from (seed, stream, index), each reduced to 64 bits."""
    with np.errstate(over="ignore"):
        a = np.array([(seed ^ stream) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        b = _splitmix64(a) ^ np.uint64(index & 0xFFFFFFFFFFFFFFFF)
        out: np.uint64 = _splitmix64(b)[0]
        return out


def group_of_rows(seed: int, shard: int, row0: int, n: int) -> Any:
    """The groups (int64, in ``[0, GROUPS)``) of rows ``row0 .. row0 + n - 1`` of a shard.

    >>> g = group_of_rows(0, 0, 0, 10)
    >>> bool(np.array_equal(g[3:], group_of_rows(0, 0, 3, 7)))  # independent of the chunking
    True
    """
    key = _key(seed, _ROWS, shard)
    rows = np.arange(row0, row0 + n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = _splitmix64(rows ^ key)
    return (h >> np.uint64(64 - GROUP_BITS)).astype(np.int64)


def _poisson1_cdf() -> Any:
    """P(K <= k) for K ~ Poisson(1), k = 0 .. 19 (the rest is below 2**-53)."""
    terms = [math.exp(-1.0) / math.factorial(k) for k in range(20)]
    return np.array([math.fsum(terms[: k + 1]) for k in range(20)])


_CDF = _poisson1_cdf()


def poisson_weights(seed: int, b0: int, b1: int, groups: Any = None) -> Any:
    """The Poisson(1) weights ``m[b, g]`` (float64, shape ``(b1 - b0, len(groups))``) of
    replicates ``b0 .. b1 - 1`` and the given groups (default: all): inversion of a uniform made
    of the top 53 bits of a hash of ``(seed, b * GROUPS + g)``."""
    key = _key(seed, _WEIGHTS, 0)
    g = np.arange(GROUPS, dtype=np.uint64) if groups is None else groups.astype(np.uint64)
    b = np.arange(b0, b1, dtype=np.uint64)[:, None]
    with np.errstate(over="ignore"):
        h = _splitmix64((b * np.uint64(GROUPS) + g[None, :]) ^ key)
    u = (h >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return np.searchsorted(_CDF, u, side="right").astype(np.float64)


#: Weights computed at once: replicates x used groups (4 MiB of float64).
BLOCK_VALUES = 2**19


def replicate_ratios(
    seed: int, replicates: int, numerators: list[Any], denominator: Any
) -> list[Any]:
    """For each numerator vector ``N`` (per-group sums), the replicates
    ``sum_g m[b, g] N_g / sum_g m[b, g] D_g`` (NaN where a replicate's denominator is 0).

    Only the groups holding a row of non-zero weight or a non-zero numerator are drawn (the
    others add nothing, whatever their weights), so a small file costs little."""
    den = np.asarray(denominator, dtype=np.float64)
    nums = [np.asarray(n, dtype=np.float64) for n in numerators]
    used_mask = den != 0
    for n in nums:
        used_mask |= n != 0
    used = np.flatnonzero(used_mask)
    den, nums = den[used], [n[used] for n in nums]
    out = [np.empty(replicates) for _ in numerators]
    block = max(1, BLOCK_VALUES // max(len(used), 1))
    for b0 in range(0, replicates, block):
        b1 = min(b0 + block, replicates)
        m = poisson_weights(seed, b0, b1, used)
        d = (m * den).sum(axis=1)  # NumPy's pairwise sum: no BLAS, no thread-dependent order
        with np.errstate(invalid="ignore", divide="ignore"):
            for o, num in zip(out, nums, strict=True):
                o[b0:b1] = (m * num).sum(axis=1) / d
    return out


def percentile_interval(reps: Any, level: float) -> list[float] | None:
    """The percentile interval of the replicates (None if any is not finite)."""
    reps = np.asarray(reps)
    if reps.size == 0 or not np.all(np.isfinite(reps)):
        return None
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return [float(lo), float(hi)]


def p_value(reps: Any, observed: float) -> float | None:
    """Two-sided bootstrap p-value of ``observed`` against 0: the centred replicates at least
    as far from 0 as ``observed``, ``(1 + count) / (B + 1)``."""
    reps = np.asarray(reps)
    if reps.size == 0 or not math.isfinite(observed) or not np.all(np.isfinite(reps)):
        return None
    far = np.count_nonzero(np.abs(reps - observed) >= abs(observed))
    return (1.0 + float(far)) / (float(reps.size) + 1.0)
