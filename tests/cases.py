"""A second bank's case, written afresh by the tests: 한누리은행 (invented), in its own words.

:func:`write_second_bank` writes into a folder what a bank of its own would bring: a loss
workbook with a title block above a Korean header on row 4, the supervisor's (FSS) event-type
names and the bank's own business-line labels (its "기업금융" is corporate finance, CF, not
opwb's Korean name for commercial banking), a collection threshold of 500만원, seven and a
quarter years of events (2000-01-01 .. 2007-03-31), a programme whose bond is "FIB-2006", its
quotes, and the case.toml naming them. Nothing of the bundled illustrative bank is in it:
:data:`SECOND_BANK_FORBIDDEN` lists strings that no output on this case may contain.

Deterministic (fixed seed) and quick (well under a second).
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from scipy.special import ndtr, ndtri

from opwb.data.bundled import data_path
from opwb.data.schema import KOREAN_COLUMNS

__all__ = ["write_second_bank", "SECOND_BANK_FORBIDDEN", "forbidden_in", "SECOND_BANK",
           "EVENT_TYPE_NAMES", "BUSINESS_LINE_NAMES", "SMALL_EVENTS"]

#: Strings no output on the second bank's case may contain: the bundled bank's year of the
#: CD incident, its id's prefix and amount, its file names and its name.
SECOND_BANK_FORBIDDEN = ("2005년", "CD-2005", "CD 사건", "650억", "losses.csv",
                         "insurance_programme.csv", "bbb_alternatives.csv", "예시은행")


def forbidden_in(text: str, strings=SECOND_BANK_FORBIDDEN) -> list[str]:
    """The forbidden ``strings`` that ``text`` holds. An amount ("650억") counts only as an
    amount of its own: not inside a larger number ("1,650억") and not as a figure's
    standard error ("12,360 ± 650억원"), which the second bank's own figures may be."""
    found = []
    for s in strings:
        if s[0].isdigit():
            if re.search(r"(?<![\d,.])(?<!± )" + re.escape(s), text):
                found.append(s)
        elif s in text:
            found.append(s)
    return found

SECOND_BANK = "한누리은행"
SEED = 20070331
START, AS_OF = dt.date(2000, 1, 1), dt.date(2007, 3, 31)
THRESHOLD = 5_000_000
SHEET = "손실사건"

#: The FSS names of the event types the bank writes → Basel codes.
EVENT_TYPE_NAMES = {
    "내부사기": "IF",
    "외부사기": "EF",
    "고용관행 및 작업장 안전": "EPWS",
    "고객·상품 및 영업관행": "CPBP",
    "실물자산 손상": "DPA",
    "영업중단 및 시스템 장애": "BDSF",
    "집행·전달 및 프로세스 관리": "EDPM",
}
#: The bank's business-line labels → Basel codes ("기업금융" is corporate finance here).
BUSINESS_LINE_NAMES = {
    "기업금융": "CF",
    "트레이딩 및 세일즈": "TS",
    "소매금융": "RB",
    "상업은행": "CB",
    "지급결제": "PS",
    "대행서비스": "AS",
    "자산운용": "AM",
    "소매중개": "RG",
}
_BL_SHARES = {"CF": 0.04, "TS": 0.08, "RB": 0.44, "CB": 0.22, "PS": 0.08, "AS": 0.05,
              "AM": 0.05, "RG": 0.04}

#: Events a year (all at or above 500만원) and the severity above the threshold:
#: ("gpd", shape, scale) — generalised Pareto above the threshold — or ("lognorm", sigma,
#: median) truncated at the threshold.
_MODEL = {
    "IF": (3, ("gpd", 0.9, 8e7)),
    "EF": (60, ("lognorm", 1.6, 1.5e7)),
    "EPWS": (15, ("lognorm", 1.3, 2e7)),
    "CPBP": (30, ("gpd", 0.75, 6e7)),
    "DPA": (5, ("lognorm", 2.0, 3e7)),
    "BDSF": (10, ("lognorm", 1.8, 2e7)),
    "EDPM": (80, ("gpd", 0.6, 2.5e7)),
}
_MAX_LOSS = 300e8        # no single loss above 300억
_LARGE_IF = 3            # internal-fraud losses of 50–300억, so the bond matters
SMALL_EVENTS = 20        # losses of 100만–500만 (below the threshold, set apart by the loader)
_OTHER_RECOVERY_RATE = {"IF": 0.3, "EF": 0.35, "EPWS": 0.05, "CPBP": 0.1, "DPA": 0.2,
                        "BDSF": 0.1, "EDPM": 0.3}
_TEXTS = {
    "IF": ["직원 고객예금 횡령", "대출서류 위조를 통한 부당대출", "미승인 거래 손실 은폐",
           "시재금 유용"],
    "EF": ["위조수표 지급", "전화금융사기 피해 보상", "카드 위·변조 부정사용", "명의도용 대출"],
    "EPWS": ["부당해고 소송 합의금", "산업재해 보상", "직장 내 차별 관련 배상"],
    "CPBP": ["불완전판매 배상", "고객정보 유출 배상", "설명의무 위반 소송"],
    "DPA": ["영업점 화재 피해", "태풍 침수 피해", "업무용 차량 사고"],
    "BDSF": ["전산시스템 장애 보상", "통신망 장애로 인한 거래 지연 보상", "정전으로 인한 영업중단"],
    "EDPM": ["송금 착오 처리", "담보 설정 누락", "결제 지연 이자 보상", "서류 관리 소홀"],
}

BOND_ID = "FIB-2006"
_HEADER = list(KOREAN_COLUMNS)  # 사건번호, 사건유형, ... 사건내용 (the schema's order)
_QUOTES = [("한도 300억 · 공제 20억", 300e8, 20e8, 35e8),
           ("한도 700억 · 공제 30억", 700e8, 30e8, 55e8),
           ("한도 1,500억 · 공제 50억", 1500e8, 50e8, 90e8)]


def _clean(amount: float, step: int = 1000, down: bool = False) -> int:
    """A whole amount in ``step`` won whose digits do not read "2005" (see the forbidden
    strings); moved by one step when they do."""
    x = int(amount)
    while "2005" in str(x):
        x += -step if down else step
    return x


def _severity(rng: np.random.Generator, spec: tuple, n: int) -> np.ndarray:
    kind, a, b = spec
    out = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        u = rng.random(todo.size)
        if kind == "gpd":
            x = THRESHOLD + b / a * ((1.0 - u) ** -a - 1.0)
        else:  # lognormal truncated at the threshold, by inversion
            lo = ndtr((math.log(THRESHOLD) - math.log(b)) / a)
            x = np.exp(math.log(b) + a * ndtri(lo + u * (1.0 - lo)))
        out[todo] = x
        todo = todo[~(x <= _MAX_LOSS)]
    return out


def _draw(rng: np.random.Generator) -> pd.DataFrame:
    years = ((AS_OF - START).days + 1) / 365.25
    frames = []
    for code, (rate, spec) in _MODEL.items():
        n = int(rng.poisson(rate * years))
        gross = _severity(rng, spec, n)
        if code == "IF":
            big = rng.choice(n, _LARGE_IF, replace=False)
            gross[big] = np.exp(rng.uniform(math.log(50e8), math.log(_MAX_LOSS), _LARGE_IF))
        frames.append(pd.DataFrame({"event_type": code, "gross": gross}))
    small_types = rng.choice(["EF", "EDPM", "BDSF"], SMALL_EVENTS, p=[0.5, 0.4, 0.1])
    frames.append(pd.DataFrame({"event_type": small_types,
                                "gross": rng.uniform(1e6, THRESHOLD - 1000, SMALL_EVENTS)}))
    ev = pd.concat(frames, ignore_index=True)
    n = len(ev)
    codes = list(_BL_SHARES)
    ev["business_line"] = rng.choice(codes, n, p=np.array(list(_BL_SHARES.values())))
    span = (AS_OF - START).days + 1
    occ = np.datetime64(START) + rng.integers(0, span, n).astype("timedelta64[D]")
    disc = np.minimum(occ + rng.integers(0, 61, n).astype("timedelta64[D]"),
                      np.datetime64(AS_OF))
    book = disc + np.ceil(rng.exponential(25.0, n)).astype(int).astype("timedelta64[D]")
    unbooked = (rng.random(n) < 0.05) | (book > np.datetime64(AS_OF))
    ev["occurrence"], ev["discovery"] = occ, disc
    ev["booking"] = pd.Series(book).where(~unbooked)
    ev["gross"] = [_clean(math.ceil(x / 1000.0) * 1000) for x in ev["gross"]]
    ev["u_wording"] = rng.random(n)
    ev["u_other"], ev["u_share"] = rng.random(n), rng.random(n)
    ev["text"] = [_TEXTS[t][k % len(_TEXTS[t])]
                  for t, k in zip(ev["event_type"], rng.integers(0, 12, n))]
    ev = ev.sort_values(["occurrence", "discovery", "gross"], kind="stable",
                        ignore_index=True)
    year = ev["occurrence"].dt.year
    seq = ev.groupby(year).cumcount() + 1
    ev["event_id"] = "HN-" + year.astype(str) + "-" + seq.map("{:04d}".format)
    return ev


def _programme() -> pd.DataFrame:
    """The bundled programme's policies and columns, the bond renamed and re-termed, every
    other policy three months later (in force on 2007-03-31 with the bundled residual
    terms; the four non-qualifying policies keep what disqualifies them)."""
    prog = pd.read_csv(data_path("insurance_programme.csv"), encoding="utf-8")
    for col in ("inception", "expiry"):
        prog[col] = pd.to_datetime(prog[col]) + pd.DateOffset(months=3)
    bond = prog["policy_id"] == "BBB"
    prog["aggregate_limit"] = prog["aggregate_limit"].astype(float)
    prog.loc[bond, ["policy_id"]] = BOND_ID
    prog.loc[bond, "inception"] = pd.Timestamp("2006-10-01")
    prog.loc[bond, "expiry"] = pd.Timestamp("2007-10-01")
    prog.loc[bond, ["limit", "deductible", "premium"]] = [100e8, 10e8, 20e8]
    prog.loc[bond, "aggregate_limit"] = np.nan
    return prog


def _recoveries(ev: pd.DataFrame, prog: pd.DataFrame) -> tuple[list[int], list[str],
                                                               list[int]]:
    """Insurance recovery, paying policy and other recovery of each event: the policy whose
    wording covers the event (disjoint cover shares) pays its layer, within its aggregate
    limit per policy year (renewed every year on the same terms)."""
    paid, payer, other = [0] * len(ev), [""] * len(ev), [0] * len(ev)
    used: dict[tuple[str, int], float] = {}
    for i, r in enumerate(ev.itertuples(index=False)):
        shares = prog[f"cover_{r.event_type}"].to_numpy(dtype=float)
        k = int(np.searchsorted(np.cumsum(shares), r.u_wording, side="right"))
        if k < len(prog):
            pol = prog.iloc[k]
            trig = r.discovery if pol["claims_basis"] == "claims-made" else r.occurrence
            start = pol["inception"]
            pyear = trig.year - (1 if (trig.month, trig.day) < (start.month, start.day) else 0)
            agg, key = pol["aggregate_limit"], (pol["policy_id"], pyear)
            room = agg - used.get(key, 0) if np.isfinite(agg) else math.inf
            layer = min(max(r.gross - pol["deductible"], 0.0), pol["limit"]) * pol["coinsurance"]
            amount = int(min(layer, room) // 1000 * 1000)
            if amount > 0:
                amount = _clean(amount, down=True)
                used[key] = used.get(key, 0) + amount
                paid[i], payer[i] = amount, str(pol["policy_id"])
        if r.u_other < _OTHER_RECOVERY_RATE[r.event_type]:
            left = r.gross - paid[i]
            other[i] = _clean((left * (0.1 + 0.7 * r.u_share)) // 1000 * 1000, down=True)
    return paid, payer, other


def _save(wb: Workbook, path: Path) -> None:
    """Save ``wb`` with the same bytes every time: openpyxl stamps the time of saving into
    the document properties and the zip entries, so fix both (the case's fingerprint hashes
    the files' bytes)."""
    buf = io.BytesIO()
    wb.save(buf)
    stamp = AS_OF.isoformat() + "T00:00:00Z"
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                              rb"\g<1>" + stamp.encode(), data)
            out.writestr(zipfile.ZipInfo(info.filename, date_time=(2007, 3, 31, 0, 0, 0)),
                         data, compress_type=zipfile.ZIP_DEFLATED)


def _cell(v):
    """A Python value openpyxl writes as the right kind of cell (blank for NaN/NaT)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer() and abs(v) >= 1:
        return int(v)  # amounts as whole won
    return v


def _write_losses(path: Path, ev: pd.DataFrame, prog: pd.DataFrame) -> None:
    paid, payer, other = _recoveries(ev, prog)
    et_name = {v: k for k, v in EVENT_TYPE_NAMES.items()}
    bl_name = {v: k for k, v in BUSINESS_LINE_NAMES.items()}
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append([f"{SECOND_BANK} 운영리스크 손실사건 목록"])
    ws.append([f"기준일: {AS_OF.isoformat()}"])
    ws.append([])
    ws.append(_HEADER)
    for i, r in enumerate(ev.itertuples(index=False)):
        ws.append([
            r.event_id, et_name[r.event_type], bl_name[r.business_line],
            r.occurrence.to_pydatetime(), r.discovery.to_pydatetime(),
            None if pd.isna(r.booking) else r.booking.to_pydatetime(),
            int(r.gross), paid[i], other[i], payer[i] or None,
            f"{r.text} — {bl_name[r.business_line]}",
        ])
    for col in "DEF":
        for cell in ws[col][4:]:
            cell.number_format = "yyyy-mm-dd"
    for col in "GHI":
        for cell in ws[col][4:]:
            cell.number_format = "#,##0"
    _save(wb, path)


def _write_table(path: Path, header: list[str], rows: list[list], sheet: str) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append([_cell(v) for v in row])
    _save(wb, path)


def _case_toml() -> str:
    def table(mapping: dict[str, str]) -> str:
        return "\n".join(f'"{k}" = "{v}"' for k, v in mapping.items())

    return f"""# {SECOND_BANK}: 운영리스크 보험 분석 케이스 (invented second bank of the tests)
name = "{SECOND_BANK}"
losses = "losses.xlsx"
sheet = "{SHEET}"
header_row = 4
programme = "programme.xlsx"
quotes = "quotes.xlsx"
threshold = {THRESHOLD}
observation = ["{START.isoformat()}", "{AS_OF.isoformat()}"]
bond_policy = "{BOND_ID}"
incidents = []
valuation_date = "{AS_OF.isoformat()}"
n_years = 20000
seed = 7
predictive_worlds = 20
world_years = 4000
data_note = "데이터: {SECOND_BANK} 손실사건 DB (2000-01 – 2007-03)"

[appetite]
max_premium = "100억"

[columns]
{table(KOREAN_COLUMNS)}

[event_types]
{table(EVENT_TYPE_NAMES)}

[business_lines]
{table(BUSINESS_LINE_NAMES)}
"""


def write_second_bank(folder: Path) -> Path:
    """Write 한누리은행's case into ``folder`` (created if needed): ``losses.xlsx``,
    ``programme.xlsx``, ``quotes.xlsx`` and ``case.toml``; return the case file's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    ev = _draw(rng)
    prog = _programme()
    _write_losses(folder / "losses.xlsx", ev, prog)
    _write_table(folder / "programme.xlsx", list(prog.columns),
                 prog.astype(object).values.tolist(), "보험프로그램")
    _write_table(folder / "quotes.xlsx",
                 ["name", "limit", "deductible", "premium", "aggregate_limit", "coinsurance",
                  "insurer_rating"],
                 [[n, int(lim), int(ded), int(prem), None, 1.0, "A"]
                  for n, lim, ded, prem in _QUOTES], "견적")
    case = folder / "case.toml"
    case.write_text(_case_toml(), encoding="utf-8")
    return case


def bundled_case_without(keys: tuple[str, ...], folder: Path) -> Path:
    """A copy of the bundled case in ``folder`` (its case file and the data files it names)
    with the top-level settings ``keys`` left out of the file, so they take opwb's defaults
    (e.g. ``("severity_cap",)``: a bank that states no severity cap)."""
    import shutil

    from opwb.data.case import bundled_case

    case = bundled_case()
    folder.mkdir(parents=True, exist_ok=True)
    for key in ("losses", "programme", "quotes", "external", "scenarios", "beicf", "models"):
        for p in case.paths(key) if key == "models" else [case.path(key)]:
            if p is not None:
                shutil.copy2(p, folder / p.name)
    lines = Path(case.source).read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines
            if not any(re.match(rf"\s*{re.escape(k)}\s*=", line) for k in keys)]
    assert len(lines) - len(kept) == len(keys), "each key is one line of the bundled case"
    path = folder / "case.toml"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return path
