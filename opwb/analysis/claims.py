"""Claims per insurance policy, the per-occurrence layer of the seed's worked example, and
the profile of one large incident (the CD fraud) against the BBB layers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from opwb.analysis.tables import DateBasis, _need, _year_column, observed_exposure

__all__ = [
    "claims_record", "layer_payout", "IncidentProfile", "incident_profile",
]


def _premium_years(losses: pd.DataFrame, years, by: DateBasis) -> float:
    """Years of premium: the exposure of the years (a partial year of the observation
    window counts its share)."""
    return float(observed_exposure(losses, by=by, years=years).sum())


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
