"""Peak memory of the simulation whatever the frequency (issue 22, item 7).

Rows: one cell, Poisson(λ) losses a year above 1,000만원, lognormal severity, for
λ = 10, 10³ and 2·10⁴, ``--years`` years (default 2,000: one random-stream block), annual
sums only (``keep_events_above = inf``), each in a fresh interpreter:

* **events rule** (opwb now: units of at most ``unit_events`` = 2²² expected events,
  :mod:`opwb.engine.memory`) against **years rule** (units of 20 blocks whatever λ, as
  before: ``unit_events`` set beyond any run);
* measured: numpy's allocation peak during the run (``tracemalloc``) and the growth of the
  process's RSS high-water mark (``resource.getrusage().ru_maxrss``) over the run;
* target: with the events rule the traced peak stays under the plan's estimate
  (:func:`opwb.engine.memory.plan_simulation`) and under 300 MB for every λ.

The years rule's peak grows with the years in a unit (16 bytes an event: 640 MB for one
block at λ = 2·10⁴, 12.8 GB for its 40,000-year units in a long run); the events rule's
does not. A last row shows the preflight: λ = 2·10⁴ over 100,000 years keeping every event
is refused before anything is drawn (48 GB of kept events, counted twice: in the result
and while a cell's events are put together).

Run: ``.venv/bin/python benchmarks/bench_memory.py [--years N]`` (about 30 s on 2 cores).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc

from _common import print_table, status
from scipy import stats

from opwb.engine.memory import SimulationTooLarge, plan_simulation
from opwb.engine.simulate import CellModel, simulate_losses

LAMBDAS = (10.0, 1e3, 2e4)
OLD_RULE = 10 ** 15            # unit_events beyond any run: 20-block units, as before
BOUND = 300e6
MB = 1e6


def _model(lam: float) -> dict[str, CellModel]:
    return {"EDPM": CellModel(stats.poisson(lam), stats.lognorm(2.0, scale=1e7),
                              threshold=1e7)}


def child(lam: float, years: int, unit_events: int | None) -> None:
    """One run in this (fresh) interpreter; prints its measurements as JSON."""
    model = _model(lam)
    simulate_losses(model, 10, seed=1, keep_events_above=float("inf"))     # warm imports
    plan = plan_simulation(model, years, keep_events_above=float("inf"),
                           unit_events=unit_events)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    t0 = time.process_time()
    sim = simulate_losses(model, years, seed=1, keep_events_above=float("inf"),
                          unit_events=unit_events, memory_limit=float("inf"))
    cpu = time.process_time() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"peak": peak, "rss": max(rss1 - rss0, 0), "cpu": cpu,
                      "estimate": plan.peak_bytes, "unit_years": plan.cells["EDPM"].unit_years,
                      "units": len(plan.cells["EDPM"].units),
                      "events": int(sim.annual_count["EDPM"].sum())}))


def _run(lam: float, years: int, unit_events: int | None) -> dict:
    cmd = [sys.executable, __file__, "--child", str(lam), str(years), str(unit_events or 0)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=900)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=2000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()       # run.py may pass other scripts' options
    if args.child:
        lam, years, ue = args.child
        return child(float(lam), int(years), int(ue) or None)
    years = min(args.years, 2000)              # short runs: the old rule holds a block at once
    rows = []
    for lam in LAMBDAS:
        new, old = _run(lam, years, None), _run(lam, years, OLD_RULE)
        ok = new["peak"] <= min(new["estimate"], BOUND)
        rows.append((f"λ = {lam:,.0f}, {years:,} years ({new['events']:,} events)",
                     f"peak <= estimate, <= {BOUND / MB:.0f} MB",
                     f"events rule: traced {new['peak'] / MB:,.1f} MB, RSS +{new['rss'] / MB:,.1f}"
                     f" MB (estimate {new['estimate'] / MB:,.1f} MB; {new['units']} unit(s) of "
                     f"{new['unit_years']:,} years; CPU {new['cpu']:.2f} s)",
                     status(ok),
                     f"years rule: traced {old['peak'] / MB:,.1f} MB, RSS +{old['rss'] / MB:,.1f}"
                     f" MB ({old['units']} unit(s) of {old['unit_years']:,} years; CPU "
                     f"{old['cpu']:.2f} s)"))
    try:
        simulate_losses(_model(2e4), 100_000, seed=1, keep_events_above=0.0)
        refused, note = False, "ran"
    except SimulationTooLarge as exc:
        refused, note = True, str(exc)[:160] + "..."
    rows.append(("preflight: λ = 20,000, 100,000 years, every event kept", "refused before drawing",
                 f"estimate {plan_simulation(_model(2e4), 100_000).peak_bytes / 1e9:,.1f} GB",
                 status(refused), note))
    print_table("Peak memory of the simulation by frequency (issue 22)", rows)


if __name__ == "__main__":
    main()
