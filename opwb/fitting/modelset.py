"""A fitted model set: one (frequency, severity) pair per cell, saved as readable JSON.

``data/severity_models.json`` ships a default set (fitted by notebook 02 on the bundled
losses) so that later notebooks and the app start without refitting::

    models = load_model_set()                 # {"IF": CellFit(...), ...}
    CellModel(models["IF"].frequency, models["IF"].severity)   # opwb.engine.simulate
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from opwb.fitting.frequency import FrequencyFit
from opwb.fitting.mle import SeverityFit

__all__ = ["CellFit", "choose_family", "fit_model_set", "save_model_set", "load_model_set",
           "DEFAULT_MODEL_FILE"]

DEFAULT_MODEL_FILE = "severity_models.json"


@dataclass(frozen=True)
class CellFit:
    """The chosen models of one cell and why they were chosen."""

    frequency: FrequencyFit
    severity: SeverityFit
    reason: str = ""

    @property
    def threshold(self) -> float:
        return self.severity.threshold

    @property
    def lambda_all(self) -> float:
        """Implied annual frequency of all losses, λ_H / S(H)."""
        return self.frequency.mean / self.severity.sf_threshold


def choose_family(table: pd.DataFrame, *, level: float = 0.05,
                  max_rel_se: float = 1.0) -> tuple[str, str]:
    """Pick a family from a :func:`opwb.fitting.gof.comparison_table` and say why.

    Rule: among well-identified fits (an interior maximum, every standard error smaller
    than ``max_rel_se`` times its estimate) that no bootstrap test (KS, AD, AD-up) rejects
    at ``level``, the lowest AIC; failing that, the lowest AIC among interior fits that pass
    the tests (flagged as weakly identified); failing that, the lowest AIC overall (flagged).
    """
    ok = table[np.isfinite(table.get("aic", pd.Series(dtype=float)))]
    if ok.empty:
        raise ValueError("no family could be fitted")
    interior = ok[~ok["note"].str.contains("edge of the parameter space", na=False)]
    passing = interior[(interior[["p_ks", "p_ad", "p_adup"]] > level).all(axis=1)]
    strong = passing[passing["max_rel_se"] < max_rel_se]
    tests = f"KS, AD and AD-up do not reject at {level:.0%}"
    if not strong.empty:
        r = strong.sort_values("aic").iloc[0]
        return str(r["family"]), (
            f"{r['family']}: lowest AIC ({r['aic']:,.1f}) among the {len(strong)} "
            f"well-identified families (interior maximum, every se < {max_rel_se:g}× its "
            f"estimate) that {tests} (p = {r['p_ks']:.2f}, {r['p_ad']:.2f}, {r['p_adup']:.2f})")
    if not passing.empty:
        r = passing.sort_values("aic").iloc[0]
        return str(r["family"]), (
            f"{r['family']}: lowest AIC ({r['aic']:,.1f}) among the {len(passing)} families "
            f"with an interior maximum that {tests}; no such family is well identified "
            f"(largest se/estimate {r['max_rel_se']:.1f}) — the tail is uncertain")
    r = ok.sort_values("aic").iloc[0]
    return str(r["family"]), (f"{r['family']}: lowest AIC ({r['aic']:,.1f}); no family with "
                              f"an interior maximum passes all three tests at {level:.0%} — "
                              f"treat with caution")


def fit_model_set(losses: pd.DataFrame, threshold: float, *, families=None,
                  n_boot: int | None = None, seed: int = 0, by: str = "event_type",
                  cells=None) -> tuple[dict[str, CellFit], dict[str, pd.DataFrame]]:
    """Fit every family to every cell, choose one per cell (:func:`choose_family`).

    Returns ``(models, tables)``: the chosen :class:`CellFit` per cell and the comparison
    table per cell. Frequencies: :func:`opwb.fitting.frequency.fit_frequency` ("auto") on the annual
    counts above ``threshold``.
    """
    from opwb.fitting.frequency import annual_counts, fit_frequency
    from opwb.fitting.gof import DEFAULT_N_BOOT, comparison_table, fit_all
    n_boot = DEFAULT_N_BOOT if n_boot is None else n_boot
    counts = annual_counts(losses, by=by, threshold=threshold)
    cells = list(counts.columns) if cells is None else list(cells)
    models, tables = {}, {}
    for cell in cells:
        x = losses.loc[(losses[by] == cell) & (losses["gross_loss"] > threshold),
                       "gross_loss"].to_numpy(float)
        fits = fit_all(x, threshold, families)
        tables[cell] = comparison_table(fits, x, n_boot=n_boot, seed=seed)
        family, why = choose_family(tables[cell])
        models[cell] = CellFit(fit_frequency(counts[cell], threshold=threshold), fits[family],
                               why)
    return models, tables


def save_model_set(models: Mapping[str, CellFit], path, *, note: str = "") -> Path:
    """Write ``{cell: CellFit}`` as indented JSON (human-readable, UTF-8)."""
    doc = {"kind": "opwb_model_set", "note": note, "cells": {
        cell: {"frequency": m.frequency.to_dict(), "severity": m.severity.to_dict(),
               "reason": m.reason} for cell, m in models.items()}}
    path = Path(path)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=_jsonable) + "\n",
                    encoding="utf-8")
    return path


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def load_model_set(path=None) -> dict[str, CellFit]:
    """Read a model set (default: the bundled ``data/severity_models.json``)."""
    if path is None:
        from opwb.data.bundled import data_path
        path = data_path(DEFAULT_MODEL_FILE)
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if doc.get("kind") != "opwb_model_set":
        raise ValueError(f"{path}: not an opwb model set (kind={doc.get('kind')!r})")
    return {cell: CellFit(FrequencyFit.from_dict(d["frequency"]),
                          SeverityFit.from_dict(d["severity"]), d.get("reason", ""))
            for cell, d in doc["cells"].items()}


def main(argv=None) -> int:
    """``python -m opwb.fitting.modelset [--out PATH]``: refit the bundled default model set."""
    import argparse

    from opwb.data.bundled import data_path
    from opwb.data.losses import load_losses
    from opwb.data.schema import COLLECTION_THRESHOLD
    ap = argparse.ArgumentParser(description="Refit the default model set from data/losses.csv")
    ap.add_argument("--out", default=str(data_path(DEFAULT_MODEL_FILE)))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    losses = load_losses(data_path("losses.csv"))
    models, _ = fit_model_set(losses, COLLECTION_THRESHOLD, seed=args.seed)
    note = (f"Default model set: every family fitted by left-truncated MLE to the losses above "
            f"the collection threshold {COLLECTION_THRESHOLD:,.0f} KRW in data/losses.csv, per "
            f"event type; chosen by opwb.fitting.modelset.choose_family (lowest AIC among interior fits "
            f"not rejected by bootstrap KS/AD/AD-up at 5%); seed {args.seed}. Regenerate with "
            f"`python -m opwb.fitting.modelset` (notebook 02 shows the comparison).")
    print(save_model_set(models, args.out, note=note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
