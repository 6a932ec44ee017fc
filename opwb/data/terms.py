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

**Two notations for an excess layer** (a tower: primary ``30 xs 20``, excess ``50 xs 50``),
one rule for the API and the file (:func:`tower_problems`):

* *opwb's convention*: ``deductible`` with ``follows`` — the layer applies to the loss net of
  what the layers below it paid, so the excess above is written with the primary's
  deductible, 20, and ``follows`` = the primary (it attaches at 20 + 30 = 50 from the ground
  up and drops down when the primary's aggregate limit is exhausted);
* *market notation* ``L xs A``: ``attachment`` = ``A``, the point **from the ground up** where
  the layer starts; the layer pays ``coinsurance × min(max(X − A, 0), L)`` of the event's
  gross loss ``X``, whatever the layers below paid (no drop-down), so the excess above is
  written with ``attachment`` 50 (and ``follows`` = the primary for its wording).

The layer ``L xs A`` of a loss ``X`` is ``min(max(X − A, 0), L) = (X ∧ (A + L)) − (X ∧ A)``
(Klugman, Panjer & Willmot, *Loss Models*, 4th ed., 2012, ch. 8, coverage modifications;
the seed deck's payout formula, DOMAIN.md). The two notations agree while no aggregate
limit below is exhausted. A layer given by its attachment takes no separate deductible (a
deductible equal to it is the same point). Refused, as matching neither notation or both:
an attachment inside the layers below it (they would pay the same slice of the loss
twice), and a ``follows`` layer whose deductible reaches the top of the layers below it
from the ground up (``50`` over ``30 xs 20``: the ground-up attachment written as a
deductible, which opwb's convention would read as attaching at 80).

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
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["layer_term_problems", "aggregate_below_limit", "LIMIT_TERMS", "TowerLayer",
           "tower_problems", "ground_up_bands"]

#: The terms that may be 0 (the layer pays nothing) or infinite (no limit).
LIMIT_TERMS = ("limit", "aggregate_limit")
_FINITE_TERMS = ("deductible", "premium", "attachment")


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
        Any of ``deductible``, ``premium``, ``attachment`` (finite, ≥ 0), ``limit``,
        ``aggregate_limit`` (≥ 0 or ``inf``; 0: the layer pays nothing), in KRW.

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


@dataclass(frozen=True)
class TowerLayer:
    """The terms of one layer that place it in a tower (amounts in KRW).

    ``attachment`` is the ground-up point where the layer starts (market notation), or
    ``None`` when the layer is written in opwb's convention (``deductible`` on the loss net
    of the layers below it); ``follows`` the ``policy_id`` of the layer whose wording it
    follows ("" for none).
    """

    policy_id: str
    deductible: float
    limit: float
    attachment: float | None = None
    follows: str = ""


def ground_up_bands(layers: Sequence[TowerLayer]) -> list[list[tuple[float, float]]]:
    """Where each layer pays on the ground-up loss of one event, no aggregate exhausted.

    Parameters
    ----------
    layers : sequence of TowerLayer
        In programme order; a layer's chain is every earlier layer with the same root
        (the policy that ``follows`` leads back to). Unknown ``follows`` start a chain.

    Returns
    -------
    list of list of (float, float)
        Per layer, the ground-up intervals ``[lo, hi)`` of the event loss it pays (KRW;
        ``hi`` may be ``inf``): ``[A, A + L)`` for a layer with an attachment; for opwb's
        convention the free ground-up space (not taken by earlier layers of its chain) from
        free length ``d`` to ``d + L``, as :func:`opwb.insurance.apply.apply_programme`
        charges it (the loss net of the layers below).

    Examples
    --------
    Primary ``30 xs 20``; an excess of 50 in opwb's convention; one of 50 in market
    notation above it:

    >>> ground_up_bands([TowerLayer("P", 20.0, 30.0), TowerLayer("X", 20.0, 50.0, follows="P"),
    ...                  TowerLayer("Y", 100.0, 50.0, attachment=100.0, follows="P")])
    [[(20.0, 50.0)], [(50.0, 100.0)], [(100.0, 150.0)]]
    """
    roots: dict[str, str] = {}
    taken: dict[str, list[tuple[float, float]]] = {}
    out = []
    for layer in layers:
        root = roots.get(layer.follows, layer.policy_id) if layer.follows else layer.policy_id
        roots.setdefault(layer.policy_id, root)
        occupied = taken.setdefault(root, [])
        if layer.attachment is not None:
            bands = [(layer.attachment, layer.attachment + layer.limit)]
        else:
            bands = _free_space(occupied, layer.deductible, layer.limit)
        bands = [(lo, hi) for lo, hi in bands if hi > lo]
        occupied.extend(bands)
        occupied.sort()
        out.append(bands)
    return out


def _free_space(occupied: list[tuple[float, float]], start: float,
                length: float) -> list[tuple[float, float]]:
    """Ground-up intervals of the space not in ``occupied`` from free length ``start`` to
    ``start + length`` (the loss net of the layers below passes ``start``)."""
    want_lo, want_hi = start, start + length
    out, pos, free = [], 0.0, 0.0
    for lo, hi in [*occupied, (math.inf, math.inf)]:
        gap = max(lo - pos, 0.0)
        a, b = max(want_lo, free), min(want_hi, free + gap)
        if b > a:
            out.append((pos + (a - free), pos + (b - free)))
        free += gap
        pos = max(pos, hi)
        if free >= want_hi or math.isinf(pos):
            break
    return out


def _amount(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:,.0f}"


def tower_problems(layers: Sequence[TowerLayer]) -> list[tuple[int, str, str]]:
    """What makes a tower's notation wrong or ambiguous: ``(index, term, message)``.

    One rule for :class:`opwb.insurance.programme.Programme` (the API) and
    :func:`opwb.data.load_programme` (the file). No aggregate limit is considered: the
    bands are those of :func:`ground_up_bands`.

    Parameters
    ----------
    layers : sequence of TowerLayer
        In programme order.

    Returns
    -------
    list of (int, str, str)
        The layer's position in ``layers``, the term at fault (``"attachment"`` or
        ``"deductible"``) and what was expected; empty when the tower is well written:

        * a layer with an ``attachment`` must start at or above every layer below it in
          its chain that it would overlap (two layers paying one slice of a loss);
        * a ``follows`` layer in opwb's convention (no attachment) whose ``deductible`` is
          at or above the ground-up top ``T`` of the layers below it is ambiguous when
          those layers pay anything: the deductible reads as the market's ground-up
          attachment, while opwb's convention measures it above the layers below (it
          would attach ``E`` higher, ``E`` their total limit). Write ``attachment`` for
          the first; a contiguous excess layer in opwb's convention has deductible
          ``T − E``.

    Examples
    --------
    The market's tower written with the market's numbers in opwb's deductible:

    >>> for i, term, message in tower_problems([TowerLayer("P", 20, 30),
    ...                                         TowerLayer("X", 50, 50, follows="P")]):
    ...     print(i, term)
    1 deductible
    >>> tower_problems([TowerLayer("P", 20, 30), TowerLayer("X", 20, 50, follows="P"),
    ...                 TowerLayer("Y", 100, 50, attachment=100, follows="P")])
    []
    """
    bands = ground_up_bands(layers)
    roots: dict[str, str] = {}
    owners: dict[str, list[tuple[float, float, str]]] = {}
    out = []
    for i, (layer, own) in enumerate(zip(layers, bands)):
        root = roots.get(layer.follows, layer.policy_id) if layer.follows else layer.policy_id
        roots.setdefault(layer.policy_id, root)
        below = owners.setdefault(root, [])
        if layer.attachment is not None:
            a, top = layer.attachment, layer.attachment + layer.limit
            hit = [(lo, hi, k) for lo, hi, k in below if lo < top and a < hi and top > a]
            if hit:
                where = "; ".join(f"'{k}' pays {_amount(lo)} to {_amount(hi)}"
                                  for lo, hi, k in hit)
                out.append((i, "attachment", (
                    f"the layer {_amount(layer.limit)} xs {_amount(a)} (from the ground up) "
                    f"overlaps the layers below it ({where}, from the ground up): expected an "
                    f"attachment at or above {_amount(max(hi for _, hi, _ in hit))}, where the "
                    "layers below stop")))
        elif layer.follows and below:
            top = max(hi for _, hi, _ in below)
            paid = sum(hi - lo for lo, hi, _ in below)
            if math.isfinite(top) and layer.deductible >= top:
                out.append((i, "deductible", (
                    f"deductible {_amount(layer.deductible)} with follows '{layer.follows}' is "
                    f"ambiguous: the layers below stop at {_amount(top)} from the ground up, so "
                    f"it reads as the market's attachment ('{_amount(layer.limit)} xs "
                    f"{_amount(layer.deductible)}', starting at {_amount(layer.deductible)}), "
                    "while opwb's convention measures a deductible above the layers below "
                    f"(starting at {_amount(layer.deductible + paid)}). Expected attachment = "
                    f"{_amount(layer.deductible)} (and no deductible) for a layer starting "
                    f"there, or deductible {_amount(top - paid)} for an excess layer directly "
                    "above in opwb's convention")))
        below.extend((lo, hi, layer.policy_id) for lo, hi in own)
    return out
