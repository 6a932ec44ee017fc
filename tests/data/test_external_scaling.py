"""opwb.data.external: the institution's size in the external losses and the scaling rule
L_scaled = L × (bank_size / size) ** exponent (Shih, Samad-Khan & Medapa 2000)."""
from __future__ import annotations

import csv
import math

import numpy as np
import pytest

import opwb
from opwb.data.errors import DataError
from opwb.data.external import (
    EXTERNAL_COLUMNS,
    SHIH_EXPONENT,
    load_external_losses,
    scale_external,
)

BUNDLED = opwb.data_path("external_losses.csv")
HEADER = ",".join(EXTERNAL_COLUMNS + ("size_krw", "size_basis"))
ROW = "Barings,GB,1995,IF,리슨,GBP,827000000,1820,1505140000000,report"


def raw_rows():
    """The bundled file read with the csv module alone (not opwb's loader): (line, dict)."""
    with open(BUNDLED, encoding="utf-8", newline="") as f:
        return [(i + 2, r) for i, r in enumerate(csv.DictReader(f))]


@pytest.fixture(scope="module")
def bundled():
    return load_external_losses(BUNDLED)


def test_bundled_rows_have_sizes_except_the_central_bank(bundled):
    sized = bundled[bundled["size_krw"].notna()]
    assert len(bundled) == 15 and len(sized) == 14
    assert (sized["size_krw"] > 0).all() and set(sized["size_basis"]) == {"gross_income"}
    unsized = bundled[bundled["size_krw"].isna()]
    assert unsized["institution"].tolist() == ["Banco Central do Brasil (Fortaleza)"]
    assert unsized["size_basis"].tolist() == [""]
    assert bundled.attrs["where"][unsized.index[0]] == "line 11"


@pytest.mark.parametrize("bank_size, exponent", [(7e12, SHIH_EXPONENT), (7e12, 0.0),
                                                 (2.5e12, 1.0), (3e13, 0.15)])
def test_scaling_reproduces_its_formula_on_the_bundled_rows(bundled, bank_size, exponent):
    """Independent recomputation from the raw CSV text: L × (bank_size / size)^e."""
    s = scale_external(bundled, bank_size, exponent, unsized="drop")
    expected = {}
    for line, r in raw_rows():
        if r["size_krw"]:
            expected[line] = float(r["amount_krw"]) * (bank_size / float(r["size_krw"])) ** exponent
    got = {s.attrs["where"][i]: v for i, v in s["amount_scaled"].items()}
    assert got.keys() == {f"line {k}" for k in expected}
    for line, value in expected.items():
        assert math.isclose(got[f"line {line}"], value, rel_tol=1e-12), line
    if exponent == 0.0:
        assert np.array_equal(s["amount_scaled"], s["amount_krw"])
    assert list(s["amount_scaled"]) == sorted(s["amount_scaled"], reverse=True)
    assert s.attrs["dropped"] == ["line 11"]
    assert s.attrs["bank_size"] == bank_size and s.attrs["exponent"] == exponent
    assert s.attrs["basis"] == "gross_income"


def test_barings_by_hand(bundled):
    """Barings 1995: £827m × 1,820 = 1.50514조원; gross income £0.4bn × 1,820 = 7,280억원;
    at bank size 7조원 and exponent 0.23: (7e12 / 7.28e11)^0.23 = 1.68299."""
    s = scale_external(bundled, 7e12, 0.23, unsized="drop")
    row = s.loc[1]
    assert row["institution"] == "Barings Bank"
    assert row["size_ratio"] == pytest.approx(9.615384615, rel=1e-9)
    assert row["factor"] == pytest.approx(1.682993, rel=1e-6)
    assert row["amount_scaled"] == pytest.approx(1.50514e12 * 1.682993, rel=1e-6)


def test_unsized_rows_are_named_when_scaling_is_asked(bundled):
    with pytest.raises(DataError) as err:
        scale_external(bundled, 7e12)
    assert "external_losses.csv, line 11, column 'size_krw': no institution size" in str(err.value)
    assert len(err.value.problems) == 1
    # an event-type selection that leaves the unsized row out needs no size for it
    s = scale_external(bundled, 7e12, event_types=["IF", "CPBP"])
    assert set(s["event_type"]) == {"IF", "CPBP"} and len(s) == 10


def test_a_file_without_size_columns_loads_and_refuses_scaling_by_row(tmp_path):
    path = tmp_path / "ext.csv"
    path.write_text(",".join(EXTERNAL_COLUMNS) + "\n" + ROW + "\n" + ROW + "\n",
                    encoding="utf-8")
    ext = load_external_losses(path)
    assert ext["size_krw"].isna().all() and (ext["size_basis"] == "").all()
    with pytest.raises(DataError) as err:
        scale_external(ext, 7e12)
    assert [str(p) for p in err.value.problems] == [
        f"ext.csv, line {n}, column 'size_krw': no institution size: a loss cannot be scaled "
        "to the bank without it (give the size, or leave such rows out with unsized='drop')"
        for n in (2, 3)]
    empty = scale_external(ext, 7e12, unsized="drop")
    assert empty.empty and empty.attrs["dropped"] == ["line 2", "line 3"]


@pytest.mark.parametrize("size, basis, column, message", [
    ("-5", "gross_income", "size_krw", "expected a non-negative amount"),
    ("0", "gross_income", "size_krw", "expected the institution's size as an amount > 0 KRW"),
    ("big", "gross_income", "size_krw", "expected an amount in KRW"),
    ("7e11x", "gross_income", "size_krw", "expected an amount in KRW"),
    ("728000000000", "", "size_basis", "a size is given but not what it measures"),
    ("728000000000", "employees", "size_basis", "expected a size basis (gross_income, revenue, "
                                                "total_assets), got 'employees'"),
])
def test_bad_size_values_name_file_line_and_column(tmp_path, size, basis, column, message):
    path = tmp_path / "ext.csv"
    path.write_text(HEADER + "\n" + ROW + ",728000000000,gross_income\n"
                    + ROW + f",{size},{basis}\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_external_losses(path)
    assert f"ext.csv, line 3, column '{column}': {message}" in str(err.value)
    assert len(err.value.problems) == 1


def test_korean_basis_names_and_blank_size_load(tmp_path):
    path = tmp_path / "ext.csv"
    path.write_text(HEADER + "\n" + ROW + ",728000000000,총이익\n" + ROW + ",,\n",
                    encoding="utf-8")
    ext = load_external_losses(path)
    assert ext["size_basis"].tolist() == ["gross_income", ""]
    assert ext["size_krw"].iloc[0] == 7.28e11 and math.isnan(ext["size_krw"].iloc[1])


def test_sizes_on_another_basis_are_refused(tmp_path):
    path = tmp_path / "ext.csv"
    path.write_text(HEADER + "\n" + ROW + ",728000000000,gross_income\n"
                    + ROW + ",9000000000000,total_assets\n", encoding="utf-8")
    ext = load_external_losses(path)
    with pytest.raises(DataError, match="several bases"):
        scale_external(ext, 7e12)
    with pytest.raises(DataError) as err:
        scale_external(ext, 7e12, basis="gross_income")
    assert "ext.csv, line 3, column 'size_basis': the size is total_assets" in str(err.value)
    assert len(scale_external(ext.iloc[:1], 7e12, basis="gross_income")) == 1


@pytest.mark.parametrize("kw, match", [
    ({"bank_size": 0}, "bank_size must be"), ({"bank_size": float("nan")}, "bank_size must be"),
    ({"bank_size": "7조"}, "bank_size must be"), ({"exponent": -0.1}, "exponent must be"),
    ({"exponent": float("inf")}, "exponent must be"), ({"basis": "staff"}, "basis must be"),
    ({"event_types": ["XX"]}, "unknown event type"), ({"unsized": "skip"}, "unsized must be"),
])
def test_bad_arguments(bundled, kw, match):
    args = {"bank_size": 7e12, "exponent": 0.23, "unsized": "drop", **kw}
    with pytest.raises(ValueError, match=match):
        scale_external(bundled, **args)
