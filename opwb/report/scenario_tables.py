"""Scenario figures for people: every figure of :func:`opwb.scenarios.evaluate` with its
Monte Carlo standard error, Korean labels, rounded to what the error supports.

Notebook 04, the deck and the Excel export read figures through this module, so one
alternative shows one set of figures, written the same way, everywhere. Amounts are KRW
in and 억원 text out (:func:`opwb.data.units.format_krw_with_se`: ``"8,230 ± 160억원"``);
probabilities and ratios as percentages with their error; the 20% cap as 예/아니오.

Examples
--------
>>> figure_text("net_var", 823_012_000_000, 16_345_000_000)
'8,230 ± 160억원'
>>> figure_text("p_claim", 0.61234, 0.00154)
'61.23 ± 0.15%'
>>> figure_text("cap_binds", 1.0, 0.0)
'예'
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import pandas as pd

from opwb.data.units import format_krw_with_se, format_number, round_to_se
from opwb.scenarios.evaluation import METRIC_LABELS

__all__ = [
    "CAPITAL_KEYS",
    "CD_LABELS",
    "FIGURE_LABELS",
    "FLAG_KEYS",
    "HEADLINE_KEYS",
    "RATIO_KEYS",
    "capital_sentence_ko",
    "difference_table_ko",
    "figure_keys",
    "figure_kind",
    "figure_label",
    "figure_text",
    "percent_with_se",
    "scenario_table_ko",
    "styled",
]

#: Korean labels (with English) of every figure :func:`opwb.scenarios.evaluate` returns.
FIGURE_LABELS: dict[str, str] = {
    "premium": METRIC_LABELS["premium"],
    "expected_recovery": METRIC_LABELS["expected_recovery"],
    "expected_recognised_recovery": "기대 연간 인정 회수액 (expected recognised recovery)",
    "loss_ratio": METRIC_LABELS["loss_ratio"],
    "p_claim": METRIC_LABELS["p_claim"],
    "p_exhaust": METRIC_LABELS["p_exhaust"],
    "retained_if_1in10": METRIC_LABELS["retained_if_1in10"],
    "retained_if_1in100": METRIC_LABELS["retained_if_1in100"],
    "retained_if_1in1000": METRIC_LABELS["retained_if_1in1000"],
    "retained_total_1in10": "전체 보유손실 10년 1회 (total retained, 1-in-10)",
    "retained_total_1in100": METRIC_LABELS["retained_total_1in100"],
    "retained_total_1in1000": "전체 보유손실 1000년 1회 (total retained, 1-in-1000)",
    "gross_var": METRIC_LABELS["gross_var"],
    "net_var": METRIC_LABELS["net_var"],
    "net_es": METRIC_LABELS["net_es"],
    "economic_relief": METRIC_LABELS["economic_relief"],
    "regulatory_gross_capital": "규제자본 (보험 반영 전) (regulatory capital gross)",
    "regulatory_net_capital": METRIC_LABELS["regulatory_net_capital"],
    "regulatory_relief": "보험 전체의 인정 자본 경감 (programme's recognised relief)",
    "bond_regulatory_relief": METRIC_LABELS["bond_regulatory_relief"],
    "cap_binds": METRIC_LABELS["cap_binds"],
    "capital_saving": METRIC_LABELS["capital_saving"],
    "net_benefit": METRIC_LABELS["net_benefit"],
}

#: The capital figures of notebook 04's headline (the seed's step 4), in display order.
CAPITAL_KEYS: tuple[str, ...] = (
    "regulatory_gross_capital", "regulatory_relief", "cap_binds", "regulatory_net_capital",
    "bond_regulatory_relief")
#: The headline of a BBB alternative: its capital, then its cost and benefit.
HEADLINE_KEYS: tuple[str, ...] = (
    *CAPITAL_KEYS, "premium", "expected_recovery", "capital_saving", "net_benefit",
    "net_var")
#: Figures that are fractions (shown as percentages).
RATIO_KEYS: frozenset[str] = frozenset({"loss_ratio", "p_claim", "p_exhaust"})
#: Figures that are yes/no (stored as 1.0 / 0.0).
FLAG_KEYS: frozenset[str] = frozenset({"cap_binds"})
#: How the two scenario bases are named in tables.
CD_LABELS: dict[bool, str] = {True: "CD 사건 포함", False: "CD 사건 제외"}

Kind = Literal["krw", "ratio", "flag"]


def figure_kind(key: str) -> Kind:
    """``"ratio"`` (a fraction), ``"flag"`` (yes/no) or ``"krw"`` (an amount in KRW)."""
    if key in FLAG_KEYS:
        return "flag"
    return "ratio" if key in RATIO_KEYS else "krw"


def figure_label(key: str) -> str:
    """The Korean (English) label of a figure; the key itself when it has none."""
    return FIGURE_LABELS.get(key, key)


def figure_keys(metrics: Mapping[str, float]) -> list[str]:
    """Every figure of ``metrics`` that carries a standard error, :data:`FIGURE_LABELS`
    order first, then any other in the order of ``metrics``."""
    have = [k for k in metrics if not k.endswith("_se") and f"{k}_se" in metrics]
    known = [k for k in FIGURE_LABELS if k in have]
    return known + [k for k in have if k not in FIGURE_LABELS]


def percent_with_se(value: float, se: float) -> str:
    """A fraction and its standard error as percentages rounded to the error
    (:func:`opwb.data.units.round_to_se`): ``"61.23 ± 0.15%"``; ``"—"`` for NaN, ``"∞"``
    for an infinite ratio, the value alone (one decimal) when the error is 0 or unknown."""
    v, s = float(value), float(se)
    if math.isnan(v):
        return "—"
    if math.isinf(v):
        return format_number(v)
    if not (math.isfinite(s) and s > 0):
        return f"{format_number(v * 100, 1)}%"
    rv, rs, d = round_to_se(v * 100, s * 100)
    return f"{format_number(rv, d)} ± {format_number(rs, d)}%"


def figure_text(key: str, value: float, se: float) -> str:
    """One figure as display text, rounded to its standard error (amounts in 억원)."""
    kind = figure_kind(key)
    if kind == "flag":
        return "예" if value else "아니오"
    if kind == "ratio":
        return percent_with_se(value, se)
    return format_krw_with_se(value, se, unit="억")


def _results_columns(results: Sequence[Any]) -> list[Any]:
    both = len({r.include_cd for r in results}) > 1
    return [(r.data_label or CD_LABELS[r.include_cd], r.alternative.name) if both
            else r.alternative.name
            for r in results]


def scenario_table_ko(results: Iterable[Any], keys: Sequence[str] = HEADLINE_KEYS
                      ) -> pd.DataFrame:
    """Figures (rows, Korean labels) × alternatives (columns), each "value ± error" text.

    Parameters
    ----------
    results : iterable of ScenarioResult
        :func:`opwb.scenarios.evaluate` results; when they come from both scenario bases
        the columns are (CD 사건 포함/제외, alternative).
    keys : sequence of str
        Figures to show (default :data:`HEADLINE_KEYS`).

    Returns
    -------
    DataFrame of str
    """
    results = list(results)
    if not results:
        raise ValueError("scenario_table_ko: no results given")
    cols = _results_columns(results)
    data = {col: [figure_text(k, r.metrics[k], r.metrics[f"{k}_se"]) for k in keys]
            for col, r in zip(cols, results)}
    out = pd.DataFrame(data, index=[figure_label(k) for k in keys])
    if isinstance(cols[0], tuple):
        out.columns = pd.MultiIndex.from_tuples(cols, names=["데이터", "대안"])
    else:
        out.columns.name = "대안"
    out.index.name = "항목"
    return out


def difference_table_ko(differences: Mapping[str, pd.DataFrame], z: float = 1.96
                        ) -> pd.DataFrame:
    """Paired differences against a reference as text: alternatives (rows) × figures.

    ``differences`` maps an alternative's name to :func:`opwb.scenarios.difference` of it
    and the reference (same base and settings). A cell reads ``"+48 ± 6.1억원"``; when
    ``|difference| ≤ z · se`` it adds "(구별 불가)": the simulation cannot tell the two
    alternatives apart on that figure.
    """
    rows = {}
    for name, diff in differences.items():
        row = {}
        for key, d in diff.iterrows():
            text = figure_text(key, d["difference"], d["se"])
            if figure_kind(key) == "krw" and d["difference"] > 0 and not text.startswith("+"):
                text = "+" + text
            same = not (math.isfinite(d["se"]) and abs(d["difference"]) > z * d["se"])
            if same and d["se"] > 0:
                text += " (구별 불가)"
            row[figure_label(key)] = text
        rows[name] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "대안 − 기준"
    return out


def capital_sentence_ko(result: Any) -> str:
    """One Korean sentence (Markdown) with an alternative's regulatory capital: gross,
    recognised relief (and whether the 20% cap binds), net, and the bond's own share of
    the relief — every figure with its standard error."""
    m = result.metrics

    def f(key: str) -> str:
        return figure_text(key, m[key], m[f"{key}_se"])
    cap = ("20% 한도가 적용되어 경감이 총자본의 20%로 제한됩니다" if m["cap_binds"] else
           "20% 한도에 걸리지 않습니다")
    return (f"{result.data_label or CD_LABELS[bool(result.include_cd)]} · "
            f"{result.alternative.name}: "
            f"보험 반영 전 규제자본 {f('regulatory_gross_capital')}, 보험 전체의 인정 경감 "
            f"{f('regulatory_relief')} ({cap}), 보험 반영 후 규제자본 "
            f"{f('regulatory_net_capital')}. 이 가운데 BBB 한 계약의 몫(BBB를 뺐을 때와의 차이)은 "
            f"{f('bond_regulatory_relief')}입니다.")


def styled(frame: pd.DataFrame, *, caption: str | None = None, hide_index: bool = False):
    """:func:`opwb.report.tables.wrapped` (long text wrapped, never cut off) with Korean
    lines broken only at spaces (``word-break: keep-all``), so "9.981 ± 0.036억원" never
    splits inside "억원"."""
    from opwb.report.tables import wrapped
    return wrapped(frame, caption=caption, hide_index=hide_index).set_table_styles(
        [{"selector": "td, th", "props": [("word-break", "keep-all")]}], overwrite=False)
