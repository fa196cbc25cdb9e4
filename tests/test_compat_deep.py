"""fastdl.compat.deep: the course's L-layer helpers (issue 10).

Each helper is checked against fastdl's general API (Network.forward / cost / gradients)
and the loop reference in naive.py on random inputs; the training functions against the
course's loop in plain numpy (course_numpy.py); then the printed lines, the fixed seeds
and the errors for bad input.
"""
import numpy as np
import pytest

import fastdl
import naive
from course_numpy import assert_same_parameters, gradient_descent
from fastdl.compat import deep

DIMS = [[4, 1], [5, 3, 1], [6, 4, 3, 1]]


def _case(rng, layer_dims, m=7):
    """``(parameters, X, Y)`` with ReLU hidden layers and every Z away from ReLU's kink."""
    return naive.random_case(rng, layer_dims, _activations(layer_dims), m)


def _network(parameters, layer_dims):
    net = fastdl.Network(layer_dims, hidden="relu", output="sigmoid")
    net.set_parameters(parameters)
    return net


def _activations(layer_dims):
    return ["relu"] * (len(layer_dims) - 2) + ["sigmoid"]


# -- activations ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sigmoid", "relu"])
def test_activation_returns_A_and_Z_as_cache(rng, name):
    Z = rng.standard_normal((3, 5)) * 3
    A, cache = getattr(deep, name)(Z)
    expected = [[naive.g(name, z) for z in row] for row in Z]
    np.testing.assert_allclose(A, expected, rtol=1e-14)
    assert cache is Z


def test_sigmoid_does_not_overflow_far_below_zero():
    """Catches 1 / (1 + exp(−Z)), which overflows (a RuntimeWarning, an error here) at −800."""
    A, _ = deep.sigmoid(np.array([[-800.0, 800.0]]))
    np.testing.assert_array_equal(A, [[0.0, 1.0]])


def test_relu_backward_zeroes_dA_where_Z_is_not_positive(rng):
    """Catches `Z < 0` in place of `Z <= 0`: at Z = 0 exactly the course's gradient is 0."""
    Z = np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]])
    dA = rng.standard_normal(Z.shape)
    dZ = deep.relu_backward(dA, Z)
    np.testing.assert_array_equal(dZ, np.where(Z > 0, dA, 0.0))
    assert not np.shares_memory(dZ, dA)


def test_sigmoid_backward_is_dA_s_one_minus_s(rng):
    Z, dA = rng.standard_normal((2, 3, 4))
    expected = [[da * naive.g_prime("sigmoid", z) for da, z in zip(r1, r2)] for r1, r2 in zip(dA, Z)]
    np.testing.assert_allclose(deep.sigmoid_backward(dA, Z), expected, rtol=1e-13)


# -- initialisation --------------------------------------------------------------------------
def test_initialize_parameters_is_seed_1_then_W1_then_W2_times_001():
    """Catches another seed, another draw order (W2 before W1) or another scale."""
    np.random.seed(1)
    W1, W2 = np.random.randn(4, 3) * 0.01, np.random.randn(2, 4) * 0.01
    after = np.random.randn()
    np.random.seed(12345)  # whatever the state before, the function seeds it with 1
    parameters = deep.initialize_parameters(3, 4, 2)
    assert list(parameters) == ["W1", "b1", "W2", "b2"]
    np.testing.assert_array_equal(parameters["W1"], W1)
    np.testing.assert_array_equal(parameters["W2"], W2)
    np.testing.assert_array_equal(parameters["b1"], np.zeros((4, 1)))
    np.testing.assert_array_equal(parameters["b2"], np.zeros((2, 1)))
    assert np.random.randn() == after  # the global generator is left where the course leaves it


def test_initialize_parameters_deep_is_seed_1_and_randn_over_sqrt_n_prev():
    np.random.seed(1)
    expected = [np.random.randn(n, n_prev) / np.sqrt(n_prev)
                for n_prev, n in zip([5, 4, 3], [4, 3, 1])]
    parameters = deep.initialize_parameters_deep([5, 4, 3, 1])
    assert list(parameters) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for l, W in enumerate(expected, start=1):
        np.testing.assert_array_equal(parameters[f"W{l}"], W)
        np.testing.assert_array_equal(parameters[f"b{l}"], np.zeros((W.shape[0], 1)))


# -- forward ---------------------------------------------------------------------------------
def test_linear_forward_is_W_A_plus_b_and_caches_its_inputs(rng):
    parameters, A, _ = naive.random_case(rng, [4, 3], ["linear"], 6)
    W, b = parameters["W1"], parameters["b1"]
    Z, cache = deep.linear_forward(A, W, b)
    np.testing.assert_allclose(Z, naive.forward(parameters, A, ["linear"]), rtol=1e-13)
    assert cache[0] is A and cache[1] is W and cache[2] is b


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_forward(rng, activation):
    parameters, A_prev, _ = naive.random_case(rng, [4, 3], [activation], 6)
    A, (linear_cache, Z) = deep.linear_activation_forward(A_prev, parameters["W1"],
                                                          parameters["b1"], activation)
    np.testing.assert_allclose(A, naive.forward(parameters, A_prev, [activation]), rtol=1e-13)
    np.testing.assert_allclose(Z, naive.forward(parameters, A_prev, ["linear"]), rtol=1e-13)
    assert linear_cache[0] is A_prev


@pytest.mark.parametrize("layer_dims", DIMS, ids=str)
def test_L_model_forward_equals_the_network_and_the_loops(rng, layer_dims):
    parameters, X, _ = _case(rng, layer_dims)
    AL, caches = deep.L_model_forward(X, parameters)
    np.testing.assert_allclose(AL, naive.forward(parameters, X, _activations(layer_dims)), rtol=1e-12)
    np.testing.assert_allclose(AL, _network(parameters, layer_dims).forward(X), rtol=1e-12)
    assert len(caches) == len(layer_dims) - 1
    assert caches[0][0][0] is X
    for l, ((A_prev, W, b), Z) in enumerate(caches, start=1):
        assert W is parameters[f"W{l}"] and Z.shape == (layer_dims[l], X.shape[1])


@pytest.mark.parametrize("layer_dims", DIMS, ids=str)
def test_compute_cost_equals_the_network_and_the_loops(rng, layer_dims):
    parameters, X, Y = _case(rng, layer_dims)
    AL, _ = deep.L_model_forward(X, parameters)
    cost = deep.compute_cost(AL, Y)
    assert np.shape(cost) == ()
    assert cost == pytest.approx(naive.cost(parameters, X, Y, _activations(layer_dims)), rel=1e-12)
    assert cost == pytest.approx(_network(parameters, layer_dims).cost(X, Y), rel=1e-12)


def test_compute_cost_counts_zero_log_zero_as_zero():
    """Catches Y·log(AL) + (1 − Y)·log(1 − AL) taken as written: 0 · log 0 = NaN for a
    confident right answer (AL = 1 where Y = 1), instead of that example's loss, 0."""
    cost = deep.compute_cost(np.array([[1.0, 0.5]]), np.array([[1, 1]]))
    assert cost == pytest.approx(np.log(2) / 2, rel=1e-15)


def test_compute_cost_of_a_saturated_wrong_answer_is_infinite_and_warns():
    with pytest.warns(RuntimeWarning, match=r"AL is exactly 1\.0 at \[0, 1\] where Y is 0\.0"):
        cost = deep.compute_cost(np.array([[0.5, 1.0]]), np.array([[1, 0]]))
    assert cost == np.inf


# -- backward --------------------------------------------------------------------------------
def test_linear_backward_formulas(rng):
    A_prev, W, b, dZ = (rng.standard_normal(s) for s in ((4, 6), (3, 4), (3, 1), (3, 6)))
    dA_prev, dW, db = deep.linear_backward(dZ, (A_prev, W, b))
    np.testing.assert_allclose(dW, dZ @ A_prev.T / 6, rtol=1e-13)
    np.testing.assert_allclose(db, dZ.sum(axis=1, keepdims=True) / 6, rtol=1e-13)
    np.testing.assert_allclose(dA_prev, W.T @ dZ, rtol=1e-13)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_linear_activation_backward_is_linear_backward_of_the_activation_backward(rng, activation):
    parameters, A_prev, _ = naive.random_case(rng, [4, 3], [activation], 6)
    _, cache = deep.linear_activation_forward(A_prev, parameters["W1"], parameters["b1"], activation)
    dA = rng.standard_normal((3, 6))
    dZ = getattr(deep, f"{activation}_backward")(dA, cache[1])
    for got, expected in zip(deep.linear_activation_backward(dA, cache, activation),
                             deep.linear_backward(dZ, cache[0])):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("layer_dims", DIMS, ids=str)
def test_L_model_backward_equals_the_network_and_the_loops(rng, layer_dims):
    parameters, X, Y = _case(rng, layer_dims)
    L = len(layer_dims) - 1
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    assert sorted(grads) == sorted([f"dA{l}" for l in range(L)] + [f"d{p}{l}" for l in range(1, L + 1)
                                                                  for p in "Wb"])
    by_network = _network(parameters, layer_dims).gradients(X, Y)
    by_loops = naive.gradients(parameters, X, Y, _activations(layer_dims))
    for key, expected in by_loops.items():
        np.testing.assert_allclose(grads[key], expected, rtol=1e-9, atol=1e-13, err_msg=key)
        np.testing.assert_allclose(grads[key], by_network[key], rtol=1e-9, atol=1e-13, err_msg=key)
    dZ1 = grads["dA1"] * (caches[0][1] > 0) if L > 1 else AL - Y
    np.testing.assert_allclose(grads["dA0"], parameters["W1"].T @ dZ1, rtol=1e-9, atol=1e-13)


def test_update_parameters_returns_new_arrays_and_leaves_the_callers(rng):
    """Catches an in-place update (W -= α dW), which would change the caller's dict too."""
    parameters, X, Y = _case(rng, [5, 3, 1])
    before = {key: value.copy() for key, value in parameters.items()}
    AL, caches = deep.L_model_forward(X, parameters)
    grads = deep.L_model_backward(AL, Y, caches)
    updated = deep.update_parameters(parameters, grads, 0.1)
    assert_same_parameters(parameters, before, rtol=0, atol=0)
    for key in before:
        np.testing.assert_allclose(updated[key], before[key] - 0.1 * grads["d" + key], rtol=1e-15)


# -- prediction ------------------------------------------------------------------------------
def test_predict_returns_float_labels_and_prints_the_accuracy(rng, capsys):
    parameters, X, Y = _case(rng, [5, 3, 1], m=9)
    p = deep.predict(X, Y, parameters)
    assert p.shape == (1, 9) and p.dtype == np.float64
    np.testing.assert_array_equal(p, _network(parameters, [5, 3, 1]).predict(X))
    assert capsys.readouterr().out == f"Accuracy: {np.sum((p == Y) / 9)}\n"


# -- training --------------------------------------------------------------------------------
def _train_data(rng, n_x=5, m=30):
    X = rng.uniform(0, 1, (n_x, m))
    Y = (X[:1] + 0.5 * X[1:2] > 0.75).astype(float)
    return X, Y


@pytest.mark.parametrize("layers_dims", [[5, 4, 3, 1], [5, 6, 1]], ids=str)
def test_L_layer_model_equals_the_numpy_loop(rng, layers_dims):
    X, Y = _train_data(rng)
    parameters, costs = deep.L_layer_model(X, Y, layers_dims, learning_rate=0.1, num_iterations=301)
    expected, all_costs, _ = gradient_descent(X, Y, deep.initialize_parameters_deep(layers_dims),
                                              0.1, 301)
    assert_same_parameters(parameters, expected)
    np.testing.assert_allclose(costs, all_costs[::100], rtol=1e-6)
    assert len(costs) == 4  # iterations 0, 100, 200 and 300


def test_two_layer_model_equals_the_numpy_loop(rng):
    X, Y = _train_data(rng)
    parameters, costs = deep.two_layer_model(X, Y, (5, 4, 1), learning_rate=0.5, num_iterations=250)
    expected, all_costs, _ = gradient_descent(X, Y, deep.initialize_parameters(5, 4, 1), 0.5, 250)
    assert_same_parameters(parameters, expected)
    np.testing.assert_allclose(costs, all_costs[::100], rtol=1e-6)


@pytest.mark.parametrize("model, dims", [("L_layer_model", [5, 4, 3, 1]),
                                         ("two_layer_model", (5, 4, 1))])
def test_training_prints_every_100_iterations_and_the_last(rng, capsys, model, dims):
    X, Y = _train_data(rng)
    _, costs = getattr(deep, model)(X, Y, dims, learning_rate=0.1, num_iterations=250, print_cost=True)
    start = (deep.initialize_parameters_deep(dims) if model == "L_layer_model"
             else deep.initialize_parameters(*dims))
    _, all_costs, _ = gradient_descent(X, Y, start, 0.1, 250)
    lines = capsys.readouterr().out.splitlines()
    assert [line.rsplit(": ", 1)[0] for line in lines] == [
        f"Cost after iteration {i}" for i in (0, 100, 200, 249)]
    assert [float(line.rsplit(": ", 1)[1]) for line in lines] == pytest.approx(
        [all_costs[i] for i in (0, 100, 200, 249)], rel=1e-6)
    assert lines[0] == f"Cost after iteration 0: {costs[0]}"


def test_training_prints_nothing_unless_asked(rng, capsys):
    X, Y = _train_data(rng)
    deep.L_layer_model(X, Y, [5, 3, 1], num_iterations=150)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kind", ["int", "bool", "float32 X"])
def test_training_takes_int_and_bool_labels_and_computes_in_float64(rng, kind):
    """Catches labels or inputs used in their own dtype: bools break 1 − Y, float32 would
    give other values than the course's float64 numpy code."""
    X, Y = _train_data(rng)
    expected, costs = deep.L_layer_model(X, Y, [5, 3, 1], learning_rate=0.1, num_iterations=120)
    if kind == "float32 X":
        X = X.astype(np.float32)
        expected, costs = deep.L_layer_model(X.astype(float), Y, [5, 3, 1], learning_rate=0.1,
                                             num_iterations=120)
    else:
        Y = Y.astype(int if kind == "int" else bool)
    parameters, got = deep.L_layer_model(X, Y, [5, 3, 1], learning_rate=0.1, num_iterations=120)
    assert all(value.dtype == np.float64 for value in parameters.values())
    assert_same_parameters(parameters, expected, rtol=0, atol=0)
    assert got == costs


def test_divergence_stops_with_a_warning_and_keeps_the_last_good_parameters(rng):
    """Catches a run that carries on with NaN (the course's loop does) or returns them."""
    X, Y = _train_data(rng)
    X = X * 1e3
    with pytest.warns(fastdl.DivergenceWarning, match="learning_rate=1000000.0 is too large"):
        parameters, costs = deep.L_layer_model(X, Y, [5, 4, 1], learning_rate=1e6, num_iterations=500)
    assert all(np.isfinite(value).all() for value in parameters.values())
    assert 1 <= len(costs) < 5 and np.isfinite(costs).all()


# -- bad input -------------------------------------------------------------------------------
def test_a_wrong_weight_shape_names_the_layer_and_both_shapes(rng):
    parameters = deep.initialize_parameters_deep([12, 20, 7, 5, 1])
    parameters["W2"] = np.zeros((7, 21))
    with pytest.raises(ValueError, match=r"^W2 has shape \(7, 21\) but A_prev has 20 rows "
                                         r"\(layer 2\): expected W2 of shape \(7, 20\)$"):
        deep.L_model_forward(rng.standard_normal((12, 3)), parameters)


def test_X_with_the_wrong_number_of_rows_names_X_and_layer_1(rng):
    parameters = deep.initialize_parameters_deep([4, 3, 1])
    with pytest.raises(ValueError, match=r"^W1 has shape \(3, 4\) but X has 5 rows \(layer 1\)"):
        deep.L_model_forward(rng.standard_normal((5, 2)), parameters)


def test_a_wrong_bias_shape_names_it(rng):
    parameters = deep.initialize_parameters_deep([4, 3, 1])
    parameters["b1"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"^b1 has shape \(3,\) but W1 has 3 rows \(layer 1\): "
                                         r"expected b1 of shape \(3, 1\)$"):
        deep.L_model_forward(rng.standard_normal((4, 2)), parameters)


@pytest.mark.parametrize("call", [
    lambda A, W, b: deep.linear_activation_forward(A, W, b, "tanh"),
    lambda A, W, b: deep.linear_activation_backward(np.ones((3, 2)), ((A, W, b), W @ A + b), "tanh"),
], ids=["forward", "backward"])
def test_an_unknown_activation_lists_the_valid_ones(rng, call):
    A, W, b = rng.standard_normal((4, 2)), rng.standard_normal((3, 4)), np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"^activation='tanh' is not supported; expected one of "
                                         r"\['relu', 'sigmoid'\]$"):
        call(A, W, b)


def test_nan_in_X_is_refused_with_its_position(rng):
    X = rng.standard_normal((4, 3))
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X holds NaN or infinite values, e\.g\. at \[2, 1\]$"):
        deep.L_model_forward(X, deep.initialize_parameters_deep([4, 1]))


@pytest.mark.parametrize("call, message", [
    (lambda: deep.L_model_forward(np.ones(4), deep.initialize_parameters_deep([4, 1])),
     r"^X must be a 2-D array; got 1-D shape \(4,\) \(one example: X\.reshape\(-1, 1\)\)$"),
    (lambda: deep.compute_cost(np.full(4, 0.5), np.ones((1, 4))),
     r"^AL must be a 2-D array; got 1-D shape \(4,\) \(for one row use AL\.reshape\(1, -1\)\)$"),
], ids=["X", "AL"])
def test_a_1d_array_gets_the_reshape_that_fits_it(call, message):
    """Catches a hint that would turn one example into a row of features, or labels into a column."""
    with pytest.raises(ValueError, match=message):
        call()


def test_missing_parameter_keys_are_named():
    with pytest.raises(ValueError, match=r"missing \['b2'\], unexpected \['c2'\]"):
        deep.L_model_forward(np.ones((4, 1)), {"W1": np.ones((2, 4)), "b1": np.zeros((2, 1)),
                                               "W2": np.ones((1, 2)), "c2": 0})


def test_backward_refuses_a_saturated_AL():
    """Catches dAL = −(Y/AL − (1 − Y)/(1 − AL)) taken at AL = 1, which is 0/0 = NaN."""
    X = np.ones((2, 2))
    AL, caches = deep.L_model_forward(X, deep.initialize_parameters_deep([2, 1]))
    with pytest.raises(ValueError, match=r"^AL holds exactly 1\.0 at \[0, 1\]: the sigmoid saturated"):
        deep.L_model_backward(np.array([[0.5, 1.0]]), np.array([[1, 0]]), caches)


def test_labels_outside_0_1_are_refused():
    with pytest.raises(ValueError, match=r"^Y holds 2\.0 at \[0, 1\]; labels must be 0 or 1$"):
        deep.compute_cost(np.array([[0.5, 0.5]]), np.array([[1, 2]]))


def test_Y_of_another_shape_than_AL_is_refused():
    with pytest.raises(ValueError, match=r"^Y has shape \(1, 3\) but AL has shape \(1, 2\)$"):
        deep.compute_cost(np.array([[0.5, 0.5]]), np.array([[1, 0, 1]]))


def test_a_gradient_of_the_wrong_shape_is_named():
    parameters = deep.initialize_parameters_deep([4, 3, 1])
    grads = {f"d{key}": np.zeros_like(value) for key, value in parameters.items()}
    grads["dW2"] = np.zeros((3, 1))
    with pytest.raises(ValueError, match=r"^dW2 has shape \(3, 1\) but W2 has shape \(1, 3\)$"):
        deep.update_parameters(parameters, grads, 0.1)


def test_a_malformed_cache_is_named():
    with pytest.raises(ValueError, match=r"^cache \(caches\[0\], layer 1\) must be \(linear_cache, Z\)"):
        deep.L_model_backward(np.array([[0.5]]), np.array([[1]]), [np.ones((1, 1))])


def test_training_data_with_another_n_x_than_layers_dims_is_refused(rng):
    X, Y = _train_data(rng)
    with pytest.raises(ValueError, match=r"^X has shape \(5, 30\) but the network expects "
                                         r"\(n_x, m\) = \(4, m\)"):
        deep.L_layer_model(X, Y, [4, 3, 1], num_iterations=10)


@pytest.mark.parametrize("value", [0, -5, 2.5])
def test_num_iterations_must_be_a_positive_integer(rng, value):
    X, Y = _train_data(rng)
    with pytest.raises(ValueError, match=rf"^num_iterations must be a positive integer; got {value}$"):
        deep.L_layer_model(X, Y, [5, 1], num_iterations=value)


def test_two_layer_model_needs_three_sizes(rng):
    X, Y = _train_data(rng)
    with pytest.raises(ValueError, match=r"^layers_dims must have 3 sizes; got 4: \[5, 4, 3, 1\]$"):
        deep.two_layer_model(X, Y, [5, 4, 3, 1])
