"""The dashboard's widgets and their arrangement on the page.

:func:`build` creates every control of a :class:`opwb.app.dashboard.ScenarioDashboard` (each
with an ``opwb-<name>`` CSS class) and wires it to the dashboard's handlers; :func:`layout`
arranges them: the title, the answer card with the risk-appetite controls (the first
1024×768 screen), the frontier heat map (its toggle above it: expected net benefit or
break-even premium) beside the comparison table, the explorer, the
settings, parameter uncertainty and the footnote on the data, the premium model and the
controls' ranges. The page fills the window's width (up to 2,400 px); the charts are sized
by the page's CSS (:data:`opwb.app.render.CSS`) and drawn at :data:`opwb.app.render.FIGURE_DPI`.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as W

from opwb.data.schema import RATING_SCALE
from opwb.data.units import EOK
from opwb.scenarios.spec import Appetite, base_labels

__all__ = ["FIELDS", "build", "layout"]

#: The controls whose values are checked against their plausible range
#: (:mod:`opwb.app.inputs`); each has a message under it (``opwb-<name>-msg``).
FIELDS = ("max-premium", "max-retained", "max-capital", "limit", "deductible", "premium",
          "aggregate", "coinsurance", "valuation")


def build(d, appetite: Appetite, n_years_options: Sequence[int]) -> None:
    """Create the dashboard's widgets on ``d`` (a :class:`ScenarioDashboard`), each with
    its ``opwb-<name>`` CSS class (what browser tests find), and wire their events."""
    def text(value, placeholder, width="120px"):
        return W.Text(value=value, placeholder=placeholder, continuous_update=False,
                      layout=W.Layout(width=width))

    def eok(v):
        return "" if v is None else f"{v / EOK:,.0f}"

    d.max_premium = text(eok(appetite.max_premium), "없음")
    d.max_retained = text(eok(appetite.max_retained_if_1in100), "없음")
    d.max_capital = text(eok(appetite.max_net_capital), "없음")
    labels = base_labels(d.spec)
    d.cd = W.ToggleButtons(options=[(labels[cd], cd) for cd in d.bases], value=True,
                           style={"button_width": "150px"})
    d.answer_html = W.HTML()
    d.heatmap = W.Image(format="png")       # sized by the page's CSS (render.CSS)
    #: what the heat map shows: the expected net benefit or the break-even premium
    d.heat_view = W.ToggleButtons(options=[("순편익", "net_benefit"),
                                           ("손익분기 보험료", "break_even_premium")],
                                  value="net_benefit", style={"button_width": "120px"},
                                  tooltips=["구조별 기대 순편익 (억원/년)",
                                            "이 보험료보다 싸면 그 구조가 이익 (억원/년)"])
    d.compare_html = W.HTML()
    d.picker = W.Dropdown(options=d.picker_options(), layout=W.Layout(width="330px"))
    d.limit = W.FloatText(layout=W.Layout(width="110px"))
    d.deductible = W.FloatText(layout=W.Layout(width="110px"))
    d.premium = W.FloatText(layout=W.Layout(width="110px"))
    d.aggregate = W.FloatText(layout=W.Layout(width="110px"))
    d.coinsurance = W.FloatText(layout=W.Layout(width="80px"))
    d.rating = W.Dropdown(options=list(RATING_SCALE), layout=W.Layout(width="80px"))
    d.premium_hint = W.HTML()
    d.valuation = text(str(d.spec.settings.valuation_date)[:10], "YYYY-MM-DD")
    d.cost_of_capital = W.FloatSlider(
        value=d.spec.settings.cost_of_capital, min=0.0, max=0.3, step=0.01,
        readout_format=".0%", continuous_update=False, layout=W.Layout(width="260px"))
    d.n_years = W.Dropdown(options=[(f"{n:,}년", n) for n in n_years_options],
                              layout=W.Layout(width="120px"))
    d.run = W.Button(description="더 긴 시뮬레이션 실행", disabled=d.rebuild is None,
                        layout=W.Layout(width="170px"))
    d.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                    layout=W.Layout(width="200px", visibility="hidden"))
    d.progress_text = W.HTML()
    d.precision_html = W.HTML()
    d.error = W.HTML()
    d.status = W.HTML()
    d.table = W.HTML()
    d.chart = W.Image(format="png")
    d.working = W.HTML()                    # the work indicator (fixed, top right)
    #: a message under each control whose value is refused (its allowed range)
    d.messages = {name: W.HTML().add_class("opwb-field-msg").add_class(f"opwb-{name}-msg")
                  for name in FIELDS}
    for w, cls in ((d.max_premium, "max-premium"), (d.max_retained, "max-retained"),
                   (d.max_capital, "max-capital"), (d.cd, "cd"),
                   (d.answer_html, "answer"), (d.heatmap, "heatmap"),
                   (d.heat_view, "heat-view"),
                   (d.compare_html, "compare"), (d.picker, "picker"),
                   (d.limit, "limit"), (d.deductible, "deductible"),
                   (d.premium, "premium"), (d.aggregate, "aggregate"),
                   (d.coinsurance, "coinsurance"), (d.rating, "rating"),
                   (d.valuation, "valuation"), (d.cost_of_capital, "coc"),
                   (d.run, "rerun"), (d.progress, "progress"),
                   (d.error, "error"), (d.status, "status"), (d.table, "table"),
                   (d.chart, "chart"), (d.precision_html, "precision"),
                   (d.working, "working")):
        w.add_class(f"opwb-{cls}")
    for w in (d.max_premium, d.max_retained, d.max_capital):
        w.observe(lambda _c: d.update_answer(), names="value")
    d.cd.observe(d._cd_changed, names="value")
    d.heat_view.observe(d._heat_view_changed, names="value")
    for w in (d.limit, d.deductible, d.premium, d.aggregate, d.coinsurance,
              d.rating):
        w.observe(d._terms_changed, names="value")
    for w in (d.valuation, d.cost_of_capital):
        w.observe(d._settings_changed, names="value")
    d.picker.observe(d._picked, names="value")
    d.run.on_click(d._resimulate)


def layout(d) -> W.Widget:
    """Arrange ``d``'s widgets: title, answer and appetite, heat map and comparison,
    explorer, settings, parameter uncertainty, footnote; the work indicator stays at the
    top right of the window; each checked control has its message right under it."""
    def labelled(label, widget, unit="", field=None):
        row = W.HBox([W.HTML(f"<span style='white-space:nowrap'>{label}</span>"), widget,
                      W.HTML(f"<span class='opwb-note'>{unit}</span>")],
                     layout=W.Layout(align_items="center"))
        if field is None:
            return W.Box([row], layout=W.Layout(margin="0 12px 0 0"))
        return W.VBox([row, d.messages[field]], layout=W.Layout(margin="0 12px 0 0"))

    d.head = W.HTML()
    d._draw_head()
    head = d.head
    appetite = W.VBox([
        W.HTML("<b>위험선호 (risk appetite)</b> <span class='opwb-note'>— 상한을 바꾸면 "
               "권고가 다시 계산됩니다. 비워 두면 상한 없음.</span>"),
        W.HBox([labelled("연간 보험료 ≤", d.max_premium, "억원", "max-premium"),
                labelled("100년 1회 내부사취 보유손실 ≤", d.max_retained, "억원",
                         "max-retained"),
                labelled("보험 반영 규제자본 ≤", d.max_capital, "억원", "max-capital")],
               layout=W.Layout(flex_flow="row wrap")),
        W.HBox([W.HTML("손실 데이터 (loss data)&nbsp;"), d.cd]
               if len(d.bases) > 1 else [], layout=W.Layout(align_items="center")),
        d.precision_html])
    d.answer_part = W.VBox([d.answer_html, appetite, d.working])  # working: fixed, top right
    heat = W.VBox([d.heat_view, d.heatmap]).add_class("opwb-heatmap-box")
    d.frontier_part = W.HBox([heat, d.compare_html],
                             layout=W.Layout(align_items="flex-start"))
    terms = W.VBox([
        W.HTML("<b>대안 살펴보기 (explore an alternative)</b>"),
        W.HBox([labelled("대안", d.picker)]),
        W.HBox([labelled("보상한도", d.limit, "억원", "limit"),
                labelled("공제금액", d.deductible, "억원", "deductible"),
                labelled("연간 보험료", d.premium, "억원", "premium"), d.premium_hint],
               layout=W.Layout(flex_flow="row wrap")),
        W.HBox([labelled("연간 총한도", d.aggregate, "억원 (0 = 없음)", "aggregate"),
                labelled("보험사 분담", d.coinsurance, "%", "coinsurance"),
                labelled("보험사 신용등급", d.rating)],
               layout=W.Layout(flex_flow="row wrap"))])
    settings = W.VBox([
        W.HBox([labelled("평가기준일", d.valuation, "YYYY-MM-DD", "valuation"),
                labelled("자본비용률", d.cost_of_capital)],
               layout=W.Layout(flex_flow="row wrap")),
        W.HBox([labelled("모의실험 연수", d.n_years), d.run, d.progress,
                d.progress_text], layout=W.Layout(align_items="center"))])
    advanced = W.Accordion(children=[settings])
    advanced.set_title(0, "평가 설정과 모의실험 (settings)")
    d.explore_part = W.VBox([d.table, d.chart])
    note = html.escape(d.spec.data_note) + " " if d.spec.data_note else ""
    foot = W.HTML(f"<div class='opwb-note' style='margin-top:8px'>{note}보험료는 견적을 "
                  "보상한도에 대한 요율(rate on line)로 보간하고 공제금액 차이와 견적의 연간 "
                  "총한도는 모형의 기대 보험금 비율로 조정합니다. 금액은 억원, ± 뒤는 몬테카를로 "
                  "표준오차입니다. " f"{html.escape(d.ranges.describe_ko())}.</div>")
    return W.VBox([head, d.answer_part, d.frontier_part, terms, d.error,
                   d.status, d.explore_part, advanced,
                   d.uncertainty.widget if d.uncertainty is not None else d.robust_html,
                   *([d.runs.widget] if getattr(d, "runs", None) is not None else []), foot],
                  layout=W.Layout(width="100%")).add_class("opwb-app")
