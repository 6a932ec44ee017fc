"""Benchmark: the structure frontier — 150 (deductible, limit) structures against single
``evaluate()`` calls on the same scenario base (issue 13: 150 structures cost at most 30
single evaluations).

The base is the app's: the bundled losses and programme with the CD incident, 100,000 years,
seed 2005. A "single evaluation" is ``opwb.evaluate(base, alternative)`` for one structure on
a base already in use (its shared context built), the way an analyst calls it in a loop;
the ten single structures differ in deductible and limit. Single calls and frontiers are
interleaved and each timed several times; the ratio is of the medians measured in this one
run (the machine is shared). Also prints the frontier with the technical premium (its layer
statistics are computed for the whole grid at once).

Run: ``.venv/bin/python benchmarks/bench_frontier.py [--years N] [--repeat R]``
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import opwb
from opwb import scenarios as sc
from opwb.insurance.programme import Programme

from _common import print_table, status

EOK = 1e8
DEDUCTIBLES = np.array([5, 10, 20, 30, 50, 70, 100, 150, 200, 300]) * EOK
LIMITS = np.array([400, 500, 600, 700, 800, 1000, 1200, 1500, 2000, 2500, 3000, 4000, 5000,
                   7000, 10000]) * EOK
TARGET_RATIO = 30.0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args, _ = ap.parse_known_args(argv)
    losses = opwb.load_losses(opwb.data_path("losses.csv"), threshold=opwb.COLLECTION_THRESHOLD)
    prog = Programme.from_frame(opwb.load_programme(opwb.data_path("insurance_programme.csv")))
    t0 = time.perf_counter()
    base = sc.build_scenario_base(losses, prog, include_cd=True, n_years=args.years, seed=2005)
    build = time.perf_counter() - t0
    quotes = opwb.load_alternatives(opwb.data_path("bbb_alternatives.csv"))
    tmpl = sc.template_of(base)
    singles = [tmpl.replace(name=f"s{i}", deductible=DEDUCTIBLES[i],
                            limit=LIMITS[(3 * i) % LIMITS.size], premium=quotes[1].premium)
               for i in range(10)]
    t0 = time.perf_counter()
    sc.evaluate(base, singles[0])                    # builds the base's shared context once
    first = time.perf_counter() - t0
    single_t, front_t = [], []
    for _ in range(args.repeat):
        for alt in singles:
            t0 = time.perf_counter()
            sc.evaluate(base, alt)
            single_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        table = opwb.frontier(base, deductibles=DEDUCTIBLES, limits=LIMITS, premium=quotes)
        front_t.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    opwb.frontier(base, deductibles=DEDUCTIBLES, limits=LIMITS, premium="technical")
    technical = time.perf_counter() - t0
    single, front = statistics.median(single_t), statistics.median(front_t)
    ratio = front / single
    rows = [
        ("scenario base (build + simulate)", "-", f"{build:.1f} s", "-", f"{args.years:,} years"),
        ("first evaluate (shared context)", "-", f"{first * 1e3:.0f} ms", "-", "once per base"),
        ("single evaluate (median)", "-", f"{single * 1e3:.1f} ms", "-",
         f"{len(single_t)} calls"),
        (f"frontier, {len(table)} structures (median)", "-", f"{front:.2f} s", "-",
         f"{args.repeat} runs, quoted premium"),
        ("frontier / single evaluate", f"<= {TARGET_RATIO:.0f}", f"{ratio:.1f}",
         status(ratio <= TARGET_RATIO), "ratio of medians, one run"),
        (f"frontier, {len(table)} structures, technical premium", "-", f"{technical:.2f} s",
         "-", "layer statistics for the grid at once"),
    ]
    print_table("structure frontier vs single evaluations", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
