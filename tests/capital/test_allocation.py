"""Allocation of a total's capital and relief to event types and policies (issue 11: the
event-type relief summed to 72.3억 against a total of 16.1억 under "independent").

Expected allocations are recomputed here from the simulated years with the engine's ``var``:
gross capital pro rata to stand-alone VaR, benefit and recognised benefit pro rata to the
stand-alone benefits; quota shares make the stand-alone benefits ``c · VaR``. A hand-made
layered programme (primary 5억, excess 10억 xs 5억) over losses 1..1000억 gives the split
between policies by hand: in the ten tail years both layers pay in full, 1/3 : 2/3.
"""
from __future__ import annotations

import numpy as np
import pytest

from opwb.capital.ama import capital_summary
from opwb.capital.copula import copula_orders
from opwb.engine.riskmeasures import var
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy

from .conftest import make_sim, programme, quota_share

ALPHA = 0.999
NO_NOISE = {"default": False, "delay": False}
RHO = np.array([[1.0, 0.4], [0.4, 1.0]])
AGGREGATIONS = ("sum", "independent", "copula")
ADDITIVE = ("capital_gross", "capital_net_modelled", "benefit", "recognised_benefit",
            "capital_net")


def _totals(aggregation, arrays, orders):
    """The total sample of the aggregation (None for "sum")."""
    if aggregation == "independent":
        return sum(arrays.values())
    if aggregation == "copula":
        return sum(x[orders[et]] for et, x in arrays.items())
    return None


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_two_quota_shares_allocate_by_hand(sim2, aggregation):
    c = {"IF": 0.3, "EF": 0.1}
    prog = programme(quota_share(c["IF"], "BBB", IF=1.0), quota_share(c["EF"], "ECC", EF=1.0))
    res = apply_programme(prog, sim2, seed=0, **NO_NOISE)
    s = capital_summary(res, aggregation=aggregation, correlation=RHO, seed=5)
    g = sim2.by_event_type()
    n = {et: (1 - c[et]) * g[et] for et in g}
    k = {et: var(g[et], ALPHA) for et in g}                     # stand-alone gross capital
    b = {et: c[et] * k[et] for et in g}                         # stand-alone benefit
    orders = copula_orders(g, RHO, seed=5)
    g_tot, n_tot = _totals(aggregation, g, orders), _totals(aggregation, n, orders)
    K = sum(k.values()) if g_tot is None else var(g_tot, ALPHA)
    B = sum(b.values()) if g_tot is None else K - var(n_tot, ALPHA)
    R = min(B, 0.2 * K)
    et = s.by_event_type
    for name in g:
        assert et.loc[name, "standalone_capital_gross"] == pytest.approx(k[name], rel=1e-12)
        assert et.loc[name, "standalone_benefit"] == pytest.approx(b[name], rel=1e-9)
        assert et.loc[name, "capital_gross"] == pytest.approx(K * k[name] / sum(k.values()),
                                                              rel=1e-9)
        share = b[name] / sum(b.values())
        assert et.loc[name, "benefit"] == pytest.approx(B * share, rel=1e-6)
        assert et.loc[name, "recognised_benefit"] == pytest.approx(R * share, rel=1e-6)
        assert et.loc[name, "capital_net"] == pytest.approx(
            K * k[name] / sum(k.values()) - R * share, rel=1e-6)
    # each policy covers one event type: its relief is that event type's
    assert s.by_policy.loc["BBB", "relief"] == pytest.approx(et.loc["IF", "recognised_benefit"])
    assert s.by_policy.loc["ECC", "relief"] == pytest.approx(et.loc["EF", "recognised_benefit"])
    assert s.by_policy["relief"].sum() == pytest.approx(R, rel=1e-6)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_one_quota_share_on_everything(sim2, aggregation):
    """net = 0.7 gross for every event type and total: benefit 0.3 K, the cap gives 0.2 K,
    and every event type gets those fractions of its allocated gross capital."""
    res = apply_programme(programme(quota_share(0.3)), sim2, seed=0, **NO_NOISE)
    s = capital_summary(res, aggregation=aggregation, correlation=RHO, seed=5)
    et = s.by_event_type
    assert s.cap.binds
    np.testing.assert_allclose(et["benefit"], 0.3 * et["capital_gross"], rtol=1e-6)
    np.testing.assert_allclose(et["recognised_benefit"], 0.2 * et["capital_gross"], rtol=1e-6)
    np.testing.assert_allclose(et["capital_net"], 0.8 * et["capital_gross"], rtol=1e-6)


@pytest.mark.parametrize("aggregation", AGGREGATIONS)
def test_every_allocated_column_adds_up(sim, aggregation):
    prog = programme(Policy(1e8, 5e9, aggregate_limit=1e10, policy_id="BBB", cover={"IF": 0.8}),
                     Policy(2e8, 2e10, policy_id="XS", cover={"IF": 1.0}, follows="BBB"),
                     Policy(5e7, 2e9, policy_id="ECC", cover={"EF": 0.5}),
                     Policy(1e12, 1e9, policy_id="NEVER", cover={"DPA": 1}))
    res = apply_programme(prog, sim, seed=2)
    s = capital_summary(res, aggregation=aggregation, correlation=np.eye(3) * 0.7 + 0.3)
    et, tot = s.by_event_type, s.total
    for col in ADDITIVE:
        assert et[col].sum() == pytest.approx(tot[col], rel=1e-9), col
    assert tot["capital_net"] == pytest.approx(s.cap.net)
    assert et.loc["DPA", "benefit"] == 0.0 and et.loc["DPA", "recognised_benefit"] == 0.0
    assert s.by_policy["relief"].sum() == pytest.approx(s.cap.recognised_benefit, rel=1e-9)
    assert s.by_policy["benefit"].sum() == pytest.approx(s.cap.benefit, rel=1e-9)
    assert s.by_policy.loc["NEVER", "relief"] == 0.0
    assert s.by_policy["share"].sum() == pytest.approx(1.0)
    assert s.policy_split.loc["DPA", "basis"] == "no recoveries"
    split = s.policy_split.drop(columns="basis")
    np.testing.assert_allclose(split.loc[["IF", "EF"]].sum(axis=1), 1.0)


def _layered():
    """IF: one loss of t억 in year t = 1..1000; EF (uninsured): a permutation of 1..1000 천만원."""
    n = 1000
    years = np.arange(n)
    sim = make_sim({"IF": (years, (years + 1) * 1e8),
                    "EF": (years, ((years * 37) % n + 1) * 1e7)}, n)
    prog = programme(Policy(0.0, 5e8, policy_id="P1", cover={"IF": 1.0}),
                     Policy(0.0, 1e9, policy_id="P2", cover={"IF": 1.0}, follows="P1"))
    return sim, apply_programme(prog, sim, seed=0, **NO_NOISE)


@pytest.mark.parametrize("aggregation", ["sum", "independent"])
def test_layers_split_by_hand(aggregation):
    sim, res = _layered()
    s = capital_summary(res, alpha=0.99, aggregation=aggregation)
    et = s.by_event_type
    # stand-alone: VaR 99% of 1..1000억 is 990억; every loss ≥ 15억 is reduced by 15억
    assert et.loc["IF", "standalone_capital_gross"] == 990e8
    assert et.loc["IF", "standalone_benefit"] == 15e8
    assert et.loc["EF", "standalone_benefit"] == 0.0
    # the ten tail years (loss 991..1000억): P1 pays 5억 and P2 10억 in each
    assert s.policy_split.loc["IF", "P1"] == pytest.approx(1 / 3)
    assert s.policy_split.loc["IF", "P2"] == pytest.approx(2 / 3)
    assert s.policy_split.loc["IF", "basis"] == "tail years"
    B = s.cap.benefit                                  # all of it belongs to IF (EF uninsured)
    assert et.loc["IF", "benefit"] == pytest.approx(B) and et.loc["EF", "benefit"] == 0.0
    assert s.by_policy.loc["P1", "relief"] == pytest.approx(B / 3)
    assert s.by_policy.loc["P2", "relief"] == pytest.approx(2 * B / 3)
    if aggregation == "sum":
        assert B == 15e8
    else:
        total = sim.total_gross()
        K = var(total, 0.99)
        assert s.cap.gross == K
        assert et.loc["IF", "capital_gross"] == pytest.approx(K * 990e8 / (990e8 + 990e7))
        net = total - res.annual_recovery
        assert B == pytest.approx(K - var(net, 0.99))


def test_negative_stand_alone_benefit_with_el_offset_is_kept():
    """With el_offset the benefit is ΔVaR − ΔEL: a cover of the body (ten 10억 losses a year)
    lowers EL by far more than the 99% VaR, set by 15 years with one 1조원 loss. By hand:
    ΔVaR = 10억 (the limit), ΔEL = (985·100억 + 15·10억)/1000 = 98.65억, benefit −88.65억;
    it is reported as such (net capital above gross), not clipped."""
    n = 1000
    body = np.repeat(np.arange(985), 10)
    years = np.concatenate([body, np.arange(985, n)])
    losses = np.concatenate([np.full(body.size, 1e9), np.full(15, 1e12)])
    sim = make_sim({"IF": (years, losses)}, n)
    res = apply_programme(programme(Policy(0.0, 1e9, policy_id="BODY", cover={"IF": 1.0})),
                          sim, seed=0, **NO_NOISE)
    s = capital_summary(res, alpha=0.99, el_offset=True)
    row = s.by_event_type.loc["IF"]
    assert row["standalone_capital_gross"] == pytest.approx(1e12 - 24.85e9)
    assert row["standalone_benefit"] == pytest.approx(1e9 - 9.865e9)
    assert s.cap.benefit == pytest.approx(-8.865e9) and s.cap.net > s.cap.gross
    assert row["recognised_benefit"] == pytest.approx(s.cap.recognised_benefit)
    assert s.by_policy.loc["BODY", "relief"] == pytest.approx(-8.865e9)
