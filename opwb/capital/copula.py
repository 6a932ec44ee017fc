"""Gaussian-copula aggregation of event types by reordering their simulated years.

Each event type's simulated years are reordered so that their gross-loss ranks follow the
ranks of a correlated normal sample (Iman-Conover style); a year's gross and net losses stay
together, so every event type keeps its simulated gross and net marginals.

Examples
--------
>>> import numpy as np
>>> g = {"IF": np.array([1.0, 3.0, 2.0]), "EF": np.array([30.0, 10.0, 20.0])}
>>> orders = copula_orders(g, np.ones((2, 2)), seed=0)     # comonotone: ranks agree
>>> a, b = g["IF"][orders["IF"]], g["EF"][orders["EF"]]
>>> a.argsort().tolist() == b.argsort().tolist()
True
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["check_correlation", "copula_orders", "copula_totals"]


def check_correlation(correlation: Any, names: Sequence[str]) -> np.ndarray:
    """The correlation matrix between event types ``names`` as an array, validated.

    ``correlation`` is an array in the order of ``names`` or a DataFrame labelled by them.

    Raises
    ------
    ValueError
        Wrong shape or labels, not symmetric, diagonal not 1, entries outside [-1, 1], or not
        positive semi-definite.
    """
    if isinstance(correlation, pd.DataFrame):
        missing = [n for n in names if n not in correlation.index or n not in correlation.columns]
        if missing:
            raise ValueError(f"correlation matrix has no row/column for {missing}; "
                             f"expected labels {list(names)}")
        correlation = correlation.loc[list(names), list(names)].to_numpy(dtype=float)
    c = np.asarray(correlation, dtype=float)
    k = len(names)
    if c.shape != (k, k):
        raise ValueError(f"correlation must be {k}x{k} (event types {list(names)}), got {c.shape}")
    if not np.allclose(c, c.T, atol=1e-12):
        raise ValueError("correlation matrix is not symmetric")
    if not np.allclose(np.diag(c), 1.0) or np.any(np.abs(c) > 1.0 + 1e-12):
        raise ValueError("correlation matrix needs a unit diagonal and entries in [-1, 1]")
    w = np.linalg.eigvalsh(c)
    if w.min() < -1e-10:
        raise ValueError(f"correlation matrix is not positive semi-definite "
                         f"(smallest eigenvalue {w.min():.3g})")
    return c


def copula_orders(gross: Mapping[str, np.ndarray], correlation: Any, *,
                  seed: int) -> dict[str, np.ndarray]:
    """Per event type, the simulated year placed in each row of the copula sample.

    Row ``r`` of the aggregated sample holds year ``orders[et][r]`` of event type ``et``;
    the same ``seed`` gives the same reordering.
    """
    names = list(gross)
    c = check_correlation(correlation, names)
    w, v = np.linalg.eigh(c)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    n = len(next(iter(gross.values())))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    z = rng.standard_normal((n, len(names))) @ root.T
    orders = {}
    for j, name in enumerate(names):
        ranks = np.empty(n, dtype=np.int64)
        ranks[np.argsort(z[:, j], kind="stable")] = np.arange(n)
        orders[name] = np.argsort(np.asarray(gross[name]), kind="stable")[ranks]
    return orders


def copula_totals(gross: Mapping[str, np.ndarray], net: Mapping[str, np.ndarray],
                  correlation: Any, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Annual gross and net totals (KRW) under a Gaussian copula between event types.

    See :func:`copula_orders`; a year's gross and net losses move together, so the net
    marginals are kept as simulated.
    """
    orders = copula_orders(gross, correlation, seed=seed)
    n = len(next(iter(gross.values())))
    g_tot, n_tot = np.zeros(n), np.zeros(n)
    for name, years in orders.items():
        g_tot += np.asarray(gross[name])[years]
        n_tot += np.asarray(net[name])[years]
    return g_tot, n_tot
