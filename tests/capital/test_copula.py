"""Gaussian-copula aggregation: marginals kept, years kept together, bad matrices refused."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.capital.ama import capital_summary
from opwb.capital.copula import copula_orders, copula_totals


def test_copula_reordering_keeps_marginals(sim):
    gross = sim.by_event_type()
    net = {k: 0.5 * v for k, v in gross.items()}
    corr = pd.DataFrame(0.5 * np.ones((3, 3)) + 0.5 * np.eye(3), index=list(gross),
                        columns=list(gross))
    g, n = copula_totals(gross, net, corr, seed=1)
    assert g.sum() == pytest.approx(sim.total_gross().sum())
    np.testing.assert_allclose(n, 0.5 * g)                          # years stay together
    orders = copula_orders(gross, corr, seed=1)
    for years in orders.values():                                   # a permutation of years
        assert np.array_equal(np.sort(years), np.arange(sim.n_years))
    np.testing.assert_allclose(g, sum(gross[et][orders[et]] for et in gross))


@pytest.mark.parametrize("corr, match", [
    (np.ones((2, 2)), "3x3"),
    (np.array([[1, .9, 0], [.9, 1, .9], [0, .9, 1]]), "positive semi-definite"),
    (np.array([[1, .5, 0], [.4, 1, 0], [0, 0, 1]]), "symmetric"),
    (2 * np.eye(3), "unit diagonal"),
])
def test_bad_correlation(sim, corr, match):
    with pytest.raises(ValueError, match=match):
        capital_summary(sim, correlation=corr)


def test_labelled_correlation_needs_every_event_type(sim):
    corr = pd.DataFrame(np.eye(2), index=["IF", "EF"], columns=["IF", "EF"])
    with pytest.raises(ValueError, match="DPA"):
        capital_summary(sim, correlation=corr)
