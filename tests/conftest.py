"""Shared fixtures: free ports, the app served exactly as the README says, headless Chromium.

Fixtures
--------
free_port
    A TCP port that is free on 127.0.0.1.
launch_app
    Factory ``launch_app(port=None, args=()) -> RunningApp``: starts ``python3 workbench.py app
    --port N --no-browser [ARGS]`` from the repository root (the README's command), waits until
    the port accepts TCP connections, and stops it with SIGTERM at the end of the test.
served_app
    One ``RunningApp`` shared by the tests of a module (stopped with SIGTERM afterwards).
chromium
    A playwright ``Browser``: Debian's ``/usr/bin/chromium``, headless (never a downloaded
    browser). Session-scoped.
artifacts_dir
    ``test-artifacts/`` at the repository root (gitignored) for screenshots and logs.
screenshot
    ``screenshot(page, name)`` saves a screenshot of the whole rendered notebook (Voila
    scrolls inside the page, so plain ``full_page=True`` would stop at the viewport).
second_bank_case
    The ``case.toml`` path of a second, invented bank (한누리은행, ``tests/cases.py``) written
    into a fresh folder once per session.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

REPO = Path(__file__).resolve().parents[1]

# The suite builds the stores of many cases; the default of 6 kept entries pushed the bundled
# case's predictive bases out before the notebooks' kernels (their children inherit this)
# read them, and each kernel rebuilt them past its cell timeout.
os.environ.setdefault("OPWB_STORE_KEEP", "40")

# Property-based tests: derandomized (the same examples on every run and machine, so a failure
# reproduces) and with no example database (nothing written into the repository).
hypothesis_settings.register_profile("opwb", derandomize=True, database=None, deadline=None,
                                     print_blob=True)
hypothesis_settings.load_profile("opwb")
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
APP_START_TIMEOUT = 180.0  # first start may execute a notebook while two test runs share 2 cores


#: JavaScript predicate: the Voila page has rendered (loading screen gone, cells shown, a widget
#: drawn, every image loaded). Shared by the browser tests and benchmarks/bench_startup.py.
RENDERED = """() => {
    const loading = document.getElementById('loading');
    const cells = document.getElementById('rendered_cells');
    return (!loading || loading.style.display === 'none') && cells && cells.style.display !== 'none'
        && document.querySelector('#rendered_cells .jupyter-widgets, #rendered_cells .widget-box') !== null
        && Array.from(document.images).every(i => i.complete);
}"""


def block_outside(target, port: int) -> list[str]:
    """Abort every request of ``target`` (a Playwright page or browser context) that does not
    go to the app on 127.0.0.1:``port`` (data: and blob: URLs pass); return the list the
    aborted URLs are appended to."""
    outside: list[str] = []

    def route(r):
        url = r.request.url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("data", "blob") or (parts.hostname == "127.0.0.1"
                                                and parts.port == port):
            r.continue_()
        else:
            outside.append(url)
            r.abort()
    target.route("**/*", route)
    return outside


def find_free_port() -> int:
    """A port that is free on 127.0.0.1 right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc_children() -> dict[int, list[int]]:
    """Parent pid → child pids, from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    return children


def descendants(pid: int) -> list[int]:
    """All live descendants of ``pid`` (children, grandchildren, ...)."""
    tree, found, todo = _proc_children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie (exited, waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass
class RunningApp:
    """The app started by the README's command; ``url`` is ``http://127.0.0.1:<port>/``."""

    proc: subprocess.Popen
    port: int
    log_path: Path
    command: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def command_line(self) -> str:
        """The command line the started process runs now (after any exec)."""
        return cmdline(self.proc.pid)

    def kernel_pids(self) -> list[int]:
        """Live descendant processes that are Jupyter kernels."""
        return [p for p in descendants(self.proc.pid) if "ipykernel" in cmdline(p)]

    @staticmethod
    def survivors(pids: list[int], timeout: float = 20.0) -> list[int]:
        """Those of ``pids`` still running after waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while any(map(is_running, pids)) and time.monotonic() < deadline:
            time.sleep(0.2)
        return [p for p in pids if is_running(p)]

    def stop(self, timeout: float = 60.0) -> int:
        """Send SIGTERM and wait; return the exit status (kill the group if it hangs)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session, started below
                self.proc.wait(10)
                raise AssertionError(f"app ignored SIGTERM for {timeout} s:\n{self.log()[-3000:]}")
        return self.proc.returncode

    def cleanup(self) -> None:
        """Stop the app if a test left it running; kill stragglers of its own session."""
        try:
            self.stop()
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.log_path.unlink(missing_ok=True)


def readme_python() -> str:
    """The ``python3`` the README's commands use (the one on PATH)."""
    return shutil.which("python3") or sys.executable


def start_app(port: int | None = None, timeout: float = APP_START_TIMEOUT,
              args: tuple[str, ...] = ()) -> RunningApp:
    """Start ``python3 workbench.py app --port N --no-browser [ARGS]`` and wait until it
    listens."""
    port = find_free_port() if port is None else port
    command = [readme_python(), "workbench.py", "app", "--port", str(port), "--no-browser",
               *args]
    fd, log_name = tempfile.mkstemp(prefix="opwb-app-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    app = RunningApp(proc, port, Path(log_name), command)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            text = app.log()
            app.log_path.unlink(missing_ok=True)
            raise AssertionError(f"{' '.join(command)} exited with {proc.returncode}:\n{text[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return app
        except OSError:
            pass
        if time.monotonic() > deadline:
            app.cleanup()
            raise AssertionError(f"port {port} not accepting connections after {timeout} s")
        time.sleep(0.25)


@pytest.fixture
def free_port() -> int:
    return find_free_port()


@pytest.fixture
def launch_app():
    started: list[RunningApp] = []

    def launch(port: int | None = None, args: tuple[str, ...] = ()) -> RunningApp:
        app = start_app(port, args=args)
        started.append(app)
        return app

    yield launch
    for app in started:
        app.cleanup()


@pytest.fixture(scope="session")
def bundled_predictive():
    """The bundled case's predictive model (:func:`opwb.predictive_answer`), built into the
    user's store once per session before any notebook, deck or app needs it, so that the
    first to need it does not spend its cell or start-up timeout building it (a few
    minutes the first time; a load afterwards)."""
    import opwb
    return opwb.predictive_answer()


@pytest.fixture(scope="module")
def served_app(bundled_predictive):
    app = start_app()
    yield app
    app.cleanup()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


_SCROLL_HEIGHT_JS = """() => Math.max(document.documentElement.scrollHeight,
    ...Array.from(document.querySelectorAll('*'), el => el.scrollHeight))"""


def wait_for_layout(page, timeout: float = 60.0, quiet: float = 1.0) -> int:
    """Wait until every image has loaded and the page height has not changed for ``quiet``
    seconds (Voila renders outputs in the browser after the page arrives); return the height."""
    page.wait_for_function("Array.from(document.images).every(i => i.complete)",
                           timeout=timeout * 1000)
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        height = int(page.evaluate(_SCROLL_HEIGHT_JS))
        if height != last:
            last, since = height, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return height
        page.wait_for_timeout(200)
    raise AssertionError(f"page layout still changing after {timeout} s")


def save_full_screenshot(page, path: Path, max_height: int = 30_000) -> Path:
    """Screenshot the whole rendered notebook.

    Voila's lab template scrolls inside ``#rendered_cells``, so ``full_page=True`` alone
    would stop at the viewport: grow the viewport to the tallest scroll height first.
    """
    size = page.viewport_size or {"width": 1280, "height": 900}
    height = wait_for_layout(page)
    height = min(height, max_height)
    page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
    page.wait_for_timeout(500)  # let widgets and plots re-lay out
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path


@pytest.fixture(scope="session")
def screenshot(artifacts_dir):
    """``screenshot(page, "name")`` saves ``test-artifacts/name.png`` of the whole page."""
    def take(page, name: str) -> Path:
        return save_full_screenshot(page, artifacts_dir / f"{name}.png")

    return take


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def second_bank_case(tmp_path_factory) -> Path:
    """The case file of 한누리은행 (:func:`tests.cases.write_second_bank`), in a fresh folder."""
    from tests.cases import write_second_bank

    return write_second_bank(tmp_path_factory.mktemp("second_bank"))


#: Parameters besides ``case_path`` the second bank's notebook runs take (outputs to temp).
SECOND_BANK_EXTRA = {"04_capital_offset.ipynb": {"uncertainty_worlds": 4,
                                                 "uncertainty_years": 2_000},
                     "05_workshop_deck.ipynb": {}}
SECOND_BANK_FILES = {"04_capital_offset.ipynb": ("results_path", "capital.xlsx"),
                     "05_workshop_deck.ipynb": ("excel_path", "deck.xlsx")}


def repo_files() -> dict[str, int]:
    """Files (with mtimes) where a run could leave something: repo root, notebooks/, data/."""
    found = {}
    for folder, pattern in ((REPO, "*"), (REPO / "notebooks", "**/*"), (REPO / "data", "**/*")):
        for p in folder.glob(pattern):
            if p.is_file() and "__pycache__" not in p.parts:
                found[str(p.relative_to(REPO))] = p.stat().st_mtime_ns
    return found


def written_since(before: dict[str, int]) -> list[str]:
    after = repo_files()
    return sorted(k for k, v in after.items() if before.get(k) != v)


@pytest.fixture(scope="session")
def second_bank_runs(second_bank_case, tmp_path_factory) -> dict:
    """Notebooks 01–05 executed once per session with papermill on the second bank's case
    (``case_path``): ``{notebook name: executed notebook, "dir": output folder,
    "written": {name: repository files the run changed}}`` — shared by the notebook tests
    and the second bank's acceptance tests."""
    import nbformat
    import papermill

    out_dir = tmp_path_factory.mktemp("second_bank_runs")
    runs: dict = {"dir": out_dir, "written": {}}
    for path in sorted((REPO / "notebooks").glob("0[1-5]_*.ipynb")):
        params = {"case_path": str(second_bank_case), **SECOND_BANK_EXTRA.get(path.name, {})}
        if path.name in SECOND_BANK_FILES:
            key, name = SECOND_BANK_FILES[path.name]
            params[key] = str(out_dir / name)
        if path.name == "04_capital_offset.ipynb":   # "이 결과 저장" into a store of its own
            params.update(run_store=str(out_dir / "runs.sqlite"), record_this_run=True,
                          run_label="2007Q1", compare_with="2007Q1")
        before = repo_files()
        papermill.execute_notebook(str(path), str(out_dir / path.name), kernel_name="python3",
                                   cwd=str(REPO / "notebooks"), parameters=params,
                                   execution_timeout=900, progress_bar=False)
        runs["written"][path.name] = written_since(before)
        runs[path.name] = nbformat.read(out_dir / path.name, as_version=4)
    return runs


@pytest.fixture(scope="session")
def bundled_notebook_runs(bundled_predictive, tmp_path_factory) -> dict:
    """Notebooks 04 and 05 executed once per session on the bundled case, shared by the
    notebook tests (they run top to bottom), the one-answer test (04 with its Excel
    export written to a temporary folder: ``results_path``, the only parameter set) and the
    deck's tests (05 with its own defaults, exported to slides, HTML and PDF):
    ``{name: executed notebook, "written": {name: repository files the run changed},
    "book": notebook 04's workbook}``. Each runs in ``notebooks/`` as the user's would."""
    import nbformat
    import papermill

    from opwb.report.deck import DECK_NOTEBOOK, execute_notebook

    out_dir = tmp_path_factory.mktemp("bundled_runs")
    runs: dict = {"written": {}, "book": out_dir / "capital_offset.xlsx"}
    name = "04_capital_offset.ipynb"
    before = repo_files()
    papermill.execute_notebook(str(REPO / "notebooks" / name), str(out_dir / name),
                               parameters={"results_path": str(runs["book"])},
                               kernel_name="python3", cwd=str(REPO / "notebooks"),
                               execution_timeout=900, progress_bar=False)
    runs["written"][name] = written_since(before)
    runs[name] = nbformat.read(out_dir / name, as_version=4)
    before = repo_files()
    runs[Path(DECK_NOTEBOOK).name] = execute_notebook(DECK_NOTEBOOK, timeout=900)
    runs["written"][Path(DECK_NOTEBOOK).name] = written_since(before)
    return runs


def data_of(page, selector: str) -> dict:
    """The ``data-*`` attributes of the element ``selector`` (the app's figures for tests)."""
    return page.eval_on_selector(
        selector, "el => Object.fromEntries(Array.from(el.attributes, a => "
                  "[a.name.replace(/^data-/, ''), a.value]))")


def enter(page, control: str, value: str) -> None:
    """Type ``value`` into the app's text box ``.opwb-<control>`` and press Enter."""
    box = page.locator(f".opwb-{control} input")
    box.fill(value)
    box.press("Enter")


@pytest.fixture(scope="session")
def bundled_elements():
    """The bundled case, its losses, its model set and its four-element result at 20,000
    years (tests/scenarios/test_elements.py, tests/report/test_element_tables.py)."""
    from opwb.data.case import bundled_case
    from opwb.fitting.modelset import models_for
    from opwb.scenarios.elements import four_elements
    case = bundled_case()
    losses = case.load_losses()
    models = models_for(losses, case.threshold, allow_infinite_mean=True,
                        saved=case.paths("models"))
    return case, losses, models, four_elements(case, models, losses, n_years=20_000)
