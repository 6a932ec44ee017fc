"""Management's figures for BBB alternatives, each with its Monte Carlo standard error.

:class:`FigureContext` holds what every alternative on one scenario base and one setting
shares: the gross losses and their VaR, the programme without the bond in the economic and
the regulatory view, the gross regulatory capital and the baseline without the bond.
:meth:`FigureContext.figures` turns a block of the bond's payments
(:class:`opwb.scenarios.bond.BondBlock`: alternatives that differ only in the limit) into
the figures of each alternative; every figure carries ``<name>_se``. A block's net losses
are those with an unlimited layer plus, in the few years a loss passes a limit, the excess
it leaves; quantile, ES and mean figures are read from that sparse form
(:class:`opwb.engine.topyears.SparseBlock`, :func:`opwb.engine.topyears.sparse_means`) —
the same numbers as on the full annual arrays, without forming them.

Standard errors (all on the same simulated years):

- means (expected recovery): the sample standard error; probabilities: binomial;
- net ES: the sample ES with its influence-function error when the model is capped (every
  loss bounded), else :func:`opwb.engine.riskmeasures.es_estimate` (heavy-tail aware);
- every VaR-type figure — gross and net VaR, the 1-in-N retained losses, the economic
  relief, regulatory capital gross and net, the recognised relief, the bond's regulatory
  relief, the capital saving and the net benefit — and the paired differences of
  :meth:`FigureContext.difference`: a **year bootstrap** (Efron & Tibshirani 1993, *An
  Introduction to the Bootstrap*, ch. 6): ``B`` =
  :data:`~opwb.engine.topyears.BOOTSTRAP_REPLICATES` resamples of the simulated years with
  Poisson(1) weights keyed to (the base's seed, replicate, year)
  (:class:`~opwb.engine.topyears.YearWeights`), each quantile re-read from the top years
  only (:meth:`~opwb.engine.topyears.SparseBlock.replicates`); the SE is the standard
  deviation of the replicates of the figure itself. Combined figures are combined replicate
  by replicate with the same weights: the sum over event types of their VaRs, the 20%
  Basel cap applied in each replicate (:func:`opwb.capital.ama.apply_cap`'s rule), relief =
  capital without the bond − with it, net benefit = expected recovery − premium + cost of
  capital × the bond's relief (the recovery's mean re-weighted alike:
  :func:`~opwb.engine.topyears.mean_replicates`); a difference of two structures is the
  difference of their replicates. The SE's own relative error is about ``1/sqrt(2B)``
  (5%).

  Why not Bahadur's order-statistics formula (:func:`opwb.engine.riskmeasures.var_with_se`,
  still used for plain samples): it needs a positive, smooth density at VaR. With the 1조원
  severity cap ~0.5% of the years hold a loss at the cap, and the 99.9% rank sits between
  cap years the bond pays and cap years it does not (outside the wording, paid late): the
  quantile jumps between clusters, the spacing-based density sees one cluster, and its SE
  understated the spread over seeds 2.5–3× at 20,000 years and ~1.5× at 100,000
  (validation finding, issue 11). The bootstrap needs no density.

**A predictive base** (``ScenarioBase.world_years > 0``: its years are blocks, one per
re-estimated world, :mod:`opwb.decision.predictive`): the years of a world share its
parameters, so every error above resamples whole worlds instead — the bootstrap's weights are
the worlds' multinomial counts (:class:`~opwb.engine.topyears.YearWeights` with ``block``),
and means, probabilities and ES take the cluster error, the standard deviation of the worlds'
own values over ``sqrt(worlds)`` (:func:`~opwb.engine.bootstrap.block_mean_se`; for ES of the
tail-mean influence term; an uncapped ES never below its year-wise error). Year-by-year
errors there leave out the spread between the worlds, the parameter uncertainty itself.
The error's own precision is then set by the number of worlds, not by ``B``: an independent
validation on two-level synthetic data found the cluster errors unbiased in variance at
50–100 worlds but varying 20–60% from one pool of worlds to another, and too small (the
±1.96 SE band covering 73–88%) with 10 worlds or a tail that a few worlds produce.
"""
from __future__ import annotations

import math

import numpy as np

from opwb.capital.ama import BASEL_CAP, apply_cap
from opwb.engine import riskmeasures as rm
from opwb.engine.precision import quantile_rank
from opwb.engine.topyears import (SparseBlock, TopYears, YearWeights, block_mean_se,
                                  bootstrap_se, candidates, es_sparse, mean_replicates,
                                  sparse_means, var_replicates, var_with_se_top)
from opwb.scenarios.bond import BondBlock, BondContext

__all__ = ["FigureContext", "context"]


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


def _sum(arrays, n: int) -> np.ndarray:
    """Sum of (n,) arrays, in order (zeros when there are none)."""
    out = None
    for x in arrays:
        out = x if out is None else out + x
    return np.zeros(n) if out is None else out


def _var_sparse(sb: SparseBlock, alpha: float, weights: YearWeights
                ) -> tuple[np.ndarray, np.ndarray]:
    """Every row's lower ``alpha``-quantile (shape (k,)) and its bootstrap replicates
    (shape (k, B))."""
    kq = quantile_rank(sb.n, alpha)
    values = np.array([sb.kth_smallest(j, [kq])[0] for j in range(sb.k)])
    reps = np.array([sb.replicates(j, alpha, weights) for j in range(sb.k)])
    return values, reps.reshape(sb.k, weights.replicates)


def _combined_se(dev: np.ndarray, reps: np.ndarray, rest) -> np.ndarray:
    """SE of ``mean + θ`` from the mean's replicate deviations, ``θ``'s replicates and the
    mean's exactly known independent part (:func:`mean_replicates`)."""
    return np.sqrt(np.var(dev + reps, axis=-1, ddof=1) + rest)


class FigureContext:
    """Shared pieces for every alternative on ``base`` with ``settings`` (and, optionally,
    other payment-delay and insurer-default assumptions:
    :class:`opwb.scenarios.bond.PaymentAssumptions`; :func:`context` caches only the
    scenario's own)."""

    def __init__(self, base, settings, assumptions=None):
        self.base, self.settings = base, settings
        self.bond = BondContext(base, settings.valuation_date, settings.haircut_convention,
                                assumptions)
        a, n = settings.alpha, base.n_years
        econ0 = self.bond.econ0
        self.ets = tuple(econ0.event_types)
        self.bounded = base.severity_cap is not None
        self.gross = {et: np.asarray(econ0.gross_by_event_type[et]) for et in self.ets}
        self.gross_total = np.asarray(econ0.annual_gross)
        rec_e = self.bond.recovery_without("economic")
        rec_r = self.bond.recovery_without("regulatory")
        self.net0_econ = {et: self.gross[et] - rec_e[et] for et in self.ets}
        self.net0_reg = {et: self.gross[et] - rec_r[et] for et in self.ets}
        self.net0_total = np.sum([self.net0_econ[et] for et in self.ets], axis=0)
        self.net0_if = self.net0_econ.get("IF", np.zeros(n))
        self.net0_reg_total = np.sum([self.net0_reg[et] for et in self.ets], axis=0)
        own = lambda x: TopYears.of(x, candidates(x, a, margin=3))  # noqa: E731
        self.gross_top = own(self.gross_total)
        self.gross_et_top = {et: own(self.gross[et]) for et in self.ets}
        self.net0_reg_top = {et: own(self.net0_reg[et]) for et in self.ets}
        self.net0_reg_total_top = own(self.net0_reg_total)
        # bootstrap weights keyed to (base seed, replicate, year): the same for every variant
        self.block = int(getattr(base, "world_years", 0) or 0)
        self.weights = w = YearWeights(base.seed, n, base.replicates, block=self.block)
        self.gross_reps = self.gross_top.replicates(a, w)
        self.gross_var = (var_with_se_top(self.gross_top, a)[0], float(bootstrap_se(
            self.gross_reps)))
        var_g = {et: var_with_se_top(self.gross_et_top[et], a)[0] for et in self.ets}
        self.var_net0_et = {et: var_with_se_top(self.net0_reg_top[et], a)[0]
                            for et in self.ets}
        self.net0_et_reps = {et: self.net0_reg_top[et].replicates(a, w) for et in self.ets}
        if settings.aggregation == "sum":
            self.k_gross = sum(var_g.values())
            self.kg_reps = np.sum([self.gross_et_top[et].replicates(a, w) for et in self.ets],
                                  axis=0)
            k0 = sum(self.var_net0_et.values())
            k0_reps = np.sum([self.net0_et_reps[et] for et in self.ets], axis=0)
        else:
            self.k_gross, self.kg_reps = self.gross_var[0], self.gross_reps
            k0 = rm.var(self.net0_reg_total, a)
            k0_reps = self.net0_reg_total_top.replicates(a, w)
        self.k_gross_se = float(bootstrap_se(self.kg_reps))
        self.baseline_cap = apply_cap(self.k_gross, self.k_gross - k0, cap=BASEL_CAP)
        self.baseline_net_reps = self._capped(k0_reps)

    def _capped(self, k_reps: np.ndarray) -> np.ndarray:
        """Replicates of net capital: :func:`apply_cap`'s ``max(K, (1 - cap) K_gross)`` in
        every replicate (``k_reps`` of shape (..., B))."""
        return np.maximum(k_reps, (1 - BASEL_CAP) * self.kg_reps)

    def _recovery_dev(self, block: BondBlock, means: np.ndarray):
        """:func:`mean_replicates` of every row's recovery (the unlimited layer's ceded
        amounts less each limit's excess) without forming the rows: (dev (k, B), rest (k,))."""
        n, k, w = self.base.n_years, block.k, self.weights
        ex = block.total_excess()
        cb = _sum(block.ceded.values(), n)
        nz = np.flatnonzero(cb)
        in_nz = np.zeros(n, dtype=bool)
        in_nz[nz] = True
        if w.block:
            # every year weighs its block's count: Σ_i cb_i (w_i − 1) = Σ_b (c_b − 1) S_b,
            # S_b the block's sum, without forming the (years × replicates) weights
            per_block = np.bincount(nz // w.block, weights=cb[nz], minlength=w.blocks)
            counts = w.of(np.arange(w.blocks) * w.block).astype(np.float64) - 1.0
            a_sum = np.einsum("i,ib->b", per_block, counts)   # not BLAS: the same sums
            c_sum = None
        else:
            wn = w.of(nz).astype(np.float64) - 1.0
            a_sum = np.einsum("i,ib->b", cb[nz], wn)        # not BLAS: the same sums every call
            c_sum = wn.sum(axis=0)
        starts = np.searchsorted(np.asarray(ex.rows), np.arange(k + 1))
        dev, rest = np.empty((k, w.replicates)), np.empty(k)
        for j in range(k):
            s = slice(starts[j], starts[j + 1])
            ys, e = ex.years[s], ex.ceded[s]
            wy = w.of(ys).astype(np.float64) - 1.0
            if w.block:           # Σ (w − 1) over all years is 0: nothing is left over
                dev[j] = (a_sum - np.einsum("i,ib->b", e, wy)) / n
                rest[j] = 0.0
                continue
            out = ~in_nz[ys]
            size = nz.size + int(out.sum())
            dev[j] = (a_sum - np.einsum("i,ib->b", e, wy)
                      - means[j] * (c_sum + wy[out].sum(axis=0))) / n
            rest[j] = means[j] ** 2 * (n - size) / (n * n)
        return dev, rest

    # -- a block of alternatives -----------------------------------------------------------
    def figures(self, block: BondBlock, *, keep_arrays: bool = True
                ) -> list[tuple[dict[str, float], dict]]:
        """The figures (with ``_se``) of every alternative of ``block`` and, with
        ``keep_arrays``, its annual arrays (else an empty dict: a frontier of many
        structures keeps only figures)."""
        s, n, a = self.settings, self.base.n_years, self.settings.alpha
        alts = block.alternatives
        k = len(alts)
        ex = block.total_excess()
        econ = block.economic
        # net losses: the unlimited layer's net losses plus each limit's excess
        net_total = SparseBlock(self.net0_total - _sum(econ.values(), n),
                                ex.rows, ex.years, ex.economic, k)
        ex_if = block.excess.get("IF")
        net_if = (SparseBlock(self.net0_if - econ["IF"], ex_if.rows, ex_if.years,
                              ex_if.economic, k) if ex_if is not None else
                  SparseBlock(self.net0_if, *_NONE, k))
        reg = {et: SparseBlock(self.net0_reg[et] - r, block.excess[et].rows,
                               block.excess[et].years, block.excess[et].regulatory, k)
               for et, r in block.regulatory.items()}
        f: dict[str, np.ndarray] = {}
        f["premium"] = np.array([alt.premium for alt in alts])
        f["premium_se"] = np.zeros(k)
        f["expected_recovery"], f["expected_recovery_se"] = sparse_means(
            _sum(block.ceded.values(), n), ex.rows, ex.years, -ex.ceded, k, block=self.block)
        f["expected_recognised_recovery"], f["expected_recognised_recovery_se"] = \
            sparse_means(_sum(econ.values(), n), ex.rows, ex.years, -ex.economic, k,
                         block=self.block)
        with np.errstate(divide="ignore", invalid="ignore"):
            paid = f["premium"] > 0
            f["loss_ratio"] = np.where(paid, f["expected_recovery"] / f["premium"], math.inf)
            f["loss_ratio_se"] = np.where(paid, f["expected_recovery_se"] / f["premium"],
                                          math.nan)
        p_claim = float(np.count_nonzero(block.claims)) / n
        p_hit = np.bincount(block.hit_rows, minlength=k) / n
        for key, p in (("p_claim", np.full(k, p_claim)), ("p_exhaust", p_hit)):
            f[key], f[f"{key}_se"] = p, np.sqrt(p * (1 - p) / n)
        if self.block:            # the worlds' spread (cluster errors of the shares)
            claim_years = np.flatnonzero(block.claims)
            f["p_claim_se"] = np.full(k, block_mean_se(claim_years, np.ones(claim_years.size),
                                                       n, self.block))
            f["p_exhaust_se"] = np.array([block_mean_se(
                block.hit_years[block.hit_rows == j],
                np.ones(int(np.count_nonzero(block.hit_rows == j))), n, self.block)
                for j in range(k)])
        w = self.weights
        for period in sorted(s.return_periods):       # the deepest rank first
            q = 1 - 1 / period
            for key, sb in (("if", net_if), ("total", net_total)):
                v, reps = _var_sparse(sb, q, w)
                f[f"retained_{key}_1in{period}"] = v
                f[f"retained_{key}_1in{period}_se"] = bootstrap_se(reps)
        f["gross_var"] = np.full(k, self.gross_var[0])
        f["gross_var_se"] = np.full(k, self.gross_var[1])
        f["net_var"], net_reps = _var_sparse(net_total, a, w)
        f["net_var_se"] = bootstrap_se(net_reps)
        if self.bounded:
            f["net_es"], f["net_es_se"] = es_sparse(net_total, a, block=self.block)
        else:
            est = [rm.es_estimate(net_total.dense(j), a) for j in range(k)]
            f["net_es"] = np.array([e.value if e.exists else math.nan for e in est])
            f["net_es_se"] = np.array([e.se if e.exists else math.nan for e in est])
            if self.block:        # the worlds' spread too: never below the cluster error
                f["net_es_se"] = np.where(np.isfinite(f["net_es"]), np.maximum(
                    f["net_es_se"], es_sparse(net_total, a, block=self.block)[1]), math.nan)
        f["economic_relief"] = self.gross_var[0] - f["net_var"]
        f["economic_relief_se"] = bootstrap_se(self.gross_reps - net_reps)
        self._regulatory(block, reg, f)
        rows = []
        for j in range(k):
            figs = {key: float(v[j]) for key, v in f.items()}
            arrays = {}
            if keep_arrays:
                arrays = {"gross": self.gross_total, "net": net_total.dense(j),
                          "net_if": net_if.dense(j),
                          "gross_if": self.gross.get("IF", np.zeros(n)),
                          "recovery": block.ceded_row(j), "cap_binds": bool(figs["cap_binds"]),
                          "reg": {et: x.dense(j) for et, x in reg.items()}}
            rows.append((figs, arrays))
        return rows

    def _regulatory(self, block: BondBlock, reg: dict[str, SparseBlock], f: dict) -> None:
        s, a, k, w = self.settings, self.settings.alpha, block.k, self.weights
        if s.aggregation == "sum":
            per = {et: _var_sparse(reg[et], a, w) if et in reg else
                   (np.full(k, self.var_net0_et[et]),
                    np.broadcast_to(self.net0_et_reps[et], (k, w.replicates)))
                   for et in self.ets}
            k_mod = np.sum([v for v, _ in per.values()], axis=0)
            k_reps = np.sum([r for _, r in per.values()], axis=0)
        else:
            ex = block.total_excess()
            tb = SparseBlock(self.net0_reg_total - _sum(block.regulatory.values(),
                                                        self.base.n_years),
                             ex.rows, ex.years, ex.regulatory, k)
            k_mod, k_reps = _var_sparse(tb, a, w)
        res = [apply_cap(self.k_gross, self.k_gross - km, cap=BASEL_CAP) for km in k_mod]
        binds = np.array([r.binds for r in res])
        net = np.array([r.net for r in res])
        net_reps = self._capped(k_reps)
        relief_reps = self.baseline_net_reps - net_reps
        f["regulatory_gross_capital"] = np.full(k, self.k_gross)
        f["regulatory_gross_capital_se"] = np.full(k, self.k_gross_se)
        f["regulatory_net_capital"] = net
        f["regulatory_net_capital_se"] = bootstrap_se(net_reps)
        f["regulatory_relief"] = np.array([r.recognised_benefit for r in res])
        f["regulatory_relief_se"] = bootstrap_se(self.kg_reps - net_reps)
        f["cap_binds"], f["cap_binds_se"] = binds.astype(float), np.zeros(k)
        f["bond_regulatory_relief"] = self.baseline_cap.net - net
        f["bond_regulatory_relief_se"] = bootstrap_se(relief_reps)
        f["capital_saving"] = s.cost_of_capital * f["bond_regulatory_relief"]
        f["capital_saving_se"] = s.cost_of_capital * f["bond_regulatory_relief_se"]
        f["net_benefit"] = f["expected_recovery"] - f["premium"] + f["capital_saving"]
        dev, rest = self._recovery_dev(block, f["expected_recovery"])
        f["net_benefit_se"] = _combined_se(dev, s.cost_of_capital * relief_reps, rest)

    # -- differences between two alternatives --------------------------------------------------
    def _net_capital_reps(self, arrays: dict) -> np.ndarray:
        """Bootstrap replicates of an alternative's net regulatory capital (cap applied in
        every replicate) from its annual arrays — the replicates :meth:`figures` used."""
        a, w = self.settings.alpha, self.weights
        reg = arrays["reg"]
        if self.settings.aggregation == "sum":
            k_reps = np.sum([var_replicates(reg[et], a, w) if et in reg else
                             self.net0_et_reps[et] for et in self.ets], axis=0)
        else:
            total = np.sum([reg.get(et, self.net0_reg[et]) for et in self.ets], axis=0)
            k_reps = var_replicates(total, a, w)
        return self._capped(k_reps)

    def _block_es_diff(self, xa, xb) -> float:
        """Cluster error of ``ES(xa) − ES(xb)`` over the worlds: the block mean error of the
        difference of the two influence terms ``(x − VaR)⁺ / (1 − α)`` (Acerbi & Tasche
        2002's ES as a tail mean; :func:`block_mean_se`)."""
        a = self.settings.alpha
        xa, xb = np.asarray(xa, dtype=float), np.asarray(xb, dtype=float)
        ea = np.maximum(xa - rm.var(xa, a), 0.0)
        eb = np.maximum(xb - rm.var(xb, a), 0.0)
        d = (ea - eb) / (1.0 - a)
        nz = np.flatnonzero(d)
        return block_mean_se(nz, d[nz], d.size, self.block)

    def replicates(self, arrays: dict) -> dict[str, np.ndarray]:
        """Bootstrap replicates (shape (B,)) of an alternative's headline figures — net VaR,
        net regulatory capital (cap applied in every replicate) and the bond's regulatory
        relief — from its annual arrays (:meth:`figures` with ``keep_arrays``).

        The weights are keyed to (the base's seed, replicate, year) only, so two bases with
        the same seed and run length (another model set, cap or valuation date on common
        random numbers) resample the same years alike: the standard deviation of the
        difference of their replicates is the paired error of the figure's change
        (:mod:`opwb.runs`' change attribution)."""
        net_cap = self._net_capital_reps(arrays)
        return {"net_var": var_replicates(arrays["net"], self.settings.alpha, self.weights),
                "regulatory_net_capital": net_cap,
                "bond_regulatory_relief": self.baseline_net_reps - net_cap}

    def difference(self, fa: dict, arr_a: dict, fb: dict, arr_b: dict,
                   keys=None) -> dict[str, tuple]:
        """Figures of alternative A minus those of B, with paired standard errors:
        ``{name: (difference, se)}`` for ``keys`` (default all: net benefit, expected
        recovery, premium, the bond's regulatory relief, net VaR, net ES and the 1-in-100
        retained internal-fraud loss).

        VaR-type differences: the standard deviation of the differences of the two
        alternatives' bootstrap replicates under the same year weights (see the module
        notes); expected recovery and net ES: the paired sample errors of
        :mod:`opwb.engine.riskmeasures`."""
        a, w = self.settings.alpha, self.weights
        want = set(keys) if keys is not None else {
            "premium", "expected_recovery", "net_var", "net_es", "retained_if_1in100",
            "bond_regulatory_relief", "net_benefit"}
        out = {}
        if "premium" in want:
            out["premium"] = (fa["premium"] - fb["premium"], 0.0)
        for key, arr, q in (("net_var", "net", a), ("retained_if_1in100", "net_if", 0.99)):
            if key in want:
                xa, xb = arr_a[arr], arr_b[arr]
                out[key] = (rm.var(xa, q) - rm.var(xb, q), float(bootstrap_se(
                    var_replicates(xa, q, w) - var_replicates(xb, q, w))))
        if "net_es" in want:
            out["net_es"] = rm.diff_es_with_se(arr_a["net"], arr_b["net"], a,
                                               bounded=self.bounded)
            if self.block:
                out["net_es"] = (out["net_es"][0], max(out["net_es"][1], self._block_es_diff(
                    arr_a["net"], arr_b["net"])))
        if want & {"expected_recovery", "bond_regulatory_relief", "net_benefit"}:
            rec = rm.diff_mean_with_se(arr_a["recovery"], arr_b["recovery"], bounded=True)
            if self.block:
                d = np.asarray(arr_a["recovery"], dtype=float) - np.asarray(
                    arr_b["recovery"], dtype=float)
                nz = np.flatnonzero(d)
                rec = (rec[0], block_mean_se(nz, d[nz], d.size, self.block))
            relief_reps = self._net_capital_reps(arr_b) - self._net_capital_reps(arr_a)
            coc = self.settings.cost_of_capital
            dev, rest = mean_replicates(np.asarray(arr_a["recovery"], dtype=float)
                                        - np.asarray(arr_b["recovery"], dtype=float), w)
            out["expected_recovery"] = rec
            out["bond_regulatory_relief"] = (fa["bond_regulatory_relief"]
                                             - fb["bond_regulatory_relief"],
                                             float(bootstrap_se(relief_reps)))
            out["net_benefit"] = (fa["net_benefit"] - fb["net_benefit"],
                                  float(_combined_se(dev, coc * relief_reps, rest)))
        return {k: v for k, v in out.items() if k in want}


def context(base, settings) -> FigureContext:
    """The shared context of ``base`` and ``settings`` (cached on the base)."""
    key = ("figures", settings)
    if key not in base._cache:
        base._cache[key] = FigureContext(base, settings)
    return base._cache[key]
