"""Excel export: amounts stay numbers, displayed in 억원; bad sheet names are refused.
"""
from __future__ import annotations

import math

import pandas as pd
import pytest

from opwb.report.excel import EOK_FORMAT, export_excel

# -- Excel --------------------------------------------------------------------------------------

def test_export_excel_keeps_numbers_and_shows_eok(tmp_path):
    from openpyxl import load_workbook

    losses = pd.DataFrame({"event_id": ["CD-2005-001", "OR-2004-0001"],
                           "gross_loss": [65_000_000_000.0, 1_234_567_890.0],
                           "insurance_recovery": [5_000_000_000, 0],
                           "share": [0.5, float("nan")]})
    policies = pd.DataFrame({"deductible": [5e8], "limit": [50e8], "aggregate_limit": [math.inf],
                             "failed": [("rating", "notice")]},
                            index=pd.Index(["BBB"], name="policy_id"))
    path = export_excel({"손실": losses, "보험": policies}, tmp_path / "out" / "tables.xlsx")
    wb = load_workbook(path)
    ws = wb["손실"]
    assert "억원" in ws["A1"].value
    assert [c.value for c in ws[2]] == ["event_id", "gross_loss", "insurance_recovery", "share"]
    assert ws["B3"].value == 650.0 and ws["B3"].number_format == EOK_FORMAT
    assert ws["B4"].value == pytest.approx(12.3456789)
    assert ws["C3"].value == 50.0 and ws["C4"].value == 0.0
    assert ws["D3"].value == 0.5 and ws["D3"].number_format == "General" and ws["D4"].value is None
    ws = wb["보험"]
    assert [c.value for c in ws[2]] == ["policy_id", "deductible", "limit", "aggregate_limit",
                                        "failed"]
    assert [c.value for c in ws[3]] == ["BBB", 5.0, 50.0, "무제한", "rating; notice"]


def test_export_excel_rejects_bad_sheet_names(tmp_path):
    frame = pd.DataFrame({"x": [1]})
    with pytest.raises(ValueError, match=r"sheet name 'a/b'"):
        export_excel({"a/b": frame}, tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="unique"):
        export_excel({"A": frame, "a": frame}, tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="no tables"):
        export_excel({}, tmp_path / "t.xlsx")
