"""The capital audit table: economic and regulatory views of the programme, policy by
policy, with eligibility and haircuts, for the validator's file.
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from opwb.capital.ama import BASEL_CAP, Aggregation, capital_summary

__all__ = ["audit_table"]


# -- audit table: gross → ceded → recognised → net capital ------------------------------------

def audit_table(economic: Any, regulatory: Any, *, eligibility: pd.DataFrame | None = None,
                alpha: float = 0.999, aggregation: Aggregation = "sum",
                correlation: Any = None, el_offset: bool = False, cap: float = BASEL_CAP,
                seed: int = 0) -> dict[str, pd.DataFrame]:
    """The seed's audit trail of insurance relief, by event type and by policy (KRW).

    Parameters
    ----------
    economic, regulatory : ProgrammeResult
        The two views from :func:`opwb.insurance.eligibility.apply_views` (same simulation and seed).
    eligibility : DataFrame, optional
        :func:`opwb.insurance.eligibility.eligibility_table` output, joined to the policy table.
    Other parameters as in :func:`capital_summary`.

    Returns
    -------
    dict of DataFrame
        ``"event_types"``: per event type and a ``TOTAL`` row (chosen aggregation): mean
        annual gross loss, ceded (contractual) and recognised recovery, gross capital, net
        capital in the economic view, modelled regulatory net capital, benefit, benefit
        recognised after the cap, net capital. ``"policies"``: per policy: eligibility,
        haircut, mean ceded and recognised recovery, capital relief (allocated as in
        :func:`capital_summary`). ``"cap"``: one row with the cap test.
    """
    kw = dict(alpha=alpha, aggregation=aggregation, correlation=correlation,
              el_offset=el_offset, cap=cap, seed=seed)
    eco, reg = capital_summary(economic, **kw), capital_summary(regulatory, **kw)
    ceded = {et: x.mean() for et, x in economic.ceded_by_event_type.items()}
    recog = {et: x.mean() for et, x in regulatory.recovery_by_event_type.items()}
    et = pd.DataFrame({
        "gross_loss_mean": reg.by_event_type["gross_el"],
        "ceded_mean": pd.Series(ceded), "recognised_mean": pd.Series(recog),
        "capital_gross": reg.by_event_type["capital_gross"],
        "capital_net_economic": eco.by_event_type["capital_net_modelled"],
        "capital_net_modelled": reg.by_event_type["capital_net_modelled"],
        "benefit": reg.by_event_type["benefit"],
        "recognised_benefit": reg.by_event_type["recognised_benefit"],
        "capital_net": reg.by_event_type["capital_net"],
    })
    tot, eco_tot = reg.totals.loc[aggregation], eco.totals.loc[aggregation]
    et.loc["TOTAL"] = [tot["gross_el"], sum(ceded.values()), sum(recog.values()),
                       reg.cap.gross, eco_tot["capital_net_modelled"], reg.cap.net_modelled,
                       reg.cap.benefit, reg.cap.recognised_benefit, reg.cap.net]
    et.index.name = "event_type"
    pol = pd.DataFrame({
        "ceded_mean": {p: economic.ceded_by_policy[p].mean() for p in economic.policy_ids},
        "recovery_economic_mean": {p: economic.recovery_by_policy[p].mean()
                                   for p in economic.policy_ids},
        "recognised_mean": {p: regulatory.recovery_by_policy[p].mean()
                            for p in regulatory.policy_ids},
        "relief": reg.by_policy["relief"] if len(reg.by_policy) else 0.0,
    })
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
