"""Monte Carlo engine: moments against closed forms, reproducibility, events, bad input.

Tolerances are 4 Monte Carlo standard errors (estimated from the simulated sample itself).
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from opwb.engine.simulate import BLOCK_YEARS, CellModel, annual_retained, simulate_losses


class FitLike:
    """What opwb.fitting returns: an untruncated frozen distribution and its threshold."""

    def __init__(self, dist, threshold):
        self.dist, self.threshold = dist, threshold


class PpfCdfOnly:
    """A severity exposing only vectorised ppf/cdf (like a spliced severity)."""

    def __init__(self, dist):
        self._d = dist

    def ppf(self, q):
        return self._d.ppf(q)

    def cdf(self, x):
        return self._d.cdf(x)


class Layer:
    def __init__(self, deductible, limit):
        self.deductible, self.limit = deductible, limit

    def recover(self, x):
        return np.minimum(np.maximum(np.asarray(x, float) - self.deductible, 0.0), self.limit)


def _lognormal_moment(k, mu, sigma, threshold=0.0):
    """E[X^k | X > threshold] for a lognormal (closed form)."""
    if threshold <= 0:
        return np.exp(k * mu + k * k * sigma * sigma / 2)
    z = (np.log(threshold) - mu) / sigma
    return (np.exp(k * mu + k * k * sigma * sigma / 2) * stats.norm.sf(z - k * sigma)
            / stats.norm.sf(z))


def _assert_within(sample_stat, se, expected, name):
    assert abs(sample_stat - expected) <= 4 * se, (
        f"{name}: simulated {sample_stat:.6g}, closed form {expected:.6g}, "
        f"{abs(sample_stat - expected) / se:.2f} standard errors apart")


def _variance_se(x):
    """Standard error of the sample variance: sqrt((m4 - s^4) / n)."""
    c = x - x.mean()
    return np.sqrt((np.mean(c ** 4) - np.mean(c ** 2) ** 2) / x.size)


@pytest.mark.parametrize("threshold", [0.0, 2.0])
def test_compound_poisson_mean_and_variance_match_closed_forms(threshold):
    lam, mu, sigma = 4.0, 0.5, 0.6
    cell = CellModel(stats.poisson(lam), stats.lognorm(sigma, scale=np.exp(mu)), threshold=threshold)
    sim = simulate_losses({"EF": cell}, 30_000, seed=11)
    s = sim.annual_gross["EF"]
    m1, m2 = (_lognormal_moment(k, mu, sigma, threshold) for k in (1, 2))
    _assert_within(s.mean(), s.std(ddof=1) / np.sqrt(s.size), lam * m1, "E[S] = E[N] E[X]")
    _assert_within(s.var(ddof=1), _variance_se(s), lam * m2, "Var[S] = E[N] E[X^2]")
    n = sim.annual_count["EF"]
    _assert_within(n.mean(), n.std(ddof=1) / np.sqrt(n.size), lam, "E[N]")


def test_compound_negative_binomial_mean_and_variance_match_closed_forms():
    r, p = 4.0, 0.4                      # E[N] = 6, Var[N] = 15
    xi, scale, h = 0.1, 3.0, 1.0         # GPD above its own location = the threshold
    sev = stats.genpareto(xi, loc=h, scale=scale)
    sim = simulate_losses({"CPBP": CellModel(stats.nbinom(r, p), FitLike(sev, h))}, 30_000, seed=5)
    s = sim.annual_gross["CPBP"]
    en, vn = r * (1 - p) / p, r * (1 - p) / p ** 2
    ex, vx = h + scale / (1 - xi), scale ** 2 / ((1 - xi) ** 2 * (1 - 2 * xi))
    _assert_within(s.mean(), s.std(ddof=1) / np.sqrt(s.size), en * ex, "E[S] negative binomial")
    _assert_within(s.var(ddof=1), _variance_se(s), en * vx + vn * ex ** 2,
                   "Var[S] = E[N] Var[X] + Var[N] E[X]^2")


def test_threshold_comes_from_the_fit_result_and_losses_exceed_it():
    sev = FitLike(stats.lognorm(2.0, scale=np.exp(14.0)), 1e7)
    cell = CellModel(stats.poisson(3.0), sev)
    assert cell.threshold == 1e7
    sim = simulate_losses({"IF": cell}, 3000, seed=2)
    assert sim.events["IF"].loss.size > 0 and np.all(sim.events["IF"].loss > 1e7)


def test_ppf_cdf_only_severity_and_frequency_with_dist_give_the_same_losses():
    class FreqFit:
        dist = stats.poisson(5.0)

    base = CellModel(stats.poisson(5.0), stats.weibull_min(0.7, scale=2.0), threshold=1.0)
    other = CellModel(FreqFit(), PpfCdfOnly(stats.weibull_min(0.7, scale=2.0)), threshold=1.0)
    a = simulate_losses({"DPA": base}, 2500, seed=9)
    b = simulate_losses({"DPA": other}, 2500, seed=9)
    np.testing.assert_allclose(b.annual_gross["DPA"], a.annual_gross["DPA"], rtol=1e-9)


def test_far_tail_threshold_where_cdf_rounds_to_one():
    # S(H) = Phi(-8.5) ~ 1e-17, so F(H) == 1.0 in double precision: sampling u ~ U(F(H), 1)
    # would fail; drawing through the survival function keeps the conditional law exact.
    sev = stats.lognorm(1.0)
    h = float(np.exp(8.5))
    assert sev.cdf(h) == 1.0
    sim = simulate_losses({"EDPM": CellModel(stats.poisson(20.0), sev, threshold=h)}, 2000, seed=3)
    loss = sim.events["EDPM"].loss
    assert np.all(np.isfinite(loss)) and np.all(loss > h)
    median = sev.isf(sev.sf(h) / 2)                  # conditional median above H
    share = np.mean(loss > median)
    assert abs(share - 0.5) <= 4 * np.sqrt(0.25 / loss.size)


def _two_cell_model():
    return {
        "IF|RB": CellModel(stats.poisson(6.0), stats.lognorm(2.0, scale=1e7), threshold=1e7),
        "EF": CellModel(stats.nbinom(3, 0.3), stats.genpareto(0.6, loc=1e7, scale=2e7), threshold=1e7),
    }


def _assert_same(a, b):
    assert a.cells == b.cells
    for c in a.cells:
        np.testing.assert_array_equal(a.annual_gross[c], b.annual_gross[c])
        np.testing.assert_array_equal(a.annual_count[c], b.annual_count[c])
        np.testing.assert_array_equal(a.events[c].year, b.events[c].year)
        np.testing.assert_array_equal(a.events[c].loss, b.events[c].loss)


def test_same_seed_same_numbers_whatever_chunks_and_workers():
    model, n = _two_cell_model(), 2 * BLOCK_YEARS + 123
    ref = simulate_losses(model, n, seed=42, keep_events_above=5e7, chunk_years=BLOCK_YEARS)
    for kwargs in ({"chunk_years": 3 * BLOCK_YEARS}, {"chunk_years": 1, "workers": 2},
                   {"chunk_years": BLOCK_YEARS + 1, "workers": 2, "backend": "process"}):
        _assert_same(ref, simulate_losses(model, n, seed=42, keep_events_above=5e7, **kwargs))
    other = simulate_losses(model, n, seed=43, keep_events_above=5e7)
    assert not np.array_equal(other.annual_gross["EF"], ref.annual_gross["EF"])


def test_shorter_run_is_a_prefix_and_cells_do_not_disturb_each_other():
    model = _two_cell_model()
    long = simulate_losses(model, BLOCK_YEARS + 500, seed=8)
    short = simulate_losses({"EF": model["EF"]}, 700, seed=8)
    np.testing.assert_array_equal(short.annual_gross["EF"], long.annual_gross["EF"][:700])
    keep = long.events["EF"].year < 700
    np.testing.assert_array_equal(short.events["EF"].loss, long.events["EF"].loss[keep])


def test_events_reproduce_annual_totals_and_respect_keep_above():
    model = _two_cell_model()
    sim = simulate_losses(model, 1500, seed=4, keep_events_above={"IF|RB": 0.0, "EF": 1e8})
    ev = sim.events["IF|RB"]
    assert ev.keep_above == 0.0 and ev.year.dtype == np.int64 and ev.loss.dtype == np.float64
    np.testing.assert_allclose(np.bincount(ev.year, ev.loss, minlength=1500),
                               sim.annual_gross["IF|RB"], rtol=1e-12)
    np.testing.assert_array_equal(np.bincount(ev.year, minlength=1500), sim.annual_count["IF|RB"])
    big = sim.events["EF"]
    assert big.keep_above == 1e8 and np.all(big.loss > 1e8)
    assert np.all(np.diff(big.year) >= 0) and big.year.max() < 1500
    none = simulate_losses(model, 100, seed=4, keep_events_above=np.inf)
    assert all(none.events[c].loss.size == 0 for c in none.cells)


def test_totals_and_event_type_grouping():
    model = dict(_two_cell_model())
    model["IF|CB"] = CellModel(stats.poisson(2.0), stats.lognorm(1.0, scale=1e7), threshold=1e7)
    sim = simulate_losses(model, 400, seed=1)
    by = sim.by_event_type()
    assert set(by) == {"IF", "EF"}
    np.testing.assert_allclose(by["IF"], sim.annual_gross["IF|RB"] + sim.annual_gross["IF|CB"])
    np.testing.assert_allclose(sim.total_gross(), by["IF"] + by["EF"])
    table = sim.risk_table(0.99)
    assert list(table.index) == ["IF|RB", "EF", "IF|CB", "total"]
    total = np.sort(sim.total_gross())
    assert table.loc["total", "var"] == total[int(np.ceil(0.99 * 400)) - 1]
    assert table.loc["total", "mean_se"] == pytest.approx(total.std(ddof=1) / 20)


def test_annual_retained_reapplies_a_layer_to_stored_events():
    model = _two_cell_model()
    layer = Layer(deductible=5e7, limit=5e8)
    all_events = simulate_losses(model, 2000, seed=6)
    large_only = simulate_losses(model, 2000, seed=6, keep_events_above=5e7)
    ev = all_events.events["EF"]
    expected = all_events.annual_gross["EF"] - np.bincount(ev.year, layer.recover(ev.loss), minlength=2000)
    np.testing.assert_allclose(annual_retained(large_only, "EF", layer), expected, rtol=1e-12)
    with pytest.raises(ValueError, match="keep_events_above <= the policy's deductible"):
        annual_retained(large_only, "EF", Layer(deductible=1e7, limit=5e8))


@pytest.mark.parametrize("n_years", [-5, 0, 2.5, "100"])
def test_bad_n_years(n_years):
    with pytest.raises(ValueError, match="n_years must be a positive integer"):
        simulate_losses(_two_cell_model(), n_years, seed=1)


def test_bad_inputs_raise_clear_errors():
    model = _two_cell_model()
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        simulate_losses(model, 10, seed=-1)
    with pytest.raises(ValueError, match="unknown cells.*'XX'"):
        simulate_losses(model, 10, seed=1, keep_events_above={"XX": 1.0})
    with pytest.raises(TypeError, match=r"model\['IF'\] must be a CellModel"):
        simulate_losses({"IF": (stats.poisson(1), stats.expon())}, 10, seed=1)
    with pytest.raises(ValueError, match="chunk_years"):
        simulate_losses(model, 10, seed=1, chunk_years=0)
    with pytest.raises(ValueError, match="no probability above the threshold 2"):
        CellModel(stats.poisson(1.0), stats.uniform(0, 1), threshold=2.0)
    with pytest.raises(TypeError, match="frequency must be a frozen scipy discrete"):
        CellModel(stats.norm(), stats.expon())
    with pytest.raises(ValueError, match="threshold must be a finite number >= 0"):
        CellModel(stats.poisson(1.0), stats.expon(), threshold=-1.0)
