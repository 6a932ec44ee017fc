"""Capital under Basel's sum, the Gaussian copula and the Student-t copula side by side.

The EU AMA standard (Commission Delegated Regulation (EU) 2018/959) asks that the
dependence between event types not rest on Gaussian or normal-like assumptions alone; this
table puts the three answers of :func:`opwb.capital.ama.capital_summary` beside each other
on the same simulated years: the Basel default (sum of stand-alone VaRs, i.e. comonotone
event types), a Gaussian copula and a t copula with the same correlation matrix and ν
degrees of freedom (:mod:`opwb.capital.copula`; both copulas use the same normal draws).

Examples
--------
>>> from scipy import stats
>>> from opwb.engine.simulate import CellModel, simulate_losses
>>> cell = CellModel(stats.poisson(5), stats.lognorm(2.0, scale=3e7), threshold=1e7)
>>> sim = simulate_losses({"IF": cell, "EF": cell, "DPA": cell}, 2_000, seed=1)
>>> table = dependence_comparison(sim, 0.3, df=4)
>>> table.index.tolist(), table["df"].tolist()
(['sum', 'copula', 't_copula'], [nan, inf, 4.0])
>>> bool(table.loc["copula", "capital_gross"] <= table.loc["sum", "capital_gross"])
True
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from opwb.capital.ama import BASEL_CAP, capital_summary
from opwb.capital.copula import check_df, t_tail_dependence

__all__ = ["DEPENDENCE_COLUMNS", "dependence_comparison"]

#: Capital columns of :func:`dependence_comparison` (each with ``<column>_se``), KRW.
DEPENDENCE_COLUMNS: tuple[str, ...] = ("capital_gross", "recognised_benefit", "capital_net")


def dependence_comparison(result: Any, correlation: Any, *, df: float,
                          alpha: float = 0.999, el_offset: bool = False,
                          cap: float = BASEL_CAP, seed: int = 0) -> pd.DataFrame:
    """Total capital under the Basel sum, the Gaussian and the t copula (KRW), with errors.

    Parameters
    ----------
    result : ProgrammeResult or SimulatedLosses
        As :func:`opwb.capital.ama.capital_summary` takes it.
    correlation : float, array or DataFrame
        Correlation matrix between event types (order of the result's event types, or
        labelled); a number ρ means every pair has correlation ρ.
    df : float
        The t copula's degrees of freedom ν > 0.
    alpha, el_offset, cap, seed
        As :func:`opwb.capital.ama.capital_summary`.

    Returns
    -------
    DataFrame
        Rows ``"sum"``, ``"copula"`` (Gaussian), ``"t_copula"``; columns ``df`` (ν: NaN for
        the sum, ∞ for the Gaussian copula), ``tail_dependence`` (mean over pairs of event
        types of the upper tail dependence coefficient: 1 for the sum's comonotone years,
        0 for the Gaussian copula unless ρ = 1, :func:`~opwb.capital.copula.t_tail_dependence`
        for the t copula), :data:`DEPENDENCE_COLUMNS` with their ``_se``, ``cap_binds`` and
        ``ratio_to_sum`` (gross capital over the sum's).

    Raises
    ------
    ValueError
        An invalid correlation matrix or ``df``; as :func:`~opwb.capital.ama.capital_summary`.

    Notes
    -----
    The errors are Monte Carlo standard errors on the simulated years, for the copulas
    conditional on the copula's latent draw (:func:`~opwb.capital.ama.capital_summary`).
    """
    nu = check_df(df)
    gross = result.gross_by_event_type if hasattr(result, "gross_by_event_type") \
        else result.by_event_type()
    names = list(gross)
    if np.ndim(correlation) == 0 and not isinstance(correlation, pd.DataFrame):
        rho = float(correlation)
        correlation = np.full((len(names), len(names)), rho)
        np.fill_diagonal(correlation, 1.0)
    summary = capital_summary(result, alpha=alpha, aggregation="t_copula",
                              correlation=correlation, el_offset=el_offset, cap=cap,
                              seed=seed, df=nu)
    totals = summary.totals.loc[["sum", "copula", "t_copula"]]
    cols = [c for col in DEPENDENCE_COLUMNS for c in (col, f"{col}_se")] + ["cap_binds"]
    out = totals[cols].copy()
    c = _matrix(correlation, names)
    pairs = c[np.triu_indices(len(names), 1)] if len(names) > 1 else np.array([1.0])
    out.insert(0, "df", [np.nan, np.inf, nu])
    out.insert(1, "tail_dependence", [1.0, float(np.mean(t_tail_dependence(pairs, np.inf))),
                                      float(np.mean(t_tail_dependence(pairs, nu)))])
    out["ratio_to_sum"] = out["capital_gross"] / out.loc["sum", "capital_gross"]
    return out


def _matrix(correlation: Any, names: list[str]) -> np.ndarray:
    if isinstance(correlation, pd.DataFrame):
        return correlation.loc[names, names].to_numpy(dtype=float)
    return np.asarray(correlation, dtype=float)
