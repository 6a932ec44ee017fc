"""Numerical pieces of :mod:`opwb.engine.fft`: claim-count generating functions, the mass
dispersal of a severity on a grid, the exponentially tilted FFT convolution, and partial
moments of a severity by quadrature of its quantile function. Private: amounts in KRW,
probabilities as fractions; the method and its sources are described in :mod:`opwb.engine.fft`.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import scipy.fft as sfft

from opwb.engine.distributions import frequency_distribution
from opwb.engine.distributions import frequency_mean as _frequency_mean

TILT = 10.0
"""theta * n of the exponential tilting: mass wrapped round the grid's end is damped by e^-TILT."""


class Freq(NamedTuple):
    """Claim count: PGF (complex arrays), mean, ``P(N_top >= 1)`` and ``E[N] - PGF'(1 - q)``."""
    pgf: Any
    mean: float
    any_beyond: Any
    deficit: Any


def claim_count(frequency: Any) -> Freq:
    """:class:`Freq` of a Poisson (or a number: its mean), negative binomial or binomial count."""
    if isinstance(frequency, (int, float, np.integer, np.floating)):
        name, shapes = "poisson", (_frequency_mean(frequency),)
    else:
        dist = frequency_distribution(frequency)
        name = getattr(dist.dist, "name", "")
        shapes, loc = dist.dist._parse_args(*dist.args, **dist.kwds)[:2]
        if loc != 0:
            raise ValueError(f"compound_fft needs an unshifted frequency (loc=0), got loc={loc}")
    if name == "poisson":
        lam = float(shapes[0])
        return Freq(lambda z: np.exp(lam * (z - 1.0)), lam, lambda q: -np.expm1(-lam * q),
                    lambda q: lam * -np.expm1(-lam * q))
    if name == "nbinom":
        r, p = float(shapes[0]), float(shapes[1])
        a, mean = (1.0 - p) / p, r * (1.0 - p) / p
        return Freq(lambda z: (p / (1.0 - (1.0 - p) * z)) ** r, mean,
                    lambda q: -np.expm1(-r * np.log1p(a * q)),
                    lambda q: mean * -np.expm1(-(r + 1.0) * np.log1p(a * q)))
    if name == "binom":
        m, p = float(shapes[0]), float(shapes[1])
        return Freq(lambda z: (1.0 - p + p * z) ** m, m * p,
                    lambda q: -np.expm1(m * np.log1p(-p * q)),
                    lambda q: m * p * -np.expm1((m - 1.0) * np.log1p(-p * q)))
    raise TypeError(f"compound_fft supports Poisson, negative binomial and binomial frequencies, "
                    f"got scipy.stats.{name}")


def partial_integral(sev, s_h: float, u_hi: float, g=None, n: int = 3000, cap: float = np.inf
                     ) -> float:
    """``∫_0^{u_hi} g(x(u)) du`` with ``x(u) = isf(u S(H))`` (= E[g(X); S(X|H) < u_hi]).

    Trapezoidal rule on nodes dense near 0 (log-spaced from 1e-18) and a power-law tail
    below the smallest node (inf when the integrand grows like ``u^-xi``, ``xi >= 0.999``:
    no mean). With a finite ``cap`` (``sev`` uncensored), ``x(u) = min(isf, cap)``: the part
    ``u < S(cap | H)`` is ``g(cap) S(cap | H)`` exactly and only the rest is integrated.
    """
    if u_hi <= 0:
        return 0.0
    u_lo = 0.0
    if np.isfinite(cap):
        u_lo = min(float(np.asarray(sev.sf(np.array([cap])), dtype=float)[0]) / s_h, u_hi)
    atom = 0.0
    if u_lo > 0:
        atom = u_lo * float(cap if g is None else np.asarray(g(np.array([cap])), dtype=float)[0])
        if u_lo >= u_hi:
            return atom
    t = np.unique(np.concatenate([np.logspace(-18, 0, n), np.linspace(0, 1, n + 1)[1:]]))
    u = u_lo + (u_hi - u_lo) * (t if u_lo == 0 else np.concatenate([[0.0], t]))
    x = np.asarray(sev.isf(u * s_h), dtype=float)
    y = x if g is None else np.asarray(g(x), dtype=float)
    if not np.all(np.isfinite(y)):
        return float("inf")
    body = atom + float(np.sum(np.diff(u) * (y[1:] + y[:-1]) / 2.0))
    if u_lo > 0 or y[0] <= 0:
        return body
    # power-law extrapolation of the integrand below the smallest u: y ~ c u^(-xi)
    xi = max(0.0, -np.log(y[1] / y[0]) / np.log(u[1] / u[0])) if y[1] > 0 else 0.0
    return float("inf") if xi >= 0.999 else body + u[0] * y[0] / (1.0 - xi)


def partial_with_error(sev, s_h, u_hi, g=None, cap: float = np.inf) -> tuple[float, float]:
    """:func:`partial_integral` and its quadrature error (change from half the nodes)."""
    fine = partial_integral(sev, s_h, u_hi, g, cap=cap)
    if not np.isfinite(fine) or fine == 0:
        return fine, 0.0
    return fine, abs(fine - partial_integral(sev, s_h, u_hi, g, n=1500, cap=cap))


def retained(policy):
    def g(x):
        x = np.asarray(x, dtype=float)
        rec = np.asarray(policy.recover(x), dtype=float)
        if rec.shape != x.shape or np.any(rec < -1e-9 * np.abs(x)) or np.any(rec > x * (1 + 1e-12)):
            raise ValueError("policy.recover(losses) must return per-event recoveries with the "
                             "same shape as losses and 0 <= recovery <= loss")
        return x - rec
    return g


def discretise(sev, s_h: float, threshold: float, cap: float, h: float, m: int
                ) -> tuple[np.ndarray, float]:
    """Mass-dispersal pmf on ``0..(m-1)h`` of the severity above ``threshold``; and S(top|H).

    Local moment matching of order 1 (Gerber 1982): the probability of each interval
    ``[kh, (k+1)h]`` is split between its two end points so that the interval's mass and
    first moment are kept exactly; the first moment comes from ``∫ S(t) dt`` over the
    interval (Simpson's rule, or 16-point Gauss-Legendre where the interval holds more than
    1% of the probability), integrated up to the ``cap`` where the severity is censored
    (``S = 0`` from the cap on: its atom is dispersed like any interval's mass). ``sev`` is
    the uncensored severity. The pmf's mean is ``E[min(X, cap); X <= top]`` up to quadrature.
    """
    def surv(t):
        t = np.asarray(t, dtype=float)
        return np.where(t <= threshold, 1.0,
                        np.minimum(np.asarray(sev.sf(np.maximum(t, threshold)), dtype=float) / s_h, 1.0))

    a = np.arange(m - 1) * h
    b = a + h
    lo = np.clip(threshold, a, b)                   # S = 1 on [a, lo]
    hi = np.clip(cap, lo, b)                        # S = 0 on [hi, b]
    grid = np.arange(m) * h
    s = np.where(grid >= cap, 0.0, surv(grid))
    s_lo = np.where(lo > a, surv(lo), s[:-1])
    s_hi = np.where(hi < b, surv(hi), s[1:])
    integral = (lo - a) + (hi - lo) / 6.0 * (s_lo + 4.0 * surv((lo + hi) / 2.0) + s_hi)
    steep = np.flatnonzero(s[:-1] - s[1:] > 0.01)
    if steep.size:
        nodes, weights = np.polynomial.legendre.leggauss(16)
        half = (hi[steep] - lo[steep]) / 2.0
        t = (lo[steep] + half)[:, None] + half[:, None] * nodes[None, :]
        integral[steep] = (lo[steep] - a[steep]) + half * (surv(t) * weights).sum(axis=1)
    upper = np.clip((integral - h * s[1:]) / h, 0.0, None)     # mass moved to the right end
    upper = np.minimum(upper, s[:-1] - s[1:])
    pmf = np.zeros(m)
    pmf[:-1] += (s[:-1] - s[1:]) - upper
    pmf[1:] += upper
    return np.maximum(pmf, 0.0), float(s[-1])


def spread(pmf: np.ndarray, values: np.ndarray, h: float, n: int) -> np.ndarray:
    """Move mass ``pmf[k]`` to ``values[k]`` (KRW), split linearly between the neighbouring
    grid points of a grid of ``n`` points (mean preserving)."""
    pos = values / h
    lo = np.floor(pos).astype(np.int64)
    w = pos - lo
    out = np.bincount(lo, weights=pmf * (1 - w), minlength=n + 1)
    out += np.bincount(lo + 1, weights=pmf * w, minlength=n + 1)
    out[n - 1] += out[n:].sum()                     # only rounding-level weights land here
    return out[:n]


def aggregate(sev_pmf: np.ndarray, n: int, pgf) -> np.ndarray:
    """Aggregate pmf on ``n`` points: exponentially tilted FFT, PGF, inverse FFT, untilt."""
    theta = TILT / n
    tilted = sev_pmf * np.exp(-theta * np.arange(sev_pmf.size))
    agg = sfft.irfft(pgf(sfft.rfft(tilted, n)), n)
    agg *= np.exp(theta * np.arange(n))
    return np.maximum(agg, 0.0, out=agg)
