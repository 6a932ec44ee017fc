"""opwb.analysis.claims: claims per policy, the seed's layer formula, the CD incident's profile.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opwb.analysis.claims import claims_record, incident_profile, layer_payout

from tests.analysis.conftest import EOK, frame

# -- claims record ----------------------------------------------------------------------

def test_claims_record_loss_ratio_arithmetic():
    losses = frame([
        ("A", "IF", "RB", "2002-01-05", "2002-02-01", 9e8, 4e8, "BBB"),
        ("B", "IF", "RB", "2003-01-05", "2003-02-01", 7e8, 2e8, "BBB"),
        ("C", "DPA", "RB", "2004-01-05", "2004-02-01", 2e8, 1e8, "OLD"),
        ("D", "EF", "RB", "2004-03-05", "2004-03-06", 1e8, 0.0, ""),
    ])
    programme = pd.DataFrame({"policy_id": ["BBB", "PROP"], "name": ["금융기관종합보험", "재산"],
                              "premium": [16e8, 2e8]})
    c = claims_record(losses, programme)
    assert list(c.index) == ["BBB", "PROP", "OLD"]
    assert c.loc["BBB", "claims"] == 2 and c.loc["BBB", "recoveries"] == 6e8
    assert c.loc["BBB", "gross_loss"] == 16e8
    assert c.loc["BBB", "n_years"] == 3 and c.loc["BBB", "premiums"] == 48e8
    assert c.loc["BBB", "loss_ratio"] == pytest.approx(6 / 48)
    assert c.loc["PROP", "claims"] == 0 and c.loc["PROP", "loss_ratio"] == 0.0
    assert np.isnan(c.loc["OLD", "annual_premium"]) and np.isnan(c.loc["OLD", "loss_ratio"])
    c5 = claims_record(losses, programme, years=range(2000, 2005))
    assert c5.loc["BBB", "premiums"] == 80e8 and c5.loc["BBB", "claims"] == 2
    c2 = claims_record(losses, programme, years=[2003, 2004])  # claim A (2002) left out
    assert (c2.loc["BBB", "claims"], c2.loc["BBB", "recoveries"]) == (1, 2e8)
    assert c2.loc["BBB", "loss_ratio"] == pytest.approx(2 / 32)


# -- layers and the CD incident ---------------------------------------------------------

def test_layer_payout_reproduces_the_seed_bbb_example():
    # seed slide 1-4: loss 1,000억; case 2 (L 400억, d 30억) pays 400억; case 3 (L 1,000억,
    # d 50억) pays 950억
    assert layer_payout(1000 * EOK, 30 * EOK, 400 * EOK) == 400 * EOK
    assert layer_payout(1000 * EOK, 50 * EOK, 1000 * EOK) == 950 * EOK
    assert list(layer_payout([1 * EOK, 10 * EOK], 5 * EOK, 50 * EOK)) == [0.0, 5 * EOK]
    with pytest.raises(ValueError):
        layer_payout(1.0, -1.0, 1.0)


def test_incident_profile_rank_shares_and_layers(small):
    p = incident_profile(small, "E2", deductible=0.5 * EOK, limits=[0.2 * EOK, 5 * EOK])
    assert (p.rank_all, p.n_all, p.rank_in_type, p.n_in_type) == (4, 5, 3, 3)
    assert p.share_of_type == pytest.approx(1 / 10) and p.share_of_all == pytest.approx(1 / 12.5)
    assert list(p.layers["payout"]) == [0.2 * EOK, 0.5 * EOK]
    assert list(p.layers["retained"]) == [0.8 * EOK, 0.5 * EOK]
    with pytest.raises(ValueError, match="no event with event_id 'nope'"):
        incident_profile(small, "nope")


def cd_incident(losses: pd.DataFrame) -> pd.Series:
    """The CD incident as recorded publicly: IF, RB, reported 2005-07-26, gross 650억."""
    hit = losses[(losses["event_type"] == "IF") & (losses["business_line"] == "RB")
                 & (losses["gross_loss"] == 650 * EOK)
                 & (losses["discovery_date"] == pd.Timestamp("2005-07-26"))]
    assert len(hit) == 1, "the bundled data must hold exactly one CD incident"
    return hit.iloc[0]


def test_bundled_cd_incident_place_and_bbb_payout(bundled):
    losses, programme = bundled
    cd = cd_incident(losses)
    p = incident_profile(losses, cd["event_id"], deductible=5 * EOK, limits=[50 * EOK])
    assert p.rank_in_type == 1
    assert p.rank_all == 1 + int((losses["gross_loss"] > 650 * EOK).sum())
    # the BBB then in force (limit 50억, deductible 5억) paid 50억: the layer formula agrees
    assert p.layers["payout"].iloc[0] == 50 * EOK == cd["insurance_recovery"]
    c = claims_record(losses, programme)
    paid = losses.loc[losses["policy_id"] == cd["policy_id"], "insurance_recovery"].sum()
    assert c.loc[cd["policy_id"], "recoveries"] == pytest.approx(paid)
    assert c["claims"].sum() == int((losses["policy_id"] != "").sum())
