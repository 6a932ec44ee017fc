"""The management dashboard (Voila): the answer first, then the evidence.

The only opwb module that imports ipywidgets. :class:`ScenarioDashboard` is built from the
scenario bases and the insurers' quotes handed to it (no file or network I/O). Its first
screen answers management's question in one Korean sentence — the recommended BBB limit
and deductible, its net benefit against the cover in force with its precision, and whether
the CD incident changes the answer (:mod:`opwb.scenarios.answer`) — above the risk-appetite
controls that decide it. Below: the frontier as a heat map, a comparison table with the
paired difference against the cover in force, and an explorer for any alternative (the
seed's layer picture and the exceedance curves).

Every figure is the one the API gives for the same inputs
(:data:`opwb.scenarios.spec.DEFAULT_SPEC`), shown in 억원 rounded to its standard error. An
input that makes no sense is explained in the page and the results it would change are
greyed out (never left looking current); nothing is shown as a traceback. Re-simulating
with more years runs behind its own button with a progress bar, and so does parameter
uncertainty (:class:`opwb.app.uncertainty_panel.UncertaintyPanel`, below everything else:
intervals for capital, relief and net benefit when the fitted parameters are uncertain).
"""
from __future__ import annotations

import datetime as dt
import html
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import ipywidgets as W

from opwb.app.uncertainty_panel import DEFAULT_WORLDS, DEFAULT_YEARS, UncertaintyPanel
from opwb.data.schema import RATING_SCALE
from opwb.data.units import EOK, format_krw, format_krw_row, format_krw_with_se
from opwb.report.plots.scenario import frontier_png, scenario_png
from opwb.scenarios.alternatives import Alternative, alternative_problems
from opwb.scenarios.answer import ManagementAnswer, management_answer, structure_ko
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.evaluation import (METRIC_LABELS, ScenarioResult, difference, evaluate,
                                       evaluate_cached)
from opwb.scenarios.recommend import Recommendation
from opwb.scenarios.spec import (DEFAULT_APPETITE, DEFAULT_SPEC, Appetite, ScenarioSpec,
                                 current_cover, precision)

__all__ = ["ScenarioDashboard", "TABLE_ROWS", "parse_ceiling", "parse_date"]

TABLE_ROWS = ("premium", "expected_recovery", "p_claim", "p_exhaust", "retained_if_1in100",
              "retained_if_1in1000", "net_var", "net_es", "bond_regulatory_relief",
              "regulatory_net_capital", "capital_saving", "net_benefit")
_PERCENT = {"loss_ratio", "p_claim", "p_exhaust"}
_PAIRED = ("premium", "expected_recovery", "bond_regulatory_relief", "net_var", "net_es",
           "retained_if_1in100", "net_benefit")
Rebuild = Callable[[int, Callable[[float, str], None]], Mapping[bool, ScenarioBase]]

_CSS = """<style>
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


class ScenarioDashboard:
    """The management app: the recommendation, the appetite, the frontier, the explorer.

    Parameters
    ----------
    bases : mapping {include_cd: ScenarioBase}
        With and without the CD incident (:func:`opwb.scenarios.spec.scenario_bases`).
    quotes : sequence of Alternative
        The insurers' quotes (``data/bbb_alternatives.csv``): the premium model interpolates
        them and the explorer offers them by name.
    spec : ScenarioSpec
        Grid, settings and precision target (default :data:`DEFAULT_SPEC`).
    appetite : Appetite
        The initial risk appetite.
    initial : int
        Index of the quote the explorer shows first.
    band_loss : float
        The single loss (KRW) whose split is drawn (default: the CD incident, 650억).
    rebuild : callable, optional
        ``rebuild(n_years, progress) -> {include_cd: ScenarioBase}`` for "more years".
    answer : ManagementAnswer, optional
        The answer already computed for ``bases`` (saves recomputing it).
    n_years_options : sequence of int
        The years offered for "more years".
    uncertainty_worlds, uncertainty_years : int
        Bootstrap worlds and simulated years per world of the parameter-uncertainty run
        (default 100 × 10,000 years, about 30 s on 2 cores for the bundled data).
    """

    def __init__(self, bases: Mapping[bool, ScenarioBase], quotes: Sequence[Alternative], *,
                 spec: ScenarioSpec = DEFAULT_SPEC, appetite: Appetite = DEFAULT_APPETITE,
                 initial: int = 1, band_loss: float = 650 * EOK,
                 rebuild: Rebuild | None = None, answer: ManagementAnswer | None = None,
                 n_years_options: Sequence[int] = (200_000, 500_000),
                 uncertainty_worlds: int = DEFAULT_WORLDS,
                 uncertainty_years: int = DEFAULT_YEARS):
        self.bases = dict(bases)
        self.quotes = tuple(quotes)
        self.spec = spec
        self.band_loss = band_loss
        self.rebuild = rebuild
        self.current = current_cover(self.bases[True])
        self.answer: ManagementAnswer | None = answer
        self.last: ScenarioResult | None = None
        self._seq = 0
        self._hold = False
        self._compare_cache: dict = {}
        self._build(appetite, n_years_options)
        self.uncertainty = UncertaintyPanel(self.uncertainty_inputs, n_worlds=uncertainty_worlds,
                                            n_years=uncertainty_years, seconds=_seconds(
                                                uncertainty_worlds, uncertainty_years))
        self.widget = self._layout()
        self._hold = True
        self._fill(self.quotes[initial])
        self._hold = False
        self.update_answer()
        self.update_explorer()

    # -- construction ---------------------------------------------------------------------
    def _build(self, appetite: Appetite, n_years_options: Sequence[int]) -> None:
        def text(value, placeholder, width="120px"):
            return W.Text(value=value, placeholder=placeholder, continuous_update=False,
                          layout=W.Layout(width=width))

        def eok(v):
            return "" if v is None else f"{v / EOK:,.0f}"

        self.max_premium = text(eok(appetite.max_premium), "없음")
        self.max_retained = text(eok(appetite.max_retained_if_1in100), "없음")
        self.max_capital = text(eok(appetite.max_net_capital), "없음")
        self.cd = W.ToggleButtons(options=[("CD 사건 포함", True), ("CD 사건 제외", False)],
                                  value=True, style={"button_width": "110px"})
        self.answer_html = W.HTML()
        self.heatmap = W.Image(format="png", layout=W.Layout(width="440px", min_width="440px"))
        self.compare_html = W.HTML()
        self.picker = W.Dropdown(options=self._picker_options(), layout=W.Layout(width="330px"))
        self.limit = W.FloatText(layout=W.Layout(width="110px"))
        self.deductible = W.FloatText(layout=W.Layout(width="110px"))
        self.premium = W.FloatText(layout=W.Layout(width="110px"))
        self.aggregate = W.FloatText(layout=W.Layout(width="110px"))
        self.coinsurance = W.FloatText(layout=W.Layout(width="80px"))
        self.rating = W.Dropdown(options=list(RATING_SCALE), layout=W.Layout(width="80px"))
        self.premium_hint = W.HTML()
        self.valuation = text(str(self.spec.settings.valuation_date)[:10], "YYYY-MM-DD")
        self.cost_of_capital = W.FloatSlider(
            value=self.spec.settings.cost_of_capital, min=0.0, max=0.3, step=0.01,
            readout_format=".0%", continuous_update=False, layout=W.Layout(width="260px"))
        self.n_years = W.Dropdown(options=[(f"{n:,}년", n) for n in n_years_options],
                                  layout=W.Layout(width="120px"))
        self.run = W.Button(description="더 긴 시뮬레이션 실행", disabled=self.rebuild is None,
                            layout=W.Layout(width="170px"))
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                        layout=W.Layout(width="200px", visibility="hidden"))
        self.progress_text = W.HTML()
        self.precision_html = W.HTML()
        self.error = W.HTML()
        self.status = W.HTML()
        self.table = W.HTML()
        self.chart = W.Image(format="png", layout=W.Layout(width="100%"))
        for w, cls in ((self.max_premium, "max-premium"), (self.max_retained, "max-retained"),
                       (self.max_capital, "max-capital"), (self.cd, "cd"),
                       (self.answer_html, "answer"), (self.heatmap, "heatmap"),
                       (self.compare_html, "compare"), (self.picker, "picker"),
                       (self.limit, "limit"), (self.deductible, "deductible"),
                       (self.premium, "premium"), (self.aggregate, "aggregate"),
                       (self.coinsurance, "coinsurance"), (self.rating, "rating"),
                       (self.valuation, "valuation"), (self.cost_of_capital, "coc"),
                       (self.run, "rerun"), (self.progress, "progress"),
                       (self.error, "error"), (self.status, "status"), (self.table, "table"),
                       (self.chart, "chart"), (self.precision_html, "precision")):
            w.add_class(f"opwb-{cls}")
        for w in (self.max_premium, self.max_retained, self.max_capital):
            w.observe(lambda _c: self.update_answer(), names="value")
        self.cd.observe(self._cd_changed, names="value")
        for w in (self.limit, self.deductible, self.premium, self.aggregate, self.coinsurance,
                  self.rating):
            w.observe(self._terms_changed, names="value")
        for w in (self.valuation, self.cost_of_capital):
            w.observe(self._settings_changed, names="value")
        self.picker.observe(self._picked, names="value")
        self.run.on_click(self._resimulate)

    def _picker_options(self):
        opts = [(a.name, ("quote", i)) for i, a in enumerate(self.quotes)]
        return opts + [("모형 권고 구조 (recommended)", ("recommended", 0)),
                       ("직접 입력 (custom)", ("custom", 0))]

    def _layout(self) -> W.Widget:
        def labelled(label, widget, unit=""):
            return W.HBox([W.HTML(f"<span style='white-space:nowrap'>{label}</span>"), widget,
                           W.HTML(f"<span class='opwb-note'>{unit}</span>")],
                          layout=W.Layout(align_items="center", margin="0 12px 0 0"))

        self.head = W.HTML()
        self._draw_head()
        head = self.head
        appetite = W.VBox([
            W.HTML("<b>위험선호 (risk appetite)</b> <span class='opwb-note'>— 상한을 바꾸면 "
                   "권고가 다시 계산됩니다. 비워 두면 상한 없음.</span>"),
            W.HBox([labelled("연간 보험료 ≤", self.max_premium, "억원"),
                    labelled("100년 1회 내부사취 보유손실 ≤", self.max_retained, "억원"),
                    labelled("보험 반영 규제자본 ≤", self.max_capital, "억원")],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([W.HTML("손실 데이터 (loss data)&nbsp;"), self.cd, self.precision_html],
                   layout=W.Layout(align_items="center"))])
        self.answer_part = W.VBox([self.answer_html, appetite])
        self.frontier_part = W.HBox([self.heatmap, self.compare_html])
        terms = W.VBox([
            W.HTML("<b>대안 살펴보기 (explore an alternative)</b>"),
            W.HBox([labelled("대안", self.picker)]),
            W.HBox([labelled("보상한도", self.limit, "억원"),
                    labelled("공제금액", self.deductible, "억원"),
                    labelled("연간 보험료", self.premium, "억원"), self.premium_hint],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([labelled("연간 총한도", self.aggregate, "억원 (0 = 없음)"),
                    labelled("보험사 분담", self.coinsurance, "%"),
                    labelled("보험사 신용등급", self.rating)],
                   layout=W.Layout(flex_flow="row wrap"))])
        settings = W.VBox([
            W.HBox([labelled("평가기준일", self.valuation, "YYYY-MM-DD"),
                    labelled("자본비용률", self.cost_of_capital)],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HBox([labelled("모의실험 연수", self.n_years), self.run, self.progress,
                    self.progress_text], layout=W.Layout(align_items="center"))])
        advanced = W.Accordion(children=[settings])
        advanced.set_title(0, "평가 설정과 모의실험 (settings)")
        self.explore_part = W.VBox([self.table, self.chart])
        foot = W.HTML("<div class='opwb-note' style='margin-top:8px'>데이터: 2005년 CD 사건"
                      "(650억원)을 제외하면 예시용 합성 데이터입니다. 보험료는 견적을 보상한도에 "
                      "대한 요율(rate on line)로 보간하고 공제금액 차이는 모형의 기대 보험금 "
                      "비율로 조정합니다. 금액은 억원, ± 뒤는 몬테카를로 표준오차입니다.</div>")
        return W.VBox([head, self.answer_part, self.frontier_part, terms, self.error,
                       self.status, self.explore_part, advanced, self.uncertainty.widget, foot],
                      layout=W.Layout(width="100%")).add_class("opwb-app")

    def _draw_head(self) -> None:
        self.head.value = (
            f"{_CSS}<div class='opwb-head'><h2>금융기관종합보험(BBB) 보상한도·공제금액 권고</h2>"
            f"<div class='opwb-note'>{html.escape(self.spec.describe_ko())}</div></div>")

    # -- the answer -------------------------------------------------------------------------
    def appetite(self) -> Appetite:
        """The appetite the controls describe (raises ``ValueError`` in Korean)."""
        return Appetite(parse_ceiling(self.max_premium.value, "연간 보험료 상한"),
                        parse_ceiling(self.max_retained.value, "보유손실 상한"),
                        parse_ceiling(self.max_capital.value, "규제자본 상한"))

    def settings(self) -> ScenarioSettings:
        """The settings the controls describe (raises ``ValueError`` in Korean)."""
        return replace(self.spec.settings, valuation_date=parse_date(self.valuation.value),
                       cost_of_capital=float(self.cost_of_capital.value))

    def update_answer(self) -> None:
        """Recommend under the current appetite and redraw the answer, heat map and table."""
        if self._hold:
            return
        self._seq += 1
        t0 = time.perf_counter()
        try:
            appetite, settings = self.appetite(), self.settings()
        except ValueError as exc:
            self._answer_error([str(exc)])
            return
        spec = replace(self.spec, settings=settings)
        frontiers = (self.answer.frontiers if self.answer is not None
                     and self.answer.spec == spec else None)
        try:
            # first the recommendation (the same structure either way), then the paired
            # errors that may shorten the list of indistinguishable structures
            self.answer = management_answer(self.bases, self.quotes, appetite=appetite,
                                            spec=spec, frontiers=frontiers, paired=False)
            self._draw_answer(time.perf_counter() - t0)
            self.answer = management_answer(self.bases, self.quotes, appetite=appetite,
                                            spec=spec, frontiers=self.answer.frontiers)
        except Exception as exc:  # shown to management as a message, never a traceback
            self._answer_error([f"권고를 계산할 수 없습니다 (cannot recommend): {exc}"])
            return
        self._draw_answer(time.perf_counter() - t0, sentence_only=True)
        self.uncertainty.refresh()

    def _draw_answer(self, seconds: float, sentence_only: bool = False) -> None:
        ans, cd = self.answer, self.cd.value
        rec = ans.recommendations[cd]
        table = ans.frontiers[cd]
        ok = isinstance(rec, Recommendation)
        attrs = {"state": "ok" if ok else "none", "seq": self._seq, "include-cd": int(cd),
                 "rec-limit": repr(rec.limit) if ok else "",
                 "rec-deductible": repr(rec.deductible) if ok else "",
                 "seconds": f"{seconds:.3f}"}
        data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attrs.items())
        if ok:
            n_same = len(rec.indistinguishable) - 1
            why = (f"근거: 위험선호를 충족하는 {rec.eligible}개 구조(전체 {len(table)}개) 중 기대 "
                   f"순편익 최대"
                   + (f" · 순편익이 통계적으로 구별되지 않는 구조 {n_same}개 더 (아래 표)"
                      if n_same else " · 다른 구조보다 유의하게 큼")
                   + f" · 보험료 모형: {html.escape(rec.premium_model.split(' (')[0])}")
            body = (f"<div class='opwb-answer-card opwb-answer-state' {data}>"
                    f"{html.escape(ans.sentence_ko(cd))}<div class='opwb-why'>{why}</div></div>")
            p = precision(rec.structure, self.bases[cd].n_years, self.spec.target_precision)
            color = "#1e6b3a" if p.met else "#b03a2e"
            self.precision_html.value = (f"<span class='opwb-note' style='color:{color};"
                                         f"margin-left:12px'>{html.escape(p.describe_ko())}"
                                         "</span>")
        else:
            body = (f"<div class='opwb-error-card opwb-answer-state' {data}>"
                    f"{html.escape(ans.sentence_ko(cd))}</div>")
        if not sentence_only:         # the evidence first, so the sentence arrives last
            eligible = self._eligible(table, ans.appetite)
            self.heatmap.value = frontier_png(
                table, eligible=eligible, named=self.quotes,
                recommended=(rec.deductible, rec.limit) if ok else None)
            self.compare_html.value = self._compare_html(rec if ok else None, cd)
            self.frontier_part.remove_class("opwb-stale")
        self.answer_html.value = body
        if not sentence_only and self.picker.value[0] == "recommended":
            self._fill_recommended()

    @staticmethod
    def _eligible(table, appetite: Appetite):
        ok = table["premium"] == table["premium"]
        for col, ceiling in (("premium", appetite.max_premium),
                             ("retained_if_1in100", appetite.max_retained_if_1in100),
                             ("regulatory_net_capital", appetite.max_net_capital)):
            if ceiling is not None:
                ok &= table[col] <= ceiling
        return ok.to_numpy()

    def _compare_html(self, rec: Recommendation | None, cd: bool) -> str:
        """The cover in force, the recommendation and their paired difference."""
        if rec is None:
            return ""
        key = (cd, self.answer.spec, rec.deductible, rec.limit, float(rec.structure["premium"]))
        if key not in self._compare_cache:
            self._compare_cache[key] = self._compare_table(rec, cd)
        return self._compare_cache[key]

    def _compare_table(self, rec: Recommendation, cd: bool) -> str:
        base, settings = self.bases[cd], self.answer.spec.settings
        a = evaluate_cached(base, rec.alternative(), settings)
        b = evaluate_cached(base, self.current, settings)
        full = difference(base, a, b, settings, keys=_PAIRED)
        rows = []
        for key in ("premium", "expected_recovery", "retained_if_1in100", "net_var",
                    "bond_regulatory_relief", "net_benefit"):
            x, y = (t.removesuffix("억원") for t in _fmt_row(key, [b, a]))
            diff = full.loc[key]
            dtext, cls, note = _diff_cell(diff)
            dtext = dtext.removesuffix("억원")
            rows.append(f"<tr><th style='text-align:left'>{html.escape(_short_label(key))}</th>"
                        f"<td>{x}</td><td><b>{y}</b></td><td{cls}>{dtext}{note}</td></tr>")
        head = ("<tr><th>억원</th><th>현행 (2005년)</th><th>권고</th>"
                "<th>차이 (권고−현행)</th></tr>")
        return (f"<div style='margin-left:10px'><b>현행 계약과 권고 비교</b>"
                f"<table class='opwb-metrics'>{head}{''.join(rows)}</table>"
                "<div class='opwb-note'>± 는 표준오차, 차이의 ± 는 같은 모의실험 연도를 공유한 "
                "대응(paired) 표준오차. † 0과 통계적으로 구별되지 않음.</div></div>")

    def _answer_error(self, problems: list[str]) -> None:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.answer_html.value = (
            f"<div class='opwb-error-card opwb-answer-state' data-state=\"error\" "
            f"data-seq=\"{self._seq}\"><b>입력 오류 (input error)</b> — 아래 결과는 이 입력으로 "
            f"다시 계산되기 전까지 흐리게 표시됩니다.<ul style='margin:4px 0'>{items}</ul></div>")
        self.frontier_part.add_class("opwb-stale")
        self.uncertainty.refresh()

    def _cd_changed(self, _change=None) -> None:
        if self.answer is not None:
            self._seq += 1
            self._draw_answer(0.0)
        self.update_explorer()
        self.uncertainty.refresh()

    # -- parameter uncertainty --------------------------------------------------------------
    def uncertainty_alternatives(self) -> list[Alternative]:
        """The alternatives of the parameter-uncertainty run: the cover in force, the other
        quotes and the current recommendation (when it is not one of them)."""
        alts = [self.current] + [q for q in self.quotes
                                 if q.policy_changes() != self.current.policy_changes()]
        rec = self.answer.recommendations[self.cd.value] if self.answer else None
        if isinstance(rec, Recommendation) and all(
                (a.deductible, a.limit) != (rec.deductible, rec.limit) for a in alts):
            alts.append(rec.alternative(f"모형 권고 구조 ({rec.alternative().name})"))
        return alts

    def uncertainty_inputs(self) -> tuple[tuple, dict]:
        """``(key, kwargs)`` of :func:`opwb.scenarios.parameter_uncertainty` for the app's
        state: the fitted models and programme of the base the CD toggle selects, its seed
        and severity cap, the settings the controls describe and
        :meth:`uncertainty_alternatives` (raises ``ValueError`` in Korean on bad settings)."""
        settings, cd = self.settings(), self.cd.value
        base, alts = self.bases[cd], self.uncertainty_alternatives()
        kwargs = {"losses": None, "programme": base.programme, "alternatives": alts,
                  "models": base.model_set, "include_cd": cd, "seed": base.seed,
                  "severity_cap": base.severity_cap, "settings": settings}
        key = (cd, settings, base.model_set.fingerprint, base.seed, base.severity_cap,
               tuple(alts))
        return key, kwargs

    def _settings_changed(self, _change=None) -> None:
        self.update_answer()
        self.update_explorer()

    # -- the explorer -----------------------------------------------------------------------
    def _fill(self, alt: Alternative) -> None:
        hold, self._hold = self._hold, True
        try:
            self.limit.value = alt.limit / EOK
            self.deductible.value = alt.deductible / EOK
            self.premium.value = alt.premium / EOK
            self.aggregate.value = 0.0 if math.isinf(alt.aggregate_limit) else \
                alt.aggregate_limit / EOK
            self.coinsurance.value = alt.coinsurance * 100
            self.rating.value = alt.insurer_rating
            idx = next((i for i, q in enumerate(self.quotes) if q == alt), None)
            if idx is not None:
                self.picker.value = ("quote", idx)
        finally:
            self._hold = hold

    def _fill_recommended(self) -> None:
        rec = self.answer.recommendations[self.cd.value] if self.answer else None
        if isinstance(rec, Recommendation):
            self._fill(rec.alternative("모형 권고 구조 (recommended)"))

    def _picked(self, change) -> None:
        if self._hold:
            return
        kind, i = change["new"]
        if kind == "quote":
            self._fill(self.quotes[i])
        elif kind == "recommended":
            self._fill_recommended()
        self.update_explorer()

    def _terms_changed(self, _change=None) -> None:
        if self._hold:
            return
        if self.picker.value[0] != "custom":
            hold, self._hold = self._hold, True
            self.picker.value = ("custom", 0)
            self._hold = hold
        self.update_explorer()

    def chosen(self) -> Alternative:
        """The alternative the explorer's controls describe (amounts in KRW)."""
        kind, i = self.picker.value
        name = {"quote": self.quotes[i].name if kind == "quote" else "",
                "recommended": "모형 권고 구조"}.get(kind) or "직접 입력"
        agg = self.aggregate.value
        return Alternative(name=name, limit=self.limit.value * EOK,
                           deductible=self.deductible.value * EOK,
                           premium=self.premium.value * EOK,
                           aggregate_limit=math.inf if agg == 0 else agg * EOK,
                           coinsurance=self.coinsurance.value / 100,
                           insurer_rating=self.rating.value)

    def update_explorer(self) -> None:
        """Evaluate the explorer's alternative and redraw its table and charts (or explain
        the bad input and grey the old results out)."""
        if self._hold:
            return
        t0 = time.perf_counter()
        self._seq += 1
        alt = self.chosen()
        problems = alternative_problems(alt)
        try:
            settings = self.settings()
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            self._explorer_error(problems)
            return
        base = self.bases[self.cd.value]
        try:
            res = evaluate(base, alt, settings)
            ref = evaluate_cached(base, self.current, settings)
            diff = difference(base, res, ref, settings, keys=_PAIRED)
            model = self.answer and self.answer.frontiers[self.cd.value].attrs.get(
                "premium_model", "")
        except Exception as exc:  # shown as a message, never a traceback
            self._explorer_error([f"계산할 수 없습니다 (cannot evaluate): {exc}"])
            return
        self.last = res
        self.error.value = ""
        self.explore_part.remove_class("opwb-stale")
        self.table.value = self._table_html(ref, res, diff)
        self.premium_hint.value = self._premium_hint(alt, model)
        self.chart.value = scenario_png(
            [self.current, alt], self.band_loss, res.annual_gross,
            {self.current.name: ref.annual_net, alt.name: res.annual_net},
            highlight=1, alpha=settings.alpha)
        self._show_status(res, time.perf_counter() - t0)

    def _premium_hint(self, alt: Alternative, model_name: str) -> str:
        if self.answer is None:
            return ""
        from opwb.scenarios.answer import premium_model_for
        try:
            p = premium_model_for(self.bases[self.cd.value], self.quotes, self.answer.spec)(
                alt.deductible, alt.limit)
        except ValueError:
            return ""
        return (f"<span class='opwb-note'>모형 보험료 {format_krw(p, unit='억', digits=0)}"
                "</span>")

    def _table_html(self, ref: ScenarioResult, res: ScenarioResult, diff) -> str:
        rows = []
        for k in TABLE_ROWS:
            x, y = _fmt_row(k, [ref, res]) if k not in ("cap_binds",) else ("", "")
            if k in diff.index:
                dtext, cls, note = _diff_cell(diff.loc[k])
                dtext += note
            else:
                dtext, cls = "", ""
            rows.append(f"<tr><th style='text-align:left'>{html.escape(METRIC_LABELS[k])}</th>"
                        f"<td>{x}</td><td><b>{y}</b></td><td{cls}>{dtext}</td></tr>")
        head = (f"<tr><th></th><th>{html.escape(ref.alternative.name)}</th>"
                f"<th>{html.escape(res.alternative.name)}</th><th>차이 (선택 − 현행)</th></tr>")
        cd = "CD 사건 포함" if res.include_cd else "CD 사건 제외"
        return (f"<table class='opwb-metrics'>{head}{''.join(rows)}</table>"
                f"<div class='opwb-note'>손실 데이터: {cd}. VaR·ES는 연간 손실의 99.9% "
                "분위수·기대부족분(보험 후는 모든 보험 반영). 규제자본은 적격 보험만 잔존기간 "
                "할인 후 인정하며 경감은 총자본의 20% 이내. 차이는 대응 표준오차와 함께.</div>")

    def _show_status(self, res: ScenarioResult, seconds: float) -> None:
        alt = res.alternative
        data = {"state": "ok", "seq": self._seq, "limit": repr(alt.limit),
                "deductible": repr(alt.deductible), "include-cd": int(res.include_cd),
                "net-var": repr(res["net_var"]),
                "expected-recovery": repr(res["expected_recovery"])}
        attrs = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in data.items())
        self.status.value = (
            f"<div class='opwb-result' {attrs} style='color:#1e6b3a;font-size:12px'>✔ "
            f"{html.escape(structure_ko(alt.deductible, alt.limit))} · "
            f"{'CD 포함' if res.include_cd else 'CD 제외'} · 보험 후 VaR "
            f"{format_krw_with_se(res['net_var'], res['net_var_se'])} ({seconds:.2f}초)</div>")

    def _explorer_error(self, problems: list[str]) -> None:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.error.value = (f"<div class='opwb-message opwb-error-card'><b>입력 오류 (input "
                            f"error)</b> — 아래 결과는 이전 입력의 것이므로 흐리게 표시합니다."
                            f"<ul style='margin:4px 0'>{items}</ul></div>")
        self.explore_part.add_class("opwb-stale")
        self.status.value = (f'<div class="opwb-result" data-state="error" '
                             f'data-seq="{self._seq}"></div>')

    # -- the longer action --------------------------------------------------------------------
    def _resimulate(self, _button=None) -> None:
        if self.rebuild is None:
            return
        n = self.n_years.value
        self.run.disabled = True
        self.progress.layout.visibility = "visible"

        def report(frac: float, text: str) -> None:
            self.progress.value = frac
            self.progress_text.value = f"<span class='opwb-note'>{html.escape(text)}</span>"
        try:
            self.bases = dict(self.rebuild(n, report))
            self.spec = replace(self.spec, n_years=n)
            self.answer = None
            self._compare_cache.clear()
            self._draw_head()
            self.progress_text.value = f"<span class='opwb-note'>{n:,}년 모의실험 완료</span>"
        except Exception as exc:
            self._explorer_error([f"다시 모의실험하지 못했습니다 (re-simulation failed): {exc}"])
            return
        finally:
            self.run.disabled = self.rebuild is None
            self.progress.layout.visibility = "hidden"
        self.update_answer()
        self.update_explorer()


def _seconds(n_worlds: int, n_years: int) -> float:
    """Expected seconds of a parameter-uncertainty run on 2 shared cores for the bundled data
    (measured: 100 worlds × 10,000 years with four alternatives, 30.5 s; about 0.03 ms a
    world-year), at least 1."""
    return max(1.0, 30.5 * n_worlds * n_years / (DEFAULT_WORLDS * DEFAULT_YEARS))


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
