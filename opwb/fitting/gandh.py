"""Tukey's g-and-h distribution, defined by its quantile function (vectorised).

``X = Q(Z) = A + B · (exp(g Z) − 1)/g · exp(h Z²/2)``, ``Z ~ N(0, 1)``, ``B > 0``, ``h ≥ 0``
(g = 0 is the limit ``A + B Z exp(h Z²/2)``). Q is strictly increasing for h ≥ 0, so the
cdf is ``Φ(Q⁻¹(x))`` and the density ``φ(z)/Q'(z)`` at ``z = Q⁻¹(x)``. Used in operational
risk by Dutta & Perry (2006) and Degen, Embrechts & Lambrigger (2007).

Two inversions of Q are provided. :func:`gh_z` is the reference: a safeguarded Newton
iteration inside a bisection bracket, element by element. :func:`gh_zd` is the fast one the
likelihood uses: for each parameter point Q is tabulated on a fixed grid of z (spacing 1/64
on [−8, 8] for 2,000 losses or more, coarser for fewer; 1 beyond), every loss is located in
its grid cell (a binary search), the cell gives a cubic Hermite first guess (Q' is known at
the nodes) and a bracket, and two or three vectorised Newton steps inside the bracket reach
z to ~1e−15. It solves exactly the same equation — the likelihood is exact, not an
interpolated one — at a cost per loss of a few exponentials, which is what makes a
100,000-loss fit take seconds (issue 22).

Losses outside ``Q([−Z_MAX, Z_MAX])`` (beyond a bounded support, e.g. above A + B/|g| when
h = 0 and g < 0, or with probability below Φ(−38) ≈ 3e−316) have density 0 and, above the
upper end, survival 0.
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__ = ["gh_quantile", "gh_dquantile", "gh_z", "gh_zd", "gh_logpdf", "gh_logsf", "gh_isf",
           "B_MIN", "Z_MAX"]

Z_MAX = 38.0  # Φ(−38) ≈ 3e−316: the bracket covers every representable probability
B_MIN = 1e-250  # smaller scales are outside the parameter space (B·e^{gz} loses precision)
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


# the grids of the fast inversion: fine where losses fall (finer the more losses share the
# tabulation), coarse far out
def _zgrid(step: float) -> np.ndarray:
    return np.concatenate([np.arange(-Z_MAX, -8.0, 1.0), np.arange(-8.0, 8.0, step),
                           np.arange(8.0, Z_MAX + 1e-9, 1.0)])


_ZGRIDS = {n: _zgrid(1.0 / n) for n in (4, 16, 64)}
_CHUNK = 1 << 16   # elements per block of the Newton iteration (cache-sized)


def _grid_for(n: int) -> np.ndarray:
    """The grid for rows of ``n`` losses: its cost (per row) stays below the Newton steps'."""
    return _ZGRIDS[64 if n >= 2000 else 16 if n >= 100 else 4]


def _rows_shape(shape, params) -> bool:
    """True when every parameter is constant along the last (data) axis of ``shape``."""
    return len(shape) >= 1 and all(p.ndim == 0 or p.shape[-1] == 1 for p in params)


def gh_zd(x, A, B, g, h, *, tol: float = 1e-12, max_iter: int = 60):
    """z = Q⁻¹(x) and Q'(z), by tabulation, cubic Hermite start and bracketed Newton.

    The fast inversion used by the likelihood (see the module docstring); the same values
    as :func:`gh_z` to rounding. Parameters constant along the last axis of ``x`` (one
    parameter point per row of losses, as in a fit) use the grid; any other broadcasting,
    and any element the bracketed Newton iteration leaves unconverged, is solved by
    :func:`gh_z`.

    Returns
    -------
    z, dq : ndarray
        ``Q⁻¹(x)`` (±``Z_MAX`` outside ``Q([−Z_MAX, Z_MAX])``) and ``Q'`` there.

    Examples
    --------
    >>> z, dq = gh_zd(gh_quantile(np.array([-1.0, 0.5, 3.0]), 1.0, 2.0, 0.5, 0.2),
    ...               1.0, 2.0, 0.5, 0.2)
    >>> np.round(z, 12).tolist()
    [-1.0, 0.5, 3.0]
    """
    x, A, B, g, h = (np.asarray(v, dtype=float) for v in (x, A, B, g, h))
    shape = np.broadcast_shapes(x.shape, A.shape, B.shape, g.shape, h.shape)
    if shape == ():
        z, dq = gh_zd(x[None], A, B, g, h, tol=tol, max_iter=max_iter)
        return z[0], dq[0]
    if not _rows_shape(shape, (A, B, g, h)) or 0 in shape:
        z = gh_z(x, A, B, g, h)
        return z, _qdq(z, A, B, g, h)[1]
    n = shape[-1]
    head = shape[:-1] + (1,)
    k = int(np.prod(head))
    par = [np.broadcast_to(v, head).reshape(k, 1) for v in (A, B, g, h)]
    X = np.broadcast_to(x, shape).reshape(k, n)
    z, dq, bad = np.empty((k, n)), np.empty((k, n)), np.zeros((k, n), dtype=bool)
    grid = _grid_for(n)
    with np.errstate(all="ignore"):
        qg, dqg = _qdq(grid[None, :], *par)
    qg = np.maximum.accumulate(np.where(np.isnan(qg), -np.inf, qg), axis=1)
    per = max(1, _CHUNK // n)
    for r0 in range(0, k, per):
        r = slice(r0, min(k, r0 + per))
        z[r], dq[r], bad[r] = _invert_rows(X[r], grid, qg[r], dqg[r], [p[r] for p in par],
                                           tol, max_iter)
    if bad.any():
        pb = [np.broadcast_to(p, (k, n))[bad] for p in par]
        z[bad] = gh_z(X[bad], *pb)
        dq[bad] = _qdq(z[bad], *pb)[1]
    return z.reshape(shape), dq.reshape(shape)


def _invert_rows(X, grid, qg, dqg, par, tol, max_iter):
    """Grid location, Hermite start and bracketed Newton for a block of rows."""
    k, n = X.shape
    m = grid.size
    if n <= 4:                      # a few points per row: count, vectorised over rows
        j = (qg[:, None, :] <= X[:, :, None]).sum(-1)
    else:
        j = np.empty((k, n), dtype=np.intp)
        for i in range(k):
            j[i] = np.searchsorted(qg[i], X[i], side="right")
    jj = np.clip(j, 1, m - 1)
    flat = jj + (np.arange(k) * m)[:, None]
    with np.errstate(all="ignore"):
        q0, q1 = qg.ravel()[flat - 1], qg.ravel()[flat]
        z0, z1 = grid[jj - 1], grid[jj]
        w, dz = q1 - q0, z1 - z0
        t = np.clip((X - q0) / w, 0.0, 1.0)
        s0 = w / (dqg.ravel()[flat - 1] * dz)      # slopes of z(x) at the nodes, in cell units
        s1 = w / (dqg.ravel()[flat] * dz)
        t2 = t * t
        u = t2 * (3.0 - 2.0 * t) + t * (1.0 - t) ** 2 * s0 - t2 * (1.0 - t) * s1
        u = np.where(np.isfinite(u), np.clip(u, 0.0, 1.0), np.where(np.isfinite(t), t, 0.5))
        z = z0 + u * dz
        lo, hi = z0, z1
        z, d, done = _newton_bracketed(z, X, par, lo, hi, tol, 4)
        if not done.all():           # the few slow elements: continue on them alone
            idx = np.nonzero(~done)
            sub = [np.broadcast_to(p, (k, n))[idx] for p in par]
            zs, ds, dn = _newton_bracketed(z[idx], X[idx], sub, lo[idx], hi[idx], tol,
                                           max_iter)
            z[idx], d[idx], done[idx] = zs, ds, dn
    out = (j == 0) | (j == m)
    z = np.where(j == 0, -Z_MAX, np.where(j == m, Z_MAX, z))
    return z, d, ~done & ~out


def _newton_bracketed(z, X, par, lo, hi, tol, max_iter):
    """Newton steps kept inside the bracket [lo, hi] of the root (bisection otherwise)."""
    done = np.zeros(z.shape, dtype=bool)
    d = np.ones(z.shape)
    for _ in range(max_iter):
        f, d = _qdq(z, *par)
        f = f - X
        lo = np.where(f < 0, z, lo)
        hi = np.where(f > 0, z, hi)
        zn = z - f / d
        zn = np.where(np.isfinite(zn) & (zn >= lo) & (zn <= hi), zn, 0.5 * (lo + hi))
        done = (np.abs(zn - z) <= tol * (1.0 + np.abs(z))) | (f == 0) | (hi - lo <= tol)
        z = np.where(f == 0, z, zn)
        if done.all():
            break
    return z, d, done


def gh_logpdf(x, A, B, g, h):
    """log density: log φ(z) − log Q'(z) at z = Q⁻¹(x); −inf outside Q([−Z_MAX, Z_MAX]),
    and for ``B`` below :data:`B_MIN` (where ``B·e^{gz}`` has lost its precision)."""
    z, d = gh_zd(x, A, B, g, h)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = -_LOG_SQRT_2PI - 0.5 * z * z - np.log(d)
    ok = np.isfinite(out) & (np.abs(z) < Z_MAX) & (np.asarray(B) > B_MIN)
    return np.where(ok, out, -np.inf)


def gh_logsf(x, A, B, g, h):
    """log survival function log Φ(−z) at z = Q⁻¹(x); −inf above Q(Z_MAX)."""
    x, A, B, g, h = (np.asarray(v, dtype=float) for v in (x, A, B, g, h))
    # one point per parameter point (a threshold): a trailing axis of length 1 lets the
    # grid inversion treat every parameter point as a row
    z = gh_zd(x[..., None], A[..., None], B[..., None], g[..., None], h[..., None])[0][..., 0]
    return np.where(z >= Z_MAX, -np.inf, special.log_ndtr(-z))


def gh_isf(q, A, B, g, h):
    """Inverse survival function Q(−Φ⁻¹(q))."""
    return gh_quantile(-special.ndtri(np.asarray(q, dtype=float)), A, B, g, h)
