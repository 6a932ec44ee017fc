"""The Monte Carlo kernel (opwb.engine._blocks): streams keyed to (seed, cell, block), the
version-1 numbers kept where the stream did not change, the sparse Poisson path's law, and
memory near the result.

Tolerances are 4 Monte Carlo standard errors.
"""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import stats

from opwb.engine._blocks import (
    BLOCK_YEARS,
    SPARSE_MEAN,
    block_generators,
    block_rng,
    block_states,
    cell_key,
    count_sampler,
)
from opwb.engine.distributions import CappedSeverity
from opwb.engine.simulate import CellModel, LossCollector, simulate_losses, simulation_tasks

SEEDS = [0, 1, 2005, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, 2 ** 127 + 5, 2 ** 130 + 1]
KEYS = [0, 5, 2 ** 32 - 1, 2 ** 32, cell_key("IF"), cell_key("EDPM|RB")]


@pytest.mark.parametrize("seed", SEEDS)
def test_block_states_equal_numpy_seed_sequence(seed):
    blocks = [0, 1, 2, 17, 2 ** 31 + 7]
    for key in KEYS:
        for b in blocks:
            ref = np.random.SeedSequence(seed, spawn_key=(key, b)).generate_state(4, np.uint64)
            np.testing.assert_array_equal(block_states(seed, key, b, b + 1)[0], ref)
    many = block_states(seed, KEYS[-1], 3, 40)
    for i, b in enumerate(range(3, 40)):
        ref = np.random.SeedSequence(seed, spawn_key=(KEYS[-1], b)).generate_state(4, np.uint64)
        np.testing.assert_array_equal(many[i], ref)


def test_block_generators_are_the_block_streams():
    key = cell_key("CPBP")
    for b, rng in zip(range(5, 9), block_generators(11, key, 5, 9)):
        np.testing.assert_array_equal(rng.random(5), block_rng(11, key, b).random(5))
    with pytest.raises(ValueError, match="outside"):
        block_states(1, key, 3, 2)


def test_counts_with_the_generator_equal_scipy_rvs():
    for dist, kind in ((stats.poisson(25.0), "poisson"), (stats.nbinom(3, 0.3), "nbinom"),
                       (stats.binom(10, 0.4), "scipy"), (stats.poisson(2.0, loc=1), "scipy")):
        s = count_sampler(dist)
        assert s.kind == kind
        rng_a, rng_b = np.random.default_rng(4), np.random.default_rng(4)
        np.testing.assert_array_equal(s.draw(rng_a),
                                      dist.rvs(size=BLOCK_YEARS, random_state=rng_b))
    assert count_sampler(stats.poisson(SPARSE_MEAN - 0.5)).kind == "poisson_sparse"
    assert count_sampler(stats.poisson(SPARSE_MEAN)).kind == "poisson"


def _v1_model():
    return {
        "EF": CellModel(stats.nbinom(3, 0.3), stats.genpareto(0.6, loc=1e7, scale=2e7),
                        threshold=1e7),
        "BDSF": CellModel(stats.poisson(40.0), stats.gamma(0.5, scale=1e8), threshold=0.0),
        "CPBP": CellModel(stats.poisson(15.0), CappedSeverity(stats.genpareto(1.2, scale=1e7),
                                                               1e11), threshold=1e7),
    }


# Computed by the version-1 engine (opwb before issue 14: scipy rvs per block, per-block
# isf) with n_years=4321, seed=3, keep_events_above=5e8, chunk_years=4000: cells whose
# stream did not change must give these numbers (counts exactly; sums to 1e-12, which
# allows the last bit of exp/log on other CPU kernels).
V1 = {
    "EF": ([3, 13, 9, 9, 18, 4, 5, 4], 47755344108.51942, 40511810383.31109, [175, 275, 383],
           289, 1851183540.0296812),
    "BDSF": ([39, 37, 43, 48, 38, 26, 37, 43], 205819578530.77487, 193540439814.188,
             [99, 701, 1147], 273, 572418719.6882763),
    "CPBP": ([15, 18, 9, 11, 14, 19, 19, 15], 467743591884.5147, 731061880330.4011,
             [21, 28, 49], 4151, 584595076.507091),
}


@pytest.mark.parametrize("chunk_years", [BLOCK_YEARS, 4000, None])
def test_dense_cells_keep_the_version_1_numbers(chunk_years):
    sim = simulate_losses(_v1_model(), 4321, 3, keep_events_above=5e8, chunk_years=chunk_years)
    for cell, (counts, s0, s1, ids, n_kept, last) in V1.items():
        assert sim.annual_count[cell][:8].tolist() == counts
        assert sim.annual_gross[cell][:100].sum() == pytest.approx(s0, rel=1e-12)
        assert sim.annual_gross[cell][2000:2100].sum() == pytest.approx(s1, rel=1e-12)
        assert sim.events[cell].event_id[:3].tolist() == ids
        assert sim.events[cell].loss.size == n_kept
        assert sim.events[cell].loss[-1] == pytest.approx(last, rel=1e-12)


def test_sparse_poisson_counts_are_independent_poisson_per_year():
    mu, n = 0.7, 200_000
    sim = simulate_losses({"IF": CellModel(stats.poisson(mu), stats.lognorm(1.0, scale=1e7),
                                           threshold=0.0)}, n, seed=5)
    c = sim.annual_count["IF"].astype(float)
    assert abs(c.mean() - mu) <= 4 * np.sqrt(mu / n)
    # variance of the sample variance of Poisson counts: (mu + 2 mu^2) / n
    assert abs(c.var(ddof=1) - mu) <= 4 * np.sqrt((mu + 2 * mu * mu) / n)
    p0 = np.exp(-mu)
    assert abs(np.mean(c == 0) - p0) <= 4 * np.sqrt(p0 * (1 - p0) / n)
    # no dependence between consecutive years (within and across blocks)
    r = np.corrcoef(c[:-1], c[1:])[0, 1]
    assert abs(r) <= 4 / np.sqrt(n)
    # losses are attached to their years: annual sums are the sums of the stored events
    ev = sim.events["IF"]
    np.testing.assert_allclose(np.bincount(ev.year, ev.loss, minlength=n),
                               sim.annual_gross["IF"], rtol=1e-12)
    assert np.all(np.diff(ev.year) >= 0)


def test_sparse_cells_do_not_depend_on_chunking_and_are_a_prefix():
    model = {"IF|RB": CellModel(stats.poisson(3.0), stats.lognorm(2.0, scale=1e7),
                                threshold=1e7)}
    a = simulate_losses(model, 3 * BLOCK_YEARS + 11, 9, keep_events_above=5e7,
                        chunk_years=BLOCK_YEARS)
    b = simulate_losses(model, 3 * BLOCK_YEARS + 11, 9, keep_events_above=5e7, workers=2)
    short = simulate_losses(model, 2500, 9, keep_events_above=5e7)
    np.testing.assert_array_equal(a.annual_gross["IF|RB"], b.annual_gross["IF|RB"])
    np.testing.assert_array_equal(a.events["IF|RB"].event_id, b.events["IF|RB"].event_id)
    np.testing.assert_array_equal(short.annual_gross["IF|RB"], a.annual_gross["IF|RB"][:2500])


def test_peak_memory_is_near_the_result():
    """Chunks are written into preallocated arrays as they finish: numpy's allocations
    (traced by tracemalloc) peak at the result plus a few chunks' working arrays."""
    model = {f"EF|{i}": CellModel(stats.poisson(2.0 + i), stats.lognorm(2.0, scale=1e7),
                                  threshold=1e7) for i in range(12)}
    n, chunk = 120_000, 2 * BLOCK_YEARS
    tracemalloc.start()
    try:
        sim = simulate_losses(model, n, seed=1, keep_events_above=1e9, chunk_years=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = sum(sim.annual_gross[c].nbytes + sim.annual_count[c].nbytes
                 + sim.events[c].loss.nbytes * 3 for c in sim.cells)
    # one chunk's working arrays: ~14 mean events a year x 8 bytes x a few arrays
    working = chunk * 14 * 8 * 6
    assert peak <= result + working + 2 * sum(sim.events[c].loss.nbytes * 3 for c in sim.cells)


def test_collector_refuses_an_incomplete_simulation():
    model = {"EF": CellModel(stats.poisson(20.0), stats.expon(scale=1e7))}
    out = LossCollector(model, 5000, 1)
    from opwb.engine._blocks import run_chunk
    tasks = simulation_tasks(model, 5000, 1, chunk_years=BLOCK_YEARS)
    out.add(run_chunk(tasks[0]))
    with pytest.raises(RuntimeError, match="incomplete"):
        out.result()
