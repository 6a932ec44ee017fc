"""The dashboard's signals while it works or refuses: the work indicator and the
messages under the controls.

:class:`Signals` is mixed into :class:`opwb.app.dashboard.ScenarioDashboard`.
:meth:`~Signals.busy` greys what a recompute will replace (class ``opwb-busy``: faded after
0.1 s, so a quick recompute does not flicker) and shows the work indicator — a spinner,
what is recomputed and the current step (:meth:`~Signals.step`), fixed at the top right of
the window — before the work starts: ipywidgets sends each change to the page as it is made,
so the page shows both while the kernel computes. :meth:`~Signals._mark_fields` puts the
allowed range (:func:`opwb.app.inputs.range_hint`) under each refused control.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from contextlib import contextmanager

from opwb.app.inputs import range_hint
from opwb.app.render import working_html

__all__ = ["ANSWER", "EXPLORER", "Signals"]

#: What a recompute greys: the answer's parts (the card, heat map and comparison, the
#: robustness section), the explorer's (its table and charts).
ANSWER, EXPLORER = "answer", "explorer"


class Signals:
    """The work indicator and the controls' messages (see the module's docstring)."""

    def _mark_fields(self, problems: Mapping[str, str], fields: Sequence[str]) -> None:
        """The allowed range under each of ``fields`` with a problem; nothing under the
        others."""
        for field in fields:
            hint = range_hint(field, self.ranges) if field in problems else ""
            self.messages[field].value = (f"<span data-state='error'>⚠ {html.escape(hint)}"
                                          "</span>" if hint else "")

    def _parts(self, which: str) -> tuple:
        if which == ANSWER:
            return (self.answer_html, self.frontier_part, self.robust_html)
        return (self.explore_part,)

    @contextmanager
    def busy(self, text: str, *which: str):
        """Grey what a recompute will replace (``which``: "answer", "explorer") and show
        the work indicator — at once, before the work starts — and undo both when it ends,
        also when it fails. Nested recomputes keep the outer one's text."""
        parts = [p for w in which for p in self._parts(w) if "opwb-busy" not in p._dom_classes]
        for part in parts:
            part.add_class("opwb-busy")
        self._busy.append(text)
        self.step("")
        try:
            yield
        finally:
            self._busy.pop()
            for part in parts:
                part.remove_class("opwb-busy")
            if not self._busy:
                self.working.value = ""

    def step(self, text: str) -> None:
        """Say which step of the recompute is running (nothing when none is)."""
        if self._busy:
            self.working.value = working_html(self._busy[0], text, self._seq)
