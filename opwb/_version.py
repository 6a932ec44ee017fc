"""opwb's version (one place: ``opwb.__version__``, the run records and the settings sheet;
``pyproject.toml`` names the same, checked by tests/test_packaging.py)."""
__version__ = "0.1.0"
