"""Value at risk and expected shortfall of simulated samples, with Monte Carlo errors.

Conventions (stated once, used everywhere in opwb):

* ``var(x, alpha)`` is the lower empirical quantile ``inf{v : F_n(v) >= alpha}``, i.e. the
  ``k``-th order statistic with ``k = ceil(n · alpha)`` (numpy's ``"inverted_cdf"``).
* ``es(x, alpha) = var + E_n[(X - var)^+] / (1 - alpha)``: the mean of the worst
  ``(1 - alpha)`` share of outcomes (Acerbi-Tasche), exact when ``n (1 - alpha)`` is an
  integer and always ``>= var``.
* Standard errors: VaR from the order-statistic (binomial) interval -- the number of
  draws at or below the true quantile is Binomial(n, alpha) -- and ES from its influence
  function, ``sd((X - VaR)^+) / ((1 - alpha) sqrt(n))``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import stats

from opwb.data.levels import check_level

__all__ = ["var", "es", "var_with_se", "es_with_se", "var_interval", "mean_with_se",
           "risk_summary"]


def _check(x, alpha: float) -> np.ndarray:
    check_level(alpha)
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"x must be a non-empty 1-d array of outcomes, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"x contains {int(np.isnan(a).sum())} NaN value(s)")
    return a


def _kth(a: np.ndarray, k: int) -> float:
    """k-th smallest value (1-based) of ``a``."""
    return float(np.partition(a, k - 1)[k - 1])


def _index(n: int, alpha: float) -> int:
    # ceil(n * alpha) with a guard against floating error (e.g. 1000 * 0.999 = 998.99...9)
    return int(min(max(np.ceil(n * alpha - 1e-9 * n * alpha), 1), n))


def var(x, alpha: float) -> float:
    """Value at risk: the lower empirical ``alpha``-quantile of the outcomes ``x``.

    Examples
    --------
    >>> var([1.0, 2.0, 3.0, 4.0], 0.75)
    3.0
    """
    a = _check(x, alpha)
    return _kth(a, _index(a.size, float(alpha)))


def es(x, alpha: float) -> float:
    """Expected shortfall: mean of the worst ``(1 - alpha)`` share of the outcomes ``x``.

    Examples
    --------
    >>> es([1.0, 2.0, 3.0, 4.0], 0.5)
    3.5
    """
    a = _check(x, alpha)
    v = _kth(a, _index(a.size, float(alpha)))
    return v + float(np.maximum(a - v, 0.0).mean()) / (1.0 - float(alpha))


def var_interval(x, alpha: float, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval for the true ``alpha``-quantile.

    Order statistics ``(x_(l), x_(u))`` with ``l``, ``u`` from Binomial(n, alpha) quantiles;
    coverage is at least ``level`` for a continuous distribution.
    """
    a = _check(x, alpha)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be strictly between 0 and 1, got {level!r}")
    n, tail = a.size, (1.0 - level) / 2.0
    lo = int(stats.binom.ppf(tail, n, alpha))
    hi = int(stats.binom.ppf(1.0 - tail, n, alpha)) + 1
    lo, hi = min(max(lo, 1), n), min(max(hi, 1), n)
    srt = np.partition(a, [lo - 1, hi - 1])
    return float(srt[lo - 1]), float(srt[hi - 1])


def var_with_se(x, alpha: float) -> tuple[float, float]:
    """VaR and its Monte Carlo standard error (half the width of the ±1σ order-statistic interval)."""
    a = _check(x, alpha)
    n, alpha = a.size, float(alpha)
    k = _index(n, alpha)
    d = np.sqrt(n * alpha * (1.0 - alpha))
    lo, hi = int(min(max(np.floor(k - d), 1), n)), int(min(max(np.ceil(k + d), 1), n))
    srt = np.partition(a, sorted({lo - 1, k - 1, hi - 1}))
    width = (srt[hi - 1] - srt[lo - 1]) * d / max(hi - lo, 1) if hi > lo else 0.0
    return float(srt[k - 1]), float(width)


def es_with_se(x, alpha: float) -> tuple[float, float]:
    """ES and its Monte Carlo standard error ``sd((X - VaR)^+) / ((1 - alpha) sqrt(n))``."""
    a = _check(x, alpha)
    v = _kth(a, _index(a.size, float(alpha)))
    excess = np.maximum(a - v, 0.0)
    value = v + float(excess.mean()) / (1.0 - float(alpha))
    se = float(excess.std(ddof=1)) / (1.0 - float(alpha)) / np.sqrt(a.size) if a.size > 1 else np.inf
    return value, se


def mean_with_se(x) -> tuple[float, float]:
    """Sample mean and its standard error."""
    a = _check(x, 0.5)
    se = float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else np.inf
    return float(a.mean()), se


def risk_summary(samples: Mapping[str, np.ndarray], alpha: float = 0.999, *,
                 finite_mean: Mapping[str, bool | None] | None = None):
    """One row per named sample: mean, VaR and ES at ``alpha``, each with its MC standard error.

    Returns a :class:`pandas.DataFrame` indexed by name with columns ``mean, mean_se, var,
    var_se, es, es_se, n, mean_exists``. Where ``finite_mean[name]`` is False (the model
    behind the sample has an infinite mean, with no severity cap) the mean and ES do not
    exist: they are NaN and ``mean_exists`` is False, never a sample average.
    """
    import pandas as pd

    rows = {}
    for name, x in samples.items():
        exists = (finite_mean or {}).get(name, True) is not False
        m, m_se = mean_with_se(x) if exists else (np.nan, np.nan)
        v, v_se = var_with_se(x, alpha)
        e, e_se = es_with_se(x, alpha) if exists else (np.nan, np.nan)
        rows[name] = {"mean": m, "mean_se": m_se, "var": v, "var_se": v_se,
                      "es": e, "es_se": e_se, "n": int(np.asarray(x).size),
                      "mean_exists": exists}
    return pd.DataFrame.from_dict(rows, orient="index")
