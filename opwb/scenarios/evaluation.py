"""Evaluating BBB alternatives on a scenario base: management's figures for one
alternative (:func:`evaluate`) and a table of several (:func:`compare`).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opwb.scenarios.alternatives import Alternative, check_alternative
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.figures import context

__all__ = [
    "ScenarioFigures", "ScenarioResult", "evaluate", "evaluate_cached", "evaluate_many",
    "figures_of", "figures_result", "exceedance_curve", "exceedance_of", "difference",
    "DIFFERENCE_KEYS",
    "METRIC_LABELS", "compare", "format_comparison",
]


@dataclass(frozen=True)
class ScenarioFigures:
    """The figures of one alternative on one base without its annual arrays (amounts in KRW,
    probabilities in [0, 1]): what a screen shows of it, read from the base's cache of
    figures (:func:`figures_of`) or taken from a :class:`ScenarioResult`.

    ``metrics`` holds every figure and, under ``<name>_se``, its Monte Carlo standard error
    (see :mod:`opwb.scenarios.figures`). A figure that does not exist (the ES of an
    infinite-mean model without a cap) is NaN.
    """

    alternative: Alternative
    include_cd: bool
    metrics: dict[str, float]

    def __getitem__(self, key: str) -> float:
        return self.metrics[key]

    def estimate(self, key: str) -> tuple[float, float]:
        """(value, standard error) of a figure."""
        return self.metrics[key], self.metrics[f"{key}_se"]


@dataclass(frozen=True)
class ScenarioResult(ScenarioFigures):
    """Figures for one alternative on one base (amounts in KRW, probabilities in [0, 1])
    with the simulated years' annual amounts they come from (``annual_*``, KRW per year).

    ``metrics`` holds every figure and, under ``<name>_se``, its Monte Carlo standard error
    (see :mod:`opwb.scenarios.figures`). A figure that does not exist (the ES of an
    infinite-mean model without a cap) is NaN.
    """

    annual_gross: np.ndarray = field(repr=False)
    annual_net: np.ndarray = field(repr=False)
    annual_gross_if: np.ndarray = field(repr=False)
    annual_net_if: np.ndarray = field(repr=False)
    annual_recovery: np.ndarray | None = field(default=None, repr=False)
    _arrays: dict = field(default_factory=dict, repr=False, compare=False)
    #: which loss data: with or without the case's reference incidents (``ScenarioBase.data_label``)
    data_label: str = ""


def evaluate(base: ScenarioBase, alternative: Alternative,
             settings: ScenarioSettings = ScenarioSettings()) -> ScenarioResult:
    """Apply the programme with the bond set to ``alternative``; return management's figures.

    Every figure comes with its standard error (``<name>_se``). Raises ``ValueError`` (with
    the reasons) for meaningless inputs.
    """
    return evaluate_many(base, [alternative], settings)[0]


def evaluate_cached(base: ScenarioBase, alternative: Alternative,
                    settings: ScenarioSettings = ScenarioSettings(), *,
                    keep: int = 8) -> ScenarioResult:
    """:func:`evaluate`, remembered on the base for the last ``keep`` alternatives of each
    setting (the cover in force and the recommendation are asked for again and again)."""
    from collections import OrderedDict
    cache = base._cache.setdefault(("results", settings), OrderedDict())
    key = dataclasses.astuple(alternative)
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    res = evaluate(base, alternative, settings)
    cache[key] = res
    while len(cache) > keep:
        cache.popitem(last=False)
    return res


#: The key (with the settings) of a base's cache of figures only, by structure's terms:
#: ``{terms: {figure: value}}`` (:func:`figures_of`; opwb.decision stores the answer's).
FIGURES_CACHE = "figures by terms"


def terms_key(alternative: Alternative) -> tuple:
    """What a structure's figures depend on: its terms, not its name."""
    a = alternative
    return (float(a.deductible), float(a.limit), float(a.premium), float(a.aggregate_limit),
            float(a.coinsurance), str(a.insurer_rating))


def figures_of(base: ScenarioBase, alternative: Alternative,
               settings: ScenarioSettings = ScenarioSettings()) -> dict[str, float]:
    """The figures (with ``_se``) :func:`evaluate` gives ``alternative`` on ``base``, without
    its annual arrays: read from the base's cache of figures when an earlier evaluation (or
    the store: :mod:`opwb.decision.robust` keeps the answer's structures and the quotes)
    left them there, else evaluated (:func:`evaluate_cached`) and kept."""
    cache = base._cache.setdefault((FIGURES_CACHE, settings), {})
    key = terms_key(alternative)
    if key not in cache:
        cache[key] = dict(evaluate_cached(base, check_alternative(alternative),
                                          settings).metrics)
    return cache[key]


#: The key (with the settings) of a base's cache of exceedance curves (:func:`exceedance_of`):
#: ``{terms: (return periods, annual net loss)}``, ``{"gross": ...}`` before insurance.
CURVES_CACHE = "exceedance by terms"

#: Points of an exceedance curve: log-spaced return periods, the picture, not every year.
CURVE_POINTS = 1500


def exceedance_curve(x: np.ndarray, points: int = CURVE_POINTS
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The upper half of a sample of annual losses as an exceedance curve: return periods
    ``(n + 1)/(n + 1 − rank)`` (years, Weibull plotting positions) from 2 years to the
    longest, and the sorted losses at them (KRW), thinned to at most about ``points``
    log-spaced return periods."""
    srt = np.sort(np.asarray(x, float))
    n = len(srt)
    rank = np.arange(1, n + 1)
    period = (n + 1) / (n + 1 - rank)
    keep = np.flatnonzero(period >= 2)
    if len(keep) > points:
        grid = np.unique(np.searchsorted(period[keep], np.geomspace(2, period[-1], points)))
        keep = keep[np.minimum(grid, len(keep) - 1)]
    return period[keep], srt[keep]


def keep_curves(base: ScenarioBase, results: Iterable[ScenarioResult],
                settings: ScenarioSettings) -> None:
    """Put the exceedance curves (gross and net) of evaluated ``results`` into the base's
    cache (:data:`CURVES_CACHE`)."""
    cache = base._cache.setdefault((CURVES_CACHE, settings), {})
    for res in results:
        if "gross" not in cache:
            cache["gross"] = exceedance_curve(res.annual_gross)
        key = terms_key(res.alternative)
        if key not in cache:                  # sorting a million years once is enough
            cache[key] = exceedance_curve(res.annual_net)


def exceedance_of(base: ScenarioBase, alternatives: Sequence[Alternative],
                  settings: ScenarioSettings = ScenarioSettings()
                  ) -> tuple[tuple[np.ndarray, np.ndarray], dict[str, tuple]]:
    """The annual loss before insurance and net of each alternative as exceedance curves
    (:func:`exceedance_curve`): ``(gross, {alternative's name: net})``. Read from the base's
    cache (opwb.decision stores the quotes' and the cover in force's), else evaluated
    (:func:`evaluate_many`, with their annual arrays) and kept."""
    cache = base._cache.setdefault((CURVES_CACHE, settings), {})
    todo = [a for a in alternatives if terms_key(a) not in cache]
    if todo or "gross" not in cache:
        keep_curves(base, evaluate_many(base, todo or list(alternatives)[:1], settings),
                    settings)
    return cache["gross"], {a.name: cache[terms_key(a)] for a in alternatives}


def figures_result(base: ScenarioBase, alternative: Alternative,
                   settings: ScenarioSettings = ScenarioSettings()) -> ScenarioFigures:
    """:func:`figures_of` as a :class:`ScenarioFigures` of ``alternative`` on ``base``."""
    return ScenarioFigures(alternative, base.include_cd,
                           figures_of(base, alternative, settings))


def evaluate_many(base: ScenarioBase, alternatives: Sequence[Alternative],
                  settings: ScenarioSettings = ScenarioSettings()) -> list[ScenarioResult]:
    """:func:`evaluate` for several alternatives at once (the bond's payments for
    alternatives that differ only in the limit are computed together); each result equals
    what :func:`evaluate` gives for that alternative."""
    alts = [check_alternative(a) for a in alternatives]
    ctx = context(base, settings)
    out: list[ScenarioResult | None] = [None] * len(alts)
    for idx, block in ctx.bond.blocks(alts):
        for i, (figs, arrays) in zip(idx, ctx.figures(block)):
            out[i] = ScenarioResult(alts[i], base.include_cd, figs, arrays["gross"],
                                    arrays["net"], arrays["gross_if"], arrays["net_if"],
                                    arrays["recovery"], arrays, base.data_label)
    return out


DIFFERENCE_KEYS = ("net_benefit", "expected_recovery", "premium", "bond_regulatory_relief",
                   "net_var", "net_es", "retained_if_1in100")


def difference(base: ScenarioBase, a: ScenarioResult, b: ScenarioResult,
               settings: ScenarioSettings = ScenarioSettings(), *, z: float | None = None,
               keys: Sequence[str] = DIFFERENCE_KEYS) -> pd.DataFrame:
    """Figures of ``a`` minus those of ``b`` (both evaluated on ``base`` with ``settings``),
    with paired standard errors: the two share every simulated year, so the error of the
    difference is far smaller than either figure's.

    Returns a DataFrame indexed by figure (``keys``, default :data:`DIFFERENCE_KEYS`) with
    ``difference``,
    ``se`` and ``distinguishable`` (``|difference| > z · se``: False means the data cannot
    tell the two alternatives apart on that figure). ``z`` default: the base's
    :attr:`~opwb.scenarios.base.ScenarioBase.critical_value` (1.96 on independent years,
    Student's t with W − 1 degrees of freedom on a predictive base of W worlds).
    """
    z = base.critical_value if z is None else z
    ctx = context(base, settings)
    unknown = set(keys) - set(DIFFERENCE_KEYS)
    if unknown:
        raise ValueError(f"no paired difference for {sorted(unknown)}; expected figures of "
                         f"{DIFFERENCE_KEYS}")
    d = ctx.difference(a.metrics, a._arrays, b.metrics, b._arrays, keys)
    rows = {k: {"difference": d[k][0], "se": d[k][1],
                "distinguishable": bool(abs(d[k][0]) > z * d[k][1]) if np.isfinite(d[k][1])
                else False} for k in keys}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "figure"
    return out


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
    MultiIndex (the base's data label, e.g. "2005년 CD 사건 포함", alternative name). ``attrs["se"]`` holds the
    standard errors in the same shape (:func:`format_comparison` rounds to them).
    """
    if isinstance(bases, ScenarioBase):
        bases = {bases.include_cd: bases}
    cols, data, ses = [], [], []
    alternatives = list(alternatives)
    for cd, base in bases.items():
        known = base._cache.setdefault((FIGURES_CACHE, settings), {})
        todo = [a for a in alternatives if terms_key(a) not in known]
        if todo:                       # evaluated together: alike limits share their payments
            for alt, res in zip(todo, evaluate_many(base, todo, settings)):
                known[terms_key(alt)] = dict(res.metrics)
        for alt in alternatives:
            figs = figures_of(base, alt, settings)
            cols.append((base.data_label, alt.name))
            data.append([figs[k] for k in METRIC_LABELS])
            ses.append([figs[f"{k}_se"] for k in METRIC_LABELS])
    index = pd.MultiIndex.from_tuples(cols, names=["data", "alternative"])
    frame = pd.DataFrame(np.array(data).T, index=list(METRIC_LABELS), columns=index)
    frame.attrs["se"] = pd.DataFrame(np.array(ses).T, index=list(METRIC_LABELS),
                                     columns=index)
    return frame


def format_comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The :func:`compare` table as display text: Korean row labels, amounts in 억원 with
    their standard errors, every row with the same decimals (rounded to the least precise
    figure of the row: :func:`opwb.data.units.format_krw_row`), probabilities in %."""
    from opwb.data.units import format_krw_row
    se = table.attrs.get("se")
    if se is None:
        raise ValueError("format_comparison needs the standard errors compare() attaches "
                         "(table.attrs['se'])")
    out = table.copy().astype(object)
    for key in table.index:
        row, err = table.loc[key], se.loc[key]
        if key in _PERCENT:
            out.loc[key] = [f"{v:.1%} ± {e:.1%}" if math.isfinite(v) and e > 0 else
                            (f"{v:.1%}" if math.isfinite(v) else "—") for v, e in zip(row, err)]
        elif key == "cap_binds":
            out.loc[key] = ["예" if v else "아니오" for v in row]
        else:
            out.loc[key] = format_krw_row(zip(row, err), unit="억")
    out.index = [METRIC_LABELS[k] for k in table.index]
    out.attrs = {}
    return out
