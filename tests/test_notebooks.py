"""Every notebook runs top to bottom, with its defaults and (papermill) with a changed parameter.

Notebooks are found by glob, so new ones are tested automatically. They run in the
``python3`` kernel of this environment with ``notebooks/`` as working directory, and must
write nothing into the repository (loss data is confidential: output goes only where the
user asks). Committed notebooks carry no outputs.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.conftest import repo_files
from tests.conftest import written_since as written

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds per cell; generous for a shared 2-core machine
KERNEL = "python3"


def parameters_cell(nb) -> nbformat.NotebookNode | None:
    return next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])),
                None)


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.extend(str(v) for k, v in out.get("data", {}).items()
                         if k in ("text/plain", "text/html", "text/markdown"))
    return "\n".join(parts)


def test_there_are_notebooks():
    assert any(p.name.startswith("01_") for p in NOTEBOOKS), NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


SHARED_RUNS = ("04_capital_offset.ipynb", "05_workshop_deck.ipynb")
"""Notebooks the session executes once (tests/conftest.py ``bundled_notebook_runs``) for
this test, the one-answer test and the deck's tests: 05 with its defaults, 04 with its
defaults but a results workbook in a temporary folder."""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, bundled_predictive, request):
    if path.name in SHARED_RUNS:
        runs = request.getfixturevalue("bundled_notebook_runs")
        nb = runs[path.name]
        assert runs["written"][path.name] == [], f"{path.name} wrote into the repository"
        assert all(o.get("output_type") != "error" for c in nb.cells
                   for o in c.get("outputs", [])), f"{path.name} shows an error"
    else:
        nb = nbformat.read(path, as_version=4)
        before = repo_files()
        client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL,
                                resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
        try:
            client.execute()
        except CellExecutionError as err:
            pytest.fail(f"{path.name} failed:\n{err}", pytrace=False)
        assert written(before) == [], f"{path.name} wrote into the repository"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code
                        if "injected-parameters" not in c.metadata.get("tags", [])), \
        f"{path.name}: a code cell did not run"
    # every cell that draws a chart shows it (no figure lost to backend state)
    blank = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and "plots.plot_" in c.source
             and not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not blank, f"{path.name}: chart cells {blank} displayed no image"


WITH_PARAMETERS = [p for p in NOTEBOOKS if parameters_cell(nbformat.read(p, as_version=4))]


def test_notebook_01_has_a_parameters_cell():
    assert any(p.name.startswith("01_") for p in WITH_PARAMETERS)


@pytest.mark.parametrize("path", WITH_PARAMETERS, ids=lambda p: p.name)
def test_notebook_runs_with_a_changed_parameter(path, second_bank_runs):
    """Every notebook runs with its parameter ``case_path`` changed to another bank's case
    (the session's papermill runs, shared with tests/test_second_bank.py, which checks what
    they show), writing nothing into the repository."""
    assert second_bank_runs["written"][path.name] == [], f"{path.name} wrote into the repository"
    nb = second_bank_runs[path.name]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "case_path" in injected[0].source
