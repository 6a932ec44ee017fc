"""Bundled data: the seeded loss generator, losses.csv, insurance_programme.csv,
external_losses.csv.

Sources of the expected values: the public CD-incident figures and the seed's 2005 BBB
(slide 3-3; DOMAIN.md), Basel II paras 677-679 for the qualifying standards, the
per-occurrence layer formula min(max(X - d, 0), L); statistical checks use tolerances from
Monte Carlo / Poisson standard errors on fixed seeds.
"""
from __future__ import annotations

import csv
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opwb import data_path
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.data.schema import COLLECTION_THRESHOLD, LOSS_COLUMNS, PROGRAMME_COLUMNS, RATING_SCALE
from opwb.data.synth import (
    DEFAULT_SEED,
    TRUE_MODEL,
    cell_frequencies,
    generate_losses,
    main,
    policy_year_start,
    sample_severity,
    write_losses,
)
from opwb.data.taxonomy import BUSINESS_LINE_CODES, EVENT_TYPE_CODES

EOK = 100_000_000
CD_ID = "CD-2005-001"
VALUATION = pd.Timestamp("2006-12-31")


@pytest.fixture(scope="module")
def losses() -> pd.DataFrame:
    return load_losses(data_path("losses.csv"), threshold=COLLECTION_THRESHOLD)


@pytest.fixture(scope="module")
def programme() -> pd.DataFrame:
    return load_programme(data_path("insurance_programme.csv"))


@pytest.fixture(scope="module")
def synthetic(losses) -> pd.DataFrame:
    return losses[losses["event_id"] != CD_ID]


# -- losses.csv: file, regeneration, structure ------------------------------------------

def test_regenerating_gives_identical_bytes(tmp_path):
    out = write_losses(tmp_path / "losses.csv", seed=DEFAULT_SEED)
    assert out.read_bytes() == data_path("losses.csv").read_bytes()


def test_cli_writes_the_same_file(tmp_path, capsys):
    main(["--out", str(tmp_path / "x.csv")])
    assert (tmp_path / "x.csv").read_bytes() == data_path("losses.csv").read_bytes()
    assert "events" in capsys.readouterr().out


def test_seed_matters():
    a, b = generate_losses(DEFAULT_SEED + 1), generate_losses(DEFAULT_SEED + 1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(generate_losses(DEFAULT_SEED))


def test_file_format_is_plain_utf8_with_integers_and_iso_dates():
    raw = data_path("losses.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    with data_path("losses.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == LOSS_COLUMNS
    idx = {c: i for i, c in enumerate(rows[0])}
    for row in rows[1:]:
        for col in ("gross_loss", "insurance_recovery", "other_recovery"):
            assert re.fullmatch(r"\d+", row[idx[col]]), (row[0], col, row[idx[col]])
        for col in ("occurrence_date", "discovery_date"):
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[idx[col]]), (row[0], col)
        assert re.fullmatch(r"(\d{4}-\d{2}-\d{2})?", row[idx["booking_date"]])


def test_loads_cleanly_through_the_loader(losses):
    rep = losses.attrs["load_report"]
    n_lines = len(data_path("losses.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert len(losses) == n_lines == rep.rows_read == rep.rows_loaded
    assert rep.below_threshold == 0
    assert list(losses.columns) == list(LOSS_COLUMNS)


def test_all_cells_years_and_threshold(losses):
    cells = set(zip(losses["event_type"], losses["business_line"]))
    assert cells == {(e, b) for e in EVENT_TYPE_CODES for b in BUSINESS_LINE_CODES}
    assert set(losses["occurrence_date"].dt.year) == {2002, 2003, 2004, 2005, 2006}
    assert (losses["gross_loss"] >= COLLECTION_THRESHOLD).all()


def test_dates_ids_and_order(losses):
    assert losses["event_id"].is_unique
    assert losses["occurrence_date"].is_monotonic_increasing
    assert (losses["occurrence_date"] >= pd.Timestamp("2002-01-01")).all()
    assert (losses["discovery_date"] >= losses["occurrence_date"]).all()
    assert (losses["discovery_date"] <= VALUATION).all()
    booked = losses["booking_date"].notna()
    assert (losses.loc[booked, "booking_date"] >= losses.loc[booked, "discovery_date"]).all()
    assert (losses.loc[booked, "booking_date"] <= VALUATION).all()
    # synthetic ids count up within each occurrence year in file order
    syn = losses[losses["event_id"] != CD_ID]
    for year, grp in syn.groupby(syn["occurrence_date"].dt.year):
        expected = [f"OR-{year}-{i:04d}" for i in range(1, len(grp) + 1)]
        assert grp["event_id"].tolist() == expected


def test_fraud_is_discovered_later_than_physical_damage(synthetic):
    lag = (synthetic["discovery_date"] - synthetic["occurrence_date"]).dt.days
    by_type = lag.groupby(synthetic["event_type"]).mean()
    assert by_type["IF"] > 5 * by_type["DPA"]


# -- the CD incident -------------------------------------------------------------------

def test_cd_incident_as_recorded_publicly(losses, programme):
    cd = losses[losses["event_id"] == CD_ID]
    assert len(cd) == 1
    row = cd.iloc[0]
    assert (row["event_type"], row["business_line"]) == ("IF", "RB")
    assert row["discovery_date"] == pd.Timestamp("2005-07-26")
    assert row["gross_loss"] == 650 * EOK and row["insurance_recovery"] == 50 * EOK
    assert row["other_recovery"] == 0 and row["policy_id"] == "BBB"
    bbb = programme.set_index("policy_id").loc["BBB"]
    # the BBB's layer reproduces the recorded recovery: min(max(650 - 5, 0), 50) = 50억
    layer = min(max(row["gross_loss"] - bbb["deductible"], 0), bbb["limit"]) * bbb["coinsurance"]
    assert layer == row["insurance_recovery"]


def test_cd_is_the_only_real_event(losses):
    real = ~losses["description"].str.startswith("[합성]")
    assert losses.loc[real, "event_id"].tolist() == [CD_ID]
    assert losses.loc[real, "description"].item().startswith("[실제 공개 사건]")


# -- recoveries against the programme ---------------------------------------------------

def _anniversary(inception: pd.Timestamp, date: pd.Timestamp) -> pd.Timestamp:
    after = (date.month, date.day) >= (inception.month, inception.day)
    year = date.year if after else date.year - 1
    return pd.Timestamp(year=year, month=inception.month, day=inception.day)


def test_policy_year_start_closed_cases():
    inc = pd.Timestamp("2006-11-01")
    assert policy_year_start(inc, pd.Timestamp("2005-07-26")) == pd.Timestamp("2004-11-01")
    assert policy_year_start(inc, pd.Timestamp("2006-11-01")) == pd.Timestamp("2006-11-01")
    assert policy_year_start(inc, pd.Timestamp("2006-10-31")) == pd.Timestamp("2005-11-01")
    assert policy_year_start(inc, pd.Timestamp("2008-01-15")) == pd.Timestamp("2007-11-01")


def test_recoveries_never_exceed_gross(losses):
    total = losses["insurance_recovery"] + losses["other_recovery"]
    assert (total <= losses["gross_loss"]).all()
    assert ((losses["insurance_recovery"] > 0) == (losses["policy_id"] != "")).all()
    assert (losses["other_recovery"] > 0).sum() > 0


def test_recoveries_follow_layer_and_aggregate_limits(losses, programme):
    prog = programme.set_index("policy_id")
    paid = losses[losses["policy_id"] != ""].copy()
    assert set(paid["policy_id"]) <= set(prog.index)
    for pid, grp in paid.groupby("policy_id"):
        pol = prog.loc[pid]
        assert (pol[["cover_" + e for e in grp["event_type"].unique()]] > 0).all(), pid
        trig = "discovery_date" if pol["claims_basis"] == "claims-made" else "occurrence_date"
        grp = grp.assign(py=[_anniversary(pol["inception"], d) for d in grp[trig]],
                         first=(grp["event_id"] != CD_ID), pos=range(len(grp)))
        for _, year in grp.groupby("py"):
            remaining = pol["aggregate_limit"]
            for _, ev in year.sort_values(["first", trig, "pos"]).iterrows():
                layer = min(max(ev["gross_loss"] - pol["deductible"], 0.0), pol["limit"])
                expected = min(layer * pol["coinsurance"], remaining)
                assert abs(ev["insurance_recovery"] - expected) <= 1.0, (ev["event_id"], pid)
                remaining -= ev["insurance_recovery"]
            assert remaining >= 0


def test_wording_shares_match_the_programme(losses, programme):
    """Among events with a positive layer under policy p, and in policy years whose
    aggregate never bound, the share paid by p is p's cover share (binomial, 4 sd)."""
    prog = programme.set_index("policy_id")
    syn = losses[losses["event_id"] != CD_ID]
    obs = exp = var = 0.0
    for pid, pol in prog.iterrows():
        trig = "discovery_date" if pol["claims_basis"] == "claims-made" else "occurrence_date"
        share = syn["event_type"].map(lambda e: pol["cover_" + e])
        eligible = (share > 0) & (syn["gross_loss"] > pol["deductible"])
        py = syn[trig].map(lambda d: _anniversary(pol["inception"], d))
        used = syn[syn["policy_id"] == pid].groupby(py)["insurance_recovery"].sum()
        slack = pol["aggregate_limit"] - pol["limit"] * pol["coinsurance"]
        unbound = py.map(lambda y: used.get(y, 0.0) <= slack)
        sel = eligible & unbound
        obs += (syn.loc[sel, "policy_id"] == pid).sum()
        exp += share[sel].sum()
        var += (share[sel] * (1 - share[sel])).sum()
    assert exp > 30
    assert abs(obs - exp) <= 4 * math.sqrt(var), (obs, exp, var)


# -- the true model ----------------------------------------------------------------------

def test_true_model_structure():
    assert tuple(TRUE_MODEL) == EVENT_TYPE_CODES
    cells = cell_frequencies()
    assert cells.shape == (7, 8) and (cells.to_numpy() > 0).all()
    for et, m in TRUE_MODEL.items():
        assert sum(m.line_shares.values()) == pytest.approx(1.0)
        assert cells.loc[et].sum() == pytest.approx(m.frequency)
    assert 100 <= cells.to_numpy().sum() <= 250


@pytest.mark.parametrize("event_type", EVENT_TYPE_CODES)
def test_sample_severity_is_conditional_on_threshold(event_type):
    m, h = TRUE_MODEL[event_type], float(COLLECTION_THRESHOLD)
    x = sample_severity(m, 4000, np.random.default_rng(7))
    assert (x > h).all()
    sf_h = m.severity.sf(h)
    res = stats.kstest(x, lambda v: 1 - m.severity.sf(v) / sf_h)
    assert res.pvalue > 1e-3


@pytest.mark.parametrize("event_type", EVENT_TYPE_CODES)
def test_bundled_losses_follow_the_true_model(synthetic, event_type):
    m, h = TRUE_MODEL[event_type], float(COLLECTION_THRESHOLD)
    x = synthetic.loc[synthetic["event_type"] == event_type, "gross_loss"].to_numpy()
    # annual count: Poisson(5 λ) over five years, 4 sd
    assert abs(len(x) - 5 * m.frequency) <= 4 * math.sqrt(5 * m.frequency)
    sf_h = m.severity.sf(h)
    assert stats.kstest(x, lambda v: 1 - m.severity.sf(v) / sf_h).pvalue > 1e-3


def _annual_totals(n_years: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    totals, counts = np.zeros(n_years), np.zeros(n_years, dtype=np.int64)
    for m in TRUE_MODEL.values():
        n = rng.poisson(m.frequency, n_years)
        x = sample_severity(m, int(n.sum()), rng)
        totals += np.bincount(np.repeat(np.arange(n_years), n), weights=x, minlength=n_years)
        counts += n
    return totals, counts


@pytest.mark.slow
def test_total_var_is_of_the_order_of_a_trillion_won():
    n, alpha = 200_000, 0.999
    totals, counts = _annual_totals(n, seed=11)
    lam = sum(m.frequency for m in TRUE_MODEL.values())
    assert abs(counts.mean() - lam) <= 4 * math.sqrt(lam / n)
    # distribution-free CI of the 99.9% quantile from order statistics (4 sd of the rank)
    srt = np.sort(totals)
    k, sd = n * alpha, math.sqrt(n * alpha * (1 - alpha))
    lo, hi = srt[int(k - 4 * sd)], srt[int(math.ceil(k + 4 * sd))]
    assert 3e11 <= lo and hi <= 3e12, (lo, srt[int(k)], hi)


# -- insurance_programme.csv -------------------------------------------------------------

def test_programme_header_and_bbb_terms(programme):
    with data_path("insurance_programme.csv").open(encoding="utf-8", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == PROGRAMME_COLUMNS
    bbb = programme.set_index("policy_id").loc["BBB"]
    assert (bbb["limit"], bbb["deductible"], bbb["premium"]) == (50 * EOK, 5 * EOK, 16 * EOK)
    assert bbb["insurer"] == "LG화재"
    assert RATING_SCALE.index(bbb["insurer_rating"]) <= RATING_SCALE.index("A")
    assert bbb["cover_IF"] > 0 and bbb["coinsurance"] == 1.0


def _failures(pol: pd.Series) -> set[str]:
    out = set()
    if RATING_SCALE.index(pol["insurer_rating"]) > RATING_SCALE.index("A"):
        out.add("rating")
    if pol["cancellation_notice_days"] < 90:
        out.add("notice")
    if pol["affiliate"] and not pol["reinsured_outside"]:
        out.add("independence")
    if pol["supervisory_exclusion"]:
        out.add("exclusion")
    if pol["expiry"] < pol["inception"] + pd.DateOffset(years=1):
        out.add("term")
    return out


def test_programme_exercises_the_qualifying_standards(programme):
    fails = {pid: _failures(pol) for pid, pol in programme.set_index("policy_id").iterrows()}
    reasons = set().union(*fails.values())
    assert {"rating", "notice", "independence"} <= reasons
    assert not fails["BBB"]
    assert sum(1 for r in fails.values() if not r) >= 2
    residual = (programme["expiry"] - VALUATION).dt.days
    assert (residual <= 90).any() and ((residual > 90) & (residual < 365)).any()
    assert residual.nunique() == len(programme)


def test_programme_covers_and_minimum_limits(programme):
    prog = programme.set_index("policy_id")
    for et in EVENT_TYPE_CODES:
        assert prog["cover_" + et].sum() <= 1.0 + 1e-12, et  # disjoint wordings
    # legal minimum cover 20억 for electronic-finance and personal-data-leak liability
    assert prog.loc["EFT", "limit"] >= 20 * EOK and prog.loc["PDL", "limit"] >= 20 * EOK
    assert prog.loc["EFT", "cover_BDSF"] > 0 and prog.loc["PDL", "cover_CPBP"] > 0
    assert np.isinf(prog["aggregate_limit"]).any()


# -- external_losses.csv -----------------------------------------------------------------

def test_external_losses_are_consistent():
    ext = pd.read_csv(data_path("external_losses.csv"), encoding="utf-8")
    assert list(ext.columns) == ["institution", "country", "year", "event_type",
                                 "description_ko", "currency", "amount_original",
                                 "fx_rate_krw", "amount_krw", "source_note", "size_krw",
                                 "size_basis"]
    sized = ext["size_krw"].notna()          # the institution's size, where comparable
    assert (ext.loc[sized, "size_krw"] > 0).all()
    assert set(ext.loc[sized, "size_basis"]) <= {"gross_income", "revenue", "total_assets"}
    assert ext.loc[~sized, "size_basis"].isna().all()
    assert 12 <= len(ext) <= 20
    assert set(ext["event_type"]) <= set(EVENT_TYPE_CODES)
    assert ext["year"].max() <= 2006
    assert (ext.groupby("currency")["fx_rate_krw"].nunique() == 1).all()
    expected = (ext["amount_original"] * ext["fx_rate_krw"]).round()
    assert (ext["amount_krw"] == expected).all()
    barings = ext[ext["institution"] == "Barings Bank"].iloc[0]
    assert (barings["year"], barings["currency"], barings["amount_original"]) == (
        1995, "GBP", 827_000_000)
