"""Presentation: charts, Excel workbooks and the workshop deck.

Owns the charts (``plots``, the only package that imports matplotlib), the Excel export of
results tables in 억원 (``excel``) and the offline reveal.js deck, HTML report and PDF
(``deck``). It may import every computing layer (:mod:`opwb.data` up to
:mod:`opwb.scenarios`) and :mod:`opwb.analysis`, never :mod:`opwb.app`.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys([
        "Format", "FORMATS", "DECK_NOTEBOOK", "VENDOR_DIR", "REVEAL_DIR", "CHROMIUM",
        "execute_notebook", "export_slides", "export_html", "export_pdf", "build",
        "remote_references", "remote_references_in_html"
    ], "deck"),
    **dict.fromkeys(["export_excel", "EOK_FORMAT", "AMOUNT_COLUMNS"], "excel"),
    **dict.fromkeys([
        "STATUS_KO", "frontier_ko", "reasons_markdown", "eok_text", "severity_table_ko",
        "chosen_models_ko", "takeaways_ko", "truncation_effect_ko", "cap_sensitivity_ko", "wrapped"
    ], "tables"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
