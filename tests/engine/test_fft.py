"""FFT compound distribution and single-loss approximation against closed forms and Monte Carlo."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from opwb.engine.crosscheck import cross_method_table, sla_var
from opwb.engine.fft import compound_fft
from opwb.engine.riskmeasures import es_with_se, var_interval
from opwb.engine.simulate import CellModel, annual_retained, simulate_losses
from opwb.insurance.policy import Policy


def _lev(u, mu, sigma):
    """Lognormal limited expected value E[min(X, u)] (closed form)."""
    z = (np.log(u) - mu) / sigma
    return np.exp(mu + sigma ** 2 / 2) * stats.norm.cdf(z - sigma) + u * stats.norm.sf(z)


def test_sla_golden_value():
    # DOMAIN.md: lognormal(mu=10, sigma=2), lambda=25, alpha=0.999 gives VaR ~ 5.875e7
    sev = stats.lognorm(2.0, scale=np.exp(10.0))
    value = sla_var(25, sev, 0.999)
    assert value == pytest.approx(5.875e7, rel=1e-3)
    assert value == pytest.approx(np.exp(10 + 2 * stats.norm.ppf(1 - 0.001 / 25)), rel=1e-12)
    assert sla_var(stats.poisson(25), sev, 0.999) == pytest.approx(value, rel=1e-12)


def test_sla_uses_the_severity_above_the_threshold():
    sev, h = stats.lognorm(2.0, scale=np.exp(10.0)), 1e5
    expected = sev.isf(0.001 / 25 * sev.sf(h))
    assert sla_var(25, sev, 0.999, threshold=h) == pytest.approx(expected, rel=1e-12)


def test_compound_geometric_exponential_matches_its_closed_form():
    # N ~ nbinom(1, p) (P(N=k) = p (1-p)^k), X ~ Exp(rate b): P(S > x) = (1-p) exp(-p b x)
    p, b = 0.2, 1 / 1e6
    dist = compound_fft(stats.nbinom(1, p), stats.expon(scale=1 / b), alpha=0.9999)
    for alpha in (0.9, 0.99, 0.999, 0.9999):
        exact = np.log((1 - p) / (1 - alpha)) / (p * b)
        assert dist.var(alpha) == pytest.approx(exact, abs=2 * dist.h)
        assert dist.es(alpha) == pytest.approx(exact + 1 / (p * b), rel=1e-3)
    assert abs(dist.discretisation_error) < 1e-3
    x = np.array([0.0, 1e6, 5e6, 2e7])
    np.testing.assert_allclose(dist.cdf(x), 1 - (1 - p) * np.exp(-p * b * x), atol=2e-3)


def test_compound_poisson_exponential_cdf_matches_the_gamma_series():
    lam, scale = 5.0, 2e6
    dist = compound_fft(lam, stats.expon(scale=scale))
    x = np.array([1e6, 5e6, 1e7, 2e7, 4e7])
    k = np.arange(1, 80)
    exact = np.exp(-lam) + (stats.poisson.pmf(k, lam)[:, None]
                            * stats.gamma.cdf(x[None, :], k[:, None], scale=scale)).sum(axis=0)
    np.testing.assert_allclose(dist.cdf(x), exact, atol=1e-3)
    var_s = float(dist.pmf @ (dist.x - dist.mean()) ** 2)
    assert var_s == pytest.approx(lam * 2 * scale ** 2, rel=1e-3)       # E[N] E[X^2]


def test_lognormal_cell_mean_gross_and_net_against_closed_forms():
    lam, mu, sigma, d, lim = 25.0, 16.0, 2.0, 5e8, 5e9
    dist = compound_fft(stats.poisson(lam), stats.lognorm(sigma, scale=np.exp(mu)),
                        Policy(deductible=d, limit=lim))
    exact_gross = lam * np.exp(mu + sigma ** 2 / 2)
    exact_net = exact_gross - lam * (_lev(d + lim, mu, sigma) - _lev(d, mu, sigma))
    assert dist.exact_mean == pytest.approx(exact_gross, rel=1e-4)
    assert dist.net.exact_mean == pytest.approx(exact_net, rel=1e-4)
    assert abs(dist.discretisation_error) < 0.005 and abs(dist.net.discretisation_error) < 0.005
    assert dist.mean() == pytest.approx(exact_gross, rel=0.005)
    assert dist.net.mean() == pytest.approx(exact_net, rel=0.005)
    assert dist.gross is dist and dist.net.kind == "net"
    for alpha in (0.9, 0.99, 0.999):
        assert dist.net.var(alpha) <= dist.var(alpha) <= dist.es(alpha)
        assert dist.net.var(alpha) <= dist.net.es(alpha)


def test_zero_limit_layer_leaves_the_distribution_unchanged():
    dist = compound_fft(10, stats.lognorm(1.0, scale=1e7), Policy(deductible=0.0, limit=0.0))
    np.testing.assert_allclose(dist.net.pmf, dist.pmf, atol=1e-12)


@pytest.fixture(scope="module")
def lognormal_cell():
    """Poisson(25) x lognormal(mu=16, sigma=2) above a 10M threshold, simulated 200,000 years."""
    cell = CellModel(stats.poisson(25.0), stats.lognorm(2.0, scale=np.exp(16.0)), threshold=1e7)
    sim = simulate_losses({"IF": cell}, 200_000, seed=2024, keep_events_above=5e8)
    return cell, sim


def test_fft_and_monte_carlo_var_agree_gross_and_net(lognormal_cell):
    cell, sim = lognormal_cell
    policy = Policy(deductible=5e8, limit=5e9)
    dist = compound_fft(cell.frequency, cell.severity, policy, threshold=cell.threshold)
    for basis, fft_dist, mc in (("gross", dist, sim.annual_gross["IF"]),
                                ("net", dist.net, annual_retained(sim, "IF", policy))):
        lo, hi = var_interval(mc, 0.999, level=0.99)         # order-statistic interval
        assert lo <= fft_dist.var(0.999) <= hi, basis
        e, e_se = es_with_se(mc, 0.999)
        assert abs(fft_dist.es(0.999) - e) <= 4 * e_se, basis
        assert fft_dist.var(0.999) > policy.limit              # the tail lies above the layer


def test_cross_method_table(lognormal_cell):
    cell, sim = lognormal_cell
    table = cross_method_table({"IF": cell}, sim, 0.999,
                               policies={"IF": Policy(deductible=5e8, limit=5e9)}, level=0.99)
    assert list(table["basis"]) == ["gross", "net"]
    assert table["fft_in_interval"].all()
    gross = table.iloc[0]
    assert gross["sla_var"] == pytest.approx(sla_var(25, cell.severity, 0.999, threshold=1e7))
    assert gross["mc_var_low"] <= gross["mc_var"] <= gross["mc_var_high"]


def test_infinite_mean_severity_still_gives_var():
    # GPD shape 1.2 has no mean: the discretisation error is undefined (NaN), ES does not
    # exist (refused, NaN in measures), and VaR is close to the single-loss approximation
    # (exact in the limit for such tails).
    sev = stats.genpareto(1.2, loc=1e7, scale=5e7)
    dist = compound_fft(stats.poisson(10), sev, threshold=1e7)
    assert np.isnan(dist.discretisation_error) and not dist.es_exists
    with pytest.raises(ValueError, match="expected shortfall does not exist"):
        dist.es(0.999)
    m = dist.measures(0.999)
    assert np.isnan(m.es) and not m.es_exists and m.var == dist.var(0.999)
    assert dist.var(0.999) == pytest.approx(sla_var(10, sev, 0.999, threshold=1e7), rel=0.05)


def test_a_grid_that_cannot_hold_the_tail_is_refused():
    freq, sev = stats.poisson(25), stats.lognorm(2.0, scale=np.exp(16.0))
    with pytest.raises(ValueError, match="cannot hold the tail at alpha=0.999"):
        compound_fft(freq, sev, h=1e5, n_points=2 ** 16)
    dist = compound_fft(freq, sev, alpha=0.99)
    with pytest.raises(ValueError, match=r"cannot hold the tail at alpha=0.9999.*alpha=0.9999\)"):
        dist.var(0.9999)


def test_bad_inputs_raise_clear_errors():
    sev = stats.lognorm(1.0)
    with pytest.raises(ValueError, match="alpha must be a probability level strictly between 0 and 1"):
        compound_fft(5, sev, alpha=1.0)
    with pytest.raises(ValueError, match="alpha must be a probability level strictly between 0 and 1"):
        compound_fft(5, sev).var(0.0)
    with pytest.raises(ValueError, match="alpha must be a probability level strictly between 0 and 1"):
        sla_var(5, sev, 1.5)
    with pytest.raises(ValueError, match="a percentage. Use 0.999"):
        compound_fft(5, sev, alpha=99.9)
    with pytest.raises(ValueError, match="a percentage. Use 0.999"):
        compound_fft(5, sev).es(99.9)
    with pytest.raises(ValueError, match="severity_cap must be above the threshold"):
        compound_fft(5, sev, threshold=1e6, severity_cap=1e5)
    with pytest.raises(TypeError, match="Poisson, negative binomial and binomial"):
        compound_fft(stats.geom(0.3), sev)
    with pytest.raises(ValueError, match="expected annual count must be > 0"):
        compound_fft(0.0, sev)
    with pytest.raises(ValueError, match="h must be a finite grid span > 0"):
        compound_fft(5, sev, h=-1.0)

    class Broken:
        def recover(self, x):
            return 2.0 * np.asarray(x)
    with pytest.raises(ValueError, match="0 <= recovery <= loss"):
        compound_fft(5, sev, Broken())


def test_policy_terms_the_fft_cannot_apply_are_refused():
    """Issue 11, finding 6: compound_fft used to ignore a policy's aggregate limit and
    coverage share without a word."""
    from scipy import stats

    import opwb
    sev = stats.lognorm(2.0, scale=np.exp(16.0))
    with pytest.raises(ValueError, match="annual aggregate limit .* the FFT cannot apply"):
        opwb.compound_fft(25, sev, opwb.Policy(3e9, 4e10, aggregate_limit=8e10))
    bond = opwb.Policy(3e9, 4e10, cover={"IF": 0.9, "EF": 1.0})
    with pytest.raises(ValueError, match="pass event_type="):
        opwb.compound_fft(25, sev, bond)
    with pytest.raises(ValueError, match="covers 90% of IF losses"):
        opwb.compound_fft(25, sev, bond, event_type="IF")
    full = opwb.compound_fft(25, sev, bond, event_type="EF")
    plain = opwb.compound_fft(25, sev, opwb.Policy(3e9, 4e10))
    assert full.net.var(0.999) == plain.net.var(0.999)
