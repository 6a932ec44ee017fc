"""Field fault of issue 22, item 10: the Excel export writes what a figure is.

An infinite contract term (no limit) is "무제한"; an infinite figure (an infinite mean) is
"무한대"; a figure that does not exist (NaN: the ES of a tail without a mean) is "존재하지
않음", not an empty cell; a value not given stays empty.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
from openpyxl import load_workbook

from opwb.report.excel import KRW_FORMAT, export_excel, scenario_sheet, settings_sheet

NAN, INF = math.nan, math.inf


def _cells(path, sheet):
    ws = load_workbook(path)[sheet]
    header = [c.value for c in ws[2]]
    return [dict(zip(header, r)) for r in ws.iter_rows(min_row=3, values_only=True)]


def test_terms_figures_and_missing_values_are_told_apart(tmp_path):
    frame = pd.DataFrame({
        "policy_id": ["BBB", "XS"],
        "limit": [INF, 50e8], "aggregate_limit": [INF, NAN],     # terms: none / not given
        "deductible": [5e8, NAN],                                 # an input not given
        "gross_el": [INF, 12e8],                                  # an infinite mean
        "gross_es": [NAN, 30e8], "gross_es_se": [NAN, 1e8],       # an ES that does not exist
        "net_var": [-INF, 20e8],
        "share": [NAN, 0.5]})                                     # not an amount: missing
    rows = _cells(export_excel({"t": frame}, tmp_path / "t.xlsx"), "t")
    bbb, xs = rows
    assert bbb["limit"] == bbb["aggregate_limit"] == "무제한"
    assert bbb["gross_el"] == "무한대" and bbb["net_var"] == "\u2212무한대"   # U+2212
    assert bbb["gross_es"] == bbb["gross_es_se"] == "존재하지 않음"
    assert bbb["share"] is None
    assert xs["aggregate_limit"] is None and xs["deductible"] is None
    assert xs["gross_es"] == 30.0 and xs["limit"] == 50.0


def test_a_term_column_of_another_name_is_declared(tmp_path):
    frame = pd.DataFrame({"BBB 한도": [INF], "평균 손실": [INF]})
    path = export_excel({"t": frame}, tmp_path / "t.xlsx", term_columns=["BBB 한도"])
    assert _cells(path, "t") == [{"BBB 한도": "무제한", "평균 손실": "무한대"}]


def test_the_scenario_sheet_names_figures_that_do_not_exist(tmp_path):
    """An amount's row has no ratio (an empty cell), a ratio's row no amount; a figure
    that does not exist is said so in its own cell."""
    result = SimpleNamespace(
        metrics={"expected_recovery": NAN, "expected_recovery_se": NAN,
                 "net_benefit": INF, "net_benefit_se": 0.0,
                 "p_claim": 0.25, "p_claim_se": 0.01},
        alternative=SimpleNamespace(name="현행"), data_label="전체", include_cd=True)
    sheet = scenario_sheet([result])
    path = export_excel({"시나리오": sheet}, tmp_path / "s.xlsx")
    cells = {r["항목"]: r for r in _cells(path, "시나리오")}
    assert cells["expected_recovery"]["금액 (원)"] == "존재하지 않음"
    assert cells["expected_recovery"]["비율"] is None
    assert cells["net_benefit"]["금액 (원)"] == "무한대"
    assert cells["p_claim"]["금액 (원)"] is None and cells["p_claim"]["비율"] == 0.25
    ws = load_workbook(path)["시나리오"]
    assert ws.cell(row=3, column=5).number_format == KRW_FORMAT   # still a column of amounts


def test_no_severity_cap_is_unlimited_in_the_settings_sheet():
    spec = SimpleNamespace(
        n_years=1000, seed=1, severity_cap=None,
        settings=SimpleNamespace(valuation_date=None, alpha=0.999, cost_of_capital=0.1,
                                 aggregation="sum", haircut_convention="linear"))
    values = dict(zip(*[settings_sheet(spec)[c] for c in ("설정", "값")]))
    assert values["severity_cap"] == "무제한"


def test_an_unstated_severity_cap_is_labelled_the_default_and_stays_a_number(tmp_path):
    from opwb.data.case import bundled_case, load_case
    from opwb.data.units import DEFAULT_NOTE
    from opwb.scenarios.spec import spec_for
    from tests.cases import bundled_case_without

    for case, stated in ((bundled_case(), True),
                         (load_case(bundled_case_without(("severity_cap",), tmp_path / "b")),
                          False)):
        sheet = settings_sheet(spec_for(case), case=case)
        row = sheet[sheet["설정"] == "severity_cap"].iloc[0]
        assert (DEFAULT_NOTE in row["항목"]) == (not stated), row["항목"]
        assert isinstance(row["값"], float) and row["값"] == case.severity_cap
        path = export_excel({"설정": sheet}, tmp_path / f"s{stated}.xlsx")
        cells = {r["설정"]: r for r in _cells(path, "설정")}
        assert isinstance(cells["severity_cap"]["값"], (int, float))   # a number cell
