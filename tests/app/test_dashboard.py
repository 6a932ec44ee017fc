"""The management dashboard driven through its widgets (the browser test drives the page)."""
from __future__ import annotations

import re

import pytest

import opwb
from opwb import scenarios as sc
from opwb.app.dashboard import ScenarioDashboard
from opwb.data.losses import load_losses
from opwb.data.programme_table import load_programme
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import load_alternatives

EOK = opwb.EOK


@pytest.fixture(scope="module")
def setup():
    losses = load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(load_programme(opwb.data_path("insurance_programme.csv")))
    alts = load_alternatives(opwb.data_path("bbb_alternatives.csv"))

    def rebuild(cd, n, progress=None):
        return sc.build_scenario_base(losses, prog, include_cd=cd, n_years=n, seed=3,
                                      progress=progress)
    bases = {cd: rebuild(cd, 10_000) for cd in (True, False)}
    return bases, alts, rebuild


def _data(dash):
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', dash.status.value))


def test_limit_change_updates_outputs_to_the_api_values(setup):
    bases, alts, _ = setup
    dash = ScenarioDashboard(bases, alts, initial=1)
    assert dash.limit.value == 400 and dash.deductible.value == 30
    before = _data(dash)
    dash.limit.value = 1_000
    after = _data(dash)
    assert after["state"] == "ok" and float(after["limit"]) == 1_000 * EOK
    expect = sc.evaluate(bases[True], alts[1].replace(limit=1_000 * EOK))
    assert float(after["net-var"]) == expect["net_var"]
    assert float(after["expected-recovery"]) == expect["expected_recovery"]
    assert float(after["net-var"]) <= float(before["net-var"])
    assert float(after["expected-recovery"]) > float(before["expected-recovery"])
    assert dash.picker.value == -1  # edited terms are no longer the named alternative
    assert dash.chart.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1,000억원" in dash.status.value and "기대 연간 보험금" in dash.table.value


def test_bad_inputs_show_a_message_not_a_traceback(setup):
    bases, alts, _ = setup
    dash = ScenarioDashboard(bases, alts, initial=1)
    for control, value, fragment in ((dash.deductible, -5, "공제금액은 0 이상"),
                                     (dash.coinsurance, 150, "100% 이하"),
                                     (dash.aggregate, 100, "연간 총한도가 건당 보상한도보다 작습니다")):
        good = control.value
        control.value = value
        assert fragment in dash.error.value and "opwb-message" in dash.error.value
        assert _data(dash)["state"] == "error"
        control.value = good
        assert dash.error.value == "" and _data(dash)["state"] == "ok"


def test_picker_cd_toggle_and_settings(setup):
    bases, alts, _ = setup
    dash = ScenarioDashboard(bases, alts, initial=0)
    dash.picker.value = 2
    assert (dash.limit.value, dash.deductible.value, dash.premium.value) == (1_000, 50, 70)
    with_cd = float(_data(dash)["expected-recovery"])
    dash.cd.value = False
    assert _data(dash)["include-cd"] == "0"
    assert float(_data(dash)["expected-recovery"]) == \
        sc.evaluate(bases[False], alts[2])["expected_recovery"] < with_cd
    dash.cost_of_capital.value = 0.2
    alt, settings = dash.current()
    assert settings.cost_of_capital == 0.2 and dash.last["capital_saving"] == pytest.approx(
        0.2 * dash.last["bond_regulatory_relief"])


def test_resimulate_reports_progress_and_uses_the_new_years(setup):
    bases, alts, rebuild = setup
    seen = []
    dash = ScenarioDashboard(dict(bases), alts, initial=1, rebuild=rebuild,
                             n_years_options=(10_000, 20_000))
    dash.progress.observe(lambda ch: seen.append(ch["new"]), names="value")
    dash.n_years.value = 20_000
    dash._resimulate()
    assert all(b.n_years == 20_000 for b in dash.bases.values())
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 4
    assert "20,000년 시뮬레이션 완료" in dash.progress_text.value
    assert not dash.run.disabled and _data(dash)["state"] == "ok"
