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

from dataclasses import dataclass, field
from typing import Any

from opwb.data.errors import Problem

__all__ = ["Table", "Unreadable"]


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
    the problems they find in the cells.
    """

    name: str                       # file name or "table 'x' in <db>"
    unit: str                       # "line" or "row"
    header: tuple[str, ...]
    header_pos: int | None          # position of the header (None for SQL)
    rows: tuple[tuple[int, tuple[Any, ...]], ...]
    problems: tuple[Problem, ...] = field(default=())

    def where(self, pos: int | None) -> str:
        return f"{self.unit} {pos}" if pos is not None else "header"
