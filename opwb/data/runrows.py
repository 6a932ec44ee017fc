"""A run's rows: the checks and the shapes of what :mod:`opwb.data.runstore` writes.

:func:`prepare_run` turns the run dict given to :meth:`opwb.data.runstore.RunStore.record`
into its document (JSON text round trip, without its model sets) and the rows of the
``run_files``, ``run_models``, ``run_figures`` and ``run_claims`` tables, refusing before
anything is written a run that is not JSON-able, has malformed figures, claims or files, a
label that names a run (``"run:..."``) or rows shaped like loss events (a run store never
holds a loss record). A NaN becomes the tables' NULL; ±inf stays ±inf.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

from opwb.data.errors import RunStoreError

__all__ = ["prepare_run", "head_row", "file_rows", "claim_rows", "figure_rows", "as_of",
           "utc_text", "RUN_PREFIX"]

RUN_PREFIX = "run:"
"""``"run:LABEL"`` names a recorded run (a case's ``models = "run:2007Q1"``)."""
#: Keys of a loss event (opwb.data.schema); a mapping with two of them is a loss record.
_LOSS_KEYS = {"event_id", "gross_loss", "occurrence_date", "discovery_date", "booking_date",
              "insurance_recovery", "other_recovery", "description", "business_line"}


def _fail(message: str) -> RunStoreError:
    return RunStoreError(f"cannot record the run: {message}")


def _number(value: Any, what: str, *, integer: bool = False) -> float | int | None:
    """A float (NaN → None, the tables' NULL) or int for a table cell."""
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__float__"):
        raise _fail(f"{what} must be a number or None, got {value!r}")
    x = float(value)
    if integer:
        if not math.isfinite(x) or x != int(x):
            raise _fail(f"{what} must be a whole number, got {value!r}")
        return int(x)
    return None if math.isnan(x) else x


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _fail(f"{what} must be non-empty text, got {value!r}")
    return value


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def _is_amount(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return bool(value) and all(map(_is_amount, value))
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _refuse_loss_records(value: Any, where: str = "run") -> None:
    """Raise when ``value`` holds a mapping shaped like loss events: an amount (or a list of
    them) under ``gross_loss`` and another loss column (a case's header mapping, whose
    values are column names, is not)."""
    if isinstance(value, Mapping):
        if (_is_amount(value.get("gross_loss"))
                and len(_LOSS_KEYS & {str(k) for k in value}) >= 2):
            raise _fail(f"{where} holds a row shaped like a loss event "
                        f"({', '.join(sorted(_LOSS_KEYS & set(map(str, value))))}); loss "
                        f"records are never stored in a run store")
        for k, v in value.items():
            _refuse_loss_records(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _refuse_loss_records(v, f"{where}[{i}]")


def utc_text(value: Any) -> str:
    try:
        ts = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise _fail(f"recorded_at must be an ISO date-time, got {value!r}") from None
    if ts.tzinfo is None:
        raise _fail(f"recorded_at must name its offset (e.g. +00:00), got {value!r}")
    return ts.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def prepare_run(run: Mapping[str, Any]) -> tuple[dict, dict[str, list[dict]]]:
    """The doc (JSON round trip of ``run`` without its models) and the tables' rows."""
    if not isinstance(run, Mapping):
        raise _fail(f"a run is a dict, got {type(run).__name__}")
    run = {k: v for k, v in run.items() if k != "run_id"}
    label = run.get("label")
    if label is not None:
        _text(label, "label")
        if label.startswith(RUN_PREFIX):
            raise _fail(f"a label may not start with {RUN_PREFIX!r} (that names a run): "
                        f"{label!r}")
    if run.get("recorded_at") is None:
        run["recorded_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    utc_text(run["recorded_at"])
    _refuse_loss_records(run)
    models = run.pop("models", None) or {}
    if not isinstance(models, Mapping) or not all(isinstance(m, Mapping)
                                                  for m in models.values()):
        raise _fail("models must map a base (\"True\", \"False\") to a model set doc")
    if len({str(b) for b in models}) != len(models):
        raise _fail(f"models names a base twice: {list(models)}")
    try:
        doc = json.loads(json.dumps(run, default=_jsonable, allow_nan=True))
        model_rows = [{"base": str(b), "doc": json.dumps(m, default=_jsonable, allow_nan=True)}
                      for b, m in models.items()]
    except (TypeError, ValueError) as exc:
        raise _fail(f"it is not JSON-able: {exc}") from None
    return doc, {"files": file_rows(doc.get("case")), "models": model_rows,
                 "figures": figure_rows(doc.get("figures")),
                 "claims": claim_rows(doc.get("claims"))}


def _rows(value: Any, what: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        raise _fail(f"{what} must be a list of dicts")
    return value


def file_rows(case: Any) -> list[dict]:
    files = case.get("files") if isinstance(case, Mapping) else None
    if files is None:
        return []
    if not isinstance(files, Mapping) or not all(isinstance(f, Mapping) for f in files.values()):
        raise _fail("case.files must map a role to {name, sha256}")
    return [{"role": str(role), "name": f.get("name"), "sha256": f.get("sha256")}
            for role, f in files.items()]


def figure_rows(figures: Any) -> list[dict]:
    out = []
    for i, f in enumerate(_rows(figures, "figures")):
        out.append({"base": str(f.get("base", "True")),
                    **{k: _text(f.get(k), f"figures[{i}].{k}") for k in
                       ("scope", "item", "figure")},
                    "value": _number(f.get("value"), f"figures[{i}].value"),
                    "se": _number(f.get("se"), f"figures[{i}].se")})
    return out


def claim_rows(claims: Any) -> list[dict]:
    return [{"policy": _text(str(c.get("policy") or ""), f"claims[{i}].policy"),
             "year": _number(c.get("year"), f"claims[{i}].year", integer=True),
             "claims": _number(c.get("claims"), f"claims[{i}].claims", integer=True),
             "amount": _number(c.get("amount"), f"claims[{i}].amount")}
            for i, c in enumerate(_rows(claims, "claims"))]


def head_row(doc: Mapping[str, Any]) -> dict:
    """The ``runs`` row of a doc (besides its id)."""
    case = doc.get("case") if isinstance(doc.get("case"), Mapping) else {}
    versions = doc.get("versions") if isinstance(doc.get("versions"), Mapping) else {}
    return {"label": doc.get("label"), "recorded_at": utc_text(doc["recorded_at"]),
            "case_name": _opt_str(case.get("name")), "case_hash": _opt_str(case.get("hash")),
            "valuation_date": _opt_str(case.get("valuation_date")), "as_of": as_of(case),
            "opwb_version": _opt_str(versions.get("opwb")),
            "doc": json.dumps(doc, allow_nan=True, ensure_ascii=False)}


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def as_of(case: Mapping[str, Any]) -> str | None:
    window = case.get("observation")
    if isinstance(window, (list, tuple)) and len(window) == 2:
        return _opt_str(window[1])
    return None
