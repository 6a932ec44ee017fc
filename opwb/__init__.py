"""opwb — operational-risk insurance workbench.

Importing opwb changes no global state (no warning filters, pandas options, rcParams or
files). Matplotlib is imported only by :mod:`opwb.plots`, ipywidgets only by
:mod:`opwb.dashboard`.
"""
from __future__ import annotations

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


__all__ = [
    "DataError", "Problem", "COLLECTION_THRESHOLD", "KOREAN_COLUMNS", "BUSINESS_LINES",
    "EVENT_TYPES", "EOK", "JO", "format_krw", "data_path", "DATA_DIR",
]
