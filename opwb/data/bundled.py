"""Where the bundled illustrative data files live (the repository's ``data/`` folder).

Examples
--------
>>> from opwb.data.bundled import data_path
>>> data_path("losses.csv").name
'losses.csv'
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["DATA_DIR", "data_path"]

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
"""The bundled data folder (see ``data/README.md`` for what each file is and where it came from)."""


def data_path(name: str) -> Path:
    """Path of a bundled data file, e.g. ``opwb.data_path("losses.csv")``."""
    return DATA_DIR / name
