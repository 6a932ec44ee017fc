"""Basel II qualifying standards for insurance (paras 677-679) and residual-term haircuts.

Two views of a programme, side by side:

- **economic**: every policy counts; no regulatory haircut (uncertainty of payment and
  coverage mismatch still enter through :func:`opwb.insurance.apply.apply_programme`'s
  stochastic elements);
- **regulatory**: only policies meeting the qualifying standards count, each reduced by
  its residual-term haircut at the valuation date. An ineligible policy still pays in the
  contract, so excess layers above it attach as written; only its recognition is zero.

Examples
--------
>>> from opwb.insurance.eligibility import residual_term_haircut
>>> round(float(residual_term_haircut(180)), 4)               # (365 - 180) / 275
0.6727
>>> round(float(residual_term_haircut(180, convention="pro-rata")), 4)   # 1 - 180/365
0.5068
>>> float(residual_term_haircut(90)), float(residual_term_haircut(400))
(1.0, 0.0)
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.data.schema import RATING_SCALE
from opwb.insurance.apply import apply_programme
from opwb.insurance.policy import Policy
from opwb.insurance.programme import Programme
from opwb.insurance.result import ProgrammeResult

__all__ = [
    "HaircutConvention", "View", "CHECKS", "CHECK_LABELS_KO", "residual_term_haircut",
    "eligibility_table", "view_haircuts", "apply_views", "recognition_summary",
]

HaircutConvention = Literal["linear", "pro-rata"]
View = Literal["economic", "regulatory"]

#: Qualifying standards checked per policy (Basel II para 677).
CHECKS: tuple[str, ...] = ("rating", "term", "notice", "supervisory", "independence")
CHECK_LABELS_KO: dict[str, str] = {
    "rating": "보험사 지급능력 등급 A 미만",
    "term": "최초 보험기간 1년 미만",
    "notice": "해지 통지기간 90일 미만",
    "supervisory": "감독당국 조치 관련 면책·제한 조항",
    "independence": "계열 보험사(외부 재보험 없음)",
}

MIN_NOTICE_DAYS = 90
NO_RECOGNITION_DAYS = 90
FULL_RECOGNITION_DAYS = 365


def residual_term_haircut(days: Any, convention: HaircutConvention = "linear") -> np.ndarray:
    """Haircut (fraction removed) for a policy's residual term in days (Basel II para 678).

    Basel fixes only the ends: 100% at a residual term of 90 days or less, none at one year
    (365 days) or more. In between:

    - ``"linear"``: haircut = (365 − d) / 275, continuous from 100% at 90 days to 0 at 365;
    - ``"pro-rata"``: recognition = d / 365 (haircut = 1 − d/365), with a jump from 100%
      haircut at 90 days to 75.3% at 91 days.

    Parameters
    ----------
    days : array-like
        Residual term in days (expiry − valuation date); ≤ 0 means expired.
    convention : {"linear", "pro-rata"}

    Returns
    -------
    numpy.ndarray
        Haircuts in [0, 1], same shape as ``days``.
    """
    d = np.asarray(days, dtype=float)
    if convention == "linear":
        mid = (FULL_RECOGNITION_DAYS - d) / (FULL_RECOGNITION_DAYS - NO_RECOGNITION_DAYS)
    elif convention == "pro-rata":
        mid = 1.0 - d / FULL_RECOGNITION_DAYS
    else:
        raise ValueError(f"convention must be 'linear' or 'pro-rata', got {convention!r}")
    out = np.where(d <= NO_RECOGNITION_DAYS, 1.0,
                   np.where(d >= FULL_RECOGNITION_DAYS, 0.0, mid))
    return np.clip(out, 0.0, 1.0)


def _as_programme(programme: Programme | pd.DataFrame | Policy) -> Programme:
    if isinstance(programme, pd.DataFrame):
        return Programme.from_frame(programme)
    if isinstance(programme, Policy):
        return Programme((programme,))
    return programme


def _failures(p: Policy, min_rating: str) -> dict[str, str]:
    """Failed qualifying standards of one policy → reason text."""
    fails: dict[str, str] = {}
    if RATING_SCALE.index(p.insurer_rating) > RATING_SCALE.index(min_rating):
        fails["rating"] = f"insurer rating {p.insurer_rating} is below {min_rating}"
    if p.inception is None or p.expiry is None:
        fails["term"] = "policy term unknown (inception or expiry missing)"
    elif p.expiry < p.inception + pd.DateOffset(years=1) - pd.Timedelta(days=1):
        days = (p.expiry - p.inception).days
        fails["term"] = f"initial term {days} days is under one year"
    if p.cancellation_notice_days < MIN_NOTICE_DAYS:
        fails["notice"] = (f"cancellation notice {p.cancellation_notice_days} days is under "
                           f"{MIN_NOTICE_DAYS} days")
    if p.supervisory_exclusion:
        fails["supervisory"] = ("exclusion or limit triggered by supervisory action "
                                "or barring a liquidator's recovery")
    if p.affiliate and not p.reinsured_outside:
        fails["independence"] = "affiliated insurer (captive) without outside reinsurance"
    return fails


def eligibility_table(programme: Programme | pd.DataFrame, *, valuation_date: Any = None,
                      convention: HaircutConvention = "linear",
                      min_rating: str = "A") -> pd.DataFrame:
    """Qualifying standards per policy, with a reason for each failure, and haircuts.

    Parameters
    ----------
    programme : Programme or DataFrame
        A DataFrame is read with :meth:`Programme.from_frame`.
    valuation_date : date-like, optional
        Date at which the residual term is measured; ``None`` applies no residual-term
        haircut (the policy is assumed renewed on the same terms).
    convention : {"linear", "pro-rata"}
        Residual-term haircut convention (:func:`residual_term_haircut`).
    min_rating : str
        Lowest acceptable claims-paying rating ("A or equivalent").

    Returns
    -------
    pandas.DataFrame
        One row per policy (programme order): ``policy_id, name, insurer,
        insurer_rating``, one boolean ``<check>_ok`` column per qualifying standard
        (:data:`CHECKS`), ``eligible``, ``failed`` (tuple of failed checks), ``reasons``
        ("; "-joined texts, "" when eligible), ``initial_term_days``, ``residual_days``,
        ``haircut`` (residual-term haircut; 1 when not in force at the valuation date) and
        ``recognition`` (share recognised in the regulatory view: 0 if ineligible, else
        1 − haircut).

    Notes
    -----
    One year of initial term accepts the inclusive end-date convention (1 Jan to 31 Dec).
    """
    programme = _as_programme(programme)
    if min_rating not in RATING_SCALE:
        raise ValueError(f"min_rating {min_rating!r} is not on the rating scale")
    vdate = None if valuation_date is None else pd.Timestamp(valuation_date)
    rows = []
    for p in programme:
        fails = _failures(p, min_rating)
        row: dict[str, Any] = {"policy_id": p.key, "name": p.name, "insurer": p.insurer,
                               "insurer_rating": p.insurer_rating}
        row.update({f"{c}_ok": c not in fails for c in CHECKS})
        row["eligible"] = not fails
        row["failed"] = tuple(fails)
        row["reasons"] = "; ".join(fails.values())
        has_dates = p.inception is not None and p.expiry is not None
        row["initial_term_days"] = (p.expiry - p.inception).days if has_dates else np.nan
        haircut, residual = 0.0, np.nan
        if vdate is not None:
            if p.expiry is None:
                haircut = 1.0
            else:
                residual = (p.expiry - vdate).days
                haircut = float(residual_term_haircut(residual, convention))
            if p.inception is not None and vdate < p.inception:
                haircut = 1.0  # not yet in force at the valuation date
        row["residual_days"] = residual
        row["haircut"] = haircut
        row["recognition"] = (1.0 - haircut) if not fails else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def view_haircuts(programme: Programme | pd.DataFrame, view: View, *,
                  valuation_date: Any = None, convention: HaircutConvention = "linear",
                  min_rating: str = "A") -> dict[str, float]:
    """Haircuts per policy id for ``apply_programme(haircuts=...)`` in one view.

    ``"economic"``: 0 for every policy. ``"regulatory"``: 1 for ineligible policies, the
    residual-term haircut for eligible ones.
    """
    programme = _as_programme(programme)
    if view == "economic":
        return {pid: 0.0 for pid in programme.ids}
    if view != "regulatory":
        raise ValueError(f"view must be 'economic' or 'regulatory', got {view!r}")
    table = eligibility_table(programme, valuation_date=valuation_date,
                              convention=convention, min_rating=min_rating)
    return {pid: 1.0 - rec for pid, rec in zip(table["policy_id"], table["recognition"])}


def apply_views(programme: Programme | pd.DataFrame, sim: Any, *, seed: int,
                valuation_date: Any = None, convention: HaircutConvention = "linear",
                min_rating: str = "A", **kwargs: Any) -> dict[str, ProgrammeResult]:
    """Apply a programme in the economic and the regulatory view (same random numbers).

    ``kwargs`` go to :func:`opwb.insurance.apply.apply_programme` (``default``, ``delay``,
    ``lgd``, ``delay_probability`` ...). Returns ``{"economic": ..., "regulatory": ...}``.
    """
    programme = _as_programme(programme)
    out = {}
    for view in ("economic", "regulatory"):
        hc = view_haircuts(programme, view, valuation_date=valuation_date,
                           convention=convention, min_rating=min_rating)
        out[view] = apply_programme(programme, sim, seed=seed, haircuts=hc, **kwargs)
    return out


def recognition_summary(results: Mapping[str, ProgrammeResult]) -> pd.DataFrame:
    """Mean annual ceded and recognised recovery per policy in each view (KRW)."""
    rows = []
    for view, res in results.items():
        for pid in res.policy_ids:
            rows.append({"view": view, "policy_id": pid,
                         "ceded": res.ceded_by_policy[pid].mean(),
                         "recognised": res.recovery_by_policy[pid].mean()})
    return pd.DataFrame(rows)
