"""Internal data, external data and expert opinion combined by Bayesian inference.

The method is Lambrigger, Shevchenko & Wüthrich (2007), "The quantification of operational
risk using internal data, relevant external data and expert opinions", *J. Operational Risk*
2(3), 3–27 (arXiv:0904.1361), "LSW" below, building on Shevchenko & Wüthrich (2006), "The
structural modelling of operational risk via Bayesian inference: combining loss data with
expert opinions", *J. Operational Risk* 1(3), 3–26, "SW" below. For one cell:

**Frequency** (LSW Section 3, the Poisson–gamma–gamma model). The cell's annual rate Λ of
losses at or above the collection threshold (losses per year):

* external data (industry, similar banks): the prior Λ ~ Γ(α₀, β₀) (shape α₀, scale β₀):
  :class:`GammaPrior`; SW's way of eliciting it from a mean and an interval,
  :meth:`GammaPrior.from_interval`;
* internal data: the annual counts N_k ~ Poisson(Λ·e_k), e_k the exposure of year k;
* expert opinion: an estimate ϑ_m of Λ with ϑ_m | Λ ~ Γ(ξ_m, Λ/ξ_m), so that E[ϑ_m | Λ] = Λ
  and the expert's coefficient of variation is 1/√ξ_m (:class:`ExpertRate`).

The posterior density is ∝ λ^(p−1) exp(−(aλ + b/λ)/2) with p = α₀ + ΣN_k − Σξ_m,
a = 2(1/β₀ + Σe_k), b = 2 Σ ξ_m ϑ_m: a generalised inverse Gaussian (GIG; LSW's posterior
of the three-source model), scipy's ``geninvgauss(p, √(ab), scale=√(b/a))``. Without an
expert it is the conjugate gamma posterior Γ(α₀ + ΣN_k, β₀/(1 + β₀Σe_k)), whose mean has the
credibility form w·N̄ + (1 − w)·α₀β₀ with w = Σe_k / (Σe_k + 1/β₀) (LSW Section 3; Bühlmann
credibility). Without external data the prior is flat (π(λ) ∝ 1: α₀ = 1, 1/β₀ = 0).

**Severity** (LSW Section 4, the lognormal–normal–normal model). Losses are
lognormal(Δ, σ) with σ known; the location Δ (log KRW):

* external data: Δ ~ N(μ₀, σ₀²) (:class:`NormalPrior`);
* internal data: the log losses, ln X_k | Δ ~ N(Δ, σ²);
* expert opinion: ϑ_m | Δ ~ N(Δ, σ_ϑm²) (:class:`ExpertMu`).

The posterior is normal with precision 1/σ₀² + Σ1/σ_ϑm² + K/σ² and mean the credibility
average ω₁μ₀ + Σω₂ₘϑ_m + ω₃·(1/K)Σ ln X_k, each weight its source's share of the precision
(LSW Section 4). opwb's losses are collected above a threshold H: with ``threshold`` > 0 the
internal data enter by the left-truncated likelihood (as every opwb fit), the posterior is
computed on a grid, and the internal weight is the data's observed information at the
posterior mean (the same weights as LSW's when H = 0).

**Scenarios** (issue 23 item 2). "A loss of at least X about once in N years" says that the
cell's annual rate of losses ≥ X is 1/N: λ·S_H(X) = 1/N, S_H(x) = S(x)/S(H) the severity's
survival above the threshold. Given the severity it is an expert estimate of the rate,
ϑ = 1/(N·S_H(X)) (:func:`scenario_rate`, :meth:`ExpertRate.from_scenario`); given the rate,
one of the severity's location, the Δ at which S_H(X) = 1/(Nλ) (:func:`scenario_mu`,
:meth:`ExpertMu.from_scenario`). :func:`expert_opinions` turns a cell's estimates of a
:class:`opwb.data.scenarios.ScenarioSet` into either.

Section numbers refer to the arXiv version of LSW; the equation numbers of the papers are
not cited because only their first pages could be checked when this was written.

Every result shows the weight of each source (:class:`SourceWeights`: external, expert,
internal, summing to 1). Amounts are KRW, rates per year, return periods in years.

Examples
--------
>>> prior = GammaPrior.from_interval(0.5, 0.25, 0.75, 2 / 3)   # SW's elicitation
>>> round(prior.shape, 3), round(prior.scale, 3)
(3.407, 0.147)
>>> post = combine_frequency([0, 1, 0, 2, 1], prior=prior)
>>> round(post.mean, 4), round(post.weights.internal, 4)
(0.627, 0.4232)
"""
from __future__ import annotations

from dataclasses import dataclass

from opwb.fitting.combination_frequency import (
    ExpertRate,
    FrequencyPosterior,
    GammaPrior,
    SourceWeights,
    combine_frequency,
    scenario_rate,
)
from opwb.fitting.combination_severity import (
    ExpertMu,
    NormalPrior,
    SeverityPosterior,
    combine_severity,
    exceedance_rate,
    scenario_mu,
)

__all__ = ["SourceWeights", "GammaPrior", "ExpertRate", "FrequencyPosterior",
           "combine_frequency", "NormalPrior", "ExpertMu", "SeverityPosterior",
           "combine_severity", "scenario_rate", "scenario_mu", "exceedance_rate",
           "expert_opinions", "CombinedCell"]


def expert_opinions(scenarios, cell: str, *, rate: float | None = None,
                    sigma: float | None = None, severity=None, threshold: float = 0.0,
                    sd: float | None = None, xi: float | None = None):
    """A cell's exceedance estimates as expert opinions of the severity or the frequency.

    Parameters
    ----------
    scenarios : opwb.data.scenarios.ScenarioSet or iterable of ScenarioEstimate
    cell : str
        E.g. ``"IF"``: the estimates stated for exactly this cell.
    rate, sigma, sd
        For the severity: the cell's annual rate above the threshold, the lognormal σ and
        each expert's uncertainty on the log scale → ``ExpertMu`` (:func:`scenario_mu`).
    severity, xi
        For the frequency: the cell's severity (frozen scipy, KRW) and each expert's ξ →
        ``ExpertRate`` (:func:`scenario_rate`).
    threshold : float
        Collection threshold, KRW.

    Returns
    -------
    tuple of ExpertMu or ExpertRate
        One per exceedance estimate, labelled "author, date (where)"; ``worst`` estimates
        are not opinions of the fit but the cell's cap
        (:meth:`opwb.data.scenarios.ScenarioSet.worst_plausible`).

    Raises
    ------
    ValueError
        Neither or both of (rate, sigma, sd) and (severity, xi) given; an estimate that
        cannot hold (:func:`scenario_mu`).
    """
    want_mu = None not in (rate, sigma, sd)
    want_rate = None not in (severity, xi)
    if want_mu == want_rate:
        raise ValueError("give rate, sigma and sd (severity opinions) or severity and xi "
                         "(frequency opinions)")
    out = []
    for est in scenarios:
        if est.cell != cell or est.kind != "exceedance":
            continue
        label = f"{est.author}, {est.date} ({est.where})" if est.where else \
            f"{est.author}, {est.date}"
        if want_mu:
            out.append(ExpertMu.from_scenario(est.amount, est.return_period, rate=rate,
                                              sigma=sigma, threshold=threshold, sd=sd,
                                              label=label))
        else:
            out.append(ExpertRate.from_scenario(est.amount, est.return_period,
                                                severity=severity, threshold=threshold,
                                                xi=xi, label=label))
    return tuple(out)


@dataclass(frozen=True)
class CombinedCell:
    """A cell's combined model: the posterior-mean rate and lognormal severity.

    ``frequency`` is a :class:`FrequencyPosterior` or a fixed rate (losses ≥ threshold a
    year); ``severity`` a :class:`SeverityPosterior` (its ``threshold`` is the cell's).
    """

    cell: str
    frequency: FrequencyPosterior | float
    severity: SeverityPosterior

    @property
    def rate(self) -> float:
        f = self.frequency
        return float(f.mean) if isinstance(f, FrequencyPosterior) else float(f)

    def exceedance_rate(self, x: float) -> float:
        """Annual rate of single losses ≥ ``x`` KRW (:func:`exceedance_rate`)."""
        return exceedance_rate(x, rate=self.rate, mu=self.severity.mean,
                               sigma=self.severity.sigma, threshold=self.severity.threshold)

    def return_period(self, x: float) -> float:
        """Years between single losses ≥ ``x`` KRW, about."""
        return 1.0 / self.exceedance_rate(x)

    def weights(self) -> dict[str, SourceWeights | None]:
        """Each source's weight in the frequency (None when the rate was fixed) and in the
        severity."""
        f = self.frequency
        return {"frequency": f.weights if isinstance(f, FrequencyPosterior) else None,
                "severity": self.severity.weights}
