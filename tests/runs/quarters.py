"""A bank's case quarter after quarter, written afresh by the tests.

:func:`write_quarter_case` copies the bundled bank's files into a folder and writes its
``case.toml`` with a short run (the figures' standard errors are then larger, not wrong):

- ``quarter=False``: the data to 2006-12-31, valued at 2006-12-31 (run "2006Q4");
- ``quarter=True``: the same data plus a first quarter of 2007 (the events of 2006's first
  quarter again, one year later, with new event ids: a quarter as the bank's own would
  look), observation window and valuation date moved to 2007-03-31 (run "2007Q1").

``valuation_date`` moves the valuation date alone. Deterministic and quick.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from opwb.data.bundled import data_path

__all__ = ["write_quarter_case", "N_YEARS"]

#: Simulated years of the tests' runs.
N_YEARS = 20_000

_FILES = ("insurance_programme.csv", "bbb_alternatives.csv", "external_losses.csv")


def _quarter_losses() -> pd.DataFrame:
    raw = pd.read_csv(data_path("losses.csv"), dtype=str, keep_default_na=False)
    q = raw[raw["occurrence_date"].between("2006-01-01", "2006-03-31")].copy()
    for col in ("occurrence_date", "discovery_date", "booking_date"):
        q[col] = q[col].map(lambda d: d.replace("2006-", "2007-", 1) if d.startswith("2006")
                            else d.replace("2007-", "2008-", 1) if d.startswith("2007") else d)
    # what the bank knows at the quarter's end: events discovered by then, booked or not
    q = q[q["discovery_date"] <= "2007-03-31"].copy()
    q.loc[q["booking_date"] > "2007-03-31", "booking_date"] = ""
    q["event_id"] = [f"OR-2007-{i + 1:04d}" for i in range(len(q))]
    q["policy_id"] = ""
    q["insurance_recovery"] = "0"
    return pd.concat([raw, q], ignore_index=True)


def write_quarter_case(folder: Path, *, quarter: bool = False, valuation_date: str | None = None,
                       n_years: int = N_YEARS, extra: str = "") -> Path:
    """Write the case into ``folder`` (created) and return its ``case.toml``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in _FILES:
        shutil.copy(data_path(name), folder / name)
    if quarter:
        _quarter_losses().to_csv(folder / "losses.csv", index=False)
        models = ""
        end = "2007-03-31"
    else:
        shutil.copy(data_path("losses.csv"), folder / "losses.csv")
        for name in ("severity_models.json", "severity_models_without_cd.json"):
            shutil.copy(data_path(name), folder / name)
        models = 'models = ["severity_models.json", "severity_models_without_cd.json"]\n'
        end = "2006-12-31"
    when = valuation_date or end
    text = (f'name = "분기은행"\nlosses = "losses.csv"\nprogramme = "insurance_programme.csv"\n'
            f'quotes = "bbb_alternatives.csv"\nexternal = "external_losses.csv"\n{models}'
            f'threshold = 10000000\nobservation = ["2002-01-01", "{end}"]\n'
            f'bond_policy = "BBB"\nincidents = [{{id = "CD-2005-001", label = "CD 사건"}}]\n'
            f'severity_cap = "1조"\nvaluation_date = "{when}"\nn_years = {n_years}\n'
            f'seed = 2005\ncost_of_capital = 0.10\npredictive_worlds = 4\n'
            f'world_years = 2000\n{extra}\n[appetite]\nmax_premium = "70억"\n')
    path = folder / "case.toml"
    path.write_text(text, encoding="utf-8")
    return path
