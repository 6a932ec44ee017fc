"""Charts of BBB scenarios: the seed's layer picture and gross/net exceedance curves."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from opwb.data.units import EOK, format_number
from opwb.insurance.policy import layer_split
from opwb.report.plots.style import _num, _styled
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.evaluation import exceedance_curve

__all__ = ["FRONTIER_LEGEND", "LEGEND_FONTSIZE", "plot_layer_bands", "plot_exceedance",
           "plot_frontier", "scenario_png", "frontier_figure", "frontier_png"]

_EXPENSE, _INSURER, _CAPITAL = "#95a5a6", "#2980b9", "#c0392b"


def plot_layer_bands(alternatives: Sequence[Alternative], loss: float, *,
                     ax: Axes | None = None, highlight: int | None = None) -> Axes:
    """Stacked bars: how a single ``loss`` splits into expense, insurance and capital under
    each alternative (seed slide 1-4). ``highlight`` marks the chosen alternative."""
    splits = [layer_split(loss, a.policy()) for a in alternatives]
    parts = np.array([[d["expense"], d["insurance"], d["capital"]] for d in splits]) / EOK
    with _styled(ax, (7, 4)) as ax:
        pos = np.arange(len(alternatives))
        ax.bar(pos, parts[:, 0], color=_EXPENSE, label="비용 (공제금액 이하, expense)")
        ax.bar(pos, parts[:, 1], bottom=parts[:, 0], color=_INSURER,
               label="보험사 부담 (insurer)")
        ax.bar(pos, parts[:, 2], bottom=parts[:, 0] + parts[:, 1], color=_CAPITAL,
               label="자본 부담 (capital)")
        top = loss / EOK
        for p, (e, i, c) in zip(pos, parts):
            ax.text(p, top * 1.01, f"비용 {_short(e)} · 보험 {_short(i)} · 자본 {_short(c)}억",
                    ha="center", va="bottom", fontsize=8)
        if highlight is not None:
            for bar in ax.patches[highlight::len(alternatives)]:
                bar.set_linewidth(2.0)
                bar.set_edgecolor("black")
        ax.set_xticks(pos, [a.name for a in alternatives], fontsize=8)
        ax.yaxis.set_major_formatter(FuncFormatter(_num))
        ax.set_ylim(0, top * 1.32)
        ax.set_ylabel("억원")
        ax.set_title(f"손실 {_num(top)}억원 한 건의 분담 (one loss of {_num(top)}억)")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper center", ncol=3, fontsize=8, frameon=False)
    return ax


def _short(v: float) -> str:
    """억원 amount of a band: whole numbers without decimals (5, 30, 595), else one."""
    if abs(v) < 0.005:
        return "0"
    return f"{v:,.0f}" if abs(v - round(v)) < 0.05 else f"{v:,.1f}"


def _exceedance(x, max_period: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Return periods (years) and annual losses up to ``max_period`` years: of an exceedance
    curve ``(periods, losses)`` (:func:`opwb.scenarios.evaluation.exceedance_curve`, e.g.
    the stored ones of :func:`~opwb.scenarios.evaluation.exceedance_of`) or of a sample of
    annual losses."""
    if isinstance(x, tuple):
        period, loss = (np.asarray(v, float) for v in x)
    else:
        period, loss = exceedance_curve(x)
    keep = period <= max_period
    return period[keep], loss[keep]


def plot_exceedance(gross, nets: dict, *, ax: Axes | None = None,
                    title: str = "연간 손실 초과 곡선 (exceedance curve)",
                    alpha: float = 0.999) -> Axes:
    """Annual loss against return period (log axes), gross and net of each alternative:
    ``gross`` and each of ``nets`` a sample of annual losses (KRW) or its exceedance curve
    ``(return periods, losses)`` (:func:`opwb.scenarios.evaluation.exceedance_of`).

    Each curve has its own colour, dash pattern and width (they are told apart in print
    too); the capital's return period ``1/(1 − alpha)`` is a labelled vertical line."""
    with _styled(ax, (7, 4)) as ax:
        horizon = 10 / (1 - alpha)  # ten times the capital return period
        p, v = _exceedance(gross, horizon)
        ax.plot(p, v / EOK, color="black", lw=2.0, label="보험 전 (gross)")
        styles = [("#2980b9", (0, (6, 2)), 1.6), ("#e67e22", (0, (2, 1.5)), 1.8),
                  ("#27ae60", (0, (8, 2, 2, 2)), 1.4), ("#8e44ad", (0, (1, 1)), 1.6),
                  ("#16a085", (0, (4, 1, 1, 1)), 1.4)]
        for (name, net), (col, dash, lw) in zip(nets.items(), styles * 4):
            p, v = _exceedance(net, horizon)
            ax.plot(p, v / EOK, color=col, lw=lw, ls=dash, label=f"보험 후: {name}")
        period = 1 / (1 - alpha)
        ax.axvline(period, color="#c0392b", lw=0.9, ls=":")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(1.8, horizon * 1.6)
        ax.text(period, 0.98, f"{period:,.0f}년 ({alpha:.1%})", color="#c0392b", fontsize=8,
                ha="center", va="top", transform=ax.get_xaxis_transform(),
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.0})
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:,.0f}년"))
        ax.yaxis.set_major_formatter(FuncFormatter(_num))
        ax.set_xlabel("재현기간 (return period)")
        ax.set_ylabel("연간 손실 (억원)")
        ax.set_title(title)
        ax.legend(loc="lower right", fontsize=8)
    return ax


#: The heat map's views: value column → (default title, sequential colour scale?).
FRONTIER_VIEWS = {
    "net_benefit": ("구조별 기대 순편익 (net benefit, 억원/년)", False),
    "break_even_premium": ("구조별 손익분기 보험료 (break-even premium, 억원/년)", True),
}


def plot_frontier(table, *, value: str = "net_benefit", eligible=None,
                  recommended: tuple[float, float] | None = None,
                  named: Sequence[Alternative] = (), ax: Axes | None = None,
                  title: str | None = None) -> Axes:
    """The frontier as a heat map: deductible (rows) × limit (columns), coloured by
    ``value`` (a column of ``table``, KRW, shown in whole 억원); structures outside the risk
    appetite (``eligible`` False) are greyed and hatched, ``named`` alternatives on the grid
    are circled, the ``recommended`` (deductible, limit) is boxed with a star.

    ``value="net_benefit"`` (default) is coloured on a diverging scale centred at 0 (gain
    green, loss red); ``value="break_even_premium"`` — the premium at which a structure's
    net benefit is zero, a column the caller adds from
    :func:`opwb.decision.robust.break_even` — on a sequential scale (a dearer premium the
    structure is still worth paying is darker). ``title`` default: the view's
    (:data:`FRONTIER_VIEWS`)."""
    from matplotlib.patches import Rectangle
    from matplotlib.patheffects import withStroke

    if value not in table.columns:
        raise KeyError(f"the frontier table has no column {value!r}"
                       + (" (add it from opwb.decision.robust.break_even)"
                          if value == "break_even_premium" else ""))
    default_title, sequential = FRONTIER_VIEWS.get(value, (value, False))
    ds, ls, grid, ok = _frontier_grid(table, value, eligible)
    with _styled(ax, (7, 4)) as ax:
        norm, cmap, dark_above = _frontier_scale(grid, sequential)
        shown = np.where(ok, grid, np.nan)
        ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", origin="upper")
        for i in range(ds.size):
            for j in range(ls.size):
                if np.isnan(grid[i, j]):
                    ax.add_artist(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white",
                                           edgecolor="#eeeeee"))
                    continue
                if not ok[i, j]:
                    ax.add_artist(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="#e5e5e5",
                                           hatch="///", edgecolor="#bbbbbb", lw=0.0))
                dark = ok[i, j] and dark_above(grid[i, j])   # white on the darkest
                ax.text(j, i, _whole(grid[i, j]), ha="center", va="center", fontsize=7.5,
                        color="#555555" if not ok[i, j] else ("white" if dark else "black"))
        for alt in named:
            if alt.deductible in ds and alt.limit in ls:
                i, j = np.searchsorted(ds, alt.deductible), np.searchsorted(ls, alt.limit)
                ax.add_artist(_named_marker(j, i))
        if recommended is not None and recommended[0] in ds and recommended[1] in ls:
            i, j = np.searchsorted(ds, recommended[0]), np.searchsorted(ls, recommended[1])
            halo = [withStroke(linewidth=4.0, foreground="white")]   # seen on dark cells
            ax.add_artist(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black",
                                   lw=2.4, path_effects=halo))
            ax.text(j + 0.42, i - 0.38, "★", ha="right", va="top", fontsize=10,
                    color="black", path_effects=halo)
        ax.set_xticks(range(ls.size), [f"{x / EOK:,.0f}" for x in ls], fontsize=8)
        ax.set_yticks(range(ds.size), [f"{x / EOK:,.0f}" for x in ds], fontsize=8)
        ax.set_xlabel("보상한도 (limit, 억원)")
        ax.set_ylabel("공제금액 (deductible, 억원)")
        ax.grid(False)
        ax.set_title(default_title if title is None else title)
    return ax


def _frontier_grid(table, value: str, eligible):
    """Deductibles, limits, the (deductible × limit) grid of ``value`` in 억원 (NaN where
    the table has no structure) and whether each cell is within the appetite."""
    ds = np.unique(table["deductible"].to_numpy(float))
    ls = np.unique(table["limit"].to_numpy(float))
    grid = np.full((ds.size, ls.size), np.nan)
    ok = np.ones((ds.size, ls.size), dtype=bool)
    el = (np.ones(len(table), dtype=bool) if eligible is None
          else np.asarray(eligible, dtype=bool))
    for (d, L, v), e in zip(table[["deductible", "limit", value]].to_numpy(float), el):
        i, j = np.searchsorted(ds, d), np.searchsorted(ls, L)
        grid[i, j], ok[i, j] = v / EOK, e
    return ds, ls, grid, ok


def _frontier_scale(grid: np.ndarray, sequential: bool):
    """(norm, colormap, is-dark) of the heat map: sequential from the smallest to the
    largest value, or diverging centred at 0 over ± the largest magnitude; a cell's label is
    white where its colour is among the darkest."""
    from matplotlib.colors import Normalize, TwoSlopeNorm

    finite = grid[np.isfinite(grid)]
    if sequential:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        norm = Normalize(vmin=lo, vmax=max(hi, lo + 1e-9))
        return norm, "YlGnBu", lambda v: norm(v) > 0.75
    span = float(max(abs(finite).max(), 1e-9)) if finite.size else 1.0
    return (TwoSlopeNorm(vcenter=0.0, vmin=-span, vmax=span), "RdYlGn",
            lambda v: abs(v) > 0.85 * span)


def _whole(v: float) -> str:
    """A whole number of 억원 with thousands separators and the minus sign U+2212; a value
    that rounds to zero is "0" (never "-0": a structure a hair below break-even is shown as
    breaking even)."""
    return format_number(v, 0)


def _named_marker(x: float, y: float):
    """The marker of a named alternative on the heat map."""
    from matplotlib.patches import Circle
    return Circle((x, y), 0.44, fill=False, edgecolor="#1f3a93", lw=1.6, ls="--")


def scenario_png(alternatives: Sequence[Alternative], loss: float, gross, nets: dict, *,
                 highlight: int | None = None, alpha: float = 0.999, dpi: int = 90) -> bytes:
    """The layer bands and the exceedance curves side by side, as PNG bytes (for widgets;
    uses a bare Figure, so nothing is displayed or kept by pyplot)."""
    def draw() -> bytes:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(13, 4.6))  # fixed margins: constrained layout would draw twice
        left, right = fig.subplots(1, 2)
        plot_layer_bands(alternatives, loss, ax=left, highlight=highlight)
        plot_exceedance(gross, nets, ax=right, alpha=alpha)
        fig.subplots_adjust(left=0.06, right=0.985, bottom=0.12, top=0.92, wspace=0.26)
        return _png(fig, dpi)

    return cached_png("scenario", draw, (tuple(alternatives), float(loss), gross, nets,
                                         highlight, float(alpha), int(dpi)))


#: The font size (pt) of the heat map's legend (the key under it: ★, dashed circle, hatching).
#: The app shows the figure (4.9 in wide) scaled to its box, at least 441 CSS px wide on a
#: 1024-px page (:data:`opwb.app.render.CSS`): 10 pt is then 10/72 × 441/4.9 = 12.5 px, and
#: on a 1920-px page, where the box is at least 40% of the window (768 px), 21.8 px.
LEGEND_FONTSIZE = 10.0

#: The legend's text.
FRONTIER_LEGEND = "★ 굵은 테두리 = 권고   점선 원 = 보험사 견적   빗금 = 위험선호 밖"


def frontier_figure(table, *, value: str = "net_benefit", eligible=None, recommended=None,
                    named=(), size: tuple[float, float] = (7.2, 4.2),
                    title: str | None = None):
    """:func:`plot_frontier` on a bare :class:`~matplotlib.figure.Figure` of ``size``
    inches, with the markers' legend (:data:`FRONTIER_LEGEND`, at
    :data:`LEGEND_FONTSIZE` pt) under it.

    Parameters
    ----------
    table : pandas.DataFrame
        The frontier (``deductible``, ``limit`` and the ``value`` column, KRW).
    value, eligible, recommended, named, title
        As :func:`plot_frontier`.
    size : (float, float)
        The figure's width and height in inches.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot (nothing is displayed or kept).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    ax = fig.subplots()
    plot_frontier(table, value=value, eligible=eligible, recommended=recommended, named=named,
                  ax=ax, title=title)
    fig.text(0.5, 0.01, FRONTIER_LEGEND, ha="center", va="bottom", fontsize=LEGEND_FONTSIZE,
             color="#444444", fontfamily=ax.title.get_fontfamily(), gid="opwb-legend")
    # room under the axes for the tick labels, the axis label and the legend
    bottom = 0.62 + 1.4 * LEGEND_FONTSIZE / 72
    fig.subplots_adjust(left=0.75 / size[0], right=0.99, bottom=bottom / size[1], top=0.9)
    return fig


def frontier_png(table, *, value: str = "net_benefit", eligible=None, recommended=None,
                 named=(), dpi: int = 90, size: tuple[float, float] = (7.2, 4.2),
                 title: str | None = None) -> bytes:
    """:func:`frontier_figure` (of ``value``: ``"net_benefit"`` or
    ``"break_even_premium"``) as PNG bytes at ``dpi``."""
    def draw() -> bytes:
        return _png(frontier_figure(table, value=value, eligible=eligible,
                                    recommended=recommended, named=named, size=size,
                                    title=title), dpi)

    return cached_png("frontier", draw, (table, value, eligible, recommended, tuple(named),
                                         int(dpi), tuple(size), title))


#: Rendered charts kept in the opwb cache folder (the newest; older ones are removed).
PNG_CACHE_KEEP = 400


def cached_png(kind: str, draw, inputs) -> bytes:
    """The PNG bytes ``draw()`` renders for ``inputs``, kept in the opwb cache folder
    (:func:`opwb.scenarios.store.cache_dir`, ``figures/``) under a digest of ``kind``, the
    pickled inputs, matplotlib's version, the fonts in use and this module's source: a
    fresh app kernel shows the charts a page has already drawn for the same answer without
    drawing them again (rendering is deterministic: the same bytes). Inputs that cannot be
    pickled, or a folder that cannot be written, only mean drawing again."""
    import hashlib
    import inspect
    import os
    import pickle
    import sys

    import matplotlib

    from opwb.scenarios.store import cache_dir
    try:
        fonts = (matplotlib.rcParams["font.family"], matplotlib.rcParams["font.sans-serif"][:4])
        blob = pickle.dumps((kind, inputs, matplotlib.__version__, fonts,
                             inspect.getsource(sys.modules[__name__])), protocol=4)
    except Exception:  # noqa: BLE001 - not picklable: no cache
        return draw()
    folder = cache_dir() / "figures"
    path = folder / f"{hashlib.sha256(blob).hexdigest()[:32]}.png"
    try:
        data = path.read_bytes()
        os.utime(path)
        return data
    except OSError:
        pass
    data = draw()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        old = sorted(folder.glob("*.png"), key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in old[PNG_CACHE_KEEP:]:
            stale.unlink(missing_ok=True)
    except OSError:
        pass
    return data


def _png(fig, dpi: int) -> bytes:
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
