"""External large losses (``data/external_losses.csv``): load and validate.
"""
from __future__ import annotations

import pandas as pd

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

__all__ = ["EXTERNAL_COLUMNS", "load_external_losses"]


#: Columns of ``data/external_losses.csv`` (widely reported large losses worldwide).
EXTERNAL_COLUMNS: tuple[str, ...] = (
    "institution", "country", "year", "event_type", "description_ko", "currency",
    "amount_original", "fx_rate_krw", "amount_krw", "source_note",
)


def load_external_losses(source, *, encoding: str | None = None,
                         max_errors: int = 20) -> pd.DataFrame:
    """Load and validate external large losses (``data/external_losses.csv``).

    Columns :data:`EXTERNAL_COLUMNS`; ``year`` int, ``event_type`` a Basel code (Korean or
    English names accepted), amounts and ``fx_rate_krw`` non-negative floats. Raises
    :class:`opwb.DataError` naming file, line and column of every problem.

    Examples
    --------
    >>> import opwb
    >>> ext = load_external_losses(opwb.data_path("external_losses.csv"))
    >>> bool((ext["amount_krw"] > 0).all()), ext["year"].dtype
    (True, dtype('int64'))
    """
    tbl = read_table(source, encoding=encoding)
    problems = Problems(tbl, max_errors)
    idx = column_index(tbl, problems, required=EXTERNAL_COLUMNS)
    problems.raise_if_any(final=False)
    parsers = {"year": lambda v: parse_int(v, minimum=1900),
               "amount_original": parse_amount, "fx_rate_krw": parse_amount,
               "amount_krw": parse_amount}
    records = []
    for pos, values in tbl.rows:
        if len(values) != len(tbl.header):
            problems.add(pos, None, f"expected {len(tbl.header)} fields as in the header, "
                                    f"found {len(values)}")
            continue
        rec = {}
        for col in EXTERNAL_COLUMNS:
            v = values[idx[col]]
            try:
                if col == "event_type":
                    rec[col] = parse_event_type(parse_text(v))
                    if rec[col] is None:
                        codes = ", ".join(EVENT_TYPE_CODES)
                        raise CellError(f"expected an event-type code ({codes}), got {v!r}")
                else:
                    rec[col] = parsers[col](v) if col in parsers else (
                        "" if is_blank(v) else parse_text(v))
            except CellError as err:
                problems.add(pos, col, str(err))
        records.append(rec)
    problems.raise_if_any()
    out = pd.DataFrame.from_records(records, columns=list(EXTERNAL_COLUMNS))
    return out.astype({"year": "int64", "amount_original": "float64",
                       "fx_rate_krw": "float64", "amount_krw": "float64"})
