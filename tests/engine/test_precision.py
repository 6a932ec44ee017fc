"""The GPD tail of a sample (peaks over threshold): fit, tail measures, profile interval."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

from opwb.engine.precision import (
    MIN_EXCEEDANCES,
    TailFit,
    fit_tail,
    light_differences,
    n_exceedances,
    tail_share,
)
from opwb.fitting.mle import fit_severity


def test_threshold_rule():
    assert tail_share(0.999) == 0.01 and tail_share(0.99) == 0.1
    assert tail_share(0.95) == tail_share(0.8) == 0.2 and tail_share(0.5) == 0.5
    assert n_exceedances(100_000, 0.999) == 1_000            # the 99% quantile
    assert n_exceedances(20_000, 0.999) == 200
    assert n_exceedances(1_000, 0.999) == MIN_EXCEEDANCES    # at least 50 excesses
    assert n_exceedances(2 * MIN_EXCEEDANCES - 1, 0.999) == 0  # too few to assess
    assert fit_tail(np.arange(99.0), 0.999) is None
    assert fit_tail(np.ones(1000), 0.999) is None               # a constant tail
    with pytest.raises(ValueError, match="k must be between 1 and n - 1"):
        fit_tail(np.arange(1000.0), 0.999, k=1000)


@pytest.mark.parametrize("xi", [-0.3, 0.0, 0.4, 0.7, 1.2])
def test_gpd_fit_is_the_maximum_likelihood_of_fit_severity(xi):
    # threshold u = the (n-k)th order statistic; the excesses above it fitted by opwb's
    # general truncated MLE (an independent optimiser) give the same maximum
    x = stats.genpareto(xi, scale=3e7).rvs(5_000, random_state=np.random.default_rng(11))
    tail = fit_tail(x, 0.99)                                  # k = 500
    y = np.sort(x)[-tail.k:] - tail.threshold
    ref = fit_severity(y, "genpareto", threshold=0.0)
    assert ref.status == "ok"
    assert tail.xi == pytest.approx(ref.params["xi"], abs=1e-5)
    assert tail.sigma == pytest.approx(ref.params["sigma"], rel=1e-5)
    raw_loglik = tail.loglik - tail.k * math.log(tail.scale)  # fitted on y / scale
    assert raw_loglik == pytest.approx(ref.loglik, abs=1e-6 * abs(ref.loglik))
    assert abs(tail.xi - xi) < 4 * tail.xi_se


@pytest.mark.parametrize("xi, sigma", [(0.7, 2.0), (0.3, 1.0), (-0.2, 5.0), (0.0, 1.5)])
def test_tail_var_and_es_are_those_of_the_fitted_gpd(xi, sigma):
    # with u = 0 and all outcomes in the tail (k = n), VaR and ES are the GPD's own:
    # VaR = ppf(alpha); ES = (1/(1-alpha)) ∫_alpha^1 ppf(p) dp (Acerbi-Tasche), by quadrature
    fit = TailFit(threshold=0.0, n=1000, k=1000, xi=xi, sigma=sigma, loglik=0.0, scale=1.0,
                  excesses=np.ones(1))
    g = stats.genpareto(xi, scale=sigma)
    for alpha in (0.9, 0.99, 0.999):
        assert fit.var(alpha) == pytest.approx(g.ppf(alpha), rel=1e-12)
        es = integrate.quad(lambda s: g.isf(s), 0.0, 1.0 - alpha, limit=200)[0] / (1 - alpha)
        assert fit.es(alpha) == pytest.approx(es, rel=1e-7)
    with pytest.raises(ValueError, match="fewer than the worst share"):
        TailFit(0.0, 10_000, 5, xi, sigma, 0.0, 1.0, np.ones(1)).es(0.999)


def _brute_profile_deviance(tail: TailFit, alpha: float, es_value: float) -> float:
    """2 (l_max - max over ξ < 1 of l(ξ, σ(ξ, ES))) with scipy's GPD density."""
    y = tail.excesses * tail.scale
    ratio = tail.k / tail.n / (1 - alpha)

    def negll(xi):
        a = np.log(ratio) if abs(xi) < 1e-12 else np.expm1(xi * np.log(ratio)) / xi
        sigma = (es_value - tail.threshold) * (1 - xi) / (1 + a)
        ll = stats.genpareto.logpdf(y, xi, scale=sigma).sum()
        return -ll if np.isfinite(ll) else 1e30

    grid = np.linspace(-0.5, 0.999999, 3001)
    i = int(np.argmin([negll(v) for v in grid]))
    best = optimize.minimize_scalar(negll, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 3000)]),
                                    method="bounded", options={"xatol": 1e-10}).fun
    top = -stats.genpareto.logpdf(y, tail.xi, scale=tail.sigma).sum()
    return 2 * (best - top)


def test_profile_interval_ends_where_the_deviance_reaches_the_chi2_quantile():
    x = np.random.default_rng(5).pareto(1 / 0.6, 20_000)     # Lomax, ξ = 0.6
    tail = fit_tail(x, 0.999)
    lo, hi = tail.es_interval(0.999, 0.95)
    assert lo < tail.es(0.999) < hi < math.inf
    cut = stats.chi2.ppf(0.95, 1)
    assert _brute_profile_deviance(tail, 0.999, lo) == pytest.approx(cut, abs=2e-3)
    assert _brute_profile_deviance(tail, 0.999, hi) == pytest.approx(cut, abs=2e-3)
    assert _brute_profile_deviance(tail, 0.999, tail.es(0.999)) == pytest.approx(0, abs=1e-6)
    lo90, hi90 = tail.es_interval(0.999, 0.90)
    assert lo < lo90 < hi90 < hi                               # nested by level


def test_interval_is_unbounded_when_a_tail_with_no_mean_cannot_be_rejected():
    x = np.random.default_rng(0).pareto(1 / 0.9, 10_000)     # ξ = 0.9, k = 100
    tail = fit_tail(x, 0.999)
    lo, hi = tail.es_interval(0.999)
    assert 0.7 < tail.xi < 1 and lo < tail.es(0.999) < hi == math.inf
    cut = stats.chi2.ppf(0.95, 1)
    assert max(_brute_profile_deviance(tail, 0.999, f * tail.es(0.999)) for f in (10, 1e3)) < cut
    x = np.random.default_rng(4).pareto(1 / 0.9, 10_000)     # fitted ξ > 1: only a lower bound
    tail = fit_tail(x, 0.999)
    lo, hi = tail.es_interval(0.999)
    assert tail.xi > 1 and not tail.es_exists and math.isnan(tail.es(0.999))
    assert lo < hi == math.inf
    assert _brute_profile_deviance(tail, 0.999, lo) == pytest.approx(cut, abs=2e-3)


def test_light_and_heavy_tails_by_the_rule():
    rng = np.random.default_rng(2)
    assert fit_tail(rng.exponential(size=100_000), 0.999).light          # ξ = 0
    assert fit_tail(rng.normal(size=100_000), 0.999).light               # ξ = 0 (slowly)
    assert not fit_tail(rng.pareto(1 / 0.5, 100_000), 0.999).light      # ξ = 1/2
    assert not fit_tail(rng.lognormal(0, 2.5, 100_000), 0.999).light    # ξ = 0, but slowly
    d = np.where(rng.random(50_000) < 0.3, np.minimum(rng.pareto(1.5, 50_000), 1.0), 0.0)
    assert light_differences(d) is True                                 # bounded, an atom at 1
    assert light_differences(rng.standard_cauchy(50_000)) is False
    assert light_differences(np.r_[np.zeros(10_000), np.ones(50)]) is None  # 50 non-zero
