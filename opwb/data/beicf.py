"""Business-environment and internal-control factors (BEICF): a scorecard that scales a cell.

Basel II para 676 asks an AMA to reflect "key business environment and internal control
factors" that change the bank's risk profile, forward-looking, in a documented and
bounded way (issue 23 item 4). The scorecard holds one row per factor::

    event_type, business_line, factor, applies_to, score, baseline, weight, scale,
    author, date, note

* ``event_type`` and ``business_line`` (optional, blank = the whole event type) are read as
  the loss loader reads them (codes, opwb's Korean/English names, the supervisor's standard
  names, the case's own names): the factor's **cell** is ``"IF"`` or ``"IF|RB"``.
* ``factor`` names what is scored: a key risk indicator (e.g. staff turnover of a branch
  network) or a control assessment (e.g. an audit rating of dual control over CDs).
* ``applies_to``: ``frequency`` (빈도) or ``severity`` (심도) — which of the cell's scales
  the factor moves.
* ``score`` and ``baseline``: positive numbers on the factor's own scale, **oriented so that
  a higher score means more risk** (a control assessment is scored as its weakness, e.g.
  1 = strong … 5 = weak). ``baseline`` is the score of the period the cell's model was
  calibrated on: a factor at its baseline changes nothing. ``scale`` (optional text) states
  the scale, e.g. ``1–5 (5 = 통제 취약)`` or ``월 이직률 %``.
* ``weight`` in [0, 1]: how strongly the factor moves its target (0 = recorded, no effect).
* ``author`` and ``date`` are required (who scored it, when); ``note`` is optional.

Korean headers are recognised without a mapping (:data:`KOREAN_BEICF_COLUMNS`: 사건유형,
사업부문, 요인, 적용대상, 점수, 기준점수, 가중치, 척도, 작성자, 작성일, 비고), as are the
Korean targets (빈도 = frequency, 심도 = severity). :func:`load_scorecard` raises
:class:`opwb.DataError` naming the file, line or row and column of every problem; nothing is
dropped, coerced or filled in.

The scaling rule
----------------
For a cell c and a target t (frequency or severity), with the factors i stated for it::

    m(c, t) = clip( Π_i (score_i / baseline_i) ^ weight_i , lower, upper )

(:func:`scorecard_factors`). The frequency multiplier scales the cell's annual rate λ
(λ' = m_f λ: a Poisson mean, or a negative binomial's mean at a fixed dispersion); the severity
multiplier scales every loss of the cell (X' = m_s X: a scale family's scale, so every
quantile moves by m_s), :func:`apply_factors`. The product is the scorecard approach's rescaling
of a capital figure by the ratio of the current risk score to the score at calibration,
K' = K × R/R₀ (e.g. the AMA scorecard slide of the State Bank of Pakistan's "Operational Risk
Management in Pakistan"; Cavestany, "BEICFs modelling and integration into the capital
model", *Operational Risk Capital Models*, 2nd ed., Risk Books), applied per factor and per
target (frequency and severity are the drivers a scorecard question is written for: APRA,
Watchorn & Levy, *Developing BEICFs for Operational Risk Measurement and Management*, 2008),
and combined geometrically so that factors compose as multipliers: with weights summing to
1 the unclipped product is the weighted geometric mean of the score ratios; a weight below 1
damps a factor (its ratio is raised to a power below 1). A cell's target without a factor
has the empty product, 1. For a business-line cell (``"IF|RB"``) the product runs over its
own factors **and** its event type's (an IF-wide factor holds in each business line); an
event-type cell takes only the event type's factors (a factor of IF|RB says nothing about
IF's other business lines).

The bounds ``lower`` ≤ 1 ≤ ``upper`` are settings (:data:`BEICF_BOUNDS`, 0.75–1.5 by
default): qualitative factors move a model fitted on data within a stated band, never
without limit, and a validator signs the band. The default band is asymmetric on purpose
(a deterioration may raise a cell by half, an improvement lower it by a quarter): relief
from better controls is claimed more cautiously than a worse environment is charged.

Examples
--------
>>> import pathlib, tempfile
>>> text = ("사건유형,요인,적용대상,점수,기준점수,가중치,작성자,작성일\\n"
...         "내부사취,지점 직원 이직률,빈도,6,4,0.5,운영리스크팀,2006-12-15\\n"
...         "IF,CD 이중통제 감사등급,심도,2,3,1,운영리스크팀,2006-12-15\\n")
>>> path = pathlib.Path(tempfile.mkdtemp()) / "beicf.csv"
>>> _ = path.write_text(text, encoding="utf-8")
>>> card = load_scorecard(path)
>>> [(f.cell, f.applies_to, f.ratio) for f in card]
[('IF', 'frequency', 1.5), ('IF', 'severity', 0.6666666666666666)]
>>> m = scorecard_factors(card, lower=0.75, upper=1.5)["IF"]
>>> round(m["frequency"], 4), m["severity"]          # 1.5 ** 0.5; 2/3 clipped to 0.75
(1.2247, 0.75)
>>> apply_factors(m, rate=12.0, scale=6e7)
(14.696938456699067, 45000000.0)
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

from opwb.data.errors import CellError
from opwb.data.tableio import (
    Problems,
    Table,
    column_index,
    is_blank,
    parse_date,
    parse_text,
    read_table,
)
from opwb.data.taxonomy import category_readers

__all__ = ["Factor", "ScoreCard", "load_scorecard", "scorecard_factors", "apply_factors",
           "check_bounds", "BEICF_COLUMNS", "REQUIRED_BEICF_COLUMNS", "KOREAN_BEICF_COLUMNS",
           "TARGETS", "BEICF_BOUNDS"]

Target = Literal["frequency", "severity"]
TARGETS: tuple[str, ...] = ("frequency", "severity")

#: The default band (lower, upper) of a cell's multiplier: the case's setting.
BEICF_BOUNDS: tuple[float, float] = (0.75, 1.5)

BEICF_COLUMNS: tuple[str, ...] = ("event_type", "business_line", "factor", "applies_to",
                                  "score", "baseline", "weight", "scale", "author", "date",
                                  "note")
REQUIRED_BEICF_COLUMNS: tuple[str, ...] = ("event_type", "factor", "applies_to", "score",
                                           "baseline", "weight", "author", "date")
"""``business_line``, ``scale`` and ``note`` may be absent (a blank business line is the
whole event type)."""

#: Usual Korean headers of a scorecard sheet → opwb's columns (recognised without mapping).
KOREAN_BEICF_COLUMNS: dict[str, str] = {
    "사건유형": "event_type", "손실유형": "event_type", "사업부문": "business_line",
    "요인": "factor", "평가요인": "factor", "지표": "factor", "평가항목": "factor",
    "적용대상": "applies_to", "적용": "applies_to", "점수": "score", "평가점수": "score",
    "현재점수": "score", "기준점수": "baseline", "기준": "baseline", "가중치": "weight",
    "척도": "scale", "작성자": "author", "평가자": "author", "작성일": "date", "평가일": "date",
    "비고": "note", "설명": "note",
}

_TARGET_NAMES = {"frequency": "frequency", "freq": "frequency", "빈도": "frequency",
                 "발생빈도": "frequency", "severity": "severity", "sev": "severity",
                 "심도": "severity", "손실규모": "severity", "손실심도": "severity"}


@dataclass(frozen=True)
class Factor:
    """One scored factor of a cell.

    Attributes
    ----------
    cell : str
        ``"IF"`` (an event type) or ``"IF|RB"`` (event type | business line).
    factor : str
        What is scored (a key risk indicator, a control assessment).
    applies_to : {"frequency", "severity"}
    score, baseline : float
        Positive, on the factor's scale (higher = more risk); dimensionless.
    weight : float
        In [0, 1].
    author, date, scale, note : the factor's provenance and its stated scale.
    where : str
        Its place in the source, e.g. ``"beicf.csv, line 3"``.
    """

    cell: str
    factor: str
    applies_to: Target
    score: float
    baseline: float
    weight: float
    author: str
    date: _dt.date
    scale: str = ""
    note: str = ""
    where: str = ""

    @property
    def event_type(self) -> str:
        return self.cell.split("|")[0]

    @property
    def business_line(self) -> str | None:
        parts = self.cell.split("|")
        return parts[1] if len(parts) > 1 else None

    @property
    def ratio(self) -> float:
        """score / baseline (dimensionless; > 1: more risk than at calibration)."""
        return self.score / self.baseline

    @property
    def multiplier(self) -> float:
        """The factor's own term (score / baseline) ^ weight, before any bound."""
        return self.ratio ** self.weight


@dataclass(frozen=True)
class ScoreCard:
    """The BEICF scorecard of a case (iterable, in the source's order).

    ``source`` names where it was read from. Build one with :func:`load_scorecard`.
    """

    factors: tuple[Factor, ...]
    source: str = ""

    def __iter__(self) -> Iterator[Factor]:
        return iter(self.factors)

    def __len__(self) -> int:
        return len(self.factors)

    @property
    def cells(self) -> tuple[str, ...]:
        """The cells with at least one factor, in first-seen order."""
        return tuple(dict.fromkeys(f.cell for f in self.factors))

    def for_cell(self, cell: str, applies_to: Target | None = None) -> tuple[Factor, ...]:
        """The factors that move ``cell`` (of target ``applies_to`` if given): its own, and
        for a business-line cell its event type's too (see the module docstring)."""
        own = {cell, cell.split("|")[0]}
        return tuple(f for f in self.factors if f.cell in own
                     and (applies_to is None or f.applies_to == applies_to))

    def product(self, cell: str, applies_to: Target) -> float:
        """Π (score / baseline) ^ weight over :meth:`for_cell`, unbounded (1 for none)."""
        return float(math.prod(f.multiplier for f in self.for_cell(cell, applies_to)))


def check_bounds(lower: Any, upper: Any) -> tuple[float, float]:
    """The multiplier band as floats, or ``ValueError`` saying what was expected.

    ``lower`` must be in (0, 1] and ``upper`` in [1, ∞): a band that excludes 1 would move a
    cell whose factors all sit at their baselines.

    Examples
    --------
    >>> check_bounds(0.75, 1.5)
    (0.75, 1.5)
    """
    lo, hi = _real(lower), _real(upper)
    for name, value, x in (("lower", lower, lo), ("upper", upper, hi)):
        if not math.isfinite(x):
            raise ValueError(f"the BEICF bound {name} must be a finite number, got {value!r}")
    if not 0 < lo <= 1:
        raise ValueError(f"the BEICF bound lower must be in (0, 1] (a multiplier floor: 0.75 "
                         f"lets factors lower a cell by at most 25%), got {lower!r}")
    if hi < 1:
        raise ValueError(f"the BEICF bound upper must be at least 1 (a multiplier ceiling: 1.5 "
                         f"lets factors raise a cell by at most 50%), got {upper!r}")
    return lo, hi


def scorecard_factors(scorecard: ScoreCard, *, lower: float, upper: float
                      ) -> dict[str, dict[str, float]]:
    """Each scored cell's frequency and severity multipliers (the module docstring's rule).

    Parameters
    ----------
    scorecard : ScoreCard
    lower, upper : float
        The band, ``0 < lower ≤ 1 ≤ upper`` (:data:`BEICF_BOUNDS` is the default setting).

    Returns
    -------
    dict
        Cell → ``{"frequency": m_f, "severity": m_s}``, dimensionless multipliers in
        [lower, upper], for every cell with at least one factor (a target without a factor
        of its own or of its event type has m = 1).

    Raises
    ------
    ValueError
        Bounds not finite numbers, ``lower`` not in (0, 1], ``upper`` below 1.
    """
    lo, hi = check_bounds(lower, upper)
    return {cell: {t: min(max(scorecard.product(cell, t), lo), hi) for t in TARGETS}
            for cell in scorecard.cells}


def apply_factors(multipliers: Mapping[str, float], *, rate: float, scale: float
                  ) -> tuple[float, float]:
    """A cell's annual rate and severity scale moved by its multipliers.

    Parameters
    ----------
    multipliers : mapping
        ``{"frequency": m_f, "severity": m_s}`` as :func:`scorecard_factors` gives them.
    rate : float
        The cell's annual rate λ of losses (per year, ≥ 0).
    scale : float
        The cell's severity scale (KRW, > 0): the factor every loss is multiplied by (a
        scale family's ``scale``; for a ``loc``-shifted family the caller moves ``loc`` too).

    Returns
    -------
    (float, float)
        ``(m_f × rate, m_s × scale)``: per year, KRW.

    Raises
    ------
    ValueError
        ``multipliers`` without exactly the keys frequency and severity, or one not a
        positive finite number; ``rate`` negative or not finite; ``scale`` not positive or
        not finite.
    """
    if not isinstance(multipliers, Mapping) or set(multipliers) != set(TARGETS):
        raise ValueError(f"expected multipliers {{'frequency': m_f, 'severity': m_s}}, got "
                         f"{multipliers!r}")
    m_f, m_s = _real(multipliers["frequency"]), _real(multipliers["severity"])
    for key, x in (("frequency", m_f), ("severity", m_s)):
        if not 0 < x < math.inf:
            raise ValueError(f"the {key} multiplier must be a positive finite number, got "
                             f"{multipliers[key]!r}")
    if not 0 <= _real(rate) < math.inf:
        raise ValueError(f"rate must be an annual rate ≥ 0 (losses per year), got {rate!r}")
    if not 0 < _real(scale) < math.inf:
        raise ValueError(f"scale must be a positive finite severity scale (KRW), got {scale!r}")
    return m_f * _real(rate), m_s * _real(scale)


def load_scorecard(source: Any, *, columns: Mapping[str, str] | None = None,
                   encoding: str | None = None, sheet_name: str | int = 0,
                   header_row: int | None = None,
                   event_types: Mapping[str, str] | None = None,
                   business_lines: Mapping[str, str] | None = None,
                   max_errors: int = 20) -> ScoreCard:
    """Load and validate a BEICF scorecard (see the module docstring).

    Parameters
    ----------
    source : str, Path or DataFrame
        A delimited text file or a workbook (judged by its contents, as
        :func:`opwb.data.tableio.read_table` reads them), or a DataFrame.
    columns : mapping, optional
        Source header → opwb column, for headers other than opwb's and
        :data:`KOREAN_BEICF_COLUMNS`.
    encoding, sheet_name, header_row
        As for :func:`opwb.data.losses.load_losses`.
    event_types, business_lines : mapping, optional
        The bank's category names → Basel codes (a case's ``[event_types]``,
        ``[business_lines]``).
    max_errors : int
        How many problems the message shows (all are in ``DataError.problems``).

    Returns
    -------
    ScoreCard

    Raises
    ------
    opwb.DataError
        Every problem, as "file, line N, column 'c': expected ..., got ...": a missing
        column; an unknown event type or business line; a missing factor; a target other
        than frequency (빈도) or severity (심도); a score or baseline that is not a positive
        number; a weight outside [0, 1]; a missing author or date; the same factor stated
        twice for one cell and target, or for an event type and one of its business lines
        with the same target (it would count twice there); a file without data rows.
    FileNotFoundError
        No such file.
    """
    readers = category_readers(event_types, business_lines)
    tbl = read_table(source, encoding=encoding, sheet_name=sheet_name, header_row=header_row)
    problems = Problems(tbl, max_errors)
    rename = {name: canon for name in tbl.header
              if (canon := _canonical(name or "", dict(columns or {}))) is not None}
    idx = column_index(tbl, problems, required=REQUIRED_BEICF_COLUMNS,
                       optional=("business_line", "scale", "note"), columns=rename)
    problems.raise_if_any(final=False)
    problems.require_rows("factor")
    found = [_parse_row(tbl, pos, values, idx, readers, problems) for pos, values in tbl.rows]
    rows = [r for r in found if r is not None]
    _check_duplicates(rows, problems, tbl)
    problems.raise_if_any()
    return ScoreCard(tuple(f for _, f in rows), tbl.name)


def _canonical(name: str, columns: dict[str, str]) -> str | None:
    key = name.strip()
    if key in columns:
        return columns[key]
    if key in BEICF_COLUMNS:
        return key
    return KOREAN_BEICF_COLUMNS.get(re.sub(r"\s+", "", key))


def _parse_row(tbl: Table, pos, values, idx, readers, problems):
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
              "expected the event type of the factor's cell (a Basel code or its name)")
    bl = cell("business_line", lambda v: readers[1](parse_text(v)))
    name = cell("factor", parse_text, "expected what is scored (a key risk indicator or a "
                "control assessment)")
    target = cell("applies_to", _target, "expected what the factor moves: frequency (빈도) "
                  "or severity (심도)")
    score = cell("score", lambda v: _positive(v, "score"),
                 "expected the factor's current score, a positive number")
    base = cell("baseline", lambda v: _positive(v, "baseline"),
                "expected the factor's baseline score (at the model's calibration), a "
                "positive number")
    weight = cell("weight", _weight, "expected the factor's weight, a number in [0, 1]")
    scale = cell("scale", parse_text) or ""
    author = cell("author", parse_text, "expected who scored the factor")
    day = cell("date", lambda v: parse_date(v, epoch=tbl.serial_epoch).date(),
               "expected the date of the score (YYYY-MM-DD)")
    note = cell("note", parse_text) or ""
    if len(problems.items) > n_before:
        return None
    return pos, Factor(cell=et if bl is None else f"{et}|{bl}", factor=name, applies_to=target,
                       score=score, baseline=base, weight=weight, author=author, date=day,
                       scale=scale, note=note, where=f"{tbl.name}, {tbl.where(pos)}")


def _target(raw: Any) -> str:
    key = re.sub(r"[\s_\-]+", "", parse_text(raw)).casefold()
    if key not in _TARGET_NAMES:
        raise CellError(f"expected what the factor moves: frequency (빈도: the cell's annual "
                        f"rate) or severity (심도: the size of its losses), got {raw!r}")
    return _TARGET_NAMES[key]


def _real(value: Any) -> float:
    """A real number (not a bool) as float; NaN for anything else."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return math.nan
    return float(value)


def _number(raw: Any) -> float:
    if isinstance(raw, (bool, Real)):
        return _real(raw)
    text = parse_text(raw)
    if not re.fullmatch(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", text):
        return math.nan
    return float(text.replace(",", ""))


def _positive(raw: Any, what: str) -> float:
    x = _number(raw)
    if not (math.isfinite(x) and x > 0):
        raise CellError(f"expected the {what}, a positive number on the factor's scale "
                        f"(higher = more risk), got {raw!r}")
    return x


def _weight(raw: Any) -> float:
    x = _number(raw)
    if not (math.isfinite(x) and 0 <= x <= 1):
        raise CellError(f"expected the factor's weight, a number in [0, 1] (0: recorded "
                        f"without effect, 1: the full score ratio), got {raw!r}")
    return x


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _check_duplicates(rows: list[tuple[int, Factor]], problems: Problems, tbl: Table) -> None:
    first: dict[tuple[str, str, str], int] = {}
    for pos, f in rows:
        key = (f.cell, f.applies_to, _key(f.factor))
        if key in first:
            problems.add(pos, "factor", f"duplicated factor: {f.factor!r} is already scored for "
                         f"cell {f.cell}, {f.applies_to} ({tbl.unit} {first[key]}); expected "
                         "one score per factor, cell and target (keep the current one)")
        else:
            first[key] = pos
    for pos, f in rows:
        if f.business_line is None:
            continue
        above = first.get((f.event_type, f.applies_to, _key(f.factor)))
        if above is not None:
            problems.add(pos, "factor", f"{f.factor!r} is scored for {f.cell}, {f.applies_to} "
                         f"and for its whole event type {f.event_type} ({tbl.unit} {above}): "
                         f"it would count twice in {f.cell}; expected it once (the event "
                         "type's score, or each business line's)")
