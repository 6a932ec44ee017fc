"""``python -m opwb.decision prepare [--case PATH] [--workers N | --scheduler ADDRESS]``:
build a case's plug-in scenario bases and its predictive model into the store (or find them
there), so that every app kernel loads them at once. ``workbench.py app`` runs it before
serving. The predictive model's worlds run in this process, on a Dask LocalCluster of
``--workers`` single-threaded processes bound to 127.0.0.1, or on the running Dask
scheduler at ``--scheduler`` (same numbers everywhere). Prints where they are and how long
it took."""
from __future__ import annotations

import sys
import time


def main(argv=None) -> int:
    from opwb.data.case import open_case
    from opwb.data.errors import DataError
    from opwb.decision.robust import case_predictive_settings, predictive_bases
    from opwb.scenarios.spec import scenario_bases, spec_for
    from opwb.scenarios.store import entry_path, prepare_arguments

    args = prepare_arguments(argv, prog="python -m opwb.decision",
                             description="The predictive model of a case, stored.",
                             what="a case's scenario bases and predictive model",
                             cluster=True)
    t0 = time.perf_counter()
    client = cluster = None
    try:
        case = open_case(args.case)
        spec = spec_for(case)
        scenario_bases(spec, case=case)
        t1 = time.perf_counter()
        settings = case_predictive_settings(case)
        if args.scheduler or args.workers:
            from distributed import Client, LocalCluster
            if args.scheduler:
                client = Client(args.scheduler)
            else:
                cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                                       processes=True, host="127.0.0.1",
                                       dashboard_address=None)
                client = Client(cluster)
        predictive_bases(spec, case=case, settings=settings, client=client)
    except (DataError, ValueError) as exc:
        print(f"opwb: cannot prepare the scenario bases: {exc}", file=sys.stderr)
        return 2
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
    print(f"{case.name}: scenario bases ready ({t1 - t0:.0f} s, {entry_path(spec)}); "
          f"predictive model of {settings.n_worlds} worlds × {settings.world_years:,} years "
          f"ready ({time.perf_counter() - t1:.0f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
