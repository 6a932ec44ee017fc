"""opwb.report.plots.scenario: the frontier heat map's two views (issue 21 item 2).

The break-even view labels each cell with :func:`opwb.decision.robust.break_even`'s premium
in whole 억원 (as the net-benefit view labels its cells: never "-0") on a sequential colour
scale; the appetite's hatching, the quotes' circles and the recommendation's star are those
of the net-benefit view.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import TwoSlopeNorm, to_rgb  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle, Rectangle  # noqa: E402

from opwb.data.units import EOK  # noqa: E402
from opwb.decision.robust import break_even  # noqa: E402
from opwb.report.plots.scenario import frontier_png, plot_frontier  # noqa: E402
from opwb.scenarios.alternatives import Alternative  # noqa: E402

COST_OF_CAPITAL = 0.08
BREAK_EVEN_TITLE = "구조별 손익분기 보험료 (break-even premium, 억원/년)"


def frontier() -> pd.DataFrame:
    """A 3 × 3 frontier with one structure missing; break-even premiums that test the
    rounding: 12.5억 and 0.49억, a thousands separator, a hair below zero (a negative
    relief) and one well below."""
    ds = np.array([5, 5, 5, 10, 10, 10, 50, 50]) * EOK
    ls = np.array([50, 100, 1000, 50, 100, 1000, 100, 1000]) * EOK
    recovery = np.array([10.5, 20.2, 1180.0, 0.49, 15.0, 900.0, 0.2, -3.0]) * EOK
    relief = np.array([25.0, 50.0, 680.0, 0.0, 30.0, 400.0, -4.0, -60.0]) * EOK
    premium = np.array([8.0, 15.0, 500.0, 1.0, 12.0, 480.0, 0.3, 0.1]) * EOK
    return pd.DataFrame({
        "name": [f"s{i}" for i in range(len(ds))], "deductible": ds, "limit": ls,
        "premium": premium, "expected_recovery": recovery,
        "expected_recovery_se": 0.01 * np.abs(recovery),
        "bond_regulatory_relief": relief,
        "net_benefit": recovery - premium + COST_OF_CAPITAL * relief,
        "net_benefit_se": np.full(len(ds), 0.3 * EOK)})


def with_break_even(table: pd.DataFrame, cost_of_capital: float = COST_OF_CAPITAL):
    be = break_even(table, cost_of_capital)
    return table.assign(break_even_premium=be["break_even_premium"]), be


def cell_labels(ax, table: pd.DataFrame) -> dict[tuple[float, float], str]:
    """(deductible, limit) → the text drawn in that cell of a :func:`plot_frontier` Axes
    (the recommendation's star left out)."""
    ds = np.unique(table["deductible"].to_numpy(float))
    ls = np.unique(table["limit"].to_numpy(float))
    out = {}
    for t in ax.texts:
        if t.get_text() == "★":
            continue
        x, y = t.get_position()
        out[(ds[int(round(y))], ls[int(round(x))])] = t.get_text()
    return out


def expected_labels(be: pd.DataFrame) -> dict[tuple[float, float], str]:
    """The break-even premium of each structure as the cells label it: whole 억원 with
    thousands separators and the minus sign U+2212, a value that rounds to zero "0" (never
    "-0")."""
    out = {}
    for d, L, v in be[["deductible", "limit", "break_even_premium"]].to_numpy(float):
        text = f"{v / 1e8:,.0f}"
        out[(d, L)] = "0" if text == "-0" else text.replace("-", "\u2212")
    return out


def luminance(rgb) -> float:
    r, g, b = to_rgb(rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_break_even_cells_are_the_break_even_premiums_in_whole_eok():
    table, be = with_break_even(frontier())
    ax = Figure().subplots()
    assert plot_frontier(table, value="break_even_premium", ax=ax) is ax
    labels = cell_labels(ax, table)
    assert labels == expected_labels(be)
    assert labels[(5 * EOK, 1000 * EOK)] == "1,234"               # 1,180 + 0.08 × 680
    assert labels[(50 * EOK, 100 * EOK)] == "0"                   # 0.2 − 0.32: never "-0"
    assert labels[(50 * EOK, 1000 * EOK)] == "−8"                 # −3 − 4.8, U+2212
    assert (50 * EOK, 50 * EOK) not in labels                     # no such structure
    assert ax.get_title() == BREAK_EVEN_TITLE


def test_break_even_view_is_sequential_and_net_benefit_stays_diverging():
    table, be = with_break_even(frontier())
    ax = Figure().subplots()
    plot_frontier(table, value="break_even_premium", ax=ax)
    image = ax.images[0]
    assert not isinstance(image.norm, TwoSlopeNorm)
    values = np.sort(be["break_even_premium"].to_numpy(float) / EOK)
    assert image.norm.vmin == pytest.approx(values[0])
    assert image.norm.vmax == pytest.approx(values[-1])
    scale = [luminance(image.cmap(x)) for x in np.linspace(0, 1, 256)]
    assert all(a >= b for a, b in zip(scale, scale[1:]))           # sequential: darker up
    assert scale[0] - scale[-1] > 0.6                              # from light to dark
    shades = [luminance(image.cmap(image.norm(v))) for v in values]
    assert all(a >= b for a, b in zip(shades, shades[1:])) and shades[0] > shades[-1]
    assert not ax.texts[0].get_text().startswith(("-0", "−0"))

    net = Figure().subplots()
    plot_frontier(table, ax=net)
    assert isinstance(net.images[0].norm, TwoSlopeNorm)
    assert net.images[0].norm.vcenter == 0.0
    assert net.get_title().startswith("구조별 기대 순편익")


def test_break_even_view_keeps_the_appetite_quotes_and_recommendation_marks():
    table, be = with_break_even(frontier())
    eligible = table["premium"] <= 100 * EOK                     # two structures outside
    quote = Alternative(name="견적 A", limit=100 * EOK, deductible=10 * EOK, premium=12 * EOK)
    marks = {}
    for value in ("net_benefit", "break_even_premium"):
        ax = Figure().subplots()
        plot_frontier(table, value=value, eligible=eligible, named=[quote],
                      recommended=(5 * EOK, 100 * EOK), ax=ax)
        hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
        boxed = [p for p in ax.patches if isinstance(p, Rectangle) and not p.get_fill()]
        circled = [p for p in ax.patches if isinstance(p, Circle)]
        stars = [t.get_position() for t in ax.texts if t.get_text() == "★"]
        marks[value] = (len(hatched), [p.get_xy() for p in boxed],
                        [p.center for p in circled], stars)
    assert marks["net_benefit"] == marks["break_even_premium"]
    assert marks["break_even_premium"][0] == 2
    assert marks["break_even_premium"][2] == [(1, 1)]             # 100억 limit, 10억 deductible


def test_break_even_view_needs_the_column_and_draws_its_own_png():
    table, _ = with_break_even(frontier())
    with pytest.raises(KeyError, match="break_even"):
        plot_frontier(frontier(), value="break_even_premium", ax=Figure().subplots())
    net = frontier_png(table, dpi=40)
    be = frontier_png(table, value="break_even_premium", dpi=40)
    assert be[:8] == b"\x89PNG\r\n\x1a\n" and be != net


def test_a_drawn_chart_is_kept_and_shown_again_byte_for_byte(tmp_path, monkeypatch):
    """cached_png: the second call with the same inputs returns the first render's bytes
    from the cache folder (equal to drawing afresh: rendering is deterministic); other
    inputs are another file; the folder is the opwb cache's, nothing else is written."""
    from opwb.report.plots.scenario import _png, frontier_figure
    monkeypatch.setenv("OPWB_CACHE_DIR", str(tmp_path))
    table, _ = with_break_even(frontier())
    first = frontier_png(table, dpi=40)
    files = sorted((tmp_path / "figures").glob("*.png"))
    assert len(files) == 1 and files[0].read_bytes() == first
    assert frontier_png(table, dpi=40) == first
    assert _png(frontier_figure(table), 40) == first          # a fresh render, no cache
    other = frontier_png(table, value="break_even_premium", dpi=40)
    assert other != first and len(list((tmp_path / "figures").glob("*.png"))) == 2
    moved = table.assign(net_benefit=table["net_benefit"] + EOK)
    assert frontier_png(moved, dpi=40) != first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures"]
