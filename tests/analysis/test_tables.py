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
