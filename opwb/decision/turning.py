"""What else decides the answer: the severity cap and the insurers' payment assumptions,
each tried on the predictive base's own simulated years.

:func:`opwb.decision.robust.what_decides` reads the premium, the cost of capital and the
severity families off the predictive frontier and world table. The assumptions here change
the simulated figures themselves, so the frontier is evaluated again under each value of a
small grid — once, when the predictive bases are built, and stored with them
(:func:`turning_data`); a page only re-ranks the stored tables (:func:`turning_rows`):

- **payment delay** (the chance a claim is paid after the one-year horizon, every policy;
  :data:`DELAY_PROBABILITIES`) and **insurer default** (every rating's annual default
  probability times :data:`DEFAULT_SCALES`, loss given default 100%): the programme applied
  again to the very same simulated years (:class:`opwb.scenarios.bond.PaymentAssumptions`).
  The delay and default draws are keyed to events and insurer-years, so the comparison with
  the answer is on common random numbers;
- **the severity cap** (maximum single loss; :data:`CAP_MULTIPLES` of the case's cap, and
  none): every world of the predictive model simulated again with the same refitted model
  and stream (:func:`opwb.decision.predictive.world_fit`, ``world_seed``) under the other
  cap. A loss is ``min(X, cap)`` of the same draw ``X``, so only losses above the lower of
  the two caps differ (common random numbers). The stored years cannot serve: the cell no
  policy covers keeps no loss record, and a loss at the cap hides how far it went. Without a
  cap a world whose severity has an infinite mean cannot be simulated; the table says so.

At each value the structure of highest expected net benefit within the appetite is picked
by the recommendation's own rule (:func:`opwb.scenarios.recommend.recommend`), every
structure at the premium of the stored frontier (the quotes do not move with the
assumption). Where it differs from the answer's recommendation, the difference of their
net benefits at that value carries its paired standard error
(:func:`opwb.scenarios.evaluation.difference`: both on the same years) — computed at build
time for the case's appetite; for another appetite the sum of the two standard errors
bounds it (as :func:`~opwb.scenarios.recommend.recommend` does without a base). A grid
shows the first value tried at which the answer changes, not the exact turning point
between two grid values.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from opwb.scenarios.base import Z95
from opwb.scenarios.bond import DELAY_PROBABILITY, PaymentAssumptions
from opwb.scenarios.frontier import critical_value

__all__ = ["CAP_MULTIPLES", "DELAY_PROBABILITIES", "DEFAULT_SCALES", "THRESHOLD_MULTIPLES",
           "TURNING", "LABELS", "turning_data", "threshold_data", "turning_rows",
           "turning_for", "frontier_under", "base_at_cap", "world_models", "best_under"]

CAP_MULTIPLES: tuple[float | None, ...] = (0.25, 0.5, 2.0, 5.0, None)
"""Severity caps tried, as multiples of the case's cap (None: no cap)."""
DELAY_PROBABILITIES: tuple[float, ...] = (0.0, 0.05, 0.2, 0.3)
"""Payment-delay probabilities tried besides :data:`opwb.scenarios.bond.DELAY_PROBABILITY`
(10%)."""
DEFAULT_SCALES: tuple[float, ...] = (0.0, 4.0, 20.0, 100.0)
"""Multiples of every rating's annual default probability tried besides 1 (0: no default;
an A-rated insurer's 0.05% becomes 0.2%, 1% and 5%)."""
THRESHOLD_MULTIPLES: tuple[float, ...] = (2.0,)
"""Collection thresholds tried, as multiples of the case's (the fitted model refitted above
each)."""
TURNING = "turning points"
"""The key of the stored grids in a predictive base's stored extra."""
LABELS = {"cap": "최대 단일손실 (심도 상한)",
          "delay": "보험금 지급 지연 (1년 넘어 지급될 확률)",
          "default": "보험사 부도확률 (등급별 연 부도율 × 배수)",
          "threshold": "손실 수집·적합 임계값"}
"""The rows' names (column 가정 of :func:`opwb.decision.robust.what_decides`)."""
_DECODED = "turning points decoded"
_LAZY = "turning points computed here"
_FORM = 2


# --------------------------------------------------------------------------- evaluation
def _prices(table: pd.DataFrame):
    from opwb.decision.predictive import _Prices
    return _Prices({(float(d), float(L)): float(p) for d, L, p in
                    zip(table["deductible"], table["limit"], table["premium"])},
                   str(table.attrs.get("premium_model", "")))


def _grid_of(table: pd.DataFrame) -> tuple[list[float], list[float]]:
    return (sorted(set(map(float, table["deductible"]))),
            sorted(set(map(float, table["limit"]))))


def _fresh(base, settings, assumptions: PaymentAssumptions | None):
    """``base`` with an empty cache holding the figure context of ``assumptions``, so that
    :func:`opwb.scenarios.frontier.frontier` and :func:`~opwb.scenarios.evaluation.
    evaluate_many` on it use them (the stored base's own cache is left alone)."""
    from opwb.scenarios.figures import FigureContext
    copy = dataclasses.replace(base, _cache={})
    if assumptions is not None and not assumptions.is_default:
        copy._cache[("figures", settings)] = FigureContext(copy, settings, assumptions)
    return copy


def frontier_under(base, table: pd.DataFrame, settings,
                   assumptions: PaymentAssumptions | None = None) -> tuple[pd.DataFrame, object]:
    """The frontier of ``table``'s grid on ``base`` under ``assumptions``, every structure
    at ``table``'s premium: ``(frontier, the evaluated base)`` (the second for paired
    differences under the same assumptions)."""
    from opwb.scenarios.frontier import frontier
    work = _fresh(base, settings, assumptions)
    ds, ls = _grid_of(table)
    out = frontier(work, deductibles=ds, limits=ls, premium=_prices(table), settings=settings)
    return out, work


def world_models(base, weights, families: Mapping[str, Sequence[str]], n_worlds: int
                 ) -> list:
    """Every world's refitted model set of the predictive base ``base``, as it was built:
    :func:`opwb.decision.predictive.world_fit` of the family each world drew
    (``families``), from ``weights``' fits (about 0.3 s a world on the bundled case)."""
    from opwb.decision.predictive import world_fit
    from opwb.fitting.modelset import ModelSet
    ms = base.model_set
    out = []
    for w in range(n_worlds):
        cells = {c: world_fit(m, weights[c].fits[families[c][w]], base.seed, w, c)[0]
                 for c, m in ms.items()}
        out.append(ModelSet(cells, ms.threshold, "", True,
                            f"predictive world {w} of: {ms.note}"))
    return out


def base_at_cap(base, weights, families: Mapping[str, Sequence[str]], n_worlds: int,
                cap: float | None, *, models: Sequence | None = None):
    """The predictive base ``base`` simulated again under severity ``cap`` (KRW; None: no
    cap): every world's refitted model (:func:`world_models`, or ``models`` when given) and
    stream (:func:`~opwb.decision.predictive.world_seed`) as built, its first
    ``base.n_years // n_worlds`` years pooled. At the base's own cap it reproduces
    ``base``'s years exactly.

    Raises ``ValueError`` when a world's severity has an infinite mean and ``cap`` is None.
    """
    from opwb.decision.predictive import _STRIDE, _pool, _slice, world_seed
    from opwb.engine.simulate import simulate_losses
    from opwb.scenarios.base import _keep_levels, cell_models
    ms, programme = base.model_set, base.programme
    models = world_models(base, weights, families, n_worlds) if models is None else models
    per = base.n_years // n_worlds
    bond_cells = [c for c in ms if programme[base.bond_policy].covers(c) > 0]
    keep = _keep_levels(programme, bond_cells, ms.keys())
    cells = [cell_models(wms, severity_cap=cap) for wms in models]   # refuses before work
    parts = []
    for w, cm in enumerate(cells):
        sim = simulate_losses(cm, per, world_seed(base.seed, w), keep_events_above=keep)
        parts.append(_slice(sim, per, w, _STRIDE))
    pooled = _pool(parts, base.seed)
    return dataclasses.replace(base, sim=pooled, models=cell_models(ms, severity_cap=cap)
                               if cap is not None else base.models, severity_cap=cap,
                               _cache={})


def best_under(table: pd.DataFrame, appetite) -> tuple[float, float] | None:
    """(deductible, limit) the recommendation's rule picks from ``table`` within
    ``appetite`` (:func:`opwb.scenarios.recommend.recommend`), None when nothing meets it."""
    from opwb.scenarios.recommend import recommend
    try:
        rec = recommend(table, **appetite.as_kwargs())
    except ValueError:
        return None
    return rec.deductible, rec.limit


def _pair(work, table: pd.DataFrame, settings, a: tuple[float, float],
          b: tuple[float, float]) -> tuple[float, float]:
    """Net benefit of structure ``a`` minus ``b`` on ``work`` with its paired error."""
    from opwb.scenarios.evaluation import difference, evaluate_many
    from opwb.scenarios.recommend import _alternative
    rows = [table[(table["deductible"] == d) & (table["limit"] == L)].iloc[0] for d, L in (a, b)]
    ra, rb = evaluate_many(work, [_alternative(r) for r in rows], settings)
    d = difference(work, ra, rb, settings, keys=("net_benefit",)).loc["net_benefit"]
    return float(d["difference"]), float(d["se"])


def _point(value, table, work, settings, appetite, reference) -> dict:
    from opwb.decision.predictive import _frame_plain
    best = best_under(table, appetite)
    pair = None
    if best is not None and reference is not None and best != reference:
        pair = [*best, *reference, *_pair(work, table, settings, best, reference)]
    return {"value": value, "frontier": _frame_plain(table), "note": "", "pair": pair}


def turning_data(base, table: pd.DataFrame, settings, appetite, *, weights=None,
                 families: Mapping[str, Sequence[str]] | None = None, n_worlds: int = 0,
                 models: Sequence | None = None,
                 progress: Callable[[float, str], None] | None = None) -> dict:
    """The frontier of ``table``'s grid under every value of :data:`CAP_MULTIPLES`,
    :data:`DELAY_PROBABILITIES` and :data:`DEFAULT_SCALES`, as plain values for the store.

    Parameters
    ----------
    base : ScenarioBase
        The pooled predictive base (:func:`opwb.decision.predictive.predictive_base`).
    table : DataFrame
        Its frontier under the scenario's assumptions (grid, terms and premiums).
    settings : ScenarioSettings
        How the structures were judged.
    appetite : Appetite
        The case's appetite: at each value the structure it picks is compared with the one
        it picks on ``table`` (paired net-benefit difference).
    weights, families, n_worlds : the predictive model's family weights *with their fits*,
        each world's family per cell and the number of worlds; without them the cap grid
        is left out (its note says why).
    models : sequence of ModelSet, optional
        Every world's refitted model set as the build made them
        (:attr:`~opwb.decision.predictive.WorldTable.models`); default: refitted again by
        :func:`world_models` (the same sets, about 0.3 s a world).
    progress : callable ``(fraction, text)``, optional

    Returns
    -------
    dict
        ``{"form", "made_for", "cap_now", "kinds": {kind: [point, ...]}}`` with kinds
        ``"cap"`` (values: the cap in KRW, None for none), ``"delay"`` (probability) and
        ``"default"`` (multiple); a point is ``{"value", "frontier" (plain table or None),
        "note" (why not computed), "pair" ([best d, L, reference d, L, difference, se] or
        None)}``.

    Notes
    -----
    Cost on the bundled case (100,000 pooled years, 53 structures): about 6 s a frontier,
    so some 50 s for the delay and default grids; the cap grid refits the 100 worlds once
    (about 30 s) and simulates them again (a few seconds a cap) — per base.
    """
    report = progress or (lambda f, t: None)
    reference = best_under(table, appetite)
    kinds: dict[str, list] = {"delay": [], "default": [], "cap": []}
    steps = len(DELAY_PROBABILITIES) + len(DEFAULT_SCALES) + len(CAP_MULTIPLES)
    done = 0
    for kind, values in (("delay", DELAY_PROBABILITIES), ("default", DEFAULT_SCALES)):
        for v in values:
            a = (PaymentAssumptions(delay_probability=v) if kind == "delay"
                 else PaymentAssumptions(default_scale=v))
            t, work = frontier_under(base, table, settings, a)
            kinds[kind].append(_point(v, t, work, settings, appetite, reference))
            done += 1
            report(done / steps, f"가정 민감도: {kind} {v:g}")
    cap_now = base.severity_cap
    models = None if models is None else list(models)
    for m in CAP_MULTIPLES:
        cap = None if m is None else (None if cap_now is None else m * cap_now)
        done += 1
        if cap_now is None or weights is None or families is None or not n_worlds or \
                any(not w.fits for w in weights.values()):
            why = ("심도 상한이 없는 사례" if cap_now is None else
                   "세계별 재추정 모형이 없음 (예측 모형 구축 때만 계산)")
            kinds["cap"].append({"value": cap, "frontier": None, "note": why, "pair": None})
            continue
        if models is None:
            report(done / steps, "가정 민감도: 세계별 모형 재추정")
            models = world_models(base, weights, families, n_worlds)
        try:
            capped = base_at_cap(base, weights, families, n_worlds, cap, models=models)
        except ValueError as err:
            kinds["cap"].append({"value": cap, "frontier": None, "note": str(err),
                                 "pair": None})
            continue
        t, work = frontier_under(capped, table, settings)
        kinds["cap"].append(_point(cap, t, work, settings, appetite, reference))
        report(done / steps, f"가정 민감도: 심도 상한 {m}")
    from opwb.decision.predictive import made_for
    ds, ls = _grid_of(table)
    return {"form": _FORM, "made_for": made_for(settings, ds, ls),
            "cap_now": cap_now, "kinds": kinds}


def threshold_data(plug, losses: pd.DataFrame, settings, premium_for: Callable,
                   deductibles: Sequence[float], limits: Sequence[float], *,
                   multiples: Sequence[float] = THRESHOLD_MULTIPLES,
                   progress: Callable[[float, str], None] | None = None) -> list[dict]:
    """The fitted model's frontier at the case's collection threshold and at
    ``multiples`` of it, for the threshold row of :func:`turning_rows`.

    Parameters
    ----------
    plug : ScenarioBase
        The plug-in base (:func:`opwb.scenarios.spec.scenario_bases`): its model set,
        programme, cap, seed and run length.
    losses : DataFrame
        The case's canonical losses (reference incidents taken out as ``plug`` says; its
        ``attrs["observation"]`` the window) — refitted, never stored.
    settings : ScenarioSettings
    premium_for : callable
        ``premium_for(base) -> premium model`` (the quotes on that base).
    deductibles, limits : the frontier's grid (KRW).
    multiples : the thresholds tried, as multiples of ``plug``'s threshold.

    Returns
    -------
    list of dict
        One point per multiple: ``{"value": threshold (KRW), "frontier": plain table or
        None, "reference": the frontier at the case's threshold (plain), "note": why not
        computed, "pair": None}``.
    """
    from opwb.decision.predictive import _frame_plain
    from opwb.fitting.modelset import refit_families
    from opwb.scenarios.base import base_from_models, without_incidents
    from opwb.scenarios.frontier import frontier
    report = progress or (lambda f, t: None)
    data = without_incidents(losses, plug.incidents, plug.include_cd)
    data.attrs.update(losses.attrs)

    def table_of(base):
        t = frontier(base, deductibles=deductibles, limits=limits, premium=premium_for(base),
                     settings=settings)
        return _frame_plain(t.reset_index(drop=True))

    reference = table_of(plug)
    points = []
    u = float(plug.model_set.threshold)
    for k, m in enumerate(multiples):
        h = m * u
        report(k / len(multiples), f"가정 민감도: 임계값 {m:g}배 재적합")
        try:
            models = refit_families(plug.model_set, data, h)
            base = base_from_models(models, plug.programme, include_cd=plug.include_cd,
                                    n_years=plug.n_years, seed=plug.seed,
                                    severity_cap=plug.severity_cap,
                                    incidents=plug.incidents, bond_policy=plug.bond_policy)
        except ValueError as err:
            points.append({"value": h, "now": u, "frontier": None, "reference": reference,
                           "note": str(err), "pair": None})
            continue
        points.append({"value": h, "now": u, "frontier": table_of(base),
                       "reference": reference, "note": "", "pair": None})
    return points


# --------------------------------------------------------------------------- the rows
def _decoded(stored: Mapping) -> dict:
    from opwb.decision.predictive import _frame_from
    out = {}
    for kind, points in stored["kinds"].items():
        out[kind] = [dict(p, frontier=None if p["frontier"] is None
                          else _frame_from(p["frontier"]),
                          **({} if p.get("reference") is None
                             else {"reference": _frame_from(p["reference"])}))
                     for p in points]
    return out


def _eok(x: float) -> str:
    """A cap in 조원 or 억원 (``"1조원"``, ``"2,500억원"``)."""
    from opwb.data.units import format_krw
    return format_krw(x, digits=1)


def _difference(point: dict, got, ref) -> tuple[float, float, bool] | None:
    """Net benefit of structure ``got`` minus ``ref`` ((deductible, limit) each) at
    ``point``: (difference, standard error, paired?) — the stored paired one when it is for
    these two, else from the point's frontier with the sum of the two errors (a bound);
    None when ``ref`` is not on that frontier."""
    pair = point.get("pair")
    if pair is not None and tuple(pair[:2]) == tuple(got) and tuple(pair[2:4]) == tuple(ref):
        return float(pair[4]), float(pair[5]), True
    t = point["frontier"]
    ra = t[(t["deductible"] == got[0]) & (t["limit"] == got[1])].iloc[0]
    rb = t[(t["deductible"] == ref[0]) & (t["limit"] == ref[1])]
    if rb.empty:
        return None
    rb = rb.iloc[0]
    return (float(ra["net_benefit"] - rb["net_benefit"]),
            float(ra["net_benefit_se"] + rb["net_benefit_se"]), False)


def _change(point: dict, got, rec, z: float | None = None) -> tuple[str, bool]:
    """The recommendation at ``point`` with its net-benefit difference from ``rec`` and
    whether the simulation tells them apart, and whether the difference exceeds ``z``
    standard errors (:func:`_difference`; default the critical value of the base the
    point's frontier was computed on, its ``attrs["critical_value"]``: Student's t with
    W − 1 degrees of freedom on the predictive base's W worlds, else 1.96)."""
    from opwb.decision.robust import _about
    from opwb.scenarios.answer import structure_ko
    if got is None:
        return "위험선호를 지키는 구조 없음", True
    name = structure_ko(*got)
    diff = _difference(point, got, (rec.deductible, rec.limit))
    if diff is None:
        return name, True
    d, se, paired = diff
    if z is None:
        frame = point.get("frontier")
        z = critical_value(frame) if frame is not None else Z95
    significant = abs(d) > z * se
    if significant:
        verdict = "모의실험 오차보다 큼"
    else:
        verdict = "모의실험 오차 안" if paired else "모의실험 오차 안일 수 있음"
    return f"{name} (순편익 차이 연 {_about(d, se)}, {verdict})", significant


def turning_for(robust, cd: bool) -> tuple[dict | None, dict | None]:
    """The stored grids of base ``cd`` of a :class:`~opwb.decision.robust.RobustAnswer` and
    their decoded frontiers: ``(plain, decoded)``, ``(None, None)`` when there are none.

    A base built in this process without them (e.g. by
    :func:`~opwb.decision.predictive.predictive_base` directly) has them computed here once,
    when its family weights still hold their fits, and kept in its in-memory cache."""
    from opwb.decision.robust import EXTRA
    base = robust.bases[cd] if robust.bases else None
    if base is None:
        return None, None
    stored = base._cache.get(EXTRA, {}).get(TURNING)
    if stored is None:
        stored = base._cache.get(_LAZY)
    if stored is None:
        weights = robust.weights[cd]
        if any(not w.fits for w in weights.values()):
            return None, None
        ans = robust.answer
        stored = turning_data(base, ans.frontiers[cd].reset_index(drop=True),
                              ans.spec.settings, ans.appetite, weights=weights,
                              families=robust.worlds[cd].families,
                              n_worlds=robust.worlds[cd].n_worlds)
        base._cache[_LAZY] = stored
    decoded = base._cache.get(_DECODED)
    if decoded is None or decoded[0] is not stored:
        decoded = (stored, _decoded(stored))
        base._cache[_DECODED] = decoded
    return stored, decoded[1]


def turning_rows(stored: Mapping | None, decoded: Mapping | None, rec, appetite,
                 settings_key: str, bond_rating: str) -> list[tuple[str, str, str, str]]:
    """Rows of :func:`opwb.decision.robust.what_decides` for the severity cap, the payment
    delay and the insurer default, from :func:`turning_data`'s stored grids (``stored``;
    ``decoded`` its frontiers as tables, :func:`turning_for`).

    For each assumption, from the value now outwards in each direction, the first value
    tried at which the recommendation's rule picks another structure than ``rec`` within
    ``appetite`` and what it picks, with the net-benefit difference and whether the
    simulation tells the two apart; else "바뀌지 않음" over the values tried. Rows say so
    when the grids were not computed, or were computed for other scenario settings
    (``settings_key``: :func:`opwb.decision.predictive.made_for` of the answer's)."""
    labels = LABELS
    p_now = PaymentAssumptions().probability(bond_rating)
    now = {"delay": f"{DELAY_PROBABILITY:.0%}",
           "default": f"× 1 (본 계약 보험사 {bond_rating}: 연 {p_now:.2%})"}
    if stored is None or stored.get("form") != _FORM:
        return [(labels[k], now.get(k, "—"), "계산되지 않음 (예측 모형을 다시 준비하면 계산)", "—")
                for k in ("cap", "delay", "default")]
    now["cap"] = "없음" if stored["cap_now"] is None else _eok(float(stored["cap_now"]))
    if stored.get("made_for") != settings_key:
        return [(labels[k], now[k], "기본 평가 설정에서만 계산됨 (지금 설정과 다름)", "—")
                for k in ("cap", "delay", "default")]
    ref = (rec.deductible, rec.limit)
    current = {"delay": DELAY_PROBABILITY, "default": 1.0, "cap": stored["cap_now"]}
    rows = []
    for kind in ("cap", "delay", "default"):
        points = decoded.get(kind, [])
        shown = [p for p in points if p["frontier"] is not None]
        skipped = [p for p in points if p["frontier"] is None]
        if kind == "cap" and current["cap"] is None:
            rows.append((labels[kind], now[kind], "상한이 없는 사례: 해당 없음", "—"))
            continue
        key = (lambda v: math.inf if v is None else float(v))
        c = key(current[kind])
        below = sorted([p for p in shown if key(p["value"]) < c], key=lambda p: -key(p["value"]))
        above = sorted([p for p in shown if key(p["value"]) > c], key=lambda p: key(p["value"]))
        changed, ties = False, False
        for side in (below, above):
            for p in side:
                got = best_under(p["frontier"], appetite)
                if got == ref:
                    continue
                text, significant = _change(p, got, rec)
                if not significant:
                    # another structure tops the table there, but by less than the
                    # simulation can tell: not a change of the answer
                    ties = True
                    continue
                rows.append((labels[kind], now[kind], _value_text(kind, p["value"],
                                                                  current[kind]), text))
                changed = True
                break
        if not changed:
            tried = [p["value"] for p in shown] + [current[kind]]
            text = f"{_range_text(kind, tried, current[kind])}에서 바뀌지 않음"
            notes = []
            if ties:
                notes.append("어떤 값에서는 순편익이 오차 안에서 같은 다른 구조가 1위가 됨")
            if skipped:
                notes.append(_skipped_text(kind, skipped, current[kind]))
            if notes:
                text += f" ({'; '.join(notes)})"
            rows.append((labels[kind], now[kind], text, "같음"))
    rows += _threshold_rows(decoded.get("threshold"), appetite, labels["threshold"])
    return rows


def _threshold_rows(points, appetite, label: str) -> list[tuple[str, str, str, str]]:
    """The threshold row: the fitted model's choice at each higher threshold against its
    choice at the case's (:func:`threshold_data`)."""
    from opwb.decision.robust import _about
    from opwb.scenarios.answer import structure_ko
    if not points:
        return [(label, "—", "계산되지 않음 (예측 모형을 다시 준비하면 계산)", "—")]
    rows = []
    for p in points:
        ref_t = p["reference"]
        now = _eok(float(p["now"]))
        what = (f"{_eok(float(p['value']))}({p['value'] / p['now']:g}배)으로 올려 다시 "
                "적합하면 (적합 모형 기준)")
        if p["frontier"] is None:
            rows.append((label, now, what, f"적합할 수 없음: {p['note']}"))
            continue
        ref, got = best_under(ref_t, appetite), best_under(p["frontier"], appetite)
        if got == ref:
            rows.append((label, now, what, "같음 (적합 모형의 선택이 바뀌지 않음)"))
            continue
        if got is None or ref is None:
            rows.append((label, now, what, "위험선호를 지키는 구조 없음" if got is None
                         else structure_ko(*got)))
            continue
        d, se, _ = _difference(p, got, ref)
        if abs(d) <= 1.96 * se:
            rows.append((label, now, what, "같음 (1위가 바뀌지만 순편익 차이가 모의실험 오차 안: "
                                           f"{structure_ko(*got)}, 연 {_about(d, se)})"))
            continue
        rows.append((label, now, what,
                     f"적합 모형의 선택이 {structure_ko(*ref)}에서 {structure_ko(*got)}으로 바뀜 "
                     f"(순편익 차이 연 {_about(d, se)}, 모의실험 오차보다 큼)"))
    return rows


def _value_text(kind: str, value, current) -> str:
    if kind == "delay":
        return f"{value:.0%}{'로 높이면' if value > current else '로 낮추면'}"
    if kind == "default":
        return "0 (부도 없음)이면" if value == 0 else f"× {value:g}로 높이면"
    if value is None:
        return "상한 없음이면"
    word = "로 높이면" if value > current else "로 낮추면"
    return f"{_eok(float(value))} ({value / current:g}배){word}"


def _range_text(kind: str, values, current) -> str:
    vals = [v for v in values if v is not None]
    lo, hi = min(vals), max(vals)
    if kind == "delay":
        return f"{lo:.0%}–{hi:.0%}"
    if kind == "default":
        return f"× {lo:g}–{hi:g}"
    text = f"{lo / current:g}–{hi / current:g}배 ({_eok(lo)}–{_eok(hi)})"
    return text + (" 및 상한 없음" if None in values else "")


def _skipped_text(kind: str, skipped, current) -> str:
    if kind != "cap":
        return "일부 값 계산 안 됨"
    parts = []
    for p in skipped:
        what = "상한 없음" if p["value"] is None else f"{p['value'] / current:g}배"
        why = ("평균이 무한한 손실분포를 뽑은 세계가 있어 모의실험 불가"
               if "infinite mean" in p["note"] else p["note"])
        parts.append(f"{what}: {why}")
    return "; ".join(parts)
