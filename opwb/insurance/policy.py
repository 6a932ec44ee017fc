"""Insurance policies and programmes: per-occurrence layers, coverage, insurer rating.

A :class:`Policy` is a per-occurrence layer: the insurer pays
``coinsurance * min(max(X - deductible, 0), limit)`` of an event loss ``X``, subject to an
annual ``aggregate_limit``. A :class:`Programme` is an ordered tuple of policies (primary
first, then excess). Applying them to simulated events is :mod:`opwb.insurance`.

An excess layer is written in one of two notations (:mod:`opwb.data.terms`): opwb's
convention, ``deductible`` with ``follows`` (``X`` is the loss net of the layers below), or
the market's ``L xs A``, ``attachment=A`` (``X`` is the ground-up loss).

Examples
--------
The seed's worked BBB example (slide 1-4): a 1,000억 embezzlement.

>>> from opwb.insurance.policy import Policy
>>> from opwb.data.units import EOK
>>> Policy(deductible=30 * EOK, limit=400 * EOK).recover([1000 * EOK]) / EOK
array([400.])
>>> Policy(deductible=50 * EOK, limit=1000 * EOK).recover([1000 * EOK]) / EOK
array([950.])

The market's excess layer "50 xs 50" on a 100 loss (its contractual layer, ground up):

>>> Policy(attachment=50, limit=50).recover([100.0])
array([50.])
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.data.errors import DataError, Problem
from opwb.data.schema import RATING_SCALE
from opwb.data.terms import layer_term_problems
from opwb.data.taxonomy import EVENT_TYPE_CODES, event_type_of, parse_event_type

__all__ = [
    "RATING_DEFAULT_PROBABILITY", "default_probability", "Policy", "layer_split",
]


ClaimsBasis = Literal["losses-occurring", "claims-made"]


#: Average one-year default rate by rating (fraction), after S&P Global Ratings' annual
#: global corporate default studies (issuer-weighted averages since 1981, rounded; the
#: insurers are part of that universe). Illustrative: pass your own table to
#: :func:`opwb.insurance.policy.default_probability` or ``apply_programme(default_probability_table=...)``.
#: "D" (already in default) is 1.
RATING_DEFAULT_PROBABILITY: dict[str, float] = {
    "AAA": 0.0000, "AA+": 0.0000, "AA": 0.0001, "AA-": 0.0002,
    "A+": 0.0004, "A": 0.0005, "A-": 0.0006,
    "BBB+": 0.0009, "BBB": 0.0014, "BBB-": 0.0022,
    "BB+": 0.0029, "BB": 0.0045, "BB-": 0.0086,
    "B+": 0.0140, "B": 0.0300, "B-": 0.0550,
    "CCC": 0.2600, "CC": 0.2600, "C": 0.2600, "D": 1.0,
}


_SOURCE = "insurance programme"


def default_probability(rating: str, *, table: Mapping[str, float] | None = None,
                        floor: float = 0.0003) -> float:
    """Annual default probability of an insurer from its rating.

    Parameters
    ----------
    rating : str
        Rating on :data:`opwb.data.schema.RATING_SCALE` (e.g. ``"AA-"``).
    table : mapping, optional
        Rating → one-year default probability; default :data:`RATING_DEFAULT_PROBABILITY`.
    floor : float
        Lower bound, 0.03% by default (the Basel II IRB PD floor, para 285), so that no
        insurer is treated as riskless.

    Examples
    --------
    >>> default_probability("A"), default_probability("AAA")
    (0.0005, 0.0003)
    """
    table = RATING_DEFAULT_PROBABILITY if table is None else table
    if rating not in table:
        raise KeyError(f"no default probability for rating {rating!r}; "
                       f"known ratings: {', '.join(table)}")
    return float(max(table[rating], floor))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _timestamp(value: Any) -> pd.Timestamp | None:
    if _is_missing(value) or value is pd.NaT:
        return None
    ts = pd.Timestamp(value)
    return None if pd.isna(ts) else ts


@dataclass(frozen=True)
class Policy:
    """One insurance policy: a per-occurrence layer with an annual aggregate limit.

    Parameters
    ----------
    deductible, limit : float
        Per-occurrence deductible (KRW, finite, ≥ 0) and limit (KRW, ≥ 0; ``inf`` = none;
        0 = the policy pays nothing but keeps its place and wording slice in a programme,
        as ``opwb.scenarios.bond.without_bond`` uses it). The same rule as the programme
        file's (:mod:`opwb.data.terms`). The limit is required; the deductible is required
        unless ``attachment`` is given. In opwb's convention the deductible applies to the
        event's loss net of what the earlier layers of the programme paid for it (for a
        policy that follows none, the gross loss).
    aggregate_limit : float
        Maximum the insurer pays in one policy year over all events and all event types
        the policy covers (after coinsurance); ``inf`` = none; 0 = pays nothing.
    coinsurance : float
        Insurer's share of each layer payment, in (0, 1].
    cover : mapping, optional
        Event type → coverage share in [0, 1]: the chance that an event of that type falls
        within the wording. Codes or Korean/English names are accepted. ``None`` covers
        every event type fully; event types missing from a mapping get 0.
    insurer_rating : str
        Claims-paying ability rating on :data:`opwb.data.schema.RATING_SCALE` (required).
    inception, expiry : date-like, optional
        Policy period (used by :mod:`opwb.insurance.eligibility`; the simulation assumes the policy
        is renewed on the same terms every simulated year).
    follows : str
        ``policy_id`` of an earlier policy whose wording this one follows (an excess layer
        over a primary): it answers the same events as that policy. By default wordings of
        different policies are disjoint sub-types of an event type (see
        :meth:`Programme.cover_intervals`).
    attachment : float, optional
        Market notation ``limit xs attachment``: the point of the event's **gross** loss
        (KRW, finite, ≥ 0, from the ground up) where the layer starts. The layer pays
        ``coinsurance * min(max(X - attachment, 0), limit)`` of the ground-up loss ``X``
        whatever the layers below paid (it does not drop down when their aggregate limit is
        exhausted). ``deductible`` is then the same point (omit it, or give it equal);
        :meth:`replace` of either moves both. Excess ``50 xs 50`` over a primary ``30 xs
        20``: ``Policy(attachment=50, limit=50, follows=<primary>)``, the same layer as opwb's
        ``Policy(deductible=20, limit=50, follows=<primary>)`` while the primary's aggregate
        lasts. ``None`` (default): opwb's convention.
    Other fields describe the policy for the qualifying standards (Basel II 677-679).

    Raises
    ------
    opwb.DataError
        Naming the policy and every invalid field: also a missing limit, a missing
        deductible (when no attachment is given), and an attachment and a deductible that
        disagree (the same point from the ground up, so one notation is unclear).
    """

    deductible: float | None = None
    limit: float | None = None
    aggregate_limit: float = math.inf
    coinsurance: float = 1.0
    cover: Mapping[str, float] | None = None
    premium: float = 0.0
    policy_id: str = ""
    name: str = ""
    insurer: str = ""
    insurer_rating: str = "A"
    affiliate: bool = False
    reinsured_outside: bool = False
    inception: Any = None
    expiry: Any = None
    cancellation_notice_days: int = 365
    supervisory_exclusion: bool = False
    claims_basis: ClaimsBasis = "losses-occurring"
    follows: str = ""
    attachment: float | None = None
    _cover: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        where = f"policy '{self.policy_id or self.name or '(unnamed)'}'"

        def bad(column: str, message: str) -> None:
            problems.append(Problem(_SOURCE, where, column, message))

        terms = self._check_notation(bad)
        wrong = dict(layer_term_problems(**{name: getattr(self, name) for name in terms}))
        for name in terms:          # one rule with the programme file (opwb.data.terms)
            if name in wrong:
                bad(name, wrong[name])
            else:
                object.__setattr__(self, name, float(getattr(self, name)))
        if "attachment" in terms and not wrong.keys() & {"attachment", "deductible"}:
            self._check_attachment(bad)
        try:
            coins = float(self.coinsurance)
            if not 0 < coins <= 1:
                raise ValueError
            object.__setattr__(self, "coinsurance", coins)
        except (TypeError, ValueError):
            bad("coinsurance", f"expected a share in (0, 1], got {self.coinsurance!r}")
        object.__setattr__(self, "_cover", self._check_cover(bad))
        rating = "" if _is_missing(self.insurer_rating) else str(self.insurer_rating).strip()
        if not rating:
            bad("insurer_rating", "missing rating (expected one of "
                + ", ".join(RATING_SCALE) + ")")
        elif rating.upper() not in RATING_SCALE:
            bad("insurer_rating", f"unknown rating {rating!r} (expected one of "
                + ", ".join(RATING_SCALE) + ")")
        else:
            object.__setattr__(self, "insurer_rating", rating.upper())
        self._check_dates(bad)
        notice = self.cancellation_notice_days
        if isinstance(notice, bool) or not isinstance(notice, (int, np.integer)) or notice < 0:
            bad("cancellation_notice_days", f"expected a whole number of days ≥ 0, got {notice!r}")
        if self.claims_basis not in ("losses-occurring", "claims-made"):
            bad("claims_basis", "expected 'losses-occurring' or 'claims-made', "
                f"got {self.claims_basis!r}")
        if problems:
            raise DataError(problems)

    def _check_notation(self, bad) -> tuple[str, ...]:
        """The layer terms to check; reports a missing limit or deductible."""
        terms = ["aggregate_limit", "premium"]
        if _is_missing(self.attachment):
            object.__setattr__(self, "attachment", None)
            if _is_missing(self.deductible):
                bad("deductible", "missing deductible; expected an amount ≥ 0 KRW, or "
                    "attachment= for a layer given from the ground up (market notation "
                    "'limit xs attachment')")
            else:
                terms.append("deductible")
        else:
            terms.append("attachment")
            if not _is_missing(self.deductible):
                terms.append("deductible")
        if _is_missing(self.limit):
            bad("limit", "missing limit; expected an amount ≥ 0 KRW per occurrence (inf: none)")
        else:
            terms.append("limit")
        return tuple(terms)

    def _check_attachment(self, bad) -> None:
        """A deductible given beside an attachment must be the same ground-up point."""
        if _is_missing(self.deductible):
            object.__setattr__(self, "deductible", self.attachment)
        elif self.deductible != self.attachment:
            bad("attachment", f"attachment {self.attachment:,.0f} (from the ground up) and "
                f"deductible {self.deductible:,.0f} disagree; expected one notation: "
                "attachment= alone (market 'limit xs attachment', measured on the gross "
                "loss), or deductible= alone (opwb's convention, measured on the loss net of "
                "the layers below, with follows= for an excess layer)")

    @property
    def ground_up(self) -> bool:
        """True when the layer is given by its ``attachment`` (applied to the gross loss)."""
        return self.attachment is not None

    def _check_cover(self, bad) -> dict[str, float]:
        if self.cover is None:
            return {code: 1.0 for code in EVENT_TYPE_CODES}
        out = {code: 0.0 for code in EVENT_TYPE_CODES}
        if not isinstance(self.cover, Mapping):
            bad("cover", f"expected a mapping event type → share, got {type(self.cover).__name__}")
            return out
        for key, share in self.cover.items():
            code = parse_event_type(key)
            if code is None:
                bad("cover", f"unknown event type {key!r} (expected one of "
                    + ", ".join(EVENT_TYPE_CODES) + ")")
                continue
            try:
                value = float(share)
            except (TypeError, ValueError):
                value = math.nan
            if not 0 <= value <= 1:
                bad(f"cover_{code}", f"expected a coverage share in [0, 1], got {share!r}")
                continue
            out[code] = value
        return out

    def _check_dates(self, bad) -> None:
        dates = {}
        for name in ("inception", "expiry"):
            try:
                dates[name] = _timestamp(getattr(self, name))
            except (TypeError, ValueError):
                bad(name, f"expected a date, got {getattr(self, name)!r}")
                dates[name] = None
            object.__setattr__(self, name, dates[name])
        if dates["inception"] is not None and dates["expiry"] is not None \
                and dates["expiry"] <= dates["inception"]:
            bad("expiry", f"expiry {dates['expiry'].date()} is not after inception "
                f"{dates['inception'].date()}")

    # -- behaviour --------------------------------------------------------------------
    @property
    def coverage(self) -> dict[str, float]:
        """Coverage share for every event-type code (0 where not covered)."""
        return dict(self._cover)

    def covers(self, event_type: str) -> float:
        """Coverage share of an event type (or cell key ``"IF|RB"``)."""
        return self._cover.get(event_type_of(event_type), 0.0)

    def recover(self, losses: Iterable[float] | np.ndarray) -> np.ndarray:
        """Per-occurrence recoveries ``coinsurance * min(max(X - deductible, 0), limit)``.

        No aggregate limit and no coverage randomness: this is the contractual layer.

        Examples
        --------
        >>> from opwb.data.units import EOK
        >>> Policy(deductible=5 * EOK, limit=50 * EOK).recover([650 * EOK, 3 * EOK]) / EOK
        array([50.,  0.])
        """
        x = np.asarray(losses, dtype=float)
        return self.coinsurance * np.minimum(np.maximum(x - self.deductible, 0.0), self.limit)

    def replace(self, **changes: Any) -> "Policy":
        """A copy with some fields changed (validated again).

        For a layer given by its ``attachment``, the deductible is the same point: changing
        one of them alone changes both (``attachment=None`` returns to opwb's convention
        with the deductible given or kept).
        """
        if self.attachment is not None:
            if "deductible" in changes and "attachment" not in changes:
                changes["attachment"] = changes["deductible"]
            elif "deductible" not in changes and not _is_missing(changes.get("attachment")):
                changes["deductible"] = changes["attachment"]
        return dataclasses.replace(self, **changes)

    @property
    def key(self) -> str:
        """Identifier used in results: ``policy_id``, else ``name``."""
        return self.policy_id or self.name


# -- applying a programme to simulated events ---------------------------------------------


def layer_split(loss: float, policy: Any) -> dict[str, float]:
    """Split one loss into expense, insurance and capital (seed slide 1-4).

    Examples
    --------
    >>> layer_split(1000e8, Policy(deductible=30e8, limit=400e8)) == {
    ...     "gross": 1000e8, "insurance": 400e8, "retained": 600e8, "expense": 30e8,
    ...     "capital": 570e8}
    True

    ``insurance = policy.recover([loss])``; of the retained remainder, the part up to the
    deductible is *expense* (비용) and the part above the limit is *capital* (자본).
    """
    x = float(loss)
    paid = float(policy.recover([x])[0])
    expense = min(x, float(policy.deductible))
    return {"gross": x, "insurance": paid, "retained": x - paid, "expense": expense,
            "capital": x - paid - expense}
