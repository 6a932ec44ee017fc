"""Date cells: what opwb reads as a date, and the placeholders banks write for "no date".

:func:`parse_date` reads a cell as a calendar date: date cells, the text forms Korean
systems and Excel write, ``YYYYMMDD``, and Excel serial numbers in the source's date system
(:mod:`opwb.data.datesystem`). A date outside :data:`DATE_RANGE` is refused at its cell (a
pandas date column could not hold it). The placeholders systems write for "no date"
(:data:`NO_DATE`, 9999-12-31 in any form, and 0000-00-00) raise :class:`NoDate`;
:func:`parse_optional_date` reads them as missing, for the columns that may be without a
date (the loss file's ``booking_date``: not booked).

Examples
--------
>>> parse_date("2005. 7. 26.") == parse_date("20050726") == parse_date(38559)
True
>>> parse_optional_date("9999-12-31") is None
True
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from numbers import Number
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.datesystem import EPOCH_1900, from_serial
from opwb.data.errors import CellError
from opwb.data.rawtable import Unreadable

__all__ = ["parse_date", "parse_optional_date", "NoDate", "DATE_RANGE", "NO_DATE"]


def _show(value: Any) -> str:
    return repr(value.strip()) if isinstance(value, str) else repr(value)


def _readable(value: Any) -> None:
    if isinstance(value, Unreadable):
        raise CellError(value.reason)


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y.%m.%d.", "%Y. %m. %d",
                 "%Y. %m. %d.", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                 "%Y/%m/%d %H:%M:%S", "%Y년 %m월 %d일")
_DATE_EXPECTED = "expected a date as YYYY-MM-DD"
_SERIALS = (10_000, 100_000)     # 5-digit serials: 1927-05-18 to 2173-10-14 (1900 system)
#: The dates opwb reads (the whole years a ``datetime64[ns]`` column holds); a date outside
#: them is refused at its cell, never left to fail later in pandas.
DATE_RANGE = (_dt.date(1678, 1, 1), _dt.date(2261, 12, 31))
#: What banks' systems write in a date column for "no date" (e.g. "not booked"): the last
#: day of the calendar, 9999-12-31, in any form :func:`parse_date` reads (``99991231``, a
#: date cell, ...), and the all-zero date ``0000-00-00`` / ``00000000`` (SAP's initial date).
NO_DATE = _dt.date(9999, 12, 31)
_NO_DATE_TEXT = re.compile(r"0000([-/.]?)00\1(?:00)(?:[ T].*)?")


class NoDate(CellError):
    """A date cell holds a placeholder for "no date" (:data:`NO_DATE`, ``0000-00-00``):
    :func:`parse_optional_date` reads it as missing; :func:`parse_date` refuses it."""


def parse_date(value: Any, *, epoch: _dt.date = EPOCH_1900) -> pd.Timestamp:
    """A calendar date (time of day dropped).

    Accepted: datetime/date cells; text as YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, 'YYYY. M. D.',
    'YYYY년 M월 D일' (optionally with a time); YYYYMMDD with exactly 8 digits; an Excel
    serial date number of 5 digits, as a number or text, as a date column formatted
    'General' shows it, counted from ``epoch``.

    Parameters
    ----------
    value : cell
        As a reader gives it.
    epoch : datetime.date
        Day 0 of serial date numbers: the source's date system (``Table.serial_epoch``:
        1899-12-30 for the 1900 system, 1904-01-01 for a workbook flagged ``date1904``).

    Raises
    ------
    NoDate
        A placeholder for "no date" (9999-12-31, 99991231, 0000-00-00, 00000000): a
        :class:`CellError` saying so (:func:`parse_optional_date` reads it as missing).
    CellError
        Anything else, saying what was expected: a run of digits other than 8 (or 5) is never
        split into year, month and day; a date outside :data:`DATE_RANGE`.

    Examples
    --------
    >>> parse_date("2005-07-26") == parse_date("20050726") == parse_date(38559)  # serial
    True
    >>> import datetime
    >>> parse_date(38559 - 1462, epoch=datetime.date(1904, 1, 1))   # a Mac Excel workbook
    Timestamp('2005-07-26 00:00:00')
    >>> parse_date("2005. 7. 26.")
    Timestamp('2005-07-26 00:00:00')
    >>> parse_date("200512")
    Traceback (most recent call last):
    ...
    opwb.data.errors.CellError: expected a date as YYYY-MM-DD or YYYYMMDD (exactly 8 digits), got '200512' (6 digits)
    """
    _readable(value)
    day = _calendar_date(value, epoch)
    if day == NO_DATE:
        raise NoDate(f"{_show_date(value)} is the placeholder systems write for 'no date'; "
                     "expected a real date (YYYY-MM-DD) in this column")
    if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
        raise CellError(f"{_DATE_EXPECTED} between {DATE_RANGE[0]} and {DATE_RANGE[1]} (the "
                        f"dates opwb reads), got {_show_date(value)}")
    return pd.Timestamp(day)


def _show_date(value: Any) -> str:
    """A date cell as a person reads it (a date cell as its calendar date)."""
    if isinstance(value, (_dt.date, np.datetime64)):
        return f"the date {str(value)[:10]}"
    return _show(value)


def parse_optional_date(value: Any, *, epoch: _dt.date = EPOCH_1900) -> pd.Timestamp | None:
    """:func:`parse_date`, but a placeholder for "no date" (9999-12-31, 99991231,
    0000-00-00, 00000000) is ``None``, as a blank cell: for the columns that may be left
    without a date (the loss file's ``booking_date``: "not booked").

    Examples
    --------
    >>> parse_optional_date("9999-12-31") is None and parse_optional_date(99991231) is None
    True
    >>> parse_optional_date("2005-08-01")
    Timestamp('2005-08-01 00:00:00')
    """
    try:
        return parse_date(value, epoch=epoch)
    except NoDate:
        return None


def _calendar_date(value: Any, epoch: _dt.date) -> _dt.date:
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise CellError(f"{_DATE_EXPECTED}, got {_show(value)}")
        value = value.astype("datetime64[s]").astype(_dt.datetime)
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, Number) and not isinstance(value, (bool, np.bool_)):
        x = float(value)
        if math.isfinite(x) and x.is_integer():
            return _date_from_digits(str(int(x)), int(x), epoch)
        if _SERIALS[0] <= x < _SERIALS[1]:
            return from_serial(x, epoch)
        raise CellError(f"{_DATE_EXPECTED}, got {_show(value)}")
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return _date_from_digits(text, value, epoch)
    if re.fullmatch(r"\d{5}\.\d+", text):
        return from_serial(float(text), epoch)
    if _NO_DATE_TEXT.fullmatch(text):
        return NO_DATE
    for fmt in _DATE_FORMATS:
        try:
            return _dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellError(f"{_DATE_EXPECTED}, got {_show(value)}")


def _date_from_digits(digits: str, value: Any, epoch: _dt.date) -> _dt.date:
    if len(digits) == 5:
        return from_serial(float(digits), epoch)
    if len(digits) != 8:
        raise CellError(f"{_DATE_EXPECTED} or YYYYMMDD (exactly 8 digits), got {_show(value)} "
                        f"({len(digits)} digits)")
    if digits == "00000000":
        return NO_DATE
    try:
        return _dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise CellError(f"{_DATE_EXPECTED} or YYYYMMDD, got {_show(value)} (no such date)") \
            from None
