"""Figures over the recorded runs (:func:`opwb.runs.compare.trends`)."""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd

from opwb.data.taxonomy import EVENT_TYPE_CODES, label
from opwb.report.plots.style import (_FAMILY, _STYLE, EVENT_TYPE_COLORS, _fontify, _new_figure,
                                     _num, _register_fonts)

__all__ = ["plot_run_trends"]


def _series(ax, trend: pd.DataFrame, key: str, pos: dict, name: str, color, lw=1.4) -> bool:
    s = trend[trend["series"] == key]
    if s.empty:
        return False
    xs = s["run_id"].map(pos).to_numpy()
    ys = s["value"].to_numpy(float) / 1e8
    es = 1.96 * s["se"].fillna(0.0).to_numpy(float) / 1e8
    ax.errorbar(xs, ys, yerr=es, marker="o", color=color, label=name, capsize=3, lw=lw)
    return True


def plot_run_trends(trend: pd.DataFrame, *, fig=None) -> np.ndarray:
    """Two panels over the recorded runs, each point with its ±1.96 standard-error bar (the
    figures' Monte Carlo error), in 억원: the net 99.9% VaR of every event type (log scale:
    they span four decades) and, on a linear axis, the cover in force's regulatory relief
    from the bond and each policy's allocated relief, with the recommended structure (limit
    / deductible) written above each run. The runs in the order of ``trend``. Returns the
    two Axes."""
    runs = trend.drop_duplicates("run_id")[["run_id", "label"]]
    names = [str(lb) if isinstance(lb, str) and lb else f"#{rid}"
             for rid, lb in zip(runs["run_id"], runs["label"])]
    x = np.arange(len(runs))
    pos = dict(zip(runs["run_id"], x))
    _register_fonts()
    fig = _new_figure((12, 4.4)) if fig is None else fig
    with mpl.rc_context(_STYLE):
        left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        for et in EVENT_TYPE_CODES:
            _series(left, trend, f"event_type:{et}:net_var", pos, label(et),
                    EVENT_TYPE_COLORS.get(et, "0.5"))
        left.set_yscale("log")
        left.yaxis.set_major_formatter(_num)
        left.set_ylabel("억원 (로그 척도)")
        left.set_title("사건유형별 보험 후 VaR 99.9%", fontsize=11)
        left.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        _series(right, trend, "total:in force:bond_regulatory_relief", pos,
                "BBB 규제자본 경감", "black", lw=2.0)
        policies = sorted({k.split(":")[1] for k in trend["series"]
                           if k.startswith("policy:") and k.endswith(":relief")})
        grey = iter(mpl.colormaps["tab10"](np.linspace(0, 1, 10)))
        for pid in policies:
            _series(right, trend, f"policy:{pid}:relief", pos, f"{pid} 배분 경감", next(grey),
                    lw=0.9)
        rec = trend[trend["series"].isin(["recommendation:권고:limit",
                                          "recommendation:권고:deductible"])]
        for rid, g in rec.groupby("run_id"):
            v = dict(zip(g["series"].str.rsplit(":", n=1).str[-1], g["value"]))
            if {"limit", "deductible"} <= set(v):
                right.annotate(f"권고 {_num(v['limit'] / 1e8)}억/{_num(v['deductible'] / 1e8)}억",
                               (pos[rid], 1.0), xycoords=("data", "axes fraction"),
                               ha="center", va="bottom", fontsize=8)
        right.set_ylabel("억원")
        right.yaxis.set_major_formatter(_num)
        right.set_title("보험계약별 규제자본 경감과 권고 구조", fontsize=11, pad=16)
        right.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        for ax in (left, right):
            ax.set_xticks(x, names)
            ax.set_xlim(-0.3, len(x) - 0.7)
            ax.set_xlabel("실행 (run)")
            ax.grid(axis="x", visible=False)
        fig.suptitle("실행별 추이 (±1.96 표준오차)", fontweight="bold", fontfamily=_FAMILY)
        for ax in (left, right):
            _fontify(ax)
    return np.array([left, right])
