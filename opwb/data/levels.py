"""Probability levels (VaR and ES levels, quantile probabilities): one check for every entry point.

opwb writes levels as fractions: ``alpha = 0.999`` is the 99.9% one-year VaR. A level given
as a percentage (99.9) or outside (0, 1) is refused with a message that says so, by
:func:`check_level`, which every quantile, VaR and ES entry point calls.

Examples
--------
>>> check_level(0.999)
0.999
>>> check_level(99.9)
Traceback (most recent call last):
...
ValueError: alpha must be a probability level strictly between 0 and 1 (a fraction: 0.999 for 99.9%); got 99.9 — a percentage? Use 0.999.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_level"]


def check_level(level, *, name: str = "alpha", closed: bool = False):
    """Return ``level`` (a float, or a float array for array input) after checking it.

    Parameters
    ----------
    level : float or array_like
        Probability level(s), as fractions.
    name : str
        The argument's name, for the message.
    closed : bool
        Allow 0 and 1 themselves (quantile functions evaluated at the ends); VaR and ES
        levels are strictly inside (0, 1).

    Raises
    ------
    ValueError
        A level that is not a finite number in (0, 1) (or [0, 1] when ``closed``); levels
        between 1 and 100 are named as likely percentages.
    """
    if isinstance(level, bool) or not (isinstance(level, numbers.Real)
                                       or isinstance(level, (np.ndarray, list, tuple))):
        raise ValueError(f"{name} must be a probability level (a number such as 0.999), "
                         f"got {level!r}")
    arr = np.asarray(level, dtype=float)
    inside = (arr >= 0) & (arr <= 1) if closed else (arr > 0) & (arr < 1)
    if not np.all(np.isfinite(arr) & inside):
        bad = arr[~(np.isfinite(arr) & inside)].ravel()[0]
        where = "between 0 and 1" if closed else "strictly between 0 and 1"
        hint = (f" — a percentage? Use {bad / 100:g}." if 1 < bad <= 100 else "")
        raise ValueError(f"{name} must be a probability level {where} (a fraction: 0.999 for "
                         f"99.9%); got {float(bad):g}{hint}")
    return float(arr) if arr.ndim == 0 else arr
