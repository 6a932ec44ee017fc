"""BBB alternatives: the bundled file, file/line/column errors, meaningless inputs explained,
the seed's worked example as a layer split.
"""
from __future__ import annotations

import pytest

import opwb
from opwb.data.errors import DataError
from opwb.scenarios.alternatives import Alternative, alternative_problems, load_alternatives

from tests.scenarios.conftest import EOK


def test_bundled_alternatives_are_the_seed_cases():
    alts = load_alternatives(opwb.data_path("bbb_alternatives.csv"))
    assert [(a.limit, a.deductible) for a in alts] == [(50 * EOK, 5 * EOK), (400 * EOK, 30 * EOK),
                                                       (1_000 * EOK, 50 * EOK)]
    assert alts[0].premium == 16 * EOK  # the 2005 cover (seed slide 3-3)


def test_alternatives_file_errors_name_line_and_column(tmp_path):
    path = tmp_path / "alts.csv"
    path.write_text("name,limit,deductible,premium\nA,400억,0,1\nB,100,-5,1\n", encoding="utf-8")
    with pytest.raises(DataError) as ei:
        load_alternatives(path)
    assert [(p.where, p.column) for p in ei.value.problems] == [("line 2", "limit"),
                                                                ("line 3", "deductible")]


@pytest.mark.parametrize("change,fragment", [
    ({"deductible": -1 * EOK}, "공제금액은 0 이상"),
    ({"limit": -400 * EOK}, "보상한도는 0 이상"),
    ({"premium": -1.0}, "보험료는 0 이상"),
    ({"limit": 0.0}, "보상한도는 0보다 커야"),
    ({"coinsurance": 1.2}, "100% 이하"),
    ({"coinsurance": 0.0}, "0%보다 크고"),
    ({"aggregate_limit": 100 * EOK}, "연간 총한도가 건당 보상한도보다 작습니다"),
    ({"insurer_rating": "A++"}, "알 수 없는 신용등급"),
    ({"deductible": 500 * EOK}, "공제금액이 보상한도보다 큽니다"),
])
def test_meaningless_inputs_are_explained(change, fragment):
    alt = Alternative("x", limit=400 * EOK, deductible=30 * EOK, premium=50 * EOK)
    assert alternative_problems(alt) == []
    problems = alternative_problems(alt.replace(**change))
    assert len(problems) == 1 and fragment in problems[0]


def test_seed_worked_example_layer_split():
    """Slide 1-4: a 1,000억 loss; 400억/30억 → insurer 400억, 600억 retained;
    1,000억/50억 → insurer 950억, 50억 expense, nothing above the limit."""
    from opwb.insurance.policy import layer_split
    loss = 1_000 * EOK
    c2 = layer_split(loss, Alternative("c2", 400 * EOK, 30 * EOK, 0).policy())
    assert (c2["insurance"], c2["retained"], c2["expense"]) == (400 * EOK, 600 * EOK, 30 * EOK)
    c3 = layer_split(loss, Alternative("c3", 1_000 * EOK, 50 * EOK, 0).policy())
    assert (c3["expense"], c3["insurance"], c3["capital"]) == (50 * EOK, 950 * EOK, 0)
    cd = layer_split(650 * EOK, Alternative("2005", 50 * EOK, 5 * EOK, 0).policy())
    assert cd["insurance"] == 50 * EOK


def test_an_uncalculated_formula_in_a_text_column_is_refused_by_row_and_column(tmp_path):
    """A program-written workbook (XlsxWriter caches no result) with a formula as the name:
    the name is refused where it is, never shown as the refusal text."""
    import xlsxwriter
    path = tmp_path / "alts.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("alts")
    ws.write_row(0, 0, ["name", "limit", "deductible", "premium"])
    ws.write_formula(1, 0, '="한도 "&"400억"')
    ws.write_row(1, 1, [40_000_000_000, 3_000_000_000, 4_000_000_000])
    wb.close()
    with pytest.raises(opwb.DataError) as err:
        load_alternatives(path)
    msg = str(err.value)
    assert "row 2, column 'name'" in msg and "formula" in msg, msg
