"""The Student-t copula beside the Gaussian (issue 23 item 5): ν → ∞ gives the Gaussian
copula, its tail dependence is the closed form's, it raises the 99.9% total, bad ν refused.

Tail dependence: λ = 2 t_{ν+1}(−sqrt((ν+1)(1−ρ)/(1+ρ))) (McNeil, Frey & Embrechts 2005,
*Quantitative Risk Management*, Section 5.2.3). Tolerances are Monte Carlo standard errors
computed in the tests.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from opwb.capital import dependence_comparison
from opwb.capital.ama import capital_summary
from opwb.capital.copula import copula_orders, copula_totals, t_tail_dependence
from opwb.engine.riskmeasures import var_with_se

NAMES = ("IF", "EF", "DPA")


def _equicorrelation(rho: float, k: int = 3) -> np.ndarray:
    c = np.full((k, k), rho)
    np.fill_diagonal(c, 1.0)
    return c


def _pseudo(n: int, rho: float, *, seed: int, df: float | None) -> np.ndarray:
    """Pseudo-observations (n x 2) of the copula, through the reordering itself: with
    gross = 0, 1, ..., n-1 the year placed in row r *is* the rank of the row's latent draw."""
    g = {"A": np.arange(n, dtype=float), "B": np.arange(n, dtype=float)}
    o = copula_orders(g, _equicorrelation(rho, 2), seed=seed, df=df)
    return (np.column_stack([o["A"], o["B"]]) + 1.0) / (n + 1.0)


def _chi_hat(u: np.ndarray, q: float) -> tuple[float, float]:
    """Empirical P(U2 > q | U1 > q) and its binomial standard error."""
    above = u[:, 0] > q
    p = float(np.mean(u[above, 1] > q))
    return p, math.sqrt(p * (1 - p) / above.sum())


def _chi_t(q: float, rho: float, nu: float) -> float:
    """Exact P(U2 > q | U1 > q) of the t copula: X2 | X1 = x is t_{ν+1} with location ρx and
    scale sqrt((ν + x²)(1 − ρ²)/(ν + 1)) (the conditional t distribution)."""
    a = stats.t.isf(1 - q, nu)
    f = lambda x: stats.t.pdf(x, nu) * stats.t.sf(                          # noqa: E731
        (a - rho * x) / math.sqrt((nu + x * x) * (1 - rho * rho) / (nu + 1)), nu + 1)
    return integrate.quad(f, a, np.inf, epsabs=1e-14, limit=200)[0] / (1 - q)


def _chi_gauss(q: float, rho: float) -> float:
    a = stats.norm.isf(1 - q)
    f = lambda x: stats.norm.pdf(x) * stats.norm.sf((a - rho * x) / math.sqrt(1 - rho ** 2))  # noqa: E731
    return integrate.quad(f, a, np.inf, epsabs=1e-14, limit=200)[0] / (1 - q)


# -- (1) ν → ∞ is the Gaussian copula -------------------------------------------------------

@pytest.fixture(scope="module")
def heavy():
    """Three event types with Pareto (Lomax, tail index 2.5) annual losses, 100,000 years."""
    rng = np.random.default_rng(2023)
    return {et: rng.pareto(2.5, 100_000) * 1e9 for et in NAMES}


def test_infinite_df_is_the_gaussian_copula_exactly(heavy):
    c = _equicorrelation(0.3)
    gauss = copula_orders(heavy, c, seed=5)
    for df in (np.inf, float("inf")):
        t = copula_orders(heavy, c, seed=5, df=df)
        assert all(np.array_equal(t[et], gauss[et]) for et in NAMES)
    np.testing.assert_array_equal(copula_totals(heavy, heavy, c, seed=5, df=np.inf)[0],
                                  copula_totals(heavy, heavy, c, seed=5)[0])


def test_large_df_ranks_converge_to_the_gaussian_ranks():
    """Same normal draws; each row divided by s = sqrt(χ²_ν/ν) from its own stream (key 8).
    A row's pseudo-observation moves by at most about sup|z|φ(z) · 2 max|s − 1| ≈
    0.5 max|s − 1| (two rows scaled by factors within max|s − 1| of 1 cross only within
    that window), plus a few ranks of ties between neighbours."""
    n, seed = 200_000, 5
    g = {et: np.arange(n, dtype=float) for et in NAMES}
    c = _equicorrelation(0.3)
    gauss = copula_orders(g, c, seed=seed)
    moved = []
    for nu in (1e4, 1e6, 1e8):
        t = copula_orders(g, c, seed=seed, df=nu)
        w = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(8,))).chisquare(nu, n)
        delta = np.abs(np.sqrt(w / nu) - 1).max()
        d = max(np.abs(t[et] - gauss[et]).max() for et in NAMES) / n
        assert d <= 0.5 * delta + 10 / n, (nu, d, delta)
        moved.append(d)
    assert moved[0] > moved[1] > moved[2]
    assert moved[2] < 2e-4                                      # ν = 1e8: under 0.02% in U


def test_large_df_totals_match_the_gaussian_within_a_fraction_of_their_error(heavy):
    c = _equicorrelation(0.3)
    g_gauss = copula_totals(heavy, heavy, c, seed=5)[0]
    g_t = copula_totals(heavy, heavy, c, seed=5, df=1e8)[0]
    v_g, se_g = var_with_se(g_gauss, 0.999)
    v_t, _ = var_with_se(g_t, 0.999)
    assert abs(v_t - v_g) < 0.01 * se_g                          # observed: ~1e-4 of the SE
    assert g_t.sum() == pytest.approx(g_gauss.sum())            # same years, reordered


# -- (2) empirical tail dependence against the closed form ----------------------------------

@pytest.fixture(scope="module")
def pseudo_obs():
    n = 400_000
    return {"t": _pseudo(n, 0.5, seed=11, df=4), "gauss": _pseudo(n, 0.5, seed=11, df=None)}


@pytest.mark.parametrize("q", [0.99, 0.995, 0.999])
def test_empirical_tail_dependence_matches_the_exact_conditional_probability(pseudo_obs, q):
    for kind, exact in (("t", _chi_t(q, 0.5, 4)), ("gauss", _chi_gauss(q, 0.5))):
        p, se = _chi_hat(pseudo_obs[kind], q)
        assert abs(p - exact) < 4 * se, (kind, q, p, exact, se)


def test_t_tail_dependence_is_the_limit_and_the_gaussian_one_vanishes(pseudo_obs):
    lam = t_tail_dependence(0.5, 4)
    assert lam == pytest.approx(0.25317, abs=1e-5)
    # the exact conditional probability converges to λ (bias of a finite level q)
    assert abs(_chi_t(1 - 1e-6, 0.5, 4) - lam) < 0.001
    q = 0.995
    p, se = _chi_hat(pseudo_obs["t"], q)
    assert abs(p - lam) < 4 * se + abs(_chi_t(q, 0.5, 4) - lam)     # MC error + level bias
    # the Gaussian copula's falls towards 0 faster at the same levels
    g = [_chi_hat(pseudo_obs["gauss"], q) for q in (0.99, 0.999)]
    t = [_chi_hat(pseudo_obs["t"], q) for q in (0.99, 0.999)]
    assert g[1][0] + 4 * math.hypot(g[1][1], t[1][1]) < t[1][0]
    assert g[1][0] / g[0][0] < 0.6 < t[1][0] / t[0][0]
    assert _chi_gauss(1 - 1e-8, 0.5) < 0.001


# -- (3) the closed form --------------------------------------------------------------------

@pytest.mark.parametrize("rho", [-0.5, 0.0, 0.3, 0.5, 0.9])
def test_cauchy_copula_closed_form(rho):
    """ν = 1: t_2 has F(x) = 1/2 + x / (2 sqrt(2 + x²)); with a = sqrt(2(1−ρ)/(1+ρ)),
    2 + a² = 4/(1+ρ), so λ = 2 F(−a) = 1 − sqrt((1−ρ)/2); at ρ = 0, 1 − 1/√2 ≈ 0.2929
    (the argument is −√2, i.e. 2 t_2(−√2), not 2 t_2(−1) = 1 − 1/√3)."""
    assert t_tail_dependence(rho, 1) == pytest.approx(1 - math.sqrt((1 - rho) / 2), abs=1e-12)


def test_cauchy_independent_value():
    assert t_tail_dependence(0.0, 1) == pytest.approx(1 - 1 / math.sqrt(2), abs=1e-12)
    assert t_tail_dependence(0.0, 1) == pytest.approx(0.2929, abs=5e-5)


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_nu_three_closed_form(rho):
    """ν = 3: t_4 has F(x) = 1/2 + x (x² + 6) / (2 (x² + 4)^{3/2})."""
    a = math.sqrt(4 * (1 - rho) / (1 + rho))
    f4 = 0.5 - a * (a * a + 6) / (2 * (a * a + 4) ** 1.5)
    assert t_tail_dependence(rho, 3) == pytest.approx(2 * f4, abs=1e-12)


def test_tail_dependence_monotone_and_limits():
    nus = np.array([0.5, 1, 2, 4, 10, 30, 100])
    rhos = np.array([-0.9, -0.5, 0.0, 0.5, 0.9])
    lam = t_tail_dependence(rhos[:, None], nus[None, :])
    assert lam.shape == (5, 7) and np.all(lam > 0)
    assert np.all(np.diff(lam, axis=1) < 0)                   # decreasing in ν
    assert np.all(np.diff(lam, axis=0) > 0)                   # increasing in ρ
    far = t_tail_dependence(0.9, np.array([1e3, 1e5, 1e8, np.inf]))
    assert np.all(np.diff(far) <= 0) and far[0] < 1e-3        # → 0, the Gaussian copula's
    assert t_tail_dependence(0.9, np.inf) == 0.0
    assert t_tail_dependence(1.0, 4) == 1.0 and t_tail_dependence(1.0, np.inf) == 1.0
    assert t_tail_dependence(-1.0, 4) == 0.0
    assert [round(t_tail_dependence(0.5, v), 2) for v in (2, 4, 10)] == [0.39, 0.25, 0.08]


# -- (4) the t copula raises the 99.9% total -----------------------------------------------

def test_t_copula_total_exceeds_the_gaussian_beyond_monte_carlo_error():
    """Lomax(2.5) annual losses, ρ = 0.3, ν = 4: eight independent replications (fresh
    years, fresh copula seed); the error of the mean difference is their standard error."""
    c = _equicorrelation(0.3)
    diffs, ses = [], []
    for rep in range(8):
        rng = np.random.default_rng(100 + rep)
        g = {et: rng.pareto(2.5, 100_000) * 1e9 for et in NAMES}
        v_t, se_t = var_with_se(copula_totals(g, g, c, seed=rep, df=4)[0], 0.999)
        v_g, se_g = var_with_se(copula_totals(g, g, c, seed=rep)[0], 0.999)
        diffs.append(v_t - v_g)
        ses.append(math.hypot(se_t, se_g))
    diffs = np.array(diffs)
    mc_error = diffs.std(ddof=1) / math.sqrt(len(diffs))
    assert diffs.mean() > 4 * mc_error
    # the order-statistic errors agree in size with the replications' spread
    assert 0.3 < diffs.std(ddof=1) / np.mean(ses) < 3.0


def test_capital_summary_t_copula_row_and_allocation(sim):
    corr = _equicorrelation(0.3)
    s = capital_summary(sim, aggregation="t_copula", correlation=corr, df=4, seed=3)
    assert {"sum", "independent", "copula", "t_copula"} <= set(s.totals.index)
    assert s.df == 4.0
    for col in ("capital_gross", "benefit", "recognised_benefit", "capital_net"):
        assert s.by_event_type[col].sum() == pytest.approx(s.totals.loc["t_copula", col])
    g = capital_summary(sim, aggregation="copula", correlation=corr, df=np.inf, seed=3)
    pd.testing.assert_series_equal(g.totals.loc["t_copula"], g.totals.loc["copula"],
                                   check_names=False)
    # no df: no t copula row, as before
    assert "t_copula" not in capital_summary(sim, correlation=corr).totals.index


def test_dependence_comparison_table(sim):
    t = dependence_comparison(sim, 0.3, df=4, seed=3)
    assert t.index.tolist() == ["sum", "copula", "t_copula"]
    assert t.loc["t_copula", "tail_dependence"] == pytest.approx(t_tail_dependence(0.3, 4))
    assert t.loc["copula", "tail_dependence"] == 0.0
    assert t.loc["sum", "ratio_to_sum"] == 1.0
    s = capital_summary(sim, correlation=_equicorrelation(0.3), df=4, seed=3)
    assert t.loc["t_copula", "capital_gross"] == s.totals.loc["t_copula", "capital_gross"]


# -- (5) bad ν --------------------------------------------------------------------------------

@pytest.mark.parametrize("df", [0, -1, -np.inf, np.nan, "four", True])
def test_bad_df_is_refused(sim, df):
    g = sim.by_event_type()
    corr = _equicorrelation(0.3)
    match = "df must be a number > 0"
    for call in (lambda: copula_orders(g, corr, seed=0, df=df),
                 lambda: copula_totals(g, g, corr, seed=0, df=df),
                 lambda: capital_summary(sim, correlation=corr, df=df),
                 lambda: t_tail_dependence(0.5, df),
                 lambda: dependence_comparison(sim, corr, df=df)):
        with pytest.raises(ValueError, match=match):
            call()


def test_t_copula_needs_correlation_and_df(sim):
    with pytest.raises(ValueError, match="degrees of freedom df"):
        capital_summary(sim, aggregation="t_copula", correlation=_equicorrelation(0.3))
    with pytest.raises(ValueError, match="correlation"):
        capital_summary(sim, aggregation="t_copula", df=4)


@pytest.mark.parametrize("rho", [1.5, -1.01, np.nan])
def test_bad_rho_is_refused(rho):
    with pytest.raises(ValueError, match=r"rho must be a correlation in \[-1, 1\]"):
        t_tail_dependence(rho, 4)
