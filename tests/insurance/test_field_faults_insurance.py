"""Issue 22, item 11: excess layers in market notation.

A tower as insurers write it — primary ``30 xs 20``, excess ``50 xs 50``, attachments from the
ground up — must pay what the market means, in the API (``Policy(attachment=...)``) and in the
programme file (an ``attachment`` column, or ``L xs A`` in a ``layer`` or ``limit`` cell),
exactly as opwb's own convention (the excess written with the primary's deductible and
``follows``) pays; and the row that reads as both or neither is refused.

The issue's figures: in one year with events of 103.7, 80 and 56 (억), the market's excess
``50 xs 50`` pays 50 + 30 + 6 = 86.0 (``min(max(X − 50, 0), 50)``); written with the market's
attachment in opwb's ``deductible`` (``deductible=50, follows=primary``) it was measured above
the primary's 30 and attached at 80, paying 23.7 + 0 + 0 = 23.7 — silently. Payouts below are
worked by hand from the layer formula ``c · min(max(X − A, 0), L)``.
"""
from __future__ import annotations

import numpy as np
import pytest

from opwb.data.errors import DataError
from opwb.data.programme_table import load_programme
from opwb.data.schema import COVER_COLUMNS, PROGRAMME_COLUMNS
from opwb.data.terms import TowerLayer, ground_up_bands, tower_problems
from opwb.data.units import EOK
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

from tests.insurance.conftest import NO_NOISE, make_sim

# year 0: the three events; year 1: below the primary, inside it, above the tower
LOSSES = [103.7, 80.0, 56.0, 15.0, 35.0, 250.0]
YEARS = [0, 0, 0, 1, 1, 1]
PRIMARY = [30.0, 30.0, 30.0, 0.0, 15.0, 30.0]    # min(max(X − 20, 0), 30)
EXCESS = [50.0, 30.0, 6.0, 0.0, 0.0, 50.0]       # min(max(X − 50, 0), 50)


def sim_of(losses=LOSSES, years=YEARS, unit=EOK):
    return make_sim({"IF": (years, np.asarray(losses) * unit)}, n_years=max(years) + 1)


def paid(programme, sim, unit=EOK):
    res = apply_programme(programme, sim, seed=0, keep_events=True, **NO_NOISE)
    events = {k: v / unit for (k, _), v in res.event_ceded_by_policy.items()}
    annual = {k: v / unit for k, v in res.ceded_by_policy.items()}
    return events, annual, res


MARKET = Programme((Policy(attachment=20 * EOK, limit=30 * EOK, policy_id="P"),
                    Policy(attachment=50 * EOK, limit=50 * EOK, policy_id="X", follows="P")))
OPWB = Programme((Policy(deductible=20 * EOK, limit=30 * EOK, policy_id="P"),
                  Policy(deductible=20 * EOK, limit=50 * EOK, policy_id="X", follows="P")))


# -- the API ------------------------------------------------------------------------------------

def test_market_tower_pays_the_hand_computed_layers():
    events, annual, res = paid(MARKET, sim_of())
    np.testing.assert_allclose(events["P"], PRIMARY, rtol=1e-12)
    np.testing.assert_allclose(events["X"], EXCESS, rtol=1e-12)
    np.testing.assert_allclose(annual["X"], [86.0, 50.0], rtol=1e-12)     # not 23.7
    np.testing.assert_allclose(annual["P"], [90.0, 45.0], rtol=1e-12)
    np.testing.assert_allclose(res.annual_net / EOK, [239.7 - 176.0, 300.0 - 95.0], rtol=1e-12)


def test_both_notations_pay_the_same_tower():
    market, _, m = paid(MARKET, sim_of())
    opwb_, _, o = paid(OPWB, sim_of())
    for key in ("P", "X"):
        np.testing.assert_allclose(market[key], opwb_[key], rtol=1e-12)
    np.testing.assert_allclose(m.annual_recovery, o.annual_recovery, rtol=1e-12)


def test_market_numbers_written_as_a_deductible_are_refused_not_paid_at_80():
    with pytest.raises(DataError) as info:
        Programme((Policy(deductible=20 * EOK, limit=30 * EOK, policy_id="P"),
                   Policy(deductible=50 * EOK, limit=50 * EOK, policy_id="X", follows="P")))
    [problem] = info.value.problems
    assert (problem.where, problem.column) == ("policy 'X'", "deductible")
    assert "ambiguous" in problem.message
    assert "attachment = 5,000,000,000" in problem.message          # the market's reading
    assert "deductible 2,000,000,000" in problem.message            # opwb's contiguous one
    assert "starting at 8,000,000,000" in problem.message           # what it used to pay


def test_a_gap_in_market_notation_is_the_same_as_opwbs_deductible_above_the_primary():
    # 50 xs 60 over 30 xs 20: a loss of 100 → 40 (not 50); opwb: deductible 30 following
    sim = sim_of([100.0, 55.0, 200.0], [0, 0, 1])
    market = Programme((Policy(20 * EOK, 30 * EOK, policy_id="P"),
                        Policy(attachment=60 * EOK, limit=50 * EOK, policy_id="X", follows="P")))
    opwb_ = Programme((Policy(20 * EOK, 30 * EOK, policy_id="P"),
                       Policy(30 * EOK, 50 * EOK, policy_id="X", follows="P")))
    np.testing.assert_allclose(paid(market, sim)[0]["X"], [40.0, 0.0, 50.0], rtol=1e-12)
    np.testing.assert_allclose(paid(opwb_, sim)[0]["X"], [40.0, 0.0, 50.0], rtol=1e-12)


def test_market_layer_does_not_drop_down_when_the_primary_aggregate_is_spent():
    # two losses of 60 in one year, primary 30 xs 20 with an aggregate of 30: the first
    # exhausts it. Market excess 50 xs 50: 10 + 10. opwb's convention drops down: 10 + 40.
    sim = sim_of([60.0, 60.0], [0, 0])
    prim = Policy(20 * EOK, 30 * EOK, aggregate_limit=30 * EOK, policy_id="P")
    market = Programme((prim, Policy(attachment=50 * EOK, limit=50 * EOK, policy_id="X",
                                     follows="P")))
    opwb_ = Programme((prim, Policy(20 * EOK, 50 * EOK, policy_id="X", follows="P")))
    assert paid(market, sim)[1]["X"][0] == pytest.approx(20.0)
    assert paid(opwb_, sim)[1]["X"][0] == pytest.approx(50.0)
    assert paid(market, sim)[1]["P"][0] == pytest.approx(30.0)


def test_market_excess_over_a_coinsured_primary():
    # primary coinsurance 0.8 pays 24 of its 30 on a 100 loss; the excess still attaches at 50
    sim = sim_of([100.0, 70.0], [0, 0])
    prog = Programme((Policy(attachment=20 * EOK, limit=30 * EOK, coinsurance=0.8,
                             policy_id="P"),
                      Policy(attachment=50 * EOK, limit=50 * EOK, policy_id="X", follows="P")))
    events = paid(prog, sim)[0]
    np.testing.assert_allclose(events["P"], [24.0, 24.0], rtol=1e-12)
    np.testing.assert_allclose(events["X"], [50.0, 20.0], rtol=1e-12)


@pytest.mark.parametrize("kwargs, column, fragment", [
    (dict(deductible=20.0, attachment=50.0, limit=50.0), "attachment", "disagree"),
    (dict(limit=50.0), "deductible", "missing deductible"),
    (dict(attachment=50.0), "limit", "missing limit"),
    (dict(attachment=-1.0, limit=50.0), "attachment", "expected a finite amount ≥ 0 KRW"),
    (dict(attachment=float("inf"), limit=50.0), "attachment", "expected a finite amount"),
])
def test_a_policy_in_neither_notation_is_refused(kwargs, column, fragment):
    with pytest.raises(DataError) as info:
        Policy(policy_id="X", **kwargs)
    assert [p.column for p in info.value.problems] == [column]
    assert fragment in str(info.value)


def test_an_attachment_inside_the_layers_below_is_refused():
    with pytest.raises(DataError) as info:
        Programme((Policy(20.0, 30.0, policy_id="P"),
                   Policy(attachment=40.0, limit=50.0, policy_id="X", follows="P")))
    [problem] = info.value.problems
    assert problem.column == "attachment"
    assert "'P' pays 20 to 50" in problem.message and "at or above 50" in problem.message


def test_attachment_and_deductible_are_one_point():
    x = Policy(attachment=50.0, limit=50.0, policy_id="X")
    assert (x.deductible, x.attachment, x.ground_up) == (50.0, 50.0, True)
    assert Policy(deductible=50.0, attachment=50.0, limit=50.0) == Policy(attachment=50.0,
                                                                          limit=50.0)
    assert (x.replace(deductible=60.0).attachment, x.replace(attachment=70.0).deductible) == \
        (60.0, 70.0)
    back = x.replace(attachment=None)
    assert (back.deductible, back.attachment, back.ground_up) == (50.0, None, False)
    assert x.recover([100.0, 75.0, 40.0]).tolist() == [50.0, 25.0, 0.0]


def test_programme_frame_round_trip_keeps_the_notation():
    terms = ("deductible", "limit", "attachment", "follows", "ground_up")
    again = Programme.from_frame(MARKET.to_frame())
    for key in ("P", "X"):
        assert [getattr(again[key], t) for t in terms] == [getattr(MARKET[key], t) for t in terms]
    assert again["X"].attachment == 50 * EOK and again["X"].follows == "P"
    assert Programme.from_frame(OPWB.to_frame())["X"].attachment is None


def test_a_zero_limit_primary_leaves_no_ambiguity():
    # the bond "removed" (limit 0, opwb.scenarios.bond.without_bond) under an excess
    # following it: the deductible reads the same in both notations
    prog = Programme((Policy(20.0, 0.0, policy_id="P"),
                      Policy(20.0, 50.0, policy_id="X", follows="P")))
    assert paid(prog, sim_of([100.0], [0], unit=1.0), unit=1.0)[0]["X"].tolist() == [50.0]


def test_ground_up_bands_and_tower_problems_by_hand():
    layers = [TowerLayer("P", 20.0, 30.0), TowerLayer("X", 20.0, 50.0, follows="P"),
              TowerLayer("Y", 150.0, 100.0, attachment=150.0, follows="X"),
              TowerLayer("Z", 20.0, 60.0, follows="P")]
    # Z (opwb's convention) takes the free space above X: 100–150, then above Y: 250–260
    assert ground_up_bands(layers) == [[(20.0, 50.0)], [(50.0, 100.0)], [(150.0, 250.0)],
                                       [(100.0, 150.0), (250.0, 260.0)]]
    assert tower_problems(layers) == []
    # and apply_programme pays those bands: a loss of 255 → 30, 50, 100, 50 + 5
    prog = Programme((Policy(20.0, 30.0, policy_id="P"),
                      Policy(20.0, 50.0, policy_id="X", follows="P"),
                      Policy(attachment=150.0, limit=100.0, policy_id="Y", follows="X"),
                      Policy(20.0, 60.0, policy_id="Z", follows="P")))
    events = paid(prog, sim_of([255.0, 120.0], [0, 0], unit=1.0), unit=1.0)[0]
    assert {k: v.tolist() for k, v in events.items()} == {
        "P": [30.0, 30.0], "X": [50.0, 50.0], "Y": [100.0, 0.0], "Z": [55.0, 20.0]}
    bad = [*layers[:3], TowerLayer("W", 250.0, 10.0, follows="P")]
    assert [(i, term) for i, term, _ in tower_problems(bad)] == [(3, "deductible")]


# -- the programme file ---------------------------------------------------------------------------

BASE = [c for c in PROGRAMME_COLUMNS if c not in COVER_COLUMNS]


def row(pid, **cells):
    out = dict(policy_id=pid, name="보험", name_en="cover", insurer=f"insurer {pid}",
               insurer_rating="A", affiliate="false", reinsured_outside="false",
               inception="2006-01-01", expiry="2007-01-01", cancellation_notice_days="90",
               supervisory_exclusion="false", claims_basis="claims-made", deductible="",
               limit="", aggregate_limit="", coinsurance="1", premium="0", cover_IF="1")
    out.update(cells)
    return out


def write(tmp_path, columns, rows, name="tower.csv"):
    path = tmp_path / name
    lines = [",".join(columns)] + [",".join(f'"{r.get(c, "")}"' for c in columns) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


E = int(EOK)
LAYER_FILE = ([c for c in BASE if c not in ("deductible", "limit")] + ["layer", "follows",
                                                                         "cover_IF"],
              [row("P", layer="30억 xs 20억"), row("X", layer="50억 xs 50억", follows="P")])
ATTACHMENT_FILE = (BASE + ["attachment", "follows", "cover_IF"],
                   [row("P", attachment=f"{20 * E:,}", limit=f"{30 * E:,}"),
                    row("X", attachment=f"{50 * E}", limit=f"{50 * E}", follows="P")])
LIMIT_CELL_FILE = (BASE + ["follows", "cover_IF"],
                   [row("P", limit=f"{30 * E:,} xs {20 * E:,}"),
                    row("X", limit=f"{50 * E} xs {50 * E}", follows="P")])
OPWB_FILE = (BASE + ["follows", "cover_IF"],
             [row("P", deductible=f"{20 * E}", limit=f"{30 * E}"),
              row("X", deductible=f"{20 * E}", limit=f"{50 * E}", follows="P")])


@pytest.mark.parametrize("spec", [LAYER_FILE, ATTACHMENT_FILE, LIMIT_CELL_FILE, OPWB_FILE],
                         ids=["layer column", "attachment column", "L xs A in limit", "opwb"])
def test_every_file_notation_pays_the_hand_computed_tower(tmp_path, spec):
    frame = load_programme(write(tmp_path, *spec))
    assert frame["follows"].tolist() == ["", "P"]
    assert frame["deductible"].iloc[0] == 20 * EOK and frame["limit"].tolist() == [30 * EOK,
                                                                                   50 * EOK]
    ground_up = spec is not OPWB_FILE       # NaN: opwb's convention; else the attachment
    np.testing.assert_array_equal(frame["attachment"],
                                  [20 * EOK, 50 * EOK] if ground_up else [np.nan, np.nan])
    events, annual, _ = paid(Programme.from_frame(frame), sim_of())
    np.testing.assert_allclose(events["P"], PRIMARY, rtol=1e-12)
    np.testing.assert_allclose(events["X"], EXCESS, rtol=1e-12)
    np.testing.assert_allclose(annual["X"], [86.0, 50.0], rtol=1e-12)


def _refusal(tmp_path, columns, rows):
    with pytest.raises(DataError) as info:
        load_programme(write(tmp_path, columns, rows))
    return [(p.source, p.where, p.context, p.column) for p in info.value.problems], \
        str(info.value)


@pytest.mark.parametrize("x_cells, column, fragment", [
    # the market's attachment typed into opwb's deductible: reads as both notations
    (dict(deductible=f"{50 * E}", limit=f"{50 * E}", follows="P"), "deductible",
     "is ambiguous: the layers below stop at 5,000,000,000 from the ground up"),
    # two notations that disagree
    (dict(deductible=f"{20 * E}", attachment=f"{50 * E}", limit=f"{50 * E}", follows="P"),
     "deductible", "deductible 2,000,000,000 beside attachment 5,000,000,000"),
    (dict(layer="50 xs 50", limit="40", follows="P"), "limit",
     "limit 40 disagrees with the layer '50 xs 50'"),
    (dict(layer="50 xs 50", attachment="60", follows="P"), "attachment",
     "attachment 60 disagrees with the layer '50 xs 50'"),
    # neither notation
    (dict(limit=f"{50 * E}", follows="P"), "deductible",
     "value is missing; expected the deductible in KRW (opwb's convention), or the layer's "
     "attachment from the ground up"),
    (dict(layer="fifty over fifty", follows="P"), "layer",
     "expected a layer 'limit xs attachment' in KRW"),
    (dict(attachment=f"{40 * E}", limit=f"{50 * E}", follows="P"), "attachment",
     "overlaps the layers below it ('P' pays 2,000,000,000 to 5,000,000,000"),
    (dict(attachment=f"{50 * E}", limit=f"{50 * E}", follows="Q"), "follows",
     "follows 'Q', which is no earlier row's policy_id"),
    # an excess layer in market notation that does not say which layer it sits on
    (dict(attachment=f"{50 * E}", limit=f"{50 * E}"), "cover_IF",
     "coverage shares of policies P, X sum to 2 > 1"),
])
def test_a_row_in_neither_or_both_notations_is_refused_by_file_line_column(
        tmp_path, x_cells, column, fragment):
    columns = BASE + ["attachment", "layer", "follows", "cover_IF"]
    where, message = _refusal(tmp_path, columns, [row("P", deductible=f"{20 * E}",
                                                      limit=f"{30 * E}"), row("X", **x_cells)])
    assert where == [("tower.csv", "line 3", "policy 'X'", column)]
    assert f"tower.csv, line 3, policy 'X', column '{column}': " in message
    assert fragment in message


def test_bundled_programme_has_no_tower_columns_and_is_unchanged():
    import opwb
    frame = load_programme(opwb.data_path("insurance_programme.csv"))
    assert list(frame.columns) == list(PROGRAMME_COLUMNS)
