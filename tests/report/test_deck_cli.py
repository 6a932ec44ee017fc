"""The deck's command line and its case: ``python -m opwb.report.deck build --case PATH``.

The case reaches the notebook as its parameter ``case_path`` (an absolute path, injected
after the ``parameters`` cell as papermill does), a bad case stops the command before any
notebook runs, and the pages' ``<title>`` names the case's bank. The deck notebook itself is
not executed here (``execute_notebook`` is stubbed, except for one tiny notebook that shows
the kernel sees the parameter).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from opwb.data.bundled import data_path
from opwb.data.case import CASE_ENV, bundled_case
from opwb.report import deck

BANK = "가나은행"


def write_case(folder: Path, name: str = BANK) -> Path:
    """A case file of another bank, on the bundled data files (named by absolute paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "case.toml"
    files = {"losses": "losses.csv", "programme": "insurance_programme.csv",
             "quotes": "bbb_alternatives.csv"}
    path.write_text(f"name = {json.dumps(name)}\n" + "".join(
        f"{key} = {json.dumps(str(data_path(file)))}\n" for key, file in files.items()),
        encoding="utf-8")
    return path


def tiny_notebook(title: str | None = "운영리스크 보험전략 워크숍") -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 워크숍",
                                      metadata={"slideshow": {"slide_type": "slide"}}),
        nbformat.v4.new_code_cell("case_path = None",
                                  metadata={"tags": ["parameters"],
                                            "slideshow": {"slide_type": "skip"}}),
        nbformat.v4.new_code_cell("print(case_path)", metadata={
            "slideshow": {"slide_type": "-"}})])
    if title:
        nb.metadata["title"] = title
    return nb


class Executions:
    """Stands in for ``deck.execute_notebook``: records its calls, returns a tiny notebook."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, path, **kwargs):
        self.calls.append({"path": path, **kwargs})
        return tiny_notebook()


@pytest.fixture
def executions(monkeypatch) -> Executions:
    stub = Executions()
    monkeypatch.setattr(deck, "execute_notebook", stub)
    monkeypatch.delenv(CASE_ENV, raising=False)
    return stub


def title_of(html_path: Path) -> str:
    html = html_path.read_text(encoding="utf-8")
    return html.split("<title>", 1)[1].split("</title>", 1)[0]


def test_case_reaches_the_notebook_as_case_path(executions, tmp_path, monkeypatch, capsys):
    case = write_case(tmp_path / "bank")
    monkeypatch.chdir(tmp_path)
    assert deck.main(["build", "--case", "bank/case.toml", "--out", "out",
                      "--formats", "html"]) == 0
    [call] = executions.calls
    # absolute: the kernel runs in the notebook's folder
    assert call["parameters"] == {"case_path": str(case)}
    report = tmp_path / "out" / "report.html"
    assert f"html    {Path('out') / 'report.html'}" in capsys.readouterr().out
    assert title_of(report) == f"운영리스크 보험전략 워크숍 — {BANK}"


def test_without_a_case_the_notebook_opens_its_default(executions, tmp_path):
    paths = deck.build(tmp_path, formats=("html",))
    assert executions.calls[0]["parameters"] == {}  # nothing injected
    assert title_of(paths["html"]).endswith(f"— {bundled_case().name}")


def test_without_a_case_the_title_follows_opwb_case(executions, tmp_path, monkeypatch):
    monkeypatch.setenv(CASE_ENV, str(write_case(tmp_path / "bank", "다라은행")))
    paths = deck.build(tmp_path / "out", formats=("html",))
    assert executions.calls[0]["parameters"] == {}
    assert title_of(paths["html"]).endswith("— 다라은행")


@pytest.mark.parametrize("content, expected", [
    (None, "no such case file"),
    ('name = "가나은행"\nbogus = 1\n', "unknown key"),
])
def test_a_bad_case_stops_before_the_notebook_runs(executions, tmp_path, capsys, content,
                                                   expected):
    case = tmp_path / "case.toml"
    if content is not None:
        case.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as stop:
        deck.main(["build", "--case", str(case), "--out", str(tmp_path / "out"), "--no-pdf"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert expected in err and str(case) in err, err
    assert executions.calls == []
    assert not (tmp_path / "out").exists()


def test_inject_parameters_follows_papermill():
    nb = deck.inject_parameters(tiny_notebook(), {"case_path": "/banks/가나/case.toml"})
    sources = [c.source for c in nb.cells]
    assert sources[1] == "case_path = None"
    assert sources[2] == "# Parameters\ncase_path = '/banks/가나/case.toml'"
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    assert nb.cells[2].metadata["slideshow"]["slide_type"] == "skip"  # no slide of its own
    deck.inject_parameters(nb, {"case_path": "/other.toml"})  # replaced, not added
    assert len(nb.cells) == 4 and nb.cells[2].source.endswith("case_path = '/other.toml'")
    bare = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert deck.inject_parameters(bare, {"n": 3}).cells[0].source == "# Parameters\nn = 3"
    with pytest.raises(ValueError, match="literal"):
        deck.inject_parameters(bare, {"case_path": object()})
    with pytest.raises(ValueError, match="identifier"):
        deck.inject_parameters(bare, {"case path": "x"})


def test_deck_title_comes_from_the_notebook_and_the_case():
    assert deck.deck_title(tiny_notebook(), BANK) == f"운영리스크 보험전략 워크숍 — {BANK}"
    assert deck.deck_title(tiny_notebook(title=None), BANK) == f"워크숍 — {BANK}"
    assert deck.deck_title(tiny_notebook(f"{BANK} 워크숍"), BANK) == f"{BANK} 워크숍"
    assert deck.deck_title(tiny_notebook(), None) == "운영리스크 보험전략 워크숍"


def test_the_kernel_sees_the_injected_case_path(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(tiny_notebook(), path)
    nb = deck.execute_notebook(path, timeout=60, parameters={"case_path": "/banks/a.toml"})
    assert nb.cells[3].outputs[0]["text"].strip() == "/banks/a.toml"
    assert "injected-parameters" not in path.read_text(encoding="utf-8")  # file as it was
