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
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from opwb.data.taxonomy import event_type_of
from opwb.engine.streams import event_uniforms
from opwb.insurance.apply import _aggregate, apply_programme
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.policy import default_probability
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative

__all__ = ["BondContext", "BondOutcome", "BOND_ID", "without_bond"]

BOND_ID = "BBB"
DELAY_PROBABILITY = 0.1   # apply_programme's default: the scenario uses the same
LGD = 1.0


def without_bond(programme: Programme) -> Programme:
    """The programme with the bond's limit set to 0: it pays nothing, and every other
    policy keeps the wording slice it has with the bond (removing the bond would shift the
    slices and change which simulated events the other policies answer)."""
    return programme.replace_policy(BOND_ID, limit=0.0)


@dataclass(frozen=True)
class BondOutcome:
    """The bond's annual figures for one alternative (arrays of shape (n_years,), KRW).

    ``ceded``: contractual payments; ``recovery_economic`` / ``recovery_regulatory`` by event
    type: recognised within the year (after delay and insurer default; the regulatory one
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
        eligibility; the residual term the valuation date)."""
        prog = self.base.programme.replace_policy(BOND_ID, **alt.policy_changes())
        return view_haircuts(prog, "regulatory", valuation_date=self.valuation[0],
                             convention=self.valuation[1])[BOND_ID]

    def outcomes(self, alternatives: Sequence[Alternative]) -> list[BondOutcome]:
        """One :class:`BondOutcome` per alternative (same order)."""
        out: list[BondOutcome | None] = [None] * len(alternatives)
        groups: dict[tuple, list[int]] = {}
        for i, alt in enumerate(alternatives):
            if math.isfinite(alt.aggregate_limit):
                out[i] = self._one(alt)
            else:
                key = (alt.deductible, alt.coinsurance, alt.insurer_rating)
                groups.setdefault(key, []).append(i)
        for idx in groups.values():
            for i, res in zip(idx, self._many([alternatives[i] for i in idx])):
                out[i] = res
        return out

    def _one(self, alt: Alternative) -> BondOutcome:
        return self._many([alt])[0]

    def _many(self, alts: Sequence[Alternative]) -> list[BondOutcome]:
        """Alternatives sharing deductible, coinsurance and rating (columns: limits)."""
        sim, seed, n = self.base.sim, self.base.seed, self.base.n_years
        first = alts[0]
        d, c = first.deductible, first.coinsurance
        limits = np.array([a.limit for a in alts], dtype=float)
        aggregates = [a.aggregate_limit for a in alts]
        k = limits.size
        ceded = {et: np.zeros((k, n)) for et in self.event_types}
        delayed = {et: np.zeros((k, n)) for et in self.event_types}
        claims = np.zeros((k, n), dtype=np.int64)
        hit = np.zeros((k, n), dtype=bool)
        picked = []
        for cell in self.cells:
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
            layer = np.minimum.outer(ev.loss[idx] - d, limits)        # (events, limits)
            picked.append((cell, idx, c * layer))
        if any(math.isfinite(a) for a in aggregates):
            self._charge(picked, aggregates)
        for cell, idx, pay in picked:
            ev = sim.events[cell]
            et = event_type_of(cell)
            yr = np.asarray(ev.year[idx], dtype=np.int64)
            late = sim.event_draws(seed, "delay", cell)[idx] < DELAY_PROBABILITY
            for j in range(k):
                ceded[et][j] += np.bincount(yr, pay[:, j], minlength=n)
                delayed[et][j] += np.bincount(yr[late], pay[late, j], minlength=n)
                claims[j] += np.bincount(yr[pay[:, j] > 0], minlength=n)
                full = pay[:, j] >= c * limits[j] * (1 - 1e-12)
                hit[j, yr[full]] = True
        insurer = self.bond.insurer or self.bond.key
        pd_ = default_probability(first.insurer_rating)
        dy = np.flatnonzero(event_uniforms(seed, "default", insurer, np.arange(n)) < pd_)
        out = []
        for j, alt in enumerate(alts):
            hc = self.haircut(alt)
            rec_e, rec_r = {}, {}
            total = np.zeros(n)
            for et in self.event_types:
                cj = ceded[et][j]
                total = total + cj
                rec = cj - delayed[et][j]
                if dy.size and LGD > 0:
                    lost = np.zeros(n)
                    lost[dy] = LGD * rec[dy]
                    rec = rec - lost
                rec_e[et] = rec
                rec_r[et] = rec - rec * hc if hc > 0 else rec
            h = hit[j].copy()
            if math.isfinite(alt.aggregate_limit):
                h |= total >= c * alt.aggregate_limit * (1 - 1e-12)
            out.append(BondOutcome(total, rec_e, rec_r, claims[j], h))
        return out

    def _charge(self, picked: list, aggregates: Sequence[float]) -> None:
        """Annual aggregate limits, charged in order of occurrence (as apply_programme)."""
        sim, seed = self.base.sim, self.base.seed
        years = np.concatenate([sim.events[c].year[idx] for c, idx, _ in picked])
        times = np.concatenate([sim.event_draws(seed, "time", c)[idx] for c, idx, _ in picked])
        order = np.lexsort((times, years))
        pays = np.concatenate([pay for _, _, pay in picked], axis=0)
        for j, agg in enumerate(aggregates):
            if not math.isfinite(agg):
                continue
            capped = np.empty(pays.shape[0])
            capped[order] = _aggregate(np.asarray(years[order], dtype=np.int64),
                                       pays[order, j], np.zeros(sim.n_years), agg)
            pays[:, j] = capped
        start = 0
        for i, (c, idx, pay) in enumerate(picked):
            picked[i] = (c, idx, pays[start:start + idx.size])
            start += idx.size
