"""BBB alternatives: named insurance terms to compare (limit, deductible, premium, ...).

An :class:`Alternative` is what management chooses among. Amounts are KRW.
:func:`alternative_problems` says in Korean (with English) what makes an input
meaningless, so the dashboard can show it instead of a traceback;
:func:`load_alternatives` reads a table of them with file/line/column errors.

Examples
--------
>>> from opwb.scenarios.alternatives import Alternative, alternative_problems
>>> alt = Alternative("한도 400억", limit=400e8, deductible=30e8, premium=40e8)
>>> alternative_problems(alt)
[]
>>> alternative_problems(alt.replace(deductible=-1e8))
['공제금액은 0 이상이어야 합니다 (deductible must be ≥ 0): −1억원']
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from opwb.data.schema import RATING_SCALE
from opwb.data.tableio import (
    CellError,
    Problems,
    column_index,
    is_blank,
    parse_amount,
    parse_fraction,
    parse_text,
    read_table,
)
from opwb.data.units import format_krw, with_particle

__all__ = ["Alternative", "alternative_problems", "check_alternative", "load_alternatives",
           "ALTERNATIVE_COLUMNS"]

ALTERNATIVE_COLUMNS = ("name", "limit", "deductible", "premium", "aggregate_limit",
                       "coinsurance", "insurer_rating")


@dataclass(frozen=True)
class Alternative:
    """BBB terms to evaluate. ``coinsurance`` is the insurer's share of each payment."""

    name: str
    limit: float
    deductible: float
    premium: float
    aggregate_limit: float = math.inf
    coinsurance: float = 1.0
    insurer_rating: str = "A"

    def replace(self, **changes: Any) -> "Alternative":
        return dataclasses.replace(self, **changes)

    def policy(self):
        """The bond as an :class:`opwb.insurance.policy.Policy` (layer terms only)."""
        from opwb.insurance.policy import Policy
        return Policy(deductible=self.deductible, limit=self.limit,
                      aggregate_limit=self.aggregate_limit, coinsurance=self.coinsurance,
                      premium=self.premium, insurer_rating=self.insurer_rating)

    def policy_changes(self) -> dict[str, Any]:
        """Keyword changes for :meth:`opwb.insurance.programme.Programme.replace_policy`."""
        return {"limit": float(self.limit), "deductible": float(self.deductible),
                "premium": float(self.premium), "aggregate_limit": float(self.aggregate_limit),
                "coinsurance": float(self.coinsurance), "insurer_rating": self.insurer_rating}


def alternative_problems(alt: Alternative) -> list[str]:
    """Messages for inputs that make no sense (empty list when the alternative is valid).

    Amounts must be >= 0; the deductible and the premium must also be finite (an infinite
    limit or aggregate limit is a term: unlimited)."""
    out = []
    for field, ko, en in (("limit", "보상한도", "limit"), ("deductible", "공제금액", "deductible"),
                          ("premium", "보험료", "premium"),
                          ("aggregate_limit", "연간 총한도", "aggregate limit")):
        value = getattr(alt, field)
        if value is None or math.isnan(value):
            out.append(f"{with_particle(ko, '을')} 입력하세요 ({en} is missing)")
        elif value < 0:
            out.append(f"{with_particle(ko, '은')} 0 이상이어야 합니다 ({en} must be ≥ 0): "
                       f"{format_krw(value)}")
        elif math.isinf(value) and field in ("deductible", "premium"):
            # unlimited is a term a limit can have; an infinite price or retention is not
            out.append(f"{with_particle(ko, '은')} 유한한 금액이어야 합니다 ({en} must be a "
                       f"finite amount): {value!r}")
    if not out and alt.limit == 0:
        out.append("보상한도는 0보다 커야 합니다 (limit must be > 0)")
    if not out and alt.deductible > alt.limit:
        out.append("공제금액이 보상한도보다 큽니다 (deductible above the limit): "
                   f"{format_krw(alt.deductible)} > {format_krw(alt.limit)}. 보험사 견적이 모두 "
                   "그렇듯 공제금액은 보상한도 이하여야 합니다. 공제금액을 낮추거나 보상한도를 "
                   "높이세요 (the quotes, and the premium model built on them, have deductible "
                   "≤ limit)")
    if not out and alt.aggregate_limit < alt.limit:
        out.append("연간 총한도가 건당 보상한도보다 작습니다 (aggregate limit below the "
                   f"per-occurrence limit): {format_krw(alt.aggregate_limit)} < "
                   f"{format_krw(alt.limit)}")
    if alt.coinsurance is None or not 0 < alt.coinsurance <= 1:
        shown = "—" if alt.coinsurance is None else f"{alt.coinsurance * 100:g}%"
        out.append("보험사 분담비율은 0%보다 크고 100% 이하여야 합니다 (coinsurance share "
                   f"must be in (0%, 100%]): {shown}")
    if alt.insurer_rating not in RATING_SCALE:
        out.append(f"알 수 없는 신용등급입니다 (unknown rating): {alt.insurer_rating!r}")
    return out


def check_alternative(alt: Alternative) -> Alternative:
    """Return ``alt`` or raise ``ValueError`` listing :func:`alternative_problems`."""
    problems = alternative_problems(alt)
    if problems:
        raise ValueError(f"alternative {alt.name!r}: " + "; ".join(problems))
    return alt


def load_alternatives(source: Any, *, encoding: str | None = None,
                      max_errors: int = 20) -> tuple[Alternative, ...]:
    """Read named alternatives (columns :data:`ALTERNATIVE_COLUMNS`; amounts in KRW).

    ``aggregate_limit`` blank means none; ``coinsurance`` blank means 100%;
    ``insurer_rating`` blank means ``A``. Raises :class:`opwb.DataError` naming the file,
    line and column of every problem.
    """
    tbl = read_table(source, encoding=encoding)
    problems = Problems(tbl, max_errors)
    idx = column_index(tbl, problems, required=ALTERNATIVE_COLUMNS[:4],
                       optional=ALTERNATIVE_COLUMNS[4:])
    problems.raise_if_any()
    out = []
    for pos, values in tbl.rows:
        before = len(problems.items)
        cells = {c: values[i] for c, i in idx.items()}
        kw: dict[str, Any] = {}
        for col in ("name", "insurer_rating"):
            if col == "name" or not is_blank(cells.get(col)):
                try:
                    kw[col] = parse_text(cells[col])
                except CellError as exc:
                    problems.add(pos, col, str(exc))
        parsers = {"limit": parse_amount, "deductible": parse_amount, "premium": parse_amount,
                   "aggregate_limit": parse_amount,
                   "coinsurance": lambda v: parse_fraction(v, allow_zero=False)}
        for col, parse in parsers.items():
            raw = cells.get(col)
            if is_blank(raw):
                if col in ("aggregate_limit", "coinsurance"):
                    continue
                problems.add(pos, col, "value is missing; expected an amount in KRW")
                continue
            try:
                kw[col] = parse(raw)
            except CellError as exc:
                problems.add(pos, col, str(exc))
        if len(problems.items) == before:
            try:
                out.append(check_alternative(Alternative(**kw)))
            except (TypeError, ValueError) as exc:
                problems.add(pos, None, str(exc))
    if not tbl.rows:
        problems.add((tbl.header_pos or 0) + 1, None, "no alternatives after the header")
    problems.raise_if_any()
    return tuple(out)
