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
from collections.abc import Iterable, Mapping
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
           "SCENARIO_SDS", "INTERNAL_ONLY", "GroupEffect", "scenario_group_effect",
           "element_family_range"]

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


def _cell_models(cells: dict[str, ElementCell]) -> dict[str, CellModel]:
    """The element cells as the engine's cell models (each with its own cap)."""
    return {c: CellModel(e.frequency, e.severity, threshold=e.threshold,
                         severity_cap=e.severity_cap) for c, e in cells.items()}


def _capital_row(cells: dict[str, ElementCell], annual, alpha: float) -> dict:
    """Capital (Σ cell VaR at ``alpha``) and its error, each cell's VaR and error from its
    annual losses ``annual[cell]``, its 99.9% single loss and its yearly rate of losses at
    its cap."""
    row: dict = {}
    total, var2 = 0.0, 0.0
    for cell in cells:
        v, se = var_with_se(annual[cell], alpha)
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


def _capital(cells: dict[str, ElementCell], n_years: int, seed: int, alpha: float) -> dict:
    sim = simulate_losses(_cell_models(cells), n_years, seed, keep_events_above=math.inf)
    return _capital_row(cells, sim.annual_gross, alpha)


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


# --------------------------------------------------------------------------- a group's effect
@dataclass(frozen=True)
class GroupEffect:
    """What one group of scenario estimates (e.g. a new business's) adds to capital and to
    a policy of the programme (:func:`scenario_group_effect`). Amounts KRW.

    Attributes
    ----------
    group : str
    estimates : tuple of ScenarioEstimate
        The group's estimates.
    cells : tuple of str
        The cells they are stated for.
    capital : pandas.DataFrame
        Index ``"with"`` (every element, the group's losses added to their cells) and
        ``"without"`` (the workshop's other estimates alone), columns as
        :attr:`ElementsResult.capital`'s (``capital``, ``capital_se``, ``var_<cell>``,
        ``var_se_<cell>``, ``q999_<cell>``, ``cap_rate_<cell>``) and, for the group's cells,
        ``severity_cap_<cell>`` (the cell's own cap), ``group_rate_<cell>`` (the group's
        losses a year), ``group_from_<cell>`` (the amount they start at) and
        ``group_cap_<cell>`` (their worst plausible loss); NaN in ``"without"``.
    change, change_se : float
        Capital with the group less capital without it, and its Monte Carlo standard error
        (paired: both on the same simulated years, bootstrap of the difference of each of
        the group's cells' VaRs; the other cells are the same in both rows).
    checks : pandas.DataFrame
        Each of the group's exceedance estimates against the model: ``cell``, ``amount``,
        ``workshop_rate`` (1/N) and ``model_rate`` (the group's losses ≥ X a year).
    policy : str or None
        The policy looked at (its id in the programme).
    cover : pandas.DataFrame or None
        Index ``"with"``/``"without"``: the policy's ``expected_claims`` (its mean annual
        contractual payment, before delay, default and haircut) and ``_se``, and
        ``exhausted`` (the share of years it pays its annual aggregate limit, or its
        per-occurrence limit when it has no aggregate) and ``_se``.
    losses : pandas.DataFrame or None
        One row per estimate of the group: ``kind``, ``amount`` (X), ``return_period``,
        ``paid`` (what the policy pays on one loss of X: deductible, limit, coinsurance and
        the annual aggregate limit), ``retained`` (X − paid) and ``share_paid``.
    notes : tuple of str
    n_years, seed : the simulation.
    """

    group: str
    estimates: tuple
    cells: tuple[str, ...]
    capital: pd.DataFrame = field(repr=False)
    change: float = 0.0
    change_se: float = 0.0
    checks: pd.DataFrame | None = field(default=None, repr=False)
    policy: str | None = None
    cover: pd.DataFrame | None = field(default=None, repr=False)
    losses: pd.DataFrame | None = field(default=None, repr=False)
    notes: tuple[str, ...] = ()
    n_years: int = 0
    seed: int = 0


def _group_key(cell: str, group: str) -> str:
    """The simulated cell of a group's own losses (its streams keyed to it)."""
    return f"{cell}·group {group}"


def _group_component(cell: ElementCell, estimates, group: str) -> tuple[CellModel | None, dict,
                                                                          list[str]]:
    """The group's own losses in one cell: a Poisson number a year at or above the smallest
    of its exceedance amounts X₀ (rate 1/N₀), each drawn from the cell's severity above X₀,
    capped at the group's worst plausible loss (else the cell's cap)."""
    exc = sorted((e for e in estimates if e.kind == "exceedance"), key=lambda e: e.amount)
    worst = [e.amount for e in estimates if e.kind == "worst"]
    notes: list[str] = []
    if not exc:
        notes.append(f"{cell.cell}: the group states no exceedance estimate, only a worst "
                     "plausible loss: it adds no losses and does not raise the cell's cap")
        return None, {}, notes
    first = exc[0]
    rate = 1.0 / first.return_period
    cap = max(worst) if worst else cell.severity_cap
    from scipy import stats
    model = CellModel(stats.poisson(rate), cell.severity, threshold=first.amount,
                      severity_cap=cap)
    return model, {"rate": rate, "from": first.amount, "cap": cap}, notes


def _paired_var_se(a: np.ndarray, b: np.ndarray, alpha: float, seed: int) -> float:
    """Bootstrap standard error of VaR(a) − VaR(b), both on the same years (the same
    resampled years in every replicate, :class:`opwb.engine.bootstrap.YearWeights`)."""
    from opwb.engine.bootstrap import YearWeights, var_replicates
    w = YearWeights(seed, a.size)
    d = var_replicates(a, alpha, w) - var_replicates(b, alpha, w)
    return float(np.std(d, ddof=1))


def _policy_claims(p, ceded: np.ndarray, extra: np.ndarray | None) -> dict:
    """Policy ``p``'s mean annual contractual payment and the share of years it pays its
    aggregate limit: ``ceded`` (the programme applied to the cells' events) plus ``extra``
    (the group's own payments a year, before the aggregate), the year's total capped at the
    aggregate limit (one policy's annual payment is min(Σ payments, aggregate) whatever
    their order)."""
    if extra is not None:
        ceded = np.minimum(ceded + extra, p.aggregate_limit)
    top = p.aggregate_limit if math.isfinite(p.aggregate_limit) else p.coinsurance * p.limit
    full = ceded >= top * (1 - 1e-9)
    share, n = float(full.mean()), ceded.size
    return {"expected_claims": float(ceded.mean()),
            "expected_claims_se": float(ceded.std(ddof=1) / math.sqrt(n)),
            "exhausted": share, "exhausted_se": math.sqrt(share * (1 - share) / n)}


def scenario_group_effect(case, models, losses: pd.DataFrame, group: str, *,
                          programme=None, policy: str | None = None,
                          n_years: int | None = None, seed: int | None = None,
                          alpha: float = 0.999, inputs: dict | None = None) -> GroupEffect:
    """Capital and a policy's cover with a group of scenario estimates and without it.

    The bank's own forward-looking scenario — a new business it starts, e.g. the bundled
    case's MyData service (issue 23 item 8; the seed's "새로운 비즈니스, 환경변화 반영") —
    is a ``group`` of the scenario file. A new business is a new source of losses, not a
    restatement of the cell's existing ones, so the group is modelled as **losses added to
    the cell**: the four-element model (every element the case has) is built from the
    workshop's other estimates (:meth:`~opwb.data.scenarios.ScenarioSet.without`), and
    in each of the group's cells a Poisson number of the group's own losses a year at or
    above the smallest of its exceedance amounts X₀ (rate 1/N₀, "a loss of at least X₀
    about once in N₀ years") is added, each drawn from the cell's severity above X₀ and
    capped at the group's worst plausible loss. The group's other exceedance estimates are
    checks of that shape (``checks``: the model's rate against the workshop's). The cell's
    own losses keep their own cap. Both rows use the same simulated years (the group's
    losses come from streams of their own), so the difference is the group's.

    With a ``policy`` (e.g. the personal-data-leak liability cover, ``PDL``), the group's
    losses are taken to fall within its wording (that is why it is named): the programme is
    applied to the cells' events and every group loss pays the policy's layer on top, the
    year's payments capped at its annual aggregate limit; the expected annual claims and
    how often the policy pays its whole aggregate, with and without the group. Each of the
    group's estimates is split into what the policy pays on one such loss and what the bank
    keeps (:func:`opwb.insurance.policy.layer_split`, at most the aggregate limit).

    Parameters
    ----------
    case : opwb.data.case.Case
        With scenario estimates (``scenarios``) holding ``group``.
    models : ModelSet
        The internal-data models (e.g. a scenario base's ``model_set``).
    losses : pandas.DataFrame
        The losses they were fitted on.
    group : str
        The group's name (the scenario file's ``group`` column).
    programme : Programme, optional
        The case's programme (needed with ``policy``).
    policy : str, optional
        A policy id of ``programme`` whose wording the group's losses fall within.
    n_years, seed : int, optional
        Default the case's.
    alpha : float
        The VaR level.
    inputs : dict, optional
        :func:`case_elements` already loaded.

    Returns
    -------
    GroupEffect

    Raises
    ------
    ValueError
        The case has no scenarios, no estimate is in ``group``, ``policy`` without
        ``programme`` or not in it, a group cell the model does not have.
    """
    from opwb.insurance.policy import layer_split
    from opwb.scenarios.base import _keep_levels
    inputs = case_elements(case) if inputs is None else inputs
    scen = inputs["scenarios"]
    if scen is None:
        raise ValueError("the case has no scenario estimates (scenarios): no group to leave "
                         "out")
    rest = scen.without(group)
    estimates = scen.of(group)
    if policy is not None:
        if programme is None:
            raise ValueError("a policy's cover needs the programme (programme=...)")
        if policy not in programme.ids:
            raise ValueError(f"policy {policy!r} is not in the programme; expected one of "
                             f"{list(programme.ids)}")
    n_years = case.n_years if n_years is None else int(n_years)
    seed = case.seed if seed is None else int(seed)
    cells = element_cells(models, losses, uses=_available(inputs),
                          settings=element_settings(case), **{**inputs, "scenarios": rest})
    group_cells = tuple(dict.fromkeys(e.cell for e in estimates))
    unknown = [c for c in group_cells if c not in cells]
    if unknown:
        raise ValueError(f"group {group!r} has estimates for {unknown}, cells the model does "
                         f"not have ({list(cells)})")
    model = _cell_models(cells)
    parts, notes = {}, []
    for c in group_cells:
        comp, info, why = _group_component(cells[c], [e for e in estimates if e.cell == c],
                                           group)
        notes += why
        if comp is not None:
            model[_group_key(c, group)] = comp
            parts[c] = info
    keep = (_keep_levels(programme, (), cells) if programme is not None
            else dict.fromkeys(cells, math.inf))
    keep.update({_group_key(c, group): 0.0 for c in parts})     # every group loss kept
    sim = simulate_losses(model, n_years, seed, keep_events_above=keep)
    annual = {c: np.asarray(sim.annual_gross[c], float) for c in cells}
    added = {c: annual[c] + np.asarray(sim.annual_gross[_group_key(c, group)], float)
             for c in parts}
    rows = {}
    for key in ("with", "without"):
        row = _capital_row(cells, {**annual, **added} if key == "with" else annual, alpha)
        for c in group_cells:
            info = parts.get(c, {}) if key == "with" else {}
            row[f"severity_cap_{c}"] = cells[c].severity_cap
            row[f"group_rate_{c}"] = info.get("rate", math.nan)
            row[f"group_from_{c}"] = info.get("from", math.nan)
            row[f"group_cap_{c}"] = info.get("cap", math.nan)
        rows[key] = row
    table = pd.DataFrame.from_dict(rows, orient="index")
    change = float(table.loc["with", "capital"] - table.loc["without", "capital"])
    change_se = math.sqrt(sum(_paired_var_se(added[c], annual[c], alpha, seed) ** 2
                              for c in parts))
    checks = []
    for e in estimates:
        if e.kind != "exceedance" or e.cell not in parts:
            continue
        info, sev = parts[e.cell], cells[e.cell].severity
        tail = float(np.exp(sev.logsf(min(e.amount, info["cap"])) - sev.logsf(info["from"])))
        checks.append({"cell": e.cell, "amount": e.amount, "workshop_rate": e.annual_rate,
                       "model_rate": info["rate"] * (tail if e.amount < info["cap"] else 0.0)})
    cover = split = None
    if policy is not None:
        p = programme[policy]
        base_sim = replace(sim, cells=tuple(c for c in sim.cells if c in cells),
                           annual_gross={c: sim.annual_gross[c] for c in cells},
                           events={c: sim.events[c] for c in cells},
                           annual_count={c: sim.annual_count[c] for c in cells
                                         if c in sim.annual_count},
                           finite_mean={c: v for c, v in sim.finite_mean.items() if c in cells},
                           _draws={})
        extra = np.zeros(n_years)
        for c in parts:
            ev = sim.events[_group_key(c, group)]
            pay = p.recover(ev.loss)
            extra += np.bincount(ev.year, weights=pay, minlength=n_years)
        from opwb.insurance.apply import apply_programme
        ceded = np.asarray(apply_programme(programme, base_sim, seed=seed)
                           .ceded_by_policy[policy], float)
        cover = pd.DataFrame.from_dict({"with": _policy_claims(p, ceded, extra),
                                        "without": _policy_claims(p, ceded, None)},
                                       orient="index")
        split_rows = []
        for e in estimates:
            part = layer_split(e.amount, p)
            paid = min(part["insurance"], p.aggregate_limit)
            split_rows.append({"cell": e.cell, "kind": e.kind, "amount": e.amount,
                               "return_period": e.return_period, "paid": paid,
                               "retained": e.amount - paid, "share_paid": paid / e.amount})
        split = pd.DataFrame(split_rows)
    return GroupEffect(group, estimates, group_cells, table, change, change_se,
                       pd.DataFrame(checks), policy, cover, split, tuple(notes), n_years, seed)


# --------------------------------------------------------------------------- families
def element_family_range(case, models, losses: pd.DataFrame, families: Mapping, *,
                         n_years: int | None = None, seed: int | None = None,
                         alpha: float = 0.999, inputs: dict | None = None) -> pd.DataFrame:
    """Each cell's capital in the four-element model under each credible severity family
    (issue 23 item 7: the capital range across the families the data cannot choose between).

    For every cell and every family of ``families[cell]`` the family is fitted to the cell's
    internal losses (left-truncated MLE, :func:`opwb.fitting.mle.fit_severity`; the model
    set's own fit for its chosen family) and the cell's four-element model is built from it
    with every element the case has (:func:`opwb.fitting.elements.element_cells`), then
    simulated with the cell's own random numbers (common to every family). The cells are
    added as Basel's sum, so the capital range over every choice of families is
    [Σ cell minimum, Σ cell maximum]. Every family given is in the range whatever its
    weight (the weights are shown, not applied), and the model set's own family always is;
    the extremes of Monte Carlo estimates lie slightly outside the extremes of the true
    values (each row's ± is its own error, not the range's). The range is the families'
    part only: the caps, the scenarios' uncertainty and the parameters' are not in it.

    Parameters
    ----------
    case, models, losses : as :func:`four_elements`.
    families : mapping
        Cell → the credible families and their weights: an object with ``families`` and
        ``weights`` (e.g. :func:`opwb.decision.family_weights`' or a predictive answer's
        ``weights[True]``), or a mapping family → weight. Cells not in it keep the chosen
        family (weight 1).
    n_years, seed, alpha, inputs : as :func:`four_elements`.

    Returns
    -------
    pandas.DataFrame
        One row per (cell, family): ``cell``, ``family``, ``weight``, ``chosen`` (the model
        set's family), ``q999`` (99.9% single loss, capped), ``var`` and ``var_se`` (the
        cell's VaR at ``alpha`` and its Monte Carlo standard error), ``cap_rate`` (losses a
        year at or above the cell's cap), ``error`` (why the family gives no model: its
        fit is degenerate or at an edge, it cannot be fitted, or it cannot meet the
        scenarios; its figures NaN, outside the range). ``attrs``:
        ``capital_chosen``, ``capital_low``, ``capital_high`` (KRW) and their ``_se``.

    Raises
    ------
    ValueError
        An unknown family name in ``families``.
    """
    from opwb.fitting.families import get_family
    from opwb.fitting.mle import fit_severity
    from opwb.fitting.modelset import CellFit
    from opwb.data.errors import DataError
    inputs = case_elements(case) if inputs is None else inputs
    uses = _available(inputs)
    settings = element_settings(case)
    n_years = case.n_years if n_years is None else int(n_years)
    seed = case.seed if seed is None else int(seed)
    rows = []
    for cell, m in models.items():
        given = families.get(cell)
        if given is None:
            weights = {m.severity.family: 1.0}
        elif hasattr(given, "families"):
            weights = dict(zip(given.families, map(float, given.weights)))
        else:
            weights = {str(f): float(w) for f, w in dict(given).items()}
        weights.setdefault(m.severity.family, 0.0)
        for fam in weights:
            get_family(fam)            # an unknown family is the caller's error: it raises
        from opwb.fitting.elements import _cell_losses
        x = _cell_losses(losses, cell, m.severity.threshold)
        for fam, w in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])):
            row = {"cell": cell, "family": fam, "weight": w,
                   "chosen": fam == m.severity.family, "q999": math.nan, "var": math.nan,
                   "var_se": math.nan, "cap_rate": math.nan, "error": ""}
            try:
                sev = (m.severity if fam == m.severity.family
                       else fit_severity(x, fam, m.severity.threshold))
                if not sev.ok:
                    raise ValueError(f"the {fam} fit is {sev.status}: {sev.note}")
                built = element_cells({cell: CellFit(m.frequency, sev, m.reason)}, losses,
                                      uses=uses, settings=settings, **inputs)
            except (ValueError, DataError) as exc:
                row["error"] = str(exc)
                rows.append(row)
                continue
            out = _capital(built, n_years, seed, alpha)
            row.update(q999=out[f"q999_{cell}"], var=out[f"var_{cell}"],
                       var_se=out[f"var_se_{cell}"], cap_rate=out[f"cap_rate_{cell}"])
            rows.append(row)
    table = pd.DataFrame(rows)
    ok = table[table["error"] == ""]
    def pick(frame, how):
        i = frame.groupby("cell")["var"].transform(how) == frame["var"]
        one = frame[i].drop_duplicates("cell")
        return float(one["var"].sum()), float(np.sqrt((one["var_se"] ** 2).sum()))
    for name, frame, how in (("capital_chosen", ok[ok["chosen"]], "max"),
                             ("capital_low", ok, "min"), ("capital_high", ok, "max")):
        table.attrs[name], table.attrs[name + "_se"] = pick(frame, how)
    return table
