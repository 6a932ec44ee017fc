"""Loss-event data: load, validate and convert at the boundary (nothing downstream re-checks).

The canonical columns are :data:`opwb.data.schema.LOSS_COLUMNS`. :func:`load_losses` reads
comma-, tab- or semicolon-delimited text (UTF-8 with or without BOM, CP949/EUC-KR as Korean
Excel saves CSV, UTF-16 as Excel's "Unicode text"), workbooks (.xlsx, .xlsm, .xls, .xlsb,
.ods), a SQL table (URL or connection) or a DataFrame (see :func:`opwb.data.tableio.read_table`
and the table of formats in ``data/README.md``), and raises :class:`opwb.DataError` listing every
problem with its file, line/row and column. Losses below a collection ``threshold`` are
kept apart (see :func:`split_threshold`) and counted in the load report, never dropped
silently.

A bank's own file is read as it comes (a :class:`opwb.data.case.Case` passes these): a title
block above the header (``header_row``; without it, a header found further down is named in
one problem), the bank's names of event types and business lines (``event_types``,
``business_lines``; the supervisor's standard names are known), and its observation window
(``observation``: dates outside it are problems). A totals row (합계, 소계, Total, ...) is
named as such.

What the cells may hold beyond plain values: a ``booking_date`` of 9999-12-31 (or
``99991231``, ``0000-00-00``: the placeholders systems write for "no date") is read as not
booked, like a blank cell; in the other date columns it is a problem. Dates stored as
plain numbers in a workbook are read in the workbook's date system (1900, or 1904 for a
workbook flagged ``date1904``). A gross loss above the plausible maximum of a single loss
(``max_loss``, :data:`opwb.data.schema.PLAUSIBLE_MAX_LOSS` = 10조원 unless the case raises
it) is a problem: a slip, not a loss.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opwb.data import schema as S
from opwb.data.errors import DataError, Problem
from opwb.data.periods import isolated_dates
from opwb.data.tableio import (
    CellError,
    NoDate,
    Problems,
    Table,
    Unreadable,
    column_index,
    is_blank,
    parse_amount,
    parse_date,
    parse_optional_date,
    parse_text,
    read_table,
)
from opwb.data.taxonomy import (
    BUSINESS_LINE_CODES,
    EVENT_TYPE_CODES,
    MappingProblem,
    name_reader,
)

__all__ = ["load_losses", "split_threshold", "LoadReport", "REQUIRED_LOSS_COLUMNS"]

REQUIRED_LOSS_COLUMNS = (S.EVENT_ID, S.EVENT_TYPE, S.BUSINESS_LINE, S.OCCURRENCE_DATE,
                         S.DISCOVERY_DATE, S.GROSS_LOSS)
OPTIONAL_LOSS_COLUMNS = tuple(c for c in S.LOSS_COLUMNS if c not in REQUIRED_LOSS_COLUMNS)
"""Columns that may be absent: booking_date (→ NaT), recoveries (→ 0), policy_id and
description (→ ""). The load report lists which were filled in."""


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_losses` read, kept and set apart (``df.attrs['load_report']``)."""

    source: str
    rows_read: int
    rows_loaded: int
    threshold: float | None = None
    below_threshold: int = 0
    below_threshold_total: float = 0.0
    below_threshold_event_ids: tuple[str, ...] = ()
    defaulted_columns: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        from opwb.data.units import format_krw
        lines = [f"{self.source}: {self.rows_read} events read, {self.rows_loaded} loaded"]
        if self.threshold is not None:
            lines.append(f"  collection threshold {format_krw(self.threshold)}: "
                         f"{self.below_threshold} events below it set apart "
                         f"(total {format_krw(self.below_threshold_total)})")
        if self.defaulted_columns:
            lines.append("  absent optional columns filled in: "
                         + ", ".join(self.defaulted_columns))
        if self.extra_columns:
            lines.append("  extra columns kept as text: " + ", ".join(self.extra_columns))
        return "\n".join(lines)


def load_losses(source: Any, *, columns: Mapping[str, str] | None = None,
                threshold: float | None = None, encoding: str | None = None,
                sheet_name: str | int = 0, table: str | None = None,
                header_row: int | None = None,
                event_types: Mapping[str, str] | None = None,
                business_lines: Mapping[str, str] | None = None,
                observation: tuple[Any, Any] | None = None,
                max_loss: float | None = S.PLAUSIBLE_MAX_LOSS,
                max_errors: int = 20) -> pd.DataFrame:
    """Load and validate loss events.

    Parameters
    ----------
    source : str, Path, SQL URL, DB-API/SQLAlchemy connection, or DataFrame
        A delimited text file (.csv, .txt, ...) or a workbook (.xlsx, .xlsm, .xls, .xlsb,
        .ods), judged by its contents; ``"sqlite:///losses.db"`` or any SQLAlchemy URL, an
        open connection (with ``table=``), or a DataFrame to validate.
    columns : mapping, optional
        Source header → canonical column, e.g. :data:`opwb.KOREAN_COLUMNS`.
    threshold : float, optional
        Collection threshold in KRW. Events with ``gross_loss`` below it are left out of the
        returned frame and reported in ``df.attrs['load_report']``; use
        :func:`split_threshold` on an unthresholded load to get them as a frame.
    encoding : str, optional
        Text encoding; by default a byte-order mark decides (UTF-8, UTF-16), else UTF-8,
        then CP949.
    sheet_name : str or int
        Workbook sheet (name or 0-based position). ``table`` : SQL table name.
    header_row : int, optional
        The header's line (text) or row (sheet), 1 = the first: the lines or rows above it
        (a bank's title block) are ignored. By default the first non-blank one is the
        header; when it lacks the required columns and a later one holds them all, the one
        problem raised names that row.
    event_types, business_lines : mapping, optional
        The bank's category names → Basel codes (e.g. ``{"기업금융": "CF"}``), tried before
        the codes, opwb's Korean/English names and the standard (FSS) event-type names
        (:func:`opwb.data.taxonomy.name_reader`); spaces and dots do not matter.
    observation : (start, as_of), optional
        The observation window (ISO dates): occurrence and discovery dates outside it are
        problems; stored as ``df.attrs['observation']`` (a pair of ``pandas.Timestamp``).
        Without it the frequencies count every calendar year from the first date to the
        last, so the years holding occurrence dates (and those holding discovery dates)
        must follow one another: a date cut off from the data's period by a calendar year
        without any loss is a problem (:func:`opwb.data.periods.isolated_dates`).
    max_loss : float or None
        The plausible maximum of a single gross loss, KRW (default
        :data:`opwb.data.schema.PLAUSIBLE_MAX_LOSS`, 10조원; a case's ``plausible_max_loss``):
        a larger ``gross_loss`` is a problem (a slip: digits typed twice, an account number
        in the amount column). ``None`` or ``inf``: no maximum.
    max_errors : int
        How many problems the error message shows (all are in ``DataError.problems``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`opwb.data.schema.LOSS_COLUMNS` (then any extra source columns as text);
        codes as in :mod:`opwb.data.taxonomy`, dates as datetime64 (``booking_date`` NaT when
        not booked: blank or a placeholder such as 9999-12-31), amounts as float64 KRW,
        ``policy_id`` "" when no policy paid.

    Raises
    ------
    opwb.DataError
        Listing every problem as "file, line N, column 'c': expected ..., got ...": bad
        values, dates that are not dates (a run of digits is a date only with exactly 8,
        YYYYMMDD) or outside the observation window — without one, dates cut off from the
        data's period by calendar years holding no loss (a year typed 1905 or 2106, which
        would stretch the counting years and divide every frequency: correct the date or
        state ``observation``) —, a placeholder for "no date"
        (9999-12-31) where a date is required, a gross loss above ``max_loss``, formulas a
        program left uncalculated,
        text lines not valid in the file's encoding (naming the byte), a file that is no
        table (saying what it is), category names that are unknown (listing the accepted
        ones) or ambiguous ("기업금융"), totals rows; a header found below the first row
        (naming it) instead of one problem per missing column; a mapping entry whose value
        is not a code.
    ValueError
        ``observation`` that is not two dates, start first; a bad ``header_row``; a
        ``max_loss`` that is not a positive amount.

    Examples
    --------
    >>> import opwb
    >>> from opwb.data.losses import load_losses
    >>> df = load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    >>> sorted(df["event_type"].unique()) == sorted(opwb.EVENT_TYPES)
    True
    """
    rules = _rules(event_types, business_lines, observation, max_loss)
    tbl = read_table(source, encoding=encoding, sheet_name=sheet_name, table=table,
                     header_row=header_row)
    problems = Problems(tbl, max_errors)
    idx = column_index(tbl, problems, required=REQUIRED_LOSS_COLUMNS,
                       optional=OPTIONAL_LOSS_COLUMNS, columns=dict(columns or {}),
                       find_header=True)
    problems.raise_if_any(final=False)
    problems.require_rows("loss event")
    records = [_parse_row(tbl, pos, values, idx, problems, rules) for pos, values in tbl.rows]
    _check_duplicates(tbl, records, problems)
    if rules.window is None:
        _check_period(records, problems)
    problems.raise_if_any()
    rename = dict(columns or {})
    extras = tuple(h for h in tbl.header if h and rename.get(h, h) not in S.LOSS_COLUMNS)
    frame = _to_frame(records, tbl, idx, extras)
    report = LoadReport(
        source=tbl.name, rows_read=len(frame), rows_loaded=len(frame),
        defaulted_columns=tuple(c for c in OPTIONAL_LOSS_COLUMNS if c not in idx),
        extra_columns=extras)
    return _finish(frame, report, threshold, rules.window)


def _finish(frame: pd.DataFrame, report: LoadReport, threshold: float | None,
            window: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.DataFrame:
    """Set apart the losses below the threshold; attach the report and the window."""
    if threshold is not None:
        frame, below = split_threshold(frame, threshold)
        report = LoadReport(
            **{**report.__dict__, "rows_loaded": len(frame), "threshold": float(threshold),
               "below_threshold": len(below),
               "below_threshold_total": float(below[S.GROSS_LOSS].sum()),
               "below_threshold_event_ids": tuple(below[S.EVENT_ID])})
    frame.attrs["load_report"] = report
    if window is not None:
        frame.attrs["observation"] = window
    return frame


@dataclass(frozen=True)
class _Rules:
    """How a row's categories are read and which dates it may have."""

    event_type: Callable[[Any], str]
    business_line: Callable[[Any], str]
    window: tuple[pd.Timestamp, pd.Timestamp] | None
    max_loss: float = np.inf


def _rules(event_types: Mapping[str, str] | None, business_lines: Mapping[str, str] | None,
           observation: tuple[Any, Any] | None, max_loss: float | None = None) -> _Rules:
    readers = []
    for section, names in (("event_types", event_types), ("business_lines", business_lines)):
        try:
            readers.append(_code(name_reader(section, names)))
        except MappingProblem as exc:
            raise DataError([Problem(f"the {section} mapping", f"entry {k!r}", None, m)
                             for k, m in exc.entries]) from None
    return _Rules(readers[0], readers[1], _window(observation), _max_loss(max_loss))


def _max_loss(max_loss: float | None) -> float:
    if max_loss is None:
        return np.inf
    if isinstance(max_loss, bool) or not isinstance(max_loss, (int, float, np.number)) \
            or not max_loss > 0:
        raise ValueError(f"max_loss must be a positive amount in KRW (None: no maximum), got "
                         f"{max_loss!r}")
    return float(max_loss)


def _window(observation: tuple[Any, Any] | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if observation is None:
        return None
    try:
        start, as_of = (pd.Timestamp(d).normalize() for d in observation)
    except (TypeError, ValueError):
        raise ValueError(f"observation must be (start, as-of date) as two ISO dates, got "
                         f"{observation!r}") from None
    if pd.isna(start) or pd.isna(as_of) or start > as_of:
        raise ValueError(f"observation must be (start, as-of date) with the start first, got "
                         f"{observation!r}")
    return start, as_of


def split_threshold(losses: pd.DataFrame, threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split loss events into (at or above ``threshold``, below it), both re-indexed from 0."""
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite non-negative amount in KRW, got {threshold!r}")
    below = ~S.collected(losses[S.GROSS_LOSS], threshold)
    keep = losses.loc[~below].reset_index(drop=True)
    apart = losses.loc[below].reset_index(drop=True)
    keep.attrs, apart.attrs = {}, {}
    return keep, apart


_ET_EXPECTED = "expected an event-type code (" + ", ".join(EVENT_TYPE_CODES) + \
    ") or its Korean/English name"
_BL_EXPECTED = "expected a business-line code (" + ", ".join(BUSINESS_LINE_CODES) + \
    ") or its Korean/English name"


def _parse_row(tbl: Table, pos: int, values: tuple, idx: dict[str, int],
               problems: Problems, rules: _Rules) -> dict[str, Any]:
    total = _totals_cell(tbl, values, idx)
    if total is not None:
        problems.add(pos, total[0], f"this {tbl.unit} looks like a totals row ({total[1]!r}); "
                                    "remove it — opwb needs one row per loss event")
        return {}
    if tbl.unit == "line" and len(values) != len(tbl.header):
        problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                f"found {len(values)}")
        return {}

    def parse(col, fn, *, required, default=None):
        raw = values[idx[col]] if col in idx else None
        if is_blank(raw):
            if required:
                problems.add(pos, col, "value is missing; " + _MISSING[col])
            return default
        try:
            return fn(raw)
        except CellError as exc:
            problems.add(pos, col, str(exc))
            return default

    rec: dict[str, Any] = {"_pos": pos}
    rec[S.EVENT_ID] = parse(S.EVENT_ID, parse_text, required=True)
    rec[S.EVENT_TYPE] = parse(S.EVENT_TYPE, rules.event_type, required=True)
    rec[S.BUSINESS_LINE] = parse(S.BUSINESS_LINE, rules.business_line, required=True)
    for col in S.LOSS_DATE_COLUMNS:
        rec[col] = parse(col, _date_parser(col, tbl), required=col != S.BOOKING_DATE)
    for col in S.LOSS_AMOUNT_COLUMNS:
        rec[col] = parse(col, parse_amount, required=col == S.GROSS_LOSS)
    _check_plausible(rec, pos, rules.max_loss, problems)
    for col in (S.POLICY_ID, S.DESCRIPTION):
        rec[col] = parse(col, parse_text, required=False, default="")
    for name, j in _extra_positions(tbl, idx):
        if isinstance(values[j], Unreadable):
            problems.add(pos, name, values[j].reason)
    _check_consistency(rec, pos, idx, problems)
    _check_window(rec, pos, rules.window, problems)
    return rec


_TOTALS = frozenset({"합계", "소계", "총계", "총합계", "계", "total", "sum", "subtotal",
                     "grandtotal"})


def _totals_cell(tbl: Table, values: tuple, idx: dict[str, int]) -> tuple[str, str] | None:
    """(column, label) when the event-id, event-type or first cell reads 합계, Total, ..."""
    cells = [(c, idx[c]) for c in (S.EVENT_ID, S.EVENT_TYPE) if c in idx]
    if tbl.header:
        cells.append((tbl.header[0], 0))
    for col, j in cells:
        v = values[j] if j < len(values) else None
        if isinstance(v, str) and re.sub(r"[\s:]+", "", v).casefold() in _TOTALS:
            return col, v.strip()
    return None


def _date_parser(col: str, tbl: Table) -> Callable[[Any], pd.Timestamp | None]:
    """The cell parser of a date column: serial numbers in the source's date system; a
    placeholder for "no date" is "not booked" in ``booking_date`` and a problem elsewhere."""
    if col == S.BOOKING_DATE:
        return lambda raw: parse_optional_date(raw, epoch=tbl.serial_epoch)

    def parse(raw):
        try:
            return parse_date(raw, epoch=tbl.serial_epoch)
        except NoDate as exc:
            raise CellError(f"{exc}: the {col.replace('_', ' ')} is required (only "
                            f"{S.BOOKING_DATE} may say 'no date': not booked)") from None
    return parse


def _check_plausible(rec: dict, pos: int, max_loss: float, problems: Problems) -> None:
    gross = rec[S.GROSS_LOSS]
    if gross is not None and gross > max_loss:
        from opwb.data.units import format_krw
        problems.add(pos, S.GROSS_LOSS,
                     f"gross loss {gross:,.0f} KRW ({format_krw(gross)}) is above the plausible "
                     f"maximum of a single loss, {format_krw(max_loss)}; expected an amount in "
                     "won (a slip: digits typed twice, another number in this column?) — if "
                     "the loss is real, raise the case's plausible_max_loss "
                     "(load_losses(max_loss=...))")


def _code(read: Callable[[str], str]) -> Callable[[Any], str]:
    """A cell parser for a taxonomy code from a reader that raises ValueError."""
    def parse(raw):
        try:
            return read(parse_text(raw))
        except ValueError as exc:
            raise CellError(str(exc)) from None
    return parse


def _extra_positions(tbl: Table, idx: dict[str, int]) -> list[tuple[str, int]]:
    used = {idx[c] for c in S.LOSS_COLUMNS if c in idx}
    return [(h, j) for j, h in enumerate(tbl.header) if h and j not in used]


_MISSING = {
    S.EVENT_ID: "expected a unique event id",
    S.EVENT_TYPE: _ET_EXPECTED,
    S.BUSINESS_LINE: _BL_EXPECTED,
    S.OCCURRENCE_DATE: "expected a date as YYYY-MM-DD",
    S.DISCOVERY_DATE: "expected a date as YYYY-MM-DD",
    S.GROSS_LOSS: "expected the gross loss in KRW",
}


def _check_consistency(rec: dict, pos: int, idx: dict, problems: Problems) -> None:
    occ, disc, book = rec[S.OCCURRENCE_DATE], rec[S.DISCOVERY_DATE], rec[S.BOOKING_DATE]
    if occ is not None and disc is not None and disc < occ:
        problems.add(pos, S.DISCOVERY_DATE,
                     f"discovery date {disc.date()} is before the occurrence date {occ.date()}; "
                     "expected discovery on or after occurrence")
    if book is not None and disc is not None and book < disc:
        problems.add(pos, S.BOOKING_DATE,
                     f"booking date {book.date()} is before the discovery date {disc.date()}; "
                     "expected booking on or after discovery")
    gross = rec[S.GROSS_LOSS]
    ins = rec[S.INSURANCE_RECOVERY] or 0.0
    other = rec[S.OTHER_RECOVERY] or 0.0
    if gross is None:
        return
    if ins > gross:
        problems.add(pos, S.INSURANCE_RECOVERY,
                     f"insurance recovery {ins:,.0f} exceeds the gross loss {gross:,.0f}; "
                     "expected recoveries no larger than the gross loss")
    elif ins + other > gross:
        problems.add(pos, S.OTHER_RECOVERY,
                     f"recoveries (insurance {ins:,.0f} + other {other:,.0f}) exceed the gross "
                     f"loss {gross:,.0f}; expected recoveries no larger than the gross loss")
    if ins > 0 and S.POLICY_ID in idx and not rec[S.POLICY_ID]:
        problems.add(pos, S.POLICY_ID, "an insurance recovery is recorded but no policy; "
                                       "expected the id of the policy that paid")


def _check_window(rec: dict, pos: int, window: tuple[pd.Timestamp, pd.Timestamp] | None,
                  problems: Problems) -> None:
    if window is None:
        return
    start, as_of = window
    for col, what in ((S.OCCURRENCE_DATE, "occurrence date"),
                      (S.DISCOVERY_DATE, "discovery date")):
        day = rec[col]
        if day is not None and not start <= day <= as_of:
            problems.add(pos, col, f"{what} {day.date()} is outside the observation window "
                                   f"{start.date()} – {as_of.date()} of the case; expected a "
                                   "date within it (a typo?)")


def _check_period(records: list[dict], problems: Problems) -> None:
    """Without a window: occurrence and discovery dates (those that make the counting years)
    cut off from the data's period by years without a loss."""
    for col in (S.OCCURRENCE_DATE, S.DISCOVERY_DATE):
        for i, message in isolated_dates([r.get(col) for r in records],
                                         what=col.replace("_", " ")):
            problems.add(records[i]["_pos"], col, message)


def _check_duplicates(tbl: Table, records: list[dict], problems: Problems) -> None:
    first: dict[str, int] = {}
    for rec in records:
        eid = rec.get(S.EVENT_ID)
        if eid is None:
            continue
        if eid in first:
            problems.add(rec["_pos"], S.EVENT_ID,
                         f"duplicate event id {eid!r} (first on {tbl.unit} {first[eid]}); "
                         "expected each event id once")
        else:
            first[eid] = rec["_pos"]


def _to_frame(records: list[dict], tbl: Table, idx: dict[str, int],
              extras: tuple[str, ...]) -> pd.DataFrame:
    data: dict[str, Any] = {}
    for col in S.LOSS_COLUMNS:
        vals = [r[col] for r in records]
        if col in S.LOSS_DATE_COLUMNS:
            data[col] = pd.to_datetime(pd.Series([pd.NaT if v is None else v for v in vals],
                                                 dtype="object")).astype("datetime64[ns]")
        elif col in S.LOSS_AMOUNT_COLUMNS:
            data[col] = np.array([0.0 if v is None else v for v in vals], dtype=np.float64)
        else:
            data[col] = pd.Series(vals, dtype="str")
    frame = pd.DataFrame(data)
    for name in extras:
        j = tbl.header.index(name)
        frame[name] = pd.Series(["" if is_blank(v[j]) else parse_text(v[j]) for _, v in tbl.rows],
                                dtype="str")
    return frame
