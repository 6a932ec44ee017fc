"""Left-truncated MLE: parameter recovery for every family, golden likelihood, save/load,
conditional helpers, frequency fits, and a clear error for every bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opwb.errors import DataError
from opwb.fitting import (SeverityFit, annual_counts, dispersion_test, fit_frequency,
                          fit_severity, implied_all_frequency, truncated_loglik)
from opwb.severity import SEVERITY_FAMILIES

from test_severity import PARAMS


def truncated_sample(name, n_total=4000, seed=1):
    """Seeded sample of ``n_total`` losses, truncated at the true median (≈ half removed)."""
    d = SEVERITY_FAMILIES[name].dist(**PARAMS[name])
    H = float(d.ppf(0.5))
    x = d.rvs(size=n_total, random_state=np.random.default_rng(seed))
    return x[x > H], H


@pytest.fixture(scope="module")
def lognormal_data():
    return truncated_sample("lognormal")


@pytest.mark.parametrize("name", list(PARAMS))
def test_truncated_mle_recovers_every_family_within_3_se(name):
    x, H = truncated_sample(name)
    assert 1900 < x.size < 2100
    fit = fit_severity(x, name, threshold=H)
    assert fit.family == name and fit.threshold == H and fit.n == x.size
    for p, true in PARAMS[name].items():
        se = fit.se[p]
        assert np.isfinite(se) and se > 0, (p, se)
        assert abs(fit.params[p] - true) < 3 * se, (p, fit.params[p], true, se)


def test_naive_untruncated_fit_is_biased(lognormal_data):
    x, H = lognormal_data
    naive = fit_severity(x, "lognormal")                 # ignores the threshold
    right = fit_severity(x, "lognormal", threshold=H)
    mu, sigma = PARAMS["lognormal"]["mu"], PARAMS["lognormal"]["sigma"]
    assert naive.params["mu"] - mu > 5 * naive.se["mu"]          # shifted up
    assert sigma - naive.params["sigma"] > 5 * naive.se["sigma"]  # tail too thin
    assert abs(right.params["mu"] - mu) < 3 * right.se["mu"]
    # the naive 1-in-1000 loss is too small
    true_q = float(SEVERITY_FAMILIES["lognormal"].dist(mu=mu, sigma=sigma).isf(
        0.001 * stats.norm.sf((math.log(H) - mu) / sigma)))
    assert naive.single_loss_quantile() < 0.7 * true_q < right.single_loss_quantile()


def test_lognormal_truncated_loglik_golden_value():
    x, H, mu, sigma = [2.0, 5.0, 30.0], 1.5, 1.0, 1.2
    by_hand = sum(math.log(stats.norm.pdf((math.log(v) - mu) / sigma) / (sigma * v)) for v in x)
    by_hand -= 3 * math.log(1 - stats.norm.cdf((math.log(H) - mu) / sigma))
    assert truncated_loglik(x, "lognormal", {"mu": mu, "sigma": sigma}, H) == \
        pytest.approx(by_hand, rel=1e-12)
    fit = fit_severity(x, "lognormal", threshold=H)
    assert fit.loglik == pytest.approx(truncated_loglik(x, "lognormal", fit.params, H), rel=1e-10)
    for p in ("mu", "sigma"):                     # a maximum: nudging any parameter lowers it
        for s in (-1, 1):
            moved = dict(fit.params, **{p: fit.params[p] + s * 1e-3})
            assert truncated_loglik(x, "lognormal", moved, H) < fit.loglik
    assert fit.aic == pytest.approx(4 - 2 * fit.loglik)
    assert fit.bic == pytest.approx(2 * math.log(3) - 2 * fit.loglik)


def test_standard_errors_match_the_closed_form_for_untruncated_lognormal():
    x = np.random.default_rng(7).lognormal(3.0, 1.5, 1000)
    fit = fit_severity(x, "lognormal")
    s = np.std(np.log(x))                      # MLE of sigma; se(mu)=s/√n, se(s)=s/√(2n)
    assert fit.params["sigma"] == pytest.approx(s, rel=1e-6)
    assert fit.se["mu"] == pytest.approx(s / math.sqrt(1000), rel=1e-3)
    assert fit.se["sigma"] == pytest.approx(s / math.sqrt(2000), rel=1e-3)


def test_save_load_roundtrip_is_human_readable_json(tmp_path, lognormal_data):
    x, H = lognormal_data
    fit = fit_severity(x, "lognormal", threshold=H)
    path = fit.save(tmp_path / "fit.json")
    d = json.loads(path.read_text(encoding="utf-8"))
    assert d["family"] == "lognormal" and d["threshold"] == H and set(d["params"]) == {"mu", "sigma"}
    back = SeverityFit.load(path)
    assert back == fit
    assert float(back.dist.ppf(0.9)) == float(fit.dist.ppf(0.9))


def test_conditional_helpers(lognormal_data):
    x, H = lognormal_data
    fit = fit_severity(x, "lognormal", threshold=H)
    q = np.array([0.0, 0.1, 0.5, 0.999])
    xq = fit.ppf_conditional(q)
    assert xq[0] == pytest.approx(H, rel=1e-9)
    np.testing.assert_allclose(fit.cdf_conditional(xq), q, atol=1e-12)
    assert fit.sf_threshold == pytest.approx(float(fit.dist.sf(H)))
    draws = fit.rvs_conditional(5000, rng=11)
    np.testing.assert_array_equal(draws, fit.rvs_conditional(5000, rng=11))
    assert draws.min() > H
    # the draws follow the conditional distribution (KS at the 1% level, seeded)
    assert stats.kstest(draws, fit.cdf_conditional).pvalue > 0.01
    # untruncated vocabulary is delegated to .dist
    assert float(fit.ppf(0.3)) == float(fit.dist.ppf(0.3))


@pytest.mark.parametrize("losses, threshold, message", [
    ([5.0, 6.0], 0.0, "family 'lognormal' has 2 parameters but only 2 loss(es)"),
    ([5.0, 6.0, 1.0, 7.0], 2.0, "1 loss(es) at or below the threshold 2"),
    ([5.0, -6.0, 7.0, 8.0], 0.0, "losses must be positive and finite: 1 value(s) are not, first at position 1"),
    ([5.0, np.nan, 7.0, 8.0], 0.0, "losses must be positive and finite: 1 value(s) are not, first at position 1"),
    ([5.0, np.inf, 7.0, 8.0], 0.0, "positive and finite"),
    ([5.0, 0.0, 7.0, 8.0], 0.0, "positive and finite"),
])
def test_bad_data_gets_a_clear_data_error(losses, threshold, message):
    with pytest.raises(DataError) as err:
        fit_severity(losses, "lognormal", threshold=threshold)
    assert message in str(err.value)


def test_bad_arguments_get_clear_errors():
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        fit_severity([1.0, 2.0, 3.0], "lognormal", threshold=-1.0)
    with pytest.raises(ValueError, match="unknown severity family 'normal'"):
        fit_severity([1.0, 2.0, 3.0], "normal")
    with pytest.raises(DataError, match="'loggamma' is supported on x > 1"):
        fit_severity([0.5, 2.0, 3.0, 4.0], "loggamma")


def test_non_converged_fit_names_the_family_and_the_reason():
    # an exact Pareto tail above H: Burr XII only approaches it as c → ∞, d → 0 (c·d fixed)
    H = 1e7
    x = H * (1 - np.random.default_rng(1).random(300)) ** (-1 / 0.9)
    with pytest.raises(ValueError) as err:
        fit_severity(x, "burr12", threshold=H)
    msg = str(err.value)
    assert msg.startswith("fit of family 'burr12' did not converge (n=300, "
                          "threshold=10,000,000)")
    assert "c → ∞, d → 0" in msg and "edge of the parameter space" in msg


@pytest.mark.parametrize("family, edge", [("gamma", "shape"), ("weibull", "scale")])
def test_single_parameter_at_the_edge_is_held_there_and_reported(family, edge):
    # exact Pareto(α = 1/0.9) above H: a truncated gamma (shape → 0) or Weibull (scale → 0)
    # only approaches that tail in a limit; the fit holds the runaway parameter at the edge
    H = 1e7
    x = H * (1 - np.random.default_rng(0).random(300)) ** (-0.9)
    fit = fit_severity(x, family, threshold=H)
    assert fit.at_edge == (edge,) and "edge of the parameter space" in fit.note
    assert np.isnan(fit.se[edge]) and all(np.isfinite(v) for k, v in fit.se.items() if k != edge)
    assert fit.loglik == pytest.approx(truncated_loglik(x, family, fit.params, H), rel=1e-10)
    # the free parameter is at its maximum given the held one
    other = next(p for p in fit.params if p != edge)
    for s in (-1, 1):
        moved = dict(fit.params, **{other: fit.params[other] * (1 + s * 1e-3)})
        assert truncated_loglik(x, family, moved, H) < fit.loglik
    assert SeverityFit.from_dict(fit.to_dict()).at_edge == (edge,)


# --------------------------------------------------------------------------- frequency
def test_poisson_fit_and_dispersion_test_by_formula():
    counts = [3, 7, 4, 6, 2, 8]
    fit = fit_frequency(counts, "poisson")
    m = np.mean(counts)
    assert fit.params["mu"] == m and fit.se["mu"] == pytest.approx(math.sqrt(m / 6))
    assert fit.loglik == pytest.approx(sum(stats.poisson.logpmf(counts, m)))
    d = sum((c - m) ** 2 for c in counts) / m
    assert dispersion_test(counts) == pytest.approx((d, stats.chi2.sf(d, 5)))
    assert fit.dist.mean() == pytest.approx(m)


def test_negative_binomial_recovers_parameters_and_auto_picks_it():
    mu, r = 30.0, 4.0
    counts = stats.nbinom(r, r / (r + mu)).rvs(400, random_state=np.random.default_rng(5))
    fit = fit_frequency(counts)                       # auto: over-dispersed → negbin
    assert fit.family == "negbin" and fit.dispersion_pvalue < 1e-6
    assert abs(fit.params["mu"] - mu) < 3 * fit.se["mu"]
    assert abs(fit.params["r"] - r) < 3 * fit.se["r"]
    assert fit.dist.mean() == pytest.approx(fit.params["mu"])
    pois = fit_frequency(stats.poisson(12).rvs(50, random_state=np.random.default_rng(6)))
    assert pois.family == "poisson"


def test_frequency_errors():
    with pytest.raises(ValueError, match="at least 2 years"):
        fit_frequency([4])
    with pytest.raises(ValueError, match="non-negative whole numbers"):
        fit_frequency([4, -1, 3])
    with pytest.raises(ValueError, match="negative binomial needs over-dispersed counts"):
        fit_frequency([5, 5, 5, 5], "negbin")


def test_implied_frequency_of_all_losses_is_consistent_with_the_severity_fit():
    lam_all, years, mu, sigma, H = 100.0, 60, 16.0, 2.0, 1e7
    rng = np.random.default_rng(8)
    n = rng.poisson(lam_all, years)
    x = rng.lognormal(mu, sigma, n.sum())
    year = np.repeat(np.arange(years), n)
    keep = x > H
    sev = fit_severity(x[keep], "lognormal", threshold=H)
    freq = fit_frequency(np.bincount(year[keep], minlength=years), "poisson", threshold=H)
    est = implied_all_frequency(freq, sev)
    # standard error of log λ_all = log λ_H − log S(H): Poisson part + delta method on S(H)
    fam, eps = SEVERITY_FAMILIES["lognormal"], 1e-6
    grad = []
    for p in ("mu", "sigma"):
        hi = dict(sev.params, **{p: sev.params[p] + eps})
        lo = dict(sev.params, **{p: sev.params[p] - eps})
        grad.append((float(fam.dist(**hi).logsf(H)) - float(fam.dist(**lo).logsf(H))) / (2 * eps))
    grad = np.array(grad)
    var = 1 / (freq.mean * years) + grad @ np.asarray(sev.cov) @ grad
    assert abs(math.log(est) - math.log(lam_all)) < 3 * math.sqrt(var)


def test_annual_counts_fills_zero_years():
    df = pd.DataFrame({"event_type": ["IF", "IF", "EF", "EF"],
                       "occurrence_date": pd.to_datetime(["2001-03-01", "2003-05-01",
                                                          "2001-01-01", "2001-02-01"]),
                       "gross_loss": [5e7, 2e7, 5e6, 3e7]})
    t = annual_counts(df, threshold=1e7)
    assert list(t.index) == [2001, 2002, 2003]
    assert t["IF"].tolist() == [1, 0, 1] and t["EF"].tolist() == [1, 0, 0]


# --------------------------------------------------------------------------- model set
def test_bundled_model_set_matches_a_refit_of_the_bundled_losses():
    import opwb
    from opwb.losses import load_losses
    from opwb.modelset import load_model_set
    from opwb.schema import COLLECTION_THRESHOLD
    models = load_model_set()
    losses = load_losses(opwb.data_path("losses.csv"))
    counts = annual_counts(losses, threshold=COLLECTION_THRESHOLD)
    assert set(models) == set(losses["event_type"])
    for cell, m in models.items():
        x = losses.loc[(losses.event_type == cell) & (losses.gross_loss > COLLECTION_THRESHOLD),
                       "gross_loss"].to_numpy(float)
        refit = fit_severity(x, m.severity.family, threshold=COLLECTION_THRESHOLD)
        assert m.threshold == COLLECTION_THRESHOLD and m.severity.n == x.size
        for p, v in refit.params.items():
            assert m.severity.params[p] == pytest.approx(v, rel=1e-6, abs=1e-9), (cell, p)
        assert m.frequency.mean == pytest.approx(counts[cell].mean())
        assert m.reason.startswith(m.severity.family)


def test_model_set_roundtrip_and_choice_rule(tmp_path):
    from opwb.modelset import CellFit, choose_family, load_model_set, save_model_set
    x, H = truncated_sample("lognormal", n_total=600, seed=2)
    sev = fit_severity(x, "lognormal", threshold=H)
    models = {"IF": CellFit(fit_frequency([3, 4, 5], threshold=H), sev, "because")}
    back = load_model_set(save_model_set(models, tmp_path / "m.json", note="n"))
    assert back == models
    with pytest.raises(ValueError, match="not an opwb model set"):
        load_model_set(sev.save(tmp_path / "fit.json"))
    table = pd.DataFrame({
        "family": ["a", "b", "c", "d"], "aic": [10.0, 11.0, 12.0, 13.0],
        "p_ks": [0.5, 0.5, 0.01, 0.5], "p_ad": [0.5, 0.5, 0.5, 0.5],
        "p_adup": [0.5, 0.5, 0.5, 0.5], "max_rel_se": [0.1, 5.0, 0.1, 0.1],
        "note": ["edge of the parameter space", "", "", ""]})
    assert choose_family(table)[0] == "d"             # a: at the edge, b: weak, c: rejected
    assert choose_family(table.iloc[:3])[0] == "b"    # weakly identified but passing
    assert "uncertain" in choose_family(table.iloc[:3])[1]
    assert choose_family(table.iloc[[0, 2]])[0] == "a"   # nothing passes: lowest AIC, flagged
    assert "treat with caution" in choose_family(table.iloc[[0, 2]])[1]
