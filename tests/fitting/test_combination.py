"""opwb.fitting.combination: Bayesian combination of internal data, external data and
expert opinion (Lambrigger, Shevchenko & Wüthrich 2007, "LSW"; Shevchenko & Wüthrich 2006,
"SW"), scenarios as expert opinions, and the closed forms of issue 23's acceptance."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import integrate, stats

from opwb.data.scenarios import ScenarioEstimate, ScenarioSet
from opwb.fitting.combination import (
    CombinedCell,
    ExpertMu,
    ExpertRate,
    GammaPrior,
    NormalPrior,
    combine_frequency,
    combine_severity,
    exceedance_rate,
    expert_opinions,
    scenario_mu,
    scenario_rate,
)

EOK = 1e8
H = 1e7  # the bundled case's collection threshold, KRW


# -- the published example ------------------------------------------------------------------

def test_sw_gamma_prior_elicitation_reproduces_the_printed_parameters():
    """Shevchenko & Wüthrich (2006), J. Operational Risk 1(3) 3–26, the Poisson frequency
    with a gamma prior: the expert says the rate is about 0.5 a year and lies in
    [0.25, 0.75] with probability 2/3, i.e. E[λ] = 0.5, Pr[0.25 ≤ λ ≤ 0.75] = 2/3, which
    the paper solves to the printed α ≈ 3.407, β ≈ 0.147 (shape, scale). The same
    elicitation is used for the external-data prior of LSW's Section 3. (Section and
    equation numbers could not be checked against the full text: only the first page of
    the paper was accessible when this test was written.)"""
    prior = GammaPrior.from_interval(0.5, 0.25, 0.75, 2 / 3)
    assert round(prior.shape, 3) == 3.407
    assert round(prior.scale, 3) == 0.147
    assert prior.mean == pytest.approx(0.5, rel=1e-12)
    d = prior.dist
    assert d.cdf(0.75) - d.cdf(0.25) == pytest.approx(2 / 3, abs=1e-10)


def test_gamma_prior_from_mean_and_cv():
    prior = GammaPrior.from_mean_cv(0.5, 0.5)
    assert (prior.shape, prior.scale) == pytest.approx((4.0, 0.125))
    with pytest.raises(ValueError, match="low < mean < high"):
        GammaPrior.from_interval(0.5, 0.6, 0.75, 2 / 3)


# -- frequency ------------------------------------------------------------------------------

def test_conjugate_poisson_gamma_matches_its_exact_posterior():
    """No expert: Γ(α₀ + ΣN, β₀/(1 + β₀Σe)) exactly, its mean the credibility average
    w·N̄ + (1 − w)·α₀β₀ with w = Σe/(Σe + 1/β₀) (LSW Section 3; Bühlmann)."""
    prior = GammaPrior(3.407, 0.147)
    counts, exposure = [0, 2, 1, 0, 3, 1], [1, 1, 1, 1, 1, 0.5]
    post = combine_frequency(counts, exposure, prior=prior)
    T, n = 5.5, 7
    exact = stats.gamma(prior.shape + n, scale=prior.scale / (1 + prior.scale * T))
    assert post.kind == "gamma"
    assert post.dist.args[0] == pytest.approx(exact.args[0], rel=1e-14)
    assert post.dist.kwds["scale"] == pytest.approx(exact.kwds["scale"], rel=1e-14)
    assert (post.mean, post.sd) == pytest.approx((exact.mean(), exact.std()), rel=1e-12)
    w = T / (T + 1 / prior.scale)
    assert post.weights.internal == pytest.approx(w, rel=1e-12)
    assert post.weights.external == pytest.approx(1 - w, rel=1e-12)
    assert post.weights.expert == 0
    assert post.credibility_mean == pytest.approx(w * n / T + (1 - w) * prior.mean, rel=1e-12)
    assert post.credibility_mean == pytest.approx(post.mean, rel=1e-12)
    assert post.mle == pytest.approx(n / T)


def test_three_source_posterior_is_the_gig_of_lsw_section_3():
    """Prior Γ(α₀, β₀), counts, expert ϑ | Λ ~ Γ(ξ, Λ/ξ): the posterior ∝
    λ^(α₀+ΣN−ξ−1) exp(−λ(1/β₀ + K) − ξϑ/λ); checked against quadrature of that density."""
    prior, expert = GammaPrior(3.407, 0.147), ExpertRate(0.7, 4.0)
    counts = [0, 1, 0, 0, 1, 2, 0, 1]
    post = combine_frequency(counts, prior=prior, experts=[expert])
    assert post.kind == "geninvgauss"

    def kernel(lam):
        return lam ** (prior.shape + sum(counts) - expert.xi - 1) * math.exp(
            -lam * (1 / prior.scale + len(counts)) - expert.xi * expert.value / lam)
    def quad(f):   # the density is negligible beyond 10 (posterior mean ≈ 0.62, sd ≈ 0.2)
        return integrate.quad(f, 0, 10, epsabs=0, epsrel=1e-13, limit=200)[0]
    z = quad(kernel)
    m1, m2 = quad(lambda x: x * kernel(x)) / z, quad(lambda x: x * x * kernel(x)) / z
    assert post.mean == pytest.approx(m1, rel=1e-8)
    assert post.sd == pytest.approx(math.sqrt(m2 - m1 * m1), rel=1e-7)
    assert post.dist.pdf(0.6) == pytest.approx(kernel(0.6) / z, rel=1e-8)
    w = post.weights
    assert w.external + w.expert + w.internal == pytest.approx(1.0)
    assert w.expert == pytest.approx((4 / post.mean) / (1 / 0.147 + 4 / post.mean + 8))
    # the linear credibility form approximates the exact GIG mean
    assert post.credibility_mean == pytest.approx(post.mean, rel=0.05)


def test_a_sure_expert_dominates_and_a_vague_one_hardly_counts():
    prior = GammaPrior(3.407, 0.147)
    sure = combine_frequency([0, 0, 1], prior=prior, experts=[ExpertRate(2.0, 1e7)])
    assert sure.mean == pytest.approx(2.0, rel=1e-3)
    assert sure.weights.expert > 0.999
    vague = combine_frequency([0, 0, 1], prior=prior, experts=[ExpertRate(2.0, 1e-6)])
    plain = combine_frequency([0, 0, 1], prior=prior)
    assert vague.mean == pytest.approx(plain.mean, rel=1e-4)


def test_many_years_and_a_weak_prior_converge_to_the_data_mle():
    """Acceptance: with many internal losses and weak prior and scenario the posterior mean
    is the data's MLE (well within its standard error), and the data's weight → 1."""
    rng = np.random.default_rng(23)
    lam, years = 7.0, 2000
    counts = rng.poisson(lam, years)
    se = math.sqrt(lam / years)
    weak = GammaPrior.from_mean_cv(20.0, 3.0)
    post = combine_frequency(counts, prior=weak, experts=[ExpertRate(15.0, 0.5)])
    assert abs(post.mean - post.mle) < 0.05 * se
    assert abs(post.mle - lam) < 4 * se
    assert post.weights.internal > 0.999


def test_frequency_inputs_are_checked():
    with pytest.raises(ValueError, match="whole numbers"):
        combine_frequency([1, -1], prior=GammaPrior(1, 1))
    with pytest.raises(ValueError, match="one positive number of years"):
        combine_frequency([1, 2], [1.0], prior=GammaPrior(1, 1))
    with pytest.raises(ValueError, match="no source"):
        combine_frequency([])
    with pytest.raises(ValueError, match="Σξ > 1"):
        combine_frequency([], experts=[ExpertRate(1.0, 0.5)])


# -- severity -------------------------------------------------------------------------------

def test_lognormal_normal_credibility_weights_of_lsw_section_4():
    """Δ ~ N(μ₀, σ₀²), ϑ | Δ ~ N(Δ, σ_ϑ²), ln X | Δ ~ N(Δ, σ²): the posterior is normal,
    precision 1/σ₀² + 1/σ_ϑ² + K/σ², mean ω₁μ₀ + ω₂ϑ + ω₃·mean(ln X)."""
    rng = np.random.default_rng(7)
    sigma, prior, expert = 2.0, NormalPrior(15.0, 0.5), ExpertMu(16.0, 0.8)
    x = np.exp(rng.normal(15.5, sigma, 12))
    post = combine_severity(x, sigma=sigma, prior=prior, experts=[expert])
    p1, p2, p3 = 1 / 0.5**2, 1 / 0.8**2, 12 / sigma**2
    c = 1 / (p1 + p2 + p3)
    w1, w2, w3 = c * p1, c * p2, c * p3
    assert (post.weights.external, post.weights.expert, post.weights.internal) == \
        pytest.approx((w1, w2, w3), rel=1e-12)
    expected = w1 * 15.0 + w2 * 16.0 + w3 * np.log(x).mean()
    assert post.mean == pytest.approx(expected, rel=1e-12)
    assert post.credibility_mean == pytest.approx(expected, rel=1e-12)
    assert post.sd == pytest.approx(math.sqrt(c), rel=1e-12)
    assert post.severity().median() == pytest.approx(math.exp(post.mean))


def test_truncated_grid_posterior_agrees_with_the_conjugate_one_when_truncation_is_void():
    rng = np.random.default_rng(11)
    sigma = 1.5
    x = np.exp(rng.normal(17.0, sigma, 40))
    kw = dict(sigma=sigma, prior=NormalPrior(16.0, 1.0), experts=[ExpertMu(17.5, 1.0)])
    exact = combine_severity(x, **kw)
    grid = combine_severity(x, threshold=1.0, **kw)          # 1 KRW: nothing is cut off
    assert grid.mean == pytest.approx(exact.mean, abs=1e-6)
    assert grid.sd == pytest.approx(exact.sd, rel=1e-4)
    assert grid.weights.internal == pytest.approx(exact.weights.internal, rel=1e-4)


def test_many_losses_and_a_weak_scenario_converge_to_the_truncated_mle():
    """Acceptance: the severity's posterior mean goes to the data's (left-truncated) MLE,
    within a small part of its standard error, and the data's weight → 1."""
    rng = np.random.default_rng(2007)
    mu, sigma = 15.0, 2.0
    x = np.exp(rng.normal(mu, sigma, 40_000))
    x = x[x >= H]
    weak = ExpertMu.from_scenario(300 * EOK, 10, rate=x.size / 5, sigma=sigma, threshold=H,
                                  sd=3.0)
    post = combine_severity(x, sigma=sigma, threshold=H, prior=NormalPrior(18.0, 10.0),
                            experts=[weak])
    se = post.sd
    assert abs(post.mean - post.mle) < 0.05 * se
    assert abs(post.mle - mu) < 4 * se
    assert post.weights.internal > 0.99
    plain = combine_severity(np.exp(rng.normal(mu, sigma, 5000)), sigma=sigma,
                             prior=NormalPrior(0.0, 100.0), experts=[ExpertMu(20.0, 5.0)])
    assert abs(plain.mean - plain.mle) < 0.05 * sigma / math.sqrt(5000)


# -- scenarios ------------------------------------------------------------------------------

@pytest.mark.parametrize("threshold", [0.0, H])
def test_a_scenario_alone_gives_its_exceedance_rate(threshold):
    """Acceptance: with the scenario as the only source of the severity, the combined
    model's annual rate of losses ≥ X is 1/N."""
    X, N, rate, sigma = 300 * EOK, 25.0, 6.0, 2.2
    expert = ExpertMu.from_scenario(X, N, rate=rate, sigma=sigma, threshold=threshold, sd=0.7)
    sev = combine_severity(sigma=sigma, experts=[expert], threshold=threshold)
    assert sev.weights.expert == pytest.approx(1.0)
    cell = CombinedCell("IF", rate, sev)
    assert cell.exceedance_rate(X) == pytest.approx(1 / N, rel=1e-9)
    assert cell.return_period(X) == pytest.approx(N, rel=1e-9)


def test_a_scenario_as_a_frequency_opinion():
    """ϑ = 1/(N·S_H(X)): the rate at which the given severity puts one loss ≥ X in N
    years; alone (flat prior) the posterior is inverse gamma, mean ξϑ/(ξ − 2), → ϑ for a
    sure expert, and the combined exceedance rate → 1/N."""
    sev = stats.lognorm(2.0, scale=math.exp(15.0))
    X, N = 100 * EOK, 20.0
    theta = scenario_rate(X, N, severity=sev, threshold=H)
    assert theta * sev.sf(X) / sev.sf(H) == pytest.approx(1 / N, rel=1e-12)
    post = combine_frequency(experts=[ExpertRate(theta, 6.0)])
    assert post.kind == "invgamma"
    assert post.mean == pytest.approx(6 * theta / 4, rel=1e-12)
    sure = combine_frequency(experts=[ExpertRate(theta, 1e8)])
    assert sure.mean == pytest.approx(theta, rel=1e-6)
    assert exceedance_rate(X, rate=sure.mean, mu=15.0, sigma=2.0, threshold=H) == \
        pytest.approx(1 / N, rel=1e-6)


def test_an_impossible_scenario_is_refused():
    with pytest.raises(ValueError, match="N·rate > 1"):
        scenario_mu(300 * EOK, 10, rate=0.05, sigma=2.0, threshold=H)
    with pytest.raises(ValueError, match="at least 1 year"):
        scenario_mu(300 * EOK, 0.5, rate=5, sigma=2.0)
    with pytest.raises(ValueError, match="above the threshold"):
        scenario_rate(5e6, 10, severity=stats.lognorm(2.0, scale=1e7), threshold=H)


def test_expert_opinions_from_a_scenario_set():
    day = dt.date(2007, 3, 2)
    scenarios = ScenarioSet((
        ScenarioEstimate("IF", "exceedance", 300 * EOK, 10.0, "김위험", day, where="s.csv, line 2"),
        ScenarioEstimate("IF", "exceedance", 1000 * EOK, 50.0, "이감사", day),
        ScenarioEstimate("IF", "worst", 1500 * EOK, None, "김위험", day),
        ScenarioEstimate("EF", "exceedance", 50 * EOK, 5.0, "박보안", day),
    ), "s.csv")
    mus = expert_opinions(scenarios, "IF", rate=4.0, sigma=2.0, sd=0.5, threshold=H)
    assert len(mus) == 2 and mus[0].label == "김위험, 2007-03-02 (s.csv, line 2)"
    for m, (x, n) in zip(mus, [(300 * EOK, 10.0), (1000 * EOK, 50.0)]):
        assert exceedance_rate(x, rate=4.0, mu=m.value, sigma=2.0, threshold=H) == \
            pytest.approx(1 / n, rel=1e-9)
    rates = expert_opinions(scenarios, "EF", severity=stats.lognorm(2.0, scale=1e8),
                            threshold=H, xi=4.0)
    assert len(rates) == 1 and isinstance(rates[0], ExpertRate)
    with pytest.raises(ValueError, match="give rate, sigma and sd"):
        expert_opinions(scenarios, "IF", rate=4.0)
    # two scenarios and the data: every source's weight is shown and they add up
    rng = np.random.default_rng(5)
    x = np.exp(rng.normal(16.0, 2.0, 200))
    post = combine_severity(x[x >= H], sigma=2.0, threshold=H, prior=NormalPrior(16.0, 1.0),
                            experts=mus)
    assert len(post.weights.per_expert) == 2
    assert sum(post.weights.as_dict().values()) == pytest.approx(1.0)
    assert all(0 < v < 1 for v in post.weights.as_dict().values())
