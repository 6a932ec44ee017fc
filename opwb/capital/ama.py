"""Operational-risk capital gross and net of insurance (Basel AMA).

AMA: capital is the ``alpha`` = 99.9% one-year VaR of annual losses (optionally minus the
expected loss when it is covered by provisions or pricing), per event type and in total:

- ``"sum"``: the Basel default, sum of the stand-alone event-type figures;
- ``"independent"``: VaR of the simulated total (cells are simulated independently);
- ``"copula"``: a Gaussian copula with a user correlation matrix between event types,
  built by reordering each event type's simulated years by the copula's ranks
  (Iman-Conover style; a year's gross and net stay together).

Insurance relief is capped at 20% of gross capital (Basel II para 677):
``K_net = max(K_gross - benefit, 0.8 K_gross)`` (:func:`apply_cap`).

The Basel III standardised approach, for comparison, is :mod:`opwb.capital.standardised`.

Examples
--------
>>> apply_cap(100.0, 30.0).net, apply_cap(100.0, 30.0).binds
(80.0, True)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.engine.riskmeasures import es_with_se, var_with_se

__all__ = [
    "Aggregation", "CapResult", "apply_cap", "copula_totals", "CapitalSummary", "capital_summary",
]


Aggregation = Literal["sum", "independent", "copula"]


BASEL_CAP = 0.2


@dataclass(frozen=True)
class CapResult:
    """The 20% cap on insurance relief: gross capital, modelled benefit and net capital."""

    gross: float
    benefit: float
    cap: float
    net_modelled: float
    floor: float
    net: float
    recognised_benefit: float
    binds: bool


def apply_cap(gross: float, benefit: float, *, cap: float = BASEL_CAP) -> CapResult:
    """Net capital with insurance relief capped at ``cap`` of gross capital.

    ``net = max(gross - benefit, (1 - cap) * gross)``; ``binds`` is True when the cap
    reduces the recognised benefit.

    Examples
    --------
    >>> r = apply_cap(100.0, 30.0)
    >>> r.net, r.recognised_benefit, r.binds
    (80.0, 20.0, True)
    >>> apply_cap(100.0, 10.0).net
    90.0
    """
    gross, benefit = float(gross), float(benefit)
    if not 0.0 <= cap <= 1.0:
        raise ValueError(f"cap must be in [0, 1], got {cap}")
    if not np.isfinite(gross) or not np.isfinite(benefit):
        raise ValueError(f"gross capital and benefit must be finite, got {gross}, {benefit}")
    net_modelled = gross - benefit
    floor = (1.0 - cap) * gross
    net = max(net_modelled, floor)
    return CapResult(gross=gross, benefit=benefit, cap=cap, net_modelled=net_modelled,
                     floor=floor, net=net, recognised_benefit=gross - net,
                     binds=bool(net_modelled < floor))


# -- copula aggregation ----------------------------------------------------------------------

def _correlation(correlation: Any, names: Sequence[str]) -> np.ndarray:
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


def copula_totals(gross: Mapping[str, np.ndarray], net: Mapping[str, np.ndarray],
                  correlation: Any, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Annual gross and net totals under a Gaussian copula between event types.

    Each event type's simulated years are reordered so that their gross-loss ranks follow
    the ranks of a correlated normal sample (same ``seed`` → same reordering); a year's
    gross and net losses move together, so the net marginals are kept as simulated.
    """
    names = list(gross)
    c = _correlation(correlation, names)
    w, v = np.linalg.eigh(c)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    n = len(next(iter(gross.values())))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    z = rng.standard_normal((n, len(names))) @ root.T
    g_tot, n_tot = np.zeros(n), np.zeros(n)
    for j, name in enumerate(names):
        ranks = np.empty(n, dtype=np.int64)
        ranks[np.argsort(z[:, j], kind="stable")] = np.arange(n)
        years = np.argsort(gross[name], kind="stable")[ranks]
        g_tot += np.asarray(gross[name])[years]
        n_tot += np.asarray(net[name])[years]
    return g_tot, n_tot


# -- AMA capital summary ---------------------------------------------------------------------

@dataclass(frozen=True)
class CapitalSummary:
    """Result of :func:`capital_summary`.

    ``by_event_type``: one row per event type (mean, VaR and ES with standard errors,
    gross and net; capital gross/net, modelled benefit, recognised benefit after the cap
    allocated pro rata to the stand-alone benefits). ``totals``: one row per aggregation
    method with the cap applied. ``cap``: the :class:`CapResult` of the chosen
    ``aggregation``. ``by_policy``: relief allocated to policies (see
    :func:`capital_summary`), empty without a programme result.
    """

    alpha: float
    aggregation: str
    el_offset: bool
    by_event_type: pd.DataFrame
    totals: pd.DataFrame
    cap: CapResult
    by_policy: pd.DataFrame


def _measures(x: np.ndarray, alpha: float) -> dict[str, float]:
    v, v_se = var_with_se(x, alpha)
    e, e_se = es_with_se(x, alpha)
    return {"el": float(np.mean(x)), "var": v, "var_se": v_se, "es": e, "es_se": e_se}


def _row(g: dict[str, float], n: dict[str, float], el_offset: bool, cap: float) -> dict:
    row = {f"gross_{k}": val for k, val in g.items()}
    row.update({f"net_{k}": val for k, val in n.items()})
    k_g = g["var"] - (g["el"] if el_offset else 0.0)
    k_n = n["var"] - (n["el"] if el_offset else 0.0)
    res = apply_cap(k_g, k_g - k_n, cap=cap)
    row.update(capital_gross=k_g, capital_net_modelled=k_n, benefit=res.benefit,
               capital_net=res.net, recognised_benefit=res.recognised_benefit,
               cap_binds=res.binds)
    return row


def _split(result: Any) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Gross and net annual losses by event type from a ProgrammeResult or SimulatedLosses."""
    if hasattr(result, "annual_net_by_event_type"):
        return dict(result.gross_by_event_type), result.annual_net_by_event_type
    gross = result.by_event_type()
    return gross, dict(gross)


def capital_summary(result: Any, *, alpha: float = 0.999, aggregation: Aggregation = "sum",
                    correlation: Any = None, el_offset: bool = False,
                    cap: float = BASEL_CAP, seed: int = 0) -> CapitalSummary:
    """Capital gross and net of insurance by event type and in total, with the 20% cap.

    Parameters
    ----------
    result : ProgrammeResult or SimulatedLosses
        A :func:`opwb.insurance.apply.apply_programme` result (gross and net), or a simulation
        alone (net = gross).
    alpha : float
        VaR / ES level (Basel: 0.999).
    aggregation : {"sum", "independent", "copula"}
        Total whose capital the cap and the relief allocation use (all available methods
        are reported in ``totals``; "copula" needs ``correlation``).
    correlation : array or DataFrame, optional
        Correlation matrix between event types (order of ``result.event_types`` or
        labelled rows/columns); enables the "copula" total.
    el_offset : bool
        Capital = VaR − EL (EL covered by provisions or pricing); default VaR.
    cap : float
        Maximum relief as a share of gross capital (Basel: 0.2).
    seed : int
        Seed of the copula reordering.

    Notes
    -----
    Standard errors of the "sum" row combine the event types' as independent errors
    (root sum of squares). Relief by policy: the recognised relief of the chosen total is
    allocated pro rata to each policy's mean recognised recovery in the tail years (the
    ``1 - alpha`` share of years with the largest total gross loss), a
    tail-conditional (Euler-type) contribution.
    """
    if aggregation == "copula" and correlation is None:
        raise ValueError("aggregation='copula' needs a correlation matrix")
    gross, net = _split(result)
    rows = {et: _row(_measures(gross[et], alpha), _measures(net[et], alpha), el_offset, cap)
            for et in gross}
    by_et = pd.DataFrame.from_dict(rows, orient="index")
    by_et.index.name = "event_type"
    totals = {"sum": _sum_row(by_et, el_offset, cap)}
    g_tot = np.sum(list(gross.values()), axis=0)
    n_tot = np.sum(list(net.values()), axis=0)
    totals["independent"] = _row(_measures(g_tot, alpha), _measures(n_tot, alpha), el_offset, cap)
    if correlation is not None:
        g_c, n_c = copula_totals(gross, net, correlation, seed=seed)
        totals["copula"] = _row(_measures(g_c, alpha), _measures(n_c, alpha), el_offset, cap)
    totals_df = pd.DataFrame.from_dict(totals, orient="index")
    totals_df.index.name = "aggregation"
    chosen = totals_df.loc[aggregation]
    cap_res = apply_cap(chosen["capital_gross"], chosen["benefit"], cap=cap)
    share = cap_res.recognised_benefit / cap_res.benefit if cap_res.benefit > 0 else 0.0
    by_et["recognised_benefit"] = by_et["benefit"].clip(lower=0.0) * share
    by_et["capital_net"] = by_et["capital_gross"] - by_et["recognised_benefit"]
    by_policy = _relief_by_policy(result, g_tot, alpha, cap_res.recognised_benefit)
    return CapitalSummary(alpha=alpha, aggregation=aggregation, el_offset=el_offset,
                          by_event_type=by_et, totals=totals_df, cap=cap_res,
                          by_policy=by_policy)


def _sum_row(by_et: pd.DataFrame, el_offset: bool, cap: float) -> dict:
    g = {k: by_et[f"gross_{k}"].sum() for k in ("el", "var", "es")}
    n = {k: by_et[f"net_{k}"].sum() for k in ("el", "var", "es")}
    for side, d in (("gross", g), ("net", n)):
        for k in ("var", "es"):
            d[f"{k}_se"] = float(np.sqrt((by_et[f"{side}_{k}_se"] ** 2).sum()))
    order = ("el", "var", "var_se", "es", "es_se")
    return _row({k: g[k] for k in order}, {k: n[k] for k in order}, el_offset, cap)


def _relief_by_policy(result: Any, g_tot: np.ndarray, alpha: float,
                      relief: float) -> pd.DataFrame:
    cols = ["policy_id", "expected_ceded", "expected_recovery", "tail_recovery", "share",
            "relief"]
    if not hasattr(result, "recovery_by_policy") or not result.policy_ids:
        return pd.DataFrame(columns=cols)
    k = max(1, int(math.ceil(g_tot.size * (1.0 - alpha) - 1e-9)))
    tail = np.argpartition(g_tot, g_tot.size - k)[g_tot.size - k:]
    rows = []
    for pid in result.policy_ids:
        rec = result.recovery_by_policy[pid]
        rows.append({"policy_id": pid, "expected_ceded": result.ceded_by_policy[pid].mean(),
                     "expected_recovery": rec.mean(), "tail_recovery": rec[tail].mean()})
    df = pd.DataFrame(rows, columns=cols[:4])
    total = df["tail_recovery"].sum()
    df["share"] = df["tail_recovery"] / total if total > 0 else 0.0
    df["relief"] = df["share"] * relief
    return df.set_index("policy_id")
