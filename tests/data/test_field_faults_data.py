"""Field faults of issue 22 in the data and insurance-term layers, each closed with a test.

* item 2: a workbook in Excel's 1904 date system (Mac Excel, ``date1904``) with dates stored
  as plain numbers is read in that system, not 4 years and a day early;
* item 6: placeholder dates of bank exports (9999-12-31, 99991231, 0000-00-00) are "not
  booked" in ``booking_date`` and refused by file, row and column elsewhere, never a raw
  pandas ``OutOfBoundsDatetime``;
* item 12: one rule for a layer's terms in the API (``Policy``) and the programme file: a
  limit or aggregate limit of 0 is a policy that pays nothing, in both;
* item 13 (the loader's part): a gross loss above the plausible maximum of a single loss is
  an error by file, row and column unless the case raises the maximum; an event-type name
  the bank uses that opwb does not know is refused with the accepted names; a header on
  row 3 gives one hint, not six "missing column" errors;
* item 1: without an observation window, a date cut off from the data's period by
  calendar years without any loss (a year typed 1905 or 2106) is an error by file, row and
  column, instead of stretching the counting years and dividing every frequency.
"""
from __future__ import annotations

import datetime as dt
import math
import struct
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

import opwb
from opwb.data.case import load_case
from opwb.data.datesystem import EPOCH_1900, EPOCH_1904, serial_epoch
from opwb.data.errors import DataError
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.data.schema import LOSS_COLUMNS, PLAUSIBLE_MAX_LOSS, PROGRAMME_COLUMNS
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme

OCC, DISC, BOOK = dt.date(2005, 7, 1), dt.date(2005, 7, 26), dt.date(2005, 8, 1)


def mac_serial(day: dt.date) -> int:
    """The number a 1904-system workbook stores for ``day``."""
    return (day - dt.date(1904, 1, 1)).days


def where(exc_info) -> list[tuple[str, str, str | None]]:
    return [(p.source, p.where, p.column) for p in exc_info.value.problems]


# -- item 2: the 1904 date system ------------------------------------------------------------

def _mac_losses(path, *, epoch=CALENDAR_MAC_1904):
    wb = openpyxl.Workbook()
    wb.epoch = epoch
    ws = wb.active
    ws.append(list(LOSS_COLUMNS))
    # occurrence and discovery as plain numbers (a column formatted "General"), booking as a
    # date cell (openpyxl writes it in the workbook's system, as Excel does)
    ws.append(["E1", "IF", "RB", mac_serial(OCC), mac_serial(DISC), BOOK, 65e9, 5e9, 0,
               "BBB", "CD"])
    wb.save(path)
    return path


def test_a_1904_workbook_reads_plain_number_dates_exactly(tmp_path):
    df = load_losses(_mac_losses(tmp_path / "mac.xlsx"))
    assert df["occurrence_date"].tolist() == [pd.Timestamp(OCC)]
    assert df["discovery_date"].tolist() == [pd.Timestamp(DISC)]
    assert df["booking_date"].tolist() == [pd.Timestamp(BOOK)]


def test_the_same_numbers_in_a_1900_workbook_are_1900_serials(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(LOSS_COLUMNS))
    serial = (DISC - dt.date(1899, 12, 30)).days
    ws.append(["E1", "IF", "RB", serial, serial, None, 65e9, 0, 0, "", ""])
    wb.save(tmp_path / "win.xlsx")
    df = load_losses(tmp_path / "win.xlsx")
    assert df["discovery_date"].tolist() == [pd.Timestamp(DISC)]


def test_an_xls_workbook_in_the_1904_system(tmp_path):
    xlwt = pytest.importorskip("xlwt")
    wb = xlwt.Workbook()
    wb.dates_1904 = True
    ws = wb.add_sheet("losses")
    for j, name in enumerate(LOSS_COLUMNS):
        ws.write(0, j, name)
    row = ["E1", "IF", "RB", mac_serial(OCC), mac_serial(DISC), "", 65e9, 0, 0, "", ""]
    for j, v in enumerate(row):
        ws.write(1, j, v)
    wb.save(str(tmp_path / "mac.xls"))
    assert serial_epoch(tmp_path / "mac.xls", "xls") == EPOCH_1904
    df = load_losses(tmp_path / "mac.xls")
    assert df["occurrence_date"].tolist() == [pd.Timestamp(OCC)]
    assert df["discovery_date"].tolist() == [pd.Timestamp(DISC)]


def test_xlsb_and_ods_date_systems_are_read_from_the_file(tmp_path):
    def record(kind: int, data: bytes) -> bytes:       # MS-XLSB record: varint type, size
        head = bytes([kind & 0x7F | 0x80, kind >> 7]) if kind > 0x7F else bytes([kind])
        return head + bytes([len(data)]) + data
    for flag, expected in ((1, EPOCH_1904), (0, EPOCH_1900)):
        path = tmp_path / f"book{flag}.xlsb"
        with zipfile.ZipFile(path, "w") as zf:          # BrtBeginBook, then BrtWbProp
            zf.writestr("xl/workbook.bin", record(131, b"") + record(153, struct.pack(
                "<III", flag, 0, 0)))
        assert serial_epoch(path, "xlsb") == expected
    ods = tmp_path / "book.ods"
    with zipfile.ZipFile(ods, "w") as zf:
        zf.writestr("content.xml", (
            '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
            'office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0">'
            '<office:body><office:spreadsheet><table:calculation-settings>'
            '<table:null-date table:date-value="1904-01-01"/></table:calculation-settings>'
            '<table:table table:name="s"/></office:spreadsheet></office:body>'
            '</office:document-content>'))
    assert serial_epoch(ods, "ods") == EPOCH_1904


def test_programme_dates_in_a_1904_workbook(tmp_path):
    prog = pd.read_csv(opwb.data_path("insurance_programme.csv"), dtype=str,
                       keep_default_na=False).iloc[:1]
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(list(PROGRAMME_COLUMNS))
    values = prog.iloc[0].tolist()
    values[PROGRAMME_COLUMNS.index("inception")] = mac_serial(dt.date(2006, 11, 1))
    values[PROGRAMME_COLUMNS.index("expiry")] = mac_serial(dt.date(2007, 11, 1))
    ws.append(values)
    wb.save(tmp_path / "programme.xlsx")
    frame = load_programme(tmp_path / "programme.xlsx")
    assert frame["inception"].tolist() == [pd.Timestamp("2006-11-01")]
    assert frame["expiry"].tolist() == [pd.Timestamp("2007-11-01")]


# -- item 6: placeholder ("sentinel") dates ----------------------------------------------------

HEADER = ",".join(LOSS_COLUMNS)


def _csv(tmp_path, rows):
    path = tmp_path / "losses.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _row(eid, occ="2005-07-01", disc="2005-07-26", book="2005-08-01"):
    return f"{eid},IF,RB,{occ},{disc},{book},65000000,0,0,,x"


@pytest.mark.parametrize("placeholder", ["9999-12-31", "99991231", "9999/12/31",
                                         "9999-12-31 00:00:00", "0000-00-00", "00000000"])
def test_a_placeholder_booking_date_is_not_booked(tmp_path, placeholder):
    df = load_losses(_csv(tmp_path, [_row("E1", book=placeholder), _row("E2")]))
    assert pd.isna(df["booking_date"].iloc[0])
    assert df["booking_date"].iloc[1] == pd.Timestamp("2005-08-01")


def test_placeholder_booking_dates_in_a_workbook_and_a_frame(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(LOSS_COLUMNS))
    ws.append(["E1", "IF", "RB", OCC, DISC, dt.datetime(9999, 12, 31), 65e9, 0, 0, "", ""])
    ws.append(["E2", "IF", "RB", OCC, DISC, 99991231, 65e9, 0, 0, "", ""])
    wb.save(tmp_path / "x.xlsx")
    assert load_losses(tmp_path / "x.xlsx")["booking_date"].isna().all()
    frame = pd.DataFrame([["E1", "IF", "RB", OCC, DISC, dt.date(9999, 12, 31), 65e9, 0.0,
                           0.0, "", ""]], columns=list(LOSS_COLUMNS))
    assert load_losses(frame)["booking_date"].isna().all()


@pytest.mark.parametrize("column", ["occurrence_date", "discovery_date"])
def test_a_placeholder_where_a_date_is_required_is_refused_by_row_and_column(tmp_path,
                                                                             column):
    row = _row("E2", **{{"occurrence_date": "occ", "discovery_date": "disc"}[column]:
                        "9999-12-31"})
    with pytest.raises(DataError) as ei:
        load_losses(_csv(tmp_path, [_row("E1"), row]))
    problems = [p for p in ei.value.problems if p.column == column]
    assert [(p.source, p.where, p.column) for p in problems] == [
        ("losses.csv", "line 3", column)]
    assert "placeholder" in problems[0].message and "booking_date" in problems[0].message


@pytest.mark.parametrize("text", ["3000-01-01", "1600-01-01", "22620101"])
def test_a_date_pandas_cannot_hold_is_refused_by_row_and_column(tmp_path, text):
    with pytest.raises(DataError) as ei:
        load_losses(_csv(tmp_path, [_row("E1", book=text)]))
    assert where(ei) == [("losses.csv", "line 2", "booking_date")]
    assert "between 1678-01-01 and 2261-12-31" in str(ei.value)


def test_a_placeholder_expiry_in_the_programme_is_refused_by_row_and_column(tmp_path):
    text = opwb.data_path("insurance_programme.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = lines[1].split(",")
    cells[PROGRAMME_COLUMNS.index("expiry")] = "9999-12-31"
    path = tmp_path / "programme.csv"
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_programme(path)
    assert where(ei) == [("programme.csv", "line 2", "expiry")]
    assert "placeholder" in str(ei.value)


# -- item 12: one rule for a layer's terms ------------------------------------------------------

def _programme_file(tmp_path, **terms):
    text = opwb.data_path("insurance_programme.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    cells = lines[1].split(",")                           # the BBB row
    for name, value in terms.items():
        cells[PROGRAMME_COLUMNS.index(name)] = value
    path = tmp_path / "programme.csv"
    path.write_text("\n".join([lines[0], ",".join(cells)]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("terms", [{"limit": "0"}, {"aggregate_limit": "0"},
                                   {"limit": "0", "aggregate_limit": "0"}])
def test_zero_limits_pay_nothing_in_the_file_as_in_the_api(tmp_path, terms):
    frame = load_programme(_programme_file(tmp_path, **terms))
    from_file = Programme.from_frame(frame)["BBB"]
    from_api = Policy(deductible=5e8, limit=float(terms.get("limit", 5e9)),
                      aggregate_limit=float(terms.get("aggregate_limit", 1e10)),
                      policy_id="BBB")
    for policy in (from_file, from_api):
        assert (policy.limit, policy.aggregate_limit) == (
            float(terms.get("limit", 5e9)), float(terms.get("aggregate_limit", 1e10)))


@pytest.mark.parametrize("term,value", [("limit", "-1"), ("aggregate_limit", "-1"),
                                        ("deductible", "-1")])
def test_what_the_file_refuses_the_api_refuses(tmp_path, term, value):
    with pytest.raises(DataError) as from_file:
        load_programme(_programme_file(tmp_path, **{term: value}))
    with pytest.raises(DataError) as from_api:
        Policy(**{"deductible": 5e8, "limit": 5e9, term: float(value)}, policy_id="BBB")
    assert [p.column for p in from_file.value.problems] == [term]
    assert [p.column for p in from_api.value.problems] == [term]


def test_the_api_refuses_an_infinite_deductible_as_the_file_does():
    with pytest.raises(DataError, match="deductible"):
        Policy(deductible=math.inf, limit=5e9)
    assert Policy(deductible=5e8, limit=math.inf).limit == math.inf   # no limit: accepted


def test_the_programme_without_its_bond_still_pays_nothing_through_it():
    from opwb.scenarios.bond import without_bond
    programme = Programme.from_frame(load_programme(opwb.data_path("insurance_programme.csv")))
    without = without_bond(programme, "BBB")
    assert without["BBB"].limit == 0.0
    assert without["BBB"].recover([650e8, 1e8]).tolist() == [0.0, 0.0]
    assert without.cover_intervals("IF") == programme.cover_intervals("IF")


# -- item 13: a loss above the plausible maximum ------------------------------------------------

def test_a_loss_above_the_plausible_maximum_is_refused_by_row_and_column(tmp_path):
    big = f"{int(1e30)}"
    row = f"E2,IF,RB,2005-07-01,2005-07-26,,{big},0,0,,x"
    with pytest.raises(DataError) as ei:
        load_losses(_csv(tmp_path, [_row("E1"), row]))
    assert where(ei) == [("losses.csv", "line 3", "gross_loss")]
    assert "plausible maximum" in str(ei.value) and "10조원" in str(ei.value)
    df = load_losses(_csv(tmp_path, [_row("E1"), row]), max_loss=None)  # no maximum
    assert df["gross_loss"].iloc[1] == 1e30
    with pytest.raises(ValueError, match="max_loss"):
        load_losses(_csv(tmp_path, [_row("E1")]), max_loss=0)


def test_the_case_states_the_plausible_maximum_and_may_raise_it(tmp_path):
    assert opwb.bundled_case().plausible_max_loss == PLAUSIBLE_MAX_LOSS == 1e13
    row = "E2,IF,RB,2005-07-01,2005-07-26,,20000000000000,0,0,,x"     # 20조원
    _csv(tmp_path, [_row("E1"), row])
    case_text = "\n".join([
        'losses = "losses.csv"',
        f'programme = "{opwb.data_path("insurance_programme.csv").as_posix()}"',
        f'quotes = "{opwb.data_path("bbb_alternatives.csv").as_posix()}"',
        "incidents = []"])
    (tmp_path / "case.toml").write_text(case_text + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_case(tmp_path / "case.toml").load_losses()
    assert where(ei) == [("losses.csv", "line 3", "gross_loss")]
    (tmp_path / "case.toml").write_text(case_text + '\nplausible_max_loss = "50조"\n',
                                        encoding="utf-8")
    raised = load_case(tmp_path / "case.toml")
    assert raised.plausible_max_loss == 50e12
    assert raised.load_losses()["gross_loss"].max() == 20e12
    (tmp_path / "case.toml").write_text(case_text + '\nplausible_max_loss = "none"\n',
                                        encoding="utf-8")
    assert load_case(tmp_path / "case.toml").plausible_max_loss is None
    assert np.isfinite(load_case(tmp_path / "case.toml").load_losses()["gross_loss"]).all()


def test_an_unknown_event_type_name_lists_the_accepted_ones_and_bank_names_load(tmp_path):
    rows = [_row("E1").replace(",IF,", ",내부사기,"), _row("E2").replace(",IF,", ",외부 사기,"),
            _row("E3").replace(",IF,", ",기타사기,")]
    with pytest.raises(DataError) as ei:
        load_losses(_csv(tmp_path, rows))
    assert where(ei) == [("losses.csv", "line 4", "event_type")]
    message = ei.value.problems[0].message
    assert "got '기타사기'" in message
    assert ("accepted: IF (내부사취 / 내부사기); EF (외부사취 / 외부사기); EPWS (고용 및 사업장 "
            "안전 / 고용관행 및 작업장 안전)") in message
    assert '(e.g. "기타사기" = "IF")' in message                   # how to map it
    df = load_losses(_csv(tmp_path, rows), event_types={"기타사기": "EF"})
    assert df["event_type"].tolist() == ["IF", "EF", "EF"]


def test_a_header_on_row_3_gives_one_hint_not_six_missing_columns(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("\n".join(["예시은행 손실사건 목록", "기준일: 2006-12-31", HEADER,
                               _row("E1")]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert where(ei) == [("losses.csv", "line 3", None)]
    assert "set header_row = 3 (in the case file) / header_row=3" in str(ei.value)
    assert "missing column" not in str(ei.value)
    assert load_losses(path, header_row=3)["event_id"].tolist() == ["E1"]


# -- item 1: a date far outside the data's period -------------------------------------------

def _bundled_with(tmp_path, line: int, **cells):
    """The bundled loss file with cells of one line (2 = the first event) replaced."""
    lines = opwb.data_path("losses.csv").read_text(encoding="utf-8").splitlines()
    values = lines[line - 1].split(",")
    for name, value in cells.items():
        values[LOSS_COLUMNS.index(name)] = value
    lines[line - 1] = ",".join(values)
    path = tmp_path / "losses.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_year_typed_1905_is_refused_by_row_and_column_not_counted(tmp_path):
    from opwb.fitting.frequency import annual_counts
    bundled = load_losses(opwb.data_path("losses.csv"))
    n = annual_counts(bundled, threshold=opwb.COLLECTION_THRESHOLD)
    assert list(n.index) == [2002, 2003, 2004, 2005, 2006]     # the data's five years
    path = _bundled_with(tmp_path, 6, occurrence_date="1905-01-18")
    with pytest.raises(DataError) as ei:
        load_losses(path, threshold=opwb.COLLECTION_THRESHOLD)
    assert where(ei) == [("losses.csv", "line 6", "occurrence_date")]
    message = ei.value.problems[0].message
    assert message.startswith("occurrence date 1905-01-18 is cut off from the data's period "
                              "2002–2006 (741 losses) by 96 calendar years in which no "
                              "occurrence date of any loss falls (1906–2001)")
    assert "state the observation window" in message and "correct it" in message
    # with the case's window the same line is refused as outside it (as before)
    with pytest.raises(DataError) as ei:
        load_losses(path, observation=("2002-01-01", "2006-12-31"))
    assert where(ei) == [("losses.csv", "line 6", "occurrence_date")]
    assert "outside the observation window 2002-01-01 – 2006-12-31" in str(ei.value)


def test_a_year_typed_2106_in_both_dates_is_refused_in_both_columns(tmp_path):
    path = _bundled_with(tmp_path, 700, occurrence_date="2106-10-01",
                         discovery_date="2106-11-02", booking_date="")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert where(ei) == [("losses.csv", "line 700", "occurrence_date"),
                         ("losses.csv", "line 700", "discovery_date")]
    assert "(2007–2105)" in ei.value.problems[0].message
    assert "in which no discovery date of any loss falls (2007–2105)" in \
        ei.value.problems[1].message


def test_a_discovery_date_alone_typed_far_ahead_is_refused(tmp_path):
    path = _bundled_with(tmp_path, 10, discovery_date="2060-03-01", booking_date="")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert where(ei) == [("losses.csv", "line 10", "discovery_date")]


def test_empty_years_are_counted_when_the_window_is_stated(tmp_path):
    """A year without any loss is data when the window says it was observed."""
    from opwb.fitting.frequency import annual_counts, fit_frequency
    rows = [_row("E1", occ="2002-03-01", disc="2002-03-02", book=""),
            _row("E2", occ="2002-05-01", disc="2002-05-02", book=""),
            _row("E3", occ="2004-07-01", disc="2004-07-26", book="")]
    with pytest.raises(DataError) as ei:                 # no window: 2003 is not inferred
        load_losses(_csv(tmp_path, rows))
    assert where(ei) == [("losses.csv", "line 4", "occurrence_date"),
                         ("losses.csv", "line 4", "discovery_date")]
    assert "period 2002 (2 losses) by 1 calendar year" in ei.value.problems[0].message
    df = load_losses(_csv(tmp_path, rows), observation=("2002-01-01", "2004-12-31"))
    counts = annual_counts(df)
    assert counts["IF"].tolist() == [2, 0, 1]
    assert fit_frequency(counts["IF"], "poisson").mean == 1.0          # 3 losses / 3 years


def test_a_frame_is_refused_by_row(tmp_path):
    frame = pd.DataFrame([["E1", "IF", "RB", OCC, DISC, None, 65e9, 0.0, 0.0, "", ""],
                          ["E2", "IF", "RB", dt.date(2002, 1, 1), dt.date(2002, 1, 2), None,
                           1e8, 0.0, 0.0, "", ""],
                          ["E3", "IF", "RB", dt.date(2005, 1, 1), dt.date(2005, 1, 2), None,
                           1e8, 0.0, 0.0, "", ""]], columns=list(LOSS_COLUMNS))
    with pytest.raises(DataError) as ei:
        load_losses(frame)
    assert [(p.where, p.column) for p in ei.value.problems] == [
        ("row 2", "occurrence_date"), ("row 2", "discovery_date")]


def test_the_bundled_and_second_banks_load_without_a_window(tmp_path):
    from tests.cases import write_second_bank
    assert len(load_losses(opwb.data_path("losses.csv"))) == 742
    case = load_case(write_second_bank(tmp_path / "bank"))
    kw = {"columns": case.mapping("columns") or None, "event_types": case.mapping(
        "event_types") or None, "business_lines": case.mapping("business_lines") or None}
    if case.sheet is not None:
        kw["sheet_name"] = case.sheet
    if case.header_row is not None:
        kw["header_row"] = case.header_row
    df = load_losses(case.path("losses"), **kw)
    years = sorted(df["occurrence_date"].dt.year.unique())
    assert years == list(range(2000, 2008))
    assert len(df) == len(case.load_losses(threshold=None))
