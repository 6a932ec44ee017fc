"""Charts of BBB scenarios: the seed's layer picture and gross/net exceedance curves."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from opwb.data.units import EOK
from opwb.insurance.policy import layer_split
from opwb.report.plots.style import _cell, _num, _styled
from opwb.scenarios.alternatives import Alternative

__all__ = ["plot_layer_bands", "plot_exceedance", "scenario_png"]

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
            ax.text(p, top * 1.01, f"보험 {_short(i)}억 / 자본 {_short(c)}억", ha="center",
                    va="bottom", fontsize=8)
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
    return "0" if abs(v) < 0.005 else _cell(v)


def _exceedance(x: np.ndarray, max_period: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Return periods (years) and annual losses for the upper half of a sample, up to
    ``max_period`` years."""
    srt = np.sort(np.asarray(x, float))
    n = len(srt)
    rank = np.arange(1, n + 1)
    period = (n + 1) / (n + 1 - rank)
    keep = np.flatnonzero((period >= 2) & (period <= max_period))
    if len(keep) > 1500:  # thin to log-spaced return periods: the picture, not every point
        grid = np.unique(np.searchsorted(period[keep], np.geomspace(2, period[-1], 1500)))
        keep = keep[np.minimum(grid, len(keep) - 1)]
    return period[keep], srt[keep]


def plot_exceedance(gross: np.ndarray, nets: dict[str, np.ndarray], *, ax: Axes | None = None,
                    title: str = "연간 손실 초과 곡선 (exceedance curve)",
                    alpha: float = 0.999) -> Axes:
    """Annual loss against return period (log axes), gross and net of each alternative."""
    with _styled(ax, (7, 4)) as ax:
        horizon = 10 / (1 - alpha)  # ten times the capital return period
        p, v = _exceedance(gross, horizon)
        ax.plot(p, v / EOK, color="black", lw=1.6, label="보험 전 (gross)")
        colors = ["#2980b9", "#27ae60", "#8e44ad", "#e67e22", "#16a085"]
        for (name, net), col in zip(nets.items(), colors * 4):
            p, v = _exceedance(net, horizon)
            ax.plot(p, v / EOK, color=col, lw=1.2, ls="--", label=f"보험 후 (net): {name}")
        ax.axvline(1 / (1 - alpha), color="#c0392b", lw=0.8, ls=":")
        ax.text(1 / (1 - alpha), ax.get_ylim()[0], f" {alpha:.1%}", color="#c0392b",
                fontsize=8, va="bottom")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _p: f"{x:,.0f}년"))
        ax.yaxis.set_major_formatter(FuncFormatter(_num))
        ax.set_xlabel("재현기간 (return period, 년)")
        ax.set_ylabel("연간 손실 (억원)")
        ax.set_title(title)
        ax.legend(loc="upper left", fontsize=8)
    return ax


def scenario_png(alternatives: Sequence[Alternative], loss: float, gross: np.ndarray,
                 nets: dict[str, np.ndarray], *, highlight: int | None = None,
                 alpha: float = 0.999, dpi: int = 90) -> bytes:
    """The layer bands and the exceedance curves side by side, as PNG bytes (for widgets;
    uses a bare Figure, so nothing is displayed or kept by pyplot)."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 4.6))  # fixed margins: constrained layout would draw twice
    left, right = fig.subplots(1, 2)
    plot_layer_bands(alternatives, loss, ax=left, highlight=highlight)
    plot_exceedance(gross, nets, ax=right, alpha=alpha)
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.11, top=0.93, wspace=0.17)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
