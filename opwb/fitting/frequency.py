"""Annual loss counts: Poisson and negative binomial fits, dispersion test, implied frequency.

The counts are of losses *above the collection threshold* H. Together with a severity fit
at the same threshold, :func:`implied_all_frequency` gives the frequency of all losses,
``λ_all = λ_H / S(H)``, so that (frequency, severity) describe one consistent model.

A bank's observation window (start, as-of date) may cover part of a calendar year: the
year's **exposure** (:func:`year_exposure`, in years) is the share of the year inside the
window, and every fit here takes the count of year *i* as drawn with mean ``λ · e_i``.
:func:`annual_counts` attaches the exposure of its years to the table it returns
(``table.attrs["exposure"]``); with whole years every exposure is 1 and the fits are those
of plain annual counts.

Examples
--------
>>> e = year_exposure(("2000-01-01", "2007-03-31"))
>>> e.loc[2000], round(e.loc[2007] * 365), round(float(e.sum()), 4)
(np.float64(1.0), 90, 7.2466)
>>> fit_frequency([10, 10, 5], "poisson", exposure=[1.0, 1.0, 0.5]).params["mu"]
10.0
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from opwb.data.periods import observation_window, year_exposure
from opwb.data.schema import collected

__all__ = ["FrequencyFit", "fit_frequency", "dispersion_test", "implied_all_frequency",
           "annual_counts", "year_exposure"]

FrequencyFamily = Literal["poisson", "negbin", "auto"]


@dataclass(frozen=True)
class FrequencyFit:
    """A fitted annual-count distribution (``.dist`` is a frozen scipy poisson / nbinom).

    ``params``: ``{"mu": λ}`` for Poisson, ``{"mu": mean, "r": size}`` for the negative
    binomial (variance μ + μ²/r; scipy ``nbinom(r, r/(r+μ))``). ``mu`` is the mean count
    per **whole** year (losses per year of exposure), whatever the exposure of the years
    it was fitted on.

    Attributes
    ----------
    n_years : int
        Number of calendar years the counts cover (a partial year counts once).
    exposures : tuple of float
        Exposure of each of those years (years, in (0, 1] for a window's years); empty when
        every year is whole (exposure 1), as in fits saved before exposures existed.
    exposure : float
        Total exposure (years): ``sum(exposures)``, or ``n_years`` when every year is whole.
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
    exposures: tuple[float, ...] = ()

    @property
    def mean(self) -> float:
        return float(self.params["mu"])

    @property
    def exposure(self) -> float:
        """Total exposure in years (``n_years`` when every year is whole)."""
        return float(sum(self.exposures)) if self.exposures else float(self.n_years)

    @property
    def year_exposures(self) -> np.ndarray:
        """Exposure of each fitted year (years), ones when every year is whole."""
        return (np.asarray(self.exposures, dtype=float) if self.exposures
                else np.ones(int(self.n_years)))

    @property
    def dist(self):
        """Distribution of the count of one whole year."""
        return self.dist_for(1.0)

    def dist_for(self, exposure: float = 1.0):
        """Distribution of the count over ``exposure`` years: Poisson(λ·e), or the negative
        binomial with mean μ·e and the same size r (NB2 with exposure, see
        :func:`fit_frequency`)."""
        e = float(exposure)
        if not e > 0:
            raise ValueError(f"exposure must be > 0 years, got {exposure!r}")
        if self.family == "poisson":
            return stats.poisson(self.params["mu"] if e == 1.0 else self.params["mu"] * e)
        r, mu = self.params["r"], self.params["mu"]
        mu = mu if e == 1.0 else mu * e
        return stats.nbinom(r, r / (r + mu))

    def to_dict(self) -> dict:
        return {"kind": "frequency_fit", "family": self.family, "params": dict(self.params),
                "se": dict(self.se), "loglik": self.loglik, "aic": self.aic,
                "n_years": self.n_years, "dispersion_stat": self.dispersion_stat,
                "dispersion_pvalue": self.dispersion_pvalue, "threshold": self.threshold,
                "exposure": self.exposure, "exposures": [float(e) for e in self.exposures]}

    @classmethod
    def from_dict(cls, d: Mapping) -> "FrequencyFit":
        """Inverse of :meth:`to_dict`; a dict without ``exposures`` (saved before exposures
        existed) is a fit on whole years. ``exposure`` (the total) is derived, not read."""
        keys = ("family", "params", "se", "loglik", "aic", "n_years", "dispersion_stat",
                "dispersion_pvalue", "threshold")
        kw = {k: d[k] for k in keys if k in d}
        kw = {k: (float("nan") if v is None else v) for k, v in kw.items()}
        exposures = d.get("exposures") or ()
        if exposures:
            kw["exposures"] = tuple(float(e) for e in exposures)
        return cls(**kw)


# --------------------------------------------------------------------------- exposure
def _window_text(start: pd.Timestamp, as_of: pd.Timestamp) -> str:
    return f"{start:%Y-%m-%d} – {as_of:%Y-%m-%d}"


# --------------------------------------------------------------------------- fits
def _counts(counts) -> np.ndarray:
    n = np.asarray(counts, dtype=float).ravel()
    if n.size < 2:
        raise ValueError(f"need annual counts for at least 2 years, got {n.size}")
    if not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise ValueError("annual counts must be non-negative whole numbers")
    return n


def _exposure(counts, exposure, n: np.ndarray) -> np.ndarray | None:
    """Per-year exposure aligned with ``n``, or None when every year is whole.

    ``exposure=None`` takes ``counts.attrs["exposure"]`` of a Series from
    :func:`annual_counts` (aligned on its years); a Series ``exposure`` is aligned on the
    index of a Series ``counts``.
    """
    if exposure is None and isinstance(counts, pd.Series):
        exposure = counts.attrs.get("exposure")
    if exposure is None:
        return None
    if isinstance(exposure, pd.Series) and isinstance(counts, pd.Series):
        aligned = exposure.reindex(counts.index)
        if aligned.isna().any():
            missing = [i for i, v in aligned.items() if pd.isna(v)]
            raise ValueError(f"no exposure for the count(s) of {missing}")
        exposure = aligned
    e = np.asarray(exposure, dtype=float).ravel()
    if e.shape != n.shape:
        raise ValueError(f"exposure needs one value per year: {e.size} for {n.size} counts")
    if not np.all(np.isfinite(e)) or np.any(e <= 0):
        raise ValueError("exposures must be finite and > 0 (years of observation)")
    return None if np.all(e == 1.0) else e


def _pearson(n: np.ndarray, e: np.ndarray | None) -> tuple[float, float]:
    """(X², p) of the Poisson hypothesis; ``e`` None: every year whole."""
    if e is None:
        m = n.mean()
        if m == 0:
            return 0.0, 1.0
        d = float(((n - m) ** 2).sum() / m)
    else:
        lam = n.sum() / e.sum()
        if lam == 0:
            return 0.0, 1.0
        d = float(((n - lam * e) ** 2 / (lam * e)).sum())
    return d, float(stats.chi2.sf(d, n.size - 1))


def dispersion_test(counts, exposure=None) -> tuple[float, float]:
    """Pearson (index-of-dispersion) test of the Poisson hypothesis against over-dispersion.

    With exposure ``e_i`` (years) of year *i* and ``λ̂ = Σ n_i / Σ e_i``,

        X² = Σ (n_i − λ̂ e_i)² / (λ̂ e_i)  ~  χ²(N − 1)  under Poisson,

    Pearson's statistic of the Poisson model with exposure; with whole years it is the
    classical index of dispersion ``D = Σ (n_i − n̄)² / n̄`` (Cochran 1954, *Biometrics*
    10, 417–451). Returns ``(X², P(χ² ≥ X²))``; all counts zero gives ``(0, 1)``.

    Parameters
    ----------
    counts : array_like of int
        Losses per year.
    exposure : array_like of float, optional
        Exposure of each year in years (default: ``counts.attrs["exposure"]`` of a column of
        :func:`annual_counts`, else 1 each).
    """
    n = _counts(counts)
    return _pearson(n, _exposure(counts, exposure, n))


def _nb_negloglik(mu: float, r: float, n: np.ndarray, e: np.ndarray | None = None) -> float:
    m = mu if e is None else mu * e
    return -float(np.sum(special.gammaln(n + r) - special.gammaln(r) - special.gammaln(n + 1)
                         + r * np.log(r / (r + m)) + n * np.log(m / (r + m))))


def _nb_mu(r: float, n: np.ndarray, e: np.ndarray | None) -> float:
    """MLE of μ for a given size r: the root of Σ (n_i − μ e_i) / (1 + μ e_i / r) = 0,
    ``n̄`` (or ``n̄ / e``) when the exposures are equal."""
    if e is None:
        return float(n.mean())
    ratio = n / e
    lo, hi = float(ratio.min()), float(ratio.max())
    if lo == hi or np.all(e == e[0]):
        return float(n.sum() / e.sum())

    def score(mu: float) -> float:
        return float(np.sum((n - mu * e) / (1.0 + mu * e / r)))

    # the score falls strictly in μ and changes sign on [min n_i/e_i, max n_i/e_i]
    return float(optimize.brentq(score, lo, hi, xtol=1e-15 * hi, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def fit_frequency(counts, family: FrequencyFamily = "auto", *, exposure=None,
                  alpha: float = 0.05, threshold: float = 0.0) -> FrequencyFit:
    """Maximum-likelihood Poisson or negative binomial fit to annual counts with exposure.

    Year *i* has ``n_i`` losses in ``e_i`` years of observation (``e_i = 1`` for a whole
    year, less for a year the observation window covers in part).

    * **Poisson**: ``n_i ~ Poisson(λ e_i)``; ``λ̂ = Σ n_i / Σ e_i`` (losses per year) with
      standard error ``sqrt(λ̂ / Σ e_i)``.
    * **Negative binomial** (NB2 with exposure, the standard count-regression form with
      offset ``log e_i``; Cameron & Trivedi 2013, *Regression Analysis of Count Data*, 2nd
      ed., §3.3): ``n_i ~ NB(mean μ e_i, size r)``, variance ``μ e_i + (μ e_i)² / r``. The
      MLE of (μ, r) is joint: the log-likelihood is profiled over μ (the root of the score
      ``Σ (n_i − μ e_i) / (1 + μ e_i / r) = 0``, ``n̄`` for whole years,
      :func:`scipy.optimize.brentq`) and maximised in ``log r``
      (:func:`scipy.optimize.minimize_scalar`). Standard errors: μ from the expected
      information ``Σ e_i / (μ (1 + μ e_i / r))`` (μ and r are orthogonal in NB2), r from
      the curvature of the log-likelihood in r.

    With every ``e_i = 1`` both reduce to the plain annual-count fits (the same numbers to
    the last bit).

    Parameters
    ----------
    counts : array_like of int
        Number of losses above ``threshold`` in each observed year (include zero years).
        A column of :func:`annual_counts` carries its years' exposure in ``attrs``.
    family : {"auto", "poisson", "negbin"}
        ``"auto"`` takes the negative binomial when the dispersion test
        (:func:`dispersion_test`) rejects Poisson at level ``alpha`` and the counts are
        over-dispersed (Pearson X² > N − 1; with whole years: sample variance > mean), else
        Poisson.
    exposure : array_like of float, optional
        Exposure of each year in years (> 0). Default: ``counts.attrs["exposure"]`` when
        ``counts`` is a column of :func:`annual_counts`, else 1 for every year. A Series is
        aligned on the index of a Series ``counts``.
    threshold : float
        The collection threshold the counts refer to (KRW; recorded on the result).

    Returns
    -------
    FrequencyFit
        ``params["mu"]`` is the mean count per whole year; ``n_years`` the number of years,
        ``exposures`` their exposure (empty when all are 1) and ``exposure`` its total.

    Examples
    --------
    >>> fit_frequency([3, 5, 4, 6, 2], "poisson").params["mu"]
    4.0
    >>> f = fit_frequency([12, 11, 13, 3], "poisson", exposure=[1, 1, 1, 0.25])
    >>> f.params["mu"], f.exposure
    (12.0, 3.25)
    """
    n = _counts(counts)
    e = _exposure(counts, exposure, n)
    d, p = _pearson(n, e)
    if e is None:
        total = float(n.size)
        m, v = n.mean(), n.var(ddof=1)
        over = v > m
    else:
        total = float(e.sum())
        m = n.sum() / total
        over = d > n.size - 1
    if family == "auto":
        family = "negbin" if (p < alpha and over) else "poisson"
    common = dict(n_years=int(n.size), dispersion_stat=d, dispersion_pvalue=p,
                  threshold=float(threshold), exposures=() if e is None else tuple(e.tolist()))
    if family == "poisson":
        mean_i = m if e is None else m * e
        ll = float(stats.poisson.logpmf(n, mean_i).sum()) if m > 0 else 0.0
        return FrequencyFit("poisson", {"mu": float(m)}, {"mu": float(np.sqrt(m / total))},
                            loglik=ll, aic=2 - 2 * ll, **common)
    if family != "negbin":
        raise ValueError(f"family must be 'poisson', 'negbin' or 'auto', got {family!r}")
    if not over:
        need, got = (("sample variance > mean", f"variance {v:.3g} ≤ mean {m:.3g}")
                     if e is None else
                     ("Pearson X² > degrees of freedom",
                      f"Pearson X² {d:.3g} ≤ {n.size - 1} degrees of freedom"))
        raise ValueError(f"negative binomial needs over-dispersed counts ({need}); these are "
                         f"not ({got}), so the MLE is the Poisson limit r → ∞: use 'poisson'")
    # profile likelihood: μ̂(r) for each size r, r on the log scale
    res = optimize.minimize_scalar(
        lambda t: _nb_negloglik(_nb_mu(np.exp(t), n, e), np.exp(t), n, e),
        bounds=(-10.0, 15.0), method="bounded", options={"xatol": 1e-10})
    r = float(np.exp(res.x))
    if res.x > 14.9:
        raise ValueError("negative binomial fit did not converge: the size r runs to ∞ "
                         "(counts are close to Poisson); use 'poisson'")
    mu = _nb_mu(r, n, e)
    ll = -_nb_negloglik(mu, r, n, e)
    if e is None:
        se_mu = float(np.sqrt((mu + mu * mu / r) / n.size))
    else:
        se_mu = float(1.0 / np.sqrt(np.sum(e / (mu * (1.0 + mu * e / r)))))
    se = {"mu": se_mu, "r": _se_r(mu, r, n, e)}
    return FrequencyFit("negbin", {"mu": float(mu), "r": r}, se, loglik=ll, aic=4 - 2 * ll,
                        **common)


def _se_r(m: float, r: float, n: np.ndarray, e: np.ndarray | None = None) -> float:
    h = 1e-4 * r
    f = [_nb_negloglik(m, r + k * h, n, e) for k in (-1, 0, 1)]
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


def _outside_window(dates: pd.Series, start: pd.Timestamp, as_of: pd.Timestamp) -> pd.Series:
    d = pd.to_datetime(dates)
    if getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_localize(None)
    d = d.dt.normalize()
    return d.notna() & ((d < start) | (d > as_of))


def annual_counts(losses: pd.DataFrame, *, by: str = "event_type", threshold: float = 0.0,
                  years=None, date_column: str = "occurrence_date",
                  value: str = "gross_loss", observation=None) -> pd.DataFrame:
    """Counts of losses at or above ``threshold`` (:func:`opwb.data.schema.collected`) per
    year (rows) and cell (columns), zeros included, with each year's exposure.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss events (``opwb.load_losses``).
    by : str
        Cell column.
    threshold : float
        Collection threshold (KRW).
    years : iterable of int, optional
        The years (rows). Default: every calendar year the observation window touches, or
        without a window every calendar year from the first to the last loss (the loader,
        given no window, refuses dates cut off from the others by years without a loss:
        :func:`opwb.data.periods.isolated_dates`). Losses in other years are not counted.
    date_column : str
        The date that makes the year.
    value : str
        The KRW amount compared with ``threshold``.
    observation : (start, as_of) or False, optional
        The observation window (dates, both days included). Default:
        ``losses.attrs.get("observation")`` (the loader stores a case's window there); none,
        or ``False`` (ignore the losses' window): every year is whole.

    Returns
    -------
    pandas.DataFrame
        Counts indexed by ``year``, one column per cell. ``table.attrs["exposure"]`` is a
        Series ``year -> exposure`` in years (:func:`year_exposure`: in (0, 1], 1 for a
        whole year; 1 for every year without a window). The counts' columns carry it too,
        so ``fit_frequency(table[cell])`` uses it. (pandas compares ``attrs`` when it
        concatenates or merges: drop it, ``t.attrs.pop("exposure")``, before
        ``pd.concat`` of pieces taken from different copies.)

    Raises
    ------
    ValueError
        Losses at or above ``threshold`` dated outside the observation window (how many
        and the window are named; the loader refuses them), or a year in ``years`` the
        window does not touch.

    Examples
    --------
    >>> df = pd.DataFrame({"event_type": ["IF", "IF", "EF"], "gross_loss": [3e7, 2e7, 5e7],
    ...                    "occurrence_date": pd.to_datetime(["2005-03-01", "2007-02-01",
    ...                                                       "2005-06-01"])})
    >>> t = annual_counts(df, threshold=1e7, observation=("2005-01-01", "2007-03-31"))
    >>> t["IF"].tolist(), t.attrs["exposure"].round(4).tolist()
    ([1, 0, 1], [1.0, 1.0, 0.2466])
    """
    if observation is None:
        observation = losses.attrs.get("observation")
    if observation is False:
        observation = None
    df = losses[collected(losses[value], threshold)]
    dates = pd.to_datetime(df[date_column])
    yr = dates.dt.year
    if observation is not None:
        exposure = year_exposure(observation)
        start, as_of = observation_window(observation)
        outside = _outside_window(dates, start, as_of)
        if outside.any():
            k = int(outside.sum())
            first, last = dates[outside].min(), dates[outside].max()
            raise ValueError(
                f"{k} loss(es) at or above {float(threshold):,.0f} KRW have {date_column} "
                f"outside the observation window {_window_text(start, as_of)} (from "
                f"{first:%Y-%m-%d} to {last:%Y-%m-%d}); the loader should have refused them: "
                "correct the dates or the window")
        if years is None:
            years = [int(y) for y in exposure.index]
        else:
            years = [int(y) for y in years]
            stray = [y for y in years if y not in exposure.index]
            if stray:
                raise ValueError(f"year(s) {stray} are outside the observation window "
                                 f"{_window_text(start, as_of)}")
        exposure = exposure.reindex(years)
    else:
        if years is None:
            all_years = pd.to_datetime(losses[date_column]).dt.year
            years = range(int(all_years.min()), int(all_years.max()) + 1)
        years = [int(y) for y in years]
        exposure = pd.Series(1.0, index=pd.Index(years, name="year"), name="exposure")
    table = pd.crosstab(yr, df[by]).reindex(years, fill_value=0)
    table.index.name, table.columns.name = "year", by
    exposure.index.name = "year"
    table.attrs = {"exposure": exposure}
    return table
