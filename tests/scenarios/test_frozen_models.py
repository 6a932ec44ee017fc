"""A model set frozen in a recorded run (a case's ``models = "run:LABEL"``) feeds the
scenario bases whatever the case's data, and is keyed apart in the on-disk store."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import opwb.scenarios.spec as specmod
from opwb.data.bundled import data_path
from opwb.data.case import load_case
from opwb.data.runstore import RunStoreError, open_store
from opwb.fitting.modelset import ModelSet, load_model_set, model_set_doc
from opwb.scenarios.spec import frozen_model_sets, scenario_bases, spec_for
from opwb.scenarios.store import FOLDER

WITH, WITHOUT = "severity_models.json", "severity_models_without_cd.json"
N_YEARS = 2_000


def _doc(name: str) -> dict:
    return json.loads(data_path(name).read_text(encoding="utf-8"))


def _record(store_path: Path, label: str, models: dict) -> None:
    with open_store(store_path) as store:
        store.record({"label": label, "recorded_at": "2007-04-02T09:00:00+09:00",
                      "case": {"name": "예시은행", "hash": "0" * 64},
                      "versions": {"opwb": "test"}, "models": models, "figures": []})


@pytest.fixture
def frozen_case(tmp_path) -> Path:
    """A copy of the bundled case whose models are frozen in run "2007Q1" of its store:
    deliberately swapped (the set without the CD incident for the base with it, and the
    reverse), so that a model set chosen from the data would not equal them."""
    folder = tmp_path / "bank"
    folder.mkdir()
    for name in ("losses.csv", "insurance_programme.csv", "bbb_alternatives.csv",
                 "external_losses.csv", "scenarios.csv", "beicf.csv"):
        shutil.copy(data_path(name), folder / name)
    text = data_path("case.toml").read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines():
        if line.startswith("models = "):
            line = 'models = "run:2007Q1"'
        elif line.startswith("n_years = "):
            line = f"n_years = {N_YEARS}"
        lines.append(line)
    (folder / "case.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _record(folder / "runs.sqlite", "2007Q1", {"True": _doc(WITHOUT), "False": _doc(WITH)})
    return folder / "case.toml"


def _same_models(got: ModelSet, want: ModelSet) -> None:
    assert list(got) == list(want)
    for cell in want:
        g, w = got[cell], want[cell]
        assert (g.severity.family, g.severity.params, g.severity.threshold) == \
            (w.severity.family, w.severity.params, w.severity.threshold), cell
        assert (g.frequency.family, g.frequency.params) == \
            (w.frequency.family, w.frequency.params), cell


def test_the_bases_use_the_frozen_model_sets_whatever_the_data(frozen_case, monkeypatch):
    monkeypatch.setattr(specmod, "_BASES", {})
    case = load_case(frozen_case)
    assert case.frozen_models == "2007Q1" and case.paths("models") == ()
    bases = scenario_bases(case=case, cache=False)
    assert set(bases) == {True, False} and bases[True].n_years == N_YEARS
    _same_models(bases[True].model_set, load_model_set(data_path(WITHOUT)))
    _same_models(bases[False].model_set, load_model_set(data_path(WITH)))
    assert model_set_doc(bases[True].model_set) == model_set_doc(
        load_model_set(data_path(WITHOUT)))
    assert specmod._BASES == {}                      # cache=False: nothing kept, nothing written


def test_stored_bases_of_a_frozen_set_are_reused_and_never_shared(frozen_case, tmp_path,
                                                                  monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("OPWB_CACHE_DIR", str(cache))
    monkeypatch.setattr(specmod, "_BASES", {})
    case = load_case(frozen_case)
    scenario_bases(case=case)
    entries = sorted(p.name for p in (cache / FOLDER).iterdir() if not p.name.startswith("."))
    assert len(entries) == 1
    monkeypatch.setattr(specmod, "_BASES", {})       # another process, as the memo knows
    said = []
    again = scenario_bases(case=case, progress=lambda f, text: said.append(text))
    assert any("stored simulation" in t for t in said)   # loaded, not rebuilt
    _same_models(again[True].model_set, load_model_set(data_path(WITHOUT)))

    # the same label in another store holding other models: another entry
    other = tmp_path / "other"
    shutil.copytree(frozen_case.parent, other)
    (other / "runs.sqlite").unlink()
    _record(other / "runs.sqlite", "2007Q1", {"True": _doc(WITH), "False": _doc(WITHOUT)})
    monkeypatch.setattr(specmod, "_BASES", {})
    moved = scenario_bases(case=load_case(other / "case.toml"))
    _same_models(moved[True].model_set, load_model_set(data_path(WITH)))
    entries = sorted(p.name for p in (cache / FOLDER).iterdir() if not p.name.startswith("."))
    assert len(entries) == 2


def test_a_frozen_set_that_cannot_be_had_is_a_clear_error(frozen_case):
    case = load_case(frozen_case)
    spec = spec_for(case)
    with pytest.raises(ValueError, match="fitted at a collection threshold of 10,000,000 KRW, "
                                         "the case's is 5,000,000 KRW"):
        frozen_model_sets(case, spec.replace(threshold=5e6))
    with pytest.raises(RunStoreError, match="no run '2007Q9'.*2007Q1"):
        frozen_model_sets(case.replace(models=("run:2007Q9",)), spec)
    _record(frozen_case.parent / "runs.sqlite", "one-base", {"True": _doc(WITH)})
    with pytest.raises(ValueError, match="no model set without the reference incidents"):
        frozen_model_sets(case.replace(models=("run:one-base",)), spec)
    assert set(frozen_model_sets(case.replace(models=("run:one-base",), incidents=()))) == {True}
    missing = case.replace(runs="nowhere/runs.sqlite")
    with pytest.raises(ValueError, match="run store .*nowhere/runs.sqlite does not exist"):
        frozen_model_sets(missing, spec)
    assert not (frozen_case.parent / "nowhere").exists()
