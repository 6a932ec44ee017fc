"""Basel III standardised approach for operational risk (OPE25): ``ORC = BIC × ILM``.

* BIC (OPE25.7): marginal coefficients 12% (BI ≤ €1bn), 15% (€1–30bn), 18% (> €30bn). The
  buckets are in EUR, so a BI in another currency needs its EUR rate: every function takes
  the ``currency`` and ``eur_rate`` (units of the currency per EUR) and refuses to guess.
* ILM (OPE25.8–25.9): ``ln(e − 1 + (LC/BIC)^0.8)``; ``LC = 15 ×`` average annual losses net
  of recoveries over 10 years (5 in transition), losses of €20,000 or more — the loss data
  set is built by :mod:`opwb.capital.sa_losses`. Banks in bucket 1 have ILM = 1 (their loss
  data do not enter the capital).
* Insurance earns no direct credit: it enters only through the net losses (the gross LC is
  reported beside the net one to show its effect).

Examples
--------
>>> round(bic(35e9, currency="EUR") / 1e9, 2)       # OPE25.7 footnote: €35bn → €5.37bn
5.37
>>> round(ilm(2.0, 1.0), 5), round(ilm(0.5, 1.0), 5), ilm(1.0, 1.0)
(1.24109, 0.8297, 1.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.capital.sa_losses import (
    FULL_YEARS,
    LC_MULTIPLIER,
    MIN_YEARS,
    LossDataSet,
    check_currency,
    loss_data_from_events,
)

__all__ = [
    "BIC_BUCKETS",
    "SAResult",
    "bic",
    "ilm",
    "loss_component",
    "standardised_approach",
]

#: BIC marginal coefficients by BI bucket, bucket upper bounds in EUR (OPE25.7).
BIC_BUCKETS: tuple[tuple[float, float], ...] = ((1e9, 0.12), (30e9, 0.15), (math.inf, 0.18))

_RENAMED = ("currency_per_eur was replaced by currency= (e.g. 'KRW') and eur_rate= (units of "
            "that currency per EUR)")


def bic(bi: float, *, currency: str | None = None, eur_rate: float | None = None,
        currency_per_eur: Any = None) -> float:
    """Business indicator component, in the currency of ``bi`` (OPE25.7).

    Parameters
    ----------
    bi : float
        Business indicator, in ``currency``.
    currency : str
        Currency of ``bi`` (``"EUR"``, ``"KRW"``, ...); required.
    eur_rate : float, optional
        Units of ``currency`` per EUR (converts the EUR bucket bounds); required unless
        ``currency="EUR"``.

    Raises
    ------
    ValueError
        Currency or rate not stated; ``bi`` negative or not a number; the removed keyword
        ``currency_per_eur``.

    Examples
    --------
    >>> round(bic(35e9, currency="EUR") / 1e9, 2)   # 0.12·1 + 0.15·29 + 0.18·5
    5.37
    >>> round(bic(35e9 * 1450, currency="KRW", eur_rate=1450) / (5.37e9 * 1450), 12)
    1.0
    """
    if currency_per_eur is not None:
        raise ValueError(f"bic: {_RENAMED}")
    rate = check_currency(currency, eur_rate)
    if not bi >= 0:
        raise ValueError(f"business indicator must be >= 0, got {bi}")
    out, lower = 0.0, 0.0
    for upper, coef in BIC_BUCKETS:
        upper *= rate
        out += coef * max(min(bi, upper) - lower, 0.0)
        lower = upper
    return out


def loss_component(annual_net_losses: Any) -> float:
    """``LC = 15 ×`` average annual losses net of recoveries (OPE25.8), the bare formula.

    ``annual_net_losses`` are the totals of the years used, losses below the €20,000
    threshold already left out: 10 years, or 5 to 9 in transition. To build them from loss
    events (threshold, years, recoveries) use :func:`opwb.capital.sa_losses.loss_data_from_events`.

    Raises
    ------
    ValueError
        Fewer than 5 or more than 10 years, or a missing value.

    Examples
    --------
    >>> loss_component([1.0, 2.0, 3.0, 4.0, 5.0])
    45.0
    """
    x = np.asarray(annual_net_losses, dtype=float).ravel()
    if np.isnan(x).any():
        raise ValueError("annual_net_losses has missing values")
    if not MIN_YEARS <= x.size <= FULL_YEARS:
        raise ValueError(f"the LC averages {FULL_YEARS} years of losses ({MIN_YEARS} to "
                         f"{FULL_YEARS - 1} in transition, OPE25), got {x.size}")
    return LC_MULTIPLIER * float(x.mean())


def ilm(lc: Any, bic_value: Any) -> Any:
    """Internal loss multiplier ``ln(e − 1 + (LC/BIC)^0.8)`` (OPE25.8; same currency).

    Raises
    ------
    ValueError
        A BIC that is not positive (the ratio LC/BIC does not exist: a business indicator
        of 0 has BIC = 0 and capital ``BIC × ILM = 0`` whatever the ILM, which
        :func:`standardised_approach` gives), a negative or missing LC.

    Examples
    --------
    >>> ilm(1.0, 1.0), round(ilm(2.0, 1.0), 5)
    (1.0, 1.24109)
    """
    lc_arr, bic_arr = np.asarray(lc, dtype=float), np.asarray(bic_value, dtype=float)
    if not np.all(bic_arr > 0):
        raise ValueError(f"the ILM needs a BIC > 0 (it is ln(e − 1 + (LC/BIC)^0.8)), got "
                         f"{bic_value!r}; with a business indicator of 0 the capital BIC × ILM "
                         "is 0 (standardised_approach gives it)")
    if not np.all(lc_arr >= 0):
        raise ValueError(f"the ILM needs a loss component LC ≥ 0, got {lc!r}")
    ratio = lc_arr / bic_arr
    out = np.log(math.e - 1.0 + ratio ** 0.8)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class SAResult:
    """Basel III SA capital, with the loss component from gross and from net losses.

    Amounts in ``currency``; ``bucket`` is the BI bucket (1-3); with ``ilm_one`` the ILM is
    1 (bucket 1, OPE25). ``loss_data`` is the :class:`~opwb.capital.sa_losses.LossDataSet`
    behind the LC: years used, losses left out, gross and net annual losses. A business
    indicator of 0 has BIC = 0 and ORC = 0; its ILM is NaN (LC/BIC does not exist) unless
    the bucket-1 rule makes it 1.
    """

    bi: float
    currency: str
    eur_rate: float
    bic: float
    bucket: int
    ilm_one: bool
    lc_gross: float
    lc_net: float
    ilm_gross: float
    ilm_net: float
    orc_gross: float
    orc_net: float
    loss_data: LossDataSet

    @property
    def years(self) -> tuple[int, ...]:
        return self.loss_data.years

    @property
    def transitional(self) -> bool:
        """The LC uses fewer than 10 years (allowed in transition only)."""
        return self.loss_data.transitional

    @property
    def notes(self) -> tuple[str, ...]:
        """What the calculation left out or assumed, in words."""
        extra = (("BI in bucket 1: ILM = 1, loss data do not enter the capital",)
                 if self.ilm_one else ())
        if self.bic == 0 and not self.ilm_one:
            extra = ("BI = 0: BIC = 0 and capital 0; the ILM (LC/BIC) does not exist",)
        return (*self.loss_data.notes, *extra)

    def to_frame(self) -> pd.DataFrame:
        """LC, ILM, BIC and ORC from gross losses and from losses net of recoveries."""
        return pd.DataFrame({"lc": [self.lc_gross, self.lc_net],
                             "ilm": [self.ilm_gross, self.ilm_net],
                             "bic": [self.bic, self.bic],
                             "orc": [self.orc_gross, self.orc_net]},
                            index=pd.Index(["gross", "net of recoveries"], name="losses"))


def _bucket(bi: float, rate: float) -> int:
    return 1 + sum(bi > upper * rate for upper, _ in BIC_BUCKETS[:-1])


def standardised_approach(bi: float, losses: Any = None, *legacy: Any,
                          currency: str | None = None, eur_rate: float | None = None,
                          date_column: str = "booking_date",
                          undated: Literal["error", "exclude", "occurrence_date"] = "error",
                          end_year: int | None = None, first_year: int | None = None,
                          bucket1_ilm_one: bool = True,
                          currency_per_eur: Any = None) -> SAResult:
    """Basel III SA operational risk capital ``ORC = BIC × ILM``, gross vs net of recoveries.

    Parameters
    ----------
    bi : float
        Business indicator, in ``currency``.
    losses : DataFrame or LossDataSet
        Loss events (columns as :func:`opwb.data.load_losses` gives them; the data set is
        built by :func:`~opwb.capital.sa_losses.loss_data_from_events` with the keywords
        below), or a ready data set, e.g. from annual totals with
        :func:`~opwb.capital.sa_losses.loss_data_from_annual` (``threshold_applied=True``).
    currency : str
        Currency of ``bi`` and of the losses; required.
    eur_rate : float, optional
        Units of ``currency`` per EUR; required unless ``currency="EUR"``.
    date_column, undated, end_year, first_year
        For loss events: see :func:`~opwb.capital.sa_losses.loss_data_from_events`.
    bucket1_ilm_one : bool
        ILM = 1 when the BI is in bucket 1 (≤ €1bn), the Basel rule (OPE25).

    Returns
    -------
    SAResult
        BIC, LC, ILM and ORC from gross and from net losses, the loss data set used
        (years, losses left out) and ``notes``; ``transitional`` when fewer than 10 years.
        A business indicator of 0 gives BIC = ORC = 0 (never NaN); with
        ``bucket1_ilm_one=False`` its ILM is NaN, a figure that does not exist (LC/BIC).

    Raises
    ------
    ValueError
        Currency or rate not stated or not matching the loss data set; annual totals passed
        directly (the old form ``standardised_approach(bi, annual_losses,
        annual_recoveries, currency_per_eur=...)``); fewer than 5 years of losses;
        undated events (see ``undated``); a negative net loss component.

    Examples
    --------
    >>> import pandas as pd
    >>> from opwb.capital.sa_losses import loss_data_from_annual
    >>> data = loss_data_from_annual(pd.Series([5.37e9 / 15] * 10, index=range(2015, 2025)),
    ...                              0.0, currency="EUR", threshold_applied=True)
    >>> r = standardised_approach(35e9, data, currency="EUR")     # LC = BIC → ILM = 1
    >>> round(r.orc_net / 1e9, 2), r.transitional
    (5.37, False)
    """
    if legacy or (losses is not None and not isinstance(losses, (pd.DataFrame, LossDataSet))):
        raise ValueError(
            "standardised_approach no longer takes annual totals directly: build the loss "
            "data set with loss_data_from_annual(annual_gross, annual_recoveries, "
            "currency=..., eur_rate=..., threshold_applied=True) or pass loss events "
            "(DataFrame), and state currency= and eur_rate=")
    if currency_per_eur is not None:
        raise ValueError(f"standardised_approach: {_RENAMED}")
    rate = check_currency(currency, eur_rate)
    if losses is None:
        raise ValueError("standardised_approach needs the losses (events or a LossDataSet)")
    if isinstance(losses, LossDataSet):
        if (losses.currency, losses.eur_rate) != (currency, rate):
            raise ValueError(f"the loss data set is in {losses.currency} at {losses.eur_rate} "
                             f"per EUR, the BI in {currency} at {rate} per EUR")
        data = losses
    else:
        data = loss_data_from_events(losses, currency=currency, eur_rate=eur_rate,
                                     date_column=date_column, undated=undated,
                                     end_year=end_year, first_year=first_year)
    if data.lc_net < 0 or data.lc_gross < 0:
        raise ValueError(f"negative loss component (gross {data.lc_gross:.6g}, net "
                         f"{data.lc_net:.6g}): recoveries exceed losses")
    b = bic(bi, currency=currency, eur_rate=eur_rate)
    bucket = _bucket(float(bi), rate)
    one = bool(bucket1_ilm_one and bucket == 1)
    if one:
        ilm_g = ilm_n = 1.0
    elif b == 0:   # BI = 0: BIC × ILM = 0 whatever the losses; LC/BIC, so the ILM, does not exist
        ilm_g = ilm_n = math.nan
    else:
        ilm_g, ilm_n = ilm(data.lc_gross, b), ilm(data.lc_net, b)
    return SAResult(bi=float(bi), currency=currency, eur_rate=rate, bic=b, bucket=bucket,
                    ilm_one=one, lc_gross=data.lc_gross, lc_net=data.lc_net, ilm_gross=ilm_g,
                    ilm_net=ilm_n, orc_gross=_orc(b, ilm_g), orc_net=_orc(b, ilm_n),
                    loss_data=data)


def _orc(bic_value: float, ilm_value: float) -> float:
    """``BIC × ILM``; exactly 0 when the BIC is 0 (its limit as BIC → 0: BIC·ln((LC/BIC)^0.8)
    → 0), where the ILM does not exist."""
    return 0.0 if bic_value == 0 else bic_value * ilm_value
