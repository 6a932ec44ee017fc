"""The frequency × impact strategy matrix of the seed (slide 1-3): reduce, avoid, accept, transfer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

import pandas as pd

from opwb.analysis.tables import DateBasis, _year_column, annual_summary
from opwb.data.taxonomy import (
    EVENT_TYPE_CODES,
    label,
)

__all__ = ["Strategy", "STRATEGIES", "strategy_matrix"]


@dataclass(frozen=True)
class Strategy:
    """A risk-management strategy of the frequency × impact matrix (seed, slide 1-3)."""

    code: str
    ko: str
    en: str
    action_ko: str


#: (high frequency, high impact) → strategy, as on slide 1-3 of the seed deck.
STRATEGIES: dict[tuple[bool, bool], Strategy] = {
    (True, False): Strategy("reduce", "위험 감소", "reduce",
                            "비즈니스 프로세스·내부통제 개선"),
    (True, True): Strategy("avoid", "위험 회피", "avoid", "사업 이양·외주"),
    (False, False): Strategy("accept", "위험 수용", "accept", "비용으로 흡수"),
    (False, True): Strategy("transfer", "위험 전가", "transfer",
                            "보험으로 전가, 꼬리는 자본으로 Cover, BCP 구축"),
}


def strategy_matrix(losses: pd.DataFrame, *, impact: Literal["quantile", "max"] = "quantile",
                    impact_quantile: float = 0.95, frequency_cutoff: float | None = None,
                    impact_cutoff: float | None = None, by: DateBasis = "occurrence",
                    years: Iterable[int] | None = None) -> pd.DataFrame:
    """Classify each event type into the seed's four strategies by frequency and impact.

    Rules (all stated in the returned columns):

    - frequency = mean annual number of events over ``years`` (default: observed years);
      *high* when it is strictly above ``frequency_cutoff`` (default: the median of the
      seven event types' frequencies);
    - impact = the ``impact_quantile`` quantile of the gross losses (``impact="quantile"``)
      or the largest loss (``impact="max"``); *high* when strictly above ``impact_cutoff``
      in KRW (default: the median impact over event types with losses). An event type
      without losses has impact NaN and counts as low.

    Returns a frame indexed by event type with columns ``label, n_events, n_years,
    frequency, frequency_cutoff, high_frequency, impact, impact_measure, impact_cutoff,
    high_impact,
    strategy, strategy_ko, action_ko``. (high, low) → reduce, (high, high) → avoid,
    (low, low) → accept, (low, high) → transfer.
    """
    if impact not in ("quantile", "max"):
        raise ValueError(f"impact must be 'quantile' or 'max'; got {impact!r}")
    if not 0.0 < impact_quantile <= 1.0:
        raise ValueError(f"impact_quantile must be in (0, 1]; got {impact_quantile}")
    summary = annual_summary(losses, by=by, years=years)
    counts = summary["count"].unstack("year")
    # years of observation: a partial year of the window counts its share (exposure)
    n_years = float(summary["exposure"].groupby(level="year").first().sum())
    in_years = _year_column(losses, by).isin(counts.columns)
    sev = losses.loc[in_years].groupby("event_type")["gross_loss"]
    imp = sev.max() if impact == "max" else sev.quantile(impact_quantile)
    out = pd.DataFrame(index=pd.Index(EVENT_TYPE_CODES, name="event_type"))
    out["label"] = [label(c) for c in out.index]
    out["n_events"] = counts.sum(axis=1).astype("int64")
    out["n_years"] = n_years
    out["frequency"] = out["n_events"] / n_years
    f_cut = float(out["frequency"].median()) if frequency_cutoff is None else frequency_cutoff
    out["frequency_cutoff"] = f_cut
    out["high_frequency"] = out["frequency"] > f_cut
    out["impact"] = imp.reindex(out.index).astype("float64")
    out["impact_measure"] = ("최대 손실금액" if impact == "max"
                             else f"손실금액 {impact_quantile:.0%} 분위수")
    i_cut = float(out["impact"].median()) if impact_cutoff is None else impact_cutoff
    out["impact_cutoff"] = i_cut
    out["high_impact"] = (out["impact"] > i_cut).fillna(False).astype(bool)
    strategies = [STRATEGIES[(bool(f), bool(i))]
                  for f, i in zip(out["high_frequency"], out["high_impact"])]
    out["strategy"] = [s.code for s in strategies]
    out["strategy_ko"] = [s.ko for s in strategies]
    out["action_ko"] = [s.action_ko for s in strategies]
    return out
