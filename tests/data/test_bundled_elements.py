"""The bundled bank's scenario estimates (data/scenarios.csv) and BEICF scorecard
(data/beicf.csv): they load, they name the bundled losses' cells, they are consistent with
themselves and plausible against the bundled losses, and the MyData new-business scenario
is there (issue 23 item 8; documented in data/README.md)."""
from __future__ import annotations

import datetime as dt

import pytest
from scipy import stats

from opwb.data.beicf import BEICF_BOUNDS, load_scorecard, scorecard_factors
from opwb.data.bundled import data_path
from opwb.data.case import bundled_case
from opwb.data.losses import load_losses
from opwb.data.scenarios import load_scenarios
from opwb.data.taxonomy import EVENT_TYPES

CD_LOSS = 650e8  # the 2005 CD incident's gross loss (data/README.md), KRW


@pytest.fixture(scope="module")
def case():
    return bundled_case()


@pytest.fixture(scope="module")
def losses(case):
    return load_losses(case.path("losses"), threshold=case.threshold,
                       observation=case.observation)


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios(data_path("scenarios.csv"))


@pytest.fixture(scope="module")
def scorecard():
    return load_scorecard(data_path("beicf.csv"))


def _window(case):
    start, end = (dt.date.fromisoformat(d) for d in case.observation)
    return start, end


def test_every_cell_named_is_a_cell_of_the_bundled_losses(scenarios, scorecard, losses):
    event_types = set(losses["event_type"])
    cells = set(losses["event_type"] + "|" + losses["business_line"]) | event_types
    assert set(scenarios.cells) <= cells and set(scorecard.cells) <= cells
    # every Basel event type has 1-3 exceedance estimates and a worst plausible loss
    assert set(scenarios.cells) == set(EVENT_TYPES) == event_types
    for et in EVENT_TYPES:
        assert 1 <= len(scenarios.for_cell(et, "exceedance")) <= 3, et
        assert scenarios.for_cell(et, "worst"), et


def test_each_worst_plausible_loss_bounds_its_exceedance_amounts(scenarios):
    for cell in scenarios.cells:
        worst = scenarios.worst_plausible(cell)
        largest = max(e.amount for e in scenarios.for_cell(cell, "exceedance", within=True))
        assert worst is not None and worst >= largest, cell
        # within one workshop a larger loss is stated as rarer (a longer return period)
        by_author: dict[str, list] = {}
        for e in scenarios.for_cell(cell, "exceedance"):
            by_author.setdefault(e.author, []).append(e)
        for rows in by_author.values():
            rows.sort(key=lambda e: e.amount)
            assert all(a.return_period < b.return_period for a, b in zip(rows, rows[1:])), cell


def test_the_internal_fraud_worst_case_is_well_above_the_cd_incident(scenarios, losses):
    assert losses["gross_loss"].max() == CD_LOSS
    worst = scenarios.worst_plausible("IF")
    assert worst == 1e12 and worst >= 10 * CD_LOSS     # 1조원, ~15× the CD fraud
    # the largest loss of every other event type is below its worst plausible loss
    for et, largest in losses.groupby("event_type")["gross_loss"].max().items():
        assert scenarios.worst_plausible(et) > largest, et


def test_exceedance_estimates_are_plausible_against_the_bundled_losses(scenarios, losses, case):
    """Each workshop estimate "≥ X about once in N years" against the count of bundled losses
    ≥ X in the 5-year window: a Poisson count with mean 5/N is not rejected two-sided at 1%
    (the MyData scenario is a new business: the data cannot speak to it)."""
    start, end = _window(case)
    years = (end - start).days / 365.25
    assert years == pytest.approx(5.0, abs=0.01)
    for e in scenarios:
        if e.kind != "exceedance" or "MyData" in e.note:
            continue
        observed = int((losses.loc[losses["event_type"] == e.cell, "gross_loss"]
                        >= e.amount).sum())
        mean = years / e.return_period
        p_high = stats.poisson.sf(observed - 1, mean)   # P(count ≥ observed)
        p_low = stats.poisson.cdf(observed, mean)       # P(count ≤ observed)
        assert min(p_high, p_low) > 0.005, (e.where, observed, mean)


def test_the_mydata_scenario_raises_the_cpbp_exposure(scenarios, case):
    mydata = [e for e in scenarios if "MyData" in e.note]
    assert {e.cell for e in mydata} == {"CPBP"}
    assert {e.kind for e in mydata} == {"exceedance", "worst"}
    for e in mydata:
        assert e.date == dt.date.fromisoformat(case.valuation_date)   # forward-looking
        assert "전향적" in e.note and "2021" in mydata[0].note
    worst_mydata = max(e.amount for e in mydata if e.kind == "worst")
    worst_workshop = max(e.amount for e in scenarios.for_cell("CPBP", "worst")
                         if "MyData" not in e.note)
    assert worst_mydata == 2000e8 and worst_workshop == 1000e8
    assert scenarios.worst_plausible("CPBP") == worst_mydata          # it sets the CPBP cap
    # the personal-data-leak liability cover (PDL, limit 20억) is ~1% of that loss
    programme = case.load_programme().set_index("policy_id")
    assert programme.loc["PDL", "limit"] / worst_mydata == pytest.approx(0.01)


def test_every_estimate_and_score_is_authored_and_dated_within_the_case(scenarios, scorecard,
                                                                       case):
    start, end = _window(case)
    for item in [*scenarios, *scorecard]:
        assert item.author.strip() and start <= item.date <= end, item.where
        assert item.note.startswith(("[예시]", "[신사업: MyData]")), item.where


def test_the_bundled_scorecard_multipliers(scorecard):
    lower, upper = BEICF_BOUNDS
    got = scorecard_factors(scorecard, lower=lower, upper=upper)
    assert set(got) == set(EVENT_TYPES)
    assert got["IF"]["frequency"] == pytest.approx((12 / 8) ** 0.5, rel=1e-12)
    assert got["IF"]["severity"] == pytest.approx((3 / 4) ** 0.5, rel=1e-12)
    assert got["CPBP"] == pytest.approx({"frequency": 1.4 ** 0.5, "severity": 1.0})
    # the disaster-recovery KRI alone would give (3/6)^0.5 = 0.707: the floor binds
    assert scorecard.product("BDSF", "severity") == pytest.approx(0.5 ** 0.5)
    assert got["BDSF"]["severity"] == lower
    for targets in got.values():
        for m in targets.values():
            assert lower <= m <= upper
