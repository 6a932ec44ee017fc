"""Adapters from what users pass as a frequency or a severity (frozen scipy distributions,
fit results, spliced severities) to the vectorised ``rvs``/``isf``/``sf`` the engines use.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

__all__ = [
    "frequency_distribution", "frequency_mean", "severity_distribution", "resolve_threshold",
    "survival_at",
]


# --------------------------------------------------------------------------- distributions
def _is_frozen_scipy(obj: Any) -> bool:
    return (hasattr(obj, "args") and hasattr(obj, "kwds")
            and isinstance(getattr(obj, "dist", None), (stats.rv_continuous, stats.rv_discrete)))


def _unwrap(obj: Any) -> Any:
    """A frozen scipy distribution itself, else ``obj.dist`` when present, else ``obj``."""
    return obj if _is_frozen_scipy(obj) else getattr(obj, "dist", obj)


def frequency_distribution(frequency: Any) -> Any:
    """The frozen scipy discrete distribution inside ``frequency`` (itself or its ``.dist``)."""
    dist = _unwrap(frequency)
    if not hasattr(dist, "pmf") or not hasattr(dist, "rvs"):
        raise TypeError(
            f"frequency must be a frozen scipy discrete distribution (e.g. scipy.stats.poisson(25)) "
            f"or an object whose .dist is one; got {type(frequency).__name__}")
    return dist


def frequency_mean(frequency: Any) -> float:
    """Expected annual count of a frequency object, or ``frequency`` itself if it is a number."""
    if isinstance(frequency, (int, float, np.integer, np.floating)):
        lam = float(frequency)
    else:
        lam = float(frequency_distribution(frequency).mean())
    if not np.isfinite(lam) or lam < 0:
        raise ValueError(f"frequency mean must be finite and >= 0, got {lam}")
    return lam


def _gpd_isf(q, c):
    if c == 0.0:
        return np.negative(np.log(q))
    out = np.log(q)
    out *= -c
    np.expm1(out, out=out)
    out /= c
    return out


def _lognorm_isf(q, s):
    out = special.ndtri(q)
    out *= -s
    return np.exp(out, out=out)


# isf of the standardised family (loc 0, scale 1) by closed form, with in-place numpy ops
_CLOSED_ISF = {
    "lognorm": _lognorm_isf,
    "genpareto": _gpd_isf,
    "expon": lambda q: np.negative(np.log(q)),
    "pareto": lambda q, b: np.power(q, -1.0 / b),
    "lomax": lambda q, c: np.expm1(np.log(q) * (-1.0 / c)),
    "weibull_min": lambda q, c: np.power(np.negative(np.log(q)), 1.0 / c),
}


class _FastScipy:
    """Vectorised ``isf``/``sf`` of a frozen scipy continuous distribution.

    Uses a closed form for common severity families and otherwise the distribution's
    private ``_isf``/``_sf`` with parsed shape, loc and scale (several times faster than
    the public methods' argument checking on large arrays). Each fast path is checked
    against the public method on probe values and dropped if they disagree.
    """

    def __init__(self, frozen: Any):
        self.frozen = frozen
        try:
            shapes, loc, scale = frozen.dist._parse_args(*frozen.args, **frozen.kwds)
            self._shapes, self._loc, self._scale = tuple(shapes), float(loc), float(scale)
            probe = np.array([0.5, 0.1])
            ok = np.allclose(self._isf_fast(probe), frozen.isf(probe), rtol=1e-10)
            self._fast = bool(ok and np.allclose(self._sf_fast(frozen.isf(probe)), probe))
        except Exception:  # pragma: no cover - depends on scipy internals
            self._fast = False

    def _isf_fast(self, q):
        closed = _CLOSED_ISF.get(getattr(self.frozen.dist, "name", ""))
        x = closed(q, *self._shapes) if closed else self.frozen.dist._isf(q, *self._shapes)
        if self._scale != 1.0:
            x *= self._scale
        if self._loc != 0.0:
            x += self._loc
        return x

    def _sf_fast(self, x):
        z = (np.asarray(x, dtype=float) - self._loc) / self._scale
        inside = z > self.frozen.dist.a
        out = np.ones_like(z)
        out[inside] = self.frozen.dist._sf(z[inside], *self._shapes)
        return out

    def isf(self, q):
        q = np.asarray(q, dtype=float)
        return self._isf_fast(q) if self._fast and q.size > 64 else self.frozen.isf(q)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        return self._sf_fast(x) if self._fast and x.size > 64 else self.frozen.sf(x)


class _PpfCdf:
    """``isf``/``sf`` for objects exposing only vectorised ``ppf`` and ``cdf``."""

    def __init__(self, obj: Any):
        self.obj = obj

    def isf(self, q):
        return np.asarray(self.obj.ppf(1.0 - np.asarray(q, dtype=float)), dtype=float)

    def sf(self, x):
        return 1.0 - np.asarray(self.obj.cdf(np.asarray(x, dtype=float)), dtype=float)


def severity_distribution(severity: Any) -> Any:
    """An object with vectorised ``isf(q)`` and ``sf(x)`` for the (unconditional) severity.

    ``severity`` may be a frozen scipy continuous distribution, a fit result carrying one
    in ``.dist``, or any object with vectorised ``isf``/``sf`` or ``ppf``/``cdf``.
    """
    dist = _unwrap(severity)
    if _is_frozen_scipy(dist) and isinstance(dist.dist, stats.rv_continuous):
        return _FastScipy(dist)
    if hasattr(dist, "isf") and hasattr(dist, "sf"):
        return dist
    if hasattr(dist, "ppf") and hasattr(dist, "cdf"):
        return _PpfCdf(dist)
    raise TypeError(
        "severity must be a frozen scipy continuous distribution, an object whose .dist is "
        f"one, or an object with vectorised ppf/cdf; got {type(severity).__name__}")


def resolve_threshold(severity: Any, threshold: float | None) -> float:
    """``threshold`` if given, else ``severity.threshold`` when present, else 0."""
    if threshold is None:
        threshold = getattr(severity, "threshold", None)
    h = 0.0 if threshold is None else float(threshold)
    if not np.isfinite(h) or h < 0:
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    return h


def survival_at(sev: Any, threshold: float) -> float:
    """``S(threshold)`` of a severity adapter; raises if no mass lies above the threshold."""
    s = float(np.asarray(sev.sf(np.array([threshold])), dtype=float)[0]) if threshold > 0 else 1.0
    if not s > 0:
        raise ValueError(
            f"the severity has no probability above the threshold {threshold:g} (S(H) = {s}); "
            "the conditional distribution above the threshold is undefined")
    return s
