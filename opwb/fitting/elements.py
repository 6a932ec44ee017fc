"""The four AMA data elements in one cell model: internal losses, scaled external losses,
scenario analysis and business-environment and internal-control factors (BEICF).

Basel II's AMA (paras 669–679) asks for the four elements together; this module builds, for
each cell of a fitted :class:`~opwb.fitting.modelset.ModelSet`, the model that uses the
elements a case has (or any subset of them, to show what each does). For one cell c with
its chosen family, fitted on internal losses above the collection threshold u:

1. **Internal data** (always): the family's left-truncated fit and the annual rate λ_u of
   losses ≥ u, as the model set holds them.
2. **External data** (:mod:`opwb.fitting.external`): the same family refitted by the
   weighted two-threshold likelihood Σ_int log f/S(u) + w Σ_ext≥H log f/S(H) (Frachot &
   Roncalli 2002) on the case's external losses scaled to the bank (Shih et al. 2000), with
   H and w the case's ``external_threshold`` and ``external_weight``. The rate stays λ_u:
   external losses say nothing about how often the bank loses.
3. **Scenario analysis** (:func:`scenario_fit`). Each estimate "a loss ≥ X about once in N
   years" is an expert opinion of the cell's log exceedance rate at X, normal about the
   truth with standard deviation s (the case's ``scenario_sd``): ln(λ_u·S_u(X; θ)) ~
   N(−ln N, s²), S_u the severity's survival above u — Lambrigger, Shevchenko & Wüthrich
   (2007, Section 4)'s normal expert model put on the quantity a workshop states. With a flat
   prior, the severity is the posterior mode over all the family's parameters: the data's
   log-likelihood (internal, and the external losses' when used) less Σ (gap/s)²/2. A
   scenario alone gives exceedance rate 1/N at X; with many losses and a weak scenario the
   mode is the data's MLE. The scenarios' weight is their share of the precision of the
   tail at the largest estimated amount. The rate λ_u is not moved by a scenario (an
   estimate is used once, on the tail).
   The cell's **severity cap** is its worst plausible loss from the scenarios
   (:meth:`opwb.data.scenarios.ScenarioSet.worst_plausible`), else the case's single cap.
4. **BEICF** (:mod:`opwb.data.beicf`): the scorecard's multipliers, clipped to the case's
   bounds: m_f scales the rate, m_s every loss (X' = m_s·X; for a shifted family the excess
   over u), so that the rate of losses ≥ u becomes λ_u·m_f·S(u/m_s)/S(u). The data describe
   the calibration period and the BEICF moves them to today's environment; the workshop's
   estimates describe today's, so the scenarios are met by the model after the BEICF
   (:func:`scenario_fit`'s ``rate`` and ``loss_factor``).

Amounts KRW, rates per year.

Examples
--------
>>> ELEMENTS
('internal', 'external', 'scenarios', 'beicf')
>>> element_variants(("internal", "scenarios"))
{'all': ('internal', 'scenarios'), 'without scenarios': ('internal',)}
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import optimize

from opwb.data.beicf import BEICF_BOUNDS
from opwb.data.schema import collected
from opwb.fitting.families import get_family
from opwb.fitting.frequency import FrequencyFit
from opwb.fitting.result import SeverityFit

__all__ = ["ELEMENTS", "ELEMENT_NAMES_KO", "THIN_CELL", "ElementSettings", "ScenarioCombination",
           "ElementCell", "scenario_fit", "element_cells", "element_variants", "element_steps",
           "scaled_severity", "scaled_frequency", "with_params", "source_table"]

ELEMENTS: tuple[str, ...] = ("internal", "external", "scenarios", "beicf")
"""The four AMA data elements, in Basel's order (para 669)."""

THIN_CELL = 30
"""Fewer internal losses above the threshold than this: a thin cell, whose tail a validator
expects to come from the other elements (named on screens)."""

ELEMENT_NAMES_KO: dict[str, str] = {"internal": "내부 손실", "external": "외부 손실",
                                    "scenarios": "시나리오 분석",
                                    "beicf": "영업환경·내부통제 요인(BEICF)"}
"""Korean names of the elements, for screens."""


@dataclass(frozen=True)
class ElementSettings:
    """The case's settings of the elements (:class:`opwb.data.case.Case` holds them).

    Attributes
    ----------
    external_threshold : float or None
        H (KRW): external losses at or above it enter a severity fit. None: external losses
        cannot enter (a case using them states H).
    external_weight : float
        w in [0, 1]: an external loss's weight beside an internal one.
    scenario_sd : float
        s > 0: each scenario's uncertainty on the log scale of its exceedance rate (an
        estimate uncertain by a factor f about is s = ln f).
    beicf_bounds : (float, float)
        The band the BEICF multipliers are clipped to, lower ≤ 1 ≤ upper.
    severity_cap : float or None
        The case's single cap (KRW), for cells no scenario bounds; None: no cap.
    """

    external_threshold: float | None = None
    external_weight: float = 1.0
    scenario_sd: float = 0.5
    beicf_bounds: tuple[float, float] = BEICF_BOUNDS
    severity_cap: float | None = None

    def __post_init__(self):
        if not 0.0 <= self.external_weight <= 1.0:
            raise ValueError(f"external_weight must be in [0, 1], got {self.external_weight!r}")
        if not (math.isfinite(self.scenario_sd) and self.scenario_sd > 0):
            raise ValueError(f"scenario_sd must be a positive number (log scale), got "
                             f"{self.scenario_sd!r}")


@dataclass(frozen=True)
class ScenarioCombination:
    """A cell's severity combined with its scenario estimates (the posterior mode).

    Attributes
    ----------
    params : dict
        The severity's natural parameters at the posterior mode.
    labels : tuple of str
        Each estimate, "≥ X KRW once in N years (author, date)".
    log_ratio_before, log_ratio_after : tuple of float
        For each estimate, ln(model's rate of losses ≥ X × N) at the data's fit and at the
        mode: 0 where the model meets the estimate exactly, ln 2 where it puts such a loss
        twice as often.
    scenario_weight : float
        The scenarios' share of the precision of φ = ln S_u(X_max), the survival above the
        threshold at the largest estimated amount: 1 − (∇φᵀ J⁻¹ ∇φ)/(∇φᵀ J_d⁻¹ ∇φ), J the
        information of the whole objective at the mode and J_d the data's alone (1 when the
        data alone do not identify φ; LSW's precision share for a normal model).
    converged : bool
    """

    params: dict[str, float]
    labels: tuple[str, ...]
    log_ratio_before: tuple[float, ...]
    log_ratio_after: tuple[float, ...]
    scenario_weight: float
    converged: bool


@dataclass(frozen=True)
class ElementCell:
    """One cell's model built from the elements in ``uses``.

    Attributes
    ----------
    cell : str
    uses : tuple of str
        The elements this model uses (a subset of :data:`ELEMENTS` with ``"internal"``).
    frequency : FrequencyFit
        Annual count of losses ≥ the threshold (the fitted family, its mean moved by the
        BEICF rule).
    severity : SeverityFit
        The severity (KRW) with the external refit, the scenarios' posterior mode and the
        BEICF severity multiplier applied; its ``warnings`` say which.
    severity_cap : float or None
        KRW: the worst plausible loss when the scenarios are used and bound the cell, else
        the case's cap.
    cap_source : str
        ``"scenarios"``, ``"case"`` or ``"none"``.
    weights : dict
        The severity's sources' shares: ``internal``, ``external``, ``scenarios`` (sum 1).
    combination : ScenarioCombination or None
        The scenarios' combination (None when not used or the cell has no estimate).
    multipliers : dict
        BEICF ``{"frequency": m_f, "severity": m_s}`` (1 and 1 when not used).
    n_internal, n_external, n_scenarios : int
        Internal losses ≥ u, external losses ≥ H and exceedance estimates used.
    notes : tuple of str
        Why an element available to the case does not act on this cell, and where the
        elements disagree (scaled external losses above the cell's cap).
    n_external_above_cap : int
        Scaled external losses ≥ H above the cell's cap: other banks' losses, scaled to this
        one, that the worst plausible loss calls impossible (a finding for the workshop).
    """

    cell: str
    uses: tuple[str, ...]
    frequency: FrequencyFit
    severity: SeverityFit
    severity_cap: float | None
    cap_source: str
    weights: dict[str, float]
    combination: ScenarioCombination | None = None
    multipliers: dict[str, float] = field(default_factory=lambda: {"frequency": 1.0,
                                                                   "severity": 1.0})
    n_internal: int = 0
    n_external: int = 0
    n_scenarios: int = 0
    notes: tuple[str, ...] = ()
    n_external_above_cap: int = 0

    @property
    def threshold(self) -> float:
        return self.severity.threshold

    def single_loss_quantile(self, alpha: float = 0.999) -> float:
        """The ``alpha`` quantile of one loss above the threshold, capped (KRW)."""
        q = self.severity.single_loss_quantile(alpha)
        return min(q, self.severity_cap) if self.severity_cap is not None else q


# -- the scaled family and the scenario posterior --------------------------------------------

def _z(fit: SeverityFit, x, c):
    """The point of the fitted severity that ``x`` is under the severity of c·X."""
    if get_family(fit.family).shifted:
        return fit.threshold + (x - fit.threshold) / c
    return x / c


def with_params(fit: SeverityFit, params: Mapping[str, float], why: str) -> SeverityFit:
    """``fit`` with other natural parameters: its tail index and mean's existence follow
    them, ``why`` is added to its warnings, its likelihood figures stay the data fit's."""
    fam = get_family(fit.family)
    p = fam.check_params(params)
    return replace(fit, params=p, tail_index=float(fam.tail_index(p)),
                   finite_mean=bool(fam.finite_mean(p)), warnings=fit.warnings + (why,))


def scaled_severity(fit: SeverityFit, factor: float, why: str) -> SeverityFit:
    """The severity of ``factor``·X (of the excess over the threshold for a shifted family),
    the fit's other figures kept, ``why`` added to its warnings."""
    if factor == 1.0:
        return fit
    return with_params(fit, get_family(fit.family).rescale(fit.params, factor), why)


def scaled_frequency(freq: FrequencyFit, factor: float) -> FrequencyFit:
    """The frequency with its mean multiplied by ``factor`` (a negative binomial keeps its
    size r, as with exposure)."""
    if factor == 1.0:
        return freq
    return replace(freq, params={**freq.params, "mu": freq.params["mu"] * factor})


def _hessian(f, t: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function of a short vector."""
    k = t.size
    out = np.empty((k, k))
    eye = np.eye(k) * h
    f0 = f(t)
    for i in range(k):
        out[i, i] = (f(t + eye[i]) - 2 * f0 + f(t - eye[i])) / h ** 2
        for j in range(i):
            out[i, j] = out[j, i] = (f(t + eye[i] + eye[j]) - f(t + eye[i] - eye[j])
                                     - f(t - eye[i] + eye[j]) + f(t - eye[i] - eye[j])) / (4 * h * h)
    return out


def _quad(g: np.ndarray, m: np.ndarray) -> float:
    """gᵀ m⁻¹ g, inf when ``m`` is not positive definite."""
    try:
        np.linalg.cholesky(m)
        return float(g @ np.linalg.solve(m, g))
    except np.linalg.LinAlgError:
        return math.inf


def scenario_fit(fit: SeverityFit, internal: Sequence[float], estimates, *, rate: float,
                 sd: float, external: Sequence[float] = (),
                 external_threshold: float | None = None,
                 external_weight: float = 0.0, loss_factor: float = 1.0) -> ScenarioCombination:
    """The severity's posterior mode given the cell's data and its scenario estimates.

    Each estimate m, "a loss ≥ X_m about once in N_m years", is an expert opinion of the
    cell's log exceedance rate: ln(λ_u·S_u(X_m; θ)) ~ N(ln(1/N_m), s²) (LSW 2007's normal
    expert model, Section 4, on the quantity the workshop states). With a flat prior the
    posterior mode maximises

        ℓ(θ) − Σ_m [ln λ_u + ln S_u(X_m; θ) + ln N_m]² / (2 s²),

    ℓ the data's left-truncated log-likelihood (internal, plus w × the external losses'
    likelihood above H when they are used), over all the family's parameters, from the
    data's fit. With no data it meets each estimate exactly where the family can (a single
    estimate: exceedance rate 1/N at X); with many losses and a weak estimate it is the
    data's MLE.

    Parameters
    ----------
    fit : SeverityFit
        The cell's fit on its data (the start, and the family).
    internal : array_like
        The cell's internal losses ≥ the threshold (KRW).
    estimates : iterable of ScenarioEstimate
        The cell's exceedance estimates.
    rate : float
        The annual rate of losses ≥ the threshold that the estimates' model has at the data
        fit's scale: λ_u, times the BEICF frequency multiplier m_f when the BEICF is used.
    sd : float
        s: each estimate's standard deviation on the log scale of the rate (ln f for an
        estimate uncertain by a factor f).
    external, external_threshold, external_weight
        The scaled external losses ≥ H and their weight, when the fit used them.
    loss_factor : float
        m_s > 0: the BEICF severity multiplier the model applies to every loss after the
        fit (1: none). The estimates describe that model, the bank's environment now: its
        rate of losses ≥ X is rate·S(X/m_s; θ)/S(u; θ) (the excess over u scaled, for a
        shifted family), so the data are fitted at the calibration period's scale and the
        workshop's estimates are met by the model after the BEICF.

    Returns
    -------
    ScenarioCombination

    Raises
    ------
    ValueError
        ``sd`` not positive, no estimate, an estimate not above the threshold or as frequent
        as all the cell's losses (N·λ_u ≤ 1).
    """
    if not (math.isfinite(sd) and sd > 0):
        raise ValueError(f"sd must be positive (log scale), got {sd!r}")
    ests = list(estimates)
    if not ests:
        raise ValueError("no scenario estimate to combine")
    fam = get_family(fit.family)
    u = fit.threshold
    shift = u if fam.shifted else 0.0
    labels = tuple(f"≥ {e.amount:,.0f} KRW once in {e.return_period:g} years "
                   f"({e.author}, {e.date})" for e in ests)
    for e, lab in zip(ests, labels):
        if not e.amount > u:
            raise ValueError(f"scenario {lab}: its amount must lie above the collection "
                             f"threshold {u:,.0f} KRW")
        if not rate * e.return_period > 1:
            raise ValueError(f"scenario {lab}: a loss ≥ X once in N years is at least as "
                             f"frequent as all the cell's losses ({rate:.3g} a year above "
                             "the threshold); expected N·rate > 1")
    x = np.asarray(internal, dtype=float) - shift
    e_x = np.asarray(external, dtype=float) - shift
    w = float(external_weight) if e_x.size else 0.0
    H = (float(external_threshold) - shift) if e_x.size else 0.0
    if not (math.isfinite(loss_factor) and loss_factor > 0):
        raise ValueError(f"loss_factor must be a positive number, got {loss_factor!r}")
    amounts = (np.array([e.amount for e in ests]) - shift) / loss_factor
    target = np.array([-math.log(rate * e.return_period) for e in ests])
    u0 = u - shift

    def logsf(z, args):
        return fam.raw_logsf(z, *args)

    def data_ll(theta):
        args = fam.to_natural(theta)
        with np.errstate(all="ignore"):
            ll = float(np.sum(fam.raw_logpdf(x, *args)))
            if u0 > 0:
                ll -= x.size * float(logsf(u0, args))
            if w:
                ll += w * (float(np.sum(fam.raw_logpdf(e_x, *args)))
                           - e_x.size * float(logsf(H, args)))
        return ll if math.isfinite(ll) else -1e300

    def phi(theta, which=None):
        args = fam.to_natural(theta)
        with np.errstate(all="ignore"):
            s = logsf(amounts if which is None else amounts[which], args)
            if u0 > 0:
                s = s - logsf(u0, args)
        return s

    def penalty(theta):
        g = phi(theta) - target
        v = float(np.sum(g * g)) / (2 * sd * sd)
        return v if math.isfinite(v) else 1e300

    def objective(theta):
        return -data_ll(theta) + penalty(theta)

    start = fam.to_theta(fit.params)
    before = tuple(float(v) for v in phi(start) - target)
    res = optimize.minimize(objective, start, method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 40_000,
                                     "maxfev": 40_000})
    theta = res.x
    after = tuple(float(v) for v in phi(theta) - target)
    big = int(np.argmax(amounts))
    grad = np.array([(float(phi(theta + d, big)) - float(phi(theta - d, big))) / 2e-4
                     for d in np.eye(theta.size) * 1e-4])
    j_all = _hessian(objective, theta)
    j_data = _hessian(lambda t: -data_ll(t), theta) if (x.size or w) else np.zeros_like(j_all)
    v_all, v_data = _quad(grad, j_all), _quad(grad, j_data)
    weight = 1.0 if not math.isfinite(v_data) else (
        min(max(1.0 - v_all / v_data, 0.0), 1.0) if math.isfinite(v_all) else 0.0)
    params = dict(zip(fam.param_names, (float(p) for p in fam.to_natural(theta))))
    return ScenarioCombination(params, labels, before, after, weight, bool(res.success))


# -- a cell and a case ------------------------------------------------------------------------

def _cell_losses(losses: pd.DataFrame, cell: str, threshold: float) -> np.ndarray:
    et, _, bl = cell.partition("|")
    mask = (losses["event_type"] == et) & collected(losses["gross_loss"], threshold)
    if bl:
        mask &= losses["business_line"] == bl
    return losses.loc[mask, "gross_loss"].to_numpy(dtype=float)


def element_cells(models, losses: pd.DataFrame, *, uses: Iterable[str] = ELEMENTS,
                  settings: ElementSettings = ElementSettings(), external=None,
                  scenarios=None, scorecard=None) -> dict[str, ElementCell]:
    """Each cell's model from the elements in ``uses`` (see the module docstring).

    Parameters
    ----------
    models : ModelSet or mapping cell -> CellFit
        The chosen internal-data models (family, severity and frequency fits).
    losses : pandas.DataFrame
        The loss events the models were fitted on (canonical columns, KRW).
    uses : iterable of str
        Elements to use; ``"internal"`` is always used (no cell has a severity without it).
        An element the case lacks (``external``, ``scenarios`` or ``scorecard`` None) is an
        error, not silently left out.
    settings : ElementSettings
    external : pandas.DataFrame, optional
        The external losses scaled to the bank (:meth:`opwb.data.case.Case.scaled_external`).
    scenarios : opwb.data.scenarios.ScenarioSet, optional
    scorecard : opwb.data.beicf.ScoreCard, optional

    Returns
    -------
    dict of cell -> ElementCell

    Raises
    ------
    ValueError
        An unknown element, an element asked for whose input is missing, external losses
        without ``settings.external_threshold``, a scenario that cannot hold
        (:func:`scenario_fit`).
    """
    from opwb.data.beicf import scorecard_factors
    from opwb.fitting.external import external_sample, fit_severity_mixed

    uses = tuple(dict.fromkeys(("internal", *uses)))
    unknown = set(uses) - set(ELEMENTS)
    if unknown:
        raise ValueError(f"unknown element(s) {sorted(unknown)}: expected some of {ELEMENTS}")
    have = {"external": external, "scenarios": scenarios, "beicf": scorecard}
    missing = [k for k, v in have.items() if k in uses and v is None]
    if missing:
        raise ValueError(f"the case has no {', '.join(missing)}: it cannot be used")
    if "external" in uses and settings.external_threshold is None:
        raise ValueError("external losses enter a severity fit above a stated level H: the "
                         "case must state external_threshold")
    factors = (scorecard_factors(scorecard, lower=settings.beicf_bounds[0],
                                 upper=settings.beicf_bounds[1])
               if "beicf" in uses else {})
    out = {}
    for cell, m in models.items():
        sev, freq = m.severity, m.frequency
        u = sev.threshold
        x = _cell_losses(losses, cell, u)
        notes: list[str] = []
        ext = np.empty(0)
        ext_share = 0.0
        if "external" in uses:
            ext = external_sample(external, cell.split("|")[0], settings.external_threshold)
            if get_family(sev.family).name == "gandh":
                notes.append("external losses not used: the mixed fit does not take the "
                             "g-and-h family")
                ext = np.empty(0)
            elif ext.size == 0:
                notes.append(f"no external loss of {cell.split('|')[0]} at or above H = "
                             f"{settings.external_threshold:,.0f} KRW")
            else:
                mixed = fit_severity_mixed(x, ext, sev.family, u,
                                           external_threshold=settings.external_threshold,
                                           weight=settings.external_weight)
                if mixed.fit.status in ("ok", "edge"):
                    sev, ext_share = mixed.fit, mixed.external_share
                else:
                    notes.append(f"external losses not used: the mixed fit is "
                                 f"{mixed.fit.status}")
                    ext = np.empty(0)
        mult = dict(factors.get(cell, {"frequency": 1.0, "severity": 1.0}))
        if "beicf" in uses and cell not in factors:
            notes.append("no BEICF factor for this cell")
        m_f, m_s = mult["frequency"], mult["severity"]
        comb = None
        cap, cap_source = settings.severity_cap, "case" if settings.severity_cap else "none"
        n_scen = 0
        if "scenarios" in uses:
            estimates = scenarios.for_cell(cell, "exceedance", within=True)
            n_scen = len(estimates)
            if estimates:
                comb = scenario_fit(sev, x, estimates, rate=freq.mean * m_f,
                                    sd=settings.scenario_sd, external=ext,
                                    external_threshold=settings.external_threshold,
                                    external_weight=settings.external_weight,
                                    loss_factor=m_s)
                if not comb.converged:
                    notes.append("the search for the posterior mode with the scenarios did "
                                 "not converge: its result is the best point found")
                sev = with_params(sev, comb.params, (
                    f"The posterior mode given {n_scen} scenario estimate(s) (their weight "
                    f"{comb.scenario_weight:.2f}); the fit's likelihood figures are the "
                    "data's."))
            else:
                notes.append("no scenario estimate for this cell")
            worst = scenarios.worst_plausible(cell)
            if worst is not None:
                cap, cap_source = worst, "scenarios"
        above_cap = int(np.sum(ext > cap)) if cap is not None else 0
        if above_cap:
            notes.append(f"{above_cap} scaled external loss(es) above the cap {cap:,.0f} KRW: "
                         "the worst plausible loss is below losses other banks have had at "
                         "this bank's size")
        rate_factor = m_f
        if m_s != 1.0:
            # losses ≥ u under m_s·X: λ_u·S(u/m_s)/S(u) (1 for a shifted family's excess)
            with np.errstate(all="ignore"):
                rate_factor *= float(np.exp(sev.logsf(_z(sev, u, m_s)) - sev.logsf(u)))
            sev = scaled_severity(sev, m_s, f"Every loss scaled by the BEICF multiplier "
                                            f"{m_s:.4g}.")
        freq = scaled_frequency(freq, rate_factor)
        s_w = comb.scenario_weight if comb is not None else 0.0
        weights = {"internal": (1 - s_w) * (1 - ext_share), "external": (1 - s_w) * ext_share,
                   "scenarios": s_w}
        out[cell] = ElementCell(cell, uses, freq, sev, cap, cap_source, weights, comb, mult,
                                int(x.size), int(ext.size), n_scen, tuple(notes), above_cap)
    return out


def element_variants(available: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The element sets to compare: all the case has, then each but internal left out.

    ``available`` lists the elements the case has (``"internal"`` always among them);
    internal data cannot be left out (no cell has a severity without its own losses).
    """
    avail = tuple(e for e in ELEMENTS if e in set(available) | {"internal"})
    out = {"all": avail}
    for e in avail:
        if e != "internal":
            out[f"without {e}"] = tuple(x for x in avail if x != e)
    return out


def element_steps(available: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Internal data with each other element alone, then all: what each element does by
    itself (notebook 02's view; :func:`element_variants` leaves each out instead)."""
    avail = tuple(e for e in ELEMENTS if e in set(available) | {"internal"})
    out = {f"with {e}": ("internal", e) for e in avail if e != "internal"}
    out["all"] = avail
    return out


def source_table(cells: Mapping[str, ElementCell]) -> pd.DataFrame:
    """One row per cell: the severity's source weights, counts, scenario factor, BEICF
    multipliers, the cap and its source, and the notes."""
    rows = []
    for cell, c in cells.items():
        rows.append({"cell": cell, "family": c.severity.family, "n_internal": c.n_internal,
                     "n_external": c.n_external, "n_scenarios": c.n_scenarios,
                     "weight_internal": c.weights["internal"],
                     "weight_external": c.weights["external"],
                     "weight_scenarios": c.weights["scenarios"],
                     "scenario_gap_before": (max(c.combination.log_ratio_before, key=abs)
                                             if c.combination is not None else math.nan),
                     "scenario_gap_after": (max(c.combination.log_ratio_after, key=abs)
                                            if c.combination is not None else math.nan),
                     "beicf_frequency": c.multipliers["frequency"],
                     "beicf_severity": c.multipliers["severity"],
                     "severity_cap": c.severity_cap, "cap_source": c.cap_source,
                     "n_external_above_cap": c.n_external_above_cap,
                     "notes": "; ".join(c.notes)})
    return pd.DataFrame(rows)
