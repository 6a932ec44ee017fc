"""VaR / ES estimators and their Monte Carlo standard errors."""
from __future__ import annotations

import re

import numpy as np
import pytest

from opwb.engine.riskmeasures import (
    es,
    es_with_se,
    mean_with_se,
    risk_summary,
    var,
    var_interval,
    var_with_se,
)


def test_var_and_es_on_samples_with_known_quantiles():
    x = np.random.default_rng(0).permutation(np.arange(1.0, 1001.0))
    assert var(x, 0.99) == 990.0                       # ceil(1000 * 0.99) = 990th smallest
    assert es(x, 0.99) == pytest.approx(np.mean(np.arange(991.0, 1001.0)))   # worst 1% = 10 values
    assert var(x, 0.999) == 999.0
    assert es(x, 0.999) == pytest.approx(1000.0)


def test_es_is_the_mean_of_the_worst_share_when_it_cuts_an_outcome():
    # worst 25% of 10 outcomes = 2.5 outcomes: 10, 9 and half of 8
    x = np.arange(1.0, 11.0)
    assert var(x, 0.75) == 8.0
    assert es(x, 0.75) == pytest.approx((10 + 9 + 0.5 * 8) / 2.5)


def test_var_is_numpys_inverted_cdf_quantile():
    x = np.random.default_rng(1).lognormal(0, 2, size=12_345)
    for alpha in (0.5, 0.9, 0.99, 0.999, 0.9999):
        assert var(x, alpha) == np.quantile(x, alpha, method="inverted_cdf")


def test_var_never_exceeds_es():
    rng = np.random.default_rng(2)
    for x in (rng.pareto(1.1, 5000), rng.normal(size=777), -rng.lognormal(0, 3, 999)):
        for alpha in (0.5, 0.9, 0.95, 0.99, 0.999):
            assert var(x, alpha) <= es(x, alpha)


def test_exponential_var_and_es_within_four_standard_errors():
    # Exp(1): VaR_a = -ln(1 - a), ES_a = VaR_a + 1 (memoryless)
    x = np.random.default_rng(3).exponential(size=200_000)
    alpha = 0.99
    v, v_se = var_with_se(x, alpha)
    e, e_se = es_with_se(x, alpha)
    assert abs(v - np.log(100)) <= 4 * v_se
    assert abs(e - (np.log(100) + 1)) <= 4 * e_se
    m, m_se = mean_with_se(x)
    assert abs(m - 1.0) <= 4 * m_se


def test_standard_errors_match_the_spread_over_replications():
    # 400 independent samples of 4000: the reported SEs are close to the observed spread
    # and the 95% order-statistic interval covers the true quantile about 95% of the time.
    rng = np.random.default_rng(4)
    alpha, true_var = 0.99, np.log(100)
    reps = rng.exponential(size=(400, 4000))
    vs = np.array([var_with_se(r, alpha) for r in reps])
    ess = np.array([es_with_se(r, alpha) for r in reps])
    assert 0.8 < vs[:, 1].mean() / vs[:, 0].std(ddof=1) < 1.25
    assert 0.8 < ess[:, 1].mean() / ess[:, 0].std(ddof=1) < 1.25
    covered = np.mean([lo <= true_var <= hi for lo, hi in (var_interval(r, alpha) for r in reps)])
    assert covered >= 0.91                      # 95% nominal, 400 draws: sd of coverage ~ 0.011


def test_risk_summary_table():
    rng = np.random.default_rng(5)
    table = risk_summary({"a": rng.exponential(size=1000), "b": rng.normal(size=1000)}, alpha=0.9)
    assert list(table.index) == ["a", "b"]
    assert {"mean", "mean_se", "var", "var_se", "es", "es_se", "n"} <= set(table.columns)
    assert (table["var"] <= table["es"]).all() and (table["n"] == 1000).all()


@pytest.mark.parametrize("alpha, message", [
    (0.0, "strictly between 0 and 1 .*got 0$"), (1.0, "got 1$"), (-0.1, "got -0.1$"),
    (1.5, "got 1.5 — a percentage"), (float("nan"), "got nan$"),
    (True, "must be a probability level .*got True"),
    (99.9, r"got 99.9 — a percentage\? Use 0.999."),      # issue 10, finding 5
])
def test_alpha_outside_the_open_unit_interval_is_refused(alpha, message):
    for f in (var, es, var_with_se, es_with_se):
        with pytest.raises(ValueError, match="alpha must be a probability level") as err:
            f([1.0, 2.0, 3.0], alpha)
        assert re.search(message, str(err.value)), str(err.value)


def test_bad_samples_are_refused():
    with pytest.raises(ValueError, match="non-empty 1-d array"):
        var([], 0.9)
    with pytest.raises(ValueError, match="non-empty 1-d array"):
        es(np.ones((3, 3)), 0.9)
    with pytest.raises(ValueError, match="1 NaN value"):
        var([1.0, np.nan, 3.0], 0.5)
    with pytest.raises(ValueError, match="level must be strictly between 0 and 1"):
        var_interval([1.0, 2.0], 0.5, level=1.0)
