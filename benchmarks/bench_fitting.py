"""Benchmark: fit every severity family to every event-type cell, with bootstrap GOF.

For each of the seven event-type cells of ``data/losses.csv`` (losses above the collection
threshold) and each family in ``SEVERITY_FAMILIES``: left-truncated MLE plus the
KS / AD / AD-up parametric bootstrap with the default bootstrap size (every bootstrap sample
refitted), i.e. exactly what ``comparison_table(fit_all(...))`` does. Prints seconds per
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
from opwb.data.schema import COLLECTION_THRESHOLD
from opwb.data.taxonomy import EVENT_TYPE_CODES
from opwb.fitting.families import SEVERITY_FAMILIES
from opwb.fitting.gof import DEFAULT_N_BOOT, comparison_table
from opwb.fitting.mle import fit_severity


def load_cells(threshold: float) -> dict[str, np.ndarray]:
    path = opwb.data_path("losses.csv")
    if path.exists():
        from opwb.data.losses import load_losses
        df = load_losses(path)
        return {et: df.loc[(df.event_type == et) & (df.gross_loss > threshold),
                           "gross_loss"].to_numpy(float) for et in EVENT_TYPE_CODES}
    # seeded stand-in until the bundled data exist: lognormal cells of plausible sizes
    rng = np.random.default_rng(2026)
    sizes = dict(zip(EVENT_TYPE_CODES, (60, 170, 70, 100, 55, 70, 220)))
    out = {}
    for et, n in sizes.items():
        x = np.exp(rng.normal(17.0, 2.0, 4 * n))
        out[et] = x[x > threshold][:n]
    return out


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
            try:
                fits = {fam: fit_severity(x, fam, COLLECTION_THRESHOLD)}
            except ValueError as exc:
                fits = {fam: str(exc)}
                notes.append(f"{et}/{fam}: {exc}")
            comparison_table(fits, x, n_boot=args.n_boot, seed=args.seed)
            times.loc[fam, et] = time.perf_counter() - t0
    total = time.perf_counter() - t_all
    times.loc["cell total"] = times.sum()
    times["family total"] = times.sum(axis=1)
    print(f"fit + bootstrap GOF (n_boot={args.n_boot}) seconds; cell sizes: "
          + ", ".join(f"{et}={len(x)}" for et, x in cells.items()))
    print(times.round(2).to_string())
    print(f"TOTAL {total:.1f} s  (target < 60 s)")
    for n in notes:
        print("note:", n)
    return 0 if total < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
