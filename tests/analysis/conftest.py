"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import pandas as pd
import pytest

import opwb
from opwb.data.schema import LOSS_COLUMNS

EOK = 1e8


def frame(rows) -> pd.DataFrame:
    """Canonical loss frame from (event_id, et, bl, occurrence, discovery, gross, ins, policy)."""
    df = pd.DataFrame(rows, columns=["event_id", "event_type", "business_line",
                                     "occurrence_date", "discovery_date", "gross_loss",
                                     "insurance_recovery", "policy_id"])
    df["occurrence_date"] = pd.to_datetime(df["occurrence_date"])
    df["discovery_date"] = pd.to_datetime(df["discovery_date"])
    df["booking_date"] = pd.NaT
    df["gross_loss"] = df["gross_loss"].astype(float)
    df["insurance_recovery"] = df["insurance_recovery"].astype(float)
    df["other_recovery"] = 0.0
    df["description"] = "test"
    return df[list(LOSS_COLUMNS)]


@pytest.fixture
def small() -> pd.DataFrame:
    return frame([
        ("E1", "IF", "RB", "2002-03-01", "2002-04-01", 3e8, 0.0, ""),
        ("E2", "IF", "RB", "2004-05-01", "2005-01-10", 1e8, 5e7, "BBB"),
        ("E3", "EF", "CB", "2004-06-01", "2004-06-02", 5e7, 0.0, ""),
        ("E4", "DPA", "RB", "2002-01-01", "2002-01-03", 2e8, 0.0, ""),
        ("E5", "IF", "CB", "2004-07-01", "2004-07-01", 6e8, 0.0, ""),
    ])


# -- the bundled data -------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundled():
    from opwb.data.losses import load_losses
    from opwb.data.programme_table import load_programme
    return (load_losses(opwb.data_path("losses.csv")),
            load_programme(opwb.data_path("insurance_programme.csv")))
