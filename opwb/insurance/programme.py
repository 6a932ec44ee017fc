"""An insurance programme: the ordered policies (primary first, then excess layers) a bank
holds, built from the validated programme table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.errors import DataError, Problem
from opwb.data.terms import TowerLayer, tower_problems
from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.insurance.policy import _SOURCE, Policy, _is_missing

__all__ = ["Programme"]


_FRAME_FIELDS = (
    "policy_id", "name", "insurer", "insurer_rating", "affiliate", "reinsured_outside",
    "inception", "expiry", "cancellation_notice_days", "supervisory_exclusion",
    "claims_basis", "deductible", "limit", "aggregate_limit", "coinsurance", "premium",
    "follows", "attachment",
)


@dataclass(frozen=True)
class Programme:
    """An ordered set of policies: application order is primary first, then excess.

    An excess layer is written in one of two notations (:mod:`opwb.data.terms`):

    * opwb's convention: a later policy sees each event's loss net of what earlier policies
      pay for it (after their aggregate limits), so an excess layer over a primary with
      deductible ``d`` and limit ``L`` is written with deductible ``d`` and ``follows`` = the
      primary's id (it attaches once the primary has paid ``L``, i.e. at ``d + L`` of gross
      loss) and drops down when the primary's aggregate limit is exhausted;
    * market notation ``L2 xs A``: ``attachment=A``, ``limit=L2`` and ``follows`` = the
      primary's id; the layer applies to the gross loss (from the ground up) and does not
      drop down. Over a primary ``30 xs 20``, the excess ``50 xs 50`` is
      ``Policy(attachment=50, limit=50, follows=...)`` or, in opwb's convention,
      ``Policy(deductible=20, limit=50, follows=...)``.

    Refused (:func:`opwb.data.terms.tower_problems`, the programme file's rule too): a layer
    whose attachment lies inside the layers below it, and a ``follows`` layer whose
    deductible reaches the ground-up top of the layers below (``deductible=50`` over ``30 xs
    20``), which reads as either notation.

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
        if not problems:
            layers = [TowerLayer(p.key, p.deductible, p.limit, p.attachment, p.follows)
                      for p in policies]
            problems.extend(Problem(_SOURCE, f"policy '{layers[i].policy_id}'", term, message)
                            for i, term, message in tower_problems(layers))
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
        """Build from a programme table (:func:`opwb.data.programme_table.load_programme` output).

        Rows keep their order (primary before excess). Every invalid field of every
        policy is reported in one :class:`opwb.DataError`.
        """
        problems: list[Problem] = []
        policies = []
        cover_cols = [c for c in frame.columns if str(c).startswith("cover_")]
        for i, row in enumerate(frame.to_dict("records")):
            kwargs = {k: row[k] for k in _FRAME_FIELDS if k in row}
            for k in ("follows", "attachment"):
                if _is_missing(kwargs.get(k)):
                    kwargs.pop(k, None)
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
            row["attachment"] = math.nan if p.attachment is None else p.attachment
            row.update({f"cover_{k}": v for k, v in p.coverage.items()})
            rows.append(row)
        return pd.DataFrame(rows)
