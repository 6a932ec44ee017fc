"""BBB scenarios: alternatives, the seed's layer picture, and the scenario engine checked
against closed forms computed from the fitted models (tolerances from MC standard errors)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import opwb
from opwb import scenarios as sc
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.insurance.apply import apply_programme
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative, load_alternatives

from tests.scenarios.conftest import EOK

N_YEARS = 20_000

CD = ("CD-2005-001",)  # the bundled case's reference incident (data/case.toml)


@pytest.fixture(scope="module")
def data():
    losses = load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(load_programme(opwb.data_path("insurance_programme.csv")))
    return losses, prog


@pytest.fixture(scope="module")
def bases(data):
    losses, prog = data
    return {cd: sc.build_scenario_base(losses, prog, include_cd=cd, n_years=N_YEARS, seed=7,
                                       incidents=CD, incident_names="CD 사건")
            for cd in (True, False)}


def _layer_mean(fit, d, L):
    """E[min(max(X-d,0),L) | X > H] = ∫_d^{d+L} S_c(x) dx (for d ≥ H)."""
    val, err = integrate.quad(lambda x: float(fit.sf_conditional(x)), d, d + L, limit=400,
                              points=[d * 2, d * 10] if d > 0 else None)
    return val


def _bond_rates(base, d, L=math.inf):
    bond = base.programme[sc.BBB_POLICY_ID]
    lam_d = lam_dl = mean = 0.0
    for et in opwb.EVENT_TYPES:
        share = bond.covers(et)
        if share == 0:
            continue
        model, fit = base.models[et], base.fits[et]
        lam = model.frequency.mean * share
        lam_d += lam * float(fit.sf_conditional(d))
        if math.isfinite(L):
            lam_dl += lam * float(fit.sf_conditional(d + L))
            mean += lam * _layer_mean(fit, d, L)
    return lam_d, lam_dl, mean


def test_expected_recovery_and_probabilities_match_closed_forms(bases):
    base = bases[True]
    assert all(base.models[et].frequency.family == "poisson" for et in ("IF", "EF"))
    alt = Alternative("t", limit=400 * EOK, deductible=30 * EOK, premium=50 * EOK)
    res = sc.evaluate(base, alt)
    lam_d, lam_dl, mean = _bond_rates(base, alt.deductible, alt.limit)
    se = res["expected_recovery_se"]
    assert abs(res["expected_recovery"] - mean) < 4 * se, (res["expected_recovery"], mean, se)
    p_claim = 1 - math.exp(-lam_d)
    assert abs(res["p_claim"] - p_claim) < 4 * math.sqrt(p_claim * (1 - p_claim) / N_YEARS) + 1e-3
    p_exh = 1 - math.exp(-lam_dl)
    assert abs(res["p_exhaust"] - p_exh) < 4 * math.sqrt(p_exh * (1 - p_exh) / N_YEARS)
    assert res["loss_ratio"] == pytest.approx(res["expected_recovery"] / alt.premium)
    assert res["net_benefit"] == pytest.approx(
        res["expected_recovery"] - alt.premium + 0.10 * res["bond_regulatory_relief"])


def test_higher_limit_never_raises_any_years_net_loss(bases):
    base = bases[True]
    low = sc.evaluate(base, Alternative("400", 400 * EOK, 30 * EOK, 50 * EOK))
    high = sc.evaluate(base, Alternative("1000", 1_000 * EOK, 30 * EOK, 70 * EOK))
    assert np.array_equal(low.annual_gross, high.annual_gross)  # common random numbers
    assert np.all(high.annual_net <= low.annual_net * (1 + 1e-12))  # summation-order noise only
    assert high["expected_recovery"] > low["expected_recovery"]
    assert high["net_var"] <= low["net_var"]
    assert high["p_exhaust"] <= low["p_exhaust"]
    assert high["bond_regulatory_relief"] >= low["bond_regulatory_relief"]
    assert high["regulatory_net_capital"] >= 0.8 * high["regulatory_gross_capital"] - 1e-3


def test_bond_alone_pays_as_it_does_inside_the_programme(bases):
    """p_exhaust reads event-level payments of the bond applied alone; that equals its
    payments inside the whole programme (it is first in line for its event types)."""
    base = bases[True]
    prog = base.programme.replace_policy(sc.BBB_POLICY_ID, limit=400 * EOK, deductible=30 * EOK)
    whole = apply_programme(prog, base.sim, seed=base.seed)
    alone = apply_programme(Programme((prog[sc.BBB_POLICY_ID],)), base.sim, seed=base.seed)
    assert np.array_equal(whole.ceded_by_policy["BBB"], alone.ceded_by_policy["BBB"])


def test_cd_incident_changes_only_internal_fraud(bases, data):
    with_cd, without = bases[True], bases[False]
    for et in opwb.EVENT_TYPES:
        same = np.array_equal(with_cd.sim.annual_gross[et], without.sim.annual_gross[et])
        assert same == (et != "IF"), et
    # the CD loss fattens the fitted tail: the 1-in-1000 single IF loss is larger with it
    assert with_cd.fits["IF"].ppf_conditional(0.999) > without.fits["IF"].ppf_conditional(0.999)
    assert with_cd.models["IF"].frequency.mean == pytest.approx(
        without.models["IF"].frequency.mean + 1 / 5)  # one more event over five years


def test_same_seed_same_numbers_and_bad_alternative_rejected(data, bases):
    losses, prog = data
    again = sc.build_scenario_base(losses, prog, include_cd=True, n_years=N_YEARS, seed=7,
                                   incidents=CD)
    alt = Alternative("t", 400 * EOK, 30 * EOK, 50 * EOK)
    assert sc.evaluate(again, alt).metrics == sc.evaluate(bases[True], alt).metrics
    with pytest.raises(ValueError, match="공제금액"):
        sc.evaluate(bases[True], alt.replace(deductible=-1.0))
    with pytest.raises(ValueError, match=r"\['CD-2005-001'\] are not in the loss data"):
        sc.build_scenario_base(losses[losses.event_id != "CD-2005-001"], prog, n_years=100,
                               incidents=CD)
    with pytest.raises(ValueError, match="no reference incident to leave out"):
        sc.build_scenario_base(losses, prog, include_cd=False, n_years=100)


def test_compare_table(bases):
    alts = load_alternatives(opwb.data_path("bbb_alternatives.csv"))
    table = sc.compare(bases, alts)
    assert table.shape == (len(sc.METRIC_LABELS), 2 * len(alts))
    assert table.loc["premium"].tolist() == [a.premium for a in alts] * 2
    text = sc.format_comparison(table)
    assert text.iloc[0, 0] == "16억원" and text.index[0].startswith("연간 보험료")
    # after the CD incident the bond is worth more: higher expected recovery for every alternative
    assert (table.loc["expected_recovery", "CD 사건 포함"].to_numpy()
            > table.loc["expected_recovery", "CD 사건 제외"].to_numpy()).all()


def test_default_models_give_capital_near_the_generators(data):
    """Issue 10's acceptance: the default scenario models (bundled model sets, 1조원 cap) put
    total gross 99.9% VaR within ×0.5–×2 of the generator's without the CD incident and
    within ×4 with it; every chosen fit is "ok"; ES exists (the cap) and is finite."""
    from scipy import stats

    from opwb.engine import CellModel, simulate_losses, var_with_se
    losses, prog = data
    n = 100_000
    truth = {et: CellModel(stats.poisson(m.frequency), m.severity, threshold=opwb.COLLECTION_THRESHOLD)
             for et, m in opwb.TRUE_MODEL.items()}
    ref, ref_se = var_with_se(simulate_losses(truth, n, seed=3, keep_events_above=np.inf)
                              .total_gross(), 0.999)
    for cd, band in ((False, (0.5, 2.0)), (True, (0.25, 4.0))):
        base = sc.build_scenario_base(losses, prog, include_cd=cd, n_years=n, seed=3,
                                      incidents=CD)
        assert all(f.status == "ok" for f in base.fits.values())
        assert base.severity_cap == 1e12
        v, v_se = var_with_se(base.sim.total_gross(), 0.999)
        ratio = v / ref
        assert band[0] < ratio < band[1], (cd, v, ref)
        table = base.sim.risk_table()
        assert table["mean_exists"].all() and np.isfinite(table.loc["total", "es"])


def test_every_figure_carries_a_standard_error_and_matches_the_whole_programme(bases):
    """The bond's figures are computed on their own and added to the rest of the programme
    (opwb.scenarios.bond); they equal applying the whole programme with the bond changed."""
    from opwb.capital import capital_summary
    from opwb.engine import var
    from opwb.insurance import apply_programme, view_haircuts
    base, settings = bases[True], sc.ScenarioSettings()
    for alt in (Alternative("400", 400 * EOK, 30 * EOK, 50 * EOK),
                Alternative("agg", 400 * EOK, 30 * EOK, 50 * EOK, aggregate_limit=600 * EOK)):
        res = sc.evaluate(base, alt, settings)
        figures = [k for k in res.metrics if not k.endswith("_se")]
        assert all(f"{k}_se" in res.metrics for k in figures)
        assert all(np.isfinite(res.metrics[f"{k}_se"]) or k == "loss_ratio" for k in figures)
        prog = base.programme.replace_policy("BBB", **alt.policy_changes())
        econ = apply_programme(prog, base.sim, seed=base.seed)
        hc = view_haircuts(prog, "regulatory", valuation_date=settings.valuation_date)
        reg = apply_programme(prog, base.sim, seed=base.seed, haircuts=hc)
        np.testing.assert_allclose(res.annual_net, econ.annual_net, rtol=1e-12, atol=1.0)
        assert res["net_var"] == pytest.approx(var(econ.annual_net, 0.999), rel=1e-12)
        assert res["expected_recovery"] == pytest.approx(econ.ceded_by_policy["BBB"].mean())
        cap = capital_summary(reg).cap
        assert res["regulatory_net_capital"] == pytest.approx(cap.net, rel=1e-12)
        assert res["regulatory_relief"] == pytest.approx(cap.recognised_benefit, rel=1e-9)


def test_a_bond_following_a_policy_in_opwbs_convention_is_refused_by_its_attachment_not(bases):
    """The bond's own figures measure its layer on the gross loss: a bond that follows another
    policy in opwb's convention (deductible above what that policy paid) would be misread, so
    it is refused with what to write; the same layer by its ground-up attachment evaluates."""
    import dataclasses

    from opwb.scenarios.bond import BondContext
    base = bases[True]
    prog = base.programme
    bond = prog[sc.BBB_POLICY_ID]
    other = next(p for p in prog.policies if p.policy_id != sc.BBB_POLICY_ID)
    s = opwb.ScenarioSettings()

    def with_bond(new_bond):
        policies = [new_bond if p.policy_id == sc.BBB_POLICY_ID else p for p in prog.policies]
        order = sorted(policies, key=lambda p: p.policy_id != other.policy_id)
        return dataclasses.replace(base, programme=Programme(order))

    following = dataclasses.replace(bond, follows=other.policy_id)
    with pytest.raises(ValueError, match="attachment"):
        BondContext(with_bond(following), s.valuation_date, s.haircut_convention)
    top = other.deductible + other.limit          # where the layer below stops, ground up
    by_attachment = dataclasses.replace(bond.replace(attachment=top, deductible=top),
                                        follows=other.policy_id)
    ctx = BondContext(with_bond(by_attachment), s.valuation_date, s.haircut_convention)
    assert ctx.bond.attachment == top


def test_a_base_of_few_worlds_widens_its_band_to_students_t(bases):
    """On a base whose years come in W blocks (a predictive base's worlds) the paired
    comparison's 95% band uses Student's t with W − 1 degrees of freedom (the published
    table: 2.262 for 9, 1.984 for 99), 1.96 on independent years; a difference between the
    two bands is told apart on independent years and not on 10 worlds."""
    import dataclasses
    base = bases[True]
    assert base.critical_value == 1.96
    ten = dataclasses.replace(base, world_years=N_YEARS // 10, _cache={})
    hundred = dataclasses.replace(base, world_years=N_YEARS // 100, _cache={})
    assert round(ten.critical_value, 3) == 2.262
    assert round(hundred.critical_value, 3) == 1.984
    current = sc.current_cover(base)
    other = current.replace(name="other", limit=current.limit * 2)
    a, b = sc.evaluate(ten, other), sc.evaluate(ten, current)
    d = sc.difference(ten, a, b, keys=("expected_recovery",)).loc["expected_recovery"]
    ratio = abs(d["difference"]) / d["se"]
    assert d["distinguishable"] == (ratio > 2.262)
    for z in (ratio * 0.99, ratio * 1.01):        # the flag follows the z it is given
        got = sc.difference(ten, a, b, z=z, keys=("expected_recovery",))
        assert bool(got.loc["expected_recovery", "distinguishable"]) == (ratio > z)
