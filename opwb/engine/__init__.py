"""The aggregate-loss engines: annual losses from frequency and severity, and their risk measures.

Owns the Monte Carlo simulation keyed to (cell, block of years) random streams
(``simulate``), the adapters from fits and scipy distributions to what the engines draw
from (``distributions``), the compound distribution by FFT (``fft``), the single-loss
approximation and the cross-method check (``crosscheck``), and VaR / ES with their Monte
Carlo standard errors (``riskmeasures``). It may import :mod:`opwb.data` and
:mod:`opwb.fitting`; it knows nothing of insurance contracts beyond a policy's ``recover``.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["cross_method_table", "sla_var"], "crosscheck"),
    **dict.fromkeys([
        "frequency_distribution", "frequency_mean", "severity_distribution", "resolve_threshold",
        "survival_at", "CappedSeverity", "capped", "finite_mean_of", "check_cap"
    ], "distributions"),
    **dict.fromkeys(["CompoundDistribution", "compound_fft"], "fft"),
    **dict.fromkeys([
        "var", "es", "var_with_se", "es_with_se", "var_interval", "mean_with_se", "risk_summary"
    ], "riskmeasures"),
    **dict.fromkeys([
        "BLOCK_YEARS", "CellModel", "CellEvents", "SimulatedLosses", "simulate_losses",
        "annual_retained"
    ], "simulate"),
    **dict.fromkeys(["event_uniforms", "stream_key"], "streams"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
