"""Capital gross and net of insurance, the 20% cap, and the Basel III standardised approach.

Goldens: the 20% cap (gross 100, benefit 30 → 80; Basel II para 677 via DOMAIN.md); BIC
of a 35bn business indicator = 5.37bn and ILM(LC/BIC = 1, 2, 0.5) = 1, 1.24109, 0.82970
(Basel III OPE25). A quota share (deductible 0, no limit, coinsurance c) scales net losses
by 1 - c exactly, so net VaR = (1 - c) gross VaR: the benefit is c · K_gross.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opwb.capital.ama import apply_cap, capital_summary, copula_totals
from opwb.engine.riskmeasures import var
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

ALPHA = 0.999


# -- the cap ----------------------------------------------------------------------------------

@pytest.mark.parametrize("gross, benefit, net, binds", [
    (100.0, 30.0, 80.0, True),     # DOMAIN.md golden
    (100.0, 10.0, 90.0, False),
    (100.0, 20.0, 80.0, False),    # exactly at the cap
    (100.0, 0.0, 100.0, False),
])
def test_cap_on_insurance_relief(gross, benefit, net, binds):
    r = apply_cap(gross, benefit)
    assert r.net == pytest.approx(net) and r.binds is binds
    assert r.recognised_benefit == pytest.approx(gross - net)
    assert r.floor == pytest.approx(0.8 * gross)


def test_cap_share_is_a_setting():
    assert apply_cap(100.0, 30.0, cap=0.0).net == 100.0
    assert apply_cap(100.0, 30.0, cap=0.5).net == 70.0
    with pytest.raises(ValueError, match="cap"):
        apply_cap(100.0, 30.0, cap=1.5)


def quota_share(c: float) -> Programme:
    return Programme((Policy(0.0, math.inf, coinsurance=c, policy_id="QS"),))


@pytest.mark.parametrize("share, binds", [(0.3, True), (0.1, False)])
def test_quota_share_capital_and_cap(sim, share, binds):
    res = apply_programme(quota_share(share), sim, seed=1, default=False, delay=False)
    s = capital_summary(res)
    for et, row in s.by_event_type.iterrows():
        assert row["net_var"] == pytest.approx((1 - share) * row["gross_var"], rel=1e-9)
    k = s.totals.loc["sum", "capital_gross"]
    assert s.cap.gross == pytest.approx(k)
    assert s.cap.benefit == pytest.approx(share * k, rel=1e-9)
    assert s.cap.binds is binds
    assert s.cap.net == pytest.approx(max(1 - share, 0.8) * k, rel=1e-9)
    assert s.by_event_type["recognised_benefit"].sum() == pytest.approx(s.cap.recognised_benefit)
    assert s.by_policy.loc["QS", "relief"] == pytest.approx(s.cap.recognised_benefit)


def test_totals_sum_independent_and_comonotone_copula(sim):
    gross = sim.by_event_type()
    s = capital_summary(sim, correlation=np.ones((3, 3)), aggregation="copula")
    assert s.totals.loc["sum", "gross_var"] == pytest.approx(
        sum(var(x, ALPHA) for x in gross.values()), rel=1e-12)
    assert s.totals.loc["independent", "gross_var"] == pytest.approx(var(sim.total_gross(), ALPHA))
    # a Gaussian copula with all correlations 1 is comonotone: VaR is additive
    assert s.totals.loc["copula", "gross_var"] == pytest.approx(
        s.totals.loc["sum", "gross_var"], rel=1e-12)
    assert s.cap.benefit == 0.0 and not s.cap.binds                # no insurance: net = gross
    assert s.totals.loc["independent", "gross_var"] <= s.totals.loc["sum", "gross_var"]


def test_independent_copula_matches_independent_simulation(sim):
    s = capital_summary(sim, correlation=np.eye(3), seed=3)
    a, b = s.totals.loc["copula"], s.totals.loc["independent"]
    tol = 4 * math.hypot(a["gross_var_se"], b["gross_var_se"])
    assert abs(a["gross_var"] - b["gross_var"]) <= tol


def test_copula_reordering_keeps_marginals(sim):
    gross = sim.by_event_type()
    net = {k: 0.5 * v for k, v in gross.items()}
    corr = pd.DataFrame(0.5 * np.ones((3, 3)) + 0.5 * np.eye(3), index=list(gross),
                        columns=list(gross))
    g, n = copula_totals(gross, net, corr, seed=1)
    assert g.sum() == pytest.approx(sim.total_gross().sum())
    np.testing.assert_allclose(n, 0.5 * g)                          # years stay together


def test_expected_loss_offset(sim):
    s = capital_summary(sim, el_offset=True)
    row = s.by_event_type.loc["IF"]
    assert row["capital_gross"] == pytest.approx(row["gross_var"] - row["gross_el"])
    assert row["gross_el"] == pytest.approx(sim.annual_gross["IF"].mean())


def test_relief_by_policy_adds_up(sim):
    prog = Programme((Policy(1e8, 5e9, aggregate_limit=1e10, policy_id="BBB", cover={"IF": 1}),
                      Policy(5e7, 2e9, policy_id="ECC", cover={"EF": 0.5}),
                      Policy(1e12, 1e9, policy_id="NEVER", cover={"DPA": 1})))
    res = apply_programme(prog, sim, seed=2)
    s = capital_summary(res)
    assert s.by_policy["relief"].sum() == pytest.approx(s.cap.recognised_benefit)
    assert s.by_policy.loc["NEVER", "relief"] == 0.0
    assert s.by_policy["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize("corr, match", [
    (np.ones((2, 2)), "3x3"),
    (np.array([[1, .9, 0], [.9, 1, .9], [0, .9, 1]]), "positive semi-definite"),
    (np.array([[1, .5, 0], [.4, 1, 0], [0, 0, 1]]), "symmetric"),
    (2 * np.eye(3), "unit diagonal"),
])
def test_bad_correlation(sim, corr, match):
    with pytest.raises(ValueError, match=match):
        capital_summary(sim, correlation=corr)


def test_copula_needs_correlation(sim):
    with pytest.raises(ValueError, match="correlation"):
        capital_summary(sim, aggregation="copula")
