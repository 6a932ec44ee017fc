"""Premium models: what a BBB structure (deductible, limit) costs a year.

Three kinds, each with a name that is shown wherever its premium is shown:

- :class:`QuotedPremium`: insurers' quotes (``data/bbb_alternatives.csv``) interpolated by
  **rate on line** (premium / limit) against the limit, linearly in log-limit between the
  quotes and flat beyond them. Built on a scenario base
  (:meth:`QuotedPremium.with_deductible_credit`), a deductible other than the quotes' is
  credited by the ratio of expected layer losses, and a quote with an annual aggregate
  limit is first restated without it at the same loading, since the structures priced
  have none.
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
           "LayerStatistics", "as_premium_model", "premium_model_name"]

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
    name : str, optional
        Shown beside every premium.
    layer_cost : callable ``(deductible, limit) -> KRW``, optional
        The layer's expected annual loss. Given, the interpolated premium is adjusted from
        the quotes' deductible at that limit (interpolated like the rate on line) to the
        structure's deductible by the ratio of expected layer losses — the loss-elimination
        (deductible credit) relativity of pricing practice (Klugman, Panjer & Willmot,
        *Loss Models*, §8.2) — so a higher deductible costs less; the quotes themselves
        are reproduced. :meth:`with_deductible_credit` builds it from a scenario base.
    """

    quotes: tuple[Alternative, ...]
    name: str = "견적 보간 (quotes interpolated by rate on line)"
    layer_cost: Callable[[float, float], float] | None = None
    #: (quote name, quoted premium, premium restated without its aggregate limit), KRW.
    restated: tuple[tuple[str, float, float], ...] = ()

    def __init__(self, quotes: Sequence[Alternative], name: str | None = None,
                 layer_cost: Callable[[float, float], float] | None = None):
        quotes = tuple(sorted(quotes, key=lambda a: a.limit))
        if not quotes:
            raise ValueError("QuotedPremium needs at least one quote")
        limits = [q.limit for q in quotes]
        if len(set(limits)) != len(limits) or min(limits) <= 0:
            raise ValueError(f"quotes need distinct positive limits, got {limits}")
        object.__setattr__(self, "quotes", quotes)
        object.__setattr__(self, "layer_cost", layer_cost)
        if name is not None:
            object.__setattr__(self, "name", name)
        elif layer_cost is not None:
            object.__setattr__(self, "name", "견적 보간 + 공제금액 조정 (quotes by rate on "
                                             "line, deductible credit from expected layer "
                                             "loss)")

    @classmethod
    def with_deductible_credit(cls, quotes: Sequence[Alternative], context
                               ) -> "QuotedPremium":
        """Quotes with the deductible credit from the expected layer losses simulated on
        a :class:`opwb.scenarios.bond.BondContext`.

        The structures priced have no annual aggregate limit. A quote that has one (the
        2005 cover: 50억 per occurrence, 100억 a year) is first restated without it, at the
        same loading: its premium × E[payments without the aggregate] / E[payments with
        it] (the same loss-cost relativity as the deductible credit). Otherwise the
        interpolation would price more cover (no annual cap) at the capped quote's premium.
        The restated quotes are :attr:`quotes`; :attr:`restated` names each change. A
        premium adjusted from a quote is rounded to :data:`PREMIUM_ROUNDING` (100만원).
        """
        stats = LayerStatistics(context)
        restated, changes = [], []
        for q in quotes:
            if math.isfinite(q.aggregate_limit):
                terms = stats.template.replace(name="layer", deductible=q.deductible,
                                               limit=q.limit, premium=0.0)
                capped = stats.expected(terms.replace(aggregate_limit=q.aggregate_limit))
                free = stats.expected(terms)
                if not capped > 0:
                    raise ValueError(f"quote {q.name!r}: its layer has no expected loss; "
                                     "its aggregate limit cannot be priced out")
                factor = free / capped
                restated.append(q.replace(premium=q.premium * factor,
                                          aggregate_limit=math.inf))
                changes.append((q.name, q.premium, q.premium * factor))
            else:
                restated.append(q)
        model = cls(restated, layer_cost=stats.mean)
        if changes:
            object.__setattr__(model, "name", "견적 보간 + 공제금액·연간총한도 조정 (quotes by "
                                              "rate on line, deductible and aggregate-limit "
                                              "credit from expected layer loss)")
        object.__setattr__(model, "restated", tuple(changes))
        return model

    def quoted_deductible(self, limit: float) -> float:
        """The quotes' deductible at ``limit`` (linear in log-limit, flat beyond)."""
        x = np.log([q.limit for q in self.quotes])
        return float(np.interp(math.log(limit), x, [q.deductible for q in self.quotes]))

    def prepare(self, pairs) -> None:
        """Compute the layer costs of a grid at once (when the layer cost can)."""
        prep = getattr(getattr(self.layer_cost, "__self__", None), "prepare", None)
        if prep is not None:
            pairs = list(pairs)
            prep(pairs + [(self.quoted_deductible(L), L) for _, L in pairs])

    def __call__(self, deductible: float, limit: float) -> float:
        if not limit > 0:
            raise ValueError(f"limit must be > 0, got {limit!r}")
        exact = [q.premium for q in self.quotes if q.limit == limit]
        if exact:               # a quoted limit: its premium to the won, not rate × limit
            premium = float(exact[0])
        else:
            x = np.log([q.limit for q in self.quotes])
            rol = np.array([q.premium / q.limit for q in self.quotes])
            premium = float(np.interp(math.log(limit), x, rol) * limit)
        if self.layer_cost is None:
            return premium
        d_ref = self.quoted_deductible(limit)
        if deductible == d_ref:
            return _round_premium(premium)
        ref = self.layer_cost(d_ref, limit)
        if not ref > 0:
            raise ValueError(f"the layer {limit:,.0f} xs {d_ref:,.0f} has no expected loss; "
                             "the deductible credit is undefined")
        return _round_premium(premium * self.layer_cost(deductible, limit) / ref)


PREMIUM_ROUNDING = 1e6
"""Premiums adjusted from quotes are rounded to 100만원 (KRW 1e6), as premiums are quoted."""


def _round_premium(value: float) -> float:
    return float(round(value / PREMIUM_ROUNDING) * PREMIUM_ROUNDING)


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

    def prepare(self, pairs) -> None:
        """Compute the layer statistics of many (deductible, limit) pairs at once (a
        frontier's grid) when the statistics source can (:class:`LayerStatistics`)."""
        if hasattr(self.expected_and_var, "prepare"):
            self.expected_and_var.prepare(pairs)

    @classmethod
    def for_base(cls, context, *, loading: float = 0.25, cost_of_capital: float = 0.06,
                 template: Alternative | None = None) -> "TechnicalPremium":
        """From a :class:`opwb.scenarios.bond.BondContext`: the layer's payments on the base's
        simulated years (contractual, before delay and default)."""
        return cls(LayerStatistics(context, template), loading, cost_of_capital)


class LayerStatistics:
    """Mean and 99.5% VaR of a layer's simulated annual payments (contractual, before delay
    and default), read off a :class:`opwb.scenarios.bond.BondContext`; cached by
    (deductible, limit), computed for many limits of one deductible together."""

    def __init__(self, context, template: Alternative | None = None):
        self.context = context
        self.template = template or Alternative("layer", 1.0, 0.0, 0.0)
        self._cache: dict[tuple[float, float], tuple[float, float]] = {}

    def prepare(self, pairs) -> None:
        todo = [(float(d), float(L)) for d, L in pairs
                if (float(d), float(L)) not in self._cache]
        alts = [self.template.replace(name="layer", deductible=d, limit=L, premium=0.0)
                for d, L in dict.fromkeys(todo)]
        for idx, block in self.context.blocks(alts):
            for j, i in enumerate(idx):
                ceded = block.ceded_row(j)
                self._cache[(alts[i].deductible, alts[i].limit)] = (float(ceded.mean()),
                                                                    var(ceded, 0.995))

    def __call__(self, deductible: float, limit: float) -> tuple[float, float]:
        key = (float(deductible), float(limit))
        if key not in self._cache:
            self.prepare([key])
        return self._cache[key]

    def mean(self, deductible: float, limit: float) -> float:
        """The layer's expected annual payments (KRW)."""
        return self(deductible, limit)[0]

    def expected(self, terms: Alternative) -> float:
        """Expected annual contractual payments (KRW) of a layer with ``terms`` (its
        aggregate limit and coinsurance included), on the same stored events."""
        key = ("terms", terms.deductible, terms.limit, terms.aggregate_limit,
               terms.coinsurance, terms.insurer_rating)
        if key not in self._cache:
            (_, block), = self.context.blocks([terms])
            self._cache[key] = (float(block.ceded_row(0).mean()), math.nan)
        return self._cache[key][0]


def premium_model_name(model) -> str:
    """The name shown beside a premium from ``model`` (its ``name``, else "user function")."""
    name = getattr(model, "name", None)
    return str(name) if name else "사용자 보험료 함수 (user premium function)"


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
