"""A year bootstrap of simulated figures, read from the years that decide them.

Why: the standard error of a 99.9% quantile from Bahadur's representation (the density at
the quantile estimated from the spacing of order statistics) assumes a smooth positive
density there. With a severity cap, simulated annual losses have clusters of years near the
cap — some paid by a layer, some not — and the quantile jumps between them; the spacing
error then understated the spread over seeds 1.5–3 times. Resampling the years (Efron &
Tibshirani 1993, *An Introduction to the Bootstrap*, ch. 6) sees those jumps.

How: every year gets a Poisson(1) weight per replicate (the large-``n`` form of multinomial
resampling), a pure function of (seed, replicate, year) through
:func:`opwb.engine.streams.keyed_uniforms`; so every variant of a sample — every insurance
structure on one scenario base — is resampled with the same weights (paired differences are
differences of replicates), and any subset of years has the weights it has in the full
resample. A replicate's lower α-quantile is the value at which the weight of the years above
it first reaches rank ``r = n − ceil(nα) + 1`` from the top (held fixed: its fluctuation is
about ``sqrt(n)(1 − α) < 1``), so only the largest years are read. :class:`NeedFullSample`
says when they are not enough. :mod:`opwb.engine.topyears` applies it to candidate years
and to many structures at once.
"""
from __future__ import annotations

import math

import numpy as np

from opwb.engine.precision import quantile_rank
from opwb.engine.streams import keyed_uniforms, stream_key

__all__ = ["BOOTSTRAP_REPLICATES", "NeedFullSample", "YearWeights", "block_mean_se", "bootstrap_se",
           "mean_replicates", "quantile_replicates", "top_rank", "var_replicates"]


class NeedFullSample(LookupError):
    """A rank the figure needs lies outside the candidate years."""


# --------------------------------------------------------------------------- year bootstrap
#: Bootstrap replicates per figure: the standard error's own relative error is about
#: ``1 / sqrt(2 B)`` = 5% (Efron & Tibshirani 1993, §6.4) over independent years; over
#: blocks (a predictive base's worlds) the number of blocks sets it instead.
BOOTSTRAP_REPLICATES = 200

_POISSON1_CDF = np.cumsum([math.exp(-1.0) / math.factorial(i) for i in range(20)])
_POISSON1_CDF[-1] = 1.0 + 1e-9                    # every uniform in [0, 1) maps to <= 19


class YearWeights:
    """Poisson(1) bootstrap weights of simulated years, keyed: ``w_b(y)``, the weight of year
    ``y`` in replicate ``b < B``, is a function of (``seed``, ``b``, ``y``) only — the
    uniform :func:`opwb.engine.streams.keyed_uniforms` gives year ``y`` under the key of
    (``seed``, ``"bootstrap"``, ``"replicate b"``), through Poisson(1)'s inverse CDF.

    Poisson(1) weights are the standard large-``n`` stand-in for the multinomial counts of
    resampling ``n`` years with replacement (Efron & Tibshirani 1993, *An Introduction to
    the Bootstrap*, ch. 6; the "Poisson bootstrap"): independent across years, so any subset
    of years — the candidates of a quantile — has the weights it has in the full resample,
    and every variant of the same years (every insurance structure) is resampled alike.
    Rows are drawn when first asked for and kept (``uint8``, ``B`` bytes per year).

    **Blocks.** With ``block > 0`` the ``n`` years come in consecutive blocks of ``block``
    years that are not independent of each other — a predictive base's worlds, each
    simulated from its own re-estimated parameters (:mod:`opwb.decision.predictive`) — and
    the bootstrap resamples the blocks: replicate ``b`` draws ``n / block`` blocks with
    replacement (multinomial counts, a function of (``seed``, ``b``) only, through
    :func:`~opwb.engine.streams.keyed_uniforms` under the key (``seed``, ``"block
    bootstrap"``, ``"replicate b"``)), and every year weighs its block's count. This is the
    cluster bootstrap of a two-stage sample (Davison & Hinkley 1997, *Bootstrap Methods and
    their Application*, §3.8): it sees the spread between the blocks — the parameter
    uncertainty the worlds carry — which year-by-year resampling misses (a predictive
    base's expected recovery: a year bootstrap gave 0.73억, the spread of the worlds' means
    6.24억), and with equal blocks the total weight is ``n`` in every replicate.

    Raises ``ValueError`` for fewer than 2 replicates, blocks that do not divide ``n`` or
    fewer than 2 blocks.
    """

    def __init__(self, seed: int, n: int, replicates: int = BOOTSTRAP_REPLICATES, *,
                 block: int = 0):
        if replicates < 2:
            raise ValueError(f"replicates must be >= 2, got {replicates}")
        self.seed, self.n, self.replicates = int(seed), int(n), int(replicates)
        self.block = int(block)
        self.keys = np.array([stream_key(self.seed, "bootstrap", f"replicate {b}")
                              for b in range(self.replicates)], dtype=np.uint64)
        self._w: np.ndarray | None = None
        self._have: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        if self.block:
            if self.block < 1 or self.n % self.block:
                raise ValueError(f"{self.n} years do not divide into blocks of {self.block}")
            blocks = self.n // self.block
            if blocks < 2:
                raise ValueError(f"a block bootstrap needs at least 2 blocks, got {blocks}")
            # multinomial counts of drawing `blocks` blocks with replacement, per replicate
            keys = np.array([stream_key(self.seed, "block bootstrap", f"replicate {b}")
                             for b in range(self.replicates)], dtype=np.uint64)
            u = keyed_uniforms(keys, np.arange(blocks))            # (blocks, B)
            picks = np.minimum((u * blocks).astype(np.int64), blocks - 1)
            counts = np.zeros((blocks, self.replicates), dtype=np.int64)
            np.add.at(counts, (picks, np.arange(self.replicates)[None, :]), 1)
            if counts.max() > 255:
                raise ValueError("a block drawn more than 255 times")
            self._counts = counts.astype(np.uint8)

    @property
    def blocks(self) -> int:
        """Number of blocks resampled (0: the years are resampled one by one)."""
        return self.n // self.block if self.block else 0

    def draw(self, years) -> np.ndarray:
        """Weights of ``years`` (shape ``(len(years), B)``, ``uint8``), computed afresh."""
        years = np.asarray(years, dtype=np.int64)
        if self._counts is not None:
            return self._counts[years // self.block]
        u = keyed_uniforms(self.keys, years)
        return np.searchsorted(_POISSON1_CDF, u, side="right").astype(np.uint8)

    def of(self, years) -> np.ndarray:
        """Weights of ``years`` (shape ``(len(years), B)``, ``uint8``), remembered."""
        years = np.asarray(years, dtype=np.int64)
        if self._counts is not None:
            return self._counts[years // self.block]
        if self._w is None:
            self._w = np.zeros((self.n, self.replicates), dtype=np.uint8)
            self._have = np.zeros(self.n, dtype=bool)
        missing = years[~self._have[years]]
        if missing.size:
            missing = np.unique(missing)
            self._w[missing] = self.draw(missing)
            self._have[missing] = True
        return self._w[years]


def top_rank(n: int, alpha: float) -> int:
    """Rank from the top (1 = largest) of the lower empirical ``alpha``-quantile of ``n``
    years: ``n - ceil(n alpha) + 1``."""
    return n - quantile_rank(n, alpha) + 1


def _crossing(w: np.ndarray, start: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """First position where ``start + cumsum(w)`` reaches ``r``, per replicate, and whether
    it lies in the window (not before it, not after it)."""
    if w.shape[0] == 0:
        return np.zeros(start.size, dtype=np.int64), np.zeros(start.size, dtype=bool)
    # the same integers in 32 bits when they fit (accumulating uint8 into int32 is several
    # times faster than into int64): weights are at most 255 a year
    small = int(np.max(start, initial=0)) + 255 * w.shape[0] < 2**31 and r < 2**31
    cum = np.add.accumulate(w, axis=0, dtype=np.int32 if small else np.int64)
    cum += start.astype(cum.dtype)
    hit = cum >= r
    return hit.argmax(axis=0), hit[-1] & (start < r)


def quantile_replicates(values_desc, years, r: int, weights: YearWeights,
                        floor: float = -math.inf) -> np.ndarray:
    """Bootstrap replicates of the ``r``-th largest value: for each replicate, the value
    where the cumulative weight of the years sorted in descending order first reaches ``r``
    (the lower quantile of the reweighted sample, with the rank held at the original ``r``:
    its own fluctuation, about ``sqrt(n) (1 - alpha)``, is below one rank).

    ``values_desc``/``years`` are the largest years of the sample, descending; ``floor``
    bounds every other year. Raises :class:`NeedFullSample` when a replicate's weight does
    not reach ``r`` among them or its value lies below ``floor``.
    """
    v = np.asarray(values_desc, dtype=float)
    idx, ok = _crossing(weights.of(years), np.zeros(weights.replicates, np.int64), r)
    if not ok.all():
        raise NeedFullSample(f"the candidates' resampled weight does not reach rank {r}")
    q = v[idx]
    if (q < floor).any():
        raise NeedFullSample("a replicate's quantile lies below years outside the candidates")
    return q


def var_replicates(x, alpha: float, weights: YearWeights) -> np.ndarray:
    """Bootstrap replicates (shape ``(B,)``) of the lower ``alpha``-quantile of the full
    sample ``x`` (one value per simulated year), from its largest
    ``r + 8 sqrt(r) + 32`` years (``r`` = :func:`top_rank`; more if a replicate needs
    them)."""
    x = np.asarray(x, dtype=float)
    n = x.size
    r = top_rank(n, alpha)
    m = r + int(math.ceil(8 * math.sqrt(r))) + 32
    while True:
        if m >= n:
            yrs, floor = np.argsort(-x, kind="stable"), -math.inf
        else:
            part = np.argpartition(-x, m - 1)
            yrs = part[:m][np.argsort(-x[part[:m]], kind="stable")]
            floor = float(x[part[m:]].max())
        try:
            return quantile_replicates(x[yrs], yrs, r, weights, floor)
        except NeedFullSample:
            if m >= n:
                raise ValueError(f"the resampled weight of all {n} years does not reach "
                                 f"rank {r}: too few years for the bootstrap") from None
            m *= 2


def bootstrap_se(replicates, axis: int = -1) -> np.ndarray:
    """Standard deviation of bootstrap replicates (``ddof = 1``): the bootstrap standard
    error (Efron & Tibshirani 1993, eq. 6.6)."""
    return np.std(np.asarray(replicates, dtype=float), axis=axis, ddof=1)


def mean_replicates(x, weights: YearWeights) -> tuple[np.ndarray, float]:
    """The mean of ``x`` (one value per year) under the same weights, split for speed:
    ``(dev, rest)`` with ``dev[b] = Σ_S (w_b − 1)(x − x̄) / n`` over the years ``S`` where
    ``x ≠ 0`` (the weighted mean's deviation from ``x̄``, to first order) and ``rest =
    x̄² (n − |S|) / n²``, the exact variance (over the weights) of the other years' part
    ``−x̄ Σ_{not S} (w_b − 1) / n`` — independent of every figure read from the years in
    ``S`` or the tail. The bootstrap variance of ``mean + θ`` is ``var(dev + θ*) + rest``.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    nz = np.flatnonzero(x)
    mean = float(x.sum()) / n
    w = weights.of(nz).astype(np.float64) - 1.0
    if weights.block:
        # blocks: Σ over all years of (w_b − 1) is 0 in every replicate, so the weighted
        # mean's deviation is exactly Σ_S (w_b − 1) x / n and nothing is left over
        return (x[nz] @ w) / n, 0.0
    dev = ((x[nz] - mean) @ w) / n
    return dev, mean * mean * (n - nz.size) / (n * n)


def block_mean_se(years, values, n: int, block: int) -> float:
    """Standard error of the mean over ``n`` years of ``x`` (``values`` in ``years``, 0 in
    every other year) when the years come in consecutive blocks of ``block`` (a predictive
    base's worlds): the standard deviation of the blocks' means over the square root of
    their number — the cluster standard error (Cochran 1977, *Sampling Techniques*, §9.2,
    clusters of equal size), the block bootstrap's (:class:`YearWeights`) closed form.

    Raises ``ValueError`` when the blocks do not divide ``n`` or there are fewer than two.
    """
    block, n = int(block), int(n)
    if block < 1 or n % block or n // block < 2:
        raise ValueError(f"{n} years do not make at least 2 blocks of {block}")
    m = n // block
    sums = np.bincount(np.asarray(years, dtype=np.int64) // block,
                       weights=np.asarray(values, dtype=float), minlength=m)
    return float(np.std(sums / block, ddof=1) / math.sqrt(m))
