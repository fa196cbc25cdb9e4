"""The course's logistic-regression helpers: ŷ = σ(wᵀx + b), cross-entropy, gradient descent.

Same names, signatures, return values and printed lines as the course's logistic-regression
notebook. ``w`` is a column ``(n_x, 1)`` and ``b`` a number; X is ``(n_x, m)``, Y ``(1, m)``.
``sigmoid``, ``propagate`` and ``predict`` are plain numpy, with every shape checked first;
``optimize`` and ``model`` run their iterations in fastdl's engine (logistic regression is
the L = 1 network), as one :meth:`fastdl.Network.fit` call.
"""
import numpy as np

from .. import activations as _g
from .._losses import data_cost
from . import _checks, _engine
from ._h5 import load_cat_dataset

__all__ = ["sigmoid", "initialize_with_zeros", "propagate", "optimize", "predict", "model",
           "load_dataset"]

LINE = "Cost after iteration {i}: {cost:f}"  # the notebook's "%i: %f"


def sigmoid(z):
    """σ(z) = 1 / (1 + e^−z) of a number or an array, without overflow for large |z|."""
    s = _g.sigmoid(_checks.array("z", z, ndim=None, finite=False))
    return s[()] if s.ndim == 0 else s


def initialize_with_zeros(dim):
    """``(w, b)``: w zeros of shape (dim, 1), b = 0.0 (zeros are fine without hidden layers)."""
    dim = _checks.dimension("dim", dim)
    _checks.parameter_memory([dim, 1], "initialize_with_zeros")
    return np.zeros((dim, 1)), 0.0


def _bias(b):
    values = np.asarray(b)
    if values.size != 1 or values.dtype.kind not in "biuf" or not np.isfinite(values).all():
        raise ValueError(f"b must be a finite real number (the bias); got {b!r}")
    return float(values.reshape(-1)[0])


def _check(w, b, X, X_name="X"):
    """w as a (n_x, 1) column that fits X, b as a float."""
    w, X = _checks.array("w", w), _checks.array(X_name, X)
    if w.shape != (X.shape[0], 1):
        raise ValueError(f"w has shape {w.shape} but {X_name} has {X.shape[0]} rows: "
                         f"expected w of shape ({X.shape[0]}, 1)")
    return w, _bias(b), X


def propagate(w, b, X, Y):
    """``({'dw': (n_x, 1), 'db': number}, cost)``, the cost a 0-d value.

    A = σ(wᵀX + b), J = −(1/m) Σ [Y log A + (1 − Y) log(1 − A)] (taken from Z, so it stays
    finite where A rounds to 0 or 1), dw = (1/m) X (A − Y)ᵀ, db = (1/m) Σ (A − Y).
    """
    w, b, X = _check(w, b, X)
    Z = np.dot(w.T, X) + b
    A = _g.sigmoid(Z)
    Y = _checks.labels("Y", Y, "wᵀX + b", A)
    m = X.shape[1]
    dZ = A - Y
    grads = {"dw": 1 / m * np.dot(X, dZ.T), "db": np.float64(1 / m * np.sum(dZ))}
    return grads, np.float64(data_cost("cross_entropy", Z, A, Y))


def optimize(w, b, X, Y, num_iterations=100, learning_rate=0.009, print_cost=False):
    """``(params, grads, costs)`` after ``num_iterations`` steps of gradient descent.

    ``params`` is ``{'w', 'b'}``; ``grads`` (``{'dw', 'db'}``) are those of the last
    iteration, taken at its parameters, before its update; ``costs`` holds the costs of
    iterations 0, 100, 200, ..., and with ``print_cost`` each is printed as "Cost after
    iteration i: <cost>". The iterations run in fastdl's engine, in float64; Y may be ints
    or bools. A cost that stops being finite or explodes stops training with a
    :class:`fastdl.DivergenceWarning`; params are then the last good ones and grads theirs.
    """
    w, b, X = _check(w, b, X)
    num_iterations = _checks.iterations(num_iterations)
    net = _engine.network_for({"W1": w.T, "b1": [[b]]}, hidden="relu")  # L = 1: no hidden layer
    log = _engine.CostLog(100, 100 if print_cost else None, LINE)
    # The last iteration's own parameters, copied once; its gradients are taken from them
    # after fit (one more gradient pass), not by copying the parameters every iteration.
    before_last = _engine.KeepBefore(net, num_iterations - 1)
    history = _engine.fit(net, X, Y, learning_rate, num_iterations, [log, before_last])
    final = net.parameters
    if history.stop_reason == "finished":
        net.set_parameters(before_last.parameters)
    gradients = net.gradients(X, Y)
    params = {"w": final["W1"].T.copy(), "b": np.float64(final["b1"][0, 0])}
    grads = {"dw": gradients["dW1"].T.copy(), "db": np.float64(gradients["db1"][0, 0])}
    return params, grads, log.costs


def predict(w, b, X):
    """0/1 predictions (float, shape (1, m)): 1 where σ(wᵀX + b) > 0.5."""
    w, b, X = _check(w, b, X)
    return (_g.sigmoid(np.dot(w.T, X) + b) > 0.5).astype(np.float64)


def _accuracy(Y_prediction, Y):
    """The notebook's percentage: 100 − mean(|prediction − Y|) · 100."""
    return 100 - np.mean(np.abs(Y_prediction - Y)) * 100


def model(X_train, Y_train, X_test, Y_test, num_iterations=2000, learning_rate=0.5, print_cost=False):
    """Logistic regression from zeros: :func:`optimize`, then predictions on both sets.

    Prints "train accuracy: <a> %" and "test accuracy: <a> %". Returns a dict with
    ``costs``, ``Y_prediction_test``, ``Y_prediction_train``, ``w``, ``b``,
    ``learning_rate`` and ``num_iterations``.
    """
    X_train, X_test = _checks.array("X_train", X_train), _checks.array("X_test", X_test)
    if X_test.shape[0] != X_train.shape[0]:
        raise ValueError(f"X_test has {X_test.shape[0]} rows but X_train has {X_train.shape[0]}: "
                         f"both hold one example per column with the same n_x features")
    Y_train = _checks.row_labels("Y_train", Y_train, "X_train", X_train)
    Y_test = _checks.row_labels("Y_test", Y_test, "X_test", X_test)
    w, b = initialize_with_zeros(X_train.shape[0])
    params, _, costs = optimize(w, b, X_train, Y_train, num_iterations, learning_rate, print_cost)
    w, b = params["w"], params["b"]
    Y_prediction_test, Y_prediction_train = predict(w, b, X_test), predict(w, b, X_train)
    print(f"train accuracy: {_accuracy(Y_prediction_train, Y_train)} %")
    print(f"test accuracy: {_accuracy(Y_prediction_test, Y_test)} %")
    return {"costs": costs, "Y_prediction_test": Y_prediction_test,
            "Y_prediction_train": Y_prediction_train, "w": w, "b": b,
            "learning_rate": learning_rate, "num_iterations": num_iterations}


def load_dataset(directory="datasets"):
    """``(train_set_x_orig, train_set_y, test_set_x_orig, test_set_y, classes)``, as
    :func:`fastdl.compat.deep.load_data` (the same two cat / non-cat files)."""
    return load_cat_dataset(directory)
