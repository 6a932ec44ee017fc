"""BBB limit scenarios: one simulation, many insurance alternatives (common random numbers).

:func:`build_scenario_base` fits each event type's frequency and severity above the
collection threshold (with or without the CD incident), simulates annual losses once and
stores the events the bond can reach. :func:`evaluate` re-applies the insurance programme
with the bankers' blanket bond replaced by an :class:`~opwb.scenarios.alternatives.Alternative`
— no re-simulation, so differences between alternatives are exact, not noise — and
returns management's figures. :func:`compare` tabulates several alternatives.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.capital.ama import capital_summary
from opwb.data.schema import COLLECTION_THRESHOLD
from opwb.data.synth import CD_INCIDENT
from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.engine.simulate import CellModel, simulate_losses
from opwb.fitting.frequency import fit_frequency
from opwb.fitting.mle import fit_severity
from opwb.insurance.apply import apply_programme
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.programme import Programme

__all__ = [
    "BBB_POLICY_ID", "CD_EVENT_ID", "ScenarioSettings", "ScenarioBase", "fit_cell_models",
    "build_scenario_base", "baseline_capital",
]


BBB_POLICY_ID = "BBB"


CD_EVENT_ID: str = CD_INCIDENT["event_id"]


DEFAULT_FAMILIES = ("lognormal", "genpareto")


@dataclass(frozen=True)
class ScenarioSettings:
    """How alternatives are judged.

    ``cost_of_capital``: annual cost of holding one won of capital (capital saving =
    cost_of_capital × regulatory capital relief of the bond). ``valuation_date`` sets the
    residual-term haircut (``haircut_convention``: see :mod:`opwb.insurance.eligibility`).
    ``return_periods``: 1-in-N-year retained losses shown. ``aggregation``: how the
    regulatory capital total is formed (Basel default: sum of event-type figures).
    """

    alpha: float = 0.999
    cost_of_capital: float = 0.10
    valuation_date: str | pd.Timestamp | None = "2006-12-31"
    haircut_convention: Literal["linear", "pro-rata"] = "linear"
    return_periods: tuple[int, ...] = (10, 100, 1000)
    aggregation: Literal["sum", "independent"] = "sum"


@dataclass(frozen=True)
class ScenarioBase:
    """A stored simulation and the programme around the bond (built once, evaluated often)."""

    include_cd: bool
    n_years: int
    seed: int
    models: Mapping[str, CellModel]
    fits: Mapping[str, Any]
    sim: Any
    programme: Programme
    _cache: dict = field(default_factory=dict, repr=False, compare=False)


def _annual_counts(losses: pd.DataFrame, years: Sequence[int]) -> dict[str, np.ndarray]:
    year = losses["occurrence_date"].dt.year
    table = pd.crosstab(losses["event_type"], year).reindex(
        index=list(EVENT_TYPE_CODES), columns=list(years), fill_value=0)
    return {et: table.loc[et].to_numpy() for et in EVENT_TYPE_CODES}


def fit_cell_models(losses: pd.DataFrame, *, threshold: float = COLLECTION_THRESHOLD,
                    families: Iterable[str] = DEFAULT_FAMILIES,
                    years: Sequence[int] | None = None) -> tuple[dict[str, CellModel], dict]:
    """Per event type: frequency (Poisson or negative binomial by dispersion test) and the
    severity family with the lowest AIC on the left-truncated likelihood above ``threshold``.

    Returns ``(models, fits)`` where ``fits[et]`` is the chosen severity fit.
    """
    above = losses[losses["gross_loss"] >= threshold]
    if years is None:
        years = range(int(above["occurrence_date"].dt.year.min()),
                      int(above["occurrence_date"].dt.year.max()) + 1)
    counts = _annual_counts(above, list(years))
    models, fits = {}, {}
    for et in EVENT_TYPE_CODES:
        x = above.loc[above["event_type"] == et, "gross_loss"].to_numpy(float)
        candidates = []
        for fam in families:
            try:
                candidates.append(fit_severity(x, fam, threshold=threshold))
            except ValueError:
                continue  # a family that cannot be fitted to this cell is not a candidate
        if not candidates:
            raise ValueError(f"no severity family could be fitted to event type {et} "
                             f"({len(x)} losses above {threshold:,.0f})")
        best = min(candidates, key=lambda f: f.aic)
        freq = fit_frequency(counts[et], threshold=threshold)
        models[et] = CellModel(freq, best, threshold=threshold)
        fits[et] = best
    return models, fits


def _keep_levels(programme: Programme, floor_cells: Iterable[str]) -> dict[str, float]:
    """Store every event of the bond's cells (its deductible may go to 0); elsewhere only
    events above the lowest deductible of the policies covering that event type."""
    floor_cells = set(floor_cells)
    levels = {}
    for et in EVENT_TYPE_CODES:
        ded = [p.deductible for p in programme.policies if p.covers(et) > 0]
        levels[et] = 0.0 if et in floor_cells else (min(ded) if ded else math.inf)
    return levels


def build_scenario_base(losses: pd.DataFrame, programme: Programme, *, include_cd: bool = True,
                        n_years: int = 100_000, seed: int = 2005,
                        threshold: float = COLLECTION_THRESHOLD,
                        families: Iterable[str] = DEFAULT_FAMILIES, workers: int = 1,
                        cd_event_id: str = CD_EVENT_ID,
                        progress: Callable[[float, str], None] | None = None) -> ScenarioBase:
    """Fit, simulate ``n_years`` and prepare the bond-free baseline.

    With ``include_cd=False`` the CD incident (``cd_event_id``) is taken out of the data
    before fitting — the seed's "before including the CD incident". The same ``seed``
    gives the same simulated years for every event type whose model is unchanged.
    """
    report = progress or (lambda frac, text: None)
    if BBB_POLICY_ID not in programme.ids:
        raise ValueError(f"the programme has no policy {BBB_POLICY_ID!r} (the bond)")
    data = losses if include_cd else losses[losses["event_id"] != cd_event_id]
    if include_cd and not (losses["event_id"] == cd_event_id).any():
        raise ValueError(f"include_cd=True but the data has no event {cd_event_id!r}")
    report(0.05, "모형 적합 (fitting)")
    models, fits = fit_cell_models(data, threshold=threshold, families=families)
    bond_cells = [et for et in EVENT_TYPE_CODES if programme[BBB_POLICY_ID].covers(et) > 0]
    report(0.2, "시뮬레이션 (simulating)")
    sim = simulate_losses(models, n_years, seed,
                          keep_events_above=_keep_levels(programme, bond_cells),
                          workers=workers)
    base = ScenarioBase(include_cd, n_years, seed, models, fits, sim, programme)
    report(0.8, "보험 미가입 기준 계산 (baseline without the bond)")
    baseline_capital(base, ScenarioSettings())
    report(1.0, "완료 (done)")
    return base


def baseline_capital(base: ScenarioBase, settings: ScenarioSettings) -> float:
    """Regulatory net capital of the programme without the bond (cached per setting that
    affects it), the reference for the bond's own capital relief."""
    key = ("baseline", settings.alpha, str(settings.valuation_date),
           settings.haircut_convention, settings.aggregation)
    if key not in base._cache:
        without = Programme(tuple(p for p in base.programme.policies
                                  if p.key != BBB_POLICY_ID))
        hc = view_haircuts(without, "regulatory", valuation_date=settings.valuation_date,
                           convention=settings.haircut_convention)
        reg = apply_programme(without, base.sim, seed=base.seed, haircuts=hc)
        summary = capital_summary(reg, alpha=settings.alpha, aggregation=settings.aggregation)
        base._cache[key] = summary.cap.net
    return base._cache[key]
