"""A model set as a plain doc (``model_set_doc`` / ``model_set_from_doc``): what a model-set
file holds and what a run record keeps (``opwb.data.runstore``)."""
from __future__ import annotations

import json

import pytest

import opwb
from opwb.fitting import model_set_doc, model_set_from_doc
from opwb.fitting.modelset import BUNDLED_MODEL_FILES, load_model_set, save_model_set


@pytest.mark.parametrize("name", BUNDLED_MODEL_FILES)
def test_a_doc_is_what_the_file_holds_and_gives_the_set_back(name, tmp_path):
    models = load_model_set(opwb.data_path(name))
    doc = model_set_doc(models)
    json.dumps(doc)                     # plain JSON types (no numpy scalar needs a default)
    path = save_model_set(models, tmp_path / "m.json")
    assert json.loads(path.read_text(encoding="utf-8")) == doc
    again = model_set_from_doc(doc, source="run '2007Q1'")
    assert model_set_doc(again) == doc
    assert (again.threshold, again.fingerprint, again.allow_infinite_mean, again.note) == \
        (models.threshold, models.fingerprint, models.allow_infinite_mean, models.note)
    for cell in models:
        assert again[cell].severity.family == models[cell].severity.family
        assert again[cell].severity.params == models[cell].severity.params
        assert again[cell].frequency.params == models[cell].frequency.params
    # saving what was loaded writes the same bytes again
    again_path = save_model_set(load_model_set(path), tmp_path / "again.json")
    assert again_path.read_bytes() == path.read_bytes()


def test_a_doc_takes_a_note_and_refuses_what_is_not_a_model_set(tmp_path):
    models = load_model_set()
    assert model_set_doc(models, note="frozen 2007Q1")["note"] == "frozen 2007Q1"
    with pytest.raises(ValueError, match=r"^run '2007Q1': not an opwb model set \(kind='x'\)"):
        model_set_from_doc({"kind": "x"}, source="run '2007Q1'")
    with pytest.raises(ValueError, match=r"^not an opwb model set \(kind='list'\)"):
        model_set_from_doc([])
    other = tmp_path / "m.json"
    other.write_text(json.dumps({"kind": "other"}), encoding="utf-8")
    with pytest.raises(ValueError, match="m.json: not an opwb model set"):
        load_model_set(other)
