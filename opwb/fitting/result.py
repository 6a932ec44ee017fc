"""The result of a severity fit: :class:`SeverityFit`.

A fit remembers the threshold it was fitted above, so simulation draws from the same
conditional model, and says how far to trust it (``status``, ``finite_mean``,
``warnings``; see :mod:`opwb.fitting.identification`).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from opwb.data.levels import check_level
from opwb.fitting.families import get_family
from opwb.fitting.identification import STATUSES

__all__ = ["SeverityFit"]


@dataclass(frozen=True)
class SeverityFit:
    """A fitted severity: family parameters, the threshold they were fitted at, and how far
    to trust them.

    ``pdf, logpdf, cdf, sf, logsf, ppf, isf`` are those of the *untruncated* distribution
    ``.dist`` (for a shifted family, the distribution of the loss itself, located at the
    threshold); the ``*_conditional`` methods describe losses given that they exceed
    ``threshold`` (what the data and a simulation above the threshold contain).

    Attributes
    ----------
    status : {"ok", "edge", "degenerate", "not converged"}
        See :mod:`opwb.fitting.identification`. Only "ok" fits are fit for capital.
    finite_mean : bool
        False when the tail index ξ of the fit, or of a limit the data cannot tell apart
        from it, is ≥ 1: the mean and the expected shortfall of the loss do not exist.
    tail_index : float
        ξ with S(x) ≈ x^(−1/ξ) (0 for lognormal, Weibull and gamma tails).
    warnings : tuple of str
        Plain sentences saying what is wrong or uncertain.
    limit : str
        For "edge" and "degenerate" fits, the limit of the family the status refers to
        (e.g. "μ → −∞, σ → ∞: a Pareto above the threshold").
    loglik : float
        The maximum log-likelihood; for "edge" and "degenerate" fits the supremum, reached
        in the limit.
    se, cov : standard errors and covariance (natural parameters, delta method); NaN where
        the parameters are not identified.
    """

    family: str
    params: dict[str, float]
    threshold: float = 0.0
    se: dict[str, float] = field(default_factory=dict)
    loglik: float = float("nan")
    aic: float = float("nan")
    bic: float = float("nan")
    n: int = 0
    cov: tuple[tuple[float, ...], ...] = ()
    at_edge: tuple[str, ...] = ()   # parameters held at the edge of the parameter space
    status: str = "ok"
    finite_mean: bool = True
    tail_index: float = 0.0
    warnings: tuple[str, ...] = ()
    limit: str = ""   # the limit behind an "edge" or "degenerate" status, in words

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def note(self) -> str:
        """The warnings as one paragraph ("" when there are none)."""
        return " ".join(self.warnings)

    @property
    def ok(self) -> bool:
        """True when the fit is an identified interior maximum (status "ok")."""
        return self.status == "ok"

    @cached_property
    def dist(self):
        """The untruncated distribution (frozen scipy distribution or RawSeverity)."""
        fam = get_family(self.family)
        return fam.dist(**self.params, loc=self.threshold) if fam.shifted else \
            fam.dist(**self.params)

    # untruncated vocabulary: survival by the family's log-space kernels (the functions the
    # likelihood uses), so S(x) = 1e-40 stays 1e-40 where a scipy 1 − F(x) would give 0
    def pdf(self, x):
        return self.dist.pdf(x)

    def logpdf(self, x):
        return self.dist.logpdf(x)

    def cdf(self, x):
        """F(x) = −expm1(log S(x)) of the untruncated distribution."""
        return -np.expm1(self._raw_logsf(x))

    def sf(self, x):
        """S(x) of the untruncated distribution, from the family's log-survival kernel."""
        return np.exp(self._raw_logsf(x))

    def logsf(self, x):
        """log S(x) of the untruncated distribution, computed in logs (no underflow)."""
        return self._raw_logsf(x)

    def ppf(self, q):
        """Quantile of the untruncated distribution; ``q`` a fraction in [0, 1] (99.9 is
        refused as a likely percentage, as by every level-taking function)."""
        return self.dist.ppf(check_level(q, name="q", closed=True))

    def isf(self, q):
        """Inverse survival function of the untruncated distribution (``q`` in [0, 1])."""
        return self.dist.isf(check_level(q, name="q", closed=True))

    @property
    def n_params(self) -> int:
        return len(self.params)

    def _raw_logsf(self, x) -> np.ndarray:
        """log S(x) by the family's log-space kernel (no underflow; shifted families
        measured from the threshold)."""
        fam = get_family(self.family)
        x = np.asarray(x, dtype=float) - (self.threshold if fam.shifted else 0.0)
        args = tuple(self.params[p] for p in fam.param_names)
        inside = x > fam.min_support
        safe = np.where(inside, x, max(fam.min_support, 0.0) + 1.0)   # any point of the support
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            out = np.where(inside, fam.raw_logsf(safe, *args), 0.0)
        return np.where(np.isnan(x), np.nan, out)[()]

    @cached_property
    def logsf_threshold(self) -> float:
        """log S(H), computed in logs (finite while S(H) is representable in logs)."""
        if self.threshold <= 0 or get_family(self.family).shifted:
            return 0.0
        return float(self._raw_logsf(self.threshold))

    @cached_property
    def sf_threshold(self) -> float:
        """S(H): the fitted probability that a loss exceeds the threshold (1 when H = 0)."""
        return float(np.exp(self.logsf_threshold))

    def logsf_conditional(self, x):
        """log P(X > x | X > H), in logs throughout."""
        x = np.asarray(x, dtype=float)
        return np.where(x <= self.threshold, 0.0, self._raw_logsf(x) - self.logsf_threshold)

    def sf_conditional(self, x):
        """P(X > x | X > H)."""
        return np.exp(self.logsf_conditional(x))

    def cdf_conditional(self, x):
        """P(X ≤ x | X > H)."""
        return -np.expm1(self.logsf_conditional(x))

    def ppf_conditional(self, q):
        """Quantile of the conditional distribution above the threshold (``q`` in [0, 1])."""
        q = check_level(q, name="q", closed=True)
        return self.dist.isf((1.0 - q) * self.sf_threshold)

    def rvs_conditional(self, size, rng=None):
        """Draw losses above the threshold by inverse transform (``rng``: seed or Generator)."""
        rng = np.random.default_rng(rng)
        return self.dist.isf(rng.random(size) * self.sf_threshold)

    def single_loss_quantile(self, alpha: float = 0.999) -> float:
        """The conditional ``alpha`` quantile of one loss above the threshold (1-in-1000).

        Raises ``ValueError`` unless ``0 < alpha < 1`` (a level such as 99.9 is refused).
        """
        return float(self.ppf_conditional(check_level(alpha)))

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN → None)."""
        def clean(v):
            return None if isinstance(v, float) and not np.isfinite(v) else v
        return {"kind": "severity_fit", "family": self.family,
                "params": {k: clean(float(v)) for k, v in self.params.items()},
                "threshold": float(self.threshold),
                "se": {k: clean(float(v)) for k, v in self.se.items()},
                "loglik": clean(float(self.loglik)), "aic": clean(float(self.aic)),
                "bic": clean(float(self.bic)), "n": int(self.n),
                "cov": [[clean(float(v)) for v in row] for row in self.cov],
                "at_edge": list(self.at_edge), "status": self.status,
                "finite_mean": bool(self.finite_mean), "tail_index": clean(float(self.tail_index)),
                "warnings": list(self.warnings), "limit": self.limit}

    @classmethod
    def from_dict(cls, d: Mapping) -> "SeverityFit":
        """Inverse of :meth:`to_dict` (parameters are validated against the family)."""
        def num(v):
            return float("nan") if v is None else float(v)
        fam = get_family(d["family"])
        missing = [k for k in ("status", "finite_mean", "tail_index", "warnings") if k not in d]
        if missing:
            raise ValueError(f"severity fit of family '{fam.name}' has no {', '.join(missing)}: "
                             "it was saved by an older opwb that did not check its fits; "
                             "refit it (notebook 02 or opwb.fitting.fit_model_set)")
        params = fam.check_params({k: num(v) for k, v in d["params"].items()})
        return cls(family=fam.name, params=params, threshold=float(d.get("threshold", 0.0)),
                   se={k: num(v) for k, v in d.get("se", {}).items()},
                   loglik=num(d.get("loglik")), aic=num(d.get("aic")), bic=num(d.get("bic")),
                   n=int(d.get("n", 0)),
                   cov=tuple(tuple(num(v) for v in row) for row in d.get("cov", ())),
                   at_edge=tuple(d.get("at_edge", ())), status=str(d["status"]),
                   finite_mean=bool(d["finite_mean"]), tail_index=num(d["tail_index"]),
                   warnings=tuple(str(w) for w in d["warnings"]),
                   limit=str(d.get("limit", "")))

    def save(self, path) -> Path:
        """Write the fit as indented JSON; returns the path."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        return path

    @classmethod
    def load(cls, path) -> "SeverityFit":
        """Read a fit written by :meth:`save`."""
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
