"""A case's external-loss settings (opwb/data/case.py): the bank's size and the scaling
exponent, the level H and weight w of external losses in the four-element model, and the
scenario and BEICF settings, each strict and named by its key; no default for another bank's
size or H."""
from __future__ import annotations

import math

import pytest

import opwb
from opwb.data.case import CASE_KEYS, bundled_case, load_case
from opwb.data.errors import DataError
from tests.data.test_case import MINIMAL, assert_names_key, key_error, write_case

EXTERNAL = f'external = "{opwb.data_path("external_losses.csv").as_posix()}"\n'


def test_bundled_case_states_its_external_settings():
    case = bundled_case()
    assert case.bank_size == 7e12 and case.bank_size_basis == "gross_income"
    assert case.external_exponent == 0.23
    s = case.scaled_external()
    assert s.attrs["dropped"] == ["line 11"] and len(s) == 14   # the central bank: no size
    assert s.attrs["bank_size"] == 7e12 and s.attrs["exponent"] == 0.23
    barings = s[s["institution"] == "Barings Bank"].iloc[0]
    assert math.isclose(barings["amount_scaled"], 1.50514e12 * (7e12 / 7.28e11) ** 0.23,
                        rel_tol=1e-12)
    with pytest.raises(DataError, match="line 11, column 'size_krw'"):
        case.scaled_external(unsized="raise")


def test_another_bank_gets_no_size(tmp_path):
    """The bundled bank's size is not another bank's: a case naming external losses must
    state bank_size to scale them."""
    path = write_case(tmp_path / "bank", MINIMAL + EXTERNAL)
    case = load_case(path)
    assert case.bank_size is None
    assert case.external_exponent == 0.23 and case.bank_size_basis == "gross_income"
    with pytest.raises(DataError) as err:
        case.scaled_external()
    assert_names_key(err.value, "bank_size", path)
    assert "must state the bank's size in KRW" in str(err.value)
    case = load_case(write_case(tmp_path / "b2", MINIMAL + EXTERNAL + 'bank_size = "3조"\n'
                                'external_exponent = 0.15\n'))
    assert case.scaled_external().attrs["exponent"] == 0.15
    assert load_case(write_case(tmp_path / "b3", MINIMAL)).scaled_external() is None


@pytest.mark.parametrize("text, key", [
    ("bank_size = -5", "bank_size"), ("bank_size = 0", "bank_size"),
    ('bank_size = "칠조"', "bank_size"), ("bank_size = true", "bank_size"),
    ('bank_size_basis = "employees"', "bank_size_basis"),
    ("bank_size_basis = 3", "bank_size_basis"),
    ("external_exponent = 1.5", "external_exponent"),
    ("external_exponent = -0.2", "external_exponent"),
    ('external_exponent = "0.23"', "external_exponent"),
    ("external_exponent = true", "external_exponent"),
    ('external_threshold = "천억"', "external_threshold"),
    ("external_threshold = -1", "external_threshold"),
    ("external_weight = 1.5", "external_weight"),
    ('external_weight = "0.5"', "external_weight"),
    ("scenario_sd = 0", "scenario_sd"), ("scenario_sd = true", "scenario_sd"),
    ("beicf_bounds = [1.2, 1.5]", "beicf_bounds"), ("beicf_bounds = [0.75]", "beicf_bounds"),
    ("beicf_bounds = [0.75, 0.9]", "beicf_bounds"),
])
def test_bad_values_are_named_by_key(tmp_path, text, key):
    path = write_case(tmp_path, MINIMAL + text + "\n")
    assert_names_key(key_error(path), key, path)


def test_none_and_accepted_forms(tmp_path):
    case = load_case(write_case(tmp_path, MINIMAL + 'bank_size = "1,500억원"\n'
                                'external_exponent = 1\nbank_size_basis = "total_assets"\n'
                                'external_threshold = "100억"\nexternal_weight = 0.5\n'
                                'scenario_sd = 1\nbeicf_bounds = [0.5, 2]\n'))
    assert case.bank_size == 1.5e11 and case.external_exponent == 1.0
    assert case.bank_size_basis == "total_assets"
    assert (case.external_threshold, case.external_weight) == (1e10, 0.5)
    assert case.scenario_sd == 1.0 and case.beicf_bounds == (0.5, 2.0)
    bare = load_case(write_case(tmp_path / "b", MINIMAL))
    assert bare.external_threshold is None and bare.scenarios is None and bare.beicf is None
    assert bare.load_scenarios() is None and bare.load_scorecard() is None


def test_the_settings_are_in_the_fingerprint():
    case = bundled_case()
    for key, value in (("bank_size", 8e12), ("external_exponent", 0.3),
                       ("external_threshold", 1e10), ("external_weight", 0.3),
                       ("scenario_sd", 1.0), ("beicf_bounds", (0.5, 2.0))):
        assert CASE_KEYS[key].metadata["fingerprint"]
        assert case.replace(**{key: value}).fingerprint() != case.fingerprint(), key
