"""Frequency by exposure: an observation window that covers part of a year counts that year
for the part observed (closed forms, simulation, and no change for whole years)."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from opwb.fitting.frequency import (
    FrequencyFit,
    annual_counts,
    dispersion_test,
    fit_frequency,
    year_exposure,
)

WINDOW = ("2000-01-01", "2007-03-31")


def _losses(rows, observation=None) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["event_type", "occurrence_date", "gross_loss"])
    df["occurrence_date"] = pd.to_datetime(df["occurrence_date"])
    if observation is not None:
        df.attrs["observation"] = observation
    return df


# --------------------------------------------------------------------------- exposure
def test_year_exposure_of_a_window_with_a_partial_last_year():
    e = year_exposure(WINDOW)
    assert list(e.index) == list(range(2000, 2008)) and e.index.name == "year"
    assert e.loc[2000] == 1.0                      # 366 / 366: 2000 is a leap year
    assert e.loc[2007] == 90 / 365                 # Jan 1 – Mar 31 of a common year
    assert e.loc[2001:2006].tolist() == [1.0] * 6
    assert float(e.sum()) == pytest.approx(7 + 90 / 365, rel=1e-15)
    assert year_exposure(("2004-07-01", "2004-12-31")).tolist() == [184 / 366]
    assert year_exposure((pd.Timestamp("2006-12-31"), "2007-01-01")).tolist() == [1 / 365,
                                                                                   1 / 365]
    with pytest.raises(ValueError, match="start 2007-01-01 is after its as-of date 2006-12-31"):
        year_exposure(("2007-01-01", "2006-12-31"))
    with pytest.raises(ValueError, match="pair of dates"):
        year_exposure("2007-01-01")


def test_annual_counts_lists_every_year_of_the_window_with_its_exposure():
    df = _losses([("IF", "2000-03-01", 5e7), ("IF", "2007-02-01", 2e7), ("EF", "2001-01-01", 3e7),
                  ("EF", "2006-06-30", 4e7), ("EF", "2007-03-31", 6e7), ("EF", "2004-01-01", 5e6)])
    t = annual_counts(df, threshold=1e7, observation=WINDOW)
    assert list(t.index) == list(range(2000, 2008))
    assert t["IF"].tolist() == [1, 0, 0, 0, 0, 0, 0, 1]
    assert t["EF"].tolist() == [0, 1, 0, 0, 0, 0, 1, 1]   # 2004's loss is below 1e7
    assert t.loc[2003].tolist() == [0, 0]                 # no loss in 2003: still a row
    e = t.attrs["exposure"]
    assert list(e.index) == list(t.index) and e.loc[2007] == 90 / 365 and e.loc[2000] == 1.0
    # the window stored by the loader is the default; False ignores it
    df.attrs["observation"] = WINDOW
    pd.testing.assert_series_equal(annual_counts(df, threshold=1e7).attrs["exposure"], e)
    plain = annual_counts(df, threshold=1e7, observation=False)
    assert list(plain.index) == list(range(2000, 2008))   # first to last loss, each whole
    assert (plain.attrs["exposure"] == 1.0).all()
    # explicit years within the window take their exposure
    sub = annual_counts(df, threshold=1e7, years=[2006, 2007])
    assert sub.attrs["exposure"].tolist() == [1.0, 90 / 365]
    with pytest.raises(ValueError, match=r"year\(s\) \[2008\] are outside the observation"):
        annual_counts(df, threshold=1e7, years=[2007, 2008])


def test_losses_outside_the_window_are_refused_not_dropped():
    df = _losses([("IF", "1999-12-31", 5e7), ("IF", "2007-04-01", 2e7), ("IF", "2003-05-05", 3e7),
                  ("IF", "2007-05-01", 5e6)])                # below the threshold: not counted
    with pytest.raises(ValueError, match=r"^2 loss\(es\) at or above 10,000,000 KRW have "
                                         r"occurrence_date outside the observation window "
                                         r"2000-01-01 – 2007-03-31"):
        annual_counts(df, threshold=1e7, observation=WINDOW)


def test_whole_years_without_a_window_are_unchanged():
    df = _losses([("IF", "2001-03-01", 5e7), ("IF", "2003-05-01", 2e7), ("EF", "2001-01-01", 5e6)])
    t = annual_counts(df, threshold=1e7)
    assert list(t.index) == [2001, 2002, 2003] and t["IF"].tolist() == [1, 0, 1]
    assert t.attrs["exposure"].tolist() == [1.0, 1.0, 1.0]


# --------------------------------------------------------------------------- Poisson
def test_poisson_with_a_partial_year_by_formula():
    n = np.array([12, 9, 15, 11, 3])
    e = np.array([1, 1, 1, 1, 90 / 365])
    fit = fit_frequency(n, "poisson", exposure=e)
    lam = n.sum() / e.sum()
    assert fit.params["mu"] == lam and fit.se["mu"] == math.sqrt(lam / e.sum())
    assert fit.loglik == pytest.approx(stats.poisson.logpmf(n, lam * e).sum(), rel=1e-14)
    assert fit.aic == pytest.approx(2 - 2 * fit.loglik)
    x2 = float((((n - lam * e) ** 2) / (lam * e)).sum())
    assert (fit.dispersion_stat, fit.dispersion_pvalue) == pytest.approx(
        (x2, stats.chi2.sf(x2, 4)), rel=1e-12)
    assert dispersion_test(n, e) == pytest.approx((x2, stats.chi2.sf(x2, 4)), rel=1e-12)
    assert fit.n_years == 5 and fit.exposure == pytest.approx(4 + 90 / 365)
    assert fit.exposures == tuple(e.tolist())
    # the plain annual mean counts 2007 as a whole year and comes out 15 % low
    assert n.mean() < 0.85 * lam
    assert fit.dist.mean() == pytest.approx(lam)
    assert fit.dist_for(0.25).mean() == pytest.approx(lam / 4)


def test_a_column_of_annual_counts_brings_its_exposure():
    df = _losses([("IF", f"{y}-06-01", 5e7) for y in range(2000, 2007) for _ in range(10)]
                 + [("IF", "2007-02-01", 5e7)] * 2)
    counts = annual_counts(df, threshold=1e7, observation=WINDOW)
    fit = fit_frequency(counts["IF"], "poisson")
    assert fit.params["mu"] == 72 / (7 + 90 / 365)
    assert fit == fit_frequency(counts["IF"].to_numpy(), "poisson",
                                exposure=counts.attrs["exposure"].to_numpy())
    with pytest.raises(ValueError, match="one value per year"):
        fit_frequency([1, 2, 3], exposure=[1, 1])
    with pytest.raises(ValueError, match="finite and > 0"):
        fit_frequency([1, 2, 3], exposure=[1, 0, 1])


def test_dispersion_test_accounts_for_exposure():
    n, e = [100, 100, 100, 25], [1, 1, 1, 0.25]
    assert dispersion_test(n, e) == (0.0, 1.0)       # exactly the Poisson means
    assert dispersion_test(n)[1] < 1e-10              # as whole years: "over-dispersed"
    assert fit_frequency(n, exposure=e).family == "poisson"
    assert fit_frequency(n).family == "negbin"


# --------------------------------------------------------------------------- NB
def _today_negbin(counts):
    """The whole-year negative binomial fit before exposures (μ̂ = n̄, size r profiled)."""
    n = np.asarray(counts, float)
    m = n.mean()

    def nll(mu, r):
        from scipy import special
        return -float(np.sum(special.gammaln(n + r) - special.gammaln(r)
                             - special.gammaln(n + 1) + r * np.log(r / (r + mu))
                             + n * np.log(mu / (r + mu))))
    res = optimize.minimize_scalar(lambda t: nll(m, np.exp(t)), bounds=(-10.0, 15.0),
                                   method="bounded", options={"xatol": 1e-10})
    r = float(np.exp(res.x))
    return m, r, -nll(m, r), math.sqrt((m + m * m / r) / n.size)


def test_all_ones_exposure_is_todays_fit():
    rng = np.random.default_rng(11)
    for k in (5, 12, 40):
        pois = rng.poisson(9.0, k)
        ones = np.ones(k)
        for counts in (pois, stats.nbinom(2.0, 2 / 14).rvs(k, random_state=rng)):
            a, b = fit_frequency(counts), fit_frequency(counts, exposure=ones)
            assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
            assert a.exposures == () and a.exposure == k and a.n_years == k
        # Poisson: today's formulas, bit for bit
        n = pois.astype(float)
        m = n.mean()
        fit = fit_frequency(pois, "poisson", exposure=ones)
        assert fit.params["mu"] == m and fit.se["mu"] == float(np.sqrt(m / k))
        assert fit.loglik == float(stats.poisson.logpmf(n, m).sum())
        d = float(((n - m) ** 2).sum() / m)
        assert (fit.dispersion_stat, fit.dispersion_pvalue) == (d, float(stats.chi2.sf(d, k - 1)))
    # negative binomial: today's algorithm
    counts = stats.nbinom(3.0, 3 / 23).rvs(60, random_state=np.random.default_rng(3))
    fit = fit_frequency(counts, "negbin", exposure=np.ones(60))
    m, r, ll, se_mu = _today_negbin(counts)
    assert fit.params["mu"] == m
    assert fit.params["r"] == pytest.approx(r, rel=1e-9)
    assert fit.loglik == pytest.approx(ll, rel=1e-9) and fit.se["mu"] == pytest.approx(se_mu,
                                                                                    rel=1e-9)


def test_bundled_frequencies_do_not_change():
    """The saved model sets' frequency fits are refitted to the same bits with the bundled
    case's whole-year window."""
    import opwb
    from opwb.data.schema import COLLECTION_THRESHOLD as H
    from opwb.data.synth import CD_INCIDENT
    from opwb.fitting.modelset import (BUNDLED_MODEL_FILES, load_model_set,
                                       losses_fingerprint, models_for)
    losses = opwb.load_losses(opwb.data_path("losses.csv"))
    fp = {name: losses_fingerprint(d, H) for name, d in (
        (BUNDLED_MODEL_FILES[0], losses),
        (BUNDLED_MODEL_FILES[1], losses[losses.event_id != CD_INCIDENT["event_id"]]))}
    windowed = losses.copy()
    windowed.attrs["observation"] = ("2002-01-01", "2006-12-31")
    variants = {BUNDLED_MODEL_FILES[0]: windowed,
                BUNDLED_MODEL_FILES[1]: windowed[windowed.event_id != CD_INCIDENT["event_id"]]}
    for name, data in variants.items():
        assert data.attrs["observation"] == ("2002-01-01", "2006-12-31")
        saved = load_model_set(opwb.data_path(name))
        assert losses_fingerprint(data, H) == fp[name] == saved.fingerprint
        assert models_for(data, H, allow_infinite_mean=True) == saved   # the saved set is used
        counts = annual_counts(data, threshold=H)
        assert (counts.attrs["exposure"] == 1.0).all()
        for cell, m in saved.items():
            refit = fit_frequency(counts[cell], m.frequency.family, threshold=H)
            assert refit.to_dict() == {**m.frequency.to_dict()}, (name, cell)
            assert m.frequency.exposures == () and m.frequency.exposure == 5.0
    # a partial window changes the counts, hence the fingerprint
    for window in [("2002-01-01", "2007-03-31"), ("2001-01-01", "2006-12-31"),
                   ("2002-03-01", "2006-12-31")]:
        try:
            fp_w = losses_fingerprint(losses, H, observation=window)
        except ValueError:          # losses before 2002-03-01 lie outside the last window
            continue
        assert fp_w != fp[BUNDLED_MODEL_FILES[0]]


def test_negative_binomial_with_exposure_recovers_its_parameters():
    mu, r, k = 30.0, 4.0, 400
    rng = np.random.default_rng(17)
    e = rng.uniform(0.1, 1.0, k)
    n = rng.negative_binomial(r, r / (r + mu * e))        # NB(mean μ e_i, size r)
    fit = fit_frequency(n, exposure=e)                     # auto: over-dispersed → negbin
    assert fit.family == "negbin" and fit.dispersion_pvalue < 1e-6
    assert abs(fit.params["mu"] - mu) < 3 * fit.se["mu"]
    assert abs(fit.params["r"] - r) < 3 * fit.se["r"]
    assert fit.exposure == pytest.approx(e.sum()) and fit.n_years == k
    # the joint maximum: a 2-D optimiser from elsewhere finds the same point
    from scipy import special

    def nll(p):
        m, s = np.exp(p)
        me = m * e
        return -float(np.sum(special.gammaln(n + s) - special.gammaln(s) - special.gammaln(n + 1)
                             + s * np.log(s / (s + me)) + n * np.log(me / (s + me))))
    res = optimize.minimize(nll, np.log([10.0, 1.0]), method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 10_000})
    assert np.exp(res.x) == pytest.approx([fit.params["mu"], fit.params["r"]], rel=1e-5)
    assert fit.loglik == pytest.approx(-res.fun, abs=1e-8)
    # μ̂ is not Σn/Σe for the negative binomial (weights 1/(1 + μ e_i / r)) but close to it
    assert fit.params["mu"] != pytest.approx(n.sum() / e.sum(), rel=1e-6)
    # the standard error of μ from the expected information
    info = np.sum(e / (fit.params["mu"] * (1 + fit.params["mu"] * e / fit.params["r"])))
    assert fit.se["mu"] == pytest.approx(1 / math.sqrt(info))


def test_equal_exposures_scale_the_mean_only():
    counts = stats.nbinom(3.0, 3 / 23).rvs(60, random_state=np.random.default_rng(4))
    whole = fit_frequency(counts, "negbin")
    half = fit_frequency(counts, "negbin", exposure=np.full(60, 0.5))
    assert half.params["mu"] == pytest.approx(2 * whole.params["mu"], rel=1e-12)
    assert half.params["r"] == pytest.approx(whole.params["r"], rel=1e-7)
    assert half.loglik == pytest.approx(whole.loglik, rel=1e-12)
    with pytest.raises(ValueError, match="Pearson X²"):
        fit_frequency([10, 10, 10, 2], "negbin", exposure=[1, 1, 1, 0.2])


def test_frequency_fit_round_trips_and_old_files_load():
    fit = fit_frequency([12, 9, 15, 3], "poisson", exposure=[1, 1, 1, 0.25], threshold=1e7)
    d = json.loads(json.dumps(fit.to_dict()))
    assert FrequencyFit.from_dict(d) == fit and d["exposure"] == 3.25
    old = {k: v for k, v in fit_frequency([3, 4, 5]).to_dict().items()
           if k not in ("exposure", "exposures")}
    back = FrequencyFit.from_dict(old)                      # saved before exposures existed
    assert back == fit_frequency([3, 4, 5]) and back.exposure == 3.0
    assert back.year_exposures.tolist() == [1.0, 1.0, 1.0]
    import opwb
    from opwb.fitting.modelset import load_model_set
    for m in load_model_set(opwb.data_path("severity_models.json")).values():
        assert m.frequency.exposures == () and m.frequency.exposure == m.frequency.n_years


def test_model_set_fits_frequencies_per_year_of_exposure():
    from opwb.fitting.modelset import fit_model_set, losses_fingerprint
    rng = np.random.default_rng(5)
    rows = [("EF", f"{y}-{m:02d}-15", float(x))
            for y in range(2000, 2008) for m in range(1, 13) if (y, m) <= (2007, 3)
            for x in 2e7 * np.exp(rng.normal(0, 1, rng.poisson(2)))]
    df = _losses(rows, observation=WINDOW)
    models, _ = fit_model_set(df, 1e7, n_boot=0, families=["lognormal"])
    counts = annual_counts(df, threshold=1e7)
    freq = models["EF"].frequency
    assert freq.exposures == tuple(counts.attrs["exposure"].tolist())
    assert freq.family == "poisson"
    assert freq.mean == counts["EF"].sum() / counts.attrs["exposure"].sum()
    assert freq.mean == pytest.approx(counts["EF"].sum() / (7 + 90 / 365), rel=1e-15)
    assert models.fingerprint == losses_fingerprint(df, 1e7)
    assert models.fingerprint != losses_fingerprint(df, 1e7, observation=False)
    assert "observation window 2000-01-01 – 2007-03-31, 7.25 years" in models.note
