"""Costs J and the output-layer gradient dZ[L], as name → function tables.

A sigmoid output is trained with binary cross-entropy; every other output with the
squared error. The pairing matters: for σ with cross-entropy the chain rule
dZ = dA·σ'(Z) = (−Y/A + (1−Y)/(1−A))·A(1−A) collapses to A − Y, which is both
cheaper and free of the 0/0 that dA alone hits when A saturates at 0 or 1.
"""
import numpy as np

from .activations import resolve

LOSS_FOR_OUTPUT = {
    "softmax": "categorical_cross_entropy",
    "sigmoid": "cross_entropy",
    "tanh": "squared_error",
    "relu": "squared_error",
    "leaky_relu": "squared_error",
    "linear": "squared_error",
}


def cross_entropy_cost(ZL, AL, Y):
    """J = −(1/m) Σ [Y log A + (1−Y) log(1−A)], computed from Z so that no log(0) occurs.

    With A = σ(Z): −Y log A − (1−Y) log(1−A) = max(Z, 0) − Z·Y + log(1 + e^(−|Z|)).
    """
    m = Y.shape[1]
    losses = np.maximum(ZL, 0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))
    return float(np.sum(losses, dtype=np.float64) / m)


def categorical_cross_entropy_cost(ZL, AL, Y):
    """J = −(1/m) Σ_examples Σ_k Y_k log A_k, with log A from a stable log-softmax of Z."""
    m = Y.shape[1]
    shifted = ZL - np.max(ZL, axis=0, keepdims=True)
    log_A = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
    return float(-np.sum(Y * log_A, dtype=np.float64) / m)


def squared_error_cost(ZL, AL, Y):
    """J = (1/2m) Σ (A − Y)²."""
    m = Y.shape[1]
    return float(np.sum(np.square(AL - Y), dtype=np.float64) / (2 * m))


def cross_entropy_output_delta(ZL, AL, Y, output, leaky_slope):
    """dZ[L] = A[L] − Y (sigmoid with cross-entropy)."""
    return AL - Y


def squared_error_output_delta(ZL, AL, Y, output, leaky_slope):
    """dZ[L] = (A[L] − Y) · g'(Z[L]): dA[L] of the squared error through the output's g'."""
    return (AL - Y) * resolve(output, leaky_slope)[1](ZL)


COSTS = {
    "cross_entropy": cross_entropy_cost,
    "categorical_cross_entropy": categorical_cross_entropy_cost,
    "squared_error": squared_error_cost,
}
# Softmax with categorical cross-entropy collapses the same way: dZ[L] = A[L] − Y.
OUTPUT_DELTAS = {
    "cross_entropy": cross_entropy_output_delta,
    "categorical_cross_entropy": cross_entropy_output_delta,
    "squared_error": squared_error_output_delta,
}
