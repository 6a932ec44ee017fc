"""The Voila app as a manager uses it, in headless Chromium, at a workshop laptop's 1024×768,
at 1440×900 and on a 1920×1080 screen: the answer is on the first screen, a risk-appetite
change changes it within a second, a bad value leaves no result looking current, and the
page works with every request that leaves 127.0.0.1 blocked. At 1920×1080 the page fills the
screen (content at least 1,600 px wide, chart text at least 14 px); at 1024×768 everything
still fits; a settings change shows the work indicator within 0.3 s; no figure reads "-0".

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
BUSY = '.opwb-working-box[data-state="busy"]'
EOK = opwb.EOK
#: "-0", "-0.0", "-0.0%" as a number of its own (not "-0.5", not a date's "-01")
NEGATIVE_ZERO = re.compile(r"(?<![\w.])[-−]0(?:\.0+)?(?![\d.,])")
#: The chart images' displayed and natural widths (CSS px, image px) and right edges.
IMAGE_SIZES = """() => Object.fromEntries(['heatmap', 'chart'].map(name => {
    const img = document.querySelector('img.opwb-' + name);
    const box = img.getBoundingClientRect();
    return [name, {shown: box.width, natural: img.naturalWidth, right: box.right}];
}))"""
#: Records when Enter is pressed in the valuation box and when the work indicator appears.
WATCH_WORK = """() => {
    window.__enter = null; window.__busy = null; window.__greyed = null;
    const box = document.querySelector('.opwb-valuation input');
    box.addEventListener('keydown', e => {
        if (e.key === 'Enter') { window.__enter = performance.now(); }
    }, true);
    new MutationObserver(() => {
        if (window.__busy === null && document.querySelector('%s')) {
            window.__busy = performance.now();
            window.__greyed = document.querySelectorAll('.opwb-busy').length;
        }
    }).observe(document.body, {subtree: true, childList: true, attributes: true,
                               characterData: true});
}""" % BUSY


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



def open_app(chromium, app, width: int, height: int):
    """A Korean page of ``width`` × ``height`` px on the app, every request leaving
    127.0.0.1 blocked, once the answer and the explorer's result are drawn; returns the
    page and the list of blocked URLs (the caller closes the page)."""
    page = chromium.new_page(viewport={"width": width, "height": height}, locale="ko-KR")
    outside = block_outside(page, app.port)
    try:
        page.goto(app.url, wait_until="domcontentloaded", timeout=180_000)
        page.wait_for_selector(ANSWER_OK, timeout=180_000)
        page.wait_for_selector(RESULT_OK, state="attached", timeout=60_000)
    except BaseException:
        page.close()
        raise
    return page, outside

def test_answer_first_then_appetite_then_bad_input_at_1024(served_app, chromium, screenshot,
                                                           api):
    first, ceiling, second = api
    page, outside = open_app(chromium, served_app, 1024, 768)
    try:
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
        assert not NEGATIVE_ZERO.search(text), NEGATIVE_ZERO.search(text)
        # everything fits the laptop's width: the page and both charts
        app = page.locator(".opwb-app").bounding_box()
        assert app["x"] >= 0 and app["x"] + app["width"] <= 1024
        for name, size in page.evaluate(IMAGE_SIZES).items():
            assert 0 < size["right"] <= 1024, (name, size)
        screenshot(page, "app-1024-answer")

        # the heat map's toggle: the break-even premium view, then back to net benefit
        src = lambda: page.eval_on_selector("img.opwb-heatmap", "el => el.src")  # noqa: E731
        before = src()
        page.locator(".opwb-heat-view button", has_text="손익분기 보험료").click()
        page.wait_for_function("s => document.querySelector('img.opwb-heatmap').src !== s",
                               arg=before, timeout=5_000)
        for name, size in page.evaluate(IMAGE_SIZES).items():
            assert 0 < size["right"] <= 1024, (name, size)
        screenshot(page, "app-1024-break-even")
        shown = src()
        page.locator(".opwb-heat-view button", has_text="순편익").click()
        page.wait_for_function("s => document.querySelector('img.opwb-heatmap').src !== s",
                               arg=shown, timeout=5_000)

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
        # the evidence follows the answer: nothing is left greyed
        page.wait_for_selector(".opwb-stale", state="detached", timeout=10_000)
    finally:
        page.close()
    assert outside == [], f"requests leaving 127.0.0.1 were attempted: {outside}"
    print(f"appetite change shown after {took:.2f} s; blocked outside requests: {outside}")


def test_answer_at_1440_and_explorer_matches_api(served_app, chromium, screenshot, api):
    first, _, _ = api
    page, outside = open_app(chromium, served_app, 1440, 900)
    try:
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
        # an absurd amount: its range under the control, the old result greyed
        enter(page, "deductible", "30")
        page.wait_for_selector(RESULT_OK, state="attached", timeout=30_000)
        enter(page, "limit", "1e300")
        page.wait_for_selector('.opwb-limit-msg [data-state="error"]', timeout=10_000)
        page.wait_for_selector('.opwb-result[data-state="error"]', state="attached",
                               timeout=10_000)
        assert "허용 범위" in page.inner_text(".opwb-limit-msg")
        assert "100,000억원" in page.inner_text(".opwb-error")
        box = page.locator(".opwb-limit input").bounding_box()
        msg = page.locator(".opwb-limit-msg").bounding_box()
        assert box["y"] + box["height"] <= msg["y"] + 1 <= box["y"] + box["height"] + 40
        opacity = page.eval_on_selector(".opwb-stale", "el => getComputedStyle(el).opacity")
        assert float(opacity) < 0.5
        text = page.inner_text("body")
        assert "Traceback" not in text and "OverflowError" not in text
        screenshot(page, "app-1440-explorer-absurd")
    finally:
        page.close()
    assert outside == [], f"requests leaving 127.0.0.1 were attempted: {outside}"


def _smallest_text_pt(api) -> dict[str, float]:
    """The smallest font size (pt) of the text the app draws in its heat map and its
    explorer chart, from the same drawing functions (their PNG step captured)."""
    import io

    import numpy as np
    from matplotlib.text import Text

    import opwb.report.plots.scenario as plots

    first, _, _ = api
    _, _, quotes = bundled_inputs()
    figures = []

    def keep(fig, dpi):
        fig.savefig(io.BytesIO(), format="png", dpi=dpi)     # lays out every tick label
        figures.append(fig)
        return b""

    real, plots._png = plots._png, keep
    try:
        plots.frontier_png(first.answer.frontiers[True], named=quotes,
                           size=(4.9, 3.4), recommended=None)
        years = np.random.default_rng(1).lognormal(22, 1.2, 20_000)
        plots.scenario_png(list(quotes[:2]), max(q.limit for q in quotes), years,
                           {q.name: years * 0.9 for q in quotes[:2]}, highlight=1)
    finally:
        plots._png = real
    return {name: min(t.get_fontsize() for t in fig.findobj(Text)
                      if t.get_visible() and t.get_text().strip())
            for name, fig in zip(("heatmap", "chart"), figures)}


def test_page_fills_1920_with_readable_charts_and_shows_work_at_once(served_app, chromium,
                                                                      screenshot, api):
    from opwb.app.render import FIGURE_DPI

    first, _, _ = api
    smallest = _smallest_text_pt(api)
    page, outside = open_app(chromium, served_app, 1920, 1080)
    try:
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        page.wait_for_timeout(500)
        app = page.locator(".opwb-app").bounding_box()
        assert app["width"] >= 1600, app
        sizes = page.evaluate(IMAGE_SIZES)
        for name, size in sizes.items():       # rendered text: pt × dpi/72 × shown/natural
            px = smallest[name] * FIGURE_DPI / 72 * size["shown"] / size["natural"]
            assert px >= 14, (name, smallest[name], size, px)
            assert size["right"] <= 1920
        text = page.inner_text("body")
        assert not NEGATIVE_ZERO.search(text), NEGATIVE_ZERO.search(text)
        assert structure_ko(first.recommendations[True].deductible,
                            first.recommendations[True].limit) in page.inner_text(ANSWER_OK)
        screenshot(page, "app-1920-answer")

        # a settings change: the work indicator within 0.3 s, what it replaces greyed
        seq = int(data_of(page, ANSWER_OK)["seq"])
        page.get_by_text("평가 설정과 모의실험").first.click()
        page.wait_for_selector(".opwb-valuation input", state="visible", timeout=10_000)
        page.evaluate(WATCH_WORK)
        enter(page, "valuation", "2007-06-30")
        page.wait_for_selector(BUSY, state="attached", timeout=10_000)
        enter_at, busy_at, greyed = page.evaluate("[window.__enter, window.__busy, "
                                                  "window.__greyed]")
        assert enter_at is not None and busy_at is not None
        shown_after = (busy_at - enter_at) / 1000
        assert shown_after <= 0.3, f"work indicator after {shown_after:.3f} s"
        assert greyed >= 2                     # the answer's parts and the explorer
        if page.locator(BUSY).count():         # still working: greyed and readable as such
            page.wait_for_timeout(300)
            if page.locator(BUSY).count():
                screenshot(page, "app-1920-working")
        page.wait_for_function(
            f"""() => {{ const el = document.querySelector('{ANSWER_OK}');
                        return el && Number(el.dataset.seq) > {seq}; }}""", timeout=300_000)
        page.wait_for_selector(BUSY, state="detached", timeout=300_000)
        assert page.locator(".opwb-busy").count() == 0
        assert "평가일 2007-06-30" in page.inner_text(".opwb-head")
        text = page.inner_text("body")
        assert not NEGATIVE_ZERO.search(text), NEGATIVE_ZERO.search(text)
    finally:
        page.close()
    assert outside == [], f"requests leaving 127.0.0.1 were attempted: {outside}"
    print(f"work indicator {shown_after * 1000:.0f} ms after Enter; chart text "
          + ", ".join(f"{k} {smallest[k] * FIGURE_DPI / 72 * v['shown'] / v['natural']:.1f} px"
                      for k, v in sizes.items()))
