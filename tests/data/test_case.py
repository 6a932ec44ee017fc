"""A bank's case (opwb/data/case.py): the bundled one, a second bank's, and every way a case
file can be wrong, each named by its key."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import opwb
from opwb.data.case import (
    CASE_ENV,
    CASE_KEYS,
    REQUIRED_FILES,
    Case,
    Incident,
    bundled_case,
    load_case,
    open_case,
    parse_krw,
)
from opwb.data.errors import DataError
from opwb.data.schema import KOREAN_COLUMNS
from opwb.data.taxonomy import BUSINESS_LINE_CODES, EVENT_TYPE_CODES
from tests.cases import (BUSINESS_LINE_NAMES, EVENT_TYPE_NAMES, SMALL_EVENTS,
                         bundled_case_without)

MINIMAL = 'losses = "l.xlsx"\nprogramme = "p.xlsx"\nquotes = "q.xlsx"\n'
"""The smallest case file: the three required files (empty placeholders: load_case checks
that they exist, it does not read them)."""


def write_case(folder: Path, text: str, files: tuple[str, ...] = ("l.xlsx", "p.xlsx",
                                                                 "q.xlsx")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        (folder / name).write_bytes(b"")
    path = folder / "case.toml"
    path.write_text(text, encoding="utf-8")
    return path


def key_error(path: Path) -> DataError:
    """The DataError load_case raises on ``path`` (fails the test when it raises none)."""
    with pytest.raises(DataError) as info:
        load_case(path)
    return info.value


def assert_names_key(err: DataError, key: str, path: Path) -> None:
    assert len(err.problems) == 1, str(err)
    problem = err.problems[0]
    # the key, or the entry inside its section ("key 'columns.사건번호'")
    assert problem.where in (f"key '{key}'",) or problem.where.startswith(f"key '{key}."), str(err)
    assert problem.source == str(path)
    assert problem.where in str(err) and str(path) in str(err)


def copy_case(case_file: Path, dest: Path) -> Path:
    """A copy of a case's folder at ``dest`` (tests never touch the session's folder)."""
    shutil.copytree(case_file.parent, dest)
    return dest / case_file.name


def _default(f: dataclasses.Field):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


# -- the bundled case -------------------------------------------------------------------

def test_bundled_case_values():
    case = bundled_case()
    assert case.name == "예시은행"
    assert case.threshold == 1e7
    assert case.observation == ("2002-01-01", "2006-12-31")
    assert case.as_of == pd.Timestamp("2006-12-31")
    assert case.bond_policy == "BBB"
    assert case.incidents == (Incident("CD-2005-001", "CD 사건"),)
    assert case.severity_cap == 1e12
    assert case.n_years == 100_000
    assert case.seed == 2005
    assert case.max_premium == 70e8
    assert case.appetite == {"max_premium": 70e8, "max_retained_if_1in100": None,
                             "max_net_capital": None}
    assert case.path("losses") == opwb.data_path("losses.csv").resolve()
    assert all(p.is_file() for p in case.paths("models"))


def test_bundled_case_is_the_defaults():
    """Every setting that does not name a file has the bundled bank's value as its default,
    so a bank's case file need only hold what differs. Not ``data_note`` either: it is the
    footnote of the bundled *files* (it cites the CD incident's 650억원), so another bank that
    names no note must get none rather than the bundled one (see the next test). Nor the
    bank's size: another bank must state its own (tests/data/test_case_external.py). Nor H
    and w, the level above which the bundled external file is taken as complete and the
    weight its selection of famous losses gets: statements about that file, which another
    bank's external data (e.g. a consortium's complete record) need not share."""
    case = bundled_case()
    about_files = {k for k, f in CASE_KEYS.items() if f.metadata["path"]} | {
        "data_note", "bank_size", "external_threshold", "external_weight"}
    differ = {k: (getattr(case, k), _default(f)) for k, f in CASE_KEYS.items()
              if k not in about_files and getattr(case, k) != _default(f)}
    assert not differ, f"bundled value != dataclass default: {differ}"
    assert case == Case(root=case.root, source=case.source,
                        **{k: getattr(case, k) for k in about_files})


def test_data_note_of_the_bundled_files_is_not_inherited(second_bank_case, tmp_path):
    assert bundled_case().data_note
    path = copy_case(second_bank_case, tmp_path / "bank")
    text = path.read_text(encoding="utf-8")
    path.write_text("\n".join(line for line in text.splitlines()
                              if not line.startswith("data_note")), encoding="utf-8")
    assert load_case(path).data_note is None


# -- the second bank ---------------------------------------------------------------------

def test_second_bank_values(second_bank_case):
    case = load_case(second_bank_case)
    folder = second_bank_case.parent.resolve()
    assert case.name == "한누리은행"
    assert case.root == folder and case.source == str(second_bank_case)
    assert case.path("losses") == folder / "losses.xlsx"
    assert case.path("programme") == folder / "programme.xlsx"
    assert case.path("quotes") == folder / "quotes.xlsx"
    assert case.external is None and case.models == () and case.path("external") is None
    assert case.sheet == "손실사건" and case.header_row == 4
    assert case.threshold == 5e6
    assert case.observation == ("2000-01-01", "2007-03-31")
    assert case.bond_policy == "FIB-2006"
    assert case.incidents == ()
    assert case.valuation_date == "2007-03-31"
    assert case.n_years == 20_000 and case.seed == 7
    assert case.data_note == "데이터: 한누리은행 손실사건 DB (2000-01 – 2007-03)"
    assert case.max_premium == 100e8
    assert case.appetite == {"max_premium": 100e8, "max_retained_if_1in100": None,
                             "max_net_capital": None}
    assert case.mapping("columns") == KOREAN_COLUMNS
    assert case.mapping("event_types") == EVENT_TYPE_NAMES
    assert set(case.mapping("event_types").values()) == set(EVENT_TYPE_CODES)
    assert case.mapping("business_lines") == BUSINESS_LINE_NAMES
    assert set(case.mapping("business_lines").values()) == set(BUSINESS_LINE_CODES)
    assert case.mapping("business_lines")["기업금융"] == "CF"  # not opwb's 기업금융 (CB)
    assert case.mapping("business_lines")["상업은행"] == "CB"
    # what the file leaves out takes the bundled bank's value
    assert case.severity_cap == 1e12 and case.cost_of_capital == 0.10
    assert case.deductibles is None and case.limits is None


def test_second_bank_programme_and_quotes_load(second_bank_case):
    from opwb.scenarios.alternatives import load_alternatives

    case = load_case(second_bank_case)
    prog = case.load_programme()
    bond = prog.set_index("policy_id").loc[case.bond_policy]
    assert (bond["limit"], bond["deductible"], bond["premium"]) == (100e8, 10e8, 20e8)
    assert bond["aggregate_limit"] == float("inf")
    as_of = pd.Timestamp(case.valuation_date)
    assert ((prog["inception"] <= as_of) & (prog["expiry"] > as_of)).all()
    quotes = load_alternatives(case.path("quotes"))
    assert [(q.limit, q.deductible, q.premium) for q in quotes] == [
        (300e8, 20e8, 35e8), (700e8, 30e8, 55e8), (1500e8, 50e8, 90e8)]


def test_second_bank_losses_load(second_bank_case):
    """Needs opwb.data.losses.load_losses(header_row=, event_types=, business_lines=,
    observation=), which Case.load_losses passes."""
    case = load_case(second_bank_case)
    df = case.load_losses()
    assert 1_400 <= len(df) <= 1_600
    assert (df["gross_loss"] >= 5e6).all()
    assert set(df["event_type"]) == set(EVENT_TYPE_CODES)
    assert set(df["business_line"]) == set(BUSINESS_LINE_CODES)
    assert (df["event_type"].value_counts() >= 8).all()
    assert "CD-2005-001" not in set(df["event_id"])
    assert df["event_id"].str.startswith("HN-").all()
    report = df.attrs["load_report"]
    assert report.threshold == 5e6
    assert report.below_threshold == SMALL_EVENTS
    assert report.rows_read == len(df) + SMALL_EVENTS
    # the bank's labels win over opwb's Korean names: its 기업금융 is CF, 상업은행 CB
    ws = openpyxl.load_workbook(case.path("losses"), read_only=True)["손실사건"]
    raw = {r[0]: r[2] for r in ws.iter_rows(min_row=5, values_only=True)
           if r[6] is not None and r[6] >= 5e6}
    by_id = dict(zip(df["event_id"], df["business_line"]))
    assert {i for i, bl in raw.items() if bl == "기업금융"} == \
        {i for i, bl in by_id.items() if bl == "CF"}
    assert {i for i, bl in raw.items() if bl == "상업은행"} == \
        {i for i, bl in by_id.items() if bl == "CB"}


# -- every way a case file can be wrong names its key ------------------------------------

@pytest.mark.parametrize("text, key, listed", [
    ("thresold = 5000000\n", "thresold", "threshold"),
    ('max_premium = "10억"\n', "max_premium", "bond_policy"),  # belongs in [appetite]
    ('[apetite]\nmax_premium = "10억"\n', "apetite", "appetite"),
    ('[appetite]\nmax_premum = "10억"\n', "appetite.max_premum", "max_premium"),
    ('[appetite]\nn_years = 10\n', "appetite.n_years", "max_net_capital"),
    ('[grid]\nlimit = ["100억"]\n', "grid.limit", "limits"),
], ids=["thresold", "max_premium", "apetite", "appetite.max_premum", "appetite.n_years",
        "grid.limit"])
def test_unknown_key_is_named(tmp_path, text, key, listed):
    path = write_case(tmp_path, MINIMAL + text)
    err = key_error(path)
    assert_names_key(err, key, path)
    assert "unknown key" in str(err) and listed in str(err)


@pytest.mark.parametrize("key", REQUIRED_FILES)
def test_missing_required_file_key_is_named(tmp_path, key):
    text = "".join(line + "\n" for line in MINIMAL.splitlines() if not line.startswith(key))
    path = write_case(tmp_path, text)
    err = key_error(path)
    assert_names_key(err, key, path)
    assert "missing" in str(err)


@pytest.mark.parametrize("key, line", [
    ("losses", 'losses = "nowhere.xlsx"'),
    ("programme", 'programme = "nowhere.xlsx"'),
    ("quotes", 'quotes = "nowhere.xlsx"'),
    ("external", 'external = "nowhere.csv"'),
    ("models", 'models = ["nowhere.json"]'),
    ("scenarios", 'scenarios = "nowhere.csv"'),
    ("beicf", 'beicf = "nowhere.csv"'),
], ids=["losses", "programme", "quotes", "external", "models", "scenarios", "beicf"])
def test_path_to_missing_file_is_named(tmp_path, key, line):
    text = "".join((line if ln.startswith(key) else ln) + "\n" for ln in MINIMAL.splitlines())
    if key not in REQUIRED_FILES:
        text += line + "\n"
    path = write_case(tmp_path, text)
    err = key_error(path)
    assert_names_key(err, key, path)
    assert "nowhere" in str(err) and "does not exist" in str(err)


_WRONG_KINDS = [
    ('threshold = "abc"', "threshold"),
    ("threshold = -5", "threshold"),
    ("threshold = true", "threshold"),
    ('observation = ["2007-03-31", "2000-01-01"]', "observation"),
    ('observation = ["2007-03-31", "2007-03-31"]', "observation"),
    ('observation = "2000-01-01"', "observation"),
    ('observation = ["2000-01-01", "31/03/2007"]', "observation"),
    ("incidents = [3]", "incidents"),
    ('incidents = "CD-2005-001"', "incidents"),
    ('incidents = ["E1", "E1"]', "incidents"),
    ('incidents = [{label = "no id"}]', "incidents"),
    ('valuation_date = "2007-3-31"', "valuation_date"),
    ("n_years = 0", "n_years"),
    ("n_years = 1.5", "n_years"),
    ("seed = -1", "seed"),
    ("cost_of_capital = 10", "cost_of_capital"),
    ('header_row = "4"', "header_row"),
    ("sheet = 0", "sheet"),
    ('bond_policy = ""', "bond_policy"),
    ('severity_cap = "0"', "severity_cap"),
    ('[appetite]\nmax_premium = "lots"', "appetite.max_premium"),
    ("[grid]\nlimits = []", "grid.limits"),
    ('[grid]\ndeductibles = ["5억", "x"]', "grid.deductibles"),
    ('[event_types]\n"내부사기" = 3', "event_types"),
    ('columns = "사건번호"', "columns"),
    ('appetite = "70억"', "appetite"),
]


@pytest.mark.parametrize("text, key", _WRONG_KINDS, ids=[k for _, k in _WRONG_KINDS])
def test_wrong_kind_is_named(tmp_path, text, key):
    path = write_case(tmp_path, MINIMAL + text + "\n")
    assert_names_key(key_error(path), key, path)


@pytest.mark.parametrize("text, key, bad", [
    ('[event_types]\n"내부사기" = "XX"', "event_types", "XX"),
    ('[business_lines]\n"기업금융" = "CORP"', "business_lines", "CORP"),
    ('[columns]\n"사건번호" = "event_no"', "columns", "event_no"),
], ids=["event_types", "business_lines", "columns"])
def test_mapping_to_an_unknown_code_is_named(tmp_path, text, key, bad):
    """A mapping's values are opwb's codes and columns: a wrong one is the case file's
    problem, named by its key when the case is read (not later, by the loss loader,
    without the case file)."""
    path = write_case(tmp_path, MINIMAL + text + "\n")
    err = key_error(path)
    assert_names_key(err, key, path)
    assert bad in str(err)


def test_case_file_as_windows_editors_save_it(tmp_path):
    """Notepad (before Windows 10 1903) saves UTF-8 with a byte-order mark and CRLF line
    ends; the loss files may carry a BOM, so may the case file. TOML dates unquoted."""
    text = (MINIMAL + 'name = "한누리은행"\nvaluation_date = 2007-03-31\n'
            "observation = [2000-01-01, 2007-03-31]\n")
    path = write_case(tmp_path, "")
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    case = load_case(path)
    assert case.name == "한누리은행" and case.valuation_date == "2007-03-31"
    assert case.observation == ("2000-01-01", "2007-03-31")


def test_not_a_case_file(tmp_path):
    with pytest.raises(DataError, match="no such case file"):
        load_case(tmp_path / "absent.toml")
    path = write_case(tmp_path, MINIMAL + "threshold = \n")
    with pytest.raises(DataError, match="not a valid TOML") as info:
        load_case(path)
    assert info.value.problems[0].source == str(path)


# -- amounts -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, krw", [
    ("500만", 5e6), ("1,500억", 1.5e11), ("1조", 1e12), ("70억", 7e9), ("70억원", 7e9),
    ("5000000", 5e6), ("1.5억", 1.5e8), (" 3천 ", 3e3), (5_000_000, 5e6), (2.5e9, 2.5e9),
])
def test_parse_krw(text, krw):
    assert parse_krw(text) == krw


@pytest.mark.parametrize("bad", ["abc", "", "5백만", "1.2.3억", "억", "-5억", True,
                                 float("inf"), float("nan"), None, [1]])
def test_parse_krw_rejects(bad):
    with pytest.raises(ValueError):
        parse_krw(bad)


def test_amounts_with_korean_units_in_a_case_file(tmp_path):
    path = write_case(tmp_path, MINIMAL + 'threshold = "500만"\nseverity_cap = "1조"\n'
                      '[appetite]\nmax_premium = "1,500억"\nmax_net_capital = "1조"\n'
                      'max_retained_if_1in100 = "none"\n'
                      '[grid]\nlimits = ["1,500억", "300억", "300억"]\n'
                      'deductibles = ["500만", 1000000000]\n')
    case = load_case(path)
    assert case.threshold == 5e6 and case.severity_cap == 1e12
    assert case.max_premium == 1.5e11 and case.max_net_capital == 1e12
    assert case.max_retained_if_1in100 is None
    assert case.limits == (3e10, 1.5e11)          # sorted, duplicates dropped
    assert case.deductibles == (5e6, 1e9)
    path = write_case(tmp_path, MINIMAL + 'severity_cap = "none"\n')
    assert load_case(path).severity_cap is None


# -- paths -------------------------------------------------------------------------------

def test_paths_resolve_against_the_case_folder(second_bank_case, tmp_path, monkeypatch):
    folder = second_bank_case.parent.resolve()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    case = load_case(second_bank_case)
    assert case.path("losses") == folder / "losses.xlsx" and case.path("losses").is_file()
    # a relative path to the case file, then another working directory
    monkeypatch.chdir(folder.parent)
    case = load_case(Path(folder.name) / "case.toml")
    assert case.root == folder and case.root.is_absolute()
    monkeypatch.chdir(elsewhere)
    for key in REQUIRED_FILES:
        assert case.path(key).is_file() and case.path(key).parent == folder
    assert case.load_programme()["policy_id"].iloc[0] == "FIB-2006"


def test_subfolder_paths(tmp_path):
    write_case(tmp_path / "data", "", files=("l.xlsx", "p.xlsx", "q.xlsx"))
    path = write_case(tmp_path, 'losses = "data/l.xlsx"\nprogramme = "data/p.xlsx"\n'
                      'quotes = "data/q.xlsx"\n', files=())
    assert load_case(path).path("quotes") == (tmp_path / "data" / "q.xlsx").resolve()


# -- fingerprint -------------------------------------------------------------------------

def test_fingerprint_is_settings_and_file_bytes_not_folders(second_bank_case, tmp_path):
    original = load_case(second_bank_case)
    assert original.fingerprint() == load_case(second_bank_case).fingerprint()
    copy = copy_case(second_bank_case, tmp_path / "another folder" / "bank")
    copied = load_case(copy)
    assert copied.root != original.root
    assert copied.fingerprint() == original.fingerprint()

    # a comment or the keys' order is not a setting
    text = copy.read_text(encoding="utf-8")
    lines = text.splitlines()
    copy.write_text("# 검토용 사본\n" + "\n".join([lines[2], lines[1], *lines[3:]]) + "\n",
                    encoding="utf-8")
    assert load_case(copy).fingerprint() == original.fingerprint()

    # a setting
    copy.write_text(text.replace("seed = 7", "seed = 8"), encoding="utf-8")
    assert load_case(copy).fingerprint() != original.fingerprint()
    assert original.replace(seed=8).fingerprint() == load_case(copy).fingerprint()
    assert original.replace(max_premium=90e8).fingerprint() != original.fingerprint()
    copy.write_text(text, encoding="utf-8")
    assert load_case(copy).fingerprint() == original.fingerprint()

    # a file's bytes
    wb = openpyxl.load_workbook(copy.parent / "quotes.xlsx")
    wb.active["D2"] = 36e8
    wb.save(copy.parent / "quotes.xlsx")
    assert load_case(copy).fingerprint() != original.fingerprint()


def test_second_bank_files_are_deterministic(second_bank_case, tmp_path):
    from tests.cases import write_second_bank

    again = write_second_bank(tmp_path / "again")
    for name in ("case.toml", "losses.xlsx", "programme.xlsx", "quotes.xlsx"):
        assert (again.parent / name).read_bytes() == \
            (second_bank_case.parent / name).read_bytes(), name
    assert load_case(again).fingerprint() == load_case(second_bank_case).fingerprint()


def test_fingerprints_of_the_two_banks_differ(second_bank_case):
    assert bundled_case().fingerprint() != load_case(second_bank_case).fingerprint()
    assert bundled_case().fingerprint() == bundled_case().fingerprint()


# -- open_case ---------------------------------------------------------------------------

def test_open_case(second_bank_case, monkeypatch):
    monkeypatch.delenv(CASE_ENV, raising=False)
    assert open_case(None) == bundled_case()
    assert open_case() == bundled_case()
    assert open_case(second_bank_case).name == "한누리은행"
    assert open_case(str(second_bank_case)).name == "한누리은행"

    monkeypatch.setenv(CASE_ENV, str(second_bank_case))
    assert open_case(None) == load_case(second_bank_case)
    bundled = opwb.data_path("case.toml")
    assert open_case(bundled) == bundled_case()           # a given path wins over the env

    monkeypatch.setenv(CASE_ENV, str(second_bank_case.parent / "absent.toml"))
    with pytest.raises(DataError, match="no such case file"):
        open_case(None)


def test_public_names():
    assert opwb.load_case is load_case and opwb.bundled_case is bundled_case
    assert opwb.open_case is open_case and opwb.Case is Case


# -- a setting is declared in one place ----------------------------------------------------

def test_a_setting_is_one_field():
    """Adding a setting is adding one field of Case: its parser and doc in the field's
    metadata make it a key of case files (CASE_KEYS), a part of settings() and of the
    fingerprint; internal fields (the folder, the file read, the keys it states) are none of
    these."""
    fields = dataclasses.fields(Case)
    settings = [f for f in fields if not f.metadata.get("internal")]
    assert [f.name for f in fields if f.metadata.get("internal")] == ["root", "source",
                                                                        "stated"]
    assert [f.name for f in settings] == list(CASE_KEYS)
    sections = {"appetite", "grid", "columns", "event_types", "business_lines"}
    for f in settings:
        meta = f.metadata
        assert callable(meta.get("parse")), f.name
        assert isinstance(meta.get("doc"), str) and meta["doc"].strip(), f.name
        assert meta.get("section") is None or meta["section"] in sections, f.name
        assert isinstance(meta.get("path"), bool), f.name
        assert f.default is not dataclasses.MISSING or \
            f.default_factory is not dataclasses.MISSING, f"{f.name} has no default"
    assert set(bundled_case().settings()) == set(CASE_KEYS)
    assert set(REQUIRED_FILES) <= {k for k, f in CASE_KEYS.items() if f.metadata["path"]}


# -- which settings a case states (issue 21 item 6: a default is never shown as the bank's) --

def test_a_case_records_the_settings_it_states(tmp_path, second_bank_case):
    full = bundled_case()
    case = load_case(bundled_case_without(("severity_cap",), tmp_path / "bank"))
    assert not full.is_default("severity_cap") and case.is_default("severity_cap")
    assert case.severity_cap == full.severity_cap == _default(CASE_KEYS["severity_cap"])
    assert case.stated == full.stated - {"severity_cap"}
    assert all(not full.is_default(k) for k in ("name", "threshold", "seed", "losses"))
    assert full.is_default("max_net_capital")             # not in data/case.toml
    # stating the default changes no figure: same settings, same fingerprint
    assert case.settings() == full.settings() and case.fingerprint() == full.fingerprint()
    assert not case.replace(severity_cap=5e11).is_default("severity_cap")
    assert case.replace(seed=3).is_default("severity_cap")
    assert load_case(second_bank_case).is_default("severity_cap")   # states no cap
    with pytest.raises(KeyError, match="not a case setting"):
        case.is_default("severity")
