"""The dashboard's explorer: any alternative's figures against the cover in force.

:class:`Explorer` is the part of :class:`opwb.app.dashboard.ScenarioDashboard` behind the
"대안 살펴보기" controls: it fills them from a quote or the recommendation, checks what was
typed against the plausible ranges of :mod:`opwb.app.inputs` (a message under each control
outside its range, the cross-term checks of
:func:`opwb.scenarios.alternatives.alternative_problems` in the error card), evaluates the
alternative on the base the CD toggle selects (:func:`opwb.scenarios.answer.versus_many`:
its figures, its paired comparison with the cover in force and its exceedance curve, kept on
the base) and draws the table, the premium model's hint and the seed's charts. A value
outside its range or a failed evaluation greys the old results out; nothing leaves a
callback as an exception, and no non-finite figure is printed.
"""
from __future__ import annotations

import html
import math
import time

from opwb.app.inputs import explorer_problems
from opwb.app.render import FIGURE_DPI, TABLE_ROWS, metrics_table_html, status_html
from opwb.app.signals import EXPLORER
from opwb.data.units import EOK, format_krw
from opwb.report.plots.scenario import scenario_png
from opwb.scenarios.alternatives import Alternative, alternative_problems
from opwb.scenarios.base import ScenarioSettings
from opwb.scenarios.answer import versus, versus_many
from opwb.scenarios.evaluation import ScenarioFigures, exceedance_of, figures_result
from opwb.scenarios.recommend import Recommendation

__all__ = ["Explorer"]


class Explorer:
    """The explorer's behaviour, mixed into :class:`opwb.app.dashboard.ScenarioDashboard`
    (which owns the widgets, ``bases``, ``quotes``, ``current``, ``answer`` and ``ranges``)."""

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

    def explorer_problems(self) -> dict[str, str]:
        """``{control: message}`` for the explorer's values outside their ranges
        (:func:`opwb.app.inputs.explorer_problems`), marked under their controls."""
        problems = explorer_problems(
            limit=self.limit.value, deductible=self.deductible.value,
            premium=self.premium.value, aggregate=self.aggregate.value,
            coinsurance=self.coinsurance.value, ranges=self.ranges)
        self._mark_fields(problems, ("limit", "deductible", "premium", "aggregate",
                                     "coinsurance"))
        return problems

    def update_explorer(self) -> None:
        """Evaluate the explorer's alternative and redraw its table and charts (or explain
        the bad input and grey the old results out)."""
        if self._hold:
            return
        t0 = time.perf_counter()
        self._seq += 1
        problems = list(self.explorer_problems().values())
        alt = None if problems else self.chosen()
        if alt is not None:
            problems += alternative_problems(alt)     # terms that contradict each other
        try:
            settings = self.settings()
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            self._explorer_error(problems)
            return
        with self.busy("대안을 다시 계산하는 중", EXPLORER):
            try:
                self._draw_explorer(alt, settings, t0)
            except Exception as exc:  # shown as a message, never a traceback
                self._explorer_error([f"계산할 수 없습니다 (cannot evaluate): {exc}"])

    def _draw_explorer(self, alt: Alternative, settings: ScenarioSettings, t0: float) -> None:
        base = self.bases[self.cd.value]
        self.step("(1/2) 보험 적용과 지표")
        # the quotes' and the recommendation's figures, comparisons and curves are stored
        # with the bases; another structure is evaluated once here and then kept
        versus_many(base, [alt], self.current, settings, curves=True)
        res = figures_result(base, alt, settings)
        ref = figures_result(base, self.current, settings)
        diff = versus(base, alt, self.current, settings)
        gross, nets = exceedance_of(base, [self.current, alt], settings)
        bad = [k for k in TABLE_ROWS for r in (res, ref)
               if math.isinf(r[k]) or math.isinf(r[k + "_se"])]
        if bad:
            raise ValueError(f"결과가 유한하지 않습니다 (non-finite figures: {', '.join(bad)})")
        model = self.answer and self.answer.frontiers[self.cd.value].attrs.get(
            "premium_model", "")
        self.step("(2/2) 표와 그림")
        table = metrics_table_html(ref, res, diff, self.data_label())
        chart = scenario_png([self.current, alt], self.band_loss, gross, nets,
                             highlight=1, alpha=settings.alpha, dpi=FIGURE_DPI)
        self.last = res
        self.error.value = ""
        self.table.value = table
        self.premium_hint.value = self._premium_hint(alt, model)
        self.chart.value = chart
        self.explore_part.remove_class("opwb-stale")
        self._show_status(res, time.perf_counter() - t0)

    def _premium_hint(self, alt: Alternative, model_name: str) -> str:
        if self.answer is None:
            return ""
        from opwb.scenarios.answer import premium_model_for
        table = self.answer.frontiers[self.cd.value]       # a structure of the grid: priced
        row = table[(table["deductible"] == alt.deductible) & (table["limit"] == alt.limit)]
        try:
            p = float(row["premium"].iloc[0]) if len(row) else premium_model_for(
                self.bases[self.cd.value], self.quotes, self.answer.spec)(
                alt.deductible, alt.limit)
        except (ValueError, ArithmeticError):
            return ""
        return (f"<span class='opwb-note'>모형 보험료 {format_krw(p, unit='억', digits=2)}"
                "</span>")

    def _show_status(self, res: ScenarioFigures, seconds: float) -> None:
        self.status.value = status_html(res, seconds, self._seq, self.data_label())

    def _explorer_error(self, problems: list[str]) -> None:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.error.value = (f"<div class='opwb-message opwb-error-card'><b>입력 오류 (input "
                            f"error)</b> — 아래 결과는 이전 입력의 것이므로 흐리게 표시합니다."
                            f"<ul style='margin:4px 0'>{items}</ul></div>")
        self.explore_part.add_class("opwb-stale")
        self.premium_hint.value = ""
        self.status.value = (f'<div class="opwb-result" data-state="error" '
                             f'data-seq="{self._seq}"></div>')
