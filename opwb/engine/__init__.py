"""The aggregate-loss engines: annual losses from frequency and severity, and their risk measures.

Owns the Monte Carlo simulation keyed to (cell, block of years) random streams
(``simulate``, with its kernel ``_blocks``), its work units cut by expected events and its
memory estimated before it starts (``memory``), running its work units in process, on pools
or on a Dask cluster (``executors``), the adapters from fits and scipy distributions to
what the engines draw from (``distributions``), the compound distribution by FFT
(``fft``), the single-loss approximation and the cross-method check (``crosscheck``), and
VaR / ES with their Monte Carlo standard errors (``riskmeasures``), a keyed year bootstrap of
figures read from their largest years (``bootstrap``). It may import :mod:`opwb.data` and
:mod:`opwb.fitting`; it knows nothing of insurance contracts beyond a policy's ``recover``.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "NO_ES", "CompoundDistribution", "CompoundMeasures", "step_error"
    ], "compound"),
    **dict.fromkeys(["cross_method_table", "sla_var"], "crosscheck"),
    **dict.fromkeys([
        "frequency_distribution", "frequency_mean", "severity_distribution", "resolve_threshold",
        "survival_at", "CappedSeverity", "capped", "finite_mean_of", "check_cap"
    ], "distributions"),
    **dict.fromkeys(["compound_fft"], "fft"),
    **dict.fromkeys([
        "LIGHT_XI", "MIN_EXCEEDANCES", "MIN_TAIL", "Estimate", "TailFit", "check_sample",
        "fit_tail", "kth_smallest", "light_differences", "n_exceedances", "order_ranks",
        "quantile_rank", "require_tail", "sample_es", "sample_var", "tail_count", "tail_note",
        "tail_share", "years_needed"
    ], "precision"),
    **dict.fromkeys([
        "diff_es_with_se", "diff_estimate", "diff_mean_with_se", "diff_var_with_se", "es",
        "es_estimate", "es_interval", "es_with_se", "mean_with_se", "risk_summary", "var",
        "var_estimate", "var_interval", "var_with_se"
    ], "riskmeasures"),
    **dict.fromkeys([
        "BLOCK_YEARS", "STREAM_VERSION", "CellModel", "CellEvents", "SimulatedLosses",
        "simulate_losses", "simulation_tasks", "LossCollector", "annual_retained"
    ], "simulate"),
    **dict.fromkeys(["run_tasks", "check_client"], "executors"),
    **dict.fromkeys([
        "UNIT_EVENTS", "SimulationPlan", "SimulationTooLarge", "plan_simulation", "plan_units",
        "available_memory", "check_memory"
    ], "memory"),
    **dict.fromkeys(["event_uniforms", "stream_key"], "streams"),
    **dict.fromkeys([
        "NeedFullSample", "Candidates", "TopYears", "SparseBlock", "candidates", "var_with_se_top",
        "es_top", "diff_var_top", "var_with_se_sparse", "es_sparse", "diff_var_sparse",
        "sparse_means"
    ], "topyears"),
    **dict.fromkeys([
        "BOOTSTRAP_REPLICATES", "YearWeights", "bootstrap_se", "mean_replicates",
        "quantile_replicates", "top_rank", "var_replicates"
    ], "bootstrap"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
