"""Notebook 04's capital-offset tables: Korean headers, every Monte Carlo figure with its
error, and the audit totals equal to the scenario figures of the same cover."""
from __future__ import annotations

import pandas as pd
import pytest

from opwb.capital import audit_table, standardised_approach
from opwb.data.taxonomy import label
from opwb.data.units import format_krw_with_se
from opwb.insurance import CHECK_LABELS_KO, apply_views, eligibility_table
from opwb.report.capital_tables import (
    audit_event_types_ko,
    audit_policies_ko,
    consistency_ko,
    coverage_ko,
    dependence_ko,
    eligibility_ko,
    model_source_ko,
    programme_ko,
    standardised_ko,
)
from opwb.scenarios import (
    DEFAULT_SPEC,
    bundled_inputs,
    current_cover,
    evaluate,
    scenario_bases,
)

SPEC = DEFAULT_SPEC.replace(n_years=20_000)


@pytest.fixture(scope="module")
def bases():
    return scenario_bases(SPEC)


@pytest.fixture(scope="module")
def audited(bases):
    base, s = bases[True], SPEC.settings
    views = apply_views(base.programme, base.sim, seed=base.seed,
                        valuation_date=s.valuation_date, convention=s.haircut_convention)
    elig = eligibility_table(base.programme, valuation_date=s.valuation_date,
                             convention=s.haircut_convention)
    return audit_table(views["economic"], views["regulatory"], eligibility=elig,
                       alpha=s.alpha, aggregation=s.aggregation)


def test_audit_by_event_type_shows_each_figure_with_its_error(audited):
    et = audited["event_types"]
    table = audit_event_types_ko(et)
    assert table.index.tolist() == [label(c) for c in et.index[:-1]] + ["합계 (TOTAL)"]
    total = et.loc["TOTAL"]
    assert table.loc["합계 (TOTAL)", "보험 후 규제자본"] == format_krw_with_se(
        total["capital_net"], total["capital_net_se"])
    assert table.loc["합계 (TOTAL)", "연평균 출재 (약관상 보험금)"] == format_krw_with_se(
        total["ceded_mean"], total["ceded_mean_se"])
    assert all("±" in v or v.startswith("0") for v in table["보험 전 자본"])


def test_audit_totals_are_the_scenario_figures_of_the_same_cover(bases, audited):
    r = evaluate(bases[True], current_cover(bases[True]), SPEC.settings)
    check = consistency_ko(audited, r.metrics)
    assert (check["차이: 시나리오 − 감사표 (원)"] == "0").all(), check
    assert (check["차이: 사건유형 합 − 합계 (원)"] == "0").all(), check
    assert check.loc["보험 후 규제자본", "시나리오 수치 (evaluate)"] == format_krw_with_se(
        r["regulatory_net_capital"], r["regulatory_net_capital_se"])


def test_audit_by_policy_relief_adds_up(audited):
    pol = audited["policies"]
    table = audit_policies_ko(pol)
    assert table["보험계약"].tolist() == [f"{n} ({p})" for n, p in zip(pol["name"], pol.index)]
    assert table["배분된 인정 자본 경감"].tolist() == [
        format_krw_with_se(v, s) for v, s in zip(pol["relief"], pol["relief_se"])]
    assert pol["relief"].sum() == pytest.approx(
        audited["event_types"].loc["TOTAL", "recognised_benefit"], rel=1e-9)


def test_steps_one_to_three_in_korean(bases):
    prog = bases[True].programme
    table = programme_ko(prog)
    bbb = table.set_index("보험계약").loc["금융기관종합보험 (BBB)"]
    assert (bbb["공제금액"], bbb["건당 보상한도"], bbb["연간 보험료"]) == ("5억원", "50억원", "16억원")
    elig = eligibility_table(prog, valuation_date="2006-12-31")
    ko = eligibility_ko(elig)
    for codes, shown in zip(elig["failed"], ko["미충족 요건"]):
        assert shown == ("; ".join(CHECK_LABELS_KO[c] for c in codes) or "—")
    cov = coverage_ko(prog)
    assert cov.loc["금융기관종합보험 (BBB)", label("IF")] == f"{prog['BBB'].covers('IF'):.0%}"
    assert cov.loc["금융기관종합보험 (BBB)", label("DPA")] == ""


def test_standardised_table_and_model_source(bases):
    losses, _, _ = bundled_inputs()
    sa = standardised_approach(8e12, losses, currency="KRW", eur_rate=1200.0,
                               date_column="booking_date", undated="occurrence_date")
    table = standardised_ko(sa)
    assert table.iloc[1, 3] == f"{sa.orc_net / 1e8:,.1f}억원"
    assert table.iloc[0, 1] == f"{sa.ilm_gross:.4f}"
    src = model_source_ko(bases)
    assert src["모형 출처"].str.startswith("번들 모형 파일").all()
    assert src.loc["CD 사건 포함", "모의실험 연수"] == "20,000년"
    assert isinstance(src, pd.DataFrame)


def test_with_headline_errors_takes_the_scenario_errors_and_refuses_other_totals():
    import pandas as pd

    from opwb.report.capital_tables import AUDIT_HEADLINE, with_headline_errors
    et = pd.DataFrame({"capital_gross": [1e12, 2e12], "capital_gross_se": [1e10, 2e10],
                       "recognised_benefit": [1e9, 2e9], "recognised_benefit_se": [1e8, 1e8],
                       "capital_net": [9.99e11, 1.998e12], "capital_net_se": [1e10, 2e10]},
                      index=pd.Index(["IF", "TOTAL"], name="event_type"))
    metrics = {key: float(et.loc["TOTAL", col]) for col, key in AUDIT_HEADLINE}
    metrics.update({f"{key}_se": 7e9 + i for i, (_, key) in enumerate(AUDIT_HEADLINE)})
    out = with_headline_errors({"event_types": et}, metrics)["event_types"]
    for i, (col, _) in enumerate(AUDIT_HEADLINE):
        assert out.loc["TOTAL", f"{col}_se"] == 7e9 + i
        assert out.loc["IF", f"{col}_se"] == et.loc["IF", f"{col}_se"]   # rows keep theirs
    assert et.loc["TOTAL", "capital_gross_se"] == 2e10                   # input not changed
    metrics["regulatory_net_capital"] += 1e6
    with pytest.raises(ValueError, match="not the same cover or years"):
        with_headline_errors({"event_types": et}, metrics)


def test_dependence_table_names_the_t_copulas_df_and_shows_errors():
    cols = {"df": [float("nan"), float("inf"), 4.0], "tail_dependence": [1.0, 0.0, 0.1618],
            "ratio_to_sum": [1.0, 0.63, 0.80], "cap_binds": [False] * 3}
    for c in ("capital_gross", "recognised_benefit", "capital_net"):
        cols[c], cols[f"{c}_se"] = [1.2e11, 7.7e10, 9.8e10], [9.5e9, 7.5e9, 1.2e10]
    t = dependence_ko(pd.DataFrame(cols, index=pd.Index(["sum", "copula", "t_copula"],
                                                        name="aggregation")))
    assert t.index[2] == "t 코퓰라 (Student-t copula), ν = 4"
    assert t.index[1].startswith("가우스 코퓰라")
    assert t["보험 전 자본"].iloc[2] == format_krw_with_se(9.8e10, 1.2e10, unit="억")
    assert t["꼬리 의존계수 λ (사건유형 쌍 평균)"].tolist() == ["1.00", "0.00", "0.16"]
    assert t["합 대비"].iloc[1] == "63.0%"


def test_dependence_table_on_the_bundled_case_as_notebook_04_shows_it(bases):
    """Notebook 04's cell: the regulatory view of the bundled case under the sum, the
    Gaussian and the t copula (ρ = 0.3, ν = 4), every figure with its error."""
    from opwb.capital import dependence_comparison
    base, s = bases[True], SPEC.settings
    views = apply_views(base.programme, base.sim, seed=base.seed,
                        valuation_date=s.valuation_date, convention=s.haircut_convention)
    table = dependence_comparison(views["regulatory"], 0.3, df=4.0, alpha=s.alpha,
                                  seed=base.seed)
    shown = dependence_ko(table)
    assert shown.index[2].endswith("ν = 4")
    assert all("±" in v for v in shown["보험 전 자본"])
    assert (table["capital_gross"] > 0).all()
    assert table.loc["copula", "capital_gross"] <= table.loc["sum", "capital_gross"]


def test_model_source_says_an_unstated_cap_is_the_default():
    from types import SimpleNamespace

    from opwb.data.units import DEFAULT_NOTE, format_krw

    base = SimpleNamespace(model_set=SimpleNamespace(fingerprint="ab" * 16), data_label="전체",
                           n_years=1_000, seed=3, severity_cap=1e12)
    stated = model_source_ko({True: base})["단일손실 상한"].iloc[0]
    default = model_source_ko({True: base}, cap_stated=False)["단일손실 상한"].iloc[0]
    assert stated == format_krw(1e12) and default == f"{format_krw(1e12)} ({DEFAULT_NOTE})"
