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


def test_standard_errors_follow_their_amounts_into_eok(tmp_path):
    from openpyxl import load_workbook
    frame = pd.DataFrame({"capital_net": [1.6e12], "capital_net_se": [4.1e10],
                          "share_se": [0.01]})
    path = export_excel({"t": frame}, tmp_path / "t.xlsx")
    ws = load_workbook(path)["t"]
    assert [c.value for c in ws[3]] == [16_000.0, 410.0, 0.01]
    assert ws["B3"].number_format == EOK_FORMAT and ws["C3"].number_format == "General"


def test_numbers_read_back_exactly_as_excel_holds_them(tmp_path):
    """openpyxl writes 16 significant digits, which does not always read back the same
    double: export_excel writes 15 (Excel's precision), amounts in won to the won."""
    import random

    from openpyxl import load_workbook

    from opwb.report.excel import KRW_COLUMNS, excel_number
    rng = random.Random(11)
    values = [rng.random() * 10 ** rng.randint(-12, 14) for _ in range(2_000)]
    won = [rng.random() * 10 ** rng.randint(0, 14) for _ in range(2_000)]
    krw = min(KRW_COLUMNS)
    path = export_excel({"x": pd.DataFrame({"v": values, krw: won})}, tmp_path / "x.xlsx")
    back = list(load_workbook(path)["x"].iter_rows(min_row=3, values_only=True))
    assert [b[0] for b in back] == [float(f"{v:.15g}") for v in values]
    assert [b[1] for b in back] == [float(round(w)) for w in won]
    assert excel_number(2.5, won=True) == 2.0 and excel_number(math.inf) == math.inf


def test_scenario_sheet_writes_krw_with_standard_errors(tmp_path):
    from openpyxl import load_workbook

    from opwb.data.units import format_krw_with_se
    from opwb.report.excel import (
        KRW_FORMAT,
        RATIO_FORMAT,
        SCENARIO_COLUMNS,
        scenario_sheet,
        settings_sheet,
    )
    from opwb.scenarios import DEFAULT_SPEC, current_cover, evaluate, scenario_bases
    spec = DEFAULT_SPEC.replace(n_years=20_000)
    bases = scenario_bases(spec)
    r = evaluate(bases[True], current_cover(bases[True]), spec.settings)
    sheet = scenario_sheet([r])
    assert tuple(sheet.columns) == SCENARIO_COLUMNS
    row = sheet.set_index("항목").loc["regulatory_net_capital"]
    assert row["금액 (원)"] == r["regulatory_net_capital"]              # exact in the frame
    assert row["금액 표준오차 (원)"] == r["regulatory_net_capital_se"]
    assert row["표시 (표준오차에 맞춰 반올림)"] == format_krw_with_se(
        r["regulatory_net_capital"], r["regulatory_net_capital_se"])
    path = export_excel({"시나리오": sheet, "설정": settings_sheet(spec, bases)},
                        tmp_path / "s.xlsx")
    wb = load_workbook(path)
    ws = wb["시나리오"]
    assert "원 (KRW)" in ws["A1"].value
    cells = {r_[2].value: r_ for r_ in ws.iter_rows(min_row=3)}
    net = cells["regulatory_net_capital"]
    assert net[4].value == round(r["regulatory_net_capital"]) and net[4].number_format == KRW_FORMAT
    assert net[5].value == round(r["regulatory_net_capital_se"])
    p = cells["p_claim"]
    assert p[4].value is None and p[6].value == float(f"{r['p_claim']:.15g}")
    assert p[6].number_format == RATIO_FORMAT
    assert cells["cap_binds"][8].value in ("예", "아니오") and cells["cap_binds"][4].value is None
    settings = {row_[1]: row_[2] for row_ in wb["설정"].iter_rows(min_row=3, values_only=True)}
    assert settings["n_years"] == 20_000 and settings["seed"] == spec.seed
    assert settings["fingerprint_True"] == bases[True].model_set.fingerprint
    with pytest.raises(ValueError, match="no figure"):
        scenario_sheet([r], keys=["no_such_figure"])
    with pytest.raises(ValueError, match="both"):
        export_excel({"t": pd.DataFrame({"premium": [1.0]})}, tmp_path / "b.xlsx",
                     krw_columns=["premium"])
