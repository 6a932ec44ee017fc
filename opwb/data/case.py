"""A bank's case: one TOML file beside its data naming the files and the bank's settings.

Every notebook, the app, the deck and the Excel export start from a :class:`Case`;
:func:`bundled_case` is the bundled (illustrative) bank's and the default everywhere, not a
constant any computing layer knows. A case file names, relative to itself, the loss file
(with its sheet, header row, column mapping and the bank's category names → Basel codes), the
insurance programme, the quotes of the bond, optional external losses (with the bank's size
they are scaled to and the scaling exponent), scenario estimates, a BEICF scorecard and saved
model sets, and the bank's settings: name, collection threshold,
plausible maximum of a single loss, observation window, the bond's policy id, reference
incidents, severity cap, valuation date, run length, seed, cost of capital, risk appetite and
the frontier grid, and where its runs are recorded (``runs``: the run store of
:mod:`opwb.data.runstore`, by default ``runs.sqlite`` beside the case file). Every setting
has the bundled bank's value as its default, except those that belong to the bundled files
or bank — the data's footnote, ``bank_size``, and ``external_threshold`` and
``external_weight`` (the level above which the bundled external file is complete and the
weight its famous losses get) — which another bank states for itself (no
silent default for another bank's size); which settings a file states is kept
(:attr:`Case.stated`), so that a screen can say when a figure rests on opwb's default.
The scenario bases' fitted model sets use internal data alone. The four-element model
(:func:`opwb.scenarios.elements.four_elements`) adds the case's external losses above
``external_threshold`` with weight ``external_weight`` (:func:`opwb.fitting.external.
fit_severity_mixed`), its scenario estimates (``scenarios``, combined with uncertainty
``scenario_sd``) and its BEICF scorecard (``beicf``, clipped to ``beicf_bounds``).

``models`` names saved model-set files, or one model set frozen in a recorded run:
``models = "run:2007Q1"`` (:attr:`Case.frozen_models`), which the scenario bases then use
whatever the data, so that a change of data is seen apart from a refit.

A setting is declared **once**: a field of :class:`Case` with its TOML parser in the field's
metadata (:func:`_setting`); :func:`load_case` reads a file's keys through those declarations,
so a new setting is one new field. An unknown key, a value of the wrong kind or a file that is
not there is a :class:`opwb.DataError` naming the case file and the key.

Amounts are KRW: a number (``threshold = 5000000``) or text with a Korean unit
(``"500만"``, ``"70억"``, ``"1조"``, ``"1,500억원"``).

Examples
--------
>>> case = bundled_case()
>>> case.threshold, case.bond_policy, [i.event_id for i in case.incidents]
(10000000.0, 'BBB', ['CD-2005-001'])
>>> parse_krw("1,500억")
150000000000.0
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from opwb.data.errors import DataError, Problem
from opwb.data.beicf import BEICF_BOUNDS, check_bounds
from opwb.data.external import SHIH_EXPONENT, SIZE_BASES
from opwb.data.runrows import RUN_PREFIX  # "run:LABEL": a model set frozen in a recorded run
from opwb.data.schema import PLAUSIBLE_MAX_LOSS

__all__ = ["Case", "Incident", "load_case", "bundled_case", "parse_krw", "CASE_KEYS",
           "DEFAULT_DEDUCTIBLES", "DEFAULT_LIMITS", "REQUIRED_FILES",
           "open_case", "CASE_ENV", "RUN_PREFIX"]

_UNITS = {"조": 1e12, "억": 1e8, "만": 1e4, "천": 1e3, "": 1.0}

DEFAULT_DEDUCTIBLES = tuple(d * 1e8 for d in (5, 10, 20, 30, 50, 100, 200))
"""The frontier's deductibles by default (KRW): 5억–200억원."""
DEFAULT_LIMITS = tuple(x * 1e8 for x in (50, 100, 200, 300, 400, 500, 700, 1000, 1500, 2000,
                                          3000, 5000))
"""Candidate limits (KRW); by default the frontier takes those within the quoted range,
and the quoted limits themselves, so the premium is interpolated, never extrapolated."""


def parse_krw(value: Any) -> float:
    """An amount in KRW from a number or text with a Korean unit (``"1,500억"`` → 1.5e11).

    Raises ``ValueError`` for anything else, and for a value that is not finite.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected an amount in KRW, got {value!r}")
    if isinstance(value, (int, float)):
        x = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(조|억|만|천|)\s*원?\s*", value)
        if not m:
            raise ValueError(f"expected an amount in KRW such as 5000000, \"500만\" or "
                             f"\"1,500억\", got {value!r}")
        x = float(m.group(1).replace(",", "")) * _UNITS[m.group(2)]
    else:
        raise ValueError(f"expected an amount in KRW, got {value!r}")
    if not math.isfinite(x):
        raise ValueError(f"expected a finite amount in KRW, got {value!r}")
    return x


@dataclass(frozen=True)
class Incident:
    """A reference incident: an event of the loss data the analysis is run with and
    without (the bundled bank's 2005 CD fraud). ``label`` is what screens call it."""

    event_id: str
    label: str


# -- parsers of TOML values (each raises ValueError with what was expected) -----------------

def _text(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise ValueError(f"expected non-empty text, got {v!r}")
    return v.strip()


def _opt_text(v: Any) -> str | None:
    return None if v is None or v == "" else _text(v)


def _amount(v: Any) -> float:
    x = parse_krw(v)
    if x < 0:
        raise ValueError(f"expected an amount ≥ 0 KRW, got {v!r}")
    return x


def _opt_amount(v: Any) -> float | None:
    """An amount, or none: ``"none"`` / ``"없음"`` / ``false``."""
    if v is False or (isinstance(v, str) and v.strip().lower() in ("none", "없음", "")):
        return None
    x = parse_krw(v)
    if not x > 0:
        raise ValueError(f"expected an amount > 0 KRW or \"none\", got {v!r}")
    return x


def _date(v: Any) -> str:
    try:
        if isinstance(v, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
            raise ValueError
        ts = pd.Timestamp(str(v))
    except (ValueError, TypeError):
        raise ValueError(f"expected a date YYYY-MM-DD, got {v!r}") from None
    if not 1900 <= ts.year <= 2200:
        raise ValueError(f"expected a date between 1900 and 2200, got {v!r}")
    return ts.date().isoformat()


def _window(v: Any) -> tuple[str, str]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"expected [start, as-of date] as two dates YYYY-MM-DD, got {v!r}")
    start, end = _date(v[0]), _date(v[1])
    if start >= end:
        raise ValueError(f"the observation window's start {start} must be before its "
                         f"as-of date {end}")
    return start, end


def _positive_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"expected a whole number ≥ 1, got {v!r}")
    return int(v)


def _seed(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"expected a whole number ≥ 0, got {v!r}")
    return int(v)


def _fraction(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ValueError(f"expected a fraction in [0, 1] (0.10 for 10%), got {v!r}")
    return float(v)


def _exponent(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
        raise ValueError(f"expected the scaling exponent, a number in [0, 1] (0: no scaling, "
                         f"1: proportional to size; Shih et al. 2000: about {SHIH_EXPONENT}), "
                         f"got {v!r}")
    return float(v)


def _positive_real(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < math.inf:
        raise ValueError(f"expected a positive number, got {v!r}")
    return float(v)


def _bounds(v: Any) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError(f"expected [lower, upper], e.g. [0.75, 1.5], got {v!r}")
    return check_bounds(v[0], v[1])


def _size_basis(v: Any) -> str:
    text = _text(v)
    if text not in SIZE_BASES:
        raise ValueError(f"expected a size basis ({', '.join(SIZE_BASES)}), got {v!r}")
    return text


def _header_row(v: Any) -> int | None:
    return None if v is None else _positive_int(v)


def _sheet(v: Any) -> str | int | None:
    if v is None:
        return None
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return v - 1  # 1 = the first sheet, as a person counts
    return _text(v)


def _mapping(v: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(v, Mapping):
        raise ValueError(f"expected a table of \"name\" = \"value\", got {v!r}")
    out = []
    for k, x in v.items():
        if not isinstance(x, str) or not x.strip():
            raise ValueError(f"expected text for {k!r}, got {x!r}")
        out.append((str(k), x.strip()))
    return tuple(out)


def _incidents(v: Any) -> tuple[Incident, ...]:
    if not isinstance(v, list):
        raise ValueError("expected a list of incidents: [] for none, [\"EVENT-ID\", ...] or "
                         "[{id = \"EVENT-ID\", label = \"...\"}, ...]")
    out = []
    for item in v:
        if isinstance(item, str):
            out.append(Incident(_text(item), _text(item)))
        elif isinstance(item, Mapping) and set(item) <= {"id", "label"} and "id" in item:
            out.append(Incident(_text(item["id"]), _text(item.get("label", item["id"]))))
        else:
            raise ValueError(f"expected an event id or {{id = ..., label = ...}}, got {item!r}")
    ids = [i.event_id for i in out]
    if len(set(ids)) != len(ids):
        raise ValueError(f"an incident is listed twice: {ids}")
    return tuple(out)


def _amounts(v: Any) -> tuple[float, ...] | None:
    if v is None:
        return None
    if not isinstance(v, list) or not v:
        raise ValueError(f"expected a non-empty list of amounts, got {v!r}")
    xs = sorted({_amount(x) for x in v})
    return tuple(xs)


def _paths(v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list):
        raise ValueError(f"expected a file name or a list of file names, got {v!r}")
    return tuple(_text(x) for x in v)


def _frozen_label(models: tuple[str, ...]) -> str | None:
    """The run label of ``models`` (``("run:LABEL",)``), None when it names files only;
    ``ValueError`` for several runs, a run mixed with files, or an empty label."""
    runs = [m for m in models if m.startswith(RUN_PREFIX)]
    if not runs:
        return None
    if len(runs) > 1:
        raise ValueError(f"names {len(runs)} recorded runs ({', '.join(runs)}): a frozen model "
                         f"set comes from one run")
    if len(models) > 1:
        files = [m for m in models if not m.startswith(RUN_PREFIX)]
        raise ValueError(f"mixes a recorded run ({runs[0]}) with model-set files "
                         f"({', '.join(files)}): name either one run or files")
    label = runs[0][len(RUN_PREFIX):].strip()
    if not label:
        raise ValueError(f"expected \"run:LABEL\" with the run's label, got {runs[0]!r}")
    return label


def _model_sources(v: Any) -> tuple[str, ...]:
    """Model-set files, or one recorded run ``"run:LABEL"``."""
    models = _paths(v)
    _frozen_label(models)
    return models


def _store(v: Any) -> str:
    """A run store: a file path, or a database URL (checked by SQLAlchemy's parser) without
    a password."""
    text = _text(v)
    if "://" in text:
        import sqlalchemy as sa
        try:
            url = sa.engine.make_url(text)
        except (sa.exc.ArgumentError, ValueError):
            raise ValueError(f"expected a file path or a database URL such as "
                             f"\"postgresql+psycopg://user@host:5432/opwb\", got {text!r}") \
                from None
        if url.password:
            raise ValueError(f"the URL {url.render_as_string(hide_password=True)} holds a "
                             f"password: a case file is copied into run records and reports, "
                             f"so keep the password out of it (PostgreSQL reads it from "
                             f"~/.pgpass or PGPASSWORD)")
    return text


def _setting(default: Any, parse: Callable[[Any], Any], doc: str, *, section: str | None = None,
             path: bool = False, required_file: bool = True, fingerprint: bool = True):
    """One case setting: its default (the bundled bank's), the parser of its TOML value,
    what it means, the TOML section it sits in (None: top level), whether it names a
    file relative to the case, and whether it is part of :meth:`Case.fingerprint` (all
    but where runs are recorded, which changes no figure)."""
    factory = (lambda d=default: d) if isinstance(default, (dict, list)) else None
    meta = {"parse": parse, "doc": doc, "section": section, "path": path,
            "required_file": required_file, "fingerprint": fingerprint}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Case:
    """A bank's case (amounts KRW, dates ISO ``YYYY-MM-DD``, paths relative to ``root``).

    Build one with :func:`load_case` (a TOML file) or :func:`bundled_case`; change one with
    :meth:`replace`. See the module docstring and ``data/README.md`` for the file's form.
    """

    root: Path = field(default=Path("."), metadata={"internal": True})
    source: str | None = field(default=None, metadata={"internal": True})
    #: the settings the case states (its file's keys, and those changed by :meth:`replace`);
    #: any other setting is opwb's default, which a screen showing it says
    #: ("1조원 (기본값: 사례가 정하지 않음)"). Not part of equality or the fingerprint: it
    #: changes no figure.
    stated: frozenset[str] = field(default=frozenset(), compare=False,
                                   metadata={"internal": True})

    name: str = _setting("예시은행", _text, "the bank's name, shown on every screen")
    losses: str | None = _setting(None, _text, "the loss-event file (required)", path=True)
    sheet: str | int | None = _setting(None, _sheet, "the loss file's sheet (name, or 1 = first)")
    header_row: int | None = _setting(None, _header_row,
                                      "the loss file's header row (1 = first; default: row 1)")
    programme: str | None = _setting(None, _text, "the insurance programme (required)",
                                     path=True)
    quotes: str | None = _setting(None, _text, "the quotes for the bond (required)", path=True)
    external: str | None = _setting(None, _opt_text, "external large losses (optional)",
                                    path=True)
    bank_size: float | None = _setting(
        None, _opt_amount, "the bank's size (KRW, on the basis bank_size_basis) that external "
        "losses are scaled to; no default: a case that uses external losses states it")
    bank_size_basis: str = _setting("gross_income", _size_basis,
                                    "what bank_size measures (gross_income, revenue, "
                                    "total_assets): the external rows' sizes must be on it")
    external_exponent: float = _setting(
        SHIH_EXPONENT, _exponent, "the power of the size ratio in L × (bank_size / size)^e "
        "(Shih, Samad-Khan & Medapa 2000: about 0.23)")
    external_threshold: float | None = _setting(
        None, _opt_amount, "H: the level (KRW) at and above which the scaled external losses "
        "are taken as complete and enter a cell's severity in the four-element model; a case "
        "whose model uses external losses states it")
    external_weight: float = _setting(
        1.0, _fraction, "w: the weight of one scaled external loss beside one internal loss "
        "in the four-element severity fit (0: not used; 1: pooled, Frachot & Roncalli 2002)")
    scenarios: str | None = _setting(None, _opt_text, "scenario-analysis estimates "
                                     "(optional; opwb.data.scenarios)", path=True)
    scenario_sd: float = _setting(
        0.5, _positive_real, "s: each scenario estimate's standard deviation on the log scale "
        "of its exceedance rate (0.5: uncertain by a factor of about 1.65)")
    beicf: str | None = _setting(None, _opt_text, "the BEICF scorecard (optional; "
                                 "opwb.data.beicf)", path=True)
    beicf_bounds: tuple[float, float] = _setting(
        BEICF_BOUNDS, _bounds, "[lower, upper]: the band the BEICF multipliers are clipped to")
    models: tuple[str, ...] = _setting(
        (), _model_sources, "saved model sets (optional), used where their data fingerprint "
        "matches the losses; or \"run:LABEL\": the model set frozen in a recorded run, used "
        "whatever the data", path=True)
    runs: str = _setting(
        "runs.sqlite", _store, "the run store: an SQLite file (relative to the case file's "
        "folder) or a database URL (postgresql+psycopg://...)", fingerprint=False)
    data_note: str | None = _setting(None, _opt_text,
                                     "the data's footnote on screens and slides (optional)")
    threshold: float = _setting(10_000_000.0, _amount, "collection threshold (KRW)")
    plausible_max_loss: float | None = _setting(
        float(PLAUSIBLE_MAX_LOSS), _opt_amount, "the plausible maximum of a single loss in the "
        "loss file (KRW; \"none\"): a larger gross loss is an error (a slip)")
    observation: tuple[str, str] = _setting(("2002-01-01", "2006-12-31"), _window,
                                            "observation window: [start, as-of date]")
    bond_policy: str = _setting("BBB", _text, "the bond's policy id in the programme")
    incidents: tuple[Incident, ...] = _setting(
        (Incident("CD-2005-001", "CD 사건"),), _incidents,
        "reference incidents: the analysis is shown with and without them ([] = none)")
    severity_cap: float | None = _setting(1e12, _opt_amount,
                                          "maximum single loss simulated (KRW; \"none\")")
    valuation_date: str = _setting("2006-12-31", _date, "valuation date (residual terms)")
    n_years: int = _setting(100_000, _positive_int, "simulated years")
    seed: int = _setting(2005, _seed, "the simulation's root seed")
    predictive_worlds: int = _setting(
        100, _positive_int, "worlds of the predictive model (parameter and family "
        "uncertainty: opwb.decision)")
    world_years: int = _setting(10_000, _positive_int,
                                "simulated years per world of the predictive model")
    cost_of_capital: float = _setting(0.10, _fraction, "annual cost of capital (fraction)")
    max_premium: float | None = _setting(70e8, _opt_amount, "appetite: annual premium ceiling",
                                         section="appetite")
    max_retained_if_1in100: float | None = _setting(
        None, _opt_amount, "appetite: internal-fraud loss kept once in 100 years",
        section="appetite")
    max_net_capital: float | None = _setting(None, _opt_amount,
                                             "appetite: regulatory capital net of insurance",
                                             section="appetite")
    deductibles: tuple[float, ...] | None = _setting(
        None, _amounts, "the frontier's deductibles (default: 5억–200억 and the quotes')",
        section="grid")
    limits: tuple[float, ...] | None = _setting(
        None, _amounts, "the frontier's limits (default: the quoted range)", section="grid")
    columns: tuple[tuple[str, str], ...] = _setting(
        (), _mapping, "the loss file's header → opwb column", section="columns")
    event_types: tuple[tuple[str, str], ...] = _setting(
        (), _mapping, "the bank's event-type names → Basel codes", section="event_types")
    business_lines: tuple[tuple[str, str], ...] = _setting(
        (), _mapping, "the bank's business-line names → Basel codes", section="business_lines")

    # -- paths -------------------------------------------------------------------------
    def path(self, key: str) -> Path | None:
        """The file a path setting names, resolved against the case's folder."""
        value = getattr(self, key)
        if value is None:
            return None
        if isinstance(value, tuple):
            raise ValueError(f"{key} names several files: use paths({key!r})")
        return (self.root / value).resolve()

    def paths(self, key: str) -> tuple[Path, ...]:
        """The files a list setting names, resolved against the case's folder (a
        ``"run:LABEL"`` entry of ``models`` names a recorded run, not a file: skipped)."""
        value = getattr(self, key)
        return tuple((self.root / v).resolve() for v in value
                     if not (key == "models" and v.startswith(RUN_PREFIX))) if value else ()

    @property
    def frozen_models(self) -> str | None:
        """The label of the recorded run whose model set ``models`` names
        (``models = "run:LABEL"``), None when it names model-set files or nothing.

        Raises
        ------
        opwb.DataError
            ``models`` names several runs, or a run and files (naming the case file and
            the key).
        """
        try:
            return _frozen_label(self.models)
        except ValueError as exc:
            raise _problem(self.source or str(self.root), "models", str(exc)) from None

    def run_store(self) -> str:
        """Where the case's runs are recorded (:func:`opwb.data.runstore.open_store` takes
        it): the setting ``runs`` as an absolute file path resolved against the case's
        folder, or its database URL (an ``sqlite:///`` URL's relative file too is resolved
        against the case's folder). Nothing is created here."""
        if "://" not in self.runs:
            return str((self.root / self.runs).resolve())
        import sqlalchemy as sa
        url = sa.engine.make_url(self.runs)
        db = url.database
        if url.get_backend_name() == "sqlite" and db and db != ":memory:" \
                and not Path(db).is_absolute():
            return url.set(database=str((self.root / db).resolve())).render_as_string(
                hide_password=False)
        return self.runs

    def replace(self, **changes: Any) -> "Case":
        """A copy with ``changes``; a setting changed here counts as stated (:attr:`stated`)."""
        stated = self.stated | {k for k in changes if k in CASE_KEYS}
        return dataclasses.replace(self, **{"stated": stated, **changes})

    def is_default(self, key: str) -> bool:
        """Whether setting ``key`` is opwb's default because the case does not state it.

        Examples
        --------
        >>> case = bundled_case()
        >>> case.is_default("severity_cap"), case.is_default("max_net_capital")
        (False, True)
        """
        if key not in CASE_KEYS:
            raise KeyError(f"{key!r} is not a case setting")
        return key not in self.stated

    @property
    def appetite(self) -> dict[str, float | None]:
        """The risk-appetite ceilings (KRW; None: none) as keyword arguments."""
        return {"max_premium": self.max_premium,
                "max_retained_if_1in100": self.max_retained_if_1in100,
                "max_net_capital": self.max_net_capital}

    @property
    def as_of(self) -> pd.Timestamp:
        return pd.Timestamp(self.observation[1])

    def settings(self) -> dict[str, Any]:
        """Every setting (not the folder) as plain values, for fingerprints and records."""
        out = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("internal"):
                continue
            v = getattr(self, f.name)
            if f.name == "incidents":
                v = [[i.event_id, i.label] for i in v]
            out[f.name] = v
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the settings and the bytes of every file the case names: equal
        fingerprints give equal figures (the key of the stored scenario bases). Where runs
        are recorded (``runs``) is not part of it; a frozen model set's run is, by its
        label (the scenario bases add the frozen set's own digest)."""
        settings = {k: v for k, v in self.settings().items()
                    if CASE_KEYS[k].metadata["fingerprint"]}
        h = hashlib.sha256(json.dumps(settings, sort_keys=True, default=list,
                                      ensure_ascii=False).encode())
        for key in _PATH_KEYS:
            for p in self.paths(key) if key == "models" else [self.path(key)]:
                if p is not None and p.exists():
                    h.update(key.encode() + b"\0" + p.read_bytes())
        return h.hexdigest()

    def mapping(self, key: str) -> dict[str, str]:
        """A mapping setting (columns, event_types, business_lines) as a dict."""
        return dict(getattr(self, key))

    # -- loading -----------------------------------------------------------------------
    def load_losses(self, *, threshold: float | None | bool = True) -> pd.DataFrame:
        """The case's loss events, validated (:func:`opwb.data.load_losses`) with its
        sheet, header row, column and category mappings, observation window and plausible
        maximum of a single loss; losses below the case's collection threshold set apart
        (``threshold=None``: kept)."""
        from opwb.data.losses import load_losses
        kw: dict[str, Any] = {}
        if self.sheet is not None:
            kw["sheet_name"] = self.sheet
        if self.header_row is not None:
            kw["header_row"] = self.header_row
        if self.event_types:
            kw["event_types"] = self.mapping("event_types")
        if self.business_lines:
            kw["business_lines"] = self.mapping("business_lines")
        th = self.threshold if threshold is True else (None if threshold is False else threshold)
        return load_losses(self.path("losses"), columns=self.mapping("columns") or None,
                           threshold=th, observation=self.observation,
                           max_loss=self.plausible_max_loss, **kw)

    def load_programme(self) -> pd.DataFrame:
        """The programme table (:func:`opwb.data.load_programme`)."""
        from opwb.data.programme_table import load_programme
        return load_programme(self.path("programme"))

    def load_external(self) -> pd.DataFrame | None:
        """External large losses, or None when the case names none."""
        if self.external is None:
            return None
        from opwb.data.external import load_external_losses
        return load_external_losses(self.path("external"))

    def load_scenarios(self):
        """The case's scenario estimates (:func:`opwb.data.scenarios.load_scenarios`, with the
        case's category mappings), or None when it names none."""
        if self.scenarios is None:
            return None
        from opwb.data.scenarios import load_scenarios
        return load_scenarios(self.path("scenarios"), **self._category_maps())

    def load_scorecard(self):
        """The case's BEICF scorecard (:func:`opwb.data.beicf.load_scorecard`, with the case's
        category mappings), or None when it names none."""
        if self.beicf is None:
            return None
        from opwb.data.beicf import load_scorecard
        return load_scorecard(self.path("beicf"), **self._category_maps())

    def _category_maps(self) -> dict[str, dict[str, str]]:
        return {k: self.mapping(k) for k in ("event_types", "business_lines")
                if getattr(self, k)}

    def scaled_external(self, *, unsized: str = "drop") -> pd.DataFrame | None:
        """The external losses scaled to the bank (:func:`opwb.data.external.scale_external`
        with ``bank_size``, ``bank_size_basis`` and ``external_exponent``), or None when the
        case names none. Rows without a size are left out and listed in
        ``attrs["dropped"]`` (``unsized="raise"``: an error naming each).

        Raises
        ------
        opwb.DataError
            The case names external losses but not ``bank_size`` (naming the case file and
            the key); the file's problems; sizes on another basis than the bank's.
        """
        ext = self.load_external()
        if ext is None:
            return None
        if self.bank_size is None:
            raise _problem(self.source or str(self.root), "bank_size",
                           "missing: the case names external losses; to scale them to the bank "
                           f"it must state the bank's size in KRW ({self.bank_size_basis}, "
                           "the basis of bank_size_basis), e.g. bank_size = \"7조\"")
        from opwb.data.external import scale_external
        return scale_external(ext, self.bank_size, self.external_exponent,
                              basis=self.bank_size_basis, unsized=unsized)


CASE_KEYS: dict[str, dataclasses.Field] = {
    f.name: f for f in dataclasses.fields(Case) if not f.metadata.get("internal")}
"""Every setting a case file may hold, by name."""
_PATH_KEYS = tuple(k for k, f in CASE_KEYS.items() if f.metadata["path"])
_SECTIONS = {f.metadata["section"] for f in CASE_KEYS.values()} - {None}
_MAPPING_SECTIONS = {"columns", "event_types", "business_lines"}


def _problem(source: str, key: str, message: str) -> DataError:
    return DataError([Problem(source, f"key '{key}'", None, message)])


def load_case(path: str | Path) -> Case:
    """Read a case file (TOML, UTF-8).

    Parameters
    ----------
    path : str or Path
        The case file. Files it names are relative to its folder.

    Returns
    -------
    Case

    Raises
    ------
    opwb.DataError
        The file is missing or not TOML; a key is unknown (the message lists the known
        ones); a value is of the wrong kind; a file the case names does not exist.
    """
    path = Path(path)
    src = str(path)
    if not path.is_file():
        raise DataError([Problem(src, "file", None, "no such case file")])
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM (Notepad) is fine
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError([Problem(src, "file", None, f"not a valid TOML case file: {exc}")]) \
            from None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _MAPPING_SECTIONS:
            items = {key: value}
        elif key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise _problem(src, key, f"expected a section [{key}]")
            items = {k: v for k, v in value.items()}
            for k in items:
                f = CASE_KEYS.get(k)
                if f is None or f.metadata["section"] != key:
                    known = sorted(n for n, g in CASE_KEYS.items() if g.metadata["section"] == key)
                    raise _problem(src, f"{key}.{k}", f"unknown key; [{key}] takes "
                                   + ", ".join(known))
        else:
            f = CASE_KEYS.get(key)
            if f is None or f.metadata["section"] is not None:
                known = sorted(n for n, g in CASE_KEYS.items() if g.metadata["section"] is None)
                raise _problem(src, key, "unknown key; a case file takes " + ", ".join(known)
                               + " and the sections " + ", ".join(sorted(_SECTIONS)))
            items = {key: value}
        for k, v in items.items():
            f = CASE_KEYS[k]
            shown = k if f.metadata["section"] in (None, k) else f"{f.metadata['section']}.{k}"
            try:
                values[k] = f.metadata["parse"](v)
            except ValueError as exc:
                raise _problem(src, shown, str(exc)) from None
    case = Case(root=path.resolve().parent, source=src, stated=frozenset(values), **values)
    _check_mappings(case)
    _check_files(case)
    return case


def _check_mappings(case: Case) -> None:
    """The mapping sections name real opwb columns and Basel codes."""
    from opwb.data.schema import LOSS_COLUMNS
    from opwb.data.taxonomy import name_reader
    src = case.source or str(case.root)
    for header, column in case.columns:
        if column not in LOSS_COLUMNS:
            raise _problem(src, f"columns.{header}", f"{column!r} is not an opwb loss column; "
                           "expected one of " + ", ".join(LOSS_COLUMNS))
    for section in ("event_types", "business_lines"):
        if getattr(case, section):
            try:
                name_reader(section, case.mapping(section))
            except ValueError as exc:
                raise _problem(src, section, str(exc)) from None


REQUIRED_FILES = ("losses", "programme", "quotes")
"""The files every case must name."""


def _check_files(case: Case) -> None:
    for key in REQUIRED_FILES:
        if getattr(case, key) is None:
            raise _problem(case.source or str(case.root), key,
                           f"missing: the case must name its {CASE_KEYS[key].metadata['doc']}"
                           .replace(" (required)", ""))
    for key in _PATH_KEYS:
        for p in case.paths(key) if key == "models" else [case.path(key)]:
            if p is not None and not p.is_file():
                raise _problem(case.source or str(case.root), key,
                               f"the file {p} does not exist (paths are relative to the "
                               f"case file's folder {case.root})")


def bundled_case() -> Case:
    """The bundled illustrative bank's case: ``data/case.toml`` (every setting at its
    default, the bundled files in ``data/``)."""
    from opwb.data.bundled import data_path
    return load_case(data_path("case.toml"))


CASE_ENV = "OPWB_CASE"
"""Environment variable naming the case file the app serves (set by ``workbench.py app
--case PATH`` for the app's kernels)."""


def open_case(case_path: str | Path | None = None) -> Case:
    """The case a notebook runs on: ``case_path`` when given, else the file named by the
    environment variable :data:`CASE_ENV` (the app's ``--case``), else :func:`bundled_case`.

    Raises :class:`opwb.DataError` as :func:`load_case`.
    """
    import os
    if case_path:
        return load_case(case_path)
    env = os.environ.get(CASE_ENV)
    return load_case(env) if env else bundled_case()
