"""The run store (``opwb.data.runstore``) on SQLite and on a real PostgreSQL server.

Every test taking ``store_url`` runs on both back ends (``tests/runs/conftest.py``): a round
trip of a run with NaN and infinite figures, model sets, claims and files; unique labels; the
order of runs; the upgrade of a store of the first schema; refusals of a newer store and of a
database that is not a run store; a process killed with SIGKILL inside ``record()``; two
processes recording at once.
"""
from __future__ import annotations

import math
import os
import select
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from opwb.data import runstore
from opwb.data.runstore import RunStoreError, open_store
from tests.runs.examples import make_run, model_set_doc, same

REPO = Path(__file__).resolve().parents[2]


def _count(url: str, table: str) -> int:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    finally:
        engine.dispose()


def _rows(url: str, query: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(query)).all()]
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------ round trip
def test_a_run_comes_back_as_recorded(store_url):
    run = make_run("2007Q1", n_figures=12)
    with open_store(store_url) as store:
        run_id = store.record(run)
        loaded = store.load(run_id)
        assert loaded.pop("run_id") == run_id
        assert same(loaded, run)                     # NaN stays NaN, None stays None, ±inf
        assert same(store.load("2007Q1"), store.load("run:2007Q1"))
        assert store.model_set_doc("run:2007Q1", "True") == model_set_doc()
        assert store.model_sets("2007Q1") == run["models"]
        assert store.model_set_doc(run_id, False) == model_set_doc(
            "severity_models_without_cd.json")
        figures = store.figures()
        runs = store.list_runs()
    assert list(figures.columns) == runstore.FIGURE_COLUMNS
    assert list(runs.columns) == runstore.LIST_COLUMNS
    assert len(figures) == 12 and set(figures["base"]) == {"True", "False"}
    by_name = figures.set_index(["item", "figure"])
    assert math.isnan(by_name.loc[("item0000", "figure0"), "value"])   # NaN: NULL → NaN
    assert by_name.loc[("item0000", "figure1"), "value"] == math.inf
    assert by_name.loc[("item0000", "figure2"), "value"] == -math.inf
    assert math.isnan(by_name.loc[("item0000", "figure3"), "value"])   # None
    assert by_name.loc[("item0000", "figure5"), "value"] == 6e8
    assert (figures["recorded_at"] == pd.Timestamp("2026-12-07T05:00:00Z")).all()
    row = runs.iloc[0]
    assert (row["run_id"], row["label"], row["case_name"], row["case_hash"]) == (
        run_id, "2007Q1", "예시은행", "c" * 64)
    assert (row["valuation_date"], row["as_of"], row["opwb_version"]) == (
        "2006-12-31", "2006-12-31", "0.1.0")
    assert sorted(_rows(store_url, "SELECT role, name, sha256 FROM run_files")) == [
        ("losses", "losses.csv", "a" * 64), ("programme", "insurance_programme.csv", "b" * 64)]
    claims = sorted(_rows(store_url, "SELECT policy, year, claims, amount FROM run_claims"))
    assert claims[0] == ("BBB", 2005, 1, 6.5e10)
    assert claims[1][:3] == ("FI-1", 2006, 2) and claims[1][3] is None  # NaN stored as NULL


def test_a_duplicate_label_is_refused_and_nothing_is_written(store_url):
    with open_store(store_url) as store:
        store.record(make_run("2007Q1"))
        before = {t: _count(store_url, t) for t in
                  ("runs", "run_models", "run_figures", "run_files", "run_claims")}
        with pytest.raises(RunStoreError, match="already has a run labelled '2007Q1'"):
            store.record(make_run("2007Q1", n_figures=30))
        after = {t: _count(store_url, t) for t in before}
        assert after == before
        store.record(make_run(None))
        store.record(make_run(None))                 # unlabelled runs are many
        assert len(store.list_runs()) == 3


def test_runs_are_listed_by_time_recorded_whatever_the_offset(store_url):
    with open_store(store_url) as store:
        late = store.record(make_run("late", recorded_at="2027-03-31T10:00:00+09:00"))
        early = store.record(make_run("early", recorded_at="2026-12-31T23:30:00-05:00"))
        same_time = store.record(make_run(None, recorded_at="2027-03-31T01:00:00+00:00"))
        runs = store.list_runs()
        assert runs["run_id"].tolist() == [early, late, same_time]   # ties: by run id
        assert runs["label"].tolist()[:2] == ["early", "late"]
        assert str(runs["recorded_at"].dt.tz) == "UTC"
        assert store.figures(["late", early])["run_id"].unique().tolist() == [early, late]
        with pytest.raises(RunStoreError, match="no run 'missing'.*early, late"):
            store.load("missing")
        with pytest.raises(RunStoreError, match="no run 99"):
            store.figures(99)
        with pytest.raises(RunStoreError, match="no model set for base 'Both'.*False, True"):
            store.model_set_doc("late", "Both")


def test_a_run_that_holds_loss_records_or_bad_values_is_refused(store_url):
    with open_store(store_url) as store:
        leaked = dict(make_run("x"), extra=[{"event_id": "E1", "gross_loss": 3e7}])
        with pytest.raises(RunStoreError, match="loss event"):
            store.record(leaked)
        columns = dict(make_run("y"))
        columns["case"] = dict(columns["case"], columns={"event_id": "event_id",
                                                         "gross_loss": "gross_loss"})
        store.record(columns)                        # a header mapping is not a loss record
        for bad, message in ((dict(make_run("z"), recorded_at="2026-12-07T05:00:00"), "offset"),
                             (dict(make_run("run:z")), "may not start"),
                             (dict(make_run("z"), figures=[{"scope": "s"}]), "item"),
                             (dict(make_run("z"), extra=object()), "JSON")):
            with pytest.raises(RunStoreError, match=message):
                store.record(bad)
        assert store.list_runs()["label"].tolist() == ["y"]


def test_a_file_path_makes_a_private_sqlite_file(tmp_path):
    path = tmp_path / "new" / "runs.sqlite"
    with open_store(path) as store:
        assert store.url == f"sqlite:///{path}"
        assert open_store(store) is store
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with open_store(str(path)) as again:
        assert again.list_runs().empty


# ------------------------------------------------------------------------------ the schema
def _first_schema_store(url: str) -> None:
    """A store as the first schema (version 1) wrote it: two runs."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    md = runstore.schema_v1()
    md.create_all(engine)
    t = md.tables
    import json
    with engine.begin() as conn:
        conn.execute(t["opwb_schema"].insert(), [{"version": 1}])
        for label, as_of in (("2006Q4", "2006-12-31"), (None, "2007-03-31")):
            run = make_run(label, as_of=as_of, recorded_at=f"{as_of}T09:00:00+00:00")
            if label:
                del run["claims"]                    # the first runs had no claims
            for f in run["figures"]:
                del f["base"]                        # one base only then
            run["figures"] = [f for i, f in enumerate(run["figures"]) if i % 2 == 0]
            models = run.pop("models")
            run_id = conn.execute(t["runs"].insert().values(
                label=label, recorded_at=run["recorded_at"],
                case_name="예시은행", case_hash="c" * 64, valuation_date=as_of,
                opwb_version="0.0.9", doc=json.dumps(run, ensure_ascii=False))
            ).inserted_primary_key[0]
            conn.execute(t["run_models"].insert(), [{"run_id": run_id, "base": "True",
                                                     "doc": json.dumps(models["True"])}])
            conn.execute(t["run_figures"].insert(), [
                dict(run_id=run_id, scope=f["scope"], item=f["item"], figure=f["figure"],
                     value=None if f["value"] is None or math.isnan(f["value"]) else f["value"],
                     se=f["se"]) for f in run["figures"]])
    engine.dispose()


def _columns(url: str) -> dict:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        inspector = sa.inspect(engine)
        return {t: sorted((c["name"], c["nullable"]) for c in inspector.get_columns(t))
                for t in sorted(inspector.get_table_names())}
    finally:
        engine.dispose()


def test_a_store_of_the_first_schema_is_upgraded(store_url, tmp_path):
    _first_schema_store(store_url)
    with open_store(store_url) as store:
        runs = store.list_runs()
        assert runs["run_id"].tolist() == [1, 2]
        assert runs["as_of"].tolist() == ["2006-12-31", "2007-03-31"]
        first, second = store.load("2006Q4"), store.load(2)
        assert first["case"]["files"]["losses"]["sha256"] == "a" * 64
        assert {f["base"] for f in first["figures"]} == {"True"}
        assert first["models"]["True"] == model_set_doc()
        figures = store.figures()
        assert set(figures["base"]) == {"True"} and len(figures) == 6
        new = store.record(make_run("2007Q2"))      # and the upgraded store takes new runs
        assert store.load(new)["label"] == "2007Q2"
        assert "claims" not in first and len(second["claims"]) == 2
    assert _rows(store_url, "SELECT version FROM opwb_schema") == [(2,)]
    assert sorted(_rows(store_url, "SELECT run_id, role FROM run_files")) == [
        (1, "losses"), (1, "programme"), (2, "losses"), (2, "programme"),
        (3, "losses"), (3, "programme")]
    assert sorted(_rows(store_url, "SELECT run_id, policy FROM run_claims")) == [
        (2, "BBB"), (2, "FI-1"), (3, "BBB"), (3, "FI-1")]
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    open_store(fresh).close()
    assert _columns(store_url) == _columns(fresh)   # the upgraded schema is the new one


def test_a_newer_store_is_refused_naming_url_and_versions(store_url):
    open_store(store_url).close()
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE opwb_schema SET version = 3"))
    engine.dispose()
    with pytest.raises(RunStoreError, match="schema version 3, newer than this opwb's 2") as e:
        open_store(store_url)
    shown = sa.engine.make_url(store_url)
    assert shown.render_as_string(hide_password=True) in str(e.value)
    if shown.password:
        assert shown.password not in str(e.value)


def test_a_database_that_is_not_a_run_store_is_refused(store_url):
    engine = sa.create_engine(store_url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(sa.text("INSERT INTO customers VALUES (1, 'kim')"))
    engine.dispose()
    with pytest.raises(RunStoreError, match=r"holds tables \(customers\) but no opwb_schema"):
        open_store(store_url)
    assert _rows(store_url, "SELECT name FROM customers") == [("kim",)]
    assert sa.inspect(sa.create_engine(store_url, poolclass=sa.pool.NullPool)
                      ).get_table_names() == ["customers"]


# ------------------------------------------------------------------------------ processes
_CHILD = """
import sys, time
from opwb.data.runstore import open_store
from tests.runs.examples import make_run
url, label, go = sys.argv[1], sys.argv[2], sys.argv[5]
runs, n_figures = int(sys.argv[3]), int(sys.argv[4])
store = open_store(url)
print("ready", flush=True)
while go != "-" and not __import__("os").path.exists(go):
    time.sleep(0.01)
def stall(fraction, text):
    if runs == 0 and text == "figures":
        print("inside", flush=True)   # the parent kills us now, mid-transaction
        time.sleep(300)
for k in range(max(runs, 1)):
    store.record(make_run(f"{label}-{k}", n_figures=n_figures), progress=stall)
print("done", flush=True)
"""


def _child(url: str, label: str, runs: int, n_figures: int, go: str = "-") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _CHILD, url, label, str(runs),
                             str(n_figures), go], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)


def _wait_for(proc: subprocess.Popen, line: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            got = proc.stdout.readline()
            if got.strip() == line:
                return
            if not got:
                break
    proc.kill()
    raise AssertionError(f"the child never said {line!r}: {proc.communicate()[1][-3000:]}")


def test_a_process_killed_inside_record_leaves_no_partial_run(store_url):
    with open_store(store_url) as store:
        kept = [store.record(make_run(f"kept-{k}", n_figures=20)) for k in range(2)]
    child = _child(store_url, "killed", 0, 3 * runstore.CHUNK_ROWS)
    try:
        _wait_for(child, "inside")           # the run's row and first figures are written
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(30)
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with open_store(store_url) as store:
        assert store.list_runs()["run_id"].tolist() == kept
        assert len(store.figures()) == 40
        with pytest.raises(RunStoreError, match="no run 'killed-0'"):
            store.load("killed-0")
        again = store.record(make_run("killed-0", n_figures=20))   # the label is free
        assert store.load("killed-0")["run_id"] == again
    for table, rows in (("run_figures", 60), ("run_models", 6), ("run_files", 6),
                        ("run_claims", 6)):
        assert _count(store_url, table) == rows


def test_two_processes_recording_at_once_both_land(store_url, tmp_path):
    open_store(store_url).close()
    go = tmp_path / "go"
    runs, n_figures = 4, 1200
    children = [_child(store_url, name, runs, n_figures, str(go)) for name in ("p", "q")]
    try:
        for child in children:
            _wait_for(child, "ready")
        go.touch()                                 # both start recording at once
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (out, err) in zip(children, results):
        assert child.returncode == 0, err[-3000:]
        assert out.strip().endswith("done")
    with open_store(store_url) as store:
        labels = store.list_runs()["label"].tolist()
        assert sorted(labels) == sorted(f"{n}-{k}" for n in "pq" for k in range(runs))
        assert len(store.figures()) == 2 * runs * n_figures
