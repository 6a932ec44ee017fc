"""Insurance applied to simulated events: programmes, recoveries, default and delay.

Policies and programmes are defined in :mod:`opwb.insurance.policy` and
:mod:`opwb.insurance.programme`; the result is :class:`~opwb.insurance.result.ProgrammeResult`.

A policy is a per-occurrence layer: the insurer pays
``coinsurance * min(max(X - deductible, 0), limit)`` of an event loss ``X``, subject to an
annual ``aggregate_limit``; a programme is an ordered tuple of policies (primary first, then
excess). :func:`apply_programme` applies a programme to the events of a
simulation (:class:`opwb.engine.simulate.SimulatedLosses`) with coverage uncertainty, insurer
default, payment delay and haircuts, and returns annual recoveries (:class:`ProgrammeResult`).

The seed's worked example and the layer formula are in :mod:`opwb.insurance.policy`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from opwb.data.taxonomy import EVENT_TYPE_CODES, event_type_of
from opwb.engine.streams import event_uniforms
from opwb.insurance.policy import (
    Policy,
    default_probability,
)
from opwb.insurance.programme import Programme
from opwb.insurance.result import ProgrammeResult

__all__ = ["apply_programme"]


def _aggregate(year: np.ndarray, claim: np.ndarray, used: np.ndarray,
               aggregate_limit: float) -> np.ndarray:
    """Cap claims by an annual aggregate limit, in event order within each year.

    ``used`` (shape (n_years,)) holds what earlier cells already claimed this year and is
    updated in place. Payment = min(cum, A) - min(cum - claim, A) with ``cum`` the year's
    cumulative claim up to and including the event.
    """
    if claim.size == 0:
        return claim
    order = None
    if np.any(year[1:] < year[:-1]):
        order = np.argsort(year, kind="stable")
        year, claim = year[order], claim[order]
    new = np.empty(year.size, dtype=bool)
    new[0] = True
    np.not_equal(year[1:], year[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    # within-year cumulative sums: reset the running sum at each year's first event, then
    # remove the (rounding-size) residue, so precision does not depend on n_years
    reset = claim.copy()
    reset[starts[1:]] -= np.bincount(group, claim)[:-1]
    cum = np.cumsum(reset)
    residue = (cum - claim)[starts]
    cum = cum - residue[group] + used[year]
    pay = np.minimum(cum, aggregate_limit) - np.minimum(cum - claim, aggregate_limit)
    pay = np.clip(pay, 0.0, claim)
    used += np.bincount(year, claim, minlength=used.size)
    if order is not None:
        out = np.empty_like(pay)
        out[order] = pay
        pay = out
    return pay


def _per_policy(value: float | Mapping[str, float] | None, programme: Programme, what: str,
                fallback: float) -> dict[str, float]:
    if value is None:
        return {k: fallback for k in programme.ids}
    if not isinstance(value, Mapping):
        value = {k: value for k in programme.ids}
    unknown = set(value) - set(programme.ids)
    if unknown:
        raise KeyError(f"{what}: unknown policy id(s) {sorted(unknown)}; "
                       f"programme has {list(programme.ids)}")
    out = {k: float(value.get(k, fallback)) for k in programme.ids}
    for k, v in out.items():
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{what} for policy '{k}' must be in [0, 1], got {v}")
    return out


def apply_programme(programme: Programme | Policy, sim: Any, *, seed: int,
                    default: bool = True, delay: bool = True,
                    haircuts: Mapping[str, float] | None = None, lgd: float = 1.0,
                    delay_probability: float | Mapping[str, float] = 0.1,
                    default_probability_table: Mapping[str, float] | None = None,
                    keep_events: bool = False,
                    reuse: ProgrammeResult | None = None) -> ProgrammeResult:
    """Apply an insurance programme to the stored events of a simulation.

    Per policy, in programme order: the layer applies to each event's loss net of the layers
    below it (their layer amounts before coinsurance, so an excess layer attaches at the
    layer below's deductible + limit whatever that layer's coinsurance) — or, given by its
    ``attachment`` (market ``L xs A``), to the gross loss, at most what earlier layers left
    (one event's payments never exceed its loss: :mod:`opwb.data.terms`); an event falls within
    a policy's wording when its uniform ``U`` (one per event) is in the policy's slice
    (:meth:`Programme.cover_intervals`: disjoint wordings, a ``follows`` excess layer
    answers the same events as its primary); the annual aggregate limit is shared by all
    event types the policy covers and charged in order of occurrence within the year (each
    event's time in its year is a uniform keyed to the event, so the order the cells are
    listed in does not matter); the insurer defaults in a
    year with probability from its rating (one draw per insurer and year, so policies with
    the same insurer default together), losing ``lgd`` of that year's in-horizon payments;
    a claim is paid after the one-year horizon with probability ``delay_probability`` (one
    uniform per event) and then does not reduce that year's net loss; finally
    ``haircuts[policy_id]`` (a fraction in [0, 1]) removes part of what remains. Defaults,
    delays and haircuts never change what later policies see (no drop-down on insolvency).

    Invariants: per event and per year ceded + retained = gross; a payment never exceeds
    ``coinsurance * limit`` per event nor ``aggregate_limit`` per year; a policy's ceded
    amount never falls as its own limit or aggregate limit rises, nor do the programme's
    layer amounts (payments before coinsurance) when no ``follows`` layer sits on a primary
    with an aggregate limit (``tests/insurance/test_properties.py``). The total *payment* can
    fall as a lower layer's limit rises when that layer's coinsurance is below the one above
    it (the slice moves to the smaller share); and with a drop-down tower, a larger primary
    limit can spend the primary's aggregate on an event the excess would have paid anyway.
    Both are the contract.

    Parameters
    ----------
    programme : Programme or Policy
    sim : opwb.engine.simulate.SimulatedLosses
        Uses ``n_years``, ``cells``, ``annual_gross`` and ``events`` (year, loss,
        keep_above). Every covered cell must keep all events above the deductible.
    seed : int
        Every draw is a function of (seed, purpose, cell or insurer, event id or year)
        (:func:`opwb.engine.streams.event_uniforms`): changing a limit or a deductible, the
        events stored (``keep_events_above``), the chunking or the order of the cells re-uses
        the same random numbers (common random numbers).
    default, delay : bool
        Switch insurer default and payment delay on or off.
    haircuts : mapping policy_id → fraction in [0, 1], optional
        Regulatory haircut of each policy's recognised recovery
        (:func:`opwb.insurance.eligibility.view_haircuts`); missing policies get 0.
    lgd : float
        Loss given insurer default, share of the year's payments lost (1 = conservative:
        a defaulted insurer's estate does not pay within the horizon).
    delay_probability : float or mapping policy_id → float
        Chance that a claim is paid after the one-year horizon (illustrative default 0.1).
    default_probability_table : mapping rating → probability, optional
        Replaces :data:`RATING_DEFAULT_PROBABILITY` (0.03% floor still applies).
    keep_events : bool
        Also return per-event contractual payments by (policy, cell).
    reuse : ProgrammeResult, optional
        An earlier result for the same ``sim``, ``seed`` and delay settings: policies that
        are unchanged and share no event with a changed policy are taken from it rather
        than recomputed (a BBB limit change then costs only the BBB's events). The numbers
        are identical to a full recomputation.

    Returns
    -------
    ProgrammeResult
    """
    if isinstance(programme, Policy):
        programme = Programme((programme,))
    n = int(sim.n_years)
    hc = _per_policy(haircuts, programme, "haircut", 0.0)
    q = _per_policy(delay_probability if delay else 0.0, programme, "delay_probability", 0.0)
    if not 0.0 <= lgd <= 1.0:
        raise ValueError(f"lgd must be in [0, 1], got {lgd}")
    cells = tuple(sim.cells)
    unknown = [c for c in cells if event_type_of(c) not in EVENT_TYPE_CODES]
    if unknown:
        raise ValueError(f"cells {unknown} name no Basel event type ({', '.join(EVENT_TYPE_CODES)}; "
                         "a cell is 'IF' or 'IF|RB'): the programme's cover is by event type, so "
                         "their recoveries cannot be determined")
    event_types = tuple(dict.fromkeys(event_type_of(c) for c in cells))
    settings = (sim, seed, tuple(q.items()), keep_events)
    redo = _affected(programme, reuse, settings)
    same_sim = (reuse is not None and reuse._reuse is not None
                and reuse._reuse["settings"][0] is sim and reuse._reuse["settings"][1] == seed)
    prev = dict(reuse._reuse, result=reuse) if same_sim else None
    if prev is not None:
        gross = reuse.gross_by_event_type
    else:
        gross = {et: _total([np.asarray(sim.annual_gross[c], dtype=float) for c in cells
                             if event_type_of(c) == et], n) for et in event_types}
    def draw(tag: str, cell: str) -> np.ndarray:
        """One uniform per stored event, keyed to the event (not to its position)."""
        if hasattr(sim, "event_draws"):
            return sim.event_draws(seed, tag, cell)
        return event_uniforms(seed, tag, cell, sim.events[cell].event_id)

    paid: dict[str, np.ndarray] = {}
    acc: dict[str, dict] = {"ceded": {}, "delayed": {}, "claims": {}, "events": {}}
    for p in programme:
        if p.key in redo:
            _cede(p, programme, sim, paid, draw, q[p.key], keep_events, acc)
            continue
        for name in ("ceded", "delayed"):
            acc[name].update({k: [v] for k, v in prev[name].items() if k[0] == p.key})
        acc["claims"][p.key] = prev["claims"][p.key]
    ceded, delayed, claims, events_out = acc["ceded"], acc["delayed"], acc["claims"], acc["events"]
    ceded = {k: _total(v, n) for k, v in ceded.items()}
    delayed = {k: _total(v, n) for k, v in delayed.items()}
    result = _settle(programme, n, event_types, gross, ceded, delayed, claims, hc,
                     seed=seed, default=default, lgd=lgd, table=default_probability_table,
                     events_out=events_out if keep_events else None, redo=redo, prev=prev)
    result._reuse.update(programme=programme, settings=settings, ceded=ceded,
                         delayed=delayed, claims=claims)
    return result


def _cede(p: Policy, programme: Programme, sim: Any, paid: dict, draw, q: float,
          keep_events: bool, acc: dict) -> None:
    """Contractual payments of one policy on every cell it covers, into ``acc``.

    ``paid[cell]`` holds, per stored event, the loss already absorbed by earlier layers —
    their layer amounts before coinsurance (payment / coinsurance), so an excess layer
    attaches at the layer below's deductible + limit whatever that layer's coinsurance;
    the coinsured share stays with the bank. It is updated here. A ground-up layer
    (``attachment``) is measured on the gross loss, at most ``loss − paid``.
    """
    n = int(sim.n_years)
    covered = [c for c in sim.cells if p.covers(c) > 0]
    for c in covered:
        if p.deductible < sim.events[c].keep_above:
            raise ValueError(
                f"policy '{p.key}': deductible {p.deductible:,.0f} is below the "
                f"simulation's keep_above {sim.events[c].keep_above:,.0f} for cell "
                f"'{c}'; simulate with keep_events_above ≤ the lowest deductible")
    claims = acc["claims"][p.key] = np.zeros(n, dtype=np.int64)
    picked = []
    for c in covered:
        ev = sim.events[c]
        net = ev.loss - paid[c] if c in paid else ev.loss
        seen = ev.loss if p.ground_up else net        # the loss the layer is measured on
        mask = seen > p.deductible
        lo, hi = programme.cover_intervals(event_type_of(c))[p.key]
        if lo > 0.0:
            mask &= draw("cover", c) >= lo
        if hi < 1.0:
            mask &= draw("cover", c) < hi
        idx = np.flatnonzero(mask)
        layer = np.minimum(seen[idx] - p.deductible, p.limit)
        if p.ground_up and c in paid:
            layer = np.minimum(layer, np.maximum(net[idx], 0.0))
        picked.append((c, idx, layer, p.coinsurance * layer))
    if math.isfinite(p.aggregate_limit):
        _charge_aggregate(p, sim, draw, picked)
    for c, idx, layer, pay in picked:
        ev = sim.events[c]
        yr = np.asarray(ev.year[idx], dtype=np.int64)
        if len(programme) > 1 or keep_events:
            absorbed = np.divide(pay, p.coinsurance)      # the layer consumed by this payment
            paid.setdefault(c, np.zeros(ev.loss.size))[idx] += absorbed
        if keep_events:
            full = acc["events"][p.key, c] = np.zeros(ev.loss.size)
            full[idx] = pay
        key = (p.key, event_type_of(c))
        acc["ceded"].setdefault(key, []).append(np.bincount(yr, pay, minlength=n))
        claims += np.bincount(yr[pay > 0], minlength=n)
        if q > 0:
            late = draw("delay", c)[idx] < q
            acc["delayed"].setdefault(key, []).append(
                np.bincount(yr[late], pay[late], minlength=n))


def _charge_aggregate(p: Policy, sim: Any, draw, picked: list) -> None:
    """Cap payments by the annual aggregate limit, in order of occurrence within each year.

    Each event's time within its year is a uniform keyed to the event
    (:func:`opwb.engine.streams.event_uniforms`, purpose ``"time"``), so the order in which
    one aggregate is charged across event types does not depend on the order the cells
    were listed. Payments in ``picked`` are replaced in place.
    """
    if not picked:
        return
    years = np.concatenate([sim.events[c].year[idx] for c, idx, _, _ in picked])
    times = np.concatenate([draw("time", c)[idx] for c, idx, _, _ in picked])
    pays = np.concatenate([pay for _, _, _, pay in picked])
    order = occurrence_order(years, times)
    capped = np.empty_like(pays)
    capped[order] = _aggregate(np.asarray(years[order], dtype=np.int64), pays[order],
                               np.zeros(int(sim.n_years)), p.aggregate_limit)
    start = 0
    for k, (c, idx, layer, pay) in enumerate(picked):
        picked[k] = (c, idx, layer, capped[start:start + pay.size])
        start += pay.size


def occurrence_order(years: np.ndarray, times: np.ndarray) -> np.ndarray:
    """``np.lexsort((times, years))``: events by year, then by their time in the year
    (uniforms in [0, 1)). Sorted as one 64-bit key, year × 2⁴⁰ + ⌊time × 2⁴⁰⌋ (years below
    2²³), which is twice as fast; when two keys tie (two times of one year within 2⁻⁴⁰),
    by ``lexsort`` itself, so the order is always exactly lexsort's."""
    years = np.asarray(years, dtype=np.int64)
    if years.size == 0 or years.max() >= 2 ** 23 or years.min() < 0:
        return np.lexsort((times, years))
    key = (years << 40) | (np.asarray(times) * 2.0 ** 40).astype(np.int64)
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    if np.any(ranked[1:] == ranked[:-1]):
        return np.lexsort((times, years))
    return order


def _affected(programme: Programme, reuse: ProgrammeResult | None, settings: tuple) -> set:
    """Policies to recompute: changed ones and every policy sharing events with them."""
    everything = set(programme.ids)
    if reuse is None or reuse._reuse is None or settings[-1]:  # keep_events: all events
        return everything
    old, old_settings = reuse._reuse["programme"], reuse._reuse["settings"]
    same = (len(old_settings) == len(settings) and old_settings[0] is settings[0]
            and old_settings[1:] == settings[1:] and old.ids == programme.ids)
    if not same:
        return everything
    redo = {p.key for p, o in zip(programme, old) if p != o}
    overlaps = [(a.key, b.key) for et in EVENT_TYPE_CODES
                for prog in (programme, old)
                for i, (a, ia) in enumerate(_slices(prog, et))
                for b, ib in _slices(prog, et)[i + 1:]
                if ia[0] < ib[1] and ib[0] < ia[1]]
    grown = True
    while grown:  # close over "shares events with": the connected components
        grown = False
        for a, b in overlaps:
            if (a in redo) != (b in redo):
                redo |= {a, b}
                grown = True
    return redo


def _slices(programme: Programme, et: str) -> list[tuple[Policy, tuple[float, float]]]:
    iv = programme.cover_intervals(et)
    return [(programme[k], v) for k, v in iv.items()]


def _total(arrays: list[np.ndarray], n: int) -> np.ndarray:
    """Sum of annual arrays (the array itself when there is one: no copy)."""
    if not arrays:
        return np.zeros(n)
    if len(arrays) == 1:
        return arrays[0]
    out = arrays[0] + arrays[1]
    for a in arrays[2:]:
        out += a
    return out


def _settle(programme, n, event_types, gross, ceded, delayed, claims, hc, *, seed, default,
            lgd, table, events_out, redo, prev) -> ProgrammeResult:
    """Insurer default and haircuts on annual amounts; assemble the result.

    Result arrays may share memory with each other (e.g. recovery is ceded when nothing
    reduces it); treat them as read-only.
    """
    defaults: dict[str, np.ndarray] = {}
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in
                                            ("ceded", "delayed", "default", "haircut", "recovery")}
    recovery_pe = {}
    uniforms = dict(prev["default_uniforms"]) if prev else {}
    settled = {}
    for p in programme:
        insurer = p.insurer or p.key
        pd_ = default_probability(p.insurer_rating, table=table) if default else 0.0
        if insurer not in defaults:
            if insurer not in uniforms:   # one draw per insurer and year, keyed to the year
                uniforms[insurer] = event_uniforms(seed, "default", insurer, np.arange(n))
            defaults[insurer] = uniforms[insurer] < pd_
        key_p = (pd_, lgd, hc[p.key])
        settled[p.key] = key_p
        if prev and p.key not in redo and prev["settled"].get(p.key) == key_p:
            old = prev["result"]
            for name, table_ in (("ceded", old.ceded_by_policy), ("delayed", old.delayed_by_policy),
                                 ("default", old.default_loss_by_policy),
                                 ("haircut", old.haircut_by_policy),
                                 ("recovery", old.recovery_by_policy)):
                out[name][p.key] = table_[p.key]
            recovery_pe.update({k: v for k, v in old.recovery_by_policy_event_type.items()
                                if k[0] == p.key})
            continue
        dy = np.flatnonzero(defaults[insurer])
        keys = [k for k in ceded if k[0] == p.key]
        parts: dict[str, list] = {k: [] for k in out}
        for key in keys:
            c = ceded[key]
            late = delayed.get(key)
            rec = c if late is None else c - late
            lost = cut = None
            if dy.size and lgd > 0:
                lost = np.zeros(n)
                lost[dy] = lgd * rec[dy]
                rec = rec - lost
            if hc[p.key] > 0:
                cut = rec * hc[p.key]
                rec = rec - cut
            recovery_pe[key] = rec
            for name, x in (("ceded", c), ("delayed", late), ("default", lost),
                            ("haircut", cut), ("recovery", rec)):
                if x is not None:
                    parts[name].append(x)
        for name in out:
            out[name][p.key] = _total(parts[name], n)
    result = ProgrammeResult(
        n_years=n, policy_ids=programme.ids, event_types=event_types,
        gross_by_event_type=gross, ceded_by_policy=out["ceded"],
        delayed_by_policy=out["delayed"], default_loss_by_policy=out["default"],
        haircut_by_policy=out["haircut"], recovery_by_policy=out["recovery"],
        ceded_by_policy_event_type=dict(ceded), recovery_by_policy_event_type=recovery_pe,
        claims_by_policy=claims, insurer_default=defaults, event_ceded_by_policy=events_out)
    object.__setattr__(result, "_reuse", {"default_uniforms": uniforms, "settled": settled})
    return result
