"""Two recorded runs compared: what changed, why the headline figures moved, how the new
losses sit in the old model, and the figures over every run.

**Change attribution** (:func:`attribution`). The change of each headline figure of the cover
in force — net 99.9% VaR, net regulatory capital, the bond's regulatory relief — from run A to
run B is split by moving one input at a time from A's value to B's, in this order:

1. ``valuation_date`` — the residual-term haircuts (nothing else moves);
2. ``settings`` — the programme's policy terms, the severity cap, the confidence level, the
   cost of capital, the haircut convention and aggregation;
3. ``data`` — the model families A chose, re-estimated on B's data (at B's threshold and
   window): what the new losses do with the model choice held;
4. ``models`` — B's model choice (another family in a cell, or a frozen set).

Every state is evaluated on its own scenario base simulated with **B's seed and run length**
(:func:`opwb.scenarios.base.base_from_models`): the simulation's streams are keyed to (cell,
block) and its bootstrap weights to (seed, replicate, year), so consecutive states share
their simulated years (common random numbers) and each step's standard error is the paired
one — the standard deviation of the difference of the two states' bootstrap replicates
(:meth:`opwb.scenarios.figures.FigureContext.replicates`). The steps telescope: they add up to
the change between the re-evaluated ends exactly, and those ends reproduce the recorded
figures (checked; a run recorded with another seed or run length adds a first, unpaired step
``simulation``). The order matters where inputs interact (a data change seen at the new
valuation date); it is fixed and stated, as in the usual sequential attribution of P&L.

The ``data`` step needs B's losses (the record holds none): with B's case given it refits A's
families on them; without it, when A and B chose the same families in every cell, B's model
set *is* that refit (the models step is zero); otherwise data and models form one step, and
the comparison says so.

The **recommendation** has no additive attribution (it is a choice): for every state the
comparison shows the net benefit of B's recommended structure less A's on that state's model,
with its paired standard error — the step at which B's recommendation overtakes A's.

**Backtest** (:func:`backtest`): the losses of B's case that occurred after A's as-of date
(up to B's), per event type and in total, against A's model over that period (exposure in
years, :func:`opwb.data.periods.year_exposure`): the count against its distribution
(Poisson or negative binomial with the period's exposure), the aggregate loss's place in its
Monte Carlo distribution (mid-rank PIT), the losses above the model's 99% single-loss
quantile against the expected number, and a coverage test: how many event types fall outside
their central 90% interval against the binomial(k, 10%) expectation.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from opwb.fitting.modelset import refit_families
from opwb.runs.record import HEADLINE, programme_records

__all__ = ["compare_runs", "Comparison", "attribution", "backtest", "trends", "STEPS",
           "HEADLINE_KO", "inputs_changed", "refit_families", "run_name"]

#: The attribution's steps, in order: (key, Korean label).
STEPS = (("valuation_date", "평가일 (잔존기간 할인)"),
         ("settings", "설정 (보험계약 조건·단일손실 상한·신뢰수준·자본비용)"),
         ("data", "데이터 (같은 분포군을 새 데이터로 재추정)"),
         ("models", "모형 (분포군 선택)"))

#: The attribution's states as screens name them.
STATE_KO = {"start": "이전 실행 그대로", "valuation_date": "+ 평가일 변경",
            "settings": "+ 설정 변경", "data": "+ 새 데이터로 재추정",
            "models": "+ 새 모형 선택 (= 새 실행)"}

HEADLINE_KO = {"net_var": "보험 후 VaR 99.9%", "regulatory_net_capital": "규제자본 (보험 반영)",
               "bond_regulatory_relief": "BBB의 규제자본 경감"}

BACKTEST_SIMULATIONS = 20_000
"""Simulated periods of the backtest's predictive distribution (per event type)."""


# --------------------------------------------------------------------------- the runs
def _load(ref, store) -> dict:
    if isinstance(ref, Mapping):
        return dict(ref)
    if store is None:
        raise ValueError(f"run {ref!r}: name the store (store=...) to load a run by id or "
                         "label, or pass the run's record")
    return store.load(ref)


def run_name(run: dict) -> str:
    """A run's name on screens: its label, else ``run <id>``."""
    return str(run.get("label") or f"run {run.get('run_id', '?')}")


def _settings(run: dict, valuation_date=None):
    from opwb.scenarios.base import ScenarioSettings
    s = dict(run["spec"]["settings"])
    if valuation_date is not None:
        s["valuation_date"] = valuation_date
    s["return_periods"] = tuple(int(p) for p in s["return_periods"])
    return ScenarioSettings(**s)


def _models(run: dict, key: str):
    from opwb.fitting.modelset import model_set_from_doc
    if key not in run["models"]:
        raise ValueError(f"{run_name(run)} has no model set for base {key}")
    return model_set_from_doc(run["models"][key], source=f"{run_name(run)} base {key}")


def _programme(run: dict):
    from opwb.insurance.programme import Programme
    return Programme.from_frame(programme_records(run["programme"]))


@dataclass(frozen=True)
class _State:
    """The inputs of one evaluation (what the attribution moves one at a time)."""

    models: Any
    programme: Any
    settings: Any
    severity_cap: float | None
    bond_policy: str

    def replace(self, **kw) -> "_State":
        return dataclasses.replace(self, **kw)


def _state(run: dict, key: str) -> _State:
    spec = run["spec"]
    return _State(_models(run, key), _programme(run), _settings(run), spec["severity_cap"],
                  spec["bond_policy"])


class _Evaluator:
    """Evaluates states on bases simulated with one seed and run length (shared bases for
    states that differ only in settings)."""

    def __init__(self, n_years: int, seed: int, include_cd: bool):
        self.n_years, self.seed, self.include_cd = int(n_years), int(seed), include_cd
        self._bases: list[tuple[tuple, Any]] = []

    def base(self, st: _State):
        from opwb.scenarios.base import base_from_models
        key = (st.models, st.programme, st.severity_cap, st.bond_policy)
        for k, b in self._bases:
            if k[0] is key[0] and k[1] == key[1] and k[2] == key[2] and k[3] == key[3]:
                return b
        b = base_from_models(st.models, st.programme, include_cd=self.include_cd,
                             n_years=self.n_years, seed=self.seed,
                             severity_cap=st.severity_cap, bond_policy=st.bond_policy)
        self._bases.append((key, b))
        return b

    def figures(self, st: _State) -> dict[str, tuple[float, np.ndarray]]:
        from opwb.scenarios.evaluation import evaluate
        from opwb.scenarios.figures import context
        from opwb.scenarios.spec import current_cover
        base = self.base(st)
        res = evaluate(base, current_cover(base), st.settings)
        reps = context(base, st.settings).replicates(res._arrays)
        return {f: (float(res.metrics[f]), reps[f]) for f in HEADLINE}

    def gap(self, st: _State, alt_a, alt_b, ceilings: Mapping[str, float]
            ) -> tuple[float, float, bool]:
        """Net benefit of ``alt_b`` less ``alt_a`` on the state's model, its paired error,
        and whether ``alt_a`` meets the later run's appetite (``ceilings``) there."""
        from opwb.scenarios.evaluation import difference, evaluate_many
        base = self.base(st)
        ra, rb = evaluate_many(base, [alt_a, alt_b], st.settings)
        d = difference(base, rb, ra, st.settings, keys=("net_benefit",)).loc["net_benefit"]
        within = all(ra.metrics[k] <= v for k, v in ceilings.items())
        return float(d["difference"]), float(d["se"]), within


def _recorded(run: dict, key: str) -> dict[str, tuple[float, float]]:
    out = {}
    for r in run["figures"]:
        if r["base"] == key and r["scope"] == "total" and r["figure"] in HEADLINE:
            out[r["figure"]] = (r["value"], r["se"])
    return out


def _families(models) -> dict[str, tuple[str, str]]:
    return {c: (m.frequency.family, m.severity.family) for c, m in models.items()}


def attribution(a: dict, b: dict, *, case=None, key: str = "True",
                progress: Callable[[float, str], None] | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The change attribution of run ``a`` → ``b`` (records) on base ``key``.

    Parameters
    ----------
    a, b : dict
        Run records (:func:`opwb.runs.record.run_record` or ``RunStore.load``).
    case : opwb.data.case.Case, optional
        B's case: its losses give the ``data`` step (A's families re-estimated on them). It
        must be the case B was recorded from (same fingerprint).
    key : {"True", "False"}
        The base: with (``"True"``) or without the reference incidents.

    Returns
    -------
    (steps, recommendation, notes)
        ``steps``: one row per step (``STEPS``; plus ``simulation`` when the runs' seed or
        run length differ) and ``total``, with each headline figure's change and ``_se``
        (KRW), and ``recorded_total`` (B's recorded figure less A's) for the check;
        ``recommendation``: per state the net benefit of B's recommended structure less A's
        (``gap``, ``gap_se``) and whether A's structure meets B's appetite there
        (``a_within_b_appetite``); ``notes``: what the reader must know (merged steps, figures
        not reproduced).

    Raises
    ------
    ValueError
        A base missing in either run, or a case that is not B's.
    """
    from opwb.scenarios.alternatives import Alternative
    report = progress or (lambda f, t: None)
    notes: list[str] = []
    spec_a, spec_b = a["spec"], b["spec"]
    n, seed = spec_b["n_years"], spec_b["seed"]
    ev = _Evaluator(n, seed, key == "True")
    s0 = _state(a, key)
    states = [("start", s0)]
    s1 = s0.replace(settings=_settings(a, valuation_date=spec_b["settings"]["valuation_date"]))
    states.append(("valuation_date", s1))
    s2 = s1.replace(programme=_programme(b), settings=_settings(b),
                    severity_cap=spec_b["severity_cap"], bond_policy=spec_b["bond_policy"])
    states.append(("settings", s2))
    models_b = _models(b, key)
    same_families = (_families(s0.models) == _families(models_b)
                     and float(s0.models.threshold) == float(models_b.threshold))
    if same_families:
        refit = models_b
    elif case is not None:
        if case.fingerprint() != b["case"]["hash"]:
            raise ValueError(f"the case given ({case.name}) is not the case {run_name(b)} was "
                             "recorded from (its fingerprint differs)")
        from opwb.scenarios.base import without_incidents
        losses = case.load_losses()
        if key == "False":
            losses = without_incidents(losses, [i for i, _ in spec_b["incidents"]], False)
        refit = refit_families(s0.models, losses, spec_b["threshold"])
    else:
        refit = None
        notes.append(f"데이터와 모형 단계를 나누려면 {run_name(b)}의 사례(손실 데이터)가 필요합니다: "
                     "두 단계를 합쳐 보입니다 (the data and models steps are one: pass B's "
                     "case).")
    if refit is not None:
        states.append(("data", s2.replace(models=refit)))
    states.append(("models", s2.replace(models=models_b)))
    figs = []
    for i, (name, st) in enumerate(states):
        report(i / len(states), f"다시 계산하는 중: {STATE_KO[name]}")
        figs.append(ev.figures(st))
    rec_a, rec_b = _recorded(a, key), _recorded(b, key)
    rows = {}
    if (spec_a["n_years"], spec_a["seed"]) != (n, seed):
        rows["simulation"] = {}
        for f in HEADLINE:
            v, s = rec_a[f]
            rows["simulation"][f] = figs[0][f][0] - v
            rows["simulation"][f"{f}_se"] = math.hypot(s or 0.0, float(np.std(
                figs[0][f][1], ddof=1)))
    else:
        for f in HEADLINE:
            if not _close(figs[0][f][0], rec_a[f][0]):
                notes.append(f"{run_name(a)}의 기록된 {HEADLINE_KO[f]}가 다시 계산한 값과 다릅니다 "
                             f"({rec_a[f][0]:,.0f} → {figs[0][f][0]:,.0f} KRW): opwb 버전이 "
                             "바뀌었을 수 있습니다.")
    for (name, _), prev, cur in zip(states[1:], figs[:-1], figs[1:]):
        label = name if not (name == "models" and refit is None) else "data_models"
        rows[label] = {}
        for f in HEADLINE:
            # below one won a change is the rounding of two equal sums: zero
            rows[label][f] = _won(cur[f][0] - prev[f][0])
            rows[label][f"{f}_se"] = _won(float(np.std(cur[f][1] - prev[f][1], ddof=1)))
    for f in HEADLINE:
        if not _close(figs[-1][f][0], rec_b[f][0]):
            notes.append(f"{run_name(b)}의 기록된 {HEADLINE_KO[f]}가 다시 계산한 값과 다릅니다 "
                         f"({rec_b[f][0]:,.0f} → {figs[-1][f][0]:,.0f} KRW).")
    total = {}
    for f in HEADLINE:
        total[f] = sum(r[f] for r in rows.values())
        paired = float(np.std(figs[-1][f][1] - figs[0][f][1], ddof=1))
        total[f"{f}_se"] = (paired if "simulation" not in rows
                            else math.hypot(paired, rows["simulation"][f"{f}_se"]))
        total[f"recorded_{f}"] = rec_b[f][0] - rec_a[f][0]
    rows["total"] = total
    steps = pd.DataFrame.from_dict(rows, orient="index")
    steps.index.name = "step"
    # the recommendation: B's recommended structure against A's, state by state
    recs = []
    sa = (a.get("recommendation") or {}).get(key, {}).get("structure")
    sb = (b.get("recommendation") or {}).get(key, {}).get("structure")
    if sa and sb:
        from opwb.scenarios.spec import Appetite
        alt_a = Alternative(**{**sa, "name": f"{run_name(a)} 권고"})
        alt_b = Alternative(**{**sb, "name": f"{run_name(b)} 권고"})
        ceilings = Appetite(**spec_b["appetite"]).ceilings()
        for name, st in states:
            g, se, within = ev.gap(st, alt_a, alt_b, ceilings)
            recs.append({"state": name, "gap": g, "gap_se": se, "a_within_b_appetite": within})
    recommendation = pd.DataFrame(recs, columns=["state", "gap", "gap_se",
                                                 "a_within_b_appetite"])
    report(1.0, "완료 (done)")
    return steps, recommendation, notes


def _minus(frame: pd.DataFrame) -> pd.DataFrame:
    """Korean text cells with the typographic minus (as the answer card writes it)."""
    return frame.apply(lambda col: col.str.replace(r"^-", "−", regex=True))


def _won(x: float) -> float:
    """``x`` (KRW), or 0 when it is below one won (floating-point residue)."""
    return 0.0 if abs(x) < 1.0 else float(x)


def _close(x: float, y: float | None) -> bool:
    if y is None:
        return False
    return abs(x - y) <= 1e-9 * max(1.0, abs(x), abs(y))


# --------------------------------------------------------------------------- backtest
def _period_exposure(start_excl, end_incl) -> float:
    from opwb.data.periods import year_exposure
    start = pd.Timestamp(start_excl) + pd.Timedelta(days=1)
    end = pd.Timestamp(end_incl)
    if end < start:
        return 0.0
    return float(year_exposure((start, end)).sum())


def _count_dist(freq, t: float):
    """The count over ``t`` years of exposure: Poisson(μ t), or NB(mean μ t, size r) (NB2
    with exposure, as fitted: :func:`opwb.fitting.frequency.fit_frequency`)."""
    from scipy import stats
    mu = float(freq.params["mu"]) * t
    if freq.family == "poisson":
        return stats.poisson(mu)
    r = float(freq.params["r"])
    return stats.nbinom(r, r / (r + mu))


def backtest(a: dict, case, *, key: str = "True", n_sim: int = BACKTEST_SIMULATIONS
             ) -> pd.DataFrame | None:
    """The losses of ``case`` after run ``a``'s as-of date against ``a``'s model (see the
    module docstring). Returns None when the case holds no period after ``a``'s.

    Columns: ``event_type`` (``"TOTAL"`` last), ``exposure`` (years), ``count``,
    ``expected_count``, ``p_count`` (two-sided, exact), ``loss`` (KRW), ``expected_loss``,
    ``pit`` (mid-rank place of the loss in the simulated distribution, in [0, 1]),
    ``outside_90`` (outside the central 90% interval), ``large``, ``expected_large`` (losses
    above the model's 99% single-loss quantile) and ``p_large``. ``attrs["coverage_p"]``: the
    binomial test of the number of event types outside their 90% interval.
    """
    from scipy import stats

    from opwb.data.schema import collected
    from opwb.engine.distributions import severity_distribution
    from opwb.engine.streams import stream_key
    models = _models(a, key)
    as_of_a = a["case"]["observation"][1]
    losses = case.load_losses()
    if key == "False":
        from opwb.scenarios.base import without_incidents
        losses = without_incidents(losses, [i for i, _ in a["spec"]["incidents"]], False)
    as_of_b = case.observation[1]
    t = _period_exposure(as_of_a, as_of_b)
    if t <= 0:
        return None
    when = pd.to_datetime(losses["occurrence_date"])
    new = losses[(when > pd.Timestamp(as_of_a)) & (when <= pd.Timestamp(as_of_b))]
    cap = a["spec"]["severity_cap"]
    seed = int(a["spec"]["seed"])
    rows, total_sim, total_loss = [], np.zeros(n_sim), 0.0
    total_count, total_expected_count = 0, 0.0
    for cell, m in models.items():
        h = float(m.threshold)
        x = new.loc[(new["event_type"] == cell) & collected(new["gross_loss"], h),
                    "gross_loss"].to_numpy(float)
        counts = _count_dist(m.frequency, t)
        rng = np.random.default_rng(int(stream_key(seed, "backtest", cell)))
        k = counts.rvs(size=n_sim, random_state=rng)
        dist = severity_distribution(m.severity, cap)
        sf_h = float(m.severity.sf_threshold)
        draws = dist.isf(rng.random(int(k.sum())) * sf_h) if k.sum() else np.zeros(0)
        sim = np.bincount(np.repeat(np.arange(n_sim), k), weights=draws, minlength=n_sim)
        q99 = float(dist.isf(0.01 * sf_h))
        loss = float(x.sum())
        pit = (np.count_nonzero(sim < loss) + 0.5 * np.count_nonzero(sim == loss)) / n_sim
        large = int(np.count_nonzero(x > q99))
        exp_large = float(counts.mean()) * 0.01
        rows.append({"event_type": cell, "exposure": t, "count": int(x.size),
                     "expected_count": float(counts.mean()),
                     "p_count": _two_sided(counts, int(x.size)),
                     "loss": loss, "expected_loss": float(sim.mean()), "pit": pit,
                     "outside_90": bool(pit < 0.05 or pit > 0.95), "large": large,
                     "expected_large": exp_large,
                     "p_large": _two_sided(stats.poisson(exp_large), large)})
        total_sim += sim
        total_loss += loss
        total_count += int(x.size)
        total_expected_count += float(counts.mean())
    pit = (np.count_nonzero(total_sim < total_loss)
           + 0.5 * np.count_nonzero(total_sim == total_loss)) / n_sim
    rows.append({"event_type": "TOTAL", "exposure": t, "count": total_count,
                 "expected_count": total_expected_count, "p_count": math.nan,
                 "loss": total_loss, "expected_loss": float(total_sim.mean()), "pit": pit,
                 "outside_90": bool(pit < 0.05 or pit > 0.95),
                 "large": sum(r["large"] for r in rows),
                 "expected_large": sum(r["expected_large"] for r in rows), "p_large": math.nan})
    out = pd.DataFrame(rows)
    k_cells = len(models)
    outside = int(out["outside_90"].iloc[:-1].sum())
    out.attrs["coverage_outside"] = outside
    out.attrs["coverage_expected"] = 0.1 * k_cells
    out.attrs["coverage_p"] = float(stats.binomtest(outside, k_cells, 0.1).pvalue)
    out.attrs["period"] = (pd.Timestamp(as_of_a).date().isoformat(),
                           pd.Timestamp(as_of_b).date().isoformat())
    return out


def _two_sided(dist, k: int) -> float:
    """Two-sided p-value of count ``k``: twice the smaller tail, at most 1."""
    return float(min(1.0, 2 * min(dist.cdf(k), dist.sf(k - 1))))


# --------------------------------------------------------------------------- inputs
def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "없음" if v > 0 else str(v)
        from opwb.data.units import format_krw
        return format_krw(v) if abs(v) >= 1e6 else f"{v:g}"
    return str(v)


def inputs_changed(a: dict, b: dict) -> pd.DataFrame:
    """What differs between the runs' inputs: data (losses by event type), threshold,
    window, valuation date, settings, files, programme, models and versions; one row per
    item (``구분, 항목, A, B, 바뀜``)."""
    rows = []

    def add(group, item, va, vb, show=_fmt):
        rows.append({"구분": group, "항목": item, "A": show(va), "B": show(vb),
                     "바뀜": "예" if va != vb else ""})

    da, db = a.get("data", {}), b.get("data", {})
    ets = sorted(set(da.get("by_event_type", {})) | set(db.get("by_event_type", {})))
    for et in ets:
        ca = da.get("by_event_type", {}).get(et, {}).get("count", 0)
        cb = db.get("by_event_type", {}).get(et, {}).get("count", 0)
        rows.append({"구분": "데이터", "항목": f"{et} 손실 건수", "A": f"{ca:,}", "B": f"{cb:,}",
                     "바뀜": f"{cb - ca:+,}" if cb != ca else ""})
    ca, cb = a["case"], b["case"]
    add("데이터", "수집 기준금액", ca["threshold"], cb["threshold"])
    add("데이터", "관측기간", " ~ ".join(ca["observation"]), " ~ ".join(cb["observation"]))
    add("평가일", "평가일", ca["valuation_date"], cb["valuation_date"])
    sa, sb = a["spec"], b["spec"]
    for k in ("n_years", "seed", "severity_cap", "bond_policy"):
        add("설정", SETTING_KO[k], sa[k], sb[k])
    for k in sorted(set(sa["settings"]) | set(sb["settings"])):
        if k != "valuation_date":
            add("설정", SETTING_KO.get(k, k), sa["settings"].get(k), sb["settings"].get(k))
    for k in sorted(set(sa["appetite"]) | set(sb["appetite"])):
        add("위험선호", SETTING_KO.get(k, k), sa["appetite"].get(k), sb["appetite"].get(k))
    fa, fb = ca.get("files", {}), cb.get("files", {})
    for role in sorted(set(fa) | set(fb)):
        ha, hb = (fa.get(role) or {}).get("sha256"), (fb.get(role) or {}).get("sha256")
        add("파일", role, (fa.get(role) or {}).get("name"), (fb.get(role) or {}).get("name"))
        rows[-1]["바뀜"] = "내용 바뀜" if ha != hb else ""
    pa = {p["policy_id"]: p for p in a.get("programme", [])}
    pb = {p["policy_id"]: p for p in b.get("programme", [])}
    for pid in sorted(set(pa) | set(pb)):
        x, y = pa.get(pid), pb.get(pid)
        if x is None or y is None:
            add("보험계약", pid, "있음" if x else "없음", "있음" if y else "없음", str)
            continue
        changed = [k for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
        rows.append({"구분": "보험계약", "항목": pid, "A": "", "B": "",
                     "바뀜": ", ".join(changed)})
    for key in sorted(set(a["models"]) & set(b["models"])):
        ma, mb = _models(a, key), _models(b, key)
        for cell in sorted(set(ma.keys()) | set(mb.keys())):
            x = ma.cells.get(cell)
            y = mb.cells.get(cell)
            va = f"{x.severity.family} {_params(x.severity.params)}" if x else "—"
            vb = f"{y.severity.family} {_params(y.severity.params)}" if y else "—"
            rows.append({"구분": f"모형 ({'기준 사건 포함' if key == 'True' else '제외'})",
                         "항목": cell, "A": va, "B": vb,
                         "바뀜": ("분포군" if x and y and x.severity.family != y.severity.family
                                else "모수" if va != vb else "")})
    add("버전", "opwb", a.get("versions", {}).get("opwb"), b.get("versions", {}).get("opwb"))
    return pd.DataFrame(rows, columns=["구분", "항목", "A", "B", "바뀜"])


#: Settings and appetite ceilings as screens name them.
SETTING_KO = {"n_years": "모의실험 연수", "seed": "시드", "severity_cap": "단일손실 상한",
              "bond_policy": "BBB 증권번호", "alpha": "신뢰수준", "cost_of_capital": "자본비용률",
              "haircut_convention": "잔존기간 할인 방식", "aggregation": "합산 방식",
              "return_periods": "보유손실 재현기간", "max_premium": "연간 보험료 상한",
              "max_retained_if_1in100": "100년 1회 내부사취 보유손실 상한",
              "max_net_capital": "규제자본 상한"}


def _params(params: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in params.items())


# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Comparison:
    """Run ``a`` against run ``b`` (see the module docstring).

    ``inputs``: :func:`inputs_changed`; ``attribution``: the steps' changes of the headline
    figures with their paired errors (KRW); ``recommendation``: B's recommended structure
    less A's in net benefit per state; ``backtest``: :func:`backtest` or None; ``notes``.
    """

    a: dict
    b: dict
    inputs: pd.DataFrame
    attribution: pd.DataFrame
    recommendation: pd.DataFrame
    backtest: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    def attribution_ko(self) -> pd.DataFrame:
        """The attribution as Korean text: one row per step, each headline figure's change
        in 억원 rounded to its paired standard error."""
        from opwb.data.units import format_krw_with_se
        labels = dict(STEPS) | {"simulation": "모의실험 (연수·시드가 다름)",
                                "data_models": "데이터·모형 (B의 손실 데이터 없이 나눌 수 없음)",
                                "total": "합계"}
        out = pd.DataFrame(index=[labels.get(i, i) for i in self.attribution.index])
        for f in HEADLINE:
            out[HEADLINE_KO[f]] = [format_krw_with_se(v, s) for v, s in
                                   zip(self.attribution[f], self.attribution[f"{f}_se"])]
        out.columns.name = f"{run_name(self.a)} → {run_name(self.b)}"
        return _minus(out)

    def levels_ko(self) -> pd.DataFrame:
        """The headline figures of the cover in force as recorded in each run (억원, ± their
        errors): the levels the attribution's changes lead from and to (the fitted models'
        figures, those of notebook 04's capital tables)."""
        from opwb.data.units import format_krw_with_se
        out = pd.DataFrame(index=[run_name(self.a), run_name(self.b)])
        for f in HEADLINE:
            out[HEADLINE_KO[f]] = [format_krw_with_se(*_recorded(r, "True")[f])
                                   for r in (self.a, self.b)]
        out.columns.name = "기록된 수치 (적합 모형)"
        return _minus(out)

    def changes_ko(self) -> list[str]:
        """What changed in the inputs, one short Korean line per kind (losses, window,
        valuation date, settings, appetite, policies, model families)."""
        inp = self.inputs[self.inputs["바뀜"] != ""]
        lines = []
        counts = inp[(inp["구분"] == "데이터") & inp["항목"].str.endswith("손실 건수")]
        if len(counts):
            lines.append("손실 데이터: " + ", ".join(
                f"{r['항목'].split()[0]} {r['바뀜']}건" for _, r in counts.iterrows()))
        for _, r in inp[inp["구분"].isin(["데이터", "평가일", "설정", "위험선호"])
                        & ~inp["항목"].str.endswith("손실 건수")].iterrows():
            lines.append(f"{r['항목']}: {r['A']} → {r['B']}")
        for _, r in inp[inp["구분"] == "보험계약"].iterrows():
            lines.append(f"보험계약 {r['항목']}: {r['바뀜']}")
        models = inp[inp["구분"].str.startswith("모형") & (inp["바뀜"] == "분포군")]
        families = sorted({f"{r['항목']} {r['A'].split()[0]} → {r['B'].split()[0]}"
                           for _, r in models.iterrows()})
        if families:
            lines.append("손실분포군: " + ", ".join(families))
        refit = inp[inp["구분"].str.startswith("모형") & (inp["바뀜"] == "모수")]
        if len(refit):
            lines.append(f"모수를 다시 추정한 사건유형 {refit['항목'].nunique()}개")
        return lines

    def recommendation_change_ko(self) -> str:
        """The recommended structure of each run, in one line."""
        from opwb.scenarios.answer import structure_ko

        def of(run):
            st = (run.get("recommendation") or {}).get("True", {}).get("structure")
            return structure_ko(st["deductible"], st["limit"]) if st else "권고 없음"
        a, b = of(self.a), of(self.b)
        return f"권고: {a} → {b}" if a != b else f"권고는 그대로입니다: {a}"

    def sentence_ko(self) -> str:
        """Which step moved the bond's relief most, in one sentence."""
        steps = self.attribution.drop(index="total")
        f = "bond_regulatory_relief"
        if steps.empty:
            return ""
        main = steps[f].abs().idxmax()
        labels = dict(STEPS) | {"simulation": "모의실험 연수·시드", "data_models": "데이터·모형"}
        from opwb.data.units import format_krw_with_se
        tot = self.attribution.loc["total"]
        moved = ("늘었" if tot[f] > 0 else "줄었") if tot[f] else "같았"
        size = format_krw_with_se(abs(tot[f]), tot[f + "_se"])
        part = format_krw_with_se(steps.at[main, f], steps.at[main, f + "_se"])
        if not tot[f]:
            return f"{run_name(self.a)} → {run_name(self.b)}: BBB의 규제자본 경감은 같습니다."
        return (f"{run_name(self.a)} → {run_name(self.b)}: BBB의 규제자본 경감이 {size} {moved}고, "
                f"가장 큰 몫은 {labels.get(main, main)} ({part})입니다.")


def compare_runs(a, b, store=None, *, case=None,
                 progress: Callable[[float, str], None] | None = None) -> Comparison:
    """Compare two recorded runs: inputs, change attribution, backtest.

    Parameters
    ----------
    a, b : int, str or dict
        The earlier and the later run: a run id, a label (``"2007Q1"``) or a record.
    store : str, pathlib.Path or RunStore, optional
        Where ``a`` and ``b`` are recorded (needed unless both are records).
    case : opwb.data.case.Case, optional
        B's case: its losses split the ``data`` and ``models`` steps and give the backtest
        (losses after A's as-of date). Without it both are left out, and the comparison
        says so.
    progress : callable ``(fraction, text)``, optional

    Returns
    -------
    Comparison

    Raises
    ------
    opwb.data.runstore.RunStoreError
        An unknown run.
    ValueError
        Runs without a common base, or a case that is not B's.
    """
    opened = None
    if store is not None and not (isinstance(a, Mapping) and isinstance(b, Mapping)):
        from opwb.data.runstore import open_store
        opened = open_store(store)
    try:
        ra, rb = _load(a, opened), _load(b, opened)
    finally:
        if opened is not None and opened is not store:
            opened.close()
    steps, rec, notes = attribution(ra, rb, case=case, progress=progress)
    bt = None
    if case is not None:
        bt = backtest(ra, case)
        if bt is None:
            notes.append(f"{run_name(rb)}의 자료에 {run_name(ra)}의 관측 종료일 이후 기간이 없어 "
                         "사후검증을 하지 않았습니다.")
    else:
        notes.append(f"사후검증(backtest)에는 {run_name(rb)}의 사례가 필요합니다 (case=...).")
    return Comparison(ra, rb, inputs_changed(ra, rb), steps, rec, bt, tuple(notes))


# --------------------------------------------------------------------------- trends
def trends(store, *, base: str = "True") -> pd.DataFrame:
    """Every recorded run's net VaR by event type, the cover in force's headline figures,
    each policy's relief and the recommended structure, one row per (run, series): columns
    ``run_id, label, recorded_at, as_of, valuation_date, series, value, se`` (KRW), the runs
    in the order of their data (as-of date, then valuation date, then recording)."""
    from opwb.data.runstore import open_store
    st = open_store(store)
    try:
        fig = st.figures()
        runs = st.list_runs()[["run_id", "as_of"]]
    finally:
        if st is not store:
            st.close()
    fig = fig[fig["base"] == base].merge(runs, on="run_id", how="left")
    fig = fig.sort_values(["as_of", "valuation_date", "recorded_at", "run_id"],
                          kind="stable")
    pick = ((fig["scope"] == "event_type") & (fig["figure"] == "net_var")
            | (fig["scope"] == "total") & fig["figure"].isin(HEADLINE)
            | (fig["scope"] == "policy") & (fig["figure"] == "relief")
            | (fig["scope"] == "recommendation") & fig["figure"].isin(["limit", "deductible"]))
    out = fig[pick].copy()
    out["series"] = out["scope"] + ":" + out["item"] + ":" + out["figure"]
    return out[["run_id", "label", "recorded_at", "as_of", "valuation_date", "series",
                "value", "se"]].reset_index(drop=True)
