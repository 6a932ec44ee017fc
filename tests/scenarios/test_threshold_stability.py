"""Threshold stability of a cell's capital (issue 23 item 7): the refit above a higher
threshold is the maximum-likelihood fit there, and its FFT VaR lies within the
distribution-free order-statistic interval of an independent Monte Carlo of the same
compound model (scipy draws, not opwb's engine)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import opwb
from opwb.data.case import bundled_case
from opwb.fitting.mle import fit_severity
from opwb.fitting.modelset import load_model_set
from opwb.scenarios.sensitivity import MIN_LOSSES_ABOVE, threshold_stability
from opwb.scenarios.spec import case_inputs


@pytest.fixture(scope="module")
def inputs():
    case = bundled_case()
    losses, _, _ = case_inputs(case)
    return case, losses, load_model_set(opwb.data_path("severity_models.json"))


def test_the_var_above_twice_the_threshold_is_an_independent_monte_carlos(inputs):
    case, losses, ms = inputs
    t = threshold_stability(losses, ms, multiples=(2.0,), cells=["EPWS"],
                            severity_cap=case.severity_cap)
    [row] = t.to_dict("records")
    u2 = 2 * ms.threshold
    x = losses.loc[losses["event_type"] == "EPWS", "gross_loss"].to_numpy(float)
    fit = fit_severity(x[x >= u2], ms["EPWS"].severity.family, u2)
    assert row["n_losses"] == int((x >= u2).sum())
    assert row["tail_index"] == pytest.approx(fit.tail_index, rel=1e-9)
    assert row["single_loss_quantile"] == pytest.approx(fit.single_loss_quantile(0.999),
                                                        rel=1e-9)
    # the same compound model by plain scipy Monte Carlo: the frequency refitted by
    # threshold_stability (recomputed: losses per year of the window above 2u)
    from opwb.fitting.modelset import ModelSet, refit_families
    data = losses[losses["event_type"] == "EPWS"]
    data.attrs.update(losses.attrs)
    freq = refit_families(ModelSet({"EPWS": ms["EPWS"]}, ms.threshold, "", True, ""),
                          data, u2)["EPWS"].frequency
    rng = np.random.default_rng(20261207)
    n_years, alpha = 400_000, 0.999
    counts = freq.dist.rvs(size=n_years, random_state=rng)
    sev = fit.dist
    v = rng.uniform(size=int(counts.sum())) * fit.sf(u2)          # above 2u
    draws = np.minimum(sev.isf(v), case.severity_cap)
    annual = np.bincount(np.repeat(np.arange(n_years), counts), weights=draws,
                         minlength=n_years)
    s = np.sort(annual)
    k = n_years * alpha
    half = 3.5 * math.sqrt(n_years * alpha * (1 - alpha))
    lo, hi = s[int(math.floor(k - half))], s[int(math.ceil(k + half))]
    assert lo <= row["var"] <= hi, (lo, row["var"], hi)
    assert row["var_error"] < 1e-3 * row["var"]


def test_thin_thresholds_and_infinite_means_say_why(inputs):
    case, losses, ms = inputs
    t = threshold_stability(losses, ms, multiples=(1.0, 50.0), cells=["IF"],
                            severity_cap=None)
    first, thin = t.to_dict("records")
    assert thin["n_losses"] < MIN_LOSSES_ABOVE and "fewer than" in thin["note"]
    assert math.isnan(thin["var"])
    if first["tail_index"] >= 1:          # the bundled IF Lomax: an infinite mean
        assert "infinite mean" in first["note"] and math.isnan(first["var"])
    capped = threshold_stability(losses, ms, multiples=(1.0,), cells=["IF"],
                                 severity_cap=case.severity_cap).iloc[0]
    # with the cap a VaR exists; when a loss at the cap comes more often than once in 1,000
    # years (Poisson thinning), the cap sets it: VaR at least the cap
    sev, freq = ms["IF"].severity, ms["IF"].frequency
    at_cap = 1 - stats.poisson.cdf(0, freq.dist.mean() * sev.sf(case.severity_cap)
                                   / sev.sf(ms.threshold))
    assert math.isfinite(capped["var"])
    assert (capped["var"] >= case.severity_cap) == (at_cap > 0.001)
