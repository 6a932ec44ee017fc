"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import numpy as np

from opwb.fitting.families import SEVERITY_FAMILIES

from tests.fitting.test_families import PARAMS


def truncated_sample(name, n_total=4000, seed=1):
    """Seeded sample of ``n_total`` losses, truncated at the true median (≈ half removed)."""
    d = SEVERITY_FAMILIES[name].dist(**PARAMS[name])
    H = float(d.ppf(0.5))
    x = d.rvs(size=n_total, random_state=np.random.default_rng(seed))
    return x[x > H], H
