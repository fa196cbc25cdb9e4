"""The course's L-layer helpers: ReLU hidden layers, a sigmoid output, cross-entropy.

Same names, signatures, return values and printed lines as the course's deep-network
helper file. The per-call helpers (``sigmoid`` ... ``update_parameters``) are plain numpy,
with every shape checked first; ``two_layer_model`` and ``L_layer_model`` run their
iterations in fastdl's engine, as one :meth:`fastdl.Network.fit` call.

One example per column: X is ``(n_x, m)``, Y ``(1, m)``, W[l] ``(n[l], n[l−1])``, b[l]
``(n[l], 1)``.
"""
import warnings

import numpy as np
from scipy.special import xlogy

from .. import activations as _g
from . import _checks, _engine
from ._h5 import load_cat_dataset

__all__ = [
    "sigmoid", "relu", "relu_backward", "sigmoid_backward", "initialize_parameters",
    "initialize_parameters_deep", "linear_forward", "linear_activation_forward",
    "L_model_forward", "compute_cost", "linear_backward", "linear_activation_backward",
    "L_model_backward", "update_parameters", "predict", "two_layer_model", "L_layer_model",
    "load_data",
]

LINE = "Cost after iteration {i}: {cost}"  # the course prints the cost's full repr


# -- activations ---------------------------------------------------------------------------
def sigmoid(Z):
    """``(A, cache)``: A = 1 / (1 + e^−Z), computed without overflow; cache = Z."""
    Z = _checks.array("Z", Z, ndim=None, finite=False)
    return _g.sigmoid(Z), Z


def relu(Z):
    """``(A, cache)``: A = max(0, Z); cache = Z."""
    Z = _checks.array("Z", Z, ndim=None, finite=False)
    return np.maximum(0, Z), Z


def relu_backward(dA, cache):
    """dZ = dA where Z > 0, else 0 (ReLU's derivative, 0 at the kink)."""
    dA, Z = _activation_inputs(dA, cache)
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def sigmoid_backward(dA, cache):
    """dZ = dA · s(1 − s) with s = σ(Z)."""
    dA, Z = _activation_inputs(dA, cache)
    s = _g.sigmoid(Z)
    return dA * s * (1 - s)


def _activation_inputs(dA, cache):
    dA = _checks.array("dA", dA, ndim=None)
    Z = _checks.array("cache (Z)", cache, ndim=None, finite=False)
    _checks.same_shape("dA", dA, "cache (Z)", Z)
    return dA, Z


ACTIVATIONS = {"relu": (relu, relu_backward), "sigmoid": (sigmoid, sigmoid_backward)}


def _activation(activation):
    return _checks.check_choice("activation", activation, ACTIVATIONS)


# -- initialisation ------------------------------------------------------------------------
def initialize_parameters(n_x, n_h, n_y):
    """W1, b1, W2, b2 for a two-layer network: ``np.random.seed(1)``, then W1 and W2 drawn
    in that order as ``np.random.randn(...) * 0.01``; zero biases."""
    n_x, n_h, n_y = (_checks.dimension(k, n) for k, n in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)))
    _checks.parameter_memory([n_x, n_h, n_y], "initialize_parameters")
    randn = _engine.seeded_randn(1)
    W1 = randn(n_h, n_x) * 0.01
    W2 = randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def initialize_parameters_deep(layer_dims):
    """W[l] = ``np.random.randn(n[l], n[l−1]) / np.sqrt(n[l−1])`` for l = 1..L after
    ``np.random.seed(1)``; zero biases."""
    dims = _checks.sizes("layer_dims", layer_dims)
    _checks.parameter_memory(dims, "initialize_parameters_deep")
    randn = _engine.seeded_randn(1)
    parameters = {}
    for l in range(1, len(dims)):
        parameters[f"W{l}"] = randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


# -- forward -------------------------------------------------------------------------------
def linear_forward(A, W, b):
    """``(Z, (A, W, b))`` with Z = W A + b."""
    W, b, A = _checks.layer("W", W, "b", b, "A", A)
    return np.dot(W, A) + b, (A, W, b)


def _forward(A_prev, W, b, activation, names=("A_prev", "W", "b"), where=""):
    W, b, A_prev = _checks.layer(names[1], W, names[2], b, names[0], A_prev, where)
    Z = np.dot(W, A_prev) + b
    A = _g.sigmoid(Z) if activation == "sigmoid" else np.maximum(0, Z)
    return A, ((A_prev, W, b), Z)


def linear_activation_forward(A_prev, W, b, activation):
    """``(A, (linear_cache, Z))``: A = g(W A_prev + b) for ``activation`` "sigmoid" or "relu"."""
    return _forward(A_prev, W, b, _activation(activation))


def L_model_forward(X, parameters):
    """``(AL, caches)``: ReLU for layers 1..L−1, sigmoid for L = len(parameters) // 2;
    one ``(linear_cache, Z)`` per layer."""
    L = _checks.parameter_count(parameters)
    A, caches = X, []
    for l in range(1, L + 1):
        names = ("X" if l == 1 else "A_prev", f"W{l}", f"b{l}")
        A, cache = _forward(A, parameters[f"W{l}"], parameters[f"b{l}"],
                            "sigmoid" if l == L else "relu", names, f" (layer {l})")
        caches.append(cache)
    return A, caches


def compute_cost(AL, Y):
    """J = −(1/m) Σ [Y log AL + (1 − Y) log(1 − AL)], a 0-d value.

    0 · log 0 counts as 0. Where AL is exactly 0 (or 1) for a label 1 (or 0), J is
    infinite, as it is in the course's code; a RuntimeWarning then says where.
    """
    return _cross_entropy(AL, Y, "AL")


def _cross_entropy(AL, Y, name):
    AL = _checks.probabilities(name, AL)
    Y = _checks.labels("Y", Y, name, AL)
    m = Y.shape[1]
    cost = np.float64((-1 / m) * np.sum(xlogy(Y, AL) + xlogy(1 - Y, 1 - AL)))
    if not np.isfinite(cost):
        i, j = np.argwhere(((AL == 0) & (Y > 0)) | ((AL == 1) & (Y < 1)))[0]
        warnings.warn(f"the cost is infinite: {name} is exactly {float(AL[i, j])!r} at [{i}, {j}] "
                      f"where Y is {float(Y[i, j])!r} (the sigmoid saturated)", RuntimeWarning,
                      stacklevel=3)
    return cost


# -- backward ------------------------------------------------------------------------------
def _linear_cache(cache, where=""):
    if not isinstance(cache, (tuple, list)) or len(cache) != 3:
        raise ValueError(f"linear cache{where} must be (A_prev, W, b) as linear_forward returns it; "
                         f"got {type(cache).__name__}")
    A_prev, W, b = cache
    W, b, A_prev = _checks.layer("W", W, "b", b, "A_prev", A_prev, where)
    return A_prev, W, b


def _backward(dZ, cache, where=""):
    A_prev, W, b = _linear_cache(cache, where)
    dZ = _checks.array("dZ", dZ)
    if dZ.shape != (W.shape[0], A_prev.shape[1]):
        raise ValueError(f"dZ has shape {dZ.shape} but the cache's W has {W.shape[0]} rows and "
                         f"A_prev {A_prev.shape[1]} columns{where}: expected "
                         f"{(W.shape[0], A_prev.shape[1])}")
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    return np.dot(W.T, dZ), dW, db


def linear_backward(dZ, cache):
    """``(dA_prev, dW, db)``: dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_rows dZ, dA_prev = Wᵀ dZ."""
    return _backward(dZ, cache)


def _activation_backward(dA, cache, activation, where=""):
    if not isinstance(cache, (tuple, list)) or len(cache) != 2:
        raise ValueError(f"cache{where} must be (linear_cache, Z) as linear_activation_forward "
                         f"returns it; got {type(cache).__name__}")
    linear_cache, Z = cache
    dZ = ACTIVATIONS[activation][1](dA, Z)
    return _backward(dZ, linear_cache, where)


def linear_activation_backward(dA, cache, activation):
    """``(dA_prev, dW, db)`` through g' of ``activation`` ("sigmoid" or "relu"), then linear_backward."""
    return _activation_backward(dA, cache, _activation(activation))


def L_model_backward(AL, Y, caches):
    """``grads`` with dA0 .. dA{L−1}, dW1 .. dWL, db1 .. dbL, from
    dAL = −(Y/AL − (1 − Y)/(1 − AL)) through the sigmoid and then the ReLU layers.

    AL must lie strictly inside (0, 1): where the sigmoid saturated, dAL divides by zero.
    """
    if not isinstance(caches, (tuple, list)) or not caches:
        raise ValueError("caches must be the non-empty list that L_model_forward returns")
    L = len(caches)
    AL = _checks.probabilities("AL", AL, open_interval=True)
    Y = _checks.labels("Y", Y, "AL", AL)
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    grads = {}
    for l in reversed(range(1, L + 1)):
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = _activation_backward(
            dA, caches[l - 1], "sigmoid" if l == L else "relu", f" (caches[{l - 1}], layer {l})")
        grads[f"dA{l - 1}"] = dA = dA_prev
    return grads


def update_parameters(params, grads, learning_rate):
    """W[l] − α dW[l] and b[l] − α db[l] as new arrays; the caller's arrays are unchanged."""
    return _update(params, grads, learning_rate, "params")


def _update(params, grads, learning_rate, name):
    L = _checks.parameter_count(params, name)
    learning_rate = _checks.check_positive("learning_rate", learning_rate)
    updated = {}
    for l, (dW, db) in enumerate(_checks.gradient_pairs(params, grads, L), start=1):
        updated[f"W{l}"] = _checks.array(f"W{l}", params[f"W{l}"]) - learning_rate * dW
        updated[f"b{l}"] = _checks.array(f"b{l}", params[f"b{l}"]) - learning_rate * db
    return updated


# -- models --------------------------------------------------------------------------------
def predict(X, y, parameters):
    """0/1 predictions (float, shape (1, m)) at the 0.5 threshold; prints "Accuracy: ..."."""
    probas = _engine.network_for(parameters, "relu").forward(X)
    p = (probas > 0.5).astype(np.float64)
    y = _checks.labels("y", y, "the prediction p", p)
    print("Accuracy: " + str(np.sum((p == y) / p.shape[1])))
    return p


def _train(X, Y, parameters, learning_rate, num_iterations, print_cost):
    log = _engine.CostLog(100, 100 if print_cost else None, LINE, last=num_iterations - 1)
    parameters = _engine.train(parameters, X, Y, "relu", learning_rate, num_iterations, log)
    return parameters, log.costs


def two_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """LINEAR → RELU → LINEAR → SIGMOID, ``layers_dims = (n_x, n_h, n_y)``, from
    :func:`initialize_parameters`; returns and prints as :func:`L_layer_model` does."""
    n_x, n_h, n_y = _checks.sizes("layers_dims", layers_dims, length=3)
    _checks.iterations(num_iterations)
    return _train(X, Y, initialize_parameters(n_x, n_h, n_y), learning_rate, num_iterations,
                  print_cost)


def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
    """[LINEAR → RELU] × (L−1) → LINEAR → SIGMOID, from :func:`initialize_parameters_deep`.

    Returns ``(parameters, costs)``: costs of iterations 0, 100, 200, ...; with
    ``print_cost``, "Cost after iteration i: <cost>" every 100 iterations and at the last.
    Values equal the course's numpy loop (to about 1e-12); the iterations run in fastdl's
    engine, as one ``Network.fit`` call. Computed in float64 (as numpy computes the course's
    code); Y may be ints or bools. A cost that stops being finite or explodes stops training
    with a :class:`fastdl.DivergenceWarning`, returning the last good parameters and the
    costs so far, where the course's loop would carry on with NaN.
    """
    layers_dims = _checks.sizes("layers_dims", layers_dims)
    _checks.iterations(num_iterations)
    return _train(X, Y, initialize_parameters_deep(layers_dims), learning_rate, num_iterations,
                  print_cost)


def load_data(directory="datasets"):
    """``(train_x_orig, train_y, test_x_orig, test_y, classes)`` from the course's
    train_catvnoncat.h5 and test_catvnoncat.h5 in ``directory``; y of shape (1, m).

    Needs h5py: ``pip install "fastdl[course]"``. The data is not shipped with fastdl.
    """
    return load_cat_dataset(directory)
