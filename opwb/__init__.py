"""opwb — operational-risk insurance workbench.

The public entry points are importable from ``opwb`` directly (``opwb.load_losses``,
``opwb.fit_severity``, ``opwb.Policy``, ``opwb.compound_fft``, ...); they are loaded on
first use, so ``import opwb`` stays light. Importing opwb changes no global state (no
warning filters, pandas options, rcParams or files). Matplotlib is imported only by
:mod:`opwb.report.plots`, ipywidgets only by :mod:`opwb.app`.

The package is built in layers, each a subpackage that imports only the layers before it:
``data`` → ``analysis`` / ``fitting`` → ``engine`` → ``insurance`` → ``capital`` →
``scenarios`` → ``decision`` → ``runs`` → ``report`` → ``app`` (see ``docs/ARCHITECTURE.md``).

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

from opwb._lazy import attach
from opwb.data.bundled import DATA_DIR, data_path
from opwb.data.errors import DataError, Problem
from opwb.data.schema import COLLECTION_THRESHOLD, KOREAN_COLUMNS
from opwb.data.taxonomy import BUSINESS_LINES, EVENT_TYPES
from opwb.data.units import EOK, JO, format_krw

from opwb._version import __version__

_LAZY = {
    # data
    "load_case": "data.case", "bundled_case": "data.case", "open_case": "data.case",
    "Case": "data.case",
    "load_losses": "data.losses", "split_threshold": "data.losses",
    "load_programme": "data.programme_table", "load_external_losses": "data.external",
    "scale_external": "data.external",
    "generate_losses": "data.synth", "TRUE_MODEL": "data.synth",
    # fitting
    "fit_severity": "fitting.mle", "fit_frequency": "fitting.frequency",
    "SeverityFit": "fitting.mle", "SEVERITY_FAMILIES": "fitting.families",
    "SplicedSeverity": "fitting.tail", "splice": "fitting.tail", "gof_test": "fitting.gof",
    "comparison_table": "fitting.gof", "load_model_set": "fitting.modelset",
    "fit_severity_mixed": "fitting.external",
    # engine
    "CellModel": "engine.simulate", "simulate_losses": "engine.simulate",
    "SimulatedLosses": "engine.simulate", "compound_fft": "engine.fft",
    "sla_var": "engine.crosscheck", "var": "engine.riskmeasures", "es": "engine.riskmeasures",
    # insurance and capital
    "Policy": "insurance.policy", "Programme": "insurance.programme",
    "apply_programme": "insurance.apply", "eligibility_table": "insurance.eligibility",
    "residual_term_haircut": "insurance.eligibility", "capital_summary": "capital.ama",
    "apply_cap": "capital.ama", "bic": "capital.standardised", "ilm": "capital.standardised",
    "standardised_approach": "capital.standardised",
    # scenarios
    "Alternative": "scenarios.alternatives", "load_alternatives": "scenarios.alternatives",
    "build_scenario_base": "scenarios.base", "ScenarioSettings": "scenarios.base",
    "evaluate": "scenarios.evaluation", "compare": "scenarios.evaluation",
    "evaluate_many": "scenarios.evaluation", "difference": "scenarios.evaluation",
    "frontier": "scenarios.frontier", "recommend": "scenarios.recommend",
    "scenario_bases": "scenarios.spec", "ScenarioSpec": "scenarios.spec",
    "DEFAULT_SPEC": "scenarios.spec", "management_answer": "scenarios.answer", "QuotedPremium": "scenarios.premium",
    "TechnicalPremium": "scenarios.premium",
    "parameter_uncertainty": "scenarios.uncertainty",
    "four_elements": "scenarios.elements",
    # decision
    "predictive_answer": "decision.robust", "predictive_bases": "decision.robust",
    "PredictiveSettings": "decision.predictive",
    # runs
    "record_run": "runs.record", "compare_runs": "runs.compare", "open_store": "data.runstore",
}


SUBPACKAGES = ("data", "analysis", "fitting", "engine", "insurance", "capital", "scenarios",
               "decision", "runs", "report", "app")
"""The layers, from data toward presentation (see ``docs/ARCHITECTURE.md``)."""

_MOVED = {
    "errors": "data.errors", "taxonomy": "data.taxonomy", "units": "data.units",
    "schema": "data.schema", "tableio": "data.tableio", "losses": "data.losses",
    "programme": "data.programme_table", "synth": "data.synth", "severity": "fitting.families",
    "gof": "fitting.gof", "tail": "fitting.tail", "modelset": "fitting.modelset",
    "simulate": "engine.simulate", "fft": "engine.fft", "riskmeasures": "engine.riskmeasures",
    "eligibility": "insurance.eligibility", "alternatives": "scenarios.alternatives",
    "plots": "report.plots", "excel": "report.excel", "deck": "report.deck",
    "dashboard": "app.dashboard",
}
"""Modules of opwb 0.1 that moved into the layers: ``opwb.data.synth`` still resolves (attribute
access after ``import opwb``) to ``opwb.data.synth``."""

_lazy_getattr, _lazy_dir, _ = attach(__name__, _LAZY)


def __getattr__(name: str):
    if name in SUBPACKAGES or name in _MOVED:
        return importlib.import_module(f"{__name__}.{_MOVED.get(name, name)}")
    return _lazy_getattr(name)


def __dir__() -> list[str]:
    return sorted(set(_lazy_dir()) | set(SUBPACKAGES))


__all__ = [
    "DataError", "Problem", "COLLECTION_THRESHOLD", "KOREAN_COLUMNS", "BUSINESS_LINES",
    "EVENT_TYPES", "EOK", "JO", "format_krw", "data_path", "DATA_DIR", *_LAZY,
]
