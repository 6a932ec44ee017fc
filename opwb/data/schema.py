"""Column names of opwb's tables, in one place.

Loss events (one row per event, amounts in KRW)::

    event_id, event_type, business_line, occurrence_date, discovery_date, booking_date,
    gross_loss, insurance_recovery, other_recovery, policy_id, description

Insurance programme (one row per policy): see :data:`PROGRAMME_COLUMNS`; the coverage
matrix is the ``cover_<EVENT TYPE>`` columns (share of that event type's losses the
wording covers, in [0, 1]).
"""
from __future__ import annotations

from opwb.data.taxonomy import EVENT_TYPE_CODES

__all__ = [
    "LOSS_COLUMNS", "LOSS_AMOUNT_COLUMNS", "LOSS_DATE_COLUMNS", "KOREAN_COLUMNS",
    "PROGRAMME_COLUMNS", "COVER_COLUMNS", "cover_column", "COLLECTION_THRESHOLD", "collected",
    "PLAUSIBLE_MAX_LOSS",
]

EVENT_ID = "event_id"
EVENT_TYPE = "event_type"
BUSINESS_LINE = "business_line"
OCCURRENCE_DATE = "occurrence_date"
DISCOVERY_DATE = "discovery_date"
BOOKING_DATE = "booking_date"
GROSS_LOSS = "gross_loss"
INSURANCE_RECOVERY = "insurance_recovery"
OTHER_RECOVERY = "other_recovery"
POLICY_ID = "policy_id"
DESCRIPTION = "description"

LOSS_COLUMNS: tuple[str, ...] = (
    EVENT_ID, EVENT_TYPE, BUSINESS_LINE, OCCURRENCE_DATE, DISCOVERY_DATE, BOOKING_DATE,
    GROSS_LOSS, INSURANCE_RECOVERY, OTHER_RECOVERY, POLICY_ID, DESCRIPTION,
)
LOSS_AMOUNT_COLUMNS: tuple[str, ...] = (GROSS_LOSS, INSURANCE_RECOVERY, OTHER_RECOVERY)
LOSS_DATE_COLUMNS: tuple[str, ...] = (OCCURRENCE_DATE, DISCOVERY_DATE, BOOKING_DATE)

#: Collection threshold of the bundled data: 10 million won (1,000만원). One convention
#: everywhere (loaders, annual counts, fits, scenarios): a loss is collected when its gross
#: amount is **at or above** the threshold (:func:`collected`). For the continuous severity
#: models the truncated likelihood is the same for "≥" and ">", so a loss booked at exactly
#: the threshold — common with round amounts — is data, not an error.
COLLECTION_THRESHOLD = 10_000_000

#: The plausible maximum of a single gross loss (KRW) the loss loader accepts unless told
#: otherwise (a case's ``plausible_max_loss``, ``load_losses(max_loss=...)``): 10조원
#: (1e13). That is above the largest operational loss any bank has reported (Société
#: Générale's 2008 trading loss, €4.9bn, about 7조원) and some 150 times the bundled bank's
#: largest (the 650억원 CD fraud), and far below what a slip gives (digits typed twice,
#: an account number in the amount column: 1e15 and more). A larger amount is an error
#: naming its file, row and column.
PLAUSIBLE_MAX_LOSS = 10_000_000_000_000


def collected(amounts, threshold: float):
    """Boolean mask of the amounts at or above ``threshold`` (the collection convention).

    Examples
    --------
    >>> collected([9_999_999, 10_000_000, 2e7], COLLECTION_THRESHOLD).tolist()
    [False, True, True]
    """
    import numpy as np

    return np.asarray(amounts, dtype=float) >= float(threshold)

#: Usual Korean headers of a bank's loss-event export → canonical names.
#: Pass as ``opwb.load_losses(path, columns=KOREAN_COLUMNS)``.
KOREAN_COLUMNS: dict[str, str] = {
    "사건번호": EVENT_ID,
    "사건유형": EVENT_TYPE,
    "사업부문": BUSINESS_LINE,
    "발생일": OCCURRENCE_DATE,
    "발견일": DISCOVERY_DATE,
    "회계처리일": BOOKING_DATE,
    "총손실금액": GROSS_LOSS,
    "보험회수금액": INSURANCE_RECOVERY,
    "기타회수금액": OTHER_RECOVERY,
    "보험증권번호": POLICY_ID,
    "사건내용": DESCRIPTION,
}

# -- insurance programme --------------------------------------------------------------


def cover_column(event_type: str) -> str:
    """Name of the coverage-share column for an event type, e.g. ``'cover_IF'``."""
    return f"cover_{event_type}"


COVER_COLUMNS: tuple[str, ...] = tuple(cover_column(c) for c in EVENT_TYPE_CODES)

PROGRAMME_TEXT_COLUMNS = ("policy_id", "name", "name_en", "insurer", "insurer_rating",
                          "claims_basis")
PROGRAMME_BOOL_COLUMNS = ("affiliate", "reinsured_outside", "supervisory_exclusion")
PROGRAMME_DATE_COLUMNS = ("inception", "expiry")
PROGRAMME_AMOUNT_COLUMNS = ("deductible", "limit", "aggregate_limit", "premium")

PROGRAMME_COLUMNS: tuple[str, ...] = (
    "policy_id", "name", "name_en", "insurer", "insurer_rating", "affiliate",
    "reinsured_outside", "inception", "expiry", "cancellation_notice_days",
    "supervisory_exclusion", "claims_basis", "deductible", "limit", "aggregate_limit",
    "coinsurance", "premium", *COVER_COLUMNS,
)
"""Insurance programme columns.

- ``insurer_rating``: claims-paying ability rating (S&P-style scale, e.g. ``AA-``).
- ``affiliate``: insurer is an affiliate of the bank (captive included).
- ``reinsured_outside``: an affiliate/captive's risk is reinsured with an independent insurer.
- ``cancellation_notice_days``: minimum notice for cancellation (Basel: at least 90).
- ``supervisory_exclusion``: the wording has exclusions or limits triggered by supervisory
  action or, for a failed bank, that stop the liquidator or creditors from recovering.
- ``claims_basis``: ``losses-occurring`` or ``claims-made``.
- ``deductible``, ``limit``: per occurrence, KRW; ``aggregate_limit``: per policy year, KRW.
- ``coinsurance``: share of each layer payment the insurer pays, in (0, 1].
- ``premium``: annual premium, KRW.

A tower of layers adds optional columns (:data:`opwb.data.programme_table.TOWER_COLUMNS`:
``follows``, ``attachment``, ``layer`` "L xs A"); see ``data/README.md``.
"""

RATING_SCALE: tuple[str, ...] = (
    "AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-",
    "BB+", "BB", "BB-", "B+", "B", "B-", "CCC", "CC", "C", "D",
)
"""Rating scale, best first. Basel's qualifying standard: ``A`` or better ("A or equivalent")."""
