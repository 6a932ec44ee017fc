"""Parameter-uncertainty intervals as Korean text (issue 14): headers, 억원 rounded to the
spread over the worlds, the fitted figure with its Monte Carlo error, p_best as a percentage
with its count, the caption naming worlds and years; the cells whose data were drawn again,
how often and why (issue 22, item 17)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from opwb.data.units import format_krw_with_se
from opwb.report.scenario_tables import FIGURE_LABELS
from opwb.report.uncertainty_tables import (
    P_BEST_COLUMN,
    REDRAW_REASONS_KO,
    interval_text,
    redraw_text_ko,
    share_text,
    uncertainty_caption_ko,
    uncertainty_ko,
    uncertainty_sentence_ko,
)
from opwb.scenarios.spec import bundled_inputs
from opwb.scenarios.uncertainty import REDRAW_REASONS, UncertaintyResult, parameter_uncertainty

EOK = 1e8


def _redraws(**cells) -> pd.DataFrame:
    """A redraw table: cell → (worlds, {reason: rejected draws})."""
    rows = []
    for cell in ("EF", "IF", "DPA"):
        worlds, reasons = cells.get(cell, (0, {}))
        rows.append({"cell": cell, "worlds": worlds, "redraws": sum(reasons.values()),
                     "max_draws": 1 + max(reasons.values(), default=0),
                     **{r: reasons.get(r, 0) for r in REDRAW_REASONS}})
    return pd.DataFrame(rows).set_index("cell")


def _result(redraws=None) -> UncertaintyResult:
    """A hand-made result with known numbers (KRW)."""
    rows = []
    for alt, scale in (("A", 1.0), ("B", 2.0)):
        for fig, fitted, se, lo, med, hi, sd in (
                ("regulatory_gross_capital", 15_219e8, 150e8, 12_345.6e8, 15_000e8,
                 19_876e8, 2_345e8),
                ("bond_regulatory_relief", 77.5e8 * scale, 4.3e8, 41.26e8, 60e8, 86.04e8,
                 1.83e8),
                ("net_benefit", 22.5e8, 2.04e8, -4.2e8, 23e8, 39.9e8, 16e8)):
            rows.append({"alternative": alt, "figure": fig, "fitted": fitted,
                         "fitted_se": se, "lower": lo, "median": med, "upper": hi,
                         "std": sd, "n_worlds": 30})
    table = pd.DataFrame(rows).set_index(["alternative", "figure"])
    p_best = pd.Series([0.1, 0.9], index=pd.Index(["A", "B"], name="alternative"),
                       name="p_best")
    return UncertaintyResult(table, p_best, pd.DataFrame(), pd.DataFrame(),
                             _redraws() if redraws is None else redraws, 0.9, 30, 10_000, 2005)


def test_interval_and_share_text():
    # spread 2,345억 → two significant digits: hundreds of 억원
    assert interval_text(12_345.6e8, 19_876e8, 2_345e8) == "12,300 – 19,900억원"
    # spread 1.83억 → tenths
    assert interval_text(41.26e8, 86.04e8, 1.83e8) == "41.3 – 86.0억원"
    assert interval_text(-4.2e8, 39.9e8, 16e8) == "−4 – 40억원"
    assert interval_text(10e8, 20e8, math.nan) == "10 – 20억원"       # no spread: whole 억
    assert share_text(0.9, 30) == "90% (30개 중 27개)"
    assert share_text(0.0, 4) == "0% (4개 중 0개)"


def test_table_headers_values_and_p_best():
    res = _result()
    t = uncertainty_ko(res)
    assert list(t.columns) == ["적합 모형 (fitted, ± 표준오차)", "90% 구간 (억원)",
                               "중앙값 (median, 억원)", "세계 간 표준편차 (억원)", P_BEST_COLUMN]
    assert t.index.names == ["대안 (alternative)", "항목 (figure)"]
    gross = t.loc[("A", FIGURE_LABELS["regulatory_gross_capital"])]
    assert gross.iloc[0] == format_krw_with_se(15_219e8, 150e8) == "15,220 ± 150억원"
    assert gross.iloc[1] == "12,300 – 19,900억원"
    assert gross.iloc[2] == "15,000" and gross.iloc[3] == "2,300"
    relief = t.loc[("B", FIGURE_LABELS["bond_regulatory_relief"])]
    assert relief.iloc[0] == "155.0 ± 4.3억원" and relief.iloc[1] == "41.3 – 86.0억원"
    nb = t.xs(FIGURE_LABELS["net_benefit"], level=1)[P_BEST_COLUMN]
    assert nb.to_dict() == {"A": "10% (30개 중 3개)", "B": "90% (30개 중 27개)"}
    others = t.drop(index=FIGURE_LABELS["net_benefit"], level=1)[P_BEST_COLUMN]
    assert (others == "").all()


def test_caption_and_sentence_name_worlds_years_and_the_best_alternative():
    res = _result()
    cap = uncertainty_caption_ko(res)
    assert "세계 30개" in cap and "10,000년" in cap and "90%" in cap and "억원" in cap
    assert "다시 뽑은" not in cap and "제외" not in cap
    s = uncertainty_sentence_ko(res)
    assert s.startswith("기대 순편익이 가장 큰 대안은 세계 중 90% (30개 중 27개)에서 ‘B’입니다.")
    assert "90% 구간 (‘B’): BBB의 규제자본 경감 41.3 – 86.0억원" in s
    assert "다시 뽑" not in s and redraw_text_ko(res) == ""
    # the fitted model's recommendation, not confirmed by the worlds: said first
    s = uncertainty_sentence_ko(res, recommended="A")
    assert s.startswith("적합 모형 기준 권고(‘A’)는 모수 불확실성을 감안하면 확정적이지 않습니다")
    assert "세계 중 90% (30개 중 27개)에서 ‘B’" in s and "권고 구조는 10% (30개 중 3개)였습니다" in s
    assert "90% 구간 (‘A’)" in s
    s = uncertainty_sentence_ko(res, recommended="B")
    assert s.startswith("적합 모형 기준 권고(‘B’)는 다시 추정한 세계 중 90% (30개 중 27개)에서도")
    # the Monte Carlo error is named when it is a sizeable part of the spread
    # (here the relief's Monte Carlo error, 4.3억, exceeds a quarter of its spread, 1.83억)
    assert "10,000년 모의실험의 몬테카를로 오차(적합 모형의 경감 155.0 ± 4.3억원)" in s


def test_a_real_result_shows_its_own_numbers():
    losses, programme, alts = bundled_inputs()
    res = parameter_uncertainty(losses, programme, alts[:2], n_worlds=3, n_years=1_000,
                                seed=7)
    t = uncertainty_ko(res)
    assert len(t) == len(res.table)
    for (alt, fig), r in res.table.iterrows():
        row = t.loc[(alt, FIGURE_LABELS[fig])]
        assert row.iloc[0] == format_krw_with_se(r["fitted"], r["fitted_se"], unit="억")
        assert row.iloc[1] == interval_text(r["lower"], r["upper"], r["std"])
    shares = t.xs(FIGURE_LABELS["net_benefit"], level=1)[P_BEST_COLUMN]
    counts = [int(s.split("중 ")[1].rstrip("개)")) for s in shares]
    assert sum(counts) == 3 and np.isclose(res.p_best.sum(), 1.0)


def test_redrawn_cells_are_named_with_their_counts_and_reasons():
    """Data drawn again in two thin cells: the caption names them and their worlds, the
    sentence says how many draws, in how many of the worlds, and why (in plain Korean, the
    most frequent reason first); every world still counts (30 of 30)."""
    res = _result(_redraws(IF=(17, {"fewer losses than parameters": 9, "degenerate fit": 66}),
                           DPA=(2, {"non-finite parameter": 2})))
    cap = uncertainty_caption_ko(res)
    assert cap.endswith("· 자료를 다시 뽑은 세계 (제외한 세계 없음): IF 17개, DPA 2개")
    text = redraw_text_ko(res)
    assert "IF 셀은 세계 30개 중 17개에서 75번 다시 뽑았습니다(모수가 정해지지 않는 적합 66번, " \
           "손실 건수가 모수 개수 이하 9번)" in text
    assert "DPA 셀은 세계 30개 중 2개에서 2번 다시 뽑았습니다(무한대 모수 2번)" in text
    assert "EF" not in text and "버리지 않고" in text and "최대 50번" in text
    for sentence in (uncertainty_sentence_ko(res), uncertainty_sentence_ko(res, name_best=False),
                     uncertainty_sentence_ko(res, recommended="A")):
        assert sentence.endswith(" " + text)
    assert "(30개 중 27개)" in uncertainty_sentence_ko(res)         # no world left out
    assert set(REDRAW_REASONS_KO) == set(REDRAW_REASONS)


def test_a_real_thin_cell_run_says_so():
    from opwb.fitting.frequency import FrequencyFit
    from opwb.fitting.modelset import CellFit, ModelSet
    from opwb.fitting.result import SeverityFit
    from opwb.scenarios.uncertainty import NO_ALTERNATIVE

    _, programme, _ = bundled_inputs()
    thin = ModelSet({"IF": CellFit(
        FrequencyFit("poisson", {"mu": 1.0}, n_years=5, threshold=1e7),
        SeverityFit(family="shifted_lognormal", params={"mu": 16.0, "sigma": 1.6},
                    threshold=1e7))}, 1e7, "", True, "thin")
    res = parameter_uncertainty(None, programme, [], models=thin, n_worlds=6, n_years=500,
                                seed=2)
    r = res.redraws.loc["IF"]
    assert r["redraws"] > 0
    s = uncertainty_sentence_ko(res)
    assert s.startswith("90% 구간: 보험 반영 전 규제자본")
    assert (f"IF 셀은 세계 6개 중 {int(r['worlds'])}개에서 {int(r['redraws'])}번 다시 "
            f"뽑았습니다(손실 건수가 모수 개수 이하 {int(r['redraws'])}번)") in s
    assert f"IF {int(r['worlds'])}개" in uncertainty_caption_ko(res)
    assert uncertainty_ko(res).index.tolist()[0][0] == NO_ALTERNATIVE
