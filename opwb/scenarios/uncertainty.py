"""Parameter uncertainty of capital and of the bond's relief: how much would the figures move
if the fitted parameters were different?

Method: a parametric bootstrap (Efron & Tibshirani 1993, *An Introduction to the Bootstrap*,
§6.5) of the loss data, refitted and re-simulated with common random numbers; percentile
intervals (ibid., §13.3). For every *world* ``w = 0 .. n_worlds - 1``:

1. **Data again.** For each cell of the fitted model set, the observation period is drawn
   again from the fitted model: ``T`` annual counts (``T``: the years the frequency was
   fitted on) from the fitted frequency and as many losses from the fitted severity
   conditional on exceeding the collection threshold ``H``.
2. **Refit, same model choice, redraw rule** (:func:`opwb.scenarios.worlds.refit_world`).
   The cell's frequency family (a negative binomial falls back to the Poisson when the
   world's counts are not over-dispersed: its maximum likelihood limit) and its severity
   family are refitted by left-truncated maximum likelihood
   (:func:`opwb.fitting.fit_frequency`, :func:`opwb.fitting.fit_severity`). The family is held fixed: the model-choice rule is
   not re-run in each world. A draw whose refit cannot be used — fewer losses than the
   family has parameters, a frequency or severity that cannot be fitted, a severity fit
   that is not identified (status ``degenerate`` or ``not converged``) or has a non-finite
   parameter — is **drawn again** from the next stream of the same (world, cell), up to
   :data:`MAX_ATTEMPTS` draws. So **no world is dropped** (a dropped world would leave the
   intervals to the worlds whose data happen to be fittable, silently); the worlds are the
   bootstrap conditional on data the family can be fitted to, and every redraw is counted
   with its reason (:attr:`UncertaintyResult.redraws`, the ``draws`` column of
   :attr:`UncertaintyResult.fits`). In cells with tens of losses a redraw is rare; in a
   thin cell (five losses) it is what lets every world hold the cell. A cell whose data
   still cannot be fitted after :data:`MAX_ATTEMPTS` draws is an error naming the cell,
   the world and the reasons. The predictive model (:mod:`opwb.decision.predictive`)
   refits its worlds by the same rule.
3. **Simulate with common random numbers.** ``n_years`` years with the *same* ``seed`` in
   every world (and for the fitted model), under the same severity cap: the worlds differ by
   their parameters, not by fresh Monte Carlo noise.
4. **Figures.** Every alternative is evaluated (:func:`opwb.scenarios.evaluation.evaluate_many`):
   gross and net regulatory capital, the bond's regulatory relief and its net benefit.

The interval at ``level`` is the ``(1 ± level) / 2`` quantiles of the worlds' figures; the
fitted model's figures stand beside them with their Monte Carlo standard errors;
``p_best`` is the share of worlds in which an alternative has the highest net benefit.

Random streams are keyed, never positional: draw ``a = 0, 1, ...`` of world ``w``'s data
for cell ``c`` comes from ``SeedSequence(seed, spawn_key=(cell_key("bootstrap|" + c), w,
a))``; the simulation uses the engine's (cell, block of years) streams. The same arguments
give the same numbers in this process or on a Dask cluster, whatever the number of workers
(work units: (world, cell) for the refits, (world, cell, block of years) for the
simulation, one evaluation per world).

What is where: this module holds :func:`parameter_uncertainty` (the arguments, the worlds
put together into intervals, ``p_best`` and the redraw counts) and
:class:`UncertaintyResult`. One world — the redraw rule (:func:`refit_world`,
:class:`WorldRefit`, :data:`MAX_ATTEMPTS`, :data:`REDRAW_REASONS`) and running the worlds
in this process or on a Dask cluster (:func:`opwb.scenarios.worlds.run_world`,
:func:`opwb.scenarios.worlds.run_worlds`) — is :mod:`opwb.scenarios.worlds`; the rule's
names are importable from here too.
"""
from __future__ import annotations
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opwb.data.schema import COLLECTION_THRESHOLD
from opwb.fitting.modelset import ModelSet, models_for
from opwb.insurance.programme import Programme
from opwb.scenarios.alternatives import Alternative, check_alternative
from opwb.scenarios.base import (
    BBB_POLICY_ID,
    check_bond,
    without_incidents,
    DEFAULT_SEVERITY_CAP,
    ScenarioSettings,
    _keep_levels,
    cell_models,
)
from opwb.scenarios.worlds import (
    FITTED,
    MAX_ATTEMPTS,
    NO_ALTERNATIVE,
    REDRAW_REASONS,
    UNCERTAINTY_FIGURES,
    WorldRefit,
    WorldSpec,
    refit_world,
    run_world,
    run_worlds,
)

__all__ = ["UNCERTAINTY_FIGURES", "NO_ALTERNATIVE", "MAX_ATTEMPTS", "REDRAW_REASONS",
           "WorldRefit", "refit_world", "UncertaintyResult", "parameter_uncertainty"]


# --------------------------------------------------------------------------- result
@dataclass(frozen=True)
class UncertaintyResult:
    """Intervals for capital and relief under parameter uncertainty (amounts in KRW).

    Attributes
    ----------
    table : DataFrame
        Index (``alternative``, ``figure``); columns ``fitted`` (the fitted model's figure),
        ``fitted_se`` (its Monte Carlo standard error), ``lower``, ``median``, ``upper``
        (percentiles of the worlds at ``(1 - level) / 2``, 0.5, ``(1 + level) / 2``), ``std``
        (standard deviation over the worlds) and ``n_worlds`` (worlds used: all of them).
    p_best : Series
        Per alternative, the share of worlds in which its net benefit is the highest.
    worlds : DataFrame
        One row per (world, alternative): the figures of every world.
    fits : DataFrame
        One row per (world, cell): the refitted families, mean count, severity parameters,
        status (``ok`` or ``edge``: the redraw rule uses no other), tail index and
        ``draws``, the data draws the world's cell took (1: the first; 0 for the fitted
        model, world ``-1``).
    redraws : DataFrame
        One row per cell (index ``cell``): ``worlds`` (worlds whose data for the cell were
        drawn again), ``redraws`` (draws rejected in all), ``max_draws`` (the most draws one
        world took) and, per reason of :data:`REDRAW_REASONS`, the draws rejected for it.
    level, n_worlds, n_years, seed : the run's settings.
    method : str
        The method in one paragraph (for a report's footnote).
    """

    table: pd.DataFrame
    p_best: pd.Series
    worlds: pd.DataFrame
    fits: pd.DataFrame
    redraws: pd.DataFrame
    level: float
    n_worlds: int
    n_years: int
    seed: int
    method: str = field(repr=False, default="")

    def redrawn(self) -> pd.DataFrame:
        """The rows of :attr:`redraws` of the cells whose data were drawn again."""
        r = self.redraws
        return r[r["redraws"] > 0] if len(r) else r

    def interval(self, alternative: str, figure: str) -> tuple[float, float]:
        """(lower, upper) of one figure of one alternative (KRW)."""
        row = self.table.loc[(alternative, figure)]
        return float(row["lower"]), float(row["upper"])

    def status_counts(self) -> pd.DataFrame:
        """Refit statuses per cell (counts over the worlds)."""
        f = self.fits[self.fits["world"] != FITTED]
        return f.groupby(["cell", "status"]).size().unstack(fill_value=0)

    def display(self, unit: str = "억") -> pd.DataFrame:
        """The table as text in 억원 with Korean figure names (for notebooks and the app)."""
        from opwb.data.units import format_krw
        from opwb.scenarios.evaluation import METRIC_LABELS

        labels = {**METRIC_LABELS, "regulatory_gross_capital":
                  "규제자본 (보험 전) (regulatory capital gross)"}
        pct = f"{self.level:.0%}"
        out = pd.DataFrame({
            "적합 모형 (fitted)": [format_krw(v, unit=unit, digits=0) for v in self.table["fitted"]],
            f"{pct} 구간 하한 (lower)": [format_krw(v, unit=unit, digits=0)
                                       for v in self.table["lower"]],
            f"{pct} 구간 상한 (upper)": [format_krw(v, unit=unit, digits=0)
                                       for v in self.table["upper"]],
        }, index=pd.MultiIndex.from_tuples(
            [(a, labels.get(f, f)) for a, f in self.table.index],
            names=["대안 (alternative)", "항목 (figure)"]))
        return out


def _table(rows: list[dict], fitted: dict, names: list[str], figures: Sequence[str],
           level: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    worlds = pd.DataFrame(rows)
    lo, hi = (1 - level) / 2, (1 + level) / 2
    out = []
    for name in names:
        w = worlds[worlds["alternative"] == name] if len(worlds) else worlds
        for f in figures:
            if f not in fitted[name]:
                continue
            x = w[f].to_numpy(float) if len(w) else np.zeros(0)
            q = np.quantile(x, [lo, 0.5, hi]) if x.size else [np.nan] * 3
            out.append({"alternative": name, "figure": f, "fitted": fitted[name][f],
                        "fitted_se": fitted[name].get(f"{f}_se", np.nan), "lower": q[0],
                        "median": q[1], "upper": q[2],
                        "std": float(x.std(ddof=1)) if x.size > 1 else np.nan,
                        "n_worlds": int(x.size)})
    return pd.DataFrame(out).set_index(["alternative", "figure"]), worlds


def _p_best(worlds: pd.DataFrame, names: list[str]) -> pd.Series:
    if not names or len(worlds) == 0 or "net_benefit" not in worlds:
        return pd.Series(dtype=float, name="p_best")
    nb = worlds.pivot(index="world", columns="alternative", values="net_benefit")[names]
    best = pd.Series(np.asarray(names)[np.nanargmax(nb.to_numpy(float), axis=1)])
    share = best.value_counts(normalize=True).reindex(names, fill_value=0.0)
    share.index.name, share.name = "alternative", "p_best"
    return share


# --------------------------------------------------------------------------- the procedure
def _check_args(n_worlds, n_years, seed, level, alternatives) -> tuple[Alternative, ...]:
    for name, v, low in (("n_worlds", n_worlds, 2), ("n_years", n_years, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a fraction in (0, 1) (0.90 for a 90% interval), "
                         f"got {level!r}")
    if isinstance(alternatives, (Alternative, str)) or not isinstance(alternatives, Sequence):
        raise TypeError("alternatives must be a list of Alternative (may be empty: gross "
                        "capital only)")
    alts = tuple(check_alternative(a) for a in alternatives)
    names = [a.name for a in alts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"alternatives need distinct names; repeated: {dup}")
    return alts


def _spec(losses, programme, alternatives, *, n_years, seed, models, include_cd, threshold,
          severity_cap, settings, figures, incidents, bond_policy) -> WorldSpec:
    if not isinstance(programme, Programme):
        raise TypeError(f"programme must be an opwb Programme, got {type(programme).__name__}")
    if alternatives:
        check_bond(programme, bond_policy)
    unknown = sorted(set(figures) - set(UNCERTAINTY_FIGURES))
    if unknown:
        raise ValueError(f"unknown figures {unknown}; choose among {UNCERTAINTY_FIGURES}")
    if models is None:
        data = without_incidents(losses, incidents, include_cd)
        models = models_for(data, threshold, allow_infinite_mean=True)
    if not isinstance(models, ModelSet):
        raise TypeError(f"models must be a ModelSet, got {type(models).__name__}")
    models = ModelSet(dict(models.cells), models.threshold, models.fingerprint,
                      models.allow_infinite_mean, models.note)     # without the fit tables
    cells = cell_models(models, severity_cap=severity_cap)
    bond = [c for c in cells if programme[bond_policy].covers(c) > 0] \
        if bond_policy in programme.ids else []
    return WorldSpec(models, programme, alternatives, settings, int(n_years), int(seed),
                     severity_cap, include_cd, _keep_levels(programme, bond, cells),
                     tuple(figures), bond_policy)


def parameter_uncertainty(losses: pd.DataFrame | None, programme: Programme,
                          alternatives: Sequence[Alternative], *, n_worlds: int = 200,
                          n_years: int = 20_000, seed: int = 2005, client: Any = None,
                          models: ModelSet | None = None, include_cd: bool = True,
                          level: float = 0.90, threshold: float = COLLECTION_THRESHOLD,
                          severity_cap: float | None = DEFAULT_SEVERITY_CAP,
                          settings: ScenarioSettings = ScenarioSettings(),
                          figures: Sequence[str] = UNCERTAINTY_FIGURES,
                          incidents: Sequence[str] = (), bond_policy: str = BBB_POLICY_ID,
                          progress: Callable[[float, str], None] | None = None
                          ) -> UncertaintyResult:
    """Intervals for gross and net capital, the bond's relief and net benefit under
    parameter uncertainty (parametric bootstrap; see this module's docstring).

    Parameters
    ----------
    losses : DataFrame or None
        Canonical loss events (``opwb.load_losses``); the models are those of
        :func:`opwb.fitting.models_for` (the bundled set for the bundled losses). May be
        None when ``models`` is given.
    programme : Programme
        The bank's insurance programme (with the bond ``bond_policy`` when alternatives are
        given).
    alternatives : list of Alternative
        The bond's alternatives; empty: gross capital only.
    n_worlds : int
        Number of bootstrap worlds (>= 2; 200 gives the 5% and 95% percentiles from 10
        worlds each).
    n_years : int
        Simulated years per world (the same seed in every world).
    seed : int
        Root seed of the simulation and of the worlds' data.
    client : distributed.Client, optional
        Run on a Dask cluster (same numbers as in process); None: in this process.
    models : ModelSet, optional
        The fitted models to perturb (default from ``losses``).
    include_cd : bool
        With False the reference ``incidents`` (event ids) are taken out of ``losses``
        before fitting.
    level : float
        Interval level (0.90: the 5th and 95th percentiles of the worlds).
    threshold : float
        Collection threshold (KRW) when the models are fitted from ``losses``.
    severity_cap : float or None
        Maximum single loss (KRW) in every world's simulation (default 1조원).
    settings : ScenarioSettings
        α, cost of capital, valuation date and aggregation of the figures.
    figures : sequence of str
        Figures to give intervals for (:data:`UNCERTAINTY_FIGURES`).
    progress : callable ``(fraction, text)``, optional
        Called after every world (for the app's progress bar).

    Returns
    -------
    UncertaintyResult
        ``table`` (KRW) with the fitted figures, percentile intervals at ``level`` over
        all ``n_worlds`` worlds, ``p_best``, every world's figures and refits, and per cell
        the data drawn again and why (``redraws``).

    Raises
    ------
    ValueError, TypeError
        Bad arguments (non-positive counts, a level outside (0, 1), repeated alternative
        names, no bond in the programme, an infinite-mean refit without a severity cap).
    ValueError
        A cell whose resampled data cannot be refitted in :data:`MAX_ATTEMPTS` draws of one
        world (the message names the cell, the world and the reasons).

    Examples
    --------
    >>> from opwb.scenarios.spec import bundled_inputs
    >>> losses, programme, alts = bundled_inputs()
    >>> res = parameter_uncertainty(losses, programme, alts[:2], n_worlds=3, n_years=2000,
    ...                             seed=1)
    >>> lo, hi = res.interval(alts[1].name, "regulatory_gross_capital")
    >>> bool(lo <= hi), res.table.loc[alts[1].name].index.tolist()[:2]
    (True, ['regulatory_gross_capital', 'regulatory_net_capital'])
    >>> int(res.table["n_worlds"].min()), list(res.redraws.columns[:3])
    (3, ['worlds', 'redraws', 'max_draws'])
    """
    alts = _check_args(n_worlds, n_years, seed, level, alternatives)
    if losses is None and models is None:
        raise ValueError("give the losses or a fitted ModelSet (models=)")
    spec = _spec(losses, programme, alts, n_years=n_years, seed=seed, models=models,
                 include_cd=include_cd, threshold=threshold, severity_cap=severity_cap,
                 settings=settings, figures=figures, incidents=incidents,
                 bond_policy=bond_policy)
    report = progress or (lambda frac, text: None)
    total = int(n_worlds) + 1
    worlds = [FITTED, *range(int(n_worlds))]
    if client is None:
        results = (run_world(spec, w) for w in worlds)
    else:
        results = run_worlds(client, spec, worlds)
    done: dict[int, dict] = {}
    for k, res in enumerate(results, start=1):
        done[res["world"]] = res
        worlds_done = sum(w != FITTED for w in done)
        report(k / total, f"모수 불확실성: 세계 {worlds_done}/{n_worlds}개 완료 (parameter "
                          f"uncertainty: {worlds_done} of {n_worlds} worlds done)")
    return _result(spec, done, int(n_worlds), float(level))


def _redraw_table(done: Mapping[int, dict], cells: Sequence[str], n_worlds: int
                  ) -> pd.DataFrame:
    rows = []
    for c in cells:
        per_world = [done[w]["rejected"][c] for w in range(n_worlds)]
        n = Counter(r for rejected in per_world for r in rejected)
        rows.append({"cell": c, "worlds": sum(bool(r) for r in per_world),
                     "redraws": sum(map(len, per_world)),
                     "max_draws": 1 + max(map(len, per_world), default=0),
                     **{reason: n[reason] for reason in REDRAW_REASONS}})
    columns = ["cell", "worlds", "redraws", "max_draws", *REDRAW_REASONS]
    return pd.DataFrame(rows, columns=columns).set_index("cell")


def _result(spec: WorldSpec, done: dict[int, dict], n_worlds: int, level: float
            ) -> UncertaintyResult:
    fitted = done[FITTED]
    names = list(fitted["figures"])
    rows, fit_rows = [], list(fitted["fits"])
    for w in range(n_worlds):
        res = done[w]
        fit_rows += res["fits"]
        for name, figs in res["figures"].items():
            rows.append({"world": w, "alternative": name,
                         **{k: v for k, v in figs.items() if not k.endswith("_se")}})
    table, worlds = _table(rows, fitted["figures"], names, spec.figures, level)
    redraws = _redraw_table(done, list(spec.model_set), n_worlds)
    alt_names = [a.name for a in spec.alternatives]
    redrawn = redraws[redraws["redraws"] > 0]
    drawn_again = "; ".join(
        f"cell {c}: {int(r['redraws'])} draw(s) in {int(r['worlds'])} world(s) ("
        f"{', '.join(f'{k} × {int(r[k])}' for k in REDRAW_REASONS if r[k])})"
        for c, r in redrawn.iterrows()) or "none"
    method = (f"Parametric bootstrap of the loss data ({n_worlds} worlds; families held fixed, "
              f"parameters refitted by left-truncated maximum likelihood; data a refit cannot "
              f"use drawn again, up to {MAX_ATTEMPTS} draws, so that no world is left out), "
              f"each world simulated for {spec.n_years:,} years with the same seed "
              f"{spec.seed} (common random numbers); {level:.0%} percentile intervals (Efron & "
              f"Tibshirani 1993, §6.5, §13.3). Data drawn again: {drawn_again}.")
    return UncertaintyResult(table, _p_best(worlds, alt_names), worlds,
                             pd.DataFrame(fit_rows), redraws, level, n_worlds,
                             spec.n_years, spec.seed, method)
