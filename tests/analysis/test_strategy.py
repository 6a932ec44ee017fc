"""opwb.analysis.strategy: the frequency × impact matrix of seed slide 1-3.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.analysis.strategy import STRATEGIES, strategy_matrix
from opwb.data.taxonomy import EVENT_TYPE_CODES

from tests.analysis.conftest import EOK, frame

# -- frequency × impact strategies (seed slide 1-3) -------------------------------------

def quadrant_frame() -> pd.DataFrame:
    """Four years 2001-2004. EDPM: 40 small (reduce); EF: 40 large (avoid);
    IF: one huge (transfer); DPA: one small (accept); other types none."""
    rows = []
    for k in range(40):
        d = f"{2001 + k % 4}-03-{1 + k % 28:02d}"
        rows.append((f"M{k:02d}", "EDPM", "PS", d, d, 0.1 * EOK, 0.0, ""))
        rows.append((f"F{k:02d}", "EF", "RB", d, d, 50 * EOK, 0.0, ""))
    rows.append(("I1", "IF", "RB", "2002-07-01", "2002-07-26", 100 * EOK, 0.0, ""))
    rows.append(("D1", "DPA", "RB", "2003-09-01", "2003-09-01", 0.1 * EOK, 0.0, ""))
    return frame(rows)


@pytest.mark.parametrize("kwargs", [
    {},  # defaults: medians over event types
    {"frequency_cutoff": 1.0, "impact_cutoff": 10 * EOK, "impact": "max"},
])
def test_strategy_matrix_four_quadrants(kwargs):
    m = strategy_matrix(quadrant_frame(), **kwargs)
    assert list(m.index) == list(EVENT_TYPE_CODES)
    assert m.loc["EDPM", "frequency"] == 10.0 and m.loc["IF", "frequency"] == 0.25
    assert m.loc["EPWS", "frequency"] == 0.0 and (m["n_years"] == 4).all()
    expected = {"EDPM": "reduce", "EF": "avoid", "IF": "transfer", "DPA": "accept",
                "EPWS": "accept", "CPBP": "accept", "BDSF": "accept"}
    assert m["strategy"].to_dict() == expected
    assert m.loc["IF", "strategy_ko"] == "위험 전가" and m.loc["EDPM", "strategy_ko"] == "위험 감소"
    assert m.loc["EF", "strategy_ko"] == "위험 회피" and m.loc["DPA", "strategy_ko"] == "위험 수용"


def test_strategy_matrix_default_cutoffs_are_medians():
    m = strategy_matrix(quadrant_frame())
    # frequencies 0.25, 10, 0, 0, 0.25, 0, 10 -> median 0.25 (high means strictly above)
    assert m["frequency_cutoff"].iloc[0] == 0.25
    assert not m.loc["IF", "high_frequency"] and m.loc["EF", "high_frequency"]
    # impacts of the four types with losses: 100, 50, 0.1, 0.1 억 -> median 25.05 억
    assert m["impact_cutoff"].iloc[0] == pytest.approx(25.05 * EOK)
    assert np.isnan(m.loc["CPBP", "impact"]) and not m.loc["CPBP", "high_impact"]


def test_strategy_impact_is_the_stated_quantile():
    rows = [(f"E{k}", "CPBP", "CB", "2005-01-01", "2005-01-01", k * EOK, 0.0, "")
            for k in range(1, 6)]
    m = strategy_matrix(frame(rows), impact_quantile=0.95)
    assert m.loc["CPBP", "impact"] == pytest.approx(4.8 * EOK)  # 4 + 0.8 (linear)
    assert strategy_matrix(frame(rows), impact="max").loc["CPBP", "impact"] == 5 * EOK
    assert m.loc["CPBP", "impact_measure"] == "손실금액 95% 분위수"
    with pytest.raises(ValueError, match="impact must be"):
        strategy_matrix(frame(rows), impact="mean")


def test_strategy_table_covers_the_four_quadrants():
    assert {s.code for s in STRATEGIES.values()} == {"reduce", "avoid", "accept", "transfer"}
    transfer = STRATEGIES[(False, True)]
    assert transfer.code == "transfer" and "보험" in transfer.action_ko
