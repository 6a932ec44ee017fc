"""The shared specification: precision of the headline figure and enough years (issue 11)."""
from __future__ import annotations

import pytest

from opwb.scenarios.evaluation import evaluate
from opwb.scenarios.runlength import enough_years
from opwb.scenarios.spec import (DEFAULT_SPEC, current_cover, precision, scenario_bases)


def test_precision_and_the_years_a_target_needs():
    p = precision({"net_var": 100.0, "net_var_se": 4.0}, 10_000, 0.02)
    assert not p.met and p.relative_se == pytest.approx(0.04)
    assert p.years_needed == 40_000                 # (4% / 2%)² × 10,000: error ∝ 1/√n
    p = precision({"net_var": 100.0, "net_var_se": 1.0}, 10_000, 0.02)
    assert p.met and p.years_needed == 10_000
    assert "목표 충족" in p.describe_ko() and "1.0%" in p.describe_ko()


def test_a_predictive_bases_precision_names_the_worlds_it_needs():
    """On a predictive base the error is the worlds' spread (the block bootstrap): the
    target needs more worlds — (6% / 2%)² × 100 = 900 — not more years."""
    p = precision({"net_var": 100.0, "net_var_se": 6.0}, 100_000, 0.02, worlds=100)
    assert not p.met and p.worlds_needed == 900
    text = p.describe_ko()
    assert "900개의 세계" in text and "100개 세계" in text and "년이 필요" not in text
    assert precision({"net_var": 100.0, "net_var_se": 1.0}, 100_000, 0.02,
                     worlds=100).worlds_needed == 100


def test_enough_years_rebuilds_to_meet_the_target_within_the_budget():
    start = DEFAULT_SPEC.replace(n_years=5_000, seed=11)
    bases = scenario_bases(start)
    assert scenario_bases(start) is bases            # built once per process and spec
    r = evaluate(bases[True], current_cover(bases[True]), start.settings)
    rse = r["net_var_se"] / r["net_var"]
    spec = start.replace(target_precision=rse / 2)   # needs about 4x the years
    run = enough_years(spec, time_budget=300, max_years=200_000)
    assert run.spec.n_years >= precision(r.metrics, 5_000, rse / 2).years_needed
    # met, or stopped at a stated limit (the error's own noise at few tail years)
    assert run.precision.met or "미달" in run.note, run.note
    assert "다시 모의실험" in run.note and f"{run.spec.n_years:,}년" in run.note
    assert run.precision.relative_se == pytest.approx(
        evaluate(run.bases[True], current_cover(run.bases[True]), run.spec.settings)["net_var_se"]
        / evaluate(run.bases[True], current_cover(run.bases[True]), run.spec.settings)["net_var"])
    tight = enough_years(spec, time_budget=1e-9)      # no time: the run it has, said so
    assert tight.spec.n_years == 5_000 and not tight.precision.met
    assert "한도" in tight.note
    with pytest.raises(ValueError, match="max_years"):
        enough_years(spec, max_years=1_000)


def test_a_spec_is_used_with_its_own_case_only(second_bank_case):
    """The bundled case's spec with another bank's case is refused, never mixed: the
    stored bases are keyed by the case, and the spec carries its grid, bond and incidents."""
    import opwb
    from opwb.scenarios.spec import DEFAULT_SPEC, scenario_bases

    with pytest.raises(ValueError, match="another case"):
        scenario_bases(DEFAULT_SPEC, case=opwb.load_case(second_bank_case))


def test_the_header_and_ranges_say_an_unstated_cap_is_the_default(tmp_path):
    """Issue 21 item 6: a case that states no severity cap is simulated at opwb's default
    (1조원), which the header line and the controls' ranges call the default."""
    from opwb.app.inputs import Ranges
    from opwb.data.case import bundled_case, load_case
    from opwb.data.units import DEFAULT_NOTE, format_krw
    from opwb.scenarios.spec import spec_for
    from tests.cases import bundled_case_without

    full = spec_for(bundled_case())
    unstated = spec_for(load_case(bundled_case_without(("severity_cap",), tmp_path / "b")))
    assert full.severity_cap_stated and not unstated.severity_cap_stated
    assert unstated.severity_cap == full.severity_cap
    assert f"단일손실 상한 {format_krw(full.severity_cap)} · " in full.describe_ko()
    assert (f"단일손실 상한 {format_krw(full.severity_cap)} ({DEFAULT_NOTE}) · "
            in unstated.describe_ko())
    assert "사례의 단일손실 상한" in Ranges.for_spec(full).describe_ko()
    ranges = Ranges.for_spec(unstated).describe_ko()
    assert "사례의" not in ranges and "기본" in ranges and "사례가 정하지 않음" in ranges
