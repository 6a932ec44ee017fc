"""Example run dicts for the run-store tests (also imported by their subprocesses).

A run as :mod:`opwb.runs` records it: the case's hashes and settings, versions, model sets,
figures with their standard errors and claims per policy and year — never a loss record.
"""
from __future__ import annotations

import json
import math

from opwb.data.bundled import data_path


def model_set_doc(name: str = "severity_models.json") -> dict:
    """A bundled model set file as a doc (what a run records per base)."""
    return json.loads(data_path(name).read_text(encoding="utf-8"))


def make_run(label: str | None, *, recorded_at: str = "2026-12-07T05:00:00+00:00",
             n_figures: int = 6, as_of: str = "2006-12-31", models: bool = True,
             value: float = 1.0) -> dict:
    """A run with ``n_figures`` figures (the first ones NaN, +inf, -inf and None)."""
    specials = [math.nan, math.inf, -math.inf, None]
    figures = []
    for i in range(n_figures):
        v = specials[i] if i < len(specials) else value * (i + 1) * 1e8
        figures.append({"base": "True" if i % 2 == 0 else "False", "scope": "total",
                        "item": f"item{i // 10:04d}", "figure": f"figure{i % 10}",
                        "value": v, "se": None if i == 1 else 0.5 * i})
    return {
        "label": label,
        "recorded_at": recorded_at,
        "case": {"name": "예시은행", "hash": "c" * 64,
                 "files": {"losses": {"name": "losses.csv", "sha256": "a" * 64},
                           "programme": {"name": "insurance_programme.csv",
                                         "sha256": "b" * 64}},
                 "threshold": 1e7, "observation": ["2002-01-01", as_of],
                 "valuation_date": as_of, "incidents": [["CD-2005-001", "CD 사건"]]},
        "versions": {"opwb": "0.1.0", "numpy": "2.4.6"},
        "models": ({"True": model_set_doc(), "False": model_set_doc(
            "severity_models_without_cd.json")} if models else {}),
        "figures": figures,
        "claims": [{"policy": "BBB", "year": 2005, "claims": 1, "amount": 6.5e10},
                   {"policy": "FI-1", "year": 2006, "claims": 2, "amount": math.nan}],
        "settings": {"n_years": 100000, "seed": 2005, "severity_cap": math.inf},
    }


def same(a, b) -> bool:
    """Equal JSON-like values, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b
