"""Quantile figures from the largest simulated years only.

A 99.9% VaR of 100,000 simulated years is the 100th-largest year; its standard error needs
a few dozen ranks around it; the ES the 100 largest. When many variants of one sample are
evaluated — the net losses under 150 insurance structures, each the same gross years less a
different recovery — sorting every variant in full is waste. :class:`TopYears` keeps the
variant's values in a fixed set of candidate years (the largest years of an upper bound
of every variant, e.g. the net losses without the insurance being varied) and the bound
of all other years; :func:`var_with_se_top`, :func:`es_top` and :func:`diff_var_top` then
give exactly what :func:`opwb.engine.riskmeasures.var_with_se`, the sample ES and
:func:`opwb.engine.riskmeasures.diff_var_with_se` give on the full sample — or raise
:class:`NeedFullSample` when a rank they need lies outside the candidates, so the caller
falls back to the full sample. The formulas are those of :mod:`opwb.engine.precision`
(order statistics; Bahadur's representation for paired quantiles), widened as
:mod:`opwb.engine.riskmeasures` widens them when fewer than
:data:`~opwb.engine.precision.MIN_TAIL` outcomes are expected beyond the level.

Examples
--------
>>> rng = np.random.default_rng(1)
>>> bound = rng.lognormal(0, 1, 10_000)
>>> x = bound - rng.uniform(0, 0.1, 10_000) * bound      # a variant below the bound
>>> top = TopYears.of(x, candidates(bound, 0.99))
>>> from opwb.engine.riskmeasures import var_with_se
>>> var_with_se_top(top, 0.99) == var_with_se(x, 0.99)
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from opwb.engine.bootstrap import (  # re-exported: the bootstrap reads these years
    BOOTSTRAP_REPLICATES,
    NeedFullSample,
    YearWeights,
    _crossing,
    block_mean_se,
    bootstrap_se,
    mean_replicates,
    quantile_replicates,
    top_rank,
    var_replicates,
)
from opwb.engine.precision import MIN_TAIL, order_ranks, quantile_rank, tail_count

__all__ = ["NeedFullSample", "Candidates", "TopYears", "SparseBlock", "candidates",
           "var_with_se_top", "es_top", "diff_var_top", "var_with_se_sparse", "es_sparse",
           "diff_var_sparse", "sparse_means", "BOOTSTRAP_REPLICATES", "YearWeights",
           "top_rank", "quantile_replicates", "var_replicates", "bootstrap_se",
           "mean_replicates", "block_mean_se"]


@dataclass(frozen=True)
class Candidates:
    """Candidate years (descending order of the bound) and the bound's largest value in
    every other year (``-inf`` when all years are candidates)."""

    years: np.ndarray
    floor: float


def candidates(bound, alpha: float, *, margin: float = 1.5, extra: int = 200) -> Candidates:
    """Years of the largest values of ``bound`` — enough for figures at levels ≥ ``alpha``:
    ``margin`` × the ``(1 - alpha)`` share plus ``extra`` years, in descending order of
    ``bound``."""
    b = np.asarray(bound, dtype=float)
    n = b.size
    m = int(min(n, math.ceil(margin * n * (1.0 - alpha)) + extra))
    if m >= n:
        return Candidates(np.argsort(-b, kind="stable"), -math.inf)
    part = np.argpartition(-b, m)
    years = part[:m]
    return Candidates(years[np.argsort(-b[years], kind="stable")], float(b[part[m:]].max()))


class TopYears:
    """A variant's values in the candidate years and a bound of the rest.

    The values are kept in candidate order; the descending order statistics a figure asks
    for are found by partial sorting, only as deep as asked (:meth:`kth_smallest`).

    Attributes
    ----------
    n : int
        Years in the full sample.
    years : ndarray
        Candidate year indices.
    values : ndarray
        The variant's values in those years.
    floor : float
        An upper bound of the variant in every other year.
    """

    __slots__ = ("n", "years", "values", "floor", "_desc", "_reps", "_full")

    def __init__(self, n: int, years: np.ndarray, values: np.ndarray, floor: float,
                 full: np.ndarray | None = None):
        self.n, self.years, self.values, self.floor = int(n), years, values, float(floor)
        self._desc = np.empty(0)
        self._reps: dict = {}
        self._full = full

    def replicates(self, alpha: float, weights: "YearWeights") -> np.ndarray:
        """Bootstrap replicates of the lower ``alpha``-quantile (shape ``(B,)``):
        :func:`quantile_replicates` on the candidates (cached per level and weights). When a
        replicate's rank lies beyond the candidates (a block bootstrap's weights come in
        whole worlds) and the full sample is known (:meth:`of`), :func:`var_replicates` of
        it, which reads as many years as it needs; else :class:`NeedFullSample`."""
        key = (float(alpha), id(weights))
        if key not in self._reps:
            order = np.argsort(-self.values, kind="stable")
            try:
                reps = quantile_replicates(self.values[order], self.years[order],
                                           top_rank(self.n, alpha), weights, self.floor)
            except NeedFullSample:
                if self._full is None:
                    raise
                reps = var_replicates(self._full, alpha, weights)
            self._reps[key] = (weights, reps)
        return self._reps[key][1]

    @classmethod
    def of(cls, x, cand: Candidates) -> "TopYears":
        """The variant ``x`` — at most the bound year by year — on the candidates ``cand``
        (from :func:`candidates` of that bound); ``x`` is kept (not copied) for the
        replicates that need more years."""
        x = np.asarray(x, dtype=float)
        return cls(x.size, cand.years, x[cand.years], cand.floor, x)

    def scaled(self, c: float) -> "TopYears":
        """The variant ``c · x`` (``c > 0``)."""
        return TopYears(self.n, self.years, c * self.values, c * self.floor)

    def _largest(self, depth: int) -> np.ndarray:
        """The ``depth`` largest candidate values, descending (cached, grown on demand)."""
        m = self.values.size
        if depth > self._desc.size:
            depth = min(m, max(depth, 2 * self._desc.size, 64))
            part = self.values if depth >= m else \
                self.values[np.argpartition(-self.values, depth - 1)[:depth]]
            self._desc = -np.sort(-part)
        return self._desc

    def kth_smallest(self, k: int) -> float:
        """The k-th smallest value (1-based) of the full sample."""
        r = self.n - k                              # 0-based rank from the top
        if r >= self.values.size:
            raise NeedFullSample(f"rank {k} of {self.n} lies outside the candidate years")
        v = self._largest(r + 1)[r]
        if v < self.floor:
            raise NeedFullSample(f"rank {k} of {self.n} lies outside the candidate years")
        return float(v)


_Z95 = 1.959963984540054       # Φ^-1(0.975)
_WIDE = 1.0 - (1.0 - 0.95) / 2.0   # each level's confidence in a Bonferroni pair at 95%


def _top_interval(kth, n: int, alpha: float, level: float) -> tuple[float, float]:
    """:func:`opwb.engine.riskmeasures.var_interval` with ``kth(rank)`` the order
    statistics (infinite where the sample has no bound)."""
    lo, hi = order_ranks(n, alpha, level)
    return (float(kth(lo)) if lo >= 1 else -math.inf,
            float(kth(hi)) if hi <= n else math.inf)


def var_with_se_top(top: TopYears, alpha: float) -> tuple[float, float]:
    """:func:`opwb.engine.riskmeasures.var_with_se` from the top years (same formula, the
    same widening with fewer than :data:`~opwb.engine.precision.MIN_TAIL` outcomes beyond
    ``alpha``)."""
    n = top.n
    k = quantile_rank(n, alpha)
    d = np.sqrt(n * alpha * (1.0 - alpha))
    lo, hi = int(min(max(np.floor(k - d), 1), n)), int(min(max(np.ceil(k + d), 1), n))
    value = top.kth_smallest(k)
    width = float((top.kth_smallest(hi) - top.kth_smallest(lo)) * d / max(hi - lo, 1)
                  if hi > lo else 0.0)
    if tail_count(n, alpha) < MIN_TAIL:
        a, b = _top_interval(top.kth_smallest, n, alpha, 0.95)
        width = max(width, (b - a) / (2.0 * _Z95))
    return value, width


def es_top(top: TopYears, alpha: float) -> tuple[float, float]:
    """Sample ES and its influence-function standard error from the top years (the
    formula of :func:`opwb.engine.precision.sample_es`; the error is ``inf`` with fewer
    than :data:`~opwb.engine.precision.MIN_TAIL` outcomes beyond ``alpha``, as
    :func:`opwb.engine.riskmeasures.es_with_se`)."""
    n = top.n
    v = top.kth_smallest(quantile_rank(n, alpha))
    if top.floor > v:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    excess = np.maximum(top.values - v, 0.0)
    mean = excess.sum() / n
    value = v + float(mean) / (1.0 - alpha)
    if tail_count(n, alpha) < MIN_TAIL:         # as es_estimate: no error, flagged there
        return float(value), math.inf
    var = (np.sum((excess - mean) ** 2) + (n - excess.size) * mean * mean) / (n - 1)
    return float(value), float(math.sqrt(var) / ((1.0 - alpha) * math.sqrt(n)))


def diff_var_top(tx: TopYears, ty: TopYears, alpha: float) -> tuple[float, float]:
    """:func:`opwb.engine.riskmeasures.diff_var_with_se` (paired, Bahadur) from the top
    years of two variants of the same years."""
    (vx, sx), (vy, sy) = var_with_se_top(tx, alpha), var_with_se_top(ty, alpha)
    if tx.floor > vx or ty.floor > vy:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    n = tx.n
    if tail_count(n, alpha) < MIN_TAIL:
        return vx - vy, _bonferroni_se(_top_interval(tx.kth_smallest, n, alpha, _WIDE),
                                       _top_interval(ty.kth_smallest, n, alpha, _WIDE))
    above_x = tx.years[tx.values > vx]
    above_y = ty.years[ty.values > vy]
    px = 1.0 - above_x.size / n
    py = 1.0 - above_y.size / n
    both_below = (n - above_x.size - above_y.size
                  + np.intersect1d(above_x, above_y, assume_unique=True).size) / n
    den = math.sqrt(px * (1 - px) * py * (1 - py))
    rho = float(np.clip((both_below - px * py) / den, -1.0, 1.0)) if den > 0 else 0.0
    se = math.sqrt(max(sx * sx + sy * sy - 2.0 * rho * sx * sy, 0.0))
    return vx - vy, se


def _bonferroni_se(ix: tuple[float, float], iy: tuple[float, float]) -> float:
    """The error of :func:`opwb.engine.riskmeasures.diff_estimate`'s widened difference:
    the Bonferroni interval ``(lo_x - hi_y, hi_x - lo_y)`` over ``2 · 1.96``."""
    return ((ix[1] - iy[0]) - (ix[0] - iy[1])) / (2.0 * _Z95)


# --------------------------------------------------------------------------- many variants
class SparseBlock:
    """``k`` variants of one sample that differ from a common base in a few years:
    ``x_j = base + add_j`` with ``add_j >= 0`` non-zero only in the years listed for row
    ``j`` (the net losses under many BBB limits: the loss net of an unlimited layer plus,
    in the rare years where a loss exceeds the limit, the excess the limit leaves).

    Row ``j``'s largest values are the base's largest values outside its listed years
    merged with its listed years' values; figures therefore cost the depth of the ranks
    asked for plus the listed years, not the sample size.

    Parameters
    ----------
    base : ndarray, shape (n,)
    rows, years, adds : ndarray
        The listed (row, year, addition) triples, sorted by row (each (row, year) once).
    k : int
        Number of variants.
    """

    def __init__(self, base: np.ndarray, rows: np.ndarray, years: np.ndarray,
                 adds: np.ndarray, k: int):
        self.base = np.asarray(base, dtype=float)
        self.n, self.k = self.base.size, int(k)
        self.years, self.adds = np.asarray(years, dtype=np.int64), np.asarray(adds, float)
        self.starts = np.searchsorted(np.asarray(rows), np.arange(self.k + 1))
        self._bv = np.empty(0)
        self._by = np.empty(0, dtype=np.int64)
        self._scratch = np.zeros(self.n, dtype=bool)
        self._top: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._bpos = np.empty(0, dtype=np.int64)
        self._pb: tuple = (None, {})

    def dense(self, j: int) -> np.ndarray:
        """Variant ``j`` in full (shape (n,))."""
        s = slice(self.starts[j], self.starts[j + 1])
        x = self.base.copy()
        x[self.years[s]] += self.adds[s]
        return x

    def _base_top(self, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """The base's ``depth`` largest values and their years, descending (cached)."""
        if depth > self._bv.size and self._bv.size < self.n:
            depth = min(self.n, max(depth, 2 * self._bv.size, 256))
            if depth >= self.n:
                years = np.argsort(-self.base, kind="stable")
            else:
                part = np.argpartition(-self.base, depth - 1)[:depth]
                years = part[np.argsort(-self.base[part], kind="stable")]
            self._bv, self._by = self.base[years], years
            self._bpos = np.full(self.n, -1, dtype=np.int64)
            self._bpos[years] = np.arange(years.size)
            self._pb = (None, {})
        return self._bv, self._by

    def top(self, j: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
        """Variant ``j``'s ``depth`` largest values (descending) and their years."""
        vals, yrs, _ = self._merged(j, depth)
        return vals, yrs

    def _merged(self, j: int, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`top` and, per position, the index in the base's top order of a year the
        row leaves unchanged (``-1`` for a listed year)."""
        cached = self._top.get(j)
        if cached is not None and cached[0].size >= min(depth, self.n):
            return cached
        s = slice(self.starts[j], self.starts[j + 1])
        ys = self.years[s]
        new = self.base[ys] + self.adds[s]
        bv, by = self._base_top(depth + ys.size)
        self._scratch[ys] = True
        keep = ~self._scratch[by]
        self._scratch[ys] = False
        kidx = np.flatnonzero(keep)[:depth]
        kv, ky = bv[kidx], by[kidx]
        order = np.argsort(-new, kind="stable")
        nv, ny = new[order], ys[order]
        pos = np.searchsorted(-kv, -nv, side="right") + np.arange(nv.size)
        total = kv.size + nv.size
        vals, yrs = np.empty(total), np.empty(total, dtype=np.int64)
        src = np.full(total, -1, dtype=np.int64)
        is_new = np.zeros(total, dtype=bool)
        is_new[pos] = True
        vals[pos], yrs[pos] = nv, ny
        vals[~is_new], yrs[~is_new], src[~is_new] = kv, ky, kidx
        out = (vals[:depth], yrs[:depth], src[:depth])
        self._top[j] = out
        return out

    def _prefix(self, weights: "YearWeights", q: int) -> np.ndarray:
        """Cumulative bootstrap weights of the base's ``q`` largest years (``(B,)``, exact
        integers), remembered per ``q`` for these weights: the rows of a block share the
        few ``q`` near the quantile's rank, so only those sums are formed (not the
        cumulative sums over every year the base's top list holds)."""
        owner, sums = self._pb
        if owner is not weights:
            sums = {}
            self._pb = (weights, sums)
        out = sums.get(q)
        if out is None:
            out = weights.of(self._by[:q]).sum(axis=0, dtype=np.int64)
            sums[q] = out
        return out

    def replicates(self, j: int, alpha: float, weights: "YearWeights") -> np.ndarray:
        """Bootstrap replicates (shape ``(B,)``) of variant ``j``'s lower ``alpha``-quantile —
        exactly :func:`var_replicates` of :meth:`dense` ``(j)`` with the same weights.

        Only a window of ranks around the quantile's rank ``r`` is resampled position by
        position: the weight of the years ranked above the window is the base's cumulative
        weight down to the last unchanged year there (shared by all rows), less the weights
        of the row's listed years among those base years, plus those of its listed years
        ranked above the window. A replicate whose crossing falls outside the window (its
        start weight already ``>= r`` or its end weight ``< r``) widens the window."""
        n, B = self.n, weights.replicates
        r = top_rank(n, alpha)
        half = int(math.ceil(4.5 * math.sqrt(r))) + 8
        s = slice(self.starts[j], self.starts[j + 1])
        while True:
            lo, hi = max(0, r - half), min(n, r + half)
            vals, yrs, src = self._merged(j, hi)
            hi = min(hi, vals.size)
            start = np.zeros(B, dtype=np.int64)
            if lo > 0:
                head = src[:lo]
                kept = head[head >= 0]
                q = int(kept[-1]) + 1 if kept.size else 0
                ys = self.years[s]
                bp = self._bpos[ys]
                removed = ys[(bp >= 0) & (bp < q)]
                listed_above = yrs[:lo][head < 0]
                start += self._prefix(weights, q)
                if removed.size:
                    start -= weights.of(removed).sum(axis=0, dtype=np.int64)
                if listed_above.size:
                    start += weights.of(listed_above).sum(axis=0, dtype=np.int64)
            idx, ok = _crossing(weights.of(yrs[lo:hi]), start, r)
            if ok.all():
                return vals[lo + idx]
            if lo == 0 and hi >= n:
                raise ValueError(f"the resampled weight of all {n} years does not reach "
                                 f"rank {r}: too few years for the bootstrap")
            half *= 2

    def kth_smallest(self, j: int, ks) -> np.ndarray:
        """Variant ``j``'s ``ks``-th smallest values (1-based)."""
        r = self.n - np.asarray(ks, dtype=np.int64)
        return self.top(j, int(r.max()) + 1)[0][r]


def _ranks(n: int, alpha: float) -> tuple[int, int, int, float]:
    k = quantile_rank(n, alpha)
    d = np.sqrt(n * alpha * (1.0 - alpha))
    lo, hi = int(min(max(np.floor(k - d), 1), n)), int(min(max(np.ceil(k + d), 1), n))
    return k, lo, hi, float(d)


def var_with_se_sparse(sb: SparseBlock, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`var_with_se_top` for every variant of a :class:`SparseBlock`: (values,
    errors), shape (k,) each."""
    k, lo, hi, d = _ranks(sb.n, alpha)
    q = np.array([sb.kth_smallest(j, [k, lo, hi]) for j in range(sb.k)]).reshape(sb.k, 3)
    width = (q[:, 2] - q[:, 1]) * d / max(hi - lo, 1) if hi > lo else np.zeros(sb.k)
    if tail_count(sb.n, alpha) < MIN_TAIL:
        for j in range(sb.k):
            a, b = _sparse_interval(sb, j, alpha, 0.95)
            width[j] = max(width[j], (b - a) / (2.0 * _Z95))
    return q[:, 0], width


def _sparse_interval(sb: SparseBlock, j: int, alpha: float, level: float):
    return _top_interval(lambda r: sb.kth_smallest(j, [r])[0], sb.n, alpha, level)


def es_sparse(sb: SparseBlock, alpha: float, *, block: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`es_top` for every variant of a :class:`SparseBlock`: (values, errors).

    With ``block > 0`` (years in blocks of that many: a predictive base's worlds) the error
    is the cluster error of the tail mean (:func:`~opwb.engine.bootstrap.block_mean_se` of
    the excesses over VaR, divided by ``1 − alpha``)."""
    n = sb.n
    r = n - quantile_rank(n, alpha)
    values, errors = np.empty(sb.k), np.empty(sb.k)
    for j in range(sb.k):
        top, yrs = sb.top(j, r + 1)
        v = top[r]
        excess = np.maximum(top - v, 0.0)
        mean = excess.sum() / n
        values[j] = v + mean / (1.0 - alpha)
        if block:
            errors[j] = block_mean_se(yrs, excess, n, block) / (1.0 - alpha)
            continue
        var = (np.sum((excess - mean) ** 2) + (n - excess.size) * mean * mean) / (n - 1)
        errors[j] = math.sqrt(var) / ((1.0 - alpha) * math.sqrt(n))
    if tail_count(n, alpha) < MIN_TAIL:
        errors[:] = math.inf
    return values, errors


def diff_var_sparse(fixed: TopYears, sb: SparseBlock, alpha: float, *, sign: int = 1
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``VaR(fixed) − VaR(row)`` for every variant of ``sb`` (``sign = -1``: row − fixed),
    with the paired (Bahadur) error of :func:`diff_var_top`."""
    vx, sx = var_with_se_top(fixed, alpha)
    if fixed.floor > vx:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    vy, sy = var_with_se_sparse(sb, alpha)
    n = sb.n
    if tail_count(n, alpha) < MIN_TAIL:
        ix = _top_interval(fixed.kth_smallest, n, alpha, _WIDE)
        se = np.array([_bonferroni_se(ix, _sparse_interval(sb, j, alpha, _WIDE))
                       for j in range(sb.k)])
        return sign * (vx - vy), se
    mask_x = np.zeros(n, dtype=bool)
    mask_x[fixed.years[fixed.values > vx]] = True
    n_x = int(mask_x.sum())
    r = n - quantile_rank(n, alpha)
    se = np.empty(sb.k)
    px = 1.0 - n_x / n
    for j in range(sb.k):
        vals, yrs = sb.top(j, r + 1)
        above = yrs[vals > vy[j]]
        py = 1.0 - above.size / n
        both_below = (n - n_x - above.size + int(mask_x[above].sum())) / n
        den = math.sqrt(px * (1 - px) * py * (1 - py))
        rho = min(max((both_below - px * py) / den, -1.0), 1.0) if den > 0 else 0.0
        se[j] = math.sqrt(max(sx * sx + sy[j] ** 2 - 2.0 * rho * sx * sy[j], 0.0))
    return sign * (vx - vy), se


def sparse_means(base: np.ndarray, rows: np.ndarray, years: np.ndarray, adds: np.ndarray,
                 k: int, *, block: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard errors ``sd / sqrt(n)`` of ``x_j = base + add_j`` (the sparse
    triples of :class:`SparseBlock`; ``adds`` of any sign), without forming the rows:
    ``Σ(x_j − m_j)² = Σa² + 2Σ a·c_j + Σc_j² − n·δ_j²`` with ``a = base − mean(base)``,
    ``c_j`` the additions and ``δ_j = Σc_j / n``.

    With ``block > 0`` (years in consecutive blocks of that many: a predictive base's
    worlds) the errors are the cluster errors, the standard deviation of the blocks' means
    over the square root of their number (:func:`~opwb.engine.bootstrap.block_mean_se`)."""
    n = base.size
    if block:
        m = n // block
        if block < 1 or n % block or m < 2:
            raise ValueError(f"{n} years do not make at least 2 blocks of {block}")
        sums = np.zeros((k, m))
        sums += np.asarray(base, dtype=float).reshape(m, block).sum(axis=1)
        np.add.at(sums, (np.asarray(rows, dtype=np.int64),
                         np.asarray(years, dtype=np.int64) // block), adds)
        means = sums.sum(axis=1) / n
        return means, np.std(sums / block, axis=1, ddof=1) / math.sqrt(m)
    mb = base.mean()
    a = base - mb
    ss = float(np.einsum("i,i->", a, a))          # not BLAS: no thread start-up per call
    delta = np.bincount(rows, adds, minlength=k) / n
    cross = np.bincount(rows, a[years] * adds, minlength=k)
    sq = np.bincount(rows, adds * adds, minlength=k)
    var = np.maximum(ss + 2.0 * cross + sq - n * delta * delta, 0.0) / (n - 1)
    return mb + delta, np.sqrt(var / n)
