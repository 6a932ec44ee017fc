"""One world of the parameter-uncertainty bootstrap, and the worlds on a Dask cluster.

A *world* is the bank's loss data drawn again from the fitted models, the models refitted
(same families), simulated with the common seed and evaluated
(:func:`opwb.scenarios.uncertainty.parameter_uncertainty` explains the method). Here:

- :func:`bootstrap_cell` — one (world, cell) refit, its data from a stream keyed to
  (seed, world, cell);
- :func:`world_model_set`, :func:`world_figures` — a world's models and its figures;
- :func:`run_worlds` — the same on a Dask cluster with work units (world, cell) for the
  refits, (world, cell, block of years) for the simulation
  (:func:`opwb.engine._blocks.run_chunk`) and one evaluation per world; a bounded number
  of worlds in flight. Every unit is a pure function of its arguments, so the numbers are
  those of the in-process run.
"""
from __future__ import annotations

import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from opwb.data.errors import DataError
from opwb.engine._blocks import cell_key, run_chunk
from opwb.engine.executors import check_client, client_threads, windowed
from opwb.engine.riskmeasures import var_with_se
from opwb.engine.simulate import collect, simulate_losses, simulation_tasks
from opwb.fitting.frequency import FrequencyFit, fit_frequency
from opwb.fitting.mle import fit_severity
from opwb.fitting.modelset import CellFit, ModelSet
from opwb.fitting.result import SeverityFit
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase, ScenarioSettings, cell_models

__all__ = ["FITTED", "NO_ALTERNATIVE", "UNCERTAINTY_FIGURES", "WorldSpec", "bootstrap_cell",
           "world_model_set", "world_figures", "run_world", "run_worlds"]

UNCERTAINTY_FIGURES = ("regulatory_gross_capital", "regulatory_net_capital",
                       "bond_regulatory_relief", "net_benefit")
"""The figures given intervals (KRW), as named by :func:`opwb.scenarios.evaluation.evaluate`."""

NO_ALTERNATIVE = "(대안 없음: 보험 전 자본 / gross capital only)"
"""The table's alternative label when no alternative is given (gross capital only)."""

FITTED = -1
"""World index of the fitted model itself (no resampling)."""


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


def _world_rng(seed: int, world: int, cell: str) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(cell_key("bootstrap|" + cell), world))))


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


def bootstrap_cell(fit: CellFit, seed: int, world: int, cell: str) -> CellFit:
    """World ``world``'s refit of one cell: its data drawn again from ``fit`` (stream keyed
    to (seed, world, cell)) and the same frequency and severity families fitted to them.

    Raises :class:`opwb.DataError` or ``ValueError`` when the world's data cannot be
    fitted (e.g. fewer losses than parameters).
    """
    if not isinstance(fit.severity, SeverityFit):
        raise TypeError(f"cell {cell}: parameter uncertainty refits a SeverityFit, got "
                        f"{type(fit.severity).__name__}")
    counts, x = _resample(fit, _world_rng(seed, world, cell))
    freq = _refit_frequency(fit.frequency, counts)
    sev = fit_severity(x, fit.severity.family, fit.severity.threshold)
    return CellFit(freq, sev, f"world {world}: {sev.family} refitted to {x.size} resampled "
                              f"losses ({sev.status})")


def world_model_set(spec: WorldSpec, world: int, cells: dict[str, CellFit] | None = None
                    ) -> ModelSet:
    """The model set of world ``world`` (``FITTED``: the fitted set itself)."""
    ms = spec.model_set
    if world == FITTED:
        return ms
    if cells is None:
        cells = {c: bootstrap_cell(ms[c], spec.seed, world, c) for c in ms}
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


def run_world(spec: WorldSpec, world: int) -> dict[str, Any]:
    """One world in this process: refit, simulate, evaluate (or the reason it failed)."""
    try:
        ms = world_model_set(spec, world)
    except (DataError, ValueError) as exc:
        return {"world": world, "failed": f"{type(exc).__name__}: {exc}"}
    cells = cell_models(ms, severity_cap=spec.severity_cap)
    sim = simulate_losses(cells, spec.n_years, spec.seed, keep_events_above=spec.keep)
    return {"world": world, "fits": _fit_rows(world, ms),
            "figures": world_figures(spec, ms, sim, cells)}


def _fit_rows(world: int, ms: ModelSet) -> list[dict]:
    rows = []
    for cell, m in ms.items():
        rows.append({"world": world, "cell": cell, "frequency": m.frequency.family,
                     "mean_count": m.frequency.mean, "severity": m.severity.family,
                     "status": m.severity.status, "tail_index": m.severity.tail_index,
                     "finite_mean": m.severity.finite_mean,
                     **{f"param_{k}": float(v) for k, v in m.severity.params.items()}})
    return rows


# --------------------------------------------------------------------------- on a cluster
@dataclass(frozen=True)
class _Failure:
    reason: str


def _refit_unit(spec: WorldSpec, world: int, cell: str) -> CellFit | _Failure:
    """Work unit (world, cell): the cell's refit, or why its data could not be fitted."""
    try:
        return bootstrap_cell(spec.model_set[cell], spec.seed, world, cell)
    except (DataError, ValueError) as exc:
        return _Failure(f"{type(exc).__name__}: {exc}")


def _cell_model(spec: WorldSpec, cell: str, fit: CellFit):
    one = ModelSet({cell: fit}, spec.model_set.threshold, "", spec.model_set.allow_infinite_mean)
    return cell_models(one, severity_cap=spec.severity_cap)


def _chunk_unit(spec: WorldSpec, cell: str, fit, index: int):
    """Work unit (world, cell, block run): the world's years of one cell."""
    if isinstance(fit, _Failure):
        return fit
    task = simulation_tasks(_cell_model(spec, cell, fit), spec.n_years, spec.seed,
                            keep_events_above={cell: spec.keep[cell]})[index]
    return run_chunk(task)


def _evaluate_unit(spec: WorldSpec, world: int, fits: dict, parts: list) -> dict[str, Any]:
    """Work unit (world): put the chunks together and evaluate (same as :func:`run_world`)."""
    failed = [f.reason for f in fits.values() if isinstance(f, _Failure)]
    if failed:
        return {"world": world, "failed": failed[0]}
    ms = world_model_set(spec, world, fits)
    cells = cell_models(ms, severity_cap=spec.severity_cap)
    sim = collect(cells, spec.n_years, spec.seed, parts, keep_events_above=spec.keep)
    return {"world": world, "fits": _fit_rows(world, ms),
            "figures": world_figures(spec, ms, sim, cells)}


def run_worlds(client: Any, spec: WorldSpec, worlds: Sequence[int], *,
               window: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield :func:`run_world`'s result for every world, computed on a Dask cluster.

    ``window`` worlds are in flight at once (default: twice the cluster's threads, at
    least 2); results arrive in the order they finish.
    """
    check_client(client)
    window = window or max(2, 2 * client_threads(client))
    tag = uuid.uuid4().hex[:8]
    spec_f = client.scatter(spec, broadcast=True, hash=False)
    n_chunks = {c: len(simulation_tasks({c: m}, spec.n_years, spec.seed))
                for c, m in cell_models(spec.model_set, severity_cap=spec.severity_cap).items()}

    def submit(world: int):
        key = f"opwb-world-{tag}-{world}"
        if world == FITTED:
            fits = dict(spec.model_set.items())
        else:
            fits = {c: client.submit(_refit_unit, spec_f, world, c, key=f"{key}-fit-{c}")
                    for c in spec.model_set}
        parts = [client.submit(_chunk_unit, spec_f, c, fits[c], i, key=f"{key}-sim-{c}-{i}")
                 for c in spec.model_set for i in range(n_chunks[c])]
        return client.submit(_evaluate_unit, spec_f, world, fits, parts, key=f"{key}-eval")

    yield from windowed(submit, worlds, window)
