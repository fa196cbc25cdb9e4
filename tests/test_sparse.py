"""Sparse X (scipy.sparse): the same results as the same data dense, for every entry point
and training option, on every backend, without the dense X ever being built."""
import numpy as np
import pytest

scipy_sparse = pytest.importorskip("scipy.sparse")

import fastdl  # noqa: E402
from benchmark_modules import import_benchmarks  # noqa: E402

BACKENDS = fastdl.available_backends()
RTOL = 1e-10


def _data(rng, n_x=120, m=40, density=0.08, n_y=1):
    X = scipy_sparse.random(n_x, m, density=density, format="csc", random_state=rng,
                            data_rvs=lambda k: rng.standard_normal(k)).toarray()
    Y = (rng.standard_normal((n_y, n_x)) @ X > 0).astype(float)
    return X, Y


FORMATS = {
    "csc": lambda X: scipy_sparse.csc_matrix(X),
    "csr rows, transposed": lambda X: scipy_sparse.csr_matrix(X.T).T,  # scikit-learn's layout
    "csr": lambda X: scipy_sparse.csr_array(X),
    "coo": lambda X: scipy_sparse.coo_matrix(X),
}

OPTIONS = {
    "full batch": {},
    "batches": {"batch_size": 16},
    "batches, L2": {"batch_size": 16, "l2": 0.3},
    "momentum": {"batch_size": 16, "optimizer": "momentum", "nesterov": True},
    "adam": {"batch_size": 16, "optimizer": "adam", "learning_rate": 0.01},
    "dropout": {"batch_size": 16, "keep_prob": 0.8},
    "weights": {"batch_size": 16, "sample_weight": "weights"},
    "dual": {"first_layer": "dual", "batch_size": 16, "l2": 0.1},
    "dual, momentum": {"first_layer": "dual", "optimizer": "momentum"},
}


def _same_params(a, b, rtol=RTOL):
    for key, value in a.parameters.items():
        np.testing.assert_allclose(b.parameters[key], value, rtol=rtol, atol=rtol * 1e-2,
                                   err_msg=key)


@pytest.mark.parametrize("options", list(OPTIONS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_on_sparse_equals_fit_on_dense(rng, backend, options):
    X, Y = _data(rng)
    kwargs = dict(OPTIONS[options])
    if kwargs.get("sample_weight") == "weights":
        kwargs["sample_weight"] = rng.uniform(0, 2, X.shape[1])
    rate = kwargs.pop("learning_rate", 0.1)
    nets = [fastdl.Network([120, 8, 4, 1], seed=3, backend=backend) for _ in range(2)]
    histories = [net.fit(data, Y, learning_rate=rate, epochs=15, **kwargs)
                 for net, data in zip(nets, (X, scipy_sparse.csc_matrix(X)))]
    np.testing.assert_allclose(histories[1].costs, histories[0].costs, rtol=RTOL)
    _same_params(*nets)


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_entry_point_takes_every_format(rng, backend, fmt):
    X, Y = _data(rng)
    sparse = FORMATS[fmt](X)
    net = fastdl.Network([120, 6, 1], hidden="tanh", seed=2, backend=backend)
    np.testing.assert_allclose(net.forward(sparse), net.forward(X), rtol=RTOL)
    np.testing.assert_array_equal(net.predict(sparse), net.predict(X))
    np.testing.assert_allclose(net.predict_proba(sparse), net.predict_proba(X), rtol=RTOL)
    assert net.cost(sparse, Y, l2=0.2) == pytest.approx(net.cost(X, Y, l2=0.2), rel=RTOL)
    assert net.accuracy(sparse, Y) == net.accuracy(X, Y)
    grads, expected = net.gradients(sparse, Y), net.gradients(X, Y)
    for key, value in expected.items():
        np.testing.assert_allclose(grads[key], value, rtol=RTOL, atol=1e-14, err_msg=key)
    assert fastdl.gradient_check(net, sparse[:, :10] if fmt != "coo" else
                                 scipy_sparse.csc_matrix(sparse)[:, :10], Y[:, :10]) < 1e-7


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_canonical_input_is_fixed_once(rng, backend):
    """Duplicate entries are summed and indices sorted (on a copy; the input is untouched)."""
    X, Y = _data(rng, m=12)
    coo = scipy_sparse.coo_matrix(X)
    doubled = scipy_sparse.coo_matrix((np.concatenate([coo.data / 2, coo.data / 2]),
                                       (np.concatenate([coo.row, coo.row]),
                                        np.concatenate([coo.col, coo.col]))), shape=X.shape)
    messy = doubled.tocsc()
    messy.has_canonical_format = False  # as a hand-built CSC with duplicates would be
    net = fastdl.Network([120, 5, 1], seed=1, backend=backend)
    np.testing.assert_allclose(net.forward(doubled), net.forward(X), rtol=RTOL)
    np.testing.assert_allclose(net.forward(messy), net.forward(X), rtol=RTOL)


@pytest.mark.parametrize("bad, error, match", [
    ("nan", ValueError, r"X holds NaN or infinite values, e\.g\. at \[\d+, \d+\]"),
    ("shape", ValueError, r"X has shape \(40, 120\) but the network expects \(n_x, m\) = "
                          r"\(120, m\); fastdl takes one example per column, so pass X\.T"),
    ("empty", ValueError, r"X is empty: it has shape \(120, 0\)"),
    ("complex", TypeError, "X must hold real numbers; got a sparse matrix of dtype complex128"),
    ("float32 overflow", ValueError, r"X holds 1e\+39 at \[\d+, \d+\], beyond the range of float32"),
])
def test_bad_sparse_input_is_named(rng, bad, error, match):
    X, Y = _data(rng)
    dtype = "float32" if bad == "float32 overflow" else "float64"
    net = fastdl.Network([120, 5, 1], seed=1, dtype=dtype, backend="numpy")
    sparse = scipy_sparse.csc_matrix(X)
    if bad == "nan":
        sparse.data[3] = np.nan
    elif bad == "shape":
        sparse = sparse.T
    elif bad == "empty":
        sparse = sparse[:, :0]
    elif bad == "complex":
        sparse = sparse.astype(complex)
    else:
        sparse.data[5] = 1e39
    with pytest.raises(error, match=match):
        net.fit(sparse, Y[:, :sparse.shape[1]] if sparse.shape[1] else Y, epochs=2)


def test_a_sparse_fit_never_builds_the_dense_X(rng):
    """Catches a densifying path: fitting on a 10,000 x 2,000 matrix with 0.2% non-zeros
    (160 MB dense) must stay within a few times the sparse matrix and the training state."""
    pytest.importorskip("fastdl._kernels")
    (array_memory,) = import_benchmarks("benchmarks.array_memory")
    X = scipy_sparse.random(10_000, 2_000, density=0.002, format="csc", random_state=0)
    Y = (np.asarray(X.sum(axis=0)) > 0.01).astype(float)
    net = fastdl.Network([10_000, 16, 1], seed=0, backend="cython")
    sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    # Adam's training state: the parameters' backup, dW and the two moments (4 copies).
    state_bytes = 4 * sum(p.nbytes for p in net.parameters.values())
    with array_memory.counting() as counted:
        net.fit(X, Y, learning_rate=0.1, epochs=2, batch_size=200, optimizer="adam",
                first_layer="primal")
    bound = 2 * sparse_bytes + state_bytes + 4 * 16 * 2_000 * 8  # + activations and Y
    assert counted.peak < bound, (counted.peak, bound)
    assert bound < 10_000 * 2_000 * 8 / 10  # a tenth of the dense X


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_and_early_stopping_on_sparse_input(rng, backend, optimizer):
    """The compiled engine backs up only the rows of W[1]ᵀ a sparse gd step changes: a
    diverging fit must still come back to the last good parameters, exactly as on dense
    input; early stopping restores the same best epoch."""
    X, Y = _data(rng, m=60)
    rate = 50.0 if optimizer == "gd" else 1e4
    nets = [fastdl.Network([120, 6, 1], output="linear", seed=4, backend=backend) for _ in range(2)]
    with pytest.warns(fastdl.DivergenceWarning):
        histories = [net.fit(data, 300 * Y, learning_rate=rate, epochs=100, batch_size=10,
                             optimizer=optimizer, first_layer="primal")
                     for net, data in zip(nets, (X, scipy_sparse.csc_matrix(X)))]
    assert histories[0].stop_reason == histories[1].stop_reason == "diverged"
    assert len(histories[0].costs) == len(histories[1].costs)
    _same_params(*nets, rtol=1e-9)
    X_dev, Y_dev = _data(rng, m=30)
    nets = [fastdl.Network([120, 6, 1], seed=4, backend=backend) for _ in range(2)]
    histories = [net.fit(data, Y, learning_rate=0.5, epochs=200, batch_size=10,
                         optimizer=optimizer, dev=(dev, Y_dev), patience=3)
                 for net, data, dev in zip(nets, (X, scipy_sparse.csc_matrix(X)),
                                           (X_dev, scipy_sparse.csc_matrix(X_dev)))]
    assert histories[0].best_epoch == histories[1].best_epoch
    _same_params(*nets, rtol=1e-9)
