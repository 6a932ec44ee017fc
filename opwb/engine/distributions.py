"""Adapters from what users pass as a frequency or a severity (frozen scipy distributions,
fit results, spliced severities) to the vectorised ``rvs``/``isf``/``sf`` the engines use.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from opwb.fitting.result import SeverityFit

__all__ = [
    "frequency_distribution", "frequency_mean", "severity_distribution", "resolve_threshold",
    "survival_at", "CappedSeverity", "capped", "finite_mean_of", "check_cap",
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


def _burr_sf(z, c, d):
    # S(z) = 1 − (1 + z^−c)^−d as −expm1(−d log1p(z^−c)): scipy's burr/fisk compute 1 − F(z),
    # which is 0 from S ≈ 1e-16 on (a log-logistic threshold with S(H) = 1e-40 looked empty)
    with np.errstate(divide="ignore", over="ignore"):
        return -np.expm1(-d * np.log1p(np.power(z, -c)))


def _fisk_sf(z, c):
    return _burr_sf(z, c, 1.0)


# sf of the standardised family where scipy's own loses the far tail (it computes 1 − F)
_CLOSED_SF = {"burr": _burr_sf, "fisk": _fisk_sf}


class _FastScipy:
    """Vectorised ``isf``/``sf`` of a frozen scipy continuous distribution.

    Uses a closed form for common severity families and otherwise the distribution's
    private ``_isf``/``_sf`` with parsed shape, loc and scale (several times faster than
    the public methods' argument checking on large arrays). Each fast path is checked
    against the public method on probe values and dropped if they disagree. ``sf`` of the
    log-logistic (``fisk``) and Burr III (``burr``) is always the closed form, whose far
    tail scipy loses (it computes ``1 − F``).
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
        closed = _CLOSED_SF.get(getattr(self.frozen.dist, "name", ""))
        sf = closed if closed is not None else self.frozen.dist._sf
        out[inside] = sf(z[inside], *self._shapes)
        return out

    def isf(self, q):
        q = np.asarray(q, dtype=float)
        return self._isf_fast(q) if self._fast and q.size > 64 else self.frozen.isf(q)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        closed = getattr(self.frozen.dist, "name", "") in _CLOSED_SF
        return self._sf_fast(x) if self._fast and (x.size > 64 or closed) else self.frozen.sf(x)


class _PpfCdf:
    """``isf``/``sf`` for objects exposing only vectorised ``ppf`` and ``cdf``."""

    def __init__(self, obj: Any):
        self.obj = obj

    def isf(self, q):
        return np.asarray(self.obj.ppf(1.0 - np.asarray(q, dtype=float)), dtype=float)

    def sf(self, x):
        return 1.0 - np.asarray(self.obj.cdf(np.asarray(x, dtype=float)), dtype=float)


class _FitSurvival:
    """A fit's distribution adapter for ``isf``, the fit's own ``sf`` for survival.

    A :class:`~opwb.fitting.result.SeverityFit` computes ``S(x)`` by its family's
    log-space kernel, the function its likelihood used: the engine then accepts exactly the
    fits the fitting layer accepts (``S(H) = 1e-40`` is not zero).
    """

    def __init__(self, base: Any, fit: Any):
        self.base, self.fit = base, fit

    def isf(self, q):
        return self.base.isf(q)

    def sf(self, x):
        return np.asarray(self.fit.sf(np.asarray(x, dtype=float)), dtype=float)


def severity_distribution(severity: Any, cap: float | None = None) -> Any:
    """An object with vectorised ``isf(q)`` and ``sf(x)`` for the (unconditional) severity.

    ``severity`` may be a frozen scipy continuous distribution, a fit result carrying one
    in ``.dist``, a :class:`CappedSeverity`, or any object with vectorised ``isf``/``sf`` or
    ``ppf``/``cdf``. A finite ``cap`` censors it there (see :class:`CappedSeverity`).
    Survival, and so ``S(H)``, is never ``1 − F``: a
    :class:`~opwb.fitting.result.SeverityFit` gives its family's log-space survival
    function, a frozen scipy distribution its ``sf`` (a closed form for the log-logistic,
    whose scipy ``sf`` loses the far tail); only an object with nothing but ``ppf``/``cdf``
    falls back to ``1 − cdf``.
    """
    if isinstance(severity, CappedSeverity):
        base = severity_distribution(severity.severity)
        cap = severity.cap if cap is None else min(float(cap), severity.cap)
        return _Censored(base, cap)
    dist = _unwrap(severity)
    if _is_frozen_scipy(dist) and isinstance(dist.dist, stats.rv_continuous):
        base = _FastScipy(dist)
    elif hasattr(dist, "isf") and hasattr(dist, "sf"):
        base = dist
    elif hasattr(dist, "ppf") and hasattr(dist, "cdf"):
        base = _PpfCdf(dist)
    else:
        raise TypeError(
            "severity must be a frozen scipy continuous distribution, an object whose .dist is "
            f"one, or an object with vectorised ppf/cdf; got {type(severity).__name__}")
    if isinstance(severity, SeverityFit):
        base = _FitSurvival(base, severity)
    return base if cap is None or not np.isfinite(cap) else _Censored(base, float(cap))


class _Censored:
    """``min(X, cap)``: ``isf`` clipped at the cap, ``sf`` zero from the cap on."""

    def __init__(self, base: Any, cap: float):
        self.base, self.cap = base, float(cap)

    def isf(self, q):
        return np.minimum(np.asarray(self.base.isf(q), dtype=float), self.cap)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= self.cap, 0.0, np.asarray(self.base.sf(x), dtype=float))


def check_cap(cap: float | None, threshold: float = 0.0, *, name: str = "severity_cap"
              ) -> float:
    """A severity cap in KRW: ``None`` or ``inf`` (no cap) → ``inf``; otherwise a finite
    amount above ``threshold``; anything else raises ``ValueError``."""
    if cap is None:
        return np.inf
    if isinstance(cap, bool) or not isinstance(cap, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be an amount in KRW (or None for no cap), got {cap!r}")
    cap = float(cap)
    if np.isnan(cap) or cap <= threshold:
        raise ValueError(f"{name} must be above the threshold {threshold:,.0f} KRW "
                         f"(or None for no cap), got {cap!r}")
    return cap


class CappedSeverity:
    """A severity censored at a maximum single loss: a loss above ``cap`` counts as ``cap``.

    The field's guard against infinite-mean tails (a *severity cap*, maximum single loss):
    ``min(X, cap)`` keeps the probability of a catastrophic loss and bounds its size, so the
    mean and the expected shortfall exist whatever the tail index. It is applied the same
    way by the Monte Carlo engine (:class:`opwb.engine.simulate.CellModel` ``severity_cap``),
    the FFT and the single-loss approximation. It has scipy's vocabulary (``sf``, ``isf``,
    ``cdf``, ``ppf``) and keeps the wrapped severity's ``threshold``.

    Parameters
    ----------
    severity : a severity (frozen scipy distribution, fit result, ...)
    cap : float
        The maximum single loss (KRW), above the threshold.

    Examples
    --------
    >>> from scipy import stats
    >>> s = CappedSeverity(stats.genpareto(1.5, scale=1e7), cap=1e12)
    >>> float(s.isf(1e-12)), float(s.sf(2e12)), s.finite_mean
    (1000000000000.0, 0.0, True)
    """

    finite_mean = True

    def __init__(self, severity: Any, cap: float):
        self.severity = severity
        self.threshold = getattr(severity, "threshold", None)
        self.cap = check_cap(cap, self.threshold or 0.0, name="cap")
        self._adapter = severity_distribution(severity, self.cap)

    def isf(self, q):
        return self._adapter.isf(q)

    def sf(self, x):
        return self._adapter.sf(x)

    def ppf(self, q):
        return self.isf(1.0 - np.asarray(q, dtype=float))

    def cdf(self, x):
        return 1.0 - self.sf(x)

    def __repr__(self) -> str:
        return f"CappedSeverity({self.severity!r}, cap={self.cap:g})"


def capped(severity: Any, cap: float | None) -> Any:
    """``severity`` censored at ``cap`` (:class:`CappedSeverity`), or itself when ``cap`` is
    None or infinite."""
    cap = check_cap(cap, getattr(severity, "threshold", None) or 0.0)
    return severity if not np.isfinite(cap) else CappedSeverity(severity, cap)


def finite_mean_of(severity: Any) -> bool | None:
    """Whether the severity has a finite mean: True, False, or None when it cannot be told.

    A :class:`CappedSeverity` always has; a fit result says so itself (``finite_mean``);
    a frozen scipy distribution by its ``mean()`` (infinite or undefined ⇒ False).
    """
    flag = getattr(severity, "finite_mean", None)
    if isinstance(flag, (bool, np.bool_)):
        return bool(flag)
    dist = _unwrap(severity)
    family = getattr(dist, "family", None)
    if callable(getattr(family, "finite_mean", None)) and hasattr(dist, "args"):
        return bool(family.finite_mean(dict(zip(family.param_names, dist.args))))
    if _is_frozen_scipy(dist):
        with np.errstate(all="ignore"):
            return bool(np.isfinite(dist.mean()))
    return None


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
