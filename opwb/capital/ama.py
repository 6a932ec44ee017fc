"""Operational-risk capital gross and net of insurance (Basel AMA), with standard errors.

AMA: capital is the ``alpha`` = 99.9% one-year VaR of annual losses (optionally minus the
expected loss when it is covered by provisions or pricing), per event type and in total:

- ``"sum"``: the Basel default, sum of the stand-alone event-type figures;
- ``"independent"``: VaR of the simulated total (cells are simulated independently);
- ``"copula"``: a Gaussian copula with a user correlation matrix between event types
  (:mod:`opwb.capital.copula`);
- ``"t_copula"``: a Student-t copula with the same correlation matrix and ``df`` = ν degrees
  of freedom (tail dependence: event types' bad years come together; ν = ∞ is the
  Gaussian copula; :func:`opwb.capital.copula.t_tail_dependence`).

Insurance relief is capped at 20% of gross capital (Basel II para 677; qualifying standards
paras 678-679): ``K_net = max(K_gross - benefit, 0.8 K_gross)`` (:func:`apply_cap`). The
chosen total's capital and relief are allocated to event types and policies so that they
add up (:mod:`opwb.capital.allocation`); every figure carries its Monte Carlo standard error
(:mod:`opwb.capital.influence`).

The Basel III standardised approach, for comparison, is :mod:`opwb.capital.standardised`.

Examples
--------
>>> apply_cap(100.0, 30.0).net, apply_cap(100.0, 30.0).binds
(80.0, True)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.capital.allocation import POLICY_COLUMNS, policy_relief, policy_split
from opwb.capital.copula import check_df, copula_orders, copula_totals
from opwb.capital.influence import (
    Linearised,
    allocate,
    capital_linearised,
    mean_linearised,
    rss,
)
from opwb.engine.riskmeasures import es_with_se, var_with_se

__all__ = [
    "Aggregation",
    "CapResult",
    "CapitalSummary",
    "apply_cap",
    "capital_summary",
    "copula_totals",
]


Aggregation = Literal["sum", "independent", "copula", "t_copula"]
AGGREGATIONS: tuple[str, ...] = ("sum", "independent", "copula", "t_copula")

#: Maximum insurance relief as a share of gross capital (Basel II para 677).
BASEL_CAP = 0.2


@dataclass(frozen=True)
class CapResult:
    """The 20% cap on insurance relief (amounts in KRW; ``cap`` a fraction).

    ``gross`` capital, modelled ``benefit`` (gross − net capital), ``floor`` =
    ``(1 - cap) · gross``, ``net`` = ``max(net_modelled, floor)``, ``recognised_benefit`` =
    ``gross - net``; ``binds`` when the cap reduces the recognised benefit.
    """

    gross: float
    benefit: float
    cap: float
    net_modelled: float
    floor: float
    net: float
    recognised_benefit: float
    binds: bool


def apply_cap(gross: float, benefit: float, *, cap: float = BASEL_CAP) -> CapResult:
    """Net capital with insurance relief capped at ``cap`` of gross capital (Basel II 677).

    ``net = max(gross - benefit, (1 - cap) * gross)``; ``binds`` is True when the cap
    reduces the recognised benefit.

    Parameters
    ----------
    gross, benefit : float
        Gross capital and modelled benefit, KRW.
    cap : float
        Maximum relief as a fraction of gross capital (Basel: 0.2).

    Raises
    ------
    ValueError
        ``cap`` outside [0, 1], or a non-finite amount.

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


@dataclass(frozen=True)
class CapitalSummary:
    """Result of :func:`capital_summary` (amounts in KRW, every figure with ``_se``).

    ``by_event_type``: one row per event type: stand-alone measures (``gross_el``,
    ``gross_var``, ``gross_es``, ``net_*``); stand-alone capital (``standalone_capital_gross``,
    ``standalone_capital_net_modelled``, ``standalone_benefit``); the chosen total
    allocated (``capital_gross``, ``capital_net_modelled``, ``benefit``,
    ``recognised_benefit``, ``capital_net``: each column sums to ``totals.loc[aggregation]``);
    the allocation weights ``gross_weight`` and ``benefit_weight``. ``totals``: one row per
    aggregation method with the cap applied. ``cap``: the :class:`CapResult` of the chosen
    ``aggregation``. ``by_policy``: benefit and relief by policy (summing to the total),
    empty without a programme result; ``policy_split``: each policy's share of each event
    type's relief and its basis. ``df``: the t copula's degrees of freedom (None: no
    ``"t_copula"`` row).
    """

    alpha: float
    aggregation: str
    el_offset: bool
    by_event_type: pd.DataFrame
    totals: pd.DataFrame
    cap: CapResult
    by_policy: pd.DataFrame
    policy_split: pd.DataFrame
    df: float | None = None

    @property
    def total(self) -> pd.Series:
        """The chosen aggregation's row of ``totals``."""
        return self.totals.loc[self.aggregation]


@dataclass(frozen=True)
class _Figures:
    """Capital figures of one gross/net pair of annual-loss samples (same years)."""

    measures: dict[str, float]
    k_gross: Linearised
    k_net: Linearised

    @property
    def benefit(self) -> Linearised:
        return self.k_gross - self.k_net


def _measures(x: np.ndarray, alpha: float) -> dict[str, float]:
    m = mean_linearised(x)
    v, v_se = var_with_se(x, alpha)
    e, e_se = es_with_se(x, alpha)
    return {"el": m.value, "el_se": m.se, "var": v, "var_se": v_se, "es": e, "es_se": e_se}


def _figures(g: np.ndarray, n: np.ndarray, alpha: float, el_offset: bool) -> _Figures:
    meas = {f"gross_{k}": v for k, v in _measures(g, alpha).items()}
    meas.update({f"net_{k}": v for k, v in _measures(n, alpha).items()})
    return _Figures(meas, capital_linearised(g, alpha, el_offset),
                    capital_linearised(n, alpha, el_offset))


def _capped(kg: Linearised, b: Linearised,
            cap: float) -> tuple[CapResult, Linearised, Linearised]:
    """The cap applied to estimates: (result, net capital, recognised benefit).

    Standard errors are those of the branch that applies (the kink is not smoothed).
    """
    res = apply_cap(kg.value, b.value, cap=cap)
    if res.binds:
        return res, (1.0 - cap) * kg, cap * kg
    return res, kg - b, b


def _total_row(fig: _Figures, cap: float, ses: dict[str, float] | None = None) -> dict:
    """A row of ``totals``; ``ses`` (capital_gross, capital_net_modelled, benefit) replaces
    the capital standard errors, as for the "sum" total (independent errors)."""
    kg, kn, b = fig.k_gross, fig.k_net, fig.benefit
    res, net, rec = _capped(kg, b, cap)
    if ses is None:
        se = {"capital_gross": kg.se, "capital_net_modelled": kn.se, "benefit": b.se,
              "capital_net": net.se, "recognised_benefit": rec.se}
    else:
        binds = res.binds
        se = {**ses,
              "capital_net": (1 - cap) * ses["capital_gross"] if binds
              else ses["capital_net_modelled"],
              "recognised_benefit": cap * ses["capital_gross"] if binds else ses["benefit"]}
    row = dict(fig.measures)
    for name, value in (("capital_gross", kg.value), ("capital_net_modelled", kn.value),
                        ("benefit", b.value), ("capital_net", res.net),
                        ("recognised_benefit", res.recognised_benefit)):
        row[name], row[f"{name}_se"] = value, se[name]
    row["cap_binds"] = res.binds
    return row


def _sum_figures(figs: dict[str, _Figures]) -> tuple[_Figures, dict[str, float]]:
    """The "sum" total: figures added year by year, errors combined as independent."""
    parts = list(figs.values())
    meas = {}
    for key in parts[0].measures:
        vals = [f.measures[key] for f in parts]
        meas[key] = rss(vals) if key.endswith("_se") else float(sum(vals))
    kg = sum((f.k_gross for f in parts[1:]), parts[0].k_gross)
    kn = sum((f.k_net for f in parts[1:]), parts[0].k_net)
    ses = {"capital_gross": rss([f.k_gross.se for f in parts]),
           "capital_net_modelled": rss([f.k_net.se for f in parts]),
           "benefit": rss([f.benefit.se for f in parts])}
    return _Figures(meas, kg, kn), ses


def _split(result: Any) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Gross and net annual losses by event type from a ProgrammeResult or SimulatedLosses."""
    if hasattr(result, "annual_net_by_event_type"):
        return dict(result.gross_by_event_type), result.annual_net_by_event_type
    gross = result.by_event_type()
    return gross, dict(gross)


def capital_summary(result: Any, *, alpha: float = 0.999, aggregation: Aggregation = "sum",
                    correlation: Any = None, el_offset: bool = False,
                    cap: float = BASEL_CAP, seed: int = 0,
                    df: float | None = None) -> CapitalSummary:
    """Capital gross and net of insurance by event type, by policy and in total (KRW).

    Parameters
    ----------
    result : ProgrammeResult or SimulatedLosses
        A :func:`opwb.insurance.apply.apply_programme` result (gross and net), or a simulation
        alone (net = gross).
    alpha : float
        VaR / ES level, a fraction (Basel: 0.999).
    aggregation : {"sum", "independent", "copula", "t_copula"}
        The total whose capital the cap and the allocations use (every available method is
        reported in ``totals``; "copula" needs ``correlation``, "t_copula" also ``df``).
    correlation : array or DataFrame, optional
        Correlation matrix between event types (order of the result's event types, or
        labelled rows/columns); enables the "copula" total (and with ``df`` "t_copula").
    el_offset : bool
        Capital = VaR − EL (EL covered by provisions or pricing); default VaR.
    cap : float
        Maximum relief as a fraction of gross capital (Basel II para 677: 0.2).
    seed : int
        Seed of the copula reordering; both copulas share its normal draws
        (:mod:`opwb.capital.copula`).
    df : float, optional
        Degrees of freedom ν > 0 of the t copula (``np.inf``: the Gaussian copula's figures);
        with ``correlation`` enables the "t_copula" total.

    Returns
    -------
    CapitalSummary

    Raises
    ------
    ValueError
        Unknown ``aggregation``; "copula" without ``correlation``; "t_copula" without
        ``correlation`` or ``df``; an invalid correlation matrix or ``df``; stand-alone
        benefits that cannot carry the total's pro rata (they sum to zero, or to the
        opposite sign of the total: possible only with ``el_offset``).

    Notes
    -----
    Allocation (:mod:`opwb.capital.allocation`): the chosen total's gross capital to event
    types pro rata to their stand-alone gross capital, its modelled and recognised benefit
    pro rata to their stand-alone benefits; within an event type, to policies pro rata to
    their recognised recoveries in its tail years. Every allocated column adds up to the
    total for every aggregation; under "sum" the event-type figures are the stand-alone ones.

    Standard errors (:mod:`opwb.capital.influence`): VaR from order statistics
    (:func:`~opwb.engine.riskmeasures.var_with_se`), EL from the sample, ES as
    :func:`~opwb.engine.riskmeasures.es_with_se` gives it; the benefit is a difference of two
    VaRs of the same years, so its error is the paired (Bahadur) one, as
    :func:`~opwb.engine.riskmeasures.diff_var_with_se` (for a quota share ``c``: ``c``
    times the gross VaR's error); allocated figures by the delta method on the same years
    (for the copulas, conditional on the copula's latent draw); capital net and recognised
    benefit take the error of the cap branch that applies. The "sum" total combines the
    event types' errors as independent (root sum of squares); the policy split shares are
    treated as fixed. The paired error rests on the few years near the 99.9% quantile that
    change rank between gross and net: right on average over runs, but from one run it can
    be several times too small or too large when the benefit is small against the spacing
    of the simulated years there.
    """
    if aggregation not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {aggregation!r}")
    if aggregation in ("copula", "t_copula") and correlation is None:
        raise ValueError(f"aggregation={aggregation!r} needs a correlation matrix")
    if aggregation == "t_copula" and df is None:
        raise ValueError("aggregation='t_copula' needs the degrees of freedom df (> 0)")
    if df is not None:
        check_df(df)
    gross, net = _split(result)
    names = list(gross)
    figs = {et: _figures(gross[et], net[et], alpha, el_offset) for et in names}
    sum_fig, sum_ses = _sum_figures(figs)
    totals = {"sum": (sum_fig, _total_row(sum_fig, cap, sum_ses))}
    g_tot = np.sum([gross[et] for et in names], axis=0)
    n_tot = np.sum([net[et] for et in names], axis=0)
    ind = _figures(g_tot, n_tot, alpha, el_offset)
    totals["independent"] = (ind, _total_row(ind, cap))
    orders = {}
    for key, nu in (("copula", None), ("t_copula", df)):
        if correlation is None or (key == "t_copula" and df is None):
            continue
        orders[key] = o = copula_orders(gross, correlation, seed=seed, df=nu)
        cop = _figures(np.sum([gross[et][o[et]] for et in names], axis=0),
                       np.sum([net[et][o[et]] for et in names], axis=0), alpha, el_offset)
        totals[key] = (cop, _total_row(cop, cap))
    totals_df = pd.DataFrame.from_dict({k: row for k, (_, row) in totals.items()},
                                       orient="index")
    totals_df.index.name = "aggregation"
    chosen = totals[aggregation][0]
    if aggregation in orders:                    # stand-alone errors in the copula's rows
        o = orders[aggregation]
        figs_c = {et: _Figures(f.measures, f.k_gross.take(o[et]), f.k_net.take(o[et]))
                  for et, f in figs.items()}
    else:
        figs_c = figs
    cap_res, alloc = _allocate(chosen, figs_c, names, cap)
    by_et = _event_type_table(figs, alloc, names)
    if hasattr(result, "recovery_by_policy_event_type") and result.policy_ids:
        split = policy_split(result, gross, alpha)
        by_policy = policy_relief(result, split, names, alloc["benefit"],
                                  alloc["recognised_benefit"])
    else:
        split = pd.DataFrame(columns=["basis"], index=pd.Index([], name="event_type"))
        by_policy = pd.DataFrame(columns=POLICY_COLUMNS).set_index("policy_id")
    return CapitalSummary(alpha=alpha, aggregation=aggregation, el_offset=el_offset,
                          by_event_type=by_et, totals=totals_df, cap=cap_res,
                          by_policy=by_policy, policy_split=split,
                          df=None if df is None else float(df))


def _allocate(total: _Figures, figs: dict[str, _Figures], names: list[str],
              cap: float) -> tuple[CapResult, dict[str, list[Linearised]]]:
    """The chosen total's figures split over the event types (see the module docstring)."""
    res, _, rec = _capped(total.k_gross, total.benefit, cap)
    k_parts = [figs[et].k_gross for et in names]
    b_parts = [figs[et].benefit for et in names]
    gross = allocate(total.k_gross, k_parts, what="gross capital")
    benefit = allocate(total.benefit, b_parts, what="benefit")
    recognised = allocate(rec, b_parts, what="recognised benefit")
    return res, {
        "capital_gross": gross, "benefit": benefit, "recognised_benefit": recognised,
        "capital_net_modelled": [g - b for g, b in zip(gross, benefit)],
        "capital_net": [g - r for g, r in zip(gross, recognised)],
        "gross_weight": _weights(k_parts), "benefit_weight": _weights(b_parts),
    }


def _weights(parts: list[Linearised]) -> list[float]:
    s = sum(p.value for p in parts)
    return [p.value / s if s != 0 else 0.0 for p in parts]


def _event_type_table(figs: dict[str, _Figures], alloc: dict[str, list],
                      names: list[str]) -> pd.DataFrame:
    rows = {}
    for i, et in enumerate(names):
        f = figs[et]
        row = dict(f.measures)
        for name, e in (("standalone_capital_gross", f.k_gross),
                        ("standalone_capital_net_modelled", f.k_net),
                        ("standalone_benefit", f.benefit)):
            row[name], row[f"{name}_se"] = e.value, e.se
        for name in ("capital_gross", "capital_net_modelled", "benefit",
                     "recognised_benefit", "capital_net"):
            row[name], row[f"{name}_se"] = alloc[name][i].value, alloc[name][i].se
        row["gross_weight"] = alloc["gross_weight"][i]
        row["benefit_weight"] = alloc["benefit_weight"][i]
        rows[et] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "event_type"
    return out
