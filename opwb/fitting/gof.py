"""Goodness of fit that respects the collection threshold.

Statistics are computed on the *conditional* distribution above ``H``:
``u_i = (F(x_i) − F(H)) / S(H)``, sorted (for precision ``1 − u = S(x)/S(H)`` is computed
from log-survival functions).

- KS: ``D = max_i max(i/n − u_(i), u_(i) − (i−1)/n)``.
- AD: ``A² = −n − (1/n) Σ (2i − 1) [ln u_(i) + ln(1 − u_(n+1−i))]``.
- AD-up (upper-tail Anderson–Darling, Chernobai, Rachev & Fabozzi 2005, "Composite
  goodness-of-fit tests for left-truncated loss samples"):
  ``AD²up = n ∫ (F_n − F)²/(1 − F)² dF = 2 Σ ln(1 − u_(j)) + (1/n) Σ (1 + 2(n − j))/(1 − u_(j))``.

Because the parameters are estimated, the null distributions are not the textbook ones:
p-values come from a parametric bootstrap that draws samples from the fitted conditional
model, **refits** each one (all samples at once with the batched optimiser, warm-started at
the fitted parameters) and recomputes the statistics; ``p = (1 + #{T* ≥ T}) / (1 + m)``
over the ``m`` samples that refitted.

A p-value needs usable samples: a bootstrap sample whose draw or refit fails is left out,
and when fewer than :data:`MIN_USABLE_SHARE` (90%) of the ``B`` samples are usable there
is **no p-value** (NaN), with the counts in :class:`GofResult` (``n_boot``, ``n_failed``)
and in the comparison table (``boot_used``, ``boot_failed``). The samples that fail are
not a random tenth: they are typically the most extreme draws, so a null distribution
built from the rest would be too narrow, and with every refit failed the formula above
would give ``p = 1``. :func:`opwb.fitting.modelset.choose_family` treats a family whose
bootstrap gave no p-value as not credible.

Degenerate fits (status ``"degenerate"``, see :mod:`opwb.fitting.identification`) and
fits with a non-finite parameter are never evaluated: their rows in
:func:`comparison_table` give the status, the parameters and the likelihood supremum,
and NaN for every statistic, p-value and quantile.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opwb.data.errors import DataError
from opwb.data.levels import check_level
from opwb.fitting.families import SeverityFamily, get_family
from opwb.fitting.mle import SeverityFit, check_losses, fit_batch, fit_severity, scaled_data

__all__ = ["DEFAULT_N_BOOT", "MIN_USABLE_SHARE", "min_usable", "GofResult", "gof_statistics",
           "gof_test", "conditional_logsf", "fit_all", "comparison_table", "evaluable",
           "TABLE_COLUMNS", "qq_data", "pp_data"]

DEFAULT_N_BOOT = 99
"""Default bootstrap size (benchmarks/bench_fitting.py keeps all families × 7 cells < 60 s)."""

MIN_USABLE_SHARE = 0.9
"""Least share of the bootstrap samples that must refit for p-values to be given (below it
the p-values are NaN and the counts say why)."""

STATISTICS = ("ks", "ad", "adup")


def min_usable(n_boot: int) -> int:
    """Least number of refitted bootstrap samples, out of ``n_boot``, for p-values:
    ⌈:data:`MIN_USABLE_SHARE` · n_boot⌉ (90 of 99, 18 of 19, 9 of 9).

    Examples
    --------
    >>> min_usable(99), min_usable(19), min_usable(70)
    (90, 18, 63)
    """
    return math.ceil(round(MIN_USABLE_SHARE * n_boot, 9))
BOOT_MAX_ITER = 25
BOOT_TOL = 1e-3  # Newton decrement (log-lik units) at which a bootstrap refit is accepted


@dataclass(frozen=True)
class GofResult:
    """KS, AD and AD-up statistics with parametric-bootstrap p-values.

    Attributes
    ----------
    ks, ad, adup : float
        The statistics of the data (NaN for a fit that is not evaluated).
    p_ks, p_ad, p_adup : float
        Bootstrap p-values; NaN without a bootstrap (``n_boot=0``) or when fewer than
        :data:`MIN_USABLE_SHARE` of the samples refitted.
    n_boot : int
        Bootstrap samples that refitted (the ``m`` of the p-values).
    n_failed : int
        Bootstrap samples left out (non-finite draw or likelihood).
    """

    ks: float
    ad: float
    adup: float
    p_ks: float
    p_ad: float
    p_adup: float
    n_boot: int
    n_failed: int = 0

    @property
    def requested(self) -> int:
        """Bootstrap samples drawn (used + failed)."""
        return self.n_boot + self.n_failed

    @property
    def too_few_usable(self) -> bool:
        """True when a bootstrap was run but too few samples refitted to give p-values."""
        return self.requested > 0 and self.n_boot < min_usable(self.requested)

    @property
    def note(self) -> str:
        """A sentence on failed bootstrap refits ("" when none failed)."""
        if not self.n_failed:
            return ""
        if self.too_few_usable:
            return (f"No bootstrap p-values: {self.n_failed} of {self.requested} bootstrap "
                    f"samples could not be refitted, leaving {self.n_boot} (a p-value needs "
                    f"at least {MIN_USABLE_SHARE:.0%} of them).")
        return (f"{self.n_failed} of {self.requested} bootstrap samples could not be "
                "refitted and were left out of the p-values.")


def conditional_logsf(family: SeverityFamily, args: tuple, x, threshold) -> np.ndarray:
    """log P(X > x | X > H) with parameter arrays ``args`` broadcasting against ``x``."""
    ls = family.raw_logsf(x, *args)
    h = np.asarray(threshold, dtype=float)
    if np.all(h <= 0):
        return ls
    return ls - np.where(h > 0, family.raw_logsf(np.where(h > 0, h, 1.0), *args), 0.0)


def gof_statistics(log_sf_cond: np.ndarray) -> dict[str, np.ndarray]:
    """KS, AD and AD-up from conditional log-survival values, one sample per row.

    Parameters
    ----------
    log_sf_cond : ndarray, shape (..., n)
        ``log(1 − u)`` for every observation (any order).
    """
    ell = -np.sort(-np.asarray(log_sf_cond, dtype=float), axis=-1)   # descending ℓ ⇒ ascending u
    ell = np.minimum(ell, 0.0)
    n = ell.shape[-1]
    u = -np.expm1(ell)
    i = np.arange(1, n + 1)
    ks = np.maximum((i / n - u).max(-1), (u - (i - 1) / n).max(-1))
    with np.errstate(divide="ignore"):
        log_u = np.log(np.maximum(u, 1e-300))
    ad = -n - ((2 * i - 1) * (log_u + ell[..., ::-1])).sum(-1) / n
    with np.errstate(over="ignore"):
        adup = 2.0 * ell.sum(-1) + ((1 + 2 * (n - i)) * np.exp(-ell)).sum(-1) / n
    return {"ks": ks, "ad": ad, "adup": adup}


def _scaled(fit: SeverityFit, x: np.ndarray):
    """(family, scaled data, θ of the fit on the scaled data)."""
    fam = get_family(fit.family)
    d = scaled_data(fam, x, fit.threshold)
    theta = fam.to_theta(fam.rescale(fit.params, 1.0 / d.c))
    return fam, d, theta


def _stats_for(fam: SeverityFamily, theta: np.ndarray, y: np.ndarray, h: float) -> dict:
    args = tuple(a[..., None] for a in fam.to_natural(theta))
    with np.errstate(all="ignore"):
        return gof_statistics(conditional_logsf(fam, args, y, h))


def gof_test(fit: SeverityFit, losses, *, n_boot: int = DEFAULT_N_BOOT,
             seed: int | None = 0) -> GofResult:
    """KS / AD / AD-up of ``fit`` on ``losses`` (all above ``fit.threshold``), bootstrap p-values.

    Parameters
    ----------
    fit : SeverityFit
        The fit to test (normally ``fit_severity(losses, ...)``).
    losses : array_like
        The data the fit was made on.
    n_boot : int
        Parametric-bootstrap samples, each refitted (0: statistics only, p-values NaN).
    seed : int
        Seed of the bootstrap; the family name is mixed in so that every family gets its own
        reproducible stream.

    Returns
    -------
    GofResult
        The statistics, and p-values only when at least :data:`MIN_USABLE_SHARE` of the
        ``n_boot`` samples refitted (else NaN; ``n_boot`` and ``n_failed`` count them).

    Raises
    ------
    ValueError
        A fit with a non-finite parameter (a degenerate limit such as Burr XII
        ``scale = inf``): there is no distribution to test.
    """
    fam = get_family(fit.family)
    if not all(np.isfinite(v) for v in fit.params.values()):
        raise ValueError(f"the {fam.label} fit has a non-finite parameter "
                         f"({_fmt_params(fit)}): a degenerate limit, nothing to test")
    x = check_losses(losses, fit.threshold, fam)
    fam, d, theta = _scaled(fit, x)
    y, h = d.y, d.h
    obs = {k: float(v[0]) for k, v in _stats_for(fam, theta[None, :], y[None, :], h).items()}
    if n_boot <= 0:
        return GofResult(**obs, p_ks=np.nan, p_ad=np.nan, p_adup=np.nan, n_boot=0)
    rng = np.random.default_rng([int(seed or 0), zlib.crc32(fam.name.encode())])
    args = fam.to_natural(theta)
    with np.errstate(all="ignore"):
        s_h = np.exp(fam.raw_logsf(h, *args)) if h > 0 else 1.0
        ystar = fam.raw_isf(rng.random((n_boot, x.size)) * s_h, *args)
    ok_rows = np.all(np.isfinite(ystar) & (ystar > max(h, fam.min_support)), axis=1)
    # refits start at the fitted parameters; a refit still creeping along a flat ridge after
    # BOOT_MAX_ITER damped Newton steps is kept (its likelihood is at least that of the start)
    res = fit_batch(fam, ystar, h, np.tile(theta, (n_boot, 1)), max_iter=BOOT_MAX_ITER,
                    tol=BOOT_TOL)
    ok = ok_rows & np.isfinite(res.fun)
    star = _stats_for(fam, res.theta[ok], ystar[ok], h)
    m = int(ok.sum())
    if m < min_usable(n_boot):             # too few usable samples: no p-value
        pv = {f"p_{k}": np.nan for k in STATISTICS}
    else:
        pv = {f"p_{k}": float((1 + np.sum(star[k] >= obs[k])) / (1 + m)) for k in STATISTICS}
    return GofResult(**obs, **pv, n_boot=m, n_failed=n_boot - m)


def fit_all(losses, threshold: float = 0.0,
            families: Iterable[str] | None = None) -> dict[str, SeverityFit | str]:
    """Fit several families; a family that cannot be fitted to these data maps to the
    reason (the :class:`~opwb.data.errors.DataError` message), never silently dropped."""
    from opwb.fitting.families import SEVERITY_FAMILIES
    out: dict[str, SeverityFit | str] = {}
    for name in (families or SEVERITY_FAMILIES):
        try:
            out[name] = fit_severity(losses, name, threshold)
        except DataError as exc:   # bad input for this family only (too few points, ...)
            out[name] = str(exc)
    return out


TABLE_COLUMNS = ("family", "label", "label_ko", "status", "limit", "finite_mean", "tail_index",
                 "params",
                 "n", "k", "loglik", "aic", "bic", "ks", "p_ks", "ad", "p_ad", "adup", "p_adup",
                 "boot_used", "boot_failed", "q_single", "warnings")


def evaluable(fit: SeverityFit) -> bool:
    """True when statistics and quantiles of ``fit`` may be computed: not degenerate, every
    parameter finite.

    A degenerate fit's parameters are a point on a ridge running to a limit (or the limit
    itself, e.g. a Burr XII ``scale = inf``): figures computed from them describe no model
    the data identify, or cannot be computed at all.
    """
    return fit.status != "degenerate" and all(np.isfinite(v) for v in fit.params.values())


def comparison_table(fits: Mapping[str, SeverityFit | str], losses, *,
                     n_boot: int = DEFAULT_N_BOOT, seed: int | None = 0,
                     alpha: float = 0.999) -> pd.DataFrame:
    """One row per family, sorted by AIC (families that could not be fitted last).

    Parameters
    ----------
    fits : mapping of family -> SeverityFit or str
        :func:`fit_all` output (a string is the reason a family could not be fitted).
    losses : array_like
        The losses the fits were made on.
    n_boot, seed : int
        Bootstrap size and seed of the p-values (:func:`gof_test`).
    alpha : float
        Level of the single-loss quantile ``q_single`` (a fraction).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TABLE_COLUMNS`: the fit's ``status``, ``finite_mean`` and
        ``tail_index``, parameters, log-likelihood, AIC, BIC, KS/AD/AD-up with bootstrap
        p-values, the bootstrap samples used and failed (``boot_used``, ``boot_failed``;
        p-values are NaN when fewer than :data:`MIN_USABLE_SHARE` refitted), the fitted
        conditional ``alpha`` single-loss quantile (``q_single``, KRW) and ``warnings``
        (every sentence, in full; for a family that could not be fitted, the reason).

    Notes
    -----
    The bootstrap is run only for "ok" fits: the others cannot be chosen and their p-values
    would describe a model that is not what the data identify (p-values NaN, said in
    ``warnings``). A degenerate fit, or one with a non-finite parameter (:func:`evaluable`),
    is never evaluated: its row says so, and its statistics and ``q_single`` are NaN.
    """
    alpha = check_level(alpha)
    rows = []
    for name, fit in fits.items():
        fam = get_family(name)
        row = {"family": name, "label": fam.label, "label_ko": fam.label_ko}
        if isinstance(fit, str):
            rows.append({**row, "status": "not fitted", "limit": "", "warnings": fit})
            continue
        row.update(status=fit.status, limit=fit.limit, finite_mean=fit.finite_mean,
                   tail_index=fit.tail_index, params=_fmt_params(fit), n=fit.n,
                   k=fit.n_params, loglik=fit.loglik, aic=fit.aic, bic=fit.bic)
        rows.append({**row, **_evaluation(fit, losses, n_boot, seed, alpha)})
    df = pd.DataFrame(rows).reindex(columns=list(TABLE_COLUMNS))
    df = df.sort_values("aic", na_position="last", kind="stable").reset_index(drop=True)
    df.attrs["alpha"] = alpha
    return df


def _evaluation(fit: SeverityFit, losses, n_boot: int, seed, alpha: float) -> dict:
    """The goodness-of-fit and quantile columns of one fit's row, and its warnings."""
    notes = list(fit.warnings)
    if not evaluable(fit):
        what = ("degenerate" if fit.status == "degenerate"
                else f"{fit.status} with a non-finite parameter")
        notes.append(f"Not evaluated: the fit is {what} ({_fmt_params(fit)}); no statistics, "
                     "p-values or quantiles.")
        return {"boot_used": 0, "boot_failed": 0, "q_single": np.nan,
                "warnings": " ".join(notes)}
    g = gof_test(fit, losses, n_boot=n_boot if fit.ok else 0, seed=seed)
    if g.note:
        notes.append(g.note)
    if not fit.ok and n_boot > 0:
        notes.append(f"No bootstrap p-values: the fit is {fit.status}.")
    return {"ks": g.ks, "p_ks": g.p_ks, "ad": g.ad, "p_ad": g.p_ad, "adup": g.adup,
            "p_adup": g.p_adup, "boot_used": g.n_boot, "boot_failed": g.n_failed,
            "q_single": fit.single_loss_quantile(alpha), "warnings": " ".join(notes)}


def _fmt_params(fit: SeverityFit) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())


def _positions(n: int) -> np.ndarray:
    return (np.arange(1, n + 1) - 0.5) / n


def qq_data(fit: SeverityFit, losses) -> tuple[np.ndarray, np.ndarray]:
    """(fitted conditional quantiles at (i − ½)/n, sorted losses) for a QQ plot above H."""
    x = np.sort(np.asarray(losses, dtype=float))
    return np.asarray(fit.ppf_conditional(_positions(x.size))), x


def pp_data(fit: SeverityFit, losses) -> tuple[np.ndarray, np.ndarray]:
    """(plotting positions (i − ½)/n, fitted conditional cdf of sorted losses) for a PP plot."""
    x = np.sort(np.asarray(losses, dtype=float))
    return _positions(x.size), np.asarray(fit.cdf_conditional(x))
