"""Monte Carlo figures displayed rounded to their standard error (opwb.data.units)."""
from __future__ import annotations

import math

import pytest

from opwb.data.units import EOK, JO, NOT_EXISTING, format_krw_with_se, round_to_se


@pytest.mark.parametrize("value, se, expected", [
    (8230.12, 163.45, (8230.0, 160.0, -1)),        # two significant digits of the SE: tens
    (12.3456, 0.0234, (12.346, 0.023, 3)),
    (512.0, 99.7, (510.0, 100.0, -1)),             # 99.7 → 100: the position moves left
    (512.0, 95.0, (512.0, 95.0, 0)),
    (-0.04567, 0.0012, (-0.0457, 0.0012, 4)),
    (1234567.0, 1.0, (1234567.0, 1.0, 1)),
    (8235.0, 250.0, (8240.0, 250.0, -1)),          # a tie: to even (823.5 → 824)
    (5.0, 0.0, (5.0, 0.0, None)),                   # exact: nothing to round
    (5.0, math.inf, (5.0, math.inf, None)),
])
def test_round_to_se(value, se, expected):
    assert round_to_se(value, se) == expected


def test_round_to_se_keeps_nan_and_refuses_a_negative_error():
    v, s, d = round_to_se(3.0, math.nan)
    assert v == 3.0 and math.isnan(s) and d is None
    with pytest.raises(ValueError, match="never negative"):
        round_to_se(1.0, -0.1)


@pytest.mark.parametrize("value, se, unit, text", [
    (8_230.12 * EOK, 163.45 * EOK, "억", "8,230 ± 160억원"),
    (1.234e9, 3.1e7, "억", "12.34 ± 0.31억원"),
    (12.3 * EOK, 0.25 * EOK, "억", "12.30 ± 0.25억원"),     # trailing zero kept: same decimals
    (-250 * EOK, 10.4 * EOK, "억", "−250 ± 10억원"),  # U+2212
    (-0.001 * EOK, 0.3 * EOK, "억", "0.00 ± 0.30억원"),      # no "-0.00"
    (1_165 * EOK, 99.7 * EOK, "억", "1,160 ± 100억원"),     # 116.5 tens: a tie, to even
    (1.2 * JO, 0.05 * JO, "auto", "1.200 ± 0.050조원"),
    (1.2 * JO, 0.05 * JO, "억", "12,000 ± 500억원"),
    (65_432_100, 1_234_567, "만", "6,540 ± 120만원"),
    (8_230 * EOK, 0.0, "억", "8,230억원"),                   # exact figure: no ±
    (1_164.8 * EOK, math.inf, "억", "1,200억원 (상한 없음)"),
    (30 * EOK, math.nan, "억", "30억원 (표준오차 없음)"),
    (math.nan, math.nan, "억", NOT_EXISTING),
    (math.nan, 5 * EOK, "억", "존재하지 않음"),
    (math.inf, 1.0, "억", "∞"),
])
def test_format_krw_with_se(value, se, unit, text):
    assert format_krw_with_se(value, se, unit=unit) == text


def test_format_krw_with_se_refuses_bad_input():
    with pytest.raises(ValueError, match="unit must be one of"):
        format_krw_with_se(1.0, 0.1, unit="천")
    with pytest.raises(ValueError, match="never negative"):
        format_krw_with_se(1.0, -0.1)
