"""The management dashboard (Voila): the answer first, then the evidence.

The only opwb module that imports ipywidgets. :class:`ScenarioDashboard` is built from the
scenario bases and the insurers' quotes handed to it (no file or network I/O). Its first
screen answers management's question in one Korean sentence — the recommended BBB limit
and deductible, its net benefit against the cover in force with its precision, and whether
the CD incident changes the answer (:mod:`opwb.scenarios.answer`) — above the risk-appetite
controls that decide it. Below: the frontier as a heat map (a toggle above it shows either
the expected net benefit or the break-even premium, the premium below which a structure
pays), a comparison table with the paired difference against the cover in force, and an explorer for any alternative (the
seed's layer picture and the exceedance curves).

Every control is checked against a stated plausible range before anything is computed
(:mod:`opwb.app.inputs`: amounts finite, from 0 to 10 × the case's severity cap; the
valuation date within 20 years of the case's): a value outside it is explained in Korean
under its control and in an error card, and the results it would change are greyed out.
Whatever fails while recomputing is shown the same way; no exception leaves a callback.
A recompute greys what it will replace and shows a work indicator with its step at once,
before the work starts (the widget messages leave the kernel as they are set).

Every figure is the one the API gives for the same inputs
(:data:`opwb.scenarios.spec.DEFAULT_SPEC`), shown in 억원 rounded to its standard error.
The explorer's behaviour is in :mod:`opwb.app.explorer`, the work indicator and the
controls' messages in :mod:`opwb.app.signals`. Re-simulating with more years runs behind
its own button with a progress bar, and so does parameter uncertainty (:class:`opwb.app.uncertainty_panel.UncertaintyPanel`, below everything else:
intervals for capital, relief and net benefit when the fitted parameters are uncertain).
With the page's case given, the run database's section (:class:`opwb.app.runs_panel.RunPanel`)
records what the page shows ("이 결과 저장") and compares it with an earlier run.
"""
from __future__ import annotations

import html
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import ipywidgets as W

from opwb.app import controls
from opwb.app.explorer import Explorer
from opwb.app.inputs import Ranges, parse_ceiling, parse_date
from opwb.app.render import (CSS, FIGURE_DPI, TABLE_ROWS, compare_table_html,
                             robust_section_html)
from opwb.app.signals import ANSWER as _ANSWER
from opwb.app.signals import EXPLORER as _EXPLORER
from opwb.app.signals import Signals
from opwb.app.uncertainty_panel import (DEFAULT_WORLDS, DEFAULT_YEARS, UncertaintyPanel,
                                        expected_seconds)
from opwb.decision.robust import break_even, eligible_mask
from opwb.report.element_tables import model_elements_ko
from opwb.report.plots.scenario import frontier_png
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.answer import ManagementAnswer, management_answer, versus
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.evaluation import ScenarioFigures, figures_of
from opwb.scenarios.recommend import Recommendation
from opwb.scenarios import spec as _spec
from opwb.scenarios.spec import Appetite, ScenarioSpec, base_labels, current_cover, precision

__all__ = ["ScenarioDashboard", "TABLE_ROWS", "parse_ceiling", "parse_date"]

#: The heat map's size: 4.9 × 3.4 in, 441 × 306 CSS px at its smallest (a 1024-px screen),
#: drawn at FIGURE_DPI so that it stays sharp when a wide screen shows it up to 980 px wide.
HEATMAP_INCHES = (4.9, 3.4)

Rebuild = Callable[[int, Callable[[float, str], None]], Mapping[bool, ScenarioBase]]


class ScenarioDashboard(Explorer, Signals):
    """The management app: the recommendation, the appetite, the frontier, the explorer.

    Parameters
    ----------
    bases : mapping {include_cd: ScenarioBase}
        With and without the CD incident (:func:`opwb.scenarios.spec.scenario_bases`).
    quotes : sequence of Alternative
        The insurers' quotes (``data/bbb_alternatives.csv``): the premium model interpolates
        them and the explorer offers them by name.
    spec : ScenarioSpec
        The case's grid, settings, bond, incidents and precision target (default the
        bundled case's :data:`~opwb.scenarios.spec.DEFAULT_SPEC`).
    appetite : Appetite, optional
        The initial risk appetite (default the spec's, i.e. the case's).
    initial : int
        Index of the quote the explorer shows first.
    band_loss : float, optional
        The single loss (KRW) whose split is drawn (default: the largest quoted limit).
    rebuild : callable, optional
        ``rebuild(n_years, progress) -> {include_cd: ScenarioBase}`` for "more years" (with
        ``robust``: may return a :class:`opwb.decision.RobustAnswer`, the predictive model
        rebuilt with more pooled years).
    answer : ManagementAnswer, optional
        The answer already computed for ``bases`` (saves recomputing it).
    n_years_options : sequence of int
        The years offered for "more years".
    uncertainty_worlds, uncertainty_years : int
        Bootstrap worlds and simulated years per world of the parameter-uncertainty run
        (default 100 × 10,000 years, about 30 s on 2 cores for the bundled data).
    robust : opwb.decision.RobustAnswer, optional
        The answer on the predictive model (:func:`opwb.decision.predictive_answer`); then
        ``bases`` are its predictive bases, the first screen says in how many worlds the
        recommendation is best and its break-even premium, and a robustness section (share of
        worlds, expected regret, break-even premiums, the recommendation against the cover in
        force) takes the place of the parameter-uncertainty button: the page names one answer.
    case : opwb.data.case.Case, optional
        The page's case; with ``robust``, the run database's section ("이 결과 저장" into the
        case's run store and the comparison with an earlier run: :class:`RunPanel`).
    """

    def __init__(self, bases: Mapping[bool, ScenarioBase], quotes: Sequence[Alternative], *,
                 spec: ScenarioSpec | None = None, appetite: Appetite | None = None,
                 initial: int = 1, band_loss: float | None = None,
                 rebuild: Rebuild | None = None, answer: ManagementAnswer | None = None,
                 n_years_options: Sequence[int] = (200_000, 500_000),
                 uncertainty_worlds: int = DEFAULT_WORLDS,
                 uncertainty_years: int = DEFAULT_YEARS, robust=None, case=None):
        self.robust = robust
        self.case = case
        if robust is not None and answer is None:
            answer = robust.answer
        self.bases = dict(bases)
        self.quotes = tuple(quotes)
        spec = _spec.DEFAULT_SPEC if spec is None else spec
        appetite = spec.appetite if appetite is None else appetite
        self.spec = spec
        self.band_loss = band_loss if band_loss is not None else max(q.limit for q in quotes)
        self.rebuild = rebuild
        self.current = current_cover(self.bases[True])
        self.answer: ManagementAnswer | None = answer
        self.last: ScenarioFigures | None = None
        self.ranges = Ranges.for_spec(spec)
        self._seq = 0
        self._hold = False
        self._busy: list[str] = []
        self._compare_cache: dict = {}
        self._build(appetite, n_years_options)
        self.robust_html = W.HTML()
        self.uncertainty = None if robust is not None else UncertaintyPanel(
            self.uncertainty_inputs, recommended=self.recommended_name,
            n_worlds=uncertainty_worlds, n_years=uncertainty_years,
            seconds=expected_seconds(uncertainty_worlds, uncertainty_years))
        self.runs = None
        if case is not None and robust is not None:
            from opwb.app.runs_panel import RunPanel
            self.runs = RunPanel(case, self.run_state)
        self.widget = self._layout()
        self._hold = True
        self._fill(self.quotes[initial])
        self._hold = False
        self.update_answer()
        self.update_explorer()

    def data_label(self) -> str:
        """Which loss data the page shows: with or without the case's reference incidents
        ("" when the case has none)."""
        return base_labels(self.spec)[self.cd.value] if len(self.bases) > 1 else ""

    # -- construction ---------------------------------------------------------------------
    def _build(self, appetite: Appetite, n_years_options: Sequence[int]) -> None:
        controls.build(self, appetite, n_years_options)

    def picker_options(self):
        """The explorer's choices: the quotes, the recommended structure, a custom one."""
        opts = [(a.name, ("quote", i)) for i, a in enumerate(self.quotes)]
        return opts + [("모형 권고 구조 (recommended)", ("recommended", 0)),
                       ("직접 입력 (custom)", ("custom", 0))]

    def _layout(self) -> W.Widget:
        return controls.layout(self)

    def _draw_head(self, spec: ScenarioSpec | None = None) -> None:
        """The title and the run's settings line (``spec``: the settings the controls
        describe, default the page's)."""
        spec = self.spec if spec is None else spec
        self.head.value = (
            f"{CSS}<div class='opwb-head'><h2>{html.escape(spec.bank + ' · ' if spec.bank else '')}"
            f"금융기관종합보험(BBB) 보상한도·공제금액 권고</h2>"
            f"<div class='opwb-note'>{html.escape(spec.describe_ko())}</div>"
            + (f"<div class='opwb-note opwb-elements'>"
               f"{html.escape(model_elements_ko(self.case, severity_cap=spec.severity_cap))}"
               "</div>" if self.case is not None else "")
            + "</div>")

    # -- the answer -------------------------------------------------------------------------
    def appetite(self) -> Appetite:
        """The appetite the controls describe (raises ``ValueError`` in Korean)."""
        values, problems = self._ceilings()
        if problems:
            raise ValueError("; ".join(problems.values()))
        return Appetite(*values)

    def _ceilings(self) -> tuple[list, dict[str, str]]:
        values, problems = [], {}
        for field, widget, what in (("max-premium", self.max_premium, "연간 보험료 상한"),
                                    ("max-retained", self.max_retained, "보유손실 상한"),
                                    ("max-capital", self.max_capital, "규제자본 상한")):
            try:
                values.append(parse_ceiling(widget.value, what, self.ranges))
            except ValueError as exc:
                problems[field] = str(exc)
        return values, problems

    def settings(self) -> ScenarioSettings:
        """The settings the controls describe (raises ``ValueError`` in Korean)."""
        return replace(self.spec.settings,
                       valuation_date=parse_date(self.valuation.value, self.ranges),
                       cost_of_capital=float(self.cost_of_capital.value))

    def _answer_inputs(self):
        """``(appetite, settings, {control: message})``: the answer's inputs, or the
        messages of those outside their ranges (then the first two are None)."""
        values, problems = self._ceilings()
        try:
            settings = self.settings()
        except ValueError as exc:
            problems["valuation"] = str(exc)
        self._mark_fields(problems, ("max-premium", "max-retained", "max-capital",
                                     "valuation"))
        if problems:
            return None, None, problems
        return Appetite(*values), settings, {}

    def update_answer(self) -> None:
        """Recommend under the current appetite and redraw the answer, heat map and table
        (or explain the inputs outside their ranges and grey the old answer out)."""
        if self._hold:
            return
        self._seq += 1
        t0 = time.perf_counter()
        appetite, settings, problems = self._answer_inputs()
        if problems:
            self._answer_error(list(problems.values()))
            return
        spec = replace(self.spec, settings=settings)
        with self.busy("권고를 다시 계산하는 중", _ANSWER):
            try:
                self._draw_head(spec)                 # the header follows the settings
                done = self.answer
                if (done is not None and done.paired and done.spec == spec
                        and done.appetite == appetite
                        and done.versus_current.get(self.cd.value) is not None):
                    self._draw_answer(time.perf_counter() - t0)   # this answer: draw it
                    self._refresh_uncertainty()
                    return
                frontiers = (self.answer.frontiers if self.answer is not None
                             and self.answer.spec == spec else None)
                # first the recommendation (the same structure either way), then the paired
                # errors that may shorten the list of indistinguishable structures
                self.step("(1/2) 구조별 결과와 권고" if frontiers is None else "(1/2) 권고")
                self.answer = management_answer(self.bases, self.quotes, appetite=appetite,
                                                spec=spec, frontiers=frontiers, paired=False,
                                                compare=[self.cd.value])
                self._sync_robust()
                self._draw_answer(time.perf_counter() - t0)
                self.step("(2/2) 현행 계약과의 대응 비교")
                self.answer = management_answer(self.bases, self.quotes, appetite=appetite,
                                                spec=spec, frontiers=self.answer.frontiers)
                self._sync_robust()
                self._draw_answer(time.perf_counter() - t0, sentence_only=True)
                self._refresh_uncertainty()
            except Exception as exc:  # shown to management as a message, never a traceback
                self._answer_error([f"권고를 계산할 수 없습니다 (cannot recommend): {exc}"])

    def _sync_robust(self) -> None:
        if self.robust is not None:
            self.robust = self.robust.with_answer(self.answer)

    def _refresh_uncertainty(self) -> None:
        if self.uncertainty is not None:
            self.uncertainty.refresh()
        elif self.answer is not None:
            self.robust_html.value = robust_section_html(self.robust, self.answer,
                                                         self.cd.value)
            self.robust_html.remove_class("opwb-stale")

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
        robust = self.robust is not None and ok and ans.versus_current.get(cd) is not None
        if robust:
            p_best, regret, _ = self.robust.recommended_robustness(cd)
            row = self.robust.break_even_row(cd, rec)
            attrs.update({"p-best": f"{p_best:.4f}",
                          "break-even": repr(float(row["break_even_premium"]))})
            data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attrs.items())
        if ok:
            n_same = len(rec.indistinguishable) - 1
            why = (f"근거: 위험선호를 충족하는 {rec.eligible}개 구조(전체 {len(table)}개) 중 기대 "
                   f"순편익 최대"
                   + (f" · 순편익이 통계적으로 구별되지 않는 구조 {n_same}개 더 (아래 표)"
                      if n_same else " · 다른 구조보다 유의하게 큼")
                   + f" · 보험료 모형: {html.escape(rec.premium_model.split(' (')[0])}")
            sentence = self.robust.sentence_ko(cd) if robust else ans.sentence_ko(cd)
            if robust:
                why = f"{html.escape(self.robust.detail_ko(cd))}<br>{why}"
            body = (f"<div class='opwb-answer-card opwb-answer-state' {data}>"
                    f"<div class='opwb-sentence'>{html.escape(sentence)}</div>"
                    f"<div class='opwb-why'>{why}</div></div>")
            b = self.bases[cd]
            p = precision(rec.structure, b.n_years, self.spec.target_precision,
                          worlds=b.n_years // b.world_years if b.world_years else 0)
            color = "#1e6b3a" if p.met else "#b03a2e"
            self.precision_html.value = (f"<span class='opwb-note' style='color:{color};"
                                         f"margin-left:12px'>{html.escape(p.describe_ko())}"
                                         "</span>")
        else:
            body = (f"<div class='opwb-error-card opwb-answer-state' {data}>"
                    f"{html.escape(ans.sentence_ko(cd))}</div>")
        self.answer_html.value = body  # the answer first: the evidence follows within 0.5 s
        if not sentence_only:
            self._draw_heatmap()
            self.compare_html.value = self._compare_html(rec if ok else None, cd)
            self.frontier_part.remove_class("opwb-stale")
        if not sentence_only and self.picker.value[0] == "recommended":
            self._fill_recommended()

    def heatmap_table(self):
        """The frontier the heat map draws (the answer's, on the base the CD toggle selects)
        with its ``break_even_premium`` (:func:`opwb.decision.robust.break_even` at the
        answer's cost of capital): the column the break-even view colours and labels."""
        table = self.answer.frontiers[self.cd.value]
        be = break_even(table, self.answer.spec.settings.cost_of_capital)
        return table.assign(break_even_premium=be["break_even_premium"])

    def _draw_heatmap(self) -> None:
        """Draw the heat map of the current answer in the view the toggle above it selects
        (expected net benefit or break-even premium)."""
        ans = self.answer
        rec = ans.recommendations[self.cd.value]
        ok = isinstance(rec, Recommendation)
        table = self.heatmap_table()
        self.heatmap.value = frontier_png(
            table, value=self.heat_view.value, eligible=eligible_mask(table, ans.appetite),
            named=self.quotes, size=HEATMAP_INCHES, dpi=FIGURE_DPI,
            recommended=(rec.deductible, rec.limit) if ok else None)

    def _heat_view_changed(self, _change=None) -> None:
        """The heat map's toggle: redraw it in the chosen view (nothing is recomputed)."""
        if self.answer is None:
            return
        try:
            self._draw_heatmap()
        except Exception as exc:  # noqa: BLE001 - a message, never a traceback
            self._answer_error([f"구조별 그림을 그릴 수 없습니다 (cannot draw the heat map): "
                                f"{exc}"])

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
        a = figures_of(base, rec.alternative(), settings)
        b = figures_of(base, self.current, settings)
        diff = self.answer.versus_current[cd]        # the sentence's own paired differences
        if diff is None:
            diff = versus(base, rec.alternative(), self.current, settings)
        return compare_table_html(b, a, diff)

    def _answer_error(self, problems: list[str]) -> None:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
        self.answer_html.value = (
            f"<div class='opwb-error-card opwb-answer-state' data-state=\"error\" "
            f"data-seq=\"{self._seq}\"><b>입력 오류 (input error)</b> — 아래 결과는 이 입력으로 "
            f"다시 계산되기 전까지 흐리게 표시됩니다.<ul style='margin:4px 0'>{items}</ul></div>")
        self.frontier_part.add_class("opwb-stale")
        if self.uncertainty is not None:
            self.uncertainty.refresh()
        else:
            self.robust_html.add_class("opwb-stale")

    def _cd_changed(self, _change=None) -> None:
        with self.busy("손실 데이터를 바꾸어 다시 계산하는 중", _ANSWER, _EXPLORER):
            if self.answer is not None:
                self._seq += 1
                try:
                    self._answer_inputs_or_raise()
                    self._draw_answer(0.0)
                    self._refresh_uncertainty()
                except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                    self._answer_error([str(exc)])
            self.update_explorer()

    def _answer_inputs_or_raise(self) -> None:
        _, _, problems = self._answer_inputs()
        if problems:
            raise ValueError("; ".join(problems.values()))

    # -- the run database ------------------------------------------------------------------
    def run_state(self):
        """``(spec, answer)`` of what the page shows, for "이 결과 저장": the spec with the
        settings and appetite of the controls, and the answer on the predictive model
        (raises ``ValueError`` in Korean on inputs outside their ranges)."""
        spec = replace(self.spec, settings=self.settings(), appetite=self.appetite())
        if self.robust is None or self.answer is None:
            raise ValueError("권고가 아직 계산되지 않았습니다")
        return spec, self.robust

    # -- parameter uncertainty --------------------------------------------------------------
    def uncertainty_alternatives(self) -> list[Alternative]:
        """The alternatives of the parameter-uncertainty run: the cover in force, the other
        quotes and the current recommendation (when it is not one of them)."""
        alts = [self.current] + [q for q in self.quotes
                                 if q.policy_changes() != self.current.policy_changes()]
        name = self.recommended_name()
        if name is not None and all(a.name != name for a in alts):
            alts.append(self.answer.recommendations[self.cd.value].alternative(name))
        return alts

    def recommended_name(self) -> str | None:
        """The recommendation's name in the parameter-uncertainty run: a quote's name when
        its terms are the quote's (aggregate limit, coinsurance and rating included), else
        "모형 권고 구조 (…)"; None without a recommendation."""
        rec = self.answer.recommendations[self.cd.value] if self.answer else None
        if not isinstance(rec, Recommendation):
            return None
        alt = rec.alternative()
        terms = {k: v for k, v in alt.policy_changes().items() if k != "premium"}
        for a in [self.current, *self.quotes]:
            if {k: v for k, v in a.policy_changes().items() if k != "premium"} == terms:
                return a.name
        return f"모형 권고 구조 ({alt.name})"

    def uncertainty_inputs(self) -> tuple[tuple, dict]:
        """``(key, kwargs)`` of :func:`opwb.scenarios.parameter_uncertainty` for the app's
        state: the fitted models and programme of the base the CD toggle selects, its seed
        and severity cap, the settings the controls describe and
        :meth:`uncertainty_alternatives` (raises ``ValueError`` in Korean on bad settings)."""
        settings, cd = self.settings(), self.cd.value
        base, alts = self.bases[cd], self.uncertainty_alternatives()
        kwargs = {"losses": None, "programme": base.programme, "alternatives": alts,
                  "models": base.model_set, "include_cd": cd, "seed": base.seed,
                  "severity_cap": base.severity_cap, "settings": settings,
                  "bond_policy": base.bond_policy, "incidents": base.incidents}
        key = (cd, settings, base.model_set.fingerprint, base.seed, base.severity_cap,
               tuple(alts))
        return key, kwargs

    def _settings_changed(self, _change=None) -> None:
        with self.busy("평가 설정이 바뀌어 다시 계산하는 중", _ANSWER, _EXPLORER):
            self.update_answer()
            self.update_explorer()

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
            built = self.rebuild(n, report)
            if hasattr(built, "worlds"):        # a RobustAnswer: the predictive model again
                self.robust, built = built, built.bases
            self.bases = dict(built)
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
