"""Every notebook runs top to bottom, with its defaults and (papermill) with a changed parameter.

Notebooks are found by glob, so new ones are tested automatically. They run in the
``python3`` kernel of this environment with ``notebooks/`` as working directory, and must
write nothing into the repository (loss data is confidential: output goes only where the
user asks). Committed notebooks carry no outputs.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import papermill
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds per cell; generous for a shared 2-core machine
KERNEL = "python3"

#: Non-default values tried with papermill, first match in a notebook's parameters wins.
#: (Settings such as the threshold come from the case file: tests/test_second_bank.py runs
#: every notebook on another bank's case.)
OVERRIDES: dict[str, object] = {"top_n": 3, "n_boot": 19, "initial_alternative": 2,
                                "uncertainty_worlds": 3, "example_loss": 500e8}
#: Per notebook: text the papermill run must print, proving the parameter took effect.
EXPECT_IN_OUTPUT: dict[str, str] = {"05_workshop_deck.ipynb": "500억"}


def repo_files() -> dict[str, int]:
    """Files (with mtimes) where a run could leave something: repo root, notebooks/, data/."""
    found = {}
    for folder, pattern in ((REPO, "*"), (NOTEBOOK_DIR, "**/*"), (REPO / "data", "**/*")):
        for p in folder.glob(pattern):
            if p.is_file() and "__pycache__" not in p.parts:
                found[str(p.relative_to(REPO))] = p.stat().st_mtime_ns
    return found


def written(before: dict[str, int]) -> list[str]:
    after = repo_files()
    return sorted(k for k, v in after.items() if before.get(k) != v)


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path):
    nb = nbformat.read(path, as_version=4)
    before = repo_files()
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name} failed:\n{err}", pytrace=False)
    assert written(before) == [], f"{path.name} wrote into the repository"
    # every cell that draws a chart shows it (no figure lost to backend state)
    blank = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and "plots.plot_" in c.source
             and not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not blank, f"{path.name}: chart cells {blank} displayed no image"


def choose_override(path: Path) -> tuple[str, object]:
    params = papermill.inspect_notebook(str(path))
    for name, value in OVERRIDES.items():
        if name in params:
            return name, value
    for name, p in params.items():
        if p["inferred_type_name"] == "int":
            return name, int(p["default"]) + 1
    raise AssertionError(f"{path.name}: add a non-default value for one of its parameters "
                         f"{sorted(params)} to OVERRIDES in {Path(__file__).name}")


WITH_PARAMETERS = [p for p in NOTEBOOKS if parameters_cell(nbformat.read(p, as_version=4))]


def test_notebook_01_has_a_parameters_cell():
    assert any(p.name.startswith("01_") for p in WITH_PARAMETERS)


@pytest.mark.parametrize("path", WITH_PARAMETERS, ids=lambda p: p.name)
def test_notebook_runs_with_a_changed_parameter(path, tmp_path):
    name, value = choose_override(path)
    before = repo_files()
    out = tmp_path / path.name
    try:
        papermill.execute_notebook(str(path), str(out), parameters={name: value},
                                   kernel_name=KERNEL, cwd=str(NOTEBOOK_DIR),
                                   execution_timeout=CELL_TIMEOUT, progress_bar=False)
    except papermill.PapermillExecutionError as err:
        pytest.fail(f"{path.name} with {name}={value!r} failed:\n{err}", pytrace=False)
    assert written(before) == [], f"{path.name} wrote into the repository"
    nb = nbformat.read(out, as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and name in injected[0].source
    if path.name in EXPECT_IN_OUTPUT:
        assert EXPECT_IN_OUTPUT[path.name] in outputs_text(nb)
