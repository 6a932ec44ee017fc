"""The insurance programme table: load and validate (one row per policy).

Columns are :data:`opwb.data.schema.PROGRAMME_COLUMNS`; the coverage matrix is the
``cover_<event type>`` columns (absent ones mean 0: the policy does not cover that type).
Problems are reported with the file, line, policy and column, all at once.

A tower of layers (:data:`TOWER_COLUMNS`, optional) is written in either notation of
:mod:`opwb.data.terms`, and each row says which:

* opwb's convention: ``deductible`` and ``limit``, with ``follows`` = the ``policy_id`` of
  the row whose wording an excess layer follows; the deductible is measured on the loss net
  of the layers below (an excess over ``30 xs 20`` has deductible 20);
* market notation: ``attachment`` (the ground-up point where the layer starts) and
  ``limit``, or the whole layer ``L xs A`` in the ``layer`` column (or in the ``limit``
  cell), e.g. ``5,000,000,000 xs 5,000,000,000`` or ``50억 xs 50억``; the deductible is
  left blank (or equal to the attachment).

A row that fits neither (no deductible and no attachment; a deductible and an attachment
that differ; ``L xs A`` beside a limit or attachment that disagree; an attachment inside
the layers below; a ``follows`` deductible at or above the ground-up top of the layers
below, which reads as either notation; ``follows`` naming no earlier row) is refused by
file, line, policy and column.
"""
from __future__ import annotations

from typing import Any

import math
import re

import numpy as np
import pandas as pd

from opwb.data import schema as S
from opwb.data.tableio import (
    CellError,
    Problems,
    column_index,
    is_blank,
    parse_amount,
    parse_bool,
    parse_date,
    parse_fraction,
    parse_int,
    parse_text,
    read_table,
)
from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.data.terms import (
    TowerLayer,
    aggregate_below_limit,
    layer_term_problems,
    tower_problems,
)
from opwb.data.units import EOK, JO, MAN

__all__ = ["load_programme", "REQUIRED_PROGRAMME_COLUMNS", "CLAIMS_BASES", "TOWER_COLUMNS",
           "parse_layer"]

CLAIMS_BASES = ("losses-occurring", "claims-made")
REQUIRED_PROGRAMME_COLUMNS = tuple(c for c in S.PROGRAMME_COLUMNS if c not in S.COVER_COLUMNS)
#: Optional columns of a tower of layers: ``follows`` (policy id of the layer below),
#: ``attachment`` (ground-up point where the layer starts, KRW), ``layer`` (``L xs A``).
TOWER_COLUMNS = ("follows", "attachment", "layer")

_LAYER = re.compile(r"^\s*(?P<limit>\S.*?)\s*(?:xs|x/s|excess\s+of)\s*(?P<attachment>\S.*?)\s*$",
                    re.IGNORECASE)
_UNIT = re.compile(r"^(?P<number>.*?)\s*(?P<unit>만|억|조)?\s*원?$")
_UNITS = {"만": MAN, "억": EOK, "조": JO, None: 1.0}


def parse_layer(value: Any) -> tuple[float, float]:
    """A layer in market notation ``L xs A``: ``(limit, attachment)`` in KRW.

    Each amount is written as in an amount cell (digits, optional thousands separators),
    optionally with a unit 만, 억 or 조 (and 원); ``xs``, ``x/s`` and ``excess of`` are read.

    Parameters
    ----------
    value : str
        The cell, e.g. ``"50억 xs 50억"``: a limit of 50억 attaching at 50억 of the
        event's gross loss (from the ground up).

    Returns
    -------
    (float, float)
        ``(limit, attachment)`` in KRW, both finite and ≥ 0.

    Raises
    ------
    opwb.data.errors.CellError
        Naming what was expected.

    Examples
    --------
    >>> parse_layer("50 xs 50")
    (50.0, 50.0)
    >>> parse_layer("30억 XS 20억")
    (3000000000.0, 2000000000.0)
    """
    expected = ("expected a layer 'limit xs attachment' in KRW (e.g. '5,000,000,000 xs "
                f"2,000,000,000' or '50억 xs 20억'), got {value!r}")
    match = _LAYER.match(str(value)) if isinstance(value, str) else None
    if match is None:
        raise CellError(expected)
    out = []
    for part in (match["limit"], match["attachment"]):
        unit = _UNIT.match(part)
        try:
            amount = parse_amount(unit["number"])
        except CellError:
            raise CellError(expected) from None
        out.append(amount * _UNITS[unit["unit"]])
    return out[0], out[1]

_PARSERS = {
    **{c: parse_bool for c in S.PROGRAMME_BOOL_COLUMNS},
    **{c: parse_amount for c in S.PROGRAMME_AMOUNT_COLUMNS},
    "cancellation_notice_days": parse_int,
    "coinsurance": lambda v: parse_fraction(v, allow_zero=False),
    **{c: parse_fraction for c in S.COVER_COLUMNS},
}
_OPTIONAL_BLANK = {"aggregate_limit": np.inf, "name_en": "", "reinsured_outside": False}


def load_programme(source: Any, *, encoding: str | None = None, sheet_name: str | int = 0,
                   table: str | None = None, max_errors: int = 20) -> pd.DataFrame:
    """Load and validate the insurance programme.

    Parameters
    ----------
    source : path, SQL URL or connection (with ``table=``), or DataFrame
        A delimited text file or a workbook, read as by :func:`opwb.data.losses.load_losses`.
    encoding, sheet_name, table, max_errors
        As in :func:`opwb.data.losses.load_losses`.

    Returns
    -------
    pandas.DataFrame
        One row per policy, columns :data:`opwb.data.schema.PROGRAMME_COLUMNS`: text columns as
        str, ``inception``/``expiry`` as datetime64, flags as bool, amounts as float64 KRW
        (``aggregate_limit`` is ``inf`` when blank: no annual aggregate limit),
        ``cancellation_notice_days`` as int, ``coinsurance`` in (0, 1], ``cover_*`` in [0, 1].
        When the file has any of :data:`TOWER_COLUMNS`, two more: ``follows`` (str, "" for
        none) and ``attachment`` (float64 KRW from the ground up, NaN for a row in opwb's
        convention); a row given by its attachment has ``deductible`` equal to it (as
        :class:`opwb.insurance.policy.Policy` has). ``layer`` is read into ``limit`` and
        ``attachment``. The columns ``deductible`` and ``limit`` may be absent when ``layer``
        is present, ``deductible`` when ``attachment`` is.

    Raises
    ------
    opwb.DataError
        Naming the file, line, policy and column of every problem: a negative amount, a
        share outside [0, 1], an unknown event type in a ``cover_`` column, expiry on or
        before inception, a missing or unknown rating, a positive aggregate limit below the
        per-occurrence limit, a duplicate policy id, a placeholder for "no date"
        (9999-12-31) as inception or expiry, a layer that fits neither notation of a tower
        or both (module docstring), coverage shares of the policies that follow none above
        1 for an event type. The layer terms follow the API's rule
        (:mod:`opwb.data.terms`): a ``limit`` or ``aggregate_limit`` of 0 is a policy that
        pays nothing, as ``Policy(limit=0)``.

    Examples
    --------
    >>> import opwb
    >>> prog = load_programme(opwb.data_path("insurance_programme.csv"))
    >>> bool((prog["cover_IF"] >= 0).all())
    True
    """
    tbl = read_table(source, encoding=encoding, sheet_name=sheet_name, table=table)
    problems = Problems(tbl, max_errors)
    required = REQUIRED_PROGRAMME_COLUMNS
    if "layer" in tbl.header:            # market notation: 'L xs A' gives both
        required = tuple(c for c in required if c not in ("deductible", "limit"))
    elif "attachment" in tbl.header:
        required = tuple(c for c in required if c != "deductible")
    idx = column_index(tbl, problems, required=required,
                       optional=(*S.COVER_COLUMNS, *TOWER_COLUMNS,
                                 *(c for c in REQUIRED_PROGRAMME_COLUMNS if c not in required)))
    for name in tbl.header:
        if name.startswith("cover_") and name not in S.COVER_COLUMNS:
            problems.add(tbl.header_pos or 1, name,
                         f"unknown event type {name[len('cover_'):]!r}; expected cover_ columns "
                         "for " + ", ".join(EVENT_TYPE_CODES))
    problems.raise_if_any(final=False)
    if not tbl.rows:
        problems.add((tbl.header_pos or 0) + 1, None, "no policies after the header")
    records, seen, positions = [], {}, []
    for pos, values in tbl.rows:
        if tbl.unit == "line" and len(values) != len(tbl.header):
            problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                    f"found {len(values)}")
            continue
        rec = _parse_policy(pos, values, idx, problems)
        pid = rec["policy_id"]
        if pid and pid in seen:
            problems.add(pos, "policy_id", f"duplicate policy id (first on {tbl.unit} "
                                           f"{seen[pid]}); expected each policy once",
                         context=f"policy {pid!r}")
        seen.setdefault(pid, pos)
        records.append(rec)
        positions.append(pos)
    _check_tower(records, positions, problems)
    problems.raise_if_any()
    tower = any(c in idx for c in TOWER_COLUMNS)
    columns = [*S.PROGRAMME_COLUMNS, *(("follows", "attachment") if tower else ())]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for col in S.PROGRAMME_TEXT_COLUMNS:
        frame[col] = frame[col].astype("str")
    for col in S.PROGRAMME_DATE_COLUMNS:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in (*S.PROGRAMME_AMOUNT_COLUMNS, "coinsurance", *S.COVER_COLUMNS):
        frame[col] = frame[col].astype(np.float64)
    frame["cancellation_notice_days"] = frame["cancellation_notice_days"].astype(np.int64)
    for col in S.PROGRAMME_BOOL_COLUMNS:
        frame[col] = frame[col].astype(bool)
    if tower:
        frame["follows"] = frame["follows"].astype("str")
        frame["attachment"] = frame["attachment"].astype(np.float64)
    return frame


def _parse_policy(pos: int, values: tuple, idx: dict[str, int], problems: Problems) -> dict:
    pid_raw = values[idx["policy_id"]]
    try:
        pid = "" if is_blank(pid_raw) else parse_text(pid_raw)
    except CellError as exc:
        pid = ""
        problems.add(pos, "policy_id", str(exc))
    ctx = f"policy {pid!r}" if pid else None
    if not pid and is_blank(pid_raw):
        problems.add(pos, "policy_id", "value is missing; expected a unique policy id")
    rec: dict[str, Any] = {"policy_id": pid}
    _parse_tower(rec, pos, values, idx, problems, ctx)
    for col in S.PROGRAMME_COLUMNS[1:]:
        raw = values[idx[col]] if col in idx else 0.0  # absent cover_ column: not covered
        if col in ("deductible", "limit") and col in rec:
            continue                                    # given by the layer's notation
        if col in ("deductible", "limit") and col not in idx:
            raw = None
        if is_blank(raw):
            if (col == "deductible" and rec.get("attachment") is not None) or (
                    col in ("deductible", "limit") and rec.get("_layer") is not None):
                rec[col] = None                     # set from the layer's notation below
            elif col in _OPTIONAL_BLANK:
                rec[col] = _OPTIONAL_BLANK[col]
            else:
                rec[col] = None
                problems.add(pos, col, "value is missing; " + _expected(col), context=ctx)
            continue
        parser = _PARSERS.get(col)
        try:
            if col in S.PROGRAMME_DATE_COLUMNS:     # serial numbers in the file's date system
                rec[col] = parse_date(raw, epoch=problems.table.serial_epoch)
            else:
                rec[col] = (parser or parse_text)(raw)
        except CellError as exc:
            rec[col] = None
            problems.add(pos, col, str(exc), context=ctx)
    _resolve_notation(rec, pos, problems, ctx)
    _check_policy(rec, pos, problems, ctx)
    return rec


def _parse_tower(rec: dict, pos: int, values: tuple, idx: dict[str, int], problems: Problems,
                 ctx: str | None) -> None:
    """``follows``, ``attachment``; ``L xs A`` in ``layer`` or ``limit`` sets ``limit``
    (and ``attachment`` when no attachment cell is given; a different one is refused)."""
    rec["follows"], rec["attachment"], rec["_layer"] = "", None, None
    for col in ("follows", "attachment", "layer", "limit"):
        raw = values[idx[col]] if col in idx else None
        if is_blank(raw):
            continue
        try:
            if col == "follows":
                rec["follows"] = parse_text(raw)
            elif col == "attachment":
                rec["attachment"] = parse_amount(raw)
            elif col == "layer" or (isinstance(raw, str) and _LAYER.match(raw)):
                rec["_layer"] = (col, *parse_layer(raw))
                if col == "limit":
                    rec["limit"] = rec["_layer"][1]
        except CellError as exc:
            rec[col] = None
            if col in ("layer", "limit"):
                rec["_layer"] = False               # reported here, not as missing terms
            problems.add(pos, col, str(exc), context=ctx)


def _resolve_notation(rec: dict, pos: int, problems: Problems, ctx: str | None) -> None:
    """One notation per row: opwb's (deductible) or the market's (attachment)."""
    layer = rec.pop("_layer", None)
    rec.pop("layer", None)
    if layer:
        col, lim, att = layer
        text = f"'{lim:,.0f} xs {att:,.0f}'"
        if rec.get("limit") is not None and rec["limit"] != lim:
            problems.add(pos, "limit", f"limit {rec['limit']:,.0f} disagrees with the layer "
                         f"{text} in column {col!r}; expected one of them, or the same "
                         "limit", context=ctx)
        if rec.get("attachment") is not None and rec["attachment"] != att:
            problems.add(pos, "attachment", f"attachment {rec['attachment']:,.0f} disagrees "
                         f"with the layer {text} in column {col!r}; expected one of them, or "
                         "the same attachment", context=ctx)
        rec["limit"], rec["attachment"] = lim, att
    att, ded = rec.get("attachment"), rec.get("deductible")
    if att is None:
        return
    if ded is not None and ded != att:
        problems.add(pos, "deductible", f"deductible {ded:,.0f} beside attachment {att:,.0f} "
                     "(from the ground up): expected one notation — the attachment alone "
                     "(market 'L xs A', on the gross loss; leave the deductible blank) or the "
                     "deductible alone (opwb's convention, on the loss net of the layers "
                     "below, with follows for an excess layer)", context=ctx)
    rec["deductible"] = att


def _check_tower(records: list[dict], positions: list[int], problems: Problems) -> None:
    """``follows`` names an earlier row; the tower's notation (:func:`tower_problems`);
    coverage shares of the rows that follow none sum to at most 1 per event type."""
    ids, ok = set(), True
    for rec, pos in zip(records, positions):
        follows = rec.get("follows") or ""
        if follows and follows not in ids:
            ok = False
            problems.add(pos, "follows", f"follows {follows!r}, which is no earlier row's "
                         "policy_id; expected the policy id of the layer below, on a row "
                         "above", context=f"policy {rec['policy_id']!r}")
        ids.add(rec["policy_id"])
    terms = ("deductible", "limit")
    if ok and all(rec.get(t) is not None for rec in records for t in terms):
        layers = [TowerLayer(r["policy_id"], r["deductible"], r["limit"], r.get("attachment"),
                             r.get("follows") or "") for r in records]
        for i, term, message in tower_problems(layers):
            problems.add(positions[i], term, message, context=f"policy {layers[i].policy_id!r}")
    for col in S.COVER_COLUMNS:
        total, names = 0.0, []
        for rec, pos in zip(records, positions):
            share = rec.get(col)
            if rec.get("follows") or not share:
                continue
            total += share
            names.append(rec["policy_id"])
            if total > 1 + 1e-9:
                problems.add(pos, col, f"coverage shares of policies {', '.join(names)} sum to "
                             f"{total:.3g} > 1: the wordings of policies that follow no other "
                             "are disjoint parts of an event type; expected at most 1 (an "
                             "excess layer over another policy names it in column follows)",
                             context=f"policy {rec['policy_id']!r}")
                break


def _expected(col: str) -> str:
    if col == "insurer_rating":
        return "expected the insurer's claims-paying rating (" + ", ".join(S.RATING_SCALE) + ")"
    if col in S.PROGRAMME_DATE_COLUMNS:
        return "expected a date as YYYY-MM-DD"
    if col == "deductible":
        return ("expected the deductible in KRW (opwb's convention), or the layer's attachment "
                "from the ground up (column attachment, or 'L xs A' in column layer)")
    if col == "limit":
        return "expected the per-occurrence limit in KRW (or the layer 'L xs A')"
    if col in S.PROGRAMME_AMOUNT_COLUMNS:
        return "expected an amount in KRW"
    if col in S.PROGRAMME_BOOL_COLUMNS:
        return "expected true or false"
    if col == "claims_basis":
        return "expected one of " + ", ".join(CLAIMS_BASES)
    return "expected a value"


def _check_policy(rec: dict, pos: int, problems: Problems, ctx: str | None) -> None:
    rating = rec.get("insurer_rating")
    if rating is not None and rating not in S.RATING_SCALE:
        problems.add(pos, "insurer_rating", f"unknown rating {rating!r}; "
                     + _expected("insurer_rating"), context=ctx)
    basis = rec.get("claims_basis")
    if basis is not None and basis not in CLAIMS_BASES:
        problems.add(pos, "claims_basis", f"unknown basis {basis!r}; "
                     + _expected("claims_basis"), context=ctx)
    start, end = rec.get("inception"), rec.get("expiry")
    if start is not None and end is not None and end <= start:
        problems.add(pos, "expiry", f"expiry {end.date()} is not after inception "
                                    f"{start.date()}; expected a later expiry date", context=ctx)
    terms = {k: rec[k] for k in S.PROGRAMME_AMOUNT_COLUMNS if rec.get(k) is not None}
    for col, message in layer_term_problems(**terms):   # the API's rule (opwb.data.terms)
        problems.add(pos, col, message, context=ctx)
    limit, agg = rec.get("limit"), rec.get("aggregate_limit")
    below = None if limit is None or agg is None else aggregate_below_limit(limit, agg)
    if below:
        problems.add(pos, "aggregate_limit", below, context=ctx)
