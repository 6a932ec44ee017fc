"""Charts for the workbench (the only opwb package that imports matplotlib).

``style`` registers the Korean font and holds the shared styling, ``losses`` draws the loss
data of notebook 01, ``scenario`` the BBB layer picture and exceedance curves. Plot functions
take results and an optional ``ax``, return the :class:`~matplotlib.axes.Axes` and never
modify their inputs.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["plot_tail_diagnostics"], "fitting"),
    **dict.fromkeys([
        "plot_cell_heatmap", "plot_annual_frequency", "plot_annual_severity",
        "plot_severity_panels", "plot_severity_ecdf", "plot_strategy_matrix", "plot_claims_record",
        "plot_incident_layers", "plot_external_comparison"
    ], "losses"),
    **dict.fromkeys([
        "plot_layer_bands", "plot_exceedance", "plot_frontier", "scenario_png", "frontier_png",
        "frontier_figure"
    ], "scenario"),
    **dict.fromkeys(["plot_run_trends"], "runs"),
    **dict.fromkeys([
        "KOREAN_FONT", "EVENT_TYPE_COLORS", "korean_font_files", "use_korean_font"
    ], "style"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
