"""The single-loss approximation (SLA) and a table that checks Monte Carlo, FFT and SLA
against each other, cell by cell, gross and net.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from opwb.engine.distributions import frequency_mean as _frequency_mean
from opwb.engine.distributions import (
    resolve_threshold,
    severity_distribution,
    survival_at,
)
from opwb.engine.fft import CompoundDistribution, compound_fft
from opwb.engine.riskmeasures import es_with_se, var_interval, var_with_se
from opwb.engine.simulate import annual_retained

__all__ = ["sla_var", "cross_method_table"]


def sla_var(frequency_mean: Any, severity: Any, alpha: float, *, threshold: float | None = None) -> float:
    """Single-loss approximation ``VaR ≈ F⁻¹(1 - (1 - alpha)/λ)`` (Böcker & Klüppelberg 2005).

    ``F`` is the severity conditional on exceeding ``threshold`` and ``λ`` the expected annual
    count above it (a number, or a frequency distribution whose mean is used).

    Examples
    --------
    >>> from scipy import stats
    >>> round(sla_var(25, stats.lognorm(2.0, scale=np.exp(10.0)), 0.999) / 1e7, 3)
    5.875
    """
    if isinstance(alpha, bool) or not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    lam = _frequency_mean(frequency_mean)
    if not (1.0 - alpha) / lam < 1.0:
        raise ValueError(f"single-loss approximation needs (1 - alpha)/lambda < 1; got "
                         f"alpha={alpha}, lambda={lam}")
    sev = severity_distribution(severity)
    s_h = survival_at(sev, resolve_threshold(severity, threshold))
    return float(np.asarray(sev.isf(np.array([(1.0 - alpha) / lam * s_h])), dtype=float)[0])


def _row(cell, basis, mc, dist, sla, alpha, level):
    v, v_se = var_with_se(mc, alpha)
    lo, hi = var_interval(mc, alpha, level)
    e, e_se = es_with_se(mc, alpha)
    row = {"cell": cell, "basis": basis, "mc_var": v, "mc_var_se": v_se, "mc_var_low": lo,
           "mc_var_high": hi, "fft_var": np.nan, "sla_var": sla, "fft_in_interval": None,
           "mc_es": e, "mc_es_se": e_se, "fft_es": np.nan, "fft_discretisation_error": np.nan,
           "note": ""}
    if isinstance(dist, CompoundDistribution):
        fv = dist.var(alpha)
        row.update(fft_var=fv, fft_es=dist.es(alpha), fft_in_interval=bool(lo <= fv <= hi),
                   fft_discretisation_error=dist.discretisation_error)
    else:
        row["note"] = str(dist)
    return row


def cross_method_table(model, sim, alpha: float = 0.999, *, policies=None, level: float = 0.95,
                       **fft_options):
    """VaR and ES of every cell by Monte Carlo, FFT and the single-loss approximation.

    Parameters
    ----------
    model : mapping cell → :class:`opwb.engine.simulate.CellModel`
    sim : :class:`opwb.engine.simulate.SimulatedLosses` simulated from ``model``
    alpha : float
    policies : mapping cell → object with ``.recover``, optional
        Adds a "net" row per listed cell (per-occurrence layer on every event; the SLA net
        figure is the retained part of the SLA loss).
    level : float
        Confidence level of the Monte Carlo VaR interval (order statistics).
    **fft_options : passed to :func:`compound_fft`.

    Returns
    -------
    pandas.DataFrame
        One row per cell and basis: ``mc_var``, ``mc_var_se``, ``mc_var_low/high``,
        ``fft_var``, ``sla_var``, ``fft_in_interval``, ``mc_es``, ``mc_es_se``, ``fft_es``,
        ``fft_discretisation_error`` and a ``note`` when FFT could not be applied.
    """
    import pandas as pd

    policies = dict(policies or {})
    rows = []
    for cell, cm in model.items():
        policy = policies.get(cell)
        try:
            dist = compound_fft(cm.frequency, cm.severity, policy, threshold=cm.threshold,
                                alpha=alpha, **fft_options)
        except (ValueError, TypeError) as exc:
            dist = exc
        sla = sla_var(cm.frequency, cm.severity, alpha, threshold=cm.threshold)
        rows.append(_row(cell, "gross", sim.annual_gross[cell], dist, sla, alpha, level))
        if policy is not None:
            net = dist.net if isinstance(dist, CompoundDistribution) else dist
            sla_net = float(sla - np.asarray(policy.recover(np.array([sla])), dtype=float)[0])
            rows.append(_row(cell, "net", annual_retained(sim, cell, policy), net, sla_net,
                             alpha, level))
    return pd.DataFrame(rows)
