"""The recommendation: the BBB structure with the highest net benefit that meets
management's risk appetite, with its reasons and the structures the simulation cannot tell
apart from it.

The seed's bank set "limits and deductibles reflecting management's risk appetite and the
bank's exposure" (slide 3-2). :func:`recommend` does that on a frontier
(:func:`opwb.scenarios.frontier.frontier`): the appetite is a set of ceilings — the premium
a year, the retained internal-fraud loss once in 100 years, the regulatory capital net of
insurance, any other figure of the table — and among the structures within all of them the
one with the highest expected net benefit (expected recovery − premium + cost of capital ×
the bond's regulatory relief) is recommended.

Net benefits are Monte Carlo estimates. Two structures whose paired difference is within
``z`` standard errors cannot be told apart by the simulation; they are listed as
``indistinguishable`` so management sees that the choice among them rests on judgement
(price, insurer, wording), not on the model. With the scenario base the paired error of the
difference is used (:func:`opwb.scenarios.evaluation.difference`: the structures share
every simulated year); without it, the sum of the two errors — an upper bound of the
paired error whatever the correlation, so the list can only be longer, never shorter.

Ceilings are applied to the point estimates; a structure within ``z`` standard errors of a
ceiling is named as borderline in the reasons.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from opwb.data.units import format_krw, format_krw_with_se, with_particle
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.base import ScenarioBase, ScenarioSettings
from opwb.scenarios.frontier import critical_value

__all__ = ["Recommendation", "recommend", "APPETITE_LABELS"]

APPETITE_LABELS: dict[str, str] = {
    "premium": "연간 보험료",
    "retained_if_1in100": "100년 1회 내부사취 보유손실",
    "regulatory_net_capital": "보험 반영 후 규제자본",
    "retained_total_1in100": "100년 1회 전체 보유손실",
    "net_var": "보험 후 VaR 99.9%",
    "p_exhaust": "보상한도 소진 확률",
}
"""Korean names of the figures an appetite may cap (others are shown by column name)."""

_ENGLISH = {"premium": "max_premium", "retained_if_1in100": "max_retained_if_1in100",
            "regulatory_net_capital": "max_net_capital"}


@dataclass(frozen=True)
class Recommendation:
    """The recommended structure and why.

    Attributes
    ----------
    structure : Series
        The recommended frontier row (every figure with its ``_se``; KRW).
    reasons : tuple of str
        Why, in Korean with English in brackets: the net benefit, each ceiling met (and
        how close), the premium model, how many structures are indistinguishable.
    indistinguishable : DataFrame
        Structures meeting the appetite whose net benefit the simulation cannot tell apart
        from the recommended one (the recommended first), with ``difference`` and
        ``difference_se`` of their net benefit against it.
    eligible : int
        How many structures of the table meet the appetite.
    appetite : dict
        The ceilings applied: figure → KRW (or fraction for probabilities).
    paired : bool
        Whether indistinguishability used paired errors (the base was given).
    """

    structure: pd.Series
    reasons: tuple[str, ...]
    indistinguishable: pd.DataFrame
    eligible: int
    appetite: dict[str, float]
    paired: bool
    premium_model: str = ""
    include_cd: bool | None = None
    _extra: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def name(self) -> str:
        return str(self.structure["name"])

    @property
    def deductible(self) -> float:
        return float(self.structure["deductible"])

    @property
    def limit(self) -> float:
        return float(self.structure["limit"])

    @property
    def net_benefit(self) -> tuple[float, float]:
        """(expected net benefit, standard error), KRW a year."""
        return float(self.structure["net_benefit"]), float(self.structure["net_benefit_se"])

    def alternative(self, name: str | None = None) -> Alternative:
        """The recommended structure as an :class:`Alternative` (with its premium)."""
        alt = _alternative(self.structure)
        return alt.replace(name=name) if name else alt

    def same_structure(self, other: "Recommendation") -> bool:
        """Whether ``other`` recommends the same deductible and limit."""
        return self.deductible == other.deductible and self.limit == other.limit


def _label(col: str) -> str:
    return APPETITE_LABELS.get(col, col)


def _show(col: str, value: float) -> str:
    if col.startswith("p_"):
        return f"{value * 100:.2f}%"
    whole = abs(value) >= 1e10 or round(value / 1e8, 1) == round(value / 1e8)
    return format_krw(value, unit="억", digits=0 if whole else 1)


def _appetite(table: pd.DataFrame, max_premium, max_retained_if_1in100, max_net_capital,
              ceilings) -> dict[str, float]:
    out: dict[str, float] = {}
    for col, value in (("premium", max_premium),
                       ("retained_if_1in100", max_retained_if_1in100),
                       ("regulatory_net_capital", max_net_capital),
                       *((ceilings or {}).items())):
        if value is None:
            continue
        if col not in table.columns:
            raise ValueError(f"the appetite caps {col!r}, which the frontier table does not "
                             f"have; expected one of its figures "
                             f"({', '.join(c for c in table.columns if not c.endswith('_se'))})")
        value = float(value)
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"the ceiling on {col!r} must be a finite amount >= 0 (no "
                             f"ceiling is None), got {value!r}")
        out[col] = value
    return out


def _binding(table: pd.DataFrame, appetite: dict[str, float]) -> str:
    """Why nothing meets the appetite: the ceilings no structure meets on its own, else the
    combination."""
    alone = []
    for col, ceiling in appetite.items():
        if not (table[col] <= ceiling).any():
            best = table[col].min()
            key = _ENGLISH.get(col, col)
            alone.append(f"{_label(col)} ≤ {_show(col, ceiling)} ({key}): 가장 낮은 구조도 "
                         f"{_show(col, best)}입니다 (the lowest any structure reaches is "
                         f"{_show(col, best)})")
    if alone:
        return ("위험선호를 충족하는 구조가 없습니다 (no structure meets the risk appetite). "
                "막는 한도 (binding): " + "; ".join(alone))
    names = ", ".join(f"{_label(c)} ≤ {_show(c, v)} ({_ENGLISH.get(c, c)})"
                      for c, v in appetite.items())
    return ("위험선호를 충족하는 구조가 없습니다: 한도마다 충족하는 구조는 있으나 모두를 함께 "
            "충족하는 구조는 없습니다 (no structure meets the risk appetite: each ceiling is met "
            f"by some structure but not all together; binding in combination): {names}")


def recommend(table: pd.DataFrame, *, max_premium: float | None = None,
              max_retained_if_1in100: float | None = None,
              max_net_capital: float | None = None,
              ceilings: Mapping[str, float] | None = None,
              base: ScenarioBase | None = None, settings: ScenarioSettings | None = None,
              z: float | None = None) -> Recommendation:
    """The structure of ``table`` with the highest net benefit within the risk appetite.

    Parameters
    ----------
    table : DataFrame
        A frontier (:func:`opwb.scenarios.frontier.frontier`): one row per structure with
        ``name``, ``deductible``, ``limit``, ``net_benefit`` and ``net_benefit_se`` and the
        capped figures.
    max_premium : float, optional
        Ceiling on the annual premium (KRW).
    max_retained_if_1in100 : float, optional
        Ceiling on the internal-fraud loss retained once in 100 years (KRW).
    max_net_capital : float, optional
        Ceiling on the regulatory capital net of insurance (KRW, AMA 99.9% with the 20% cap).
    ceilings : mapping, optional
        Further ceilings, figure name → maximum (e.g. ``{"p_exhaust": 0.01}``).
    base, settings : optional
        The scenario base and settings the table was computed on: indistinguishability then
        uses paired errors (each candidate re-evaluated with
        :func:`opwb.scenarios.evaluation.difference`); without them, an upper bound.
    z : float, optional
        Standard errors within which two net benefits are indistinguishable; default the
        95% critical value of the base the table was computed on
        (:attr:`~opwb.scenarios.base.ScenarioBase.critical_value`: ``base``'s, else the
        table's ``attrs["critical_value"]``, else 1.96).

    Returns
    -------
    Recommendation

    Raises
    ------
    ValueError
        An empty table, a ceiling on a figure the table lacks or negative, or an appetite no
        structure meets — the message names the binding ceiling(s) and the best value any
        structure reaches.
    """
    need = {"name", "deductible", "limit", "net_benefit", "net_benefit_se"}
    if table.empty or not need <= set(table.columns):
        raise ValueError(f"recommend needs a non-empty frontier table with columns "
                         f"{sorted(need)}; got {list(table.columns)}")
    if z is None:
        z = base.critical_value if base is not None else critical_value(table)
    appetite = _appetite(table, max_premium, max_retained_if_1in100, max_net_capital,
                         ceilings)
    ok = np.ones(len(table), dtype=bool)
    for col, ceiling in appetite.items():
        ok &= (table[col] <= ceiling).to_numpy()
    if not ok.any():
        raise ValueError(_binding(table, appetite))
    eligible = table[ok]
    order = eligible.sort_values(["net_benefit", "premium", "limit", "deductible"],
                                 ascending=[False, True, True, True], kind="stable")
    best = order.iloc[0]
    nb, nb_se = float(best["net_benefit"]), float(best["net_benefit_se"])
    # candidates: within z times the sum of errors (an upper bound of the paired error)
    bound = z * (eligible["net_benefit_se"] + nb_se)
    near = eligible[(nb - eligible["net_benefit"]) <= bound]
    diffs = pd.DataFrame({"difference": near["net_benefit"] - nb, "difference_se": np.nan},
                         index=near.index)
    paired = base is not None
    if paired:
        settings = ScenarioSettings() if settings is None else settings
        others = [r for i, r in near.iterrows() if i != best.name]
        found = _paired_net_benefit(base, settings, _alternative(best),
                                    [_alternative(r) for r in others])
        diffs.loc[best.name, "difference_se"] = 0.0
        for r, (d, se) in zip(others, found):
            diffs.loc[r.name, ["difference", "difference_se"]] = [d, se]
    else:
        diffs["difference_se"] = eligible.loc[near.index, "net_benefit_se"] + nb_se
        diffs.loc[best.name, "difference_se"] = 0.0
    same = diffs[(diffs["difference"].abs() <= z * diffs["difference_se"])
                 | (diffs.index == best.name)]
    indist = near.loc[same.index].assign(difference=same["difference"],
                                         difference_se=same["difference_se"])
    indist = pd.concat([indist.loc[[best.name]], indist.drop(index=best.name)
                        .sort_values("net_benefit", ascending=False)])
    reasons = _reasons(best, appetite, len(eligible), len(table), indist, paired, z,
                       str(table.attrs.get("premium_model", best.get("premium_model", ""))))
    return Recommendation(best, tuple(reasons), indist, int(len(eligible)), appetite, paired,
                          str(table.attrs.get("premium_model", best.get("premium_model", ""))),
                          table.attrs.get("include_cd"))


#: The key (with the settings) of a base's cache of paired net-benefit differences:
#: ``{(best's terms, other's terms): (difference, se)}`` (opwb.decision stores it).
PAIRED_CACHE = "paired net benefit"


def _paired_net_benefit(base: ScenarioBase, settings: ScenarioSettings, best: Alternative,
                        others: list[Alternative]) -> list[tuple[float, float]]:
    """Net benefit of each of ``others`` minus ``best`` with its paired error (cached on the
    base: moving the appetite asks the same pairs again)."""
    from opwb.scenarios.evaluation import difference, evaluate_many
    cache = base._cache.setdefault((PAIRED_CACHE, settings), {})
    key = lambda alt: dataclasses.astuple(alt.replace(name=""))  # noqa: E731
    todo = [a for a in others if (key(best), key(a)) not in cache]
    if todo:
        results = evaluate_many(base, [best, *todo], settings)
        for alt, res in zip(todo, results[1:]):
            d = difference(base, res, results[0], settings,
                           keys=("net_benefit",)).loc["net_benefit"]
            cache[(key(best), key(alt))] = (float(d["difference"]), float(d["se"]))
    return [cache[(key(best), key(a))] for a in others]


def _alternative(row: pd.Series) -> Alternative:
    """A frontier row's structure (the frontier records every term)."""
    missing = [c for c in ("aggregate_limit", "coinsurance", "insurer_rating") if c not in row]
    if missing:
        raise ValueError(f"the table lacks the terms {missing} needed to re-evaluate its "
                         "structures; use a table from opwb.frontier")
    return Alternative(str(row["name"]), limit=float(row["limit"]),
                       deductible=float(row["deductible"]), premium=float(row["premium"]),
                       aggregate_limit=float(row["aggregate_limit"]),
                       coinsurance=float(row["coinsurance"]),
                       insurer_rating=str(row["insurer_rating"]))


def _reasons(best: pd.Series, appetite: dict[str, float], n_ok: int, n_all: int,
             indist: pd.DataFrame, paired: bool, z: float, model: str) -> list[str]:
    nb = format_krw_with_se(float(best["net_benefit"]), float(best["net_benefit_se"]))
    out = [f"위험선호를 충족하는 {n_ok}개 구조(전체 {n_all}개) 중 기대 순편익이 가장 큽니다: "
           f"연 {nb} (highest expected net benefit among the {n_ok} of {n_all} structures "
           f"within the risk appetite)"]
    for col, ceiling in appetite.items():
        value = float(best[col])
        se = float(best.get(f"{col}_se", 0.0) or 0.0)
        close = se > 0 and ceiling - value <= z * se
        note = " — 경계선: 추정오차 안에 있습니다 (borderline: within the Monte Carlo error)" \
            if close else ""
        out.append(f"{with_particle(_label(col), '은')} "
                   f"{with_particle(_show(col, value), '으로')} 한도 {_show(col, ceiling)} "
                   f"이내입니다 ({col} within the ceiling){note}")
    if not appetite:
        out.append("위험선호 제약이 없습니다 (no ceilings set)")
    if model:
        out.append(f"보험료 모형: {model}")
    others = len(indist) - 1
    how = "대응 표준오차 (paired errors)" if paired else "표준오차의 합 (sum of errors)"
    if others:
        out.append(f"순편익이 통계적으로 구별되지 않는 구조가 {others}개 더 있습니다 "
                   f"({others} more structure(s) within {z:.2f} {how} of the best): 이들 사이의 "
                   "선택은 모형이 아니라 가격·보험사·약관의 판단입니다")
    else:
        out.append(f"다른 모든 구조보다 순편익이 유의하게 큽니다 (better than every other "
                   f"structure beyond {z:.2f} {how})")
    return out
