"""How far to trust a severity fit: the limits of each family and the status they imply.

A left-truncated likelihood often has no interior maximum, or one the data do not pin down:
above a threshold a lognormal can run to μ → −∞, σ → ∞, where it becomes a Pareto (its
*Pareto limit*); a Weibull runs to the same limit as its shape goes to 0; a Burr XII to a
Pareto starting at the smallest loss as c → ∞, d → 0 (Cope, Mignola, Antonini & Ugoccioni
2009, "Challenges and pitfalls in measuring operational risk from loss data", Journal of
Operational Risk 4(4); Cavallo et al. 2012). Along such a limit the parameters run off
together, so a likelihood that is flat towards it leaves them unidentified.

:func:`family_limits` lists, for a family and the data, each limit with the supremum of the
log-likelihood along it (the maximum of the limiting family, in closed form or by a fit of
the limiting family). A limit is of one of two kinds:

``"edge"``
    one parameter goes to the boundary of its range and the limit is a proper distribution
    whose remaining parameters the data identify (GPD σ → 0: a Pareto with the same ξ;
    gamma shape → 0; g-and-h h = 0). Reported by holding that parameter at the boundary.
``"ridge"``
    several parameters run off together (lognormal → Pareto, Weibull → Pareto, log-gamma →
    lognormal, Burr → Pareto or Weibull, Lomax → exponential, g-and-h g → −∞). The
    parameters along a ridge are not identified.

The g-and-h ridge g → −∞
    With ``B/|g|`` held, the losses above H follow ``A + (B/|g|)·e^{hZ²/2}``, Z half-normal,
    whose density is infinite at its lower end: the likelihood is **unbounded** on every
    data set (on the bundled internal-fraud cell it passes the regular maximum by 2.65
    units already at h ≈ 1.6). Its supremum counts the smallest loss by the probability of
    its won (:func:`opwb.fitting.gandh_limits.gandh_ridge`, after Cheng & Iles 1987).

:func:`assess` turns the interior maximum and the limits into a status:

- ``"ok"``: an interior maximum that is the supremum, with a positive-definite information
  matrix, and no ridge limit within :data:`FLAT` log-likelihood units of it;
- ``"edge"``: the supremum is at an edge limit (and no ridge within :data:`FLAT`);
- ``"degenerate"``: the supremum is at a ridge limit, or a ridge limit is within
  :data:`FLAT` units of the maximum — the 95% likelihood-ratio region of the parameters is
  unbounded, so they are not identified; no standard errors are reported;
- ``"not converged"``: the optimiser stopped without a maximum and no limit explains why.

The comparisons use log-likelihood values only, which the data identify, never coordinates
on a flat ridge.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, special

from opwb.fitting.gandh_fit import G_MAX
from opwb.fitting.gandh_limits import (
    RECORDING_UNIT,
    gandh_ridge,
    gandh_ridge_point,
    shifted_pareto_loglik,
)

__all__ = ["FLAT", "Limit", "family_limits", "assess", "Assessment", "STATUSES",
           "GANDH_EDGE", "RECORDING_UNIT", "gandh_ridge", "shifted_pareto_loglik"]

FLAT = 0.5 * 3.841458820694124
"""Half the 95% point of χ²₁ (1.92 log-likelihood units): a limit this close to the maximum
lies inside the 95% likelihood-ratio region of the parameters."""

TIE = 1e-4
"""An interior maximum less than this (log-likelihood units) above a limit is that limit: the
optimiser has followed the parameters out to the boundary."""

STATUSES = ("ok", "edge", "degenerate", "not converged")

GANDH_EDGE = "h = 0 (the g-distribution, a shifted lognormal)"
"""The name of the g-and-h's edge limit h = 0."""

Kind = Literal["edge", "ridge"]


@dataclass(frozen=True)
class Limit:
    """One limit of a family on given data.

    ``loglik`` is the supremum of the log-likelihood along the limit (raw KRW scale);
    ``tail_index`` that of the limiting distribution; ``hold`` for edge limits the parameter
    and the unconstrained value (``θ``, on data scaled to median 1) at which the fit
    represents the limit; ``point``, for a ridge that has one, natural parameters (KRW) of a
    member far along it, which a fit degenerate towards the ridge reports (g-and-h: g = −30).
    """

    name: str
    kind: Kind
    loglik: float
    tail_index: float
    hold: tuple[str, float] | None = None
    point: tuple[tuple[str, float], ...] | None = None


@dataclass(frozen=True)
class Assessment:
    """Outcome of :func:`assess`: the status, which candidate carries the fit, and why."""

    status: str
    use: Literal["interior", "edge", "best"]
    limit: Limit | None
    loglik: float
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------- limits
def pareto_loglik(x: np.ndarray, xm: float) -> tuple[float, float]:
    """Maximum log-likelihood and tail index of a Pareto ``S(x) = (x/xm)^−α`` on ``x ≥ xm``.

    The MLE is ``α = n / Σ ln(x/xm)`` (closed form).

    Examples
    --------
    >>> ll, xi = pareto_loglik(np.array([1.0, np.e]), 1.0)
    >>> round(xi, 6), round(ll, 6)     # α = 2: ll = 2 ln 2 − 3
    (0.5, -1.613706)
    """
    t = np.log(x / xm)
    st = float(t.sum())
    if st <= 0:
        return -math.inf, math.inf
    n = x.size
    a = n / st
    return n * math.log(a) - n * math.log(xm) - (a + 1.0) * st, 1.0 / a


def _pareto_alpha_at_most_one(x: np.ndarray, h: float) -> tuple[float, float]:
    """Sup over α ≤ 1 of the Pareto above ``h`` (gamma's scale → ∞ limit, α = 1 − shape)."""
    ll, xi = pareto_loglik(x, h)
    if xi >= 1.0:
        return ll, xi
    st = float(np.log(x / h).sum())
    return -x.size * math.log(h) - 2.0 * st, 1.0


def _exponential_loglik(x: np.ndarray, h: float) -> float:
    ex = float(np.sum(x - h))
    if ex <= 0:
        return -math.inf
    lam = x.size / ex
    return x.size * math.log(lam) - x.size


def _log_exp1(z: np.ndarray) -> np.ndarray:
    """log E₁(z) for z > 0 without underflow (asymptotic series beyond z = 600)."""
    z = np.asarray(z, dtype=float)
    with np.errstate(divide="ignore"):
        direct = np.log(special.exp1(np.minimum(z, 600.0)))
    far = -z - np.log(z) + np.log1p(-1.0 / z + 2.0 / z ** 2 - 6.0 / z ** 3 + 24.0 / z ** 4)
    return np.where(z < 600.0, direct, far)


def _gamma_shape_zero_loglik(x: np.ndarray, h: float) -> float:
    """Sup over the scale of the gamma's shape → 0 limit, density e^(−x/s) / (x E₁(h/s))."""
    slx, sx, n = float(np.log(x).sum()), float(x.sum()), x.size

    def nll(log_s: float) -> float:
        s = math.exp(log_s)
        return slx + sx / s + n * float(_log_exp1(h / s))

    centre = math.log(float(np.mean(x)))
    res = optimize.minimize_scalar(nll, bracket=(centre - 3.0, centre), tol=1e-10)
    return -float(res.fun)


def _lognormal_loglik_positive_mu(x: np.ndarray, h: float) -> tuple[float, float]:
    """Sup of the lognormal truncated at ``h`` over μ ≥ 0: the log-gamma's limit a, b → ∞
    (ln X ~ Gamma(a, rate b) → N(a/b, a/b²), and a/b > 0), so the lognormal's own Pareto
    limit μ → −∞ is not reached through it. L-BFGS-B with the bound μ ≥ 0."""
    lx, lh = np.log(x), math.log(h)

    def nll(t):
        mu, sigma = t[0], math.exp(t[1])
        z = (lx - mu) / sigma
        return -(float(np.sum(-0.5 * z * z - lx)) - x.size * (t[1] + 0.5 * math.log(2 * math.pi))
                 - x.size * float(special.log_ndtr(-(lh - mu) / sigma)))

    m, sd = float(lx.mean()), max(float(lx.std()), 1e-3)
    best = min((optimize.minimize(nll, start, method="L-BFGS-B",
                                  bounds=[(0.0, None), (-7.0, 7.0)])
                for start in ([m, math.log(sd)], [max(m - 2 * sd, 0.0), math.log(2 * sd)],
                              [0.0, math.log(max(lh, 1.0) / 2)])), key=lambda r: r.fun)
    return -float(best.fun), 0.0


SupOf = Callable[[str], tuple[float, float]]
"""``sup_of(family) -> (supremum log-likelihood, tail index there)`` of another family."""


def family_limits(family: str, x: np.ndarray, threshold: float, sup_of: SupOf) -> list[Limit]:
    """The limits of ``family`` on losses ``x`` above ``threshold`` (none when it is 0).

    Parameters
    ----------
    family : str
        Registry name.
    x : ndarray
        The losses (KRW), all at or above ``threshold``.
    threshold : float
        Collection threshold H (KRW). The Pareto limits exist only for H > 0.
    sup_of : callable
        Supremum of another family on the same data (for Burr XII → Weibull), given by the
        caller so that this module needs no fitter.
    """
    h = float(threshold)
    out: list[Limit] = []
    if family == "gandh":
        r = gandh_ridge_point(x, h)
        member = r.member(-G_MAX)
        return [Limit(GANDH_EDGE, "edge", math.nan, 0.0, ("h", 0.0)),
                Limit("g → −∞ with B/|g| fixed: A + (B/|g|)·e^(hZ²/2) on the upper half of Z "
                      "(its likelihood is unbounded at the smallest loss, counted here to the "
                      "won)", "ridge", r.loglik, r.tail_index,
                      point=None if member is None else tuple(member.items()))]
    if h <= 0 or family == "shifted_lognormal":
        return out
    par, par_xi = pareto_loglik(x, h)
    pareto = "a Pareto above the threshold"
    if family == "lognormal":
        out.append(Limit(f"μ → −∞, σ → ∞: {pareto}", "ridge", par, par_xi))
    elif family == "weibull":
        out.append(Limit(f"shape → 0, scale → 0: {pareto}", "ridge", par, par_xi))
    elif family == "gamma":
        out.append(Limit("shape → 0: density ∝ e^(−x/scale)/x", "edge",
                         _gamma_shape_zero_loglik(x, h), 0.0, ("shape", -12.0)))
        ll, xi = _pareto_alpha_at_most_one(x, h)
        out.append(Limit(f"scale → ∞: {pareto} with α = 1 − shape", "ridge", ll, xi))
    elif family == "loglogistic":
        out.append(Limit(f"scale → 0: {pareto}", "edge", par, par_xi, ("scale", -12.0)))
    elif family == "lomax":
        out.append(Limit(f"scale → 0: {pareto}", "edge", par, par_xi, ("scale", -12.0)))
        out.append(Limit("scale, alpha → ∞: an exponential above the threshold", "ridge",
                         _exponential_loglik(x, h), 0.0))
    elif family == "genpareto":
        out.append(Limit(f"σ → 0: {pareto}", "edge", par, par_xi, ("sigma", -12.0)))
    elif family == "burr12":
        out.append(Limit(f"scale → 0 (only c·d identified): {pareto}", "ridge", par, par_xi))
        ll, xi = pareto_loglik(x, float(x.min()))
        out.append(Limit("c → ∞, d → 0: a Pareto starting at the smallest loss", "ridge", ll, xi))
        ll, xi = sup_of("weibull")
        out.append(Limit("d → ∞: the Weibull", "ridge", ll, xi))
    elif family == "loggamma":
        ll, xi = _lognormal_loglik_positive_mu(x, h)
        out.append(Limit("a, b → ∞: the lognormal", "ridge", ll, xi))
    return out


# --------------------------------------------------------------------------- status
def _fmt(v: float) -> str:
    return f"{v:,.2f}"


def assess(family_label: str, interior: float | None, interior_reason: str,
           limits: list[Limit], edge_loglik: Callable[[Limit], float]) -> Assessment:
    """Status of a fit from its interior maximum and its limits.

    Parameters
    ----------
    family_label : str
        For the sentences of ``warnings``.
    interior : float or None
        Log-likelihood of the converged interior maximum (positive-definite information),
        None when the optimiser found none.
    interior_reason : str
        Why there is no interior maximum (the optimiser's words), used when nothing else
        explains it.
    limits : list of Limit
    edge_loglik : callable
        Log-likelihood of the fit holding an edge limit's parameter at its boundary (called
        for edge limits whose supremum is not known in closed form, e.g. g-and-h h = 0).
    """
    lims = [lim if math.isfinite(lim.loglik) or lim.kind == "ridge" else
            Limit(lim.name, lim.kind, edge_loglik(lim), lim.tail_index, lim.hold)
            for lim in limits]
    ridges = [lim for lim in lims if lim.kind == "ridge" and math.isfinite(lim.loglik)]
    edges = [lim for lim in lims if lim.kind == "edge" and math.isfinite(lim.loglik)]
    ridge = max(ridges, key=lambda lim: lim.loglik, default=None)
    edge = max(edges, key=lambda lim: lim.loglik, default=None)
    top = max([v for v in (interior, ridge and ridge.loglik, edge and edge.loglik)
               if v is not None], default=None)
    if top is None:
        return Assessment("not converged", "best", None, math.nan,
                          (f"The optimiser found no maximum of the {family_label} likelihood: "
                           f"{interior_reason}.",))
    ridge_near = ridge is not None and ridge.loglik > top - FLAT
    if ridge is not None and ridge.loglik >= top - 1e-9:
        return Assessment("degenerate", "best", ridge, ridge.loglik, (
            f"The {family_label} likelihood keeps increasing towards the limit {ridge.name} "
            f"(log-likelihood {_fmt(ridge.loglik)}"
            + (f" against {_fmt(interior)} at the best interior point" if interior is not None
               else "") + "): there is no maximum and the parameters are not identified.",))
    at_edge = edge is not None and (edge.loglik >= top - 1e-9 or (
        interior is not None and edge.loglik >= interior - TIE))
    if at_edge:
        if ridge_near:
            return Assessment("degenerate", "best", ridge, top, (_not_identified(
                family_label, ridge, top),))
        return Assessment("edge", "edge", edge, edge.loglik, (
            f"The {family_label} likelihood is largest at its boundary {edge.name}; the fit "
            f"is that limiting distribution, with the parameter held at the boundary "
            f"(no standard error for it).",))
    if ridge_near:
        return Assessment("degenerate", "interior", ridge, interior, (_not_identified(
            family_label, ridge, interior),))
    return Assessment("ok", "interior", None, interior, ())


def _not_identified(label: str, ridge: Limit, top: float) -> str:
    return (f"The data do not identify the {label} parameters: the limit {ridge.name} reaches "
            f"a log-likelihood of {_fmt(ridge.loglik)}, within {top - ridge.loglik:.2f} of the "
            f"maximum {_fmt(top)} (less than {FLAT:.2f}, the 95% likelihood-ratio bound), so "
            f"the parameters can run along that limit without the fit getting worse.")
