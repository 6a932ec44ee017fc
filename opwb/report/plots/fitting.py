"""Charts of severity fits (notebook 02): the four tail diagnostics of one cell.

QQ plot of the conditional distribution above the threshold for several fits, the
mean-excess function, the Hill plot (estimates at tied thresholds are left out, see
:func:`opwb.fitting.tail.hill`) and the GPD shape over thresholds with the suggested one.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.ticker import FuncFormatter, NullFormatter

from opwb.data.units import EOK
from opwb.fitting.gof import qq_data
from opwb.fitting.tail import ThresholdSuggestion, hill, mean_excess
from opwb.report.plots.style import _fontify, _register_fonts, _STYLE

__all__ = ["plot_tail_diagnostics"]


def plot_tail_diagnostics(losses, fits: Mapping[str, object], suggestion: ThresholdSuggestion,
                          *, title: str = ""):
    """Four panels: QQ (one series per fit), mean excess, Hill and GPD stability.

    Parameters
    ----------
    losses : array_like
        The cell's losses above the threshold (KRW).
    fits : mapping of label -> SeverityFit
        Fits drawn in the QQ panel (labels as shown in the legend).
    suggestion : ThresholdSuggestion
        From :func:`opwb.fitting.tail.suggest_threshold`; its table is the stability panel.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    _register_fonts()
    x = np.sort(np.asarray(losses, dtype=float))
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), layout="constrained")
    with mpl.rc_context(_STYLE):
        ax = axes[0, 0]
        for name, fit in fits.items():
            theo, emp = qq_data(fit, x)
            ax.loglog(theo / EOK, emp / EOK, ".", label=name, alpha=0.7)
        lim = [x.min() / EOK, x.max() / EOK]
        ax.plot(lim, lim, "k--", lw=1)
        ax.set(title="QQ (수집기준 위 조건부)", xlabel="적합 분위수 (억원)", ylabel="관측 손실 (억원)")
        ax.legend()
        me = mean_excess(x)
        axes[0, 1].plot(me["threshold"] / EOK, me["mean_excess"] / EOK, ".-")
        axes[0, 1].set(title="평균초과함수 e(u)", xlabel="임계값 u (억원)", ylabel="e(u) (억원)",
                       xscale="log")
        hl = hill(x).dropna(subset=["xi"])
        axes[1, 0].plot(hl["k"], hl["xi"], "-")
        axes[1, 0].fill_between(hl["k"], hl["xi"] - 1.96 * hl["se"], hl["xi"] + 1.96 * hl["se"],
                                alpha=0.2)
        axes[1, 0].axhline(1.0, color="C3", lw=0.8, ls=":")
        axes[1, 0].set(title="Hill 추정 ξ (1 이상: 무한평균)", xlabel="상위 손실 수 k",
                       ylabel="ξ̂ ± 1.96 se")
        st = suggestion.table.dropna(subset=["xi"])
        axes[1, 1].errorbar(st["threshold"] / EOK, st["xi"], yerr=1.96 * st["se_xi"], fmt="o-",
                            ms=3)
        axes[1, 1].axvline(suggestion.threshold / EOK, color="C3", ls="--", label="제안 임계값")
        axes[1, 1].axhline(1.0, color="C3", lw=0.8, ls=":")
        axes[1, 1].set(title="GPD 형상모수 ξ 안정성", xlabel="임계값 u (억원)",
                       ylabel="ξ̂ ± 1.96 se", xscale="log")
        axes[1, 1].legend()
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        for a in (axes[0, 0].xaxis, axes[0, 0].yaxis, axes[0, 1].xaxis, axes[1, 1].xaxis):
            a.set_major_formatter(plain)
            a.set_minor_formatter(NullFormatter())
        if title:
            fig.suptitle(title, fontweight="bold")
    for a in axes.ravel():
        _fontify(a)
    for t in fig.texts:
        t.set_fontfamily(_STYLE["font.family"])
    if fig._suptitle is not None:
        fig._suptitle.set_fontfamily(_STYLE["font.family"])
    return fig

