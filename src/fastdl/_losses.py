"""Costs J and the output-layer gradient dZ[L], as name → function tables.

A sigmoid output is trained with binary cross-entropy, softmax with categorical
cross-entropy, an exp output with the Poisson deviance, every other output with the
squared error. The pairing matters: for σ with cross-entropy the chain rule
dZ = dA·σ'(Z) = (−Y/A + (1−Y)/(1−A))·A(1−A) collapses to A − Y, which is both
cheaper and free of the 0/0 that dA alone hits when A saturates at 0 or 1; softmax with
categorical cross-entropy and exp with the Poisson deviance collapse the same way.

Each loss gives one value per entry of A[L]; the cost is their sum over the outputs,
averaged over the examples, or with per-example weights w, Σ_j w_j loss_j / Σ_j w_j (so a
weight of 2 counts an example twice and 0 leaves it out).
"""
import numpy as np

from .activations import resolve

LOSS_FOR_OUTPUT = {
    "softmax": "categorical_cross_entropy",
    "sigmoid": "cross_entropy",
    "exp": "poisson",
    "tanh": "squared_error",
    "relu": "squared_error",
    "leaky_relu": "squared_error",
    "linear": "squared_error",
}


def cross_entropy_losses(ZL, AL, Y):
    """−Y log A − (1−Y) log(1−A), computed from Z so that no log(0) occurs.

    With A = σ(Z): −Y log A − (1−Y) log(1−A) = max(Z, 0) − Z·Y + log(1 + e^(−|Z|)).
    """
    return np.maximum(ZL, 0) - ZL * Y + np.log1p(np.exp(-np.abs(ZL)))


def categorical_cross_entropy_losses(ZL, AL, Y):
    """−Y_k log A_k, with log A from a stable log-softmax of Z."""
    shifted = ZL - np.max(ZL, axis=0, keepdims=True)
    return -Y * (shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True)))


def poisson_losses(ZL, AL, Y):
    """Half the Poisson deviance, y log(y/A) − y + A with A = e^Z (y log y = 0 at y = 0)."""
    y_log_y = np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1)), 0)
    return y_log_y - Y * ZL - Y + AL


def squared_error_losses(ZL, AL, Y):
    """(1/2)(A − Y)²."""
    return np.square(AL - Y) / 2


def cross_entropy_output_delta(ZL, AL, Y, output, leaky_slope):
    """dZ[L] = A[L] − Y (sigmoid with cross-entropy, softmax, exp with Poisson)."""
    return AL - Y


def squared_error_output_delta(ZL, AL, Y, output, leaky_slope):
    """dZ[L] = (A[L] − Y) · g'(Z[L]): dA[L] of the squared error through the output's g'."""
    return (AL - Y) * resolve(output, leaky_slope)[1](ZL)


LOSSES = {
    "cross_entropy": cross_entropy_losses,
    "categorical_cross_entropy": categorical_cross_entropy_losses,
    "poisson": poisson_losses,
    "squared_error": squared_error_losses,
}
OUTPUT_DELTAS = {
    "cross_entropy": cross_entropy_output_delta,
    "categorical_cross_entropy": cross_entropy_output_delta,
    "poisson": cross_entropy_output_delta,
    "squared_error": squared_error_output_delta,
}


def normaliser(Y, weights):
    """What sums over examples are divided by: m, or the sum of the weights."""
    return Y.shape[1] if weights is None else float(np.sum(weights, dtype=np.float64))


def data_cost(loss, ZL, AL, Y, weights=None):
    """J without regularisation: Σ losses / m, or Σ_j w_j losses_j / Σ w, in float64."""
    losses = LOSSES[loss](ZL, AL, Y)
    if weights is not None:
        losses = losses * weights
    return float(np.sum(losses, dtype=np.float64) / normaliser(Y, weights))
