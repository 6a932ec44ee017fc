"""Basel III standardised approach for operational risk (OPE25): ``ORC = BIC × ILM``.

BIC marginal coefficients 12% (BI ≤ €1bn), 15% (€1–30bn), 18% (> €30bn);
``ILM = ln(e − 1 + (LC/BIC)^0.8)`` with ``LC = 15 ×`` average annual losses net of
recoveries; insurance earns no direct credit, only through the net losses.

Examples
--------
>>> round(bic(35e9) / 1e9, 2)
5.37
>>> round(ilm(2.0, 1.0), 5), round(ilm(0.5, 1.0), 5), ilm(1.0, 1.0)
(1.24109, 0.8297, 1.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIC_BUCKETS", "bic", "loss_component", "ilm", "SAResult", "standardised_approach",
]


# -- Basel III standardised approach (OPE25) --------------------------------------------------

#: BIC marginal coefficients by BI bucket, bucket upper bounds in EUR (OPE25).
BIC_BUCKETS: tuple[tuple[float, float], ...] = ((1e9, 0.12), (30e9, 0.15), (math.inf, 0.18))


def bic(bi: float, *, currency_per_eur: float = 1.0) -> float:
    """Business indicator component: marginal 12% / 15% / 18% by BI bucket.

    ``currency_per_eur`` converts the EUR bucket bounds to the currency of ``bi`` (e.g.
    the KRW/EUR rate when ``bi`` is in KRW).

    Examples
    --------
    >>> round(bic(35e9) / 1e9, 2)   # 0.12·1 + 0.15·29 + 0.18·5 (Basel text's example)
    5.37
    """
    if not bi >= 0:
        raise ValueError(f"business indicator must be >= 0, got {bi}")
    out, lower = 0.0, 0.0
    for upper, coef in BIC_BUCKETS:
        upper *= currency_per_eur
        out += coef * max(min(bi, upper) - lower, 0.0)
        lower = upper
    return out


def loss_component(annual_losses: Any) -> float:
    """LC = 15 × average annual operational losses (net of recoveries), OPE25."""
    x = np.asarray(annual_losses, dtype=float)
    if x.size == 0 or np.isnan(x).any():
        raise ValueError("annual_losses must be a non-empty array without NaN")
    return 15.0 * float(x.mean())


def ilm(lc: Any, bic_value: Any) -> Any:
    """Internal loss multiplier ``ln(e − 1 + (LC/BIC)^0.8)``.

    Examples
    --------
    >>> ilm(1.0, 1.0), round(ilm(2.0, 1.0), 5)
    (1.0, 1.24109)
    """
    ratio = np.asarray(lc, dtype=float) / np.asarray(bic_value, dtype=float)
    out = np.log(math.e - 1.0 + ratio ** 0.8)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class SAResult:
    """Basel III SA capital with the loss component from gross and from net losses."""

    bi: float
    bic: float
    lc_gross: float
    lc_net: float
    ilm_gross: float
    ilm_net: float
    orc_gross: float
    orc_net: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"lc": [self.lc_gross, self.lc_net],
                             "ilm": [self.ilm_gross, self.ilm_net],
                             "bic": [self.bic, self.bic],
                             "orc": [self.orc_gross, self.orc_net]},
                            index=pd.Index(["gross", "net of recoveries"], name="losses"))


def standardised_approach(bi: float, annual_losses: Any, annual_recoveries: Any = 0.0, *,
                          currency_per_eur: float = 1.0,
                          bucket1_ilm_one: bool = True) -> SAResult:
    """Basel III SA operational risk capital ``ORC = BIC × ILM``, gross vs net of recoveries.

    Insurance earns no direct credit: it enters only through the loss component, which
    uses annual losses net of recoveries received. ``annual_losses`` and
    ``annual_recoveries`` are per-year totals (Basel: ten years); with
    ``bucket1_ilm_one`` the ILM is 1 when the BI is in bucket 1 (≤ €1bn), the Basel default.
    """
    gross = np.asarray(annual_losses, dtype=float)
    net = gross - np.broadcast_to(np.asarray(annual_recoveries, dtype=float), gross.shape)
    b = bic(bi, currency_per_eur=currency_per_eur)
    lc_g, lc_n = loss_component(gross), loss_component(net)
    bucket1 = bucket1_ilm_one and bi <= BIC_BUCKETS[0][0] * currency_per_eur
    ilm_g = 1.0 if bucket1 else ilm(lc_g, b)
    ilm_n = 1.0 if bucket1 else ilm(lc_n, b)
    return SAResult(bi=float(bi), bic=b, lc_gross=lc_g, lc_net=lc_n, ilm_gross=ilm_g,
                    ilm_net=ilm_n, orc_gross=b * ilm_g, orc_net=b * ilm_n)
