"""Internal versus external (worldwide) large losses, side by side.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from opwb.analysis.tables import DateBasis, _need, _year_column, largest_losses
from opwb.data.taxonomy import (
    EVENT_TYPES,
)

__all__ = ["external_comparison"]


def external_comparison(losses: pd.DataFrame, external: pd.DataFrame, *, n: int = 10,
                        by: DateBasis = "occurrence") -> pd.DataFrame:
    """Internal largest losses next to external (worldwide) large losses, in KRW.

    Returns one frame with ``source`` ("internal"/"external"), ``source_ko`` ("내부"/"외부"),
    ``name`` (event id or institution), ``year``, ``event_type``, ``event_type_ko``,
    ``amount_krw``, ``description``, sorted by amount (largest first) with ``rank``.
    ``external`` needs columns institution, year, event_type, amount_krw (and optionally
    country, description_ko).
    """
    _need(external, ["institution", "year", "event_type", "amount_krw"],
          "external_comparison (external)")
    top = largest_losses(losses, n)
    internal = pd.DataFrame({
        "source": "internal", "source_ko": "내부", "name": top["event_id"].astype(str),
        "year": _year_column(top, by).astype("int64"), "event_type": top["event_type"],
        "amount_krw": top["gross_loss"].astype("float64"),
        "description": top.get("description", pd.Series("", index=top.index)).astype(str)})
    ext_name = external["institution"].astype(str)
    if "country" in external.columns:
        ext_name = ext_name + " (" + external["country"].astype(str) + ")"
    ext = pd.DataFrame({
        "source": "external", "source_ko": "외부", "name": ext_name,
        "year": external["year"].astype("int64"), "event_type": external["event_type"],
        "amount_krw": external["amount_krw"].astype("float64"),
        "description": external.get("description_ko", pd.Series(
            "", index=external.index)).astype(str)})
    out = pd.concat([internal, ext], ignore_index=True)
    out["event_type_ko"] = [EVENT_TYPES[c].ko if c in EVENT_TYPES else str(c)
                            for c in out["event_type"]]
    out = out.sort_values(["amount_krw", "name"], ascending=[False, True]).reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out
