"""How a simulation is cut into work units, and whether it fits in memory (issue 22).

Why: the work used to be cut by a fixed number of years (20 blocks, 40,000 years) whatever
the frequency, and a unit holds every drawn event's uniform and loss (16 bytes each, more
while the kept events are sorted out): a cell with 2·10⁴ losses a year needed 12.6 GB for
one unit, 10⁵ a year about 60 GB, and the run ended in ``MemoryError`` or a killed kernel.

Rule (:func:`plan_units`): a unit holds at most ``unit_events`` *expected* events
(:data:`UNIT_EVENTS` = 2²² ≈ 4.2 million by default, about 70-250 MB of working arrays).
Where a whole block (:data:`~opwb.engine._blocks.BLOCK_YEARS` years) holds fewer, a unit
is a run of whole blocks -- at most ``chunk_years`` (default 20 blocks), at most
``unit_events`` expected events; otherwise a unit is ``floor(unit_events / λ)`` years (at
least one), a part of a block. A sparse Poisson cell (fewer than
:data:`~opwb.engine._blocks.SPARSE_MEAN` losses a year, so under 20,000 expected events a
block) is always cut at blocks. Peak working memory is therefore bounded whatever λ (by
one year's events when a single year exceeds the budget: 16 MB at λ = 10⁶).

Keying: the random numbers do not depend on the cut. Every block of a cell still draws
from its own stream ``SeedSequence(seed, spawn_key=(cell_key, block))`` its counts first,
then one uniform per event in year order; a unit that starts inside a block draws the
block's counts (cheap) and skips the uniforms of the block's earlier events with
``PCG64.advance`` (exact: a double is one 64-bit output), and the annual sums are summed
over the same events in the same order. Event ids stay ``block · 2³² + position in the
block``. So the same seed gives bit-identical numbers for any ``unit_events``,
``chunk_years``, ``workers`` or cluster, and the bundled case's numbers are unchanged
(its cells, λ ≤ 44, keep the 20-block units).

Preflight (:func:`plan_simulation`, :func:`check_memory`): the result (12 bytes per year
and cell, 24 per kept event: the expected number above ``keep_events_above`` from the
severity's survival function), one more copy of the largest cell's kept events while they
are put together, and the working arrays of the units in flight are estimated before
anything is drawn; :func:`opwb.engine.simulate.simulate_losses` refuses a run whose
estimate exceeds the memory available (``MemAvailable`` of ``/proc/meminfo``) or the
stated ``memory_limit`` with :class:`SimulationTooLarge` (a ``MemoryError``) saying what
it needs and what to change.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from opwb.engine._blocks import BLOCK_YEARS, count_sampler
from opwb.engine.distributions import frequency_distribution, survival_at

__all__ = ["UNIT_EVENTS", "UNIT_BLOCKS", "EVENT_WORK_BYTES", "KEPT_WORK_BYTES", "KEPT_BYTES",
           "YEAR_BYTES", "CellPlan", "SimulationPlan", "SimulationTooLarge", "plan_units",
           "plan_simulation", "available_memory", "check_memory", "check_units"]

UNIT_EVENTS = 2 ** 22
"""Default expected events in one work unit."""
UNIT_BLOCKS = 20
"""Default blocks in one work unit when a block holds few events (``chunk_years`` unset)."""
EVENT_WORK_BYTES = 40
"""Working bytes per drawn event in a running unit: its uniform and its loss (float64
each) and the severity's inverse-survival temporaries (measured with ``tracemalloc``: 16
bytes for the closed forms and scipy's lognormal, gamma and GPD, 24 for Burr XII through
scipy, 40 for the g-and-h; ``benchmarks/bench_memory.py``)."""
KEPT_WORK_BYTES = 40
"""Extra working bytes per kept event in a running unit: its index, year, block, id and
loss (int64 / float64; measured: 56 bytes per event in all with every event kept)."""
KEPT_BYTES = 24
"""Bytes per kept event in the result: year (int64), loss (float64), event id (int64)."""
YEAR_BYTES = 12
"""Bytes per simulated year and cell in the result: annual sum (float64), count (int32)."""
_YEAR_WORK_BYTES = 48      # per year of a running unit: counts, ends, sums, indices


def _check_positive_int(value: Any, name: str) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(
            value, (int, np.integer)) or value < 1):
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")


def plan_units(mean_count: float, n_years: int, *, sparse: bool = False,
               chunk_years: int | None = None, unit_events: int | None = None
               ) -> tuple[tuple[int, int], ...]:
    """The work units ``(start, stop)`` (years) of one cell with ``mean_count`` expected
    events a year.

    Parameters
    ----------
    mean_count : float
        Expected annual number of events λ (>= 0).
    n_years : int
        Years simulated.
    sparse : bool
        The cell draws a block's events at once (sparse Poisson): cut at blocks only.
    chunk_years : int, optional
        Most years in a unit, rounded up to whole blocks (default :data:`UNIT_BLOCKS`
        blocks).
    unit_events : int, optional
        Most expected events in a unit (default :data:`UNIT_EVENTS`).

    Returns
    -------
    tuple of (int, int)
        Consecutive ``[start, stop)`` year ranges covering ``0 .. n_years``.

    Raises
    ------
    ValueError
        ``n_years``, ``chunk_years`` or ``unit_events`` not positive integers; λ negative
        or not finite.

    Examples
    --------
    >>> plan_units(40.0, 100_000)[:2]                 # 20 blocks of 2,000 years
    ((0, 40000), (40000, 80000))
    >>> plan_units(20_000.0, 1000, unit_events=2 ** 22)[:2]    # 209 years ≈ 4.2M events
    ((0, 209), (209, 418))
    """
    _check_positive_int(n_years, "n_years")
    _check_positive_int(chunk_years, "chunk_years")
    _check_positive_int(unit_events, "unit_events")
    lam = float(mean_count)
    if not (math.isfinite(lam) and lam >= 0):
        raise ValueError(f"mean_count must be finite and >= 0, got {mean_count!r}")
    budget = float(unit_events or UNIT_EVENTS)
    max_blocks = -(-int(chunk_years) // BLOCK_YEARS) if chunk_years else UNIT_BLOCKS
    per_block = lam * BLOCK_YEARS
    if sparse or per_block <= budget:
        blocks = max_blocks if per_block == 0 else max(1, min(max_blocks,
                                                               int(budget // per_block)))
        step = blocks * BLOCK_YEARS
    else:
        step = max(1, int(budget // lam))
    n = int(n_years)
    return tuple((s, min(s + step, n)) for s in range(0, n, step))


@dataclass(frozen=True)
class CellPlan:
    """One cell's work units and what they hold.

    Attributes
    ----------
    cell : str
    mean_count : float
        Expected events a year (λ).
    kept_share : float
        Expected share of events kept (above ``keep_events_above``), from the severity's
        survival function: ``S(keep) / S(threshold)``.
    units : tuple of (int, int)
        The ``[start, stop)`` years of every unit.
    """

    cell: str
    mean_count: float
    kept_share: float
    units: tuple[tuple[int, int], ...]

    @property
    def unit_years(self) -> int:
        """Years in the largest unit."""
        return max(stop - start for start, stop in self.units)

    @property
    def unit_events(self) -> float:
        """Expected events in the largest unit (``λ · unit_years``)."""
        return self.mean_count * self.unit_years

    @property
    def work_bytes(self) -> float:
        """Estimated working memory of the largest unit while it runs (bytes)."""
        return (self.unit_events * (EVENT_WORK_BYTES + KEPT_WORK_BYTES * self.kept_share)
                + self.unit_years * _YEAR_WORK_BYTES)

    @property
    def unit_result_bytes(self) -> float:
        """The largest unit's result (bytes)."""
        return self.unit_years * YEAR_BYTES + self.unit_events * self.kept_share * KEPT_BYTES

    def kept_bytes(self, n_years: int) -> float:
        """Expected bytes of the cell's kept events over ``n_years``."""
        return self.mean_count * n_years * self.kept_share * KEPT_BYTES


@dataclass(frozen=True)
class SimulationPlan:
    """The work units of a simulation and its memory estimate (bytes).

    ``peak_bytes`` = result (annual arrays and kept events) + the largest cell's kept
    events once more (put together at the end) + the working arrays of the units running
    at once (``workers`` of the largest) and the results waiting to be collected.
    """

    n_years: int
    workers: int
    cells: dict[str, CellPlan]

    @property
    def result_bytes(self) -> float:
        return sum(self.n_years * YEAR_BYTES + c.kept_bytes(self.n_years)
                   for c in self.cells.values())

    @property
    def work_bytes(self) -> float:
        if self.workers == 0:                      # the units run elsewhere (a cluster)
            return 0.0
        n_units = sum(len(c.units) for c in self.cells.values())
        running = min(self.workers, n_units)
        waiting = 1 if self.workers == 1 else min(2 * self.workers + 1, n_units)
        return (running * max(c.work_bytes for c in self.cells.values())
                + waiting * max(c.unit_result_bytes for c in self.cells.values()))

    @property
    def peak_bytes(self) -> float:
        assembly = max(c.kept_bytes(self.n_years) for c in self.cells.values())
        return self.result_bytes + assembly + self.work_bytes

    def units(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """The units of every cell (for :func:`opwb.engine.simulate.simulation_tasks`)."""
        return {name: c.units for name, c in self.cells.items()}

    def describe(self) -> str:
        """The estimate in words, the largest cells first."""
        big = sorted(self.cells.values(), key=lambda c: -c.kept_bytes(self.n_years))[:3]
        cells = "; ".join(
            f"{c.cell!r}: λ = {_count(c.mean_count)} a year, {c.kept_share:.2%} of events "
            f"kept ({_gb(c.kept_bytes(self.n_years))}), units of {c.unit_years:,} years "
            f"({_gb(c.work_bytes)} each while running)" for c in big)
        assembly = max(c.kept_bytes(self.n_years) for c in self.cells.values())
        return (f"{self.n_years:,} years of {len(self.cells)} cell(s) need about "
                f"{_gb(self.peak_bytes)}: result {_gb(self.result_bytes)} (and "
                f"{_gb(assembly)} more while a cell's kept events are put together), "
                f"working arrays {_gb(self.work_bytes)} ({self.workers} worker(s)). "
                f"Largest: {cells}.")


def _count(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


def _gb(n: float) -> str:
    return f"{n / 1e9:,.2f} GB" if n >= 1e8 else f"{n / 1e6:,.1f} MB"


def _kept_share(cell: Any, keep: float) -> float:
    if keep == math.inf:
        return 0.0
    if keep < cell.threshold:
        return 1.0
    sev = cell.severity_sampler()
    s_h = survival_at(sev, cell.threshold)
    s_k = float(np.asarray(sev.sf(np.array([keep], dtype=float)), dtype=float)[0])
    if not (math.isfinite(s_k) and s_h > 0):
        return 1.0                                  # unknown: count every event
    return float(min(max(s_k / s_h, 0.0), 1.0))


def plan_simulation(model: Mapping[str, Any], n_years: int, *,
                    keep_events_above: float | Mapping[str, float] = 0.0,
                    chunk_years: int | None = None, unit_events: int | None = None,
                    workers: int = 1) -> SimulationPlan:
    """The work units and memory estimate of
    :func:`opwb.engine.simulate.simulate_losses` with these arguments (``workers = 0``:
    the units run on a cluster, only the result is held here).

    Examples
    --------
    >>> from scipy import stats
    >>> from opwb.engine.simulate import CellModel
    >>> m = {"EDPM": CellModel(stats.poisson(2e4), stats.lognorm(2.0, scale=1e7))}
    >>> p = plan_simulation(m, 100_000, keep_events_above=float("inf"))
    >>> p.cells["EDPM"].unit_years, round(p.peak_bytes / 1e6)
    (209, 168)
    """
    levels = (keep_events_above if isinstance(keep_events_above, Mapping)
              else dict.fromkeys(model, keep_events_above))
    cells = {}
    for name, cell in model.items():
        sparse = count_sampler(frequency_distribution(cell.frequency)).kind == "poisson_sparse"
        lam = cell.mean_count
        units = plan_units(lam, n_years, sparse=sparse, chunk_years=chunk_years,
                           unit_events=unit_events)
        cells[name] = CellPlan(name, lam, _kept_share(cell, float(levels.get(name, 0.0))),
                               units)
    return SimulationPlan(int(n_years), int(workers), cells)


def check_units(units, n_years: int, cell: str = "") -> list[tuple[int, int]]:
    """``units`` as a list of ``(start, stop)`` after checking that they are consecutive
    year ranges covering ``0 .. n_years``.

    Raises
    ------
    ValueError
        They are not.
    """
    cuts = [(int(a), int(b)) for a, b in units]
    ends = [0] + [b for _, b in cuts]
    if not cuts or [a for a, _ in cuts] != ends[:-1] or ends[-1] != int(n_years) or any(
            b <= a for a, b in cuts):
        raise ValueError(f"units of cell {cell!r} must be consecutive [start, stop) years "
                         f"covering 0 .. {n_years}; got {cuts[:3]}{'...' if len(cuts) > 3 else ''}")
    return cuts


def available_memory() -> int | None:
    """Memory available to a new allocation without swapping (bytes): ``MemAvailable`` of
    ``/proc/meminfo`` (Linux), else free physical pages; None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


class SimulationTooLarge(MemoryError):
    """A simulation whose estimated peak memory exceeds what is available or allowed,
    refused before anything is drawn."""


def check_memory(plan: SimulationPlan, memory_limit: float | None = None) -> None:
    """Refuse ``plan`` when its peak estimate exceeds ``memory_limit`` bytes (None: the
    memory available now, :func:`available_memory`; unchecked when that is unknown;
    ``inf``: unchecked).

    Raises
    ------
    SimulationTooLarge
        The estimate exceeds the limit; the message gives the estimate, the limit and
        what to change.
    ValueError
        ``memory_limit`` not a positive number.
    """
    if memory_limit is not None and (isinstance(memory_limit, bool) or not isinstance(
            memory_limit, (int, float, np.integer, np.floating)) or not memory_limit > 0):
        raise ValueError(f"memory_limit must be a positive number of bytes or None, got "
                         f"{memory_limit!r}")
    limit = available_memory() if memory_limit is None else float(memory_limit)
    if limit is None or plan.peak_bytes <= limit:
        return
    whose = "available on this machine" if memory_limit is None else "allowed (memory_limit)"
    raise SimulationTooLarge(
        f"the simulation cannot fit in memory: {plan.describe()} That is more than the "
        f"{_gb(limit)} {whose}. Keep fewer events (raise keep_events_above to where "
        "insurance can reach them) or simulate fewer years or cells: the result is held "
        "in this process whoever runs the units, and unit_events= bounds only the "
        "working arrays.")
