"""The hostile input suite: every loss, on the inputs where cross-entropy implementations break.

:func:`build` returns, for one dtype, a list of :class:`Case`: a public function of
``crossentropy``, its inputs (already in the dtype, so the reference is exact for *these* floats)
and its options. ``make_reference.py`` adds the mpmath reference of each case and stores both in
``data/``; the tests and ``benchmarks/accuracy.py`` read them from there, so what they compare
is never rebuilt. ``test_portable.py`` rebuilds the suite (also under other SIMD dispatch, in
subprocesses) and checks it gives the stored inputs bit for bit: the build must not depend on
the CPU, NumPy's SIMD dispatch, the libm or which of two equal keys a sort keeps (+0.0 and
-0.0). So it uses integer arithmetic and correctly rounded operations only, and no sort sees a
signed zero.

What is covered (the issue's list and a little more):

* logits 0, -0.0, +-1e-30, +-1e-8, +-16.7, +-17, +-36.7, +-88.7, +-89, +-709, +-710, +-745, +-1e4,
  +-1e30, +-inf, each with its two floating-point neighbours; the thresholds where ``exp``
  overflows or underflows and where ``1 + e^-x`` rounds to 1, for float16, float32 and float64;
  random logits of every scale;
* probabilities 0, 5e-324, 1e-45, 1e-12, 1 - 1e-12, the float just below 1, and 1 (as each dtype
  rounds them), with neighbours, random and log-uniform ones near 0 and 1;
* rows such as [1e4, -1e4], [-0.0, 0.0], [30, 0 x 9], [1e6, 1e6 + 1, 1e6 - 1], every pair of
  the special logits, rows with +-inf, and class counts 2, 3, 10, 100, 1000, 10 000 and 50 000;
* hard, soft and smoothed labels, class weights, pos_weight, focal gamma 0.5 and 2 with alpha,
  sample weights, ignored samples and the "mean"/"sum" reductions.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DTYPES", "Case", "build", "logit_values", "prob_values", "source_digest"]

DTYPES = ("float16", "float32", "float64")

# The special logits and a few more magnitudes.
SPECIAL_LOGITS = (0.0, 1e-30, 1e-8, 16.7, 17.0, 36.7, 88.7, 89.0, 709.0, 710.0, 745.0, 1e4, 1e30)
MORE_LOGITS = (
    5e-324,
    1e-300,
    1e-3,
    0.5,
    1.0,
    2.0,
    3.0,
    5.0,
    10.0,
    20.0,
    30.0,
    40.0,
    50.0,
    100.0,
    700.0,
    708.4,
    744.4,
    746.0,
    1e3,
    1e5,
    1e10,
    1e100,
    1e300,
    1.7e308,
)
SPECIAL_PROBS = (0.0, 5e-324, 1e-45, 1e-12, 1 - 1e-12, float(np.nextafter(1.0, 0.0)), 1.0)
MORE_PROBS = (
    1e-300,
    1e-100,
    1e-30,
    1e-8,
    1e-4,
    1e-3,
    0.01,
    0.1,
    0.25,
    0.3,
    0.5,
    0.7,
    0.75,
    0.9,
    0.99,
    0.999,
    1 - 1e-4,
    1 - 1e-8,
)
HARD = (0.0, 1.0)
SOFT = (0.3, 0.7, 0.05)


@dataclasses.dataclass
class Case:
    """One call of a public function on a batch of hostile inputs.

    ``args`` are the positional arrays (labels first, as in the public API), ``kwargs`` the
    options (scalars or arrays). ``soft`` marks soft or smoothed labels; ``classes`` is C for
    softmax losses (1 for element-wise ones); ``grad`` says whether the function has a gradient
    (``crossentropy.value_and_grad``); ``grad_idx`` lists the flat gradient entries kept in the
    reference (None: all).
    """

    name: str
    fn: str
    dtype: str
    args: tuple[np.ndarray, ...]
    kwargs: dict[str, Any]
    soft: bool = False
    classes: int = 1
    grad: bool = True
    grad_idx: np.ndarray | None = None

    def digest(self) -> str:
        """A hash of the inputs and options: stored with the references to detect staleness."""
        h = hashlib.sha256(f"{self.name}|{self.fn}|{self.dtype}".encode())
        arrays = list(self.args) + ([self.grad_idx] if self.grad_idx is not None else [])
        for k in sorted(self.kwargs):
            v = self.kwargs[k]
            if isinstance(v, np.ndarray):
                arrays.append(v)
            h.update(f"{k}={v if not isinstance(v, np.ndarray) else 'array'};".encode())
        for a in arrays:
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()[:20]

    def bound(self) -> float:
        """The issue's bound in ULP of the output dtype."""
        if self.dtype == "float16":
            return 1.0
        if self.dtype == "float32":
            return 2.0
        return 8.0 if self.soft and self.classes >= 1000 else 4.0


# log(max), -log(tiny), -log(smallest subnormal), -log(eps), -log(eps / 2) of float16, float32
# and float64: where exp overflows or underflows and where 1 + e^-x rounds to 1. Literals, so the
# suite does not depend on the platform's log.
THRESHOLDS = (
    11.089866488461016,
    9.704060527839234,
    16.635532333438686,
    6.931471805599453,
    7.6246189861593985,
    88.72283905206835,
    87.3365447505531,
    103.27892990343184,
    15.942385152878742,
    709.782712893384,
    708.3964185322641,
    744.4400719213812,
    36.04365338911715,
    36.7368005696771,
)


class Stream:
    """Deterministic pseudo-random numbers that are the same on every platform and version.

    SplitMix64 in integer arithmetic, mapped to floats with correctly rounded operations only
    (``+ - * / sqrt``, exact scalings): the suite, and so the stored references, never depend on
    NumPy's generator streams or on the platform's libm.
    """

    _GOLDEN = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, seed: int) -> None:
        self.seed = np.uint64(seed)
        self.count = 0

    def bits(self, n: int) -> np.ndarray:
        i = np.arange(self.count + 1, self.count + n + 1, dtype=np.uint64)
        self.count += n
        with np.errstate(over="ignore"):
            z = self.seed + i * self._GOLDEN
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    def uniform(self, lo: float, hi: float, shape: Any) -> np.ndarray:
        n = int(np.prod(shape))
        u = (self.bits(n) >> np.uint64(11)).astype(np.float64) * 2.0**-53  # exact, in [0, 1)
        return (lo + (hi - lo) * u).reshape(shape)

    def normal(self, scale: float, shape: Any) -> np.ndarray:
        """Irwin-Hall: (sum of 4 uniforms - 2) * sqrt(3): mean 0, standard deviation 1."""
        n = int(np.prod(shape))
        u = self.uniform(0.0, 1.0, (4, n))
        return (((u[0] + u[1]) + (u[2] + u[3]) - 2.0) * (np.sqrt(3.0) * scale)).reshape(shape)

    def integers(self, lo: int, hi: int, shape: Any) -> np.ndarray:
        n = int(np.prod(shape))
        return (lo + (self.bits(n) % np.uint64(hi - lo)).astype(np.int64)).reshape(shape)

    def signs(self, n: int) -> np.ndarray:
        return np.where(self.bits(n) >> np.uint64(63), -1.0, 1.0)

    def log_uniform(self, e_lo: int, e_hi: int, n: int) -> np.ndarray:
        """Mantissa in [1, 2) times 2**k, k uniform in [e_lo, e_hi): exact."""
        return np.ldexp(self.uniform(1.0, 2.0, n), self.integers(e_lo, e_hi, n))

    def permutation(self, n: int) -> np.ndarray:
        return np.argsort(self.bits(n), kind="stable")

    def simplex(self, shape: tuple[int, ...]) -> np.ndarray:
        """Random rows summing to 1: integer weights over their exact sum."""
        w = ((self.bits(int(np.prod(shape))) >> np.uint64(44)) + np.uint64(1)).astype(np.float64)
        w = w.reshape(shape)
        return w / w.sum(axis=-1, keepdims=True)


def _canonical_unique(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values, with -0.0 turned into +0.0 first.

    ``np.unique`` sorts, and +0.0 and -0.0 compare equal: which of the two it keeps depends on
    the sort NumPy dispatches to on this CPU (AVX-512, AVX2 or baseline each keep a different
    one). With one zero left there are no equal keys, and the result is the same everywhere.
    """
    v = np.where(values == 0, np.zeros((), values.dtype), values)
    return np.unique(v)


def _with_signed_zero(sorted_values: np.ndarray) -> np.ndarray:
    """``sorted_values`` (canonical, one +0.0) with -0.0 added just before +0.0."""
    i = int(np.searchsorted(sorted_values, 0.0))
    return np.insert(sorted_values, i, np.copysign(np.zeros((), sorted_values.dtype), -1.0))


def _with_neighbours(values: np.ndarray, dtype: Any) -> np.ndarray:
    with np.errstate(over="ignore"):
        v = values.astype(dtype)
    fin = v[np.isfinite(v)]
    up = np.nextafter(fin, np.asarray(np.inf, dtype))
    down = np.nextafter(fin, np.asarray(-np.inf, dtype))
    return np.concatenate([v, up, down])


def logit_values(dtype: Any, rng: Stream) -> np.ndarray:
    """The special logits (both signs, neighbours, +-inf) and random ones, in ``dtype``."""
    mags = np.array(SPECIAL_LOGITS + MORE_LOGITS + THRESHOLDS)
    signed = np.concatenate([mags, -mags])
    v = _with_neighbours(signed, dtype)
    rand = np.concatenate(
        [
            rng.normal(4.0, 40),
            rng.signs(40) * rng.log_uniform(-34, 10, 40),
        ]
    ).astype(dtype)
    v = np.concatenate([v, rand, np.array([np.inf, -np.inf], dtype)])
    with np.errstate(over="ignore"):
        v = v.astype(dtype)
    # Sorted, +-0 merged canonically; then -0.0 once, explicitly (its own entry, before +0.0).
    return _with_signed_zero(_canonical_unique(v))


def prob_values(dtype: Any, rng: Stream) -> np.ndarray:
    """The special probabilities (as ``dtype`` rounds them), neighbours and random ones."""
    d = np.dtype(dtype)
    base = np.array(SPECIAL_PROBS + MORE_PROBS).astype(d)
    below_one = np.nextafter(np.asarray(1.0, d), np.asarray(0.0, d))
    tiny = np.finfo(d).smallest_subnormal
    near = np.array([0.5, 0.3, 1e-12, float(tiny), float(np.finfo(d).tiny)], d)
    v = np.concatenate(
        [
            base,
            np.array([below_one, tiny], d),
            np.nextafter(near, np.asarray(1.0, d)),
            np.nextafter(near, np.asarray(0.0, d)),
            rng.uniform(0, 1, 30).astype(d),
            rng.log_uniform(-1000, -4, 20).astype(d),
            (1.0 - rng.log_uniform(-53, -4, 20)).astype(d),
        ]
    )
    v = v[(v >= 0) & (v <= 1)]
    return _canonical_unique(v)


def _grid(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    aa, bb = np.meshgrid(a, b, indexing="ij")
    return aa.ravel(), bb.ravel()


# --------------------------------------------------------------------------------------------
# Element-wise losses


def _elementwise(dt: str, rng: Stream) -> list[Case]:
    d = np.dtype(dt)
    xs = logit_values(d, rng)
    ps = prob_values(d, rng)
    hard, soft = np.array(HARD, d), np.array(SOFT, d)
    cases: list[Case] = []

    def add(
        name: str,
        fn: str,
        args: tuple[np.ndarray, ...],
        soft: bool = False,
        grad: bool = True,
        **kw: Any,
    ) -> None:
        cases.append(Case(f"{dt}/{name}", fn, dt, args, kw, soft=soft, grad=grad))

    for lab, is_soft in ((hard, False), (soft, True)):
        tag = "soft" if is_soft else "hard"
        y, x = _grid(lab, xs)
        add(f"sigmoid_xent/{tag}", "sigmoid_cross_entropy_with_logits", (y, x), is_soft)
        add(
            f"weighted_xent/pw7/{tag}",
            "weighted_cross_entropy_with_logits",
            (y, x, np.asarray(7.0, d)),
            is_soft,
        )
        add(
            f"bce_logits/ls0.1/{tag}",
            "binary_crossentropy",
            (y[:, None], x[:, None]),
            True,
            from_logits=True,
            label_smoothing=0.1,
        )
        add(
            f"focal_logits/g2/{tag}",
            "binary_focal_crossentropy",
            (y[:, None], x[:, None]),
            is_soft,
            from_logits=True,
            gamma=2.0,
        )
        add(
            f"focal_logits/g0.5a0.25/{tag}",
            "binary_focal_crossentropy",
            (y[:, None], x[:, None]),
            is_soft,
            from_logits=True,
            gamma=0.5,
            alpha=0.25,
        )
        y, p = _grid(lab, ps)
        add(f"bce_probs/{tag}", "binary_crossentropy", (y[:, None], p[:, None]), is_soft)
        add(
            f"bce_probs/pw7/{tag}",
            "binary_crossentropy",
            (y[:, None], p[:, None]),
            is_soft,
            pos_weight=np.asarray(7.0, d),
        )
        add(
            f"focal_probs/g2/{tag}",
            "binary_focal_crossentropy",
            (y[:, None], p[:, None]),
            is_soft,
            gamma=2.0,
        )
        add(
            f"focal_probs/g0.5a0.25/{tag}",
            "binary_focal_crossentropy",
            (y[:, None], p[:, None]),
            is_soft,
            gamma=0.5,
            alpha=0.25,
        )
    y, x = _grid(hard, xs)
    add(
        "weighted_xent/pw0.3/hard", "weighted_cross_entropy_with_logits", (y, x, np.asarray(0.3, d))
    )
    # A large weight on terms that are subnormal before weighting (float64 logits beyond 708).
    add(
        "weighted_xent/pw100/hard",
        "weighted_cross_entropy_with_logits",
        (y, x, np.asarray(100.0, d)),
    )
    y, p = _grid(np.concatenate([hard, soft]), ps)
    add(
        "bce_probs/ls0.1",
        "binary_crossentropy",
        (y[:, None], p[:, None]),
        True,
        label_smoothing=0.1,
    )
    # Multi-label rows, averaged over the last axis, with a per-class pos_weight.
    n = (len(xs) // 4) * 4
    x4 = xs[rng.permutation(len(xs))][:n].reshape(-1, 4)
    y4 = rng.integers(0, 2, x4.shape).astype(d)
    add("bce_logits/rows4", "binary_crossentropy", (y4, x4), from_logits=True)
    add(
        "sigmoid_xent/pw_vec",
        "sigmoid_cross_entropy_with_logits",
        (y4, x4),
        pos_weight=np.array([0.5, 2.0, 10.0, 1.0], d),
    )
    fin = xs[np.isfinite(xs)]
    y, x = _grid(np.array([0.0, 1.0, 0.3], d), fin)
    add("mse", "mean_squared_error", (y[:, None], x[:, None]))
    for prim in ("sigmoid", "softplus", "log_sigmoid"):
        add(f"{prim}", prim, (xs,), grad=False)
    # Reductions with sample weights (some 0) over hostile terms.
    y, x = _grid(hard, xs)
    sw = rng.uniform(0, 2, y.shape).astype(d)
    sw[::7] = 0
    add(
        "sigmoid_xent/sum_sw",
        "sigmoid_cross_entropy_with_logits",
        (y, x),
        sample_weight=sw,
        reduction="sum",
    )
    add(
        "bce_logits/mean",
        "binary_crossentropy",
        (y[:, None], x[:, None]),
        from_logits=True,
        reduction="mean",
    )
    return cases


# --------------------------------------------------------------------------------------------
# Softmax losses


def _row_sets(d: np.dtype, rng: Stream) -> dict[int, np.ndarray]:
    """Rows of logits grouped by class count."""

    def arr(rows: list[Any]) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.array(rows, dtype=np.float64).astype(d)

    inf = np.inf
    special = np.array((*SPECIAL_LOGITS, inf))
    special = _canonical_unique(np.concatenate([special, -special]))
    sets: dict[int, np.ndarray] = {}
    a, b = _grid(special, special)
    pairs = np.stack([a, b], axis=1)
    pairs = pairs[~np.all(pairs == -inf, axis=1)]
    nb = []
    for v in special[np.isfinite(special)]:
        with np.errstate(over="ignore"):
            v_d = np.asarray(v, d)
        if np.isfinite(v_d):
            nb.append([v_d, np.nextafter(v_d, np.asarray(inf, d))])
            nb.append([v_d, np.nextafter(v_d, np.asarray(-inf, d))])
    sets[2] = np.concatenate(
        [
            arr(pairs.tolist()),
            arr(nb),
            arr([[1e4, -1e4], [-1e4, 1e4]]),
            # Signed zeros, explicitly: equal maxima of opposite sign.
            arr([[-0.0, 0.0], [0.0, -0.0], [-0.0, -0.0], [-0.0, 1.0], [-0.0, -1.0]]),
            rng.normal(5.0, (40, 2)).astype(d),
        ]
    )
    r3: list[Any] = [
        [1e6, 1e6 + 1, 1e6 - 1],
        [0, 0, 0],
        [-1, -1, -1],
        [inf, 0, 0],
        [inf, inf, 0],
        [-inf, 0, 1],
        [inf, -inf, 0],
        [-inf, -inf, 5],
        [1e30, -1e30, 0],
    ]
    for v in special[np.isfinite(special)]:
        r3 += [[v, 0, 0], [0, v, -v], [v, v, 0]]
    rows3 = arr(r3)
    rows3 = np.concatenate(
        [rows3] + [rng.normal(s, (10, 3)).astype(d) for s in (1.0, 10.0, 100.0, 1000.0)]
    )
    sets[3] = rows3
    r10: list[Any] = [[30] + [0] * 9]
    for v in special[np.isfinite(special)]:
        r10.append([v] + [0] * 9)
    sets[10] = np.concatenate(
        [arr(r10)] + [rng.normal(s, (10, 10)).astype(d) for s in (1.0, 10.0, 100.0, 1e3)]
    )
    big = {100: 8, 1000: 4, 10_000: 2, 50_000: 2}
    for c, n in big.items():
        rows = [rng.normal(3.0 if i % 2 == 0 else 1.0, c) for i in range(n)]
        rows[1][rng.integers(0, c, 1)[0]] = 25.0  # one confident class
        if n > 2:
            rows[2] = np.zeros(c)  # uniform: loss log C
            rows[3][rng.integers(0, c, 1)[0]] = 40.0
        sets[c] = np.array(rows).astype(d)
    # Rows that the dtype turned into all -inf have no softmax (the library rejects them).
    return {c: rows[~np.all(rows == -inf, axis=1)] for c, rows in sets.items()}


def _onehot(k: np.ndarray, c: int, d: np.dtype) -> np.ndarray:
    out = np.zeros((len(k), c), d)
    out[np.arange(len(k)), k] = 1
    return out


def _soft_labels(shape: tuple[int, ...], d: np.dtype, rng: Stream) -> np.ndarray:
    return rng.simplex(shape).astype(d)


def _grad_idx(x: np.ndarray, k: np.ndarray, rng: Stream) -> np.ndarray | None:
    """For wide rows keep ~600 gradient entries per row: the extremes, the label, random ones."""
    n, c = x.shape
    if c < 5000:
        return None
    out = []
    for i in range(n):
        order = np.argsort(x[i].astype(np.float64), kind="stable")
        cols = np.unique(
            np.concatenate([order[:50], order[-100:], [k[i]], rng.permutation(c)[:450]])
        )
        out.append(i * c + cols)
    return np.concatenate(out).astype(np.int64)


def _softmax(dt: str, rng: Stream) -> list[Case]:
    d = np.dtype(dt)
    cases: list[Case] = []
    for c, x in _row_sets(d, rng).items():
        n = x.shape[0]
        xf = x.astype(np.float64)
        # The first maximum; -0.0 and +0.0 made one value so no tie depends on their signs.
        k_max = np.argmax(np.where(xf == 0, 0.0, xf), axis=-1)
        k_rand = rng.integers(0, c, n)
        onehot = _onehot(k_max, c, d)
        soft = _soft_labels((n, c), d, rng)
        cw = rng.uniform(0.5, 2.0, c).astype(d)
        gi_max, gi_rand = _grad_idx(x, k_max, rng), _grad_idx(x, k_rand, rng)

        def add(
            name: str,
            fn: str,
            args: tuple[np.ndarray, ...],
            soft: bool = False,
            gi: np.ndarray | None = None,
            grad: bool = True,
            _c: int = c,
            **kw: Any,
        ) -> None:
            cases.append(
                Case(
                    f"{dt}/C{_c}/{name}",
                    fn,
                    dt,
                    args,
                    kw,
                    soft=soft,
                    classes=_c,
                    grad=grad,
                    grad_idx=gi,
                )
            )

        add("sparse/argmax", "sparse_softmax_cross_entropy_with_logits", (k_max, x), gi=gi_max)
        add("sparse/random", "sparse_softmax_cross_entropy_with_logits", (k_rand, x), gi=gi_rand)
        add(
            "sparse/ls0.1_cw",
            "sparse_categorical_crossentropy",
            (k_rand, x),
            True,
            gi=gi_rand,
            from_logits=True,
            label_smoothing=0.1,
            class_weight=cw,
        )
        add(
            "dense/onehot_ls0.1",
            "softmax_cross_entropy_with_logits",
            (onehot, x),
            True,
            gi=gi_max,
            label_smoothing=0.1,
        )
        add("dense/soft", "softmax_cross_entropy_with_logits", (soft, x), True, gi=gi_max)
        add(
            "dense/soft_cw",
            "categorical_crossentropy",
            (soft, x),
            True,
            gi=gi_max,
            from_logits=True,
            class_weight=cw,
        )
        add(
            "focal/g2/onehot",
            "categorical_focal_crossentropy",
            (onehot, x),
            gi=gi_max,
            from_logits=True,
            gamma=2.0,
        )
        add(
            "focal/g0.5a0.25/soft",
            "categorical_focal_crossentropy",
            (soft, x),
            True,
            gi=gi_max,
            from_logits=True,
            gamma=0.5,
            alpha=0.25,
        )
        if c <= 1000:
            add("log_softmax", "log_softmax", (x,), grad=False)
            add("softmax", "softmax", (x,), grad=False)
        add("logsumexp", "logsumexp", (x,), grad=False)
        if c == 10:
            sw = rng.uniform(0, 2, n).astype(d)
            sw[::5] = 0
            add(
                "sparse/mean_sw",
                "sparse_softmax_cross_entropy_with_logits",
                (k_rand, x),
                sample_weight=sw,
                reduction="mean",
            )
            k_ign = k_rand.copy()
            k_ign[::3] = -1
            add(
                "sparse/ignore_mean",
                "sparse_softmax_cross_entropy_with_logits",
                (k_ign, x),
                ignore_index=-1,
                reduction="mean",
            )
            add(
                "dense/soft_sum",
                "softmax_cross_entropy_with_logits",
                (soft, x),
                True,
                reduction="sum",
            )
    return cases


def _prob_rows(d: np.dtype, rng: Stream) -> dict[int, np.ndarray]:
    """Rows of probabilities (each sums to 1 within the dtype's tolerance)."""
    below = float(np.nextafter(np.asarray(1.0, d), np.asarray(0.0, d)))
    tiny = float(np.finfo(d).smallest_subnormal)
    r3 = [
        [1, 0, 0],
        [0, 1, 0],
        [0.5, 0.5, 0],
        [below, 1 - below, 0],
        [1 - 1e-12, 1e-12, 0],
        [tiny, 1 - tiny, 0],
        [1e-45, 0.5, 0.5],
        [5e-324, 0.25, 0.75],
        [1 / 3, 1 / 3, 1 / 3],
    ]
    out = {3: np.array(r3).astype(d)}
    for c, n in ((3, 30), (10, 20), (1000, 2)):
        p = rng.simplex((n, c))
        if c <= 10:  # sharpen: powers of the weights, renormalised
            p = p * p
            p = p * p
            # The rows' sums, added left to right: np.sum's pairwise order is not promised.
            total = p[:, 0].copy()
            for j in range(1, c):
                total += p[:, j]
            p = p / total[:, None]
        p = p.astype(d)
        out[c] = np.concatenate([out[c], p]) if c in out else p
    return out


def _softmax_probs(dt: str, rng: Stream) -> list[Case]:
    d = np.dtype(dt)
    cases: list[Case] = []
    for c, p in _prob_rows(d, rng).items():
        n = p.shape[0]
        k_max = np.argmax(p.astype(np.float64), axis=-1)
        k_rand = rng.integers(0, c, n)
        onehot = _onehot(k_rand, c, d)
        soft = _soft_labels((n, c), d, rng)

        def add(
            name: str,
            fn: str,
            args: tuple[np.ndarray, ...],
            soft: bool = False,
            _c: int = c,
            **kw: Any,
        ) -> None:
            cases.append(Case(f"{dt}/P{_c}/{name}", fn, dt, args, kw, soft=soft, classes=_c))

        add("sparse/argmax", "sparse_categorical_crossentropy", (k_max, p))
        add(
            "sparse/random_ls0.1",
            "sparse_categorical_crossentropy",
            (k_rand, p),
            True,
            label_smoothing=0.1,
        )
        add("dense/soft", "categorical_crossentropy", (soft, p), True)
        add("focal/g2/onehot", "categorical_focal_crossentropy", (onehot, p), gamma=2.0)
        add(
            "focal/g0.5a0.25/soft",
            "categorical_focal_crossentropy",
            (soft, p),
            True,
            gamma=0.5,
            alpha=0.25,
        )
    return cases


def build(dtype: str) -> list[Case]:
    """Every case for one dtype (deterministic: seeded per dtype)."""
    rng = Stream(20_240_601 + DTYPES.index(dtype))
    return _elementwise(dtype, rng) + _softmax(dtype, rng) + _softmax_probs(dtype, rng)


def source_digest() -> str:
    """A hash of this file, the code that builds the suite (line endings normalised).

    Stored with the references: when a rebuilt suite differs from the stored inputs, it tells
    "this code changed" (regenerate) from "this machine builds it differently" (fix the code).
    Any edit here counts as a change of the code, a comment too: regenerate after editing this
    file (the references of the cases it did not change come out the same).
    """
    text = Path(__file__).read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(text).hexdigest()[:20]
