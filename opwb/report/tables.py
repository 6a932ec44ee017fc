"""Tables for people: Korean headers, amounts in 억원 with one precision per column, every
warning in full.

Notebooks and the deck show computed frames through these functions, so the same figure
reads the same everywhere and no notebook carries its own formatting code. Notebook 01's
loss-data tables are in :mod:`opwb.report.loss_tables`, shown with :func:`table_ko`; its
Markdown summaries go through :func:`as_markdown`.

Examples
--------
>>> import pandas as pd
>>> eok_text(pd.Series([8e8, 8.8e8, 1.25e12])).tolist()
['8.0', '8.8', '12,500.0']
"""
from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from opwb.data.taxonomy import EVENT_TYPE_CODES, label
from opwb.data.units import EOK, format_krw, format_number, severity_cap_text
from opwb.data.schema import collected
from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.mle import fit_severity

__all__ = ["STATUS_KO", "frontier_ko", "reasons_markdown", "eok_text", "severity_table_ko", "chosen_models_ko", "takeaways_ko",
           "truncation_effect_ko", "cap_sensitivity_ko", "wrapped", "table_ko", "as_markdown",
           "count_summary_ko", "same_models_ko", "family_weights_ko", "robustness_ko",
           "break_even_ko", "recommendation_frame", "cap_sentence_ko", "completeness_ko",
           "threshold_stability_ko"]

STATUS_KO = {"ok": "정상 (ok)", "edge": "경계 (edge)", "degenerate": "퇴화 (degenerate)",
             "not converged": "미수렴 (not converged)", "not fitted": "적합 불가 (not fitted)"}
"""Korean labels of the fit statuses (:mod:`opwb.fitting.identification`)."""


def eok_text(values: Iterable[float], digits: int = 1) -> pd.Series:
    """KRW → text in 억원 with the same number of decimals for every value ("—" for NaN,
    "∞" for infinity)."""
    s = pd.Series(values, dtype=float)

    return s.map(lambda v: format_number(v / EOK, digits))   # "−" minus, never "-0"


def _p(v) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.2f}"


def severity_table_ko(table: pd.DataFrame) -> pd.DataFrame:
    """A :func:`opwb.fitting.gof.comparison_table` with Korean headers for a report.

    Amounts (the conditional 99.9% single loss) in 억원; statuses and the mean's existence
    in words; every warning in full.
    """
    out = pd.DataFrame({
        "분포 (family)": [f"{SEVERITY_FAMILIES[f].label_ko} ({f})" for f in table["family"]],
        "상태 (status)": [STATUS_KO.get(s, s) for s in table["status"]],
        "꼬리지수 ξ": [("—" if np.isnan(x) else f"{x:.2f}") for x in table["tail_index"]],
        "평균 존재 (finite mean)": [("—" if s == "not fitted" else ("예" if m else "아니오 (무한)"))
                                   for s, m in zip(table["status"], table["finite_mean"])],
        "로그우도": [("—" if np.isnan(v) else f"{v:,.2f}") for v in table["loglik"]],
        "AIC": [("—" if np.isnan(v) else f"{v:,.1f}") for v in table["aic"]],
        "KS p": [_p(v) for v in table["p_ks"]],
        "AD p": [_p(v) for v in table["p_ad"]],
        "AD-up p (꼬리)": [_p(v) for v in table["p_adup"]],
        "99.9% 단일손실 (억원)": eok_text(table["q_single"]).tolist(),
        "경고 (warnings)": table["warnings"].fillna("").tolist(),
    })
    return out


def chosen_models_ko(models: Mapping, *, severity_cap: float | None = None,
                     cap_stated: bool = True) -> pd.DataFrame:
    """The chosen model of every cell: family, frequency, tail, 1-in-1000 loss and the reason
    (in full). ``models``: a :class:`opwb.fitting.modelset.ModelSet` or mapping of CellFit;
    ``severity_cap`` (KRW): where the 1-in-1000 loss exceeds it, the cap is shown beside it,
    said to be opwb's default when ``cap_stated`` is False (the case does not state it:
    ``case.is_default("severity_cap")``)."""
    rows = {}
    for cell, m in models.items():
        sev = m.severity
        q = sev.single_loss_quantile(0.999)
        capped = severity_cap is not None and np.isfinite(severity_cap) and q > severity_cap
        rows[label(cell)] = {
            "심도 분포": f"{SEVERITY_FAMILIES[sev.family].label_ko} ({sev.family})",
            "상태": STATUS_KO.get(sev.status, sev.status),
            "빈도 (연 λ_H)": f"{m.frequency.family} {m.frequency.mean:.1f}건",
            "꼬리지수 ξ": f"{sev.tail_index:.2f}",
            "평균": "존재" if sev.finite_mean else "무한 — 심도 상한 적용",
            "99.9% 단일손실": format_krw(q) + (
                f" → 상한 {severity_cap_text(severity_cap, stated=cap_stated)}"
                if capped else ""),
            "선택 이유 (rule)": m.reason,
        }
    return pd.DataFrame(rows).T


def takeaways_ko(models: Mapping, tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """One Korean sentence per cell: what was chosen, how heavy its tail is, and how many
    families the rule set aside and why (counted by status)."""
    out = {}
    for cell, m in models.items():
        tab = tables.get(cell)
        sev = m.severity
        tail = ("무한평균 꼬리 (ξ ≥ 1): 심도 상한과 함께만 사용" if not sev.finite_mean else
                ("멱꼬리 ξ = %.2f" % sev.tail_index if sev.tail_index > 0 else
                 "로그정규·와이블류 꼬리 (모든 적률 유한)"))
        text = (f"{SEVERITY_FAMILIES[sev.family].label_ko} 선택, {tail}; 1,000건 중 가장 큰 손실 "
                f"{format_krw(sev.single_loss_quantile(0.999))}.")
        if tab is not None and len(tab):
            counts = tab["status"].value_counts()
            parts = [f"{STATUS_KO.get(s, s).split(' ')[0]} {n}개" for s, n in counts.items()
                     if s != "ok"]
            if parts:
                text += " 신뢰할 수 없는 적합: " + ", ".join(parts) + "."
        out[label(cell)] = text
    return pd.Series(out, name="요약 (takeaway)")


def truncation_effect_ko(losses: pd.DataFrame, threshold: float, *,
                         family: str = "lognormal") -> pd.DataFrame:
    """``family`` fitted per event type with the left-truncated likelihood and ignoring the
    threshold: the status of the right fit, its parameters and both 1-in-1000 single losses
    (억원). Ignoring truncation thins the tail."""
    rows = {}
    for et in [c for c in EVENT_TYPE_CODES if c in set(losses["event_type"])]:
        x = losses.loc[(losses["event_type"] == et) & collected(losses["gross_loss"], threshold),
                       "gross_loss"].to_numpy(float)
        right = fit_severity(x, family, threshold=threshold)
        naive = fit_severity(x, family)
        rows[label(et)] = {
            "절단 반영 상태": STATUS_KO[right.status],
            **{f"{p} 반영": f"{v:.3g}" for p, v in right.params.items()},
            **{f"{p} 무시": f"{v:.3g}" for p, v in naive.params.items()},
            "99.9% 단일손실 반영 (억원)": right.single_loss_quantile(),
            "99.9% 단일손실 무시 (억원)": float(naive.isf(0.001 * naive.sf(threshold))),
        }
    out = pd.DataFrame(rows).T
    for col in ("99.9% 단일손실 반영 (억원)", "99.9% 단일손실 무시 (억원)"):
        out[col] = eok_text(out[col]).to_numpy()
    return out


def completeness_ko(table: pd.DataFrame, *, level: float = 0.05) -> pd.DataFrame:
    """:func:`opwb.fitting.completeness.completeness_table` for a report: per event type the
    band (만원/억원), losses observed in it and expected by the chosen family fitted above
    the threshold and above the band, the one-sided probabilities of so few, and a verdict
    at ``level``."""
    rows = {}
    for _, r in table.iterrows():
        name = label(r["cell"]) if r["cell"] in EVENT_TYPE_CODES else str(r["cell"])
        band = f"{format_krw(r['threshold'])} 이상 {format_krw(r['upper'])} 미만"
        if pd.isna(r.get("p_value")):
            rows[name] = {"구간": band, "분포": r["family"], "관측 건수": "—",
                          "기대 건수 (임계값 위 적합)": "—", "p (적음)": "—",
                          "기대 건수 (구간 위 적합)": "—", "p (적음, 구간 위)": "—",
                          "판정": f"검정 불가: {r['note']}"}
            continue
        up = r["expected_from_upper"]
        low = r["p_value"] < level or (pd.notna(r["p_value_from_upper"])
                                       and r["p_value_from_upper"] < level)
        rows[name] = {
            "구간": band, "분포": r["family"], "관측 건수": f"{int(r['observed'])} / {int(r['n'])}",
            "기대 건수 (임계값 위 적합)": f"{r['expected']:.1f}",
            "p (적음)": f"{r['p_value']:.3f}",
            "기대 건수 (구간 위 적합)": "—" if pd.isna(up) else f"{up:.1f}",
            "p (적음, 구간 위)": ("—" if pd.isna(r["p_value_from_upper"])
                                else f"{r['p_value_from_upper']:.3f}"),
            "판정": ("임계값 바로 위 손실이 기대보다 적음: 수집 누락 가능성 (적합 임계값 상향 검토)"
                   if low else "기대와 구별되지 않음")}
    return pd.DataFrame(rows).T


def threshold_stability_ko(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.scenarios.sensitivity.threshold_stability` for a report: per event type
    (rows) and fitting threshold (columns) the cell's 99.9% VaR in 억원 (the FFT's
    discretisation error is far below the rounding), or why there is none."""
    out = {}
    for _, r in table.iterrows():
        name = label(r["cell"]) if r["cell"] in EVENT_TYPE_CODES else str(r["cell"])
        col = f"{format_krw(r['threshold'])} ({r['multiple']:g}배)"
        if pd.notna(r["var"]):
            text = format_krw(float(r["var"]), unit="억", digits=0)
        else:
            text = "— (" + ("손실 부족" if "fewer than" in str(r["note"]) else
                            "평균 무한·상한 없음" if "infinite mean" in str(r["note"])
                            else "적합 불가") + ")"
        out.setdefault(name, {})[col] = f"{text} [{int(r['n_losses'])}건]"
    return pd.DataFrame(out).T


def cap_sensitivity_ko(sens: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.scenarios.cap_sensitivity` for a report: caps in words, capital and its
    standard error in 억원, ES only where it exists."""
    return pd.DataFrame({
        "심도 상한": ["없음" if np.isinf(c) else format_krw(c) for c in sens["severity_cap"]],
        "자본 (VaR 합, 억원)": eok_text(sens["capital_sum"], 0).to_numpy(),
        "± 표준오차 (억원)": eok_text(sens["capital_sum_se"], 0).to_numpy(),
        "합계 손실 VaR (억원)": eok_text(sens["total_var"], 0).to_numpy(),
        "합계 손실 ES (억원)": [t if e else "존재하지 않음 (무한평균)" for t, e in
                             zip(eok_text(sens["total_es"], 0), sens["es_exists"])],
    })


def cap_sentence_ko(sens: pd.DataFrame, cap: float | None, *, cap_stated: bool = True) -> str:
    """One plain sentence on what the severity cap does to capital (Basel sum of VaRs), from
    :func:`opwb.scenarios.cap_sensitivity` run at multiples of ``cap`` (KRW; None: no cap);
    the cap is said to be opwb's default when ``cap_stated`` is False (the case does not
    state it).

    When halving or doubling the cap moves capital by more than its share of its own
    standard error and by over 10%, the sentence says that the cap, a modelling choice,
    sets the capital; otherwise that the data do."""
    caps = sens["severity_cap"].to_numpy(float)
    k = sens["capital_sum"].to_numpy(float)
    se = sens["capital_sum_se"].to_numpy(float)
    if cap is None or not np.isfinite(cap) or not np.isclose(caps, cap).any():
        i = int(np.argmax(np.isinf(caps))) if np.isinf(caps).any() else 0
        return (f"단일손실 상한이 없을 때 자본(사건유형별 VaR 합)은 "
                f"{eok_text([k[i]], 0).iloc[0]}억원입니다.")
    i = int(np.flatnonzero(np.isclose(caps, cap))[0])
    moves = []
    for f in (0.5, 2.0):
        j = np.flatnonzero(np.isclose(caps, f * cap))
        if j.size:
            j = int(j[0])
            change = k[j] / k[i] - 1
            noise = 2 * math.hypot(se[i], se[j]) / k[i]
            moves.append((f, change, abs(change) > max(0.10, noise)))
    text = (f"단일손실 상한 {severity_cap_text(cap, stated=cap_stated)}에서 "
            f"자본(사건유형별 VaR 합)은 {eok_text([k[i]], 0).iloc[0]}억원입니다.")
    parts = [f"상한을 {'절반으로' if f == 0.5 else '두 배로'} 하면 "
             f"{format_number(change, 0, sign=True, percent=True)}"
             for f, change, _ in moves]
    if any(big for _, _, big in moves):
        return (f"{text} 이 자본은 데이터보다 단일손실 상한이라는 가정이 정합니다: "
                f"{', '.join(parts)}. 상한은 시나리오 분석(최악의 그럴듯한 손실)으로 정해야 할 "
                "가정입니다.")
    return f"{text} 상한을 바꾸어도 자본은 크게 움직이지 않습니다 ({', '.join(parts)})."


def wrapped(frame: pd.DataFrame, *, caption: str | None = None, hide_index: bool = False):
    """A pandas Styler that wraps long text instead of cutting it off (for notebooks and
    the deck): every cell left-aligned, text columns wrapped at word boundaries."""
    styler = frame.style.hide(axis="index") if hide_index else frame.style
    styler = styler.set_table_styles([
        {"selector": "td", "props": [("white-space", "normal"), ("text-align", "left"),
                                     ("vertical-align", "top"), ("max-width", "46em")]},
        {"selector": "th", "props": [("text-align", "left"), ("white-space", "normal")]},
    ])
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return styler


_FRONTIER_COLUMNS = {
    "premium": "연간 보험료", "expected_recovery": "기대 보험금", "p_exhaust": "한도 소진 확률",
    "retained_if_1in100": "내부사취 보유손실 (100년 1회)", "net_var": "보험 후 VaR 99.9%",
    "bond_regulatory_relief": "BBB 규제자본 경감", "net_benefit": "기대 순편익",
}


def frontier_ko(table: pd.DataFrame, *, eligible=None) -> pd.DataFrame:
    """A frontier (:func:`opwb.scenarios.frontier.frontier`) for reading: Korean headers,
    amounts in 억원 rounded to their standard errors (one decimal position per column, the
    least precise row's), probabilities in %, and whether each structure is within the risk
    appetite (``eligible``: booleans per row, optional)."""
    from opwb.data.units import format_krw_row
    out = pd.DataFrame({"보상한도": [f"{x / 1e8:,.0f}억원" for x in table["limit"]],
                        "공제금액": [f"{x / 1e8:,.0f}억원" for x in table["deductible"]]})
    for col, ko in _FRONTIER_COLUMNS.items():
        if col == "p_exhaust":
            out[ko] = [f"{v:.2%}" for v in table[col]]
        elif col == "premium":
            out[ko] = [f"{v / 1e8:,.1f}억원" for v in table[col]]
        else:
            out[ko] = format_krw_row(zip(table[col], table[f"{col}_se"]), unit="억")
    if eligible is not None:
        out["위험선호 충족"] = ["예" if e else "아니오" for e in eligible]
    out.attrs = {}
    return out


def family_weights_ko(weights) -> pd.DataFrame:
    """The predictive model's severity families per cell (:func:`opwb.decision.family_weights`):
    event type, losses fitted, each family with its Akaike weight and ΔAIC, and whether the
    data pick the family."""
    from opwb.data.taxonomy import label
    rows = []
    for cell, w in weights.items():
        a0 = min(w.aic)
        rows.append({"사건유형": label(cell), "손실 건수": f"{w.n:,}",
                     "손실분포군 (아카이케 가중치, ΔAIC)": " · ".join(
                         f"{f} {p:.0%} (Δ {a - a0:.1f})"
                         for f, p, a in zip(w.families, w.weights, w.aic)),
                     "데이터가 분포군을 정함": "예" if w.decided else "아니오"})
    return pd.DataFrame(rows)


def robustness_ko(robust: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`opwb.decision.robustness` for reading, highest share of worlds first: structure,
    the share of worlds in which it is best, its expected regret (억원 a year, ± its error)."""
    from opwb.data.units import format_krw_row
    r = robust.sort_values(["p_best", "regret"], ascending=[False, True])
    out = pd.DataFrame({
        "보상한도": [f"{x / 1e8:,.0f}억원" for x in r.index.get_level_values("limit")],
        "공제금액": [f"{x / 1e8:,.0f}억원" for x in r.index.get_level_values("deductible")],
        "최선인 세계의 비율": [f"{p:.0%}" for p in r["p_best"]],
        "기대 후회 (억원/년)": format_krw_row(zip(r["regret"], r["regret_se"]), unit="억"),
    })
    return out


def break_even_ko(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.decision.break_even` for reading: structure, quoted premium, expected claims,
    payout ratio (flagged when the quote is below the insurer's expected payments) and the
    break-even premium, in 억원 a year rounded to their errors."""
    from opwb.data.units import format_krw_row
    return pd.DataFrame({
        "보상한도": [f"{x / 1e8:,.0f}억원" for x in frame["limit"]],
        "공제금액": [f"{x / 1e8:,.0f}억원" for x in frame["deductible"]],
        "보험료 (견적 기준)": [f"{x / 1e8:,.1f}억원" for x in frame["premium"]],
        "기대 보험금": format_krw_row(zip(frame["expected_recovery"],
                                       frame["expected_recovery_se"]), unit="억"),
        "지급률": [f"{p:.0%}" + (" ⚠ 보험사 기대 지급액보다 낮은 보험료" if b else "")
                for p, b in zip(frame["payout_ratio"], frame["below_expected"])],
        "손익분기 보험료": format_krw_row(zip(frame["break_even_premium"],
                                        frame["break_even_premium_se"]), unit="억"),
    })


def recommendation_frame(robust, cd: bool = True) -> pd.DataFrame:
    """The answer on the predictive model (:class:`opwb.decision.RobustAnswer`) as one
    table for Excel: item (Korean), key and value — the recommended deductible, limit and
    premium (KRW), its net benefit and gain on the cover in force with their standard
    errors, the share of worlds in which it is best, its expected regret and break-even
    premium, the predictive model's size and the sentence management reads."""
    from opwb.scenarios.recommend import Recommendation
    ans = robust.answer
    rec = ans.recommendations[cd]
    if not isinstance(rec, Recommendation):
        return pd.DataFrame({"항목": ["권고"], "key": ["recommendation"], "값": [str(rec)]})
    p_best, regret, regret_se = robust.recommended_robustness(cd)
    row = robust.break_even_row(cd, rec)
    nb, nb_se = rec.net_benefit
    rows = [("권고 공제금액 (원)", "deductible", rec.deductible),
            ("권고 보상한도 (원)", "limit", rec.limit),
            ("연간 보험료 (원)", "premium", float(rec.structure["premium"])),
            ("기대 순편익 (원/년)", "net_benefit", nb),
            ("기대 순편익 표준오차", "net_benefit_se", nb_se),
            ("최선인 세계의 비율", "p_best", p_best),
            ("기대 후회 (원/년)", "regret", regret),
            ("기대 후회 표준오차", "regret_se", regret_se),
            ("손익분기 보험료 (원/년)", "break_even_premium", float(row["break_even_premium"])),
            ("손익분기 보험료 표준오차", "break_even_premium_se",
             float(row["break_even_premium_se"])),
            ("지급률 (기대 보험금 ÷ 보험료)", "payout_ratio", float(row["payout_ratio"])),
            ("세계 수", "n_worlds", robust.worlds[cd].n_worlds),
            ("세계마다 모의실험 연수", "world_years", robust.worlds[cd].world_years),
            ("권고 문장", "sentence", robust.sentence_ko(cd))]
    vs = ans.versus_current.get(cd)
    if vs is not None:
        rows[5:5] = [("현행 대비 순편익 차이 (원/년)", "gain_on_current",
                      float(vs.loc["net_benefit", "difference"])),
                     ("현행 대비 차이 표준오차 (대응)", "gain_on_current_se",
                      float(vs.loc["net_benefit", "se"]))]
    return pd.DataFrame(rows, columns=["항목", "key", "값"])


def reasons_markdown(rec) -> str:
    """A recommendation's reasons (:class:`opwb.scenarios.recommend.Recommendation`) as a
    Markdown list."""
    return "\n".join(f"- {r}" for r in rec.reasons)


_NUMBER_TEXT = r"^\s*(?:[-+]?[\d,]+(?:\.\d+)?%?|—|∞|-∞)\s*$"
_SHORT_TEXT = 12          # characters: a column no longer than this never breaks a line
_UNIT = re.compile(r"\s(\([^()]*\))$")


def _header_html(text) -> str:
    """An escaped header with its final "(unit)" kept on one line: "(건/년)" never splits."""
    return _UNIT.sub(lambda m: f' <span style="white-space: nowrap">{m.group(1)}</span>', str(text))


def table_ko(frame: pd.DataFrame, *, caption: str | None = None, hide_index: bool = False):
    """Show a ``*_ko`` frame in a notebook: :func:`wrapped` (long text wrapped, never cut
    off, everything HTML-escaped) with Korean lines broken only between words
    (``word-break: keep-all``), a header's final "(unit)" kept on one line, number columns
    right-aligned on one line, short text columns (no cell over 12 characters: dates,
    event ids, "위험 전가") on one line, and longer text wrapped within a minimum width
    (7em; 16em for text over 24 characters) so a narrow window scrolls the table sideways
    rather than squeezing a description into a sliver.

    A column counts as numbers when every cell is a number written as text ("1,234.56",
    "12.5%", "—" for none). Returns a pandas Styler (shown as HTML by Jupyter and Voila).
    """
    styler = wrapped(frame, caption=caption, hide_index=hide_index)
    styler = styler.format(escape="html") \
        .format_index(_header_html, escape="html", axis=0) \
        .format_index(_header_html, escape="html", axis=1)
    if hasattr(styler, "format_index_names"):       # pandas >= 3.0: the axis names too
        styler = styler.format_index_names(_header_html, escape="html", axis=0) \
            .format_index_names(_header_html, escape="html", axis=1)
    styles = [{"selector": "td, th", "props": [("word-break", "keep-all")]},
              {"selector": "th", "props": [("vertical-align", "top")]}]
    for j, col in enumerate(frame.columns):
        text = frame[col].astype(str)
        if not len(text):
            continue
        if text.str.match(_NUMBER_TEXT).all():
            styles += [{"selector": f"td.col{j}",
                        "props": [("text-align", "right"), ("white-space", "nowrap")]},
                       {"selector": f"th.col_heading.col{j}", "props": [("text-align", "right")]}]
        elif text.str.len().max() <= _SHORT_TEXT:
            styles.append({"selector": f"td.col{j}", "props": [("white-space", "nowrap")]})
        else:       # wraps, but never into a sliver: a narrow window scrolls the table instead
            width = "16em" if text.str.len().max() > 2 * _SHORT_TEXT else "7em"
            styles.append({"selector": f"td.col{j}", "props": [("min-width", width)]})
    return styler.set_table_styles(styles, overwrite=False)


def as_markdown(text: str):
    """``IPython.display.Markdown`` of ``text`` whose plain-text form is ``text`` too, so a
    log, terminal or test reading ``text/plain`` sees the same summary as the notebook."""
    from IPython.display import Markdown

    class _Markdown(Markdown):
        def __repr__(self) -> str:
            return self.data

    return _Markdown(text)


def count_summary_ko(counts: pd.DataFrame, threshold: float) -> str:
    """One Korean line on the annual counts of :func:`opwb.fitting.annual_counts`: losses at
    or above the collection threshold, the years and, when the observation window has
    partial years, the exposure in years (``counts.attrs["exposure"]``)."""
    n = int(counts.to_numpy().sum())
    exposure = counts.attrs.get("exposure")
    span = f"{counts.index.min()}–{counts.index.max()}년"
    if exposure is not None and not np.allclose(np.asarray(exposure, float), 1.0):
        span += f", 노출 {float(np.sum(exposure)):.2f}년"
    return f"수집기준 {format_krw(threshold)} 이상 손실 {n:,}건, {len(counts)}개 연도 ({span})"


def same_models_ko(fitted: Mapping, used: Mapping) -> str:
    """Whether the models notebook 02 fits are the ones the scenarios and capital use
    (:func:`opwb.fitting.models_for` of the case), cell by cell, in Korean."""
    diff = [cell for cell, m in fitted.items()
            if cell not in used or used[cell].severity.family != m.severity.family]
    if not diff:
        return "시나리오·자본 계산에 쓰이는 모형과 같습니다 (모든 사건유형)."
    return ("시나리오·자본 계산에 쓰이는 모형과 다른 사건유형: "
            + ", ".join(f"{label(c)} ({used[c].severity.family if c in used else '없음'})"
                        for c in diff))
