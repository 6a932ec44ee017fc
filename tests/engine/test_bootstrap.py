"""The year bootstrap of quantile figures from the top years (engine.topyears, issue 11).

1. Replicates from the top years equal a brute-force weighted bootstrap of the full sample
   with the same keyed Poisson(1) weights (exact equality), for dense samples, sparse
   variants (:class:`SparseBlock`) and fixed variants (:class:`TopYears`).
2. Validity where Bahadur's asymptotics fail: a sample with an atom at a severity cap near
   the 99.9% rank, and a "net" variant that pays on a random half of the cap years. Across
   independent replications the bootstrap SE of VaR and of the paired VaR difference
   matches the spread of the estimates; the order-statistics (Bahadur) SE does not.
3. In a smooth case both agree with each other and with the spread.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.engine import riskmeasures as rm
from opwb.engine.topyears import (
    SparseBlock,
    TopYears,
    YearWeights,
    block_mean_se,
    bootstrap_se,
    candidates,
    es_sparse,
    mean_replicates,
    sparse_means,
    top_rank,
    var_replicates,
)
from tests.engine.test_topyears import _variants as _topyears_variants


def brute_force(x, alpha, weights):
    """The weighted bootstrap on the whole sample: every year's weight, all years sorted."""
    x = np.asarray(x, dtype=float)
    order = np.argsort(-x, kind="stable")
    cum = np.cumsum(weights.draw(order).astype(np.int64), axis=0)
    idx = (cum >= top_rank(x.size, alpha)).argmax(axis=0)
    return x[order][idx]


def _variants(seed: int, n: int = 20_000, k: int = 5):
    """test_topyears's variants with more ties and an atom at 200억 in 0.4% of years."""
    return _topyears_variants(seed, n, k, ties=60, atom=0.004)


def test_poisson_weights_are_keyed_and_poisson():
    w = YearWeights(3, 50_000)
    a = w.of(np.arange(50_000))
    assert a.shape == (50_000, w.replicates) and a.dtype == np.uint8
    assert abs(a.mean() - 1) < 0.01 and abs(a.var() - 1) < 0.01
    assert abs((a == 0).mean() - math.exp(-1)) < 0.005
    # a function of (seed, replicate, year) only: any subset, any order, a fresh object
    ys = np.array([49_999, 7, 7, 123])
    np.testing.assert_array_equal(YearWeights(3, 50_000).of(ys), a[ys])
    np.testing.assert_array_equal(YearWeights(3, 50_000).draw(ys), a[ys])
    assert not np.array_equal(YearWeights(4, 50_000).draw(ys), a[ys])


@pytest.mark.parametrize("alpha", [0.9, 0.99, 0.999])
def test_top_years_bootstrap_equals_the_full_sample_bootstrap(alpha):
    base, rows, years, adds, k = _variants(1)
    w = YearWeights(11, base.size)
    sb = SparseBlock(base, rows, years, adds, k)
    for j in range(k):
        x = sb.dense(j)
        ref = brute_force(x, alpha, w)
        np.testing.assert_array_equal(var_replicates(x, alpha, w), ref)
        np.testing.assert_array_equal(sb.replicates(j, alpha, w), ref)
    top = TopYears.of(base + 1.0, candidates(base + 1.0, 0.999, margin=3))
    np.testing.assert_array_equal(top.replicates(0.999, w), brute_force(base + 1.0, 0.999, w))


def test_replicates_do_not_depend_on_which_years_are_candidates():
    base, rows, years, adds, k = _variants(2)
    w = YearWeights(5, base.size)
    x = SparseBlock(base, rows, years, adds, k).dense(3)
    ref = var_replicates(x, 0.999, w)
    wide = TopYears.of(x, candidates(x, 0.999, margin=20))
    np.testing.assert_array_equal(wide.replicates(0.999, w), ref)
    one = SparseBlock(base, rows[rows == 3] * 0, years[rows == 3], adds[rows == 3], 1)
    np.testing.assert_array_equal(one.replicates(0, 0.999, w), ref)


def test_mean_replicates_split_equals_the_weighted_mean_deviation():
    rng = np.random.default_rng(3)
    n = 5_000
    x = np.where(rng.random(n) < 0.1, rng.lognormal(0, 1, n), 0.0)
    w = YearWeights(1, n)
    dev, rest = mean_replicates(x, w)
    full = (w.draw(np.arange(n)).astype(float) - 1.0)
    np.testing.assert_allclose(dev, ((x - x.mean()) @ full - (-x.mean()) *
                                     full[x == 0].sum(axis=0)) / n, rtol=1e-9, atol=1e-12)
    assert rest == pytest.approx(x.mean() ** 2 * (x == 0).sum() / n ** 2)


# -------------------------------------------------------------------------- validity
N, REPS, ALPHA, CAP, PAID, UNPAID = 20_000, 240, 0.999, 100.0, 50.0, 0.35


def _atom_sample(rng, reps: int, n: int):
    """Annual losses: a lognormal body plus, with probability 0.002, a loss at the cap C;
    the 'net' version recovers a fixed 50 on the cap years except a random 35% of them
    (outside the wording or paid late). The ~40 cap years form two clusters far above the
    body — C (~14 unpaid) and C − 50 (~26 paid) — and the 99.9% rank (the 20th largest)
    usually lies in the lower one, in the upper one when 20 or more went unpaid."""
    gross = rng.lognormal(0.0, 0.8, (reps, n))
    at_cap = rng.random((reps, n)) < 0.002
    gross += np.where(at_cap, CAP, 0.0)
    net = gross - np.where(at_cap & (rng.random((reps, n)) >= UNPAID), PAID, 0.0)
    return gross, net


def _bahadur_pair(g, x):
    return rm.var_with_se(x, ALPHA)[1], rm.diff_var_with_se(g, x, ALPHA)[1]


def test_bootstrap_se_matches_the_spread_with_an_atom_where_bahadur_fails():
    """The 99.9% rank (20 of 20,000) sits at the ~20 unpaid of the ~40 cap years: the
    net VaR jumps between C and C − 10; the order-statistics SE mostly sees a zero spacing
    (or, rarely, a gap), and the gross VaR's zero spacing makes its paired error zero."""
    rng = np.random.default_rng(2024)
    gross, net = _atom_sample(rng, REPS, N)
    est = np.empty((REPS, 2))
    boot = np.empty((REPS, 2))
    old = np.empty((REPS, 2))
    for i in range(REPS):
        w = YearWeights(1000 + i, N)
        g_rep = var_replicates(gross[i], ALPHA, w)
        x_rep = var_replicates(net[i], ALPHA, w)
        est[i] = rm.var(net[i], ALPHA), rm.var(gross[i], ALPHA) - rm.var(net[i], ALPHA)
        boot[i] = bootstrap_se(x_rep), bootstrap_se(g_rep - x_rep)
        old[i] = _bahadur_pair(gross[i], net[i])
    spread = est.std(axis=0, ddof=1)
    # the typical stated SE (median over the replications, as a validator reads one run's
    # SE against the spread over seeds); the sd over 240 replications is itself uncertain
    # by ~1/sqrt(2·239) ≈ 5% for a normal estimate, more for this lumpy one: [0.75, 1.33]
    ratio_boot = np.median(boot, axis=0) / spread
    ratio_old = np.median(old, axis=0) / spread
    assert ((0.75 < ratio_boot) & (ratio_boot < 1.33)).all(), (ratio_boot, ratio_old)
    assert (ratio_old < 0.5).all(), ratio_old            # Bahadur: the within-cluster spacing
    # ±1.96 SE around the estimate covers the mean over replications
    cover_boot = (np.abs(est - est.mean(axis=0)) <= 1.96 * boot).mean(axis=0)
    cover_old = (np.abs(est - est.mean(axis=0)) <= 1.96 * old).mean(axis=0)
    assert (cover_boot > 0.8).all() and (cover_old < 0.6).all(), (cover_boot, cover_old)


def test_bootstrap_agrees_with_bahadur_and_the_spread_in_a_smooth_case():
    """A lognormal compound (Poisson(2) losses a year): a positive smooth density at VaR."""
    rng = np.random.default_rng(7)
    reps, n = 200, 20_000
    counts = rng.poisson(2.0, (reps, n))
    sev = rng.lognormal(0.0, 1.2, (reps, n, 8))
    x = (sev * (np.arange(8) < counts[..., None])).sum(axis=-1)
    y = 0.7 * x + 0.3 * np.minimum(x, 20.0)                 # a 'net' version
    est, boot, old = np.empty((reps, 2)), np.empty((reps, 2)), np.empty((reps, 2))
    for i in range(reps):
        w = YearWeights(i, n)
        xr, yr = var_replicates(x[i], ALPHA, w), var_replicates(y[i], ALPHA, w)
        est[i] = rm.var(y[i], ALPHA), rm.var(x[i], ALPHA) - rm.var(y[i], ALPHA)
        boot[i] = bootstrap_se(yr), bootstrap_se(xr - yr)
        old[i] = _bahadur_pair(x[i], y[i])
    spread = est.std(axis=0, ddof=1)
    rb, ro = np.median(boot, axis=0), np.median(old, axis=0)
    assert ((0.75 < rb / spread) & (rb / spread < 1.33)).all(), (rb / spread, ro / spread)
    assert ((0.8 < rb / ro) & (rb / ro < 1.25)).all(), rb / ro


# ------------------------------------------------------------------ blocks (a predictive base's worlds)
def _worlds(seed: int, m: int = 100, block: int = 200):
    """``m`` worlds of ``block`` years: each world's own level (the parameter draw, gamma
    with a coefficient of variation of 0.5) times exponential year noise, and zero years
    (a layer that pays in some years only)."""
    rng = np.random.default_rng(seed)
    level = rng.gamma(4.0, 0.25, m)
    x = np.repeat(level, block) * rng.exponential(1.0, m * block)
    x[rng.random(m * block) < 0.3] = 0.0
    return x


def test_block_weights_draw_whole_worlds_keyed_to_seed_and_replicate():
    w = YearWeights(3, 20_000, block=200)
    a = w.of(np.arange(20_000))
    assert w.blocks == 100 and a.dtype == np.uint8
    assert (a.astype(np.int64).sum(axis=0) == 20_000).all()        # n in every replicate
    assert (a.reshape(100, 200, -1) == a[::200][:, None, :]).all()   # one weight per world
    # multinomial(100, 1/100) counts: mean 1, variance 0.99, P(0) = 0.99^100
    c = a[::200].astype(float)
    assert abs(c.mean() - 1) < 1e-12 and abs(c.var() - 0.99) < 0.03
    assert abs((c == 0).mean() - 0.99 ** 100) < 0.01
    ys = np.array([19_999, 7, 7, 4_321])
    np.testing.assert_array_equal(YearWeights(3, 20_000, block=200).of(ys), a[ys])
    assert not np.array_equal(YearWeights(4, 20_000, block=200).of(ys), a[ys])
    with pytest.raises(ValueError, match="blocks of 300"):
        YearWeights(3, 20_000, block=300)


def test_block_errors_of_a_mean_equal_the_spread_of_repeated_pools():
    """The cluster error of a pooled mean (closed form and block bootstrap) against the
    spread of the mean over 400 independently drawn pools of 100 worlds — the quantity it
    estimates; the year-by-year error misses most of it."""
    means = [_worlds(s).mean() for s in range(1000, 1400)]
    truth = float(np.std(means, ddof=1))
    x = _worlds(7)
    nz = np.flatnonzero(x)
    closed = block_mean_se(nz, x[nz], x.size, 200)
    dev, rest = mean_replicates(x, YearWeights(11, x.size, block=200))
    boot = float(bootstrap_se(dev))
    iid = float(x.std(ddof=1) / math.sqrt(x.size))
    # one pool's error estimate has its own error of about 1/sqrt(2·99) = 7%; the
    # truth's about 1/sqrt(2·399) = 3.5%: 25% is beyond three of their combined errors
    assert closed == pytest.approx(truth, rel=0.25)
    assert boot == pytest.approx(closed, rel=0.2) and rest == 0.0
    assert iid < 0.5 * truth


def test_block_sparse_means_and_es_equal_their_dense_cluster_errors():
    x = _worlds(5, m=50, block=400)
    n = x.size
    rng = np.random.default_rng(2)
    k = 3
    years = rng.choice(n, 600, replace=False)
    rows = np.repeat(np.arange(k), 200)
    adds = -x[years] * rng.uniform(0, 1, 600)
    means, ses = sparse_means(x, rows, years, adds, k, block=400)
    sb = SparseBlock(x, rows, years, adds, k)
    for j in range(k):
        d = sb.dense(j)
        wm = d.reshape(50, 400).mean(axis=1)
        assert means[j] == pytest.approx(d.mean(), rel=1e-12)
        assert ses[j] == pytest.approx(wm.std(ddof=1) / math.sqrt(50), rel=1e-9)
    alpha = 0.99
    values, errors = es_sparse(sb, alpha, block=400)
    for j in range(k):
        d = sb.dense(j)
        v = np.sort(d)[math.ceil(n * alpha) - 1]
        infl = np.maximum(d - v, 0.0) / (1 - alpha)
        assert values[j] == pytest.approx(v + infl.mean(), rel=1e-12)
        assert errors[j] == pytest.approx(
            infl.reshape(50, 400).mean(axis=1).std(ddof=1) / math.sqrt(50), rel=1e-9)
