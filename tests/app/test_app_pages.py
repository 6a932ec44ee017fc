"""The app's pages as a workshop room sees them (issues 13 and 15).

* The page speaks Korean from its first moment (tab title, loading text; never Voila's
  English "Executing 1 of 13") and needs nothing but the server on 127.0.0.1: every other
  request is blocked and the page still works.
* Pages that close leave no kernel behind: opened and closed three times, a minute later
  none of their kernels is left; the only idle kernels are the pool's pre-executed ones.
* The template gives any notebook it serves a title from its first heading.

The app is started exactly as the README says (``python3 workbench.py app``). Screenshots
of the loading screen and of the offline page go to ``test-artifacts/`` (look at them).
"""
from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import workbench
from tests.conftest import RENDERED, block_outside, cmdline

from .test_app_launch import fetch

pytestmark = pytest.mark.browser
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_PROGRESS = re.compile(r"\b(Executing|Running|Reading)\b")
PAGE_TIMEOUT = 180_000  # ms: the first page of a fresh server waits for a kernel to execute
# Runs before the page's own scripts: keeps every text the loading screen ever shows.
RECORD_LOADING_TEXTS = """
window.__loadingTexts = [];
new MutationObserver(() => {
    const el = document.getElementById('loading_text');
    const text = el && el.textContent.trim();
    const seen = window.__loadingTexts;
    if (text && seen[seen.length - 1] !== text) { seen.push(text); }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""
KERNEL_ID = "JSON.parse(document.getElementById('jupyter-config-data').textContent).kernelId"


def kernel_alive(app, kernel_id: str) -> bool:
    """The kernel's process runs or the server still lists it (REST ``/api/kernels/<id>``)."""
    running = any(f"kernel-{kernel_id}.json" in cmdline(pid) for pid in app.kernel_pids())
    try:
        with urllib.request.urlopen(f"{app.url}api/kernels/{kernel_id}", timeout=10) as r:
            listed = r.status == 200
    except urllib.error.HTTPError as exc:
        listed = exc.code != 404
    return running or listed


def test_page_is_korean_from_the_first_moment_and_works_offline(served_app, chromium,
                                                                artifacts_dir):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="ko-KR")
    outside = block_outside(context, served_app.port)
    context.add_init_script(RECORD_LOADING_TEXTS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        # the first page of a fresh server: its kernel is still executing the notebook
        page.goto(served_app.url, wait_until="commit", timeout=PAGE_TIMEOUT)
        page.locator("#loading_text").wait_for(state="visible", timeout=60_000)
        title = page.title()
        page.screenshot(path=str(artifacts_dir / "app-loading.png"))
        page.wait_for_function(RENDERED, timeout=PAGE_TIMEOUT, polling=100)
        page.wait_for_timeout(1000)  # widget views settle
        page.screenshot(path=str(artifacts_dir / "app-offline.png"))
        texts = page.evaluate("window.__loadingTexts")
        lang = page.evaluate("document.documentElement.lang")
        body = page.inner_text("body")
        state = page.locator('#rendered_cells [data-state="ok"]').count()
    finally:
        context.close()
    assert HANGUL.search(title) and title != workbench.app_notebook().stem, title
    assert texts, "the loading screen showed no text"
    assert all(HANGUL.search(t) and not ENGLISH_PROGRESS.search(t) for t in texts), texts
    assert not ENGLISH_PROGRESS.search(body)
    assert lang == "ko"
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert state > 0, "the dashboard did not reach a result with outside requests blocked"
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_closed_pages_leave_no_kernel_a_minute_later(served_app, chromium):
    """Three pages opened and closed: two closed as a tab is (the page asks for its kernel's
    shutdown on leaving), one vanishing without a word (a crashed browser: the server sees
    its connection close)."""
    used = []
    for how in ("tab closed", "tab closed", "browser gone"):
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(served_app.url, wait_until="commit", timeout=PAGE_TIMEOUT)
        page.wait_for_function(RENDERED, timeout=PAGE_TIMEOUT, polling=100)
        kernel = page.evaluate(KERNEL_ID)
        assert kernel_alive(served_app, kernel)
        if how == "tab closed":
            page.close(run_before_unload=True)
        context.close()
        used.append((how, kernel))
    deadline = time.monotonic() + 60
    while any(kernel_alive(served_app, k) for _, k in used) and time.monotonic() < deadline:
        time.sleep(0.5)
    left = [(how, k) for how, k in used if kernel_alive(served_app, k)]
    assert left == [], f"kernels of closed pages still running a minute later: {left}"
    idle = served_app.kernel_pids()
    assert len(idle) <= workbench.POOL_SIZE, (
        f"{len(idle)} kernels left, more than the {workbench.POOL_SIZE} kept ready")
    log = served_app.log()
    for how, kernel in used:
        by_server = f"Kernel {kernel}: its page went away" in log
        # a closed tab's own request stopped its kernel; the server's watch caught the other
        assert by_server == (how == "browser gone"), (how, kernel, log[-3000:])


def test_any_notebook_gets_its_heading_as_title_and_no_outside_links(launch_app, tmp_path):
    notebook = tmp_path / "07_example.ipynb"
    notebook.write_text(json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [{"cell_type": "markdown", "metadata": {}, "id": "a",
                   "source": "# 손실 자료 **요약**\n\n본문"},
                  {"cell_type": "code", "metadata": {}, "id": "b", "execution_count": None,
                   "outputs": [], "source": "1 + 1"}]}), encoding="utf-8")
    app = launch_app(args=("--notebook", str(notebook)))
    status, html = fetch(app.url)
    assert status == 200
    assert re.search(r"<title>\s*손실 자료 요약\s*</title>", html), html[:2000]
    assert '<html lang="ko">' in html
    assert "cdn.jsdelivr.net" not in html and "Running " not in html
    assert "앱을 여는 중입니다" in html and "Executing ${cell_index}" not in html
