"""BBB limit scenarios: one simulation, many insurance alternatives (common random numbers).

:func:`build_scenario_base` takes each event type's frequency and severity from the one
model set of the losses (:func:`opwb.fitting.models_for`, with or without the CD incident),
simulates annual losses once with the severity cap and stores the events the bond can
reach. :func:`evaluate` re-applies the insurance programme
with the bankers' blanket bond replaced by an :class:`~opwb.scenarios.alternatives.Alternative`
— no re-simulation, so differences between alternatives are exact, not noise — and
returns management's figures. :func:`compare` tabulates several alternatives.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from opwb.capital.ama import capital_summary
from opwb.data.levels import check_level
from opwb.data.schema import COLLECTION_THRESHOLD
from opwb.engine.bootstrap import BOOTSTRAP_REPLICATES
from opwb.engine.distributions import check_cap
from opwb.engine.simulate import CellModel, simulate_losses
from opwb.fitting.modelset import ModelSet, models_for
from opwb.insurance.apply import apply_programme
from opwb.insurance.eligibility import view_haircuts
from opwb.insurance.programme import Programme

#: The normal two-sided 95% critical value opwb uses on independent years (rounded, as the
#: ± bands of every screen).
Z95 = 1.96

__all__ = [
    "BBB_POLICY_ID", "DEFAULT_SEVERITY_CAP", "without_incidents", "ScenarioSettings", "ScenarioBase",
    "cell_models", "fit_cell_models",
    "build_scenario_base", "base_from_models", "baseline_capital", "check_bond",
]

BBB_POLICY_ID = "BBB"
"""The bond's policy id when none is given (the bundled programme's); a bank's case names
its own (``bond_policy``), carried by every :class:`ScenarioBase`."""
DEFAULT_SEVERITY_CAP = 1e12
"""Default maximum single loss of the bundled bank: 1조원 (see ``data/README.md``)."""


@dataclass(frozen=True)
class ScenarioSettings:
    """How alternatives are judged.

    ``cost_of_capital``: annual cost of holding one won of capital (capital saving =
    cost_of_capital × regulatory capital relief of the bond). ``valuation_date`` sets the
    residual-term haircut (``haircut_convention``: see :mod:`opwb.insurance.eligibility`).
    ``return_periods``: 1-in-N-year retained losses shown. ``aggregation``: how the
    regulatory capital total is formed (Basel default: sum of event-type figures).
    """

    alpha: float = 0.999
    cost_of_capital: float = 0.10
    valuation_date: str | pd.Timestamp | None = "2006-12-31"
    haircut_convention: Literal["linear", "pro-rata"] = "linear"
    return_periods: tuple[int, ...] = (10, 100, 1000)
    aggregation: Literal["sum", "independent"] = "sum"

    def __post_init__(self) -> None:
        check_level(self.alpha)
        if not 0 <= self.cost_of_capital <= 1:
            raise ValueError(f"cost_of_capital must be a fraction in [0, 1] (0.10 for 10%), "
                             f"got {self.cost_of_capital!r}")
        if any(not isinstance(n, (int, np.integer)) or n < 2 for n in self.return_periods):
            raise ValueError(f"return_periods must be whole numbers of years >= 2, "
                             f"got {self.return_periods!r}")
        if self.aggregation not in ("sum", "independent"):
            raise ValueError(f"aggregation must be 'sum' or 'independent', "
                             f"got {self.aggregation!r}")


@dataclass(frozen=True)
class ScenarioBase:
    """A stored simulation and the programme around the bond (built once, evaluated often).

    ``model_set`` is the chosen models (:class:`opwb.fitting.ModelSet`), ``models`` the
    cell models simulated from it with ``severity_cap`` (KRW; None: no cap; with a cap per
    cell, the largest, each cell's in ``models``), ``fits`` the
    chosen severity fit of each cell. ``include_cd`` says whether the case's reference
    incidents (``incidents``: event ids; the bundled bank's 2005 CD fraud) are in the data
    the models were fitted on; ``bond_policy`` is the bond's policy id in ``programme``.
    """

    include_cd: bool
    n_years: int
    seed: int
    models: Mapping[str, CellModel]
    fits: Mapping[str, Any]
    sim: Any
    programme: Programme
    model_set: Any = None
    severity_cap: float | None = None
    _cache: dict = field(default_factory=dict, repr=False, compare=False)
    bond_policy: str = BBB_POLICY_ID
    incidents: tuple[str, ...] = ()
    incident_names: str = ""
    #: bootstrap replicates of the figures' standard errors (:mod:`opwb.scenarios.figures`);
    #: fewer only where the errors are not shown (a predictive world's own evaluation)
    replicates: int = BOOTSTRAP_REPLICATES
    #: 0: the simulated years are independent. Else they come in consecutive blocks of this
    #: many years, each simulated from its own parameters (a predictive base's worlds:
    #: :mod:`opwb.decision.predictive`), and the standard errors resample the blocks
    #: (:class:`opwb.engine.bootstrap.YearWeights`' block bootstrap).
    world_years: int = 0

    @property
    def critical_value(self) -> float:
        """The two-sided 95% critical value for this base's standard errors: 1.96 (normal)
        when the years are independent; on a base of W worlds (``world_years``) Student's t
        with W − 1 degrees of freedom, because its errors come from W blocks and a normal
        band around a cluster error is too narrow with few clusters (the small-number-of-
        clusters correction: Cameron & Miller 2015, *J. Human Resources* 50(2), §VI.C;
        2.26 at 10 worlds, 1.98 at 100)."""
        if not self.world_years:
            return Z95
        worlds = self.n_years // self.world_years
        if worlds < 2:
            return math.inf
        from scipy import stats
        return float(stats.t.ppf(0.975, worlds - 1))

    @property
    def data_label(self) -> str:
        """Which loss data, for screens: ``"<incidents> 포함"`` / ``"<incidents> 제외"``,
        or ``"전체 데이터"`` when the case has no reference incident."""
        if not self.incidents:
            return "전체 데이터"
        name = self.incident_names or "기준 사건"
        return f"{name} {'포함' if self.include_cd else '제외'}"


def cell_models(model_set: ModelSet, *, severity_cap: float | None | Mapping[str, float | None]
                ) -> dict[str, CellModel]:
    """The simulation model of every cell of ``model_set``, censored at ``severity_cap``
    (KRW; None: no cap; or a mapping cell → cap, e.g. each cell's worst plausible loss from
    the scenario analysis: :mod:`opwb.scenarios.elements`).

    Raises ``ValueError`` when a chosen severity has an infinite mean and there is no cap:
    its simulated mean and expected shortfall would be meaningless sample averages; or a
    mapping without a cell of ``model_set``.
    """
    if isinstance(severity_cap, Mapping):
        missing = [c for c in model_set.keys() if c not in severity_cap]
        if missing:
            raise ValueError(f"no severity cap for cell(s) {missing}")
        caps = {c: check_cap(severity_cap[c], model_set.threshold) for c in model_set.keys()}
    else:
        cap = check_cap(severity_cap, model_set.threshold)
        caps = dict.fromkeys(model_set.keys(), cap)
    out = {}
    for cell, m in model_set.items():
        cap = caps[cell]
        if not m.severity.finite_mean and not math.isfinite(cap):
            raise ValueError(
                f"cell {cell}: the chosen severity ({m.severity.family}, tail index ξ = "
                f"{m.severity.tail_index:.2f}) has an infinite mean; set a severity cap "
                "(maximum single loss) to simulate it")
        out[cell] = CellModel(m.frequency, m.severity, threshold=m.threshold,
                              severity_cap=None if not math.isfinite(cap) else cap)
    return out


def fit_cell_models(losses: pd.DataFrame, *, threshold: float = COLLECTION_THRESHOLD,
                    allow_infinite_mean: bool = False,
                    severity_cap: float | None = DEFAULT_SEVERITY_CAP, **fit_options
                    ) -> tuple[dict[str, CellModel], dict]:
    """Per event type the chosen models (:func:`opwb.fitting.models_for`: the bundled set
    for the bundled losses, else a fit by :func:`opwb.fitting.choose_family`'s rule) as
    simulation models. Returns ``(models, fits)``, ``fits[et]`` the chosen severity fit."""
    model_set = models_for(losses, threshold, allow_infinite_mean=allow_infinite_mean,
                           **fit_options)
    return (cell_models(model_set, severity_cap=severity_cap),
            {cell: m.severity for cell, m in model_set.items()})


def without_incidents(losses: pd.DataFrame, incidents, include: bool) -> pd.DataFrame:
    """``losses`` with (``include=True``) or without the reference ``incidents`` (event ids).

    Raises ``ValueError`` when an incident is not in the data, or when ``include=False``
    and there are no incidents to leave out.
    """
    ids = tuple(incidents)
    missing = [i for i in ids if not (losses["event_id"] == i).any()]
    if missing:
        raise ValueError(f"the reference incident(s) {missing} are not in the loss data "
                         "(check the case's incidents)")
    if include:
        return losses
    if not ids:
        raise ValueError("there is no reference incident to leave out (the case lists none)")
    return losses[~losses["event_id"].isin(ids)]


def _keep_levels(programme: Programme, floor_cells: Iterable[str],
                 cells: Iterable[str]) -> dict[str, float]:
    """Store every event of the bond's cells (its deductible may go to 0); elsewhere only
    events above the lowest deductible of the policies covering that event type."""
    floor_cells = set(floor_cells)
    levels = {}
    for et in cells:
        ded = [p.deductible for p in programme.policies if p.covers(et) > 0]
        levels[et] = 0.0 if et in floor_cells else (min(ded) if ded else math.inf)
    return levels


def build_scenario_base(losses: pd.DataFrame, programme: Programme, *, include_cd: bool = True,
                        n_years: int = 100_000, seed: int = 2005,
                        threshold: float = COLLECTION_THRESHOLD,
                        models: ModelSet | None = None, allow_infinite_mean: bool = True,
                        severity_cap: float | None = DEFAULT_SEVERITY_CAP, workers: int = 1,
                        incidents: Iterable[str] = (), incident_names: str = "",
                        bond_policy: str = BBB_POLICY_ID,
                        saved_models: Iterable | None = None,
                        progress: Callable[[float, str], None] | None = None) -> ScenarioBase:
    """Choose the models, simulate ``n_years`` and prepare the bond-free baseline.

    Parameters
    ----------
    losses : DataFrame
        Canonical loss events (``opwb.load_losses``).
    programme : Programme
        The bank's insurance programme; it must hold the bond (policy ``bond_policy``).
    include_cd : bool
        With ``False`` the reference ``incidents`` (event ids, e.g. the bundled bank's 2005
        CD fraud) are taken out of the data before fitting — the seed's "before including
        the CD incident". ``False`` without incidents raises ``ValueError``.
    saved_models : iterable of paths, optional
        Saved model sets :func:`opwb.fitting.models_for` may use (default: its own).
    models : ModelSet, optional
        The chosen models; default :func:`opwb.fitting.models_for` of the (possibly
        reduced) losses: the bundled model set when the losses are the bundled ones, else
        a fit by the same rule (slow: every family with bootstrap goodness of fit).
    allow_infinite_mean : bool
        Let infinite-mean severities be chosen — deliberately the default here, because the
        scenario simulates every severity under ``severity_cap``, which makes its mean
        finite; with ``severity_cap=None`` an infinite-mean choice raises ``ValueError``.
    severity_cap : float or None
        Maximum single loss (KRW) applied in the simulation (:data:`DEFAULT_SEVERITY_CAP`).
    n_years, seed, workers : the simulation's length, root seed and threads.

    The same ``seed`` gives the same simulated years for every event type whose model is
    unchanged.
    """
    report = progress or (lambda frac, text: None)
    check_bond(programme, bond_policy)
    incidents = tuple(incidents)
    data = without_incidents(losses, incidents, include_cd)
    report(0.05, "모형 선택 (choosing the models)")
    if models is None:
        models = models_for(data, threshold, allow_infinite_mean=allow_infinite_mean,
                            saved=saved_models)
    return base_from_models(models, programme, include_cd=include_cd, n_years=n_years,
                            seed=seed, severity_cap=severity_cap, workers=workers,
                            incidents=incidents, incident_names=incident_names,
                            bond_policy=bond_policy, progress=report)


def base_from_models(models: ModelSet, programme: Programme, *, include_cd: bool = True,
                     n_years: int = 100_000, seed: int = 2005,
                     severity_cap: float | None | Mapping[str, float | None] =
                     DEFAULT_SEVERITY_CAP, workers: int = 1,
                     incidents: Iterable[str] = (), incident_names: str = "",
                     bond_policy: str = BBB_POLICY_ID,
                     progress: Callable[[float, str], None] | None = None) -> ScenarioBase:
    """The scenario base of chosen ``models`` (no loss data needed): simulate ``n_years``
    with ``seed`` and prepare the bond-free baseline — the second half of
    :func:`build_scenario_base`, also used to re-evaluate a recorded run's model set
    (:mod:`opwb.runs`) and to build the four-element model's bases
    (:mod:`opwb.scenarios.elements`). ``include_cd`` and ``incidents`` only label the base;
    ``severity_cap`` may give each cell its own cap (:func:`cell_models`).

    Raises ``ValueError`` when the programme has no ``bond_policy`` or a chosen severity has
    an infinite mean and there is no cap (:func:`cell_models`).
    """
    report = progress or (lambda frac, text: None)
    check_bond(programme, bond_policy)
    cells = cell_models(models, severity_cap=severity_cap)
    bond_cells = [et for et in cells if programme[bond_policy].covers(et) > 0]
    report(0.2, "시뮬레이션 (simulating)")
    sim = simulate_losses(cells, n_years, seed,
                          keep_events_above=_keep_levels(programme, bond_cells, cells),
                          workers=workers)
    caps = [c.severity_cap for c in cells.values()]
    base = ScenarioBase(include_cd, n_years, seed, cells,
                        {cell: m.severity for cell, m in models.items()}, sim, programme,
                        models, (None if not caps or None in caps else max(caps)),
                        bond_policy=bond_policy, incidents=tuple(incidents),
                        incident_names=incident_names)
    report(0.8, "보험 미가입 기준 계산 (baseline without the bond)")
    baseline_capital(base, ScenarioSettings())
    report(1.0, "완료 (done)")
    return base


def check_bond(programme: Programme, bond_policy: str) -> None:
    """Raise ``ValueError`` naming the programme's policies when it has no ``bond_policy``."""
    if bond_policy not in programme.ids:
        raise ValueError(f"the programme has no policy {bond_policy!r} (the bond; the case's "
                         f"bond_policy); its policies are {', '.join(programme.ids)}")


def baseline_capital(base: ScenarioBase, settings: ScenarioSettings) -> float:
    """Regulatory net capital of the programme without the bond (cached per setting that
    affects it), the reference for the bond's own capital relief."""
    key = ("baseline", settings.alpha, str(settings.valuation_date),
           settings.haircut_convention, settings.aggregation)
    if key not in base._cache:
        # the bond at a zero limit, not removed: the other policies keep their wording slices
        without = base.programme.replace_policy(base.bond_policy, limit=0.0)
        hc = view_haircuts(without, "regulatory", valuation_date=settings.valuation_date,
                           convention=settings.haircut_convention)
        reg = apply_programme(without, base.sim, seed=base.seed, haircuts=hc)
        summary = capital_summary(reg, alpha=settings.alpha, aggregation=settings.aggregation)
        base._cache[key] = summary.cap.net
    return base._cache[key]
