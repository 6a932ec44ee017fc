"""Gaussian- and Student-t-copula aggregation of event types by reordering simulated years.

Each event type's simulated years are reordered so that their gross-loss ranks follow the
ranks of a correlated latent sample (Iman-Conover style); a year's gross and net losses stay
together, so every event type keeps its simulated gross and net marginals.

The latent sample is multivariate normal (Gaussian copula) or, with degrees of freedom
``df`` = ν, multivariate Student t: the same normal rows divided by ``sqrt(W / ν)``,
``W ~ χ²(ν)`` one draw per row, the t distribution as a normal variance mixture (McNeil,
Frey & Embrechts 2005, *Quantitative Risk Management*, Section 3.2; its copula, Chapter 5). The
normal draws come from ``SeedSequence(seed, spawn_key=(7,))`` whatever ``df``, the
chi-square mixing variable from its own stream ``SeedSequence(seed, spawn_key=(8,))``; so
with the same ``seed`` the t copula shares the Gaussian copula's normal draws, its ranks
converge to the Gaussian ranks as ν grows, and ``df=np.inf`` (no mixing) *is* the Gaussian
copula. Unlike the Gaussian copula (for ``rho < 1``), the t copula has upper tail dependence
(:func:`t_tail_dependence`): event types' bad years come together, so it gives a larger
99.9% total than the Gaussian copula with the same correlation matrix. The EU AMA standard
(Commission Delegated Regulation (EU) 2018/959) asks that the dependence structure
not rest on Gaussian or normal-like assumptions alone.

Examples
--------
>>> import numpy as np
>>> g = {"IF": np.array([1.0, 3.0, 2.0]), "EF": np.array([30.0, 10.0, 20.0])}
>>> orders = copula_orders(g, np.ones((2, 2)), seed=0)     # comonotone: ranks agree
>>> a, b = g["IF"][orders["IF"]], g["EF"][orders["EF"]]
>>> a.argsort().tolist() == b.argsort().tolist()
True
>>> t = copula_orders(g, np.eye(2), seed=0, df=np.inf)     # ν = ∞: the Gaussian copula
>>> all((t[k] == copula_orders(g, np.eye(2), seed=0)[k]).all() for k in g)
True
>>> round(t_tail_dependence(0.5, 4), 4)
0.2532
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["check_correlation", "check_df", "copula_orders", "copula_totals",
           "t_tail_dependence"]

#: ``spawn_key`` of the copula's normal draws and of the t copula's chi-square mixing draws.
NORMAL_KEY, MIXING_KEY = 7, 8


def check_correlation(correlation: Any, names: Sequence[str]) -> np.ndarray:
    """The correlation matrix between event types ``names`` as an array, validated.

    ``correlation`` is an array in the order of ``names`` or a DataFrame labelled by them.

    Raises
    ------
    ValueError
        Wrong shape or labels, not symmetric, diagonal not 1, entries outside [-1, 1], or not
        positive semi-definite.
    """
    if isinstance(correlation, pd.DataFrame):
        missing = [n for n in names if n not in correlation.index or n not in correlation.columns]
        if missing:
            raise ValueError(f"correlation matrix has no row/column for {missing}; "
                             f"expected labels {list(names)}")
        correlation = correlation.loc[list(names), list(names)].to_numpy(dtype=float)
    c = np.asarray(correlation, dtype=float)
    k = len(names)
    if c.shape != (k, k):
        raise ValueError(f"correlation must be {k}x{k} (event types {list(names)}), got {c.shape}")
    if not np.allclose(c, c.T, atol=1e-12):
        raise ValueError("correlation matrix is not symmetric")
    if not np.allclose(np.diag(c), 1.0) or np.any(np.abs(c) > 1.0 + 1e-12):
        raise ValueError("correlation matrix needs a unit diagonal and entries in [-1, 1]")
    w = np.linalg.eigvalsh(c)
    if w.min() < -1e-10:
        raise ValueError(f"correlation matrix is not positive semi-definite "
                         f"(smallest eigenvalue {w.min():.3g})")
    return c


def check_df(df: Any) -> float:
    """The t copula's degrees of freedom ν as a float, validated (``np.inf``: Gaussian).

    Raises
    ------
    ValueError
        ``df`` not a number, NaN, or not > 0.

    Examples
    --------
    >>> check_df(4), check_df(np.inf)
    (4.0, inf)
    """
    try:
        v = float(df)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(df, bool) or math.isnan(v) or v <= 0.0:
        raise ValueError(f"degrees of freedom df must be a number > 0 (np.inf for the "
                         f"Gaussian copula), got {df!r}")
    return v


def _latent(n: int, c: np.ndarray, seed: int, df: float | None) -> np.ndarray:
    """``n`` rows of the latent normal (``df`` None or inf) or Student-t sample."""
    w, v = np.linalg.eigh(c)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(NORMAL_KEY,)))
    z = rng.standard_normal((n, len(c))) @ root.T
    if df is None or math.isinf(df):
        return z
    mix = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(MIXING_KEY,)))
    return z / np.sqrt(mix.chisquare(df, n) / df)[:, None]


def copula_orders(gross: Mapping[str, np.ndarray], correlation: Any, *,
                  seed: int, df: float | None = None) -> dict[str, np.ndarray]:
    """Per event type, the simulated year placed in each row of the copula sample.

    Parameters
    ----------
    gross : mapping of str to ndarray
        Simulated annual gross losses by event type, all of the same length ``n``.
    correlation : array or DataFrame
        Correlation matrix of the copula (order of ``gross``, or labelled), validated by
        :func:`check_correlation`.
    seed : int
        Seed of the reordering: the same ``seed`` gives the same reordering.
    df : float, optional
        Degrees of freedom ν > 0 of a Student-t copula; None (default) or ``np.inf``: the
        Gaussian copula (identical orders). Finite ν keeps the Gaussian copula's normal
        draws and divides each row by its own ``sqrt(χ²_ν / ν)`` (module docstring).
        Below about ν = 0.1 some chi-square draws underflow to 0 and their rows tie.

    Returns
    -------
    dict of str to ndarray
        Row ``r`` of the aggregated sample holds year ``orders[et][r]`` of event type ``et``.

    Raises
    ------
    ValueError
        An invalid correlation matrix or ``df`` (:func:`check_df`).
    """
    nu = None if df is None else check_df(df)
    names = list(gross)
    c = check_correlation(correlation, names)
    n = len(next(iter(gross.values())))
    x = _latent(n, c, seed, nu)
    orders = {}
    for j, name in enumerate(names):
        ranks = np.empty(n, dtype=np.int64)
        ranks[np.argsort(x[:, j], kind="stable")] = np.arange(n)
        orders[name] = np.argsort(np.asarray(gross[name]), kind="stable")[ranks]
    return orders


def copula_totals(gross: Mapping[str, np.ndarray], net: Mapping[str, np.ndarray],
                  correlation: Any, *, seed: int,
                  df: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Annual gross and net totals (KRW) under a Gaussian or Student-t copula.

    See :func:`copula_orders` (``df``: the t copula's ν; None or ``np.inf``: Gaussian); a
    year's gross and net losses move together, so the net marginals are kept as simulated.
    """
    orders = copula_orders(gross, correlation, seed=seed, df=df)
    n = len(next(iter(gross.values())))
    g_tot, n_tot = np.zeros(n), np.zeros(n)
    for name, years in orders.items():
        g_tot += np.asarray(gross[name])[years]
        n_tot += np.asarray(net[name])[years]
    return g_tot, n_tot


def t_tail_dependence(rho: Any, df: Any) -> float | np.ndarray:
    """Upper (= lower) tail dependence coefficient of the bivariate t copula.

    ``λ = lim_{u→1} P(U2 > u | U1 > u) = 2 t_{ν+1}(−sqrt((ν + 1)(1 − ρ) / (1 + ρ)))``,
    ``t_{ν+1}`` the Student-t distribution function with ν + 1 degrees of freedom.
    It is 0 for the Gaussian copula (ν = ∞) unless ρ = 1, and 1 at ρ = 1.

    Parameters
    ----------
    rho : float or array
        Correlation parameter of the copula, in [-1, 1].
    df : float or array
        Degrees of freedom ν > 0 (``np.inf``: the Gaussian copula).

    Returns
    -------
    float or ndarray
        λ in [0, 1], increasing in ρ and decreasing in ν.

    Raises
    ------
    ValueError
        ``rho`` outside [-1, 1] or NaN; ``df`` not > 0 or NaN.

    References
    ----------
    McNeil, A. J., Frey, R. & Embrechts, P. (2005), *Quantitative Risk Management*,
    Princeton University Press, Section 5.2.3 (coefficients of tail dependence, the
    Gaussian and t copulas' coefficients);
    Embrechts, P., McNeil, A. & Straumann, D. (2002), "Correlation and dependence in risk
    management: properties and pitfalls", in *Risk Management: Value at Risk and Beyond*,
    Cambridge University Press (tail dependence of the t distribution).

    Examples
    --------
    >>> round(t_tail_dependence(0.0, 1), 6)          # Cauchy: 1 - 1/sqrt(2)
    0.292893
    >>> [round(t_tail_dependence(0.5, v), 2) for v in (2, 4, 10)]
    [0.39, 0.25, 0.08]
    >>> t_tail_dependence(0.5, np.inf), t_tail_dependence(1.0, 4)
    (0.0, 1.0)
    """
    r = np.asarray(rho, dtype=float)
    nu = np.vectorize(check_df, otypes=[float])(np.asarray(df, dtype=object))
    if np.any(np.isnan(r)) or np.any(np.abs(r) > 1.0):
        raise ValueError(f"rho must be a correlation in [-1, 1], got {rho!r}")
    r, nu = np.broadcast_arrays(r, nu)
    with np.errstate(divide="ignore", invalid="ignore"):
        arg = np.sqrt((nu + 1.0) * (1.0 - r) / (1.0 + r))
        lam = 2.0 * stats.t.cdf(-arg, np.where(np.isinf(nu), 1.0, nu + 1.0))
    lam = np.where(np.isinf(nu), 0.0, lam)
    lam = np.where(r == 1.0, 1.0, np.where(r == -1.0, 0.0, lam))
    return float(lam) if lam.ndim == 0 else lam
