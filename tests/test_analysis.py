"""opwb.analysis: hand-computable checks on small constructed frames, then the bundled data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import opwb
from opwb.analysis import (STRATEGIES, annual_summary, annual_table, cell_summary, cell_table,
                           claims_record, external_comparison, incident_profile,
                           largest_losses, layer_payout, observed_years, strategy_matrix)
from opwb.schema import LOSS_COLUMNS
from opwb.taxonomy import BUSINESS_LINE_CODES, EVENT_TYPE_CODES

EOK = 1e8


def frame(rows) -> pd.DataFrame:
    """Canonical loss frame from (event_id, et, bl, occurrence, discovery, gross, ins, policy)."""
    df = pd.DataFrame(rows, columns=["event_id", "event_type", "business_line",
                                     "occurrence_date", "discovery_date", "gross_loss",
                                     "insurance_recovery", "policy_id"])
    df["occurrence_date"] = pd.to_datetime(df["occurrence_date"])
    df["discovery_date"] = pd.to_datetime(df["discovery_date"])
    df["booking_date"] = pd.NaT
    df["gross_loss"] = df["gross_loss"].astype(float)
    df["insurance_recovery"] = df["insurance_recovery"].astype(float)
    df["other_recovery"] = 0.0
    df["description"] = "test"
    return df[list(LOSS_COLUMNS)]


@pytest.fixture
def small() -> pd.DataFrame:
    return frame([
        ("E1", "IF", "RB", "2002-03-01", "2002-04-01", 3e8, 0.0, ""),
        ("E2", "IF", "RB", "2004-05-01", "2005-01-10", 1e8, 5e7, "BBB"),
        ("E3", "EF", "CB", "2004-06-01", "2004-06-02", 5e7, 0.0, ""),
        ("E4", "DPA", "RB", "2002-01-01", "2002-01-03", 2e8, 0.0, ""),
        ("E5", "IF", "CB", "2004-07-01", "2004-07-01", 6e8, 0.0, ""),
    ])


# -- cell summary -----------------------------------------------------------------------

def test_cell_summary_values_and_all_cells_present(small):
    s = cell_summary(small)
    assert len(s) == 7 * 8
    assert list(s.index.get_level_values(0).unique()) == list(EVENT_TYPE_CODES)
    assert list(s.index.get_level_values(1).unique()) == list(BUSINESS_LINE_CODES)
    assert tuple(s.loc[("IF", "RB")]) == (2, 4e8, 2e8, 3e8)
    assert tuple(s.loc[("IF", "CB")]) == (1, 6e8, 6e8, 6e8)
    empty = s.loc[("EDPM", "AM")]
    assert empty["count"] == 0 and empty["sum"] == 0.0
    assert np.isnan(empty["mean"]) and np.isnan(empty["max"])
    assert s["count"].sum() == len(small) and s["sum"].sum() == small["gross_loss"].sum()


def test_cell_table_pivot_and_margins(small):
    t = cell_table(small, "count")
    assert t.shape == (7, 8) and t.loc["IF", "RB"] == 2 and t.loc["CPBP", "CF"] == 0
    m = cell_table(small, "sum", margins=True)
    assert m.shape == (8, 9)
    assert m.loc["IF", "Total"] == 10e8 and m.loc["Total", "RB"] == 6e8
    assert m.loc["Total", "Total"] == small["gross_loss"].sum()
    mean = cell_table(small, "mean", margins=True)
    # the row mean is over events (3e8, 1e8, 6e8), not the mean of cell means (2e8, 6e8)
    assert mean.loc["IF", "Total"] == pytest.approx(10e8 / 3)
    assert np.isnan(mean.loc["EDPM", "Total"])
    assert cell_table(small, "max", margins=True).loc["Total", "CB"] == 6e8


def test_cell_table_rejects_unknown_stat(small):
    with pytest.raises(ValueError, match="stat must be one of"):
        cell_table(small, "median")


# -- annual frequency and severity ------------------------------------------------------

def test_annual_summary_has_zero_years(small):
    a = annual_summary(small)
    assert observed_years(small) == [2002, 2003, 2004]
    assert len(a) == 7 * 3
    assert tuple(a.loc[("IF", 2003)][["count", "sum"]]) == (0, 0.0)
    assert np.isnan(a.loc[("IF", 2003), "mean"])
    assert tuple(a.loc[("IF", 2004)]) == (2, 7e8, 3.5e8, 6e8)
    t = annual_table(small, "count")
    assert list(t.index) == [2002, 2003, 2004] and list(t.columns) == list(EVENT_TYPE_CODES)
    assert t.to_numpy().sum() == len(small)


def test_annual_summary_by_discovery_year_and_explicit_years(small):
    a = annual_summary(small, by="discovery")
    assert list(a.loc["IF"].index) == [2002, 2003, 2004, 2005]
    assert a.loc[("IF", 2005), "count"] == 1 and a.loc[("IF", 2004), "count"] == 1
    b = annual_summary(small, years=range(2003, 2006))  # 2002 events fall outside
    assert list(b.loc["IF"]["count"]) == [0, 2, 0]
    with pytest.raises(ValueError, match="by must be"):
        annual_summary(small, by="booking")


# -- largest losses ---------------------------------------------------------------------

def test_largest_losses_order_ties_and_net(small):
    df = pd.concat([small, frame([("E0", "EF", "CB", "2003-01-01", "2003-01-02", 3e8, 1e8,
                                   "ECC")])], ignore_index=True)
    top = largest_losses(df, 3)
    assert list(top["event_id"]) == ["E5", "E0", "E1"]  # 3e8 tie broken by event_id
    assert list(top["rank"]) == [1, 2, 3]
    assert top.loc[1, "net_loss"] == 2e8
    assert len(largest_losses(df, 100)) == len(df)
    with pytest.raises(ValueError, match="n must be at least 1"):
        largest_losses(df, 0)


# -- frequency × impact strategies (seed slide 1-3) -------------------------------------

def quadrant_frame() -> pd.DataFrame:
    """Four years 2001-2004. EDPM: 40 small (reduce); EF: 40 large (avoid);
    IF: one huge (transfer); DPA: one small (accept); other types none."""
    rows = []
    for k in range(40):
        d = f"{2001 + k % 4}-03-{1 + k % 28:02d}"
        rows.append((f"M{k:02d}", "EDPM", "PS", d, d, 0.1 * EOK, 0.0, ""))
        rows.append((f"F{k:02d}", "EF", "RB", d, d, 50 * EOK, 0.0, ""))
    rows.append(("I1", "IF", "RB", "2002-07-01", "2002-07-26", 100 * EOK, 0.0, ""))
    rows.append(("D1", "DPA", "RB", "2003-09-01", "2003-09-01", 0.1 * EOK, 0.0, ""))
    return frame(rows)


@pytest.mark.parametrize("kwargs", [
    {},  # defaults: medians over event types
    {"frequency_cutoff": 1.0, "impact_cutoff": 10 * EOK, "impact": "max"},
])
def test_strategy_matrix_four_quadrants(kwargs):
    m = strategy_matrix(quadrant_frame(), **kwargs)
    assert list(m.index) == list(EVENT_TYPE_CODES)
    assert m.loc["EDPM", "frequency"] == 10.0 and m.loc["IF", "frequency"] == 0.25
    assert m.loc["EPWS", "frequency"] == 0.0 and (m["n_years"] == 4).all()
    expected = {"EDPM": "reduce", "EF": "avoid", "IF": "transfer", "DPA": "accept",
                "EPWS": "accept", "CPBP": "accept", "BDSF": "accept"}
    assert m["strategy"].to_dict() == expected
    assert m.loc["IF", "strategy_ko"] == "위험 전가" and m.loc["EDPM", "strategy_ko"] == "위험 감소"
    assert m.loc["EF", "strategy_ko"] == "위험 회피" and m.loc["DPA", "strategy_ko"] == "위험 수용"


def test_strategy_matrix_default_cutoffs_are_medians():
    m = strategy_matrix(quadrant_frame())
    # frequencies 0.25, 10, 0, 0, 0.25, 0, 10 -> median 0.25 (high means strictly above)
    assert m["frequency_cutoff"].iloc[0] == 0.25
    assert not m.loc["IF", "high_frequency"] and m.loc["EF", "high_frequency"]
    # impacts of the four types with losses: 100, 50, 0.1, 0.1 억 -> median 25.05 억
    assert m["impact_cutoff"].iloc[0] == pytest.approx(25.05 * EOK)
    assert np.isnan(m.loc["CPBP", "impact"]) and not m.loc["CPBP", "high_impact"]


def test_strategy_impact_is_the_stated_quantile():
    rows = [(f"E{k}", "CPBP", "CB", "2005-01-01", "2005-01-01", k * EOK, 0.0, "")
            for k in range(1, 6)]
    m = strategy_matrix(frame(rows), impact_quantile=0.95)
    assert m.loc["CPBP", "impact"] == pytest.approx(4.8 * EOK)  # 4 + 0.8 (linear)
    assert strategy_matrix(frame(rows), impact="max").loc["CPBP", "impact"] == 5 * EOK
    assert m.loc["CPBP", "impact_measure"] == "손실금액 95% 분위수"
    with pytest.raises(ValueError, match="impact must be"):
        strategy_matrix(frame(rows), impact="mean")


def test_strategy_table_covers_the_four_quadrants():
    assert {s.code for s in STRATEGIES.values()} == {"reduce", "avoid", "accept", "transfer"}
    transfer = STRATEGIES[(False, True)]
    assert transfer.code == "transfer" and "보험" in transfer.action_ko


# -- claims record ----------------------------------------------------------------------

def test_claims_record_loss_ratio_arithmetic():
    losses = frame([
        ("A", "IF", "RB", "2002-01-05", "2002-02-01", 9e8, 4e8, "BBB"),
        ("B", "IF", "RB", "2003-01-05", "2003-02-01", 7e8, 2e8, "BBB"),
        ("C", "DPA", "RB", "2004-01-05", "2004-02-01", 2e8, 1e8, "OLD"),
        ("D", "EF", "RB", "2004-03-05", "2004-03-06", 1e8, 0.0, ""),
    ])
    programme = pd.DataFrame({"policy_id": ["BBB", "PROP"], "name": ["금융기관종합보험", "재산"],
                              "premium": [16e8, 2e8]})
    c = claims_record(losses, programme)
    assert list(c.index) == ["BBB", "PROP", "OLD"]
    assert c.loc["BBB", "claims"] == 2 and c.loc["BBB", "recoveries"] == 6e8
    assert c.loc["BBB", "gross_loss"] == 16e8
    assert c.loc["BBB", "n_years"] == 3 and c.loc["BBB", "premiums"] == 48e8
    assert c.loc["BBB", "loss_ratio"] == pytest.approx(6 / 48)
    assert c.loc["PROP", "claims"] == 0 and c.loc["PROP", "loss_ratio"] == 0.0
    assert np.isnan(c.loc["OLD", "annual_premium"]) and np.isnan(c.loc["OLD", "loss_ratio"])
    c5 = claims_record(losses, programme, years=range(2000, 2005))
    assert c5.loc["BBB", "premiums"] == 80e8 and c5.loc["BBB", "claims"] == 2
    c2 = claims_record(losses, programme, years=[2003, 2004])  # claim A (2002) left out
    assert (c2.loc["BBB", "claims"], c2.loc["BBB", "recoveries"]) == (1, 2e8)
    assert c2.loc["BBB", "loss_ratio"] == pytest.approx(2 / 32)


# -- layers and the CD incident ---------------------------------------------------------

def test_layer_payout_reproduces_the_seed_bbb_example():
    # seed slide 1-4: loss 1,000억; case 2 (L 400억, d 30억) pays 400억; case 3 (L 1,000억,
    # d 50억) pays 950억
    assert layer_payout(1000 * EOK, 30 * EOK, 400 * EOK) == 400 * EOK
    assert layer_payout(1000 * EOK, 50 * EOK, 1000 * EOK) == 950 * EOK
    assert list(layer_payout([1 * EOK, 10 * EOK], 5 * EOK, 50 * EOK)) == [0.0, 5 * EOK]
    with pytest.raises(ValueError):
        layer_payout(1.0, -1.0, 1.0)


def test_incident_profile_rank_shares_and_layers(small):
    p = incident_profile(small, "E2", deductible=0.5 * EOK, limits=[0.2 * EOK, 5 * EOK])
    assert (p.rank_all, p.n_all, p.rank_in_type, p.n_in_type) == (4, 5, 3, 3)
    assert p.share_of_type == pytest.approx(1 / 10) and p.share_of_all == pytest.approx(1 / 12.5)
    assert list(p.layers["payout"]) == [0.2 * EOK, 0.5 * EOK]
    assert list(p.layers["retained"]) == [0.8 * EOK, 0.5 * EOK]
    with pytest.raises(ValueError, match="no event with event_id 'nope'"):
        incident_profile(small, "nope")


def test_external_comparison_merges_and_ranks(small):
    ext = pd.DataFrame({"institution": ["Barings"], "country": ["UK"], "year": [1995],
                        "event_type": ["IF"], "amount_krw": [4e8]})
    c = external_comparison(small, ext, n=2)
    assert list(c["name"]) == ["E5", "Barings (UK)", "E1"]
    assert list(c["source"]) == ["internal", "external", "internal"]
    assert list(c["rank"]) == [1, 2, 3] and c.loc[1, "event_type_ko"] == "내부사취"
    assert list(c["year"]) == [2004, 1995, 2002]


def test_functions_do_not_modify_their_input(small):
    before = small.copy()
    cell_table(small, "mean", margins=True), annual_summary(small), largest_losses(small)
    strategy_matrix(small), incident_profile(small, "E1")
    pd.testing.assert_frame_equal(small, before)


def test_missing_column_is_named(small):
    with pytest.raises(ValueError, match="business_line"):
        cell_summary(small.drop(columns="business_line"))


# -- the bundled data -------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    from opwb.losses import load_losses
    from opwb.programme import load_programme
    return (load_losses(opwb.data_path("losses.csv")),
            load_programme(opwb.data_path("insurance_programme.csv")))


def test_bundled_cell_table_totals_equal_raw_sums(bundled):
    losses, _ = bundled
    m = cell_table(losses, "sum", margins=True)
    assert m.loc["Total", "Total"] == pytest.approx(losses["gross_loss"].sum(), rel=1e-12)
    for et in EVENT_TYPE_CODES:
        raw = losses.loc[losses["event_type"] == et, "gross_loss"].sum()
        assert m.loc[et, "Total"] == pytest.approx(raw, rel=1e-12)
    assert cell_table(losses, "count").to_numpy().sum() == len(losses)
    counts = annual_table(losses, "count")
    assert counts.to_numpy().sum() == len(losses) and len(counts) >= 5


def cd_incident(losses: pd.DataFrame) -> pd.Series:
    """The CD incident as recorded publicly: IF, RB, reported 2005-07-26, gross 650억."""
    hit = losses[(losses["event_type"] == "IF") & (losses["business_line"] == "RB")
                 & (losses["gross_loss"] == 650 * EOK)
                 & (losses["discovery_date"] == pd.Timestamp("2005-07-26"))]
    assert len(hit) == 1, "the bundled data must hold exactly one CD incident"
    return hit.iloc[0]


def test_bundled_cd_incident_place_and_bbb_payout(bundled):
    losses, programme = bundled
    cd = cd_incident(losses)
    p = incident_profile(losses, cd["event_id"], deductible=5 * EOK, limits=[50 * EOK])
    assert p.rank_in_type == 1
    assert p.rank_all == 1 + int((losses["gross_loss"] > 650 * EOK).sum())
    # the BBB then in force (limit 50억, deductible 5억) paid 50억: the layer formula agrees
    assert p.layers["payout"].iloc[0] == 50 * EOK == cd["insurance_recovery"]
    c = claims_record(losses, programme)
    paid = losses.loc[losses["policy_id"] == cd["policy_id"], "insurance_recovery"].sum()
    assert c.loc[cd["policy_id"], "recoveries"] == pytest.approx(paid)
    assert c["claims"].sum() == int((losses["policy_id"] != "").sum())


def test_load_external_losses_reports_file_line_and_column(tmp_path):
    from opwb.analysis import EXTERNAL_COLUMNS, load_external_losses
    from opwb.errors import DataError
    path = tmp_path / "ext.csv"
    path.write_text(",".join(EXTERNAL_COLUMNS) + "\n"
                    "Barings,GB,1995,IF,리슨,GBP,827000000,1820,1505140000000,report\n"
                    "X Bank,US,1999,XX,설명,USD,1,930,-5,note\n"
                    "Short,US,2000\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_external_losses(path)
    message = str(err.value)
    assert "ext.csv, line 3, column 'event_type': expected an event-type code" in message
    assert "ext.csv, line 3, column 'amount_krw': expected a non-negative amount" in message
    assert "ext.csv, line 4: expected 10 fields as in the header, found 3" in message
    path.write_text(",".join(EXTERNAL_COLUMNS[:-1]) + "\nA,B,1,IF,d,USD,1,1,1\n")
    with pytest.raises(DataError, match="column 'source_note': missing column"):
        load_external_losses(path)


def test_bundled_external_losses_in_the_comparison(bundled):
    from opwb.analysis import load_external_losses
    losses, _ = bundled
    ext = load_external_losses(opwb.data_path("external_losses.csv"))
    assert len(ext) >= 5 and set(ext["event_type"]) <= set(EVENT_TYPE_CODES)
    # amount_krw is the original amount at the stated rate
    assert np.allclose(ext["amount_krw"], ext["amount_original"] * ext["fx_rate_krw"], rtol=1e-6)
    c = external_comparison(losses, ext, n=10)
    assert len(c) == len(ext) + 10 and c["amount_krw"].is_monotonic_decreasing
