"""External losses in a cell's severity fit: the weighted two-threshold likelihood.

The rule (Frachot & Roncalli 2002, "Mixing internal and external data for managing
operational risk", Groupe de Recherche Opérationnelle, Crédit Lyonnais; Baud, Frachot &
Roncalli 2002, "Internal data, external data and consortium data for operational risk
measurement: how to pool data properly?", on the bias a pooled fit gets when each source's
reporting threshold is ignored). Internal losses are collected at or above the collection
threshold ``u``; external losses, once scaled to the bank
(:func:`opwb.data.external.scale_external`), are trusted only at or above a high threshold
``H ≥ u``, where a public list or a consortium reports them. Both describe the same
ground-up severity ``f_θ``, each truncated at its own threshold::

    ℓ_w(θ) = Σ_internal log f_θ(x)/S_θ(u)  +  w · Σ_external, x ≥ H  log f_θ(x)/S_θ(H)

(for a shifted family, which models the excess over ``u``, ``log f_θ(x − u)`` and
``S_θ(H − u)``). ``w = 1`` is Frachot & Roncalli's pooled likelihood; ``w ∈ [0, 1)`` counts
each external loss as ``w`` of an internal one — a credibility setting for external data
whose relevance or completeness above ``H`` is in doubt (the bundled public list is a
selection of famous losses, not a complete record); ``w = 0`` is the internal-only fit,
exactly. Truncating the external losses at ``H`` is what keeps them from pulling the body of
the fit: above ``H`` they inform the tail, below it the internal data alone speak. The
external losses inform the severity only; the cell's frequency stays the internal one.

:func:`fit_severity_mixed` maximises ``ℓ_w`` with the optimiser of
:mod:`opwb.fitting.mle` (batched damped Newton from several starts, Nelder–Mead polish by
``scipy.optimize``) and returns a :class:`MixedSeverityFit`: the mixed model as a
:class:`~opwb.fitting.result.SeverityFit` at the collection threshold ``u`` (what simulation
uses), the internal-only fit beside it, the weight, ``H`` and each source's part of the
log-likelihood. Amounts KRW.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from opwb.data.errors import DataError
from opwb.fitting.families import SeverityFamily, get_family
from opwb.fitting.mle import (
    _natural_cov,
    _search,
    at_or_above,
    batch_negloglik,
    check_losses,
    fit_severity,
    positive_amounts,
    scaled_data,
    truncated_loglik,
)
from opwb.fitting.result import SeverityFit

__all__ = ["MixedSeverityFit", "fit_severity_mixed", "mixed_loglik", "external_sample"]


def _check_weight(weight: float) -> float:
    if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
            or not 0.0 <= float(weight) <= 1.0:
        raise ValueError(f"weight must be a number in [0, 1] (0: internal data alone, 1: an "
                         f"external loss counts as an internal one), got {weight!r}")
    return float(weight)


def _check_external(external, threshold: float, external_threshold: float,
                    family: SeverityFamily) -> np.ndarray:
    """The external losses as a float array: positive, finite, at or above ``H ≥ u``."""
    if not np.isscalar(external_threshold) or not np.isfinite(external_threshold) \
            or external_threshold < threshold:
        raise ValueError(f"external_threshold H must be a finite amount at or above the "
                         f"collection threshold {threshold:,.0f} KRW, got {external_threshold!r}")
    e = positive_amounts(external, "external losses", "scaled amounts, KRW")
    at_or_above(e, external_threshold, "external loss", f"H = {external_threshold:,.0f}",
                "select them with external_sample(), which keeps those at or above H")
    if family.shifted and np.any(e <= threshold):
        raise DataError(f"the family '{family.name}' models the excess over the collection "
                        f"threshold {threshold:,.0f}: external losses must exceed it")
    return e


def external_sample(scaled: pd.DataFrame, event_type: str | None,
                    external_threshold: float) -> np.ndarray:
    """The scaled external losses of a cell at or above ``H`` (KRW), largest first.

    Parameters
    ----------
    scaled : pandas.DataFrame
        From :func:`opwb.data.external.scale_external` (column ``amount_scaled``).
    event_type : str or None
        The cell's Basel event-type code; None: every row.
    external_threshold : float
        H (KRW): losses below it are left out (the external data are not complete there).

    Examples
    --------
    >>> import opwb
    >>> from opwb.data.external import load_external_losses, scale_external
    >>> ext = load_external_losses(opwb.data_path("external_losses.csv"))
    >>> s = scale_external(ext, 7e12, 0.23, unsized="drop")
    >>> (external_sample(s, "IF", 1e11) / 1e8).round().tolist()    # 억원
    [25474.0, 25331.0, 11831.0, 7940.0, 2603.0]
    """
    rows = scaled if event_type is None else scaled[scaled["event_type"] == event_type]
    x = rows["amount_scaled"].to_numpy(dtype=float)
    return np.sort(x[x >= external_threshold])[::-1]


def mixed_loglik(internal, external, family: str | SeverityFamily,
                 params: Mapping[str, float], threshold: float, external_threshold: float,
                 weight: float) -> float:
    """ℓ_w(θ) = Σ_int log f(x)/S(u) + w Σ_ext log f(x)/S(H) at natural ``params``.

    Computed from the raw amounts (KRW) by :func:`opwb.fitting.mle.truncated_loglik`, so it
    is the independent check of what :func:`fit_severity_mixed` maximises.

    Examples
    --------
    >>> import numpy as np
    >>> x, e = np.array([2e7, 5e7, 3e8]), np.array([2e9, 3e9, 8e9])
    >>> p = {"mu": 17.0, "sigma": 2.0}
    >>> a = mixed_loglik(x, e, "lognormal", p, 1e7, 1e9, 0.5)
    >>> b = (truncated_loglik(x, "lognormal", p, 1e7)
    ...      + 0.5 * truncated_loglik(e, "lognormal", p, 1e9))
    >>> bool(np.isclose(a, b))
    True
    """
    fam = get_family(family)
    w = _check_weight(weight)
    e = _check_external(external, threshold, external_threshold, fam)
    ll = truncated_loglik(internal, fam, params, threshold)
    if e.size and w > 0:
        ll += w * _ext_loglik(fam, e, params, threshold, external_threshold)
    return float(ll)


def _ext_loglik(fam: SeverityFamily, e: np.ndarray, params: Mapping[str, float],
                threshold: float, external_threshold: float) -> float:
    """Σ log f(x)/S(H) of the external losses (no minimum count, unlike check_losses)."""
    p = fam.check_params(params)
    args = tuple(p[n] for n in fam.param_names)
    shift = threshold if fam.shifted else 0.0
    h = external_threshold - shift
    with np.errstate(all="ignore"):
        ll = float(np.sum(fam.raw_logpdf(e - shift, *args)))
        if h > 0:
            ll -= e.size * float(fam.raw_logsf(h, *args))
    return ll


@dataclass(frozen=True)
class MixedSeverityFit:
    """A cell's severity fitted on internal and scaled external losses (see the module).

    Attributes
    ----------
    fit : SeverityFit
        The mixed model at the collection threshold ``u`` (``fit.threshold``): use it as
        any severity fit (``ppf_conditional``, ``single_loss_quantile``, simulation). Its
        ``loglik`` is ``ℓ_w`` at the optimum, ``aic = 2k − 2ℓ_w`` and
        ``bic = k log(n + w·m) − 2ℓ_w`` (comparable only between fits on the same data and
        weight), ``n`` the number of internal losses; its standard errors are the inverse
        of the observed information of ``ℓ_w`` (the weighted likelihood treated as a
        likelihood), and its ``warnings`` state the weight and ``H``.
    internal : SeverityFit
        The internal-only fit (:func:`opwb.fitting.mle.fit_severity`), for comparison.
    weight : float
        w ∈ [0, 1].
    external_threshold : float
        H (KRW).
    n_internal, n_external : int
        Losses of each source in the fit (external: those at or above H).
    loglik_internal, loglik_external : float
        Σ_int log f/S(u) and the unweighted Σ_ext log f/S(H) at the mixed optimum.
    """

    fit: SeverityFit
    internal: SeverityFit
    weight: float
    external_threshold: float
    n_internal: int
    n_external: int
    loglik_internal: float
    loglik_external: float

    @property
    def loglik(self) -> float:
        """ℓ_w at the optimum: loglik_internal + weight · loglik_external."""
        return self.loglik_internal + self.weight * self.loglik_external

    @property
    def external_share(self) -> float:
        """The external losses' share of the fit's weight: w·m / (n + w·m)."""
        wm = self.weight * self.n_external
        return wm / (self.n_internal + wm)

    def summary(self) -> dict:
        """One row for a table: family, weight, H, counts, status, the 99.9% single-loss
        quantile (KRW) with and without the external losses."""
        def q(f: SeverityFit) -> float:
            return f.single_loss_quantile(0.999) if f.status in ("ok", "edge") else math.nan
        return {"family": self.fit.family, "weight": self.weight,
                "external_threshold": self.external_threshold,
                "n_internal": self.n_internal, "n_external": self.n_external,
                "external_share": self.external_share, "status": self.fit.status,
                "q999_mixed": q(self.fit), "q999_internal": q(self.internal)}


def fit_severity_mixed(internal, external, family: str | SeverityFamily,
                       threshold: float = 0.0, *, external_threshold: float,
                       weight: float) -> MixedSeverityFit:
    """Fit a severity family to internal losses above ``u`` and scaled external losses
    above ``H`` with weight ``w``, by maximising ℓ_w (see the module docstring).

    Parameters
    ----------
    internal : array_like
        The cell's internal losses (KRW), every one at or above ``threshold``.
    external : array_like
        Scaled external losses (KRW), every one at or above ``external_threshold``
        (:func:`external_sample` selects them); may be empty.
    family : str or SeverityFamily
        A key of :data:`opwb.fitting.families.SEVERITY_FAMILIES`, except ``"gandh"``
        (its likelihood needs its own search).
    threshold : float, default 0
        The collection threshold u (KRW).
    external_threshold : float
        H ≥ u (KRW): the level above which the external data are taken as complete.
    weight : float
        w ∈ [0, 1]; 0 returns the internal-only fit exactly.

    Returns
    -------
    MixedSeverityFit

    Raises
    ------
    DataError
        Bad internal losses (as :func:`~opwb.fitting.mle.fit_severity`), external losses
        that are not positive and finite or lie below H.
    ValueError
        A weight outside [0, 1], H below u, the g-and-h family.

    Notes
    -----
    The mixed optimum is searched from the internal-only fit, the family's data-driven
    starts on the internal losses and on the pooled losses; its status is "ok" when the
    search converges to a maximum with a positive definite information matrix, else "not
    converged". It is not compared with the family's limits (degenerate ridges) as
    :func:`~opwb.fitting.mle.fit_severity` does: external losses above H usually pin the
    tail, and the internal-only fit beside it carries that diagnosis.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(3)
    >>> x = rng.lognormal(10.0, 2.0, 20000)
    >>> internal, external = x[x > 2e4][:15], x[x > 1e6]
    >>> m = fit_severity_mixed(internal, external, "lognormal", 2e4,
    ...                        external_threshold=1e6, weight=1.0)
    >>> m.fit.status, m.n_external, bool(abs(m.fit.params["sigma"] - 2) < 3 * m.fit.se["sigma"])
    ('ok', 552, True)
    """
    fam = get_family(family)
    if fam.name == "gandh":
        raise ValueError("the mixed fit does not take the g-and-h family (its likelihood "
                         "needs the search of opwb.fitting.gandh_fit)")
    w = _check_weight(weight)
    x = check_losses(internal, threshold, fam)
    e = _check_external(external, threshold, external_threshold, fam)
    alone = fit_severity(x, fam, threshold)
    H = float(external_threshold)
    if w == 0.0 or e.size == 0:
        ext_ll = _ext_loglik(fam, e, alone.params, threshold, H) if e.size else 0.0
        why = "its weight is 0" if w == 0.0 else f"none lies at or above H = {H:,.0f} KRW"
        fit = replace(alone, warnings=alone.warnings + (
            f"External losses are not used ({why}): this is the internal-only fit.",))
        return MixedSeverityFit(fit, alone, w, H, x.size, e.size, alone.loglik, ext_ll)

    d = scaled_data(fam, x, threshold)
    z, hz = (e - d.shift) / d.c, (H - d.shift) / d.c
    f_int = batch_negloglik(fam, d.y[None, :], d.h)
    f_ext = batch_negloglik(fam, z[None, :], hz)

    def objective(theta, rows):
        one = np.zeros(len(rows), dtype=int)
        return f_int(theta, one) + w * f_ext(theta, one)

    starts = [np.atleast_2d(fam.starts(d.y, d.h)),
              np.atleast_2d(fam.starts(np.concatenate([d.y, z]), d.h))]
    with np.errstate(all="ignore"):
        own = fam.to_theta(fam.rescale(alone.params, 1.0 / d.c))
    if np.all(np.isfinite(own)):
        starts.insert(0, own[None, :])
    best = _search(objective, np.vstack(starts))
    return _mixed_result(fam, x, e, threshold, H, w, d, best, alone)


def _mixed_result(fam: SeverityFamily, x: np.ndarray, e: np.ndarray, threshold: float,
                  H: float, w: float, d, best, alone: SeverityFit) -> MixedSeverityFit:
    params = fam.rescale(dict(zip(fam.param_names,
                                  (float(v) for v in fam.to_natural(best.theta)))), d.c)
    pd_hess = bool(best.converged and np.all(np.isfinite(best.hess))
                   and np.all(np.linalg.eigvalsh(best.hess) > 0))
    status = "ok" if pd_hess else "not converged"
    hess = best.hess if pd_hess else np.full(best.hess.shape, np.nan)
    cov = _natural_cov(fam, params, hess, d.c)
    se = {p: float(np.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan")
          for i, p in enumerate(fam.param_names)}
    ll_int = truncated_loglik(x, fam, params, threshold)
    ll_ext = _ext_loglik(fam, e, params, threshold, H)
    ll = ll_int + w * ll_ext
    k = fam.n_params
    tail = fam.tail_index(params)
    warnings = [f"Fitted with {e.size} scaled external loss(es) at or above H = {H:,.0f} KRW "
                f"at weight w = {w:g} beside {x.size} internal loss(es) above "
                f"{threshold:,.0f} KRW (weighted two-threshold likelihood, Frachot & Roncalli "
                f"2002); loglik, AIC and BIC are those of the weighted likelihood."]
    if status != "ok":
        why = best.reason or "the information matrix is not positive definite"
        warnings.append(f"The weighted likelihood's maximum was not found ({why}): these "
                        "parameters are not an estimate.")
    if tail >= 1.0:
        warnings.append(f"The tail index ξ = {tail:.2f} is at least 1: the mean of a loss, "
                        "and so the expected shortfall, do not exist; use such a fit only "
                        "deliberately, with a severity cap.")
    fit = SeverityFit(family=fam.name, params=params, threshold=float(threshold), se=se,
                      loglik=ll, aic=2 * k - 2 * ll,
                      bic=k * math.log(x.size + w * e.size) - 2 * ll,
                      n=x.size, cov=tuple(tuple(float(v) for v in row) for row in cov),
                      status=status, finite_mean=bool(tail < 1.0), tail_index=float(tail),
                      warnings=tuple(warnings))
    return MixedSeverityFit(fit, alone, w, H, x.size, e.size, ll_int, ll_ext)
