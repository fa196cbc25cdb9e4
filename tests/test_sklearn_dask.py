"""fastdl.sklearn on Dask: out-of-core training through dask-ml's Incremental, and
scikit-learn's searches on a real cluster through joblib's Dask backend.

The cluster is a LocalCluster of worker processes on the loopback interface, started
and stopped here, with bounded waits; nothing leaves the machine.
"""
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")
dask_array = pytest.importorskip("dask.array")
wrappers = pytest.importorskip("dask_ml.wrappers")

import joblib  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from fastdl.sklearn import MLPClassifier  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None,
                                       death_timeout=60)
    client = distributed.Client(cluster, timeout=60)
    try:
        client.wait_for_workers(2, timeout=60)
        yield client
    finally:
        client.close(timeout=30)
        cluster.close(timeout=30)


def _separable(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 10))
    return X, (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] > 0).astype(int)


def test_incremental_trains_block_by_block_on_the_cluster(client):
    """dask-ml feeds one chunk at a time to partial_fit; the model learns."""
    X, y = _separable(6000)
    X_test, y_test = _separable(2000, seed=1)
    chunks = (dask_array.from_array(X, chunks=(500, 10)), dask_array.from_array(y, chunks=500))
    model = wrappers.Incremental(MLPClassifier(hidden_layer_sizes=(16,), random_state=0,
                                               learning_rate_init=0.01), scoring="accuracy")
    model.fit(*chunks, classes=[0, 1])
    fitted = model.estimator_
    assert fitted.t_ == 6000 and len(fitted.loss_curve_) == 12  # every block, once
    assert model.score(dask_array.from_array(X_test, chunks=500),
                       dask_array.from_array(y_test, chunks=500)) > 0.9


def test_a_search_on_the_cluster_equals_the_local_one(client):
    X, y = _separable(600)
    grid = {"alpha": [1e-4, 1e-1], "learning_rate_init": [1e-3, 1e-2],
            "activation": ["relu", "leaky_relu"]}
    searches = []
    for backend in ("loky", "dask"):
        search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
                              grid, cv=3, n_jobs=-1)
        with warnings.catch_warnings(), joblib.parallel_backend(backend):
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X, y)
        searches.append(search)
    local, remote = searches
    assert local.best_params_ == remote.best_params_
    np.testing.assert_array_equal(local.cv_results_["mean_test_score"],
                                  remote.cv_results_["mean_test_score"])
