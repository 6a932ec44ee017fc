"""Benchmark: Tukey g-and-h fits of large cells (issue 22, item 16).

For each size n (default 1,000, 10,000 and 100,000 losses): a seeded sample of the g-and-h
with A = 2e7, B = 1.5e7, g = 1.8, h = 0.15 above the threshold 1e7 (the family's test
parameters), fitted by ``fit_severity(x, "gandh", threshold=1e7)`` — the whole fit: the
search, the h = 0 edge and the g → −∞ ridge of :mod:`opwb.fitting.identification`. Prints
wall and CPU seconds, the status and the log-likelihood. Target: 100,000 losses in under
60 s (before the fast inversion and the summary search of issue 22: about 27 minutes).

Run: ``.venv/bin/python benchmarks/bench_gandh.py [--sizes 1000 10000 100000]``
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from _common import best_of, print_table, status
from opwb.fitting.families import get_family
from opwb.fitting.mle import fit_severity

PARAMS = {"A": 2e7, "B": 1.5e7, "g": 1.8, "h": 0.15}
THRESHOLD = 1e7
TARGET_N, TARGET_S = 100_000, 60.0


def sample(n: int, seed: int = 1) -> np.ndarray:
    """``n`` seeded g-and-h losses above :data:`THRESHOLD`."""
    d = get_family("gandh").dist(**PARAMS)
    x = d.rvs(size=3 * n, random_state=np.random.default_rng(seed))
    return x[x > THRESHOLD][:n]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args, _ = ap.parse_known_args(argv)
    rows, ok = [], True
    for n in args.sizes:
        x = sample(n)
        fit, wall, cpu = best_of(lambda: fit_severity(x, "gandh", threshold=THRESHOLD),
                                 repeat=1)
        target = f"< {TARGET_S:.0f} s" if n == TARGET_N else ""
        hit = wall < TARGET_S if n == TARGET_N else True
        ok &= hit
        rows.append((f"g-and-h fit, {n:,} losses", target,
                     f"{wall:.1f} s wall, {cpu:.1f} s CPU", status(hit) if target else "",
                     f"{fit.status}, log-lik {fit.loglik:,.4f}, h = {fit.params['h']:.4f}"))
    print_table("Tukey g-and-h: left-truncated MLE of large cells", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
