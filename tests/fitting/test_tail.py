"""Tail diagnostics (mean excess, Hill, GPD stability, threshold suggestion) and the spliced
severity, checked against closed forms and seeded samples with Monte Carlo tolerances."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from opwb.fitting.mle import fit_severity
from opwb.fitting.tail import (
    SplicedSeverity,
    gpd_stability,
    hill,
    mean_excess,
    splice,
    suggest_threshold,
)


def pareto(alpha, n, seed, xm=1.0):
    return xm * (1 - np.random.default_rng(seed).random(n)) ** (-1 / alpha)


def test_hill_recovers_the_pareto_index():
    alpha = 1.5
    x = pareto(alpha, 20000, seed=1, xm=1e7)
    h = hill(x, k=[500, 2000, 10000])
    for _, row in h.iterrows():                       # exact Pareto: unbiased for every k
        assert abs(row["xi"] - 1 / alpha) < 3 * row["se"]
    # an exact Pareto quantile sample: the Hill estimate at k is (1/k)Σ log((k+1−...)...) ≈ 1/α
    n = 10000
    q = ((n - np.arange(n)) / (n + 1)) ** (-1 / alpha)
    assert hill(q, k=[5000])["alpha"].iloc[0] == pytest.approx(alpha, rel=0.01)


def test_hill_by_its_formula_and_errors():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    h = hill(x, k=[2])
    assert h["xi"].iloc[0] == pytest.approx((np.log(16) + np.log(8)) / 2 - np.log(4))
    assert h["threshold"].iloc[0] == 4.0
    with pytest.raises(ValueError, match="k must lie in 1..4 for 5 losses"):
        hill(x, k=[5])
    with pytest.raises(ValueError, match="at least 3 positive, finite losses"):
        hill([1.0, -2.0, 3.0])


def test_mean_excess_of_a_gpd_is_linear():
    xi, sigma = 0.3, 1.0
    x = stats.genpareto(xi, scale=sigma).rvs(50000, random_state=np.random.default_rng(2))
    me = mean_excess(x, thresholds=[0.5, 1.0, 2.0])
    for _, r in me.iterrows():                 # e(u) = (σ + ξu)/(1 − ξ)
        assert abs(r["mean_excess"] - (sigma + xi * r["threshold"]) / (1 - xi)) < 3 * r["se"]
    default = mean_excess(x[:100])
    assert len(default) == 95 and default["n_exceed"].min() >= 5


def test_gpd_shape_and_modified_scale_are_stable_above_a_gpd_threshold():
    xi, sigma = 0.5, 2e7
    x = stats.genpareto(xi, scale=sigma).rvs(6000, random_state=np.random.default_rng(3))
    tab = gpd_stability(x, thresholds=[0.0, np.quantile(x, 0.5), np.quantile(x, 0.8)])
    for _, r in tab.iterrows():                # excess over u: GPD(ξ, σ + ξu) ⇒ σ* = σ
        assert abs(r["xi"] - xi) < 3 * r["se_xi"]
        assert abs(r["modified_scale"] - sigma) < 3 * r["se_modified_scale"]


def test_threshold_suggestion_with_reasoning():
    # lognormal body up to u0 = 1e8, exact GPD(ξ = 0.8) tail above it, 30% in the tail
    rng = np.random.default_rng(5)
    n, u0 = 3000, 1e8
    body = stats.lognorm(1.0, scale=3e7)
    lo, hi = body.cdf(1e7), body.cdf(u0)
    xb = body.ppf(lo + rng.random(int(0.7 * n)) * (hi - lo))
    xt = u0 + stats.genpareto(0.8, scale=5e7).rvs(int(0.3 * n), random_state=rng)
    x = np.concatenate([xb, xt])
    s = suggest_threshold(x)
    assert 0.6 * u0 <= s.threshold <= 3 * u0
    assert abs(s.xi - 0.8) < 3 * s.se_xi
    assert f"{s.threshold:,.0f}" in s.reasoning and "rejected" in s.reasoning
    assert "Chosen u" in s.reasoning and len(s.table) == 20
    # a pure GPD sample is stable everywhere: the lowest candidate (the median) is chosen
    g = stats.genpareto(0.5, scale=1.0).rvs(2000, random_state=np.random.default_rng(6))
    assert suggest_threshold(g).threshold == pytest.approx(np.quantile(g, 0.5))


@pytest.fixture(scope="module")
def losses():
    H = 1e7
    d = stats.lognorm(2.0, scale=np.exp(16.0))
    x = d.isf(np.random.default_rng(9).random(1500) * d.sf(H))
    return x, H


def test_spliced_severity_is_a_proper_distribution(losses):
    x, H = losses
    u = float(np.quantile(x, 0.8))
    sp = splice(x, u, threshold=H)
    assert sp.weight == pytest.approx(np.mean(x > u))
    assert float(sp.sf(H)) == 1.0 and float(sp.cdf(H)) == 0.0
    # continuous at u, monotone, cdf∘ppf = identity on both sides of the splice
    assert float(sp.cdf(u)) == pytest.approx(1 - sp.weight, abs=1e-12)
    assert float(sp.cdf(u * (1 + 1e-9))) == pytest.approx(1 - sp.weight, abs=1e-6)
    q = np.array([0.01, 0.3, 0.7, 0.79, 0.81, 0.99, 0.999])
    np.testing.assert_allclose(sp.cdf(sp.ppf(q)), q, atol=1e-10)
    grid = np.geomspace(H, 1e12, 400)
    assert np.all(np.diff(sp.cdf(grid)) >= 0)
    # the density is the derivative of the cdf: piecewise-constant body (exact sum over the
    # pieces) and the GPD tail (quadrature up to a far quantile)
    xs = np.concatenate([[H], np.sort(x[x <= u]), [u]])
    mids = 0.5 * (xs[1:] + xs[:-1])
    assert np.sum(sp.pdf(mids) * np.diff(xs)) == pytest.approx(1 - sp.weight, rel=1e-9)
    far = float(sp.ppf(0.999))
    tail = integrate.quad(lambda t: float(sp.pdf(t)), u, far, limit=200)[0]
    assert tail == pytest.approx(float(sp.cdf(far) - sp.cdf(u)), rel=1e-7)
    # the GPD tail is the MLE on the excesses
    gp = fit_severity(x[x > u] - u, "genpareto")
    assert sp.xi == gp.params["xi"] and sp.sigma == gp.params["sigma"]
    # seeded draws: share above u matches the weight (binomial 3-SE tolerance)
    d = sp.rvs(20000, random_state=1)
    se = np.sqrt(sp.weight * (1 - sp.weight) / d.size)
    assert abs(np.mean(d > u) - sp.weight) < 3 * se and d.min() > H
    assert sp.dist is sp


def test_spliced_severity_with_parametric_body(losses):
    x, H = losses
    u = float(np.quantile(x, 0.9))
    body = fit_severity(x, "lognormal", threshold=H)
    sp = splice(x, u, threshold=H, body=body)
    q = np.array([0.05, 0.5, 0.89, 0.95, 0.999])
    np.testing.assert_allclose(sp.cdf(sp.ppf(q)), q, atol=1e-10)
    # below u the body is the fitted lognormal renormalised to (H, u]
    t = float(np.quantile(x, 0.5))
    expected = (1 - sp.weight) * (body.cdf(t) - body.cdf(H)) / (body.cdf(u) - body.cdf(H))
    assert float(sp.cdf(t)) == pytest.approx(float(expected), rel=1e-10)
    assert integrate.quad(lambda s: float(sp.pdf(s)), H, u)[0] == pytest.approx(1 - sp.weight,
                                                                                rel=1e-6)


def test_splice_errors(losses):
    x, H = losses
    with pytest.raises(ValueError, match="u must lie between the threshold and the largest loss"):
        splice(x, x.max() * 2, threshold=H)
    with pytest.raises(ValueError, match="all losses must be at or above the threshold"):
        splice(x, 2e7, threshold=1e9)
    with pytest.raises(ValueError, match="body must be 'empirical' or a distribution"):
        splice(x, float(np.median(x)), threshold=H, body="kernel")
    with pytest.raises(ValueError, match="0 < weight <= 1"):
        SplicedSeverity(u=2.0, weight=1.5, xi=0.5, sigma=1.0, body_points=(1.0,))
