"""Notebook 01's loss-data tables: event type × business line, annual counts, largest losses,
strategy matrix, claims per policy, the CD incident, external losses.

Every function takes what an :mod:`opwb.analysis` function returned (or the loaded losses) and
returns a frame of text for reading: Korean headers with the unit in the header, event types
and business lines by their Korean labels (:func:`opwb.data.taxonomy.label`), amounts in 억원
with one number of decimals per column (:func:`opwb.report.tables.eok_text`: the KRW value
divided by 1e8 and rounded to nearest, exact ties to even, as Python's format and
:func:`round` do), "—" where a figure does not exist. Show them with
:func:`opwb.report.tables.table_ko`; the Markdown summaries with
:func:`opwb.report.tables.as_markdown`.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from opwb.data.taxonomy import EVENT_TYPES, label
from opwb.data.units import format_krw, format_number
from opwb.report.tables import eok_text

__all__ = ["AXIS_KO", "TOTAL_KO", "incidents_summary_ko", "claims_record_ko", "cross_table_ko", "event_type_summary_ko",
           "external_comparison_ko", "incident_layers_ko", "incident_summary_ko",
           "largest_losses_ko", "load_summary_ko", "strategy_comparison_ko", "strategy_matrix_ko"]

#: Korean names of the margins and axes of :mod:`opwb.analysis` tables.
AXIS_KO = {"event_type": "사건유형", "business_line": "사업부문", "year": "연도",
           "policy_id": "보험계약"}
TOTAL_KO = "전체"
"""Label of the ``"Total"`` row/column of :func:`opwb.analysis.cell_table` (all events)."""

_DATE_BASIS_KO = {"occurrence": "발생일", "discovery": "발견일"}


def _code_ko(code) -> str:
    """An event-type or business-line code as its Korean label, "Total" as :data:`TOTAL_KO`,
    anything else (a year) as text."""
    if code == "Total":
        return TOTAL_KO
    try:
        return label(str(code))
    except KeyError:
        return str(code)


def _count_text(values: Iterable[float]) -> list[str]:
    return ["—" if pd.isna(v) else f"{int(round(float(v))):,d}" for v in values]


def _fixed_text(values: Iterable[float], digits: int) -> list[str]:
    return ["—" if pd.isna(v) else format_number(float(v), digits) for v in values]


def _percent_text(values: Iterable[float], digits: int = 1) -> list[str]:
    return ["—" if pd.isna(v) or np.isinf(v) else f"{float(v):.{digits}%}" for v in values]


def _md_code(text: str) -> str:
    """``text`` as Markdown inline code (backticks inside replaced)."""
    return "`" + str(text).replace("`", "'") + "`"


def cross_table_ko(table: pd.DataFrame, quantity: str, *, unit: str = "억원",
                   digits: int | None = None) -> pd.DataFrame:
    """A two-way table of :mod:`opwb.analysis` (:func:`~opwb.analysis.cell_table`,
    :func:`~opwb.analysis.annual_table`) with Korean row and column labels.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows and columns are event-type or business-line codes, years, or ``"Total"``.
    quantity : str
        What the cells hold, in Korean (e.g. ``"평균 손실"``); it heads the table with the
        unit: the column axis is named ``"사업부문 · 평균 손실 (억원)"``.
    unit : {"억원", "건"}
        ``"억원"``: cells are KRW, shown divided by 1e8 with ``digits`` decimals (default 2);
        ``"건"``: counts, shown as whole numbers with thousands separators.
    digits : int, optional
        Decimals of the 억원 figures (ignored for counts).

    Returns
    -------
    pandas.DataFrame
        Same shape, text cells; codes → :func:`opwb.data.taxonomy.label`, ``"Total"`` →
        "전체", NaN (a mean or maximum of no events) → "—".

    Examples
    --------
    >>> t = pd.DataFrame({"RB": [4e8, np.nan]}, index=pd.Index(["IF", "Total"], name="event_type"))
    >>> t.columns.name = "business_line"
    >>> out = cross_table_ko(t, "평균 손실")
    >>> out.to_dict("list"), out.index.name, out.columns.name
    ({'소매금융 (RB)': ['4.00', '—']}, '사건유형', '사업부문 · 평균 손실 (억원)')
    """
    if unit not in ("억원", "건"):
        raise ValueError(f"unit must be '억원' or '건'; got {unit!r}")
    out = pd.DataFrame(
        {_code_ko(c): (eok_text(table[c], 2 if digits is None else digits).tolist()
                       if unit == "억원" else _count_text(table[c]))
         for c in table.columns},
        index=pd.Index([_code_ko(i) for i in table.index],
                       name=AXIS_KO.get(table.index.name, table.index.name)))
    axis = AXIS_KO.get(table.columns.name, table.columns.name)
    out.columns.name = f"{axis} · {quantity} ({unit})" if axis else f"{quantity} ({unit})"
    return out


def event_type_summary_ko(losses: pd.DataFrame, *, value: str = "gross_loss",
                          digits: int = 2) -> pd.DataFrame:
    """Count, total, mean and largest loss per event type, and over all events.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss frame (``opwb.load_losses``).
    value : str
        The KRW amount column summarised.
    digits : int
        Decimals of the 억원 columns.

    Returns
    -------
    pandas.DataFrame
        Indexed by 사건유형 (Korean labels, then "전체"), columns ``건수 (건)``,
        ``합계 (억원)``, ``평균 (억원)``, ``최대 (억원)``; an event type without losses has
        0건, 0.00 and "—".
    """
    from opwb.analysis.tables import cell_table

    stats = {s: cell_table(losses, s, value=value, margins=True)["Total"]
             for s in ("count", "sum", "mean", "max")}
    out = pd.DataFrame({
        "건수 (건)": _count_text(stats["count"]),
        "합계 (억원)": eok_text(stats["sum"], digits).tolist(),
        "평균 (억원)": eok_text(stats["mean"], digits).tolist(),
        "최대 (억원)": eok_text(stats["max"], digits).tolist(),
    }, index=pd.Index([_code_ko(c) for c in stats["count"].index], name="사건유형"))
    return out


def load_summary_ko(losses: pd.DataFrame, *, by: str = "occurrence", observation=None) -> str:
    """What was loaded, as a short Korean Markdown list (for :func:`as_markdown`).

    Everything the English ``LoadReport`` of :func:`opwb.data.losses.load_losses` says
    (source, rows read and kept, the collection threshold and what fell below it, optional
    columns filled in, extra columns kept) and the observation period, number of events and
    total gross loss. Amounts by :func:`opwb.data.units.format_krw` (unit chosen by size,
    e.g. "1,000만원", "2,000.8억원").

    The observation period is the bank's observation window when one is known
    (``observation``, else ``losses.attrs["observation"]``): its first and last day and its
    length in years of exposure (:func:`opwb.analysis.observed_exposure`: each calendar
    year's share inside the window, summed; two decimals unless whole), e.g.
    "관측 기간: 2000-01-01 – 2007-03-31 (7.25년, 발생일 기준)". Without a window it is the
    calendar years from the first to the last event, e.g. "2002–2006년 (5년, ...)".

    Parameters
    ----------
    losses : pandas.DataFrame
        As returned by ``opwb.load_losses`` (its ``attrs["load_report"]`` is used when present).
    by : {"occurrence", "discovery"}
        Which date makes the year.
    observation : (start, as_of) or False, optional
        Observation window (dates); default ``losses.attrs.get("observation")``, ``False``:
        none.

    Examples
    --------
    >>> df = pd.DataFrame({"event_type": ["IF"], "gross_loss": [65e9],
    ...                    "occurrence_date": pd.to_datetime(["2005-07-26"])})
    >>> print(load_summary_ko(df))
    - 관측 기간: 2005–2005년 (1년, 발생일 기준), 손실 1건, 총손실 650억원
    >>> print(load_summary_ko(df, observation=("2000-01-01", "2007-03-31")))
    - 관측 기간: 2000-01-01 – 2007-03-31 (7.25년, 발생일 기준), 손실 1건, 총손실 650억원
    """
    from opwb.analysis.tables import observed_exposure, observed_years

    lines = []
    rep = losses.attrs.get("load_report")
    if rep is not None:
        lines.append(f"- 파일 {_md_code(rep.source)}: {rep.rows_read:,}건 읽음, "
                     f"{rep.rows_loaded:,}건 사용")
        if rep.threshold is not None:
            lines.append(f"- 수집기준 {format_krw(rep.threshold)} 미만 손실: "
                         f"{rep.below_threshold:,}건 (합계 {format_krw(rep.below_threshold_total)}), "
                         "분석에서 제외하고 따로 집계")
        if rep.defaulted_columns:
            lines.append("- 파일에 없어 기본값으로 채운 선택 컬럼: "
                         + ", ".join(_md_code(c) for c in rep.defaulted_columns))
        if rep.extra_columns:
            lines.append("- 추가 컬럼 (텍스트로 유지): "
                         + ", ".join(_md_code(c) for c in rep.extra_columns))
    if observation is None:
        observation = losses.attrs.get("observation")
    basis = _DATE_BASIS_KO.get(by, by)
    if observation is None or observation is False:
        years = observed_years(losses, by=by, observation=False)
        period = f"{years[0]}–{years[-1]}년 ({len(years)}년, {basis} 기준)"
    else:
        total = float(observed_exposure(losses, by=by, observation=observation).sum())
        start, as_of = (pd.Timestamp(d) for d in observation)
        length = f"{round(total):d}" if abs(total - round(total)) < 5e-9 else f"{total:,.2f}"
        period = f"{start:%Y-%m-%d} – {as_of:%Y-%m-%d} ({length}년, {basis} 기준)"
    lines.append(f"- 관측 기간: {period}, 손실 {len(losses):,}건, "
                 f"총손실 {format_krw(float(losses['gross_loss'].sum()))}")
    return "\n".join(lines)


def largest_losses_ko(top: pd.DataFrame, programme: pd.DataFrame | None = None, *,
                      digits: int = 2) -> pd.DataFrame:
    """The largest losses (:func:`opwb.analysis.largest_losses`) for reading.

    Parameters
    ----------
    top : pandas.DataFrame
        Output of :func:`opwb.analysis.largest_losses`.
    programme : pandas.DataFrame, optional
        The insurance programme (``policy_id``, ``name``): policies are then named
        ("금융기관종합보험 (BBB)"), otherwise shown by id.
    digits : int
        Decimals of the 억원 columns.

    Returns
    -------
    pandas.DataFrame
        ``순위, 사건번호, 사건유형, 사업부문, 발생일, 총손실 (억원), 보험 회수 (억원),
        기타 회수 (억원), 순손실 (억원), 보험계약, 내용`` (description in full); no policy → "—".
        순손실 = 총손실 − 보험 회수 − 기타 회수.
    """
    names = ({} if programme is None else
             dict(zip(programme["policy_id"].astype(str), programme["name"].astype(str))))

    def policy(pid) -> str:
        pid = "" if pd.isna(pid) else str(pid)
        if not pid:
            return "—"
        return f"{names[pid]} ({pid})" if pid in names else pid

    out = pd.DataFrame({
        "순위": top["rank"].astype(int).tolist(),
        "사건번호": top["event_id"].astype(str).tolist(),
        "사건유형": [_code_ko(c) for c in top["event_type"]],
        "사업부문": [_code_ko(c) for c in top["business_line"]],
        "발생일": [("—" if pd.isna(d) else pd.Timestamp(d).strftime("%Y-%m-%d"))
                 for d in top["occurrence_date"]],
        "총손실 (억원)": eok_text(top["gross_loss"], digits).tolist(),
        "보험 회수 (억원)": eok_text(top["insurance_recovery"], digits).tolist(),
    })
    if "other_recovery" in top.columns:
        out["기타 회수 (억원)"] = eok_text(top["other_recovery"], digits).tolist()
    if "net_loss" in top.columns:
        out["순손실 (억원)"] = eok_text(top["net_loss"], digits).tolist()
    out["보험계약"] = [policy(p) for p in top.get("policy_id", pd.Series("", index=top.index))]
    out["내용"] = top.get("description", pd.Series("", index=top.index)).fillna("").astype(str).tolist()
    return out


def strategy_matrix_ko(matrix: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """The frequency × impact classification (:func:`opwb.analysis.strategy_matrix`) for
    reading: each event type's frequency and impact next to the cut-offs they were judged by.

    Parameters
    ----------
    matrix : pandas.DataFrame
        Output of :func:`opwb.analysis.strategy_matrix`.
    digits : int
        Decimals of the frequencies (건/년) and of the impacts (억원).

    Returns
    -------
    pandas.DataFrame
        Indexed by 사건유형; ``손실 건수 (건)``, ``연평균 빈도 (건/년, N년)``,
        ``빈도 기준 (건/년)``, ``빈도`` (높음/낮음), ``영향: <척도> (억원)``,
        ``영향 기준 (억원)``, ``영향`` (높음/낮음), ``관리 전략``, ``조치``. High means strictly
        above the cut-off; an event type without losses has impact "—".
    """
    n_years = int(matrix["n_years"].iloc[0])
    measure = str(matrix["impact_measure"].iloc[0])
    high = lambda s: ["높음" if bool(v) else "낮음" for v in s]  # noqa: E731
    return pd.DataFrame({
        "손실 건수 (건)": _count_text(matrix["n_events"]),
        f"연평균 빈도 (건/년, {n_years}년)": _fixed_text(matrix["frequency"], digits),
        "빈도 기준 (건/년)": _fixed_text(matrix["frequency_cutoff"], digits),
        "빈도": high(matrix["high_frequency"]),
        f"영향: {measure} (억원)": eok_text(matrix["impact"], digits).tolist(),
        "영향 기준 (억원)": eok_text(matrix["impact_cutoff"], digits).tolist(),
        "영향": high(matrix["high_impact"]),
        "관리 전략": matrix["strategy_ko"].tolist(),
        "조치": matrix["action_ko"].tolist(),
    }, index=pd.Index([_code_ko(c) for c in matrix.index], name="사건유형"))


def strategy_comparison_ko(*matrices: pd.DataFrame) -> pd.DataFrame:
    """The strategy of every event type under several impact rules, side by side.

    Parameters
    ----------
    *matrices : pandas.DataFrame
        Outputs of :func:`opwb.analysis.strategy_matrix` (same event types), e.g. with
        ``impact="quantile"`` and ``impact="max"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by 사건유형; one column per matrix headed ``"관리 전략 — 영향: <척도>"``.
    """
    if not matrices:
        raise ValueError("strategy_comparison_ko: pass at least one strategy matrix")
    out = pd.DataFrame({f"관리 전략 — 영향: {m['impact_measure'].iloc[0]}": m["strategy_ko"].tolist()
                        for m in matrices},
                       index=pd.Index([_code_ko(c) for c in matrices[0].index], name="사건유형"))
    return out


def claims_record_ko(claims: pd.DataFrame, *, digits: int = 2) -> pd.DataFrame:
    """The claims record per policy (:func:`opwb.analysis.claims_record`) for reading.

    Parameters
    ----------
    claims : pandas.DataFrame
        Output of :func:`opwb.analysis.claims_record`.
    digits : int
        Decimals of the 억원 columns.

    Returns
    -------
    pandas.DataFrame
        ``보험계약`` ("금융기관종합보험 (BBB)"), ``청구 건수 (건)``, ``청구 손실 합계 (억원)``,
        ``보험금 회수 (억원)``, ``연간 보험료 (억원)``, ``관측 연수 (년)``,
        ``누적 보험료 (억원)``, ``손해율 (%, 회수 ÷ 누적 보험료)`` (one decimal); a policy
        the programme does not list has premiums and loss ratio "—".
    """
    return pd.DataFrame({
        "보험계약": [f"{n} ({p})" for n, p in zip(claims["name"], claims.index)],
        "청구 건수 (건)": _count_text(claims["claims"]),
        "청구 손실 합계 (억원)": eok_text(claims["gross_loss"], digits).tolist(),
        "보험금 회수 (억원)": eok_text(claims["recoveries"], digits).tolist(),
        "연간 보험료 (억원)": eok_text(claims["annual_premium"], digits).tolist(),
        "관측 연수 (년)": _count_text(claims["n_years"]),
        "누적 보험료 (억원)": eok_text(claims["premiums"], digits).tolist(),
        "손해율 (%, 회수 ÷ 누적 보험료)": _percent_text(claims["loss_ratio"], 1),
    })


def incident_summary_ko(profile) -> str:
    """Where one incident sits in the data (:func:`opwb.analysis.incident_profile`), as a
    Korean Markdown list: its amounts (억원, :func:`opwb.data.units.format_krw` with two
    decimals, trailing zeros dropped), its rank and share among all losses and within its
    event type (shares to 0.1%)."""
    et = EVENT_TYPES[profile.event_type].ko if profile.event_type in EVENT_TYPES \
        else str(profile.event_type)
    eok = lambda v: format_krw(v, unit="억", digits=2)  # noqa: E731
    return "\n".join([
        f"- {_md_code(profile.event_id)} · {_code_ko(profile.event_type)}: "
        f"총손실 {eok(profile.gross_loss)}, 보험 회수 {eok(profile.insurance_recovery)}",
        f"- 전체 손실 {profile.n_all:,}건 중 {profile.rank_all:,}위, "
        f"전체 손실액의 {profile.share_of_all:.1%}",
        f"- {et} 손실 {profile.n_in_type:,}건 중 {profile.rank_in_type:,}위, "
        f"{et} 손실액의 {profile.share_of_type:.1%}",
    ])


def incident_layers_ko(profile, *, digits: int = 1) -> pd.DataFrame:
    """What each limit would have paid for the incident (``profile.layers`` of
    :func:`opwb.analysis.incident_profile`): ``공제금액 (억원)``, ``보상한도 (억원)``,
    ``보험금 지급 (억원)``, ``보유손실 (억원)`` with ``digits`` decimals; 지급 =
    min(max(손실 − 공제금액, 0), 보상한도), 보유 = 손실 − 지급."""
    lay = profile.layers
    return pd.DataFrame({
        "공제금액 (억원)": eok_text(lay["deductible"], digits).tolist(),
        "보상한도 (억원)": eok_text(lay["limit"], digits).tolist(),
        "보험금 지급 (억원)": eok_text(lay["payout"], digits).tolist(),
        "보유손실 (억원)": eok_text(lay["retained"], digits).tolist(),
    })


def external_comparison_ko(comparison: pd.DataFrame, *, digits: int = 1) -> pd.DataFrame:
    """Internal and external large losses (:func:`opwb.analysis.external_comparison`) for
    reading: ``순위, 구분 (내부/외부), 기관 또는 사건번호, 연도, 사건유형,
    손실 (억원, 원화 환산), 내용`` (description in full), amounts with ``digits`` decimals."""
    return pd.DataFrame({
        "순위": comparison["rank"].astype(int).tolist(),
        "구분": comparison["source_ko"].astype(str).tolist(),
        "기관 또는 사건번호": comparison["name"].astype(str).tolist(),
        "연도": comparison["year"].astype(int).astype(str).tolist(),
        "사건유형": [_code_ko(c) if c in EVENT_TYPES else ko
                 for c, ko in zip(comparison["event_type"], comparison["event_type_ko"])],
        "손실 (억원, 원화 환산)": eok_text(comparison["amount_krw"], digits).tolist(),
        "내용": comparison["description"].fillna("").astype(str).tolist(),
    })


def incidents_summary_ko(profiles, incidents) -> str:
    """The case's reference incidents as Korean Markdown: for each, its label (from the
    case) and :func:`incident_summary_ko`; one line saying there are none when the case
    lists none (``incidents``: :class:`opwb.data.case.Incident` sequence, ``profiles`` the
    matching :func:`opwb.analysis.incident_profile` results)."""
    if not incidents:
        return "이 사례에는 기준 사건(reference incident)이 지정되어 있지 않습니다."
    return "\n\n".join(f"**{inc.label}**\n\n{incident_summary_ko(p)}"
                       for inc, p in zip(incidents, profiles))
