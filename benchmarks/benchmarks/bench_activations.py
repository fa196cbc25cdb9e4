"""Activation kernels alone: A = g(lin + b) forward, dZ = dA * g'(Z) with db backward.

"numpy" runs the functions of :mod:`fastdl.activations` (what the reference engine
calls); "cython" runs the compiled per-kernel callables of ``fastdl._kernels``, which
fuse the bias, and on the way back the row sum for db, into the same pass. The shape is
a hidden layer of 256 units on a batch of 4096: large enough that the loop, not the
call, is measured.
"""
import numpy as np

from fastdl import activations
from fastdl.activations import DEFAULT_LEAKY_SLOPE

from .common import BACKENDS, DTYPES, TIMER, require_backend

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu"]
SHAPE = (256, 4096)


def _kernels(*names):
    """The compiled module, if it exposes every kernel in ``names`` (else skip)."""
    try:
        from fastdl import _kernels
    except ImportError as error:
        raise NotImplementedError(f"fastdl._kernels is not built: {error}") from error
    missing = [name for name in names if not hasattr(_kernels, name)]
    if missing:
        raise NotImplementedError(f"fastdl._kernels does not expose {missing}")
    return _kernels


def _inputs(dtype):
    """lin = W A_prev, b and dA for one layer; the same numbers for every benchmark."""
    rng = np.random.default_rng(0)
    lin = rng.standard_normal(SHAPE).astype(dtype)
    b = rng.standard_normal((SHAPE[0], 1)).astype(dtype)
    dA = rng.standard_normal(SHAPE).astype(dtype)
    return lin, b, dA


def _numpy_function(activation, derivative=False):
    table = activations.DERIVATIVES if derivative else activations.ACTIVATIONS
    return table[activation]


class ActivationForward:
    """A[l] = g(W[l] A[l−1] + b[l]) from the product W A_prev: bias and activation."""

    params = [BACKENDS, DTYPES, ACTIVATIONS]
    param_names = ["backend", "dtype", "activation"]
    timer = TIMER

    def setup(self, backend, dtype, activation):
        require_backend(backend)
        lin, b, _ = _inputs(dtype)
        if backend == "numpy":
            g = _numpy_function(activation)
            self.forward = lambda: g(lin + b)
        else:
            k = _kernels("activation_forward", "ACTIVATION_CODES")
            code, A = k.ACTIVATION_CODES[activation], np.empty_like(lin)
            self.forward = lambda: k.activation_forward(code, lin, b, A, DEFAULT_LEAKY_SLOPE)

    def time_activation_forward(self, backend, dtype, activation):
        self.forward()


class ActivationBackward:
    """dZ[l] = dA[l] * g'(Z[l]) and db[l] = (1/m) Σ_rows dZ[l].

    numpy takes g' from Z (the reference functions); the compiled kernel takes it from
    A = g(Z), which it has already, in the same pass as the row sum.
    """

    params = [BACKENDS, DTYPES, ACTIVATIONS]
    param_names = ["backend", "dtype", "activation"]
    timer = TIMER

    def setup(self, backend, dtype, activation):
        require_backend(backend)
        Z, _, dA = _inputs(dtype)
        m = Z.shape[1]
        if backend == "numpy":
            g_prime = _numpy_function(activation, derivative=True)

            def backward():
                dZ = dA * g_prime(Z)
                return dZ, np.sum(dZ, axis=1, keepdims=True) / m

            self.backward = backward
        else:
            k = _kernels("activation_backward", "ACTIVATION_CODES")
            code = k.ACTIVATION_CODES[activation]
            A = np.ascontiguousarray(_numpy_function(activation)(Z))
            dZ, db = np.empty_like(Z), np.empty((Z.shape[0], 1), dtype=Z.dtype)
            self.backward = lambda: k.activation_backward(code, dA, A, dZ, db, DEFAULT_LEAKY_SLOPE)

    def time_activation_backward(self, backend, dtype, activation):
        self.backward()
