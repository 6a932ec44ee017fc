"""One world of parameter uncertainty: the redraw rule, and the worlds in process or on a
Dask cluster.

A *world* is the bank's loss data drawn again from the fitted models, the models refitted
(same families) by the redraw rule, simulated with the common seed and evaluated
(:func:`opwb.scenarios.uncertainty.parameter_uncertainty` explains the method and puts the
worlds together into intervals). Here:

- the **redraw rule** — :func:`refit_world` (one world's refit of one cell: data drawn
  from a stream keyed to (seed, cell, world, draw), the same families refitted, data the
  refit cannot use drawn again up to :data:`MAX_ATTEMPTS` times, each rejected draw
  counted with one of :data:`REDRAW_REASONS`) and its result :class:`WorldRefit`. Both the
  parametric bootstrap (streams ``"bootstrap"``) and the predictive model
  (:func:`opwb.decision.predictive.world_fit`, streams ``"predictive"``) refit their
  worlds by it;
- :func:`world_model_set`, :func:`world_figures` — a world's models and its figures;
- :func:`run_world` — one world in this process: every cell refitted by the redraw rule
  (a cell that cannot be is an error naming the cell, the world and the reasons),
  simulated, evaluated; the draws every cell took and why;
- :func:`run_worlds` — the same on a Dask cluster with work units (world, cell) for the
  refits, (world, cell, block of years) for the simulation
  (:func:`opwb.engine._blocks.run_chunk`) and one evaluation per world; a bounded number
  of worlds in flight. Every unit is a pure function of its arguments, so the numbers are
  those of the in-process run.
"""
from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opwb.engine._blocks import cell_key, run_chunk
from opwb.engine.executors import check_client, client_threads, windowed
from opwb.engine.memory import plan_simulation
from opwb.engine.riskmeasures import var_with_se
from opwb.engine.simulate import collect, simulate_losses, simulation_tasks
from opwb.fitting.families import get_family
from opwb.fitting.frequency import FrequencyFit, fit_frequency
from opwb.fitting.mle import fit_severity
from opwb.fitting.modelset import CellFit, ModelSet
from opwb.fitting.result import SeverityFit
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase, ScenarioSettings, cell_models

__all__ = ["FITTED", "NO_ALTERNATIVE", "UNCERTAINTY_FIGURES", "MAX_ATTEMPTS", "REDRAW_REASONS",
           "WorldSpec", "WorldRefit", "refit_world", "world_model_set", "world_figures",
           "run_world", "run_worlds"]

UNCERTAINTY_FIGURES = ("regulatory_gross_capital", "regulatory_net_capital",
                       "bond_regulatory_relief", "net_benefit")
"""The figures given intervals (KRW), as named by :func:`opwb.scenarios.evaluation.evaluate`."""

NO_ALTERNATIVE = "(대안 없음: 보험 전 자본 / gross capital only)"
"""The table's alternative label when no alternative is given (gross capital only)."""

FITTED = -1
"""World index of the fitted model itself (no resampling)."""

MAX_ATTEMPTS = 50
"""Data draws of one (world, cell) before the redraw rule gives up (:func:`refit_world`)."""

REDRAW_REASONS = ("fewer losses than parameters", "frequency not fitted",
                  "severity not fitted", "degenerate fit", "not converged",
                  "non-finite parameter")
"""Why a world's data for a cell were drawn again, in the order they are checked: the draw
holds no more losses than the severity family has parameters; the annual counts cannot be
refitted; the losses cannot be refitted for another reason; the severity fit's status is
``degenerate`` (parameters not identified) or ``not converged``; a parameter is infinite
or NaN."""


@dataclass(frozen=True)
class WorldSpec:
    """Everything a world needs (sent once to every Dask worker)."""

    model_set: ModelSet
    programme: Programme
    alternatives: tuple[Alternative, ...]
    settings: ScenarioSettings
    n_years: int
    seed: int
    severity_cap: float | None
    include_cd: bool
    keep: dict[str, float]
    figures: tuple[str, ...] = UNCERTAINTY_FIGURES
    bond_policy: str = "BBB"


# --------------------------------------------------------------------------- the redraw rule
def _resample(fit: CellFit, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The observation period drawn again: annual counts and losses above the threshold."""
    years = int(fit.frequency.n_years)
    if years < 2:
        raise ValueError(f"the frequency was fitted on {years} year(s); the bootstrap "
                         "redraws that many years and needs at least 2")
    if fit.frequency.exposures:     # partial years: each year with its own exposure
        counts = np.array([fit.frequency.dist_for(e).rvs(random_state=rng)
                           for e in fit.frequency.year_exposures], dtype=np.int64)
    else:
        counts = np.asarray(fit.frequency.dist.rvs(size=years, random_state=rng),
                            dtype=np.int64)
    sev = fit.severity
    q = 1.0 - rng.random(int(counts.sum()))             # in (0, 1]
    x = np.asarray(sev.dist.isf(q * sev.sf_threshold), dtype=float)
    return counts, np.maximum(x, np.nextafter(sev.threshold, np.inf))


def _refit_frequency(fit: FrequencyFit, counts: np.ndarray) -> FrequencyFit:
    exposure = fit.year_exposures if fit.exposures else None
    try:
        return fit_frequency(counts, fit.family, threshold=fit.threshold, exposure=exposure)
    except ValueError:
        if fit.family != "negbin":
            raise
        return fit_frequency(counts, "poisson", threshold=fit.threshold,  # the MLE's limit
                             exposure=exposure)


@dataclass(frozen=True)
class WorldRefit:
    """One world's refit of one cell under the redraw rule (:func:`refit_world`).

    Attributes
    ----------
    fit : CellFit or None
        The refitted frequency and severity; None when no draw of :data:`MAX_ATTEMPTS`
        could be used.
    draws : int
        Data draws taken (1: the first draw was used).
    rejected : tuple of str
        Why each draw that was not used was drawn again (one of :data:`REDRAW_REASONS` per
        rejected draw, in order).
    detail : str
        The last rejected draw's error or status in the fitting layer's words ("" when
        none was rejected).
    """

    fit: CellFit | None
    draws: int
    rejected: tuple[str, ...] = ()
    detail: str = ""


def _rejection(sev: SeverityFit) -> str | None:
    """Why a severity refit cannot be used (None: it can)."""
    if sev.status == "degenerate":
        return "degenerate fit"
    if sev.status not in ("ok", "edge"):
        return "not converged"
    if not all(math.isfinite(float(v)) for v in sev.params.values()):
        return "non-finite parameter"
    return None


def refit_world(generating: CellFit, seed: int, world: int, cell: str, *,
                stream: str = "bootstrap", max_attempts: int = MAX_ATTEMPTS) -> WorldRefit:
    """World ``world``'s refit of one cell by the redraw rule: data drawn again from
    ``generating`` and the same families refitted; data the refit cannot use are drawn
    again.

    Draw ``a = 0, 1, ...`` comes from the stream ``SeedSequence(seed,
    spawn_key=(cell_key(stream + "|" + cell), world, a))``: the observation period's annual
    counts from the generating frequency and as many losses above the threshold from the
    generating severity. The first draw whose frequency and severity refit are usable is
    the world's model of the cell; a draw is rejected (with one of
    :data:`REDRAW_REASONS`) when it holds no more losses than the severity family has
    parameters, when a refit raises ``ValueError`` (:class:`opwb.DataError` included), or
    when the severity fit is not identified (status other than ``ok`` or ``edge``) or has a
    non-finite parameter. Both
    :func:`opwb.scenarios.uncertainty.parameter_uncertainty` and the predictive model
    (:func:`opwb.decision.predictive.world_fit`) refit their worlds by this rule.

    Parameters
    ----------
    generating : CellFit
        The model the data are drawn from (frequency and severity); the same families are
        refitted (a negative binomial falls back to its Poisson limit on under-dispersed
        counts).
    seed : int
        Root seed of the worlds' data.
    world : int
        World index (part of the stream's key).
    cell : str
        The cell's name (part of the stream's key and of the fit's reason).
    stream : str
        Label of the streams: ``"bootstrap"`` for parameter uncertainty, ``"predictive"``
        for the predictive model (different worlds from the same seed).
    max_attempts : int
        Draws before giving up (:data:`MAX_ATTEMPTS`).

    Returns
    -------
    WorldRefit
        The refit (None when no draw could be used), the draws taken and why each rejected
        draw was rejected.

    Raises
    ------
    TypeError
        The generating severity is not a :class:`~opwb.fitting.result.SeverityFit`.
    ValueError
        The frequency was fitted on fewer than 2 years (every draw would be the same
        problem, so it is not a reason to draw again).

    Examples
    --------
    >>> from opwb.fitting.frequency import FrequencyFit
    >>> five = CellFit(FrequencyFit("poisson", {"mu": 1.0}, n_years=5, threshold=1e7),
    ...                SeverityFit(family="lomax", params={"alpha": 0.8, "scale": 5e7},
    ...                            threshold=1e7))
    >>> r = refit_world(five, seed=1, world=0, cell="IF")
    >>> r.fit.severity.status in ("ok", "edge"), r.draws == len(r.rejected) + 1
    (True, True)
    """
    if not isinstance(generating.severity, SeverityFit):
        raise TypeError(f"cell {cell}: a world's refit needs a SeverityFit, got "
                        f"{type(generating.severity).__name__}")
    family, threshold = generating.severity.family, generating.severity.threshold
    n_params = get_family(family).n_params
    rejected: list[str] = []
    detail = ""
    for attempt in range(int(max_attempts)):
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
            seed, spawn_key=(cell_key(f"{stream}|{cell}"), world, attempt))))
        counts, x = _resample(generating, rng)
        try:
            freq = _refit_frequency(generating.frequency, counts)
        except ValueError as exc:
            rejected.append("frequency not fitted")
            detail = str(exc)
            continue
        try:
            sev = fit_severity(x, family, threshold)
        except ValueError as exc:           # DataError is a ValueError
            rejected.append("fewer losses than parameters" if x.size <= n_params
                            else "severity not fitted")
            detail = str(exc)
            continue
        why = _rejection(sev)
        if why is None:
            return WorldRefit(CellFit(freq, sev, f"world {world}: {sev.family} refitted to "
                                                 f"{x.size} resampled losses ({sev.status})"),
                              attempt + 1, tuple(rejected), detail)
        rejected.append(why)
        detail = f"{sev.family} fit to {x.size} losses: {sev.status}" + \
            (f" ({sev.limit})" if sev.limit else "")
    return WorldRefit(None, int(max_attempts), tuple(rejected), detail)


def _reasons_text(rejected: Sequence[str]) -> str:
    """``"fewer losses than parameters × 3, degenerate fit × 1"`` (in
    :data:`REDRAW_REASONS` order)."""
    n = Counter(rejected)
    return ", ".join(f"{r} × {n[r]}" for r in REDRAW_REASONS if n[r])


_REDRAW_RULE = (refit_world, _resample, _refit_frequency, _rejection)
"""The redraw rule's functions: the predictive model's source digest hashes their source
(:func:`opwb.decision.predictive.source_digest`), so a change to the rule rebuilds the
stored predictive bases."""


def _refit_cell(spec: WorldSpec, world: int, cell: str) -> WorldRefit:
    """Work unit (world, cell): the redraw rule, or an error naming the cell and reasons."""
    fit = spec.model_set[cell]
    r = refit_world(fit, spec.seed, world, cell)
    if r.fit is None:
        raise ValueError(
            f"셀 {cell}의 자료를 {r.draws}번 다시 뽑아도 {fit.severity.family} 분포로 적합할 수 "
            f"없습니다 (cell {cell}, world {world}: none of {r.draws} data draws from the "
            f"fitted model could be refitted with the {fit.severity.family} family — "
            f"{_reasons_text(r.rejected)}; last: {r.detail}). The cell's data are too thin "
            "for this family: fit one with fewer parameters, pool the cell with another or "
            "add external losses.")
    return r


# --------------------------------------------------------------------------- one world
def world_model_set(spec: WorldSpec, world: int, cells: dict[str, CellFit] | None = None
                    ) -> ModelSet:
    """The model set of world ``world`` (``FITTED``: the fitted set itself); ``cells``: the
    world's refitted cells (default: every cell refitted here by the redraw rule)."""
    ms = spec.model_set
    if world == FITTED:
        return ms
    if cells is None:
        cells = {c: _refit_cell(spec, world, c).fit for c in ms}
    return ModelSet(dict(cells), ms.threshold, "", ms.allow_infinite_mean,
                    f"parametric-bootstrap world {world} of: {ms.note}")


def _gross_capital(sim, settings: ScenarioSettings) -> dict[str, float]:
    """Regulatory gross capital as :mod:`opwb.scenarios.figures` forms it: the sum of event
    types' VaRs ("sum") or the VaR of the total ("independent")."""
    a = settings.alpha
    parts = list(sim.by_event_type().values()) if settings.aggregation == "sum" \
        else [sim.total_gross()]
    est = [var_with_se(x, a) for x in parts]
    return {"regulatory_gross_capital": float(sum(v for v, _ in est)),
            "regulatory_gross_capital_se": float(math.sqrt(sum(s * s for _, s in est)))}


def world_figures(spec: WorldSpec, model_set: ModelSet, sim, cells=None
                  ) -> dict[str, dict[str, float]]:
    """Every alternative's figures on one world's simulation, each with its Monte Carlo
    standard error (``<figure>_se``): ``{alternative name: {figure: value}}``.

    ``cells``: the world's cell models (default ``cell_models(model_set)``). With no
    alternative, the regulatory gross capital alone, formed as
    :mod:`opwb.scenarios.figures` forms it.
    """
    if not spec.alternatives:
        return {NO_ALTERNATIVE: _gross_capital(sim, spec.settings)}
    from opwb.scenarios.evaluation import evaluate_many

    if cells is None:
        cells = cell_models(model_set, severity_cap=spec.severity_cap)
    base = ScenarioBase(spec.include_cd, spec.n_years, spec.seed, cells,
                        {c: m.severity for c, m in model_set.items()}, sim, spec.programme,
                        model_set, spec.severity_cap, bond_policy=spec.bond_policy)
    out = {}
    for res in evaluate_many(base, spec.alternatives, spec.settings):
        keys = [k for f in spec.figures for k in (f, f"{f}_se")]
        out[res.alternative.name] = {k: float(res.metrics[k]) for k in keys}
    return out


def _fit_rows(world: int, ms: ModelSet, refits: Mapping[str, WorldRefit]) -> list[dict]:
    """One row per cell: the refit and the draws it took (the fitted model: 0)."""
    rows = []
    for cell, m in ms.items():
        rows.append({"world": world, "cell": cell, "frequency": m.frequency.family,
                     "mean_count": m.frequency.mean, "severity": m.severity.family,
                     "status": m.severity.status, "tail_index": m.severity.tail_index,
                     "finite_mean": m.severity.finite_mean,
                     **{f"param_{k}": float(v) for k, v in m.severity.params.items()},
                     "draws": refits[cell].draws if refits else 0})
    return rows


def _world_models(spec: WorldSpec, world: int, refits: Mapping[str, WorldRefit]):
    """The world's model set and cell models (``refits`` empty: the fitted model)."""
    ms = world_model_set(spec, world, {c: r.fit for c, r in refits.items()} or None)
    return ms, cell_models(ms, severity_cap=spec.severity_cap)


def _outcome(spec: WorldSpec, world: int, refits: Mapping[str, WorldRefit], ms: ModelSet,
             cells, sim) -> dict[str, Any]:
    return {"world": world, "fits": _fit_rows(world, ms, refits),
            "figures": world_figures(spec, ms, sim, cells),
            "rejected": {c: list(r.rejected) for c, r in refits.items()}}


def run_world(spec: WorldSpec, world: int) -> dict[str, Any]:
    """One world in this process: every cell refitted by the redraw rule, simulated,
    evaluated.

    Returns ``{"world", "fits", "figures", "rejected"}``: one row per cell of the refits
    (with the ``draws`` each took; 0 for the fitted model, world :data:`FITTED`), every
    alternative's figures (:func:`world_figures`) and per cell the reasons its rejected
    draws were drawn again. Raises ``ValueError`` naming the cell, the world and the
    reasons when a cell cannot be refitted in :data:`MAX_ATTEMPTS` draws.
    """
    refits = {} if world == FITTED else {c: _refit_cell(spec, world, c)
                                         for c in spec.model_set}
    ms, cells = _world_models(spec, world, refits)
    sim = simulate_losses(cells, spec.n_years, spec.seed, keep_events_above=spec.keep)
    return _outcome(spec, world, refits, ms, cells, sim)


# --------------------------------------------------------------------------- on a cluster
def _fit_of(refit: WorldRefit) -> CellFit:
    return refit.fit


def _cell_model(spec: WorldSpec, cell: str, fit: CellFit):
    one = ModelSet({cell: fit}, spec.model_set.threshold, "", spec.model_set.allow_infinite_mean)
    return cell_models(one, severity_cap=spec.severity_cap)


def _chunk_unit(spec: WorldSpec, cell: str, fit: CellFit, index: int,
                units: tuple[tuple[int, int], ...] | None = None):
    """Work unit (world, cell, run of years): the world's years of one cell. ``units``: the
    cell's runs of years planned on the fitted model, so that every world cuts its years the
    same way whatever its refitted frequency (the numbers do not depend on the cut)."""
    task = simulation_tasks(_cell_model(spec, cell, fit), spec.n_years, spec.seed,
                            keep_events_above={cell: spec.keep[cell]},
                            units=None if units is None else {cell: units})[index]
    return run_chunk(task)


def _evaluate_unit(spec: WorldSpec, world: int, refits: dict, parts: list) -> dict[str, Any]:
    """Work unit (world): put the chunks together and evaluate (same as :func:`run_world`)."""
    ms, cells = _world_models(spec, world, refits)
    sim = collect(cells, spec.n_years, spec.seed, parts, keep_events_above=spec.keep)
    return _outcome(spec, world, refits, ms, cells, sim)


def run_worlds(client: Any, spec: WorldSpec, worlds: Sequence[int], *,
               window: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield :func:`run_world`'s result for every world, computed on a Dask cluster.

    Work units (world, cell) for the refits by the redraw rule, (world, cell, block of
    years) for the simulation and one evaluation per world. ``window`` worlds are in flight
    at once (default: twice the cluster's threads, at least 2); results arrive in the order
    they finish. A cell that cannot be refitted raises :func:`run_world`'s error.
    """
    check_client(client)
    window = window or max(2, 2 * client_threads(client))
    tag = uuid.uuid4().hex[:8]
    spec_f = client.scatter(spec, broadcast=True, hash=False)
    units = plan_simulation(cell_models(spec.model_set, severity_cap=spec.severity_cap),
                            spec.n_years, keep_events_above=spec.keep).units()

    def submit(world: int):
        key = f"opwb-world-{tag}-{world}"
        if world == FITTED:
            refits, fits = {}, dict(spec.model_set.items())
        else:
            refits = {c: client.submit(_refit_cell, spec_f, world, c, key=f"{key}-refit-{c}")
                      for c in spec.model_set}
            fits = {c: client.submit(_fit_of, r, key=f"{key}-fit-{c}")
                    for c, r in refits.items()}
        parts = [client.submit(_chunk_unit, spec_f, c, fits[c], i, units[c],
                               key=f"{key}-sim-{c}-{i}")
                 for c in spec.model_set for i in range(len(units[c]))]
        return client.submit(_evaluate_unit, spec_f, world, refits, parts, key=f"{key}-eval")

    yield from windowed(submit, worlds, window)
