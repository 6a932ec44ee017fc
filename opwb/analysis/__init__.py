"""Descriptive analysis of loss data (notebook 01): tables, not models.

Owns the event type × business line tables, annual frequency and severity, the largest
losses, the frequency × impact strategy matrix (seed slide 1-3), claims per policy, the CD
incident's profile against the BBB layers, and internal versus external large losses. Pure
pandas/numpy; it may import only :mod:`opwb.data`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "claims_record", "layer_payout", "IncidentProfile", "incident_profile"
    ], "claims"),
    **dict.fromkeys(["external_comparison"], "external"),
    **dict.fromkeys(["Strategy", "STRATEGIES", "strategy_matrix"], "strategy"),
    **dict.fromkeys([
        "cell_summary", "cell_table", "observed_years", "observed_exposure", "annual_summary",
        "annual_table", "largest_losses"
    ], "tables"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
