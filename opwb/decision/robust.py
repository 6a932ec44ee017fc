"""The answer on the predictive model: the recommendation, how robust it is, and the
premium at which each structure breaks even.

:func:`predictive_answer` takes a case's scenario specification, builds (or loads from the
store) the predictive bases of :mod:`opwb.decision.predictive` — with and without the
reference incidents — and answers on them exactly as :func:`opwb.scenarios.answer.
management_answer` answers on the plug-in bases: the frontier of the case's grid priced by
the quotes, the structure with the highest expected net benefit within the appetite
(expected recovery − premium + cost of capital × the bond's regulatory relief, every figure
read off the predictive distribution), compared with the cover in force. To that it adds:

- **robustness** (:func:`robustness`): among the structures within the appetite, the share
  of worlds in which each has the highest net benefit (``p_best``) and its **expected
  regret** ``E_w[max_b NB_w(b) − NB_w(a)]`` — what choosing ``a`` costs on average against
  knowing the world (Berger 1985, *Statistical Decision Theory and Bayesian Analysis*,
  §1.6), with its standard error over the worlds (``std / sqrt(n_worlds)``). A world's
  figures come from its own simulated years, so they include that world's Monte Carlo
  noise: ``p_best`` spreads a little more, and the regret is a little larger, than with
  exact figures;
- **break-even premium** (:func:`break_even`): the premium at which a structure's net
  benefit is zero, ``expected recovery + cost of capital × the bond's regulatory relief``
  (net benefit + premium), a figure that does not depend on the quote; with the quote's
  **payout ratio** (expected recovery / premium) and a flag when the quote lies below the
  insurer's expected payments. Its standard error is the net benefit's (the premium is
  fixed).

**Two views of the same worlds.** The recommendation and every figure beside it are those of
the pooled (predictive) distribution; ``p_best`` and the regret use each world's own
figures. Expected recoveries agree between the two (an expectation of the mixture is the
mixture of the expectations), but the capital relief does not: the 99.9% quantile of the
mixture is not the average of the worlds' quantiles, so a structure's relief and net benefit
on the pooled base differ from their averages over the worlds. The two rankings usually
agree; where they do not, the recommendation follows the predictive distribution
(Shevchenko 2011, ch. 7), and the robustness table shows how often and by how much another
structure does better world by world.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from opwb.data.units import MINUS, format_krw, format_krw_with_se, with_particle
from opwb.decision.predictive import (FamilyWeights, PredictiveSettings, WorldTable,
                                      _frame_from, _frame_plain, predictive_base)
from opwb.scenarios.answer import (VERSUS_CACHE, ManagementAnswer, management_answer,
                                   premium_model_for, structure_ko, versus_many)
from opwb.scenarios.evaluation import CURVES_CACHE, FIGURES_CACHE, figures_of
from opwb.scenarios.recommend import PAIRED_CACHE, Recommendation, _alternative
from opwb.scenarios.spec import Appetite, ScenarioSpec

__all__ = ["RobustAnswer", "predictive_answer", "predictive_bases", "robustness",
           "break_even", "eligible_mask", "what_decides", "case_predictive_settings"]

#: the key under which a stored predictive base keeps its world table and family weights
EXTRA = "predictive extra"


def eligible_mask(table: pd.DataFrame, appetite: Appetite) -> np.ndarray:
    """Which rows of a frontier meet every ceiling of ``appetite`` (the rule of
    :func:`opwb.scenarios.recommend.recommend`)."""
    ok = np.ones(len(table), dtype=bool)
    for col, ceiling in appetite.ceilings().items():
        ok &= (table[col] <= ceiling).to_numpy()
    return ok


def robustness(worlds: WorldTable, eligible: np.ndarray) -> pd.DataFrame:
    """Per structure within the appetite: ``p_best`` (share of worlds in which its net
    benefit is the highest among them), ``regret`` (expected regret, KRW a year) and
    ``regret_se``, indexed by (deductible, limit).

    Raises ``ValueError`` when no structure is eligible."""
    eligible = np.asarray(eligible, dtype=bool)
    if not eligible.any():
        raise ValueError("no structure meets the risk appetite")
    nb = np.asarray(worlds.values["net_benefit"], dtype=float)[:, eligible]
    k = nb.shape[0]
    best = np.argmax(nb, axis=1)
    regret = nb.max(axis=1, keepdims=True) - nb
    out = pd.DataFrame({
        "p_best": np.bincount(best, minlength=nb.shape[1]) / k,
        "regret": regret.mean(axis=0),
        "regret_se": regret.std(axis=0, ddof=1) / math.sqrt(k) if k > 1 else np.nan,
    }, index=pd.MultiIndex.from_arrays([worlds.deductibles[eligible],
                                        worlds.limits[eligible]],
                                       names=["deductible", "limit"]))
    return out


def break_even(table: pd.DataFrame, cost_of_capital: float) -> pd.DataFrame:
    """Per structure of a frontier: ``premium``, ``expected_recovery`` (the insurer's
    expected payments), ``payout_ratio`` (= expected recovery / premium),
    ``below_expected`` (the premium is below the expected payments: a price the insurer
    would expect to lose on), ``break_even_premium`` = expected recovery + cost of capital ×
    the bond's regulatory relief (the premium at which the net benefit is zero) and
    ``break_even_premium_se`` (the net benefit's standard error). KRW a year; indexed like
    the table."""
    be = table["expected_recovery"] + cost_of_capital * table["bond_regulatory_relief"]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(table["premium"] > 0, table["expected_recovery"] / table["premium"],
                         math.inf)
    return pd.DataFrame({"name": table["name"], "deductible": table["deductible"],
                         "limit": table["limit"], "premium": table["premium"],
                         "expected_recovery": table["expected_recovery"],
                         "expected_recovery_se": table["expected_recovery_se"],
                         "payout_ratio": ratio,
                         "below_expected": (table["premium"] < table["expected_recovery"]),
                         "break_even_premium": be,
                         "break_even_premium_se": table["net_benefit_se"]}, index=table.index)


@dataclass(frozen=True)
class RobustAnswer:
    """The answer on the predictive model (see this module's docstring).

    ``answer`` is the :class:`~opwb.scenarios.answer.ManagementAnswer` on the predictive
    bases (keys: reference incidents included?); ``worlds`` and ``weights`` per base the
    world table and the families' weights; ``settings`` the worlds' size.
    """

    answer: ManagementAnswer
    worlds: Mapping[bool, WorldTable]
    weights: Mapping[bool, Mapping[str, FamilyWeights]]
    settings: PredictiveSettings
    bases: Mapping = None
    #: the reference incidents' gross losses (label → KRW), for "what a repeat would cost"
    incidents: Mapping[str, float] = None

    def with_answer(self, answer: ManagementAnswer) -> "RobustAnswer":
        """The same predictive model answered again (another appetite or settings)."""
        return dataclasses.replace(self, answer=answer)

    def recommendation(self, cd: bool = True) -> Recommendation | str:
        return self.answer.recommendations[cd]

    @property
    def recommendations(self) -> Mapping[bool, Recommendation | str]:
        """The answer's recommendations (keys: reference incidents included?)."""
        return self.answer.recommendations

    def ok(self, cd: bool = True) -> bool:
        return self.answer.ok(cd)

    def robustness(self, cd: bool = True, appetite: Appetite | None = None) -> pd.DataFrame:
        """:func:`robustness` over the structures within ``appetite`` (default the
        answer's) on the predictive frontier of base ``cd``."""
        table = self.answer.frontiers[cd]
        mask = eligible_mask(table, self.answer.appetite if appetite is None else appetite)
        return robustness(self.worlds[cd], mask)

    def recommended_robustness(self, cd: bool = True) -> tuple[float, float, float]:
        """(p_best, regret, regret_se) of the recommended structure."""
        rec = self.recommendation(cd)
        if not isinstance(rec, Recommendation):
            raise ValueError(rec)
        row = self.robustness(cd).loc[(rec.deductible, rec.limit)]
        return float(row["p_best"]), float(row["regret"]), float(row["regret_se"])

    def break_even(self, cd: bool = True) -> pd.DataFrame:
        return break_even(self.answer.frontiers[cd],
                          self.answer.spec.settings.cost_of_capital)

    def what_decides(self, cd: bool = True) -> pd.DataFrame:
        """:func:`what_decides` of this answer."""
        return what_decides(self, cd)

    def undecided_cells(self, cd: bool = True) -> dict[str, str]:
        """Cells whose family the data do not pick: cell → ``"lomax 52% · ..."``."""
        return {c: w.describe() for c, w in self.weights[cd].items() if not w.decided}

    # -- for management ---------------------------------------------------------------------
    def break_even_row(self, cd: bool, rec: Recommendation) -> pd.Series:
        """The :meth:`break_even` row of structure ``rec`` on base ``cd`` (its premium,
        expected claims, payout ratio and break-even premium with its error, KRW)."""
        be = self.break_even(cd)
        return be[(be["deductible"] == rec.deductible) & (be["limit"] == rec.limit)].iloc[0]

    def sentence_ko(self, cd: bool = True) -> str:
        """The answer for an executive, in plain Korean (no statistics vocabulary; the
        precision is in :meth:`detail_ko`): when the cover in force breaks the appetite, that
        first; the recommended structure and its premium; its gain on the cover in force in
        net benefit (defined in the sentence); in how many of the worlds it is the best; its
        break-even premium; a quote below the insurer's expected payments; whether the
        reference incidents change the answer. Amounts in 억원, rounded to one significant
        digit of their Monte Carlo error ("약")."""
        ans = self.answer
        rec = ans.recommendations[cd]
        if not isinstance(rec, Recommendation):
            return ans.sentence_ko(cd)
        out = []
        outside = ans.current_outside.get(cd, ())
        if outside:
            table = ans.frontiers[cd]
            ok = table[eligible_mask(table, ans.appetite)]
            cheap = ok.loc[ok["premium"].idxmin()]
            out.append(f"현행 계약은 위험선호를 벗어납니다 ({', '.join(outside)}). 위험선호를 "
                       f"지키는 가장 싼 구조는 {structure_ko(cheap['deductible'], cheap['limit'])}"
                       f"(연 보험료 {_eok(float(cheap['premium']))})입니다.")
        premium = float(rec.structure["premium"])
        out.append(f"권고: {structure_ko(rec.deductible, rec.limit)} "
                   f"(연 보험료 {_eok(premium)}).")
        if self.bases:
            note = bond_recognition_note(self.bases[cd], ans.spec.settings)
            if note:
                out.append(note)
        vs = ans.versus_current[cd]
        if vs is not None:
            d = vs.loc["net_benefit"]
            gain = _about(abs(float(d["difference"])), float(d["se"]))
            if not d["distinguishable"]:
                out.append(f"{ans.current.name}보다 낫다고는 아직 확인되지 "
                           f"않습니다 (순편익 차이 연 {gain}, 순편익 = 기대 보험금 − 보험료 + "
                           "자본비용 절감).")
            elif d["difference"] > 0:
                out.append(f"{ans.current.name}보다 순편익이 연 {gain} 큽니다 "
                           "(순편익 = 기대 보험금 − 보험료 + 자본비용 절감).")
            else:
                out.append(f"{ans.current.name}보다 순편익은 연 {gain} 작지만, 위험선호를 "
                           "지키는 구조 가운데 가장 큽니다 (순편익 = 기대 보험금 − 보험료 + "
                           "자본비용 절감).")
        p_best, _, _ = self.recommended_robustness(cd)
        k = self.worlds[cd].n_worlds
        out.append(f"관측된 손실 데이터만으로는 정할 수 없는 모수와 손실분포를 바꾸어 본 {k:,}개 경우 중 "
                   f"{p_best:.0%}에서 가장 유리한 구조입니다.")
        row = self.break_even_row(cd, rec)
        out.append(f"보험료가 연 {_about(row['break_even_premium'], row['break_even_premium_se'])}"
                   f"(손익분기 보험료)보다 낮으면 이득입니다.")
        if row["below_expected"]:
            out.append(f"이 보험료는 보험사가 예상하는 연간 지급액"
                       f"({_about(row['expected_recovery'], row['expected_recovery_se'])})보다 "
                       "낮습니다: 보험사가 가격을 올릴 수 있습니다.")
        if len(ans.recommendations) > 1:
            out.append(ans._cd_text(cd, rec))
        return " ".join(out)

    def detail_ko(self, cd: bool = True) -> str:
        """The precision behind :meth:`sentence_ko`: the paired standard error of the gain,
        the expected regret, the predictive model's size and the cells whose family the data
        do not pick."""
        ans = self.answer
        rec = ans.recommendations[cd]
        if not isinstance(rec, Recommendation):
            return ""
        parts = []
        vs = ans.versus_current[cd]
        if vs is not None:
            d = vs.loc["net_benefit"]
            parts.append(f"현행 대비 순편익 차이 {_signed(d['difference'], d['se'])} "
                         "(같은 모의실험 연도의 대응 표준오차)")
        p_best, regret, regret_se = self.recommended_robustness(cd)
        parts.append(f"기대 후회 연 {format_krw_with_se(regret, regret_se)} "
                     "(세계마다 최선 구조와의 순편익 차이의 평균)")
        turns = self.what_decides(cd)
        turns = turns[~turns["바뀐 권고"].isin(["같음", "—", "2위 구조와 구별됨"])
                      & ~turns["가정"].isin(["모의실험 연수"])]
        if len(turns):
            parts.append("권고를 바꾸는 가정: " + "; ".join(
                f"{r['가정']} {r['권고가 바뀌는 값']} → {r['바뀐 권고']}"
                for _, r in turns.head(3).iterrows()))
        base = self.bases[cd] if self.bases else None
        years = f" · 합친 모의실험 {base.n_years:,}년 (시드 {base.seed})" if base else ""
        parts.append(f"예측 모형: 모수 재추정 세계 {self.settings.n_worlds:,}개 × "
                     f"{self.worlds[cd].world_years:,}년{years}")
        undecided = self.undecided_cells(cd)
        if undecided:
            parts.append(f"손실분포군을 데이터가 정하지 못한 사건유형 {len(undecided)}개 "
                         f"({', '.join(undecided)}): 믿을 만한 분포군을 아카이케 가중치로 섞음")
        return " · ".join(parts)

    def facts(self, cd: bool = True) -> pd.DataFrame:
        """For the recommendation and the cover in force: premium, expected claims, payout
        ratio, break-even premium, the internal-fraud loss the bank keeps once in 10 and once
        in 100 years, and what a repeat of each reference incident would cost (recovered /
        kept by the bank), as Korean text (rows) × structure (columns)."""
        ans = self.answer
        rec = ans.recommendations[cd]
        if not isinstance(rec, Recommendation):
            raise ValueError(rec)
        settings = ans.spec.settings
        base = self.bases[cd]
        cols = {}
        for alt in (rec.alternative("권고 구조"), ans.current):
            r = figures_of(base, alt, settings)
            be = r["expected_recovery"] + settings.cost_of_capital * r["bond_regulatory_relief"]
            col = {
                "연간 보험료": _eok(r["premium"]),
                "기대 보험금 (연)": _about(r["expected_recovery"], r["expected_recovery_se"]),
                "지급률 (기대 보험금 ÷ 보험료)": (f"{r['loss_ratio']:.0%}"
                                            if math.isfinite(r["loss_ratio"]) else "—"),
                "손익분기 보험료 (연)": _about(be, r["net_benefit_se"]),
                "10년에 한 번 은행이 떠안는 내부사취 손실": _about(
                    r["retained_if_1in10"], r["retained_if_1in10_se"]),
                "100년에 한 번 은행이 떠안는 내부사취 손실": _about(
                    r["retained_if_1in100"], r["retained_if_1in100_se"]),
            }
            for label, loss in (self.incidents or {}).items():
                paid = _single_loss_payment(alt, loss)
                col[f"{label}({_eok(loss)})이 다시 나면: 보험금 / 은행 부담"] = \
                    f"{_eok(paid)} / {_eok(loss - paid)}"
            cols[f"{alt.name} ({structure_ko(alt.deductible, alt.limit)})"] = col
        return pd.DataFrame(cols)


def bond_recognition_note(base, settings) -> str:
    """A plain-Korean sentence when the bond earns no capital relief at the valuation date —
    its residual term is 90 days or less (or it has expired, or is not yet in force; Basel II
    para 678) or it fails a qualifying standard (para 677) — so that a net benefit without
    relief is not read as a verdict on the structure; "" otherwise. Every structure of the
    grid takes the bond's dates and insurer (:func:`opwb.insurance.eligibility.
    eligibility_table`)."""
    from opwb.insurance.eligibility import eligibility_table
    vdate = settings.valuation_date
    table = eligibility_table(base.programme, valuation_date=vdate,
                              convention=settings.haircut_convention)
    row = table.loc[table["policy_id"] == base.bond_policy]
    if row.empty or float(row.iloc[0]["recognition"]) > 0:
        return ""
    r = row.iloc[0]
    when = "" if vdate is None else f"평가기준일({pd.Timestamp(vdate):%Y-%m-%d})에 "
    if r["failed"]:
        why = f"적격 요건을 충족하지 않아({r['reasons']})"
    elif math.isnan(float(r["residual_days"])):
        why = "보험기간(개시일·만기일)이 없어"
    elif float(r["residual_days"]) <= 0:
        why = "보험기간이 이미 끝나"
    elif float(r["residual_days"]) <= 90:
        why = f"잔존기간이 {int(r['residual_days'])}일로 90일 이하라"
    else:
        why = "아직 보험기간이 시작되기 전이라"
    return (f"{when}본 보험(BBB)은 {why} 규제자본 경감이 인정되지 않습니다(바젤 II 677·678항): "
            "여기의 순편익은 기대 보험금 − 보험료뿐입니다.")


MIN_FAMILY_WORLDS = 10
"""A family's conditional answer is shown only when at least this many worlds drew it (fewer
worlds give a best structure that is mostly Monte Carlo noise)."""


def what_decides(robust: "RobustAnswer", cd: bool = True) -> pd.DataFrame:
    """What the recommendation rests on: for each assumption, its value now, the value at
    which the recommendation changes and to what (Korean text; amounts 억원).

    Rows (each from the predictive frontier, world table and stored grids already computed;
    no new simulation on a page):

    - **the recommendation's premium**: it stays best until its premium rises by its net
      benefit's margin over the runner-up within the appetite (net benefit falls one for
      one with the premium), or passes the premium ceiling;
    - **the premium ceiling** of the appetite: below the recommendation's premium the best
      structure that remains;
    - **the cost of capital**: net benefit is linear in it (expected recovery − premium +
      cost of capital × relief), so the rates at which another structure overtakes are
      exact on the frontier's figures;
    - **the severity family** of every cell whose family the data do not pick: the best
      structure on average over the worlds that drew each family (conditional expected net
      benefit from the world table), for families drawn by at least
      :data:`MIN_FAMILY_WORLDS` worlds;
    - **the severity cap, the payment delay and the insurer default**
      (:mod:`opwb.decision.turning`): the frontier evaluated again under other values —
      the worlds simulated again under 0.25×–5× the cap and none, the programme applied
      again to the same years with 0–30% of claims paid late and 0–100× the ratings'
      default probabilities — computed once when the predictive bases are built and
      stored with them; the first value tried at which the recommendation's rule picks
      another structure, with the paired difference of their net benefits there, else
      "바뀌지 않음" over the values tried;
    - **the reference incidents** (when the case has them): the answer without (with) them;
    - **the run length**: whether the simulated years tell the recommendation from the
      runner-up (paired error), else about how many years would.

    - **the collection threshold**: the fitted (plug-in) model's choice with its families
      re-estimated above twice the case's threshold against its choice at the case's
      (:func:`opwb.decision.turning.threshold_data`; the predictive model's family weights
      and worlds would all need rebuilding, so the row says it is the fitted model's).
    """
    ans = robust.answer
    rec = ans.recommendations[cd]
    if not isinstance(rec, Recommendation):
        raise ValueError(rec)
    table = ans.frontiers[cd].reset_index(drop=True)
    ok = eligible_mask(table, ans.appetite)
    name = lambda i: structure_ko(table.at[i, "deductible"], table.at[i, "limit"])  # noqa
    best = int(table.index[(table["deductible"] == rec.deductible)
                           & (table["limit"] == rec.limit)][0])
    nb = table["net_benefit"].to_numpy(float)
    rows = []
    others = [i for i in np.flatnonzero(ok) if i != best]
    premium = float(table.at[best, "premium"])
    if others:
        second = max(others, key=lambda i: nb[i])
        margin = nb[best] - nb[second]
        ceiling = ans.appetite.max_premium
        limit_at = premium + margin
        to = name(second)
        if ceiling is not None and ceiling < limit_at:
            limit_at = ceiling
            rest = [i for i in others if table.at[i, "premium"] <= ceiling]
            to = name(max(rest, key=lambda i: nb[i])) if rest else "위험선호를 지키는 구조 없음"
        rows.append(("권고 구조의 보험료", f"연 {_eok(premium)}",
                     f"연 {_eok(limit_at)} 초과", to))
    if ans.appetite.max_premium is not None:
        below = [i for i in others if table.at[i, "premium"] < premium]
        rows.append(("위험선호: 연간 보험료 상한", _eok(ans.appetite.max_premium),
                     f"{_eok(premium)} 미만",
                     name(max(below, key=lambda i: nb[i])) if below
                     else "위험선호를 지키는 구조 없음"))
    coc = float(ans.spec.settings.cost_of_capital)
    base_nb = (table["expected_recovery"] - table["premium"]).to_numpy(float)
    relief = table["bond_regulatory_relief"].to_numpy(float)
    up, down = (math.inf, None), (-math.inf, None)
    for i in others:
        dq = relief[i] - relief[best]
        if dq == 0:
            continue
        c = (base_nb[best] - base_nb[i]) / dq
        if dq > 0 and coc < c <= 1 and c < up[0]:
            up = (c, i)
        if dq < 0 and 0 <= c < coc and c > down[0]:
            down = (c, i)
    for (c, i), word in ((up, "이상"), (down, "이하")):
        if i is not None:
            rows.append(("자본비용률", f"{coc:.0%}", f"{c:.1%} {word}", name(i)))
    if up[1] is None and down[1] is None:
        rows.append(("자본비용률", f"{coc:.0%}", "0–100%에서 바뀌지 않음", "—"))
    worlds = robust.worlds[cd]
    nbw = np.asarray(worlds.values["net_benefit"], dtype=float)
    for cell, w in robust.weights[cd].items():
        if w.decided:
            continue
        fam = np.asarray(worlds.families[cell])
        changed, judged = [], 0
        for f, weight in zip(w.families, w.weights):
            sel = fam == f
            if sel.sum() < MIN_FAMILY_WORLDS:
                continue
            judged += 1
            mean = nbw[sel].mean(axis=0)
            mean[~ok] = -np.inf
            j = int(np.argmax(mean))
            if j != best:
                changed.append((f"{cell} 손실분포군", f"가중 평균 ({f} {weight:.0%})",
                                f"{f}만 ({int(sel.sum())}개 세계)", name(j)))
        if judged:
            rows += changed or [(f"{cell} 손실분포군", f"가중 평균 ({len(w.families)}개 분포군)",
                                 "세계 10개 이상인 분포군 하나만 써도", "같음")]
    if len(ans.recommendations) > 1:
        other = ans.recommendations[not cd]
        label = robust.answer.spec.incidents[0][1] if \
            robust.answer.spec.incidents else "기준 사건"
        rows.append((f"{label}", "포함" if cd else "제외", "제외" if cd else "포함",
                     "같음" if isinstance(other, Recommendation) and rec.same_structure(other)
                     else (structure_ko(other.deductible, other.limit)
                           if isinstance(other, Recommendation) else "위험선호를 지키는 구조 없음")))
    rows += _turning(robust, cd, rec)
    same = rec.indistinguishable
    base = robust.bases[cd] if robust.bases else None
    if len(same) > 1:
        rows.append(("모의실험 연수", f"{base.n_years:,}년" if base else "—",
                     "더 늘려도 구별되지 않을 수 있음",
                     f"순편익이 구별되지 않는 구조 {len(same) - 1}개"))
    elif others:
        rows.append(("모의실험 연수", f"{base.n_years:,}년" if base else "—",
                     "—", "2위 구조와 구별됨"))
    return pd.DataFrame(rows, columns=["가정", "지금", "권고가 바뀌는 값", "바뀐 권고"])


def _turning(robust: "RobustAnswer", cd: bool, rec: Recommendation) -> list[tuple]:
    """The severity-cap, payment-delay and insurer-default rows
    (:func:`opwb.decision.turning.turning_rows`)."""
    from opwb.decision.predictive import made_for
    from opwb.decision.turning import _grid_of, turning_for, turning_rows
    ans = robust.answer
    base = robust.bases[cd] if robust.bases else None
    memo = base._cache.setdefault("turning rows", {}) if base is not None else {}
    at = (ans.appetite, ans.spec.settings, rec.deductible, rec.limit,
          float(rec.structure["premium"]))
    if at in memo:                 # asked again by every redraw of the same answer
        return memo[at]
    stored, decoded = turning_for(robust, cd)
    key = made_for(ans.spec.settings, *_grid_of(ans.frontiers[cd]))
    rating = (base.programme[base.bond_policy].insurer_rating if base is not None
              else str(rec.structure.get("insurer_rating", "")))
    memo[at] = rows = turning_rows(stored, decoded, rec, ans.appetite, key, rating)
    return rows


def _single_loss_payment(alt, loss: float) -> float:
    """The bond's contractual payment for one loss: coinsurance × the part between the
    deductible and the limit, within the annual aggregate limit."""
    layer = min(max(loss - alt.deductible, 0.0), alt.limit)
    return float(min(alt.coinsurance * layer, alt.aggregate_limit))


def _eok(x: float) -> str:
    whole = abs(x) >= 1e10 or round(x / 1e8, 1) == round(x / 1e8)
    return format_krw(x, unit="억", digits=0 if whole else 1)


def _about(value: float, se: float) -> str:
    """``"약 60억원"``: the amount rounded to one significant digit of its error (exact
    figures without "약")."""
    v, s = float(value), float(se)
    if not (math.isfinite(s) and s > 0):
        return _eok(v)
    step = 10 ** math.floor(math.log10(s))
    r = round(v / step) * step
    digits = max(0, -int(math.floor(math.log10(step / 1e8)))) if step < 1e8 else 0
    return "약 " + format_krw(r + 0.0, unit="억", digits=digits)


def _signed(value: float, se: float) -> str:
    """``value ± se`` with its sign (``+``/``−``), none when it rounds to 0 ("0 ± 10억원")."""
    text = format_krw_with_se(float(value), float(se))      # "−29 ± 11억원", "0 ± 10억원"
    head = text.split(" ")[0]
    return text if head.startswith(MINUS) or not head.strip("0.,억원조만") else "+" + text


# --------------------------------------------------------------------------- build and store
_PREDICTIVE: dict = {}


def _weights_plain(weights: Mapping[str, FamilyWeights]) -> dict:
    return {c: {"families": list(w.families), "weights": list(map(float, w.weights)),
                "aic": list(map(float, w.aic)), "n": int(w.n)} for c, w in weights.items()}


def _weights_from(d: Mapping) -> dict[str, FamilyWeights]:
    return {c: FamilyWeights(c, tuple(v["families"]), tuple(v["weights"]), tuple(v["aic"]),
                             {}, int(v["n"])) for c, v in d.items()}


#: What a stored predictive base holds beside its years (2: the answer's paired comparisons;
#: 3: the frontier under other severity caps and payment assumptions; 4: and the fitted
#: model above a higher collection threshold; 5: its worlds as blocks, every stored error
#: resampling them; 6: the figures of the structures a page shows, :func:`figures_of`;
#: 7: every grid structure against the cover in force, :func:`versus_many`, and the shown
#: structures' exceedance curves);
#: part of its key, so a store of an older form is rebuilt rather than read without them.
_STORED_FORM = 7


def _variant(settings: PredictiveSettings) -> str:
    from opwb.decision.predictive import source_digest
    from opwb.decision.turning import _FORM as turning_form
    text = json.dumps([settings.n_worlds, settings.world_years, settings.min_weight,
                       source_digest(), _STORED_FORM, turning_form])
    return "pred-" + hashlib.sha256(text.encode()).hexdigest()[:12]


def predictive_bases(spec: ScenarioSpec | None = None, *, case=None,
                     settings: PredictiveSettings | None = None,
                     progress: Callable[[float, str], None] | None = None,
                     cache: bool = True, client=None) -> tuple[dict, dict, dict]:
    """The predictive bases of a case (with and without its reference incidents), their
    world tables and family weights: ``(bases, worlds, weights)``, each keyed like
    :func:`opwb.scenarios.spec.scenario_bases`.

    Built once per case and settings and kept in the on-disk store beside the plug-in
    bases (:mod:`opwb.scenarios.store`; no loss record is stored). ``settings`` default:
    the case's (``predictive_worlds``, ``world_years``). ``client`` (a
    ``distributed.Client``) runs the worlds as work units on that Dask cluster; the numbers
    are the in-process ones (:func:`opwb.decision.predictive.predictive_base`).
    """
    from opwb.data.case import bundled_case
    from opwb.scenarios.spec import case_inputs, scenario_bases, spec_for, stored_case_key
    case = bundled_case() if case is None else case
    losses, programme, quotes = case_inputs(case)
    spec = spec_for(case, quotes) if spec is None else spec
    settings = settings or case_predictive_settings(case)
    case_key, frozen = stored_case_key(case, spec)
    key = (spec, case_key, settings)
    if cache and key in _PREDICTIVE:
        return _PREDICTIVE[key]
    def build() -> dict:
        plug = scenario_bases(spec, case=case)
        out, fitted = {}, {}
        sides = list(plug)
        for i, cd in enumerate(sides):
            step = None if progress is None else \
                (lambda f, t, i=i: progress((i + f) / len(sides), f"예측 모형: {t}"))
            base, worlds, weights = predictive_base(
                plug[cd], losses, n_years=spec.n_years, seed=spec.seed,
                deductibles=spec.deductibles, limits=spec.limits,
                premium_for=lambda b: premium_model_for(b, quotes, spec),
                scenario_settings=spec.settings, settings=settings, progress=step,
                client=client)
            base._cache[EXTRA] = {"worlds": worlds.to_plain(),
                                  "weights": _weights_plain(weights)}
            out[cd] = base
            fitted[cd] = (weights, worlds)
        _store_answer_work(out, quotes, spec)
        _store_turning(out, fitted, spec, progress, plug=plug, losses=losses,
                       premium_for=lambda b: premium_model_for(b, quotes, spec))
        return out

    if cache:
        from opwb.scenarios.store import stored_bases
        bases = stored_bases(spec, build, losses, programme, progress=progress,
                             case_key=case_key, variant=_variant(settings), models=frozen)
    else:
        bases = build()
    worlds = {cd: WorldTable.from_plain(b._cache[EXTRA]["worlds"]) for cd, b in bases.items()}
    weights = {cd: _weights_from(b._cache[EXTRA]["weights"]) for cd, b in bases.items()}
    out = (bases, worlds, weights)
    if cache:
        _PREDICTIVE[key] = out
    return out


# -- the answer's paired comparisons, stored with the bases ---------------------------------
# The recommendation's paired errors against every structure near it and its comparison with
# the cover in force re-evaluate a dozen structures on every simulated year (most of a page's
# kernel time). They depend only on the base, the settings and the structures, so they are
# computed once when the bases are built (for the case's appetite) and kept in the store;
# another appetite or structure computes the pairs it lacks as before.
_PAIRED, _VERSUS, _WORK = PAIRED_CACHE, VERSUS_CACHE, "answer work"


def _store_answer_work(bases: Mapping[bool, "ScenarioBase"], quotes, spec: ScenarioSpec
                       ) -> None:
    """Answer once on the freshly built ``bases`` (filling their caches of paired
    comparisons) and put those caches, as plain values, beside the world tables."""
    from opwb.decision.predictive import made_for
    from opwb.scenarios.spec import current_cover
    frontiers = {cd: WorldTable.from_plain(b._cache[EXTRA]["worlds"]).frontier
                 for cd, b in bases.items()}
    if any(f is None for f in frontiers.values()):
        return
    ans = management_answer(bases, quotes, spec=spec, frontiers=frontiers)
    current = current_cover(next(iter(bases.values())))
    for cd, base in bases.items():
        # the figures a page shows of the recommendation, the cover in force and the quotes
        rec = ans.recommendations.get(cd)
        shown = [current, *quotes] + ([rec.alternative()] if isinstance(rec, Recommendation)
                                      else [])
        # with their exceedance curves (the explorer's chart, notebook 03's curves)
        versus_many(base, shown, current, spec.settings, curves=True)
        # every structure of the grid against the cover in force: another appetite on a
        # page recommends one of them and then compares nothing anew (the 1-s response)
        versus_many(base, [_alternative(r) for _, r in frontiers[cd].iterrows()], current,
                    spec.settings)
        curves = base._cache[(CURVES_CACHE, spec.settings)]
        paired = base._cache.get((_PAIRED, spec.settings), {})
        versus = base._cache[(_VERSUS, spec.settings, current)]
        base._cache[EXTRA][_WORK] = {
            "figures": [[list(k), {m: float(v) for m, v in f.items()}] for k, f in
                        base._cache[(FIGURES_CACHE, spec.settings)].items()],
            "made_for": made_for(spec.settings, spec.deductibles, spec.limits),
            "paired": [[list(kb), list(ka), float(d), float(se)]
                       for (kb, ka), (d, se) in paired.items()],
            "versus": [[list(k), _frame_plain(f.reset_index())] for k, f in versus.items()],
            "curves": [[k if k == "gross" else list(k), p, v]
                       for k, (p, v) in curves.items()]}


def _store_turning(bases: Mapping[bool, "ScenarioBase"], fitted: Mapping, spec: ScenarioSpec,
                   progress: Callable[[float, str], None] | None, *, plug=None, losses=None,
                   premium_for=None) -> None:
    """The frontier under other severity caps and payment assumptions
    (:func:`opwb.decision.turning.turning_data`), computed once on the freshly built bases
    (their family weights still hold the fits the worlds' refits need) and put beside the
    world tables; with the plug-in bases ``plug``, the case's ``losses`` and the quotes'
    ``premium_for``, the fitted model at a higher collection threshold too
    (:func:`opwb.decision.turning.threshold_data`)."""
    from opwb.decision.turning import TURNING, threshold_data, turning_data
    for i, (cd, base) in enumerate(bases.items()):
        weights, worlds = fitted[cd]
        if worlds.frontier is None:
            continue
        step = None if progress is None else \
            (lambda f, t, i=i: progress(min(1.0, (i + f) / len(bases)), t))
        base._cache[EXTRA][TURNING] = turning_data(
            base, worlds.frontier, spec.settings, spec.appetite, weights=weights,
            families=worlds.families, n_worlds=worlds.n_worlds, models=worlds.models,
            progress=step)
        if plug is not None and cd in plug:
            base._cache[EXTRA][TURNING]["kinds"]["threshold"] = threshold_data(
                plug[cd], losses, spec.settings, premium_for, spec.deductibles, spec.limits)


def _restore_answer_work(bases: Mapping[bool, "ScenarioBase"], spec: ScenarioSpec) -> None:
    """Put the stored paired comparisons back into the bases' caches (once per base), when
    they were computed with these settings."""
    from opwb.decision.predictive import made_for
    from opwb.scenarios.spec import current_cover
    key = made_for(spec.settings, spec.deductibles, spec.limits)
    current = current_cover(next(iter(bases.values())))
    for base in bases.values():
        work = base._cache.get(EXTRA, {}).get(_WORK)
        done = ("answer work restored", spec.settings)
        if not work or work.get("made_for") != key or base._cache.get(done):
            continue
        paired = base._cache.setdefault((_PAIRED, spec.settings), {})
        for kb, ka, d, se in work["paired"]:
            paired.setdefault((tuple(kb), tuple(ka)), (float(d), float(se)))
        versus = base._cache.setdefault((_VERSUS, spec.settings, current), {})
        for k, f in work["versus"]:
            versus.setdefault(tuple(k), _frame_from(f).set_index("figure"))
        known = base._cache.setdefault((FIGURES_CACHE, spec.settings), {})
        for k, f in work.get("figures", []):
            known.setdefault(tuple(k), {m: float(v) for m, v in f.items()})
        drawn = base._cache.setdefault((CURVES_CACHE, spec.settings), {})
        for k, p, v in work.get("curves", []):
            drawn.setdefault(k if k == "gross" else tuple(k), (np.asarray(p), np.asarray(v)))
        base._cache[done] = True


def case_predictive_settings(case) -> PredictiveSettings:
    """The case's predictive-model size (``predictive_worlds``, ``world_years``)."""
    return PredictiveSettings(int(getattr(case, "predictive_worlds", 100)),
                              int(getattr(case, "world_years", 10_000)))


def predictive_answer(spec: ScenarioSpec | None = None, *, case=None,
                      appetite: Appetite | None = None,
                      settings: PredictiveSettings | None = None,
                      progress: Callable[[float, str], None] | None = None,
                      paired: bool = True, cache: bool = True) -> RobustAnswer:
    """The recommendation on the predictive model with its robustness and break-even
    premiums (see this module's docstring).

    Parameters
    ----------
    spec : ScenarioSpec, optional
        The case's scenario (default :func:`opwb.scenarios.spec.spec_for` of ``case``).
    case : opwb.data.case.Case, optional
        The bank's case (default the bundled one).
    appetite : Appetite, optional
        Management's ceilings (default the case's).
    settings : PredictiveSettings, optional
        Worlds and years per world (default the case's).
    progress : callable ``(fraction, text)``, optional
    paired : bool
        Indistinguishable structures by paired errors on the predictive base (default).
    cache : bool
        Use the store (default).

    Returns
    -------
    RobustAnswer

    Raises
    ------
    opwb.DataError, ValueError
        From the case (see :func:`opwb.scenarios.spec.scenario_bases`).
    """
    from opwb.data.case import bundled_case
    from opwb.scenarios.spec import case_inputs, spec_for
    case = bundled_case() if case is None else case
    losses, _, quotes = case_inputs(case)
    spec = spec_for(case, quotes) if spec is None else spec
    settings = settings or case_predictive_settings(case)
    bases, worlds, weights = predictive_bases(spec, case=case, settings=settings,
                                              progress=progress, cache=cache)
    from opwb.decision.predictive import made_for
    key = made_for(spec.settings, spec.deductibles, spec.limits)
    stored = {cd: w.frontier for cd, w in worlds.items()
              if w.frontier is not None and w.frontier.attrs.get("made_for") == key}
    _restore_answer_work(bases, spec)
    ans = management_answer(bases, quotes, spec=spec, appetite=appetite, paired=paired,
                            frontiers=stored if len(stored) == len(bases) else None)
    incidents = {label: float(losses.loc[losses["event_id"] == i, "gross_loss"].sum())
                 for i, label in spec.incidents}
    return RobustAnswer(ans, worlds, weights, settings, bases, incidents)
