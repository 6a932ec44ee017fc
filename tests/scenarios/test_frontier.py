"""The structure frontier and the premium models (issue 13).

Every frontier row must equal what ``evaluate()`` gives for that structure; the premium
models are checked against their closed forms (quotes reproduced at the quoted limits, the
technical premium recomputed from the programme applied in full).
"""
from __future__ import annotations

import math

import numpy as np
import pytest

import opwb
from opwb import scenarios as sc
from opwb.engine.riskmeasures import var
from opwb.insurance.apply import apply_programme
from opwb.insurance.programme import Programme
from opwb.scenarios.frontier import FRONTIER_KEYS, frontier, template_of
from opwb.scenarios.premium import QuotedPremium, TechnicalPremium

from tests.scenarios.conftest import EOK

N_YEARS = 20_000
DEDUCTIBLES = np.array([5, 30, 100]) * EOK
LIMITS = np.array([50, 400, 1000]) * EOK


@pytest.fixture(scope="module")
def base():
    losses = opwb.load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(opwb.load_programme(opwb.data_path("insurance_programme.csv")))
    return sc.build_scenario_base(losses, prog, include_cd=True, n_years=N_YEARS, seed=11)


@pytest.fixture(scope="module")
def quotes():
    return opwb.load_alternatives(opwb.data_path("bbb_alternatives.csv"))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("premium", ["quotes", "technical"])
def test_every_row_equals_evaluate(base, quotes, premium):
    table = frontier(base, deductibles=DEDUCTIBLES, limits=LIMITS,
                     premium=quotes if premium == "quotes" else "technical")
    assert len(table) == 8                      # 9 pairs less deductible 100억 > limit 50억
    assert not ((table.deductible > table.limit).any())
    tmpl = template_of(base)
    for _, row in table.iterrows():
        res = sc.evaluate(base, tmpl.replace(name=row["name"], deductible=row.deductible,
                                             limit=row.limit, premium=row.premium))
        for key in FRONTIER_KEYS:
            assert _same(row[key], res[key]), (row["name"], key)
            assert _same(row[f"{key}_se"], res[f"{key}_se"]), (row["name"], key)
    name = table.attrs["premium_model"]
    assert (table.premium_model == name).all()
    assert ("rate on line" in name) if premium == "quotes" else ("technical" in name)


def test_quoted_premium_reproduces_the_quotes_and_interpolates_rate_on_line(quotes):
    model = QuotedPremium(quotes)
    for q in quotes:
        assert model(q.deductible, q.limit) == pytest.approx(q.premium, rel=1e-12)
    lo, hi = sorted(quotes, key=lambda q: q.limit)[1:]
    mid = math.sqrt(lo.limit * hi.limit)                 # halfway in log-limit
    rol = (lo.premium / lo.limit + hi.premium / hi.limit) / 2
    assert model(0.0, mid) == pytest.approx(rol * mid, rel=1e-12)
    top = max(quotes, key=lambda q: q.limit)
    assert model(0.0, 2 * top.limit) == pytest.approx(2 * top.premium, rel=1e-12)  # flat ROL


def test_technical_premium_recomputed_from_the_whole_programme(base):
    table = frontier(base, deductibles=[30 * EOK], limits=[400 * EOK], premium="technical")
    alt = template_of(base).replace(deductible=30 * EOK, limit=400 * EOK, premium=0.0)
    prog = base.programme.replace_policy("BBB", **alt.policy_changes())
    ceded = apply_programme(prog, base.sim, seed=base.seed).ceded_by_policy["BBB"]
    mean = ceded.mean()
    expected = mean * 1.25 + 0.06 * (var(ceded, 0.995) - mean)
    assert table.premium.iloc[0] == pytest.approx(expected, rel=1e-9)
    assert TechnicalPremium.for_base(sc.context(base, sc.ScenarioSettings()).bond)(
        30 * EOK, 400 * EOK) == pytest.approx(expected, rel=1e-9)


def test_a_premium_model_the_engine_cannot_use_is_refused(base):
    with pytest.raises(ValueError, match="premium model gave"):
        frontier(base, deductibles=[5 * EOK], limits=[400 * EOK], premium=lambda d, L: -1.0)
    with pytest.raises(ValueError, match="deductible <= limit"):
        frontier(base, deductibles=[500 * EOK], limits=[400 * EOK], premium=1e9)
    with pytest.raises(ValueError, match="limits must be"):
        frontier(base, deductibles=[5 * EOK], limits=[], premium=1e9)
    with pytest.raises(ValueError, match="technical"):
        frontier(base, deductibles=[5 * EOK], limits=[400 * EOK], premium="cheap")
