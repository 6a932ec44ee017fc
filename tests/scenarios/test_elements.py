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
