"""opwb.data.units and opwb.data.taxonomy: display conventions and codes."""
from __future__ import annotations

import math

import pytest

from opwb.data import taxonomy
from opwb.data.units import (DEFAULT_NOTE, EOK, JO, MINUS, format_krw, format_krw_row,
                             format_krw_with_se, format_number, from_eok, severity_cap_text,
                             signed_text, to_eok)


@pytest.mark.parametrize("amount,text", [
    (65_000_000_000, "650억원"),          # the CD incident
    (1.2e12, "1.2조원"),
    (1_000 * EOK, "1,000억원"),          # 100 billion won
    (400 * EOK, "400억원"),              # 40 billion won
    (5 * EOK, "5억원"),
    (1.25 * EOK, "1.2억원"),             # round-half-even on 1.25 is 1.2
    (10_000_000, "1,000만원"),           # the collection threshold
    (9_999, "9,999원"),
    (0, "0원"),
    (-30 * EOK, "−30억원"),          # the minus sign U+2212, not "-"
    (2 * JO, "2조원"),
])
def test_format_krw_auto(amount, text):
    assert format_krw(amount) == text


def test_format_krw_forced_unit_and_digits():
    assert format_krw(1.2e12, unit="억") == "12,000억원"
    assert format_krw(3.456e9, unit="억", digits=2) == "34.56억원"
    assert format_krw(float("inf")) == "∞"
    with pytest.raises(ValueError, match="unit must be one of"):
        format_krw(1, unit="천")


def test_eok_round_trip():
    assert to_eok(650e8) == 650 and from_eok(650) == 650e8
    assert math.isclose(to_eok(from_eok(12.34)), 12.34)


def test_taxonomy_codes_and_names():
    assert taxonomy.EVENT_TYPE_CODES == ("IF", "EF", "EPWS", "CPBP", "DPA", "BDSF", "EDPM")
    assert len(taxonomy.BUSINESS_LINE_CODES) == 8
    assert len({c.ko for c in taxonomy.BUSINESS_LINES.values()}) == 8
    for table, parse in ((taxonomy.EVENT_TYPES, taxonomy.parse_event_type),
                         (taxonomy.BUSINESS_LINES, taxonomy.parse_business_line)):
        for code, cat in table.items():
            assert parse(code) == parse(code.lower()) == parse(cat.en.upper()) == code
            if cat.ko not in taxonomy.AMBIGUOUS_BUSINESS_LINES:
                assert parse(cat.ko) == code
    assert taxonomy.parse_event_type("unknown") is None
    # opwb's Korean label of CB is "기업금융", which Korean banks also use for CF: shown,
    # never parsed without a bank's mapping
    assert taxonomy.label("CB") == "기업금융 (CB)"
    assert taxonomy.parse_business_line("기업금융") is None
    assert taxonomy.EVENT_TYPES["IF"].insurance.startswith("금융기관종합보험")
    assert taxonomy.label("RB") == "소매금융 (RB)"
    with pytest.raises(KeyError):
        taxonomy.label("ZZ")


# ---------------------------------------------------------------------------------------------
# Issue 21 item 6 (a second bank's negative figures): the minus sign U+2212, never "-0"
# ---------------------------------------------------------------------------------------------
def _value(text: str, suffix: str = "") -> float:
    """The number a display text shows (U+2212 read as minus, separators dropped)."""
    body = text.removesuffix(suffix).replace(",", "")
    assert "-" not in body, f"ASCII hyphen in {text!r}"
    return float(body.replace(MINUS, "-"))


def _negatives(n: int = 400) -> list[float]:
    """Negative amounts (KRW) over every display unit, and some that round to zero."""
    import random
    rng = random.Random(21)
    return ([-rng.random() * 10 ** rng.uniform(3, 14) for _ in range(n)]
            + [-1e-9, -0.0, -0.04 * EOK, -0.004 * EOK])


def test_negative_amounts_show_the_minus_sign_and_their_value():
    for x in _negatives():
        for unit, scale in (("억", EOK), ("조", JO)):
            text = format_krw(x, unit=unit)
            shown = _value(text, f"{unit}원")
            assert shown == pytest.approx(round(x / scale, 1), abs=1e-12), text
            assert text.startswith(MINUS) == (shown != 0), text       # "0", never "−0"
        text = format_number(x / EOK, 2)
        assert _value(text) == pytest.approx(round(x / EOK, 2), abs=1e-12)
        assert text.startswith(MINUS) == (_value(text) != 0), text


def test_negative_figures_with_errors_and_rows_show_the_minus_sign():
    for x in _negatives(100):
        se = abs(x) / 7 + 1e6
        text = format_krw_with_se(x, se, unit="억")
        value = text.split(" ± ")[0]
        assert "-" not in text and (value.startswith(MINUS) == (_value(value) != 0)), text
        row = format_krw_row([(x, se), (-x, se)], unit="억")
        assert _value(row[0].split(" ± ")[0]) == -_value(row[1].split(" ± ")[0])
        assert "-" not in "".join(row)


def test_signed_text_and_format_number_edge_cases():
    assert signed_text("-0.0%") == "0.0%" and signed_text("+0") == "0"
    assert signed_text("+3.5%") == "+3.5%" and signed_text("abc-1") == "abc-1"
    assert format_number(0.1234, 1, percent=True) == "12.3%"
    assert format_number(-0.1234, 1, percent=True) == f"{MINUS}12.3%"
    assert format_number(-0.0004, 1, percent=True) == "0.0%"
    assert format_number(0.05, 0, sign=True, percent=True) == "+5%"
    assert format_number(float("-inf")) == f"{MINUS}∞" and format_number(float("nan")) == "—"
    assert format_krw(float("-inf")) == f"{MINUS}∞"


def test_a_default_severity_cap_says_so():
    for cap in (1e12, 5e11, 2.5 * JO):
        assert severity_cap_text(cap) == format_krw(cap)
        assert severity_cap_text(cap, stated=False) == f"{format_krw(cap)} ({DEFAULT_NOTE})"
    assert severity_cap_text(None) == severity_cap_text(math.inf) == "없음"
    assert DEFAULT_NOTE in severity_cap_text(None, stated=False)
