"""The loss data set of the Basel III standardised approach (OPE25): which losses, which
years, in which currency.

Rules applied (Basel Framework OPE25; LC definition OPE25.8, loss-data standards
OPE25.13-25.17 and the specific loss-data criteria that follow them):

* ``LC = 15 ×`` average annual operational losses over the previous **10 years**; a bank
  without 10 years of high-quality loss data may use at least **5 years** in the transition
  to the standardised approach; with fewer than 5 the loss data cannot be used (the capital
  is the BIC alone) — opwb raises an error rather than return an LC.
* Losses below the **€20,000** threshold are left out of the average (national discretion
  may raise it to €100,000 for BI buckets 2 and 3: ``threshold_eur``). The threshold is in
  EUR; amounts in another currency are compared with ``20,000 × eur_rate``. A loss is in
  the data set when its gross amount is at or above the threshold (opwb's collection
  convention, :func:`opwb.data.schema.collected`).
* Losses enter **net of recoveries** (insurance included), and a recovery counts only once
  received: the ``insurance_recovery`` and ``other_recovery`` columns are taken to be amounts
  received. The gross LC is reported beside it, for the effect of insurance.
* Losses are placed in years by their **date of accounting** (``booking_date``, 회계처리일),
  as the OPE25 loss-data criteria ask; another date column may be chosen and is reported.

Amounts are in the stated ``currency``; ``eur_rate`` is the number of currency units per
euro (e.g. about 1,450 KRW per EUR), required for every currency but EUR.

Examples
--------
>>> import pandas as pd
>>> ev = pd.DataFrame({"booking_date": pd.to_datetime([f"{y}-06-30" for y in range(2001, 2011)]
...                                                   + ["2010-01-05"]),
...                    "gross_loss": [29e6] * 10 + [10e6], "insurance_recovery": 0.0,
...                    "other_recovery": 0.0})
>>> d = loss_data_from_events(ev, currency="KRW", eur_rate=1450.0)
>>> d.years[0], d.years[-1], d.n_below_threshold, d.lc_gross / 1e6   # 15 × 29m
(2001, 2010, 1, 435.0)
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "FULL_YEARS",
    "LC_MULTIPLIER",
    "MIN_YEARS",
    "SA_THRESHOLD_EUR",
    "LossDataSet",
    "check_currency",
    "loss_data_from_annual",
    "loss_data_from_events",
]

#: Loss threshold of the SA loss data set, EUR (OPE25).
SA_THRESHOLD_EUR = 20_000.0
#: LC = 15 × average annual losses (OPE25.8).
LC_MULTIPLIER = 15.0
#: Years of loss data the LC is based on; fewer (at least 5) only in transition (OPE25).
FULL_YEARS, MIN_YEARS = 10, 5

_AMOUNTS = ("gross_loss", "insurance_recovery", "other_recovery")


def check_currency(currency: Any, eur_rate: Any) -> float:
    """Units of ``currency`` per EUR, checked (1.0 for EUR).

    Raises
    ------
    ValueError
        ``currency`` is not stated as a three-letter code, ``eur_rate`` is missing for a
        currency other than EUR, is not a positive finite number, or is not 1 for EUR.

    Examples
    --------
    >>> check_currency("KRW", 1450.0), check_currency("EUR", None)
    (1450.0, 1.0)
    """
    if not isinstance(currency, str) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError(f"state the currency of the amounts as a three-letter code "
                         f"(currency='KRW' or 'EUR'), got {currency!r}: the BI buckets and the "
                         "€20,000 loss threshold are in EUR (OPE25)")
    if currency == "EUR":
        if eur_rate is not None and float(eur_rate) != 1.0:
            raise ValueError(f"currency='EUR' takes no eur_rate (or 1.0), got {eur_rate!r}")
        return 1.0
    if eur_rate is None:
        raise ValueError(f"amounts in {currency} need eur_rate= (units of {currency} per EUR, "
                         "e.g. about 1450 for KRW): the BI buckets and the €20,000 loss "
                         "threshold are in EUR (OPE25)")
    rate = float(eur_rate)
    if not (math.isfinite(rate) and rate > 0):
        raise ValueError(f"eur_rate must be a positive number of {currency} per EUR, "
                         f"got {eur_rate!r}")
    return rate


@dataclass(frozen=True)
class LossDataSet:
    """Annual losses of the SA loss data set (amounts in ``currency``).

    ``annual``: index ``year`` (the years used, oldest first), columns ``n_losses`` (None for
    annual totals), ``gross_loss``, ``recoveries`` (insurance and other, received) and
    ``net_loss``. Counts of events left out (``None`` for annual totals): below the threshold
    (``n_below_threshold``, their gross ``gross_below_threshold``), outside the years used
    (``n_outside_years``), without a date (``n_undated``, their gross ``gross_undated``).
    ``available``: first and last year of the data given (older years beyond the last 10
    are not used).
    """

    currency: str
    eur_rate: float
    source: Literal["events", "annual totals"]
    date_column: str | None
    threshold_eur: float
    annual: pd.DataFrame
    available: tuple[int, int]
    n_below_threshold: int | None = None
    gross_below_threshold: float | None = None
    n_outside_years: int | None = None
    n_undated: int | None = None
    gross_undated: float | None = None
    undated: str | None = None

    @property
    def threshold(self) -> float:
        """The loss threshold in ``currency`` (``threshold_eur × eur_rate``)."""
        return self.threshold_eur * self.eur_rate

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(int(y) for y in self.annual.index)

    @property
    def n_years(self) -> int:
        return len(self.annual)

    @property
    def transitional(self) -> bool:
        """Fewer than 10 years: allowed only in the transition (OPE25)."""
        return self.n_years < FULL_YEARS

    @property
    def lc_gross(self) -> float:
        """15 × average annual gross loss (before recoveries), in ``currency``."""
        return LC_MULTIPLIER * float(self.annual["gross_loss"].mean())

    @property
    def lc_net(self) -> float:
        """15 × average annual loss net of recoveries received (the LC of OPE25)."""
        return LC_MULTIPLIER * float(self.annual["net_loss"].mean())

    @property
    def notes(self) -> tuple[str, ...]:
        """What the data set left out or assumed, in words."""
        y = self.years
        out = []
        if self.available[0] < y[0]:
            out.append(f"data from {self.available[0]}: only the last {self.n_years} years "
                       f"({y[0]}-{y[-1]}) are used (OPE25: 10 years)")
        if self.transitional:
            out.append(f"LC uses {self.n_years} years ({y[0]}-{y[-1]}), fewer than the 10 "
                       "OPE25 requires: allowed only in the transition (at least 5)")
        if self.source == "annual totals":
            out.append(f"annual totals: the caller stated that losses below "
                       f"€{self.threshold_eur:,.0f} ({self.threshold:,.0f} {self.currency}) "
                       "are already left out")
        else:
            out.append(f"{self.n_below_threshold} losses below €{self.threshold_eur:,.0f} "
                       f"({self.threshold:,.0f} {self.currency}; gross "
                       f"{self.gross_below_threshold:,.0f}) left out")
            if self.n_outside_years:
                out.append(f"{self.n_outside_years} losses dated outside {y[0]}-{y[-1]} left out")
            if self.n_undated:
                how = ("left out" if self.undated == "exclude"
                       else "dated by occurrence_date instead")
                out.append(f"{self.n_undated} losses without {self.date_column} (gross "
                           f"{self.gross_undated:,.0f}) {how}")
        return tuple(out)

    def summary(self) -> pd.Series:
        """The data set's key facts as one labelled column (for display and Excel)."""
        y = self.years
        return pd.Series({
            "currency": self.currency, "eur_rate": self.eur_rate, "source": self.source,
            "date_column": self.date_column, "years": f"{y[0]}-{y[-1]}",
            "n_years": self.n_years, "transitional": self.transitional,
            "threshold_eur": self.threshold_eur, "threshold": self.threshold,
            "n_losses": (int(self.annual["n_losses"].sum())
                         if self.source == "events" else None),
            "n_below_threshold": self.n_below_threshold,
            "gross_below_threshold": self.gross_below_threshold,
            "n_outside_years": self.n_outside_years, "n_undated": self.n_undated,
            "lc_gross": self.lc_gross, "lc_net": self.lc_net,
        }, name="loss data set", dtype=object)


def _window(first: int, last: int) -> list[int]:
    years = list(range(max(first, last - FULL_YEARS + 1), last + 1))
    if len(years) < MIN_YEARS:
        raise ValueError(f"the loss data cover {len(years)} year(s) ({first}-{last}); the "
                         f"standardised approach needs at least {MIN_YEARS} (OPE25: 10 years, "
                         "5 in transition; with fewer the capital is the BIC alone, see bic())")
    return years


def loss_data_from_events(losses: pd.DataFrame, *, currency: str, eur_rate: float | None = None,
                          date_column: str = "booking_date",
                          undated: Literal["error", "exclude", "occurrence_date"] = "error",
                          end_year: int | None = None, first_year: int | None = None,
                          threshold_eur: float = SA_THRESHOLD_EUR) -> LossDataSet:
    """The SA loss data set from loss events (one row per event).

    Parameters
    ----------
    losses : DataFrame
        Columns ``gross_loss``, ``insurance_recovery``, ``other_recovery`` (amounts in
        ``currency``, recoveries as received) and ``date_column`` (as from
        :func:`opwb.data.load_losses`).
    currency : str
        Currency of the amounts, e.g. ``"KRW"``.
    eur_rate : float, optional
        Units of ``currency`` per EUR; required unless ``currency="EUR"``.
    date_column : str
        Date that places a loss in a year: ``"booking_date"`` (date of accounting, OPE25)
        or another date column, e.g. ``"occurrence_date"``.
    undated : {"error", "exclude", "occurrence_date"}
        Events without a ``date_column`` value (not yet booked, or a date not public): raise
        (default), leave them out, or date them by ``occurrence_date``. Reported either way.
    end_year, first_year : int, optional
        Last year of the data set and first year of complete loss collection; default the
        latest and earliest year among the events' dates. The data set is the last 10 years
        up to ``end_year`` that are not before ``first_year``; a year without losses counts
        as a year with zero loss.
    threshold_eur : float
        Loss threshold in EUR (OPE25: 20,000; 100,000 at national discretion for BI buckets
        2 and 3).

    Returns
    -------
    LossDataSet

    Raises
    ------
    ValueError
        Currency or rate not stated (:func:`check_currency`); a missing column or amount;
        undated events with ``undated="error"``; fewer than 5 years.
    """
    rate = check_currency(currency, eur_rate)
    if not isinstance(losses, pd.DataFrame):
        raise TypeError(f"losses must be a DataFrame of loss events, got "
                        f"{type(losses).__name__}")
    if undated not in ("error", "exclude", "occurrence_date"):
        raise ValueError(f"undated must be 'error', 'exclude' or 'occurrence_date', "
                         f"got {undated!r}")
    need = [*_AMOUNTS, date_column] + (["occurrence_date"] if undated == "occurrence_date" else [])
    missing = [c for c in need if c not in losses.columns]
    if missing:
        raise ValueError(f"loss events lack column(s) {missing}: the SA loss data set needs "
                         f"{list(_AMOUNTS)} (recoveries received; 0 when none) and "
                         f"{date_column!r}")
    amounts = losses[list(_AMOUNTS)].to_numpy(dtype=float)
    if not np.isfinite(amounts).all() or (amounts < 0).any():
        raise ValueError("loss amounts and recoveries must be finite and >= 0")
    if not threshold_eur > 0:
        raise ValueError(f"threshold_eur must be > 0, got {threshold_eur!r}")
    dates = pd.to_datetime(losses[date_column])
    no_date = dates.isna().to_numpy()
    keep = np.ones(len(losses), dtype=bool)
    if no_date.any():
        if undated == "error":
            ids = (losses.loc[no_date, "event_id"].astype(str).tolist()[:5]
                   if "event_id" in losses.columns else [])
            raise ValueError(f"{int(no_date.sum())} loss event(s) have no {date_column} "
                             f"(e.g. {ids}); OPE25 places losses in years by their date of "
                             "accounting: pass undated='exclude' to leave them out or "
                             "undated='occurrence_date' to date them by occurrence")
        if undated == "exclude":
            keep &= ~no_date
        else:
            dates = dates.fillna(pd.to_datetime(losses["occurrence_date"]))
            if dates.isna().any():
                raise ValueError("events without a date in both columns "
                                 f"{date_column!r} and 'occurrence_date'")
    year = dates.dt.year.to_numpy()
    last = int(end_year) if end_year is not None else int(np.nanmax(year[keep]))
    first = int(first_year) if first_year is not None else int(np.nanmin(year[keep]))
    years = _window(first, last)
    gross = amounts[:, 0]
    above = gross >= threshold_eur * rate
    inside = keep & np.isin(year, years)
    used = inside & above
    df = pd.DataFrame({"year": year[used], "gross_loss": gross[used],
                       "recoveries": amounts[used, 1] + amounts[used, 2]})
    annual = df.groupby("year").agg(n_losses=("gross_loss", "size"),
                                    gross_loss=("gross_loss", "sum"),
                                    recoveries=("recoveries", "sum"))
    annual = annual.reindex(years, fill_value=0).astype({"n_losses": int})
    annual.index.name = "year"
    annual["net_loss"] = annual["gross_loss"] - annual["recoveries"]
    return LossDataSet(currency=currency, eur_rate=rate, source="events",
                       date_column=date_column, threshold_eur=float(threshold_eur),
                       annual=annual, available=(first, last),
                       n_below_threshold=int((inside & ~above).sum()),
                       gross_below_threshold=float(gross[inside & ~above].sum()),
                       n_outside_years=int((keep & ~np.isin(year, years)).sum()),
                       n_undated=int(no_date.sum()), gross_undated=float(gross[no_date].sum()),
                       undated=undated if no_date.any() else None)


def _by_year(values: Any, what: str) -> pd.Series:
    s = pd.Series(values) if isinstance(values, Mapping) else values
    if not isinstance(s, pd.Series):
        raise ValueError(f"{what} must be a Series or mapping indexed by calendar year, got "
                         f"{type(values).__name__}")
    try:
        idx = np.asarray(s.index, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be indexed by calendar year (int)") from None
    if not (np.isfinite(idx).all() and (idx == np.round(idx)).all()):
        raise ValueError(f"{what} must be indexed by calendar year (int)")
    out = pd.Series(s.to_numpy(dtype=float), index=idx.astype(int)).sort_index()
    if not np.isfinite(out.to_numpy()).all():
        raise ValueError(f"{what} has missing or infinite values")
    return out


def loss_data_from_annual(annual_gross: Any, annual_recoveries: Any, *, currency: str,
                          eur_rate: float | None = None,
                          threshold_applied: bool | None = None,
                          threshold_eur: float = SA_THRESHOLD_EUR) -> LossDataSet:
    """The SA loss data set from annual totals the caller has already filtered.

    Parameters
    ----------
    annual_gross : Series or mapping year → amount
        Gross losses per calendar year (consecutive years), in ``currency``. The last 10
        years are used (at least 5).
    annual_recoveries : Series, mapping year → amount, or number
        Recoveries received per year, same years (a number applies to every year: state
        ``0.0`` when there are none).
    currency, eur_rate : see :func:`loss_data_from_events`.
    threshold_applied : bool
        Must be ``True``: the totals leave out losses below ``threshold_eur`` (converted at
        ``eur_rate``). Totals cannot be filtered afterwards; pass events to
        :func:`loss_data_from_events` otherwise.
    threshold_eur : float
        The threshold the totals were filtered at, EUR (OPE25: 20,000).

    Raises
    ------
    ValueError
        Currency not stated; ``threshold_applied`` not ``True``; years not consecutive or
        not matching; fewer than 5 years.
    """
    rate = check_currency(currency, eur_rate)
    if threshold_applied is not True:
        raise ValueError("annual totals: state threshold_applied=True once losses below "
                         f"€{threshold_eur:,.0f} (converted at eur_rate) are left out of them "
                         "(OPE25); otherwise pass loss events to loss_data_from_events")
    gross = _by_year(annual_gross, "annual_gross")
    if np.isscalar(annual_recoveries):
        rec = pd.Series(float(annual_recoveries), index=gross.index)
    else:
        rec = _by_year(annual_recoveries, "annual_recoveries")
        if not rec.index.equals(gross.index):
            raise ValueError(f"annual_recoveries years {list(rec.index)} differ from "
                             f"annual_gross years {list(gross.index)}")
    yrs = gross.index.to_numpy()
    if yrs.size and np.any(np.diff(yrs) != 1):
        raise ValueError(f"annual totals must cover consecutive years, got {list(yrs)}: a "
                         "missing year is unknown, not zero (give it 0 if it had no loss)")
    if yrs.size == 0:
        raise ValueError("annual_gross is empty")
    years = _window(int(yrs[0]), int(yrs[-1]))
    annual = pd.DataFrame({"n_losses": None, "gross_loss": gross.loc[years],
                           "recoveries": rec.loc[years]})
    annual.index.name = "year"
    annual["net_loss"] = annual["gross_loss"] - annual["recoveries"]
    return LossDataSet(currency=currency, eur_rate=rate, source="annual totals",
                       date_column=None, threshold_eur=float(threshold_eur), annual=annual,
                       available=(int(yrs[0]), int(yrs[-1])))
