"""Field faults of the app (issue 22: item 5 and the SIGTERM habit; issue 21 item 6, the
page's part), each closed at its mechanism.

* **Absurd and non-finite values** (a limit of 1e300억 or ∞, an infinite premium, a valuation
  date 9999-12-31) never leave a widget callback as an exception and never leave an old
  result looking current: every control is checked against its stated plausible range
  (:mod:`opwb.app.inputs`: amounts finite, 0 to 10 × the case's severity cap; the valuation
  date within 20 years of the case's), the message is shown under the control and in the
  error card, and the results the value would change are greyed. A failure while
  recomputing is a Korean message too, and a non-finite figure is never printed
  ("-inf ± 8.4억원"). The API refuses ∞ where it refuses a negative amount.
* **A recompute greys what it replaces and shows its work before it starts** (the browser
  test measures the 0.3 s in the page).
* **"-0" is never printed** (heat map, percentages, the page's HTML).
* **SIGTERM stops the server without a traceback**, also while a kernel executes: a busy
  kernel is interrupted and shut down once idle (:mod:`opwb.app.serving`), where a plain
  shutdown request closed its sockets under the running request (``ZMQError``).

The widget tests use small bases (10,000 years); the server tests start Voila.
"""
from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import pandas as pd
import pytest

import opwb
from opwb.app.dashboard import ScenarioDashboard
from opwb.app.inputs import Ranges, parse_ceiling, parse_date
from opwb.scenarios.alternatives import Alternative, alternative_problems
from opwb.scenarios.recommend import recommend
from opwb.scenarios.spec import DEFAULT_SPEC, Appetite, bundled_inputs, scenario_bases
from tests.conftest import descendants, find_free_port, is_running

EOK = opwb.EOK
#: the smallest frontier ``recommend`` accepts (one structure)
FRONTIER = pd.DataFrame({"name": ["x"], "deductible": [5 * EOK], "limit": [50 * EOK],
                         "net_benefit": [1.0], "net_benefit_se": [0.1], "premium": [EOK]})
SPEC = DEFAULT_SPEC.replace(n_years=10_000, seed=3)
#: "-0", "-0.0", "-0.0%", "−0억원" as a number of its own (not "-0.5", not a date's "-01")
NEGATIVE_ZERO = re.compile(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.,])")


def _data(html: str) -> dict:
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', html))


@pytest.fixture(scope="module")
def bases_quotes():
    _, _, quotes = bundled_inputs()
    return scenario_bases(SPEC), quotes


@pytest.fixture(scope="module")
def dash(bases_quotes):
    bases, quotes = bases_quotes
    return ScenarioDashboard(bases, quotes, spec=SPEC, uncertainty_worlds=2,
                             uncertainty_years=500)


def _explorer_ok(d) -> bool:
    return (_data(d.status.value).get("state") == "ok" and d.error.value == ""
            and "opwb-stale" not in d.explore_part._dom_classes)


def _answer_ok(d) -> bool:
    return (_data(d.answer_html.value).get("state") == "ok"
            and "opwb-stale" not in d.frontier_part._dom_classes)


# ---------------------------------------------------------------------------------------------
# Issue 22 item 5: every control checked against a stated plausible range
# ---------------------------------------------------------------------------------------------
def test_the_stated_ranges_follow_the_case():
    r = Ranges.for_spec(SPEC)
    assert r.max_amount == 10 * SPEC.severity_cap == 10 * 1e12        # 10 × the 1조원 cap
    assert [d.isoformat() for d in r.valuation] == ["1986-12-31", "2026-12-31"]
    assert "100,000억원" in r.describe_ko() and "1조원의 10배" in r.describe_ko()
    uncapped = Ranges.for_spec(SPEC.replace(severity_cap=None))
    assert uncapped.max_amount == 10 * opwb.data.schema.PLAUSIBLE_MAX_LOSS


@pytest.mark.parametrize("control, value", [
    ("limit", 1e300), ("limit", math.inf), ("limit", 100_001.0), ("limit", 0.0),
    ("deductible", 1e300), ("deductible", -math.inf),
    ("premium", math.inf), ("premium", 1e300),
    ("aggregate", math.inf), ("aggregate", 1e300),
    ("coinsurance", math.inf), ("coinsurance", 150.0)])
def test_an_absurd_amount_is_refused_under_its_control_and_greys_the_explorer(dash, control,
                                                                               value):
    widget = getattr(dash, control)
    good = widget.value
    assert _explorer_ok(dash)
    widget.value = value                      # before: OverflowError out of the callback
    assert _data(dash.status.value)["state"] == "error"
    assert "opwb-stale" in dash.explore_part._dom_classes
    assert "허용 범위" in dash.messages[control].value          # under the control itself
    for other, box in dash.messages.items():
        if other != control:
            assert box.value == "", other
    shown = dash.error.value
    assert "100% 이하" in shown if control == "coinsurance" else "100,000억원" in shown
    assert len(shown) < 2_000                 # never a 300-digit number
    assert "inf" not in shown.replace("finite", "")
    widget.value = good
    assert _explorer_ok(dash) and dash.messages[control].value == ""


@pytest.mark.parametrize("control, text", [
    ("max_premium", "1e300"), ("max_premium", "inf"), ("max_premium", "1e30"),
    ("max_premium", "-5"), ("max_retained", "1e300"), ("max_capital", "Infinity"),
    ("valuation", "9999-12-31"), ("valuation", "0001-01-01"), ("valuation", "2106-12-31")])
def test_an_absurd_ceiling_or_date_greys_the_answer(dash, control, text):
    widget = getattr(dash, control)
    good = widget.value
    assert _answer_ok(dash)
    widget.value = text
    answer = _data(dash.answer_html.value)
    assert answer["state"] == "error"
    assert "opwb-stale" in dash.frontier_part._dom_classes
    field = {"max_premium": "max-premium", "max_retained": "max-retained",
             "max_capital": "max-capital"}.get(control, control)
    assert "허용 범위" in dash.messages[field].value
    if control == "valuation":              # the explorer uses the date too
        assert "2026-12-31" in dash.answer_html.value and "Cannot cast" not in dash.error.value
        assert _data(dash.status.value)["state"] == "error"
        assert "opwb-stale" in dash.explore_part._dom_classes
    else:
        assert "0 이상" in dash.answer_html.value
    widget.value = good
    assert _answer_ok(dash) and dash.messages[field].value == ""


def test_a_failure_while_recomputing_is_a_message_and_greys_the_old_result(dash, monkeypatch):
    import opwb.app.dashboard as dmod
    import opwb.app.explorer as emod

    def overflow(*_a, **_k):
        raise OverflowError("cannot convert float infinity to integer")

    monkeypatch.setattr(emod, "scenario_png", overflow)
    dash.limit.value = 700.0                  # a valid value whose drawing fails
    assert _data(dash.status.value)["state"] == "error"
    assert "계산할 수 없습니다" in dash.error.value
    assert "opwb-stale" in dash.explore_part._dom_classes
    monkeypatch.setattr(dmod, "management_answer", overflow)
    dash.max_premium.value = "60"
    assert _data(dash.answer_html.value)["state"] == "error"
    assert "권고를 계산할 수 없습니다" in dash.answer_html.value
    assert "opwb-stale" in dash.frontier_part._dom_classes
    assert dash.working.value == ""           # the work indicator does not stay on
    monkeypatch.undo()
    dash.max_premium.value = "70"
    dash.picker.value = ("quote", 1)
    assert _answer_ok(dash) and _explorer_ok(dash)


def test_a_non_finite_figure_is_never_printed(dash, monkeypatch):
    import opwb.app.explorer as emod

    real = emod.figures_result

    def infinite(base, alt, settings):
        res = real(base, alt, settings)
        return replace(res, metrics={**res.metrics, "net_benefit": -math.inf})

    monkeypatch.setattr(emod, "figures_result", infinite)
    before = dash.table.value
    dash.limit.value = 500.0
    assert _data(dash.status.value)["state"] == "error"
    assert "결과가 유한하지 않습니다" in dash.error.value and "net_benefit" in dash.error.value
    assert dash.table.value == before and "-inf" not in dash.table.value
    assert "opwb-stale" in dash.explore_part._dom_classes
    monkeypatch.undo()
    dash.picker.value = ("quote", 1)
    assert _explorer_ok(dash)


def test_the_api_refuses_infinite_amounts_where_it_refuses_negative_ones():
    for bad in (-1.0, math.inf, -math.inf, math.nan):
        with pytest.raises(ValueError, match="finite amount >= 0"):
            Appetite(max_premium=bad)
        with pytest.raises(ValueError, match="finite amount >= 0"):
            Appetite(max_premium=None, max_net_capital=bad)
        with pytest.raises(ValueError, match="finite amount >= 0"):
            DEFAULT_SPEC.replace(limits=(50 * EOK, bad))
        with pytest.raises(ValueError, match="finite amount >= 0"):
            DEFAULT_SPEC.replace(threshold=bad)
        with pytest.raises(ValueError):
            parse_ceiling(str(bad), "x")
        with pytest.raises(ValueError, match="finite amount >= 0"):   # the frontier's own rule
            recommend(FRONTIER, max_premium=bad)
    # an alternative's price and retention are finite; unlimited is a term a limit can have
    alt = Alternative("x", limit=50 * EOK, deductible=5 * EOK, premium=1 * EOK)
    for field in ("deductible", "premium"):
        assert any("finite amount" in m
                   for m in alternative_problems(replace(alt, **{field: math.inf}))), field
    assert alternative_problems(replace(alt, limit=math.inf, aggregate_limit=math.inf)) == []
    assert Appetite(max_premium=0).max_premium == 0.0 and Appetite(None).max_premium is None
    assert DEFAULT_SPEC.replace(severity_cap=None).severity_cap is None   # None: no cap
    with pytest.raises(ValueError, match="severity_cap"):
        DEFAULT_SPEC.replace(severity_cap=-1.0)
    r = Ranges.for_spec(SPEC)
    with pytest.raises(ValueError, match="100,000억원"):
        parse_ceiling("1e300", "연간 보험료 상한", r)
    with pytest.raises(ValueError, match="20년 이내"):
        parse_date("9999-12-31", r)
    assert parse_date("2026-12-31", r) == "2026-12-31"
    assert parse_ceiling("-0", "x") == 0.0 and not math.copysign(1, parse_ceiling("-0", "x")) < 0


# ---------------------------------------------------------------------------------------------
# Issue 21 item 6: a recompute greys what it replaces and shows its work before it starts
# ---------------------------------------------------------------------------------------------
def test_a_recompute_greys_and_shows_the_work_indicator_before_the_work_starts(dash,
                                                                                monkeypatch):
    import opwb.app.dashboard as dmod
    import opwb.app.explorer as emod

    seen: list[tuple] = []

    def spy(real, name):
        def wrapped(*a, **k):
            seen.append((name, dash.working.value,
                         {p: "opwb-busy" in w._dom_classes
                          for p, w in (("answer", dash.answer_html),
                                       ("frontier", dash.frontier_part),
                                       ("explorer", dash.explore_part))}))
            return real(*a, **k)
        return wrapped

    monkeypatch.setattr(dmod, "management_answer", spy(dmod.management_answer, "answer"))
    monkeypatch.setattr(emod, "versus_many", spy(emod.versus_many, "explorer"))
    dash.valuation.value = "2007-06-30"        # settings: the answer and the explorer
    assert [s[0] for s in seen] == ["answer", "answer", "explorer"]
    for name, working, busy in seen:
        assert "data-state='busy'" in working and "다시 계산하는 중" in working
        assert "opwb-spinner" in working
        assert all(busy.values()), (name, busy)    # everything the change will replace
    assert "(1/2)" in seen[0][1] and "(2/2)" in seen[1][1]
    assert dash.working.value == ""                # done: the indicator goes
    for w in (dash.answer_html, dash.frontier_part, dash.explore_part):
        assert "opwb-busy" not in w._dom_classes
    seen.clear()
    dash.limit.value = 500.0                       # the explorer alone
    assert [s[0] for s in seen] == ["explorer"]
    assert seen[0][2]["explorer"] and not seen[0][2]["answer"]
    dash.valuation.value = "2006-12-31"
    dash.picker.value = ("quote", 1)
    assert "opwb-busy" in dmod.CSS and "opwb-working" in dmod.CSS


# ---------------------------------------------------------------------------------------------
# Issue 21 item 6: "-0" is never printed
# ---------------------------------------------------------------------------------------------
def test_negative_zero_is_never_printed(dash):
    import pandas as pd
    from matplotlib.figure import Figure

    from opwb.app.render import percent
    from opwb.report.plots.scenario import plot_frontier

    table = pd.DataFrame({"deductible": [5 * EOK, 5 * EOK, 10 * EOK, 10 * EOK],
                          "limit": [50 * EOK, 100 * EOK, 50 * EOK, 100 * EOK],
                          "net_benefit": [-0.3 * EOK, -0.0, 0.2 * EOK, -2.6 * EOK]})
    ax = Figure().subplots()
    plot_frontier(table, ax=ax)
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == ["0", "0", "0", "−3"]
    assert [percent(v) for v in (-0.0, -0.0004, 0.25)] == ["0.0%", "0.0%", "25.0%"]
    assert percent(-0.004, 0) == "0%" and percent(-0.5, 0) == "−50%"
    assert NEGATIVE_ZERO.search("차이 -0억원") and NEGATIVE_ZERO.search("-0.0%")
    assert not NEGATIVE_ZERO.search("-0.5억원 2006-01-31 1,000-05")
    for cd in (True, False):                       # the page as built, both data sets
        dash.cd.value = cd
        page = " ".join(w.value for w in (dash.head, dash.answer_html, dash.compare_html,
                                          dash.table, dash.status, dash.precision_html,
                                          dash.robust_html))
        assert not NEGATIVE_ZERO.search(re.sub(r"<[^>]+>", " ", page))
    dash.cd.value = True


# ---------------------------------------------------------------------------------------------
# The habit: SIGTERM stops the server without a traceback
# ---------------------------------------------------------------------------------------------
SLOW_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": "import time\nfor _ in range(240):\n    time.sleep(0.25)"}],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}},
    "nbformat": 4, "nbformat_minor": 5}


def _wait_for_port(proc, port: int, timeout: float = 120.0) -> None:
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"port {port} not listening after {timeout} s")


def _kernels(pid: int) -> list[int]:
    from tests.conftest import cmdline
    return [p for p in descendants(pid) if "ipykernel" in cmdline(p)]


def test_sigterm_while_a_kernel_executes_prints_no_traceback(tmp_path):
    """Voila with the app's kernel manager, its pool kernel busy executing a notebook cell
    when SIGTERM arrives: exit status 0, no traceback, no kernel left."""
    import json

    notebook = tmp_path / "slow.ipynb"
    notebook.write_text(json.dumps(SLOW_NOTEBOOK))
    port = find_free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1", "--Voila.port_retries=0", "--preheat_kernel=True",
         "--pool_size=1",
         "--VoilaConfiguration.multi_kernel_manager_class=opwb.app.serving.PageKernelManager"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL, start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        _wait_for_port(proc, port)
        deadline = time.monotonic() + 60
        while not _kernels(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        kernels = _kernels(proc.pid)
        assert kernels, "no kernel started"
        time.sleep(4)                       # the kernel is now inside the 60-second cell
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert proc.returncode == 0, out
    assert "is busy: interrupting it" in out, out   # the situation the fix is for
    assert "Traceback" not in out and "ZMQError" not in out, out
    assert not [p for p in kernels if is_running(p)], "kernels survived SIGTERM"


def test_the_app_stops_on_sigterm_without_a_traceback(launch_app, bundled_predictive):
    """``python3 workbench.py app`` stopped with SIGTERM while its pool kernels execute the
    app notebook one after another (the state the browser tests leave it in)."""
    app = launch_app()
    deadline = time.monotonic() + 120
    while not app.kernel_pids() and time.monotonic() < deadline:
        time.sleep(0.2)
    kernels = app.kernel_pids()
    assert kernels, "no kernel under the app"
    time.sleep(3)                              # the first pool kernel executes the notebook
    status = app.stop()
    log = app.log()
    assert status == 0, log[-3000:]
    assert "Traceback" not in log and "ZMQError" not in log, log[-5000:]
    assert app.survivors(kernels) == [], "kernels survived SIGTERM"


def test_a_kernel_pending_when_the_server_stops_is_not_an_error(tmp_path, monkeypatch):
    """A kernel still starting, or being removed by another shutdown, when the server stops
    (seen in the browser tests: ``HTTP 404: Kernel does not exist`` and exit status 1):
    ``shutdown_all`` lists it among the pending kernels; its start or removal is awaited and
    nothing is left to shut down. The running kernel beside it is shut down as usual."""
    import asyncio

    from opwb.app.serving import PageKernelManager

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))

    async def scenario():
        km = PageKernelManager(root_dir=str(tmp_path), connection_dir=str(tmp_path))
        running = await km.start_kernel()
        ended = asyncio.get_running_loop().create_future()
        ended.set_result(None)                    # its removal has just finished
        km._pending_kernels["ended-meanwhile"] = ended
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(RuntimeError("start failed"))
        km._pending_kernels["failed-start"] = failed
        await km.shutdown_all()
        return km, running

    # a thread of its own: the browser tests' Playwright keeps an event loop running in this one
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        km, running = pool.submit(lambda: asyncio.run(scenario())).result(timeout=120)
    assert list(km.list_kernel_ids()) == [] and running not in km
