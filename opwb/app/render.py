"""The dashboard's HTML: styles, number formats, tables and status lines (no widgets).

Pure functions from :class:`opwb.scenarios.evaluation.ScenarioResult` and paired differences
(:func:`opwb.scenarios.evaluation.difference`) to HTML strings, and the parsers of what a
manager types (ceilings in 억원, ISO dates). Every amount is shown in 억원 rounded to its
standard error (:func:`opwb.data.units.format_krw_row`); a paired difference within its
error is greyed and marked † (not distinguishable from zero).
"""
from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

from opwb.data.units import EOK, format_krw_row, format_krw_with_se
from opwb.scenarios.answer import structure_ko
from opwb.scenarios.evaluation import METRIC_LABELS, ScenarioResult

__all__ = ["CSS", "PAIRED", "TABLE_ROWS", "compare_table_html", "metrics_table_html",
           "parse_ceiling", "parse_date", "status_html"]

TABLE_ROWS = ("premium", "expected_recovery", "p_claim", "p_exhaust", "retained_if_1in100",
              "retained_if_1in1000", "net_var", "net_es", "bond_regulatory_relief",
              "regulatory_net_capital", "capital_saving", "net_benefit")
_PERCENT = {"loss_ratio", "p_claim", "p_exhaust"}
PAIRED = ("premium", "expected_recovery", "bond_regulatory_relief", "net_var", "net_es",
           "retained_if_1in100", "net_benefit")

CSS = """<style>
.opwb-app {font-size: 14px; max-width: 1180px}
.opwb-app .opwb-head {border-bottom: 2px solid #1f3a93; margin-bottom: 6px}
.opwb-app .opwb-head h2 {margin: 0 0 2px 0; font-size: 19px; color: #1f3a93}
.opwb-app .opwb-note {color:#666; font-size: 12px}
.opwb-answer-card {background:#eef3fb; border-left: 6px solid #1f3a93; padding: 8px 14px;
  border-radius: 4px; font-size: 17px; line-height: 1.5}
.opwb-answer-card .opwb-why {font-size: 12.5px; color:#444; margin-top: 4px}
.opwb-error-card {background:#fdecea; border-left: 6px solid #b03a2e; padding: 8px 14px;
  border-radius: 4px; color:#b03a2e; font-size: 14px}
.opwb-stale {opacity: 0.25; filter: grayscale(1); pointer-events: none}
.opwb-app table.opwb-metrics {border-collapse: collapse; font-size: 12.5px}
.opwb-app table.opwb-metrics th, .opwb-app table.opwb-metrics td {padding: 2px 6px;
  border-bottom: 1px solid #e5e5e5; white-space: nowrap}
.opwb-app table.opwb-metrics td {text-align: right}
.opwb-app .opwb-same {color:#888}
.opwb-app .widget-label {min-width: 0}
.opwb-app, .opwb-app .widget-html-content {word-break: keep-all; overflow-wrap: anywhere}
.opwb-app .opwb-uncertainty {overflow-x: auto; max-width: 100%}
.opwb-app .opwb-uncertainty table.opwb-metrics th {white-space: normal; min-width: 5em}
</style>"""


def parse_ceiling(text: str, what: str) -> float | None:
    """An appetite ceiling typed in 억원: blank → None (no ceiling); else a number >= 0.

    Raises ``ValueError`` in Korean naming ``what`` for anything else.
    """
    t = (text or "").strip().replace(",", "")
    if t == "":
        return None
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"{what}: 숫자(억원)를 입력하거나 비워 두세요 (a number in 억원, or "
                         f"blank for none): {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{what}: 0 이상의 금액이어야 합니다 (must be >= 0): {text!r}")
    return v * EOK


def parse_date(text: str) -> str:
    """A valuation date typed as YYYY-MM-DD (ISO 8601), returned in the same form.

    Raises ``ValueError`` in Korean for anything else (no locale-dependent forms such as
    12/31/20).
    """
    t = (text or "").strip()
    try:
        if len(t) != 10:
            raise ValueError
        return dt.date.fromisoformat(t).isoformat()
    except ValueError:
        raise ValueError(f"평가기준일은 YYYY-MM-DD 형식이어야 합니다 (valuation date as "
                         f"YYYY-MM-DD): {text!r}") from None


def _fmt_row(key: str, results: Sequence[ScenarioResult]) -> list[str]:
    if key in _PERCENT:
        return [f"{r[key]:.1%} ± {r[key + '_se']:.1%}" if r[key + "_se"] > 0 else
                f"{r[key]:.1%}" for r in results]
    return format_krw_row([(r[key], r[key + "_se"]) for r in results], unit="억")


def _diff_cell(d) -> tuple[str, str, str]:
    """(text, class attribute, mark) of a paired difference: exact differences plain,
    differences within the error greyed and marked † (not distinguishable from 0)."""
    text = format_krw_with_se(d["difference"], d["se"])
    if d["se"] == 0 or d["distinguishable"]:
        return text, "", ""
    return text, " class='opwb-same'", " †"


def _short_label(key: str) -> str:
    return {"premium": "연간 보험료", "expected_recovery": "기대 연간 보험금",
            "retained_if_1in100": "내부사취 보유손실 100년 1회", "net_var": "보험 후 VaR 99.9%",
            "bond_regulatory_relief": "BBB의 규제자본 경감",
            "net_benefit": "기대 순편익 (연)"}.get(key, METRIC_LABELS.get(key, key))


def compare_table_html(current: ScenarioResult, recommended: ScenarioResult, diff) -> str:
    """The cover in force, the recommendation and their paired difference (``diff``: the
    frame of :func:`opwb.scenarios.evaluation.difference`, recommended − current)."""
    rows = []
    for key in ("premium", "expected_recovery", "retained_if_1in100", "net_var",
                "bond_regulatory_relief", "net_benefit"):
        x, y = (t.removesuffix("억원") for t in _fmt_row(key, [current, recommended]))
        dtext, cls, note = _diff_cell(diff.loc[key])
        dtext = dtext.removesuffix("억원")
        rows.append(f"<tr><th style='text-align:left'>{html.escape(_short_label(key))}</th>"
                    f"<td>{x}</td><td><b>{y}</b></td><td{cls}>{dtext}{note}</td></tr>")
    head = ("<tr><th>억원</th><th>현행</th><th>권고</th>"
            "<th>차이 (권고−현행)</th></tr>")
    return (f"<div style='margin-left:10px'><b>현행 계약과 권고 비교</b>"
            f"<table class='opwb-metrics'>{head}{''.join(rows)}</table>"
            "<div class='opwb-note'>± 는 표준오차, 차이의 ± 는 같은 모의실험 연도를 공유한 "
            "대응(paired) 표준오차. † 0과 통계적으로 구별되지 않음.</div></div>")


def metrics_table_html(ref: ScenarioResult, res: ScenarioResult, diff,
                       data_label: str = "") -> str:
    """Every figure of :data:`TABLE_ROWS` for the cover in force (``ref``) and a chosen
    alternative (``res``), with the paired difference where ``diff`` has it; ``data_label``
    says which loss data (with or without the case's reference incidents)."""
    rows = []
    for k in TABLE_ROWS:
        x, y = _fmt_row(k, [ref, res])
        if k in diff.index:
            dtext, cls, note = _diff_cell(diff.loc[k])
            dtext += note
        else:
            dtext, cls = "", ""
        rows.append(f"<tr><th style='text-align:left'>{html.escape(METRIC_LABELS[k])}</th>"
                    f"<td>{x}</td><td><b>{y}</b></td><td{cls}>{dtext}</td></tr>")
    head = (f"<tr><th></th><th>{html.escape(ref.alternative.name)}</th>"
            f"<th>{html.escape(res.alternative.name)}</th><th>차이 (선택 − 현행)</th></tr>")
    data = f"손실 데이터: {html.escape(data_label)}. " if data_label else ""
    return (f"<table class='opwb-metrics'>{head}{''.join(rows)}</table>"
            f"<div class='opwb-note'>{data}VaR·ES는 연간 손실의 99.9% "
            "분위수·기대부족분(보험 후는 모든 보험 반영). 규제자본은 적격 보험만 잔존기간 "
            "할인 후 인정하며 경감은 총자본의 20% 이내. 차이는 대응 표준오차와 함께.</div>")


def status_html(res: ScenarioResult, seconds: float, seq: int, data_label: str = "") -> str:
    """The explorer's one-line status, with the figures a browser test reads as data
    attributes."""
    alt = res.alternative
    data = {"state": "ok", "seq": seq, "limit": repr(alt.limit),
            "deductible": repr(alt.deductible), "include-cd": int(res.include_cd),
            "net-var": repr(res["net_var"]),
            "expected-recovery": repr(res["expected_recovery"])}
    attrs = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in data.items())
    return (f"<div class='opwb-result' {attrs} style='color:#1e6b3a;font-size:12px'>✔ "
            f"{html.escape(structure_ko(alt.deductible, alt.limit))} · "
            f"{html.escape(data_label) + ' · ' if data_label else ''}보험 후 VaR "
            f"{format_krw_with_se(res['net_var'], res['net_var_se'])} ({seconds:.2f}초)</div>")
