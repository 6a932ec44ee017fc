"""opwb.data.units and opwb.data.taxonomy: display conventions and codes."""
from __future__ import annotations

import math

import pytest

from opwb.data import taxonomy
from opwb.data.units import EOK, JO, format_krw, from_eok, to_eok


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
    (-30 * EOK, "-30억원"),
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
