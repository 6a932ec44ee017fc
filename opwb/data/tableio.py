"""Reading tabular sources with positions a person can find, and parsing their cells.

Every opwb loader reads through :func:`read_table`, which keeps for each record where it
came from: ``line N`` of a text file (the file's first line is line 1; blank lines are
counted), ``row N`` of a workbook sheet (the sheet's own row number) or ``row N`` of a SQL
result or DataFrame (first record = row 1). A file's header is its first non-blank line or
row, or the one ``header_row`` names (a bank's title block above it is then ignored). What a file is comes from its contents, not its name
(:mod:`opwb.data.sniff`): delimited text in the encodings Korean systems write
(:mod:`opwb.data.textread`), or a workbook (:mod:`opwb.data.excelread`). Cells are parsed by
the ``parse_*`` functions (the date cells' in :mod:`opwb.data.dates`, re-exported here),
which return a value or raise :class:`CellError` with what was expected; :class:`Problems` collects the problems of a whole file so that a loader reports
all of them at once.
"""
from __future__ import annotations

import math
import re
import sqlite3
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.dates import DATE_RANGE, NO_DATE, NoDate, parse_date, parse_optional_date
from opwb.data.errors import CellError, DataError, Problem
from opwb.data.excelread import header_text, read_workbook
from opwb.data.rawtable import Table, Unreadable
from opwb.data.sniff import identify
from opwb.data.textread import read_text

__all__ = ["Table", "Unreadable", "read_table", "Problems", "CellError", "NoDate", "parse_amount",
           "parse_date", "parse_optional_date", "parse_bool", "parse_int", "parse_fraction",
           "parse_text", "is_blank", "DATE_RANGE", "NO_DATE"]


class Problems:
    """Collects problems of one table and raises them together as a :class:`DataError`.

    The problems found while reading the table (``table.problems``, e.g. values in a sheet's
    columns that have no header) are raised with them, in position order.
    """

    def __init__(self, table: Table, max_errors: int = 20):
        self.table = table
        self.max_errors = max_errors
        self.items: list[Problem] = []

    def add(self, pos: int | None, column: str | None, message: str,
            context: str | None = None) -> None:
        self.items.append(Problem(self.table.name, self.table.where(pos), column, message,
                                  context))

    def raise_if_any(self, *, final: bool = True) -> None:
        """Raise every problem found so far. With ``final=False`` (a check of the header
        before the rows are parsed) the table's reading problems alone do not raise: they
        wait to be reported with the rows' problems."""
        if self.items or (final and self.table.problems):
            found = self.items
            if self.table.problems:
                found = sorted([*self.table.problems, *self.items], key=_position)
            raise DataError(found, max_shown=self.max_errors)

    def require_rows(self, what: str) -> None:
        """Raise (with everything found so far) when the table has no data row after its
        header; ``what`` names one row, e.g. ``"loss event"``."""
        if not self.table.rows:
            self.add((self.table.header_pos or 0) + 1, None,
                     f"no data rows after the header; expected one row per {what}")
            self.raise_if_any()

    def raise_alone(self, pos: int | None, column: str | None, message: str) -> None:
        """Raise one problem on its own: one that makes every other found so far (and the
        table's reading problems) noise, such as a header that is on a later row."""
        raise DataError([Problem(self.table.name, self.table.where(pos), column, message)])


def _position(problem: Problem) -> int:
    number = problem.where.rsplit(" ", 1)[-1]
    return int(number) if number.isdigit() else 0


# -- reading -----------------------------------------------------------------------------

_SQL_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def read_table(source: Any, *, encoding: str | None = None, sheet_name: str | int = 0,
               table: str | None = None, header_row: int | None = None) -> Table:
    """Read a text file, a workbook, a SQL table (connection or URL) or a DataFrame.

    Parameters
    ----------
    source : path, SQL URL, DB-API/SQLAlchemy connection, or pandas.DataFrame
        A file is read as what its contents show it is, whatever its name: comma-, tab- or
        semicolon-delimited text (UTF-8 with or without BOM, CP949/EUC-KR, UTF-16 with BOM
        as Excel's "Unicode text"), or an .xlsx/.xlsm, .xls (Excel 97-2003), .xlsb or .ods
        workbook.
    encoding : str, optional
        Text encoding; by default a byte-order mark decides, else UTF-8, then CP949.
    sheet_name : str or int
        Workbook sheet (name, or 0-based position).
    table : str
        SQL table name (required for SQL sources).
    header_row : int, optional
        For a file: the line (text) or row (sheet) of the header, 1 = the first; the lines or
        rows above it are ignored. By default the first non-blank one is the header.

    Returns
    -------
    Table
        Header, records with their positions, and problems found while reading.

    Raises
    ------
    opwb.DataError
        A file that is not a table (saying what it is: HTML, a zip archive, a PDF, ...), text
        not valid in its encoding (naming the line and byte), an unknown sheet, an empty file,
        a ``header_row`` that is blank or past the end.
    FileNotFoundError
        No such file.
    ValueError
        ``header_row`` not a whole number ≥ 1, or given for a SQL source or a DataFrame.

    Examples
    --------
    >>> import opwb
    >>> t = read_table(opwb.data_path("insurance_programme.csv"))
    >>> t.name, t.unit, t.header[:2]
    ('insurance_programme.csv', 'line', ('policy_id', 'name'))
    """
    _check_header_row(source, header_row)
    if isinstance(source, pd.DataFrame):
        rows = tuple((i + 1, tuple(r)) for i, r in enumerate(source.itertuples(index=False)))
        return Table("<DataFrame>", "row", tuple(map(str, source.columns)), None, rows)
    if isinstance(source, str) and _SQL_URL.match(source):
        return _read_sql(source, table, _redact(source))
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        kind = identify(path)
        if kind == "text":
            return read_text(path, encoding, header_row)
        return read_workbook(path, kind, sheet_name, header_row)
    if hasattr(source, "execute") or hasattr(source, "connect"):
        return _read_sql(source, table, _connection_name(source))
    raise TypeError(f"cannot read {type(source).__name__}: expected a CSV/Excel path, a SQL "
                    "URL or connection, or a pandas DataFrame")


def _check_header_row(source: Any, header_row: int | None) -> None:
    if header_row is None:
        return
    if isinstance(header_row, bool) or not isinstance(header_row, (int, np.integer)) \
            or header_row < 1:
        raise ValueError(f"header_row must be a whole number ≥ 1 (1 = the first row), got "
                         f"{header_row!r}")
    if not isinstance(source, (str, Path)) or (isinstance(source, str)
                                               and _SQL_URL.match(source)):
        raise ValueError("header_row applies to a text file or a workbook, not to "
                         f"{type(source).__name__} sources")


def _read_sql(con: Any, table: str | None, db_name: str) -> Table:
    if not table or not _IDENT.match(table):
        raise ValueError(f"{db_name}: pass table='name' (a plain SQL identifier) to read a SQL "
                         f"source; got {table!r}")
    query = f"SELECT * FROM {table}"
    if isinstance(con, str) and con.lower().startswith("sqlite:///"):
        path = con[len("sqlite:///"):]
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such SQLite database")
        with sqlite3.connect(path) as c:
            frame = pd.read_sql_query(query, c)
    else:
        frame = pd.read_sql_query(query, con)
    name = f"table '{table}' in {db_name}"
    rows = tuple((i + 1, tuple(r)) for i, r in enumerate(frame.itertuples(index=False)))
    return Table(name, "row", tuple(map(str, frame.columns)), None, rows)


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _connection_name(con: Any) -> str:
    if isinstance(con, sqlite3.Connection):
        return "SQLite connection"
    url = getattr(getattr(con, "engine", con), "url", None)
    return _redact(str(url)) if url is not None else type(con).__name__


# -- cells ---------------------------------------------------------------------------------

_AMOUNT = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def is_blank(value: Any) -> bool:
    """True for an empty cell: None, NaN, NaT or whitespace-only text (an
    :class:`Unreadable` cell is not blank: it holds something that must not be read)."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT:
        return True
    return isinstance(value, str) and not value.strip()


def _show(value: Any) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(value)


def _readable(value: Any) -> None:
    if isinstance(value, Unreadable):
        raise CellError(value.reason)


def parse_text(value: Any) -> str:
    """A text cell as str, stripped; a whole number read as 1001.0 gives '1001'.

    Raises :class:`CellError` for an :class:`Unreadable` cell (e.g. an uncalculated formula).

    Examples
    --------
    >>> parse_text(" BBB-2005 "), parse_text(1001.0)
    ('BBB-2005', '1001')
    """
    _readable(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_amount(value: Any) -> float:
    """A non-negative finite KRW amount; strings may carry thousands separators."""
    _readable(value)
    if isinstance(value, bool):
        raise CellError(f"expected an amount in KRW, got {_show(value)}")
    if isinstance(value, Number):
        x = float(value)
    else:
        text = str(value).strip()
        if not _AMOUNT.match(text):
            raise CellError("expected an amount in KRW (digits, optionally with thousands "
                            f"separators, e.g. 65,000,000,000), got {_show(value)}")
        x = float(text.replace(",", ""))
    if not math.isfinite(x):
        raise CellError(f"expected a finite amount in KRW, got {_show(value)}")
    if x < 0:
        raise CellError(f"expected a non-negative amount in KRW, got {_show(value)}")
    return x


def parse_fraction(value: Any, *, allow_zero: bool = True) -> float:
    """A share in [0, 1] (or (0, 1] with ``allow_zero=False``); '90%' is accepted."""
    _readable(value)
    text = str(value).strip() if not isinstance(value, Number) else None
    try:
        if text is not None and text.endswith("%"):
            x = float(text[:-1]) / 100
        else:
            x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = float("nan")
    low_ok = x >= 0 if allow_zero else x > 0
    if isinstance(value, bool) or not (low_ok and x <= 1):
        interval = "[0, 1]" if allow_zero else "(0, 1]"
        raise CellError(f"expected a share in {interval} (e.g. 0.9 or 90%), got {_show(value)}")
    return x


_TRUE = {"true", "t", "yes", "y", "1", "예", "참"}
_FALSE = {"false", "f", "no", "n", "0", "아니오", "아니요", "거짓"}


def parse_bool(value: Any) -> bool:
    """true/false, yes/no, 1/0, 예/아니오."""
    _readable(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().casefold()
    if isinstance(value, Number) and float(value) in (0.0, 1.0):
        return bool(value)
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellError(f"expected true or false (yes/no, 1/0), got {_show(value)}")


def parse_int(value: Any, *, minimum: int | None = 0) -> int:
    """A whole number (``12``, ``12.0``, ``'1,200'``), at least ``minimum``."""
    _readable(value)
    try:
        x = float(str(value).strip().replace(",", "")) if not isinstance(value, Number) \
            else float(value)
    except ValueError:
        x = float("nan")
    if isinstance(value, bool) or not math.isfinite(x) or x != int(x) or \
            (minimum is not None and x < minimum):
        bound = f" ≥ {minimum}" if minimum is not None else ""
        raise CellError(f"expected a whole number{bound}, got {_show(value)}")
    return int(x)


def column_index(table: Table, problems: Problems, *, required: tuple[str, ...],
                 optional: tuple[str, ...] = (), columns: dict[str, str] | None = None,
                 find_header: bool = False) -> dict[str, int]:
    """Map canonical column names to positions in ``table.header``.

    Parameters
    ----------
    table : Table
    problems : Problems
        Missing required columns and headers that appear twice are added to it.
    required, optional : tuple of str
        Canonical column names.
    columns : dict, optional
        Source header → canonical name (e.g. ``{'사건유형': 'event_type'}``).
    find_header : bool
        When required columns are missing, look for a later line or row among the table's
        first ones (``table.leading``) that holds them all (after ``columns``).

    Returns
    -------
    dict
        Canonical name → position in the header.

    Raises
    ------
    opwb.DataError
        With ``find_header``, when a later line or row holds the required columns: one
        problem naming it (set ``header_row`` to it), instead of one per missing column.
    """
    rename = dict(columns or {})
    index: dict[str, int] = {}
    for i, name in enumerate(table.header):
        canon = rename.get(name, name)
        if canon in index:
            problems.add(table.header_pos, canon,
                         f"column appears twice in the header (positions {index[canon] + 1} "
                         f"and {i + 1}); expected each column once")
            continue
        index[canon] = i
    missing = [name for name in required if name not in index]
    if missing and find_header:
        _header_below(table, problems, required, rename)
    for name in missing:
        hint = (f"; map a differently named column with columns={{'<header>': '{name}'}}"
                if not rename else "")
        problems.add(table.header_pos or 1, name,
                     f"missing column; expected the columns {', '.join(required)}"
                     + (f" (optional: {', '.join(optional)})" if optional else "") + hint)
    return index


def _header_below(table: Table, problems: Problems, required: tuple[str, ...],
                  rename: dict[str, str]) -> None:
    """Raise one problem if a line or row holds every required column: a later one (set
    ``header_row``), or, when no mapping was given, one whose names are the usual Korean
    headers of :data:`opwb.data.schema.KOREAN_COLUMNS` (map them)."""
    from opwb.data.schema import KOREAN_COLUMNS
    korean = {} if rename else dict(KOREAN_COLUMNS)
    unit = table.unit
    for pos, values in table.leading:
        texts = [header_text(v) for v in values]
        here = pos == table.header_pos
        if not here and set(required) <= {rename.get(t, t) for t in texts}:
            problems.raise_alone(
                pos, None, f"this {unit} looks like the header (it holds the columns "
                f"{', '.join(required)}), not {unit} {table.header_pos}: set header_row = "
                f"{pos} (in the case file) / header_row={pos}; the {unit}s above it are then "
                "ignored")
        if korean and set(required) <= {korean[t] for t in texts if t in korean}:
            move = "" if here else (f"set header_row = {pos} (in the case file) / "
                                    f"header_row={pos}, and ")
            problems.raise_alone(
                pos, None, f"this {unit} holds the usual Korean headers ("
                + ", ".join(k for k in KOREAN_COLUMNS if k in texts)
                + f"): {move}map them to opwb's columns with the case file's [columns] "
                "section (e.g. \"사건번호\" = \"event_id\") or columns=opwb.KOREAN_COLUMNS")

