"""Seeded generator of the bundled illustrative loss data (``data/losses.csv``).

Everything this module generates is **synthetic**, except the one real event it adds: the
KB CD incident as recorded publicly (reported 2005-07-26, internal fraud, retail banking,
gross loss 650억원, 50억원 recovered under the bankers blanket bond then in force).

The true model (:data:`TRUE_MODEL`) is one :class:`EventTypeModel` per Basel event type:

- frequency: Poisson, ``frequency`` = expected number of losses **above the collection
  threshold** (:data:`THRESHOLD`, 10 million won) per calendar year, split over the eight
  business lines by ``line_shares`` (cell ``(e, b)`` has rate ``frequency * share_b``);
- severity: a frozen scipy distribution of the ground-up loss; the data hold draws from it
  *conditional on exceeding the threshold* (see :func:`sample_severity`). IF, CPBP and EDPM
  are generalised Pareto above the threshold (shape 0.95, 0.85, 0.7: heavy, finite mean);
  the other types are lognormal with a large sigma.

Dates: occurrence uniform within each year 2002-2006; discovery an exponential lag later
(long for fraud and lawsuits), the lag truncated so that every event is discovered by
2006-12-31 (the data are as of that date, with no IBNR); booking a further lag after
discovery, left blank when it would fall after 2006-12-31 (not yet booked).

Recoveries apply the insurance programme (``data/insurance_programme.csv``) event by
event. Each policy's ``cover_<type>`` share is read as the probability that an event of
that type falls within its wording; the wordings of different policies are taken as
disjoint sub-types (shares of one type sum to at most 1), so at most one policy answers an
event. That policy pays ``floor(min(max(X - deductible, 0), limit) * coinsurance)``, capped
by what is left of its aggregate limit in the policy year. Claims are charged to the
aggregate in order of the trigger date (discovery for claims-made, occurrence for
losses-occurring), except that the recorded CD claim is charged first in its policy year:
it is a fact, the synthetic claims around it are not. The programme is
read as renewed every year on the same terms under the same ``policy_id``; a policy year
runs from an anniversary of ``inception`` (see :func:`policy_year_start`). A few events also
get an ``other_recovery`` (a share of what insurance left), so recoveries never exceed the
gross loss. Amounts are whole won; gross losses are rounded up to 1,000 won.

Examples
--------
>>> from opwb.data.synth import TRUE_MODEL, generate_losses
>>> round(sum(m.frequency for m in TRUE_MODEL.values()))
150
>>> df = generate_losses()
>>> df.loc[df["event_id"] == "CD-2005-001", "gross_loss"].item()
65000000000

Regenerate the bundled file with ``python -m opwb.data.synth``.
"""
from __future__ import annotations

import argparse
import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from opwb.data.schema import COLLECTION_THRESHOLD, LOSS_COLUMNS, cover_column
from opwb.data.taxonomy import BUSINESS_LINE_CODES, BUSINESS_LINES, EVENT_TYPE_CODES

__all__ = [
    "EventTypeModel", "TRUE_MODEL", "THRESHOLD", "DEFAULT_SEED", "PERIOD_START", "PERIOD_END",
    "CD_INCIDENT", "cell_frequencies", "sample_severity", "policy_year_start",
    "generate_losses", "write_losses", "main",
]

THRESHOLD: float = float(COLLECTION_THRESHOLD)
DEFAULT_SEED: int = 20070412  # the FSS workshop date of the seed deck
PERIOD_START = pd.Timestamp("2002-01-01")
PERIOD_END = pd.Timestamp("2006-12-31")
YEARS: tuple[int, ...] = tuple(range(PERIOD_START.year, PERIOD_END.year + 1))


@dataclass(frozen=True)
class EventTypeModel:
    """True loss model of one event type.

    Attributes
    ----------
    event_type : str
        Basel level-1 code.
    frequency : float
        Poisson rate of losses above :data:`THRESHOLD` per year (λ_H).
    severity : scipy frozen distribution
        Ground-up severity in KRW; data are draws conditional on ``> THRESHOLD``.
    line_shares : mapping
        Business-line code → share of the event type's losses (sums to 1).
    discovery_lag_days : float
        Mean of the exponential discovery lag (before truncation at the data date).
    booking_lag_days : float
        Mean of the exponential lag from discovery to booking.
    other_recovery_rate : float
        Probability that an event has a non-insurance recovery.
    subtypes : tuple of str
        Korean phrases used in the synthetic descriptions.
    """

    event_type: str
    frequency: float
    severity: Any
    line_shares: Mapping[str, float]
    discovery_lag_days: float
    booking_lag_days: float
    other_recovery_rate: float
    subtypes: tuple[str, ...]


def _gpd(shape: float, scale: float) -> Any:
    return stats.genpareto(c=shape, loc=THRESHOLD, scale=scale)


def _lognormal(mu: float, sigma: float) -> Any:
    return stats.lognorm(s=sigma, scale=math.exp(mu))


def _shares(*values: float) -> Mapping[str, float]:
    assert len(values) == len(BUSINESS_LINE_CODES) and abs(sum(values) - 1) < 1e-12
    return MappingProxyType(dict(zip(BUSINESS_LINE_CODES, values)))


#               CF    TS    RB    CB    PS    AS    AM    RG
TRUE_MODEL: Mapping[str, EventTypeModel] = MappingProxyType({m.event_type: m for m in [
    EventTypeModel("IF", 12.0, _gpd(0.95, 6.0e7),
                   _shares(.05, .07, .48, .14, .06, .05, .06, .09), 240, 30, .15,
                   ("고객 예금 횡령", "무자원 입금", "대출 서류 위조를 통한 부당 대출",
                    "시재금 횡령", "미승인 거래")),
    EventTypeModel("EF", 35.0, _lognormal(14.3, 2.2),
                   _shares(.03, .03, .58, .14, .10, .04, .03, .05), 20, 15, .20,
                   ("위조 수표 지급", "인터넷뱅킹 해킹에 의한 부정 이체", "명의 도용 대출 사기",
                    "영업점 강도", "위조 어음 할인", "카드 위·변조")),
    EventTypeModel("EPWS", 15.0, _lognormal(15.3, 1.6),
                   _shares(.05, .07, .45, .14, .06, .07, .06, .10), 90, 60, .02,
                   ("퇴직 직원의 부당해고 소송", "성희롱 소송", "산업재해 보상",
                    "차별 관련 소송")),
    EventTypeModel("CPBP", 20.0, _gpd(0.85, 8.0e7),
                   _shares(.06, .10, .32, .16, .05, .08, .10, .13), 180, 60, .05,
                   ("불완전 판매 소송", "고객 정보 유출 손해배상", "주주 대표 소송",
                    "부당 수수료 환급", "자금세탁방지 위반 과징금")),
    EventTypeModel("DPA", 12.0, _lognormal(14.8, 2.3),
                   _shares(.05, .05, .50, .13, .07, .06, .06, .08), 2, 20, .05,
                   ("태풍 피해", "영업점 화재", "침수 피해", "시설물 파손")),
    EventTypeModel("BDSF", 14.0, _lognormal(14.8, 2.0),
                   _shares(.05, .10, .32, .10, .24, .08, .05, .06), 3, 15, .05,
                   ("인터넷뱅킹 장애로 인한 고객 배상", "전산 시스템 장애", "통신망 장애",
                    "ATM 장애")),
    EventTypeModel("EDPM", 42.0, _gpd(0.70, 4.0e7),
                   _shares(.04, .20, .25, .14, .18, .07, .06, .06), 30, 15, .30,
                   ("파생상품 주문 실수", "결제(Settle) 오류", "송금 착오", "담보 설정 누락",
                    "서류 관리 미비")),
]})
"""The true model of the synthetic data, one entry per event type (in taxonomy order)."""

CD_INCIDENT: Mapping[str, Any] = MappingProxyType({
    "event_id": "CD-2005-001", "event_type": "IF", "business_line": "RB",
    "occurrence_date": pd.Timestamp("2005-07-26"), "discovery_date": pd.Timestamp("2005-07-26"),
    "booking_date": pd.NaT, "gross_loss": 65_000_000_000, "insurance_recovery": 5_000_000_000,
    "other_recovery": 0, "policy_id": "BBB",
    "description": ("[실제 공개 사건] 국민은행 CD(양도성예금증서) 사기 사건(지점장 관련): 손실 650억원"
                    "(공모 은행의 200억원 포함 시 850억원), 금융기관종합보험(LG화재, 보상한도 50억원, "
                    "공제금액 5억원)에서 50억원 회수. 2005-07-26 보도 기준이며 발생일과 회계처리일은 "
                    "공개되지 않아 발생일을 보도일로 기재함"),
})
"""The one real event, as recorded publicly (dates: the reported date; booking unknown)."""


def cell_frequencies(model: Mapping[str, EventTypeModel] = TRUE_MODEL) -> pd.DataFrame:
    """Poisson rate per year of losses above the threshold, event type × business line."""
    rows = {et: [m.frequency * m.line_shares[bl] for bl in BUSINESS_LINE_CODES]
            for et, m in model.items()}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(BUSINESS_LINE_CODES))


def sample_severity(model: EventTypeModel, size: int, rng: np.random.Generator, *,
                    threshold: float = THRESHOLD) -> np.ndarray:
    """Draw ``size`` losses from ``model.severity`` conditional on exceeding ``threshold``.

    Inverse transform on the survival function, ``X = S⁻¹(U · S(threshold))``, which stays
    accurate far in the tail.
    """
    u = rng.random(size)
    return model.severity.isf(u * model.severity.sf(threshold))


def policy_year_start(inception: pd.Timestamp, date: pd.Timestamp) -> pd.Timestamp:
    """Start of the policy year containing ``date`` (an anniversary of ``inception``).

    The programme is read as renewed yearly on the same terms, so any date falls in some
    policy year, before or after the listed one.
    """
    start = inception + pd.DateOffset(years=date.year - inception.year)
    if start > date:
        start = inception + pd.DateOffset(years=date.year - inception.year - 1)
    return pd.Timestamp(start)


def _truncated_exponential(u: np.ndarray, mean: float, upper: np.ndarray) -> np.ndarray:
    """Inverse CDF of an exponential(mean) lag truncated to ``[0, upper]`` (days)."""
    return -mean * np.log1p(-u * -np.expm1(-upper / mean))


def _draw_event_type(m: EventTypeModel, rng: np.random.Generator) -> pd.DataFrame:
    """All synthetic events of one event type, with the uniforms used later."""
    lines, occ = [], []
    for bl in BUSINESS_LINE_CODES:
        for year in YEARS:
            start = pd.Timestamp(year=year, month=1, day=1)
            n_days = 366 if start.is_leap_year else 365
            n = rng.poisson(m.frequency * m.line_shares[bl])
            days = np.sort(rng.integers(0, n_days, size=n))
            lines += [bl] * n
            occ += [start + pd.Timedelta(days=int(d)) for d in days]
    n = len(lines)
    occ_s = pd.Series(pd.DatetimeIndex(occ), dtype="datetime64[ns]")
    gross = np.ceil(sample_severity(m, n, rng) / 1000.0) * 1000.0
    room = (PERIOD_END - occ_s).dt.days.to_numpy(dtype=float)
    lag = np.floor(_truncated_exponential(rng.random(n), m.discovery_lag_days, room + 1.0))
    disc = occ_s + pd.to_timedelta(np.minimum(lag, room), unit="D")
    book = disc + pd.to_timedelta(np.floor(rng.exponential(m.booking_lag_days, n)), unit="D")
    book = book.where(book <= PERIOD_END)
    return pd.DataFrame({
        "event_type": m.event_type, "business_line": lines, "occurrence_date": occ_s,
        "discovery_date": disc, "booking_date": book, "gross_loss": gross.astype(np.int64),
        "subtype": rng.integers(0, len(m.subtypes), n),
        "u_wording": rng.random(n), "u_other": rng.random(n), "u_other_share": rng.random(n),
    })


def _describe(row: pd.Series) -> str:
    m = TRUE_MODEL[row["event_type"]]
    return f"[합성] {m.subtypes[row['subtype']]} — {BUSINESS_LINES[row['business_line']].ko}"


def _draw_events(seed: int) -> pd.DataFrame:
    """Synthetic events plus the CD incident, sorted by occurrence, with event ids."""
    rng = np.random.default_rng(seed)
    parts = [_draw_event_type(TRUE_MODEL[et], rng) for et in EVENT_TYPE_CODES]
    synth = pd.concat(parts, ignore_index=True)
    synth["description"] = synth.apply(_describe, axis=1)
    cd = pd.DataFrame([{k: CD_INCIDENT[k] for k in ("event_id", "event_type", "business_line",
                                                     "occurrence_date", "discovery_date",
                                                     "booking_date", "gross_loss",
                                                     "description")}])
    cd["booking_date"] = cd["booking_date"].astype("datetime64[ns]")
    cd["u_wording"], cd["u_other"], cd["u_other_share"] = np.nan, 1.0, 0.0
    events = pd.concat([synth.drop(columns="subtype"), cd], ignore_index=True)
    et_rank = events["event_type"].map({c: i for i, c in enumerate(EVENT_TYPE_CODES)})
    bl_rank = events["business_line"].map({c: i for i, c in enumerate(BUSINESS_LINE_CODES)})
    order = np.lexsort((events["gross_loss"].to_numpy(), bl_rank.to_numpy(),
                        et_rank.to_numpy(), events["occurrence_date"].to_numpy()))
    events = events.iloc[order].reset_index(drop=True)
    new = events["event_id"].isna()
    year = events.loc[new, "occurrence_date"].dt.year
    seq = events.loc[new].groupby(year).cumcount() + 1
    events.loc[new, "event_id"] = "OR-" + year.astype(str) + "-" + seq.map("{:04d}".format)
    return events


def _wording_policy(events: pd.DataFrame, programme: pd.DataFrame) -> pd.Series:
    """Policy whose wording covers each event ("" if none), from the disjoint cover shares."""
    out = pd.Series("", index=events.index, dtype=object)
    for et in EVENT_TYPE_CODES:
        shares = programme[cover_column(et)].to_numpy(dtype=float)
        if shares.sum() > 1 + 1e-9:
            raise ValueError(f"programme: cover_{et} shares sum to {shares.sum():.3f}; the "
                             "generator reads wordings as disjoint, expected a sum <= 1")
        edges = np.cumsum(shares)
        sel = (events["event_type"] == et).to_numpy()
        k = np.searchsorted(edges, events.loc[sel, "u_wording"].to_numpy(), side="right")
        ids = np.append(programme["policy_id"].to_numpy(dtype=object), "")
        out[sel] = ids[np.minimum(k, len(shares))]
    forced = events["event_id"] == CD_INCIDENT["event_id"]
    if CD_INCIDENT["policy_id"] not in set(programme["policy_id"]):
        raise ValueError(f"programme has no policy {CD_INCIDENT['policy_id']!r}, which paid "
                         "the CD incident")
    out[forced] = CD_INCIDENT["policy_id"]
    return out


def _apply_programme(events: pd.DataFrame, programme: pd.DataFrame) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Insurance recovery (whole won) and paying policy id for every event."""
    wording = _wording_policy(events, programme)
    paid = np.zeros(len(events), dtype=np.int64)
    payer = np.full(len(events), "", dtype=object)
    for _, pol in programme.iterrows():
        rows = np.flatnonzero((wording == pol["policy_id"]).to_numpy())
        trig_col = ("discovery_date" if pol["claims_basis"] == "claims-made"
                    else "occurrence_date")
        trig = events[trig_col].to_numpy()[rows]
        synthetic = (events["event_id"].to_numpy()[rows] != CD_INCIDENT["event_id"])
        rows = rows[np.lexsort((trig, synthetic))]  # the recorded claim first, then by date
        used: dict[pd.Timestamp, float] = {}
        for r in rows:
            x = float(events.at[r, "gross_loss"])
            layer = min(max(x - pol["deductible"], 0.0), pol["limit"]) * pol["coinsurance"]
            year = policy_year_start(pol["inception"], events.at[r, trig_col])
            amount = math.floor(min(layer, pol["aggregate_limit"] - used.get(year, 0.0)))
            if amount > 0:
                used[year] = used.get(year, 0.0) + amount
                paid[r], payer[r] = amount, pol["policy_id"]
    return paid, payer


def _load_default_programme() -> pd.DataFrame:
    from opwb.data.bundled import data_path
    from opwb.data.programme_table import load_programme
    return load_programme(data_path("insurance_programme.csv"))


def generate_losses(seed: int = DEFAULT_SEED, *,
                    programme: pd.DataFrame | None = None) -> pd.DataFrame:
    """Generate the illustrative loss events.

    Parameters
    ----------
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed gives the same table.
    programme : DataFrame, optional
        Insurance programme as returned by :func:`opwb.data.programme_table.load_programme`; default
        the bundled ``data/insurance_programme.csv``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`opwb.data.schema.LOSS_COLUMNS`, sorted by occurrence; amounts int64 KRW,
        dates datetime64 (``booking_date`` NaT when not yet booked), ``policy_id`` ""
        when no policy paid.
    """
    prog = _load_default_programme() if programme is None else programme
    events = _draw_events(seed)
    events["insurance_recovery"], events["policy_id"] = _apply_programme(events, prog)
    left = (events["gross_loss"] - events["insurance_recovery"]).to_numpy(dtype=float)
    rate = events["event_type"].map({k: m.other_recovery_rate for k, m in TRUE_MODEL.items()})
    share = 0.1 + 0.7 * events["u_other_share"].to_numpy()
    other = np.where(events["u_other"].to_numpy() < rate.to_numpy(),
                     np.floor(left * share / 1000.0) * 1000.0, 0.0)
    events["other_recovery"] = other.astype(np.int64)
    cd = events["event_id"] == CD_INCIDENT["event_id"]
    if events.loc[cd, "insurance_recovery"].item() != CD_INCIDENT["insurance_recovery"]:
        raise ValueError("programme: policy 'BBB' does not pay the recorded 50억원 on the CD "
                         "incident; expected deductible 5억원, limit 50억원, coinsurance 1")
    return events[list(LOSS_COLUMNS)].copy()


def _format_row(row: tuple) -> list[str]:
    out = []
    for col, value in zip(LOSS_COLUMNS, row):
        if col.endswith("_date"):
            out.append("" if pd.isna(value) else value.strftime("%Y-%m-%d"))
        elif col in ("gross_loss", "insurance_recovery", "other_recovery"):
            out.append(str(int(value)))
        else:
            out.append(str(value))
    return out


def write_losses(path: str | Path | None = None, seed: int = DEFAULT_SEED) -> Path:
    """Write :func:`generate_losses` to ``path`` (default ``data/losses.csv``) as UTF-8 CSV.

    No BOM, ``\\n`` line ends, ISO dates, amounts as plain integers: the bytes depend on
    the seed only, not on the platform or pandas' float formatting.
    """
    if path is None:
        from opwb.data.bundled import data_path
        path = data_path("losses.csv")
    path = Path(path)
    df = generate_losses(seed)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(LOSS_COLUMNS)
        writer.writerows(_format_row(r) for r in df.itertuples(index=False, name=None))
    return path


def main(argv: list[str] | None = None) -> None:
    """``python -m opwb.data.synth [--seed N] [--out PATH]``: regenerate ``data/losses.csv``."""
    parser = argparse.ArgumentParser(prog="python -m opwb.data.synth", description=__doc__
                                     .splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    path = write_losses(args.out, seed=args.seed)
    df = pd.read_csv(path, dtype={"policy_id": str}, keep_default_na=False)
    print(f"wrote {len(df)} events to {path} (seed {args.seed}); "
          f"{len(df) / len(YEARS):.1f} a year, gross total {df['gross_loss'].sum():,} KRW")


if __name__ == "__main__":
    main()
