"""Insurance policies, programmes and their application to simulated events.

Golden numbers: the seed deck's worked BBB example (slide 1-4) and the 2005 CD incident
under the BBB then in force (DOMAIN.md). Invariants: ceded + retained = gross, recoveries
within limits, ceded never falls as a limit rises. Stochastic elements are checked
against their probabilities within 4 binomial standard errors.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.data.errors import DataError
from opwb.data.units import EOK
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import RATING_DEFAULT_PROBABILITY, Policy, default_probability
from opwb.insurance.programme import Programme

from tests.insurance.conftest import NO_NOISE, make_sim

# -- golden examples ----------------------------------------------------------------------

@pytest.mark.parametrize("deductible, limit, recovered, retained", [
    (30, 400, 400, 600),    # seed slide 1-4, case 2
    (50, 1000, 950, 50),    # seed slide 1-4, case 3
    (5, 50, 50, 950),
])
def test_seed_worked_example(deductible, limit, recovered, retained):
    loss = 1000 * EOK
    r = Policy(deductible=deductible * EOK, limit=limit * EOK).recover([loss])
    assert r[0] == pytest.approx(recovered * EOK)
    assert loss - r[0] == pytest.approx(retained * EOK)


def test_cd_incident_under_2005_bbb():
    # 650억 CD fraud, BBB limit 50억 / deductible 5억 → 50억 recovered (DOMAIN.md)
    bbb = Policy(deductible=5 * EOK, limit=50 * EOK, policy_id="BBB", cover={"IF": 1.0})
    assert bbb.recover([650 * EOK])[0] == pytest.approx(50 * EOK)
    sim = make_sim({"IF": ([0], [650 * EOK])}, n_years=1)
    res = apply_programme(Programme((bbb,)), sim, seed=1, **NO_NOISE)
    assert res.recovery_by_policy["BBB"][0] == pytest.approx(50 * EOK)
    assert res.annual_net[0] == pytest.approx(600 * EOK)


def test_seed_example_through_programme():
    sim = make_sim({"IF": ([0], [1000 * EOK])}, n_years=1)
    for d, lim, rec in ((30, 400, 400), (50, 1000, 950)):
        pol = Policy(d * EOK, lim * EOK, policy_id="BBB")
        res = apply_programme(pol, sim, seed=3, **NO_NOISE)
        assert res.annual_recovery[0] == pytest.approx(rec * EOK)
        assert res.annual_net[0] == pytest.approx((1000 - rec) * EOK)


def test_recover_is_the_layer_formula():
    x = np.linspace(0, 100, 1001)
    got = Policy(deductible=10, limit=30, coinsurance=0.8).recover(x)
    expected = np.where(x <= 10, 0, np.where(x >= 40, 24, 0.8 * (x - 10)))
    np.testing.assert_allclose(got, expected, atol=1e-12)


# -- validation ---------------------------------------------------------------------------

@pytest.mark.parametrize("changes, field", [
    ({"deductible": -1.0}, "deductible"),
    ({"limit": -5.0}, "limit"),
    ({"cover": {"IF": 1.5}}, "cover_IF"),
    ({"cover": {"EF": -0.1}}, "cover_EF"),
    ({"cover": {"XX": 0.5}}, "cover"),
    ({"inception": "2007-01-01", "expiry": "2006-01-01"}, "expiry"),
    ({"insurer_rating": None}, "insurer_rating"),
    ({"insurer_rating": ""}, "insurer_rating"),
    ({"insurer_rating": float("nan")}, "insurer_rating"),
    ({"insurer_rating": "Z+"}, "insurer_rating"),
    ({"coinsurance": 0.0}, "coinsurance"),
    ({"aggregate_limit": -1.0}, "aggregate_limit"),
])
def test_bad_policy_names_policy_and_field(changes, field):
    kwargs = dict(deductible=1.0, limit=10.0, policy_id="BBB-2005")
    kwargs.update(changes)
    with pytest.raises(DataError) as info:
        Policy(**kwargs)
    msg = str(info.value)
    assert "BBB-2005" in msg and f"'{field}'" in msg


def test_bad_programme_frame_reports_every_problem():
    frame = pd.DataFrame([
        dict(policy_id="OK", insurer_rating="AA", deductible=1e8, limit=1e9, cover_IF=1.0,
             inception=pd.Timestamp("2006-01-01"), expiry=pd.Timestamp("2007-01-01")),
        dict(policy_id="BAD", insurer_rating=None, deductible=-1e8, limit=1e9, cover_IF=1.2,
             inception=pd.Timestamp("2006-01-01"), expiry=pd.Timestamp("2005-01-01")),
    ])
    with pytest.raises(DataError) as info:
        Programme.from_frame(frame)
    problems = info.value.problems
    assert {p.column for p in problems} == {"insurer_rating", "deductible", "cover_IF", "expiry"}
    assert all("BAD" in str(p) for p in problems)


def test_unknown_event_type_column_in_frame():
    frame = pd.DataFrame([dict(policy_id="P1", deductible=0.0, limit=1.0, cover_XYZ=0.5)])
    with pytest.raises(DataError, match=r"P1.*unknown event type 'XYZ'"):
        Programme.from_frame(frame)


def test_bundled_programme_loads():
    from opwb import data_path
    from opwb.data.programme_table import load_programme
    prog = Programme.from_frame(load_programme(data_path("insurance_programme.csv")))
    bbb = prog["BBB"]
    assert (bbb.deductible, bbb.limit) == (5 * EOK, 50 * EOK)   # the seed's 2005 BBB
    assert bbb.covers("IF|RB") == pytest.approx(0.9)
    assert prog.to_frame()["policy_id"].tolist() == list(prog.ids)


def test_programme_rules():
    a = Policy(0, 1, policy_id="A", cover={"IF": 0.7})
    with pytest.raises(DataError, match="duplicate"):
        Programme((a, a))
    with pytest.raises(DataError, match="sum to 1.4"):
        Programme((a, Policy(0, 1, policy_id="B", cover={"IF": 0.7})))
    with pytest.raises(DataError, match="not an earlier policy"):
        Programme((Policy(0, 1, policy_id="B", follows="A"), a))
    prog = Programme((a, Policy(0, 1, policy_id="B", cover={"IF": 0.3}),
                      Policy(0, 1, policy_id="C", cover={"IF": 0.7}, follows="A")))
    assert prog.cover_intervals("IF") == {"A": (0.0, 0.7), "B": (0.7, 1.0), "C": (0.0, 0.7)}
    assert prog.replace_policy("A", limit=5.0)["A"].limit == 5.0
    with pytest.raises(KeyError):
        prog.replace_policy("Z", limit=1.0)


def test_default_probability_table():
    assert default_probability("A", floor=0.0) == RATING_DEFAULT_PROBABILITY["A"]
    assert default_probability("AAA") == 0.0003          # Basel IRB floor
    probs = [RATING_DEFAULT_PROBABILITY[r] for r in RATING_DEFAULT_PROBABILITY]
    assert probs == sorted(probs)                       # worse rating, higher PD
