"""A case's run store (``runs``) and its frozen model set (``models = "run:LABEL"``)."""
from __future__ import annotations

import pytest

from opwb.data.case import RUN_PREFIX, bundled_case, load_case
from opwb.data.errors import DataError
from tests.data.test_case import MINIMAL, assert_names_key, key_error, write_case


def test_the_run_store_is_runs_sqlite_beside_the_case_file_by_default(tmp_path):
    case = load_case(write_case(tmp_path / "bank", MINIMAL))
    assert case.runs == "runs.sqlite"
    assert case.run_store() == str((tmp_path / "bank" / "runs.sqlite").resolve())
    assert not (tmp_path / "bank" / "runs.sqlite").exists()     # naming it creates nothing
    bundled = bundled_case()
    assert bundled.run_store().endswith("/data/runs.sqlite")
    assert not (bundled.root / "runs.sqlite").exists()


@pytest.mark.parametrize("value, expected", [
    ('"../shared/opwb-runs.sqlite"', "{root}/shared/opwb-runs.sqlite"),
    ('"postgresql+psycopg://opwb@db.example:5432/opwb"',
     "postgresql+psycopg://opwb@db.example:5432/opwb"),
    ('"sqlite:///stores/runs.sqlite"', "sqlite:///{root}/bank/stores/runs.sqlite"),
    ('"sqlite:////srv/opwb/runs.sqlite"', "sqlite:////srv/opwb/runs.sqlite"),
])
def test_the_run_store_is_a_path_relative_to_the_case_or_a_url(tmp_path, value, expected):
    case = load_case(write_case(tmp_path / "bank", MINIMAL + f"runs = {value}\n"))
    assert case.run_store() == expected.format(root=tmp_path.resolve())


@pytest.mark.parametrize("value", ['""', "3", '"postgresql+psycopg://u@h:notaport/db"'])
def test_a_run_store_that_is_neither_path_nor_url_is_named(tmp_path, value):
    path = write_case(tmp_path, MINIMAL + f"runs = {value}\n")
    assert_names_key(key_error(path), "runs", path)


def test_a_run_store_url_with_a_password_is_refused_without_showing_it(tmp_path):
    path = write_case(tmp_path, MINIMAL + 'runs = "postgresql+psycopg://opwb:s3cret@db/opwb"\n')
    err = key_error(path)
    assert_names_key(err, "runs", path)
    assert "password" in str(err) and "s3cret" not in str(err)


def test_where_runs_are_recorded_changes_no_fingerprint(tmp_path):
    case = load_case(write_case(tmp_path, MINIMAL))
    moved = case.replace(runs="postgresql+psycopg://opwb@db.example:5432/opwb")
    assert moved.fingerprint() == case.fingerprint()
    assert moved.settings()["runs"] != case.settings()["runs"]  # still recorded as a setting


@pytest.mark.parametrize("value", ['"run:2007Q1"', '["run:2007Q1"]'])
def test_models_may_name_a_recorded_run(tmp_path, value):
    path = write_case(tmp_path, MINIMAL + f"models = {value}\n")
    case = load_case(path)                      # no file "run:2007Q1" is looked for
    assert case.frozen_models == "2007Q1"
    assert case.models == ("run:2007Q1",) and case.paths("models") == ()
    other = case.replace(models=(RUN_PREFIX + "2007Q2",))
    assert other.frozen_models == "2007Q2"
    assert other.fingerprint() != case.fingerprint()
    assert bundled_case().frozen_models is None


@pytest.mark.parametrize("value, message", [
    ('["run:2007Q1", "run:2007Q2"]', "names 2 recorded runs"),
    ('["run:2007Q1", "m.json"]', "mixes a recorded run"),
    ('"run:"', "run's label"),
    ('"run:  "', "run's label"),
])
def test_a_frozen_model_set_names_one_run_alone(tmp_path, value, message):
    path = write_case(tmp_path, MINIMAL + f"models = {value}\n", files=("l.xlsx", "p.xlsx",
                                                                        "q.xlsx", "m.json"))
    err = key_error(path)
    assert_names_key(err, "models", path)
    assert message in str(err)


def test_a_case_built_in_code_with_two_runs_is_refused_by_name(tmp_path):
    path = write_case(tmp_path, MINIMAL)
    case = load_case(path).replace(models=("run:a", "run:b"))
    with pytest.raises(DataError, match="names 2 recorded runs") as info:
        case.frozen_models
    assert_names_key(info.value, "models", path)
