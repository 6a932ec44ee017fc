"""A second bank's case flows through every notebook (issue 20's acceptance).

The case (:func:`tests.cases.write_second_bank`: Korean headers under a title block, FSS
category names, a 500만원 threshold, an as-of date in March, no reference incident, a bond
numbered ``FIB-2006``, a 1,500억 quote) is run through notebooks 01–05 with papermill, each
once for the whole module. Every figure a notebook shows is compared with the API on the same
case; no output may carry the bundled bank's text or file names.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import papermill
import pytest
from openpyxl import load_workbook

import opwb
from opwb.scenarios import case_inputs, current_cover, evaluate_many, scenario_bases, spec_for
from tests.cases import SECOND_BANK, forbidden_in

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TIMEOUT = 900

pytestmark = pytest.mark.slow


def _outputs(nb) -> str:
    """Every text a reader sees in a notebook's outputs (text, HTML, Markdown)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") if isinstance(out.get("text", ""), str) else "")
            for kind, value in out.get("data", {}).items():
                if kind.startswith("text/") or kind == "application/json":
                    parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def runs(second_bank_runs):
    """Notebooks 01–05 executed on the second bank's case (the session's shared runs)."""
    return second_bank_runs


@pytest.fixture(scope="module")
def api(second_bank_case):
    case = opwb.load_case(second_bank_case)
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    bases = scenario_bases(spec, case=case)
    return case, losses, quotes, spec, bases


def test_papermill_sees_one_case_parameter():
    for path in sorted(NOTEBOOKS.glob("0[1-5]_*.ipynb")):
        params = papermill.inspect_notebook(str(path))
        assert "case_path" in params, path.name
        assert params["case_path"]["default"] == "None", path.name
        assert not {"losses_path", "programme_path", "threshold"} & set(params), path.name


def test_no_bundled_text_in_any_output(runs):
    for name, nb in runs.items():
        if name in ("dir", "written"):
            continue
        text = _outputs(nb)
        found = forbidden_in(text)
        assert not found, f"{name} shows {found}"
        assert "Traceback" not in text, name


def test_notebook_01_counts_the_banks_own_window(runs, api):
    case, losses, *_ = api
    text = _outputs(runs["01_loss_data.ipynb"])
    assert "500만원" in text                       # the case's threshold, not 1,000만원
    assert f"{len(losses):,}" in text            # every collected loss
    assert "기준 사건" in text and "지정되어 있지 않습니다" in text


def test_notebook_03_gives_the_api_answer_and_the_quote_is_on_the_grid(runs, api):
    case, losses, quotes, spec, bases = api
    assert set(bases) == {True}                  # no incident: one base, no toggle
    assert 1_500e8 in spec.limits
    robust = opwb.predictive_answer(spec, case=case)
    answer = robust.answer
    assert set(answer.recommendations) == {True}
    assert (answer.frontiers[True]["limit"] == 1_500e8).any()
    assert robust.worlds[True].n_worlds == 20 and robust.worlds[True].world_years == 4_000
    text = _outputs(runs["03_bbb_scenarios.ipynb"])
    assert robust.sentence_ko(True) in text
    assert case.name == SECOND_BANK


def _sheet(path: Path, name: str) -> pd.DataFrame:
    rows = list(load_workbook(path)[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[2:], columns=rows[1]).dropna(how="all")


def test_notebook_04_excel_equals_the_api(runs, api):
    case, losses, quotes, spec, bases = api
    base = bases[True]
    current = current_cover(base)
    alts = [current] + [a for a in quotes if a.policy_changes() != current.policy_changes()]
    results = evaluate_many(base, alts, spec.settings)
    sheet = _sheet(runs["dir"] / "capital.xlsx", "시나리오 수치")
    checked = 0
    for res in results:
        rows = sheet[sheet.iloc[:, 1] == res.alternative.name]
        assert len(rows), res.alternative.name
        for r in rows.itertuples(index=False):
            key, value = r[2], r[4]
            if key in res.metrics and isinstance(value, (int, float)) and math.isfinite(value):
                # written to the won (15 significant digits, as Excel holds numbers)
                assert value == pytest.approx(res.metrics[key], rel=1e-14, abs=0.5), key
                checked += 1
    assert checked > 20
    settings = _sheet(runs["dir"] / "capital.xlsx", "설정").set_index("설정")["값"]
    assert settings["bond_policy"] == "FIB-2006" and settings["incidents"] == "없음"
    assert float(settings["threshold"]) == 5e6 and settings["bank"] == SECOND_BANK
    # what a rerun needs to say what it ran on: the window, each file's hash, the version
    import hashlib
    assert settings["observation"] == "2000-01-01 ~ 2007-03-31"
    sha = hashlib.sha256(case.path("losses").read_bytes()).hexdigest()
    assert settings["file_losses"] == f"{case.path('losses').name} (SHA-256 {sha})"
    assert settings["opwb_version"] == opwb.__version__


def test_notebook_04_records_the_run_of_the_banks_case(runs, api):
    """With ``record_this_run`` the notebook writes one run of the bank's own case into the
    store it names (its figures those of the API, no loss record) and compares it."""
    from opwb.data.runstore import open_store
    case, losses, quotes, spec, bases = api
    with open_store(runs["dir"] / "runs.sqlite") as store:
        listed = store.list_runs()
        doc = store.load("2007Q1")
    assert list(listed["case_name"]) == [SECOND_BANK]
    assert doc["case"]["hash"] == case.fingerprint()
    assert doc["case"]["threshold"] == 5e6 and doc["spec"]["bond_policy"] == "FIB-2006"
    base = bases[True]
    current = current_cover(base)
    res = evaluate_many(base, [current], spec.settings)[0]
    net_var = [r for r in doc["figures"] if (r["scope"], r["figure"]) == ("total", "net_var")]
    assert net_var[0]["value"] == res.metrics["net_var"]
    text = json.dumps(doc, ensure_ascii=False)
    assert not any(eid in text for eid in losses["event_id"].head(20))
    shown = _outputs(runs["04_capital_offset.ipynb"])
    assert "저장했습니다" in shown and "변화의 분해" in shown and "합계" in shown


def test_notebook_05_deck_is_the_banks_and_writes_its_excel(runs, api):
    case, losses, quotes, spec, bases = api
    robust = opwb.predictive_answer(spec, case=case)
    text = _outputs(runs["05_workshop_deck.ipynb"])
    assert robust.sentence_ko(True) in text
    text4 = _outputs(runs["04_capital_offset.ipynb"])
    assert robust.sentence_ko(True) in text4      # notebook 04 names the same structure
    assert SECOND_BANK in text
    assert (runs["dir"] / "deck.xlsx").is_file()


def test_notebook_02_fits_at_the_case_threshold(runs, api):
    case, losses, *_ = api
    text = _outputs(runs["02_frequency_severity.ipynb"])
    assert "500만원 이상" in text
    assert "시나리오·자본 계산에 쓰이는 모형과 같습니다" in text
    assert "노출 7.25년" in text                  # 2000-01-01 – 2007-03-31: 7¼ years of exposure
