"""Scenario analysis: experts' estimates per cell, as banks collect them in workshops.

One row per estimate (Basel II para 675; issue 23 item 2)::

    event_type, business_line, kind, amount, unit, return_period, author, date, note, group

* ``kind`` ``exceedance``: "a loss of at least ``amount`` about once in ``return_period``
  years"; ``worst``: the worst plausible single loss of the cell (``return_period`` may be
  left blank).
* ``amount`` is a positive number in the ``unit`` the row states: 원/KRW, 천원, 만원, 백만원,
  억원 or 조원 (a workshop writes "500" and "억원"). The unit may instead be stated once in
  the amount's header, ``amount (억원)`` or ``손실금액(단위: 억원)``; it must be stated one way
  or the other, never assumed. Other currencies are refused (convert to KRW first).
* ``event_type`` and ``business_line`` (optional, blank = the whole event type) are read as
  the loss loader reads them (codes, opwb's Korean/English names, the supervisor's standard
  names, the case's own names): the estimate's **cell** is ``"IF"`` or ``"IF|RB"``.
* ``author`` and ``date`` are required (who said it, when); ``note`` is optional.
* ``group`` (optional, blank = none) names a set of estimates that belong together and whose
  own effect the bank wants to see, e.g. a new business's forward-looking scenario
  (``MyData``): :meth:`ScenarioSet.without` leaves a group out
  (:func:`opwb.scenarios.elements.scenario_group_effect`).

Korean headers are recognised without a mapping (:data:`KOREAN_SCENARIO_COLUMNS`: 사건유형,
사업부문, 구분, 손실금액, 단위, 재현기간, 작성자, 작성일, 비고, 시나리오군), as are Korean kinds
(초과손실 = exceedance, 최대손실 = worst). :func:`load_scenarios` raises
:class:`opwb.DataError` naming the file, line or row and column of every problem; nothing is
dropped or filled in.

Examples
--------
>>> import io, pathlib, tempfile
>>> text = ("사건유형,구분,손실금액,단위,재현기간,작성자,작성일,비고\\n"
...         "내부사취,초과손실,300,억원,10,김위험,2007-03-02,지점장 CD 사기\\n"
...         "IF,최대손실,1500,억원,,김위험,2007-03-02,\\n")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "scenarios.csv"
>>> _ = path.write_text(text, encoding="utf-8")
>>> s = load_scenarios(path)
>>> [(e.cell, e.kind, e.amount, e.return_period) for e in s]
[('IF', 'exceedance', 30000000000.0, 10.0), ('IF', 'worst', 150000000000.0, None)]
>>> s.worst_plausible("IF"), s.worst_plausible("IF|RB"), s.worst_plausible("EF")
(150000000000.0, 150000000000.0, None)
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from opwb.data.errors import CellError
from opwb.data.tableio import (
    Problems,
    Table,
    column_index,
    is_blank,
    parse_amount,
    parse_date,
    parse_text,
    read_table,
)
from opwb.data.taxonomy import category_readers

__all__ = ["ScenarioEstimate", "ScenarioSet", "load_scenarios", "SCENARIO_COLUMNS",
           "REQUIRED_SCENARIO_COLUMNS", "KOREAN_SCENARIO_COLUMNS", "KRW_UNITS", "KINDS"]

Kind = Literal["exceedance", "worst"]
KINDS: tuple[str, ...] = ("exceedance", "worst")

SCENARIO_COLUMNS: tuple[str, ...] = ("event_type", "business_line", "kind", "amount", "unit",
                                     "return_period", "author", "date", "note", "group")
REQUIRED_SCENARIO_COLUMNS: tuple[str, ...] = ("event_type", "kind", "amount", "return_period",
                                              "author", "date")
"""``unit`` is required too unless the amount's header states it; ``business_line`` and
``note`` and ``group`` may be absent (a blank business line is the whole event type)."""

#: Usual Korean headers of a workshop's sheet → opwb's columns (recognised without mapping).
KOREAN_SCENARIO_COLUMNS: dict[str, str] = {
    "사건유형": "event_type", "손실유형": "event_type", "사업부문": "business_line",
    "구분": "kind", "시나리오구분": "kind", "손실금액": "amount", "금액": "amount",
    "단위": "unit", "재현기간": "return_period", "발생주기": "return_period",
    "작성자": "author", "평가자": "author", "작성일": "date", "평가일": "date",
    "비고": "note", "설명": "note", "시나리오군": "group", "그룹": "group",
}

#: KRW units a row (or the amount's header) may state → KRW per unit. Spaces and case do
#: not matter; a trailing 원 may be left out of the Korean units (억 = 억원).
KRW_UNITS: dict[str, float] = {
    "원": 1.0, "krw": 1.0, "won": 1.0, "천원": 1e3, "만원": 1e4, "백만원": 1e6,
    "천만원": 1e7, "억원": 1e8, "십억원": 1e9, "조원": 1e12,
}

_KIND_NAMES = {"exceedance": "exceedance", "초과": "exceedance", "초과손실": "exceedance",
               "빈도": "exceedance", "worst": "worst", "worstcase": "worst", "최대": "worst",
               "최대손실": "worst", "최대가능손실": "worst", "최악": "worst"}
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[(\[]\s*(?:단위\s*[:：]?\s*)?(?P<unit>[^)\]]+?)"
                          r"\s*[)\]]$")


def krw_per_unit(text: Any) -> float:
    """KRW per stated unit (:data:`KRW_UNITS`), e.g. ``"억원"`` → 1e8.

    Raises :class:`~opwb.data.errors.CellError` saying what was expected otherwise.

    Examples
    --------
    >>> krw_per_unit("억원"), krw_per_unit("억"), krw_per_unit(" KRW ")
    (100000000.0, 100000000.0, 1.0)
    """
    key = re.sub(r"\s+", "", parse_text(text)).casefold()
    if key in KRW_UNITS:
        return KRW_UNITS[key]
    if key + "원" in KRW_UNITS and key:
        return KRW_UNITS[key + "원"]
    raise CellError(f"expected a KRW unit ({', '.join(KRW_UNITS)}), got {text!r}; amounts in "
                    "another currency must be converted to KRW first")


@dataclass(frozen=True)
class ScenarioEstimate:
    """One expert estimate (amounts KRW, return periods years).

    Attributes
    ----------
    cell : str
        ``"IF"`` (an event type) or ``"IF|RB"`` (event type | business line).
    kind : {"exceedance", "worst"}
    amount : float
        X in KRW (the stated amount times its unit).
    return_period : float or None
        N in years (≥ 1) for ``exceedance``: a loss ≥ X about once in N years, i.e. an
        annual exceedance rate of 1/N; for ``worst`` the stated one, if any.
    author, date, note : the estimate's provenance (``date`` a :class:`datetime.date`).
    group : str
        The set of estimates it belongs to ("" when none), e.g. ``"MyData"``.
    where : str
        Its place in the source, e.g. ``"scenarios.csv, line 3"``.
    """

    cell: str
    kind: Kind
    amount: float
    return_period: float | None
    author: str
    date: _dt.date
    note: str = ""
    where: str = ""
    group: str = ""

    @property
    def event_type(self) -> str:
        return self.cell.split("|")[0]

    @property
    def business_line(self) -> str | None:
        parts = self.cell.split("|")
        return parts[1] if len(parts) > 1 else None

    @property
    def annual_rate(self) -> float | None:
        """The exceedance rate 1/N per year (``exceedance`` estimates), else None."""
        return 1.0 / self.return_period if self.kind == "exceedance" else None


@dataclass(frozen=True)
class ScenarioSet:
    """The scenario estimates of a case (iterable, in the source's order).

    ``source`` names where they were read from. Build one with :func:`load_scenarios`.
    """

    estimates: tuple[ScenarioEstimate, ...]
    source: str = ""

    def __iter__(self) -> Iterator[ScenarioEstimate]:
        return iter(self.estimates)

    def __len__(self) -> int:
        return len(self.estimates)

    @property
    def cells(self) -> tuple[str, ...]:
        """The cells with at least one estimate, in first-seen order."""
        return tuple(dict.fromkeys(e.cell for e in self.estimates))

    @property
    def groups(self) -> tuple[str, ...]:
        """The named groups of estimates (``group``), in first-seen order."""
        return tuple(dict.fromkeys(e.group for e in self.estimates if e.group))

    def without(self, group: str) -> "ScenarioSet":
        """The estimates outside ``group``: the workshop without that set of estimates.

        Raises
        ------
        ValueError
            No estimate is in ``group`` (naming the groups there are).
        """
        if group not in self.groups:
            raise ValueError(f"no scenario estimate is in group {group!r}; the groups are "
                             f"{list(self.groups) or 'none'} (the 'group' column, 시나리오군)")
        return ScenarioSet(tuple(e for e in self.estimates if e.group != group),
                           f"{self.source} without group {group}")

    def of(self, group: str) -> tuple[ScenarioEstimate, ...]:
        """The estimates in ``group`` (ValueError as :meth:`without` when there is none)."""
        self.without(group)
        return tuple(e for e in self.estimates if e.group == group)

    def for_cell(self, cell: str, kind: Kind | None = None, *,
                 within: bool = False) -> tuple[ScenarioEstimate, ...]:
        """The estimates stated for ``cell`` (of ``kind`` if given). With ``within``, an
        event type's cell also takes the estimates of its business-line cells."""
        def match(e: ScenarioEstimate) -> bool:
            return e.cell == cell or (within and "|" not in cell and e.event_type == cell)
        return tuple(e for e in self.estimates if match(e) and (kind is None or e.kind == kind))

    def worst_plausible(self, cell: str) -> float | None:
        """The cell's worst plausible single loss (KRW): its severity cap.

        The rule (issue 23 item 3): the **largest** ``worst`` estimate that bounds a loss of
        the cell — those stated for the cell itself; for an event type (``"IF"``) also those
        of its business lines (a loss of IF|RB is a loss of IF); for a business-line cell
        (``"IF|RB"``) without one of its own, the event type's (an IF-wide bound holds for
        each business line). The largest, not an average: every expert's worst case is
        plausible, and a cap below one of them would call it impossible. ``None`` when no
        estimate bounds the cell (the case's single ``severity_cap`` then applies).

        Returns
        -------
        float or None
            KRW.
        """
        own = [e.amount for e in self.for_cell(cell, "worst", within=True)]
        if not own and "|" in cell:
            own = [e.amount for e in self.for_cell(cell.split("|")[0], "worst")]
        return max(own) if own else None

    def severity_caps(self, cells, default: float | None) -> dict[str, float | None]:
        """Each of ``cells``' severity cap (KRW): :meth:`worst_plausible`, or ``default``
        (the case's single cap) where no estimate bounds the cell."""
        out = {}
        for cell in cells:
            cap = self.worst_plausible(cell)
            out[cell] = default if cap is None else cap
        return out


def load_scenarios(source: Any, *, columns: Mapping[str, str] | None = None,
                   encoding: str | None = None, sheet_name: str | int = 0,
                   header_row: int | None = None,
                   event_types: Mapping[str, str] | None = None,
                   business_lines: Mapping[str, str] | None = None,
                   max_errors: int = 20) -> ScenarioSet:
    """Load and validate a table of scenario estimates (see the module docstring).

    Parameters
    ----------
    source : str, Path or DataFrame
        A delimited text file or a workbook (judged by its contents, as
        :func:`opwb.data.tableio.read_table` reads them), or a DataFrame.
    columns : mapping, optional
        Source header → opwb column, for headers other than opwb's and
        :data:`KOREAN_SCENARIO_COLUMNS`.
    encoding, sheet_name, header_row
        As for :func:`opwb.data.losses.load_losses`.
    event_types, business_lines : mapping, optional
        The bank's category names → Basel codes (a case's ``[event_types]``,
        ``[business_lines]``).
    max_errors : int
        How many problems the message shows (all are in ``DataError.problems``).

    Returns
    -------
    ScenarioSet

    Raises
    ------
    opwb.DataError
        Every problem, as "file, line N, column 'c': expected ..., got ...": a missing column
        (the unit stated neither in a ``unit`` column nor in the amount's header, or in both);
        an unknown event type or business line; an unknown kind; an amount that is not a
        positive number; a unit that is not a KRW unit; a return period missing for an
        exceedance, or below 1 year; a missing author or date; a duplicated estimate (the
        same cell, kind and author on the same date — and for an exceedance the same
        amount — stated twice); a file without data rows.
    FileNotFoundError
        No such file.
    """
    readers = category_readers(event_types, business_lines)
    tbl = read_table(source, encoding=encoding, sheet_name=sheet_name, header_row=header_row)
    problems = Problems(tbl, max_errors)
    rename, header_unit = _header_names(tbl, dict(columns or {}), problems)
    idx = column_index(tbl, problems, required=REQUIRED_SCENARIO_COLUMNS,
                       optional=("business_line", "unit", "note", "group"),
                       columns=rename)
    if header_unit is None and "unit" not in idx and "amount" in idx:
        problems.add(tbl.header_pos or 1, "unit",
                     "missing column; the amounts' unit must be stated: a 'unit' (단위) column "
                     "(원, 만원, 억원, ...) or in the amount's header, e.g. 'amount (억원)'")
    if header_unit is not None and "unit" in idx:
        problems.add(tbl.header_pos or 1, "unit",
                     "the unit is stated twice, in the amount's header and in a 'unit' column; "
                     "expected one of them")
    problems.raise_if_any(final=False)
    problems.require_rows("estimate")
    found = [_parse_row(tbl, pos, values, idx, header_unit, readers, problems)
             for pos, values in tbl.rows]
    rows = [r for r in found if r is not None]
    _check_duplicates(rows, problems, tbl)
    problems.raise_if_any()
    return ScenarioSet(tuple(e for _, e in rows), tbl.name)


def _header_names(tbl: Table, columns: dict[str, str],
                  problems: Problems) -> tuple[dict[str, str], float | None]:
    """The header → opwb column mapping (opwb's names, the Korean ones, ``columns``), and
    the KRW per unit the amount's header states (``amount (억원)``), if it states one."""
    rename: dict[str, str] = {}
    unit = None
    for name in tbl.header:
        text = (name or "").strip()
        base = text
        m = _HEADER_UNIT.match(text)
        if m and _canonical(m.group("name"), columns) == "amount":
            base = m.group("name")
            try:
                unit = krw_per_unit(m.group("unit"))
            except CellError as exc:
                problems.add(tbl.header_pos or 1, "amount", f"the header {text!r} states a "
                             f"unit that is not one: {exc}")
        canon = _canonical(base, columns)
        if canon is not None:
            rename[name] = canon
    return rename, unit


def _canonical(name: str, columns: dict[str, str]) -> str | None:
    key = name.strip()
    if key in columns:
        return columns[key]
    if key in SCENARIO_COLUMNS:
        return key
    return KOREAN_SCENARIO_COLUMNS.get(re.sub(r"\s+", "", key))


def _parse_row(tbl, pos, values, idx, header_unit, readers, problems):
    if tbl.unit == "line" and len(values) != len(tbl.header):
        problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                f"found {len(values)}")
        return None
    n_before = len(problems.items)

    def cell(col, parse, missing=None):
        raw = values[idx[col]] if col in idx else None
        if is_blank(raw):
            if missing:
                problems.add(pos, col, "value is missing; " + missing)
            return None
        try:
            return parse(raw)
        except (CellError, ValueError) as exc:
            problems.add(pos, col, str(exc))
            return None

    et = cell("event_type", lambda v: readers[0](parse_text(v)),
              "expected the event type of the estimate's cell (a Basel code or its name)")
    bl = cell("business_line", lambda v: readers[1](parse_text(v)))
    kind = cell("kind", _kind, "expected the kind: exceedance (초과손실) or worst (최대손실)")
    amount = cell("amount", _positive_amount, "expected the amount X (a positive number)")
    factor = header_unit if header_unit is not None else cell(
        "unit", krw_per_unit, "expected the amount's unit (원, 만원, 억원, ...)")
    n_years = cell("return_period", _return_period,
                   "expected the return period N in years (≥ 1): a loss of at least X about "
                   "once in N years" if kind == "exceedance" else None)
    author = cell("author", parse_text, "expected who made the estimate")
    day = cell("date", lambda v: parse_date(v, epoch=tbl.serial_epoch).date(),
               "expected the date of the estimate (YYYY-MM-DD)")
    note = cell("note", parse_text) or ""
    group = cell("group", parse_text) or ""
    if len(problems.items) > n_before:
        return None
    est = ScenarioEstimate(cell=et if bl is None else f"{et}|{bl}", kind=kind,
                           amount=amount * factor, return_period=n_years, author=author,
                           date=day, note=note, where=f"{tbl.name}, {tbl.where(pos)}",
                           group=group)
    return pos, est


def _kind(raw: Any) -> str:
    key = re.sub(r"[\s_\-]+", "", parse_text(raw)).casefold()
    if key not in _KIND_NAMES:
        raise CellError(f"expected the kind of estimate: exceedance (초과손실: a loss of at "
                        f"least X about once in N years) or worst (최대손실: the worst plausible "
                        f"single loss), got {raw!r}")
    return _KIND_NAMES[key]


def _positive_amount(raw: Any) -> float:
    try:
        x = parse_amount(raw)
    except CellError as exc:
        raise CellError(str(exc).replace("an amount in KRW", "a positive amount")
                        .replace("a non-negative amount in KRW", "a positive amount")) from None
    if not x > 0:
        raise CellError(f"expected a positive amount (a loss of at least X), got {raw!r}")
    return x


def _return_period(raw: Any) -> float:
    text = parse_text(raw).replace(",", "")
    text = re.sub(r"\s*(년|years?|yrs?)$", "", text, flags=re.IGNORECASE)
    try:
        n = float(text)
    except ValueError:
        n = math.nan
    if isinstance(raw, bool) or not math.isfinite(n) or n < 1:
        raise CellError(f"expected a return period N in years, at least 1 (a loss of at least "
                        f"X about once in N years), got {raw!r}")
    return n


def _check_duplicates(rows: list[tuple[int, ScenarioEstimate]], problems: Problems,
                      tbl: Table) -> None:
    first: dict[tuple, int] = {}
    for pos, e in rows:
        key = (e.cell, e.kind, e.author, e.date) + ((e.amount,) if e.kind == "exceedance"
                                                    else ())
        if key in first:
            what = (f"a loss of at least {e.amount:,.0f} KRW" if e.kind == "exceedance"
                    else "a worst plausible loss")
            problems.add(pos, None, f"duplicated estimate: {e.author} already stated {what} "
                         f"for cell {e.cell} on {e.date} ({tbl.unit} {first[key]}); expected "
                         "each estimate once (correct or remove one of the two)")
        else:
            first[key] = pos
