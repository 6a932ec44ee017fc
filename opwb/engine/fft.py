"""Compound (aggregate) loss distribution of one cell by FFT, with VaR and ES and their errors.

Method (Embrechts & Frei 2009, "Panjer recursion versus FFT"; Gerber 1982 for step 1):

1. The severity above the threshold ``H`` (censored at ``severity_cap`` when given: an atom
   at the cap) is discretised on ``0, h, ..., top`` by mass dispersal (local moment
   matching of order 1): each interval's probability is split between its end points
   keeping its mean, so the stop-loss transform ``E[(X - kh)^+]`` is exact at grid points.
   Claims above ``top`` (``N_top`` of them in a year, ``q = P(X > top | X > H)``) are not
   discretised: the aggregate pmf is defective, ``P(S = x, N_top = 0)``.
2. Net of a layer: grid point ``x`` carries its retained loss ``x - policy.recover(x)``,
   spread linearly over the two nearest grid points (mean preserving).
3. The aggregate pmf is ``irfft(PGF_N(rfft(p)))`` with exponential tilting
   (``theta · n = 10``): an annual sum beyond the grid's end wraps round damped by e^-10.
4. What is off the grid enters exactly. When one claim above ``top`` alone puts the year
   above VaR (its retained loss is at least VaR: checked, else the grid is refused),
   ``P(S <= v) = P(S <= v, N_top = 0)`` and ``E[(S - v)^+]`` gains
   ``E[S; N_top >= 1] - v P(N_top >= 1)``, with ``P(N_top >= 1) = 1 - PGF(1 - q)`` and
   ``E[S; N_top >= 1] = E[N] E[X; X > top] + (E[N] - PGF'(1 - q)) E[X; X <= top]``
   (thinning; ``E[X; X > top]`` by quadrature of the quantile function). Sums of small
   claims beyond the grid's end (*overflow*) lie above VaR too; their mass and mean follow
   from the discretised model's own mean ``PGF'(1 - q) E[X; X <= top]``.
5. VaR: linear interpolation of the grid cdf placed at cell midpoints (under mass
   dispersal the cdf at ``kh`` is the mean of ``F`` over ``[kh, (k+1)h]``). ES:
   ``VaR + E[(S - VaR)^+] / (1 - alpha)`` (Acerbi & Tasche 2002).
6. Errors (:meth:`CompoundDistribution.var_error`, ``es_error``, in KRW): every
   distribution is also computed at steps ``2h`` and ``4h`` over the same span, and the
   change of the figure between the three steps gives its discretisation error
   (:func:`opwb.engine.compound.step_error`: Richardson-type, a bound when the error falls
   at least linearly with the step, with guards for slower and non-monotone convergence);
   VaR adds the interpolation error within its cell (up to ``2h`` at an atom of the
   distribution) and ES the quadrature error of ``E[X; X > top]``; both add the wrapped
   overflow.
7. Automatic grid: the span is 1.25 times what VaR at ``alpha`` needs (the gross VaR, and
   for the net the loss whose retained part reaches the net VaR), found on a coarse grid;
   then ``h`` is halved until every reported error (VaR and ES, gross and net) is at most
   ``rtol`` times its figure.

Expected shortfall exists only when the (capped) severity has a finite mean: otherwise
``es_exists`` is False, :meth:`CompoundDistribution.es` raises ``ValueError`` and
:meth:`CompoundDistribution.measures` reports ES as NaN with a note.
"""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from opwb.data.levels import check_level
from opwb.engine._fftkernels import (
    Freq,
    aggregate,
    claim_count,
    discretise,
    partial_integral,
    partial_with_error,
    retained,
    spread,
)
from opwb.engine.compound import CompoundDistribution, CompoundMeasures
from opwb.engine.distributions import (
    check_cap,
    finite_mean_of,
    resolve_threshold,
    severity_distribution,
    survival_at,
)

__all__ = ["CompoundDistribution", "CompoundMeasures", "compound_fft"]

_MAX_POINTS = 2 ** 24
_FIRST_POINTS = 2 ** 10
_MARGIN = 1.25          # grid span / span VaR needs


# --------------------------------------------------------------------------- building grids
class _Problem(NamedTuple):
    sev: Any            # severity as drawn (censored at the cap): isf for partial moments
    base: Any           # uncensored severity: sf for the discretisation
    cap: float
    s_h: float
    thr: float
    freq: Freq
    g_net: Any
    exact: dict
    es_exists: dict
    alpha: float
    tail_tol: float
    rtol: float
    pad: int


def _one(prob: _Problem, pmf, q, top, g_top, g, h, n, kind) -> CompoundDistribution:
    """One distribution (gross or net) from its severity pmf; claims above ``top`` off the grid."""
    fq = prob.freq
    agg = aggregate(pmf, n, fq.pgf)
    m1 = float((pmf * np.arange(pmf.size)).sum() * h)             # E[X_d; X <= top]
    p_any, deficit = (float(fq.any_beyond(q)), float(fq.deficit(q))) if q > 0 else (0.0, 0.0)
    e_top, e_err = partial_with_error(prob.base, prob.s_h, q, g, prob.cap) if q > 0 else (0.0, 0.0)
    tail_mean = fq.mean * e_top + deficit * m1
    return CompoundDistribution(
        h, agg, prob.exact[kind], max(1.0 - float(agg.sum()), 0.0), tail_mean, p_any,
        prob.alpha, prob.tail_tol, kind, None, top, g_top if q > 0 else np.inf,
        (fq.mean - deficit) * m1, fq.mean * e_err,
        bool(prob.es_exists[kind] and np.isfinite(tail_mean)))


def _build(prob: _Problem, span: float, n: int) -> CompoundDistribution:
    """Gross (and net) distribution on ``n`` points of step ``span / n``, without errors."""
    h = span / n
    m = max(n // prob.pad, 2)
    sev_pmf, q = discretise(prob.base, prob.s_h, prob.thr, prob.cap, h, m)
    top = (m - 1) * h
    gross = _one(prob, sev_pmf, q, top, top, None, h, n, "gross")
    if prob.g_net is None:
        return gross
    g_grid = prob.g_net(np.arange(m) * h)
    net_pmf = spread(sev_pmf, g_grid, h, n)
    q_net, g_top = q, float(g_grid[-1])
    if q > 0 and np.allclose(prob.g_net(np.array([2.0, 1e3]) * top), g_top, rtol=1e-9, atol=0):
        net_pmf += spread(np.array([q]), np.array([g_top]), h, n)   # retained loss flat above top
        q_net = 0.0
    net = _one(prob, net_pmf, q_net, top, g_top, prob.g_net, h, n, "net")
    return dataclasses.replace(gross, net=net)


def _chain(grids: list) -> CompoundDistribution:
    """The finest of ``grids`` (built by :func:`_build`, coarsest first) with the two before it
    attached as ``coarse`` and ``coarse.coarse`` (gross and net), for the errors."""
    dist = None
    for fine in grids[-3:]:
        if dist is not None:
            net = None if fine.net is None else dataclasses.replace(fine.net, coarse=dist.net)
            fine = dataclasses.replace(fine, coarse=dist, net=net)
        dist = fine
    return dist


def _raw_var(dist: CompoundDistribution, alpha: float) -> float:
    """VaR on the grid ignoring ``holds_up_to`` (inf if the grid's cdf never reaches alpha)."""
    try:
        return dataclasses.replace(dist, holds_up_to=np.inf).var(alpha)
    except ValueError:
        return np.inf


def _span_needed(prob: _Problem, dist: CompoundDistribution) -> float:
    """Grid span at which one claim above the severity grid's end exceeds VaR (gross and net)."""
    v = _raw_var(dist, prob.alpha)
    need = prob.pad * (v + 2.0 * dist.h)
    if dist.net is not None and np.isfinite(need):
        v_net = _raw_var(dist.net, prob.alpha)
        if not np.isfinite(v_net):
            return np.inf
        if not np.isfinite(dist.net.holds_up_to):       # nothing beyond the grid for the net
            return max(need, v_net + 2.0 * dist.h)
        xs = max(v_net, dist.h) * np.logspace(0, 12, 2000)
        reach = np.flatnonzero(prob.g_net(xs) >= v_net + 2.0 * dist.h)
        need = max(need, prob.pad * xs[reach[0]] if reach.size else np.inf)
    return need


def _fit_span(prob: _Problem, span: float, n: int) -> tuple[float, CompoundDistribution]:
    """Adjust the span on ``n`` points until the grid holds VaR with a margin and little overflow."""
    floor = 0.0                                       # set when widened against overflow
    for _ in range(60):
        dist = _build(prob, span, n)
        need = _span_needed(prob, dist)
        overflow = max(dist.overflow_mass, dist.net.overflow_mass if dist.net else 0.0)
        if need > span:
            span = _MARGIN * need if np.isfinite(need) else 4.0 * span
        elif overflow > prob.tail_tol * (1.0 - prob.alpha):
            span = floor = 2.0 * span
        elif need < span / (2 * _MARGIN) and span > floor:
            span = max(_MARGIN * need, floor)
        else:
            return span, dist
    raise ValueError(f"FFT grid: no span holds the distribution at alpha={prob.alpha}")


def _first_span(prob: _Problem) -> float:
    """A first guess: the single-loss approximation, or E[N] E[min(X, it)] when larger."""
    u = min((1.0 - prob.alpha) / prob.freq.mean, 0.5)
    sla = float(np.asarray(prob.sev.isf(np.array([u * prob.s_h])), dtype=float)[0])
    if not (np.isfinite(sla) and sla > 0):
        raise ValueError(f"severity quantile at survival {u * prob.s_h:.3g} is {sla}: cannot size the grid")
    body = prob.freq.mean * partial_integral(prob.sev, prob.s_h, 1.0, lambda x: np.minimum(x, sla))
    return 2.0 * prob.pad * max(sla, body)


def _converged(dist: CompoundDistribution, rtol: float) -> bool:
    for d in (dist, dist.net) if dist.net is not None else (dist,):
        m = d.measures()
        if not m.var_error <= rtol * abs(m.var):
            return False
        if m.es_exists and not m.es_error <= rtol * abs(m.es):
            return False
    return True


def _auto_grid(prob: _Problem) -> CompoundDistribution:
    n = _FIRST_POINTS
    span, fine = _fit_span(prob, _first_span(prob), n)
    grids = [fine]
    while True:
        if len(grids) >= 3:
            dist = _chain(grids)
            if _converged(dist, prob.rtol):
                return dist
        if 2 * n > _MAX_POINTS:
            raise ValueError(f"FFT grid could not reach rtol={prob.rtol} within {_MAX_POINTS} "
                             "points; pass a larger rtol or a user grid (h, n_points)")
        n *= 2
        fine = _build(prob, span, n)
        if _span_needed(prob, fine) > span:           # VaR moved beyond the grid: start again
            span, fine = _fit_span(prob, span, n)
            grids = []
        grids = grids[-2:] + [fine]


def _user_grid(prob: _Problem, h, n_points) -> CompoundDistribution:
    if h is not None and n_points is not None:
        n, span = int(n_points), float(h) * int(n_points)
    else:
        span = _fit_span(prob, _first_span(prob), _FIRST_POINTS)[0]
        n = int(n_points) if n_points is not None else int(np.ceil(span / h))
        if n > _MAX_POINTS:
            raise ValueError(f"h={h:g} needs {n} grid points to hold the tail at alpha={prob.alpha} "
                             f"(more than {_MAX_POINTS}); use a larger h")
        span = float(h) * n if h is not None else span
    dist = _chain([_build(prob, span, n // 4), _build(prob, span, n // 2), _build(prob, span, n)])
    for d in (dist, dist.net) if dist.net is not None else (dist,):
        try:
            d.var(prob.alpha)
        except ValueError:
            raise ValueError(
                f"FFT grid (h={span / n:g}, n_points={n}) cannot hold the tail at "
                f"alpha={prob.alpha}: the {d.kind} distribution is represented up to "
                f"{min(d.holds_up_to, span):.4g} KRW only; use a larger h or n_points, or leave "
                "both None for an automatic grid") from None
    return dist


# --------------------------------------------------------------------------- entry point
def _check_options(alpha, tail_tol, rtol, pad, h, n_points) -> float:
    alpha = check_level(alpha)
    if not 0.0 < tail_tol < 1.0:
        raise ValueError(f"tail_tol must be in (0, 1), got {tail_tol!r}")
    if not rtol > 0:
        raise ValueError(f"rtol must be > 0, got {rtol!r}")
    if not (isinstance(pad, (int, np.integer)) and pad >= 1):
        raise ValueError(f"pad must be an integer >= 1, got {pad!r}")
    if h is not None and not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite grid span > 0, got {h!r}")
    if n_points is not None and not (isinstance(n_points, (int, np.integer)) and 8 <= n_points <= _MAX_POINTS):
        raise ValueError(f"n_points must be an integer in [8, {_MAX_POINTS}], got {n_points!r}")
    return alpha


def check_policy_terms(policy: Any, event_type: str | None) -> None:
    """Refuse a policy term the FFT cannot apply (never a silent default).

    The FFT applies a per-occurrence layer (deductible, limit, coinsurance) to every loss of
    the cell. An annual aggregate limit depends on the year's other claims and a coverage
    share below 1 on which losses fall within the wording: neither is a function of one
    loss, so such a policy raises :class:`ValueError` (use the Monte Carlo engine,
    :func:`opwb.insurance.apply.apply_programme`). A policy with a coverage mapping needs
    ``event_type`` to say which share applies.
    """
    if policy is None:
        return
    agg = getattr(policy, "aggregate_limit", np.inf)
    if agg is not None and np.isfinite(agg):
        raise ValueError(
            f"the policy has an annual aggregate limit ({agg:,.0f} KRW), which the FFT cannot "
            "apply (it depends on the year's other claims); use the Monte Carlo engine "
            "(opwb.apply_programme) or a policy without it")
    if getattr(policy, "cover", None) is None or not hasattr(policy, "covers"):
        return
    if event_type is None:
        raise ValueError("the policy covers event types by share (its 'cover'); pass "
                         "event_type= to say which share applies to this cell")
    share = float(policy.covers(event_type))
    if share != 1.0:
        raise ValueError(
            f"the policy covers {share:.0%} of {event_type} losses (a coverage share), which "
            "the FFT cannot apply to a cell's every loss; use the Monte Carlo engine "
            "(opwb.apply_programme)")


def _problem(frequency, severity, policy, threshold, severity_cap, options) -> _Problem:
    thr = resolve_threshold(severity, threshold)
    sev = severity_distribution(severity, check_cap(severity_cap, thr))
    cap = float(getattr(sev, "cap", np.inf))
    base = getattr(sev, "base", sev) if np.isfinite(cap) else sev
    s_h = survival_at(sev, thr)
    freq = claim_count(frequency)
    if not freq.mean > 0:
        raise ValueError(f"the expected annual count must be > 0, got {freq.mean}")
    g_net = retained(policy) if policy is not None else None
    exact = {"gross": freq.mean * partial_integral(base, s_h, 1.0, cap=cap)}
    flag = True if np.isfinite(cap) else finite_mean_of(severity)
    exists = {"gross": bool(np.isfinite(exact["gross"]) if flag is None else flag)}
    if g_net is not None:
        exact["net"] = freq.mean * partial_integral(base, s_h, 1.0, g_net, cap=cap)
        exists["net"] = exists["gross"] or bool(np.isfinite(exact["net"]))
    return _Problem(sev, base, cap, s_h, thr, freq, g_net, exact, exists, *options)


def compound_fft(frequency: Any, severity: Any, policy: Any = None, *, threshold: float | None = None,
                 alpha: float = 0.999, tail_tol: float = 0.01, rtol: float = 2e-4,
                 h: float | None = None, n_points: int | None = None, pad: int = 1,
                 severity_cap: float | None = None,
                 event_type: str | None = None) -> CompoundDistribution:
    """Annual aggregate loss of one cell by FFT, gross and (with ``policy``) net of a layer.

    Parameters
    ----------
    frequency : frozen scipy ``poisson``/``nbinom``/``binom`` (or object with ``.dist``), or a
        number (Poisson mean). Annual count of losses above ``threshold``.
    severity : frozen scipy continuous distribution, fit result with ``.dist``/``.threshold``,
        :class:`~opwb.engine.distributions.CappedSeverity`, or object with vectorised
        ``isf``/``sf`` or ``ppf``/``cdf``. Loss amounts in KRW.
    policy : object with ``.recover(losses) -> recoveries`` (per occurrence, KRW), optional.
    threshold : float, optional
        Collection threshold (KRW); defaults to ``severity.threshold`` when present, else 0.
    alpha : float
        The level (fraction, e.g. 0.999) the grid is designed for: VaR and ES at ``alpha`` (and
        at lower levels) are held and their errors controlled.
    tail_tol : float
        Largest probability, as a share of ``1 - alpha``, that small claims alone sum beyond
        the grid's end (that mass enters ES exactly; the bound keeps its wrap-around small).
    rtol : float
        Automatic grid: ``h`` is halved until the reported error of VaR and of ES at ``alpha``
        (gross and net) is at most ``rtol`` times the figure.
    h, n_points : optional
        A user grid: step (KRW) and aggregate grid length. One may be given and the other
        chosen; errors are still reported (from the same span at step ``2h``).
    pad : int
        Aggregate grid length / severity grid length (>= 1). Exponential tilting handles
        wrap-around, so 1 (the default) suffices.
    severity_cap : float, optional
        Maximum single loss (KRW): a loss above it counts as the cap (censoring), as in
        :class:`opwb.engine.simulate.CellModel`. A ``CappedSeverity`` severity is capped too
        (the lower cap applies).
    event_type : str, optional
        The cell's event type, needed when ``policy`` covers event types by share; the FFT
        applies the policy only when that share is 1 (:func:`check_policy_terms`).

    Returns
    -------
    CompoundDistribution
        The gross distribution; ``.net`` is the retained one when ``policy`` is given. Its
        :meth:`~CompoundDistribution.measures` gives VaR and ES with their errors;
        ``es_exists`` is False (ES NaN there, ``es()`` raising) when the severity has an
        infinite mean and no cap.

    Raises
    ------
    ValueError
        Bad options (a level given as a percentage, ...); a grid that cannot hold the
        distribution at ``alpha``; no grid within 2**24 points reaching ``rtol``; a policy
        term the FFT cannot apply (an aggregate limit, a coverage share below 1).
    TypeError
        A frequency other than Poisson, negative binomial or binomial.

    Examples
    --------
    >>> from scipy import stats
    >>> d = compound_fft(stats.poisson(25), stats.lognorm(2.0, scale=np.exp(16.0)))
    >>> m = d.measures()                                   # at alpha = 0.999
    >>> m.var_error <= 2e-4 * m.var and m.es_error <= 2e-4 * m.es
    True
    >>> compound_fft(50, stats.genpareto(1.1, scale=2e7)).measures().es_exists
    False
    """
    alpha = _check_options(alpha, tail_tol, rtol, pad, h, n_points)
    check_policy_terms(policy, event_type)
    prob = _problem(frequency, severity, policy, threshold, severity_cap,
                    (alpha, float(tail_tol), float(rtol), int(pad)))
    if h is not None or n_points is not None:
        return _user_grid(prob, h, n_points)
    return _auto_grid(prob)
