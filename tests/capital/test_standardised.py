"""Basel III standardised approach (OPE25): BIC of a €35bn business indicator = €5.37bn
(OPE25.7, footnote) and ILM(LC/BIC = 1, 2, 0.5) = 1, 1.24109, 0.82970; insurance enters only
through net losses; the currency and its EUR rate are stated, never assumed.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from opwb.capital.sa_losses import loss_data_from_annual
from opwb.capital.standardised import bic, ilm, loss_component, standardised_approach

KRW_PER_EUR = 1450.0


@pytest.mark.parametrize("bi, expected", [
    (35e9, 5.37e9),                       # OPE25.7 footnote
    (1e9, 0.12e9),
    (30e9, 0.12e9 + 0.15 * 29e9),
    (0.5e9, 0.06e9),
])
def test_bic_marginal_coefficients(bi, expected):
    assert bic(bi, currency="EUR") == pytest.approx(expected, rel=1e-12)
    assert bic(bi * KRW_PER_EUR, currency="KRW", eur_rate=KRW_PER_EUR) == pytest.approx(
        expected * KRW_PER_EUR, rel=1e-12)


def test_a_krw_business_indicator_needs_its_rate():
    bi = 2.9e12                                         # 2.9조원 = €2bn at 1,450
    assert bic(bi, currency="KRW", eur_rate=KRW_PER_EUR) == pytest.approx(
        (0.12 * 1e9 + 0.15 * 1e9) * KRW_PER_EUR)
    with pytest.raises(ValueError, match="currency"):
        bic(bi)                                         # was: silently read as euros
    with pytest.raises(ValueError, match="eur_rate"):
        bic(bi, currency="KRW")
    with pytest.raises(ValueError, match="currency_per_eur was replaced"):
        bic(bi, currency_per_eur=KRW_PER_EUR)
    with pytest.raises(ValueError, match="eur_rate"):
        bic(bi, currency="EUR", eur_rate=KRW_PER_EUR)
    with pytest.raises(ValueError, match="positive"):
        bic(bi, currency="KRW", eur_rate=-1.0)


@pytest.mark.parametrize("ratio, expected", [(1.0, 1.0), (2.0, 1.24109), (0.5, 0.82970)])
def test_ilm_golden(ratio, expected):
    assert ilm(ratio * 3e9, 3e9) == pytest.approx(expected, abs=5e-6)


def test_ilm_formula_vectorised():
    r = np.array([0.1, 1.0, 4.0])
    np.testing.assert_allclose(ilm(r, 1.0), np.log(math.e - 1 + r ** 0.8))


def test_bare_loss_component_needs_five_to_ten_years():
    assert loss_component([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(45.0)
    assert loss_component(np.arange(10.0)) == pytest.approx(15 * 4.5)
    for years in (4, 11):
        with pytest.raises(ValueError, match="10 years"):
            loss_component(np.ones(years))


def _annual(per_year: float, recovered: float, years=range(2015, 2025)):
    return loss_data_from_annual(pd.Series(per_year, index=list(years)), recovered,
                                 currency="EUR", threshold_applied=True)


def test_sa_insurance_enters_only_through_net_losses():
    b = 5.37e9                                          # BIC of BI = €35bn
    res = standardised_approach(35e9, _annual(b / 15, b / 30), currency="EUR")
    assert res.lc_gross == pytest.approx(b) and res.ilm_gross == pytest.approx(1.0)
    assert res.orc_gross == pytest.approx(b)
    assert res.lc_net == pytest.approx(b / 2)
    assert res.ilm_net == pytest.approx(0.82970, abs=5e-6)
    assert res.orc_net == pytest.approx(b * 0.82970, rel=1e-5)
    assert list(res.to_frame().index) == ["gross", "net of recoveries"]
    assert res.bucket == 3 and not res.transitional and res.years == tuple(range(2015, 2025))
    small = standardised_approach(0.5e9, _annual(b / 15, 0.0), currency="EUR")   # bucket 1
    assert small.ilm_gross == 1.0 and small.orc_gross == pytest.approx(0.06e9)
    assert any("bucket 1" in n for n in small.notes)


def test_sa_in_krw_equals_the_sa_in_euros():
    """The same bank in KRW and in EUR: every amount scales by the rate, ILM is unchanged
    (BI ₩50.75조 = €35bn; events either side of the €20,000 = ₩29,000,000 threshold)."""
    rng = np.random.default_rng(3)
    n = 400
    eur = pd.DataFrame({
        "booking_date": (pd.to_datetime("2015-01-01")
                         + pd.to_timedelta(rng.integers(0, 3650, n), "D")),
        "gross_loss": np.round(rng.lognormal(np.log(2e5), 2.0, n), 2),
    })
    eur["insurance_recovery"] = np.round(0.3 * eur["gross_loss"] * (rng.random(n) < 0.3), 2)
    eur["other_recovery"] = 0.0
    krw = eur.assign(**{c: eur[c] * KRW_PER_EUR for c in
                        ("gross_loss", "insurance_recovery", "other_recovery")})
    a = standardised_approach(35e9, eur, currency="EUR")
    k = standardised_approach(35e9 * KRW_PER_EUR, krw, currency="KRW", eur_rate=KRW_PER_EUR)
    assert a.loss_data.n_below_threshold == k.loss_data.n_below_threshold > 0
    for f in ("bic", "lc_gross", "lc_net", "orc_gross", "orc_net"):
        assert getattr(k, f) == pytest.approx(getattr(a, f) * KRW_PER_EUR, rel=1e-9), f
    assert k.ilm_net == pytest.approx(a.ilm_net, rel=1e-12)


def test_old_call_forms_raise_clear_errors():
    annual = np.full(10, 1e9)
    with pytest.raises(ValueError, match="loss_data_from_annual"):
        standardised_approach(8e12, annual, annual / 2, currency_per_eur=1200.0)
    with pytest.raises(ValueError, match="loss_data_from_annual"):
        standardised_approach(8e12, pd.Series(annual), currency="KRW", eur_rate=1200.0)
    with pytest.raises(ValueError, match="currency_per_eur was replaced"):
        standardised_approach(35e9, _annual(1e9, 0.0), currency_per_eur=1.0)
    with pytest.raises(ValueError, match="currency"):
        standardised_approach(35e9, _annual(1e9, 0.0))
    with pytest.raises(ValueError, match="in EUR at 1.0 per EUR, the BI in KRW"):
        standardised_approach(35e9, _annual(1e9, 0.0), currency="KRW", eur_rate=1200.0)
