"""A bank's own loss file: title blocks and header_row, its category names, totals rows and
the observation window — each refused with one clear problem naming file, row and column."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import Workbook

import opwb
from opwb.data.errors import DataError
from opwb.data.losses import load_losses
from opwb.data.schema import KOREAN_COLUMNS, LOSS_COLUMNS
from opwb.data.taxonomy import accepted_names, label

KO_HEADER = [{v: k for k, v in KOREAN_COLUMNS.items()}[c] for c in LOSS_COLUMNS]
TITLE = [["한빛은행 운영리스크 손실사건 목록"], ["기준일: 2007-03-31", None, "단위: 원"], []]


def event(eid, et="IF", bl="RB", occ="2005-07-01", disc="2005-07-26", gross=65_000_000):
    return [eid, et, bl, occ, disc, "", gross, 0, 0, "", f"사건 {eid}"]


ROWS = [event("E1"), event("E2", "EF", "CB", "2004-03-02", "2004-03-05", 25_000_000)]


def write_csv(path, rows, *, title=(), header=LOSS_COLUMNS):
    lines = [",".join(map(str, r)) for r in [*title, list(header), *rows]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path, rows, *, title=(), header=LOSS_COLUMNS, sheet="손실"):
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for r in [*title, list(header), *rows]:
        ws.append(list(r))
    wb.save(path)
    return path


def problems_of(exc_info):
    return [(p.where, p.column) for p in exc_info.value.problems]


def refused(path, **kw):
    with pytest.raises(DataError) as ei:
        load_losses(path, **kw)
    return ei


# -- header_row and title blocks -------------------------------------------------------------

@pytest.mark.parametrize("write", [write_csv, write_xlsx])
def test_title_block_with_header_row_loads_exactly_the_rows(tmp_path, write):
    path = write(tmp_path / f"t.{'csv' if write is write_csv else 'xlsx'}", ROWS, title=TITLE)
    df = load_losses(path, header_row=4)
    assert df["event_id"].tolist() == ["E1", "E2"]
    assert df["event_type"].tolist() == ["IF", "EF"]
    assert df["gross_loss"].tolist() == [65e6, 25e6]
    assert df["occurrence_date"].tolist() == [pd.Timestamp("2005-07-01"),
                                              pd.Timestamp("2004-03-02")]
    assert list(df.columns) == list(LOSS_COLUMNS)


def test_positions_below_a_title_block_are_the_rows_a_person_sees(tmp_path):
    rows = [ROWS[0], event("E2", gross="oops")]
    ei = refused(write_xlsx(tmp_path / "t.xlsx", rows, title=TITLE), header_row=4)
    assert problems_of(ei) == [("row 6", "gross_loss")]
    assert "t.xlsx [sheet '손실'], row 6, column 'gross_loss'" in str(ei.value)
    ei = refused(write_csv(tmp_path / "t.csv", rows, title=TITLE), header_row=4)
    assert problems_of(ei) == [("line 6", "gross_loss")]


@pytest.mark.parametrize("suffix,unit", [("csv", "line"), ("xlsx", "row")])
def test_title_block_without_header_row_gives_one_hint(tmp_path, suffix, unit):
    write = write_csv if suffix == "csv" else write_xlsx
    rows = [event(f"E{i}") for i in range(200)]
    ei = refused(write(tmp_path / f"t.{suffix}", rows, title=TITLE))
    assert problems_of(ei) == [(f"{unit} 4", None)]
    assert f"{unit} 4: this {unit} looks like the header" in str(ei.value)
    assert "set header_row = 4 (in the case file) / header_row=4" in str(ei.value)


def test_hint_applies_the_column_mapping(tmp_path):
    """KOREAN_COLUMNS stays usable through columns=, with a title block too."""
    path = write_xlsx(tmp_path / "ko.xlsx", ROWS, title=TITLE[:2], header=KO_HEADER)
    ei = refused(path, columns=KOREAN_COLUMNS)
    assert problems_of(ei) == [("row 3", None)]
    assert "header_row=3" in str(ei.value)
    df = load_losses(path, columns=KOREAN_COLUMNS, header_row=3)
    assert df["event_id"].tolist() == ["E1", "E2"]
    assert list(df.columns) == list(LOSS_COLUMNS)


def test_korean_headers_without_a_mapping_are_named_once(tmp_path):
    """The usual Korean headers with no column mapping give one problem saying to map them
    (and where the header is, under a title block) — not one per missing column."""
    flat = write_xlsx(tmp_path / "ko.xlsx", ROWS, header=KO_HEADER)
    ei = refused(flat)
    assert problems_of(ei) == [("row 1", None)]
    assert "[columns]" in str(ei.value) and "header_row" not in str(ei.value)
    titled = write_xlsx(tmp_path / "ko_title.xlsx", ROWS, title=TITLE[:2], header=KO_HEADER)
    ei = refused(titled)
    assert problems_of(ei) == [("row 3", None)]
    assert "header_row = 3" in str(ei.value) and "[columns]" in str(ei.value)
    assert load_losses(titled, columns=KOREAN_COLUMNS, header_row=3)["event_id"].tolist() \
        == ["E1", "E2"]


def test_header_row_on_a_blank_row_or_past_the_end(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS, title=TITLE)
    ei = refused(path, header_row=3)
    assert problems_of(ei) == [("row 3", None)]
    assert "expected the header on row 3 (header_row=3), but row 3 is blank" in str(ei.value)
    ei = refused(path, header_row=40)
    assert "the sheet ends at row 6" in str(ei.value)
    ei = refused(write_csv(tmp_path / "t.csv", ROWS, title=TITLE), header_row=3)
    assert problems_of(ei) == [("line 3", None)]


def test_a_wrong_header_row_points_to_the_right_one(tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", ROWS, title=TITLE)
    ei = refused(path, header_row=2)
    assert problems_of(ei) == [("row 4", None)] and "header_row=4" in str(ei.value)


def test_header_row_is_for_files():
    frame = pd.DataFrame([event("E1")], columns=list(LOSS_COLUMNS))
    with pytest.raises(ValueError, match="header_row applies to a text file or a workbook"):
        load_losses(frame, header_row=2)
    with pytest.raises(ValueError, match="header_row must be a whole number"):
        load_losses(frame, header_row=0)


def test_tab_delimited_file_with_a_title_line(tmp_path):
    path = tmp_path / "t.txt"
    lines = ["한빛은행 손실사건", "", "\t".join(LOSS_COLUMNS),
             *("\t".join(map(str, r)) for r in ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert load_losses(path, header_row=3)["event_id"].tolist() == ["E1", "E2"]
    assert problems_of(refused(path)) == [("line 3", None)]


# -- category names ----------------------------------------------------------------------------

FSS_NAMES = [
    ("내부사기", "IF"), ("내부사취", "IF"), ("외부사기", "EF"), ("외부 사기", "EF"),
    ("외부사취", "EF"), ("고용관행 및 작업장 안전", "EPWS"), ("고용 및 사업장 안전", "EPWS"),
    ("고객·상품 및 영업관행", "CPBP"), ("고객, 상품 및 영업관행", "CPBP"),
    ("고객ㆍ상품 및 영업관행", "CPBP"), ("고객・상품 및 영업관행", "CPBP"),
    ("실물자산 손상", "DPA"), ("자산손실", "DPA"), ("영업중단 및 시스템 장애", "BDSF"),
    ("시스템장애", "BDSF"), ("집행·전달 및 프로세스 관리", "EDPM"),
    ("집행･전달 및 프로세스 관리", "EDPM"), ("실행·전달·프로세스", "EDPM"),
    ("Internal fraud", "IF"), ("edpm", "EDPM"),
]


def test_standard_event_type_names_map(tmp_path):
    rows = [event(f"E{i}", et=name) for i, (name, _) in enumerate(FSS_NAMES)]
    df = load_losses(write_xlsx(tmp_path / "fss.xlsx", rows))
    assert df["event_type"].tolist() == [code for _, code in FSS_NAMES]


def test_bank_mapping_maps_and_overrides(tmp_path):
    rows = [event("E1", et="횡령"), event("E2", et="시스템장애"),
            event("E3", et="카드 부정사용", bl="상업은행"), event("E4", et="외부사기")]
    df = load_losses(write_csv(tmp_path / "m.csv", rows),
                     event_types={" 횡령 ": "IF", "시스템장애": "EDPM", "카드부정사용": "EF"},
                     business_lines={"상업은행": "cb"})
    assert df["event_type"].tolist() == ["IF", "EDPM", "EF", "EF"]  # mapping first
    assert df["business_line"].tolist() == ["RB", "RB", "CB", "RB"]


def test_gieop_geumyung_is_ambiguous_unless_mapped(tmp_path):
    rows = [event("E1", bl="기업금융"), event("E2", bl="기업 금융"), event("E3", bl="CB")]
    path = write_xlsx(tmp_path / "bl.xlsx", rows)
    ei = refused(path)
    assert problems_of(ei) == [("row 2", "business_line"), ("row 3", "business_line")]
    assert ("'기업금융' is ambiguous: corporate finance (CF) or commercial banking (CB); map "
            "it in the case's [business_lines] (e.g. \"기업금융\" = \"CF\")") in str(ei.value)
    df = load_losses(path, business_lines={"기업금융": "CF"})
    assert df["business_line"].tolist() == ["CF", "CF", "CB"]
    assert label("CB") == "기업금융 (CB)"  # the display label stays


def test_unknown_names_list_the_accepted_ones(tmp_path):
    ei = refused(write_csv(tmp_path / "u.csv", [event("E1", et="횡령사고", bl="투자금융")]))
    assert problems_of(ei) == [("line 2", "event_type"), ("line 2", "business_line")]
    et, bl = (p.message for p in ei.value.problems)
    assert "got '횡령사고'" in et and accepted_names("event_types") in et
    assert "IF (내부사취 / 내부사기)" in et and "EDPM (실행·전달·프로세스" in et
    assert "case file's [event_types] section" in et
    assert "RB (소매금융)" in bl and "CF (기업재무)" in bl
    assert "case file's [business_lines] section" in bl


def test_mapping_to_a_non_code_names_the_entry(tmp_path):
    path = write_csv(tmp_path / "m.csv", ROWS)
    ei = refused(path, event_types={"횡령": "IF", "사기": "FRAUD"})
    assert [(p.source, p.where) for p in ei.value.problems] == [
        ("the event_types mapping", "entry '사기'")]
    assert "maps to 'FRAUD', which is not an event-type code; expected one of IF, EF" \
        in str(ei.value)
    ei = refused(path, business_lines={"기업금융": "기업재무"})
    assert "entry '기업금융'" in str(ei.value) and "not a business-line code" in str(ei.value)


# -- totals rows -----------------------------------------------------------------------------

@pytest.mark.parametrize("label", ["합계", "소계", "총계", "계", "Total", "SUM", "subtotal"])
def test_totals_row_is_named(tmp_path, label):
    rows = [*ROWS, [label, None, None, None, None, None, 90_000_000, 0, 0, None, None]]
    ei = refused(write_xlsx(tmp_path / "t.xlsx", rows, title=TITLE), header_row=4)
    assert problems_of(ei) == [("row 7", "event_id")]
    assert (f"row 7, column 'event_id': this row looks like a totals row ('{label}'); remove "
            "it — opwb needs one row per loss event") in str(ei.value)


def test_totals_row_in_event_type_column_of_a_csv(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, ROWS)
    with path.open("a", encoding="utf-8") as f:
        f.write(",합계,,,,,90000000\n")  # fewer fields than the header
    ei = refused(path)
    assert problems_of(ei) == [("line 4", "event_type")]
    assert "looks like a totals row ('합계')" in str(ei.value)


# -- observation window ------------------------------------------------------------------------

def test_dates_outside_the_observation_window(tmp_path):
    rows = [ROWS[0], event("E2", occ="2106-03-01", disc="2106-03-02"),
            event("E3", occ="1999-12-31", disc="2000-01-05")]
    ei = refused(write_csv(tmp_path / "w.csv", rows),
                 observation=("2000-01-01", "2007-03-31"))
    assert problems_of(ei) == [("line 3", "occurrence_date"), ("line 3", "discovery_date"),
                               ("line 4", "occurrence_date")]
    assert ("w.csv, line 3, column 'occurrence_date': occurrence date 2106-03-01 is outside "
            "the observation window 2000-01-01 – 2007-03-31 of the case; expected a date "
            "within it (a typo?)") in str(ei.value)


def test_dates_inside_the_window_are_kept_with_the_window(tmp_path):
    path = write_csv(tmp_path / "w.csv", [*ROWS, event("E3", gross=5_000_000)])
    window = (pd.Timestamp("2000-01-01"), pd.Timestamp("2007-03-31"))
    df = load_losses(path, observation=("2000-01-01", "2007-03-31"))
    assert df.attrs["observation"] == window and len(df) == 3
    df = load_losses(path, observation=(dt.date(2000, 1, 1), "2007-03-31"), threshold=1e7)
    assert df.attrs["observation"] == window and len(df) == 2
    assert df.attrs["load_report"].below_threshold == 1
    assert "observation" not in load_losses(path).attrs
    with pytest.raises(ValueError, match="start first"):
        load_losses(path, observation=("2007-03-31", "2000-01-01"))


# -- the bundled data --------------------------------------------------------------------------

def test_bundled_losses_load_identically():
    path = opwb.data_path("losses.csv")
    plain = load_losses(path)
    raw = pd.read_csv(path, encoding="utf-8")
    assert len(plain) == len(raw) and plain["gross_loss"].sum() == raw["gross_loss"].sum()
    assert plain["event_id"].tolist() == raw["event_id"].tolist()
    assert plain["business_line"].tolist() == raw["business_line"].tolist()
    assert plain["event_type"].tolist() == raw["event_type"].tolist()
    full = load_losses(path, header_row=1, event_types={}, business_lines={},
                       observation=("2002-01-01", "2006-12-31"))
    pd.testing.assert_frame_equal(full, plain)
    assert plain.attrs["load_report"] == full.attrs["load_report"]
    case = opwb.data.bundled_case().load_losses(threshold=None)
    pd.testing.assert_frame_equal(case, plain)
