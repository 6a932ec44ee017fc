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

__all__ = ["cap_sensitivity", "threshold_stability", "THRESHOLD_MULTIPLES", "MIN_LOSSES_ABOVE"]


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


#: Fitting thresholds tried by :func:`threshold_stability`, as multiples of the case's.
THRESHOLD_MULTIPLES: tuple[float, ...] = (1.0, 1.5, 2.0, 3.0, 5.0)
#: Fewest losses above a fitting threshold for a row of :func:`threshold_stability`.
MIN_LOSSES_ABOVE = 15


def threshold_stability(losses: pd.DataFrame, models, *, multiples: Iterable[float] =
                        THRESHOLD_MULTIPLES, severity_cap: float | None = None,
                        alpha: float = 0.999, cells: Iterable[str] | None = None
                        ) -> pd.DataFrame:
    """Each cell's figures when its chosen families are fitted above a higher threshold:
    the threshold-stability check of published extreme-value studies (e.g. Moscadelli 2004,
    *The modelling of operational risk: experience with the analysis of the data collected
    by the Basel Committee*, §6; Chavez-Demoulin, Embrechts & Hofert 2016).

    For every multiple ``m`` of the model set's threshold ``u`` the cell's frequency and
    severity families are re-estimated on the losses at or above ``m·u``
    (:func:`opwb.fitting.modelset.refit_families`) and the annual loss of losses above
    ``m·u`` computed by FFT (:func:`opwb.engine.fft.compound_fft`, censored at
    ``severity_cap``): its VaR at ``alpha`` with its discretisation error, the tail index
    and the single-loss quantile at ``alpha``. Losses between ``u`` and ``m·u`` are left
    out of that year, which lowers VaR by at most their sum (a small share for a heavy-tailed
    cell); a VaR that moves far more than that between thresholds is a model the data do not
    pin down.

    Parameters
    ----------
    losses : DataFrame
        Canonical losses (``event_type``, ``gross_loss`` KRW; ``attrs["observation"]`` the
        window the frequency is fitted over).
    models : ModelSet
        The chosen families and the threshold ``u`` (KRW).
    multiples : the thresholds tried, as multiples of ``u`` (default
        :data:`THRESHOLD_MULTIPLES`).
    severity_cap : float, optional
        Maximum single loss (KRW); None: none (a cell whose refit has an infinite mean then
        gets no VaR: its ``note`` says so).
    alpha : float
    cells : the cells to report (default every cell of ``models``).

    Returns
    -------
    DataFrame
        One row per cell and threshold: ``cell``, ``multiple``, ``threshold`` (KRW),
        ``n_losses`` above it, ``family``, ``tail_index``, ``single_loss_quantile`` and
        ``var`` with ``var_error`` (KRW), ``note`` (why a row has no figures: fewer than
        :data:`MIN_LOSSES_ABOVE` losses, a fit that fails, an infinite mean without a cap).
    """
    from opwb.data.schema import collected
    from opwb.engine.fft import compound_fft
    from opwb.fitting.modelset import ModelSet, refit_families
    u = float(models.threshold)
    wanted = list(models.keys()) if cells is None else list(cells)
    rows = []
    for cell in wanted:
        x = losses.loc[losses["event_type"] == cell, "gross_loss"].to_numpy(float)
        sub = ModelSet({cell: models[cell]}, u, "", True, "")
        data = losses[losses["event_type"] == cell]
        data.attrs.update(losses.attrs)
        for m in multiples:
            t = float(m) * u
            n = int(collected(x, t).sum())
            row = {"cell": cell, "multiple": float(m), "threshold": t, "n_losses": n,
                   "family": models[cell].severity.family, "tail_index": math.nan,
                   "single_loss_quantile": math.nan, "var": math.nan,
                   "var_error": math.nan, "note": ""}
            if n < MIN_LOSSES_ABOVE:
                row["note"] = f"{n} losses above the threshold (fewer than {MIN_LOSSES_ABOVE})"
                rows.append(row)
                continue
            try:
                fit = refit_families(sub, data, t)[cell]
            except ValueError as err:
                row["note"] = f"no fit: {err}"
                rows.append(row)
                continue
            sev = fit.severity
            row["tail_index"] = float(sev.tail_index)
            row["single_loss_quantile"] = float(sev.single_loss_quantile(alpha))
            if severity_cap is None and not sev.finite_mean:
                row["note"] = "infinite mean and no severity cap: no VaR"
                rows.append(row)
                continue
            try:
                d = compound_fft(fit.frequency, sev, threshold=t, alpha=alpha,
                                 severity_cap=severity_cap)
                meas = d.measures(alpha)
                row["var"], row["var_error"] = float(meas.var), float(meas.var_error)
            except ValueError as err:
                row["note"] = f"no VaR: {err}"
            rows.append(row)
    return pd.DataFrame(rows)
