"""The app's parameter-uncertainty section: an explicit button, a progress bar, the intervals.

:class:`UncertaintyPanel` runs :func:`opwb.scenarios.parameter_uncertainty` (a parametric
bootstrap of the loss data: every world refitted with its families held fixed and simulated
with the common seed) only when asked, in a background thread, so the rest of the app stays
responsive; the bar and a Korean status line follow the run world by world. The result is
the table of :func:`opwb.report.uncertainty_tables.uncertainty_ko` (the same text notebook 04
shows) and one sentence. A second press while a run is going starts nothing (the button is
disabled and the panel remembers it is running); a failure is a Korean message, never a
traceback. When the inputs the result was computed for change (CD toggle, settings, bases),
the old result is greyed out until computed again (also after a failed run, whose message
replaces the status line).
"""
from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W

from opwb.app.render import error_line_html
from opwb.app.render import note_html as _note

from opwb.report.uncertainty_tables import (
    uncertainty_caption_ko,
    uncertainty_ko,
    uncertainty_sentence_ko,
)
from opwb.scenarios.uncertainty import UncertaintyResult, parameter_uncertainty

__all__ = ["DEFAULT_SECONDS", "DEFAULT_WORLDS", "DEFAULT_YEARS", "UncertaintyPanel",
           "expected_seconds"]

DEFAULT_WORLDS = 100
"""Bootstrap worlds of the app's run (the 5% and 95% percentiles from 5 worlds each)."""
DEFAULT_YEARS = 10_000
"""Simulated years per world in the app's run."""


def expected_seconds(n_worlds: int, n_years: int) -> float:
    """Expected seconds of a run on 2 shared cores for the bundled data (measured: 100
    worlds × 10,000 years with four alternatives, 30.5 s; about 0.03 ms a world-year), at
    least 1."""
    return max(1.0, 30.5 * n_worlds * n_years / (DEFAULT_WORLDS * DEFAULT_YEARS))


DEFAULT_SECONDS = expected_seconds(DEFAULT_WORLDS, DEFAULT_YEARS)
"""Expected duration (s) of the default run (:func:`expected_seconds`)."""

Inputs = Callable[[], tuple[tuple, Mapping[str, Any]]]


class UncertaintyPanel:
    """Parameter uncertainty behind a button, computed in a background thread.

    Parameters
    ----------
    inputs : callable
        ``inputs() -> (key, kwargs)``: the keyword arguments of
        :func:`~opwb.scenarios.parameter_uncertainty` besides ``n_worlds``, ``n_years`` and
        ``progress`` (``losses``, ``programme``, ``alternatives``, ``models``, ``seed``, ...)
        for the app's current state, and a hashable ``key`` naming that state (a result is
        greyed out once the key changes). May raise ``ValueError`` with a Korean message.
    n_worlds : int
        Bootstrap worlds (default :data:`DEFAULT_WORLDS`).
    n_years : int
        Simulated years per world (default :data:`DEFAULT_YEARS`).
    seconds : float
        Expected duration (s) shown on the button.
    recommended : callable, optional
        ``recommended() -> str or None``: the name, among the run's alternatives, of the
        fitted model's recommendation when the run starts; the result's sentence says whether
        the worlds confirm it.

    Attributes
    ----------
    result : UncertaintyResult or None
        The last completed run (amounts KRW).
    thread : threading.Thread or None
        The run in progress or last run (tests ``join`` it).
    widget : ipywidgets.VBox
        The section.
    """

    def __init__(self, inputs: Inputs, *, n_worlds: int = DEFAULT_WORLDS,
                 n_years: int = DEFAULT_YEARS, seconds: float = DEFAULT_SECONDS,
                 recommended: Callable[[], str | None] | None = None):
        self.inputs = inputs
        self.recommended = recommended or (lambda: None)
        self.n_worlds, self.n_years = int(n_worlds), int(n_years)
        self.result: UncertaintyResult | None = None
        self.thread: threading.Thread | None = None
        self._key: Any = None
        self._lock = threading.Lock()
        self._running = False
        self.button = W.Button(
            description=f"모수 불확실성 계산 (약 {seconds:.0f}초)", button_style="",
            tooltip=f"세계 {self.n_worlds}개 × {self.n_years:,}년", icon="play",
            layout=W.Layout(width="230px"))
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                        layout=W.Layout(width="220px"))
        self.status = W.HTML(_note(f"세계 {self.n_worlds}개 × 모의실험 {self.n_years:,}년 — "
                                   "버튼을 누르면 계산합니다."))
        self.output = W.HTML(layout=W.Layout(width="100%", overflow="auto"))
        for w, cls in ((self.button, "uncertainty-run"), (self.progress, "uncertainty-progress"),
                       (self.status, "uncertainty-status"),
                       (self.output, "uncertainty-result")):
            w.add_class(f"opwb-{cls}")
        self.button.on_click(self.start)
        self.widget = W.VBox([
            W.HTML("<b>모수 불확실성 (parameter uncertainty)</b> <span class='opwb-note'>— "
                   "손실 자료를 적합 모형에서 다시 뽑아(모수적 부트스트랩) 같은 분포 "
                   "계열로 다시 적합하고, 세계마다 같은 난수(공통 난수)로 모의실험합니다. "
                   "구간은 모수 추정의 불확실성이며 몬테카를로 오차가 아닙니다.</span>"),
            W.HBox([self.button, self.progress, self.status],
                   layout=W.Layout(align_items="center")),
            self.output], layout=W.Layout(margin="10px 0 0 0"))

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self._running

    def start(self, _button=None) -> bool:
        """Start a run for the app's current inputs (does nothing while one is running).

        Returns
        -------
        bool
            True when a run was started.
        """
        with self._lock:
            if self._running:
                return False
            self._running = True
        self.button.disabled = True
        try:
            key, kwargs = self.inputs()
        except Exception as exc:       # a bad input: a message, no run
            self._finish_error(f"입력을 확인하세요 (check the inputs): {exc}")
            return False
        self.progress.value = 0.0
        self.status.value = _note("계산을 시작합니다… (starting)")
        self.thread = threading.Thread(target=self._run, args=(key, kwargs, self.recommended()),
                                       name="opwb-parameter-uncertainty", daemon=True)
        self.thread.start()
        return True

    def _report(self, fraction: float, text: str) -> None:
        self.progress.value = min(max(float(fraction), 0.0), 1.0)
        self.status.value = _note(text.split(" (")[0])

    def _run(self, key: Any, kwargs: Mapping[str, Any], recommended: str | None = None
             ) -> None:
        t0 = time.perf_counter()
        try:
            res = parameter_uncertainty(**kwargs, n_worlds=self.n_worlds,
                                        n_years=self.n_years, progress=self._report)
            body = self._result_html(res, recommended)
        except Exception as exc:        # shown as a message, never a traceback
            self._finish_error(f"모수 불확실성을 계산하지 못했습니다 (parameter uncertainty "
                               f"failed): {exc}")
            return
        self.result, self._key = res, key
        self.output.value = body
        self.output.remove_class("opwb-stale")
        self.progress.value = 1.0
        self.status.value = _note(f"완료: 세계 {res.n_worlds}개 × {res.n_years:,}년 "
                                  f"({time.perf_counter() - t0:.0f}초)", "#1e6b3a")
        self._release()

    def _finish_error(self, message: str) -> None:
        """Show ``message`` (Korean) in the status line; a result shown earlier stays, greyed
        out when it no longer matches the inputs."""
        self.status.value = error_line_html(message)
        self._release()
        self.refresh()

    def _release(self) -> None:
        with self._lock:
            self._running = False
        self.button.disabled = False

    @staticmethod
    def _result_html(res: UncertaintyResult, recommended: str | None = None) -> str:
        table = uncertainty_ko(res).to_html(classes="opwb-metrics", border=0, escape=True)
        attrs = {"state": "ok", "n-worlds": res.n_worlds, "n-years": res.n_years,
                 "seed": res.seed}
        data = " ".join(f'data-{k}="{html.escape(str(v))}"' for k, v in attrs.items())
        return (f"<div class='opwb-uncertainty' {data}>"
                f"<div style='margin:4px 0'>{html.escape(uncertainty_sentence_ko(res, recommended=recommended))}</div>"
                f"<div class='opwb-note'>{html.escape(uncertainty_caption_ko(res))}</div>"
                f"{table}<div class='opwb-note'>적합 모형 열의 ± 는 몬테카를로 표준오차, 구간은 "
                "세계들의 백분위수(모수 불확실성)입니다. 세계마다 분포 계열은 그대로 두고 모수만 "
                "다시 추정합니다.</div></div>")

    def refresh(self) -> None:
        """Grey the shown result out when the app's inputs no longer match it."""
        if self.result is None or self._running:
            return
        try:
            key, _ = self.inputs()
        except Exception:
            key = None
        if key == self._key:
            self.output.remove_class("opwb-stale")
        else:
            self.output.add_class("opwb-stale")
