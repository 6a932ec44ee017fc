"""The management dashboard driven through its widgets (the browser test drives the page).

Small bases (10,000 years) keep it quick; every figure the dashboard shows is checked against
the API on the same bases.
"""
from __future__ import annotations

import math
import re

import pytest

import opwb
from opwb import scenarios as sc
from opwb.app.dashboard import ScenarioDashboard, parse_ceiling, parse_date
from opwb.scenarios.answer import management_answer
from opwb.scenarios.spec import DEFAULT_SPEC, Appetite, bundled_inputs, scenario_bases

EOK = opwb.EOK
SPEC = DEFAULT_SPEC.replace(n_years=10_000, seed=3)


@pytest.fixture(scope="module")
def setup():
    _, _, quotes = bundled_inputs()

    def rebuild(n, progress=None):
        return scenario_bases(SPEC.replace(n_years=n), progress=progress)
    return rebuild(SPEC.n_years), quotes, rebuild


def _data(html: str) -> dict:
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', html))


def _changing_ceiling(bases, quotes):
    """A ceiling on the retained 1-in-100 internal-fraud loss (억원) just below the
    recommended structure's, and the recommendation it leads to (through the API)."""
    first = management_answer(bases, quotes, spec=SPEC).recommendations[True]
    eok = int(first.structure["retained_if_1in100"] // EOK) - 1
    ans = management_answer(bases, quotes, spec=SPEC,
                            appetite=Appetite(70 * EOK, eok * EOK))
    rec = ans.recommendations[True]
    assert not isinstance(rec, str) and not rec.same_structure(first)
    return eok, rec


def test_the_answer_comes_first_and_equals_the_api(setup):
    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC)
    api = management_answer(bases, quotes, spec=SPEC)
    rec = api.recommendations[True]
    data = _data(dash.answer_html.value)
    assert data["state"] == "ok"
    assert (float(data["rec-limit"]), float(data["rec-deductible"])) == (rec.limit, rec.deductible)
    assert api.sentence_ko(True) in dash.answer_html.value.replace("&#x27;", "'")
    assert re.search(r"보상한도 [\d,]+억원 · 공제금액 [\d,]+억원", dash.answer_html.value)
    assert "(는)" not in dash.widget.children[1].children[0].value
    assert dash.heatmap.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "현행 계약과 권고 비교" in dash.compare_html.value


def test_a_risk_appetite_change_changes_the_recommendation(setup):
    bases, quotes, _ = setup
    eok, expected = _changing_ceiling(bases, quotes)
    dash = ScenarioDashboard(bases, quotes, spec=SPEC)
    dash.max_retained.value = str(eok)
    data = _data(dash.answer_html.value)
    assert (float(data["rec-limit"]), float(data["rec-deductible"])) == \
        (expected.limit, expected.deductible)
    dash.max_premium.value = "5"                   # nothing costs 5억: the binding ceiling named
    assert _data(dash.answer_html.value)["state"] == "none"
    shown = dash.answer_html.value               # in Korean, without the API's code names
    assert "막는 한도: 연간 보험료 ≤ 5억원" in shown and "max_premium" not in shown


def test_bad_inputs_grey_the_results_instead_of_leaving_them_looking_current(setup):
    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC)
    dash.max_premium.value = "-5"
    assert _data(dash.answer_html.value)["state"] == "error"
    assert "0 이상의 금액" in dash.answer_html.value
    assert "opwb-stale" in dash.frontier_part._dom_classes
    dash.max_premium.value = "70"
    assert _data(dash.answer_html.value)["state"] == "ok"
    assert "opwb-stale" not in dash.frontier_part._dom_classes
    for control, value, fragment in ((dash.deductible, 500, "공제금액이 보상한도보다 큽니다"),
                                     (dash.coinsurance, 150, "100% 이하"),
                                     (dash.aggregate, 100, "연간 총한도가 건당 보상한도보다 작습니다")):
        good = control.value
        control.value = value
        assert _data(dash.status.value)["state"] == "error" and fragment in dash.error.value
        assert "opwb-stale" in dash.explore_part._dom_classes
        control.value = good
        assert _data(dash.status.value)["state"] == "ok" and dash.error.value == ""
        assert "opwb-stale" not in dash.explore_part._dom_classes


def test_explorer_figures_equal_the_api_and_cd_toggle_switches_base(setup):
    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC, initial=1)
    assert dash.limit.value == 400 and dash.deductible.value == 30
    dash.limit.value = 1_000
    after = _data(dash.status.value)
    expect = sc.evaluate(bases[True], quotes[1].replace(limit=1_000 * EOK), SPEC.settings)
    assert float(after["net-var"]) == expect["net_var"]
    assert float(after["expected-recovery"]) == expect["expected_recovery"]
    assert dash.picker.value == ("custom", 0)
    dash.cd.value = False
    after = _data(dash.status.value)
    expect = sc.evaluate(bases[False], quotes[1].replace(limit=1_000 * EOK), SPEC.settings)
    assert after["include-cd"] == "0" and float(after["net-var"]) == expect["net_var"]
    rec = management_answer(bases, quotes, spec=SPEC).recommendations[False]
    assert float(_data(dash.answer_html.value)["rec-limit"]) == rec.limit
    dash.picker.value = ("recommended", 0)
    assert dash.limit.value * EOK == rec.limit and dash.deductible.value * EOK == rec.deductible


def _heatmap_labels(drawn) -> dict:
    """(deductible, limit) → the label of each cell of the heat map the dashboard last drew
    (its table and keyword arguments redrawn on an Axes)."""
    from matplotlib.figure import Figure

    from opwb.report.plots.scenario import plot_frontier
    from tests.report.test_scenario_plots import cell_labels

    table, kw = drawn[-1]
    ax = Figure().subplots()
    plot_frontier(table, ax=ax, **{k: v for k, v in kw.items() if k not in ("size", "dpi")})
    return cell_labels(ax, table)


def test_heat_map_toggle_shows_the_break_even_premium_and_follows_the_settings(setup,
                                                                              monkeypatch):
    """Issue 21 item 2: "the heat map can show" the break-even premium; the toggle above it
    redraws it, and the view stays on the break-even premium when the settings change."""
    from opwb.app import dashboard as dmod
    from opwb.decision.robust import break_even
    from tests.report.test_scenario_plots import expected_labels

    bases, quotes, _ = setup
    drawn = []
    real = dmod.frontier_png

    def spy(table, **kw):
        drawn.append((table, kw))
        return real(table, **kw)
    monkeypatch.setattr(dmod, "frontier_png", spy)
    dash = ScenarioDashboard(bases, quotes, spec=SPEC)
    assert "opwb-heat-view" in dash.heat_view._dom_classes
    assert [label for label, _ in dash.heat_view.options] == ["순편익", "손익분기 보험료"]
    assert dash.heat_view.value == "net_benefit" and drawn[-1][1]["value"] == "net_benefit"
    net_png, n = dash.heatmap.value, len(drawn)

    dash.heat_view.value = "break_even_premium"
    assert len(drawn) == n + 1 and drawn[-1][1]["value"] == "break_even_premium"
    assert dash.heatmap.value[:8] == b"\x89PNG\r\n\x1a\n" and dash.heatmap.value != net_png
    api = management_answer(bases, quotes, spec=SPEC)
    rec = api.recommendations[True]
    assert drawn[-1][1]["recommended"] == (rec.deductible, rec.limit)
    before = _heatmap_labels(drawn)
    assert before == expected_labels(break_even(api.frontiers[True],
                                                SPEC.settings.cost_of_capital))
    assert drawn[-1][1].get("title") is None               # the view's own title
    dash.heat_view.value = "net_benefit"                   # back: the same picture as before
    assert dash.heatmap.value == net_png

    dash.heat_view.value = "break_even_premium"
    dash.cd.value = False                                  # the other loss data: same view
    assert drawn[-1][1]["value"] == "break_even_premium"
    assert _heatmap_labels(drawn) == expected_labels(
        break_even(api.frontiers[False], SPEC.settings.cost_of_capital))
    dash.cd.value = True
    dash.cost_of_capital.value = 0.2                       # a settings change: same view
    assert _data(dash.answer_html.value)["state"] == "ok"
    assert dash.heat_view.value == "break_even_premium"
    assert drawn[-1][1]["value"] == "break_even_premium"
    after = management_answer(bases, quotes, spec=SPEC.replace(settings=dash.settings()))
    assert _heatmap_labels(drawn) == expected_labels(break_even(after.frontiers[True], 0.2))
    assert _heatmap_labels(drawn) != before                # dearer capital: more to pay


def test_dates_are_iso_and_ceilings_blank_or_positive():
    assert parse_date("2006-12-31") == "2006-12-31"
    for bad in ("12/31/20", "2006-13-01", "", "06-12-31"):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_date(bad)
    assert parse_ceiling("", "x") is None and parse_ceiling("1,000", "x") == 1_000 * EOK
    for bad in ("-1", "abc", "inf"):
        with pytest.raises(ValueError):
            parse_ceiling(bad, "x")


def test_settings_change_and_more_years(setup):
    bases, quotes, rebuild = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC, rebuild=rebuild,
                             n_years_options=(20_000,))
    dash.valuation.value = "12/31/20"
    assert _data(dash.answer_html.value)["state"] == "error"
    assert "YYYY-MM-DD" in dash.answer_html.value
    dash.valuation.value = "2007-06-30"                 # a shorter residual term: more haircut
    assert _data(dash.answer_html.value)["state"] == "ok"
    seen = []
    dash.progress.observe(lambda c: seen.append(c["new"]), names="value")
    dash.run.click()
    assert dash.bases[True].n_years == 20_000 and seen and max(seen) == pytest.approx(1.0)
    assert "20,000년" in dash.head.value and "20,000년" in dash.precision_html.value
    expect = sc.evaluate(dash.bases[True], dash.chosen(), dash.settings())
    assert float(_data(dash.status.value)["net-var"]) == expect["net_var"]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else -(len(text.replace(",", "")) -
                                                          len(text.replace(",", "").rstrip("0")))


def test_displayed_digits_never_exceed_the_precision(setup):
    """Every "value ± error" on the page shows no more decimals than the error supports:
    two significant digits of the error fix the last digit (opwb.data.units.round_to_se)."""
    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC, initial=2)
    pages = dash.answer_html.value + dash.compare_html.value + dash.table.value
    pairs = re.findall(r"(-?[\d,]+(?:\.\d+)?) ± ([\d,]+(?:\.\d+)?)(억원|%)?", pages)
    assert len(pairs) > 15
    for value, error, _unit in pairs:
        se = float(error.replace(",", ""))
        if se == 0:
            continue
        allowed = 1 - int(math.floor(math.log10(se)))    # two significant digits of the error
        assert _decimals(value) <= allowed, (value, error)
        if "." in value or "." in error:             # shown to the same decimal place
            assert _decimals(value) == _decimals(error), (value, error)


# ---------------------------------------------------------------------------------------------
# Parameter uncertainty: behind its own button, in a background thread (issue 14)
# ---------------------------------------------------------------------------------------------
def _expected_uncertainty_alternatives(bases, quotes, cd):
    """The cover in force, the other quotes and the API's recommendation when it is none of
    them (written here from the API, not read from the dashboard)."""
    current = sc.current_cover(bases[True])
    alts = [current] + [q for q in quotes if q.policy_changes() != current.policy_changes()]
    rec = management_answer(bases, quotes, spec=SPEC).recommendations[cd]

    def terms(a):           # every term of the bond but the premium
        return {k: v for k, v in a.policy_changes().items() if k != "premium"}
    same = [a.name for a in alts if terms(a) == terms(rec.alternative())]
    name = same[0] if same else f"모형 권고 구조 ({rec.alternative().name})"
    if not same:
        alts.append(rec.alternative(name))
    return alts, name


def test_parameter_uncertainty_runs_once_in_a_thread_and_equals_the_api(setup):
    import html as _html

    import pandas as pd

    from opwb.report.uncertainty_tables import uncertainty_ko, uncertainty_sentence_ko
    from opwb.scenarios.uncertainty import parameter_uncertainty

    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC, uncertainty_worlds=4,
                             uncertainty_years=2_000)
    panel = dash.uncertainty
    assert panel.widget in dash.widget.children[-2:]         # below the rest of the page
    assert "모수 불확실성 계산" in panel.button.description and panel.result is None
    dash.cd.value = False                                    # the toggle's base is used
    seen = []
    panel.progress.observe(lambda c: seen.append(c["new"]), names="value")
    panel.button.click()
    first = panel.thread
    assert panel.running and panel.button.disabled
    panel.button.click()                                     # a second press starts nothing
    assert panel.thread is first
    first.join(timeout=120)
    assert not first.is_alive() and not panel.running and not panel.button.disabled
    assert seen and max(seen) == pytest.approx(1.0) and panel.progress.value == 1.0
    assert "완료" in panel.status.value

    losses, programme, _ = bundled_inputs()
    alts, recommended = _expected_uncertainty_alternatives(bases, quotes, False)
    expect = parameter_uncertainty(losses, programme, alts, n_worlds=4, n_years=2_000,
                                   seed=SPEC.seed, include_cd=False, settings=SPEC.settings,
                                   incidents=[i for i, _ in SPEC.incidents])
    got = panel.result
    pd.testing.assert_frame_equal(got.table, expect.table, check_exact=True)
    pd.testing.assert_series_equal(got.p_best, expect.p_best, check_exact=True)
    shown = _html.unescape(panel.output.value)
    assert _data(panel.output.value)["state"] == "ok"
    for text in uncertainty_ko(expect).to_numpy().ravel():
        assert text in shown, text
    assert uncertainty_sentence_ko(expect, recommended=recommended) in shown
    assert f"적합 모형 기준 권고(‘{recommended}’)" in shown and "세계 4개 × 모의실험 2,000년" in shown
    assert "opwb-stale" not in panel.output._dom_classes
    dash.cd.value = True                                     # other inputs: the result greys
    assert "opwb-stale" in panel.output._dom_classes
    dash.cd.value = False
    assert "opwb-stale" not in panel.output._dom_classes


def test_parameter_uncertainty_errors_are_korean_messages(setup, monkeypatch):
    import opwb.app.uncertainty_panel as up

    bases, quotes, _ = setup
    dash = ScenarioDashboard(bases, quotes, spec=SPEC, uncertainty_worlds=2,
                             uncertainty_years=500)
    panel = dash.uncertainty
    dash.valuation.value = "12/31/20"                        # a bad input: no run at all
    panel.button.click()
    assert panel.thread is None and not panel.button.disabled
    assert _data(panel.status.value)["state"] == "error" and "YYYY-MM-DD" in panel.status.value
    dash.valuation.value = "2006-12-31"

    def broken(*_a, **_k):
        raise ValueError("세계를 적합할 수 없습니다")
    monkeypatch.setattr(up, "parameter_uncertainty", broken)
    panel.button.click()
    panel.thread.join(timeout=30)
    assert _data(panel.status.value)["state"] == "error"
    assert "계산하지 못했습니다" in panel.status.value and "Traceback" not in panel.status.value
    assert not panel.button.disabled and not panel.running and panel.result is None
