"""Korean tables of the run database: the recorded runs, a comparison's attribution, the
recommendation's gap and the backtest (:mod:`opwb.runs`)."""
from __future__ import annotations

import math

import pandas as pd

from opwb.data.units import format_krw, format_krw_with_se

__all__ = ["runs_ko", "recommendation_gap_ko", "backtest_ko", "comparison_notes_ko"]


def runs_ko(runs: pd.DataFrame) -> pd.DataFrame:
    """``RunStore.list_runs()`` as Korean columns."""
    out = pd.DataFrame({
        "실행 번호": runs["run_id"].astype(int),
        "이름": runs["label"].fillna("—"),
        "기록 시각 (UTC)": runs["recorded_at"].astype(str).str.slice(0, 19).str.replace("T", " "),
        "은행": runs["case_name"],
        "관측 종료일": runs["as_of"].fillna("—"),
        "평가일": runs["valuation_date"],
        "opwb": runs["opwb_version"],
    })
    return out.reset_index(drop=True)


def recommendation_gap_ko(comparison) -> pd.DataFrame:
    """Per attribution state the net benefit of the later run's recommended structure less
    the earlier one's (억원 a year, rounded to its paired error), and which is ahead where the
    error allows ("같은 구조" when both runs recommend the same)."""
    from opwb.runs.compare import STATE_KO, run_name
    a, b = run_name(comparison.a), run_name(comparison.b)
    column = f"{b} 권고 − {a} 권고 순편익 (연)"
    rows = []
    for _, r in comparison.recommendation.iterrows():
        g, se = float(r["gap"]), float(r["gap_se"])
        ahead = ("같은 구조" if g == 0 and se == 0 else f"{b} 권고가 유리" if g > 1.96 * se
                 else f"{a} 권고가 유리" if g < -1.96 * se else "구별되지 않음")
        rows.append({"상태": STATE_KO.get(r["state"], r["state"]),
                     column: format_krw_with_se(g, se), "판단": ahead,
                     f"{a} 권고가 {b}의 위험선호 안": "예" if r["a_within_b_appetite"]
                     else "아니오 (위험선호 밖)"})
    return pd.DataFrame(rows)


def _p(p: float) -> str:
    return "—" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{p:.3f}"


def backtest_ko(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.runs.compare.backtest` as Korean text."""
    out = pd.DataFrame({
        "사건유형": table["event_type"].replace({"TOTAL": "합계"}),
        "건수 (실제)": table["count"].map(lambda v: f"{int(v):,}"),
        "건수 (기대)": table["expected_count"].map(lambda v: f"{v:,.1f}"),
        "건수 p값": table["p_count"].map(_p),
        "손실액 (실제)": table["loss"].map(format_krw),
        "손실액 (모형 평균)": table["expected_loss"].map(format_krw),
        "분포 내 위치 (PIT)": table["pit"].map(lambda v: f"{v:.0%}"),
        "90% 구간 밖": table["outside_90"].map(lambda v: "예" if v else ""),
        "대형손실 (99% 분위 초과) 실제/기대": [f"{int(a)} / {b:.2f}" for a, b in
                                           zip(table["large"], table["expected_large"])],
    })
    return out


def comparison_notes_ko(comparison) -> str:
    """What changed in the inputs, the recommendation of each run, the comparison's
    sentence, its coverage test and its notes, as Markdown."""
    changes = comparison.changes_ko()
    lines = [("바뀐 입력: " + "; ".join(changes)) if changes else "입력은 바뀌지 않았습니다.",
             comparison.recommendation_change_ko(), comparison.sentence_ko()]
    bt = comparison.backtest
    if bt is not None:
        start, end = bt.attrs["period"]
        lines.append(f"사후검증 기간 {start} 이후 ~ {end} (노출 {bt['exposure'].iloc[0]:.2f}년): "
                     f"90% 구간 밖 사건유형 {bt.attrs['coverage_outside']}개, 기대 "
                     f"{bt.attrs['coverage_expected']:.1f}개 (이항검정 p = "
                     f"{bt.attrs['coverage_p']:.2f}).")
    lines += list(comparison.notes)
    return "\n".join(f"- {line}" for line in lines if line)
