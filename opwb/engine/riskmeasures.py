"""Value at risk and expected shortfall of simulated samples, with Monte Carlo precision.

Conventions (stated once, used everywhere in opwb):

* ``var(x, alpha)`` is the lower empirical quantile ``inf{v : F_n(v) >= alpha}``, i.e. the
  ``k``-th order statistic with ``k = ceil(n · alpha)`` (numpy's ``"inverted_cdf"``).
* ``es(x, alpha) = var + E_n[(X - var)^+] / (1 - alpha)``: the *sample* ES, the mean of the
  worst ``(1 - alpha)`` share of outcomes (Acerbi & Tasche 2002), always ``>= var``.
* The *reported* figures carry their precision as an
  :class:`~opwb.engine.precision.Estimate` (value, se, interval, method):
  :func:`var_estimate` (order statistics, valid for any tail), :func:`es_estimate` (sample
  ES for a light tail, the GPD-tail ES with a profile-likelihood interval otherwise, NaN
  where the ES does not exist: issue 11) and :func:`diff_estimate` (paired errors of
  differences between alternatives on the same simulated years). The ``*_with_se``
  functions return an estimate's ``(value, se)``; the figures are displayed rounded to
  their error by :func:`opwb.data.units.format_krw_with_se`.
* **Beyond the sample** (issue 22): a figure at ``alpha`` needs outcomes beyond the level;
  with fewer than :data:`~opwb.engine.precision.MIN_TAIL` = 10 expected there
  (``n (1 - alpha) < 10``, e.g. fewer than 10,000 years at 99.9%;
  :func:`~opwb.engine.precision.tail_count` gives the reasons) every estimate is returned
  *flagged* (``Estimate.sufficient`` False, ``beyond = n (1 - alpha)``, a note naming the
  years needed) with a widened interval that holds whatever the tail: VaR's
  distribution-free order-statistic interval, unbounded above when the sample holds no
  outcome that bounds the quantile (``n (1 - alpha) < ln 40 = 3.7`` at 95%); ES from that
  interval's lower end to ``+inf`` (ES >= VaR; no sample bounds a mean of outcomes it has
  not seen); differences by Bonferroni of the two widened intervals. Standard errors
  follow the intervals (``inf`` when unbounded). :func:`var` and :func:`es` stay the plain
  sample statistics; :func:`~opwb.engine.precision.require_tail` refuses instead.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Literal

import numpy as np
from scipy import stats

from opwb.data.levels import check_level
from opwb.engine.precision import (
    MIN_EXCEEDANCES,
    MIN_TAIL,
    Estimate,
    fit_tail,
    light_differences,
    order_ranks,
    tail_count,
    tail_note,
)
from opwb.engine.precision import check_sample as _check
from opwb.engine.precision import kth_smallest as _kth
from opwb.engine.precision import quantile_rank as _index
from opwb.engine.precision import sample_es as _empirical_es
from opwb.engine.precision import sample_var as _var_se

__all__ = ["Estimate", "diff_es_with_se", "diff_estimate", "diff_mean_with_se",
           "diff_var_with_se", "es", "es_estimate", "es_interval", "es_with_se", "mean_with_se",
           "risk_summary", "var", "var_estimate", "var_interval", "var_with_se"]

_Z95 = float(stats.norm.ppf(0.975))


def var(x, alpha: float) -> float:
    """Value at risk: the lower empirical ``alpha``-quantile of the outcomes ``x``.

    The plain sample statistic, whatever the number of outcomes beyond ``alpha`` (the
    sample maximum when ``n (1 - alpha) < 1``); :func:`var_estimate` flags it when too few
    outcomes lie beyond the level.

    Examples
    --------
    >>> var([1.0, 2.0, 3.0, 4.0], 0.75)
    3.0
    """
    a = _check(x, alpha)
    return _kth(a, _index(a.size, float(alpha)))


def es(x, alpha: float) -> float:
    """Expected shortfall: mean of the worst ``(1 - alpha)`` share of the outcomes ``x``.

    The plain sample statistic (see :func:`var`); :func:`es_estimate` flags it when too
    few outcomes lie beyond the level.

    Examples
    --------
    >>> es([1.0, 2.0, 3.0, 4.0], 0.5)
    3.5
    """
    a = _check(x, alpha)
    v = _kth(a, _index(a.size, float(alpha)))
    return v + float(np.maximum(a - v, 0.0).mean()) / (1.0 - float(alpha))


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + check_level(level, name="level") / 2.0))


def _order_interval(a: np.ndarray, alpha: float, level: float) -> tuple[float, float]:
    n = a.size
    lo, hi = order_ranks(n, alpha, level)
    ks = sorted({k - 1 for k in (lo, hi) if 1 <= k <= n})
    srt = np.partition(a, ks) if ks else a
    return (float(srt[lo - 1]) if lo >= 1 else -math.inf,
            float(srt[hi - 1]) if hi <= n else math.inf)


def var_interval(x, alpha: float, level: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval for the true ``alpha``-quantile.

    Order statistics ``(x_(l), x_(u))`` with ``l``, ``u`` from Binomial(n, alpha) quantiles
    (Serfling 1980, §2.6; :func:`~opwb.engine.precision.order_ranks`); coverage is at
    least ``level`` for a continuous distribution, whatever its tail. A bound the sample
    cannot give is infinite, never an outcome: ``upper = inf`` when the largest outcome
    does not bound the quantile with the required confidence (``alpha^n > (1 - level)/2``,
    e.g. fewer than 3,689 outcomes at 99.9% and 95%).

    Raises
    ------
    ValueError
        ``alpha`` or ``level`` not a probability level (:func:`opwb.data.levels.check_level`).

    Examples
    --------
    >>> var_interval(range(1, 101), 0.999)          # 100 outcomes cannot bound it above
    (99.0, inf)
    """
    a = _check(x, alpha)
    level = check_level(level, name="level")
    return _order_interval(a, float(alpha), level)


def var_with_se(x, alpha: float) -> tuple[float, float]:
    """VaR and its Monte Carlo standard error, ``sqrt(alpha (1 - alpha) / n) / f(VaR)``.

    The density is estimated by the spacing of the order statistics ``±sqrt(n alpha
    (1 - alpha))`` ranks around VaR, so the error is half the width of the ±1σ
    order-statistic interval (Serfling 1980, §2.3.3: asymptotic normality of the sample
    quantile; valid for any tail with a positive density at VaR). Unit: that of ``x``.

    With fewer than :data:`~opwb.engine.precision.MIN_TAIL` outcomes expected beyond
    ``alpha`` the asymptotics do not hold: the error is then at least half the width of
    the distribution-free 95% interval (:func:`var_interval`) over 1.96, ``inf`` when that
    interval is unbounded (:func:`var_estimate` flags the figure).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).lognormal(size=100)
    >>> var_with_se(x, 0.999)[1]                   # 0.1 outcomes beyond: no upper bound
    inf
    """
    a = _check(x, alpha)
    alpha = float(alpha)
    v, se = _var_se(a, alpha)
    if tail_count(a.size, alpha) < MIN_TAIL:
        lo, hi = _order_interval(a, alpha, 0.95)
        se = max(se, (hi - lo) / (2.0 * _Z95))
    return v, se


def var_estimate(x, alpha: float, level: float = 0.95) -> Estimate:
    """VaR with its standard error (:func:`var_with_se`) and the distribution-free
    order-statistic interval (:func:`var_interval`) as an :class:`Estimate`.

    ``beyond = n (1 - alpha)``; with fewer than
    :data:`~opwb.engine.precision.MIN_TAIL` the estimate is flagged (``sufficient``
    False, a note naming the years needed) and its error widened (:func:`var_with_se`).

    Raises
    ------
    ValueError
        Bad ``x``, ``alpha`` or ``level``.

    Examples
    --------
    >>> import numpy as np
    >>> e = var_estimate(np.random.default_rng(0).exponential(size=100_000), 0.99)
    >>> e.method, bool(e.lower < np.log(100) < e.upper), bool(0.01 < e.se < 0.05)
    ('order statistics', True, True)
    """
    v, se = var_with_se(x, alpha)
    lo, hi = var_interval(x, alpha, level)
    n = np.asarray(x).size
    note = tail_note(n, float(alpha), "the VaR")
    return Estimate(value=v, se=se, lower=lo, upper=hi, level=float(level),
                    method="order statistics", note=note, beyond=tail_count(n, alpha),
                    sufficient=not note)


def es_estimate(x, alpha: float, level: float = 0.95, *,
                method: Literal["auto", "empirical", "gpd"] = "auto",
                bounded: bool = False) -> Estimate:
    """Expected shortfall with a standard error and interval valid for heavy tails.

    Parameters
    ----------
    x : array_like
        Simulated outcomes (e.g. annual losses, KRW), 1-d, no NaN.
    alpha : float
        Level (fraction, e.g. 0.999).
    level : float, default 0.95
        Confidence level of the interval.
    method : {"auto", "empirical", "gpd"}
        ``"auto"`` applies the rule below; the others force a method.
    bounded : bool, default False
        True when the outcomes are bounded by construction (every cell's severity capped:
        an annual loss is at most ``N · cap`` with a light-tailed count ``N``), so their
        variance is finite however heavy the tail looks below the cap: ``"auto"`` then
        keeps the sample ES and its influence-function error. (A GPD fitted below the cap
        would extrapolate past it, and a fitted ξ >= 1 would deny an ES that exists.)

    Returns
    -------
    Estimate
        ``value, se, lower, upper`` in the unit of ``x``; ``method`` ("empirical" or "gpd"),
        ``exists``, ``note`` and the GPD fit ``tail``.

    Notes
    -----
    The worst ``k = ceil(10 n (1 - alpha))`` outcomes (at least 50; for ``alpha < 0.98``
    see :func:`~opwb.engine.precision.tail_share`) are fitted by a GPD above the next one
    (peaks over threshold: :func:`opwb.engine.precision.fit_tail`; McNeil, Frey & Embrechts
    2005, *Quantitative Risk Management*, §7.2). Rule:

    * **light** tail, ``ξ + 1.96 (1 + ξ)/sqrt(k) < 1/4`` (a finite fourth moment with 95%
      confidence, so the variance of ``(X - VaR)^+`` and its estimate converge), or
      ``bounded``:
      ``"empirical"``: the sample ES :func:`es`, its influence-function error
      ``sd((X - VaR)^+) / ((1 - alpha) sqrt(n))`` (asymptotic normality for a finite
      variance: Chen 2008, *J. Financial Econometrics* 6, 87-107) and the interval
      ``value ± z se``, ``z = Φ^-1((1 + level)/2)``.
    * otherwise ``"gpd"``: the fitted tail's ES (MFE eq. 7.20) and its profile-likelihood
      interval (MFE §7.2.3; Coles 2001, §2.6.6 and §4.3.3), asymmetric, ``upper = inf``
      when a tail with no mean (ξ = 1) cannot be rejected; ``se = (upper - lower) / (2 z)``. The
      estimate is the fitted ES, not the sample ES: for ξ > 1/2 the sample ES converges at
      the rate ``n^-(1-ξ)`` to a skewed stable law whose median lies below the truth (most
      runs miss the rare extreme years), so no symmetric interval about it is valid; the
      fitted ES is asymptotically normal at rate ``sqrt(k)`` and is the maximum-likelihood
      point of its own interval, so figure and interval agree. (NB × GPD(ξ = 0.7) annual
      losses, 10⁵ years, ES 99.9%: the sample-ES interval covered the exact value in 68%
      of 200 seeded runs, this one in 92% (94.5% of 600 runs):
      ``tests/engine/test_es_coverage.py``.)
    * fitted ``ξ >= 1``: no mean in the tail, so no ES: ``value = se = nan``,
      ``exists = False`` (``lower``, when finite, is still a lower confidence bound).
    * fewer than 100 outcomes: the tail is not assessed; ``"empirical"``, with a ``note``.
    * fewer than :data:`~opwb.engine.precision.MIN_TAIL` outcomes expected beyond
      ``alpha`` (whatever the method): the figure above, flagged (``sufficient`` False,
      a note naming the years needed), with the interval widened to ``[l, inf)``, ``l``
      the lower end of VaR's distribution-free interval (:func:`var_interval`; ES >= VaR,
      so it bounds ES from below with at least the same confidence; no sample bounds from
      above the mean of outcomes it has not seen) or the method's lower end if lower, and
      ``se = inf``.

    Raises
    ------
    ValueError
        Bad ``x``, ``alpha``, ``level`` or ``method``; ``method="gpd"`` with fewer than 100
        outcomes or a constant tail.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(7)
    >>> e = es_estimate(rng.exponential(size=50_000), 0.99)          # ES = ln 100 + 1
    >>> e.method, bool(e.lower < np.log(100) + 1 < e.upper)
    ('empirical', True)
    >>> h = es_estimate(rng.pareto(1 / 0.7, 50_000), 0.999)         # Lomax, ξ = 0.7
    >>> h.method, round(h.tail.xi, 1), bool(h.lower < h.value < h.upper)
    ('gpd', 0.7, True)
    >>> es_estimate(rng.pareto(1 / 1.5, 50_000), 0.999).exists       # ξ = 1.5: no ES
    False
    >>> t = es_estimate(rng.exponential(size=1000), 0.9999)         # 0.1 outcome beyond
    >>> t.sufficient, t.se, t.upper
    (False, inf, inf)
    """
    a = _check(x, alpha)
    alpha, z = float(alpha), _z(level)
    if method not in ("auto", "empirical", "gpd"):
        raise ValueError(f"method must be 'auto', 'empirical' or 'gpd', got {method!r}")
    e = _es_estimate(a, alpha, float(level), z, method, bounded)
    m = tail_count(a.size, alpha)
    if m >= MIN_TAIL:
        return dataclasses.replace(e, beyond=m)
    vlo = _order_interval(a, alpha, float(level))[0]
    lower = vlo if math.isnan(e.lower) else min(e.lower, vlo)
    return dataclasses.replace(
        e, se=math.inf if e.exists else math.nan, lower=lower, upper=math.inf, beyond=m,
        sufficient=False, note=" ".join(filter(None, [tail_note(a.size, alpha,
                                                                "the expected shortfall"),
                                                      e.note])))


def _es_estimate(a: np.ndarray, alpha: float, level: float, z: float, method: str,
                 bounded: bool) -> Estimate:
    """:func:`es_estimate` before the check of the outcomes beyond the level."""
    tail = fit_tail(a, alpha) if method != "empirical" else None
    if method == "gpd" and tail is None:
        raise ValueError(f"a GPD tail needs at least {2 * MIN_EXCEEDANCES} outcomes with a "
                         f"non-constant tail; got {a.size} outcomes")
    if method == "empirical" or tail is None or (method == "auto" and (bounded or tail.light)):
        value, se = _empirical_es(a, alpha)
        note = ("Bounded outcomes (a severity cap): finite variance." if bounded else
                "" if tail is not None or method == "empirical" else
                f"Too few outcomes ({a.size} < {2 * MIN_EXCEEDANCES}) to assess the tail: "
                "the standard error assumes a finite variance.")
        return Estimate(value=value, se=se, lower=value - z * se, upper=value + z * se,
                        level=float(level), method="empirical", note=note, tail=tail)
    lo, hi = tail.es_interval(alpha, level)
    tail_words = f"GPD tail above the worst {tail.k} of {tail.n} outcomes, ξ = {tail.xi:.2f}"
    if not tail.es_exists:
        return Estimate(value=math.nan, se=math.nan, lower=lo, upper=math.inf,
                        level=float(level), method="gpd", exists=False, tail=tail,
                        note=f"{tail_words} >= 1: the tail has no mean, so the expected "
                             "shortfall does not exist.")
    note = tail_words + "."
    if math.isinf(hi):
        note += (f" A tail with no mean (ξ = 1) cannot be rejected at {level:.0%}: the "
                 "upper bound is infinite.")
    return Estimate(value=tail.es(alpha), se=(hi - lo) / (2.0 * z), lower=lo, upper=hi,
                    level=float(level), method="gpd", note=note, tail=tail)


def _refuse_missing(e: Estimate, strict: bool) -> None:
    if strict and not e.exists:
        raise ValueError(f"the expected shortfall does not exist: {e.note}")


def es_interval(x, alpha: float, level: float = 0.95, *,
                method: Literal["auto", "empirical", "gpd"] = "auto", bounded: bool = False,
                strict: bool = False) -> tuple[float, float]:
    """Confidence interval ``(lower, upper)`` for the ES at ``alpha`` (see
    :func:`es_estimate` for the method); ``upper`` may be ``inf``.

    Raises
    ------
    ValueError
        As :func:`es_estimate`; with ``strict=True`` also when the ES does not exist.
    """
    e = es_estimate(x, alpha, level, method=method, bounded=bounded)
    _refuse_missing(e, strict)
    return e.lower, e.upper


def es_with_se(x, alpha: float, *, method: Literal["auto", "empirical", "gpd"] = "auto",
               bounded: bool = False, strict: bool = False) -> tuple[float, float]:
    """ES and its Monte Carlo standard error, consistent with :func:`es_interval`.

    The pair is ``(value, se)`` of :func:`es_estimate` at level 0.95: the influence-function
    error for a light tail, and half the width of the 95% profile-likelihood interval
    divided by 1.96 for a heavy one (``inf`` when the interval is unbounded). Where the ES
    does not exist (fitted ξ >= 1) it is ``(nan, nan)``, or ``ValueError`` with
    ``strict=True``. Unit: that of ``x``.
    """
    e = es_estimate(x, alpha, 0.95, method=method, bounded=bounded)
    _refuse_missing(e, strict)
    return e.value, e.se


def mean_with_se(x) -> tuple[float, float]:
    """Sample mean and its standard error ``sd / sqrt(n)`` (valid for a finite variance)."""
    a = _check(x, 0.5)
    se = float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else np.inf
    return float(a.mean()), se


# --------------------------------------------------------------------------- paired differences
def _pair(x, y, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    a, b = _check(x, alpha), _check(y, alpha)
    if a.size != b.size:
        raise ValueError(f"x and y must be paired outcomes of the same simulated years; got "
                         f"{a.size} and {b.size} outcomes")
    return a, b


def _diff_mean(a, b, z, level, bounded) -> Estimate:
    d = a - b
    value = float(d.mean())
    se = float(d.std(ddof=1)) / math.sqrt(d.size) if d.size > 1 else math.inf
    light = light_differences(d) if bounded is None else bounded
    note = ""
    if light is False:
        note, se = ("The paired differences may be heavy-tailed: their variance may be "
                    "infinite and no valid standard error is given."), math.nan
    elif light is None:
        note = "Too few non-zero differences to assess their tail."
    return Estimate(value, se, value - z * se, value + z * se, level, "paired", note=note)


def _diff_var(a, b, alpha, z, level) -> Estimate:
    (vx, sx), (vy, sy) = _var_se(a, alpha), _var_se(b, alpha)
    ix, iy = a <= vx, b <= vy
    px, py = ix.mean(), iy.mean()
    den = math.sqrt(px * (1 - px) * py * (1 - py))
    rho = float(np.clip(((ix & iy).mean() - px * py) / den, -1.0, 1.0)) if den > 0 else 0.0
    se = math.sqrt(max(sx * sx + sy * sy - 2.0 * rho * sx * sy, 0.0))
    value = vx - vy
    return Estimate(value, se, value - z * se, value + z * se, level, "paired",
                    note=f"Correlation of the two quantile indicators: {rho:.3f}.")


def _diff_es(a, b, alpha, z, level, bounded) -> Estimate:
    vx, vy = _kth(a, _index(a.size, alpha)), _kth(b, _index(b.size, alpha))
    d = np.maximum(a - vx, 0.0) - np.maximum(b - vy, 0.0)
    paired = bounded
    if bounded is None:
        tails = fit_tail(a, alpha), fit_tail(b, alpha)
        if any(t is not None and not t.es_exists for t in tails):
            return Estimate(math.nan, math.nan, math.nan, math.nan, level, "paired",
                            exists=False, note="An expected shortfall does not exist (a "
                                               "fitted tail index ξ >= 1).")
        paired = (all(t is not None and t.light for t in tails)
                  or light_differences(a - b) or light_differences(d))
    if paired:
        value = _empirical_es(a, alpha)[0] - _empirical_es(b, alpha)[0]
        se = float(d.std(ddof=1)) / (1.0 - alpha) / math.sqrt(a.size)
        return Estimate(value, se, value - z * se, value + z * se, level, "paired",
                        note="Difference of the sample ES with its paired error.")
    wide = 1.0 - (1.0 - level) / 2.0
    ex, ey = es_estimate(a, alpha, wide), es_estimate(b, alpha, wide)
    if not (ex.exists and ey.exists):
        return Estimate(math.nan, math.nan, math.nan, math.nan, level, "bonferroni",
                        exists=False, note="An expected shortfall does not exist.")
    lo, hi = ex.lower - ey.upper, ex.upper - ey.lower
    return Estimate(ex.value - ey.value, (hi - lo) / (2.0 * z), lo, hi, level, "bonferroni",
                    note="The paired influence functions may be heavy-tailed: the interval "
                         f"joins the two levels' intervals at {wide:.1%} each (Bonferroni), "
                         "valid but wide.")


def _diff_widened(a, b, measure, alpha, z, level, bounded) -> Estimate:
    """A VaR or ES difference with too few outcomes beyond ``alpha``: Bonferroni of the two
    widened (flagged) level estimates."""
    wide = 1.0 - (1.0 - level) / 2.0
    if measure == "var":
        ex, ey = var_estimate(a, alpha, wide), var_estimate(b, alpha, wide)
    else:
        ex, ey = (es_estimate(v, alpha, wide, bounded=bool(bounded)) for v in (a, b))
    note = tail_note(a.size, alpha, "the difference")
    m = tail_count(a.size, alpha)
    if not (ex.exists and ey.exists):
        return Estimate(math.nan, math.nan, math.nan, math.nan, level, "bonferroni",
                        exists=False, note="An expected shortfall does not exist. " + note,
                        beyond=m, sufficient=False)
    lo, hi = ex.lower - ey.upper, ex.upper - ey.lower
    return Estimate(ex.value - ey.value, (hi - lo) / (2.0 * z), lo, hi, level, "bonferroni",
                    note=note + f" The interval joins the two levels' widened intervals at "
                                f"{wide:.1%} each (Bonferroni).", beyond=m, sufficient=False)


def diff_estimate(x, y, measure: Literal["mean", "var", "es"], alpha: float = 0.999,
                  level: float = 0.95, *, bounded: bool | None = None) -> Estimate:
    """``measure(x) - measure(y)`` for outcomes of the same simulated years, with its paired
    standard error and interval.

    Parameters
    ----------
    x, y : array_like
        Paired outcomes: ``x[i]`` and ``y[i]`` come from the same simulated year (common
        random numbers), e.g. annual net losses under two insurance alternatives. KRW.
    measure : {"mean", "var", "es"}
    alpha : float
        Level of VaR or ES (ignored for the mean).
    level : float
        Confidence level of the interval.
    bounded : bool, optional
        Mean and ES only. True: the caller knows ``x - y`` has a finite variance by
        construction (recoveries under limits with a light-tailed claim count, as for
        insurance alternatives on common random numbers) and, for ES, that both ES exist
        (finite mean or a severity cap): the paired error is used unchecked. None: both
        are decided from the sample (a fitted ξ >= 1 → no ES; the tail rule on the
        differences, which a bounded difference with a Pareto-like body can fail: then NaN
        for the mean, Bonferroni for ES). False: treated as heavy-tailed.

    Returns
    -------
    Estimate
        ``method="paired"`` (or ``"bonferroni"`` for an ES difference whose paired error is
        not valid); unit of ``x``.

    Notes
    -----
    * **mean**: mean of ``d = x - y``, ``se = sd(d)/sqrt(n)``; needs a finite variance of
      ``d`` (recoveries bounded by limits), checked by the tail rule of :func:`es_estimate`
      on ``|d - median(d)|`` unless ``bounded`` is given; heavy gives ``se = nan``.
    * **var**: by the Bahadur representation (Serfling 1980, §2.5) ``q̂ - q = (alpha -
      F_n(q)) / f(q) + o(n^-1/2)``, so ``Cov(q̂_x, q̂_y) = (P(X <= q_x, Y <= q_y) - alpha²)
      / (n f_x f_y)``: ``se² = se_x² + se_y² - 2 ρ se_x se_y``, ``se_x, se_y`` of
      :func:`var_with_se`, ``ρ`` the sample correlation of ``1{x <= VaR_x}`` and
      ``1{y <= VaR_y}``. Valid for any tail.
    * **es**: linearising by the influence function ``VaR + (X - VaR)^+ / (1 - alpha)``,
      ``se = sd(D) / ((1 - alpha) sqrt(n))`` with ``D = (x - VaR_x)^+ - (y - VaR_y)^+``.
      It needs a finite variance of ``D``, not of the levels: gross and net of a limited
      layer are heavy-tailed, but ``|D| <= |x - y| + |VaR_x - VaR_y|`` is bounded by the
      cover. ``bounded``, or both levels light, or ``x - y`` or ``D`` light by the tail rule
      → ``"paired"``, valued as the sample-ES difference (which may differ from the
      difference of GPD-based levels, within their intervals);
      otherwise ``"bonferroni"``: ``(lo_x - hi_y, hi_x - lo_y)`` from the levels' intervals
      at ``1 - (1 - level)/2`` each, about the difference of their estimates.
    * **var** and **es** with fewer than :data:`~opwb.engine.precision.MIN_TAIL` outcomes
      expected beyond ``alpha``: neither the Bahadur nor the influence-function error
      holds; ``"bonferroni"`` of the two widened level intervals (:func:`var_estimate`,
      :func:`es_estimate`), flagged (``sufficient`` False) -- valid, and wide (unbounded
      when a level's interval is).

    Raises
    ------
    ValueError
        Unpaired or bad samples, bad ``alpha``/``level``/``measure``.

    Examples
    --------
    >>> import numpy as np
    >>> gross = np.random.default_rng(1).lognormal(0.0, 1.0, 100_000)
    >>> net = gross - np.clip(gross - 5.0, 0.0, 2.0)            # a 2 xs 5 stop-loss cover
    >>> d = diff_estimate(gross, net, "var", 0.99)
    >>> bool(abs(d.value - 2.0) < 1e-12), d.se < 0.1 * var_with_se(gross, 0.99)[1]
    (True, True)
    """
    a, b = _pair(x, y, alpha)
    alpha, level = float(alpha), float(check_level(level, name="level"))
    z = _z(level)
    if measure == "mean":
        return _diff_mean(a, b, z, level, bounded)
    if measure not in ("var", "es"):
        raise ValueError(f"measure must be 'mean', 'var' or 'es', got {measure!r}")
    m = tail_count(a.size, alpha)
    if m < MIN_TAIL:
        return _diff_widened(a, b, measure, alpha, z, level, bounded)
    e = _diff_var(a, b, alpha, z, level) if measure == "var" else \
        _diff_es(a, b, alpha, z, level, bounded)
    return dataclasses.replace(e, beyond=m)


def diff_mean_with_se(x, y, *, bounded: bool | None = None) -> tuple[float, float]:
    """Mean of the paired differences ``x - y`` and its standard error (see
    :func:`diff_estimate`)."""
    e = diff_estimate(x, y, "mean", 0.5, bounded=bounded)
    return e.value, e.se


def diff_var_with_se(x, y, alpha: float) -> tuple[float, float]:
    """``VaR(x) - VaR(y)`` on the same simulated years and its paired (Bahadur) standard
    error (see :func:`diff_estimate`)."""
    e = diff_estimate(x, y, "var", alpha)
    return e.value, e.se


def diff_es_with_se(x, y, alpha: float, *, bounded: bool | None = None
                    ) -> tuple[float, float]:
    """``ES(x) - ES(y)`` on the same simulated years and its paired standard error (see
    :func:`diff_estimate`; NaN when an ES does not exist)."""
    e = diff_estimate(x, y, "es", alpha, bounded=bounded)
    return e.value, e.se


def risk_summary(samples: Mapping[str, np.ndarray], alpha: float = 0.999, *,
                 finite_mean: Mapping[str, bool | None] | None = None,
                 bounded: Mapping[str, bool] | None = None):
    """One row per named sample: mean, VaR and ES at ``alpha``, each with its MC standard error.

    Returns a :class:`pandas.DataFrame` indexed by name with columns ``mean, mean_se, var,
    var_se, es, es_se, es_lower, es_upper, es_method, n, mean_exists, es_exists, beyond,
    sufficient`` (VaR as :func:`var_with_se`, ES as :func:`es_estimate` at 95%;
    ``beyond = n (1 - alpha)``, ``sufficient`` False when it is below
    :data:`~opwb.engine.precision.MIN_TAIL`: VaR and ES are then flagged and their errors
    widened, ``inf`` where the sample bounds them from one side only). Where ``finite_mean[name]`` is False (the model behind the
    sample has an infinite mean, with no severity cap) the mean and ES do not exist: they
    are NaN and ``mean_exists`` is False, never a sample average; where the sample's own
    tail fit has ξ >= 1, the ES is NaN and ``es_exists`` False, unless ``bounded[name]``
    says the outcomes are bounded by a severity cap (see :func:`es_estimate`).
    """
    import pandas as pd

    rows = {}
    for name, x in samples.items():
        exists = (finite_mean or {}).get(name, True) is not False
        m, m_se = mean_with_se(x) if exists else (np.nan, np.nan)
        v, v_se = var_with_se(x, alpha)
        e = es_estimate(x, alpha, bounded=bool((bounded or {}).get(name))) if exists else None
        rows[name] = {"mean": m, "mean_se": m_se, "var": v, "var_se": v_se,
                      "es": e.value if e else np.nan, "es_se": e.se if e else np.nan,
                      "es_lower": e.lower if e else np.nan,
                      "es_upper": e.upper if e else np.nan,
                      "es_method": e.method if e else "", "n": int(np.asarray(x).size),
                      "mean_exists": exists, "es_exists": bool(e.exists) if e else False,
                      "beyond": tail_count(np.asarray(x).size, alpha),
                      "sufficient": tail_count(np.asarray(x).size, alpha) >= MIN_TAIL}
    return pd.DataFrame.from_dict(rows, orient="index")
