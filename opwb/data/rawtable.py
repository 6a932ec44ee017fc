"""The raw table every reader produces, and the marker for a cell that cannot be trusted.

A reader (:mod:`opwb.data.textread`, :mod:`opwb.data.excelread`, SQL and DataFrames in
:mod:`opwb.data.tableio`) turns a source into a :class:`Table` of raw cells with the position
of each record; the loaders then parse the cells. A cell whose stored value must not be used
(a formula Excel never calculated, an Excel error such as ``#REF!``) is kept as an
:class:`Unreadable` holding the reason, so that the loader reports it at its line and column
together with every other problem of the file.

Examples
--------
>>> t = Table("x.csv", "line", ("a", "b"), 1, ((2, ("1", "2")),))
>>> t.where(2), t.where(None)
('line 2', 'header')
>>> str(Unreadable("the formula '=1/0' gives the Excel error #DIV/0!"))
"the formula '=1/0' gives the Excel error #DIV/0!"
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from opwb.data.datesystem import EPOCH_1900
from opwb.data.errors import DataError, Problem

__all__ = ["Table", "Unreadable", "LEADING_ROWS", "from_header_row", "is_blank_record"]

#: How many non-blank records (header included) a reader keeps as ``Table.leading``: where
#: a loader looks for the real header below a title block.
LEADING_ROWS = 30


@dataclass(frozen=True)
class Unreadable:
    """A cell whose stored value must not be read; ``reason`` says why and what to do."""

    reason: str

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Table:
    """Raw cells of a source: ``rows`` is a tuple of ``(position, values)``.

    ``unit`` is ``"line"`` for text files (the header's line is counted like any other; blank
    lines too) and ``"row"`` for workbook sheets (the sheet's own row numbers), SQL results
    and DataFrames (first record = row 1). ``problems`` are those found while reading (for
    example values in a sheet's columns that have no header); the loaders report them with
    the problems they find in the cells. ``leading`` holds the first :data:`LEADING_ROWS`
    non-blank records from the header on (header included) as read, not cut to the
    header's width, so that a loader can tell that the real header lies below a title block
    (empty for SQL results and DataFrames). ``serial_epoch`` is the day a serial date number
    of the source counts from (:func:`opwb.data.datesystem.serial_epoch`): 1899-12-30 (the
    1900 date system, also the only one of text files, SQL results and DataFrames) unless a
    workbook says otherwise (1904-01-01 for a workbook flagged ``date1904``).
    """

    name: str                       # file name or "table 'x' in <db>"
    unit: str                       # "line" or "row"
    header: tuple[str, ...]
    header_pos: int | None          # position of the header (None for SQL)
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    problems: tuple[Problem, ...] = field(default=())
    leading: tuple[tuple[int, tuple[Any, ...]], ...] = field(default=(), repr=False)
    serial_epoch: _dt.date = EPOCH_1900

    def where(self, pos: int | None) -> str:
        return f"{self.unit} {pos}" if pos is not None else "header"


def is_blank_record(values: Iterable[Any]) -> bool:
    """True when every cell of a record is empty (None or whitespace-only text)."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def from_header_row(records: Iterable[tuple[int, Any]], header_row: int | None, name: str,
                    unit: str) -> Iterator[tuple[int, Any]]:
    """The records of a source from its ``header_row`` on (1 = its first line or row).

    Parameters
    ----------
    records : iterable of (position, values)
        Every record of the source with its position, blank ones included.
    header_row : int or None
        Where the header is; None: every record (the first non-blank one is the header).
    name, unit : str
        The source's name and ``"line"`` or ``"row"``, for messages.

    Yields
    ------
    (int, values)
        The records at or after ``header_row``.

    Raises
    ------
    opwb.DataError
        ``header_row`` is blank, inside a record that starts above it, or past the end.
    """
    records = iter(records)
    if header_row is None:
        yield from records
        return
    last = 0
    for pos, values in records:
        last = pos
        if pos < header_row:
            continue
        if pos > header_row or is_blank_record(values):
            what = "blank" if pos == header_row else "inside a record that starts above it"
            raise _no_header(name, unit, header_row, f"{unit} {header_row} is {what}")
        yield pos, values
        yield from records
        return
    whole = "file" if unit == "line" else "sheet"
    raise _no_header(name, unit, header_row, f"the {whole} ends at {unit} {last}" if last
                     else f"the {whole} is empty")


def _no_header(name: str, unit: str, header_row: int, why: str) -> DataError:
    return DataError([Problem(name, f"{unit} {header_row}", None,
                              f"expected the header on {unit} {header_row} (header_row="
                              f"{header_row}), but {why}; set header_row to the {unit} that "
                              "holds the column names")])
