"""The four AMA data elements for people (issue 23): which elements a model uses, each cell's
sources and their weights, and capital with all of them, with each left out or added alone
(:func:`opwb.scenarios.elements.four_elements`). Korean headers, amounts in 억원, every Monte
Carlo figure as "value ± standard error" rounded to that error; nothing here computes a
figure.
"""
from __future__ import annotations

import math

import pandas as pd

from opwb.data.taxonomy import EVENT_TYPE_CODES, label
from opwb.data.units import format_krw, format_krw_with_se, format_number, severity_cap_text
from opwb.fitting.elements import ELEMENT_NAMES_KO, ELEMENTS, THIN_CELL
from opwb.report.scenario_tables import percent_with_se

__all__ = ["VARIANT_KO", "variant_ko", "elements_text_ko", "elements_capital_ko",
           "elements_cells_ko", "elements_sources_ko", "elements_sentence_ko",
           "model_elements_ko", "elements_answers_ko", "scenario_sd_ko", "elements_sheets",
           "group_effect_ko", "group_losses_ko", "group_effect_sentence_ko", "family_range_ko",
           "family_range_sentence_ko"]

VARIANT_KO = {"all": "사례의 모든 요소", "internal only": "내부 손실만 (시나리오 기준의 모형)",
              "without scenario caps": "모든 요소, 상한은 사례의 단일 상한",
              **{f"without {e}": f"{ELEMENT_NAMES_KO[e]} 제외" for e in ELEMENTS},
              **{f"with {e}": f"내부 손실 + {ELEMENT_NAMES_KO[e]}" for e in ELEMENTS}}
"""Korean names of the variants of :func:`opwb.scenarios.elements.four_elements`."""


def variant_ko(name: str) -> str:
    return VARIANT_KO.get(name, name)


def elements_text_ko(elements) -> str:
    """"내부 손실 · 외부 손실 · ..." in Basel's order."""
    return " · ".join(ELEMENT_NAMES_KO[e] for e in ELEMENTS if e in set(elements))


def _cell_name(cell: str) -> str:
    return label(cell) if cell in EVENT_TYPE_CODES else cell


def elements_capital_ko(result) -> pd.DataFrame:
    """One row per variant: the elements it uses, capital (Σ cell VaR at the result's level)
    ± its standard error, and the change from the model with all the case's elements."""
    t = result.capital
    rows = {}
    for name, r in t.iterrows():
        rows[variant_ko(name)] = {
            "사용한 요소": elements_text_ko(result.variants[name]),
            f"자본 ({result.alpha:.1%} VaR 합, 보험 전)": format_krw_with_se(r["capital"],
                                                                         r["capital_se"]),
            "모든 요소 모형 대비": ("—" if name == "all" else
                              _signed(r["change"], r["change_se"])),
        }
    return pd.DataFrame(rows).T.rename_axis("모형")


def _signed(value: float, se: float) -> str:
    text = format_krw_with_se(value, se)
    return text if value < 0 or text.startswith(("−", "0")) else "+" + text


def elements_cells_ko(result, figure: str = "var") -> pd.DataFrame:
    """Per event type (rows) and variant (columns): the cell's VaR ± its standard error
    (``figure="var"``) or its 99.9% single-loss quantile, capped (``"q999"``, exact given the
    model)."""
    t = result.capital
    out = {}
    for name, r in t.iterrows():
        col = variant_ko(name)
        for cell in result.cells[name]:
            if figure == "var":
                text = format_krw_with_se(r[f"var_{cell}"], r[f"var_se_{cell}"])
            else:
                text = format_krw(r[f"q999_{cell}"], unit="억", digits=0)
            out.setdefault(_cell_name(cell), {})[col] = text
    return pd.DataFrame(out).T.rename_axis("사건유형")


def _share(v: float) -> str:
    return f"{100 * v:.0f}%"


def _factor(gap: float) -> str:
    return "—" if not math.isfinite(gap) else f"×{format_number(math.exp(gap), 2)}"


def elements_sources_ko(result) -> pd.DataFrame:
    """Each cell of the all-elements model: its family, the losses and estimates behind it,
    the scenarios' share of the precision of the tail at their largest amount and the
    external losses' share of the severity fit's weighted count, how far the model's rate of the scenarios' losses is
    from the workshop's before and after the combination, the BEICF multipliers and the
    cap with where it comes from."""
    rows = {}
    for _, r in result.sources.iterrows():
        cap = r["severity_cap"]
        source = {"scenarios": "시나리오의 최대 가능 손실", "case": "사례의 단일 상한",
                  "none": "상한 없음"}[r["cap_source"]]
        notes = []
        if r["n_internal"] < THIN_CELL:
            notes.append(f"내부 손실 {THIN_CELL}건 미만: 꼬리는 다른 요소에 기댐")
        if "external" in result.uses and r["n_external"] == 0:
            notes.append("기준 H 이상 외부 손실 없음")
        if "scenarios" in result.uses and r["n_scenarios"] == 0:
            notes.append("시나리오 추정 없음")
        if r["n_external_above_cap"]:
            notes.append(f"규모를 맞춘 외부 손실 {int(r['n_external_above_cap'])}건이 최대 가능 "
                         "손실보다 큼: 워크숍의 최대 가능 손실 재검토 필요")
        rows[_cell_name(r["cell"])] = {
            "분포군": r["family"],
            "내부 손실 (건)": int(r["n_internal"]),
            "외부 손실 (H 이상, 건)": int(r["n_external"]),
            "시나리오 추정 (건)": int(r["n_scenarios"]),
            "꼬리 정밀도 중 시나리오의 몫": _share(r["weight_scenarios"]),
            "심도 적합 중 외부 손실의 몫 (가중 건수)": _share(
                r["weight_external"] / max(1 - r["weight_scenarios"], 1e-12)),
            "시나리오 손실의 모형 빈도 ÷ 워크숍 (결합 전 → 후)":
                f"{_factor(r['scenario_gap_before'])} → {_factor(r['scenario_gap_after'])}",
            "BEICF 배수 빈도 / 심도": (f"{format_number(r['beicf_frequency'], 2)} / "
                                   f"{format_number(r['beicf_severity'], 2)}"),
            "단일손실 상한": ("없음" if cap is None or not math.isfinite(cap)
                         else f"{format_krw(cap)} ({source})"),
            "비고": "; ".join(notes) or "—",
        }
    return pd.DataFrame(rows).T.rename_axis("사건유형")


def elements_sentence_ko(result) -> str:
    """What the elements do to capital, in one paragraph: which the model uses, its capital,
    that of internal data alone and the element whose removal moves capital most."""
    t = result.capital
    all_row = t.loc["all"]
    head = (f"이 모형이 쓰는 요소: **{elements_text_ko(result.uses)}**. "
            f"보험 전 자본({result.alpha:.1%} VaR의 사건유형별 합)은 "
            f"{format_krw_with_se(all_row['capital'], all_row['capital_se'])}입니다.")
    if "internal only" not in t.index:
        return head + " 사례에 외부 손실·시나리오 분석·BEICF가 없어 내부 손실만으로 계산합니다."
    io = t.loc["internal only"]
    head += (f" 내부 손실만 쓴 모형(앱과 시나리오 기준의 모형)은 "
             f"{format_krw_with_se(io['capital'], io['capital_se'])}입니다.")
    left = t[[n.startswith("without ") and n != "without scenario caps" for n in t.index]]
    added = t[[n.startswith("with ") for n in t.index]]
    if not left.empty:
        big = left["change"].abs().idxmax()
        r = left.loc[big]
        if abs(r["change"]) > 2 * r["change_se"]:
            word = "늘어납니다" if r["change"] > 0 else "줄어듭니다"
            head += (f" 자본을 가장 크게 움직이는 요소: {ELEMENT_NAMES_KO[big.split(' ', 1)[1]]} "
                     f"(빼면 자본이 {format_krw_with_se(abs(r['change']), r['change_se'])} "
                     f"{word}).")
        else:
            head += " 어느 요소를 빼도 자본의 변화가 모의실험 오차와 구별되지 않습니다."
    if "without scenario caps" in t.index:
        r = t.loc["without scenario caps"]
        head += (f" 그중 시나리오의 최대 가능 손실을 상한으로 쓴 몫: 사례의 단일 상한("
                 f"{format_krw(result.settings.severity_cap) if result.settings.severity_cap else '없음'}"
                 f")을 쓰면 자본의 변화는 {_signed(r['change'], r['change_se'])}입니다.")
    if not added.empty:
        parts = []
        for name, r in added.iterrows():
            d = r["capital"] - io["capital"]
            se = math.hypot(r["capital_se"], io["capital_se"])
            parts.append(f"{ELEMENT_NAMES_KO[name.split(' ', 1)[1]]} {_signed(d, se)}")
        head += " 내부 손실만의 자본에 요소 하나씩을 더하면: " + ", ".join(parts) + "."
    capped = [(_cell_name(c), cap, all_row[f"cap_rate_{c}"])
              for c, cap in zip(result.sources["cell"], result.sources["severity_cap"])
              if cap is not None and math.isfinite(cap)
              and all_row[f"cap_rate_{c}"] >= 1 - result.alpha]
    for name, cap, rate in capped:
        head += (f" {name}: 단일손실 상한 {format_krw(cap)} 이상의 손실이 연 "
                 f"{format_number(rate, 4)}회로 {1 / (1 - result.alpha):,.0f}년에 한 번보다 잦아, "
                 f"그 VaR는 데이터가 아니라 상한(시나리오의 최대 가능 손실)이 정합니다.")
    thin = [_cell_name(c) for c, n in zip(result.sources["cell"], result.sources["n_internal"])
            if n < THIN_CELL]
    if thin:
        head += f" 내부 손실이 {THIN_CELL}건 미만인 사건유형: {', '.join(thin)}."
    return head


def model_elements_ko(case, *, severity_cap: float | None = None) -> str:
    """One line for a screen: which elements the figures on it use (internal data and the
    case's single severity cap: the scenario bases' model) and which further elements the
    case holds, shown with their capital in notebook 04."""
    cap = case.severity_cap if severity_cap is None else severity_cap
    more = [e for e, present in (("external", case.external is not None
                                  and case.external_threshold is not None),
                                 ("scenarios", case.scenarios is not None),
                                 ("beicf", case.beicf is not None)) if present]
    text = (f"이 화면의 모형: {ELEMENT_NAMES_KO['internal']} (단일손실 상한 "
            f"{severity_cap_text(cap, stated=not case.is_default('severity_cap'))}).")
    if more:
        text += (f" 사례에 있는 다른 요소({elements_text_ko(more)})를 더한 모형의 자본은 "
                 "노트북 04의 '네 가지 요소' 표에 있습니다.")
    else:
        text += " 사례에 외부 손실·시나리오 분석·BEICF가 없습니다."
    return text


def elements_answers_ko(answers: pd.DataFrame, result) -> pd.DataFrame:
    """:func:`opwb.scenarios.elements.element_answers` for a report: per variant the
    recommended bond structure on the fitted model, its premium, expected net benefit and
    the bond's regulatory capital relief (± standard errors), and how many structures the
    simulation cannot tell from it."""
    rows = {}
    for name, r in answers.iterrows():
        if r.get("error"):
            rows[variant_ko(name)] = {"사용한 요소": elements_text_ko(result.variants[name]),
                                      "권고 구조": f"없음: {r['error']}"}
            continue
        rows[variant_ko(name)] = {
            "사용한 요소": elements_text_ko(result.variants[name]),
            "권고 구조": r["name"],
            "보험료 (연)": format_krw(r["premium"], unit="억", digits=1),
            "기대 순편익 (연)": format_krw_with_se(r["net_benefit"], r["net_benefit_se"]),
            "BBB의 규제자본 경감": format_krw_with_se(r["bond_regulatory_relief"],
                                                r["bond_regulatory_relief_se"]),
            "구별되지 않는 구조": f"{int(r['indistinguishable'])}개",
        }
    return pd.DataFrame(rows).T.rename_axis("모형")


def scenario_sd_ko(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.scenarios.elements.scenario_sd_sensitivity` for a report: per scenario
    uncertainty s (rows, with the factor e^s an estimate may be off by), the all-elements
    capital ± its error and each cell's 99.9% single-loss quantile (capped)."""
    cells = [c[len("q999_"):] for c in table.columns if c.startswith("q999_")]
    rows = {}
    for sd, r in table.iterrows():
        key = f"s = {sd:g} (약 {math.exp(sd):.1f}배 오차)"
        rows[key] = {"자본 (VaR 합, 보험 전)": format_krw_with_se(r["capital"], r["capital_se"]),
                     **{f"99.9% 단일손실: {_cell_name(c)}":
                        format_krw(r[f"q999_{c}"], unit="억", digits=0) for c in cells}}
    return pd.DataFrame(rows).T.rename_axis("시나리오 불확실성")


def elements_sheets(result, answers: pd.DataFrame | None = None, *, groups=(),
                    families: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The four-element results as workbook sheets (:func:`opwb.report.excel.export_excel`
    writes the amounts in 억원): ``네 가지 요소 자본`` (one row per model: its elements,
    capital, change from the all-elements model, with errors), ``네 가지 요소 사건유형`` (one
    row per model and cell: VaR and its error, 99.9% single-loss quantile, cap and the
    yearly rate of losses at the cap), ``네 가지 요소 근거`` (the all-elements model's
    sources) and, given ``answers``, ``요소별 권고``; given ``groups`` (effects of
    :func:`opwb.scenarios.elements.scenario_group_effect`), ``시나리오군 효과`` (capital,
    the groups' cells' VaR and caps, the policy's cover, with and without each group) and
    ``시나리오군 손실 보상`` (each estimate split by the policy); given ``families``
    (:func:`opwb.scenarios.elements.element_family_range`), ``요소 모형 분포군``."""
    cap = result.capital
    capital = cap[["elements", "capital", "capital_se", "change", "change_se"]].rename_axis(
        "model").reset_index()
    rows = []
    for name, r in cap.iterrows():
        for cell, e in result.cells[name].items():
            rows.append({"model": name, "cell": cell, "var": r[f"var_{cell}"],
                         "var_se": r[f"var_se_{cell}"], "q999": r[f"q999_{cell}"],
                         "severity_cap": e.severity_cap, "cap_rate": r[f"cap_rate_{cell}"]})
    out = {"네 가지 요소 자본": capital, "네 가지 요소 사건유형": pd.DataFrame(rows),
           "네 가지 요소 근거": result.sources}
    if answers is not None:
        out["요소별 권고"] = answers.rename_axis("model").reset_index()
    rows, splits = [], []
    for group in groups:
        for key, r in group.capital.iterrows():
            total = {"group": group.group, "model": key, "cell": "total", "var": r["capital"],
                     "var_se": r["capital_se"]}
            if group.cover is not None:
                total.update({"policy": group.policy, **group.cover.loc[key].to_dict()})
            rows.append(total)
            rows += [{"group": group.group, "model": key, "cell": c, "var": r[f"var_{c}"],
                      "var_se": r[f"var_se_{c}"], "severity_cap": r[f"severity_cap_{c}"],
                      "group_rate": r[f"group_rate_{c}"], "group_from": r[f"group_from_{c}"],
                      "group_cap": r[f"group_cap_{c}"]}
                     for c in group.cells]
        if group.losses is not None and not group.losses.empty:
            splits.append(group.losses.rename(columns={"amount": "gross", "paid": "insurance"})
                          .assign(group=group.group, policy=group.policy))
    if rows:
        out["시나리오군 효과"] = pd.DataFrame(rows)
    if splits:
        out["시나리오군 손실 보상"] = pd.concat(splits, ignore_index=True)
    if families is not None:
        out["요소 모형 분포군"] = families
    return out


# --------------------------------------------------------------------------- a scenario group
def _policy_name(programme, policy: str, extra: str = "") -> str:
    p = programme[policy] if programme is not None else None
    name = getattr(p, "name", "") if p is not None else ""
    inside = ", ".join(x for x in (policy, extra) if x)
    return f"{name}({inside})" if name else (f"{policy} ({extra})" if extra else policy)


def _once_in(rate: float) -> str:
    return "—" if not (rate > 0) else f"연 {format_number(rate, 3)}회 (약 {format_number(1 / rate)}년에 한 번)"


def group_effect_ko(effect, programme=None) -> pd.DataFrame:
    """:func:`opwb.scenarios.elements.scenario_group_effect` for a report: with and without
    the group (rows), capital before insurance ± its error, each of the group's cells' VaR ±
    its error, the group's own losses (how often, from what amount up to what cap), and the
    policy's expected annual claims ± error and the share of years it pays its annual
    aggregate limit."""
    rows = {}
    for key, word in (("with", "포함"), ("without", "제외")):
        r = effect.capital.loc[key]
        row = {"보험 전 자본 (VaR 합)": format_krw_with_se(r["capital"], r["capital_se"])}
        for c in effect.cells:
            name = _cell_name(c)
            row[f"VaR: {name}"] = format_krw_with_se(r[f"var_{c}"], r[f"var_se_{c}"])
            rate = r.get(f"group_rate_{c}", math.nan)
            row[f"{effect.group} 손실의 빈도: {name}"] = _once_in(rate)
            row[f"{effect.group} 손실의 크기: {name}"] = (
                "—" if not rate > 0 else
                f"{format_krw(r[f'group_from_{c}'])} 이상, 최대 {format_krw(r[f'group_cap_{c}'])}")
        if effect.cover is not None:
            v = effect.cover.loc[key]
            name = _policy_name(programme, effect.policy)
            row[f"{name} 기대 보험금 (연)"] = format_krw_with_se(v["expected_claims"],
                                                            v["expected_claims_se"])
            row[f"{name} 연간 한도를 다 쓰는 해"] = percent_with_se(v["exhausted"],
                                                            v["exhausted_se"])
        rows[f"{effect.group} 시나리오 {word}"] = row
    return pd.DataFrame(rows).T.rename_axis("모형")


def group_losses_ko(effect, programme=None) -> pd.DataFrame:
    """Each of the group's estimates: the loss, how often, what the policy pays on one such
    loss (its deductible, limit, coinsurance and annual aggregate limit; contract terms, no
    Monte Carlo) and what the bank keeps."""
    if effect.losses is None or effect.losses.empty:
        return pd.DataFrame()
    rows = []
    for _, r in effect.losses.iterrows():
        n = r["return_period"]
        rows.append({
            "사건유형": _cell_name(r["cell"]),
            "추정": ("최대 가능 손실" if r["kind"] == "worst"
                   else f"약 {format_number(n)}년에 한 번 이상"),
            "손실": format_krw(r["amount"]),
            f"{_policy_name(programme, effect.policy)} 보험금": format_krw(r["paid"]),
            "은행 부담": format_krw(r["retained"]),
            "보상 비율": f"{format_number(100 * r['share_paid'], 1)}%"})
    return pd.DataFrame(rows)


def group_effect_sentence_ko(effect, programme=None) -> str:
    """What the group adds, in plain Korean: its own losses (how often, how large), the
    capital they add (± error; "not distinguishable" within twice the error), how the
    model's rates meet the group's other estimates and, with a policy, how little of one
    such loss the policy pays."""
    t = effect.capital.loc["with"]
    parts = []
    for c in effect.cells:
        rate = t.get(f"group_rate_{c}", math.nan)
        if rate > 0:
            parts.append(f"{_cell_name(c)}에 {format_krw(t[f'group_from_{c}'])} 이상 손실이 "
                         f"{_once_in(rate)}, 최대 {format_krw(t[f'group_cap_{c}'])}")
    text = f"**{effect.group} 시나리오**(추정 {len(effect.estimates)}건)는 "
    if not parts:
        return text + ("초과손실 추정이 없어 손실을 더하지 않습니다 (최대 가능 손실만으로는 빈도를 "
                       "알 수 없습니다).")
    text += "새 사업의 손실을 더합니다: " + "; ".join(parts) + "."
    w = effect.capital.loc["without"]
    if abs(effect.change) > 2 * effect.change_se:
        word = "늘어납니다" if effect.change > 0 else "줄어듭니다"
        text += (f" 보험 전 자본이 {format_krw_with_se(abs(effect.change), effect.change_se)} "
                 f"{word} ({format_krw_with_se(w['capital'], w['capital_se'])} → "
                 f"{format_krw_with_se(t['capital'], t['capital_se'])}).")
    else:
        text += (" 보험 전 자본의 변화("
                 f"{_signed(effect.change, effect.change_se)})는 모의실험 오차와 구별되지 않습니다.")
    if effect.checks is not None and not effect.checks.empty:
        for _, r in effect.checks.iloc[1:].iterrows():      # the first sets the rate
            model = (f"약 {format_number(1 / r['model_rate'])}년에 한 번" if r["model_rate"] > 0
                     else "일어나지 않는 손실")
            text += (f" 모형은 {format_krw(r['amount'])} 이상을 {model}으로 봅니다 (워크숍: 약 "
                     f"{format_number(1 / r['workshop_rate'])}년에 한 번).")
    if effect.losses is not None and not effect.losses.empty:
        p = programme[effect.policy] if programme is not None else None
        name = _policy_name(programme, effect.policy,
                            f"보상한도 {format_krw(p.limit)}" if p is not None else "")
        shares = "; ".join(f"{format_krw(r['amount'])} 손실의 {format_number(100 * r['share_paid'], 1)}%"
                           for _, r in effect.losses.sort_values("amount").iterrows())
        paid = effect.losses["paid"].max()
        text += (f" 이런 손실이 {name}의 약관에 든다고 보아도 한 해에 많아야 "
                 f"{format_krw(paid)}만 보상합니다({shares}); 나머지는 은행이 부담합니다.")
        if effect.cover is not None:
            a, b = effect.cover.loc["without"], effect.cover.loc["with"]
            text += (f" 이 계약의 기대 보험금은 연 "
                     f"{format_krw_with_se(a['expected_claims'], a['expected_claims_se'])}에서 "
                     f"{format_krw_with_se(b['expected_claims'], b['expected_claims_se'])}으로 "
                     "바뀝니다.")
    return text


# --------------------------------------------------------------------------- families
def family_range_ko(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`opwb.scenarios.elements.element_family_range` for a report: per cell and
    credible family, its Akaike weight, 99.9% single loss and VaR ± error in the
    four-element model; the model set's family marked."""
    rows = []
    for _, r in table.iterrows():
        rows.append({
            "사건유형": _cell_name(r["cell"]),
            "분포군": r["family"] + (" (선택)" if r["chosen"] else ""),
            "아카이케 가중치": _share(r["weight"]),
            "99.9% 단일손실": ("—" if r["error"] else format_krw(r["q999"], unit="억", digits=0)),
            "VaR (보험 전)": (f"없음: {r['error']}" if r["error"]
                            else format_krw_with_se(r["var"], r["var_se"])),
        })
    return pd.DataFrame(rows)


def family_range_sentence_ko(table: pd.DataFrame) -> str:
    """The capital range across the credible families, in one sentence."""
    a = table.attrs
    lo, hi = a["capital_low"], a["capital_high"]
    text = (f"데이터가 가려내지 못하는 분포군(아카이케 가중치 2% 이상)을 사건유형마다 바꾸면, 모든 요소 "
            f"모형의 보험 전 자본은 {format_krw_with_se(lo, a['capital_low_se'])}에서 "
            f"{format_krw_with_se(hi, a['capital_high_se'])} 사이입니다 (선택한 분포군: "
            f"{format_krw_with_se(a['capital_chosen'], a['capital_chosen_se'])}).")
    ok = table[table["error"] == ""]
    by = ok.groupby("cell")["var"]
    spread = by.max() - by.min()
    if len(spread) and spread.max() > 0:
        c = spread.idxmax()
        rows = ok[ok["cell"] == c].sort_values("var")
        lo_r, hi_r = rows.iloc[0], rows.iloc[-1]
        text += (f" 폭이 가장 큰 사건유형은 {_cell_name(c)}입니다: VaR "
                 f"{format_krw_with_se(lo_r['var'], lo_r['var_se'])}({lo_r['family']})에서 "
                 f"{format_krw_with_se(hi_r['var'], hi_r['var_se'])}({hi_r['family']})까지.")
    failed = table[table["error"] != ""]
    if not failed.empty:
        text += (" 모형을 만들 수 없는 분포군: " + ", ".join(
            f"{_cell_name(r['cell'])} {r['family']}" for _, r in failed.iterrows()) + ".")
    return text
