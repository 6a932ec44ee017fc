"""The predictive model and the answer on it (issue 21, item 1 and 2).

Every check recomputes what the layer gives by another path: Akaike weights from each
family's own fit, a world's pooled years by simulating that world again, the
recommendation, ``p_best`` and the regret from the world table with pandas, and the
break-even premium by evaluating the structure at that premium.
"""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pytest

from opwb.decision.predictive import (MIN_WEIGHT, FamilyWeights, PredictiveSettings,
                                      assign_families, family_weights, predictive_base,
                                      world_fit, world_seed, _slice, _STRIDE)
from opwb.decision.robust import EXTRA, break_even, eligible_mask, robustness
from opwb.engine.simulate import simulate_losses
from opwb.fitting.frequency import fit_frequency
from opwb.fitting.mle import fit_severity
from opwb.fitting.modelset import AIC_TIE, CellFit, ModelSet
from opwb.scenarios.answer import management_answer, premium_model_for
from opwb.scenarios.base import _keep_levels, cell_models, without_incidents
from opwb.scenarios.evaluation import evaluate
from opwb.scenarios.spec import Appetite, case_inputs, scenario_bases, spec_for

EOK = 1e8
K, WORLD_YEARS, PER = 10, 3_000, 600
TWO = {"lomax": 0.6, "loglogistic": 0.4}      # the internal-fraud cell's stated weights


# --------------------------------------------------------------------------- Akaike weights
def _synthetic_cell(n=60, seed=3):
    rng = np.random.default_rng(seed)
    x = 1e7 * np.exp(rng.gamma(1.2, 1.1, size=n))          # above the 1,000만 threshold
    years = rng.integers(2002, 2007, size=n)
    losses = pd.DataFrame({"event_type": "IF", "gross_loss": x,
                           "occurrence_date": pd.to_datetime([f"{y}-06-30" for y in years])})
    counts = np.bincount(years - 2002, minlength=5)
    return losses, x, counts


def test_akaike_weights_are_recomputed_from_each_family_fit():
    losses, x, counts = _synthetic_cell()
    fits = {f: fit_severity(x, f, 1e7) for f in
            ("lognormal", "shifted_lognormal", "lomax", "genpareto", "loglogistic", "weibull")}
    ok = {f: s for f, s in fits.items() if s.ok}
    chosen = min(ok, key=lambda f: ok[f].aic)
    ms = ModelSet({"IF": CellFit(fit_frequency(counts, threshold=1e7), ok[chosen])}, 1e7,
                  "", True)
    w = family_weights(losses, ms, n_boot=19)["IF"]
    assert w.families[0] == chosen or w.weights[0] == max(w.weights)
    assert chosen in w.families
    assert math.isclose(sum(w.weights), 1.0, rel_tol=1e-12)
    assert min(w.weights) >= MIN_WEIGHT * 0.999
    # the weights, independently: exp(-Δ/2) over the families kept, from their own fits
    aic = np.array([fit_severity(x, f, 1e7).aic for f in w.families])
    expect = np.exp(-(aic - aic.min()) / 2)
    np.testing.assert_allclose(w.weights, expect / expect.sum(), rtol=1e-6)
    # one model counts once: no two families kept with the same AIC (Lomax = GPD)
    assert all(abs(a - b) > AIC_TIE for i, a in enumerate(aic) for b in aic[i + 1:])


def test_families_are_assigned_to_exactly_their_share_of_worlds():
    fw = FamilyWeights("IF", ("lomax", "loglogistic", "lognormal"), (0.55, 0.3, 0.15),
                       (1.0, 2.2, 3.6), {})
    got = assign_families(fw, 20, seed=5)
    assert sorted(pd.Series(got).value_counts().items()) == \
        [("loglogistic", 6), ("lognormal", 3), ("lomax", 11)]
    assert list(assign_families(fw, 20, seed=5)) == list(got)     # keyed, repeatable
    assert list(assign_families(fw, 20, seed=6)) != list(got)


def test_a_thin_cell_is_refitted_in_every_world_without_dropping_one():
    """Five losses in five years: many resampled worlds hold too few losses to fit; the
    data are drawn again (counted), never dropped."""
    rng = np.random.default_rng(1)
    x = 1e7 * np.exp(rng.normal(1.5, 1.0, size=5)) + 1e7
    gen = CellFit(fit_frequency(np.array([1, 1, 1, 1, 1]), threshold=1e7),
                  fit_severity(x, "lognormal", 1e7))
    tries = []
    for w in range(40):
        fit, attempts = world_fit(gen, gen.severity, 11, w, "DPA")
        assert fit.severity.family == "lognormal"
        assert all(np.isfinite(list(fit.severity.params.values())))
        tries.append(attempts)
    assert max(tries) <= 50 and sum(t > 1 for t in tries) > 0
    assert world_fit(gen, gen.severity, 11, 3, "DPA")[1] == tries[3]        # keyed


# --------------------------------------------------------------------------- the base
@pytest.fixture(scope="module")
def predictive():
    """The bundled case's predictive base (with the CD incident) at a small size, the IF
    cell with two families at stated weights and every other cell with its chosen one."""
    from opwb.data.case import bundled_case
    case = bundled_case()
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    plug = scenario_bases(spec, case=case)[True]
    ms = plug.model_set
    data = without_incidents(losses, plug.incidents, True)
    x_if = data.loc[data["event_type"] == "IF", "gross_loss"].to_numpy(float)
    x_if = x_if[x_if >= ms.threshold]
    weights = {c: FamilyWeights(c, (m.severity.family,), (1.0,), (m.severity.aic,),
                                {m.severity.family: m.severity}) for c, m in ms.items()}
    fits = {f: fit_severity(x_if, f, ms.threshold) for f in TWO}
    weights["IF"] = FamilyWeights("IF", tuple(TWO), tuple(TWO.values()),
                                  tuple(fits[f].aic for f in TWO), fits)
    base, worlds, used = predictive_base(
        plug, losses, n_years=K * PER, seed=spec.seed, deductibles=spec.deductibles,
        limits=spec.limits, premium_for=lambda b: premium_model_for(b, quotes, spec),
        scenario_settings=spec.settings, settings=PredictiveSettings(K, WORLD_YEARS),
        weights=weights)
    return {"plug": plug, "base": base, "worlds": worlds, "weights": used, "spec": spec,
            "quotes": quotes, "losses": losses, "programme": programme, "fits": fits}


def test_both_families_enter_the_predictive_base_with_their_weights(predictive):
    worlds = predictive["worlds"]
    fam = pd.Series(worlds.families["IF"])
    assert fam.value_counts().to_dict() == {f: round(K * w) for f, w in TWO.items()}
    assert set(pd.Series(worlds.families["BDSF"])) == {predictive["plug"].model_set["BDSF"]
                                                        .severity.family}
    # two worlds, one of each family, re-simulated from scratch: their years are the pooled
    # base's, so each world's IF losses come from its own family's refit
    plug, base = predictive["plug"], predictive["base"]
    ms = plug.model_set
    keep = _keep_levels(plug.programme, [c for c in ms if plug.programme[plug.bond_policy]
                                         .covers(c) > 0], ms.keys())
    for f in TWO:
        w = int(np.flatnonzero(fam.to_numpy() == f)[0])
        cells = {}
        for c, m in ms.items():
            sev = predictive["fits"][f] if c == "IF" else m.severity
            cells[c], _ = world_fit(m, sev, predictive["spec"].seed, w, c)
        assert cells["IF"].severity.family == f
        sim = simulate_losses(cell_models(ModelSet(cells, ms.threshold, "", True),
                                          severity_cap=plug.severity_cap),
                              WORLD_YEARS, world_seed(predictive["spec"].seed, w),
                              keep_events_above=keep)
        part = _slice(sim, PER, w, _STRIDE)
        for c in ms:
            np.testing.assert_array_equal(base.sim.annual_gross[c][w * PER:(w + 1) * PER],
                                          part.annual_gross[c])
        ev, mine = base.sim.events["IF"], part.events["IF"]
        sel = (ev.year >= w * PER) & (ev.year < (w + 1) * PER)
        np.testing.assert_array_equal(ev.loss[sel], mine.loss)
        np.testing.assert_array_equal(ev.event_id[sel], mine.event_id)
    assert base.n_years == K * PER
    ids = base.sim.events["IF"].event_id
    assert np.unique(ids).size == ids.size          # distinct ids across worlds


@pytest.fixture(scope="module")
def answer(predictive):
    appetite = Appetite(max_premium=60 * EOK, max_retained_if_1in100=None)
    ans = management_answer({True: predictive["base"]}, predictive["quotes"],
                            spec=predictive["spec"], appetite=appetite)
    return ans, appetite


def test_recommendation_is_the_argmax_of_expected_net_benefit_within_the_appetite(
        predictive, answer):
    ans, appetite = answer
    table = ans.frontiers[True]
    rec = ans.recommendations[True]
    eligible = table[table["premium"] <= appetite.max_premium]
    best = eligible.loc[eligible["net_benefit"].idxmax()]
    assert (rec.deductible, rec.limit) == (best["deductible"], best["limit"])
    assert (eligible_mask(table, appetite) == (table["premium"] <= 60 * EOK)).all()
    # the worlds were evaluated at the premiums of this very frontier
    np.testing.assert_array_equal(predictive["worlds"].premiums, table["premium"])


def test_p_best_and_regret_recomputed_from_the_worlds(predictive, answer):
    ans, appetite = answer
    table, worlds = ans.frontiers[True], predictive["worlds"]
    nb = worlds.frame("net_benefit")
    cols = [c for c, ok in zip(nb.columns, table["premium"] <= appetite.max_premium) if ok]
    nb = nb[cols]
    best = nb.idxmax(axis=1)
    regret = nb.max(axis=1).to_numpy()[:, None] - nb.to_numpy()
    got = robustness(worlds, eligible_mask(table, appetite))
    for j, col in enumerate(cols):
        row = got.loc[col]
        assert row["p_best"] == pytest.approx((best == col).mean(), abs=1e-12)
        assert row["regret"] == pytest.approx(regret[:, j].mean(), rel=1e-12)
        assert row["regret_se"] == pytest.approx(regret[:, j].std(ddof=1) / math.sqrt(K),
                                                 rel=1e-9)
    assert got["p_best"].sum() == pytest.approx(1.0)
    assert (got["regret"] >= 0).all()


def test_break_even_premium_makes_the_net_benefit_zero(predictive, answer):
    ans, _ = answer
    rec = ans.recommendations[True]
    base, settings = predictive["base"], predictive["spec"].settings
    be = break_even(ans.frontiers[True], settings.cost_of_capital)
    row = be[(be["deductible"] == rec.deductible) & (be["limit"] == rec.limit)].iloc[0]
    at_quote = evaluate(base, rec.alternative(), settings)
    assert row["break_even_premium"] == pytest.approx(
        at_quote["expected_recovery"]
        + settings.cost_of_capital * at_quote["bond_regulatory_relief"], rel=1e-12)
    at_be = evaluate(base, rec.alternative().replace(premium=row["break_even_premium"]),
                     settings)
    assert abs(at_be["net_benefit"]) < 1e-6 * row["break_even_premium"]
    assert row["payout_ratio"] == pytest.approx(at_quote["expected_recovery"]
                                                / at_quote["premium"])
    assert bool(row["below_expected"]) == (at_quote["premium"] < at_quote["expected_recovery"])


def test_the_world_table_survives_the_store(predictive, tmp_path):
    from opwb.decision.predictive import WorldTable
    from opwb.scenarios.store import load_bases, save_bases
    base, worlds = predictive["base"], predictive["worlds"]
    base._cache[EXTRA] = {"worlds": worlds.to_plain(), "weights": {}}
    spec = predictive["spec"].replace(n_years=base.n_years)
    folder = save_bases(spec, {True: base}, root=tmp_path, key="k")
    back = load_bases(spec, predictive["losses"], predictive["programme"], folder)[True]
    again = WorldTable.from_plain(back._cache[EXTRA]["worlds"])
    for k, v in worlds.values.items():
        np.testing.assert_array_equal(again.values[k], v)
    assert again.families == worlds.families
    pd.testing.assert_frame_equal(again.frontier, worlds.frontier, check_dtype=False)
    assert again.frontier.attrs["made_for"] == worlds.frontier.attrs["made_for"]
    np.testing.assert_array_equal(back.sim.annual_gross["IF"], base.sim.annual_gross["IF"])


def test_the_answers_paired_comparisons_are_stored_and_reused(predictive, tmp_path,
                                                             monkeypatch):
    """Issue 21, item 7: the paired comparisons the answer needs are computed when the bases
    are built and stored with them; an answer on the loaded bases re-evaluates none of them
    and equals the answer computed afresh."""
    import dataclasses as dc

    from opwb.decision import robust as rb
    from opwb.scenarios import answer as answer_module
    from opwb.scenarios import evaluation
    from opwb.scenarios.store import load_bases, save_bases
    base, worlds, spec = predictive["base"], predictive["worlds"], predictive["spec"]
    spec = spec.replace(n_years=base.n_years)
    fresh = dc.replace(base, _cache={})     # a base of the same years with nothing cached
    fresh._cache[EXTRA] = {"worlds": worlds.to_plain(), "weights": {}}
    rb._store_answer_work({True: fresh}, predictive["quotes"], spec)
    work = fresh._cache[EXTRA][rb._WORK]
    assert work["paired"] and work["versus"]
    expected = management_answer({True: fresh}, predictive["quotes"], spec=spec,
                                 frontiers={True: worlds.frontier})
    folder = save_bases(spec, {True: fresh}, root=tmp_path, key="k")
    back = load_bases(spec, predictive["losses"], predictive["programme"], folder)
    from opwb.scenarios.spec import current_cover
    rec0 = expected.recommendations[True]
    shown = [rec0.alternative("권고 구조"), current_cover(fresh), *predictive["quotes"]]
    afresh = [evaluate(dc.replace(base, _cache={}), alt, spec.settings).metrics
              for alt in shown]

    def refuse(*args, **kwargs):
        raise AssertionError("a stored paired comparison was computed again")
    monkeypatch.setattr(evaluation, "evaluate_many", refuse)
    monkeypatch.setattr(answer_module, "difference", refuse)
    rb._restore_answer_work(back, spec)
    got = management_answer(back, predictive["quotes"], spec=spec,
                            frontiers={True: worlds.frontier})
    rec, want = got.recommendations[True], expected.recommendations[True]
    assert rec.same_structure(want)
    pd.testing.assert_frame_equal(rec.indistinguishable[["difference", "difference_se"]],
                                  want.indistinguishable[["difference", "difference_se"]])
    pd.testing.assert_frame_equal(got.versus_current[True], expected.versus_current[True],
                                  check_dtype=False, check_index_type=False)
    # the figures a page shows (the recommendation, the cover in force, every quote) come
    # from the store too, equal to evaluating them afresh, and the worlds stay blocks
    assert back[True].world_years == base.world_years == PER
    for alt, again in zip(shown, afresh):
        stored = evaluation.figures_of(back[True], alt, spec.settings)
        assert stored.keys() == again.keys()
        for k, v in again.items():
            assert stored[k] == pytest.approx(v, rel=1e-12, abs=1e-6, nan_ok=True), k


# --------------------------------------------------------------------------- management's view
@pytest.fixture(scope="module")
def robust(predictive, answer):
    from opwb.decision.predictive import PredictiveSettings
    from opwb.decision.robust import RobustAnswer
    ans, _ = answer
    return RobustAnswer(ans, {True: predictive["worlds"]}, {True: predictive["weights"]},
                        PredictiveSettings(K, WORLD_YEARS), {True: predictive["base"]},
                        {"CD 사건": 650e8})


def test_the_executive_sentence_has_no_statistics_and_says_what_decides(robust):
    from opwb.scenarios.answer import structure_ko
    text = robust.sentence_ko(True)
    rec = robust.recommendations[True]
    p_best, _, _ = robust.recommended_robustness(True)
    assert text.startswith(f"권고: {structure_ko(rec.deductible, rec.limit)}")
    assert f"{K}개 경우 중 {p_best:.0%}에서 가장 유리" in text
    assert "손익분기 보험료" in text and "순편익 = 기대 보험금 − 보험료 + 자본비용 절감" in text
    for word in ("±", "paired", "표준오차", "시드", "-0"):
        assert word not in text, word
    detail = robust.detail_ko(True)
    assert "±" in detail and f"세계 {K}개" in detail
    facts = robust.facts(True)
    row = "CD 사건(650억원)이 다시 나면: 보험금 / 은행 부담"
    col = [c for c in facts.columns if c.startswith("권고 구조")][0]
    paid = min(max(650e8 - rec.deductible, 0.0), rec.limit)      # coinsurance 1, no aggregate
    from opwb.data.units import format_krw
    assert facts.loc[row, col] == (f"{format_krw(paid, unit='억', digits=0)} / "
                                   f"{format_krw(650e8 - paid, unit='억', digits=0)}")


def test_the_dashboard_shows_the_predictive_answer_and_no_second_one(robust, predictive):
    from opwb.app import ScenarioDashboard
    dash = ScenarioDashboard(robust.bases, predictive["quotes"], spec=predictive["spec"],
                             appetite=robust.answer.appetite, robust=robust)
    assert dash.uncertainty is None                 # no plug-in "best in N% of worlds"
    card = dash.answer_html.value
    assert html.escape(dash.robust.sentence_ko(True)) in card
    assert html.escape(robust.sentence_ko(True)) in card         # the API's, for this appetite
    rec = robust.recommendations[True]
    assert f'data-rec-limit="{rec.limit!r}"' in card
    p_best, _, _ = robust.recommended_robustness(True)
    assert f'data-p-best="{p_best:.4f}"' in card
    section = dash.robust_html.value
    assert "최선인 세계" in section and "손익분기 보험료" in section
    # a lower premium ceiling: the sentence, the share of worlds and the section follow
    dash.max_premium.value = "20"
    new = dash.answer.recommendations[True]
    assert float(new.structure["premium"]) <= 20e8
    assert dash.robust.answer is dash.answer
    assert f'data-rec-limit="{new.limit!r}"' in dash.answer_html.value


def test_what_decides_the_answer_is_recomputed_from_the_frontier(robust):
    """The cost-of-capital turning points and the premium at which the runner-up takes over,
    recomputed by re-ranking the frontier's net benefits (linear in both)."""
    import re
    from opwb.scenarios.answer import structure_ko
    table = robust.answer.frontiers[True].reset_index(drop=True)
    ok = eligible_mask(table, robust.answer.appetite)
    rec = robust.recommendations[True]
    turns = robust.what_decides(True)
    assert set(turns.columns) == {"가정", "지금", "권고가 바뀌는 값", "바뀐 권고"}

    def best_at(coc, premium_of_rec=None):
        p = table["premium"].to_numpy(float).copy()
        if premium_of_rec is not None:
            p[(table["deductible"] == rec.deductible) & (table["limit"] == rec.limit)] = \
                premium_of_rec
        nb = table["expected_recovery"].to_numpy(float) - p + \
            coc * table["bond_regulatory_relief"].to_numpy(float)
        nb[~ok] = -np.inf
        if robust.answer.appetite.max_premium is not None:
            nb[p > robust.answer.appetite.max_premium] = -np.inf
        i = int(np.argmax(nb))
        return structure_ko(table.at[i, "deductible"], table.at[i, "limit"])

    coc = robust.answer.spec.settings.cost_of_capital
    assert best_at(coc) == structure_ko(rec.deductible, rec.limit)
    seen = 0
    for _, r in turns[turns["가정"] == "자본비용률"].iterrows():
        m = re.match(r"([\d.]+)% (이상|이하)", r["권고가 바뀌는 값"])
        if not m:
            continue
        c = float(m.group(1)) / 100
        step = 0.002 if m.group(2) == "이상" else -0.002
        assert best_at(c + step) == r["바뀐 권고"]
        assert best_at(c - step) == structure_ko(rec.deductible, rec.limit)
        seen += 1
    row = turns[turns["가정"] == "권고 구조의 보험료"].iloc[0]
    amount = float(re.search(r"연 ([\d,.]+)억원", row["권고가 바뀌는 값"]).group(1)
                   .replace(",", "")) * EOK
    assert best_at(coc, amount * 1.01) == row["바뀐 권고"]
    assert best_at(coc, amount * 0.99) == structure_ko(rec.deductible, rec.limit)
    print(turns.to_string(), seen)


def test_cap_sentence_says_when_the_cap_sets_capital():
    """Capital against the severity cap (a table as cap_sensitivity gives it): a 30% move
    at half the cap is the cap setting the capital; a 1% move is not."""
    from opwb.report.tables import cap_sentence_ko
    caps = [0.5e12, 1e12, 2e12, np.inf]
    moved = pd.DataFrame({"severity_cap": caps, "capital_sum": [7e11, 1e12, 1.6e12, 8e12],
                          "capital_sum_se": [4e9, 4e9, 4e9, 1e12]})
    text = cap_sentence_ko(moved, 1e12)
    assert "단일손실 상한이라는 가정이 정합니다" in text
    assert "상한을 절반으로 하면 −30%" in text and "두 배로 하면 +60%" in text
    still = moved.assign(capital_sum=[0.99e12, 1e12, 1.01e12, 1.02e12])
    assert "크게 움직이지 않습니다" in cap_sentence_ko(still, 1e12)


def test_the_dashboard_header_follows_the_settings(robust, predictive):
    from opwb.app import ScenarioDashboard
    dash = ScenarioDashboard(robust.bases, predictive["quotes"], spec=predictive["spec"],
                             robust=robust)
    assert "평가일 2006-12-31" in dash.head.value and "자본비용률 10%" in dash.head.value
    dash.valuation.value = "2006-09-30"
    assert "평가일 2006-09-30" in dash.head.value
    dash.cost_of_capital.value = 0.12
    assert "자본비용률 12%" in dash.head.value


def test_prepare_command_refuses_a_missing_case_with_its_message(tmp_path):
    """``python -m opwb.decision prepare --case`` (what ``workbench.py app`` runs): a case
    that does not exist exits 2 with the case's message, nothing built."""
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "opwb.decision", "prepare", "--case",
                          str(tmp_path / "nowhere.toml")], capture_output=True, text=True,
                         env={**__import__("os").environ, "OPWB_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 2
    assert "nowhere.toml" in out.stderr and "no such case file" in out.stderr
    assert not (tmp_path / "scenario-bases").exists() or \
        not any((tmp_path / "scenario-bases").iterdir())


def test_the_worlds_on_a_local_cluster_give_the_in_process_numbers(predictive):
    """Issue 21, item 7: the worlds as Dask work units on a 2-worker LocalCluster (bound to
    127.0.0.1) give the very base and world table of the in-process build."""
    from distributed import Client, LocalCluster
    p = predictive
    spec, quotes = p["spec"], p["quotes"]
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    try:
        with Client(cluster) as client:
            base, worlds, _ = predictive_base(
                p["plug"], p["losses"], n_years=K * PER, seed=spec.seed,
                deductibles=spec.deductibles, limits=spec.limits,
                premium_for=lambda b: premium_model_for(b, quotes, spec),
                scenario_settings=spec.settings, settings=PredictiveSettings(K, WORLD_YEARS),
                weights=p["weights"], client=client)
            assert len(client.nthreads()) == 2
    finally:
        cluster.close()
    ref = p["worlds"]
    for k, v in ref.values.items():
        np.testing.assert_array_equal(worlds.values[k], v, err_msg=k)
    assert worlds.families == ref.families
    for c in ref.attempts:
        np.testing.assert_array_equal(worlds.attempts[c], ref.attempts[c])
    for c, a in p["base"].sim.annual_gross.items():
        np.testing.assert_array_equal(base.sim.annual_gross[c], a)
        np.testing.assert_array_equal(base.sim.events[c].event_id,
                                      p["base"].sim.events[c].event_id)


def test_prepare_command_names_a_bad_worker_count_and_refuses_two_places(capsys):
    """``prepare --workers -1`` and ``--workers 2 --scheduler ...`` are refused by the
    command line (exit 2, the option named), before anything is built."""
    from opwb.decision.__main__ import main
    for argv, word in ((["prepare", "--workers", "-1"], "--workers"),
                       (["prepare", "--workers", "2", "--scheduler", "tcp://x:1"],
                        "not allowed with")):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        assert word in capsys.readouterr().err


def test_the_build_keeps_every_worlds_refitted_models(predictive):
    """The world table carries the model sets the build refitted (used by the sensitivity
    grids instead of refitting); they are those :func:`world_fit` gives again."""
    from opwb.decision.turning import world_models
    p = predictive
    models = p["worlds"].models
    assert models is not None and len(models) == K
    again = world_models(p["base"], p["weights"], p["worlds"].families, K)
    for w, (mine, theirs) in enumerate(zip(models, again)):
        for c in mine:
            a, b = mine[c], theirs[c]
            assert a.severity.family == b.severity.family, (w, c)
            assert a.severity.params == b.severity.params, (w, c)
            assert a.frequency == b.frequency, (w, c)
    assert p["worlds"].to_plain().keys() == type(p["worlds"]).from_plain(
        p["worlds"].to_plain()).to_plain().keys()
    assert type(p["worlds"]).from_plain(p["worlds"].to_plain()).models is None


def test_the_sentence_says_when_the_bond_earns_no_relief_at_the_valuation_date():
    """A manager moved the valuation date past the bond's expiry and saw every relief fall
    to 0 without a word: the note names the reason, from the policy's own dates (Basel II
    para 678: no recognition at a residual term of 90 days or less), and is silent while the
    bond is recognised."""
    import dataclasses
    from opwb.data.case import bundled_case
    from opwb.decision.robust import bond_recognition_note
    from opwb.insurance.eligibility import eligibility_table
    case = bundled_case()
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes)
    base = scenario_bases(spec, case=case)[True]
    bond = programme[base.bond_policy]
    assert bond_recognition_note(base, spec.settings) == ""
    for days, word in ((30, "잔존기간이 30일로 90일 이하라"), (-5, "이미 끝나")):
        later = dataclasses.replace(spec.settings,
                                    valuation_date=bond.expiry - pd.Timedelta(days=days))
        t = eligibility_table(programme, valuation_date=later.valuation_date)
        assert float(t.loc[t["policy_id"] == base.bond_policy, "recognition"].iloc[0]) == 0
        note = bond_recognition_note(base, later)
        assert word in note and "규제자본 경감이 인정되지 않습니다" in note
        assert f"{pd.Timestamp(later.valuation_date):%Y-%m-%d}" in note
    early = dataclasses.replace(spec.settings,
                                valuation_date=bond.inception - pd.Timedelta(days=200))
    assert "시작되기 전" in bond_recognition_note(base, early)


def test_the_pooled_bases_errors_resample_its_worlds(predictive):
    """The pooled base's standard errors see the spread between its worlds (the validator's
    gap: a year-by-year error of 0.73억 against a worlds' spread of 6.24억 / √100): the
    expected recovery's error is the cluster error recomputed from the recovered amounts
    world by world, and the net VaR's error agrees with a bootstrap that redraws worlds
    with numpy's own generator."""
    base, spec, quotes = predictive["base"], predictive["spec"], predictive["quotes"]
    assert base.world_years == PER and base.n_years == K * PER
    res = evaluate(base, quotes[0], spec.settings)
    rec = np.asarray(res.annual_recovery, dtype=float)
    world = rec.reshape(K, PER).mean(axis=1)
    assert res["expected_recovery"] == pytest.approx(rec.mean(), rel=1e-12)
    assert res["expected_recovery_se"] == pytest.approx(world.std(ddof=1) / math.sqrt(K),
                                                        rel=1e-9)
    net = np.asarray(res.annual_net, dtype=float).reshape(K, PER)
    rng = np.random.default_rng(2026)
    reps = [np.quantile(net[rng.integers(0, K, K)].ravel(), spec.settings.alpha,
                        method="inverted_cdf") for _ in range(400)]
    # two bootstraps of 200 and 400 replicates: each error's own relative error is about
    # 5% and 3.5%; with 10 worlds the replicates are lumpy, so allow 35%
    assert res["net_var_se"] == pytest.approx(np.std(reps, ddof=1), rel=0.35)
