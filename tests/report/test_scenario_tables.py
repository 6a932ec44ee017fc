"""Scenario figures as text: every figure with its standard error, rounded to it, Korean
labels for every figure ``evaluate`` returns, paired differences marked when the simulation
cannot tell two alternatives apart."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from opwb.data.units import format_krw_with_se
from opwb.report.scenario_tables import (
    FIGURE_LABELS,
    HEADLINE_KEYS,
    capital_sentence_ko,
    difference_table_ko,
    figure_keys,
    figure_label,
    figure_text,
    percent_with_se,
    scenario_table_ko,
    styled,
)
from opwb.scenarios import DEFAULT_SPEC, current_cover, evaluate, scenario_bases

EOK = 1e8


@pytest.fixture(scope="module")
def results():
    spec = DEFAULT_SPEC.replace(n_years=20_000)
    bases = scenario_bases(spec)
    alts = [current_cover(bases[True]),
            current_cover(bases[True]).replace(name="한도 400억", limit=400 * EOK,
                                              deductible=30 * EOK, premium=50 * EOK,
                                              aggregate_limit=math.inf)]
    return [evaluate(bases[cd], a, spec.settings) for cd in (True, False) for a in alts]


def test_percentages_are_rounded_to_their_error():
    # error 0.154% → two significant digits (0.15) → the value to two decimals
    assert percent_with_se(0.61234, 0.00154) == "61.23 ± 0.15%"
    # error 2.3% → 2.3 → one decimal
    assert percent_with_se(0.5, 0.023) == "50.0 ± 2.3%"
    assert percent_with_se(0.61234, 0.0) == "61.2%"
    assert percent_with_se(math.nan, math.nan) == "—"
    assert percent_with_se(math.inf, math.nan) == "∞"


def test_figure_text_by_kind():
    assert figure_text("net_var", 823_012_000_000, 16_345_000_000) == "8,230 ± 160억원"
    assert figure_text("p_exhaust", 0.26759, 0.0014) == "26.76 ± 0.14%"
    assert figure_text("cap_binds", 1.0, 0.0) == "예"
    assert figure_text("cap_binds", 0.0, 0.0) == "아니오"
    assert figure_text("premium", 16 * EOK, 0.0) == "16억원"


def test_every_figure_of_evaluate_has_a_korean_label(results):
    keys = figure_keys(results[0].metrics)
    expected = sorted(k for k in results[0].metrics
                      if not k.endswith("_se") and f"{k}_se" in results[0].metrics)
    assert sorted(keys) == expected
    unlabelled = [k for k in keys if figure_label(k) == k]
    assert not unlabelled
    assert all(any("가" <= ch <= "힣" for ch in FIGURE_LABELS[k]) for k in keys)


def test_scenario_table_cells_are_the_figures_with_their_errors(results):
    table = scenario_table_ko(results)
    assert isinstance(table.columns, pd.MultiIndex)
    assert table.columns.get_level_values(0).tolist() == ["CD 사건 포함"] * 2 + ["CD 사건 제외"] * 2
    assert table.index.tolist() == [FIGURE_LABELS[k] for k in HEADLINE_KEYS]
    for j, r in enumerate(results):
        for i, key in enumerate(HEADLINE_KEYS):
            if key == "cap_binds":
                assert table.iat[i, j] == ("예" if r[key] else "아니오")
            else:
                assert table.iat[i, j] == format_krw_with_se(r[key], r[f"{key}_se"], unit="억")
    one = scenario_table_ko(results[:2], keys=("net_var",))
    assert one.columns.tolist() == [r.alternative.name for r in results[:2]]


def test_difference_table_marks_indistinguishable_alternatives():
    diff = pd.DataFrame({"difference": [48.3 * EOK, -5 * EOK, 0.0],
                         "se": [6.1 * EOK, 18 * EOK, 0.0]},
                        index=pd.Index(["bond_regulatory_relief", "net_benefit", "premium"],
                                       name="figure"))
    table = difference_table_ko({"한도 400억": diff})
    row = table.loc["한도 400억"]
    assert row[FIGURE_LABELS["bond_regulatory_relief"]] == "+48.3 ± 6.1억원"
    assert row[FIGURE_LABELS["net_benefit"]] == "−5 ± 18억원 (구별 불가)"
    assert row[FIGURE_LABELS["premium"]] == "0억원"


def test_capital_sentence_carries_every_capital_figure_with_its_error(results):
    r = results[0]
    text = capital_sentence_ko(r)
    for key in ("regulatory_gross_capital", "regulatory_relief", "regulatory_net_capital",
                "bond_regulatory_relief"):
        assert format_krw_with_se(r[key], r[f"{key}_se"]) in text
    assert r.alternative.name in text and "CD 사건 포함" in text


def test_styled_tables_wrap_without_breaking_korean_words(results):
    html = styled(scenario_table_ko(results), caption="<표>").to_html()
    assert "keep-all" in html and "white-space: normal" in html
    assert "&lt;표&gt;" in html
