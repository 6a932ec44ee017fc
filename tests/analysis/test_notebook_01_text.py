"""Notebook 01 reads as Korean: every bold span renders (CommonMark's flanking rules, which
Jupyter, Voila and nbconvert follow), no code cell prints raw text, and its tables and
summaries go through opwb.report.tables."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import mistune
import nbformat
import pytest

import opwb
from opwb import analysis
from opwb.data import load_losses
from opwb.report import loss_tables

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "01_loss_data.ipynb"


def _punct(ch: str) -> bool:
    """CommonMark's Unicode punctuation: general category P* or S*."""
    return unicodedata.category(ch)[0] in "PS"


def _space(ch: str) -> bool:
    return ch == "" or ch.isspace()


def unrendered_bold(markdown: str) -> list[str]:
    """Bold spans CommonMark leaves as literal ``**`` (an opening run that cannot open or a
    closing run that cannot close), as "line: context" strings.

    A ``**`` run can open when left-flanking: not followed by whitespace, and not followed by
    punctuation unless preceded by whitespace or punctuation; it can close when
    right-flanking (the mirror image). So ``**자격요건(…)**을`` fails: the closing run
    follows ")" and precedes "을". Inline code is skipped; runs pair up in order per line.
    """
    problems = []
    for number, line in enumerate(markdown.splitlines(), 1):
        line = re.sub(r"`[^`]*`", lambda m: "x" * len(m.group()), line)
        runs = [m for m in re.finditer(r"\*+", line) if len(m.group()) == 2]
        for k, m in enumerate(runs):
            before = line[m.start() - 1] if m.start() else ""
            after = line[m.end()] if m.end() < len(line) else ""
            left = not _space(after) and (not _punct(after) or _space(before) or _punct(before))
            right = not _space(before) and (not _punct(before) or _space(after) or _punct(after))
            ok = left if k % 2 == 0 else right
            if not ok or (k % 2 == 0 and k == len(runs) - 1):
                problems.append(f"{number}: …{line[max(0, m.start() - 12):m.end() + 12]}…")
    return problems


@pytest.mark.parametrize("text, bad", [
    ("**자격요건(…)**을 충족", True),
    ("**자격요건(…)** 을 충족", False),
    ("**자격요건(…)을** 충족", False),
    ("가**(a)**", True),
    ("**보험전략 프로세스**의 첫 단계", False),
    ("**합성(synthetic) 데이터**입니다", False),
    ("| **고빈도** | 위험 감소 |", False),
    ("`a**b` 코드", False),
])
def test_checker_agrees_with_a_commonmark_renderer(text, bad):
    assert bool(unrendered_bold(text)) is bad
    assert ("**" in re.sub(r"<code>.*?</code>", "", mistune.html(text))) is bad


def markdown_cells():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


@pytest.mark.parametrize("index, source", markdown_cells(), ids=lambda v: str(v)[:12])
def test_every_bold_span_renders(index, source):
    assert unrendered_bold(source) == [], f"cell {index}"
    render = mistune.create_markdown(plugins=["table"])
    assert "**" not in re.sub(r"<code>.*?</code>", "", render(source), flags=re.S), f"cell {index}"


def test_no_code_cell_prints_and_tables_go_through_opwb():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert not [s for s in code if re.search(r"\bprint\(", s)]
    assert not [s for s in code if "/ EOK" in s or ".round(" in s]      # no formatting here
    assert sum("tables.table_ko(" in s for s in code) >= 9


def test_generated_summaries_render():
    losses = load_losses(opwb.data_path("losses.csv"), threshold=10_000_000)
    for text in (loss_tables.load_summary_ko(losses),
                 loss_tables.incident_summary_ko(analysis.incident_profile(losses, "CD-2005-001"))):
        assert unrendered_bold(text) == []
        assert "<li>" in mistune.html(text)
