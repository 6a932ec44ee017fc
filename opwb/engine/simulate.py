"""Monte Carlo simulation of annual operational losses, cell by cell.

A *cell* is an event type (``"IF"``) or an event type × business line (``"IF|RB"``).
Each cell has a frequency (annual count of losses above the cell's threshold) and a
severity; losses are drawn from the severity *conditional on exceeding the threshold* by
inverse transform: ``x = isf(u · S(H))`` with ``u ~ U(0, 1]``, which keeps full precision
in the far tail where ``F(H)`` is close to 1.

Reproducibility: the random stream of every (cell, block of :data:`BLOCK_YEARS` years)
is ``numpy.random.SeedSequence(seed, spawn_key=(cell_key, block))`` -- the same stream as
``SeedSequence(seed).spawn`` would give for that position -- with ``cell_key`` derived from
the cell's name. A work unit is (cell, a run of years) (:mod:`opwb.engine._blocks`), so
results are identical whatever ``chunk_years``, ``unit_events``, ``workers`` or Dask
``client`` run them, a cell's losses do not change when other cells are added to the
model, and a run of ``n`` years is the first ``n`` years of any longer run with the same
seed.

Memory: units are cut by expected events, not by years (:mod:`opwb.engine.memory`: at
most ``unit_events`` expected events a unit, a part of a block for a high-frequency
cell), so the working arrays are bounded whatever the frequency; each unit's years are
written into preallocated annual arrays as it finishes (at most a few units in flight),
counts are 32-bit, and events are kept only above each cell's ``keep_events_above``
(where insurance can reach them): the peak is close to the result itself. The peak is
estimated before anything is drawn, and a run that cannot fit is refused
(:class:`~opwb.engine.memory.SimulationTooLarge`).

Changelog of the random streams
-------------------------------
- **2** (issue 14): a Poisson cell with mean annual count below
  :data:`~opwb.engine._blocks.SPARSE_MEAN` (10) draws a block's number of events at once,
  ``N ~ Poisson(mu · BLOCK_YEARS)``, and each event's year uniformly among the block's
  years (16-bit integers), instead of one Poisson draw a year: the same law, new numbers
  for those cells. Every other cell (Poisson with mean 10 or more, negative binomial,
  other frequencies) draws exactly the numbers of version 1. ``annual_count`` is int32
  (was int64).
- **1**: one ``rvs`` of the frozen frequency per block (``BLOCK_YEARS`` counts), then one
  uniform per event from the same block stream.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from opwb.data.taxonomy import event_type_of
from opwb.engine._blocks import (
    BLOCK_YEARS,
    ChunkResult,
    ChunkTask,
    cell_key,
    count_sampler,
    run_chunk,
)
from opwb.engine.distributions import (
    check_cap,
    finite_mean_of,
    frequency_distribution,
    frequency_mean,
    resolve_threshold,
    severity_distribution,
    survival_at,
)
from opwb.engine.executors import check_client, run_tasks
from opwb.engine.memory import check_memory, check_units, plan_simulation, plan_units
from opwb.engine.streams import event_uniforms

__all__ = [
    "BLOCK_YEARS", "STREAM_VERSION", "CellModel", "CellEvents", "SimulatedLosses",
    "simulate_losses", "simulation_tasks", "LossCollector", "annual_retained",
]

STREAM_VERSION = 2
"""Version of the random streams (see the changelog in this module's docstring)."""


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class CellModel:
    """Frequency and severity of one cell, losses counted above ``threshold``.

    Parameters
    ----------
    frequency : frozen scipy discrete distribution or object with ``.dist``
        Annual number of losses ABOVE ``threshold`` (Poisson, negative binomial, ...).
    severity : frozen scipy continuous distribution, fit result with ``.dist``, or object
        with vectorised ``ppf``/``cdf`` (e.g. a spliced severity). Unconditional; losses
        are drawn from it conditional on exceeding ``threshold``.
    threshold : float, optional
        Defaults to ``severity.threshold`` when present, else 0.
    severity_cap : float, optional
        Maximum single loss (KRW): a drawn loss above it counts as the cap (censoring, see
        :class:`opwb.engine.distributions.CappedSeverity`). None: no cap.

    Examples
    --------
    >>> from scipy import special, stats
    >>> cell = CellModel(stats.poisson(25), stats.lognorm(2.0, scale=1e7), threshold=1e7)
    >>> cell.threshold, cell.mean_count, cell.finite_mean
    (10000000.0, 25.0, True)
    >>> CellModel(stats.poisson(2), stats.genpareto(1.2, scale=1e7), severity_cap=1e12).finite_mean
    True
    """

    frequency: Any
    severity: Any
    threshold: float | None = None
    severity_cap: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "threshold", resolve_threshold(self.severity, self.threshold))
        cap = check_cap(self.severity_cap, self.threshold)
        object.__setattr__(self, "severity_cap", None if not np.isfinite(cap) else cap)
        frequency_distribution(self.frequency)
        survival_at(severity_distribution(self.severity), self.threshold)

    @property
    def mean_count(self) -> float:
        """Expected annual number of losses above the threshold."""
        return frequency_mean(self.frequency)

    @property
    def finite_mean(self) -> bool | None:
        """Whether a loss has a finite mean (always with a severity cap; None: unknown)."""
        return True if self.severity_cap is not None else finite_mean_of(self.severity)

    def severity_sampler(self) -> Any:
        """The severity with vectorised ``isf``/``sf`` as the engines draw it (capped)."""
        return severity_distribution(self.severity, self.severity_cap)


@dataclass(frozen=True)
class CellEvents:
    """Event-level losses of one cell above ``keep_above`` with their year index (0-based).

    ``event_id`` identifies each event in the cell's random stream (block × 2³² + its
    position among the block's events), whatever ``keep_above`` kept: random numbers keyed
    to it (:func:`opwb.engine.streams.event_uniforms`) are the same for an event however
    many others were stored. Events built by hand without ids are numbered by position.
    """

    year: np.ndarray
    loss: np.ndarray
    keep_above: float
    event_id: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.event_id is None:
            object.__setattr__(self, "event_id", np.arange(np.asarray(self.loss).size,
                                                           dtype=np.int64))


@dataclass(frozen=True)
class SimulatedLosses:
    """Simulated annual gross losses per cell and the large events behind them.

    ``annual_gross[cell]`` counts every event; ``events[cell]`` keeps only events with loss
    above its ``keep_above`` so insurance can be re-applied without re-simulating.
    ``annual_count[cell]`` is the number of events above the cell's threshold each year.
    """

    n_years: int
    seed: int
    cells: tuple[str, ...]
    annual_gross: dict[str, np.ndarray]
    events: dict[str, CellEvents]
    annual_count: dict[str, np.ndarray] = field(default_factory=dict)
    finite_mean: dict[str, bool | None] = field(default_factory=dict)
    _draws: dict = field(default_factory=dict, compare=False, repr=False)

    def event_draws(self, seed: int, purpose: str, cell: str) -> np.ndarray:
        """Uniforms keyed to the stored events of ``cell`` (float32, cached per seed and
        purpose): :func:`opwb.engine.streams.event_uniforms` of their event ids."""
        key = (int(seed), purpose, cell)
        if key not in self._draws:
            self._draws[key] = event_uniforms(seed, purpose, cell,
                                              self.events[cell].event_id).astype(np.float32)
        return self._draws[key]

    def total_gross(self) -> np.ndarray:
        """Annual gross loss summed over every cell, shape ``(n_years,)``."""
        total = np.zeros(self.n_years)
        for cell in self.cells:
            total += self.annual_gross[cell]
        return total

    def by_event_type(self) -> dict[str, np.ndarray]:
        """Annual gross loss per event type (cells ``"IF|RB"`` etc. summed into ``"IF"``)."""
        out: dict[str, np.ndarray] = {}
        for cell in self.cells:
            et = event_type_of(cell)
            out[et] = out[et] + self.annual_gross[cell] if et in out else self.annual_gross[cell].copy()
        return out

    def risk_table(self, alpha: float = 0.999):
        """Mean, VaR and ES at ``alpha`` with Monte Carlo standard errors, per cell and in total.

        A :class:`pandas.DataFrame` (see :func:`opwb.engine.riskmeasures.risk_summary`); the total is
        the sum over cells year by year (independent cells), in the row ``"total"``. Mean
        and ES are NaN (``mean_exists`` False) for a cell whose model has an infinite mean
        and no severity cap, and for the total when any cell has.
        """
        from opwb.engine.riskmeasures import risk_summary

        flags = dict(self.finite_mean)
        flags["total"] = None if not flags else (
            False if any(v is False for v in flags.values()) else True)
        return risk_summary({**self.annual_gross, "total": self.total_gross()}, alpha,
                            finite_mean=flags)


# --------------------------------------------------------------------------- engine
_cell_key = cell_key     # the stream key of a cell (kept under its old name)


def _check_inputs(model, n_years, seed, chunk_years, workers, unit_events=None) -> None:
    if isinstance(n_years, bool) or not isinstance(n_years, (int, np.integer)) or n_years < 1:
        raise ValueError(f"n_years must be a positive integer, got {n_years!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(model, Mapping) or not model:
        raise ValueError("model must be a non-empty mapping of cell name -> CellModel")
    for name, cell in model.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"cell names must be non-empty strings, got {name!r}")
        if not isinstance(cell, CellModel):
            raise TypeError(f"model[{name!r}] must be a CellModel, got {type(cell).__name__}")
    if chunk_years is not None and (isinstance(chunk_years, bool) or not isinstance(
            chunk_years, (int, np.integer)) or chunk_years < 1):
        raise ValueError(f"chunk_years must be a positive integer or None, got {chunk_years!r}")
    if unit_events is not None and (isinstance(unit_events, bool) or not isinstance(
            unit_events, (int, np.integer)) or unit_events < 1):
        raise ValueError(f"unit_events must be a positive integer or None, got {unit_events!r}")
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")


def _keep_levels(model, keep_events_above) -> dict[str, float]:
    if isinstance(keep_events_above, Mapping):
        unknown = set(keep_events_above) - set(model)
        if unknown:
            raise ValueError(f"keep_events_above names unknown cells {sorted(unknown)}; "
                             f"cells are {sorted(model)}")
        levels = {c: float(keep_events_above.get(c, 0.0)) for c in model}
    else:
        levels = {c: float(keep_events_above) for c in model}
    for c, v in levels.items():
        if np.isnan(v):
            raise ValueError(f"keep_events_above for cell {c!r} is NaN")
    return levels


def simulation_tasks(model: Mapping[str, CellModel], n_years: int, seed: int, *,
                     keep_events_above: float | Mapping[str, float] = 0.0,
                     chunk_years: int | None = None, unit_events: int | None = None,
                     units: Mapping[str, Iterable[tuple[int, int]]] | None = None
                     ) -> list[ChunkTask]:
    """The work units of :func:`simulate_losses`: one per (cell, run of years).

    Each is a picklable :class:`opwb.engine._blocks.ChunkTask`;
    :func:`opwb.engine._blocks.run_chunk` turns it into a chunk of results and
    :class:`LossCollector` puts the chunks together. Arguments as for
    :func:`simulate_losses`; the units of a cell are
    :func:`opwb.engine.memory.plan_units` of its expected count unless ``units`` gives
    them (``[start, stop)`` years covering ``0 .. n_years``, e.g. another model's plan
    from :func:`opwb.engine.memory.plan_simulation`, so that unit ``i`` is the same
    years for every model; a sparse Poisson cell's units must start at blocks). The
    numbers do not depend on the units.

    Raises
    ------
    ValueError
        Bad arguments; ``units`` not covering the years of a cell.
    """
    _check_inputs(model, n_years, seed, chunk_years, 1, unit_events)
    levels = _keep_levels(model, keep_events_above)
    tasks = []
    for name, cell in model.items():
        counts = count_sampler(frequency_distribution(cell.frequency))
        sev = cell.severity_sampler()
        s_h = survival_at(sev, cell.threshold)
        if units is not None and name in units:
            cuts = check_units(units[name], int(n_years), name)
        else:
            cuts = plan_units(cell.mean_count, int(n_years),
                              sparse=counts.kind == "poisson_sparse",
                              chunk_years=chunk_years, unit_events=unit_events)
        tasks.extend(ChunkTask(name, counts, sev, s_h, int(seed), start, stop, levels[name])
                     for start, stop in cuts)
    return tasks


_NO_COUNTS, _NO_SUMS = np.zeros(0, dtype=np.int32), np.zeros(0)


class LossCollector:
    """Writes chunk results into preallocated annual arrays; :meth:`result` assembles the
    :class:`SimulatedLosses` once every chunk of every cell has been added.

    Parameters
    ----------
    model : mapping cell → CellModel
    n_years, seed : the run's length and root seed.
    keep_events_above : float or mapping cell → float, as for :func:`simulate_losses`.
    """

    def __init__(self, model: Mapping[str, CellModel], n_years: int, seed: int, *,
                 keep_events_above: float | Mapping[str, float] = 0.0):
        self.cells = tuple(model)
        self.n_years, self.seed = int(n_years), int(seed)
        self.levels = _keep_levels(model, keep_events_above)
        self.finite = {c: model[c].finite_mean for c in model}
        self.annual = {c: np.empty(self.n_years) for c in model}
        self.counts = {c: np.empty(self.n_years, dtype=np.int32) for c in model}
        self.parts: dict[str, list[ChunkResult]] = {c: [] for c in model}
        self.filled = {c: 0 for c in model}

    def add(self, part: ChunkResult) -> None:
        """Write one chunk's years; keep its events (small: only those above the level)."""
        start = part.start
        self.annual[part.cell][start:start + part.sums.size] = part.sums
        self.counts[part.cell][start:start + part.counts.size] = part.counts
        self.filled[part.cell] += part.sums.size
        self.parts[part.cell].append(ChunkResult(part.cell, part.start, _NO_COUNTS, _NO_SUMS,
                                                 part.year, part.loss, part.event_id))

    def result(self) -> "SimulatedLosses":
        """The assembled simulation (raises if a chunk is missing)."""
        missing = [c for c in self.cells if self.filled[c] != self.n_years]
        if missing:
            raise RuntimeError(f"simulation incomplete: cells {missing} lack years")
        events = {}
        for c in self.cells:
            parts = sorted(self.parts.pop(c), key=lambda p: p.start)
            events[c] = CellEvents(np.concatenate([p.year for p in parts]),
                                   np.concatenate([p.loss for p in parts]), self.levels[c],
                                   np.concatenate([p.event_id for p in parts]))
        return SimulatedLosses(self.n_years, self.seed, self.cells, self.annual, events,
                               self.counts, dict(self.finite))


def collect(model: Mapping[str, CellModel], n_years: int, seed: int,
            parts: Iterable[ChunkResult], *,
            keep_events_above: float | Mapping[str, float] = 0.0) -> "SimulatedLosses":
    """A :class:`SimulatedLosses` from the results of :func:`simulation_tasks`' units."""
    out = LossCollector(model, n_years, seed, keep_events_above=keep_events_above)
    for part in parts:
        out.add(part)
    return out.result()


def simulate_losses(
    model: Mapping[str, CellModel],
    n_years: int,
    seed: int,
    *,
    keep_events_above: float | Mapping[str, float] = 0.0,
    chunk_years: int | None = None,
    workers: int = 1,
    backend: Literal["thread", "process"] = "thread",
    client: Any = None,
    unit_events: int | None = None,
    memory_limit: float | None = None,
) -> SimulatedLosses:
    """Simulate ``n_years`` years of losses for every cell of ``model``.

    Parameters
    ----------
    model : mapping of cell name (``"IF"`` or ``"IF|RB"``) to :class:`CellModel`
    n_years : int
        Number of simulated years (> 0).
    seed : int
        Root seed (>= 0). Same seed → same numbers whatever ``chunk_years``, ``workers``
        and ``client`` (random streams keyed to (cell, block of years)).
    keep_events_above : float or mapping cell → float
        Events with loss strictly above this level are kept with their year (for insurance);
        ``+inf`` keeps none. Default 0 keeps every event (memory: 24 bytes per event).
    chunk_years : int, optional
        Most years per work unit, rounded up to a multiple of :data:`BLOCK_YEARS`
        (memory/latency trade-off only; default 20 blocks).
    workers : int
        Parallel workers in this process (threads by default; numpy releases the GIL in the
        heavy loops). Unused with ``client``.
    backend : {"thread", "process"}
        Pool type when ``workers > 1``; ``"process"`` needs a picklable model.
    client : distributed.Client, optional
        Run the work units on a Dask cluster (``Client("tcp://scheduler:8786")`` or a
        ``LocalCluster``); the model must be picklable. None (default): in this process.
    unit_events : int, optional
        Most expected events per work unit (default
        :data:`opwb.engine.memory.UNIT_EVENTS`, 2²²): bounds the working memory whatever
        the frequency, a high-frequency cell's unit then being part of a block
        (:func:`opwb.engine.memory.plan_units`). Numbers do not depend on it.
    memory_limit : float, optional
        Memory the run may use, bytes. None (default): the memory available on this
        machine now; ``inf``: unchecked.

    Returns
    -------
    SimulatedLosses
        Annual gross losses (KRW, float64) and counts (int32) per cell, and the kept events.

    Raises
    ------
    opwb.engine.memory.SimulationTooLarge
        (a ``MemoryError``) before anything is drawn, when the estimated peak memory
        (:func:`opwb.engine.memory.plan_simulation`: result, kept events, working arrays)
        exceeds ``memory_limit``; the message gives the estimate and what to change.
    ValueError, TypeError
        Bad arguments.

    Examples
    --------
    >>> from scipy import special, stats
    >>> m = {"IF": CellModel(stats.poisson(3), stats.lognorm(2.0, scale=1e8), threshold=1e7)}
    >>> sim = simulate_losses(m, 1000, seed=1, chunk_years=2000)
    >>> sim.annual_gross["IF"].shape, sim.annual_count["IF"].dtype
    ((1000,), dtype('int32'))
    """
    _check_inputs(model, n_years, seed, chunk_years, workers, unit_events)
    check_client(client)
    if backend not in ("thread", "process"):
        raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
    levels = _keep_levels(model, keep_events_above)
    plan = plan_simulation(model, n_years, keep_events_above=levels, chunk_years=chunk_years,
                           unit_events=unit_events,
                           workers=0 if client is not None else int(workers))
    check_memory(plan, memory_limit)
    tasks = simulation_tasks(model, n_years, seed, keep_events_above=levels,
                             units=plan.units())
    return collect(model, n_years, seed,
                   run_tasks(run_chunk, tasks, workers=int(min(workers, len(tasks))),
                             backend=backend, client=client, name="opwb-simulate"),
                   keep_events_above=keep_events_above)


def annual_retained(sim: SimulatedLosses, cell: str, policy: Any) -> np.ndarray:
    """Annual losses of ``cell`` retained after a per-occurrence layer on every stored event.

    ``policy.recover(losses)`` gives per-event recoveries (no aggregate limit, no coverage
    draw: for the full programme use :func:`opwb.insurance.apply.apply_programme`). Events at or
    below the cell's ``keep_above`` are not stored, so the layer must pay nothing there.
    """
    if cell not in sim.events:
        raise KeyError(f"unknown cell {cell!r}; simulated cells are {list(sim.cells)}")
    ev = sim.events[cell]
    at_keep = np.asarray(policy.recover(np.array([ev.keep_above])), dtype=float)
    if at_keep.size != 1 or at_keep[0] > 0:
        raise ValueError(
            f"cell {cell!r}: events at or below keep_above={ev.keep_above:g} were not stored but the "
            "policy pays on them; simulate with keep_events_above <= the policy's deductible")
    rec = np.asarray(policy.recover(ev.loss), dtype=float)
    return sim.annual_gross[cell] - np.bincount(ev.year, weights=rec, minlength=sim.n_years)
