"""Annual loss counts: Poisson and negative binomial fits, dispersion test, implied frequency.

The counts are of losses *above the collection threshold* H. Together with a severity fit
at the same threshold, :func:`implied_all_frequency` gives the frequency of all losses,
``λ_all = λ_H / S(H)``, so that (frequency, severity) describe one consistent model.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from opwb.data.schema import collected

__all__ = ["FrequencyFit", "fit_frequency", "dispersion_test", "implied_all_frequency",
           "annual_counts"]

FrequencyFamily = Literal["poisson", "negbin", "auto"]


@dataclass(frozen=True)
class FrequencyFit:
    """A fitted annual-count distribution (``.dist`` is a frozen scipy poisson / nbinom).

    ``params``: ``{"mu": λ}`` for Poisson, ``{"mu": mean, "r": size}`` for the negative
    binomial (variance μ + μ²/r; scipy ``nbinom(r, r/(r+μ))``).
    """

    family: str
    params: dict[str, float]
    se: dict[str, float] = field(default_factory=dict)
    loglik: float = float("nan")
    aic: float = float("nan")
    n_years: int = 0
    dispersion_stat: float = float("nan")
    dispersion_pvalue: float = float("nan")
    threshold: float = 0.0

    @property
    def mean(self) -> float:
        return float(self.params["mu"])

    @property
    def dist(self):
        if self.family == "poisson":
            return stats.poisson(self.params["mu"])
        r, mu = self.params["r"], self.params["mu"]
        return stats.nbinom(r, r / (r + mu))

    def to_dict(self) -> dict:
        return {"kind": "frequency_fit", "family": self.family, "params": dict(self.params),
                "se": dict(self.se), "loglik": self.loglik, "aic": self.aic,
                "n_years": self.n_years, "dispersion_stat": self.dispersion_stat,
                "dispersion_pvalue": self.dispersion_pvalue, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: Mapping) -> "FrequencyFit":
        keys = ("family", "params", "se", "loglik", "aic", "n_years", "dispersion_stat",
                "dispersion_pvalue", "threshold")
        kw = {k: d[k] for k in keys if k in d}
        kw = {k: (float("nan") if v is None else v) for k, v in kw.items()}
        return cls(**kw)


def _counts(counts) -> np.ndarray:
    n = np.asarray(counts, dtype=float).ravel()
    if n.size < 2:
        raise ValueError(f"need annual counts for at least 2 years, got {n.size}")
    if not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise ValueError("annual counts must be non-negative whole numbers")
    return n


def dispersion_test(counts) -> tuple[float, float]:
    """Index-of-dispersion test of the Poisson hypothesis against over-dispersion.

    ``D = Σ (n_i − n̄)² / n̄ ~ χ²(N − 1)`` under Poisson; returns ``(D, P(χ² ≥ D))``.
    """
    n = _counts(counts)
    m = n.mean()
    if m == 0:
        return 0.0, 1.0
    d = float(((n - m) ** 2).sum() / m)
    return d, float(stats.chi2.sf(d, n.size - 1))


def _nb_negloglik(mu: float, r: float, n: np.ndarray) -> float:
    return -float(np.sum(special.gammaln(n + r) - special.gammaln(r) - special.gammaln(n + 1)
                         + r * np.log(r / (r + mu)) + n * np.log(mu / (r + mu))))


def fit_frequency(counts, family: FrequencyFamily = "auto", *, alpha: float = 0.05,
                  threshold: float = 0.0) -> FrequencyFit:
    """Maximum-likelihood Poisson or negative binomial fit to annual counts.

    Parameters
    ----------
    counts : array_like of int
        Number of losses above ``threshold`` in each observed year (include zero years).
    family : {"auto", "poisson", "negbin"}
        ``"auto"`` takes the negative binomial when the dispersion test rejects Poisson at
        level ``alpha`` (and the sample variance exceeds the mean), else Poisson.
    threshold : float
        The collection threshold the counts refer to (recorded on the result).

    Examples
    --------
    >>> fit_frequency([3, 5, 4, 6, 2], "poisson").params["mu"]
    4.0
    """
    n = _counts(counts)
    d, p = dispersion_test(n)
    m, v = n.mean(), n.var(ddof=1)
    if family == "auto":
        family = "negbin" if (p < alpha and v > m) else "poisson"
    common = dict(n_years=int(n.size), dispersion_stat=d, dispersion_pvalue=p,
                  threshold=float(threshold))
    if family == "poisson":
        ll = float(stats.poisson.logpmf(n, m).sum()) if m > 0 else 0.0
        return FrequencyFit("poisson", {"mu": float(m)}, {"mu": float(np.sqrt(m / n.size))},
                            loglik=ll, aic=2 - 2 * ll, **common)
    if family != "negbin":
        raise ValueError(f"family must be 'poisson', 'negbin' or 'auto', got {family!r}")
    if not v > m:
        raise ValueError(f"negative binomial needs over-dispersed counts (variance {v:.3g} > "
                         f"mean {m:.3g}); the MLE is the Poisson limit r → ∞: use 'poisson'")
    # μ̂ = n̄ for any r; profile the size r on the log scale
    res = optimize.minimize_scalar(lambda t: _nb_negloglik(m, np.exp(t), n),
                                   bounds=(-10.0, 15.0), method="bounded",
                                   options={"xatol": 1e-10})
    r = float(np.exp(res.x))
    if res.x > 14.9:
        raise ValueError("negative binomial fit did not converge: the size r runs to ∞ "
                         "(counts are close to Poisson); use 'poisson'")
    ll = -_nb_negloglik(m, r, n)
    se = {"mu": float(np.sqrt((m + m * m / r) / n.size)), "r": _se_r(m, r, n)}
    return FrequencyFit("negbin", {"mu": float(m), "r": r}, se, loglik=ll, aic=4 - 2 * ll,
                        **common)


def _se_r(m: float, r: float, n: np.ndarray) -> float:
    h = 1e-4 * r
    f = [_nb_negloglik(m, r + k * h, n) for k in (-1, 0, 1)]
    d2 = (f[0] - 2 * f[1] + f[2]) / h ** 2
    return float(1 / np.sqrt(d2)) if d2 > 0 else float("nan")


def implied_all_frequency(frequency: FrequencyFit | float, severity) -> float:
    """λ_all = λ_H / S(H): the annual frequency of all losses implied by the fits above H.

    ``severity`` is a :class:`opwb.fitting.mle.SeverityFit` (its ``threshold`` and untruncated
    ``sf`` are used); ``frequency`` a :class:`FrequencyFit` or the mean count above H.
    """
    lam = frequency.mean if isinstance(frequency, FrequencyFit) else float(frequency)
    s_h = float(severity.sf(severity.threshold)) if severity.threshold > 0 else 1.0
    if not s_h > 0:
        raise ValueError("the severity fit gives S(threshold) = 0; cannot scale up")
    return lam / s_h


def annual_counts(losses: pd.DataFrame, *, by: str = "event_type", threshold: float = 0.0,
                  years=None, date_column: str = "occurrence_date",
                  value: str = "gross_loss") -> pd.DataFrame:
    """Counts of losses at or above ``threshold`` (:func:`opwb.data.schema.collected`) per
    year (rows) and cell (columns), zeros included.

    ``years`` defaults to every calendar year from the first to the last loss.
    """
    df = losses[collected(losses[value], threshold)]
    yr = pd.to_datetime(df[date_column]).dt.year
    if years is None:
        all_years = pd.to_datetime(losses[date_column]).dt.year
        years = range(int(all_years.min()), int(all_years.max()) + 1)
    table = pd.crosstab(yr, df[by]).reindex(list(years), fill_value=0)
    table.index.name, table.columns.name = "year", by
    return table
