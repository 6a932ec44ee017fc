"""The threshold completeness test (issue 23 item 7): the issue's own figure for the bundled
internal-fraud cell, the binomial and Poisson probabilities recomputed with scipy, the size
of the test on complete data and its power on data with the band thinned out."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from opwb.fitting.completeness import completeness_table, completeness_test
from opwb.fitting.mle import fit_severity

U = 1e7


def _lomax_above(rng, n, u=U, shape=1.2, scale=3e7):
    """n losses at or above u from a Lomax(shape, scale) (inverse transform of the
    conditional tail)."""
    s_u = (1 + u / scale) ** -shape
    v = rng.uniform(size=n) * s_u
    return scale * (v ** (-1 / shape) - 1)


def test_the_bundled_internal_fraud_cell_has_one_loss_where_the_lomax_expects_six_point_seven():
    """Issue 23: "the IF cell holds 1 loss in [1,000만, 2,000만) against 6.7 expected,
    p = 0.007" — the Lomax fitted above 1,000만원 to the internal-fraud losses with the CD
    incident; p is the exact one-sided binomial probability recomputed here with scipy."""
    from opwb.data.case import bundled_case
    from opwb.scenarios.spec import case_inputs
    losses, _, _ = case_inputs(bundled_case())
    x = losses.loc[losses["event_type"] == "IF", "gross_loss"].to_numpy(float)
    r = completeness_test(x, "lomax", U)
    assert (r.n, r.observed) == (int((x >= U).sum()), int(((x >= U) & (x < 2 * U)).sum()))
    assert r.observed == 1 and round(r.expected, 1) == 6.7 and round(r.p_value, 3) == 0.007
    f = fit_severity(x[x >= U], "lomax", U)
    p = 1 - f.sf(2 * U) / f.sf(U)
    assert r.expected == pytest.approx(r.n * p, rel=1e-12)
    assert r.p_value == pytest.approx(stats.binom.cdf(1, r.n, p), rel=1e-12)
    # fitted above 2,000만원 and extrapolated down, the deficit is starker still
    g = fit_severity(x[x >= 2 * U], "lomax", 2 * U)
    e = (x >= 2 * U).sum() * (g.sf(U) - g.sf(2 * U)) / g.sf(2 * U)
    assert r.expected_from_upper == pytest.approx(e, rel=1e-12) and e > r.expected
    assert r.p_value_from_upper == pytest.approx(stats.poisson.cdf(1, e), rel=1e-12)


def test_complete_data_are_rejected_at_most_at_the_level_and_thinned_data_mostly():
    """Size: on complete Lomax data the 5% test rejects at most 5% of samples (within three
    binomial standard errors; the fitted-above-u form is conservative). Power: with 85% of
    the band's losses left out it rejects most samples, and the fit above the band more
    often than the fit above u."""
    rng = np.random.default_rng(20261207)
    reps, level = 50, 0.05
    size, power, power_up = 0, 0, 0
    for _ in range(reps):
        x = _lomax_above(rng, 80)
        size += completeness_test(x, "lomax", U).p_value < level
        band = (x < 2 * U)
        keep = ~band | (rng.uniform(size=x.size) > 0.85)
        r = completeness_test(x[keep], "lomax", U)
        power += r.p_value < level
        power_up += (r.p_value_from_upper < level) if math.isfinite(r.p_value_from_upper) \
            else 0
    assert size / reps <= level + 3 * math.sqrt(level * (1 - level) / reps)
    assert power / reps > 0.5 and power_up >= power


def test_the_table_covers_every_cell_and_says_why_a_test_cannot_be_made():
    import opwb
    from opwb.data.case import bundled_case
    from opwb.fitting.modelset import load_model_set
    from opwb.scenarios.spec import case_inputs
    losses, _, _ = case_inputs(bundled_case())
    ms = load_model_set(opwb.data_path("severity_models.json"))     # the case's saved set
    t = completeness_table(losses, ms)
    assert list(t["cell"]) == list(ms.keys())
    ok = t["p_value"].notna()
    assert ok.any()
    for _, row in t[ok].iterrows():
        assert 0 <= row["p_value"] <= 1 and row["observed"] <= row["n"]
    assert (t.loc[~ok, "note"].str.len() > 0).all()


def test_bad_bands_are_refused():
    x = _lomax_above(np.random.default_rng(1), 50)
    with pytest.raises(ValueError, match="threshold must be a positive"):
        completeness_test(x, "lomax", 0.0)
    with pytest.raises(ValueError, match="must be above the threshold"):
        completeness_test(x, "lomax", U, upper=U)


def test_a_shifted_family_is_not_extrapolated_below_the_band():
    x = _lomax_above(np.random.default_rng(3), 80)
    r = completeness_test(x, "shifted_lognormal", U)
    assert math.isnan(r.expected_from_upper) and math.isnan(r.p_value_from_upper)
    assert "no extrapolation below" in r.note and 0 <= r.p_value <= 1
