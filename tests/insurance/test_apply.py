"""Applying a programme to simulated events: aggregate limits, towers, invariants (ceded +
retained = gross, ceded never falls as a limit rises), common random numbers, default and
delay within binomial standard errors.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.data.units import EOK
from opwb.engine.streams import event_uniforms
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import RATING_DEFAULT_PROBABILITY, Policy
from opwb.insurance.programme import Programme

from tests.insurance.conftest import NO_NOISE, make_sim


def random_sim(seed: int, n_years: int, rates: dict[str, float], mu=21.0, sigma=1.5):
    rng = np.random.default_rng(seed)
    cells = {}
    for cell, lam in rates.items():
        years = np.repeat(np.arange(n_years), rng.poisson(lam, n_years))
        cells[cell] = (years, rng.lognormal(mu, sigma, years.size))
    return make_sim(cells, n_years)


def bundled_like_programme(bbb_limit=50 * EOK) -> Programme:
    return Programme((
        Policy(5 * EOK, bbb_limit, aggregate_limit=100 * EOK, policy_id="BBB", insurer="LG",
               cover={"IF": 0.9, "EF": 0.2}),
        Policy(5 * EOK, 100 * EOK, aggregate_limit=150 * EOK, policy_id="BBB-XS",
               insurer="Samsung", cover={"IF": 0.9, "EF": 0.2}, follows="BBB"),
        Policy(1 * EOK, 20 * EOK, aggregate_limit=30 * EOK, coinsurance=0.9, policy_id="ECC",
               insurer="Hyundai", cover={"EF": 0.4}),
        Policy(2 * EOK, 30 * EOK, policy_id="PI", cover={"CPBP": 0.3}),
    ))


# -- programme application: layering and aggregate limits -----------------------------------

def test_aggregate_limit_is_charged_in_order_of_occurrence_whatever_the_cell_order():
    # year 0: IF claims 30, 30; EF claims 30 with aggregate 70: whichever event occurs last in
    # the year gets the remaining 10. The occurrence time within the year is a uniform keyed
    # to the event (purpose "time"), so listing the cells the other way round changes nothing.
    cells = {"IF": ([0, 0, 1], [31, 31, 31]), "EF": ([0, 1], [31, 5])}
    pol = Policy(1, 100, aggregate_limit=70, policy_id="P", cover={"IF": 1, "EF": 1})
    res = apply_programme(pol, make_sim(cells, n_years=2), seed=0, keep_events=True, **NO_NOISE)
    swapped = apply_programme(pol, make_sim(dict(reversed(cells.items())), n_years=2), seed=0,
                              keep_events=True, **NO_NOISE)
    times = {c: event_uniforms(0, "time", c, np.arange(len(cells[c][0]))) for c in cells}
    year0 = sorted([(times["IF"][0], "IF", 0), (times["IF"][1], "IF", 1), (times["EF"][0], "EF", 0)])
    expected = {"IF": [0.0, 0.0, 30.0], "EF": [0.0, 4.0]}
    left = 70.0
    for _, c, i in year0:
        expected[c][i] = min(30.0, left)
        left -= expected[c][i]
    for c in cells:
        np.testing.assert_allclose(res.event_ceded_by_policy["P", c], expected[c])
        np.testing.assert_array_equal(res.event_ceded_by_policy["P", c],
                                      swapped.event_ceded_by_policy["P", c])
    np.testing.assert_allclose(res.ceded_by_policy["P"], [70, 34])
    np.testing.assert_array_equal(res.claims["P"], [3, 2])


def test_an_excess_layer_over_a_coinsured_primary_attaches_at_its_deductible_plus_limit():
    """Issue 11, finding 3: primary deductible 1억, limit 5억, coinsurance 0.8; excess limit
    10억 following it. A 10억 loss: the excess pays 4억 (it attaches at 6억, not 5억); a 4억
    loss: it pays nothing (not 0.6억)."""
    sim = make_sim({"IF": ([0, 0, 1], [10 * EOK, 4 * EOK, 20 * EOK])}, n_years=2)
    prog = Programme((Policy(1 * EOK, 5 * EOK, coinsurance=0.8, policy_id="P"),
                      Policy(1 * EOK, 10 * EOK, policy_id="X", follows="P")))
    res = apply_programme(prog, sim, seed=0, keep_events=True, **NO_NOISE)
    np.testing.assert_allclose(res.event_ceded_by_policy["P", "IF"], [4 * EOK, 2.4 * EOK, 4 * EOK])
    np.testing.assert_allclose(res.event_ceded_by_policy["X", "IF"], [4 * EOK, 0, 10 * EOK])


def test_a_cell_that_is_no_event_type_is_an_error():
    sim = make_sim({"fraud": ([0], [5 * EOK])}, n_years=1)
    with pytest.raises(ValueError, match=r"cells \['fraud'\] name no Basel event type"):
        apply_programme(Policy(1 * EOK, 10 * EOK, policy_id="P"), sim, seed=0)


def test_excess_layer_follows_primary_as_a_tower():
    sim = random_sim(1, 2000, {"IF": 3.0})
    d, l1, l2 = 5 * EOK, 20 * EOK, 60 * EOK
    prog = Programme((Policy(d, l1, policy_id="P"), Policy(d, l2, policy_id="X", follows="P")))
    res = apply_programme(prog, sim, seed=0, keep_events=True, **NO_NOISE)
    x = sim.events["IF"].loss
    total = res.event_ceded_by_policy["P", "IF"] + res.event_ceded_by_policy["X", "IF"]
    # primary then excess = one layer of l1 + l2 above d
    np.testing.assert_allclose(total, np.minimum(np.maximum(x - d, 0), l1 + l2), rtol=1e-12)
    np.testing.assert_allclose(res.event_ceded_by_policy["X", "IF"],
                               np.minimum(np.maximum(x - d - l1, 0), l2), rtol=1e-12)


def test_annual_aggregate_equals_capped_sum_of_layers():
    sim = random_sim(2, 3000, {"IF": 4.0, "EF": 2.0})
    pol = Policy(2 * EOK, 30 * EOK, aggregate_limit=60 * EOK, policy_id="P",
                 cover={"IF": 1.0, "EF": 1.0})
    res = apply_programme(pol, sim, seed=0, **NO_NOISE)
    layer = sum(np.bincount(sim.events[c].year, pol.recover(sim.events[c].loss), minlength=3000)
                for c in ("IF", "EF"))
    np.testing.assert_allclose(res.ceded_by_policy["P"], np.minimum(layer, 60 * EOK), rtol=1e-9)


@pytest.fixture(scope="module")
def busy():
    sim = random_sim(3, 4000, {"IF": 3.0, "EF": 6.0, "CPBP": 2.0, "DPA": 1.0})
    return sim


def test_invariants_ceded_plus_retained_equals_gross(busy):
    prog = bundled_like_programme()
    res = apply_programme(prog, busy, seed=5, keep_events=True)
    for cell in busy.cells:
        x = busy.events[cell].loss
        ceded = sum(v for (pid, c), v in res.event_ceded_by_policy.items() if c == cell) \
            if any(c == cell for _, c in res.event_ceded_by_policy) else np.zeros_like(x)
        retained = x - ceded
        assert np.all(retained >= -1e-6) and np.all(ceded >= 0)
        np.testing.assert_allclose(ceded + retained, x)
    for p in prog:
        for (pid, c), v in res.event_ceded_by_policy.items():
            if pid == p.key:
                assert v.max() <= p.coinsurance * p.limit * (1 + 1e-12)
        assert res.ceded_by_policy[p.key].max() <= p.aggregate_limit * (1 + 1e-9)
    np.testing.assert_allclose(res.annual_gross, busy.total_gross())
    retained_year = res.annual_gross - res.annual_ceded
    assert np.all(retained_year >= -1e-3)
    np.testing.assert_allclose(res.annual_ceded + retained_year, busy.total_gross())
    # amount flow: ceded = delayed + lost to default + haircut + recognised
    for pid in prog.ids:
        flow = (res.delayed_by_policy[pid] + res.default_loss_by_policy[pid]
                + res.haircut_by_policy[pid] + res.recovery_by_policy[pid])
        np.testing.assert_allclose(flow, res.ceded_by_policy[pid], atol=1e-3)
    np.testing.assert_allclose(res.annual_net, res.annual_gross - res.annual_recovery)


@pytest.mark.parametrize("pid", ["BBB", "BBB-XS", "ECC"])
@pytest.mark.parametrize("field", ["limit", "aggregate_limit"])
def test_ceded_never_falls_as_a_limit_rises(busy, pid, field):
    base = bundled_like_programme()
    previous = None
    for value in np.array([10, 30, 50, 80, 120, 400]) * EOK:
        res = apply_programme(base.replace_policy(pid, **{field: value}), busy, seed=5)
        ceded = res.ceded_by_policy[pid]
        if previous is not None:
            assert np.all(ceded >= previous * (1 - 1e-12) - 1e-3)
        previous = ceded


@pytest.mark.parametrize("programme", [
    # disjoint wordings, aggregate limits
    Programme((Policy(5 * EOK, 50 * EOK, aggregate_limit=100 * EOK, policy_id="BBB",
                      cover={"IF": 0.9, "EF": 0.2}),
               Policy(1 * EOK, 20 * EOK, aggregate_limit=30 * EOK, coinsurance=0.9,
                      policy_id="ECC", cover={"EF": 0.4}))),
    # a tower whose primary has no aggregate limit
    Programme((Policy(5 * EOK, 50 * EOK, policy_id="BBB", cover={"IF": 0.9, "EF": 0.2}),
               Policy(5 * EOK, 100 * EOK, aggregate_limit=150 * EOK, coinsurance=0.8,
                      policy_id="XS", cover={"IF": 0.9, "EF": 0.2}, follows="BBB"))),
])
def test_total_ceded_never_falls_as_the_bbb_limit_rises(busy, programme):
    previous = None
    for value in np.array([10, 30, 50, 80, 120, 400]) * EOK:
        res = apply_programme(programme.replace_policy("BBB", limit=value), busy, seed=5)
        if previous is not None:
            assert np.all(res.annual_ceded >= previous * (1 - 1e-12) - 1e-3)
        previous = res.annual_ceded


def test_common_random_numbers_when_a_limit_changes(busy):
    prog = bundled_like_programme().replace_policy("BBB", aggregate_limit=math.inf)
    a = apply_programme(prog, busy, seed=9, keep_events=True)
    b = apply_programme(prog.replace_policy("BBB", limit=400 * EOK), busy, seed=9,
                        keep_events=True)
    for key, va in a.event_ceded_by_policy.items():
        if key[0] == "BBB":   # the same events reach the BBB: same coverage draws
            np.testing.assert_array_equal(va > 0, b.event_ceded_by_policy[key] > 0)
    for ins in a.insurer_default:
        np.testing.assert_array_equal(a.insurer_default[ins], b.insurer_default[ins])
    np.testing.assert_array_equal(a.annual_gross, b.annual_gross)
    again = apply_programme(prog, busy, seed=9)
    np.testing.assert_array_equal(a.annual_recovery, again.annual_recovery)


# -- stochastic elements --------------------------------------------------------------------

def _within_4se(count, n, p):
    return abs(count - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def test_coverage_share_is_a_probability():
    n = 20000
    sim = make_sim({"EF": (np.arange(n), np.full(n, 10.0))}, n_years=n)
    prog = Programme((Policy(1, 100, policy_id="A", cover={"EF": 0.3}),
                      Policy(1, 100, policy_id="B", cover={"EF": 0.5})))
    res = apply_programme(prog, sim, seed=11, keep_events=True, **NO_NOISE)
    a = res.event_ceded_by_policy["A", "EF"] > 0
    b = res.event_ceded_by_policy["B", "EF"] > 0
    assert _within_4se(a.sum(), n, 0.3) and _within_4se(b.sum(), n, 0.5)
    assert not np.any(a & b)                     # disjoint wordings


def test_insurer_default_frequency_and_lgd():
    n = 20000
    sim = make_sim({"IF": (np.arange(n), np.full(n, 10.0))}, n_years=n)
    table = {**RATING_DEFAULT_PROBABILITY, "A": 0.05}
    prog = Programme((Policy(1, 100, policy_id="P1", insurer="I", cover={"IF": 0.5}),
                      Policy(1, 100, policy_id="P2", insurer="I", cover={"IF": 0.5})))
    res = apply_programme(prog, sim, seed=4, delay=False, lgd=0.6,
                          default_probability_table=table)
    d = res.insurer_default["I"]
    assert _within_4se(d.sum(), n, 0.05)
    for pid in prog.ids:                          # same insurer: both lose 60% in its default years
        ceded = res.ceded_by_policy[pid]
        np.testing.assert_allclose(res.recovery_by_policy[pid], ceded * np.where(d, 0.4, 1.0))


def test_payment_delay_keeps_losses_in_the_year():
    n = 20000
    sim = make_sim({"IF": (np.arange(n), np.full(n, 10.0))}, n_years=n)
    pol = Policy(1, 100, policy_id="P", cover={"IF": 1.0})
    res = apply_programme(pol, sim, seed=8, default=False, delay_probability=0.2)
    late = res.delayed_by_policy["P"] > 0
    assert _within_4se(late.sum(), n, 0.2)
    np.testing.assert_allclose(res.annual_net, np.where(late, 10.0, 1.0))
    none = apply_programme(pol, sim, seed=8, default=False, delay=False)
    assert none.delayed_by_policy["P"].sum() == 0


def test_haircut_scales_recognised_recovery(busy):
    prog = bundled_like_programme()
    hc = {"BBB": 0.25, "ECC": 1.0}
    res = apply_programme(prog, busy, seed=2, haircuts=hc, **NO_NOISE)
    ref = apply_programme(prog, busy, seed=2, **NO_NOISE)
    for pid in prog.ids:
        np.testing.assert_allclose(res.recovery_by_policy[pid],
                                   ref.recovery_by_policy[pid] * (1 - hc.get(pid, 0.0)))
        np.testing.assert_array_equal(res.ceded_by_policy[pid], ref.ceded_by_policy[pid])
    with pytest.raises(KeyError, match="NOPE"):
        apply_programme(prog, busy, seed=2, haircuts={"NOPE": 0.5})
    with pytest.raises(ValueError, match="BBB"):
        apply_programme(prog, busy, seed=2, haircuts={"BBB": 1.5})


def test_keep_above_must_not_exceed_deductible():
    sim = make_sim({"IF": ([0, 0], [1.0, 50.0])}, n_years=1, keep_above=10.0)
    with pytest.raises(ValueError, match="policy 'P'.*keep_above"):
        apply_programme(Policy(5.0, 100.0, policy_id="P"), sim, seed=0)
    res = apply_programme(Policy(10.0, 100.0, policy_id="P"), sim, seed=0, **NO_NOISE)
    assert res.annual_recovery[0] == 40.0 and res.annual_net[0] == 11.0


def test_stored_events_above_deductible_give_the_same_result():
    from scipy import stats

    from opwb.engine.simulate import CellModel, simulate_losses
    model = {"IF": CellModel(stats.poisson(5), stats.lognorm(2.0, scale=1e8), threshold=1e7),
             "EF": CellModel(stats.poisson(8), stats.lognorm(1.8, scale=5e7), threshold=1e7)}
    full = simulate_losses(model, 3000, seed=1)
    kept = simulate_losses(model, 3000, seed=1, keep_events_above=5e8)
    prog = Programme((Policy(5e8, 5e9, aggregate_limit=1e10, policy_id="BBB",
                             cover={"IF": 1.0, "EF": 1.0}),))
    a = apply_programme(prog, full, seed=3, delay=False)
    b = apply_programme(prog, kept, seed=3, delay=False)
    np.testing.assert_allclose(a.annual_net, b.annual_net)
    assert sum(e.loss.size for e in kept.events.values()) < \
        0.2 * sum(e.loss.size for e in full.events.values())


@pytest.mark.parametrize("pid, changes", [
    ("BBB", dict(limit=400 * EOK)),                 # tower: BBB and its excess recomputed
    ("ECC", dict(deductible=3 * EOK)),
    ("PI", dict(aggregate_limit=10 * EOK, cover={"CPBP": 0.5})),
])
def test_reuse_gives_the_same_numbers(busy, pid, changes):
    prog = bundled_like_programme()
    first = apply_programme(prog, busy, seed=5, delay_probability=0.2)
    changed = prog.replace_policy(pid, **changes)
    fresh = apply_programme(changed, busy, seed=5, delay_probability=0.2)
    reused = apply_programme(changed, busy, seed=5, delay_probability=0.2, reuse=first)
    for p in prog.ids:
        np.testing.assert_array_equal(fresh.recovery_by_policy[p], reused.recovery_by_policy[p])
        np.testing.assert_array_equal(fresh.delayed_by_policy[p], reused.delayed_by_policy[p])
        np.testing.assert_array_equal(fresh.claims_by_policy[p], reused.claims_by_policy[p])
    other = apply_programme(changed, busy, seed=6, delay_probability=0.2, reuse=first)
    np.testing.assert_array_equal(other.annual_net,
                                  apply_programme(changed, busy, seed=6,
                                                  delay_probability=0.2).annual_net)


def test_reuse_with_new_haircuts_and_lgd(busy):
    prog = bundled_like_programme()
    first = apply_programme(prog, busy, seed=5)
    kw = dict(seed=5, haircuts={"ECC": 0.5}, lgd=0.4,
              default_probability_table={**RATING_DEFAULT_PROBABILITY, "A": 0.2})
    fresh = apply_programme(prog, busy, **kw)
    reused = apply_programme(prog, busy, reuse=first, **kw)
    for p in prog.ids:
        np.testing.assert_array_equal(fresh.recovery_by_policy[p], reused.recovery_by_policy[p])
    assert fresh.haircut_by_policy["ECC"].sum() > 0


def test_results_do_not_depend_on_how_many_events_were_stored():
    """Issue 11, finding 2: coverage, delay and default draws are keyed to events and years,
    so storing every event (keep 0) or only those above the lowest deductible gives the same
    recoveries, benefits and capital, to the last bit (the review saw a regulatory benefit of
    72.3억 against 42.1억)."""
    import opwb
    from opwb.capital import capital_summary
    from opwb.engine import simulate_losses
    from opwb.fitting import load_model_set
    from opwb.insurance import view_haircuts
    from opwb.scenarios import cell_models
    models = cell_models(load_model_set(), severity_cap=1e12)
    prog = Programme.from_frame(opwb.load_programme(opwb.data_path("insurance_programme.csv")))
    low = min(p.deductible for p in prog.policies)
    hc = view_haircuts(prog, "regulatory", valuation_date="2006-12-31")
    out = []
    for keep in (0.0, low):
        sim = simulate_losses(models, 20_000, seed=11, keep_events_above=keep)
        econ = apply_programme(prog, sim, seed=11)
        reg = apply_programme(prog, sim, seed=11, haircuts=hc)
        out.append((econ, reg, capital_summary(reg).cap.recognised_benefit))
    (e0, r0, b0), (e1, r1, b1) = out
    assert b0 == b1 and b0 > 0
    for pid in prog.ids:
        np.testing.assert_array_equal(e0.recovery_by_policy[pid], e1.recovery_by_policy[pid])
        np.testing.assert_array_equal(r0.recovery_by_policy[pid], r1.recovery_by_policy[pid])


def testoccurrence_order_is_exactly_lexsort_including_near_ties():
    from opwb.insurance.apply import occurrence_order
    rng = np.random.default_rng(0)
    for n in (0, 1, 10, 200_000):
        years, times = rng.integers(0, 100_000, n), rng.random(n)
        assert np.array_equal(occurrence_order(years, times), np.lexsort((times, years)))
    # two times of one year closer than 2^-40: the 64-bit keys tie, lexsort decides
    years, times = np.array([3, 3, 1, 3]), np.array([0.5 + 1e-15, 0.5, 0.2, 0.1])
    assert list(occurrence_order(years, times)) == [2, 3, 1, 0]
    # years beyond the key's range
    years, times = np.array([2 ** 24, 5, 2 ** 24]), np.array([0.9, 0.1, 0.2])
    assert list(occurrence_order(years, times)) == [1, 2, 0]
