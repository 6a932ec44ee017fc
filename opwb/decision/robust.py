"""The answer on the predictive model: the recommendation, how robust it is, and the
premium at which each structure breaks even.

:func:`predictive_answer` takes a case's scenario specification, builds (or loads from the
store) the predictive bases of :mod:`opwb.decision.predictive` — with and without the
reference incidents — and answers on them exactly as :func:`opwb.scenarios.answer.
management_answer` answers on the plug-in bases: the frontier of the case's grid priced by
the quotes, the structure with the highest expected net benefit within the appetite
(expected recovery − premium + cost of capital × the bond's regulatory relief, every figure
read off the predictive distribution), compared with the cover in force. To that it adds:

- **robustness** (:func:`robustness`): among the structures within the appetite, the share
  of worlds in which each has the highest net benefit (``p_best``) and its **expected
  regret** ``E_w[max_b NB_w(b) − NB_w(a)]`` — what choosing ``a`` costs on average against
  knowing the world (Berger 1985, *Statistical Decision Theory and Bayesian Analysis*,
  §1.6), with its standard error over the worlds (``std / sqrt(n_worlds)``). A world's
  figures come from its own simulated years, so they include that world's Monte Carlo
  noise: ``p_best`` spreads a little more, and the regret is a little larger, than with
  exact figures;
- **break-even premium** (:func:`break_even`): the premium at which a structure's net
  benefit is zero, ``expected recovery + cost of capital × the bond's regulatory relief``
  (net benefit + premium), a figure that does not depend on the quote; with the quote's
  **payout ratio** (expected recovery / premium) and a flag when the quote lies below the
  insurer's expected payments. Its standard error is the net benefit's (the premium is
  fixed).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opwb.decision.predictive import (FamilyWeights, PredictiveSettings, WorldTable,
                                      predictive_base)
from opwb.scenarios.answer import ManagementAnswer, management_answer, premium_model_for
from opwb.scenarios.recommend import Recommendation
from opwb.scenarios.spec import Appetite, ScenarioSpec

__all__ = ["RobustAnswer", "predictive_answer", "predictive_bases", "robustness",
           "break_even", "eligible_mask"]

#: the key under which a stored predictive base keeps its world table and family weights
EXTRA = "predictive extra"


def eligible_mask(table: pd.DataFrame, appetite: Appetite) -> np.ndarray:
    """Which rows of a frontier meet every ceiling of ``appetite`` (the rule of
    :func:`opwb.scenarios.recommend.recommend`)."""
    ok = np.ones(len(table), dtype=bool)
    for col, ceiling in appetite.ceilings().items():
        ok &= (table[col] <= ceiling).to_numpy()
    return ok


def robustness(worlds: WorldTable, eligible: np.ndarray) -> pd.DataFrame:
    """Per structure within the appetite: ``p_best`` (share of worlds in which its net
    benefit is the highest among them), ``regret`` (expected regret, KRW a year) and
    ``regret_se``, indexed by (deductible, limit).

    Raises ``ValueError`` when no structure is eligible."""
    eligible = np.asarray(eligible, dtype=bool)
    if not eligible.any():
        raise ValueError("no structure meets the risk appetite")
    nb = np.asarray(worlds.values["net_benefit"], dtype=float)[:, eligible]
    k = nb.shape[0]
    best = np.argmax(nb, axis=1)
    regret = nb.max(axis=1, keepdims=True) - nb
    out = pd.DataFrame({
        "p_best": np.bincount(best, minlength=nb.shape[1]) / k,
        "regret": regret.mean(axis=0),
        "regret_se": regret.std(axis=0, ddof=1) / math.sqrt(k) if k > 1 else np.nan,
    }, index=pd.MultiIndex.from_arrays([worlds.deductibles[eligible],
                                        worlds.limits[eligible]],
                                       names=["deductible", "limit"]))
    return out


def break_even(table: pd.DataFrame, cost_of_capital: float) -> pd.DataFrame:
    """Per structure of a frontier: ``premium``, ``expected_recovery`` (the insurer's
    expected payments), ``payout_ratio`` (= expected recovery / premium),
    ``below_expected`` (the premium is below the expected payments: a price the insurer
    would expect to lose on), ``break_even_premium`` = expected recovery + cost of capital ×
    the bond's regulatory relief (the premium at which the net benefit is zero) and
    ``break_even_premium_se`` (the net benefit's standard error). KRW a year; indexed like
    the table."""
    be = table["expected_recovery"] + cost_of_capital * table["bond_regulatory_relief"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(table["premium"] > 0, table["expected_recovery"] / table["premium"],
                         math.inf)
    return pd.DataFrame({"name": table["name"], "deductible": table["deductible"],
                         "limit": table["limit"], "premium": table["premium"],
                         "expected_recovery": table["expected_recovery"],
                         "expected_recovery_se": table["expected_recovery_se"],
                         "payout_ratio": ratio,
                         "below_expected": (table["premium"] < table["expected_recovery"]),
                         "break_even_premium": be,
                         "break_even_premium_se": table["net_benefit_se"]}, index=table.index)


@dataclass(frozen=True)
class RobustAnswer:
    """The answer on the predictive model (see this module's docstring).

    ``answer`` is the :class:`~opwb.scenarios.answer.ManagementAnswer` on the predictive
    bases (keys: reference incidents included?); ``worlds`` and ``weights`` per base the
    world table and the families' weights; ``settings`` the worlds' size.
    """

    answer: ManagementAnswer
    worlds: Mapping[bool, WorldTable]
    weights: Mapping[bool, Mapping[str, FamilyWeights]]
    settings: PredictiveSettings
    bases: Mapping = None

    def recommendation(self, cd: bool = True) -> Recommendation | str:
        return self.answer.recommendations[cd]

    def robustness(self, cd: bool = True, appetite: Appetite | None = None) -> pd.DataFrame:
        """:func:`robustness` over the structures within ``appetite`` (default the
        answer's) on the predictive frontier of base ``cd``."""
        table = self.answer.frontiers[cd]
        mask = eligible_mask(table, self.answer.appetite if appetite is None else appetite)
        return robustness(self.worlds[cd], mask)

    def recommended_robustness(self, cd: bool = True) -> tuple[float, float, float]:
        """(p_best, regret, regret_se) of the recommended structure."""
        rec = self.recommendation(cd)
        if not isinstance(rec, Recommendation):
            raise ValueError(rec)
        row = self.robustness(cd).loc[(rec.deductible, rec.limit)]
        return float(row["p_best"]), float(row["regret"]), float(row["regret_se"])

    def break_even(self, cd: bool = True) -> pd.DataFrame:
        return break_even(self.answer.frontiers[cd],
                          self.answer.spec.settings.cost_of_capital)

    def undecided_cells(self, cd: bool = True) -> dict[str, str]:
        """Cells whose family the data do not pick: cell → ``"lomax 52% · ..."``."""
        return {c: w.describe() for c, w in self.weights[cd].items() if not w.decided}


# --------------------------------------------------------------------------- build and store
_PREDICTIVE: dict = {}


def _weights_plain(weights: Mapping[str, FamilyWeights]) -> dict:
    return {c: {"families": list(w.families), "weights": list(map(float, w.weights)),
                "aic": list(map(float, w.aic)), "n": int(w.n)} for c, w in weights.items()}


def _weights_from(d: Mapping) -> dict[str, FamilyWeights]:
    return {c: FamilyWeights(c, tuple(v["families"]), tuple(v["weights"]), tuple(v["aic"]),
                             {}, int(v["n"])) for c, v in d.items()}


def _variant(settings: PredictiveSettings) -> str:
    from opwb.decision.predictive import source_digest
    text = json.dumps([settings.n_worlds, settings.world_years, settings.min_weight,
                       source_digest()])
    return "pred-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def predictive_bases(spec: ScenarioSpec | None = None, *, case=None,
                     settings: PredictiveSettings | None = None,
                     progress: Callable[[float, str], None] | None = None,
                     cache: bool = True) -> tuple[dict, dict, dict]:
    """The predictive bases of a case (with and without its reference incidents), their
    world tables and family weights: ``(bases, worlds, weights)``, each keyed like
    :func:`opwb.scenarios.spec.scenario_bases`.

    Built once per case and settings and kept in the on-disk store beside the plug-in
    bases (:mod:`opwb.scenarios.store`; no loss record is stored). ``settings`` default:
    the case's (``predictive_worlds``, ``world_years``).
    """
    from opwb.data.case import bundled_case
    from opwb.scenarios.spec import case_inputs, scenario_bases, spec_for
    case = bundled_case() if case is None else case
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes) if spec is None else spec
    settings = settings or case_predictive_settings(case)
    key = (spec, case.fingerprint(), settings)
    if cache and key in _PREDICTIVE:
        return _PREDICTIVE[key]
    plug = scenario_bases(spec, case=case)

    def build() -> dict:
        out = {}
        sides = list(plug)
        for i, cd in enumerate(sides):
            step = None if progress is None else \
                (lambda f, t, i=i: progress((i + f) / len(sides), f"예측 모형: {t}"))
            base, worlds, weights = predictive_base(
                plug[cd], losses, n_years=spec.n_years, seed=spec.seed,
                deductibles=spec.deductibles, limits=spec.limits,
                premium_for=lambda b: premium_model_for(b, quotes, spec),
                scenario_settings=spec.settings, settings=settings, progress=step)
            base._cache[EXTRA] = {"worlds": worlds.to_plain(),
                                  "weights": _weights_plain(weights)}
            out[cd] = base
        return out

    if cache:
        from opwb.scenarios.store import stored_bases
        bases = stored_bases(spec, build, losses, programme, progress=progress,
                             case_key=case.fingerprint(), variant=_variant(settings))
    else:
        bases = build()
    worlds = {cd: WorldTable.from_plain(b._cache[EXTRA]["worlds"]) for cd, b in bases.items()}
    weights = {cd: _weights_from(b._cache[EXTRA]["weights"]) for cd, b in bases.items()}
    out = (bases, worlds, weights)
    if cache:
        _PREDICTIVE[key] = out
    return out


def case_predictive_settings(case) -> PredictiveSettings:
    """The case's predictive-model size (``predictive_worlds``, ``world_years``)."""
    return PredictiveSettings(int(getattr(case, "predictive_worlds", 100)),
                              int(getattr(case, "world_years", 10_000)))


def predictive_answer(spec: ScenarioSpec | None = None, *, case=None,
                      appetite: Appetite | None = None,
                      settings: PredictiveSettings | None = None,
                      progress: Callable[[float, str], None] | None = None,
                      paired: bool = True, cache: bool = True) -> RobustAnswer:
    """The recommendation on the predictive model with its robustness and break-even
    premiums (see this module's docstring).

    Parameters
    ----------
    spec : ScenarioSpec, optional
        The case's scenario (default :func:`opwb.scenarios.spec.spec_for` of ``case``).
    case : opwb.data.case.Case, optional
        The bank's case (default the bundled one).
    appetite : Appetite, optional
        Management's ceilings (default the case's).
    settings : PredictiveSettings, optional
        Worlds and years per world (default the case's).
    progress : callable ``(fraction, text)``, optional
    paired : bool
        Indistinguishable structures by paired errors on the predictive base (default).
    cache : bool
        Use the store (default).

    Returns
    -------
    RobustAnswer

    Raises
    ------
    opwb.DataError, ValueError
        From the case (see :func:`opwb.scenarios.spec.scenario_bases`).
    """
    from opwb.data.case import bundled_case
    from opwb.scenarios.spec import case_inputs, spec_for
    case = bundled_case() if case is None else case
    _, _, quotes = case_inputs(case)
    spec = spec_for(case, quotes) if spec is None else spec
    settings = settings or case_predictive_settings(case)
    bases, worlds, weights = predictive_bases(spec, case=case, settings=settings,
                                              progress=progress, cache=cache)
    ans = management_answer(bases, quotes, spec=spec, appetite=appetite, paired=paired)
    return RobustAnswer(ans, worlds, weights, settings, bases)
