"""opwb.data.beicf: the BEICF scorecard loaded with its targets, scores, weights, authors and
dates; the multiplier m = clip(Π (score/baseline)^weight, lower, upper) recomputed
independently; every bad input named by file, line or row, and column."""
from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from opwb.data.beicf import (
    BEICF_BOUNDS,
    ScoreCard,
    apply_factors,
    load_scorecard,
    scorecard_factors,
)
from opwb.data.errors import DataError

HEADER = ("event_type,business_line,factor,applies_to,score,baseline,weight,scale,author,date,"
          "note\n")
ROWS = [
    # cell IF: two frequency factors, one severity factor
    ("IF", "", "지점 직원 이직률", "frequency", "6", "4", "0.5", "%", "김위험", "2006-12-15",
     "KRI"),
    ("IF", "", "CD 이중통제 감사등급", "frequency", "2", "3", "0.3", "1-5", "김위험",
     "2006-12-15", ""),
    ("IF", "", "고액 거래 사후점검", "severity", "3.6", "3", "1", "1-5", "김위험", "2006-12-15",
     ""),
    # cell IF|RB: its own frequency factor (the IF factors apply too)
    ("IF", "RB", "영업점 순환근무 미이행", "frequency", "5", "2", "0.8", "건", "이감사",
     "2006-12-20", ""),
    # cell CPBP: a severity factor far above its baseline (clipped at the upper bound)
    ("CPBP", "", "고객정보 접근권한 점검", "severity", "9", "3", "1", "1-10", "박준법",
     "2006-12-20", "MyData"),
    # cell EF: one factor far below its baseline (clipped at the lower bound)
    ("EF", "", "이상거래탐지 적중률", "frequency", "1", "4", "1", "1-5", "박보안", "2006-12-20",
     ""),
]


def csv_text(rows=ROWS, header=HEADER):
    return header + "".join(",".join(r) + "\n" for r in rows)


def write(tmp_path, text, name="beicf.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path, **kw):
    with pytest.raises(DataError) as err:
        load_scorecard(path, **kw)
    return str(err.value), err.value.problems


def expected_multiplier(rows, cell, target, lower, upper):
    """Independent re-computation from the raw rows: exp(Σ w log(s/b)) over the rows whose
    cell is ``cell`` or (for a business-line cell) its event type, then clipped."""
    et, _, bl = cell.partition("|")
    log_sum = 0.0
    for r in rows:
        own = r[0] == et and (r[1] == bl or r[1] == "")
        if own and r[3] == target:
            log_sum += float(r[6]) * (math.log(float(r[4])) - math.log(float(r[5])))
    return min(max(math.exp(log_sum), lower), upper)


def test_a_scorecard_loads_with_cells_targets_scores_and_provenance(tmp_path):
    card = load_scorecard(write(tmp_path, csv_text()))
    assert isinstance(card, ScoreCard) and len(card) == 6 and card.source == "beicf.csv"
    first = card.factors[0]
    assert (first.cell, first.factor, first.applies_to, first.score, first.baseline,
            first.weight) == ("IF", "지점 직원 이직률", "frequency", 6.0, 4.0, 0.5)
    assert (first.author, first.date, first.scale, first.note) == (
        "김위험", dt.date(2006, 12, 15), "%", "KRI")
    assert first.where == "beicf.csv, line 2" and first.ratio == 1.5
    assert card.factors[3].cell == "IF|RB" and card.factors[3].business_line == "RB"
    assert card.cells == ("IF", "IF|RB", "CPBP", "EF")


def test_the_multiplier_reproduces_its_formula(tmp_path):
    card = load_scorecard(write(tmp_path, csv_text()))
    lower, upper = 0.5, 3.0          # wide: nothing clipped except EF (0.25 → 0.5)
    got = scorecard_factors(card, lower=lower, upper=upper)
    assert set(got) == {"IF", "IF|RB", "CPBP", "EF"}
    for cell, targets in got.items():
        assert set(targets) == {"frequency", "severity"}
        for target, m in targets.items():
            assert m == pytest.approx(expected_multiplier(ROWS, cell, target, lower, upper),
                                      rel=1e-12), (cell, target)
    # the same numbers written out by hand
    assert got["IF"]["frequency"] == pytest.approx(1.5 ** 0.5 * (2 / 3) ** 0.3, rel=1e-12)
    assert got["IF"]["frequency"] == pytest.approx(1.08447, abs=1e-5)
    assert got["IF"]["severity"] == pytest.approx(1.2, rel=1e-12)
    assert got["IF|RB"]["frequency"] == pytest.approx(2.25720, abs=1e-5)
    assert got["IF|RB"]["severity"] == pytest.approx(1.2, rel=1e-12)   # the event type's
    assert got["CPBP"] == {"frequency": 1.0, "severity": 3.0}
    assert got["EF"] == {"frequency": 0.5, "severity": 1.0}


def test_clipping_at_the_bounds(tmp_path):
    card = load_scorecard(write(tmp_path, csv_text()))
    lower, upper = BEICF_BOUNDS
    assert (lower, upper) == (0.75, 1.5)
    got = scorecard_factors(card, lower=lower, upper=upper)
    assert card.product("CPBP", "severity") == pytest.approx(3.0) and \
        got["CPBP"]["severity"] == 1.5
    assert card.product("EF", "frequency") == pytest.approx(0.25) and \
        got["EF"]["frequency"] == 0.75
    assert card.product("IF|RB", "frequency") == pytest.approx(2.25720, abs=1e-5)
    assert got["IF|RB"]["frequency"] == 1.5
    # inside the band: unchanged
    assert got["IF"]["frequency"] == pytest.approx(card.product("IF", "frequency"))
    # a band of exactly 1: no factor moves anything
    flat = scorecard_factors(card, lower=1, upper=1)
    assert all(m == 1.0 for targets in flat.values() for m in targets.values())


def test_applying_the_multipliers_to_a_rate_and_a_scale(tmp_path):
    card = load_scorecard(write(tmp_path, csv_text()))
    m = scorecard_factors(card, lower=0.75, upper=1.5)["IF"]
    rate, scale = apply_factors(m, rate=12.0, scale=6e7)
    assert rate == pytest.approx(12.0 * 1.5 ** 0.5 * (2 / 3) ** 0.3, rel=1e-12)
    assert scale == pytest.approx(6e7 * 1.2, rel=1e-12)
    with pytest.raises(ValueError, match="expected multipliers"):
        apply_factors({"frequency": 1.1}, rate=12.0, scale=6e7)
    with pytest.raises(ValueError, match="severity multiplier must be a positive"):
        apply_factors({"frequency": 1.1, "severity": 0.0}, rate=12.0, scale=6e7)
    with pytest.raises(ValueError, match="rate must be an annual rate"):
        apply_factors(m, rate=-1.0, scale=6e7)
    with pytest.raises(ValueError, match="scale must be a positive finite"):
        apply_factors(m, rate=12.0, scale=math.inf)


@pytest.mark.parametrize("lower, upper, expected", [
    (1.1, 1.5, "lower must be in \\(0, 1\\]"),
    (0.0, 1.5, "lower must be in \\(0, 1\\]"),
    (0.75, 0.9, "upper must be at least 1"),
    (0.75, math.nan, "upper must be a finite number"),
    (True, 1.5, "lower must be a finite number"),
])
def test_bounds_that_exclude_one_are_refused(tmp_path, lower, upper, expected):
    card = load_scorecard(write(tmp_path, csv_text()))
    with pytest.raises(ValueError, match=expected):
        scorecard_factors(card, lower=lower, upper=upper)


def test_korean_headers_and_targets_read_identically(tmp_path):
    english = load_scorecard(write(tmp_path, csv_text(), "en.csv"))
    korean_header = "사건유형,사업부문,요인,적용대상,점수,기준점수,가중치,척도,작성자,작성일,비고\n"
    target_ko = {"frequency": "빈도", "severity": "심도"}
    names_ko = {"IF": "내부사기", "CPBP": "고객·상품 및 영업관행", "EF": "외부사기"}
    rows_ko = [(names_ko[r[0]], "소매금융" if r[1] == "RB" else r[1], r[2], target_ko[r[3]],
                *r[4:]) for r in ROWS]
    korean = load_scorecard(write(tmp_path, csv_text(rows_ko, korean_header), "ko.csv"))
    strip = [f.__class__(**{**f.__dict__, "where": ""}) for f in english]
    assert [f.__class__(**{**f.__dict__, "where": ""}) for f in korean] == strip
    assert scorecard_factors(korean, lower=0.75, upper=1.5) == \
        scorecard_factors(english, lower=0.75, upper=1.5)


def test_a_workbook_is_named_by_its_rows(tmp_path):
    frame = pd.DataFrame([r[:4] + (float(r[4]), float(r[5]), float(r[6])) + r[7:10]
                          for r in ROWS[:2]], columns=HEADER.strip().split(",")[:10])
    frame.loc[1, "weight"] = 1.5
    path = tmp_path / "beicf.xlsx"
    frame.to_excel(path, index=False)
    message, problems = problems_of(path)
    assert [(p.where, p.column) for p in problems] == [("row 3", "weight")]
    assert "beicf.xlsx [sheet 'Sheet1'], row 3, column 'weight': expected the factor's " \
           "weight, a number in [0, 1]" in message


GOOD = ",".join(ROWS[0])
BAD_ROWS = [
    ("XX,,요인,frequency,6,4,0.5,%,김위험,2006-12-15,", "event_type",
     "expected an event-type code"),
    ("IF,ZZ,요인,frequency,6,4,0.5,%,김위험,2006-12-15,", "business_line",
     "expected a business-line code"),
    ("IF,,,frequency,6,4,0.5,%,김위험,2006-12-15,", "factor",
     "value is missing; expected what is scored"),
    ("IF,,요인,both,6,4,0.5,%,김위험,2006-12-15,", "applies_to",
     "expected what the factor moves: frequency (빈도"),
    ("IF,,요인,,6,4,0.5,%,김위험,2006-12-15,", "applies_to", "value is missing"),
    ("IF,,요인,frequency,0,4,0.5,%,김위험,2006-12-15,", "score",
     "expected the score, a positive number"),
    ("IF,,요인,frequency,-2,4,0.5,%,김위험,2006-12-15,", "score",
     "expected the score, a positive number"),
    ("IF,,요인,frequency,높음,4,0.5,%,김위험,2006-12-15,", "score",
     "expected the score, a positive number"),
    ("IF,,요인,frequency,6,0,0.5,%,김위험,2006-12-15,", "baseline",
     "expected the baseline, a positive number"),
    ("IF,,요인,frequency,6,,0.5,%,김위험,2006-12-15,", "baseline", "value is missing"),
    ("IF,,요인,frequency,6,4,1.2,%,김위험,2006-12-15,", "weight",
     "expected the factor's weight, a number in [0, 1]"),
    ("IF,,요인,frequency,6,4,-0.1,%,김위험,2006-12-15,", "weight", "in [0, 1]"),
    ("IF,,요인,frequency,6,4,,%,김위험,2006-12-15,", "weight", "value is missing"),
    ("IF,,요인,frequency,6,4,0.5,%,,2006-12-15,", "author",
     "value is missing; expected who scored the factor"),
    ("IF,,요인,frequency,6,4,0.5,%,김위험,,", "date",
     "value is missing; expected the date of the score"),
    ("IF,,요인,frequency,6,4,0.5,%,김위험,2006-13-45,", "date", "expected a date"),
]


@pytest.mark.parametrize("row, column, expected", BAD_ROWS,
                         ids=[f"{c}-{i}" for i, (_, c, _) in enumerate(BAD_ROWS)])
def test_each_bad_value_names_file_line_and_column(tmp_path, row, column, expected):
    message, problems = problems_of(write(tmp_path, HEADER + GOOD + "\n" + row + "\n"))
    assert len(problems) == 1, message
    p = problems[0]
    assert (p.source, p.where, p.column) == ("beicf.csv", "line 3", column), message
    assert f"beicf.csv, line 3, column '{column}': " in message and expected in message


def test_a_factor_scored_twice_for_a_cell_and_target_is_named(tmp_path):
    rows = [ROWS[0], ROWS[2],
            ("IF", "", "지점  직원 이직률", "frequency", "5", "4", "0.5", "%", "이감사",
             "2006-12-20", "다시"),                                   # same factor, line 4
            ("IF", "", "지점 직원 이직률", "severity", "5", "4", "0.5", "%", "김위험",
             "2006-12-15", ""),                                       # other target: fine
            ("IF", "RB", "고액 거래 사후점검", "severity", "3", "3", "1", "1-5", "이감사",
             "2006-12-20", "")]                                       # IF's factor again
    message, problems = problems_of(write(tmp_path, csv_text(rows)))
    assert [(p.where, p.column) for p in problems] == [("line 4", "factor"),
                                                       ("line 6", "factor")]
    assert "beicf.csv, line 4, column 'factor': duplicated factor: '지점  직원 이직률' is " \
           "already scored for cell IF, frequency (line 2)" in message
    assert "line 6, column 'factor': '고액 거래 사후점검' is scored for IF|RB, severity and " \
           "for its whole event type IF (line 3): it would count twice" in message


def test_every_problem_is_reported_and_nothing_is_dropped(tmp_path):
    text = HEADER + GOOD + "\n" + "XX,,요인,often,0,4,2,%,,2006-12-15,\n"
    _, problems = problems_of(write(tmp_path, text))
    assert {(p.where, p.column) for p in problems} == {
        ("line 3", "event_type"), ("line 3", "applies_to"), ("line 3", "score"),
        ("line 3", "weight"), ("line 3", "author")}
    message, _ = problems_of(write(tmp_path, HEADER))
    assert "no data rows" in message
    message, _ = problems_of(write(tmp_path, csv_text().replace("baseline,", "")))
    assert "beicf.csv, line 1, column 'baseline': missing column" in message


def test_a_case_maps_its_own_names(tmp_path):
    text = csv_text([("내부횡령", "", *ROWS[0][2:])])
    message, problems = problems_of(write(tmp_path, text))
    assert [(p.where, p.column) for p in problems] == [("line 2", "event_type")]
    card = load_scorecard(write(tmp_path, text), event_types={"내부횡령": "IF"})
    assert card.cells == ("IF",)
