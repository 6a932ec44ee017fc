"""The management answer's sentence (opwb.scenarios.answer): which form it takes follows the
paired comparison with the cover in force, and it says what a manager needs to read it right
(a manager's review: the recommendation looked like "keep the 2005 cover", a gain within its
error was announced as a recommendation, code names showed in the messages)."""
from __future__ import annotations

import re

import pytest

import opwb
from opwb.scenarios.answer import management_answer, structure_ko
from opwb.scenarios.spec import DEFAULT_SPEC, Appetite, bundled_inputs, scenario_bases

EOK = opwb.EOK
SPEC = DEFAULT_SPEC.replace(n_years=10_000, seed=3)


@pytest.fixture(scope="module")
def answers():
    _, _, quotes = bundled_inputs()
    bases = scenario_bases(SPEC)
    base = management_answer(bases, quotes, spec=SPEC, paired=False)
    return bases, quotes, base


def _form(ans, cd):
    """(expected opening, versus row) from the paired comparison itself."""
    vs = ans.versus_current[cd].loc["net_benefit"]
    if not vs["distinguishable"]:
        return "현행 대비 이득은 확인되지 않습니다", vs
    return "권고: ", vs


@pytest.mark.parametrize("cd", [True, False])
def test_sentence_opens_with_what_the_paired_comparison_supports(answers, cd):
    _, _, ans = answers
    rec = ans.recommendations[cd]
    text = ans.sentence_ko(cd)
    opening, vs = _form(ans, cd)
    assert text.startswith(opening), text
    assert structure_ko(rec.deductible, rec.limit) in text
    assert "(는)" not in text and "(으)" not in text and not re.search(r"[A-Za-z_]{4,}", text)
    # the amount is the paired difference, with its sign, rounded to its error
    assert re.search(r"[+-]?[\d,.]+ ± [\d,.]+억원", text)
    cur = ans.current
    same_terms = (rec.deductible, rec.limit) == (cur.deductible, cur.limit)
    assert ("연간 총한도(100억원)를 없앤 구조" in text) == same_terms


def test_current_cover_outside_the_appetite_is_named(answers):
    bases, quotes, ans = answers
    cur = opwb.evaluate(bases[True], ans.current, SPEC.settings)
    ceiling = (cur["retained_if_1in100"] // EOK - 100) * EOK     # the 2005 cover breaks it
    tight = management_answer(bases, quotes, spec=SPEC, appetite=Appetite(70 * EOK, ceiling),
                              frontiers=ans.frontiers, paired=False)
    if isinstance(tight.recommendations[True], str):
        pytest.fail(f"a ceiling 100억 below the cover in force left nothing: "
                    f"{tight.recommendations[True]}")
    assert tight.current_outside[True] and "100년 1회 내부사취 보유손실" in \
        tight.current_outside[True][0]
    assert "현행 계약은 위험선호(100년 1회 내부사취 보유손실" in tight.sentence_ko(True)
    assert ans.current_outside[True] == ()


def test_nothing_meets_the_appetite_in_korean_only(answers):
    bases, quotes, ans = answers
    none = management_answer(bases, quotes, spec=SPEC, appetite=Appetite(70 * EOK, 1 * EOK),
                             frontiers=ans.frontiers, paired=False)
    text = none.sentence_ko(True)
    lowest = ans.frontiers[True]["retained_if_1in100"].min()
    assert text.startswith("위험선호를 충족하는 구조가 없습니다")
    assert f"{lowest / EOK:,.0f}억원" in text and "≤ 1억원" in text
    assert not re.search(r"[A-Za-z]", text), text
    # the API's message keeps the English and the argument name for users of the API
    assert "max_retained_if_1in100" in none.recommendations[True]


def test_the_grid_compared_at_once_equals_one_at_a_time(answers):
    """``versus_many`` (what the store keeps for every structure of the grid, so that an
    appetite change on a page compares nothing anew) gives each structure exactly the paired
    comparison ``management_answer`` computes for it alone."""
    import pandas as pd

    from opwb.scenarios.answer import VERSUS_CACHE, _versus, versus_many
    from opwb.scenarios.evaluation import terms_key
    from opwb.scenarios.recommend import _alternative
    bases, quotes, ans = answers
    base = bases[True]
    current = ans.current
    table = ans.frontiers[True]
    alts = [_alternative(r) for _, r in table.iloc[::9].iterrows()]   # six of the grid
    key = (VERSUS_CACHE, SPEC.settings, current)
    saved = base._cache.pop(key, None)
    try:
        versus_many(base, alts, current, SPEC.settings, chunk=4)
        many = dict(base._cache[key])
        # the six and the cover in force itself (a recommendation may be the cover in force)
        assert set(many) == {terms_key(a) for a in [*alts, current]}
        base._cache.pop(key)
        for alt in alts:
            one = _versus(base, alt, current, SPEC.settings)
            got = many[terms_key(alt)]
            pd.testing.assert_frame_equal(got, one)
            assert got.loc["net_benefit", "difference"] != 0 or \
                alt.deductible == current.deductible and alt.limit == current.limit
    finally:
        base._cache.pop(key, None)
        if saved is not None:
            base._cache[key] = saved
