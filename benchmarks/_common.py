"""Helpers shared by the benchmark scripts (not a benchmark: run.py skips names without bench_)."""
from __future__ import annotations

import time

from scipy import stats

from opwb.data.synth import THRESHOLD, TRUE_MODEL
from opwb.engine.simulate import CellModel


def bundled_model() -> dict[str, CellModel]:
    """The seven-cell model behind the bundled data (opwb.data.synth.TRUE_MODEL), per event type."""
    return {et: CellModel(stats.poisson(m.frequency), m.severity, threshold=THRESHOLD)
            for et, m in TRUE_MODEL.items()}


def status(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_table(title: str, rows: list[tuple],
                head: tuple = ("benchmark", "target", "measured", "status", "note")) -> None:
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(title)
    print(line.format(*head))
    print(line.format(*("-" * w for w in widths)))
    for r in rows:
        print(line.format(*map(str, r)))


def best_of(fn, repeat: int = 3, stat=min):
    """(result of the last run, best wall seconds, best CPU seconds); the machine is shared,
    so CPU time is the steadier figure. ``stat`` (default ``min``: the best) may be, e.g.,
    ``statistics.median``."""
    wall, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return out, stat(wall), stat(cpu)
