"""opwb.analysis: hand-computable checks on small constructed frames, then the bundled data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.analysis.claims import incident_profile
from opwb.analysis.strategy import strategy_matrix
from opwb.analysis.tables import (
    annual_summary,
    annual_table,
    cell_summary,
    cell_table,
    largest_losses,
    observed_exposure,
    observed_years,
)
from opwb.data.taxonomy import BUSINESS_LINE_CODES, EVENT_TYPE_CODES

from tests.analysis.conftest import frame

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
    assert tuple(a.loc[("IF", 2004)][["count", "sum", "mean", "max"]]) == (2, 7e8, 3.5e8, 6e8)
    assert (a["exposure"] == 1.0).all() and (a["frequency"] == a["count"]).all()  # no window
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


# -- the observation window and each year's exposure ------------------------------------

WINDOW = ("2000-01-01", "2007-03-31")


def test_window_lists_its_years_with_their_exposure(small):
    years = list(range(2000, 2008))
    assert observed_years(small, observation=WINDOW) == years
    e = observed_exposure(small, observation=WINDOW)
    assert list(e.index) == years and e.loc[2007] == 90 / 365 and e.loc[2000] == 366 / 366
    assert e.loc[2001:2006].tolist() == [1.0] * 6
    assert float(e.sum()) == pytest.approx(7 + 90 / 365, rel=1e-15)
    # without a window: the events' years, each whole
    assert observed_exposure(small).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="outside the observation window"):
        observed_exposure(small, years=[1999, 2000], observation=WINDOW)


def test_annual_summary_with_a_window_has_exposure_and_frequency(small):
    a = annual_summary(small, observation=WINDOW)
    assert list(a.loc["IF"].index) == list(range(2000, 2008))
    # years of the window without losses are listed with count 0
    assert a.loc[("IF", 2000), "count"] == 0 and a.loc[("IF", 2007), "count"] == 0
    assert tuple(a.loc[("IF", 2004)][["count", "sum", "mean", "max"]]) == (2, 7e8, 3.5e8, 6e8)
    assert a.loc[("EF", 2007), "exposure"] == 90 / 365 and a.loc[("EF", 2004), "exposure"] == 1.0
    np.testing.assert_array_equal(a["frequency"], a["count"] / a["exposure"])
    assert a["count"].sum() == len(small)
    t = annual_table(small, "exposure", observation=WINDOW)
    assert t.loc[2007].tolist() == [90 / 365] * 7
    f = annual_table(small, "frequency", observation=WINDOW)
    assert f.loc[2004, "IF"] == 2.0 and f.loc[2007, "IF"] == 0.0
    with pytest.raises(ValueError, match="stat must be one of"):
        annual_table(small, "median")


def test_window_is_read_from_the_losses_attrs(small):
    df = small.copy()
    df.attrs["observation"] = ("2002-01-01", "2005-06-30")
    assert observed_years(df) == [2002, 2003, 2004, 2005]
    a = annual_summary(df)
    assert a.loc[("IF", 2005), "exposure"] == 181 / 365 and a.loc[("IF", 2005), "count"] == 0
    assert observed_years(df, observation=False) == [2002, 2003, 2004]      # ignored
    # by discovery year: E2 was discovered 2005-01-10, inside the window
    assert annual_summary(df, by="discovery").loc[("IF", 2005), "count"] == 1


def test_events_outside_the_window_are_not_dropped_silently(small):
    with pytest.raises(ValueError, match=r"2 event\(s\) have occurrence_date outside the "
                                         r"observation window 2003-01-01 – 2007-03-31"):
        annual_summary(small, observation=("2003-01-01", "2007-03-31"))
    with pytest.raises(ValueError, match="start 2007-01-01 is after its as-of date"):
        annual_summary(small, observation=("2007-01-01", "2006-12-31"))


def test_analysis_exposure_equals_the_fitting_layers():
    from opwb.fitting.frequency import year_exposure
    for window in [WINDOW, ("2004-02-29", "2004-03-01"), ("1999-12-31", "2000-01-01"),
                   ("2002-01-01", "2006-12-31"), ("2003-07-15", "2008-02-29")]:
        df = pd.DataFrame({"occurrence_date": pd.to_datetime([window[0]])})
        pd.testing.assert_series_equal(observed_exposure(df, observation=window),
                                       year_exposure(window))


def test_load_summary_states_the_window_and_its_length_in_years(small):
    from opwb.report.loss_tables import load_summary_ko
    text = load_summary_ko(small, observation=WINDOW)
    assert text == ("- 관측 기간: 2000-01-01 – 2007-03-31 (7.25년, 발생일 기준), 손실 5건, "
                    "총손실 12.5억원")
    df = small.copy()
    df.attrs["observation"] = ("2002-01-01", "2004-12-31")
    assert "관측 기간: 2002-01-01 – 2004-12-31 (3년, 발견일 기준)" in load_summary_ko(
        df, by="discovery")
    assert "관측 기간: 2002–2004년 (3년, 발생일 기준)" in load_summary_ko(small)  # no window


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


def test_functions_do_not_modify_their_input(small):
    before = small.copy()
    cell_table(small, "mean", margins=True), annual_summary(small), largest_losses(small)
    strategy_matrix(small), incident_profile(small, "E1")
    pd.testing.assert_frame_equal(small, before)


def test_missing_column_is_named(small):
    with pytest.raises(ValueError, match="business_line"):
        cell_summary(small.drop(columns="business_line"))


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
