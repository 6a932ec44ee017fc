"""The management dashboard (Voila): BBB terms in, losses and capital out.

The only opwb module that imports ipywidgets. :class:`ScenarioDashboard` is built from
scenario bases and alternatives handed to it (no file or network I/O); every control
change re-applies the insurance to the stored simulated events (no re-simulation) and
redraws. A longer action — re-simulating with more years — runs behind its own button
with a progress bar. Inputs that make no sense are explained in the page, never as a
traceback.
"""
from __future__ import annotations

import datetime as dt
import html
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import ipywidgets as W

from opwb.data.schema import RATING_SCALE
from opwb.data.units import EOK, format_krw
from opwb.report.plots.scenario import scenario_png
from opwb.scenarios.alternatives import Alternative, alternative_problems
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.evaluation import METRIC_LABELS, ScenarioResult, evaluate

__all__ = ["ScenarioDashboard", "TABLE_ROWS"]

TABLE_ROWS = ("premium", "expected_recovery", "loss_ratio", "p_claim", "p_exhaust",
              "retained_if_1in100", "retained_if_1in1000", "net_var", "net_es",
              "economic_relief", "bond_regulatory_relief", "regulatory_net_capital",
              "cap_binds", "capital_saving", "net_benefit")
_PERCENT = {"loss_ratio", "p_claim", "p_exhaust"}
_WIDE = {"description_width": "190px"}
Rebuild = Callable[[bool, int, Callable[[float, str], None]], ScenarioBase]


def _fmt(key: str, value: float) -> str:
    if key in _PERCENT:
        return f"{value:.1%}" if math.isfinite(value) else "—"
    if key == "cap_binds":
        return "예 (binds)" if value else "아니오"
    return format_krw(value, unit="억", digits=1)


class ScenarioDashboard:
    """Controls for the bond's terms and settings; a comparison table and charts.

    Parameters
    ----------
    bases : mapping {include_cd: ScenarioBase}
        Built by :func:`opwb.scenarios.base.build_scenario_base` with and without the CD incident.
    alternatives : sequence of Alternative
        Named alternatives for the picker; the first is the reference column (the 2005 cover).
    settings : ScenarioSettings
        Initial settings (cost of capital, valuation date, ...).
    initial : int
        Index of the alternative shown first.
    band_loss : float
        The single loss (KRW) whose split is drawn (default: the CD incident, 650억).
    rebuild : callable, optional
        ``rebuild(include_cd, n_years, progress) -> ScenarioBase`` for the re-simulate button.
    """

    def __init__(self, bases: Mapping[bool, ScenarioBase], alternatives: Sequence[Alternative],
                 settings: ScenarioSettings = ScenarioSettings(), *, initial: int = 0,
                 band_loss: float = 650 * EOK, rebuild: Rebuild | None = None,
                 n_years_options: Sequence[int] = (100_000, 200_000, 500_000)):
        self.bases = dict(bases)
        self.alternatives = tuple(alternatives)
        self.settings = settings
        self.band_loss = band_loss
        self.rebuild = rebuild
        self.last: ScenarioResult | None = None
        self._seq = 0
        self._hold = False
        self._refs: dict = {}
        self._build_controls(n_years_options)
        self.widget = self._layout()
        for base in self.bases.values():  # warm: the reference column and the reuse caches
            self._reference(base, self.current()[1])
        self.pick(initial)

    # -- construction ---------------------------------------------------------------------
    def _build_controls(self, n_years_options: Sequence[int]) -> None:
        def amount(text):
            return W.FloatText(description=text, style=_WIDE, layout=W.Layout(width="340px"))

        self.picker = W.Dropdown(
            options=[(a.name, i) for i, a in enumerate(self.alternatives)]
            + [("사용자 정의 (custom)", -1)], description="대안 (alternative)", style=_WIDE,
            layout=W.Layout(width="420px"))
        self.limit = amount("보상한도 (억원)")
        self.deductible = amount("공제금액 (억원)")
        self.premium = amount("연간 보험료 (억원)")
        self.aggregate = amount("연간 총한도 (억원, 0=없음)")
        self.coinsurance = amount("보험사 분담 (%)")
        self.rating = W.Dropdown(options=list(RATING_SCALE), description="보험사 신용등급",
                                 style=_WIDE, layout=W.Layout(width="340px"))
        self.valuation = W.DatePicker(description="평가기준일", style=_WIDE,
                                      value=_as_date(self.settings.valuation_date))
        self.cost_of_capital = W.FloatSlider(
            value=self.settings.cost_of_capital, min=0.0, max=0.3, step=0.01,
            readout_format=".0%", description="자본비용률", style=_WIDE,
            layout=W.Layout(width="420px"))
        self.cd = W.ToggleButtons(options=[("CD 사건 포함", True), ("CD 사건 제외", False)],
                                  value=True if True in self.bases else False,
                                  description="손실 데이터", style=_WIDE)
        self.n_years = W.Dropdown(options=[(f"{n:,}년", n) for n in n_years_options],
                                  value=self.bases[self.cd.value].n_years
                                  if self.bases[self.cd.value].n_years in n_years_options
                                  else n_years_options[0],
                                  description="시뮬레이션 연수", style=_WIDE)
        self.run = W.Button(description="다시 시뮬레이션 (re-simulate)", icon="refresh",
                            disabled=self.rebuild is None, layout=W.Layout(width="260px"))
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                        layout=W.Layout(width="300px", visibility="hidden"))
        self.progress_text = W.HTML()
        self.error = W.HTML()
        self.status = W.HTML()
        self.table = W.HTML()
        self.chart = W.Image(format="png", layout=W.Layout(width="100%"))
        for w, cls in ((self.limit, "limit"), (self.deductible, "deductible"),
                       (self.premium, "premium"), (self.aggregate, "aggregate"),
                       (self.coinsurance, "coinsurance"), (self.rating, "rating"),
                       (self.valuation, "valuation"), (self.cost_of_capital, "coc"),
                       (self.cd, "cd"), (self.picker, "picker"), (self.run, "rerun"),
                       (self.progress, "progress"), (self.error, "error"),
                       (self.status, "status"), (self.table, "table"), (self.chart, "chart")):
            w.add_class(f"opwb-{cls}")
        for w in (self.limit, self.deductible, self.premium, self.aggregate, self.coinsurance,
                  self.rating, self.valuation, self.cost_of_capital, self.cd):
            w.observe(self._changed, names="value")
        self.picker.observe(self._picked, names="value")
        self.run.on_click(self._resimulate)

    def _layout(self) -> W.Widget:
        terms = W.VBox([W.HTML("<b>BBB 조건 (bond terms)</b>"), self.picker, self.limit,
                        self.deductible, self.premium, self.aggregate, self.coinsurance,
                        self.rating])
        setting = W.VBox([W.HTML("<b>평가 설정 (settings)</b>"), self.cd, self.valuation,
                          self.cost_of_capital, self.n_years,
                          W.HBox([self.run, self.progress]), self.progress_text])
        return W.VBox([W.HBox([terms, setting]), self.error, self.status,
                       W.HBox([self.table]), self.chart])

    # -- reading and writing controls -------------------------------------------------------
    def pick(self, index: int) -> None:
        """Fill the controls with a named alternative (one update, not one per control)."""
        if index < 0:
            return
        alt = self.alternatives[index]
        self._hold = True
        try:
            self.picker.value = index
            self.limit.value = alt.limit / EOK
            self.deductible.value = alt.deductible / EOK
            self.premium.value = alt.premium / EOK
            self.aggregate.value = 0.0 if math.isinf(alt.aggregate_limit) else \
                alt.aggregate_limit / EOK
            self.coinsurance.value = alt.coinsurance * 100
            self.rating.value = alt.insurer_rating
        finally:
            self._hold = False
        self.update()

    def current(self) -> tuple[Alternative, ScenarioSettings]:
        """The alternative and settings the controls describe (amounts converted to KRW)."""
        idx = self.picker.value
        name = self.alternatives[idx].name if idx >= 0 else "사용자 정의 (custom)"
        agg = self.aggregate.value
        alt = Alternative(name=name, limit=self.limit.value * EOK,
                          deductible=self.deductible.value * EOK,
                          premium=self.premium.value * EOK,
                          aggregate_limit=math.inf if agg == 0 else agg * EOK,
                          coinsurance=self.coinsurance.value / 100,
                          insurer_rating=self.rating.value)
        settings = replace(self.settings, cost_of_capital=self.cost_of_capital.value,
                           valuation_date=self.valuation.value and
                           dt.date.isoformat(self.valuation.value))
        return alt, settings

    def _changed(self, _change=None) -> None:
        if self._hold:
            return
        if self.picker.value >= 0 and self._differs_from_pick():
            self._hold = True
            self.picker.value = -1
            self._hold = False
        self.update()

    def _differs_from_pick(self) -> bool:
        alt, _ = self.current()
        ref = self.alternatives[self.picker.value]
        return alt.policy_changes() != ref.replace(name=alt.name).policy_changes()

    def _picked(self, change) -> None:
        if not self._hold:
            self.pick(change["new"])

    # -- computing and drawing -------------------------------------------------------------
    def update(self) -> None:
        """Evaluate the current inputs and redraw every output (or explain the bad input)."""
        if self._hold:
            return
        t0 = time.perf_counter()
        self._seq += 1
        alt, settings = self.current()
        problems = alternative_problems(alt)
        if self.valuation.value is None:
            problems.append("평가기준일을 입력하세요 (valuation date is missing)")
        if problems:
            self._show_error(problems)
            return
        try:
            base = self.bases[self.cd.value]
            res = evaluate(base, alt, settings)
            ref = self._reference(base, settings)
        except Exception as exc:  # shown to the manager as a message, never a traceback
            self._show_error([f"계산할 수 없습니다 (cannot evaluate): {exc}"])
            return
        self.last = res
        self.error.value = ""
        self.table.value = self._table_html(ref, res)
        self.chart.value = scenario_png(
            [self.alternatives[0], alt], self.band_loss, res.annual_gross,
            {self.alternatives[0].name: ref.annual_net, alt.name: res.annual_net},
            highlight=1, alpha=settings.alpha)
        self._show_status(res, time.perf_counter() - t0)

    def _reference(self, base: ScenarioBase, settings: ScenarioSettings) -> ScenarioResult:
        key = (id(base), settings)
        if key not in self._refs:
            self._refs[key] = evaluate(base, self.alternatives[0], settings)
        return self._refs[key]

    def _table_html(self, ref: ScenarioResult, res: ScenarioResult) -> str:
        rows = "".join(
            f"<tr><th style='text-align:left;padding:2px 10px'>{html.escape(METRIC_LABELS[k])}"
            f"</th><td style='text-align:right;padding:2px 10px'>{_fmt(k, ref[k])}</td>"
            f"<td style='text-align:right;padding:2px 10px;font-weight:bold'>{_fmt(k, res[k])}"
            f"</td></tr>" for k in TABLE_ROWS)
        head = (f"<tr><th></th><th style='padding:2px 10px'>{html.escape(ref.alternative.name)}"
                f" (기준)</th><th style='padding:2px 10px'>{html.escape(res.alternative.name)}"
                "</th></tr>")
        cd = "CD 사건 포함" if res.include_cd else "CD 사건 제외"
        return (f"<table class='opwb-metrics' style='border-collapse:collapse'>{head}{rows}"
                f"</table><div style='color:#666;font-size:85%'>손실 데이터: {cd}. VaR·ES는 "
                "연간 손실의 99.9% 분위수·기대부족분, 보험 후(net)는 경제적 관점(모든 보험). "
                "규제자본은 적격 보험만 잔존기간 할인 후 인정, 경감은 총자본의 20% 이내.</div>")

    def _show_status(self, res: ScenarioResult, seconds: float) -> None:
        alt = res.alternative
        data = {"state": "ok", "seq": self._seq, "limit": repr(alt.limit),
                "deductible": repr(alt.deductible), "include-cd": int(res.include_cd),
                "net-var": repr(res["net_var"]),
                "expected-recovery": repr(res["expected_recovery"])}
        attrs = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in data.items())
        self.status.value = (
            f"<div class='opwb-result' {attrs} style='color:#1e6b3a'>✔ 계산 완료: 한도 "
            f"{format_krw(alt.limit)} · 공제 {format_krw(alt.deductible)} · "
            f"{'CD 포함' if res.include_cd else 'CD 제외'} · 보험 후 VaR "
            f"{format_krw(res['net_var'])} · 기대 보험금 {format_krw(res['expected_recovery'])}"
            f" ({seconds:.2f}초)</div>")

    def _show_error(self, problems: list[str]) -> None:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.error.value = (f"<div class='opwb-message' style='color:#b03a2e;border:1px solid "
                            f"#b03a2e;padding:6px 10px;border-radius:4px'><b>입력 오류 (input "
                            f"error)</b><ul style='margin:4px 0'>{items}</ul></div>")
        self.status.value = (f'<div class="opwb-result" data-state="error" '
                             f'data-seq="{self._seq}"></div>')

    # -- the longer action --------------------------------------------------------------------
    def _resimulate(self, _button=None) -> None:
        if self.rebuild is None:
            return
        n = self.n_years.value
        self.run.disabled = True
        self.progress.layout.visibility = "visible"
        keys = list(self.bases)
        try:
            for i, cd in enumerate(keys):
                def report(frac: float, text: str, i=i) -> None:
                    self.progress.value = (i + frac) / len(keys)
                    self.progress_text.value = f"{text} — {i + 1}/{len(keys)}"
                self.bases[cd] = self.rebuild(cd, n, report)
            self._refs.clear()
            self.progress_text.value = f"{n:,}년 시뮬레이션 완료"
        except Exception as exc:
            self._show_error([f"다시 시뮬레이션하지 못했습니다 (re-simulation failed): {exc}"])
            return
        finally:
            self.run.disabled = False
            self.progress.layout.visibility = "hidden"
        self.update()


def _as_date(value) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value if not isinstance(value, dt.datetime) else value.date()
    return dt.date.fromisoformat(str(value)[:10])
