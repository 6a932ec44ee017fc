"""Basel level-1 event types and business lines (codes, Korean and English names).

Codes are the vocabulary of every opwb table; Korean names are for display.

Examples
--------
>>> from opwb.data.taxonomy import EVENT_TYPES, parse_event_type, label
>>> EVENT_TYPES["IF"].ko
'내부사취'
>>> parse_event_type("내부사취"), parse_event_type("internal fraud")
('IF', 'IF')
>>> label("IF")
'내부사취 (IF)'
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Category", "EVENT_TYPES", "BUSINESS_LINES", "EVENT_TYPE_CODES", "BUSINESS_LINE_CODES",
    "parse_event_type", "parse_business_line", "label", "event_type_of",
]


@dataclass(frozen=True)
class Category:
    code: str
    ko: str
    en: str
    insurance: str = ""  # seed slide 2-2: the insurance that answers this event type

    @property
    def label(self) -> str:
        return f"{self.ko} ({self.code})"


EVENT_TYPES: dict[str, Category] = {c.code: c for c in [
    Category("IF", "내부사취", "Internal fraud", "금융기관종합보험 (BBB)"),
    Category("EF", "외부사취", "External fraud", "전자·컴퓨터범죄보험 (ECC)"),
    Category("EPWS", "고용 및 사업장 안전", "Employment practices and workplace safety",
             "고용주배상책임보험 (EPL)"),
    Category("CPBP", "고객·상품·영업", "Clients, products and business practices",
             "전문인배상책임보험 (PI); 개인정보누출배상책임보험"),
    Category("DPA", "자산손실", "Damage to physical assets", "재산종합보험 (Property)"),
    Category("BDSF", "시스템장애", "Business disruption and system failures",
             "전자금융거래배상책임보험"),
    Category("EDPM", "실행·전달·프로세스", "Execution, delivery and process management", ""),
]}

BUSINESS_LINES: dict[str, Category] = {c.code: c for c in [
    Category("CF", "기업재무", "Corporate finance"),
    Category("TS", "트레이딩 및 세일즈", "Trading and sales"),
    Category("RB", "소매금융", "Retail banking"),
    Category("CB", "기업금융", "Commercial banking"),
    Category("PS", "지급결제", "Payment and settlement"),
    Category("AS", "대행서비스", "Agency services"),
    Category("AM", "자산운용", "Asset management"),
    Category("RG", "소매중개", "Retail brokerage"),
]}

EVENT_TYPE_CODES: tuple[str, ...] = tuple(EVENT_TYPES)
BUSINESS_LINE_CODES: tuple[str, ...] = tuple(BUSINESS_LINES)


def _lookup(table: dict[str, Category]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in table.values():
        for name in (c.code, c.ko, c.en, c.ko.replace(" ", "")):
            out[name.strip().casefold()] = c.code
    return out


_ET = _lookup(EVENT_TYPES)
_BL = _lookup(BUSINESS_LINES)


def parse_event_type(value: object) -> str | None:
    """Return the event-type code for a code, Korean or English name; None if unknown."""
    return _ET.get(str(value).strip().casefold()) if value is not None else None


def parse_business_line(value: object) -> str | None:
    """Return the business-line code for a code, Korean or English name; None if unknown."""
    return _BL.get(str(value).strip().casefold()) if value is not None else None


def label(code: str) -> str:
    """Korean display label with the code in parentheses, e.g. ``'소매금융 (RB)'``."""
    cat = EVENT_TYPES.get(code) or BUSINESS_LINES.get(code)
    if cat is None:
        raise KeyError(f"unknown event-type or business-line code {code!r}")
    return cat.label


def event_type_of(key: str) -> str:
    """Event type of a cell key: ``"IF|RB"`` → ``"IF"``, ``"IF"`` → ``"IF"``."""
    return key.split("|")[0]
