"""Charts of loss data (notebook 01): cell heat maps, annual frequency and severity,
severity distributions, the strategy matrix, claims per policy, the CD incident's layers
and internal versus external large losses.
"""
from __future__ import annotations

from typing import Iterable, Literal

import matplotlib as mpl
import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullFormatter

from opwb.data.taxonomy import BUSINESS_LINES, EVENT_TYPE_CODES, label
from opwb.data.units import EOK, format_krw
from opwb.report.plots.style import (
    _FAMILY,
    _STRATEGY_COLORS,
    _STYLE,
    EVENT_TYPE_COLORS,
    _cell,
    _fontify,
    _log_eok_axis,
    _new_figure,
    _num,
    _register_fonts,
    _styled,
    _subs,
)

__all__ = [
    "plot_cell_heatmap", "plot_annual_frequency", "plot_annual_severity", "plot_severity_panels",
    "plot_severity_ecdf", "plot_strategy_matrix", "plot_claims_record", "plot_incident_layers",
    "plot_external_comparison",
]


def plot_cell_heatmap(table: pd.DataFrame, *, kind: Literal["amount", "count"] = "amount",
                      title: str | None = None, ax: Axes | None = None) -> Axes:
    """Heat map of an event type × business line table (from ``analysis.cell_table``).

    ``kind="amount"`` annotates cells in 억원, ``"count"`` in 건. Colours are on a log scale
    (loss data spans several decades); empty cells are grey with "–". A ``"Total"``
    row/column is shown as 합계.
    """
    values = table.to_numpy(dtype=float) / (EOK if kind == "amount" else 1.0)
    margin = np.zeros(values.shape, dtype=bool)
    margin[[r == "Total" for r in table.index], :] = True
    margin[:, [c == "Total" for c in table.columns]] = True
    inner = np.where(~margin & np.isfinite(values) & (values > 0), values, np.nan)
    pos = inner[np.isfinite(inner)]
    with _styled(ax, (10, 5.2)) as ax:
        cmap = mpl.colormaps["YlOrRd"].with_extremes(bad="#f2f2f2")
        norm = mcolors.LogNorm(pos.min(), pos.max()) if pos.size and pos.min() < pos.max() \
            else None
        im = ax.imshow(np.ma.masked_invalid(inner), cmap=cmap, norm=norm, aspect="auto")
        if margin.any():
            ax.imshow(np.ma.masked_where(~margin, np.ones(values.shape)), aspect="auto",
                      cmap=mcolors.ListedColormap(["white"]))
            for k in np.flatnonzero(margin.all(axis=1)):
                ax.axhline(k - 0.5, color="#555555", lw=1)
            for k in np.flatnonzero(margin.all(axis=0)):
                ax.axvline(k - 0.5, color="#555555", lw=1)
        for (i, j), v in np.ndenumerate(values):
            text = "–" if not (np.isfinite(v) and v > 0) else (
                _cell(v) if kind == "amount" else f"{v:,.0f}")
            dark = norm is not None and np.isfinite(inner[i, j]) and norm(inner[i, j]) > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    fontweight="bold" if margin[i, j] else "normal",
                    color="white" if dark else "#333333")
        ax.set_xticks(range(values.shape[1]), [
            "합계" if c == "Total" else f"{BUSINESS_LINES[c].ko}\n({c})" for c in table.columns])
        ax.set_yticks(range(values.shape[0]), [
            "합계" if r == "Total" else label(r) for r in table.index])
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(False)
        unit = "억원" if kind == "amount" else "건"
        cbar = ax.figure.colorbar(im, ax=ax, shrink=0.85, pad=0.02)
        cbar.set_label(f"{unit} (로그 척도, log scale)")
        _log_eok_axis(cbar.ax.yaxis, _subs(pos))
        cbar.ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_title(title or f"사건유형 × 사업부문 ({unit})")
        _fontify(cbar.ax)
    return ax


def plot_annual_frequency(annual: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Stacked bars of the annual number of events by event type (``analysis.annual_summary``)."""
    counts = annual["count"].unstack("event_type").reindex(columns=list(EVENT_TYPE_CODES))
    with _styled(ax, (9, 4.2)) as ax:
        bottom = np.zeros(len(counts))
        x = np.arange(len(counts))
        for et in counts.columns:
            h = counts[et].fillna(0).to_numpy(dtype=float)
            ax.bar(x, h, bottom=bottom, color=EVENT_TYPE_COLORS[et], label=label(et), width=0.7)
            bottom += h
        for xi, tot in zip(x, bottom):
            ax.annotate(f"{tot:,.0f}건", (xi, tot), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8)
        ax.set_xticks(x, [str(y) for y in counts.index])
        ax.set_xlabel("연도 (year)")
        ax.set_ylabel("손실 건수 (number of events)")
        ax.set_title("연도별 손실 빈도 (annual frequency)")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_annual_severity(annual: pd.DataFrame, stat: Literal["sum", "mean", "max"] = "sum",
                         *, ax: Axes | None = None) -> Axes:
    """Annual loss amount (sum, mean or max, 억원, log axis) by event type, one line each."""
    if stat not in ("sum", "mean", "max"):
        raise ValueError(f"stat must be 'sum', 'mean' or 'max'; got {stat!r}")
    table = annual[stat].unstack("event_type").reindex(columns=list(EVENT_TYPE_CODES)) / EOK
    names = {"sum": "연간 손실 합계 (annual total)", "mean": "건당 평균 손실 (mean severity)",
             "max": "연간 최대 손실 (largest loss)"}
    with _styled(ax, (9, 4.2)) as ax:
        for et in table.columns:
            y = table[et].where(table[et] > 0)
            ax.plot(table.index, y, marker="o", ms=4, lw=1.6, color=EVENT_TYPE_COLORS[et],
                    label=label(et))
        ax.set_yscale("log")
        _log_eok_axis(ax.yaxis, _subs(table.to_numpy()))
        ax.set_xticks(list(table.index), [str(y) for y in table.index])
        ax.set_xlabel("연도 (year)")
        ax.set_ylabel("억원 (로그 척도)")
        ax.set_title(f"사건유형별 {names[stat]}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _by_type(losses: pd.DataFrame, event_types: Iterable[str] | None):
    wanted = list(EVENT_TYPE_CODES if event_types is None else event_types)
    for et in wanted:
        x = losses.loc[losses["event_type"] == et, "gross_loss"].to_numpy(dtype=float) / EOK
        if x.size:
            yield et, np.sort(x[x > 0])


def _threshold_line(ax: Axes, threshold: float | None, text: bool = True) -> None:
    if threshold:
        ax.axvline(threshold / EOK, color="black", ls="--", lw=1)
    if threshold and text:
        ax.annotate(f"수집기준 {_num(threshold / EOK)}억원 (threshold)", (threshold / EOK, 0.97),
                    xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", fontsize=8, va="top")


def plot_severity_panels(losses: pd.DataFrame, *, threshold: float | None = None,
                         bins_per_decade: int = 4, fig=None) -> np.ndarray:
    """Small multiples: one log-scale severity histogram per event type, plus all events.

    Returns the 2 × 4 array of Axes (the last panel shows all event types together).
    """
    x_all = losses["gross_loss"].to_numpy(dtype=float) / EOK
    x_all = x_all[x_all > 0]
    lo, hi = np.floor(np.log10(x_all.min())), np.ceil(np.log10(x_all.max()))
    bins = np.logspace(lo, hi, int((hi - lo) * bins_per_decade) + 1)
    _register_fonts()
    fig = _new_figure((12, 5.6)) if fig is None else fig
    with mpl.rc_context(_STYLE):
        axes = fig.subplots(2, 4, sharex=True)
        data = dict(_by_type(losses, None))
        for ax, et in zip(axes.flat, [*EVENT_TYPE_CODES, None]):
            x = x_all if et is None else data.get(et, np.array([]))
            ax.hist(x, bins=bins, color="#34495e" if et is None else EVENT_TYPE_COLORS[et],
                    alpha=0.85)
            ax.set_xscale("log")
            _log_eok_axis(ax.xaxis)
            _threshold_line(ax, threshold, text=False)
            top = f"최대 {_num(round(float(x.max()), 1))}억" if x.size else "손실 없음"
            ax.set_title(f"{'전체 (all)' if et is None else label(et)}\n{x.size:,}건 · {top}",
                         fontsize=10)
            ax.grid(axis="x", visible=False)
        for ax in axes[1]:
            ax.set_xlabel("억원 (로그 척도)")
        for ax in axes[:, 0]:
            ax.set_ylabel("건수")
        note = f" — 점선: 수집기준 {_num(threshold / EOK)}억원" if threshold else ""
        fig.suptitle(f"사건유형별 손실 규모 분포 (severity histograms, log scale){note}",
                     fontweight="bold", fontfamily=_FAMILY)
        for ax in axes.flat:
            _fontify(ax)
    return axes


def plot_severity_ecdf(losses: pd.DataFrame, *, threshold: float | None = None,
                       event_types: Iterable[str] | None = None,
                       ax: Axes | None = None) -> Axes:
    """Empirical distribution function of gross losses per event type (log x axis)."""
    with _styled(ax, (9, 4.2)) as ax:
        for et, x in _by_type(losses, event_types):
            ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", lw=1.6,
                    color=EVENT_TYPE_COLORS[et], label=label(et))
        _threshold_line(ax, threshold)
        ax.set_xscale("log")
        _log_eok_axis(ax.xaxis)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("총손실금액 (gross loss, 억원, 로그 척도)")
        ax.set_ylabel("누적 비율 (empirical CDF)")
        ax.set_title("사건유형별 경험적 누적분포 (empirical CDF)")
        ax.legend(loc="lower right")
    return ax


_QUADRANTS = [  # (x side, y side, text)
    (0, 1, "저빈도·고영향: 위험 전가\n(transfer: 보험, 꼬리는 자본, BCP)"),
    (1, 1, "고빈도·고영향: 위험 회피\n(avoid: 사업 이양·외주)"),
    (0, 0, "저빈도·저영향: 위험 수용\n(accept)"),
    (1, 0, "고빈도·저영향: 위험 감소\n(reduce: 프로세스·내부통제 개선)"),
]


def plot_strategy_matrix(matrix: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Frequency × impact scatter with the four strategy quadrants.

    ``matrix`` is the result of ``analysis.strategy_matrix``; dashed lines are its cut-offs.
    """
    m = matrix[matrix["impact"].notna() & (matrix["frequency"] > 0)]
    f_cut = float(matrix["frequency_cutoff"].iloc[0])
    i_cut = float(matrix["impact_cutoff"].iloc[0]) / EOK
    xs = np.r_[m["frequency"].to_numpy(float), f_cut]
    ys = np.r_[m["impact"].to_numpy(float) / EOK, i_cut]
    xs, ys = xs[np.isfinite(xs) & (xs > 0)], ys[np.isfinite(ys) & (ys > 0)]
    if m.empty:
        raise ValueError("plot_strategy_matrix: no event type has both losses and a "
                         "positive frequency")
    with _styled(ax, (9, 6)) as ax:
        ax.set_xscale("log")
        ax.set_yscale("log")
        for et, r in m.iterrows():
            ax.scatter(r["frequency"], r["impact"] / EOK, s=90, zorder=3,
                       color=_STRATEGY_COLORS[r["strategy"]], edgecolor="white")
            left = r["frequency"] < f_cut  # label away from the cut-off line
            ax.annotate(f"{label(et)}\n{r['strategy_ko']}", (r["frequency"], r["impact"] / EOK),
                        xytext=(-7 if left else 7, 4), textcoords="offset points", fontsize=9, linespacing=1.6,
                        ha="right" if left else "left")
        ax.set_xlim(xs.min() / 3, xs.max() * 4)
        ax.set_ylim(ys.min() / 3, ys.max() * 4)
        if f_cut > 0:
            ax.axvline(f_cut, color="#555555", ls="--", lw=1)
        if np.isfinite(i_cut) and i_cut > 0:
            ax.axhline(i_cut, color="#555555", ls="--", lw=1)
        for sx, sy, text in _QUADRANTS:
            ax.text(0.98 if sx else 0.02, 0.98 if sy else 0.02, text, transform=ax.transAxes,
                    ha="right" if sx else "left", va="top" if sy else "bottom", fontsize=9,
                    color="#555555", bbox=dict(fc="white", ec="#dddddd", alpha=0.85))
        _log_eok_axis(ax.xaxis, _subs(xs))
        _log_eok_axis(ax.yaxis, _subs(ys))
        ax.set_xlabel("빈도: 연평균 손실 건수 (frequency, events a year)")
        ax.set_ylabel(f"영향: {matrix['impact_measure'].iloc[0]} (impact, 억원)")
        ax.set_title("빈도 × 영향 매트릭스와 관리 전략 (frequency × impact)")
    return ax


def plot_claims_record(claims: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Premiums paid vs recoveries received per policy, with claims and loss ratio."""
    c = claims.iloc[::-1]
    with _styled(ax, (9, 0.55 * len(c) + 1.8)) as ax:
        y = np.arange(len(c))
        ax.barh(y + 0.2, c["premiums"].fillna(0) / EOK, height=0.38, color="#95a5a6",
                label="누적 보험료 (premiums)")
        ax.barh(y - 0.2, c["recoveries"] / EOK, height=0.38, color="#2980b9",
                label="보험금 회수 (recoveries)")
        ends = np.fmax(c["premiums"].fillna(0).to_numpy(float), c["recoveries"].to_numpy(float))
        right = max(float(ends.max()) if len(ends) else 0.0, 1.0) / EOK
        for yi, end, (_, r) in zip(y, ends / EOK, c.iterrows()):
            lr = "–" if not np.isfinite(r["loss_ratio"]) else f"{r['loss_ratio']:.0%}"
            ax.text(end + right * 0.02, yi, f"{r['claims']:,}건 · 손해율 {lr}", va="center",
                    fontsize=8)
        ax.set_yticks(y, [f"{r['name']}\n({pid})" for pid, r in c.iterrows()])
        ax.set_xlim(0, right * 1.35)
        ax.xaxis.set_major_formatter(FuncFormatter(_num))
        ax.set_xlabel("억원")
        n = int(claims["n_years"].iloc[0]) if len(claims) else 0
        ax.set_title(f"보험계약별 보험금 청구 실적 ({n}년, claims record per policy)")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")
    return ax


def plot_incident_layers(profile, *, ax: Axes | None = None) -> Axes:
    """How one loss splits into expense (below deductible), insurance and capital by limit.

    ``profile`` is an ``analysis.IncidentProfile``; the seed's picture (slide 1-4).
    """
    lay = profile.layers
    x = profile.gross_loss
    expense = np.minimum(x, lay["deductible"].to_numpy(float)) / EOK
    insured = lay["payout"].to_numpy(float) / EOK
    capital = x / EOK - expense - insured
    with _styled(ax, (9, 4.2)) as ax:
        pos = np.arange(len(lay))
        ax.bar(pos, expense, color="#95a5a6", label="비용 (공제금액 이하, expense)")
        ax.bar(pos, insured, bottom=expense, color="#2980b9", label="보험 (insurance)")
        ax.bar(pos, capital, bottom=expense + insured, color="#c0392b",
               label="자본 (한도 초과, capital)")
        for p, ins in zip(pos, insured):
            ax.text(p, x / EOK * 1.01, f"보험 {_cell(ins)}억", ha="center", va="bottom",
                    fontsize=8)
        if profile.insurance_recovery > 0:
            got = profile.insurance_recovery / EOK
            ax.axhline(got, color="black", ls="--", lw=1.2,
                       label=f"실제 보험 회수 {_num(got)}억원 (actual recovery)")
        ax.set_xticks(pos, [f"한도 {_num(v / EOK)}억" for v in lay["limit"]])
        ax.yaxis.set_major_formatter(FuncFormatter(_num))
        ax.set_ylim(0, x / EOK * 1.12)
        ax.set_ylabel("억원")
        ax.set_title(f"{profile.event_id} 손실 {_num(x / EOK)}억원의 분담: 보상한도별 "
                     f"(공제금액 {_num(float(lay['deductible'].iloc[0]) / EOK)}억)")
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_external_comparison(comparison: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Internal vs external large losses on a log 억원 axis (``analysis.external_comparison``)."""
    c = comparison.iloc[::-1]
    with _styled(ax, (9, 0.32 * len(c) + 1.6)) as ax:
        y = np.arange(len(c))
        colors = ["#c0392b" if s == "internal" else "#7f8c8d" for s in c["source"]]
        amounts = c["amount_krw"].to_numpy(float) / EOK
        ax.barh(y, amounts, color=colors, height=0.7)
        for yi, v in zip(y, amounts):
            digits = 1 if v < 100 or v * EOK >= 1e12 else 0
            ax.text(v * 1.08, yi, format_krw(v * EOK, digits=digits), va="center", fontsize=7)
        ax.set_yticks(y, [f"{r['name']} · {r['year']} · {r['event_type_ko']}"
                          for _, r in c.iterrows()], fontsize=8)
        ax.set_xlim(amounts.min() / 2, amounts.max() * 4)
        ax.set_xscale("log")
        _log_eok_axis(ax.xaxis)
        ax.set_xlabel("손실금액 (억원, 로그 척도)")
        ax.set_title("내부 vs 외부 거액 손실 (internal vs external large losses)")
        ax.grid(axis="y", visible=False)
        handles = [Patch(color="#c0392b", label="내부 (internal)"),
                   Patch(color="#7f8c8d", label="외부 (external)")]
        ax.legend(handles=handles, loc="lower right")
    return ax
