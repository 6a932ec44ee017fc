"""Time from a control change to the final render in the browser (issue 5: within 1 s).

Starts the app exactly as the README does (``python3 workbench.py app``), opens it in
Debian's headless Chromium, then changes the BBB limit (and the CD toggle) several times.
Each change is timed from the keypress until the page shows the result marker that
encodes the new inputs AND the chart image has been replaced and decoded.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from _common import print_table, status  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, start_app  # noqa: E402  (the tests' launcher)

EOK = 1e8
MARK = '.opwb-result[data-state="ok"]'


def _chart_src(page) -> str:
    return page.eval_on_selector(".opwb-chart img, img.opwb-chart", "el => el.src")


def change_limit(page, limit_eok: int) -> float:
    before = _chart_src(page)
    box = page.locator(".opwb-limit input")
    box.fill(str(limit_eok))
    t0 = time.perf_counter()
    box.press("Enter")
    page.wait_for_selector(f'{MARK}[data-limit="{limit_eok * EOK!r}"]', state="attached",
                           timeout=60_000)
    page.wait_for_function(
        """(old) => { const i = document.querySelector('.opwb-chart img, img.opwb-chart');
                      return i && i.src !== old && i.complete; }""", arg=before, timeout=60_000)
    return time.perf_counter() - t0


def toggle_cd(page, include: bool) -> float:
    before = _chart_src(page)
    t0 = time.perf_counter()
    page.get_by_role("button", name="CD 사건 포함" if include else "CD 사건 제외").click()
    page.wait_for_selector(f'{MARK}[data-include-cd="{int(include)}"]', state="attached",
                           timeout=60_000)
    page.wait_for_function(
        """(old) => { const i = document.querySelector('.opwb-chart img, img.opwb-chart');
                      return i && i.src !== old && i.complete; }""", arg=before, timeout=60_000)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--changes", type=int, default=8, help="limit changes to time")
    args, _ = parser.parse_known_args(argv)
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    app = start_app()
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(app.url, wait_until="domcontentloaded", timeout=180_000)
            page.wait_for_selector(MARK, state="attached", timeout=180_000)
            first = time.perf_counter() - t0
            limits = [1000, 400, 200, 700, 1000, 50, 400, 1500][: args.changes]
            times = [change_limit(page, v) for v in limits]
            cd = [toggle_cd(page, False), toggle_cd(page, True)]
            browser.close()
    finally:
        app.cleanup()
    rows = [
        ("limit change → final render (median)", "< 1 s", f"{statistics.median(times):.2f} s",
         status(statistics.median(times) < 1), f"{len(times)} changes"),
        ("limit change → final render (worst)", "< 1 s", f"{max(times):.2f} s",
         status(max(times) < 1), ", ".join(f"{t:.2f}" for t in times)),
        ("CD toggle → final render (worst)", "< 1 s", f"{max(cd):.2f} s", status(max(cd) < 1),
         ", ".join(f"{t:.2f}" for t in cd)),
        ("app start → first render", "(info)", f"{first:.1f} s", "—",
         "launcher + Voila + preheated notebook + page"),
    ]
    print_table("Dashboard responsiveness in headless Chromium (bundled data, 100,000 years)",
                rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
