"""BBB scenarios: one scenario base, many insurance alternatives, management's figures.

Owns the alternatives management chooses among (``alternatives``), the scenario base — fitted
cell models, one stored simulation and its settings, with or without the CD incident
(``base``) — and evaluating and comparing alternatives on it with common random numbers
(``evaluation``), and how far the figures move with the fitted parameters (parametric
bootstrap: ``uncertainty`` puts the worlds together into intervals; ``worlds`` holds one
world — the redraw rule ``refit_world`` by which every world's cells are refitted, no world
dropped, also used by the predictive model of :mod:`opwb.decision`, and running the worlds
in this process or on a Dask cluster), and capital from the four AMA data elements with each
left out (``elements``). It may
import every computing layer below it: :mod:`opwb.data`, :mod:`opwb.fitting`,
:mod:`opwb.engine`, :mod:`opwb.insurance` and :mod:`opwb.capital`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "Alternative", "alternative_problems", "check_alternative", "load_alternatives",
        "ALTERNATIVE_COLUMNS"
    ], "alternatives"),
    **dict.fromkeys([
        "ManagementAnswer", "management_answer", "premium_model_for", "structure_ko"
    ], "answer"),
    **dict.fromkeys([
        "BBB_POLICY_ID", "DEFAULT_SEVERITY_CAP", "ScenarioSettings", "ScenarioBase",
        "cell_models", "fit_cell_models", "build_scenario_base", "base_from_models",
        "baseline_capital",
        "without_incidents", "check_bond"
    ], "base"),
    **dict.fromkeys([
        "BondContext", "BondBlock", "BondOutcome", "Excess", "BOND_ID", "without_bond"
    ], "bond"),
    **dict.fromkeys([
        "ScenarioFigures", "ScenarioResult", "evaluate", "evaluate_cached", "evaluate_many",
        "figures_of", "figures_result", "exceedance_curve", "exceedance_of", "difference",
        "DIFFERENCE_KEYS", "METRIC_LABELS", "compare", "format_comparison"
    ], "evaluation"),
    **dict.fromkeys(["FigureContext", "context"], "figures"),
    **dict.fromkeys(["frontier", "structure_name", "FRONTIER_KEYS", "template_of"], "frontier"),
    **dict.fromkeys([
        "PremiumModel", "QuotedPremium", "TechnicalPremium", "FixedPremium", "LayerStatistics",
        "as_premium_model", "premium_model_name"
    ], "premium"),
    **dict.fromkeys(["Recommendation", "recommend", "APPETITE_LABELS"], "recommend"),
    **dict.fromkeys(["RunLength", "enough_years"], "runlength"),
    **dict.fromkeys(["cap_sensitivity"], "sensitivity"),
    **dict.fromkeys(["four_elements", "ElementsResult", "case_elements", "element_settings",
                     "INTERNAL_ONLY", "element_answers", "element_model_set",
                     "scenario_sd_sensitivity", "WITHOUT_CAPS", "SCENARIO_SDS", "GroupEffect",
                     "scenario_group_effect", "element_family_range"], "elements"),
    **dict.fromkeys([
        "parameter_uncertainty", "UncertaintyResult", "UNCERTAINTY_FIGURES", "NO_ALTERNATIVE"
    ], "uncertainty"),
    **dict.fromkeys([
        "WorldSpec", "run_world", "run_worlds", "refit_world", "WorldRefit", "MAX_ATTEMPTS",
        "REDRAW_REASONS"
    ], "worlds"),
    **dict.fromkeys([
        "ScenarioSpec", "DEFAULT_SPEC", "Appetite", "DEFAULT_APPETITE", "scenario_bases",
        "bundled_inputs", "precision", "Precision", "current_cover", "case_inputs", "spec_for",
        "grid_for", "incident_label", "base_labels"
    ], "spec"),
    **dict.fromkeys([
        "cache_dir", "cache_key", "entry_path", "stored_bases", "bundled_bases", "load_bases", "save_bases",
        "KEEP", "FORMAT"
    ], "store"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
