"""Operational-risk capital gross and net of insurance.

Owns the AMA capital at 99.9% with its aggregation across event types and the 20% cap on
insurance relief (``ama``), the Basel III standardised approach for comparison
(``standardised``), and the audit table for validators (``audit``). It may import
:mod:`opwb.data`, :mod:`opwb.engine` and :mod:`opwb.insurance`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "Aggregation", "CapResult", "apply_cap", "copula_totals", "CapitalSummary",
        "capital_summary"
    ], "ama"),
    **dict.fromkeys(["audit_table"], "audit"),
    **dict.fromkeys([
        "BIC_BUCKETS", "bic", "loss_component", "ilm", "SAResult", "standardised_approach"
    ], "standardised"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
