"""The management app (Voila): the only package that imports ipywidgets.

Owns :class:`~opwb.app.dashboard.ScenarioDashboard`, built from scenario bases and
alternatives handed to it (no file or network I/O): its widgets and layout (``controls``),
HTML and CSS (``render``), the plausible range of every control (``inputs``), the explorer
(``explorer``), the work indicator and the controls' messages (``signals``), its
parameter-uncertainty section (:class:`~opwb.app.uncertainty_panel.UncertaintyPanel`, run on
request in a thread); and the app server's kernel manager (``serving``, which imports
nothing from opwb). It may import every other opwb package.
"""
from opwb._lazy import attach

_EXPORTS = {
    **dict.fromkeys(["ScenarioDashboard", "TABLE_ROWS"], "dashboard"),
    **dict.fromkeys(["UncertaintyPanel"], "uncertainty_panel"),
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
