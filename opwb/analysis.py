"""Descriptive analysis of loss-event data (notebook 01): pure pandas/numpy, no plotting.

Every function takes the canonical loss DataFrame (columns :data:`opwb.schema.LOSS_COLUMNS`,
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

from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
import pandas as pd

from .tableio import CellError, Problems, column_index, parse_amount, parse_int, read_table
from .taxonomy import (BUSINESS_LINE_CODES, EVENT_TYPE_CODES, EVENT_TYPES, label,
                       parse_event_type)

__all__ = [
    "cell_summary", "cell_table", "annual_summary", "annual_table", "observed_years",
    "largest_losses", "Strategy", "STRATEGIES", "strategy_matrix", "claims_record",
    "layer_payout", "IncidentProfile", "incident_profile", "external_comparison",
    "EXTERNAL_COLUMNS", "load_external_losses",
]

Stat = Literal["count", "sum", "mean", "max"]
DateBasis = Literal["occurrence", "discovery"]
_STATS: tuple[str, ...] = ("count", "sum", "mean", "max")

#: Columns of ``data/external_losses.csv`` (widely reported large losses worldwide).
EXTERNAL_COLUMNS: tuple[str, ...] = (
    "institution", "country", "year", "event_type", "description_ko", "currency",
    "amount_original", "fx_rate_krw", "amount_krw", "source_note",
)


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


@dataclass(frozen=True)
class Strategy:
    """A risk-management strategy of the frequency × impact matrix (seed, slide 1-3)."""

    code: str
    ko: str
    en: str
    action_ko: str


#: (high frequency, high impact) → strategy, as on slide 1-3 of the seed deck.
STRATEGIES: dict[tuple[bool, bool], Strategy] = {
    (True, False): Strategy("reduce", "위험 감소", "reduce",
                            "비즈니스 프로세스·내부통제 개선"),
    (True, True): Strategy("avoid", "위험 회피", "avoid", "사업 이양·외주"),
    (False, False): Strategy("accept", "위험 수용", "accept", "비용으로 흡수"),
    (False, True): Strategy("transfer", "위험 전가", "transfer",
                            "보험으로 전가, 꼬리는 자본으로 Cover, BCP 구축"),
}


def strategy_matrix(losses: pd.DataFrame, *, impact: Literal["quantile", "max"] = "quantile",
                    impact_quantile: float = 0.95, frequency_cutoff: float | None = None,
                    impact_cutoff: float | None = None, by: DateBasis = "occurrence",
                    years: Iterable[int] | None = None) -> pd.DataFrame:
    """Classify each event type into the seed's four strategies by frequency and impact.

    Rules (all stated in the returned columns):

    - frequency = mean annual number of events over ``years`` (default: observed years);
      *high* when it is strictly above ``frequency_cutoff`` (default: the median of the
      seven event types' frequencies);
    - impact = the ``impact_quantile`` quantile of the gross losses (``impact="quantile"``)
      or the largest loss (``impact="max"``); *high* when strictly above ``impact_cutoff``
      in KRW (default: the median impact over event types with losses). An event type
      without losses has impact NaN and counts as low.

    Returns a frame indexed by event type with columns ``label, n_events, n_years,
    frequency, frequency_cutoff, high_frequency, impact, impact_measure, impact_cutoff,
    high_impact,
    strategy, strategy_ko, action_ko``. (high, low) → reduce, (high, high) → avoid,
    (low, low) → accept, (low, high) → transfer.
    """
    if impact not in ("quantile", "max"):
        raise ValueError(f"impact must be 'quantile' or 'max'; got {impact!r}")
    if not 0.0 < impact_quantile <= 1.0:
        raise ValueError(f"impact_quantile must be in (0, 1]; got {impact_quantile}")
    counts = annual_summary(losses, by=by, years=years)["count"].unstack("year")
    n_years = counts.shape[1]
    in_years = _year_column(losses, by).isin(counts.columns)
    sev = losses.loc[in_years].groupby("event_type")["gross_loss"]
    imp = sev.max() if impact == "max" else sev.quantile(impact_quantile)
    out = pd.DataFrame(index=pd.Index(EVENT_TYPE_CODES, name="event_type"))
    out["label"] = [label(c) for c in out.index]
    out["n_events"] = counts.sum(axis=1).astype("int64")
    out["n_years"] = n_years
    out["frequency"] = out["n_events"] / n_years
    f_cut = float(out["frequency"].median()) if frequency_cutoff is None else frequency_cutoff
    out["frequency_cutoff"] = f_cut
    out["high_frequency"] = out["frequency"] > f_cut
    out["impact"] = imp.reindex(out.index).astype("float64")
    out["impact_measure"] = ("최대 손실금액" if impact == "max"
                             else f"손실금액 {impact_quantile:.0%} 분위수")
    i_cut = float(out["impact"].median()) if impact_cutoff is None else impact_cutoff
    out["impact_cutoff"] = i_cut
    out["high_impact"] = (out["impact"] > i_cut).fillna(False).astype(bool)
    strategies = [STRATEGIES[(bool(f), bool(i))]
                  for f, i in zip(out["high_frequency"], out["high_impact"])]
    out["strategy"] = [s.code for s in strategies]
    out["strategy_ko"] = [s.ko for s in strategies]
    out["action_ko"] = [s.action_ko for s in strategies]
    return out


def _premium_years(losses: pd.DataFrame, years, by: DateBasis) -> int:
    return len(observed_years(losses, by=by) if years is None else list(years))


def claims_record(losses: pd.DataFrame, programme: pd.DataFrame, *,
                  years: Iterable[int] | None = None,
                  by: DateBasis = "occurrence") -> pd.DataFrame:
    """Claims record per policy (the seed's "claims database per policy", slide 3-2).

    A claim is a loss event whose ``policy_id`` names the policy (counted in its occurrence
    or discovery year, ``by``; only ``years`` when given). Premiums are the programme's
    annual ``premium`` times the number of years (default: the years spanned by the losses) — **assumption: the premium was constant over the data years**,
    since the programme table holds one premium per policy. ``loss_ratio`` = recoveries /
    premiums. Policies in the programme without claims appear with zeros; policy ids in the
    losses that the programme does not list appear with NaN premium (nothing is dropped).

    Returns a frame indexed by ``policy_id`` with ``name, claims, gross_loss, recoveries,
    annual_premium, n_years, premiums, loss_ratio``.
    """
    _need(losses, ["policy_id", "gross_loss", "insurance_recovery"], "claims_record (losses)")
    _need(programme, ["policy_id", "name", "premium"], "claims_record (programme)")
    if years is not None:
        years = [int(y) for y in years]
        losses = losses[_year_column(losses, by).isin(years)]
    n_years = _premium_years(losses, years, by)
    claimed = losses[losses["policy_id"].fillna("").astype(str) != ""]
    g = claimed.groupby("policy_id").agg(claims=("gross_loss", "size"),
                                         gross_loss=("gross_loss", "sum"),
                                         recoveries=("insurance_recovery", "sum"))
    ids = list(programme["policy_id"].astype(str))
    ids += [p for p in g.index if p not in set(ids)]
    prog = programme.set_index(programme["policy_id"].astype(str))
    out = pd.DataFrame(index=pd.Index(ids, name="policy_id"))
    out["name"] = prog["name"].reindex(out.index).fillna("(보험계약 목록에 없음)")
    out = out.join(g)
    out["claims"] = out["claims"].fillna(0).astype("int64")
    out[["gross_loss", "recoveries"]] = out[["gross_loss", "recoveries"]].fillna(0.0)
    out["annual_premium"] = prog["premium"].reindex(out.index).astype("float64")
    out["n_years"] = n_years
    out["premiums"] = out["annual_premium"] * n_years
    with np.errstate(divide="ignore", invalid="ignore"):
        out["loss_ratio"] = np.where(out["premiums"] > 0,
                                     out["recoveries"] / out["premiums"], np.nan)
    return out


def layer_payout(loss, deductible: float, limit: float):
    """Per-occurrence layer payment ``min(max(X − deductible, 0), limit)`` (seed slide 1-4).

    Examples
    --------
    The seed's Barings-like case: a 1,000억 loss under limit 400억 / deductible 30억, and
    under limit 1,000억 / deductible 50억.

    >>> float(layer_payout(1000e8, 30e8, 400e8)) / 1e8
    400.0
    >>> float(layer_payout(1000e8, 50e8, 1000e8)) / 1e8
    950.0
    """
    if deductible < 0 or limit < 0:
        raise ValueError(f"deductible and limit must be ≥ 0; got {deductible}, {limit}")
    return np.minimum(np.maximum(np.asarray(loss, dtype=float) - deductible, 0.0), limit)


@dataclass(frozen=True)
class IncidentProfile:
    """A single event's place in the loss data (see :func:`incident_profile`)."""

    event_id: str
    event_type: str
    gross_loss: float
    insurance_recovery: float
    rank_all: int
    n_all: int
    rank_in_type: int
    n_in_type: int
    share_of_type: float
    share_of_all: float
    layers: pd.DataFrame = field(repr=False)


def incident_profile(losses: pd.DataFrame, event_id: str, *, deductible: float = 5e8,
                     limits: Iterable[float] = (50e8, 100e8, 200e8, 400e8, 650e8, 1000e8)
                     ) -> IncidentProfile:
    """Where one event (e.g. the 2005 CD incident) sits in the data, and what cover pays.

    Ranks are by gross loss among all events and among the event's type (1 = largest; ties
    share the best rank). Shares are of the total gross loss of the type and of all events.
    ``layers`` tabulates, for each ``limit`` with the given per-occurrence ``deductible``,
    ``payout = min(max(X − deductible, 0), limit)`` and the ``retained`` remainder.
    """
    _need(losses, ["event_id", "event_type", "gross_loss", "insurance_recovery"],
          "incident_profile")
    hit = losses[losses["event_id"].astype(str) == str(event_id)]
    if hit.empty:
        raise ValueError(f"incident_profile: no event with event_id {event_id!r}")
    row = hit.iloc[0]
    x, et = float(row["gross_loss"]), str(row["event_type"])
    same = losses[losses["event_type"] == et]["gross_loss"]
    lim = np.asarray(list(limits), dtype=float)
    pay = np.array([float(layer_payout(x, deductible, L)) for L in lim], dtype=float)
    layers = pd.DataFrame({"deductible": float(deductible), "limit": lim, "payout": pay,
                           "retained": x - pay})
    return IncidentProfile(
        event_id=str(row["event_id"]), event_type=et, gross_loss=x,
        insurance_recovery=float(row["insurance_recovery"]),
        rank_all=int((losses["gross_loss"] > x).sum()) + 1, n_all=len(losses),
        rank_in_type=int((same > x).sum()) + 1, n_in_type=len(same),
        share_of_type=x / float(same.sum()), share_of_all=x / float(losses["gross_loss"].sum()),
        layers=layers)


def external_comparison(losses: pd.DataFrame, external: pd.DataFrame, *, n: int = 10,
                        by: DateBasis = "occurrence") -> pd.DataFrame:
    """Internal largest losses next to external (worldwide) large losses, in KRW.

    Returns one frame with ``source`` ("internal"/"external"), ``source_ko`` ("내부"/"외부"),
    ``name`` (event id or institution), ``year``, ``event_type``, ``event_type_ko``,
    ``amount_krw``, ``description``, sorted by amount (largest first) with ``rank``.
    ``external`` needs columns institution, year, event_type, amount_krw (and optionally
    country, description_ko).
    """
    _need(external, ["institution", "year", "event_type", "amount_krw"],
          "external_comparison (external)")
    top = largest_losses(losses, n)
    internal = pd.DataFrame({
        "source": "internal", "source_ko": "내부", "name": top["event_id"].astype(str),
        "year": _year_column(top, by).astype("int64"), "event_type": top["event_type"],
        "amount_krw": top["gross_loss"].astype("float64"),
        "description": top.get("description", pd.Series("", index=top.index)).astype(str)})
    ext_name = external["institution"].astype(str)
    if "country" in external.columns:
        ext_name = ext_name + " (" + external["country"].astype(str) + ")"
    ext = pd.DataFrame({
        "source": "external", "source_ko": "외부", "name": ext_name,
        "year": external["year"].astype("int64"), "event_type": external["event_type"],
        "amount_krw": external["amount_krw"].astype("float64"),
        "description": external.get("description_ko", pd.Series(
            "", index=external.index)).astype(str)})
    out = pd.concat([internal, ext], ignore_index=True)
    out["event_type_ko"] = [EVENT_TYPES[c].ko if c in EVENT_TYPES else str(c)
                            for c in out["event_type"]]
    out = out.sort_values(["amount_krw", "name"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out


def load_external_losses(source, *, encoding: str | None = None,
                         max_errors: int = 20) -> pd.DataFrame:
    """Load and validate external large losses (``data/external_losses.csv``).

    Columns :data:`EXTERNAL_COLUMNS`; ``year`` int, ``event_type`` a Basel code (Korean or
    English names accepted), amounts and ``fx_rate_krw`` non-negative floats. Raises
    :class:`opwb.DataError` naming file, line and column of every problem.

    Examples
    --------
    >>> import opwb
    >>> ext = load_external_losses(opwb.data_path("external_losses.csv"))
    >>> bool((ext["amount_krw"] > 0).all()), ext["year"].dtype
    (True, dtype('int64'))
    """
    tbl = read_table(source, encoding=encoding)
    problems = Problems(tbl, max_errors)
    idx = column_index(tbl, problems, required=EXTERNAL_COLUMNS)
    problems.raise_if_any()
    parsers = {"year": lambda v: parse_int(v, minimum=1900),
               "amount_original": parse_amount, "fx_rate_krw": parse_amount,
               "amount_krw": parse_amount}
    records = []
    for pos, values in tbl.rows:
        if len(values) != len(tbl.header):
            problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                    f"found {len(values)}")
            continue
        rec = {}
        for col in EXTERNAL_COLUMNS:
            v = values[idx[col]]
            try:
                if col == "event_type":
                    rec[col] = parse_event_type(v)
                    if rec[col] is None:
                        codes = ", ".join(EVENT_TYPE_CODES)
                        raise CellError(f"expected an event-type code ({codes}), got {v!r}")
                else:
                    rec[col] = parsers[col](v) if col in parsers else (
                        "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            except CellError as err:
                problems.add(pos, col, str(err))
        records.append(rec)
    problems.raise_if_any()
    out = pd.DataFrame.from_records(records, columns=list(EXTERNAL_COLUMNS))
    return out.astype({"year": "int64", "amount_original": "float64",
                       "fx_rate_krw": "float64", "amount_krw": "float64"})
