"""Insurance policies and programmes (per-occurrence layers, coverage, insurer rating).

A :class:`Policy` is a per-occurrence layer: the insurer pays
``coinsurance * min(max(X - deductible, 0), limit)`` of an event loss ``X``, subject to an
annual ``aggregate_limit``. A :class:`Programme` is an ordered tuple of policies (primary
first, then excess). :func:`apply_programme` applies a programme to the events of a
simulation (:class:`opwb.simulate.SimulatedLosses`) with coverage uncertainty, insurer
default, payment delay and haircuts, and returns annual recoveries (:class:`ProgrammeResult`).

Examples
--------
The seed's worked BBB example (slide 1-4): a 1,000억 embezzlement.

>>> from opwb.insurance import Policy
>>> from opwb.units import EOK
>>> Policy(deductible=30 * EOK, limit=400 * EOK).recover([1000 * EOK]) / EOK
array([400.])
>>> Policy(deductible=50 * EOK, limit=1000 * EOK).recover([1000 * EOK]) / EOK
array([950.])
"""
from __future__ import annotations

import dataclasses
import math
import zlib
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
    "Policy", "Programme", "ProgrammeResult", "apply_programme", "layer_split",
    "RATING_DEFAULT_PROBABILITY", "default_probability",
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

_TAGS = {"cover": 1, "delay": 2, "default": 3}


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


def _stream(seed: int, tag: str, name: str) -> np.random.Generator:
    """Random stream for (seed, purpose, name): independent of limits, chunks and order."""
    key = (_TAGS[tag], zlib.crc32(name.encode("utf-8")))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class ProgrammeResult:
    """Annual results of :func:`apply_programme`; every array has shape ``(n_years,)``.

    Per policy and year the contractual payment splits as
    ``ceded = delayed + default_loss + haircut + recovery``: ``delayed`` is paid after the
    one-year horizon, ``default_loss`` is lost to the insurer's default, ``haircut`` is the
    regulatory haircut, ``recovery`` is recognised within the year. Net loss is gross minus
    ``recovery``; ``*_by_policy_event_type`` are keyed by ``(policy_id, event_type)``.
    """

    n_years: int
    policy_ids: tuple[str, ...]
    event_types: tuple[str, ...]
    gross_by_event_type: dict[str, np.ndarray]
    ceded_by_policy: dict[str, np.ndarray]
    delayed_by_policy: dict[str, np.ndarray]
    default_loss_by_policy: dict[str, np.ndarray]
    haircut_by_policy: dict[str, np.ndarray]
    recovery_by_policy: dict[str, np.ndarray]
    ceded_by_policy_event_type: dict[tuple[str, str], np.ndarray]
    recovery_by_policy_event_type: dict[tuple[str, str], np.ndarray]
    claims_by_policy: dict[str, np.ndarray]
    insurer_default: dict[str, np.ndarray]
    event_ceded_by_policy: dict[tuple[str, str], np.ndarray] | None = None
    _reuse: dict | None = field(default=None, repr=False, compare=False)

    def _by_event_type(self, table: dict[tuple[str, str], np.ndarray]) -> dict[str, np.ndarray]:
        out = {et: np.zeros(self.n_years) for et in self.event_types}
        for (_, et), x in table.items():
            out[et] += x
        return out

    @property
    def claims(self) -> dict[str, np.ndarray]:
        """Number of paid claims per policy and year (alias of ``claims_by_policy``)."""
        return self.claims_by_policy

    @property
    def ceded_by_event_type(self) -> dict[str, np.ndarray]:
        return self._by_event_type(self.ceded_by_policy_event_type)

    @property
    def recovery_by_event_type(self) -> dict[str, np.ndarray]:
        return self._by_event_type(self.recovery_by_policy_event_type)

    @property
    def annual_gross(self) -> np.ndarray:
        return np.sum([self.gross_by_event_type[et] for et in self.event_types], axis=0)

    @property
    def annual_recovery(self) -> np.ndarray:
        return np.sum([np.zeros(self.n_years), *self.recovery_by_policy.values()], axis=0)

    @property
    def annual_ceded(self) -> np.ndarray:
        return np.sum([np.zeros(self.n_years), *self.ceded_by_policy.values()], axis=0)

    @property
    def annual_net(self) -> np.ndarray:
        return self.annual_gross - self.annual_recovery

    @property
    def annual_net_by_event_type(self) -> dict[str, np.ndarray]:
        rec = self.recovery_by_event_type
        return {et: self.gross_by_event_type[et] - rec[et] for et in self.event_types}


def _aggregate(year: np.ndarray, claim: np.ndarray, used: np.ndarray,
               aggregate_limit: float) -> np.ndarray:
    """Cap claims by an annual aggregate limit, in event order within each year.

    ``used`` (shape (n_years,)) holds what earlier cells already claimed this year and is
    updated in place. Payment = min(cum, A) - min(cum - claim, A) with ``cum`` the year's
    cumulative claim up to and including the event.
    """
    if claim.size == 0:
        return claim
    order = None
    if np.any(year[1:] < year[:-1]):
        order = np.argsort(year, kind="stable")
        year, claim = year[order], claim[order]
    new = np.empty(year.size, dtype=bool)
    new[0] = True
    np.not_equal(year[1:], year[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    # within-year cumulative sums: reset the running sum at each year's first event, then
    # remove the (rounding-size) residue, so precision does not depend on n_years
    reset = claim.copy()
    reset[starts[1:]] -= np.bincount(group, claim)[:-1]
    cum = np.cumsum(reset)
    residue = (cum - claim)[starts]
    cum = cum - residue[group] + used[year]
    pay = np.minimum(cum, aggregate_limit) - np.minimum(cum - claim, aggregate_limit)
    pay = np.clip(pay, 0.0, claim)
    used += np.bincount(year, claim, minlength=used.size)
    if order is not None:
        out = np.empty_like(pay)
        out[order] = pay
        pay = out
    return pay


def _per_policy(value: float | Mapping[str, float] | None, programme: Programme, what: str,
                fallback: float) -> dict[str, float]:
    if value is None:
        return {k: fallback for k in programme.ids}
    if not isinstance(value, Mapping):
        value = {k: value for k in programme.ids}
    unknown = set(value) - set(programme.ids)
    if unknown:
        raise KeyError(f"{what}: unknown policy id(s) {sorted(unknown)}; "
                       f"programme has {list(programme.ids)}")
    out = {k: float(value.get(k, fallback)) for k in programme.ids}
    for k, v in out.items():
        if not 0.0 <= v <= 1.0:
            raise ValueError(f"{what} for policy '{k}' must be in [0, 1], got {v}")
    return out


def apply_programme(programme: Programme | Policy, sim: Any, *, seed: int,
                    default: bool = True, delay: bool = True,
                    haircuts: Mapping[str, float] | None = None, lgd: float = 1.0,
                    delay_probability: float | Mapping[str, float] = 0.1,
                    default_probability_table: Mapping[str, float] | None = None,
                    keep_events: bool = False,
                    reuse: ProgrammeResult | None = None) -> ProgrammeResult:
    """Apply an insurance programme to the stored events of a simulation.

    Per policy, in programme order: the layer applies to each event's loss net of what
    earlier policies pay for that event; an event falls within a policy's wording when its
    uniform ``U`` (one per event) is in the policy's slice
    (:meth:`Programme.cover_intervals`: disjoint wordings, a ``follows`` excess layer
    answers the same events as its primary); the annual aggregate limit
    is shared by all event types the policy covers and allocated in event order within the
    year (cells in ``sim.cells`` order, then simulation order); the insurer defaults in a
    year with probability from its rating (one draw per insurer and year, so policies with
    the same insurer default together), losing ``lgd`` of that year's in-horizon payments;
    a claim is paid after the one-year horizon with probability ``delay_probability`` (one
    uniform per event) and then does not reduce that year's net loss; finally
    ``haircuts[policy_id]`` (a fraction in [0, 1]) removes part of what remains. Defaults,
    delays and haircuts never change what later policies see (no drop-down on insolvency).

    Invariants: per event and per year ceded + retained = gross; a payment never exceeds
    ``coinsurance * limit`` per event nor ``aggregate_limit`` per year; a policy's ceded
    amount never falls as its own limit or aggregate limit rises, nor does the programme's
    total when no ``follows`` layer sits on a primary with an aggregate limit. (With such a
    drop-down tower, a larger primary limit can spend the primary's aggregate on an event
    the excess would have paid anyway, so the total can fall: that is the contract.)

    Parameters
    ----------
    programme : Programme or Policy
    sim : opwb.simulate.SimulatedLosses
        Uses ``n_years``, ``cells``, ``annual_gross`` and ``events`` (year, loss,
        keep_above). Every covered cell must keep all events above the deductible.
    seed : int
        Random streams come from ``SeedSequence(seed)`` keyed by purpose and cell (or
        insurer) name, and draws are tied to event positions: changing a limit or a
        deductible re-uses the same random numbers (common random numbers).
    default, delay : bool
        Switch insurer default and payment delay on or off.
    haircuts : mapping policy_id → fraction in [0, 1], optional
        Regulatory haircut of each policy's recognised recovery
        (:func:`opwb.eligibility.view_haircuts`); missing policies get 0.
    lgd : float
        Loss given insurer default, share of the year's payments lost (1 = conservative:
        a defaulted insurer's estate does not pay within the horizon).
    delay_probability : float or mapping policy_id → float
        Chance that a claim is paid after the one-year horizon (illustrative default 0.1).
    default_probability_table : mapping rating → probability, optional
        Replaces :data:`RATING_DEFAULT_PROBABILITY` (0.03% floor still applies).
    keep_events : bool
        Also return per-event contractual payments by (policy, cell).
    reuse : ProgrammeResult, optional
        An earlier result for the same ``sim``, ``seed`` and delay settings: policies that
        are unchanged and share no event with a changed policy are taken from it rather
        than recomputed (a BBB limit change then costs only the BBB's events). The numbers
        are identical to a full recomputation.

    Returns
    -------
    ProgrammeResult
    """
    if isinstance(programme, Policy):
        programme = Programme((programme,))
    n = int(sim.n_years)
    hc = _per_policy(haircuts, programme, "haircut", 0.0)
    q = _per_policy(delay_probability if delay else 0.0, programme, "delay_probability", 0.0)
    if not 0.0 <= lgd <= 1.0:
        raise ValueError(f"lgd must be in [0, 1], got {lgd}")
    cells = tuple(sim.cells)
    event_types = tuple(dict.fromkeys(event_type_of(c) for c in cells))
    settings = (sim, seed, tuple(q.items()), keep_events)
    redo = _affected(programme, reuse, settings)
    same_sim = (reuse is not None and reuse._reuse is not None
                and reuse._reuse["settings"][0] is sim and reuse._reuse["settings"][1] == seed)
    prev = dict(reuse._reuse, result=reuse) if same_sim else None
    if prev is not None:
        gross = reuse.gross_by_event_type
    else:
        gross = {et: _total([np.asarray(sim.annual_gross[c], dtype=float) for c in cells
                             if event_type_of(c) == et], n) for et in event_types}
    uniforms: dict[tuple[str, str], np.ndarray] = {}

    def draw(tag: str, cell: str) -> np.ndarray:  # single precision: ample for Bernoulli draws
        if (tag, cell) not in uniforms:
            uniforms[tag, cell] = _stream(seed, tag, cell).random(sim.events[cell].loss.size,
                                                                  dtype=np.float32)
        return uniforms[tag, cell]

    paid: dict[str, np.ndarray] = {}
    acc: dict[str, dict] = {"ceded": {}, "delayed": {}, "claims": {}, "events": {}}
    for p in programme:
        if p.key in redo:
            _cede(p, programme, sim, paid, draw, q[p.key], keep_events, acc)
            continue
        for name in ("ceded", "delayed"):
            acc[name].update({k: [v] for k, v in prev[name].items() if k[0] == p.key})
        acc["claims"][p.key] = prev["claims"][p.key]
    ceded, delayed, claims, events_out = acc["ceded"], acc["delayed"], acc["claims"], acc["events"]
    ceded = {k: _total(v, n) for k, v in ceded.items()}
    delayed = {k: _total(v, n) for k, v in delayed.items()}
    result = _settle(programme, n, event_types, gross, ceded, delayed, claims, hc,
                     seed=seed, default=default, lgd=lgd, table=default_probability_table,
                     events_out=events_out if keep_events else None, redo=redo, prev=prev)
    result._reuse.update(programme=programme, settings=settings, ceded=ceded,
                         delayed=delayed, claims=claims)
    return result


def _cede(p: Policy, programme: Programme, sim: Any, paid: dict, draw, q: float,
          keep_events: bool, acc: dict) -> None:
    """Contractual payments of one policy on every cell it covers, into ``acc``.

    ``paid[cell]`` holds earlier policies' payments per stored event (updated here).
    """
    n = int(sim.n_years)
    covered = [c for c in sim.cells if p.covers(c) > 0]
    for c in covered:
        if p.deductible < sim.events[c].keep_above:
            raise ValueError(
                f"policy '{p.key}': deductible {p.deductible:,.0f} is below the "
                f"simulation's keep_above {sim.events[c].keep_above:,.0f} for cell "
                f"'{c}'; simulate with keep_events_above ≤ the lowest deductible")
    used = np.zeros(n) if math.isfinite(p.aggregate_limit) else None
    claims = acc["claims"][p.key] = np.zeros(n, dtype=np.int64)
    for c in covered:
        ev = sim.events[c]
        net = ev.loss - paid[c] if c in paid else ev.loss
        mask = net > p.deductible
        lo, hi = programme.cover_intervals(event_type_of(c))[p.key]
        if lo > 0.0:
            mask &= draw("cover", c) >= lo
        if hi < 1.0:
            mask &= draw("cover", c) < hi
        idx = np.flatnonzero(mask)
        pay = p.coinsurance * np.minimum(net[idx] - p.deductible, p.limit)
        yr = np.asarray(ev.year[idx], dtype=np.int64)
        if used is not None:
            pay = _aggregate(yr, pay, used, p.aggregate_limit)
        if len(programme) > 1 or keep_events:
            paid.setdefault(c, np.zeros(ev.loss.size))[idx] += pay
        if keep_events:
            full = acc["events"][p.key, c] = np.zeros(ev.loss.size)
            full[idx] = pay
        key = (p.key, event_type_of(c))
        acc["ceded"].setdefault(key, []).append(np.bincount(yr, pay, minlength=n))
        claims += np.bincount(yr[pay > 0], minlength=n)
        if q > 0:
            late = draw("delay", c)[idx] < q
            acc["delayed"].setdefault(key, []).append(
                np.bincount(yr[late], pay[late], minlength=n))


def _affected(programme: Programme, reuse: ProgrammeResult | None, settings: tuple) -> set:
    """Policies to recompute: changed ones and every policy sharing events with them."""
    everything = set(programme.ids)
    if reuse is None or reuse._reuse is None or settings[-1]:  # keep_events: all events
        return everything
    old, old_settings = reuse._reuse["programme"], reuse._reuse["settings"]
    same = (len(old_settings) == len(settings) and old_settings[0] is settings[0]
            and old_settings[1:] == settings[1:] and old.ids == programme.ids)
    if not same:
        return everything
    redo = {p.key for p, o in zip(programme, old) if p != o}
    overlaps = [(a.key, b.key) for et in EVENT_TYPE_CODES
                for prog in (programme, old)
                for i, (a, ia) in enumerate(_slices(prog, et))
                for b, ib in _slices(prog, et)[i + 1:]
                if ia[0] < ib[1] and ib[0] < ia[1]]
    grown = True
    while grown:  # close over "shares events with": the connected components
        grown = False
        for a, b in overlaps:
            if (a in redo) != (b in redo):
                redo |= {a, b}
                grown = True
    return redo


def _slices(programme: Programme, et: str) -> list[tuple[Policy, tuple[float, float]]]:
    iv = programme.cover_intervals(et)
    return [(programme[k], v) for k, v in iv.items()]


def _total(arrays: list[np.ndarray], n: int) -> np.ndarray:
    """Sum of annual arrays (the array itself when there is one: no copy)."""
    if not arrays:
        return np.zeros(n)
    if len(arrays) == 1:
        return arrays[0]
    out = arrays[0] + arrays[1]
    for a in arrays[2:]:
        out += a
    return out


def _settle(programme, n, event_types, gross, ceded, delayed, claims, hc, *, seed, default,
            lgd, table, events_out, redo, prev) -> ProgrammeResult:
    """Insurer default and haircuts on annual amounts; assemble the result.

    Result arrays may share memory with each other (e.g. recovery is ceded when nothing
    reduces it); treat them as read-only.
    """
    defaults: dict[str, np.ndarray] = {}
    out: dict[str, dict[str, np.ndarray]] = {k: {} for k in
                                            ("ceded", "delayed", "default", "haircut", "recovery")}
    recovery_pe = {}
    uniforms = dict(prev["default_uniforms"]) if prev else {}
    settled = {}
    for p in programme:
        insurer = p.insurer or p.key
        pd_ = default_probability(p.insurer_rating, table=table) if default else 0.0
        if insurer not in defaults:
            if insurer not in uniforms:
                uniforms[insurer] = _stream(seed, "default", insurer).random(n, dtype=np.float32)
            defaults[insurer] = uniforms[insurer] < pd_
        key_p = (pd_, lgd, hc[p.key])
        settled[p.key] = key_p
        if prev and p.key not in redo and prev["settled"].get(p.key) == key_p:
            old = prev["result"]
            for name, table_ in (("ceded", old.ceded_by_policy), ("delayed", old.delayed_by_policy),
                                 ("default", old.default_loss_by_policy),
                                 ("haircut", old.haircut_by_policy),
                                 ("recovery", old.recovery_by_policy)):
                out[name][p.key] = table_[p.key]
            recovery_pe.update({k: v for k, v in old.recovery_by_policy_event_type.items()
                                if k[0] == p.key})
            continue
        dy = np.flatnonzero(defaults[insurer])
        keys = [k for k in ceded if k[0] == p.key]
        parts: dict[str, list] = {k: [] for k in out}
        for key in keys:
            c = ceded[key]
            late = delayed.get(key)
            rec = c if late is None else c - late
            lost = cut = None
            if dy.size and lgd > 0:
                lost = np.zeros(n)
                lost[dy] = lgd * rec[dy]
                rec = rec - lost
            if hc[p.key] > 0:
                cut = rec * hc[p.key]
                rec = rec - cut
            recovery_pe[key] = rec
            for name, x in (("ceded", c), ("delayed", late), ("default", lost),
                            ("haircut", cut), ("recovery", rec)):
                if x is not None:
                    parts[name].append(x)
        for name in out:
            out[name][p.key] = _total(parts[name], n)
    result = ProgrammeResult(
        n_years=n, policy_ids=programme.ids, event_types=event_types,
        gross_by_event_type=gross, ceded_by_policy=out["ceded"],
        delayed_by_policy=out["delayed"], default_loss_by_policy=out["default"],
        haircut_by_policy=out["haircut"], recovery_by_policy=out["recovery"],
        ceded_by_policy_event_type=dict(ceded), recovery_by_policy_event_type=recovery_pe,
        claims_by_policy=claims, insurer_default=defaults, event_ceded_by_policy=events_out)
    object.__setattr__(result, "_reuse", {"default_uniforms": uniforms, "settled": settled})
    return result
