"""Standard errors of capital figures on shared simulated years (linearisation).

Closed forms: a quota share's benefit error is ``c`` times the gross VaR's; a VaR's error is
:func:`var_with_se`'s; a mean's is ``sd/sqrt(n)``. Independent check: over 300 independent
replications the predicted errors of a paired VaR difference (partial cover, so gross and
net tails are different years), of a pro rata allocation and of an EL-offset benefit match
the spread of the estimates.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.capital.influence import (
    Linearised,
    allocate,
    capital_linearised,
    mean_linearised,
    rss,
    var_linearised,
)
from opwb.engine.riskmeasures import var_with_se


def test_levels_match_the_engine_and_closed_forms():
    x = np.random.default_rng(0).lognormal(0.0, 1.5, 20_000)
    v = var_linearised(x, 0.999)
    assert (v.value, v.se) == pytest.approx(var_with_se(x, 0.999), rel=1e-12)
    m = mean_linearised(x)
    assert m.value == pytest.approx(x.mean()) and m.se == pytest.approx(x.std() / math.sqrt(x.size))
    assert (0.25 * v).se == pytest.approx(0.25 * v.se)
    assert rss([3.0, 4.0]) == 5.0


@pytest.mark.parametrize("c", [0.1, 0.5, 0.9])
def test_quota_share_benefit_error_is_c_times_gross(c):
    x = np.random.default_rng(1).pareto(1.5, 10_000)
    for el in (False, True):
        b = capital_linearised(x, 0.99, el) - capital_linearised((1 - c) * x, 0.99, el)
        assert b.se == pytest.approx(c * capital_linearised(x, 0.99, el).se, rel=1e-9)


def test_pro_rata_allocation_adds_up_and_refuses_sign_reversal():
    z = np.zeros(4)
    parts = [Linearised(30.0, np.array([1.0, -1, 2, 0])),
             Linearised(10.0, np.array([0, 1, -1.0, 3]))]
    total = Linearised(20.0, np.array([2.0, 0, 1, -1]))
    out = allocate(total, parts, what="capital")
    assert [a.value for a in out] == [15.0, 5.0]
    np.testing.assert_allclose(out[0].psi + out[1].psi, total.psi)     # errors add up too
    same = allocate(parts[0] + parts[1], parts, what="capital")          # total = sum: identity
    np.testing.assert_allclose(same[0].psi, parts[0].psi)
    nothing = allocate(Linearised(0.0, z), [Linearised(0.0, z)] * 2, what="benefit")
    assert [a.value for a in nothing] == [0.0, 0.0]
    with pytest.raises(ValueError, match="sum to 0"):
        allocate(Linearised(5.0, z), [Linearised(0.0, z)] * 2, what="benefit")
    with pytest.raises(ValueError, match="opposite sign"):
        allocate(Linearised(5.0, z), [Linearised(2.0, z), Linearised(-4.0, z)], what="benefit")


def test_predicted_errors_match_replications():
    alpha, n, reps = 0.995, 10_000, 300
    rng = np.random.default_rng(7)
    est, se = [], []
    for _ in range(reps):
        x1, x2 = rng.lognormal(0.0, 1.0, n), rng.lognormal(0.0, 1.2, n)
        covered = rng.random(n) < 0.6                  # 60% of years covered: 40%, at most 5
        y1 = x1 - np.where(covered, np.minimum(0.4 * x1, 5.0), 0.0)
        figures = [var_linearised(x1, alpha) - var_linearised(y1, alpha),
                   allocate(var_linearised(x1 + x2, alpha),
                            [var_linearised(x1, alpha), var_linearised(x2, alpha)], what="K")[0],
                   capital_linearised(x1, alpha, True) - capital_linearised(y1, alpha, True)]
        est.append([f.value for f in figures])
        se.append([f.se for f in figures])
    ratio = np.mean(se, axis=0) / np.std(est, axis=0, ddof=1)
    # the spread of 300 replications is itself known to about ±4%
    assert np.all((ratio > 0.85) & (ratio < 1.3)), ratio
