"""The first layer in dual form (fastdl._dual): nothing observable changes but speed.

Every case fits the same network twice, ``first_layer="primal"`` and ``"dual"``, and
compares the cost traces and the final parameters (float64 to 1e-9 after 500 iterations,
float32 to 1e-4), on wide data (m < n_x, where 'auto' picks the dual form).
"""
import os
import signal

import numpy as np
import pytest

import fastdl
from fastdl._optimizers import GradientDescent

BACKENDS = fastdl.available_backends()
TOL = {"float64": 1e-9, "float32": 1e-4}


def _wide(rng, n_x=40, m=12, layout="C", dtype="float64", n_y=1):
    X = rng.uniform(-1, 1, (n_x, m)).astype(dtype)
    if layout == "F":
        X = np.asfortranarray(X)
    Y = (rng.standard_normal((n_y, n_x)) @ X > 0).astype(dtype)
    return X, Y


def _twins(dims, backend, dtype="float64", **kwargs):
    return [fastdl.Network(dims, seed=7, dtype=dtype, backend=backend, **kwargs) for _ in range(2)]


def _fit_both(nets, X, Y, **options):
    histories = [net.fit(X, Y, first_layer=form, **options)
                 for net, form in zip(nets, ("primal", "dual"))]
    return histories


def _assert_same(nets, histories, tol):
    primal, dual = histories
    assert primal.stop_reason == dual.stop_reason and len(primal.costs) == len(dual.costs)
    np.testing.assert_allclose(dual.costs, primal.costs, rtol=tol, atol=tol * 1e-3)
    for key, value in nets[0].parameters.items():
        scale = max(1.0, float(np.max(np.abs(value))))
        np.testing.assert_allclose(nets[1].parameters[key], value, rtol=tol, atol=tol * scale,
                                   err_msg=key)


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [None, 5], ids=["full batch", "batches of 5"])
@pytest.mark.parametrize("l2", [0.0, 0.3], ids=["no L2", "L2"])
@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_dual_trains_exactly_like_primal(rng, backend, optimizer, l2, batch_size, dtype, layout):
    X, Y = _wide(rng, layout=layout, dtype=dtype)
    # tanh: a smooth network, so float32's rounding never flips a ReLU kink, which would
    # part two correct float32 runs by far more than their rounding (seen: 3e-4 after 500
    # momentum steps, while the dual run stayed within 1e-7 of float64).
    nets = _twins([40, 5, 3, 1], backend, dtype, hidden="tanh")
    epochs = 500 if batch_size is None else 100
    options = dict(learning_rate=0.05, epochs=epochs, batch_size=batch_size, l2=l2,
                   optimizer="gd" if optimizer == "gd" else "momentum",
                   nesterov=optimizer == "nesterov")
    _assert_same(nets, _fit_both(nets, X, Y, **options), TOL[dtype])


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_first_layer_activation(rng, backend, activation, dtype):
    X, Y = _wide(rng, dtype=dtype)
    nets = _twins([40, 6, 1], backend, dtype, activations=[activation, "sigmoid"],
                  leaky_slope=0.2)
    _assert_same(nets, _fit_both(nets, X, Y, learning_rate=0.1, epochs=300), TOL[dtype])


@pytest.mark.parametrize("backend", BACKENDS)
def test_softmax_weights_dropout_and_a_custom_activation(rng, backend):
    """Everything else fit does goes on as in the primal form: the dual form only
    changes how W[1] is kept."""
    pytest.importorskip("numba")
    softsign = fastdl.custom_activation("softsign_dual", lambda z: z / (1 + abs(z)),
                                        lambda z: 1 / (1 + abs(z)) ** 2)
    X, _ = _wide(rng)
    Y = np.eye(3)[:, rng.integers(0, 3, X.shape[1])]
    nets = _twins([40, 6, 5, 3], backend, activations=[softsign, "tanh", "softmax"])
    weights = rng.uniform(0, 2, X.shape[1])
    _assert_same(nets, _fit_both(nets, X, Y, learning_rate=0.1, epochs=60, batch_size=4,
                                 sample_weight=weights, keep_prob=[0.8, 0.9], l2=0.1,
                                 optimizer="momentum"), 1e-9)


def test_auto_uses_the_dual_form_where_it_is_cheaper(rng, monkeypatch):
    """Catches a cost rule that never (or always) picks the dual form."""
    from fastdl import _dual

    chosen = []
    original = _dual.Session.__init__

    def spy(self, table, X):
        chosen.append(X.shape)
        original(self, table, X)

    monkeypatch.setattr(_dual.Session, "__init__", spy)
    X, Y = _wide(rng, n_x=400, m=30)
    fastdl.Network([400, 8, 1], seed=0).fit(X, Y, learning_rate=0.1, epochs=50)
    assert chosen == [(400, 30)]  # wide: dual
    fastdl.Network([400, 8, 1], seed=0).fit(X, Y, epochs=50, optimizer="adam")
    X_tall, Y_tall = _wide(rng, n_x=5, m=60)
    fastdl.Network([5, 8, 1], seed=0).fit(X_tall, Y_tall, epochs=50)
    assert chosen == [(400, 30)]  # Adam and tall data: primal
    X_big, Y_big = _wide(rng, n_x=400, m=300)
    fastdl.Network([400, 64, 1], seed=0).fit(X_big, Y_big, learning_rate=0.1, epochs=50)
    # Fewer multiply-adds in dual form, but its table (W[1]₀, G and the 64 x 300 arrays)
    # would hold 3x the entries of X: primal.
    assert chosen == [(400, 30)]
    assert _dual.prefer_dual([4000, 64, 1], 300, 50, GradientDescent(0.1), dev=False)  # 10x n_x


def test_dual_where_it_cannot_apply_says_why(rng):
    X, Y = _wide(rng)
    net = fastdl.Network([40, 5, 1], seed=0)
    before = net.parameters
    with pytest.raises(ValueError, match=r"first_layer='dual' cannot apply: optimizer 'adam' "
                                         r"updates W\[1\] elementwise"):
        net.fit(X, Y, epochs=3, optimizer="adam", first_layer="dual")
    with pytest.raises(ValueError, match=r"first_layer='both' is not supported; expected one of "
                                         r"\['auto', 'dual', 'primal'\]"):
        net.fit(X, Y, epochs=3, first_layer="both")
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, before[key])


# -- W[1] materialised whenever it is read, and whenever training stops -----------------------
@pytest.mark.parametrize("backend", BACKENDS)
def test_callbacks_read_the_parameters_of_every_epoch(rng, backend):
    X, Y = _wide(rng)
    nets = _twins([40, 5, 1], backend)
    seen = {0: [], 1: []}
    for k, (net, form) in enumerate(zip(nets, ("primal", "dual"))):
        net.fit(X, Y, learning_rate=0.1, epochs=20, first_layer=form,
                callbacks=[lambda h, k=k, net=net: seen[k].append((net.parameters["W1"],
                                                                   net.forward(X)))])
    for (W_p, A_p), (W_d, A_d) in zip(*seen.values()):
        np.testing.assert_allclose(W_d, W_p, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(A_d, A_p, rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_restores_the_best_dual_state(rng, backend):
    X, Y = _wide(rng)
    X_dev, Y_dev = _wide(rng, m=9)
    nets = _twins([40, 5, 1], backend)
    histories = _fit_both(nets, X, Y, learning_rate=0.5, epochs=300, dev=(X_dev, Y_dev),
                          patience=5)
    assert histories[0].stop_reason == "early stopping"
    assert histories[0].best_epoch == histories[1].best_epoch
    _assert_same(nets, histories, 1e-9)


@pytest.mark.parametrize("backend", BACKENDS)
def test_divergence_in_dual_form_keeps_the_last_good_parameters(rng, backend):
    X, Y = _wide(rng)
    nets = _twins([40, 5, 1], backend, output="linear")
    with pytest.warns(fastdl.DivergenceWarning):
        histories = _fit_both(nets, X, 100 * Y, learning_rate=5.0, epochs=200)
    assert histories[1].stop_reason == "diverged"
    _assert_same(nets, histories, 1e-9)
    assert all(np.isfinite(value).all() for value in nets[1].parameters.values())


@pytest.mark.parametrize("how", ["callback", "Ctrl-C", "exception"])
@pytest.mark.parametrize("backend", BACKENDS)
def test_every_way_of_stopping_materialises_W1(rng, backend, how):
    X, Y = _wide(rng)
    nets = _twins([40, 5, 1], backend)

    def stop(history):
        if len(history.costs) == 7:
            if how == "callback":
                return True
            if how == "Ctrl-C":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise RuntimeError("stop here")
        return False

    for net, form in zip(nets, ("primal", "dual")):
        if how == "exception":
            with pytest.raises(RuntimeError, match="stop here"):
                net.fit(X, Y, learning_rate=0.1, epochs=50, callbacks=[stop], first_layer=form)
        else:
            net.fit(X, Y, learning_rate=0.1, epochs=50, callbacks=[stop], first_layer=form)
        assert net._form is None and net.history.iterations == 7
    for key, value in nets[0].parameters.items():
        np.testing.assert_allclose(nets[1].parameters[key], value, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("backend", BACKENDS)
def test_parameters_set_during_a_dual_fit_are_trained_on(rng, backend):
    """A callback that sets the parameters restarts the dual form from them."""
    X, Y = _wide(rng)
    nets = _twins([40, 5, 1], backend)

    def shrink(net):
        def callback(history):
            if len(history.costs) == 10:
                net.set_parameters({k: v / 2 for k, v in net.parameters.items()})
        return callback

    for net, form in zip(nets, ("primal", "dual")):
        net.fit(X, Y, learning_rate=0.1, epochs=30, callbacks=[shrink(net)], first_layer=form)
    for key, value in nets[0].parameters.items():
        np.testing.assert_allclose(nets[1].parameters[key], value, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_compiled_products_equal_numpys(rng, dtype):
    """P₀ = W₀ X by GEMM and G = Xᵀ X by a symmetric rank-k update, for C and F inputs."""
    kernels = pytest.importorskip("fastdl._kernels")
    for layout in ("C", "F"):
        X, _ = _wide(rng, layout=layout, dtype=dtype)
        W0 = rng.standard_normal((5, 40)).astype(dtype)
        table = kernels.DualTable(W0, X, 12, False)
        tol = 1e-5 if dtype == "float32" else 1e-12
        X64 = X.astype(np.float64)
        np.testing.assert_allclose(table.G, X64.T @ X64, rtol=tol, atol=tol)
        np.testing.assert_allclose(table.P0, W0.astype(np.float64) @ X64, rtol=tol, atol=tol)
        W = np.empty_like(W0)
        table.materialize(W, X)
        np.testing.assert_allclose(W, W0, rtol=tol)
