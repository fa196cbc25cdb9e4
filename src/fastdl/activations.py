"""Activation functions g and their derivatives g', callable on numpy arrays.

Each name maps to a function and a derivative in the tables ``ACTIVATIONS`` and
``DERIVATIVES``. Derivatives take ``z`` (the seed's ``g'(z)``); the engines use the
cheaper forms written from the output ``a = g(z)`` where one exists:
σ' = a(1 − a), tanh' = 1 − a², ReLU' = [a > 0].
"""
from collections import namedtuple

import numpy as np

__all__ = [
    "ACTIVATIONS", "DERIVATIVES", "NAMES", "Activation", "get", "resolve", "name_of",
    "sigmoid", "sigmoid_derivative", "tanh", "tanh_derivative",
    "relu", "relu_derivative", "leaky_relu", "leaky_relu_derivative",
    "linear", "linear_derivative", "softmax", "exp", "OUTPUT_NAMES",
]

DEFAULT_LEAKY_SLOPE = 0.01


def _float(z):
    """``z`` as a floating array: float32 and float64 stay as they are, the rest become float64."""
    z = np.asarray(z)
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def sigmoid(z):
    """σ(z) = 1 / (1 + e^(−z)), written so that no exp overflows for large |z|."""
    z = _float(z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(z):
    """σ'(z) = σ(z)(1 − σ(z)); equals 1/4 at z = 0."""
    s = sigmoid(z)
    return s * (1 - s)


def tanh(z):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z))."""
    return np.tanh(_float(z))


def tanh_derivative(z):
    """tanh'(z) = 1 − tanh(z)²; equals 1 at z = 0."""
    t = np.tanh(_float(z))
    return 1 - t * t


def relu(z):
    """ReLU(z) = max(0, z)."""
    return np.maximum(_float(z), 0)


def relu_derivative(z):
    """1 where z > 0, else 0 (the value 0 is used at the kink z = 0)."""
    z = _float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, slope=DEFAULT_LEAKY_SLOPE):
    """max(slope·z, z) for 0 ≤ slope < 1: a small gradient survives for z < 0."""
    z = _float(z)
    return np.where(z > 0, z, z * z.dtype.type(slope))


def leaky_relu_derivative(z, slope=DEFAULT_LEAKY_SLOPE):
    """1 where z > 0, else ``slope``."""
    z = _float(z)
    return np.where(z > 0, 1, slope).astype(z.dtype)


def linear(z):
    """The identity, for regression outputs."""
    return _float(z).copy()


def linear_derivative(z):
    """1 everywhere."""
    return np.ones_like(_float(z))


def softmax(z):
    """Column-wise softmax, e^(z_k) / Σ_j e^(z_j) for each example; output layers only.

    The column maximum is subtracted first, which leaves the result unchanged and keeps
    every exponent ≤ 0 so nothing overflows.
    """
    z = _float(z)
    e = np.exp(z - np.max(z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def exp(z):
    """e^z: the output of a Poisson regression (a mean count, always > 0); output layers
    only, trained with the Poisson deviance."""
    return np.exp(_float(z))


ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "linear": linear,
}

DERIVATIVES = {
    "sigmoid": sigmoid_derivative,
    "tanh": tanh_derivative,
    "relu": relu_derivative,
    "leaky_relu": leaky_relu_derivative,
    "linear": linear_derivative,
}

NAMES = sorted(ACTIVATIONS)

# Activations that only make sense on the output layer: softmax is not elementwise, and exp
# is the inverse link of a Poisson target (it would overflow in a hidden layer).
OUTPUT_ONLY = {"softmax": softmax, "exp": exp}
OUTPUT_NAMES = sorted(ACTIVATIONS.keys() | OUTPUT_ONLY.keys())

Activation = namedtuple("Activation", ["name", "function", "derivative"])


def resolve(activation, leaky_slope=DEFAULT_LEAKY_SLOPE):
    """``(g, g')`` as functions of z for a name or a :class:`fastdl.jit.CustomActivation`."""
    if not isinstance(activation, str):
        return activation, activation.prime
    if activation == "exp":
        return exp, exp
    if activation in OUTPUT_ONLY:
        return OUTPUT_ONLY[activation], None  # its gradient is taken with the loss: A − Y
    if activation == "leaky_relu":
        return (lambda z: leaky_relu(z, leaky_slope)), (lambda z: leaky_relu_derivative(z, leaky_slope))
    return ACTIVATIONS[activation], DERIVATIVES[activation]


def name_of(activation):
    """The name of a built-in or custom activation."""
    return activation if isinstance(activation, str) else activation.name


def get(name):
    """The ``Activation(name, function, derivative)`` registered under ``name``."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation {name!r} is not supported; expected one of {NAMES}")
    return Activation(name, ACTIVATIONS[name], DERIVATIVES[name])
