"""What a manager may type into the dashboard: every control's plausible range, checked
before anything is computed, with a Korean message for the control it concerns.

The stated ranges (:class:`Ranges`, from the case's :class:`~opwb.scenarios.spec.ScenarioSpec`):

* **Amounts** — the bond's limit, deductible, premium and annual aggregate limit, and the
  risk-appetite ceilings — are finite numbers of 억원, at least 0 and at most
  :data:`AMOUNT_MULTIPLE` (10) times the largest single loss the case simulates: its
  severity cap (bundled case: 1조원, so at most 10조원 = 100,000억원), or the plausible
  maximum of a single loss (:data:`opwb.data.schema.PLAUSIBLE_MAX_LOSS`, 10조원) when the
  case has no cap. No loss the model can produce reaches such an amount, so a larger one is a
  slip (an extra digit, a number pasted into the wrong box), not a choice. The limit must be
  above 0; an aggregate limit of 0 means none.
* **The insurer's share** (coinsurance) is above 0% and at most 100%.
* **The valuation date** is an ISO date (YYYY-MM-DD) within :data:`VALUATION_YEARS` (20)
  years of the case's valuation date (bundled: 1986-12-31 to 2026-12-31): the residual terms
  of the programme's policies are measured from it, and a date decades away (9999-12-31 for
  "open", a year typed 2206) is a slip.

:func:`amount_problem` and :func:`parse_ceiling` / :func:`parse_date` return or raise the
message; :func:`explorer_problems` checks the explorer's controls at once (``{control:
message}``); :func:`range_hint` is the short range shown under a refused control. The
dashboard shows each message under its control, lists them in the error card and greys the
results they would change.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from opwb.data.schema import PLAUSIBLE_MAX_LOSS
from opwb.data.units import EOK, format_krw

__all__ = ["AMOUNT_MULTIPLE", "VALUATION_YEARS", "Ranges", "amount_problem",
           "explorer_problems", "parse_ceiling", "parse_date", "range_hint", "shown_number"]

#: Amounts may be at most this multiple of the case's severity cap (its largest single loss).
AMOUNT_MULTIPLE = 10
#: The valuation date may lie at most this many years before or after the case's.
VALUATION_YEARS = 20


@dataclass(frozen=True)
class Ranges:
    """The plausible range of every control (amounts in KRW).

    ``max_amount``: the largest amount any control accepts; ``basis``: what it is a multiple
    of, in Korean; ``valuation``: the first and last valuation dates accepted.
    """

    max_amount: float
    basis: str
    valuation: tuple[dt.date, dt.date]

    @classmethod
    def for_spec(cls, spec) -> "Ranges":
        """The ranges of a case's spec: :data:`AMOUNT_MULTIPLE` × its severity cap (else
        × the plausible maximum single loss) and :data:`VALUATION_YEARS` around its
        valuation date. A cap the case does not state (a spec whose ``severity_cap_stated``
        is False) is named opwb's default, not the case's."""
        cap = spec.severity_cap
        if cap is not None and math.isfinite(cap) and cap > 0:
            largest = float(cap)
            basis = ("사례의 단일손실 상한" if getattr(spec, "severity_cap_stated", True)
                     else "opwb 기본 단일손실 상한 (사례가 정하지 않음)")
        else:
            largest, basis = float(PLAUSIBLE_MAX_LOSS), "단일손실의 현실적 최대"
        day = _as_date(spec.settings.valuation_date)
        lo = _shift_years(day, -VALUATION_YEARS)
        hi = _shift_years(day, VALUATION_YEARS)
        return cls(AMOUNT_MULTIPLE * largest,
                   f"{basis} {format_krw(largest)}의 {AMOUNT_MULTIPLE}배", (lo, hi))

    def describe_ko(self) -> str:
        """One line: the ranges, for a footnote."""
        lo, hi = self.valuation
        return (f"입력 범위: 금액 0–{format_krw(self.max_amount, unit='억', digits=0)} "
                f"({self.basis}), 평가기준일 {lo.isoformat()}–{hi.isoformat()}")


def _as_date(value) -> dt.date:
    import pandas as pd
    return pd.Timestamp(value).date()


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:                       # 29 February
        return day.replace(year=day.year + years, day=28)


def shown_number(value: float) -> str:
    """A typed number as it can be shown: ordinary ones with thousands separators, absurd
    ones in scientific notation (never a 300-digit string), ∞ and NaN by name."""
    v = float(value)
    if math.isnan(v):
        return "값 없음"
    if math.isinf(v):
        return "∞" if v > 0 else "-∞"
    if v != 0 and (abs(v) >= 1e15 or abs(v) < 1e-6):
        return f"{v:.3g}"
    text = f"{v:,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def amount_problem(value_eok, label: str, ranges: Ranges, *,
                   positive: bool = False) -> str | None:
    """The message for an amount typed in 억원 outside its range, or None.

    ``positive``: 0 is refused too (the limit). Non-finite values (∞, NaN) are refused
    like negative ones.
    """
    top = ranges.max_amount / EOK
    lower = "0보다 크고" if positive else "0 이상이고"
    expect = (f"{label}: {lower} {top:,.0f}억원({ranges.basis}) 이하인 금액이어야 합니다 "
              f"(a finite amount in {'(' if positive else '['}0, {top:,.0f}억])")
    try:
        v = float(value_eok)
    except (TypeError, ValueError):
        return f"{expect}: {value_eok!r}"
    ok = math.isfinite(v) and (v > 0 if positive else v >= 0) and v <= top
    return None if ok else f"{expect}: {_typed(v)}"


def _typed(v: float) -> str:
    return f"{shown_number(v)}억원" if math.isfinite(v) else shown_number(v)


def explorer_problems(*, limit, deductible, premium, aggregate, coinsurance,
                      ranges: Ranges) -> dict[str, str]:
    """``{control: message}`` for the explorer's values (amounts in 억원, the insurer's
    share in %) outside their ranges; empty when every value is plausible."""
    out = {}
    for name, value, label, positive in (("limit", limit, "보상한도", True),
                                         ("deductible", deductible, "공제금액", False),
                                         ("premium", premium, "연간 보험료", False),
                                         ("aggregate", aggregate, "연간 총한도", False)):
        problem = amount_problem(value, label, ranges, positive=positive)
        if problem:
            out[name] = problem
    try:
        share = float(coinsurance)
    except (TypeError, ValueError):
        share = math.nan
    if not (math.isfinite(share) and 0 < share <= 100):
        out["coinsurance"] = ("보험사 분담: 0%보다 크고 100% 이하여야 합니다 (coinsurance share "
                              f"in (0%, 100%]): {shown_number(share)}%")
    return out


def parse_ceiling(text: str, what: str, ranges: Ranges | None = None) -> float | None:
    """An appetite ceiling typed in 억원: blank → None (no ceiling); else a finite number
    from 0 to ``ranges.max_amount`` (no upper bound without ``ranges``), in KRW.

    Raises ``ValueError`` in Korean naming ``what`` for anything else.
    """
    t = (text or "").strip().replace(",", "")
    if t == "":
        return None
    try:
        v = float(t)
    except ValueError:
        raise ValueError(f"{what}: 숫자(억원)를 입력하거나 비워 두세요 (a number in 억원, or "
                         f"blank for none): {text!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{what}: 0 이상의 금액이어야 합니다 (must be a finite amount >= 0): "
                         f"{shown_number(v) if math.isfinite(v) else text.strip()!r}")
    if ranges is not None:
        problem = amount_problem(v, what, ranges)
        if problem:
            raise ValueError(problem)
    return (v + 0.0) * EOK                   # -0 typed is 0


def range_hint(control: str, ranges: Ranges) -> str:
    """The short range shown under a control whose value is refused (the full message is
    in the error card): e.g. "허용 범위: 0 초과 100,000억원 이하"."""
    top = f"{ranges.max_amount / EOK:,.0f}억원"
    lo, hi = ranges.valuation
    text = {"limit": f"0 초과 {top} 이하",
            "coinsurance": "0% 초과 100% 이하",
            "valuation": f"{lo.isoformat()} ~ {hi.isoformat()} (YYYY-MM-DD)",
            "aggregate": f"0(없음) 이상 {top} 이하"}.get(control, f"0 이상 {top} 이하")
    if control.startswith("max-"):
        text += " 또는 빈칸(상한 없음)"
    return f"허용 범위: {text}"


def parse_date(text: str, ranges: Ranges | None = None) -> str:
    """A valuation date typed as YYYY-MM-DD (ISO 8601), returned in the same form; with
    ``ranges``, within ``ranges.valuation``.

    Raises ``ValueError`` in Korean for anything else (no locale-dependent forms such as
    12/31/20).
    """
    t = (text or "").strip()
    try:
        if len(t) != 10:
            raise ValueError
        day = dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"평가기준일은 YYYY-MM-DD 형식이어야 합니다 (valuation date as "
                         f"YYYY-MM-DD): {text!r}") from None
    if ranges is not None:
        lo, hi = ranges.valuation
        if not lo <= day <= hi:
            raise ValueError(f"평가기준일은 사례의 평가기준일 전후 {VALUATION_YEARS}년 이내"
                             f"({lo.isoformat()}–{hi.isoformat()})여야 합니다 (valuation date "
                             f"within {VALUATION_YEARS} years of the case's): {t}")
    return day.isoformat()
