"""Left-truncated maximum-likelihood fitting of severity families.

Losses are recorded only above a collection threshold ``H``; the likelihood of the recorded
losses is ``Σ log f(x) − n log S(H)`` (``H = 0``: no truncation). :func:`fit_severity`
maximises it in an unconstrained parameterisation (logs of positive parameters) from several
starting points at once, on data divided by their median (scale families), and returns a
:class:`SeverityFit` that remembers its threshold, so simulation draws from the same
conditional model. Standard errors come from the observed information (numerical Hessian),
mapped to the natural parameters by the delta method.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import optimize

from opwb.data.errors import DataError
from opwb.fitting._optimize import BatchResult, minimize_batch
from opwb.fitting.families import SeverityFamily, get_family

__all__ = ["SeverityFit", "fit_severity", "truncated_loglik", "check_losses", "batch_negloglik",
           "fit_batch"]


@dataclass(frozen=True)
class SeverityFit:
    """A fitted severity: untruncated family parameters plus the threshold they were fitted at.

    ``pdf, logpdf, cdf, sf, logsf, ppf, isf`` are those of the *untruncated* distribution
    ``.dist``; the ``*_conditional`` methods describe losses given that they exceed
    ``threshold`` (what the data and a simulation above the threshold contain).
    """

    family: str
    params: dict[str, float]
    threshold: float = 0.0
    se: dict[str, float] = field(default_factory=dict)
    loglik: float = float("nan")
    aic: float = float("nan")
    bic: float = float("nan")
    n: int = 0
    cov: tuple[tuple[float, ...], ...] = ()
    at_edge: tuple[str, ...] = ()   # parameters held at the edge of the parameter space
    note: str = ""

    @cached_property
    def dist(self):
        """The untruncated distribution (frozen scipy distribution or RawSeverity)."""
        return get_family(self.family).dist(**self.params)

    # untruncated vocabulary (delegation)
    def pdf(self, x):
        return self.dist.pdf(x)

    def logpdf(self, x):
        return self.dist.logpdf(x)

    def cdf(self, x):
        return self.dist.cdf(x)

    def sf(self, x):
        return self.dist.sf(x)

    def logsf(self, x):
        return self.dist.logsf(x)

    def ppf(self, q):
        return self.dist.ppf(q)

    def isf(self, q):
        return self.dist.isf(q)

    @property
    def n_params(self) -> int:
        return len(self.params)

    @cached_property
    def sf_threshold(self) -> float:
        """S(H): the fitted probability that a loss exceeds the threshold (1 when H = 0)."""
        return float(self.dist.sf(self.threshold)) if self.threshold > 0 else 1.0

    def sf_conditional(self, x):
        """P(X > x | X > H)."""
        x = np.asarray(x, dtype=float)
        return np.where(x <= self.threshold, 1.0, self.dist.sf(x) / self.sf_threshold)

    def cdf_conditional(self, x):
        """P(X ≤ x | X > H)."""
        return 1.0 - self.sf_conditional(x)

    def ppf_conditional(self, q):
        """Quantile of the conditional distribution above the threshold."""
        q = np.asarray(q, dtype=float)
        return self.dist.isf((1.0 - q) * self.sf_threshold)

    def rvs_conditional(self, size, rng=None):
        """Draw losses above the threshold by inverse transform (``rng``: seed or Generator)."""
        rng = np.random.default_rng(rng)
        return self.dist.isf(rng.random(size) * self.sf_threshold)

    def single_loss_quantile(self, alpha: float = 0.999) -> float:
        """The conditional ``alpha`` quantile of one loss above the threshold (1-in-1000)."""
        return float(self.ppf_conditional(alpha))

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN → None)."""
        def clean(v):
            return None if isinstance(v, float) and not np.isfinite(v) else v
        return {"kind": "severity_fit", "family": self.family,
                "params": {k: clean(float(v)) for k, v in self.params.items()},
                "threshold": float(self.threshold),
                "se": {k: clean(float(v)) for k, v in self.se.items()},
                "loglik": clean(float(self.loglik)), "aic": clean(float(self.aic)),
                "bic": clean(float(self.bic)), "n": int(self.n),
                "cov": [[clean(float(v)) for v in row] for row in self.cov],
                "at_edge": list(self.at_edge), "note": self.note}

    @classmethod
    def from_dict(cls, d: Mapping) -> "SeverityFit":
        """Inverse of :meth:`to_dict` (parameters are validated against the family)."""
        def num(v):
            return float("nan") if v is None else float(v)
        fam = get_family(d["family"])
        params = fam.check_params({k: num(v) for k, v in d["params"].items()})
        return cls(family=fam.name, params=params, threshold=float(d.get("threshold", 0.0)),
                   se={k: num(v) for k, v in d.get("se", {}).items()},
                   loglik=num(d.get("loglik")), aic=num(d.get("aic")), bic=num(d.get("bic")),
                   n=int(d.get("n", 0)),
                   cov=tuple(tuple(num(v) for v in row) for row in d.get("cov", ())),
                   at_edge=tuple(d.get("at_edge", ())), note=str(d.get("note", "")))

    def save(self, path) -> Path:
        """Write the fit as indented JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> "SeverityFit":
        """Read a fit written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- validation
def check_losses(losses, threshold: float, family: SeverityFamily) -> np.ndarray:
    """Validate losses for a fit and return them as a float array (clear errors)."""
    if not np.isscalar(threshold) or not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"threshold must be a finite number >= 0 (0 = no truncation), "
                         f"got {threshold!r}")
    try:
        x = np.asarray(losses, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataError("losses must be numbers (an array of loss amounts)") from None
    bad = np.nonzero(~np.isfinite(x) | (x <= 0))[0]
    if bad.size:
        raise DataError(f"losses must be positive and finite: {bad.size} value(s) are not, "
                        f"first at position {bad[0]} ({x[bad[0]]!r})")
    low = np.nonzero(x <= threshold)[0]
    if low.size:
        raise DataError(f"{low.size} loss(es) at or below the threshold {threshold:,.0f} "
                        f"(first at position {low[0]}: {x[low[0]]:,.0f}); a left-truncated fit "
                        f"needs every loss above the threshold")
    if x.size <= family.n_params:
        raise DataError(f"family '{family.name}' has {family.n_params} parameters but only "
                        f"{x.size} loss(es) were given; need more points than parameters")
    if x.min() <= family.min_support:
        raise DataError(f"family '{family.name}' is supported on x > {family.min_support:g}; "
                        f"smallest loss is {x.min()!r}")
    return x


# --------------------------------------------------------------------------- likelihood
def batch_negloglik(family: SeverityFamily, y: np.ndarray, h) -> callable:
    """Objective for :func:`minimize_batch`: negative truncated log-likelihood per data row.

    ``y`` has shape (m, n) (one sample per row), ``h`` the threshold on the same scale
    (scalar or shape (m,)); ``h = 0`` means no truncation term.
    """
    y = np.atleast_2d(y)
    n = y.shape[1]
    h = np.broadcast_to(np.asarray(h, dtype=float), (y.shape[0],))

    cache = np.full(y.shape, np.nan) if family.warm_logpdf is not None else None

    def fun(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):             # infeasible points give inf, not warnings
            return _fun(theta, rows)

    def _fun(theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        params = family.to_natural(theta)           # each (r, P)
        args = (y[rows][:, None, :], *(p[..., None] for p in params))
        if cache is None:
            ll = family.raw_logpdf(*args).sum(-1)
        else:                                       # warm start from the last centre point
            z0 = cache[rows][:, None, :]
            lp, z = family.warm_logpdf(*args, None if np.isnan(z0).any() else z0)
            cache[rows] = z[:, 0, :]
            ll = lp.sum(-1)
        hr = h[rows][:, None]
        trunc = np.where(hr > 0, family.raw_logsf(np.where(hr > 0, hr, 1.0), *params), 0.0)
        out = -(ll - n * trunc)
        return np.where(np.isnan(out), np.inf, out)
    return fun


def fit_batch(family: SeverityFamily, y: np.ndarray, h, theta0: np.ndarray,
              **kw) -> BatchResult:
    """Fit every row of ``y`` (scaled data) from ``theta0`` (shape (m, k)) in one batch."""
    return minimize_batch(batch_negloglik(family, y, h), theta0, **kw)


def _multistart(family: SeverityFamily, y: np.ndarray, h: float) -> tuple[BatchResult, int]:
    starts = np.atleast_2d(family.starts(y, h))
    f0 = batch_negloglik(family, np.broadcast_to(y, (starts.shape[0], y.size)), h)(
        starts[:, None, :], np.arange(starts.shape[0]))[:, 0]
    if np.isfinite(f0).any():
        starts = starts[np.argsort(f0)[:min(4, int(np.isfinite(f0).sum()))]]
    m = starts.shape[0]
    res = fit_batch(family, np.broadcast_to(y, (m, y.size)), h, starts)
    score = np.where(res.converged, res.fun, np.inf)
    if np.isfinite(score).any():
        return res, int(np.argmin(score))
    finite = np.isfinite(res.fun)
    x0 = res.theta[int(np.argmin(np.where(finite, res.fun, np.inf)))] if finite.any() \
        else starts[0]
    # polish with a finer difference step (a support edge near the data spoils step 1e-3)
    fine = fit_batch(family, y[None, :], h, x0[None, :], step=1e-5)
    if fine.converged[0] or not finite.any():
        return fine, 0
    # fall back: Nelder–Mead from the best point, then polish with Newton
    fun = batch_negloglik(family, y[None, :], h)
    nm = optimize.minimize(lambda t: float(fun(t[None, None, :], np.zeros(1, int))[0, 0]),
                           x0, method="Nelder-Mead",
                           options={"maxiter": 2000, "xatol": 1e-8, "fatol": 1e-10})
    res = fit_batch(family, y[None, :], h, nm.x[None, :])
    return res, 0


BOUNDARY_LOG = 12.0
"""A log-parameter beyond ±12 on data scaled to median 1 (a factor e¹² ≈ 1.6e5) means the
optimiser is running to the edge of the parameter space, not sitting at an interior maximum."""


def _edge(fam: SeverityFamily, theta: np.ndarray, start: np.ndarray | None = None) -> list[str]:
    out = []
    for i, (p, tr) in enumerate(zip(fam.param_names, fam.transform)):
        if tr != "log":
            continue
        far = abs(theta[i]) > BOUNDARY_LOG or (start is not None and abs(theta[i] - start[i]) > 7)
        if far:
            out.append(f"{p} → {'∞' if theta[i] > (0 if start is None else start[i]) else '0'}")
    return out


def _why_not(fam: SeverityFamily, res: BatchResult, best: int, start: np.ndarray) -> str:
    """Explain a failed fit: parameters running to a boundary, else the optimiser's reason."""
    drift = _edge(fam, res.theta[best], start)
    if drift:
        return (f"{', '.join(drift)}: the likelihood keeps increasing towards the edge of the "
                f"parameter space (no interior maximum; this family cannot follow the data's "
                f"tail)")
    return str(res.reason[best])


def fit_severity(losses, family: str | SeverityFamily, threshold: float = 0.0) -> SeverityFit:
    """Fit a severity family to losses above a collection threshold by left-truncated MLE.

    Parameters
    ----------
    losses : array_like
        Loss amounts, every one above ``threshold``.
    family : str or SeverityFamily
        A key of :data:`opwb.fitting.families.SEVERITY_FAMILIES` (e.g. ``"lognormal"``).
    threshold : float, default 0
        Collection threshold ``H``; 0 fits the untruncated likelihood.

    Returns
    -------
    SeverityFit

    Raises
    ------
    DataError
        Non-positive or non-finite losses, losses at or below the threshold, fewer losses
        than parameters, losses outside the family's support.
    ValueError
        Unknown family, bad threshold, or an optimiser that did not converge.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(1).lognormal(10.0, 2.0, 4000)
    >>> fit = fit_severity(x[x > 2e4], "lognormal", threshold=2e4)
    >>> bool(abs(fit.params["mu"] - 10.0) < 3 * fit.se["mu"])
    True
    """
    fam = get_family(family)
    x = check_losses(losses, threshold, fam)
    c = float(np.median(x)) if fam.scalable else 1.0
    y, h = x / c, threshold / c
    res, best = _multistart(fam, y, h)
    theta, hess, fixed = res.theta[best], res.hess[best], ()
    edge = [i for i, tr in enumerate(fam.transform)
            if tr == "log" and abs(theta[i]) > BOUNDARY_LOG]
    if len(edge) == 1 and np.isfinite(res.fun[best]):
        # one parameter runs to its limit (e.g. a GPD/Lomax scale → 0: a pure Pareto tail
        # above H): hold it at the edge and maximise over the others
        theta, hess, ok = _fit_at_edge(fam, y, h, theta, edge[0])
        fixed = (fam.param_names[edge[0]],) if ok else ()
    if not fixed and (not res.converged[best] or edge):
        why = _why_not(fam, res, best, np.atleast_2d(fam.starts(y, h))[0])
        raise ValueError(f"fit of family '{fam.name}' did not converge "
                         f"(n={x.size}, threshold={threshold:,.0f}): {why}")
    params = fam.rescale(dict(zip(fam.param_names, (float(v) for v in fam.to_natural(theta)))),
                         c)
    cov = _natural_cov(fam, params, hess, c)
    se = {p: float(np.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan")
          for i, p in enumerate(fam.param_names)}
    k, n = fam.n_params, x.size
    loglik = -float(batch_negloglik(fam, y[None, :], h)(theta[None, None, :], np.zeros(1, int))[
        0, 0]) - n * np.log(c)
    note = "" if not fixed else (
        f"{fixed[0]} held at the edge of the parameter space ({fixed[0]} → "
        f"{'∞' if theta[fam.param_names.index(fixed[0])] > 0 else '0'}): the likelihood has no "
        f"interior maximum; the fit is (close to) the limiting distribution")
    return SeverityFit(family=fam.name, params=params, threshold=float(threshold), se=se,
                       loglik=loglik, aic=2 * k - 2 * loglik, bic=k * np.log(n) - 2 * loglik,
                       n=n, cov=tuple(tuple(float(v) for v in row) for row in cov),
                       at_edge=fixed, note=note)


def _fit_at_edge(fam: SeverityFamily, y: np.ndarray, h: float, theta: np.ndarray,
                 i: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """Maximise with θ_i held at ±BOUNDARY_LOG; the Hessian gets NaN in row/column i."""
    edge_val = np.sign(theta[i]) * BOUNDARY_LOG
    full = batch_negloglik(fam, y[None, :], h)

    def fun(th, rows):
        return full(np.insert(th, i, edge_val, axis=-1), np.zeros(rows.size, dtype=int))
    res = minimize_batch(fun, np.delete(theta, i)[None, :])
    out = np.insert(res.theta[0], i, edge_val)
    k = theta.size
    hess = np.full((k, k), np.nan)
    free = [j for j in range(k) if j != i]
    hess[np.ix_(free, free)] = res.hess[0]
    others = np.where(np.arange(k) == i, 0.0, out)       # no second parameter may run off
    ok = bool(res.converged[0]) and not _edge(fam, others)
    return out, hess, ok


def truncated_loglik(losses, family: str | SeverityFamily, params: Mapping[str, float],
                     threshold: float = 0.0) -> float:
    """Σ log f(x) − n log S(H) for given natural parameters (H = 0: no truncation term)."""
    fam = get_family(family)
    x = check_losses(losses, threshold, fam)
    p = fam.check_params(params)
    args = tuple(p[n] for n in fam.param_names)
    with np.errstate(all="ignore"):
        ll = float(np.sum(fam.raw_logpdf(x, *args)))
        if threshold > 0:
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
