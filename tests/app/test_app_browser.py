"""The Voila app as a manager uses it: open it in headless Chromium, change the BBB limit
from 400억 to 1,000억, check the page's figures against the Python API, enter a bad value.

The app is started exactly as the README says (``python3 workbench.py app``); screenshots
go to ``test-artifacts/`` (look at them: Korean must render, no code may show).
"""
from __future__ import annotations

import ast
import json

import pytest

import opwb
from opwb import scenarios as sc
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import load_alternatives

pytestmark = pytest.mark.browser
NOTEBOOK = opwb.DATA_DIR.parent / "notebooks" / "03_bbb_scenarios.ipynb"
RESULT_OK = '.opwb-result[data-state="ok"]'


def notebook_parameters() -> dict:
    """The app's parameters, read from the notebook's ``parameters`` cell."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    source = next("".join(c["source"]) for c in cells
                  if "parameters" in c.get("metadata", {}).get("tags", []))
    return {node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(source).body if isinstance(node, ast.Assign)}


@pytest.fixture(scope="module")
def api():
    """The same computation through the Python API, for the app's default inputs."""
    p = notebook_parameters()
    losses = load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(load_programme(opwb.data_path("insurance_programme.csv")))
    alts = load_alternatives(opwb.data_path("bbb_alternatives.csv"))
    base = sc.build_scenario_base(losses, prog, include_cd=True, n_years=p["n_years"],
                                  seed=p["seed"])
    settings = sc.ScenarioSettings(cost_of_capital=p["cost_of_capital"],
                                   valuation_date=p["valuation_date"])
    return base, alts[p["initial_alternative"]], settings


def result_data(page, selector: str = RESULT_OK) -> dict:
    """Wait for the result marker matching ``selector`` (the final values) and read it."""
    page.wait_for_selector(selector, state="attached", timeout=30_000)
    return page.eval_on_selector(
        selector, "el => Object.fromEntries(Array.from(el.attributes, a => [a.name.replace(/^data-/, ''), a.value]))")


def enter(page, control: str, value: str) -> None:
    box = page.locator(f".opwb-{control} input")
    box.fill(value)
    box.press("Enter")


def test_limit_400_to_1000_then_bad_input(served_app, chromium, screenshot, api):
    base, alt, settings = api
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(served_app.url, wait_until="domcontentloaded", timeout=180_000)
        page.wait_for_selector(RESULT_OK, timeout=180_000)
        assert page.locator(".opwb-limit input").input_value() == "400"
        first = result_data(page)
        start = sc.evaluate(base, alt, settings)
        assert float(first["net-var"]) == pytest.approx(start["net_var"], rel=1e-12)
        assert float(first["expected-recovery"]) == pytest.approx(start["expected_recovery"],
                                                                  rel=1e-12)
        screenshot(page, "app-400")

        enter(page, "limit", "1000")
        after = result_data(page, f'{RESULT_OK}[data-limit="{1000 * opwb.EOK!r}"]')
        expect = sc.evaluate(base, alt.replace(limit=1000 * opwb.EOK), settings)
        fell = float(first["net-var"]) - float(after["net-var"])
        rose = float(after["expected-recovery"]) - float(first["expected-recovery"])
        assert fell == pytest.approx(start["net_var"] - expect["net_var"], rel=1e-9, abs=1.0)
        assert rose == pytest.approx(expect["expected_recovery"] - start["expected_recovery"],
                                     rel=1e-9)
        assert fell >= 0 and rose > 0
        text = page.inner_text("body")
        assert "1,000억원" in text and "보험 후 VaR" in text
        assert "import opwb" not in text and "Traceback" not in text  # no code, no tracebacks
        # Hangul is drawn with a real font, not as missing-glyph boxes of one width
        widths = page.evaluate("""() => {
            const c = document.createElement('canvas').getContext('2d');
            c.font = '20px sans-serif';
            return [c.measureText('보험금한도').width, c.measureText('\\u0378\\u0378\\u0378\\u0378\\u0378').width,
                    c.measureText('가').width, c.measureText('힣').width]; }""")
        assert widths[0] != pytest.approx(widths[1]) and widths[2] > 0
        screenshot(page, "app-1000")

        enter(page, "deductible", "-5")
        page.wait_for_selector('.opwb-result[data-state="error"]', state="attached",
                               timeout=30_000)
        message = page.inner_text(".opwb-error")
        assert "입력 오류" in message and "공제금액은 0 이상이어야 합니다" in message
        assert "Traceback" not in page.inner_text("body")
        screenshot(page, "app-bad-input")

        enter(page, "deductible", "30")
        page.wait_for_selector(f'{RESULT_OK}[data-limit="{1000 * opwb.EOK!r}"]', timeout=30_000)
        assert page.inner_text(".opwb-error").strip() == ""
    finally:
        page.close()
