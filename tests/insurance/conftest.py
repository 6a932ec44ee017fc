"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import numpy as np

from opwb.engine.simulate import CellEvents, SimulatedLosses

NO_NOISE = dict(default=False, delay=False)


def make_sim(cells: dict[str, tuple], n_years: int, keep_above: float = 0.0) -> SimulatedLosses:
    """A SimulatedLosses from hand-written (years, losses) per cell."""
    events, annual = {}, {}
    for cell, (years, losses) in cells.items():
        y = np.asarray(years, dtype=np.int64)
        x = np.asarray(losses, dtype=float)
        annual[cell] = np.bincount(y, x, minlength=n_years)
        keep = x > keep_above
        events[cell] = CellEvents(y[keep], x[keep], keep_above)
    return SimulatedLosses(n_years, 0, tuple(cells), annual, events)
