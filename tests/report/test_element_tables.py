"""The four-element tables and sentences (opwb.report.element_tables): what they say follows
the computed result — the cells whose cap sets their VaR, the element that moves capital
most, the figures rounded to their errors — and a case without the elements says so."""
from __future__ import annotations

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
