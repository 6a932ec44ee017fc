"""KRW amounts in the Korean display convention: 억원 (1e8) and 조원 (1e12).

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
"""
from __future__ import annotations

import math
from typing import Literal

__all__ = ["MAN", "EOK", "JO", "format_krw", "to_eok", "from_eok", "eok_formatter"]

MAN = 1e4   # 만
EOK = 1e8   # 억
JO = 1e12   # 조

_UNITS = {"조": JO, "억": EOK, "만": MAN, "": 1.0}


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
        return "∞" if x > 0 else ("-∞" if x < 0 else "—")
    u = _auto_unit(x) if unit == "auto" else unit
    if u not in _UNITS:
        raise ValueError(f"unit must be one of 'auto', '조', '억', '만', ''; got {unit!r}")
    text = f"{x / _UNITS[u]:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return f"{text}{u}원"


def eok_formatter(digits: int = 0):
    """A ``matplotlib`` tick formatter function showing KRW values in 억원 (no matplotlib import)."""
    def _fmt(value, _pos=None):
        return format_krw(value, unit="억", digits=digits)
    return _fmt
