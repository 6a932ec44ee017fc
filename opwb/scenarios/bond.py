"""The bond's payments for many alternatives at once, on one scenario base.

Evaluating a BBB alternative re-applies the whole programme with the bond's terms changed.
The other policies do not depend on the bond's terms — their wordings are disjoint slices
of each event type, their random draws are keyed to events and insurer-years — unless a
policy *follows* the bond (an excess layer over it). So, when no policy follows the bond,
the programme's annual recovery is the recovery without the bond (computed once) plus the
bond's own, and the bond's own is the same arithmetic as
:func:`opwb.insurance.apply.apply_programme` on the events of its cells: per event
``coinsurance · min(loss − deductible, limit)`` inside the bond's wording slice, the annual
aggregate charged in order of occurrence, payments after the horizon (delay), insurer
default by year, the regulatory haircut. Alternatives that share every term but the limit
(and have no aggregate limit) are computed together, one column per limit.

:class:`BondContext` holds what is shared; :meth:`BondContext.outcomes` gives one
:class:`BondOutcome` per alternative.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from opwb.data.taxonomy import event_type_of
from opwb.engine.streams import event_uniforms
from opwb.insurance.apply import _aggregate, apply_programme
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.policy import default_probability
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative

__all__ = ["BondContext", "BondBlock", "BondOutcome", "BOND_ID", "without_bond"]

BOND_ID = "BBB"
DELAY_PROBABILITY = 0.1   # apply_programme's default: the scenario uses the same
LGD = 1.0


def without_bond(programme: Programme) -> Programme:
    """The programme with the bond's limit set to 0: it pays nothing, and every other
    policy keeps the wording slice it has with the bond (removing the bond would shift the
    slices and change which simulated events the other policies answer)."""
    return programme.replace_policy(BOND_ID, limit=0.0)


@dataclass(frozen=True)
class BondBlock:
    """The bond's annual figures for ``k`` alternatives sharing deductible, coinsurance and
    rating: arrays of shape (k, n_years) (rows in the order of ``alternatives``)."""

    alternatives: tuple[Alternative, ...]
    ceded: np.ndarray
    recovery_economic: dict[str, np.ndarray]
    recovery_regulatory: dict[str, np.ndarray]
    claims: np.ndarray
    hit: np.ndarray

    def row(self, j: int) -> "BondOutcome":
        return BondOutcome(self.ceded[j], {et: r[j] for et, r in self.recovery_economic.items()},
                           {et: r[j] for et, r in self.recovery_regulatory.items()},
                           self.claims[j], self.hit[j])


@dataclass(frozen=True)
class BondOutcome:
    """The bond's annual figures for one alternative (arrays of shape (n_years,), KRW).

    ``ceded``: contractual payments; ``recovery_economic`` / ``recovery_regulatory`` by event
    type (the types the bond covers): recognised within the year (after delay and insurer default; the regulatory one
    also after the haircut); ``claims``: paid claims per year; ``hit``: years in which one
    payment reached the per-occurrence limit or the year's payments the aggregate limit.
    """

    ceded: np.ndarray
    recovery_economic: dict[str, np.ndarray]
    recovery_regulatory: dict[str, np.ndarray]
    claims: np.ndarray
    hit: np.ndarray


class BondContext:
    """What every evaluation of the bond on ``base`` with one valuation setting shares.

    Parameters
    ----------
    base : ScenarioBase
    valuation_date, haircut_convention : the regulatory view's haircut settings.

    Raises
    ------
    ValueError
        When a policy follows the bond (then the programme must be applied whole).
    """

    def __init__(self, base, valuation_date, haircut_convention: str):
        prog: Programme = base.programme
        bond = prog[BOND_ID]
        if any(p.follows == BOND_ID for p in prog.policies):
            raise ValueError("a policy follows the bond: apply the programme whole")
        self.base, self.bond = base, bond
        self.valuation = (valuation_date, haircut_convention)
        sim, seed = base.sim, base.seed
        # the bond with a zero limit, not removed: the other policies keep their wording
        # slices, so they answer the same events with and without the bond
        self.without = without_bond(prog)
        hc0 = view_haircuts(self.without, "regulatory", valuation_date=valuation_date,
                            convention=haircut_convention)
        self.econ0 = apply_programme(self.without, sim, seed=seed)
        self.reg0 = apply_programme(self.without, sim, seed=seed, haircuts=hc0)
        self.cells = [c for c in sim.cells if bond.covers(c) > 0]
        self._haircuts: dict[str, float] = {}
        self._above: dict[str, tuple] = {}
        self._defaults: dict[str, np.ndarray] = {}
        self.slices = {c: prog.cover_intervals(event_type_of(c))[BOND_ID] for c in self.cells}

    # -- the programme without the bond ---------------------------------------------------
    def recovery_without(self, view: str) -> dict[str, np.ndarray]:
        """Annual recognised recovery by event type of every policy but the bond."""
        res = self.econ0 if view == "economic" else self.reg0
        return res.recovery_by_event_type

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(event_type_of(c) for c in self.base.sim.cells))

    # -- the bond --------------------------------------------------------------------------
    def haircut(self, alt: Alternative) -> float:
        """The bond's regulatory haircut with the alternative's terms (its rating decides
        eligibility; the residual term the valuation date; the layer terms change nothing)."""
        if alt.insurer_rating not in self._haircuts:
            prog = self.base.programme.replace_policy(BOND_ID, **alt.policy_changes())
            self._haircuts[alt.insurer_rating] = view_haircuts(
                prog, "regulatory", valuation_date=self.valuation[0],
                convention=self.valuation[1])[BOND_ID]
        return self._haircuts[alt.insurer_rating]

    def blocks(self, alternatives: Sequence[Alternative]
               ) -> Iterator[tuple[list[int], "BondBlock"]]:
        """The alternatives in groups computed together (same deductible, coinsurance and
        rating; an alternative with an aggregate limit on its own), one group at a time:
        ``(indices, block)``."""
        groups: dict[tuple, list[int]] = {}
        for i, alt in enumerate(alternatives):
            key = (alt.deductible, alt.coinsurance, alt.insurer_rating,
                   i if math.isfinite(alt.aggregate_limit) else -1)
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            yield idx, self._block([alternatives[i] for i in idx])

    def outcomes(self, alternatives: Sequence[Alternative]) -> list[BondOutcome]:
        """One :class:`BondOutcome` per alternative (same order)."""
        out: list[BondOutcome | None] = [None] * len(alternatives)
        for idx, block in self.blocks(alternatives):
            for j, i in enumerate(idx):
                out[i] = block.row(j)
        return out

    def _events(self, cell: str, d: float) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                      np.ndarray]:
        """The cell's events in the bond's wording slice with a loss above ``d``, in event
        order: (indices, losses, years, paid after the horizon). The subset above the
        smallest deductible asked for so far is kept, so later deductibles scan only it."""
        sim, seed = self.base.sim, self.base.seed
        cached = self._above.get(cell)
        if cached is None or d < cached[0]:
            ev = sim.events[cell]
            if d < ev.keep_above:
                raise ValueError(f"deductible {d:,.0f} is below the events stored for cell "
                                 f"'{cell}' (keep_above {ev.keep_above:,.0f})")
            mask = ev.loss > d
            lo, hi = self.slices[cell]
            u = sim.event_draws(seed, "cover", cell)
            if lo > 0.0:
                mask &= u >= lo
            if hi < 1.0:
                mask &= u < hi
            idx = np.flatnonzero(mask)
            late = sim.event_draws(seed, "delay", cell)[idx] < DELAY_PROBABILITY
            cached = (d, idx, ev.loss[idx], np.asarray(ev.year[idx], dtype=np.int64), late)
            self._above[cell] = cached
        _, idx, loss, year, late = cached
        if d == cached[0]:
            return idx, loss, year, late
        keep = loss > d
        return idx[keep], loss[keep], year[keep], late[keep]

    def _default_years(self, rating: str) -> np.ndarray:
        """Years in which the bond's insurer (with ``rating``) defaults."""
        if rating not in self._defaults:
            n, seed = self.base.n_years, self.base.seed
            insurer = self.bond.insurer or self.bond.key
            u = event_uniforms(seed, "default", insurer, np.arange(n))
            self._defaults[rating] = np.flatnonzero(u < default_probability(rating))
        return self._defaults[rating]

    def _block(self, alts: Sequence[Alternative]) -> BondBlock:
        """Alternatives sharing deductible, coinsurance and rating (rows: their limits)."""
        n = self.base.n_years
        first = alts[0]
        d, c = first.deductible, first.coinsurance
        limits = np.array([a.limit for a in alts], dtype=float)
        aggregates = [a.aggregate_limit for a in alts]
        k = limits.size
        covered = tuple(dict.fromkeys(event_type_of(c) for c in self.cells))
        ceded: dict[str, np.ndarray] = {}
        delayed: dict[str, np.ndarray] = {}
        claims = np.zeros(k * n, dtype=np.int64)
        hit = np.zeros((k, n), dtype=bool)
        picked = []
        for cell in self.cells:
            idx, loss, year, late = self._events(cell, d)
            pay = np.minimum.outer(limits, loss - d)                  # (limits, events)
            if c != 1.0:
                pay *= c
            picked.append((cell, idx, year, late, pay))
        if any(math.isfinite(a) for a in aggregates):
            self._charge(picked, aggregates)
        for cell, idx, year, late, pay in picked:
            et = event_type_of(cell)
            flat = (year[None, :] + n * np.arange(k)[:, None]).ravel()
            paid = np.bincount(flat, pay.ravel(), minlength=k * n).reshape(k, n)
            held = np.bincount(flat, (pay * late).ravel(), minlength=k * n).reshape(k, n)
            ceded[et] = ceded[et] + paid if et in ceded else paid
            delayed[et] = delayed[et] + held if et in delayed else held
            claims += np.bincount(flat[pay.ravel() > 0], minlength=k * n)
            rows, events = np.nonzero(pay >= c * limits[:, None] * (1 - 1e-12))
            hit[rows, year[events]] = True
        dy = self._default_years(first.insurer_rating)
        hc = self.haircut(first)                 # the same rating: the same haircut
        total = None
        rec_e, rec_r = {}, {}
        for et in covered:
            total = ceded[et] if total is None else total + ceded[et]
            rec = ceded[et] - delayed[et]
            if dy.size and LGD > 0:
                rec[:, dy] -= LGD * rec[:, dy]
            rec_e[et] = rec
            rec_r[et] = rec - rec * hc if hc > 0 else rec
        for j, alt in enumerate(alts):
            if math.isfinite(alt.aggregate_limit):
                hit[j] |= total[j] >= c * alt.aggregate_limit * (1 - 1e-12)
        return BondBlock(tuple(alts), total, rec_e, rec_r, claims.reshape(k, n), hit)

    def _charge(self, picked: list, aggregates: Sequence[float]) -> None:
        """Annual aggregate limits, charged in order of occurrence (as apply_programme)."""
        sim, seed = self.base.sim, self.base.seed
        years = np.concatenate([year for _, _, year, _, _ in picked])
        times = np.concatenate([sim.event_draws(seed, "time", c)[idx]
                                for c, idx, _, _, _ in picked])
        order = np.lexsort((times, years))
        pays = np.concatenate([pay for *_, pay in picked], axis=1)
        for j, agg in enumerate(aggregates):
            if not math.isfinite(agg):
                continue
            capped = np.empty(pays.shape[1])
            capped[order] = _aggregate(years[order], pays[j, order], np.zeros(sim.n_years), agg)
            pays[j] = capped
        start = 0
        for i, (c, idx, year, late, _) in enumerate(picked):
            picked[i] = (c, idx, year, late, pays[:, start:start + idx.size])
            start += idx.size
