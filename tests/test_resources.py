"""Memory does not grow: across the iterations of one fit, across repeated fits, and across
many networks made and dropped. Measured as the process's resident set (compiled buffers
are malloc'd outside Python's tracemalloc), after a warm-up that lets allocators and
caches settle; a leak of one batch's buffers per call would add megabytes."""
import gc
import sys

import numpy as np
import pytest
import scipy.sparse as sp

import fastdl

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads the resident set from /proc/self/status")

MiB = 2 ** 20
ALLOWED_GROWTH = 3 * MiB


def _rss():
    gc.collect()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS line in /proc/self/status")


def _growth(run, warm_up, repeats):
    for _ in range(warm_up):
        run()
    before = _rss()
    for _ in range(repeats):
        run()
    return _rss() - before


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 1000))  # 320 kB: a batch of 250 is 80 kB, 12 MB over 150 calls
    return X, (X[:1] > 0).astype(float)


FITS = {
    "adam, batches, dropout": dict(optimizer="adam", batch_size=250, keep_prob=0.8),
    "gd, full batch, l2": dict(l2=0.1),
    "momentum, float32": dict(optimizer="momentum", batch_size=250),
}


@pytest.mark.parametrize("case", FITS)
def test_the_iterations_of_one_fit_do_not_grow_memory(case, data):
    X, Y = data
    net = fastdl.Network([40, 32, 16, 1], seed=0, dtype="float32" if "float32" in case else "float64")
    resident = []
    net.fit(X, Y, epochs=300, learning_rate=0.001, **FITS[case],
            callbacks=[lambda history: resident.append(_rss()) if len(history.costs) in (50, 300) else None])
    assert resident[1] - resident[0] < ALLOWED_GROWTH, [r / MiB for r in resident]


@pytest.mark.parametrize("case", FITS)
def test_repeated_fits_and_predictions_do_not_grow_memory(case, data):
    X, Y = data
    net = fastdl.Network([40, 32, 16, 1], seed=0)

    def fit_and_predict():
        net.fit(X, Y, epochs=2, learning_rate=0.001, **FITS[case])
        net.predict(X)
        net.cost(X, Y)
        net.gradients(X[:, :100], Y[:, :100])

    assert _growth(fit_and_predict, warm_up=10, repeats=150) < ALLOWED_GROWTH


def test_many_networks_made_trained_and_dropped_do_not_grow_memory(data):
    X, Y = data

    def make_and_drop():
        net = fastdl.Network([40, 32, 1], seed=1)
        net.fit(X[:, :200], Y[:, :200], epochs=2, optimizer="adam", batch_size=50)
        net.predict(X[:, :10])

    assert _growth(make_and_drop, warm_up=20, repeats=300) < ALLOWED_GROWTH


def test_dual_and_sparse_fits_do_not_grow_memory():
    rng = np.random.default_rng(1)
    X_wide = rng.standard_normal((2000, 60))
    X_sparse = sp.random(2000, 500, density=0.01, format="csr", random_state=np.random.RandomState(2))
    Y_wide, Y_sparse = (rng.random((1, 60)) < 0.5) * 1.0, (rng.random((1, 500)) < 0.5) * 1.0

    def fit_both():
        dual = fastdl.Network([2000, 16, 1], seed=3)
        dual.fit(X_wide, Y_wide, epochs=5, first_layer="dual", learning_rate=0.01)
        dual.predict(X_wide)
        sparse = fastdl.Network([2000, 16, 1], seed=3)
        sparse.fit(X_sparse, Y_sparse, epochs=2, optimizer="adam", batch_size=100)
        sparse.predict(X_sparse)

    assert _growth(fit_both, warm_up=5, repeats=50) < ALLOWED_GROWTH
