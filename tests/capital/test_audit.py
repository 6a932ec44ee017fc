"""The capital audit table and its Excel export.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme


def test_audit_table_and_excel_export(sim, tmp_path):
    from opwb.capital.audit import audit_table
    from opwb.insurance.eligibility import apply_views, eligibility_table
    from opwb.report.excel import export_excel
    prog = Programme((
        Policy(1e8, 5e9, aggregate_limit=1e10, policy_id="BBB", cover={"IF": 0.9},
               inception="2006-11-01", expiry="2007-11-01", insurer_rating="A"),
        Policy(5e7, 2e9, policy_id="ECC", cover={"EF": 0.5}, insurer_rating="BBB",
               inception="2006-10-01", expiry="2007-10-01"),           # ineligible: rating
    ))
    views = apply_views(prog, sim, seed=1, valuation_date="2007-01-01")
    elig = eligibility_table(prog, valuation_date="2007-01-01")
    tables = audit_table(views["economic"], views["regulatory"], eligibility=elig)
    et, pol, cap = tables["event_types"], tables["policies"], tables["cap"]
    total = et.loc["TOTAL"]
    assert total["capital_net"] == pytest.approx(cap["capital_net"].item())
    assert total["capital_net"] >= 0.8 * total["capital_gross"] - 1e-6
    assert np.all(et["recognised_mean"] <= et["ceded_mean"] + 1e-6)
    assert pol.loc["ECC", "recognised_mean"] == 0.0 and pol.loc["ECC", "relief"] == 0.0
    assert not pol.loc["ECC", "eligible"] and "below A" in pol.loc["ECC", "reasons"]
    assert pol["relief"].sum() == pytest.approx(total["recognised_benefit"])
    path = export_excel(tables, tmp_path / "out" / "audit.xlsx")
    back = pd.read_excel(path, sheet_name=None, header=1, index_col=0,
                         engine="openpyxl")  # row 1 names the unit
    assert set(back) == {"event_types", "policies", "cap"}
    assert back["event_types"].loc["TOTAL", "capital_net"] * 1e8 == pytest.approx(
        total["capital_net"])  # amounts are written in 억원
    with pytest.raises(ValueError, match="xlsx"):
        export_excel(tables, tmp_path / "audit.csv")
