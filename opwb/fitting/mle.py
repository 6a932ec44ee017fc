"""Left-truncated maximum-likelihood fitting of severity families.

Losses are recorded only at or above a collection threshold ``H`` (the convention of
:data:`opwb.data.schema.COLLECTION_THRESHOLD`); the likelihood of the recorded losses is
``Σ log f(x) − n log S(H)`` (``H = 0``: no truncation; for a shifted family, ``Σ log f(x − H)``).
:func:`fit_severity` maximises it in an unconstrained parameterisation (logs of positive
parameters) from several starting points at once, on data divided by their median (scale
families), compares the maximum with the family's limits (:mod:`opwb.fitting.identification`)
and returns a :class:`~opwb.fitting.result.SeverityFit` that says how far to trust it.
The g-and-h, whose likelihood has several maxima, an h = 0 edge and an unbounded ridge,
has its own search (:mod:`opwb.fitting.gandh_fit`: quantile-matching starts, a check
against the profile likelihood in h, a summary of large cells).
Standard errors come from the observed information (numerical Hessian), mapped to the
natural parameters by the delta method, and are given only where the data identify the
parameters.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize

from opwb.data.errors import DataError
from opwb.fitting._optimize import BatchResult, minimize_batch
from opwb.fitting.families import SeverityFamily, get_family
from opwb.fitting.gandh_fit import search_gandh
from opwb.fitting.identification import FLAT, GANDH_EDGE, Limit, assess, family_limits
from opwb.fitting.result import SeverityFit

__all__ = ["SeverityFit", "fit_severity", "truncated_loglik", "check_losses", "batch_negloglik",
           "fit_batch", "scaled_data"]


# --------------------------------------------------------------------------- validation
def positive_amounts(values, what: str, hint: str) -> np.ndarray:
    """``values`` as a flat float array of positive, finite amounts (KRW).

    Raises
    ------
    opwb.DataError
        Not numbers (``"{what} must be numbers ({hint})"``), or a value not positive and
        finite (the count and the first position)."""
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numbers ({hint})") from None
    bad = np.nonzero(~np.isfinite(x) | (x <= 0))[0]
    if bad.size:
        raise DataError(f"{what} must be positive and finite: {bad.size} value(s) are not, "
                        f"first at position {bad[0]} ({x[bad[0]]!r})")
    return x


def at_or_above(x: np.ndarray, level: float, noun: str, where: str, advice: str) -> None:
    """Raise :class:`opwb.DataError` when an amount of ``x`` lies below ``level``: the count
    of ``noun`` (with "(es)"), ``where`` the level is, the first position and ``advice``."""
    low = np.nonzero(x < level)[0]
    if low.size:
        raise DataError(f"{low.size} {noun}(es) below {where} (first at position {low[0]}: "
                        f"{x[low[0]]:,.0f}); {advice}")


def check_losses(losses, threshold: float, family: SeverityFamily) -> np.ndarray:
    """Validate losses for a fit and return them as a float array (clear errors).

    Every loss must be at or above ``threshold`` (the collection convention); for a shifted
    family strictly above it, since its density at the threshold is 0.
    """
    if not np.isscalar(threshold) or not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite number >= 0 (0 = no truncation), "
                         f"got {threshold!r}")
    x = positive_amounts(losses, "losses", "an array of loss amounts")
    at_or_above(x, threshold, "loss", f"the threshold {threshold:,.0f}",
                "a left-truncated fit needs every loss at or above the threshold")
    if family.shifted and threshold > 0 and np.any(x == threshold):
        at = int(np.count_nonzero(x == threshold))
        raise DataError(f"{at} loss(es) equal the threshold {threshold:,.0f}: the family "
                        f"'{family.name}' models the excess over the threshold, whose density "
                        f"at 0 is 0, so it cannot describe them")
    if x.size <= family.n_params:
        raise DataError(f"family '{family.name}' has {family.n_params} parameters but only "
                        f"{x.size} loss(es) were given; need more points than parameters")
    if x.min() <= family.min_support:
        raise DataError(f"family '{family.name}' is supported on x > {family.min_support:g}; "
                        f"smallest loss is {x.min()!r}")
    return x


@dataclass(frozen=True)
class ScaledData:
    """The data as the optimiser sees them: ``y = (x − shift) / c`` above ``h``."""

    y: np.ndarray
    h: float
    c: float
    shift: float

    def raw_loglik(self, scaled_loglik: float) -> float:
        """Log-likelihood of the raw losses from that of the scaled data (Jacobian 1/c)."""
        return scaled_loglik - self.y.size * math.log(self.c)


def scaled_data(family: SeverityFamily, x: np.ndarray, threshold: float) -> ScaledData:
    """Shift (shifted families) and scale (by the median, scale families) the losses."""
    shift = float(threshold) if family.shifted else 0.0
    base = x - shift
    c = float(np.median(base)) if family.scalable else 1.0
    return ScaledData(base / c, (float(threshold) - shift) / c, c, shift)


# --------------------------------------------------------------------------- likelihood
def batch_negloglik(family: SeverityFamily, y: np.ndarray, h) -> callable:
    """Objective for :func:`minimize_batch`: negative truncated log-likelihood per data row.

    ``y`` has shape (m, n) (one sample per row), ``h`` the threshold on the same scale
    (scalar or shape (m,)); ``h = 0`` means no truncation term.
    """
    y = np.atleast_2d(y)
    n = y.shape[1]
    h = np.broadcast_to(np.asarray(h, dtype=float), (y.shape[0],))

    def fun(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):             # infeasible points give inf, not warnings
            return _fun(theta, rows)

    def _fun(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        params = family.to_natural(theta)           # each (r, P)
        args = (y[rows][:, None, :], *(p[..., None] for p in params))
        ll = family.raw_logpdf(*args).sum(-1)
        hr = h[rows][:, None]
        trunc = np.where(hr > 0, family.raw_logsf(np.where(hr > 0, hr, 1.0), *params), 0.0)
        out = -(ll - n * trunc)
        return np.where(np.isnan(out), np.inf, out)
    return fun


def fit_batch(family: SeverityFamily, y: np.ndarray, h, theta0: np.ndarray,
              **kw) -> BatchResult:
    """Fit every row of ``y`` (scaled data) from ``theta0`` (shape (m, k)) in one batch."""
    return minimize_batch(batch_negloglik(family, y, h), theta0, **kw)


@dataclass(frozen=True)
class _Max:
    """The best point of a search: θ, Hessian, whether Newton converged there, −log-lik
    (scaled data) and, when it did not converge, the optimiser's reason."""

    theta: np.ndarray
    hess: np.ndarray
    converged: bool
    fun: float
    reason: str


def _nelder_mead(fun, theta: np.ndarray) -> np.ndarray:
    """Two Nelder–Mead passes (a restart escapes a collapsed simplex) from ``theta``."""
    for _ in range(2):
        theta = optimize.minimize(fun, theta, method="Nelder-Mead", options={
            "maxfev": 300 * theta.size, "xatol": 1e-9, "fatol": 1e-11}).x
    return theta


def _newton(objective, theta: np.ndarray) -> BatchResult:
    """Newton from one point; where a sharp maximum defeats difference steps of 1e-3 (a
    support edge close to the data), again with steps of 1e-5 and 1e-6."""
    res = minimize_batch(objective, theta[None, :])
    for step in (1e-5, 1e-6):
        if res.converged[0]:
            break
        fine = minimize_batch(objective, res.theta, step=step)
        if fine.converged[0] or fine.fun[0] < res.fun[0]:
            res = fine
    return res


def _search(objective, starts: np.ndarray, polish: int = 2) -> _Max:
    """Maximise from every start: batched damped Newton, then Nelder–Mead from the ``polish``
    best end points, then Newton again for the information matrix (scipy.optimize for the
    single-problem polish, where batching buys nothing)."""
    m = starts.shape[0]
    res = minimize_batch(objective, starts)
    single = lambda t: float(objective(np.asarray(t)[None, None, :], np.zeros(1, int))[0, 0])  # noqa: E731
    order = [i for i in np.argsort(np.where(np.isfinite(res.fun), res.fun, np.inf))
             if np.isfinite(res.fun[i])][:polish]
    cand = [_Max(res.theta[i], res.hess[i], bool(res.converged[i]), float(res.fun[i]),
                 str(res.reason[i])) for i in range(m) if np.isfinite(res.fun[i])]
    for i in order:
        theta = _nelder_mead(single, res.theta[i])
        again = _newton(objective, theta)
        cand.append(_Max(again.theta[0], again.hess[0], bool(again.converged[0]),
                         float(again.fun[0]), str(again.reason[0])))
    if not cand:
        return _Max(starts[0], np.full((starts.shape[1],) * 2, np.nan), False, np.inf,
                    str(res.reason[0]))
    conv = [c for c in cand if c.converged]
    best = min(cand, key=lambda c: c.fun)
    if conv and min(c.fun for c in conv) <= best.fun + 1e-9:
        return min(conv, key=lambda c: c.fun)
    return best


def _objective(family: SeverityFamily, d: ScaledData):
    """−log-likelihood of the one data set, for any number of parameter rows at once."""
    full = batch_negloglik(family, d.y[None, :], d.h)
    return lambda theta, rows: full(theta, np.zeros(len(rows), dtype=int))


def _fit_free(family: SeverityFamily, d: ScaledData) -> _Max:
    """The best maximum of the likelihood over all parameters (g-and-h: its own search)."""
    if family.name == "gandh":
        return _gandh_maxima(d)[0]
    return _search(_objective(family, d), np.atleast_2d(family.starts(d.y, d.h)))


def _gandh_maxima(d: ScaledData) -> tuple[_Max, _Max, tuple]:
    """The g-and-h maxima over all parameters and at h = 0 (θ with h = 0 inserted; NaN in
    the Hessian's h row and column), and the other local maxima, from one
    :func:`opwb.fitting.gandh_fit.search_gandh`."""
    r = search_gandh(d.y, d.h)
    e = r.edge
    hess = np.full((4, 4), np.nan)
    hess[:3, :3] = e.hess
    return (_Max(r.free.theta, r.free.hess, r.free.converged, r.free.fun, r.free.reason),
            _Max(np.r_[e.theta, 0.0], hess, e.converged, e.fun, e.reason), r.others)


def _rival_note(free: _Max, others: tuple) -> tuple[str, ...]:
    """A sentence when another local maximum with a different tail is within FLAT."""
    near = [o for o in others if o.fun - free.fun < FLAT]
    if not near:
        return ()
    o = near[0]
    return (f"A second maximum of the g-and-h likelihood, {o.fun - free.fun:.2f} below this "
            f"one, has h = {o.theta[3] ** 2:.2f} (here {free.theta[3] ** 2:.2f}): the data do "
            f"not tell these tails apart (less than {FLAT:.2f}, the 95% likelihood-ratio "
            f"bound), and the standard errors describe this maximum only.",)


def _fit_held(family: SeverityFamily, d: ScaledData, theta: np.ndarray, i: int,
              value: float) -> _Max:
    """The best maximum with θ_i held at ``value`` (the Hessian has NaN in row/column i)."""
    full = _objective(family, d)

    def fun(th, rows):
        return full(np.insert(th, i, value, axis=-1), rows)
    r = _search(fun, np.delete(np.atleast_2d(theta), i, axis=1))
    k = r.theta.size + 1
    hess = np.full((k, k), np.nan)
    free = [j for j in range(k) if j != i]
    hess[np.ix_(free, free)] = r.hess
    return _Max(np.insert(r.theta, i, value), hess, r.converged, r.fun, r.reason)


def fit_severity(losses, family: str | SeverityFamily, threshold: float = 0.0) -> SeverityFit:
    """Fit a severity family to losses above a collection threshold by left-truncated MLE.

    Parameters
    ----------
    losses : array_like
        Loss amounts (KRW), every one at or above ``threshold``.
    family : str or SeverityFamily
        A key of :data:`opwb.fitting.families.SEVERITY_FAMILIES` (e.g. ``"lognormal"``).
    threshold : float, default 0
        Collection threshold ``H`` (KRW); 0 fits the untruncated likelihood.

    Returns
    -------
    SeverityFit
        With ``status`` "ok", "edge", "degenerate" or "not converged", ``finite_mean``,
        ``tail_index`` and ``warnings`` (see :mod:`opwb.fitting.identification`). Only an
        "ok" fit carries standard errors for every parameter.

    Raises
    ------
    DataError
        Non-positive or non-finite losses, losses below the threshold, fewer losses than
        parameters, losses outside the family's support.
    ValueError
        Unknown family or bad threshold.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).lognormal(10.0, 2.0, 4000)
    >>> fit = fit_severity(x[x > 2e4], "lognormal", threshold=2e4)
    >>> fit.status, bool(abs(fit.params["mu"] - 10.0) < 3 * fit.se["mu"])
    ('ok', True)
    >>> pareto = 1e7 * np.random.default_rng(7).random(70) ** (-1 / 0.9)
    >>> fit_severity(pareto, "lognormal", threshold=1e7).status   # its Pareto limit
    'degenerate'
    """
    fam = get_family(family)
    x = check_losses(losses, threshold, fam)
    d = scaled_data(fam, x, threshold)
    held: dict[str, _Max] = {}
    rivals: tuple = ()
    if fam.name == "gandh":          # one search gives the free maximum and the h = 0 edge
        free, held[GANDH_EDGE], rivals = _gandh_maxima(d)
    else:
        free = _fit_free(fam, d)
    interior = d.raw_loglik(-free.fun) if free.converged else None

    def hold(lim: Limit) -> _Max:
        if lim.name not in held:
            i = fam.param_names.index(lim.hold[0])
            starts = np.vstack([free.theta, np.atleast_2d(fam.starts(d.y, d.h))])
            held[lim.name] = _fit_held(fam, d, starts, i, lim.hold[1])
        return held[lim.name]

    def sup_of(name: str) -> tuple[float, float]:
        # the best proper member of another family (its own limits are not reachable
        # through this family's limit, or are listed among this family's limits)
        other = get_family(name)
        d2 = scaled_data(other, x, threshold)
        r = _fit_free(other, d2)
        if not np.isfinite(r.fun):
            return -math.inf, 0.0
        params = other.rescale(dict(zip(other.param_names, map(float, other.to_natural(r.theta)))),
                               d2.c)
        return d2.raw_loglik(-r.fun), other.tail_index(params)

    def edge_loglik(lim: Limit) -> float:
        r = hold(lim)
        return d.raw_loglik(-r.fun) if r.converged else -math.inf

    limits = family_limits(fam.name, x, float(threshold), sup_of)
    a = assess(fam.label, interior, free.reason, limits, edge_loglik)
    if a.use == "edge":
        r, at_edge = hold(a.limit), (a.limit.hold[0],)
    else:
        r, at_edge = free, ()
    hess = r.hess if a.use != "best" else np.full(r.hess.shape, np.nan)
    theta = r.theta
    if a.use == "best" and a.limit is not None and a.limit.point is not None:
        # a member far along the ridge the likelihood runs to, not an unrelated interior point
        theta = fam.to_theta(fam.rescale(dict(a.limit.point), 1.0 / d.c))
    fit = _result(fam, x, float(threshold), d, theta, hess, at_edge, a)
    if a.status == "ok" and rivals:
        fit = replace(fit, warnings=fit.warnings + _rival_note(free, rivals))
    return fit


def _result(fam: SeverityFamily, x: np.ndarray, threshold: float, d: ScaledData,
            theta: np.ndarray,
            hess: np.ndarray, at_edge: tuple[str, ...], a) -> SeverityFit:
    params = fam.rescale(dict(zip(fam.param_names, (float(v) for v in fam.to_natural(theta)))),
                         d.c)
    if a.status not in ("ok", "edge"):
        hess = np.full(hess.shape, np.nan)   # not identified: no standard errors
    cov = _natural_cov(fam, params, hess, d.c)
    se = {p: float(np.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan")
          for i, p in enumerate(fam.param_names)}
    k, n = fam.n_params, x.size
    tail = fam.tail_index(params) if a.use != "best" or a.limit is None else a.limit.tail_index
    if a.status == "degenerate" and a.limit is not None:
        tail = max(tail, a.limit.tail_index)
    warnings = list(a.warnings)
    finite = tail < 1.0
    if not finite:
        warnings.append(f"The tail index ξ = {tail:.2f} is at least 1: the mean of a loss, "
                        "and so the expected shortfall, do not exist; use such a fit only "
                        "deliberately, with a severity cap.")
    ll = a.loglik
    return SeverityFit(family=fam.name, params=params, threshold=threshold, se=se, loglik=ll, aic=2 * k - 2 * ll,
                       bic=k * np.log(n) - 2 * ll, n=n,
                       cov=tuple(tuple(float(v) for v in row) for row in cov),
                       at_edge=at_edge, status=a.status, finite_mean=bool(finite),
                       tail_index=float(tail), warnings=tuple(warnings),
                       limit=a.limit.name if a.limit is not None else "")


def truncated_loglik(losses, family: str | SeverityFamily, params: Mapping[str, float],
                     threshold: float = 0.0) -> float:
    """Σ log f(x) − n log S(H) for given natural parameters (H = 0: no truncation term).

    For a shifted family ``Σ log f(x − H)``. The log-survival functions are computed in
    logs, so the value stays finite while S(H) is representable in logs.

    Examples
    --------
    >>> import numpy as np
    >>> x = 8e8 + np.random.default_rng(1).exponential(1e6, 10)
    >>> round(truncated_loglik(x, "gamma", {"shape": 1.0, "scale": 1e6}, threshold=8e8), 3)
    -149.037
    """
    fam = get_family(family)
    x = check_losses(losses, threshold, fam)
    p = fam.check_params(params)
    args = tuple(p[n] for n in fam.param_names)
    shift = threshold if fam.shifted else 0.0
    with np.errstate(all="ignore"):
        ll = float(np.sum(fam.raw_logpdf(x - shift, *args)))
        if threshold > 0 and not fam.shifted:
            ll -= x.size * float(fam.raw_logsf(threshold, *args))
    return ll


def _natural_cov(fam: SeverityFamily, params: Mapping[str, float], hess: np.ndarray,
                 c: float) -> np.ndarray:
    """Delta method from the unconstrained θ (scaled data) to natural parameters (raw data)."""
    free = ~np.isnan(np.diag(hess))
    cov_t = np.full(hess.shape, np.nan)
    try:
        cov_t[np.ix_(free, free)] = np.linalg.inv(hess[np.ix_(free, free)])
    except np.linalg.LinAlgError:
        return np.full(hess.shape, np.nan)
    jac = fam.dnatural_dtheta(params)
    jac = np.where([tr == "id" and p in fam.scale_params
                    for p, tr in zip(fam.param_names, fam.transform)], c, jac)
    cov = cov_t * np.outer(jac, jac)
    sub = cov[np.ix_(free, free)]
    if not np.all(np.isfinite(sub)) or np.any(np.diag(sub) < 0):
        return np.full(hess.shape, np.nan)
    return cov
