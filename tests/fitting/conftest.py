"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import numpy as np

from opwb.fitting.families import SEVERITY_FAMILIES

from tests.fitting.test_families import PARAMS


def truncated_sample(name, n_total=4000, seed=1):
    """Seeded sample of ``n_total`` losses, truncated at the true median (≈ half removed).

    For a shifted family the threshold is the same median and the data are that threshold
    plus ``n_total / 2`` draws of the family (its model of the excess).
    """
    fam = SEVERITY_FAMILIES[name]
    d = fam.dist(**PARAMS[name])
    H = float(d.ppf(0.5))
    rng = np.random.default_rng(seed)
    if fam.shifted:
        return H + d.rvs(size=n_total // 2, random_state=rng), H
    x = d.rvs(size=n_total, random_state=rng)
    return x[x > H], H
