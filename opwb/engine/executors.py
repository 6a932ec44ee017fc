"""Running independent work units in process, on threads, on processes or on a Dask cluster.

:func:`run_tasks` yields the results of ``fn(task)`` for every task in the order they
finish, with at most ``window`` tasks in flight, so a caller that writes each result into
preallocated arrays and drops it holds memory near its final result whatever the number
of tasks. The work units of opwb are pure functions of their task (the random streams are
keyed to the task's cell and block, :mod:`opwb.engine._blocks`), so the numbers do not
depend on where or in which order they run.

Dask (``client``: a ``distributed.Client``) is optional and imported only when a client is
given; with none, everything runs in this process (no server to start). Pointing the
workbench at a cluster::

    from distributed import Client, LocalCluster
    client = Client("tcp://scheduler:8786")                # a running scheduler
    client = Client(LocalCluster(n_workers=2, threads_per_worker=1,
                                 host="127.0.0.1", dashboard_address=None))  # this machine
    opwb.simulate_losses(model, 10_000_000, seed=1, client=client)

Identical numbers on a remote cluster assume the same numpy and scipy versions, and CPU
kernels of the same precision (numpy picks SIMD paths per machine; ``exp`` and ``log`` may
then differ in the last bit), on the workers as here.
"""
from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["run_tasks", "check_client", "client_threads", "windowed"]


def check_client(client: Any) -> None:
    """Raise ``TypeError`` unless ``client`` is None or looks like a ``distributed.Client``."""
    if client is None:
        return
    if not (callable(getattr(client, "submit", None)) and callable(getattr(client, "nthreads",
                                                                              None))):
        raise TypeError("client must be a dask distributed.Client (e.g. "
                        "distributed.Client('tcp://scheduler:8786')) or None for in-process "
                        f"work; got {type(client).__name__}")


def client_threads(client: Any) -> int:
    """Total worker threads of a Dask client's cluster (at least 1)."""
    return max(1, sum(client.nthreads().values()))


def run_tasks(fn: Callable[[Any], Any], tasks: Iterable[Any], *, workers: int = 1,
              backend: str = "thread", client: Any = None, window: int | None = None,
              name: str = "opwb") -> Iterator[Any]:
    """Yield ``fn(task)`` for every task, in the order the results arrive.

    Parameters
    ----------
    fn : callable
        A pure, picklable function of one task (module level, for processes and Dask).
    tasks : iterable
    workers : int
        Threads or processes in this machine when ``client`` is None (1: in this thread).
    backend : {"thread", "process"}
        Pool type for ``workers > 1``.
    client : distributed.Client, optional
        Run on this Dask cluster instead (``workers`` and ``backend`` are then unused).
    window : int, optional
        Tasks in flight at once (default: twice the threads, plus one).
    name : str
        Prefix of the Dask task keys (shown on the Dask dashboard).
    """
    check_client(client)
    if client is not None:
        return _dask(fn, tasks, client, window or 2 * client_threads(client) + 1, name)
    if backend not in ("thread", "process"):
        raise ValueError(f"backend must be 'thread' or 'process', got {backend!r}")
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    n = min(workers, os.cpu_count() or 1)
    if n == 1:
        return map(fn, tasks)
    pool = ThreadPoolExecutor if backend == "thread" else ProcessPoolExecutor
    return _pool(fn, tasks, pool, n, window or 2 * n + 1)


def _pool(fn, tasks, pool_cls, n: int, window: int) -> Iterator[Any]:
    it = iter(tasks)
    with pool_cls(max_workers=n) as pool:
        pending = {pool.submit(fn, t) for t in itertools.islice(it, window)}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                yield fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(pool.submit(fn, nxt))


def _dask(fn, tasks, client, window: int, name: str) -> Iterator[Any]:
    tag = uuid.uuid4().hex[:8]
    count = itertools.count()

    def submit(task):
        return client.submit(fn, task, pure=False, key=f"{name}-{tag}-{next(count)}")

    yield from windowed(submit, tasks, window)


def windowed(submit: Callable[[Any], Any], items: Iterable[Any], window: int) -> Iterator[Any]:
    """Results of Dask futures ``submit(item)`` for every item, in the order they finish,
    with at most ``window`` in flight; each future is released once its result is read,
    and those still pending are cancelled if the caller stops early."""
    from distributed import as_completed

    it = iter(items)
    pending = as_completed([submit(t) for t in itertools.islice(it, window)])
    try:
        for fut in pending:
            result = fut.result()
            fut.release()
            yield result
            nxt = next(it, None)
            if nxt is not None:
                pending.add(submit(nxt))
    finally:
        for fut in list(getattr(pending, "futures", ())):
            fut.cancel()
