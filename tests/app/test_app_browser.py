"""The Voila app as a manager uses it, in headless Chromium, at a workshop laptop's 1024×768
and at 1440×900: the answer is on the first screen, a risk-appetite change changes it
within a second, a bad value leaves no result looking current, and the page works with every
request that leaves 127.0.0.1 blocked.

The app is started exactly as the README says (``python3 workbench.py app``); the figures
on the page are checked against the Python API on the same specification. Screenshots go to
``test-artifacts/`` (look at them: Korean must render, nothing may overlap).
"""
from __future__ import annotations

import ast
import json
import re
import time

import pytest

import opwb
from opwb.scenarios.answer import management_answer, structure_ko
from opwb.scenarios.spec import DEFAULT_SPEC, Appetite, bundled_inputs
from tests.conftest import block_outside, data_of, enter

pytestmark = pytest.mark.browser
NOTEBOOK = opwb.DATA_DIR.parent / "notebooks" / "03_bbb_scenarios.ipynb"
ANSWER_OK = '.opwb-answer-state[data-state="ok"]'
RESULT_OK = '.opwb-result[data-state="ok"]'
EOK = opwb.EOK


def notebook_parameters() -> dict:
    """The app's parameters, read from the notebook's ``parameters`` cell."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells
                  if "parameters" in c.get("metadata", {}).get("tags", []))
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body if isinstance(node, ast.Assign)}


@pytest.fixture(scope="module")
def api():
    """The app's answer through the Python API, and an appetite that changes it."""
    p = notebook_parameters()
    assert p["case_path"] is None          # the app serves the bundled case by default
    robust = opwb.predictive_answer(DEFAULT_SPEC)   # the app answers on the predictive model
    bases = robust.bases
    _, _, quotes = bundled_inputs()
    appetite = DEFAULT_SPEC.appetite       # the case's appetite (data/case.toml)
    first = robust
    rec = first.recommendations[True]
    # a premium ceiling just below the recommendation's premium (on the predictive model no
    # structure within the premium keeps less internal-fraud loss than the recommendation)
    ceiling = int(float(rec.structure["premium"]) // EOK) - 1
    second = robust.with_answer(management_answer(
        bases, quotes, frontiers=first.answer.frontiers,
        appetite=Appetite(ceiling * EOK, appetite.max_retained_if_1in100)))
    assert not second.recommendations[True].same_structure(rec)
    return first, ceiling, second


def test_answer_first_then_appetite_then_bad_input_at_1024(served_app, chromium, screenshot,
                                                           api):
    first, ceiling, second = api
    page = chromium.new_page(viewport={"width": 1024, "height": 768}, locale="ko-KR")
    outside = block_outside(page, served_app.port)
    try:
        page.goto(served_app.url, wait_until="domcontentloaded", timeout=180_000)
        page.wait_for_selector(ANSWER_OK, timeout=180_000)
        page.wait_for_selector(RESULT_OK, state="attached", timeout=60_000)
        page.wait_for_timeout(500)
        rec = first.recommendations[True]
        data = data_of(page, ANSWER_OK)
        assert (float(data["rec-limit"]), float(data["rec-deductible"])) == \
            (rec.limit, rec.deductible)
        # the answer and the appetite controls are in the first viewport, no scrolling
        card = page.locator(ANSWER_OK).bounding_box()
        control = page.locator(".opwb-max-retained input").bounding_box()
        assert card["y"] >= 0 and card["y"] + card["height"] <= 768
        assert control["y"] + control["height"] <= 768
        card_text = page.inner_text(ANSWER_OK)
        sentence = page.inner_text(f"{ANSWER_OK} .opwb-sentence")
        assert sentence == first.sentence_ko(True)
        assert structure_ko(rec.deductible, rec.limit) in sentence
        # the executive's sentence: the share of worlds and the break-even premium, no
        # statistics vocabulary (the precision is in the detail line below it)
        assert re.search(r"\d+개 경우 중 \d+%에서 가장 유리", sentence)
        assert "손익분기 보험료" in sentence
        for word in ("±", "paired", "표준오차", "시드"):
            assert word not in sentence, word
        assert re.search(r"[+-]?[\d,.]+ ± [\d,.]+억원", card_text)      # in the detail
        assert "CD 사건을" in sentence and "(는)" not in sentence
        text = page.inner_text("body")
        assert "Traceback" not in text and "import opwb" not in text
        assert "Executing" not in text and ".csv" not in text   # no "edit the CSV file"
        screenshot(page, "app-1024-answer")

        # a risk-appetite change: the recommendation changes within a second
        new = second.recommendations[True]
        enter(page, "max-premium", str(ceiling))
        t0 = time.monotonic()
        page.wait_for_selector(f'{ANSWER_OK}[data-rec-limit="{new.limit!r}"]'
                               f'[data-rec-deductible="{new.deductible!r}"]', timeout=1_000)
        took = time.monotonic() - t0
        assert structure_ko(new.deductible, new.limit) in page.inner_text(ANSWER_OK)
        screenshot(page, "app-1024-appetite")

        # a bad value: an error, and no result left looking current
        enter(page, "max-premium", "-5")
        page.wait_for_selector('.opwb-answer-state[data-state="error"]', timeout=10_000)
        assert page.locator(ANSWER_OK).count() == 0
        assert "0 이상의 금액" in page.inner_text(".opwb-answer")
        opacity = page.eval_on_selector(".opwb-stale", "el => getComputedStyle(el).opacity")
        assert float(opacity) < 0.5
        screenshot(page, "app-1024-bad-input")
        enter(page, "max-premium", "70")
        page.wait_for_selector(ANSWER_OK, timeout=10_000)
        assert page.locator(".opwb-stale").count() == 0
    finally:
        page.close()
    print(f"appetite change shown after {took:.2f} s; blocked outside requests: {outside}")


def test_answer_at_1440_and_explorer_matches_api(served_app, chromium, screenshot, api):
    first, _, _ = api
    page = chromium.new_page(viewport={"width": 1440, "height": 900}, locale="ko-KR")
    block_outside(page, served_app.port)
    try:
        page.goto(served_app.url, wait_until="domcontentloaded", timeout=180_000)
        page.wait_for_selector(ANSWER_OK, timeout=180_000)
        page.wait_for_selector(RESULT_OK, state="attached", timeout=60_000)
        card = page.locator(ANSWER_OK).bounding_box()
        assert card["y"] + card["height"] <= 900
        enter(page, "limit", "1000")
        page.wait_for_selector(f'{RESULT_OK}[data-limit="{1000 * EOK!r}"]', timeout=30_000)
        from opwb import scenarios as sc
        _, _, quotes = bundled_inputs()
        expect = sc.evaluate(first.bases[True],
                             quotes[1].replace(limit=1000 * EOK), DEFAULT_SPEC.settings)
        got = data_of(page, RESULT_OK)
        assert float(got["net-var"]) == expect["net_var"]
        assert float(got["expected-recovery"]) == expect["expected_recovery"]
        enter(page, "deductible", "2000")
        page.wait_for_selector('.opwb-result[data-state="error"]', state="attached",
                               timeout=10_000)
        assert "공제금액이 보상한도보다 큽니다" in page.inner_text(".opwb-error")
        screenshot(page, "app-1440-explorer-bad")
    finally:
        page.close()
