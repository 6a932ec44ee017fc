"""One rule for a policy's layer terms, wherever they are given.

A policy is a per-occurrence layer: the insurer pays
``coinsurance × min(max(X − deductible, 0), limit)`` of an event loss ``X``, at most
``aggregate_limit`` in a policy year. The terms are checked by :func:`layer_term_problems`,
the same rule for :class:`opwb.insurance.policy.Policy` (the API) and for
:func:`opwb.data.load_programme` (the programme file), so a term one accepts the other
accepts:

* ``deductible``, ``premium``: a finite amount ≥ 0 (KRW);
* ``limit``, ``aggregate_limit``: an amount ≥ 0, or ``inf`` (none: a blank aggregate limit
  in a file). **A limit or aggregate limit of 0 is accepted and means the layer pays
  nothing**: the policy keeps its place in the programme (its wording slice, so that the
  other policies answer the same events) while paying nothing. This is how opwb evaluates a
  programme without its bond (``opwb.scenarios.bond.without_bond``, the capital baseline),
  and how a file writes a cover that lapsed but whose row is kept.

The programme file is checked for one thing more, a sign of a typing slip in a table a
person wrote: a positive aggregate limit below the per-occurrence limit
(:func:`aggregate_below_limit`). The API accepts it (analyses move one term at a time).

Examples
--------
>>> layer_term_problems(deductible=5e8, limit=0.0, aggregate_limit=0.0)
[]
>>> for term, message in layer_term_problems(deductible=5e8, limit=-1.0,
...                                          aggregate_limit=float("nan")):
...     print(term, "-", message)
limit - expected an amount ≥ 0 KRW (0: the layer pays nothing; inf: no limit), got -1.0
aggregate_limit - expected an amount ≥ 0 KRW (0: the layer pays nothing; inf: no limit), got nan
"""
from __future__ import annotations

import math
from typing import Any

__all__ = ["layer_term_problems", "aggregate_below_limit", "LIMIT_TERMS"]

#: The terms that may be 0 (the layer pays nothing) or infinite (no limit).
LIMIT_TERMS = ("limit", "aggregate_limit")
_FINITE_TERMS = ("deductible", "premium")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def layer_term_problems(**terms: Any) -> list[tuple[str, str]]:
    """What is wrong with a layer's terms, as ``(term, message)`` pairs (empty: valid).

    Parameters
    ----------
    **terms
        Any of ``deductible``, ``premium`` (finite, ≥ 0), ``limit``, ``aggregate_limit``
        (≥ 0 or ``inf``; 0: the layer pays nothing), in KRW.

    Returns
    -------
    list of (str, str)
        The term and the expectation it fails, in the order given.

    Raises
    ------
    TypeError
        A keyword that is none of these terms.
    """
    out = []
    for name, value in terms.items():
        if name not in LIMIT_TERMS + _FINITE_TERMS:
            raise TypeError(f"layer_term_problems: unknown term {name!r}")
        x = _number(value)
        if name in LIMIT_TERMS:
            ok = x is not None and x >= 0          # NaN fails; inf passes
            expected = "an amount ≥ 0 KRW (0: the layer pays nothing; inf: no limit)"
        else:
            ok = x is not None and math.isfinite(x) and x >= 0
            expected = "a finite amount ≥ 0 KRW"
        if not ok:
            out.append((name, f"expected {expected}, got {value!r}"))
    return out


def aggregate_below_limit(limit: float, aggregate_limit: float) -> str | None:
    """The programme file's extra check: a positive aggregate limit below the
    per-occurrence limit (a typing slip); the message, or None.

    Examples
    --------
    >>> aggregate_below_limit(50e8, 0.0) is None          # 0: pays nothing, as in the API
    True
    >>> print(aggregate_below_limit(50e8, 30e8))       # doctest: +NORMALIZE_WHITESPACE
    annual aggregate limit 3,000,000,000 is below the per-occurrence limit 5,000,000,000;
    expected at least the per-occurrence limit (blank = none; 0 = the policy pays nothing)
    """
    if 0 < aggregate_limit < limit:
        return (f"annual aggregate limit {aggregate_limit:,.0f} is below the per-occurrence "
                f"limit {limit:,.0f}; expected at least the per-occurrence limit (blank = "
                "none; 0 = the policy pays nothing)")
    return None
