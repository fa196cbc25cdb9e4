"""fastdl.compat.logistic: the course's logistic-regression helpers (issue 10)."""
import math

import numpy as np
import pytest

import fastdl
import naive
from course_numpy import gradient_descent
from fastdl.compat import logistic


def _data(rng, n_x=4, m=25):
    X = rng.standard_normal((n_x, m))
    Y = (X[:1] - X[1:2] + 0.5 * rng.standard_normal((1, m)) > 0).astype(float)
    return X, Y


def _as_network_parameters(w, b):
    return {"W1": np.asarray(w).T, "b1": np.array([[b]])}


def test_sigmoid_of_a_number_is_a_number_and_one_half_at_zero():
    assert logistic.sigmoid(0) == 0.5  # σ(0) = 1/2, the notes' value
    assert np.shape(logistic.sigmoid(2.0)) == () and isinstance(logistic.sigmoid(2.0), float)


def test_sigmoid_of_an_array_equals_the_loops(rng):
    z = rng.standard_normal(6) * 4
    np.testing.assert_allclose(logistic.sigmoid(z), [naive.g("sigmoid", x) for x in z], rtol=1e-14)
    np.testing.assert_array_equal(logistic.sigmoid(np.array([-800.0, 800.0])), [0.0, 1.0])


def test_initialize_with_zeros():
    w, b = logistic.initialize_with_zeros(3)
    np.testing.assert_array_equal(w, np.zeros((3, 1)))
    assert b == 0.0 and isinstance(b, float)


def test_propagate_by_hand():
    """One case worked by hand, so a sign or a 1/m slip shows whatever the other paths do."""
    w, b = np.array([[1.0], [2.0]]), 2.0
    X, Y = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]]), np.array([[1, 0, 1]])
    grads, cost = logistic.propagate(w, b, X, Y)
    # Z = wᵀX + b = [1 + 6 + 2, 2 + 8 + 2, −1 − 6.4 + 2] = [9, 12, −5.4]
    s = [1 / (1 + math.exp(-z)) for z in (9.0, 12.0, -5.4)]
    dZ = [s[0] - 1, s[1] - 0, s[2] - 1]
    assert cost == pytest.approx(-(math.log(s[0]) + math.log(1 - s[1]) + math.log(s[2])) / 3, rel=1e-12)
    assert np.shape(cost) == ()
    np.testing.assert_allclose(grads["dw"], [[(dZ[0] * 1 + dZ[1] * 2 - dZ[2] * 1) / 3],
                                             [(dZ[0] * 3 + dZ[1] * 4 - dZ[2] * 3.2) / 3]], rtol=1e-12)
    assert grads["db"] == pytest.approx(sum(dZ) / 3, rel=1e-12)


def test_propagate_equals_the_network_and_the_loops(rng):
    parameters, X, Y = naive.random_case(rng, [4, 1], ["sigmoid"], 9)
    w, b = parameters["W1"].T, float(parameters["b1"][0, 0])
    grads, cost = logistic.propagate(w, b, X, Y)
    net = fastdl.Network([4, 1], output="sigmoid")
    net.set_parameters(parameters)
    assert cost == pytest.approx(naive.cost(parameters, X, Y, ["sigmoid"]), rel=1e-12)
    assert cost == pytest.approx(net.cost(X, Y), rel=1e-12)
    for expected in (naive.gradients(parameters, X, Y, ["sigmoid"]), net.gradients(X, Y)):
        np.testing.assert_allclose(grads["dw"], expected["dW1"].T, rtol=1e-10)
        assert grads["db"] == pytest.approx(expected["db1"][0, 0], rel=1e-10)


def _reference(X, Y, w, b, learning_rate, num_iterations):
    start = _as_network_parameters(w, b)
    return gradient_descent(X, Y, start, learning_rate, num_iterations, from_dAL=False)


@pytest.mark.parametrize("num_iterations", [1, 2, 250])
def test_optimize_equals_the_numpy_loop_and_returns_the_last_iterations_grads(rng, num_iterations):
    """Catches grads taken after the last update (or from the first iteration) instead of
    at the parameters the last iteration started from."""
    X, Y = _data(rng)
    w, b = rng.standard_normal((4, 1)) * 0.1, 0.3
    params, grads, costs = logistic.optimize(w, b, X, Y, num_iterations, learning_rate=0.2)
    expected, all_costs, history = _reference(X, Y, w, b, 0.2, num_iterations)
    np.testing.assert_allclose(params["w"], expected["W1"].T, rtol=1e-6, atol=1e-10)
    assert params["b"] == pytest.approx(expected["b1"][0, 0], rel=1e-6, abs=1e-10)
    np.testing.assert_allclose(costs, all_costs[::100], rtol=1e-6)
    last = history[-1]
    expected_grads, _ = logistic.propagate(last["W1"].T, last["b1"][0, 0], X, Y)
    np.testing.assert_allclose(grads["dw"], expected_grads["dw"], rtol=1e-6, atol=1e-12)
    assert grads["db"] == pytest.approx(expected_grads["db"], rel=1e-6, abs=1e-12)
    np.testing.assert_allclose(params["w"], last["W1"].T - 0.2 * grads["dw"], rtol=1e-9, atol=1e-12)
    assert params["w"].shape == (4, 1) and np.isscalar(params["b"]) and np.isscalar(grads["db"])


def test_optimize_does_not_change_the_callers_w(rng):
    X, Y = _data(rng)
    w = np.zeros((4, 1))
    logistic.optimize(w, 0.0, X, Y, 10)
    np.testing.assert_array_equal(w, 0)


def test_optimize_prints_every_100_iterations(rng, capsys):
    X, Y = _data(rng)
    _, _, costs = logistic.optimize(np.zeros((4, 1)), 0.0, X, Y, 201, print_cost=True)
    assert capsys.readouterr().out.splitlines() == [
        f"Cost after iteration {i}: {cost:f}" for i, cost in zip((0, 100, 200), costs)]


def test_optimize_stops_a_diverging_run_with_the_last_good_parameters_and_their_grads(rng):
    """Catches a run that goes on to NaN, or grads that do not belong to the returned params."""
    X, Y = _data(rng)
    with pytest.warns(fastdl.DivergenceWarning, match="too large"):
        params, grads, costs = logistic.optimize(np.zeros((4, 1)), 0.0, X * 1e4, Y, 50,
                                                 learning_rate=1e8)
    assert np.isfinite(params["w"]).all() and np.isfinite(costs).all()
    expected, _ = logistic.propagate(params["w"], params["b"], X * 1e4, Y)
    np.testing.assert_allclose(grads["dw"], expected["dw"], rtol=1e-9)


def test_predict_is_float_labels_at_one_half(rng):
    X, _ = _data(rng)
    w, b = rng.standard_normal((4, 1)), 0.1
    prediction = logistic.predict(w, b, X)
    assert prediction.shape == (1, X.shape[1]) and prediction.dtype == np.float64
    np.testing.assert_array_equal(prediction, (logistic.sigmoid(w.T @ X + b) > 0.5).astype(float))


def test_model_returns_the_notebooks_dict_and_prints_both_accuracies(rng, capsys):
    X, Y = _data(rng, m=40)
    d = logistic.model(X[:, :30], Y[:, :30], X[:, 30:], Y[:, 30:], num_iterations=300,
                       learning_rate=0.5)
    assert sorted(d) == sorted(["costs", "Y_prediction_test", "Y_prediction_train", "w", "b",
                                "learning_rate", "num_iterations"])
    expected, all_costs, _ = _reference(X[:, :30], Y[:, :30], np.zeros((4, 1)), 0.0, 0.5, 300)
    np.testing.assert_allclose(d["w"], expected["W1"].T, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(d["costs"], all_costs[::100], rtol=1e-6)
    assert (d["learning_rate"], d["num_iterations"]) == (0.5, 300)
    np.testing.assert_array_equal(d["Y_prediction_test"], logistic.predict(d["w"], d["b"], X[:, 30:]))
    train = 100 - np.mean(np.abs(d["Y_prediction_train"] - Y[:, :30])) * 100
    test = 100 - np.mean(np.abs(d["Y_prediction_test"] - Y[:, 30:])) * 100
    assert capsys.readouterr().out == f"train accuracy: {train} %\ntest accuracy: {test} %\n"


# -- bad input -------------------------------------------------------------------------------
def test_w_that_does_not_fit_X_is_named(rng):
    X, Y = _data(rng)
    with pytest.raises(ValueError, match=r"^w has shape \(3, 1\) but X has 4 rows: expected w of "
                                         r"shape \(4, 1\)$"):
        logistic.propagate(np.zeros((3, 1)), 0.0, X, Y)


def test_b_must_be_a_number(rng):
    X, Y = _data(rng)
    with pytest.raises(ValueError, match=r"^b must be a finite real number \(the bias\)"):
        logistic.propagate(np.zeros((4, 1)), np.zeros(2), X, Y)


def test_X_test_with_other_features_is_refused_before_training(rng, capsys):
    X, Y = _data(rng)
    with pytest.raises(ValueError, match=r"^X_test has 3 rows but X_train has 4"):
        logistic.model(X, Y, X[:3], Y)
    assert capsys.readouterr().out == ""


def test_Y_test_of_the_wrong_shape_is_refused_before_training(rng):
    X, Y = _data(rng)
    with pytest.raises(ValueError, match=r"^Y_test has shape \(1, 24\) but the \(1, m\) row for "
                                         r"the columns of X_test has shape \(1, 25\)$"):
        logistic.model(X, Y, X, Y[:, 1:])
