"""opwb.report.tables: what the severity cap's tables and sentence say when the case does
not state a cap (issue 21 item 6: opwb's default is never shown as the bank's choice)."""
from __future__ import annotations

import pandas as pd

from opwb.data.case import bundled_case
from opwb.data.units import DEFAULT_NOTE, format_krw
from opwb.fitting.modelset import load_model_set
from opwb.report.tables import cap_sentence_ko, chosen_models_ko


def _capped_column(cap: float, stated: bool) -> pd.Series:
    case = bundled_case()
    models = load_model_set(case.paths("models")[0])
    table = chosen_models_ko(models, severity_cap=cap, cap_stated=stated)
    return table["99.9% 단일손실"]


def test_chosen_models_say_an_unstated_cap_is_the_default():
    case = bundled_case()
    models = load_model_set(case.paths("models")[0])
    q = sorted(m.severity.single_loss_quantile(0.999) for m in models.values())
    cap = q[-1] / 2                                  # the heaviest cell's 1-in-1000 is capped
    stated, default = _capped_column(cap, True), _capped_column(cap, False)
    capped = stated.str.contains("→ 상한")
    assert capped.any() and (default.str.contains("→ 상한") == capped).all()
    assert not stated.str.contains(DEFAULT_NOTE).any()
    assert (default[capped] == stated[capped] + f" ({DEFAULT_NOTE})").all()
    assert (default[~capped] == stated[~capped]).all()
    assert stated[capped].str.contains(format_krw(cap), regex=False).all()


def test_cap_sentence_says_an_unstated_cap_is_the_default():
    cap = 1e12
    sens = pd.DataFrame({"severity_cap": [0.5 * cap, cap, 2 * cap, float("inf")],
                         "capital_sum": [7e11, 1e12, 1.6e12, 8e12],
                         "capital_sum_se": [1e9, 1e9, 1e9, 1e9]})
    stated = cap_sentence_ko(sens, cap)
    default = cap_sentence_ko(sens, cap, cap_stated=False)
    assert f"상한 {format_krw(cap)}에서" in stated and DEFAULT_NOTE not in stated
    assert f"상한 {format_krw(cap)} ({DEFAULT_NOTE})에서" in default
    assert "+60%" in stated and "\u221230%" in stated       # the moves, with the minus sign
