"""The one scenario every screen shows: the same fitted models, years, seed and settings in
the app, notebooks 03–05, the deck and the Excel export — all from the bank's case.

:func:`spec_for` turns a case (:class:`opwb.data.case.Case`) into the
:class:`ScenarioSpec` that fixes the run (years, seed, severity cap, valuation date, α, cost
of capital), the structure grid of the frontier (by default spanning the quotes), the bond's
policy id, the reference incidents and management's default risk appetite;
:data:`DEFAULT_SPEC` is the bundled case's. :func:`scenario_bases` builds (once per process
and specification, and once per case on disk: :mod:`opwb.scenarios.store`) the scenario
bases with and without the case's reference incidents, so every caller shares one
simulation. A case whose ``models`` names a recorded run (``models = "run:2007Q1"``) gets
the model sets frozen in that run (:func:`frozen_model_sets`, from the case's run store),
whatever its data: a change of data is then seen apart from a refit.

:func:`precision` says whether a run meets the stated relative precision of the headline
figure (net VaR 99.9%) and how many years would: the Monte Carlo error of a quantile falls
as ``1/sqrt(n)`` (Serfling 1980, §2.3.3), so ``n_needed = n · (rse / target)²``.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from opwb.data.units import EOK, severity_cap_text
from opwb.fitting.modelset import ModelSet
from opwb.scenarios.base import (BBB_POLICY_ID, DEFAULT_SEVERITY_CAP, ScenarioBase,
                                 ScenarioSettings, build_scenario_base)

__all__ = ["ScenarioSpec", "DEFAULT_SPEC", "Appetite", "DEFAULT_APPETITE", "scenario_bases",
           "bundled_inputs", "case_inputs", "spec_for", "grid_for", "precision", "Precision",
           "current_cover", "incident_label", "base_labels", "frozen_model_sets",
           "stored_case_key"]


def _finite_amount(value, what: str, alternative: str = "") -> float:
    """``value`` as a float when it is a finite amount >= 0 KRW; else ``ValueError``
    naming ``what`` (infinite and NaN amounts are refused like negative ones)."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not (math.isfinite(x) and x >= 0):
        more = f" {alternative}" if alternative else ""
        raise ValueError(f"{what} must be a finite amount >= 0 KRW{more}, got {value!r}")
    return x


@dataclass(frozen=True)
class Appetite:
    """Management's risk appetite: ceilings in KRW (None: no ceiling).

    ``max_premium``: annual premium; ``max_retained_if_1in100``: internal-fraud loss the
    bank keeps once in 100 years; ``max_net_capital``: regulatory capital net of insurance.
    A ceiling is a finite amount >= 0 or None: ``inf`` (like a negative or NaN ceiling) is
    refused with ``ValueError`` — no ceiling is None, not an infinite one.
    """

    max_premium: float | None = 70 * EOK
    max_retained_if_1in100: float | None = None
    max_net_capital: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_premium", "max_retained_if_1in100", "max_net_capital"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _finite_amount(value, f"Appetite.{name}",
                                                              "or None for no ceiling"))

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
    threshold: float = 10_000_000.0
    bond_policy: str = BBB_POLICY_ID
    #: the case's reference incidents as ``(event id, label)`` pairs (none: one base)
    incidents: tuple[tuple[str, str], ...] = ()
    appetite: Appetite = DEFAULT_APPETITE
    bank: str = ""
    data_note: str | None = None
    #: the case's fingerprint (:meth:`opwb.data.case.Case.fingerprint`), "" when built in code
    case_key: str = ""
    #: whether the case states its severity cap (False: opwb's default, which screens say)
    severity_cap_stated: bool = True

    def __post_init__(self) -> None:
        # amounts that refuse a negative value refuse a non-finite one too (None or inf
        # stays "no cap" for the severity cap, as everywhere in opwb)
        _finite_amount(self.threshold, "ScenarioSpec.threshold")
        for name in ("deductibles", "limits"):
            for x in getattr(self, name):
                _finite_amount(x, f"ScenarioSpec.{name}")
        cap = self.severity_cap
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, numbers.Real)
                                or not cap > 0):
            raise ValueError(f"ScenarioSpec.severity_cap must be an amount > 0 KRW (inf or "
                             f"None for no cap), got {cap!r}")

    def replace(self, **changes) -> "ScenarioSpec":
        import dataclasses
        return dataclasses.replace(self, **changes)

    def describe_ko(self) -> str:
        """One line for a screen's footer: years, seed, cap, valuation date."""
        cap = severity_cap_text(self.severity_cap, stated=self.severity_cap_stated)
        return (f"모의실험 {self.n_years:,}년 · 시드 {self.seed} · 단일손실 상한 {cap} · "
                f"평가일 {pd.Timestamp(self.settings.valuation_date).date().isoformat()} · "
                f"신뢰수준 {self.settings.alpha:.1%} · 자본비용률 "
                f"{self.settings.cost_of_capital:.0%}")


    @property
    def incident_ids(self) -> tuple[str, ...]:
        return tuple(i for i, _ in self.incidents)


def grid_for(quotes, deductibles=None, limits=None) -> tuple[tuple[float, ...],
                                                            tuple[float, ...]]:
    """The frontier's grid: the given amounts, else opwb's candidate deductibles and the
    candidate limits within the quoted range (so the premium is interpolated, never
    extrapolated), each with the quotes' own (KRW)."""
    from opwb.data.case import DEFAULT_DEDUCTIBLES, DEFAULT_LIMITS
    q_ded = {float(q.deductible) for q in quotes}
    q_lim = {float(q.limit) for q in quotes if math.isfinite(q.limit)}
    if deductibles is None:
        deductibles = set(DEFAULT_DEDUCTIBLES) | q_ded
    if limits is None:
        lo, hi = (min(q_lim), max(q_lim)) if q_lim else (min(DEFAULT_LIMITS), 1000 * EOK)
        limits = {x for x in DEFAULT_LIMITS if lo <= x <= hi} | q_lim
    return tuple(sorted(float(d) for d in deductibles)), tuple(sorted(float(x) for x in limits))


_INPUTS: dict = {}


def case_inputs(case):
    """The case's losses (collected at its threshold), programme
    (:class:`opwb.insurance.Programme`) and quotes (:class:`Alternative` tuple).

    Read once per case fingerprint (its settings and the bytes of its files: a changed file
    is read again) and kept for the process; the losses are returned as a copy."""
    from opwb.insurance.programme import Programme
    from opwb.scenarios.alternatives import load_alternatives
    key = (case.fingerprint(), str(case.root), case.source)
    if key not in _INPUTS:
        if len(_INPUTS) >= 4:
            _INPUTS.pop(next(iter(_INPUTS)))
        _INPUTS[key] = (case.load_losses(), Programme.from_frame(case.load_programme()),
                        load_alternatives(case.path("quotes")))
    losses, programme, quotes = _INPUTS[key]
    return losses.copy(), programme, quotes


def spec_for(case, quotes=None) -> ScenarioSpec:
    """The :class:`ScenarioSpec` of a case (:class:`opwb.data.case.Case`): its run length,
    seed, severity cap, valuation date, cost of capital, appetite, bond, reference incidents
    and frontier grid (:func:`grid_for` of its quotes, read from the case when not given)."""
    if quotes is None:
        from opwb.scenarios.alternatives import load_alternatives
        quotes = load_alternatives(case.path("quotes"))
    deductibles, limits = grid_for(quotes, case.deductibles, case.limits)
    return ScenarioSpec(
        n_years=case.n_years, seed=case.seed, severity_cap=case.severity_cap,
        settings=ScenarioSettings(cost_of_capital=case.cost_of_capital,
                                  valuation_date=case.valuation_date),
        deductibles=deductibles, limits=limits, threshold=float(case.threshold),
        bond_policy=case.bond_policy,
        incidents=tuple((i.event_id, i.label) for i in case.incidents),
        appetite=Appetite(**case.appetite), bank=case.name, data_note=case.data_note,
        case_key=case.fingerprint(), severity_cap_stated=not case.is_default("severity_cap"))


def incident_label(spec: ScenarioSpec) -> str:
    """What screens call the reference incidents: ``"2005년 CD 사건"``, several joined by
    "·"; "" when the case has none."""
    return "·".join(label for _, label in spec.incidents)


def base_labels(spec: ScenarioSpec) -> dict[bool, str]:
    """``{True: "<incident> 포함", False: "<incident> 제외"}`` (``{True: "전체 데이터"}``
    when the case has no reference incident)."""
    name = incident_label(spec)
    if not name:
        return {True: "전체 데이터", False: "전체 데이터"}
    return {True: f"{name} 포함", False: f"{name} 제외"}


_DEFAULT: dict[str, ScenarioSpec] = {}


def __getattr__(name: str):
    # DEFAULT_SPEC: the bundled case's spec, read once on first use (PEP 562)
    if name == "DEFAULT_SPEC":
        if "spec" not in _DEFAULT:
            from opwb.data.case import bundled_case
            _DEFAULT["spec"] = spec_for(bundled_case())
        return _DEFAULT["spec"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_BASES: dict[tuple, dict[bool, ScenarioBase]] = {}


def bundled_inputs():
    """The bundled case's losses (collected at its threshold), programme and quotes
    (:func:`case_inputs` of :func:`opwb.data.case.bundled_case`)."""
    from opwb.data.case import bundled_case
    return case_inputs(bundled_case())


def scenario_bases(spec: ScenarioSpec | None = None, *, case=None,
                   losses: pd.DataFrame | None = None, programme=None,
                   progress: Callable[[float, str], None] | None = None,
                   cache: bool = True) -> dict[bool, ScenarioBase]:
    """The scenario bases of a case: with (``True``) and without (``False``) its reference
    incidents, or ``{True: base}`` alone when the case lists none.

    Parameters
    ----------
    spec : ScenarioSpec, optional
        Years, seed, cap, threshold, bond and incidents (default :func:`spec_for` of
        ``case``; :data:`DEFAULT_SPEC` for the bundled case).
    case : opwb.data.case.Case, optional
        The bank's case (default :func:`opwb.data.case.bundled_case`): its losses (collected
        at its threshold) and programme; own losses are fitted by the model-choice rule,
        unless the case's ``models`` names a recorded run (``"run:LABEL"``): then the model
        sets frozen in that run are used whatever the data (:func:`frozen_model_sets`), and
        the stored bases are keyed by those sets too.
    losses, programme : optional
        Data given directly instead of a case's (``opwb.load_losses``,
        :class:`opwb.insurance.Programme`); the other comes from ``case``. Never stored.
    progress : callable ``(fraction, text)``, optional
        Progress of the builds.
    cache : bool
        Reuse the bases built earlier in this process for the same case and ``spec``, else
        load them from the on-disk store of :mod:`opwb.scenarios.store` (built and written
        there once per case, keyed by the case's fingerprint, then shared read-only by every
        process, e.g. the app's kernels; bit-identical to building them). Only simulated
        years and fitted models are stored, never a loss record.

    Returns
    -------
    dict
        ``{True: with the incidents, False: without}`` (``{True: ...}`` without incidents).

    Raises
    ------
    opwb.DataError
        From the case's files; ``ValueError`` when an incident is not in the data or the
        programme has no ``spec.bond_policy``, or as :func:`frozen_model_sets` (a frozen
        model set that cannot be had, or was fitted at another threshold).
    """
    from opwb.data.case import bundled_case
    case = bundled_case() if case is None else case
    if spec is None:
        spec = spec_for(case)
    given = losses is not None or programme is not None
    case_key = case.fingerprint()
    if spec.case_key and spec.case_key != case_key:
        raise ValueError("the spec was made from another case (spec_for(case) of the case "
                         "given, or its replace())")
    sides = (True, False) if spec.incidents else (True,)
    case_key, frozen = stored_case_key(case, spec)
    key = (spec.n_years, spec.seed, spec.severity_cap, spec.threshold, spec.bond_policy,
           spec.incident_ids, case_key)
    stored = cache and not given
    if stored and key in _BASES:
        return _BASES[key]
    if losses is None or programme is None:
        c_losses, c_prog, _ = case_inputs(case)
        losses = c_losses if losses is None else losses
        programme = c_prog if programme is None else programme

    def build() -> dict[bool, ScenarioBase]:
        out = {}
        for i, cd in enumerate(sides):
            step = None if progress is None else \
                (lambda f, text, i=i: progress((i + f) / len(sides), text))
            out[cd] = build_scenario_base(
                losses, programme, include_cd=cd, n_years=spec.n_years, seed=spec.seed,
                threshold=spec.threshold, severity_cap=spec.severity_cap,
                incidents=spec.incident_ids, incident_names=incident_label(spec),
                bond_policy=spec.bond_policy, models=None if frozen is None else frozen[cd],
                saved_models=case.paths("models"), progress=step)
        return out

    if not stored:
        return build()
    from opwb.scenarios.store import stored_bases
    _BASES[key] = stored_bases(spec, build, losses, programme, progress=progress,
                               case_key=case_key, models=frozen)
    return _BASES[key]


def frozen_model_sets(case, spec: ScenarioSpec | None = None) -> dict[bool, ModelSet] | None:
    """The model sets frozen in the recorded run that the case's ``models`` names
    (``models = "run:LABEL"``), by base: ``{True: with the reference incidents, False:
    without}`` (``{True: ...}`` when the case has none); None when ``models`` names files.

    They come from the case's run store (:meth:`opwb.data.case.Case.run_store`,
    :func:`opwb.data.runstore.open_store`) and are used whatever the case's data.

    Raises
    ------
    ValueError
        The run store does not exist, the run is not in it (``RunStoreError``, a
        ``ValueError``, listing the runs there), it has no model set for a base the case
        needs, or a frozen set was fitted at another threshold than ``spec.threshold``
        (default: the case's).
    """
    label = case.frozen_models
    if label is None:
        return None
    from opwb.data.runstore import open_store
    from opwb.fitting.modelset import model_set_from_doc
    threshold = float(case.threshold if spec is None else spec.threshold)
    sides = (True, False) if (case.incidents if spec is None else spec.incidents) else (True,)
    where = case.run_store()
    said = f"the case's models = \"run:{label}\" ({case.source or case.root})"
    if "://" not in where and not Path(where).is_file():
        raise ValueError(f"{said}: its run store {where} does not exist (the case's runs "
                         f"setting names where runs are recorded)")
    out = {}
    with open_store(where) as store:
        docs = store.model_sets(label)  # RunStoreError (ValueError) when not recorded
        for side in sides:
            if str(side) not in docs:
                which = "with" if side else "without"
                raise ValueError(f"{said}: run {label!r} of {store.url} has no model set "
                                 f"{which} the reference incidents (base {str(side)!r}); it "
                                 f"has {', '.join(sorted(docs)) or 'none'}")
            models = model_set_from_doc(docs[str(side)], source=f"run {label!r}")
            if not math.isclose(models.threshold, threshold, rel_tol=1e-12):
                raise ValueError(
                    f"{said}: the model set frozen in run {label!r} was fitted at a "
                    f"collection threshold of {models.threshold:,.0f} KRW, the case's is "
                    f"{threshold:,.0f} KRW: a frozen model set is used only at the "
                    f"threshold it was fitted at")
            out[side] = models
    return out


def stored_case_key(case, spec: ScenarioSpec) -> tuple[str, dict[bool, ModelSet] | None]:
    """The key under which a case's bases are stored and its frozen model sets
    (:func:`frozen_model_sets`; None without): the case's fingerprint, plus a digest of the
    frozen sets when it names some — two frozen sets never share stored bases."""
    frozen = frozen_model_sets(case, spec)
    key = case.fingerprint()
    return (key if frozen is None else f"{key}+frozen-{_models_digest(frozen)}"), frozen


def _models_digest(models: Mapping[bool, ModelSet]) -> str:
    from opwb.fitting.modelset import model_set_doc
    text = json.dumps({str(k): model_set_doc(v) for k, v in models.items()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def current_cover(base: ScenarioBase, name: str = "현행 계약"):
    """The bond in force on ``base`` (the programme's policy ``base.bond_policy``) as an
    Alternative — the reference every answer is compared with."""
    from opwb.scenarios.alternatives import Alternative
    bond = base.programme[base.bond_policy]
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
    #: a predictive base's worlds (0: independent years) and the worlds the target needs
    worlds: int = 0
    worlds_needed: int = 0

    def describe_ko(self) -> str:
        if self.met:
            state = "목표 충족"
        elif self.worlds:
            state = (f"목표 미달 — 약 {self.worlds_needed:,}개의 세계가 필요합니다 (오차의 "
                     "대부분이 세계 사이의 차이라 연수를 늘려서는 줄지 않습니다)")
        else:
            state = f"목표 미달 — 약 {self.years_needed:,}년이 필요합니다"
        size = (f"{self.worlds:,}개 세계 · {self.n_years:,}년" if self.worlds
                else f"{self.n_years:,}년")
        return (f"정밀도: 보험 후 VaR의 상대 표준오차 {self.relative_se:.1%} "
                f"(목표 {self.target:.0%}, {size}, {state})")


def precision(metrics: Mapping[str, float], n_years: int, target: float = 0.02,
              key: str = "net_var", *, worlds: int = 0) -> Precision:
    """Whether a result's ``key`` (default net VaR) meets the relative precision
    ``target``; ``years_needed = ceil(n · (rse / target)²)`` rounded up to 10,000 years.

    On a predictive base of ``worlds`` re-estimated worlds (``ScenarioBase.world_years``)
    the error is mostly the spread between the worlds, which more years per world do not
    reduce: ``worlds_needed = ceil(worlds · (rse / target)²)`` is what the target needs
    (the cluster error falls as one over the square root of the worlds)."""
    value, se = float(metrics[key]), float(metrics[f"{key}_se"])
    rse = se / abs(value) if value else math.inf
    met = rse <= target
    grow = (rse / target) ** 2 if math.isfinite(rse) else 0.0   # 0: no finite error to scale
    need = n_years if met else int(math.ceil(n_years * grow / 1e4) * 1e4)
    w_need = int(worlds) if met or not worlds else int(math.ceil(worlds * grow))
    return Precision(int(n_years), rse, float(target), bool(met), need, int(worlds), w_need)
