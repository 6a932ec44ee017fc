"""How capital depends on the severity cap (maximum single loss).

With heavy tails the cap is a modelling choice that moves capital; a validator expects to
see by how much. :func:`cap_sensitivity` simulates the chosen models once without a cap,
keeping every loss above the smallest cap, and censors the stored losses at each cap
(``min(X, cap)``) — exactly what a simulation with that cap draws, year by year, since the
random numbers are the same.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from opwb.engine.distributions import check_cap
from opwb.engine.riskmeasures import es_with_se, var_with_se
from opwb.engine.simulate import CellModel, simulate_losses

__all__ = ["cap_sensitivity"]


def cap_sensitivity(models: Mapping, caps: Iterable[float | None], *, n_years: int = 100_000,
                    seed: int = 2005, alpha: float = 0.999) -> pd.DataFrame:
    """Capital at ``alpha`` against the severity cap.

    Parameters
    ----------
    models : ModelSet or mapping cell -> CellFit
        The chosen models (frequency and severity per cell).
    caps : iterable of float or None
        Caps in KRW; None (or ``inf``) for no cap.
    n_years, seed : the simulation (one run for every cap: common random numbers).
    alpha : float
        Level of VaR and ES (fraction).

    Returns
    -------
    DataFrame
        One row per cap: ``severity_cap`` (KRW, inf = none), ``capital_sum`` (sum over cells
        of each cell's VaR, the Basel default) and ``capital_sum_se``, ``total_var`` and
        ``total_var_se`` (VaR of the summed years), ``total_es`` and ``total_es_se`` (NaN
        when the mean does not exist: an infinite-mean cell and no cap), and
        ``es_exists``.
    """
    caps = [check_cap(c) for c in caps]
    if not caps:
        raise ValueError("give at least one cap")
    cells = {c: CellModel(m.frequency, m.severity, threshold=m.threshold)
             for c, m in models.items()}
    finite = [c for c in caps if math.isfinite(c)]
    sim = simulate_losses(cells, n_years, seed,
                          keep_events_above=min(finite) if finite else math.inf)
    infinite_mean = any(m.severity.finite_mean is False for m in models.values())
    rows = []
    for cap in caps:
        annual = {}
        for cell in cells:
            ev = sim.events[cell]
            excess = np.maximum(ev.loss - cap, 0.0) if math.isfinite(cap) else 0.0 * ev.loss
            annual[cell] = sim.annual_gross[cell] - np.bincount(ev.year, excess,
                                                                minlength=n_years)
        per_cell = [var_with_se(a, alpha) for a in annual.values()]
        total = np.sum(list(annual.values()), axis=0)
        v, v_se = var_with_se(total, alpha)
        exists = math.isfinite(cap) or not infinite_mean
        e, e_se = es_with_se(total, alpha) if exists else (math.nan, math.nan)
        rows.append({"severity_cap": cap, "capital_sum": sum(p[0] for p in per_cell),
                     "capital_sum_se": math.sqrt(sum(p[1] ** 2 for p in per_cell)),
                     "total_var": v, "total_var_se": v_se, "total_es": e, "total_es_se": e_se,
                     "es_exists": exists})
    return pd.DataFrame(rows)
