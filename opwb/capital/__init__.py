"""Operational-risk capital gross and net of insurance.

Owns the AMA capital at 99.9% with its aggregation across event types and the 20% cap on
insurance relief (``ama``; Gaussian and Student-t copulas in ``copula``; the sum and both
copulas side by side in ``dependence``), the allocation of a total's capital
and relief to event types and policies (``allocation``), the Monte Carlo standard errors of
figures computed on the same simulated years (``influence``), the Basel III standardised
approach for comparison (``standardised``, its loss data set in ``sa_losses``), and the audit
table for validators (``audit``). It may import :mod:`opwb.data`, :mod:`opwb.engine` and
:mod:`opwb.insurance`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "Aggregation", "CapResult", "apply_cap", "CapitalSummary", "capital_summary"
    ], "ama"),
    **dict.fromkeys(["copula_totals", "copula_orders", "t_tail_dependence"], "copula"),
    **dict.fromkeys(["dependence_comparison"], "dependence"),
    **dict.fromkeys(["policy_split", "policy_relief"], "allocation"),
    **dict.fromkeys(["Linearised"], "influence"),
    **dict.fromkeys(["audit_table"], "audit"),
    **dict.fromkeys([
        "BIC_BUCKETS", "bic", "loss_component", "ilm", "SAResult", "standardised_approach"
    ], "standardised"),
    **dict.fromkeys(["SA_THRESHOLD_EUR", "LossDataSet", "loss_data_from_events",
                     "loss_data_from_annual"], "sa_losses"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
