"""fastdl.compat.shallow: the course's one-hidden-layer (tanh) helpers (issue 10)."""
import numpy as np
import pytest

import fastdl
import naive
from course_numpy import assert_same_parameters, gradient_descent
from fastdl.compat import shallow

ACTIVATIONS = ["tanh", "sigmoid"]


def _case(rng, n_x=3, n_h=4, n_y=1, m=8):
    return naive.random_case(rng, [n_x, n_h, n_y], ACTIVATIONS, m)


def _network(parameters):
    net = fastdl.Network([parameters["W1"].shape[1], parameters["W1"].shape[0],
                          parameters["W2"].shape[0]], hidden="tanh", output="sigmoid")
    net.set_parameters(parameters)
    return net


def test_layer_sizes_is_n_x_4_n_y(rng):
    assert shallow.layer_sizes(rng.standard_normal((5, 7)), np.zeros((2, 7))) == (5, 4, 2)


def test_initialize_parameters_draws_W1_then_W2_without_seeding(seed):
    """Catches a seed inside the function (nn_model seeds, the helper must not)."""
    np.random.seed(seed)
    W1, W2 = np.random.randn(4, 3) * 0.01, np.random.randn(2, 4) * 0.01
    np.random.seed(seed)
    parameters = shallow.initialize_parameters(3, 4, 2)
    np.testing.assert_array_equal(parameters["W1"], W1)
    np.testing.assert_array_equal(parameters["W2"], W2)
    np.testing.assert_array_equal(parameters["b1"], np.zeros((4, 1)))
    np.testing.assert_array_equal(parameters["b2"], np.zeros((2, 1)))
    assert not np.array_equal(shallow.initialize_parameters(3, 4, 2)["W1"], W1)


def test_forward_propagation_equals_the_network_and_the_loops(rng):
    parameters, X, _ = _case(rng)
    A2, cache = shallow.forward_propagation(X, parameters)
    assert sorted(cache) == ["A1", "A2", "Z1", "Z2"]
    np.testing.assert_allclose(A2, naive.forward(parameters, X, ACTIVATIONS), rtol=1e-12)
    np.testing.assert_allclose(A2, _network(parameters).forward(X), rtol=1e-12)
    np.testing.assert_allclose(cache["Z1"], parameters["W1"] @ X + parameters["b1"], rtol=1e-13)
    np.testing.assert_array_equal(cache["A1"], np.tanh(cache["Z1"]))
    assert cache["A2"] is A2


def test_compute_cost_is_a_float_equal_to_the_networks(rng):
    parameters, X, Y = _case(rng)
    A2, _ = shallow.forward_propagation(X, parameters)
    cost = shallow.compute_cost(A2, Y)
    assert type(cost) is float
    assert cost == pytest.approx(naive.cost(parameters, X, Y, ACTIVATIONS), rel=1e-12)
    assert cost == pytest.approx(_network(parameters).cost(X, Y), rel=1e-12)


@pytest.mark.parametrize("n_y", [1, 2])
def test_backward_propagation_equals_the_network_and_the_loops(rng, n_y):
    parameters, X, Y = _case(rng, n_y=n_y)
    _, cache = shallow.forward_propagation(X, parameters)
    grads = shallow.backward_propagation(parameters, cache, X, Y)
    assert sorted(grads) == ["dW1", "dW2", "db1", "db2"]
    by_network = _network(parameters).gradients(X, Y)
    for key, expected in naive.gradients(parameters, X, Y, ACTIVATIONS).items():
        np.testing.assert_allclose(grads[key], expected, rtol=1e-9, atol=1e-13, err_msg=key)
        np.testing.assert_allclose(grads[key], by_network[key], rtol=1e-9, atol=1e-13, err_msg=key)


def test_update_parameters_defaults_to_learning_rate_1_2(rng):
    parameters, X, Y = _case(rng)
    _, cache = shallow.forward_propagation(X, parameters)
    grads = shallow.backward_propagation(parameters, cache, X, Y)
    updated = shallow.update_parameters(parameters, grads)
    for key in parameters:
        np.testing.assert_allclose(updated[key], parameters[key] - 1.2 * grads["d" + key], rtol=1e-15)


def _flower_slice(rng, m=40):
    X, Y = shallow.load_planar_dataset()
    columns = rng.choice(X.shape[1], m, replace=False)
    return X[:, columns], Y[:, columns]


def test_nn_model_equals_the_numpy_loop_and_prints_every_1000(capsys):
    # The whole flower: on a few dozen of its points, learning rate 1.2 can make training
    # chaotic, and then two numpy formulations of the same loop part after 1000 iterations.
    X, Y = shallow.load_planar_dataset()
    parameters = shallow.nn_model(X, Y, 4, num_iterations=2001, print_cost=True)
    np.random.seed(3)
    start = shallow.initialize_parameters(2, 4, 1)
    expected, costs, _ = gradient_descent(X, Y, start, 1.2, 2001, hidden="tanh", from_dAL=False)
    assert_same_parameters(parameters, expected)
    lines = capsys.readouterr().out.splitlines()
    assert [line.rsplit(": ", 1)[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 1000, 2000)]
    assert [float(line.rsplit(": ", 1)[1]) for line in lines] == pytest.approx(
        [costs[i] for i in (0, 1000, 2000)], abs=5e-7)  # printed with %f, 6 decimals
    assert lines[0] == f"Cost after iteration 0: {costs[0]:f}"


def test_nn_model_separates_the_flower_as_the_notebook_says():
    """The notebook's figures: 4 tanh units reach about 90% on the flower, logistic
    regression 47%. Catches a wrong data set or a model that does not train."""
    X, Y = shallow.load_planar_dataset()
    parameters = shallow.nn_model(X, Y, 4, num_iterations=10000)
    accuracy = np.mean(shallow.predict(parameters, X) == Y)
    assert 0.88 <= accuracy <= 0.92


def test_predict_is_boolean_A2_above_one_half(rng):
    parameters, X, _ = _case(rng)
    predictions = shallow.predict(parameters, X)
    assert predictions.dtype == bool and predictions.shape == (1, X.shape[1])
    np.testing.assert_array_equal(predictions, shallow.forward_propagation(X, parameters)[0] > 0.5)


def test_load_planar_dataset_follows_its_description():
    """Catches another seed, draw order, petal count or angle range."""
    state = np.random.RandomState(1)
    X, Y = shallow.load_planar_dataset()
    assert X.shape == (2, 400) and Y.shape == (1, 400) and Y.dtype == np.float64
    for j in range(2):
        t = np.linspace(j * 3.12, (j + 1) * 3.12, 200) + state.randn(200) * 0.2
        r = 4 * np.sin(4 * t) + state.randn(200) * 0.2
        np.testing.assert_array_equal(X[:, 200 * j:200 * (j + 1)], [r * np.sin(t), r * np.cos(t)])
        np.testing.assert_array_equal(Y[0, 200 * j:200 * (j + 1)], j)
    assert np.random.randn() == state.randn()  # the global generator was seeded with 1


# -- bad input -------------------------------------------------------------------------------
def test_a_wrong_W2_names_layer_2_and_A1(rng):
    parameters, X, _ = _case(rng)
    parameters["W2"] = np.ones((1, 5))
    with pytest.raises(ValueError, match=r"^W2 has shape \(1, 5\) but A1 has 4 rows \(layer 2\)"):
        shallow.forward_propagation(X, parameters)


def test_parameters_of_three_layers_are_refused(rng):
    parameters, X, _ = naive.random_case(rng, [3, 2, 2, 1], ["tanh", "tanh", "sigmoid"], 4)
    with pytest.raises(ValueError, match=r"^parameters must hold W1, b1, W2, b2 .* got L = 3"):
        shallow.predict(parameters, X)


def test_a_cache_without_A1_is_refused(rng):
    parameters, X, Y = _case(rng)
    with pytest.raises(ValueError, match=r"^cache must be the dict forward_propagation returns"):
        shallow.backward_propagation(parameters, {"A2": np.ones((1, 8))}, X, Y)


def test_a_cache_from_other_data_is_refused(rng):
    """Catches a cache of another batch: its A1 has other columns than X."""
    parameters, X, Y = _case(rng)
    _, cache = shallow.forward_propagation(X[:, :5], parameters)
    with pytest.raises(ValueError, match=r"^cache\['A1'\] has shape \(4, 5\) but W1 X has shape \(4, 8\)$"):
        shallow.backward_propagation(parameters, cache, X, Y)


def test_nn_model_checks_n_h(rng):
    X, Y = _flower_slice(rng)
    with pytest.raises(ValueError, match=r"^n_h must be a positive integer; got 0$"):
        shallow.nn_model(X, Y, 0)
