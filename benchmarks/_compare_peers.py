"""The contenders of compare.py that are not fastdl: scikit-learn, PyTorch, JAX, the GEMM floor.

Each factory takes the initial parameters ``[(W1, b1), ...]`` (fastdl's layout, W[l] of
shape ``(n[l], n[l−1])``), X ``(n_x, m)``, Y ``(1, m)`` and the dtype, and returns a
callable that runs one full-batch iteration and returns the cost J before its update.
It raises :class:`Unavailable` when the library is not installed; none of them is a
dependency of fastdl (they are its ``bench`` extra).
"""
import os

import numpy as np

from benchmarks.common import LEARNING_RATE


class Unavailable(Exception):
    """This contender cannot run here; the message says why."""


def threads():
    """The cores this process may use; every peer gets that many threads, as BLAS does."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def sklearn_mlp(params, X, Y, dtype):
    """One epoch of ``MLPClassifier.partial_fit`` with batch_size=m: one SGD iteration."""
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        raise Unavailable("scikit-learn is not installed") from None
    m = X.shape[1]
    clf = MLPClassifier(hidden_layer_sizes=tuple(W.shape[0] for W, _ in params[:-1]),
                        activation="relu", solver="sgd", alpha=0.0, batch_size=m,
                        learning_rate_init=LEARNING_RATE, momentum=0.0,
                        nesterovs_momentum=False, shuffle=False, random_state=0)
    X_rows, y = np.ascontiguousarray(X.T), Y.ravel()  # scikit-learn: one example per row
    clf.partial_fit(X_rows, y, classes=np.array([0, 1], dtype=y.dtype))
    # In place: the optimizer holds references to these very arrays.
    for coef, intercept, (W, b) in zip(clf.coefs_, clf.intercepts_, params):
        coef[...], intercept[...] = W.T, b.ravel()

    def iteration():
        clf.partial_fit(X_rows, y)
        return clf.loss_

    return iteration


def pytorch(params, X, Y, dtype):
    """``nn.Sequential`` of Linear and ReLU, ``BCEWithLogitsLoss``, ``optim.SGD``, on the CPU."""
    try:
        import torch
    except ImportError:
        raise Unavailable("PyTorch is not installed") from None
    torch.set_num_threads(threads())
    tdtype = getattr(torch, dtype)
    layers = []
    for W, b in params:
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype)
        with torch.no_grad():  # Linear's weight is (out, in): fastdl's W exactly
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b.ravel()))
        layers += [linear, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])  # no ReLU after the output's logits
    X_rows = torch.from_numpy(np.array(X.T, order="C"))  # one example per row; own copies
    Y_rows = torch.from_numpy(np.array(Y.T, order="C"))
    loss_fn = torch.nn.BCEWithLogitsLoss()  # sigmoid + cross-entropy, fused and stable
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def iteration():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(X_rows), Y_rows)
        loss.backward()
        optimizer.step()
        return loss.item()

    return iteration


def jax_jit(params, X, Y, dtype):
    """A ``jax.jit``-compiled iteration: ``value_and_grad`` of the same cost, then the update."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Unavailable("JAX is not installed") from None
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)

    def cost(ps, X, Y):
        A = X
        for W, b in ps[:-1]:
            A = jax.nn.relu(W @ A + b)
        W, b = ps[-1]
        Z = W @ A + b
        return jnp.mean(jnp.logaddexp(0, Z) - Y * Z)  # cross-entropy of sigmoid(Z), stable

    @jax.jit
    def step(ps, X, Y):
        J, grads = jax.value_and_grad(cost)(ps, X, Y)
        return [(W - LEARNING_RATE * dW, b - LEARNING_RATE * db)
                for (W, b), (dW, db) in zip(ps, grads)], J

    state = [[(jnp.asarray(W), jnp.asarray(b)) for W, b in params]]
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def iteration():
        state[0], J = step(state[0], Xj, Yj)
        return J.block_until_ready()

    iteration()  # compile outside the timing
    state[0] = [(jnp.asarray(W), jnp.asarray(b)) for W, b in params]
    return iteration


def _gemm_call(gemm, alpha, a, b, c, trans_a=0, trans_b=0):
    """C := alpha op(a) op(b) into the F-ordered ``c`` with no copy (checked once)."""
    out = gemm(alpha, a, b, c=c, trans_a=trans_a, trans_b=trans_b, overwrite_c=1)
    if not np.shares_memory(out, c):
        raise RuntimeError("the GEMM floor copied its output; the layout is wrong")
    return lambda: gemm(alpha, a, b, c=c, trans_a=trans_a, trans_b=trans_b, overwrite_c=1)


def gemm_floor(params, X, Y, dtype):
    """The matrix products of one iteration alone, through scipy's BLAS (as the compiled
    backend uses), on arrays allocated once: forward Z[l] = W[l] A[l−1]; backward
    dW[l] = (1/m) dZ[l] A[l−1]ᵀ and, except for the input layer, dA[l−1] = W[l]ᵀ dZ[l].

    Row-major (n, m) arrays are column-major (m, n) ones, so each product is written
    for BLAS transposed (Zᵀ = A_prevᵀ Wᵀ, ...) and every operand is passed as ``.T``
    views: no copies.
    """
    from scipy.linalg import blas

    gemm = blas.dgemm if dtype == "float64" else blas.sgemm
    m, rng = X.shape[1], np.random.default_rng(0)
    A_prev, calls = np.array(X), []  # a writable copy of the data, same layout
    for l, (W, _) in enumerate(params):
        W = np.array(W)
        Z = np.empty((W.shape[0], m), dtype=dtype)
        dZ = rng.standard_normal(Z.shape).astype(dtype)
        dW = np.empty_like(W)
        calls.append(_gemm_call(gemm, 1.0, A_prev.T, W.T, Z.T))
        calls.append(_gemm_call(gemm, 1.0 / m, A_prev.T, dZ.T, dW.T, trans_a=1))
        if l > 0:  # no dA[0]: nothing needs the gradient of the data
            dA_prev = np.empty_like(A_prev)
            calls.append(_gemm_call(gemm, 1.0, dZ.T, W.T, dA_prev.T, trans_b=1))
        A_prev = Z

    def products():
        for call in calls:
            call()

    return products


PEERS = {"scikit-learn": sklearn_mlp, "PyTorch": pytorch, "JAX": jax_jit}
