"""Observation periods: a window of days and the exposure of each calendar year it touches.

One definition for the fitting layer's frequencies and the analysis layer's annual tables.

Without a stated window the counting years are inferred from the data: every calendar
year from the first date to the last. That is only sound when no year inside that span
is without any date: a single date typed 1905 or 2106 would otherwise add a century of
years without a loss and divide every annual frequency. :func:`year_runs` splits the
years that hold dates into runs of consecutive years, :func:`main_run` names the data's
period (the run holding the most dates) and :func:`isolated_dates` the dates outside it,
which :func:`opwb.data.losses.load_losses` refuses by file, row and column when no window
is stated.

Examples
--------
>>> from opwb.data.periods import year_exposure
>>> float(year_exposure(("2000-01-01", "2007-03-31")).sum().round(4))
7.2466
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["observation_window", "year_exposure", "year_runs", "main_run", "isolated_dates"]


def observation_window(observation) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, as_of)`` as day-precision timestamps, start ≤ as-of."""
    try:
        start, as_of = observation
    except (TypeError, ValueError):
        raise ValueError(f"observation must be a (start, as-of date) pair of dates, got "
                         f"{observation!r}") from None
    out = []
    for what, v in (("start", start), ("as-of date", as_of)):
        try:
            ts = pd.Timestamp(v)
        except (TypeError, ValueError):
            raise ValueError(f"observation window {what} is not a date: {v!r}") from None
        if pd.isna(ts):
            raise ValueError(f"observation window {what} is missing: {v!r}")
        if ts.tz is not None:
            ts = ts.tz_localize(None)
        out.append(ts.normalize())
    if out[0] > out[1]:
        raise ValueError(f"the observation window's start {out[0]:%Y-%m-%d} is after its "
                         f"as-of date {out[1]:%Y-%m-%d}")
    return out[0], out[1]


def year_exposure(observation) -> pd.Series:
    """Exposure (years of observation) of every calendar year an observation window touches.

    For a window from ``start`` to ``as_of`` (both days included) the exposure of calendar
    year *y* is

        e_y = (days of the window in year y) / (days in year y)  ∈ (0, 1],

    so a whole year counts 1 (365/365 or 366/366) and ``sum(e_y)`` is the window's length
    in years, each day weighted by its own year's length.

    Parameters
    ----------
    observation : (start, as_of)
        The window's first and last day (str ``YYYY-MM-DD``, ``datetime.date`` or
        ``pandas.Timestamp``; a time of day is ignored).

    Returns
    -------
    pandas.Series
        Indexed by year (``int``, index name ``"year"``), from ``start.year`` to
        ``as_of.year``; values the exposure in years (float), name ``"exposure"``.

    Raises
    ------
    ValueError
        Not a pair of dates, or the start after the as-of date.

    Examples
    --------
    >>> year_exposure(("2000-01-01", "2007-03-31")).loc[[2000, 2006, 2007]].round(6).tolist()
    [1.0, 1.0, 0.246575]
    >>> year_exposure(("2004-07-01", "2004-12-31")).tolist()    # 2004 is a leap year
    [0.5027322404371585]
    """
    start, as_of = observation_window(observation)
    years = np.arange(start.year, as_of.year + 1)
    values = []
    for y in years:
        first = max(start, pd.Timestamp(int(y), 1, 1))
        last = min(as_of, pd.Timestamp(int(y), 12, 31))
        days_in_year = 366 if pd.Timestamp(int(y), 1, 1).is_leap_year else 365
        values.append(((last - first).days + 1) / days_in_year)
    return pd.Series(values, index=pd.Index(years.astype(int), name="year"), name="exposure",
                     dtype=float)


def year_runs(years) -> list[tuple[int, int, int]]:
    """Runs of consecutive calendar years among the years of some dates.

    Parameters
    ----------
    years : iterable of int
        The calendar year of each date (repeats count; missing dates left out).

    Returns
    -------
    list of (int, int, int)
        ``(first year, last year, number of dates)`` of each run, oldest first; one run when
        every year from the first to the last holds a date, none for no dates.

    Examples
    --------
    >>> year_runs([2003, 2002, 2003, 2006, 1905])
    [(1905, 1905, 1), (2002, 2003, 3), (2006, 2006, 1)]
    """
    counts: dict[int, int] = {}
    for y in years:
        counts[int(y)] = counts.get(int(y), 0) + 1
    runs: list[list[int]] = []
    for y in sorted(counts):
        if runs and y == runs[-1][1] + 1:
            runs[-1][1] = y
            runs[-1][2] += counts[y]
        else:
            runs.append([y, y, counts[y]])
    return [(a, b, n) for a, b, n in runs]


def main_run(runs: list[tuple[int, int, int]]) -> tuple[int, int, int]:
    """The data's period among :func:`year_runs`: the run holding the most dates (on a tie
    the one of more years, then the latest).

    Examples
    --------
    >>> main_run([(1905, 1905, 1), (2002, 2006, 741)])
    (2002, 2006, 741)
    """
    if not runs:
        raise ValueError("no dates: there is no data period")
    return max(runs, key=lambda r: (r[2], r[1] - r[0], r[1]))


def _empty_years(year: int, main: tuple[int, int, int], years) -> list[int]:
    """The calendar years between ``year`` and the run ``main`` that hold no date of
    ``years`` (the years that separate ``year`` from the data's period)."""
    held = {int(y) for y in years}
    low, high = (year + 1, main[0]) if year < main[0] else (main[1] + 1, year)
    return [y for y in range(low, high) if y not in held]


def _year_ranges(years) -> str:
    """Years as ranges, e.g. ``"1906–2001"`` or ``"2004, 2008–2009"``.

    >>> _year_ranges([2004, 2008, 2009])
    '2004, 2008–2009'
    """
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b, _ in year_runs(years))


def _period(run: tuple[int, int, int]) -> str:
    return str(run[0]) if run[0] == run[1] else f"{run[0]}–{run[1]}"


def isolated_dates(dates, *, what: str = "occurrence date") -> list[tuple[int, str]]:
    """The dates separated from the data's period by calendar years that hold no date, each
    with the message a loader reports at its row and column.

    Parameters
    ----------
    dates : sequence of date-like or None
        One column's dates (``None``/NaT: no date, left out).
    what : str
        The column as a person names it, e.g. ``"occurrence date"``.

    Returns
    -------
    list of (int, str)
        ``(position in dates, message)`` of every date outside :func:`main_run`, when the
        years holding dates form more than one run (empty when they form one).

    Examples
    --------
    >>> out = isolated_dates(["2002-03-01", "2003-05-01", None, "1905-03-01"])
    >>> [i for i, _ in out]
    [3]
    >>> print(out[0][1])  # doctest: +ELLIPSIS
    occurrence date 1905-03-01 is cut off from the data's period 2002–2003 (2 losses) by 96 ...
    """
    days = [None if d is None or pd.isna(d) else pd.Timestamp(d) for d in dates]
    years = [d.year for d in days if d is not None]
    runs = year_runs(years)
    if len(runs) < 2:
        return []
    main = main_run(runs)
    out = []
    for i, day in enumerate(days):
        if day is None or main[0] <= day.year <= main[1]:
            continue
        empty = _empty_years(day.year, main, years)
        out.append((i, (
            f"{what} {day:%Y-%m-%d} is cut off from the data's period {_period(main)} "
            f"({main[2]} loss{'es' if main[2] != 1 else ''}) by {len(empty)} calendar year"
            f"{'s' if len(empty) != 1 else ''} in which no {what} of any loss falls "
            f"({_year_ranges(empty)}); without an observation window opwb counts "
            "frequencies over every calendar year from the first date to the last, so this "
            "date would divide each annual frequency. Expected a date within the data's "
            "period: correct it (a typo?) or state the observation window (the case's "
            "observation = [start, as-of date]; load_losses(observation=(start, as_of)))")))
    return out
