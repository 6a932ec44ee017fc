"""The public entry points named in the issues keep their names and signatures."""
from __future__ import annotations

import inspect

import pytest

import opwb


@pytest.mark.parametrize("name", sorted(opwb._LAZY))
def test_every_public_name_resolves(name):
    assert getattr(opwb, name) is getattr(
        __import__(f"opwb.{opwb._LAZY[name]}", fromlist=[name]), name)


def test_named_entry_points_and_signatures():
    params = lambda f: list(inspect.signature(f).parameters)  # noqa: E731
    assert params(opwb.load_losses)[:2] == ["source", "columns"]
    assert params(opwb.fit_severity)[:3] == ["losses", "family", "threshold"]
    assert params(opwb.compound_fft)[:3] == ["frequency", "severity", "policy"]
    assert issubclass(opwb.DataError, ValueError)
    assert opwb.Policy(deductible=5 * opwb.EOK, limit=50 * opwb.EOK).recover(
        [650 * opwb.EOK]).tolist() == [50 * opwb.EOK]  # the CD incident under the 2005 BBB
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        opwb.nonexistent  # noqa: B018
