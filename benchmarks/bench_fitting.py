"""Benchmark: fit every severity family to every event-type cell, with bootstrap GOF.

For each of the seven event-type cells of ``data/losses.csv`` (losses at or above the
collection threshold) and each family in ``SEVERITY_FAMILIES``: left-truncated MLE plus the
KS / AD / AD-up parametric bootstrap with the default bootstrap size (every bootstrap sample
refitted; only "ok" fits are tested), i.e. exactly what ``fit_model_set`` does before it
applies the choice rule. Prints seconds per
family × cell and the total (target: < 60 s on a 2-core machine).

Run: ``.venv/bin/python benchmarks/bench_fitting.py [--n-boot N]``
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

import opwb
from opwb.data.schema import COLLECTION_THRESHOLD, collected
from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.gof import DEFAULT_N_BOOT, comparison_table, fit_all


def load_cells(threshold: float) -> dict[str, np.ndarray]:
    """The bundled losses at or above the threshold, per event type."""
    from opwb.data.losses import load_losses
    df = load_losses(opwb.data_path("losses.csv"))
    return {et: df.loc[(df.event_type == et) & collected(df.gross_loss, threshold),
                       "gross_loss"].to_numpy(float) for et in EVENT_TYPE_CODES}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-boot", type=int, default=DEFAULT_N_BOOT)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    cells = load_cells(COLLECTION_THRESHOLD)
    times = pd.DataFrame(index=list(SEVERITY_FAMILIES), columns=list(cells), dtype=float)
    notes = []
    t_all = time.perf_counter()
    for et, x in cells.items():
        for fam in SEVERITY_FAMILIES:
            t0 = time.perf_counter()
            fits = fit_all(x, COLLECTION_THRESHOLD, families=[fam])
            if isinstance(fits[fam], str):
                notes.append(f"{et}/{fam}: {fits[fam]}")
            comparison_table(fits, x, n_boot=args.n_boot, seed=args.seed)
            times.loc[fam, et] = time.perf_counter() - t0
    total = time.perf_counter() - t_all
    times.loc["cell total"] = times.sum()
    times["family total"] = times.sum(axis=1)
    print(f"fit + bootstrap GOF (n_boot={args.n_boot}) seconds; cell sizes: "
          + ", ".join(f"{et}={len(x)}" for et, x in cells.items()))
    print(times.round(2).to_string())
    print(f"TOTAL {total:.1f} s  (target < 60 s)  {'PASS' if total < 60 else 'MISS'}")
    for n in notes:
        print("note:", n)
    return 0 if total < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
