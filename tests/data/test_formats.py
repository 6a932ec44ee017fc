"""Every file Korean banks' systems and Excel write: read right, or refused naming the place.

Example files are written into ``tmp_path`` by :mod:`tests.data.examples` (the table of
formats in data/README.md names them); nothing here is a committed binary.
"""
from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
import pytest

import opwb
from opwb.data.errors import DataError
from opwb.data.external import load_external_losses
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.data.schema import KOREAN_COLUMNS, LOSS_COLUMNS
from tests.data.examples import EVENTS, FORMATS, expected_frame

HEADER = ",".join(LOSS_COLUMNS)
OK_ROW = "E0,EF,CB,2004-03-02,2004-03-05,,25000000,0,0,,위조수표"


def messages(exc_info) -> list[str]:
    return [str(p) for p in exc_info.value.problems]


# -- every format loads the same events ----------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_loads_the_same_events(tmp_path, fmt):
    name, write = FORMATS[fmt]
    df = load_losses(write(tmp_path / name), columns=KOREAN_COLUMNS)
    pd.testing.assert_frame_equal(df, expected_frame())
    assert df["gross_loss"].tolist() == [65e9, 25e6]
    assert df["description"].tolist() == ["CD 사기", "위조수표"]


def test_a_workbook_named_csv_is_read_as_the_workbook_it_is(tmp_path):
    path = FORMATS["xlsx_openpyxl"][1](tmp_path / "losses.xlsx").rename(tmp_path / "losses.csv")
    pd.testing.assert_frame_equal(load_losses(path), expected_frame())


def test_programme_and_external_losses_read_the_same_formats(tmp_path):
    """The other loaders read through the same reader: the bundled programme as Korean
    Excel's tab-delimited text (CP949) and as .xls, the external losses as Excel's Unicode
    text (UTF-16)."""
    import xlwt

    def rows_of(name):
        return list(csv.reader(io.StringIO(opwb.data_path(name).read_text(encoding="utf-8"))))

    programme = rows_of("insurance_programme.csv")
    tab_txt = tmp_path / "programme.txt"
    tab_txt.write_bytes("\r\n".join("\t".join(r) for r in programme).encode("cp949"))
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("보험")
    for i, row in enumerate(programme):
        for j, value in enumerate(row):
            ws.write(i, j, value)
    wb.save(str(tmp_path / "programme.xls"))
    reference = load_programme(opwb.data_path("insurance_programme.csv"))
    pd.testing.assert_frame_equal(load_programme(tab_txt), reference)
    pd.testing.assert_frame_equal(load_programme(tmp_path / "programme.xls"), reference)

    external = rows_of("external_losses.csv")
    unicode_txt = tmp_path / "external.txt"
    unicode_txt.write_bytes(b"\xff\xfe" + "\r\n".join("\t".join(r) for r in external)
                            .encode("utf-16-le"))
    pd.testing.assert_frame_equal(load_external_losses(unicode_txt),
                                  load_external_losses(opwb.data_path("external_losses.csv")))


# -- 1. compact dates have exactly 8 digits ------------------------------------------------

def test_short_compact_dates_are_refused_not_split(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("\n".join([HEADER, OK_ROW,
                               "E1,IF,RB,200512,2005-01-20,,1000000,0,0,,a",
                               "E2,IF,RB,2005111,2005-11-20,,1000000,0,0,,b",
                               "E3,IF,RB,20051301,2005-12-20,,1000000,0,0,,c",
                               "E4,IF,RB,2005,2005-12-20,,1000000,0,0,,d"]) + "\n",
                    encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == [
        "losses.csv, line 3, column 'occurrence_date': expected a date as YYYY-MM-DD or "
        "YYYYMMDD (exactly 8 digits), got '200512' (6 digits)",
        "losses.csv, line 4, column 'occurrence_date': expected a date as YYYY-MM-DD or "
        "YYYYMMDD (exactly 8 digits), got '2005111' (7 digits)",
        "losses.csv, line 5, column 'occurrence_date': expected a date as YYYY-MM-DD or "
        "YYYYMMDD, got '20051301' (no such date)",
        "losses.csv, line 6, column 'occurrence_date': expected a date as YYYY-MM-DD or "
        "YYYYMMDD (exactly 8 digits), got '2005' (4 digits)",
    ]  # and no knock-on complaint about the discovery dates


@pytest.mark.parametrize("text,expected", [
    ("20050701", "2005-07-01"),
    ("2005-7-1", "2005-07-01"),
    ("2005/07/01", "2005-07-01"),
    ("2005.07.01", "2005-07-01"),
    ("2005. 7. 1.", "2005-07-01"),
    ("2005년 7월 1일", "2005-07-01"),
    ("2005-07-01 14:30:00", "2005-07-01"),
    ("2005-07-01T14:30:00", "2005-07-01"),
    ("38534", "2005-07-01"),      # Excel serial number (a date column formatted General)
    ("38534.75", "2005-07-01"),   # serial with a time of day
])
def test_date_texts_read_right(tmp_path, text, expected):
    path = tmp_path / "losses.csv"
    path.write_text(f"{HEADER}\nE1,IF,RB,\"{text}\",2005-07-26,,1000000,0,0,,a\n",
                    encoding="utf-8")
    assert load_losses(path)["occurrence_date"].iloc[0] == pd.Timestamp(expected)


def test_dates_as_numbers_in_a_dataframe():
    frame = pd.DataFrame([["D1", "IF", "RB", 20050701, 38559.0, None, 1e6, 0, 0, "", ""],
                          ["D2", "IF", "RB", 200507, 38559, None, 1e6, 0, 0, "", ""],
                          ["D3", "IF", "RB", 2005.5, 38559, None, 1e6, 0, 0, "", ""]],
                         columns=list(LOSS_COLUMNS))
    with pytest.raises(DataError) as ei:
        load_losses(frame)
    assert messages(ei) == [
        "<DataFrame>, row 2, column 'occurrence_date': expected a date as YYYY-MM-DD or "
        "YYYYMMDD (exactly 8 digits), got 200507 (6 digits)",
        "<DataFrame>, row 3, column 'occurrence_date': expected a date as YYYY-MM-DD, "
        "got 2005.5",
    ]
    good = load_losses(frame.iloc[:1])
    assert good[["occurrence_date", "discovery_date"]].iloc[0].tolist() == \
        [pd.Timestamp("2005-07-01"), pd.Timestamp("2005-07-26")]


# -- 2. formula cells ------------------------------------------------------------------------

def _formula_workbook(path, formula, value=0, *, header=LOSS_COLUMNS):
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("손실")
    ws.write_row(0, 0, list(header))
    ws.write_row(1, 0, ["E0", "EF", "CB", "2004-03-02", "2004-03-05", "", 25_000_000])
    ws.write_row(2, 0, ["E1", "IF", "RB", "2005-07-01", "2005-07-26"])
    ws.write_formula(2, 6, formula, None, value)
    wb.close()
    return path


def _as_saved_by_excel(path):
    """Rewrite workbook.xml's calcPr as Excel leaves it after calculating and saving."""
    data = {i.filename: None for i in zipfile.ZipFile(path).infolist()}
    with zipfile.ZipFile(path) as src:
        data = {name: src.read(name) for name in data}
    data["xl/workbook.xml"] = data["xl/workbook.xml"].replace(b' fullCalcOnLoad="1"', b"")
    with zipfile.ZipFile(path, "w") as dst:
        for name, content in data.items():
            dst.writestr(name, content)
    return path


def test_program_written_formula_is_never_read_as_its_placeholder(tmp_path):
    """XlsxWriter stores 0 for =650*100000000: loading it would set the 650억 loss apart
    below the threshold. It is refused at its row and column instead."""
    path = _formula_workbook(tmp_path / "losses.xlsx", "=650*100000000")
    with pytest.raises(DataError) as ei:
        load_losses(path, threshold=opwb.COLLECTION_THRESHOLD)
    assert messages(ei) == [
        "losses.xlsx [sheet '손실'], row 3, column 'gross_loss': the formula '=650*100000000' "
        "was never calculated: the workbook asks Excel to recalculate every formula when it "
        "is opened, as files written by programs do, so its stored value 0 is a placeholder; "
        "open and save the file in Excel, or write values instead of formulas"]


def test_formula_without_a_stored_value(tmp_path):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "손실"
    ws.append(list(LOSS_COLUMNS))
    ws.append(["E1", "IF", "RB", "2005-07-01", "2005-07-26", None, "=650*100000000"])
    wb.save(tmp_path / "losses.xlsx")
    with pytest.raises(DataError) as ei:
        load_losses(tmp_path / "losses.xlsx")
    assert messages(ei) == [
        "losses.xlsx [sheet '손실'], row 2, column 'gross_loss': the formula '=650*100000000' "
        "has no calculated value (the file was written by a program that does not "
        "calculate); open and save the file in Excel, or write values instead of formulas"]


def test_formula_calculated_and_saved_by_excel_is_read(tmp_path):
    path = _as_saved_by_excel(_formula_workbook(tmp_path / "losses.xlsx", "=650*100000000",
                                                65_000_000_000))
    df = load_losses(path, threshold=opwb.COLLECTION_THRESHOLD)
    assert df["gross_loss"].tolist() == [25e6, 65e9]
    assert df.attrs["load_report"].below_threshold == 0


def test_formula_with_an_excel_error(tmp_path):
    path = _as_saved_by_excel(_formula_workbook(tmp_path / "losses.xlsx", "=A1/0", "#DIV/0!"))
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == [
        "losses.xlsx [sheet '손실'], row 3, column 'gross_loss': the formula '=A1/0' gives "
        "the Excel error #DIV/0!; expected a value"]


def test_formula_in_a_text_column_and_an_extra_column(tmp_path):
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(tmp_path / "losses.xlsx"))
    ws = wb.add_worksheet("손실")
    ws.write_row(0, 0, [*LOSS_COLUMNS, "지점"])
    ws.write_row(1, 0, ["E1", "IF", "RB", "2005-07-01", "2005-07-26", "", 1e9, 0, 0, ""])
    ws.write_formula(1, 10, '="CD "&"사기"')
    ws.write_formula(1, 11, '=A1')
    wb.close()
    with pytest.raises(DataError) as ei:
        load_losses(tmp_path / "losses.xlsx")
    assert [(p.where, p.column) for p in ei.value.problems] == [
        ("row 2", "description"), ("row 2", "지점")]
    assert "the formula '=\"CD \"&\"사기\"' was never calculated" in messages(ei)[0]


# -- 3. encoding errors name the line and byte -----------------------------------------------

def test_cp949_row_pasted_into_a_utf8_file(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_bytes(f"{HEADER}\n{OK_ROW}\n".encode("utf-8")
                     + "E1,IF,RB,2005-07-01,2005-07-26,,1000000,0,0,,횡령 사고\n".encode("cp949")
                     + "E2,IF,RB,2005-07-01,2005-07-26,,1000000,0,0,,정상\n".encode("utf-8"))
    with pytest.raises(DataError) as ei:
        load_losses(path)
    offset = len(f"{HEADER}\n{OK_ROW}\n".encode()) + len("E1,IF,RB,2005-07-01,2005-07-26,,"
                                                         "1000000,0,0,,") + 2 + 1
    assert messages(ei) == [
        f"losses.csv, line 3: byte 0xb7 (byte 48 of the line, byte {offset} of the file) is "
        "not valid UTF-8, the encoding of the file's other lines; the line reads as CP949 "
        "(EUC-KR), as if pasted from a file in that encoding: save the whole file in one "
        "encoding (e.g. Excel's \"CSV UTF-8\")"]


def test_utf8_rows_pasted_into_a_cp949_file_each_named(tmp_path):
    rows = [OK_ROW.replace("E0", f"E{i}") for i in range(5)]
    path = tmp_path / "손실.csv"
    path.write_bytes(b"\r\n".join([HEADER.encode(), rows[0].encode("cp949"),
                                    rows[1].encode("utf-8"), rows[2].encode("cp949"),
                                    rows[3].encode("utf-8"), rows[4].encode("cp949")]))
    with pytest.raises(DataError) as ei:
        load_losses(path)
    line3 = len(HEADER) + 2 + len(rows[0].encode("cp949")) + 2 + 47
    line5 = line3 - 47 + len(rows[1].encode()) + 2 + len(rows[2].encode("cp949")) + 2 + 47
    assert messages(ei) == [
        f"손실.csv, line {n}: byte 0xec (byte 47 of the line, byte {at} of the file) is not "
        "valid CP949 (EUC-KR), the encoding of the file's other lines; the line reads as "
        "UTF-8, as if pasted from a file in that encoding: save the whole file in one "
        "encoding (e.g. Excel's \"CSV UTF-8\")" for n, at in ((3, line3), (5, line5))]


def test_wrong_encoding_given(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_bytes(f"{HEADER}\n{OK_ROW}\n".encode("utf-8"))
    with pytest.raises(DataError) as ei:
        load_losses(path, encoding="cp949")
    assert messages(ei) == [
        "losses.csv, line 2: byte 0xec (byte 47 of the line, byte 192 of the file) is not "
        "valid CP949 (EUC-KR), the encoding= given; the line reads as UTF-8, as if pasted "
        "from a file in that encoding: save the whole file in one encoding (e.g. Excel's "
        "\"CSV UTF-8\")"]


def test_text_in_neither_encoding(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"\nE1,IF,RB,2005-01-01,2005-01-02,,1,0,0,,caf\xe9\xff\n")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == [
        "latin.csv, line 2: byte 0xe9 (byte 43 of the line, byte 188 of the file) is valid "
        "neither as UTF-8 nor as CP949 (EUC-KR); pass encoding=... if the file is in "
        "another encoding"]
    assert load_losses(path, encoding="latin-1")["description"].iloc[0] == "café\xff"


def test_broken_utf16_names_the_line(tmp_path):
    path = tmp_path / "losses.txt"
    path.write_bytes(b"\xff\xfe" + f"{HEADER}\r\n".encode("utf-16-le") + b"E\x00\x00\xd8")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    offset = 2 + len(f"{HEADER}\r\n".encode("utf-16-le")) + 2 + 1
    assert messages(ei) == [
        f"losses.txt, line 2: bytes 00 d8 (byte {offset} of the file): not valid UTF-16 LE, "
        "the encoding its byte-order mark declares"]


def test_utf16_big_endian_with_and_without_bom():
    from opwb.data.textread import decode_text
    text = "사건번호\t총손실금액\r\nE1\t65,000,000,000\r\n"
    assert decode_text(text.encode("utf-16-be"), "x.txt") == (text, "utf-16-be")
    assert decode_text(b"\xfe\xff" + text.encode("utf-16-be"), "x.txt") == (text, "utf-16-be")


# -- 4. Excel 97-2003 workbooks ------------------------------------------------------------

def test_xls_bad_cells_named_by_sheet_row_and_column(tmp_path):
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("손실사건")
    for j, name in enumerate(LOSS_COLUMNS):
        ws.write(2, j, name)  # a header on row 3, as exports with a title row leave it
    for j, value in enumerate(EVENTS[0]):
        ws.write(3, j, value.isoformat() if hasattr(value, "isoformat") else value)
    bad = ["E9", "IF", "RB", "2005-07-01", "2005-07-26", "", "650억", 0, 0, "", ""]
    for j, value in enumerate(bad):
        ws.write(5, j, value)
    ws.write(5, 12, "memo")
    wb.save(str(tmp_path / "losses.xls"))
    with pytest.raises(DataError) as ei:
        load_losses(tmp_path / "losses.xls")
    assert messages(ei) == [
        "losses.xls [sheet '손실사건'], row 6: cell M6 holds 'memo' but column M has no "
        "header; expected values only in the header's 11 columns (A-K)",
        "losses.xls [sheet '손실사건'], row 6, column 'gross_loss': expected an amount in KRW "
        "(digits, optionally with thousands separators, e.g. 65,000,000,000), got '650억'"]


def test_unknown_sheet_names_the_sheets(tmp_path):
    path = FORMATS["xls"][1](tmp_path / "losses.xls")
    with pytest.raises(DataError) as ei:
        load_losses(path, sheet_name="Sheet1")
    assert messages(ei) == ["losses.xls, file: no sheet 'Sheet1'; the workbook's sheets are "
                            "'손실사건'"]
    with pytest.raises(DataError, match=r"no sheet at position 1 \(0 is the first\)"):
        load_losses(FORMATS["xlsx_openpyxl"][1](tmp_path / "l.xlsx"), sheet_name=1)
    assert len(load_losses(path, sheet_name="손실사건")) == 2


# -- files that are no table say what they are ------------------------------------------------

def _zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
IMPOSTORS = {
    "html": (lambda p: p.write_text("<html><head><meta charset='euc-kr'></head><body><table>"
                                    "<tr><td>사건번호</td></tr></table></body></html>",
                                    encoding="cp949"),
             "the file is an HTML page (a web table, as some systems save their 'Excel' "
             "downloads), not a table opwb reads; expected a CSV or tab-delimited text file "
             "or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods): open it in Excel and "
             "save it as an Excel workbook (.xlsx) or CSV"),
    "xml2003": (lambda p: p.write_text('<?xml version="1.0"?>\n<?mso-application progid='
                                       '"Excel.Sheet"?>\n<Workbook xmlns="urn:schemas-'
                                       'microsoft-com:office:spreadsheet"></Workbook>'),
                "the file is an Excel 2003 XML Spreadsheet (not supported), not a table opwb "
                "reads; expected a CSV or tab-delimited text file or an Excel workbook (.xlsx, "
                ".xlsm, .xls, .xlsb, .ods): open it in Excel and save it as an Excel workbook "
                "(.xlsx) or CSV"),
    "mhtml": (lambda p: p.write_bytes(b"MIME-Version: 1.0\r\nContent-Type: multipart/related;"
                                      b" boundary=x\r\n"),
              "the file is a web archive (MHTML, as Excel's 'single file web page'), not a "
              "table opwb reads; expected a CSV or tab-delimited text file or an Excel "
              "workbook (.xlsx, .xlsm, .xls, .xlsb, .ods): open it in Excel and save it as an "
              "Excel workbook (.xlsx) or CSV"),
    "pdf": (lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"),
            "the file is a PDF document, not a table opwb reads; expected a CSV or "
            "tab-delimited text file or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods): "
            "open it in Excel and save it as an Excel workbook (.xlsx) or CSV"),
    "zip": (lambda p: _zip(p, {"2005/losses.csv": "a", "2006/losses.csv": "b"}),
            "the file is a zip archive of 2 file(s) (2005/losses.csv, 2006/losses.csv), not a "
            "workbook; extract the table from it and load that file"),
    "docx": (lambda p: _zip(p, {"word/document.xml": "<w/>"}),
             "the file is a Word document (.docx), not a table; expected a CSV or "
             "tab-delimited text file or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods)"),
    "pptx": (lambda p: _zip(p, {"ppt/presentation.xml": "<p/>"}),
             "the file is a PowerPoint presentation (.pptx), not a table; expected a CSV or "
             "tab-delimited text file or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods)"),
    "hwpx": (lambda p: _zip(p, {"mimetype": "application/hwp+zip", "version.xml": "<v/>",
                                "Contents/section0.xml": "<s/>"}),
             "the file is a Hangul (HWPX) document, not a table; expected a CSV or "
             "tab-delimited text file or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods)"),
    "damaged zip": (lambda p: p.write_bytes(b"PK\x03\x04" + bytes(40)),
                    "the file is a damaged or incomplete zip archive (File is not a zip "
                    "file); an .xlsx workbook is a zip archive: copy or download it again"),
    "encrypted": (lambda p: p.write_bytes(OLE2 + "EncryptedPackage".encode("utf-16-le")
                                          + bytes(2)),
                  "the workbook is password-protected (encrypted); remove the password in "
                  "Excel (File > Info > Protect Workbook > Encrypt with Password, clear it) "
                  "and save it again"),
    "hwp": (lambda p: p.write_bytes(OLE2 + "FileHeader".encode("utf-16-le") + bytes(2)
                                    + "BodyText".encode("utf-16-le") + bytes(2)),
            "the file is a Hangul (HWP) document, not a table; expected a CSV or tab-delimited "
            "text file or an Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods)"),
    "binary": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x01\x02\x03"),
               "the file is a binary file of unknown format (it contains NUL bytes), not a "
               "table opwb reads; expected a CSV or tab-delimited text file or an Excel "
               "workbook (.xlsx, .xlsm, .xls, .xlsb, .ods): open it in Excel and save it as "
               "an Excel workbook (.xlsx) or CSV"),
}


@pytest.mark.parametrize("kind", sorted(IMPOSTORS))
def test_a_file_that_is_no_table_says_what_it_is(tmp_path, kind):
    write, message = IMPOSTORS[kind]
    path = tmp_path / "losses.xls"
    write(path)
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == [f"losses.xls, file: {message}"]


def test_damaged_xls_gives_the_readers_complaint(tmp_path):
    damaged = bytearray(FORMATS["xls"][1](tmp_path / "ok.xls").read_bytes())
    damaged[512:1500] = bytes(988)  # the workbook stream's first records overwritten
    path = tmp_path / "losses.xls"
    path.write_bytes(damaged)
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == ["losses.xls, file: cannot read the workbook (CalamineError: End "
                            "of stream 'record length'); expected a workbook Excel can open"]
    path.write_bytes(damaged[:1500])  # cut short: its directory of streams is gone
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == [
        "losses.xls, file: the file is an OLE2 compound file (the container of .xls "
        "workbooks) in which no workbook is found: another kind of document, or a damaged "
        "or incomplete one, not a table; expected a CSV or tab-delimited text file or an "
        "Excel workbook (.xlsx, .xlsm, .xls, .xlsb, .ods)"]


# -- text layout --------------------------------------------------------------------------------

def test_excel_padding_after_the_last_column_is_ignored_but_values_there_are_not(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("\n".join([HEADER + ",,", OK_ROW + ",,",
                               OK_ROW.replace("E0", "E1") + ",,x"]) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert messages(ei) == ["losses.csv, line 3: expected 11 fields as in the header, found 13"]
    path.write_text("\n".join([HEADER + ",,", OK_ROW + ",,"]) + "\n", encoding="utf-8")
    assert load_losses(path)["event_id"].tolist() == ["E0"]


def test_sep_line_keeps_true_line_numbers(tmp_path):
    path = tmp_path / "losses.csv"
    path.write_text("sep=;\n" + HEADER.replace(",", ";") + "\n"
                    + OK_ROW.replace(",", ";") + "\n"
                    + "E1;IF;RB;200512;2005-07-26;;1000000;0;0;;x\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert [(p.where, p.column) for p in ei.value.problems] == [("line 4", "occurrence_date")]
