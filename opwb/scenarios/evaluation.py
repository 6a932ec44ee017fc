"""Evaluating BBB alternatives on a scenario base: management's figures for one
alternative (:func:`evaluate`) and a table of several (:func:`compare`).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opwb.capital.ama import capital_summary
from opwb.engine import riskmeasures as rm
from opwb.insurance.apply import apply_programme
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative, check_alternative
from opwb.scenarios.base import BBB_POLICY_ID, ScenarioBase, ScenarioSettings, baseline_capital

__all__ = [
    "ScenarioResult", "evaluate", "METRIC_LABELS", "compare", "format_comparison",
]


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
    from opwb.data.units import format_krw
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
