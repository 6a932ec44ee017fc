"""Parameter uncertainty for people: the intervals of
:func:`opwb.scenarios.parameter_uncertainty` as a Korean table in 억원, its caption and one
sentence (notebook 04 and the app show the same text).

The fitted model's figure keeps its Monte Carlo standard error (``"15,220 ± 150억원"``,
rounded to it). The interval's ends and median are rounded to two significant digits of the
spread over the worlds (their standard deviation): the interval describes parameter
uncertainty, so the spread, not the Monte Carlo error, says which digits mean something.
``p_best`` — the share of worlds in which an alternative has the highest expected net
benefit — is a percentage with its count of worlds, on the net-benefit row.

No world is left out: a world whose data for a cell cannot be refitted draws its data again
(:func:`opwb.scenarios.worlds.refit_world`). When that happened, the caption names the
cells and the worlds, and the sentence says in plain words how many draws were made again
in which cells and why (:func:`redraw_text_ko`).

Examples
--------
>>> interval_text(1_234_567_000_000, 1_634_000_000_000, 98_000_000_000)
'12,350 – 16,340억원'
>>> share_text(0.7667, 30)
'77% (30개 중 23개)'
"""
from __future__ import annotations

import math
from typing import Any

import pandas as pd

from opwb.data.units import EOK, format_krw_with_se, format_number, round_to_se
from opwb.report.scenario_tables import FIGURE_LABELS
from opwb.scenarios.uncertainty import MAX_ATTEMPTS, REDRAW_REASONS

__all__ = ["P_BEST_COLUMN", "REDRAW_REASONS_KO", "interval_text", "share_text",
           "redraw_text_ko", "uncertainty_caption_ko", "uncertainty_ko",
           "uncertainty_sentence_ko"]

#: The column of :func:`uncertainty_ko` holding ``p_best``.
P_BEST_COLUMN = "순편익 최대인 세계의 비율 (p_best)"

REDRAW_REASONS_KO = {
    "fewer losses than parameters": "손실 건수가 모수 개수 이하",
    "frequency not fitted": "연간 건수 적합 불가",
    "severity not fitted": "손실 금액 적합 불가",
    "degenerate fit": "모수가 정해지지 않는 적합",
    "not converged": "적합 미수렴",
    "non-finite parameter": "무한대 모수",
}
"""Korean words for :data:`opwb.scenarios.uncertainty.REDRAW_REASONS`."""


def _decimals(spread_eok: float) -> int:
    """Decimal places (in 억원) kept for a figure whose worlds spread by ``spread_eok``:
    two significant digits of the spread, none when there is no spread."""
    _, _, d = round_to_se(0.0, spread_eok) if math.isfinite(spread_eok) else (0, 0, None)
    return 0 if d is None else d


def _eok(value: float, decimals: int) -> str:
    if not math.isfinite(value):
        return format_number(value)              # "—", "∞", "−∞"
    return format_number(round(value / EOK, decimals), decimals)   # "−" minus, never "-0"


def interval_text(lower: float, upper: float, spread: float) -> str:
    """``"a – b억원"``: an interval (KRW) in 억원, rounded to two significant digits of
    ``spread`` (KRW; the standard deviation over the worlds).

    Parameters
    ----------
    lower, upper : float
        The interval's ends, KRW.
    spread : float
        Standard deviation of the figure over the worlds, KRW (NaN or 0: whole 억원).
    """
    d = _decimals(spread / EOK)
    return f"{_eok(lower, d)} – {_eok(upper, d)}억원"


def share_text(share: float, n_worlds: int) -> str:
    """A share of worlds as a percentage with its count, e.g. ``"77% (30개 중 23개)"``.

    Parameters
    ----------
    share : float
        Fraction of the worlds (0–1).
    n_worlds : int
        Number of worlds the share is of.
    """
    return f"{share:.0%} ({n_worlds}개 중 {round(share * n_worlds)}개)"


def _worlds_used(result: Any) -> int:
    return int(result.n_worlds)


def _redrawn(result: Any) -> pd.DataFrame:
    """The result's cells whose data were drawn again (rows of ``redraws``)."""
    r = getattr(result, "redraws", None)
    if r is None or len(r) == 0 or "redraws" not in r:
        return pd.DataFrame()
    return r[r["redraws"] > 0]


def redraw_text_ko(result: Any) -> str:
    """One Korean sentence on the data drawn again: which cells, in how many worlds, how
    many draws and why ("" when no world's data were drawn again).

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`opwb.scenarios.parameter_uncertainty` (its ``redraws``).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> r = pd.DataFrame({"worlds": [17], "redraws": [75], "max_draws": [16],
    ...                   "degenerate fit": [66], "fewer losses than parameters": [9]},
    ...                  index=pd.Index(["IF"], name="cell"))
    >>> text = redraw_text_ko(SimpleNamespace(redraws=r, n_worlds=20))
    >>> text.split(": ")[1]
    'IF 셀은 세계 20개 중 17개에서 75번 다시 뽑았습니다(모수가 정해지지 않는 적합 66번, 손실 건수가 모수 개수 이하 9번).'
    """
    redrawn = _redrawn(result)
    if redrawn.empty:
        return ""
    parts = []
    for cell, r in redrawn.iterrows():
        counts = sorted(((int(r[k]), i, k) for i, k in enumerate(REDRAW_REASONS)
                         if k in r and r[k] > 0), key=lambda t: (-t[0], t[1]))
        why = ", ".join(f"{REDRAW_REASONS_KO[k]} {n:,}번" for n, _, k in counts)
        parts.append(f"{cell} 셀은 세계 {int(result.n_worlds):,}개 중 {int(r['worlds']):,}개에서 "
                     f"{int(r['redraws']):,}번 다시 뽑았습니다" + (f"({why})" if why else ""))
    return ("다시 뽑은 손실 자료로 분포를 적합할 수 없는 세계는 버리지 않고 그 셀의 자료를 "
            f"다시 뽑았습니다(세계마다 최대 {MAX_ATTEMPTS}번): " + "; ".join(parts) + ".")


def uncertainty_ko(result: Any) -> pd.DataFrame:
    """The intervals of an :class:`~opwb.scenarios.uncertainty.UncertaintyResult` as text.

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`opwb.scenarios.parameter_uncertainty` (amounts KRW).

    Returns
    -------
    DataFrame
        Index (대안, 항목) with Korean figure names; columns: the fitted model's figure
        ``± Monte Carlo standard error`` (억원), the interval at the result's ``level``
        (억원), its median (억원), the spread over the worlds (억원) and :data:`P_BEST_COLUMN`
        (on each alternative's net-benefit row; blank elsewhere).

    Examples
    --------
    >>> from opwb.scenarios import bundled_inputs, parameter_uncertainty
    >>> losses, programme, alts = bundled_inputs()
    >>> res = parameter_uncertainty(losses, programme, alts[:2], n_worlds=3, n_years=1000)
    >>> list(uncertainty_ko(res).columns)[1]
    '90% 구간 (억원)'
    """
    pct = f"{result.level:.0%}"
    used = _worlds_used(result)
    rows, index = [], []
    for (alt, figure), r in result.table.iterrows():
        d = _decimals(r["std"] / EOK)
        p_best = (share_text(float(result.p_best[alt]), used)
                  if figure == "net_benefit" and alt in result.p_best.index else "")
        rows.append({
            "적합 모형 (fitted, ± 표준오차)": format_krw_with_se(r["fitted"], r["fitted_se"],
                                                           unit="억"),
            f"{pct} 구간 (억원)": interval_text(r["lower"], r["upper"], r["std"]),
            "중앙값 (median, 억원)": _eok(r["median"], d),
            "세계 간 표준편차 (억원)": _eok(r["std"], d),
            P_BEST_COLUMN: p_best,
        })
        index.append((alt, FIGURE_LABELS.get(figure, figure)))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(
        index, names=["대안 (alternative)", "항목 (figure)"]))


def uncertainty_caption_ko(result: Any) -> str:
    """The table's caption: the number of worlds and years, the seed and the level, and —
    when a world's data were drawn again — the cells and in how many worlds (none is left
    out)."""
    redrawn = _redrawn(result)
    note = ""
    if not redrawn.empty:
        cells = ", ".join(f"{c} {int(r['worlds']):,}개" for c, r in redrawn.iterrows())
        note = f" · 자료를 다시 뽑은 세계 (제외한 세계 없음): {cells}"
    return (f"모수 불확실성 (parameter uncertainty): 세계 {result.n_worlds:,}개 × 모의실험 "
            f"{result.n_years:,}년 (공통 시드 {result.seed}) · {result.level:.0%} 백분위 구간 · "
            f"억원{note}")


def uncertainty_sentence_ko(result: Any, alternative: str | None = None, *,
                            recommended: str | None = None, name_best: bool = True) -> str:
    """Korean sentences: the interval of the bond's regulatory relief and net benefit of
    ``alternative``, which alternative has the highest net benefit in what share of the
    worlds, and — given the ``recommended`` alternative of the fitted model — whether the
    worlds confirm it. When the fitted figure's Monte Carlo error is a sizeable part of the
    spread over the worlds, it says that the intervals carry that error too; when a world's
    data were drawn again, which cells, how often and why (:func:`redraw_text_ko`).

    Parameters
    ----------
    result : UncertaintyResult
        From :func:`opwb.scenarios.parameter_uncertainty`.
    alternative : str, optional
        The alternative described (default: the recommended one when given, else the one
        best in the most worlds; with no alternative, gross capital).
    recommended : str, optional
        Name of the fitted model's recommendation among the result's alternatives.
    name_best : bool
        Say which alternative is best in the most worlds (default). ``False`` where the page
        gives the answer on the predictive model (:mod:`opwb.decision`), which already
        weighs the worlds: the sentence then gives the intervals only.
    """
    pct = f"{result.level:.0%}"
    t = result.table
    used = _worlds_used(result)
    if len(result.p_best) == 0:
        name = t.index.get_level_values(0)[0]
        r = t.loc[(name, "regulatory_gross_capital")]
        return _with_redraws(
            f"{pct} 구간: 보험 반영 전 규제자본 {interval_text(r['lower'], r['upper'], r['std'])}"
            f" (적합 모형 {format_krw_with_se(r['fitted'], r['fitted_se'])}).", result)
    best = str(result.p_best.idxmax())
    known = recommended is not None and recommended in result.p_best.index
    name = alternative or (recommended if known else best)
    parts = []
    for figure, label in (("bond_regulatory_relief", "BBB의 규제자본 경감"),
                          ("net_benefit", "기대 순편익")):
        if (name, figure) in t.index:
            r = t.loc[(name, figure)]
            parts.append(f"{label} {interval_text(r['lower'], r['upper'], r['std'])}")
    share_best = share_text(float(result.p_best[best]), used)
    if not name_best:
        lead = ""
    elif known and recommended != best:
        lead = (f"적합 모형 기준 권고(‘{recommended}’)는 모수 불확실성을 감안하면 확정적이지 "
                f"않습니다: 다시 추정한 세계 중 {share_best}에서 ‘{best}’의 기대 순편익이 가장 "
                f"컸고, 권고 구조는 "
                f"{share_text(float(result.p_best[recommended]), used)}였습니다. ")
    elif known:
        lead = (f"적합 모형 기준 권고(‘{recommended}’)는 다시 추정한 세계 중 {share_best}에서도 "
                f"기대 순편익이 가장 컸습니다. ")
    else:
        lead = f"기대 순편익이 가장 큰 대안은 세계 중 {share_best}에서 ‘{best}’입니다. "
    text = f"{lead}{pct} 구간 (‘{name}’): {', '.join(parts)}."
    key = (name, "bond_regulatory_relief")
    if key in t.index:
        r = t.loc[key]
        if r["fitted_se"] > 0.25 * r["std"]:
            text += (f" 이 구간에는 세계마다 {result.n_years:,}년 모의실험의 몬테카를로 오차"
                     f"(적합 모형의 경감 {format_krw_with_se(r['fitted'], r['fitted_se'])})도 "
                     "섞여 있습니다.")
    return _with_redraws(text, result)


def _with_redraws(text: str, result: Any) -> str:
    more = redraw_text_ko(result)
    return f"{text} {more}" if more else text