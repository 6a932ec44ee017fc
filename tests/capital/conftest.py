"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import pytest
from scipy import stats

from opwb.engine.simulate import CellModel, simulate_losses

# -- AMA capital summary ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sim():
    model = {
        "IF": CellModel(stats.poisson(6), stats.lognorm(2.0, scale=3e7), threshold=1e7),
        "EF": CellModel(stats.poisson(15), stats.lognorm(1.6, scale=2e7), threshold=1e7),
        "DPA": CellModel(stats.poisson(4), stats.lognorm(2.2, scale=1e7), threshold=1e7),
    }
    return simulate_losses(model, 20_000, seed=7)
