"""Capital from the four AMA data elements, and with each left out (issue 23).

:func:`four_elements` takes a case and its fitted internal-data models, builds each cell's
model from the elements the case has — internal losses, scaled external losses, scenario
analysis, BEICF (:mod:`opwb.fitting.elements`) — and simulates the annual gross loss of each
cell for the model with all of them, with each but internal data left out, and with internal
data alone (the model the scenario bases use: the case's single severity cap). Every variant
uses the same random numbers (common random numbers: the streams are keyed to the cell and
the block of years), so differences between rows are the elements', not noise.

Capital is the Basel default, the sum over cells of each cell's VaR at ``alpha`` of the
annual gross loss, with its Monte Carlo standard error √Σ se² (the cells' streams are
independent; :func:`opwb.engine.riskmeasures.var_with_se` for each, valid for heavy tails:
order statistics, no moment assumed). Amounts KRW.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from opwb.engine.riskmeasures import var_with_se
from opwb.engine.simulate import CellModel, simulate_losses
from opwb.fitting.elements import (
    ELEMENTS,
    ElementCell,
    ElementSettings,
    element_cells,
    element_steps,
    element_variants,
    source_table,
)

__all__ = ["ElementsResult", "four_elements", "case_elements", "element_settings",
           "element_answers", "element_model_set", "scenario_sd_sensitivity", "WITHOUT_CAPS",
           "SCENARIO_SDS",
           "INTERNAL_ONLY"]

INTERNAL_ONLY = "internal only"
"""The variant with internal data alone and the case's single cap (the scenario bases')."""
WITHOUT_CAPS = "without scenario caps"
"""The variant with every element but each cell capped at the case's single cap instead of
its worst plausible loss: the part of the scenarios' effect that is the caps."""
SCENARIO_SDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0)
"""The scenario uncertainties s of :func:`scenario_sd_sensitivity` (log scale)."""


def element_settings(case) -> ElementSettings:
    """The case's settings of the four-element model (:class:`ElementSettings`)."""
    return ElementSettings(external_threshold=case.external_threshold,
                           external_weight=case.external_weight,
                           scenario_sd=case.scenario_sd,
                           beicf_bounds=tuple(case.beicf_bounds),
                           severity_cap=case.severity_cap)


def case_elements(case) -> dict:
    """The inputs of the elements the case has: ``external`` (scaled to the bank; None when
    the case names none or states no ``external_threshold``), ``scenarios``, ``scorecard``.

    Raises
    ------
    opwb.DataError
        A file's problems (naming file, row and column), external losses without the bank's
        size.
    """
    external = case.scaled_external() if case.external_threshold is not None else None
    return {"external": external, "scenarios": case.load_scenarios(),
            "scorecard": case.load_scorecard()}


@dataclass(frozen=True)
class ElementsResult:
    """Capital of the four-element model and of each variant.

    Attributes
    ----------
    available : tuple of str
        The elements the case has (in :data:`~opwb.fitting.elements.ELEMENTS` order).
    variants : dict
        Variant name → the elements it uses (``"all"``, ``"without external"``, ...,
        :data:`WITHOUT_CAPS` when the scenarios are used — every element, the case's single
        cap — and :data:`INTERNAL_ONLY`).
    cells : dict
        Variant → cell → :class:`~opwb.fitting.elements.ElementCell`.
    capital : pandas.DataFrame
        One row per variant (index): ``elements`` (text), ``capital`` and ``capital_se``
        (KRW: Σ cell VaR and its Monte Carlo standard error), ``change`` (KRW: capital less
        that of ``"all"``) and ``change_se`` (√(se² + se_all²): the rows share their random
        numbers, so this bounds the change's error from above), and per cell ``var_<cell>``,
        ``var_se_<cell>`` and ``q999_<cell>`` (the cell's VaR, its standard error and the
        99.9% single-loss quantile, capped, KRW) and ``cap_rate_<cell>`` (losses a year at
        or above the cell's cap: λ_u·S_u(cap); at least 1 − alpha, the year of the VaR
        holds a loss at the cap, which then sets the cell's capital).
    sources : pandas.DataFrame
        The all-elements model's sources per cell (:func:`opwb.fitting.elements.source_table`).
    n_years, seed, alpha : the simulation.
    settings : ElementSettings
    notes : tuple of str
        What the case lacks or does not use (e.g. external losses without a stated H).
    """

    available: tuple[str, ...]
    variants: dict[str, tuple[str, ...]]
    cells: dict[str, dict[str, ElementCell]] = field(repr=False)
    capital: pd.DataFrame = field(repr=False)
    sources: pd.DataFrame = field(repr=False)
    n_years: int = 0
    seed: int = 0
    alpha: float = 0.999
    settings: ElementSettings = field(default_factory=ElementSettings)
    notes: tuple[str, ...] = ()

    @property
    def uses(self) -> tuple[str, ...]:
        """The elements the full model uses."""
        return self.variants["all"]


def _available(inputs: dict) -> tuple[str, ...]:
    """The elements whose inputs :func:`case_elements` found (internal data always)."""
    given = {"internal": True, "external": inputs["external"] is not None,
             "scenarios": inputs["scenarios"] is not None,
             "beicf": inputs["scorecard"] is not None}
    return tuple(e for e in ELEMENTS if given[e])


def _capital(cells: dict[str, ElementCell], n_years: int, seed: int, alpha: float) -> dict:
    model = {c: CellModel(e.frequency, e.severity, threshold=e.threshold,
                          severity_cap=e.severity_cap) for c, e in cells.items()}
    sim = simulate_losses(model, n_years, seed, keep_events_above=math.inf)
    row: dict = {}
    total, var2 = 0.0, 0.0
    for cell in cells:
        v, se = var_with_se(sim.annual_gross[cell], alpha)
        row[f"var_{cell}"], row[f"var_se_{cell}"] = v, se
        total += v
        var2 += se * se
    for cell, e in cells.items():
        row[f"q999_{cell}"] = e.single_loss_quantile(0.999)
        cap = e.severity_cap
        row[f"cap_rate_{cell}"] = (
            0.0 if cap is None else
            e.frequency.mean * float(np.exp(e.severity.logsf_conditional(cap))))
    return {"capital": total, "capital_se": math.sqrt(var2), **row}


def four_elements(case, models, losses: pd.DataFrame, *, n_years: int | None = None,
                  seed: int | None = None, alpha: float = 0.999,
                  inputs: dict | None = None, uses: Iterable[str] | None = None,
                  steps: bool = False) -> ElementsResult:
    """Capital with all the case's elements, with each left out and with internal data alone.

    Parameters
    ----------
    case : opwb.data.case.Case
        Its settings: ``external_threshold``, ``external_weight``, ``scenario_sd``,
        ``beicf_bounds``, ``severity_cap``; its files: ``external``, ``scenarios``, ``beicf``.
    models : ModelSet or mapping cell -> CellFit
        The case's chosen internal-data models (e.g. a scenario base's ``model_set``).
    losses : pandas.DataFrame
        The losses they were fitted on.
    n_years, seed : int, optional
        The simulation; default the case's ``n_years`` and ``seed``.
    alpha : float
        The VaR level (fraction).
    inputs : dict, optional
        :func:`case_elements` already loaded.
    uses : iterable of str, optional
        Restrict the elements (default: every one the case has).
    steps : bool
        Instead of leaving each element out, add each to internal data alone
        (:func:`opwb.fitting.elements.element_steps`: what each element does by itself).

    Returns
    -------
    ElementsResult

    Raises
    ------
    opwb.DataError
        A file's problems.
    ValueError
        An element asked for that the case lacks; a scenario that cannot hold
        (:func:`opwb.fitting.elements.scenario_fit`).
    """
    inputs = case_elements(case) if inputs is None else inputs
    notes = []
    if case.external is not None and case.external_threshold is None:
        notes.append("external losses are named but no external_threshold is stated: they "
                     "do not enter the model")
    available = _available(inputs)
    if uses is not None:
        wanted = set(uses) | {"internal"}
        missing = sorted(wanted - set(available))
        if missing:
            raise ValueError(f"the case has no {', '.join(missing)}")
        available = tuple(e for e in available if e in wanted)
    variants = element_steps(available) if steps else element_variants(available)
    if available != ("internal",):       # internal data alone first (steps) or last
        caps = {WITHOUT_CAPS: available} if not steps and "scenarios" in available else {}
        variants = ({INTERNAL_ONLY: ("internal",), **variants} if steps
                    else {**variants, **caps, INTERNAL_ONLY: ("internal",)})
    settings = element_settings(case)
    n_years = case.n_years if n_years is None else int(n_years)
    seed = case.seed if seed is None else int(seed)
    cells, rows = {}, {}
    for name, els in variants.items():
        if name == INTERNAL_ONLY or els == ("internal",):
            built = element_cells(models, losses, uses=("internal",), settings=settings)
        elif name == WITHOUT_CAPS:
            built = {c: replace(e, severity_cap=settings.severity_cap,
                                cap_source="case" if settings.severity_cap else "none")
                     for c, e in cells["all"].items()}
        else:
            built = element_cells(models, losses, uses=els, settings=settings, **inputs)
        cells[name] = built
        rows[name] = {"elements": ", ".join(els), **_capital(built, n_years, seed, alpha)}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.insert(3, "change", table["capital"] - table.loc["all", "capital"])
    # CRN make the rows positively correlated: √(se² + se_all²) bounds the change's error
    table.insert(4, "change_se", np.hypot(table["capital_se"], table.loc["all", "capital_se"]))
    table.loc["all", "change_se"] = 0.0
    return ElementsResult(available, variants, cells, table, source_table(cells["all"]),
                          n_years, seed, alpha, settings, tuple(notes))


def element_model_set(cells: dict[str, ElementCell], models) -> "ModelSet":
    """The element cells as a :class:`~opwb.fitting.modelset.ModelSet` (threshold and
    fingerprint of ``models``, the data fit) for :func:`opwb.scenarios.base.base_from_models`."""
    from opwb.fitting.modelset import CellFit, ModelSet
    return ModelSet({c: CellFit(e.frequency, e.severity, f"elements: {', '.join(e.uses)}")
                     for c, e in cells.items()}, models.threshold,
                    fingerprint=getattr(models, "fingerprint", ""),
                    allow_infinite_mean=True, note="four-element model")


def element_answers(result: ElementsResult, models, programme, quotes, spec, *,
                    n_years: int | None = None, variants: Iterable[str] | None = None
                    ) -> pd.DataFrame:
    """The plug-in recommendation of the bond on each variant's model (issue 23: the
    recommendation with all the elements and with each left out).

    For each variant, the scenario base of its cell models (each cell censored at its own
    cap: :func:`opwb.scenarios.base.base_from_models`) is simulated with the spec's seed, the
    frontier of the spec's grid is priced by the quotes and the structure with the highest
    expected net benefit within the appetite is recommended
    (:func:`opwb.scenarios.answer.management_answer`, unpaired: the fitted model, not the
    predictive model the app's answer rests on).

    Parameters
    ----------
    result : ElementsResult
    models : ModelSet
        The internal-data models (their threshold).
    programme : Programme
        The case's insurance programme (with the bond).
    quotes : sequence of Alternative
    spec : ScenarioSpec
        The case's grid, appetite and settings (:func:`opwb.scenarios.spec.spec_for`).
    n_years : int, optional
        Simulated years per variant (default the spec's).
    variants : iterable of str, optional
        Default: every variant of ``result``.

    Returns
    -------
    pandas.DataFrame
        One row per variant: ``name``, ``limit``, ``deductible``, ``premium``,
        ``net_benefit`` and ``net_benefit_se``, ``bond_regulatory_relief`` and its ``_se``
        (KRW), ``indistinguishable`` (how many structures the simulation cannot tell from
        it), or ``error`` (why there is none: nothing meets the appetite).
    """
    from opwb.scenarios.answer import management_answer
    from opwb.scenarios.base import base_from_models

    n_years = spec.n_years if n_years is None else int(n_years)
    rows = {}
    for name in (result.variants if variants is None else variants):
        cells = result.cells[name]
        ms = element_model_set(cells, models)
        base = base_from_models(ms, programme, n_years=n_years, seed=spec.seed,
                                severity_cap={c: e.severity_cap for c, e in cells.items()},
                                bond_policy=spec.bond_policy)
        ans = management_answer({True: base}, quotes, spec=spec, paired=False)
        rec = ans.recommendations[True]
        if isinstance(rec, str):
            rows[name] = {"error": rec}
            continue
        s = rec.structure
        rows[name] = {"name": rec.name, "limit": rec.limit, "deductible": rec.deductible,
                      "premium": float(s["premium"]),
                      **{k: float(s[k]) for k in ("net_benefit", "net_benefit_se",
                                                  "bond_regulatory_relief",
                                                  "bond_regulatory_relief_se")},
                      "indistinguishable": len(rec.indistinguishable), "error": ""}
    return pd.DataFrame.from_dict(rows, orient="index")


def scenario_sd_sensitivity(case, models, losses: pd.DataFrame, *,
                            sds: Iterable[float] = SCENARIO_SDS, n_years: int | None = None,
                            seed: int | None = None, alpha: float = 0.999,
                            inputs: dict | None = None) -> pd.DataFrame:
    """Capital of the all-elements model against the scenarios' uncertainty s.

    s (the case's ``scenario_sd``) is a judgement, not an estimate: how far a workshop's
    "once in N years" may be from the truth on the log scale. Each row rebuilds the model
    with another s (same random numbers) and gives its capital, its standard error and each
    cell's 99.9% single-loss quantile (capped), KRW.

    Returns
    -------
    pandas.DataFrame
        Index s; columns ``capital``, ``capital_se``, ``q999_<cell>``, ``var_<cell>``.

    Raises
    ------
    ValueError
        The case has no scenario estimates.
    """
    inputs = case_elements(case) if inputs is None else inputs
    if inputs["scenarios"] is None:
        raise ValueError("the case has no scenario estimates")
    uses = _available(inputs)
    n_years = case.n_years if n_years is None else int(n_years)
    seed = case.seed if seed is None else int(seed)
    rows = {}
    for sd in sds:
        settings = replace(element_settings(case), scenario_sd=float(sd))
        built = element_cells(models, losses, uses=uses, settings=settings, **inputs)
        rows[float(sd)] = _capital(built, n_years, seed, alpha)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("scenario_sd")
