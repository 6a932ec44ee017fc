"""Management's answer: the recommended BBB structure with and without the case's reference
incidents (the bundled bank's CD fraud), against the cover in force, in one Korean sentence —
the same on every screen.

:func:`management_answer` runs the frontier of the case's grid (its
:class:`~opwb.scenarios.spec.ScenarioSpec`) on each scenario base, priced by the quotes with
the deductible credit (:meth:`opwb.scenarios.premium.QuotedPremium.with_deductible_credit`),
recommends under the appetite (:func:`opwb.scenarios.recommend.recommend`, paired errors) and
compares the recommendation with the cover in force
(:func:`opwb.scenarios.evaluation.difference`). Without reference incidents there is one base
and the sentence says nothing about them.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from opwb.data.units import format_krw, format_krw_row, format_krw_with_se, with_particle
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.evaluation import difference, evaluate_cached, figures_of, terms_key
from opwb.scenarios.figures import context
from opwb.scenarios.frontier import frontier
from opwb.scenarios.premium import QuotedPremium
from opwb.scenarios.recommend import APPETITE_LABELS, Recommendation, recommend
from opwb.scenarios import spec as _spec
from opwb.scenarios.spec import Appetite, ScenarioSpec, current_cover, incident_label

__all__ = ["ManagementAnswer", "management_answer", "premium_model_for", "structure_ko"]


def structure_ko(deductible: float, limit: float) -> str:
    """``"보상한도 1,000억원 · 공제금액 50억원"``."""
    return (f"보상한도 {format_krw(limit, unit='억', digits=0)} · "
            f"공제금액 {format_krw(deductible, unit='억', digits=0)}")


def premium_model_for(base: ScenarioBase, quotes: Sequence[Alternative], spec: ScenarioSpec):
    """The premium model of the answer: the quotes with the deductible credit on ``base``."""
    return QuotedPremium.with_deductible_credit(quotes, context(base, spec.settings).bond)


@dataclass(frozen=True)
class ManagementAnswer:
    """The answer for both bases (keys: CD incident included?).

    ``frontiers``: the frontier tables; ``recommendations``: :class:`Recommendation` or the
    ``ValueError`` message when nothing meets the appetite; ``versus_current``: the
    recommendation minus the cover in force (DataFrame of :func:`difference`);
    ``current``: the cover in force.
    """

    spec: ScenarioSpec
    appetite: Appetite
    frontiers: Mapping[bool, pd.DataFrame]
    recommendations: Mapping[bool, Recommendation | str]
    versus_current: Mapping[bool, pd.DataFrame | None]
    current: Alternative
    paired: bool = True
    #: Per base, the appetite ceilings the cover in force breaks (Korean text, empty: none).
    current_outside: Mapping[bool, tuple[str, ...]] = field(default_factory=dict)

    def ok(self, cd: bool = True) -> bool:
        return isinstance(self.recommendations[cd], Recommendation)

    @property
    def cd_changes_answer(self) -> bool | None:
        """Whether leaving the CD incident out changes the recommended structure (None
        when either side has no recommendation)."""
        if False not in self.recommendations:
            return None
        a, b = self.recommendations[True], self.recommendations[False]
        if not (isinstance(a, Recommendation) and isinstance(b, Recommendation)):
            return None
        return not a.same_structure(b)

    def sentence_ko(self, cd: bool = True) -> str:
        """The answer in one Korean sentence (amounts in 억원, rounded to their precision).

        It leads with the recommendation when its net benefit over the cover in force is
        distinguishable from zero (paired error), and with "no gain confirmed" when it is
        not; it says when the recommendation keeps the cover in force's limit and deductible
        and only drops its aggregate limit, and when the cover in force is outside the
        appetite (which is why a structure with less net benefit can be recommended).
        """
        rec = self.recommendations[cd]
        if not isinstance(rec, Recommendation):
            return f"{_korean_part(rec)}. 위험선호 한도를 조정하세요."
        if self.versus_current[cd] is None:
            raise ValueError(f"this answer was not compared with the cover in force on the "
                             f"base {'with' if cd else 'without'} the reference incidents "
                             "(compare=)")
        vs = self.versus_current[cd].loc["net_benefit"]
        gain = format_krw_with_se(abs(vs["difference"]), vs["se"])
        premium = format_krw_row([(float(rec.structure["premium"]), 0.0)])[0]
        what = f"{structure_ko(rec.deductible, rec.limit)} (연 보험료 {premium})"
        cur = self.current
        if (rec.deductible, rec.limit) == (cur.deductible, cur.limit) and \
                cur.aggregate_limit != float("inf"):
            what = (f"{structure_ko(rec.deductible, rec.limit)} — 현행과 같은 보상한도·공제금액에 "
                    f"연간 총한도({format_krw(cur.aggregate_limit, unit='억', digits=0)})를 없앤 "
                    f"구조 (연 보험료 {premium})")
        outside = self.current_outside.get(cd, ())
        why = (f" 현행 계약은 위험선호({', '.join(outside)})를 벗어납니다." if outside else "")
        versus = with_particle(cur.name, "과")
        if not vs["distinguishable"]:
            head = (f"현행 대비 이득은 확인되지 않습니다: 위험선호 안에서 기대 순편익이 가장 큰 "
                    f"구조는 {what}이지만, {versus}의 기대 순편익 차이는 연 "
                    f"{'-' if vs['difference'] < 0 else '+'}{gain}으로 0과 통계적으로 구별되지 "
                    f"않습니다.{why}")
        elif vs["difference"] > 0:
            head = (f"권고: {what}. {cur.name}보다 기대 순편익이 연 {gain} "
                    f"큽니다.{why}")
        else:
            head = (f"권고: {what}. {cur.name}보다 기대 순편익은 연 {gain} "
                    f"작지만 위험선호를 충족하는 구조 가운데 가장 큽니다.{why}")
        if len(self.recommendations) < 2:
            return head
        return f"{head} {self._cd_text(cd, rec)}"

    def _cd_text(self, cd: bool, rec: Recommendation) -> str:
        other = self.recommendations[not cd]
        without = "빼면" if cd else "넣으면"
        what = with_particle(incident_label(self.spec) or "기준 사건", "을")
        if not isinstance(other, Recommendation):
            return f"{what} {without} 위험선호를 충족하는 구조가 없습니다."
        if rec.same_structure(other):
            return f"{what} {'빼도' if cd else '넣어도'} 권고는 같습니다."
        alt = structure_ko(other.deductible, other.limit)
        close = ((rec.indistinguishable.deductible == other.deductible)
                 & (rec.indistinguishable.limit == other.limit)).any()
        return (f"{what} {without} 권고가 {with_particle(alt, '으로')} 바뀝니다"
                + (" (다만 이 모형에서 두 구조의 순편익은 통계적으로 구별되지 않습니다)."
                   if close else "."))


def _korean_part(message: str) -> str:
    """A bilingual message without its English parentheses ("(max_premium)", "(the lowest
    any structure reaches is …)") for a manager."""
    return re.sub(r"\s*\([^()]*[A-Za-z][^()]*\)", "", message).strip()


def _outside(base: ScenarioBase, current: Alternative, appetite: Appetite, settings
             ) -> tuple[str, ...]:
    """The appetite ceilings the cover in force breaks on ``base`` (Korean, with values)."""
    res = current_figures(base, current, settings)
    out = []
    for col, ceiling in appetite.ceilings().items():
        if res[col] > ceiling:
            out.append(f"{APPETITE_LABELS[col]} {format_krw(res[col], unit='억', digits=0)} > "
                       f"{format_krw(ceiling, unit='억', digits=0)}")
    return tuple(out)


#: The key (with the settings and the cover in force) of a base's cache of the cover in
#: force's appetite figures (opwb.decision stores it).
CURRENT_CACHE = "appetite figures of the cover in force"


def current_figures(base: ScenarioBase, current: Alternative, settings) -> dict[str, float]:
    """The figures an appetite can cap (:data:`~opwb.scenarios.recommend.APPETITE_LABELS`:
    premium, retained losses, capital, ...; KRW or a probability) of the cover in force on
    ``base`` (cached)."""
    key = (CURRENT_CACHE, settings, current)
    if key not in base._cache:
        res = figures_of(base, current, settings)
        base._cache[key] = {col: float(res[col]) for col in APPETITE_LABELS}
    return base._cache[key]


#: The figures compared with the cover in force (paired differences), in the sentence and in
#: the app's comparison table.
VERSUS_KEYS = ("premium", "expected_recovery", "bond_regulatory_relief", "net_var", "net_es",
               "retained_if_1in100", "net_benefit")


#: The key (with the settings and the cover in force) of a base's cache of paired comparisons
#: with the cover in force: ``{structure's terms: difference frame}`` (opwb.decision stores it).
VERSUS_CACHE = "versus current"


def _versus(base: ScenarioBase, alt: Alternative, current: Alternative, settings
            ) -> pd.DataFrame:
    """``alt`` minus the cover in force, paired (cached on the base per structure)."""
    cache = base._cache.setdefault((VERSUS_CACHE, settings, current), {})
    key = terms_key(alt)
    if key not in cache:
        a, b = evaluate_cached(base, alt, settings), evaluate_cached(base, current, settings)
        cache[key] = difference(base, a, b, settings,
                                keys=VERSUS_KEYS)
    return cache[key]


def versus(base: ScenarioBase, alt: Alternative, current: Alternative,
           settings: ScenarioSettings) -> pd.DataFrame:
    """``alt`` minus the cover in force ``current`` on ``base``, paired
    (:func:`opwb.scenarios.evaluation.difference` of :data:`VERSUS_KEYS`), from the base's
    cache (filled by :func:`versus_many` or an earlier call) or evaluated and kept."""
    return _versus(base, alt, current, settings)


def versus_many(base: ScenarioBase, alternatives: Sequence[Alternative],
                current: Alternative, settings, *, curves: bool = False,
                chunk: int = 8) -> None:
    """Fill the base's caches for every structure of ``alternatives``: its figures
    (:func:`~opwb.scenarios.evaluation.figures_of`), its paired comparison with the cover in
    force (:func:`versus`) and, with ``curves``, its exceedance curve
    (:func:`~opwb.scenarios.evaluation.exceedance_of`). Structures are evaluated ``chunk``
    at a time (alike limits together, so they share their payments; each chunk's annual
    arrays are dropped before the next). The figures are those a screen computes one at a
    time when it shows a structure; opwb.decision fills them for the case's grid and quotes
    when it builds the predictive bases, so an appetite change or the explorer's first
    quote on a page evaluates nothing."""
    from opwb.scenarios.evaluation import CURVES_CACHE, FIGURES_CACHE, evaluate_many, keep_curves
    cache = base._cache.setdefault((VERSUS_CACHE, settings, current), {})
    known = base._cache.setdefault((FIGURES_CACHE, settings), {})
    drawn = base._cache.setdefault((CURVES_CACHE, settings), {})

    def missing(a: Alternative) -> bool:
        return (terms_key(a) not in cache or terms_key(a) not in known
                or (curves and (terms_key(a) not in drawn or "gross" not in drawn)))
    todo = sorted({terms_key(a): a for a in [current, *alternatives] if missing(a)}.values(),
                  key=lambda a: (a.limit, a.deductible))
    if not todo:
        return
    b = evaluate_cached(base, current, settings)
    for i in range(0, len(todo), chunk):
        part = todo[i:i + chunk]
        results = evaluate_many(base, part, settings)
        for alt, res in zip(part, results):
            cache[terms_key(alt)] = difference(base, res, b, settings, keys=VERSUS_KEYS)
            known.setdefault(terms_key(alt), dict(res.metrics))
        if curves:
            keep_curves(base, results, settings)


def management_answer(bases: Mapping[bool, ScenarioBase], quotes: Sequence[Alternative], *,
                      appetite: Appetite | None = None,
                      spec: ScenarioSpec | None = None,
                      frontiers: Mapping[bool, pd.DataFrame] | None = None,
                      paired: bool = True, compare: Sequence[bool] | None = None
                      ) -> ManagementAnswer:
    """Frontier, recommendation and comparison with the cover in force, for both bases.

    Parameters
    ----------
    bases : mapping
        ``{True: with the CD incident, False: without}`` (:func:`scenario_bases`).
    quotes : sequence of Alternative
        The insurers' quotes (``data/bbb_alternatives.csv``) the premium model interpolates.
    appetite : Appetite, optional
        Management's ceilings (default: the spec's, i.e. the case's).
    spec : ScenarioSpec, optional
        The case's grid, settings and incidents (:func:`~opwb.scenarios.spec.spec_for`;
        default the bundled case's :data:`~opwb.scenarios.spec.DEFAULT_SPEC`).
    frontiers : mapping, optional
        Frontier tables already computed for these bases (an appetite change re-uses them).
    paired : bool
        Find the indistinguishable structures with paired errors (default); ``False``
        uses the upper bound of :func:`opwb.scenarios.recommend.recommend` — the same
        recommended structure, faster, a possibly longer list.
    compare : sequence of bool, optional
        The bases on which the recommendation is compared with the cover in force (default:
        all); on the others ``versus_current`` is None and :meth:`ManagementAnswer.sentence_ko`
        is not available (the app's first, fast pass compares on the base it shows).

    Returns
    -------
    ManagementAnswer
    """
    spec = _spec.DEFAULT_SPEC if spec is None else spec
    appetite = spec.appetite if appetite is None else appetite
    settings = spec.settings
    tables = dict(frontiers) if frontiers is not None else {}
    recs: dict[bool, Recommendation | str] = {}
    versus: dict[bool, pd.DataFrame | None] = {}
    current = current_cover(next(iter(bases.values())))
    for cd, base in bases.items():
        if cd not in tables:
            tables[cd] = frontier(base, deductibles=spec.deductibles, limits=spec.limits,
                                  premium=premium_model_for(base, quotes, spec),
                                  settings=settings)
        try:
            rec = recommend(tables[cd], base=base if paired else None, settings=settings,
                            **appetite.as_kwargs())
        except ValueError as exc:
            recs[cd], versus[cd] = str(exc), None
            continue
        recs[cd] = rec
        if compare is None or cd in compare:
            versus[cd] = _versus(base, rec.alternative(), current, settings)
        else:
            versus[cd] = None
    outside = {cd: _outside(base, current, appetite, settings) for cd, base in bases.items()
               if compare is None or cd in compare}
    return ManagementAnswer(spec, appetite, tables, recs, versus, current, paired, outside)
