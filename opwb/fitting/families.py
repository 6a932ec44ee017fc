"""Severity families: one registry for fitting, dashboards and tests.

Each :class:`SeverityFamily` knows its parameter names, an unconstrained
reparameterisation used by the optimiser (log of positive parameters, square root of the
g-and-h ``h`` so that ``h = 0`` is an interior point), fast
vectorised log-density / log-survival / inverse-survival functions for the *untruncated*
distribution (broadcasting over parameter arrays, used by the batched fitter and the
bootstrap), starting values from data, and :meth:`SeverityFamily.dist`, which returns the
untruncated distribution with scipy's vocabulary (``pdf, logpdf, cdf, sf, logsf, ppf, isf,
rvs``). Scipy-native families return a frozen scipy distribution (composition, location
fixed at 0); log-gamma and Tukey g-and-h return a :class:`RawSeverity`.

Families (``SEVERITY_FAMILIES`` keys)
-------------------------------------
``lognormal`` (mu, sigma)           ln X ~ N(mu, sigma²); scipy ``lognorm(sigma, scale=e^mu)``
``weibull`` (shape, scale)          scipy ``weibull_min``
``gamma`` (shape, scale)            scipy ``gamma``
``loglogistic`` (shape, scale)      scipy ``fisk``
``lomax`` (alpha, scale)            Pareto type II, S(x) = (1 + x/scale)^-alpha; scipy ``lomax``
``genpareto`` (xi, sigma)           S(x) = (1 + xi x/sigma)^(-1/xi); scipy ``genpareto``
``burr12`` (c, d, scale)            S(x) = (1 + (x/scale)^c)^-d; scipy ``burr12``
``loggamma`` (a, b)                 actuarial log-gamma: ln X ~ Gamma(shape a, rate b), X > 1
``gandh`` (A, B, g, h)              Tukey g-and-h: X = A + B (e^{gZ} - 1)/g · e^{hZ²/2}, Z ~ N(0,1)
``shifted_lognormal`` (mu, sigma)   ln(X − H) ~ N(mu, sigma²): the excess over the threshold H
                                    is lognormal (scipy ``lognorm(sigma, loc=H, scale=e^mu)``)

The first nine are *truncated* families: the ground-up loss ``X`` follows the family and the
data are the losses above ``H``. ``shifted_lognormal`` is a *shifted* family: the family
describes ``X − H`` directly (no truncation term), the usual remedy when a truncated
lognormal is not identified (Cavallo, Rosenthal, Wang & Yan 2012, "Treatment of the data
collection threshold in operational risk: a case study with the lognormal distribution",
Journal of Operational Risk 7(1)). Its location is the threshold, so :meth:`SeverityFamily.dist`
takes it as ``loc``.

Tail index
----------
:attr:`SeverityFamily.tail_index` gives the tail index ξ (S(x) ≈ x^(−1/ξ)) of each family:
1/shape (log-logistic), 1/alpha (Lomax), xi (GPD), 1/(c·d) (Burr XII), 1/b (log-gamma), h
(g-and-h); 0 for the lognormal, Weibull and gamma, whose every moment is finite. The mean
is infinite when ξ ≥ 1 (Embrechts, Klüppelberg & Mikosch 1997, §3.3).

Pickling
--------
Every callable a family stores (kernels, scipy makers, tail functions) is a module-level
function, never a lambda, so families, :class:`RawSeverity` and every fit holding them
pickle: the process backend of :func:`opwb.engine.simulate.simulate_losses` and Dask send
them to other processes (a test pickles a fit of every family).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from opwb.fitting._kernels import (
    _burr_isf,
    _burr_logpdf,
    _burr_logsf,
    _burr_starts,
    _fisk_isf,
    _fisk_logpdf,
    _fisk_logsf,
    _fisk_starts,
    _gamma_isf,
    _gamma_logpdf,
    _gamma_logsf,
    _gamma_starts,
    _gandh_starts,
    _gpd_isf,
    _gpd_logpdf,
    _gpd_logsf,
    _gpd_starts,
    _loggamma_isf,
    _loggamma_logpdf,
    _loggamma_logsf,
    _loggamma_starts,
    _lognormal_isf,
    _lognormal_logpdf,
    _lognormal_logsf,
    _lognormal_starts,
    _lomax_isf,
    _lomax_logpdf,
    _lomax_logsf,
    _lomax_starts,
    _weibull_isf,
    _weibull_logpdf,
    _weibull_logsf,
    _weibull_starts,
)
from opwb.fitting.gandh import gh_isf, gh_logpdf, gh_logsf, gh_quantile

__all__ = [
    "SeverityFamily", "RawSeverity", "SEVERITY_FAMILIES", "family_names", "get_family",
]


@dataclass(frozen=True)
class SeverityFamily:
    """A parametric severity family (see the module docstring for the list).

    Attributes
    ----------
    name, label, label_ko : str
        Registry key, English label and Korean label (for dropdowns).
    param_names : tuple of str
        Natural parameters, in the order the raw functions take them.
    scale_params : tuple of str
        Parameters multiplied by ``c`` when the data are multiplied by ``c`` (fitting works on
        data divided by a reference scale); ``log_scale_params`` are shifted by ``log c``
        instead (lognormal ``mu``). Both empty for log-gamma, which is not a scale family.
    transform : tuple of str
        Per parameter, how the optimiser sees it: ``"log"`` (positive, θ = log p), ``"id"``
        (real, θ = p) or ``"square"`` (non-negative, p = θ²).
    min_support : float
        Lower end of the support (1 for log-gamma, 0 for the positive families, -inf for g-and-h).
    """

    name: str
    label: str
    label_ko: str
    param_names: tuple[str, ...]
    scale_params: tuple[str, ...]
    transform: tuple[str, ...]
    min_support: float
    raw_logpdf: Callable
    raw_logsf: Callable
    raw_isf: Callable
    starts: Callable[[np.ndarray, float], np.ndarray]
    scipy_maker: Callable | None = None
    log_scale_params: tuple[str, ...] = ()
    tail: Callable[..., float] | None = None  # natural parameters -> tail index ξ (None: 0)
    shifted: bool = False

    def tail_index(self, params: Mapping[str, float]) -> float:
        """Tail index ξ of the distribution with ``params`` (S(x) ≈ x^(−1/ξ); 0: lighter).

        Examples
        --------
        >>> SEVERITY_FAMILIES["lomax"].tail_index({"alpha": 0.8, "scale": 1.0})
        1.25
        """
        if self.tail is None:
            return 0.0
        return float(self.tail(**{p: float(params[p]) for p in self.param_names}))

    def finite_mean(self, params: Mapping[str, float]) -> bool:
        """True when the mean exists (tail index ξ < 1)."""
        return self.tail_index(params) < 1.0

    @property
    def scalable(self) -> bool:
        """True when the family is closed under scaling (fitted on data / reference scale)."""
        return bool(self.scale_params or self.log_scale_params)

    def rescale(self, params: Mapping[str, float], c: float) -> dict[str, float]:
        """Parameters of ``c·X`` when ``X`` has ``params``."""
        out = {p: float(v) for p, v in params.items()}
        for p in self.scale_params:
            out[p] *= c
        for p in self.log_scale_params:
            out[p] += np.log(c)
        return out

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    def to_natural(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """Unconstrained ``theta[..., k]`` → tuple of natural parameter arrays."""
        theta = np.asarray(theta, dtype=float)
        fns = {"log": np.exp, "id": lambda t: t, "square": np.square}
        return tuple(fns[tr](theta[..., i]) for i, tr in enumerate(self.transform))

    def to_theta(self, params: Mapping[str, float]) -> np.ndarray:
        """Natural parameters (mapping) → unconstrained vector."""
        fns = {"log": np.log, "id": float, "square": np.sqrt}
        return np.array([fns[tr](float(params[p]))
                         for p, tr in zip(self.param_names, self.transform)])

    def dnatural_dtheta(self, params: Mapping[str, float]) -> np.ndarray:
        """Diagonal Jacobian d(natural)/dθ at ``params`` (for the delta method)."""
        d = {"log": lambda v: v, "id": lambda v: 1.0, "square": lambda v: 2.0 * np.sqrt(v)}
        return np.array([d[tr](float(params[p]))
                         for p, tr in zip(self.param_names, self.transform)])

    def check_params(self, params: Mapping[str, float]) -> dict[str, float]:
        """Return ``params`` as a float dict after checking names and signs."""
        missing = [p for p in self.param_names if p not in params]
        extra = [p for p in params if p not in self.param_names]
        if missing or extra:
            raise ValueError(f"family '{self.name}' takes parameters {self.param_names}; "
                             f"missing {missing}, unexpected {extra}")
        out = {p: float(params[p]) for p in self.param_names}
        need = {"log": ("positive", lambda v: v > 0), "square": ("non-negative", lambda v: v >= 0),
                "id": ("", lambda v: True)}
        for p, tr in zip(self.param_names, self.transform):
            word, ok = need[tr]
            if not np.isfinite(out[p]) or not ok(out[p]):
                raise ValueError(f"family '{self.name}': parameter {p}={out[p]!r} must be "
                                 f"{word + ' and ' if word else ''}finite")
        return out

    def dist(self, *, loc: float = 0.0, **params: float):
        """The untruncated distribution: a frozen scipy distribution, or :class:`RawSeverity`.

        ``loc`` is the location of a shifted family (its threshold); the truncated families
        take none.

        Examples
        --------
        >>> d = SEVERITY_FAMILIES["lognormal"].dist(mu=0.0, sigma=1.0)
        >>> round(float(d.ppf(0.5)), 6)
        1.0
        >>> round(float(SEVERITY_FAMILIES["shifted_lognormal"].dist(mu=0.0, sigma=1.0, loc=5.0)
        ...             .ppf(0.5)), 6)
        6.0
        """
        p = self.check_params(params)
        if loc and not self.shifted:
            raise ValueError(f"family '{self.name}' is not a shifted family; it takes no loc")
        if self.scipy_maker is not None:
            return self.scipy_maker(**p, loc=float(loc)) if self.shifted else self.scipy_maker(**p)
        return RawSeverity(self, tuple(p[n] for n in self.param_names))


@dataclass(frozen=True)
class RawSeverity:
    """Untruncated distribution of a non-scipy family, with scipy's method names."""

    family: SeverityFamily
    args: tuple[float, ...]

    def logpdf(self, x):
        return self.family.raw_logpdf(np.asarray(x, dtype=float), *self.args)

    def pdf(self, x):
        return np.exp(self.logpdf(x))

    def logsf(self, x):
        return self.family.raw_logsf(np.asarray(x, dtype=float), *self.args)

    def sf(self, x):
        return np.exp(self.logsf(x))

    def cdf(self, x):
        return -np.expm1(self.logsf(x))

    def logcdf(self, x):
        return np.log(self.cdf(x))

    def isf(self, q):
        return self.family.raw_isf(np.asarray(q, dtype=float), *self.args)

    def ppf(self, q):
        return self.isf(1.0 - np.asarray(q, dtype=float))

    def median(self):
        return float(self.isf(0.5))

    def support(self):
        return (self.family.min_support, np.inf)

    def rvs(self, size=None, random_state=None):
        rng = np.random.default_rng(random_state)
        return self.isf(rng.random(size))


# --------------------------------------------------------------------------- registry
# Every callable the registry stores is a module-level function, never a lambda, so that a
# family, and every fit or distribution holding one, pickles (process pools, Dask, caches).
def _light_tail(**_: float) -> float:
    """Tail index of a family whose every moment is finite (lognormal, Weibull, gamma)."""
    return 0.0


def _tail_loglogistic(shape, scale):
    return 1 / shape


def _tail_lomax(alpha, scale):
    return 1 / alpha


def _tail_genpareto(xi, sigma):
    return xi


def _tail_burr12(c, d, scale):
    return 1 / (c * d)


def _tail_loggamma(a, b):
    return 1 / b


def _tail_gandh(A, B, g, h):
    return h


def _scipy_lognormal(mu, sigma):
    return stats.lognorm(sigma, scale=np.exp(mu))


def _scipy_weibull(shape, scale):
    return stats.weibull_min(shape, scale=scale)


def _scipy_gamma(shape, scale):
    return stats.gamma(shape, scale=scale)


def _scipy_loglogistic(shape, scale):
    return stats.fisk(shape, scale=scale)


def _scipy_lomax(alpha, scale):
    return stats.lomax(alpha, scale=scale)


def _scipy_genpareto(xi, sigma):
    return stats.genpareto(xi, scale=sigma)


def _scipy_burr12(c, d, scale):
    return stats.burr12(c, d, scale=scale)


def _scipy_shifted_lognormal(mu, sigma, loc):
    return stats.lognorm(sigma, loc=loc, scale=np.exp(mu))


def _fam(name, label, label_ko, params, scale, positive, fns, starts, maker, min_support=0.0,
         log_scale=(), tail=None, shifted=False):
    transform = tuple(t if isinstance(t, str) else ("log" if t else "id") for t in positive)
    return SeverityFamily(name, label, label_ko, params, scale, transform, min_support,
                          *fns, starts, maker, log_scale, tail or _light_tail, shifted)


SEVERITY_FAMILIES: dict[str, SeverityFamily] = {f.name: f for f in (
    _fam("lognormal", "lognormal", "로그정규", ("mu", "sigma"), (), (False, True),
         (_lognormal_logpdf, _lognormal_logsf, _lognormal_isf), _lognormal_starts,
         _scipy_lognormal, log_scale=("mu",)),
    _fam("weibull", "Weibull", "와이블", ("shape", "scale"), ("scale",), (True, True),
         (_weibull_logpdf, _weibull_logsf, _weibull_isf), _weibull_starts, _scipy_weibull),
    _fam("gamma", "gamma", "감마", ("shape", "scale"), ("scale",), (True, True),
         (_gamma_logpdf, _gamma_logsf, _gamma_isf), _gamma_starts, _scipy_gamma),
    _fam("loglogistic", "log-logistic", "로그로지스틱", ("shape", "scale"), ("scale",),
         (True, True), (_fisk_logpdf, _fisk_logsf, _fisk_isf), _fisk_starts,
         _scipy_loglogistic, tail=_tail_loglogistic),
    _fam("lomax", "Pareto II (Lomax)", "파레토 II (Lomax)", ("alpha", "scale"), ("scale",),
         (True, True), (_lomax_logpdf, _lomax_logsf, _lomax_isf), _lomax_starts,
         _scipy_lomax, tail=_tail_lomax),
    _fam("genpareto", "generalised Pareto", "일반화 파레토", ("xi", "sigma"), ("sigma",),
         (False, True), (_gpd_logpdf, _gpd_logsf, _gpd_isf), _gpd_starts,
         _scipy_genpareto, tail=_tail_genpareto),
    _fam("burr12", "Burr XII", "버 XII", ("c", "d", "scale"), ("scale",), (True, True, True),
         (_burr_logpdf, _burr_logsf, _burr_isf), _burr_starts, _scipy_burr12,
         tail=_tail_burr12),
    _fam("loggamma", "log-gamma", "로그감마", ("a", "b"), (), (True, True),
         (_loggamma_logpdf, _loggamma_logsf, _loggamma_isf), _loggamma_starts, None,
         min_support=1.0, tail=_tail_loggamma),
    _fam("gandh", "Tukey g-and-h", "g-and-h", ("A", "B", "g", "h"), ("A", "B"),
         (False, True, False, "square"), (gh_logpdf, gh_logsf, gh_isf), _gandh_starts, None,
         min_support=-np.inf, tail=_tail_gandh),
    _fam("shifted_lognormal", "shifted lognormal", "이동 로그정규", ("mu", "sigma"), (),
         (False, True), (_lognormal_logpdf, _lognormal_logsf, _lognormal_isf),
         _lognormal_starts, _scipy_shifted_lognormal, log_scale=("mu",), shifted=True),
)}
"""Registry of severity families, keyed by name (insertion order = display order)."""


def family_names() -> tuple[str, ...]:
    """Names of all registered severity families, in display order."""
    return tuple(SEVERITY_FAMILIES)


def get_family(family: str | SeverityFamily) -> SeverityFamily:
    """Look up a family by name (or pass one through); clear error for unknown names."""
    if isinstance(family, SeverityFamily):
        return family
    try:
        return SEVERITY_FAMILIES[family]
    except (KeyError, TypeError):
        raise ValueError(f"unknown severity family {family!r}; expected one of "
                         f"{', '.join(SEVERITY_FAMILIES)}") from None


_ = gh_quantile  # re-exported for convenience: opwb.fitting.gandh.gh_quantile
