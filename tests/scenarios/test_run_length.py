"""Results that do not move with the run length (issue 11, finding 1).

Before, re-simulating with 200,000 years turned the 400억 option's economic relief from
417.5억 into 12억. Now, on the bundled data with the CD incident, the 1,000억 alternative's
net VaR, bond relief and net benefit at 50,000 and 200,000 years differ by less than 3.5
standard errors of their difference (the runs share their first 50,000 years, which only
makes the stated errors conservative).
"""
from __future__ import annotations

import math

import pytest

import opwb
from opwb import scenarios as sc
from opwb.insurance.programme import Programme

KEYS = ("net_var", "bond_regulatory_relief", "net_benefit", "expected_recovery",
        "economic_relief", "net_es")


@pytest.fixture(scope="module")
def results():
    losses = opwb.load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(opwb.load_programme(opwb.data_path("insurance_programme.csv")))
    alt = opwb.load_alternatives(opwb.data_path("bbb_alternatives.csv"))[2]
    assert alt.limit == 1_000 * opwb.EOK
    out = {}
    for n in (50_000, 200_000):
        base = sc.build_scenario_base(losses, prog, include_cd=True, n_years=n, seed=2005)
        out[n] = sc.evaluate(base, alt)
    return out


@pytest.mark.parametrize("key", KEYS)
def test_figures_agree_across_run_lengths_within_their_errors(results, key):
    a, b = results[50_000], results[200_000]
    se = math.hypot(a[f"{key}_se"], b[f"{key}_se"])
    assert 0 < se < math.inf
    assert abs(a[key] - b[key]) < 3.5 * se, (key, a[key], b[key], se)


def test_errors_shrink_with_the_run_length(results):
    # quantile and mean errors fall like 1/sqrt(n): 4x the years, about half the error
    for key in ("net_var", "expected_recovery"):
        ratio = results[200_000][f"{key}_se"] / results[50_000][f"{key}_se"]
        assert 0.3 < ratio < 0.75, (key, ratio)
