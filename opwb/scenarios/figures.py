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
- VaR and 1-in-N losses: order statistics (:func:`opwb.engine.riskmeasures.var_with_se`);
- net ES: the sample ES with its influence-function error when the model is capped (every
  loss bounded), else :func:`opwb.engine.riskmeasures.es_estimate` (heavy-tail aware);
- differences of two VaRs of the same years (economic relief, the benefit, the bond's
  regulatory relief): paired, :func:`opwb.engine.riskmeasures.diff_var_with_se` (Bahadur);
- regulatory capital under the "sum" aggregation: event types' errors combined as
  independent (root sum of squares), as :func:`opwb.capital.ama.capital_summary` does;
  where the 20% cap binds, the capped branch's error;
- net benefit: expected recovery and capital saving combined as independent errors.
"""
from __future__ import annotations

import math

import numpy as np

from opwb.capital.ama import BASEL_CAP, apply_cap
from opwb.engine import riskmeasures as rm
from opwb.engine.topyears import (SparseBlock, TopYears, candidates, diff_var_sparse,
                                  diff_var_top, es_sparse, sparse_means, var_with_se_sparse,
                                  var_with_se_top)
from opwb.scenarios.bond import BondBlock, BondContext

__all__ = ["FigureContext", "context"]


def _rss(values) -> float:
    return float(math.sqrt(sum(v * v for v in values)))


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


def _sum(arrays, n: int) -> np.ndarray:
    """Sum of (n,) arrays, in order (zeros when there are none)."""
    out = None
    for x in arrays:
        out = x if out is None else out + x
    return np.zeros(n) if out is None else out


def _rss_rows(arrays) -> np.ndarray:
    return np.sqrt(np.sum([np.asarray(a) ** 2 for a in arrays], axis=0))


class FigureContext:
    """Shared pieces for every alternative on ``base`` with ``settings``."""

    def __init__(self, base, settings):
        self.base, self.settings = base, settings
        self.bond = BondContext(base, settings.valuation_date, settings.haircut_convention)
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
        self.gross_var = var_with_se_top(self.gross_top, a)
        var_g = {et: var_with_se_top(self.gross_et_top[et], a) for et in self.ets}
        if settings.aggregation == "sum":
            self.k_gross = sum(v for v, _ in var_g.values())
            self.k_gross_se = _rss(se for _, se in var_g.values())
        else:
            self.k_gross, self.k_gross_se = self.gross_var
        self.var_net0_et = {et: var_with_se_top(self.net0_reg_top[et], a) for et in self.ets}
        self.benefit_se0 = {et: diff_var_top(self.gross_et_top[et], self.net0_reg_top[et], a)[1]
                            for et in self.ets}
        if settings.aggregation == "sum":
            k0 = sum(v for v, _ in self.var_net0_et.values())
        else:
            k0 = rm.var(self.net0_reg_total, a)
        self.baseline_cap = apply_cap(self.k_gross, self.k_gross - k0, cap=BASEL_CAP)
        floor = {et: self.gross_et_top[et].scaled(1 - BASEL_CAP) for et in self.ets}
        self.to_floor_se = _rss(diff_var_top(self.net0_reg_top[et], floor[et], a)[1]
                                for et in self.ets)

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
            _sum(block.ceded.values(), n), ex.rows, ex.years, -ex.ceded, k)
        f["expected_recognised_recovery"], f["expected_recognised_recovery_se"] = \
            sparse_means(_sum(econ.values(), n), ex.rows, ex.years, -ex.economic, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            paid = f["premium"] > 0
            f["loss_ratio"] = np.where(paid, f["expected_recovery"] / f["premium"], math.inf)
            f["loss_ratio_se"] = np.where(paid, f["expected_recovery_se"] / f["premium"],
                                          math.nan)
        p_claim = float(np.count_nonzero(block.claims)) / n
        p_hit = np.bincount(block.hit_rows, minlength=k) / n
        for key, p in (("p_claim", np.full(k, p_claim)), ("p_exhaust", p_hit)):
            f[key], f[f"{key}_se"] = p, np.sqrt(p * (1 - p) / n)
        for period in sorted(s.return_periods):       # the deepest rank first
            q = 1 - 1 / period
            f[f"retained_if_1in{period}"], f[f"retained_if_1in{period}_se"] = \
                var_with_se_sparse(net_if, q)
            f[f"retained_total_1in{period}"], f[f"retained_total_1in{period}_se"] = \
                var_with_se_sparse(net_total, q)
        f["gross_var"] = np.full(k, self.gross_var[0])
        f["gross_var_se"] = np.full(k, self.gross_var[1])
        f["net_var"], f["net_var_se"] = var_with_se_sparse(net_total, a)
        if self.bounded:
            f["net_es"], f["net_es_se"] = es_sparse(net_total, a)
        else:
            est = [rm.es_estimate(net_total.dense(j), a) for j in range(k)]
            f["net_es"] = np.array([e.value if e.exists else math.nan for e in est])
            f["net_es_se"] = np.array([e.se if e.exists else math.nan for e in est])
        f["economic_relief"], f["economic_relief_se"] = diff_var_sparse(self.gross_top,
                                                                        net_total, a)
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
        s, a, k = self.settings, self.settings.alpha, block.k
        if s.aggregation == "sum":
            per = {et: var_with_se_sparse(reg[et], a) if et in reg else
                   (np.full(k, self.var_net0_et[et][0]), np.full(k, self.var_net0_et[et][1]))
                   for et in self.ets}
            k_mod = np.sum([v for v, _ in per.values()], axis=0)
            k_mod_se = _rss_rows(se for _, se in per.values())
            benefit_se = _rss_rows(diff_var_sparse(self.gross_et_top[et], reg[et], a)[1]
                                   if et in reg else np.full(k, self.benefit_se0[et])
                                   for et in self.ets)
            relief_se = _rss_rows(diff_var_sparse(self.net0_reg_top[et], reg[et], a)[1]
                                  for et in reg)
        else:
            ex = block.total_excess()
            tb = SparseBlock(self.net0_reg_total - _sum(block.regulatory.values(),
                                                        self.base.n_years),
                             ex.rows, ex.years, ex.regulatory, k)
            k_mod, k_mod_se = var_with_se_sparse(tb, a)
            benefit_se = diff_var_sparse(self.gross_top, tb, a)[1]
            relief_se = diff_var_sparse(self.net0_reg_total_top, tb, a)[1]
        res = [apply_cap(self.k_gross, self.k_gross - km, cap=BASEL_CAP) for km in k_mod]
        binds = np.array([r.binds for r in res])
        net = np.array([r.net for r in res])
        f["regulatory_gross_capital"] = np.full(k, self.k_gross)
        f["regulatory_gross_capital_se"] = np.full(k, self.k_gross_se)
        f["regulatory_net_capital"] = net
        f["regulatory_net_capital_se"] = np.where(binds, (1 - BASEL_CAP) * self.k_gross_se,
                                                  k_mod_se)
        f["regulatory_relief"] = np.array([r.recognised_benefit for r in res])
        f["regulatory_relief_se"] = np.where(binds, BASEL_CAP * self.k_gross_se, benefit_se)
        f["cap_binds"], f["cap_binds_se"] = binds.astype(float), np.zeros(k)
        relief = self.baseline_cap.net - net
        if self.baseline_cap.binds:
            relief_se = np.where(binds, 0.0, relief_se)
        else:
            relief_se = np.where(binds, self.to_floor_se, relief_se)
        f["bond_regulatory_relief"], f["bond_regulatory_relief_se"] = relief, relief_se
        f["capital_saving"] = s.cost_of_capital * relief
        f["capital_saving_se"] = s.cost_of_capital * relief_se
        f["net_benefit"] = f["expected_recovery"] - f["premium"] + f["capital_saving"]
        f["net_benefit_se"] = np.sqrt(f["expected_recovery_se"] ** 2
                                      + f["capital_saving_se"] ** 2)

    # -- differences between two alternatives --------------------------------------------------
    def _side(self, arrays: dict, et: str) -> np.ndarray:
        """The array whose VaR is an alternative's net regulatory capital for ``et``."""
        if arrays["cap_binds"]:
            return (1 - BASEL_CAP) * self.gross[et]
        return arrays["reg"].get(et, self.net0_reg[et])

    def difference(self, fa: dict, arr_a: dict, fb: dict, arr_b: dict,
                   keys=None) -> dict[str, tuple]:
        """Figures of alternative A minus those of B, with paired standard errors:
        ``{name: (difference, se)}`` for ``keys`` (default all: net benefit, expected
        recovery, premium, the bond's regulatory relief, net VaR, net ES and the 1-in-100
        retained internal-fraud loss)."""
        a = self.settings.alpha
        want = set(keys) if keys is not None else {
            "premium", "expected_recovery", "net_var", "net_es", "retained_if_1in100",
            "bond_regulatory_relief", "net_benefit"}
        out = {}
        if "premium" in want:
            out["premium"] = (fa["premium"] - fb["premium"], 0.0)
        if "net_var" in want:
            out["net_var"] = rm.diff_var_with_se(arr_a["net"], arr_b["net"], a)
        if "net_es" in want:
            out["net_es"] = rm.diff_es_with_se(arr_a["net"], arr_b["net"], a,
                                               bounded=self.bounded)
        if "retained_if_1in100" in want:
            out["retained_if_1in100"] = rm.diff_var_with_se(arr_a["net_if"], arr_b["net_if"],
                                                            0.99)
        if want & {"expected_recovery", "bond_regulatory_relief", "net_benefit"}:
            rec = rm.diff_mean_with_se(arr_a["recovery"], arr_b["recovery"], bounded=True)
            relief_se = self._relief_difference_se(arr_a, arr_b)
            coc = self.settings.cost_of_capital
            out["expected_recovery"] = rec
            out["bond_regulatory_relief"] = (fa["bond_regulatory_relief"]
                                             - fb["bond_regulatory_relief"], relief_se)
            out["net_benefit"] = (fa["net_benefit"] - fb["net_benefit"],
                                  math.sqrt(rec[1] ** 2 + (coc * relief_se) ** 2))
        return {k: v for k, v in out.items() if k in want}

    def _relief_difference_se(self, arr_a: dict, arr_b: dict) -> float:
        """Paired error of the difference of two alternatives' regulatory relief."""
        a = self.settings.alpha
        if arr_a["cap_binds"] and arr_b["cap_binds"]:
            return 0.0
        if self.settings.aggregation == "sum":
            sides = [(self._side(arr_b, et), self._side(arr_a, et)) for et in self.ets]
            return _rss(rm.diff_var_with_se(xb, xa, a)[1] for xb, xa in sides
                        if xb is not xa)             # an event type the bond leaves alone
        tb, ta = (np.sum([self._side(x, et) for et in self.ets], axis=0)
                  for x in (arr_b, arr_a))
        return rm.diff_var_with_se(tb, ta, a)[1]


def context(base, settings) -> FigureContext:
    """The shared context of ``base`` and ``settings`` (cached on the base)."""
    key = ("figures", settings)
    if key not in base._cache:
        base._cache[key] = FigureContext(base, settings)
    return base._cache[key]
