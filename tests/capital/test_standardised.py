"""Basel III standardised approach (OPE25): BIC of a 35bn business indicator = 5.37bn and
ILM(LC/BIC = 1, 2, 0.5) = 1, 1.24109, 0.82970; insurance enters only through net losses.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from opwb.capital.standardised import bic, ilm, loss_component, standardised_approach

# -- Basel III standardised approach ------------------------------------------------------------

@pytest.mark.parametrize("bi, expected", [
    (35e9, 5.37e9),                       # OPE25 example
    (1e9, 0.12e9),
    (30e9, 0.12e9 + 0.15 * 29e9),
    (0.5e9, 0.06e9),
])
def test_bic_marginal_coefficients(bi, expected):
    assert bic(bi) == pytest.approx(expected, rel=1e-12)
    assert bic(bi * 1450.0, currency_per_eur=1450.0) == pytest.approx(expected * 1450.0)


@pytest.mark.parametrize("ratio, expected", [(1.0, 1.0), (2.0, 1.24109), (0.5, 0.82970)])
def test_ilm_golden(ratio, expected):
    assert ilm(ratio * 3e9, 3e9) == pytest.approx(expected, abs=5e-6)


def test_ilm_formula_vectorised():
    r = np.array([0.1, 1.0, 4.0])
    np.testing.assert_allclose(ilm(r, 1.0), np.log(math.e - 1 + r ** 0.8))


def test_sa_insurance_enters_only_through_net_losses():
    bi = 35e9
    b = 5.37e9
    gross_losses = np.full(10, b / 15.0)            # LC = BIC → ILM = 1
    res = standardised_approach(bi, gross_losses, annual_recoveries=gross_losses / 2)
    assert res.lc_gross == pytest.approx(b) and res.ilm_gross == pytest.approx(1.0)
    assert res.orc_gross == pytest.approx(b)
    assert res.lc_net == pytest.approx(b / 2)
    assert res.ilm_net == pytest.approx(0.82970, abs=5e-6)
    assert res.orc_net == pytest.approx(b * 0.82970, rel=1e-5)
    assert loss_component([1.0, 2.0, 3.0]) == pytest.approx(30.0)
    table = res.to_frame()
    assert list(table.index) == ["gross", "net of recoveries"]
    small = standardised_approach(0.5e9, gross_losses)   # bucket 1: ILM = 1
    assert small.ilm_gross == 1.0 and small.orc_gross == pytest.approx(0.06e9)
