"""Results tables to Excel (.xlsx) for the bank's papers: amounts in 억원, still numbers.

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

import pandas as pd

__all__ = ["export_excel", "EOK_FORMAT", "AMOUNT_COLUMNS"]

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
})
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


def _excel_value(value: Any, amount: bool) -> Any:
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, (tuple, list, set, frozenset)):
        return "; ".join(map(str, value))
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "무제한" if value > 0 else "-무제한"
        return value / 1e8 if amount else value
    if isinstance(value, int) and not isinstance(value, bool) and amount:
        return value / 1e8
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def _amounts_for(name: str, frame: pd.DataFrame, amount_columns: Any) -> set[str]:
    if amount_columns is None:
        wanted = AMOUNT_COLUMNS
    elif isinstance(amount_columns, Mapping):
        wanted = set(amount_columns.get(name, ()))
    else:
        wanted = set(amount_columns)
    return {c for c in frame.columns
            if c in wanted and pd.api.types.is_numeric_dtype(frame[c])
            and not pd.api.types.is_bool_dtype(frame[c])}


def export_excel(tables: Mapping[str, pd.DataFrame], path: str | Path, *,
                 amount_columns: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
                 digits: int = 1) -> Path:
    """Write results tables to an ``.xlsx`` workbook, one sheet each, amounts in 억원.

    Amount columns hold numbers in 억원 (KRW / 1e8: Excel's thousands-scaling commas
    cannot divide by 1e8) shown with the number format ``#,##0.0"억원"``, so they stay
    numeric for further calculation. Row 1 of each sheet names the unit, row 2 holds the
    headers. Infinite amounts (no aggregate limit) are written as the text "무제한", missing
    values as empty cells.

    Parameters
    ----------
    tables : mapping of sheet name → DataFrame
        Named index levels are written as leading columns.
    path : str or Path
        Target ``.xlsx`` file (parent folders are created).
    amount_columns : iterable of str, or mapping sheet name → iterable, optional
        Columns in KRW; default :data:`AMOUNT_COLUMNS` (by column name, numeric only).
    digits : int
        Decimals shown in 억원 (0-3).

    Raises
    ------
    ValueError
        Invalid or duplicate sheet names, ``digits`` out of range, no tables.
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
        ws = wb.create_sheet(sheet)
        note = "금액 단위: 억원 (1억원 = 100,000,000원)" if amounts else ""
        ws.append([f"{sheet}" + (f" — {note}" if note else "")])
        ws["A1"].font = Font(bold=True)
        ws.append(list(frame.columns))
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in frame.itertuples(index=False, name=None):
            ws.append([_excel_value(v, c in amounts) for v, c in zip(row, frame.columns)])
        for j, col in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            if col in amounts:
                for (cell,) in ws.iter_rows(min_row=3, min_col=j, max_col=j):
                    cell.number_format = fmt
            ws.column_dimensions[letter].width = min(60, max(10, len(col) + 4))
        ws.freeze_panes = "A3"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
