"""opwb.fitting.external: scaled external losses in a cell's severity fit, by the weighted
two-threshold likelihood ℓ_w(θ) = Σ_int log f(x)/S(u) + w Σ_ext log f(x)/S(H) (Frachot &
Roncalli 2002: each source truncated at its own reporting threshold)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import opwb
from opwb.data.errors import DataError
from opwb.fitting.external import (
    MixedSeverityFit,
    external_sample,
    fit_severity_mixed,
    mixed_loglik,
)
from opwb.fitting.families import get_family
from opwb.fitting.mle import fit_severity, truncated_loglik
from opwb.fitting.result import SeverityFit

LOGNORMAL = stats.lognorm(2.0, scale=np.exp(10.0))    # μ = 10, σ = 2 (DOMAIN.md's SLA check)
LOMAX = stats.lomax(1.5, scale=1e5)                   # ξ = 1/1.5


def sample_above(dist, level, size, rng):
    """``size`` draws of ``dist`` conditional on exceeding ``level`` (inverse transform)."""
    return dist.isf(rng.random(size) * dist.sf(level))


def two_sources(dist, u, H, n, m, seed):
    rng = np.random.default_rng(seed)
    return sample_above(dist, u, n, rng), sample_above(dist, H, m, rng)


# -- the rule at w = 0 and w = 1 ------------------------------------------------------------

@pytest.mark.parametrize("family", ["lognormal", "lomax", "weibull"])
def test_weight_zero_is_the_internal_only_fit_exactly(family):
    x, e = two_sources(LOGNORMAL, 2e4, 1e6, 40, 60, seed=5)
    m = fit_severity_mixed(x, e, family, 2e4, external_threshold=1e6, weight=0.0)
    alone = fit_severity(x, family, 2e4)
    assert m.fit.params == alone.params and m.fit.loglik == alone.loglik
    assert m.loglik == alone.loglik == m.loglik_internal
    assert m.fit.status == alone.status and m.internal.params == alone.params
    assert mixed_loglik(x, e, family, alone.params, 2e4, 1e6, 0.0) == \
        truncated_loglik(x, family, alone.params, 2e4)
    assert "not used (its weight is 0)" in m.fit.note and m.external_share == 0.0


def test_a_tiny_weight_stays_at_the_internal_fit():
    """The optimiser's path (w > 0) meets the w = 0 answer as w → 0."""
    x, e = two_sources(LOGNORMAL, 2e4, 1e6, 200, 60, seed=6)
    alone = fit_severity(x, "lognormal", 2e4)
    assert alone.status == "ok"
    m = fit_severity_mixed(x, e, "lognormal", 2e4, external_threshold=1e6, weight=1e-7)
    for p, v in alone.params.items():
        assert m.fit.params[p] == pytest.approx(v, rel=1e-4, abs=1e-4), p


@pytest.mark.parametrize("family", ["lognormal", "lomax", "weibull", "shifted_lognormal"])
def test_weight_one_is_the_pooled_two_threshold_likelihood(family):
    x, e = two_sources(LOGNORMAL, 2e4, 1e6, 30, 50, seed=7)
    fam = get_family(family)
    p = fit_severity(x, family, 2e4).params
    pooled = mixed_loglik(x, e, family, p, 2e4, 1e6, 1.0)
    if fam.shifted:    # the excess over u, truncated at H − u
        d = fam.dist(**p, loc=2e4)
        by_hand = float(np.sum(d.logpdf(x)) + np.sum(d.logpdf(e)) - e.size * d.logsf(1e6))
    else:
        by_hand = truncated_loglik(x, family, p, 2e4) + truncated_loglik(e, family, p, 1e6)
    assert pooled == pytest.approx(by_hand, rel=1e-10)
    half = mixed_loglik(x, e, family, p, 2e4, 1e6, 0.5)
    assert half == pytest.approx(truncated_loglik(x, family, p, 2e4)
                                 + 0.5 * (pooled - truncated_loglik(x, family, p, 2e4)),
                                 rel=1e-12)


# -- the optimum ---------------------------------------------------------------------------

@pytest.mark.parametrize("family, weight", [("lognormal", 1.0), ("lognormal", 0.3),
                                            ("lomax", 0.5), ("weibull", 1.0),
                                            ("shifted_lognormal", 0.7), ("burr12", 1.0)])
def test_the_returned_optimum_is_a_maximum(family, weight):
    x, e = two_sources(LOMAX, 5e4, 2e6, 25, 80, seed=11)
    m = fit_severity_mixed(x, e, family, 5e4, external_threshold=2e6, weight=weight)
    assert isinstance(m, MixedSeverityFit) and m.fit.status == "ok", m.fit.note
    best = mixed_loglik(x, e, family, m.fit.params, 5e4, 2e6, weight)
    # the reported log-likelihood is ℓ_w at the optimum, computed independently from raw KRW
    assert m.fit.loglik == pytest.approx(best, rel=1e-9) and m.loglik == pytest.approx(best)
    fam = get_family(family)
    rng = np.random.default_rng(0)
    for step in (1e-3, 1e-2):
        for _ in range(12):
            theta = fam.to_theta(m.fit.params) + step * rng.standard_normal(fam.n_params)
            other = dict(zip(fam.param_names, (float(v) for v in fam.to_natural(theta))))
            assert mixed_loglik(x, e, family, other, 5e4, 2e6, weight) <= best + 1e-9
    assert all(np.isfinite(v) and v > 0 for v in m.fit.se.values())
    assert m.fit.threshold == 5e4 and m.fit.n == x.size and m.n_external == e.size
    assert f"at weight w = {weight:g}" in m.fit.note and "H = 2,000,000 KRW" in m.fit.note
    assert m.fit.aic == pytest.approx(2 * fam.n_params - 2 * best)


# -- parameter recovery --------------------------------------------------------------------

def se_log_q(fit) -> float:
    """Delta-method standard error of log q̂, q̂ the 99.9% single-loss quantile above the
    threshold, from the fit's covariance (central differences in each natural parameter)."""
    fam = get_family(fit.family)
    grad = []
    for k in fam.param_names:
        h = 1e-5 * abs(fit.params[k])
        logq = []
        for sign in (1, -1):
            p = {**fit.params, k: fit.params[k] + sign * h}
            logq.append(np.log(SeverityFit(fit.family, p, fit.threshold)
                               .single_loss_quantile(0.999)))
        grad.append((logq[0] - logq[1]) / (2 * h))
    grad = np.array(grad)
    return float(np.sqrt(grad @ np.array(fit.cov) @ grad))


@pytest.mark.parametrize("dist, family, u, H, reps, seed", [
    (LOGNORMAL, "lognormal", 2e4, 1e6, 16, 2024),
    (LOMAX, "lomax", 5e4, 2e6, 10, 2025),
])
def test_few_internal_and_many_external_losses_recover_the_tail(dist, family, u, H, reps, seed):
    """12 internal losses above u and 150 external above H, all drawn from one known
    severity: over repeated draws the mixed fit's 99.9% single-loss quantile (above u) is
    unbiased within the Monte Carlo error of the mean, each draw's error is within 3.5 of its
    own delta-method standard errors, and it is far closer than the internal-only fit's
    (which is mostly degenerate with 12 losses)."""
    q_true = dist.isf(0.001 * dist.sf(u))
    rng = np.random.default_rng(seed)
    mixed, alone = [], []
    for _ in range(reps):
        x, e = sample_above(dist, u, 12, rng), sample_above(dist, H, 150, rng)
        m = fit_severity_mixed(x, e, family, u, external_threshold=H, weight=1.0)
        assert m.fit.status == "ok"
        mixed.append(np.log(m.fit.single_loss_quantile(0.999) / q_true))
        assert abs(mixed[-1]) < 3.5 * se_log_q(m.fit)
        with np.errstate(all="ignore"):
            q = m.internal.single_loss_quantile(0.999) if m.internal.status in ("ok", "edge") \
                else np.nan
        alone.append(np.log(q / q_true) if np.isfinite(q) and q > 0 else np.inf)
    mixed, alone = np.array(mixed), np.array(alone)
    assert abs(mixed.mean()) < 3 * mixed.std(ddof=1) / np.sqrt(reps)
    assert np.median(np.abs(mixed)) < np.median(np.abs(alone)) / 2


# -- inputs --------------------------------------------------------------------------------

def test_external_sample_selects_the_cell_above_h():
    ext = opwb.load_external_losses(opwb.data_path("external_losses.csv"))
    s = opwb.scale_external(ext, 7e12, 0.23, unsized="drop")
    cp = external_sample(s, "CPBP", 1e11)
    assert cp.size == 5 and (cp >= 1e11).all() and list(cp) == sorted(cp, reverse=True)
    assert external_sample(s, "EPWS", 1e11).size == 0
    assert external_sample(s, None, 0.0).size == len(s)


def test_no_external_loss_above_h_gives_the_internal_fit():
    x, _ = two_sources(LOGNORMAL, 2e4, 1e6, 40, 1, seed=3)
    m = fit_severity_mixed(x, [], "lognormal", 2e4, external_threshold=1e6, weight=0.5)
    assert m.fit.params == fit_severity(x, "lognormal", 2e4).params
    assert "none lies at or above H" in m.fit.note and m.n_external == 0


@pytest.mark.parametrize("kw, error, match", [
    ({"weight": 1.5}, ValueError, "weight must be"), ({"weight": -0.1}, ValueError, "weight"),
    ({"weight": True}, ValueError, "weight"), ({"external_threshold": 1e3}, ValueError,
                                              "at or above the collection threshold"),
    ({"external": [5e5, 2e6]}, DataError, "below H"), ({"external": [2e6, -1.0]}, DataError,
                                                       "positive and finite"),
    ({"family": "gandh"}, ValueError, "g-and-h"), ({"internal": [1e3, 5e4, 6e4]}, DataError,
                                                   "below the threshold"),
])
def test_bad_inputs(kw, error, match):
    x, e = two_sources(LOGNORMAL, 2e4, 1e6, 30, 20, seed=4)
    args = {"internal": x, "external": e, "family": "lognormal", "threshold": 2e4,
            "external_threshold": 1e6, "weight": 0.5, **kw}
    with pytest.raises(error, match=match):
        fit_severity_mixed(args.pop("internal"), args.pop("external"), args.pop("family"),
                           args.pop("threshold"), **args)


def test_summary_row():
    x, e = two_sources(LOGNORMAL, 2e4, 1e6, 40, 100, seed=8)
    m = fit_severity_mixed(x, e, "lognormal", 2e4, external_threshold=1e6, weight=0.5)
    row = m.summary()
    assert row["weight"] == 0.5 and row["external_threshold"] == 1e6
    assert row["external_share"] == pytest.approx(50 / 90)
    assert row["q999_mixed"] == pytest.approx(m.fit.single_loss_quantile(0.999))
    assert opwb.fit_severity_mixed is fit_severity_mixed
