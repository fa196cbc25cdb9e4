"""``fastdl.Network``: configuration, parameters, training, reproducibility, divergence."""
import numpy as np
import pytest

import fastdl
from fastdl import datasets


def _net(*args, **kwargs):
    kwargs.setdefault("backend", "numpy")
    return fastdl.Network(*args, **kwargs)


# -- configuration --------------------------------------------------------------------------------
def test_attributes():
    net = _net([4, 3, 2, 1], hidden="tanh", dtype="float32", seed=3)
    assert net.L == 3
    assert net.layer_dims == [4, 3, 2, 1]
    assert net.activations == ["tanh", "tanh", "sigmoid"]
    assert net.dtype == np.float32
    assert net.leaky_slope == 0.01
    assert net.backend == "numpy"
    assert net.loss == "cross_entropy"
    assert "layer_dims=[4, 3, 2, 1]" in repr(net)


def test_defaults_are_relu_hidden_and_sigmoid_output():
    net = _net([3, 5, 5, 1])
    assert net.activations == ["relu", "relu", "sigmoid"]
    assert net.dtype == np.float64


def test_explicit_activations_list():
    net = _net([3, 5, 4, 1], ["tanh", "leaky_relu", "linear"])
    assert net.activations == ["tanh", "leaky_relu", "linear"]
    assert net.loss == "squared_error"


def test_layer_dims_accepts_numpy_integers_and_tuples():
    net = _net(np.array([3, 2, 1]))
    assert net.layer_dims == [3, 2, 1]
    assert all(type(n) is int for n in net.layer_dims)
    assert _net((3, 1)).L == 1


def test_auto_backend_is_available():
    net = fastdl.Network([2, 1])
    assert net.backend in fastdl.available_backends()


def test_returned_lists_do_not_expose_internals():
    net = _net([3, 2, 1])
    net.layer_dims.append(7)
    net.activations[0] = "linear"
    assert net.layer_dims == [3, 2, 1]
    assert net.activations == ["relu", "sigmoid"]


# -- parameters ---------------------------------------------------------------------------------
def test_parameters_are_copies():
    net = _net([3, 4, 1], seed=0)
    params = net.parameters
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    params["W1"][:] = 123.0
    params["b2"] += 1
    del params["W2"]
    fresh = net.parameters
    assert not np.any(fresh["W1"] == 123.0)
    assert "W2" in fresh
    assert fresh["W1"] is not net.parameters["W1"]


def test_set_parameters_copies_rather_than_aliases(rng):
    net = _net([3, 2, 1], seed=0)
    new = {k: rng.normal(size=v.shape) for k, v in net.parameters.items()}
    net.set_parameters(new)
    kept = {k: v.copy() for k, v in new.items()}
    for value in new.values():
        value += 5.0  # mutate the caller's arrays after the call
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, kept[key])
        assert not np.shares_memory(value, new[key])


def test_set_parameters_casts_to_the_network_dtype(rng):
    net = _net([3, 2, 1], dtype="float32")
    new = {k: rng.normal(size=v.shape) for k, v in net.parameters.items()}  # float64
    net.set_parameters(new)
    for key, value in net.parameters.items():
        assert value.dtype == np.float32
        np.testing.assert_array_equal(value, new[key].astype(np.float32))


def test_set_parameters_accepts_integer_and_list_values():
    net = _net([2, 1])
    net.set_parameters({"W1": [[1, 2]], "b1": np.array([[3]])})
    np.testing.assert_array_equal(net.parameters["W1"], [[1.0, 2.0]])
    assert net.parameters["b1"].dtype == np.float64


def test_round_trip_through_parameters(rng):
    a, b = _net([4, 3, 1], seed=1), _net([4, 3, 1], seed=2)
    b.set_parameters(a.parameters)
    X = rng.normal(size=(4, 5))
    np.testing.assert_array_equal(a.forward(X), b.forward(X))


# -- forward / predict --------------------------------------------------------------------------
def test_forward_shape_and_probability_range(rng):
    net = _net([5, 4, 3], seed=0)
    A = net.forward(rng.normal(size=(5, 11)))
    assert A.shape == (3, 11)
    assert np.all((A > 0) & (A < 1))


def test_forward_accepts_read_only_and_non_contiguous_input(rng):
    net = _net([3, 4, 1], seed=0)
    X = rng.normal(size=(3, 8))
    read_only = X.copy()
    read_only.setflags(write=False)
    fortran = np.asfortranarray(X)
    strided = np.repeat(X, 2, axis=1)[:, ::2]
    expected = net.forward(X)
    for variant in (read_only, fortran, strided):
        np.testing.assert_allclose(net.forward(variant), expected, rtol=1e-15)
    Y = (rng.random((1, 8)) > 0.5).astype(float)
    Y.setflags(write=False)
    assert np.isfinite(net.cost(read_only, Y))
    net.step(read_only, Y, 0.1)


def test_forward_accepts_lists_and_integers():
    net = _net([2, 1], init="zeros")
    np.testing.assert_array_equal(net.forward([[1, 2, 3], [4, 5, 6]]), [[0.5, 0.5, 0.5]])


def test_predict_thresholds_at_one_half():
    net = _net([1, 1], init="zeros")
    net.set_parameters({"W1": [[1.0]], "b1": [[0.0]]})
    X = np.array([[-2.0, -0.1, 0.1, 3.0]])
    np.testing.assert_array_equal(net.predict(X), [[0, 0, 1, 1]])
    np.testing.assert_allclose(net.predict_proba(X), 1 / (1 + np.exp(-X)), rtol=1e-15)
    assert net.accuracy(X, np.array([[0, 1, 1, 1]])) == 0.75


def test_predict_of_a_linear_output_is_the_value(rng):
    net = _net([3, 2], output="linear", seed=0)
    X = rng.normal(size=(3, 4))
    np.testing.assert_array_equal(net.predict(X), net.forward(X))


@pytest.mark.parametrize("output", ["linear", "tanh", "relu", "leaky_relu"])
def test_predict_proba_needs_a_sigmoid_output(output):
    net = _net([3, 1], output=output)
    with pytest.raises(ValueError, match=f"predict_proba needs a 'sigmoid'.*this network's "
                                         f"output is '{output}'"):
        net.predict_proba(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=f"accuracy needs a 'sigmoid'.*got '{output}'"):
        net.accuracy(np.zeros((3, 2)), np.zeros((1, 2)))


# -- dtype ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "leaky_relu", "linear"])
def test_float32_is_kept_everywhere(rng, hidden):
    net = _net([3, 4, 1], hidden=hidden, dtype="float32", seed=0)
    X = rng.normal(size=(3, 6))  # float64 input is cast, not propagated
    Y = (rng.random((1, 6)) > 0.5).astype(np.float64)
    assert all(v.dtype == np.float32 for v in net.parameters.values())
    assert net.forward(X).dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradients(X, Y).values())
    net.fit(X, Y, learning_rate=0.1, epochs=3)
    assert all(v.dtype == np.float32 for v in net.parameters.values())
    assert isinstance(net.cost(X, Y), float)


def test_float32_and_float64_agree(rng):
    X = rng.normal(size=(3, 10))
    Y = (rng.random((1, 10)) > 0.5).astype(float)
    n32 = _net([3, 5, 1], hidden="tanh", dtype="float32", seed=0)
    n64 = _net([3, 5, 1], hidden="tanh", dtype="float64", seed=0)
    n64.set_parameters(n32.parameters)
    np.testing.assert_allclose(n32.forward(X), n64.forward(X), rtol=1e-5)
    assert n32.cost(X, Y) == pytest.approx(n64.cost(X, Y), rel=1e-5)


# -- reproducibility -------------------------------------------------------------------------------
def test_same_seed_gives_identical_parameters_and_training(seed):
    X, Y = datasets.make_planar(60, seed=seed)
    a = _net([2, 4, 1], hidden="tanh", seed=seed)
    b = _net([2, 4, 1], hidden="tanh", seed=seed)
    for key, value in a.parameters.items():
        np.testing.assert_array_equal(value, b.parameters[key])
    ha = a.fit(X, Y, learning_rate=0.5, epochs=20)
    hb = b.fit(X, Y, learning_rate=0.5, epochs=20)
    assert ha.costs == hb.costs
    for key, value in a.parameters.items():
        np.testing.assert_array_equal(value, b.parameters[key])


def test_different_seeds_differ(seed):
    a, b = _net([4, 3, 1], seed=seed), _net([4, 3, 1], seed=seed + 1)
    assert not np.array_equal(a.parameters["W1"], b.parameters["W1"])


# -- training ---------------------------------------------------------------------------------------
def test_logistic_regression_separates_linear_data(seed):
    X, Y = datasets.make_linear(200, 3, seed=seed)
    net = _net([3, 1], init="zeros")
    history = net.fit(X, Y, learning_rate=1.0, epochs=300)
    assert net.accuracy(X, Y) >= 0.97
    assert history.costs[-1] < history.costs[0]
    assert history.costs[0] == pytest.approx(np.log(2), rel=1e-12)  # w = 0, b = 0: a = 1/2


def test_tanh_network_learns_the_planar_flower(seed):
    """The notes' shallow network: [2, 4, 1], tanh hidden, sigmoid output, randn·0.01 init."""
    X, Y = datasets.make_planar()
    net = _net([2, 4, 1], hidden="tanh", init="small", seed=seed)
    history = net.fit(X, Y, learning_rate=1.2, epochs=2000)
    assert net.accuracy(X, Y) >= 0.85
    costs = np.array(history.costs)
    assert costs[-1] < 0.5 * costs[0]
    # Full-batch descent at this rate goes downhill, iteration after iteration.
    assert np.all(np.diff(costs) <= 1e-12)


def test_logistic_regression_cannot_learn_the_planar_flower():
    X, Y = datasets.make_planar()
    net = _net([2, 1], init="zeros")
    net.fit(X, Y, learning_rate=1.2, epochs=500)
    assert 0.35 <= net.accuracy(X, Y) <= 0.65


def test_linear_output_fits_regression(seed):
    X, Y = datasets.make_regression(200, 3, seed=seed)
    net = _net([3, 16, 1], hidden="tanh", output="linear", init="xavier", seed=seed)
    history = net.fit(X, Y, learning_rate=0.05, epochs=1500)
    baseline = np.var(Y) / 2  # the cost of always predicting the mean
    assert history.costs[-1] < 0.3 * baseline
    assert net.cost(X, Y) == pytest.approx(np.sum((net.predict(X) - Y) ** 2) / (2 * Y.shape[1]), rel=1e-12)


@pytest.mark.parametrize("L", [2, 3])
def test_zeros_init_is_refused_with_hidden_layers(L):
    with pytest.raises(ValueError, match=rf"init='zeros' cannot train a network with hidden layers \(L = {L}\)"):
        _net([3] * L + [1], init="zeros")


def test_zeros_init_is_allowed_for_logistic_regression():
    net = _net([3, 1], init="zeros")
    assert all(np.all(v == 0) for v in net.parameters.values())


# -- step and history --------------------------------------------------------------------------------
def test_step_returns_cost_before_update(rng):
    X = rng.normal(size=(3, 9))
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    net = _net([3, 4, 1], hidden="tanh", seed=0)
    J0 = net.cost(X, Y)
    assert net.step(X, Y, 0.5) == J0
    assert net.cost(X, Y) < J0


def test_fit_equals_repeated_steps(rng):
    X = rng.normal(size=(3, 9))
    Y = (rng.random((1, 9)) > 0.5).astype(float)
    a, b = _net([3, 4, 1], seed=0), _net([3, 4, 1], seed=0)
    history = a.fit(X, Y, learning_rate=0.3, epochs=7)
    costs = [b.step(X, Y, 0.3) for _ in range(7)]
    assert history.costs == costs
    for key, value in a.parameters.items():
        np.testing.assert_array_equal(value, b.parameters[key])


def test_history(rng):
    X = rng.normal(size=(2, 10))
    Y = (rng.random((1, 10)) > 0.5).astype(float)
    history = _net([2, 3, 1], seed=0).fit(X, Y, learning_rate=0.1, epochs=25)
    assert isinstance(history, fastdl.History)
    assert history.iterations == len(history.costs) == len(history.times) == 25
    assert all(isinstance(c, float) for c in history.costs)
    assert all(t >= 0 for t in history.times)
    assert history.times == sorted(history.times)
    assert history.stop_reason == "finished"
    assert "History(25 " in repr(history) and "'finished'" in repr(history)


def test_print_every(rng, capsys):
    X = rng.normal(size=(2, 10))
    Y = (rng.random((1, 10)) > 0.5).astype(float)
    _net([2, 1], seed=0).fit(X, Y, learning_rate=0.1, epochs=10, print_every=4)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 4, 8, 9)]


# -- divergence ----------------------------------------------------------------------------------------
def _regression_problem(seed):
    X, Y = datasets.make_regression(50, 3, seed=seed)
    return X, Y * 10


def test_fit_stops_on_divergence_and_keeps_the_last_finite_parameters(seed):
    X, Y = _regression_problem(seed)
    lr = 50.0
    net = _net([3, 8, 1], hidden="tanh", output="linear", seed=seed)
    with pytest.warns(fastdl.DivergenceWarning, match="learning_rate=50.0 is too large"):
        history = net.fit(X, Y, learning_rate=lr, epochs=10_000)
    assert history.stop_reason == "diverged"
    assert 0 < history.iterations < 10_000
    assert len(history.times) == len(history.costs)
    assert all(np.isfinite(history.costs))
    # Replay: the kept parameters are those the last finite cost was evaluated at,
    # i.e. after iterations − 1 updates.
    replay = _net([3, 8, 1], hidden="tanh", output="linear", seed=seed)
    for _ in range(history.iterations - 1):
        replay.step(X, Y, lr)
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, replay.parameters[key])
        assert np.all(np.isfinite(value))
    assert net.cost(X, Y) == history.costs[-1]


def test_step_raises_on_divergence_and_restores(seed):
    X, Y = _regression_problem(seed)
    lr = 50.0
    net = _net([3, 8, 1], hidden="tanh", output="linear", seed=seed)
    snapshots, costs = [], []
    with pytest.raises(fastdl.DivergenceError, match="training diverged"):
        for _ in range(10_000):
            snapshots.append(net.parameters)
            costs.append(net.step(X, Y, lr))
    # The step that raised never returned, so snapshots[-1] was taken before it and
    # snapshots[-2] before the last step whose cost was finite.
    assert len(costs) == len(snapshots) - 1 >= 1
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(value, snapshots[-2][key])
    assert net.cost(X, Y) == costs[-1]
    # The network still trains afterwards at a sane rate.
    J = net.step(X, Y, 1e-3)
    assert np.isfinite(J)


def test_divergence_error_is_a_floating_point_error():
    assert issubclass(fastdl.DivergenceError, FloatingPointError)
    assert issubclass(fastdl.DivergenceWarning, RuntimeWarning)


@pytest.mark.parametrize("backend", fastdl.available_backends())
def test_a_network_pickles_and_trains_on_identically(backend):
    """joblib and scikit-learn pickle networks: the compiled engine's buffers are rebuilt,
    and the copy predicts and trains (dropout's stream too) exactly like the original."""
    import pickle

    X, Y = fastdl.datasets.make_planar(m=60)
    net = fastdl.Network([2, 5, 5, 1], seed=3, backend=backend)
    net.fit(X, Y, learning_rate=0.3, epochs=5, keep_prob=0.8)
    copy = pickle.loads(pickle.dumps(net))
    assert copy.backend == net.backend and copy.history.costs == net.history.costs
    np.testing.assert_array_equal(copy.forward(X), net.forward(X))
    for model in (net, copy):
        model.fit(X, Y, learning_rate=0.3, epochs=5, keep_prob=0.8)
    for key, value in net.parameters.items():
        np.testing.assert_array_equal(copy.parameters[key], value)
