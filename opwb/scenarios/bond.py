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
(and have no aggregate limit) are computed together as a :class:`BondBlock`: the layer with
no limit, summed by year once, less each limit's :class:`Excess` — ``c · (x − L)`` for the
rare events whose excess ``x`` over the deductible passes the limit ``L`` — so a block of
many limits costs little more than one.

:class:`BondContext` holds what is shared; :meth:`BondContext.blocks` gives the blocks,
:meth:`BondContext.outcomes` one :class:`BondOutcome` (annual arrays) per alternative.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from opwb.data.taxonomy import event_type_of
from opwb.engine.streams import event_uniforms
from opwb.insurance.apply import _aggregate, apply_programme, occurrence_order
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.policy import default_probability
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative

__all__ = ["BondContext", "BondBlock", "BondOutcome", "Excess", "BOND_ID", "without_bond",
           "PaymentAssumptions"]

BOND_ID = "BBB"
DELAY_PROBABILITY = 0.1   # apply_programme's default: the scenario uses the same
LGD = 1.0


@dataclass(frozen=True)
class PaymentAssumptions:
    """How insurers pay, as the whole programme is evaluated: the chance that a claim is
    paid after the one-year horizon and a multiple of every rating's annual default
    probability (loss given default stays :data:`LGD`, 100%).

    Parameters
    ----------
    delay_probability : float
        Chance that a claim is paid after the horizon, for every policy (fraction;
        :data:`DELAY_PROBABILITY`, 10%, the illustrative default of
        :func:`opwb.insurance.apply.apply_programme`).
    default_scale : float
        Every rating's one-year default probability
        (:func:`opwb.insurance.policy.default_probability`, S&P averages floored at 0.03%)
        times this, at most 1; 0 switches insurer default off. Values between 0 and 1 are
        refused (the 0.03% floor would make them ambiguous).

    The draws stay keyed to events and insurer-years, so on one base a larger delay or
    default probability makes late claims and default years a superset of the smaller one's
    (common random numbers): figures under two assumptions are paired.
    """

    delay_probability: float = DELAY_PROBABILITY
    default_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.delay_probability <= 1.0:
            raise ValueError(f"delay_probability must be a fraction in [0, 1], got "
                             f"{self.delay_probability!r}")
        s = self.default_scale
        if not (s == 0.0 or (math.isfinite(s) and s >= 1.0)):
            raise ValueError(f"default_scale must be 0 (no default) or >= 1, got {s!r}")

    @property
    def is_default(self) -> bool:
        """Whether these are the scenario's own assumptions."""
        return self == PaymentAssumptions()

    def probability(self, rating: str) -> float:
        """The annual default probability of an insurer with ``rating`` (fraction)."""
        return min(1.0, self.default_scale * default_probability(rating))

    def programme_options(self) -> dict:
        """The matching :func:`opwb.insurance.apply.apply_programme` arguments (none for
        the scenario's own assumptions, so its figures stay bit-identical)."""
        if self.is_default:
            return {}
        from opwb.insurance.policy import RATING_DEFAULT_PROBABILITY
        table = {r: self.probability(r) for r in RATING_DEFAULT_PROBABILITY}
        return {"delay_probability": self.delay_probability,
                "default": self.default_scale > 0,
                "default_probability_table": table}


def without_bond(programme: Programme, bond_id: str = BOND_ID) -> Programme:
    """The programme with the bond's limit set to 0: it pays nothing, and every other
    policy keeps the wording slice it has with the bond (removing the bond would shift the
    slices and change which simulated events the other policies answer)."""
    return programme.replace_policy(bond_id, limit=0.0)


@dataclass(frozen=True)
class Excess:
    """Per-alternative corrections in the few years they touch: for every (row, year) pair
    listed once (sorted by row, then year), the amounts to **subtract** from the block's
    unlimited figures — contractual payments (``ceded``), recognised recovery in the
    economic and in the regulatory view."""

    rows: np.ndarray
    years: np.ndarray
    ceded: np.ndarray
    economic: np.ndarray
    regulatory: np.ndarray

    @classmethod
    def empty(cls) -> "Excess":
        z = np.zeros(0)
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), z, z, z)

    @classmethod
    def combine(cls, parts: Sequence["Excess"], n: int) -> "Excess":
        """One correction per (row, year), summing ``parts`` (e.g. over event types)."""
        parts = [p for p in parts if p.rows.size]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        rows = np.concatenate([p.rows for p in parts])
        years = np.concatenate([p.years for p in parts])
        keys, inv = np.unique(rows * n + years, return_inverse=True)
        sums = [np.bincount(inv, np.concatenate([getattr(p, f) for p in parts]),
                            minlength=keys.size).astype(float)
                for f in ("ceded", "economic", "regulatory")]
        return cls(keys // n, keys % n, *sums)

    def of_row(self, j: int) -> slice:
        lo, hi = np.searchsorted(self.rows, [j, j + 1])
        return slice(int(lo), int(hi))


@dataclass(frozen=True)
class BondBlock:
    """The bond's annual figures for ``k`` alternatives sharing deductible, coinsurance and
    rating (rows in the order of ``alternatives``), held as the figures of the layer with
    no limit (shape (n_years,), KRW) less each alternative's :class:`Excess` — what the
    limit leaves to the bank in the rare years a loss exceeds it.

    ``ceded``, ``economic``, ``regulatory``: the unlimited layer's contractual payments and
    recognised recovery (economic; regulatory after the haircut) by covered event type;
    ``excess`` the corrections by event type; ``claims`` the paid claims per year (the same
    for every limit); ``hit_rows``, ``hit_years``: the (row, year) pairs in which a payment
    reached the per-occurrence limit or the year's payments the aggregate limit.
    """

    alternatives: tuple[Alternative, ...]
    ceded: dict[str, np.ndarray]
    economic: dict[str, np.ndarray]
    regulatory: dict[str, np.ndarray]
    excess: dict[str, Excess]
    claims: np.ndarray
    hit_rows: np.ndarray
    hit_years: np.ndarray

    @property
    def k(self) -> int:
        return len(self.alternatives)

    def total_excess(self) -> Excess:
        """The corrections summed over event types (computed once)."""
        if "_total" not in self.__dict__:
            self.__dict__["_total"] = Excess.combine(list(self.excess.values()),
                                                     self.claims.size)
        return self.__dict__["_total"]

    def ceded_row(self, j: int) -> np.ndarray:
        """Alternative ``j``'s contractual payments by year (shape (n_years,), KRW)."""
        return self._dense(np.sum([self.ceded[et] for et in self.ceded], axis=0),
                           self.total_excess(), "ceded", j)

    def _dense(self, base: np.ndarray, ex: Excess, field: str, j: int) -> np.ndarray:
        s = ex.of_row(j)
        out = base.copy()
        out[ex.years[s]] -= getattr(ex, field)[s]
        return out

    def row(self, j: int) -> "BondOutcome":
        """Alternative ``j``'s annual figures in full (:class:`BondOutcome`)."""
        n = self.claims.size
        ceded = self.ceded_row(j)
        econ = {et: self._dense(self.economic[et], self.excess[et], "economic", j)
                for et in self.economic}
        reg = {et: self._dense(self.regulatory[et], self.excess[et], "regulatory", j)
               for et in self.regulatory}
        hit = np.zeros(n, dtype=bool)
        hit[self.hit_years[self.hit_rows == j]] = True
        return BondOutcome(ceded, econ, reg, self.claims, hit)


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


def _views(prompt: dict[str, np.ndarray], event_types, default_years: np.ndarray,
           haircut: float) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Annual recoveries of ``event_types`` (in that order) in the economic view (less the
    loss given the insurer's default in its default years; modifies ``prompt``'s arrays) and
    the regulatory view (less the residual-term haircut)."""
    economic, regulatory = {}, {}
    for et in event_types:
        rec = prompt[et]
        if default_years.size and LGD > 0:
            rec[default_years] -= LGD * rec[default_years]
        economic[et] = rec
        regulatory[et] = rec - rec * haircut if haircut > 0 else rec
    return economic, regulatory


def _sum_by_year(year: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Annual sums (shape (n,), float) of event values; zeros when there are no events."""
    return np.bincount(year, values, minlength=n).astype(float, copy=False)


class BondContext:
    """What every evaluation of the bond on ``base`` with one valuation setting shares.

    Parameters
    ----------
    base : ScenarioBase
    valuation_date, haircut_convention : the regulatory view's haircut settings.
    assumptions : PaymentAssumptions, optional
        Payment delay and insurer default for every policy (default the scenario's).

    Raises
    ------
    ValueError
        When a policy follows the bond (then the programme must be applied whole), or the
        bond follows another policy in opwb's convention (a deductible above what the layer
        below paid) rather than by its ground-up attachment.
    """

    def __init__(self, base, valuation_date, haircut_convention: str,
                 assumptions: PaymentAssumptions | None = None):
        self.assumptions = assumptions = assumptions or PaymentAssumptions()
        prog: Programme = base.programme
        self.bond_id = bond_id = base.bond_policy
        bond = prog[bond_id]
        if any(p.follows == bond_id for p in prog.policies):
            raise ValueError("a policy follows the bond: apply the programme whole")
        if bond.follows and bond.attachment is None:
            # opwb's convention measures a following layer above what the layers below paid;
            # the bond's figures here measure it on the gross loss, so they would differ
            raise ValueError(
                f"the bond {bond_id!r} follows {bond.follows!r} in opwb's convention (its "
                f"deductible above what {bond.follows!r} paid): give its ground-up "
                f"attachment instead (Policy(attachment=...), the programme file's "
                f"'attachment' or 'layer' column) to evaluate the bond on its own")
        self.base, self.bond = base, bond
        self.valuation = (valuation_date, haircut_convention)
        sim, seed = base.sim, base.seed
        # the bond with a zero limit, not removed: the other policies keep their wording
        # slices, so they answer the same events with and without the bond
        self.without = without_bond(prog, bond_id)
        hc0 = view_haircuts(self.without, "regulatory", valuation_date=valuation_date,
                            convention=haircut_convention)
        opts = assumptions.programme_options()
        self.econ0 = apply_programme(self.without, sim, seed=seed, **opts)
        self.reg0 = apply_programme(self.without, sim, seed=seed, haircuts=hc0, **opts)
        self.cells = [c for c in sim.cells if bond.covers(c) > 0]
        self._haircuts: dict[str, float] = {}
        self._above: dict[str, tuple] = {}
        self._defaults: dict[str, np.ndarray] = {}
        self.slices = {c: prog.cover_intervals(event_type_of(c))[bond_id] for c in self.cells}

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
            prog = self.base.programme.replace_policy(self.bond_id, **alt.policy_changes())
            self._haircuts[alt.insurer_rating] = view_haircuts(
                prog, "regulatory", valuation_date=self.valuation[0],
                convention=self.valuation[1])[self.bond_id]
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
            late = (sim.event_draws(seed, "delay", cell)[idx]
                    < self.assumptions.delay_probability)
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
            self._defaults[rating] = np.flatnonzero(u < self.assumptions.probability(rating))
        return self._defaults[rating]

    def _block(self, alts: Sequence[Alternative]) -> BondBlock:
        """Alternatives sharing deductible, coinsurance and rating (rows: their limits).

        Per event the bond pays ``c · min(x, L)`` with ``x = loss − d``: the unlimited
        layer's ``c · x`` less ``c · (x − L)`` for the events above ``d + L``. The first is
        summed by year once for the block; the second only over those rare events."""
        if any(math.isfinite(a.aggregate_limit) for a in alts):
            if len(alts) > 1:
                raise ValueError("alternatives with an aggregate limit are computed alone")
            return self._aggregate_block(alts[0])
        n = self.base.n_years
        first = alts[0]
        d, c = first.deductible, first.coinsurance
        limits = np.array([a.limit for a in alts], dtype=float)
        k = limits.size
        dy = self._default_years(first.insurer_rating)
        hc = self.haircut(first)                 # the same rating: the same haircut
        defaulted = np.zeros(n, dtype=bool)
        defaulted[dy] = True
        ceded: dict[str, np.ndarray] = {}
        prompt: dict[str, np.ndarray] = {}
        parts: dict[str, list] = {}
        claims = np.zeros(n, dtype=np.int64)
        hit_keys = []
        for cell in self.cells:
            et = event_type_of(cell)
            _, loss, year, late = self._events(cell, d)
            pay = loss - d
            if c != 1.0:
                pay = c * pay
            paid = _sum_by_year(year, pay, n)
            held = _sum_by_year(year[~late], pay[~late], n)
            ceded[et] = ceded[et] + paid if et in ceded else paid
            prompt[et] = prompt[et] + held if et in prompt else held
            claims += np.bincount(year, minlength=n)
            # the rare events above the smallest limit, largest first
            big = np.flatnonzero(loss - d >= limits.min() * (1 - 1e-12))
            big = big[np.argsort(-(loss[big] - d), kind="stable")]
            x = loss[big] - d
            counts = np.searchsorted(-x, -limits, side="left")        # x > L
            hits = np.searchsorted(-x, -limits * (1 - 1e-12), side="right")  # x ≥ L(1−ε)
            rows = np.repeat(np.arange(k), hits)
            ev = np.concatenate([np.arange(h) for h in hits]) if k else np.zeros(0, int)
            hit_keys.append(rows * n + year[big][ev])
            rows = np.repeat(np.arange(k), counts)
            ev = np.concatenate([np.arange(m) for m in counts]).astype(np.int64)
            over = c * (x[ev] - limits[rows]) if c != 1.0 else x[ev] - limits[rows]
            parts.setdefault(et, []).append((rows, year[big][ev], over, ~late[big][ev]))
        hit_keys = np.unique(np.concatenate(hit_keys)) if hit_keys else np.zeros(0, np.int64)
        economic, regulatory = _views(prompt, ceded, dy, hc)
        excess = {}
        for et in ceded:
            rows = np.concatenate([p[0] for p in parts[et]])
            years = np.concatenate([p[1] for p in parts[et]])
            over = np.concatenate([p[2] for p in parts[et]])
            on_time = np.concatenate([p[3] for p in parts[et]])
            keys, inv = np.unique(rows * n + years, return_inverse=True)
            ex_c = np.bincount(inv, over, minlength=keys.size).astype(float)
            ex_e = np.bincount(inv, over * on_time, minlength=keys.size).astype(float)
            yrs = keys % n
            if dy.size and LGD > 0:
                hit_dy = defaulted[yrs]
                ex_e[hit_dy] -= LGD * ex_e[hit_dy]
            ex_r = ex_e - ex_e * hc if hc > 0 else ex_e
            excess[et] = Excess(keys // n, yrs, ex_c, ex_e, ex_r)
        return BondBlock(tuple(alts), ceded, economic, regulatory, excess, claims,
                         hit_keys // n, hit_keys % n)

    def _aggregate_block(self, alt: Alternative) -> BondBlock:
        """One alternative with an annual aggregate limit: payments event by event, the
        aggregate charged in order of occurrence (as apply_programme); no corrections."""
        n = self.base.n_years
        d, c, limit = alt.deductible, alt.coinsurance, alt.limit
        ceded: dict[str, np.ndarray] = {}
        prompt: dict[str, np.ndarray] = {}
        claims = np.zeros(n, dtype=np.int64)
        hit = np.zeros(n, dtype=bool)
        picked = []
        for cell in self.cells:
            idx, loss, year, late = self._events(cell, d)
            pay = np.minimum(loss - d, limit)
            if c != 1.0:
                pay = c * pay
            picked.append((cell, idx, year, late, pay))
        self._charge(picked, alt.aggregate_limit)
        for cell, idx, year, late, pay in picked:
            et = event_type_of(cell)
            paid = _sum_by_year(year, pay, n)
            held = _sum_by_year(year[~late], pay[~late], n)
            ceded[et] = ceded[et] + paid if et in ceded else paid
            prompt[et] = prompt[et] + held if et in prompt else held
            claims += np.bincount(year[pay > 0], minlength=n)
            hit[year[pay >= c * limit * (1 - 1e-12)]] = True
        total = np.sum([ceded[et] for et in ceded], axis=0)
        hit |= total >= c * alt.aggregate_limit * (1 - 1e-12)
        dy = self._default_years(alt.insurer_rating)
        hc = self.haircut(alt)
        economic, regulatory = _views(prompt, ceded, dy, hc)
        hy = np.flatnonzero(hit)
        return BondBlock((alt,), ceded, economic, regulatory,
                         {et: Excess.empty() for et in ceded}, claims,
                         np.zeros(hy.size, dtype=np.int64), hy)

    def _charge(self, picked: list, aggregate: float) -> None:
        """The annual aggregate limit, charged in order of occurrence (as apply_programme)."""
        sim, seed = self.base.sim, self.base.seed
        years = np.concatenate([year for _, _, year, _, _ in picked])
        times = np.concatenate([sim.event_draws(seed, "time", c)[idx]
                                for c, idx, _, _, _ in picked])
        order = occurrence_order(years, times)        # np.lexsort((times, years)), fast
        pays = np.concatenate([pay for *_, pay in picked])
        capped = np.empty(pays.size)
        capped[order] = _aggregate(years[order], pays[order], np.zeros(sim.n_years), aggregate)
        start = 0
        for i, (c, idx, year, late, _) in enumerate(picked):
            picked[i] = (c, idx, year, late, capped[start:start + idx.size])
            start += idx.size
