"""The course's shallow-network helpers: one tanh hidden layer, a sigmoid output.

Same names, signatures, return values and printed lines as the course's planar-data
notebook. The per-call helpers are plain numpy, with every shape checked first;
``nn_model`` runs its iterations in fastdl's engine, as one :meth:`fastdl.Network.fit` call.
One example per column: X is ``(n_x, m)``, Y ``(n_y, m)``.
"""
import numpy as np

from ..activations import sigmoid as _sigmoid
from . import _checks, _engine
from .deep import _cross_entropy, _update

__all__ = [
    "layer_sizes", "initialize_parameters", "forward_propagation", "compute_cost",
    "backward_propagation", "update_parameters", "nn_model", "predict", "load_planar_dataset",
]

LINE = "Cost after iteration {i}: {cost:f}"  # the notebook's "%i: %f"
HIDDEN_UNITS = 4


def layer_sizes(X, Y):
    """``(n_x, 4, n_y)``: the input size, the notebook's 4 hidden units, the output size."""
    X, Y = _checks.array("X", X), _checks.array("Y", Y)
    return X.shape[0], HIDDEN_UNITS, Y.shape[0]


def initialize_parameters(n_x, n_h, n_y):
    """W1 = randn(n_h, n_x) · 0.01 then W2 = randn(n_y, n_h) · 0.01 from numpy's global
    generator (seeded by the caller: ``nn_model`` seeds it with 3); zero biases."""
    n_x, n_h, n_y = (_checks.dimension(k, n) for k, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    _checks.parameter_memory([n_x, n_h, n_y], "initialize_parameters")
    W1 = np.random.randn(n_h, n_x) * 0.01
    W2 = np.random.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def _two_layers(parameters):
    L = _checks.parameter_count(parameters)
    if L != 2:
        raise ValueError(f"parameters must hold W1, b1, W2, b2 (one hidden layer); got L = {L} layers")


def forward_propagation(X, parameters):
    """``(A2, cache)``: A1 = tanh(W1 X + b1), A2 = σ(W2 A1 + b2); cache keys Z1, A1, Z2, A2."""
    _two_layers(parameters)
    W1, b1, X = _checks.layer("W1", parameters["W1"], "b1", parameters["b1"], "X", X, " (layer 1)")
    Z1 = np.dot(W1, X) + b1
    A1 = np.tanh(Z1)
    W2, b2, A1 = _checks.layer("W2", parameters["W2"], "b2", parameters["b2"], "A1", A1, " (layer 2)")
    Z2 = np.dot(W2, A1) + b2
    A2 = _sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2, Y):
    """J = −(1/m) Σ [Y log A2 + (1 − Y) log(1 − A2)], as a float."""
    return float(_cross_entropy(A2, Y, "A2"))


def backward_propagation(parameters, cache, X, Y):
    """``{'dW1', 'db1', 'dW2', 'db2'}``: dZ2 = A2 − Y, dZ1 = W2ᵀ dZ2 · (1 − A1²) from the
    cached A1 (tanh' = 1 − tanh²), dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_rows dZ."""
    _two_layers(parameters)
    if not isinstance(cache, dict) or not {"A1", "A2"} <= cache.keys():
        raise ValueError("cache must be the dict forward_propagation returns, with A1 and A2")
    W1, _, X = _checks.layer("W1", parameters["W1"], "b1", parameters["b1"], "X", X, " (layer 1)")
    W2, _, A1 = _checks.layer("W2", parameters["W2"], "b2", parameters["b2"],
                              "cache['A1']", cache["A1"], " (layer 2)")
    _checks.same_shape("cache['A1']", A1, "W1 X", np.empty((W1.shape[0], X.shape[1])))
    A2 = _checks.probabilities("cache['A2']", cache["A2"])
    _checks.same_shape("cache['A2']", A2, "W2 A1", np.empty((W2.shape[0], X.shape[1])))
    Y = _checks.labels("Y", Y, "cache['A2']", A2)
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = 1 / m * np.dot(dZ2, A1.T)
    db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
    dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
    dW1 = 1 / m * np.dot(dZ1, X.T)
    db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters, grads, learning_rate=1.2):
    """W − α dW and b − α db for both layers, as new arrays (the caller's stay unchanged)."""
    _two_layers(parameters)
    return _update(parameters, grads, learning_rate, "parameters")


def nn_model(X, Y, n_h, num_iterations=10000, print_cost=False):
    """The trained parameters of the tanh network, after ``np.random.seed(3)`` and
    :func:`initialize_parameters`, at learning rate 1.2.

    With ``print_cost``, "Cost after iteration i: <cost>" every 1000 iterations. The
    iterations run in fastdl's engine (one ``Network.fit`` call), in float64, with the
    values of the notebook's numpy loop; Y may be ints or bools. A diverging cost stops
    training with a :class:`fastdl.DivergenceWarning` and keeps the last good parameters.
    """
    n_h = _checks.dimension("n_h", n_h)
    _checks.iterations(num_iterations)
    np.random.seed(3)
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = initialize_parameters(n_x, n_h, n_y)
    log = _engine.CostLog(1000, 1000 if print_cost else None, LINE)
    return _engine.train(parameters, X, Y, "tanh", 1.2, num_iterations, log)


def predict(parameters, X):
    """Boolean predictions ``A2 > 0.5``, shape (n_y, m)."""
    _two_layers(parameters)
    return _engine.network_for(parameters, "tanh").forward(X) > 0.5


def load_planar_dataset():
    """``(X, Y)``: the two-class "flower", X of shape (2, 400), Y (1, 400) of 0.0/1.0.

    Seeds numpy's global generator with 1, as the notebook does; for class j = 0, 1 (200
    points each) t = linspace(3.12 j, 3.12 (j + 1), 200) + 0.2 randn, r = 4 sin(4t) +
    0.2 randn, and the points are (r sin t, r cos t).
    """
    np.random.seed(1)
    per_class, a = 200, 4
    X, Y = np.zeros((2, 2 * per_class)), np.zeros((1, 2 * per_class))
    for j in range(2):
        columns = slice(per_class * j, per_class * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, per_class) + np.random.randn(per_class) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(per_class) * 0.2
        X[:, columns] = r * np.sin(t), r * np.cos(t)
        Y[:, columns] = j
    return X, Y
