"""Issue 24's acceptance on a bank's case quarter after quarter: runs recorded whole, compared,
the change attributed to valuation date, settings, data and models on common random numbers,
the new quarter backtested against the previous run, the figures over the runs.

The runs are computed once per module (four records of the bundled bank's files: 20,000
simulated years and a predictive model of 4 worlds × 2,000 years each, tests/runs/quarters.py)
and written into each back end of ``store_url`` (SQLite and a real PostgreSQL server).
"""
from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import opwb
from opwb.data.runstore import open_store
from opwb.engine import riskmeasures as rm
from opwb.runs.compare import (HEADLINE, STEPS, attribution, backtest, compare_runs,
                               refit_families, trends)
from opwb.runs.record import run_record
from tests.runs.quarters import _quarter_losses, write_quarter_case


@pytest.fixture(scope="module")
def quarter_runs(tmp_path_factory):
    """Cases A (to 2006-12-31), B (a quarter added, window and valuation date moved to
    2007-03-31), V (A with the valuation date alone moved) and F (B with A's model set
    frozen), each with its run record."""
    root = tmp_path_factory.mktemp("quarters")
    cases = {"A": opwb.load_case(write_quarter_case(root / "a")),
             "B": opwb.load_case(write_quarter_case(root / "b", quarter=True)),
             "V": opwb.load_case(write_quarter_case(root / "v", valuation_date="2007-03-31"))}
    labels = {"A": "2006Q4", "B": "2007Q1", "V": "2006Q4 평가일 이동", "F": "2007Q1 모형 고정"}
    answers = {k: opwb.predictive_answer(case=c) for k, c in cases.items()}
    docs = {k: run_record(c, label=labels[k], answer=answers[k]) for k, c in cases.items()}
    # F: B's data with A's model set frozen (models = "run:2006Q4" from A's store)
    store = root / "a" / "runs.sqlite"
    with open_store(store) as st:
        st.record(docs["A"])
    cases["F"] = opwb.load_case(write_quarter_case(
        root / "f", quarter=True, extra=f'models = "run:{labels["A"]}"\nruns = "{store}"'))
    answers["F"] = opwb.predictive_answer(case=cases["F"])
    docs["F"] = run_record(cases["F"], label=labels["F"], answer=answers["F"])
    return SimpleNamespace(root=root, cases=cases, labels=labels, answers=answers, docs=docs)


def _compared(quarter_runs, store_url, first: str, second: str, *, with_case: bool):
    """Runs ``first`` and ``second`` written into the store, then compared through it
    (with the later run's case when ``with_case``)."""
    with open_store(store_url) as store:
        store.record(quarter_runs.docs[first])
        store.record(quarter_runs.docs[second])
    return compare_runs(quarter_runs.labels[first], quarter_runs.labels[second], store_url,
                        case=quarter_runs.cases[second] if with_case else None)


def _figure(doc, scope, item, figure, base="True"):
    rows = [r for r in doc["figures"] if (r["base"], r["scope"], r["item"], r["figure"])
            == (base, scope, item, figure)]
    assert len(rows) == 1, (scope, item, figure, len(rows))
    return rows[0]["value"], rows[0]["se"]


# --------------------------------------------------------------------------- the record
def test_record_run_writes_the_case_its_figures_and_no_loss(quarter_runs, store_url):
    case = quarter_runs.cases["A"]
    run_id = opwb.record_run(case, store=store_url, label="2006Q4",
                             answer=quarter_runs.answers["A"])
    with open_store(store_url) as store:
        doc = store.load("2006Q4")
        assert store.load(run_id)["label"] == "2006Q4"
        fig = store.figures()
    # the record is the one run_record gives (recomputed afresh: the same numbers)
    ref = quarter_runs.docs["A"]
    key = lambda r: (r["base"], r["scope"], r["item"], r["figure"])  # noqa: E731
    mine = {key(r): (r["value"], r["se"]) for r in doc["figures"]}
    assert mine == {key(r): (r["value"], r["se"]) for r in ref["figures"]}
    assert len(fig) == len(ref["figures"])
    # inputs: every file's hash, the threshold, the window, the valuation date, versions
    assert set(doc["case"]["files"]) >= {"case", "losses", "programme", "quotes"}
    import hashlib
    assert doc["case"]["files"]["losses"]["sha256"] == hashlib.sha256(
        case.path("losses").read_bytes()).hexdigest()
    assert doc["case"]["threshold"] == 1e7
    assert doc["case"]["observation"] == ["2002-01-01", "2006-12-31"]
    assert doc["versions"]["opwb"] == opwb.__version__
    # the figures by event type: gross VaR re-derived from the simulated years
    from opwb.scenarios.spec import scenario_bases, spec_for
    base = scenario_bases(spec_for(case), case=case)[True]
    v, se = _figure(doc, "event_type", "IF", "gross_var")
    assert v == pytest.approx(rm.var(np.asarray(base.sim.annual_gross["IF"]), 0.999),
                              rel=1e-12)
    assert 0 < se < v
    for et in base.model_set.keys():
        for name in ("gross_var", "net_var", "gross_es", "net_es", "capital_gross",
                     "capital_net"):
            v, se = _figure(doc, "event_type", et, name)
            assert v is not None and math.isfinite(v) and se is not None, (et, name)
    v, se = _figure(doc, "total", "in force", "net_var")
    assert v > 0 and 0 < se < v
    assert _figure(doc, "policy", "BBB", "relief")[1] is not None
    rec = doc["recommendation"]["True"]["structure"]
    assert rec["limit"] == _figure(doc, "recommendation", "권고", "limit")[0]
    # claims per policy and year: the bundled CD claim on the bond in 2005
    claims = pd.DataFrame(doc["claims"])
    assert claims.loc[(claims["policy"] == "BBB") & (claims["year"] == 2005), "claims"].sum() >= 1
    # no loss record: not one event id or description is in the store
    losses = case.load_losses()
    if store_url.startswith("sqlite:///"):
        raw = open(store_url.removeprefix("sqlite:///"), "rb").read()
        for eid in losses["event_id"].head(50):
            assert eid.encode() not in raw
    text = json.dumps(doc, ensure_ascii=False)
    assert "[합성]" not in text
    # counts by event type, never sums (two runs' sums would give a new loss away)
    assert all(set(v) == {"count"} for v in doc["data"]["by_event_type"].values())
    named = {i.event_id for i in case.incidents}     # the case file names its incidents
    assert not [e for e in losses["event_id"] if e in text and e not in named]


# --------------------------------------------------------------------------- attribution
def test_the_attribution_adds_up_to_the_change_of_every_headline_figure(quarter_runs,
                                                                         store_url):
    docs = quarter_runs.docs
    cmp = _compared(quarter_runs, store_url, "A", "B", with_case=True)
    steps = cmp.attribution
    assert list(steps.index) == [k for k, _ in STEPS] + ["total"]
    assert not [n for n in cmp.notes if "다릅니다" in n], cmp.notes   # both ends reproduced
    for f in HEADLINE:
        parts = steps.loc[[k for k, _ in STEPS], f]
        recorded = (_figure(docs["B"], "total", "in force", f)[0]
                    - _figure(docs["A"], "total", "in force", f)[0])
        total_se = steps.at["total", f"{f}_se"]
        # the parts telescope: they add up to the recorded change (far within its error)
        assert parts.sum() == pytest.approx(recorded, rel=1e-9, abs=1.0)
        assert abs(parts.sum() - recorded) <= total_se
        assert steps.at["total", f] == pytest.approx(recorded, rel=1e-9, abs=1.0)
        assert np.isfinite(steps[f"{f}_se"]).all()
    # the valuation date moves regulatory capital but not the economic net VaR
    assert steps.at["valuation_date", "net_var"] == 0.0
    assert steps.at["valuation_date", "bond_regulatory_relief"] != 0.0
    # no setting changed: that step is exactly zero
    assert (steps.loc["settings", list(HEADLINE)] == 0).all()
    # common random numbers pay: a step's paired error is below the unpaired one (measured:
    # half of it for the valuation date's step; independent years would give about 1)
    se_a = _figure(docs["A"], "total", "in force", "bond_regulatory_relief")[1]
    se_b = _figure(docs["B"], "total", "in force", "bond_regulatory_relief")[1]
    assert steps.at["valuation_date", "bond_regulatory_relief_se"] < 0.8 * math.hypot(se_a,
                                                                                      se_b)
    # the recommendation: B's structure against A's, state by state
    assert list(cmp.recommendation["state"]) == ["start"] + [k for k, _ in STEPS]
    # what changed in the inputs: the quarter's losses by event type
    quarter = _quarter_losses()
    quarter = quarter[quarter["event_id"].str.startswith("OR-2007")]
    added = quarter[pd.to_numeric(quarter["gross_loss"]) >= 1e7].groupby("event_type").size()
    rows = cmp.inputs.set_index("항목")
    for et, n in added.items():
        assert rows.at[f"{et} 손실 건수", "바뀜"] == f"{n:+,}"
    assert rows.at["평가일", "바뀜"] == "예"
    assert rows.at["losses", "바뀜"] == "내용 바뀜"
    assert rows.at["programme", "바뀜"] == ""


def test_only_the_valuation_date_moved_puts_the_change_in_the_valuation_date(quarter_runs,
                                                                               store_url):
    docs = quarter_runs.docs
    cmp = _compared(quarter_runs, store_url, "A", "V", with_case=False)
    steps = cmp.attribution
    f = "bond_regulatory_relief"
    change = _figure(docs["V"], "total", "in force", f)[0] - _figure(docs["A"], "total",
                                                                      "in force", f)[0]
    # the bond has 10 months left at 2006-12-31 and 7 at 2007-03-31: a deeper haircut
    assert change < 0
    assert steps.at["valuation_date", f] == pytest.approx(change, rel=1e-9)
    assert abs(change) > 2 * steps.at["valuation_date", f"{f}_se"]
    others = [k for k in steps.index if k not in ("valuation_date", "total")]
    assert others and (steps.loc[others, list(HEADLINE)] == 0).all().all()
    assert (steps.loc[others, [f"{h}_se" for h in HEADLINE]] == 0).all().all()
    assert "평가일" in cmp.sentence_ko()


def test_the_data_step_reestimates_the_earlier_families_by_maximum_likelihood(quarter_runs):
    """The data state's models are A's families fitted on B's losses: each cell's
    log-likelihood on B's losses is at least that of A's own parameters there (the MLE),
    and the families are A's."""
    from opwb.fitting.modelset import model_set_from_doc
    a = model_set_from_doc(quarter_runs.docs["A"]["models"]["True"])
    case_b = quarter_runs.cases["B"]
    losses = case_b.load_losses()
    refit = refit_families(a, losses, 1e7)
    for cell, m in refit.items():
        assert m.severity.family == a[cell].severity.family
        assert m.frequency.family == a[cell].frequency.family
        x = losses.loc[(losses["event_type"] == cell) & (losses["gross_loss"] >= 1e7),
                       "gross_loss"].to_numpy(float)
        old = a[cell].severity
        ll_old = float(np.sum(old.logpdf(x)) - x.size * old.logsf_threshold)
        assert m.severity.loglik >= ll_old - 1e-6 * abs(ll_old), cell
    # the frequency of the data state is that of B's window (7.2 + 0.25 years)
    assert refit["IF"].frequency.exposure == pytest.approx(5 + 90 / 365, rel=1e-12)


def test_without_b_case_data_and_models_are_one_step(quarter_runs):
    steps, _, notes = attribution(quarter_runs.docs["A"], quarter_runs.docs["B"])
    assert "data_models" in steps.index and "data" not in steps.index
    assert any(f"{quarter_runs.labels['B']}의 사례" in n for n in notes)
    full, _, _ = attribution(quarter_runs.docs["A"], quarter_runs.docs["B"],
                             case=quarter_runs.cases["B"])
    for f in HEADLINE:
        assert steps.at["data_models", f] == pytest.approx(
            full.at["data", f] + full.at["models", f], rel=1e-9, abs=1.0)


# --------------------------------------------------------------------------- backtest
def test_the_backtest_places_the_quarter_in_the_previous_runs_distribution(quarter_runs):
    from opwb.fitting.modelset import model_set_from_doc
    a = quarter_runs.docs["A"]
    models = model_set_from_doc(a["models"]["True"])
    bt = backtest(a, quarter_runs.cases["B"])
    t = 90 / 365                                       # 2007-01-01 .. 2007-03-31
    assert bt["exposure"].iloc[0] == pytest.approx(t, rel=1e-12)
    quarter = _quarter_losses()
    quarter = quarter[quarter["event_id"].str.startswith("OR-2007")]
    quarter = quarter[pd.to_numeric(quarter["gross_loss"]) >= 1e7]
    rows = bt.set_index("event_type")
    for cell, m in models.items():
        x = pd.to_numeric(quarter.loc[quarter["event_type"] == cell, "gross_loss"])
        assert rows.at[cell, "count"] == len(x)
        assert rows.at[cell, "loss"] == pytest.approx(float(x.sum()))
        mu = m.frequency.params["mu"] * t
        assert rows.at[cell, "expected_count"] == pytest.approx(mu, rel=1e-12)
        dist = (stats.poisson(mu) if m.frequency.family == "poisson" else
                stats.nbinom(m.frequency.params["r"],
                             m.frequency.params["r"] / (m.frequency.params["r"] + mu)))
        p = min(1.0, 2 * min(dist.cdf(len(x)), dist.sf(len(x) - 1)))
        assert rows.at[cell, "p_count"] == pytest.approx(p, rel=1e-12)
        assert 0 <= rows.at[cell, "pit"] <= 1
    k = len(models)
    outside = int(rows["outside_90"].drop("TOTAL").sum())
    assert bt.attrs["coverage_p"] == pytest.approx(stats.binomtest(outside, k, 0.1).pvalue)
    assert rows.at["TOTAL", "count"] == len(quarter)


# --------------------------------------------------------------------------- trends
def test_trends_follow_the_runs_in_order(quarter_runs, tmp_path):
    path = tmp_path / "runs.sqlite"
    with open_store(path) as store:
        for k in ("A", "V", "B"):
            store.record(quarter_runs.docs[k])
    tr = trends(path)
    assert list(tr.drop_duplicates("run_id")["label"]) == [quarter_runs.labels[k]
                                                          for k in ("A", "V", "B")]
    relief = tr[tr["series"] == "total:in force:bond_regulatory_relief"]
    assert list(relief["value"]) == [
        _figure(quarter_runs.docs[k], "total", "in force", "bond_regulatory_relief")[0]
        for k in ("A", "V", "B")]
    assert set(tr["series"]) >= {f"event_type:{et}:net_var" for et in
                                 quarter_runs.docs["A"]["data"]["by_event_type"]}
    # the chart draws those figures, in 억원, in the runs' order
    import matplotlib
    matplotlib.use("Agg")
    from opwb.report.plots import plot_run_trends
    left, right = plot_run_trends(tr)
    drawn = right.lines[0].get_ydata()
    assert list(drawn) == pytest.approx([v / 1e8 for v in relief["value"]])
    assert len(left.get_legend().get_texts()) == 7
    import matplotlib.pyplot as plt
    plt.close(left.figure)


# --------------------------------------------------------------------------- frozen models
def test_a_frozen_model_set_separates_the_data_change_from_the_refit(quarter_runs):
    """B's data with A's models frozen (``models = "run:2006Q4"``): the run carries A's model
    sets, A → F moves only through the valuation date (no data or model step), and F → B
    is the refit alone (no valuation-date or settings step); the two add up to A → B."""
    docs = quarter_runs.docs
    assert docs["F"]["models"] == docs["A"]["models"]
    assert docs["F"]["case"]["frozen_models"] == quarter_runs.labels["A"]
    af, _, _ = attribution(docs["A"], docs["F"], case=quarter_runs.cases["F"])
    fb, _, _ = attribution(docs["F"], docs["B"], case=quarter_runs.cases["B"])
    ab, _, _ = attribution(docs["A"], docs["B"], case=quarter_runs.cases["B"])
    for f in HEADLINE:
        assert af.at["data", f] == 0 and af.at["models", f] == 0
        assert af.at["valuation_date", f] == pytest.approx(af.at["total", f], rel=1e-12)
        assert fb.at["valuation_date", f] == 0 and fb.at["settings", f] == 0
        assert fb.at["total", f] == pytest.approx(fb.at["data", f] + fb.at["models", f],
                                                  rel=1e-9, abs=1.0)
        assert af.at["total", f] + fb.at["total", f] == pytest.approx(ab.at["total", f],
                                                                      rel=1e-9, abs=1.0)
