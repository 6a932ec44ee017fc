"""Vectorised log-density, log-survival and inverse-survival functions of the untruncated
severity families, and their starting values (the raw material of :mod:`opwb.fitting.families`).
"""
from __future__ import annotations

import numpy as np
from scipy import special

__all__: list[str] = []  # private: used by opwb.fitting.families


_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


# --------------------------------------------------------------------------- raw functions
def _lognormal_logpdf(x, mu, sigma):
    lx = np.log(x)
    return -lx - np.log(sigma) - _LOG_SQRT_2PI - 0.5 * ((lx - mu) / sigma) ** 2


def _lognormal_logsf(x, mu, sigma):
    with np.errstate(divide="ignore"):
        return special.log_ndtr(-(np.log(x) - mu) / sigma)


def _lognormal_isf(q, mu, sigma):
    return np.exp(mu - sigma * special.ndtri(q))


def _weibull_logpdf(x, c, s):
    y = x / s
    return np.log(c / s) + (c - 1.0) * np.log(y) - y ** c


def _weibull_logsf(x, c, s):
    return -((x / s) ** c)


def _weibull_isf(q, c, s):
    return s * (-np.log(q)) ** (1.0 / c)


def _gamma_logpdf(x, a, s):
    return (a - 1.0) * np.log(x) - x / s - special.gammaln(a) - a * np.log(s)


def log_gammaincc(a, z):
    """log Q(a, z), the log of the regularised upper incomplete gamma function, without
    underflow.

    ``log(gammaincc(a, z))`` is exact where Q is representable; where it underflows (Q below
    1e-250, e.g. z = 800, a = 1) the Legendre continued fraction
    ``Q(a, z) = exp(−z + a ln z − ln Γ(a)) / (z + 1 − a − 1·(1 − a)/(z + 3 − a − …))``
    (Numerical Recipes §6.2, modified Lentz) is summed in logs; it converges for z > a + 1,
    which holds wherever Q underflows.

    Examples
    --------
    >>> float(log_gammaincc(1.0, 800.0))   # exponential: log S(800) = -800
    -800.0
    """
    a, z = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(z, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(special.gammaincc(a, z))
    far = (out < -575.0) & (z > a + 1.0) & np.isfinite(z)
    if np.any(far):
        out = np.array(out, dtype=float)
        out[far] = _log_gammaincc_cf(a[far], z[far])
    return out


def _log_gammaincc_cf(a, z, n_terms: int = 300):
    tiny = 1e-300
    b = z + 1.0 - a
    c = np.full_like(z, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, n_terms + 1):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) < 1e-15):
            break
    return -z + a * np.log(z) - special.gammaln(a) + np.log(h)


def _gamma_logsf(x, a, s):
    return log_gammaincc(a, x / s)


def _gamma_isf(q, a, s):
    return s * special.gammainccinv(a, q)


def _fisk_logpdf(x, c, s):
    ly = np.log(x / s)
    return np.log(c / s) + (c - 1.0) * ly - 2.0 * np.logaddexp(0.0, c * ly)


def _fisk_logsf(x, c, s):
    return -np.logaddexp(0.0, c * np.log(x / s))


def _fisk_isf(q, c, s):
    return s * (1.0 / q - 1.0) ** (1.0 / c)


def _lomax_logpdf(x, a, s):
    return np.log(a / s) - (a + 1.0) * np.log1p(x / s)


def _lomax_logsf(x, a, s):
    return -a * np.log1p(x / s)


def _lomax_isf(q, a, s):
    return s * np.expm1(-np.log(q) / a)


def _log1p_over(xi, y):
    """log1p(xi*y)/xi with the xi → 0 limit y; nan outside the support (1 + xi*y <= 0)."""
    xi, y = np.broadcast_arrays(np.asarray(xi, float), np.asarray(y, float))
    small = np.abs(xi) < 1e-9
    arg = xi * y
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(arg > -1.0, np.log1p(np.where(arg > -1.0, arg, 0.0)), -np.inf)
        out = np.where(small, y * (1.0 - 0.5 * arg), out / np.where(small, 1.0, xi))
    return out


def _gpd_logpdf(x, xi, s):
    y = x / s
    l1 = _log1p_over(xi, y)  # (1/xi) log(1 + xi y)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(l1) | (xi >= 0), -np.log(s) - l1 * (1.0 + xi), -np.inf)


def _gpd_logsf(x, xi, s):
    return -_log1p_over(xi, x / s)


def _gpd_isf(q, xi, s):
    lq = -np.log(q)
    xi = np.asarray(xi, float)
    small = np.abs(xi) < 1e-9
    return s * np.where(small, lq, np.expm1(xi * lq) / np.where(small, 1.0, xi))


def _burr_logpdf(x, c, d, s):
    ly = np.log(x / s)
    return np.log(c * d / s) + (c - 1.0) * ly - (d + 1.0) * np.logaddexp(0.0, c * ly)


def _burr_logsf(x, c, d, s):
    return -d * np.logaddexp(0.0, c * np.log(x / s))


def _burr_isf(q, c, d, s):
    return s * np.expm1(-np.log(q) / d) ** (1.0 / c)


def _loggamma_logpdf(x, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(x)
        out = (a * np.log(b) - special.gammaln(a) + (a - 1.0) * np.log(lx) - (b + 1.0) * lx)
    return np.where(lx > 0, out, -np.inf)


def _loggamma_logsf(x, a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.log(np.maximum(x, 1.0))
    return log_gammaincc(a, b * lx)


def _loggamma_isf(q, a, b):
    return np.exp(special.gammainccinv(a, q) / b)


# --------------------------------------------------------------------------- starting values
def _logstats(y):
    ly = np.log(y)
    return float(np.mean(ly)), max(float(np.std(ly)), 1e-3), float(np.median(ly))


def _grid(base: list[float], shifts: list[list[float]]) -> np.ndarray:
    return np.array([np.asarray(base) + np.asarray(s) for s in shifts])


def _lognormal_starts(y, h):
    m, s, _ = _logstats(y)
    return np.array([[m, np.log(s)], [m - s, np.log(1.5 * s)], [m - 2 * s, np.log(2 * s)]])


def _weibull_starts(y, h):
    m, s, _ = _logstats(y)
    c = np.pi / (np.sqrt(6.0) * s)
    base = [np.log(c), m + 0.5772 / c]
    return _grid(base, [[0, 0], [-0.7, -1.0], [0.7, -0.5], [-1.5, -2.0]])


def _gamma_starts(y, h):
    mean, var = float(np.mean(y)), float(np.var(y)) + 1e-12
    a = float(np.clip(mean * mean / var, 0.05, 50.0))
    base = [np.log(a), np.log(mean / a)]
    return _grid(base, [[0, 0], [-1.0, 0.5], [1.0, -1.0], [-2.0, 1.0]])


def _fisk_starts(y, h):
    m, s, med = _logstats(y)
    c = np.pi / (np.sqrt(3.0) * s)
    return _grid([np.log(c), med], [[0, 0], [-0.5, -1.0], [0.5, -0.5], [-1.0, -2.0]])


def _lomax_starts(y, h):
    _, _, med = _logstats(y)
    rows = []
    for a in (0.7, 1.5, 4.0):
        rows.append([np.log(a), med - np.log(np.expm1(np.log(2.0) / a))])
    rows.append([np.log(1.5), np.log(max(h, 1e-3))])
    return np.array(rows)


def _gpd_starts(y, h):
    _, _, med = _logstats(y)
    rows = [[xi, med + np.log(xi / np.expm1(xi * np.log(2.0)))] for xi in (0.3, 0.8, 1.3)]
    return np.array(rows)


def _burr_starts(y, h):
    m, s, med = _logstats(y)
    c = np.pi / (np.sqrt(3.0) * s)
    rows = []
    for cc, d in ((c, 1.0), (2 * c, 0.5), (c, 2.0), (3 * c, 0.3)):
        rows.append([np.log(cc), np.log(d), med - np.log(np.expm1(np.log(2.0) / d)) / cc])
    return np.array(rows)


def _loggamma_starts(x, h):
    lx = np.log(x)
    mean, var = float(np.mean(lx)), float(np.var(lx)) + 1e-12
    a, b = mean * mean / var, mean / var
    return _grid([np.log(a), np.log(b)], [[0, 0], [-1.0, -1.0], [1.0, 0.7], [-2.0, -2.0]])


def _gandh_starts(y, h):
    q10, q25, q50, q75, q90 = np.quantile(y, [0.1, 0.25, 0.5, 0.75, 0.9])
    g = float(np.clip(np.log(max(q90 - q50, 1e-9) / max(q50 - q10, 1e-9)) / 1.2816, 0.05, 3.0))
    rows = []
    for lo in (0.0, 1.5):
        a = q50 - lo * (q50 - q25)
        b = max((q75 - q25) / 1.349, 1e-6) * (1.0 + lo)
        for hh in (0.05, 0.3):
            rows.append([a, np.log(b), g * (1 + 0.3 * lo), np.sqrt(hh)])
    return np.array(rows)
