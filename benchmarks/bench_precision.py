"""Coverage of the 95% ES interval (issue 11): the GPD-tail method against the old
influence-function interval, for Lomax tails of known ES, and the time es_estimate takes.

Lomax(ξ) with unit scale is a GPD with σ = ξ: ``VaR_a = (1 - a)^-ξ - 1`` and
``ES_a = (VaR_a + ξ) / (1 - ξ)`` (closed form; McNeil, Frey & Embrechts 2005, eq. 7.20).
Target: the stated 95% interval covers in 88-99% of the seeded runs (the binomial band of a
valid method for 100-200 runs).

Run: ``.venv/bin/python benchmarks/bench_precision.py [--years N] [--reps R]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _common import print_table, status

from opwb.engine.riskmeasures import es_estimate

ALPHA = 0.999


def coverage(xi: float, years: int, reps: int, seed: int) -> tuple[float, float, str]:
    true_es = ((1 - ALPHA) ** -xi - 1 + xi) / (1 - xi)
    rng = np.random.default_rng(seed)
    new = old = 0
    methods: dict[str, int] = {}
    for _ in range(reps):
        x = rng.pareto(1 / xi, years)
        e, o = es_estimate(x, ALPHA), es_estimate(x, ALPHA, method="empirical")
        methods[e.method] = methods.get(e.method, 0) + 1
        new += e.lower <= true_es <= e.upper
        old += o.lower <= true_es <= o.upper
    return new / reps, old / reps, ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--years", type=int, default=20_000)
    parser.add_argument("--reps", type=int, default=100)
    args, _ = parser.parse_known_args()
    rows = []
    for i, xi in enumerate((0.1, 0.3, 0.5, 0.7, 0.9)):
        new, old, methods = coverage(xi, args.years, args.reps, 100 + i)
        rows.append((f"ES 99.9% coverage, ξ = {xi}, {args.years:,} years", "88-99%",
                     f"{new:.0%}", status(0.88 <= new <= 0.99),
                     f"old interval {old:.0%}; methods: {methods}"))
    rng = np.random.default_rng(1)
    for n in (100_000, 1_000_000):
        x = rng.pareto(1 / 0.7, n)
        t0 = time.perf_counter()
        es_estimate(x, ALPHA)
        sec = time.perf_counter() - t0
        rows.append((f"es_estimate, ξ = 0.7, {n:,} years", "< 0.5 s", f"{sec:.3f} s",
                     status(sec < 0.5), "GPD fit and profile-likelihood interval"))
    print_table("ES precision for heavy tails (opwb.engine.riskmeasures.es_estimate)", rows)


if __name__ == "__main__":
    main()
