"""The management app (Voila): the only package that imports ipywidgets.

Owns :class:`~opwb.app.dashboard.ScenarioDashboard`, built from scenario bases and
alternatives handed to it (no file or network I/O), and its parameter-uncertainty section
(:class:`~opwb.app.uncertainty_panel.UncertaintyPanel`, run on request in a thread). It may
import every other opwb package.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["ScenarioDashboard", "TABLE_ROWS"], "dashboard"),
    **dict.fromkeys(["UncertaintyPanel"], "uncertainty_panel"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
