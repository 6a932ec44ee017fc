"""Descriptive analysis of loss-event data (notebook 01): pure pandas/numpy, no plotting.

Every function takes the canonical loss DataFrame (columns :data:`opwb.data.schema.LOSS_COLUMNS`,
as returned by ``opwb.load_losses``) and returns a new DataFrame; inputs are never changed.
Event types and business lines always appear in taxonomy order, all of them, even when a
cell or a year has no events (count 0, sum 0, mean/max NaN).

The annual tables list the years of the bank's observation window (start, as-of date) when
one is known (``observation=``, or ``losses.attrs["observation"]`` as the loader stores it),
each with its **exposure**: the share of the calendar year inside the window (days of the
window in the year / days in the year), so an annual frequency is count / exposure. Without
a window they list every calendar year from the first to the last event, each whole (the
loader, given no window, refuses a date cut off from the others by years without any loss,
such as a year typed 1905: :func:`opwb.data.periods.isolated_dates`).

Examples
--------
>>> import pandas as pd
>>> from opwb.analysis import cell_table
>>> df = pd.DataFrame({"event_type": ["IF", "IF", "EF"], "business_line": ["RB", "RB", "CB"],
...                    "gross_loss": [3e8, 1e8, 5e7]})
>>> t = cell_table(df, "sum")
>>> t.shape, t.loc["IF", "RB"], t.loc["DPA", "AM"]
((7, 8), np.float64(400000000.0), np.float64(0.0))
"""
from __future__ import annotations

from typing import Iterable, Literal

import numpy as np
import pandas as pd

from opwb.data.periods import observation_window, year_exposure
from opwb.data.taxonomy import (
    BUSINESS_LINE_CODES,
    EVENT_TYPE_CODES,
)

__all__ = [
    "cell_summary", "cell_table", "observed_years", "observed_exposure", "annual_summary",
    "annual_table", "largest_losses",
]


Stat = Literal["count", "sum", "mean", "max"]
AnnualStat = Literal["count", "sum", "mean", "max", "exposure", "frequency"]


DateBasis = Literal["occurrence", "discovery"]


_STATS: tuple[str, ...] = ("count", "sum", "mean", "max")
_ANNUAL_STATS: tuple[str, ...] = _STATS + ("exposure", "frequency")


def _need(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {missing}; got {list(df.columns)}")


def _check_stat(stat: str) -> None:
    if stat not in _STATS:
        raise ValueError(f"stat must be one of {_STATS}; got {stat!r}")


def cell_summary(losses: pd.DataFrame, *, value: str = "gross_loss") -> pd.DataFrame:
    """Count, sum, mean and max of ``value`` for every event type × business line cell.

    Returns a tidy frame with a (event_type, business_line) MultiIndex holding all 7 × 8
    cells in taxonomy order; empty cells have count 0, sum 0 and NaN mean/max.
    """
    _need(losses, ["event_type", "business_line", value], "cell_summary")
    g = losses.groupby(["event_type", "business_line"], observed=True)[value]
    out = g.agg(["count", "sum", "mean", "max"])
    full = pd.MultiIndex.from_product([EVENT_TYPE_CODES, BUSINESS_LINE_CODES],
                                      names=["event_type", "business_line"])
    out = out.reindex(full)
    out["count"] = out["count"].fillna(0).astype("int64")
    out["sum"] = out["sum"].fillna(0.0).astype("float64")
    return out[["count", "sum", "mean", "max"]]


def cell_table(losses: pd.DataFrame, stat: Stat = "sum", *, value: str = "gross_loss",
               margins: bool = False) -> pd.DataFrame:
    """Event type (rows) × business line (columns) table of one statistic.

    Parameters
    ----------
    stat : {"count", "sum", "mean", "max"}
    margins : bool
        Add a ``"Total"`` row and column (computed from the events, so the total mean is
        the mean of all events in the row, not the mean of cell means).
    """
    _check_stat(stat)
    table = cell_summary(losses, value=value)[stat].unstack("business_line")
    table = table.reindex(index=list(EVENT_TYPE_CODES), columns=list(BUSINESS_LINE_CODES))
    if margins:
        table["Total"] = _stat_by(losses, "event_type", stat, value, EVENT_TYPE_CODES)
        total = _stat_by(losses.assign(_all="Total"), "_all", stat, value, ("Total",))
        row = _stat_by(losses, "business_line", stat, value, BUSINESS_LINE_CODES)
        table.loc["Total"] = pd.concat([row, total]).to_numpy()
    table.index.name, table.columns.name = "event_type", "business_line"
    return table


def _stat_by(losses: pd.DataFrame, key: str, stat: str, value: str,
             keys: Iterable[str]) -> pd.Series:
    out = losses.groupby(key)[value].agg(stat).reindex(list(keys))
    return out.fillna(0.0).astype("float64") if stat in ("count", "sum") else out


def _year_column(losses: pd.DataFrame, by: DateBasis) -> pd.Series:
    if by not in ("occurrence", "discovery"):
        raise ValueError(f"by must be 'occurrence' or 'discovery'; got {by!r}")
    col = f"{by}_date"
    _need(losses, [col], "annual analysis")
    return pd.to_datetime(losses[col]).dt.year


def _window_of(losses: pd.DataFrame, observation):
    """The window to use: ``observation``, else the losses' own (``attrs``); False: none."""
    if observation is None:
        observation = losses.attrs.get("observation")
    return None if observation is None or observation is False else observation_window(observation)


def _check_in_window(losses: pd.DataFrame, by: DateBasis, window) -> None:
    """Events dated outside the window are an error, never silently left out."""
    d = pd.to_datetime(losses[f"{by}_date"])
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    d = d.dt.normalize()
    start, as_of = window
    outside = d.notna() & ((d < start) | (d > as_of))
    if outside.any():
        raise ValueError(
            f"{int(outside.sum())} event(s) have {by}_date outside the observation window "
            f"{start:%Y-%m-%d} – {as_of:%Y-%m-%d} (from {d[outside].min():%Y-%m-%d} to "
            f"{d[outside].max():%Y-%m-%d}); the loader should have refused them: correct the "
            "dates or the window")


def observed_years(losses: pd.DataFrame, *, by: DateBasis = "occurrence",
                   observation=None) -> list[int]:
    """The years of the annual tables.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss frame.
    by : {"occurrence", "discovery"}
        Which date makes the year.
    observation : (start, as_of) or False, optional
        Observation window (dates, both days included). Default
        ``losses.attrs.get("observation")``; ``False``: none.

    Returns
    -------
    list of int
        Every calendar year the window touches, with or without events; without a window,
        the calendar years from the first to the last event year (inclusive), gaps included.
    """
    window = _window_of(losses, observation)
    if window is not None:
        return list(range(window[0].year, window[1].year + 1))
    years = _year_column(losses, by).dropna()
    if years.empty:
        raise ValueError("observed_years: no dated events, pass years= explicitly")
    return list(range(int(years.min()), int(years.max()) + 1))


def observed_exposure(losses: pd.DataFrame, *, by: DateBasis = "occurrence",
                      years: Iterable[int] | None = None, observation=None) -> pd.Series:
    """Exposure of each year of the annual tables, in years of observation.

    With an observation window from ``start`` to ``as_of`` (both days included) the exposure
    of calendar year *y* is (days of the window in *y*) / (days in *y*), in (0, 1]: a window
    2000-01-01 – 2007-03-31 gives 2007 an exposure of 90/365 and every earlier year 1.
    Without a window every year has exposure 1. The total is the observation period in
    years; an annual frequency is a count divided by its exposure.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss frame.
    by : {"occurrence", "discovery"}
        Which date makes the year.
    years : iterable of int, optional
        The years (default :func:`observed_years`); with a window each must be one it
        touches.
    observation : (start, as_of) or False, optional
        Observation window; default ``losses.attrs.get("observation")``, ``False``: none.

    Returns
    -------
    pandas.Series
        ``year -> exposure`` (years, float), index name ``"year"``, name ``"exposure"``.

    Examples
    --------
    >>> df = pd.DataFrame({"occurrence_date": pd.to_datetime(["2001-05-01"])})
    >>> observed_exposure(df, observation=("2000-01-01", "2001-03-31")).round(4).tolist()
    [1.0, 0.2466]
    """
    window = _window_of(losses, observation)
    if window is None:
        ys = observed_years(losses, by=by, observation=False) if years is None else years
        ys = [int(y) for y in ys]
        return pd.Series(1.0, index=pd.Index(ys, name="year"), name="exposure", dtype=float)
    exposure = year_exposure(window)
    if years is None:
        return exposure
    ys = [int(y) for y in years]
    stray = [y for y in ys if y not in exposure.index]
    if stray:
        raise ValueError(f"year(s) {stray} are outside the observation window "
                         f"{window[0]:%Y-%m-%d} – {window[1]:%Y-%m-%d}")
    return exposure.reindex(ys)


def annual_summary(losses: pd.DataFrame, *, by: DateBasis = "occurrence",
                   years: Iterable[int] | None = None,
                   value: str = "gross_loss", observation=None) -> pd.DataFrame:
    """Annual frequency and severity by event type.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss frame.
    by : {"occurrence", "discovery"}
        Which date makes the year.
    years : iterable of int, optional
        The years (default :func:`observed_years`: the observation window's years, or the
        first to the last event year). Events outside ``years`` are not counted.
    value : str
        The KRW amount summarised.
    observation : (start, as_of) or False, optional
        Observation window (dates, both days included); default
        ``losses.attrs.get("observation")``, ``False``: none.

    Returns
    -------
    pandas.DataFrame
        Indexed by (event_type, year) for every event type and every year, with columns
        ``count``, ``sum``, ``mean``, ``max`` (KRW), ``exposure`` (years of observation in
        that year, :func:`observed_exposure`: 1 for a whole year) and ``frequency``
        (= count / exposure, events per year); years without events have count 0, sum 0,
        frequency 0 and NaN mean/max.

    Raises
    ------
    ValueError
        Events dated (by ``by``) outside the observation window, or a year in ``years``
        the window does not touch.
    """
    _need(losses, ["event_type", value], "annual_summary")
    year = _year_column(losses, by)
    window = _window_of(losses, observation)
    if window is not None:
        _check_in_window(losses, by, window)
    exposure = observed_exposure(losses, by=by, years=years,
                                 observation=False if window is None else window)
    years = [int(y) for y in exposure.index]
    frame = pd.DataFrame({"event_type": losses["event_type"],
                          "year": year, "x": losses[value]})
    out = frame.groupby(["event_type", "year"])["x"].agg(["count", "sum", "mean", "max"])
    full = pd.MultiIndex.from_product([EVENT_TYPE_CODES, years], names=["event_type", "year"])
    out = out.reindex(full)
    out["count"] = out["count"].fillna(0).astype("int64")
    out["sum"] = out["sum"].fillna(0.0).astype("float64")
    out["exposure"] = exposure.reindex(full.get_level_values("year")).to_numpy(float)
    out["frequency"] = out["count"] / out["exposure"]
    return out


def annual_table(losses: pd.DataFrame, stat: AnnualStat = "count", *,
                 by: DateBasis = "occurrence", years: Iterable[int] | None = None,
                 value: str = "gross_loss", observation=None) -> pd.DataFrame:
    """Year (rows) × event type (columns) table of one statistic of :func:`annual_summary`.

    ``stat`` is one of ``"count"``, ``"sum"``, ``"mean"``, ``"max"``, ``"exposure"``
    (years of observation in the year) or ``"frequency"`` (count / exposure, per year);
    ``observation`` as in :func:`annual_summary`.
    """
    if stat not in _ANNUAL_STATS:
        raise ValueError(f"stat must be one of {_ANNUAL_STATS}; got {stat!r}")
    s = annual_summary(losses, by=by, years=years, value=value, observation=observation)[stat]
    table = s.unstack("event_type").reindex(columns=list(EVENT_TYPE_CODES))
    table.columns.name = "event_type"
    return table


def largest_losses(losses: pd.DataFrame, n: int = 10, *,
                   value: str = "gross_loss") -> pd.DataFrame:
    """The ``n`` largest losses by ``value``, with ``rank`` (1 = largest) and ``net_loss``.

    Ties are broken by ``event_id`` so the result is reproducible. ``net_loss`` is the gross
    loss less insurance and other recoveries.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}")
    _need(losses, [value, "event_id"], "largest_losses")
    out = losses.sort_values([value, "event_id"], ascending=[False, True]).head(n).copy()
    if {"gross_loss", "insurance_recovery", "other_recovery"} <= set(out.columns):
        out["net_loss"] = out["gross_loss"] - out["insurance_recovery"] - out["other_recovery"]
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
