"""The insurance programme table: load and validate (one row per policy).

Columns are :data:`opwb.data.schema.PROGRAMME_COLUMNS`; the coverage matrix is the
``cover_<event type>`` columns (absent ones mean 0: the policy does not cover that type).
Problems are reported with the file, line, policy and column, all at once.
"""
from __future__ import annotations

from typing import Any

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
from opwb.data.terms import aggregate_below_limit, layer_term_problems

__all__ = ["load_programme", "REQUIRED_PROGRAMME_COLUMNS", "CLAIMS_BASES"]

CLAIMS_BASES = ("losses-occurring", "claims-made")
REQUIRED_PROGRAMME_COLUMNS = tuple(c for c in S.PROGRAMME_COLUMNS if c not in S.COVER_COLUMNS)

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

    Raises
    ------
    opwb.DataError
        Naming the file, line, policy and column of every problem: a negative amount, a
        share outside [0, 1], an unknown event type in a ``cover_`` column, expiry on or
        before inception, a missing or unknown rating, a positive aggregate limit below the
        per-occurrence limit, a duplicate policy id, a placeholder for "no date"
        (9999-12-31) as inception or expiry. The layer terms follow the API's rule
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
    idx = column_index(tbl, problems, required=REQUIRED_PROGRAMME_COLUMNS,
                       optional=S.COVER_COLUMNS)
    for name in tbl.header:
        if name.startswith("cover_") and name not in S.COVER_COLUMNS:
            problems.add(tbl.header_pos or 1, name,
                         f"unknown event type {name[len('cover_'):]!r}; expected cover_ columns "
                         "for " + ", ".join(EVENT_TYPE_CODES))
    problems.raise_if_any(final=False)
    if not tbl.rows:
        problems.add((tbl.header_pos or 0) + 1, None, "no policies after the header")
    records, seen = [], {}
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
    problems.raise_if_any()
    frame = pd.DataFrame.from_records(records, columns=list(S.PROGRAMME_COLUMNS))
    for col in S.PROGRAMME_TEXT_COLUMNS:
        frame[col] = frame[col].astype("str")
    for col in S.PROGRAMME_DATE_COLUMNS:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    for col in (*S.PROGRAMME_AMOUNT_COLUMNS, "coinsurance", *S.COVER_COLUMNS):
        frame[col] = frame[col].astype(np.float64)
    frame["cancellation_notice_days"] = frame["cancellation_notice_days"].astype(np.int64)
    for col in S.PROGRAMME_BOOL_COLUMNS:
        frame[col] = frame[col].astype(bool)
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
    for col in S.PROGRAMME_COLUMNS[1:]:
        raw = values[idx[col]] if col in idx else 0.0  # absent cover_ column: not covered
        if is_blank(raw):
            if col in _OPTIONAL_BLANK:
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
    _check_policy(rec, pos, problems, ctx)
    return rec


def _expected(col: str) -> str:
    if col == "insurer_rating":
        return "expected the insurer's claims-paying rating (" + ", ".join(S.RATING_SCALE) + ")"
    if col in S.PROGRAMME_DATE_COLUMNS:
        return "expected a date as YYYY-MM-DD"
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
