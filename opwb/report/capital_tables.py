"""The capital-offset tables of notebook 04 for people: the seed's four steps (slide 2-5) —
policies, qualifying standards, coverage by event type, capital relief — with Korean
headers, amounts in 억원 and every Monte Carlo figure as "value ± standard error" rounded to
that error (:func:`opwb.data.units.format_krw_with_se`).

Each function takes a computed result (a programme, :func:`opwb.insurance.eligibility_table`,
:func:`opwb.capital.audit_table`, :func:`opwb.capital.capital_summary`,
:func:`opwb.capital.standardised_approach`) and returns a DataFrame of text; nothing here
computes a figure.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from opwb.data.taxonomy import EVENT_TYPE_CODES, label
from opwb.data.units import (EOK, NOT_EXISTING, format_krw, format_krw_with_se, format_number,
                             severity_cap_text)
from opwb.insurance.eligibility import CHECK_LABELS_KO

__all__ = [
    "AGGREGATION_KO",
    "aggregation_ko",
    "audit_event_types_ko",
    "audit_policies_ko",
    "bundled_fingerprints",
    "consistency_ko",
    "dependence_ko",
    "coverage_ko",
    "eligibility_ko",
    "model_source_ko",
    "programme_ko",
    "standardised_ko",
    "with_headline_errors",
    "AUDIT_HEADLINE",
]

AGGREGATION_KO: dict[str, str] = {
    "sum": "사건유형별 VaR의 합 (sum, Basel 기본)",
    "independent": "독립 합산 (independent)",
    "copula": "가우스 코퓰라 (Gaussian copula)",
    "t_copula": "t 코퓰라 (Student-t copula)",
}
"""Korean names of the aggregation methods of :func:`opwb.capital.capital_summary`."""


def _amount(v: float) -> str:
    """An exact amount (contract terms) in 억원; "무제한" for no limit."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return "무제한" if math.isinf(v) else format_krw(v, unit="억", digits=1)


def _pm(frame: pd.DataFrame, col: str) -> list[str]:
    """Column ``col`` with its ``col_se`` as "value ± se억원" text."""
    return [format_krw_with_se(v, s, unit="억") for v, s in zip(frame[col], frame[f"{col}_se"])]


def _pct(v: float, digits: int = 1) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}%}"


def _policy_name(name: str, pid: str) -> str:
    return f"{name} ({pid})"


def programme_ko(programme: Any) -> pd.DataFrame:
    """Step 1: every policy's terms (amounts in 억원, exact contract figures)."""
    f = programme.to_frame()
    return pd.DataFrame({
        "보험계약": [_policy_name(n, p) for n, p in zip(f["name"], f["policy_id"])],
        "보험사": f["insurer"], "신용등급": f["insurer_rating"],
        "보험기간": [f"{a:%Y-%m-%d} ~ {b:%Y-%m-%d}" for a, b in zip(f["inception"], f["expiry"])],
        "공제금액": [_amount(v) for v in f["deductible"]],
        "건당 보상한도": [_amount(v) for v in f["limit"]],
        "연간 총한도": [_amount(v) for v in f["aggregate_limit"]],
        "보험사 분담비율": [_pct(v, 0) for v in f["coinsurance"]],
        "연간 보험료": [_amount(v) for v in f["premium"]],
        "보상 기준": f["claims_basis"].map({"claims-made": "배상청구 기준 (claims-made)",
                                         "losses-occurring": "손해발생 기준 (losses-occurring)"}
                                        ).fillna(f["claims_basis"]),
    })


def eligibility_ko(eligibility: pd.DataFrame) -> pd.DataFrame:
    """Step 2: the qualifying standards (Basel II 677-679) and the residual-term haircut
    of each policy, reasons in Korean."""
    e = eligibility
    failed = ["; ".join(CHECK_LABELS_KO.get(c, c) for c in codes) or "—"
              for codes in e["failed"]]
    return pd.DataFrame({
        "보험계약": [_policy_name(n, p) for n, p in zip(e["name"], e["policy_id"])],
        "신용등급": e["insurer_rating"],
        "자격 충족": ["예" if ok else "아니오" for ok in e["eligible"]],
        "미충족 요건": failed,
        "잔존일수": [f"{int(d):,}일" for d in e["residual_days"]],
        "잔존기간 할인": [_pct(v) for v in e["haircut"]],
        "자본 경감 인정비율": [_pct(v) for v in e["recognition"]],
    })


def coverage_ko(programme: Any) -> pd.DataFrame:
    """Step 3: the coverage matrix — the share of each event type's losses within each
    policy's wording (blank where a policy does not answer the event type)."""
    rows = {}
    for p in programme:
        rows[_policy_name(p.name, p.policy_id)] = {
            label(et): (f"{p.covers(et):.0%}" if p.covers(et) > 0 else "")
            for et in EVENT_TYPE_CODES}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "보험계약"
    return out


_AUDIT_ET = {
    "gross_loss_mean": "연평균 총손실",
    "ceded_mean": "연평균 출재 (약관상 보험금)",
    "recognised_mean": "연평균 인정 회수액 (규제)",
    "capital_gross": "보험 전 자본",
    "capital_net_economic": "보험 후 자본 (경제적 관점)",
    "capital_net_modelled": "보험 후 자본 (규제, 한도 전)",
    "recognised_benefit": "인정 경감 (20% 한도 후)",
    "capital_net": "보험 후 규제자본",
}


def _et_label(code: str) -> str:
    return "합계 (TOTAL)" if code == "TOTAL" else label(code)


def audit_event_types_ko(table: pd.DataFrame) -> pd.DataFrame:
    """The audit table by event type (:func:`opwb.capital.audit_table` ``"event_types"``):
    mean annual loss → ceded → recognised → capital, each "value ± se억원"."""
    out = pd.DataFrame({ko: _pm(table, col) for col, ko in _AUDIT_ET.items()},
                       index=[_et_label(c) for c in table.index])
    out.index.name = "사건유형"
    return out


_AUDIT_POL = {
    "ceded_mean": "연평균 출재 (약관상 보험금)",
    "recovery_economic_mean": "연평균 회수액 (경제적, 부도·지연 반영)",
    "recognised_mean": "연평균 인정 회수액 (규제)",
    "relief": "배분된 인정 자본 경감",
}


def audit_policies_ko(table: pd.DataFrame) -> pd.DataFrame:
    """The audit table by policy (:func:`opwb.capital.audit_table` ``"policies"``):
    eligibility, recovery and the allocated capital relief, each with its error."""
    t = table
    out = pd.DataFrame(
        {"보험계약": [_policy_name(n, p) for n, p in zip(t["name"], t.index)]
         if "name" in t else list(t.index),
         **({"자격 충족": ["예" if ok else "아니오" for ok in t["eligible"]]}
            if "eligible" in t else {}),
         **({"자본 경감 인정비율": [_pct(v) for v in t["recognition"]]}
            if "recognition" in t else {}),
         **{ko: _pm(t, col) for col, ko in _AUDIT_POL.items()},
         "경감 비중": [_pct(v) for v in t["share"]]})
    return out


def aggregation_ko(totals: pd.DataFrame) -> pd.DataFrame:
    """Capital by aggregation method (:attr:`CapitalSummary.totals`), with errors."""
    out = pd.DataFrame({
        "보험 전 자본": _pm(totals, "capital_gross"),
        "인정 경감 (20% 한도 후)": _pm(totals, "recognised_benefit"),
        "보험 후 규제자본": _pm(totals, "capital_net"),
        "20% 한도 적용": ["예" if b else "아니오" for b in totals["cap_binds"]],
    }, index=[AGGREGATION_KO.get(a, a) for a in totals.index])
    out.index.name = "합산 방식"
    return out


def dependence_ko(table: pd.DataFrame) -> pd.DataFrame:
    """Capital under the Basel sum, the Gaussian and the t copula
    (:func:`opwb.capital.dependence_comparison`), with errors; the t copula's row names ν."""
    names = [f"{AGGREGATION_KO['t_copula']}, ν = {nu:g}" if a == "t_copula"
             else AGGREGATION_KO.get(a, a) for a, nu in zip(table.index, table["df"])]
    out = pd.DataFrame({
        "꼬리 의존계수 λ (사건유형 쌍 평균)": [f"{v:.2f}" for v in table["tail_dependence"]],
        "보험 전 자본": _pm(table, "capital_gross"),
        "합 대비": [_pct(v) for v in table["ratio_to_sum"]],
        "인정 경감 (20% 한도 후)": _pm(table, "recognised_benefit"),
        "보험 후 규제자본": _pm(table, "capital_net"),
    }, index=pd.Index(names, name="합산 방식"))
    return out


def standardised_ko(result: Any) -> pd.DataFrame:
    """The Basel III standardised approach (:class:`opwb.capital.SAResult`) from gross and
    from net losses: LC, ILM, BIC and ORC (억원, exact: no simulation)."""
    f = result.to_frame()
    krw = result.currency == "KRW"

    def amt(v: float) -> str:
        return f"{format_number(v / EOK, 1)}억원" if krw else \
            f"{format_number(v, 0)} {result.currency}"
    return pd.DataFrame({
        "손실요소 LC (15 × 연평균 손실)": [amt(v) for v in f["lc"]],
        "ILM": [NOT_EXISTING if math.isnan(v) else f"{v:.4f}" for v in f["ilm"]],
        "영업지수요소 BIC": [amt(v) for v in f["bic"]],
        "표준방법 자본 ORC = BIC × ILM": [amt(v) for v in f["orc"]],
    }, index=pd.Index(["총손실 기준 (gross)", "회수액 차감 후 (net of recoveries)"],
                      name="손실"))


#: Audit TOTAL columns and the scenario figures (:func:`opwb.scenarios.evaluate`) they equal.
AUDIT_HEADLINE = (("capital_gross", "regulatory_gross_capital"),
                  ("recognised_benefit", "regulatory_relief"),
                  ("capital_net", "regulatory_net_capital"))


def with_headline_errors(audit: Mapping[str, pd.DataFrame], metrics: Mapping[str, float]
                         ) -> dict[str, pd.DataFrame]:
    """The audit tables with the ``TOTAL`` row's standard errors of gross capital,
    recognised relief and net capital replaced by the scenario figures' (``metrics`` of
    :func:`opwb.scenarios.evaluate` for the same cover on the same stored years).

    Why: the totals are the same numbers (to the won), but their error is not the
    root-sum-square of the event types' errors — the total is a sum of 99.9% quantiles
    capped at 20% of gross capital, whose error the scenario figures give by a year
    bootstrap of the summed, capped capital (:mod:`opwb.scenarios.figures`). One figure,
    one error, in the notebook, the audit and the Excel export.

    Raises
    ------
    ValueError
        When a total differs from its scenario figure by more than one won per 10¹² (not the
        same cover or the same years).
    """
    out = {k: v.copy() for k, v in audit.items()}
    et = out["event_types"]
    for col, key in AUDIT_HEADLINE:
        total, figure = float(et.loc["TOTAL", col]), float(metrics[key])
        if abs(total - figure) > 1.0 + 1e-12 * abs(figure):
            raise ValueError(f"audit TOTAL {col} = {total:,.0f} KRW is not the scenario's "
                             f"{key} = {figure:,.0f} KRW: not the same cover or years")
        et.loc["TOTAL", f"{col}_se"] = float(metrics[f"{key}_se"])
    return out


def consistency_ko(audit: Mapping[str, pd.DataFrame], metrics: Mapping[str, float]
                   ) -> pd.DataFrame:
    """The audit table's totals beside the scenario figures of the same cover
    (:func:`opwb.scenarios.evaluate`), and the sum of its event-type rows: three ways to
    the same capital. Differences in won (floating-point rounding only)."""
    et = audit["event_types"]
    rows = et.drop(index="TOTAL")
    names = {"capital_gross": "보험 전 규제자본", "recognised_benefit": "인정 경감 (20% 한도 후)",
             "capital_net": "보험 후 규제자본"}
    pairs = tuple((names[col], col, key) for col, key in AUDIT_HEADLINE)
    out = []
    for name, col, key in pairs:
        total = float(et.loc["TOTAL", col])
        out.append({"항목": name,
                    "시나리오 수치 (evaluate)": format_krw_with_se(metrics[key],
                                                             metrics[f"{key}_se"]),
                    "감사표 합계 (TOTAL)": format_krw_with_se(total, et.loc["TOTAL", f"{col}_se"]),
                    "차이: 시나리오 − 감사표 (원)": format_number(metrics[key] - total),
                    "차이: 사건유형 합 − 합계 (원)": format_number(float(rows[col].sum())
                                                                 - total)})
    return pd.DataFrame(out).set_index("항목")


def model_source_ko(bases: Mapping[bool, Any], *, cap_stated: bool = True) -> pd.DataFrame:
    """Where each scenario base's models come from — the bundled model file fitted on
    exactly these losses, or a new fit of the loaded losses by the model-choice rule — with
    the fingerprint of the losses (:func:`opwb.fitting.modelset.losses_fingerprint`), the
    years, seed and severity cap of its simulation (said to be opwb's default when
    ``cap_stated`` is False: the case does not state it)."""
    by_print = {fp: name for name, fp in bundled_fingerprints().items()}
    rows = {}
    for cd, base in bases.items():
        fp = getattr(base.model_set, "fingerprint", "") or ""
        src = (f"번들 모형 파일 data/{by_print[fp]} (같은 손실에 적합)" if fp in by_print
               else "불러온 손실에 새로 적합 (모형 선택 규칙)")
        rows[base.data_label] = {"모형 출처": src, "손실 지문 (fingerprint)": fp[:16],
                                    "모의실험 연수": f"{base.n_years:,}년",
                                    "시드": str(base.seed),
                                    "단일손실 상한": severity_cap_text(base.severity_cap,
                                                                   stated=cap_stated)}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "기준"
    return out


def bundled_fingerprints() -> dict[str, str]:
    """``{file name: fingerprint}`` of the bundled model files (the losses each was fitted
    on, :func:`opwb.fitting.modelset.losses_fingerprint`)."""
    from opwb.data.bundled import data_path
    from opwb.fitting.modelset import BUNDLED_MODEL_FILES
    out = {}
    for name in BUNDLED_MODEL_FILES:
        path = data_path(name)
        if path.is_file():
            out[name] = json.loads(path.read_text(encoding="utf-8")).get("fingerprint", "")
    return out
