"""Example files in every format opwb reads, written by the tests into ``tmp_path``.

Each writer saves the same two loss events (:data:`EVENTS`) the way one program does: Korean
Excel's "Save as" types, a core-banking export, a program writing .xlsx/.xls. The table of
formats in ``data/README.md`` names the writer of each. Nothing here is committed as a
binary: the files are made afresh by the tests (XlsxWriter and xlwt are test dependencies).
"""
from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from opwb.data.schema import KOREAN_COLUMNS, LOSS_COLUMNS

KOREAN_HEADER = [{v: k for k, v in KOREAN_COLUMNS.items()}[c] for c in LOSS_COLUMNS]

#: Two events as Python values: the CD incident and a small external-fraud loss.
EVENTS = [
    ["E1", "IF", "RB", dt.date(2005, 7, 1), dt.date(2005, 7, 26), dt.date(2005, 8, 1),
     65_000_000_000, 5_000_000_000, 0, "BBB-2005", "CD 사기"],
    ["E2", "EF", "CB", dt.date(2004, 3, 2), dt.date(2004, 3, 5), None,
     25_000_000, 0, 1_000_000, None, "위조수표"],
]


def expected_frame() -> pd.DataFrame:
    """What ``opwb.load_losses`` returns for :data:`EVENTS`, whatever the format."""
    frame = pd.DataFrame([[None if v is None else v for v in e] for e in EVENTS],
                         columns=list(LOSS_COLUMNS))
    for col in ("occurrence_date", "discovery_date", "booking_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in ("gross_loss", "insurance_recovery", "other_recovery"):
        frame[col] = frame[col].astype("float64")
    for col in ("event_id", "event_type", "business_line", "policy_id", "description"):
        frame[col] = frame[col].fillna("").astype("str")
    return frame


def _text_cells(date_style: str = "iso", thousands: bool = False) -> list[list[str]]:
    """EVENTS as an export shows them: dates in ``date_style``, amounts as digits."""
    def cell(v):
        if v is None:
            return ""
        if isinstance(v, dt.date):
            return {"iso": v.isoformat(), "compact": v.strftime("%Y%m%d"),
                    "korean": f"{v.year}. {v.month}. {v.day}.",
                    "serial": str((v - dt.date(1899, 12, 30)).days)}[date_style]
        if isinstance(v, int):
            return f"{v:,}" if thousands else str(v)
        return v
    return [[cell(v) for v in e] for e in EVENTS]


def _join(rows: list[list[str]], sep: str, newline: str) -> str:
    def quote(f: str) -> str:
        return f'"{f}"' if sep in f or '"' in f else f
    return newline.join(sep.join(quote(f) for f in r) for r in rows) + newline


def write_csv_utf8(path: Path) -> Path:
    """UTF-8 CSV without BOM, as most systems and Python write it."""
    path.write_bytes(_join([list(LOSS_COLUMNS), *_text_cells()], ",", "\n").encode("utf-8"))
    return path


def write_csv_utf8_bom(path: Path) -> Path:
    """Excel's "CSV UTF-8 (쉼표로 분리)": UTF-8 with BOM, CRLF."""
    text = _join([list(LOSS_COLUMNS), *_text_cells()], ",", "\r\n")
    path.write_bytes(text.encode("utf-8-sig"))
    return path


def write_csv_cp949(path: Path) -> Path:
    """Korean Excel's "CSV (쉼표로 분리)": CP949, CRLF, Korean headers, amounts as shown
    with thousands separators (quoted)."""
    text = _join([KOREAN_HEADER, *_text_cells(thousands=True)], ",", "\r\n")
    path.write_bytes(text.encode("cp949"))
    return path


def write_csv_mac(path: Path) -> Path:
    """Excel's "CSV (Macintosh)": CR line endings (here UTF-8)."""
    path.write_bytes(_join([list(LOSS_COLUMNS), *_text_cells()], ",", "\r").encode("utf-8"))
    return path


def write_txt_tab_cp949(path: Path) -> Path:
    """Korean Excel's "텍스트 (탭으로 분리)": CP949, tab-delimited, dates as 'YYYY. M. D.'."""
    text = _join([KOREAN_HEADER, *_text_cells("korean", thousands=True)], "\t", "\r\n")
    path.write_bytes(text.encode("cp949"))
    return path


def write_txt_unicode(path: Path) -> Path:
    """Excel's "유니코드 텍스트" (Unicode text): UTF-16 LE with BOM, tab-delimited, CRLF."""
    text = _join([KOREAN_HEADER, *_text_cells(thousands=True)], "\t", "\r\n")
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return path


def write_txt_utf16_nobom(path: Path) -> Path:
    """UTF-16 LE without a byte-order mark (some core-banking exports), tab-delimited."""
    text = _join([list(LOSS_COLUMNS), *_text_cells()], "\t", "\r\n")
    path.write_bytes(text.encode("utf-16-le"))
    return path


def write_csv_semicolon(path: Path) -> Path:
    """Semicolon-delimited UTF-8 (Excel in locales with a decimal comma), dates YYYYMMDD."""
    text = _join([list(LOSS_COLUMNS), *_text_cells("compact")], ";", "\n")
    path.write_bytes(text.encode("utf-8"))
    return path


def write_csv_sep_line(path: Path) -> Path:
    """A first line ``sep=;`` (Excel's delimiter hint), then semicolon-delimited text;
    dates as Excel serial numbers (a date column formatted 'General')."""
    text = "sep=;\n" + _join([list(LOSS_COLUMNS), *_text_cells("serial")], ";", "\n")
    path.write_bytes(text.encode("utf-8"))
    return path


def write_xlsx_openpyxl(path: Path) -> Path:
    """.xlsx as openpyxl (and pandas' ``to_excel``) writes it: date cells, number cells."""
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "손실사건"
    ws.append(list(LOSS_COLUMNS))
    for e in EVENTS:
        ws.append(e)
    wb.save(path)
    return path


def write_xlsx_xlsxwriter(path: Path) -> Path:
    """.xlsx as XlsxWriter writes it: date cells with a date format, Korean headers."""
    import xlsxwriter
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("손실사건")
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, KOREAN_HEADER)
    for i, e in enumerate(EVENTS, start=1):
        for j, v in enumerate(e):
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime.combine(v, dt.time()), date)
            elif v is not None:
                ws.write(i, j, v)
    wb.close()
    return path


def write_xlsm(path: Path) -> Path:
    """A macro-enabled workbook (.xlsm content type), written by openpyxl and relabelled."""
    plain = write_xlsx_openpyxl(path.with_suffix(".tmp.xlsx"))
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            dst.writestr(item, data)
    plain.unlink()
    return path


def write_xls(path: Path) -> Path:
    """Excel 97-2003 (.xls, BIFF8) as xlwt and many core-banking exports write it: date
    cells for occurrence and discovery, booking dates as serial numbers (format General)."""
    import xlwt
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("손실사건")
    date = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for j, name in enumerate(LOSS_COLUMNS):
        ws.write(0, j, name)
    for i, e in enumerate(EVENTS, start=1):
        for j, v in enumerate(e):
            if isinstance(v, dt.date) and LOSS_COLUMNS[j] == "booking_date":
                ws.write(i, j, (v - dt.date(1899, 12, 30)).days)
            elif isinstance(v, dt.date):
                ws.write(i, j, v, date)
            elif v is not None:
                ws.write(i, j, v)
    wb.save(str(path))
    return path


#: Format → (file name, writer). Every one loads as :func:`expected_frame`.
FORMATS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "csv_utf8": ("losses.csv", write_csv_utf8),
    "csv_utf8_bom": ("losses.csv", write_csv_utf8_bom),
    "csv_cp949": ("losses.csv", write_csv_cp949),
    "csv_mac": ("losses.csv", write_csv_mac),
    "txt_tab_cp949": ("losses.txt", write_txt_tab_cp949),
    "txt_unicode": ("losses.txt", write_txt_unicode),
    "txt_utf16_nobom": ("losses.txt", write_txt_utf16_nobom),
    "csv_semicolon": ("losses.csv", write_csv_semicolon),
    "csv_sep_line": ("losses.csv", write_csv_sep_line),
    "xlsx_openpyxl": ("losses.xlsx", write_xlsx_openpyxl),
    "xlsx_xlsxwriter": ("losses.xlsx", write_xlsx_xlsxwriter),
    "xlsm": ("losses.xlsm", write_xlsm),
    "xls": ("losses.xls", write_xls),
}
