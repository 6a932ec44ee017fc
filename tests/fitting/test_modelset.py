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
def test_bundled_model_sets_match_a_refit_of_the_bundled_losses():
    """What the data identify — the chosen family, its status, log-likelihood, AIC and the
    1-in-1000 single loss — not coordinates on a flat ridge (the old test compared μ of a
    degenerate lognormal to 1e-6 and failed on AVX-512 machines)."""
    import opwb
    from opwb.data.schema import COLLECTION_THRESHOLD as H
    from opwb.data.synth import CD_INCIDENT
    from opwb.fitting.modelset import (BUNDLED_MODEL_FILES, load_model_set,
                                       losses_fingerprint)
    losses = opwb.load_losses(opwb.data_path("losses.csv"))
    variants = {BUNDLED_MODEL_FILES[0]: losses,
                BUNDLED_MODEL_FILES[1]: losses[losses.event_id != CD_INCIDENT["event_id"]]}
    for name, data in variants.items():
        models = load_model_set(opwb.data_path(name))
        assert models.fingerprint == losses_fingerprint(data, H) and models.threshold == H
        counts = annual_counts(data, threshold=H)
        assert set(models) == set(data["event_type"])
        for cell, m in models.items():
            x = data.loc[(data.event_type == cell) & (data.gross_loss >= H),
                         "gross_loss"].to_numpy(float)
            refit = fit_severity(x, m.severity.family, threshold=H)
            assert m.severity.status == refit.status == "ok", (name, cell)
            assert m.severity.n == x.size
            assert m.severity.loglik == pytest.approx(refit.loglik, abs=1e-6), (name, cell)
            assert m.severity.single_loss_quantile(0.999) == pytest.approx(
                refit.single_loss_quantile(0.999), rel=1e-5), (name, cell)
            assert m.frequency.mean == pytest.approx(counts[cell].mean())
            assert m.reason.startswith(m.severity.family + ": lowest AIC")


def test_model_set_roundtrip_and_choice_rule(tmp_path):
    from opwb.fitting.modelset import (CellFit, ModelSet, choose_family, load_model_set,
                                       save_model_set)
    x, H = truncated_sample("lognormal", n_total=600, seed=2)
    sev = fit_severity(x, "lognormal", threshold=H)
    models = ModelSet({"IF": CellFit(fit_frequency([3, 4, 5], threshold=H), sev, "because")},
                      H, "abc", True, "n")
    back = load_model_set(save_model_set(models, tmp_path / "m.json"))
    assert back == models and back.cells == models.cells and back["IF"] == models["IF"]
    with pytest.raises(ValueError, match="not an opwb model set"):
        load_model_set(sev.save(tmp_path / "fit.json"))
    base = {"status": "ok", "limit": "", "finite_mean": True, "tail_index": 0.0, "p_adup": 0.5,
            "warnings": ""}
    table = pd.DataFrame([
        {**base, "family": "a", "aic": 10.0, "status": "edge", "limit": "σ → 0: a Pareto",
         "warnings": "at its boundary"},
        {**base, "family": "b", "aic": 11.0, "finite_mean": False, "tail_index": 1.3},
        {**base, "family": "c", "aic": 12.0, "p_adup": 0.01},
        {**base, "family": "d", "aic": 13.0},
        {**base, "family": "e", "aic": 14.0}])
    family, why = choose_family(table)
    assert family == "d"                     # a: edge, b: infinite mean, c: tail rejected
    assert "a: status edge (limit σ → 0: a Pareto)" in why
    assert "b: infinite mean (tail index ξ = 1.30" in why
    assert "c: tail rejected by AD-up (bootstrap p = 0.01 < 0.05)" in why
    assert "Also credible: e." in why
    assert choose_family(table, allow_infinite_mean=True)[0] == "b"
    with pytest.raises(ValueError, match="no credible severity family .* a: status edge"):
        choose_family(table.iloc[:3])
