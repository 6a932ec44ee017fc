"""Capital from the four AMA data elements and with each left out (opwb.scenarios.elements,
issue 23): the bundled case's elements enter, the internal-only row is the scenario bases'
model, each row is recomputed independently, and a case without the elements gets one row."""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.engine.riskmeasures import var_with_se
from opwb.engine.simulate import CellModel, simulate_losses
from opwb.scenarios.elements import INTERNAL_ONLY, WITHOUT_CAPS, four_elements
from opwb.scenarios.sensitivity import cap_sensitivity

N_YEARS = 20_000


@pytest.fixture(scope="module")
def bundled(bundled_elements):
    case, losses, models, res = bundled_elements
    assert res.n_years == N_YEARS
    return bundled_elements


def test_the_bundled_case_uses_all_four_elements(bundled):
    case, _, models, res = bundled
    assert res.uses == ("internal", "external", "scenarios", "beicf")
    assert list(res.capital.index) == ["all", "without external", "without scenarios",
                                       "without beicf", WITHOUT_CAPS, INTERNAL_ONLY]
    # the caps' own part: the all-elements cells with the case's single cap
    for cell, e in res.cells[WITHOUT_CAPS].items():
        assert e.severity_cap == case.severity_cap
        assert e.severity is res.cells["all"][cell].severity
    src = res.sources.set_index("cell")
    # every cell's cap is the workshop's worst plausible loss (data/scenarios.csv)
    scen = case.load_scenarios()
    for cell in models:
        assert src.loc[cell, "severity_cap"] == scen.worst_plausible(cell)
        assert src.loc[cell, "cap_source"] == "scenarios"
    w = src[["weight_internal", "weight_external", "weight_scenarios"]]
    assert np.allclose(w.sum(axis=1), 1.0)
    # the scaled public losses at or above H = 1,000억: IF's and CPBP's five, EDPM's one
    assert src["n_external"].to_dict() == {"BDSF": 0, "CPBP": 5, "DPA": 0, "EDPM": 1, "EF": 0,
                                           "EPWS": 0, "IF": 5}


def test_internal_only_is_the_scenario_bases_model(bundled):
    """Independent path: the model set simulated without a cap and censored at the case's
    cap afterwards (cap_sensitivity) gives the same annual losses, so the same capital."""
    case, _, models, res = bundled
    ref = cap_sensitivity(models, [case.severity_cap], n_years=N_YEARS, seed=case.seed)
    row = res.capital.loc[INTERNAL_ONLY]
    assert row["capital"] == pytest.approx(ref["capital_sum"].iloc[0], rel=1e-9)
    assert row["capital_se"] == pytest.approx(ref["capital_sum_se"].iloc[0], rel=1e-9)


def test_each_row_is_its_cells_simulated(bundled):
    """Recompute one variant from its cell models directly; the change column is the
    difference from the full model."""
    case, _, _, res = bundled
    cells = res.cells["without beicf"]
    sim = simulate_losses({c: CellModel(e.frequency, e.severity, threshold=e.threshold,
                                        severity_cap=e.severity_cap)
                           for c, e in cells.items()}, N_YEARS, case.seed,
                          keep_events_above=math.inf)
    total = sum(var_with_se(sim.annual_gross[c], 0.999)[0] for c in cells)
    row = res.capital.loc["without beicf"]
    assert row["capital"] == pytest.approx(total, rel=1e-12)
    assert row["change"] == pytest.approx(row["capital"] - res.capital.loc["all", "capital"])


def test_leaving_out_an_element_changes_only_what_it_touches(bundled):
    """Common random numbers: without the external losses, a cell that has none above H
    keeps its VaR to the last won; without the scenarios every cap is the case's."""
    case, _, _, res = bundled
    src = res.sources.set_index("cell")
    untouched = [c for c in src.index if src.loc[c, "n_external"] == 0]
    assert untouched == ["BDSF", "DPA", "EF", "EPWS"]
    for cell in untouched:
        assert res.capital.loc["without external", f"var_{cell}"] == \
            res.capital.loc["all", f"var_{cell}"]
    touched = [c for c in src.index if src.loc[c, "n_external"] > 0]
    assert any(res.capital.loc["without external", f"var_{c}"] !=
               res.capital.loc["all", f"var_{c}"] for c in touched)
    assert all(e.severity_cap == case.severity_cap
               for e in res.cells["without scenarios"].values())


def test_a_case_with_internal_data_only_has_one_row(bundled, tmp_path):
    case, losses, models, _ = bundled
    bare = case.replace(scenarios=None, beicf=None, external_threshold=None)
    res = four_elements(bare, models, losses, n_years=2_000)
    assert res.uses == ("internal",) and list(res.capital.index) == ["all"]
    assert any("external_threshold" in n for n in res.notes)
    with pytest.raises(ValueError, match="has no scenarios"):
        four_elements(bare, models, losses, n_years=2_000, uses=["scenarios"])


@pytest.fixture(scope="module")
def answers(bundled):
    from opwb.scenarios import case_inputs, spec_for
    from opwb.scenarios.elements import element_answers
    case, losses, models, res = bundled
    _, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    table = element_answers(res, models, programme, quotes, spec, n_years=N_YEARS,
                            variants=["all", INTERNAL_ONLY])
    return spec, programme, quotes, table


def test_the_internal_only_recommendation_is_the_fitted_models(bundled, answers):
    """Independent path: the public scenario base of the same models, cap, years and seed
    (build_scenario_base) and its management answer recommend the same structure with the
    same net benefit."""
    from opwb.scenarios.answer import management_answer
    from opwb.scenarios.base import build_scenario_base
    case, losses, models, _ = bundled
    spec, programme, quotes, table = answers
    base = build_scenario_base(losses, programme, n_years=N_YEARS, seed=spec.seed,
                               models=models, severity_cap=case.severity_cap,
                               bond_policy=case.bond_policy)
    rec = management_answer({True: base}, quotes, spec=spec, paired=False).recommendations[True]
    row = table.loc[INTERNAL_ONLY]
    assert row["name"] == rec.name
    assert row["net_benefit"] == pytest.approx(float(rec.structure["net_benefit"]), rel=1e-12)


def test_the_all_elements_recommendation_is_the_argmax_within_the_appetite(bundled, answers):
    """Recompute from the frontier of the all-elements base (each cell at its own cap):
    the highest expected net benefit among the structures whose premium is within the
    appetite's ceiling."""
    from opwb.scenarios.answer import management_answer
    from opwb.scenarios.base import base_from_models
    from opwb.scenarios.elements import element_model_set
    case, _, models, res = bundled
    spec, programme, quotes, table = answers
    cells = res.cells["all"]
    base = base_from_models(element_model_set(cells, models), programme, n_years=N_YEARS,
                            seed=spec.seed,
                            severity_cap={c: e.severity_cap for c, e in cells.items()},
                            bond_policy=case.bond_policy)
    assert {c: m.severity_cap for c, m in base.models.items()} == \
        {c: e.severity_cap for c, e in cells.items()}
    frontier = management_answer({True: base}, quotes, spec=spec, paired=False).frontiers[True]
    within = frontier[frontier["premium"] <= spec.appetite.max_premium]
    best = within.loc[within["net_benefit"].idxmax()]
    assert table.loc["all", "name"] == best["name"]
    assert table.loc["all", "net_benefit"] == pytest.approx(float(best["net_benefit"]))


def test_the_scenario_sd_row_at_the_cases_s_is_the_all_elements_model(bundled):
    from opwb.scenarios.elements import scenario_sd_sensitivity
    case, losses, models, res = bundled
    table = scenario_sd_sensitivity(case, models, losses, sds=(case.scenario_sd, 4.0),
                                    n_years=N_YEARS)
    assert table.loc[case.scenario_sd, "capital"] == res.capital.loc["all", "capital"]
    # a vaguer workshop moves the scenario cells' tails towards the data's fit
    vague = table.loc[4.0, "q999_IF"]
    assert abs(math.log(vague / res.cells["without scenarios"]["IF"].single_loss_quantile())) \
        < abs(math.log(table.loc[case.scenario_sd, "q999_IF"]
                       / res.cells["without scenarios"]["IF"].single_loss_quantile()))


# -- a group of scenario estimates (issue 23 item 8: the MyData scenario) ------------------------
@pytest.fixture(scope="module")
def mydata(bundled):
    from opwb.insurance.programme import Programme
    from opwb.scenarios.elements import scenario_group_effect
    case, losses, models, _ = bundled
    programme = Programme.from_frame(case.load_programme())
    return programme, scenario_group_effect(case, models, losses, "MyData",
                                            programme=programme, policy="PDL",
                                            n_years=N_YEARS)


def test_the_mydata_group_adds_its_own_losses_to_its_cell_only(bundled, mydata):
    """Without the group the model is the four-element model of the workshop's other
    estimates; with it, only CPBP, the group's cell, changes (the same years: every other
    cell's VaR is the same to the won), by a Poisson stream of losses ≥ 500억 at 1/25 a year
    up to the MyData worst case 2,000억 (data/scenarios.csv); CPBP's own cap stays the
    workshop's 1,000억."""
    from opwb.fitting.elements import element_cells
    from opwb.scenarios.elements import _capital, case_elements, element_settings
    case, losses, models, res = bundled
    _, g = mydata
    assert g.cells == ("CPBP",) and len(g.estimates) == 2
    t = g.capital
    inputs = case_elements(case)
    rest = element_cells(models, losses, settings=element_settings(case),
                         **{**inputs, "scenarios": inputs["scenarios"].without("MyData")})
    ref = _capital(rest, N_YEARS, case.seed, 0.999)
    assert t.loc["without", "capital"] == pytest.approx(ref["capital"], rel=1e-12)
    for cell in models:
        if cell != "CPBP":
            assert t.loc["with", f"var_{cell}"] == t.loc["without", f"var_{cell}"]
            assert t.loc["with", f"var_{cell}"] == res.capital.loc["all", f"var_{cell}"]
    assert t.loc["with", "severity_cap_CPBP"] == t.loc["without", "severity_cap_CPBP"] == 1000e8
    assert (t.loc["with", "group_rate_CPBP"], t.loc["with", "group_from_CPBP"],
            t.loc["with", "group_cap_CPBP"]) == (1 / 25, 500e8, 2000e8)
    assert math.isnan(t.loc["without", "group_rate_CPBP"])
    assert g.change == pytest.approx(t.loc["with", "var_CPBP"] - t.loc["without", "var_CPBP"],
                                     rel=1e-12)
    # paired: far below the bound √(se² + se²) of two independent runs, and a real increase
    bound = math.hypot(t.loc["with", "capital_se"], t.loc["without", "capital_se"])
    assert 0 < g.change_se < bound and g.change > 4 * g.change_se
    # the group's first estimate sets its rate: the model meets it exactly
    assert g.checks["model_rate"].iloc[0] == pytest.approx(g.checks["workshop_rate"].iloc[0])


def test_the_groups_losses_are_simulated_at_their_stated_rate_and_range(bundled):
    """The group's own stream: annual counts with mean 1/25 (within 4 standard errors of a
    Poisson mean), every loss in [500억, 2,000억]."""
    from opwb.fitting.elements import element_cells
    from opwb.scenarios.elements import _group_component, case_elements, element_settings
    case, losses, models, _ = bundled
    inputs = case_elements(case)
    scen = inputs["scenarios"]
    cells = element_cells(models, losses, settings=element_settings(case),
                          **{**inputs, "scenarios": scen.without("MyData")})
    comp, info, notes = _group_component(cells["CPBP"], scen.of("MyData"), "MyData")
    assert info == {"rate": 1 / 25, "from": 500e8, "cap": 2000e8} and not notes
    sim = simulate_losses({"CPBP·group MyData": comp}, 200_000, 7, keep_events_above=0.0)
    ev = sim.events["CPBP·group MyData"]
    n = ev.loss.size
    assert abs(n / 200_000 - 1 / 25) < 4 * math.sqrt((1 / 25) / 200_000)
    assert ev.loss.min() >= 500e8 and ev.loss.max() <= 2000e8
    # a group that states only a worst case adds nothing and says so
    none, _, why = _group_component(cells["CPBP"], [e for e in scen.of("MyData")
                                                    if e.kind == "worst"], "MyData")
    assert none is None and "no exceedance estimate" in why[0]


def test_the_policy_split_of_each_estimate_is_the_contract(mydata):
    """PDL: deductible 1억, limit 20억, aggregate 20억, coinsurance 1 (insurance_programme.csv):
    a 500억 or a 2,000억 loss recovers coinsurance · min(max(X − d, 0), L) = 20억."""
    programme, g = mydata
    p = programme["PDL"]
    split = g.losses.set_index("kind")
    for kind, x in (("exceedance", 500e8), ("worst", 2000e8)):
        r = split.loc[kind]
        want = min(p.coinsurance * min(max(x - p.deductible, 0.0), p.limit), p.aggregate_limit)
        assert (r["amount"], r["paid"]) == (x, want) == (x, 20e8)
        assert r["retained"] == x - want and r["share_paid"] == pytest.approx(want / x)


def test_the_policys_cover_agrees_with_an_independent_simulation(bundled, mydata):
    """Independent path (plain numpy, its own random numbers): CPBP's counts thinned to PDL's
    wording share, losses from the cell's model capped at its cap; with the group, a Poisson
    number (1/25 a year) of losses from the cell's severity above 500억 capped at 2,000억,
    all within PDL's wording; each paid c·min(max(X − d, 0), L), the year's claims capped
    at the aggregate limit. Mean annual claims and the share of years at the aggregate agree
    with scenario_group_effect's within 4 combined standard errors."""
    from opwb.fitting.elements import element_cells
    from opwb.scenarios.elements import case_elements, element_settings
    case, losses, models, _ = bundled
    programme, g = mydata
    p = programme["PDL"]
    share = p.covers("CPBP")
    inputs = case_elements(case)
    e = element_cells(models, losses, settings=element_settings(case),
                      **{**inputs, "scenarios": inputs["scenarios"].without("MyData")})["CPBP"]
    rng = np.random.default_rng(20261207)
    n = 200_000
    counts = rng.binomial(e.frequency.dist.rvs(size=n, random_state=rng), share)
    x = np.minimum(e.severity.rvs_conditional(int(counts.sum()), rng), e.severity_cap)
    pay = p.coinsurance * np.minimum(np.maximum(x - p.deductible, 0.0), p.limit)
    own = np.bincount(np.repeat(np.arange(n), counts), weights=pay, minlength=n)
    k = rng.poisson(1 / 25, n)
    u = rng.uniform(size=int(k.sum()))
    s0 = e.severity.sf(500e8)
    y = np.minimum(e.severity.isf(u * s0), 2000e8)       # above 500억, capped
    new = np.bincount(np.repeat(np.arange(n), k), minlength=n,
                      weights=p.coinsurance * np.minimum(np.maximum(y - p.deductible, 0), p.limit))
    for key, annual in (("without", own), ("with", own + new)):
        annual = np.minimum(annual, p.aggregate_limit)
        mean, mean_se = annual.mean(), annual.std(ddof=1) / math.sqrt(n)
        full = (annual >= p.aggregate_limit * (1 - 1e-9)).mean()
        full_se = math.sqrt(full * (1 - full) / n)
        c = g.cover.loc[key]
        assert abs(c["expected_claims"] - mean) < 4 * math.hypot(c["expected_claims_se"], mean_se)
        assert abs(c["exhausted"] - full) < 4 * math.hypot(c["exhausted_se"], full_se)
    assert g.cover.loc["with", "exhausted"] > g.cover.loc["without", "exhausted"]


def test_a_group_that_is_not_there_is_an_error(bundled):
    from opwb.scenarios.elements import scenario_group_effect
    case, losses, models, _ = bundled
    with pytest.raises(ValueError, match="no scenario estimate is in group 'Cyber'"):
        scenario_group_effect(case, models, losses, "Cyber", n_years=100)
    with pytest.raises(ValueError, match="needs the programme"):
        scenario_group_effect(case, models, losses, "MyData", policy="PDL", n_years=100)


# -- the capital range across credible families (issue 23 item 7) ------------------------------
@pytest.fixture(scope="module")
def family_range(bundled):
    from opwb.scenarios.elements import element_family_range
    case, losses, models, _ = bundled
    families = {"CPBP": {"shifted_lognormal": 0.6, "lognormal": 0.3, "lomax": 0.1},
                "EPWS": {"loglogistic": 0.9, "gandh": 0.1}}
    return element_family_range(case, models, losses, families, n_years=N_YEARS)


def test_the_chosen_families_give_the_four_element_capital(bundled, family_range):
    """Each cell's chosen family reproduces the all-elements VaR of four_elements to the won
    (the cell's random numbers are its own), so capital_chosen is its capital."""
    case, _, models, res = bundled
    t = family_range
    chosen = t[t["chosen"]].set_index("cell")
    assert sorted(chosen.index) == sorted(models)
    for cell in models:
        assert chosen.loc[cell, "family"] == models[cell].severity.family
        assert chosen.loc[cell, "var"] == res.capital.loc["all", f"var_{cell}"]
    assert t.attrs["capital_chosen"] == pytest.approx(res.capital.loc["all", "capital"],
                                                      rel=1e-12)


def test_the_range_is_the_sum_of_each_cells_extremes(family_range):
    t = family_range
    ok = t[t["error"] == ""]
    by = ok.groupby("cell")["var"]
    assert t.attrs["capital_low"] == pytest.approx(by.min().sum(), rel=1e-12)
    assert t.attrs["capital_high"] == pytest.approx(by.max().sum(), rel=1e-12)
    assert t.attrs["capital_low"] <= t.attrs["capital_chosen"] <= t.attrs["capital_high"]
    cp = t[t["cell"] == "CPBP"].set_index("family")
    assert cp["weight"].to_dict() == {"shifted_lognormal": 0.6, "lognormal": 0.3, "lomax": 0.1}
    # cells not named keep their chosen family alone, weight 1
    assert (t[t["cell"] == "IF"]["weight"] == 1.0).all()


def test_each_family_is_refitted_on_the_cells_own_losses(bundled, family_range):
    """The lognormal row's model starts from the left-truncated MLE of CPBP's internal losses:
    its log-likelihood is the maximum (no neighbour beats it), checked with truncated_loglik."""
    from opwb.fitting.elements import _cell_losses
    from opwb.fitting.mle import fit_severity, truncated_loglik
    case, losses, models, _ = bundled
    x = _cell_losses(losses, "CPBP", models.threshold)
    fit = fit_severity(x, "lognormal", models.threshold)
    best = truncated_loglik(x, "lognormal", fit.params, models.threshold)
    for k in fit.params:
        for step in (-0.01, 0.01):
            moved = dict(fit.params, **{k: fit.params[k] * (1 + step)})
            assert truncated_loglik(x, "lognormal", moved, models.threshold) < best
    row = family_range.set_index(["cell", "family"]).loc[("CPBP", "lognormal")]
    assert row["error"] == "" and math.isfinite(row["var"]) and row["var_se"] > 0


def test_a_family_that_gives_no_model_is_named_and_left_out(bundled, family_range):
    """EPWS's g-and-h fit is degenerate (its likelihood rises towards g → −∞): the row says
    so, its figures are NaN and outside the range; an unknown family is an error."""
    from opwb.scenarios.elements import element_family_range
    row = family_range.set_index(["cell", "family"]).loc[("EPWS", "gandh")]
    assert "degenerate" in row["error"] and math.isnan(row["var"])
    case, losses, models, _ = bundled
    with pytest.raises(ValueError, match="unknown severity family 'gpd'"):
        element_family_range(case, models, losses, {"IF": {"gpd": 1.0}}, n_years=100)
