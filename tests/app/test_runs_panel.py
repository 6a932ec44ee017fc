"""The app's run-database section without a browser: nothing opened or written before a
save, and a page opened before another page saved a run lists it once it lands (a Voila
kernel is often started, pre-heated, long before its page is shown)."""
from __future__ import annotations

import time

from opwb.app.runs_panel import RunPanel
from opwb.data.runstore import open_store
from tests.runs.examples import make_run


class _Case:
    """What the panel asks of a case: its store (given) and fingerprint."""

    def run_store(self):  # pragma: no cover - the tests give the store
        raise AssertionError

    def fingerprint(self) -> str:
        return "ab12"


def _wait(what, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        assert time.monotonic() < deadline, "the panel did not follow the store"
        time.sleep(0.05)


def test_the_panel_follows_runs_recorded_elsewhere(tmp_path):
    store = tmp_path / "runs.sqlite"
    panel = RunPanel(_Case(), lambda: (_ for _ in ()).throw(AssertionError), store=store,
                     watch=0.1)
    try:
        assert not store.exists()                 # showing the page wrote nothing
        assert panel.compare.disabled and panel.earlier.options == ()
        with open_store(store) as st:             # another page saves a run
            st.record(make_run("2007Q1"))
        _wait(lambda: "기록된 실행 1개" in panel.status.value)
        assert panel.compare.disabled             # one run: nothing to compare it with
        with open_store(store) as st:
            st.record(make_run("2007Q2", recorded_at="2026-12-07T06:00:00+00:00"))
        _wait(lambda: len(panel.earlier.options) == 1)
        # the earlier run offered, compared with the latest, which the page names
        assert panel.earlier.value == 1 and "2번과 비교" in panel.later.value
        assert "2007Q1" in panel.earlier.options[0][0]
        assert not panel.compare.disabled
    finally:
        panel._stop.set()


def test_a_bad_state_is_a_message_and_nothing_is_written(tmp_path):
    store = tmp_path / "runs.sqlite"

    def state():
        raise ValueError("평가기준일을 확인하세요")
    panel = RunPanel(_Case(), state, store=store, watch=0)
    assert panel.start_save() is False
    assert "평가기준일을 확인하세요" in panel.status.value and "error" in panel.status.value
    assert not store.exists() and not panel.save.disabled


def test_the_earlier_run_defaults_to_the_one_before_the_latest(tmp_path):
    store, n = tmp_path / "runs.sqlite", 3
    with open_store(store) as st:
        for i in range(n):
            st.record(make_run(f"Q{i + 1}", recorded_at=f"2026-12-07T0{i + 1}:00:00+00:00"))
    panel = RunPanel(_Case(), lambda: None, store=store, watch=0)
    assert [v for _, v in panel.earlier.options] == list(range(1, n))
    assert panel.earlier.value == n - 1
    assert f"{n}번과 비교" in panel.later.value
