"""Enough simulated years, checked: a run length that meets the stated precision of the
headline figure within a time budget.

The Monte Carlo standard error of a quantile falls as ``1/sqrt(n)`` (Serfling 1980, §2.3.3),
so a run of ``n`` years whose net VaR has relative error ``r`` meets a target ``t`` with
``n · (r / t)²`` years. :func:`enough_years` builds the bases of a specification, checks the
headline figure of the reference alternative and, when the target is missed, rebuilds with
the years the rule asks for — if the build time, which grows in proportion to the years,
fits the budget; otherwise it returns the run it has with the precision it achieved and says
so. Nothing is rounded up silently: the returned :class:`RunLength` names the years used,
the precision reached and why it stopped.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase
from opwb.scenarios.evaluation import evaluate
from opwb.scenarios import spec as _spec
from opwb.scenarios.spec import Precision, ScenarioSpec, current_cover, precision

__all__ = ["RunLength", "enough_years"]


@dataclass(frozen=True)
class RunLength:
    """The bases of a run long enough (or as long as the budget allowed).

    ``spec``: the specification actually used (its ``n_years``); ``precision``: the headline
    figure's precision on it; ``note``: how the length was chosen, in Korean.
    """

    bases: dict[bool, ScenarioBase]
    spec: ScenarioSpec
    precision: Precision
    note: str


def enough_years(spec: ScenarioSpec | None = None, alternative: Alternative | None = None, *,
                 losses: pd.DataFrame | None = None, programme=None, case=None,
                 key: str = "net_var",
                 time_budget: float = 120.0, max_years: int = 2_000_000,
                 progress: Callable[[float, str], None] | None = None) -> RunLength:
    """Bases whose headline figure meets ``spec.target_precision``, within ``time_budget``.

    Parameters
    ----------
    spec : ScenarioSpec
        The run to start from (its ``n_years``) and the target relative standard error.
    alternative : Alternative, optional
        The alternative whose figure is checked (default: the cover in force).
    losses, programme, case : optional
        The bank's case (default the bundled case) or data given directly, as
        :func:`opwb.scenarios.spec.scenario_bases`.
    key : str
        The headline figure (default net VaR 99.9%).
    time_budget : float
        Seconds a longer run may take to build (estimated from the first build's time,
        which grows in proportion to the years).
    max_years : int
        Never more years than this.
    progress : callable ``(fraction, text)``, optional

    Returns
    -------
    RunLength

    Raises
    ------
    ValueError
        A non-positive budget or ``max_years`` below ``spec.n_years``.
    """
    from opwb.scenarios.spec import scenario_bases
    spec = _spec.DEFAULT_SPEC if spec is None else spec
    if not time_budget > 0:
        raise ValueError(f"time_budget must be > 0 seconds, got {time_budget!r}")
    if max_years < spec.n_years:
        raise ValueError(f"max_years ({max_years:,}) is below the run's {spec.n_years:,} years")
    t0 = time.perf_counter()
    bases = scenario_bases(spec, case=case, losses=losses, programme=programme,
                           progress=progress, cache=losses is None and programme is None)
    took = max(time.perf_counter() - t0, 1e-3)
    alt = alternative or current_cover(bases[True])
    first = p = precision(evaluate(bases[True], alt, spec.settings).metrics, spec.n_years,
                          spec.target_precision, key)
    used = spec
    rounds = 0
    while not p.met and used.n_years < max_years and rounds < 3:
        needed = min(max(p.years_needed, 2 * used.n_years), max_years)
        estimate = took * needed / used.n_years
        if estimate > time_budget:
            return RunLength(bases, used, p,
                             f"목표 정밀도 {_pct(spec.target_precision)}에는 약 "
                             f"{p.years_needed:,}년이 필요하지만 예상 시간 {estimate:,.0f}초가 "
                             f"한도 {time_budget:,.0f}초를 넘어 {used.n_years:,}년 결과를 씁니다 "
                             f"(정밀도 {_pct(p.relative_se)}).")
        used = used.replace(n_years=needed)
        t0 = time.perf_counter()
        bases = scenario_bases(used, case=case, losses=losses, programme=programme,
                               progress=progress, cache=losses is None and programme is None)
        took = max(time.perf_counter() - t0, 1e-3)
        p = precision(evaluate(bases[True], alt, used.settings).metrics, needed,
                      spec.target_precision, key)
        rounds += 1
    if used is spec:
        return RunLength(bases, spec, p, f"{spec.n_years:,}년으로 목표 정밀도 "
                                         f"{_pct(spec.target_precision)}를 충족합니다.")
    state = "충족" if p.met else "미달 (최대 연수 또는 반복 한도)"
    return RunLength(bases, used, p,
                     f"{spec.n_years:,}년의 정밀도 {_pct(first.relative_se)}가 목표 "
                     f"{_pct(spec.target_precision)}에 못 미쳐 {used.n_years:,}년으로 다시 "
                     f"모의실험했습니다: 정밀도 {_pct(p.relative_se)}, 목표 {state}.")


def _pct(x: float) -> str:
    return f"{x * 100:.2g}%"
