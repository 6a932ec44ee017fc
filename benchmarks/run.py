"""Run every ``benchmarks/bench_*.py`` and print their tables.

Each script runs in its own subprocess, one after the other (never in parallel: they time
themselves), with the interpreter running this script and the repository root as working
directory. A script reports each target as PASS or MISS in its table; this runner prints
the tables, then a summary listing MISS lines and scripts that failed to run. Exit status
is 1 if a script failed to run (crash, non-zero exit or timeout), else 0 -- a MISS is a
measurement, not a failure.

Run: ``.venv/bin/python benchmarks/run.py [-k NAME] [--timeout SECONDS] [-- ARGS...]``
(``ARGS`` are passed to every script, e.g. ``-- --years 100000`` for a quick run).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def discover(pattern: str | None = None) -> list[Path]:
    """The benchmark scripts, sorted by name, optionally those whose name contains ``pattern``."""
    scripts = sorted(HERE.glob("bench_*.py"))
    return [s for s in scripts if pattern is None or pattern in s.stem]


def run_one(script: Path, args: list[str], timeout: float) -> tuple[int | None, str, float]:
    """(exit status or None on timeout, combined output, seconds)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return None, out + f"\n[timed out after {timeout:.0f} s]", time.perf_counter() - t0
    out = proc.stdout + (f"\n[stderr]\n{proc.stderr}" if proc.returncode and proc.stderr else "")
    return proc.returncode, out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py.")
    parser.add_argument("-k", dest="pattern", help="only scripts whose name contains this")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per script")
    opts = parser.parse_args(own)
    scripts = discover(opts.pattern)
    if not scripts:
        print(f"no benchmark scripts found in {HERE}")
        return 1
    failed, misses = [], []
    for script in scripts:
        print(f"===== {script.name} " + "=" * max(0, 60 - len(script.name)), flush=True)
        code, out, secs = run_one(script, extra, opts.timeout)
        print(out.rstrip())
        print(f"----- {script.name}: {'exit ' + str(code) if code is not None else 'timeout'}, "
              f"{secs:.1f} s\n", flush=True)
        if code != 0:
            failed.append(script.name)
        misses += [f"{script.name}: {line.strip()}" for line in out.splitlines()
                   if " MISS " in f" {line} "]
    print("===== summary " + "=" * 50)
    print(f"{len(scripts)} script(s), {len(failed)} failed to run, {len(misses)} target(s) missed")
    for line in misses:
        print("  MISS  " + line)
    for name in failed:
        print("  FAILED  " + name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
