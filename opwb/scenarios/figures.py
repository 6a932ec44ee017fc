"""Management's figures for a BBB alternative, each with its Monte Carlo standard error.

:class:`FigureContext` holds what every alternative on one scenario base and one setting
shares: the gross losses and their VaR, the programme without the bond in the economic and
the regulatory view, the gross regulatory capital and the baseline without the bond.
:meth:`FigureContext.figures` turns the bond's payments (:mod:`opwb.scenarios.bond`) into
the figures; every one carries ``<name>_se``.

Standard errors (all on the same simulated years):

- means (expected recovery): the sample standard error; probabilities: binomial;
- VaR and 1-in-N losses: order statistics (:func:`opwb.engine.riskmeasures.var_with_se`);
- net ES: :func:`opwb.engine.riskmeasures.es_estimate` (``bounded`` when the model is
  capped: every loss is then bounded and the empirical estimator's error is valid);
- differences of two VaRs of the same years (economic relief, the bond's regulatory
  relief): paired, :func:`opwb.engine.riskmeasures.diff_var_with_se` (Bahadur);
- regulatory capital under the "sum" aggregation: event types' errors combined as
  independent (root sum of squares), as :func:`opwb.capital.ama.capital_summary` does;
  where the 20% cap binds, the capped branch's error;
- net benefit: expected recovery and capital saving combined as independent errors.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from opwb.capital.ama import BASEL_CAP, apply_cap
from opwb.engine import riskmeasures as rm
from opwb.scenarios.alternatives import Alternative
from opwb.scenarios.bond import BondContext, BondOutcome

__all__ = ["FigureContext", "context"]


@dataclass
class _Capital:
    """Regulatory capital of one set of net losses: figures and their pieces."""

    k_net_modelled: float
    k_net_modelled_se: float
    per_et: dict[str, tuple[float, float]] = field(default_factory=dict)


def _rss(values) -> float:
    return float(math.sqrt(sum(v * v for v in values)))


class FigureContext:
    """Shared pieces for every alternative on ``base`` with ``settings``."""

    def __init__(self, base, settings):
        self.base, self.settings = base, settings
        self.bond = BondContext(base, settings.valuation_date, settings.haircut_convention)
        a = settings.alpha
        econ0 = self.bond.econ0
        self.ets = tuple(econ0.event_types)
        self.gross = {et: np.asarray(econ0.gross_by_event_type[et]) for et in self.ets}
        self.gross_total = econ0.annual_gross
        self.bounded = base.severity_cap is not None
        self.gross_var = rm.var_with_se(self.gross_total, a)
        rec_e = self.bond.recovery_without("economic")
        rec_r = self.bond.recovery_without("regulatory")
        self.net0_econ = {et: self.gross[et] - rec_e[et] for et in self.ets}
        self.net0_reg = {et: self.gross[et] - rec_r[et] for et in self.ets}
        self.var_gross_et = {et: rm.var_with_se(self.gross[et], a) for et in self.ets}
        if settings.aggregation == "sum":
            self.k_gross = sum(v for v, _ in self.var_gross_et.values())
            self.k_gross_se = _rss(s for _, s in self.var_gross_et.values())
        else:
            self.k_gross, self.k_gross_se = rm.var_with_se(self.gross_total, a)
        self.var_net0_et = {et: rm.var_with_se(self.net0_reg[et], a) for et in self.ets}
        self.baseline = self._capital(self.net0_reg, changed=())
        self.baseline_cap = apply_cap(self.k_gross, self.k_gross - self.baseline.k_net_modelled,
                                      cap=BASEL_CAP)

    # -- regulatory capital ------------------------------------------------------------------
    def _capital(self, net_reg: dict[str, np.ndarray], changed=()) -> _Capital:
        a = self.settings.alpha
        if self.settings.aggregation == "sum":
            per = {et: (rm.var_with_se(net_reg[et], a) if et in changed
                        else self.var_net0_et[et]) for et in self.ets}
            return _Capital(sum(v for v, _ in per.values()), _rss(s for _, s in per.values()),
                            per)
        total = np.sum([net_reg[et] for et in self.ets], axis=0)
        v, s = rm.var_with_se(total, a)
        return _Capital(v, s)

    def _relief_se(self, net_reg: dict[str, np.ndarray], cap1, changed) -> float:
        """Paired error of (baseline net capital − this net capital)."""
        a = self.settings.alpha
        capped0, capped1 = self.baseline_cap.binds, cap1.binds
        if capped0 and capped1:
            return 0.0
        if self.settings.aggregation == "sum":
            ets = changed if not capped1 else self.ets
            other = (lambda et: net_reg[et]) if not capped1 else \
                (lambda et: (1 - BASEL_CAP) * self.gross[et])
            return _rss(rm.diff_var_with_se(self.net0_reg[et], other(et), a)[1] for et in ets)
        t0 = np.sum([self.net0_reg[et] for et in self.ets], axis=0)
        t1 = (np.sum([net_reg[et] for et in self.ets], axis=0) if not capped1
              else (1 - BASEL_CAP) * self.gross_total)
        return rm.diff_var_with_se(t0, t1, a)[1]

    # -- one alternative -----------------------------------------------------------------------
    def figures(self, alt: Alternative, out: BondOutcome) -> tuple[dict[str, float], dict]:
        """(figures with ``_se``, annual arrays: gross, net, gross IF, net IF, bond
        recovery)."""
        s, n = self.settings, self.base.n_years
        a = s.alpha
        changed = tuple(out.recovery_economic)
        net_e = {et: (self.net0_econ[et] - out.recovery_economic[et] if et in changed
                      else self.net0_econ[et]) for et in self.ets}
        net_r = {et: (self.net0_reg[et] - out.recovery_regulatory[et] if et in changed
                      else self.net0_reg[et]) for et in self.ets}
        net_total = np.sum([net_e[et] for et in self.ets], axis=0)
        f: dict[str, float] = {"premium": alt.premium, "premium_se": 0.0}
        f["expected_recovery"], f["expected_recovery_se"] = rm.mean_with_se(out.ceded)
        rec_total = np.sum([out.recovery_economic[et] for et in changed], axis=0) \
            if changed else np.zeros(n)
        f["expected_recognised_recovery"], f["expected_recognised_recovery_se"] = \
            rm.mean_with_se(rec_total)
        inf_ratio = alt.premium <= 0
        f["loss_ratio"] = math.inf if inf_ratio else f["expected_recovery"] / alt.premium
        f["loss_ratio_se"] = math.nan if inf_ratio else f["expected_recovery_se"] / alt.premium
        for key, hit in (("p_claim", out.claims > 0), ("p_exhaust", out.hit)):
            p = float(np.mean(hit))
            f[key], f[f"{key}_se"] = p, math.sqrt(p * (1 - p) / n)
        net_if = net_e.get("IF", np.zeros(n))
        for period in s.return_periods:
            q = 1 - 1 / period
            f[f"retained_if_1in{period}"], f[f"retained_if_1in{period}_se"] = \
                rm.var_with_se(net_if, q)
            f[f"retained_total_1in{period}"], f[f"retained_total_1in{period}_se"] = \
                rm.var_with_se(net_total, q)
        f["gross_var"], f["gross_var_se"] = self.gross_var
        f["net_var"], f["net_var_se"] = rm.var_with_se(net_total, a)
        es = rm.es_estimate(net_total, a, bounded=self.bounded)
        f["net_es"], f["net_es_se"] = (es.value, es.se) if es.exists else (math.nan, math.nan)
        f["economic_relief"], f["economic_relief_se"] = rm.diff_var_with_se(
            self.gross_total, net_total, a)
        f.update(self._regulatory(alt, net_r, changed, f))
        return f, {"gross": self.gross_total, "net": net_total,
                   "gross_if": self.gross.get("IF", np.zeros(n)), "net_if": net_if,
                   "recovery": out.ceded, "reg_net": {et: net_r[et] for et in changed},
                   "cap_binds": bool(f["cap_binds"])}

    # -- differences between two alternatives --------------------------------------------------
    def _reg_side(self, arrays: dict, et: str) -> np.ndarray:
        """The array whose VaR is this alternative's net regulatory capital for ``et``."""
        if arrays["cap_binds"]:
            return (1 - BASEL_CAP) * self.gross[et]
        return arrays["reg_net"].get(et, self.net0_reg[et])

    def difference(self, fa: dict, arr_a: dict, fb: dict, arr_b: dict) -> dict[str, tuple]:
        """Figures of alternative A minus those of B, with paired standard errors:
        ``{name: (difference, se)}`` for net benefit, expected recovery, the bond's
        regulatory relief, net VaR, net ES and the 1-in-100 retained internal-fraud loss."""
        a = self.settings.alpha
        out = {"premium": (fa["premium"] - fb["premium"], 0.0)}
        out["expected_recovery"] = rm.diff_mean_with_se(arr_a["recovery"], arr_b["recovery"],
                                                        bounded=True)
        out["net_var"] = rm.diff_var_with_se(arr_a["net"], arr_b["net"], a)
        out["net_es"] = rm.diff_es_with_se(arr_a["net"], arr_b["net"], a,
                                           bounded=self.bounded)
        out["retained_if_1in100"] = rm.diff_var_with_se(arr_a["net_if"], arr_b["net_if"], 0.99)
        # relief A − relief B = net capital B − net capital A
        if arr_a["cap_binds"] and arr_b["cap_binds"]:
            relief = (0.0, 0.0)
        elif self.settings.aggregation == "sum":
            pairs = [rm.diff_var_with_se(self._reg_side(arr_b, et), self._reg_side(arr_a, et), a)
                     for et in self.ets]
            relief = (fa["bond_regulatory_relief"] - fb["bond_regulatory_relief"],
                      _rss(se for _, se in pairs))
        else:
            tb = np.sum([self._reg_side(arr_b, et) for et in self.ets], axis=0)
            ta = np.sum([self._reg_side(arr_a, et) for et in self.ets], axis=0)
            relief = (fa["bond_regulatory_relief"] - fb["bond_regulatory_relief"],
                      rm.diff_var_with_se(tb, ta, a)[1])
        out["bond_regulatory_relief"] = relief
        coc = self.settings.cost_of_capital
        se_rec = out["expected_recovery"][1]
        out["net_benefit"] = (fa["net_benefit"] - fb["net_benefit"],
                              math.sqrt(se_rec ** 2 + (coc * relief[1]) ** 2))
        return out

    def _regulatory(self, alt: Alternative, net_r, changed, f) -> dict[str, float]:
        s = self.settings
        cap1 = self._capital(net_r, changed)
        res = apply_cap(self.k_gross, self.k_gross - cap1.k_net_modelled, cap=BASEL_CAP)
        k_net_se = (1 - BASEL_CAP) * self.k_gross_se if res.binds else cap1.k_net_modelled_se
        if res.binds:
            benefit_se = BASEL_CAP * self.k_gross_se
        elif s.aggregation == "sum":
            benefit_se = _rss(rm.diff_var_with_se(self.gross[et], net_r[et], s.alpha)[1]
                              for et in self.ets)
        else:
            benefit_se = rm.diff_var_with_se(
                self.gross_total, np.sum([net_r[et] for et in self.ets], axis=0), s.alpha)[1]
        relief = self.baseline_cap.net - res.net
        relief_se = self._relief_se(net_r, res, changed)
        saving = s.cost_of_capital * relief
        saving_se = s.cost_of_capital * relief_se
        return {
            "regulatory_gross_capital": res.gross, "regulatory_gross_capital_se": self.k_gross_se,
            "regulatory_net_capital": res.net, "regulatory_net_capital_se": k_net_se,
            "regulatory_relief": res.recognised_benefit, "regulatory_relief_se": benefit_se,
            "cap_binds": float(res.binds), "cap_binds_se": 0.0,
            "bond_regulatory_relief": relief, "bond_regulatory_relief_se": relief_se,
            "capital_saving": saving, "capital_saving_se": saving_se,
            "net_benefit": f["expected_recovery"] - alt.premium + saving,
            "net_benefit_se": math.sqrt(f["expected_recovery_se"] ** 2 + saving_se ** 2),
        }


def context(base, settings) -> FigureContext:
    """The shared context of ``base`` and ``settings`` (cached on the base)."""
    key = ("figures", settings)
    if key not in base._cache:
        base._cache[key] = FigureContext(base, settings)
    return base._cache[key]
