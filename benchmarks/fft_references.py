"""Independent references for the FFT accuracy rows of ``bench_fft.py`` and ``tests/engine/test_fft_grid.py``.

Not a benchmark (``run.py`` runs only ``bench_*`` scripts): it derives the reference VaR and
ES at 99.9% of the three models of issue 16 by two methods that share no code with
``opwb.engine.fft`` and prints them. Takes about a minute and ~3 GB of memory.

1. **Bracketing FFT on 2^24 points** (numpy.fft, Poisson PGF, no exponential tilting but
   a zero-padded grid twice the severity's). The severity is discretised three ways on a
   grid of step ``h``: *down* (the mass of ``(kh, (k+1)h]`` at ``kh``), *up* (at
   ``(k+1)h``) and *nearest* (the mass of ``((k-1/2)h, (k+1/2)h]`` at ``kh``). Since
   ``X_down <= X <= X_up`` path by path and the retained loss of a layer is non-decreasing,
   ``S_down <= S <= S_up``: VaR and ES of *down* and *up* are rigorous lower and upper
   bounds (ES is monotone in the usual stochastic order); *nearest* lies in between and is
   the reference value. Claims above the severity grid's end ``top`` (chosen above VaR) are
   not discretised: since any of them alone puts the annual loss above VaR, they enter ES
   exactly through ``E[S; N_top >= 1] = λ E[X; X > top] + λ (1 - e^{-λq}) E[X_d]`` and
   ``P(N_top >= 1) = 1 - e^{-λq}`` (Poisson thinning, ``q = P(X > top)``), with lognormal
   partial moments in closed form. Layer deductible and limit are multiples of ``h``, so
   retained losses of grid points are grid points.
2. **Conditional Monte Carlo** (Asmussen & Kroese 2006, "Improved algorithms for rare event
   simulation with heavy tails"): with ``M`` and ``S'`` the largest and the sum of the other
   ``N - 1`` claims, ``P(S > v) = E[N · P(X > max(M, v - S'))]`` and
   ``E[(S - v)^+] = E[N · ψ(M, v - S')]``, ``ψ(m, c) = π(max(m, c)) + (max(m, c) - c) P(X >
   max(m, c))`` with ``π`` the stop-loss transform in closed form (of the retained loss for
   the net). It checks ``P(S > VaR_ref) = 1 - α`` and ES at the reference VaR (ES is
   stationary in the VaR argument) within Monte Carlo standard errors.

Run: ``.venv/bin/python benchmarks/fft_references.py [--n-log2 24] [--mc 200000]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import special

ALPHA = 0.999


# --------------------------------------------------------------------------- severities
class LogNormal:
    """Lognormal(mu, sigma) with closed-form survival, stop-loss and partial moments."""

    def __init__(self, mu, sigma):
        self.mu, self.sigma = mu, sigma
        self.mean = np.exp(mu + sigma ** 2 / 2)

    def sf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return special.ndtr(-(np.log(x) - self.mu) / self.sigma)

    def partial(self, t):
        """E[X; X > t]."""
        z = (np.log(t) - self.mu) / self.sigma
        return self.mean * special.ndtr(self.sigma - z)

    def stop_loss(self, t):
        """E[(X - t)^+]."""
        t = np.asarray(t, dtype=float)
        out = np.empty_like(t)
        pos = t > 0
        out[~pos] = self.mean - t[~pos]
        tp = t[pos]
        out[pos] = self.partial(tp) - tp * self.sf(tp)
        return out

    def rvs(self, size, rng):
        return np.exp(self.mu + self.sigma * rng.standard_normal(size))


class GPD:
    """Generalised Pareto (shape xi > 0, loc, scale): survival and draws (no mean if xi >= 1)."""

    def __init__(self, xi, loc, scale):
        self.xi, self.loc, self.scale = xi, loc, scale

    def sf(self, x):
        z = np.maximum(np.asarray(x, dtype=float) - self.loc, 0.0) / self.scale
        return np.power(1.0 + self.xi * z, -1.0 / self.xi)

    def rvs(self, size, rng):
        u = 1.0 - rng.random(size)
        return self.loc + self.scale / self.xi * np.expm1(-self.xi * np.log(u))


class Retained:
    """Retained loss of a layer (deductible d, limit L) on a lognormal: Y = min(X, d) + (X - d - L)^+."""

    def __init__(self, base: LogNormal, d, lim):
        self.base, self.d, self.lim = base, d, lim

    def g(self, x):
        return x - np.minimum(np.maximum(x - self.d, 0.0), self.lim)

    def sf(self, t):
        t = np.asarray(t, dtype=float)
        return np.where(t < self.d, self.base.sf(t), self.base.sf(t + self.lim))

    def stop_loss(self, t):
        t = np.asarray(t, dtype=float)
        below = (self.base.stop_loss(t) - self.base.stop_loss(np.full_like(t, self.d))
                 + self.base.stop_loss(np.full_like(t, self.d + self.lim)))
        return np.where(t < self.d, below, self.base.stop_loss(t + self.lim))


# --------------------------------------------------------------------------- FFT bracket
def _quantile(cum, alpha):
    k = int(np.searchsorted(cum, alpha, side="left"))
    if k >= cum.size:
        raise ValueError("reference grid too short for the quantile")
    return k


def fft_bracket(lam, sev, top, n_log2, alpha=ALPHA, layer=None):
    """VaR and ES of down / nearest / up discretisations: dict kind -> (var, es).

    ``layer = (d, lim)`` gives the net of that layer instead of the gross. ``top`` is the
    severity grid's end; the aggregate grid is twice as long (zero padding).
    """
    n = 2 ** n_log2
    m = n // 2
    h = top / m
    if layer is not None:                         # make d and lim multiples of h
        j = int(np.ceil(1e9 / h))
        h = 1e9 / j
        m = int(np.floor(top / h))
        d_idx, l_idx = round(layer[0] / h), round(layer[1] / h)
    top = m * h
    edges = sev.sf(np.arange(m + 1) * h)          # S(kh), k = 0..m
    q = float(edges[-1])
    cell = edges[:-1] - edges[1:]                  # P(kh < X <= (k+1)h)
    mids = sev.sf((np.arange(m + 1) + 0.5) * h)
    out = {}
    for kind in ("down", "nearest", "up"):
        pmf = np.zeros(n)
        if kind == "down":
            pmf[:m] = cell
        elif kind == "up":
            pmf[1:m + 1] = cell
        else:                                      # ((k-1/2)h, (k+1/2)h] -> kh, k <= m
            pmf[0] = 1.0 - mids[0]
            pmf[1:m + 1] = mids[:-1] - mids[1:]
            pmf[m] += mids[-1] - q                 # (top - h/2, top] stays at top
        idx = np.arange(n)
        if layer is not None:
            ret = idx - np.clip(idx - d_idx, 0, l_idx)
            pmf = np.bincount(ret, weights=pmf, minlength=n)[:n]
        m1 = float(pmf @ (idx * h))                # E[X_d; X <= top] (retained for the net)
        agg = np.fft.irfft(np.exp(lam * (np.fft.rfft(pmf) - 1.0)), n)
        agg = np.maximum(agg, 0.0)
        cum = np.cumsum(agg)
        k = _quantile(cum, alpha)
        v = k * h
        gtop = top if layer is None else top - layer[1]
        assert v <= gtop, "reference top below VaR"
        Q = -np.expm1(-lam * q)
        if not hasattr(sev, "partial"):
            e_top = np.inf                         # GPD with xi >= 1: no mean, no ES
        elif layer is None:
            e_top = sev.partial(top)
        else:
            e_top = sev.partial(top) - layer[1] * sev.sf(top)
        m_top = lam * e_top + lam * Q * m1
        x = idx[k:] * h
        excess = float(agg[k:] @ (x - v)) + m_top - v * Q
        overflow = float(1.0 - Q - agg.sum())
        out[kind] = (v, v + excess / (1.0 - alpha), overflow, h)
        del agg, cum
    return out


# --------------------------------------------------------------------------- conditional MC
def conditional_mc(lam, sev, v, n_sims, seed, alpha=ALPHA, ret=None):
    """(P(S > v), its s.e., ES at v, its s.e.) by the Asmussen-Kroese estimator.

    Claims are ordered by their loss ``X`` (continuous: no ties); with ``ret`` (a
    :class:`Retained`) the annual sum is of retained losses ``g(X)``, non-decreasing in
    ``X``, so the claim with the largest ``X`` is conditioned on:
    ``P(S > v) = E[N P(X > t)]`` and ``E[(S - v)^+] = E[N (π_Y(g(t)) + (g(t) - c) P(X > t))]``
    with ``c = v - S'``, ``t = max(M', x_c)`` and ``x_c = inf{x: g(x) > c}``.
    """
    rng = np.random.default_rng(seed)
    counts = rng.poisson(lam, n_sims)
    others = np.maximum(counts - 1, 0)
    x = sev.rvs(int(others.sum()), rng)
    y = ret.g(x) if ret is not None else x
    starts = np.concatenate([[0], np.cumsum(others)[:-1]])
    nonempty = others > 0
    s_rest = np.zeros(n_sims)
    m_rest = np.zeros(n_sims)
    s_rest[nonempty] = np.add.reduceat(y, starts[nonempty])
    m_rest[nonempty] = np.maximum.reduceat(x, starts[nonempty])
    c = v - s_rest
    if ret is None:
        x_c, g = c, (lambda t: t)
    else:
        x_c, g = np.where(c < ret.d, c, c + ret.lim), ret.g
    t = np.maximum(m_rest, x_c)
    p = counts * sev.sf(t)
    out = [p.mean(), p.std(ddof=1) / np.sqrt(n_sims)]
    dist = ret if ret is not None else sev
    if hasattr(dist, "stop_loss"):
        psi = counts * (dist.stop_loss(g(t)) + (g(t) - c) * sev.sf(t))
        es = v + psi / (1.0 - alpha)
        out += [es.mean(), es.std(ddof=1) / np.sqrt(n_sims)]
    else:
        out += [np.nan, np.nan]
    return tuple(out)


MODELS = {
    # name: (lambda, severity, layer, top of the reference grid)
    "A  Poisson(2000) x LN(14, 1.5)": (2000, LogNormal(14.0, 1.5), None, 1.2e10),
    "B  Poisson(50) x GPD(1.1, 1e7 + 2e7)": (50, GPD(1.1, 1e7, 2e7), None, 4.0e12),
    "C  Poisson(25) x LN(16, 2) gross": (25, LogNormal(16.0, 2.0), None, 6.0e10),
    "C  Poisson(25) x LN(16, 2) net 4e10 xs 3e9": (25, LogNormal(16.0, 2.0), (3e9, 4e10), 6.0e10),
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-log2", type=int, default=24)
    parser.add_argument("--mc", type=int, default=200_000, help="conditional MC years (0: skip)")
    args = parser.parse_args(argv)
    for name, (lam, sev, layer, top) in MODELS.items():
        t0 = time.perf_counter()
        res = fft_bracket(lam, sev, top, args.n_log2, layer=layer)
        (vd, ed, *_), (vn, en, ov, h), (vu, eu, *_) = res["down"], res["nearest"], res["up"]
        print(f"{name}  (2^{args.n_log2} points, h={h:.4g}, overflow {ov:.1e}, "
              f"{time.perf_counter() - t0:.0f} s)")
        print(f"   VaR  down {vd:.8e}  nearest {vn:.8e}  up {vu:.8e}")
        if np.isfinite(en) and not isinstance(sev, GPD):
            print(f"   ES   down {ed:.8e}  nearest {en:.8e}  up {eu:.8e}")
        if args.mc:
            ret = Retained(sev, *layer) if layer else None
            p, p_se, e, e_se = conditional_mc(lam, sev, vn, args.mc if lam < 1000 else args.mc // 10,
                                              seed=16, ret=ret)
            print(f"   CMC  P(S > VaR_ref) = {p:.6e} ± {p_se:.1e} (target {1 - ALPHA:.1e});"
                  + (f"  ES at VaR_ref = {e:.6e} ± {e_se:.1e}" if np.isfinite(e) else ""))


if __name__ == "__main__":
    main()
