"""Korean particles chosen by the final sound, never "은(는)" (issue 13)."""
from __future__ import annotations

import pytest

from opwb.data.units import has_final_consonant, with_particle


@pytest.mark.parametrize("word,particle,expected", [
    ("보상한도", "은", "보상한도는"), ("공제금액", "은", "공제금액은"), ("보험료", "는", "보험료는"),
    ("한도", "을", "한도를"), ("순편익", "를", "순편익을"), ("1,000억원", "이", "1,000억원이"),
    ("50억", "가", "50억이"), ("2005년 계약", "과", "2005년 계약과"), ("보험", "와", "보험과"),
    ("VaR", "은", "VaR은"), ("ES", "는", "ES는"), ("12", "는", "12는"), ("13", "는", "13은"),
    ("서울", "으로", "서울로"), ("보험", "로", "보험으로"), ("자기부담", "으로", "자기부담으로"),
])
def test_particle_follows_the_final_sound(word, particle, expected):
    assert with_particle(word, particle) == expected


def test_hangul_final_consonant_from_the_code_point():
    # every syllable 가..힣: the final is (code − 0xAC00) mod 28; 가 (none) and 각 (ㄱ)
    assert not has_final_consonant("가") and has_final_consonant("각")
    assert not has_final_consonant("히") and has_final_consonant("힣")


def test_an_unknown_particle_is_an_error():
    with pytest.raises(ValueError, match="unknown particle"):
        with_particle("한도", "에서")
