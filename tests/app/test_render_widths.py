"""The predictive evidence section (tables of robustness, facts and what decides the answer)
fits a 1024-px laptop: rendered in Chromium with the app's CSS in a box as wide as the
page's content, no table runs past it and the last column of "권고를 바꾸는 가정" is whole
(a manager found it cut at "바뀐" before its cells could wrap)."""
from __future__ import annotations

import pytest

from opwb.app.render import CSS, robust_section_html


@pytest.fixture(scope="module")
def section(bundled_predictive):
    robust = bundled_predictive
    return robust_section_html(robust, robust.answer, True)


def test_the_what_decides_table_wraps_within_a_1024_page(section, chromium):
    page = chromium.new_page(viewport={"width": 1024, "height": 768})
    try:
        page.route("**/*", lambda route: route.abort())     # nothing is fetched
        page.set_content(f"<html><body>{CSS}<div class='opwb-app' style='width:990px'>"
                         f"{section}</div></body></html>")
        boxes = page.evaluate("""() => Array.from(
            document.querySelectorAll('.opwb-robust table')).map(t => {
                const b = t.getBoundingClientRect(); return {right: b.right, width: b.width};
            })""")
        assert len(boxes) == 3
        turns = page.locator("table.opwb-turns")
        assert turns.count() == 1
        box = turns.bounding_box()
        assert box["x"] + box["width"] <= 1000, box
        last = page.locator("table.opwb-turns tr th").last.bounding_box()
        assert last["x"] + last["width"] <= 1000, last
    finally:
        page.close()
