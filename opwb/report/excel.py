"""Results tables to Excel (.xlsx) for the bank's papers: amounts in 억원, still numbers.

Tables of amounts are written in 억원 (:data:`AMOUNT_COLUMNS`, each ``<amount>_se`` beside
its amount in the same unit). The scenario figures (:func:`scenario_sheet`) are written
unscaled in KRW with their standard errors — the number :func:`opwb.scenarios.evaluate`
returned, to the won — and a text column shows each rounded to its error. Every number is
written as Excel holds it (:func:`excel_number`: 15 significant digits, amounts in won to
the won), so what is read back is exactly what was written.

An infinite or undefined (NaN) number is written as what it is, by its column's role:

* a **contract term** whose infinity means "none" (:data:`UNLIMITED_TERMS`: ``limit``,
  ``aggregate_limit``): ``inf`` is "무제한" (unlimited);
* a **figure** (an amount, a sum in won or a ratio computed by opwb: every amount, KRW and
  ratio column but the inputs of :data:`INPUT_COLUMNS`): ``inf`` is "무한대" (an infinite
  mean, say) and NaN is "존재하지 않음" (:data:`opwb.data.units.NOT_EXISTING`: opwb writes
  NaN only for a figure that does not exist, such as the ES of a tail without a mean);
* any other cell, and the inputs (a loss's amounts, a contract's terms): NaN, None and NaT
  are an empty cell (a value not given), ``inf`` is "무한대".

A cell that holds no figure by design (the ratio cells of an amount's row in
:func:`scenario_sheet`) is None, never NaN.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
>>> export_excel({"예제": pd.DataFrame({"gross_loss": [650e8]})}, out).suffix
'.xlsx'
>>> pd.read_excel(out, header=1, engine="openpyxl")["gross_loss"].tolist()   # row 1: unit
[650]
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.units import DEFAULT_NOTE, MINUS, NOT_EXISTING

__all__ = [
    "AMOUNT_COLUMNS",
    "EOK_FORMAT",
    "INFINITE",
    "INPUT_COLUMNS",
    "UNLIMITED",
    "UNLIMITED_TERMS",
    "KRW_COLUMNS",
    "KRW_FORMAT",
    "RATIO_COLUMNS",
    "RATIO_FORMAT",
    "SCENARIO_COLUMNS",
    "excel_number",
    "export_excel",
    "scenario_sheet",
    "settings_sheet",
]

# -- Excel --------------------------------------------------------------------------------------

#: Excel number format of amounts written in 억원 (values are KRW / 1e8, still numbers).
EOK_FORMAT = '#,##0.0"억원"'
#: Columns treated as KRW amounts by default (loss data, programme, analysis, capital tables).
AMOUNT_COLUMNS: frozenset[str] = frozenset({
    "gross_loss", "insurance_recovery", "other_recovery", "net_loss", "deductible", "limit",
    "aggregate_limit", "premium", "premiums", "annual_premium", "recoveries", "payout",
    "retained", "impact", "impact_cutoff", "expense", "capital", "insurance", "gross",
    "capital_gross", "capital_net", "capital_net_modelled", "benefit", "recognised_benefit",
    "gross_el", "gross_var", "gross_es", "net_el", "net_var", "net_es", "ceded", "recognised",
    "amount_krw",
    # capital audit tables (opwb.capital.audit) and the standardised approach
    "gross_loss_mean", "ceded_mean", "recognised_mean", "recovery_economic_mean",
    "standalone_capital_gross", "standalone_capital_net_modelled", "standalone_benefit",
    "capital_net_economic", "relief", "floor", "expected_ceded", "expected_recovery",
    "lc", "bic", "orc", "bi",
    # the four AMA data elements (opwb.report.element_tables.elements_sheets)
    "change", "severity_cap", "var", "q999", "net_benefit", "bond_regulatory_relief",
    "expected_claims", "group_from", "group_cap",
})
"""A column named ``<amount>_se`` (the standard error of an amount column) is an amount
too: a figure and its error are always written in the same unit."""
#: Excel number format of amounts written in KRW (won), e.g. the scenario figures.
KRW_FORMAT = '#,##0"원"'
#: Columns written in KRW (won, unscaled numbers) by default: the scenario sheet's amounts.
KRW_COLUMNS: frozenset[str] = frozenset({"금액 (원)", "금액 표준오차 (원)"})
#: Excel number format of fractions shown as percentages (the scenario sheet's ratios).
RATIO_FORMAT = "0.00%"
RATIO_COLUMNS: frozenset[str] = frozenset({"비율", "비율 표준오차"})
#: Contract terms whose infinite value means "none": written :data:`UNLIMITED`.
UNLIMITED_TERMS: frozenset[str] = frozenset({"limit", "aggregate_limit"})
#: Amount columns that hold inputs (a loss's amounts, a contract's terms), not figures: NaN
#: there is a value not given (an empty cell), not a figure that does not exist.
INPUT_COLUMNS: frozenset[str] = frozenset({
    "gross_loss", "insurance_recovery", "other_recovery", "net_loss", "amount_krw",
    "deductible", "limit", "aggregate_limit", "premium", "premiums", "annual_premium", "bi"})
#: How an unlimited contract term (``inf`` in :data:`UNLIMITED_TERMS`) is written.
UNLIMITED = "무제한"
#: How an infinite figure (an infinite mean, say) is written.
INFINITE = "무한대"
_BAD_SHEET_CHARS = set('[]:*?/\\')


def _check_sheet_name(name: Any, seen: set[str]) -> str:
    text = str(name)
    bad = sorted(set(text) & _BAD_SHEET_CHARS)
    if not text or len(text) > 31 or bad or text.lower() in seen:
        raise ValueError(f"export_excel: sheet name {text!r} is invalid: expected 1-31 "
                         f"characters, none of []:*?/\\, unique (case-insensitive); "
                         f"got length {len(text)}, bad characters {bad}")
    seen.add(text.lower())
    return text


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """Index levels become columns unless the index is an unnamed default range."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"export_excel: expected DataFrames, got {type(frame).__name__}")
    plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
    out = frame if plain else frame.reset_index()
    out.columns = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c)
                   for c in out.columns]
    return out


def excel_number(value: float, *, won: bool = False) -> float:
    """A number as an Excel cell holds it: 15 significant digits (Excel's precision; the
    cell then reads back bit for bit), or, for an amount in won, the nearest whole won.

    Examples
    --------
    >>> excel_number(0.0010456815882475888), excel_number(3102865150.6650386, won=True)
    (0.00104568158824759, 3102865151.0)
    """
    value = float(value)
    if not math.isfinite(value):
        return value
    return float(round(value)) if won else float(f"{value:.15g}")


def _excel_value(value: Any, amount: bool, won: bool = False, role: str = "other") -> Any:
    """A cell's value; ``role`` is "term" (an unlimited term's column), "figure" (a
    computed figure's) or "other" (see the module docstring)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (tuple, list, set, frozenset)):
        return "; ".join(map(str, value))
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return NOT_EXISTING if role == "figure" else None
        if math.isinf(value):
            if value > 0:
                return UNLIMITED if role == "term" else INFINITE
            return MINUS + INFINITE
        return excel_number(value / 1e8 if amount else value, won=won)
    if isinstance(value, int) and not isinstance(value, bool) and amount:
        return excel_number(value / 1e8)
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _wanted(name: str, columns: Any, default: frozenset[str]) -> set[str]:
    if columns is None:
        return set(default)
    if isinstance(columns, Mapping):
        return set(columns.get(name, ()))
    return set(columns)


def _numeric(frame: pd.DataFrame, col: str) -> bool:
    """A column of numbers: a numeric dtype, or objects that are numbers or None (a column
    with cells that hold no figure by design, as in :func:`scenario_sheet`)."""
    column = frame[col]
    if pd.api.types.is_bool_dtype(column):
        return False
    if pd.api.types.is_numeric_dtype(column):
        return True
    if column.dtype != object:
        return False
    values = [v for v in column if v is not None]
    return bool(values) and all(isinstance(v, (int, float, np.number))
                                and not isinstance(v, (bool, np.bool_)) for v in values)


def _amounts_for(name: str, frame: pd.DataFrame, amount_columns: Any) -> set[str]:
    """Amount columns of ``frame``: those wanted, and the ``_se`` column of each."""
    wanted = _wanted(name, amount_columns, AMOUNT_COLUMNS)
    return {c for c in frame.columns if _numeric(frame, c)
            and (c in wanted or (c.endswith("_se") and c[:-3] in wanted))}


def export_excel(tables: Mapping[str, pd.DataFrame], path: str | Path, *,
                 amount_columns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
                 krw_columns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
                 term_columns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
                 digits: int = 1) -> Path:
    """Write results tables to an ``.xlsx`` workbook, one sheet each, amounts in 억원.

    Amount columns hold numbers in 억원 (KRW / 1e8: Excel's thousands-scaling commas
    cannot divide by 1e8) shown with the number format ``#,##0.0"억원"``, so they stay
    numeric for further calculation; the standard error of an amount (``<amount>_se``) is
    an amount too. KRW columns (default :data:`KRW_COLUMNS`, the scenario sheet of
    :func:`scenario_sheet`) hold the amounts unscaled, to the won (``#,##0"원"``), and
    :data:`RATIO_COLUMNS` fractions shown as percentages. Numbers keep 15 significant
    digits (:func:`excel_number`), Excel's own precision. Row 1 of each sheet names the
    unit, row 2 holds the headers. An infinite or NaN number is written as what it is (see
    the module docstring): an infinite contract term (``term_columns``: no limit) as
    "무제한", an infinite figure as "무한대", a figure that does not exist (NaN in an amount,
    KRW or ratio column that is not an input of :data:`INPUT_COLUMNS`) as "존재하지 않음",
    a value not given (None, NaT, NaN elsewhere) as an empty cell.

    Parameters
    ----------
    tables : mapping of sheet name → DataFrame
        Named index levels are written as leading columns.
    path : str or Path
        Target ``.xlsx`` file (parent folders are created).
    amount_columns : iterable of str, or mapping sheet name → iterable, optional
        Columns in KRW written in 억원; default :data:`AMOUNT_COLUMNS` (by column name,
        numeric only).
    krw_columns : iterable of str, or mapping sheet name → iterable, optional
        Columns in KRW written unscaled (won); default :data:`KRW_COLUMNS`. A column may
        not be both.
    term_columns : iterable of str, or mapping sheet name → iterable, optional
        Contract terms whose infinity means "none", written "무제한"; default
        :data:`UNLIMITED_TERMS` (``limit``, ``aggregate_limit``). They are inputs: NaN there
        is an empty cell.
    digits : int
        Decimals shown in 억원 (0-3).

    Raises
    ------
    ValueError
        Invalid or duplicate sheet names, ``digits`` out of range, no tables, a column
        named both an amount in 억원 and one in won.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if not tables:
        raise ValueError("export_excel: no tables given")
    if Path(path).suffix.lower() != ".xlsx":
        raise ValueError(f"export_excel: Excel export needs a .xlsx path, got {str(path)!r}")
    if digits not in (0, 1, 2, 3):
        raise ValueError(f"export_excel: digits must be 0-3, got {digits!r}")
    fmt = EOK_FORMAT.replace("0.0", "0" if digits == 0 else "0." + "0" * digits)
    wb = Workbook()
    wb.remove(wb.active)
    seen: set[str] = set()
    for name, table in tables.items():
        sheet = _check_sheet_name(name, seen)
        frame = _flat(table)
        amounts = _amounts_for(name, frame, amount_columns)
        won = {c for c in frame.columns if c in _wanted(name, krw_columns, KRW_COLUMNS)
               and _numeric(frame, c)}
        ratios = {c for c in frame.columns if c in RATIO_COLUMNS and _numeric(frame, c)}
        if amounts & won:
            raise ValueError(f"export_excel: sheet {sheet!r}: columns {sorted(amounts & won)} "
                             "are named both amounts in 억원 and amounts in won")
        ws = wb.create_sheet(sheet)
        note = "; ".join(n for n, on in (("금액 단위: 억원 (1억원 = 100,000,000원)", amounts),
                                         ("금액 단위: 원 (KRW)", won)) if on)
        ws.append([f"{sheet}" + (f" — {note}" if note else "")])
        ws["A1"].font = Font(bold=True)
        ws.append(list(frame.columns))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        roles = _roles(name, frame, amounts | won | ratios, term_columns)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_excel_value(v, c in amounts, c in won, roles[c])
                       for v, c in zip(row, frame.columns)])
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            col_fmt = (fmt if col in amounts else KRW_FORMAT if col in won else
                       RATIO_FORMAT if col in ratios else None)
            if col_fmt is not None:
                for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                    cell.number_format = col_fmt
            ws.column_dimensions[letter].width = min(60, max(10, len(col) + 4))
        ws.freeze_panes = "A3"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _roles(name: str, frame: pd.DataFrame, figures: set[str], term_columns: Any) -> dict:
    """Each column's role for values that are not numbers: "term" (an unlimited term),
    "figure" (a computed amount, sum in won or ratio) or "other"."""
    terms = _wanted(name, term_columns, UNLIMITED_TERMS)
    inputs = INPUT_COLUMNS | terms
    return {c: "term" if c in terms else
            "figure" if c in figures and c not in inputs and c.removesuffix("_se") not in inputs
            else "other" for c in frame.columns}


#: Columns of :func:`scenario_sheet`, in order.
SCENARIO_COLUMNS: tuple[str, ...] = (
    "데이터", "대안", "항목", "항목명", "금액 (원)", "금액 표준오차 (원)", "비율", "비율 표준오차",
    "표시 (표준오차에 맞춰 반올림)")


def scenario_sheet(results: Iterable[Any], keys: Iterable[str] | None = None) -> pd.DataFrame:
    """The figures of scenario results as a sheet: one row per (base, alternative, figure).

    Amounts go to ``금액 (원)`` and ``금액 표준오차 (원)`` in KRW, unscaled (the frame holds the
    numbers of :func:`opwb.scenarios.evaluate` exactly; :func:`export_excel` writes them to
    the won); fractions (loss ratio, probabilities) to ``비율`` and ``비율 표준오차``; the 20% cap flag only to the text column, which shows every figure
    as :func:`opwb.report.scenario_tables.figure_text` does (rounded to its error, 억원).
    ``항목`` is the figure's name in ``ScenarioResult.metrics``; ``데이터`` says whether the
    base includes the CD incident.

    Parameters
    ----------
    results : iterable of ScenarioResult
    keys : iterable of str, optional
        Figures to write (default every figure with a standard error,
        :func:`opwb.report.scenario_tables.figure_keys`).

    Returns
    -------
    DataFrame
        Columns :data:`SCENARIO_COLUMNS`; pass it to :func:`export_excel`. The amount and
        ratio columns hold objects: the number, None where the row's figure is of the other
        kind (an empty cell), NaN for a figure that does not exist ("존재하지 않음" in Excel).

    Raises
    ------
    ValueError
        No results; a requested figure a result does not have.
    """
    from opwb.report.scenario_tables import (
        CD_LABELS,
        figure_keys,
        figure_kind,
        figure_label,
        figure_text,
    )
    results = list(results)
    if not results:
        raise ValueError("scenario_sheet: no results given")
    rows = []
    for r in results:
        m = r.metrics
        wanted = figure_keys(m) if keys is None else list(keys)
        missing = [k for k in wanted if k not in m or f"{k}_se" not in m]
        if missing:
            raise ValueError(f"scenario_sheet: {r.alternative.name!r} has no figure (with a "
                             f"standard error) named {missing}")
        for k in wanted:
            kind = figure_kind(k)
            value, se = float(m[k]), float(m[f"{k}_se"])
            rows.append(dict(zip(SCENARIO_COLUMNS, (
                r.data_label or CD_LABELS[bool(r.include_cd)], r.alternative.name, k,
                figure_label(k),
                value if kind == "krw" else None, se if kind == "krw" else None,
                value if kind == "ratio" else None, se if kind == "ratio" else None,
                figure_text(k, value, se)))))
    out = pd.DataFrame(rows, columns=list(SCENARIO_COLUMNS))
    for col in SCENARIO_COLUMNS[4:8]:   # None: no figure here; NaN: the figure does not exist
        out[col] = pd.Series([row[col] for row in rows], dtype=object)
    return out


def settings_sheet(spec: Any, bases: Mapping[bool, Any] | None = None, *,
                   case: Any = None) -> pd.DataFrame:
    """What fixed the numbers of a workbook: the scenario specification (years, seed,
    severity cap in KRW, valuation date, α, cost of capital, aggregation, haircut
    convention), per scenario base the fingerprint of the losses its models were fitted on,
    the opwb version and, with the ``case``, its observation window and each source file
    with its SHA-256. Columns ``항목`` (Korean), ``설정`` (the field's name), ``값`` (amounts
    stay numbers). A severity cap the case does not state (:meth:`Case.is_default
    <opwb.data.case.Case.is_default>`, or a spec whose ``severity_cap_stated`` is False) is
    labelled opwb's default in ``항목``.
    """
    s = spec.settings
    stated = (getattr(spec, "severity_cap_stated", True) if case is None
              else not case.is_default("severity_cap"))
    cap_label = "단일손실 상한 (원)" if stated else f"단일손실 상한 (원; {DEFAULT_NOTE})"
    rows = [("모의실험 연수", "n_years", int(spec.n_years)), ("시드", "seed", int(spec.seed)),
            (cap_label, "severity_cap",
             UNLIMITED if spec.severity_cap is None else float(spec.severity_cap)),
            ("평가일", "valuation_date", str(pd.Timestamp(s.valuation_date).date())
             if s.valuation_date is not None else None),
            ("신뢰수준", "alpha", float(s.alpha)),
            ("자본비용률", "cost_of_capital", float(s.cost_of_capital)),
            ("합산 방식", "aggregation", s.aggregation),
            ("잔존기간 할인 방식", "haircut_convention", s.haircut_convention)]
    for cd, base in (bases or {}).items():
        rows.append((f"모형 손실 지문 ({base.data_label})", f"fingerprint_{bool(cd)}",
                     getattr(base.model_set, "fingerprint", "") or ""))
    rows += [("은행", "bank", getattr(spec, "bank", "")),
             ("수집기준 (원)", "threshold", float(getattr(spec, "threshold", math.nan))),
             ("BBB 증권번호", "bond_policy", getattr(spec, "bond_policy", "")),
             ("기준 사건", "incidents",
              ", ".join(i for i, _ in getattr(spec, "incidents", ())) or "없음"),
             ("사례 지문", "case_key", getattr(spec, "case_key", ""))]
    from opwb._version import __version__
    rows.append(("opwb 버전", "opwb_version", __version__))
    if case is not None:
        from opwb.runs.record import case_files
        start, as_of = case.observation
        rows.append(("관측기간", "observation", f"{start} ~ {as_of}"))
        for role, f in case_files(case).items():
            rows.append((f"원천 파일: {role}", f"file_{role.replace(' ', '_')}",
                         f"{f['name']} (SHA-256 {f['sha256']})"))
    return pd.DataFrame(rows, columns=["항목", "설정", "값"])
