"""Premium models: what a BBB structure (deductible, limit) costs a year.

Three kinds, each with a name that is shown wherever its premium is shown:

- :class:`QuotedPremium`: insurers' quotes (``data/bbb_alternatives.csv``) interpolated by
  **rate on line** (premium / limit) against the limit, linearly in log-limit between the
  quotes and flat beyond them; the deductible does not enter (the quotes do not say how
  the insurer prices it).
- :class:`TechnicalPremium`: the bank's own price of the layer — expected layer loss ×
  (1 + loading) plus a cost-of-capital charge on the capital the layer consumes, the
  insurer's 99.5% VaR of the layer's annual payments less their mean (the Solvency II
  standard-formula calibration; its 6% cost-of-capital rate, Delegated Regulation (EU)
  2015/35 Art. 39). It is the figure the seed's bank took to its reinsurers "to lower the
  premium".
- :class:`FixedPremium` or any callable ``(deductible, limit) -> KRW``.

Examples
--------
>>> from opwb.scenarios.alternatives import Alternative
>>> q = QuotedPremium([Alternative("a", 50e8, 5e8, 16e8), Alternative("b", 400e8, 30e8, 50e8)])
>>> round(q(0.0, 50e8) / 1e8, 2), round(q(0.0, 400e8) / 1e8, 2), round(q(0.0, 2000e8) / 1e8, 2)
(16.0, 50.0, 250.0)
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from opwb.engine.riskmeasures import var
from opwb.scenarios.alternatives import Alternative

__all__ = ["PremiumModel", "QuotedPremium", "TechnicalPremium", "FixedPremium",
           "as_premium_model"]

PremiumModel = Callable[[float, float], float]


@dataclass(frozen=True)
class FixedPremium:
    """One premium for every structure (KRW)."""

    premium: float
    name: str = "고정 보험료 (fixed premium)"

    def __call__(self, deductible: float, limit: float) -> float:
        return float(self.premium)


@dataclass(frozen=True)
class QuotedPremium:
    """Quotes interpolated by rate on line against the limit (see the module docstring).

    Parameters
    ----------
    quotes : sequence of Alternative
        Quoted structures (at least one; distinct limits).
    """

    quotes: tuple[Alternative, ...]
    name: str = "견적 보간 (quotes interpolated by rate on line)"

    def __init__(self, quotes: Sequence[Alternative], name: str | None = None):
        quotes = tuple(sorted(quotes, key=lambda a: a.limit))
        if not quotes:
            raise ValueError("QuotedPremium needs at least one quote")
        limits = [q.limit for q in quotes]
        if len(set(limits)) != len(limits) or min(limits) <= 0:
            raise ValueError(f"quotes need distinct positive limits, got {limits}")
        object.__setattr__(self, "quotes", quotes)
        if name is not None:
            object.__setattr__(self, "name", name)

    def __call__(self, deductible: float, limit: float) -> float:
        if not limit > 0:
            raise ValueError(f"limit must be > 0, got {limit!r}")
        x = np.log([q.limit for q in self.quotes])
        rol = np.array([q.premium / q.limit for q in self.quotes])
        return float(np.interp(math.log(limit), x, rol) * limit)


@dataclass(frozen=True)
class TechnicalPremium:
    """Expected layer loss × (1 + loading) + cost of capital × (VaR₉₉.₅ − mean) of the
    layer's annual payments, computed on a scenario base's stored events.

    Parameters
    ----------
    expected_and_var : callable ``(deductible, limit) -> (mean, var_995)``
        The layer's annual payments' mean and 99.5% VaR (KRW) — normally
        :meth:`for_base`, which reads them off the simulated bond payments.
    loading : float
        Expense and profit loading on the expected loss (fraction; default 25%).
    cost_of_capital : float
        Annual cost of the insurer's capital (fraction; default 6%).
    """

    expected_and_var: Callable[[float, float], tuple[float, float]]
    loading: float = 0.25
    cost_of_capital: float = 0.06
    name: str = "기술적 보험료 (technical premium)"

    def __call__(self, deductible: float, limit: float) -> float:
        mean, v = self.expected_and_var(deductible, limit)
        return mean * (1 + self.loading) + self.cost_of_capital * max(v - mean, 0.0)

    @classmethod
    def for_base(cls, context, *, loading: float = 0.25, cost_of_capital: float = 0.06,
                 template: Alternative | None = None) -> "TechnicalPremium":
        """From a :class:`opwb.scenarios.bond.BondContext`: the layer's payments on the base's
        simulated years (contractual, before delay and default)."""
        tmpl = template or Alternative("layer", 1.0, 0.0, 0.0)
        cache: dict[tuple[float, float], tuple[float, float]] = {}

        def stats(deductible: float, limit: float) -> tuple[float, float]:
            key = (float(deductible), float(limit))
            if key not in cache:
                alt = tmpl.replace(deductible=deductible, limit=limit, premium=0.0)
                ceded = context.outcomes([alt])[0].ceded
                cache[key] = (float(ceded.mean()), var(ceded, 0.995))
            return cache[key]
        return cls(stats, loading, cost_of_capital)


def as_premium_model(premium) -> PremiumModel:
    """A premium model from a model, a callable, a number (fixed) or a sequence of quoted
    :class:`Alternative` (interpolated by rate on line)."""
    if isinstance(premium, (int, float)):
        return FixedPremium(float(premium))
    if isinstance(premium, Sequence) and premium and isinstance(premium[0], Alternative):
        return QuotedPremium(premium)
    if callable(premium):
        return premium
    raise TypeError("premium must be a callable (deductible, limit) -> KRW, a number, or "
                    f"quoted alternatives; got {type(premium).__name__}")
