"""Frequency fits: Poisson and negative binomial by formula, the dispersion test, and the
implied frequency of all losses.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.frequency import (
    annual_counts,
    dispersion_test,
    fit_frequency,
    implied_all_frequency,
)
from opwb.fitting.mle import fit_severity


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
    assert t.attrs["exposure"].tolist() == [1.0, 1.0, 1.0]       # no window: whole years
    assert fit_frequency(t["IF"], "poisson").exposures == ()
