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
(order statistics; Bahadur's representation for paired quantiles).

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

from opwb.engine.precision import quantile_rank

__all__ = ["NeedFullSample", "Candidates", "TopYears", "TopBlock", "candidates",
           "var_with_se_top", "es_top", "diff_var_top", "var_with_se_block", "es_block",
           "diff_var_block"]


class NeedFullSample(LookupError):
    """A rank the figure needs lies outside the candidate years."""


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

    __slots__ = ("n", "years", "values", "floor", "_desc")

    def __init__(self, n: int, years: np.ndarray, values: np.ndarray, floor: float):
        self.n, self.years, self.values, self.floor = int(n), years, values, float(floor)
        self._desc = np.empty(0)

    @classmethod
    def of(cls, x, cand: Candidates) -> "TopYears":
        """The variant ``x`` — at most the bound year by year — on the candidates ``cand``
        (from :func:`candidates` of that bound)."""
        x = np.asarray(x, dtype=float)
        return cls(x.size, cand.years, x[cand.years], cand.floor)

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


def var_with_se_top(top: TopYears, alpha: float) -> tuple[float, float]:
    """:func:`opwb.engine.riskmeasures.var_with_se` from the top years (same formula)."""
    n = top.n
    k = quantile_rank(n, alpha)
    d = np.sqrt(n * alpha * (1.0 - alpha))
    lo, hi = int(min(max(np.floor(k - d), 1), n)), int(min(max(np.ceil(k + d), 1), n))
    value = top.kth_smallest(k)
    width = ((top.kth_smallest(hi) - top.kth_smallest(lo)) * d / max(hi - lo, 1)
             if hi > lo else 0.0)
    return value, float(width)


def es_top(top: TopYears, alpha: float) -> tuple[float, float]:
    """Sample ES and its influence-function standard error from the top years (the
    formula of :func:`opwb.engine.precision.sample_es`)."""
    n = top.n
    v = top.kth_smallest(quantile_rank(n, alpha))
    if top.floor > v:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    excess = np.maximum(top.values - v, 0.0)
    mean = excess.sum() / n
    value = v + float(mean) / (1.0 - alpha)
    var = (np.sum((excess - mean) ** 2) + (n - excess.size) * mean * mean) / (n - 1)
    return float(value), float(math.sqrt(var) / ((1.0 - alpha) * math.sqrt(n)))


def diff_var_top(tx: TopYears, ty: TopYears, alpha: float) -> tuple[float, float]:
    """:func:`opwb.engine.riskmeasures.diff_var_with_se` (paired, Bahadur) from the top
    years of two variants of the same years."""
    (vx, sx), (vy, sy) = var_with_se_top(tx, alpha), var_with_se_top(ty, alpha)
    if tx.floor > vx or ty.floor > vy:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    n = tx.n
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


# --------------------------------------------------------------------------- many variants
class TopBlock:
    """:class:`TopYears` of ``k`` variants at once: values of shape (k, m) on shared
    candidate years. Every figure is returned per variant (arrays of shape (k,)). When a
    rank a figure needs lies outside the candidates, the block widens itself to every
    year of ``source`` — the full sample of shape (k, n), or a function giving it — so the
    figures stay exact."""

    __slots__ = ("n", "years", "values", "floor", "_source", "_desc")

    #: ranks from the top up to this depth come from one cached sort; deeper ones from a
    #: partition at exactly the ranks asked for
    SORTED_DEPTH = 4096

    def __init__(self, n: int, years: np.ndarray, values: np.ndarray, floor: float,
                 source=None):
        self.n, self.years, self.values, self.floor = int(n), years, values, float(floor)
        self._source = source
        self._desc = np.empty((values.shape[0], 0))

    @classmethod
    def of(cls, xs: np.ndarray, cand: Candidates) -> "TopBlock":
        """Variants ``xs`` (shape (k, n), each at most the bound) on ``cand``."""
        xs = np.atleast_2d(np.asarray(xs, dtype=float))
        if cand.years.size >= xs.shape[1]:
            return cls(xs.shape[1], np.arange(xs.shape[1]), xs, -math.inf)
        return cls(xs.shape[1], cand.years, xs[:, cand.years], cand.floor, xs)

    def widen(self) -> bool:
        """Use every year of the source sample; False when there is nothing to widen to."""
        if self._source is None:
            return False
        src = self._source() if callable(self._source) else self._source
        self.years, self.values = np.arange(self.n), np.atleast_2d(src)
        self.floor, self._source = -math.inf, None
        self._desc = np.empty((self.values.shape[0], 0))
        return True

    def _largest(self, depth: int) -> np.ndarray:
        """The ``depth`` largest candidate values of every variant, descending: shape
        (k, ≥ depth) (cached; one partial sort serves every later, shallower request)."""
        m = self.values.shape[1]
        if depth > self._desc.shape[1]:
            depth = min(m, max(depth, 2 * self._desc.shape[1], 64))
            neg = -self.values
            if depth < m:
                neg = np.partition(neg, depth - 1, axis=1)[:, :depth]
            self._desc = -np.sort(neg, axis=1)
        return self._desc

    def kth_smallest(self, ks) -> np.ndarray:
        """The ``ks``-th smallest values (1-based) of every variant: shape (k, len(ks))."""
        r = self.n - np.asarray(ks, dtype=np.int64)
        while True:
            if np.all(r < self.values.shape[1]):
                depth = int(r.max()) + 1
                if depth <= max(self.SORTED_DEPTH, self._desc.shape[1]):
                    out = self._largest(depth)[:, r]
                else:
                    uniq = np.unique(r)
                    out = -np.partition(-self.values, uniq, axis=1)[:, r]
                if not np.any(out < self.floor):
                    return out
            if not self.widen():
                raise NeedFullSample("a rank lies outside the candidate years")

    def var_at_least(self, v: np.ndarray) -> None:
        """Make sure every year outside the candidates lies at or below ``v`` (per
        variant), widening to the full sample if not."""
        if np.any(self.floor > v) and not self.widen():
            raise NeedFullSample("years outside the candidates may exceed VaR")


def var_with_se_block(top: TopBlock, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`var_with_se_top` for every variant of a block: (values, errors)."""
    n = top.n
    k = quantile_rank(n, alpha)
    d = np.sqrt(n * alpha * (1.0 - alpha))
    lo, hi = int(min(max(np.floor(k - d), 1), n)), int(min(max(np.ceil(k + d), 1), n))
    q = top.kth_smallest([k, lo, hi])
    width = (q[:, 2] - q[:, 1]) * d / max(hi - lo, 1) if hi > lo else np.zeros(len(q))
    return q[:, 0], width


def es_block(top: TopBlock, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`es_top` for every variant of a block: (values, errors)."""
    n = top.n
    v = top.kth_smallest([quantile_rank(n, alpha)])[:, 0]
    top.var_at_least(v)
    excess = np.maximum(top.values - v[:, None], 0.0)
    mean = excess.sum(axis=1) / n
    m = excess.shape[1]
    var = (np.sum((excess - mean[:, None]) ** 2, axis=1) + (n - m) * mean * mean) / (n - 1)
    return v + mean / (1.0 - alpha), np.sqrt(var) / ((1.0 - alpha) * math.sqrt(n))


def diff_var_block(fixed: TopYears, block: TopBlock, alpha: float, *, sign: int = 1
                   ) -> tuple[np.ndarray, np.ndarray]:
    """``VaR(fixed) − VaR(row)`` for every row of ``block`` (``sign = -1``: row − fixed),
    with the paired error of :func:`diff_var_top`."""
    vx, sx = var_with_se_top(fixed, alpha)
    vy, sy = var_with_se_block(block, alpha)
    block.var_at_least(vy)
    if fixed.floor > vx:
        raise NeedFullSample("years outside the candidates may exceed VaR")
    n = block.n
    above_x = fixed.years[fixed.values > vx]
    mask_x = np.zeros(n, dtype=bool)
    mask_x[above_x] = True
    above_y = block.values > vy[:, None]                     # (k, m)
    n_y = above_y.sum(axis=1)
    both = (above_y & mask_x[block.years][None, :]).sum(axis=1)
    px = 1.0 - above_x.size / n
    py = 1.0 - n_y / n
    both_below = (n - above_x.size - n_y + both) / n
    den = np.sqrt(px * (1 - px) * py * (1 - py))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(den > 0, np.clip((both_below - px * py) / np.where(den > 0, den, 1.0),
                                        -1.0, 1.0), 0.0)
    se = np.sqrt(np.maximum(sx * sx + sy * sy - 2.0 * rho * sx * sy, 0.0))
    return sign * (vx - vy), se
