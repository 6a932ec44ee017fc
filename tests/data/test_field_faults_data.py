"""Field faults of issue 22 in the data and insurance-term layers, each closed with a test.

* item 2: a workbook in Excel's 1904 date system (Mac Excel, ``date1904``) with dates stored
  as plain numbers is read in that system, not 4 years and a day early;
* item 6: placeholder dates of bank exports (9999-12-31, 99991231, 0000-00-00) are "not
  booked" in ``booking_date`` and refused by file, row and column elsewhere, never a raw
  pandas ``OutOfBoundsDatetime``;
* item 12: one rule for a layer's terms in the API (``Policy``) and the programme file: a
  limit or aggregate limit of 0 is a policy that pays nothing, in both;
* item 13 (the loader's part): a gross loss above the plausible maximum of a single loss is
  an error by file, row and column unless the case raises the maximum.
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
