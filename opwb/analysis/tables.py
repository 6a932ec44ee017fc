"""Descriptive analysis of loss-event data (notebook 01): pure pandas/numpy, no plotting.

Every function takes the canonical loss DataFrame (columns :data:`opwb.data.schema.LOSS_COLUMNS`,
as returned by ``opwb.load_losses``) and returns a new DataFrame; inputs are never changed.
Event types and business lines always appear in taxonomy order, all of them, even when a
cell or a year has no events (count 0, sum 0, mean/max NaN).

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

from opwb.data.taxonomy import (
    BUSINESS_LINE_CODES,
    EVENT_TYPE_CODES,
)

__all__ = [
    "cell_summary", "cell_table", "observed_years", "annual_summary", "annual_table",
    "largest_losses",
]


Stat = Literal["count", "sum", "mean", "max"]


DateBasis = Literal["occurrence", "discovery"]


_STATS: tuple[str, ...] = ("count", "sum", "mean", "max")


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


def observed_years(losses: pd.DataFrame, *, by: DateBasis = "occurrence") -> list[int]:
    """Calendar years from the first to the last event year (inclusive), gaps included."""
    years = _year_column(losses, by).dropna()
    if years.empty:
        raise ValueError("observed_years: no dated events, pass years= explicitly")
    return list(range(int(years.min()), int(years.max()) + 1))


def annual_summary(losses: pd.DataFrame, *, by: DateBasis = "occurrence",
                   years: Iterable[int] | None = None,
                   value: str = "gross_loss") -> pd.DataFrame:
    """Annual frequency and severity by event type.

    Returns a tidy frame indexed by (event_type, year) for every event type and every
    year in ``years`` (default: :func:`observed_years`), with columns ``count``, ``sum``,
    ``mean``, ``max``; years without events have count 0, sum 0 and NaN mean/max.
    Events outside ``years`` are not counted. ``by`` chooses the occurrence (default) or
    discovery year.
    """
    _need(losses, ["event_type", value], "annual_summary")
    years = observed_years(losses, by=by) if years is None else [int(y) for y in years]
    frame = pd.DataFrame({"event_type": losses["event_type"],
                          "year": _year_column(losses, by), "x": losses[value]})
    out = frame.groupby(["event_type", "year"])["x"].agg(["count", "sum", "mean", "max"])
    full = pd.MultiIndex.from_product([EVENT_TYPE_CODES, years], names=["event_type", "year"])
    out = out.reindex(full)
    out["count"] = out["count"].fillna(0).astype("int64")
    out["sum"] = out["sum"].fillna(0.0).astype("float64")
    return out


def annual_table(losses: pd.DataFrame, stat: Stat = "count", *, by: DateBasis = "occurrence",
                 years: Iterable[int] | None = None, value: str = "gross_loss") -> pd.DataFrame:
    """Year (rows) × event type (columns) table of one statistic of :func:`annual_summary`."""
    _check_stat(stat)
    s = annual_summary(losses, by=by, years=years, value=value)[stat]
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
