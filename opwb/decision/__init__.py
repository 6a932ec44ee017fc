"""The decision: which bond structure to buy when the data cannot decide everything.

Above :mod:`opwb.scenarios` (the scenario base, its store, evaluating structures on it),
this layer holds the predictive model — the parametric-bootstrap worlds, refitted, with the
credible severity families by Akaike weight, pooled as the predictive distribution
(``predictive``) — and the answer on it: the recommendation, the share of worlds in which
it is best, its expected regret and every structure's break-even premium (``robust``). It
may import every layer up to :mod:`opwb.scenarios`; :mod:`opwb.report` and :mod:`opwb.app`
may import it.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "FamilyWeights", "family_weights", "assign_families", "PredictiveSettings",
        "WorldTable", "predictive_base", "world_seed", "MIN_WEIGHT", "MAX_ATTEMPTS",
        "TABLE_FIGURES"
    ], "predictive"),
    **dict.fromkeys([
        "RobustAnswer", "predictive_answer", "predictive_bases", "robustness", "break_even",
        "eligible_mask", "case_predictive_settings"
    ], "robust"),
    **dict.fromkeys([
        "turning_data", "turning_rows", "turning_for", "frontier_under", "base_at_cap",
        "best_under", "CAP_MULTIPLES", "DELAY_PROBABILITIES", "DEFAULT_SCALES"
    ], "turning"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
