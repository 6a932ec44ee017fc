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


def _run(worlds: int, years: int, env: dict) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _STEP, str(worlds), str(years)], env=env,
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].split(" ", 3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", type=int, default=100)
    ap.add_argument("--world-years", type=int, default=10_000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="opwb-bench-pred-") as cache:
        env = {**os.environ, "OPWB_CACHE_DIR": cache}
        cold = _run(args.worlds, args.world_years, env)
        warm = _run(args.worlds, args.world_years, env)
    print(f"predictive model of the bundled case: {args.worlds} worlds × "
          f"{args.world_years:,} years per world (pooled base 100,000 years)")
    print(f"{'step':<44}{'cold (s)':>10}{'stored (s)':>12}")
    for i, name in enumerate(("plug-in bases (build / load)",
                              "predictive bases (build / load)",
                              "answer on the predictive bases")):
        print(f"{name:<44}{float(cold[i]):>10.1f}{float(warm[i]):>12.1f}")
    print(f"recommendation: {warm[3]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
