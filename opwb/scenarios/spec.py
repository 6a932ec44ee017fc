"""The one scenario every screen shows: the same fitted models, years, seed and settings in
the app, notebooks 03–05, the deck and the Excel export.

:data:`DEFAULT_SPEC` fixes the run (100,000 years, seed 2005, the 1조원 severity cap, the
valuation date 2006-12-31, α = 99.9%, cost of capital 10%), the structure grid of the
frontier and management's default risk appetite. :func:`scenario_bases` builds (once per
process and specification) the scenario bases with and without the CD incident from the
bundled data or the user's own, so every caller shares one simulation.

:func:`precision` says whether a run meets the stated relative precision of the headline
figure (net VaR 99.9%) and how many years would: the Monte Carlo error of a quantile falls
as ``1/sqrt(n)`` (Serfling 1980, §2.3.3), so ``n_needed = n · (rse / target)²``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from opwb.data.units import EOK
from opwb.scenarios.base import (DEFAULT_SEVERITY_CAP, ScenarioBase, ScenarioSettings,
                                 build_scenario_base)

__all__ = ["ScenarioSpec", "DEFAULT_SPEC", "Appetite", "DEFAULT_APPETITE", "scenario_bases",
           "bundled_inputs", "precision", "Precision", "current_cover"]


@dataclass(frozen=True)
class Appetite:
    """Management's risk appetite: ceilings in KRW (None: no ceiling).

    ``max_premium``: annual premium; ``max_retained_if_1in100``: internal-fraud loss the
    bank keeps once in 100 years; ``max_net_capital``: regulatory capital net of insurance.
    """

    max_premium: float | None = 70 * EOK
    max_retained_if_1in100: float | None = None
    max_net_capital: float | None = None

    def as_kwargs(self) -> dict[str, float | None]:
        return {"max_premium": self.max_premium,
                "max_retained_if_1in100": self.max_retained_if_1in100,
                "max_net_capital": self.max_net_capital}

    def ceilings(self) -> dict[str, float]:
        """``{figure: ceiling}`` (KRW) of the ceilings set, keyed by the figure of
        :func:`opwb.scenarios.evaluate` / the frontier column each caps."""
        out = {"premium": self.max_premium, "retained_if_1in100": self.max_retained_if_1in100,
               "regulatory_net_capital": self.max_net_capital}
        return {k: v for k, v in out.items() if v is not None}


DEFAULT_APPETITE = Appetite()
"""The default appetite: a premium budget of 70억원 a year (the highest quote), no other
ceiling — management sets the rest in the app."""


@dataclass(frozen=True)
class ScenarioSpec:
    """Everything that fixes the numbers on every screen (amounts KRW).

    ``deductibles`` and ``limits`` span the frontier's grid; the limits stay within the
    quoted range (50억–1,000억원), where the quoted premium is interpolated, not
    extrapolated. ``target_precision`` is the relative standard error the headline net VaR
    should meet (2%).
    """

    n_years: int = 100_000
    seed: int = 2005
    severity_cap: float | None = DEFAULT_SEVERITY_CAP
    settings: ScenarioSettings = field(default_factory=ScenarioSettings)
    deductibles: tuple[float, ...] = tuple(d * EOK for d in (5, 10, 20, 30, 50, 100, 200))
    limits: tuple[float, ...] = tuple(x * EOK for x in (50, 100, 200, 300, 400, 500, 700,
                                                        1000))
    target_precision: float = 0.02

    def replace(self, **changes) -> "ScenarioSpec":
        import dataclasses
        return dataclasses.replace(self, **changes)

    def describe_ko(self) -> str:
        """One line for a screen's footer: years, seed, cap, valuation date."""
        cap = "없음" if self.severity_cap is None else f"{self.severity_cap / 1e12:g}조원"
        return (f"모의실험 {self.n_years:,}년 · 시드 {self.seed} · 단일손실 상한 {cap} · "
                f"평가일 {pd.Timestamp(self.settings.valuation_date).date().isoformat()} · "
                f"신뢰수준 {self.settings.alpha:.1%} · 자본비용률 "
                f"{self.settings.cost_of_capital:.0%}")


DEFAULT_SPEC = ScenarioSpec()

_BASES: dict[tuple, dict[bool, ScenarioBase]] = {}


def bundled_inputs():
    """The bundled losses (collected at the threshold), programme and quoted alternatives."""
    from opwb.data.bundled import data_path
    from opwb.data.losses import load_losses
    from opwb.data.programme_table import load_programme
    from opwb.data.schema import COLLECTION_THRESHOLD
    from opwb.insurance.programme import Programme
    from opwb.scenarios.alternatives import load_alternatives
    losses = load_losses(data_path("losses.csv"), threshold=COLLECTION_THRESHOLD)
    programme = Programme.from_frame(load_programme(data_path("insurance_programme.csv")))
    return losses, programme, load_alternatives(data_path("bbb_alternatives.csv"))


def scenario_bases(spec: ScenarioSpec = DEFAULT_SPEC, *, losses: pd.DataFrame | None = None,
                   programme=None, progress: Callable[[float, str], None] | None = None,
                   cache: bool = True) -> dict[bool, ScenarioBase]:
    """The scenario bases with (``True``) and without (``False``) the CD incident.

    Parameters
    ----------
    spec : ScenarioSpec
        Years, seed and cap (default :data:`DEFAULT_SPEC`).
    losses, programme : optional
        The bank's own data (``opwb.load_losses``, :class:`opwb.insurance.Programme`);
        default the bundled files. Own losses are fitted by the model-choice rule.
    progress : callable ``(fraction, text)``, optional
        Progress of the two builds.
    cache : bool
        For the bundled data: reuse the bases built earlier in this process for the same
        ``spec``, else load them from the on-disk store of :mod:`opwb.scenarios.store`
        (built and written there once, then shared read-only by every process, e.g. the
        app's kernels; bit-identical to building them). Own data is never cached: it
        stays in the caller's hands.

    Returns
    -------
    dict
        ``{True: with the CD incident, False: without}``.
    """
    key = (spec.n_years, spec.seed, spec.severity_cap)
    bundled = losses is None and programme is None
    if cache and bundled and key in _BASES:
        return _BASES[key]
    if losses is None or programme is None:
        b_losses, b_prog, _ = bundled_inputs()
        losses = b_losses if losses is None else losses
        programme = b_prog if programme is None else programme

    def build() -> dict[bool, ScenarioBase]:
        out = {}
        for i, cd in enumerate((True, False)):
            step = None if progress is None else \
                (lambda f, text, i=i: progress((i + f) / 2, text))
            out[cd] = build_scenario_base(losses, programme, include_cd=cd,
                                          n_years=spec.n_years, seed=spec.seed,
                                          severity_cap=spec.severity_cap, progress=step)
        return out

    if not (cache and bundled):
        return build()
    from opwb.scenarios.store import bundled_bases
    _BASES[key] = bundled_bases(spec, build, losses, programme, progress=progress)
    return _BASES[key]


def current_cover(base: ScenarioBase, name: str = "현행 2005년 계약"):
    """The bond in force on ``base`` (the programme's BBB) as an Alternative — the
    reference every answer is compared with."""
    from opwb.scenarios.alternatives import Alternative
    bond = base.programme["BBB"]
    return Alternative(name, limit=bond.limit, deductible=bond.deductible,
                       premium=bond.premium, aggregate_limit=bond.aggregate_limit,
                       coinsurance=bond.coinsurance, insurer_rating=bond.insurer_rating)


@dataclass(frozen=True)
class Precision:
    """How precise the headline figure is: ``relative_se`` of net VaR (fraction),
    ``target`` (fraction), ``met``, and ``years_needed`` for the target at this rate."""

    n_years: int
    relative_se: float
    target: float
    met: bool
    years_needed: int

    def describe_ko(self) -> str:
        state = "목표 충족" if self.met else \
            f"목표 미달 — 약 {self.years_needed:,}년이 필요합니다"
        return (f"정밀도: 보험 후 VaR의 상대 표준오차 {self.relative_se:.1%} "
                f"(목표 {self.target:.0%}, {self.n_years:,}년, {state})")


def precision(metrics: Mapping[str, float], n_years: int, target: float = 0.02,
              key: str = "net_var") -> Precision:
    """Whether a result's ``key`` (default net VaR) meets the relative precision
    ``target``; ``years_needed = ceil(n · (rse / target)²)`` rounded up to 10,000 years."""
    value, se = float(metrics[key]), float(metrics[f"{key}_se"])
    rse = se / abs(value) if value else math.inf
    need = n_years if rse <= target else int(math.ceil(n_years * (rse / target) ** 2 / 1e4) * 1e4)
    return Precision(int(n_years), rse, float(target), bool(rse <= target), need)
