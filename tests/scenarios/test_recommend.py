"""The recommendation under the risk appetite (issue 13)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import opwb
from opwb import scenarios as sc
from opwb.insurance.programme import Programme
from opwb.scenarios.premium import QuotedPremium
from opwb.scenarios.recommend import recommend

from tests.scenarios.conftest import EOK


def _table(rows):
    """A frontier-like table from (name, premium, net_benefit, se, retained, capital)."""
    t = pd.DataFrame(rows, columns=["name", "premium", "net_benefit", "net_benefit_se",
                                    "retained_if_1in100", "regulatory_net_capital"])
    t["deductible"] = 5 * EOK
    t["limit"] = np.arange(1, len(t) + 1) * 100 * EOK
    for col in ("premium", "net_benefit", "net_benefit_se", "retained_if_1in100",
                "regulatory_net_capital"):
        t[col] = t[col] * EOK
    t["retained_if_1in100_se"] = 5 * EOK
    return t


TABLE = _table([("a", 16, 10.0, 1.0, 600, 11_000), ("b", 40, 30.0, 2.0, 400, 10_900),
                ("c", 70, 35.0, 2.0, 250, 10_500), ("d", 90, 36.0, 30.0, 200, 10_300)])


def test_highest_net_benefit_within_the_appetite():
    assert recommend(TABLE).name == "d"
    r = recommend(TABLE, max_premium=80 * EOK)
    assert r.name == "c" and r.eligible == 3
    assert recommend(TABLE, max_premium=80 * EOK, max_retained_if_1in100=450 * EOK).name == "c"
    r = recommend(TABLE, max_premium=50 * EOK)
    assert r.name == "b" and r.appetite == {"premium": 50 * EOK}
    assert recommend(TABLE, max_net_capital=10_950 * EOK, max_premium=50 * EOK).name == "b"


def test_indistinguishable_structures_are_listed_with_the_upper_bound_error():
    r = recommend(TABLE)                       # d: 36 ± 30 — even a (10 ± 1): 26 < 1.96·31
    assert list(r.indistinguishable.name) == ["d", "c", "b", "a"]
    r = recommend(TABLE, max_premium=80 * EOK)  # c: 35 ± 2; b 30 ± 2: 5 < 1.96·4 = 7.84
    assert list(r.indistinguishable.name) == ["c", "b"]
    assert r.indistinguishable.difference.tolist() == pytest.approx([0.0, -5 * EOK])
    assert not r.paired and any("구별되지 않는" in x for x in r.reasons)


def test_an_appetite_nobody_meets_names_the_binding_ceiling():
    with pytest.raises(ValueError, match=r"max_premium.*lowest any structure reaches is 16억원"):
        recommend(TABLE, max_premium=10 * EOK)
    with pytest.raises(ValueError, match="not all together.*max_premium.*max_retained_if_1in100"):
        recommend(TABLE, max_premium=20 * EOK, max_retained_if_1in100=300 * EOK)
    with pytest.raises(ValueError, match="does not have"):
        recommend(TABLE, ceilings={"p_exhaust": 0.01})
    with pytest.raises(ValueError, match=">= 0"):
        recommend(TABLE, max_premium=-1.0)


def test_reasons_use_correct_particles_and_flag_borderline_ceilings():
    r = recommend(TABLE, max_premium=80 * EOK, max_retained_if_1in100=255 * EOK)
    text = " ".join(r.reasons)
    assert "(는)" not in text and "(를)" not in text
    assert "연간 보험료는 70억원으로 한도 80억원 이내입니다" in text
    assert "경계선" in text                    # 250 within 1.96 · 5 of the ceiling 255


@pytest.fixture(scope="module")
def base():
    losses = opwb.load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(opwb.load_programme(opwb.data_path("insurance_programme.csv")))
    return sc.build_scenario_base(losses, prog, include_cd=True, n_years=20_000, seed=3)


def test_paired_errors_on_the_base_narrow_the_indistinguishable_set(base):
    quotes = opwb.load_alternatives(opwb.data_path("bbb_alternatives.csv"))
    bond = sc.context(base, sc.ScenarioSettings()).bond
    table = opwb.frontier(base, deductibles=np.array([5, 30, 50]) * EOK,
                          limits=np.array([50, 100, 400, 1000]) * EOK,
                          premium=QuotedPremium.with_deductible_credit(quotes, bond))
    paired = recommend(table, base=base, max_premium=70 * EOK)
    bound = recommend(table, max_premium=70 * EOK)
    assert paired.name == bound.name
    best = table.loc[table.premium <= 70 * EOK].sort_values("net_benefit").iloc[-1]
    assert paired.name == best["name"]
    assert set(paired.indistinguishable.name) <= set(bound.indistinguishable.name)
    # the paired error of one listed difference equals difference() recomputed here
    tmpl = sc.template_of(base)
    for _, row in paired.indistinguishable.iloc[1:2].iterrows():
        a = sc.evaluate(base, tmpl.replace(name="x", deductible=row.deductible, limit=row.limit,
                                           premium=row.premium))
        b = sc.evaluate(base, paired.alternative())
        d = sc.difference(base, a, b).loc["net_benefit"]
        assert (row.difference, row.difference_se) == pytest.approx((d["difference"], d["se"]))
    # quotes without an aggregate limit reproduced at the quoted structures; the 2005
    # quote (100억 a year) restated without its aggregate at its own loading, the ratio of
    # expected recoveries recomputed with evaluate(); a higher deductible costs less
    model = QuotedPremium.with_deductible_credit(quotes, bond)
    for q in quotes:
        if np.isfinite(q.aggregate_limit):
            free = q.replace(aggregate_limit=np.inf)
            ratio = (sc.evaluate(base, free).metrics["expected_recovery"]
                     / sc.evaluate(base, q).metrics["expected_recovery"])
            assert ratio > 1.0
            assert model(q.deductible, q.limit) == round(q.premium * ratio / 1e6) * 1e6
            assert model.restated == ((q.name, q.premium, pytest.approx(q.premium * ratio)),)
            assert "연간총한도" in model.name
        else:           # exactly: a 70억 quote must meet a 70억 ceiling
            assert model(q.deductible, q.limit) == q.premium
    assert model(50 * EOK, 400 * EOK) < model(30 * EOK, 400 * EOK) < model(5 * EOK, 400 * EOK)
