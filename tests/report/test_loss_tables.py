"""Notebook 01's tables (opwb.report.tables ``*_ko``): Korean headers with units, event types
and business lines by Korean label, amounts in 억원 equal to the KRW source / 1e8 rounded to
the documented decimals — every figure checked against a recomputation from the raw CSV
with plain pandas/numpy, not through opwb.analysis."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import opwb
from opwb import analysis
from opwb.data import load_losses, load_programme
from opwb.data.losses import LoadReport
from opwb.data.taxonomy import BUSINESS_LINES, EVENT_TYPES
from opwb.report import loss_tables as lt
from opwb.report import tables as t

EOK = 1e8
HANGUL = re.compile(r"[가-힣]")
RAW_NAMES = {"count", "sum", "mean", "max", "event_type", "business_line", "rank", "event_id",
             "gross_loss", "insurance_recovery", "net_loss", "policy_id", "description",
             "label", "n_events", "frequency", "frequency_cutoff", "impact", "impact_cutoff",
             "strategy_ko", "name", "claims", "recoveries", "annual_premium", "n_years",
             "premiums", "loss_ratio", "deductible", "limit", "payout", "retained",
             "source_ko", "year", "event_type_ko", "amount_krw", "Total"}


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The bundled losses read with plain pandas (no opwb parsing)."""
    df = pd.read_csv(opwb.data_path("losses.csv"), dtype={"policy_id": str})
    df["policy_id"] = df["policy_id"].fillna("")
    df["occurrence_date"] = pd.to_datetime(df["occurrence_date"])
    return df


@pytest.fixture(scope="module")
def losses():
    return load_losses(opwb.data_path("losses.csv"), threshold=10_000_000)


@pytest.fixture(scope="module")
def programme():
    return load_programme(opwb.data_path("insurance_programme.csv"))


def number(text: str) -> float:
    """Parse a table cell back: "1,022.09" → 1022.09, "237.2%" → 2.372 (in percent: 237.2)."""
    return float(text.replace(",", "").rstrip("%"))


def assert_eok(column, krw, digits):
    """Every cell is the KRW amount / 1e8 rounded to ``digits`` decimals, with exactly
    ``digits`` decimals written."""
    column, krw = list(column), list(krw)
    assert len(column) == len(krw)
    for text, value in zip(column, krw):
        if pd.isna(value):
            assert text == "—"
            continue
        assert re.fullmatch(r"-?\d{1,3}(,\d{3})*" + (rf"\.\d{{{digits}}}" if digits else ""),
                            text), text
        assert number(text) == round(float(value) / EOK, digits), (text, value)


def assert_korean_headers(frame: pd.DataFrame):
    for name in [*frame.columns, frame.index.name, frame.columns.name]:
        if name is None:
            continue
        assert str(name) not in RAW_NAMES, name
        assert HANGUL.search(str(name)), f"header without Korean: {name!r}"
    for col in frame.columns:
        if "억원" in col:
            assert "(억원" in col, f"unit not in the header's parentheses: {col!r}"


def ko(code: str) -> str:
    cat = EVENT_TYPES.get(code) or BUSINESS_LINES[code]
    return f"{cat.ko} ({code})"


# -- event types × business lines ---------------------------------------------------------

def test_event_type_summary(raw, losses):
    out = lt.event_type_summary_ko(losses)
    assert_korean_headers(out)
    assert list(out.columns) == ["건수 (건)", "합계 (억원)", "평균 (억원)", "최대 (억원)"]
    assert list(out.index) == [ko(c) for c in EVENT_TYPES] + ["전체"]
    g = raw.groupby("event_type")["gross_loss"]
    expect = pd.DataFrame({"count": g.size(), "sum": g.sum(), "mean": g.mean(), "max": g.max()}
                          ).reindex(list(EVENT_TYPES))
    x = raw["gross_loss"]
    expect.loc["all"] = [len(x), x.sum(), x.mean(), x.max()]
    assert [int(s.replace(",", "")) for s in out["건수 (건)"]] == expect["count"].astype(int).tolist()
    for col, stat in (("합계 (억원)", "sum"), ("평균 (억원)", "mean"), ("최대 (억원)", "max")):
        assert_eok(out[col], expect[stat], 2)
    assert out.loc["전체", "합계 (억원)"] == f"{raw['gross_loss'].sum() / EOK:,.2f}"


def test_cross_table_of_means_has_korean_axes_and_all_cells(raw, losses):
    out = lt.cross_table_ko(analysis.cell_table(losses, "mean"), "평균 손실")
    assert out.index.name == "사건유형"
    assert out.columns.name == "사업부문 · 평균 손실 (억원)"
    assert list(out.index) == [ko(c) for c in EVENT_TYPES]
    assert list(out.columns) == [ko(c) for c in BUSINESS_LINES]
    means = raw.groupby(["event_type", "business_line"])["gross_loss"].mean()
    for et in EVENT_TYPES:
        expect = [means.get((et, bl), np.nan) for bl in BUSINESS_LINES]
        assert_eok(out.loc[ko(et)], expect, 2)


def test_cross_table_margins_counts_and_digits():
    table = pd.DataFrame({"RB": [3.0, 0.0, 3.0], "Total": [3.0, 1.0, 4.0]},
                         index=pd.Index(["IF", "DPA", "Total"], name="event_type"))
    table.columns.name = "business_line"
    out = lt.cross_table_ko(table, "손실 건수", unit="건")
    assert out.columns.name == "사업부문 · 손실 건수 (건)"
    assert list(out.index) == ["내부사취 (IF)", "자산손실 (DPA)", "전체"]
    assert out.to_dict("list") == {"소매금융 (RB)": ["3", "0", "3"], "전체": ["3", "1", "4"]}
    amounts = lt.cross_table_ko(table * 1.234567e8, "합계", digits=3)
    assert amounts.iloc[0, 0] == f"{round(3 * 1.234567, 3):.3f}"
    with pytest.raises(ValueError, match="unit"):
        lt.cross_table_ko(table, "x", unit="원")


def test_annual_counts_by_year(raw, losses):
    out = lt.cross_table_ko(analysis.annual_table(losses, "count"), "손실 건수", unit="건")
    assert out.index.name == "연도" and out.columns.name == "사건유형 · 손실 건수 (건)"
    counts = raw.groupby([raw["occurrence_date"].dt.year, "event_type"]).size()
    years = range(raw["occurrence_date"].dt.year.min(), raw["occurrence_date"].dt.year.max() + 1)
    assert list(out.index) == [str(y) for y in years]
    for y in years:
        assert [int(v) for v in out.loc[str(y)]] == [int(counts.get((y, c), 0)) for c in EVENT_TYPES]


# -- largest losses, strategy, claims --------------------------------------------------------

def test_largest_losses(raw, losses, programme):
    out = lt.largest_losses_ko(analysis.largest_losses(losses, 10), programme)
    assert_korean_headers(out)
    assert list(out.columns) == ["순위", "사건번호", "사건유형", "사업부문", "발생일", "총손실 (억원)",
                                 "보험 회수 (억원)", "기타 회수 (억원)", "순손실 (억원)", "보험계약", "내용"]
    top = raw.sort_values(["gross_loss", "event_id"], ascending=[False, True]).head(10)
    assert out["사건번호"].tolist() == top["event_id"].tolist()
    assert out["사건유형"].tolist() == [ko(c) for c in top["event_type"]]
    assert out["사업부문"].tolist() == [ko(c) for c in top["business_line"]]
    assert out["발생일"].tolist() == top["occurrence_date"].dt.strftime("%Y-%m-%d").tolist()
    assert_eok(out["총손실 (억원)"], top["gross_loss"], 2)
    assert_eok(out["보험 회수 (억원)"], top["insurance_recovery"], 2)
    assert_eok(out["기타 회수 (억원)"], top["other_recovery"], 2)
    assert_eok(out["순손실 (억원)"],
               top["gross_loss"] - top["insurance_recovery"] - top["other_recovery"], 2)
    names = dict(zip(programme["policy_id"], programme["name"]))
    assert out["보험계약"].tolist() == [f"{names[p]} ({p})" if p else "—" for p in top["policy_id"]]
    assert out["내용"].tolist() == top["description"].tolist()      # in full, never cut
    assert out.loc[0, "보험계약"] == "금융기관종합보험 (BBB)"
    # without a programme the policy is shown by its id
    assert lt.largest_losses_ko(analysis.largest_losses(losses, 1)).loc[0, "보험계약"] == "BBB"


def test_strategy_matrix(raw, losses):
    m = analysis.strategy_matrix(losses, impact="quantile", impact_quantile=0.95)
    out = lt.strategy_matrix_ko(m)
    assert_korean_headers(out)
    n_years = raw["occurrence_date"].dt.year.nunique()
    assert n_years == 5
    assert list(out.columns) == ["손실 건수 (건)", "연평균 빈도 (건/년, 5년)", "빈도 기준 (건/년)", "빈도",
                                 "영향: 손실금액 95% 분위수 (억원)", "영향 기준 (억원)", "영향",
                                 "관리 전략", "조치"]
    counts = raw.groupby("event_type").size().reindex(list(EVENT_TYPES), fill_value=0)
    freq = counts / n_years
    assert [number(v) for v in out["연평균 빈도 (건/년, 5년)"]] == [round(f, 2) for f in freq]
    assert set(out["빈도 기준 (건/년)"]) == {f"{freq.median():.2f}"}
    assert out["빈도"].tolist() == ["높음" if f > freq.median() else "낮음" for f in freq]
    q = np.array([np.quantile(raw.loc[raw["event_type"] == c, "gross_loss"], 0.95)
                  for c in EVENT_TYPES])
    assert_eok(out["영향: 손실금액 95% 분위수 (억원)"], q, 2)
    assert_eok(out["영향 기준 (억원)"], [np.median(q)] * 7, 2)
    assert out["영향"].tolist() == ["높음" if v > np.median(q) else "낮음" for v in q]
    assert out.loc["내부사취 (IF)", "관리 전략"] == "위험 전가"          # low frequency, high impact


def test_strategy_comparison_headers_name_the_rule(losses):
    out = lt.strategy_comparison_ko(analysis.strategy_matrix(losses, impact_quantile=0.9),
                                   analysis.strategy_matrix(losses, impact="max"))
    assert_korean_headers(out)
    assert list(out.columns) == ["관리 전략 — 영향: 손실금액 90% 분위수",
                                 "관리 전략 — 영향: 최대 손실금액"]
    assert list(out.index) == [ko(c) for c in EVENT_TYPES]
    with pytest.raises(ValueError):
        lt.strategy_comparison_ko()


def test_claims_record(raw, losses, programme):
    out = lt.claims_record_ko(analysis.claims_record(losses, programme))
    assert_korean_headers(out)
    prog = pd.read_csv(opwb.data_path("insurance_programme.csv")).set_index("policy_id")
    assert out["보험계약"].tolist() == [f"{prog.loc[p, 'name']} ({p})" for p in prog.index]
    g = raw[raw["policy_id"] != ""].groupby("policy_id")
    n_years = raw["occurrence_date"].dt.year.nunique()
    gross = g["gross_loss"].sum().reindex(prog.index, fill_value=0.0)
    rec = g["insurance_recovery"].sum().reindex(prog.index, fill_value=0.0)
    assert [int(v) for v in out["청구 건수 (건)"]] == g.size().reindex(prog.index, fill_value=0).tolist()
    assert_eok(out["청구 손실 합계 (억원)"], gross, 2)
    assert_eok(out["보험금 회수 (억원)"], rec, 2)
    assert_eok(out["연간 보험료 (억원)"], prog["premium"], 2)
    assert_eok(out["누적 보험료 (억원)"], prog["premium"] * n_years, 2)
    assert set(out["관측 연수 (년)"]) == {str(n_years)}
    ratio = rec / (prog["premium"] * n_years)
    assert [number(v) for v in out["손해율 (%, 회수 ÷ 누적 보험료)"]] == [round(100 * r, 1) for r in ratio]


def test_claims_record_policy_missing_from_programme():
    claims = pd.DataFrame({"name": ["(보험계약 목록에 없음)"], "claims": [1], "gross_loss": [2e8],
                           "recoveries": [1e8], "annual_premium": [np.nan], "n_years": [5],
                           "premiums": [np.nan], "loss_ratio": [np.nan]},
                          index=pd.Index(["XYZ"], name="policy_id"))
    row = lt.claims_record_ko(claims).iloc[0]
    assert row["누적 보험료 (억원)"] == "—" and row["손해율 (%, 회수 ÷ 누적 보험료)"] == "—"
    assert row["청구 손실 합계 (억원)"] == "2.00"


# -- the CD incident and external losses ----------------------------------------------------

def test_incident_summary_and_layers(raw, losses):
    limits = [50e8, 100e8, 650e8, 1000e8]
    profile = analysis.incident_profile(losses, "CD-2005-001", deductible=5e8, limits=limits)
    text = lt.incident_summary_ko(profile)
    x = float(raw.loc[raw["event_id"] == "CD-2005-001", "gross_loss"].iloc[0])
    if_total = raw.loc[raw["event_type"] == "IF", "gross_loss"].sum()
    assert "`CD-2005-001` · 내부사취 (IF): 총손실 650억원, 보험 회수 50억원" in text
    assert f"전체 손실 {len(raw):,}건 중 1위, 전체 손실액의 {x / raw['gross_loss'].sum():.1%}" in text
    assert (f"내부사취 손실 {(raw['event_type'] == 'IF').sum()}건 중 1위, "
            f"내부사취 손실액의 {x / if_total:.1%}") in text
    assert not re.search(r"[A-Za-z]{4,}", text.replace("CD-2005-001", "")), text
    out = lt.incident_layers_ko(profile)
    assert_korean_headers(out)
    pay = [min(max(x - 5e8, 0.0), lim) for lim in limits]
    assert_eok(out["공제금액 (억원)"], [5e8] * 4, 1)
    assert_eok(out["보상한도 (억원)"], limits, 1)
    assert_eok(out["보험금 지급 (억원)"], pay, 1)
    assert_eok(out["보유손실 (억원)"], [x - p for p in pay], 1)
    assert out["보상한도 (억원)"].tolist()[-1] == "1,000.0"


def test_external_comparison(raw, losses):
    ext_raw = pd.read_csv(opwb.data_path("external_losses.csv"))
    out = lt.external_comparison_ko(analysis.external_comparison(
        losses, opwb.load_external_losses(opwb.data_path("external_losses.csv")), n=5))
    assert_korean_headers(out)
    assert list(out.columns) == ["순위", "구분", "기관 또는 사건번호", "연도", "사건유형",
                                 "손실 (억원, 원화 환산)", "내용"]
    amounts = sorted([*ext_raw["amount_krw"], *raw["gross_loss"].nlargest(5)], reverse=True)
    assert_eok(out["손실 (억원, 원화 환산)"], amounts, 1)
    assert set(out["구분"]) == {"내부", "외부"}
    assert set(out["사건유형"]) <= {ko(c) for c in EVENT_TYPES}
    cd = out[out["기관 또는 사건번호"] == "CD-2005-001"].iloc[0]
    assert (cd["구분"], cd["연도"], cd["사건유형"], cd["손실 (억원, 원화 환산)"]) == \
        ("내부", "2005", "내부사취 (IF)", "650.0")
    barings = out[out["기관 또는 사건번호"] == "Barings Bank (GB)"].iloc[0]
    assert barings["내용"] == ext_raw.loc[ext_raw["institution"] == "Barings Bank",
                                        "description_ko"].iloc[0]


# -- the load summary ----------------------------------------------------------------------

@pytest.mark.parametrize("threshold, shown", [(10_000_000, "1,000만원"), (50_000_000, "5,000만원")])
def test_load_summary_keeps_the_load_report(raw, threshold, shown):
    df = load_losses(opwb.data_path("losses.csv"), threshold=threshold)
    text = lt.load_summary_ko(df)
    below = raw[raw["gross_loss"] < threshold]
    kept = raw[raw["gross_loss"] >= threshold]
    assert f"`losses.csv`: {len(raw):,}건 읽음, {len(kept):,}건 사용" in text
    assert f"수집기준 {shown} 미만 손실: {len(below):,}건 (합계 {opwb.format_krw(below['gross_loss'].sum())})" in text
    years = kept["occurrence_date"].dt.year
    assert (f"관측 기간: {years.min()}–{years.max()}년 ({years.max() - years.min() + 1}년, "
            f"발생일 기준), 손실 {len(kept):,}건, 총손실 "
            f"{opwb.format_krw(kept['gross_loss'].sum())}") in text
    assert "events" not in text and "loaded" not in text


def test_load_summary_lists_filled_and_extra_columns():
    df = pd.DataFrame({"event_type": ["IF"], "gross_loss": [1e8],
                       "discovery_date": pd.to_datetime(["2004-02-01"])})
    df.attrs["load_report"] = LoadReport(
        source="my.xlsx", rows_read=3, rows_loaded=1, threshold=5e7, below_threshold=2,
        below_threshold_total=6e7, defaulted_columns=("policy_id",), extra_columns=("지점",))
    text = lt.load_summary_ko(df, by="discovery")
    assert text.splitlines() == [
        "- 파일 `my.xlsx`: 3건 읽음, 1건 사용",
        "- 수집기준 5,000만원 미만 손실: 2건 (합계 6,000만원), 분석에서 제외하고 따로 집계",
        "- 파일에 없어 기본값으로 채운 선택 컬럼: `policy_id`",
        "- 추가 컬럼 (텍스트로 유지): `지점`",
        "- 관측 기간: 2004–2004년 (1년, 발견일 기준), 손실 1건, 총손실 1억원",
    ]


def test_as_markdown_plain_text_is_the_text():
    from IPython.display import Markdown
    md = t.as_markdown("- 수집기준 **5,000만원** 미만")
    assert isinstance(md, Markdown)
    assert repr(md) == "- 수집기준 **5,000만원** 미만"
    assert md._repr_markdown_() == "- 수집기준 **5,000만원** 미만"


# -- display -------------------------------------------------------------------------------

def test_table_ko_wraps_escapes_and_right_aligns_numbers(losses, programme):
    frame = lt.largest_losses_ko(analysis.largest_losses(losses, 3), programme)
    frame.loc[2, "내용"] = "<script>x</script> & " + "아주 긴 설명 " * 40
    html = t.table_ko(frame, hide_index=True).to_html()
    assert "아주 긴 설명 " * 39 in html                      # nothing cut off
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "word-break: keep-all" in html and "white-space: normal" in html
    cols = list(frame.columns)
    numeric = [j for j, c in enumerate(cols) if c == "순위" or "(억원)" in c]
    short = [cols.index(c) for c in ("사건번호", "발생일")]          # ids and dates: one line
    wrapping = [cols.index(c) for c in ("내용", "사건유형", "사업부문", "보험계약")]
    table_id = re.search(r'<table id="(T_\w+)"', html).group(1)
    for j in numeric:
        assert re.search(rf"#{table_id} td\.col{j} \{{\s*text-align: right;\s*white-space: nowrap;",
                         html), j
    for j in short:
        assert re.search(rf"#{table_id} td\.col{j} \{{\s*white-space: nowrap;", html), j
    for j in wrapping:
        width = "16em" if cols[j] == "내용" else "7em"
        assert re.search(rf"#{table_id} td\.col{j} \{{\s*min-width: {width};\s*\}}", html), j
    headers = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'class="col_heading[^>]*>(.*?)</th>', html)]
    assert headers == cols
    assert '총손실 <span style="white-space: nowrap">(억원)</span>' in html   # the unit on one line


def test_every_notebook_01_table_renders(losses, programme):
    """Jupyter swallows an exception in ``_repr_html_`` (falling back to text), so render
    each table the notebook shows, as the notebook shows it."""
    ext = opwb.load_external_losses(opwb.data_path("external_losses.csv"))
    matrix = analysis.strategy_matrix(losses)
    frames = [
        (lt.event_type_summary_ko(losses), False),
        (lt.cross_table_ko(analysis.cell_table(losses, "mean"), "평균 손실"), False),
        (lt.cross_table_ko(analysis.annual_table(losses, "count"), "손실 건수", unit="건"), False),
        (lt.largest_losses_ko(analysis.largest_losses(losses, 10), programme), True),
        (lt.strategy_matrix_ko(matrix), False),
        (lt.strategy_comparison_ko(matrix, analysis.strategy_matrix(losses, impact="max")), False),
        (lt.claims_record_ko(analysis.claims_record(losses, programme)), True),
        (lt.incident_layers_ko(analysis.incident_profile(losses, "CD-2005-001")), True),
        (lt.external_comparison_ko(analysis.external_comparison(losses, ext)), True),
    ]
    for frame, hide in frames:
        assert_korean_headers(frame)
        html = t.table_ko(frame, hide_index=hide)._repr_html_()
        assert "<table" in html and "..." not in html          # pandas' truncation mark
