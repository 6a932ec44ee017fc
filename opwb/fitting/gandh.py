"""Tukey's g-and-h distribution, defined by its quantile function (vectorised).

``X = Q(Z) = A + B · (exp(g Z) − 1)/g · exp(h Z²/2)``, ``Z ~ N(0, 1)``, ``B > 0``, ``h ≥ 0``
(g = 0 is the limit ``A + B Z exp(h Z²/2)``). Q is strictly increasing for h ≥ 0, so the
cdf is ``Φ(Q⁻¹(x))`` and the density ``φ(z)/Q'(z)`` at ``z = Q⁻¹(x)``; the inverse is
found by a vectorised safeguarded Newton iteration inside a bisection bracket. Used in
operational risk by Dutta & Perry (2006) and Degen, Embrechts & Lambrigger (2007).
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["gh_quantile", "gh_dquantile", "gh_z", "gh_logpdf", "gh_logpdf_warm", "gh_logsf",
           "gh_isf"]

Z_MAX = 38.0  # Φ(−38) ≈ 3e−316: the bracket covers every representable probability
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _gterm(g, z):
    """(exp(g z) − 1)/g, with the g → 0 limit z."""
    small = np.abs(g) < 1e-10
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(small, z * (1.0 + 0.5 * g * z), np.expm1(g * z) / np.where(small, 1.0, g))


def gh_quantile(z, A, B, g, h):
    """The g-and-h quantile transform Q(z) (closed form).

    Examples
    --------
    >>> float(gh_quantile(0.0, 5.0, 2.0, 0.5, 0.1))
    5.0
    """
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return A + B * _gterm(g, z) * np.exp(0.5 * h * z * z)


def gh_dquantile(z, A, B, g, h):
    """Q'(z) = B exp(h z²/2) [exp(g z) + h z (exp(g z) − 1)/g] (> 0 for B > 0, h ≥ 0)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        return B * np.exp(0.5 * h * z * z) * (np.exp(g * z) + h * z * _gterm(g, z))


def _qdq(z, A, B, g, h):
    """Q(z) and Q'(z) sharing the exponentials."""
    small = np.abs(g) < 1e-10
    with np.errstate(over="ignore", invalid="ignore"):
        gz = g * z
        eg = np.exp(gz)
        if np.any(small):
            gt = np.where(small, z * (1.0 + 0.5 * gz), (eg - 1.0) / np.where(small, 1.0, g))
        else:
            gt = (eg - 1.0) / g
        eh = np.exp(0.5 * h * z * z)
        return A + B * gt * eh, B * eh * (eg + h * z * gt)


def _step(z, x, A, B, g, h, lo, hi, tol):
    f, d = _qdq(z, A, B, g, h)
    f = f - x
    lo = np.where(f < 0, z, lo)
    hi = np.where(f > 0, z, hi)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        dz = -f / d
    # cap the Newton step at two standard-normal units: where Q' is tiny the raw step overshoots
    # far out and bisection from the wide initial bracket would need dozens of halvings
    zn = z + np.clip(dz, -2.0, 2.0)
    finite = np.isfinite(zn)
    # converged: tiny Newton step, residual at rounding level, or a collapsed bracket
    noise = 16.0 * np.finfo(float).eps * (np.abs(x) + np.abs(A))
    done = ((finite & (np.abs(dz) <= tol * (1.0 + np.abs(z)))) | (np.abs(f) <= noise)
            | (hi - lo < tol))
    inside = finite & (zn > lo) & (zn < hi)
    zn = np.where(done, np.where(finite, zn, z), np.where(inside, zn, 0.5 * (lo + hi)))
    return zn, lo, hi, done


def gh_z(x, A, B, g, h, *, z0=None, tol: float = 1e-11, max_iter: int = 200):
    """Solve Q(z) = x for z elementwise (values beyond Q(±Z_MAX) give ±Z_MAX).

    ``z0`` is an optional starting guess (e.g. the solution for nearby parameters); without
    it the h = 0 inverse is used. Newton steps that leave the bisection bracket are replaced
    by bisection, so the iteration always converges.
    """
    x, A, B, g, h = (np.asarray(v, dtype=float) for v in (x, A, B, g, h))
    shape = np.broadcast_shapes(x.shape, A.shape, B.shape, g.shape, h.shape)
    if shape == ():
        return gh_z(x[None], A, B, g, h, z0=None if z0 is None else np.atleast_1d(z0),
                    tol=tol, max_iter=max_iter)[0]
    if z0 is None:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            t = (x - A) / B
            z0 = np.where(np.abs(g) < 1e-10, t, np.log1p(g * t) / np.where(g == 0, 1.0, g))
        z0 = np.where(np.isfinite(z0), np.clip(z0, -8.0, 8.0), 0.0)
    z = np.array(np.broadcast_to(z0, shape), dtype=float)
    lo = np.full(shape, -Z_MAX)
    hi = np.full(shape, Z_MAX)
    # points outside Q([-Z_MAX, Z_MAX]) (e.g. below the lower end of the support when h = 0)
    below = x <= gh_quantile(-Z_MAX, A, B, g, h)
    above = x >= gh_quantile(Z_MAX, A, B, g, h)
    z = np.where(below, -Z_MAX, np.where(above, Z_MAX, z))
    lo = np.where(below | above, z, lo)
    hi = np.where(below | above, z, hi)
    # first sweeps on the full (broadcast) arrays, then only on the unconverged elements
    for _ in range(2):
        z, lo, hi, done = _step(z, x, A, B, g, h, lo, hi, tol)
    todo = ~done
    if not todo.any():
        return z
    xf, Af, Bf, gf, hf = (np.broadcast_to(v, shape) for v in (x, A, B, g, h))
    idx = np.nonzero(todo)
    zi, li, ui = z[idx], lo[idx], hi[idx]
    xi, Ai, Bi, gi, hi_ = xf[idx], Af[idx], Bf[idx], gf[idx], hf[idx]
    pos = np.arange(zi.size)
    for _ in range(max_iter):
        zn, ln, un, done = _step(zi, xi, Ai, Bi, gi, hi_, li, ui, tol)
        z[tuple(a[pos] for a in idx)] = zn
        keep = ~done
        if not keep.any():
            break
        pos, zi, li, ui = pos[keep], zn[keep], ln[keep], un[keep]
        xi, Ai, Bi, gi, hi_ = xi[keep], Ai[keep], Bi[keep], gi[keep], hi_[keep]
    return z


def gh_logpdf_warm(x, A, B, g, h, z0=None):
    """(log density, z) with ``z0`` as the starting guess for the inversion."""
    z = gh_z(x, A, B, g, h, z0=z0)
    _, d = _qdq(z, A, B, g, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -_LOG_SQRT_2PI - 0.5 * z * z - np.log(d)
    return np.where(np.isfinite(out), out, -np.inf), z


def gh_logpdf(x, A, B, g, h):
    """log density: log φ(z) − log Q'(z) at z = Q⁻¹(x)."""
    return gh_logpdf_warm(x, A, B, g, h)[0]


def gh_logsf(x, A, B, g, h):
    """log survival function log Φ(−z) at z = Q⁻¹(x)."""
    return special.log_ndtr(-gh_z(x, A, B, g, h))


def gh_isf(q, A, B, g, h):
    """Inverse survival function Q(−Φ⁻¹(q))."""
    return gh_quantile(-special.ndtri(np.asarray(q, dtype=float)), A, B, g, h)
