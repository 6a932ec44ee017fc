"""Heavy-tail diagnostics and the spliced (body + GPD tail) severity.

- :func:`mean_excess`: e(u) = E[X − u | X > u] with its standard error (linear and rising
  above a threshold where a GPD with 0 < ξ < 1 fits).
- :func:`hill`: the Hill estimator ξ̂_k = (1/k) Σ_{i≤k} ln X_(n−i+1) − ln X_(n−k) over k.
- :func:`gpd_stability`: GPD shape ξ and modified scale σ* = σ − ξ u fitted to the excesses
  over a range of thresholds (both are constant above a threshold where the GPD holds).
- :func:`suggest_threshold`: the lowest threshold above which ξ̂ stays inside the confidence
  bands of the higher thresholds, with the reasoning as text.
- :class:`SplicedSeverity` and :func:`splice`: body (empirical or parametric) up to ``u``,
  GPD above ``u``, weight of the tail = empirical share above ``u``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from opwb.data.errors import DataError
from opwb.data.levels import check_level
from opwb.fitting.mle import SeverityFit, fit_severity

__all__ = ["mean_excess", "hill", "gpd_stability", "ThresholdSuggestion", "suggest_threshold",
           "SplicedSeverity", "splice"]


def _clean(losses) -> np.ndarray:
    x = np.asarray(losses, dtype=float).ravel()
    if x.size < 3 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("tail diagnostics need at least 3 positive, finite losses")
    return np.sort(x)


def mean_excess(losses, thresholds=None, *, min_exceed: int = 5) -> pd.DataFrame:
    """Empirical mean-excess function.

    Returns a DataFrame with ``threshold``, ``n_exceed``, ``mean_excess`` and ``se``
    (sample standard deviation of the excesses / √n). Default thresholds: every distinct
    loss amount leaving at least ``min_exceed`` losses strictly above it (booked amounts are
    often round, so a tied amount is one threshold, not several).
    """
    x = _clean(losses)
    if thresholds is None:
        u = np.unique(x)
        u = u[(x.size - np.searchsorted(x, u, side="right")) >= min_exceed]
    else:
        u = np.unique(np.asarray(thresholds, float))
    rows = []
    for t in u:
        e = x[x > t] - t
        if e.size == 0:
            continue
        se = e.std(ddof=1) / np.sqrt(e.size) if e.size > 1 else np.nan
        rows.append((float(t), e.size, float(e.mean()), float(se)))
    return pd.DataFrame(rows, columns=["threshold", "n_exceed", "mean_excess", "se"])


def hill(losses, k=None) -> pd.DataFrame:
    """Hill estimates over the number ``k`` of upper order statistics.

    Returns ``k``, ``threshold`` (X_(n−k)), ``xi`` (= 1/alpha), ``alpha``, ``se`` (ξ̂/√k, the
    asymptotic standard error) and ``note``. With tied amounts (round bookings) the
    estimator is defined only where the threshold X_(n−k) lies strictly below the k upper
    order statistics; at other ``k`` the row has NaN estimates and says why, as it does
    when the k upper losses are all equal (ξ̂ = 0 says nothing about the tail).

    Examples
    --------
    >>> x = (1 - np.random.default_rng(0).random(20000)) ** (-1 / 2.0)   # Pareto, alpha = 2
    >>> h = hill(x, k=[2000]).iloc[0]
    >>> bool(abs(h["xi"] - 0.5) < 3 * h["se"])
    True
    >>> hill([5.0, 5.0, 5.0, 9.0, 9.0, 12.0], k=[1, 2])["note"].tolist()[1]
    'X_(n-k) = 9 is tied with an upper order statistic: the Hill estimator is not defined at this k'
    """
    x = _clean(losses)
    n = x.size
    ks = np.arange(2, n) if k is None else np.atleast_1d(np.asarray(k, dtype=int))
    if np.any((ks < 1) | (ks >= n)):
        raise ValueError(f"k must lie in 1..{n - 1} for {n} losses")
    desc = x[::-1]
    logs = np.log(desc)
    csum = np.cumsum(logs)
    xi = csum[ks - 1] / ks - logs[ks]
    tied = desc[ks] >= desc[ks - 1]                 # threshold equals the k-th largest loss
    flat = ~tied & (xi <= 0)
    note = np.where(tied, [f"X_(n-k) = {_fmt(v)} is tied with an upper order statistic: the "
                           "Hill estimator is not defined at this k" for v in desc[ks]], "")
    note = np.where(flat, "the k upper losses are all equal: no tail information", note)
    bad = tied | flat
    xi = np.where(bad, np.nan, xi)
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame({"k": ks, "threshold": desc[ks], "xi": xi, "alpha": 1.0 / xi,
                             "se": xi / np.sqrt(ks), "note": note})


def _min_exceed(n: int, min_exceed: int | None) -> int:
    """Default exceedances kept above the highest threshold: 20, fewer for small samples
    (a quarter of them, at least 10)."""
    return min_exceed if min_exceed is not None else (20 if n >= 80 else max(10, n // 4))


def gpd_stability(losses, thresholds=None, *, min_exceed: int | None = None,
                  n_thresholds: int = 20) -> pd.DataFrame:
    """GPD fits to the excesses over each threshold.

    Returns ``threshold``, ``n_exceed``, ``xi``, ``se_xi``, ``sigma``, ``modified_scale``
    (σ − ξ u), ``se_modified_scale`` and ``note`` (why a fit failed). Default thresholds:
    ``n_thresholds`` empirical quantiles from the median to the point leaving ``min_exceed``
    (default: 20, a quarter of the losses — at least 10 — for fewer than 80).
    """
    x = _clean(losses)
    min_exceed = _min_exceed(x.size, min_exceed)
    if thresholds is None:
        top = 1.0 - min_exceed / x.size
        if top <= 0.5:
            raise ValueError(f"need more than {2 * min_exceed} losses for a stability plot")
        thresholds = np.unique(np.quantile(x, np.linspace(0.5, top, n_thresholds)))
    rows = []
    for u in np.asarray(thresholds, dtype=float):
        e = x[x > u] - u
        row = {"threshold": float(u), "n_exceed": int(e.size)}
        try:
            f = fit_severity(e, "genpareto")
        except DataError as exc:
            f, why = None, str(exc)
        else:
            why = "" if f.ok else f"GPD fit {f.status}: {f.note}"
        if f is None or not f.ok:
            row.update(xi=np.nan, se_xi=np.nan, sigma=np.nan, modified_scale=np.nan,
                       se_modified_scale=np.nan, note=why)
        else:
            xi, s = f.params["xi"], f.params["sigma"]
            c = np.asarray(f.cov)
            var_ms = c[1, 1] + u * u * c[0, 0] - 2 * u * c[0, 1]   # Var(σ − ξu)
            row.update(xi=xi, se_xi=f.se["xi"], sigma=s, modified_scale=s - xi * u,
                       se_modified_scale=float(np.sqrt(max(var_ms, 0.0))), note="")
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class ThresholdSuggestion:
    """A suggested GPD threshold, the fit above it and the reasoning in words."""

    threshold: float
    xi: float
    se_xi: float
    n_exceed: int
    reasoning: str
    table: pd.DataFrame


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def suggest_threshold(losses, *, min_exceed: int | None = None, n_thresholds: int = 20,
                      z: float = 1.96, min_compare: int | None = None) -> ThresholdSuggestion:
    """Lowest threshold whose ξ̂ lies within ±z·se of every higher threshold's ξ̂.

    Above a threshold where the GPD holds, ξ̂ is constant up to noise; so we scan the
    candidate thresholds from low to high and keep the first one that every higher candidate
    with at least ``min_compare`` exceedances (default: max(min_exceed, n/10); estimates from
    fewer points are too noisy to veto) agrees with: |ξ̂(u) − ξ̂(u')| ≤ z·se(u'). The
    reasoning names the candidates rejected and why, the chosen ξ̂ ± se, the number of
    exceedances and the share of the data in the tail.
    """
    x = _clean(losses)
    min_exceed = _min_exceed(x.size, min_exceed)
    tab = gpd_stability(x, min_exceed=min_exceed, n_thresholds=n_thresholds)
    ok = tab[np.isfinite(tab["xi"]) & np.isfinite(tab["se_xi"])].reset_index(drop=True)
    if ok.empty:
        raise ValueError("no GPD fit succeeded at any candidate threshold")
    if min_compare is None:
        min_compare = max(min_exceed, x.size // 10)
    lines, chosen = [], len(ok) - 1
    for i in range(len(ok)):
        higher = ok.iloc[i + 1:]
        higher = higher[higher["n_exceed"] >= min_compare]
        dev = np.abs(higher["xi"] - ok.loc[i, "xi"]) > z * higher["se_xi"]
        if not dev.any():
            chosen = i
            break
        j = higher.index[np.argmax(dev.to_numpy())]
        lines.append(f"- u = {_fmt(ok.loc[i, 'threshold'])} rejected: ξ̂ = {ok.loc[i, 'xi']:.2f} "
                     f"lies outside ξ̂ = {ok.loc[j, 'xi']:.2f} ± {z}·{ok.loc[j, 'se_xi']:.2f} "
                     f"at the higher threshold {_fmt(ok.loc[j, 'threshold'])}")
    r = ok.loc[chosen]
    share = r["n_exceed"] / x.size
    head = (f"Scanned {len(tab)} thresholds from the median to the point leaving {min_exceed} "
            f"exceedances; GPD fitted to the excesses at each; thresholds leaving fewer than "
            f"{min_compare} exceedances are shown but do not veto lower ones.")
    tail = (f"Chosen u = {_fmt(r['threshold'])}: the lowest threshold whose shape estimate "
            f"ξ̂ = {r['xi']:.3f} (se {r['se_xi']:.3f}) agrees with every higher threshold "
            f"within ±{z} standard errors; {int(r['n_exceed'])} losses ({share:.0%}) lie above it."
            + (" ξ̂ ≥ 1: the fitted tail has an infinite mean." if r["xi"] >= 1 else ""))
    text = "\n".join([head, *lines, tail])
    return ThresholdSuggestion(float(r["threshold"]), float(r["xi"]), float(r["se_xi"]),
                               int(r["n_exceed"]), text, tab)


@dataclass(frozen=True)
class SplicedSeverity:
    """Body up to ``u`` and a GPD tail above it, usable anywhere a severity family is.

    ``F(x) = (1 − w) · B(x)`` for ``lower < x ≤ u`` and ``F(x) = 1 − w · S_GPD(x − u)`` above,
    where ``w = weight`` is the tail probability and ``B`` the body cdf conditional on
    ``(lower, u]``: either the piecewise-linear empirical cdf of ``body_points`` or a
    parametric ``body`` (anything with ``cdf``/``ppf``) renormalised to ``(lower, u]``.
    ``threshold`` (= ``lower``) is the collection threshold: ``sf(threshold) = 1``.
    """

    u: float
    weight: float
    xi: float
    sigma: float
    threshold: float = 0.0
    body_points: tuple[float, ...] = ()
    body: object = None

    def __post_init__(self):
        if not 0 < self.weight <= 1 or self.sigma <= 0 or self.u <= self.threshold:
            raise ValueError("SplicedSeverity needs 0 < weight <= 1, sigma > 0, u > threshold")
        if self.body is None and not self.body_points and self.weight < 1:
            raise ValueError("give body_points (empirical body) or a parametric body")

    # body cdf / ppf conditional on (threshold, u], by the body's survival function when it
    # has one: (S(H) − S(x)) / (S(H) − S(u)) keeps its precision when H lies far in the
    # body's tail, where F(H) rounds to 1 and F(u) − F(H) to 0
    def _body_sf(self, x):
        if hasattr(self.body, "sf"):
            return self.body.sf(x)
        return 1.0 - self.body.cdf(x)

    def _body_mass(self) -> tuple[float, float]:
        """(S(threshold), S(threshold) − S(u)) of the parametric body."""
        s_lo = float(self._body_sf(self.threshold))
        return s_lo, s_lo - float(self._body_sf(self.u))

    def _body_cdf(self, x):
        if self.body is not None:
            s_lo, mass = self._body_mass()
            return np.clip((s_lo - self._body_sf(x)) / mass, 0.0, 1.0)
        xs, ps = self._ecdf()
        return np.interp(x, xs, ps)

    def _body_ppf(self, q):
        if self.body is not None:
            s_lo, mass = self._body_mass()
            if hasattr(self.body, "isf"):
                return np.minimum(self.body.isf(np.clip(s_lo - q * mass, 0.0, 1.0)), self.u)
            return np.minimum(self.body.ppf(np.clip(1.0 - s_lo + q * mass, 0.0, 1.0)), self.u)
        xs, ps = self._ecdf()
        return np.interp(q, ps, xs)

    def _ecdf(self):
        pts = np.sort(np.asarray(self.body_points, dtype=float))
        xs = np.concatenate([[self.threshold], pts, [self.u]])
        ps = np.concatenate([[0.0], np.arange(1, pts.size + 1) / (pts.size + 1), [1.0]])
        return xs, ps

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        z = np.maximum(x - self.u, 0.0) / self.sigma
        tail = 1.0 - self.weight * _gpd_sf(z, self.xi)
        return np.where(x > self.u, tail, (1.0 - self.weight) * self._body_cdf(x))

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        z = np.maximum(x - self.u, 0.0) / self.sigma
        return np.where(x > self.u, self.weight * _gpd_sf(z, self.xi), 1.0 - self.cdf(x))

    def logsf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.sf(x))

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        z = np.maximum(x - self.u, 0.0) / self.sigma
        with np.errstate(all="ignore"):
            tail = self.weight / self.sigma * _gpd_sf(z, self.xi) ** (1 + self.xi)
        if self.body is not None:
            body = self.body.pdf(x) / self._body_mass()[1]
        else:
            xs, ps = self._ecdf()
            i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, xs.size - 2)
            body = np.diff(ps)[i] / np.maximum(np.diff(xs)[i], 1e-300)
        inside = (x > self.threshold) & (x <= self.u)
        return np.where(x > self.u, tail, np.where(inside, (1 - self.weight) * body, 0.0))

    def logpdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    @property
    def tail_index(self) -> float:
        """ξ of the GPD tail."""
        return float(self.xi)

    @property
    def finite_mean(self) -> bool:
        """False when the GPD tail has ξ ≥ 1 (infinite mean and expected shortfall)."""
        return self.xi < 1.0

    def ppf(self, q):
        q = check_level(q, name="q", closed=True)
        w = self.weight
        with np.errstate(all="ignore"):
            qt = np.clip((1.0 - q) / w, 1e-300, 1.0)
            tail = self.u + self.sigma * _gpd_isf(qt, self.xi)
            body = self._body_ppf(np.clip(q / max(1.0 - w, 1e-300), 0.0, 1.0))
        return np.where(q > 1.0 - w, tail, body)

    def isf(self, q):
        return self.ppf(1.0 - np.asarray(q, dtype=float))

    def rvs(self, size=None, random_state=None):
        return self.ppf(np.random.default_rng(random_state).random(size))

    @property
    def dist(self) -> "SplicedSeverity":
        """The distribution itself (for code that expects ``fit.dist``)."""
        return self


def _gpd_sf(z, xi):
    if abs(xi) < 1e-12:
        return np.exp(-z)
    return np.maximum(1.0 + xi * z, 0.0) ** (-1.0 / xi)


def _gpd_isf(q, xi):
    if abs(xi) < 1e-12:
        return -np.log(q)
    return np.expm1(-xi * np.log(q)) / xi


def splice(losses, u: float, *, threshold: float = 0.0,
           body: Literal["empirical"] | SeverityFit | object = "empirical") -> SplicedSeverity:
    """Splice an empirical or parametric body with a GPD fitted to the excesses over ``u``.

    Parameters
    ----------
    losses : array_like
        Losses above ``threshold`` (the collection threshold).
    u : float
        Splice point; the GPD is fitted by MLE to ``x − u`` for ``x > u``.
    body : "empirical" or a distribution
        ``"empirical"`` uses the losses at or below ``u``; otherwise anything with
        ``cdf``/``ppf``/``pdf`` (e.g. a :class:`SeverityFit`), renormalised to (threshold, u].
    """
    x = np.asarray(losses, dtype=float)
    if np.any(x < threshold):
        raise ValueError(f"all losses must be at or above the threshold {threshold:,.0f}")
    if not threshold < u < x.max():
        raise ValueError(f"u must lie between the threshold and the largest loss, got {u!r}")
    gp = fit_severity(x[x > u] - u, "genpareto")
    if gp.status not in ("ok", "edge"):
        raise ValueError(f"the GPD above u = {u:,.0f} is {gp.status}: {gp.note}")
    w = float(np.mean(x > u))
    common = dict(u=float(u), weight=w, xi=gp.params["xi"], sigma=gp.params["sigma"],
                  threshold=float(threshold))
    if isinstance(body, str):
        if body != "empirical":
            raise ValueError(f"body must be 'empirical' or a distribution, got {body!r}")
        return SplicedSeverity(**common, body_points=tuple(np.sort(x[x <= u]).tolist()))
    return SplicedSeverity(**common, body=body)
