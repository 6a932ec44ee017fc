"""Management's answer: the recommended BBB structure with and without the CD incident,
against the cover in force, in one Korean sentence — the same on every screen.

:func:`management_answer` runs the frontier of :data:`opwb.scenarios.spec.DEFAULT_SPEC`'s
grid on both scenario bases, priced by the quotes with the deductible credit
(:meth:`opwb.scenarios.premium.QuotedPremium.with_deductible_credit`), recommends under the
appetite (:func:`opwb.scenarios.recommend.recommend`, paired errors) and compares the
recommendation with the 2005 cover (:func:`opwb.scenarios.evaluation.difference`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from opwb.data.units import format_krw, format_krw_row, format_krw_with_se, with_particle
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase
from opwb.scenarios.evaluation import difference, evaluate_cached
from opwb.scenarios.figures import context
from opwb.scenarios.frontier import frontier
from opwb.scenarios.premium import QuotedPremium
from opwb.scenarios.recommend import Recommendation, recommend
from opwb.scenarios.spec import DEFAULT_APPETITE, DEFAULT_SPEC, Appetite, ScenarioSpec, current_cover

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

    def ok(self, cd: bool = True) -> bool:
        return isinstance(self.recommendations[cd], Recommendation)

    @property
    def cd_changes_answer(self) -> bool | None:
        """Whether leaving the CD incident out changes the recommended structure (None
        when either side has no recommendation)."""
        a, b = self.recommendations[True], self.recommendations[False]
        if not (isinstance(a, Recommendation) and isinstance(b, Recommendation)):
            return None
        return not a.same_structure(b)

    def sentence_ko(self, cd: bool = True) -> str:
        """The answer in one Korean sentence (amounts in 억원, rounded to their precision)."""
        rec = self.recommendations[cd]
        if not isinstance(rec, Recommendation):
            return ("현재 위험선호를 모두 충족하는 구조가 없습니다. 위험선호 한도를 조정하세요 "
                    f"({rec})")
        vs = self.versus_current[cd].loc["net_benefit"]
        gain = format_krw_with_se(vs["difference"], vs["se"])
        gain = ("+" + gain) if vs["difference"] > 0 and not gain.startswith("-") else gain
        clear = "" if vs["distinguishable"] else " (통계적으로 0과 구별되지 않음)"
        other = self.recommendations[not cd]
        without = "빼면" if cd else "넣으면"
        if not isinstance(other, Recommendation):
            other_text = f"CD 사건을 {without} 위험선호를 충족하는 구조가 없습니다."
        elif rec.same_structure(other):
            other_text = f"CD 사건을 {'빼도' if cd else '넣어도'} 권고는 같습니다."
        else:
            alt = structure_ko(other.deductible, other.limit)
            close = ((rec.indistinguishable.deductible == other.deductible)
                     & (rec.indistinguishable.limit == other.limit)).any()
            other_text = (f"CD 사건을 {without} 권고가 {with_particle(alt, '으로')} 바뀝니다"
                          + (" (다만 이 모형에서 두 구조의 순편익은 통계적으로 구별되지 "
                             "않습니다)." if close else "."))
        premium = format_krw_row([(float(rec.structure["premium"]), 0.0)])[0]
        return (f"권고: {structure_ko(rec.deductible, rec.limit)} (연 보험료 {premium}). "
                f"{with_particle(self.current.name, '과')} 비교한 기대 순편익은 연 {gain}"
                f"{clear}입니다. {other_text}")


def _versus(base: ScenarioBase, alt: Alternative, current: Alternative, settings
            ) -> pd.DataFrame:
    """``alt`` minus the cover in force, paired (cached on the base per structure)."""
    cache = base._cache.setdefault(("versus current", settings, current), {})
    key = (alt.deductible, alt.limit, alt.premium, alt.aggregate_limit, alt.coinsurance,
           alt.insurer_rating)
    if key not in cache:
        a, b = evaluate_cached(base, alt, settings), evaluate_cached(base, current, settings)
        cache[key] = difference(base, a, b, settings,
                                keys=("net_benefit", "expected_recovery", "premium",
                                      "bond_regulatory_relief"))
    return cache[key]


def management_answer(bases: Mapping[bool, ScenarioBase], quotes: Sequence[Alternative], *,
                      appetite: Appetite = DEFAULT_APPETITE,
                      spec: ScenarioSpec = DEFAULT_SPEC,
                      frontiers: Mapping[bool, pd.DataFrame] | None = None,
                      paired: bool = True) -> ManagementAnswer:
    """Frontier, recommendation and comparison with the cover in force, for both bases.

    Parameters
    ----------
    bases : mapping
        ``{True: with the CD incident, False: without}`` (:func:`scenario_bases`).
    quotes : sequence of Alternative
        The insurers' quotes (``data/bbb_alternatives.csv``) the premium model interpolates.
    appetite : Appetite
        Management's ceilings.
    spec : ScenarioSpec
        Grid and settings.
    frontiers : mapping, optional
        Frontier tables already computed for these bases (an appetite change re-uses them).
    paired : bool
        Find the indistinguishable structures with paired errors (default); ``False``
        uses the upper bound of :func:`opwb.scenarios.recommend.recommend` — the same
        recommended structure, faster, a possibly longer list.

    Returns
    -------
    ManagementAnswer
    """
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
        versus[cd] = _versus(base, rec.alternative(), current, settings)
    return ManagementAnswer(spec, appetite, tables, recs, versus, current, paired)
