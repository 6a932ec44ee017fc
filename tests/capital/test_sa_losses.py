"""The standardised approach's loss data set (OPE25): the last 10 years (5 in transition,
fewer refused), losses of €20,000 or more at the stated rate, net of recoveries received,
placed in years by their date of accounting.

Hand-made events: in each year 2013-2024 one loss of ₩100m with ₩40m recovered by
insurance and one of ₩20m (below €20,000 = ₩29m at 1,450 KRW/EUR); in 2020 one more of
exactly ₩29m (at the threshold: kept). The last ten years are 2015-2024, so
LC gross = 15 · (10 · 100m + 29m) / 10 = ₩1,543.5m and LC net = 15 · (10 · 60m + 29m) / 10
= ₩943.5m; 10 losses below the threshold and the 4 of 2013-2014 are left out.
"""
from __future__ import annotations

import pandas as pd
import pytest

from opwb.capital.sa_losses import (
    check_currency,
    loss_data_from_annual,
    loss_data_from_events,
)
from opwb.capital.standardised import standardised_approach

RATE = 1450.0
M = 1e6


def events(first=2013, last=2024) -> pd.DataFrame:
    rows = []
    for y in range(first, last + 1):
        rows += [(f"A{y}", f"{y}-03-01", f"{y}-04-01", 100 * M, 40 * M, 0.0),
                 (f"B{y}", f"{y}-05-01", f"{y}-06-01", 20 * M, 0.0, 0.0)]
    if first <= 2020 <= last:
        rows.append(("C2020", "2020-07-01", "2020-08-01", 29 * M, 0.0, 0.0))
    df = pd.DataFrame(rows, columns=["event_id", "occurrence_date", "booking_date",
                                     "gross_loss", "insurance_recovery", "other_recovery"])
    for c in ("occurrence_date", "booking_date"):
        df[c] = pd.to_datetime(df[c])
    return df


def test_last_ten_years_threshold_and_recoveries_by_hand():
    d = loss_data_from_events(events(), currency="KRW", eur_rate=RATE)
    assert d.years == tuple(range(2015, 2025)) and not d.transitional
    assert d.threshold == 29 * M
    assert d.lc_gross == pytest.approx(1543.5 * M)
    assert d.lc_net == pytest.approx(943.5 * M)
    assert d.n_below_threshold == 10 and d.gross_below_threshold == pytest.approx(200 * M)
    assert d.n_outside_years == 4 and d.available == (2013, 2024)
    assert d.annual.loc[2020, "n_losses"] == 2 and d.annual["recoveries"].sum() == 400 * M
    assert any("only the last 10 years" in n for n in d.notes)
    assert any("10 losses below €20,000 (29,000,000 KRW" in n for n in d.notes)
    s = d.summary()
    assert s["years"] == "2015-2024" and s["n_below_threshold"] == 10


def test_transition_years_are_said_and_too_few_refused():
    d = loss_data_from_events(events(2018, 2024), currency="KRW", eur_rate=RATE)
    assert d.n_years == 7 and d.transitional
    assert any("7 years (2018-2024)" in n and "transition" in n for n in d.notes)
    assert d.lc_gross == pytest.approx(15 * (700 + 29) * M / 7)
    sa = standardised_approach(50e12, events(2018, 2024), currency="KRW", eur_rate=RATE)
    assert sa.transitional and sa.notes[0] == d.notes[0]
    with pytest.raises(ValueError, match="at least 5"):
        loss_data_from_events(events(2021, 2024), currency="KRW", eur_rate=RATE)
    with pytest.raises(ValueError, match="at least 5"):
        loss_data_from_events(events(), currency="KRW", eur_rate=RATE, first_year=2021)


def test_end_year_and_first_year_choose_the_window():
    d = loss_data_from_events(events(), currency="KRW", eur_rate=RATE, end_year=2019)
    assert d.years == tuple(range(2013, 2020)) and d.transitional
    assert d.n_outside_years == 2 * 5 + 1                 # 2020-2024 left out


def test_currency_and_rate_must_be_stated():
    with pytest.raises(ValueError, match="eur_rate"):
        loss_data_from_events(events(), currency="KRW")
    with pytest.raises(ValueError, match="currency"):
        loss_data_from_events(events(), currency="won", eur_rate=RATE)
    assert check_currency("EUR", 1.0) == 1.0


def test_the_date_of_accounting_places_losses():
    ev = events()
    ev.loc[ev.event_id == "A2024", "booking_date"] = pd.Timestamp("2025-01-15")  # booked later
    d = loss_data_from_events(ev, currency="KRW", eur_rate=RATE)
    assert d.years == tuple(range(2016, 2026)) and d.annual.loc[2024, "n_losses"] == 0
    by_occurrence = loss_data_from_events(ev, currency="KRW", eur_rate=RATE,
                                          date_column="occurrence_date")
    assert by_occurrence.years == tuple(range(2015, 2025))
    assert by_occurrence.date_column == "occurrence_date"


def test_undated_losses_are_refused_or_handled_as_told():
    ev = events()
    ev.loc[ev.event_id == "A2024", "booking_date"] = pd.NaT       # not yet booked
    with pytest.raises(ValueError, match=r"1 loss event\(s\) have no booking_date.*A2024"):
        loss_data_from_events(ev, currency="KRW", eur_rate=RATE)
    out = loss_data_from_events(ev, currency="KRW", eur_rate=RATE, undated="exclude")
    assert out.n_undated == 1 and out.annual.loc[2024, "gross_loss"] == 0.0
    assert out.lc_gross == pytest.approx(15 * (900 + 29) * M / 10)
    assert any("1 losses without booking_date" in n and "left out" in n for n in out.notes)
    dated = loss_data_from_events(ev, currency="KRW", eur_rate=RATE, undated="occurrence_date")
    assert dated.lc_gross == pytest.approx(1543.5 * M)


def test_missing_columns_and_bad_amounts():
    with pytest.raises(ValueError, match="other_recovery"):
        loss_data_from_events(events().drop(columns="other_recovery"), currency="KRW",
                              eur_rate=RATE)
    bad = events()
    bad.loc[0, "gross_loss"] = -1.0
    with pytest.raises(ValueError, match=">= 0"):
        loss_data_from_events(bad, currency="KRW", eur_rate=RATE)


def test_annual_totals_need_the_threshold_stated():
    gross = pd.Series(100 * M, index=range(2011, 2025))
    for stated in (None, False):
        with pytest.raises(ValueError, match="threshold_applied=True"):
            loss_data_from_annual(gross, 0.0, currency="KRW", eur_rate=RATE,
                                  threshold_applied=stated)
    d = loss_data_from_annual(gross, gross * 0.25, currency="KRW", eur_rate=RATE,
                              threshold_applied=True)
    assert d.years == tuple(range(2015, 2025))            # the last 10 of 14
    assert d.lc_gross == pytest.approx(1500 * M) and d.lc_net == pytest.approx(1125 * M)
    assert any("caller stated" in n for n in d.notes) and any("last 10" in n for n in d.notes)
    with pytest.raises(ValueError, match="consecutive"):
        loss_data_from_annual(gross.drop(2018), 0.0, currency="KRW", eur_rate=RATE,
                              threshold_applied=True)
    with pytest.raises(ValueError, match="differ"):
        loss_data_from_annual(gross, gross.iloc[1:], currency="KRW", eur_rate=RATE,
                              threshold_applied=True)
    with pytest.raises(ValueError, match="calendar year"):
        loss_data_from_annual([1.0] * 10, 0.0, currency="KRW", eur_rate=RATE,
                              threshold_applied=True)
