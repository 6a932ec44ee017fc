"""A fitted model set: one (frequency, severity) pair per cell, chosen by a stated rule.

One rule chooses the severity of every cell, in notebook 02, the scenario base, the app and
every later notebook (:func:`choose_family`):

1. every family of :data:`~opwb.fitting.families.SEVERITY_FAMILIES` is fitted by
   left-truncated maximum likelihood (:func:`~opwb.fitting.mle.fit_severity`);
2. a family is **credible** when its fit has status ``"ok"`` (an identified interior
   maximum), a finite mean (unless ``allow_infinite_mean=True``), and its tail is not
   rejected by the truncation-aware upper-tail Anderson–Darling test (AD-up, parametric
   bootstrap, p ≥ ``level``); a family whose bootstrap gave no p-value because too many
   refits failed (:data:`~opwb.fitting.gof.MIN_USABLE_SHARE`) is not credible: its tail
   could not be tested (with ``n_boot = 0`` no family is tested, and the reason says so);
3. the credible family with the lowest AIC is chosen; every other family is listed with
   the reason it was not.

A cell with no credible family raises :class:`ValueError` naming each family and why.

``data/severity_models.json`` (all bundled losses) and ``data/severity_models_without_cd.json``
(the same without the CD incident) ship the bundled sets, written by
``python -m opwb.fitting.modelset`` with ``allow_infinite_mean=True``: the scenario base
admits infinite-mean severities because it always simulates them under a severity cap. A set remembers a fingerprint of the losses it was
fitted on (:func:`losses_fingerprint`, a hash: no loss is stored), so :func:`models_for`
uses a saved set only for exactly those losses and fits anew otherwise.

The frequencies are fitted with each year's exposure (:func:`~opwb.fitting.frequency.annual_counts`,
:func:`~opwb.fitting.frequency.year_exposure`) when the losses come with an observation window
(``losses.attrs["observation"]``, or ``observation=``): a window that covers part of a year
counts that year for the part observed.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from opwb.data.schema import collected
from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.frequency import FrequencyFit, annual_counts, fit_frequency
from opwb.fitting.gof import DEFAULT_N_BOOT, MIN_USABLE_SHARE, comparison_table, fit_all
from opwb.fitting.result import SeverityFit

__all__ = ["CellFit", "ModelSet", "choose_family", "fit_model_set", "save_model_set",
           "load_model_set", "model_set_doc", "model_set_from_doc", "models_for",
           "losses_fingerprint", "refit_families", "DEFAULT_MODEL_FILE", "BUNDLED_MODEL_FILES",
           "TAIL_TEST_LEVEL"]

DEFAULT_MODEL_FILE = "severity_models.json"
BUNDLED_MODEL_FILES = ("severity_models.json", "severity_models_without_cd.json")
TAIL_TEST_LEVEL = 0.05
"""Level of the AD-up tail test in the choice rule."""
AIC_TIE = 1e-6


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


@dataclass(frozen=True)
class ModelSet:
    """Chosen cell models with what they were fitted on and by which rule.

    Behaves as a read-only mapping ``cell -> CellFit`` (``models["IF"]``, ``list(models)``).

    Attributes
    ----------
    cells : dict of cell -> CellFit
    threshold : float
        Collection threshold (KRW).
    fingerprint : str
        :func:`losses_fingerprint` of the losses the set was fitted on.
    allow_infinite_mean : bool
        Whether infinite-mean severities could be chosen.
    note : str
    """

    cells: dict[str, CellFit]
    threshold: float
    fingerprint: str = ""
    allow_infinite_mean: bool = False
    note: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, cell: str) -> CellFit:
        return self.cells[cell]

    def __iter__(self):
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)

    def __contains__(self, cell) -> bool:
        return cell in self.cells

    def keys(self):
        return self.cells.keys()

    def values(self):
        return self.cells.values()

    def items(self):
        return self.cells.items()


# --------------------------------------------------------------------------- the rule
def _excluded(row: pd.Series, allow_infinite_mean: bool, level: float) -> str | None:
    """Why a family is not credible, in a few words (the table has every warning)."""
    if row["status"] == "not fitted":
        return f"could not be fitted: {row['warnings']}"
    if row["status"] != "ok":
        limit = row.get("limit") or ""
        return f"status {row['status']}" + (f" (limit {limit})" if limit else "")
    if not bool(row["finite_mean"]) and not allow_infinite_mean:
        return (f"infinite mean (tail index ξ = {row['tail_index']:.2f} ≥ 1); allowed only with "
                "allow_infinite_mean=True and a severity cap")
    p = row["p_adup"]
    if isinstance(p, float) and math.isnan(p):
        used, failed = _boot_counts(row)
        if used + failed == 0:
            return None                    # not tested (n_boot = 0): said in the reason
        return (f"tail test gave no p-value: {failed} of {used + failed} bootstrap refits "
                f"failed, leaving {used} (at least {MIN_USABLE_SHARE:.0%} needed)")
    if p < level:
        return f"tail rejected by AD-up (bootstrap p = {p:.2f} < {level:g})"
    return None


def _boot_counts(row: pd.Series) -> tuple[int, int]:
    """(bootstrap samples used, failed) of a table row (0, 0 when not recorded)."""
    def count(key: str) -> int:
        v = row.get(key, 0)
        return 0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
    return count("boot_used"), count("boot_failed")


def choose_family(table: pd.DataFrame, *, allow_infinite_mean: bool = False,
                  level: float = TAIL_TEST_LEVEL) -> tuple[str, str]:
    """The family the rule chooses from a :func:`opwb.fitting.gof.comparison_table`, and why.

    Parameters
    ----------
    table : pandas.DataFrame
        A comparison table (its ``boot_used`` and ``boot_failed`` columns tell a tail test
        that could not be run, for too many failed refits, from no bootstrap at all).
    allow_infinite_mean : bool
        Let families with tail index ξ ≥ 1 be credible.
    level : float
        Level of the AD-up tail test.

    Returns
    -------
    (family, reason)
        ``reason`` names the rule, the chosen family's AIC and tail test, and every other
        family with the reason it was not chosen.

    Raises
    ------
    ValueError
        No credible family; the message lists each family and why it was excluded.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    why = {r["family"]: _excluded(r, allow_infinite_mean, level) for _, r in table.iterrows()}
    credible = table[[why[f] is None for f in table["family"]]]
    excluded = "; ".join(f"{f}: {w}" for f, w in why.items() if w is not None)
    rule = (f"status ok, {'any mean' if allow_infinite_mean else 'finite mean'}, "
            f"AD-up p ≥ {level:g}")
    if credible.empty:
        raise ValueError(f"no credible severity family ({rule}). " + excluded)
    # AICs within 1e-6 are one value (Lomax and GPD are the same model above a threshold):
    # the tie goes to the family listed first in the registry, not to rounding noise
    ties = credible[credible["aic"] <= credible["aic"].min() + AIC_TIE]
    order = {name: i for i, name in enumerate(SEVERITY_FAMILIES)}
    best = ties.loc[min(ties.index, key=lambda i: order.get(ties.at[i, "family"], len(order)))]
    tested = not (isinstance(best["p_adup"], float) and math.isnan(best["p_adup"]))
    tail = (f"AD-up p = {best['p_adup']:.2f}" if tested
            else "tail not tested (no bootstrap: n_boot = 0)")
    others = [f for f in credible["family"] if f != best["family"]]
    reason = (f"{best['family']}: lowest AIC ({best['aic']:,.1f}) among the {len(credible)} "
              f"credible families ({rule}); {tail}; tail index ξ = {best['tail_index']:.2f}."
              + (f" Also credible: {', '.join(others)}." if others else "")
              + (f" Not credible — {excluded}." if excluded else ""))
    return str(best["family"]), reason


# --------------------------------------------------------------------------- fitting
def _count_years(losses: pd.DataFrame, threshold: float, by: str, observation
                 ) -> tuple[list[int], list[float]] | None:
    """The years and exposures the frequency fits use, or None when they are those of the
    data alone (every calendar year from the first to the last loss, each whole)."""
    if observation is None or observation is False:
        return None
    counts = annual_counts(losses, by=by, threshold=threshold, observation=observation)
    exposure = counts.attrs["exposure"]
    years = [int(y) for y in exposure.index]
    if bool((exposure == 1.0).all()) and not losses.empty:
        plain = annual_counts(losses, by=by, threshold=threshold, observation=False)
        if years == [int(y) for y in plain.index]:
            return None
    return years, [float(e) for e in exposure]


def losses_fingerprint(losses: pd.DataFrame, threshold: float, *, by: str = "event_type",
                       observation=None) -> str:
    """SHA-256 of the sorted (cell, gross loss, occurrence year) of the collected losses,
    and of the counts' years and exposures when an observation window changes them.

    Identifies the data a model set was fitted on without storing any loss. A window of
    whole calendar years from the first to the last loss's year gives the fingerprint of
    the losses without a window (the same counts, the same fits); any other window (a
    partial year, or years without losses at either end) adds its years and exposures.

    Parameters
    ----------
    losses : pandas.DataFrame
        Canonical loss events.
    threshold : float
        Collection threshold (KRW).
    by : str
        Cell column.
    observation : (start, as_of) or False, optional
        Observation window (default ``losses.attrs.get("observation")``; ``False``: none).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"event_type": ["IF", "EF"], "gross_loss": [3e7, 2e7],
    ...                    "occurrence_date": pd.to_datetime(["2005-01-01", "2006-03-01"])})
    >>> losses_fingerprint(df, 1e7) == losses_fingerprint(df.iloc[::-1], 1e7)
    True
    >>> losses_fingerprint(df, 1e7) == losses_fingerprint(
    ...     df, 1e7, observation=("2005-01-01", "2006-12-31"))
    True
    >>> losses_fingerprint(df, 1e7) == losses_fingerprint(
    ...     df, 1e7, observation=("2005-01-01", "2006-06-30"))
    False
    """
    if observation is None:
        observation = losses.attrs.get("observation")
    keep = losses[collected(losses["gross_loss"], threshold)]
    rows = sorted(zip(keep[by].astype(str), keep["gross_loss"].astype(float),
                      pd.to_datetime(keep["occurrence_date"]).dt.year.astype(int)))
    doc = {"threshold": float(threshold), "by": by, "rows": rows}
    window = _count_years(losses, threshold, by, observation)
    if window is not None:
        doc["years"], doc["exposure"] = window
    text = json.dumps(doc)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fit_model_set(losses: pd.DataFrame, threshold: float, *, families: Iterable[str] | None = None,
                  n_boot: int | None = None, seed: int = 0, by: str = "event_type",
                  cells: Iterable[str] | None = None, allow_infinite_mean: bool = False,
                  level: float = TAIL_TEST_LEVEL,
                  progress: Callable[[float, str], None] | None = None,
                  observation=None) -> tuple[ModelSet, dict[str, pd.DataFrame]]:
    """Fit every family to every cell and choose one per cell by :func:`choose_family`.

    Parameters
    ----------
    losses : DataFrame
        Canonical loss events (``opwb.load_losses``); losses at or above ``threshold`` are
        used.
    threshold : float
        Collection threshold (KRW).
    families : iterable of str, optional
        Candidate families (default: all registered).
    n_boot, seed : bootstrap size and seed of the goodness-of-fit p-values.
    by : str
        Cell column (``"event_type"``).
    allow_infinite_mean : bool
        Let infinite-mean severities compete (use them only with a severity cap).
    progress : callable(fraction, text), optional
    observation : (start, as_of) or False, optional
        Observation window (dates, both days included); default
        ``losses.attrs.get("observation")``, ``False``: none. Each year's count is fitted
        with its exposure (:func:`~opwb.fitting.frequency.year_exposure`, years), so a
        partial first or last year does not lower the frequency; without a window every
        calendar year from the first to the last loss counts as a whole year.

    Returns
    -------
    (ModelSet, tables)
        The chosen models and, per cell, the comparison table
        (:func:`opwb.fitting.gof.comparison_table`).

    Raises
    ------
    ValueError
        A cell with no credible family (the message names the cell and every family's
        reason).
    """
    n_boot = DEFAULT_N_BOOT if n_boot is None else n_boot
    report = progress or (lambda frac, text: None)
    if observation is None:
        observation = losses.attrs.get("observation")
    counts = annual_counts(losses, by=by, threshold=threshold, observation=observation)
    exposure = counts.attrs["exposure"].to_numpy(float)
    cells = list(counts.columns) if cells is None else list(cells)
    chosen, tables = {}, {}
    for i, cell in enumerate(cells):
        report(i / max(len(cells), 1), f"{cell} 적합 (fitting {cell})")
        x = losses.loc[(losses[by] == cell) & collected(losses["gross_loss"], threshold),
                       "gross_loss"].to_numpy(float)
        fits = fit_all(x, threshold, families)
        tables[cell] = comparison_table(fits, x, n_boot=n_boot, seed=seed)
        try:
            family, why = choose_family(tables[cell], allow_infinite_mean=allow_infinite_mean,
                                        level=level)
        except ValueError as exc:
            raise ValueError(f"{by} {cell} ({x.size} losses at or above "
                             f"{threshold:,.0f} KRW): {exc}") from None
        chosen[cell] = CellFit(fit_frequency(counts[cell].to_numpy(), threshold=threshold,
                                             exposure=exposure), fits[family], why)
    report(1.0, "완료 (done)")
    note = (f"Chosen by opwb.fitting.modelset.choose_family: lowest AIC among the credible "
            f"families (status ok, {'any mean' if allow_infinite_mean else 'finite mean'}, "
            f"AD-up bootstrap p ≥ {level:g}, B = {n_boot}, seed {seed}); threshold "
            f"{threshold:,.0f} KRW, losses at or above it.")
    window = _count_years(losses, threshold, by, observation)
    if window is not None:
        start, as_of = observation
        note += (f" Frequencies per year of exposure: observation window "
                 f"{pd.Timestamp(start):%Y-%m-%d} – {pd.Timestamp(as_of):%Y-%m-%d}, "
                 f"{sum(window[1]):.2f} years over {len(window[0])} calendar years.")
    fingerprint = losses_fingerprint(losses, threshold, by=by, observation=observation)
    return ModelSet(chosen, float(threshold), fingerprint, allow_infinite_mean, note,
                    tables), tables


# --------------------------------------------------------------------------- files
def refit_families(models, losses: pd.DataFrame, threshold: float, observation=None):
    """``models``' families (frequency and severity, cell by cell) re-estimated on
    ``losses`` at ``threshold`` (KRW) with the observation window ``observation`` (default
    ``losses.attrs["observation"]``), by left-truncated maximum likelihood at ``threshold``:
    a run comparison's ``data`` state (:mod:`opwb.runs.compare`) and the fitted model at
    another collection threshold (:mod:`opwb.decision.turning`).

    Raises
    ------
    ValueError
        The data's event types differ from the model set's (a cell the data lack, or a new
        one), or a cell cannot be fitted at ``threshold`` (:func:`opwb.fitting.mle.fit_severity`).
    """
    from opwb.data.schema import collected
    from opwb.fitting.frequency import annual_counts, fit_frequency
    from opwb.fitting.mle import fit_severity
    if observation is None:
        observation = losses.attrs.get("observation")
    counts = annual_counts(losses, by="event_type", threshold=threshold,
                           observation=observation)
    exposure = counts.attrs["exposure"].to_numpy(float)
    if set(counts.columns) != set(models.keys()):
        raise ValueError(f"the event types differ: the model set has {sorted(models.keys())}, "
                         f"the data {sorted(counts.columns)}")
    cells = {}
    for cell, m in models.items():
        x = losses.loc[(losses["event_type"] == cell) & collected(losses["gross_loss"],
                                                                  threshold),
                       "gross_loss"].to_numpy(float)
        sev = fit_severity(x, m.severity.family, threshold)
        freq = fit_frequency(counts[cell].to_numpy(), m.frequency.family, exposure=exposure,
                             threshold=threshold)
        cells[cell] = CellFit(freq, sev, f"{m.severity.family} (the earlier run's family), "
                              "re-estimated on the new data")
    return ModelSet(cells, float(threshold),
                    losses_fingerprint(losses, threshold, observation=observation),
                    models.allow_infinite_mean, "re-estimated with the earlier run's families")


def model_set_doc(models: ModelSet | Mapping[str, CellFit], *, note: str = "") -> dict:
    """A model set as a plain JSON-able dict: what :func:`save_model_set` writes and a run
    record keeps (:mod:`opwb.data.runstore`).

    Parameters
    ----------
    models : ModelSet or mapping of cell -> CellFit
        The chosen models (a plain mapping has no threshold, fingerprint or note).
    note : str, optional
        The note to keep (default: the set's own).

    Returns
    -------
    dict
        ``{"kind": "opwb_model_set", "note", "threshold", "fingerprint",
        "allow_infinite_mean", "cells": {cell: {"frequency", "severity", "reason"}}}``;
        numbers are Python floats and ints (NaN and ±inf kept). No loss is in it: only
        the fitted parameters and :func:`losses_fingerprint`, a hash.

    Examples
    --------
    >>> models = load_model_set()
    >>> doc = model_set_doc(models)
    >>> doc["kind"], sorted(doc["cells"]) == sorted(models)
    ('opwb_model_set', True)
    >>> again = model_set_from_doc(doc)
    >>> all(again[c].severity.params == models[c].severity.params for c in models)
    True
    """
    meta = models if isinstance(models, ModelSet) else None
    doc = {"kind": "opwb_model_set", "note": note or (meta.note if meta else ""),
           "threshold": meta.threshold if meta else None,
           "fingerprint": meta.fingerprint if meta else "",
           "allow_infinite_mean": meta.allow_infinite_mean if meta else False,
           "cells": {cell: {"frequency": m.frequency.to_dict(), "severity": m.severity.to_dict(),
                            "reason": m.reason} for cell, m in models.items()}}
    return json.loads(json.dumps(doc, default=_jsonable))


def model_set_from_doc(doc: Mapping, *, source: str = "") -> ModelSet:
    """The :class:`ModelSet` of a doc written by :func:`model_set_doc` (a model-set file's
    contents, or a recorded run's model set).

    Parameters
    ----------
    doc : mapping
        The doc.
    source : str, optional
        Where it came from (a file, ``"run 2007Q1"``), for the error message.

    Raises
    ------
    ValueError
        ``doc`` is not an opwb model set (its ``kind`` is not ``"opwb_model_set"``).
    """
    if not isinstance(doc, Mapping) or doc.get("kind") != "opwb_model_set":
        kind = doc.get("kind") if isinstance(doc, Mapping) else type(doc).__name__
        where = f"{source}: " if source else ""
        raise ValueError(f"{where}not an opwb model set (kind={kind!r})")
    cells = {cell: CellFit(FrequencyFit.from_dict(d["frequency"]),
                           SeverityFit.from_dict(d["severity"]), d.get("reason", ""))
             for cell, d in doc["cells"].items()}
    threshold = doc.get("threshold")
    if threshold is None:
        threshold = next(iter(cells.values())).threshold if cells else 0.0
    return ModelSet(cells, float(threshold), str(doc.get("fingerprint", "")),
                    bool(doc.get("allow_infinite_mean", False)), str(doc.get("note", "")))


def save_model_set(models: ModelSet | Mapping[str, CellFit], path, *, note: str = "") -> Path:
    """Write a model set as indented JSON (human-readable, UTF-8; :func:`model_set_doc`);
    returns the path."""
    doc = model_set_doc(models, note=note)
    path = Path(path)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def load_model_set(path=None) -> ModelSet:
    """Read a model set (default: the bundled ``data/severity_models.json``;
    :func:`model_set_from_doc`)."""
    if path is None:
        from opwb.data.bundled import data_path
        path = data_path(DEFAULT_MODEL_FILE)
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    return model_set_from_doc(doc, source=str(path))


def models_for(losses: pd.DataFrame, threshold: float, *, allow_infinite_mean: bool = False,
               saved: Iterable[str | Path] | None = None, observation=None,
               **fit_options) -> ModelSet:
    """The model set of ``losses``: a saved set fitted on exactly these losses with the same
    options, else a new fit (:func:`fit_model_set`).

    ``saved`` lists model-set files to look in (default: the bundled ones); a file is used
    only when its fingerprint equals :func:`losses_fingerprint` of ``losses`` and its
    ``allow_infinite_mean`` matches. ``observation`` (default
    ``losses.attrs.get("observation")``) is the observation window of :func:`fit_model_set`;
    it enters the fingerprint only when it changes the counts' years or exposures.
    """
    if saved is None:
        from opwb.data.bundled import data_path
        saved = [data_path(name) for name in BUNDLED_MODEL_FILES]
    if observation is None:
        observation = losses.attrs.get("observation")
    fingerprint = losses_fingerprint(losses, threshold, by=fit_options.get("by", "event_type"),
                                     observation=observation)
    for path in saved:
        path = Path(path)
        if not path.is_file():
            continue
        head = json.loads(path.read_text(encoding="utf-8"))
        if (head.get("fingerprint") == fingerprint
                and bool(head.get("allow_infinite_mean", False)) == allow_infinite_mean):
            return load_model_set(path)
    return fit_model_set(losses, threshold, allow_infinite_mean=allow_infinite_mean,
                         observation=observation, **fit_options)[0]


def main(argv=None) -> int:
    """``python -m opwb.fitting.modelset [--case PATH]``: refit a case's saved model sets
    (the files its ``models`` names: with and, when it has reference incidents, without
    them) from its losses — for the bundled case ``data/severity_models*.json``."""
    import argparse

    from opwb.data.case import open_case
    ap = argparse.ArgumentParser(description="Refit a case's saved model sets (default: the "
                                 "bundled case's data/severity_models*.json)")
    ap.add_argument("--case", help="case file (default: $OPWB_CASE, else the bundled case)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    case = open_case(args.case)
    losses = case.load_losses()
    ids = [i.event_id for i in case.incidents]
    variants = [(losses, "all the case's losses")]
    if ids:
        variants.append((losses[~losses["event_id"].isin(ids)],
                         "the case's losses without its reference incidents "
                         + ", ".join(ids)))
    files = case.paths("models")
    if len(files) < len(variants):
        ap.error(f"the case's models names {len(files)} file(s); {len(variants)} needed "
                 "(with and without the reference incidents)")
    for path, (data, what) in zip(files, variants):
        models, _ = fit_model_set(data, case.threshold, seed=args.seed,
                                  allow_infinite_mean=True)
        note = (f"Model set fitted on {what} ({case.path('losses').name}). {models.note} "
                f"Regenerate with `python -m opwb.fitting.modelset` (notebook 02 shows the "
                f"comparison).")
        print(save_model_set(models, path, note=note))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def credible_families(table: pd.DataFrame, *, allow_infinite_mean: bool = False,
                      level: float = TAIL_TEST_LEVEL) -> pd.DataFrame:
    """The rows of a :func:`opwb.fitting.gof.comparison_table` that :func:`choose_family`'s
    rule deems credible (status ok, a mean allowed, the tail not rejected by AD-up at
    ``level``), in the table's order (by AIC)."""
    keep = [_excluded(r, allow_infinite_mean, level) is None for _, r in table.iterrows()]
    return table[keep]
