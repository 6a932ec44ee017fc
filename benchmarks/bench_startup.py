"""Page loads of the app while earlier pages stay open (issue 15: any page within 5 s).

Starts the app exactly as the README does (``python3 workbench.py app``), waits until its
pre-started kernels have executed the notebook (their CPU time stops growing), then lets
visitors open the page one after another in Debian's headless Chromium, each as soon as the
previous visitor's page has rendered (``--gap`` seconds later), every page staying open. A
page has rendered when Voila's loading screen is gone, the cells are shown, a widget is
drawn and every image has loaded. Then it reports each kernel's memory (RSS, PSS: shared
pages split among the processes sharing them, USS: its own), closes every page and counts
the kernels left a minute later. A second run opens the first page the moment the server
accepts connections (cold start: the kernels are still executing).

A bank's own case beside the bundled one (``--no-case`` skips it): for each, in a cache
folder of its own (``$OPWB_CACHE_DIR``, a fresh temporary folder), the time of
``python -m opwb.scenarios.store prepare`` with the cache empty (cold: fitting and simulating)
and again with the bases stored (warm); then, the bases stored, from launching
``python3 workbench.py app [--case PATH]`` to the first page's answer card visible (the page
opened as soon as the server listens), and, once the kernels have finished executing, each
later visitor's page (visitors 2..N, earlier pages open) from opening it to its answer card.
The own case is :func:`tests.cases.write_second_bank` (한누리은행: about 1,500 events of
seven years, 20,000 simulated years).

Run: ``.venv/bin/python benchmarks/bench_startup.py [--visitors 5] [--gap 0] [--no-cold]
[--no-case] [--case-only]`` (with the own-case table it takes 10-15 minutes; under
``benchmarks/run.py`` give it ``--timeout 1800``).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from _common import print_table, status  # noqa: E402
from conftest import CHROMIUM, CHROMIUM_ARGS, RENDERED, start_app  # noqa: E402  (the tests' launcher)

TARGET = 5.0  # seconds from opening the page to its rendered dashboard
#: Own case: seconds from launching the server (bases stored) to the first page's answer card,
#: and from opening a later page to its answer card.
CASE_FIRST_TARGET = 60.0
CASE_LATER_TARGET = 3.0
#: The answer card, drawn with a recommendation (what a manager waits for).
ANSWER_OK = '.opwb-answer-state[data-state="ok"]'
def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_until_kernels_idle(app, at_least: int, quiet: float = 2.0, timeout: float = 300.0) -> float:
    """Seconds until ``at_least`` kernels exist and none has used CPU for ``quiet`` seconds."""
    t0 = time.perf_counter()
    last, since = None, time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        pids = app.kernel_pids()
        ticks = sum(map(_cpu_ticks, pids))
        now = time.perf_counter()
        if len(pids) < at_least or ticks != last:
            last, since = ticks, now
        elif now - since >= quiet:
            return since - t0
        time.sleep(0.25)
    raise RuntimeError(f"kernels still busy after {timeout:.0f} s")


def memory_mb(pid: int) -> tuple[float, float, float]:
    """(RSS, PSS, USS) of a process in MB, from /proc/<pid>/smaps_rollup."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, rest = line.split(":", 1)
        values[key] = int(rest.split()[0]) / 1024
    return (values["Rss"], values["Pss"],
            values["Private_Clean"] + values["Private_Dirty"])


def open_page(browser, url: str, timeout: float = 180.0):
    """A new visitor (own browser context): (page, seconds until the page has rendered)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=timeout * 1000)
    page.wait_for_function(RENDERED, timeout=timeout * 1000, polling=50)
    return page, time.perf_counter() - t0


def pool_size() -> int:
    sys.path.insert(0, str(ROOT))
    import workbench
    return workbench.POOL_SIZE


def warm_run(browser, visitors: int, gap: float, close_wait: float) -> dict:
    out: dict = {}
    t0 = time.perf_counter()
    app = start_app()
    try:
        out["listening"] = time.perf_counter() - t0
        out["ready"] = out["listening"] + wait_until_kernels_idle(app, pool_size())
        pages, times = [], []
        for i in range(visitors):
            if i and gap:
                time.sleep(gap)
            page, took = open_page(browser, app.url)
            pages.append(page)
            times.append(took)
        out["times"] = times
        time.sleep(2.0)  # let the visitors' kernels settle before measuring them
        out["memory"] = [memory_mb(p) for p in app.kernel_pids()]
        out["kernels_open"] = len(out["memory"])
        for page in pages:
            page.context.close()
        time.sleep(close_wait)
        out["kernels_after_close"] = len(app.kernel_pids())
    finally:
        app.cleanup()
    return out


def cold_run(browser) -> float:
    app = start_app()
    try:
        page, took = open_page(browser, app.url)
        page.context.close()
        return took
    finally:
        app.cleanup()


@contextmanager
def own_cache(case: Path | None):
    """A fresh, empty ``$OPWB_CACHE_DIR`` for this process and the processes it starts (the
    app, its kernels, ``prepare``), and ``$OPWB_CASE`` unset when ``case`` is None (the
    bundled case); both restored, the folder removed, afterwards."""
    saved = {k: os.environ.get(k) for k in ("OPWB_CACHE_DIR", "OPWB_CASE")}
    with tempfile.TemporaryDirectory(prefix="opwb-bench-cache-") as folder:
        os.environ["OPWB_CACHE_DIR"] = folder
        if case is None:
            os.environ.pop("OPWB_CASE", None)
        try:
            yield Path(folder)
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def prepare_seconds(case: Path | None) -> float:
    """Wall seconds of ``python -m opwb.scenarios.store prepare [--case PATH]`` (what
    ``workbench.py app`` runs before serving), in this process's environment."""
    command = [sys.executable, "-m", "opwb.scenarios.store", "prepare"]
    command += ["--case", str(case)] if case is not None else []
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                          text=True)
    took = time.perf_counter() - t0
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n"
                           f"{done.stderr[-2000:]}")
    return took


def open_answer(browser, url: str, timeout: float = 300.0):
    """A new visitor (own browser context): (page, seconds until its answer card with a
    recommendation is visible)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="ko-KR")
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url, wait_until="commit", timeout=timeout * 1000)
    page.wait_for_selector(ANSWER_OK, state="visible", timeout=timeout * 1000)
    return page, time.perf_counter() - t0


def case_run(browser, case: Path | None, visitors: int) -> dict:
    """Prepare cold and warm, then server start → first answer card, then later visitors'
    answer cards, for ``case`` (None: the bundled case), in a cache folder of its own."""
    out: dict = {}
    with own_cache(case):
        out["prepare_cold"] = prepare_seconds(case)
        out["prepare_warm"] = prepare_seconds(case)
        t0 = time.perf_counter()
        app = start_app(args=("--case", str(case)) if case is not None else ())
        pages = []
        try:
            out["listening"] = time.perf_counter() - t0
            page, took = open_answer(browser, app.url)
            pages.append(page)
            out["first"], out["first_page"] = time.perf_counter() - t0, took
            # Voila logs this when a page gets a kernel of its pool; a page that comes before
            # the pool has started its first kernel gets a kernel of its own instead
            out["first_kernel"] = ("pre-executed" if "Using pre-heated kernel" in app.log()
                                   else "own")
            # later visitors come once the kernels have executed (the first page's kernel
            # and a full pool), earlier pages staying open
            waited = time.perf_counter() - t0
            out["ready"] = waited + wait_until_kernels_idle(app, pool_size() + 1)
            times = []
            for _ in range(1, visitors):
                page, took = open_answer(browser, app.url)
                pages.append(page)
                times.append(took)
            out["later"] = times
        finally:
            for page in pages:
                page.context.close()
            app.cleanup()
    return out


def case_rows(bundled: dict, own: dict) -> list[tuple]:
    """The own-case table's rows: the bundled case's figure beside the own case's."""
    def both(key):
        return f"{bundled[key]:.1f} s", f"{own[key]:.1f} s"

    def ok(key, target):
        return f"{status(bundled[key] <= target)} / {status(own[key] <= target)}"

    rows = [
        ("prepare, empty cache (cold)", "(info)", *both("prepare_cold"), "—",
         "python -m opwb.scenarios.store prepare: fit, simulate, store"),
        ("prepare, bases stored (warm)", "(info)", *both("prepare_warm"), "—",
         "what workbench.py app runs before serving, once stored"),
        ("server start → first answer card", f"≤ {CASE_FIRST_TARGET:g} s", *both("first"),
         ok("first", CASE_FIRST_TARGET),
         f"bases stored; listening after {bundled['listening']:.1f} / {own['listening']:.1f} s, "
         f"page open {bundled['first_page']:.1f} / {own['first_page']:.1f} s; its kernel "
         f"{bundled['first_kernel']} / {own['first_kernel']}"),
        ("server start → kernels ready", "(info)", *both("ready"), "—",
         f"first page's kernel + {pool_size()} pre-executed"),
    ]
    for n, (b, o) in enumerate(zip(bundled["later"], own["later"]), start=2):
        rows.append((f"visitor {n}: answer card", f"≤ {CASE_LATER_TARGET:g} s", f"{b:.1f} s",
                     f"{o:.1f} s",
                     f"{status(b <= CASE_LATER_TARGET)} / {status(o <= CASE_LATER_TARGET)}",
                     "earlier pages open"))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--visitors", type=int, default=5, help="pages opened, kept open")
    parser.add_argument("--gap", type=float, default=0.0,
                        help="seconds between one page having rendered and the next opening")
    parser.add_argument("--close-wait", type=float, default=60.0,
                        help="seconds after closing the pages before counting kernels")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start run")
    parser.add_argument("--no-case", action="store_true",
                        help="skip the own case beside the bundled one")
    parser.add_argument("--case-only", action="store_true",
                        help="only the own case beside the bundled one")
    args, _ = parser.parse_known_args(argv)  # run.py passes every script the same arguments
    from playwright.sync_api import sync_playwright

    cases = None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            if not args.case_only:
                warm = warm_run(browser, max(args.visitors, 1), args.gap, args.close_wait)
                cold = None if args.no_cold else cold_run(browser)
            if not args.no_case:
                sys.path.insert(0, str(ROOT))
                from tests.cases import write_second_bank
                with tempfile.TemporaryDirectory(prefix="opwb-bench-case-") as folder:
                    case = write_second_bank(Path(folder) / "second_bank")
                    visitors = max(args.visitors, 2)
                    cases = (case_run(browser, None, visitors),
                             case_run(browser, case, visitors))
        finally:
            browser.close()

    if not args.case_only:
        print_startup(warm, cold, args)
    if cases is not None:
        if not args.case_only:
            print()
        print_table("A bank's own case beside the bundled one (python3 workbench.py app "
                    "[--case PATH], own cache folder, headless Chromium; status: bundled / own)",
                    case_rows(*cases),
                    head=("benchmark", "target", "bundled", "own case", "status", "note"))
    return 0


def print_startup(warm: dict, cold: float | None, args) -> None:
    """The bundled app's start-up table (visitors, memory, kernels after closing, cold
    start)."""
    times, pool = warm["times"], pool_size()
    rss, pss, uss = (statistics.median(m[i] for m in warm["memory"]) for i in range(3))
    total_pss = sum(m[1] for m in warm["memory"])
    rows = [("server start → kernels ready", "(info)", f"{warm['ready']:.1f} s", "—",
             f"listening after {warm['listening']:.1f} s; {pool} kernels pre-executed")]
    for n in sorted({1, 2, 5, len(times)}):
        if n <= len(times):
            rows.append((f"visitor {n}: page rendered", f"≤ {TARGET:g} s", f"{times[n - 1]:.1f} s",
                         status(times[n - 1] <= TARGET), "earlier pages open" if n > 1 else ""))
    rows += [
        ("all visitors", f"≤ {TARGET:g} s", f"max {max(times):.1f} s", status(max(times) <= TARGET),
         ", ".join(f"{t:.1f}" for t in times) + (f" (gap {args.gap:g} s)" if args.gap else "")),
        ("memory per kernel (median)", "(info)", f"USS {uss:.0f} MB", "—",
         f"PSS {pss:.0f} MB, RSS {rss:.0f} MB; {warm['kernels_open']} kernels, "
         f"total PSS {total_pss / 1024:.1f} GB"),
        (f"kernels {args.close_wait:g} s after closing all pages", f"≤ {pool} (the pool)",
         str(warm["kernels_after_close"]), status(warm["kernels_after_close"] <= pool),
         "closed pages' kernels stopped; the pre-started ones stay"),
    ]
    if cold is not None:
        rows.append(("cold start: first page as the server starts", f"≤ {TARGET:g} s",
                     f"{cold:.1f} s", status(cold <= TARGET), "kernels still executing"))
    print_table("App start-up: page loads while earlier pages stay open "
                "(python3 workbench.py app, headless Chromium)", rows)


if __name__ == "__main__":
    sys.exit(main())
