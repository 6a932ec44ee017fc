"""Insurance policies and programmes: per-occurrence layers, coverage, insurer rating.

A :class:`Policy` is a per-occurrence layer: the insurer pays
``coinsurance * min(max(X - deductible, 0), limit)`` of an event loss ``X``, subject to an
annual ``aggregate_limit``. A :class:`Programme` is an ordered tuple of policies (primary
first, then excess). Applying them to simulated events is :mod:`opwb.insurance`.

Examples
--------
The seed's worked BBB example (slide 1-4): a 1,000억 embezzlement.

>>> from opwb.policies import Policy
>>> from opwb.units import EOK
>>> Policy(deductible=30 * EOK, limit=400 * EOK).recover([1000 * EOK]) / EOK
array([400.])
>>> Policy(deductible=50 * EOK, limit=1000 * EOK).recover([1000 * EOK]) / EOK
array([950.])
"""

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import DataError, Problem
from .schema import RATING_SCALE
from .simulate import event_type_of
from .taxonomy import EVENT_TYPE_CODES, parse_event_type

__all__ = [
    "Policy", "Programme", "layer_split", "RATING_DEFAULT_PROBABILITY", "default_probability",
]

ClaimsBasis = Literal["losses-occurring", "claims-made"]

#: Average one-year default rate by rating (fraction), after S&P Global Ratings' annual
#: global corporate default studies (issuer-weighted averages since 1981, rounded; the
#: insurers are part of that universe). Illustrative: pass your own table to
#: :func:`opwb.insurance.default_probability` or ``apply_programme(default_probability_table=...)``.
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
        Rating on :data:`opwb.schema.RATING_SCALE` (e.g. ``"AA-"``).
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
        Per-occurrence deductible and limit (KRW, ≥ 0; ``limit`` may be ``inf``).
    aggregate_limit : float
        Maximum the insurer pays in one policy year over all events and all event types
        the policy covers (after coinsurance); ``inf`` = none.
    coinsurance : float
        Insurer's share of each layer payment, in (0, 1].
    cover : mapping, optional
        Event type → coverage share in [0, 1]: the chance that an event of that type falls
        within the wording. Codes or Korean/English names are accepted. ``None`` covers
        every event type fully; event types missing from a mapping get 0.
    insurer_rating : str
        Claims-paying ability rating on :data:`opwb.schema.RATING_SCALE` (required).
    inception, expiry : date-like, optional
        Policy period (used by :mod:`opwb.eligibility`; the simulation assumes the policy
        is renewed on the same terms every simulated year).
    follows : str
        ``policy_id`` of an earlier policy whose wording this one follows (an excess layer
        over a primary): it answers the same events as that policy. By default wordings of
        different policies are disjoint sub-types of an event type (see
        :meth:`Programme.cover_intervals`).
    Other fields describe the policy for the qualifying standards (Basel II 677-679).

    Raises
    ------
    opwb.DataError
        Naming the policy and every invalid field.
    """

    deductible: float
    limit: float
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
    _cover: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        where = f"policy '{self.policy_id or self.name or '(unnamed)'}'"

        def bad(column: str, message: str) -> None:
            problems.append(Problem(_SOURCE, where, column, message))

        for name in ("deductible", "limit", "aggregate_limit", "premium"):
            value = getattr(self, name)
            try:
                value = float(value)
            except (TypeError, ValueError):
                bad(name, f"expected a non-negative amount, got {value!r}")
                continue
            if math.isnan(value) or value < 0:
                bad(name, f"expected a non-negative amount, got {value!r}")
            object.__setattr__(self, name, value)
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
        >>> from opwb.units import EOK
        >>> Policy(deductible=5 * EOK, limit=50 * EOK).recover([650 * EOK, 3 * EOK]) / EOK
        array([50.,  0.])
        """
        x = np.asarray(losses, dtype=float)
        return self.coinsurance * np.minimum(np.maximum(x - self.deductible, 0.0), self.limit)

    def replace(self, **changes: Any) -> "Policy":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    @property
    def key(self) -> str:
        """Identifier used in results: ``policy_id``, else ``name``."""
        return self.policy_id or self.name


_FRAME_FIELDS = (
    "policy_id", "name", "insurer", "insurer_rating", "affiliate", "reinsured_outside",
    "inception", "expiry", "cancellation_notice_days", "supervisory_exclusion",
    "claims_basis", "deductible", "limit", "aggregate_limit", "coinsurance", "premium",
    "follows",
)


@dataclass(frozen=True)
class Programme:
    """An ordered set of policies: application order is primary first, then excess.

    A later policy sees each event's loss net of what earlier policies pay for it (after
    their aggregate limits), so an excess layer over a primary with deductible ``d`` and
    limit ``L`` is written with deductible ``d`` and ``follows`` = the primary's id (it
    attaches once the primary has paid ``L``, i.e. at ``d + L`` of gross loss) and drops
    down when the primary's aggregate limit is exhausted, as standard excess wordings do.

    Coverage shares: the wordings of different policies cover disjoint sub-types of an
    event type, so the shares of one event type over policies that follow no other must
    sum to at most 1 (the bundled programme's convention).
    """

    policies: tuple[Policy, ...]

    def __post_init__(self) -> None:
        policies = tuple(self.policies)
        object.__setattr__(self, "policies", policies)
        problems = []
        seen: set[str] = set()
        for i, p in enumerate(policies):
            if not isinstance(p, Policy):
                raise TypeError(f"programme item {i} is a {type(p).__name__}, not a Policy")
            if not p.key:
                problems.append(Problem(_SOURCE, f"policy number {i + 1}", "policy_id",
                                        "missing policy_id (needed to report results)"))
            elif p.key in seen:
                problems.append(Problem(_SOURCE, f"policy '{p.key}'", "policy_id",
                                        "duplicate policy_id"))
            seen.add(p.key)
            if p.follows and p.follows not in seen - {p.key}:
                problems.append(Problem(_SOURCE, f"policy '{p.key}'", "follows",
                                        f"follows {p.follows!r}, which is not an earlier "
                                        "policy of the programme"))
        for et in EVENT_TYPE_CODES:
            total = sum(p.covers(et) for p in policies if not p.follows)
            if total > 1 + 1e-9:
                problems.append(Problem(
                    _SOURCE, f"event type {et}", f"cover_{et}",
                    f"coverage shares of policies {[p.key for p in policies if p.covers(et) and not p.follows]} "
                    f"sum to {total:.3g} > 1; wordings are disjoint sub-types (set 'follows' "
                    "for an excess layer that follows another policy's wording)"))
        if problems:
            raise DataError(problems)

    def cover_intervals(self, event_type: str) -> dict[str, tuple[float, float]]:
        """Slice ``[lo, hi)`` of the unit interval each policy answers for an event type.

        One uniform ``U`` per event: policy ``p`` answers when ``lo_p <= U < hi_p``.
        Policies take consecutive slices in programme order (disjoint wordings); a policy
        that ``follows`` another starts at that policy's slice.
        """
        out: dict[str, tuple[float, float]] = {}
        nxt = 0.0
        for p in self.policies:
            share = p.covers(event_type)
            if share <= 0:
                continue
            if p.follows and p.follows in out:
                lo = out[p.follows][0]
            else:
                lo, nxt = nxt, nxt + share
            out[p.key] = (lo, min(lo + share, 1.0))
        return out

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.policies)

    def __len__(self) -> int:
        return len(self.policies)

    def __iter__(self):
        return iter(self.policies)

    def __getitem__(self, policy_id: str) -> Policy:
        for p in self.policies:
            if p.key == policy_id:
                return p
        raise KeyError(f"no policy {policy_id!r} in the programme (have {', '.join(self.ids)})")

    def replace_policy(self, policy_id: str, **changes: Any) -> "Programme":
        """A copy with one policy's fields changed, e.g. a new BBB limit."""
        self[policy_id]  # raises KeyError when unknown
        return Programme(tuple(p.replace(**changes) if p.key == policy_id else p
                               for p in self.policies))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Programme":
        """Build from a programme table (:func:`opwb.programme.load_programme` output).

        Rows keep their order (primary before excess). Every invalid field of every
        policy is reported in one :class:`opwb.DataError`.
        """
        problems: list[Problem] = []
        policies = []
        cover_cols = [c for c in frame.columns if str(c).startswith("cover_")]
        for i, row in enumerate(frame.to_dict("records")):
            kwargs = {k: row[k] for k in _FRAME_FIELDS if k in row}
            if _is_missing(kwargs.get("follows")):
                kwargs.pop("follows", None)
            for k in ("affiliate", "reinsured_outside", "supervisory_exclusion"):
                if k in kwargs and not _is_missing(kwargs[k]):
                    kwargs[k] = bool(kwargs[k])
            if "cancellation_notice_days" in kwargs:
                v = kwargs["cancellation_notice_days"]
                if isinstance(v, (float, np.floating)) and float(v).is_integer():
                    kwargs["cancellation_notice_days"] = int(v)
            if "aggregate_limit" in kwargs and _is_missing(kwargs["aggregate_limit"]):
                kwargs["aggregate_limit"] = math.inf
            kwargs["policy_id"] = "" if _is_missing(kwargs.get("policy_id")) \
                else str(kwargs["policy_id"])
            if cover_cols:
                kwargs["cover"] = {c[len("cover_"):]: row[c] for c in cover_cols}
            try:
                policies.append(Policy(**kwargs))
            except DataError as exc:
                problems.extend(exc.problems or [Problem(_SOURCE, f"row {i + 1}", None, str(exc))])
        if problems:
            raise DataError(problems)
        return cls(tuple(policies))

    def to_frame(self) -> pd.DataFrame:
        """One row per policy with the programme columns (cover_* for coverage)."""
        rows = []
        for p in self.policies:
            row = {k: getattr(p, k) for k in _FRAME_FIELDS}
            row["policy_id"] = p.key
            row.update({f"cover_{k}": v for k, v in p.coverage.items()})
            rows.append(row)
        return pd.DataFrame(rows)


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
