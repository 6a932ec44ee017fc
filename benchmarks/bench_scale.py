"""The engine at a bank's scale (issue 14): per-cell overhead, memory, Dask workers, and
parameter uncertainty — each printed as a ratio, in one run.

Rows:

* **56 sparse cells vs 7 dense cells with the same events** (target <= 1.3x CPU time).
  Dense: ``opwb.data.synth.TRUE_MODEL``, one cell per event type (~150 losses a year above
  the 10M KRW threshold). Sparse: the same model split over the eight business lines by
  its ``line_shares`` (56 cells, 0.4-20 losses a year each: the same events in
  distribution). ``--years`` years, events above 5억 kept (the bond's lowest deductible),
  in process; best CPU time of ``--repeat`` interleaved runs (the machine is shared).
* **Peak memory, 56 cells x ``--years`` years** (target: peak RSS <= 1.6 x its annual
  arrays + 400 MB), in a fresh interpreter (RSS high-water mark, interpreter included).
* **Dask LocalCluster, 1 worker vs 2** (one thread each, processes, 127.0.0.1): the wall
  time of the 7 dense cells; the two results are checked identical.
* **Parameter uncertainty of the bundled model**: ``--worlds`` worlds x ``--pu-years``
  years on the 2-worker cluster, against one scenario evaluation of the fitted model
  (base + 3 alternatives) with the same years.

Run: ``.venv/bin/python benchmarks/bench_scale.py`` (about 5 minutes on 2 idle cores).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
from _common import bundled_model, print_table, status
from scipy import stats

from opwb.data.synth import THRESHOLD, TRUE_MODEL
from opwb.engine.simulate import CellModel, simulate_losses

KEEP = 5e8
MIB = 2 ** 20


def sparse_model() -> dict[str, CellModel]:
    """TRUE_MODEL split over business lines: 56 cells with the same events in law."""
    return {f"{et}|{bl}": CellModel(stats.poisson(m.frequency * share), m.severity,
                                    threshold=THRESHOLD)
            for et, m in TRUE_MODEL.items() for bl, share in m.line_shares.items()}


def cpu_of(fn) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def overhead_row(years: int, repeat: int) -> tuple:
    dense, sparse = bundled_model(), sparse_model()
    best = {"dense": np.inf, "sparse": np.inf}
    events = {}
    for _ in range(repeat):
        for name, model in (("dense", dense), ("sparse", sparse)):
            c0 = time.process_time()
            sim = simulate_losses(model, years, seed=1, keep_events_above=KEEP)
            best[name] = min(best[name], time.process_time() - c0)
            events[name] = int(sum(c.sum(dtype=np.int64) for c in sim.annual_count.values()))
            del sim
    ratio = best["sparse"] / best["dense"]
    return (f"56 sparse vs 7 dense cells, {years:,} years", "<= 1.3x", f"{ratio:.2f}x",
            status(ratio <= 1.3), f"CPU {best['sparse']:.2f} s vs {best['dense']:.2f} s; events "
            f"{events['sparse']:,} vs {events['dense']:,}")


_MEMORY_PROBE = """
import json, resource, sys
sys.path.insert(0, "benchmarks")
from bench_scale import sparse_model, KEEP
from opwb.engine.simulate import simulate_losses
model = sparse_model()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
sim = simulate_losses(model, int(sys.argv[1]), seed=1, keep_events_above=KEEP)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
annual = sum(a.nbytes for a in sim.annual_gross.values()) + sum(
    a.nbytes for a in sim.annual_count.values())
events = sum(e.year.nbytes + e.loss.nbytes + e.event_id.nbytes for e in sim.events.values())
print(json.dumps({"before": before, "peak": peak, "annual": annual, "events": events}))
"""


def memory_row(years: int) -> tuple:
    out = subprocess.run([sys.executable, "-c", _MEMORY_PROBE, str(years)], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__))))
    m = json.loads(out.stdout.strip().splitlines()[-1])
    limit = 1.6 * m["annual"] + 400 * MIB
    return (f"peak memory, 56 cells x {years:,} years", "<= 1.6x annual + 400 MB",
            f"{m['peak'] / m['annual']:.2f}x annual", status(m["peak"] <= limit),
            f"peak RSS {m['peak'] / MIB:,.0f} MiB (interpreter {m['before'] / MIB:,.0f}) vs "
            f"annual arrays {m['annual'] / MIB:,.0f} MiB + events {m['events'] / MIB:,.0f} MiB; "
            f"limit {limit / MIB:,.0f} MiB")


def cluster(n_workers: int):
    from distributed import Client, LocalCluster
    lc = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None)
    return lc, Client(lc)


def workers_row(years: int) -> tuple:
    model, walls, sims = bundled_model(), {}, {}
    for n in (1, 2):
        lc, client = cluster(n)
        try:
            simulate_losses(model, 4000, seed=1, client=client)      # warm the workers
            t0 = time.perf_counter()
            sims[n] = simulate_losses(model, years, seed=1, keep_events_above=KEEP,
                                      client=client)
            walls[n] = time.perf_counter() - t0
        finally:
            client.close()
            lc.close()
    same = all(np.array_equal(sims[1].annual_gross[c], sims[2].annual_gross[c])
               for c in model)
    speedup = walls[1] / walls[2]
    return (f"LocalCluster 1 vs 2 workers, 7 cells x {years:,} years", "report",
            f"{speedup:.2f}x faster", "PASS" if same else "MISS",
            f"wall {walls[1]:.1f} s vs {walls[2]:.1f} s; identical numbers: {same}")


def uncertainty_row(worlds: int, years: int) -> tuple:
    from opwb.scenarios.base import build_scenario_base
    from opwb.scenarios.evaluation import evaluate_many
    from opwb.scenarios.spec import bundled_inputs
    from opwb.scenarios.uncertainty import parameter_uncertainty

    losses, programme, alts = bundled_inputs()
    t0 = time.perf_counter()
    evaluate_many(build_scenario_base(losses, programme, n_years=years, seed=2005), alts)
    one = time.perf_counter() - t0
    lc, client = cluster(2)
    try:
        t0 = time.perf_counter()
        res = parameter_uncertainty(losses, programme, alts, n_worlds=worlds, n_years=years,
                                    seed=2005, client=client)
        wall = time.perf_counter() - t0
    finally:
        client.close()
        lc.close()
    print_uncertainty(res)
    redrawn = res.redrawn()         # cells whose data were drawn again (no world is dropped)
    drawn_again = ", ".join(f"{c} {int(r['redraws'])}" for c, r in redrawn.iterrows())
    return (f"parameter uncertainty, bundled model, {worlds} worlds x {years:,} years",
            "report", f"{wall / one:.0f}x one evaluation", "PASS",
            f"{wall:.0f} s on 2 workers ({wall / (worlds + 1):.2f} s a world); one scenario "
            f"(base + {len(alts)} alternatives) {one:.2f} s; data drawn again "
            f"(cell draws): {drawn_again or 'none'}")


def print_uncertainty(res) -> None:
    t = res.table
    print(f"\nParameter uncertainty ({res.n_worlds} worlds, {res.n_years:,} years, "
          f"{res.level:.0%} percentile intervals, 억원)")
    print("{:<22} {:<26} {:>10} {:>10} {:>10} {:>7}".format(
        "alternative", "figure", "fitted", "lower", "upper", "p_best"))
    for (alt, fig), row in t.iterrows():
        p = res.p_best.get(alt, float("nan"))
        print("{:<22} {:<26} {:>10,.0f} {:>10,.0f} {:>10,.0f} {:>7.2f}".format(
            alt[:22], fig, row["fitted"] / 1e8, row["lower"] / 1e8, row["upper"] / 1e8, p))
    print(res.status_counts().to_string())
    redrawn = res.redrawn()
    print("\nData drawn again by the redraw rule (cells with redraws)")
    print(redrawn.to_string() if len(redrawn) else "none")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--worlds", type=int, default=200)
    parser.add_argument("--pu-years", type=int, default=20_000)
    args, _ = parser.parse_known_args(argv)
    rows = [overhead_row(args.years, args.repeat), memory_row(args.years),
            workers_row(args.years)]
    rows.append(uncertainty_row(args.worlds, args.pu_years))
    print_table(f"\nbench_scale (cores: {os.cpu_count()}, load avg {os.getloadavg()[0]:.1f})",
                rows)


if __name__ == "__main__":
    main()
