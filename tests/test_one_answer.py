"""One answer everywhere (issue 11): the same BBB alternative shows the same figures in the
API (:func:`opwb.scenarios.evaluate`), in notebook 04 and in the Excel export.

Notebook 04 is executed with papermill and writes its results workbook to a path given as a
parameter; the test reads the numbers back with openpyxl and compares them, figure by figure
and to the last bit, with ``evaluate`` on the shared scenario bases (``scenario_bases`` of
``DEFAULT_SPEC``) and with ``export_excel(scenario_sheet(...))`` of the API's results. A second
run with a loss file of the user's own checks that the notebook fits the losses it loads.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import mistune
import nbformat
import numpy as np
import pandas as pd
import papermill
import pytest
from openpyxl import load_workbook

import opwb
from opwb.data.bundled import data_path
from opwb.data.losses import load_losses
from opwb.data.schema import COLLECTION_THRESHOLD
from opwb.data.synth import CD_INCIDENT
from opwb.data.units import format_krw_with_se
from opwb.fitting.modelset import (
    BUNDLED_MODEL_FILES,
    load_model_set,
    losses_fingerprint,
)
from opwb.report.excel import SCENARIO_COLUMNS, export_excel, scenario_sheet
from opwb.scenarios import (
    DEFAULT_SPEC,
    current_cover,
    evaluate,
    load_alternatives,
    scenario_bases,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "04_capital_offset.ipynb"
SHEET = "시나리오 수치"
TIMEOUT = 600


def run_notebook(tmp: Path, **parameters) -> tuple[nbformat.NotebookNode, Path]:
    """Execute notebook 04 with ``parameters`` and a results workbook in ``tmp``."""
    book = tmp / "capital_offset.xlsx"
    out = tmp / NOTEBOOK.name
    papermill.execute_notebook(str(NOTEBOOK), str(out),
                               parameters={"results_path": str(book), **parameters},
                               kernel_name="python3", cwd=str(NOTEBOOK.parent),
                               execution_timeout=TIMEOUT, progress_bar=False)
    return nbformat.read(out, as_version=4), book


def read_sheet(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet written by ``export_excel``: row 1 names the unit, row 2 the headers."""
    rows = list(load_workbook(path)[sheet].iter_rows(values_only=True))
    return pd.DataFrame(rows[2:], columns=rows[1]).dropna(how="all")


def figures(sheet: pd.DataFrame) -> dict[tuple[str, str, str], tuple]:
    """(data, alternative, figure) → (value, se) from the numeric cells, or the text of a
    figure that has none (the 20% cap flag)."""
    out = {}
    for r in sheet.itertuples(index=False):
        d = dict(zip(SCENARIO_COLUMNS, r))
        key = (d["데이터"], d["대안"], d["항목"])
        if pd.notna(d["금액 (원)"]):
            out[key] = (float(d["금액 (원)"]), float(d["금액 표준오차 (원)"]))
        elif pd.notna(d["비율"]):
            out[key] = (float(d["비율"]), float(d["비율 표준오차"]))
        else:
            out[key] = (d["표시 (표준오차에 맞춰 반올림)"],)
    return out


def as_excel_holds(key: str, value: float) -> float:
    """What a workbook cell holds for a figure: amounts to the won, other numbers to
    Excel's 15 significant digits (written independently of opwb.report.excel)."""
    if not math.isfinite(value):
        return value
    if key in ("loss_ratio", "p_claim", "p_exhaust"):
        return float(f"{value:.15g}")
    return float(round(value))


def api_figures(results) -> dict[tuple[str, str, str], tuple]:
    """The same mapping straight from ``evaluate`` results, as a workbook holds them (the
    flag as 예/아니오)."""
    out = {}
    for r in results:
        data = "CD 사건 포함" if r.include_cd else "CD 사건 제외"
        for k, v in r.metrics.items():
            if k.endswith("_se") or f"{k}_se" not in r.metrics:
                continue
            if k == "cap_binds":
                out[(data, r.alternative.name, k)] = ("예" if v else "아니오",)
            else:
                out[(data, r.alternative.name, k)] = (as_excel_holds(k, v),
                                                      as_excel_holds(k, r.metrics[f"{k}_se"]))
    return out


def same(a: tuple, b: tuple) -> bool:
    """Exactly equal, NaN equal to NaN (a figure that does not exist)."""
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x)
                   and math.isnan(y)) for x, y in zip(a, b))


def output_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.extend(str(data[k]) for k in ("text/markdown", "text/html", "text/plain")
                         if k in data)
    return "\n".join(parts)


@pytest.fixture(scope="module")
def notebook_run(bundled_notebook_runs):
    """Notebook 04 as the session executed it with a results workbook (tests/conftest.py)."""
    return bundled_notebook_runs[NOTEBOOK.name], bundled_notebook_runs["book"]


@pytest.fixture(scope="module")
def api_results():
    """``evaluate`` on the shared bases for the cover in force and every quoted alternative
    (one at a time: not the notebook's batched ``evaluate_many``)."""
    bases = scenario_bases(DEFAULT_SPEC)
    current = current_cover(bases[True])
    quotes = load_alternatives(data_path("bbb_alternatives.csv"))
    alternatives = [current] + [a for a in quotes
                                if a.policy_changes() != current.policy_changes()]
    assert len(alternatives) == len(quotes)      # the file's 2005 cover is the one in force
    return [evaluate(bases[cd], alt, DEFAULT_SPEC.settings)
            for cd in (True, False) for alt in alternatives]


def test_notebook_api_and_excel_export_give_identical_figures(notebook_run, api_results,
                                                              tmp_path):
    _, book = notebook_run
    from_notebook = figures(read_sheet(book, SHEET))
    exported = export_excel({SHEET: scenario_sheet(api_results)}, tmp_path / "api.xlsx")
    from_export = figures(read_sheet(exported, SHEET))
    from_api = api_figures(api_results)
    assert set(from_notebook) == set(from_api) == set(from_export)
    differ = {k: (from_notebook[k], from_api[k]) for k in from_api
              if not same(from_notebook[k], from_api[k])}
    assert not differ, f"notebook 04 differs from evaluate(): {list(differ.items())[:5]}"
    differ = {k: (from_export[k], from_api[k]) for k in from_api
              if not same(from_export[k], from_api[k])}
    assert not differ, f"the Excel export differs from evaluate(): {list(differ.items())[:5]}"
    # the headline capital figures of both bases are among them, each with its error
    for r in api_results:
        for key in ("regulatory_gross_capital", "regulatory_net_capital",
                    "bond_regulatory_relief", "net_benefit"):
            value, se = r.estimate(key)
            assert math.isfinite(value) and se > 0, (r.alternative.name, key)


def test_notebook_shows_the_api_figures_rounded_to_their_errors(notebook_run, api_results):
    nb, _ = notebook_run
    shown = output_text(nb)
    for r in api_results:
        for key in ("regulatory_gross_capital", "regulatory_net_capital",
                    "bond_regulatory_relief", "net_benefit", "expected_recovery"):
            text = format_krw_with_se(*r.estimate(key), unit="억")
            assert text in shown, (r.include_cd, r.alternative.name, key, text)


def test_notebook_uses_the_shared_specification_and_the_bundled_models(notebook_run):
    _, book = notebook_run
    s = read_sheet(book, "설정").set_index("설정")["값"]
    spec = DEFAULT_SPEC
    assert int(s["n_years"]) == spec.n_years and int(s["seed"]) == spec.seed
    assert float(s["severity_cap"]) == spec.severity_cap
    assert s["valuation_date"] == str(pd.Timestamp(spec.settings.valuation_date).date())
    assert float(s["alpha"]) == spec.settings.alpha
    assert float(s["cost_of_capital"]) == spec.settings.cost_of_capital
    assert s["aggregation"] == spec.settings.aggregation
    bundled = [load_model_set(data_path(name)).fingerprint for name in BUNDLED_MODEL_FILES]
    assert [s["fingerprint_True"], s["fingerprint_False"]] == bundled


def test_audit_tables_add_up_to_the_headline(notebook_run, api_results):
    """The audit table's TOTAL (in 억원 in the workbook) is the headline capital of the cover
    in force, and its event-type rows add up to it."""
    _, book = notebook_run
    et = read_sheet(book, "감사 사건유형").set_index("event_type").astype(float)
    current = api_results[0]
    ses = _bootstrap_capital_ses(current)
    for col, key in (("capital_gross", "regulatory_gross_capital"),
                     ("capital_net", "regulatory_net_capital"),
                     ("recognised_benefit", "regulatory_relief")):
        total = et.loc["TOTAL", col] * 1e8
        assert total == pytest.approx(current[key], rel=1e-12, abs=1.0), col
        # the headline's SE is the year bootstrap of the summed, capped capital (issue 11),
        # recomputed here independently from the annual arrays; the audit's TOTAL (and so
        # the Excel sheet) carries that same error
        assert current.metrics[f"{key}_se"] == pytest.approx(ses[key], rel=1e-9), col
        assert et.loc["TOTAL", f"{col}_se"] * 1e8 == pytest.approx(
            current.metrics[f"{key}_se"], rel=1e-9), col
        assert et.drop(index="TOTAL")[col].sum() == pytest.approx(et.loc["TOTAL", col],
                                                                  rel=1e-12)


def _bootstrap_capital_ses(result) -> dict[str, float]:
    """Bootstrap SEs of gross and net regulatory capital ("sum" aggregation, 20% cap in
    every replicate) and of their difference, from full annual arrays: every event type's
    gross losses and the result's net regulatory losses (the programme without the bond for
    the event types the bond leaves alone), with the base's keyed year weights."""
    from opwb.engine.topyears import YearWeights, bootstrap_se, var_replicates
    from opwb.scenarios.bond import BondContext
    base = scenario_bases(DEFAULT_SPEC)[result.include_cd]
    s = DEFAULT_SPEC.settings
    assert s.aggregation == "sum"
    econ0 = BondContext(base, s.valuation_date, s.haircut_convention).econ0
    without = BondContext(base, s.valuation_date, s.haircut_convention).recovery_without(
        "regulatory")
    w = YearWeights(base.seed, base.n_years)
    gross = {et: np.asarray(econ0.gross_by_event_type[et]) for et in econ0.event_types}
    kg = np.sum([var_replicates(g, s.alpha, w) for g in gross.values()], axis=0)
    reg = result._arrays["reg"]
    km = np.sum([var_replicates(reg[et] if et in reg else g - without[et], s.alpha, w)
                 for et, g in gross.items()], axis=0)
    net = np.maximum(km, 0.8 * kg)
    return {"regulatory_gross_capital": float(bootstrap_se(kg)),
            "regulatory_net_capital": float(bootstrap_se(net)),
            "regulatory_relief": float(bootstrap_se(kg - net))}


def test_notebook_04_has_no_generator_model_no_private_seed_and_renders_its_markdown():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    source = "\n".join(c.source for c in nb.cells)
    for banned in ("TRUE_MODEL", "20070412", "2007-01-01", "simulate_losses"):
        assert banned not in source, banned
    # the bases of the notebook's case, by the case's spec (the app's, for the same case)
    assert "scenario_bases(spec, case=case)" in source and "spec_for(case" in source
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            html = mistune.html(cell.source)
            assert "**" not in html, f"bold left unrendered (e.g. **…**을):\n{cell.source}"
        else:
            assert not re.search(r"^\s*print\(", cell.source, re.MULTILINE), "raw printed output"


@pytest.mark.slow   # two fits by the model-choice rule (~25 s each) inside the notebook
def test_notebook_fits_the_losses_it_loads(tmp_path):
    """With a case naming a loss file of the bank's own (the bundled one less one small
    event) and no saved model sets, the notebook's models are fitted on those losses: their
    fingerprint is the file's, with and without the reference incident, and no bundled
    model set is used."""
    raw = pd.read_csv(data_path("losses.csv"), dtype=str, keep_default_na=False)
    small = raw[raw["event_id"] != CD_INCIDENT["event_id"]]
    drop = pd.to_numeric(small["gross_loss"]).idxmin()
    own = tmp_path / "own_losses.csv"
    raw.drop(index=drop).to_csv(own, index=False)
    case_file = tmp_path / "case.toml"
    bundled = (data_path("case.toml")).read_text(encoding="utf-8")
    case_file.write_text(
        f'losses = "{own.name}"\nprogramme = "{data_path("insurance_programme.csv")}"\n'
        f'quotes = "{data_path("bbb_alternatives.csv")}"\nn_years = 5000\n'
        'predictive_worlds = 10\nworld_years = 2000\n'
        + "\n".join(line for line in bundled.splitlines()
                    if not line.startswith(("losses", "programme", "quotes", "external",
                                            "models", "n_years", "scenarios", "beicf"))) + "\n",
        encoding="utf-8")
    losses = opwb.load_case(case_file).load_losses()
    expected = [losses_fingerprint(losses, COLLECTION_THRESHOLD),
                losses_fingerprint(losses[losses["event_id"] != CD_INCIDENT["event_id"]],
                                   COLLECTION_THRESHOLD)]
    bundled_prints = {load_model_set(data_path(n)).fingerprint for n in BUNDLED_MODEL_FILES}
    nb, book = run_notebook(tmp_path, case_path=str(case_file))
    s = read_sheet(book, "설정").set_index("설정")["값"]
    assert [s["fingerprint_True"], s["fingerprint_False"]] == expected
    assert not set(expected) & bundled_prints
    assert int(s["n_years"]) == 5_000
    assert "불러온 손실에 새로 적합" in output_text(nb)


def test_the_four_elements_capital_is_the_apis_in_the_notebook_and_excel(notebook_run):
    """Issue 23: notebook 04's four-element capital, its Excel sheet and the API
    (opwb.four_elements on the shared base's models, the spec's years and seed) agree to
    the won, and the notebook shows the API's sentence."""
    import opwb
    from opwb.report.element_tables import elements_sentence_ko
    from opwb.scenarios import case_inputs
    nb, book = notebook_run
    case = opwb.open_case(None)
    losses, _, _ = case_inputs(case)
    base = scenario_bases(DEFAULT_SPEC, case=case)[True]
    api = opwb.four_elements(case, base.model_set, losses, n_years=DEFAULT_SPEC.n_years,
                             seed=DEFAULT_SPEC.seed, alpha=DEFAULT_SPEC.settings.alpha)
    sheet = read_sheet(book, "네 가지 요소 자본").set_index("model")
    assert list(sheet.index) == list(api.capital.index)
    for col in ("capital", "capital_se", "change"):      # the workbook's amounts are in 억원
        assert np.allclose(sheet[col].to_numpy(float) * 1e8, api.capital[col].to_numpy(float),
                           rtol=1e-12, atol=0.5), col
    assert elements_sentence_ko(api) in output_text(nb)
    recs = read_sheet(book, "요소별 권고").set_index("model")
    assert set(recs.index) == set(api.capital.index)
