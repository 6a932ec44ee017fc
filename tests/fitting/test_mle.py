"""Left-truncated MLE: parameter recovery for every family, golden likelihood, save/load,
conditional helpers, frequency fits, and a clear error for every bad input."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from opwb.data.errors import DataError
from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.mle import SeverityFit, fit_severity, truncated_loglik

from tests.fitting.conftest import truncated_sample
from tests.fitting.test_families import PARAMS


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
    ([5.0, 6.0, 1.0, 7.0], 2.0, "1 loss(es) below the threshold 2 (first at position 2: 1)"),
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


def test_a_loss_at_the_threshold_is_data_not_an_error():
    x = np.array([2.0, 5.0, 6.0, 7.0, 9.0])
    fit = fit_severity(x, "lognormal", threshold=2.0)      # collected at or above H
    assert fit.n == 5 and np.isfinite(fit.loglik)
    with pytest.raises(DataError, match="1 loss\\(es\\) equal the threshold 2: the family "
                                        "'shifted_lognormal' models the excess"):
        fit_severity(x, "shifted_lognormal", threshold=2.0)


def test_a_fit_without_a_maximum_names_the_family_and_the_limit():
    # an exact Pareto tail above H: Burr XII only approaches it as c → ∞, d → 0 (c·d fixed)
    H = 1e7
    x = H * (1 - np.random.default_rng(1).random(300)) ** (-1 / 0.9)
    fit = fit_severity(x, "burr12", threshold=H)
    assert fit.status == "degenerate" and not fit.ok
    assert fit.note.startswith("The Burr XII likelihood")
    assert "c → ∞, d → 0" in fit.note or "scale → 0" in fit.note


@pytest.mark.parametrize("family, edge", [("genpareto", "sigma"), ("loglogistic", "scale"),
                                          ("lomax", "scale")])
def test_single_parameter_at_the_edge_is_held_there_and_reported(family, edge):
    # the bundled BDSF losses: their likelihood under GPD (σ → 0), log-logistic and Lomax
    # (scale → 0) is largest in the Pareto limit; the fit holds the runaway parameter there
    import opwb
    H = opwb.COLLECTION_THRESHOLD
    losses = opwb.load_losses(opwb.data_path("losses.csv"), threshold=H)
    x = losses.loc[losses.event_type == "BDSF", "gross_loss"].to_numpy(float)
    fit = fit_severity(x, family, threshold=H)
    assert fit.status == "edge" and fit.at_edge == (edge,) and "boundary" in fit.note
    assert np.isnan(fit.se[edge]) and all(np.isfinite(v) for k, v in fit.se.items() if k != edge)
    # the reported log-likelihood is the supremum: the Pareto's, in closed form
    t = np.log(x / H)
    a = x.size / t.sum()
    assert fit.loglik == pytest.approx(x.size * np.log(a) - x.size * np.log(H)
                                       - (a + 1) * t.sum(), abs=1e-6)
    assert truncated_loglik(x, family, fit.params, H) == pytest.approx(fit.loglik, abs=1e-3)
    assert fit.tail_index == pytest.approx(1 / a, rel=1e-4)
    # the free parameter is at its maximum given the held one
    other = next(p for p in fit.params if p != edge)
    for s in (-1, 1):
        moved = dict(fit.params, **{other: fit.params[other] * (1 + s * 1e-3)})
        assert truncated_loglik(x, family, moved, H) < truncated_loglik(x, family, fit.params, H)
    assert SeverityFit.from_dict(fit.to_dict()).at_edge == (edge,)
