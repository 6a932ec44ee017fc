"""Field fault of issue 22, item 13 (the standardised approach's part): a business indicator
of 0 gives the right capital, never NaN, and the ILM that does not exist is refused clearly.
"""
from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest

from opwb.capital.sa_losses import loss_data_from_annual
from opwb.capital.standardised import ilm, standardised_approach
from opwb.report.capital_tables import standardised_ko


def _losses(amount: float):
    return loss_data_from_annual(pd.Series([amount] * 10, index=range(2015, 2025)), 0.0,
                                 currency="EUR", threshold_applied=True)


@pytest.mark.parametrize("amount", [0.0, 1e6])
@pytest.mark.parametrize("bucket1_ilm_one", [True, False])
def test_a_business_indicator_of_zero_has_zero_capital(amount, bucket1_ilm_one):
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no division by zero on the way
        r = standardised_approach(0.0, _losses(amount), currency="EUR",
                                  bucket1_ilm_one=bucket1_ilm_one)
    assert r.bic == 0.0 and r.orc_gross == 0.0 and r.orc_net == 0.0
    if bucket1_ilm_one:
        assert r.ilm_net == 1.0
    else:   # LC/BIC does not exist: said so, and shown so
        assert math.isnan(r.ilm_net) and any("BI = 0" in n for n in r.notes)
        assert standardised_ko(r)["ILM"].tolist() == ["존재하지 않음"] * 2


def test_the_ilm_of_a_zero_bic_is_a_clear_error():
    with pytest.raises(ValueError, match=r"BIC > 0"):
        ilm(1.0, 0.0)
    with pytest.raises(ValueError, match=r"LC ≥ 0"):
        ilm(-1.0, 1.0)
    assert ilm(1.0, 1.0) == 1.0
