"""VaR / ES estimators and their Monte Carlo standard errors."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from scipy import stats

from opwb.engine.riskmeasures import (
    diff_es_with_se,
    diff_estimate,
    diff_mean_with_se,
    diff_var_with_se,
    es,
    es_estimate,
    es_interval,
    es_with_se,
    mean_with_se,
    risk_summary,
    var,
    var_estimate,
    var_interval,
    var_with_se,
)

Z95 = stats.norm.ppf(0.975)


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
    table = risk_summary({"a": rng.exponential(size=1000), "b": rng.normal(size=1000),
                          "c": rng.pareto(1 / 0.7, 20_000), "d": rng.pareto(1 / 1.5, 20_000),
                          "e": rng.pareto(1 / 1.5, 20_000)}, alpha=0.9,
                         finite_mean={"e": False})
    assert list(table.index) == ["a", "b", "c", "d", "e"]
    assert {"mean", "mean_se", "var", "var_se", "es", "es_se", "es_lower", "es_upper",
            "es_method", "n", "mean_exists", "es_exists"} <= set(table.columns)
    assert (table.loc[["a", "b", "c"], "var"] <= table.loc[["a", "b", "c"], "es"]).all()
    assert table["es_method"].tolist() == ["empirical", "empirical", "gpd", "gpd", ""]
    assert table["es_exists"].tolist() == [True, True, True, False, False]
    assert table.loc[["d", "e"], "es"].isna().all() and not table.loc["e", "mean_exists"]
    assert (table.loc[["a", "b", "c"], "es_lower"] < table.loc[["a", "b", "c"], "es"]).all()


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
    with pytest.raises(ValueError, match="level must be a probability level strictly between"):
        var_interval([1.0, 2.0], 0.5, level=1.0)
    for f in (es_estimate, es_interval, var_estimate):
        with pytest.raises(ValueError, match=r"level must be .* got 95 — a percentage\? Use 0.95"):
            f(np.arange(1000.0), 0.99, 95)
    with pytest.raises(ValueError, match="method must be 'auto', 'empirical' or 'gpd'"):
        es_estimate(np.arange(1000.0), 0.99, method="hill")
    with pytest.raises(ValueError, match="a GPD tail needs at least 100 outcomes"):
        es_estimate(np.arange(99.0), 0.9, method="gpd")
    with pytest.raises(ValueError, match="paired outcomes of the same simulated years"):
        diff_var_with_se(np.arange(10.0), np.arange(11.0), 0.9)
    with pytest.raises(ValueError, match="measure must be 'mean', 'var' or 'es'"):
        diff_estimate(np.arange(10.0), np.arange(10.0), "median", 0.9)


# --------------------------------------------------------------------------- ES for heavy tails
def test_light_tails_keep_the_sample_es_and_its_influence_function_error():
    x = np.random.default_rng(6).exponential(size=50_000)
    e = es_estimate(x, 0.99)
    assert e.method == "empirical" and e.exists and e.tail.light
    excess = np.maximum(x - var(x, 0.99), 0.0)
    assert e.value == es(x, 0.99)
    assert e.se == pytest.approx(excess.std(ddof=1) / 0.01 / math.sqrt(x.size), rel=1e-12)
    assert (e.lower, e.upper) == pytest.approx((e.value - Z95 * e.se, e.value + Z95 * e.se))
    assert es_with_se(x, 0.99) == (e.value, e.se)


def test_heavy_tails_report_the_gpd_tail_es_inside_its_profile_interval():
    x = np.random.default_rng(7).pareto(1 / 0.7, 50_000)      # Lomax: ξ = 0.7
    e = es_estimate(x, 0.999)
    assert e.method == "gpd" and e.exists and not e.tail.light
    assert e.value == e.tail.es(0.999) and e.lower < e.value < e.upper < math.inf
    assert (e.lower, e.upper) == es_interval(x, 0.999) == e.tail.es_interval(0.999, 0.95)
    assert es_with_se(x, 0.999) == (e.value, pytest.approx((e.upper - e.lower) / (2 * Z95)))
    assert e.upper - e.value > e.value - e.lower                 # asymmetric, long upper side
    lo90, hi90 = es_interval(x, 0.999, 0.9)
    assert e.lower < lo90 < hi90 < e.upper
    assert es_estimate(x, 0.999, method="empirical").value == es(x, 0.999)


def test_an_es_that_does_not_exist_is_nan_not_a_number():
    x = np.random.default_rng(8).pareto(1 / 1.5, 50_000)      # ξ = 1.5: no mean
    e = es_estimate(x, 0.999)
    assert not e.exists and math.isnan(e.value) and math.isnan(e.se)
    assert e.upper == math.inf and "does not exist" in e.note
    v, se = es_with_se(x, 0.999)
    assert math.isnan(v) and math.isnan(se)
    with pytest.raises(ValueError, match="the expected shortfall does not exist"):
        es_with_se(x, 0.999, strict=True)
    with pytest.raises(ValueError, match="the expected shortfall does not exist"):
        es_interval(x, 0.999, strict=True)


def test_bounded_outcomes_keep_the_sample_es_however_heavy_below_the_cap():
    # X = min(Y, c), Y Lomax with ξ = 1.5 (no mean), c = 1e6: VaR = (1 - alpha)^-ξ - 1 and
    # E[(X - v)^+] = ∫_v^c (1 + y)^(-2/3) dy = 3 ((1 + c)^(1/3) - (1 + v)^(1/3))
    alpha, c = 0.999, 1e6
    v = (1 - alpha) ** -1.5 - 1
    true_es = v + 3 * ((1 + c) ** (1 / 3) - (1 + v) ** (1 / 3)) / (1 - alpha)
    x = np.minimum(np.random.default_rng(14).pareto(1 / 1.5, 200_000), c)
    assert not es_estimate(x, alpha).exists                     # the tail below c looks so
    e = es_estimate(x, alpha, bounded=True)
    assert e.method == "empirical" and e.exists and "Bounded" in e.note
    assert e.value == es(x, alpha) and abs(e.value - true_es) <= 4 * e.se
    assert es_with_se(x, alpha, bounded=True) == (e.value, e.se)
    assert risk_summary({"capped": x}, alpha, bounded={"capped": True})["es_exists"].all()


def test_too_few_outcomes_are_not_assessed_and_say_so():
    e = es_estimate(np.random.default_rng(9).pareto(1.0, 99), 0.9)
    assert e.method == "empirical" and e.tail is None and "Too few outcomes (99 < 100)" in e.note


def test_heavy_tailed_es_interval_covers_the_closed_form_value():
    # Lomax(ξ = 0.7), a GPD with σ = ξ: VaR = (1 - alpha)^-ξ - 1, ES = (VaR + ξ) / (1 - ξ).
    # 200 samples of 20,000 years: a valid 95% interval covers in [88%, 99%] with probability
    # > 0.998 (binomial); the influence-function interval covers about 65%.
    xi, alpha, reps = 0.7, 0.999, 200
    true_es = ((1 - alpha) ** -xi - 1 + xi) / (1 - xi)
    rng = np.random.default_rng(10)
    new = old = 0
    for _ in range(reps):
        x = rng.pareto(1 / xi, 20_000)
        e, o = es_estimate(x, alpha), es_estimate(x, alpha, method="empirical")
        new += e.lower <= true_es <= e.upper
        old += o.lower <= true_es <= o.upper
    print(f"coverage: GPD tail {new}/{reps}, influence function {old}/{reps}")
    assert 176 <= new <= 198
    assert old < 0.85 * reps


# --------------------------------------------------------------------------- paired differences
def test_paired_var_difference_of_a_comonotone_cover_is_exact():
    gross = np.random.default_rng(11).lognormal(0.0, 1.0, 100_000)
    net = gross - np.clip(gross - 5.0, 0.0, 2.0)              # a 2 xs 5 stop-loss cover
    alpha = 0.99
    (vg, sg), (vn, sn) = var_with_se(gross, alpha), var_with_se(net, alpha)
    assert vg > 7.0                                           # VaR is beyond the cover
    d = diff_estimate(gross, net, "var", alpha)
    assert d.value == vg - vn == pytest.approx(2.0, abs=1e-12)
    # comonotone: the indicators coincide (ρ = 1), so se = |se_x - se_y| (here 0 exactly:
    # net = gross - 2 around VaR, the same spacings)
    assert d.se == pytest.approx(abs(sg - sn), abs=1e-9) and d.se < 1e-6 * sg
    assert diff_var_with_se(gross, net, alpha) == (d.value, d.se)


def _years_with_a_layer(rng, n, deductible=1e9, limit=2e9):
    # Poisson(10) events a year, 1e7 + GPD(0.7, 2e7) KRW each; a per-event layer
    # min((X - deductible)^+, limit): gross and net annual losses on the same years
    counts = rng.poisson(10.0, n)
    x = 1e7 + 2e7 / 0.7 * np.expm1(-0.7 * np.log(rng.random(counts.sum())))
    ends = np.cumsum(counts)
    c = np.concatenate([[0.0], np.cumsum(x)])
    r = np.concatenate([[0.0], np.cumsum(np.clip(x - deductible, 0.0, limit))])
    gross = c[ends] - c[ends - counts]
    return gross, gross - (r[ends] - r[ends - counts])


def test_paired_standard_errors_match_the_spread_over_replications():
    # 300 replications of 20,000 years; the mean reported SE against the SD of the estimates.
    # Tolerance: 3 standard errors of the ratio from the replications -- the SD's relative
    # error sqrt((kurtosis - 1) / (4 R)) and the mean SE's cv / sqrt(R).
    alpha, reps = 0.995, 300
    rng = np.random.default_rng(12)
    est = {m: [] for m in ("mean", "var", "es")}
    level_se = {m: [] for m in ("mean", "var", "es")}
    for i in range(reps):
        gross, net = _years_with_a_layer(rng, 20_000)
        for m, rows in est.items():
            d = diff_estimate(gross, net, m, alpha, bounded=True)
            assert d.method == "paired"
            rows.append((d.value, d.se))
        if i < 10:
            level_se["mean"].append(min(mean_with_se(gross)[1], mean_with_se(net)[1]))
            level_se["var"].append(min(var_with_se(gross, alpha)[1], var_with_se(net, alpha)[1]))
            level_se["es"].append(min(es_with_se(gross, alpha)[1], es_with_se(net, alpha)[1]))
    for m, rows in est.items():
        v, se = np.array(rows).T
        ratio = se.mean() / v.std(ddof=1)
        c = v - v.mean()
        kurt = np.mean(c ** 4) / np.mean(c ** 2) ** 2
        tol = 3 * math.sqrt((kurt - 1) / (4 * reps) + (se.std() / se.mean()) ** 2 / reps)
        print(f"{m}: mean SE / SD of the estimates = {ratio:.3f} (tolerance ±{tol:.3f})")
        assert abs(ratio - 1) <= tol, (m, ratio, tol)
        assert se.mean() < 0.3 * np.mean(level_se[m]), m    # far below either level's error
    assert diff_mean_with_se(gross, net, bounded=True) == pytest.approx(
        (np.mean(gross - net), np.std(gross - net, ddof=1) / math.sqrt(gross.size)))
    assert diff_es_with_se(gross, net, alpha, bounded=True) == tuple(est["es"][-1])


def test_es_difference_is_paired_when_the_difference_is_light_and_bonferroni_otherwise():
    rng = np.random.default_rng(13)
    gross, net = _years_with_a_layer(rng, 50_000, deductible=5e8, limit=2e9)
    d = diff_estimate(gross, net, "es", 0.99)                  # checked from the sample
    assert d.method == "paired" and d.value == pytest.approx(es(gross, 0.99) - es(net, 0.99))
    x, y = rng.pareto(1 / 0.7, 50_000), rng.pareto(1 / 0.7, 50_000)   # unrelated heavy tails
    b = diff_estimate(x, y, "es", 0.999)
    ex, ey = es_estimate(x, 0.999, 0.975), es_estimate(y, 0.999, 0.975)
    assert b.method == "bonferroni" and b.value == pytest.approx(ex.value - ey.value)
    assert (b.lower, b.upper) == pytest.approx((ex.lower - ey.upper, ex.upper - ey.lower))
    assert b.se == pytest.approx((b.upper - b.lower) / (2 * Z95))
    m = diff_estimate(x, y, "mean")
    assert math.isnan(m.se) and "heavy-tailed" in m.note
    assert diff_estimate(x, y, "es", 0.999, bounded=True).method == "paired"
    z = rng.pareto(1 / 1.5, 50_000)                              # ξ = 1.5: no ES
    assert not diff_estimate(x, z, "es", 0.999).exists

