"""Re-applying a changed BBB limit to stored events (target: < 0.3 s for 10^6 years).

The bundled seven-cell model (``opwb.data.synth.TRUE_MODEL``, one cell per event type) is
simulated once, keeping each cell's events above the lowest deductible that reaches it;
then the programme is re-applied for several BBB limits (aggregate limit = 2 x limit),
reusing the stored events and the same random numbers (common random numbers). The apply
cost is proportional to the number of stored events it touches: "full" recomputes every
policy, "reuse" passes the previous result (``apply_programme(reuse=...)``) so only the
BBB (and any policy sharing events with it) is recomputed.

Run: ``.venv/bin/python benchmarks/bench_insurance.py [--years N]``
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _common import best_of, bundled_model

from opwb import data_path
from opwb.data.programme_table import load_programme
from opwb.data.synth import TRUE_MODEL
from opwb.data.units import EOK
from opwb.engine.simulate import simulate_losses
from opwb.insurance.apply import apply_programme
from opwb.insurance.programme import Programme

LIMITS_EOK = (50, 100, 400, 1000)


def keep_levels(programme: Programme) -> dict[str, float]:
    """Per cell: the lowest deductible of the policies covering it (inf if none)."""
    return {et: min((p.deductible for p in programme if p.covers(et) > 0), default=np.inf)
            for et in TRUE_MODEL}


def run(n_years: int, programme: Programme, label: str) -> list[tuple]:
    keep = keep_levels(programme)
    t0 = time.perf_counter()
    sim = simulate_losses(bundled_model(), n_years, seed=1, keep_events_above=keep)
    t_sim = time.perf_counter() - t0
    stored = sum(e.loss.size for e in sim.events.values())
    rows = []
    # like a dashboard slider: each limit is re-applied with the previous result at hand
    previous = apply_programme(programme.replace_policy("BBB", limit=30 * EOK), sim, seed=2)
    for lim in LIMITS_EOK:
        prog = programme.replace_policy("BBB", limit=lim * EOK, aggregate_limit=2 * lim * EOK)
        for mode, reuse in (("full", None), ("reuse", previous)):
            _, wall, cpu = best_of(lambda: apply_programme(prog, sim, seed=2, reuse=reuse))
            res = apply_programme(prog, sim, seed=2, reuse=reuse)
            rows.append((f"{label} ({mode})", n_years, stored, lim, wall, cpu,
                         res.ceded_by_policy["BBB"].mean() / EOK))
        previous = res
    print(f"  ({label}: simulation {t_sim:.1f} s, {stored:,} stored events)")
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    full = Programme.from_frame(load_programme(data_path("insurance_programme.csv")))
    bbb_only = Programme((full["BBB"],))
    rows = run(args.years, bbb_only, "BBB alone")
    rows += run(args.years, full, "programme")
    print(f"{'programme':<22}{'years':>10}{'stored events':>15}{'BBB limit (억)':>16}"
          f"{'wall (s)':>10}{'cpu (s)':>9}{'mean BBB ceded (억)':>21}")
    for label, n, stored, lim, wall, cpu, ceded in rows:
        print(f"{label:<22}{n:>10,}{stored:>15,}{lim:>16,}{wall:>10.3f}{cpu:>9.3f}{ceded:>21.3f}")
    print("target: BBB limit change re-applied to 10^6 stored years in < 0.3 s")


if __name__ == "__main__":
    main()
