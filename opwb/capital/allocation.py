"""Allocation of a total's capital and insurance relief to event types and policies.

The rule (one for every aggregation, so that every allocated column adds up to its total):

* **Event types, pro rata to stand-alone figures.** With the chosen total's gross capital
  ``K``, modelled benefit ``B`` and recognised benefit ``R`` (after the 20% cap), event type
  ``i`` with stand-alone gross capital ``k_i`` and stand-alone benefit ``b_i`` gets
  ``K · k_i / Σk``, ``B · b_i / Σb`` and ``R · b_i / Σb``; its modelled net capital is
  ``K_i - B_i`` and its net capital ``K_i - R_i``. Under ``"sum"`` (Basel's default, the
  total *is* the sum of the stand-alone figures) this is the identity; under
  ``"independent"`` and ``"copula"`` it spreads the diversification effect in proportion to
  each event type's stand-alone figure. An event type without insurance has ``b_i = 0`` and
  so gets no relief. Why not Euler (``E[X_i | S = VaR(S)]``)? For a 99.9% VaR it rests on
  the handful of simulated years next to the quantile, so it moves with the seed by far more
  than the stand-alone VaRs do, and it can give relief to an uninsured event type.
* **Policies, within each event type, pro rata to their recognised recoveries in that event
  type's tail years**: the ``ceil(n (1 - alpha))`` years with the largest gross loss of the
  event type (the years that set its capital; they do not move when insurance terms
  change, so alternatives are compared on the same years). A policy's relief is the sum
  over event types of its share times the event type's allocated relief, so the policies'
  relief adds up to the total. If no policy recovers anything in an event type's tail
  years, the split uses mean recoveries over all years (the basis is reported).

Examples
--------
>>> import numpy as np
>>> from opwb.capital.influence import Linearised, allocate
>>> parts = [Linearised(30.0, np.zeros(3)), Linearised(10.0, np.zeros(3))]  # stand-alone
>>> [a.value for a in allocate(Linearised(20.0, np.zeros(3)), parts, what="capital")]
[15.0, 5.0]
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from opwb.capital.influence import Linearised

__all__ = ["policy_relief", "policy_split"]


def _tail_years(x: np.ndarray, alpha: float) -> np.ndarray:
    n = x.size
    k = max(1, math.ceil(n * (1.0 - alpha) - 1e-9))
    return np.argpartition(x, n - k)[n - k:]


def policy_split(result: Any, gross: Mapping[str, np.ndarray], alpha: float) -> pd.DataFrame:
    """Each policy's share of each event type's insurance relief.

    Parameters
    ----------
    result : ProgrammeResult
        Recognised recoveries by (policy, event type) per simulated year (KRW).
    gross : mapping event type → annual gross losses (KRW)
        Their ``ceil(n (1 - alpha))`` largest years are the event type's tail years.
    alpha : float
        VaR level (fraction, e.g. 0.999).

    Returns
    -------
    DataFrame
        Index ``event_type``; one column per policy with its share (fractions summing to 1
        over the policies, or all 0 when no policy recovers anything on the event type),
        and ``basis``: ``"tail years"``, ``"all years"`` (no recovery in the tail years) or
        ``"no recoveries"``.
    """
    pids = list(result.policy_ids)
    table = result.recovery_by_policy_event_type
    rows = {}
    for et, g in gross.items():
        tail = _tail_years(np.asarray(g, dtype=float), alpha)
        recs = {p: table.get((p, et)) for p in pids}
        tail_sum = {p: float(r[tail].sum()) if r is not None else 0.0 for p, r in recs.items()}
        all_sum = {p: float(r.sum()) if r is not None else 0.0 for p, r in recs.items()}
        if sum(tail_sum.values()) > 0:
            basis, w = "tail years", tail_sum
        elif sum(all_sum.values()) > 0:
            basis, w = "all years", all_sum
        else:
            basis, w = "no recoveries", dict.fromkeys(pids, 0.0)
        total = sum(w.values())
        rows[et] = {**{p: (w[p] / total if total > 0 else 0.0) for p in pids}, "basis": basis}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=[*pids, "basis"])
    out.index.name = "event_type"
    return out


def policy_relief(result: Any, split: pd.DataFrame, names: Sequence[str],
                  benefit: Sequence[Linearised], recognised: Sequence[Linearised]) -> pd.DataFrame:
    """Modelled benefit and recognised relief (KRW) by policy, with standard errors.

    ``benefit`` and ``recognised`` are the event types' allocated figures (in the order of
    ``names``); a policy gets ``Σ_i split[i, policy] · figure_i``. The standard errors treat
    the split shares as fixed.

    Returns
    -------
    DataFrame
        Index ``policy_id``: ``expected_ceded``, ``expected_recovery`` (mean recognised
        recovery a year), ``benefit``, ``benefit_se``, ``relief``, ``relief_se``, ``share``
        (of the total relief; 0 when the total relief is 0).
    """
    rows = []
    for pid in result.policy_ids:
        s = [float(split.loc[et, pid]) for et in names]
        b = sum((w * e for w, e in zip(s, benefit)), Linearised.constant(0.0, benefit[0].psi.size))
        r = sum((w * e for w, e in zip(s, recognised)),
                Linearised.constant(0.0, recognised[0].psi.size))
        rows.append({"policy_id": pid,
                     "expected_ceded": float(result.ceded_by_policy[pid].mean()),
                     "expected_recovery": float(result.recovery_by_policy[pid].mean()),
                     "benefit": b.value, "benefit_se": b.se,
                     "relief": r.value, "relief_se": r.se})
    df = pd.DataFrame(rows, columns=POLICY_COLUMNS[:-1]).set_index("policy_id")
    total = float(sum(e.value for e in recognised))
    df["share"] = df["relief"] / total if total != 0 else 0.0
    return df


POLICY_COLUMNS = ["policy_id", "expected_ceded", "expected_recovery", "benefit", "benefit_se",
                  "relief", "relief_se", "share"]
