"""Qualifying standards (Basel II paras 677-679) and residual-term haircuts.

Haircut goldens from DOMAIN.md: none at >= 365 days, 100% at <= 90 days, linear
(365 - d) / 275 in between (d = 180 → 67.3%), or pro rata d / 365 with a jump at 90 days.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.data.units import EOK
from opwb.engine.simulate import CellEvents, SimulatedLosses
from opwb.insurance.eligibility import (
    CHECKS,
    apply_views,
    eligibility_table,
    residual_term_haircut,
    view_haircuts,
)
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

GOOD = dict(deductible=5 * EOK, limit=50 * EOK, insurer="Good Ins", insurer_rating="A",
            inception="2006-11-01", expiry="2007-11-01", cancellation_notice_days=90,
            cover={"IF": 0.3})


def policy(pid: str, **changes) -> Policy:
    return Policy(**{**GOOD, "policy_id": pid, **changes})


# -- residual-term haircut ----------------------------------------------------------------

@pytest.mark.parametrize("days, linear, pro_rata", [
    (0, 1.0, 1.0), (30, 1.0, 1.0), (90, 1.0, 1.0),
    (91, 274 / 275, 1 - 91 / 365),
    (180, 185 / 275, 1 - 180 / 365),
    (300, 65 / 275, 1 - 300 / 365),
    (365, 0.0, 0.0), (730, 0.0, 0.0), (-10, 1.0, 1.0),
])
def test_residual_term_haircut_conventions(days, linear, pro_rata):
    assert residual_term_haircut(days) == pytest.approx(linear)
    assert residual_term_haircut(days, "pro-rata") == pytest.approx(pro_rata)


def test_residual_haircut_golden_and_shape():
    assert round(float(residual_term_haircut(180)), 3) == 0.673    # DOMAIN.md
    days = np.arange(-5, 400)
    for conv in ("linear", "pro-rata"):
        h = residual_term_haircut(days, conv)
        assert h.shape == days.shape and np.all(np.diff(h) <= 0)   # never rises with term
        assert np.all((h >= 0) & (h <= 1))
    with pytest.raises(ValueError, match="convention"):
        residual_term_haircut(100, "straight")


# -- qualifying standards -------------------------------------------------------------------

FAILING = {
    "rating": dict(insurer_rating="A-"),
    "term": dict(expiry="2007-05-01"),
    "notice": dict(cancellation_notice_days=60),
    "supervisory": dict(supervisory_exclusion=True),
    "independence": dict(affiliate=True, reinsured_outside=False),
}


@pytest.mark.parametrize("check", CHECKS)
def test_each_standard_fails_with_its_reason(check):
    table = eligibility_table(Programme((policy("OK"), policy("BAD", **FAILING[check]))))
    ok, bad = table.iloc[0], table.iloc[1]
    assert ok["eligible"] and ok["reasons"] == "" and ok["failed"] == ()
    assert not bad["eligible"] and bad["failed"] == (check,)
    assert not bad[f"{check}_ok"]
    assert all(bad[f"{c}_ok"] for c in CHECKS if c != check)
    assert bad["reasons"]


def test_reason_texts_and_all_failures_listed():
    everything = {k: v for d in FAILING.values() for k, v in d.items()}
    row = eligibility_table(Programme((policy("X", **everything),))).iloc[0]
    assert row["failed"] == CHECKS
    assert len(row["reasons"].split("; ")) == 5
    for text in ("A- is below A", "under one year", "60 days is under 90",
                 "supervisory action", "affiliated"):
        assert text in row["reasons"]


@pytest.mark.parametrize("changes, eligible", [
    (dict(insurer_rating="AA+"), True),
    (dict(insurer_rating="A"), True),
    (dict(insurer_rating="BBB+"), False),
    (dict(cancellation_notice_days=89), False),
    (dict(cancellation_notice_days=90), True),
    (dict(affiliate=True, reinsured_outside=True), True),        # captive reinsured outside
    (dict(inception="2007-01-01", expiry="2007-12-31"), True),   # inclusive end date
    (dict(inception="2007-01-01", expiry="2007-12-30"), False),
    (dict(inception=None, expiry=None), False),                  # term unknown
])
def test_standard_boundaries(changes, eligible):
    assert eligibility_table(Programme((policy("P", **changes),)))["eligible"].item() is eligible


def test_bundled_programme_has_ineligible_policies():
    from opwb import data_path
    from opwb.data.programme_table import load_programme
    table = eligibility_table(load_programme(data_path("insurance_programme.csv")))
    by_id = table.set_index("policy_id")
    assert by_id.loc["BBB", "eligible"]
    assert "independence" in by_id.loc["EPL", "failed"]       # captive, no outside reinsurance
    assert "notice" in by_id.loc["PI", "failed"]              # 60-day notice
    assert "rating" in by_id.loc["PDL", "failed"]             # BBB+
    assert "supervisory" in by_id.loc["DNO", "failed"]


def test_haircut_at_valuation_date():
    prog = Programme((policy("A", expiry="2007-11-01"), policy("B", inception="2007-06-01",
                                                                expiry="2008-06-01"),
                      policy("C", expiry="2007-05-01")))   # C is ineligible (short term)
    vdate = pd.Timestamp("2007-11-01") - pd.Timedelta(days=180)
    t = eligibility_table(prog, valuation_date=vdate).set_index("policy_id")
    assert t.loc["A", "residual_days"] == 180
    assert t.loc["A", "haircut"] == pytest.approx(185 / 275)
    assert t.loc["A", "recognition"] == pytest.approx(1 - 185 / 275)
    assert t.loc["B", "haircut"] == 1.0                   # not yet in force
    assert t.loc["C", "recognition"] == 0.0
    pr = eligibility_table(prog, valuation_date=vdate, convention="pro-rata")
    assert pr.set_index("policy_id").loc["A", "recognition"] == pytest.approx(180 / 365)
    assert eligibility_table(prog)["haircut"].eq(0).all()   # no valuation date: none


# -- economic vs regulatory views -------------------------------------------------------------

def test_views_share_contracts_and_random_numbers():
    rng = np.random.default_rng(4)
    n = 3000
    years = np.repeat(np.arange(n), rng.poisson(3, n))
    loss = rng.lognormal(21, 1.5, years.size)
    sim = SimulatedLosses(n, 0, ("IF",), {"IF": np.bincount(years, loss, minlength=n)},
                          {"IF": CellEvents(years, loss, 0.0)})
    prog = Programme((policy("PRIM", insurer_rating="BBB", cover={"IF": 1.0}),  # ineligible
                      policy("XS", limit=100 * EOK, follows="PRIM", cover={"IF": 1.0})))
    vdate = "2007-05-05"   # 180 days before expiry
    views = apply_views(prog, sim, seed=3, valuation_date=vdate, delay_probability=0.1)
    eco, reg = views["economic"], views["regulatory"]
    hc = view_haircuts(prog, "regulatory", valuation_date=vdate)
    assert hc == pytest.approx({"PRIM": 1.0, "XS": 185 / 275})
    assert view_haircuts(prog, "economic") == {"PRIM": 0.0, "XS": 0.0}
    for pid in prog.ids:   # same contract payments; excess still attaches above the primary
        np.testing.assert_array_equal(eco.ceded_by_policy[pid], reg.ceded_by_policy[pid])
        np.testing.assert_allclose(reg.recovery_by_policy[pid],
                                   eco.recovery_by_policy[pid] * (1 - hc[pid]))
    assert np.all(reg.annual_net >= eco.annual_net - 1e-6)
    with pytest.raises(ValueError, match="view"):
        view_haircuts(prog, "accounting")
