"""The app on a bank's own case, as its managers see it, in headless Chromium.

``python3 workbench.py app --case <case.toml>`` serves the second, invented bank of
:mod:`tests.cases` (한누리은행: Korean headers, FSS names, a 500만원 threshold, no reference
incident, its bond "FIB-2006", a 1,500억 quote). At a workshop laptop's 1024×768 and at
1920×1080, with every request that leaves 127.0.0.1 blocked (and none attempted), the page
shows the bank's name, the API's answer sentence and recommendation on the case, no
incident toggle and nothing of the bundled bank (:data:`tests.cases.SECOND_BANK_FORBIDDEN`),
the frontier heat map, and a lower premium ceiling gives the API's recommendation under that
appetite. "이 결과 저장" records the page's run in the case's store (nothing before the click)
and two runs compare.

The notebook's own markdown cells (below the dashboard) still name the bundled bank's 2005
CD incident on every case: the test checks everything else on the page first and then marks
itself as an expected failure naming what they show (it passes by itself once they no
longer do).

The answer is the one on the case's predictive model (:func:`opwb.predictive_answer`; the
first screen says its share of worlds and break-even premium). The scenario bases and the
predictive model are built once: the module's ``api`` fixture builds (or loads) them into
the user's cache (``$OPWB_CACHE_DIR`` or ``~/.cache/opwb``, as the test process has it) and
the launcher's ``prepare`` step, run with the same environment, finds them there. Screenshots
go to ``test-artifacts/app-case-*.png`` (look at them: Korean must render, nothing may overlap).
"""
from __future__ import annotations

import re

import pytest

import opwb
from opwb.scenarios import case_inputs, management_answer, spec_for
from opwb.scenarios.answer import structure_ko
from opwb.scenarios.spec import Appetite
from opwb.scenarios.store import entry_path
from tests.cases import SECOND_BANK, SECOND_BANK_FORBIDDEN, forbidden_in
from tests.conftest import block_outside, data_of, enter

pytestmark = pytest.mark.browser

ANSWER = ".opwb-answer-state[data-state]"
ANSWER_OK = '.opwb-answer-state[data-state="ok"]'
LOW_PREMIUM_EOK = 40          # the lowered premium ceiling (억원)
SIZES = ((1024, 768), (1920, 1080))
PAGE_TIMEOUT = 240_000        # ms: the first page may wait for a kernel still executing


@pytest.fixture(scope="module")
def api(second_bank_case):
    """The case's answer through the Python API (its bases built into, or loaded from, the
    same store the app's ``prepare`` step uses), and the answer under a lower premium
    ceiling."""
    case = opwb.load_case(second_bank_case)
    _, _, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    robust = opwb.predictive_answer(spec, case=case)   # the app answers on the predictive model
    bases = robust.bases
    assert list(bases) == [True]                 # no reference incident: one base
    first = robust
    low = robust.with_answer(management_answer(
        bases, quotes, spec=spec, frontiers=robust.answer.frontiers,
        appetite=Appetite(max_premium=LOW_PREMIUM_EOK * opwb.EOK)))
    assert first.ok(True) and low.ok(True)
    assert not low.recommendations[True].same_structure(first.recommendations[True]), \
        "the lowered premium ceiling must change the recommendation for this test to mean much"
    return spec, first, low


def wait_for_sentence(page, sentence: str, timeout: float = 30_000) -> str:
    """The answer card's text once it holds ``sentence`` (the app draws the answer twice:
    a fast pass, then the paired errors); fails with the card's text if it never does."""
    try:
        page.wait_for_function(
            "s => { const el = document.querySelector('.opwb-answer-state[data-state=\"ok\"]');"
            " return el !== null && el.innerText.includes(s); }",
            arg=sentence, timeout=timeout)
    except Exception:  # playwright's TimeoutError: show what the page says instead
        text = page.inner_text(ANSWER) if page.locator(ANSWER).count() else "(no answer card)"
        raise AssertionError(f"answer card does not say the API's sentence\n"
                             f"  API : {sentence}\n  page: {text}") from None
    return page.inner_text(ANSWER_OK)


def rec_of(page) -> tuple[float, float]:
    data = data_of(page, ANSWER_OK)
    return float(data["rec-limit"]), float(data["rec-deductible"])


def check_first_screen(page, width: int, height: int) -> None:
    """The answer card and the risk-appetite controls are in the first viewport, the
    card above the controls (not overlapping them)."""
    card = page.locator(ANSWER_OK).bounding_box()
    control = page.locator(".opwb-max-premium input").bounding_box()
    assert card["x"] >= 0 and card["x"] + card["width"] <= width, card
    assert card["y"] >= 0 and card["y"] + card["height"] <= height, card
    assert control["y"] + control["height"] <= height, control
    assert card["y"] + card["height"] <= control["y"], (card, control)


_TEXTS_JS = """() => {
    const all = document.body.innerText;
    const md = Array.from(document.querySelectorAll('.jp-MarkdownCell'));
    const shown = md.map(el => el.style.display);
    md.forEach(el => { el.style.display = 'none'; });
    const rest = document.body.innerText;
    md.forEach((el, i) => { el.style.display = shown[i]; });
    return [all, rest];
}"""


def around(text: str, needles, width: int = 30) -> list[str]:
    """The places ``text`` holds one of ``needles``, each with ``width`` characters around
    it (overlapping places merged)."""
    spans = sorted((max(0, m.start() - width), m.end() + width)
                   for s in needles for m in re.finditer(re.escape(s), text))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [text[a:b].replace("\n", " ") for a, b in merged]


def bundled_text(text: str) -> list[str]:
    """The strings of the bundled bank (and its incident's "CD") that ``text`` holds."""
    return forbidden_in(text, (*SECOND_BANK_FORBIDDEN, "CD"))


def check_page_text(page) -> list[str]:
    """Nothing of the bundled bank, no incident toggle and no error on the page: hard
    assertions on everything the page shows but the notebook's own markdown cells (the
    dashboard and every output); returns what the markdown cells alone show of the
    bundled bank (``document.body.innerText`` with them, see the test)."""
    body, outputs = page.evaluate(_TEXTS_JS)
    found = bundled_text(outputs)
    assert not found, f"the app shows the bundled bank's {found}: {around(outputs, found)}"
    assert "Traceback" not in body and "Error" not in body
    # no toggle between "with" and "without" a reference incident
    assert page.locator(".opwb-cd").count() == 0
    assert page.locator("button", has_text=re.compile("포함|제외")).count() == 0
    app_text = page.inner_text(".opwb-app")
    assert "포함" not in app_text and "제외" not in app_text
    assert "손실 데이터 (loss data)" not in app_text
    return around(body, bundled_text(body))


def check_heatmap(page) -> None:
    img = page.locator("img.opwb-heatmap")
    assert img.count() == 1
    img.wait_for(state="visible", timeout=30_000)
    natural = page.eval_on_selector("img.opwb-heatmap",
                                    "el => [el.complete, el.naturalWidth, el.naturalHeight]")
    assert natural[0] and natural[1] > 100 and natural[2] > 100, natural
    box = img.bounding_box()
    assert box["width"] > 100 and box["height"] > 100, box


def visit(app, chromium, screenshot, api, width: int, height: int,
          change_appetite: bool) -> dict:
    """One visitor at ``width``×``height``; returns what it saw."""
    _, first, low = api
    rec = first.recommendations[True]
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="ko-KR")
    outside = block_outside(context, app.port)
    page = context.new_page()
    seen: dict = {}
    try:
        page.goto(app.url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT)
        page.wait_for_selector(ANSWER, timeout=PAGE_TIMEOUT)
        assert page.get_attribute(ANSWER, "data-state") == "ok", page.inner_text(ANSWER)
        head = page.inner_text(".opwb-head")
        assert SECOND_BANK in head, head
        seen["head"] = head.splitlines()[0]
        card = wait_for_sentence(page, first.sentence_ko(True))
        assert rec_of(page) == (rec.limit, rec.deductible)
        assert structure_ko(rec.deductible, rec.limit) in card
        check_heatmap(page)
        seen["markdown_leaks"] = check_page_text(page)
        check_first_screen(page, width, height)
        seen["answer"] = card
        screenshot(page, f"app-case-{width}-answer")

        if change_appetite:
            new = low.recommendations[True]
            seq = int(data_of(page, ANSWER_OK)["seq"])
            heat = page.get_attribute("img.opwb-heatmap", "src")
            enter(page, "max-premium", str(LOW_PREMIUM_EOK))
            page.wait_for_function(
                "([seq, lim, ded]) => { const el = document.querySelector("
                "'.opwb-answer-state[data-state=\"ok\"]'); return el !== null"
                " && Number(el.dataset.seq) > seq && el.dataset.recLimit === lim"
                " && el.dataset.recDeductible === ded; }",
                arg=[seq, repr(new.limit), repr(new.deductible)], timeout=30_000)
            assert int(data_of(page, ANSWER_OK)["seq"]) > seq
            assert rec_of(page) == (new.limit, new.deductible)
            card = wait_for_sentence(page, low.sentence_ko(True))
            assert structure_ko(new.deductible, new.limit) in card
            page.wait_for_function(                      # the heat map is redrawn too
                "src => document.querySelector('img.opwb-heatmap').src !== src", arg=heat,
                timeout=10_000)
            check_heatmap(page)
            check_page_text(page)
            check_first_screen(page, width, height)
            seen["appetite"] = card
            screenshot(page, f"app-case-{width}-appetite")
    finally:
        context.close()
    assert outside == [], f"requests leaving 127.0.0.1 were attempted: {outside}"
    return seen


def save_and_compare(app, chromium, screenshot, api, store) -> None:
    """As a manager at quarter end: "이 결과 저장" twice (two named runs of the same page),
    then the comparison of the two: the page's store holds both runs with the API's
    recommendation, and the change of every headline figure is zero (nothing changed)."""
    from opwb.data.runstore import open_store
    _, first, _ = api
    rec = first.recommendations[True]
    context = chromium.new_context(viewport={"width": 1024, "height": 768}, locale="ko-KR")
    outside = block_outside(context, app.port)
    page = context.new_page()
    try:
        page.goto(app.url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT)
        page.wait_for_selector(ANSWER_OK, timeout=PAGE_TIMEOUT)
        assert not store.exists(), "showing the page wrote the run store"
        for n, label in enumerate(("2007Q1", "2007Q1 재계산"), start=1):
            page.locator(".opwb-run-label input").fill(label)
            page.locator(".opwb-run-save").click()
            page.wait_for_selector(f".opwb-run-saved[data-run-id='{n}']", timeout=300_000)
        with open_store(store) as st:
            runs = st.list_runs()
            assert list(runs["label"]) == ["2007Q1", "2007Q1 재계산"]
            doc = st.load("2007Q1")
        assert doc["recommendation"]["True"]["structure"]["limit"] == rec.limit
        assert doc["recommendation"]["True"]["structure"]["deductible"] == rec.deductible
        page.locator(".opwb-run-earlier select").select_option(index=0)   # run 1
        page.locator(".opwb-run-compare").click()
        page.wait_for_selector(".opwb-run-comparison[data-earlier='1'][data-later='2']",
                               timeout=300_000)
        table = page.inner_text(".opwb-run-comparison")
        assert "평가일" in table and "합계" in table, table
        # the same page saved twice: it says so, in words a manager reads first
        assert "입력은 바뀌지 않았습니다" in table and "권고는 그대로입니다" in table, table
        assert structure_ko(rec.deductible, rec.limit) in table
        assert "Traceback" not in page.inner_text("body")
        screenshot(page, "app-case-1024-runs")
    finally:
        context.close()
    assert outside == [], f"requests leaving 127.0.0.1 were attempted: {outside}"


def test_own_case_app_in_the_browser(launch_app, second_bank_case, chromium, screenshot, api):
    spec = api[0]
    store = second_bank_case.parent / "runs.sqlite"
    assert not store.exists()
    app = launch_app(args=("--case", str(second_bank_case)))
    try:
        # the launcher's prepare step found the bases this process built (one build)
        log = app.log()
        assert str(entry_path(spec)) in log, log[-2000:]
        seen = [visit(app, chromium, screenshot, api, w, h, change_appetite=(w == 1024))
                for w, h in SIZES]
        save_and_compare(app, chromium, screenshot, api, store)
    finally:
        status = app.stop()
        store.unlink(missing_ok=True)
    assert status == 0, app.log()[-5000:]
    for (w, h), s in zip(SIZES, seen):
        print(f"{w}×{h}: {s}")
    # the notebook's own markdown, shown by Voila on every case, names no bundled bank either
    leaks = sorted({x for s in seen for x in s["markdown_leaks"]})
    assert not leaks, f"notebook 03's markdown shows the bundled bank's text: {leaks}"
