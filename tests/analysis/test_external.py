"""opwb.analysis.external: internal versus external large losses.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import opwb
from opwb.analysis.external import external_comparison
from opwb.data.taxonomy import EVENT_TYPE_CODES


def test_external_comparison_merges_and_ranks(small):
    ext = pd.DataFrame({"institution": ["Barings"], "country": ["UK"], "year": [1995],
                        "event_type": ["IF"], "amount_krw": [4e8]})
    c = external_comparison(small, ext, n=2)
    assert list(c["name"]) == ["E5", "Barings (UK)", "E1"]
    assert list(c["source"]) == ["internal", "external", "internal"]
    assert list(c["rank"]) == [1, 2, 3] and c.loc[1, "event_type_ko"] == "내부사취"
    assert list(c["year"]) == [2004, 1995, 2002]


def test_bundled_external_losses_in_the_comparison(bundled):
    from opwb.data.external import load_external_losses
    losses, _ = bundled
    ext = load_external_losses(opwb.data_path("external_losses.csv"))
    assert len(ext) >= 5 and set(ext["event_type"]) <= set(EVENT_TYPE_CODES)
    # amount_krw is the original amount at the stated rate
    assert np.allclose(ext["amount_krw"], ext["amount_original"] * ext["fx_rate_krw"], rtol=1e-6)
    c = external_comparison(losses, ext, n=10)
    assert len(c) == len(ext) + 10 and c["amount_krw"].is_monotonic_decreasing
