"""One run of a case as a record: what went in (hashes, settings, model sets) and what came
out (figures with their standard errors), never a loss record.

A run record is a JSON-able dict (:func:`run_record`) written whole to the run store by
:func:`record_run` (:class:`opwb.data.runstore.RunStore`). What it holds:

- ``case``: the bank's name, the case's fingerprint, each input file's SHA-256, the collection
  threshold, observation window, valuation date, run length, seed, severity cap, cost of
  capital and appetite;
- ``versions``: opwb's and its numerical libraries' versions;
- ``models``: per scenario base (``"True"``: with the reference incidents, ``"False"``:
  without) the fitted model set (:func:`opwb.fitting.modelset.model_set_doc`: families,
  parameters, the rule's reasons), so a later run can re-evaluate it or freeze it
  (``models = "run:LABEL"`` in a case);
- ``data``: how many losses of each event type (counts only: no sum, which two runs'
  records would turn into a single new loss);
- ``programme``, ``alternatives``, ``spec``: the policy terms, the quotes and the scenario
  settings the figures were computed with (what :mod:`opwb.runs.compare` needs to re-evaluate
  a run without its loss data);
- ``figures``: long rows ``(base, scope, item, figure, value, se)`` — the cover in force's
  headline figures (scope ``"total"``), every alternative's figures (``"alternative"``),
  gross and net VaR and ES and capital by event type (``"event_type"``, from the audit table
  of :mod:`opwb.capital.audit`) and the recovery and relief of each policy (``"policy"``),
  and the recommendation on the predictive model (``"recommendation"``);
- ``claims``: the claims record per policy and year (:func:`opwb.analysis.claims.claims_record`:
  counts and amounts, not the events).

Every Monte Carlo figure carries its standard error: the scenario figures' year bootstrap
(:mod:`opwb.scenarios.figures`), the audit table's errors (:mod:`opwb.capital.influence`),
VaR by event type by the same keyed year bootstrap and ES by
:func:`opwb.engine.riskmeasures.es_with_se` (heavy-tail aware; the sample ES with its
influence-function error when every severity is capped).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["record_run", "run_record", "HEADLINE", "RECORDED_FIGURES", "frame_records",
           "programme_records", "case_files", "spec_doc"]

#: The headline figures of a run (the cover in force): what :mod:`opwb.runs.compare`
#: attributes, in this order.
HEADLINE = ("net_var", "regulatory_net_capital", "bond_regulatory_relief")

#: The figures recorded for the cover in force and every alternative (with ``_se``).
RECORDED_FIGURES = ("premium", "expected_recovery", "loss_ratio", "p_claim", "p_exhaust",
                    "retained_if_1in10", "retained_if_1in100", "retained_if_1in1000",
                    "retained_total_1in100", "gross_var", "net_var", "net_es",
                    "economic_relief", "regulatory_gross_capital", "regulatory_net_capital",
                    "bond_regulatory_relief", "capital_saving", "net_benefit")

#: Columns of the audit table's event-type rows recorded (each with ``_se``).
_EVENT_TYPE_COLUMNS = ("gross_loss_mean", "recognised_mean", "capital_gross",
                       "capital_net", "recognised_benefit")
#: Columns of the audit table's policy rows recorded (each with ``_se``).
_POLICY_COLUMNS = ("ceded_mean", "recognised_mean", "benefit", "relief")


def _num(v) -> float | None:
    """A figure as stored: a float (inf kept), None for a missing value."""
    if v is None:
        return None
    v = float(v)
    return None if math.isnan(v) else v


def _row(base: str, scope: str, item: str, figure: str, value, se) -> dict:
    return {"base": base, "scope": scope, "item": str(item), "figure": figure,
            "value": _num(value), "se": _num(se)}


def _plain(v):
    """A cell of a frame as JSON: dates as ISO text, numpy scalars as Python ones."""
    if isinstance(v, (pd.Timestamp, dt.date)):
        return None if pd.isna(v) else pd.Timestamp(v).isoformat()
    if isinstance(v, np.generic):
        return v.item()
    if v is pd.NaT:
        return None
    return v


def frame_records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows as JSON-able dicts (dates as ISO text; inf kept as a float)."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def programme_records(records: Sequence[Mapping]) -> pd.DataFrame:
    """Inverse of :func:`frame_records` for a programme table (dates parsed)."""
    frame = pd.DataFrame.from_records(list(records))
    for col in ("inception", "expiry"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col])
    return frame


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def case_files(case) -> dict[str, dict[str, str]]:
    """The case's files: role → ``{"name", "sha256"}`` (the case file, losses, programme,
    quotes, external losses and saved model sets that exist)."""
    files = {}
    if case.source:
        files["case"] = {"name": Path(case.source).name, "sha256": _sha256(Path(case.source))}
    for role in ("losses", "programme", "quotes", "external"):
        if getattr(case, role, None):
            p = case.path(role)
            files[role] = {"name": p.name, "sha256": _sha256(p)}
    for i, p in enumerate(case.paths("models")):
        if Path(p).is_file():
            files[f"models {i + 1}"] = {"name": Path(p).name, "sha256": _sha256(Path(p))}
    return files


def _case_doc(case, spec) -> dict:
    """What the case was: name, fingerprint, its files' hashes, the settings that fix the
    figures."""
    files = case_files(case)
    s = spec.settings
    return {
        "name": case.name, "hash": case.fingerprint(), "files": files,
        "threshold": float(spec.threshold),
        "observation": [pd.Timestamp(d).date().isoformat() for d in case.observation],
        "valuation_date": pd.Timestamp(s.valuation_date).date().isoformat(),
        "bond_policy": spec.bond_policy,
        "incidents": [list(i) for i in spec.incidents],
        "frozen_models": getattr(case, "frozen_models", None),
    }


def spec_doc(spec) -> dict:
    """The scenario settings of a run (JSON-able)."""
    s = spec.settings
    return {"n_years": int(spec.n_years), "seed": int(spec.seed),
            "severity_cap": _num(spec.severity_cap), "threshold": float(spec.threshold),
            "bond_policy": spec.bond_policy, "incidents": [list(i) for i in spec.incidents],
            "deductibles": [float(x) for x in spec.deductibles],
            "limits": [float(x) for x in spec.limits],
            "appetite": {k: _num(v) for k, v in spec.appetite.as_kwargs().items()},
            "settings": {"alpha": s.alpha, "cost_of_capital": s.cost_of_capital,
                         "valuation_date": pd.Timestamp(s.valuation_date).date().isoformat(),
                         "haircut_convention": s.haircut_convention,
                         "return_periods": list(s.return_periods),
                         "aggregation": s.aggregation},
            "bank": spec.bank}


def _versions() -> dict:
    import scipy
    import sqlalchemy

    from opwb._version import __version__
    return {"opwb": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "pandas": pd.__version__, "sqlalchemy": sqlalchemy.__version__}


def _bootstrap_var(x: np.ndarray, alpha: float, weights) -> tuple[float, float]:
    from opwb.engine import riskmeasures as rm
    from opwb.engine.topyears import bootstrap_se, var_replicates
    return rm.var(x, alpha), float(bootstrap_se(var_replicates(x, alpha, weights)))


def _event_type_rows(key: str, base, settings) -> list[dict]:
    """Gross and net VaR and ES (economic view) and the audit table's capital of every
    event type, for the cover in force on ``base``."""
    from opwb.capital.audit import audit_table
    from opwb.engine.riskmeasures import es_with_se
    from opwb.insurance.eligibility import apply_views, eligibility_table
    from opwb.scenarios.figures import context
    views = apply_views(base.programme, base.sim, seed=base.seed,
                        valuation_date=settings.valuation_date,
                        convention=settings.haircut_convention)
    eco = views["economic"]
    audit = audit_table(eco, views["regulatory"],
                        eligibility=eligibility_table(base.programme,
                                                      valuation_date=settings.valuation_date,
                                                      convention=settings.haircut_convention),
                        alpha=settings.alpha, aggregation=settings.aggregation)
    w = context(base, settings).weights
    bounded = base.severity_cap is not None
    rows = []
    recovered = eco.recovery_by_event_type
    for et in eco.event_types:
        gross = np.asarray(eco.gross_by_event_type[et], dtype=float)
        net = gross - np.asarray(recovered[et], dtype=float)
        for name, x in (("gross", gross), ("net", net)):
            rows.append(_row(key, "event_type", et, f"{name}_var",
                             *_bootstrap_var(x, settings.alpha, w)))
            rows.append(_row(key, "event_type", et, f"{name}_es",
                             *es_with_se(x, settings.alpha, bounded=bounded)))
    et_table = audit["event_types"]
    for et, r in et_table.iterrows():
        for col in _EVENT_TYPE_COLUMNS:
            rows.append(_row(key, "event_type", et, col, r[col], r[f"{col}_se"]))
    for pid, r in audit["policies"].iterrows():
        for col in _POLICY_COLUMNS:
            if col in r and f"{col}_se" in r:
                rows.append(_row(key, "policy", pid, col, r[col], r[f"{col}_se"]))
    return rows


def _recommendation(key: str, cd: bool, answer) -> tuple[list[dict], dict]:
    """Figures and description of the predictive answer's recommendation on base ``cd``."""
    from opwb.scenarios.recommend import Recommendation
    rec = answer.recommendation(cd)
    if not isinstance(rec, Recommendation):
        return [], {"structure": None, "why": str(rec)}
    p_best, regret, regret_se = answer.recommended_robustness(cd)
    be = answer.break_even_row(cd, rec)
    item = "권고"
    rows = [_row(key, "recommendation", item, "deductible", rec.deductible, 0.0),
            _row(key, "recommendation", item, "limit", rec.limit, 0.0),
            _row(key, "recommendation", item, "premium", rec.structure["premium"], 0.0),
            _row(key, "recommendation", item, "p_best", p_best, None),
            _row(key, "recommendation", item, "regret", regret, regret_se),
            _row(key, "recommendation", item, "net_benefit", rec.structure["net_benefit"],
                 rec.structure.get("net_benefit_se")),
            _row(key, "recommendation", item, "break_even_premium", be["break_even_premium"],
                 be["break_even_premium_se"])]
    return rows, {"structure": dataclasses.asdict(rec.alternative("권고 구조"))}


def _claims_rows(losses: pd.DataFrame, programme: pd.DataFrame) -> list[dict]:
    """The claims record per policy and year (counts and amounts, not the events)."""
    from opwb.analysis.claims import claims_record
    years = sorted(pd.to_datetime(losses["occurrence_date"]).dt.year.unique())
    out = []
    for y in years:
        rec = claims_record(losses, programme, years=[int(y)])
        for pid, r in rec.iterrows():
            out.append({"policy": str(pid), "year": int(y), "claims": int(r["claims"]),
                        "amount": float(r["recoveries"])})
    return out


def run_record(case, results: Mapping[bool, Sequence] | None = None, *,
               label: str | None = None, answer=None, spec=None,
               progress: Callable[[float, str], None] | None = None) -> dict:
    """The record of one run of ``case`` (a JSON-able dict; see the module docstring).

    Parameters
    ----------
    case : opwb.data.case.Case
        The bank's case.
    results : mapping, optional
        ``{include_cd: [ScenarioResult, ...]}`` as notebook 04 holds them
        (:func:`opwb.scenarios.evaluate_many` on each base), the first of each list the cover
        in force; default: the cover in force and the case's quotes evaluated here.
    label : str, optional
        The run's name in the store (e.g. ``"2007Q1"``; unique there).
    answer : opwb.decision.robust.RobustAnswer, optional
        The answer on the predictive model (default :func:`opwb.predictive_answer` of the
        case, from its store when built before).
    spec : ScenarioSpec, optional
        Default :func:`opwb.scenarios.spec_for` of the case.
    progress : callable ``(fraction, text)``, optional

    Raises
    ------
    ValueError
        When ``results`` do not start with the cover in force of each base, or lack a base.
    opwb.DataError
        From the case's files.
    """
    from opwb.decision.robust import predictive_answer
    from opwb.fitting.modelset import model_set_doc
    from opwb.scenarios.evaluation import evaluate_many
    from opwb.scenarios.spec import case_inputs, current_cover, scenario_bases, spec_for
    report = progress or (lambda f, t: None)
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes) if spec is None else spec
    settings = spec.settings
    report(0.0, "시나리오 기반 (scenario bases)")
    bases = scenario_bases(spec, case=case)
    current = current_cover(bases[True])
    alternatives = [current] + [q for q in quotes
                                if q.policy_changes() != current.policy_changes()]
    if results is None:
        report(0.2, "견적과 현행 계약의 수치 (the quotes and the cover in force)")
        results = {cd: evaluate_many(b, alternatives, settings) for cd, b in bases.items()}
    for cd in bases:
        if cd not in results or not results[cd]:
            raise ValueError(f"results lack the base include_cd={cd} (one list per base of "
                             "the case: {True: [...], False: [...]})")
        first = results[cd][0].alternative
        if first.policy_changes() != current.policy_changes():
            raise ValueError(f"results[{cd}] must start with the cover in force "
                             f"({current.name}), got {first.name}")
    figures: list[dict] = []
    recommendation = {}
    if answer is None:
        report(0.3, "예측 모형의 권고 (the answer on the predictive model)")
        answer = predictive_answer(spec, case=case)
    for i, (cd, base) in enumerate(bases.items()):
        key = str(cd)
        report(0.6 + 0.3 * i / len(bases), f"{base.data_label}: 사건유형·보험계약별 수치")
        cur = results[cd][0]
        for k in RECORDED_FIGURES:
            figures.append(_row(key, "total", "in force", k, cur.metrics[k],
                                cur.metrics.get(f"{k}_se")))
        for r in results[cd]:
            for k in RECORDED_FIGURES:
                figures.append(_row(key, "alternative", r.alternative.name, k,
                                    r.metrics[k], r.metrics.get(f"{k}_se")))
        figures += _event_type_rows(key, base, settings)
        rows, rec = _recommendation(key, cd, answer)
        figures += rows
        recommendation[key] = rec
    report(0.95, "보험계약별 청구 기록 (claims per policy)")
    programme_frame = case.load_programme()
    years = pd.to_datetime(losses["occurrence_date"]).dt.year
    # counts only: sums by event type would give away a single new loss as the difference
    # of two runs' sums (an independent validation's finding)
    data = {"rows": int(len(losses)),
            "by_event_type": {str(et): {"count": int(len(g))}
                              for et, g in losses.groupby("event_type")},
            "years": [int(years.min()), int(years.max())] if len(losses) else []}
    doc = {
        "label": label,
        "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "case": _case_doc(case, spec),
        "versions": _versions(),
        "spec": spec_doc(spec),
        "models": {str(cd): model_set_doc(b.model_set) for cd, b in bases.items()},
        "data": data,
        "programme": frame_records(programme_frame),
        "alternatives": [dataclasses.asdict(a) for a in alternatives],
        "recommendation": recommendation,
        "figures": figures,
        "claims": _claims_rows(losses, programme_frame),
    }
    report(1.0, "완료 (done)")
    return doc


def record_run(case, results: Mapping[bool, Sequence] | None = None, store=None, *,
               label: str | None = None, answer=None, spec=None,
               progress: Callable[[float, str], None] | None = None) -> int:
    """Record one run of ``case`` in the run store; returns its run id.

    The run is written whole or not at all (one transaction). The store holds the case's
    hashes, settings, model sets and figures (:func:`run_record`), never a loss record.

    Parameters
    ----------
    case : opwb.data.case.Case
    results : mapping, optional
        ``{include_cd: [ScenarioResult, ...]}``, the cover in force first (see
        :func:`run_record`).
    store : str, pathlib.Path or RunStore, optional
        A path (SQLite file), an SQLAlchemy URL (``postgresql+psycopg://...``) or an open
        store; default the case's ``runs`` setting (``runs.sqlite`` beside the case file).
    label, answer, spec, progress
        As in :func:`run_record`.

    Raises
    ------
    opwb.data.runstore.RunStoreError
        The store cannot be opened or upgraded, or the label is taken (nothing written).
    """
    from opwb.data.runstore import open_store
    doc = run_record(case, results, label=label, answer=answer, spec=spec, progress=progress)
    where = case.run_store() if store is None else store
    st = open_store(where)
    try:
        return st.record(doc)
    finally:
        if st is not where:
            st.close()
