"""The g-and-h's ridge g → −∞: its supremum, counting the smallest loss to the won.

With ``b = B/|g|`` held, the g-and-h quantile function ``Q(z) → A + b·e^{hz²/2}`` for z > 0
as g → −∞, while the lower half of the distribution runs off to −∞ (below any threshold):
the losses above H then follow ``X = A + b·e^{hZ²/2}``, Z half-normal, whose density is
infinite at its lower end ``A + b`` (like (x − A − b)^(−1/2)). The g-and-h likelihood is
therefore unbounded on every data set: placing the lower end ever closer below the smallest
loss, it grows like ½ log(1/gap) (on the bundled internal-fraud cell it passes the regular
maximum, −1,239.34 at h = 0, by 2.65 units at h ≈ 1.6 and a gap of ~1e−5 of the loss). As
for other likelihoods made unbounded by a density singularity at one observation (Cheng &
Iles 1987, "Corrected maximum likelihood in non-regular problems", JRSS B 49(1)), the
smallest loss is counted by the probability of its recording unit (:data:`RECORDING_UNIT`,
one won) instead of its density; every other loss, and every interior fit, is unaffected.
:func:`gandh_ridge` is the supremum so corrected, the log-likelihood
:mod:`opwb.fitting.identification` gives this ridge. Within the limit, b → 0 gives a Pareto
shifted by A (:func:`shifted_pareto_loglik`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from opwb.fitting.gandh_fit import summary

__all__ = ["RECORDING_UNIT", "RidgePoint", "gandh_ridge", "gandh_ridge_point",
           "shifted_pareto_loglik"]

RECORDING_UNIT = 1.0
"""The unit losses are recorded in (one won): the g-and-h ridge counts the smallest loss by
the probability of its unit, ``[x − ½, x + ½]``, divided by the unit's width (the average
density over it), so that it is on the density scale of every other loss and of the
regular maxima it is compared with. The supremum depends on the unit (on the bundled
internal-fraud cell it passes the h = 0 maximum by 7.16 units at one won, by 3.45 at a
thousand won); that the ordinary likelihood is unbounded, and the fit therefore
degenerate, does not."""


def _interval_prob(zl: float, zt: float, dz: float) -> float:
    """Φ(zt) − Φ(zl) for 0 ≤ zl ≤ zt, ``dz = zt − zl`` given accurately (no cancellation)."""
    zm = 0.5 * (zl + zt)
    if dz * (1.0 + zt) < 1e-3:      # midpoint rule with its leading correction
        return math.exp(-0.5 * zm * zm) / math.sqrt(2.0 * math.pi) * dz * (
            1.0 + dz * dz * (zm * zm - 1.0) / 24.0)
    return 0.5 * (float(special.erfc(zl / math.sqrt(2.0)))
                  - float(special.erfc(zt / math.sqrt(2.0))))


def _ridge_nll(y: np.ndarray, w: np.ndarray, hs: float, unit: float, lh_c: float):
    """−log L of the g → −∞ limit on sorted scaled losses ``y`` (weights ``w``; ``y[0]``
    counted by the probability of ``[y0 − unit/2, y0 + unit/2]``), in (log gap below
    y0 + unit/2 of the lower end x0, log b, log h)."""
    y0, rest, wr = y[0], y[1:], w[1:]
    n = float(w.sum())
    top = y0 + 0.5 * unit

    def nll(t) -> float:
        gap, b, hh = math.exp(t[0]), math.exp(t[1]), math.exp(t[2])
        x0 = top - gap
        a = x0 - b
        if (rest.size and rest[0] <= x0) or not math.isfinite(a):
            return math.inf
        with np.errstate(all="ignore"):
            r = np.log((rest - a) / b)
            ll = float(np.dot(wr, -r / hh - np.log(rest - a) - 0.5 * np.log(2.0 * r * hh))) \
                - 0.5 * math.log(2.0 * math.pi) * float(wr.sum())
            # the smallest loss: probability of [max(y0 − unit/2, x0), top] (z = 0 at x0)
            lo = max(y0 - 0.5 * unit, x0)
            rl = math.log((lo - a) / b) if lo > x0 else 0.0
            rt = rl + math.log1p((top - lo) / (lo - a))
            zl, zt = math.sqrt(2.0 * rl / hh), math.sqrt(2.0 * rt / hh)
            p = _interval_prob(zl, zt, 2.0 * (rt - rl) / hh / (zl + zt) if zt > 0 else 0.0)
            ll += math.log(p / unit) if p > 0 else -math.inf
            if hs > 0:
                lsf = (float(special.log_ndtr(-math.sqrt(2.0 * math.log((hs - a) / b) / hh)))
                       if hs > x0 else math.log(0.5))
                ll -= n * lsf
        out = -(ll - n * lh_c)
        return out if math.isfinite(out) else math.inf
    return nll


def gandh_ridge(x: np.ndarray, threshold: float,
                unit: float = RECORDING_UNIT) -> tuple[float, float]:
    """Supremum of the g-and-h log-likelihood along g → −∞ and the h (tail index) there
    (the first two fields of :func:`gandh_ridge_point`).

    Examples
    --------
    >>> x = 1e7 * np.exp(np.random.default_rng(2).exponential(1.0, 200))
    >>> ll, xi = gandh_ridge(x, 1e7)
    >>> bool(np.isfinite(ll)), bool(xi > 0)
    (True, True)
    """
    r = gandh_ridge_point(x, threshold, unit)
    return r.loglik, r.tail_index


@dataclass(frozen=True)
class RidgePoint:
    """The supremum along g → −∞: ``loglik`` (raw KRW scale), ``tail_index`` (h), and the
    limit's ``A`` and ``b = B/|g|`` (KRW; NaN when the supremum is the shifted Pareto)."""

    loglik: float
    tail_index: float
    A: float = math.nan
    b: float = math.nan

    def member(self, g: float) -> dict[str, float] | None:
        """A g-and-h far along the ridge (``g`` ≪ 0): A, B = b·|g|, g, h; None without one."""
        if not (math.isfinite(self.A) and math.isfinite(self.b)):
            return None
        return {"A": self.A, "B": self.b * abs(g), "g": float(g), "h": self.tail_index}


def gandh_ridge_point(x: np.ndarray, threshold: float,
                      unit: float = RECORDING_UNIT) -> RidgePoint:
    """Supremum of the g-and-h log-likelihood along g → −∞, with the limit's parameters.

    The limit ``X = A + b·e^{hZ²/2}``, Z half-normal (the lower half of the distribution
    gone to −∞), with the smallest loss counted by the probability of its recording unit
    (see the module docstring); every other loss by its density. Maximised over (A, b, h)
    by Nelder–Mead (scipy.optimize) from the best points of a small grid, on a summary of
    the losses above 2,000 (:func:`opwb.fitting.gandh_fit.summary`), then on every loss.

    Parameters
    ----------
    x : ndarray
        The losses (KRW), all at or above ``threshold``.
    threshold : float
        Collection threshold H (0: no truncation, the lost half then costs log 2 a loss).
    unit : float
        Recording unit of the losses (KRW).

    Returns
    -------
    RidgePoint
        The corrected supremum of the log-likelihood (raw KRW scale), h there, and the
        limit's A and b. Within the limit, b → 0 gives a Pareto shifted by A,
        ``S(x | H) = ((x − A)/(H − A))^(−1/h)`` (:func:`shifted_pareto_loglik`); the larger
        supremum of the two counts.

    Examples
    --------
    >>> x = 1e7 * np.exp(np.random.default_rng(2).exponential(1.0, 200))
    >>> r = gandh_ridge_point(x, 1e7)
    >>> bool(r.b > 0), bool(r.A + r.b <= x.min() + 0.5)
    (True, True)
    """
    xs = np.sort(np.asarray(x, dtype=float))
    if xs.size < 3:
        return RidgePoint(-math.inf, 0.0)
    c = float(np.median(xs))
    y, n = xs / c, xs.size
    ys, ws = summary(y)
    args = (threshold / c, unit / c, math.log(c))
    exact = _ridge_nll(y, np.ones(n), *args)
    coarse = exact if ys.size == n else _ridge_nll(ys, ws, *args)
    y0, spread = float(y[0]), float(y[-1] - y[0])
    grid = [[math.log(gap), math.log(b), math.log(hh)]
            for gap in (unit / c, 1e-4 * y0, 1e-2 * y0, 0.3 * y0, 2.0 * y0)
            for b in (0.1 * spread, 0.5, 2.0, 8.0) for hh in (0.3, 1.0, 2.0) if b > 0]
    vals = np.array([coarse(t) for t in grid])
    best = None
    for i in np.argsort(vals)[:3]:          # Nelder–Mead from the best three
        if not np.isfinite(vals[i]):
            continue
        r = optimize.minimize(coarse, np.array(grid[i]), method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
        if best is None or r.fun < best[0]:
            best = (r.fun, r.x)
    out = RidgePoint(-math.inf, 0.0)
    if best is not None and np.isfinite(best[0]):
        t = best[1]
        if exact is not coarse:          # then on every loss, from a small simplex
            simplex = t + np.vstack([np.zeros(3), 1e-3 * np.eye(3)])
            t = optimize.minimize(exact, t, method="Nelder-Mead", options={
                "xatol": 1e-7, "fatol": 1e-8, "maxiter": 150, "initial_simplex": simplex}).x
        f = exact(t)
        if np.isfinite(f):
            gap, b, hh = np.exp(t)
            x0 = y0 + 0.5 * unit / c - gap
            out = RidgePoint(-float(f), float(hh), float((x0 - b) * c), float(b * c))
    if threshold > 0:
        ll, xi = shifted_pareto_loglik(xs, float(threshold))
        if ll > out.loglik:
            out = RidgePoint(ll, xi)
    return out


def shifted_pareto_loglik(x: np.ndarray, h: float) -> tuple[float, float]:
    """Sup over the shift A < H of the Pareto ``S(x | H) = ((x − A)/(H − A))^(−α)`` above H,
    and its tail index 1/α (α in closed form for each A, A by a bounded scalar search).

    Examples
    --------
    >>> x = 5.0 * np.random.default_rng(1).random(400) ** (-1 / 2)   # A = 0, α = 2 above 5
    >>> ll, xi = shifted_pareto_loglik(x, 5.0)
    >>> bool(ll >= _pareto(x, 5.0)[0]), bool(0.3 < xi < 0.7)
    (True, True)
    """
    x = np.asarray(x, dtype=float)

    def nll(s: float) -> float:
        return -_pareto(x - h + math.exp(s), math.exp(s))[0]
    lo, hi = math.log(h) - 14.0, math.log(h) + 14.0
    grid = np.linspace(lo, hi, 57)
    vals = np.array([nll(v) for v in grid])
    i = int(np.argmin(vals))
    r = optimize.minimize_scalar(nll, bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 56)]),
                                 method="bounded", options={"xatol": 1e-10})
    s_best = float(r.x) if r.fun <= vals[i] else float(grid[i])
    return _pareto(x - (h - math.exp(s_best)), math.exp(s_best))


def _pareto(u: np.ndarray, um: float) -> tuple[float, float]:
    """Maximum log-likelihood and tail index of a Pareto ``S(u) = (u/um)^−α`` on ``u ≥ um``."""
    st = float(np.log(u / um).sum())
    if st <= 0:
        return -math.inf, math.inf
    n = u.size
    a = n / st
    return n * math.log(a) - n * math.log(um) - (a + 1.0) * st, 1.0 / a
