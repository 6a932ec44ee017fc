"""The app's run-database section: "이 결과 저장" and the comparison with an earlier run.

:class:`RunPanel` records what the page shows (the case, the settings and appetite of the
controls, the answer on the predictive model: :func:`opwb.record_run`) in the case's run
store (its ``runs`` setting: ``runs.sqlite`` beside the case file, or a database URL), and
compares a recorded run with a later one (:func:`opwb.compare_runs`: the change of net VaR,
capital and the bond's relief split into valuation date, settings, data and models, each with
its paired standard error). Both run in a background thread behind their button, with a
progress bar and a Korean status line; a failure is a message, never a traceback. Nothing is
written until the button is pressed, and never a loss record.
"""
from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from opwb.app.render import error_line_html as _error
from opwb.app.render import note_html as _note

__all__ = ["RunPanel", "WATCH_SECONDS"]

WATCH_SECONDS = 3.0
"""How often an open page looks whether another page recorded a run (s)."""


class RunPanel:
    """Record the page's run and compare runs, in the background.

    Parameters
    ----------
    case : opwb.data.case.Case
        The page's case (its run store: ``case.run_store()``).
    state : callable
        ``state() -> (spec, answer)``: the :class:`~opwb.scenarios.spec.ScenarioSpec` the
        controls describe (settings and appetite) and the page's
        :class:`~opwb.decision.robust.RobustAnswer`. May raise ``ValueError`` in Korean.
    store : str, optional
        The store (default ``case.run_store()``).

    Attributes
    ----------
    thread : threading.Thread or None
        The work in progress or last done (tests ``join`` it).
    last_run : int or None
        The run id this page recorded last.
    comparison : opwb.runs.compare.Comparison or None
    widget : ipywidgets.VBox
    """

    def __init__(self, case, state: Callable[[], tuple[Any, Any]], *, store=None,
                 watch: float = WATCH_SECONDS):
        self.case, self.state = case, state
        self.store = case.run_store() if store is None else store
        self.thread: threading.Thread | None = None
        self.last_run: int | None = None
        self.comparison = None
        self._lock = threading.Lock()
        self._running = False
        self._seen: Any = None
        self._stop = threading.Event()
        self.label = W.Text(placeholder="실행 이름 (예: 2007Q1)", layout=W.Layout(width="200px"))
        self.save = W.Button(description="이 결과 저장", icon="save",
                             tooltip="이 화면의 설정·권고와 수치를 실행 기록 DB에 저장 "
                                     "(손실 기록은 저장하지 않음)",
                             layout=W.Layout(width="150px"))
        self.earlier = W.Dropdown(options=[], description="이전 실행",
                                  layout=W.Layout(width="440px"))
        self.compare = W.Button(description="비교", icon="exchange",
                                layout=W.Layout(width="100px"))
        self.later = W.HTML()
        self.progress = W.FloatProgress(value=0.0, min=0.0, max=1.0,
                                        layout=W.Layout(width="200px"))
        self.status = W.HTML(_note("저장하기 전에는 아무것도 쓰지 않습니다."))
        self.output = W.HTML(layout=W.Layout(width="100%", overflow="auto"))
        for w, cls in ((self.label, "run-label"), (self.save, "run-save"),
                       (self.earlier, "run-earlier"), (self.compare, "run-compare"),
                       (self.status, "run-status"), (self.output, "run-result"),
                       (self.progress, "run-progress"), (self.later, "run-later")):
            w.add_class(f"opwb-{cls}")
        self.save.on_click(self.start_save)
        self.compare.on_click(self.start_compare)
        self.widget = W.VBox([
            W.HTML("<b>실행 기록 (run database)</b> <span class='opwb-note'>— 이 화면의 결과를 "
                   "분기마다 저장하고, 이전 실행과 비교해 무엇이 왜 바뀌었는지 봅니다 (평가일 → "
                   "설정 → 데이터 → 모형 순서로 하나씩 바꾸어 같은 난수로 다시 계산).</span>"),
            W.HBox([self.label, self.save], layout=W.Layout(align_items="center")),
            W.HBox([self.earlier, self.later, self.compare, self.progress],
                   layout=W.Layout(align_items="center", flex_flow="row wrap")),
            self.status, self.output], layout=W.Layout(margin="10px 0 0 0"))
        self.refresh_runs()
        if watch:
            # a page's kernel may have been started (pre-heated) before another page saved
            # a run: the list follows the store while the page is open
            threading.Thread(target=self._watch, args=(float(watch),), daemon=True,
                             name="opwb-run-store-watch").start()

    # -- the store ----------------------------------------------------------------------------
    def _open(self):
        from opwb.data.runstore import open_store
        return open_store(self.store)

    def _stamp(self):
        """What tells that the store changed: its file's size and time (an SQLite file),
        else the runs' count (a database URL, asked every few seconds)."""
        from pathlib import Path
        if "://" not in str(self.store):
            p = Path(self.store)
            return (p.stat().st_mtime_ns, p.stat().st_size) if p.is_file() else None
        with self._open() as st:
            return len(st.list_runs())

    def _watch(self, seconds: float) -> None:
        while not self._stop.wait(seconds):
            try:
                if not self._running and self._stamp() != self._seen:
                    self.refresh_runs()
            except Exception:                     # noqa: BLE001 - the next look retries
                pass

    def refresh_runs(self, announce: bool = True) -> None:
        """List the recorded runs in the dropdown, the run before the latest chosen, and
        name the run it is compared with (the store is opened only if it exists: showing
        the page writes nothing)."""
        from pathlib import Path
        if "://" not in str(self.store) and not Path(self.store).is_file():
            self._seen = None
            self.earlier.options = []
            self.compare.disabled = True
            self.later.value = ""
            return
        try:
            self._seen = self._stamp()
            with self._open() as st:
                runs = st.list_runs()
        except Exception as exc:                  # noqa: BLE001 - a message, not a traceback
            self.status.value = _error(f"실행 기록을 읽지 못했습니다: {exc}")
            return
        ids = [int(r) for r in runs["run_id"]]
        later = self.last_run if self.last_run in ids else (ids[-1] if ids else None)
        self.earlier.options = [
            (f"{int(r.run_id)}번 · {r.label or '이름 없음'} (평가일 {r.valuation_date})",
             int(r.run_id)) for r in runs.itertuples() if int(r.run_id) != later]
        if self.earlier.options:
            self.earlier.value = self.earlier.options[-1][1]
        self.compare.disabled = not self.earlier.options
        self.later.value = (_note(f"→ {later}번과 비교") if later is not None
                            and self.earlier.options else "")
        if announce and not self._running and self.last_run is None and ids:
            self.status.value = _note(f"기록된 실행 {len(ids)}개 (최근: {ids[-1]}번)")

    # -- work in the background -----------------------------------------------------------------
    def _begin(self) -> bool:
        with self._lock:
            if self._running:
                return False
            self._running = True
        self.save.disabled = self.compare.disabled = True
        self.progress.value = 0.0
        return True

    def _end(self) -> None:
        with self._lock:
            self._running = False
        self.save.disabled = False
        self.refresh_runs(announce=False)

    def _report(self, fraction: float, text: str) -> None:
        self.progress.value = min(max(float(fraction), 0.0), 1.0)
        self.status.value = _note(text.split(" (")[0])

    def start_save(self, _button=None) -> bool:
        """Record the page's run (does nothing while work is in progress)."""
        if not self._begin():
            return False
        try:
            spec, answer = self.state()
        except Exception as exc:                  # noqa: BLE001
            self.status.value = _error(f"입력을 확인하세요: {exc}")
            self._end()
            return False
        label = self.label.value.strip() or None
        self.status.value = _note("저장을 시작합니다…")
        self.thread = threading.Thread(target=self._save, args=(spec, answer, label),
                                       name="opwb-record-run", daemon=True)
        self.thread.start()
        return True

    def _attempt(self, work: Callable[[Any], Any], failed: str):
        """``work(store)`` on the open store; on failure the Korean message ``failed: why``
        in the status line (the work ends) and None."""
        try:
            with self._open() as st:
                return work(st)
        except Exception as exc:                  # noqa: BLE001 - a message, not a traceback
            self.status.value = _error(f"{failed}: {exc}")
            self._end()
            return None

    def _save(self, spec, answer, label) -> None:
        from opwb.runs.record import record_run
        t0 = time.perf_counter()
        run_id = self._attempt(lambda st: record_run(
            self.case, None, st, label=label, answer=answer, spec=spec,
            progress=self._report), "저장하지 못했습니다")
        if run_id is None:
            return
        self.last_run = run_id
        self.progress.value = 1.0
        self.status.value = (f"<span class='opwb-note opwb-run-saved' data-run-id='{run_id}' "
                             f"style='color:#1e6b3a'>실행 {run_id}번"
                             f"{html.escape(f' ({label})' if label else '')}으로 저장했습니다 "
                             f"({time.perf_counter() - t0:.0f}초)</span>")
        self._end()

    def start_compare(self, _button=None) -> bool:
        """Compare the run chosen in the dropdown with this page's last recorded run (or the
        latest in the store)."""
        earlier = self.earlier.value
        if earlier is None or not self._begin():
            return False
        self.thread = threading.Thread(target=self._compare, args=(earlier,),
                                       name="opwb-compare-runs", daemon=True)
        self.thread.start()
        return True

    def _compare(self, earlier: int) -> None:
        from opwb.report.run_tables import comparison_notes_ko, recommendation_gap_ko
        from opwb.runs.compare import compare_runs

        def work(st):
            later = self.last_run
            if later is None:
                later = int(st.list_runs()["run_id"].iloc[-1])
            if later == earlier:
                raise ValueError("같은 실행끼리는 비교할 수 없습니다: 다른 실행을 고르세요")
            same = st.load(later)["case"]["hash"] == self.case.fingerprint()
            return later, compare_runs(earlier, later, st, case=self.case if same else None,
                                       progress=self._report)
        done = self._attempt(work, "비교하지 못했습니다")
        if done is None:
            return
        later, cmp = done
        self.comparison = cmp
        notes = "".join(f"<li>{html.escape(line.lstrip('- '))}</li>"
                        for line in comparison_notes_ko(cmp).splitlines())
        html_of = lambda frame, **kw: frame.to_html(classes="opwb-metrics", border=0, **kw)  # noqa: E731
        self.output.value = (
            f"<div class='opwb-run-comparison' data-earlier='{earlier}' data-later='{later}'>"
            f"<ul style='margin:4px 0'>{notes}</ul>"
            f"<div class='opwb-note'>기록된 수치와 그 변화의 분해 (억원, ± 표준오차; 변화는 "
            f"같은 난수로 짝지은 표준오차). 적합 모형의 수치로, 노트북 04의 자본 계산과 "
            f"같고 위 화면의 예측 모형 수치와는 다를 수 있습니다.</div>"
            f"{html_of(cmp.levels_ko())}{html_of(cmp.attribution_ko())}"
            f"<div class='opwb-note'>새 권고 구조와 이전 권고 구조의 순편익 차이 "
            f"(단계마다 다시 계산)</div>{html_of(recommendation_gap_ko(cmp), index=False)}"
            "</div>")
        self.progress.value = 1.0
        self.status.value = _note(f"비교 완료: {earlier}번 → {later}번", "#1e6b3a")
        self._end()
