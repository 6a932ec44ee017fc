"""Work units in process, on thread and process pools and on a Dask LocalCluster give the
same numbers (opwb.engine.executors; simulate_losses and parameter_uncertainty with a
client).

The cluster is started by the test itself on 127.0.0.1 (two worker processes, no
dashboard) and closed at the end of the module.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from opwb.engine._blocks import BLOCK_YEARS
from opwb.engine.executors import check_client, run_tasks
from opwb.engine.simulate import CellModel, simulate_losses
from opwb.scenarios.spec import bundled_inputs
from opwb.scenarios.uncertainty import parameter_uncertainty


def _square(x):
    return x * x


def _model():
    return {
        "IF|RB": CellModel(stats.poisson(4.0), stats.lognorm(2.0, scale=1e7), threshold=1e7),
        "IF|CB": CellModel(stats.poisson(25.0), stats.genpareto(0.7, loc=1e7, scale=2e7),
                           threshold=1e7, severity_cap=1e11),
        "EF": CellModel(stats.nbinom(3, 0.3), stats.lognorm(1.5, scale=1e7), threshold=1e7),
    }


def _assert_same(a, b):
    assert a.cells == b.cells and a.n_years == b.n_years
    for c in a.cells:
        np.testing.assert_array_equal(a.annual_gross[c], b.annual_gross[c])
        np.testing.assert_array_equal(a.annual_count[c], b.annual_count[c])
        for name in ("year", "loss", "event_id"):
            np.testing.assert_array_equal(getattr(a.events[c], name),
                                          getattr(b.events[c], name))


@pytest.mark.parametrize("workers,backend", [(1, "thread"), (2, "thread"), (2, "process")])
def test_run_tasks_yields_every_result_once(workers, backend):
    out = sorted(run_tasks(_square, range(30), workers=workers, backend=backend, window=3))
    assert out == [x * x for x in range(30)]


def test_bad_executor_arguments():
    with pytest.raises(TypeError, match="distributed.Client"):
        check_client("tcp://scheduler:8786")
    with pytest.raises(ValueError, match="backend"):
        list(run_tasks(_square, [1], workers=2, backend="gpu"))
    with pytest.raises(TypeError, match="distributed.Client"):
        simulate_losses(_model(), 10, seed=1, client=object())


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_local_cluster_simulation_is_identical_to_in_process(client):
    n = 7 * BLOCK_YEARS + 321
    ref = simulate_losses(_model(), n, seed=42, keep_events_above={"IF|RB": 0.0,
                                                                   "IF|CB": 5e7, "EF": 1e8})
    for chunk in (None, BLOCK_YEARS, 3 * BLOCK_YEARS):
        got = simulate_losses(_model(), n, seed=42, chunk_years=chunk, client=client,
                              keep_events_above={"IF|RB": 0.0, "IF|CB": 5e7, "EF": 1e8})
        _assert_same(ref, got)
    assert set(client.nthreads()) and len(client.nthreads()) == 2


def test_local_cluster_parameter_uncertainty_is_identical_to_in_process(client):
    losses, programme, alts = bundled_inputs()
    kw = dict(n_worlds=3, n_years=3 * BLOCK_YEARS, seed=5)
    ref = parameter_uncertainty(losses, programme, alts[1:], **kw)
    got = parameter_uncertainty(losses, programme, alts[1:], client=client, **kw)
    pd.testing.assert_frame_equal(ref.table, got.table, check_exact=True)
    order = ["world", "alternative"]
    pd.testing.assert_frame_equal(ref.worlds.sort_values(order).reset_index(drop=True),
                                  got.worlds.sort_values(order).reset_index(drop=True),
                                  check_exact=True)
    pd.testing.assert_series_equal(ref.p_best, got.p_best, check_exact=True)
    fits = ["world", "cell"]
    pd.testing.assert_frame_equal(ref.fits.sort_values(fits).reset_index(drop=True),
                                  got.fits.sort_values(fits).reset_index(drop=True),
                                  check_exact=True)
