"""opwb.load_programme: the insurance programme table and its validation."""
from __future__ import annotations

import numpy as np
import pytest

import opwb
from opwb.data.errors import DataError
from opwb.data.programme_table import load_programme
from opwb.data.schema import COVER_COLUMNS, PROGRAMME_COLUMNS

HEADER = ",".join(PROGRAMME_COLUMNS)
COVERS_BBB = ",".join(["0.9"] + ["0"] * (len(COVER_COLUMNS) - 1))
BBB = ("BBB-2005,금융기관종합보험,Bankers blanket bond,LG화재,AA-,false,false,2005-07-01,"
       "2006-07-01,90,false,losses-occurring,500000000,5000000000,,1,1600000000," + COVERS_BBB)
PROP = ("PROP-2006,재산종합보험,Property,삼성화재,AA,no,no,2006-01-01,2007-01-01,90,no,"
        "losses-occurring,\"100,000,000\",\"30,000,000,000\",\"60,000,000,000\",0.8,900000000,"
        + ",".join(["0", "0", "0", "0", "100%", "0", "0"]))


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "programme.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_good_programme_types(tmp_path):
    prog = load_programme(write(tmp_path, [BBB, PROP]))
    assert list(prog.columns) == list(PROGRAMME_COLUMNS)
    bbb, prop = prog.iloc[0], prog.iloc[1]
    assert (bbb["deductible"], bbb["limit"], bbb["premium"]) == (5e8, 5e9, 1.6e9)
    assert bbb["aggregate_limit"] == np.inf and bbb["cover_IF"] == 0.9
    assert prop["aggregate_limit"] == 6e10 and prop["cover_DPA"] == 1.0
    assert prop["coinsurance"] == 0.8 and not prop["affiliate"]
    assert prog["cancellation_notice_days"].dtype == np.int64
    assert prog["affiliate"].dtype == bool


def test_absent_cover_columns_mean_not_covered(tmp_path):
    header = HEADER.replace(",cover_EDPM", "")
    prog = load_programme(write(tmp_path, [BBB.rsplit(",", 1)[0]], header=header))
    assert prog["cover_EDPM"].tolist() == [0.0]


def _bad(row_edit):
    cells = BBB.split(",")
    for col, value in row_edit.items():
        cells[PROGRAMME_COLUMNS.index(col)] = value
    return ",".join(cells)


@pytest.mark.parametrize("edit,column,fragment", [
    ({"deductible": "-500000000"}, "deductible", "expected a non-negative amount in KRW"),
    ({"limit": "-1"}, "limit", "expected a non-negative amount in KRW"),
    # a limit of 0 is accepted, as by Policy (one rule: tests/data/test_field_faults_data.py)
    ({"expiry": "9999-12-31"}, "expiry", "the placeholder systems write for 'no date'"),
    ({"cover_IF": "1.2"}, "cover_IF", "expected a share in [0, 1] (e.g. 0.9 or 90%), got '1.2'"),
    ({"cover_EF": "-0.1"}, "cover_EF", "expected a share in [0, 1]"),
    ({"coinsurance": "0"}, "coinsurance", "expected a share in (0, 1]"),
    ({"expiry": "2005-06-30"}, "expiry", "expiry 2005-06-30 is not after inception 2005-07-01"),
    ({"insurer_rating": ""}, "insurer_rating", "value is missing; expected the insurer's claims-paying rating (AAA"),
    ({"insurer_rating": "Good"}, "insurer_rating", "unknown rating 'Good'"),
    ({"affiliate": "maybe"}, "affiliate", "expected true or false"),
    ({"cancellation_notice_days": "60.5"}, "cancellation_notice_days", "expected a whole number ≥ 0"),
    ({"aggregate_limit": "1000000000"}, "aggregate_limit", "annual aggregate limit 1,000,000,000 is below the per-occurrence limit 5,000,000,000"),
    ({"claims_basis": "occurrence"}, "claims_basis", "unknown basis 'occurrence'"),
    ({"inception": "2005-7-1x"}, "inception", "expected a date as YYYY-MM-DD"),
])
def test_bad_policy_field_names_file_line_policy_column(tmp_path, edit, column, fragment):
    with pytest.raises(DataError) as ei:
        load_programme(write(tmp_path, [PROP, _bad(edit)]))
    assert [(p.source, p.where, p.context, p.column) for p in ei.value.problems] == \
        [("programme.csv", "line 3", "policy 'BBB-2005'", column)]
    assert f"programme.csv, line 3, policy 'BBB-2005', column '{column}': " in str(ei.value)
    assert fragment in str(ei.value)


def test_unknown_event_type_column(tmp_path):
    header = HEADER + ",cover_XYZ"
    with pytest.raises(DataError, match=r"programme.csv, line 1, column 'cover_XYZ': unknown event type 'XYZ'"):
        load_programme(write(tmp_path, [BBB + ",0.5"], header=header))


def test_duplicate_policy_ids(tmp_path):
    with pytest.raises(DataError, match=r"line 3, policy 'BBB-2005', column 'policy_id': duplicate policy id \(first on line 2\)"):
        load_programme(write(tmp_path, [BBB, BBB]))


def test_bundled_programme_loads_and_has_the_2005_bbb():
    prog = load_programme(opwb.data_path("insurance_programme.csv"))
    bbb = prog[prog["cover_IF"] > 0].sort_values("cover_IF").iloc[-1]
    assert (bbb["limit"], bbb["deductible"], bbb["premium"]) == (50 * opwb.EOK, 5 * opwb.EOK,
                                                                  16 * opwb.EOK)
    assert len(prog) >= 8


# -- a tower's notations (issue 22, item 11; payouts in tests/insurance/test_field_faults_insurance.py)

@pytest.mark.parametrize("text, expected", [
    ("50 xs 50", (50.0, 50.0)),
    ("3,000,000,000 x/s 2,000,000,000", (3e9, 2e9)),
    ("30억 excess of 20억", (30 * opwb.EOK, 20 * opwb.EOK)),
    ("1조 XS 500억원", (1e12, 500 * opwb.EOK)),
    ("  5000xs0 ", (5000.0, 0.0)),
])
def test_layer_notation(text, expected):
    from opwb.data.programme_table import parse_layer
    assert parse_layer(text) == expected


@pytest.mark.parametrize("text", ["50 xs", "xs 50", "-5 xs 3", "50 dollars xs 20", "50 / 20",
                                  "inf xs 20"])
def test_layer_notation_refused(text):
    from opwb.data.errors import CellError
    from opwb.data.programme_table import parse_layer
    with pytest.raises(CellError, match="expected a layer 'limit xs attachment' in KRW"):
        parse_layer(text)


def test_columns_a_notation_makes_optional(tmp_path):
    # with an attachment column the deductible column may be absent (limit still required)
    cells = dict(zip(PROGRAMME_COLUMNS, BBB.split(",")))
    header = [c for c in PROGRAMME_COLUMNS if c != "deductible"] + ["attachment"]
    cells["attachment"] = "500000000"
    prog = load_programme(write(tmp_path, [",".join(cells[c] for c in header)],
                                header=",".join(header)))
    assert (prog["deductible"].iloc[0], prog["attachment"].iloc[0]) == (5e8, 5e8)
    assert prog["follows"].tolist() == [""]
    # neither a deductible nor a notation that gives it: the missing column is named
    header = [c for c in PROGRAMME_COLUMNS if c != "deductible"]
    with pytest.raises(DataError, match=r"line 1, column 'deductible': missing column"):
        load_programme(write(tmp_path, [",".join(cells[c] for c in header)],
                             header=",".join(header)))
