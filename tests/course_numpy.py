"""The course's training loops in plain numpy: what fastdl.compat's training functions must equal.

Written from the formulas, one iteration = forward, cost, backward, then the update, with
every cost kept (the functions under test keep every 100th or 1000th). Nothing from
fastdl is used here.
"""
import numpy as np

HIDDEN = {
    "relu": (lambda Z: np.maximum(0, Z), lambda Z, A: (Z > 0).astype(float)),
    "tanh": (np.tanh, lambda Z, A: 1 - A ** 2),
}


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def gradient_descent(X, Y, parameters, learning_rate, num_iterations, hidden="relu", from_dAL=True):
    """``(parameters, costs, history)`` after ``num_iterations`` iterations of the course's loop.

    ``costs`` holds the cost of every iteration, before its update; ``history[i]`` the
    parameters iteration i starts from. ``from_dAL`` starts backpropagation from the deep
    notebook's dAL = −(Y/AL − (1 − Y)/(1 − AL)) through σ'; otherwise from dZ[L] = AL − Y, as
    the shallow and logistic notebooks do.
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    params = {key: np.array(value, dtype=float) for key, value in parameters.items()}
    L, m = len(params) // 2, X.shape[1]
    g, g_prime = HIDDEN[hidden]
    costs, history = [], []
    for _ in range(num_iterations):
        history.append({key: value.copy() for key, value in params.items()})
        A, cache = X, []
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            cache.append((A, Z))
            A = _sigmoid(Z) if l == L else g(Z)
        costs.append(float(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m))
        dZ = -(Y / A - (1 - Y) / (1 - A)) * A * (1 - A) if from_dAL else A - Y
        grads = {}
        for l in range(L, 0, -1):
            A_prev, _ = cache[l - 1]
            grads[l] = (dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m)
            if l > 1:
                Z_prev = cache[l - 2][1]
                dZ = (params[f"W{l}"].T @ dZ) * g_prime(Z_prev, g(Z_prev))
        for l, (dW, db) in grads.items():
            params[f"W{l}"] = params[f"W{l}"] - learning_rate * dW
            params[f"b{l}"] = params[f"b{l}"] - learning_rate * db
    return params, costs, history


def assert_same_parameters(actual, expected, rtol=1e-6, atol=1e-10):
    """Every key of ``expected`` in ``actual``, with the same shape and values."""
    assert sorted(actual) == sorted(expected)
    for key in expected:
        assert np.shape(actual[key]) == np.shape(expected[key]), key
        np.testing.assert_allclose(actual[key], expected[key], rtol=rtol, atol=atol, err_msg=key)
