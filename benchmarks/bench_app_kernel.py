"""The app kernel's execution time (issue 21, item 7: at most 3 s on the bundled case).

What a page's kernel does before the page can show the answer: executing the app notebook
(``notebooks/03_bbb_scenarios.ipynb``) top to bottom in a fresh IPython kernel, with the
case's scenario and predictive bases already in the store (``python -m opwb.decision
prepare`` has run, as ``workbench.py app`` runs it before serving). The notebook runs with
nbclient (the executor Voila uses), which records when each cell started and finished; the
table gives the whole notebook and its costliest cells, the median of ``--repeat`` fresh
kernels. Opening a page takes the time of loading it from a kernel that has already
executed (``bench_startup.py``: about 2 s), not this.

Run: ``.venv/bin/python benchmarks/bench_app_kernel.py [--repeat 3] [--case PATH]``
(about a minute once the store is warm; the first run prepares the store).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from _common import print_table, status

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "03_bbb_scenarios.ipynb"
TARGET = 3.0  # seconds, issue 21 item 7


def _seconds(cell) -> float:
    t = cell.get("metadata", {}).get("execution", {})
    start, end = t.get("iopub.execute_input"), t.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_once(case: str | None) -> tuple[float, list[tuple[int, str, float]]]:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    if case:
        for cell in nb.cells:
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cell.source += f"\ncase_path = {case!r}\n"
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    cells = [(i, c.source.splitlines()[0][:60] if c.source else "", _seconds(c))
             for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return sum(s for _, _, s in cells), cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case", default=None, help="a case.toml (default: the bundled case)")
    args = ap.parse_args()
    prepare = [sys.executable, "-m", "opwb.decision", "prepare"] + \
        (["--case", args.case] if args.case else [])
    subprocess.run(prepare, cwd=ROOT, check=True, env=os.environ.copy())
    runs = [run_once(args.case) for _ in range(args.repeat)]
    total = statistics.median(t for t, _ in runs)
    per_cell = {}
    for _, cells in runs:
        for i, head, s in cells:
            per_cell.setdefault((i, head), []).append(s)
    rows = [("app kernel: whole notebook", f"<= {TARGET:.0f} s", f"{total:.2f} s",
             status(total <= TARGET), f"median of {args.repeat} fresh kernels")]
    costly = sorted(per_cell.items(), key=lambda kv: -statistics.median(kv[1]))[:5]
    for (i, head), values in costly:
        rows.append((f"  cell {i}: {head}", "", f"{statistics.median(values):.2f} s", "", ""))
    print_table(f"App kernel execution ({'bundled case' if not args.case else args.case})",
                rows)


if __name__ == "__main__":
    main()
