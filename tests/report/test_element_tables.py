"""The four-element tables and sentences (opwb.report.element_tables): what they say follows
the computed result — the cells whose cap sets their VaR, the element that moves capital
most, the figures rounded to their errors — and a case without the elements says so."""
from __future__ import annotations

import numpy as np
import pytest

from opwb.data.taxonomy import label
from opwb.data.units import format_krw_with_se
from opwb.report.element_tables import (elements_capital_ko, elements_sentence_ko,
                                        elements_sources_ko, model_elements_ko)


@pytest.fixture(scope="module")
def result(bundled_elements):
    case, _, _, res = bundled_elements
    return case, res


def test_the_cap_rate_is_the_models_rate_of_losses_at_the_cap(result):
    _, res = result
    for cell, e in res.cells["all"].items():
        expected = e.frequency.mean * e.severity.sf(e.severity_cap) / e.severity.sf_threshold
        assert res.capital.loc["all", f"cap_rate_{cell}"] == pytest.approx(expected, rel=1e-9)


def test_the_sentence_names_exactly_the_cells_whose_cap_sets_their_var(result):
    _, res = result
    text = elements_sentence_ko(res)
    for cell in res.cells["all"]:
        binds = res.capital.loc["all", f"cap_rate_{cell}"] >= 1 - res.alpha
        assert (f"{label(cell)}: 단일손실 상한" in text) == binds, cell
    assert format_krw_with_se(res.capital.loc["all", "capital"],
                              res.capital.loc["all", "capital_se"]) in text
    left = res.capital.drop(index=["all", "internal only", "without scenario caps"])
    big = left["change"].abs().idxmax()
    assert big.split(" ", 1)[1] == "scenarios" and "시나리오 분석 (빼면 자본이" in text


def test_the_capital_table_rounds_each_figure_to_its_error(result):
    _, res = result
    table = elements_capital_ko(res)
    assert list(table.index)[0] == "사례의 모든 요소"
    col = [c for c in table.columns if c.startswith("자본")][0]
    for (name, row), shown in zip(res.capital.iterrows(), table[col]):
        assert shown == format_krw_with_se(row["capital"], row["capital_se"])
    assert table.iloc[0]["모든 요소 모형 대비"] == "—"
    assert all(t.startswith(("+", "−")) for t in table["모든 요소 모형 대비"].iloc[1:])
    sources = elements_sources_ko(res)
    shares = sources["꼬리 정밀도 중 시나리오의 몫"].str.rstrip("%").astype(float)
    assert ((shares >= 0) & (shares <= 100)).all()
    # CPBP's scaled external losses (1.1-2.1조) lie above its worst plausible 2,000억
    assert "외부 손실 5건이 최대 가능 손실보다 큼" in sources.loc[label("CPBP"), "비고"]


def test_a_screen_says_which_elements_its_figures_use(result, second_bank_case):
    from opwb.data.case import load_case
    case, _ = result
    line = model_elements_ko(case)
    assert line.startswith("이 화면의 모형: 내부 손실 (단일손실 상한 1조원)")
    assert "외부 손실 · 시나리오 분석 · 영업환경·내부통제 요인(BEICF)" in line
    other = model_elements_ko(load_case(second_bank_case))
    assert "사례에 외부 손실·시나리오 분석·BEICF가 없습니다" in other
    assert "1조원 (기본값" in other or "없음" in other


# -- a scenario group and the families' range (hand-made results: the tables compute nothing) --
def _group(change: float, change_se: float, rate: float = 0.04):
    import pandas as pd

    from opwb.scenarios.elements import GroupEffect
    base = 13_800e8
    nan = float("nan")
    capital = pd.DataFrame({
        "capital": [base + change, base], "capital_se": [77e8, 72e8],
        "var_CPBP": [1159e8 + change, 1159e8], "var_se_CPBP": [31e8, 16e8],
        "severity_cap_CPBP": [1000e8, 1000e8], "group_rate_CPBP": [rate, nan],
        "group_from_CPBP": [500e8 if rate else nan, nan],
        "group_cap_CPBP": [2000e8 if rate else nan, nan]}, index=["with", "without"])
    cover = pd.DataFrame({"expected_claims": [5.76e8, 5.17e8],
                          "expected_claims_se": [0.053e8, 0.049e8],
                          "exhausted": [0.1544, 0.1192], "exhausted_se": [0.0026, 0.0023]},
                         index=["with", "without"])
    split = pd.DataFrame([{"cell": "CPBP", "kind": "exceedance", "amount": 500e8,
                           "return_period": 25.0, "paid": 20e8, "retained": 480e8,
                           "share_paid": 0.04},
                          {"cell": "CPBP", "kind": "worst", "amount": 2000e8,
                           "return_period": None, "paid": 20e8, "retained": 1980e8,
                           "share_paid": 0.01}])
    checks = pd.DataFrame([{"cell": "CPBP", "amount": 500e8, "workshop_rate": 0.04,
                            "model_rate": 0.04},
                           {"cell": "CPBP", "amount": 1000e8, "workshop_rate": 0.01,
                            "model_rate": 0.005}])
    return GroupEffect("MyData", ("e1", "e2"), ("CPBP",), capital, change, change_se, checks,
                       "PDL", cover, split, (), 20_000, 2005)


@pytest.fixture(scope="module")
def programme():
    from opwb.data.case import bundled_case
    from opwb.insurance.programme import Programme
    return Programme.from_frame(bundled_case().load_programme())


def test_the_group_sentence_says_its_losses_the_capital_and_the_policys_share(programme):
    from opwb.report.element_tables import group_effect_ko, group_effect_sentence_ko
    g = _group(993e8, 45e8)
    text = group_effect_sentence_ko(g, programme)
    assert "500억원 이상 손실이 연 0.040회 (약 25년에 한 번), 최대 2,000억원" in text
    assert f"{format_krw_with_se(993e8, 45e8)} 늘어납니다" in text
    assert "모형은 1,000억원 이상을 약 200년에 한 번으로 봅니다 (워크숍: 약 100년에 한 번)" in text
    assert "개인정보누출배상책임보험(PDL, 보상한도 20억원)의 약관에 든다고 보아도" in text
    assert "500억원 손실의 4.0%; 2,000억원 손실의 1.0%" in text
    table = group_effect_ko(g, programme)
    assert list(table.index) == ["MyData 시나리오 포함", "MyData 시나리오 제외"]
    col = "개인정보누출배상책임보험(PDL) 연간 한도를 다 쓰는 해"
    assert table.loc["MyData 시나리오 포함", col] == "15.44 ± 0.26%"
    assert table.loc["MyData 시나리오 제외", "MyData 손실의 빈도: 고객·상품·영업 (CPBP)"] == "—"
    # a change within twice its error is not called an increase
    small = group_effect_sentence_ko(_group(50e8, 45e8), programme)
    assert "구별되지 않습니다" in small and "늘어납니다" not in small
    # a group with no exceedance estimate adds no losses and says why
    none = group_effect_sentence_ko(_group(0.0, 0.0, rate=float("nan")), programme)
    assert "손실을 더하지 않습니다" in none


def test_the_group_losses_table_is_the_split(programme):
    from opwb.report.element_tables import group_losses_ko
    t = group_losses_ko(_group(993e8, 45e8), programme)
    assert list(t["추정"]) == ["약 25년에 한 번 이상", "최대 가능 손실"]
    assert list(t["은행 부담"]) == ["480억원", "1,980억원"]
    assert list(t["보상 비율"]) == ["4.0%", "1.0%"]


def test_the_family_range_sentence_is_the_tables_range():
    import pandas as pd

    from opwb.report.element_tables import family_range_ko, family_range_sentence_ko
    t = pd.DataFrame([
        {"cell": "EDPM", "family": "loglogistic", "weight": 0.6, "chosen": True, "q999": 142e8,
         "var": 1563e8, "var_se": 6.6e8, "cap_rate": 0.0024, "error": ""},
        {"cell": "EDPM", "family": "lognormal", "weight": 0.4, "chosen": False, "q999": 88e8,
         "var": 532e8, "var_se": 25e8, "cap_rate": 0.0001, "error": ""},
        {"cell": "EPWS", "family": "gandh", "weight": 0.1, "chosen": False,
         "q999": float("nan"), "var": float("nan"), "var_se": float("nan"),
         "cap_rate": float("nan"), "error": "the gandh fit is degenerate"}])
    t.attrs.update(capital_chosen=1563e8, capital_chosen_se=6.6e8, capital_low=532e8,
                   capital_low_se=25e8, capital_high=1563e8, capital_high_se=6.6e8)
    text = family_range_sentence_ko(t)
    assert format_krw_with_se(532e8, 25e8) + "에서 " + format_krw_with_se(1563e8, 6.6e8) in text
    assert "EDPM" in text and "(lognormal)에서" in text and "(loglogistic)까지" in text
    assert "모형을 만들 수 없는 분포군: " in text and "gandh" in text
    shown = family_range_ko(t)
    assert shown["분포군"].tolist() == ["loglogistic (선택)", "lognormal", "gandh"]
    assert shown["VaR (보험 전)"].iloc[2].startswith("없음: the gandh fit is degenerate")
    assert shown["99.9% 단일손실"].iloc[2] == "—"


def test_the_group_and_family_sheets_are_long_tables():
    from opwb.report.element_tables import elements_sheets

    class R:                       # the smallest four-element result the sheets read
        import pandas as pd
        capital = pd.DataFrame({"elements": ["internal"], "capital": [1.0],
                                "capital_se": [0.1], "change": [0.0], "change_se": [0.0]},
                               index=["all"])
        cells = {"all": {}}
        sources = pd.DataFrame()
    sheets = elements_sheets(R(), groups=[_group(993e8, 45e8)])
    g = sheets["시나리오군 효과"]
    assert list(zip(g["model"], g["cell"])) == [("with", "total"), ("with", "CPBP"),
                                                ("without", "total"), ("without", "CPBP")]
    assert g.loc[0, "var"] == 13_800e8 + 993e8 and g.loc[0, "policy"] == "PDL"
    assert (g.loc[1, "severity_cap"], g.loc[1, "group_cap"], g.loc[1, "group_rate"]) == \
        (1000e8, 2000e8, 0.04)
    s = sheets["시나리오군 손실 보상"]
    assert list(s["insurance"]) == [20e8, 20e8] and set(s["group"]) == {"MyData"}
