"""The frequency half of :mod:`opwb.fitting.combination`: a cell's annual rate from
external data (a gamma prior), internal counts and experts (LSW Section 3's
Poisson–gamma–gamma model and its GIG posterior; the conjugate Poisson–gamma credibility
estimator without an expert), and the rate a scenario implies. See that module for the
model and the sources; rates are per year, amounts KRW.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate, optimize, special, stats

__all__ = ["SourceWeights", "GammaPrior", "ExpertRate", "FrequencyPosterior",
           "combine_frequency", "scenario_rate"]


@dataclass(frozen=True)
class SourceWeights:
    """The weight of each source in a posterior mean (shares summing to 1).

    ``per_expert`` splits ``expert`` among the experts, in their order.
    """

    external: float
    expert: float
    internal: float
    per_expert: tuple[float, ...] = ()

    def as_dict(self) -> dict[str, float]:
        return {"external": self.external, "expert": self.expert, "internal": self.internal}

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.3f}" for k, v in self.as_dict().items())


def _weights(external: float, experts: Sequence[float], internal: float) -> SourceWeights:
    total = external + sum(experts) + internal
    return SourceWeights(external / total, sum(experts) / total, internal / total,
                         tuple(e / total for e in experts))


def _positive(name: str, value: float) -> float:
    x = float(value)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return x


# -- frequency ----------------------------------------------------------------------------

@dataclass(frozen=True)
class GammaPrior:
    """The external data's prior of a cell's annual rate: Λ ~ Γ(shape α₀, scale β₀).

    Mean α₀β₀ (losses per year), coefficient of variation 1/√α₀. In credibility terms it
    is worth 1/β₀ years of data with α₀ losses.
    """

    shape: float
    scale: float

    def __post_init__(self):
        _positive("shape", self.shape)
        _positive("scale", self.scale)

    @property
    def mean(self) -> float:
        return self.shape * self.scale

    @property
    def dist(self):
        """The prior as a frozen ``scipy.stats.gamma``."""
        return stats.gamma(self.shape, scale=self.scale)

    @classmethod
    def from_mean_cv(cls, mean: float, cv: float) -> "GammaPrior":
        """The prior with the given mean (losses per year) and coefficient of variation."""
        mean, cv = _positive("mean", mean), _positive("cv", cv)
        return cls(1.0 / cv**2, mean * cv**2)

    @classmethod
    def from_interval(cls, mean: float, low: float, high: float,
                      prob: float) -> "GammaPrior":
        """The prior with mean ``mean`` that puts probability ``prob`` on [low, high].

        SW's elicitation of a gamma prior from an expert's (or the industry's) "about
        ``mean`` a year, between ``low`` and ``high`` with probability ``prob``"; their
        example E[λ] = 0.5, Pr[0.25 ≤ λ ≤ 0.75] = 2/3 gives α ≈ 3.407, β ≈ 0.147.

        Raises
        ------
        ValueError
            ``low < mean < high`` not holding, ``prob`` outside (0, 1), or no gamma
            distribution with that mean giving that probability.
        """
        mean = _positive("mean", mean)
        if not (0 <= low < mean < high and 0 < prob < 1):
            raise ValueError(f"expected 0 ≤ low < mean < high and 0 < prob < 1, got "
                             f"low={low!r}, mean={mean!r}, high={high!r}, prob={prob!r}")

        def gap(log_shape):
            a = math.exp(log_shape)
            d = stats.gamma(a, scale=mean / a)
            return d.cdf(high) - d.cdf(low) - prob
        lo, hi = math.log(1e-3), math.log(1e7)
        if gap(lo) * gap(hi) > 0:
            raise ValueError(f"no gamma prior with mean {mean} puts probability {prob} on "
                             f"[{low}, {high}]")
        a = math.exp(optimize.brentq(gap, lo, hi, xtol=1e-14))
        return cls(a, mean / a)


@dataclass(frozen=True)
class ExpertRate:
    """An expert's estimate ϑ of a cell's annual rate (losses per year at or above the
    threshold), with ϑ | Λ ~ Γ(ξ, Λ/ξ): unbiased, coefficient of variation 1/√ξ (LSW
    Section 3). A larger ξ is a surer expert; as ξ → ∞ the posterior goes to ϑ."""

    value: float
    xi: float
    label: str = ""

    def __post_init__(self):
        _positive("value (ϑ, losses per year)", self.value)
        _positive("xi (ξ)", self.xi)

    @property
    def cv(self) -> float:
        return 1.0 / math.sqrt(self.xi)

    @classmethod
    def from_scenario(cls, amount: float, return_period: float, *, severity,
                      threshold: float = 0.0, xi: float, label: str = "") -> "ExpertRate":
        """The rate implied by "a loss ≥ ``amount`` about once in ``return_period`` years"
        given the cell's ``severity`` (:func:`scenario_rate`)."""
        return cls(scenario_rate(amount, return_period, severity=severity,
                                 threshold=threshold), xi, label)


@dataclass(frozen=True)
class FrequencyPosterior:
    """The posterior of a cell's annual rate Λ (losses per year at or above the threshold).

    Attributes
    ----------
    dist : frozen scipy distribution
        ``gamma`` (no expert), ``geninvgauss`` (GIG: experts and data or prior) or
        ``invgamma`` (experts alone).
    p, a, b : float
        The posterior ∝ λ^(p−1) exp(−(aλ + b/λ)/2).
    n_events : int
        ΣN_k; ``exposure`` Σe_k (years).
    weights : SourceWeights
        Each source's weight: its worth in years of data over the total — external 1/β₀,
        expert m ξ_m/λ̂ (an expert with ξ is worth ξ losses), internal Σe_k — at the
        posterior mean λ̂. Without an expert these are the exact credibility weights.
    credibility_mean : float
        Σ weight × the source's own estimate (α₀β₀, ϑ_m, N̄): equal to ``mean`` with a gamma
        prior and no expert, its linear approximation with an expert. (With the flat prior
        the posterior mean is (1 + ΣN)/Σe: the flat prior's one pseudo-event.)
    """

    prior: GammaPrior | None
    experts: tuple[ExpertRate, ...]
    n_events: int
    exposure: float
    p: float
    a: float
    b: float
    dist: object = field(repr=False)
    weights: SourceWeights = field(default=None)
    credibility_mean: float = math.nan

    @property
    def mean(self) -> float:
        """E[Λ | data, experts]; for the GIG the Bessel ratio √(b/a)·K_{p+1}(ω)/K_p(ω),
        ω = √(ab) (LSW Section 3's Bayes estimator of the three-source model)."""
        return _gig_moment(self.p, self.a, self.b, 1) if self.b and self.a else \
            float(self.dist.mean())

    @property
    def sd(self) -> float:
        if self.b and self.a:
            m = _gig_moment(self.p, self.a, self.b, 1)
            return math.sqrt(max(_gig_moment(self.p, self.a, self.b, 2) - m * m, 0.0))
        return float(self.dist.std())

    @property
    def mle(self) -> float:
        """The internal data's own estimate ΣN_k/Σe_k (NaN without data)."""
        return self.n_events / self.exposure if self.exposure > 0 else math.nan

    @property
    def kind(self) -> str:
        return self.dist.dist.name


def _gig_moment(p: float, a: float, b: float, k: int) -> float:
    """E[X^k] of the GIG ∝ x^(p−1) exp(−(ax + b/x)/2): (b/a)^(k/2) K_{p+k}(ω)/K_p(ω)."""
    w = math.sqrt(a * b)
    with np.errstate(all="ignore"):
        out = (b / a) ** (k / 2) * special.kve(p + k, w) / special.kve(p, w)
    if math.isfinite(out) and out > 0:
        return float(out)
    # Bessel functions of large order overflow (a very sure expert, ξ in the millions):
    # integrate the density in t = ln x around its mode instead.
    def logf(t, j):
        return (p + j) * t - 0.5 * (a * math.exp(t) + b * math.exp(-t))
    mode = math.log(((p - 1) + math.sqrt((p - 1) ** 2 + a * b)) / a)
    spread = 1.0 / math.sqrt(0.5 * (a * math.exp(mode) + b * math.exp(-mode)))
    top = logf(mode, 0)
    lo, hi = mode - 40 * spread, mode + 40 * spread

    def integral(j):
        return integrate.quad(lambda t: math.exp(logf(t, j) - top), lo, hi, points=[mode],
                              epsabs=0, epsrel=1e-10, limit=200)[0]
    return float(integral(k) / integral(0))


def combine_frequency(counts: Sequence[int] = (), exposure: Sequence[float] | None = None, *,
                      prior: GammaPrior | None = None,
                      experts: Iterable[ExpertRate] = ()) -> FrequencyPosterior:
    """The posterior of a cell's annual rate from its counts, a prior and experts.

    Parameters
    ----------
    counts : sequence of int
        Losses at or above the threshold in each observed year (internal data).
    exposure : sequence of float, optional
        Each year's exposure in years (a partial year < 1; :func:`opwb.fitting.frequency.
        year_exposure`); 1 each by default.
    prior : GammaPrior, optional
        From external data; ``None``: a flat prior (no external data).
    experts : iterable of ExpertRate
        Expert estimates (e.g. from scenarios, :func:`expert_opinions`).

    Returns
    -------
    FrequencyPosterior

    Raises
    ------
    ValueError
        Negative or non-integer counts, exposures not positive or not one per count, no
        source at all, or too little for a proper posterior (experts alone need Σξ > 1).

    Notes
    -----
    LSW Section 3: Model Assumptions of the Poisson–gamma–gamma model and its GIG
    posterior; the conjugate case (no expert) is the Poisson–gamma credibility estimator.

    Examples
    --------
    >>> post = combine_frequency([1, 0, 2], prior=GammaPrior(2.0, 0.5))
    >>> post.kind, post.dist.args, post.dist.kwds        # Γ(2 + 3, 0.5 / (1 + 0.5·3))
    ('gamma', (5.0,), {'scale': 0.2})
    >>> print(post.weights)
    external 0.400, expert 0.000, internal 0.600
    """
    n = np.asarray(counts, dtype=float).ravel()
    if n.size and (np.any(n < 0) or np.any(n != np.round(n)) or not np.all(np.isfinite(n))):
        raise ValueError(f"counts must be whole numbers ≥ 0, got {list(counts)!r}")
    e = np.ones_like(n) if exposure is None else np.asarray(exposure, dtype=float).ravel()
    if e.shape != n.shape or (e.size and not np.all((e > 0) & np.isfinite(e))):
        raise ValueError("exposure must give one positive number of years per count")
    experts = tuple(experts)
    total_n, total_e = float(n.sum()), float(e.sum())
    alpha0, inv_beta0 = (1.0, 0.0) if prior is None else (prior.shape, 1.0 / prior.scale)
    p = alpha0 + total_n - sum(x.xi for x in experts)
    a = 2.0 * (inv_beta0 + total_e)
    b = 2.0 * sum(x.xi * x.value for x in experts)
    if a == 0 and b == 0:
        raise ValueError("no source: give counts, a prior or an expert estimate")
    if b == 0:
        dist = stats.gamma(p, scale=2.0 / a)
    elif a == 0:
        if not -p > 0:
            raise ValueError("experts alone need Σξ > 1 for a proper posterior; add data or "
                             "a prior, or a surer expert")
        dist = stats.invgamma(-p, scale=b / 2.0)
    else:
        dist = stats.geninvgauss(p, math.sqrt(a * b), scale=math.sqrt(b / a))
    mean = _gig_moment(p, a, b, 1) if a and b else float(dist.mean())
    worth = [x.xi / mean for x in experts]
    weights = _weights(inv_beta0, worth, total_e)
    own = [(weights.external, alpha0 * (1.0 / inv_beta0) if inv_beta0 else 0.0),
           *zip(weights.per_expert, (x.value for x in experts)),
           (weights.internal, total_n / total_e if total_e else 0.0)]
    return FrequencyPosterior(prior, experts, int(total_n), total_e, p, a, b, dist, weights,
                              float(sum(w * v for w, v in own)))


def _check_scenario(amount: float, return_period: float, threshold: float) -> None:
    _positive("amount (KRW)", amount)
    if not (math.isfinite(return_period) and return_period >= 1):
        raise ValueError(f"return_period must be at least 1 year, got {return_period!r}")
    if amount <= threshold:
        raise ValueError(f"a scenario's amount {amount:,.0f} KRW must lie above the threshold "
                         f"{threshold:,.0f} KRW")


def scenario_rate(amount: float, return_period: float, *, severity,
                  threshold: float = 0.0) -> float:
    """The annual rate of losses ≥ ``threshold`` implied by "a loss ≥ ``amount`` about once
    in ``return_period`` years": ϑ = 1/(N·S_H(X)), S_H(X) = S(X)/S(H).

    Parameters
    ----------
    amount : float
        X, KRW (above ``threshold``).
    return_period : float
        N, years (≥ 1).
    severity : frozen scipy distribution
        The cell's severity of single losses, KRW (untruncated, or already conditioned).
    threshold : float
        H, KRW; the rate returned counts losses at or above it.

    Raises
    ------
    ValueError
        N < 1, X not above H, or a severity with S(X) = 0.

    Examples
    --------
    >>> sev = stats.lognorm(2.0, scale=math.exp(16.0))
    >>> rate = scenario_rate(3e10, 10, severity=sev, threshold=1e7)
    >>> round(float(rate * sev.sf(3e10) / sev.sf(1e7)) * 10, 12)   # λ·S_H(X)·N = 1
    1.0
    """
    _check_scenario(amount, return_period, threshold)
    s_x = float(severity.sf(amount))
    s_h = float(severity.sf(threshold)) if threshold > 0 else 1.0
    if not s_x > 0:
        raise ValueError(f"the severity gives no chance of a loss ≥ {amount:,.0f} KRW")
    return s_h / (return_period * s_x)
