"""External large losses (``data/external_losses.csv``): load, validate, scale to the bank.

A public large loss happened at a firm of another size: before it can say anything about
this bank's severity it is scaled by the power rule of Shih, Samad-Khan & Medapa (2000, "Is
the size of an operational loss related to firm size?", *Operational Risk*, January 2000)::

    L_scaled = L × (bank_size / size) ** exponent            (amounts and sizes KRW)

with ``size`` the institution's size measure and ``bank_size`` the bank's, on the same basis
(:data:`SIZE_BASES`: gross income, revenue or total assets). Shih et al. regressed log loss on
log revenue and found a loss size growing far less than proportionally with firm size: an
exponent of about 0.23 (the figure the literature cites; 1 would be proportional scaling,
0 no scaling). The exponent is a setting (:data:`SHIH_EXPONENT` is only the default of the
case setting ``external_exponent``). Dahen & Dionne (2010, "Scaling models for the severity
and frequency of external operational loss data", *Journal of Banking & Finance* 34(7),
1484–1496) generalise the rule to a regression of log loss on log total assets, business
line, event type and region; the power rule is their model with size as the only regressor.

The size columns (``size_krw``, ``size_basis``) are optional in a file: a table without them
(an older file, or a consortium extract whose amounts are already scaled) loads as before,
and a blank size is allowed (a public list often has no comparable size: the bundled file's
central-bank theft). A size is needed only to scale: :func:`scale_external` refuses an
unsized row, naming its file, line and column, unless told to leave such rows out. A size
that is present must be a positive KRW amount with its basis named, checked at loading.
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from opwb.data.errors import DataError, Problem
from opwb.data.tableio import (
    CellError,
    Problems,
    column_index,
    is_blank,
    parse_amount,
    parse_int,
    parse_text,
    read_table,
)
from opwb.data.taxonomy import (
    EVENT_TYPE_CODES,
    parse_event_type,
)

__all__ = ["EXTERNAL_COLUMNS", "EXTERNAL_SIZE_COLUMNS", "SIZE_BASES", "SHIH_EXPONENT",
           "load_external_losses", "scale_external"]


#: Columns of ``data/external_losses.csv`` (widely reported large losses worldwide).
EXTERNAL_COLUMNS: tuple[str, ...] = (
    "institution", "country", "year", "event_type", "description_ko", "currency",
    "amount_original", "fx_rate_krw", "amount_krw", "source_note",
)
#: Optional columns: the institution's size (KRW) and the measure it is (a key of
#: :data:`SIZE_BASES`). Always present in the loaded frame (NaN and "" when absent).
EXTERNAL_SIZE_COLUMNS: tuple[str, ...] = ("size_krw", "size_basis")

#: Size measures a row may state, with the names a Korean file may use for them.
SIZE_BASES: dict[str, tuple[str, ...]] = {
    "gross_income": ("gross income", "총이익", "영업이익총액"),
    "revenue": ("net revenue", "영업수익", "매출"),
    "total_assets": ("total assets", "총자산"),
}
#: The exponent Shih, Samad-Khan & Medapa (2000) report for loss size against firm revenue
#: (about 0.23); the default of the case setting ``external_exponent``.
SHIH_EXPONENT = 0.23


def _parse_basis(value) -> str:
    text = parse_text(value)
    key = text.casefold().replace("-", "_").replace(" ", "_")
    for basis, names in SIZE_BASES.items():
        if key == basis or text.casefold() in names:
            return basis
    raise CellError(f"expected a size basis ({', '.join(SIZE_BASES)}), got {text!r}")


def _parse_size(value) -> float:
    if is_blank(value):
        return math.nan
    x = parse_amount(value)
    if x <= 0:
        raise CellError(f"expected the institution's size as an amount > 0 KRW (or blank), "
                        f"got {value!r}")
    return x


def load_external_losses(source, *, encoding: str | None = None,
                         max_errors: int = 20) -> pd.DataFrame:
    """Load and validate external large losses (``data/external_losses.csv``).

    Columns :data:`EXTERNAL_COLUMNS` (required) and :data:`EXTERNAL_SIZE_COLUMNS`
    (optional); ``year`` int, ``event_type`` a Basel code (Korean or English names
    accepted), amounts and ``fx_rate_krw`` non-negative floats, ``size_krw`` blank or an
    amount > 0 KRW, ``size_basis`` a key of :data:`SIZE_BASES` wherever a size is given.
    Raises :class:`opwb.DataError` naming file, line and column of every problem.

    Returns
    -------
    pandas.DataFrame
        One row per loss, the columns above (``size_krw`` NaN and ``size_basis`` "" where
        not given). ``attrs["source"]`` is the file's name and ``attrs["where"]`` maps each
        row's index to its line or row in the file (what :func:`scale_external` names).

    Examples
    --------
    >>> import opwb
    >>> ext = load_external_losses(opwb.data_path("external_losses.csv"))
    >>> bool((ext["amount_krw"] > 0).all()), ext["year"].dtype
    (True, dtype('int64'))
    >>> ext.loc[1, "institution"], float(ext.loc[1, "size_krw"]), ext.loc[1, "size_basis"]
    ('Barings Bank', 728000000000.0, 'gross_income')
    """
    tbl = read_table(source, encoding=encoding)
    problems = Problems(tbl, max_errors)
    idx = column_index(tbl, problems, required=EXTERNAL_COLUMNS, optional=EXTERNAL_SIZE_COLUMNS)
    problems.raise_if_any(final=False)
    parsers = {"year": lambda v: parse_int(v, minimum=1900),
               "amount_original": parse_amount, "fx_rate_krw": parse_amount,
               "amount_krw": parse_amount, "size_krw": _parse_size}
    columns = EXTERNAL_COLUMNS + tuple(c for c in EXTERNAL_SIZE_COLUMNS if c in idx)
    records, where = [], []
    for pos, values in tbl.rows:
        if len(values) != len(tbl.header):
            problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                    f"found {len(values)}")
            continue
        rec = {}
        for col in columns:
            v = values[idx[col]]
            try:
                if col == "event_type":
                    rec[col] = parse_event_type(parse_text(v))
                    if rec[col] is None:
                        codes = ", ".join(EVENT_TYPE_CODES)
                        raise CellError(f"expected an event-type code ({codes}), got {v!r}")
                elif col == "size_basis":
                    rec[col] = "" if is_blank(v) else _parse_basis(v)
                else:
                    rec[col] = parsers[col](v) if col in parsers else (
                        "" if is_blank(v) else parse_text(v))
            except CellError as err:
                problems.add(pos, col, str(err))
        basis = rec.get("size_basis") if "size_basis" in idx else ""   # None: unparsable
        if math.isfinite(rec.get("size_krw", math.nan)) and basis == "":
            problems.add(pos, "size_basis", "a size is given but not what it measures: expected "
                         f"a size basis ({', '.join(SIZE_BASES)})")
        records.append(rec)
        where.append(tbl.where(pos))
    problems.raise_if_any()
    out = pd.DataFrame.from_records(records, columns=list(EXTERNAL_COLUMNS
                                                          + EXTERNAL_SIZE_COLUMNS))
    out["size_basis"] = [r.get("size_basis") or "" for r in records]
    out = out.astype({"year": "int64", "amount_original": "float64",
                      "fx_rate_krw": "float64", "amount_krw": "float64",
                      "size_krw": "float64"})
    out.attrs["source"] = tbl.name
    out.attrs["where"] = dict(zip(out.index, where))
    return out


def scale_external(external: pd.DataFrame, bank_size: float, exponent: float = SHIH_EXPONENT,
                   *, basis: str | None = None, event_types=None,
                   unsized: Literal["raise", "drop"] = "raise") -> pd.DataFrame:
    """Scale external losses to the bank: ``L × (bank_size / size) ** exponent``.

    The power rule of Shih, Samad-Khan & Medapa (2000), who report ``exponent`` ≈ 0.23 for
    loss size against revenue; Dahen & Dionne (2010) generalise it to a regression on log
    total assets, business line, event type and region (see the module docstring).

    Parameters
    ----------
    external : pandas.DataFrame
        As :func:`load_external_losses` returns (columns ``event_type``, ``amount_krw``,
        ``size_krw``, ``size_basis``).
    bank_size : float
        The bank's size (KRW) on the same basis as the rows' sizes.
    exponent : float, default :data:`SHIH_EXPONENT`
        The power of the size ratio, ≥ 0 (0: amounts unchanged; 1: proportional).
    basis : str, optional
        The basis of ``bank_size`` (a key of :data:`SIZE_BASES`); every sized row must be on
        it. None: the rows must all share one basis.
    event_types : iterable of str, optional
        Keep only these Basel event-type codes (the cells the scaled losses are used for).
    unsized : {"raise", "drop"}
        A row without a size: an :class:`opwb.DataError` naming its file, line and column
        ``size_krw`` ("raise"), or left out and listed in ``attrs["dropped"]`` ("drop").

    Returns
    -------
    pandas.DataFrame
        The source rows kept (same index), with ``institution, year, event_type,
        amount_krw, size_krw, size_basis``, ``size_ratio`` (bank_size / size), ``factor``
        (size_ratio ** exponent) and ``amount_scaled`` (KRW), largest first.
        ``attrs``: ``bank_size``, ``exponent``, ``basis``, ``source``, ``where`` (index →
        line in the file) and ``dropped`` (the "line N" of each row left out).

    Raises
    ------
    ValueError
        A bank size that is not a positive finite amount, a negative or non-finite exponent,
        an unknown basis or event type.
    opwb.DataError
        Rows without a size (``unsized="raise"``) or on another basis than the bank's.

    Examples
    --------
    >>> import opwb
    >>> ext = load_external_losses(opwb.data_path("external_losses.csv"))
    >>> s = scale_external(ext, 7e12, 0.23, unsized="drop")
    >>> round(float(s.loc[1, "factor"]), 4), s.attrs["dropped"]  # Barings; the central bank
    (1.683, ['line 11'])
    """
    if isinstance(bank_size, bool) or not isinstance(bank_size, (int, float, np.number)) \
            or not math.isfinite(bank_size) or bank_size <= 0:
        raise ValueError(f"bank_size must be the bank's size, an amount > 0 KRW, got "
                         f"{bank_size!r}")
    if isinstance(exponent, bool) or not isinstance(exponent, (int, float, np.number)) \
            or not math.isfinite(exponent) or exponent < 0:
        raise ValueError(f"exponent must be a finite number ≥ 0 (Shih et al. 2000: about "
                         f"{SHIH_EXPONENT}), got {exponent!r}")
    if basis is not None and basis not in SIZE_BASES:
        raise ValueError(f"basis must be one of {', '.join(SIZE_BASES)}, got {basis!r}")
    if unsized not in ("raise", "drop"):
        raise ValueError(f"unsized must be 'raise' or 'drop', got {unsized!r}")
    ext = external
    for col in ("size_krw", "size_basis"):
        if col not in ext.columns:
            ext = ext.assign(**{col: np.nan if col == "size_krw" else ""})
    if event_types is not None:
        codes = [event_types] if isinstance(event_types, str) else list(event_types)
        unknown = [c for c in codes if c not in EVENT_TYPE_CODES]
        if unknown:
            raise ValueError(f"unknown event type(s) {unknown}; expected codes among "
                             f"{', '.join(EVENT_TYPE_CODES)}")
        ext = ext[ext["event_type"].isin(codes)]
    source = external.attrs.get("source", "the external losses")
    where = external.attrs.get("where", {})
    at = lambda i: where.get(i, f"row {i}")   # noqa: E731

    size = ext["size_krw"].astype(float)
    missing = ext.index[~np.isfinite(size.to_numpy())]
    if len(missing) and unsized == "raise":
        raise DataError([Problem(source, at(i), "size_krw", "no institution size: a loss "
                                 "cannot be scaled to the bank without it (give the size, or "
                                 "leave such rows out with unsized='drop')") for i in missing])
    ext = ext.drop(index=missing)
    bases = set(ext["size_basis"])
    want = basis if basis is not None else (next(iter(bases)) if len(bases) == 1 else None)
    if len(ext) and want is None:
        raise DataError(f"the sizes of {source} are on several bases ({', '.join(sorted(bases))})"
                        ": scale rows of one basis at a time, with the bank's size on it")
    off = ext.index[ext["size_basis"] != want] if want is not None else ext.index[:0]
    if len(off):
        raise DataError([Problem(source, at(i), "size_basis",
                                 f"the size is {ext.loc[i, 'size_basis']}, the bank's is "
                                 f"{want}: sizes must be on one basis") for i in off])
    ratio = float(bank_size) / ext["size_krw"].astype(float)
    factor = ratio ** float(exponent)
    out = pd.DataFrame({
        "institution": ext["institution"], "year": ext["year"],
        "event_type": ext["event_type"], "amount_krw": ext["amount_krw"].astype(float),
        "size_krw": ext["size_krw"].astype(float), "size_basis": ext["size_basis"],
        "size_ratio": ratio, "factor": factor,
        "amount_scaled": ext["amount_krw"].astype(float) * factor,
    }, index=ext.index).sort_values("amount_scaled", ascending=False, kind="stable")
    out.attrs = {"bank_size": float(bank_size), "exponent": float(exponent), "basis": want,
                 "source": source, "where": {i: at(i) for i in out.index},
                 "dropped": [at(i) for i in missing]}
    return out
