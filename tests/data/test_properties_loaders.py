"""Property-based tests of the loss loader (issue 22, "Habits"), beside the example tests.

Whatever mix of what the loader claims to read (``data/README.md``, "Reading your own
files") a file is written in — encodings UTF-8 with or without BOM, CP949/EUC-KR, UTF-16
with or without BOM; comma, semicolon or tab, with or without Excel's ``sep=`` line; LF, CRLF
or CR line ends; the date forms of :func:`opwb.data.dates.parse_date`; amounts as digits
with or without thousands separators and decimals; canonical or the usual Korean headers,
columns in any order, optional ones left out — it either loads **exactly** (every value
equal to what was written) or is refused **by line and column** (an :class:`opwb.DataError`
whose problems name them): never a raw pandas or codec exception, never a silently
different value.

Hypothesis runs derandomized with no example database (``tests/conftest.py``): the same
examples on every run. The examples are small (a few rows), so the module stays quick.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opwb.data.errors import DataError
from opwb.data.losses import OPTIONAL_LOSS_COLUMNS, REQUIRED_LOSS_COLUMNS, load_losses
from opwb.data.schema import KOREAN_COLUMNS, LOSS_COLUMNS
from opwb.data.taxonomy import BUSINESS_LINES, EVENT_TYPES, STANDARD_EVENT_TYPE_NAMES

SETTINGS = settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
KOREAN_HEADER = {v: k for k, v in KOREAN_COLUMNS.items()}
SERIAL_EPOCH = dt.date(1899, 12, 30)


def _euc_kr(text: str) -> bool:
    try:
        text.encode("euc-kr")
    except UnicodeEncodeError:
        return False
    return True


# -- what a file holds ---------------------------------------------------------------------

#: Text of ids and descriptions: ASCII, Hangul, and the characters a CSV writer must quote
#: (separators, quotes, a line break inside a field as Excel's Alt+Enter writes it). No "계"
#: (alone, a totals row's label: refused when it is the first column, by design).
HANGUL = "가각간갈감강개거건걸검게겨견결경고곡골공과관광교구국군굴권귀규그근글금기길김나낙난날남"
TEXT_CHARS = st.sampled_from(list("abcXYZ0123456789 -_/()=.'") + list(HANGUL)
                             + [",", ";", "\t", '"', "\n"])
ID_CHARS = st.sampled_from(list("ABCDEFGHJK0123456789-") + list(HANGUL[:12]))

#: The names of each category the loader reads (code, Korean, English, the FSS names),
#: without the ambiguous "기업금융" (refused unless mapped) and names EUC-KR cannot hold.
ET_NAMES = {code: sorted({code, c.ko, c.en, c.en.upper(), *STANDARD_EVENT_TYPE_NAMES[code]})
            for code, c in EVENT_TYPES.items()}
BL_NAMES = {code: sorted({code, c.en} | ({c.ko} if c.ko != "기업금융" else set()))
            for code, c in BUSINESS_LINES.items()}
ET_NAMES = {k: [n for n in v if _euc_kr(n)] for k, v in ET_NAMES.items()}
BL_NAMES = {k: [n for n in v if _euc_kr(n)] for k, v in BL_NAMES.items()}


@dataclass(frozen=True)
class Event:
    """One loss event as values, and how each cell is written."""

    event_id: str
    event_type: str          # the code expected
    event_type_text: str     # as written
    business_line: str
    business_line_text: str
    occurrence: dt.date
    discovery: dt.date
    booking: dt.date | None
    gross: float
    gross_text: str
    insurance: float
    other: float
    policy: str
    description: str


def _amount_text(value: int, fraction: str, style: str) -> str:
    digits = (f"{value:,}" if style == "thousands" else str(value)) + fraction
    return f" {digits} " if style == "padded" else digits


@st.composite
def events(draw, n_min: int = 1, n_max: int = 5) -> list[Event]:
    """Events whose occurrence dates fall in 2004-01-01 .. 2005-06-30 and discovery within
    180 days (so the years of each date column follow one another: no window is needed)."""
    n = draw(st.integers(n_min, n_max))
    ids = draw(st.lists(st.text(ID_CHARS, min_size=1, max_size=6), min_size=n, max_size=n,
                        unique_by=lambda s: s.strip()))
    out = []
    for i, raw_id in enumerate(ids):
        et = draw(st.sampled_from(list(ET_NAMES)))
        bl = draw(st.sampled_from(list(BL_NAMES)))
        occ = dt.date(2004, 1, 1) + dt.timedelta(days=draw(st.integers(0, 546)))
        disc = occ + dt.timedelta(days=draw(st.integers(0, 180)))
        booking = draw(st.one_of(st.none(), st.integers(0, 180).map(
            lambda k, d=disc: d + dt.timedelta(days=k))))
        won = draw(st.integers(0, 10**12))
        fraction = draw(st.sampled_from(["", "", ".5", ".25", ".0"]))
        style = draw(st.sampled_from(["plain", "thousands", "padded"]))
        insurance = draw(st.integers(0, won))
        other = draw(st.integers(0, won - insurance))
        policy = f"P{i}" if insurance > 0 else draw(st.sampled_from(["", "P9"]))
        description = draw(st.text(TEXT_CHARS, max_size=12))
        out.append(Event(
            event_id=f"E{i}{raw_id.strip()}", event_type=et,
            event_type_text=draw(st.sampled_from(ET_NAMES[et])), business_line=bl,
            business_line_text=draw(st.sampled_from(BL_NAMES[bl])), occurrence=occ,
            discovery=disc, booking=booking, gross=won + float(fraction or 0),
            gross_text=_amount_text(won, fraction, style), insurance=float(insurance),
            other=float(other), policy=policy, description=description))
    return out


#: Date forms :func:`opwb.data.dates.parse_date` reads, as text.
DATE_FORMS = {
    "iso": lambda d: d.isoformat(),
    "iso unpadded": lambda d: f"{d.year}-{d.month}-{d.day}",
    "slash": lambda d: d.strftime("%Y/%m/%d"),
    "dot": lambda d: d.strftime("%Y.%m.%d"),
    "dot dot": lambda d: d.strftime("%Y.%m.%d."),
    "korean dots": lambda d: f"{d.year}. {d.month}. {d.day}.",
    "korean dots no end": lambda d: f"{d.year}. {d.month:02d}. {d.day:02d}",
    "hangul": lambda d: f"{d.year}년 {d.month}월 {d.day}일",
    "datetime": lambda d: f"{d.isoformat()} 13:45:07",
    "datetime minutes": lambda d: f"{d.isoformat()} 09:05",
    "iso T": lambda d: f"{d.isoformat()}T23:59:59",
    "slash datetime": lambda d: d.strftime("%Y/%m/%d") + " 00:00:00",
    "compact": lambda d: d.strftime("%Y%m%d"),
    "serial": lambda d: str((d - SERIAL_EPOCH).days),
    "serial with time": lambda d: f"{(d - SERIAL_EPOCH).days}.75",
}


@dataclass(frozen=True)
class TextFormat:
    encoding: str            # a Python codec; "utf-8-sig" writes the BOM
    sep: str
    newline: str
    sep_line: bool
    korean_header: bool
    dates: dict              # column -> date form
    columns: tuple[str, ...]  # the file's columns, in its order


ENCODINGS = ["utf-8", "utf-8-sig", "cp949", "euc-kr", "utf-16", "utf-16-le", "utf-16-be"]


@st.composite
def text_formats(draw) -> TextFormat:
    optional = draw(st.lists(st.sampled_from(OPTIONAL_LOSS_COLUMNS), unique=True))
    columns = draw(st.permutations(list(REQUIRED_LOSS_COLUMNS) + optional))
    return TextFormat(
        encoding=draw(st.sampled_from(ENCODINGS)), sep=draw(st.sampled_from([",", ";", "\t"])),
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])), sep_line=draw(st.booleans()),
        korean_header=draw(st.booleans()),
        dates={c: draw(st.sampled_from(sorted(DATE_FORMS)))
               for c in ("occurrence_date", "discovery_date", "booking_date")},
        columns=tuple(columns))


def _cells(e: Event, fmt: TextFormat) -> dict[str, str]:
    def date(col, d):
        return "" if d is None else DATE_FORMS[fmt.dates[col]](d)
    return {
        "event_id": e.event_id, "event_type": e.event_type_text,
        "business_line": e.business_line_text,
        "occurrence_date": date("occurrence_date", e.occurrence),
        "discovery_date": date("discovery_date", e.discovery),
        "booking_date": date("booking_date", e.booking), "gross_loss": e.gross_text,
        "insurance_recovery": str(int(e.insurance)), "other_recovery": f"{int(e.other):,}",
        "policy_id": e.policy, "description": e.description}


def write_text(path, evs: list[Event], fmt: TextFormat, replace=None) -> list[int]:
    """Write the file; return the line on which each event's record starts. ``replace``:
    ``(event index, column, text)`` written instead of that cell."""
    header = [KOREAN_HEADER[c] if fmt.korean_header else c for c in fmt.columns]
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=fmt.sep, lineterminator=fmt.newline)
    if fmt.sep_line:
        buf.write(f"sep={fmt.sep}{fmt.newline}")
    writer.writerow(header)
    starts = []
    for i, e in enumerate(evs):
        starts.append(len(re.findall(r"\r\n|\r|\n", buf.getvalue())) + 1)
        cells = _cells(e, fmt)
        if replace is not None and replace[0] == i:
            cells[replace[1]] = replace[2]
        writer.writerow([cells[c] for c in fmt.columns])
    path.write_bytes(buf.getvalue().encode(fmt.encoding))
    return starts


def expected(evs: list[Event], columns) -> pd.DataFrame:
    """What the loader must return: the written values, defaults for absent columns."""
    def has(col):
        return col in columns
    rows = [{
        "event_id": e.event_id, "event_type": e.event_type, "business_line": e.business_line,
        "occurrence_date": pd.Timestamp(e.occurrence),
        "discovery_date": pd.Timestamp(e.discovery),
        "booking_date": pd.Timestamp(e.booking) if e.booking and has("booking_date") else pd.NaT,
        "gross_loss": e.gross,
        "insurance_recovery": e.insurance if has("insurance_recovery") else 0.0,
        "other_recovery": e.other if has("other_recovery") else 0.0,
        "policy_id": e.policy if has("policy_id") else "",
        "description": e.description.strip() if has("description") else ""} for e in evs]
    frame = pd.DataFrame(rows, columns=list(LOSS_COLUMNS))
    for col in ("occurrence_date", "discovery_date", "booking_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in ("event_id", "event_type", "business_line", "policy_id", "description"):
        frame[col] = frame[col].astype("str")
    return frame


def _load(path, fmt: TextFormat) -> pd.DataFrame:
    return load_losses(path, columns=KOREAN_COLUMNS if fmt.korean_header else None)


def _assume_writable(evs: list[Event], fmt: TextFormat) -> None:
    if fmt.encoding in ("cp949", "euc-kr"):
        assume(all(_euc_kr("".join(_cells(e, fmt).values())) for e in evs))


# -- loads exactly -------------------------------------------------------------------------

@SETTINGS
@given(evs=events(), fmt=text_formats())
def test_any_claimed_text_format_loads_exactly(tmp_path_factory, evs, fmt):
    path = tmp_path_factory.mktemp("p") / "losses.csv"
    _assume_writable(evs, fmt)
    write_text(path, evs, fmt)
    df = _load(path, fmt)
    pd.testing.assert_frame_equal(df, expected(evs, fmt.columns), check_exact=True)


# -- or is refused by line and column ------------------------------------------------------

#: Cells the loader does not read, by column: each must be refused at its line and column.
BAD_CELLS = {
    "date": ["2005-13-01", "2005-02-30", "200507", "2005071", "05-07-26", "26/07/2005",
             "7/26/2005", "2005-07-26T25:00:00", "2005년 7월", "어제", "9999-12-31x",
             "1600-01-01", "3000-01-01", "26.07.2005"],
    "amount": ["650억", "₩1,000", "-5", "1.234.567", "1,23", "12,34,567", "6.5E+10",
               "1,000원", "1 000", "NaN", "inf", "0x10", "1,234.5.6", "--1"],
    "event_type": ["기타사기", "XX", "fraud", "내부"],
    "business_line": ["기업금융", "투자금융", "ZZ"],
}
KIND = {"occurrence_date": "date", "discovery_date": "date", "booking_date": "date",
        "gross_loss": "amount", "insurance_recovery": "amount", "other_recovery": "amount",
        "event_type": "event_type", "business_line": "business_line"}


@SETTINGS
@given(evs=events(), fmt=text_formats(), data=st.data())
def test_a_cell_the_loader_does_not_read_is_refused_at_its_line_and_column(
        tmp_path_factory, evs, fmt, data):
    path = tmp_path_factory.mktemp("p") / "losses.csv"
    _assume_writable(evs, fmt)
    column = data.draw(st.sampled_from([c for c in fmt.columns if c in KIND]))
    i = data.draw(st.integers(0, len(evs) - 1))
    bad = data.draw(st.sampled_from(BAD_CELLS[KIND[column]]))
    assume(fmt.encoding not in ("cp949", "euc-kr") or _euc_kr(bad))
    starts = write_text(path, evs, fmt, replace=(i, column, bad))
    with pytest.raises(DataError) as ei:
        _load(path, fmt)
    shown = KOREAN_HEADER[column] if fmt.korean_header else column
    assert [(p.source, p.where, p.column) for p in ei.value.problems] == [
        ("losses.csv", f"line {starts[i]}", column)], (shown, bad)


@SETTINGS
@given(evs=events(n_min=2), fmt=text_formats(), data=st.data())
def test_a_duplicate_event_id_is_refused_at_its_second_line(tmp_path_factory, evs, fmt, data):
    path = tmp_path_factory.mktemp("p") / "losses.csv"
    _assume_writable(evs, fmt)
    i, j = sorted(data.draw(st.lists(st.integers(0, len(evs) - 1), min_size=2, max_size=2,
                                     unique=True)))
    starts = write_text(path, evs, fmt, replace=(j, "event_id", evs[i].event_id))
    with pytest.raises(DataError) as ei:
        _load(path, fmt)
    assert [(p.where, p.column) for p in ei.value.problems] == [
        (f"line {starts[j]}", "event_id")]
    assert f"first on line {starts[i]}" in ei.value.problems[0].message


# -- a mix of encodings in one file --------------------------------------------------------

#: Words of loss descriptions. In UTF-8 several (고객, 직원, 보험, 계좌, 결제, 감사, 강도) are
#: valid CP949 too, read as other characters ('고객' → '怨좉컼').
WORDS = ["고객", "예금", "횡령", "위조", "수표", "전산", "장애", "지점", "직원", "사고", "손실",
         "보험", "계좌", "대출", "화재", "소송", "결제", "오류", "감사", "강도"]


@SETTINGS
@given(evs=events(n_min=3), fmt=text_formats(), data=st.data())
def test_a_line_in_another_encoding_is_refused_at_its_line(tmp_path_factory, evs, fmt, data):
    """A row pasted from a file in the other encoding (UTF-8 into CP949 or the reverse):
    refused at its line — never read as mojibake."""
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp949"]))
    columns = fmt.columns + (() if "description" in fmt.columns else ("description",))
    fmt = TextFormat(**{**fmt.__dict__, "encoding": encoding, "columns": columns})
    korean = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
    evs = [Event(**{**e.__dict__, "description": data.draw(korean)}) for e in evs]
    i = data.draw(st.integers(0, len(evs) - 1))
    # the pasted row's Korean is its description (other cells as codes)
    evs[i] = Event(**{**evs[i].__dict__, "event_id": f"E{i}", "event_type_text":
                      evs[i].event_type, "business_line_text": evs[i].business_line})
    _assume_writable(evs, TextFormat(**{**fmt.__dict__, "encoding": "cp949"}))
    other = "cp949" if encoding.startswith("utf-8") else "utf-8"
    path = tmp_path_factory.mktemp("p") / "losses.csv"
    starts = write_text(path, evs, fmt)
    text = path.read_bytes().decode(encoding)
    lines = re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)
    line = starts[i] - 1
    raw = b"".join(ln.encode(other if k == line else encoding) for k, ln in enumerate(lines))
    path.write_bytes(raw)
    with pytest.raises(DataError) as ei:
        _load(path, fmt)
    assert [(p.where, p.column) for p in ei.value.problems] == [(f"line {starts[i]}", None)]
    assert other.upper().replace("-", "")[:5] in ei.value.problems[0].message.replace("-", "")


def test_a_utf8_line_that_is_also_valid_cp949_is_not_read_as_mojibake(tmp_path):
    """What the property above found: UTF-8 '각각' (EA B0 81 EA B0 81) is valid CP949 too
    ('媛곴컖'), so a row pasted from a UTF-8 file into a CP949 one loaded silently as other
    characters. It is refused at its line, saying what it reads as."""
    header = ",".join(REQUIRED_LOSS_COLUMNS + ("description",))
    rows = [f"E{i},IF,RB,2005-07-01,2005-07-26,1000000,{d}" for i, d in
            enumerate(["고객 예금 횡령", "위조수표", "각각"])]
    assert "각각".encode("utf-8").decode("cp949") == "媛곴컖"
    path = tmp_path / "losses.csv"
    path.write_bytes("\n".join([header, *rows[:2]]).encode("cp949") + b"\n"
                     + rows[2].encode("utf-8") + b"\n")
    with pytest.raises(DataError) as ei:
        load_losses(path)
    assert [(p.source, p.where, p.column) for p in ei.value.problems] == [
        ("losses.csv", "line 4", None)]
    assert "'E2,IF,RB,2005-07-01,2005-07-26,1000000,각각' in UTF-8" in str(ei.value)
    assert "CP949" in str(ei.value)
    # a file wholly in CP949 loads, also with a syllable whose two bytes are valid UTF-8
    # ('치', C4 A1, is 'ġ' in UTF-8: no Hangul, so not taken for a pasted UTF-8 line)
    assert "치".encode("cp949").decode("utf-8") == "ġ"
    path.write_bytes("\n".join([header, *rows[:2], rows[2].replace("각각", "치")]
                               ).encode("cp949"))
    assert load_losses(path)["description"].tolist() == ["고객 예금 횡령", "위조수표", "치"]


# -- workbooks: date cells, numbers and text -----------------------------------------------

def _cell_text(text: str) -> str:
    """Text as a workbook cell holds it (openpyxl writes a string starting "=" as a formula)."""
    return text.lstrip("=")


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(evs=events(), data=st.data())
def test_a_workbook_with_any_cell_types_loads_exactly(tmp_path_factory, evs, data):
    """Dates as date cells, serial numbers or text; amounts as numbers or text."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(LOSS_COLUMNS))
    for e in evs:
        def date(d):
            if d is None:
                return None
            kind = data.draw(st.sampled_from(["date", "datetime", "serial", "serial float",
                                              "text", "hangul", "compact"]))
            return {"date": d, "datetime": dt.datetime.combine(d, dt.time(13, 45)),
                    "serial": (d - SERIAL_EPOCH).days,
                    "serial float": (d - SERIAL_EPOCH).days + 0.5625, "text": d.isoformat(),
                    "hangul": DATE_FORMS["hangul"](d), "compact": int(d.strftime("%Y%m%d"))
                    }[kind]
        gross = data.draw(st.sampled_from([e.gross, e.gross_text]))
        ws.append([e.event_id, e.event_type_text, e.business_line_text, date(e.occurrence),
                   date(e.discovery), date(e.booking), gross, e.insurance, e.other,
                   e.policy or None, _cell_text(e.description) or None])
    path = tmp_path_factory.mktemp("p") / "losses.xlsx"
    wb.save(path)
    want = expected(evs, LOSS_COLUMNS)
    want["description"] = [_cell_text(e.description).strip() for e in evs]
    pd.testing.assert_frame_equal(load_losses(path), want, check_exact=True)


# -- the counting years (issue 22, item 1) -------------------------------------------------

@SETTINGS
@given(years=st.lists(st.integers(1990, 2030), min_size=1, max_size=8))
def test_without_a_window_a_year_without_any_loss_inside_the_span_is_refused(
        tmp_path_factory, years):
    """No window: the file loads exactly when its occurrence years follow one another, and
    otherwise every date outside the data's period is refused at its line and column."""
    evs = [Event(f"E{i}", "IF", "IF", "RB", "RB", dt.date(y, 6, 1), dt.date(y, 6, 1), None,
                 1e8, "100000000", 0.0, 0.0, "", "") for i, y in enumerate(years)]
    fmt = TextFormat("utf-8", ",", "\n", False, False,
                     {c: "iso" for c in ("occurrence_date", "discovery_date", "booking_date")},
                     tuple(REQUIRED_LOSS_COLUMNS))
    path = tmp_path_factory.mktemp("p") / "losses.csv"
    starts = write_text(path, evs, fmt)
    held = set(years)
    if held == set(range(min(held), max(held) + 1)):
        assert load_losses(path)["occurrence_date"].dt.year.tolist() == years
        return
    runs = []                             # runs of consecutive years: (count, length, last)
    for y in sorted(held):
        if runs and y == runs[-1][2] + 1:
            runs[-1] = [runs[-1][0] + years.count(y), runs[-1][1] + 1, y]
        else:
            runs.append([years.count(y), 1, y])
    count, length, last = max(runs)
    period = range(last - length + 1, last + 1)
    with pytest.raises(DataError) as ei:
        load_losses(path)
    want = sorted({(f"line {starts[i]}", col) for i, y in enumerate(years) if y not in period
                   for col in ("occurrence_date", "discovery_date")},
                  key=lambda w: (int(w[0].split()[1]), w[1]))
    got = sorted({(p.where, p.column) for p in ei.value.problems},
                 key=lambda w: (int(w[0].split()[1]), w[1]))
    assert got == want
    assert all("observation window" in p.message for p in ei.value.problems)
    # with the window stated the same file loads, the empty years counted as years
    df = load_losses(path, observation=(f"{min(held)}-01-01", f"{max(held)}-12-31"))
    assert df["occurrence_date"].dt.year.tolist() == years
