"""opwb — operational-risk insurance workbench.

The public entry points are importable from ``opwb`` directly (``opwb.load_losses``,
``opwb.fit_severity``, ``opwb.Policy``, ``opwb.compound_fft``, ...); they are loaded on
first use, so ``import opwb`` stays light. Importing opwb changes no global state (no
warning filters, pandas options, rcParams or files). Matplotlib is imported only by
:mod:`opwb.plots`, ipywidgets only by :mod:`opwb.dashboard`.

Examples
--------
>>> import opwb
>>> opwb.Policy(deductible=30 * opwb.EOK, limit=400 * opwb.EOK).recover([1_000 * opwb.EOK])
array([4.e+10])
>>> opwb.format_krw(65e9)
'650억원'
"""
from __future__ import annotations

import importlib
from pathlib import Path

from .errors import DataError, Problem
from .schema import COLLECTION_THRESHOLD, KOREAN_COLUMNS
from .taxonomy import BUSINESS_LINES, EVENT_TYPES
from .units import EOK, JO, format_krw

__version__ = "0.1.0"

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_path(name: str) -> Path:
    """Path of a bundled data file, e.g. ``opwb.data_path("losses.csv")``."""
    return DATA_DIR / name


_LAZY = {
    # data
    "load_losses": "losses", "split_threshold": "losses", "load_programme": "programme",
    "load_external_losses": "analysis", "generate_losses": "synth", "TRUE_MODEL": "synth",
    # fitting
    "fit_severity": "fitting", "fit_frequency": "fitting", "SeverityFit": "fitting",
    "SEVERITY_FAMILIES": "severity", "SplicedSeverity": "tail", "splice": "tail",
    "gof_test": "gof", "comparison_table": "gof", "load_model_set": "modelset",
    # engine
    "CellModel": "simulate", "simulate_losses": "simulate", "SimulatedLosses": "simulate",
    "compound_fft": "fft", "sla_var": "fft", "var": "riskmeasures", "es": "riskmeasures",
    # insurance and capital
    "Policy": "insurance", "Programme": "insurance", "apply_programme": "insurance",
    "eligibility_table": "eligibility", "residual_term_haircut": "eligibility",
    "capital_summary": "capital", "apply_cap": "capital", "bic": "capital", "ilm": "capital",
    "standardised_approach": "capital",
    # scenarios
    "Alternative": "alternatives", "load_alternatives": "alternatives",
    "build_scenario_base": "scenarios", "evaluate": "scenarios", "compare": "scenarios",
    "ScenarioSettings": "scenarios",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'opwb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DataError", "Problem", "COLLECTION_THRESHOLD", "KOREAN_COLUMNS", "BUSINESS_LINES",
    "EVENT_TYPES", "EOK", "JO", "format_krw", "data_path", "DATA_DIR", *_LAZY,
]
