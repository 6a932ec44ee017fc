"""Parameter uncertainty (opwb.scenarios.uncertainty, opwb.scenarios.worlds).

The fitted column is checked against evaluate() on a base built the usual way, the
intervals and p_best against an independent recomputation from the worlds, the bootstrap
against the sampling distribution of the estimators it refits (closed forms for the
shifted lognormal: log-excesses are normal), and the 90% interval of gross capital
against the capital of the true model (FFT) over seeded replications. The redraw rule
(issue 22, item 17: thin cells dropped worlds silently): a thin cell keeps every world,
its redraws counted with their reasons, and one world's refit is recomputed from the
documented streams and the closed-form estimators.
"""
from __future__ import annotations

import functools
import math
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

from scipy import stats

from opwb.engine._blocks import cell_key
from opwb.engine.fft import compound_fft
from opwb.fitting.frequency import FrequencyFit, fit_frequency
from opwb.fitting.mle import fit_severity
from opwb.fitting.modelset import CellFit, ModelSet
from opwb.fitting.result import SeverityFit
from opwb.scenarios.base import build_scenario_base
from opwb.scenarios.evaluation import evaluate_many
from opwb.scenarios.spec import bundled_inputs
from opwb.scenarios.uncertainty import (
    MAX_ATTEMPTS,
    NO_ALTERNATIVE,
    REDRAW_REASONS,
    UNCERTAINTY_FIGURES,
    parameter_uncertainty,
    refit_world,
)
from opwb.scenarios.worlds import _refit_frequency

H = 1e7


def _cell(mu=16.0, sigma=1.6, lam=12.0, years=5, family="shifted_lognormal"):
    return CellFit(FrequencyFit("poisson", {"mu": lam}, n_years=years, threshold=H),
                   SeverityFit(family=family, params={"mu": mu, "sigma": sigma}, threshold=H))


def _one_cell(**kw) -> ModelSet:
    return ModelSet({"IF": _cell(**kw)}, H, "", True, "test model")


@pytest.fixture(scope="module")
def inputs():
    return bundled_inputs()


@pytest.fixture(scope="module")
def bundled_run(inputs):
    losses, programme, alts = inputs
    res = parameter_uncertainty(losses, programme, alts[1:], n_worlds=4, n_years=2000, seed=3)
    return res, alts[1:]


def test_fitted_figures_are_those_of_evaluate_on_the_same_base(inputs, bundled_run):
    losses, programme, _ = inputs
    res, alts = bundled_run
    base = build_scenario_base(losses, programme, n_years=2000, seed=3)
    for alt, ev in zip(alts, evaluate_many(base, alts)):
        for f in UNCERTAINTY_FIGURES:
            row = res.table.loc[(alt.name, f)]
            assert row["fitted"] == pytest.approx(ev.metrics[f], rel=1e-12, abs=1e-3)
            assert row["fitted_se"] == pytest.approx(ev.metrics[f + "_se"], rel=1e-12, abs=1e-3)


def test_intervals_are_percentiles_of_the_worlds_and_p_best_their_argmax(bundled_run):
    res, alts = bundled_run
    assert res.level == 0.90 and res.n_worlds == 4
    assert list(res.redraws.columns) == ["worlds", "redraws", "max_draws", *REDRAW_REASONS]
    assert set(res.redraws.index) == set(res.fits["cell"])
    assert list(res.table.columns) == ["fitted", "fitted_se", "lower", "median", "upper",
                                       "std", "n_worlds"]
    for (name, f), row in res.table.iterrows():
        x = res.worlds.loc[res.worlds["alternative"] == name, f].to_numpy()
        assert x.size == 4 == row["n_worlds"]
        np.testing.assert_allclose([row["lower"], row["median"], row["upper"]],
                                   np.quantile(x, [0.05, 0.5, 0.95]), rtol=1e-14)
        assert row["std"] == pytest.approx(np.std(x, ddof=1), rel=1e-12)
    nb = {a.name: res.worlds[res.worlds["alternative"] == a.name].set_index("world")
          ["net_benefit"] for a in alts}
    winners = [max(nb, key=lambda name: nb[name][w]) for w in range(4)]
    expected = pd.Series(winners).value_counts(normalize=True)
    for a in alts:
        assert res.p_best[a.name] == pytest.approx(expected.get(a.name, 0.0))
    assert res.p_best.sum() == pytest.approx(1.0)
    # every refit is listed, and gross capital is the same for every alternative
    assert set(res.fits["world"]) == {-1, 0, 1, 2, 3}
    gross = res.worlds.pivot(index="world", columns="alternative",
                             values="regulatory_gross_capital")
    assert (gross.nunique(axis=1) == 1).all()
    text = res.display()
    assert text.shape == (len(res.table), 3) and text.iloc[0, 0].endswith("억원")


def test_worlds_are_keyed_to_their_index_and_gross_only_agrees(inputs):
    _, programme, alts = inputs
    models = _one_cell()
    kw = dict(models=models, n_years=3000, seed=8)
    two = parameter_uncertainty(None, programme, alts[1:2], n_worlds=2, **kw)
    three = parameter_uncertainty(None, programme, alts[1:2], n_worlds=3, **kw)
    pd.testing.assert_frame_equal(two.worlds, three.worlds[three.worlds["world"] < 2],
                                  check_exact=True)
    gross = parameter_uncertainty(None, programme, [], n_worlds=3, **kw)
    np.testing.assert_allclose(
        gross.worlds["regulatory_gross_capital"].to_numpy(),
        three.worlds["regulatory_gross_capital"].to_numpy(), rtol=1e-12)
    assert gross.table.index.tolist() == [(NO_ALTERNATIVE, "regulatory_gross_capital")]
    assert gross.p_best.empty


def test_bootstrap_reproduces_the_sampling_distribution_of_the_estimators():
    """Shifted lognormal: μ̂ = mean log-excess, so given N losses sd(μ̂) = σ/√N; λ̂ = N/T."""
    lam, years, mu, sigma, b = 12.0, 5, 16.0, 1.6, 200
    fit = _cell(mu=mu, sigma=sigma, lam=lam, years=years)
    refits = [refit_world(fit, 4, w, "EF").fit for w in range(b)]
    lam_star = np.array([r.frequency.mean for r in refits])
    mu_star = np.array([r.severity.params["mu"] for r in refits])
    n = lam_star * years
    assert abs(lam_star.mean() - lam) <= 4 * math.sqrt(lam / years / b)
    assert abs(mu_star.mean() - mu) <= 4 * sigma * math.sqrt(np.mean(1 / n) / b)
    sd = sigma * math.sqrt(np.mean(1 / n))
    assert abs(mu_star.std(ddof=1) / sd - 1) <= 4 / math.sqrt(2 * (b - 1))
    assert all(r.severity.family == "shifted_lognormal" for r in refits)
    again = refit_world(fit, 4, 17, "EF").fit
    assert again.severity.params == refits[17].severity.params


def test_negative_binomial_refit_falls_back_to_its_poisson_limit():
    nb = FrequencyFit("negbin", {"mu": 3.0, "r": 2.0}, n_years=5, threshold=H)
    assert _refit_frequency(nb, np.array([3, 3, 3, 3, 3])).family == "poisson"
    assert _refit_frequency(nb, np.array([0, 9, 1, 7, 0])).family == "negbin"
    with pytest.raises(ValueError):
        _refit_frequency(FrequencyFit("poisson", {"mu": 3.0}, n_years=5), np.array([-1, 2]))


# ------------------------------------------------------------------ thin cells: the redraw rule
THIN = dict(lam=1.0, years=5)        # five losses expected in five years
THIN_WORLDS = 12


@pytest.fixture(scope="module")
def thin_run(inputs):
    _, programme, _ = inputs
    return parameter_uncertainty(None, programme, [], models=_one_cell(**THIN),
                                 n_worlds=THIN_WORLDS, n_years=2000, seed=2)


def test_a_thin_cell_keeps_every_world_and_counts_its_redraws(thin_run):
    """Five losses: many resampled worlds hold two or fewer (a two-parameter family cannot
    be fitted); their data are drawn again, never dropped (before: 2 of these 12 worlds
    were dropped)."""
    res = thin_run
    assert set(res.worlds["world"]) == set(range(THIN_WORLDS))
    row = res.table.loc[(NO_ALTERNATIVE, "regulatory_gross_capital")]
    assert row["n_worlds"] == THIN_WORLDS
    fits = res.fits[res.fits["world"] >= 0].set_index("world")
    assert len(fits) == THIN_WORLDS and (fits["draws"] >= 1).all()
    assert fits["status"].isin(["ok", "edge"]).all()
    assert res.fits.loc[res.fits["world"] == -1, "draws"].tolist() == [0]
    r = res.redraws.loc["IF"]
    assert r["redraws"] == (fits["draws"] - 1).sum() > 0
    assert r["worlds"] == (fits["draws"] > 1).sum()
    assert r["max_draws"] == fits["draws"].max() <= MAX_ATTEMPTS
    assert r[list(REDRAW_REASONS)].sum() == r["redraws"]
    assert r["fewer losses than parameters"] > 0
    assert res.redrawn().index.tolist() == ["IF"]
    assert "Data drawn again: cell IF:" in res.method and "left out" in res.method


def test_the_same_seed_gives_the_same_worlds_and_redraws(inputs, thin_run):
    _, programme, _ = inputs
    again = parameter_uncertainty(None, programme, [], models=_one_cell(**THIN),
                                  n_worlds=THIN_WORLDS, n_years=2000, seed=2)
    pd.testing.assert_frame_equal(again.worlds, thin_run.worlds, check_exact=True)
    pd.testing.assert_frame_equal(again.fits, thin_run.fits, check_exact=True)
    pd.testing.assert_frame_equal(again.redraws, thin_run.redraws, check_exact=True)
    other = parameter_uncertainty(None, programme, [], models=_one_cell(**THIN),
                                  n_worlds=THIN_WORLDS, n_years=2000, seed=3)
    assert not other.fits["param_mu"].equals(thin_run.fits["param_mu"])


def _reference_draw(seed: int, world: int, attempt: int, cell: str = "IF"):
    """One data draw from the documented stream, written out: Poisson counts of the 5
    years, then losses whose log-excess over H is μ + σ·Φ⁻¹(1 − q), q ~ U(0, 1]."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(
        seed, spawn_key=(cell_key("bootstrap|" + cell), world, attempt))))
    counts = stats.poisson(THIN["lam"]).rvs(size=THIN["years"], random_state=rng)
    q = 1.0 - rng.random(int(counts.sum()))
    return counts, 16.0 + 1.6 * stats.norm.isf(q)          # log(x − H)


def test_one_world_of_the_thin_cell_recomputed_independently(thin_run):
    """A world that needed redraws: its rejected draws hold at most 2 losses, and the used
    draw's fit is the closed-form MLE (λ̂ = mean count; shifted lognormal: μ̂, σ̂ the mean
    and root mean square deviation of the log-excesses)."""
    fits = thin_run.fits.set_index("world")
    world = int(fits.loc[fits.index >= 0, "draws"].idxmax())
    draws = int(fits.loc[world, "draws"])
    assert draws > 1
    for attempt in range(draws - 1):
        counts, _ = _reference_draw(2, world, attempt)
        assert counts.sum() <= 2                               # fewer losses than parameters
    counts, z = _reference_draw(2, world, draws - 1)
    assert counts.sum() > 2
    row = fits.loc[world]
    assert row["mean_count"] == pytest.approx(counts.mean(), rel=1e-12)
    assert row["param_mu"] == pytest.approx(z.mean(), rel=1e-6)
    assert row["param_sigma"] == pytest.approx(z.std(ddof=0), rel=1e-4)
    # refit_world is the rule both parameter uncertainty and the predictive model use
    r = refit_world(_cell(**THIN), 2, world, "IF")
    assert r.draws == draws and r.rejected == ("fewer losses than parameters",) * (draws - 1)
    assert r.fit.severity.params["mu"] == row["param_mu"]


def test_the_predictive_model_refits_by_the_same_rule():
    from opwb.decision.predictive import MAX_ATTEMPTS as PREDICTIVE_ATTEMPTS, world_fit

    gen = _cell(**THIN)
    for w in range(6):
        fit, draws = world_fit(gen, gen.severity, 11, w, "DPA")
        r = refit_world(gen, 11, w, "DPA", stream="predictive",
                        max_attempts=PREDICTIVE_ATTEMPTS)
        assert (fit, draws) == (r.fit, r.draws)
    assert refit_world(gen, 11, 0, "DPA").fit != world_fit(gen, gen.severity, 11, 0, "DPA")[0]


def test_unidentified_refits_are_drawn_again_with_their_reason():
    """A thin Lomax cell: most five-loss samples reach the family's limit (degenerate);
    those draws are drawn again and the world's fit is identified."""
    lomax = CellFit(FrequencyFit("poisson", {"mu": THIN["lam"]}, n_years=5, threshold=H),
                    SeverityFit(family="lomax", params={"alpha": 0.8, "scale": 5.4e7},
                                threshold=H))
    refits = [refit_world(lomax, 1, w, "IF") for w in range(4)]
    assert all(r.fit.severity.status in ("ok", "edge") for r in refits)
    reasons = [why for r in refits for why in r.rejected]
    assert "degenerate fit" in reasons and set(reasons) <= set(REDRAW_REASONS)
    assert all(r.draws == len(r.rejected) + 1 for r in refits)


def test_a_cell_that_cannot_be_refitted_is_an_error_naming_it(inputs):
    _, programme, _ = inputs
    with pytest.raises(ValueError, match=r"cell IF, world 0: none of 50 data draws.*"
                                         r"fewer losses than parameters × 50"):
        parameter_uncertainty(None, programme, [], models=_one_cell(lam=0.01), n_worlds=3,
                              n_years=500, seed=2)
    assert refit_world(_cell(lam=0.01), 2, 0, "IF", max_attempts=5).fit is None


def test_progress_is_reported_after_every_world(inputs):
    _, programme, _ = inputs
    seen = []
    parameter_uncertainty(None, programme, [], models=_one_cell(), n_worlds=3, n_years=2000,
                          seed=1, progress=lambda f, text: seen.append((f, text)))
    assert [f for f, _ in seen] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    # the fitted model first, then the worlds, counted without it
    assert [t.split(" (")[0] for _, t in seen] == [f"모수 불확실성: 세계 {k}/3개 완료"
                                                   for k in (0, 1, 2, 3)]


def test_bad_inputs_raise_clear_errors(inputs):
    losses, programme, alts = inputs
    m = _one_cell()
    run = lambda **kw: parameter_uncertainty(  # noqa: E731
        kw.pop("losses", None), kw.pop("programme", programme), kw.pop("alternatives", []),
        **{"models": m, "n_worlds": 2, "n_years": 100, "seed": 1, **kw})
    with pytest.raises(ValueError, match="n_worlds must be an integer >= 2"):
        run(n_worlds=1)
    with pytest.raises(ValueError, match="n_years must be"):
        run(n_years=0)
    with pytest.raises(ValueError, match="level must be a fraction"):
        run(level=90)
    with pytest.raises(ValueError, match="distinct names"):
        run(alternatives=[alts[0], alts[0]])
    with pytest.raises(TypeError, match="list of Alternative"):
        run(alternatives=alts[0])
    with pytest.raises(TypeError, match="Programme"):
        run(programme="BBB")
    with pytest.raises(TypeError, match="ModelSet"):
        run(models={"IF": _cell()})
    with pytest.raises(ValueError, match="unknown figures"):
        run(figures=["net_var"])
    with pytest.raises(ValueError, match="give the losses or a fitted ModelSet"):
        run(models=None)
    with pytest.raises(TypeError, match="distributed.Client"):
        run(client="tcp://scheduler:8786")
    with pytest.raises(ValueError, match="not in the loss data"):
        parameter_uncertainty(losses[losses["event_id"] != "CD-2005-001"], programme, [],
                              include_cd=False, incidents=["CD-2005-001"], n_worlds=2,
                              n_years=100, seed=1)
    with pytest.raises(ValueError, match="no reference incident to leave out"):
        parameter_uncertainty(losses, programme, [], include_cd=False, n_worlds=2,
                              n_years=100, seed=1)


# ------------------------------------------------------------------------------ coverage
COVERAGE_TRUE = dict(mu=16.0, sigma=1.6, lam=20.0, years=5)
COVERAGE_REPS, COVERAGE_WORLDS, COVERAGE_YEARS = 60, 50, 8000


def _covers(rep: int) -> tuple[bool, float]:
    """One replication: data from the true model, the fit, the interval, the truth inside?"""
    t = COVERAGE_TRUE
    rng = np.random.default_rng(7_000 + rep)
    sev = SeverityFit(family="shifted_lognormal", params={"mu": t["mu"], "sigma": t["sigma"]},
                      threshold=H)
    counts = rng.poisson(t["lam"], t["years"])
    x = sev.dist.isf(1.0 - rng.random(int(counts.sum())))
    fitted = ModelSet({"EF": CellFit(fit_frequency(counts, "poisson", threshold=H),
                                     fit_severity(x, "shifted_lognormal", H))}, H)
    _, programme, _ = bundled_inputs()
    res = parameter_uncertainty(None, programme, [], models=fitted, n_worlds=COVERAGE_WORLDS,
                                n_years=COVERAGE_YEARS, seed=rep, severity_cap=None)
    lo, hi = res.interval(NO_ALTERNATIVE, "regulatory_gross_capital")
    return lo <= _true_capital() <= hi, hi / lo


@functools.lru_cache(maxsize=1)
def _true_capital() -> float:
    t = COVERAGE_TRUE
    sev = SeverityFit(family="shifted_lognormal", params={"mu": t["mu"], "sigma": t["sigma"]},
                      threshold=H)
    return compound_fft(FrequencyFit("poisson", {"mu": t["lam"]}).dist, sev).var(0.999)


@pytest.mark.slow
def test_90_percent_interval_of_gross_capital_covers_the_true_capital():
    """60 seeded replications of 5 years of data (about 100 losses) from a known model
    (Poisson 20 a year above 1,000만원, shifted lognormal μ = 16, σ = 1.6); each interval
    from 50 worlds of 8,000 years, whose Monte Carlo error (~7% of capital, common to the
    worlds) is small beside the parameter uncertainty (the intervals span a factor of ~3).
    The true capital is the FFT's 99.9% VaR of the true model (error < 0.02%). Coverage
    must lie in 80-97%: for a true 90%, 47 or fewer of 60 has probability 0.6% and 59 or
    more 1.4% (binomial). Measured when written: 54 of 60."""
    spawn = multiprocessing.get_context("spawn")       # no fork of a process with threads
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        out = list(pool.map(_covers, range(COVERAGE_REPS)))
    covered = sum(c for c, _ in out)
    rate = covered / COVERAGE_REPS
    assert 0.80 <= rate <= 0.97, (f"coverage {covered}/{COVERAGE_REPS} = {rate:.0%}; "
                                  f"median width ratio {np.median([w for _, w in out]):.2f}")
