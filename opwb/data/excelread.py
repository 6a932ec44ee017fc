"""Workbook sheets as raw tables: .xlsx/.xlsm (openpyxl), .xls/.xlsb/.ods (python-calamine).

Positions are the sheet's own row numbers; the header is the first non-blank row, or the
row ``header_row`` names (rows above it, such as a bank's title block, are ignored). Formula
cells of an .xlsx are checked against the value stored with them: a formula without a
stored value, one whose value is an Excel error, and every formula of a workbook that asks
to be recalculated when opened (as files written by programs such as XlsxWriter or openpyxl
do: the values they store are placeholders, often 0) become
:class:`~opwb.data.rawtable.Unreadable` cells, reported by the loader at their row and
column. Values in columns with no header are reported, not dropped. The workbook's date system
(1900, or 1904 for a workbook flagged ``date1904``) is kept as the table's ``serial_epoch``,
so that dates stored as plain numbers are read as the workbook means them.
"""
from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from opwb.data.datesystem import serial_epoch
from opwb.data.errors import DataError, Problem
from opwb.data.rawtable import LEADING_ROWS, Table, Unreadable, from_header_row

__all__ = ["read_workbook", "EXCEL_ERRORS", "column_letter"]

#: Error values Excel shows in a cell.
EXCEL_ERRORS = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!",
})
_SAVE = "open and save the file in Excel, or write values instead of formulas"


def column_letter(index: int) -> str:
    """Excel's column letters for a 0-based column index.

    Examples
    --------
    >>> column_letter(0), column_letter(25), column_letter(26), column_letter(701)
    ('A', 'Z', 'AA', 'ZZ')
    """
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_workbook(path: Path, kind: str, sheet_name: str | int = 0,
                  header_row: int | None = None) -> Table:
    """Read one sheet of a workbook into a :class:`~opwb.data.rawtable.Table`.

    Parameters
    ----------
    path : pathlib.Path
    kind : {'xlsx', 'xls', 'xlsb', 'ods'}
        As returned by :func:`opwb.data.sniff.identify`.
    sheet_name : str or int
        Sheet name, or 0-based position in the workbook.
    header_row : int, optional
        The header's row number as Excel shows it (1 = first row); rows above it are
        ignored. By default the first non-blank row is the header.

    Returns
    -------
    Table
        ``unit`` ``"row"``; cells as the reader gives them (str, float/int, bool,
        ``datetime``/``date``), ``None`` when empty, :class:`~opwb.data.rawtable.Unreadable`
        for a formula or error cell whose value must not be used; ``serial_epoch`` is the
        workbook's date system (:func:`opwb.data.datesystem.serial_epoch`).

    Raises
    ------
    opwb.DataError
        An unknown sheet (naming the sheets there are), an empty sheet, a ``header_row`` that
        is blank or past the sheet's end, or a workbook the reader cannot open (with the
        reader's complaint).

    Examples
    --------
    >>> column_letter(3)  # cells are named by these letters in messages
    'D'
    """
    if kind == "xlsx":
        title, rows, epoch = _xlsx_rows(path, sheet_name)
    else:
        title, rows = _calamine_rows(path, sheet_name)
        epoch = serial_epoch(path, kind)
    name = f"{path.name} [sheet '{title}']"
    try:
        return replace(_to_table(name, from_header_row(rows, header_row, name, "row")),
                       serial_epoch=epoch)
    finally:
        rows.close()


def _to_table(name: str, rows: Iterator[tuple[int, list[Any]]]) -> Table:
    header, header_pos, body, problems, leading = None, None, [], [], []
    for pos, values in rows:
        if all(_blank(v) for v in values):
            continue
        if len(leading) < LEADING_ROWS:
            leading.append((pos, tuple(values)))
        if header is None:
            header, header_pos = _header(values), pos
            continue
        width = len(header)
        extra = [j for j in range(width, len(values)) if not _blank(values[j])]
        if extra:
            j = extra[0]
            problems.append(Problem(name, f"row {pos}", None,
                                    f"cell {column_letter(j)}{pos} holds {_shown(values[j])} but "
                                    f"column {column_letter(j)} has no header; expected values "
                                    f"only in the header's {width} columns (A-"
                                    f"{column_letter(width - 1)})"))
        cells = [None if _blank(v) else v for v in values[:width]]
        body.append((pos, tuple(cells) + (None,) * (width - len(cells))))
    if header is None:
        raise DataError([Problem(name, "row 1", None,
                                 "the sheet is empty; expected a header row and data rows")])
    return Table(name, "row", header, header_pos, tuple(body), tuple(problems), tuple(leading))


def _shown(value: Any) -> str:
    return f"a value that cannot be read ({value})" if isinstance(value, Unreadable) \
        else repr(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header(values: list[Any]) -> tuple[str, ...]:
    names = [header_text(v) for v in values]
    while names and not names[-1]:  # formatted-but-empty columns
        names.pop()
    return tuple(names)


def header_text(value: Any) -> str:
    """A header cell as text: a whole number without ".0", no surrounding spaces; "" for an
    empty or unreadable cell (one rule for workbooks and the header search of tableio)."""
    if value is None or isinstance(value, Unreadable):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unknown_sheet(path: Path, sheet_name: str | int, names: list[str]) -> DataError:
    there = ", ".join(repr(n) for n in names)
    what = f"no sheet {sheet_name!r}" if isinstance(sheet_name, str) else \
        f"no sheet at position {sheet_name} (0 is the first)"
    return DataError([Problem(path.name, "file", None,
                              f"{what}; the workbook's sheets are {there}")])


def _unreadable_workbook(path: Path, exc: Exception) -> DataError:
    return DataError([Problem(path.name, "file", None,
                              f"cannot read the workbook ({type(exc).__name__}: {exc}); "
                              "expected a workbook Excel can open")])


def _pick(path: Path, names: list[str], sheet_name: str | int) -> int:
    if isinstance(sheet_name, int) and 0 <= sheet_name < len(names):
        return sheet_name
    if isinstance(sheet_name, str) and sheet_name in names:
        return names.index(sheet_name)
    raise _unknown_sheet(path, sheet_name, names)


# -- .xlsx / .xlsm: openpyxl, formulas checked -------------------------------------------------

def _xlsx_rows(path: Path, sheet_name: str | int) -> tuple[str, Iterator, Any]:
    import openpyxl  # local: only workbook users need it loaded

    raw = path.read_bytes()  # from bytes: openpyxl refuses names not ending in .xlsx/.xlsm
    try:
        values_wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        formulas_wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise _unreadable_workbook(path, exc) from None
    try:
        index = _pick(path, values_wb.sheetnames, sheet_name)
        recalc = _recalculates_on_open(path)
    except BaseException:
        values_wb.close()
        formulas_wb.close()
        raise
    ws_values, ws_formulas = values_wb.worksheets[index], formulas_wb.worksheets[index]
    title = ws_values.title
    epoch = serial_epoch(path, "xlsx", values_wb)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for sheet in (ws_values, ws_formulas):
                sheet.reset_dimensions()  # trust the cells, not a stored (maybe wrong) size
            pairs = zip(ws_values.iter_rows(values_only=True), ws_formulas.iter_rows())
            for pos, (values, cells) in enumerate(pairs, start=1):
                yield pos, _check_formulas(list(values), cells, recalc)
        finally:
            values_wb.close()
            formulas_wb.close()

    return title, rows(), epoch


def _check_formulas(values: list[Any], cells: tuple, recalc: bool) -> list[Any]:
    for j, cell in enumerate(cells):
        kind = getattr(cell, "data_type", None)
        if kind == "f":
            formula = getattr(cell.value, "text", cell.value)  # array formulas carry .text
            values[j] = _formula_cell(str(formula), values[j], recalc)
        elif kind == "e":
            values[j] = Unreadable(f"the cell holds the Excel error {cell.value}; "
                                   "expected a value")
    return values


def _formula_cell(formula: str, stored: Any, recalc: bool) -> Any:
    if not formula.startswith("="):
        formula = "=" + formula
    if stored is None:
        return Unreadable(f"the formula '{formula}' has no calculated value (the file was "
                          f"written by a program that does not calculate); {_SAVE}")
    if isinstance(stored, str) and stored in EXCEL_ERRORS:
        return Unreadable(f"the formula '{formula}' gives the Excel error {stored}; "
                          "expected a value")
    if recalc:
        return Unreadable(f"the formula '{formula}' was never calculated: the workbook asks "
                          "Excel to recalculate every formula when it is opened, as files "
                          f"written by programs do, so its stored value {stored!r} is a "
                          f"placeholder; {_SAVE}")
    return stored


def _recalculates_on_open(path: Path) -> bool:
    """Whether the workbook's ``calcPr`` says its stored formula values are not current
    (``fullCalcOnLoad``), as XlsxWriter, openpyxl and other writers set it."""
    try:
        with zipfile.ZipFile(path) as zf:
            root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as exc:
        raise _unreadable_workbook(path, exc) from None
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "calcPr":
            return element.get("fullCalcOnLoad", "").lower() in ("1", "true")
    return False


# -- .xls / .xlsb / .ods: python-calamine ------------------------------------------------------

def _calamine_rows(path: Path, sheet_name: str | int) -> tuple[str, Iterator]:
    import python_calamine  # local: only workbook users need it loaded

    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # CalamineError and its kin, or a panic surfaced as an error
        raise _unreadable_workbook(path, exc) from None
    try:
        names = list(workbook.sheet_names)
        index = _pick(path, names, sheet_name)
        data = workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
    except DataError:
        raise
    except Exception as exc:
        raise _unreadable_workbook(path, exc) from None
    finally:
        workbook.close()
    rows = ((pos, [_calamine_cell(v) for v in values])
            for pos, values in enumerate(data, start=1))
    return names[index], rows


def _calamine_cell(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        if value in EXCEL_ERRORS:
            return Unreadable(f"the cell holds the Excel error {value}; expected a value")
    return value
