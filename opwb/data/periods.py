"""Observation periods: a window of days and the exposure of each calendar year it touches.

One definition for the fitting layer's frequencies and the analysis layer's annual tables.

Examples
--------
>>> from opwb.data.periods import year_exposure
>>> float(year_exposure(("2000-01-01", "2007-03-31")).sum().round(4))
7.2466
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["observation_window", "year_exposure"]


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
