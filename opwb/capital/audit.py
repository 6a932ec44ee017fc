"""The capital audit table: economic and regulatory views of the programme, event type by
event type and policy by policy, with eligibility and haircuts, for the validator's file.

Every additive column of the event-type table sums to its ``TOTAL`` row for every
aggregation, and the policies' relief sums to the total recognised benefit (allocation
rules: :mod:`opwb.capital.allocation`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from opwb.capital.ama import BASEL_CAP, Aggregation, capital_summary

__all__ = ["ADDITIVE_COLUMNS", "audit_table"]

#: Columns of the event-type table whose event-type rows sum to the ``TOTAL`` row (KRW).
ADDITIVE_COLUMNS: tuple[str, ...] = (
    "gross_loss_mean", "ceded_mean", "recognised_mean", "standalone_capital_gross",
    "standalone_benefit", "capital_gross", "capital_net_economic", "capital_net_modelled",
    "benefit", "recognised_benefit", "capital_net",
)


def audit_table(economic: Any, regulatory: Any, *, eligibility: pd.DataFrame | None = None,
                alpha: float = 0.999, aggregation: Aggregation = "sum",
                correlation: Any = None, el_offset: bool = False, cap: float = BASEL_CAP,
                seed: int = 0, df: float | None = None) -> dict[str, pd.DataFrame]:
    """The seed's audit trail of insurance relief, by event type and by policy (KRW).

    Parameters
    ----------
    economic, regulatory : ProgrammeResult
        The two views from :func:`opwb.insurance.eligibility.apply_views` (same simulation
        and seed).
    eligibility : DataFrame, optional
        :func:`opwb.insurance.eligibility.eligibility_table` output, joined to the policy
        table.
    Other parameters as in :func:`opwb.capital.ama.capital_summary`.

    Returns
    -------
    dict of DataFrame
        ``"event_types"``: per event type and a ``TOTAL`` row (the chosen aggregation):
        mean annual gross loss, ceded (contractual) and recognised recovery; stand-alone
        gross capital and benefit (their ``TOTAL`` is the "sum" aggregation's); the chosen
        total's gross capital, economic-view net capital, modelled regulatory net capital,
        benefit, recognised benefit after the 20% cap (Basel II para 677) and net capital,
        allocated to the event types (:data:`ADDITIVE_COLUMNS` sum to ``TOTAL``); every
        figure's Monte Carlo standard error in ``<column>_se`` (not additive; ``TOTAL``
        holds the total's; means: the sample error of the annual amounts). ``"policies"``:
        per policy: eligibility, haircut, mean ceded and recognised recovery (economic and
        regulatory view), allocated benefit and relief (summing to the total recognised
        benefit), each with its standard error, and the relief's share. ``"cap"``: one row
        with the cap test.

    Raises
    ------
    ValueError
        As :func:`opwb.capital.ama.capital_summary`.
    """
    kw = {"alpha": alpha, "aggregation": aggregation, "correlation": correlation,
          "el_offset": el_offset, "cap": cap, "seed": seed, "df": df}
    eco, reg = capital_summary(economic, **kw), capital_summary(regulatory, **kw)
    r_et, e_et = reg.by_event_type, eco.by_event_type
    ceded = _means(economic.ceded_by_event_type, "ceded")
    recog = _means(regulatory.recovery_by_event_type, "recognised")
    et = pd.DataFrame({
        "gross_loss_mean": r_et["gross_el"], "gross_loss_mean_se": r_et["gross_el_se"],
        **ceded, **recog,
        **_with_se(r_et, "standalone_capital_gross", "standalone_capital_gross"),
        **_with_se(r_et, "standalone_benefit", "standalone_benefit"),
        **_with_se(r_et, "capital_gross", "capital_gross"),
        **_with_se(e_et, "capital_net_economic", "capital_net_modelled"),
        **_with_se(r_et, "capital_net_modelled", "capital_net_modelled"),
        **_with_se(r_et, "benefit", "benefit"),
        **_with_se(r_et, "recognised_benefit", "recognised_benefit"),
        **_with_se(r_et, "capital_net", "capital_net"),
    })
    tot, basel_sum, eco_tot = reg.total, reg.totals.loc["sum"], eco.total
    ceded_tot = _mean_se(sum(economic.ceded_by_event_type.values()))
    recog_tot = _mean_se(sum(regulatory.recovery_by_event_type.values()))
    et.loc["TOTAL"] = pd.Series({
        "gross_loss_mean": tot["gross_el"], "gross_loss_mean_se": tot["gross_el_se"],
        "ceded_mean": float(ceded["ceded_mean"].sum()), "ceded_mean_se": ceded_tot[1],
        "recognised_mean": float(recog["recognised_mean"].sum()),
        "recognised_mean_se": recog_tot[1],
        **_with_se(basel_sum, "standalone_capital_gross", "capital_gross"),
        **_with_se(basel_sum, "standalone_benefit", "benefit"),
        **_with_se(eco_tot, "capital_net_economic", "capital_net_modelled"),
        **{c: tot[c] for c in ("capital_gross", "capital_net_modelled", "benefit",
                               "recognised_benefit", "capital_net")},
        **{f"{c}_se": tot[f"{c}_se"] for c in ("capital_gross", "capital_net_modelled",
                                               "benefit", "recognised_benefit",
                                               "capital_net")},
    })
    et.index.name = "event_type"
    pol = pd.DataFrame({**_means(economic.ceded_by_policy, "ceded"),
                        **_means(economic.recovery_by_policy, "recovery_economic"),
                        **_means(regulatory.recovery_by_policy, "recognised")})
    pol = pol.join(reg.by_policy[["benefit", "benefit_se", "relief", "relief_se", "share"]])
    pol.index.name = "policy_id"
    if eligibility is not None:
        cols = ["name", "insurer", "insurer_rating", "eligible", "reasons", "haircut",
                "recognition"]
        pol = eligibility.set_index("policy_id")[cols].join(pol, how="right")
    c = reg.cap
    cap_df = pd.DataFrame([{"aggregation": aggregation, "capital_gross": c.gross,
                            "benefit": c.benefit, "floor": c.floor,
                            "recognised_benefit": c.recognised_benefit,
                            "capital_net": c.net, "cap_binds": c.binds}])
    return {"event_types": et, "policies": pol, "cap": cap_df}


def _mean_se(x: Any) -> tuple[float, float]:
    """Mean of annual amounts and its standard error ``sd / sqrt(n)`` (sample standard
    deviation, as :func:`opwb.scenarios.evaluate` gives the expected recovery's), KRW."""
    a = np.asarray(x, dtype=float)
    se = float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else math.nan
    return float(a.mean()), se


def _means(arrays: Any, name: str) -> dict[str, pd.Series]:
    """``{name_mean: ..., name_mean_se: ...}`` over a mapping of annual arrays."""
    pairs = {k: _mean_se(x) for k, x in arrays.items()}
    return {f"{name}_mean": pd.Series({k: m for k, (m, _) in pairs.items()}, dtype=float),
            f"{name}_mean_se": pd.Series({k: s for k, (_, s) in pairs.items()}, dtype=float)}


def _with_se(frame: Any, name: str, source: str) -> dict[str, Any]:
    """``{name: frame[source], name_se: frame[source_se]}`` (a table's column or a row's)."""
    return {name: frame[source], f"{name}_se": frame[f"{source}_se"]}
