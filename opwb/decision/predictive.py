"""The predictive model: the scenario base that carries what the data cannot decide.

Five years of losses do not fix the fitted parameters, and in some cells they do not pick
the severity family either (the internal-fraud cell fits a Lomax, a log-logistic and a
lognormal within a few AIC points). A decision taken on the fitted (plug-in) model alone
ignores both; Shevchenko (2011, *Modelling Operational Risk Using Bayesian Inference*,
ch. 7) takes it on the **predictive distribution** instead — the annual loss averaged over
the parameters (and models) the data leave plausible. :func:`predictive_base` builds it:

1. **Families by Akaike weight** (:func:`family_weights`). In every cell the families that
   the model-choice rule deems credible (:func:`opwb.fitting.modelset.credible_families`:
   status ok, a mean allowed, tail not rejected) get Akaike weights
   ``w_f = exp(−Δ_f / 2) / Σ_g exp(−Δ_g / 2)``, ``Δ_f = AIC_f − min AIC`` (Burnham &
   Anderson 2002, *Model Selection and Multimodel Inference*, §2.9); families that are one
   model above the threshold (the Lomax and the generalised Pareto, equal AIC) count once.
   Families below
   :data:`MIN_WEIGHT` are dropped and the rest renormalised; a cell whose chosen family keeps
   all the weight is one where the data pick the family.
2. **Worlds.** ``n_worlds`` worlds. In each cell, ``round(n_worlds · w_f)`` worlds (largest
   remainders) take family ``f``, the worlds chosen by a permutation keyed to (seed, cell):
   the stated weights are met exactly up to ``1 / n_worlds``. World ``w``'s data for the
   cell are drawn again from that family's fit — the observed years' counts from the fitted
   frequency and as many losses above the threshold (the parametric bootstrap, Efron &
   Tibshirani 1993, §6.5) — and the frequency and that family refitted by left-truncated
   maximum likelihood. Data that cannot be fitted to finite parameters (too few losses, a
   degenerate fit) are drawn again, up to :data:`MAX_ATTEMPTS` times; so no world is ever
   dropped (a dropped world would bias the mixture towards fittable data), and the redraws
   are counted. Streams are keyed to (seed, cell, world, attempt).
3. **Simulation.** Each world is simulated for ``world_years`` years from its own stream
   (seed keyed to the world). Structures are compared within a world on the same years
   (common random numbers), so the world's best structure is not Monte Carlo noise of
   the comparison.
4. **The pooled base.** The first ``n_years // n_worlds`` years of every world, put end to
   end, are ``n_years`` years of the mixture over the worlds: the predictive distribution.
   Its Monte Carlo error has two parts: the years within each world, and the draw of the
   ``n_worlds`` worlds themselves (a cluster sample of the parameters). Resampling years as
   if they were independent leaves the second part out (a validator measured 0.73억 for an
   expected recovery whose worlds' means spread 6.24억 / √100), so the pooled base records
   its blocks (``ScenarioBase.world_years``) and every standard error on it resamples the
   worlds (the block bootstrap of :class:`opwb.engine.bootstrap.YearWeights`; cluster
   errors for means, shares and ES): both parts are in it. It is an ordinary
   :class:`~opwb.scenarios.base.ScenarioBase`: every figure, frontier and recommendation of
   :mod:`opwb.scenarios` runs on it unchanged. Its events keep distinct ids across worlds,
   so the insurance draws (wording, delay, default) are independent between worlds.
5. **World by world.** The grid's structures are evaluated on every world's own years
   (:class:`WorldTable`: net benefit and the appetite's figures per world and structure),
   at the premiums of the pooled base, for the share of worlds in which a structure is best
   and its expected regret (:mod:`opwb.decision.robust`).

The plug-in base stays what :func:`opwb.scenarios.spec.scenario_bases` gives.
"""
from __future__ import annotations

import hashlib
import inspect
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opwb.data.schema import collected
from opwb.engine._blocks import cell_key
from opwb.engine.simulate import CellEvents, SimulatedLosses, simulate_losses
from opwb.fitting.gof import comparison_table, fit_all
from opwb.fitting.modelset import (AIC_TIE, TAIL_TEST_LEVEL, CellFit, ModelSet,
                                   credible_families)
from opwb.fitting.result import SeverityFit
from opwb.scenarios.base import ScenarioBase, _keep_levels, cell_models, without_incidents
from opwb.scenarios.worlds import _REDRAW_RULE, MAX_ATTEMPTS, refit_world

__all__ = ["MIN_WEIGHT", "MAX_ATTEMPTS", "FamilyWeights", "family_weights",
           "assign_families", "PredictiveSettings", "WorldTable", "predictive_base",
           "world_seed", "TABLE_FIGURES"]

MIN_WEIGHT = 0.02
"""Akaike weights below this are dropped (and the rest renormalised): a family the data
make 50 times less likely than the best does not enter the predictive model."""
TABLE_FIGURES = ("net_benefit", "expected_recovery", "bond_regulatory_relief",
                 "retained_if_1in100", "regulatory_net_capital", "premium")
"""The figures recorded per world and structure (:class:`WorldTable`)."""


# --------------------------------------------------------------------------- families
@dataclass(frozen=True)
class FamilyWeights:
    """The severity families of one cell in the predictive model, with their weights.

    ``families`` and ``weights`` (summing to 1) in decreasing weight; ``aic`` their AIC;
    ``fits`` the fitted :class:`~opwb.fitting.result.SeverityFit` of each (the chosen
    family's is the model set's own); ``n`` the losses they were fitted to.
    """

    cell: str
    families: tuple[str, ...]
    weights: tuple[float, ...]
    aic: tuple[float, ...]
    fits: Mapping[str, SeverityFit] = field(repr=False)
    n: int = 0

    @property
    def decided(self) -> bool:
        """Whether the data pick one family (it keeps all the weight)."""
        return len(self.families) == 1

    def describe(self) -> str:
        """``"lomax 52% · loglogistic 31% · lognormal 17%"``."""
        return " · ".join(f"{f} {w:.0%}" for f, w in zip(self.families, self.weights))


def _cell_losses(losses: pd.DataFrame, cell: str, threshold: float,
                 by: str = "event_type") -> np.ndarray:
    mask = (losses[by] == cell) & collected(losses["gross_loss"], threshold)
    return losses.loc[mask, "gross_loss"].to_numpy(float)


def _one_per_model(fits: dict[str, SeverityFit], chosen: str) -> dict[str, SeverityFit]:
    """One family per model: families whose AICs agree within
    :data:`opwb.fitting.modelset.AIC_TIE` are one model above the threshold (the Lomax and
    the generalised Pareto), kept once — the chosen family, else the first in the
    registry — so that no model counts twice in the weights."""
    from opwb.fitting.families import SEVERITY_FAMILIES
    order = {f: i for i, f in enumerate(SEVERITY_FAMILIES)}
    ranked = sorted(fits, key=lambda f: (f != chosen, order.get(f, len(order)), f))
    kept: dict[str, SeverityFit] = {}
    for f in ranked:
        if all(abs(fits[f].aic - g.aic) > AIC_TIE for g in kept.values()):
            kept[f] = fits[f]
    return kept


_FIT_ALL: "OrderedDict[tuple, dict]" = OrderedDict()
_FIT_ALL_KEEP = 64


def _fit_all_once(x: np.ndarray, threshold: float) -> dict:
    """:func:`opwb.fitting.gof.fit_all` of one cell's losses, remembered in this process
    for the last :data:`_FIT_ALL_KEEP` samples (the same losses are weighed again when a
    case is answered with another valuation date, settings or run length)."""
    key = (hashlib.sha256(np.ascontiguousarray(x, dtype=float).tobytes()).hexdigest(),
           float(threshold))
    if key in _FIT_ALL:
        _FIT_ALL.move_to_end(key)
        return _FIT_ALL[key]
    fits = fit_all(x, threshold)
    _FIT_ALL[key] = fits
    while len(_FIT_ALL) > _FIT_ALL_KEEP:
        _FIT_ALL.popitem(last=False)
    return fits


def family_weights(losses: pd.DataFrame, models: ModelSet, *, min_weight: float = MIN_WEIGHT,
                   level: float = TAIL_TEST_LEVEL, n_boot: int | None = None,
                   seed: int = 0) -> dict[str, FamilyWeights]:
    """Per cell of ``models``, the credible severity families and their Akaike weights.

    Parameters
    ----------
    losses : DataFrame
        The canonical losses the model set was fitted on (``opwb.load_losses``).
    models : ModelSet
        The chosen models (:func:`opwb.fitting.models_for`); its family in each cell is
        always among the families, with the model set's own fit.
    min_weight : float
        Weights below it are dropped and the rest renormalised (:data:`MIN_WEIGHT`).
    level : float
        The tail test's level of the credibility rule.
    n_boot, seed : the goodness-of-fit bootstrap (:func:`opwb.fitting.gof.comparison_table`)
        of the families within reach of the weight (the others need no test).

    Returns
    -------
    dict
        cell → :class:`FamilyWeights`.

    Notes
    -----
    Akaike weights: Burnham & Anderson (2002), §2.9. Only families whose weight before the
    tail test could reach ``min_weight`` are tested (``Δ ≤ 2 ln(1 / min_weight)``), so the
    rule costs a few bootstrap tests per cell.
    """
    if not 0 < min_weight < 1:
        raise ValueError(f"min_weight must be a fraction in (0, 1), got {min_weight!r}")
    reach = 2 * math.log(1 / min_weight)
    out = {}
    for cell, m in models.items():
        chosen = m.severity
        x = _cell_losses(losses, cell, models.threshold)
        fits = {f: s for f, s in _fit_all_once(x, models.threshold).items()
                if isinstance(s, SeverityFit) and s.ok and math.isfinite(s.aic)}
        fits[chosen.family] = chosen
        fits = _one_per_model(fits, chosen.family)
        best = min(s.aic for s in fits.values())
        near = {f: s for f, s in fits.items() if s.aic - best <= reach}
        others = {f: s for f, s in near.items() if f != chosen.family}
        credible = {chosen.family}
        if others:
            kw = {} if n_boot is None else {"n_boot": n_boot}
            table = comparison_table(others, x, seed=seed, **kw)
            credible |= set(credible_families(
                table, allow_infinite_mean=models.allow_infinite_mean, level=level)["family"])
        aic = {f: near[f].aic for f in credible}
        a0 = min(aic.values())
        raw = {f: math.exp(-(v - a0) / 2) for f, v in aic.items()}
        total = sum(raw.values())
        kept = {f: w / total for f, w in raw.items() if w / total >= min_weight}
        kept.setdefault(chosen.family, raw[chosen.family] / total)
        total = sum(kept.values())
        order = sorted(kept, key=lambda f: (-kept[f], f))
        out[cell] = FamilyWeights(cell, tuple(order), tuple(kept[f] / total for f in order),
                                  tuple(aic[f] for f in order), {f: near[f] for f in order},
                                  int(x.size))
    return out


def assign_families(weights: FamilyWeights, n_worlds: int, seed: int) -> np.ndarray:
    """The family of every world for one cell: ``round(n_worlds · w_f)`` worlds per family
    (largest remainders), placed by a permutation keyed to (seed, cell)."""
    share = np.asarray(weights.weights) * n_worlds
    counts = np.floor(share).astype(int)
    short = n_worlds - counts.sum()
    if short:
        order = np.argsort(-(share - counts), kind="stable")
        counts[order[:short]] += 1
    labels = np.repeat(np.asarray(weights.families, dtype=object), counts)
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(cell_key("predictive families|" + weights.cell),))))
    return labels[rng.permutation(n_worlds)]


# --------------------------------------------------------------------------- worlds
def world_seed(seed: int, world: int) -> int:
    """The simulation seed of world ``world`` (a 62-bit integer keyed to (seed, world))."""
    state = np.random.SeedSequence(seed, spawn_key=(cell_key("predictive world"), world))
    return int(state.generate_state(1, np.uint64)[0] >> np.uint64(2))


def world_fit(generating: CellFit, family_fit: SeverityFit, seed: int, world: int,
              cell: str) -> tuple[CellFit, int]:
    """World ``world``'s model of one cell and the data draws it took: data drawn again
    from ``family_fit`` with the cell's fitted frequency, refitted (same families) by the
    redraw rule of :func:`opwb.scenarios.worlds.refit_world` (streams ``"predictive"``,
    keyed to the attempt; data that cannot be fitted are drawn again, up to
    :data:`MAX_ATTEMPTS` times). When no draw can be used the cell keeps ``family_fit``
    itself and the draws are ``MAX_ATTEMPTS + 1``."""
    refit = refit_world(CellFit(generating.frequency, family_fit), seed, world, cell,
                        stream="predictive", max_attempts=MAX_ATTEMPTS)
    if refit.fit is not None:
        return refit.fit, refit.draws
    return CellFit(generating.frequency, family_fit,
                   f"world {world}: no usable refit in {MAX_ATTEMPTS} draws; the fit "
                   "itself"), MAX_ATTEMPTS + 1


@dataclass(frozen=True)
class PredictiveSettings:
    """The predictive model's size: ``n_worlds`` worlds of ``world_years`` simulated years
    each (the structures are compared within each world on them); the pooled base holds
    ``n_years // n_worlds`` years of each."""

    n_worlds: int = 100
    world_years: int = 10_000
    min_weight: float = MIN_WEIGHT

    def __post_init__(self) -> None:
        for name in ("n_worlds", "world_years"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 2:
                raise ValueError(f"{name} must be an integer >= 2, got {v!r}")
        if not 0 < self.min_weight < 1:
            raise ValueError(f"min_weight must be a fraction in (0, 1), got "
                             f"{self.min_weight!r}")


@dataclass(frozen=True)
class WorldTable:
    """The grid's structures evaluated world by world (amounts KRW).

    ``values[figure]`` has shape (n_worlds, n_structures) for every figure of
    :data:`TABLE_FIGURES`; ``deductibles``, ``limits``, ``premiums`` the structures (the
    pooled base's premiums); ``families`` per cell the family of each world; ``attempts``
    per cell the data draws each world took (1: the first).
    """

    deductibles: np.ndarray
    limits: np.ndarray
    premiums: np.ndarray
    values: Mapping[str, np.ndarray]
    families: Mapping[str, tuple[str, ...]]
    attempts: Mapping[str, np.ndarray]
    world_years: int
    #: the frontier of the pooled base at the scenario settings it was built with (the
    #: answer's first frontier; stored so that a page need not recompute it)
    frontier: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    #: every world's refitted model set, when the table was just built (not stored: they are
    #: re-derived from the family weights' fits when needed, :func:`world_fit`)
    models: tuple | None = field(default=None, repr=False, compare=False)

    @property
    def n_worlds(self) -> int:
        return int(self.values["net_benefit"].shape[0])

    def frame(self, figure: str = "net_benefit") -> pd.DataFrame:
        """One figure as a DataFrame: worlds × structures ((deductible, limit) columns)."""
        cols = pd.MultiIndex.from_arrays([self.deductibles, self.limits],
                                         names=["deductible", "limit"])
        return pd.DataFrame(np.asarray(self.values[figure]), columns=cols)

    def to_plain(self) -> dict:
        """Arrays, lists and numbers only (for the on-disk store)."""
        return {"deductibles": np.asarray(self.deductibles, float),
                "limits": np.asarray(self.limits, float),
                "premiums": np.asarray(self.premiums, float),
                "values": {k: np.asarray(v, float) for k, v in self.values.items()},
                "families": {c: list(v) for c, v in self.families.items()},
                "attempts": {c: np.asarray(v, np.int64) for c, v in self.attempts.items()},
                "world_years": int(self.world_years),
                "frontier": None if self.frontier is None else _frame_plain(self.frontier)}

    @classmethod
    def from_plain(cls, d: Mapping) -> "WorldTable":
        return cls(np.asarray(d["deductibles"]), np.asarray(d["limits"]),
                   np.asarray(d["premiums"]), dict(d["values"]),
                   {c: tuple(v) for c, v in d["families"].items()},
                   {c: np.asarray(v) for c, v in d["attempts"].items()},
                   int(d["world_years"]),
                   None if d.get("frontier") is None else _frame_from(d["frontier"]))


def made_for(scenario_settings, deductibles, limits) -> str:
    """What a stored frontier was computed for (settings and grid), to be checked before
    it is reused."""
    return repr((scenario_settings, tuple(map(float, deductibles)), tuple(map(float, limits))))


def _frame_plain(frame: pd.DataFrame) -> dict:
    """A frontier table as plain columns (arrays; text columns as lists) and its attrs."""
    cols = {}
    for c in frame.columns:
        v = frame[c]
        numeric = pd.api.types.is_numeric_dtype(v) or pd.api.types.is_bool_dtype(v)
        cols[str(c)] = v.to_numpy() if numeric else list(map(str, v))
    return {"columns": list(map(str, frame.columns)), "data": cols,
            "attrs": {k: v for k, v in frame.attrs.items()
                      if isinstance(v, (str, int, float, bool))}}


def _frame_from(d: Mapping) -> pd.DataFrame:
    frame = pd.DataFrame({c: np.array(d["data"][c]) for c in d["columns"]})
    frame.attrs.update(d.get("attrs", {}))
    return frame


def _slice(sim: SimulatedLosses, years: int, world: int, stride: int) -> SimulatedLosses:
    """The first ``years`` years of ``sim``, its years moved to ``world · years`` and its
    event ids to ``world · stride`` (distinct ids across worlds)."""
    events = {}
    for c, ev in sim.events.items():
        keep = ev.year < years
        events[c] = CellEvents(ev.year[keep] + world * years, ev.loss[keep], ev.keep_above,
                               ev.event_id[keep] + np.int64(world) * np.int64(stride))
    return SimulatedLosses(years, sim.seed, sim.cells,
                           {c: np.asarray(a[:years]) for c, a in sim.annual_gross.items()},
                           events, {c: np.asarray(a[:years]) for c, a in sim.annual_count.items()},
                           dict(sim.finite_mean))


def _pool(parts: Sequence[SimulatedLosses], seed: int) -> SimulatedLosses:
    first = parts[0]
    cells = first.cells
    events = {c: CellEvents(np.concatenate([p.events[c].year for p in parts]),
                            np.concatenate([p.events[c].loss for p in parts]),
                            first.events[c].keep_above,
                            np.concatenate([p.events[c].event_id for p in parts]))
              for c in first.events}
    return SimulatedLosses(sum(p.n_years for p in parts), seed, cells,
                           {c: np.concatenate([p.annual_gross[c] for p in parts]) for c in cells},
                           events,
                           {c: np.concatenate([p.annual_count[c] for p in parts])
                            for c in first.annual_count},
                           {c: True for c in cells})


#: Event-id stride between worlds: ids are block · 2³² + position, and a world's blocks
#: stay far below 2²² (the check in :func:`predictive_base`).
_STRIDE = 1 << 54


class _Prices:
    """A fixed premium per structure (the pooled base's), as a premium model."""

    def __init__(self, table: Mapping[tuple[float, float], float], name: str):
        self.table, self.name = dict(table), name

    def __call__(self, deductible: float, limit: float) -> float:
        return self.table[(float(deductible), float(limit))]


def predictive_base(plug_in: ScenarioBase, losses: pd.DataFrame, *, n_years: int, seed: int,
                    deductibles: Sequence[float], limits: Sequence[float],
                    premium_for: Callable[[ScenarioBase], Callable[[float, float], float]],
                    scenario_settings, settings: PredictiveSettings = PredictiveSettings(),
                    weights: Mapping[str, FamilyWeights] | None = None,
                    progress: Callable[[float, str], None] | None = None,
                    client=None
                    ) -> tuple[ScenarioBase, WorldTable, dict[str, FamilyWeights]]:
    """Build the predictive base of a plug-in base (see the module docstring).

    Parameters
    ----------
    plug_in : ScenarioBase
        The fitted-model base (:func:`opwb.scenarios.spec.scenario_bases`): its model set,
        programme, bond, incidents and severity cap.
    losses : DataFrame
        The case's canonical losses (the reference incidents are taken out as the base
        says) — used for the families' weights, never stored.
    n_years, seed : the pooled base's years (``n_years // n_worlds`` per world) and root seed.
    deductibles, limits : the frontier's grid (KRW), evaluated in every world.
    premium_for : callable
        ``premium_for(base) -> premium model`` (e.g. the quotes with the deductible credit
        on the base): called once, on the pooled base; every world uses its premiums.
    scenario_settings : ScenarioSettings
        How structures are judged (α, cost of capital, valuation date).
    settings : PredictiveSettings
        Worlds and years per world.
    weights : mapping, optional
        The families' weights (default :func:`family_weights` of the losses).
    progress : callable ``(fraction, text)``, optional
    client : distributed.Client, optional
        Run the worlds as work units on this Dask cluster (two units per world: refit and
        simulate, then evaluate the grid; a world's years stay on its worker). The numbers
        are those of the in-process build (every stream is keyed to its world).

    Returns
    -------
    (pooled base, WorldTable, family weights)

    Raises
    ------
    ValueError
        ``n_years`` below ``n_worlds`` (every world needs a year in the pooled base).
    """
    from opwb.scenarios.frontier import frontier

    report = progress or (lambda f, t: None)
    K = int(settings.n_worlds)
    per = int(n_years) // K
    if per < 1:
        raise ValueError(f"n_years ({n_years:,}) must be at least n_worlds ({K})")
    ms = plug_in.model_set
    data = without_incidents(losses, plug_in.incidents, plug_in.include_cd)
    if weights is None:
        report(0.0, "모형군 가중치 (family weights)")
        weights = family_weights(data, ms, min_weight=settings.min_weight)
    fams = {c: assign_families(weights[c], K, seed) for c in ms}
    programme = plug_in.programme
    cap = plug_in.severity_cap
    bond_cells = [c for c in ms if programme[plug_in.bond_policy].covers(c) > 0]
    keep = _keep_levels(programme, bond_cells, ms.keys())
    years = max(per, int(settings.world_years))
    tasks = [_WorldTask(w, {c: (m, weights[c].fits[fams[c][w]]) for c, m in ms.items()},
                        float(ms.threshold), ms.note, int(seed), cap, keep, years, per)
             for w in range(K)]
    context = _EvalContext(plug_in.include_cd, programme, plug_in.bond_policy,
                           plug_in.incidents, cap, tuple(map(float, deductibles)),
                           tuple(map(float, limits)), scenario_settings)
    runner = _InProcess() if client is None else _OnDask(client)
    parts, attempts = [None] * K, {c: np.zeros(K, np.int64) for c in ms}
    models = [None] * K
    for w, wms, part, tries in runner.simulate(tasks):
        parts[w], models[w] = part, wms
        for c, a in tries.items():
            attempts[c][w] = a
        report(0.5 * runner.done / K, f"세계 {runner.done}/{K} 재추정·모의실험 "
                                      f"(refitting and simulating)")
    pooled_sim = _pool(parts, seed)
    del parts
    pooled = ScenarioBase(plug_in.include_cd, pooled_sim.n_years, int(seed), plug_in.models,
                          plug_in.fits, pooled_sim, programme, ms, cap,
                          bond_policy=plug_in.bond_policy, incidents=plug_in.incidents,
                          incident_names=plug_in.incident_names,
                          world_years=per)
    premium = premium_for(pooled)
    table = frontier(pooled, deductibles=deductibles, limits=limits, premium=premium,
                     settings=scenario_settings)
    table.attrs["made_for"] = made_for(scenario_settings, deductibles, limits)
    prices = _Prices({(float(d), float(L)): float(p) for d, L, p in
                      zip(table["deductible"], table["limit"], table["premium"])},
                     str(table.attrs.get("premium_model", "")))
    values = {k: np.empty((K, len(table))) for k in TABLE_FIGURES}
    for w, row in runner.evaluate(context, prices):
        for k in TABLE_FIGURES:
            values[k][w] = row[k]
        report(0.5 + 0.5 * runner.done / K, f"세계 {runner.done}/{K} 구조 평가 (evaluating)")
    worlds = WorldTable(table["deductible"].to_numpy(float), table["limit"].to_numpy(float),
                        table["premium"].to_numpy(float), values,
                        {c: tuple(str(f) for f in fams[c]) for c in ms}, attempts, years,
                        table, tuple(models))
    return pooled, worlds, dict(weights)


# --------------------------------------------------------------------------- world work units
# A world is two work units: refit and simulate (its years kept where they were made), then,
# once the pooled base has priced the grid, evaluate the grid on them. On a Dask cluster the
# years never leave the worker that simulated them: only the slice for the pooled base and the
# world's row of figures travel.

@dataclass(frozen=True)
class _WorldTask:
    world: int
    cells: Mapping[str, tuple[CellFit, SeverityFit]]   # generating fit, family's fit
    threshold: float
    note: str
    seed: int
    cap: float | None
    keep: Mapping[str, float]
    years: int
    per: int


@dataclass(frozen=True)
class _EvalContext:
    include_cd: bool
    programme: object
    bond_policy: str
    incidents: tuple
    cap: float | None
    deductibles: tuple[float, ...]
    limits: tuple[float, ...]
    scenario_settings: object


def _world_simulate(task: _WorldTask) -> tuple[int, ModelSet, SimulatedLosses, dict]:
    """World ``task.world``: its cells refitted (:func:`world_fit`) and simulated for
    ``task.years`` years from its own stream."""
    cells, tries = {}, {}
    for c, (generating, fam_fit) in task.cells.items():
        cells[c], tries[c] = world_fit(generating, fam_fit, task.seed, task.world, c)
    wms = ModelSet(cells, task.threshold, "", True,
                   f"predictive world {task.world} of: {task.note}")
    sim = simulate_losses(cell_models(wms, severity_cap=task.cap), task.years,
                          world_seed(task.seed, task.world), keep_events_above=task.keep)
    top = max((int(ev.event_id.max()) for ev in sim.events.values() if ev.event_id.size),
              default=0)
    if top >= _STRIDE:
        raise ValueError("a world has more simulated blocks than the pooled base's event "
                         "ids can tell apart; use fewer years per world")
    return task.world, wms, sim, tries


def _world_part(done: tuple, per: int) -> tuple[int, ModelSet, SimulatedLosses, dict]:
    """The pooled base's share of a simulated world: its first ``per`` years (with the
    world's model set and data draws)."""
    w, wms, sim, tries = done
    return w, wms, _slice(sim, per, w, _STRIDE), tries


def _world_evaluate(done: tuple, context: _EvalContext, prices: "_Prices"
                    ) -> tuple[int, dict[str, np.ndarray]]:
    """The grid's figures (:data:`TABLE_FIGURES`) on a simulated world's own years, at the
    pooled base's premiums."""
    from opwb.scenarios.frontier import frontier
    w, wms, sim, _ = done
    wb = ScenarioBase(context.include_cd, sim.n_years, sim.seed,
                      cell_models(wms, severity_cap=context.cap),
                      {c: m.severity for c, m in wms.items()}, sim, context.programme, wms,
                      context.cap, bond_policy=context.bond_policy,
                      incidents=context.incidents, replicates=2)
    wt = frontier(wb, deductibles=context.deductibles, limits=context.limits, premium=prices,
                  settings=context.scenario_settings)
    return w, {k: wt[k].to_numpy(float) for k in TABLE_FIGURES}


class _InProcess:
    """The worlds one after another in this process (each world's years held until it is
    evaluated)."""

    def __init__(self):
        self.done, self._sims = 0, {}

    def simulate(self, tasks):
        self.done = 0
        for task in tasks:
            out = _world_simulate(task)
            self._sims[out[0]] = out
            self.done += 1
            yield _world_part(out, task.per)

    def evaluate(self, context, prices):
        self.done = 0
        for w in sorted(self._sims):
            out = _world_evaluate(self._sims.pop(w), context, prices)
            self.done += 1
            yield out


class _OnDask:
    """The worlds as work units on a Dask cluster (``client``: a ``distributed.Client``); a
    world's simulated years stay on the worker that made them."""

    def __init__(self, client):
        from opwb.engine.executors import check_client
        check_client(client)
        self.client, self.done, self._sims = client, 0, []

    def simulate(self, tasks):
        from distributed import as_completed
        self.done = 0
        self._sims = self.client.map(_world_simulate, tasks, pure=False)
        parts = [self.client.submit(_world_part, f, t.per, pure=False)
                 for f, t in zip(self._sims, tasks)]
        for fut in as_completed(parts):
            out = fut.result()
            fut.release()
            self.done += 1
            yield out

    def evaluate(self, context, prices):
        from distributed import as_completed
        self.done = 0
        [ctx] = self.client.scatter([context], broadcast=True)
        rows = [self.client.submit(_world_evaluate, f, ctx, prices, pure=False)
                for f in self._sims]
        self._sims = []                 # the worlds' years go once their row is made
        try:
            for fut in as_completed(rows):
                out = fut.result()
                fut.release()
                self.done += 1
                yield out
        finally:
            for fut in rows:
                fut.release()


def source_digest() -> str:
    """A digest of this module's source and of the redraw rule's functions
    (:func:`opwb.scenarios.worlds.refit_world` and the helpers it calls), part of the stored
    predictive bases' key: a change to how they are built gives a new build."""
    sources = [inspect.getsource(inspect.getmodule(predictive_base)),
               *(inspect.getsource(f) for f in _REDRAW_RULE)]
    return hashlib.sha256("\0".join(sources).encode("utf-8")).hexdigest()[:16]
