"""The result of :func:`opwb.engine.fft.compound_fft`: a discretised annual aggregate loss
(:class:`CompoundDistribution`) with its VaR and ES at any level its grid holds, and their
numerical errors (:class:`CompoundMeasures`). Amounts in KRW, levels as fractions.

How the pieces off the grid enter (claims above the severity grid's end, sums beyond the
aggregate grid's end), how VaR is interpolated and how errors are estimated is described,
with sources, in :mod:`opwb.engine.fft`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from opwb.data.levels import check_level
from opwb.engine._fftkernels import TILT

__all__ = ["NO_ES", "CompoundDistribution", "CompoundMeasures", "step_error"]

NO_ES = ("expected shortfall does not exist: the severity has an infinite mean (tail index "
         ">= 1) and no cap; give a severity_cap (maximum single loss) to obtain one")
"""The note (and ``ValueError`` message) when ES does not exist."""


@dataclass(frozen=True)
class CompoundMeasures:
    """VaR and ES at ``alpha`` of one distribution, each with its numerical error (KRW).

    ``es``/``es_error`` are NaN when ES does not exist (``es_exists`` False, see ``note``).
    """

    alpha: float
    kind: str
    var: float
    var_error: float
    es: float
    es_error: float
    es_exists: bool
    note: str = ""


@dataclass(frozen=True, eq=False)
class CompoundDistribution:
    """Discretised annual aggregate loss: pmf on ``0, h, 2h, ...`` plus what lies off the grid.

    Attributes (amounts in KRW): ``h``; ``pmf`` (``P(S = kh, N_top = 0)``); ``exact_mean``
    (``E[N] E[X]`` by quadrature, inf without a mean); ``tail_mass`` (probability off the
    grid); ``tail_mean`` and ``tail_prob`` (``E[S; N_top >= 1]`` and ``P(N_top >= 1)``,
    claims above ``top``); ``alpha``, ``tail_tol`` (the grid's design); ``kind`` ("gross" or
    "net"); ``net``; ``top`` (severity grid end); ``holds_up_to`` (the grid's cdf is that of
    ``S`` up to this loss); ``small_mean`` (``E[S; N_top = 0]``); ``tail_mean_error``;
    ``es_exists``; ``coarse`` (the same distribution at step ``2h``, whose own ``coarse`` is
    at ``4h``: the errors of :meth:`var_error` and :meth:`es_error`).
    """

    h: float
    pmf: np.ndarray
    exact_mean: float
    tail_mass: float
    tail_mean: float
    tail_prob: float
    alpha: float
    tail_tol: float
    kind: str = "gross"
    net: CompoundDistribution | None = None
    top: float = np.inf
    holds_up_to: float = np.inf
    small_mean: float = 0.0
    tail_mean_error: float = 0.0
    es_exists: bool = True
    coarse: CompoundDistribution | None = None
    _cum: np.ndarray = field(init=False, repr=False)
    _grid_mean: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cum", np.cumsum(self.pmf))
        object.__setattr__(self, "_grid_mean", float((self.pmf * self.x).sum()))

    def __repr__(self) -> str:
        return (f"CompoundDistribution(kind={self.kind!r}, n_points={self.pmf.size}, h={self.h:.6g}, "
                f"alpha={self.alpha}, es_exists={self.es_exists}, net={self.net is not None})")

    @property
    def gross(self) -> CompoundDistribution:
        """The gross distribution: this object (the one :func:`compound_fft` returns)."""
        if self.kind != "gross":
            raise AttributeError("this is the net distribution; its gross is compound_fft's result")
        return self

    @property
    def x(self) -> np.ndarray:
        """Grid points ``k h`` (KRW)."""
        return np.arange(self.pmf.size) * self.h

    @property
    def overflow_mass(self) -> float:
        """Probability that small claims alone sum beyond the grid's end (counted exactly in ES)."""
        return max(1.0 - self.tail_prob - float(self._cum[-1]), 0.0)

    def mean(self) -> float:
        """Mean of the discretised model (KRW): ``E[S; N_top = 0] + E[S; N_top >= 1]``."""
        return self.small_mean + self.tail_mean

    @property
    def discretisation_error(self) -> float:
        """Relative error of :meth:`mean` against the exact mean (NaN if that is infinite)."""
        if not np.isfinite(self.exact_mean) or self.exact_mean == 0:
            return float("nan")
        return float(self.mean() / self.exact_mean - 1.0)

    def cdf(self, x):
        """P(S <= x) of the discretised distribution (exact model up to ``holds_up_to``)."""
        k = np.floor(np.asarray(x, dtype=float) / self.h + 1e-9)
        idx = np.clip(k, -1, self.pmf.size - 1).astype(np.int64)
        out = np.where(idx >= 0, self._cum[np.maximum(idx, 0)], 0.0)
        return float(out) if out.ndim == 0 else out

    def _refuse(self, alpha: float) -> ValueError:
        return ValueError(
            f"the {self.kind} FFT grid cannot hold the tail at alpha={alpha}: it represents the "
            f"distribution up to {min(self.holds_up_to, self.pmf.size * self.h):.4g} KRW only; "
            f"rebuild with compound_fft(..., alpha={alpha})")

    def _var_cell(self, alpha: float) -> tuple[float, int]:
        alpha = check_level(alpha)
        cum, h = self._cum, self.h
        k = int(np.searchsorted(cum, alpha, side="left"))
        if k >= cum.size:
            raise self._refuse(alpha)
        if k == 0:
            v = 0.5 * h * alpha / cum[0]
        else:
            v = (k - 0.5) * h + h * (alpha - cum[k - 1]) / (cum[k] - cum[k - 1])
        if v > self.holds_up_to:
            raise self._refuse(alpha)
        return float(v), k

    def var(self, alpha: float) -> float:
        """Value at risk at ``alpha`` (KRW): the grid cdf at cell midpoints, interpolated.

        Raises ``ValueError`` for a level outside (0, 1) or beyond what the grid holds.
        """
        return self._var_cell(alpha)[0]

    def es(self, alpha: float) -> float:
        """Expected shortfall ``VaR + E[(S - VaR)^+] / (1 - alpha)`` (KRW), off-grid mass exact.

        Raises ``ValueError`` when ES does not exist (``es_exists`` False: infinite mean, no
        cap), and as :meth:`var` does.
        """
        if not self.es_exists:
            raise ValueError(NO_ES)
        alpha = check_level(alpha)
        v = self.var(alpha)
        k = int(np.floor(v / self.h)) + 1
        excess = float((self.pmf[k:] * (np.arange(k, self.pmf.size) * self.h - v)).sum())
        excess += (self.small_mean - self._grid_mean) - v * self.overflow_mass
        excess += self.tail_mean - v * self.tail_prob
        return float(v + excess / (1.0 - alpha))

    def _wrapped(self) -> float:
        return float(np.exp(-TILT) * self.overflow_mass)

    def _step_error(self, figure: str, alpha: float, value: float) -> float:
        """Discretisation error of ``value`` from the same figure at steps ``2h`` and ``4h``."""
        coarser = []
        d = self.coarse
        while d is not None and len(coarser) < 2:
            try:
                coarser.append(getattr(d, figure)(alpha))
            except ValueError:
                return float("inf")
            d = d.coarse
        return step_error(value, *coarser) if coarser else float("nan")

    def var_error(self, alpha: float) -> float:
        """Numerical error of :meth:`var` (KRW): discretisation (see :func:`step_error`); the
        interpolation within VaR's cell, ``2h min(1, ρ)`` with ``ρ`` the pmf's relative change
        to the neighbouring cells (``~h f'/f`` where the density is resolved, about 1 at an
        atom); and overflow wrapped round the grid (``e^-10`` of it, over the density)."""
        v, k = self._var_cell(alpha)
        pmf = self.pmf
        near = pmf[max(k - 1, 0):k + 2]
        rho = float(np.max(np.abs(near - pmf[k]))) / pmf[k] if k > 0 else 1.0
        wrap = self._wrapped() / (pmf[k] / self.h)
        return float(self._step_error("var", alpha, v) + 2.0 * self.h * min(1.0, rho) + wrap)

    def es_error(self, alpha: float) -> float:
        """Numerical error of :meth:`es` (KRW): discretisation (see :func:`step_error`), the
        quadrature error of ``E[X; X > top]`` and the wrapped overflow, over ``1 - alpha``."""
        e = self.es(alpha)
        span = self.pmf.size * self.h
        off_grid = (self.tail_mean_error + self._wrapped() * span) / (1.0 - float(alpha))
        return float(self._step_error("es", alpha, e) + off_grid)

    def measures(self, alpha: float | None = None) -> CompoundMeasures:
        """VaR and ES at ``alpha`` (default: the grid's design level) with their errors."""
        alpha = self.alpha if alpha is None else check_level(alpha)
        v, v_err = self.var(alpha), self.var_error(alpha)
        if not self.es_exists:
            return CompoundMeasures(alpha, self.kind, v, v_err, np.nan, np.nan, False, NO_ES)
        return CompoundMeasures(alpha, self.kind, v, v_err, self.es(alpha), self.es_error(alpha), True)


def step_error(f_h: float, f_2h: float, f_4h: float | None = None) -> float:
    """Error of ``f_h`` estimated from the same figure at steps ``2h`` and ``4h`` (KRW).

    With differences ``d1 = f_h - f_2h`` and ``d0 = f_2h - f_4h`` of one sign and their ratio
    ``r = d0 / d1``: ``|d1|`` when ``r >= 2`` (a bound when the error falls at least linearly
    with the step: mass dispersal adds per claim a variance at ``2h`` at least twice that at
    ``h``, and converges as ``h²`` once resolved); otherwise the remaining geometric series
    ``|d1| / (r - 1)``, with ``r`` taken as at least 1.1 (convergence slower than linear, as
    while the body of a very heavy-tailed sum lies within a few cells). Differences of
    opposite signs (no monotone convergence yet): ``|d0| + |d1|``. Never less than
    ``|d0| / 2``, the error left if the error at ``2h`` was at most ``|d0|`` and halves (a
    guard against two error terms of opposite signs making ``d1`` small by chance).
    Without ``f_4h``: ``|d1|``.
    """
    d1 = f_h - f_2h
    if f_4h is None:
        return abs(d1)
    d0 = f_2h - f_4h
    if d0 * d1 > 0:
        r = d0 / d1
        est = abs(d1) if r >= 2.0 else abs(d1) / (max(r, 1.1) - 1.0)
    else:
        est = abs(d0) + abs(d1)
    return max(est, abs(d0) / 2.0)
