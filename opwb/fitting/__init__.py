"""Frequency and severity models fitted above the collection threshold.

Owns the registry of severity families (``families``) and Tukey's g-and-h (``gandh``: its
quantile function and fast inversion; ``gandh_fit``: its maximum-likelihood search;
``gandh_limits``: the supremum of its unbounded ridge g → −∞), the batched optimiser, left-truncated maximum likelihood (``mle``), frequency fits (``frequency``),
truncation-aware goodness of fit with bootstrap p-values (``gof``), heavy-tail diagnostics
and the spliced body + GPD severity (``tail``), saved model sets (``modelset``), and the
external losses in a cell's severity fit by a weighted likelihood truncated at each
source's own threshold (``external``; Frachot & Roncalli 2002), the Bayesian combination of
internal data, external data and expert opinion — scenario
estimates included — with the weight of each source (``combination``, its frequency and severity halves in
``combination_frequency`` and ``combination_severity``; Lambrigger, Shevchenko & Wüthrich
2007), and a cell's model from the four AMA data elements — internal and external losses,
scenario estimates (posterior mode of LSW's normal expert model, the worst plausible loss as
the cap) and BEICF multipliers (``elements``). It may
import only :mod:`opwb.data`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["BatchResult", "minimize_batch", "stencil"], "_optimize"),
    **dict.fromkeys([
        "SeverityFamily", "RawSeverity", "SEVERITY_FAMILIES", "family_names", "get_family"
    ], "families"),
    **dict.fromkeys([
        "FrequencyFit", "fit_frequency", "dispersion_test", "implied_all_frequency",
        "annual_counts", "year_exposure"
    ], "frequency"),
    **dict.fromkeys([
        "gh_quantile", "gh_dquantile", "gh_z", "gh_zd", "gh_logpdf", "gh_logsf", "gh_isf"
    ], "gandh"),
    **dict.fromkeys([
        "DEFAULT_N_BOOT", "MIN_USABLE_SHARE", "min_usable", "GofResult", "gof_statistics",
        "gof_test", "conditional_logsf", "fit_all", "comparison_table", "evaluable",
        "TABLE_COLUMNS", "qq_data", "pp_data"
    ], "gof"),
    **dict.fromkeys([
        "FLAT", "Limit", "family_limits", "assess", "Assessment", "STATUSES", "GANDH_EDGE",
        "RECORDING_UNIT", "gandh_ridge", "shifted_pareto_loglik"
    ], "identification"),
    **dict.fromkeys([
        "SeverityFit", "fit_severity", "truncated_loglik", "check_losses", "batch_negloglik",
        "fit_batch", "scaled_data"
    ], "mle"),
    **dict.fromkeys([
        "CellFit", "ModelSet", "choose_family", "fit_model_set", "save_model_set",
        "load_model_set", "model_set_doc", "model_set_from_doc", "models_for",
        "losses_fingerprint", "DEFAULT_MODEL_FILE", "BUNDLED_MODEL_FILES", "TAIL_TEST_LEVEL"
    ], "modelset"),
    **dict.fromkeys([
        "SourceWeights", "GammaPrior", "ExpertRate", "FrequencyPosterior", "combine_frequency",
        "NormalPrior", "ExpertMu", "SeverityPosterior", "combine_severity", "scenario_rate",
        "scenario_mu", "exceedance_rate", "expert_opinions", "CombinedCell"
    ], "combination"),
    **dict.fromkeys([
        "ELEMENTS", "ELEMENT_NAMES_KO", "ElementSettings", "ScenarioCombination", "ElementCell",
        "scenario_fit", "element_cells", "element_variants", "element_steps", "source_table"
    ], "elements"),
    **dict.fromkeys([
        "MixedSeverityFit", "fit_severity_mixed", "mixed_loglik", "external_sample"
    ], "external"),
    **dict.fromkeys([
        "mean_excess", "hill", "gpd_stability", "ThresholdSuggestion", "suggest_threshold",
        "SplicedSeverity", "splice"
    ], "tail"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
