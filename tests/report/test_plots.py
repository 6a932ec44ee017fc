"""opwb.report.plots: Korean renders with NanumGothic (not a fallback), inputs and rcParams untouched.

Every chart is drawn on an Agg canvas on Axes the test creates with matplotlib's default
font, without calling ``use_korean_font`` first: the plot functions must set the Korean
font themselves.
"""
from __future__ import annotations

import copy
import re
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import findfont  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from opwb import analysis as A  # noqa: E402
from opwb.data.schema import LOSS_COLUMNS  # noqa: E402
from opwb.data.taxonomy import BUSINESS_LINE_CODES, EVENT_TYPE_CODES  # noqa: E402
from opwb.report import plots as P  # noqa: E402

HANGUL = re.compile(r"[\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3]")


def make_losses(seed: int = 7) -> pd.DataFrame:
    """A small canonical loss frame: every event type, five years, lognormal severities."""
    rng = np.random.default_rng(seed)
    rows = []
    for year in range(2002, 2007):
        for k, et in enumerate(EVENT_TYPE_CODES):
            for j in range(2 + k):
                occ = pd.Timestamp(year, 1 + (j * 5) % 12, 1 + (k * 3) % 28)
                rows.append({
                    "event_id": f"{et}-{year}-{j}", "event_type": et,
                    "business_line": BUSINESS_LINE_CODES[(j + k) % 8],
                    "occurrence_date": occ, "discovery_date": occ + pd.Timedelta(days=10),
                    "booking_date": pd.NaT,
                    "gross_loss": float(1e7 * np.exp(abs(rng.normal(0, 1.5)))),
                    "insurance_recovery": 0.0, "other_recovery": 0.0, "policy_id": "",
                    "description": "예시"})
    rows.append({"event_id": "CD", "event_type": "IF", "business_line": "RB",
                 "occurrence_date": pd.Timestamp("2005-07-01"),
                 "discovery_date": pd.Timestamp("2005-07-26"), "booking_date": pd.NaT,
                 "gross_loss": 650e8, "insurance_recovery": 50e8, "other_recovery": 0.0,
                 "policy_id": "BBB", "description": "CD 사기"})
    return pd.DataFrame(rows)[list(LOSS_COLUMNS)]


LOSSES = make_losses()
PROGRAMME = pd.DataFrame({"policy_id": ["BBB", "PROP"], "name": ["금융기관종합보험", "재산종합보험"],
                          "premium": [16e8, 12e8]})
EXTERNAL = pd.DataFrame({"institution": ["Barings", "Daiwa"], "country": ["영국", "미국"],
                         "year": [1995, 1995], "event_type": ["IF", "IF"],
                         "amount_krw": [1.3e12, 1.1e12]})

# name -> (plot function, its result input, keyword arguments)
CASES = {
    "heatmap_amount": (P.plot_cell_heatmap, A.cell_table(LOSSES, "sum", margins=True), {}),
    "heatmap_count": (P.plot_cell_heatmap, A.cell_table(LOSSES, "count"), {"kind": "count"}),
    "annual_frequency": (P.plot_annual_frequency, A.annual_summary(LOSSES), {}),
    "annual_severity": (P.plot_annual_severity, A.annual_summary(LOSSES), {"stat": "mean"}),
    "histograms": (P.plot_severity_panels, LOSSES, {"threshold": 1e7}),
    "ecdf": (P.plot_severity_ecdf, LOSSES, {"threshold": 1e7}),
    "strategy": (P.plot_strategy_matrix, A.strategy_matrix(LOSSES), {}),
    "claims": (P.plot_claims_record, A.claims_record(LOSSES, PROGRAMME), {}),
    "incident": (P.plot_incident_layers, A.incident_profile(LOSSES, "CD"), {}),
    "external": (P.plot_external_comparison, A.external_comparison(LOSSES, EXTERNAL), {}),
}


@pytest.fixture(autouse=True)
def default_rc():
    """Each test starts from matplotlib's defaults (as if use_korean_font was never called)."""
    plt.close("all")
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams["backend"] = "Agg"
        yield
    plt.close("all")


def snapshot_rc() -> dict:
    return {k: copy.deepcopy(v) for k, v in matplotlib.rcParams.items()}


def changed_rc(before: dict) -> list[str]:
    return [k for k, v in matplotlib.rcParams.items() if not _same(v, before[k])]


def _same(a, b) -> bool:
    try:
        return bool(np.all(a == b))
    except Exception:  # noqa: BLE001 - unlike types compare unequal
        return False


def draw(name: str):
    """Draw case ``name`` on a fresh Agg canvas; return (figure, recorded warnings)."""
    func, result, kwargs = CASES[name]
    fig = Figure(figsize=(9, 5), layout="constrained")
    FigureCanvasAgg(fig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if func is P.plot_severity_panels:  # small multiples: draws its grid on ``fig``
            returned = func(result, fig=fig, **kwargs)
            assert returned.shape == (2, 4) and all(a.figure is fig for a in returned.flat)
        else:
            ax = fig.add_subplot()  # created with the default (non-Korean) font
            returned = func(result, ax=ax, **kwargs)
            assert returned is ax
        fig.canvas.draw()
    return fig, caught


@pytest.mark.parametrize("name", sorted(CASES))
def test_hangul_renders_with_nanumgothic(name):
    fig, caught = draw(name)
    missing = [str(w.message) for w in caught
               if "missing from font" in str(w.message) or "Glyph" in str(w.message)]
    assert not missing, missing
    korean = [t for t in fig.findobj(Text) if t.get_visible() and HANGUL.search(t.get_text())]
    assert korean, f"{name}: no Korean text drawn"
    for t in korean:
        path = findfont(t.get_fontproperties(), fallback_to_default=False)
        assert Path(path).name.startswith("NanumGothic"), (t.get_text(), path)
        font = FT2Font(path)
        for ch in set(HANGUL.findall(t.get_text())):
            assert font.get_char_index(ord(ch)) != 0, (ch, path)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plot_leaves_inputs_and_rcparams_alone(name):
    func, result, kwargs = CASES[name]
    before_input = copy.deepcopy(result)
    before_rc = snapshot_rc()
    ax = func(result, **kwargs)  # no ax: the function makes its own figure
    ax = ax.flat[0] if isinstance(ax, np.ndarray) else ax
    ax.figure.canvas.draw()
    assert changed_rc(before_rc) == []
    if isinstance(result, pd.DataFrame):
        pd.testing.assert_frame_equal(result, before_input)
    else:
        assert result.__dict__.keys() == before_input.__dict__.keys()
        pd.testing.assert_frame_equal(result.layers, before_input.layers)
        assert result.gross_loss == before_input.gross_loss


def test_heatmap_annotates_amounts_in_eok():
    fig, _ = draw("heatmap_amount")
    texts = {t.get_text() for t in fig.axes[0].texts}
    table = A.cell_table(LOSSES, "sum", margins=True)
    total = table.loc["Total", "Total"] / 1e8
    assert f"{total:,.0f}" in texts and "–" in texts  # grand total; empty cells
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[0] == "내부사취 (IF)" and labels[-1] == "합계"


def test_use_korean_font_sets_only_the_font_settings():
    before = snapshot_rc()
    assert P.use_korean_font() == "NanumGothic"
    assert matplotlib.rcParams["font.family"][0] == "NanumGothic"
    assert matplotlib.rcParams["axes.unicode_minus"] is False
    assert sorted(changed_rc(before)) == ["axes.unicode_minus", "font.family"]
    fig = Figure()
    FigureCanvasAgg(fig)
    t = fig.text(0.1, 0.5, "손실 −1")  # a plain text now renders in NanumGothic
    fig.canvas.draw()
    assert Path(findfont(t.get_fontproperties(), fallback_to_default=False)).name == \
        "NanumGothic.ttf"
    assert all(p.suffix == ".ttf" and p.exists() for p in P.korean_font_files())


def test_importing_plots_changes_no_rcparams_and_not_koreanize():
    code = ("import matplotlib; matplotlib.use('Agg'); import copy, sys;"
            "b = {k: copy.deepcopy(v) for k, v in matplotlib.rcParams.items()};"
            "import opwb.report.plots as P; P.plot_severity_ecdf;"
            "c = [k for k, v in matplotlib.rcParams.items() if str(v) != str(b[k])];"
            "assert c == [], c; assert 'koreanize_matplotlib' not in sys.modules;"
            "P.korean_font_files(); assert 'koreanize_matplotlib' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
