"""The predictive model's cost (issue 21, item 7): building it, loading it, answering on it.

For the bundled case, in a cache folder of its own (``$OPWB_CACHE_DIR``, a fresh temporary
folder, so the plug-in bases are built too and timed apart): the plug-in bases, the family
weights of each base, the predictive bases (worlds refitted, simulated, evaluated; stored),
loading them again in a fresh process, and the answer on them (frontier, recommendation,
robustness, break-even premiums) in that process. One table, seconds of wall-clock time,
with the worlds and years per world.

Run: ``.venv/bin/python benchmarks/bench_predictive.py [--worlds 100] [--world-years 10000]``
(about 10 minutes at the default size on 2 cores).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_STEP = r"""
import sys, time
from opwb.data.case import bundled_case
from opwb.decision.predictive import PredictiveSettings
from opwb.decision.robust import predictive_bases, predictive_answer
from opwb.scenarios.spec import scenario_bases, spec_for, case_inputs
case = bundled_case()
settings = PredictiveSettings(int(sys.argv[1]), int(sys.argv[2]))
t = time.perf_counter(); scenario_bases(case=case); plug = time.perf_counter() - t
t = time.perf_counter(); predictive_bases(case=case, settings=settings); pred = time.perf_counter() - t
t = time.perf_counter(); ans = predictive_answer(case=case, settings=settings); answer = time.perf_counter() - t
rec = ans.recommendation(True)
p, regret, se = ans.recommended_robustness(True)
print(f"{plug:.1f} {pred:.1f} {answer:.1f} {rec.name!r} {p:.2f}")
"""

# one predictive base (the bundled case with its reference incident) built in this process and
# on a Dask LocalCluster of ``sys.argv[3]`` single-threaded worker processes bound to
# 127.0.0.1 (the plug-in bases come from the store the first step filled)
_DASK = r"""
import sys, time
from opwb.data.case import bundled_case
from opwb.decision.predictive import PredictiveSettings, predictive_base
from opwb.scenarios.answer import premium_model_for
from opwb.scenarios.spec import case_inputs, scenario_bases, spec_for
case = bundled_case()
losses, programme, quotes = case_inputs(case)
spec = spec_for(case, quotes)
plug = scenario_bases(spec, case=case)[True]
settings = PredictiveSettings(int(sys.argv[1]), int(sys.argv[2]))
def build(client=None):
    return predictive_base(plug, losses, n_years=spec.n_years, seed=spec.seed,
                           deductibles=spec.deductibles, limits=spec.limits,
                           premium_for=lambda b: premium_model_for(b, quotes, spec),
                           scenario_settings=spec.settings, settings=settings, client=client)
if __name__ == "__main__":
    t = time.perf_counter(); one = build(); inproc = time.perf_counter() - t
    from distributed import Client, LocalCluster
    cluster = LocalCluster(n_workers=int(sys.argv[3]), threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    client.run(lambda: __import__("opwb.scenarios.frontier"))   # workers' imports, not timed
    t = time.perf_counter(); two = build(client); dask = time.perf_counter() - t
    client.close(); cluster.close()
    import numpy as np
    same = all(np.array_equal(one[1].values[k], two[1].values[k]) for k in one[1].values)
    print(f"{inproc:.1f} {dask:.1f} {same}")
"""


def _run(worlds: int, years: int, env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _STEP, str(worlds), str(years)], env=env,
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].split(" ", 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=100)
    ap.add_argument("--world-years", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2,
                    help="Dask LocalCluster workers for the distributed build (0: skip)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opwb-bench-pred-") as cache:
        env = {**os.environ, "OPWB_CACHE_DIR": cache}
        cold = _run(args.worlds, args.world_years, env)
        warm = _run(args.worlds, args.world_years, env)
        dist = None
        if args.workers:
            out = subprocess.run([sys.executable, "-c", _DASK, str(args.worlds),
                                  str(args.world_years), str(args.workers)], env=env, cwd=ROOT,
                                 capture_output=True, text=True, check=True)
            dist = out.stdout.strip().splitlines()[-1].split()
    print(f"predictive model of the bundled case: {args.worlds} worlds × "
          f"{args.world_years:,} years per world (pooled base 100,000 years)")
    print(f"{'step':<44}{'cold (s)':>10}{'stored (s)':>12}")
    for i, name in enumerate(("plug-in bases (build / load)",
                              "predictive bases (build / load)",
                              "answer on the predictive bases")):
        print(f"{name:<44}{float(cold[i]):>10.1f}{float(warm[i]):>12.1f}")
    print(f"recommendation: {warm[3]}")
    if dist:
        inproc, dask, same = float(dist[0]), float(dist[1]), dist[2]
        print(f"\none predictive base built again, nothing stored ({os.cpu_count()} cores)")
        print(f"{'where':<44}{'build (s)':>10}{'speed-up':>12}")
        print(f"{'in this process':<44}{inproc:>10.1f}{1.0:>11.2f}×")
        print(f"{f'Dask LocalCluster, {args.workers} workers':<44}{dask:>10.1f}"
              f"{inproc / dask:>11.2f}×")
        print(f"same world tables in both: {same} (target: at least 1.6× on 2 workers, "
              "issue 21 item 7)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
