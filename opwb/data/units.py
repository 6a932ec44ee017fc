"""KRW amounts in the Korean display convention: 억원 (1e8) and 조원 (1e12).

A negative figure is shown with the minus sign U+2212 (:data:`MINUS`: "−12억원", not
"-12억원") and a figure that rounds to zero as "0", never "-0": every formatter here goes
through :func:`signed_text`, and other modules format plain numbers with
:func:`format_number`. Numbers written to Excel stay numbers; only display text changes.

Examples
--------
>>> from opwb.data.units import format_krw, EOK
>>> format_krw(65_000_000_000)
'650억원'
>>> format_krw(1.2e12)
'1.2조원'
>>> format_krw(1_000 * EOK)
'1,000억원'
>>> format_krw(12_345_678, digits=0)
'1,235만원'
>>> format_krw(3.4e9, unit="억", digits=2)
'34억원'
>>> format_krw(-12 * EOK), format_krw(-0.04 * EOK, unit="억")
('−12억원', '0억원')
"""
from __future__ import annotations

import math
from typing import Literal

__all__ = ["DEFAULT_NOTE", "EOK", "JO", "MAN", "MINUS", "NOT_EXISTING", "eok_formatter",
           "format_krw", "format_krw_with_se", "format_krw_row", "format_number", "from_eok",
           "has_final_consonant", "round_to_se", "severity_cap_text", "signed_text", "to_eok",
           "with_particle"]

MAN = 1e4   # 만
EOK = 1e8   # 억
JO = 1e12   # 조

_UNITS = {"조": JO, "억": EOK, "만": MAN, "": 1.0}

#: The minus sign of every negative figure opwb shows (U+2212, not the ASCII hyphen "-").
MINUS = "\u2212"

#: What a setting the case does not state (opwb's default, :attr:`opwb.data.case.Case.stated`)
#: adds to its value where it is shown.
DEFAULT_NOTE = "기본값: 사례가 정하지 않음"

#: How a figure that does not exist (NaN: e.g. the ES of a tail with no mean) is shown.
NOT_EXISTING = "존재하지 않음"


def to_eok(amount):
    """KRW → 억원 (works on scalars and numpy/pandas objects)."""
    return amount / EOK


def from_eok(amount_eok):
    """억원 → KRW."""
    return amount_eok * EOK


def _auto_unit(x: float) -> str:
    ax = abs(x)
    if ax >= JO:
        return "조"
    if ax >= EOK:
        return "억"
    if ax >= MAN:
        return "만"
    return ""


def format_krw(amount: float, unit: Literal["auto", "조", "억", "만", ""] = "auto",
               digits: int = 1) -> str:
    """Format a KRW amount as Korean text, e.g. ``'650억원'``, ``'1.2조원'``.

    Parameters
    ----------
    amount : float
        Amount in KRW.
    unit : {"auto", "조", "억", "만", ""}
        Display unit; ``"auto"`` picks 조 from 1e12, 억 from 1e8, 만 from 1e4.
    digits : int
        Decimals kept (trailing zeros are dropped). Thousands are comma-separated.
    """
    x = float(amount)
    if not math.isfinite(x):
        return "∞" if x > 0 else (f"{MINUS}∞" if x < 0 else "—")
    u = _auto_unit(x) if unit == "auto" else unit
    if u not in _UNITS:
        raise ValueError(f"unit must be one of 'auto', '조', '억', '만', ''; got {unit!r}")
    text = f"{x / _UNITS[u]:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{signed_text(text)}{u}원"


def signed_text(text: str) -> str:
    """Formatted number text with the display minus: a leading ASCII hyphen becomes the
    minus sign U+2212 (:data:`MINUS`), and a figure whose digits are all zero loses its
    sign ("-0", "-0.0%", "+0" → "0", "0.0%"), so "-0" is never shown.

    Parameters
    ----------
    text : str
        A number as Python formats it (``f"{x:,.1f}"``, ``f"{x:+.0%}"``), possibly
        followed by a unit; a leading ``"+"`` (an explicit sign) is kept on non-zero figures.

    Returns
    -------
    str

    Examples
    --------
    >>> signed_text("-12")
    '−12'
    >>> signed_text("-0.0"), signed_text("+0%"), signed_text("+5%")
    ('0.0', '0%', '+5%')
    """
    if text[:1] not in ("-", "+", MINUS):
        return text
    body = text[1:]
    digits = "".join(ch for ch in body if ch.isdigit())
    if digits and not digits.strip("0"):          # rounds to zero: no sign at all
        return body
    return (MINUS + body) if text[0] in ("-", MINUS) else text


def format_number(value: float, decimals: int = 0, *, sign: bool = False,
                  percent: bool = False) -> str:
    """A plain number for display: thousands separators, ``decimals`` places, the minus
    sign U+2212 and never "-0" (:func:`signed_text`).

    Parameters
    ----------
    value : float
        The figure (for ``percent``: a fraction, 0.25 → "25%").
    decimals : int
        Decimal places (a negative value is taken as 0).
    sign : bool
        Show "+" before a positive figure (a change); zero has no sign.
    percent : bool
        Show ``value`` × 100 with "%".

    Returns
    -------
    str
        ``"—"`` for NaN, ``"∞"`` / ``"−∞"`` for infinities.

    Examples
    --------
    >>> format_number(-1234.56, 1)
    '−1,234.6'
    >>> format_number(-0.04), format_number(0.125, 1, percent=True), format_number(0.3, sign=True)
    ('0', '12.5%', '0')
    >>> format_number(0.05, 0, sign=True, percent=True)
    '+5%'
    """
    x = float(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else f"{MINUS}∞"
    spec = f"{'+' if sign else ''},.{max(int(decimals), 0)}{'%' if percent else 'f'}"
    return signed_text(format(x, spec))


def severity_cap_text(cap: float | None, *, stated: bool = True) -> str:
    """The severity cap (the largest single loss simulated) as shown on every screen:
    ``"1조원"``, ``"없음"`` for no cap (None or ∞), followed by ``"(기본값: 사례가 정하지
    않음)"`` (:data:`DEFAULT_NOTE`) when the case does not state it, so that opwb's default
    is never shown as if the bank had chosen it.

    Parameters
    ----------
    cap : float or None
        The cap, KRW.
    stated : bool
        Whether the case states it (``not case.is_default("severity_cap")``).

    Examples
    --------
    >>> severity_cap_text(1e12), severity_cap_text(None)
    ('1조원', '없음')
    >>> severity_cap_text(1e12, stated=False)
    '1조원 (기본값: 사례가 정하지 않음)'
    """
    text = "없음" if cap is None or math.isinf(cap) else format_krw(cap)
    return text if stated else f"{text} ({DEFAULT_NOTE})"


def eok_formatter(digits: int = 0):
    """A ``matplotlib`` tick formatter function showing KRW values in 억원 (no matplotlib import)."""
    def _fmt(value, _pos=None):
        return format_krw(value, unit="억", digits=digits)
    return _fmt


def round_to_se(value: float, se: float) -> tuple[float, float, int | None]:
    """Round a Monte Carlo figure to its standard error.

    Rule: the standard error keeps two significant digits; the value is rounded to the same
    decimal position (``decimals`` places; negative for tens, hundreds, ...). When rounding
    carries the error to a third digit (99.7 → 100) the position moves one place left.
    Rounding is Python's :func:`round` of the float: to nearest, exact ties to even
    (1,165 to tens is 1,160).

    Parameters
    ----------
    value : float
        The figure (any unit).
    se : float
        Its standard error (same unit, >= 0).

    Returns
    -------
    (value, se, decimals)
        Both rounded and the decimal position; when ``se`` is 0, infinite or NaN (or the
        value is not finite) nothing is rounded and ``decimals`` is None.

    Raises
    ------
    ValueError
        A negative standard error.

    Examples
    --------
    >>> round_to_se(8230.12, 163.45)
    (8230.0, 160.0, -1)
    >>> round_to_se(12.3456, 0.0234)
    (12.346, 0.023, 3)
    >>> round_to_se(512.0, 99.7)        # the error rounds to 100: tens, not units
    (510.0, 100.0, -1)
    """
    v, s = float(value), float(se)
    if s < 0:
        raise ValueError(f"a standard error is never negative, got {se!r}")
    if not (math.isfinite(v) and math.isfinite(s) and s > 0):
        return v, s, None
    decimals = 1 - math.floor(math.log10(s))
    if round(s, decimals) >= 10.0 ** (2 - decimals):
        decimals -= 1
    return float(round(v, decimals)), float(round(s, decimals)), decimals


def _fixed(x: float, decimals: int) -> str:
    return format_number(x, decimals)           # U+2212 minus, never "-0"


def format_krw_with_se(value: float, se: float,
                       unit: Literal["auto", "조", "억", "만", ""] = "억") -> str:
    """A KRW figure and its standard error in one unit, rounded by :func:`round_to_se`.

    ``"8,230 ± 160억원"``: value and error share the unit and the number of decimals
    (trailing zeros kept). Special cases:

    * value NaN: the quantity does not exist (opwb uses NaN only so, e.g. the ES of a tail
      with no mean): :data:`NOT_EXISTING` ("존재하지 않음");
    * error 0: the figure is exact: :func:`format_krw` of the value alone;
    * error infinite (an interval with no upper bound): the value to two significant
      digits and "(상한 없음)", no upper bound;
    * error NaN (no valid error could be given): :func:`format_krw` of the value and
      "(표준오차 없음)".

    Parameters
    ----------
    value, se : float
        Amount and its standard error, KRW.
    unit : {"auto", "조", "억", "만", ""}
        Display unit; ``"auto"`` picks it from the larger of ``|value|`` and ``se``.

    Raises
    ------
    ValueError
        Unknown unit; a negative standard error.

    Examples
    --------
    >>> format_krw_with_se(823_012_000_000, 16_345_000_000)
    '8,230 ± 160억원'
    >>> format_krw_with_se(1.234e9, 3.1e7)
    '12.34 ± 0.31억원'
    >>> format_krw_with_se(-2.5e10, 1.04e9)
    '−250 ± 10억원'
    >>> format_krw_with_se(1.2e12, 5e10, unit="auto")
    '1.200 ± 0.050조원'
    >>> format_krw_with_se(float("nan"), float("nan"))
    '존재하지 않음'
    >>> format_krw_with_se(1.1648e11, float("inf"))
    '1,200억원 (상한 없음)'
    """
    if unit not in ("auto", *_UNITS):
        raise ValueError(f"unit must be one of 'auto', '조', '억', '만', ''; got {unit!r}")
    v, s = float(value), float(se)
    if s < 0:
        raise ValueError(f"a standard error is never negative, got {se!r}")
    if math.isnan(v):
        return NOT_EXISTING
    u = _auto_unit(max(abs(v), s if math.isfinite(s) else 0.0)) if unit == "auto" else unit
    if not math.isfinite(v) or s == 0:
        return format_krw(v, unit=u)
    if math.isnan(s):
        return f"{format_krw(v, unit=u)} (표준오차 없음)"
    scale = _UNITS[u]
    if math.isinf(s):
        x = v / scale
        d = 1 - math.floor(math.log10(abs(x))) if x != 0 else 0
        return f"{_fixed(round(x, d), d)}{u}원 (상한 없음)"
    rv, rs, d = round_to_se(v / scale, s / scale)
    return f"{_fixed(rv, d)} ± {_fixed(rs, d)}{u}원"


_PARTICLES = {"은": ("은", "는"), "는": ("은", "는"), "이": ("이", "가"), "가": ("이", "가"),
              "을": ("을", "를"), "를": ("을", "를"), "과": ("과", "와"), "와": ("과", "와"),
              "으로": ("으로", "로"), "로": ("으로", "로")}
_DIGIT_FINAL = "0136780"          # 영 일 삼 육 칠 팔 십 end in a consonant


def has_final_consonant(word: str) -> bool:
    """Whether the last sound of ``word`` ends in a consonant (받침), which decides the
    particle: Hangul syllables by their code point (U+AC00 + 28·(…) + final), a final digit
    by its Korean reading, a final Latin letter as read in Korean (l, m, n, r: consonant).

    Examples
    --------
    >>> has_final_consonant("보상한도"), has_final_consonant("공제금액"), has_final_consonant("50억")
    (False, True, True)
    """
    for ch in reversed(word.strip()):
        if "가" <= ch <= "힣":
            return (ord(ch) - 0xAC00) % 28 != 0
        if ch.isdigit():
            return ch in _DIGIT_FINAL
        if ch.isalpha():
            return ch.lower() in "lmnr"
    return False


def with_particle(word: str, particle: str) -> str:
    """``word`` followed by the correct form of ``particle`` (은/는, 이/가, 을/를, 과/와,
    으로/로), chosen by :func:`has_final_consonant` — never "은(는)".

    Examples
    --------
    >>> with_particle("보상한도", "은"), with_particle("공제금액", "는"), with_particle("한도", "을")
    ('보상한도는', '공제금액은', '한도를')
    >>> with_particle("1,000억원", "이"), with_particle("보험", "으로")
    ('1,000억원이', '보험으로')
    """
    try:
        final, bare = _PARTICLES[particle]
    except KeyError:
        raise ValueError(f"unknown particle {particle!r}; expected one of "
                         f"{sorted(_PARTICLES)}") from None
    if particle in ("으로", "로") and word.strip() and "가" <= word.strip()[-1] <= "힣" \
            and (ord(word.strip()[-1]) - 0xAC00) % 28 == 8:      # ㄹ final takes 로
        return word + "로"
    return word + (final if has_final_consonant(word) else bare)


def format_krw_row(pairs, unit: Literal["조", "억", "만", ""] = "억", *,
                   with_se: bool = True) -> list[str]:
    """Several KRW figures shown side by side (a table row) in one unit with the same
    decimals: each is rounded as :func:`round_to_se` would round the least precise of them,
    so "8억원" never stands beside "8.8억원".

    Parameters
    ----------
    pairs : iterable of (value, se)
        Amounts and standard errors, KRW (``se`` 0 for exact figures, NaN for a value that
        does not exist → :data:`NOT_EXISTING`).
    unit : {"조", "억", "만", ""}
    with_se : bool
        Show ``± se`` after each value that has one.

    Examples
    --------
    >>> format_krw_row([(8.04e8, 0.3e8), (8.8e8, 0.02e8)])   # both to 0.30's places
    ['8.04 ± 0.30억원', '8.80 ± 0.02억원']
    >>> format_krw_row([(16e8, 0.0), (2391e8, 65e8)], with_se=False)
    ['16억원', '2,391억원']
    """
    if unit not in _UNITS:
        raise ValueError(f"unit must be one of '조', '억', '만', ''; got {unit!r}")
    scale = _UNITS[unit]
    pairs = [(float(v), float(s)) for v, s in pairs]
    places = [round_to_se(v / scale, s / scale)[2] for v, s in pairs
              if math.isfinite(v) and math.isfinite(s) and s > 0]
    if places:
        decimals = min(places)
    else:                   # exact figures: whole 억 when they all are, else one decimal
        whole = all(not math.isfinite(v) or abs(v / scale - round(v / scale)) < 1e-9
                    for v, _ in pairs)
        decimals = 0 if whole else 1
    out = []
    for v, s in pairs:
        if math.isnan(v):
            out.append(NOT_EXISTING)
            continue
        text = _fixed(round(v / scale, decimals), decimals)
        if with_se and math.isfinite(s) and s > 0:
            text += f" ± {_fixed(round(s / scale, decimals), decimals)}"
        out.append(f"{text}{unit}원")
    return out
