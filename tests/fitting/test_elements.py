"""The four-element cell model (opwb.fitting.elements): scenarios combined with the data by
the posterior mode of LSW's normal expert model, BEICF multipliers, the cap from the worst
plausible loss (issue 23 items 2-4). Closed forms and independent recomputation."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from opwb.data.beicf import Factor, ScoreCard
from opwb.data.scenarios import ScenarioEstimate, ScenarioSet
from opwb.fitting.elements import (
    ElementSettings,
    element_cells,
    element_variants,
    scenario_fit,
)
from opwb.fitting.frequency import FrequencyFit
from opwb.fitting.mle import fit_severity, truncated_loglik
from opwb.fitting.modelset import CellFit

EOK = 1e8
U = 1e7
DAY = dt.date(2006, 11, 20)


def _est(cell, amount, period, kind="exceedance"):
    return ScenarioEstimate(cell, kind, amount, period, "워크숍", DAY)


def _lognormal_losses(n, seed=7, mu=16.0, sigma=2.0):
    rng = np.random.default_rng(seed)
    x = np.exp(rng.normal(mu, sigma, 4 * n))
    return x[x >= U][:n]


def _cond_rate(fit, rate, amount):
    return rate * math.exp(float(fit.logsf(amount)) - fit.logsf_threshold)


@pytest.mark.parametrize("family", ["lognormal", "lomax", "loglogistic"])
def test_a_scenario_alone_gives_its_exceedance_rate(family):
    """Acceptance: without loss data the combined model's rate of losses ≥ X is 1/N."""
    start = fit_severity(_lognormal_losses(300), family, threshold=U)
    rate = 12.0
    res = scenario_fit(start, [], [_est("IF", 300 * EOK, 25.0)], rate=rate, sd=0.5)
    fit = start.__class__(family, res.params, threshold=U)
    assert _cond_rate(fit, rate, 300 * EOK) == pytest.approx(1 / 25.0, rel=1e-5)
    assert res.scenario_weight == 1.0
    assert abs(res.log_ratio_after[0]) < 1e-5


def test_many_losses_and_a_weak_scenario_give_the_data_mle():
    """Acceptance: with many internal losses and a weak scenario the combined parameters
    converge to the data's MLE (within a small part of their standard errors)."""
    x = _lognormal_losses(20_000)
    mle = fit_severity(x, "lognormal", threshold=U)
    res = scenario_fit(mle, x, [_est("IF", 300 * EOK, 10.0)], rate=len(x) / 5, sd=5.0)
    for p in ("mu", "sigma"):
        assert abs(res.params[p] - mle.params[p]) < 0.05 * mle.se[p], p
    assert res.scenario_weight < 0.01


def test_the_mode_maximises_the_stated_posterior():
    """Independent recomputation: the returned parameters beat every neighbour on
    ℓ(θ) − Σ (ln(λ S_u(X)) + ln N)² / 2s², ℓ from opwb.fitting.mle.truncated_loglik."""
    x = _lognormal_losses(60, seed=3)
    fit = fit_severity(x, "lognormal", threshold=U)
    ests = [_est("IF", 50 * EOK, 3.0), _est("IF", 300 * EOK, 25.0)]
    rate, sd = 12.0, 0.5

    def post(p):
        f = fit.__class__("lognormal", p, threshold=U)
        gaps = [math.log(_cond_rate(f, rate, e.amount) * e.return_period) for e in ests]
        return truncated_loglik(x, "lognormal", p, U) - sum(g * g for g in gaps) / (2 * sd * sd)

    res = scenario_fit(fit, x, ests, rate=rate, sd=sd)
    best = post(res.params)
    assert best > post(fit.params) + 1.0        # the scenarios move it off the data's MLE
    for p in ("mu", "sigma"):
        for h in (-1e-3, 1e-3):
            assert post({**res.params, p: res.params[p] + h}) <= best + 1e-9
    assert 0 < res.scenario_weight < 1
    # the model moved towards each estimate
    assert all(abs(a) < abs(b) for a, b in zip(res.log_ratio_after, res.log_ratio_before))


def test_impossible_scenarios_are_refused():
    fit = fit_severity(_lognormal_losses(100), "lognormal", threshold=U)
    with pytest.raises(ValueError, match="above the collection threshold"):
        scenario_fit(fit, [], [_est("IF", 5e6, 10.0)], rate=5.0, sd=0.5)
    with pytest.raises(ValueError, match="N·rate > 1"):
        scenario_fit(fit, [], [_est("IF", 1e9, 1.0)], rate=0.5, sd=0.5)
    with pytest.raises(ValueError, match="sd must be positive"):
        scenario_fit(fit, [], [_est("IF", 1e9, 10.0)], rate=5.0, sd=0.0)


# -- a cell from its elements ----------------------------------------------------------------

@pytest.fixture(scope="module")
def one_cell():
    x = _lognormal_losses(80, seed=11)
    losses = pd.DataFrame({"event_type": "IF", "business_line": "RB", "gross_loss": x})
    sev = fit_severity(x, "lognormal", threshold=U)
    freq = FrequencyFit("poisson", {"mu": x.size / 5}, n_years=5, threshold=U)
    return {"IF": CellFit(freq, sev)}, losses


def _scorecard(freq_ratio, sev_ratio, weight=1.0):
    f = Factor("IF", "KRI", "frequency", freq_ratio * 10, 10.0, weight, "팀", DAY)
    s = Factor("IF", "통제", "severity", sev_ratio * 4, 4.0, weight, "팀", DAY)
    return ScoreCard((f, s), "beicf.csv")


def test_beicf_scales_every_loss_and_the_rate_of_all_losses(one_cell):
    """Closed form: with multipliers m_f, m_s (inside the band) every quantile of the
    untruncated severity moves by m_s and the implied rate of all losses λ_u/S(u) by m_f."""
    models, losses = one_cell
    base = element_cells(models, losses, uses=("internal",))["IF"]
    cell = element_cells(models, losses, uses=("internal", "beicf"),
                         scorecard=_scorecard(1.2, 1.3))["IF"]
    assert cell.multipliers == pytest.approx({"frequency": 1.2, "severity": 1.3})
    for q in (0.5, 0.99, 0.999):
        assert cell.severity.ppf(q) == pytest.approx(1.3 * base.severity.ppf(q), rel=1e-10)
    all_rate = cell.frequency.mean / cell.severity.sf_threshold
    assert all_rate == pytest.approx(1.2 * base.frequency.mean / base.severity.sf_threshold,
                                     rel=1e-10)
    clipped = element_cells(models, losses, uses=("internal", "beicf"),
                            settings=ElementSettings(beicf_bounds=(0.75, 1.5)),
                            scorecard=_scorecard(3.0, 0.2))["IF"]
    assert clipped.multipliers == {"frequency": 1.5, "severity": 0.75}


def test_the_cap_is_the_worst_plausible_loss_when_scenarios_are_used(one_cell):
    models, losses = one_cell
    scen = ScenarioSet((_est("IF", 300 * EOK, 25.0), _est("IF", 3000 * EOK, None, "worst")))
    settings = ElementSettings(severity_cap=1e12)
    alone = element_cells(models, losses, uses=("internal",), settings=settings)["IF"]
    both = element_cells(models, losses, uses=("internal", "scenarios"), settings=settings,
                         scenarios=scen)["IF"]
    assert (alone.severity_cap, alone.cap_source) == (1e12, "case")
    assert (both.severity_cap, both.cap_source) == (3000 * EOK, "scenarios")
    assert both.n_scenarios == 1 and both.weights["scenarios"] > 0
    assert sum(both.weights.values()) == pytest.approx(1.0)
    # the internal-only cell is the model set's own fit, untouched
    assert alone.severity is models["IF"].severity and alone.frequency is models["IF"].frequency


def test_an_element_the_case_lacks_is_an_error(one_cell):
    models, losses = one_cell
    with pytest.raises(ValueError, match="has no scenarios"):
        element_cells(models, losses, uses=("internal", "scenarios"))
    with pytest.raises(ValueError, match="external_threshold"):
        element_cells(models, losses, uses=("internal", "external"),
                      external=pd.DataFrame({"event_type": [], "amount_scaled": []}))
    with pytest.raises(ValueError, match="unknown element"):
        element_cells(models, losses, uses=("internal", "kri"))


def test_variants_leave_out_each_element_but_internal_data():
    v = element_variants(["internal", "external", "scenarios", "beicf"])
    assert v["all"] == ("internal", "external", "scenarios", "beicf")
    assert v["without scenarios"] == ("internal", "external", "beicf")
    assert "without internal" not in v and len(v) == 4


def test_the_scenarios_are_met_by_the_model_after_the_beicf():
    """The workshop describes today's environment: with BEICF multipliers m_f, m_s and a
    scenario alone, the final model (rate λ_u·m_f·S(u/m_s)/S(u), every loss × m_s) has
    exceedance rate 1/N at X."""
    from opwb.fitting.elements import scaled_severity
    start = fit_severity(_lognormal_losses(300), "lomax", threshold=U)
    lam, m_f, m_s = 12.0, 1.2, 1.3
    res = scenario_fit(start, [], [_est("IF", 300 * EOK, 25.0)], rate=lam * m_f, sd=0.5,
                       loss_factor=m_s)
    fit = start.__class__("lomax", res.params, threshold=U)
    final_rate = lam * m_f * fit.sf(U / m_s) / fit.sf(U)
    final = scaled_severity(fit, m_s, "BEICF")
    assert _cond_rate(final, final_rate, 300 * EOK) == pytest.approx(1 / 25.0, rel=1e-5)


def test_external_losses_above_the_cap_are_named(one_cell):
    models, losses = one_cell
    external = pd.DataFrame({"event_type": ["IF", "IF", "EF"],
                             "amount_scaled": [5000 * EOK, 200 * EOK, 9000 * EOK]})
    scen = ScenarioSet((_est("IF", 300 * EOK, 25.0), _est("IF", 3000 * EOK, None, "worst")))
    cell = element_cells(models, losses, uses=("internal", "external", "scenarios"),
                         settings=ElementSettings(external_threshold=100 * EOK,
                                                  external_weight=0.5, severity_cap=1e12),
                         external=external, scenarios=scen)["IF"]
    assert cell.n_external == 2 and cell.n_external_above_cap == 1
    assert any("above the cap" in n for n in cell.notes)
