"""Presentation: charts, Excel workbooks and the workshop deck.

Owns the charts (``plots``, the only package that imports matplotlib), the Excel export of
results tables in 억원 and of scenario figures in KRW with their standard errors (``excel``),
Korean tables (``tables``; scenario figures rounded to their errors in ``scenario_tables``;
notebook 04's capital-offset steps in ``capital_tables``; the four AMA data elements in
``element_tables``; parameter-uncertainty
intervals in ``uncertainty_tables``) and the offline reveal.js deck,
HTML report and PDF (``deck``). It may import every computing layer (:mod:`opwb.data` up to
:mod:`opwb.scenarios`) and :mod:`opwb.analysis`, never :mod:`opwb.app`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "Format", "FORMATS", "DECK_NOTEBOOK", "VENDOR_DIR", "REVEAL_DIR", "CHROMIUM",
        "execute_notebook", "export_slides", "export_html", "export_pdf", "build",
        "remote_references", "remote_references_in_html"
    ], "deck"),
    **dict.fromkeys([
        "export_excel", "scenario_sheet", "settings_sheet", "excel_number", "EOK_FORMAT",
        "AMOUNT_COLUMNS",
        "KRW_FORMAT", "KRW_COLUMNS", "RATIO_FORMAT", "RATIO_COLUMNS", "SCENARIO_COLUMNS"
    ], "excel"),
    **dict.fromkeys([
        "FIGURE_LABELS", "HEADLINE_KEYS", "CAPITAL_KEYS", "RATIO_KEYS", "FLAG_KEYS", "CD_LABELS",
        "figure_kind", "figure_keys", "figure_label", "figure_text", "percent_with_se",
        "scenario_table_ko", "difference_table_ko", "capital_sentence_ko", "styled"
    ], "scenario_tables"),
    **dict.fromkeys([
        "programme_ko", "eligibility_ko", "coverage_ko", "audit_event_types_ko",
        "audit_policies_ko", "aggregation_ko", "standardised_ko", "consistency_ko", "dependence_ko",
        "model_source_ko", "bundled_fingerprints", "AGGREGATION_KO"
    ], "capital_tables"),
    **dict.fromkeys([
        "P_BEST_COLUMN", "interval_text", "share_text", "uncertainty_ko",
        "uncertainty_caption_ko", "uncertainty_sentence_ko", "redraw_text_ko", "REDRAW_REASONS_KO"
    ], "uncertainty_tables"),
    **dict.fromkeys([
        "STATUS_KO", "frontier_ko", "reasons_markdown", "eok_text", "severity_table_ko",
        "chosen_models_ko", "takeaways_ko", "truncation_effect_ko", "cap_sensitivity_ko", "wrapped",
        "count_summary_ko", "same_models_ko", "family_weights_ko", "robustness_ko", "break_even_ko",
        "recommendation_frame", "cap_sentence_ko"
    ], "tables"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
