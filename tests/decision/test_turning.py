"""What decides the answer beyond the frontier (issue 21, item 3): the severity cap, the
payment-delay and the insurer-default assumptions.

Every check recomputes by another path: the net benefit of every structure by applying the
whole programme (:func:`opwb.insurance.apply_programme` with the other delay or default,
:func:`opwb.capital.capital_summary`) instead of the bond's fast path; the capped worlds
against the stored years (a lower cap is ``min(loss, cap)`` of the same draws); the argmax
at the reported value and at the value tried before it.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from opwb.decision.robust import eligible_mask
from opwb.decision.turning import (CAP_MULTIPLES, DEFAULT_SCALES, DELAY_PROBABILITIES, LABELS,
                                   base_at_cap, frontier_under, turning_for, world_models)
from opwb.scenarios.answer import structure_ko
from opwb.scenarios.bond import DELAY_PROBABILITY, PaymentAssumptions
from tests.decision.test_predictive import answer, predictive, robust  # noqa: F401 (fixtures)



def _net_benefits(base, table, settings, assumptions: PaymentAssumptions, rows):
    """Net benefit of frontier rows ``rows`` by applying the whole programme with the bond
    set to each (the slow path), under ``assumptions``."""
    from opwb.capital import capital_summary
    from opwb.insurance import apply_programme, view_haircuts
    from opwb.scenarios.recommend import _alternative
    opts = assumptions.programme_options()

    def net_capital(prog):
        hc = view_haircuts(prog, "regulatory", valuation_date=settings.valuation_date,
                           convention=settings.haircut_convention)
        reg = apply_programme(prog, base.sim, seed=base.seed, haircuts=hc, **opts)
        return capital_summary(reg, alpha=settings.alpha,
                               aggregation=settings.aggregation).cap.net, reg

    baseline, _ = net_capital(base.programme.replace_policy(base.bond_policy, limit=0.0))
    out = {}
    for i in rows:
        alt = _alternative(table.loc[i])
        net, reg = net_capital(base.programme.replace_policy(base.bond_policy,
                                                             **alt.policy_changes()))
        recovery = float(reg.ceded_by_policy[base.bond_policy].mean())
        out[i] = recovery - alt.premium + settings.cost_of_capital * (baseline - net)
    return out


def _argmax(table, ok, nb: dict) -> str:
    i = max((i for i in nb if ok[i]), key=lambda i: nb[i])
    return structure_ko(table.at[i, "deductible"], table.at[i, "limit"])


def _row(turns, kind):
    got = turns[turns["가정"] == LABELS[kind]]
    assert len(got) >= 1, turns
    return got


def test_payment_assumptions_re_apply_the_whole_programme(robust):
    """The bond's fast path under another delay and default equals applying the whole
    programme with them (net benefit, recognised recovery, net capital)."""
    base = robust.bases[True]
    ans = robust.answer
    table = ans.frontiers[True].reset_index(drop=True)
    settings = ans.spec.settings
    a = PaymentAssumptions(delay_probability=0.3, default_scale=100.0)
    got, _ = frontier_under(base, table, settings, a)
    rows = [0, len(table) // 2, len(table) - 1]
    slow = _net_benefits(base, table, settings, a, rows)
    for i in rows:
        assert got.at[i, "net_benefit"] == pytest.approx(slow[i], rel=1e-9, abs=1.0)
        assert got.at[i, "premium"] == table.at[i, "premium"]
    # the assumption moves the figures: more late and defaulted payments, less relief
    assert (got["bond_regulatory_relief"] <= table["bond_regulatory_relief"] + 1.0).all()
    assert (got["bond_regulatory_relief"] < table["bond_regulatory_relief"]).any()
    # contractual payments do not depend on when or whether they are paid
    np.testing.assert_allclose(got["expected_recovery"], table["expected_recovery"], rtol=1e-12)
    with pytest.raises(ValueError, match="default_scale"):
        PaymentAssumptions(default_scale=0.5)


@pytest.mark.parametrize("kind", ["delay", "default"])
def test_the_reported_turning_value_is_where_the_argmax_changes(robust, kind):
    """At the value the row reports the best structure within the appetite is the one the
    row names, and at the value tried before it (nearer to today's) still the
    recommendation; a row that says "바뀌지 않음" holds at every value tried. The frontier
    is evaluated again at each value, and the winner, the recommendation and the runner-up
    are recomputed by applying the whole programme."""
    base = robust.bases[True]
    ans = robust.answer
    rec = ans.recommendations[True]
    table = ans.frontiers[True].reset_index(drop=True)
    settings = ans.spec.settings
    turns = robust.what_decides(True)
    now, grid = ((DELAY_PROBABILITY, DELAY_PROBABILITIES) if kind == "delay"
                 else (1.0, DEFAULT_SCALES))
    make = ((lambda v: PaymentAssumptions(delay_probability=v)) if kind == "delay"
            else (lambda v: PaymentAssumptions(default_scale=v)))
    here = structure_ko(rec.deductible, rec.limit)

    def best_at(v) -> str:
        got, _ = frontier_under(base, table, settings, make(v))
        ok = eligible_mask(got, ans.appetite)
        order = np.argsort(-got["net_benefit"].where(ok, -np.inf).to_numpy(), kind="stable")
        top = [int(i) for i in order[:2]]
        mine = int(np.flatnonzero((table["deductible"] == rec.deductible)
                                  & (table["limit"] == rec.limit))[0])
        slow = _net_benefits(base, table, settings, make(v), sorted({*top, mine}))
        for i, x in slow.items():
            assert got.at[i, "net_benefit"] == pytest.approx(x, rel=1e-9, abs=1.0)
        return _argmax(table, ok, slow)

    checked = 0
    for _, r in _row(turns, kind).iterrows():
        text = r["권고가 바뀌는 값"]
        ties = "오차 안에서 같은 다른 구조" in text
        if "바뀌지 않음" in text:
            assert r["바뀐 권고"] == "같음"
            bests = [best_at(v) for v in grid]
            # another structure on top anywhere only as a tie the row names
            assert all(b == here for b in bests) or ties, (bests, text)
            checked += 1
            continue
        if kind == "delay":
            v = float(re.match(r"(\d+)%", text).group(1)) / 100
        else:
            v = 0.0 if text.startswith("0 ") else float(re.match(r"× ([\d.]+)", text).group(1))
        side = sorted([g for g in grid if (g - now) * (v - now) > 0], key=lambda g: abs(g - now))
        assert v in side
        before = side[side.index(v) - 1] if side.index(v) else now
        new = best_at(v)
        assert new != here and r["바뀐 권고"].startswith(new)
        # the first change beyond the simulation's error (nearer values keep the answer, or
        # put another structure on top only within the error, which the row then names)
        assert best_at(before) == here or ties
        assert "순편익 차이 연" in r["바뀐 권고"] and "모의실험 오차보다 큼" in r["바뀐 권고"]
        checked += 1
    assert checked >= 1


def test_a_lower_cap_is_the_minimum_of_the_same_draws_and_the_cap_itself_reproduces(
        robust):
    """The predictive worlds simulated again: at the case's cap their pooled years are the
    stored ones, bit for bit; at half the cap every stored loss is min(loss, cap/2) of the
    same event, and each year's gross falls by exactly what the cap cut off."""
    base = robust.bases[True]
    weights, worlds = robust.weights[True], robust.worlds[True]
    same = base_at_cap(base, weights, worlds.families, worlds.n_worlds, base.severity_cap)
    for c, a in base.sim.annual_gross.items():
        np.testing.assert_array_equal(same.sim.annual_gross[c], a)
        np.testing.assert_array_equal(same.sim.events[c].loss, base.sim.events[c].loss)
    half = 0.5 * base.severity_cap
    low = base_at_cap(base, weights, worlds.families, worlds.n_worlds, half)
    assert low.severity_cap == half
    n = base.n_years
    for c, ev in base.sim.events.items():
        if ev.keep_above > half:             # a cell whose losses are not all stored
            continue
        new = low.sim.events[c]
        np.testing.assert_array_equal(new.event_id, ev.event_id)
        np.testing.assert_array_equal(new.loss, np.minimum(ev.loss, half))
        cut = np.bincount(ev.year, np.maximum(ev.loss - half, 0.0), minlength=n)
        np.testing.assert_allclose(base.sim.annual_gross[c] - low.sim.annual_gross[c], cut,
                                   rtol=1e-12, atol=1e-3 * half * 1e-6)


def test_the_cap_row_is_where_the_argmax_changes_on_the_capped_worlds(robust):
    """The severity-cap row: the worlds simulated again under each cap tried, the frontier
    re-evaluated there (every structure at the stored premium): the best structure within
    the appetite changes first where the row says, to what it says."""
    base = robust.bases[True]
    ans = robust.answer
    rec = ans.recommendations[True]
    table = ans.frontiers[True].reset_index(drop=True)
    settings = ans.spec.settings
    weights, worlds = robust.weights[True], robust.worlds[True]
    models = world_models(base, weights, worlds.families, worlds.n_worlds)
    here = structure_ko(rec.deductible, rec.limit)
    best, beyond = {}, {}
    from opwb.scenarios.evaluation import difference, evaluate_many
    from opwb.scenarios.recommend import _alternative
    for m in CAP_MULTIPLES:
        if m is None:
            with pytest.raises(ValueError, match="infinite mean"):
                base_at_cap(base, weights, worlds.families, worlds.n_worlds, None,
                            models=models)
            continue
        capped = base_at_cap(base, weights, worlds.families, worlds.n_worlds,
                             m * base.severity_cap, models=models)
        got, work = frontier_under(capped, table, settings)
        ok = eligible_mask(got, ans.appetite)
        nb = got["net_benefit"].where(ok, -np.inf)
        i = int(np.argmax(nb.to_numpy()))
        best[m] = structure_ko(got.at[i, "deductible"], got.at[i, "limit"])
        if best[m] != here:     # the paired difference on the capped years, recomputed
            j = int(np.flatnonzero((table["deductible"] == rec.deductible)
                                   & (table["limit"] == rec.limit))[0])
            ra, rb = evaluate_many(work, [_alternative(got.loc[i]), _alternative(got.loc[j])],
                                   settings)
            d = difference(work, ra, rb, settings, keys=("net_benefit",)).loc["net_benefit"]
            beyond[m] = abs(d["difference"]) > 1.96 * d["se"]
    turns = _row(robust.what_decides(True), "cap")
    expect = {}
    for side in ([m for m in (0.5, 0.25)], [m for m in (2.0, 5.0)]):
        first = next((m for m in side if best[m] != here and beyond[m]), None)
        if first is not None:
            expect[first] = best[first]
    if not expect:
        assert len(turns) == 1 and turns.iloc[0]["바뀐 권고"] == "같음"
        assert "바뀌지 않음" in turns.iloc[0]["권고가 바뀌는 값"]
        assert "상한 없음: 평균이 무한한 손실분포" in turns.iloc[0]["권고가 바뀌는 값"]
        return
    shown = {float(re.search(r"\(([\d.]+)배\)", r["권고가 바뀌는 값"]).group(1)):
             r["바뀐 권고"] for _, r in turns.iterrows()}
    assert set(shown) == set(expect)
    for m, name in expect.items():
        assert shown[m].startswith(name)


def test_the_grids_are_stored_with_the_predictive_bases(robust):
    """What a page reads is what was computed: the stored grids hold every value tried, and
    at today's assumptions the frontier is the answer's own."""
    stored, decoded = turning_for(robust, True)
    assert [p["value"] for p in stored["kinds"]["delay"]] == list(DELAY_PROBABILITIES)
    assert [p["value"] for p in stored["kinds"]["default"]] == list(DEFAULT_SCALES)
    cap = robust.bases[True].severity_cap
    assert [p["value"] for p in stored["kinds"]["cap"]] == \
        [None if m is None else m * cap for m in CAP_MULTIPLES]
    assert decoded["cap"][-1]["frontier"] is None            # no cap: infinite means
    assert len(decoded["delay"][0]["frontier"]) == len(robust.answer.frontiers[True])



def test_the_threshold_row_is_the_fitted_models_choice_refitted_above_twice_the_threshold():
    """The threshold row (issue 21 item 3): the chosen families re-estimated above 2× the
    case's threshold are the maximum-likelihood fits there (log-likelihood at least that of
    the case's fitted parameters on the same losses), and the row names the change exactly
    when the recommendation's rule picks another structure on the two stored frontiers."""
    import numpy as np
    from opwb.data.case import bundled_case
    from opwb.data.schema import collected
    from opwb.decision.predictive import _frame_from
    from opwb.decision.turning import LABELS, _threshold_rows, best_under, threshold_data
    from opwb.fitting.modelset import refit_families
    from opwb.scenarios.answer import premium_model_for, structure_ko
    from opwb.scenarios.base import without_incidents
    from opwb.scenarios.spec import case_inputs, scenario_bases, spec_for
    case = bundled_case()
    losses, _, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    plug = scenario_bases(spec, case=case)[True]
    u = plug.model_set.threshold
    points = threshold_data(plug, losses, spec.settings,
                            lambda b: premium_model_for(b, quotes, spec),
                            spec.deductibles, spec.limits)
    [p] = points
    assert p["value"] == 2 * u and p["now"] == u and p["frontier"] is not None
    data = without_incidents(losses, plug.incidents, True)
    data.attrs.update(losses.attrs)
    refit = refit_families(plug.model_set, data, 2 * u)
    for cell, m in plug.model_set.items():
        x = data.loc[(data["event_type"] == cell) & collected(data["gross_loss"], 2 * u),
                     "gross_loss"].to_numpy(float)
        fit = refit[cell].severity
        assert fit.family == m.severity.family and fit.threshold == 2 * u
        assert np.isfinite(fit.loglik) and fit.n == x.size, cell
        if "shifted" not in fit.family:     # the case's parameters, truncated at 2u
            old = m.severity
            at_old = float(np.sum(old.logpdf(x)) - x.size * old.logsf(2 * u))
            assert fit.loglik >= at_old - 1e-6 * abs(at_old), cell
    frontier, reference = _frame_from(p["frontier"]), _frame_from(p["reference"])
    appetite = spec.appetite
    decoded = dict(p, frontier=frontier, reference=reference)
    [row] = _threshold_rows([decoded], appetite, LABELS["threshold"])
    ref, got = best_under(reference, appetite), best_under(frontier, appetite)
    if got == ref:
        assert row[3].startswith("같음")
    else:
        assert structure_ko(*got) in row[3] and structure_ko(*ref) in row[3]
    assert "적합 모형 기준" in row[2] and "2배" in row[2]
