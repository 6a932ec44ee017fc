"""Every Examples section in opwb's docstrings runs (numpydoc examples are tests too)."""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import opwb

MODULES = sorted(m.name for m in pkgutil.walk_packages(opwb.__path__, "opwb."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_core_modules_have_examples():
    """The modules users call first document themselves with examples that run."""
    for name in ("opwb.data.units", "opwb.data.taxonomy", "opwb.data.losses", "opwb.data.programme_table"):
        finder = doctest.DocTestFinder()
        examples = sum(len(t.examples) for t in finder.find(importlib.import_module(name)))
        assert examples >= 2, name
