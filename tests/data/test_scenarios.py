"""opwb.data.scenarios: workshop scenario estimates loaded with their units, authors and
dates; every bad input named by file, line or row, and column; the per-cell severity cap."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from opwb.data.errors import DataError
from opwb.data.scenarios import ScenarioSet, load_scenarios

HEADER = "event_type,business_line,kind,amount,unit,return_period,author,date,note\n"
GOOD = (HEADER
        + "IF,,exceedance,300,억원,10,김위험,2007-03-02,지점장 CD 사기\n"
        + "IF,RB,worst,1500,억원,,김위험,2007-03-02,\n"
        + "IF,,worst,1000,억원,,이감사,2007-03-05,\n"
        + "CPBP,,exceedance,50000000000,원,20,박준법,2021-06-01,MyData 유출\n"
        + "EF,소매금융,worst,2,조원,,박보안,2007-03-02,해킹\n")


def write(tmp_path, text, name="scen.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path, **kw):
    with pytest.raises(DataError) as err:
        load_scenarios(path, **kw)
    return str(err.value), err.value.problems


def test_a_workshop_table_loads_with_units_authors_and_dates(tmp_path):
    s = load_scenarios(write(tmp_path, GOOD))
    assert isinstance(s, ScenarioSet) and len(s) == 5 and s.source == "scen.csv"
    first = s.estimates[0]
    assert (first.cell, first.kind, first.amount, first.return_period) == \
        ("IF", "exceedance", 300e8, 10.0)
    assert (first.author, first.date, first.note) == ("김위험", dt.date(2007, 3, 2),
                                                      "지점장 CD 사기")
    assert first.where == "scen.csv, line 2" and first.annual_rate == pytest.approx(0.1)
    assert s.estimates[3].amount == 5e10 and s.estimates[4].cell == "EF|RB"
    assert s.estimates[4].amount == 2e12
    assert s.cells == ("IF", "IF|RB", "CPBP", "EF|RB")


def test_worst_plausible_is_the_largest_worst_estimate_bounding_the_cell(tmp_path):
    s = load_scenarios(write(tmp_path, GOOD))
    assert s.worst_plausible("IF") == 1500e8        # its own 1,000억 and IF|RB's 1,500억
    assert s.worst_plausible("IF|RB") == 1500e8     # its own
    assert s.worst_plausible("IF|CB") == 1000e8     # none of its own: the event type's
    assert s.worst_plausible("EF") == 2e12          # from its business line
    assert s.worst_plausible("CPBP") is None        # an exceedance is not a cap
    assert s.severity_caps(["IF", "CPBP"], default=1e12) == {"IF": 1500e8, "CPBP": 1e12}


def test_korean_headers_kinds_and_a_unit_in_the_amount_header(tmp_path):
    text = ("사건유형,사업부문,구분,손실금액(단위: 억원),재현기간,작성자,작성일,비고\n"
            "내부사기,,초과손실,300,10년,김위험,2007.03.02,\n"
            "고객·상품 및 영업관행,,최대손실,800,,박준법,20210601,MyData\n")
    s = load_scenarios(write(tmp_path, text))
    assert [(e.cell, e.kind, e.amount, e.return_period) for e in s] == [
        ("IF", "exceedance", 300e8, 10.0), ("CPBP", "worst", 800e8, None)]
    assert s.estimates[1].date == dt.date(2021, 6, 1)


def test_a_group_of_estimates_is_read_and_can_be_left_out(tmp_path):
    """The optional ``group`` column (시나리오군): a set of estimates whose own effect the
    bank wants to see (a new business's forward-looking scenario)."""
    text = ("사건유형,구분,손실금액,단위,재현기간,작성자,작성일,비고,시나리오군\n"
            "CPBP,초과손실,50,억원,5,김위험,2007-03-02,,\n"
            "CPBP,초과손실,500,억원,25,박보안,2021-06-01,유출,MyData\n"
            "CPBP,최대손실,2000,억원,,박보안,2021-06-01,,MyData\n"
            "CPBP,최대손실,1000,억원,,김위험,2007-03-02,,\n")
    s = load_scenarios(write(tmp_path, text))
    assert [e.group for e in s] == ["", "MyData", "MyData", ""]
    assert s.groups == ("MyData",)
    assert [e.amount for e in s.of("MyData")] == [500e8, 2000e8]
    rest = s.without("MyData")
    assert [e.amount for e in rest] == [50e8, 1000e8] and rest.groups == ()
    assert s.worst_plausible("CPBP") == 2000e8 and rest.worst_plausible("CPBP") == 1000e8
    with pytest.raises(ValueError, match=r"no scenario estimate is in group 'mydata'.*MyData"):
        s.without("mydata")
    assert load_scenarios(write(tmp_path, GOOD, "plain.csv")).groups == ()


def test_the_unit_must_be_stated_once(tmp_path):
    no_unit = HEADER.replace("unit,", "") + "IF,,exceedance,300,10,김위험,2007-03-02,\n"
    message, _ = problems_of(write(tmp_path, no_unit))
    assert "scen.csv, line 1, column 'unit': missing column; the amounts' unit must be " \
           "stated" in message
    twice = HEADER.replace("amount,", "amount (억원),") + \
        "IF,,exceedance,300,억원,10,김위험,2007-03-02,\n"
    message, _ = problems_of(write(tmp_path, twice))
    assert "column 'unit': the unit is stated twice" in message
    foreign = HEADER.replace("amount,", "amount (USD),") .replace("unit,", "") + \
        "IF,,exceedance,300,10,김위험,2007-03-02,\n"
    message, _ = problems_of(write(tmp_path, foreign))
    assert "column 'amount': the header 'amount (USD)' states a unit that is not one" in message


BAD_ROWS = [
    ("XX,,exceedance,300,억원,10,김위험,2007-03-02,", "event_type",
     "expected an event-type code"),
    ("IF,ZZ,exceedance,300,억원,10,김위험,2007-03-02,", "business_line",
     "expected a business-line code"),
    ("IF,,often,300,억원,10,김위험,2007-03-02,", "kind", "expected the kind of estimate"),
    ("IF,,exceedance,0,억원,10,김위험,2007-03-02,", "amount", "expected a positive amount"),
    ("IF,,exceedance,-5,억원,10,김위험,2007-03-02,", "amount", "expected a positive amount"),
    ("IF,,exceedance,삼백,억원,10,김위험,2007-03-02,", "amount", "expected a positive amount"),
    ("IF,,exceedance,,억원,10,김위험,2007-03-02,", "amount", "value is missing"),
    ("IF,,exceedance,300,USD,10,김위험,2007-03-02,", "unit", "expected a KRW unit"),
    ("IF,,exceedance,300,,10,김위험,2007-03-02,", "unit", "value is missing"),
    ("IF,,exceedance,300,억원,0.5,김위험,2007-03-02,", "return_period",
     "expected a return period N in years, at least 1"),
    ("IF,,exceedance,300,억원,,김위험,2007-03-02,", "return_period",
     "value is missing; expected the return period N in years"),
    ("IF,,worst,300,억원,0,김위험,2007-03-02,", "return_period", "at least 1"),
    ("IF,,exceedance,300,억원,10,,2007-03-02,", "author", "value is missing; expected who"),
    ("IF,,exceedance,300,억원,10,김위험,,", "date", "value is missing; expected the date"),
    ("IF,,exceedance,300,억원,10,김위험,2007-13-45,", "date", "expected a date"),
]


@pytest.mark.parametrize("row, column, expected", BAD_ROWS,
                         ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(BAD_ROWS)])
def test_each_bad_value_names_file_line_and_column(tmp_path, row, column, expected):
    text = HEADER + "EF,,worst,100,억원,,박보안,2007-03-02,\n" + row + "\n"
    message, problems = problems_of(write(tmp_path, text))
    assert len(problems) == 1, message
    p = problems[0]
    assert (p.source, p.where, p.column) == ("scen.csv", "line 3", column), message
    assert f"scen.csv, line 3, column '{column}': " in message and expected in message


def test_a_duplicated_estimate_is_named_with_both_lines(tmp_path):
    text = (HEADER + "IF,,exceedance,300,억원,10,김위험,2007-03-02,\n"
            "IF,,worst,1500,억원,,김위험,2007-03-02,\n"
            "IF,,exceedance,30000000000,원,20,김위험,2007-03-02,다시\n"
            "IF,,worst,1200,억원,,김위험,2007-03-02,\n")
    message, problems = problems_of(write(tmp_path, text))
    assert [p.where for p in problems] == ["line 4", "line 5"]
    assert "scen.csv, line 4: duplicated estimate: 김위험 already stated a loss of at least " \
           "30,000,000,000 KRW for cell IF on 2007-03-02 (line 2)" in message
    assert "line 5: duplicated estimate: 김위험 already stated a worst plausible loss" in message


def test_every_problem_is_reported_and_nothing_is_dropped(tmp_path):
    text = (HEADER + "IF,,exceedance,300,억원,10,김위험,2007-03-02,\n"
            "XX,,exceedance,300,억원,0,,2007-03-02,\n")
    _, problems = problems_of(write(tmp_path, text))
    assert {(p.where, p.column) for p in problems} == {
        ("line 3", "event_type"), ("line 3", "return_period"), ("line 3", "author")}
    message, _ = problems_of(write(tmp_path, HEADER))
    assert "no data rows" in message
    message, _ = problems_of(write(tmp_path, HEADER.replace("author,", "")))
    assert "column 'author': missing column" in message


def test_a_workbook_is_named_by_its_rows_and_a_case_maps_its_names(tmp_path):
    frame = pd.DataFrame({
        "사건유형": ["내부횡령", "IF"], "구분": ["초과손실", "최대손실"], "손실금액": [300, -1],
        "단위": ["억원", "억원"], "재현기간": [10, None], "작성자": ["김위험", "김위험"],
        "작성일": ["2007-03-02", "2007-03-02"]})
    path = tmp_path / "scen.xlsx"
    frame.to_excel(path, index=False)
    message, problems = problems_of(path, event_types={"내부횡령": "IF"})
    assert [(p.where, p.column) for p in problems] == [("row 3", "amount")]
    assert "scen.xlsx [sheet 'Sheet1'], row 3, column 'amount': expected a positive amount" \
        in message
    frame.loc[1, "손실금액"] = 1500
    frame.to_excel(path, index=False)
    s = load_scenarios(path, event_types={"내부횡령": "IF"})
    assert [e.cell for e in s] == ["IF", "IF"] and s.worst_plausible("IF") == 1500e8
