"""The capital audit table and its Excel export: every additive column of the event-type
table sums to its TOTAL row, and the policies' relief to the total, for every aggregation
(issue 11: the rows did not sum to TOTAL under "independent" and "copula").
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.capital.audit import ADDITIVE_COLUMNS, audit_table
from opwb.insurance.eligibility import apply_views, eligibility_table
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

VALUATION = "2007-01-01"


@pytest.fixture(scope="module")
def views(sim):
    prog = Programme((
        Policy(1e8, 5e9, aggregate_limit=1e10, policy_id="BBB", cover={"IF": 0.9},
               inception="2006-11-01", expiry="2007-11-01", insurer_rating="A"),
        Policy(5e7, 2e9, policy_id="ECC", cover={"EF": 0.5}, insurer_rating="BBB",
               inception="2006-10-01", expiry="2007-10-01"),           # ineligible: rating
        Policy(1e7, 1e9, policy_id="PROP", cover={"DPA": 1.0}, insurer_rating="AA",
               inception="2006-06-01", expiry="2007-06-01"),           # residual-term haircut
    ))
    v = apply_views(prog, sim, seed=1, valuation_date=VALUATION)
    return v, eligibility_table(prog, valuation_date=VALUATION)


@pytest.mark.parametrize("aggregation", ["sum", "independent", "copula"])
def test_audit_rows_add_up_to_total(views, aggregation):
    (v, elig), corr = views, 0.6 * np.eye(3) + 0.4
    tables = audit_table(v["economic"], v["regulatory"], eligibility=elig,
                         aggregation=aggregation, correlation=corr)
    et, pol, cap = tables["event_types"], tables["policies"], tables["cap"]
    rows, total = et.drop(index="TOTAL"), et.loc["TOTAL"]
    for col in ADDITIVE_COLUMNS:
        assert rows[col].sum() == pytest.approx(total[col], rel=1e-9), col
    assert total["capital_net"] == pytest.approx(cap["capital_net"].item())
    assert total["recognised_benefit"] == pytest.approx(cap["recognised_benefit"].item())
    assert total["capital_net"] >= 0.8 * total["capital_gross"] - 1e-6
    assert pol["relief"].sum() == pytest.approx(total["recognised_benefit"], rel=1e-9)
    assert pol["recognised_mean"].sum() == pytest.approx(total["recognised_mean"])
    assert np.all(rows["recognised_mean"] <= rows["ceded_mean"] + 1e-6)
    assert (et[[c for c in et.columns if c.endswith("_se")]] >= 0).all().all()
    assert pol.loc["ECC", "recognised_mean"] == 0.0 and pol.loc["ECC", "relief"] == 0.0
    assert not pol.loc["ECC", "eligible"] and "below A" in pol.loc["ECC", "reasons"]
    assert 0.0 < pol.loc["PROP", "haircut"] < 1.0


def test_standalone_total_is_the_basel_sum(views):
    (v, _), corr = views, np.eye(3)
    ind = audit_table(v["economic"], v["regulatory"], aggregation="independent",
                      correlation=corr)["event_types"]
    total = ind.loc["TOTAL"]
    # the diversified total is below the sum of stand-alone capital
    assert total["capital_gross"] < total["standalone_capital_gross"]
    summed = audit_table(v["economic"], v["regulatory"])["event_types"]
    np.testing.assert_allclose(summed["capital_gross"], summed["standalone_capital_gross"])
    assert total["standalone_capital_gross"] == pytest.approx(
        summed.loc["TOTAL", "capital_gross"])


def test_audit_excel_export(views, tmp_path):
    from opwb.report.excel import export_excel
    v, elig = views
    tables = audit_table(v["economic"], v["regulatory"], eligibility=elig)
    total = tables["event_types"].loc["TOTAL"]
    path = export_excel(tables, tmp_path / "out" / "audit.xlsx")
    back = pd.read_excel(path, sheet_name=None, header=1, index_col=0,
                         engine="openpyxl")  # row 1 names the unit
    assert set(back) == {"event_types", "policies", "cap"}
    assert back["event_types"].loc["TOTAL", "capital_net"] * 1e8 == pytest.approx(
        total["capital_net"])  # amounts are written in 억원
    with pytest.raises(ValueError, match="xlsx"):
        export_excel(tables, tmp_path / "audit.csv")


def test_every_audit_figure_carries_its_standard_error(views):
    """Means carry the sample error sd/sqrt(n) of the annual amounts (computed here from
    the programme results), capital figures the errors of capital_summary."""
    v, elig = views
    tables = audit_table(v["economic"], v["regulatory"], eligibility=elig)
    et, pol = tables["event_types"], tables["policies"]
    for col in ADDITIVE_COLUMNS:
        assert f"{col}_se" in et and (et[f"{col}_se"] >= 0).all(), col

    def se(x):
        x = np.asarray(x, dtype=float)
        return x.std(ddof=1) / np.sqrt(x.size)
    ceded_if = v["economic"].ceded_by_event_type["IF"]
    assert et.loc["IF", "ceded_mean_se"] == pytest.approx(se(ceded_if), rel=1e-12)
    total = sum(v["regulatory"].recovery_by_event_type.values())
    assert et.loc["TOTAL", "recognised_mean_se"] == pytest.approx(se(total), rel=1e-12)
    assert pol.loc["BBB", "ceded_mean_se"] == pytest.approx(
        se(v["economic"].ceded_by_policy["BBB"]), rel=1e-12)
    for col in ("ceded_mean", "recovery_economic_mean", "recognised_mean", "benefit", "relief"):
        assert f"{col}_se" in pol, col
