"""The severity half of :mod:`opwb.fitting.combination`: the lognormal location Δ (log
KRW, σ known) from external data (a normal prior), internal losses — left-truncated at the
collection threshold when there is one — and experts (LSW Section 4's lognormal–normal–normal
model and its credibility weights), the Δ a scenario implies, and a cell's exceedance rate.
See that module for the model and the sources; amounts KRW, rates per year.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from opwb.fitting.combination_frequency import (
    SourceWeights,
    _check_scenario,
    _positive,
    _weights,
)

__all__ = ["NormalPrior", "ExpertMu", "SeverityPosterior", "combine_severity", "scenario_mu",
           "exceedance_rate"]


# -- severity -------------------------------------------------------------------------------

@dataclass(frozen=True)
class NormalPrior:
    """The external data's prior of the lognormal location: Δ ~ N(mean, sd²), log KRW."""

    mean: float
    sd: float

    def __post_init__(self):
        if not math.isfinite(self.mean):
            raise ValueError(f"mean must be finite, got {self.mean!r}")
        _positive("sd", self.sd)

    @classmethod
    def from_interval(cls, low: float, high: float, prob: float) -> "NormalPrior":
        """The normal prior centred on [low, high] with probability ``prob`` on it (SW's
        elicitation, the severity's counterpart of :meth:`GammaPrior.from_interval`)."""
        if not (low < high and 0 < prob < 1):
            raise ValueError(f"expected low < high and 0 < prob < 1, got {low!r}, {high!r}, "
                             f"{prob!r}")
        return cls((low + high) / 2, (high - low) / 2 / stats.norm.ppf((1 + prob) / 2))


@dataclass(frozen=True)
class ExpertMu:
    """An expert's estimate ϑ of the lognormal location Δ (log KRW), ϑ | Δ ~ N(Δ, sd²)
    (LSW Section 4). ``sd`` is the expert's uncertainty on the log scale: a stated amount
    uncertain by a factor f about is ``sd = ln f``."""

    value: float
    sd: float
    label: str = ""

    def __post_init__(self):
        if not math.isfinite(self.value):
            raise ValueError(f"value must be finite, got {self.value!r}")
        _positive("sd", self.sd)

    @classmethod
    def from_scenario(cls, amount: float, return_period: float, *, rate: float, sigma: float,
                      threshold: float = 0.0, sd: float, label: str = "") -> "ExpertMu":
        """The location implied by "a loss ≥ ``amount`` about once in ``return_period``
        years" given the cell's ``rate`` (:func:`scenario_mu`)."""
        return cls(scenario_mu(amount, return_period, rate=rate, sigma=sigma,
                               threshold=threshold), sd, label)


@dataclass(frozen=True)
class SeverityPosterior:
    """The posterior of the lognormal location Δ (log KRW), σ known.

    ``dist`` is a frozen ``scipy.stats.norm`` (no threshold: LSW's conjugate case) or an
    ``rv_histogram`` of the grid posterior (left-truncated data). ``weights``: each source's
    share of the precision at the posterior mean (LSW Section 4's credibility weights;
    the internal data's observed information when truncated). ``credibility_mean``:
    Σ weight × the source's own estimate (μ₀, ϑ_m, the data's MLE) — equal to ``mean``
    without a threshold. ``mle`` is the internal data's own estimate (NaN without data).
    """

    sigma: float
    threshold: float
    prior: NormalPrior | None
    experts: tuple[ExpertMu, ...]
    n_losses: int
    mle: float
    dist: object = field(repr=False)
    weights: SourceWeights = field(default=None)
    credibility_mean: float = math.nan

    @property
    def mean(self) -> float:
        return float(self.dist.mean())

    @property
    def sd(self) -> float:
        return float(self.dist.std())

    def severity(self):
        """The lognormal at the posterior mean of Δ: ``scipy.stats.lognorm(σ, scale=e^Δ̂)``
        (amounts KRW; untruncated — condition on the threshold with its ``sf``)."""
        return stats.lognorm(self.sigma, scale=math.exp(self.mean))


def _truncated_loglik(logs: np.ndarray, sigma: float, log_h: float):
    """Δ ↦ Σ ln φ((ln x − Δ)/σ)/σ − K ln S(H; Δ): the left-truncated log-likelihood."""
    k = logs.size

    def loglik(mu):
        z = (logs - mu) / sigma
        return float(-0.5 * np.sum(z * z) - k * stats.norm.logsf((log_h - mu) / sigma))
    return loglik


def combine_severity(losses: Sequence[float] = (), *, sigma: float,
                     prior: NormalPrior | None = None, experts: Iterable[ExpertMu] = (),
                     threshold: float = 0.0) -> SeverityPosterior:
    """The posterior of a cell's lognormal location from losses, a prior and experts.

    Parameters
    ----------
    losses : sequence of float
        Internal losses, KRW (all at or above ``threshold``).
    sigma : float
        The lognormal's σ (log scale), taken as known (LSW Section 4).
    prior : NormalPrior, optional
        From external data; ``None``: flat.
    experts : iterable of ExpertMu
        Expert estimates (e.g. from scenarios, :func:`expert_opinions`).
    threshold : float
        Collection threshold H, KRW: with H > 0 the losses enter by the left-truncated
        likelihood (posterior on a grid); 0: LSW's conjugate normal posterior.

    Returns
    -------
    SeverityPosterior

    Raises
    ------
    ValueError
        Losses not positive, or below the threshold; no source at all.

    Examples
    --------
    >>> post = combine_severity([math.e ** 2] * 4, sigma=2.0, prior=NormalPrior(0.0, 1.0),
    ...                         experts=[ExpertMu(4.0, 2.0)])
    >>> print(post.weights)            # precisions 1, 1/4 and 4/4
    external 0.444, expert 0.111, internal 0.444
    >>> round(post.mean, 4)            # (0·1 + 4·0.25 + 2·1) / 2.25
    1.3333
    """
    sigma = _positive("sigma", sigma)
    x = np.asarray(losses, dtype=float).ravel()
    if x.size and not (np.all(np.isfinite(x)) and np.all(x > 0)):
        raise ValueError("losses must be positive finite amounts in KRW")
    if threshold < 0 or not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite amount ≥ 0 KRW, got {threshold!r}")
    if threshold > 0 and x.size and x.min() < threshold:
        raise ValueError(f"a loss of {x.min():,.0f} KRW is below the threshold "
                         f"{threshold:,.0f} KRW")
    experts = tuple(experts)
    if prior is None and not experts and not x.size:
        raise ValueError("no source: give losses, a prior or an expert estimate")
    logs = np.log(x)
    prec_prior = 0.0 if prior is None else 1.0 / prior.sd**2
    prec_exp = [1.0 / m.sd**2 for m in experts]
    if threshold == 0:
        mle = float(logs.mean()) if x.size else math.nan
        prec_data = x.size / sigma**2
        total = prec_prior + sum(prec_exp) + prec_data
        mean = ((prec_prior * prior.mean if prior else 0.0)
                + sum(p * m.value for p, m in zip(prec_exp, experts))
                + float(logs.sum()) / sigma**2) / total
        dist = stats.norm(mean, 1.0 / math.sqrt(total))
    else:
        mle, prec_data, dist = _grid_posterior(logs, sigma, math.log(threshold), prior,
                                               experts)
    weights = _weights(prec_prior, prec_exp, prec_data)
    own = [(weights.external, prior.mean if prior else 0.0),
           *zip(weights.per_expert, (m.value for m in experts)),
           (weights.internal, mle if x.size else 0.0)]
    return SeverityPosterior(sigma, float(threshold), prior, experts, int(x.size), mle, dist,
                             weights, float(sum(w * v for w, v in own)))


def _grid_posterior(logs, sigma, log_h, prior, experts):
    """(MLE, observed information at the posterior mean, rv_histogram posterior) of Δ with
    left-truncated data."""
    loglik = _truncated_loglik(logs, sigma, log_h) if logs.size else (lambda mu: 0.0)

    def logpost(mu):
        out = loglik(mu)
        if prior is not None:
            out -= 0.5 * ((mu - prior.mean) / prior.sd) ** 2
        return out - sum(0.5 * ((mu - m.value) / m.sd) ** 2 for m in experts)

    centres = [*(logs.tolist() if logs.size else []), *(m.value for m in experts)]
    if prior is not None:
        centres.append(prior.mean)
    lo, hi = min(centres) - 20 * sigma, max(centres) + 5 * sigma
    mode = optimize.minimize_scalar(lambda m: -logpost(m), bounds=(lo, hi),
                                    method="bounded", options={"xatol": 1e-10}).x
    curv = -_second_derivative(logpost, mode)
    half = 12.0 / math.sqrt(max(curv, 1e-12))
    edges = np.linspace(mode - half, mode + half, 8001)
    mids = 0.5 * (edges[1:] + edges[:-1])
    logd = np.array([logpost(m) for m in mids])
    dens = np.exp(logd - logd.max())
    dist = stats.rv_histogram((dens, edges), density=False)
    mle = math.nan
    info = 0.0
    if logs.size:
        mle = optimize.minimize_scalar(lambda m: -loglik(m), bounds=(lo, hi),
                                       method="bounded", options={"xatol": 1e-10}).x
        info = -_second_derivative(loglik, float(dist.mean()))
    return float(mle), float(info), dist


def _second_derivative(f, x, h=1e-4):
    return (f(x + h) - 2 * f(x) + f(x - h)) / h**2


def scenario_mu(amount: float, return_period: float, *, rate: float, sigma: float,
                threshold: float = 0.0) -> float:
    """The lognormal location Δ (log KRW) at which "a loss ≥ ``amount`` about once in
    ``return_period`` years" holds for a cell with ``rate`` losses ≥ ``threshold`` a year:
    rate·S_H(X; Δ, σ) = 1/N.

    Without a threshold Δ = ln X − σ Φ⁻¹(1 − 1/(Nλ)); with one, the root in Δ (S_H(X) rises
    from 0 to 1 with Δ).

    Raises
    ------
    ValueError
        N·rate ≤ 1: the scenario's losses ≥ X would be at least as frequent as all the
        cell's losses above the threshold, which no severity allows; N < 1; X not above H.

    Examples
    --------
    >>> mu = scenario_mu(3e10, 10, rate=4.0, sigma=2.0, threshold=1e7)
    >>> exceedance_rate(3e10, rate=4.0, mu=mu, sigma=2.0, threshold=1e7) * 10
    1.0000000000...
    """
    _check_scenario(amount, return_period, threshold)
    rate, sigma = _positive("rate", rate), _positive("sigma", sigma)
    q = 1.0 / (return_period * rate)
    if not q < 1:
        raise ValueError(f"a loss ≥ {amount:,.0f} KRW once in {return_period:g} years is at "
                         f"least as frequent as all the cell's losses ({rate:g} a year); "
                         "expected N·rate > 1")
    log_x = math.log(amount)
    if threshold == 0:
        return log_x - sigma * float(stats.norm.isf(q))
    log_h = math.log(threshold)

    def gap(mu):
        return (stats.norm.logsf((log_x - mu) / sigma)
                - stats.norm.logsf((log_h - mu) / sigma) - math.log(q))
    lo, hi = log_h - 10 * sigma, log_x + 10 * sigma
    while gap(lo) > 0:
        lo -= 10 * sigma
    while gap(hi) < 0:
        hi += 10 * sigma
    return float(optimize.brentq(gap, lo, hi, xtol=1e-13, rtol=1e-15))


def exceedance_rate(x: float, *, rate: float, mu: float, sigma: float,
                    threshold: float = 0.0) -> float:
    """Annual rate of losses ≥ ``x`` (KRW) of a cell with ``rate`` losses ≥ ``threshold`` a
    year and lognormal(μ, σ) severity: rate·S(x)/S(H). Its inverse is the return period."""
    log_sf = stats.norm.logsf((math.log(x) - mu) / sigma)
    if threshold > 0:
        log_sf -= stats.norm.logsf((math.log(threshold) - mu) / sigma)
    return float(rate * math.exp(log_sf))
