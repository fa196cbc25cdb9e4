"""fastdl.search on a real Dask cluster: worker processes on loopback, started and stopped here.

One cluster serves the module (starting one costs seconds); every wait on it is bounded.
"""
import re

import numpy as np
import pytest

import fastdl
from cli_helpers import run
from search_helpers import flower_split, without_seconds

distributed = pytest.importorskip("distributed")  # the 'test' extra installs it
joblib = pytest.importorskip("joblib")

TIMEOUT = 60  # seconds, for the cluster to start, for a client to connect, and to stop

SPACE = {"hidden_sizes": [(4,), (8, 4)], "learning_rate": fastdl.search.loguniform(1e-3, 1e-1),
         "optimizer": "adam", "batch_size": 32}


@pytest.fixture(scope="module")
def cluster():
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": f"{TIMEOUT}s"}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None, timeout=TIMEOUT)
        try:
            yield local
        finally:
            local.close(timeout=TIMEOUT)


@pytest.fixture
def flower(seed):
    return flower_split(seed)


def test_search_on_a_dask_cluster_gives_exactly_the_local_results(cluster, flower, seed):
    runs = [dict(method="random", n_trials=4, epochs=20), dict(method="halving", n_trials=4, epochs=9)]
    local = [fastdl.search(*flower, space=SPACE, seed=seed, **kwargs) for kwargs in runs]
    with distributed.Client(cluster, timeout=TIMEOUT) as client:
        with joblib.parallel_backend("dask"), distributed.get_task_stream(client) as stream:
            remote = [fastdl.search(*flower, space=SPACE, seed=seed, n_jobs=-1, **kwargs) for kwargs in runs]
    # Every trial ran on the workers: 4 random ones, then halving's 4, 2 and 1 (joblib may batch calls).
    calls = [int(re.search(r"run_trial_(\d+)_calls", task["key"]).group(1)) for task in stream.data]
    assert sum(calls) == 4 + 4 + 2 + 1
    assert {task["worker"] for task in stream.data} <= set(cluster.scheduler_info["workers"])
    for here, there in zip(local, remote):
        assert without_seconds(here) == without_seconds(there)
        for key, value in here.best_network.parameters.items():
            np.testing.assert_array_equal(there.best_network.parameters[key], value)


def test_the_search_command_on_a_scheduler_prints_the_local_table(cluster, capsys):
    argv = ["search", "planar", "--trials", "3", "--epochs", "10", "--verbose", "0", "--markdown"]
    status, local, _ = run(argv, capsys)
    assert status == 0
    status, remote, err = run(argv + ["--scheduler", cluster.scheduler_address, "--connect-timeout", str(TIMEOUT)], capsys)
    assert status == 0, err
    assert f"running the trials on the Dask cluster at {cluster.scheduler_address} (2 workers)" in remote

    def table(out):  # the Markdown rows without the seconds column
        return [line.split("|")[:-3] + line.split("|")[-2:] for line in out.splitlines() if line.startswith("|")]

    assert len(table(local)) == 2 + 3 and table(remote) == table(local)
