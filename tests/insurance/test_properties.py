"""Property-based tests (Hypothesis) of the insurance arithmetic, beside the example tests.

Every property is checked on programmes drawn at random — disjoint wordings, coinsurance,
deductibles, limits (finite, 0 or none), aggregate limits, towers of excess layers in both
notations (opwb's ``deductible`` + ``follows`` and the market's ground-up ``attachment``) —
applied to small hand-made simulations (:func:`opwb.insurance.apply.apply_programme`):

* per event and per year, ceded + retained = gross, with nothing negative: no policy pays
  below 0, the policies of one event never pay more than its loss, a payment never exceeds
  ``coinsurance × limit``;
* a policy's annual payments never exceed its aggregate limit;
* a policy's payments never fall as its own limit or aggregate limit rises; the programme's
  layer amounts (payments before coinsurance) never fall as any limit rises, when no layer
  with a layer above it has an aggregate limit (apply_programme's documented invariants);
* the two notations of one tower pay the same, event by event;
* with default, delay and haircuts, ``ceded = delayed + default_loss + haircut + recovery``
  per policy and year, each part ≥ 0.

The profile (``tests/conftest.py``) is derandomized, so a failure reproduces everywhere.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from opwb.data.errors import DataError
from opwb.data.terms import TowerLayer, ground_up_bands
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy, layer_split
from opwb.insurance.programme import Programme

from tests.insurance.conftest import NO_NOISE, make_sim

CELLS = ("IF", "EF|RB", "EF|CB")
N_YEARS = 4
TOL = 1e-9          # relative, on amounts of order 100

amounts = st.floats(min_value=0.0, max_value=150.0, allow_nan=False).map(lambda x: round(x, 3))
limits = st.one_of(st.floats(min_value=0.0, max_value=120.0).map(lambda x: round(x, 3)),
                   st.just(math.inf))
aggregates = st.one_of(st.just(math.inf), st.floats(min_value=0.0, max_value=250.0))
coinsurance = st.floats(min_value=0.05, max_value=1.0)


@st.composite
def simulations(draw):
    """A few years of events in three cells (two event types), losses 0–300."""
    cells = {}
    for cell in CELLS:
        n = draw(st.integers(0, 12))
        years = draw(st.lists(st.integers(0, N_YEARS - 1), min_size=n, max_size=n))
        losses = draw(st.lists(st.floats(min_value=0.01, max_value=300.0), min_size=n,
                               max_size=n))
        cells[cell] = (sorted(years), losses)
    return make_sim(cells, N_YEARS)


@st.composite
def programmes(draw, *, ground_up=True, aggregate=True):
    """One to three towers with disjoint wordings; each a primary and up to three excess
    layers, each layer in opwb's convention or (``ground_up``) given by its attachment at or
    above the top of the layers below it."""
    n_towers = draw(st.integers(1, 3))
    shares = [draw(st.lists(st.floats(0.0, 1.0), min_size=n_towers, max_size=n_towers))
              for _ in ("IF", "EF")]
    policies, layers = [], []
    for t in range(n_towers):
        cover = {et: s[t] / max(1.0, sum(s)) for et, s in zip(("IF", "EF"), shares)}
        below = None
        for k in range(draw(st.integers(1, 4))):
            pid = f"T{t}L{k}"
            limit = draw(limits)
            terms = dict(limit=limit, coinsurance=draw(coinsurance), policy_id=pid,
                         aggregate_limit=draw(aggregates) if aggregate else math.inf,
                         insurer=draw(st.sampled_from(["A", "B", "C"])), cover=cover)
            if below is None:
                terms["deductible"] = draw(amounts)
            else:
                terms["follows"] = below
                chain = [b for lay, b in zip(layers, ground_up_bands(layers))
                         if lay.policy_id.startswith(f"T{t}L")]
                top = max((hi for band in chain for _, hi in band), default=0.0)
                paid = sum(hi - lo for band in chain for lo, hi in band)
                if ground_up and math.isfinite(top) and draw(st.booleans()):
                    terms["attachment"] = top + draw(amounts)
                elif paid > 0 and math.isfinite(top):
                    # opwb's convention, below the tower's top (a deductible at or above it
                    # reads as either notation and is refused)
                    terms["deductible"] = top * draw(st.floats(0.0, 1.0, exclude_max=True))
                else:
                    terms["deductible"] = draw(amounts)
            policy = Policy(**terms)
            policies.append(policy)
            layers.append(TowerLayer(pid, policy.deductible, policy.limit, policy.attachment,
                                     policy.follows))
            below = draw(st.sampled_from([below or pid, pid]))
    return Programme(tuple(policies))


def events_paid(res, programme, sim):
    """Per (policy, cell) the per-event payments; zeros for cells a policy does not cover."""
    out = {}
    for p in programme:
        for c in sim.cells:
            out[p.key, c] = res.event_ceded_by_policy.get((p.key, c),
                                                          np.zeros(sim.events[c].loss.size))
    return out


# -- one layer -------------------------------------------------------------------------------

@given(loss=st.floats(0.0, 1e4), d=amounts, limit=limits, c=coinsurance)
def test_one_layer_splits_the_loss(loss, d, limit, c):
    pol = Policy(deductible=d, limit=limit, coinsurance=c)
    paid = float(pol.recover([loss])[0])
    assert 0.0 <= paid <= min(loss, c * limit)
    split = layer_split(loss, pol)
    assert split["insurance"] + split["retained"] == pytest.approx(loss, rel=TOL, abs=1e-9)
    assert split["expense"] + split["capital"] == pytest.approx(split["retained"], rel=TOL,
                                                                abs=1e-9)
    assert split["expense"] >= 0 and split["capital"] >= -1e-9


@given(losses=st.lists(st.floats(0.0, 1e4), min_size=1, max_size=20), d=amounts,
       l1=limits, l2=limits, c=coinsurance)
def test_one_layer_is_monotone_in_limit_and_loss(losses, d, l1, l2, c):
    lo, hi = sorted((l1, l2))
    x = np.sort(np.asarray(losses))
    small, large = (Policy(deductible=d, limit=v, coinsurance=c).recover(x) for v in (lo, hi))
    assert np.all(large >= small)
    assert np.all(np.diff(large) >= 0)          # more loss, never less recovered
    assert np.array_equal(Policy(attachment=d, limit=hi, coinsurance=c).recover(x), large)


# -- programmes on simulated years -------------------------------------------------------------

@settings(max_examples=100)
@given(programme=programmes(), sim=simulations())
def test_ceded_plus_retained_is_gross_per_event_and_per_year(programme, sim):
    res = apply_programme(programme, sim, seed=1, keep_events=True, **NO_NOISE)
    paid = events_paid(res, programme, sim)
    for c in sim.cells:
        loss = sim.events[c].loss
        total = sum(paid[p.key, c] for p in programme)
        retained = loss - total
        assert np.all(retained >= -TOL * loss)                 # never above the loss
        for p in programme:
            assert np.all(paid[p.key, c] >= 0)                  # never negative
            assert np.all(paid[p.key, c] <= p.coinsurance * p.limit * (1 + TOL))
    gross = sum(np.asarray(sim.annual_gross[c]) for c in sim.cells)
    np.testing.assert_allclose(res.annual_net + res.annual_recovery, gross, rtol=TOL, atol=1e-9)
    np.testing.assert_allclose(res.annual_gross, gross, rtol=TOL, atol=1e-9)
    assert np.all(res.annual_ceded <= gross * (1 + TOL) + 1e-9)
    for p in programme:
        by_year = sum(np.bincount(sim.events[c].year, paid[p.key, c], minlength=N_YEARS)
                      for c in sim.cells)
        np.testing.assert_allclose(res.ceded_by_policy[p.key], by_year, rtol=TOL, atol=1e-9)


@settings(max_examples=100)
@given(programme=programmes(), sim=simulations())
def test_an_aggregate_limit_is_never_exceeded_in_a_year(programme, sim):
    res = apply_programme(programme, sim, seed=2, **NO_NOISE)
    for p in programme:
        assert np.all(res.ceded_by_policy[p.key] <= p.aggregate_limit * (1 + TOL) + 1e-9)
        assert np.all(res.ceded_by_policy[p.key] >= 0)


@settings(max_examples=100)
@given(programme=programmes(), sim=simulations(), data=st.data())
def test_a_policys_payments_never_fall_as_its_limits_rise(programme, sim, data):
    p = data.draw(st.sampled_from(programme.policies))
    term = data.draw(st.sampled_from(["limit", "aggregate_limit"]))
    bigger = getattr(p, term) + data.draw(st.one_of(st.floats(0.0, 100.0), st.just(math.inf)))
    try:
        raised = programme.replace_policy(p.key, **{term: bigger})
    except DataError:          # a taller layer reaching into a ground-up layer above it
        assume(False)
    before = apply_programme(programme, sim, seed=3, **NO_NOISE).ceded_by_policy[p.key]
    after = apply_programme(raised, sim, seed=3, **NO_NOISE).ceded_by_policy[p.key]
    assert np.all(after >= before * (1 - TOL) - 1e-9)


@settings(max_examples=100)
@given(programme=programmes(aggregate=False), sim=simulations(), data=st.data())
def test_the_programmes_layer_amounts_never_fall_as_a_limit_rises(programme, sim, data):
    """No aggregate limit: each event's payments before coinsurance cover a growing part of
    the loss. (With coinsurance, a slice moving down to a layer with a smaller share is paid
    less: that is the contract — see apply_programme's invariants.)"""
    p = data.draw(st.sampled_from(programme.policies))
    bigger = p.limit + data.draw(st.one_of(st.floats(0.0, 100.0), st.just(math.inf)))
    try:
        raised = programme.replace_policy(p.key, limit=bigger)
    except DataError:
        assume(False)

    def layer_amounts(prog):
        res = apply_programme(prog, sim, seed=4, keep_events=True, **NO_NOISE)
        paid = events_paid(res, prog, sim)
        return {c: sum(paid[q.key, c] / q.coinsurance for q in prog) for c in sim.cells}

    before, after = layer_amounts(programme), layer_amounts(raised)
    for c in sim.cells:
        assert np.all(after[c] >= before[c] * (1 - TOL) - 1e-9)


@st.composite
def towers(draw):
    """A tower and its gaps: primary ``L0 xs d``, excess layers ``L_k xs A_k`` with
    ``A_k`` = top below + gap; the gap below the layer under it (so opwb's deductible for it
    stays below the tower's top and reads unambiguously)."""
    d = draw(amounts)
    lims = draw(st.lists(st.floats(1.0, 80.0).map(lambda x: round(x, 3)), min_size=2,
                         max_size=5))
    gaps = [0.0] + [draw(st.floats(0.0, 0.99 * lims[k - 1]).map(lambda x: round(x, 3)))
                    for k in range(1, len(lims))]
    coins = draw(st.lists(coinsurance, min_size=len(lims), max_size=len(lims)))
    return d, lims, gaps, coins


@settings(max_examples=100)
@given(tower=towers(), sim=simulations())
def test_both_notations_of_a_tower_pay_the_same(tower, sim):
    d, lims, gaps, coins = tower
    market, opwb_, top, gap_sum = [], [], d, 0.0
    for k, (lim, gap, c) in enumerate(zip(lims, gaps, coins)):
        follows = f"L{k - 1}" if k else ""
        gap_sum += gap
        attachment = top + gap
        market.append(Policy(attachment=attachment, limit=lim, coinsurance=c,
                             policy_id=f"L{k}", follows=follows))
        opwb_.append(Policy(deductible=d + gap_sum, limit=lim, coinsurance=c,
                            policy_id=f"L{k}", follows=follows))
        top = attachment + lim
    res = [apply_programme(Programme(tuple(prog)), sim, seed=5, keep_events=True, **NO_NOISE)
           for prog in (market, opwb_)]
    for key in res[0].event_ceded_by_policy:
        np.testing.assert_allclose(res[0].event_ceded_by_policy[key],
                                   res[1].event_ceded_by_policy[key], rtol=1e-9, atol=1e-9)
        # and the market's layer formula on the gross loss, layer by layer
        pid, cell = key
        k = int(pid[1:])
        x = sim.events[cell].loss
        expected = coins[k] * np.clip(x - market[k].attachment, 0.0, lims[k])
        np.testing.assert_allclose(res[0].event_ceded_by_policy[key], expected, rtol=1e-9,
                                   atol=1e-9)


@settings(max_examples=60)
@given(tower=towers(), overlap=st.floats(0.01, 1.0))
def test_an_attachment_inside_the_layer_below_is_refused(tower, overlap):
    d, lims, _, _ = tower
    below = Policy(deductible=d, limit=lims[0], policy_id="P")
    inside = d + lims[0] * (1 - overlap)                 # strictly below the primary's top
    with pytest.raises(DataError, match="overlaps the layers below it"):
        Programme((below, Policy(attachment=inside, limit=lims[1], policy_id="X",
                                 follows="P")))
    ok = Programme((below, Policy(attachment=d + lims[0], limit=lims[1], policy_id="X",
                                  follows="P")))
    assert ok["X"].ground_up


@settings(max_examples=80)
@given(programme=programmes(), sim=simulations(),
       delay=st.floats(0.0, 1.0), pd_=st.floats(0.0, 1.0), lgd=st.floats(0.0, 1.0),
       haircut=st.floats(0.0, 1.0))
def test_default_delay_and_haircut_split_the_ceded_amount(programme, sim, delay, pd_, lgd,
                                                          haircut):
    res = apply_programme(programme, sim, seed=6, delay_probability=delay, lgd=lgd,
                          default_probability_table={"A": pd_},
                          haircuts={k: haircut for k in programme.ids})
    for k in programme.ids:
        parts = [res.delayed_by_policy[k], res.default_loss_by_policy[k],
                 res.haircut_by_policy[k], res.recovery_by_policy[k]]
        for part in parts:
            assert np.all(part >= -1e-9)
        np.testing.assert_allclose(sum(parts), res.ceded_by_policy[k], rtol=TOL, atol=1e-9)
    gross = res.annual_gross
    assert np.all(res.annual_recovery <= res.annual_ceded + 1e-9)
    assert np.all(res.annual_net >= -1e-9) and np.all(res.annual_net <= gross + 1e-9)
