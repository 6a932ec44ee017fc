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

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = [
    "Category", "EVENT_TYPES", "BUSINESS_LINES", "EVENT_TYPE_CODES", "BUSINESS_LINE_CODES",
    "parse_event_type", "parse_business_line", "label", "event_type_of", "normalise_name",
    "name_reader", "category_readers", "accepted_names", "MappingProblem", "STANDARD_EVENT_TYPE_NAMES",
    "AMBIGUOUS_BUSINESS_LINES",
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


#: The level-1 event-type names of the FSS / Korean banks' standard (besides opwb's own),
#: accepted where unambiguous; dots and spaces do not matter (:func:`normalise_name`).
STANDARD_EVENT_TYPE_NAMES: dict[str, tuple[str, ...]] = {
    "IF": ("내부사기", "내부사취"),
    "EF": ("외부사기", "외부사취"),
    "EPWS": ("고용관행 및 작업장 안전", "고용 및 사업장 안전"),
    "CPBP": ("고객·상품 및 영업관행", "고객, 상품 및 영업관행"),
    "DPA": ("실물자산 손상", "자산손실"),
    "BDSF": ("영업중단 및 시스템 장애", "시스템장애"),
    "EDPM": ("집행·전달 및 프로세스 관리", "실행·전달·프로세스"),
}

#: Names Korean banks use for more than one business line: refused unless a case maps them.
AMBIGUOUS_BUSINESS_LINES: dict[str, tuple[str, ...]] = {"기업금융": ("CF", "CB")}

_SECTIONS = {"event_types": ("an event-type", EVENT_TYPES),
             "business_lines": ("a business-line", BUSINESS_LINES)}
_IGNORED = re.compile(r"[\s·･・.,ㆍ‧∙]+")


def normalise_name(text: object) -> str:
    """A category name as compared: case, spaces and middle dots (· ･ ・ ㆍ . ,) ignored.

    Examples
    --------
    >>> normalise_name("고객·상품 및 영업관행") == normalise_name("고객, 상품 및 영업관행")
    True
    """
    return _IGNORED.sub("", str(text)).casefold()


def _lookup(table: dict[str, Category], extra: dict[str, tuple[str, ...]],
            ambiguous: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in table.values():
        for name in (c.code, c.ko, c.en, *extra.get(c.code, ())):
            out[normalise_name(name)] = c.code
    for name in ambiguous:
        out.pop(normalise_name(name), None)
    return out


_ET = _lookup(EVENT_TYPES, STANDARD_EVENT_TYPE_NAMES, {})
_BL = _lookup(BUSINESS_LINES, {}, AMBIGUOUS_BUSINESS_LINES)
_AMBIGUOUS = {normalise_name(k): (k, v) for k, v in AMBIGUOUS_BUSINESS_LINES.items()}


def parse_event_type(value: object) -> str | None:
    """The event-type code for a code, a Korean/English name or a standard (FSS) name
    (:data:`STANDARD_EVENT_TYPE_NAMES`); None if unknown."""
    return _ET.get(normalise_name(value)) if value is not None else None


def parse_business_line(value: object) -> str | None:
    """The business-line code for a code or a Korean/English name; None if unknown or
    ambiguous (:data:`AMBIGUOUS_BUSINESS_LINES`: ``"기업금융"`` is CF or CB)."""
    return _BL.get(normalise_name(value)) if value is not None else None


def accepted_names(section: str) -> str:
    """The names a loader accepts for ``section`` (``"event_types"`` or
    ``"business_lines"``): each code with its Korean names, e.g. ``"IF (내부사취 / 내부사기)"``."""
    _, table = _SECTIONS[section]
    extra = STANDARD_EVENT_TYPE_NAMES if section == "event_types" else {}
    parts = []
    for c in table.values():
        names: dict[str, str] = {}
        for n in (c.ko, *extra.get(c.code, ())):
            names.setdefault(normalise_name(n), n)
        shown = [n for k, n in names.items() if k not in _AMBIGUOUS] or [c.en]
        parts.append(f"{c.code} ({' / '.join(shown)})")
    return "; ".join(parts)


class MappingProblem(ValueError):
    """A bank's name mapping that cannot be used; ``entries`` holds (name, message) pairs."""

    def __init__(self, entries: list[tuple[str, str]]):
        self.entries = entries
        super().__init__("; ".join(f"{k!r}: {m}" for k, m in entries))


def category_readers(event_types: Mapping[str, str] | None = None,
                     business_lines: Mapping[str, str] | None = None
                     ) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """The readers (:func:`name_reader`) of event types and business lines for a table
    keyed by cell (scenario estimates, a BEICF scorecard), with the bank's mappings.

    Raises
    ------
    opwb.DataError
        A mapping entry that cannot be used, naming the section and the entry.
    """
    from opwb.data.errors import DataError, Problem
    out = []
    for section, names in (("event_types", event_types), ("business_lines", business_lines)):
        try:
            out.append(name_reader(section, names))
        except MappingProblem as exc:
            raise DataError([Problem(f"the {section} mapping", f"entry {k!r}", None, m)
                             for k, m in exc.entries]) from None
    return out[0], out[1]


def name_reader(section: str, names: Mapping[str, str] | None = None) -> Callable[[str], str]:
    """A function reading one cell's name into a code of ``section``.

    The bank's ``names`` (its name → Basel code) are tried first, exactly (after strip), then
    with spaces and dots ignored; then codes, opwb's Korean/English names and the standard
    (FSS) names.

    Parameters
    ----------
    section : {"event_types", "business_lines"}
    names : mapping, optional
        The bank's names → codes, e.g. ``{"기업금융": "CF"}`` (a case file's
        ``[event_types]`` / ``[business_lines]`` section).

    Returns
    -------
    callable
        Text → code; raises ``ValueError`` saying what was expected (every accepted name, and
        that a case can map its own) for an unknown name, and why for an ambiguous one.

    Raises
    ------
    MappingProblem
        A mapped value that is not a code of ``section``, an empty name, or two names
        differing only in spaces or dots mapped to different codes.

    Examples
    --------
    >>> read = name_reader("business_lines", {"기업금융": "CF"})
    >>> read("기업금융"), read("기업 금융"), read("소매금융")
    ('CF', 'CF', 'RB')
    """
    exact, loose = _own_names(section, dict(names or {}))
    builtin = _ET if section == "event_types" else _BL

    def read(text: str) -> str:
        key = text.strip()
        code = exact.get(key) or loose.get(normalise_name(key)) or builtin.get(
            normalise_name(key))
        if code is None:
            raise ValueError(_refusal(section, key))
        return code
    return read


def _own_names(section: str, names: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    what, table = _SECTIONS[section]
    exact: dict[str, str] = {}
    loose: dict[str, tuple[str, str]] = {}
    bad: list[tuple[str, str]] = []
    for name, code in names.items():
        value = str(code).strip().upper()
        if value not in table:
            bad.append((name, f"maps to {code!r}, which is not {what} code; expected one "
                              f"of {', '.join(table)}"))
        elif not str(name).strip():
            bad.append((name, "an empty name; expected the bank's own name of a category"))
        else:
            key = normalise_name(name)
            if key in loose and loose[key][1] != value:
                bad.append((name, f"differs from {loose[key][0]!r} only in spaces or dots but "
                                  f"maps to {value}, not {loose[key][1]}"))
            exact[str(name).strip()] = value
            loose.setdefault(key, (name, value))
    if bad:
        raise MappingProblem(bad)
    return exact, {k: v for k, (_, v) in loose.items()}


def _refusal(section: str, name: str) -> str:
    if normalise_name(name) in _AMBIGUOUS and section == "business_lines":
        word, codes = _AMBIGUOUS[normalise_name(name)]
        meaning = " or ".join(f"{BUSINESS_LINES[c].en.lower()} ({c})" for c in codes)
        return (f"{name!r} is ambiguous: {meaning}; map it in the case's [business_lines] "
                f"(e.g. \"{word}\" = \"{codes[0]}\") or pass "
                f"business_lines={{'{word}': '{codes[0]}'}}")
    what, table = _SECTIONS[section]
    return (f"expected {what} code ({', '.join(table)}) or its Korean/English name, got "
            f"{name!r}; accepted: {accepted_names(section)}; a bank's own names can be mapped "
            f"in the case file's [{section}] section (e.g. \"{name}\" = "
            f"\"{next(iter(table))}\") or with {section}={{...}}")


def label(code: str) -> str:
    """Korean display label with the code in parentheses, e.g. ``'소매금융 (RB)'``."""
    cat = EVENT_TYPES.get(code) or BUSINESS_LINES.get(code)
    if cat is None:
        raise KeyError(f"unknown event-type or business-line code {code!r}")
    return cat.label


def event_type_of(key: str) -> str:
    """Event type of a cell key: ``"IF|RB"`` → ``"IF"``, ``"IF"`` → ``"IF"``."""
    return key.split("|")[0]
