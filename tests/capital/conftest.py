"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from opwb.engine.simulate import CellEvents, CellModel, SimulatedLosses, simulate_losses
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

# -- AMA capital summary ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim():
    model = {
        "IF": CellModel(stats.poisson(6), stats.lognorm(2.0, scale=3e7), threshold=1e7),
        "EF": CellModel(stats.poisson(15), stats.lognorm(1.6, scale=2e7), threshold=1e7),
        "DPA": CellModel(stats.poisson(4), stats.lognorm(2.2, scale=1e7), threshold=1e7),
    }
    return simulate_losses(model, 20_000, seed=7)


@pytest.fixture(scope="module")
def sim2():
    """Two event types, IF and EF, 20,000 simulated years."""
    model = {
        "IF": CellModel(stats.poisson(6), stats.lognorm(2.0, scale=3e7), threshold=1e7),
        "EF": CellModel(stats.poisson(15), stats.lognorm(1.6, scale=2e7), threshold=1e7),
    }
    return simulate_losses(model, 20_000, seed=11)


def make_sim(cells: dict[str, tuple], n_years: int) -> SimulatedLosses:
    """A SimulatedLosses from hand-written (years, losses) per cell, every event stored."""
    events, annual = {}, {}
    for cell, (years, losses) in cells.items():
        y = np.asarray(years, dtype=np.int64)
        x = np.asarray(losses, dtype=float)
        annual[cell] = np.bincount(y, x, minlength=n_years)
        events[cell] = CellEvents(y, x, 0.0)
    return SimulatedLosses(n_years, 0, tuple(cells), annual, events)


def quota_share(c: float, policy_id: str = "QS", **cover: float) -> Policy:
    """A quota share: deductible 0, no limit, the insurer pays ``c`` of every loss."""
    return Policy(0.0, math.inf, coinsurance=c, policy_id=policy_id, cover=cover or None)


def programme(*policies: Policy) -> Programme:
    return Programme(tuple(policies))
