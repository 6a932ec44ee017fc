"""The dashboard's HTML: styles, number formats, tables and status lines (no widgets).

Pure functions from :class:`opwb.scenarios.evaluation.ScenarioFigures` and paired differences
(:func:`opwb.scenarios.evaluation.difference`) to HTML strings: the page's CSS (the page
fills the window; charts sized by CSS and drawn at :data:`FIGURE_DPI`), the tables, the
status line, the robustness section and the work indicator. The parsers of what a manager
types live in :mod:`opwb.app.inputs` (re-exported here). Every amount is shown in 억원
rounded to its standard error (:func:`opwb.data.units.format_krw_row`); a paired difference
within its error is greyed and marked † (not distinguishable from zero); no figure is ever
shown as "-0" (:func:`percent`; the amount formatters of :mod:`opwb.data.units`).
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from opwb.app.inputs import parse_ceiling, parse_date
from opwb.data.units import format_krw, format_krw_row, format_krw_with_se, format_number
from opwb.scenarios.answer import structure_ko
from opwb.scenarios.evaluation import METRIC_LABELS, ScenarioFigures

__all__ = ["CSS", "FIGURE_DPI", "TABLE_ROWS", "compare_table_html", "note_html",
           "error_line_html",
           "metrics_table_html", "parse_ceiling", "parse_date", "percent", "robust_section_html",
           "status_html", "working_html"]

#: Resolution of the page's charts: 1.6 image pixels per CSS pixel at the size the layout
#: was drawn for (90 dpi), so a chart the page widens to fill a 1920-pixel screen stays sharp
#: and its smallest text (7.5–8 pt) is drawn 16 px or more high there, and one shrunk to a
#: 1024-pixel laptop's width still fits (CSS scales the image to its box).
FIGURE_DPI = 144

TABLE_ROWS = ("premium", "expected_recovery", "p_claim", "p_exhaust", "retained_if_1in100",
              "retained_if_1in1000", "net_var", "net_es", "bond_regulatory_relief",
              "regulatory_net_capital", "capital_saving", "net_benefit")
_PERCENT = {"loss_ratio", "p_claim", "p_exhaust"}

# The heat map (.opwb-heatmap-box) is shown at least 441 CSS px wide (a 1024-px page) and at
# least 40% of the window's width on a wider one (768 px at 1920), at most 980 px: the widths
# its legend's size (opwb.report.plots.scenario.LEGEND_FONTSIZE) is chosen for.
CSS = """<style>
.opwb-app {font-size: 14px; max-width: 2400px; box-sizing: border-box}
.opwb-app .opwb-head {border-bottom: 2px solid #1f3a93; margin-bottom: 6px}
.opwb-app .opwb-head h2 {margin: 0 0 2px 0; font-size: 19px; color: #1f3a93}
.opwb-app .opwb-note {color:#666; font-size: 12px}
.opwb-answer-card {background:#eef3fb; border-left: 6px solid #1f3a93; padding: 8px 14px;
  border-radius: 4px; font-size: 17px; line-height: 1.5}
.opwb-answer-card .opwb-why {font-size: 12.5px; color:#444; margin-top: 4px}
.opwb-error-card {background:#fdecea; border-left: 6px solid #b03a2e; padding: 8px 14px;
  border-radius: 4px; color:#b03a2e; font-size: 14px}
.opwb-stale {opacity: 0.25; filter: grayscale(1); pointer-events: none}
.opwb-busy {opacity: 0.35; filter: grayscale(1);
  transition: opacity 0.1s linear 0.1s, filter 0.1s linear 0.1s}
.opwb-working {position: fixed; top: 10px; right: 18px; z-index: 1000}
.opwb-working-box {background: #1f3a93; color: #fff; padding: 7px 14px; border-radius: 4px;
  font-size: 14px; box-shadow: 0 2px 8px rgba(0,0,0,0.3); white-space: nowrap}
.opwb-working-box .opwb-step {opacity: 0.85; font-size: 12.5px; margin-left: 6px}
.opwb-spinner {display: inline-block; width: 12px; height: 12px; margin-right: 8px;
  border: 2px solid #fff; border-right-color: transparent; border-radius: 50%;
  vertical-align: -2px; animation: opwb-spin 0.8s linear infinite}
@keyframes opwb-spin {to {transform: rotate(360deg)}}
.opwb-app .opwb-field-msg {color: #b03a2e; font-size: 12px; line-height: 1.3;
  max-width: 300px; white-space: normal}
.opwb-app .opwb-heatmap-box {flex: 1 1 441px; min-width: max(441px, 40vw);
  max-width: 980px}
.opwb-app .opwb-heatmap-box .opwb-heat-view {margin: 0 0 2px 0}
.opwb-app .opwb-heatmap-box .opwb-heat-view button {font-size: 13px}
.opwb-app img.opwb-heatmap {width: 100%; height: auto; object-fit: contain}
.opwb-app img.opwb-chart {width: 100%; height: auto}
.opwb-app table.opwb-metrics {border-collapse: collapse; font-size: 12.5px}
.opwb-app table.opwb-metrics th, .opwb-app table.opwb-metrics td {padding: 2px 6px;
  border-bottom: 1px solid #e5e5e5; white-space: nowrap}
.opwb-app table.opwb-metrics td {text-align: right}
.opwb-app .opwb-same {color:#888}
.opwb-app .widget-label {min-width: 0}
.opwb-app, .opwb-app .widget-html-content {word-break: keep-all; overflow-wrap: anywhere}
.opwb-app .opwb-uncertainty {overflow-x: auto; max-width: 100%}
.opwb-app .opwb-uncertainty table.opwb-metrics th {white-space: normal; min-width: 5em}
.opwb-app table.opwb-metrics.opwb-turns {width: 100%}
.opwb-app table.opwb-metrics.opwb-turns td {white-space: normal; text-align: left;
  min-width: 6em; max-width: 32em}
</style>"""


def percent(value: float, digits: int = 1) -> str:
    """A share as a percentage with ``digits`` decimals (:func:`opwb.data.units.format_number`):
    a negative one with the minus sign U+2212, one that rounds to zero "0%" or "0.0%", never
    "-0.0%"."""
    return format_number(value, digits, percent=True)


def _fmt_row(key: str, results: Sequence[ScenarioFigures]) -> list[str]:
    if key in _PERCENT:
        return [f"{percent(r[key])} ± {percent(r[key + '_se'])}" if r[key + "_se"] > 0 else
                percent(r[key]) for r in results]
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


def compare_table_html(current: ScenarioFigures | Mapping[str, float],
                       recommended: ScenarioFigures | Mapping[str, float], diff) -> str:
    """The cover in force, the recommendation (their results or figures:
    :func:`opwb.scenarios.evaluation.figures_of`) and their paired difference (``diff``: the
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


def metrics_table_html(ref: ScenarioFigures, res: ScenarioFigures, diff,
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


def status_html(res: ScenarioFigures, seconds: float, seq: int, data_label: str = "") -> str:
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


def note_html(text: str, color: str = "#666") -> str:
    """A panel's status line (escaped; green ``#1e6b3a`` when done)."""
    return f"<span class='opwb-note' style='color:{color}'>{html.escape(text)}</span>"


def error_line_html(text: str) -> str:
    """A panel's failure message in the status line (an error card, never a traceback)."""
    return (f"<div class='opwb-error-card' data-state=\"error\" "
            f"style='font-size:13px;padding:2px 8px'>{html.escape(text)}</div>")


def working_html(text: str, step: str, seq: int) -> str:
    """The work indicator: a spinner, what is being recomputed and the current step."""
    step = f"<span class='opwb-step'>{html.escape(step)}</span>" if step else ""
    return (f"<div class='opwb-working-box' data-state='busy' data-seq='{seq}' role='status'>"
            f"<span class='opwb-spinner'></span>{html.escape(text)}{step}</div>")


def robust_section_html(robust, answer, cd: bool) -> str:
    """The predictive model's evidence: the structures within the appetite by their share of
    worlds, with expected regret and break-even premium, the recommendation against the
    cover in force (premium, expected claims, payout ratio, what the bank keeps, a repeat of
    each reference incident) and the assumptions that decide the answer ("" without a
    recommendation)."""
    if robust is None or not answer.ok(cd):
        return ""
    from opwb.decision.robust import break_even
    table = answer.frontiers[cd]
    rob = robust.robustness(cd)
    be = break_even(table, answer.spec.settings.cost_of_capital)
    be = be.set_index(["deductible", "limit"])
    top = rob.sort_values(["p_best", "regret"], ascending=[False, True]).head(8)
    rows = []
    for (d, lim), r in top.iterrows():
        b = be.loc[(d, lim)]
        rows.append(
            f"<tr><th>{html.escape(structure_ko(d, lim))}</th><td>{percent(r['p_best'], 0)}</td>"
            f"<td>{html.escape(format_krw_with_se(r['regret'], r['regret_se']))}</td>"
            f"<td>{html.escape(format_krw_with_se(b['break_even_premium'], b['break_even_premium_se']))}</td>"
            f"<td>{html.escape(format_krw(b['premium'], unit='억', digits=1))}</td>"
            f"<td>{percent(b['payout_ratio'], 0)}{' ⚠' if b['below_expected'] else ''}</td></tr>")
    facts = robust.facts(cd)
    frows = "".join(f"<tr><th>{html.escape(k)}</th>" + "".join(
        f"<td>{html.escape(str(v))}</td>" for v in facts.loc[k]) + "</tr>"
        for k in facts.index)
    fhead = "".join(f"<th>{html.escape(c)}</th>" for c in facts.columns)
    turns = robust.what_decides(cd)
    trows = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                    for r in turns.itertuples(index=False))
    thead = "".join(f"<th>{html.escape(c)}</th>" for c in turns.columns)
    k = robust.worlds[cd].n_worlds
    return (
        "<div class='opwb-uncertainty opwb-robust'><div style='white-space:normal'>"
        "<b>데이터가 정하지 못하는 것 (robustness)</b> <span class='opwb-note'>— 모수를 다시 "
        f"추정하고 손실분포를 아카이케 가중치로 바꾼 {k:,}개 세계에서 각 구조가 가장 유리한 "
        "비율, 그 구조를 골랐을 때 평균적으로 놓치는 순편익(기대 후회), 순편익이 0이 되는 "
        "보험료(손익분기 보험료). ⚠ = 보험료가 보험사의 기대 지급액보다 낮음 (보험료: 받은 견적, 견적이 없는 구조는 견적에서 보간). 권고는 "
        "모든 세계를 합친 분포에서 기대 순편익이 가장 큰 구조이고, 여기의 세계별 비교는 각 "
        "세계 자체의 자본 경감으로 계산하므로 가장 자주 1위인 구조와 권고가 다를 수 있습니다."
        "</span></div>"
        "<table class='opwb-metrics'><tr><th>구조 (위험선호 안)</th><th>최선인 세계</th>"
        "<th>기대 후회 (연)</th><th>손익분기 보험료 (연)</th><th>보험료 (견적 기준, 연)</th>"
        f"<th>지급률</th></tr>{''.join(rows)}</table>"
        f"<table class='opwb-metrics' style='margin-top:6px'><tr><th></th>{fhead}</tr>"
        f"{frows}</table>"
        "<div style='margin-top:6px;white-space:normal'><b>권고를 바꾸는 가정 (what decides "
        "the answer)</b></div>"
        f"<table class='opwb-metrics opwb-turns'><tr>{thead}</tr>{trows}</table></div>")
