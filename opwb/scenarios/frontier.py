"""The structure frontier: every (deductible, limit) of a grid evaluated on one scenario base.

:func:`frontier` answers "which BBB structure?" the way the seed's bank did in 2006 when it
"computed the bank's appropriate coverage limit with the AMA model": each structure of a
grid of deductibles and limits is re-applied to the same stored events (common random
numbers), priced by a premium model (:mod:`opwb.scenarios.premium`) and judged by every
figure of :func:`opwb.scenarios.evaluation.evaluate`, each with its Monte Carlo standard
error. Structures sharing a deductible are computed together (one column per limit:
:meth:`opwb.scenarios.bond.BondContext.blocks`), so a grid of 150 costs a few single
evaluations, and every row equals what :func:`~opwb.scenarios.evaluation.evaluate` gives
for that structure (the same code path, row by row).

Examples
--------
>>> import opwb                                                     # doctest: +SKIP
>>> base = opwb.scenario_base()                                     # doctest: +SKIP
>>> table = opwb.frontier(base, deductibles=[10e8, 30e8], limits=[400e8, 1000e8],
...                       premium=opwb.load_alternatives(opwb.data_path(
...                           "bbb_alternatives.csv")))         # doctest: +SKIP
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from opwb.scenarios.alternatives import Alternative, check_alternative
from opwb.scenarios.base import Z95, ScenarioBase, ScenarioSettings
from opwb.scenarios.figures import context
from opwb.scenarios.premium import TechnicalPremium, as_premium_model, premium_model_name

__all__ = ["frontier", "structure_name", "FRONTIER_KEYS", "template_of", "critical_value"]

FRONTIER_KEYS = ("premium", "expected_recovery", "expected_recognised_recovery", "loss_ratio",
                 "p_claim", "p_exhaust", "retained_if_1in10", "retained_if_1in100",
                 "retained_if_1in1000", "retained_total_1in10", "retained_total_1in100",
                 "retained_total_1in1000", "gross_var", "net_var", "net_es",
                 "economic_relief", "regulatory_gross_capital", "regulatory_net_capital",
                 "regulatory_relief", "bond_regulatory_relief", "cap_binds", "capital_saving",
                 "net_benefit")
"""Figures of a frontier row (each with ``<name>_se``), as :func:`evaluate` names them."""


def structure_name(deductible: float, limit: float) -> str:
    """A structure's display name: ``"한도 400억 · 공제 30억"`` (억원, as the quotes)."""
    return f"한도 {limit / 1e8:,.0f}억 · 공제 {deductible / 1e8:,.0f}억"


def template_of(base: ScenarioBase) -> Alternative:
    """The terms a frontier structure takes besides deductible, limit and premium: the base
    programme bond's coinsurance and insurer rating, and no annual aggregate limit (as the
    insurers' quotes in ``data/bbb_alternatives.csv``; the 2005 cover's 100억 aggregate
    belongs to its 50억 limit)."""
    bond = base.programme[base.bond_policy]
    return Alternative("template", limit=bond.limit, deductible=bond.deductible,
                       premium=bond.premium, coinsurance=bond.coinsurance,
                       insurer_rating=bond.insurer_rating)


def _grid(values, what: str) -> np.ndarray:
    arr = np.unique(np.asarray(values, dtype=float))
    if arr.size == 0 or not np.all(np.isfinite(arr)) or arr.min() < 0:
        raise ValueError(f"{what} must be a non-empty list of finite amounts >= 0 (KRW), "
                         f"got {values!r}")
    return arr


def frontier(base: ScenarioBase, *, deductibles: Sequence[float], limits: Sequence[float],
             premium, settings: ScenarioSettings | None = None,
             template: Alternative | None = None) -> pd.DataFrame:
    """Evaluate every structure (deductible, limit) of a grid on ``base``.

    Parameters
    ----------
    base : ScenarioBase
        The stored simulation (:func:`opwb.scenarios.build_scenario_base`).
    deductibles, limits : sequence of float
        Per-occurrence deductibles and limits (KRW; limits > 0). Every pair with
        ``deductible <= limit`` is evaluated; a deductible above the limit is not a BBB a
        bank buys and is left out.
    premium : callable, number, sequence of Alternative or ``"technical"``
        The premium model (:func:`opwb.scenarios.premium.as_premium_model`): a callable
        ``(deductible, limit) -> KRW``; a number (one premium for all); quoted alternatives
        (interpolated by rate on line, :class:`~opwb.scenarios.premium.QuotedPremium`); or
        ``"technical"`` (:class:`~opwb.scenarios.premium.TechnicalPremium` on this base).
    settings : ScenarioSettings, optional
        How alternatives are judged (default :class:`ScenarioSettings()`).
    template : Alternative, optional
        The other terms (coinsurance, aggregate limit, insurer rating); default
        :func:`template_of` (the bond's coinsurance and rating, no aggregate limit).

    Returns
    -------
    DataFrame
        One row per structure, ordered by deductible then limit: ``name``, ``deductible``,
        ``limit``, ``aggregate_limit`` (KRW), ``coinsurance``, ``insurer_rating`` (the
        structure's terms), ``premium_model`` (the premium model's name) and every figure of
        :data:`FRONTIER_KEYS` with its standard error ``<name>_se`` (KRW; probabilities as
        fractions; ``cap_binds`` 0/1). Row by row equal to :func:`evaluate` of
        ``template.replace(deductible=d, limit=L, premium=premium(d, L))``.
        ``attrs["premium_model"]`` names the premium model, ``attrs["include_cd"]`` the base,
        ``attrs["critical_value"]`` the base's 95% critical value
        (:attr:`~opwb.scenarios.base.ScenarioBase.critical_value`).

    Raises
    ------
    ValueError
        An empty or negative grid, no pair with ``deductible <= limit``, a premium model
        that returns a negative or non-finite premium, or terms
        :func:`~opwb.scenarios.alternatives.check_alternative` refuses.
    """
    settings = ScenarioSettings() if settings is None else settings
    ds, ls = _grid(deductibles, "deductibles"), _grid(limits, "limits")
    if ls.min() <= 0:
        raise ValueError(f"limits must be > 0, got {limits!r}")
    pairs = [(d, L) for d in ds for L in ls if d <= L]
    if not pairs:
        raise ValueError("no structure with deductible <= limit in the grid "
                         f"(deductibles {ds.tolist()}, limits {ls.tolist()})")
    ctx = context(base, settings)
    tmpl = template_of(base) if template is None else template
    if isinstance(premium, str):
        if premium != "technical":
            raise ValueError(f"premium must be a model, a callable, a number, quoted "
                             f"alternatives or 'technical'; got {premium!r}")
        premium = TechnicalPremium.for_base(ctx.bond, template=tmpl)
    model = as_premium_model(premium)
    if hasattr(model, "prepare"):
        model.prepare(pairs)
    alts = []
    for d, L in pairs:
        p = float(model(d, L))
        if not (math.isfinite(p) and p >= 0):
            raise ValueError(f"the premium model gave {p!r} for deductible {d:,.0f}, limit "
                             f"{L:,.0f}; expected a finite premium >= 0 (KRW)")
        alts.append(check_alternative(tmpl.replace(name=structure_name(d, L), deductible=d,
                                                   limit=L, premium=p)))
    rows: list[dict | None] = [None] * len(alts)
    for idx, block in ctx.bond.blocks(alts):
        for i, (figs, _) in zip(idx, ctx.figures(block, keep_arrays=False)):
            rows[i] = figs
    name = premium_model_name(model)
    out = pd.DataFrame({"name": [a.name for a in alts],
                        "deductible": [a.deductible for a in alts],
                        "limit": [a.limit for a in alts],
                        "aggregate_limit": [a.aggregate_limit for a in alts],
                        "coinsurance": [a.coinsurance for a in alts],
                        "insurer_rating": [a.insurer_rating for a in alts],
                        "premium_model": name})
    cols = {}
    for key in FRONTIER_KEYS:
        cols[key] = [r[key] for r in rows]
        cols[f"{key}_se"] = [r[f"{key}_se"] for r in rows]
    out = pd.concat([out, pd.DataFrame(cols)], axis=1)
    out.attrs.update(premium_model=name, include_cd=base.include_cd,
                     critical_value=base.critical_value,
                     n_years=base.n_years, seed=base.seed)
    return out


def critical_value(table: pd.DataFrame) -> float:
    """The 95% critical value of the base a frontier ``table`` was computed on (its
    ``attrs["critical_value"]``, :attr:`~opwb.scenarios.base.ScenarioBase.critical_value`);
    the normal 1.96 for a table that does not say."""
    return float(table.attrs.get("critical_value", Z95))
