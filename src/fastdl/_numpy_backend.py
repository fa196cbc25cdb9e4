"""The reference engine: the seed's formulas in plain numpy, one function per formula.

This is the executable specification every compiled engine is tested against, so it
favours obviousness over speed: it allocates freely and caches (A_prev, W, b, Z) per layer.
"""
import numpy as np

from ._losses import OUTPUT_DELTAS, data_cost, normaliser
from ._dual import NumpyDualTable
from ._optimizers import accepted, guarded_apply
from .activations import resolve


def _operand(X):
    """X as numpy multiplies it: a sparse X (fastdl._sparse.SparseColumns) as scipy.sparse."""
    return X if isinstance(X, np.ndarray) else X.matrix()


def linear_forward(A_prev, W, b):
    """Z[l] = W[l] A[l−1] + b[l]."""
    return W @ A_prev + b


def activation_forward(Z, name, leaky_slope):
    """A[l] = g[l](Z[l])."""
    return resolve(name, leaky_slope)[0](Z)


def forward_propagation(params, X, activations, leaky_slope, masks=None, first_linear=None):
    """A[L] and the per-layer caches ``(A_prev, W, b, Z)`` that backward needs.

    ``masks[l − 1]``, when given for hidden layer l, is inverted dropout's D[l]/keep_prob
    (entries 0 or 1/keep_prob): A[l] := A[l] * mask, so expected activations are unchanged.
    ``first_linear``, when given, is W[1] X already computed (the dual form's).
    """
    A = X
    caches = []
    for l, ((W, b), name) in enumerate(zip(params, activations)):
        Z = linear_forward(A, W, b) if l or first_linear is None else first_linear + b
        caches.append((A, W, b, Z))
        A = activation_forward(Z, name, leaky_slope)
        if masks is not None and l < len(masks) and masks[l] is not None:
            A = A * masks[l]
    return A, caches


def activation_backward(dA, Z, name, leaky_slope):
    """dZ[l] = dA[l] * g[l]'(Z[l])."""
    return dA * resolve(name, leaky_slope)[1](Z)


def linear_backward(dZ, A_prev, W, *, need_dA_prev=True, norm=None):
    """dW = (1/m) dZ A_prevᵀ, db = (1/m) Σ_rows dZ, dA_prev = Wᵀ dZ (skipped for the input).

    ``norm`` replaces m when the examples are weighted (Σ w; dZ then carries the weights).
    """
    m = A_prev.shape[1] if norm is None else norm
    dW = (dZ @ A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = W.T @ dZ if need_dA_prev else None
    return dA_prev, dW, db


def backward_propagation(AL, Y, caches, activations, leaky_slope, loss, *, l2=0.0, masks=None,
                         weights=None, dual=False):
    """Gradients ``[(dW1, db1), ..., (dWL, dbL)]`` of the cost by backpropagation.

    L2 regularisation adds (λ/m) W[l] to dW[l]; a dropout mask multiplies dA[l] exactly
    as it multiplied A[l] on the way forward. Per-example ``weights`` (1, m) scale each
    example's dZ[L], and every 1/m becomes 1/Σw. With ``dual``, the first layer's dW is not
    formed (the dual form updates from dZ[1] itself): returns ``(grads, dZ[1])`` with
    ``grads[0] = (None, db1)``.
    """
    L = len(caches)
    grads = [None] * L
    norm = normaliser(Y, weights)
    A_prev, W, _, ZL = caches[-1]
    dZ = OUTPUT_DELTAS[loss](ZL, AL, Y, activations[-1], leaky_slope)
    if weights is not None:
        dZ = dZ * weights
    for l in reversed(range(L)):
        A_prev, W, _, Z = caches[l]
        if l < L - 1:
            if masks is not None and l < len(masks) and masks[l] is not None:
                dA = dA * masks[l]
            dZ = activation_backward(dA, Z, activations[l], leaky_slope)
        if l == 0 and dual:
            grads[0] = (None, np.sum(dZ, axis=1, keepdims=True) / norm)
            return grads, dZ
        dA, dW, db = linear_backward(dZ, A_prev, W, need_dA_prev=l > 0, norm=norm)
        if l2:
            dW = dW + (l2 / norm) * W
        grads[l] = (dW, db)
    return grads


def compute_cost(AL, Y, ZL, loss, params=(), l2=0.0, weights=None):
    """J, the mean loss over the m examples, plus (λ/2m) Σ_l ‖W[l]‖²_F when λ = ``l2`` > 0
    (with ``weights``, the weighted mean, and Σw for m)."""
    J = data_cost(loss, ZL, AL, Y, weights)
    if l2:
        J += l2 / (2 * normaliser(Y, weights)) * sum(
            float(np.sum(np.square(W), dtype=np.float64)) for W, _ in params)
    return J


class NumpyEngine:
    """One engine per network: forward, cost, gradients and a training step, in numpy.

    ``l2`` is the L2 strength λ; ``masks`` the inverted-dropout masks of the hidden
    layers (see :func:`forward_propagation`), both for training only.
    """

    name = "numpy"

    def __init__(self, spec):
        self.spec = spec

    def _forward(self, params, X, masks=None):
        with np.errstate(over="ignore", invalid="ignore"):
            return forward_propagation(params, X, self.spec.activations, self.spec.leaky_slope, masks)

    def forward(self, params, X):
        """A[L] for X, shape ``(n[L], m)``."""
        return self._forward(params, _operand(X))[0]

    def cost(self, params, X, Y, *, l2=0.0, masks=None, weights=None):
        AL, caches = self._forward(params, _operand(X), masks)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return compute_cost(AL, Y, caches[-1][3], self.spec.loss, params, l2, weights)

    def gradients(self, params, X, Y, *, l2=0.0, masks=None, weights=None, out=None):
        """``(J, [(dW1, db1), ...])`` by one forward and one backward pass (copied into
        ``out``, pairs of arrays of those shapes, when given)."""
        spec = self.spec
        AL, caches = self._forward(params, _operand(X), masks)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            J = compute_cost(AL, Y, caches[-1][3], spec.loss, params, l2, weights)
            grads = backward_propagation(AL, Y, caches, spec.activations, spec.leaky_slope,
                                         spec.loss, l2=l2, masks=masks, weights=weights)
        if out is not None:
            for (dW, db), (dW_out, db_out) in zip(grads, out):
                np.copyto(dW_out, dW)
                np.copyto(db_out, db)
            return J, out
        return J, grads

    def dual_start(self, params, X, capacity, momentum):
        """The dual state of a fit on ``X`` (see fastdl._dual)."""
        return NumpyDualTable(params[0][0], _operand(X), capacity, momentum)

    def step(self, params, X, Y, optimizer, backup=None, l2=0.0, masks=None, limit=np.inf,
             weights=None, dropout=None, rng=None, dual=None, transposed=False):
        """One training iteration; returns J before the update.

        When J is not finite or exceeds ``limit`` nothing is updated, so the caller can
        restore ``backup``, which holds the parameters of the last iteration that passed.
        With ``dual``, X is the batch's example indices and the first layer trains in dual
        form (W[1] and its backup are left alone; the table keeps its own backup).
        """
        if dropout is not None or transposed:
            raise ValueError("the numpy engine takes dropout as masks drawn by the caller, "
                             "and W[1] as it is")
        if dual is not None:
            return self._dual_step(params, X, Y, optimizer, backup, l2, masks, limit, weights,
                                   dual)
        J, grads = self.gradients(params, X, Y, l2=l2, masks=masks, weights=weights)
        return guarded_apply(optimizer, params, grads, J, limit, backup)

    def _dual_step(self, params, idx, Y, optimizer, backup, l2, masks, limit, weights, dual):
        spec = self.spec
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            AL, caches = forward_propagation(params, None, spec.activations, spec.leaky_slope,
                                             masks, first_linear=dual.linear(idx))
            J = compute_cost(AL, Y, caches[-1][3], spec.loss, params[1:], 0.0, weights)
            norm = normaliser(Y, weights)
            if l2:
                J += l2 / (2 * norm) * (dual.sumsq() + sum(
                    float(np.sum(np.square(W), dtype=np.float64)) for W, _ in params[1:]))
        if not accepted(J, limit):
            return J
        if backup is not None:
            for l, ((W, b), (W_saved, b_saved)) in enumerate(zip(params, backup)):
                if l:
                    np.copyto(W_saved, W)
                np.copyto(b_saved, b)
            dual.backup()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            grads, dZ1 = backward_propagation(AL, Y, caches, spec.activations, spec.leaky_slope,
                                              spec.loss, l2=l2, masks=masks, weights=weights,
                                              dual=True)
            optimizer.apply(params, grads, skip_first_weight=True)
            dual.update(idx, dZ1, norm, optimizer.learning_rate, l2, optimizer)
        return J
