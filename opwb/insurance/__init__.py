"""Insurance contracts and what they pay on simulated events.

Owns a policy's terms (``policy``: per-occurrence layer, coinsurance, coverage by event type,
insurer rating), the programme of primary and excess layers (``programme``), applying a
programme to stored simulated events with aggregate limits, payment delay and insurer
default (``apply``), and the Basel II qualifying standards and residual-term haircuts
(``eligibility``). It may import :mod:`opwb.data` and :mod:`opwb.engine`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["apply_programme"], "apply"),
    **dict.fromkeys(["ProgrammeResult"], "result"),
    **dict.fromkeys([
        "HaircutConvention", "View", "CHECKS", "CHECK_LABELS_KO", "residual_term_haircut",
        "eligibility_table", "view_haircuts", "apply_views", "recognition_summary"
    ], "eligibility"),
    **dict.fromkeys([
        "RATING_DEFAULT_PROBABILITY", "default_probability", "Policy", "layer_split"
    ], "policy"),
    **dict.fromkeys(["Programme"], "programme"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
