"""The maximum-likelihood search of Tukey's g-and-h (used by :func:`opwb.fitting.fit_severity`).

The g-and-h likelihood has several local maxima (a right-skewed branch g > 0 and a branch
g < 0 that puts the data in the upper half of a heavier-tailed distribution), a boundary at
h = 0 where the square-root parameterisation θ = √h makes every point stationary in θ,
curved ill-conditioned valleys (at h = 0 a shifted lognormal whose lower end nears the
smallest loss), and a ridge g → −∞ along which it never stops growing (see
:mod:`opwb.fitting.gandh_limits`). A search from a few fixed starting points stopped short
of the best maximum (the internal-fraud cell, issue 22), and the inversion of the quantile
function behind every density made a careless search slow (27 minutes for 100,000
losses). The search here has three stages:

1. **Quantile-matching starts.** For a grid of (g, h) and of the probability F(H) below the
   threshold, ``A`` and ``B`` follow by least squares from 19 quantiles of the losses
   (``x_p ≈ A + B k(z_p)``, Hoaglin 1985); the best candidate of each h of the grid, and
   the three best others, start a batched damped Newton search (:func:`minimize_batch`).
2. **A check against the profile likelihood in h.** The likelihood maximised over (A, B, g)
   with h held at each value of :data:`PROFILE_H` (one batched search, from the best free
   point and the best quantile matches of each h). Where the profile rises above the best
   free maximum, that point is polished too; the profile's row at h = 0 gives the edge
   maximum the fit compares with (:class:`GhSearch`).
3. **A polish.** End points where Newton stopped short are polished by Nelder–Mead, then
   Newton (scipy.optimize: one problem, nothing to batch). Above :data:`N_EXACT` losses,
   stages 1–2 run on a summary of the losses (the 50 smallest and 250 largest exactly, the
   body as 700 order statistics, each weighted by the losses it stands for) and a few
   Newton steps of the exact likelihood of every loss finish. Every likelihood is exact,
   evaluated with the fast inversion :func:`opwb.fitting.gandh.gh_zd`.

The tests compare log-likelihoods and quantiles with an independent global search and the
fast path with the careful one (every stage on every loss); coordinates along a flat
direction are never compared.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize, special

from opwb.fitting._optimize import minimize_batch
from opwb.fitting.gandh import B_MIN, Z_MAX, gh_zd

__all__ = ["N_EXACT", "PROFILE_H", "G_MAX", "LOG_B_MIN", "GhMax", "GhSearch", "summary",
           "quantile_starts", "search_gandh"]

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)

N_EXACT = 2000
"""Up to this many losses every stage uses every loss; above, the search stages use a
summary (:func:`summary`) and only the final Newton steps every loss."""

PROFILE_H = (0.0, 0.1, 0.3, 0.6, 1.0, 1.5, 2.2)
"""The values of h at which the profile likelihood is checked."""

G_MAX = 30.0
LOG_B_MIN = -40.0
"""The search stays within |g| ≤ G_MAX and log B ≥ LOG_B_MIN (B relative to the median
loss): further out the g-and-h is one of its limits — g → −∞, or B → 0 with g → ∞ (the
lognormal's Pareto limit inside h = 0), ridges whose supremum
:func:`opwb.fitting.gandh_limits.gandh_ridge` gives — or a distribution whose upper half has
left for +∞ (g → +∞); starts that run off there stop at the bound, unconverged."""

_G_GRID = (-2.0, -1.0, -0.3, 0.3, 1.0, 2.0, 3.0)
_H_GRID = (0.0, 0.05, 0.2, 0.5, 1.0, 1.6)
_FH_GRID = (0.0, 0.3, 0.6, 0.85, 0.95)
_HEAD, _TAIL, _BODY = 50, 250, 700


def _fd_step(n: float) -> float:
    """Difference step of the Newton search for a likelihood of ``n`` losses: 1e−3 up to
    2,000 losses, 1e−4 above, where the truncation error of wider steps (∝ step⁴·n in the
    Newton decrement) would keep the search from ever declaring convergence."""
    return 1e-3 if n <= 2000 else 1e-4


@dataclass(frozen=True)
class GhMax:
    """The best point of a search: θ = (A, log B, g, √h) on the scaled losses (without √h
    when h is held), the finite-difference Hessian of −log L there, whether Newton
    converged, −log L and, if not converged, why."""

    theta: np.ndarray
    hess: np.ndarray
    converged: bool
    fun: float
    reason: str


@dataclass(frozen=True)
class GhSearch:
    """Both maxima a g-and-h fit needs: over all parameters (``free``, θ of 4) and with
    h held at 0 (``edge``, θ = (A, log B, g)); each on the scaled losses, on every loss.
    ``others``: the other converged local maxima found (−log L on every loss, not
    polished there), best first, one per value of h, for a fit to say when one of them is
    nearly as good."""

    free: GhMax
    edge: GhMax
    others: tuple[GhMax, ...] = ()


def summary(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Losses and weights standing for ``y`` in the search stages (every loss up to
    :data:`N_EXACT`; else the extremes exactly and the body as weighted order statistics).

    Examples
    --------
    >>> pts, w = summary(np.arange(1.0, 10001.0))
    >>> pts.size, float(w.sum())
    (1000, 10000.0)
    """
    y = np.sort(np.asarray(y, dtype=float))
    n = y.size
    if n <= N_EXACT:
        return y, np.ones(n)
    body = y[_HEAD:n - _TAIL]
    edges = np.linspace(0, body.size, _BODY + 1).round().astype(int)
    mid = (edges[:-1] + edges[1:]) // 2
    return (np.concatenate([y[:_HEAD], body[mid], y[n - _TAIL:]]),
            np.concatenate([np.ones(_HEAD), np.diff(edges).astype(float), np.ones(_TAIL)]))


def _objective(pts: np.ndarray, w: np.ndarray, h_thr: float, hold_h: float | None):
    """−(Σ w log f(pts) − N log S(H)) for parameter rows θ (shape (r, P, k)); the
    threshold is inverted with the losses, as one more point of each row."""
    total = float(w.sum())
    ext = np.r_[h_thr, pts] if h_thr > 0 else pts
    first = 1 if h_thr > 0 else 0

    def fun(theta: np.ndarray, rows=None) -> np.ndarray:
        theta = np.asarray(theta, dtype=float)
        if hold_h is not None:
            theta = np.insert(theta, 3, np.sqrt(hold_h), axis=-1)
        A, B, g, h = theta[..., 0], np.exp(theta[..., 1]), theta[..., 2], theta[..., 3] ** 2
        with np.errstate(all="ignore"):
            z, d = gh_zd(ext, A[..., None], B[..., None], g[..., None], h[..., None])
            lp = -0.5 * z[..., first:] ** 2 - np.log(d[..., first:]) - _LOG_SQRT_2PI
            lp = np.where(np.abs(z[..., first:]) < Z_MAX, lp, -np.inf)
            ll = (lp * w).sum(-1)
            if first:
                zh = z[..., 0]
                ll = ll - total * np.where(zh >= Z_MAX, -np.inf, special.log_ndtr(-zh))
            inside = (theta[..., 1] >= LOG_B_MIN) & (np.abs(g) <= G_MAX) & (B > B_MIN)
            out = np.where(inside, -ll, np.inf)
        return np.where(np.isnan(out), np.inf, out)
    return fun


def quantile_starts(y: np.ndarray, h_thr: float, hold_h: float | None = None) -> np.ndarray:
    """Candidate θ = (A, log B, g, √h) by least-squares quantile matching over a grid.

    For every g of the grid, h of the grid (or ``hold_h``) and probability F(H) below the
    threshold, the 19 quantiles ``x_p`` (p = 0.05, …, 0.95) of the losses sit at
    ``z_p = Φ⁻¹(F(H) + (1 − F(H)) p)``; ``A`` and ``B`` solve ``x_p ≈ A + B k(z_p)`` with
    ``k(z) = (e^{gz} − 1)/g · e^{hz²/2}``. Candidates with ``B ≤ 0`` are dropped.

    Examples
    --------
    >>> y = np.exp(np.random.default_rng(0).normal(0.0, 1.0, 300))
    >>> quantile_starts(y, 0.0).shape[1], quantile_starts(y, 0.0, hold_h=0.0)[:, 3].max()
    (4, np.float64(0.0))
    """
    p = np.arange(1, 20) / 20.0
    xq = np.quantile(y, p)
    # a free start at √h = 0 could never leave h = 0 (every point there is stationary in
    # √h); the h = 0 slice is searched by the profile
    hs = tuple(max(h, 0.01) for h in _H_GRID) if hold_h is None else (hold_h,)
    rows = []
    for fh in _FH_GRID if h_thr > 0 else (0.0,):
        z = special.ndtri(fh + (1.0 - fh) * p)
        for g in _G_GRID:
            for h in hs:
                k = np.expm1(g * z) / g * np.exp(0.5 * h * z * z)
                kc = k - k.mean()
                B = float(np.dot(kc, xq - xq.mean()) / np.dot(kc, kc))
                if B > 0 and np.isfinite(B):
                    rows.append([float(xq.mean() - B * k.mean()), np.log(B), g, np.sqrt(h)])
    return np.array(rows)


def _pick(cands: np.ndarray, f: np.ndarray, by_h: bool, extra: int = 2) -> np.ndarray:
    """The best candidate of each h (``by_h``) and the ``extra`` best others."""
    ok = np.isfinite(f)
    order = [i for i in np.argsort(np.where(ok, f, np.inf)) if ok[i]]
    chosen: list[int] = []
    if by_h:
        for h in np.unique(cands[:, 3]):
            best = [i for i in order if cands[i, 3] == h]
            if best:
                chosen.append(best[0])
    chosen += [i for i in order if i not in chosen][:extra]
    return cands[chosen]


def _profile(fun_free, y, pts, w, h_thr, theta: np.ndarray):
    """The likelihood maximised over (A, B, g) with h held at each of :data:`PROFILE_H`
    (one batched search, from ``theta`` and the best quantile matches of each h).

    Returns
    -------
    (BatchResult, ndarray)
        The end points (θ without √h) and the h of each row.
    """
    rows, hs = [], []
    for h in PROFILE_H:
        sub = quantile_starts(y, h_thr, h)
        fh = _objective(pts, w, h_thr, h)
        cand = np.vstack([theta[None, :3], sub[:, :3]]) if sub.size else theta[None, :3]
        f0 = fh(cand[:, None, :])[:, 0]
        rows.append(_pick(np.c_[cand, np.zeros(len(cand))], f0, False, 2)[:, :3])
        hs.append(np.full(len(rows[-1]), h))
    starts, hcol = np.vstack(rows), np.concatenate(hs)

    def held(th, r):
        full = np.concatenate([th, np.broadcast_to(np.sqrt(hcol[r])[:, None, None],
                                                   th.shape[:-1] + (1,))], axis=-1)
        return fun_free(full)
    return minimize_batch(held, starts, max_iter=40, step=_fd_step(w.sum())), hcol


def _nelder_mead(fun, theta: np.ndarray) -> np.ndarray:
    """A Nelder–Mead pass from ``theta`` (scipy.optimize: one problem, nothing to batch; it
    crosses the curved, ill-conditioned valleys where damped Newton crawls)."""
    def single(t):
        v = float(fun(np.asarray(t)[None, None, :])[0, 0])
        return v if np.isfinite(v) else 1e300
    return optimize.minimize(single, theta, method="Nelder-Mead", options={
        "maxfev": 250 * theta.size, "xatol": 1e-9, "fatol": 1e-11}).x


def _newton(fun, theta: np.ndarray, n: float, max_iter: int = 80) -> GhMax:
    """Newton from one point; where difference steps of :func:`_fd_step` leave it
    unconverged (a sharp maximum), again with steps of 1e−5 and 1e−6."""
    res = minimize_batch(fun, theta[None, :], max_iter=max_iter, step=_fd_step(n))
    best = GhMax(res.theta[0], res.hess[0], bool(res.converged[0]), float(res.fun[0]),
                 str(res.reason[0]))
    for step in (1e-5, 1e-6):
        if best.converged:
            break
        fine = minimize_batch(fun, best.theta[None, :], step=step, max_iter=60)
        if fine.converged[0] or fine.fun[0] < best.fun:
            best = GhMax(fine.theta[0], fine.hess[0], bool(fine.converged[0]),
                         float(fine.fun[0]), str(fine.reason[0]))
    return best


def _polish(fun, theta: np.ndarray, n: float) -> GhMax:
    """Nelder–Mead then Newton; a second pass where Newton does not converge (a restart
    escapes a collapsed simplex)."""
    best = _newton(fun, _nelder_mead(fun, theta), n)
    if not best.converged:
        again = _newton(fun, _nelder_mead(fun, best.theta), n)
        if again.converged or again.fun < best.fun:
            best = again
    return best


def _choose(cands: list[GhMax]) -> GhMax:
    """The best candidate; a converged one when it is as good as the best."""
    best = min(cands, key=lambda c: c.fun if np.isfinite(c.fun) else np.inf)
    conv = [c for c in cands if c.converged and np.isfinite(c.fun)]
    if conv and min(c.fun for c in conv) <= best.fun + 1e-9:
        return min(conv, key=lambda c: c.fun)
    return best


def _ends(res, idx) -> list[GhMax]:
    return [GhMax(res.theta[i], res.hess[i], bool(res.converged[i]), float(res.fun[i]),
                  str(res.reason[i])) for i in idx if np.isfinite(res.fun[i])]


def search_gandh(y: np.ndarray, h_thr: float, *, exact: bool = False) -> GhSearch:
    """Maximise the left-truncated g-and-h likelihood of the scaled losses ``y``.

    Parameters
    ----------
    y : ndarray
        Losses divided by a reference scale (the optimiser's data).
    h_thr : float
        The threshold on the same scale (0: no truncation).
    exact : bool
        Run every stage on every loss (default: only up to :data:`N_EXACT` losses; above,
        the stages before the final Newton steps use :func:`summary`).

    Returns
    -------
    GhSearch
        The best free maximum and the best maximum at h = 0, polished on every loss.

    Examples
    --------
    >>> from opwb.fitting.families import get_family
    >>> d = get_family("gandh").dist(A=2.0, B=1.0, g=1.0, h=0.2)
    >>> y = d.rvs(size=800, random_state=1)
    >>> r = search_gandh(y[y > 1.5] / 3.0, 1.5 / 3.0)
    >>> r.free.converged, bool(r.free.fun <= r.edge.fun)
    (True, True)
    """
    y = np.asarray(y, dtype=float)
    pts, w = (np.sort(y), np.ones(y.size)) if exact else summary(y)
    fun, fun0 = _objective(pts, w, h_thr, None), _objective(pts, w, h_thr, 0.0)
    cands = quantile_starts(y, h_thr)
    starts = _pick(cands, fun(cands[:, None, :])[:, 0], True, extra=3)
    res = minimize_batch(fun, starts, max_iter=80, step=_fd_step(y.size))
    f = np.where(np.isfinite(res.fun), res.fun, np.inf)
    order = [i for i in np.argsort(f) if np.isfinite(f[i])]
    best_theta = res.theta[order[0]] if order else starts[0]
    prof, hcol = _profile(fun, y, pts, w, h_thr, best_theta)
    # free: the best two end points where Newton stopped short of convergence, and the
    # profile's best where it beats them, polished (Nelder–Mead, then Newton)
    polish = [res.theta[i] for i in order[:2] if not res.converged[i]]
    fp = np.where(np.isfinite(prof.fun), prof.fun, np.inf)
    j = int(np.argmin(fp))
    if np.isfinite(fp[j]) and (not order or fp[j] < f[order[0]] - 1e-6):
        polish.append(np.r_[prof.theta[j], np.sqrt(hcol[j])])
    found = _ends(res, order) + [_polish(fun, t, y.size) for t in polish]
    # h = 0: the profile's best end point at h = 0 (polished unless converged)
    at0 = [i for i in np.argsort(fp) if hcol[i] == 0.0 and np.isfinite(fp[i])]
    found0 = _ends(prof, at0)
    if at0 and not prof.converged[at0[0]]:
        found0.append(_polish(fun0, prof.theta[at0[0]], y.size))
    free = _choose(found) if found else GhMax(starts[0], np.full((4, 4), np.nan), False,
                                              np.inf, str(res.reason[0]))
    edge = _choose(found0) if found0 else GhMax(starts[0, :3], np.full((3, 3), np.nan),
                                                False, np.inf, "no maximum found at h = 0")
    others = _distinct(found, free)
    if pts.size == y.size:
        return GhSearch(free, edge, others)
    full, full0 = (_objective(np.sort(y), np.ones(y.size), h_thr, hh) for hh in (None, 0.0))
    others = tuple(replace(o, fun=float(full(o.theta[None, None, :])[0, 0])) for o in others)
    return GhSearch(_newton(full, free.theta, y.size, max_iter=40),
                    _newton(full0, edge.theta, y.size, max_iter=40), others)


def _distinct(found: list[GhMax], best: GhMax, dh: float = 0.05) -> tuple[GhMax, ...]:
    """Converged maxima other than ``best`` whose h differs from it and from each other by
    more than ``dh``, best first."""
    kept: list[GhMax] = []
    for c in sorted((c for c in found if c.converged and np.isfinite(c.fun)),
                    key=lambda c: c.fun):
        if all(abs(c.theta[3] ** 2 - k.theta[3] ** 2) > dh for k in [best, *kept]):
            kept.append(c)
    return tuple(kept)
