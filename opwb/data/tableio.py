"""Reading tabular sources with positions a person can find, and parsing their cells.

Every opwb loader reads through :func:`read_table`, which keeps for each record where it
came from: ``line N`` of a CSV file (the header is line 1; blank lines are counted),
``row N`` of an Excel sheet (the sheet's own row number) or ``row N`` of a SQL result
(first record = row 1). Cells are parsed by the ``parse_*`` functions, which return a
value or raise :class:`CellError` with what was expected; :class:`Problems` collects the
problems of a whole file so that a loader reports all of them at once.
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import re
import sqlite3
from dataclasses import dataclass
from numbers import Number
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.errors import DataError, Problem

__all__ = ["Table", "read_table", "Problems", "CellError", "parse_amount", "parse_date",
           "parse_bool", "parse_int", "parse_fraction", "is_blank"]


@dataclass(frozen=True)
class Table:
    """Raw cells of a source: ``rows`` is a list of ``(position, values)``."""

    name: str                       # file name or "table 'x' in <db>"
    unit: str                       # "line" or "row"
    header: tuple[str, ...]
    header_pos: int | None          # position of the header (None for SQL)
    rows: tuple[tuple[int, tuple[Any, ...]], ...]

    def where(self, pos: int | None) -> str:
        return f"{self.unit} {pos}" if pos is not None else "header"


class CellError(ValueError):
    """A cell could not be parsed; the message says what was expected."""


class Problems:
    """Collects problems of one table and raises them together as a :class:`DataError`."""

    def __init__(self, table: Table, max_errors: int = 20):
        self.table = table
        self.max_errors = max_errors
        self.items: list[Problem] = []

    def add(self, pos: int | None, column: str | None, message: str,
            context: str | None = None) -> None:
        self.items.append(Problem(self.table.name, self.table.where(pos), column, message,
                                  context))

    def raise_if_any(self) -> None:
        if self.items:
            raise DataError(self.items, max_shown=self.max_errors)


# -- reading -----------------------------------------------------------------------------

_SQL_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def read_table(source: Any, *, encoding: str | None = None, sheet_name: str | int = 0,
               table: str | None = None) -> Table:
    """Read a CSV/Excel file, a SQL table (connection or URL) or a DataFrame into a :class:`Table`.

    Parameters
    ----------
    source : path, SQL URL, DB-API/SQLAlchemy connection, or pandas.DataFrame
    encoding : str, optional
        CSV text encoding; by default UTF-8 (with or without BOM), then CP949.
    sheet_name : str or int
        Excel sheet.
    table : str
        SQL table name (required for SQL sources).
    """
    if isinstance(source, pd.DataFrame):
        rows = tuple((i + 1, tuple(r)) for i, r in enumerate(source.itertuples(index=False)))
        return Table("<DataFrame>", "row", tuple(map(str, source.columns)), None, rows)
    if isinstance(source, str) and _SQL_URL.match(source):
        return _read_sql(source, table, _redact(source))
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _read_excel(path, sheet_name)
        return _read_csv(path, encoding)
    if hasattr(source, "execute") or hasattr(source, "connect"):
        return _read_sql(source, table, _connection_name(source))
    raise TypeError(f"cannot read {type(source).__name__}: expected a CSV/Excel path, a SQL "
                    "URL or connection, or a pandas DataFrame")


def _decode(path: Path, raw: bytes, encoding: str | None) -> str:
    tries = [encoding] if encoding else ["utf-8-sig", "cp949"]
    for enc in tries:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError as exc:
            last = exc
    expected = encoding or "UTF-8 (with or without BOM) or CP949"
    raise DataError([Problem(path.name, "file", None,
                             f"cannot decode the text as {expected} (byte {last.object[last.start]:#04x}"
                             f" at offset {last.start}); pass encoding=... if it is another")])


def _read_csv(path: Path, encoding: str | None) -> Table:
    text = _decode(path, path.read_bytes(), encoding)
    reader = csv.reader(io.StringIO(text, newline=""))
    header: tuple[str, ...] | None = None
    header_pos = None
    rows = []
    start = 1
    try:
        for record in reader:
            pos, start = start, reader.line_num + 1
            if not record or all(not f.strip() for f in record):
                continue
            if header is None:
                header, header_pos = tuple(f.strip() for f in record), pos
            else:
                rows.append((pos, tuple(record)))
    except csv.Error as exc:
        raise DataError([Problem(path.name, f"line {reader.line_num}", None,
                                 f"not valid CSV: {exc}")]) from None
    if header is None:
        raise DataError([Problem(path.name, "line 1", None,
                                 "the file is empty; expected a header row and data rows")])
    return Table(path.name, "line", header, header_pos, tuple(rows))


def _read_excel(path: Path, sheet_name: str | int) -> Table:
    import openpyxl  # local: only Excel users need it loaded

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = wb.worksheets[sheet_name] if isinstance(sheet_name, int) else wb[sheet_name]
        name = f"{path.name} [sheet '{ws.title}']"
        header, header_pos, rows = None, None, []
        for pos, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if all(is_blank(v) for v in values):
                continue
            if header is None:
                header = tuple("" if v is None else str(v).strip() for v in values)
                header_pos = pos
            else:
                rows.append((pos, tuple(values)))
    finally:
        wb.close()
    if header is None:
        raise DataError([Problem(name, "row 1", None,
                                 "the sheet is empty; expected a header row and data rows")])
    # trailing empty header cells come from formatted-but-empty columns
    while header and header[-1] == "":
        header = header[:-1]
    width = len(header)
    return Table(name, "row", header, header_pos,
                 tuple((p, tuple(v[:width]) + (None,) * (width - len(v))) for p, v in rows))


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
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if value is pd.NaT:
        return True
    return isinstance(value, str) and not value.strip()


def _show(value: Any) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(value)


def parse_amount(value: Any) -> float:
    """A non-negative finite KRW amount; strings may carry thousands separators."""
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


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y-%m-%d %H:%M:%S",
                 "%Y. %m. %d", "%Y.%m.%d.")


def parse_date(value: Any) -> pd.Timestamp:
    """A calendar date: datetime/date objects or text as YYYY-MM-DD (also / . or YYYYMMDD)."""
    if isinstance(value, (_dt.datetime, _dt.date, np.datetime64)):
        return pd.Timestamp(value).normalize()
    text = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return pd.Timestamp(_dt.datetime.strptime(text, fmt)).normalize()
        except ValueError:
            continue
    raise CellError(f"expected a date as YYYY-MM-DD, got {_show(value)}")


_TRUE = {"true", "t", "yes", "y", "1", "예", "참"}
_FALSE = {"false", "f", "no", "n", "0", "아니오", "아니요", "거짓"}


def parse_bool(value: Any) -> bool:
    """true/false, yes/no, 1/0, 예/아니오."""
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
                 optional: tuple[str, ...] = (),
                 columns: dict[str, str] | None = None) -> dict[str, int]:
    """Map canonical column names to positions in ``table.header``.

    ``columns`` renames source headers to canonical names (e.g. ``{'사건유형': 'event_type'}``).
    Missing required columns and headers that appear twice are added to ``problems``.
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
    for name in required:
        if name not in index:
            hint = (f"; map a differently named column with columns={{'<header>': '{name}'}}"
                    if not rename else "")
            problems.add(table.header_pos or 1, name,
                         f"missing column; expected the columns {', '.join(required)}"
                         + (f" (optional: {', '.join(optional)})" if optional else "") + hint)
    return index
