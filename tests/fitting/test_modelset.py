"""Model sets: the bundled set against a refit of the bundled losses, save/load, the choice rule.
"""
from __future__ import annotations

import pandas as pd
import pytest

from opwb.fitting.frequency import (
    annual_counts,
    fit_frequency,
)
from opwb.fitting.mle import fit_severity

from tests.fitting.conftest import truncated_sample


# --------------------------------------------------------------------------- model set
def test_bundled_model_set_matches_a_refit_of_the_bundled_losses():
    import opwb
    from opwb.data.losses import load_losses
    from opwb.data.schema import COLLECTION_THRESHOLD
    from opwb.fitting.modelset import load_model_set
    models = load_model_set()
    losses = load_losses(opwb.data_path("losses.csv"))
    counts = annual_counts(losses, threshold=COLLECTION_THRESHOLD)
    assert set(models) == set(losses["event_type"])
    for cell, m in models.items():
        x = losses.loc[(losses.event_type == cell) & (losses.gross_loss > COLLECTION_THRESHOLD),
                       "gross_loss"].to_numpy(float)
        refit = fit_severity(x, m.severity.family, threshold=COLLECTION_THRESHOLD)
        assert m.threshold == COLLECTION_THRESHOLD and m.severity.n == x.size
        for p, v in refit.params.items():
            assert m.severity.params[p] == pytest.approx(v, rel=1e-6, abs=1e-9), (cell, p)
        assert m.frequency.mean == pytest.approx(counts[cell].mean())
        assert m.reason.startswith(m.severity.family)


def test_model_set_roundtrip_and_choice_rule(tmp_path):
    from opwb.fitting.modelset import CellFit, choose_family, load_model_set, save_model_set
    x, H = truncated_sample("lognormal", n_total=600, seed=2)
    sev = fit_severity(x, "lognormal", threshold=H)
    models = {"IF": CellFit(fit_frequency([3, 4, 5], threshold=H), sev, "because")}
    back = load_model_set(save_model_set(models, tmp_path / "m.json", note="n"))
    assert back == models
    with pytest.raises(ValueError, match="not an opwb model set"):
        load_model_set(sev.save(tmp_path / "fit.json"))
    table = pd.DataFrame({
        "family": ["a", "b", "c", "d"], "aic": [10.0, 11.0, 12.0, 13.0],
        "p_ks": [0.5, 0.5, 0.01, 0.5], "p_ad": [0.5, 0.5, 0.5, 0.5],
        "p_adup": [0.5, 0.5, 0.5, 0.5], "max_rel_se": [0.1, 5.0, 0.1, 0.1],
        "note": ["edge of the parameter space", "", "", ""]})
    assert choose_family(table)[0] == "d"             # a: at the edge, b: weak, c: rejected
    assert choose_family(table.iloc[:3])[0] == "b"    # weakly identified but passing
    assert "uncertain" in choose_family(table.iloc[:3])[1]
    assert choose_family(table.iloc[[0, 2]])[0] == "a"   # nothing passes: lowest AIC, flagged
    assert "treat with caution" in choose_family(table.iloc[[0, 2]])[1]
