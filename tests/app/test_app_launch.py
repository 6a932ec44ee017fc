"""The README's first command: ``python3 workbench.py app --port N --no-browser``.

It must serve the app notebook chosen by ``workbench.app_notebook()`` with Voila on 127.0.0.1
only, and SIGTERM must stop the server together with its kernels. A headless-Chromium smoke
test renders the page and saves a full-page screenshot in ``test-artifacts/``.
"""
from __future__ import annotations

import errno
import html.parser
import json
import os
import re
import socket
import urllib.request
from pathlib import Path

import pytest

import workbench

PAGE_TIMEOUT = 240  # the page streams while the notebook executes


class _TextExtractor(html.parser.HTMLParser):
    """Visible-ish text of an HTML page (script and style contents dropped), unescaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style") and self._skip > 0

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(page_html: str) -> str:
    parser = _TextExtractor()
    parser.feed(page_html)
    return " ".join("".join(parser.parts).split())


def first_heading(notebook: Path) -> str:
    """Plain text of the notebook's first markdown heading (inline markup removed)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            match = re.match(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(1))  # links
                text = re.sub(r"(\*\*|__|\*|`)", "", text)  # emphasis, code
                return " ".join(text.split())
    raise AssertionError(f"{notebook} has no markdown heading to recognise its page by")


def listening_addresses(port: int) -> list[str]:
    """Local addresses with a TCP socket in LISTEN state on ``port`` (from /proc/net)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.append(address)
    return found


def fetch(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=PAGE_TIMEOUT) as response:
        return response.status, response.read().decode("utf-8")


def test_app_notebook_choice_follows_the_rule(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    with pytest.raises(workbench.WorkbenchError, match="no numbered notebook"):
        workbench.app_notebook(tmp_path)
    for name in ("01_loss_data.ipynb", "02_fitting.ipynb", "10_extra.ipynb", "scratch.ipynb"):
        (folder / name).write_text("{}")
    assert workbench.app_notebook(tmp_path) == folder / "10_extra.ipynb"  # numeric, not text
    (folder / "03_bbb_scenarios.ipynb").write_text("{}")
    assert workbench.app_notebook(tmp_path) == folder / "03_bbb_scenarios.ipynb"


def test_voila_command_binds_loopback_with_preheat_and_culling():
    cmd = workbench.voila_command(Path("python"), Path("nb.ipynb"), 8123, open_browser=False)
    for flag in ("--no-browser", "--port=8123", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
                 "--preheat_kernel=True", f"--pool_size={workbench.POOL_SIZE}",
                 f"--template={workbench.APP_TEMPLATE}",
                 "--VoilaConfiguration.multi_kernel_manager_class="
                 "opwb.app.serving.PageKernelManager"):
        assert flag in cmd
    assert workbench.POOL_SIZE >= 1
    assert any(a.startswith("--MappingKernelManager.cull_idle_timeout=") for a in cmd)
    assert any(a.startswith("--MappingKernelManager.cull_interval=") for a in cmd)
    # the template and the kernel manager the command names exist
    template = workbench.ROOT / "share/jupyter/voila/templates" / workbench.APP_TEMPLATE
    assert (template / "index.html.j2").is_file() and (template / "conf.json").is_file()
    from opwb.app.serving import PageKernelManager
    assert PageKernelManager.class_traits()["page_close_grace"]


def test_app_environment_puts_the_template_folder_first_on_jupyter_path(tmp_path):
    share = str(tmp_path / "share" / "jupyter")
    env = workbench.app_environment({"PATH": "/bin"}, root=tmp_path)
    assert env == {"PATH": "/bin", "JUPYTER_PATH": share}
    env = workbench.app_environment({"JUPYTER_PATH": f"/a{os.pathsep}{share}"}, root=tmp_path)
    assert env["JUPYTER_PATH"] == f"{share}{os.pathsep}/a"


def test_readme_app_command_serves_notebook_on_loopback_and_stops_on_sigterm(launch_app):
    notebook = workbench.app_notebook()
    app = launch_app()

    status, body = fetch(app.url)
    assert status == 200
    assert 'data-voila="voila"' in body, "not a Voila page"
    heading = first_heading(notebook)
    assert heading in page_text(body), f"page does not show {notebook.name}'s heading {heading!r}"
    assert f"serving notebooks/{notebook.name} at {app.url}" in app.log()

    # Bound to 127.0.0.1 only: the kernel lists no other listening address for the port, and
    # another loopback address (127.0.0.2 reaches this host too) is refused.
    assert listening_addresses(app.port) == ["0100007F"]
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        assert sock.connect_ex(("127.0.0.2", app.port)) == errno.ECONNREFUSED

    kernels = app.kernel_pids()
    assert kernels, "no kernel process under the app (pre-started kernel missing?)"
    # The launcher exec'd into Voila (same pid), so SIGTERM reaches Voila itself.
    assert " -m voila " in app.command_line()

    assert app.stop() == 0
    assert app.survivors(kernels) == [], "kernels survived SIGTERM"
    assert "Kernel shutdown" in app.log()
    assert listening_addresses(app.port) == []


@pytest.mark.browser
def test_app_renders_in_headless_chromium(served_app, chromium, screenshot):
    notebook = workbench.app_notebook()
    heading = first_heading(notebook)
    page = chromium.new_page(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(served_app.url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT * 1000)
        page.locator("#rendered_cells").wait_for(state="visible", timeout=120_000)
        page.get_by_role("heading", name=heading).first.wait_for(state="visible", timeout=60_000)
        page.locator("#loading").wait_for(state="hidden", timeout=60_000)
        page.wait_for_load_state("networkidle", timeout=60_000)  # widget views, images
        page.wait_for_timeout(1000)
        shot = screenshot(page, f"app_{notebook.stem}")
    finally:
        page.close()
    assert shot.stat().st_size > 10_000
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_app_environment_hands_the_case_to_every_kernel(tmp_path):
    case = tmp_path / "bank" / "case.toml"
    env = workbench.app_environment({"PATH": "/bin", "OPWB_CASE": "/old.toml"}, root=tmp_path,
                                    case=case)
    assert env["OPWB_CASE"] == str(case) and env["PATH"] == "/bin"
    # without a case OPWB_CASE stays as the caller's environment has it, set or not
    assert workbench.app_environment({"OPWB_CASE": "/old.toml"}, root=tmp_path)["OPWB_CASE"] \
        == "/old.toml"
    assert "OPWB_CASE" not in workbench.app_environment({}, root=tmp_path)


def test_a_page_kernel_never_waits_behind_the_pools_warm_up(monkeypatch):
    """Pool kernels (VOILA_PREHEAT=True) take turns warming up; a kernel Voila starts for a
    page that found no ready kernel (VOILA_PREHEAT=False) starts at once (the benchmark saw a
    first page wait 150 s behind five warming pool kernels)."""
    import asyncio

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    from opwb.app.serving import PageKernelManager

    started: list[str] = []

    async def fake_start(self, *args, **kwargs):
        started.append(kwargs["env"]["VOILA_PREHEAT"])
        return f"k{len(started)}"

    monkeypatch.setattr(AsyncMappingKernelManager, "start_kernel", fake_start)
    manager = PageKernelManager(max_warming=1)
    monkeypatch.setattr(manager, "_still_warming", lambda kernel_id, t: True)

    async def scenario():
        first = await manager.start_kernel(env={"VOILA_PREHEAT": "True"})   # warms up
        with pytest.raises(asyncio.TimeoutError):                            # the pool waits
            await asyncio.wait_for(manager.start_kernel(env={"VOILA_PREHEAT": "True"}), 0.6)
        page = await asyncio.wait_for(manager.start_kernel(env={"VOILA_PREHEAT": "False"}),
                                      0.6)
        return first, page

    # in a thread of its own: the session's Playwright (sync API) keeps an event loop running
    # in this one, where asyncio.run refuses to start
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        first, page = pool.submit(asyncio.run, scenario()).result()
    assert (first, page) == ("k1", "k2") and started == ["True", "False"]
