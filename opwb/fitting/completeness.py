"""Is the loss data complete just above the collection threshold?

Banks often record losses near the threshold less completely than larger ones (a loss of
1,100만원 is easier to leave out than one of 10억원), which biases a left-truncated fit
towards a heavier tail (Baud, Frachot & Roncalli 2002, *How to avoid over-estimating capital
charge for operational risk?*; Chernobai, Rachev & Fabozzi 2007, *Operational Risk*, §9).
:func:`completeness_test` counts the losses in the band ``[u, upper)`` (default
``upper = 2u``) and compares them with what a severity model predicts there:

- **fitted above u** (the model the bank would use): among the ``n`` losses at or above
  ``u`` the number in the band is Binomial(n, p) with
  ``p = (S(u) − S(upper)) / S(u)`` under the left-truncated fit. A deficit is judged by the
  exact one-sided binomial probability ``P(K ≤ observed)``. The fit has itself adapted to
  the deficit, so this test is conservative;
- **fitted above the band** (the data above ``upper`` taken as complete): the same family
  fitted to the ``m`` losses at or above ``upper`` and extrapolated down predicts
  ``m · (S(u) − S(upper)) / S(upper)`` losses in the band; the count is judged against a
  Poisson with that mean, ``P(K ≤ observed)``. More powerful when the data above the band
  are many; unavailable when they are too few to fit, or the family is a shifted one (its
  fit above ``upper`` starts at ``upper``) (then ``nan``, ``note`` says why).

A small probability says the band holds fewer losses than the model expects: the data may be
incomplete near the threshold, and the fitting threshold should be raised or the
under-reporting modelled. :func:`completeness_table` runs the test for every cell of a model
set with its chosen family.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["CompletenessResult", "completeness_test", "completeness_table"]


@dataclass(frozen=True)
class CompletenessResult:
    """The band ``[threshold, upper)`` (KRW): ``observed`` losses in it of ``n`` at or above
    the threshold; ``expected`` and ``p_value`` under the family fitted above the threshold
    (one-sided exact binomial, deficit); ``expected_from_upper`` and ``p_value_from_upper``
    under the family fitted above ``upper`` (Poisson, deficit; ``nan`` when that fit could
    not be made, ``note`` says why)."""

    family: str
    threshold: float
    upper: float
    n: int
    observed: int
    expected: float
    p_value: float
    n_upper: int
    expected_from_upper: float
    p_value_from_upper: float
    note: str = ""


def completeness_test(losses, family: str, threshold: float, *, upper: float | None = None,
                      fit=None) -> CompletenessResult:
    """Test whether the losses just above ``threshold`` are as many as ``family`` predicts
    (see the module docstring).

    Parameters
    ----------
    losses : array-like
        One cell's losses (KRW); those below ``threshold`` are ignored.
    family : str
        A severity family of :func:`opwb.fitting.mle.fit_severity`.
    threshold : float
        The collection (fitting) threshold u, KRW.
    upper : float, optional
        The band's upper end (KRW, > threshold; default ``2 · threshold``).
    fit : SeverityFit, optional
        The family's fit above ``threshold`` when already made (default: fitted here).

    Returns
    -------
    CompletenessResult

    Raises
    ------
    ValueError
        ``threshold`` not positive, ``upper`` not above it, or too few losses at or above
        ``threshold`` to fit ``family`` (:func:`opwb.fitting.mle.fit_severity`'s error).
    """
    from opwb.fitting.mle import fit_severity
    u = float(threshold)
    if not (math.isfinite(u) and u > 0):
        raise ValueError(f"threshold must be a positive amount in KRW, got {threshold!r}")
    top = 2.0 * u if upper is None else float(upper)
    if not top > u:
        raise ValueError(f"upper ({top:,.0f}) must be above the threshold ({u:,.0f})")
    x = np.asarray(losses, dtype=float)
    x = x[np.isfinite(x) & (x >= u)]
    n, observed = int(x.size), int(((x >= u) & (x < top)).sum())
    f = fit_severity(x, family, u) if fit is None else fit
    p = float((f.sf(u) - f.sf(top)) / f.sf(u))
    expected = n * p
    p_value = float(stats.binom.cdf(observed, n, p))
    above = x[x >= top]
    note, e_up, p_up = "", math.nan, math.nan
    if family.startswith("shifted"):
        # a shifted family fitted above ``upper`` starts there: it says nothing below it
        note = f"{family} fitted above {top:,.0f} starts there: no extrapolation below it"
        return CompletenessResult(family, u, top, n, observed, float(expected), p_value,
                                  int(above.size), e_up, p_up, note)
    try:
        g = fit_severity(above, family, top)
        e_up = float(above.size * (g.sf(u) - g.sf(top)) / g.sf(top))
        p_up = float(stats.poisson.cdf(observed, e_up))
    except ValueError as err:
        note = f"no fit above {top:,.0f}: {err}"
    return CompletenessResult(family, u, top, n, observed, float(expected), p_value,
                              int(above.size), e_up, p_up, note)


def completeness_table(losses: pd.DataFrame, models, *, upper_multiple: float = 2.0,
                       by: str = "event_type") -> pd.DataFrame:
    """:func:`completeness_test` of every cell of ``models`` (a
    :class:`~opwb.fitting.modelset.ModelSet`) with its chosen severity family and fit, at the
    model set's threshold, on the canonical ``losses`` (column ``by`` names the cells,
    ``gross_loss`` the amounts, KRW). One row per cell; a cell whose test cannot be made
    says why in ``note``."""
    rows = []
    u = float(models.threshold)
    for cell, m in models.items():
        x = losses.loc[losses[by] == cell, "gross_loss"].to_numpy(float)
        try:
            r = completeness_test(x, m.severity.family, u, upper=upper_multiple * u,
                                  fit=m.severity if float(m.severity.threshold) == u else None)
            rows.append({"cell": cell, **r.__dict__})
        except ValueError as err:
            rows.append({"cell": cell, "family": m.severity.family, "threshold": u,
                         "upper": upper_multiple * u, "note": str(err)})
    return pd.DataFrame(rows)
