"""Monte Carlo standard errors of capital figures computed on the same simulated years.

Every figure is carried as a :class:`Linearised`: its value and its *influence values*
``psi`` on the ``n`` simulated years (or rows of a copula reordering), the linearisation
``estimate - truth ≈ (1/n) Σ_t psi_t``. Its standard error is ``sqrt(Σ_t psi_t²) / n``, and
a sum, difference or ratio of estimates computed on the same years has the influence values
of its first-order expansion (delta method), so the pairing between them is kept:

* VaR (Bahadur representation): ``psi_t = -(1{x_t <= v} - p) / f``, where ``p`` is the share
  of years at or below the estimate ``v`` and ``1/f`` is fixed so that the standard error
  equals :func:`opwb.engine.riskmeasures.var_with_se`'s order-statistic standard error;
* mean (expected loss): ``psi_t = x_t - mean(x)``.

The modelled benefit ``VaR(gross) - VaR(net)`` of the same years therefore gets the *paired*
standard error ``sqrt(se_g² + se_n² - 2 rho se_g se_n)``, ``rho`` the correlation of the
two tail indicators ``1{gross_t <= v_g}`` and ``1{net_t <= v_n}``: a quota share ``c``
(``net = (1 - c) gross``) gives ``rho = 1`` and ``se = c · se_g`` exactly, where treating
the two VaRs as independent would give ``sqrt(1 + (1 - c)²) · se_g``. (The same formula as
the engine's paired VaR difference, Serfling 1980 §2.5; kept here because the capital
figures also need EL offsets, ratios and copula reorderings of the same linearisation.)

Examples
--------
>>> import numpy as np
>>> x = np.random.default_rng(1).lognormal(0.0, 1.0, 10_000)
>>> g, n = var_linearised(x, 0.99), var_linearised(0.7 * x, 0.99)
>>> bool(np.isclose((g - n).se, 0.3 * g.se))     # paired: the quota share's exact error
True
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from opwb.engine.riskmeasures import var_with_se

__all__ = [
    "Linearised",
    "allocate",
    "capital_linearised",
    "mean_linearised",
    "rss",
    "var_linearised",
]


@dataclass(frozen=True, eq=False)
class Linearised:
    """A figure (KRW, or a fraction) with its influence values on the simulated years.

    ``value`` is the estimate; ``psi`` (shape ``(n,)``) its influence values, so that
    ``se = sqrt(Σ psi²) / n``. Estimates on the same years combine with ``+``, ``-`` and
    multiplication by a number; :meth:`take` re-indexes the years (a copula reordering).
    """

    value: float
    psi: np.ndarray

    @property
    def se(self) -> float:
        """Monte Carlo standard error, in the unit of ``value``."""
        return float(np.sqrt(np.dot(self.psi, self.psi)) / self.psi.size)

    def __add__(self, other: Linearised) -> Linearised:
        return Linearised(self.value + other.value, self.psi + other.psi)

    def __sub__(self, other: Linearised) -> Linearised:
        return Linearised(self.value - other.value, self.psi - other.psi)

    def __mul__(self, c: float) -> Linearised:
        return Linearised(float(c) * self.value, float(c) * self.psi)

    __rmul__ = __mul__

    def take(self, order: np.ndarray) -> Linearised:
        """The same estimate with its years reordered: row ``r`` holds year ``order[r]``."""
        return Linearised(self.value, self.psi[order])

    @staticmethod
    def constant(value: float, n: int) -> Linearised:
        """A figure without Monte Carlo error (e.g. zero)."""
        return Linearised(float(value), np.zeros(n))


def var_linearised(x: np.ndarray, alpha: float) -> Linearised:
    """VaR at ``alpha`` of the outcomes ``x`` (KRW) with its Bahadur influence values.

    The value and the standard error are those of
    :func:`opwb.engine.riskmeasures.var_with_se`.
    """
    a = np.asarray(x, dtype=float)
    v, se = var_with_se(a, alpha)
    if not np.isfinite(se):
        # too few outcomes beyond the level to bound the quantile (opwb.engine.precision):
        # no linearisation exists, so every error built from it is unknown, not infinite
        return Linearised(v, np.full(a.size, np.nan))
    ind = a <= v
    if ind.all():                       # v is the sample maximum: use the strict indicator
        ind = a < v
    p = float(ind.mean())
    if se == 0.0 or not 0.0 < p < 1.0:
        return Linearised(v, np.zeros(a.size))
    scale = se * np.sqrt(a.size / (p * (1.0 - p)))
    return Linearised(v, -scale * (ind - p))


def mean_linearised(x: np.ndarray) -> Linearised:
    """Mean of ``x`` (expected annual loss, KRW) with influence values ``x - mean``."""
    a = np.asarray(x, dtype=float)
    m = float(a.mean())
    return Linearised(m, a - m)


def capital_linearised(x: np.ndarray, alpha: float, el_offset: bool) -> Linearised:
    """Capital ``VaR_alpha(x)``, or ``VaR_alpha(x) - E[x]`` with ``el_offset`` (KRW)."""
    v = var_linearised(x, alpha)
    return v - mean_linearised(x) if el_offset else v


def allocate(total: Linearised, parts: Sequence[Linearised], *, what: str) -> list[Linearised]:
    """Split ``total`` pro rata to ``parts``: ``a_i = total · x_i / Σ_j x_j``, with errors.

    The allocations add up to ``total`` exactly (and so do their influence values). When
    ``total`` is the plain sum of the parts, ``a_i = x_i`` with ``x_i``'s own errors.

    Raises
    ------
    ValueError
        The parts sum to zero while the total does not, or to the opposite sign of the
        total (a pro rata split would then reverse signs); ``what`` names the figure.
    """
    s_val = float(sum(p.value for p in parts))
    n = total.psi.size
    if s_val == 0.0 or not np.isfinite(s_val):
        if total.value == 0.0:
            return [Linearised.constant(0.0, n) for _ in parts]
        raise ValueError(f"cannot allocate the total {what} {total.value:.6g} pro rata: the "
                         f"stand-alone {what} figures sum to {s_val:.6g}")
    if total.value != 0.0 and np.sign(total.value) != np.sign(s_val):
        raise ValueError(f"cannot allocate the total {what} {total.value:.6g} pro rata: the "
                         f"stand-alone {what} figures sum to {s_val:.6g}, of the opposite "
                         "sign (possible with el_offset=True); report the stand-alone "
                         "figures or use el_offset=False")
    s_psi = np.sum([p.psi for p in parts], axis=0)
    ratio = total.value / s_val
    out = []
    for p in parts:
        w = p.value / s_val
        psi = w * total.psi + ratio * (p.psi - w * s_psi)
        out.append(Linearised(ratio * p.value, psi))
    return out


def rss(ses: Sequence[float]) -> float:
    """Root sum of squares: the standard error of a sum of independent estimates."""
    return float(np.sqrt(np.sum(np.square(np.asarray(ses, dtype=float)))))
