"""Severity family registry: scipy agreement, closed forms, invariants for every family."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from opwb.fitting.families import SEVERITY_FAMILIES, family_names, get_family
from opwb.fitting.gandh import gh_quantile, gh_z

# parameters in KRW, heavy-tailed like operational losses
PARAMS = {
    "lognormal": dict(mu=16.0, sigma=2.0),
    "weibull": dict(shape=0.5, scale=2e7),
    "gamma": dict(shape=0.6, scale=5e7),
    "loglogistic": dict(shape=1.2, scale=2e7),
    "lomax": dict(alpha=1.5, scale=3e7),
    "genpareto": dict(xi=0.7, sigma=2e7),
    "burr12": dict(c=1.5, d=0.8, scale=2e7),
    "loggamma": dict(a=3.0, b=0.22),     # a power tail the data can tell from a lognormal
    "gandh": dict(A=2e7, B=1.5e7, g=1.8, h=0.15),
    "shifted_lognormal": dict(mu=16.0, sigma=2.0),
}
SCIPY = {  # the same distributions written directly with scipy.stats
    "lognormal": lambda p: stats.lognorm(p["sigma"], scale=math.exp(p["mu"])),
    "weibull": lambda p: stats.weibull_min(p["shape"], scale=p["scale"]),
    "gamma": lambda p: stats.gamma(p["shape"], scale=p["scale"]),
    "loglogistic": lambda p: stats.fisk(p["shape"], scale=p["scale"]),
    "lomax": lambda p: stats.lomax(p["alpha"], scale=p["scale"]),
    "genpareto": lambda p: stats.genpareto(p["xi"], scale=p["sigma"]),
    "burr12": lambda p: stats.burr12(p["c"], p["d"], scale=p["scale"]),
    "shifted_lognormal": lambda p: stats.lognorm(p["sigma"], scale=math.exp(p["mu"])),
}
Q = np.array([0.001, 0.05, 0.3, 0.5, 0.8, 0.99, 0.999])


def test_registry_lists_every_family_with_labels():
    assert family_names() == tuple(PARAMS)
    for name, fam in SEVERITY_FAMILIES.items():
        assert fam.name == name and fam.label and fam.label_ko
        assert set(fam.param_names) == set(PARAMS[name])
        assert len(fam.transform) == fam.n_params


@pytest.mark.parametrize("name", sorted(SCIPY))
def test_scipy_families_keep_a_frozen_scipy_distribution(name):
    d = SEVERITY_FAMILIES[name].dist(**PARAMS[name])
    ref = SCIPY[name](PARAMS[name])
    assert hasattr(d, "dist") and d.dist.name == ref.dist.name   # a frozen scipy rv
    x = ref.ppf(Q)
    np.testing.assert_allclose(d.cdf(x), Q, rtol=1e-10)


@pytest.mark.parametrize("name", sorted(SCIPY))
def test_fast_raw_functions_agree_with_scipy(name):
    fam, p = SEVERITY_FAMILIES[name], PARAMS[name]
    ref = SCIPY[name](p)
    args = tuple(p[k] for k in fam.param_names)
    x = ref.ppf(Q)
    np.testing.assert_allclose(fam.raw_logpdf(x, *args), ref.logpdf(x), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fam.raw_logsf(x, *args), ref.logsf(x), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fam.raw_isf(1 - Q, *args), x, rtol=1e-8)


def test_loggamma_is_exp_of_a_gamma_variable():
    a, b = PARAMS["loggamma"]["a"], PARAMS["loggamma"]["b"]
    d = SEVERITY_FAMILIES["loggamma"].dist(a=a, b=b)
    g = stats.gamma(a, scale=1 / b)                 # ln X ~ Gamma(shape a, rate b)
    x = np.exp(g.ppf(Q))
    np.testing.assert_allclose(d.cdf(x), Q, rtol=1e-9)
    np.testing.assert_allclose(d.pdf(x), g.pdf(np.log(x)) / x, rtol=1e-9)
    np.testing.assert_allclose(d.ppf(Q), x, rtol=1e-9)
    assert d.support()[0] == 1.0 and d.pdf(0.5) == 0.0


def test_gandh_quantile_matches_its_closed_form():
    A, B, g, h = 2e7, 1.5e7, 1.8, 0.15
    d = SEVERITY_FAMILIES["gandh"].dist(A=A, B=B, g=g, h=h)
    for p in (0.01, 0.5, 0.9, 0.999):
        z = stats.norm.ppf(p)
        closed = A + B * (math.exp(g * z) - 1) / g * math.exp(h * z * z / 2)
        assert float(d.ppf(p)) == pytest.approx(closed, rel=1e-12)
    # g = 0 limit: A + B z exp(h z²/2)
    z = stats.norm.ppf(0.95)
    assert float(gh_quantile(z, A, B, 0.0, h)) == pytest.approx(A + B * z * math.exp(h * z * z / 2))


def test_gandh_cdf_inverts_the_quantile_and_pdf_is_its_derivative():
    p = PARAMS["gandh"]
    d = SEVERITY_FAMILIES["gandh"].dist(**p)
    q = np.array([1e-6, 0.01, 0.3, 0.5, 0.9, 0.999, 1 - 1e-9])
    np.testing.assert_allclose(d.cdf(d.ppf(q)), q, rtol=1e-9)
    x = d.ppf(np.array([0.1, 0.5, 0.95]))
    eps = 1e-6 * x
    numeric = (d.cdf(x + eps) - d.cdf(x - eps)) / (2 * eps)
    np.testing.assert_allclose(d.pdf(x), numeric, rtol=1e-5)
    lo, hi = d.ppf(0.01), d.ppf(0.99)
    mass = integrate.quad(lambda t: float(d.pdf(t)), lo, hi, limit=200)[0]
    assert mass == pytest.approx(0.98, rel=1e-6)


def test_gandh_inversion_is_vectorised_over_parameters():
    z_true = np.linspace(-3, 3, 7)
    A = np.array([[0.0], [1.0]])
    x = gh_quantile(z_true, A, 2.0, 0.5, 0.2)        # shape (2, 7)
    np.testing.assert_allclose(gh_z(x, A, 2.0, 0.5, 0.2), np.broadcast_to(z_true, (2, 7)),
                               atol=1e-9)


@pytest.mark.parametrize("name", list(PARAMS))
def test_every_family_cdf_ppf_roundtrip_and_seeded_rvs(name):
    d = SEVERITY_FAMILIES[name].dist(**PARAMS[name])
    np.testing.assert_allclose(d.cdf(d.ppf(Q)), Q, rtol=1e-8)
    np.testing.assert_allclose(d.sf(d.isf(1 - Q)), 1 - Q, rtol=1e-8)
    x = d.ppf(Q)
    np.testing.assert_allclose(np.exp(d.logpdf(x)), d.pdf(x), rtol=1e-10)
    np.testing.assert_allclose(np.exp(d.logsf(x)), d.sf(x), rtol=1e-10)
    a = d.rvs(size=50, random_state=np.random.default_rng(3))
    b = d.rvs(size=50, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_bad_family_and_parameters_get_clear_errors():
    with pytest.raises(ValueError, match="unknown severity family 'pareto'; expected one of"):
        get_family("pareto")
    fam = SEVERITY_FAMILIES["lognormal"]
    with pytest.raises(ValueError, match=r"missing \['sigma'\], unexpected \['s'\]"):
        fam.dist(mu=1.0, s=2.0)
    with pytest.raises(ValueError, match="sigma=-1.0 must be positive and finite"):
        fam.dist(mu=1.0, sigma=-1.0)
    with pytest.raises(ValueError, match="h=-0.1 must be non-negative and finite"):
        SEVERITY_FAMILIES["gandh"].dist(A=0.0, B=1.0, g=0.5, h=-0.1)
