"""opwb.load_losses: formats, column mapping, every bad-input case with its exact position."""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

import opwb
from opwb.data.errors import DataError
from opwb.data.losses import load_losses, split_threshold
from opwb.data.schema import KOREAN_COLUMNS, LOSS_COLUMNS

HEADER = ",".join(LOSS_COLUMNS)
GOOD = [
    'E1,IF,RB,2005-07-01,2005-07-26,2005-08-01,"65,000,000,000","5,000,000,000",0,BBB-2005,CD 사기',
    "E2,EF,CB,2004-03-02,2004-03-05,,25000000,0,1000000,,위조수표",
    "E3,DPA,PS,2003-09-12,2003-09-12,2003-09-30,7000000,0,0,,태풍 (below threshold)",
]


def write(tmp_path, lines, name="losses.csv", encoding="utf-8", header=HEADER):
    path = tmp_path / name
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def problems_of(exc_info):
    return [(p.source, p.where, p.column) for p in exc_info.value.problems]


def test_good_file_types_and_values(tmp_path):
    df = load_losses(write(tmp_path, GOOD))
    assert list(df.columns) == list(LOSS_COLUMNS)
    assert df["gross_loss"].tolist() == [65e9, 25e6, 7e6]
    assert df["insurance_recovery"].tolist() == [5e9, 0.0, 0.0]
    assert df["policy_id"].tolist() == ["BBB-2005", "", ""]
    assert df["gross_loss"].dtype == np.float64
    assert df["discovery_date"].iloc[0] == pd.Timestamp("2005-07-26")
    assert pd.isna(df["booking_date"].iloc[1])
    assert df["description"].iloc[0] == "CD 사기"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_encodings(tmp_path, encoding):
    df = load_losses(write(tmp_path, GOOD, encoding=encoding))
    assert df["description"].tolist()[:2] == ["CD 사기", "위조수표"]
    assert df.columns[0] == "event_id"  # the BOM is not part of the first header


def test_undecodable_file(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"\nE1,IF,RB,2005-01-01,2005-01-02,,\xff\xfe\xff,0,0,,x\n")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert [str(p) for p in ei.value.problems] == [
        "latin.csv, line 2: byte 0xff (byte 33 of the line, byte 178 of the file) is valid "
        "neither as UTF-8 nor as CP949 (EUC-KR); pass encoding=... if the file is in another "
        "encoding"]


def test_korean_headers_and_names_with_mapping(tmp_path):
    ko_header = ",".join({v: k for k, v in KOREAN_COLUMNS.items()}[c] for c in LOSS_COLUMNS)
    rows = ["K1,내부사취,소매금융,2005-07-01,2005-07-26,,\"1,500,000,000\",0,0,,횡령"]
    df = load_losses(write(tmp_path, rows, header=ko_header, encoding="cp949"),
                     columns=KOREAN_COLUMNS)
    assert df[["event_type", "business_line"]].iloc[0].tolist() == ["IF", "RB"]
    assert df["gross_loss"].iloc[0] == 1.5e9


def test_missing_columns_named_on_header_line(tmp_path):
    header = HEADER.replace("gross_loss,", "").replace("event_type,", "")
    path = write(tmp_path, [], header="\n\n" + header)  # blank lines first: header on line 3
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert problems_of(ei) == [("losses.csv", "line 3", "event_type"),
                               ("losses.csv", "line 3", "gross_loss")]
    assert "missing column" in str(ei.value)


def test_mapping_hint_names_the_argument(tmp_path):
    path = write(tmp_path, GOOD[:1], header=HEADER.replace("gross_loss", "총손실금액"))
    with pytest.raises(DataError, match=r"column 'gross_loss': missing column.*columns=\{'<header>': 'gross_loss'\}"):
        load_losses(path)
    assert load_losses(path, columns={"총손실금액": "gross_loss"})["gross_loss"].iloc[0] == 65e9


def test_empty_file_and_header_only(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.csv, line 1: the file is empty"):
        load_losses(empty)
    with pytest.raises(DataError, match=r"losses.csv, line 2: no data rows after the header"):
        load_losses(write(tmp_path, []))


BAD_CASES = [
    # (row text, column, message fragment)
    ("B1,XX,RB,2005-01-01,2005-01-02,,1000000,0,0,,", "event_type", "expected an event-type code (IF, EF"),
    ("B1,IF,QQ,2005-01-01,2005-01-02,,1000000,0,0,,", "business_line", "expected a business-line code (CF, TS"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,12억,0,0,,", "gross_loss", "expected an amount in KRW (digits, optionally with thousands separators"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,\"6,500,000,000원\",0,0,,", "gross_loss", "got '6,500,000,000원'"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,\"₩65,000,000,000\",0,0,,", "gross_loss", "got '₩65,000,000,000'"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,\"1,0000\",0,0,,", "gross_loss", "got '1,0000'"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,-5000000,0,0,,", "gross_loss", "expected a non-negative amount in KRW, got '-5000000'"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,,0,0,,", "gross_loss", "value is missing; expected the gross loss in KRW"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,5000000,-1,0,,", "insurance_recovery", "expected a non-negative amount"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,5000000,6000000,0,P1,", "insurance_recovery", "insurance recovery 6,000,000 exceeds the gross loss 5,000,000"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,5000000,3000000,3000000,P1,", "other_recovery", "recoveries (insurance 3,000,000 + other 3,000,000) exceed the gross loss 5,000,000"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,5000000,3000000,0,,", "policy_id", "an insurance recovery is recorded but no policy"),
    ("B1,IF,RB,2005-02-30,2005-03-02,,1000000,0,0,,", "occurrence_date", "expected a date as YYYY-MM-DD, got '2005-02-30'"),
    ("B1,IF,RB,2005-01-01,soon,,1000000,0,0,,", "discovery_date", "expected a date as YYYY-MM-DD, got 'soon'"),
    ("B1,IF,RB,2005-03-01,2005-01-02,,1000000,0,0,,", "discovery_date", "discovery date 2005-01-02 is before the occurrence date 2005-03-01"),
    ("B1,IF,RB,2005-01-01,2005-01-02,2004-12-31,1000000,0,0,,", "booking_date", "booking date 2004-12-31 is before the discovery date 2005-01-02"),
    (",IF,RB,2005-01-01,2005-01-02,,1000000,0,0,,", "event_id", "value is missing; expected a unique event id"),
    ("B1,IF,RB,2005-01-01,2005-01-02,,1000000,0,0,", None, "expected 11 fields as in the header, found 10"),
]


@pytest.mark.parametrize("row,column,fragment", BAD_CASES)
def test_each_bad_value_names_file_line_column(tmp_path, row, column, fragment):
    path = write(tmp_path, [GOOD[1], row])  # the bad row is on line 3
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert isinstance(ei.value, ValueError)
    assert problems_of(ei) == [("losses.csv", "line 3", column)]
    assert fragment in str(ei.value)
    prefix = f"losses.csv, line 3, column '{column}': " if column else "losses.csv, line 3: "
    assert prefix in str(ei.value)


def test_duplicate_ids_point_to_first(tmp_path):
    path = write(tmp_path, [GOOD[0], GOOD[1], GOOD[1].replace("E2", "E1")])
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert problems_of(ei) == [("losses.csv", "line 4", "event_id")]
    assert "duplicate event id 'E1' (first on line 2)" in str(ei.value)


def test_multiline_field_keeps_true_line_numbers(tmp_path):
    multi = GOOD[1].replace("위조수표", '"위조\n수표"')
    path = write(tmp_path, [multi, "B9,XX,RB,2005-01-01,2005-01-02,,1000000,0,0,,"])
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert problems_of(ei) == [("losses.csv", "line 4", "event_type")]


def test_all_problems_reported_and_message_capped(tmp_path):
    rows = [f"B{i},XX,RB,2005-01-01,2005-01-02,,1000000,0,0,," for i in range(25)]
    with pytest.raises(DataError) as ei:
        load_losses(write(tmp_path, rows))
    assert len(ei.value.problems) == 25
    assert [p.where for p in ei.value.problems] == [f"line {i + 2}" for i in range(25)]
    text = str(ei.value)
    assert text.startswith("25 problems found in losses.csv:")
    assert "line 21," in text and "line 22," not in text
    assert "... and 5 more problem(s) not shown" in text


def test_below_threshold_kept_apart_and_counted(tmp_path):
    path = write(tmp_path, GOOD)
    df = load_losses(path, threshold=opwb.COLLECTION_THRESHOLD)
    rep = df.attrs["load_report"]
    assert df["event_id"].tolist() == ["E1", "E2"]
    assert (rep.rows_read, rep.rows_loaded, rep.below_threshold) == (3, 2, 1)
    assert rep.below_threshold_total == 7e6 and rep.below_threshold_event_ids == ("E3",)
    assert "1 events below it set apart" in str(rep)
    above, below = split_threshold(load_losses(path), opwb.COLLECTION_THRESHOLD)
    assert below["event_id"].tolist() == ["E3"] and len(above) + len(below) == 3


def test_optional_columns_defaulted_and_reported(tmp_path):
    cols = ["event_id", "event_type", "business_line", "occurrence_date", "discovery_date",
            "gross_loss", "지점"]
    df = load_losses(write(tmp_path, ["E1,IF,RB,2005-01-01,2005-01-02,5000000,명동"],
                           header=",".join(cols)))
    rep = df.attrs["load_report"]
    assert set(rep.defaulted_columns) == {"booking_date", "insurance_recovery",
                                          "other_recovery", "policy_id", "description"}
    assert rep.extra_columns == ("지점",)
    assert df["지점"].iloc[0] == "명동" and df["insurance_recovery"].iloc[0] == 0.0


def test_excel_with_row_numbers(tmp_path):
    frame = pd.DataFrame([r.split(",") for r in [
        "X1,IF,RB,2005-01-01,2005-01-02,,5000000,0,0,,a",
        "X2,EF,RB,2005-01-01,2005-01-02,,oops,0,0,,b"]], columns=list(LOSS_COLUMNS),
        dtype=object)
    path = tmp_path / "losses.xlsx"
    frame.to_excel(path, index=False, sheet_name="손실")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert problems_of(ei) == [("losses.xlsx [sheet '손실']", "row 3", "gross_loss")]
    frame.loc[1, "gross_loss"] = 12_345_678_901  # a real number cell
    frame.to_excel(path, index=False, sheet_name="손실")
    assert load_losses(path)["gross_loss"].tolist() == [5e6, 12_345_678_901.0]


def test_sqlite_connection_and_url(tmp_path):
    src = load_losses(write(tmp_path, GOOD))
    db = tmp_path / "ops.db"
    with sqlite3.connect(db) as con:
        src.astype({c: str for c in ("occurrence_date", "discovery_date", "booking_date")}) \
           .replace({"NaT": None}).to_sql("loss_events", con, index=False)
        via_con = load_losses(con, table="loss_events")
    via_url = load_losses(f"sqlite:///{db}", table="loss_events")
    pd.testing.assert_frame_equal(via_con, src, check_like=False)
    pd.testing.assert_frame_equal(via_url, src)
    with sqlite3.connect(db) as con:
        con.execute("UPDATE loss_events SET event_type='??' WHERE event_id='E2'")
        with pytest.raises(DataError) as ei:
            load_losses(con, table="loss_events")
    assert problems_of(ei) == [("table 'loss_events' in SQLite connection", "row 2", "event_type")]
    with pytest.raises(ValueError, match="pass table="):
        load_losses(f"sqlite:///{db}")


def test_dataframe_source_is_validated():
    frame = pd.DataFrame([["D1", "IF", "RB", "2005-01-01", "2005-01-02", None, -1.0, 0, 0, "", ""]],
                         columns=list(LOSS_COLUMNS))
    with pytest.raises(DataError) as ei:
        load_losses(frame)
    assert problems_of(ei) == [("<DataFrame>", "row 1", "gross_loss")]


def test_bundled_losses_load_cleanly():
    df = load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    assert df.attrs["load_report"].below_threshold == 0
    assert set(df["event_type"]) == set(opwb.EVENT_TYPES)
    assert set(df["business_line"]) == set(opwb.BUSINESS_LINES)
