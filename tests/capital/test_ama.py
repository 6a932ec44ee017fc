"""AMA capital gross and net of insurance, the 20% cap, and the standard errors of
``capital_summary``.

Goldens: the 20% cap (gross 100, benefit 30 → 80; Basel II para 677 via DOMAIN.md). A quota
share (deductible 0, no limit, coinsurance c) scales net losses by 1 - c exactly, so net VaR
= (1 - c) gross VaR: the benefit is c · K_gross and, the two VaRs being order statistics of
the same years, its paired standard error is c times the gross VaR's.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.capital.ama import apply_cap, capital_summary
from opwb.engine.riskmeasures import var, var_with_se
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy

from .conftest import programme, quota_share

ALPHA = 0.999
NO_NOISE = {"default": False, "delay": False}


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


# -- totals and their standard errors ----------------------------------------------------------

@pytest.mark.parametrize("share, binds", [(0.3, True), (0.1, False)])
def test_quota_share_capital_cap_and_paired_errors(sim, share, binds):
    res = apply_programme(programme(quota_share(share)), sim, seed=1, **NO_NOISE)
    s = capital_summary(res, aggregation="independent")
    for et, row in s.by_event_type.iterrows():
        _, g_se = var_with_se(sim.by_event_type()[et], ALPHA)
        assert row["net_var"] == pytest.approx((1 - share) * row["gross_var"], rel=1e-9)
        assert row["standalone_benefit"] == pytest.approx(share * row["gross_var"], rel=1e-9)
        assert row["standalone_benefit_se"] == pytest.approx(share * g_se, rel=1e-9)
    tot = s.total
    k, k_se = var_with_se(sim.total_gross(), ALPHA)
    assert s.cap.gross == pytest.approx(k) and tot["capital_gross_se"] == pytest.approx(k_se)
    assert s.cap.benefit == pytest.approx(share * k, rel=1e-9)
    assert tot["benefit_se"] == pytest.approx(share * k_se, rel=1e-9)   # not hypot(1, 1-c)
    assert s.cap.binds is binds and bool(tot["cap_binds"]) is binds
    assert s.cap.net == pytest.approx(max(1 - share, 0.8) * k, rel=1e-9)
    # net capital and recognised benefit take the error of the cap branch that applies
    net_se = 0.8 * k_se if binds else (1 - share) * k_se
    rec_se = 0.2 * k_se if binds else share * k_se
    assert tot["capital_net_se"] == pytest.approx(net_se, rel=1e-9)
    assert tot["recognised_benefit_se"] == pytest.approx(rec_se, rel=1e-9)
    assert s.by_policy.loc["QS", "relief"] == pytest.approx(s.cap.recognised_benefit)


def test_sum_total_errors_are_root_sum_of_squares(sim):
    res = apply_programme(programme(quota_share(0.1)), sim, seed=1, **NO_NOISE)
    s = capital_summary(res)
    et, tot = s.by_event_type, s.totals.loc["sum"]
    for col in ("gross_el", "gross_var", "net_var", "gross_es"):
        assert tot[col] == pytest.approx(et[col].sum())
        assert tot[f"{col}_se"] == pytest.approx(math.sqrt((et[f"{col}_se"] ** 2).sum()))
    assert tot["capital_gross"] == pytest.approx(et["standalone_capital_gross"].sum())
    assert tot["capital_gross_se"] == pytest.approx(
        math.sqrt((et["standalone_capital_gross_se"] ** 2).sum()))
    assert tot["benefit_se"] == pytest.approx(math.sqrt((et["standalone_benefit_se"] ** 2).sum()))
    # under "sum" the allocated figures are the stand-alone ones, errors included
    np.testing.assert_allclose(et["capital_gross_se"], et["standalone_capital_gross_se"],
                               rtol=1e-9)
    np.testing.assert_allclose(et["benefit_se"], et["standalone_benefit_se"], rtol=1e-9)


def test_expected_loss_and_its_error(sim):
    s = capital_summary(sim, el_offset=True)
    row = s.by_event_type.loc["IF"]
    x = sim.annual_gross["IF"]
    assert row["gross_el"] == pytest.approx(x.mean())
    assert row["gross_el_se"] == pytest.approx(x.std() / math.sqrt(x.size))
    assert row["standalone_capital_gross"] == pytest.approx(var(x, ALPHA) - x.mean())


def test_every_figure_has_a_standard_error(sim):
    prog = programme(Policy(1e8, 5e9, aggregate_limit=1e10, policy_id="BBB", cover={"IF": 1}))
    res = apply_programme(prog, sim, seed=2)
    s = capital_summary(res, aggregation="copula", correlation=np.eye(3))
    for table in (s.by_event_type, s.totals):
        figures = [c for c in table.columns if not c.endswith(("_se", "_weight", "cap_binds"))]
        for col in figures:
            assert f"{col}_se" in table.columns, col
            assert (table[f"{col}_se"] >= 0).all(), col
    for col in ("benefit", "relief"):
        assert f"{col}_se" in s.by_policy.columns


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
    assert s.by_policy.empty


def test_independent_copula_matches_independent_simulation(sim):
    s = capital_summary(sim, correlation=np.eye(3), seed=3)
    a, b = s.totals.loc["copula"], s.totals.loc["independent"]
    tol = 4 * math.hypot(a["gross_var_se"], b["gross_var_se"])
    assert abs(a["gross_var"] - b["gross_var"]) <= tol


@pytest.mark.parametrize("kw, match", [
    ({"aggregation": "copula"}, "correlation"),
    ({"aggregation": "average"}, "aggregation"),
])
def test_bad_settings(sim, kw, match):
    with pytest.raises(ValueError, match=match):
        capital_summary(sim, **kw)
