"""Figures from the largest years equal the full-sample figures (engine.topyears).

The reference for every figure is :mod:`opwb.engine.riskmeasures` / :mod:`opwb.engine.precision`
on the full sample; the top-years and sparse forms must give the same numbers (to rounding)
for heavy-tailed samples, ties, and variants whose changes move years across the quantile.
"""
from __future__ import annotations

import numpy as np
import pytest

from opwb.engine import riskmeasures as rm
from opwb.engine.precision import sample_es
from opwb.engine.topyears import (
    NeedFullSample,
    SparseBlock,
    TopYears,
    candidates,
    diff_var_sparse,
    diff_var_top,
    es_sparse,
    es_top,
    sparse_means,
    var_with_se_sparse,
    var_with_se_top,
)

ALPHAS = (0.9, 0.99, 0.999)


def _variants(seed: int, n: int = 20_000, k: int = 6, *, ties: int = 40, atom: float = 0.0):
    """A heavy-tailed base (net of an unlimited layer) and k variants adding back, in a few
    years, what limits of decreasing size leave uncovered; ``ties`` years at 3억 and, with
    ``atom`` > 0, that share of years at 200억 (an atom, as years at a severity cap)."""
    rng = np.random.default_rng(seed)
    base = rng.pareto(1.3, n) * 1e8
    base[rng.integers(0, n, ties)] = 3e8                    # ties
    if atom > 0:
        base[rng.random(n) < atom] = 2e10                   # an atom
    big = rng.random(n) < 0.02
    excess = np.where(big, rng.pareto(1.1, n) * 5e8, 0.0)
    rows, years, adds = [], [], []
    for j, limit in enumerate(np.geomspace(5e9, 2e8, k)):
        over = np.maximum(excess - limit, 0.0)
        y = np.flatnonzero(over > 0)
        rows.append(np.full(y.size, j)), years.append(y), adds.append(over[y])
    return base, np.concatenate(rows), np.concatenate(years), np.concatenate(adds), k


def _dense(base, rows, years, adds, j):
    x = base.copy()
    x[years[rows == j]] += adds[rows == j]
    return x


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sparse_block_equals_full_sample_figures(seed):
    base, rows, years, adds, k = _variants(seed)
    sb = SparseBlock(base, rows, years, adds, k)
    for alpha in ALPHAS:
        v, se = var_with_se_sparse(sb, alpha)
        es, es_se = es_sparse(sb, alpha)
        for j in range(k):
            x = _dense(base, rows, years, adds, j)
            assert (v[j], se[j]) == pytest.approx(rm.var_with_se(x, alpha), rel=1e-12)
            assert (es[j], es_se[j]) == pytest.approx(sample_es(x, alpha), rel=1e-9)
            np.testing.assert_array_equal(sb.dense(j), x)


@pytest.mark.parametrize("seed", [4, 5])
def test_paired_differences_equal_full_sample(seed):
    base, rows, years, adds, k = _variants(seed)
    rng = np.random.default_rng(seed)
    gross = base + rng.pareto(1.5, base.size) * 5e7 + 1e9   # a fixed, larger sample
    fixed = TopYears.of(gross, candidates(gross, 0.999, margin=3))
    sb = SparseBlock(base, rows, years, adds, k)
    d, se = diff_var_sparse(fixed, sb, 0.999)
    for j in range(k):
        ref = rm.diff_var_with_se(gross, _dense(base, rows, years, adds, j), 0.999)
        assert (d[j], se[j]) == pytest.approx(ref, rel=1e-9)


def test_sparse_means_equal_sample_means():
    base, rows, years, adds, k = _variants(6)
    m, se = sparse_means(base, rows, years, -adds, k)          # additions of either sign
    for j in range(k):
        x = _dense(base, rows, years, -adds, j)
        assert (m[j], se[j]) == pytest.approx(rm.mean_with_se(x), rel=1e-9)


def test_top_years_of_a_variant_below_its_bound():
    rng = np.random.default_rng(7)
    bound = rng.lognormal(20, 2, 30_000)
    x = bound * (1 - rng.uniform(0, 0.3, bound.size))
    cand = candidates(bound, 0.99)
    top = TopYears.of(x, cand)
    assert var_with_se_top(top, 0.99) == pytest.approx(rm.var_with_se(x, 0.99), rel=1e-12)
    assert es_top(top, 0.99) == pytest.approx(sample_es(x, 0.99), rel=1e-9)
    y = bound * (1 - rng.uniform(0, 0.3, bound.size))
    assert diff_var_top(top, TopYears.of(y, cand), 0.99) == pytest.approx(
        rm.diff_var_with_se(x, y, 0.99), rel=1e-9)


def test_top_years_refuse_a_rank_outside_the_candidates():
    rng = np.random.default_rng(8)
    bound = rng.lognormal(0, 1, 10_000)
    top = TopYears.of(bound, candidates(bound, 0.999, margin=1.0, extra=0))
    with pytest.raises(NeedFullSample):
        var_with_se_top(top, 0.9)
