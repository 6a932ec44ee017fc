"""The single-loss approximation (SLA) and a table that checks Monte Carlo, FFT and SLA
against each other, cell by cell, gross and net.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from opwb.data.levels import check_level
from opwb.data.taxonomy import event_type_of
from opwb.engine.distributions import (
    check_cap,
    resolve_threshold,
    severity_distribution,
    survival_at,
)
from opwb.engine.distributions import frequency_mean as _frequency_mean
from opwb.engine.fft import CompoundDistribution, compound_fft
from opwb.engine.riskmeasures import es_with_se, var_interval, var_with_se
from opwb.engine.simulate import annual_retained

__all__ = ["cross_method_table", "sla_var"]


def sla_var(frequency_mean: Any, severity: Any, alpha: float, *, threshold: float | None = None,
            severity_cap: float | None = None) -> float:
    """Single-loss approximation ``VaR ≈ F⁻¹(1 - (1 - alpha)/λ)`` (Böcker & Klüppelberg 2005), KRW.

    ``F`` is the severity conditional on exceeding ``threshold`` (KRW) and ``λ`` the expected
    annual count above it (a number, or a frequency distribution whose mean is used).
    ``severity_cap`` (KRW, or a :class:`~opwb.engine.distributions.CappedSeverity`) censors
    the severity as the Monte Carlo and FFT engines do, so the result is at most the cap;
    when the quantile reaches the cap the approximation's premise (one loss dominates the
    year) fails and the figure is only a lower bound of VaR (``P(S >= cap) > 1 - alpha``).

    Raises
    ------
    ValueError
        ``alpha`` not a level in (0, 1) (``check_level``), ``(1 - alpha) / λ >= 1``, a cap
        not above the threshold, or no probability above the threshold.

    Examples
    --------
    >>> from scipy import stats
    >>> round(sla_var(25, stats.lognorm(2.0, scale=np.exp(10.0)), 0.999) / 1e7, 3)
    5.875
    >>> sla_var(25, stats.genpareto(1.2, scale=1e7), 0.999, severity_cap=1e11)
    100000000000.0
    """
    alpha = check_level(alpha)
    lam = _frequency_mean(frequency_mean)
    if not (1.0 - alpha) / lam < 1.0:
        raise ValueError(f"single-loss approximation needs (1 - alpha)/lambda < 1; got "
                         f"alpha={alpha}, lambda={lam}")
    thr = resolve_threshold(severity, threshold)
    sev = severity_distribution(severity, check_cap(severity_cap, thr))
    s_h = survival_at(sev, thr)
    return float(np.asarray(sev.isf(np.array([(1.0 - alpha) / lam * s_h])), dtype=float)[0])


def _row(cell, basis, mc, dist, sla, alpha, level, finite_mean):
    v, v_se = var_with_se(mc, alpha)
    lo, hi = var_interval(mc, alpha, level)
    fft = dist.measures(alpha) if isinstance(dist, CompoundDistribution) else None
    exists = fft.es_exists if fft is not None else finite_mean is not False
    e, e_se = es_with_se(mc, alpha) if exists else (np.nan, np.nan)
    row = {"cell": cell, "basis": basis, "mc_var": v, "mc_var_se": v_se, "mc_var_low": lo,
           "mc_var_high": hi, "fft_var": np.nan, "fft_var_error": np.nan, "sla_var": sla,
           "fft_in_interval": None, "mc_es": e, "mc_es_se": e_se, "fft_es": np.nan,
           "fft_es_error": np.nan, "es_exists": exists, "fft_discretisation_error": np.nan,
           "note": str(dist) if fft is None else fft.note}
    if fft is not None:
        row.update(fft_var=fft.var, fft_var_error=fft.var_error, fft_es=fft.es,
                   fft_es_error=fft.es_error, fft_in_interval=bool(lo <= fft.var <= hi),
                   fft_discretisation_error=dist.discretisation_error)
    return row


def cross_method_table(model, sim, alpha: float = 0.999, *, policies=None, level: float = 0.95,
                       **fft_options):
    """VaR and ES of every cell by Monte Carlo, FFT and the single-loss approximation.

    Parameters
    ----------
    model : mapping cell → :class:`opwb.engine.simulate.CellModel`
        Each cell's ``severity_cap`` is applied by FFT and SLA as by the simulation.
    sim : :class:`opwb.engine.simulate.SimulatedLosses` simulated from ``model``
    alpha : float
        Level (a fraction, e.g. 0.999).
    policies : mapping cell → object with ``.recover``, optional
        Adds a "net" row per listed cell (per-occurrence layer on every event; the SLA net
        figure is the retained part of the SLA loss).
    level : float
        Confidence level of the Monte Carlo VaR interval (order statistics).
    **fft_options : passed to :func:`compound_fft`.

    Returns
    -------
    pandas.DataFrame
        One row per cell and basis (amounts in KRW): ``mc_var``, ``mc_var_se``,
        ``mc_var_low/high``, ``fft_var``, ``fft_var_error``, ``sla_var``, ``fft_in_interval``,
        ``mc_es``, ``mc_es_se``, ``fft_es``, ``fft_es_error``, ``es_exists`` (False for an
        infinite-mean severity without a cap: every ES column is then NaN),
        ``fft_discretisation_error`` and a ``note`` (why ES is missing, or why FFT could not
        be applied).
    """
    import pandas as pd

    alpha = check_level(alpha)
    policies = dict(policies or {})
    rows = []
    for cell, cm in model.items():
        policy = policies.get(cell)
        try:
            dist = compound_fft(cm.frequency, cm.severity, policy, threshold=cm.threshold,
                                alpha=alpha, severity_cap=cm.severity_cap,
                                event_type=event_type_of(cell), **fft_options)
        except (ValueError, TypeError) as exc:
            dist = exc
        sla = sla_var(cm.frequency, cm.severity, alpha, threshold=cm.threshold,
                      severity_cap=cm.severity_cap)
        finite = cm.finite_mean
        rows.append(_row(cell, "gross", sim.annual_gross[cell], dist, sla, alpha, level, finite))
        if policy is not None:
            net = dist.net if isinstance(dist, CompoundDistribution) else dist
            sla_net = float(sla - np.asarray(policy.recover(np.array([sla])), dtype=float)[0])
            rows.append(_row(cell, "net", annual_retained(sim, cell, policy), net, sla_net,
                             alpha, level, finite))
    return pd.DataFrame(rows)
