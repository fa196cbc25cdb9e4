"""The reference engine: the seed's formulas in plain numpy, one function per formula.

This is the executable specification every compiled engine is tested against, so it
favours obviousness over speed: it allocates freely and caches (A_prev, W, b, Z) per layer.
"""
import numpy as np

from ._losses import COSTS, OUTPUT_DELTAS
from .activations import resolve


def linear_forward(A_prev, W, b):
    """Z[l] = W[l] A[l−1] + b[l]."""
    return W @ A_prev + b


def activation_forward(Z, name, leaky_slope):
    """A[l] = g[l](Z[l])."""
    return resolve(name, leaky_slope)[0](Z)


def forward_propagation(params, X, activations, leaky_slope):
    """A[L] and the per-layer caches ``(A_prev, W, b, Z)`` that backward needs."""
    A = X
    caches = []
    for (W, b), name in zip(params, activations):
        Z = linear_forward(A, W, b)
        caches.append((A, W, b, Z))
        A = activation_forward(Z, name, leaky_slope)
    return A, caches


def activation_backward(dA, Z, name, leaky_slope):
    """dZ[l] = dA[l] * g[l]'(Z[l])."""
    return dA * resolve(name, leaky_slope)[1](Z)


def linear_backward(dZ, A_prev, W, *, need_dA_prev=True):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_rows dZ, dA_prev = Wᵀ dZ (skipped for the input)."""
    m = A_prev.shape[1]
    dW = (dZ @ A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db


def backward_propagation(AL, Y, caches, activations, leaky_slope, loss):
    """Gradients ``[(dW1, db1), ..., (dWL, dbL)]`` of the cost by backpropagation."""
    L = len(caches)
    grads = [None] * L
    A_prev, W, _, ZL = caches[-1]
    dZ = OUTPUT_DELTAS[loss](ZL, AL, Y, activations[-1], leaky_slope)
    for l in reversed(range(L)):
        A_prev, W, _, Z = caches[l]
        if l < L - 1:
            dZ = activation_backward(dA, Z, activations[l], leaky_slope)
        dA, dW, db = linear_backward(dZ, A_prev, W, need_dA_prev=l > 0)
        grads[l] = (dW, db)
    return grads


def compute_cost(AL, Y, ZL, loss):
    """J, the mean loss over the m examples."""
    return COSTS[loss](ZL, AL, Y)


class NumpyEngine:
    """One engine per network: forward, cost, gradients and a training step, in numpy."""

    name = "numpy"

    def __init__(self, spec):
        self.spec = spec

    def _forward(self, params, X):
        with np.errstate(over="ignore", invalid="ignore"):
            return forward_propagation(params, X, self.spec.activations, self.spec.leaky_slope)

    def forward(self, params, X):
        """A[L] for X, shape ``(n[L], m)``."""
        return self._forward(params, X)[0]

    def cost(self, params, X, Y):
        AL, caches = self._forward(params, X)
        with np.errstate(over="ignore", invalid="ignore"):
            return compute_cost(AL, Y, caches[-1][3], self.spec.loss)

    def gradients(self, params, X, Y):
        """``(J, [(dW1, db1), ...])`` by one forward and one backward pass."""
        spec = self.spec
        AL, caches = self._forward(params, X)
        with np.errstate(over="ignore", invalid="ignore"):
            J = compute_cost(AL, Y, caches[-1][3], spec.loss)
            grads = backward_propagation(AL, Y, caches, spec.activations, spec.leaky_slope, spec.loss)
        return J, grads

    def step(self, params, X, Y, optimizer, backup=None):
        """One training iteration; returns J before the update.

        When J is not finite nothing is updated, so the caller can restore ``backup``,
        which receives the parameters of the last iteration whose cost was finite.
        """
        J, grads = self.gradients(params, X, Y)
        if not np.isfinite(J):
            return J
        if backup is not None:
            for (W, b), (W_saved, b_saved) in zip(params, backup):
                np.copyto(W_saved, W)
                np.copyto(b_saved, b)
        optimizer.apply(params, grads)
        return J
