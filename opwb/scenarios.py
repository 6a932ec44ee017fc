"""BBB limit scenarios: one simulation, many insurance alternatives (common random numbers).

:func:`build_scenario_base` fits each event type's frequency and severity above the
collection threshold (with or without the CD incident), simulates annual losses once and
stores the events the bond can reach. :func:`evaluate` re-applies the insurance programme
with the bankers' blanket bond replaced by an :class:`~opwb.alternatives.Alternative`
— no re-simulation, so differences between alternatives are exact, not noise — and
returns management's figures. :func:`compare` tabulates several alternatives.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import riskmeasures as rm
from .alternatives import Alternative, check_alternative
from .capital import capital_summary
from .eligibility import view_haircuts
from .fitting import fit_severity
from .frequency import fit_frequency
from .insurance import Programme, apply_programme
from .schema import COLLECTION_THRESHOLD
from .simulate import CellModel, simulate_losses
from .synth import CD_INCIDENT
from .taxonomy import EVENT_TYPE_CODES

__all__ = ["ScenarioSettings", "ScenarioBase", "ScenarioResult", "fit_cell_models",
           "build_scenario_base", "baseline_capital", "evaluate", "format_comparison", "compare", "METRIC_LABELS", "BBB_POLICY_ID",
           "CD_EVENT_ID"]

BBB_POLICY_ID = "BBB"
CD_EVENT_ID: str = CD_INCIDENT["event_id"]
DEFAULT_FAMILIES = ("lognormal", "genpareto")


@dataclass(frozen=True)
class ScenarioSettings:
    """How alternatives are judged.

    ``cost_of_capital``: annual cost of holding one won of capital (capital saving =
    cost_of_capital × regulatory capital relief of the bond). ``valuation_date`` sets the
    residual-term haircut (``haircut_convention``: see :mod:`opwb.eligibility`).
    ``return_periods``: 1-in-N-year retained losses shown. ``aggregation``: how the
    regulatory capital total is formed (Basel default: sum of event-type figures).
    """

    alpha: float = 0.999
    cost_of_capital: float = 0.10
    valuation_date: str | pd.Timestamp | None = "2006-12-31"
    haircut_convention: Literal["linear", "pro-rata"] = "linear"
    return_periods: tuple[int, ...] = (10, 100, 1000)
    aggregation: Literal["sum", "independent"] = "sum"


@dataclass(frozen=True)
class ScenarioBase:
    """A stored simulation and the programme around the bond (built once, evaluated often)."""

    include_cd: bool
    n_years: int
    seed: int
    models: Mapping[str, CellModel]
    fits: Mapping[str, Any]
    sim: Any
    programme: Programme
    _cache: dict = field(default_factory=dict, repr=False, compare=False)


def _annual_counts(losses: pd.DataFrame, years: Sequence[int]) -> dict[str, np.ndarray]:
    year = losses["occurrence_date"].dt.year
    table = pd.crosstab(losses["event_type"], year).reindex(
        index=list(EVENT_TYPE_CODES), columns=list(years), fill_value=0)
    return {et: table.loc[et].to_numpy() for et in EVENT_TYPE_CODES}


def fit_cell_models(losses: pd.DataFrame, *, threshold: float = COLLECTION_THRESHOLD,
                    families: Iterable[str] = DEFAULT_FAMILIES,
                    years: Sequence[int] | None = None) -> tuple[dict[str, CellModel], dict]:
    """Per event type: frequency (Poisson or negative binomial by dispersion test) and the
    severity family with the lowest AIC on the left-truncated likelihood above ``threshold``.

    Returns ``(models, fits)`` where ``fits[et]`` is the chosen severity fit.
    """
    above = losses[losses["gross_loss"] >= threshold]
    if years is None:
        years = range(int(above["occurrence_date"].dt.year.min()),
                      int(above["occurrence_date"].dt.year.max()) + 1)
    counts = _annual_counts(above, list(years))
    models, fits = {}, {}
    for et in EVENT_TYPE_CODES:
        x = above.loc[above["event_type"] == et, "gross_loss"].to_numpy(float)
        candidates = []
        for fam in families:
            try:
                candidates.append(fit_severity(x, fam, threshold=threshold))
            except ValueError:
                continue  # a family that cannot be fitted to this cell is not a candidate
        if not candidates:
            raise ValueError(f"no severity family could be fitted to event type {et} "
                             f"({len(x)} losses above {threshold:,.0f})")
        best = min(candidates, key=lambda f: f.aic)
        freq = fit_frequency(counts[et], threshold=threshold)
        models[et] = CellModel(freq, best, threshold=threshold)
        fits[et] = best
    return models, fits


def _keep_levels(programme: Programme, floor_cells: Iterable[str]) -> dict[str, float]:
    """Store every event of the bond's cells (its deductible may go to 0); elsewhere only
    events above the lowest deductible of the policies covering that event type."""
    floor_cells = set(floor_cells)
    levels = {}
    for et in EVENT_TYPE_CODES:
        ded = [p.deductible for p in programme.policies if p.covers(et) > 0]
        levels[et] = 0.0 if et in floor_cells else (min(ded) if ded else math.inf)
    return levels


def build_scenario_base(losses: pd.DataFrame, programme: Programme, *, include_cd: bool = True,
                        n_years: int = 100_000, seed: int = 2005,
                        threshold: float = COLLECTION_THRESHOLD,
                        families: Iterable[str] = DEFAULT_FAMILIES, workers: int = 1,
                        cd_event_id: str = CD_EVENT_ID,
                        progress: Callable[[float, str], None] | None = None) -> ScenarioBase:
    """Fit, simulate ``n_years`` and prepare the bond-free baseline.

    With ``include_cd=False`` the CD incident (``cd_event_id``) is taken out of the data
    before fitting — the seed's "before including the CD incident". The same ``seed``
    gives the same simulated years for every event type whose model is unchanged.
    """
    report = progress or (lambda frac, text: None)
    if BBB_POLICY_ID not in programme.ids:
        raise ValueError(f"the programme has no policy {BBB_POLICY_ID!r} (the bond)")
    data = losses if include_cd else losses[losses["event_id"] != cd_event_id]
    if include_cd and not (losses["event_id"] == cd_event_id).any():
        raise ValueError(f"include_cd=True but the data has no event {cd_event_id!r}")
    report(0.05, "모형 적합 (fitting)")
    models, fits = fit_cell_models(data, threshold=threshold, families=families)
    bond_cells = [et for et in EVENT_TYPE_CODES if programme[BBB_POLICY_ID].covers(et) > 0]
    report(0.2, "시뮬레이션 (simulating)")
    sim = simulate_losses(models, n_years, seed,
                          keep_events_above=_keep_levels(programme, bond_cells),
                          workers=workers)
    base = ScenarioBase(include_cd, n_years, seed, models, fits, sim, programme)
    report(0.8, "보험 미가입 기준 계산 (baseline without the bond)")
    baseline_capital(base, ScenarioSettings())
    report(1.0, "완료 (done)")
    return base


def baseline_capital(base: ScenarioBase, settings: ScenarioSettings) -> float:
    """Regulatory net capital of the programme without the bond (cached per setting that
    affects it), the reference for the bond's own capital relief."""
    key = ("baseline", settings.alpha, str(settings.valuation_date),
           settings.haircut_convention, settings.aggregation)
    if key not in base._cache:
        without = Programme(tuple(p for p in base.programme.policies
                                  if p.key != BBB_POLICY_ID))
        hc = view_haircuts(without, "regulatory", valuation_date=settings.valuation_date,
                           convention=settings.haircut_convention)
        reg = apply_programme(without, base.sim, seed=base.seed, haircuts=hc)
        summary = capital_summary(reg, alpha=settings.alpha, aggregation=settings.aggregation)
        base._cache[key] = summary.cap.net
    return base._cache[key]


@dataclass(frozen=True)
class ScenarioResult:
    """Figures for one alternative on one base (amounts in KRW, probabilities in [0, 1])."""

    alternative: Alternative
    include_cd: bool
    metrics: dict[str, float]
    annual_gross: np.ndarray = field(repr=False)
    annual_net: np.ndarray = field(repr=False)
    annual_gross_if: np.ndarray = field(repr=False)
    annual_net_if: np.ndarray = field(repr=False)

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]


def evaluate(base: ScenarioBase, alternative: Alternative,
             settings: ScenarioSettings = ScenarioSettings()) -> ScenarioResult:
    """Apply the programme with the bond set to ``alternative``; return management's figures.

    Raises ``ValueError`` (with the reasons) for meaningless inputs.
    """
    alt = check_alternative(alternative)
    prog = base.programme.replace_policy(BBB_POLICY_ID, **alt.policy_changes())
    cache = base._cache
    econ = apply_programme(prog, base.sim, seed=base.seed, reuse=cache.get("econ"))
    hc = view_haircuts(prog, "regulatory", valuation_date=settings.valuation_date,
                       convention=settings.haircut_convention)
    reg = apply_programme(prog, base.sim, seed=base.seed, haircuts=hc, reuse=cache.get("reg"))
    cache.update(econ=econ, reg=reg)
    bond = Programme((prog[BBB_POLICY_ID],))
    detail = apply_programme(bond, base.sim, seed=base.seed, keep_events=True,
                             default=False, delay=False)
    metrics = _bond_metrics(base, alt, econ, detail)
    metrics.update(_risk_metrics(econ, settings))
    metrics.update(_capital_metrics(base, alt, reg, settings, metrics))
    net_if = econ.annual_net_by_event_type["IF"]
    return ScenarioResult(alt, base.include_cd, metrics, econ.annual_gross, econ.annual_net,
                          econ.gross_by_event_type["IF"], net_if)


def _bond_metrics(base: ScenarioBase, alt: Alternative, econ, detail) -> dict[str, float]:
    ceded = econ.ceded_by_policy[BBB_POLICY_ID]
    mean, se = rm.mean_with_se(ceded)
    hit = np.zeros(base.n_years, dtype=bool)
    per_event_cap = alt.coinsurance * alt.limit * (1 - 1e-12)
    for (pid, cell), paid in (detail.event_ceded_by_policy or {}).items():
        years = base.sim.events[cell].year
        hit[years[paid >= per_event_cap]] = True
    if math.isfinite(alt.aggregate_limit):
        hit |= detail.ceded_by_policy[BBB_POLICY_ID] >= alt.coinsurance * alt.aggregate_limit * (1 - 1e-12)
    return {
        "expected_recovery": mean, "expected_recovery_se": se,
        "expected_recognised_recovery": float(np.mean(econ.recovery_by_policy[BBB_POLICY_ID])),
        "p_claim": float(np.mean(econ.claims_by_policy[BBB_POLICY_ID] > 0)),
        "p_exhaust": float(np.mean(hit)),
        "premium": alt.premium,
        "loss_ratio": mean / alt.premium if alt.premium > 0 else math.inf,
    }


def _risk_metrics(econ, settings: ScenarioSettings) -> dict[str, float]:
    out = {}
    gross, net = econ.annual_gross, econ.annual_net
    net_if = econ.annual_net_by_event_type["IF"]
    for n in settings.return_periods:
        out[f"retained_if_1in{n}"] = rm.var(net_if, 1 - 1 / n)
        out[f"retained_total_1in{n}"] = rm.var(net, 1 - 1 / n)
    out["gross_var"], out["gross_var_se"] = rm.var_with_se(gross, settings.alpha)
    out["net_var"], out["net_var_se"] = rm.var_with_se(net, settings.alpha)
    out["net_es"], out["net_es_se"] = rm.es_with_se(net, settings.alpha)
    out["economic_relief"] = out["gross_var"] - out["net_var"]
    return out


def _capital_metrics(base, alt, reg, settings, metrics) -> dict[str, float]:
    summary = capital_summary(reg, alpha=settings.alpha, aggregation=settings.aggregation)
    relief_bond = baseline_capital(base, settings) - summary.cap.net
    saving = settings.cost_of_capital * relief_bond
    return {
        "regulatory_gross_capital": summary.cap.gross,
        "regulatory_net_capital": summary.cap.net,
        "regulatory_relief": summary.cap.recognised_benefit,
        "cap_binds": float(summary.cap.binds),
        "bond_regulatory_relief": relief_bond,
        "capital_saving": saving,
        "net_benefit": metrics["expected_recovery"] - alt.premium + saving,
    }


METRIC_LABELS: dict[str, str] = {
    "premium": "연간 보험료 (premium)",
    "expected_recovery": "기대 연간 보험금 (expected annual recovery)",
    "loss_ratio": "손해율 = 기대보험금/보험료 (loss ratio)",
    "p_claim": "연간 보험금 청구 확률 (P(claim))",
    "p_exhaust": "보상한도 소진 확률 (P(limit exhausted))",
    "retained_if_1in10": "내부사취 보유손실 10년 1회 (IF retained, 1-in-10)",
    "retained_if_1in100": "내부사취 보유손실 100년 1회 (IF retained, 1-in-100)",
    "retained_if_1in1000": "내부사취 보유손실 1000년 1회 (IF retained, 1-in-1000)",
    "retained_total_1in100": "전체 보유손실 100년 1회 (total retained, 1-in-100)",
    "gross_var": "총손실 VaR 99.9% (gross VaR)",
    "net_var": "보험 후 VaR 99.9% (net VaR)",
    "net_es": "보험 후 ES 99.9% (net ES)",
    "economic_relief": "경제적 자본 경감 (economic relief)",
    "regulatory_net_capital": "규제자본 (보험 반영, 20% 한도) (regulatory capital net)",
    "bond_regulatory_relief": "BBB의 규제자본 경감 (bond's regulatory relief)",
    "cap_binds": "20% 한도 적용 여부 (cap binds)",
    "capital_saving": "자본비용 절감 (capital saving)",
    "net_benefit": "순편익 = 보험금 − 보험료 + 자본비용 절감 (net benefit)",
}
_PERCENT = {"loss_ratio", "p_claim", "p_exhaust"}


def compare(bases: Mapping[bool, ScenarioBase] | ScenarioBase,
            alternatives: Iterable[Alternative],
            settings: ScenarioSettings = ScenarioSettings()) -> pd.DataFrame:
    """Metrics (rows, :data:`METRIC_LABELS` order) × alternatives (columns), in KRW.

    With several bases (e.g. ``{True: with_cd, False: without_cd}``) the columns are a
    MultiIndex (CD incident included?, alternative name).
    """
    if isinstance(bases, ScenarioBase):
        bases = {bases.include_cd: bases}
    cols, data = [], []
    for cd, base in bases.items():
        for alt in alternatives:
            res = evaluate(base, alt, settings)
            cols.append(("CD 사건 포함" if cd else "CD 사건 제외", alt.name))
            data.append([res.metrics[k] for k in METRIC_LABELS])
    frame = pd.DataFrame(np.array(data).T, index=list(METRIC_LABELS),
                         columns=pd.MultiIndex.from_tuples(cols, names=["data", "alternative"]))
    return frame


def format_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`compare` table as display text: 억원, percentages, Korean row labels."""
    from .units import format_krw
    out = table.copy().astype(object)
    for key in table.index:
        row = table.loc[key]
        if key in _PERCENT:
            out.loc[key] = [f"{v:.1%}" if math.isfinite(v) else "—" for v in row]
        elif key == "cap_binds":
            out.loc[key] = ["예" if v else "아니오" for v in row]
        else:
            out.loc[key] = [format_krw(v, unit="억", digits=1) for v in row]
    out.index = [METRIC_LABELS[k] for k in table.index]
    return out
