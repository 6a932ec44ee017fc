"""The capital audit table: economic and regulatory views of the programme, event type by
event type and policy by policy, with eligibility and haircuts, for the validator's file.

Every additive column of the event-type table sums to its ``TOTAL`` row for every
aggregation, and the policies' relief sums to the total recognised benefit (allocation
rules: :mod:`opwb.capital.allocation`).
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from opwb.capital.ama import BASEL_CAP, Aggregation, capital_summary

__all__ = ["ADDITIVE_COLUMNS", "audit_table"]

#: Columns of the event-type table whose event-type rows sum to the ``TOTAL`` row (KRW).
ADDITIVE_COLUMNS: tuple[str, ...] = (
    "gross_loss_mean", "ceded_mean", "recognised_mean", "standalone_capital_gross",
    "standalone_benefit", "capital_gross", "capital_net_economic", "capital_net_modelled",
    "benefit", "recognised_benefit", "capital_net",
)
_SE_COLUMNS = ("capital_gross_se", "benefit_se", "recognised_benefit_se", "capital_net_se")


def audit_table(economic: Any, regulatory: Any, *, eligibility: pd.DataFrame | None = None,
                alpha: float = 0.999, aggregation: Aggregation = "sum",
                correlation: Any = None, el_offset: bool = False, cap: float = BASEL_CAP,
                seed: int = 0) -> dict[str, pd.DataFrame]:
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
        allocated to the event types (:data:`ADDITIVE_COLUMNS` sum to ``TOTAL``); standard
        errors ``*_se`` (not additive; ``TOTAL`` holds the total's). ``"policies"``: per
        policy: eligibility, haircut, mean ceded and recognised recovery, allocated benefit
        and relief (summing to the total recognised benefit) with its standard error and
        share. ``"cap"``: one row with the cap test.

    Raises
    ------
    ValueError
        As :func:`opwb.capital.ama.capital_summary`.
    """
    kw = {"alpha": alpha, "aggregation": aggregation, "correlation": correlation,
          "el_offset": el_offset, "cap": cap, "seed": seed}
    eco, reg = capital_summary(economic, **kw), capital_summary(regulatory, **kw)
    r_et, e_et = reg.by_event_type, eco.by_event_type
    ceded = {et: x.mean() for et, x in economic.ceded_by_event_type.items()}
    recog = {et: x.mean() for et, x in regulatory.recovery_by_event_type.items()}
    et = pd.DataFrame({
        "gross_loss_mean": r_et["gross_el"],
        "ceded_mean": pd.Series(ceded), "recognised_mean": pd.Series(recog),
        "standalone_capital_gross": r_et["standalone_capital_gross"],
        "standalone_benefit": r_et["standalone_benefit"],
        "capital_gross": r_et["capital_gross"], "capital_gross_se": r_et["capital_gross_se"],
        "capital_net_economic": e_et["capital_net_modelled"],
        "capital_net_modelled": r_et["capital_net_modelled"],
        "benefit": r_et["benefit"], "benefit_se": r_et["benefit_se"],
        "recognised_benefit": r_et["recognised_benefit"],
        "recognised_benefit_se": r_et["recognised_benefit_se"],
        "capital_net": r_et["capital_net"], "capital_net_se": r_et["capital_net_se"],
    })
    tot, basel_sum, eco_tot = reg.total, reg.totals.loc["sum"], eco.total
    et.loc["TOTAL"] = pd.Series({
        "gross_loss_mean": tot["gross_el"], "ceded_mean": sum(ceded.values()),
        "recognised_mean": sum(recog.values()),
        "standalone_capital_gross": basel_sum["capital_gross"],
        "standalone_benefit": basel_sum["benefit"],
        "capital_net_economic": eco_tot["capital_net_modelled"],
        **{c: tot[c] for c in ("capital_gross", "capital_net_modelled", "benefit",
                               "recognised_benefit", "capital_net", *_SE_COLUMNS)},
    })
    et.index.name = "event_type"
    pol = pd.DataFrame({
        "ceded_mean": {p: economic.ceded_by_policy[p].mean() for p in economic.policy_ids},
        "recovery_economic_mean": {p: economic.recovery_by_policy[p].mean()
                                   for p in economic.policy_ids},
        "recognised_mean": {p: regulatory.recovery_by_policy[p].mean()
                            for p in regulatory.policy_ids},
    })
    pol = pol.join(reg.by_policy[["benefit", "relief", "relief_se", "share"]])
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
