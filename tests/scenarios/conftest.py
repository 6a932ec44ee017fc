"""Fixtures and helpers shared by this package's tests."""
from __future__ import annotations

import opwb

EOK = opwb.EOK
