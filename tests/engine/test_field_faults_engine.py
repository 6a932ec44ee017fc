"""Field faults of the engine (issue 22): risk measures beyond the sample (item 4) and the
memory of high-frequency cells (item 7).

Item 4 -- expected values from order-statistic theory: the ``alpha``-quantile ``q`` of a
continuous law lies at or above the ``l``-th of ``n`` ordered outcomes exactly when at
least ``l`` of them are ``<= q``: ``P(x_(l) <= q) = P(Binomial(n, alpha) >= l)`` (David &
Nagaraja 2003, §2.1). Before the fix, 100 years gave the 99.9% VaR as the sample maximum
with a finite error and the interval ``[x_(99), x_(100)]`` (coverage 1 - 0.999^100 = 9.5%);
ES at 99.99% from 1,000 outcomes came back with error 0 and interval ``[max, max]``.

Item 7 -- the numbers of a cell do not depend on how its years are cut into work units
(bit for bit), they are the block streams' numbers (an independent re-implementation of the
stream definition below), and the working memory of a unit is bounded by the plan whatever
the frequency (``tracemalloc`` counts numpy's allocations; no timing).
"""
from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import stats

from opwb.engine import riskmeasures as rm
from opwb.engine._blocks import BLOCK_YEARS, ChunkTask, block_rng, cell_key, count_sampler
from opwb.engine.memory import (
    EVENT_WORK_BYTES,
    KEPT_BYTES,
    KEPT_WORK_BYTES,
    UNIT_EVENTS,
    YEAR_BYTES,
    SimulationTooLarge,
    check_memory,
    plan_simulation,
    plan_units,
)
from opwb.engine.precision import MIN_TAIL, require_tail, sample_var, tail_count, years_needed
from opwb.engine.simulate import CellModel, simulate_losses, simulation_tasks
from opwb.engine.topyears import TopYears, candidates, diff_var_top, es_top, var_with_se_top

Z95 = stats.norm.ppf(0.975)


def _lognormal_var_es(alpha, sigma=1.0):
    """VaR and ES of lognormal(0, sigma) at alpha (closed forms)."""
    z = stats.norm.ppf(alpha)
    return math.exp(sigma * z), math.exp(sigma ** 2 / 2) * stats.norm.sf(z - sigma) / (1 - alpha)


# ==================================================================== item 4: beyond the sample
def test_es_at_99_99_from_1000_outcomes_is_flagged_not_exact():
    """0.1 outcome expected beyond 99.99%: no error 0, no interval [max, max]."""
    x = np.random.default_rng(1).exponential(size=1000)       # ES = ln(10^4) + 1 = 10.21
    alpha, true_es = 0.9999, math.log(1e4) + 1.0
    e = rm.es_estimate(x, alpha)
    assert not e.sufficient and e.beyond == pytest.approx(0.1)
    assert e.se == math.inf and e.upper == math.inf
    # lower end: x_(l), l = the 2.5% point of Binomial(1000, 0.9999): P(B <= 998) =
    # 1 - a^n - n (1 - a) a^(n-1) = 0.0047 < 0.025 <= P(B <= 999) = 0.095, so l = 999
    p998 = 1 - alpha ** 1000 - 1000 * (1 - alpha) * alpha ** 999
    assert p998 < 0.025 <= 1 - alpha ** 1000
    assert e.lower == np.sort(x)[-2] < e.value
    assert e.lower <= true_es < e.upper
    assert "100,000 outcomes" in e.note and "flagged" in e.note
    assert rm.es_with_se(x, alpha) == (e.value, math.inf)
    assert rm.es_interval(x, alpha) == (e.lower, math.inf)


def test_var_and_es_from_100_years_at_99_9_are_flagged_and_widened():
    x = np.random.default_rng(0).lognormal(0.0, 1.0, 100)
    alpha = 0.999
    true_var, true_es = _lognormal_var_es(alpha)               # 21.98, 39.1
    v = rm.var_estimate(x, alpha)
    assert v.value == x.max() and v.value < true_var / 2       # the maximum, far below
    assert not v.sufficient and v.beyond == pytest.approx(0.1)
    assert v.se == math.inf and v.upper == math.inf           # was 3.6% and the maximum
    assert v.lower == np.sort(x)[-2] and v.lower <= true_var
    assert "10,000 outcomes" in v.note
    assert rm.var_with_se(x, alpha) == (v.value, math.inf)
    assert rm.var_interval(x, alpha) == (v.lower, math.inf)
    e = rm.es_estimate(x, alpha)
    assert not e.sufficient and e.se == math.inf and e.upper == math.inf
    assert e.lower <= true_es and e.lower <= v.lower


def test_widened_var_interval_covers_at_its_level_where_the_old_one_did_not():
    """400 samples of 100 lognormal years: the widened interval covers the true 99.9% VaR
    with probability P(x_(99) <= q) = a^100 + 100 (1 - a) a^99 = 0.9953; the old interval
    [x_(99), x_(100)] covered it only when the maximum exceeded q: 1 - a^100 = 0.095."""
    alpha, reps = 0.999, 400
    q = _lognormal_var_es(alpha)[0]
    rng = np.random.default_rng(22)
    new = old = 0
    for _ in range(reps):
        x = rng.lognormal(0.0, 1.0, 100)
        lo, hi = rm.var_interval(x, alpha)
        new += lo <= q <= hi
        old += np.sort(x)[-2] <= q <= x.max()
    p_new = alpha ** 100 + 100 * (1 - alpha) * alpha ** 99
    assert new >= reps * p_new - 4 * math.sqrt(reps * p_new * (1 - p_new)) - 1
    p_old = 1 - alpha ** 100
    assert abs(old - reps * p_old) <= 4 * math.sqrt(reps * p_old * (1 - p_old))


def test_between_3_7_and_10_beyond_the_interval_is_exact_and_the_error_follows_it():
    # n = 5000 at 99.9%: 5 beyond. 1 - a^n = 0.9933 >= 0.975: the interval is bounded.
    x = np.random.default_rng(3).exponential(size=5000)
    alpha = 0.999
    lo_rank = int(stats.binom.ppf(0.025, 5000, alpha))
    hi_rank = int(stats.binom.ppf(0.975, 5000, alpha)) + 1
    assert hi_rank <= 5000
    srt = np.sort(x)
    v = rm.var_estimate(x, alpha)
    assert (v.lower, v.upper) == (srt[lo_rank - 1], srt[hi_rank - 1])
    spacing = sample_var(x, alpha)[1]
    assert v.se == max(spacing, (v.upper - v.lower) / (2 * Z95)) and not v.sufficient
    assert v.lower <= math.log(1000) <= v.upper                # Exp(1): VaR = ln(1000)


def test_the_normal_path_is_unchanged_from_10_beyond():
    """100,000 years at 99.9% (100 beyond, the app's run) and the boundary n (1 - a) = 10:
    the spacing error, the order-statistic interval and the ES of before."""
    rng = np.random.default_rng(4)
    for n in (100_000, years_needed(0.999)):
        x = rng.lognormal(0.0, 1.0, n)
        assert tail_count(n, 0.999) >= MIN_TAIL
        v = rm.var_estimate(x, 0.999)
        assert v.sufficient and v.note == "" and (v.value, v.se) == sample_var(x, 0.999)
        lo, hi = stats.binom.ppf([0.025, 0.975], n, 0.999).astype(int) + [0, 1]
        srt = np.sort(x)
        assert (v.lower, v.upper) == (srt[lo - 1], srt[hi - 1])
        e = rm.es_estimate(x, 0.999)
        assert e.sufficient and math.isfinite(e.se) and e.upper < math.inf
    assert not rm.var_estimate(rng.lognormal(size=9999), 0.999).sufficient


def test_differences_beyond_the_sample_join_the_widened_intervals():
    rng = np.random.default_rng(5)
    gross = rng.lognormal(0.0, 1.0, 2000)                      # 2 beyond 99.9%
    net = gross - np.clip(gross - 3.0, 0.0, 1.0)
    d = rm.diff_estimate(gross, net, "var", 0.999)
    ex, ey = rm.var_estimate(gross, 0.999, 0.975), rm.var_estimate(net, 0.999, 0.975)
    assert d.method == "bonferroni" and not d.sufficient
    assert (d.lower, d.upper) == (ex.lower - ey.upper, ex.upper - ey.lower)
    assert d.upper == math.inf and d.se == math.inf
    assert rm.diff_var_with_se(gross, net, 0.999)[1] == math.inf
    assert rm.diff_es_with_se(gross, net, 0.999, bounded=True)[1] == math.inf
    m = rm.diff_estimate(gross, net, "mean")                   # a mean has no level
    assert m.sufficient and math.isfinite(m.se)


def test_top_years_figures_are_widened_as_the_full_sample():
    x = np.random.default_rng(6).lognormal(0.0, 1.0, 2000)
    y = 0.9 * x
    for alpha in (0.999, 0.997, 0.99):                         # 2, 6 and 20 beyond
        tx = TopYears.of(x, candidates(x, alpha))
        ty = TopYears.of(y, candidates(x, alpha))
        assert var_with_se_top(tx, alpha) == rm.var_with_se(x, alpha)
        assert diff_var_top(tx, ty, alpha) == pytest.approx(rm.diff_var_with_se(x, y, alpha),
                                                            rel=1e-12)
        se = es_top(tx, alpha)[1]
        assert (se == math.inf) == (tail_count(2000, alpha) < MIN_TAIL)


def test_risk_table_and_refusal_name_the_years_needed():
    t = rm.risk_summary({"short": np.random.default_rng(7).lognormal(size=500),
                         "long": np.random.default_rng(8).lognormal(size=20_000)}, 0.999)
    assert t["sufficient"].tolist() == [False, True]
    assert t["beyond"].tolist() == pytest.approx([0.5, 20.0])
    assert t.loc["short", "var_se"] == math.inf and math.isfinite(t.loc["long", "var_se"])
    with pytest.raises(ValueError, match=r"needs at least 10,000 simulated years .*got 100 "):
        require_tail(100, 0.999, "the VaR")
    require_tail(10_000, 0.999)


# ==================================================================== item 7: memory
def _cell(freq, keep_sev=None):
    return CellModel(freq, keep_sev or stats.lognorm(2.0, scale=1e7), threshold=1e7)


def _stream_reference(freq, n_years, seed, name="X"):
    """Counts, annual sums and every block's losses of a dense cell straight from the
    stream definition: block b draws ``BLOCK_YEARS`` counts, then one uniform per event
    (year order); loss = isf((1 - u) S(H))."""
    sev = stats.lognorm(2.0, scale=1e7)
    s_h = sev.sf(1e7)
    sampler = count_sampler(freq)
    counts, sums, losses = [], [], []
    for b in range(-(-n_years // BLOCK_YEARS)):
        rng = block_rng(seed, cell_key(name), b)
        c = sampler.draw(rng)[:min(BLOCK_YEARS, n_years - b * BLOCK_YEARS)]
        loss = sev.isf((1.0 - rng.random(int(c.sum()))) * s_h)
        ends = np.cumsum(c)
        counts.append(c)
        sums.append(np.array([loss[e - k:e].sum() for e, k in zip(ends, c)]))
        losses.append(loss)
    return np.concatenate(counts), np.concatenate(sums), losses


@pytest.mark.parametrize("freq", [stats.poisson(2e4), stats.nbinom(4, 4 / (4 + 3000)),
                                  stats.binom(5000, 0.4)], ids=["poisson", "nbinom", "binom"])
def test_same_seed_same_numbers_whatever_the_unit_budget(freq):
    """Dense cells of three count samplers; default units (a part of a block at λ = 2·10⁴
    and 3,000, whole blocks at 2,000), tiny units straddling blocks, threads: every array
    bit for bit the same, and the stream definition's numbers (the version-2 streams: the
    numbers before issue 22)."""
    lam = freq.mean()
    n = 170 if lam > 5000 else BLOCK_YEARS + 333
    model = {"X": _cell(freq)}
    runs = [simulate_losses(model, n, seed=9, keep_events_above=2e9, unit_events=ue,
                            workers=w)
            for ue, w in ((None, 1), (2 ** 14 + 3, 2), (2 ** 16, 1), (int(lam * 777), 2))]
    plans = [plan_simulation(model, n, unit_events=ue) for ue in (None, 2 ** 14 + 3)]
    assert len(plans[1].cells["X"].units) > len(plans[0].cells["X"].units) > 0
    ref = runs[0]
    for got in runs[1:]:
        np.testing.assert_array_equal(got.annual_gross["X"], ref.annual_gross["X"])
        np.testing.assert_array_equal(got.annual_count["X"], ref.annual_count["X"])
        for f in ("year", "loss", "event_id"):
            np.testing.assert_array_equal(getattr(got.events["X"], f),
                                          getattr(ref.events["X"], f))
    counts, sums, losses = _stream_reference(freq, n, 9)
    np.testing.assert_array_equal(ref.annual_count["X"], counts)
    np.testing.assert_allclose(ref.annual_gross["X"], sums, rtol=1e-12)
    # an event's id is (block, position among the block's draws) whatever unit drew it
    ev = ref.events["X"]
    assert ev.loss.size > 100
    block, pos = ev.event_id >> 32, ev.event_id & (2 ** 32 - 1)
    np.testing.assert_array_equal(block, ev.year // BLOCK_YEARS)
    np.testing.assert_array_equal(ev.loss, [losses[b][p] for b, p in zip(block, pos)])


def test_sparse_cells_are_cut_at_blocks_only():
    assert plan_units(3.0, 7000, sparse=True, unit_events=100) == (
        (0, 2000), (2000, 4000), (4000, 6000), (6000, 7000))
    sampler = count_sampler(stats.poisson(3.0))
    with pytest.raises(ValueError, match="must start at a block"):
        ChunkTask("X", sampler, None, 1.0, 1, 100, 2000, 0.0)


def test_unit_memory_is_bounded_whatever_the_frequency():
    """The plan: every unit holds at most unit_events expected events (a year at least),
    so its working memory is bounded; the years rule held 40,000 years a unit."""
    for lam in (0.0, 10.0, 1e3, 2e4, 1e5, 1e6):
        units = plan_units(lam, 100_000)
        years = max(b - a for a, b in units)
        assert lam * years <= max(UNIT_EVENTS, lam)
        assert units[0][0] == 0 and units[-1][1] == 100_000
        assert all(a1 == b0 for (_, b0), (a1, _) in zip(units, units[1:]))
    model = {"X": _cell(stats.poisson(2e4))}
    plan = plan_simulation(model, 100_000, keep_events_above=float("inf"))
    assert plan.cells["X"].unit_years == UNIT_EVENTS // 20_000 == 209
    assert plan.work_bytes <= UNIT_EVENTS * EVENT_WORK_BYTES + 209 * 64 + 209 * YEAR_BYTES
    assert plan.work_bytes < 200e6                              # was 12.8 GB (40,000 years)


def test_peak_memory_of_a_high_frequency_run_stays_under_the_plan():
    """λ = 2·10⁴, 300 years (6 million events, 96 MB of uniforms and losses at once under
    the years rule): with units of 2¹⁸ expected events numpy's allocations peak under the
    plan's estimate, a small fraction of that."""
    model = {"X": _cell(stats.poisson(2e4))}
    ue = 2 ** 18
    plan = plan_simulation(model, 300, keep_events_above=float("inf"), unit_events=ue)
    assert plan.cells["X"].unit_years == ue // 20_000 == 13
    tracemalloc.start()
    try:
        sim = simulate_losses(model, 300, seed=2, keep_events_above=float("inf"),
                              unit_events=ue)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    events = int(sim.annual_count["X"].sum())
    assert abs(events - 6e6) <= 4 * math.sqrt(6e6)
    assert peak <= plan.peak_bytes
    assert peak < 0.25 * events * 16                            # the years rule's arrays


def test_the_kept_share_is_the_severity_survival_ratio():
    sev = stats.lognorm(2.0, scale=1e7)
    model = {"X": _cell(stats.poisson(200.0), sev)}
    plan = plan_simulation(model, 5000, keep_events_above=5e8)
    share = sev.sf(5e8) / sev.sf(1e7)
    assert plan.cells["X"].kept_share == pytest.approx(share, rel=1e-12)
    assert plan.result_bytes == pytest.approx(5000 * YEAR_BYTES + 200 * 5000 * share * KEPT_BYTES)
    sim = simulate_losses(model, 5000, seed=3, keep_events_above=5e8)
    n = int(sim.annual_count["X"].sum())
    kept = sim.events["X"].loss.size
    assert abs(kept / n - share) <= 4 * math.sqrt(share * (1 - share) / n)
    assert plan.cells["X"].units == ((0, 5000),)        # 10 blocks allowed, 5000 years run
    assert plan.cells["X"].work_bytes == pytest.approx(
        200 * 5000 * (EVENT_WORK_BYTES + KEPT_WORK_BYTES * share) + 5000 * 48)


def test_a_run_that_cannot_fit_is_refused_before_it_starts():
    """The issue's cell: λ = 2·10⁴, 100,000 years, every event kept: 2·10⁹ events, 48 GB
    of kept events alone -- refused against a stated budget, with the estimate."""
    model = {"EDPM": _cell(stats.poisson(2e4))}
    plan = plan_simulation(model, 100_000)
    assert plan.result_bytes == pytest.approx(100_000 * YEAR_BYTES + 2e9 * KEPT_BYTES)
    with pytest.raises(SimulationTooLarge, match=r"cannot fit in memory: 100,000 years of 1 "
                                                 r"cell\(s\) need about 96\.4\d GB") as err:
        simulate_losses(model, 100_000, seed=1, memory_limit=16e9)
    assert isinstance(err.value, MemoryError)
    assert "16.00 GB allowed" in str(err.value) and "keep_events_above" in str(err.value)
    with pytest.raises(SimulationTooLarge, match="95.00 GB allowed"):
        check_memory(plan, 95e9)
    check_memory(plan, 97e9)                       # the estimate is 96.4 GB
    small = simulate_losses(model, 3, seed=1, keep_events_above=float("inf"),
                            memory_limit=50e6)
    assert small.annual_gross["EDPM"].size == 3
    with pytest.raises(ValueError, match="memory_limit must be a positive number"):
        simulate_losses(model, 3, seed=1, memory_limit=-1)
    with pytest.raises(ValueError, match="unit_events must be a positive integer"):
        simulate_losses(model, 3, seed=1, unit_events=0)


def test_units_of_another_model_give_the_same_numbers():
    """A plan made for one model (the fitted one) used for another (a refitted world, whose
    λ differs): unit i covers the same years for both, the numbers are the world's own."""
    fitted, world = {"X": _cell(stats.poisson(3e4))}, {"X": _cell(stats.poisson(1e4))}
    units = plan_simulation(fitted, 400, unit_events=2 ** 20).units()
    own = simulation_tasks(world, 400, 5, keep_events_above=1e9, unit_events=2 ** 20)
    shared = simulation_tasks(world, 400, 5, keep_events_above=1e9, units=units)
    assert len(own) != len(shared) == len(units["X"])
    a = simulate_losses(world, 400, seed=5, keep_events_above=1e9)
    from opwb.engine._blocks import run_chunk
    from opwb.engine.simulate import collect
    b = collect(world, 400, 5, map(run_chunk, shared), keep_events_above=1e9)
    np.testing.assert_array_equal(a.annual_gross["X"], b.annual_gross["X"])
    np.testing.assert_array_equal(a.events["X"].event_id, b.events["X"].event_id)
    with pytest.raises(ValueError, match="consecutive"):
        simulation_tasks(world, 400, 5, units={"X": [(0, 100), (150, 400)]})
