"""The predictive evidence section (tables of robustness, facts and what decides the answer)
fits a 1024-px laptop: rendered in Chromium with the app's CSS in a box as wide as the
page's content, no table runs past it and the last column of "권고를 바꾸는 가정" is whole
(a manager found it cut at "바뀐" before its cells could wrap).

The heat map's legend is readable where the page shows it (a manager measured it about 7 px
high on a 1024-px page): its text is at least 12 px at 1024 px and 14 px at 1920 px, as
rendered — the figure's font size (pt) × dpi / 72 × the width the page's CSS gives the image
/ the image's own width in pixels (px are CSS px of font size, as the browser test measures
the chart text)."""
from __future__ import annotations

import re

import pytest

from opwb.app.render import CSS, FIGURE_DPI, robust_section_html

#: (page width, the smallest legend text allowed there, CSS px): issue 21 item 6
LEGEND_MINIMUM = ((1024, 12.0), (1920, 14.0))


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


def _css_px(value: str, viewport: float) -> float:
    """A CSS length in px: ``441px``, ``40vw`` or ``max(...)``/``min(...)`` of such."""
    value = value.strip()
    m = re.fullmatch(r"(max|min)\((.*)\)", value)
    if m:
        parts = [_css_px(v, viewport) for v in m.group(2).split(",")]
        return max(parts) if m.group(1) == "max" else min(parts)
    m = re.fullmatch(r"([\d.]+)(px|vw)", value)
    assert m, f"unexpected CSS length {value!r}"
    return float(m.group(1)) * (1.0 if m.group(2) == "px" else viewport / 100)


def heatmap_shown_width(viewport: float) -> float:
    """The narrowest the page shows the heat map image at a page ``viewport`` px wide: its
    box's CSS min-width there, capped by its max-width (the image fills its box)."""
    box = re.search(r"\.opwb-heatmap-box\s*\{([^}]*)\}", CSS).group(1)
    rules = dict((k.strip(), v.strip()) for k, v in
                 (r.split(":", 1) for r in box.split(";") if ":" in r))
    assert re.search(r"img\.opwb-heatmap\s*\{[^}]*width:\s*100%", CSS)
    return min(_css_px(rules["min-width"], viewport), _css_px(rules["max-width"], viewport))


def legend_texts(fig):
    """The heat map's legend: every visible text outside the heat map's own axes (the key
    under it; a colour bar's ticks and label, were there one)."""
    from matplotlib.text import Text

    heat = [ax for ax in fig.axes if ax.images][0]
    texts = list(fig.texts) + [t for ax in fig.axes if ax is not heat for t in ax.findobj(Text)]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def test_heat_map_legend_is_readable_at_1024_and_1920():
    import numpy as np
    import pandas as pd

    from opwb.app.dashboard import HEATMAP_INCHES
    from opwb.data.units import EOK
    from opwb.report.plots.scenario import frontier_figure

    ds, ls = np.array([5, 10, 50, 200]) * EOK, np.array([50, 300, 1000, 1500]) * EOK
    table = pd.DataFrame([(d, L, (L / d - 30) * EOK) for d in ds for L in ls],
                         columns=["deductible", "limit", "net_benefit"])
    fig = frontier_figure(table, size=HEATMAP_INCHES)
    legend = legend_texts(fig)
    assert legend, "the heat map has no legend"
    natural = fig.get_figwidth() * FIGURE_DPI             # the PNG's width, image px
    for viewport, minimum in LEGEND_MINIMUM:
        shown = heatmap_shown_width(viewport)
        for t in legend:
            px = t.get_fontsize() * FIGURE_DPI / 72 * shown / natural
            assert px >= minimum, (viewport, t.get_text(), t.get_fontsize(), shown, px)

    # drawn whole and clear of the axis labels and tick labels above it
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    heat = [ax for ax in fig.axes if ax.images][0]
    above = [heat.xaxis.label, *heat.get_xticklabels()]
    for t in legend:
        box = t.get_window_extent(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1 and fig.bbox.y0 <= box.y0
        assert all(not box.overlaps(a.get_window_extent(renderer)) for a in above
                   if a.get_text().strip()), t.get_text()
